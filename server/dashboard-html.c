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

/* The index of @t's column @name, or -1. */
static int
column_index (const SgTable *t, const char *name)
{
  for (guint c = 0; c < sg_table_get_n_columns (t); c++)
    if (strcmp (sg_table_get_column_name (t, c), name) == 0)
      return (int) c;
  return -1;
}

/* Whether the cell (@r, @c) is one the server does not hold because its author did not
 * share it: a detail column "<name>_withheld" says 1 (SG_DASHBOARD_WITHHELD). */
static gboolean
withheld (const SgTable *t, guint r, guint c)
{
  g_autofree char *name = g_strconcat (sg_table_get_column_name (t, c), SG_DASHBOARD_WITHHELD, NULL);
  int w = column_index (t, name);

  return w >= 0 && (sg_table_get_column_flags (t, (guint) w) & SG_COLUMN_FLAG_DETAIL) &&
         !sg_table_is_null (t, r, (guint) w) && sg_table_get_int (t, r, (guint) w) != 0;
}

/* The visible columns of @t as an HTML table; @id names it for links and tests. The header
 * of column @rename (nullable) reads @label instead of the column's name. */
static void
append_table_labelled (GString *out, const SgTable *t, const char *id, const char *empty, const char *rename,
                       const char *label)
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
    if (rename != NULL && strcmp (sg_table_get_column_name (t, c), rename) == 0)
      head = g_strdup (label);
    else
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
      if (withheld (t, r, c)) {
        g_string_append_printf (out, "<td data-col=\"%s\" class=\"withheld\">not shared by its author</td>",
                                sg_table_get_column_name (t, c));
        continue;
      }
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
append_table (GString *out, const SgTable *t, const char *id, const char *empty)
{
  append_table_labelled (out, t, id, empty, NULL, NULL);
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

/* The pages, in the order of the navigation. */
static const struct {
  const char *path;
  const char *title;
} pages[] = {
  { SG_DASHBOARD_PREFIX, "Overview" },
  { SG_DASHBOARD_PREFIX "/closing", "Closing ratios" },
  { SG_DASHBOARD_PREFIX "/notes", "Customer notes" },
};

/* The head of every report page: title, the user and the logout button, the navigation
 * (links keep the filters), and the filter form, which reloads @path. */
static void
page_top (GString *out, const char *title, const char *login, const SgDashboardFilter *f, const char *path,
          const char *query, const char *period_label)
{
  page_begin (out, title);
  g_string_append (out, "<header><h1>");
  append_escaped (out, title);
  g_string_append (out, "</h1><form method=\"post\" action=\"" SG_DASHBOARD_PREFIX
                        "/logout\" class=\"logout\"><span id=\"user\">");
  append_escaped (out, login);
  g_string_append (out, "</span> <button type=\"submit\">Log out</button></form></header>\n<nav id=\"pages\">");
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++) {
    g_autofree char *href = g_strdup_printf ("%s%s%s", pages[i].path, *query ? "?" : "", query);

    g_string_append (out, "<a href=\"");
    append_escaped (out, href);
    g_string_append_printf (out, "\"%s>%s</a>", strcmp (pages[i].path, path) == 0 ? " class=\"current\"" : "",
                            pages[i].title);
  }
  g_string_append (out, "</nav>\n<form method=\"get\" action=\"");
  append_escaped (out, path);
  g_string_append (out, "\" class=\"filters\" id=\"filters\">\n");
  append_input (out, "from", period_label, "date", f->from_day, "YYYY-MM-DD");
  append_input (out, "to", "before", "date", f->to_day, "YYYY-MM-DD");
  append_input (out, "owner", "Account manager", "text", f->owner, "address");
  append_input (out, "pipeline", "Pipeline", "text", f->pipeline, "all (stages: default)");
  g_string_append (out, "<button type=\"submit\">Apply</button> <a href=\"");
  append_escaped (out, path);
  g_string_append (out, "\">Clear</a></form>\n");
}

char *
_sg_dashboard_render_page (const SgDashboardView *v)
{
  GString *out = g_string_new (NULL);
  g_autofree char *query = _sg_dashboard_filter_query (v->filter);

  page_top (out, "Sales dashboard", v->login, v->filter, SG_DASHBOARD_PREFIX, query, "Opened from");

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

  g_string_append (out, "<section id=\"stages\"><h2>Stage drop-off and time in stage</h2>\n"
                        "<p class=\"note\">Drop-off = processes lost from a stage (their last open stage) / "
                        "processes that entered it. Average days: stays that are over.</p>\n");
  append_table (out, v->stages, "report-stages", "No such pipeline.");
  append_chart (out, "stages-time", query, "Average days in each stage");
  g_string_append (out, "</section>\n");

  g_string_append (out, "<section id=\"requests\"><h2>Unfulfilled requests</h2>\n"
                        "<p class=\"note\">By category and organisation; the period filters when they were "
                        "asked, the other filters do not apply.</p>\n");
  append_table (out, v->requests, "report-requests", "No unfulfilled requests in this period.");
  append_chart (out, "requests", query, "Unfulfilled requests by category and organisation");
  g_string_append (out, "</section>\n");
  return page_end (out);
}

/* The rows of @t whose "by" is @by, without that column. (transfer full) */
static SgTable *
rows_by (const SgTable *t, const char *by)
{
  SgTable *out = sg_table_new ();
  int by_col = column_index (t, "by");
  guint ncols = sg_table_get_n_columns (t);

  for (guint c = 0; c < ncols; c++)
    if ((int) c != by_col)
      sg_table_add_column (out, sg_table_get_column_name (t, c), sg_table_get_column_type (t, c),
                           sg_table_get_column_flags (t, c));
  for (guint r = 0; by_col >= 0 && r < sg_table_get_n_rows (t); r++) {
    guint k = 0;

    if (g_strcmp0 (sg_table_get_text (t, r, (guint) by_col), by) != 0)
      continue;
    sg_table_append_row (out);
    for (guint c = 0; c < ncols; c++) {
      if ((int) c == by_col)
        continue;
      if (!sg_table_is_null (t, r, c)) {
        switch (sg_table_get_column_type (t, c)) {
        case SG_COLUMN_TEXT:
          sg_table_set_text (out, k, sg_table_get_text (t, r, c));
          break;
        case SG_COLUMN_REAL:
          sg_table_set_real (out, k, sg_table_get_real (t, r, c));
          break;
        default:
          sg_table_set_int (out, k, sg_table_get_int (t, r, c));
          break;
        }
      }
      k++;
    }
  }
  return out;
}

char *
_sg_dashboard_render_closing (const char *login, const SgDashboardFilter *f, const SgTable *closing)
{
  static const struct {
    const char *by, *title, *label, *note;
  } dims[] = {
    { "deliverable_kind", "Per deliverable kind: products and services", "kind", NULL },
    { "deliverable_type", "Per deliverable type", "type",
      "The type given when the process was opened; (none) where none was." },
    { "industry", "Per customer type (the organisation's industry)", "industry",
      "The industry the team's stores hold for the organisation; (none) where no one recorded it." },
  };
  GString *out = g_string_new (NULL);
  g_autofree char *query = _sg_dashboard_filter_query (f);

  page_top (out, "Closing ratios", login, f, SG_DASHBOARD_PREFIX "/closing", query, "Opened from");
  g_string_append (out, "<p class=\"note\">Closing ratio = won / closed (won + lost), n/a when nothing closed; "
                        "won value per currency. The filters apply to the processes (opened in the period, "
                        "their account manager, their pipeline).</p>\n");
  for (guint i = 0; i < G_N_ELEMENTS (dims); i++) {
    g_autoptr (SgTable) part = rows_by (closing, dims[i].by);
    g_autofree char *id = g_strconcat ("report-closing-", dims[i].by, NULL);

    g_string_append_printf (out, "<section id=\"closing-%s\"><h2>%s</h2>\n", dims[i].by, dims[i].title);
    if (dims[i].note != NULL)
      g_string_append_printf (out, "<p class=\"note\">%s</p>\n", dims[i].note);
    append_table_labelled (out, part, id, "No sales processes for these filters.", "value", dims[i].label);
    g_string_append (out, "</section>\n");
  }
  g_string_append (out, "<section id=\"closing-chart\"><h2>Chart</h2>\n");
  append_chart (out, "closing", query, "Closing ratio per deliverable kind, deliverable type and industry");
  g_string_append (out, "</section>\n");
  return page_end (out);
}

char *
_sg_dashboard_render_notes (const char *login, const SgDashboardFilter *f, const SgTable *notes)
{
  GString *out = g_string_new (NULL);
  g_autofree char *query = _sg_dashboard_filter_query (f);
  int n_col = column_index (notes, "notes"), w_col = column_index (notes, "texts_withheld");
  gint64 total = 0, hidden = 0;

  for (guint r = 0; r < sg_table_get_n_rows (notes); r++) {
    total += n_col >= 0 ? sg_table_get_int (notes, r, (guint) n_col) : 0;
    hidden += w_col >= 0 ? sg_table_get_int (notes, r, (guint) w_col) : 0;
  }
  page_top (out, "Customer-experience notes", login, f, SG_DASHBOARD_PREFIX "/notes", query, "Noted from");
  g_string_append (out, "<section id=\"notes\"><h2>Notes per organisation, by sentiment</h2>\n"
                        "<p class=\"note\">Organisations with the most negative notes first. The period filters "
                        "when the notes were taken; the account-manager and pipeline filters do not apply. "
                        "Latest text: the organisation's latest note, whatever the period.</p>\n"
                        "<p class=\"note\" id=\"notes-privacy\">Notes are typed for the team and sent with "
                        "their text at every share level, except notes about organisations their author "
                        "excludes from sync, which never reach this server. The dashboard shows what the "
                        "server holds and marks what it does not.</p>\n");
  if (hidden > 0)
    g_string_append_printf (out, "<p class=\"note withheld\" id=\"notes-withheld\">%" G_GINT64_FORMAT " of the %"
                            G_GINT64_FORMAT " notes in this period came without their text (sent so by their author's client), so it "
                            "is not on the server. They are counted; their text is not shown.</p>\n", hidden, total);
  append_table (out, notes, "report-notes", "No customer-experience notes in this period.");
  append_chart (out, "notes", query, "Customer-experience notes per organisation");
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
