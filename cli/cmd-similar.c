/* cmd-similar.c: salesgetter similar — customers like this one. */
#include "config.h"

#include "cli.h"

int
sg_cmd_similar (int argc, char **argv, SgGlobalOptions *globals)
{
  int limit = 10;
  gboolean refresh = FALSE;
  const GOptionEntry entries[] = {
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, "At most N organisations (default 10)", "N" },
    { "refresh", 0, 0, G_OPTION_ARG_NONE, &refresh,
      "Compute the similar organisations of every organisation that the insight shows", NULL },
    { NULL },
  };
  g_autoptr (SgConfig) config = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (SgTable) table = NULL;
  g_autoptr (GError) error = NULL;
  SgFormat format;

  if (!sg_cli_parse ("similar", "DOMAIN",
                     "Lists the organisations most like the one owning DOMAIN: cosine similarity of\n"
                     "TF-IDF weighted tag vectors (tags on the organisation and its people), with the\n"
                     "tags they share and what they bought.",
                     entries, TRUE, &argc, &argv, globals) ||
      !sg_cli_get_format (globals, &format))
    return SG_EXIT_USAGE;
  if (refresh && argc == 1) {
    if ((config = sg_cli_load_config (globals)) == NULL ||
        (store = sg_cli_open_store (globals, config, FALSE)) == NULL)
      return SG_EXIT_FAILED;
    if (!sg_similar_refresh (store, &error)) {
      sg_cli_error ("similar: %s", error->message);
      return SG_EXIT_FAILED;
    }
    return SG_EXIT_OK;
  }
  if (argc != 2 || limit < 1 || refresh) {
    sg_cli_error ("similar: %s (see 'salesgetter similar --help')",
                  limit < 1 ? "--limit must be at least 1"
                  : refresh ? "--refresh takes no DOMAIN" : "give one DOMAIN");
    return SG_EXIT_USAGE;
  }
  if ((config = sg_cli_load_config (globals)) == NULL || (store = sg_cli_open_store (globals, config, TRUE)) == NULL)
    return SG_EXIT_FAILED;
  if ((table = sg_similar_organisations (store, argv[1], (guint) limit, &error)) == NULL) {
    sg_cli_error ("similar: %s", error->message);
    return error->domain == SG_SIMILAR_ERROR ? SG_EXIT_NOT_FOUND : SG_EXIT_FAILED;
  }
  sg_output_table (table, format);
  return SG_EXIT_OK;
}
