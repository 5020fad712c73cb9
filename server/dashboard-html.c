/* dashboard-html.c: the dashboard's pages. Plain HTML, no script: every value that comes
 * from the data (names, organisations, stages, categories: they come from mail) or from
 * the request goes through _sg_dashboard_escape(), which is safe in text and in quoted
 * attributes. Charts are separate SVG documents (<img>), drawn by common/sg-chart.c: an
 * <img> runs no script, and cairo's glyph ids cannot clash between charts. */
#include "config.h"

#include "dashboard-private.h"

#include <string.h>

char *
_sg_dashboard_escape (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text ? text : "", -1);

  /* Escapes < > & ' " (so attribute values quoted either way are safe). */
  return g_markup_escape_text (valid, -1);
}

static void
append_escaped (GString *out, const char *text)
{
  g_autofree char *e = _sg_dashboard_escape (text);

  g_string_append (out, e);
}

static void
page_begin (GString *out, const char *title)
{
  g_string_append (out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                        "<link rel=\"stylesheet\" href=\"" SG_DASHBOARD_PREFIX "/style.css\"><title>");
  append_escaped (out, title);
  g_string_append (out, " — SalesGetter</title></head>\n<body>\n");
}

static char *
page_end (GString *out)
{
  g_string_append (out, "</body></html>\n");
  return g_string_free (out, FALSE);
}

/* The visible columns of @t as an HTML table; @id names it for links and tests. */
static void
append_table (GString *out, const SgTable *t, const char *id, const char *empty)
{
  guint ncols = sg_table_get_n_columns (t), nrows = sg_table_get_n_rows (t);

  if (nrows == 0) {
    g_string_append_printf (out, "<p class=\"empty\" id=\"%s-empty\">", id);
    append_escaped (out, empty);
    g_string_append (out, "</p>\n");
    return;
  }
  g_string_append_printf (out, "<table id=\"%s\"><thead><tr>", id);
  for (guint c = 0; c < ncols; c++) {
    g_autofree char *head = NULL;

    if (sg_table_get_column_flags (t, c) & SG_COLUMN_FLAG_DETAIL)
      continue;
    head = g_strdelimit (g_strdup (sg_table_get_column_name (t, c)), "_", ' ');
    g_string_append_printf (out, "<th>%s</th>", head);
  }
  g_string_append (out, "</tr></thead>\n<tbody>\n");
  for (guint r = 0; r < nrows; r++) {
    g_string_append (out, "<tr>");
    for (guint c = 0; c < ncols; c++) {
      g_autofree char *cell = NULL;
      SgColumnType type = sg_table_get_column_type (t, c);

      if (sg_table_get_column_flags (t, c) & SG_COLUMN_FLAG_DETAIL)
        continue;
      cell = sg_table_format_cell (t, r, c);
      g_string_append_printf (out, "<td data-col=\"%s\"%s>", sg_table_get_column_name (t, c),
                              type == SG_COLUMN_INT || type == SG_COLUMN_REAL ? " class=\"num\"" : "");
      append_escaped (out, cell);
      g_string_append (out, "</td>");
    }
    g_string_append (out, "</tr>\n");
  }
  g_string_append (out, "</tbody></table>\n");
}

static void
append_chart (GString *out, const char *report, const char *query, const char *alt)
{
  g_autofree char *src = g_strdup_printf (SG_DASHBOARD_PREFIX "/chart/%s.svg%s%s", report, *query ? "?" : "", query);

  g_string_append (out, "<img class=\"chart\" src=\"");
  append_escaped (out, src);
  g_string_append (out, "\" alt=\"");
  append_escaped (out, alt);
  g_string_append_printf (out, "\" id=\"chart-%s\">\n", report);
}

static void
append_input (GString *out, const char *name, const char *label, const char *type, const char *value,
              const char *placeholder)
{
  g_string_append_printf (out, "<label>%s <input type=\"%s\" name=\"%s\" value=\"", label, type, name);
  append_escaped (out, value);
  g_string_append (out, "\" placeholder=\"");
  append_escaped (out, placeholder);
  g_string_append (out, "\"></label>\n");
}

char *
_sg_dashboard_render_page (const SgDashboardView *v)
{
  GString *out = g_string_new (NULL);
  g_autofree char *query = _sg_dashboard_filter_query (v->filter);
  const SgDashboardFilter *f = v->filter;

  page_begin (out, "Sales dashboard");
  g_string_append (out, "<header><h1>Sales dashboard</h1><form method=\"post\" action=\"" SG_DASHBOARD_PREFIX
                        "/logout\" class=\"logout\"><span id=\"user\">");
  append_escaped (out, v->login);
  g_string_append (out, "</span> <button type=\"submit\">Log out</button></form></header>\n");

  g_string_append (out, "<form method=\"get\" action=\"" SG_DASHBOARD_PREFIX "\" class=\"filters\" id=\"filters\">\n");
  append_input (out, "from", "Opened from", "date", f->from_day, "YYYY-MM-DD");
  append_input (out, "to", "before", "date", f->to_day, "YYYY-MM-DD");
  append_input (out, "owner", "Account manager", "text", f->owner, "address");
  append_input (out, "pipeline", "Pipeline", "text", f->pipeline, "all (stages: default)");
  g_string_append (out, "<button type=\"submit\">Apply</button> <a href=\"" SG_DASHBOARD_PREFIX "\">Clear</a></form>\n");

  g_string_append (out, "<section id=\"funnel\"><h2>Pipeline funnel</h2>\n");
  append_chart (out, "stages", query, "Processes that entered each stage of the pipeline");
  g_string_append (out, "</section>\n");

  g_string_append (out, "<section id=\"managers\"><h2>Sales and closing ratios per account manager</h2>\n"
                        "<p class=\"note\">Closing ratio = won / closed (won + lost); n/a when nothing closed. "
                        "Money per currency.</p>\n");
  append_table (out, v->managers, "report-managers", "No sales processes for these filters.");
  append_chart (out, "managers", query, "Closing ratio per account manager");
  g_string_append (out, "</section>\n");

  g_string_append (out, "<section id=\"sources\"><h2>Lead-source effectiveness</h2>\n");
  append_table (out, v->sources, "report-sources", "No lead sources.");
  append_chart (out, "sources", query, "Closing ratio per lead source");
  g_string_append (out, "</section>\n");

  g_string_append (out, "<section id=\"stages\"><h2>Stage drop-off</h2>\n"
                        "<p class=\"note\">Drop-off = processes lost from a stage (their last open stage) / "
                        "processes that entered it. Average days: stays that are over.</p>\n");
  append_table (out, v->stages, "report-stages", "No such pipeline.");
  g_string_append (out, "</section>\n");

  g_string_append (out, "<section id=\"requests\"><h2>Unfulfilled requests</h2>\n"
                        "<p class=\"note\">By category and organisation; the period filters when they were "
                        "asked, the other filters do not apply.</p>\n");
  append_table (out, v->requests, "report-requests", "No unfulfilled requests in this period.");
  append_chart (out, "requests", query, "Unfulfilled requests by category and organisation");
  g_string_append (out, "</section>\n");
  return page_end (out);
}

char *
_sg_dashboard_render_login (const char *message)
{
  GString *out = g_string_new (NULL);

  page_begin (out, "Log in");
  g_string_append (out, "<main class=\"login\"><h1>SalesGetter dashboard</h1>\n");
  if (message != NULL) {
    g_string_append (out, "<p class=\"error\" id=\"message\">");
    append_escaped (out, message);
    g_string_append (out, "</p>\n");
  }
  g_string_append (out, "<form method=\"post\" action=\"" SG_DASHBOARD_PREFIX "/login\" id=\"login\">\n"
                        "<label>Login <input name=\"login\" autocomplete=\"username\" required></label>\n"
                        "<label>API token <input name=\"token\" type=\"password\" autocomplete=\"current-password\" "
                        "required></label>\n<button type=\"submit\">Log in</button>\n"
                        "<p class=\"note\">The token printed by <code>salesgetter-server token new</code>. "
                        "Managers only.</p></form></main>\n");
  return page_end (out);
}

char *
_sg_dashboard_render_error (guint status, const char *message)
{
  GString *out = g_string_new (NULL);
  g_autofree char *title = g_strdup_printf ("%u", status);

  page_begin (out, title);
  g_string_append_printf (out, "<main class=\"error-page\"><h1>%u</h1>\n<p class=\"error\" id=\"message\">", status);
  append_escaped (out, message);
  g_string_append (out, "</p>\n<p><a href=\"" SG_DASHBOARD_PREFIX "\">Dashboard</a></p></main>\n");
  return page_end (out);
}
