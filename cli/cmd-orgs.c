/* cmd-orgs.c: salesgetter orgs — the organisations you are in contact with. */
#include "config.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>

int
sg_cmd_orgs (int argc, char **argv, SgGlobalOptions *globals)
{
  gboolean all = FALSE;
  g_autofree char *search = NULL;
  g_autofree char *name = NULL;
  g_autofree char *industry = NULL;
  int limit = 0;
  const GOptionEntry entries[] = {
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Include your own organisation", NULL },
    { "search", 's', 0, G_OPTION_ARG_STRING, &search, "Only names or domains containing TEXT", "TEXT" },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, "At most N organisations", "N" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "set: the display name", "NAME" },
    { "industry", 0, 0, G_OPTION_ARG_STRING, &industry, "set: the industry (customer type); '' clears it", "TEXT" },
    { NULL },
  };
  gboolean changed = FALSE;
  g_autoptr (SgConfig) config = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (SgTable) table = NULL;
  g_autoptr (GError) error = NULL;
  SgOrgQuery query = { 0 };
  SgFormat format;

  if (!sg_cli_parse ("orgs", "[set DOMAIN --name NAME --industry TEXT]",
                     "Lists the organisations you are in contact with, most recent contact first.\n"
                     "An organisation is a registrable domain (mail.acme.co.uk is acme.co.uk);\n"
                     "freemail providers are not organisations.\n"
                     "'set DOMAIN' gives the organisation owning DOMAIN a display name and/or an industry\n"
                     "(the customer type of 'report closing' and 'select industry:'); it is synced.",
                     entries, TRUE, &argc, &argv, globals) ||
      !sg_cli_get_format (globals, &format))
    return SG_EXIT_USAGE;
  if (argc > 1 && strcmp (argv[1], "set") == 0) {
    if (argc != 3 || (name == NULL && industry == NULL) || all || search != NULL || limit != 0) {
      sg_cli_error ("orgs: %s (see 'salesgetter orgs --help')",
                    argc != 3 ? "expected 'set DOMAIN'"
                    : name == NULL && industry == NULL ? "set: give --name or --industry"
                                                       : "set takes only --name and --industry");
      return SG_EXIT_USAGE;
    }
    if ((config = sg_cli_load_config (globals)) == NULL ||
        (store = sg_cli_open_store (globals, config, FALSE)) == NULL)
      return SG_EXIT_FAILED;
    if (!sg_org_update (store, argv[2], name, industry, &changed, &error)) {
      sg_cli_error ("orgs set: %s", error->message);
      return sg_cli_exit_for (error);
    }
    printf ("%s: %s\n", argv[2], changed ? "updated" : "unchanged");
    return SG_EXIT_OK;
  }
  if (name != NULL || industry != NULL) {
    sg_cli_error ("orgs: --name and --industry go with 'set DOMAIN' (see 'salesgetter orgs --help')");
    return SG_EXIT_USAGE;
  }
  if (argc > 1 || limit < 0) {
    sg_cli_error ("orgs: %s (see 'salesgetter orgs --help')",
                  limit < 0 ? "--limit must not be negative" : "takes no arguments");
    return SG_EXIT_USAGE;
  }
  if ((config = sg_cli_load_config (globals)) == NULL ||
      (store = sg_cli_open_store (globals, config, TRUE)) == NULL)
    return SG_EXIT_FAILED;
  query.include_internal = all;
  query.search = search;
  query.limit = (guint) limit;
  table = sg_query_orgs (store, &query, &error);
  if (table == NULL) {
    sg_cli_error ("%s", error->message);
    return SG_EXIT_FAILED;
  }
  sg_output_table (table, format);
  return SG_EXIT_OK;
}
