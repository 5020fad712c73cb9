/* test-dashboard.c: the managers' dashboard without a database: filters from the query
 * string (each bad one named), the page rendered from report tables with hostile names
 * from mail (nothing gets out of its text or attribute), the charts, and the routes that
 * answer before any database work. The reports' SQL and the sessions run against a real
 * PostgreSQL in tests/e2e/test-dashboard.py. */
#include "config.h"

#include "dashboard-private.h"
#ifdef HAVE_CAIRO
#include "sg-chart.h"
#include <cairo.h>
#endif

#include <string.h>

/* Names as they could come from mail headers and the bodies of other people's mail. */
static const char *const hostile[] = {
  "<script>alert(1)</script>",
  "x\" onerror=\"alert(2)",
  "y' onmouseover='alert(3)",
  "Tom & Jerry <tom@evil.example>",
  "\xe2\x80\xae" "evil\x01\x7f",
  "bad utf-8 \xff\xfe here",
};

static guint
count (const char *hay, const char *needle)
{
  guint n = 0;

  for (const char *p = hay; (p = strstr (p, needle)) != NULL; p += strlen (needle))
    n++;
  return n;
}

/* Every tag of @html is one we write, with attributes we write: text from the data never
 * became markup. Values are double-quoted and cannot hold a quote or '>' (escaped). */
static void
assert_only_our_markup (const char *html)
{
  static const char *const tags[] = { "!DOCTYPE", "html", "head", "meta", "link", "title", "body", "header", "h1",
                                       "h2", "form", "span", "button", "label", "input", "a", "section", "p", "img",
                                       "table", "thead", "tbody", "tr", "th", "td", "main", "code", "nav", NULL };
  static const char *const attrs[] = { "lang", "charset", "name", "content", "rel", "href", "method", "action",
                                       "class", "id", "type", "value", "placeholder", "src", "alt", "data-col",
                                       "autocomplete", "required", NULL };
  const char *p = html;

  while ((p = strchr (p, '<')) != NULL) {
    const char *end = strchr (p, '>');
    g_autofree char *tag = NULL;
    const char *q;
    gsize n;

    g_assert_nonnull (end);
    q = p + 1 + (p[1] == '/');
    n = strcspn (q, " >");
    tag = g_strndup (q, n);
    if (!g_strv_contains (tags, tag))
      g_error ("unexpected tag <%s> at “%.60s”", tag, p);
    q += n;
    while (q < end) {
      g_autofree char *attr = NULL;

      while (*q == ' ')
        q++;
      if (q >= end)
        break;
      n = strcspn (q, "= >");
      attr = g_strndup (q, n);
      if (!g_strv_contains (attrs, attr) && strcmp (attr, "html") != 0)
        g_error ("unexpected attribute “%s” in <%s>", attr, tag);
      q += n;
      if (*q == '=') {
        g_assert_cmpint (q[1], ==, '"');
        q = strchr (q + 2, '"');
        g_assert_nonnull (q);
        g_assert_true (q < end);
        q++;
      }
    }
    p = end + 1;
  }
}

static void
test_escape (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++) {
    g_autofree char *e = _sg_dashboard_escape (hostile[i]);

    g_assert_true (g_utf8_validate (e, -1, NULL));
    g_assert_null (strpbrk (e, "<>\"'"));
  }
  {
    g_autofree char *e = _sg_dashboard_escape ("a<b & \"c\" 'd'");

    g_assert_cmpstr (e, ==, "a&lt;b &amp; &quot;c&quot; &apos;d&apos;");
  }
}

static void
filter_fails (const char *query, const char *want)
{
  g_autoptr (GError) error = NULL;
  SgDashboardFilter f;

  g_assert_false (_sg_dashboard_parse_filter (query, &f, &error));
  g_assert_error (error, SG_DASHBOARD_ERROR, SG_DASHBOARD_ERROR_PARAMETER);
  if (strstr (error->message, want) == NULL)
    g_error ("%s: “%s” lacks “%s”", query, error->message, want);
  g_assert_null (f.owner);
  g_assert_null (f.pipeline);
}

static void
test_filter (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *q = NULL;
  g_autofree char *long_value = NULL;
  g_autofree char *long_query = NULL;
  SgDashboardFilter f;

  g_assert_true (_sg_dashboard_parse_filter (NULL, &f, &error));
  g_assert_true (f.from == 0 && f.to == 0 && f.owner == NULL && f.pipeline == NULL);
  g_assert_true (_sg_dashboard_parse_filter ("from=2026-01-01&to=2026-02-01&owner=Max%40OurCo.example"
                                             "&pipeline=big+deals&", &f, &error));
  g_assert_no_error (error);
  g_assert_cmpint (f.from, ==, 1767225600);
  g_assert_cmpint (f.to, ==, 1769904000);
  g_assert_cmpstr (f.owner, ==, "max@ourco.example"); /* normalised as the CLI's --owner */
  g_assert_cmpstr (f.pipeline, ==, "big deals");
  q = _sg_dashboard_filter_query (&f);
  g_assert_cmpstr (q, ==, "from=2026-01-01&to=2026-02-01&owner=max%40ourco.example&pipeline=big%20deals");
  _sg_dashboard_filter_clear (&f);
  /* Empty values (an empty form field) are no filter. */
  g_assert_true (_sg_dashboard_parse_filter ("from=&to=&owner=&pipeline=", &f, &error));
  g_assert_true (f.from == 0 && f.owner == NULL && f.pipeline == NULL);

  filter_fails ("colour=red", "unknown parameter “colour”");
  filter_fails ("from=2026-13-01", "parameter “from”: “2026-13-01” is not a day");
  filter_fails ("to=yesterday", "parameter “to”: “yesterday” is not a day");
  filter_fails ("from=2026-02-01&to=2026-01-01", "parameter “to”");
  filter_fails ("from=2026-02-01&to=2026-02-01", "the period ends before it starts");
  filter_fails ("owner=not-an-address", "parameter “owner”: “not-an-address” is not a mail address");
  filter_fails ("owner=%3Cscript%3E", "parameter “owner”");
  filter_fails ("pipeline=a%0Ab", "parameter “pipeline”");
  filter_fails ("pipeline=%FF", "parameter “pipeline”: its value has a bad %-escape or is not UTF-8");
  filter_fails ("from=%zz", "parameter “from”: its value has a bad %-escape");
  filter_fails ("%zz=1", "parameter “%zz”");
  long_value = g_strnfill (400, 'a');
  long_query = g_strconcat ("pipeline=", long_value, NULL);
  filter_fails (long_query, "parameter “pipeline”: “aaaa");
  filter_fails (long_query, "is too long");
}

/* Report tables shaped as sg_report_run() gives them, with hostile text everywhere. */
static SgTable *
managers_table (void)
{
  SgTable *t = sg_table_new ();

  sg_table_add_column (t, "account_manager", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "currency", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "processes", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "closing_ratio", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "closing_ratio_value", SG_COLUMN_REAL, SG_COLUMN_FLAG_DETAIL);
  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++) {
    sg_table_append_row (t);
    sg_table_set_text (t, 0, hostile[i]);
    sg_table_set_text (t, 1, "EUR");
    sg_table_set_int (t, 2, i + 1);
    if (i == 0) {
      sg_table_set_text (t, 3, "n/a"); /* nothing closed */
    } else {
      sg_table_take_text (t, 3, g_strdup_printf ("%.1f%%", 100.0 / (i + 1)));
      sg_table_set_real (t, 4, 1.0 / (i + 1));
    }
  }
  return t;
}

static SgTable *
one_column_table (const char *column, SgColumnType count_type)
{
  SgTable *t = sg_table_new ();

  sg_table_add_column (t, column, SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "organisation", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "requests", count_type, 0);
  sg_table_add_column (t, "entered", count_type, 0);
  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++) {
    sg_table_append_row (t);
    sg_table_set_text (t, 0, hostile[i]);
    sg_table_set_text (t, 1, hostile[(i + 1) % G_N_ELEMENTS (hostile)]);
    sg_table_set_int (t, 2, i);
    sg_table_set_int (t, 3, 10 - i);
  }
  return t;
}

static void
test_page_hostile (void)
{
  g_autoptr (SgTable) managers = managers_table ();
  g_autoptr (SgTable) stages = one_column_table ("stage", SG_COLUMN_INT);
  g_autoptr (SgTable) sources = one_column_table ("source", SG_COLUMN_INT);
  g_autoptr (SgTable) requests = one_column_table ("category", SG_COLUMN_INT);
  SgDashboardFilter f = { 0 };
  SgDashboardView view = { "boss\"><script>alert(4)</script>", &f, managers, stages, sources, requests };
  g_autofree char *page = NULL;

  f.pipeline = g_strdup ("\"><img src=x onerror=alert(5)>");
  f.owner = g_strdup ("max@ourco.example");
  f.from_day = g_strdup ("2026-01-01");
  page = _sg_dashboard_render_page (&view);
  _sg_dashboard_filter_clear (&f);

  g_assert_true (g_utf8_validate (page, -1, NULL));
  /* Nothing hostile became markup: no script element, no event handler attribute, and the
   * only images are the five charts. */
  assert_only_our_markup (page);
  g_assert_cmpuint (count (page, "<script"), ==, 0);
  g_assert_cmpuint (count (page, "<img"), ==, 5);
  g_assert_nonnull (strstr (page, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  g_assert_nonnull (strstr (page, "x&quot; onerror=&quot;alert(2)"));
  g_assert_nonnull (strstr (page, "y&apos; onmouseover=&apos;alert(3)"));
  g_assert_nonnull (strstr (page, "Tom &amp; Jerry &lt;tom@evil.example&gt;"));
  /* The filter is echoed in its input, attribute-escaped, and in the charts' URLs. */
  g_assert_nonnull (strstr (page, "name=\"pipeline\" value=\"&quot;&gt;&lt;img src=x onerror=alert(5)&gt;\""));
  g_assert_nonnull (strstr (page, "src=\"/dashboard/chart/managers.svg?from=2026-01-01&amp;owner=max%40ourco.example"
                                  "&amp;pipeline=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%285%29%3E\""));
  g_assert_nonnull (strstr (page, "boss&quot;&gt;&lt;script&gt;alert(4)&lt;/script&gt;"));
  /* Detail columns are for machine output; n/a stays n/a. */
  g_assert_null (strstr (page, "closing_ratio_value"));
  g_assert_nonnull (strstr (page, "<td data-col=\"closing_ratio\">n/a</td>"));
  g_assert_nonnull (strstr (page, "<td data-col=\"closing_ratio\">50.0%</td>"));
}

static void
test_page_empty (void)
{
  g_autoptr (SgTable) managers = sg_table_new ();
  g_autoptr (SgTable) stages = sg_table_new ();
  g_autoptr (SgTable) sources = sg_table_new ();
  g_autoptr (SgTable) requests = sg_table_new ();
  SgDashboardFilter f = { 0 };
  SgDashboardView view = { "boss", &f, managers, stages, sources, requests };
  g_autofree char *page = _sg_dashboard_render_page (&view);

  assert_only_our_markup (page);
  g_assert_nonnull (strstr (page, "id=\"report-managers-empty\">No sales processes for these filters."));
  g_assert_nonnull (strstr (page, "id=\"report-requests-empty\">No unfulfilled requests in this period."));
  g_assert_nonnull (strstr (page, "src=\"/dashboard/chart/stages.svg\""));
  g_assert_nonnull (strstr (page, "src=\"/dashboard/chart/stages-time.svg\""));
}

/* A "closing" table as the report gives it: three dimensions, hostile values. */
static SgTable *
closing_table (void)
{
  static const char *const dims[] = { "deliverable_kind", "deliverable_type", "industry" };
  SgTable *t = sg_table_new ();

  sg_table_add_column (t, "by", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "value", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "currency", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "processes", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "closing_ratio", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "closing_ratio_value", SG_COLUMN_REAL, SG_COLUMN_FLAG_DETAIL);
  for (guint d = 0; d < G_N_ELEMENTS (dims); d++)
    for (guint i = 0; i < G_N_ELEMENTS (hostile); i++) {
      if (d == 0 && i > 1)
        break; /* two kinds */
      sg_table_append_row (t);
      sg_table_set_text (t, 0, dims[d]);
      sg_table_set_text (t, 1, hostile[i]);
      if (i != 1)
        sg_table_set_text (t, 2, "EUR"); /* a NULL currency stays an empty cell */
      sg_table_set_int (t, 3, 10 * d + i);
      if (i == 0) {
        sg_table_set_text (t, 4, "n/a");
      } else {
        sg_table_take_text (t, 4, g_strdup_printf ("%.1f%%", 100.0 / (i + 1)));
        sg_table_set_real (t, 5, 1.0 / (i + 1));
      }
    }
  return t;
}

/* The closing page splits the report by dimension, keeps every row in its order, escapes
 * every value and drops the "by" column (the heading says it). */
static void
test_page_closing (void)
{
  g_autoptr (SgTable) closing = closing_table ();
  g_autoptr (SgTable) empty = sg_table_new ();
  SgDashboardFilter f = { 0 };
  g_autofree char *page = NULL;
  g_autofree char *none = NULL;
  const char *kind, *type, *industry;

  f.owner = g_strdup ("max@ourco.example");
  f.pipeline = g_strdup ("'><script>alert(6)</script>");
  page = _sg_dashboard_render_closing ("boss", &f, closing);
  _sg_dashboard_filter_clear (&f);
  assert_only_our_markup (page);
  g_assert_cmpuint (count (page, "<script"), ==, 0);
  g_assert_cmpuint (count (page, "<img"), ==, 1);
  g_assert_cmpuint (count (page, "<table"), ==, 3);
  kind = strstr (page, "<table id=\"report-closing-deliverable_kind\">");
  type = strstr (page, "<table id=\"report-closing-deliverable_type\">");
  industry = strstr (page, "<table id=\"report-closing-industry\">");
  g_assert_true (kind != NULL && type != NULL && industry != NULL && kind < type && type < industry);
  /* 2 kinds + 6 types + 6 industries, one <tr> each plus the three header rows. */
  g_assert_cmpuint (count (page, "<tr>"), ==, 2 + 6 + 6 + 3);
  g_assert_cmpuint (count (type, "<td data-col=\"processes\" class=\"num\">1"), ==, 6);
  g_assert_null (strstr (page, "data-col=\"by\""));
  g_assert_nonnull (strstr (page, "<td data-col=\"value\">&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
  g_assert_nonnull (strstr (page, "<td data-col=\"value\">x&quot; onerror=&quot;alert(2)</td><td data-col=\"currency\"></td>"));
  g_assert_nonnull (strstr (page, "<td data-col=\"closing_ratio\">n/a</td>"));
  /* The filters in the form, the navigation and the chart's URL; this page is current. */
  g_assert_nonnull (strstr (page, "name=\"pipeline\" value=\"&apos;&gt;&lt;script&gt;alert(6)&lt;/script&gt;\""));
  g_assert_nonnull (strstr (page, "<a href=\"/dashboard/closing?owner=max%40ourco.example&amp;pipeline="));
  g_assert_nonnull (strstr (page, "\" class=\"current\">Closing ratios</a>"));
  g_assert_nonnull (strstr (page, "<form method=\"get\" action=\"/dashboard/closing\""));
  g_assert_nonnull (strstr (page, "src=\"/dashboard/chart/closing.svg?owner=max%40ourco.example&amp;pipeline="));

  none = _sg_dashboard_render_closing ("boss", &f, empty);
  assert_only_our_markup (none);
  g_assert_cmpuint (count (none, "No sales processes for these filters."), ==, 3);
  g_assert_nonnull (strstr (none, "id=\"report-closing-industry-empty\""));
}

/* A "notes" table as dashboard-report.c gives it, with withheld texts. */
static SgTable *
notes_table (void)
{
  SgTable *t = sg_table_new ();

  sg_table_add_column (t, "organisation", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "domain", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "notes", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "negative", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "latest", SG_COLUMN_TIME, 0);
  sg_table_add_column (t, "latest_text", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "latest_text" SG_DASHBOARD_WITHHELD, SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "texts_withheld", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++) {
    sg_table_append_row (t);
    sg_table_set_text (t, 0, hostile[i]);
    sg_table_set_text (t, 1, "x.example");
    sg_table_set_int (t, 2, 3);
    sg_table_set_int (t, 3, i % 2);
    sg_table_set_int (t, 4, 1767225600 + 86400 * i);
    /* Rows 2 and 4: the latest text did not come; one of the three notes of every other row
     * came without its text. */
    if (i == 2 || i == 4) {
      sg_table_set_int (t, 6, 1);
    } else {
      sg_table_set_text (t, 5, hostile[(i + 3) % G_N_ELEMENTS (hostile)]);
      sg_table_set_int (t, 6, 0);
    }
    sg_table_set_int (t, 7, i % 2);
  }
  return t;
}

static void
test_page_notes (void)
{
  g_autoptr (SgTable) notes = notes_table ();
  g_autoptr (SgTable) empty = sg_table_new ();
  SgDashboardFilter f = { 0 };
  g_autofree char *page = NULL;
  g_autofree char *none = NULL;

  f.from_day = g_strdup ("2026-01-01");
  page = _sg_dashboard_render_notes ("boss", &f, notes);
  assert_only_our_markup (page);
  g_assert_cmpuint (count (page, "<script"), ==, 0);
  g_assert_cmpuint (count (page, "<img"), ==, 1);
  /* Withheld texts are marked as such, never shown empty or guessed. */
  g_assert_cmpuint (count (page, "<td data-col=\"latest_text\" class=\"withheld\">not shared by its author</td>"), ==, 2);
  g_assert_cmpuint (count (page, "<td data-col=\"latest_text\">"), ==, G_N_ELEMENTS (hostile) - 2);
  g_assert_nonnull (strstr (page, "<td data-col=\"latest_text\">Tom &amp; Jerry &lt;tom@evil.example&gt;</td>"));
  g_assert_nonnull (strstr (page, "<td data-col=\"latest\">2026-01-01T00:00:00Z</td>"));
  /* The page says how many notes came without their text: 3 rows of 6 lack one. */
  g_assert_nonnull (strstr (page, "id=\"notes-withheld\">3 of the 18 notes in this period came without their text"));
  g_assert_null (strstr (page, "texts_withheld"));
  g_assert_nonnull (strstr (page, "\" class=\"current\">Customer notes</a>"));
  g_assert_nonnull (strstr (page, "src=\"/dashboard/chart/notes.svg?from=2026-01-01\""));

  none = _sg_dashboard_render_notes ("boss", &f, empty);
  _sg_dashboard_filter_clear (&f);
  assert_only_our_markup (none);
  g_assert_nonnull (strstr (none, "id=\"report-notes-empty\">No customer-experience notes in this period."));
  g_assert_null (strstr (none, "notes-withheld"));
  g_assert_nonnull (strstr (none, "id=\"notes-privacy\""));
}

#ifdef HAVE_CAIRO
/* The time-in-stage columns of a "stages" table: hostile stage names, one stay not over. */
static SgTable *
stages_time_table (void)
{
  SgTable *t = sg_table_new ();

  sg_table_add_column (t, "stage", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "avg_days", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "avg_days_value", SG_COLUMN_REAL, SG_COLUMN_FLAG_DETAIL);
  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++) {
    sg_table_append_row (t);
    sg_table_set_text (t, 0, hostile[i]);
    if (i == 1) {
      sg_table_set_text (t, 1, "n/a");
    } else {
      sg_table_take_text (t, 1, g_strdup_printf ("%.1f", 2.5 * i));
      sg_table_set_real (t, 2, 2.5 * i);
    }
  }
  return t;
}

/* A GMarkup parse: the SVG is well-formed XML; counts its elements. */
static void
count_element (GMarkupParseContext *ctx, const char *name, const char **an, const char **av, gpointer data,
               GError **error)
{
  GHashTable *counts = data;

  g_hash_table_insert (counts, g_strdup (name), GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts, name)) + 1));
}

static void
test_chart_hostile (void)
{
  static const char *const reports[] = { "managers", "stages", "requests", "closing", "notes", "stages-time" };

  for (guint i = 0; i < G_N_ELEMENTS (reports); i++) {
    g_autoptr (SgTable) t = i == 0 ? managers_table () : i == 3 ? closing_table () : i == 4 ? notes_table ()
                            : i == 5 ? stages_time_table ()
                            : one_column_table (i == 1 ? "stage" : "category", SG_COLUMN_INT);
    g_autoptr (GError) error = NULL;
    g_autoptr (GBytes) svg = sg_chart_svg (t, reports[i], 0, &error);
    g_autoptr (GHashTable) counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    GMarkupParser parser = { count_element, NULL, NULL, NULL, NULL };
    g_autoptr (GMarkupParseContext) ctx = g_markup_parse_context_new (&parser, 0, counts, NULL);
    gsize len;
    const char *data;

    g_assert_no_error (error);
    data = g_bytes_get_data (svg, &len);
    g_assert_true (g_markup_parse_context_parse (ctx, data, (gssize) len, &error));
    g_assert_true (g_markup_parse_context_end_parse (ctx, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (counts, "svg")), ==, 1);
    g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (counts, "script")), ==, 0);
    g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (counts, "foreignObject")), ==, 0);
    /* The hostile labels are drawn as glyphs, never as markup or text. */
    g_assert_null (g_strstr_len (data, (gssize) len, "alert("));
  }
  {
    /* 50 rows, 10 drawn: 56 + 26 x (10 + the "more" line) + 24 points high. */
    g_autoptr (SgTable) t = sg_table_new ();
    g_autoptr (GError) error = NULL;
    g_autoptr (GBytes) all = NULL;
    g_autoptr (GBytes) ten = NULL;

    sg_table_add_column (t, "category", SG_COLUMN_TEXT, 0);
    sg_table_add_column (t, "requests", SG_COLUMN_INT, 0);
    for (guint i = 0; i < 50; i++) {
      sg_table_append_row (t);
      sg_table_take_text (t, 0, g_strdup_printf ("c%u", i));
      sg_table_set_int (t, 1, 50 - i);
    }
    ten = sg_chart_svg (t, "requests", 10, &error);
    all = sg_chart_svg (t, "requests", 0, &error);
    g_assert_no_error (error);
    g_assert_nonnull (g_strstr_len (g_bytes_get_data (ten, NULL), 400, "height=\"366pt\""));
    g_assert_nonnull (g_strstr_len (g_bytes_get_data (all, NULL), 400, "height=\"1380pt\""));
  }
  {
    g_autoptr (SgTable) t = managers_table ();
    g_autoptr (GError) error = NULL;

    g_assert_null (sg_chart_svg (t, "funnel", 0, &error));
    g_assert_error (error, SG_CHART_ERROR, SG_CHART_ERROR_UNKNOWN);
  }
  cairo_debug_reset_static_data ();
}
#endif

static const char *
header (const SgDashboardResponse *resp, const char *name)
{
  for (guint i = 0; i + 1 < resp->headers->len; i += 2)
    if (g_ascii_strcasecmp (resp->headers->pdata[i], name) == 0)
      return resp->headers->pdata[i + 1];
  return NULL;
}

static const char *
body (const SgDashboardResponse *resp)
{
  /* The bodies built here are NUL-terminated strings. */
  return g_bytes_get_data (resp->body, NULL);
}

/* Routes answered before any database work: db is NULL, and a query would crash. */
static void
test_routes (void)
{
  SgDashboardRequest req = { .method = "GET", .path = "/dashboardx" };
  SgDashboardResponse resp = { 0 };
  g_autofree char *big = g_strnfill (SG_DASHBOARD_MAX_FORM + 1, 'a');

  g_assert_false (sg_dashboard_handle (&req, NULL, &resp));
  req.path = "/v1/sync";
  g_assert_false (sg_dashboard_handle (&req, NULL, &resp));
  g_assert_null (resp.headers);

  req.path = "/dashboard/style.css";
  g_assert_true (sg_dashboard_handle (&req, NULL, &resp));
  g_assert_cmpuint (resp.status, ==, 200);
  g_assert_cmpstr (resp.content_type, ==, "text/css; charset=utf-8");
  g_assert_nonnull (strstr (header (&resp, "Content-Security-Policy"), "default-src 'none'"));
  sg_dashboard_response_clear (&resp);

  req.path = "/dashboard/login";
  g_assert_true (sg_dashboard_handle (&req, NULL, &resp));
  g_assert_cmpuint (resp.status, ==, 200);
  g_assert_nonnull (strstr (body (&resp), "<form method=\"post\" action=\"/dashboard/login\""));
  g_assert_nonnull (strstr (body (&resp), "name=\"token\" type=\"password\""));
  sg_dashboard_response_clear (&resp);

  req.method = "PUT";
  g_assert_true (sg_dashboard_handle (&req, NULL, &resp));
  g_assert_cmpuint (resp.status, ==, 405);
  g_assert_cmpstr (header (&resp, "Allow"), ==, "GET, HEAD, POST");
  sg_dashboard_response_clear (&resp);

  /* The new pages and charts need a session like the others (no cookie: no database work). */
  req.method = "GET";
  for (guint i = 0; i < 4; i++) {
    static const char *const paths[] = { "/dashboard/closing", "/dashboard/notes", "/dashboard/chart/closing.svg",
                                         "/dashboard/chart/notes.svg" };

    req.path = paths[i];
    g_assert_true (sg_dashboard_handle (&req, NULL, &resp));
    g_assert_cmpuint (resp.status, ==, 401);
    g_assert_nonnull (strstr (header (&resp, "Content-Security-Policy"), "default-src 'none'"));
    sg_dashboard_response_clear (&resp);
  }

  req.path = "/dashboard/logout";
  g_assert_true (sg_dashboard_handle (&req, NULL, &resp));
  g_assert_cmpuint (resp.status, ==, 405); /* a link or an <img> cannot log a manager out */
  sg_dashboard_response_clear (&resp);

  req.method = "POST";
  req.path = "/dashboard/login";
  req.body = big;
  req.body_len = strlen (big);
  g_assert_true (sg_dashboard_handle (&req, NULL, &resp));
  g_assert_cmpuint (resp.status, ==, 413);
  sg_dashboard_response_clear (&resp);

  req.body = "login=boss&token=";
  req.body_len = strlen (req.body);
  g_assert_true (sg_dashboard_handle (&req, NULL, &resp));
  g_assert_cmpuint (resp.status, ==, 400);
  g_assert_nonnull (strstr (body (&resp), "Give your login and API token."));
  sg_dashboard_response_clear (&resp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dashboard/escape", test_escape);
  g_test_add_func ("/dashboard/filter", test_filter);
  g_test_add_func ("/dashboard/page/hostile", test_page_hostile);
  g_test_add_func ("/dashboard/page/empty", test_page_empty);
  g_test_add_func ("/dashboard/page/closing", test_page_closing);
  g_test_add_func ("/dashboard/page/notes", test_page_notes);
#ifdef HAVE_CAIRO
  g_test_add_func ("/dashboard/chart/hostile", test_chart_hostile);
#endif
  g_test_add_func ("/dashboard/routes", test_routes);
  return g_test_run ();
}
