/* sg-chart.c: report charts with cairo (see sg-chart.h). Moved from cli/report-svg.c so
 * that the dashboard draws the very same charts. */
#include "config.h"

#include "sg-chart.h"

#include <cairo.h>
#include <cairo-svg.h>
#include <string.h>

G_DEFINE_QUARK (sg-chart-error-quark, sg_chart_error)

typedef struct {
  const char *report;
  const char *title;
  const char *labels[3];  /* text columns joined into a bar's label */
  const char *value;      /* the bar's length: a 0..1 ratio (ratio) or a count */
  const char *value_text; /* written beside the bar */
  gboolean ratio;
  gboolean funnel;
  const char *unit; /* nullable: the value is written as value_text and this unit ("n/a" when NULL) */
} Chart;

/* A dimension of the closing report ("by"), as a reader says it on a bar. */
static const char *
dimension_label (const char *by)
{
  if (strcmp (by, "deliverable_kind") == 0)
    return "kind:";
  if (strcmp (by, "deliverable_type") == 0)
    return "type:";
  if (strcmp (by, "industry") == 0)
    return "industry:";
  return by;
}

static const Chart charts[] = {
  { "managers", "Closing ratio per account manager", { "account_manager", "currency" }, "closing_ratio_value",
    "closing_ratio", TRUE, FALSE },
  { "stages", "Sales funnel: processes that entered each stage", { "stage" }, "entered", "drop_off", FALSE, TRUE },
  { "sources", "Closing ratio per lead source", { "source", "currency" }, "closing_ratio_value", "closing_ratio",
    TRUE, FALSE },
  { "closing", "Closing ratio per deliverable kind, type and industry", { "by", "value", "currency" },
    "closing_ratio_value", "closing_ratio", TRUE, FALSE },
  { "requests", "Unfulfilled requests by category and organisation", { "category", "organisation" }, "requests",
    NULL, FALSE, FALSE },
  { "notes", "Customer-experience notes per organisation", { "organisation" }, "notes", "negative", FALSE, FALSE },
  /* Not a report of its own: the time-in-stage columns of "stages" (the dashboard draws it). */
  { "stages-time", "Time in stage: average days of the stays that are over", { "stage" }, "avg_days_value",
    "avg_days", FALSE, FALSE, "days" },
};

static const Chart *
find_chart (const char *report)
{
  for (guint i = 0; report != NULL && i < G_N_ELEMENTS (charts); i++)
    if (strcmp (charts[i].report, report) == 0)
      return &charts[i];
  return NULL;
}

gboolean
sg_chart_has (const char *report)
{
  return find_chart (report) != NULL;
}

static int
column (const SgTable *t, const char *name)
{
  for (guint c = 0; name != NULL && c < sg_table_get_n_columns (t); c++)
    if (strcmp (sg_table_get_column_name (t, c), name) == 0)
      return (int) c;
  return -1;
}

static cairo_status_t
append_bytes (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

/* Text safe to draw: control characters and bidirectional overrides replaced (they could
 * make a name display as something else), at most 40 characters. (transfer full) */
static char *
label_text (const char *s)
{
  g_autofree char *valid = g_utf8_make_valid (s ? s : "", -1);
  GString *out = g_string_new (NULL);
  glong n = 0;

  for (const char *p = valid; *p; p = g_utf8_next_char (p), n++) {
    gunichar c = g_utf8_get_char (p);

    if (n == 39 && g_utf8_strlen (p, -1) > 1) {
      g_string_append (out, "…");
      break;
    }
    if (g_unichar_iscntrl (c) || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069))
      g_string_append (out, "\xef\xbf\xbd");
    else
      g_string_append_unichar (out, c);
  }
  return g_string_free (out, FALSE);
}

static double
cell_value (const SgTable *t, guint r, int col)
{
  return sg_table_get_column_type (t, (guint) col) == SG_COLUMN_REAL ? sg_table_get_real (t, r, (guint) col)
                                                                      : (double) sg_table_get_int (t, r, (guint) col);
}

GBytes *
sg_chart_svg (const SgTable *t, const char *report, guint max_rows, GError **error)
{
  const Chart *ch = find_chart (report);
  const double width = 860, left = 320, bar_area = 420, row_h = 26, top = 56;
  GByteArray *out;
  guint n, all;
  double height, max = 0;
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;
  int vcol, tcol;

  g_return_val_if_fail (t != NULL, NULL);
  if (ch == NULL) {
    g_set_error (error, SG_CHART_ERROR, SG_CHART_ERROR_UNKNOWN, "no chart for “%s”", report ? report : "");
    return NULL;
  }
  all = n = sg_table_get_n_rows (t);
  if (max_rows > 0 && n > max_rows)
    n = max_rows;
  height = top + row_h * (MAX (n, 1) + (n < all)) + 24;
  vcol = column (t, ch->value);
  tcol = column (t, ch->value_text);
  for (guint r = 0; r < n; r++)
    if (vcol >= 0 && !sg_table_is_null (t, r, (guint) vcol))
      max = MAX (max, cell_value (t, r, vcol));
  if (ch->ratio)
    max = 1.0;

  out = g_byte_array_new ();
  surface = cairo_svg_surface_create_for_stream (append_bytes, out, width, height);
  cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 16);
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  cairo_move_to (cr, 16, 30);
  cairo_show_text (cr, ch->title);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 12);
  if (n == 0) {
    cairo_move_to (cr, 16, top + 16);
    cairo_show_text (cr, "No data for this report and these filters.");
  }
  for (guint r = 0; r < n; r++) {
    GString *label = g_string_new (NULL);
    double y = top + row_h * r, v = 0, w;
    gboolean null_value = vcol < 0 || sg_table_is_null (t, r, (guint) vcol);
    g_autofree char *shown = NULL;
    g_autofree char *value_label = NULL;

    for (guint k = 0; k < G_N_ELEMENTS (ch->labels) && ch->labels[k] != NULL; k++) {
      int c = column (t, ch->labels[k]);
      g_autofree char *cell = c >= 0 ? sg_table_format_cell (t, r, (guint) c) : NULL;

      if (cell != NULL)
        g_string_append_printf (label, "%s%s", label->len ? " " : "",
                                strcmp (ch->labels[k], "by") == 0 ? dimension_label (cell) : cell);
    }
    shown = label_text (label->str);
    g_string_free (label, TRUE);
    cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
    cairo_move_to (cr, 16, y + 17);
    cairo_show_text (cr, shown);
    if (!null_value)
      v = cell_value (t, r, vcol);
    w = max > 0 ? bar_area * v / max : 0;
    /* A funnel centres its bars; other charts grow from the left. */
    cairo_set_source_rgb (cr, 0.20, 0.45, 0.70);
    cairo_rectangle (cr, ch->funnel ? left + (bar_area - w) / 2 : left, y + 4, w, row_h - 8);
    cairo_fill (cr);
    if (null_value && (ch->ratio || ch->unit != NULL))
      value_label = g_strdup ("n/a");
    else if (ch->unit != NULL) {
      g_autofree char *text = tcol >= 0 ? sg_table_format_cell (t, r, (guint) tcol) : NULL;

      value_label = g_strdup_printf ("%s %s", text ? text : "", ch->unit);
    } else if (ch->ratio)
      value_label = tcol >= 0 ? sg_table_format_cell (t, r, (guint) tcol) : NULL;
    else if (ch->funnel && tcol >= 0) {
      g_autofree char *drop = sg_table_format_cell (t, r, (guint) tcol);

      value_label = g_strdup_printf ("%.0f (drop-off %s)", v, drop ? drop : "n/a");
    } else if (tcol >= 0) {
      g_autofree char *extra = sg_table_format_cell (t, r, (guint) tcol);

      value_label = g_strdup_printf ("%.0f (%s %s)", v, extra ? extra : "0", ch->value_text);
    } else
      value_label = g_strdup_printf ("%.0f", v);
    cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
    cairo_move_to (cr, left + bar_area + 8, y + 17);
    cairo_show_text (cr, value_label ? value_label : "");
  }
  if (n < all) {
    g_autofree char *more = g_strdup_printf ("… and %u more rows: see the table.", all - n);

    cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
    cairo_move_to (cr, 16, top + row_h * n + 17);
    cairo_show_text (cr, more);
  }
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS) {
    g_set_error (error, SG_CHART_ERROR, SG_CHART_ERROR_FAILED, "cannot draw the SVG: %s", cairo_status_to_string (status));
    g_byte_array_unref (out);
    return NULL;
  }
  return g_byte_array_free_to_bytes (out);
}
