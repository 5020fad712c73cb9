/* syncd.h: the parts of salesgetter-syncd. */
#pragma once

#include <sg.h>
#include "sg-config.h"
#include "polled.h"

G_BEGIN_DECLS

/* A watched Maildir: inotify on every folder's new/ and cur/, plus a full rescan at start
 * and whenever inotify's queue overflowed. Messages are stored by the daemon's importer
 * as they land and committed at the end of each burst of events. */
typedef struct _SgMaildirSource SgMaildirSource;

/* Opens its own connection to the store at @store_path (the rescan runs in a worker thread).
 * Returns: (transfer full): a source for @root, not yet started; NULL with @error when
 * @root is not a folder, the store cannot be opened or inotify is not available. */
SgMaildirSource *sg_maildir_source_new (const char *root, const char *store_path,
                                        SgIdentity *identity, GError **error);
void sg_maildir_source_free (SgMaildirSource *source);

/* Whether message text is read (facts, vCards, topics; issue 9). Default TRUE; call before
 * sg_maildir_source_start(). */
void sg_maildir_source_set_extract_content (SgMaildirSource *source, gboolean extract);

/* Adds the watches, then rescans (in a worker thread; events that arrive meanwhile are
 * handled after it). */
void sg_maildir_source_start (SgMaildirSource *source);

/* Stops a rescan in progress at the next message. */
void sg_maildir_source_cancel (SgMaildirSource *source);

/* TRUE while the start-up rescan runs. */
gboolean sg_maildir_source_is_scanning (SgMaildirSource *source);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgMaildirSource, sg_maildir_source_free)

/* An IMAP account ([imap NAME]): synced at start, then every poll-interval seconds (a
 * failed sync is retried sooner, backing off), in a worker thread with its own store
 * connection. Errors are logged and kept in the store (salesgetter sync --status).
 * @once: sync once, do not poll.
 * Returns: (transfer full): the account's source (polled.h), not started; NULL when the
 * store cannot be opened. */
SgPolled *sg_imap_source_new (const SgConfigImap *conf, const char *store_path, SgIdentity *identity,
                              gboolean once, GError **error);

/* meetings branch: a watched folder of .ics files ([calendar] paths), imported at start,
 * after changes (debounced) and every five minutes, then tagged (ics.c). */
typedef struct _SgIcsSource SgIcsSource;

/* @rules_path: (nullable): the rules file, NULL for the built-in rules.
 * Returns: (transfer full): NULL with @error when @root is not a folder or the store cannot
 * be opened. */
SgIcsSource *sg_ics_source_new (const char *root, const char *store_path, SgIdentity *identity,
                                const char *rules_path, GError **error);
void sg_ics_source_start (SgIcsSource *source);
void sg_ics_source_cancel (SgIcsSource *source);
/* TRUE while an import runs or is about to. */
gboolean sg_ics_source_is_scanning (SgIcsSource *source);
void sg_ics_source_free (SgIcsSource *source);

/* caldav branch: a CalDAV account ([caldav NAME]): synced at start, then every
 * poll-interval seconds (a failed sync is retried sooner, backing off), in a worker thread
 * with its own store connection; meetings that changed are tagged by the rules.
 * @rules_path: (nullable): the rules file, NULL for the built-in rules. @once: sync once.
 * Returns: (transfer full): the account's source (polled.h), not started; NULL when the
 * store cannot be opened. */
SgPolled *sg_caldav_source_new (const SgConfigCaldav *conf, const char *store_path, SgIdentity *identity,
                                const char *rules_path, gboolean once, GError **error);

/* syncclient branch: the team sync ([sync], sync.c). */
typedef struct _SgSyncSource SgSyncSource;

/* Returns: (transfer full) (nullable): NULL when [sync] has no server. A [sync] that cannot
 * be used (no token file...) gives a source that only logs why. */
SgSyncSource *sg_sync_source_new (const SgConfig *config, const char *store_path);
/* Syncs now, then after local changes (debounced), every interval, and with backoff after
 * a failure. */
void sg_sync_source_start (SgSyncSource *source);
/* One sync, now, in this thread (--once). */
gboolean sg_sync_source_run_once (SgSyncSource *source, GError **error);
void sg_sync_source_cancel (SgSyncSource *source);
gboolean sg_sync_source_is_running (SgSyncSource *source);
/* Waits for a sync in flight (cancelled first). */
void sg_sync_source_free (SgSyncSource *source);

G_END_DECLS
