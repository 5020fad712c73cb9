/* sg-imap.h: capturing mail from an IMAP account, through libcurl.
 *
 * An SgImapAccount describes one account (URL, credentials, CA file, which folders); the
 * front end fills it from its config, the library reads no config itself.
 * sg_imap_account_sync() stores every message the account's folders gained since the last
 * sync, through an SgImporter, so IMAP mail gives exactly the facts a Maildir copy would.
 *
 * What a sync promises:
 * - nothing on the server changes: folders are opened with EXAMINE (read-only) and bodies
 *   fetched with BODY.PEEK[], so no \Seen flag is set and nothing is expunged;
 * - it is incremental per folder: the store keeps UIDVALIDITY and the highest UID stored
 *   (imap_folders); a changed UIDVALIDITY rescans the folder, and Message-ID keys keep every
 *   message once;
 * - it is resumable: a message and its folder's new high-water mark are committed in the
 *   same transaction (batches of the importer), so a sync killed at any point resumes where
 *   the store stands, without loss or duplicates;
 * - TLS is always used and the certificate verified (imaps://, or imap:// with STARTTLS
 *   required); a private CA is given with sg_imap_account_set_ca_file(), never by turning
 *   verification off.
 *
 * Folders: all selectable folders, Sent folders (SPECIAL-USE \Sent, usual names, or set
 * with sg_imap_account_set_sent_folders()) captured as outgoing; Trash, Junk, Drafts (by
 * SPECIAL-USE or name) left out unless an include pattern names them.
 */
#pragma once

#include <gio/gio.h>
#include "sg-import.h"
#include "sg-store.h"
#include "sg-table.h"

G_BEGIN_DECLS

#define SG_IMAP_ERROR (sg_imap_error_quark ())
SG_API GQuark sg_imap_error_quark (void);

typedef enum {
  SG_IMAP_ERROR_URL,       /* not an imap:// or imaps:// URL, or a password in it */
  SG_IMAP_ERROR_CONNECT,   /* the server cannot be reached */
  SG_IMAP_ERROR_TLS,       /* TLS failed: the certificate does not verify, no STARTTLS ... */
  SG_IMAP_ERROR_AUTH,      /* the server refused the login */
  SG_IMAP_ERROR_PROTOCOL,  /* the server answered NO, BAD, or something that is not IMAP */
  SG_IMAP_ERROR_TOO_LARGE, /* a response line over its cap */
  SG_IMAP_ERROR_CLOSED,    /* the server closed the connection */
  SG_IMAP_ERROR_TIMEOUT,   /* the server stopped answering */
} SgImapError;

typedef struct _SgImapAccount SgImapAccount;

/* @name: the account's name (for messages and status); @url: imaps://[user@]host[:port]/
 * or imap://[user@]host[:port]/ (STARTTLS is then required).
 * Returns: (transfer full): the account, or NULL with SG_IMAP_ERROR_URL naming @url. */
SG_API SgImapAccount *sg_imap_account_new (const char *name, const char *url, GError **error);
SG_API void sg_imap_account_free (SgImapAccount *account);

SG_API const char *sg_imap_account_get_name (const SgImapAccount *account);
/* The account's key in the store: scheme://user@host:port/ (no password). (transfer none) */
SG_API const char *sg_imap_account_get_uri (const SgImapAccount *account);

/* The login name; overrides the user in the URL. */
SG_API void sg_imap_account_set_user (SgImapAccount *account, const char *user);
SG_API void sg_imap_account_set_password (SgImapAccount *account, const char *password);
/* An OAuth 2.0 bearer token (SASL XOAUTH2) instead of a password. */
SG_API void sg_imap_account_set_oauth2_token (SgImapAccount *account, const char *token);
/* A PEM file of CA certificates to verify the server with, instead of the system's. */
SG_API void sg_imap_account_set_ca_file (SgImapAccount *account, const char *path);
/* Glob patterns (GPatternSpec, on the folder's name in UTF-8 with '/' between levels).
 * @include NULL or empty: every folder; a folder matching @exclude is left out. A folder
 * that @include names explicitly is taken even if it is Trash, Junk or Drafts. */
SG_API void sg_imap_account_set_folders (SgImapAccount *account, const char *const *include,
                                         const char *const *exclude);
/* Folders (names, UTF-8) whose mail is outgoing, besides those marked \Sent. */
SG_API void sg_imap_account_set_sent_folders (SgImapAccount *account, const char *const *folders);
/* Seconds without an answer before the server is given up (default 60). */
SG_API void sg_imap_account_set_timeout (SgImapAccount *account, guint seconds);

/* Stores the new mail of every folder of @account through @importer (its progress and
 * problem callbacks see every message; progress knows the total after a first pass over
 * the folders). Records the outcome in the store (sg_source_get_status()).
 * Returns: FALSE with SG_IMAP_ERROR (the message names the account), SG_STORE_ERROR, or
 * G_IO_ERROR_CANCELLED; what was stored before is committed. */
SG_API gboolean sg_imap_account_sync (SgImapAccount *account, SgImporter *importer,
                                      GCancellable *cancellable, GError **error);

/* Records a failure that happened before a sync could start (a password command that
 * failed, say) as the account's last error. */
SG_API gboolean sg_imap_record_failure (SgStore *store, SgImapAccount *account, const GError *failure,
                                        GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgImapAccount, sg_imap_account_free)

G_END_DECLS
