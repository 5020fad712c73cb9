/* sg-chart.h: the chart a manager wants for each report (bars for ratios and counts, a
 * funnel for the stages), drawn with cairo's SVG surface. Shared by the CLI (`report
 * --format svg`) and the server's dashboard, so both draw the same chart from the same
 * SgTable. Front-end code: the library returns tables, the front ends draw them. */
#pragma once

#include <glib.h>
#include "sg-table.h"

G_BEGIN_DECLS

#define SG_CHART_ERROR (sg_chart_error_quark ())
GQuark sg_chart_error_quark (void);

typedef enum {
  SG_CHART_ERROR_UNKNOWN, /* no chart for that report */
  SG_CHART_ERROR_FAILED,  /* cairo could not draw or write the SVG */
} SgChartError;

/* Returns: TRUE when @report (a sg_report_names() name) has a chart. Besides the reports,
 * "stages-time" draws the time-in-stage columns of a "stages" table (average days). */
gboolean sg_chart_has (const char *report);

/* Draws the chart of @report from @table (the columns sg_report_run() gives) as an SVG
 * document: the first @max_rows rows (0: all), then a line saying how many more the table
 * has. Labels have control characters and bidirectional overrides replaced and are cut at
 * 40 characters; cairo escapes what it writes. Returns: (transfer full): the SVG, or NULL
 * with SG_CHART_ERROR. */
GBytes *sg_chart_svg (const SgTable *table, const char *report, guint max_rows, GError **error);

G_END_DECLS
