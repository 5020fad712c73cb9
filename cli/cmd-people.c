/* cmd-people.c: salesgetter people — the people you are in contact with. */
#include "config.h"

#include "cli.h"

int
sg_cmd_people (int argc, char **argv, SgGlobalOptions *globals)
{
  gboolean all = FALSE;
  g_autofree char *org = NULL;
  g_autofree char *search = NULL;
  int limit = 0;
  const GOptionEntry entries[] = {
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Include colleagues and yourself", NULL },
    { "org", 'o', 0, G_OPTION_ARG_STRING, &org, "Only people of this organisation (a domain)", "DOMAIN" },
    { "search", 's', 0, G_OPTION_ARG_STRING, &search, "Only names or addresses containing TEXT", "TEXT" },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, "At most N people", "N" },
    { NULL },
  };
  g_autoptr (SgConfig) config = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (SgTable) table = NULL;
  g_autoptr (GError) error = NULL;
  SgPeopleQuery query = { 0 };
  SgFormat format;

  if (!sg_cli_parse ("people", NULL,
                     "Lists the people you are in contact with, most recent contact first.",
                     entries, TRUE, &argc, &argv, globals) ||
      !sg_cli_get_format (globals, &format))
    return SG_EXIT_USAGE;
  if (argc > 1 || limit < 0) {
    sg_cli_error ("people: %s (see 'salesgetter people --help')",
                  limit < 0 ? "--limit must not be negative" : "takes no arguments");
    return SG_EXIT_USAGE;
  }
  if ((config = sg_cli_load_config (globals)) == NULL ||
      (store = sg_cli_open_store (globals, config, TRUE)) == NULL)
    return SG_EXIT_FAILED;
  query.include_colleagues = all;
  query.organisation = org;
  query.search = search;
  query.limit = (guint) limit;
  table = sg_query_people (store, &query, &error);
  if (table == NULL) {
    sg_cli_error ("%s", error->message);
    return SG_EXIT_FAILED;
  }
  sg_output_table (table, format);
  return SG_EXIT_OK;
}
