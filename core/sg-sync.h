/* sg-sync.h: the client half of the team sync (issue 6, schema/sync.md).
 *
 * A round trip: sg_sync_build_request() turns the unacknowledged ops of the change log into
 * a request body (at most @limit ops, interaction ops serialised from their rows, what the
 * privacy settings keep on this device withheld and marked so), the transport POSTs it to
 * /v1/sync, and sg_sync_apply_answer() marks what the server acknowledged, merges the pulled
 * ops into the store without logging them again (last writer wins per field by hybrid logical
 * clock, sets add-wins, stage history append-only) and keeps the cursor. sg_sync_run() does
 * all of it against a server with libcurl (gzip, Bearer token, TLS verified) until the server
 * has nothing more and the log is pushed.
 *
 * Each of these is one transaction: a round trip cut anywhere loses nothing and, the op ids
 * making a push idempotent, duplicates nothing.
 */
#pragma once

#include <gio/gio.h>
#include "sg-version.h"
#include "sg-store.h"
#include "sg-table.h"

G_BEGIN_DECLS

#define SG_SYNC_ERROR (sg_sync_error_quark ())
SG_API GQuark sg_sync_error_quark (void);

typedef enum {
  SG_SYNC_ERROR_CONFIG,   /* no server, no token, a bad setting */
  SG_SYNC_ERROR_NETWORK,  /* cannot connect, timed out, TLS failure, cut connection */
  SG_SYNC_ERROR_AUTH,     /* 401 or 403: the token is missing, unknown, revoked or not ours */
  SG_SYNC_ERROR_REFUSED,  /* any other 4xx: the server names what it did not accept */
  SG_SYNC_ERROR_SERVER,   /* 5xx */
  SG_SYNC_ERROR_PROTOCOL, /* the answer is not what the protocol says */
  SG_SYNC_ERROR_BUSY,     /* 429: too many requests for this token; try again later (the message
                           * says when, from the answer's Retry-After) */
} SgSyncError;

/* How much of a message leaves this machine. */
typedef enum {
  SG_SHARE_METADATA, /* who and when: people, organisations, dates, tags, processes (default) */
  SG_SHARE_SUBJECTS, /* and subjects (meeting summaries and locations) */
  SG_SHARE_FULL,     /* and the readable text of each message */
} SgShareLevel;

SG_API gboolean sg_share_level_from_string (const char *text, SgShareLevel *out);
SG_API const char *sg_share_level_to_string (SgShareLevel level);

typedef struct _SgSyncSettings SgSyncSettings;

SG_API SgSyncSettings *sg_sync_settings_new (void);
SG_API void sg_sync_settings_free (SgSyncSettings *settings);
SG_API void sg_sync_settings_set_share (SgSyncSettings *settings, SgShareLevel level);
SG_API SgShareLevel sg_sync_settings_get_share (const SgSyncSettings *settings);
/* Mail with anyone at @domain (or a subdomain of it), and people and organisations there,
 * never leave this machine. */
SG_API void sg_sync_settings_add_excluded_domain (SgSyncSettings *settings, const char *domain);
/* The same for one address. */
SG_API void sg_sync_settings_add_excluded_address (SgSyncSettings *settings, const char *address);
/* Mail stored from @folder never leaves: an absolute path is a Maildir (or a folder in
 * it); anything else is a folder name, of an IMAP account or a Maildir++ subfolder. */
SG_API void sg_sync_settings_add_private_folder (SgSyncSettings *settings, const char *folder);
/* The server's base URL (https://crm.example.com); /v1/sync is appended. */
SG_API gboolean sg_sync_settings_set_server (SgSyncSettings *settings, const char *url, GError **error);
SG_API const char *sg_sync_settings_get_server (const SgSyncSettings *settings);
SG_API void sg_sync_settings_set_token (SgSyncSettings *settings, const char *token);
/* Reads the token from the first line of @path, which must be a regular file that only its
 * owner may read (mode 0600 or stricter). */
SG_API gboolean sg_sync_settings_load_token (SgSyncSettings *settings, const char *path, GError **error);
/* A CA bundle to verify the server with (tests); verification is never turned off. */
SG_API void sg_sync_settings_set_ca_file (SgSyncSettings *settings, const char *path);
/* Seconds a round trip may take (default 120) and connecting may take (default 20). */
SG_API void sg_sync_settings_set_timeouts (SgSyncSettings *settings, guint total, guint connect);

/* What round trips did. */
typedef struct {
  guint pushed;    /* ops sent */
  guint withheld;  /* ops the privacy settings kept here */
  guint acked;     /* ops the server acknowledged */
  guint rejected;  /* ops the server refused (they stay in the log, marked acknowledged) */
  guint pulled;    /* ops received */
  guint applied;   /* received ops that changed something here */
  guint skipped;   /* received ops this version does not apply (unknown entity, missing parent) */
  guint rounds;    /* round trips */
  gboolean more;   /* the last answer said the server has more */
} SgSyncCounts;

/* The request body of the next round trip: the first @limit unacknowledged ops the settings
 * let leave (those they do not are marked withheld, in the same transaction), the store's
 * device id and cursor. @n_ops: (out) (optional): ops in it.
 * Returns: (transfer full): JSON text, or NULL with an error. */
SG_API char *sg_sync_build_request (SgStore *store, const SgSyncSettings *settings, guint limit,
                                    guint *n_ops, SgSyncCounts *counts, GError **error);

/* Applies the server's answer (JSON text, @len bytes or -1): marks acked and rejected ops,
 * merges the pulled ops, keeps the cursor and advances the clock past every clock received.
 * One transaction. @counts: (optional): added to. */
SG_API gboolean sg_sync_apply_answer (SgStore *store, const char *answer, gssize len,
                                      SgSyncCounts *counts, GError **error);

/* Progress of sg_sync_run(), after each round trip. */
typedef void (*SgSyncProgressFunc) (const SgSyncCounts *counts, gint64 pending, gpointer user_data);

/* Synchronises with the server of @settings: pushes the whole log, pulls until the server has
 * no more. Remembers in the store when it last succeeded, or its last error.
 * @cancellable: (nullable): checked between round trips.
 * Returns: FALSE with SG_SYNC_ERROR (or a store error). */
SG_API gboolean sg_sync_run (SgStore *store, const SgSyncSettings *settings, SgSyncProgressFunc progress,
                             gpointer user_data, GCancellable *cancellable, SgSyncCounts *counts,
                             GError **error);

/* Ops waiting to be pushed. */
SG_API gint64 sg_sync_count_pending (SgStore *store, GError **error);

/* One row: server (as last used), last_success, last_attempt (times, null: never), pending,
 * withheld, rejected (op counts), last_error (the last attempt's error; after a success, the
 * last op the server refused, if any; else ""), cursor, failing (1 when the last attempt
 * failed, 0 when it succeeded or none was made: the times have only second resolution). */
SG_API SgTable *sg_sync_get_status (SgStore *store, GError **error);

/* After the last successful sync: a sentence naming how far this device's clock is from the
 * server's (its HTTP Date) when that is more than 10 minutes, else NULL. It also shows as
 * sg_sync_get_status()'s last_error while there is no error. (transfer full) */
SG_API char *sg_sync_get_clock_warning (SgStore *store);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgSyncSettings, sg_sync_settings_free)

G_END_DECLS
