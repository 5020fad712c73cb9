/* sg-process-util.c: helpers shared by the sales-process modules. */
#include "config.h"

#include "sg-identity.h"
#include "sg-process-private.h"

#include <string.h>

gint64
_sg_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

JsonBuilder *
_sg_json_begin (void)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  return b;
}

char *
_sg_json_end (JsonBuilder *builder)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  g_object_unref (builder);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

void
_sg_json_str (JsonBuilder *b, const char *key, const char *value)
{
  json_builder_set_member_name (b, key);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

void
_sg_json_int (JsonBuilder *b, const char *key, gint64 value)
{
  json_builder_set_member_name (b, key);
  json_builder_add_int_value (b, value);
}

void
_sg_json_int_or_null (JsonBuilder *b, const char *key, gboolean has, gint64 value)
{
  json_builder_set_member_name (b, key);
  if (has)
    json_builder_add_int_value (b, value);
  else
    json_builder_add_null_value (b);
}

gboolean
_sg_log_json (SgStore *store, const char *entity, const char *key, const char *op,
              JsonBuilder *builder, GError **error)
{
  g_autofree char *fields = _sg_json_end (builder);

  return _sg_store_log_change (store, entity, key, op, fields, error);
}

static gint64
lookup_id (SgStore *store, const char *sql, const char *key, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare_static (store, sql, error); /* @sql: always a literal */
  gint64 id = 0;
  int rc;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "lookup");
    return -1;
  }
  return id;
}

gint64
_sg_org_lookup (SgStore *store, const char *domain, GError **error)
{
  g_autofree char *lower = NULL;
  g_autofree char *reg = NULL;
  gint64 id;

  if (domain == NULL || *domain == '\0')
    return 0;
  /* An address is taken for its domain. */
  if (strchr (domain, '@') != NULL)
    domain = strrchr (domain, '@') + 1;
  lower = g_utf8_strdown (domain, -1);
  g_strstrip (lower);
  id = lookup_id (store, "SELECT org_id FROM org_domains WHERE domain = ?", lower, error);
  if (id != 0)
    return id;
  reg = sg_domain_get_registrable (lower);
  if (reg == NULL || strcmp (reg, lower) == 0)
    return 0;
  return lookup_id (store, "SELECT org_id FROM org_domains WHERE domain = ?", reg, error);
}

gint64
_sg_person_lookup (SgStore *store, const char *address, GError **error)
{
  g_autofree char *norm = sg_address_normalize (address, NULL);

  if (norm == NULL)
    return 0;
  return lookup_id (store, "SELECT person_id FROM addresses WHERE address = ? AND person_id IS NOT NULL",
                    norm, error);
}

static char *
text_by_id (SgStore *store, const char *sql, gint64 id)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store, sql, NULL);
  char *out = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    out = g_strdup (_SG_COL_TEXT (stmt, 0));
  sqlite3_reset (stmt);
  return out;
}

char *
_sg_person_address (SgStore *store, gint64 person_id)
{
  return text_by_id (store, "SELECT address FROM addresses WHERE person_id = ? ORDER BY id LIMIT 1", person_id);
}

char *
_sg_org_domain (SgStore *store, gint64 org_id)
{
  return text_by_id (store, "SELECT domain FROM organisations WHERE id = ?", org_id);
}

gboolean
_sg_table_fill (SgStore *store, SgTable *t, sqlite3_stmt *stmt, GError **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    sg_table_append_row (t);
    for (guint c = 0; c < sg_table_get_n_columns (t); c++) {
      int i = (int) c;

      if (sqlite3_column_type (stmt, i) == SQLITE_NULL)
        continue;
      switch (sg_table_get_column_type (t, c)) {
      case SG_COLUMN_TEXT:
        sg_table_set_text (t, c, _SG_COL_TEXT (stmt, i));
        break;
      case SG_COLUMN_INT:
      case SG_COLUMN_TIME:
        sg_table_set_int (t, c, sqlite3_column_int64 (stmt, i));
        break;
      case SG_COLUMN_REAL:
        sg_table_set_real (t, c, sqlite3_column_double (stmt, i));
        break;
      default:
        break;
      }
    }
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "query");
    return FALSE;
  }
  return TRUE;
}

gboolean
_sg_parse_date (const char *text, gint64 *out)
{
  g_autoptr (GDateTime) dt = NULL;
  int y, m, d;
  char tail;

  if (text == NULL)
    return FALSE;
  if (sscanf (text, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3) {
    g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();

    dt = g_date_time_new (utc, y, m, d, 0, 0, 0);
  } else {
    g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();

    dt = g_date_time_new_from_iso8601 (text, utc);
  }
  if (dt == NULL)
    return FALSE;
  *out = g_date_time_to_unix (dt);
  return TRUE;
}
