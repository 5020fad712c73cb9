/* dashboard.h: the managers' dashboard (issue 6, point 5), served by salesgetter-server.
 *
 * Server-rendered HTML pages (no JavaScript) with cairo SVG charts: pipeline funnel, sales
 * and closing ratios per account manager, lead-source effectiveness, stage drop-off and
 * unfulfilled requests, computed with the definitions of `salesgetter report` over the
 * team's state in PostgreSQL (entity_state, entity_history, set_members; see
 * docs/internals/dashboard.md). Only managers get in: a login form takes the login and an
 * API token and sets an HttpOnly, SameSite=Strict session cookie (random id, stored as its
 * SHA-256, with an expiry).
 *
 * The server's request handler calls sg_dashboard_handle() for every path under
 * /dashboard; the dashboard needs nothing else from the server.
 */
#pragma once

#include <glib.h>
#include <libpq-fe.h>

G_BEGIN_DECLS

/* The mount point: sg_dashboard_handle() answers every path that starts with it. */
#define SG_DASHBOARD_PREFIX "/dashboard"

/* How long a session lasts after login. */
#define SG_DASHBOARD_SESSION_SECONDS (8 * 3600)

/* Form bodies larger than this get 413. */
#define SG_DASHBOARD_MAX_FORM 4096

typedef struct {
  const char *method; /* "GET", "HEAD", "POST" ... */
  const char *path;   /* "/dashboard/login": no query string */
  const char *query;  /* nullable: the raw query string after '?', still %-encoded */
  const char *cookie; /* nullable: the raw Cookie header */
  const char *body;   /* nullable: a POST's raw application/x-www-form-urlencoded body */
  gsize body_len;
  gboolean https;     /* the client reached us over TLS (also behind a TLS proxy): cookies get Secure */
} SgDashboardRequest;

typedef struct {
  guint status;          /* HTTP status */
  const char *content_type; /* a static string */
  GBytes *body;          /* (transfer full) */
  /* (transfer full): header names and values, alternating ("Set-Cookie", "sg_session=...",
   * "Location", "/dashboard/login", "Content-Security-Policy", ...). */
  GPtrArray *headers;
} SgDashboardResponse;

/* Answers @req (a path under SG_DASHBOARD_PREFIX) from @db, filling @resp, which the caller
 * clears with sg_dashboard_response_clear(). @db is used by this thread only for the
 * call. Returns: FALSE when @req's path is not the dashboard's (@resp untouched); TRUE
 * otherwise, whatever the status (a database failure is a 503 page). */
gboolean sg_dashboard_handle (const SgDashboardRequest *req, PGconn *db, SgDashboardResponse *resp);

void sg_dashboard_response_clear (SgDashboardResponse *resp);

/* Frees the process-wide caches the charts filled (cairo's fonts), so that leak checkers
 * see none. Call once, when no request is running any more (cairo's reset is not safe
 * while another thread draws). */
void sg_dashboard_shutdown (void);

G_END_DECLS
