/* sg-source.c: the bookkeeping of the polled sources (IMAP and CalDAV accounts): their row in
 * `sources`, how their syncs went (`source_status`), and the status table that
 * `salesgetter sync --status` shows for every kind. */
#include "config.h"

#include "sg-source.h"
#include "sg-source-private.h"
#include "sg-autocleanups.h"
#include "sg-private.h"
#include "sg-process-private.h"

gint64
_sg_source_ensure (SgStore *store, const char *kind, const char *uri, GError **error)
{
  sqlite3_stmt *stmt;
  gint64 id = 0;

  if (!sg_store_begin (store, error))
    return 0;
  stmt = _sg_store_prepare (store, "INSERT INTO sources (kind, uri) VALUES (?, ?) ON CONFLICT (uri) DO NOTHING",
                            error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, uri, -1, SQLITE_STATIC);
  if (!_sg_store_exec_stmt (store, stmt, error))
    goto fail;
  stmt = _sg_store_prepare (store, "SELECT id FROM sources WHERE uri = ?", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, uri, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (id == 0 || !sg_store_commit (store, error))
    goto fail;
  return id;

fail:
  sg_store_rollback (store);
  return 0;
}

gboolean
_sg_source_write_status (SgStore *store, gint64 source_id, const char *name, const GError *failure,
                         gboolean started, gint64 pending, GError **error)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  sqlite3_stmt *stmt;

  if (!sg_store_begin (store, error))
    return FALSE;
  stmt = _sg_store_prepare (store,
      "INSERT INTO source_status (source_id, name) VALUES (?, ?) "
      "ON CONFLICT (source_id) DO UPDATE SET name = excluded.name", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, source_id);
  sqlite3_bind_text (stmt, 2, name, -1, SQLITE_STATIC);
  if (!_sg_store_exec_stmt (store, stmt, error))
    goto fail;
  if (started)
    stmt = _sg_store_prepare (store, "UPDATE source_status SET last_attempt = ?2 WHERE source_id = ?1", error);
  else if (failure == NULL)
    stmt = _sg_store_prepare (store,
        "UPDATE source_status SET last_success = ?2, last_attempt = coalesce(last_attempt, ?2), "
        "failures = 0, pending = ?4 WHERE source_id = ?1", error);
  else
    stmt = _sg_store_prepare (store,
        "UPDATE source_status SET last_error = ?3, last_error_at = ?2, last_attempt = ?2, "
        "failures = failures + 1, pending = ?4 WHERE source_id = ?1", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, source_id);
  sqlite3_bind_int64 (stmt, 2, now);
  if (failure)
    sqlite3_bind_text (stmt, 3, failure->message, -1, SQLITE_STATIC);
  if (pending >= 0)
    sqlite3_bind_int64 (stmt, 4, pending);
  if (!_sg_store_exec_stmt (store, stmt, error))
    goto fail;
  return sg_store_commit (store, error);

fail:
  sg_store_rollback (store);
  return FALSE;
}

gboolean
_sg_source_record_failure (SgStore *store, const char *kind, const char *uri, const char *name,
                           const GError *failure, GError **error)
{
  gint64 id = _sg_source_ensure (store, kind, uri, error);

  return id != 0 && _sg_source_write_status (store, id, name, failure, FALSE, -1, error);
}

SgTable *
sg_source_get_status (SgStore *store, const char *kind, GError **error)
{
  /* What a source holds depends on its kind: an IMAP account has folders and stores
   * interactions, a CalDAV account has calendars and stores meetings. last_error_at is
   * shown for IMAP accounts only, as sync --status always did (CalDAV's rows record it too). */
  static const char *sql =
    "SELECT coalesce(st.name, s.uri), s.uri, "
    "  CASE WHEN st.last_attempt IS NULL THEN 'never' WHEN st.failures > 0 THEN 'failing' ELSE 'ok' END, "
    "  st.last_success, st.last_attempt, st.last_error, coalesce(st.failures, 0), st.pending, "
    "  CASE s.kind WHEN 'caldav' THEN (SELECT count(*) FROM caldav_calendars c WHERE c.source_id = s.id) "
    "    ELSE (SELECT count(*) FROM imap_folders f WHERE f.source_id = s.id) END, "
    "  CASE s.kind WHEN 'caldav' THEN (SELECT count(*) FROM meetings m WHERE m.source_id = s.id) "
    "    ELSE (SELECT count(*) FROM interactions i WHERE i.source_id = s.id) END, "
    "  CASE s.kind WHEN 'imap' THEN st.last_error_at END, s.kind "
    "FROM sources s LEFT JOIN source_status st ON st.source_id = s.id "
    "WHERE s.kind = ? ORDER BY 1";
  g_autoptr (SgTable) t = NULL;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (store != NULL && kind != NULL, NULL);
  if ((stmt = _sg_store_prepare (store, sql, error)) == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, kind, -1, SQLITE_STATIC);
  t = sg_table_new ();
  sg_table_add_column (t, "account", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "uri", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "state", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "last_success", SG_COLUMN_TIME, 0);
  sg_table_add_column (t, "last_attempt", SG_COLUMN_TIME, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "last_error", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "failures", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "pending", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "folders", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "messages", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "last_error_at", SG_COLUMN_TIME, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "kind", SG_COLUMN_TEXT, 0);
  if (!_sg_table_fill (store, t, stmt, error))
    return NULL;
  return g_steal_pointer (&t);
}
