/* cli.h: what the subcommands of the salesgetter tool share. */
#pragma once

#include <sg.h>
#include "sg-config.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Exit codes users and scripts rely on (DESIGN.md section 2). */
enum {
  SG_EXIT_OK = 0,
  SG_EXIT_FAILED = 1,
  SG_EXIT_USAGE = 2,
  SG_EXIT_NOT_FOUND = 3, /* a process, organisation, person, stage or pipeline named is unknown */
  SG_EXIT_REFUSED = 4,   /* the sales rules refuse it: a move out of a closed stage, a duplicate */
};

typedef enum {
  SG_FORMAT_TABLE,
  SG_FORMAT_JSON,
  SG_FORMAT_CSV,
} SgFormat;

/* Options every subcommand takes. */
typedef struct {
  char *store;  /* --store FILE */
  char *config; /* --config FILE */
  char *format; /* --format table|json|csv */
} SgGlobalOptions;

typedef struct {
  const char *name;
  int (*run) (int argc, char **argv, SgGlobalOptions *globals);
  const char *summary;
} SgCommand;

int sg_cmd_import (int argc, char **argv, SgGlobalOptions *globals);
int sg_cmd_people (int argc, char **argv, SgGlobalOptions *globals);
int sg_cmd_orgs (int argc, char **argv, SgGlobalOptions *globals);
int sg_cmd_show (int argc, char **argv, SgGlobalOptions *globals);
/* Sales processes (issue 4): cmd-process.c, cmd-role.c, cmd-note.c, cmd-import-list.c. */
int sg_cmd_process (int argc, char **argv, SgGlobalOptions *globals);
int sg_cmd_role (int argc, char **argv, SgGlobalOptions *globals);
int sg_cmd_note (int argc, char **argv, SgGlobalOptions *globals);
int sg_cmd_request (int argc, char **argv, SgGlobalOptions *globals);
int sg_cmd_import_list (int argc, char **argv, SgGlobalOptions *globals);
/* Insight, selections (issue 5): cmd-insight.c, cmd-select.c. */
int sg_cmd_insight (int argc, char **argv, SgGlobalOptions *globals);
int sg_cmd_select (int argc, char **argv, SgGlobalOptions *globals);
int sg_cmd_report (int argc, char **argv, SgGlobalOptions *globals);
int sg_cmd_similar (int argc, char **argv, SgGlobalOptions *globals);
/* Writes the chart of @report (a table from sg_report_run()) as SVG on stdout (report-svg.c,
 * built with cairo only). Prints the error and returns FALSE. */
gboolean sg_output_report_svg (const SgTable *table, const char *report);

/* The exit status for a failed operation: SG_EXIT_NOT_FOUND, SG_EXIT_REFUSED, SG_EXIT_USAGE
 * (a bad value) or SG_EXIT_FAILED. */
int sg_cli_exit_for (const GError *error);

/* The address the user acts as (the first [identity] address), or NULL. (transfer none) */
const char *sg_cli_actor (SgConfig *config);

/* @table as a JSON array of objects, as --format json prints it. (transfer full) */
JsonNode *sg_output_table_to_json (const SgTable *table);
/* Prints @node (pretty) on stdout. */
void sg_output_json_node (JsonNode *node);
int sg_cmd_sync (int argc, char **argv, SgGlobalOptions *globals);
int sg_cmd_topics (int argc, char **argv, SgGlobalOptions *globals);
int sg_cmd_meetings (int argc, char **argv, SgGlobalOptions *globals);
int sg_cmd_tags (int argc, char **argv, SgGlobalOptions *globals);

/* Parses a subcommand's options (its own @entries plus --store, --config and, when
 * @with_format, --format). Prints the error and returns FALSE on a usage error. */
gboolean sg_cli_parse (const char *command, const char *parameter, const char *summary,
                       const GOptionEntry *entries, gboolean with_format, int *argc, char ***argv,
                       SgGlobalOptions *globals);

/* Reads the config named by --config (or the default). Prints the error and returns NULL. */
SgConfig *sg_cli_load_config (SgGlobalOptions *globals);

/* Opens the store named by --store, $SALESGETTER_STORE, the config or the default.
 * Prints the error and returns NULL. */
SgStore *sg_cli_open_store (SgGlobalOptions *globals, SgConfig *config, gboolean read_only);

/* Parses --format. Prints the error and returns FALSE on a bad value. */
gboolean sg_cli_get_format (SgGlobalOptions *globals, SgFormat *format);

/* Writes @table to stdout as a text table, a JSON array of objects, or CSV. */
void sg_output_table (const SgTable *table, SgFormat format);

/* The tagging rules the config names ([rules] path), else the built-in ones.
 * Prints the error and returns NULL. (cmd-tags.c) */
SgRules *sg_cli_load_rules (SgConfig *config);

/* Prints "salesgetter: MESSAGE" to stderr. */
void sg_cli_error (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* Text safe for a terminal: control characters (escape sequences, bidi overrides) replaced.
 * Returns: (transfer full). */
char *sg_cli_sanitize (const char *text);

G_END_DECLS
