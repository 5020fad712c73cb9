/* main.c: the salesgetter command line: a table of subcommands, one file each. */
#include "config.h"

#include "cli.h"
#include "sg-alloc.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#ifdef HAVE_JEMALLOC
/* jemalloc reads its options from this symbol. A command runs one job and exits: the pages
 * it frees are kept for its next allocations instead of being handed back to the kernel and
 * faulted in again (-7% wall for a 100k import; the peak stays what it was, +2 MB). The
 * daemon keeps jemalloc's defaults, which return memory while it idles. */
const char *malloc_conf = "dirty_decay_ms:-1,muzzy_decay_ms:-1";
#endif

static const SgCommand commands[] = {
  { "import", sg_cmd_import, "Import a Maildir, an mbox file, a message or .ics files into the store" },
  { "people", sg_cmd_people, "List the people you are in contact with" },
  { "orgs", sg_cmd_orgs, "List the organisations you are in contact with" },
  { "show", sg_cmd_show, "Show a person's or an organisation's timeline of interactions" },
  /* Sales processes (issue 4). */
  { "process", sg_cmd_process, "Sales processes: new, list, show, move, close, reopen, link" },
  { "role", sg_cmd_role, "Buying-process roles of people: list, set, remove, derive" },
  { "note", sg_cmd_note, "Customer-experience notes: add, list" },
  { "request", sg_cmd_request, "Requests the company could not fulfil: add, list" },
  { "import-list", sg_cmd_import_list, "Import a prospect list (CSV) as a lead source" },
  { "sync", sg_cmd_sync, "Sync with the team server now; --status: the team sync and each IMAP account" },
  { "topics", sg_cmd_topics, "List the topics discussed with a person or an organisation" },
  /* meetings branch */
  { "meetings", sg_cmd_meetings, "List meetings in a window, recurrences expanded" },
  { "tags", sg_cmd_tags, "List, add, remove and explain tags; re-run the tagging rules" },
  /* Insight and selections (issue 5). */
  { "insight", sg_cmd_insight, "What the store knows about the people of a message" },
  { "select", sg_cmd_select, "Select people by tags, roles, stages, contact...; save selections" },
  { "similar", sg_cmd_similar, "Organisations like this one (shared tags) and what they bought" },
  { "report", sg_cmd_report, "Reports: closing ratios per manager, stage drop-off, lead sources" },
};

static void
usage (FILE *out)
{
  fprintf (out,
           "Usage: salesgetter [--store FILE] [--config FILE] COMMAND [OPTIONS] [ARGS]\n"
           "\n"
           "SalesGetter turns the mail you already have into a sales CRM.\n"
           "\n"
           "Commands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-12s %s\n", commands[i].name, commands[i].summary);
  fprintf (out,
           "  %-12s %s\n"
           "\n"
           "Global options:\n"
           "  --store FILE    the store to use (default $SALESGETTER_STORE, [store] path in the\n"
           "                  config, or $XDG_DATA_HOME/salesgetter/store.db)\n"
           "  --config FILE   the config file (default $XDG_CONFIG_HOME/salesgetter/salesgetter.conf)\n"
           "  --version       print the version\n"
           "  -h, --help      this help\n"
           "\n"
           "Run 'salesgetter COMMAND --help' for a command's options, 'man salesgetter-COMMAND'\n"
           "for its manual. Exit status: 0 success, 1 failure, 2 usage error, 3 not found,\n"
           "4 refused by the sales rules (see salesgetter(1)).\n",
           "help", "Show this help, or a command's help");
}

static int
run (int argc, char **argv, SgGlobalOptions *g)
{
  int i = 1;

  /* Global options before the command. */
  while (i < argc && argv[i][0] == '-') {
    const char *a = argv[i];

    if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0) {
      usage (stdout);
      return SG_EXIT_OK;
    } else if (strcmp (a, "--version") == 0) {
      printf ("salesgetter %s (%s)\n", PACKAGE_VERSION, sg_alloc_describe ());
      return SG_EXIT_OK;
    } else if ((strcmp (a, "--store") == 0 || strcmp (a, "--config") == 0) && i + 1 < argc) {
      char **slot = strcmp (a, "--store") == 0 ? &g->store : &g->config;

      g_free (*slot);
      *slot = g_strdup (argv[i + 1]);
      i += 2;
    } else if (g_str_has_prefix (a, "--store=") || g_str_has_prefix (a, "--config=")) {
      char **slot = g_str_has_prefix (a, "--store=") ? &g->store : &g->config;

      g_free (*slot);
      *slot = g_strdup (strchr (a, '=') + 1);
      i++;
    } else {
      sg_cli_error ("unknown option %s (see 'salesgetter --help')", a);
      return SG_EXIT_USAGE;
    }
  }
  if (i >= argc) {
    usage (stderr);
    return SG_EXIT_USAGE;
  }
  if (strcmp (argv[i], "help") == 0) {
    if (i + 1 < argc) {
      for (guint c = 0; c < G_N_ELEMENTS (commands); c++) {
        if (strcmp (argv[i + 1], commands[c].name) == 0) {
          char *help_argv[] = { argv[i + 1], (char *) "--help", NULL };

          return commands[c].run (2, help_argv, g);
        }
      }
      sg_cli_error ("unknown command “%s” (see 'salesgetter --help')", argv[i + 1]);
      return SG_EXIT_USAGE;
    }
    usage (stdout);
    return SG_EXIT_OK;
  }
  for (guint c = 0; c < G_N_ELEMENTS (commands); c++) {
    if (strcmp (argv[i], commands[c].name) == 0) {
      return commands[c].run (argc - i, argv + i, g);
    }
  }
  sg_cli_error ("unknown command “%s” (see 'salesgetter --help')", argv[i]);
  return SG_EXIT_USAGE;
}

int
main (int argc, char **argv)
{
  SgGlobalOptions globals = { 0 };
  int status;

  setlocale (LC_ALL, "");
  status = run (argc, argv, &globals);
  g_free (globals.store);
  g_free (globals.config);
  g_free (globals.format);
  return status;
}
