/* sg-imap.c: the IMAP source. libcurl connects, does TLS (imaps or STARTTLS) with
 * verification, and logs in; the commands of a sync then run over that connection.
 *
 * Why not libcurl's IMAP URLs for the fetches: libcurl 7.88 (Debian 12) fetches
 * imap://host/INBOX;UID=n with "UID FETCH n BODY[]", which sets \Seen on the server (it has
 * no PEEK form, and ;SECTION= only changes what is inside the brackets); and a custom
 * request (CURLOPT_CUSTOMREQUEST "UID FETCH n BODY.PEEK[]") is read as a listing, line by
 * line, without literal framing: only the first line reaches the write callback, long lines
 * are clipped, and a line of the message that looks like the command's tagged answer ends
 * the response early (curl issues #1150, #18847, #22865). So the connection is made with
 * CURLOPT_CONNECT_ONLY, which in libcurl runs the whole IMAP connect phase (greeting,
 * CAPABILITY, STARTTLS, SASL or LOGIN) and stops before the first transfer, and the
 * commands (LIST, EXAMINE, UID FETCH ... BODY.PEEK[]) are sent with curl_easy_send() and their
 * responses read with curl_easy_recv(), with literals counted as IMAP frames them.
 * See docs/internals/imap.md. */
#include "config.h"

#include "sg-imap.h"
#include "sg-message.h"
#include "sg-private.h"
#include "sg-source-private.h"
#include "sg-autocleanups.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

/* Caps on what the server sends (STYLE.md 8). */
#define MAX_LINE_BYTES ((gsize) 1024 * 1024)      /* one response, literals aside */
#define MAX_LITERALS 16                            /* literals in one response */
#define MAX_LITERAL_BYTES (SG_MESSAGE_MAX_SIZE)    /* one literal kept; larger ones are read and dropped */
/* A UID FETCH of bodies asks for at most this many messages, or this many bytes. */
/* What one sync takes from a server at most: folders listed, new UIDs per folder. */
#define MAX_FOLDERS 10000
#define MAX_NEW_UIDS (4 * 1024 * 1024)
#define FETCH_CHUNK_MESSAGES 200
#define FETCH_CHUNK_BYTES ((guint64) 32 * 1024 * 1024)
/* With a batch open, the store is committed when the server keeps us waiting this long,
 * so that no write lock is held across a slow network. */
#define IDLE_FLUSH_MS 100
#define DEFAULT_TIMEOUT_S 60

G_DEFINE_QUARK (sg-imap-error-quark, sg_imap_error)

struct _SgImapAccount {
  char *name;
  char *scheme;  /* imap or imaps */
  char *host;
  guint port;
  char *user;
  char *password;
  char *token;
  char *ca_file;
  char *uri;     /* scheme://user@host:port/ */
  GPtrArray *include; /* GPatternSpec */
  GPtrArray *exclude;
  char **sent;
  guint timeout_s;
};

/* --- the account --------------------------------------------------------------------------- */

static void
update_uri (SgImapAccount *a)
{
  g_autofree char *user = a->user ? g_uri_escape_string (a->user, NULL, FALSE) : NULL;
  gboolean v6 = strchr (a->host, ':') != NULL;

  g_free (a->uri);
  a->uri = g_strdup_printf ("%s://%s%s%s%s%s:%u/", a->scheme, user ? user : "", user ? "@" : "",
                            v6 ? "[" : "", a->host, v6 ? "]" : "", a->port);
}

/* @url with a password in it replaced by "***", for messages. */
static char *
redact (const char *url)
{
  const char *start = strstr (url, "://"), *at, *colon;

  if (start == NULL)
    return g_strdup (url);
  start += 3;
  at = strchr (start, '@');
  colon = at ? memchr (start, ':', (gsize) (at - start)) : NULL;
  if (colon == NULL)
    return g_strdup (url);
  return g_strdup_printf ("%.*s***%s", (int) (colon + 1 - url), url, at);
}

SgImapAccount *
sg_imap_account_new (const char *name, const char *url_in, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *url = NULL;
  SgImapAccount *a;
  const char *scheme;

  g_return_val_if_fail (name != NULL && url_in != NULL, NULL);
  url = redact (url_in);
  uri = g_uri_parse (url_in, G_URI_FLAGS_HAS_PASSWORD, &local);
  if (uri == NULL) {
    g_set_error (error, SG_IMAP_ERROR, SG_IMAP_ERROR_URL, "account %s: %s: not a URL", name, url);
    return NULL;
  }
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "imap") != 0 && g_ascii_strcasecmp (scheme, "imaps") != 0) {
    g_set_error (error, SG_IMAP_ERROR, SG_IMAP_ERROR_URL,
                 "account %s: %s: not an imap:// or imaps:// URL", name, url);
    return NULL;
  }
  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0') {
    g_set_error (error, SG_IMAP_ERROR, SG_IMAP_ERROR_URL, "account %s: %s: no host", name, url);
    return NULL;
  }
  if (g_uri_get_password (uri) != NULL) {
    g_set_error (error, SG_IMAP_ERROR, SG_IMAP_ERROR_URL,
                 "account %s: %s: a password in the URL would be shown wherever the URL is; "
                 "give it as password or password-command", name, url);
    return NULL;
  }
  if (*g_uri_get_path (uri) != '\0' && strcmp (g_uri_get_path (uri), "/") != 0) {
    g_set_error (error, SG_IMAP_ERROR, SG_IMAP_ERROR_URL,
                 "account %s: %s: the URL names a folder; choose folders with folders-include", name, url);
    return NULL;
  }
  a = g_new0 (SgImapAccount, 1);
  a->name = g_strdup (name);
  a->scheme = g_ascii_strdown (scheme, -1);
  a->host = g_strdup (g_uri_get_host (uri));
  a->port = g_uri_get_port (uri) > 0 ? (guint) g_uri_get_port (uri)
                                      : strcmp (a->scheme, "imaps") == 0 ? 993 : 143;
  a->user = g_strdup (g_uri_get_user (uri));
  a->include = g_ptr_array_new_with_free_func ((GDestroyNotify) g_pattern_spec_free);
  a->exclude = g_ptr_array_new_with_free_func ((GDestroyNotify) g_pattern_spec_free);
  a->sent = g_new0 (char *, 1);
  a->timeout_s = DEFAULT_TIMEOUT_S;
  update_uri (a);
  return a;
}

void
sg_imap_account_free (SgImapAccount *account)
{
  if (account == NULL)
    return;
  g_free (account->name);
  g_free (account->scheme);
  g_free (account->host);
  g_free (account->user);
  if (account->password)
    memset (account->password, 0, strlen (account->password));
  g_free (account->password);
  if (account->token)
    memset (account->token, 0, strlen (account->token));
  g_free (account->token);
  g_free (account->ca_file);
  g_free (account->uri);
  g_ptr_array_unref (account->include);
  g_ptr_array_unref (account->exclude);
  g_strfreev (account->sent);
  g_free (account);
}

const char *
sg_imap_account_get_name (const SgImapAccount *account)
{
  return account->name;
}

const char *
sg_imap_account_get_uri (const SgImapAccount *account)
{
  return account->uri;
}

void
sg_imap_account_set_user (SgImapAccount *account, const char *user)
{
  g_free (account->user);
  account->user = g_strdup (user);
  update_uri (account);
}

void
sg_imap_account_set_password (SgImapAccount *account, const char *password)
{
  g_free (account->password);
  account->password = g_strdup (password);
}

void
sg_imap_account_set_oauth2_token (SgImapAccount *account, const char *token)
{
  g_free (account->token);
  account->token = g_strdup (token);
}

void
sg_imap_account_set_ca_file (SgImapAccount *account, const char *path)
{
  g_free (account->ca_file);
  account->ca_file = g_strdup (path);
}

void
sg_imap_account_set_folders (SgImapAccount *account, const char *const *include, const char *const *exclude)
{
  g_ptr_array_set_size (account->include, 0);
  g_ptr_array_set_size (account->exclude, 0);
  for (guint i = 0; include && include[i]; i++)
    g_ptr_array_add (account->include, g_pattern_spec_new (include[i]));
  for (guint i = 0; exclude && exclude[i]; i++)
    g_ptr_array_add (account->exclude, g_pattern_spec_new (exclude[i]));
}

void
sg_imap_account_set_sent_folders (SgImapAccount *account, const char *const *folders)
{
  g_strfreev (account->sent);
  account->sent = g_strdupv ((char **) folders);
  if (account->sent == NULL)
    account->sent = g_new0 (char *, 1);
}

void
sg_imap_account_set_timeout (SgImapAccount *account, guint seconds)
{
  account->timeout_s = seconds > 0 ? seconds : DEFAULT_TIMEOUT_S;
}

/* --- the connection ------------------------------------------------------------------------ */

typedef gboolean (*IdleFunc) (gpointer data, GError **error);

typedef struct {
  const SgImapAccount *account;
  CURL *curl;
  curl_socket_t sock;
  char errbuf[CURL_ERROR_SIZE];
  GByteArray *in;      /* received, not yet parsed: bytes [pos, len) */
  gsize pos;
  guint tag;
  GCancellable *cancellable;
  IdleFunc idle;       /* called once when a read would wait (commits the store) */
  gpointer idle_data;
  gboolean broken;     /* the stream can no longer be trusted: no LOGOUT */
  char *capabilities;  /* the CAPABILITY answer, upper case */
} Conn;

/* One response: its text, where each literal shows as {N}, and the literals. */
typedef struct {
  GString *text;
  GPtrArray *literals; /* GBytes, or NULL for a literal over the cap (read and dropped) */
} Response;

static void
response_clear (Response *r)
{
  if (r->text)
    g_string_free (r->text, TRUE);
  if (r->literals)
    g_ptr_array_unref (r->literals);
  r->text = NULL;
  r->literals = NULL;
}

static void
literal_free (gpointer p)
{
  if (p)
    g_bytes_unref (p);
}

static gboolean
fail (Conn *c, GError **error, SgImapError code, const char *format, ...) G_GNUC_PRINTF (4, 5);

static gboolean
fail (Conn *c, GError **error, SgImapError code, const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  c->broken = TRUE;
  g_set_error (error, SG_IMAP_ERROR, code, "%s", msg);
  return FALSE;
}

static void
curl_init_once (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    curl_global_init (CURL_GLOBAL_DEFAULT);
    g_once_init_leave (&done, 1);
  }
}

static SgImapError
code_for_curl (CURLcode rc)
{
  switch (rc) {
  case CURLE_LOGIN_DENIED:
  case CURLE_AUTH_ERROR:
    return SG_IMAP_ERROR_AUTH;
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_USE_SSL_FAILED:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
    return SG_IMAP_ERROR_TLS;
  case CURLE_OPERATION_TIMEDOUT:
    return SG_IMAP_ERROR_TIMEOUT;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_COULDNT_RESOLVE_PROXY:
    return SG_IMAP_ERROR_CONNECT;
  case CURLE_GOT_NOTHING:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
    return SG_IMAP_ERROR_CLOSED;
  default:
    return SG_IMAP_ERROR_PROTOCOL;
  }
}

static gboolean
conn_open (Conn *c, const SgImapAccount *a, GCancellable *cancellable, GError **error)
{
  g_autofree char *url = NULL;
  gboolean v6 = strchr (a->host, ':') != NULL;
  CURLcode rc;

  curl_init_once ();
  c->account = a;
  c->cancellable = cancellable;
  c->in = g_byte_array_new ();
  c->sock = CURL_SOCKET_BAD;
  c->curl = curl_easy_init ();
  if (c->curl == NULL)
    return fail (c, error, SG_IMAP_ERROR_CONNECT, "cannot start libcurl");
  url = g_strdup_printf ("%s://%s%s%s:%u/", a->scheme, v6 ? "[" : "", a->host, v6 ? "]" : "", a->port);
  curl_easy_setopt (c->curl, CURLOPT_URL, url);
  curl_easy_setopt (c->curl, CURLOPT_PROTOCOLS_STR, "imap,imaps");
  curl_easy_setopt (c->curl, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt (c->curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
  /* imap://: STARTTLS or nothing. imaps:// is TLS from the first byte anyway. */
  curl_easy_setopt (c->curl, CURLOPT_USE_SSL, (long) CURLUSESSL_ALL);
  curl_easy_setopt (c->curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (c->curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (a->ca_file)
    curl_easy_setopt (c->curl, CURLOPT_CAINFO, a->ca_file);
  curl_easy_setopt (c->curl, CURLOPT_CONNECTTIMEOUT, (long) MIN (a->timeout_s, 30));
  curl_easy_setopt (c->curl, CURLOPT_SERVER_RESPONSE_TIMEOUT, (long) a->timeout_s);
  if (a->user)
    curl_easy_setopt (c->curl, CURLOPT_USERNAME, a->user);
  if (a->token) {
    curl_easy_setopt (c->curl, CURLOPT_XOAUTH2_BEARER, a->token);
    curl_easy_setopt (c->curl, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
  } else if (a->password) {
    curl_easy_setopt (c->curl, CURLOPT_PASSWORD, a->password);
  }
  rc = curl_easy_perform (c->curl);
  if (rc != CURLE_OK) {
    const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror (rc);
    SgImapError code = code_for_curl (rc);

    /* libcurl says "Login denied" for a refused LOGIN and a failed SASL exchange alike. */
    return fail (c, error, code, "%s%s", code == SG_IMAP_ERROR_AUTH ? "login refused: " : "", why);
  }
  if (curl_easy_getinfo (c->curl, CURLINFO_ACTIVESOCKET, &c->sock) != CURLE_OK || c->sock == CURL_SOCKET_BAD)
    return fail (c, error, SG_IMAP_ERROR_CONNECT, "libcurl gave no connection");
  return TRUE;
}

static void
conn_close (Conn *c)
{
  if (c->curl) {
    /* libcurl logs out on its own when the connection is closed; after a failure the
     * stream is not trusted, so it is cut first and libcurl's LOGOUT fails at once. */
    if (c->broken && c->sock != CURL_SOCKET_BAD)
      shutdown (c->sock, SHUT_RDWR);
    curl_easy_cleanup (c->curl);
  }
  c->curl = NULL;
  if (c->in)
    g_byte_array_unref (c->in);
  c->in = NULL;
  g_clear_pointer (&c->capabilities, g_free);
}

/* Waits until the socket is ready for @events, in slices so that cancellation is seen and
 * the idle function runs once when there is a wait. */
static gboolean
wait_socket (Conn *c, short events, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) c->account->timeout_s * G_USEC_PER_SEC;
  gboolean idled = FALSE;

  for (;;) {
    struct pollfd pfd = { .fd = c->sock, .events = events };
    int n = poll (&pfd, 1, IDLE_FLUSH_MS);

    if (n > 0)
      return TRUE;
    if (n < 0 && errno != EINTR)
      return fail (c, error, SG_IMAP_ERROR_CLOSED, "connection lost: %s", g_strerror (errno));
    if (g_cancellable_set_error_if_cancelled (c->cancellable, error)) {
      c->broken = TRUE;
      return FALSE;
    }
    if (!idled && c->idle) {
      idled = TRUE;
      if (!c->idle (c->idle_data, error)) {
        c->broken = TRUE;
        return FALSE;
      }
    }
    if (g_get_monotonic_time () > deadline)
      return fail (c, error, SG_IMAP_ERROR_TIMEOUT, "the server sent nothing for %u seconds",
                   c->account->timeout_s);
  }
}

static gboolean
conn_send (Conn *c, const char *data, gsize len, GError **error)
{
  gsize sent = 0;

  while (sent < len) {
    size_t n = 0;
    CURLcode rc = curl_easy_send (c->curl, data + sent, len - sent, &n);

    if (rc == CURLE_AGAIN) {
      if (!wait_socket (c, POLLOUT, error))
        return FALSE;
      continue;
    }
    if (rc != CURLE_OK)
      return fail (c, error, SG_IMAP_ERROR_CLOSED, "cannot send to the server: %s",
                   c->errbuf[0] ? c->errbuf : curl_easy_strerror (rc));
    sent += n;
  }
  return TRUE;
}

/* Reads more bytes into c->in. */
static gboolean
conn_fill (Conn *c, GError **error)
{
  guint8 buf[64 * 1024];

  /* Compact what was parsed already. */
  if (c->pos > 0 && c->pos >= c->in->len / 2) {
    g_byte_array_remove_range (c->in, 0, (guint) c->pos);
    c->pos = 0;
  }
  for (;;) {
    size_t n = 0;
    CURLcode rc = curl_easy_recv (c->curl, buf, sizeof buf, &n);

    if (rc == CURLE_AGAIN) {
      if (!wait_socket (c, POLLIN, error))
        return FALSE;
      continue;
    }
    if (rc != CURLE_OK)
      return fail (c, error, SG_IMAP_ERROR_CLOSED, "connection lost: %s",
                   c->errbuf[0] ? c->errbuf : curl_easy_strerror (rc));
    if (n == 0)
      return fail (c, error, SG_IMAP_ERROR_CLOSED, "the server closed the connection");
    g_byte_array_append (c->in, buf, (guint) n);
    return TRUE;
  }
}

/* A printable excerpt of what the server sent, for errors. */
static char *
excerpt (const char *text, gsize len)
{
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < len && i < 80; i++)
    g_string_append_c (s, g_ascii_isprint (text[i]) ? text[i] : '?');
  if (len > 80)
    g_string_append (s, "...");
  return g_string_free (s, FALSE);
}

/* If @line ends with a literal announcement {N} or {N+}, returns TRUE with its size. */
static gboolean
literal_size (const char *line, gsize len, guint64 *size)
{
  gsize i = len;

  if (len < 3 || line[len - 1] != '}')
    return FALSE;
  i = len - 1;
  if (i > 0 && line[i - 1] == '+')
    i--;
  {
    gsize end = i;

    while (i > 0 && g_ascii_isdigit (line[i - 1]))
      i--;
    if (i == end || i == 0 || line[i - 1] != '{' || end - i > 19)
      return FALSE;
    {
      g_autofree char *digits = g_strndup (line + i, end - i);

      return g_ascii_string_to_unsigned (digits, 10, 0, G_MAXUINT64, size, NULL);
    }
  }
}

/* Reads one whole response (a line, and the literals it announces with the lines after
 * them). */
static gboolean
read_response (Conn *c, Response *r, GError **error)
{
  r->text = g_string_new (NULL);
  r->literals = g_ptr_array_new_with_free_func (literal_free);
  for (;;) {
    const guint8 *start, *nl;
    gsize len;
    guint64 lit;

    while ((nl = c->in->len > c->pos ? memchr (c->in->data + c->pos, '\n', c->in->len - c->pos) : NULL) == NULL) {
      if (c->in->len - c->pos + r->text->len > MAX_LINE_BYTES)
        return fail (c, error, SG_IMAP_ERROR_TOO_LARGE, "a response of more than %" G_GSIZE_FORMAT " bytes",
                     MAX_LINE_BYTES);
      if (!conn_fill (c, error))
        return FALSE;
    }
    start = c->in->data + c->pos;
    len = (gsize) (nl - start);
    c->pos += len + 1;
    if (len > 0 && start[len - 1] == '\r')
      len--;
    if (r->text->len + len > MAX_LINE_BYTES)
      return fail (c, error, SG_IMAP_ERROR_TOO_LARGE, "a response of more than %" G_GSIZE_FORMAT " bytes",
                   MAX_LINE_BYTES);
    g_string_append_len (r->text, (const char *) start, (gssize) len);
    if (!literal_size ((const char *) start, len, &lit))
      return TRUE;
    if (r->literals->len >= MAX_LITERALS)
      return fail (c, error, SG_IMAP_ERROR_TOO_LARGE, "a response with more than %d literals", MAX_LITERALS);
    {
      gboolean keep = lit <= MAX_LITERAL_BYTES;
      GByteArray *data = keep ? g_byte_array_sized_new ((guint) lit) : NULL;
      guint64 left = lit;

      while (left > 0) {
        gsize have = c->in->len - c->pos, take;

        if (have == 0) {
          if (!conn_fill (c, error)) {
            if (data)
              g_byte_array_unref (data);
            return FALSE;
          }
          continue;
        }
        take = (gsize) MIN ((guint64) have, left);
        if (data)
          g_byte_array_append (data, c->in->data + c->pos, (guint) take);
        c->pos += take;
        left -= take;
        /* A large literal goes straight through: do not let c->in grow with it. */
        if (c->pos == c->in->len) {
          g_byte_array_set_size (c->in, 0);
          c->pos = 0;
        }
      }
      g_ptr_array_add (r->literals, data ? g_byte_array_free_to_bytes (data) : NULL);
    }
  }
}

/* Sends "TAG @command" and reads responses until the tagged one; each untagged response
 * goes to @func (which may return FALSE with an error to stop: the rest is still read).
 * A NO or BAD is an error quoting the server. */
typedef gboolean (*UntaggedFunc) (Conn *c, Response *r, gpointer data, GError **error);

static gboolean
command (Conn *c, const char *cmd, UntaggedFunc func, gpointer data, GError **error)
{
  g_autofree char *tag = g_strdup_printf ("S%u", ++c->tag);
  g_autofree char *line = g_strdup_printf ("%s %s\r\n", tag, cmd);
  g_autoptr (GError) stopped = NULL;
  gsize tag_len = strlen (tag);

  if (!conn_send (c, line, strlen (line), error))
    return FALSE;
  for (;;) {
    Response r = { 0 };
    const char *t;

    if (!read_response (c, &r, error)) {
      response_clear (&r);
      return FALSE;
    }
    t = r.text->str;
    if (r.text->len > tag_len && strncmp (t, tag, tag_len) == 0 && t[tag_len] == ' ') {
      const char *status = t + tag_len + 1;
      gboolean ok = g_ascii_strncasecmp (status, "OK", 2) == 0;

      if (!ok) {
        g_autofree char *what = excerpt (status, strlen (status));
        g_autofree char *verb = g_strndup (cmd, strcspn (cmd, " "));

        response_clear (&r);
        g_set_error (error, SG_IMAP_ERROR, SG_IMAP_ERROR_PROTOCOL, "%s refused by the server: %s", verb, what);
        return FALSE;
      }
      response_clear (&r);
      if (stopped) {
        g_propagate_error (error, g_steal_pointer (&stopped));
        return FALSE;
      }
      return TRUE;
    }
    if (r.text->len >= 2 && t[0] == '*' && t[1] == ' ') {
      if (g_ascii_strncasecmp (t + 2, "BYE", 3) == 0) {
        g_autofree char *what = excerpt (t + 2, r.text->len - 2);

        response_clear (&r);
        return fail (c, error, SG_IMAP_ERROR_CLOSED, "the server closed the connection: %s", what);
      }
      if (func && !stopped && !func (c, &r, data, &stopped))
        g_assert (stopped != NULL);
      response_clear (&r);
      continue;
    }
    if (r.text->len >= 1 && t[0] == '+') {
      response_clear (&r);
      return fail (c, error, SG_IMAP_ERROR_PROTOCOL, "the server asked for more input to %s", tag);
    }
    {
      g_autofree char *what = excerpt (t, r.text->len);

      response_clear (&r);
      return fail (c, error, SG_IMAP_ERROR_PROTOCOL, "not an IMAP response: \"%s\"", what);
    }
  }
}

/* --- reading responses ------------------------------------------------------------------------ */

typedef enum { TOK_END, TOK_ATOM, TOK_STRING, TOK_LITERAL, TOK_OPEN, TOK_CLOSE, TOK_BAD } TokKind;

typedef struct {
  const Response *r;
  const char *p, *end;
  guint literal;      /* index of the next literal */
} Lexer;

typedef struct {
  TokKind kind;
  char *text;         /* atom or string (decoded); NULL for a literal */
  GBytes *bytes;      /* literal (transfer none; NULL if it was over the cap) */
  gboolean dropped;   /* a literal over the cap */
} Token;

static void
token_clear (Token *t)
{
  g_clear_pointer (&t->text, g_free);
  t->bytes = NULL;
  t->dropped = FALSE;
  t->kind = TOK_END;
}

static void
lexer_init (Lexer *lx, const Response *r, gsize offset)
{
  lx->r = r;
  lx->p = r->text->str + MIN (offset, r->text->len);
  lx->end = r->text->str + r->text->len;
  lx->literal = 0;
}

/* Reads the next token. Atoms take bracketed sections whole (BODY[HEADER.FIELDS (A B)]). */
static TokKind
lex (Lexer *lx, Token *t)
{
  token_clear (t);
  while (lx->p < lx->end && *lx->p == ' ')
    lx->p++;
  if (lx->p >= lx->end)
    return t->kind = TOK_END;
  if (*lx->p == '(') {
    lx->p++;
    return t->kind = TOK_OPEN;
  }
  if (*lx->p == ')') {
    lx->p++;
    return t->kind = TOK_CLOSE;
  }
  if (*lx->p == '"') {
    GString *s = g_string_new (NULL);

    lx->p++;
    while (lx->p < lx->end && *lx->p != '"') {
      if (*lx->p == '\\' && lx->p + 1 < lx->end)
        lx->p++;
      g_string_append_c (s, *lx->p++);
    }
    if (lx->p >= lx->end) {
      g_string_free (s, TRUE);
      return t->kind = TOK_BAD;
    }
    lx->p++;
    t->text = g_string_free (s, FALSE);
    return t->kind = TOK_STRING;
  }
  if (*lx->p == '{') {
    const char *close = memchr (lx->p, '}', (gsize) (lx->end - lx->p));

    if (close == NULL || lx->literal >= lx->r->literals->len)
      return t->kind = TOK_BAD;
    lx->p = close + 1;
    t->bytes = lx->r->literals->pdata[lx->literal++];
    t->dropped = t->bytes == NULL;
    return t->kind = TOK_LITERAL;
  }
  {
    const char *s = lx->p;
    int depth = 0;

    while (lx->p < lx->end) {
      char ch = *lx->p;

      if (ch == '[')
        depth++;
      else if (ch == ']' && depth > 0)
        depth--;
      else if (depth == 0 && (ch == ' ' || ch == '(' || ch == ')'))
        break;
      lx->p++;
    }
    t->text = g_strndup (s, (gsize) (lx->p - s));
    return t->kind = TOK_ATOM;
  }
}

/* Skips one value: an atom, a string, a literal or a whole parenthesised list. */
static gboolean
skip_value (Lexer *lx, Token *t)
{
  int depth = 0;

  do {
    switch (lex (lx, t)) {
    case TOK_OPEN: depth++; break;
    case TOK_CLOSE: depth--; break;
    case TOK_END:
    case TOK_BAD: return FALSE;
    default: break;
    }
  } while (depth > 0);
  return depth == 0;
}

/* A string value (atom, quoted string, literal, NIL as NULL). */
static gboolean
string_value (Lexer *lx, Token *t, char **out)
{
  *out = NULL;
  switch (lex (lx, t)) {
  case TOK_ATOM:
    if (g_ascii_strcasecmp (t->text, "NIL") != 0)
      *out = g_steal_pointer (&t->text);
    return TRUE;
  case TOK_STRING:
    *out = g_steal_pointer (&t->text);
    return TRUE;
  case TOK_LITERAL:
    if (t->bytes == NULL)
      return FALSE;
    *out = g_strndup (g_bytes_get_data (t->bytes, NULL), g_bytes_get_size (t->bytes));
    return TRUE;
  default:
    return FALSE;
  }
}

static gboolean
parse_u64 (const char *text, guint64 *out)
{
  return text != NULL && g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, out, NULL);
}

/* Modified UTF-7 (RFC 3501 5.1.3) to UTF-8; the name itself when it does not decode. */
static char *
mutf7_decode (const char *name)
{
  GString *out = g_string_new (NULL);

  for (const char *p = name; *p;) {
    const char *dash;
    g_autofree char *b64 = NULL;
    g_autofree guchar *raw = NULL;
    g_autofree char *utf8 = NULL;
    gsize raw_len = 0, n;

    if (*p != '&') {
      g_string_append_c (out, *p++);
      continue;
    }
    if (p[1] == '-') {
      g_string_append_c (out, '&');
      p += 2;
      continue;
    }
    dash = strchr (p + 1, '-');
    if (dash == NULL)
      goto bad;
    n = (gsize) (dash - (p + 1));
    b64 = g_malloc (n + 4);
    for (gsize i = 0; i < n; i++)
      b64[i] = p[1 + i] == ',' ? '/' : p[1 + i];
    while (n % 4)
      b64[n++] = '=';
    b64[n] = '\0';
    raw = g_base64_decode (b64, &raw_len);
    if (raw_len % 2)
      goto bad;
    {
      g_autofree gunichar2 *u16 = g_new (gunichar2, raw_len / 2 + 1);

      for (gsize i = 0; i < raw_len / 2; i++)
        u16[i] = (gunichar2) (raw[2 * i] << 8 | raw[2 * i + 1]);
      utf8 = g_utf16_to_utf8 (u16, (glong) (raw_len / 2), NULL, NULL, NULL);
    }
    if (utf8 == NULL)
      goto bad;
    g_string_append (out, utf8);
    p = dash + 1;
  }
  return g_string_free (out, FALSE);

bad:
  g_string_free (out, TRUE);
  return g_strdup (name);
}

/* A mailbox name as an IMAP quoted string; NULL for a name that cannot be quoted. */
static char *
quote (const char *name)
{
  GString *s = g_string_new ("\"");

  for (const char *p = name; *p; p++) {
    if ((guchar) *p < 0x20 || (guchar) *p >= 0x7f) {
      g_string_free (s, TRUE);
      return NULL;
    }
    if (*p == '"' || *p == '\\')
      g_string_append_c (s, '\\');
    g_string_append_c (s, *p);
  }
  g_string_append_c (s, '"');
  return g_string_free (s, FALSE);
}

/* --- folders ------------------------------------------------------------------------------------ */

typedef struct {
  char *name;      /* as the server spells it */
  char *display;   /* UTF-8, separator shown as '/' */
  gboolean sent;
  guint64 uidvalidity;
  guint64 uidnext;
  guint64 last_uid; /* from the store */
  gboolean known;   /* has a row in imap_folders */
  gboolean dirty;   /* its row is to be written (new, or UIDVALIDITY or UIDNEXT changed) */
  GArray *uids;     /* guint64 new UIDs, ascending */
  GArray *sizes;    /* guint64 RFC822.SIZE, parallel to uids */
} Folder;

static void
folder_free (gpointer p)
{
  Folder *f = p;

  g_free (f->name);
  g_free (f->display);
  if (f->uids)
    g_array_unref (f->uids);
  if (f->sizes)
    g_array_unref (f->sizes);
  g_free (f);
}

typedef struct {
  const SgImapAccount *account;
  GPtrArray *folders;
  gboolean too_many;
} ListData;

static gboolean
has_flag (char **flags, const char *flag)
{
  for (guint i = 0; flags && flags[i]; i++)
    if (g_ascii_strcasecmp (flags[i], flag) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
name_is (const char *display, const char *const *names)
{
  const char *base = strrchr (display, '/');
  g_autofree char *down = g_utf8_strdown (base ? base + 1 : display, -1);

  for (guint i = 0; names[i]; i++)
    if (strcmp (down, names[i]) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
matches (GPtrArray *patterns, const char *display)
{
  for (guint i = 0; i < patterns->len; i++)
    if (g_pattern_spec_match_string (patterns->pdata[i], display))
      return TRUE;
  return FALSE;
}

/* Decides whether a listed folder is taken, and whether its mail is outgoing. */
static void
consider_folder (ListData *ld, char **flags, const char *sep, const char *name)
{
  static const char *const skipped_names[] = { "trash", "junk", "spam", "drafts", "deleted items",
                                               "deleted messages", "junk e-mail", "bulk mail", NULL };
  static const char *const sent_names[] = { "sent", "sent items", "sent messages", "sent mail", NULL };
  const SgImapAccount *a = ld->account;
  g_autofree char *decoded = mutf7_decode (name);
  g_autofree char *display = NULL;
  gboolean included;
  Folder *f;

  if (has_flag (flags, "\\Noselect") || has_flag (flags, "\\NonExistent"))
    return;
  if (g_ascii_strcasecmp (name, "INBOX") == 0) {
    display = g_strdup ("INBOX");
  } else if (sep && *sep && strcmp (sep, "/") != 0) {
    g_auto (GStrv) parts = g_strsplit (decoded, sep, -1);

    display = g_strjoinv ("/", parts);
  } else {
    display = g_strdup (decoded);
  }
  included = a->include->len > 0 && matches (a->include, display);
  if (a->include->len > 0 && !included)
    return;
  if (matches (a->exclude, display))
    return;
  /* Trash, Junk and Drafts, and the virtual folders that only repeat others, are left out
   * unless an include pattern asked for them. */
  if (!included && (has_flag (flags, "\\Trash") || has_flag (flags, "\\Junk") || has_flag (flags, "\\Drafts") ||
                    has_flag (flags, "\\Flagged") || has_flag (flags, "\\Important") ||
                    name_is (display, skipped_names)))
    return;
  if (ld->folders->len >= MAX_FOLDERS) {
    ld->too_many = TRUE;
    return;
  }
  f = g_new0 (Folder, 1);
  f->name = g_strdup (name);
  f->display = g_steal_pointer (&display);
  f->sent = has_flag (flags, "\\Sent") || name_is (f->display, sent_names) ||
            g_strv_contains ((const char *const *) a->sent, f->display) ||
            g_strv_contains ((const char *const *) a->sent, f->name);
  g_ptr_array_add (ld->folders, f);
}

/* * LIST (\HasNoChildren \Sent) "/" "Sent" */
static gboolean
on_list (Conn *c, Response *r, gpointer data, GError **error)
{
  ListData *ld = data;
  Lexer lx;
  Token t = { 0 };
  g_autoptr (GPtrArray) flags = g_ptr_array_new_null_terminated (4, g_free, TRUE);
  g_autofree char *sep = NULL;
  g_autofree char *name = NULL;

  lexer_init (&lx, r, 2);
  if (lex (&lx, &t) != TOK_ATOM || g_ascii_strcasecmp (t.text, "LIST") != 0) {
    token_clear (&t);
    return TRUE; /* another untagged response */
  }
  if (lex (&lx, &t) != TOK_OPEN)
    goto bad;
  while (lex (&lx, &t) == TOK_ATOM)
    g_ptr_array_add (flags, g_steal_pointer (&t.text));
  if (t.kind != TOK_CLOSE)
    goto bad;
  if (!string_value (&lx, &t, &sep) || !string_value (&lx, &t, &name) || name == NULL)
    goto bad;
  token_clear (&t);
  consider_folder (ld, (char **) flags->pdata, sep, name);
  return TRUE;

bad:
  token_clear (&t);
  {
    g_autofree char *what = excerpt (r->text->str, r->text->len);

    return fail (c, error, SG_IMAP_ERROR_PROTOCOL, "unreadable LIST response: \"%s\"", what);
  }
}

typedef struct {
  guint64 uidvalidity;
  guint64 uidnext;
  guint64 exists;
} ExamineData;

/* * OK [UIDVALIDITY 3857529045] ..., * OK [UIDNEXT 4392], * 172 EXISTS */
static gboolean
on_examine (Conn *c, Response *r, gpointer data, GError **error)
{
  ExamineData *ed = data;
  const char *t = r->text->str + 2;

  if (g_ascii_strncasecmp (t, "OK [UIDVALIDITY ", 16) == 0)
    ed->uidvalidity = g_ascii_strtoull (t + 16, NULL, 10);
  else if (g_ascii_strncasecmp (t, "OK [UIDNEXT ", 12) == 0)
    ed->uidnext = g_ascii_strtoull (t + 12, NULL, 10);
  else if (g_ascii_isdigit (*t)) {
    char *end = NULL;
    guint64 n = g_ascii_strtoull (t, &end, 10);

    if (end && g_ascii_strcasecmp (end, " EXISTS") == 0)
      ed->exists = n;
  }
  return TRUE;
}

/* The items of a FETCH response: UID, RFC822.SIZE, INTERNALDATE, BODY[]. */
typedef struct {
  guint64 uid;
  guint64 size;
  gboolean has_size;
  char *internaldate;
  GBytes *body;       /* transfer none: owned by the response */
  gboolean has_body;
  gboolean body_dropped;
} FetchItems;

static gboolean
parse_fetch (Response *r, FetchItems *items)
{
  Lexer lx;
  Token t = { 0 };
  gboolean ok = FALSE;

  memset (items, 0, sizeof *items);
  lexer_init (&lx, r, 2);
  /* "* 12 FETCH (" */
  if (lex (&lx, &t) != TOK_ATOM || !g_ascii_isdigit (t.text[0]))
    goto out;
  if (lex (&lx, &t) != TOK_ATOM || g_ascii_strcasecmp (t.text, "FETCH") != 0)
    goto out;
  if (lex (&lx, &t) != TOK_OPEN)
    goto out;
  for (;;) {
    g_autofree char *key = NULL;

    if (lex (&lx, &t) == TOK_CLOSE)
      break;
    if (t.kind != TOK_ATOM)
      goto out;
    key = g_steal_pointer (&t.text);
    if (g_ascii_strcasecmp (key, "UID") == 0) {
      if (lex (&lx, &t) != TOK_ATOM || !parse_u64 (t.text, &items->uid))
        goto out;
    } else if (g_ascii_strcasecmp (key, "RFC822.SIZE") == 0) {
      if (lex (&lx, &t) != TOK_ATOM || !parse_u64 (t.text, &items->size))
        goto out;
      items->has_size = TRUE;
    } else if (g_ascii_strcasecmp (key, "INTERNALDATE") == 0) {
      g_free (items->internaldate);
      if (!string_value (&lx, &t, &items->internaldate))
        goto out;
    } else if (g_ascii_strcasecmp (key, "BODY[]") == 0) {
      switch (lex (&lx, &t)) {
      case TOK_LITERAL:
        items->body = t.bytes;
        items->body_dropped = t.dropped;
        break;
      case TOK_STRING:
        /* A quoted body is possible for tiny messages; keep it with the response. */
        g_ptr_array_add (r->literals, g_bytes_new (t.text, strlen (t.text)));
        items->body = r->literals->pdata[r->literals->len - 1];
        break;
      case TOK_ATOM: /* NIL */
        break;
      default:
        goto out;
      }
      items->has_body = TRUE;
    } else if (!skip_value (&lx, &t)) {
      goto out;
    }
  }
  ok = items->uid > 0;

out:
  token_clear (&t);
  if (!ok)
    g_clear_pointer (&items->internaldate, g_free);
  return ok;
}

/* The UIDs above the folder's mark, with their sizes: "UID FETCH n:* (UID RFC822.SIZE)". */
static gboolean
on_fetch_sizes (Conn *c, Response *r, gpointer data, GError **error)
{
  Folder *f = data;
  FetchItems items;

  if (!parse_fetch (r, &items))
    return TRUE; /* not a FETCH, or an unsolicited one without a UID */
  g_free (items.internaldate);
  /* "n:*" also returns the highest message when it is below n. */
  if (items.uid <= f->last_uid || !items.has_size)
    return TRUE;
  if (f->uids->len >= MAX_NEW_UIDS)
    return fail (c, error, SG_IMAP_ERROR_TOO_LARGE, "folder %s: more than %d new messages listed", f->display,
                 MAX_NEW_UIDS);
  g_array_append_val (f->uids, items.uid);
  g_array_append_val (f->sizes, items.size);
  return TRUE;
}

static int
compare_u64_pairs (gconstpointer a, gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return x < y ? -1 : x > y;
}

/* --- the sync ------------------------------------------------------------------------------------ */

typedef struct {
  SgImapAccount *account;
  SgImporter *importer;
  SgStore *store;
  gint64 source_id;
  Conn conn;
  guint64 pending;
  /* The chunk being fetched. */
  Folder *folder;
  GArray *chunk;      /* guint64 UIDs still expected, ascending */
  guint64 chunk_max;
} Sync;

static gboolean
idle_flush (gpointer data, GError **error)
{
  Sync *s = data;

  return sg_importer_flush (s->importer, error);
}

static gboolean
load_folder_state (Sync *s, Folder *f, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (s->store,
      "SELECT uidvalidity, last_uid, coalesce(uidnext, 0) FROM imap_folders WHERE source_id = ? AND name = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, s->source_id);
  sqlite3_bind_text (stmt, 2, f->name, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW) {
    f->known = TRUE;
    f->uidvalidity = (guint64) sqlite3_column_int64 (stmt, 0);
    f->last_uid = (guint64) sqlite3_column_int64 (stmt, 1);
    f->uidnext = (guint64) sqlite3_column_int64 (stmt, 2);
  }
  sqlite3_reset (stmt);
  return TRUE;
}

/* Records the folder's UIDVALIDITY and mark (inside the importer's batch). */
static gboolean
save_folder_state (Sync *s, Folder *f, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (s->store,
      "INSERT INTO imap_folders (source_id, name, uidvalidity, last_uid, uidnext, sent, last_sync) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source_id, name) DO UPDATE SET "
      "uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, uidnext = excluded.uidnext, "
      "sent = excluded.sent, last_sync = excluded.last_sync", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, s->source_id);
  sqlite3_bind_text (stmt, 2, f->name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, (gint64) f->uidvalidity);
  sqlite3_bind_int64 (stmt, 4, (gint64) f->last_uid);
  sqlite3_bind_int64 (stmt, 5, (gint64) f->uidnext);
  sqlite3_bind_int (stmt, 6, f->sent);
  sqlite3_bind_int64 (stmt, 7, g_get_real_time () / G_USEC_PER_SEC);
  return _sg_store_exec_stmt (s->store, stmt, error);
}

static gboolean
save_mark (Sync *s, Folder *f, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (s->store,
      "UPDATE imap_folders SET last_uid = ? WHERE source_id = ? AND name = ? AND last_uid < ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (gint64) f->last_uid);
  sqlite3_bind_int64 (stmt, 2, s->source_id);
  sqlite3_bind_text (stmt, 3, f->name, -1, SQLITE_STATIC);
  return _sg_store_exec_stmt (s->store, stmt, error);
}

/* What is left to fetch, for 'sync --status' while a long sync runs (in the open batch). */
static gboolean
save_pending (Sync *s, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (s->store, "UPDATE source_status SET pending = ? WHERE source_id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (gint64) s->pending);
  sqlite3_bind_int64 (stmt, 2, s->source_id);
  return _sg_store_exec_stmt (s->store, stmt, error);
}

static gboolean
examine (Sync *s, Folder *f, ExamineData *ed, GError **error)
{
  g_autofree char *quoted = quote (f->name);
  g_autofree char *cmd = NULL;

  memset (ed, 0, sizeof *ed);
  if (quoted == NULL)
    return fail (&s->conn, error, SG_IMAP_ERROR_PROTOCOL, "folder name with control characters");
  cmd = g_strdup_printf ("EXAMINE %s", quoted);
  if (!command (&s->conn, cmd, on_examine, ed, error))
    return FALSE;
  if (ed->uidvalidity == 0)
    return fail (&s->conn, error, SG_IMAP_ERROR_PROTOCOL, "folder %s: the server gave no UIDVALIDITY",
                 f->display);
  return TRUE;
}

/* Pass 1: which UIDs of @f are new. */
static gboolean
survey_folder (Sync *s, Folder *f, GError **error)
{
  ExamineData ed;
  g_autofree char *cmd = NULL;

  if (!examine (s, f, &ed, error))
    return FALSE;
  if (f->known && f->uidvalidity != ed.uidvalidity) {
    g_debug ("%s: folder %s: UIDVALIDITY changed (%" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT "), rescanning",
             s->account->name, f->display, f->uidvalidity, ed.uidvalidity);
    f->last_uid = 0;
  }
  f->dirty = !f->known || f->uidvalidity != ed.uidvalidity || f->uidnext != ed.uidnext;
  f->uidvalidity = ed.uidvalidity;
  f->uidnext = ed.uidnext;
  f->uids = g_array_new (FALSE, FALSE, sizeof (guint64));
  f->sizes = g_array_new (FALSE, FALSE, sizeof (guint64));
  if (ed.exists == 0 || (ed.uidnext > 0 && ed.uidnext <= f->last_uid + 1))
    return TRUE;
  cmd = g_strdup_printf ("UID FETCH %" G_GUINT64_FORMAT ":* (UID RFC822.SIZE)", f->last_uid + 1);
  if (!command (&s->conn, cmd, on_fetch_sizes, f, error))
    return FALSE;
  /* Servers answer in sequence order, which is UID order; sort anyway, with the sizes. */
  {
    g_autoptr (GArray) pairs = g_array_sized_new (FALSE, FALSE, 2 * sizeof (guint64), f->uids->len);

    for (guint i = 0; i < f->uids->len; i++) {
      guint64 p[2] = { g_array_index (f->uids, guint64, i), g_array_index (f->sizes, guint64, i) };

      g_array_append_vals (pairs, p, 1);
    }
    g_array_sort (pairs, compare_u64_pairs);
    g_array_set_size (f->uids, 0);
    g_array_set_size (f->sizes, 0);
    for (guint i = 0; i < pairs->len; i++) {
      const guint64 *p = (const guint64 *) (pairs->data + (gsize) i * 2 * sizeof (guint64));

      /* A UID the server listed twice is fetched once. */
      if (f->uids->len > 0 && g_array_index (f->uids, guint64, f->uids->len - 1) == p[0])
        continue;
      g_array_append_val (f->uids, p[0]);
      g_array_append_val (f->sizes, p[1]);
    }
  }
  return TRUE;
}

static char *
message_location (Sync *s, Folder *f, guint64 uid)
{
  g_autofree char *escaped = g_uri_escape_string (f->name, "/", FALSE);

  return g_strdup_printf ("%s%s;UIDVALIDITY=%" G_GUINT64_FORMAT "/;UID=%" G_GUINT64_FORMAT,
                          s->account->uri, escaped, f->uidvalidity, uid);
}

/* INTERNALDATE "17-Jul-1996 02:44:25 -0700" in Unix seconds, 0 if unreadable. */
static gint64
internal_date (const char *text)
{
  g_autofree char *spaced = NULL;
  GDateTime *dt;
  gint64 t;

  if (text == NULL)
    return 0;
  spaced = g_strdup (text);
  for (char *p = spaced; *p && *p != ' '; p++)
    if (*p == '-')
      *p = ' ';
  dt = g_mime_utils_header_decode_date (spaced);
  if (dt == NULL)
    return 0;
  t = g_date_time_to_unix (dt);
  g_date_time_unref (dt);
  return t;
}

/* After UID @done is dealt with: the mark moves up to just below the lowest UID of the
 * chunk still expected (responses may come in any order). */
static gboolean
advance_mark (Sync *s, guint64 done, GError **error)
{
  Folder *f = s->folder;
  guint64 mark;

  for (guint i = 0; i < s->chunk->len; i++) {
    if (g_array_index (s->chunk, guint64, i) == done) {
      g_array_remove_index (s->chunk, i);
      break;
    }
  }
  mark = s->chunk->len > 0 ? g_array_index (s->chunk, guint64, 0) - 1 : s->chunk_max;
  if (mark <= f->last_uid)
    return TRUE;
  f->last_uid = mark;
  return save_mark (s, f, error) && save_pending (s, error);
}

static gboolean
on_fetch_body (Conn *c, Response *r, gpointer data, GError **error)
{
  Sync *s = data;
  Folder *f = s->folder;
  FetchItems items;
  g_autofree char *location = NULL;
  gboolean expected = FALSE;

  if (!parse_fetch (r, &items))
    return TRUE;
  for (guint i = 0; i < s->chunk->len && !expected; i++)
    expected = g_array_index (s->chunk, guint64, i) == items.uid;
  if (!expected || !items.has_body) {
    g_free (items.internaldate);
    return TRUE; /* a flag change another client made, or a repeat */
  }
  location = message_location (s, f, items.uid);
  if (items.body_dropped || items.body == NULL) {
    g_autoptr (GError) why = NULL;

    g_set_error (&why, SG_MESSAGE_ERROR, items.body_dropped ? SG_MESSAGE_ERROR_TOO_LARGE : SG_MESSAGE_ERROR_EMPTY,
                 items.body_dropped ? "message over the cap of %" G_GSIZE_FORMAT " bytes" : "the server sent no body",
                 SG_MESSAGE_MAX_SIZE);
    if (!_sg_importer_skip (s->importer, s->source_id, location, why, error))
      goto store_failed;
  } else if (!_sg_importer_add_bytes (s->importer, s->source_id, items.body, location, f->sent,
                                      internal_date (items.internaldate), error)) {
    goto store_failed;
  }
  g_free (items.internaldate);
  if (s->pending > 0)
    s->pending--;
  if (!advance_mark (s, items.uid, error) || !_sg_importer_maybe_commit (s->importer, error)) {
    _sg_importer_abandon (s->importer);
    c->broken = TRUE;
    return FALSE;
  }
  return TRUE;

store_failed:
  g_free (items.internaldate);
  c->broken = TRUE;
  return FALSE;
}

static char *
uid_set (const guint64 *uids, guint n)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < n;) {
    guint j = i;

    while (j + 1 < n && uids[j + 1] == uids[j] + 1)
      j++;
    if (s->len)
      g_string_append_c (s, ',');
    if (j > i)
      g_string_append_printf (s, "%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT, uids[i], uids[j]);
    else
      g_string_append_printf (s, "%" G_GUINT64_FORMAT, uids[i]);
    i = j + 1;
  }
  return g_string_free (s, FALSE);
}

/* Pass 2: fetch and store the new messages of @f. */
static gboolean
fetch_folder (Sync *s, Folder *f, GCancellable *cancellable, GError **error)
{
  ExamineData ed;
  guint i = 0;

  if (f->uids->len == 0) {
    /* Nothing to fetch: only a new folder or a new UIDVALIDITY is written down. */
    if (!f->dirty)
      return TRUE;
    if (!_sg_importer_begin (s->importer, error) || !save_folder_state (s, f, error)) {
      _sg_importer_abandon (s->importer);
      return FALSE;
    }
    return _sg_importer_maybe_commit (s->importer, error);
  }
  if (!examine (s, f, &ed, error))
    return FALSE;
  if (ed.uidvalidity != f->uidvalidity) {
    /* Changed between the passes: the next sync starts this folder again. */
    s->pending -= MIN (s->pending, f->uids->len);
    return TRUE;
  }
  if (!_sg_importer_begin (s->importer, error) || !save_folder_state (s, f, error)) {
    _sg_importer_abandon (s->importer);
    return FALSE;
  }
  s->folder = f;
  while (i < f->uids->len) {
    const guint64 *uids = (const guint64 *) f->uids->data;
    const guint64 *sizes = (const guint64 *) f->sizes->data;
    g_autoptr (GArray) want = g_array_new (FALSE, FALSE, sizeof (guint64));
    g_autofree char *set = NULL;
    g_autofree char *cmd = NULL;
    guint64 bytes = 0;
    guint start = i;

    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return FALSE;
    g_clear_pointer (&s->chunk, g_array_unref);
    s->chunk = g_array_new (FALSE, FALSE, sizeof (guint64));
    for (; i < f->uids->len && i - start < FETCH_CHUNK_MESSAGES && (bytes == 0 || bytes + sizes[i] <= FETCH_CHUNK_BYTES); i++) {
      g_array_append_val (s->chunk, uids[i]);
      if (sizes[i] > SG_MESSAGE_MAX_SIZE)
        continue;
      g_array_append_val (want, uids[i]);
      bytes += sizes[i];
    }
    s->chunk_max = uids[i - 1];
    /* Messages over the cap are not fetched: each is a problem of its own. */
    for (guint k = start; k < i; k++) {
      if (sizes[k] > SG_MESSAGE_MAX_SIZE) {
        g_autoptr (GError) why = NULL;
        g_autofree char *location = message_location (s, f, uids[k]);

        g_set_error (&why, SG_MESSAGE_ERROR, SG_MESSAGE_ERROR_TOO_LARGE,
                     "message of %" G_GUINT64_FORMAT " bytes is over the cap of %" G_GSIZE_FORMAT, sizes[k],
                     SG_MESSAGE_MAX_SIZE);
        if (!_sg_importer_skip (s->importer, s->source_id, location, why, error))
          return FALSE;
        if (s->pending > 0)
          s->pending--;
        if (!advance_mark (s, uids[k], error)) {
          _sg_importer_abandon (s->importer);
          return FALSE;
        }
      }
    }
    if (want->len > 0) {
      set = uid_set ((const guint64 *) want->data, want->len);
      cmd = g_strdup_printf ("UID FETCH %s (UID INTERNALDATE BODY.PEEK[])", set);
      if (!command (&s->conn, cmd, on_fetch_body, s, error))
        return FALSE;
    }
    /* What the server did not send was expunged meanwhile: the mark passes it. */
    while (s->chunk->len > 0) {
      guint64 gone = g_array_index (s->chunk, guint64, 0);

      if (s->pending > 0)
        s->pending--;
      if (!advance_mark (s, gone, error)) {
        _sg_importer_abandon (s->importer);
        return FALSE;
      }
    }
    if (!_sg_importer_maybe_commit (s->importer, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
on_capability (Conn *c, Response *r, gpointer data, GError **error)
{
  if (g_ascii_strncasecmp (r->text->str + 2, "CAPABILITY ", 11) == 0) {
    g_free (c->capabilities);
    c->capabilities = g_ascii_strup (r->text->str + 13, -1);
  }
  return TRUE;
}

static gboolean
has_capability (Conn *c, const char *cap)
{
  g_auto (GStrv) caps = NULL;

  if (c->capabilities == NULL)
    return FALSE;
  caps = g_strsplit (c->capabilities, " ", -1);
  return g_strv_contains ((const char *const *) caps, cap);
}

/* Sent folders first: a message the user sent and also received (a copy to self, a list)
 * is then stored as outgoing. Then INBOX, then the others by name. */
static int
compare_folders (gconstpointer a, gconstpointer b)
{
  const Folder *x = *(Folder *const *) a, *y = *(Folder *const *) b;
  gboolean xi = strcmp (x->display, "INBOX") == 0, yi = strcmp (y->display, "INBOX") == 0;

  if (x->sent != y->sent)
    return x->sent ? -1 : 1;
  if (xi != yi)
    return xi ? -1 : 1;
  return strcmp (x->display, y->display);
}

gboolean
sg_imap_record_failure (SgStore *store, SgImapAccount *account, const GError *failure, GError **error)
{
  return _sg_source_record_failure (store, "imap", account->uri, account->name, failure, error);
}

static gboolean
forget_folders (Sync *s, GPtrArray *folders, GError **error)
{
  g_autoptr (GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;

  for (guint i = 0; i < folders->len; i++)
    g_hash_table_add (listed, ((Folder *) folders->pdata[i])->name);
  stmt = _sg_store_prepare (s->store, "SELECT name FROM imap_folders WHERE source_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, s->source_id);
  while (sqlite3_step (stmt) == SQLITE_ROW) {
    const char *name = (const char *) sqlite3_column_text (stmt, 0);

    if (name && !g_hash_table_contains (listed, name))
      g_ptr_array_add (gone, g_strdup (name));
  }
  sqlite3_reset (stmt);
  if (gone->len == 0)
    return TRUE;
  if (!sg_store_begin (s->store, error))
    return FALSE;
  for (guint i = 0; i < gone->len; i++) {
    stmt = _sg_store_prepare (s->store, "DELETE FROM imap_folders WHERE source_id = ? AND name = ?", error);
    if (stmt == NULL)
      goto fail;
    sqlite3_bind_int64 (stmt, 1, s->source_id);
    sqlite3_bind_text (stmt, 2, gone->pdata[i], -1, SQLITE_STATIC);
    if (!_sg_store_exec_stmt (s->store, stmt, error))
      goto fail;
  }
  return sg_store_commit (s->store, error);

fail:
  sg_store_rollback (s->store);
  return FALSE;
}

static gboolean
run_sync (Sync *s, GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) folders = g_ptr_array_new_with_free_func (folder_free);
  ListData ld = { s->account, folders };
  guint64 total = 0;

  if (!conn_open (&s->conn, s->account, cancellable, error))
    return FALSE;
  if (!command (&s->conn, "CAPABILITY", on_capability, NULL, error))
    return FALSE;
  if (!command (&s->conn,
                has_capability (&s->conn, "SPECIAL-USE") && has_capability (&s->conn, "LIST-EXTENDED")
                  ? "LIST \"\" \"*\" RETURN (SPECIAL-USE)" : "LIST \"\" \"*\"",
                on_list, &ld, error))
    return FALSE;
  if (ld.too_many)
    return fail (&s->conn, error, SG_IMAP_ERROR_TOO_LARGE, "the server lists more than %d folders", MAX_FOLDERS);
  g_ptr_array_sort (folders, compare_folders);

  /* Pass 1: what is new in each folder, so the progress knows the total. */
  for (guint i = 0; i < folders->len; i++) {
    Folder *f = folders->pdata[i];

    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return FALSE;
    if (!load_folder_state (s, f, error) || !survey_folder (s, f, error))
      return FALSE;
    total += f->uids->len;
  }
  s->pending = total;
  _sg_importer_add_expected (s->importer, total);
  if (!_sg_importer_begin (s->importer, error) || !save_pending (s, error) ||
      !sg_importer_flush (s->importer, error))
    return FALSE;

  /* Pass 2: fetch. The store is committed whenever the server keeps us waiting. */
  s->conn.idle = idle_flush;
  s->conn.idle_data = s;
  for (guint i = 0; i < folders->len; i++)
    if (!fetch_folder (s, folders->pdata[i], cancellable, error))
      return FALSE;
  s->conn.idle = NULL;
  if (!sg_importer_flush (s->importer, error))
    return FALSE;
  /* Folders gone from the server (deleted, renamed) are forgotten; their mail stays. */
  if (!forget_folders (s, folders, error))
    return FALSE;
  /* A clean logout; libcurl's own at close then meets a closed connection. */
  command (&s->conn, "LOGOUT", NULL, NULL, NULL);
  s->conn.broken = TRUE;
  return TRUE;
}

gboolean
sg_imap_account_sync (SgImapAccount *account, SgImporter *importer, GCancellable *cancellable, GError **error)
{
  Sync s = { 0 };
  g_autoptr (GError) local = NULL;
  gboolean ok;

  g_return_val_if_fail (account != NULL && importer != NULL, FALSE);
  s.account = account;
  s.importer = importer;
  s.store = _sg_importer_get_store (importer);
  if (!sg_importer_flush (importer, error))
    return FALSE;
  s.source_id = _sg_importer_source (importer, "imap", account->uri, error);
  if (s.source_id == 0 || !sg_importer_flush (importer, error))
    return FALSE;
  if (!_sg_source_write_status (s.store, s.source_id, account->name, NULL, TRUE, -1, error))
    return FALSE;

  ok = run_sync (&s, cancellable, &local);
  if (ok || local->domain != SG_STORE_ERROR) {
    /* What was stored before a failure is kept. */
    g_autoptr (GError) flush_error = NULL;

    _sg_importer_maybe_commit (importer, NULL);
    if (!sg_importer_flush (importer, &flush_error) && ok) {
      ok = FALSE;
      local = g_steal_pointer (&flush_error);
    }
  } else {
    _sg_importer_abandon (importer);
  }
  conn_close (&s.conn);
  g_clear_pointer (&s.chunk, g_array_unref);
  if (!ok) {
    g_autoptr (GError) named = NULL;

    /* Every error names the account. */
    if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      named = g_error_copy (local);
    else
      named = g_error_new (local->domain, local->code, "account %s (%s): %s", account->name, account->uri,
                           local->message);
    /* The status names the account in its own columns: the error is kept without it. */
    if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      _sg_source_write_status (s.store, s.source_id, account->name, local, FALSE, (gint64) s.pending, NULL);
    g_propagate_error (error, g_steal_pointer (&named));
    return FALSE;
  }
  return _sg_source_write_status (s.store, s.source_id, account->name, NULL, FALSE, 0, error);
}
