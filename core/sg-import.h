/* sg-import.h: importing mail into the store (Maildir folders, mbox files, single messages).
 *
 * An SgImporter resolves every message's participants into addresses, people and
 * organisations under the identity rules, stores one interaction per Message-ID, and logs
 * each new fact to the change log. Work is committed in batches; every message is stored
 * whole or not at all, together with the record that its file was seen, so an import that
 * is killed at any point resumes without loss or duplicates.
 *
 * Per-message problems (a broken or oversized message, an unreadable file) are reported
 * through the problem callback and counted, and the import goes on; only store failures
 * stop it.
 */
#pragma once

#include <gio/gio.h>
#include "sg-identity.h"
#include "sg-store.h"
#include "sg-table.h"

G_BEGIN_DECLS

#define SG_IMPORT_ERROR (sg_import_error_quark ())
SG_API GQuark sg_import_error_quark (void);

typedef enum {
  SG_IMPORT_ERROR_NOT_FOUND,   /* the path does not exist */
  SG_IMPORT_ERROR_UNREADABLE,  /* the path or a file cannot be read */
  SG_IMPORT_ERROR_UNSUPPORTED, /* neither a Maildir, an mbox nor a message */
  SG_IMPORT_ERROR_CANCELLED,
  SG_IMPORT_ERROR_CONTENT,     /* a warning: part of a message's text could not be read (the
                                * message is stored); given to the warning callback only */
} SgImportError;

typedef struct {
  guint64 files_total; /* messages (Maildir) expected, 0 when unknown */
  guint64 files_done;
  guint64 bytes_total; /* bytes (mbox) expected, 0 when unknown */
  guint64 bytes_done;
} SgImportProgress;

typedef struct {
  guint messages;   /* messages read */
  guint imported;   /* new interactions stored */
  guint known;      /* already in the store: same Message-ID, or a file seen before */
  guint skipped;    /* not imported; see sg_importer_get_skip_reasons() */
  guint people_new;
  guint orgs_new;
  guint meetings;         /* meetings (VEVENTs) stored or changed, from .ics files and mail */
  guint meetings_stale;   /* iTIP messages older than what the store holds, not applied */
} SgImportStats;

typedef void (*SgImportProgressFunc) (const SgImportProgress *progress, gpointer user_data);
/* @location names the file (and offset, for an mbox); @error says what is wrong with it. */
typedef void (*SgImportProblemFunc) (const char *location, const GError *error, gpointer user_data);

typedef struct _SgImporter SgImporter;

/* Returns: (transfer full): an importer writing to @store (which must outlive it). */
SG_API SgImporter *sg_importer_new (SgStore *store, SgIdentity *identity);
/* Commits what is pending (errors are lost: call sg_importer_flush() first to see them). */
SG_API void sg_importer_free (SgImporter *importer);

/* Called at most every @interval_ms milliseconds, and once at the end. */
SG_API void sg_importer_set_progress_func (SgImporter *importer, SgImportProgressFunc func,
                                           gpointer user_data, guint interval_ms);
SG_API void sg_importer_set_problem_func (SgImporter *importer, SgImportProblemFunc func,
                                          gpointer user_data);

/* Whether the text of each message is read (text, signature facts, vCards, topics; issue 9).
 * On by default; off, an import stores only who wrote to whom and when. */
SG_API void sg_importer_set_extract_content (SgImporter *importer, gboolean extract);
/* Called for a message that was stored but whose content was not wholly read (an HTML bomb
 * cut at a cap, an unknown charset, a broken vCard): @location and the warning. */
SG_API void sg_importer_set_warning_func (SgImporter *importer, SgImportProblemFunc func,
                                          gpointer user_data);

/* How many threads read and parse the files of a Maildir, the calling thread included: it
 * stores them (in the order listed, so the result does not depend on it) and parses
 * whenever the next to store is not parsed yet. 0, the default: one per processor, at
 * most 8; 1: the calling thread does everything. */
SG_API void sg_importer_set_parse_threads (SgImporter *importer, guint n_threads);

/* Imports @path: a Maildir (with all its subfolders, Maildir++ or nested), an mbox file,
 * one message file, an iCalendar (.ics) file, or a folder of .ics files (see sg-ical.h).
 * Folders named Trash, Junk, Spam or Drafts are left out.
 * Returns: FALSE with SG_IMPORT_ERROR or SG_STORE_ERROR when the import could not go on;
 * what was imported before that is committed. */
SG_API gboolean sg_importer_import_path (SgImporter *importer, const char *path,
                                         GCancellable *cancellable, GError **error);

/* Imports the Maildir @root, skipping files already seen (the daemon's rescan). */
SG_API gboolean sg_importer_scan_maildir (SgImporter *importer, const char *root,
                                          GCancellable *cancellable, GError **error);

/* Imports one file that appeared in the Maildir @root (a new/ or cur/ entry). A file seen
 * before (also under another flag suffix) is not read again. Problems with the message go
 * to the problem callback. Returns: FALSE only when the store failed. */
SG_API gboolean sg_importer_add_maildir_file (SgImporter *importer, const char *root,
                                              const char *path, GError **error);

/* The Olson zone (e.g. "Europe/Berlin") in which floating iCalendar times (no TZID, no Z)
 * are read; NULL (the default) reads them as UTC. */
SG_API void sg_importer_set_floating_timezone (SgImporter *importer, const char *olson);

/* Commits pending work. */
SG_API gboolean sg_importer_flush (SgImporter *importer, GError **error);

/* Returns: (transfer none): counts since the importer was made. */
SG_API const SgImportStats *sg_importer_get_stats (SgImporter *importer);

/* Returns: (transfer full): why messages were skipped: columns reason, count. */
SG_API SgTable *sg_importer_get_skip_reasons (SgImporter *importer);

G_END_DECLS
