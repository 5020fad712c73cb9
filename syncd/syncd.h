/* syncd.h: the parts of salesgetter-syncd. */
#pragma once

#include <sg.h>

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

G_END_DECLS
