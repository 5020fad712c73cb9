/* sg-org.c: an organisation's name and industry, set by hand. */
#include "config.h"

#include <string.h>

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
  if (set_industry) {
    stmt = _sg_store_prepare (store, "UPDATE organisations SET industry = ? WHERE id = ?", error);
    if (stmt == NULL)
      goto fail;
    sqlite3_bind_text (stmt, 1, new_industry, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, org_id);
    if (!_sg_store_exec_stmt (store, stmt, error))
      goto fail;
  }
  if (set_name) {
    stmt = _sg_store_prepare (store, "UPDATE organisations SET name = ? WHERE id = ?", error);
    if (stmt == NULL)
      goto fail;
    sqlite3_bind_text (stmt, 1, new_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, org_id);
    if (!_sg_store_exec_stmt (store, stmt, error))
      goto fail;
  }
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
