/* cmd-report.c: salesgetter report — reports for sales management. */
#include "config.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>

/* "YYYY-MM-DD" (UTC midnight) to Unix seconds. */
static gboolean
parse_day (const char *text, gint64 *out)
{
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autofree char *iso = g_strdup_printf ("%sT00:00:00Z", text);
  g_autoptr (GDateTime) dt = NULL;

  if (strlen (text) != 10 || (dt = g_date_time_new_from_iso8601 (iso, utc)) == NULL)
    return FALSE;
  *out = g_date_time_to_unix (dt);
  return TRUE;
}

int
sg_cmd_report (int argc, char **argv, SgGlobalOptions *globals)
{
  g_autofree char *owner = NULL;
  g_autofree char *pipeline = NULL;
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  const GOptionEntry entries[] = {
    { "owner", 'o', 0, G_OPTION_ARG_STRING, &owner, "Only this account manager's processes", "ADDRESS" },
    { "pipeline", 'p', 0, G_OPTION_ARG_STRING, &pipeline, "Only this pipeline (stages: default 'default')", "NAME" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, "Processes opened on or after this day", "YYYY-MM-DD" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, "Processes opened before this day", "YYYY-MM-DD" },
    { NULL },
  };
  g_autoptr (SgConfig) config = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (SgTable) table = NULL;
  g_autoptr (GError) error = NULL;
  SgReportFilter filter = { 0 };
  SgFormat format;

  /* --format svg is this command's own (a chart); the others go to sg_cli_get_format(). */
  gboolean svg = FALSE;

  if (!sg_cli_parse ("report", "NAME",
                     "Reports for sales management:\n"
                     "  managers  per account manager: processes, won, lost, closing ratio, won value,\n"
                     "            average cost of a sales process\n"
                     "  stages    stage drop-off: processes that entered each stage and were lost from it\n"
                     "  sources   lead-source effectiveness: leads, processes, won, closing ratio, revenue\n"
                     "  closing   closing ratios per deliverable kind, deliverable type and industry\n"
                     "  requests  unfulfilled requests by category and organisation\n"
                     "  notes     customer-experience notes per organisation, by sentiment\n"
                     "--format table|json|csv|svg (svg: a bar chart, or a funnel for stages).",
                     entries, TRUE, &argc, &argv, globals))
    return SG_EXIT_USAGE;
  if (g_strcmp0 (globals->format, "svg") == 0) {
#ifdef HAVE_CAIRO
    svg = TRUE;
    format = SG_FORMAT_TABLE;
#else
    sg_cli_error ("report: --format svg needs a salesgetter built with cairo");
    return SG_EXIT_USAGE;
#endif
  } else if (!sg_cli_get_format (globals, &format)) {
    return SG_EXIT_USAGE;
  }
  if (argc != 2) {
    sg_cli_error ("report: give one report NAME: managers, stages, sources, closing, requests or notes (see 'salesgetter report --help')");
    return SG_EXIT_USAGE;
  }
  if ((from != NULL && !parse_day (from, &filter.from)) || (to != NULL && !parse_day (to, &filter.to))) {
    sg_cli_error ("report: --%s “%s” is not a day (YYYY-MM-DD)", from != NULL && filter.from == 0 ? "from" : "to",
                  from != NULL && filter.from == 0 ? from : to);
    return SG_EXIT_USAGE;
  }
  filter.owner = owner;
  filter.pipeline = pipeline;
  if ((config = sg_cli_load_config (globals)) == NULL || (store = sg_cli_open_store (globals, config, TRUE)) == NULL)
    return SG_EXIT_FAILED;
  table = sg_report_run (store, argv[1], &filter, &error);
  if (table == NULL) {
    sg_cli_error ("report: %s", error->message);
    return error->domain == SG_REPORT_ERROR ? SG_EXIT_USAGE : SG_EXIT_FAILED;
  }
#ifdef HAVE_CAIRO
  if (svg)
    return sg_output_report_svg (table, argv[1]) ? SG_EXIT_OK : SG_EXIT_FAILED;
#endif
  (void) svg;
  sg_output_table (table, format);
  return SG_EXIT_OK;
}
