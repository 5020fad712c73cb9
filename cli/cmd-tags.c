/* cmd-tags.c: salesgetter tags — list, add, remove, explain; apply the rules again. */
#include "config.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>

/* The rules the config names ([rules] path), else the built-in ones. Prints the error. */
SgRules *
sg_cli_load_rules (SgConfig *config)
{
  g_autoptr (GError) error = NULL;
  SgRules *rules;

  if (config->rules_path == NULL)
    return sg_rules_new_default ();
  rules = sg_rules_new_from_file (config->rules_path, &error);
  if (rules == NULL)
    sg_cli_error ("rules: %s", error->message);
  return rules;
}

static int
apply (SgStore *store, SgConfig *config)
{
  g_autoptr (GError) error = NULL;
  SgRules *rules = sg_cli_load_rules (config);
  SgRulesStats stats;
  gboolean ok;

  if (rules == NULL)
    return SG_EXIT_FAILED;
  ok = sg_rules_apply (rules, store, config->identity, &stats, &error);
  sg_rules_free (rules);
  if (!ok) {
    sg_cli_error ("tags apply: %s", error->message);
    return SG_EXIT_FAILED;
  }
  printf ("Tagged: %u meetings and messages looked at, %u tags added, %u rule tags no longer matched removed\n",
          stats.entities, stats.added, stats.removed);
  return SG_EXIT_OK;
}

int
sg_cmd_tags (int argc, char **argv, SgGlobalOptions *globals)
{
  const GOptionEntry entries[] = { { NULL } };
  g_autoptr (SgConfig) config = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (SgTable) table = NULL;
  g_autoptr (GError) error = NULL;
  const char *verb;
  SgFormat format;
  gboolean writes;
  int want;

  if (!sg_cli_parse ("tags", "list | add ENTITY TAG | remove ENTITY TAG | explain ENTITY | apply",
                     "Tags on meetings, mail, people and organisations.\n"
                     "  list                 every tag, how many things carry it and how many removed it\n"
                     "  add ENTITY TAG       tag by hand (kept whatever the rules say)\n"
                     "  remove ENTITY TAG    untag by hand (the rules will not put it back)\n"
                     "  explain ENTITY       the tags of ENTITY and why: rule and evidence, or by hand\n"
                     "  apply                run the tagging rules ([rules] path, else built-in) again\n"
                     "ENTITY is a Message-ID, a meeting UID, a person's address or an organisation's domain.",
                     entries, TRUE, &argc, &argv, globals) ||
      !sg_cli_get_format (globals, &format))
    return SG_EXIT_USAGE;
  verb = argc > 1 ? argv[1] : "list";
  want = strcmp (verb, "list") == 0 || strcmp (verb, "apply") == 0 ? 2
       : strcmp (verb, "explain") == 0                              ? 3
       : strcmp (verb, "add") == 0 || strcmp (verb, "remove") == 0  ? 4 : -1;
  if (want < 0) {
    sg_cli_error ("tags: unknown action “%s” (list, add, remove, explain or apply)", verb);
    return SG_EXIT_USAGE;
  }
  if (argc != want && !(argc == 1 && want == 2)) {
    sg_cli_error ("tags %s: wrong number of arguments (see 'salesgetter tags --help')", verb);
    return SG_EXIT_USAGE;
  }
  writes = strcmp (verb, "add") == 0 || strcmp (verb, "remove") == 0 || strcmp (verb, "apply") == 0;
  if ((config = sg_cli_load_config (globals)) == NULL ||
      (store = sg_cli_open_store (globals, config, !writes)) == NULL)
    return SG_EXIT_FAILED;
  if (strcmp (verb, "apply") == 0)
    return apply (store, config);
  if (strcmp (verb, "add") == 0 || strcmp (verb, "remove") == 0) {
    gboolean add = strcmp (verb, "add") == 0;

    if (!(add ? sg_tags_add : sg_tags_remove) (store, argv[2], argv[3], &error)) {
      sg_cli_error ("tags %s: %s", verb, error->message);
      return SG_EXIT_FAILED;
    }
    return SG_EXIT_OK;
  }
  table = strcmp (verb, "list") == 0 ? sg_tags_list (store, &error) : sg_tags_explain (store, argv[2], &error);
  if (table == NULL) {
    sg_cli_error ("tags %s: %s", verb, error->message);
    return SG_EXIT_FAILED;
  }
  sg_output_table (table, format);
  return SG_EXIT_OK;
}
