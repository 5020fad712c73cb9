/* sg-caldav.h: meetings from CalDAV calendars (RFC 4791), through libcurl.
 *
 * An SgCaldavAccount describes one account (URL, credentials, CA file); the front end fills
 * it from its config, the library reads no config itself. sg_caldav_account_sync() finds
 * the account's calendars and brings the store up to date with them, through an
 * SgImporter: calendar objects go through the same iCalendar import as .ics files, so
 * meetings, attendees, people and organisations are the same whatever the route.
 *
 * What a sync does:
 * - discovery (RFC 6764, RFC 5397, RFC 4791 6.2.1): the URL itself when it is a calendar;
 *   otherwise its DAV:current-user-principal (or /.well-known/caldav's), the principal's
 *   calendar-home-set, and every calendar below it that holds VEVENTs;
 * - incremental: a calendar whose getctag and sync-token did not change costs one PROPFIND;
 *   otherwise an RFC 6578 sync-collection REPORT from the stored sync-token, or (no token,
 *   a server without sync-collection, or a token the server no longer accepts) a full
 *   listing of ETags compared with those stored; changed objects are fetched with
 *   calendar-multiget;
 * - deletions: an object gone from the server (or a calendar gone) removes its meetings,
 *   with a `delete` op in the change log;
 * - it is resumable: each object is committed with its ETag, the sync-token only after every
 *   change it covers; a sync killed at any point is finished by the next one;
 * - nothing on the server changes (PROPFIND and REPORT only).
 *
 * Security: https:// with the certificate verified (a private CA with
 * sg_caldav_account_set_ca_file(), never by turning verification off); http:// only to a
 * loopback address. Basic authentication. Every answer is capped in size and time.
 */
#pragma once

#include <gio/gio.h>
#include "sg-import.h"
#include "sg-store.h"
#include "sg-table.h"

G_BEGIN_DECLS

#define SG_CALDAV_ERROR (sg_caldav_error_quark ())
SG_API GQuark sg_caldav_error_quark (void);

typedef enum {
  SG_CALDAV_ERROR_URL,        /* not an http(s):// URL, http:// to a non-loopback host, a password in it */
  SG_CALDAV_ERROR_CONNECT,    /* the server cannot be reached */
  SG_CALDAV_ERROR_TLS,        /* the certificate does not verify */
  SG_CALDAV_ERROR_AUTH,       /* 401 or 403: the server refused the credentials */
  SG_CALDAV_ERROR_NOT_FOUND,  /* 404: no such principal, home or calendar; or no calendar found */
  SG_CALDAV_ERROR_HTTP,       /* another HTTP error status (500 ...) */
  SG_CALDAV_ERROR_PROTOCOL,   /* an answer that is not the WebDAV XML expected (garbage) */
  SG_CALDAV_ERROR_TOO_LARGE,  /* an answer over the size cap */
  SG_CALDAV_ERROR_TIMEOUT,    /* the server stopped answering */
} SgCaldavError;

/* Default caps: seconds without progress (and to connect), bytes of one answer. */
#define SG_CALDAV_DEFAULT_TIMEOUT 60
#define SG_CALDAV_DEFAULT_MAX_RESPONSE ((gsize) 64 * 1024 * 1024)

typedef struct _SgCaldavAccount SgCaldavAccount;

/* @name: the account's name (for messages and status); @url: https://host[:port]/[path]
 * (a server, a principal or a calendar), or http:// to a loopback address.
 * Returns: (transfer full): the account, or NULL with SG_CALDAV_ERROR_URL naming @url. */
SG_API SgCaldavAccount *sg_caldav_account_new (const char *name, const char *url, GError **error);
SG_API void sg_caldav_account_free (SgCaldavAccount *account);

SG_API const char *sg_caldav_account_get_name (const SgCaldavAccount *account);
/* The account's key in the store: scheme://user@host:port/path (no password). */
SG_API const char *sg_caldav_account_get_uri (const SgCaldavAccount *account);

SG_API void sg_caldav_account_set_user (SgCaldavAccount *account, const char *user);
SG_API void sg_caldav_account_set_password (SgCaldavAccount *account, const char *password);
/* A PEM file of CA certificates to verify the server with, instead of the system's. */
SG_API void sg_caldav_account_set_ca_file (SgCaldavAccount *account, const char *path);
/* Seconds without progress before the server is given up (default SG_CALDAV_DEFAULT_TIMEOUT). */
SG_API void sg_caldav_account_set_timeout (SgCaldavAccount *account, guint seconds);
/* Bytes of one answer at most (default SG_CALDAV_DEFAULT_MAX_RESPONSE). */
SG_API void sg_caldav_account_set_max_response (SgCaldavAccount *account, gsize bytes);

/* What the last sync of an account did. */
typedef struct {
  guint calendars;  /* calendars found */
  guint unchanged;  /* ... of which had not changed (one PROPFIND each) */
  guint fetched;    /* calendar objects fetched and stored */
  guint removed;    /* calendar objects gone from the server, their meetings removed */
  guint resyncs;    /* full resyncs because the server no longer accepted the sync-token */
} SgCaldavStats;

/* Returns: (transfer none): the figures of the last sg_caldav_account_sync(). */
SG_API const SgCaldavStats *sg_caldav_account_get_stats (const SgCaldavAccount *account);

/* Brings the store up to date with the account's calendars (see above), through
 * @importer (whose problem callback hears about objects that are not iCalendar). Records
 * the outcome in the store (sg_source_get_status()).
 * Returns: FALSE with SG_CALDAV_ERROR (the message names the account and the URL),
 * SG_STORE_ERROR or G_IO_ERROR_CANCELLED; what was stored before is kept. */
SG_API gboolean sg_caldav_account_sync (SgCaldavAccount *account, SgImporter *importer,
                                        GCancellable *cancellable, GError **error);

/* Records a failure before a sync could start (a password file that cannot be read). */
SG_API gboolean sg_caldav_record_failure (SgStore *store, SgCaldavAccount *account, const GError *failure,
                                          GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgCaldavAccount, sg_caldav_account_free)

G_END_DECLS
