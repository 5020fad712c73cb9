/* dashboard.c: the managers' dashboard's requests (see dashboard.h): routing, filters,
 * login sessions. Reports are in dashboard-report.c, pages in dashboard-html.c, charts in
 * common/sg-chart.c. */
#include "config.h"

#include "dashboard-private.h"

#ifdef HAVE_CAIRO
#include "sg-chart.h"
#include <cairo.h>
#endif

#include <string.h>
#include <sys/random.h>

G_DEFINE_QUARK (sg-dashboard-error-quark, _sg_dashboard_error)

#define COOKIE_NAME "sg_session"
#define CHART_ROWS 40 /* more bars say nothing; the table has them all */
#define MAX_PARAM 320 /* an address is at most 254; a pipeline name is far shorter */

static const char style_css[] =
  "body{font-family:sans-serif;margin:0 auto;max-width:1100px;padding:0 16px;color:#1a1a1a}"
  "header{display:flex;justify-content:space-between;align-items:center}"
  "table{border-collapse:collapse;margin:8px 0}th,td{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left}"
  "td.num{text-align:right}th{background:#f2f5f9}.note{color:#555;font-size:90%}"
  ".error{color:#a00}.filters label{margin-right:8px}img.chart{max-width:100%;display:block;margin:8px 0}"
  "section{margin:24px 0}nav{margin:4px 0 12px}nav a{margin-right:16px}.filters input[type=text]{width:12em}nav a.current{font-weight:bold;text-decoration:none;color:#1a1a1a}"
  "td.withheld,p.withheld{color:#8a5a00;font-style:italic}main.login{max-width:420px;margin:80px auto}main.login label{display:block;margin:8px 0}";

void
_sg_dashboard_filter_clear (SgDashboardFilter *f)
{
  g_clear_pointer (&f->from_day, g_free);
  g_clear_pointer (&f->to_day, g_free);
  g_clear_pointer (&f->owner, g_free);
  g_clear_pointer (&f->pipeline, g_free);
  f->from = f->to = 0;
}

static gboolean
parse_day (const char *text, gint64 *out)
{
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autofree char *iso = NULL;
  g_autoptr (GDateTime) dt = NULL;

  if (strlen (text) != 10)
    return FALSE;
  iso = g_strdup_printf ("%sT00:00:00Z", text);
  if ((dt = g_date_time_new_from_iso8601 (iso, utc)) == NULL)
    return FALSE;
  *out = g_date_time_to_unix (dt);
  return TRUE;
}

static gboolean
bad_param (GError **error, const char *name, const char *value, const char *why)
{
  g_autofree char *valid = g_utf8_make_valid (value, -1);
  g_autofree char *shown = NULL;

  /* g_utf8_substring() must not be asked past the end. */
  if (g_utf8_strlen (valid, -1) > 60) {
    g_autofree char *cut = g_utf8_substring (valid, 0, 57);

    shown = g_strconcat (cut, "...", NULL);
  } else {
    shown = g_strdup (valid);
  }

  g_set_error (error, SG_DASHBOARD_ERROR, SG_DASHBOARD_ERROR_PARAMETER, "parameter “%s”: “%s” %s", name, shown, why);
  return FALSE;
}

gboolean
_sg_dashboard_parse_filter (const char *query, SgDashboardFilter *f, GError **error)
{
  g_auto (GStrv) pieces = NULL;

  memset (f, 0, sizeof *f);
  if (query == NULL || *query == '\0')
    return TRUE;
  /* Parsed by hand rather than with g_uri_parse_params() so that each error names its
   * parameter. */
  pieces = g_strsplit (query, "&", -1);
  for (guint i = 0; pieces[i] != NULL; i++) {
    char *eq = strchr (pieces[i], '=');
    g_autofree char *name = NULL;
    g_autofree char *value = NULL;

    if (*pieces[i] == '\0')
      continue;
    if (eq != NULL)
      *eq = '\0';
    g_strdelimit (pieces[i], "+", ' ');
    if (eq != NULL)
      g_strdelimit (eq + 1, "+", ' ');
    name = g_uri_unescape_string (pieces[i], NULL);
    value = g_uri_unescape_string (eq ? eq + 1 : "", NULL);
    if (name == NULL || !g_utf8_validate (name, -1, NULL)) {
      g_autofree char *raw = g_utf8_make_valid (pieces[i], MIN (strlen (pieces[i]), 40));

      g_set_error (error, SG_DASHBOARD_ERROR, SG_DASHBOARD_ERROR_PARAMETER,
                   "parameter “%s”: a bad %%-escape or not UTF-8", raw);
      goto fail;
    }
    if (value == NULL || !g_utf8_validate (value, -1, NULL)) {
      g_autofree char *shown = g_utf8_substring (name, 0, MIN (g_utf8_strlen (name, -1), 40));

      g_set_error (error, SG_DASHBOARD_ERROR, SG_DASHBOARD_ERROR_PARAMETER,
                   "parameter “%s”: its value has a bad %%-escape or is not UTF-8", shown);
      goto fail;
    }
    if (strcmp (name, "from") != 0 && strcmp (name, "to") != 0 && strcmp (name, "owner") != 0 &&
        strcmp (name, "pipeline") != 0) {
      g_autofree char *shown = g_utf8_substring (name, 0, MIN (g_utf8_strlen (name, -1), 40));

      g_set_error (error, SG_DASHBOARD_ERROR, SG_DASHBOARD_ERROR_PARAMETER,
                   "unknown parameter “%s” (parameters: from, to, owner, pipeline)", shown);
      goto fail;
    }
    if (*value == '\0')
      continue;
    g_clear_pointer (name[0] == 'f' ? &f->from_day : name[0] == 't' ? &f->to_day : name[0] == 'o' ? &f->owner
                                                                                   : &f->pipeline, g_free);
    if (strlen (value) > MAX_PARAM) {
      bad_param (error, name, value, "is too long");
      goto fail;
    }
    if (strcmp (name, "from") == 0 || strcmp (name, "to") == 0) {
      gint64 t = 0;

      if (!parse_day (value, &t)) {
        bad_param (error, name, value, "is not a day (YYYY-MM-DD)");
        goto fail;
      }
      if (name[0] == 'f') {
        f->from = t;
        f->from_day = g_strdup (value);
      } else {
        f->to = t;
        f->to_day = g_strdup (value);
      }
    } else if (strcmp (name, "owner") == 0) {
      if ((f->owner = sg_address_normalize (value, NULL)) == NULL) {
        bad_param (error, name, value, "is not a mail address");
        goto fail;
      }
    } else {
      for (const char *p = value; *p; p = g_utf8_next_char (p))
        if (g_unichar_iscntrl (g_utf8_get_char (p))) {
          bad_param (error, name, value, "has control characters");
          goto fail;
        }
      f->pipeline = g_strdup (value);
    }
  }
  if (f->from != 0 && f->to != 0 && f->to <= f->from) {
    bad_param (error, "to", f->to_day, "is not after “from”: the period ends before it starts");
    goto fail;
  }
  return TRUE;
fail:
  _sg_dashboard_filter_clear (f);
  return FALSE;
}

char *
_sg_dashboard_filter_query (const SgDashboardFilter *f)
{
  const char *names[] = { "from", "to", "owner", "pipeline" };
  const char *values[] = { f->from_day, f->to_day, f->owner, f->pipeline };
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree char *e = NULL;

    if (values[i] == NULL)
      continue;
    e = g_uri_escape_string (values[i], NULL, FALSE);
    g_string_append_printf (out, "%s%s=%s", out->len ? "&" : "", names[i], e);
  }
  return g_string_free (out, FALSE);
}

/* --- responses ---------------------------------------------------------------------- */

void
sg_dashboard_response_clear (SgDashboardResponse *resp)
{
  resp->content_type = NULL;
  g_clear_pointer (&resp->body, g_bytes_unref);
  g_clear_pointer (&resp->headers, g_ptr_array_unref);
  resp->status = 0;
}

static void
add_header (SgDashboardResponse *resp, const char *name, const char *value)
{
  g_ptr_array_add (resp->headers, g_strdup (name));
  g_ptr_array_add (resp->headers, g_strdup (value));
}

static void
respond (SgDashboardResponse *resp, guint status, const char *type, char *body)
{
  resp->status = status;
  resp->content_type = type;
  resp->body = g_bytes_new_take (body, strlen (body));
}

static void
respond_error (SgDashboardResponse *resp, guint status, const char *message)
{
  respond (resp, status, "text/html; charset=utf-8", _sg_dashboard_render_error (status, message));
}

static void
redirect (SgDashboardResponse *resp, const char *to)
{
  add_header (resp, "Location", to);
  respond (resp, 303, "text/plain; charset=utf-8", g_strdup ("See Other\n"));
}

/* --- sessions ----------------------------------------------------------------------- */

static char *
sha256_hex (const char *text)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
}

/* The session id from the Cookie header: 64 hex digits, else NULL. (transfer full) */
static char *
session_cookie (const char *header)
{
  g_auto (GStrv) parts = NULL;

  if (header == NULL)
    return NULL;
  parts = g_strsplit (header, ";", -1);
  for (guint i = 0; parts[i] != NULL; i++) {
    const char *p = parts[i];

    while (*p == ' ' || *p == '\t')
      p++;
    if (g_str_has_prefix (p, COOKIE_NAME "=")) {
      const char *v = p + strlen (COOKIE_NAME "=");
      gsize n = strspn (v, "0123456789abcdef");

      if (n == 64 && (v[n] == '\0' || v[n] == ' '))
        return g_strndup (v, 64);
    }
  }
  return NULL;
}

typedef struct {
  char *login;
  char *role;
} User;

static void
user_clear (User *u)
{
  g_clear_pointer (&u->login, g_free);
  g_clear_pointer (&u->role, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (User, user_clear)

/* The user of the request's live session. Returns: 1 found, 0 none, -1 database error. */
static int
session_user (PGconn *db, const SgDashboardRequest *req, User *out)
{
  g_autofree char *id = session_cookie (req->cookie);
  g_autofree char *hash = NULL;
  const char *params[1];
  PGresult *res;
  int found;

  if (id == NULL)
    return 0;
  hash = sha256_hex (id);
  params[0] = hash;
  res = PQexecParams (db,
                      "SELECT u.login, u.role FROM dashboard_sessions s JOIN users u ON u.id = s.user_id "
                      "WHERE s.id_hash = $1 AND s.expires_at > now()",
                      1, NULL, params, NULL, NULL, 0);
  if (PQresultStatus (res) != PGRES_TUPLES_OK) {
    g_warning ("dashboard: session lookup: %s", PQresultErrorMessage (res));
    PQclear (res);
    return -1;
  }
  found = PQntuples (res) == 1;
  if (found) {
    out->login = g_strdup (PQgetvalue (res, 0, 0));
    out->role = g_strdup (PQgetvalue (res, 0, 1));
  }
  PQclear (res);
  return found;
}

static char *
cookie_header (const SgDashboardRequest *req, const char *value, gint64 max_age)
{
  return g_strdup_printf (COOKIE_NAME "=%s; Path=" SG_DASHBOARD_PREFIX "; Max-Age=%" G_GINT64_FORMAT
                          "; HttpOnly; SameSite=Strict%s", value, max_age, req->https ? "; Secure" : "");
}

static void
handle_login (const SgDashboardRequest *req, PGconn *db, SgDashboardResponse *resp)
{
  g_autoptr (GHashTable) form = NULL;
  g_autofree char *token_hash = NULL;
  g_autofree char *id_hash = NULL;
  g_autofree char *cookie = NULL;
  g_autofree char *user_id = NULL;
  g_autofree char *role = NULL;
  g_autofree char *expiry = g_strdup_printf ("%d", SG_DASHBOARD_SESSION_SECONDS);
  guint8 raw[32];
  char id[65];
  const char *login, *token;
  const char *params[3];
  PGresult *res;

  if (req->body_len > SG_DASHBOARD_MAX_FORM) {
    respond_error (resp, 413, "The login form is too large.");
    return;
  }
  form = g_uri_parse_params (req->body ? req->body : "", req->body ? (gssize) req->body_len : 0, "&",
                             G_URI_PARAMS_WWW_FORM, NULL);
  login = form ? g_hash_table_lookup (form, "login") : NULL;
  token = form ? g_hash_table_lookup (form, "token") : NULL;
  if (token == NULL || *token == '\0') {
    respond (resp, 400, "text/html; charset=utf-8", _sg_dashboard_render_login ("Give your login and API token."));
    return;
  }
  /* Tokens are stored as the SHA-256 (hex) of the token (a random 256-bit secret needs no
   * slow hash). */
  token_hash = sha256_hex (token);
  params[0] = token_hash;
  params[1] = login ? login : "";
  res = PQexecParams (db,
                      "SELECT u.id, u.role FROM tokens t JOIN users u ON u.id = t.user_id "
                      "WHERE t.hash = $1 AND t.revoked_at IS NULL AND ($2 = '' OR u.login = $2)",
                      2, NULL, params, NULL, NULL, 0);
  if (PQresultStatus (res) != PGRES_TUPLES_OK) {
    g_warning ("dashboard: login: %s", PQresultErrorMessage (res));
    PQclear (res);
    respond_error (resp, 503, "The database is not available; try again.");
    return;
  }
  if (PQntuples (res) != 1) {
    PQclear (res);
    respond (resp, 401, "text/html; charset=utf-8", _sg_dashboard_render_login ("Unknown login or token."));
    return;
  }
  user_id = g_strdup (PQgetvalue (res, 0, 0));
  role = g_strdup (PQgetvalue (res, 0, 1));
  PQclear (res);
  if (strcmp (role, "manager") != 0) {
    respond_error (resp, 403, "The dashboard is for managers only.");
    return;
  }
  if (getrandom (raw, sizeof raw, 0) != (ssize_t) sizeof raw) {
    respond_error (resp, 503, "No randomness for a session; try again.");
    return;
  }
  for (guint i = 0; i < sizeof raw; i++)
    g_snprintf (id + 2 * i, 3, "%02x", raw[i]);
  id_hash = sha256_hex (id);
  params[0] = id_hash;
  params[1] = user_id;
  params[2] = expiry;
  /* One statement: expired sessions go as a new one comes. */
  res = PQexecParams (db,
                      "WITH gone AS (DELETE FROM dashboard_sessions WHERE expires_at <= now()) "
                      "INSERT INTO dashboard_sessions (id_hash, user_id, expires_at) "
                      "VALUES ($1, $2::bigint, now() + make_interval(secs => $3::int))",
                      3, NULL, params, NULL, NULL, 0);
  if (PQresultStatus (res) != PGRES_COMMAND_OK) {
    g_warning ("dashboard: new session: %s", PQresultErrorMessage (res));
    PQclear (res);
    respond_error (resp, 503, "The database is not available; try again.");
    return;
  }
  PQclear (res);
  cookie = cookie_header (req, id, SG_DASHBOARD_SESSION_SECONDS);
  add_header (resp, "Set-Cookie", cookie);
  redirect (resp, SG_DASHBOARD_PREFIX);
}

static void
handle_logout (const SgDashboardRequest *req, PGconn *db, SgDashboardResponse *resp)
{
  g_autofree char *id = session_cookie (req->cookie);
  g_autofree char *cookie = cookie_header (req, "", 0);

  if (id != NULL) {
    g_autofree char *hash = sha256_hex (id);
    const char *params[1] = { hash };
    PGresult *res = PQexecParams (db, "DELETE FROM dashboard_sessions WHERE id_hash = $1", 1, NULL, params, NULL,
                                  NULL, 0);

    if (PQresultStatus (res) != PGRES_COMMAND_OK) {
      g_warning ("dashboard: logout: %s", PQresultErrorMessage (res));
      PQclear (res);
      respond_error (resp, 503, "The database is not available; the session is still open.");
      return;
    }
    PQclear (res);
  }
  add_header (resp, "Set-Cookie", cookie);
  redirect (resp, SG_DASHBOARD_PREFIX "/login");
}

/* --- pages -------------------------------------------------------------------------- */

static gboolean
exec_ok (PGconn *db, const char *sql)
{
  PGresult *res = PQexec (db, sql);
  gboolean ok = PQresultStatus (res) == PGRES_COMMAND_OK;

  if (!ok)
    g_warning ("dashboard: %s: %s", sql, PQresultErrorMessage (res));
  PQclear (res);
  return ok;
}

static void
handle_page (const SgDashboardRequest *req, PGconn *db, const User *user, SgDashboardResponse *resp)
{
  g_autoptr (GError) error = NULL;
  SgDashboardFilter f;
  SgTable *tables[4] = { NULL };
  const char *names[4] = { "managers", "stages", "sources", "requests" };
  gboolean ok = TRUE;

  if (!_sg_dashboard_parse_filter (req->query, &f, &error)) {
    respond_error (resp, 400, error->message);
    return;
  }
  /* All figures from one snapshot. */
  if (!exec_ok (db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")) {
    respond_error (resp, 503, "The database is not available; try again.");
    _sg_dashboard_filter_clear (&f);
    return;
  }
  for (guint i = 0; ok && i < G_N_ELEMENTS (names); i++)
    ok = (tables[i] = _sg_dashboard_report (db, names[i], &f, &error)) != NULL;
  exec_ok (db, ok ? "COMMIT" : "ROLLBACK");
  if (!ok) {
    g_warning ("dashboard: %s", error->message);
    respond_error (resp, 503, "The reports could not be computed; try again.");
  } else {
    SgDashboardView view = { user->login, &f, tables[0], tables[1], tables[2], tables[3] };

    respond (resp, 200, "text/html; charset=utf-8", _sg_dashboard_render_page (&view));
  }
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    g_clear_pointer (&tables[i], sg_table_free);
  _sg_dashboard_filter_clear (&f);
}

/* The closing-ratio page or the notes page: one report each. */
static void
handle_report_page (const SgDashboardRequest *req, PGconn *db, const User *user, const char *name,
                    SgDashboardResponse *resp)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) table = NULL;
  SgDashboardFilter f;

  if (!_sg_dashboard_parse_filter (req->query, &f, &error)) {
    respond_error (resp, 400, error->message);
    return;
  }
  if ((table = _sg_dashboard_report (db, name, &f, &error)) == NULL) {
    g_warning ("dashboard: %s", error->message);
    respond_error (resp, 503, "The report could not be computed; try again.");
  } else if (strcmp (name, "closing") == 0) {
    respond (resp, 200, "text/html; charset=utf-8", _sg_dashboard_render_closing (user->login, &f, table));
  } else {
    respond (resp, 200, "text/html; charset=utf-8", _sg_dashboard_render_notes (user->login, &f, table));
  }
  _sg_dashboard_filter_clear (&f);
}

static void
handle_chart (const SgDashboardRequest *req, PGconn *db, const char *name, SgDashboardResponse *resp)
{
#ifdef HAVE_CAIRO
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) table = NULL;
  GBytes *svg;
  SgDashboardFilter f;

  if (!_sg_dashboard_parse_filter (req->query, &f, &error)) {
    respond_error (resp, 400, error->message);
    return;
  }
  /* The time-in-stage chart draws the stages report's other columns. */
  table = _sg_dashboard_report (db, strcmp (name, "stages-time") == 0 ? "stages" : name, &f, &error);
  _sg_dashboard_filter_clear (&f);
  if (table == NULL) {
    g_warning ("dashboard: %s", error->message);
    respond_error (resp, 503, "The report could not be computed; try again.");
    return;
  }
  /* No cairo_debug_reset_static_data () here: other threads may be drawing (see
   * sg_dashboard_shutdown ()). */
  svg = sg_chart_svg (table, name, CHART_ROWS, &error);
  if (svg == NULL) {
    respond_error (resp, 500, error->message);
    return;
  }
  resp->status = 200;
  resp->content_type = "image/svg+xml";
  resp->body = svg;
#else
  respond_error (resp, 404, "This server was built without cairo: no charts.");
#endif
}

void
sg_dashboard_shutdown (void)
{
#ifdef HAVE_CAIRO
  cairo_debug_reset_static_data ();
#endif
}

gboolean
sg_dashboard_handle (const SgDashboardRequest *req, PGconn *db, SgDashboardResponse *resp)
{
  const char *sub;
  gboolean get, post;
  g_auto (User) user = { NULL };

  g_return_val_if_fail (req != NULL && req->path != NULL && req->method != NULL && resp != NULL, FALSE);
  if (!g_str_has_prefix (req->path, SG_DASHBOARD_PREFIX))
    return FALSE;
  sub = req->path + strlen (SG_DASHBOARD_PREFIX);
  if (*sub != '\0' && *sub != '/')
    return FALSE;
  memset (resp, 0, sizeof *resp);
  resp->headers = g_ptr_array_new_with_free_func (g_free);
  /* No script runs anywhere; nothing may frame or embed the pages; nothing is cached. */
  add_header (resp, "Content-Security-Policy",
              "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
              "base-uri 'none'");
  add_header (resp, "X-Content-Type-Options", "nosniff");
  add_header (resp, "Referrer-Policy", "no-referrer");
  add_header (resp, "Cache-Control", "no-store");
  get = strcmp (req->method, "GET") == 0 || strcmp (req->method, "HEAD") == 0;
  post = strcmp (req->method, "POST") == 0;

  if (strcmp (sub, "/style.css") == 0 && get) {
    respond (resp, 200, "text/css; charset=utf-8", g_strdup (style_css));
    return TRUE;
  }
  if (strcmp (sub, "/login") == 0) {
    if (get)
      respond (resp, 200, "text/html; charset=utf-8", _sg_dashboard_render_login (NULL));
    else if (post)
      handle_login (req, db, resp);
    else {
      add_header (resp, "Allow", "GET, HEAD, POST");
      respond_error (resp, 405, "Use GET or POST.");
    }
    return TRUE;
  }
  if (strcmp (sub, "/logout") == 0) {
    if (post)
      handle_logout (req, db, resp);
    else {
      add_header (resp, "Allow", "POST");
      respond_error (resp, 405, "Log out with POST (the button on the dashboard).");
    }
    return TRUE;
  }

  /* Everything else needs a manager's session. */
  switch (session_user (db, req, &user)) {
  case -1:
    respond_error (resp, 503, "The database is not available; try again.");
    return TRUE;
  case 0:
    if (get && (*sub == '\0' || strcmp (sub, "/") == 0))
      redirect (resp, SG_DASHBOARD_PREFIX "/login");
    else
      respond_error (resp, 401, "Log in first.");
    return TRUE;
  default:
    break;
  }
  if (strcmp (user.role, "manager") != 0) {
    respond_error (resp, 403, "The dashboard is for managers only.");
    return TRUE;
  }
  if (!get) {
    add_header (resp, "Allow", "GET, HEAD");
    respond_error (resp, 405, "Use GET.");
    return TRUE;
  }
  if (*sub == '\0' || strcmp (sub, "/") == 0) {
    handle_page (req, db, &user, resp);
    return TRUE;
  }
  if (strcmp (sub, "/closing") == 0 || strcmp (sub, "/notes") == 0) {
    handle_report_page (req, db, &user, sub + 1, resp);
    return TRUE;
  }
  if (g_str_has_prefix (sub, "/chart/") && g_str_has_suffix (sub, ".svg")) {
    g_autofree char *name = g_strndup (sub + 7, strlen (sub) - 7 - 4);

    if (strcmp (name, "managers") == 0 || strcmp (name, "stages") == 0 || strcmp (name, "sources") == 0 ||
        strcmp (name, "requests") == 0 || strcmp (name, "closing") == 0 || strcmp (name, "notes") == 0 ||
        strcmp (name, "stages-time") == 0) {
      handle_chart (req, db, name, resp);
      return TRUE;
    }
  }
  respond_error (resp, 404, "No such page.");
  return TRUE;
}
