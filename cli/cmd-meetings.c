/* cmd-meetings.c: salesgetter meetings — occurrences of meetings in a window. */
#include "config.h"

#include "cli.h"

#include <string.h>

/* The default window: 30 days back and 30 days ahead of now. */
#define DEFAULT_DAYS 30

/* "2026-03-19" (00:00 UTC that day) or ISO 8601 ("2026-03-19T14:00:00Z", with an offset). */
static gboolean
parse_when (const char *text, const char *option, gint64 *out)
{
  g_autoptr (GDateTime) dt = NULL;
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();

  if (strlen (text) == 10) {
    g_autofree char *full = g_strconcat (text, "T00:00:00Z", NULL);

    dt = g_date_time_new_from_iso8601 (full, utc);
  } else {
    dt = g_date_time_new_from_iso8601 (text, utc);
  }
  if (dt == NULL) {
    sg_cli_error ("meetings: %s “%s” is not a date (YYYY-MM-DD or ISO 8601, e.g. 2026-03-19T14:00:00Z)",
                  option, text);
    return FALSE;
  }
  *out = g_date_time_to_unix (dt);
  return TRUE;
}

int
sg_cmd_meetings (int argc, char **argv, SgGlobalOptions *globals)
{
  g_autofree char *from = NULL, *to = NULL, *org = NULL, *tag = NULL;
  gboolean all = FALSE;
  const GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, "Occurrences ending after this (default: 30 days ago)", "DATE" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, "Occurrences starting before this (default: in 30 days)", "DATE" },
    { "org", 'o', 0, G_OPTION_ARG_STRING, &org, "Only meetings with someone of this organisation", "DOMAIN" },
    { "tag", 't', 0, G_OPTION_ARG_STRING, &tag, "Only meetings with this tag", "TAG" },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Include cancelled meetings", NULL },
    { NULL },
  };
  g_autoptr (SgConfig) config = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (SgTable) table = NULL;
  g_autoptr (GError) error = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  SgMeetingFilter filter = { now - DEFAULT_DAYS * 86400, now + DEFAULT_DAYS * 86400, NULL, NULL, FALSE };
  SgFormat format;

  if (!sg_cli_parse ("meetings", NULL,
                     "Lists the meetings in a window (by default from 30 days ago to 30 days ahead),\n"
                     "recurring meetings expanded into their occurrences, earliest first.\n"
                     "DATE is YYYY-MM-DD (00:00 UTC) or ISO 8601 such as 2026-03-19T14:00:00+01:00.",
                     entries, TRUE, &argc, &argv, globals) ||
      !sg_cli_get_format (globals, &format))
    return SG_EXIT_USAGE;
  if (argc > 1) {
    sg_cli_error ("meetings: takes no arguments (see 'salesgetter meetings --help')");
    return SG_EXIT_USAGE;
  }
  if ((from && !parse_when (from, "--from", &filter.from)) || (to && !parse_when (to, "--to", &filter.to)))
    return SG_EXIT_USAGE;
  if (filter.to <= filter.from) {
    sg_cli_error ("meetings: --to must be after --from");
    return SG_EXIT_USAGE;
  }
  filter.org = org;
  filter.tag = tag;
  filter.with_cancelled = all;
  if ((config = sg_cli_load_config (globals)) == NULL ||
      (store = sg_cli_open_store (globals, config, TRUE)) == NULL)
    return SG_EXIT_FAILED;
  table = sg_meetings_list (store, &filter, &error);
  if (table == NULL) {
    sg_cli_error ("%s", error->message);
    return SG_EXIT_FAILED;
  }
  sg_output_table (table, format);
  return SG_EXIT_OK;
}
