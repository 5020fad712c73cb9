/* cmd-note.c: salesgetter note and salesgetter request — the life cycle after (or around) a
 * sale: customer-experience notes and requests the company could not fulfil. */
#include "config.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>

static gboolean
parse_date (const char *command, const char *text, gint64 *out)
{
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autofree char *iso = NULL;
  g_autoptr (GDateTime) dt = NULL;

  if (text == NULL)
    return TRUE;
  iso = strlen (text) == 10 ? g_strdup_printf ("%sT00:00:00Z", text) : g_strdup (text);
  dt = g_date_time_new_from_iso8601 (iso, utc);
  if (dt == NULL) {
    sg_cli_error ("%s: “%s” is not a date (YYYY-MM-DD)", command, text);
    return FALSE;
  }
  *out = g_date_time_to_unix (dt);
  return TRUE;
}

/* Both commands: 'add' with options, or 'list [--org DOMAIN]'. */
static int
run (const char *command, int argc, char **argv, SgGlobalOptions *globals)
{
  gboolean is_note = strcmp (command, "note") == 0;
  g_autofree char *org = NULL, *process = NULL, *person = NULL, *sentiment = NULL, *category = NULL;
  g_autofree char *date = NULL;
  const GOptionEntry note_entries[] = {
    { "org", 'o', 0, G_OPTION_ARG_STRING, &org, "The organisation (a domain of it)", "DOMAIN" },
    { "process", 'p', 0, G_OPTION_ARG_STRING, &process, "The sales process it is about", "PROCESS" },
    { "person", 0, 0, G_OPTION_ARG_STRING, &person, "The person it is about", "ADDRESS" },
    { "sentiment", 0, 0, G_OPTION_ARG_STRING, &sentiment, "positive, neutral (default) or negative", "SENTIMENT" },
    { "date", 0, 0, G_OPTION_ARG_STRING, &date, "When (default: now)", "YYYY-MM-DD" },
    { NULL },
  };
  const GOptionEntry request_entries[] = {
    { "org", 'o', 0, G_OPTION_ARG_STRING, &org, "The organisation (a domain of it)", "DOMAIN" },
    { "process", 'p', 0, G_OPTION_ARG_STRING, &process, "The sales process it came up in", "PROCESS" },
    { "person", 0, 0, G_OPTION_ARG_STRING, &person, "Who asked", "ADDRESS" },
    { "category", 0, 0, G_OPTION_ARG_STRING, &category, "A category (required to add)", "TEXT" },
    { "date", 0, 0, G_OPTION_ARG_STRING, &date, "When (default: now)", "YYYY-MM-DD" },
    { NULL },
  };
  g_autoptr (SgConfig) config = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = NULL;
  g_autofree char *uuid = NULL;
  SgFormat format;
  gint64 at = 0;
  gboolean add;

  if (!sg_cli_parse (command, is_note ? "add TEXT | list" : "add WHAT | list",
                     is_note ? "Customer-experience notes: 'add TEXT' records one for an organisation (or a process\n"
                               "or person of it), with a sentiment; 'list' shows them, newest first."
                             : "Requests the company could not fulfil: 'add WHAT --category C' records one for an\n"
                               "organisation; 'list' shows them, newest first.",
                     is_note ? note_entries : request_entries, TRUE, &argc, &argv, globals) ||
      !sg_cli_get_format (globals, &format))
    return SG_EXIT_USAGE;
  add = argc > 1 && strcmp (argv[1], "add") == 0;
  if (!(add ? argc == 3 : (argc == 1 || (argc == 2 && strcmp (argv[1], "list") == 0)))) {
    sg_cli_error ("%s: expected 'add %s' or 'list' (see 'salesgetter %s --help')", command,
                  is_note ? "TEXT" : "WHAT", command);
    return SG_EXIT_USAGE;
  }
  if (add && org == NULL && process == NULL && person == NULL) {
    sg_cli_error ("%s: give --org, --process or --person (see 'salesgetter %s --help')", command, command);
    return SG_EXIT_USAGE;
  }
  if (!is_note && add && category == NULL) {
    sg_cli_error ("request: --category is required (see 'salesgetter request --help')");
    return SG_EXIT_USAGE;
  }
  if (!parse_date (command, date, &at))
    return SG_EXIT_USAGE;
  if ((config = sg_cli_load_config (globals)) == NULL ||
      (store = sg_cli_open_store (globals, config, !add)) == NULL)
    return SG_EXIT_FAILED;
  if (!add) {
    t = is_note ? sg_note_list (store, org, &error) : sg_request_list (store, org, &error);
    if (t == NULL)
      goto fail;
    sg_output_table (t, format);
    return SG_EXIT_OK;
  }
  if (is_note) {
    SgNoteNew spec = { .organisation = org, .process = process, .person = person, .text = argv[2],
                       .sentiment = sentiment, .at = at };

    uuid = sg_note_add (store, &spec, sg_cli_actor (config), &error);
  } else {
    SgRequestNew spec = { .organisation = org, .process = process, .person = person, .what = argv[2],
                          .category = category, .at = at };

    uuid = sg_request_add (store, &spec, sg_cli_actor (config), &error);
  }
  if (uuid == NULL)
    goto fail;
  puts (uuid);
  return SG_EXIT_OK;
fail:
  sg_cli_error ("%s", error->message);
  return sg_cli_exit_for (error);
}

int
sg_cmd_note (int argc, char **argv, SgGlobalOptions *globals)
{
  return run ("note", argc, argv, globals);
}

int
sg_cmd_request (int argc, char **argv, SgGlobalOptions *globals)
{
  return run ("request", argc, argv, globals);
}
