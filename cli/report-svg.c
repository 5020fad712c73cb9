/* report-svg.c: salesgetter report --format svg — the chart a manager wants for each
 * report. The drawing is shared with the server's dashboard (common/sg-chart.c); this
 * writes it to standard output. */
#include "config.h"

#include "cli.h"
#include "sg-chart.h"

#include <cairo.h>
#include <stdio.h>

gboolean
sg_output_report_svg (const SgTable *t, const char *report)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) svg = sg_chart_svg (t, report, 0, &error);
  gsize len = 0;
  const char *data;

  /* cairo's font caches live for the process; free them so that leak checkers see none. */
  cairo_debug_reset_static_data ();
  if (svg == NULL) {
    sg_cli_error ("report: %s", error->message);
    return FALSE;
  }
  data = g_bytes_get_data (svg, &len);
  return fwrite (data, 1, len, stdout) == len && fflush (stdout) == 0;
}
