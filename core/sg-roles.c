/* sg-roles.c: buying-process roles: the rules and a person's overrides. */
#include "config.h"

#include "sg-identity.h"
#include "sg-identity.h"
#include "sg-roles.h"
#include "sg-process-private.h"

#include <string.h>

G_DEFINE_QUARK (sg-role-error-quark, sg_role_error)

static const char *const roles[] = { "suspect", "prospect", "lead", "customer", "consumer", "buyer", NULL };

static gboolean
log_role (SgStore *store, gint64 person_id, const char *role, const char *op, const char *origin,
          const char *reason, gint64 since, const char *by, GError **error)
{
  g_autofree char *address = _sg_person_address (store, person_id);
  g_autofree char *key = g_strdup_printf ("%s|%s", address ? address : "", role);
  JsonBuilder *b = _sg_json_begin ();

  _sg_json_str (b, "origin", origin);
  _sg_json_str (b, "reason", reason);
  _sg_json_int (b, "since", since);
  _sg_json_str (b, "by", by);
  return _sg_log_json (store, "person_role", key, op, b, error);
}

static gboolean
person_change (SgStore *store, const char *address, const char *role, const char *reason,
               const char *actor, gboolean removed, GError **error)
{
  g_autofree char *by = actor ? sg_address_normalize (actor, NULL) : NULL;
  sqlite3_stmt *stmt;
  gint64 person, now = _sg_now ();

  if (role == NULL || !g_strv_contains (roles, role)) {
    g_set_error (error, SG_ROLE_ERROR, SG_ROLE_ERROR_INVALID,
                 "“%s” is not a role (suspect, prospect, lead, customer, consumer, buyer)", role ? role : "");
    return FALSE;
  }
  if (!sg_store_begin (store, error))
    return FALSE;
  person = _sg_person_lookup (store, address, error);
  if (person < 0)
    goto fail;
  if (person == 0) {
    g_set_error (error, SG_ROLE_ERROR, SG_ROLE_ERROR_NOT_FOUND, "no person with the address “%s” in the store",
                 address ? address : "");
    goto fail;
  }
  stmt = _sg_store_prepare (store,
      "INSERT INTO person_roles (person_id, role, since, origin, reason, removed) VALUES (?1, ?2, ?3, 'person', ?4, ?5) "
      "ON CONFLICT (person_id, role) DO UPDATE SET origin = 'person', reason = ?4, removed = ?5, "
      "  since = CASE WHEN removed = 1 AND ?5 = 0 THEN ?3 ELSE since END", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, person);
  sqlite3_bind_text (stmt, 2, role, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, now);
  sqlite3_bind_text (stmt, 4, reason ? reason : (removed ? "removed by a person" : "set by a person"), -1,
                     SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 5, removed);
  if (!_sg_store_exec_stmt (store, stmt, error) ||
      !log_role (store, person, role, removed ? "remove" : "add", "person", reason, now, by, error))
    goto fail;
  return sg_store_commit (store, error);
fail:
  sg_store_rollback (store);
  return FALSE;
}

gboolean
sg_role_set (SgStore *store, const char *address, const char *role, const char *reason,
             const char *actor, GError **error)
{
  return person_change (store, address, role, reason, actor, FALSE, error);
}

gboolean
sg_role_remove (SgStore *store, const char *address, const char *role, const char *reason,
                const char *actor, GError **error)
{
  return person_change (store, address, role, reason, actor, TRUE, error);
}

/* The rules, as one query: (person, role, since, reason, rank), by person. Rank orders the
 * roles a person can hold by the rules: suspect (3) only when nothing else holds, prospect
 * (2) only without a process role (1). */
static const char *derive_sql =
  "SELECT pe.id, 'customer', min(p.closed_at), 'organisation ' || o.domain || ' has a won sales process', 1 "
  "  FROM people pe JOIN processes p ON p.org_id = pe.org_id AND p.status = 'won' "
  "  JOIN organisations o ON o.id = pe.org_id WHERE pe.kind = 'contact' GROUP BY pe.id "
  "UNION ALL SELECT pc.person_id, 'customer', min(p.closed_at), 'contact of a won sales process', 1 "
  "  FROM process_contacts pc JOIN processes p ON p.id = pc.process_id AND p.status = 'won' GROUP BY pc.person_id "
  "UNION ALL SELECT pc.person_id, 'buyer', min(p.closed_at), 'buyer or decision maker in a won sales process', 1 "
  "  FROM process_contacts pc JOIN processes p ON p.id = pc.process_id AND p.status = 'won' "
  "  WHERE pc.part IN ('buyer', 'decision-maker') GROUP BY pc.person_id "
  "UNION ALL SELECT pc.person_id, 'consumer', min(p.closed_at), 'user of what a won sales process delivered', 1 "
  "  FROM process_contacts pc JOIN processes p ON p.id = pc.process_id AND p.status = 'won' "
  "  WHERE pc.part = 'user' GROUP BY pc.person_id "
  "UNION ALL SELECT pe.id, 'lead', min(p.opened_at), 'organisation ' || o.domain || ' has an open sales process', 1 "
  "  FROM people pe JOIN processes p ON p.org_id = pe.org_id AND p.status = 'open' "
  "  JOIN organisations o ON o.id = pe.org_id WHERE pe.kind = 'contact' GROUP BY pe.id "
  "UNION ALL SELECT pc.person_id, 'lead', min(p.opened_at), 'contact of an open sales process', 1 "
  "  FROM process_contacts pc JOIN processes p ON p.id = pc.process_id AND p.status = 'open' GROUP BY pc.person_id "
  "UNION ALL SELECT pe.id, 'prospect', coalesce(pe.first_seen, pe.created_at), "
  "  'two-way correspondence: they wrote to you and you wrote to them', 2 "
  "  FROM people pe WHERE pe.kind = 'contact' "
  "  AND EXISTS (SELECT 1 FROM addresses a JOIN participants pa ON pa.address_id = a.id "
  "    JOIN interactions i ON i.id = pa.interaction_id WHERE a.person_id = pe.id AND pa.role = 'from' "
  "    AND i.direction = 'in') "
  "  AND EXISTS (SELECT 1 FROM addresses a JOIN participants pa ON pa.address_id = a.id "
  "    JOIN interactions i ON i.id = pa.interaction_id WHERE a.person_id = pe.id AND pa.role IN ('to', 'cc') "
  "    AND i.direction = 'out') "
  "UNION ALL SELECT pe.id, 'suspect', coalesce(pe.first_seen, pe.created_at), "
  "  CASE WHEN EXISTS (SELECT 1 FROM person_lead_sources s JOIN lead_sources l ON l.id = s.lead_source_id "
  "    WHERE s.person_id = pe.id AND l.kind = 'rented-list') "
  "    THEN 'from a prospect list, no correspondence yet' "
  "    ELSE 'known from mail only, no process and no two-way correspondence' END, 3 "
  "  FROM people pe WHERE pe.kind = 'contact' "
  "ORDER BY 1, 5";

gboolean
sg_roles_derive (SgStore *store, guint *n_added, guint *n_removed, GError **error)
{
  g_autoptr (GHashTable) derived = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;
  gint64 current = 0;
  int best_rank = 0, rc;
  guint added = 0, removed = 0;

  if (!sg_store_begin (store, error))
    return FALSE;
  stmt = _sg_store_prepare (store, derive_sql, error);
  if (stmt == NULL)
    goto fail;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    gint64 pid = sqlite3_column_int64 (stmt, 0);
    const char *role = _SG_COL_TEXT (stmt, 1);
    int rank = sqlite3_column_int (stmt, 4);
    char *key;

    if (pid != current) {
      current = pid;
      best_rank = rank;
    }
    if (rank > best_rank)
      continue; /* a stronger role holds: no prospect or suspect */
    key = g_strdup_printf ("%" G_GINT64_FORMAT "|%s", pid, role);
    if (g_hash_table_contains (derived, key)) {
      g_free (key);
      continue;
    }
    g_hash_table_add (derived, key);
    /* pid, role, since, reason, packed for the second pass. */
    g_ptr_array_add (rows, g_strdup_printf ("%" G_GINT64_FORMAT "\x1f%s\x1f%" G_GINT64_FORMAT "\x1f%s", pid, role,
                                            (gint64) sqlite3_column_int64 (stmt, 2), _SG_COL_TEXT (stmt, 3)));
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "roles");
    goto fail;
  }
  for (guint i = 0; i < rows->len; i++) {
    g_auto (GStrv) f = g_strsplit (rows->pdata[i], "\x1f", 4);
    gint64 pid = g_ascii_strtoll (f[0], NULL, 10), since = g_ascii_strtoll (f[2], NULL, 10);

    /* A row of any origin (a person's, or a removed one) is left alone. */
    stmt = _sg_store_prepare (store,
        "INSERT INTO person_roles (person_id, role, since, origin, reason) VALUES (?, ?, ?, 'rule', ?) "
        "ON CONFLICT DO NOTHING", error);
    if (stmt == NULL)
      goto fail;
    sqlite3_bind_int64 (stmt, 1, pid);
    sqlite3_bind_text (stmt, 2, f[1], -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, since);
    sqlite3_bind_text (stmt, 4, f[3], -1, SQLITE_STATIC);
    if (!_sg_store_exec_stmt (store, stmt, error))
      goto fail;
    if (sqlite3_changes (_sg_store_get_db (store)) > 0) {
      added++;
      if (!log_role (store, pid, f[1], "add", "rule", f[3], since, NULL, error))
        goto fail;
    }
  }
  g_ptr_array_set_size (rows, 0);
  stmt = _sg_store_prepare (store, "SELECT person_id, role FROM person_roles WHERE origin = 'rule'", error);
  if (stmt == NULL)
    goto fail;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    char *key = g_strdup_printf ("%" G_GINT64_FORMAT "|%s", (gint64) sqlite3_column_int64 (stmt, 0), _SG_COL_TEXT (stmt, 1));

    if (g_hash_table_contains (derived, key))
      g_free (key);
    else
      g_ptr_array_add (rows, key);
  }
  sqlite3_reset (stmt);
  for (guint i = 0; i < rows->len; i++) {
    g_auto (GStrv) f = g_strsplit (rows->pdata[i], "|", 2);
    gint64 pid = g_ascii_strtoll (f[0], NULL, 10);

    stmt = _sg_store_prepare (store, "DELETE FROM person_roles WHERE person_id = ? AND role = ? AND origin = 'rule'",
                              error);
    if (stmt == NULL)
      goto fail;
    sqlite3_bind_int64 (stmt, 1, pid);
    sqlite3_bind_text (stmt, 2, f[1], -1, SQLITE_STATIC);
    if (!_sg_store_exec_stmt (store, stmt, error) ||
        !log_role (store, pid, f[1], "remove", "rule", "no longer holds", _sg_now (), NULL, error))
      goto fail;
    removed++;
  }
  if (!sg_store_commit (store, error))
    return FALSE;
  if (n_added)
    *n_added = added;
  if (n_removed)
    *n_removed = removed;
  return TRUE;
fail:
  sg_store_rollback (store);
  return FALSE;
}

SgTable *
sg_role_list (SgStore *store, const char *address, const char *role, gboolean include_removed,
              GError **error)
{
  sqlite3_stmt *stmt;
  gint64 person = 0;
  SgTable *t;

  if (role != NULL && !g_strv_contains (roles, role)) {
    g_set_error (error, SG_ROLE_ERROR, SG_ROLE_ERROR_INVALID,
                 "“%s” is not a role (suspect, prospect, lead, customer, consumer, buyer)", role);
    return NULL;
  }
  if (address != NULL) {
    person = _sg_person_lookup (store, address, error);
    if (person < 0)
      return NULL;
    if (person == 0) {
      g_set_error (error, SG_ROLE_ERROR, SG_ROLE_ERROR_NOT_FOUND, "no person with the address “%s” in the store",
                   address);
      return NULL;
    }
  }
  stmt = _sg_store_prepare (store,
      "SELECT pe.name, (SELECT address FROM addresses WHERE person_id = pe.id ORDER BY id LIMIT 1), "
      "  coalesce(o.name, o.domain), r.role, r.since, r.origin, r.reason, r.removed "
      "FROM person_roles r JOIN people pe ON pe.id = r.person_id LEFT JOIN organisations o ON o.id = pe.org_id "
      "WHERE (?1 = 0 OR r.person_id = ?1) AND (?2 IS NULL OR r.role = ?2) AND (?3 OR r.removed = 0) "
      "ORDER BY 2, CASE r.role WHEN 'customer' THEN 1 WHEN 'buyer' THEN 2 WHEN 'consumer' THEN 3 "
      "  WHEN 'lead' THEN 4 WHEN 'prospect' THEN 5 ELSE 6 END", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, person);
  sqlite3_bind_text (stmt, 2, role, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 3, include_removed);
  t = sg_table_new ();
  sg_table_add_column (t, "name", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "email", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "organisation", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "role", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "since", SG_COLUMN_TIME, 0);
  sg_table_add_column (t, "origin", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "reason", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "removed", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  if (!_sg_table_fill (store, t, stmt, error)) {
    sg_table_free (t);
    return NULL;
  }
  return t;
}
