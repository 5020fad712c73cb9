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

/* A prepared statement cached on the store by its SQL text (reset, bindings cleared); @sql
 * may be built at run time (the cache keeps its own copy).
 * Returns: (transfer none): valid until the store is closed; NULL with @error set. */
sqlite3_stmt *_sg_store_prepare (SgStore *store, const char *sql, GError **error);

/* The same, for @sql a string literal (or any text that lives, unchanged, as long as the
 * store): looked up by its address, without hashing the text. Never pass SQL built at
 * run time: another text could later have the same address. */
sqlite3_stmt *_sg_store_prepare_static (SgStore *store, const char *sql, GError **error);

/* Sets @error from the connection's last SQLite error, prefixed with @what. */
void _sg_store_set_error (SgStore *store, GError **error, const char *what);

/* Appends an operation to the sync change log. @fields_json is a JSON object. */
gboolean _sg_store_log_change (SgStore *store, const char *entity, const char *natural_key,
                               const char *op, const char *fields_json, GError **error);

/* The time (Unix seconds) to record on a shared row this device writes now (a stage move,
 * a process opened, a note or request): the wall clock, or the physical part of the newest
 * hybrid logical clock this store has seen when that is later. A device whose clock is
 * behind then never dates a move before the moves it has already pulled (schema/sync.md,
 * "A clock far off"). */
gint64 _sg_store_now (SgStore *store);

/* The hybrid logical clock of the op _sg_store_log_change() logged last on @store. */
guint64 _sg_store_last_hlc (SgStore *store);

/* The order of a process's stage history on every store: by the entries' clocks (rows from
 * before migration 0013 have none: their moved_at stands for it), then local id. SQL
 * text for an ORDER BY on stage_history aliased @alias. */
#define SG_HISTORY_ORDER(alias) \
  "coalesce(" alias ".hlc, " alias ".moved_at * 65536000), " alias ".id"

/* Logs a person fact (sg-import-text.c) as a "person_fact" upsert keyed
 * "ADDRESS|KIND|DETAIL|VALUE", with its fields; @first_seen (nullable) and @message_id
 * (nullable) are left out when NULL. The importer logs a new fact with this, the sync
 * client a fact a later message confirmed. */
gboolean _sg_log_person_fact (SgStore *store, const char *address, const char *kind, const char *detail,
                              const char *value, double confidence, const char *origin, gint64 observed,
                              const gint64 *first_seen, const char *message_id, GError **error);

/* Steps a statement that returns no rows, then resets it. */
gboolean _sg_store_exec_stmt (SgStore *store, sqlite3_stmt *stmt, GError **error);

/* Parsing with or without content (sg-message.c); the public sg_message_parse*() pass
 * SG_MESSAGE_PARSE_CONTENT. */
#define SG_MESSAGE_PARSE_CONTENT 1u
/* With SG_MESSAGE_PARSE_CONTENT: no signature facts for bulk mail, which the importer does
 * not store (sg-import-text.c); the work is saved on the import's parse threads. */
#define SG_MESSAGE_PARSE_NO_BULK_FACTS 2u
typedef struct _SgMessage SgMessage;
typedef struct _SgIdentity SgIdentity;
SgMessage *_sg_message_parse_stream_flags (GMimeStream *stream, const SgIdentity *identity,
                                           gint64 fallback_date, guint flags, GError **error);
SgMessage *_sg_message_new_from_mime_flags (GMimeMessage *mime, gsize headers_size,
                                            const SgIdentity *identity, gint64 fallback_date,
                                            guint flags, GError **error);

/* The warnings of a message about its content (text cut, charset, vCard), NULL-terminated. */
const char *const *_sg_message_get_content_warnings (const SgMessage *message);

/* Stores what the text of @m says (sg-import-text.c): its own text, topics, and the facts
 * about its sender @person_id (0: none), inside the importer's open transaction. */
gboolean _sg_import_store_content (SgStore *store, const SgMessage *m, gint64 interaction_id,
                                   gint64 person_id, GError **error);
/* The text/calendar parts and .ics attachments of a message, decoded (transfer-encoding
 * removed), at most a few. Returns: (transfer none) (nullable): GBytes, NULL when none. */
struct _SgMessage;
GPtrArray *_sg_message_get_calendars (const struct _SgMessage *message);

G_END_DECLS

/* --- sg-import.c, for sources other than files (sg-imap.c) ----------------------------- */
typedef struct _SgImporter SgImporter;
typedef struct _SgMessage SgMessage;

/* Overrides the direction found from the identity (a Sent folder is outgoing mail). */
void _sg_message_set_direction (SgMessage *message, int direction);

SgStore *_sg_importer_get_store (SgImporter *importer);
/* The id of the source (kind, uri), made if new; opens a batch. 0 with @error. */
gint64 _sg_importer_source (SgImporter *importer, const char *kind, const char *uri, GError **error);
/* Opens a batch if none is open. */
gboolean _sg_importer_begin (SgImporter *importer, GError **error);
/* Parses and stores one message inside the open batch (opened if needed); a message that
 * cannot be parsed is a problem, counted and remembered under @location. Returns FALSE only
 * when the store failed: the batch is then rolled back. */
gboolean _sg_importer_add_bytes (SgImporter *importer, gint64 source_id, GBytes *data,
                                 const char *location, gboolean outgoing, gint64 fallback_date,
                                 GError **error);
/* Counts a message that is not read (@why: too large ...) as skipped, remembered in the store. */
gboolean _sg_importer_skip (SgImporter *importer, gint64 source_id, const char *location,
                            const GError *why, GError **error);
/* Commits when the batch is full or old enough. */
gboolean _sg_importer_maybe_commit (SgImporter *importer, GError **error);
/* Rolls the open batch back. */
void _sg_importer_abandon (SgImporter *importer);
/* Adds @messages to the total the progress callback reports. */
void _sg_importer_add_expected (SgImporter *importer, guint64 messages);
