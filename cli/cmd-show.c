/* cmd-show.c: salesgetter show — one person's or organisation's timeline. */
#include "config.h"

#include "cli.h"

#include <stdio.h>

int
sg_cmd_show (int argc, char **argv, SgGlobalOptions *globals)
{
  int limit = 0;
  gboolean facts_only = FALSE, history = FALSE;
  const GOptionEntry entries[] = {
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, "At most N interactions (newest first)", "N" },
    { "facts", 0, 0, G_OPTION_ARG_NONE, &facts_only,
      "Only the facts from signatures and vCards (title, organisation, phones...)", NULL },
    { "history", 0, 0, G_OPTION_ARG_NONE, &history,
      "With --facts: also the values that newer ones replaced", NULL },
    { NULL },
  };
  g_autoptr (SgConfig) config = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (SgTable) table = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *heading = NULL;
  SgFormat format;

  if (!sg_cli_parse ("show", "ADDRESS|DOMAIN",
                     "Shows the timeline of interactions with a person (any of their addresses)\n"
                     "or an organisation (any of its domains), newest first. For a person, the\n"
                     "facts their signatures and vCards gave (title, organisation, phones,\n"
                     "address, web site) come first.",
                     entries, TRUE, &argc, &argv, globals) ||
      !sg_cli_get_format (globals, &format))
    return SG_EXIT_USAGE;
  if (argc != 2 || limit < 0) {
    sg_cli_error ("show: %s (see 'salesgetter show --help')",
                  limit < 0 ? "--limit must not be negative" : "give one ADDRESS or DOMAIN");
    return SG_EXIT_USAGE;
  }
  if ((config = sg_cli_load_config (globals)) == NULL ||
      (store = sg_cli_open_store (globals, config, TRUE)) == NULL)
    return SG_EXIT_FAILED;
  /* Facts about a person (issue 9): alone with --facts, else above the timeline. */
  if (facts_only || history) {
    g_autoptr (SgTable) facts = sg_query_person_facts (store, argv[1], history, &error);

    if (facts == NULL) {
      sg_cli_error ("%s", error->message);
      return SG_EXIT_FAILED;
    }
    sg_output_table (facts, format);
    return SG_EXIT_OK;
  }
  table = sg_query_timeline (store, argv[1], (guint) limit, &error);
  if (table == NULL) {
    sg_cli_error ("%s", error->message);
    return SG_EXIT_FAILED;
  }
  if (format == SG_FORMAT_TABLE) {
    g_autofree char *safe = NULL;

    heading = sg_query_describe (store, argv[1], NULL);
    safe = sg_cli_sanitize (heading);
    guint n = sg_table_get_n_rows (table);

    /* With --limit the rows are only the newest ones: say so rather than a total. */
    if (limit > 0 && n == (guint) limit)
      printf ("%s\nthe latest %u interactions\n\n", safe ? safe : argv[1], n);
    else
      printf ("%s\n%u interaction%s\n\n", safe ? safe : argv[1], n, n == 1 ? "" : "s");
    {
      g_autoptr (SgTable) facts = sg_query_person_facts (store, argv[1], FALSE, NULL);

      if (facts != NULL && sg_table_get_n_rows (facts) > 0) {
        printf ("From signatures and vCards:\n");
        for (guint r = 0; r < sg_table_get_n_rows (facts); r++) {
          const char *detail = sg_table_get_text (facts, r, 1);
          g_autofree char *value = sg_cli_sanitize (sg_table_get_text (facts, r, 2));

          printf ("  %-13s %s%s%s%s\n", sg_table_get_text (facts, r, 0), value,
                  detail ? " (" : "", detail ? detail : "", detail ? ")" : "");
        }
        printf ("\n");
      }
    }
  }
  sg_output_table (table, format);
  return SG_EXIT_OK;
}
