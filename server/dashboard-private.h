/* dashboard-private.h: the dashboard's parts (see dashboard.h), shared by its files and
 * its tests. */
#pragma once

#include "dashboard.h"

#include <sg.h>

G_BEGIN_DECLS

#define SG_DASHBOARD_ERROR (_sg_dashboard_error_quark ())
GQuark _sg_dashboard_error_quark (void);

typedef enum {
  SG_DASHBOARD_ERROR_PARAMETER, /* a bad query parameter: the message names it */
  SG_DASHBOARD_ERROR_DATABASE,  /* PostgreSQL failed */
} SgDashboardError;

/* The filters, as validated from the query string. Strings are owned. */
typedef struct {
  char *from_day; /* "YYYY-MM-DD" or NULL */
  char *to_day;
  char *owner;    /* normalised address or NULL */
  char *pipeline; /* or NULL */
  gint64 from;    /* Unix seconds, 0: no bound */
  gint64 to;
} SgDashboardFilter;

void _sg_dashboard_filter_clear (SgDashboardFilter *f);

/* Parses the raw query string @query (nullable) into @f. Unknown parameters, days that are
 * not YYYY-MM-DD, a period that ends before it starts, an owner that is not an address and
 * over-long values are errors (SG_DASHBOARD_ERROR_PARAMETER) naming the parameter. An
 * empty value is no filter. */
gboolean _sg_dashboard_parse_filter (const char *query, SgDashboardFilter *f, GError **error);

/* The filter as a query string ("from=2026-01-01&owner=max%40ourco.example"), nullable
 * pieces left out. (transfer full) */
char *_sg_dashboard_filter_query (const SgDashboardFilter *f);

/* The reports the dashboard shows, with the columns of sg_report_run(): "managers",
 * "stages", "sources", "requests" (the overview page), "closing" and "notes" (pages of
 * their own). "notes" has two detail columns of the dashboard's own: latest_text_withheld
 * (1: the latest note's text is not on the server, its author's device did not share it;
 * latest_text is then NULL) and texts_withheld (how many of the row's notes came without
 * their text). Returns: (transfer full), or NULL with SG_DASHBOARD_ERROR (DATABASE names
 * the report). */
SgTable *_sg_dashboard_report (PGconn *db, const char *name, const SgDashboardFilter *f, GError **error);

/* A detail column named after a visible one plus this suffix, holding 1 in a row, makes
 * that row's cell of the visible column render as "not shared" (see notes). */
#define SG_DASHBOARD_WITHHELD "_withheld"

/* What a page shows. Tables are borrowed. */
typedef struct {
  const char *login;           /* the manager logged in */
  const SgDashboardFilter *filter;
  SgTable *managers;
  SgTable *stages;
  SgTable *sources;
  SgTable *requests;
} SgDashboardView;

/* Renders the dashboard page. Everything from the data is escaped (text and attributes).
 * Returns: (transfer full). */
char *_sg_dashboard_render_page (const SgDashboardView *view);
/* The closing-ratio page (from the "closing" report: one table per dimension) and the
 * customer-experience notes page (the "notes" report; what share levels kept off the
 * server is said). Everything from the data is escaped. Returns: (transfer full). */
char *_sg_dashboard_render_closing (const char *login, const SgDashboardFilter *filter, const SgTable *closing);
char *_sg_dashboard_render_notes (const char *login, const SgDashboardFilter *filter, const SgTable *notes);
/* A small page: the login form (with @message, nullable) or an error (@status, @message). */
char *_sg_dashboard_render_login (const char *message);
char *_sg_dashboard_render_error (guint status, const char *message);
/* Text escaped for HTML text and attribute values (both quote kinds). (transfer full) */
char *_sg_dashboard_escape (const char *text);

G_END_DECLS
