/* cmd-sync.c: salesgetter sync — synchronise with the team server now; --status: how the team
 * sync and the capture of each IMAP account stand. */
#include "config.h"

#include "cli.h"

#include <string.h>

static void
progress (const SgSyncCounts *c, gint64 pending, gpointer user_data)
{
  if (*(gboolean *) user_data)
    g_printerr ("sync: round %u: %u pushed, %u pulled, %" G_GINT64_FORMAT " still to push\n", c->rounds, c->pushed,
                c->pulled, pending);
}

static int
sync_now (SgGlobalOptions *globals, SgFormat format, gboolean quiet)
{
  g_autoptr (SgConfig) config = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (SgSyncSettings) settings = NULL;
  g_autoptr (GError) error = NULL;
  SgSyncCounts c = { 0 };
  gboolean verbose = !quiet;
  gboolean ok;

  if ((config = sg_cli_load_config (globals)) == NULL)
    return SG_EXIT_FAILED;
  if ((settings = sg_config_sync_settings (config, &error)) == NULL) {
    sg_cli_error ("sync: %s", error->message);
    return SG_EXIT_USAGE;
  }
  if ((store = sg_cli_open_store (globals, config, FALSE)) == NULL)
    return SG_EXIT_FAILED;
  ok = sg_sync_run (store, settings, progress, &verbose, NULL, &c, &error);
  if (format == SG_FORMAT_JSON) {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;
    const struct {
      const char *name;
      guint value;
    } counts[] = { { "pushed", c.pushed }, { "withheld", c.withheld }, { "acked", c.acked },
                   { "rejected", c.rejected }, { "pulled", c.pulled }, { "applied", c.applied },
                   { "skipped", c.skipped }, { "rounds", c.rounds } };

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "ok");
    json_builder_add_boolean_value (b, ok);
    for (guint i = 0; i < G_N_ELEMENTS (counts); i++) {
      json_builder_set_member_name (b, counts[i].name);
      json_builder_add_int_value (b, counts[i].value);
    }
    json_builder_set_member_name (b, "pending");
    json_builder_add_int_value (b, sg_sync_count_pending (store, NULL));
    json_builder_set_member_name (b, "error");
    if (ok)
      json_builder_add_null_value (b);
    else
      json_builder_add_string_value (b, error->message);
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    sg_output_json_node (root);
  } else {
    g_print ("%u pushed (%u acknowledged, %u refused), %u kept private, %u pulled (%u applied, %u not applied), "
             "%" G_GINT64_FORMAT " still to push\n",
             c.pushed, c.acked, c.rejected, c.withheld, c.pulled, c.applied, c.skipped,
             sg_sync_count_pending (store, NULL));
  }
  if (!ok) {
    sg_cli_error ("sync: %s", error->message);
    if (error->domain == SG_SYNC_ERROR &&
        (error->code == SG_SYNC_ERROR_AUTH || error->code == SG_SYNC_ERROR_REFUSED))
      return SG_EXIT_REFUSED;
    if (error->domain == SG_SYNC_ERROR && error->code == SG_SYNC_ERROR_CONFIG)
      return SG_EXIT_USAGE;
    return SG_EXIT_FAILED;
  }
  if (c.rejected > 0)
    sg_cli_error ("sync: the server refused %u ops (see 'salesgetter sync --status')", c.rejected);
  {
    g_autofree char *clock = sg_sync_get_clock_warning (store);

    if (clock != NULL)
      sg_cli_error ("sync: warning: %s", clock);
  }
  return SG_EXIT_OK;
}

/* The columns of sg_source_get_status() that the rows made here fill. */
enum { URI_COLUMN = 1, KIND_COLUMN = 11 };

/* Appends the rows of @from, which has the columns of @to. */
static void
append_rows (SgTable *to, const SgTable *from)
{
  for (guint r = 0; r < sg_table_get_n_rows (from); r++) {
    sg_table_append_row (to);
    for (guint c = 0; c < sg_table_get_n_columns (from); c++) {
      if (sg_table_is_null (from, r, c))
        continue;
      if (sg_table_get_column_type (from, c) == SG_COLUMN_TEXT)
        sg_table_set_text (to, c, sg_table_get_text (from, r, c));
      else
        sg_table_set_int (to, c, sg_table_get_int (from, r, c));
    }
  }
}

/* An account of the config that the rows @first to @last of @table (those the store has of
 * its kind) do not list: a row "never". */
static void
add_never_row (SgTable *table, guint first, guint last, const char *kind, const char *name, const char *uri)
{
  for (guint r = first; r < last; r++)
    if (g_strcmp0 (sg_table_get_text (table, r, URI_COLUMN), uri) == 0)
      return;
  sg_table_append_row (table);
  sg_table_set_text (table, 0, name);
  sg_table_set_text (table, URI_COLUMN, uri);
  sg_table_set_text (table, 2, "never");
  sg_table_set_int (table, 6, 0);
  sg_table_set_int (table, 8, 0);
  sg_table_set_int (table, 9, 0);
  sg_table_set_text (table, KIND_COLUMN, kind);
}

/* The accounts of kind @kind in the config that the store has not heard of yet; one whose
 * URL is not valid is left out (the daemon reports it). */
static void
add_never_rows (SgTable *table, guint first, guint last, const SgConfig *config, const char *kind)
{
  if (strcmp (kind, "imap") == 0) {
    for (guint i = 0; i < config->imap->len; i++) {
      const SgConfigImap *c = config->imap->pdata[i];
      g_autoptr (SgImapAccount) a = sg_imap_account_new (c->name, c->url, NULL);

      if (a == NULL)
        continue;
      if (c->user)
        sg_imap_account_set_user (a, c->user);
      add_never_row (table, first, last, kind, c->name, sg_imap_account_get_uri (a));
    }
  } else if (strcmp (kind, "caldav") == 0) {
    for (guint i = 0; i < config->caldav->len; i++) {
      const SgConfigCaldav *c = config->caldav->pdata[i];
      g_autoptr (SgCaldavAccount) a = sg_caldav_account_new (c->name, c->url, NULL);

      if (a == NULL)
        continue;
      if (c->user)
        sg_caldav_account_set_user (a, c->user);
      add_never_row (table, first, last, kind, c->name, sg_caldav_account_get_uri (a));
    }
  }
}

/* The team server's row of the status table (account "team-server"). */
static gboolean
add_team_row (SgTable *table, SgStore *store, const SgConfig *config, GError **error)
{
  g_autoptr (SgTable) team = sg_sync_get_status (store, error);
  const char *err;
  gboolean never;

  if (team == NULL)
    return FALSE;
  never = sg_table_is_null (team, 0, 2);
  if (config->sync_server == NULL && never)
    return TRUE; /* no team server, never synced: nothing to say */
  err = sg_table_get_text (team, 0, 6);
  sg_table_append_row (table);
  sg_table_set_text (table, 0, "team-server");
  sg_table_set_text (table, 1, config->sync_server ? config->sync_server : sg_table_get_text (team, 0, 0));
  /* ok when the last attempt succeeded (its last_error may then name an op the server refused). */
  sg_table_set_text (table, 2, never ? "never" : sg_table_get_int (team, 0, 8) ? "failing" : "ok");
  if (!sg_table_is_null (team, 0, 1))
    sg_table_set_int (table, 3, sg_table_get_int (team, 0, 1));
  if (!never)
    sg_table_set_int (table, 4, sg_table_get_int (team, 0, 2));
  if (err && *err)
    sg_table_set_text (table, 5, err);
  sg_table_set_int (table, 7, sg_table_get_int (team, 0, 3));
  return TRUE;
}

int
sg_cmd_sync (int argc, char **argv, SgGlobalOptions *globals)
{
  gboolean status = FALSE;
  gboolean quiet = FALSE;
  const GOptionEntry entries[] = {
    { "status", 0, 0, G_OPTION_ARG_NONE, &status,
      "Show the team sync and each IMAP account: last success, last error, what is pending", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress lines on stderr", NULL },
    { NULL },
  };
  g_autoptr (SgConfig) config = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (SgTable) table = NULL;
  g_autoptr (GError) error = NULL;
  static const char *const kinds[] = { "imap", "caldav" };
  SgFormat format;
  guint rows;

  if (!sg_cli_parse ("sync", NULL,
                     "Without options: synchronises the store with the team server of [sync] now:\n"
                     "pushes every change the privacy settings let leave, pulls the others' and\n"
                     "merges them. Exit status 0: done; 1: the server or the network failed (the\n"
                     "changes stay queued); 2: no or a bad [sync] config; 4: the server refused\n"
                     "(token, rights).\n"
                     "--status: when the team sync and each IMAP and CalDAV account last succeeded,\n"
                     "their last error, and what is still to push (ops) or fetch (messages). Accounts\n"
                     "in the config that never ran are listed as 'never'; the last column, kind, says\n"
                     "imap, caldav or team. The daemon (salesgetter-syncd) and 'salesgetter import'\n"
                     "also sync on their own.",
                     entries, TRUE, &argc, &argv, globals))
    return SG_EXIT_USAGE;
  if (!sg_cli_get_format (globals, &format))
    return SG_EXIT_USAGE;
  if (argc > 1) {
    sg_cli_error ("sync: unexpected argument “%s” (see 'salesgetter sync --help')", argv[1]);
    return SG_EXIT_USAGE;
  }
  if (!status)
    return sync_now (globals, format, quiet);
  if ((config = sg_cli_load_config (globals)) == NULL)
    return SG_EXIT_FAILED;
  if ((store = sg_cli_open_store (globals, config, TRUE)) == NULL)
    return SG_EXIT_FAILED;
  /* The accounts of every kind, each kind followed by those of its config the store has
   * not heard of yet; then the team server's row. */
  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++) {
    g_autoptr (SgTable) t = sg_source_get_status (store, kinds[k], &error);
    guint first = table ? sg_table_get_n_rows (table) : 0;

    if (t == NULL) {
      sg_cli_error ("sync: %s", error->message);
      return SG_EXIT_FAILED;
    }
    if (table == NULL)
      table = g_steal_pointer (&t);
    else
      append_rows (table, t);
    add_never_rows (table, first, sg_table_get_n_rows (table), config, kinds[k]);
  }
  /* The team server's row, kind "team". */
  rows = sg_table_get_n_rows (table);
  if (!add_team_row (table, store, config, &error)) {
    sg_cli_error ("sync: %s", error->message);
    return SG_EXIT_FAILED;
  }
  if (sg_table_get_n_rows (table) > rows)
    sg_table_set_text (table, KIND_COLUMN, "team");
  sg_output_table (table, format);
  return SG_EXIT_OK;
}
