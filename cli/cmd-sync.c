/* cmd-sync.c: salesgetter sync --status — how the capture of each IMAP account stands. */
#include "config.h"

#include "cli.h"

#include <string.h>

int
sg_cmd_sync (int argc, char **argv, SgGlobalOptions *globals)
{
  gboolean status = FALSE;
  const GOptionEntry entries[] = {
    { "status", 0, 0, G_OPTION_ARG_NONE, &status, "Show each account's last sync, last error and pending mail", NULL },
    { NULL },
  };
  g_autoptr (SgConfig) config = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (SgTable) table = NULL;
  g_autoptr (GError) error = NULL;
  SgFormat format;

  if (!sg_cli_parse ("sync", NULL,
                     "Shows how the capture of each IMAP and CalDAV account stands (--status): when it last\n"
                     "succeeded, its last error, how many messages are still to fetch, its folders\n"
                     "and messages. Accounts in the config that never ran are listed as 'never'.\n"
                     "The daemon (salesgetter-syncd) and 'salesgetter import' do the syncing.",
                     entries, TRUE, &argc, &argv, globals))
    return SG_EXIT_USAGE;
  if (!sg_cli_get_format (globals, &format))
    return SG_EXIT_USAGE;
  if (argc > 1) {
    sg_cli_error ("sync: unexpected argument “%s” (see 'salesgetter sync --help')", argv[1]);
    return SG_EXIT_USAGE;
  }
  if (!status) {
    sg_cli_error ("sync: only --status is there yet (sync with a team server is not built); "
                  "mail is fetched by salesgetter-syncd and 'salesgetter import'");
    return SG_EXIT_USAGE;
  }
  if ((config = sg_cli_load_config (globals)) == NULL)
    return SG_EXIT_FAILED;
  if ((store = sg_cli_open_store (globals, config, TRUE)) == NULL)
    return SG_EXIT_FAILED;
  table = sg_imap_get_status (store, &error);
  if (table == NULL) {
    sg_cli_error ("sync: %s", error->message);
    return SG_EXIT_FAILED;
  }
  /* Accounts of the config the store has not heard of yet. */
  for (guint i = 0; i < config->imap->len; i++) {
    const SgConfigImap *c = config->imap->pdata[i];
    g_autoptr (SgImapAccount) a = sg_imap_account_new (c->name, c->url, NULL);
    gboolean known = FALSE;

    if (a == NULL)
      continue;
    if (c->user)
      sg_imap_account_set_user (a, c->user);
    for (guint r = 0; r < sg_table_get_n_rows (table) && !known; r++)
      known = g_strcmp0 (sg_table_get_text (table, r, 1), sg_imap_account_get_uri (a)) == 0;
    if (known)
      continue;
    sg_table_append_row (table);
    sg_table_set_text (table, 0, c->name);
    sg_table_set_text (table, 1, sg_imap_account_get_uri (a));
    sg_table_set_text (table, 2, "never");
    sg_table_set_int (table, 6, 0);
    sg_table_set_int (table, 8, 0);
    sg_table_set_int (table, 9, 0);
  }
  /* caldav branch: CalDAV accounts, in the same table: folders are its calendars and
   * messages its meetings; the last column, kind, tells them apart. */
  {
    g_autoptr (SgTable) cal = sg_caldav_get_status (store, &error);
    g_autoptr (SgTable) all = sg_table_new ();
    guint n = sg_table_get_n_columns (table), kind;
    /* CalDAV status columns -> the IMAP table's. */
    static const guint map[][2] = { { 0, 0 }, { 1, 1 }, { 2, 2 }, { 3, 3 }, { 4, 4 }, { 5, 5 }, { 6, 6 },
                                    { 7, 8 }, { 9, 9 } };

    if (cal == NULL) {
      sg_cli_error ("sync: %s", error->message);
      return SG_EXIT_FAILED;
    }
    for (guint c = 0; c < n; c++)
      sg_table_add_column (all, sg_table_get_column_name (table, c), sg_table_get_column_type (table, c),
                           sg_table_get_column_flags (table, c));
    kind = sg_table_add_column (all, "kind", SG_COLUMN_TEXT, 0);
    for (guint r = 0; r < sg_table_get_n_rows (table); r++) {
      sg_table_append_row (all);
      for (guint c = 0; c < n; c++) {
        if (sg_table_is_null (table, r, c))
          continue;
        if (sg_table_get_column_type (table, c) == SG_COLUMN_TEXT)
          sg_table_set_text (all, c, sg_table_get_text (table, r, c));
        else
          sg_table_set_int (all, c, sg_table_get_int (table, r, c));
      }
      sg_table_set_text (all, kind, "imap");
    }
    for (guint r = 0; r < sg_table_get_n_rows (cal); r++) {
      sg_table_append_row (all);
      for (guint m = 0; m < G_N_ELEMENTS (map); m++) {
        if (sg_table_is_null (cal, r, map[m][0]))
          continue;
        if (sg_table_get_column_type (cal, map[m][0]) == SG_COLUMN_TEXT)
          sg_table_set_text (all, map[m][1], sg_table_get_text (cal, r, map[m][0]));
        else
          sg_table_set_int (all, map[m][1], sg_table_get_int (cal, r, map[m][0]));
      }
      sg_table_set_text (all, kind, "caldav");
    }
    for (guint i = 0; i < config->caldav->len; i++) {
      const SgConfigCaldav *c = config->caldav->pdata[i];
      g_autoptr (SgCaldavAccount) a = sg_caldav_account_new (c->name, c->url, NULL);
      gboolean known = FALSE;

      if (a == NULL)
        continue;
      if (c->user)
        sg_caldav_account_set_user (a, c->user);
      for (guint r = 0; r < sg_table_get_n_rows (cal) && !known; r++)
        known = g_strcmp0 (sg_table_get_text (cal, r, 1), sg_caldav_account_get_uri (a)) == 0;
      if (known)
        continue;
      sg_table_append_row (all);
      sg_table_set_text (all, 0, c->name);
      sg_table_set_text (all, 1, sg_caldav_account_get_uri (a));
      sg_table_set_text (all, 2, "never");
      sg_table_set_int (all, 6, 0);
      sg_table_set_int (all, 8, 0);
      sg_table_set_int (all, 9, 0);
      sg_table_set_text (all, kind, "caldav");
    }
    g_clear_pointer (&table, sg_table_free);
    table = g_steal_pointer (&all);
  }
  sg_output_table (table, format);
  return SG_EXIT_OK;
}
