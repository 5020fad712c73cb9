/* sg-private.h: cross-file internals of libsalesgetter. Never installed. */
#pragma once

#include <glib.h>
#include <sqlite3.h>

#include <gmime/gmime.h>

#include "sg-store.h"

/* GMime 3.2 has no g_autoptr() support of its own. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeFilter, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (InternetAddressList, g_object_unref)

G_BEGIN_DECLS

/* Initialises GMime once per process. */
void _sg_gmime_init (void);

/* The GMime parser options every message is parsed with: lenient with addresses, encoded
 * words and parameters, with fallback charsets. (transfer none) */
GMimeParserOptions *_sg_parser_options (void);

/* The store's SQLite handle, for the modules of the library. */
sqlite3 *_sg_store_get_db (SgStore *store);

/* A prepared statement cached on the store by its SQL text (reset, bindings cleared).
 * Returns: (transfer none): valid until the store is closed; NULL with @error set. */
sqlite3_stmt *_sg_store_prepare (SgStore *store, const char *sql, GError **error);

/* Sets @error from the connection's last SQLite error, prefixed with @what. */
void _sg_store_set_error (SgStore *store, GError **error, const char *what);

/* Appends an operation to the sync change log. @fields_json is a JSON object. */
gboolean _sg_store_log_change (SgStore *store, const char *entity, const char *natural_key,
                               const char *op, const char *fields_json, GError **error);

/* Steps a statement that returns no rows, then resets it. */
gboolean _sg_store_exec_stmt (SgStore *store, sqlite3_stmt *stmt, GError **error);

/* The text/calendar parts and .ics attachments of a message, decoded (transfer-encoding
 * removed), at most a few. Returns: (transfer none) (nullable): GBytes, NULL when none. */
struct _SgMessage;
GPtrArray *_sg_message_get_calendars (const struct _SgMessage *message);

G_END_DECLS
