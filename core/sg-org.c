/* sg-org.c: an organisation's name and industry, set by hand, and names learned from signatures. */
#include "config.h"

#include <string.h>

#include "sg-identity.h"
#include "sg-org.h"
#include "sg-process-private.h"

G_DEFINE_QUARK (sg-org-error-quark, sg_org_error)

/* @value stripped into *@out (NULL stays NULL). Returns: FALSE (with @error) when too long,
 * or empty where @may_clear is FALSE. */
static gboolean
clean_field (const char *what, const char *value, gboolean may_clear, char **out, GError **error)
{
  *out = NULL;
  if (value == NULL)
    return TRUE;
  if (!g_utf8_validate (value, -1, NULL)) {
    g_set_error (error, SG_ORG_ERROR, SG_ORG_ERROR_INVALID, "the %s is not valid UTF-8", what);
    return FALSE;
  }
  *out = g_strstrip (g_strdup (value));
  if (**out == '\0' && !may_clear) {
    g_set_error (error, SG_ORG_ERROR, SG_ORG_ERROR_INVALID, "the %s must not be empty", what);
    g_clear_pointer (out, g_free);
    return FALSE;
  }
  if (strlen (*out) > SG_ORG_MAX_FIELD) {
    g_set_error (error, SG_ORG_ERROR, SG_ORG_ERROR_INVALID, "the %s is longer than %d bytes", what,
                 SG_ORG_MAX_FIELD);
    g_clear_pointer (out, g_free);
    return FALSE;
  }
  return TRUE;
}


/* Sets the display name of the organisation @org_id (the caller logs it). */
static gboolean
store_name (SgStore *store, gint64 org_id, const char *name, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store, "UPDATE organisations SET name = ? WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, org_id);
  return _sg_store_exec_stmt (store, stmt, error);
}

/* Whether the organisation of @key (its domain) still has the name capture gave it: the
 * name made from its domain, never logged apart from the op that created the organisation
 * (a name set by hand, learned from signatures or pulled from the team has a newer clock
 * than the organisation's kind; without clocks, as capture made it). */
static gboolean
name_is_captured (SgStore *store, const char *key, const char *name, GError **error, gboolean *captured)
{
  g_autofree char *default_name = sg_org_name_from_domain (key);
  sqlite3_stmt *stmt;

  *captured = FALSE;
  if (name != NULL && strcmp (name, default_name) != 0)
    return TRUE;
  stmt = _sg_store_prepare (store,
      "SELECT coalesce((SELECT hlc FROM sync_clock WHERE entity = 'organisation' AND natural_key = ?1 "
      "    AND field = 'name') <= (SELECT hlc FROM sync_clock WHERE entity = 'organisation' "
      "    AND natural_key = ?1 AND field = 'kind'), 1)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW) {
    sqlite3_reset (stmt);
    _sg_store_set_error (store, error, "organisation name");
    return FALSE;
  }
  *captured = sqlite3_column_int (stmt, 0) != 0;
  sqlite3_reset (stmt);
  return TRUE;
}

gboolean
sg_org_update (SgStore *store, const char *domain, const char *name, const char *industry, gboolean *changed,
               GError **error)
{
  g_autofree char *new_name = NULL;
  g_autofree char *new_industry = NULL;
  g_autofree char *key = NULL;
  g_autofree char *old_name = NULL;
  g_autofree char *old_industry = NULL;
  gboolean set_name, set_industry;
  sqlite3_stmt *stmt;
  JsonBuilder *b;
  gint64 org_id;

  g_return_val_if_fail (store != NULL && domain != NULL, FALSE);
  if (changed != NULL)
    *changed = FALSE;
  if (!clean_field ("name", name, FALSE, &new_name, error) ||
      !clean_field ("industry", industry, TRUE, &new_industry, error))
    return FALSE;
  if (!sg_store_begin (store, error))
    return FALSE;
  org_id = _sg_org_lookup (store, domain, error);
  if (org_id < 0)
    goto fail;
  if (org_id == 0) {
    g_set_error (error, SG_ORG_ERROR, SG_ORG_ERROR_NOT_FOUND, "no organisation owns the domain “%s”", domain);
    goto fail;
  }
  stmt = _sg_store_prepare (store, "SELECT domain, name, industry FROM organisations WHERE id = ?", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, org_id);
  if (sqlite3_step (stmt) == SQLITE_ROW) {
    key = g_strdup (_SG_COL_TEXT (stmt, 0));
    old_name = g_strdup (_SG_COL_TEXT (stmt, 1));
    old_industry = g_strdup (_SG_COL_TEXT (stmt, 2));
  }
  sqlite3_reset (stmt);
  if (key == NULL) {
    g_set_error (error, SG_ORG_ERROR, SG_ORG_ERROR_NOT_FOUND, "no organisation owns the domain “%s”", domain);
    goto fail;
  }
  /* An empty industry is stored as NULL: "none", as for an organisation never given one. */
  if (new_industry != NULL && *new_industry == '\0')
    g_clear_pointer (&new_industry, g_free);
  set_industry = industry != NULL && g_strcmp0 (new_industry, old_industry) != 0;
  set_name = new_name != NULL && g_strcmp0 (new_name, old_name) != 0;
  /* The name capture gave, set by hand: it is logged all the same, so that no name learned
   * from signatures (sg_org_learn_names()) or from the team replaces the user's choice. */
  if (new_name != NULL && !set_name) {
    gboolean captured;

    if (!name_is_captured (store, key, old_name, error, &captured))
      goto fail;
    set_name = captured;
  }
  if (set_industry) {
    stmt = _sg_store_prepare (store, "UPDATE organisations SET industry = ? WHERE id = ?", error);
    if (stmt == NULL)
      goto fail;
    sqlite3_bind_text (stmt, 1, new_industry, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, org_id);
    if (!_sg_store_exec_stmt (store, stmt, error))
      goto fail;
  }
  if (set_name && !store_name (store, org_id, new_name, error))
    goto fail;
  if (set_name || set_industry) {
    b = _sg_json_begin ();
    if (set_name)
      _sg_json_str (b, "name", new_name);
    if (set_industry)
      _sg_json_str (b, "industry", new_industry);
    if (!_sg_log_json (store, "organisation", key, "upsert", b, error))
      goto fail;
    if (changed != NULL)
      *changed = TRUE;
  }
  return sg_store_commit (store, error);
fail:
  sg_store_rollback (store);
  return FALSE;
}

/* @text folded for comparing names: ASCII (accents dropped), lower case, letters and digits
 * only. */
static char *
fold_name (const char *text)
{
  g_autofree char *ascii = g_str_to_ascii (text, "C");
  GString *out = g_string_sized_new (strlen (ascii));

  for (const char *p = ascii; *p; p++)
    if (g_ascii_isalnum (*p))
      g_string_append_c (out, g_ascii_tolower (*p));
  return g_string_free (out, FALSE);
}

/* Whether @fact names the organisation of @domain (a registrable domain): the fact, folded,
 * contains the domain's first label, folded, of at least three characters. */
static gboolean
fact_names_domain (const char *fact, const char *domain)
{
  const char *dot = strchr (domain, '.');
  g_autofree char *label = g_strndup (domain, dot ? (gsize) (dot - domain) : strlen (domain));
  g_autofree char *want = fold_name (label);
  g_autofree char *have = NULL;

  if (strlen (want) < 3 || g_str_has_prefix (label, "xn--"))
    return FALSE;
  have = fold_name (fact);
  return strstr (have, want) != NULL;
}

gboolean
sg_org_learn_names (SgStore *store, guint *renamed, GError **error)
{
  /* Per organisation still without a name of its own, its people's organisation facts,
   * best first. */
  static const char *const sql =
    "SELECT o.id, o.domain, o.name, f.value, sum(f.times) AS times "
    "FROM person_facts f JOIN people p ON p.id = f.person_id "
    "  JOIN organisations o ON o.id = p.org_id "
    "WHERE f.kind = 'organisation' AND o.kind = 'external' "
    "GROUP BY o.id, f.value "
    "ORDER BY o.id, count(DISTINCT f.person_id) DESC, times DESC, max(f.observed) DESC, f.value";
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;
  gint64 done = 0;
  int rc;

  g_return_val_if_fail (store != NULL, FALSE);
  if (renamed != NULL)
    *renamed = 0;
  if (!sg_store_begin (store, error))
    return FALSE;
  stmt = _sg_store_prepare (store, sql, error);
  if (stmt == NULL)
    goto fail;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64 (stmt, 0);
    const char *domain = _SG_COL_TEXT (stmt, 1);
    const char *name = _SG_COL_TEXT (stmt, 2);
    const char *value = _SG_COL_TEXT (stmt, 3);
    gboolean captured;

    /* The first fact that qualifies decides; the others of this organisation are passed. */
    if (id == done || sqlite3_column_int64 (stmt, 4) < 2 || value == NULL ||
        strlen (value) > SG_ORG_MAX_FIELD || !fact_names_domain (value, domain))
      continue;
    done = id;
    if (!name_is_captured (store, domain, name, error, &captured)) {
      sqlite3_reset (stmt);
      goto fail;
    }
    if (!captured || g_strcmp0 (name, value) == 0)
      continue;
    g_array_append_val (ids, id);
    g_ptr_array_add (names, g_strdup (value));
    g_ptr_array_add (keys, g_strdup (domain));
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "organisation names from signatures");
    goto fail;
  }
  for (guint i = 0; i < ids->len; i++) {
    JsonBuilder *b;

    if (!store_name (store, g_array_index (ids, gint64, i), names->pdata[i], error))
      goto fail;
    b = _sg_json_begin ();
    _sg_json_str (b, "name", names->pdata[i]);
    if (!_sg_log_json (store, "organisation", keys->pdata[i], "upsert", b, error))
      goto fail;
  }
  if (!sg_store_commit (store, error))
    return FALSE;
  if (renamed != NULL)
    *renamed = ids->len;
  return TRUE;
fail:
  sg_store_rollback (store);
  return FALSE;
}
