/* cmd-import-list.c: salesgetter import-list — a prospect list (CSV) as a lead source. */
#include "config.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>

int
sg_cmd_import_list (int argc, char **argv, SgGlobalOptions *globals)
{
  g_autofree char *name = NULL, *delimiter = NULL, *encoding = NULL, *credit = NULL;
  g_autofree char *email_col = NULL, *name_col = NULL, *first_col = NULL, *last_col = NULL;
  g_autofree char *org_col = NULL, *domain_col = NULL, *industry_col = NULL;
  gboolean no_header = FALSE, sources = FALSE;
  const GOptionEntry entries[] = {
    { "name", 'l', 0, G_OPTION_ARG_STRING, &name, "The list's name (default: the file's name)", "NAME" },
    { "delimiter", 'd', 0, G_OPTION_ARG_STRING, &delimiter, "Field delimiter: one character, or tab (default ,)",
      "CHAR" },
    { "encoding", 0, 0, G_OPTION_ARG_STRING, &encoding,
      "The file's encoding (default: UTF-8, Latin-1 where not UTF-8)", "ENCODING" },
    { "no-header", 0, 0, G_OPTION_ARG_NONE, &no_header, "The first row is data; give columns by number", NULL },
    { "email-col", 0, 0, G_OPTION_ARG_STRING, &email_col, "Column of the email address", "NAME|N" },
    { "name-col", 0, 0, G_OPTION_ARG_STRING, &name_col, "Column of the full name", "NAME|N" },
    { "first-name-col", 0, 0, G_OPTION_ARG_STRING, &first_col, "Column of the first name", "NAME|N" },
    { "last-name-col", 0, 0, G_OPTION_ARG_STRING, &last_col, "Column of the last name", "NAME|N" },
    { "org-col", 0, 0, G_OPTION_ARG_STRING, &org_col, "Column of the organisation's name", "NAME|N" },
    { "domain-col", 0, 0, G_OPTION_ARG_STRING, &domain_col, "Column of the organisation's domain or website",
      "NAME|N" },
    { "industry-col", 0, 0, G_OPTION_ARG_STRING, &industry_col,
      "Column of the organisation's industry (set where it has none)", "NAME|N" },
    { "credit", 0, 0, G_OPTION_ARG_STRING, &credit, "Credit the list to this colleague", "ADDRESS" },
    { "sources", 0, 0, G_OPTION_ARG_NONE, &sources, "List the lead sources instead", NULL },
    { NULL },
  };
  g_autoptr (SgConfig) config = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) rejected = NULL;
  g_autofree char *list_name = NULL;
  SgListOptions opts = { 0 };
  SgListStats stats = { 0 };
  SgFormat format;
  gboolean ok;

  if (!sg_cli_parse ("import-list", "FILE.csv",
                     "Imports a prospect list (CSV): each row's person is matched to the people and\n"
                     "organisations already known, or added, and credited to the list as their lead\n"
                     "source (list:NAME). Rejected rows are listed with their row number and reason;\n"
                     "the other rows are imported. Exit status 1 when a row was rejected.",
                     entries, TRUE, &argc, &argv, globals) ||
      !sg_cli_get_format (globals, &format))
    return SG_EXIT_USAGE;
  if (sources ? argc != 1 : argc != 2) {
    sg_cli_error ("import-list: %s (see 'salesgetter import-list --help')",
                  sources ? "--sources takes no FILE" : "give one FILE.csv");
    return SG_EXIT_USAGE;
  }
  if (delimiter != NULL) {
    if (strcmp (delimiter, "tab") == 0 || strcmp (delimiter, "\\t") == 0)
      opts.delimiter = '\t';
    else if (strlen (delimiter) == 1 && delimiter[0] != '"' && delimiter[0] != '\n' && delimiter[0] != '\r')
      opts.delimiter = delimiter[0];
    else {
      sg_cli_error ("import-list: --delimiter “%s” must be one character (or tab), not a quote or newline",
                    delimiter);
      return SG_EXIT_USAGE;
    }
  }
  if ((config = sg_cli_load_config (globals)) == NULL)
    return SG_EXIT_FAILED;
  if (sources) {
    g_autoptr (SgTable) t = NULL;

    if ((store = sg_cli_open_store (globals, config, TRUE)) == NULL)
      return SG_EXIT_FAILED;
    if ((t = sg_lead_source_list (store, &error)) == NULL) {
      sg_cli_error ("%s", error->message);
      return SG_EXIT_FAILED;
    }
    sg_output_table (t, format);
    return SG_EXIT_OK;
  }
  if (!g_file_test (argv[1], G_FILE_TEST_IS_REGULAR)) {
    sg_cli_error ("import-list: %s is not a file", argv[1]);
    return SG_EXIT_FAILED;
  }
  if ((store = sg_cli_open_store (globals, config, FALSE)) == NULL)
    return SG_EXIT_FAILED;
  if (name == NULL) {
    g_autofree char *base = g_path_get_basename (argv[1]);
    char *dot = strrchr (base, '.');

    if (dot != NULL && dot != base)
      *dot = '\0';
    list_name = g_steal_pointer (&base);
  }
  opts.list_name = name ? name : list_name;
  opts.encoding = encoding;
  opts.no_header = no_header;
  opts.email_col = email_col;
  opts.name_col = name_col;
  opts.first_name_col = first_col;
  opts.last_name_col = last_col;
  opts.org_col = org_col;
  opts.domain_col = domain_col;
  opts.industry_col = industry_col;
  opts.credited_to = credit;
  ok = sg_list_import (store, config->identity, argv[1], &opts, &stats, &rejected, NULL, &error);
  if (rejected != NULL && sg_table_get_n_rows (rejected) > 0) {
    if (format == SG_FORMAT_TABLE) {
      for (guint r = 0; r < sg_table_get_n_rows (rejected); r++) {
        g_autofree char *safe = sg_cli_sanitize (sg_table_get_text (rejected, r, 1));

        fprintf (stderr, "salesgetter: %s: row %" G_GINT64_FORMAT ": %s\n", argv[1],
                 sg_table_get_int (rejected, r, 0), safe);
      }
      if (stats.rejected > sg_table_get_n_rows (rejected))
        fprintf (stderr, "salesgetter: %s: %u more rejected rows not listed\n", argv[1],
                 stats.rejected - sg_table_get_n_rows (rejected));
    } else {
      sg_output_table (rejected, format);
    }
  } else if (format != SG_FORMAT_TABLE && rejected != NULL) {
    sg_output_table (rejected, format);
  }
  if ((format == SG_FORMAT_TABLE || !ok) && (ok || stats.rows > 0)) {
    g_autofree char *safe_name = sg_cli_sanitize (opts.list_name);
    g_autofree char *latin1 = stats.converted ? g_strdup_printf ("; %u row%s read as Latin-1", stats.converted,
                                                                 stats.converted == 1 ? "" : "s")
                                              : g_strdup ("");

    fprintf (format == SG_FORMAT_TABLE ? stdout : stderr,
             "List “%s”: %u rows: %u new people, %u matched, %u rejected; %u new organisations%s.\n", safe_name,
             stats.rows, stats.new_people, stats.matched, stats.rejected, stats.new_orgs, latin1);
  }
  if (!ok) {
    sg_cli_error ("%s", error->message);
    return SG_EXIT_FAILED;
  }
  return stats.rejected > 0 ? SG_EXIT_FAILED : SG_EXIT_OK;
}
