/* sg-caldav.c: meetings from CalDAV calendars, through libcurl, answers read with libxml2.
 * See sg-caldav.h and docs/internals/caldav.md. */
#include "config.h"

#include "sg-caldav.h"
#include "sg-autocleanups.h"
#include "sg-caldav-private.h"
#include "sg-ical-private.h"
#include "sg-private.h"
#include "sg-source-private.h"

#include <curl/curl.h>
#include <string.h>

G_DEFINE_QUARK (sg-caldav-error-quark, sg_caldav_error)

/* Objects fetched per calendar-multiget. */
#define MULTIGET_BATCH 50
/* Calendars per account at most. */
#define MAX_CALENDARS 1000

struct _SgCaldavAccount {
  char *name;
  char *url;       /* as configured */
  char *uri;       /* the store's key: no password */
  char *user;
  char *password;
  char *ca_file;
  guint timeout;
  gsize max_response;
  SgCaldavStats stats;
};

/* --- the account -------------------------------------------------------------------------- */

static gboolean
is_loopback (const char *host)
{
  return g_ascii_strcasecmp (host, "localhost") == 0 || g_str_has_prefix (host, "127.") ||
         strcmp (host, "::1") == 0 || strcmp (host, "[::1]") == 0;
}

static char *
url_part (CURLU *u, CURLUPart part)
{
  char *v = NULL;
  char *copy;

  if (curl_url_get (u, part, &v, 0) != CURLUE_OK)
    return NULL;
  copy = g_strdup (v);
  curl_free (v);
  return copy;
}

SgCaldavAccount *
sg_caldav_account_new (const char *name, const char *url, GError **error)
{
  g_autoptr (SgCaldavAccount) a = g_new0 (SgCaldavAccount, 1);
  CURLU *u = curl_url ();
  g_autofree char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *user = NULL, *password = NULL;

  g_return_val_if_fail (name != NULL && url != NULL, NULL);
  a->name = g_strdup (name);
  a->url = g_strdup (url);
  a->timeout = SG_CALDAV_DEFAULT_TIMEOUT;
  a->max_response = SG_CALDAV_DEFAULT_MAX_RESPONSE;
  if (curl_url_set (u, CURLUPART_URL, url, 0) != CURLUE_OK) {
    curl_url_cleanup (u);
    g_set_error (error, SG_CALDAV_ERROR, SG_CALDAV_ERROR_URL, "%s: not a URL", url);
    return NULL;
  }
  scheme = url_part (u, CURLUPART_SCHEME);
  host = url_part (u, CURLUPART_HOST);
  port = url_part (u, CURLUPART_PORT);
  path = url_part (u, CURLUPART_PATH);
  user = url_part (u, CURLUPART_USER);
  password = url_part (u, CURLUPART_PASSWORD);
  curl_url_cleanup (u);
  if (scheme == NULL || (strcmp (scheme, "https") != 0 && strcmp (scheme, "http") != 0) || host == NULL) {
    g_set_error (error, SG_CALDAV_ERROR, SG_CALDAV_ERROR_URL, "%s: not an https:// URL", url);
    return NULL;
  }
  if (strcmp (scheme, "http") == 0 && !is_loopback (host)) {
    g_set_error (error, SG_CALDAV_ERROR, SG_CALDAV_ERROR_URL,
                 "%s: http:// would send the password in clear; use https:// (http:// is allowed to "
                 "loopback addresses only)", url);
    return NULL;
  }
  if (password != NULL) {
    g_set_error (error, SG_CALDAV_ERROR, SG_CALDAV_ERROR_URL,
                 "%s: a password in the URL; give it in the account's password-file instead", url);
    return NULL;
  }
  a->user = g_steal_pointer (&user);
  a->uri = g_strdup_printf ("%s://%s%s%s%s%s%s", scheme, a->user ? a->user : "", a->user ? "@" : "", host,
                            port ? ":" : "", port ? port : "", path ? path : "/");
  return g_steal_pointer (&a);
}

void
sg_caldav_account_free (SgCaldavAccount *a)
{
  if (a == NULL)
    return;
  g_free (a->name);
  g_free (a->url);
  g_free (a->uri);
  g_free (a->user);
  if (a->password)
    memset (a->password, 0, strlen (a->password));
  g_free (a->password);
  g_free (a->ca_file);
  g_free (a);
}

const char *
sg_caldav_account_get_name (const SgCaldavAccount *a)
{
  return a->name;
}

const char *
sg_caldav_account_get_uri (const SgCaldavAccount *a)
{
  return a->uri;
}

const SgCaldavStats *
sg_caldav_account_get_stats (const SgCaldavAccount *a)
{
  return &a->stats;
}

void
sg_caldav_account_set_user (SgCaldavAccount *a, const char *user)
{
  g_free (a->user);
  a->user = g_strdup (user);
}

void
sg_caldav_account_set_password (SgCaldavAccount *a, const char *password)
{
  if (a->password)
    memset (a->password, 0, strlen (a->password));
  g_free (a->password);
  a->password = g_strdup (password);
}

void
sg_caldav_account_set_ca_file (SgCaldavAccount *a, const char *path)
{
  g_free (a->ca_file);
  a->ca_file = g_strdup (path);
}

void
sg_caldav_account_set_timeout (SgCaldavAccount *a, guint seconds)
{
  a->timeout = MAX (seconds, 1u);
}

void
sg_caldav_account_set_max_response (SgCaldavAccount *a, gsize bytes)
{
  a->max_response = MAX (bytes, (gsize) 4096);
}

/* --- HTTP ------------------------------------------------------------------------------------ */

typedef struct {
  SgCaldavAccount *account;
  SgImporter *importer;
  SgStore *store;
  GCancellable *cancellable;
  gint64 source_id;
  CURL *curl;
  GString *body;
  gboolean too_large;
  long status;
  char *effective;   /* the URL that answered, after redirects */
  char errbuf[CURL_ERROR_SIZE];
} Sync;

static size_t
on_write (char *ptr, size_t size, size_t n, void *data)
{
  Sync *s = data;

  if (s->body->len + size * n > s->account->max_response) {
    s->too_large = TRUE;
    return 0;
  }
  g_string_append_len (s->body, ptr, (gssize) (size * n));
  return size * n;
}

static int
on_progress (void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  Sync *s = data;

  return g_cancellable_is_cancelled (s->cancellable) ? 1 : 0;
}

/* Sends @method to @url; the answer is in s->body, its status in s->status. FALSE only when
 * no HTTP answer came (or it was too large). */
static gboolean
http (Sync *s, const char *method, const char *url, const char *depth, const char *body, GError **error)
{
  g_autofree char *depth_header = depth ? g_strdup_printf ("Depth: %s", depth) : NULL;
  struct curl_slist *headers = NULL;
  char *eff = NULL;
  CURLcode rc;

  if (g_cancellable_set_error_if_cancelled (s->cancellable, error))
    return FALSE;
  if (s->curl == NULL) {
    static gsize done;

    /* curl_global_init() is not thread-safe: once, whatever thread comes first. */
    if (g_once_init_enter (&done)) {
      curl_global_init (CURL_GLOBAL_DEFAULT);
      g_once_init_leave (&done, 1);
    }
    s->curl = curl_easy_init ();
    if (s->curl == NULL) {
      g_set_error (error, SG_CALDAV_ERROR, SG_CALDAV_ERROR_CONNECT, "libcurl could not start");
      return FALSE;
    }
  } else {
    curl_easy_reset (s->curl);
  }
  g_string_truncate (s->body, 0);
  s->too_large = FALSE;
  s->status = 0;
  s->errbuf[0] = '\0';
  headers = curl_slist_append (headers, "Content-Type: application/xml; charset=utf-8");
  if (depth_header)
    headers = curl_slist_append (headers, depth_header);
  curl_easy_setopt (s->curl, CURLOPT_URL, url);
  curl_easy_setopt (s->curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (s->curl, CURLOPT_HTTPHEADER, headers);
  if (body != NULL) {
    curl_easy_setopt (s->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt (s->curl, CURLOPT_POSTFIELDSIZE, (long) strlen (body));
  }
  curl_easy_setopt (s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (s->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (s->curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (s->curl, CURLOPT_MAXREDIRS, 5L);
  /* A redirect must not turn the custom method into GET. */
  curl_easy_setopt (s->curl, CURLOPT_POSTREDIR, (long) CURL_REDIR_POST_ALL);
  curl_easy_setopt (s->curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (s->curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (s->account->ca_file)
    curl_easy_setopt (s->curl, CURLOPT_CAINFO, s->account->ca_file);
  if (s->account->user) {
    curl_easy_setopt (s->curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
    curl_easy_setopt (s->curl, CURLOPT_USERNAME, s->account->user);
    curl_easy_setopt (s->curl, CURLOPT_PASSWORD, s->account->password ? s->account->password : "");
  }
  curl_easy_setopt (s->curl, CURLOPT_CONNECTTIMEOUT, (long) s->account->timeout);
  /* A server that sends nothing for the timeout is given up; a large answer that keeps
   * coming is not. */
  curl_easy_setopt (s->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (s->curl, CURLOPT_LOW_SPEED_TIME, (long) s->account->timeout);
  curl_easy_setopt (s->curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (s->curl, CURLOPT_USERAGENT, "salesgetter/" PACKAGE_VERSION);
  curl_easy_setopt (s->curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt (s->curl, CURLOPT_WRITEDATA, s);
  curl_easy_setopt (s->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt (s->curl, CURLOPT_XFERINFODATA, s);
  curl_easy_setopt (s->curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (s->curl, CURLOPT_ERRORBUFFER, s->errbuf);
  rc = curl_easy_perform (s->curl);
  curl_slist_free_all (headers);
  curl_easy_getinfo (s->curl, CURLINFO_RESPONSE_CODE, &s->status);
  g_free (s->effective);
  s->effective = curl_easy_getinfo (s->curl, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff ? g_strdup (eff)
                                                                                                : g_strdup (url);
  if (rc == CURLE_OK)
    return TRUE;
  if (rc == CURLE_ABORTED_BY_CALLBACK && g_cancellable_set_error_if_cancelled (s->cancellable, error))
    return FALSE;
  {
    const char *why = s->errbuf[0] ? s->errbuf : curl_easy_strerror (rc);
    int code = SG_CALDAV_ERROR_CONNECT;

    switch (rc) {
    case CURLE_WRITE_ERROR:
      if (s->too_large) {
        g_set_error (error, SG_CALDAV_ERROR, SG_CALDAV_ERROR_TOO_LARGE,
                     "%s %s: the answer is over the cap of %" G_GSIZE_FORMAT " bytes", method, url,
                     s->account->max_response);
        return FALSE;
      }
      break;
    case CURLE_OPERATION_TIMEDOUT:
      code = SG_CALDAV_ERROR_TIMEOUT;
      g_set_error (error, SG_CALDAV_ERROR, code, "%s %s: no answer for %u s (%s)", method, url,
                   s->account->timeout, why);
      return FALSE;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      code = SG_CALDAV_ERROR_TLS;
      break;
    default:
      break;
    }
    g_set_error (error, SG_CALDAV_ERROR, code, "%s %s: %s", method, url, why);
    return FALSE;
  }
}

/* An error for an HTTP status that is not what was asked for. */
static gboolean
status_error (Sync *s, const char *method, const char *url, GError **error)
{
  int code = SG_CALDAV_ERROR_HTTP;
  const char *why = "";

  if (s->status == 401 || s->status == 403) {
    code = SG_CALDAV_ERROR_AUTH;
    why = s->status == 401 ? " (the user name or password is wrong)" : " (not allowed)";
  } else if (s->status == 404) {
    code = SG_CALDAV_ERROR_NOT_FOUND;
    why = " (not found)";
  }
  g_set_error (error, SG_CALDAV_ERROR, code, "%s %s: HTTP %ld%s", method, url, s->status, why);
  return FALSE;
}

/* Sends a PROPFIND or REPORT and reads its 207 answer. */
static SgDavMultistatus *
dav (Sync *s, const char *method, const char *url, const char *depth, const char *body, GError **error)
{
  g_autoptr (GError) local = NULL;
  SgDavMultistatus *ms;

  if (!http (s, method, url, depth, body, error))
    return NULL;
  if (s->status != 207) {
    status_error (s, method, url, error);
    return NULL;
  }
  ms = _sg_dav_parse_multistatus (s->body->str, s->body->len, &local);
  if (ms == NULL)
    g_set_error (error, SG_CALDAV_ERROR, SG_CALDAV_ERROR_PROTOCOL, "%s %s: %s", method, url, local->message);
  return ms;
}

/* @href resolved against @base. (transfer full) (nullable) */
static char *
resolve (const char *base, const char *href)
{
  CURLU *u = curl_url ();
  char *out = NULL;

  if (curl_url_set (u, CURLUPART_URL, base, 0) == CURLUE_OK &&
      curl_url_set (u, CURLUPART_URL, href, 0) == CURLUE_OK)
    out = url_part (u, CURLUPART_URL);
  curl_url_cleanup (u);
  return out;
}

/* The path of @url (what the store keys calendars and objects by). */
static char *
path_of (const char *url)
{
  CURLU *u = curl_url ();
  char *out = NULL;

  if (curl_url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK)
    out = url_part (u, CURLUPART_PATH);
  curl_url_cleanup (u);
  return out ? out : g_strdup (url);
}

static gboolean
same_path (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);

  while (la > 1 && a[la - 1] == '/')
    la--;
  while (lb > 1 && b[lb - 1] == '/')
    lb--;
  return la == lb && strncmp (a, b, la) == 0;
}

/* --- discovery ---------------------------------------------------------------------------------- */

static const char propfind_collection[] =
  "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
  "<d:propfind xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\" xmlns:cs=\"http://calendarserver.org/ns/\">"
  "<d:prop><d:resourcetype/><d:current-user-principal/><c:calendar-home-set/><d:displayname/>"
  "<c:supported-calendar-component-set/><cs:getctag/><d:sync-token/></d:prop></d:propfind>";

static const char propfind_etags[] =
  "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
  "<d:propfind xmlns:d=\"DAV:\"><d:prop><d:resourcetype/><d:getetag/></d:prop></d:propfind>";

typedef struct {
  char *url;    /* full URL */
  char *href;   /* its path: the store's key */
  char *name;
  char *ctag;
  char *token;
} Calendar;

static void
calendar_free (gpointer p)
{
  Calendar *c = p;

  g_free (c->url);
  g_free (c->href);
  g_free (c->name);
  g_free (c->ctag);
  g_free (c->token);
  g_free (c);
}

static Calendar *
calendar_from (const char *base, const SgDavResponse *r)
{
  Calendar *c = g_new0 (Calendar, 1);

  c->url = resolve (base, r->href);
  if (c->url == NULL)
    c->url = g_strdup (base);
  c->href = path_of (c->url);
  c->name = g_strdup (r->displayname);
  c->ctag = g_strdup (r->ctag);
  c->token = g_strdup (r->sync_token);
  return c;
}

/* The first response of a Depth 0 PROPFIND (the resource itself). */
static const SgDavResponse *
self_response (const SgDavMultistatus *ms)
{
  return ms->responses->len ? ms->responses->pdata[0] : NULL;
}

/* The calendars of the account: the URL itself if it is one, else every VEVENT calendar of
 * the calendar home found through the principal. */
static gboolean
discover (Sync *s, GPtrArray *calendars, GError **error)
{
  g_autoptr (SgDavMultistatus) ms = NULL;
  g_autoptr (GError) first = NULL;
  g_autofree char *home = NULL, *principal = NULL, *base = NULL;
  const SgDavResponse *r;

  ms = dav (s, "PROPFIND", s->account->url, "0", propfind_collection, &first);
  if (ms == NULL && (first->domain != SG_CALDAV_ERROR || first->code == SG_CALDAV_ERROR_CONNECT ||
                     first->code == SG_CALDAV_ERROR_TLS || first->code == SG_CALDAV_ERROR_TIMEOUT ||
                     first->code == SG_CALDAV_ERROR_AUTH || first->code == SG_CALDAV_ERROR_TOO_LARGE)) {
    g_propagate_error (error, g_steal_pointer (&first));
    return FALSE;
  }
  base = g_strdup (s->effective);
  r = ms ? self_response (ms) : NULL;
  if (r != NULL && r->calendar) {
    g_ptr_array_add (calendars, calendar_from (base, r));
    return TRUE;
  }
  if (r != NULL && r->home)
    home = resolve (base, r->home);
  else if (r != NULL && r->principal)
    principal = resolve (base, r->principal);
  if (home == NULL && principal == NULL) {
    /* RFC 6764: the server's well-known entry point. */
    g_autofree char *wk = resolve (s->account->url, "/.well-known/caldav");
    g_autoptr (SgDavMultistatus) w = NULL;

    w = wk ? dav (s, "PROPFIND", wk, "0", propfind_collection, NULL) : NULL;
    r = w ? self_response (w) : NULL;
    if (r != NULL && r->home)
      home = resolve (s->effective, r->home);
    else if (r != NULL && r->principal)
      principal = resolve (s->effective, r->principal);
    if (home == NULL && principal == NULL) {
      if (first != NULL)
        g_propagate_error (error, g_steal_pointer (&first));
      else
        g_set_error (error, SG_CALDAV_ERROR, SG_CALDAV_ERROR_NOT_FOUND,
                     "%s is no calendar and names no principal or calendar home (nor does /.well-known/caldav)",
                     s->account->url);
      return FALSE;
    }
  }
  if (home == NULL) {
    g_autoptr (SgDavMultistatus) p = dav (s, "PROPFIND", principal, "0", propfind_collection, error);

    if (p == NULL)
      return FALSE;
    r = self_response (p);
    if (r == NULL || r->home == NULL) {
      g_set_error (error, SG_CALDAV_ERROR, SG_CALDAV_ERROR_NOT_FOUND,
                   "the principal %s has no calendar-home-set", principal);
      return FALSE;
    }
    home = resolve (s->effective, r->home);
  }
  g_clear_pointer (&ms, _sg_dav_multistatus_free);
  ms = dav (s, "PROPFIND", home, "1", propfind_collection, error);
  if (ms == NULL)
    return FALSE;
  for (guint i = 0; i < ms->responses->len && calendars->len < MAX_CALENDARS; i++) {
    r = ms->responses->pdata[i];
    if (r->calendar && (!r->has_components || r->vevent))
      g_ptr_array_add (calendars, calendar_from (s->effective, r));
  }
  return TRUE;
}

/* --- the store --------------------------------------------------------------------------------- */

typedef struct {
  gboolean known;
  char *token;
  char *ctag;
} Stored;

static gboolean
load_calendar (Sync *s, const char *href, Stored *out, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (s->store,
      "SELECT sync_token, ctag FROM caldav_calendars WHERE source_id = ? AND href = ?", error);

  memset (out, 0, sizeof *out);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, s->source_id);
  sqlite3_bind_text (stmt, 2, href, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW) {
    out->known = TRUE;
    out->token = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
    out->ctag = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  }
  sqlite3_reset (stmt);
  return TRUE;
}

/* href -> etag of the objects stored from @calendar. */
static GHashTable *
load_etags (Sync *s, const char *calendar, GError **error)
{
  g_autoptr (GHashTable) etags = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  sqlite3_stmt *stmt = _sg_store_prepare (s->store,
      "SELECT href, coalesce(etag, '') FROM caldav_objects WHERE source_id = ? AND calendar = ?", error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, s->source_id);
  sqlite3_bind_text (stmt, 2, calendar, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_hash_table_insert (etags, g_strdup ((const char *) sqlite3_column_text (stmt, 0)),
                         g_strdup ((const char *) sqlite3_column_text (stmt, 1)));
  sqlite3_reset (stmt);
  return g_steal_pointer (&etags);
}

/* Begins a change to the object @href (in the importer's batch) and reads the UIDs it held.
 * Returns: (transfer full): the UIDs, empty when @found is FALSE; NULL with @error. */
static char **
begin_object (Sync *s, const char *href, gboolean *found, GError **error)
{
  sqlite3_stmt *stmt;
  char **uids = NULL;

  *found = FALSE;
  if (!_sg_importer_begin (s->importer, error))
    return NULL;
  stmt = _sg_store_prepare (s->store,
      "SELECT uids FROM caldav_objects WHERE source_id = ? AND href = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, s->source_id);
  sqlite3_bind_text (stmt, 2, href, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW) {
    *found = TRUE;
    uids = g_strsplit ((const char *) sqlite3_column_text (stmt, 0), " ", -1);
  }
  sqlite3_reset (stmt);
  return uids ? uids : g_new0 (char *, 1);
}

/* Whether another stored CalDAV object (of any account) holds @uid. */
static gboolean
uid_held_elsewhere (Sync *s, const char *uid, const char *href, gboolean *held, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (s->store,
      "SELECT 1 FROM caldav_objects WHERE (' ' || uids || ' ') LIKE ('% ' || ?1 || ' %') ESCAPE '\\' "
      "AND NOT (source_id = ?2 AND href = ?3) LIMIT 1", error);
  g_autoptr (GString) pattern = g_string_new (NULL);

  if (stmt == NULL)
    return FALSE;
  for (const char *p = uid; *p; p++) {
    if (*p == '%' || *p == '_' || *p == '\\')
      g_string_append_c (pattern, '\\');
    g_string_append_c (pattern, *p);
  }
  sqlite3_bind_text (stmt, 1, pattern->str, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, s->source_id);
  sqlite3_bind_text (stmt, 3, href, -1, SQLITE_STATIC);
  *held = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  return TRUE;
}

/* Removes the meetings of @uids that no other object holds. */
static gboolean
delete_uids (Sync *s, char **uids, const char *href, GPtrArray *keep, GError **error)
{
  for (guint i = 0; uids[i]; i++) {
    gboolean held = FALSE;

    if (*uids[i] == '\0' || (keep && g_ptr_array_find_with_equal_func (keep, uids[i], g_str_equal, NULL)))
      continue;
    if (!uid_held_elsewhere (s, uids[i], href, &held, error))
      return FALSE;
    if (!held && !_sg_ical_delete_uid (s->importer, uids[i], NULL, error))
      return FALSE;
  }
  return TRUE;
}

/* An object gone from the server: its meetings go, with delete ops. */
static gboolean
delete_object (Sync *s, const char *href, GError **error)
{
  gboolean found = FALSE;
  g_auto (GStrv) uids = NULL;
  sqlite3_stmt *stmt;

  uids = begin_object (s, href, &found, error);
  if (uids == NULL)
    return FALSE;
  if (!found)
    return TRUE;
  stmt = _sg_store_prepare (s->store, "DELETE FROM caldav_objects WHERE source_id = ? AND href = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, s->source_id);
  sqlite3_bind_text (stmt, 2, href, -1, SQLITE_STATIC);
  if (!_sg_store_exec_stmt (s->store, stmt, error) || !delete_uids (s, uids, href, NULL, error))
    return FALSE;
  s->account->stats.removed++;
  return _sg_importer_done_one (s->importer, error);
}

/* A fetched object: imported as the server's current copy, then its ETag and UIDs kept. */
static gboolean
store_object (Sync *s, const Calendar *cal, const char *href, const char *url, const char *etag,
              const char *data, GError **error)
{
  g_autoptr (GPtrArray) uids = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) old = NULL;
  g_autofree char *joined = NULL;
  gboolean found = FALSE;
  sqlite3_stmt *stmt;

  old = begin_object (s, href, &found, error);
  if (old == NULL)
    return FALSE;
  if (!_sg_ical_import_object (s->importer, data, strlen (data), s->source_id, url, uids, error))
    return FALSE;
  /* A UID the object held before and holds no more (its event was replaced) goes. */
  if (!delete_uids (s, old, href, uids, error))
    return FALSE;
  g_ptr_array_add (uids, NULL);
  joined = g_strjoinv (" ", (char **) uids->pdata);
  stmt = _sg_store_prepare (s->store,
      "INSERT INTO caldav_objects (source_id, calendar, href, etag, uids) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (source_id, href) DO UPDATE SET calendar = excluded.calendar, etag = excluded.etag, "
      "uids = excluded.uids", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, s->source_id);
  sqlite3_bind_text (stmt, 2, cal->href, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, href, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, etag, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, joined, -1, SQLITE_STATIC);
  if (!_sg_store_exec_stmt (s->store, stmt, error))
    return FALSE;
  s->account->stats.fetched++;
  return _sg_importer_done_one (s->importer, error);
}

static gboolean
save_calendar (Sync *s, const Calendar *cal, const char *token, const char *ctag, GError **error)
{
  sqlite3_stmt *stmt;

  if (!_sg_importer_begin (s->importer, error))
    return FALSE;
  stmt = _sg_store_prepare (s->store,
      "INSERT INTO caldav_calendars (source_id, href, display_name, sync_token, ctag, objects, last_sync) "
      "VALUES (?1, ?2, ?3, ?4, ?5, (SELECT count(*) FROM caldav_objects WHERE source_id = ?1 AND calendar = ?2), ?6) "
      "ON CONFLICT (source_id, href) DO UPDATE SET display_name = excluded.display_name, "
      "sync_token = excluded.sync_token, ctag = excluded.ctag, objects = excluded.objects, "
      "last_sync = excluded.last_sync", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, s->source_id);
  sqlite3_bind_text (stmt, 2, cal->href, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, cal->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, token, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, ctag, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 6, g_get_real_time () / G_USEC_PER_SEC);
  return _sg_store_exec_stmt (s->store, stmt, error) && sg_importer_flush (s->importer, error);
}

/* --- sync ------------------------------------------------------------------------------------------ */

/* Fetches @hrefs (paths) with calendar-multiget, in batches, and stores each. An href the
 * server answers 404 for is gone. */
static gboolean
fetch_objects (Sync *s, const Calendar *cal, GPtrArray *hrefs, GError **error)
{
  for (guint start = 0; start < hrefs->len; start += MULTIGET_BATCH) {
    g_autoptr (GString) body = g_string_new (
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
      "<c:calendar-multiget xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\">"
      "<d:prop><d:getetag/><c:calendar-data/></d:prop>");
    g_autoptr (SgDavMultistatus) ms = NULL;
    g_autoptr (GHashTable) asked = g_hash_table_new (g_str_hash, g_str_equal);

    for (guint i = start; i < hrefs->len && i < start + MULTIGET_BATCH; i++) {
      g_autofree char *esc = g_markup_escape_text (hrefs->pdata[i], -1);

      g_string_append_printf (body, "<d:href>%s</d:href>", esc);
      g_hash_table_add (asked, hrefs->pdata[i]);
    }
    g_string_append (body, "</c:calendar-multiget>");
    ms = dav (s, "REPORT", cal->url, "1", body->str, error);
    if (ms == NULL)
      return FALSE;
    for (guint i = 0; i < ms->responses->len; i++) {
      const SgDavResponse *r = ms->responses->pdata[i];
      g_autofree char *url = resolve (s->effective, r->href);
      g_autofree char *href = url ? path_of (url) : NULL;

      if (href == NULL || !g_hash_table_remove (asked, href))
        continue;
      if (r->calendar_data != NULL) {
        if (!store_object (s, cal, href, url, r->etag, r->calendar_data, error))
          return FALSE;
      } else if (r->status == 404) {
        if (!delete_object (s, href, error))
          return FALSE;
      } else {
        g_autoptr (GError) bad = g_error_new (SG_CALDAV_ERROR, SG_CALDAV_ERROR_PROTOCOL,
                                              "the server sent no calendar-data (status %d)", r->status);

        _sg_importer_problem (s->importer, s->source_id, url, bad);
      }
    }
    /* Each batch is committed: a sync that fails or is killed later keeps it, and the next
     * one skips its objects by their ETags. */
    if (!sg_importer_flush (s->importer, error))
      return FALSE;
  }
  return TRUE;
}

/* Full resync: every ETag listed, compared with the store's; new and changed objects are
 * fetched, the stored ones no longer listed removed. */
static gboolean
full_sync (Sync *s, const Calendar *cal, GError **error)
{
  g_autoptr (SgDavMultistatus) ms = dav (s, "PROPFIND", cal->url, "1", propfind_etags, error);
  g_autoptr (GHashTable) stored = NULL;
  g_autoptr (GPtrArray) changed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) listed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter it;
  gpointer key, value;

  if (ms == NULL)
    return FALSE;
  stored = load_etags (s, cal->href, error);
  if (stored == NULL)
    return FALSE;
  for (guint i = 0; i < ms->responses->len; i++) {
    const SgDavResponse *r = ms->responses->pdata[i];
    g_autofree char *url = resolve (s->effective, r->href);
    char *href = url ? path_of (url) : NULL;
    const char *old;

    if (href == NULL || r->collection || same_path (href, cal->href)) {
      g_free (href);
      continue;
    }
    old = g_hash_table_lookup (stored, href);
    if (old == NULL || r->etag == NULL || strcmp (old, r->etag) != 0)
      g_ptr_array_add (changed, g_strdup (href));
    g_hash_table_add (listed, href);
  }
  if (!fetch_objects (s, cal, changed, error))
    return FALSE;
  g_hash_table_iter_init (&it, stored);
  while (g_hash_table_iter_next (&it, &key, &value))
    if (!g_hash_table_contains (listed, key) && !delete_object (s, key, error))
      return FALSE;
  return TRUE;
}

/* RFC 6578 sync-collection from @token. *@invalid is set when the server no longer accepts
 * the token (a full resync follows). Returns the new token in *@new_token. */
static gboolean
incremental_sync (Sync *s, const Calendar *cal, const char *token, gboolean *invalid, char **new_token,
                  GError **error)
{
  g_autofree char *esc = g_markup_escape_text (token, -1);
  g_autofree char *body = g_strdup_printf (
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<d:sync-collection xmlns:d=\"DAV:\"><d:sync-token>%s</d:sync-token><d:sync-level>1</d:sync-level>"
    "<d:prop><d:getetag/></d:prop></d:sync-collection>", esc);
  g_autoptr (SgDavMultistatus) ms = NULL;
  g_autoptr (GHashTable) stored = NULL;
  g_autoptr (GPtrArray) changed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) local = NULL;

  *invalid = FALSE;
  if (!http (s, "REPORT", cal->url, "0", body, error))
    return FALSE;
  if ((s->status == 403 || s->status == 409) && _sg_dav_is_invalid_sync_token (s->body->str, s->body->len)) {
    *invalid = TRUE;
    return TRUE;
  }
  if (s->status != 207)
    return status_error (s, "REPORT", cal->url, error);
  ms = _sg_dav_parse_multistatus (s->body->str, s->body->len, &local);
  if (ms == NULL) {
    g_set_error (error, SG_CALDAV_ERROR, SG_CALDAV_ERROR_PROTOCOL, "REPORT %s: %s", cal->url, local->message);
    return FALSE;
  }
  stored = load_etags (s, cal->href, error);
  if (stored == NULL)
    return FALSE;
  for (guint i = 0; i < ms->responses->len; i++) {
    const SgDavResponse *r = ms->responses->pdata[i];
    g_autofree char *url = resolve (s->effective, r->href);
    g_autofree char *href = url ? path_of (url) : NULL;
    const char *old;

    if (href == NULL || same_path (href, cal->href))
      continue;
    if (r->status == 404) {
      if (!delete_object (s, href, error))
        return FALSE;
      continue;
    }
    old = g_hash_table_lookup (stored, href);
    if (old == NULL || r->etag == NULL || strcmp (old, r->etag) != 0)
      g_ptr_array_add (changed, g_steal_pointer (&href));
  }
  if (!fetch_objects (s, cal, changed, error))
    return FALSE;
  *new_token = g_strdup (ms->sync_token);
  return TRUE;
}

static gboolean
sync_calendar (Sync *s, const Calendar *cal, GError **error)
{
  Stored st;
  g_autofree char *token = NULL;
  gboolean invalid = FALSE, done = FALSE;

  if (!load_calendar (s, cal->href, &st, error))
    return FALSE;
  if (st.known && (cal->ctag || cal->token) && g_strcmp0 (st.ctag, cal->ctag) == 0 &&
      g_strcmp0 (st.token, cal->token) == 0) {
    /* Nothing changed since the last sync. */
    done = TRUE;
    s->account->stats.unchanged++;
    token = g_strdup (st.token);
  } else if (st.known && st.token != NULL) {
    if (!incremental_sync (s, cal, st.token, &invalid, &token, error))
      goto fail;
    done = !invalid;
    if (invalid)
      s->account->stats.resyncs++;
  }
  if (!done) {
    if (!full_sync (s, cal, error))
      goto fail;
    g_free (token);
    /* The token of the listing before the resync: changes made meanwhile come again. */
    token = g_strdup (cal->token);
  }
  g_free (st.token);
  g_free (st.ctag);
  return save_calendar (s, cal, token, cal->ctag, error);

fail:
  g_free (st.token);
  g_free (st.ctag);
  return FALSE;
}

/* Calendars stored but no longer on the server: their objects and meetings go. */
static gboolean
forget_calendars (Sync *s, GPtrArray *calendars, GError **error)
{
  g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt = _sg_store_prepare (s->store, "SELECT href FROM caldav_calendars WHERE source_id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, s->source_id);
  while (sqlite3_step (stmt) == SQLITE_ROW) {
    const char *href = (const char *) sqlite3_column_text (stmt, 0);
    gboolean listed = FALSE;

    for (guint i = 0; i < calendars->len && !listed; i++)
      listed = strcmp (((Calendar *) calendars->pdata[i])->href, href) == 0;
    if (!listed)
      g_ptr_array_add (gone, g_strdup (href));
  }
  sqlite3_reset (stmt);
  for (guint i = 0; i < gone->len; i++) {
    g_autoptr (GHashTable) objects = load_etags (s, gone->pdata[i], error);
    GHashTableIter it;
    gpointer key;

    if (objects == NULL)
      return FALSE;
    g_hash_table_iter_init (&it, objects);
    while (g_hash_table_iter_next (&it, &key, NULL))
      if (!delete_object (s, key, error))
        return FALSE;
    if (!_sg_importer_begin (s->importer, error))
      return FALSE;
    stmt = _sg_store_prepare (s->store, "DELETE FROM caldav_calendars WHERE source_id = ? AND href = ?", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, s->source_id);
    sqlite3_bind_text (stmt, 2, gone->pdata[i], -1, SQLITE_STATIC);
    if (!_sg_store_exec_stmt (s->store, stmt, error) || !sg_importer_flush (s->importer, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
run_sync (Sync *s, GError **error)
{
  g_autoptr (GPtrArray) calendars = g_ptr_array_new_with_free_func (calendar_free);

  if (!discover (s, calendars, error))
    return FALSE;
  if (calendars->len == 0) {
    g_set_error (error, SG_CALDAV_ERROR, SG_CALDAV_ERROR_NOT_FOUND, "%s: no calendar with events found",
                 s->account->url);
    return FALSE;
  }
  s->account->stats.calendars = calendars->len;
  for (guint i = 0; i < calendars->len; i++)
    if (!sync_calendar (s, calendars->pdata[i], error))
      return FALSE;
  return forget_calendars (s, calendars, error);
}

/* --- status ------------------------------------------------------------------------------------------ */

gboolean
sg_caldav_record_failure (SgStore *store, SgCaldavAccount *account, const GError *failure, GError **error)
{
  return _sg_source_record_failure (store, "caldav", account->uri, account->name, failure, error);
}

gboolean
sg_caldav_account_sync (SgCaldavAccount *account, SgImporter *importer, GCancellable *cancellable, GError **error)
{
  Sync s = { 0 };
  g_autoptr (GError) local = NULL;
  gboolean ok;

  g_return_val_if_fail (account != NULL && importer != NULL, FALSE);
  s.account = account;
  s.importer = importer;
  s.cancellable = cancellable;
  s.store = _sg_importer_get_store (importer);
  memset (&account->stats, 0, sizeof account->stats);
  if (!sg_importer_flush (importer, error))
    return FALSE;
  s.source_id = _sg_source_ensure (s.store, "caldav", account->uri, error);
  if (s.source_id == 0 || !_sg_source_write_status (s.store, s.source_id, account->name, NULL, TRUE, -1, error))
    return FALSE;
  s.body = g_string_new (NULL);
  ok = run_sync (&s, &local);
  if (ok || local->domain != SG_STORE_ERROR) {
    /* What was stored before a failure is kept. */
    g_autoptr (GError) flush_error = NULL;

    if (!sg_importer_flush (importer, &flush_error) && ok) {
      ok = FALSE;
      local = g_steal_pointer (&flush_error);
    }
  } else {
    _sg_importer_abandon (importer);
  }
  if (s.curl)
    curl_easy_cleanup (s.curl);
  g_string_free (s.body, TRUE);
  g_free (s.effective);
  if (!ok) {
    if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
    _sg_source_write_status (s.store, s.source_id, account->name, local, FALSE, -1, NULL);
    g_set_error (error, local->domain, local->code, "CalDAV account %s (%s): %s", account->name, account->uri,
                 local->message);
    return FALSE;
  }
  return _sg_source_write_status (s.store, s.source_id, account->name, NULL, FALSE, -1, error);
}
