/* cmd-select.c: salesgetter select — customer selections, ad hoc or saved. */
#include "config.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>

/* The expression and a caret under the column of a parse error, on stderr. */
static void
show_column (const char *expression, guint column)
{
  g_autofree char *safe = sg_cli_sanitize (expression);

  if (column == 0 || safe == NULL)
    return;
  fprintf (stderr, "  %s\n  %*s^\n", safe, (int) column - 1, "");
}

int
sg_cmd_select (int argc, char **argv, SgGlobalOptions *globals)
{
  g_autofree char *save = NULL;
  g_autofree char *run_name = NULL;
  g_autofree char *delete_name = NULL;
  gboolean list = FALSE;
  int limit = 0;
  const GOptionEntry entries[] = {
    { "save", 's', 0, G_OPTION_ARG_STRING, &save, "Save EXPR under NAME (and run it)", "NAME" },
    { "run", 'r', 0, G_OPTION_ARG_STRING, &run_name, "Run the selection saved as NAME", "NAME" },
    { "list", 'l', 0, G_OPTION_ARG_NONE, &list, "List the saved selections", NULL },
    { "delete", 0, 0, G_OPTION_ARG_STRING, &delete_name, "Delete the selection saved as NAME", "NAME" },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, "At most N people (the best ranked)", "N" },
    { NULL },
  };
  g_autoptr (SgConfig) config = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (SgSelection) sel = NULL;
  g_autoptr (SgTable) table = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *saved = NULL;
  const char *expression = NULL;
  SgFormat format;
  guint column = 0;
  int modes;

  if (!sg_cli_parse ("select", "[EXPR]",
                     "Selects people by criteria combined with and, or, not and parentheses, ranked by\n"
                     "relevance (criteria matched), relationship strength and recency:\n"
                     "  tag:NAME role:ROLE org:DOMAIN industry:NAME source:NAME contacted:<90d contacted:>30d\n"
                     "  interactions:>=5 stage:NAME owner:ADDRESS bought:TEXT\n"
                     "e.g. salesgetter select 'tag:forecasting and role:customer and not contacted:<90d'\n"
                     "See salesgetter-select(1) for the grammar.",
                     entries, TRUE, &argc, &argv, globals) ||
      !sg_cli_get_format (globals, &format))
    return SG_EXIT_USAGE;
  modes = (argc == 2) + (run_name != NULL) + list + (delete_name != NULL);
  if (argc > 2 || modes != 1 || limit < 0 || (save != NULL && argc != 2)) {
    sg_cli_error ("select: %s (see 'salesgetter select --help')",
                  limit < 0 ? "--limit must not be negative"
                  : argc > 2 ? "give the expression as one argument (quote it)"
                  : save != NULL && argc != 2 ? "--save needs an EXPR"
                  : "give one of EXPR, --run NAME, --list or --delete NAME");
    return SG_EXIT_USAGE;
  }
  if (argc == 2) {
    expression = argv[1];
    sel = sg_selection_parse (expression, &column, &error);
    if (sel == NULL) {
      sg_cli_error ("select: %s", error->message);
      show_column (expression, column);
      return SG_EXIT_USAGE;
    }
  }
  if ((config = sg_cli_load_config (globals)) == NULL ||
      (store = sg_cli_open_store (globals, config, save == NULL && delete_name == NULL)) == NULL)
    return SG_EXIT_FAILED;
  if (list) {
    if ((table = sg_selection_list (store, &error)) == NULL)
      goto fail;
    sg_output_table (table, format);
    return SG_EXIT_OK;
  }
  if (delete_name != NULL) {
    if (!sg_selection_delete (store, delete_name, &error))
      goto fail;
    return SG_EXIT_OK;
  }
  if (run_name != NULL) {
    if ((saved = sg_selection_lookup (store, run_name, &error)) == NULL)
      goto fail;
    sel = sg_selection_parse (saved, &column, &error);
    if (sel == NULL) {
      sg_cli_error ("select: saved selection “%s”: %s", run_name, error->message);
      show_column (saved, column);
      return SG_EXIT_FAILED;
    }
  }
  if (save != NULL && !sg_selection_save (store, save, expression, sg_cli_actor (config), &error))
    goto fail;
  if ((table = sg_selection_run (store, sel, 0, (guint) limit, &error)) == NULL)
    goto fail;
  sg_output_table (table, format);
  return SG_EXIT_OK;
fail:
  sg_cli_error ("select: %s", error->message);
  if (error->domain == SG_SELECT_ERROR)
    return error->code == SG_SELECT_ERROR_NOT_FOUND ? SG_EXIT_NOT_FOUND : SG_EXIT_USAGE;
  return sg_cli_exit_for (error);
}
