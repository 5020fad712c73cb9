/* cmd-topics.c: salesgetter topics — what people and organisations talked about (issue 9). */
#include "config.h"

#include "cli.h"

#include <stdio.h>

/* The taxonomy file: --taxonomy, else the config's [topics] taxonomy, else
 * $XDG_CONFIG_HOME/salesgetter/taxonomy when it exists. Returns: (transfer full) (nullable). */
static char *
taxonomy_path (const char *option, const SgConfig *config)
{
  g_autofree char *fallback = NULL;

  if (option != NULL)
    return g_strdup (option);
  if (config->taxonomy_path != NULL)
    return g_strdup (config->taxonomy_path);
  fallback = g_build_filename (g_get_user_config_dir (), "salesgetter", "taxonomy", NULL);
  return g_file_test (fallback, G_FILE_TEST_IS_REGULAR) ? g_steal_pointer (&fallback) : NULL;
}

int
sg_cmd_topics (int argc, char **argv, SgGlobalOptions *globals)
{
  int limit = 20;
  gboolean recompute = FALSE;
  g_autofree char *taxonomy_option = NULL;
  const GOptionEntry entries[] = {
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, "At most N topics (default 20; 0: all)", "N" },
    { "recompute", 0, 0, G_OPTION_ARG_NONE, &recompute,
      "Re-run the taxonomy over the stored topics (no mail is read) and update the topic tags", NULL },
    { "taxonomy", 0, 0, G_OPTION_ARG_FILENAME, &taxonomy_option,
      "The taxonomy file (default: [topics] taxonomy in the config)", "FILE" },
    { NULL },
  };
  g_autoptr (SgConfig) config = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (SgTable) table = NULL;
  g_autoptr (GError) error = NULL;
  SgFormat format;

  if (!sg_cli_parse ("topics", "[ADDRESS|DOMAIN]",
                     "Lists the topics discussed with a person (any of their addresses), an\n"
                     "organisation (any of its domains), or in the whole store: key phrases of\n"
                     "subjects and own text (no quotes, no signatures), weighted by TF-IDF, with\n"
                     "the messages they came from (--format json: message_ids).\n"
                     "--recompute maps the stored topics onto tags again with the taxonomy file.",
                     entries, TRUE, &argc, &argv, globals) ||
      !sg_cli_get_format (globals, &format))
    return SG_EXIT_USAGE;
  if (argc > 2 || limit < 0 || (recompute && argc > 1)) {
    sg_cli_error ("topics: %s (see 'salesgetter topics --help')",
                  limit < 0 ? "--limit must not be negative"
                  : recompute ? "--recompute takes no ADDRESS or DOMAIN"
                              : "give at most one ADDRESS or DOMAIN");
    return SG_EXIT_USAGE;
  }
  if ((config = sg_cli_load_config (globals)) == NULL)
    return SG_EXIT_FAILED;
  if (recompute) {
    g_autofree char *path = taxonomy_path (taxonomy_option, config);
    g_autoptr (SgTaxonomy) taxonomy = NULL;
    guint added = 0;

    if (path == NULL) {
      sg_cli_error ("topics: no taxonomy file (give --taxonomy FILE or [topics] taxonomy in the config)");
      return SG_EXIT_USAGE;
    }
    taxonomy = sg_taxonomy_load (path, &error);
    if (taxonomy == NULL) {
      sg_cli_error ("topics: %s", error->message);
      return SG_EXIT_FAILED;
    }
    if ((store = sg_cli_open_store (globals, config, FALSE)) == NULL)
      return SG_EXIT_FAILED;
    if (!sg_topics_apply_taxonomy (store, taxonomy, &added, &error)) {
      sg_cli_error ("topics: %s", error->message);
      return SG_EXIT_FAILED;
    }
    printf ("%u tags in %s; %u new topic tag assignments\n", sg_taxonomy_get_n_tags (taxonomy), path, added);
    return SG_EXIT_OK;
  }
  if ((store = sg_cli_open_store (globals, config, TRUE)) == NULL)
    return SG_EXIT_FAILED;
  table = sg_query_topics (store, argc == 2 ? argv[1] : NULL, (guint) limit, &error);
  if (table == NULL) {
    sg_cli_error ("%s", error->message);
    return SG_EXIT_FAILED;
  }
  sg_output_table (table, format);
  return SG_EXIT_OK;
}
