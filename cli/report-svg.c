/* report-svg.c: salesgetter report --format svg — the chart a manager wants for each
 * report, drawn with cairo's SVG surface: bars for ratios and counts, a funnel for the
 * stages. Front-end only: the library returns tables, the CLI draws them. */
#include "config.h"

#include "cli.h"

#include <cairo.h>
#include <cairo-svg.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const char *report;
  const char *title;
  const char *labels[3]; /* text columns joined into a bar's label */
  const char *value;     /* the bar's length: a 0..1 ratio (ratio) or a count */
  const char *value_text; /* written beside the bar */
  gboolean ratio;
  gboolean funnel;
} Chart;

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
};

static int
column (const SgTable *t, const char *name)
{
  for (guint c = 0; name != NULL && c < sg_table_get_n_columns (t); c++)
    if (strcmp (sg_table_get_column_name (t, c), name) == 0)
      return (int) c;
  return -1;
}

static cairo_status_t
write_stdout (void *closure, const unsigned char *data, unsigned int length)
{
  return fwrite (data, 1, length, stdout) == length ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/* Text safe to draw: control characters replaced, at most 40 characters. (transfer full) */
static char *
label_text (const char *s)
{
  g_autofree char *safe = sg_cli_sanitize (s ? s : "");
  glong n = g_utf8_strlen (safe, -1);

  if (n <= 40)
    return g_steal_pointer (&safe);
  return g_strconcat (g_utf8_substring (safe, 0, 39), "…", NULL);
}

gboolean
sg_output_report_svg (const SgTable *t, const char *report)
{
  const Chart *ch = NULL;
  const double width = 860, left = 320, bar_area = 420, row_h = 26, top = 56;
  guint n = sg_table_get_n_rows (t);
  double height = top + row_h * MAX (n, 1) + 24, max = 0;
  cairo_surface_t *surface;
  cairo_t *cr;
  int vcol, tcol;

  for (guint i = 0; i < G_N_ELEMENTS (charts); i++)
    if (strcmp (charts[i].report, report) == 0)
      ch = &charts[i];
  if (ch == NULL) {
    sg_cli_error ("report: no chart for “%s”", report);
    return FALSE;
  }
  vcol = column (t, ch->value);
  tcol = column (t, ch->value_text);
  for (guint r = 0; r < n; r++) {
    if (vcol >= 0 && !sg_table_is_null (t, r, (guint) vcol)) {
      double v = sg_table_get_column_type (t, (guint) vcol) == SG_COLUMN_REAL ? sg_table_get_real (t, r, (guint) vcol)
                                                                              : (double) sg_table_get_int (t, r, (guint) vcol);
      max = MAX (max, v);
    }
  }
  if (ch->ratio)
    max = 1.0;

  surface = cairo_svg_surface_create_for_stream (write_stdout, NULL, width, height);
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
        g_string_append_printf (label, "%s%s", label->len ? " " : "", cell);
    }
    shown = label_text (label->str);
    g_string_free (label, TRUE);
    cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
    cairo_move_to (cr, 16, y + 17);
    cairo_show_text (cr, shown);
    if (!null_value)
      v = sg_table_get_column_type (t, (guint) vcol) == SG_COLUMN_REAL ? sg_table_get_real (t, r, (guint) vcol)
                                                                       : (double) sg_table_get_int (t, r, (guint) vcol);
    w = max > 0 ? bar_area * v / max : 0;
    /* A funnel centres its bars; other charts grow from the left. */
    cairo_set_source_rgb (cr, 0.20, 0.45, 0.70);
    cairo_rectangle (cr, ch->funnel ? left + (bar_area - w) / 2 : left, y + 4, w, row_h - 8);
    cairo_fill (cr);
    if (null_value && ch->ratio)
      value_label = g_strdup ("n/a");
    else if (ch->ratio)
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
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS) {
    sg_cli_error ("report: cannot write the SVG: %s", cairo_status_to_string (cairo_surface_status (surface)));
    cairo_surface_destroy (surface);
    return FALSE;
  }
  cairo_surface_destroy (surface);
  /* cairo's font caches live for the process; free them so that leak checkers see none. */
  cairo_debug_reset_static_data ();
  return fflush (stdout) == 0;
}
