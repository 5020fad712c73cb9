/* srv-http.c: libmicrohttpd in a thread pool; one access handler that routes, reads bounded
 * bodies, authenticates, decompresses, and answers JSON (gzip when asked). */
#include "config.h"

#include "srv-http.h"
#include "srv-util.h"
#include "dashboard.h"
#include "dashboard-private.h" /* the login page, for a 429 */

#include <gio/gio.h>
#include <netinet/in.h>
#include <string.h>

static void handle_health (SrvRequest *req, SrvResponse *resp);
static void handle_sync (SrvRequest *req, SrvResponse *resp);
static void handle_dashboard (SrvRequest *req, SrvResponse *resp);

/* The routes. The dashboard's pages are added here (SRV_AUTH_NONE: they check their own
 * session). A path matches exactly, or as a prefix when it ends in '/'. */
static const struct {
  const char *method;
  const char *path;
  SrvAuth auth;
  SrvHandler handler;
} routes[] = {
  { "GET", "/v1/health", SRV_AUTH_NONE, handle_health },
  { "POST", "/v1/sync", SRV_AUTH_TOKEN, handle_sync },
  /* The managers' dashboard (dashboard.h): its own login and session cookie. */
  { "GET", "/dashboard", SRV_AUTH_NONE, handle_dashboard },
  { "GET", "/dashboard/", SRV_AUTH_NONE, handle_dashboard },
  { "POST", "/dashboard/", SRV_AUTH_NONE, handle_dashboard },
};

/* Per request (MHD's con_cls). */
typedef struct {
  int route;           /* index in routes */
  GByteArray *body;
  gboolean too_large;
  SrvUser user;
  gboolean has_user;
  gboolean answered; /* a response was queued with the headers (404, 405, 413, 401...) */
} Ctx;

void
srv_response_error (SrvResponse *resp, guint status, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  resp->status = status;
  resp->content_type = "application/json";
  if (resp->body)
    g_string_free (resp->body, TRUE);
  resp->body = g_string_new ("{\"error\":");
  srv_json_append_string (resp->body, msg);
  g_string_append (resp->body, "}\n");
}

void
srv_response_header (SrvResponse *resp, const char *name, const char *value)
{
  if (resp->headers == NULL)
    resp->headers = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (resp->headers, g_strdup (name));
  g_ptr_array_add (resp->headers, g_strdup (value));
}

static enum MHD_Result
send_response (struct MHD_Connection *conn, SrvResponse *resp)
{
  const char *ae = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
  gsize len = resp->body ? resp->body->len : 0;
  struct MHD_Response *r;
  gboolean gz = len > 256 && srv_accepts_gzip (ae);
  if (gz) {
    GBytes *z = srv_gzip (resp->body->str, len);
    gsize zl;
    gconstpointer zd = g_bytes_get_data (z, &zl);
    r = MHD_create_response_from_buffer (zl, (void *) zd, MHD_RESPMEM_MUST_COPY);
    g_bytes_unref (z);
  } else {
    r = MHD_create_response_from_buffer (len, len ? resp->body->str : (void *) "", MHD_RESPMEM_MUST_COPY);
  }
  if (r == NULL)
    return MHD_NO;
  MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE,
                           resp->content_type ? resp->content_type : "application/json");
  if (gz)
    MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
  MHD_add_response_header (r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
  MHD_add_response_header (r, "Cache-Control", "no-store");
  MHD_add_response_header (r, "X-Content-Type-Options", "nosniff");
  for (guint i = 0; resp->headers && i + 1 < resp->headers->len; i += 2)
    MHD_add_response_header (r, g_ptr_array_index (resp->headers, i), g_ptr_array_index (resp->headers, i + 1));
  enum MHD_Result ret = MHD_queue_response (conn, resp->status, r);
  MHD_destroy_response (r);
  return ret;
}

static void
response_clear (SrvResponse *resp)
{
  if (resp->body)
    g_string_free (resp->body, TRUE);
  if (resp->headers)
    g_ptr_array_unref (resp->headers);
  memset (resp, 0, sizeof *resp);
}

static enum MHD_Result
send_error (struct MHD_Connection *conn, guint status, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static enum MHD_Result
send_error (struct MHD_Connection *conn, guint status, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  SrvResponse resp = { 0 };
  srv_response_error (&resp, status, "%s", msg);
  enum MHD_Result r = send_response (conn, &resp);
  response_clear (&resp);
  return r;
}

/* Looks the bearer token up. Returns the HTTP status to refuse with, or 0. */
static guint
authenticate (SrvServer *srv, struct MHD_Connection *conn, Ctx *ctx, char **why)
{
  const char *h = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  if (h == NULL) {
    *why = g_strdup ("missing Authorization header: send \"Authorization: Bearer <token>\" "
                     "(a token from salesgetter-server token new)");
    return 401;
  }
  g_autofree char *token = srv_bearer_token (h);
  if (token == NULL) {
    *why = g_strdup ("Authorization header is not \"Bearer <token>\"");
    return 401;
  }
  g_autofree char *hash = srv_token_hash (token);
  g_autoptr (GError) e = NULL;
  const char *params[] = { hash };
  PGresult *res = NULL;
  /* A second try when the connection turns out broken (the database restarted): the pool
   * then remakes its connections. */
  for (int attempt = 0; attempt < 2 && res == NULL; attempt++) {
    g_clear_error (&e);
    PGconn *pg = srv_pool_acquire (srv->pool, &e);
    if (pg == NULL)
      break;
    res = srv_db_exec (pg, "auth",
      /* last_used_at is written at most once a minute: an ordinary request writes
       * nothing here. */
      "WITH t AS (SELECT id, user_id, last_used_at FROM tokens WHERE hash = $1 AND revoked_at IS NULL), "
      "upd AS (UPDATE tokens SET last_used_at = now() FROM t WHERE tokens.id = t.id "
      "        AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')) "
      "SELECT t.id, u.id, u.login, u.role FROM t JOIN users u ON u.id = t.user_id AND u.removed_at IS NULL",
      1, params, &e);
    srv_pool_release (srv->pool, pg);
    if (res == NULL && e->code != SRV_DB_ERROR_UNAVAILABLE)
      break;
  }
  g_autoptr (PGresult) r = res;
  if (r == NULL) {
    g_warning ("auth: %s", e->message);
    *why = g_strdup ("database unavailable; try again later");
    return 503;
  }
  if (PQntuples (r) != 1) {
    *why = g_strdup ("unknown or revoked token");
    return 401;
  }
  ctx->user.token_id = g_ascii_strtoll (PQgetvalue (r, 0, 0), NULL, 10);
  ctx->user.user_id = g_ascii_strtoll (PQgetvalue (r, 0, 1), NULL, 10);
  ctx->user.login = g_strdup (PQgetvalue (r, 0, 2));
  if (!srv_role_parse (PQgetvalue (r, 0, 3), &ctx->user.role))
    ctx->user.role = SRV_ROLE_ANALYST;
  ctx->has_user = TRUE;
  return 0;
}

static gboolean
path_matches (const char *route, const char *url)
{
  if (g_str_has_suffix (route, "/"))
    return g_str_has_prefix (url, route);
  return strcmp (route, url) == 0;
}

static enum MHD_Result
on_request (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
            const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
  SrvServer *srv = cls;
  Ctx *ctx = *con_cls;

  if (ctx == NULL) {
    /* First call: the headers are in. Route, check the size announced, authenticate. */
    int route = -1;
    g_autoptr (GString) allow = g_string_new (NULL);
    for (guint i = 0; i < G_N_ELEMENTS (routes); i++) {
      if (!path_matches (routes[i].path, url))
        continue;
      if (strcmp (routes[i].method, method) == 0 || (strcmp (method, "HEAD") == 0 && strcmp (routes[i].method, "GET") == 0))
        route = (int) i;
      g_string_append_printf (allow, "%s%s", allow->len ? ", " : "", routes[i].method);
    }
    ctx = g_new0 (Ctx, 1);
    ctx->route = route;
    *con_cls = ctx;
    /* Every return below but the last queues an answer now, before any body. */
    ctx->answered = TRUE;
    if (route < 0 && allow->len == 0)
      return send_error (conn, 404, "no such path: %s", url);
    if (route < 0) {
      SrvResponse resp = { 0 };
      srv_response_error (&resp, 405, "method %s is not allowed on %s (allowed: %s)", method, url, allow->str);
      srv_response_header (&resp, MHD_HTTP_HEADER_ALLOW, allow->str);
      enum MHD_Result r = send_response (conn, &resp);
      response_clear (&resp);
      return r;
    }
    const char *cl = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    guint64 announced = 0;
    if (cl && g_ascii_string_to_unsigned (cl, 10, 0, G_MAXUINT64, &announced, NULL)
        && announced > srv->config->max_body)
      return send_error (conn, 413, "body of %" G_GUINT64_FORMAT " bytes is over the limit of %lu MiB", announced,
                         (unsigned long) (srv->config->max_body >> 20));
    if (routes[route].auth == SRV_AUTH_TOKEN) {
      g_autofree char *why = NULL;
      guint st = authenticate (srv, conn, ctx, &why);
      if (st) {
        SrvResponse resp = { 0 };
        srv_response_error (&resp, st, "%s", why);
        if (st == 401)
          srv_response_header (&resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"salesgetter\"");
        enum MHD_Result r = send_response (conn, &resp);
        response_clear (&resp);
        return r;
      }
      /* Per token, before the body is read. */
      g_autofree char *key = g_strdup_printf ("token:%" G_GINT64_FORMAT, ctx->user.token_id);
      guint wait = srv->limiter ? srv_limit_take (srv->limiter, key, srv->config->sync_per_minute,
                                                  srv->config->sync_burst, g_get_monotonic_time ()) : 0;
      if (wait) {
        SrvResponse resp = { 0 };
        g_autofree char *after = g_strdup_printf ("%u", wait);
        srv_response_error (&resp, 429, "too many requests with this token: at most %u a minute (bursts of %u); "
                            "retry in %u s", srv->config->sync_per_minute, srv->config->sync_burst, wait);
        srv_response_header (&resp, MHD_HTTP_HEADER_RETRY_AFTER, after);
        enum MHD_Result r = send_response (conn, &resp);
        response_clear (&resp);
        return r;
      }
    }
    ctx->answered = FALSE;
    return MHD_YES;
  }

  if (ctx->answered) {
    /* Answered with the headers: whatever body still comes is dropped. */
    *upload_data_size = 0;
    return MHD_YES;
  }

  if (*upload_data_size > 0) {
    /* Body data: kept up to the limit (compressed bytes never exceed it either), then
     * dropped; the 413 goes out once it has all arrived. */
    if (!ctx->too_large) {
      if (ctx->body == NULL)
        ctx->body = g_byte_array_new ();
      if (ctx->body->len + *upload_data_size > srv->config->max_body) {
        ctx->too_large = TRUE;
        g_byte_array_set_size (ctx->body, 0);
      } else {
        g_byte_array_append (ctx->body, (const guint8 *) upload_data, (guint) *upload_data_size);
      }
    }
    *upload_data_size = 0;
    return MHD_YES;
  }

  if (ctx->too_large)
    return send_error (conn, 413, "body is over the limit of %lu MiB", (unsigned long) (srv->config->max_body >> 20));

  g_autoptr (GBytes) body = NULL;
  if (strcmp (method, "POST") == 0 || strcmp (method, "PUT") == 0) {
    const char *ce = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
    const guint8 *data = ctx->body ? ctx->body->data : (const guint8 *) "";
    gsize len = ctx->body ? ctx->body->len : 0;
    if (ce == NULL || g_ascii_strcasecmp (ce, "identity") == 0) {
      body = g_bytes_new (data, len);
    } else if (g_ascii_strcasecmp (ce, "gzip") == 0) {
      g_autoptr (GError) e = NULL;
      body = srv_gunzip (data, len, srv->config->max_body, &e);
      if (body == NULL)
        return send_error (conn, e->code == SRV_ERROR_TOO_LARGE ? 413 : 400, "%s", e->message);
    } else {
      return send_error (conn, 415, "Content-Encoding %s is not supported (send gzip or identity)", ce);
    }
  }

  SrvRequest req = {
    .server = srv, .connection = conn, .method = method, .url = url, .body = body,
    .user = ctx->has_user ? &ctx->user : NULL,
  };
  SrvResponse resp = { .status = 500 };
  routes[ctx->route].handler (&req, &resp);
  if (resp.body == NULL)
    resp.body = g_string_new (NULL);
  enum MHD_Result r = send_response (conn, &resp);
  response_clear (&resp);
  return r;
}

static void
on_completed (void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
  Ctx *ctx = *con_cls;
  if (ctx == NULL)
    return;
  if (ctx->body)
    g_byte_array_unref (ctx->body);
  g_free (ctx->user.login);
  g_free (ctx);
  *con_cls = NULL;
}

static void
on_mhd_log (void *cls, const char *fmt, va_list ap)
{
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  g_message ("http: %s", g_strchomp (msg));
}

static void
handle_health (SrvRequest *req, SrvResponse *resp)
{
  g_autoptr (GError) e = NULL;
  PGresult *res = NULL;
  for (int attempt = 0; attempt < 2 && res == NULL; attempt++) {
    g_clear_error (&e);
    PGconn *pg = srv_pool_acquire (req->server->pool, &e);
    if (pg == NULL)
      break;
    res = srv_db_exec (pg, "health", "SELECT 1", 0, NULL, &e);
    srv_pool_release (req->server->pool, pg);
  }
  g_autoptr (PGresult) r = res;
  if (r == NULL) {
    srv_response_error (resp, 503, "database unavailable: %s", e->message);
    return;
  }
  resp->status = 200;
  resp->body = g_string_new (NULL);
  g_string_printf (resp->body, "{\"status\":\"ok\",\"database\":\"ok\",\"protocol\":%d,\"version\":\"%s\"}\n",
                   SRV_SYNC_PROTOCOL, PACKAGE_VERSION);
}

static void
handle_sync (SrvRequest *req, SrvResponse *resp)
{
  g_autoptr (GError) e = NULL;
  gsize len = 0;
  const char *data = req->body ? g_bytes_get_data (req->body, &len) : "";
  g_autoptr (SrvSyncRequest) sync = srv_sync_parse (data ? data : "", len, &e);
  if (sync == NULL) {
    srv_response_error (resp, e->code == SRV_ERROR_TOO_LARGE ? 413 : 400, "%s", e->message);
    return;
  }
  guint status = 503;
  GString *out = NULL;
  for (int attempt = 0; attempt < 2 && out == NULL; attempt++) {
    g_clear_error (&e);
    PGconn *pg = srv_pool_acquire (req->server->pool, &e);
    if (pg == NULL) {
      status = 503;
      break;
    }
    /* Retried only when the connection broke: the push is one transaction and idempotent. */
    out = srv_sync_run (pg, req->user, sync, &status, &e);
    srv_pool_release (req->server->pool, pg);
    if (out == NULL && status != 503)
      break;
  }
  if (out == NULL) {
    if (status >= 500) {
      g_warning ("sync for %s: %s", req->user->login, e->message);
      srv_response_error (resp, status, "%s", status == 503 ? "database unavailable; try again later"
                                                            : "internal error storing the ops (logged on the server)");
    } else {
      srv_response_error (resp, status, "%s", e->message);
    }
    return;
  }
  g_debug ("sync %s %s: %u ops pushed", req->user->login, sync->device, sync->ops->len);
  resp->status = 200;
  resp->body = out;
}

static enum MHD_Result
append_query_arg (void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  GString *q = cls;
  g_autofree char *k = g_uri_escape_string (key, NULL, FALSE);
  g_autofree char *v = value ? g_uri_escape_string (value, NULL, FALSE) : NULL;

  g_string_append_printf (q, "%s%s%s%s", q->len ? "&" : "", k, v ? "=" : "", v ? v : "");
  return MHD_YES;
}

/* The client's address: the peer's, or behind a proxy the last address of
 * X-Forwarded-For (the one the proxy added; the ones before it are the client's word). */
static char *
client_address (struct MHD_Connection *conn, gboolean behind_proxy)
{
  if (behind_proxy) {
    const char *xff = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "X-Forwarded-For");
    if (xff && *xff) {
      const char *last = strrchr (xff, ',');
      g_autofree char *a = g_strdup (last ? last + 1 : xff);
      g_strstrip (a);
      if (*a && strlen (a) <= 64)
        return g_steal_pointer (&a);
    }
  }
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info (conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (ci && ci->client_addr) {
    gsize len = ci->client_addr->sa_family == AF_INET6 ? sizeof (struct sockaddr_in6) : sizeof (struct sockaddr_in);
    g_autoptr (GSocketAddress) sa = g_socket_address_new_from_native (ci->client_addr, len);
    if (sa && G_IS_INET_SOCKET_ADDRESS (sa))
      return g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (sa)));
  }
  return g_strdup ("unknown");
}

/* The dashboard: the request as dashboard.h wants it (the query string rebuilt from what
 * libmicrohttpd decoded), one pooled connection for the call. */
static void
handle_dashboard (SrvRequest *req, SrvResponse *resp)
{
  struct MHD_Connection *conn = req->connection;
  g_autoptr (GString) query = g_string_new (NULL);
  g_autoptr (GError) e = NULL;
  const char *proto = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "X-Forwarded-Proto");
  SgDashboardRequest dreq = { 0 };
  SgDashboardResponse dresp = { 0 };
  gsize len = 0;
  PGconn *pg;

  MHD_get_connection_values (conn, MHD_GET_ARGUMENT_KIND, append_query_arg, query);
  dreq.method = req->method;
  dreq.path = req->url;
  dreq.query = query->str;
  dreq.cookie = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
  dreq.body = req->body ? g_bytes_get_data (req->body, &len) : NULL;
  dreq.body_len = len;
  /* Secure cookies over TLS, or behind a proxy that says the client came over https. */
  dreq.https = !req->server->config->behind_proxy || (proto != NULL && g_ascii_strcasecmp (proto, "https") == 0);
  /* Failed logins, per client address and per login: checked before the form is. */
  gboolean login_post = strcmp (req->method, "POST") == 0 && strcmp (req->url, SG_DASHBOARD_PREFIX "/login") == 0;
  g_autofree char *addr_key = NULL, *user_key = NULL;
  if (login_post && req->server->limiter) {
    const SrvConfig *c = req->server->config;
    g_autofree char *addr = client_address (conn, c->behind_proxy);
    g_autoptr (GHashTable) form = g_uri_parse_params (dreq.body ? dreq.body : "", (gssize) dreq.body_len, "&",
                                                      G_URI_PARAMS_WWW_FORM, NULL);
    const char *login = form ? g_hash_table_lookup (form, "login") : NULL;
    gint64 now = g_get_monotonic_time ();
    addr_key = g_strconcat ("addr:", addr, NULL);
    user_key = g_strconcat ("login:", login ? login : "", NULL);
    guint wa = srv_limit_failures_wait (req->server->limiter, addr_key, c->login_failures_address, c->login_window_s, now);
    guint wu = srv_limit_failures_wait (req->server->limiter, user_key, c->login_failures_user, c->login_window_s, now);
    if (wa || wu) {
      guint wait = MAX (wa, wu);
      g_autofree char *msg = g_strdup_printf (
        "Too many failed logins %s: try again in %u minute%s.",
        wu ? "for this login" : "from this address", (wait + 59) / 60, (wait + 59) / 60 == 1 ? "" : "s");
      g_autofree char *after = g_strdup_printf ("%u", wait);
      resp->status = 429;
      resp->content_type = "text/html; charset=utf-8";
      g_autofree char *html = _sg_dashboard_render_login (msg);
      resp->body = g_string_new (html);
      srv_response_header (resp, MHD_HTTP_HEADER_RETRY_AFTER, after);
      /* The dashboard's own headers for its pages (dashboard.c). */
      srv_response_header (resp, "Content-Security-Policy",
                           "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                           "frame-ancestors 'none'; base-uri 'none'");
      srv_response_header (resp, "Referrer-Policy", "no-referrer");
      g_message ("dashboard: login refused (%s, %u s): %s", wu ? "login" : "address", wait, addr);
      return;
    }
  }
  if ((pg = srv_pool_acquire (req->server->pool, &e)) == NULL) {
    g_warning ("dashboard: %s", e->message);
    resp->status = 503;
    resp->content_type = "text/plain; charset=utf-8";
    resp->body = g_string_new ("The database is not available; try again.\n");
    return;
  }
  if (!sg_dashboard_handle (&dreq, pg, &dresp)) {
    srv_pool_release (req->server->pool, pg);
    srv_response_error (resp, 404, "no such path: %s", req->url);
    return;
  }
  srv_pool_release (req->server->pool, pg);
  if (addr_key) {
    const SrvConfig *c = req->server->config;
    gint64 now = g_get_monotonic_time ();
    if (dresp.status == 401) {
      srv_limit_failure (req->server->limiter, addr_key, c->login_failures_address, c->login_window_s, now);
      srv_limit_failure (req->server->limiter, user_key, c->login_failures_user, c->login_window_s, now);
    } else if (dresp.status < 400) {
      srv_limit_forget (req->server->limiter, user_key);
    }
  }
  resp->status = dresp.status;
  resp->content_type = dresp.content_type;
  {
    gconstpointer data = g_bytes_get_data (dresp.body, &len);

    resp->body = g_string_new_len (data, (gssize) len);
  }
  /* send_response() adds Cache-Control and X-Content-Type-Options itself. */
  for (guint i = 0; i + 1 < dresp.headers->len; i += 2) {
    const char *name = g_ptr_array_index (dresp.headers, i);

    if (g_ascii_strcasecmp (name, "Cache-Control") != 0 && g_ascii_strcasecmp (name, "X-Content-Type-Options") != 0)
      srv_response_header (resp, name, g_ptr_array_index (dresp.headers, i + 1));
  }
  sg_dashboard_response_clear (&dresp);
}

gboolean
srv_server_start (SrvServer *srv, GError **error)
{
  SrvConfig *c = srv->config;
  g_autoptr (GInetAddress) ia = g_inet_address_new_from_string (c->listen);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (ia, c->port);
  struct sockaddr_storage ss;
  if (!g_socket_address_to_native (sa, &ss, sizeof ss, error))
    return FALSE;
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
  if (g_inet_address_get_family (ia) == G_SOCKET_FAMILY_IPV6)
    flags |= MHD_USE_IPv6;
  static char *cert_pem, *key_pem; /* MHD keeps the pointers while it runs */
  if (!c->behind_proxy) {
    if (MHD_is_feature_supported (MHD_FEATURE_TLS) != MHD_YES) {
      g_set_error (error, SRV_CONFIG_ERROR, 1, "this libmicrohttpd has no TLS support; use behind-proxy = true");
      return FALSE;
    }
    g_free (cert_pem);
    g_free (key_pem);
    cert_pem = key_pem = NULL;
    if (!g_file_get_contents (c->tls_cert, &cert_pem, NULL, error)
        || !g_file_get_contents (c->tls_key, &key_pem, NULL, error))
      return FALSE;
    flags |= MHD_USE_TLS;
  }
  struct MHD_OptionItem opts[] = {
    { MHD_OPTION_EXTERNAL_LOGGER, (intptr_t) on_mhd_log, NULL },
    { MHD_OPTION_SOCK_ADDR, 0, &ss },
    { MHD_OPTION_THREAD_POOL_SIZE, c->threads, NULL },
    { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) on_completed, NULL },
    /* Headers and the first body bytes live in this per-connection pool: huge headers get
     * "431 Request Header Fields Too Large" from libmicrohttpd. */
    { MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL },
    { MHD_OPTION_CONNECTION_TIMEOUT, 120, NULL },
    { MHD_OPTION_CONNECTION_LIMIT, 1000, NULL },
    { c->behind_proxy ? MHD_OPTION_END : MHD_OPTION_HTTPS_MEM_CERT, 0, cert_pem },
    { MHD_OPTION_HTTPS_MEM_KEY, 0, key_pem },
    { MHD_OPTION_END, 0, NULL },
  };
  srv->daemon = MHD_start_daemon (flags, 0, NULL, NULL, on_request, srv,
                                  MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
  if (srv->daemon == NULL) {
    g_set_error (error, SRV_CONFIG_ERROR, 1, "cannot listen on %s port %u (in use, or a bad TLS certificate or key)",
                 c->listen, c->port);
    return FALSE;
  }
  return TRUE;
}

void
srv_server_stop (SrvServer *srv)
{
  if (srv->daemon)
    MHD_stop_daemon (srv->daemon);
  srv->daemon = NULL;
}
