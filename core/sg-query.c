/* sg-query.c: listings of people, organisations and timelines. */
#include "config.h"

#include "sg-query.h"
#include "sg-identity.h"
#include "sg-private.h"

#include <string.h>

static char *
like_pattern (const char *search)
{
  GString *s = g_string_new ("%");

  for (const char *p = search; *p; p++) {
    if (*p == '%' || *p == '_' || *p == '\\')
      g_string_append_c (s, '\\');
    g_string_append_c (s, *p);
  }
  g_string_append_c (s, '%');
  return g_string_free (s, FALSE);
}

static void
column_to_cell (SgTable *t, guint col, sqlite3_stmt *stmt, int i)
{
  if (sqlite3_column_type (stmt, i) == SQLITE_NULL)
    return;
  switch (sg_table_get_column_type (t, col)) {
  case SG_COLUMN_TEXT:
    sg_table_set_text (t, col, (const char *) sqlite3_column_text (stmt, i));
    break;
  case SG_COLUMN_INT:
  case SG_COLUMN_TIME:
    sg_table_set_int (t, col, sqlite3_column_int64 (stmt, i));
    break;
  case SG_COLUMN_REAL:
    sg_table_set_real (t, col, sqlite3_column_double (stmt, i));
    break;
  default:
    break;
  }
}

/* Runs @stmt and appends each row; result column i goes to table column i. */
static gboolean
fill (SgStore *store, SgTable *t, sqlite3_stmt *stmt, GError **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    sg_table_append_row (t);
    for (guint c = 0; c < sg_table_get_n_columns (t); c++)
      column_to_cell (t, c, stmt, (int) c);
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "query");
    return FALSE;
  }
  return TRUE;
}

SgTable *
sg_query_people (SgStore *store, const SgPeopleQuery *query, GError **error)
{
  static const char *sql =
    "SELECT p.name, "
    "  (SELECT address FROM addresses WHERE person_id = p.id ORDER BY id LIMIT 1), "
    "  o.name, p.kind, "
    "  (SELECT count(DISTINCT pa.interaction_id) FROM addresses a "
    "     JOIN participants pa ON pa.address_id = a.id WHERE a.person_id = p.id), "
    "  p.last_seen, p.id, "
    "  (SELECT group_concat(address, ',') FROM (SELECT address FROM addresses "
    "     WHERE person_id = p.id ORDER BY id)), "
    "  p.first_seen, o.domain "
    "FROM people p LEFT JOIN organisations o ON o.id = p.org_id "
    "WHERE (?1 OR p.kind = 'contact') "
    "  AND (?2 IS NULL OR p.org_id = (SELECT org_id FROM org_domains WHERE domain = ?2)) "
    "  AND (?3 IS NULL OR p.name LIKE ?3 ESCAPE '\\' OR EXISTS (SELECT 1 FROM addresses a "
    "       WHERE a.person_id = p.id AND a.address LIKE ?3 ESCAPE '\\')) "
    "ORDER BY p.last_seen DESC, p.id "
    "LIMIT ?4";
  SgPeopleQuery defaults = { 0 };
  sqlite3_stmt *stmt;
  SgTable *t;
  g_autofree char *pattern = NULL;
  g_autofree char *org = NULL;

  if (query == NULL)
    query = &defaults;
  stmt = _sg_store_prepare (store, sql, error);
  if (stmt == NULL)
    return NULL;
  if (query->organisation != NULL) {
    g_autofree char *norm = g_utf8_strdown (query->organisation, -1);

    org = sg_domain_get_registrable (norm);
    if (org == NULL)
      org = g_steal_pointer (&norm);
  }
  pattern = query->search ? like_pattern (query->search) : NULL;
  sqlite3_bind_int (stmt, 1, query->include_colleagues);
  sqlite3_bind_text (stmt, 2, org, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, pattern, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, query->limit ? (gint64) query->limit : -1);

  t = sg_table_new ();
  sg_table_add_column (t, "name", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "email", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "organisation", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "kind", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "interactions", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "last_contact", SG_COLUMN_TIME, 0);
  sg_table_add_column (t, "id", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "addresses", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "first_contact", SG_COLUMN_TIME, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "org_domain", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  if (!fill (store, t, stmt, error)) {
    sg_table_free (t);
    return NULL;
  }
  return t;
}

SgTable *
sg_query_orgs (SgStore *store, const SgOrgQuery *query, GError **error)
{
  static const char *sql =
    "SELECT o.name, o.domain, "
    "  (SELECT count(*) FROM people p WHERE p.org_id = o.id AND p.kind != 'self'), "
    "  (SELECT count(DISTINCT pa.interaction_id) FROM org_domains d "
    "     JOIN addresses a ON a.org_domain = d.domain "
    "     JOIN participants pa ON pa.address_id = a.id WHERE d.org_id = o.id), "
    "  o.last_seen, o.id, o.kind, o.first_seen, o.industry "
    "FROM organisations o "
    "WHERE (?1 OR (o.kind = 'external' AND o.last_seen IS NOT NULL)) "
    "  AND (?2 IS NULL OR o.name LIKE ?2 ESCAPE '\\' OR o.domain LIKE ?2 ESCAPE '\\') "
    "ORDER BY o.last_seen DESC, o.id "
    "LIMIT ?3";
  SgOrgQuery defaults = { 0 };
  sqlite3_stmt *stmt;
  SgTable *t;
  g_autofree char *pattern = NULL;

  if (query == NULL)
    query = &defaults;
  stmt = _sg_store_prepare (store, sql, error);
  if (stmt == NULL)
    return NULL;
  pattern = query->search ? like_pattern (query->search) : NULL;
  sqlite3_bind_int (stmt, 1, query->include_internal);
  sqlite3_bind_text (stmt, 2, pattern, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, query->limit ? (gint64) query->limit : -1);

  t = sg_table_new ();
  sg_table_add_column (t, "name", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "domain", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "people", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "interactions", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "last_contact", SG_COLUMN_TIME, 0);
  sg_table_add_column (t, "id", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "kind", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "first_contact", SG_COLUMN_TIME, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "industry", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  if (!fill (store, t, stmt, error)) {
    sg_table_free (t);
    return NULL;
  }
  return t;
}

typedef enum { WHO_PERSON, WHO_ADDRESS, WHO_ORG } WhoKind;

/* Finds what @who names: a person (by any address), a bare address, or an organisation. */
static gboolean
resolve_who (SgStore *store, const char *who, WhoKind *kind, gint64 *id, GError **error)
{
  sqlite3_stmt *stmt;
  g_autofree char *norm = NULL;

  if (strchr (who, '@') != NULL) {
    norm = sg_address_normalize (who, NULL);
    stmt = _sg_store_prepare (store, "SELECT id, person_id FROM addresses WHERE address = ?", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, norm ? norm : who, -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) == SQLITE_ROW) {
      gboolean person = sqlite3_column_type (stmt, 1) != SQLITE_NULL;

      *kind = person ? WHO_PERSON : WHO_ADDRESS;
      *id = sqlite3_column_int64 (stmt, person ? 1 : 0);
      sqlite3_reset (stmt);
      return TRUE;
    }
    sqlite3_reset (stmt);
  } else {
    g_autofree char *down = g_utf8_strdown (who, -1);
    g_autofree char *reg = NULL;

    g_strstrip (down);
    reg = sg_domain_get_registrable (down);
    stmt = _sg_store_prepare (store,
        "SELECT org_id FROM org_domains WHERE domain = ?1 OR domain = ?2 ORDER BY domain = ?1 DESC", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, down, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, reg ? reg : down, -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) == SQLITE_ROW) {
      *kind = WHO_ORG;
      *id = sqlite3_column_int64 (stmt, 0);
      sqlite3_reset (stmt);
      return TRUE;
    }
    sqlite3_reset (stmt);
  }
  g_set_error (error, SG_STORE_ERROR, SG_STORE_ERROR_NOT_FOUND,
               "“%s” is not in the store (give an address or a domain that was imported)", who);
  return FALSE;
}

SgTable *
sg_query_timeline (SgStore *store, const char *who, guint limit, GError **error)
{
#define TIMELINE_SELECT \
  "SELECT i.date_utc, i.direction, " \
  "  (SELECT coalesce(p.name, pa.display_name, a.address) FROM participants pa " \
  "     JOIN addresses a ON a.id = pa.address_id LEFT JOIN people p ON p.id = a.person_id " \
  "     WHERE pa.interaction_id = i.id AND pa.role IN ('from', 'organizer') LIMIT 1), " \
  "  i.subject, " \
  "  (SELECT count(DISTINCT address_id) FROM participants WHERE interaction_id = i.id), " \
  "  i.message_id, " \
  "  (SELECT a.address FROM participants pa JOIN addresses a ON a.id = pa.address_id " \
  "     WHERE pa.interaction_id = i.id AND pa.role IN ('from', 'organizer') LIMIT 1), " \
  "  i.tz_offset, t.root_key, i.kind, i.bulk, i.location " \
  "FROM interactions i LEFT JOIN threads t ON t.id = i.thread_id WHERE i.id IN "
#define TIMELINE_ORDER " ORDER BY i.date_utc DESC, i.id DESC LIMIT ?2"
  static const char *const sqls[] = {
    [WHO_PERSON] = TIMELINE_SELECT
      "(SELECT pa.interaction_id FROM addresses a JOIN participants pa ON pa.address_id = a.id "
      " WHERE a.person_id = ?1)" TIMELINE_ORDER,
    [WHO_ADDRESS] = TIMELINE_SELECT
      "(SELECT interaction_id FROM participants WHERE address_id = ?1)" TIMELINE_ORDER,
    [WHO_ORG] = TIMELINE_SELECT
      "(SELECT pa.interaction_id FROM org_domains d JOIN addresses a ON a.org_domain = d.domain "
      " JOIN participants pa ON pa.address_id = a.id WHERE d.org_id = ?1)" TIMELINE_ORDER,
  };
  WhoKind kind;
  gint64 id;
  sqlite3_stmt *stmt;
  SgTable *t;

  g_return_val_if_fail (who != NULL, NULL);

  if (!resolve_who (store, who, &kind, &id, error))
    return NULL;
  stmt = _sg_store_prepare (store, sqls[kind], error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, limit ? (gint64) limit : -1);

  t = sg_table_new ();
  sg_table_add_column (t, "date", SG_COLUMN_TIME, 0);
  sg_table_add_column (t, "direction", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "from", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "subject", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "participants", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "message_id", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "from_address", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "tz_offset", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "thread", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "kind", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "bulk", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "location", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  if (!fill (store, t, stmt, error)) {
    sg_table_free (t);
    return NULL;
  }
  return t;
#undef TIMELINE_SELECT
#undef TIMELINE_ORDER
}

char *
sg_query_describe (SgStore *store, const char *who, GError **error)
{
  static const char *const sqls[] = {
    [WHO_PERSON] =
      "SELECT coalesce(p.name, ''), (SELECT group_concat(address, ', ') FROM addresses "
      "  WHERE person_id = p.id), coalesce(o.name || ' (' || o.domain || ')', ''), p.kind "
      "FROM people p LEFT JOIN organisations o ON o.id = p.org_id WHERE p.id = ?",
    [WHO_ADDRESS] =
      "SELECT '', a.address, coalesce(o.name || ' (' || o.domain || ')', ''), a.kind || ' address' "
      "FROM addresses a LEFT JOIN org_domains d ON d.domain = a.org_domain "
      "LEFT JOIN organisations o ON o.id = d.org_id WHERE a.id = ?",
    [WHO_ORG] =
      "SELECT o.name, (SELECT group_concat(domain, ', ') FROM org_domains WHERE org_id = o.id), "
      "  '', o.kind || ' organisation' FROM organisations o WHERE o.id = ?",
  };
  WhoKind kind;
  gint64 id;
  sqlite3_stmt *stmt;
  GString *out;

  if (!resolve_who (store, who, &kind, &id, error))
    return NULL;
  stmt = _sg_store_prepare (store, sqls[kind], error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  if (sqlite3_step (stmt) != SQLITE_ROW) {
    sqlite3_reset (stmt);
    _sg_store_set_error (store, error, "describe");
    return NULL;
  }
  out = g_string_new (NULL);
  if (*sqlite3_column_text (stmt, 0))
    g_string_append_printf (out, "%s ", sqlite3_column_text (stmt, 0));
  g_string_append_printf (out, "<%s>", sqlite3_column_text (stmt, 1));
  if (*sqlite3_column_text (stmt, 2))
    g_string_append_printf (out, ", %s", sqlite3_column_text (stmt, 2));
  g_string_append_printf (out, " [%s]", sqlite3_column_text (stmt, 3));
  sqlite3_reset (stmt);
  return g_string_free (out, FALSE);
}

/* --- What the text says (issue 9) ---------------------------------------------------------- */

SgTable *
sg_query_person_facts (SgStore *store, const char *who, gboolean history, GError **error)
{
  /* The value of a kind (and phone detail) observed last is current; unlabelled phones
   * are all current, except a number also seen with its kind (one signature's "+46 70..."
   * is another's "Mobile: +46 70..."): that one is listed once, with the kind. */
  static const char *sql =
    "WITH f AS (SELECT p.*, CASE WHEN p.kind = 'phone' AND p.detail = 'phone' THEN NOT EXISTS "
    "    (SELECT 1 FROM person_facts k WHERE k.person_id = p.person_id AND k.kind = 'phone' "
    "       AND k.detail <> 'phone' AND k.value = p.value) ELSE p.id = "
    "    (SELECT g.id FROM person_facts g WHERE g.person_id = p.person_id AND g.kind = p.kind "
    "       AND g.detail = p.detail ORDER BY g.observed DESC, g.id DESC LIMIT 1) END AS current "
    "  FROM person_facts p WHERE p.person_id = ?1) "
    "SELECT f.kind, nullif(f.detail, ''), f.value, f.confidence, f.origin, f.observed, "
    "  f.current, i.message_id, f.first_seen, f.times "
    "FROM f LEFT JOIN interactions i ON i.id = f.interaction_id "
    "WHERE ?2 OR f.current "
    "ORDER BY f.current DESC, CASE f.kind WHEN 'title' THEN 0 WHEN 'organisation' THEN 1 "
    "  WHEN 'phone' THEN 2 WHEN 'address' THEN 3 ELSE 4 END, f.detail, f.observed DESC, f.id DESC";
  WhoKind kind;
  gint64 id;
  sqlite3_stmt *stmt;
  SgTable *t;

  g_return_val_if_fail (who != NULL, NULL);
  if (!resolve_who (store, who, &kind, &id, error))
    return NULL;
  t = sg_table_new ();
  sg_table_add_column (t, "kind", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "detail", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "value", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "confidence", SG_COLUMN_REAL, 0);
  sg_table_add_column (t, "origin", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "observed", SG_COLUMN_TIME, 0);
  sg_table_add_column (t, "current", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "message_id", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "first_seen", SG_COLUMN_TIME, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "times", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  /* Only people have facts; an address that is no person has none. */
  if (kind != WHO_PERSON)
    return t;
  stmt = _sg_store_prepare (store, sql, error);
  if (stmt == NULL) {
    sg_table_free (t);
    return NULL;
  }
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int (stmt, 2, history);
  if (!fill (store, t, stmt, error)) {
    sg_table_free (t);
    return NULL;
  }
  return t;
}

SgTable *
sg_query_topics (SgStore *store, const char *who, guint limit, GError **error)
{
  /* TF-IDF: a topic's weight for @who is the sum of its counts in their messages times
   * ln(1 + N / df), N the messages with topics in the store and df those that have this one
   * (smoothed: in a small store every topic would otherwise weigh 0). String literals: the
   * store caches statements by their SQL text and keeps the pointer. */
#define TOPICS_SQL(MINE) \
    "WITH mine AS (" MINE "), " \
    "n AS (SELECT max(1, count(DISTINCT interaction_id)) AS n FROM interaction_topics), " \
    "mt AS (SELECT it.stem, sum(it.count) AS tf, count(DISTINCT it.interaction_id) AS msgs, " \
    "         min(it.phrase) AS phrase FROM interaction_topics it " \
    "       WHERE it.interaction_id IN (SELECT * FROM mine) GROUP BY it.stem), " \
    "df AS (SELECT stem, count(*) AS df FROM interaction_topics " \
    "       WHERE stem IN (SELECT stem FROM mt) GROUP BY stem) " \
    "SELECT mt.phrase, round(mt.tf * ln(1.0 + (SELECT n FROM n) * 1.0 / " \
    "         (SELECT df FROM df WHERE df.stem = mt.stem)), 3) AS w, " \
    "  mt.msgs, " \
    "  (SELECT group_concat(DISTINCT tg.name) FROM taxonomy_map tm JOIN tags tg ON tg.id = tm.tag_id " \
    "     WHERE tm.stem = mt.stem), " \
    "  mt.stem, " \
    "  (SELECT group_concat(message_id, ' ') FROM (SELECT i.message_id FROM interaction_topics x " \
    "     JOIN interactions i ON i.id = x.interaction_id WHERE x.stem = mt.stem " \
    "       AND x.interaction_id IN (SELECT * FROM mine) ORDER BY i.date_utc DESC LIMIT 10)) " \
    "FROM mt ORDER BY w DESC, mt.msgs DESC, mt.stem LIMIT ?2"
  static const char *const sqls[] = {
    [WHO_PERSON] = TOPICS_SQL ("SELECT pa.interaction_id FROM addresses a JOIN participants pa "
                               "ON pa.address_id = a.id WHERE a.person_id = ?1"),
    [WHO_ADDRESS] = TOPICS_SQL ("SELECT interaction_id FROM participants WHERE address_id = ?1"),
    [WHO_ORG] = TOPICS_SQL ("SELECT pa.interaction_id FROM org_domains d JOIN addresses a "
                            "ON a.org_domain = d.domain JOIN participants pa ON pa.address_id = a.id "
                            "WHERE d.org_id = ?1"),
  };
  static const char *const all_sql = TOPICS_SQL ("SELECT interaction_id FROM interaction_topics WHERE ?1 = 0");
#undef TOPICS_SQL
  const char *sql;
  WhoKind kind = WHO_PERSON;
  gint64 id = 0;
  sqlite3_stmt *stmt;
  SgTable *t;

  if (who != NULL && !resolve_who (store, who, &kind, &id, error))
    return NULL;
  sql = who != NULL ? sqls[kind] : all_sql;
  stmt = _sg_store_prepare (store, sql, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, limit ? (gint64) limit : -1);
  t = sg_table_new ();
  sg_table_add_column (t, "topic", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "weight", SG_COLUMN_REAL, 0);
  sg_table_add_column (t, "messages", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "tags", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "stem", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "message_ids", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  if (!fill (store, t, stmt, error)) {
    sg_table_free (t);
    return NULL;
  }
  return t;
}
