/* cmd-process.c: salesgetter process — sales processes and their stages. */
#include "config.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  SgConfig *config;
  SgStore *store;
  SgFormat format;
} Ctx;

static void
ctx_clear (Ctx *c)
{
  sg_store_close (c->store);
  sg_config_free (c->config);
  memset (c, 0, sizeof *c);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Ctx, ctx_clear)

/* The pipelines file: [process] pipelines, else pipelines.conf beside the config. */
static gboolean
apply_pipelines (Ctx *c)
{
  g_autofree char *path = NULL;
  g_autoptr (SgPipelines) pipelines = NULL;
  g_autoptr (GError) error = NULL;

  if (c->config->pipelines_path != NULL) {
    path = g_strdup (c->config->pipelines_path);
  } else {
    g_autofree char *conf = c->config->path ? g_strdup (c->config->path) : sg_config_default_path ();
    g_autofree char *dir = g_path_get_dirname (conf);

    path = g_build_filename (dir, "pipelines.conf", NULL);
    if (!g_file_test (path, G_FILE_TEST_EXISTS))
      return TRUE;
  }
  pipelines = sg_pipelines_new_from_file (path, &error);
  if (pipelines == NULL || !sg_pipelines_apply (c->store, pipelines, &error)) {
    sg_cli_error ("%s", error->message);
    return FALSE;
  }
  return TRUE;
}

/* Loads the config and opens the store (applying the pipelines when writing).
 * Returns: 0, or the exit status. */
static int
ctx_open (Ctx *c, SgGlobalOptions *g, gboolean write)
{
  if (!sg_cli_get_format (g, &c->format))
    return SG_EXIT_USAGE;
  if ((c->config = sg_cli_load_config (g)) == NULL ||
      (c->store = sg_cli_open_store (g, c->config, !write)) == NULL)
    return SG_EXIT_FAILED;
  if (write && !apply_pipelines (c))
    return SG_EXIT_FAILED;
  return 0;
}

static int
fail (GError *error)
{
  sg_cli_error ("%s", error->message);
  return sg_cli_exit_for (error);
}

static gboolean
parse (const char *verb, const char *params, const char *summary, const GOptionEntry *entries,
       gboolean with_format, int *argc, char ***argv, SgGlobalOptions *g)
{
  g_autofree char *name = g_strdup_printf ("process %s", verb);

  return sg_cli_parse (name, params, summary, entries, with_format, argc, argv, g);
}

static int
usage_error (const char *verb, const char *what)
{
  sg_cli_error ("process %s: %s (see 'salesgetter process %s --help')", verb, what, verb);
  return SG_EXIT_USAGE;
}

/* Resolves a process reference. Returns: (transfer full) or NULL after printing. */
static char *
resolve (Ctx *c, const char *ref, int *status)
{
  g_autoptr (GError) error = NULL;
  char *uuid = sg_process_resolve (c->store, ref, &error);

  if (uuid == NULL)
    *status = fail (error);
  return uuid;
}

/* Prints one process (table: "key: value" lines; JSON/CSV: the row). */
static int
print_process (Ctx *c, const char *uuid)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = NULL;
  SgProcessQuery q = { .uuid = uuid };

  t = sg_process_query (c->store, &q, &error);
  if (t == NULL)
    return fail (error);
  sg_output_table (t, c->format);
  return SG_EXIT_OK;
}

/* --- new ---------------------------------------------------------------------------- */

static int
cmd_new (int argc, char **argv, SgGlobalOptions *g)
{
  g_autofree char *org = NULL, *deliverable = NULL, *kind = NULL, *type = NULL, *title = NULL;
  g_autofree char *pipeline = NULL, *stage = NULL, *owner = NULL, *value = NULL, *currency = NULL;
  g_autofree char *cost = NULL, *source = NULL, *opened = NULL, *expected = NULL;
  g_auto (GStrv) contacts = NULL;
  gboolean allow_duplicate = FALSE;
  const GOptionEntry entries[] = {
    { "org", 'o', 0, G_OPTION_ARG_STRING, &org, "The organisation (a domain of it)", "DOMAIN" },
    { "deliverable", 'd', 0, G_OPTION_ARG_STRING, &deliverable, "What is sold", "TEXT" },
    { "kind", 0, 0, G_OPTION_ARG_STRING, &kind, "product or service (default)", "KIND" },
    { "type", 0, 0, G_OPTION_ARG_STRING, &type, "Deliverable type (research, forecasting...)", "TYPE" },
    { "title", 0, 0, G_OPTION_ARG_STRING, &title, "A title", "TEXT" },
    { "pipeline", 0, 0, G_OPTION_ARG_STRING, &pipeline, "Pipeline (default: default)", "NAME" },
    { "stage", 0, 0, G_OPTION_ARG_STRING, &stage, "First stage (default: the pipeline's first)", "STAGE" },
    { "owner", 0, 0, G_OPTION_ARG_STRING, &owner, "Account manager (default: you)", "ADDRESS" },
    { "value", 0, 0, G_OPTION_ARG_STRING, &value, "Value (needs --currency)", "AMOUNT" },
    { "currency", 0, 0, G_OPTION_ARG_STRING, &currency, "ISO 4217 currency (EUR, USD...)", "CODE" },
    { "cost", 0, 0, G_OPTION_ARG_STRING, &cost, "Cost of the sales process", "AMOUNT" },
    { "source", 0, 0, G_OPTION_ARG_STRING, &source, "Lead source (inbound, event:NAME, list:NAME...)", "NAME" },
    { "opened", 0, 0, G_OPTION_ARG_STRING, &opened, "Date opened (default: now)", "YYYY-MM-DD" },
    { "expected-close", 0, 0, G_OPTION_ARG_STRING, &expected, "Expected close date", "YYYY-MM-DD" },
    { "contact", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &contacts, "A contact, with their part (repeatable)",
      "ADDRESS[:PART]" },
    { "allow-duplicate", 0, 0, G_OPTION_ARG_NONE, &allow_duplicate,
      "Allow a second open process for the same organisation and deliverable", NULL },
    { NULL },
  };
  g_auto (Ctx) c = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *uuid = NULL;
  SgProcessNew spec = { 0 };
  int status;

  if (!parse ("new", NULL, "Creates a sales process and prints its id (a UUID).", entries, TRUE, &argc, &argv, g))
    return SG_EXIT_USAGE;
  if (argc > 1)
    return usage_error ("new", "takes no arguments; give --org and --deliverable");
  if (org == NULL || deliverable == NULL)
    return usage_error ("new", "--org and --deliverable are required");
  if (currency != NULL)
    spec.currency = currency;
  if (value != NULL) {
    if (currency == NULL)
      return usage_error ("new", "--value needs --currency");
    if (!sg_money_parse (value, currency, &spec.value_minor, &error))
      return usage_error ("new", error->message);
    spec.has_value = TRUE;
  }
  if (cost != NULL && !sg_money_parse (cost, currency, &spec.cost_minor, &error))
    return usage_error ("new", error->message);
  {
    g_autoptr (GDateTime) dt = NULL;
    g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
    const char *dates[] = { opened, expected };
    gint64 *out[] = { &spec.opened_at, &spec.expected_close };

    for (guint i = 0; i < 2; i++) {
      g_autofree char *iso = NULL;

      if (dates[i] == NULL)
        continue;
      iso = strlen (dates[i]) == 10 ? g_strdup_printf ("%sT00:00:00Z", dates[i]) : g_strdup (dates[i]);
      g_clear_pointer (&dt, g_date_time_unref);
      dt = g_date_time_new_from_iso8601 (iso, utc);
      if (dt == NULL) {
        g_autofree char *msg = g_strdup_printf ("“%s” is not a date (YYYY-MM-DD)", dates[i]);

        return usage_error ("new", msg);
      }
      *out[i] = g_date_time_to_unix (dt);
    }
  }
  if ((status = ctx_open (&c, g, TRUE)) != 0)
    return status;
  spec.organisation = org;
  spec.deliverable = deliverable;
  spec.deliverable_kind = kind;
  spec.deliverable_type = type;
  spec.title = title;
  spec.pipeline = pipeline;
  spec.stage = stage;
  spec.account_manager = owner;
  spec.lead_source = source;
  spec.allow_duplicate = allow_duplicate;
  /* The process and its contacts in one transaction. */
  if (!sg_store_begin (c.store, &error))
    return fail (error);
  uuid = sg_process_create (c.store, &spec, sg_cli_actor (c.config), &error);
  for (guint i = 0; uuid != NULL && contacts && contacts[i]; i++) {
    g_auto (GStrv) parts = g_strsplit (contacts[i], ":", 2);

    if (!sg_process_add_contact (c.store, uuid, parts[0], parts[1] ? parts[1] : "contact",
                                 sg_cli_actor (c.config), &error))
      g_clear_pointer (&uuid, g_free);
  }
  if (uuid == NULL) {
    sg_store_rollback (c.store);
    return fail (error);
  }
  if (!sg_store_commit (c.store, &error))
    return fail (error);
  if (c.format == SG_FORMAT_TABLE) {
    puts (uuid);
    return SG_EXIT_OK;
  }
  return print_process (&c, uuid);
}

/* --- list --------------------------------------------------------------------------- */

static int
cmd_list (int argc, char **argv, SgGlobalOptions *g)
{
  g_autofree char *org = NULL, *person = NULL, *owner = NULL, *pipeline = NULL, *st = NULL;
  gboolean all = FALSE;
  int limit = 0;
  const GOptionEntry entries[] = {
    { "org", 'o', 0, G_OPTION_ARG_STRING, &org, "Only this organisation's (a domain of it)", "DOMAIN" },
    { "person", 'p', 0, G_OPTION_ARG_STRING, &person, "Only processes of this person or their organisation",
      "ADDRESS" },
    { "owner", 0, 0, G_OPTION_ARG_STRING, &owner, "Only this account manager's", "ADDRESS" },
    { "pipeline", 0, 0, G_OPTION_ARG_STRING, &pipeline, "Only this pipeline's", "NAME" },
    { "status", 0, 0, G_OPTION_ARG_STRING, &st, "open (default), won, lost or closed", "STATUS" },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Open and closed processes", NULL },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, "At most N processes", "N" },
    { NULL },
  };
  g_auto (Ctx) c = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = NULL;
  SgProcessQuery q = { 0 };
  int status;

  if (!parse ("list", NULL, "Lists sales processes: open ones by default, most recent activity first.", entries,
              TRUE, &argc, &argv, g))
    return SG_EXIT_USAGE;
  if (argc > 1 || limit < 0)
    return usage_error ("list", limit < 0 ? "--limit must not be negative" : "takes no arguments");
  if (all && st != NULL)
    return usage_error ("list", "--all and --status do not go together");
  if ((status = ctx_open (&c, g, FALSE)) != 0)
    return status;
  q.organisation = org;
  q.person = person;
  q.owner = owner;
  q.pipeline = pipeline;
  q.status = all ? NULL : st ? st : "open";
  q.limit = (guint) limit;
  t = sg_process_query (c.store, &q, &error);
  if (t == NULL)
    return fail (error);
  sg_output_table (t, c.format);
  return SG_EXIT_OK;
}

/* --- show --------------------------------------------------------------------------- */

static void
print_section (const char *title, const SgTable *t)
{
  printf ("\n%s\n", title);
  if (sg_table_get_n_rows (t) == 0)
    puts ("  (none)");
  else
    sg_output_table (t, SG_FORMAT_TABLE);
}

static int
cmd_show (int argc, char **argv, SgGlobalOptions *g)
{
  g_auto (Ctx) c = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = NULL, history = NULL, contacts = NULL, links = NULL, suggestions = NULL;
  g_autofree char *uuid = NULL;
  SgProcessQuery q = { 0 };
  int status = 0;

  if (!parse ("show", "PROCESS", "Shows a sales process: its fields, contacts, stage history, linked\n"
              "interactions and open stage suggestions. PROCESS is its id (UUID), a unique prefix of it\n"
              "(4 characters or more) or its local number.", NULL, TRUE, &argc, &argv, g))
    return SG_EXIT_USAGE;
  if (argc != 2)
    return usage_error ("show", "give one PROCESS");
  if ((status = ctx_open (&c, g, FALSE)) != 0)
    return status;
  if ((uuid = resolve (&c, argv[1], &status)) == NULL)
    return status;
  q.uuid = uuid;
  if ((t = sg_process_query (c.store, &q, &error)) == NULL ||
      (history = sg_process_history (c.store, uuid, &error)) == NULL ||
      (contacts = sg_process_contacts (c.store, uuid, &error)) == NULL ||
      (links = sg_process_links (c.store, uuid, &error)) == NULL ||
      (suggestions = sg_process_suggestions (c.store, uuid, &error)) == NULL)
    return fail (error);
  if (c.format == SG_FORMAT_JSON) {
    g_autoptr (JsonNode) root = sg_output_table_to_json (t);
    JsonObject *obj = json_array_get_object_element (json_node_get_array (root), 0);

    json_object_set_member (obj, "contact_list", sg_output_table_to_json (contacts));
    json_object_set_member (obj, "history", sg_output_table_to_json (history));
    json_object_set_member (obj, "linked", sg_output_table_to_json (links));
    json_object_set_member (obj, "suggestions", sg_output_table_to_json (suggestions));
    sg_output_json_node (root);
    return SG_EXIT_OK;
  }
  if (c.format == SG_FORMAT_CSV) {
    sg_output_table (t, c.format);
    return SG_EXIT_OK;
  }
  for (guint col = 0; col < sg_table_get_n_columns (t); col++) {
    g_autofree char *cell = sg_table_format_cell (t, 0, col);
    g_autofree char *safe = sg_cli_sanitize (cell ? cell : "");

    printf ("%-17s %s\n", sg_table_get_column_name (t, col), safe);
  }
  print_section ("Contacts", contacts);
  print_section ("Stage history", history);
  print_section ("Linked interactions", links);
  print_section ("Stage suggestions", suggestions);
  fflush (stdout);
  return SG_EXIT_OK;
}

/* --- move, close, reopen ------------------------------------------------------------ */

static int
cmd_move (int argc, char **argv, SgGlobalOptions *g)
{
  g_autofree char *reason = NULL;
  const GOptionEntry entries[] = {
    { "reason", 'r', 0, G_OPTION_ARG_STRING, &reason, "Why (the lost reason, for a lost stage)", "TEXT" },
    { NULL },
  };
  g_auto (Ctx) c = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *uuid = NULL;
  int status = 0;

  if (!parse ("move", "PROCESS STAGE", "Moves a sales process to another stage of its pipeline. A closed\n"
              "process (won or lost) moves only after 'salesgetter process reopen', except from won\n"
              "into a post-sale stage (follow-up).", entries, TRUE, &argc, &argv, g))
    return SG_EXIT_USAGE;
  if (argc != 3)
    return usage_error ("move", "give PROCESS and STAGE");
  if ((status = ctx_open (&c, g, TRUE)) != 0)
    return status;
  if ((uuid = resolve (&c, argv[1], &status)) == NULL)
    return status;
  if (!sg_process_move (c.store, uuid, argv[2], reason, sg_cli_actor (c.config), &error))
    return fail (error);
  return c.format == SG_FORMAT_TABLE ? SG_EXIT_OK : print_process (&c, uuid);
}

static int
cmd_close (int argc, char **argv, SgGlobalOptions *g)
{
  gboolean won = FALSE, lost = FALSE;
  g_autofree char *reason = NULL;
  const GOptionEntry entries[] = {
    { "won", 0, 0, G_OPTION_ARG_NONE, &won, "Closed won", NULL },
    { "lost", 0, 0, G_OPTION_ARG_NONE, &lost, "Closed lost", NULL },
    { "reason", 'r', 0, G_OPTION_ARG_STRING, &reason, "Why (the lost reason)", "TEXT" },
    { NULL },
  };
  g_auto (Ctx) c = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *uuid = NULL;
  int status = 0;

  if (!parse ("close", "PROCESS", "Closes a sales process as won or lost (its pipeline's first won or lost\n"
              "stage).", entries, TRUE, &argc, &argv, g))
    return SG_EXIT_USAGE;
  if (argc != 2 || won == lost)
    return usage_error ("close", argc != 2 ? "give one PROCESS" : "give one of --won and --lost");
  if ((status = ctx_open (&c, g, TRUE)) != 0)
    return status;
  if ((uuid = resolve (&c, argv[1], &status)) == NULL)
    return status;
  if (!sg_process_close (c.store, uuid, won, reason, sg_cli_actor (c.config), &error))
    return fail (error);
  return c.format == SG_FORMAT_TABLE ? SG_EXIT_OK : print_process (&c, uuid);
}

static int
cmd_reopen (int argc, char **argv, SgGlobalOptions *g)
{
  g_autofree char *stage = NULL;
  const GOptionEntry entries[] = {
    { "stage", 0, 0, G_OPTION_ARG_STRING, &stage, "The open stage to reopen into (default: the last one)",
      "STAGE" },
    { NULL },
  };
  g_auto (Ctx) c = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *uuid = NULL;
  int status = 0;

  if (!parse ("reopen", "PROCESS", "Reopens a closed sales process, into the open stage it was in last.", entries,
              TRUE, &argc, &argv, g))
    return SG_EXIT_USAGE;
  if (argc != 2)
    return usage_error ("reopen", "give one PROCESS");
  if ((status = ctx_open (&c, g, TRUE)) != 0)
    return status;
  if ((uuid = resolve (&c, argv[1], &status)) == NULL)
    return status;
  if (!sg_process_reopen (c.store, uuid, stage, sg_cli_actor (c.config), &error))
    return fail (error);
  return c.format == SG_FORMAT_TABLE ? SG_EXIT_OK : print_process (&c, uuid);
}

/* --- set, contact ------------------------------------------------------------------- */

static int
cmd_set (int argc, char **argv, SgGlobalOptions *g)
{
  static const char *const fields[] = { "value", "currency", "cost", "owner", "expected-close", "source",
                                        "title", NULL };
  g_auto (Ctx) c = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *uuid = NULL;
  int status = 0;
  guint f;

  if (!parse ("set", "PROCESS FIELD VALUE", "Sets a field of a sales process: value, currency, cost, owner,\n"
              "expected-close, source or title.", NULL, TRUE, &argc, &argv, g))
    return SG_EXIT_USAGE;
  if (argc != 4)
    return usage_error ("set", "give PROCESS, FIELD and VALUE");
  for (f = 0; fields[f] && strcmp (fields[f], argv[2]) != 0; f++)
    ;
  if (fields[f] == NULL)
    return usage_error ("set", "FIELD is one of value, currency, cost, owner, expected-close, source, title");
  if ((status = ctx_open (&c, g, TRUE)) != 0)
    return status;
  if ((uuid = resolve (&c, argv[1], &status)) == NULL)
    return status;
  if (!sg_process_set_field (c.store, uuid, (SgProcessField) f, argv[3], sg_cli_actor (c.config), &error))
    return fail (error);
  return c.format == SG_FORMAT_TABLE ? SG_EXIT_OK : print_process (&c, uuid);
}

static int
cmd_contact (int argc, char **argv, SgGlobalOptions *g)
{
  g_autofree char *part = NULL;
  gboolean remove = FALSE;
  const GOptionEntry entries[] = {
    { "part", 0, 0, G_OPTION_ARG_STRING, &part,
      "decision-maker, influencer, user, gatekeeper, buyer, champion or contact (default)", "PART" },
    { "remove", 0, 0, G_OPTION_ARG_NONE, &remove, "Remove the contact (in that part)", NULL },
    { NULL },
  };
  g_auto (Ctx) c = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *uuid = NULL;
  int status = 0;
  gboolean ok;

  if (!parse ("contact", "PROCESS ADDRESS", "Adds a person (by address) to a sales process, with their part in\n"
              "the buying process.", entries, TRUE, &argc, &argv, g))
    return SG_EXIT_USAGE;
  if (argc != 3)
    return usage_error ("contact", "give PROCESS and ADDRESS");
  if ((status = ctx_open (&c, g, TRUE)) != 0)
    return status;
  if ((uuid = resolve (&c, argv[1], &status)) == NULL)
    return status;
  if (remove)
    ok = sg_process_remove_contact (c.store, uuid, argv[2], part, sg_cli_actor (c.config), &error);
  else
    ok = sg_process_add_contact (c.store, uuid, argv[2], part, sg_cli_actor (c.config), &error);
  if (!ok)
    return fail (error);
  return c.format == SG_FORMAT_TABLE ? SG_EXIT_OK : print_process (&c, uuid);
}

/* --- link, suggestions, stages ------------------------------------------------------ */

static int
cmd_link (int argc, char **argv, SgGlobalOptions *g)
{
  gboolean automatic = FALSE, remove = FALSE;
  const GOptionEntry entries[] = {
    { "auto", 0, 0, G_OPTION_ARG_NONE, &automatic,
      "Link every interaction not linked yet to its organisation's open process", NULL },
    { "remove", 0, 0, G_OPTION_ARG_NONE, &remove, "Remove the link (it stays removed)", NULL },
    { NULL },
  };
  g_auto (Ctx) c = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *uuid = NULL;
  int status = 0;
  gboolean ok;

  if (!parse ("link", "[PROCESS MESSAGE-ID]",
              "Links an interaction (by Message-ID) to a sales process, moving it from any other;\n"
              "with --remove, unlinks it. A person's link or unlink sticks. With --auto, links\n"
              "every interaction not linked or unlinked yet and makes stage suggestions.",
              entries, TRUE, &argc, &argv, g))
    return SG_EXIT_USAGE;
  if (automatic ? argc != 1 || remove : argc != 3)
    return usage_error ("link", automatic ? "--auto takes no arguments and no --remove" : "give PROCESS and MESSAGE-ID");
  if ((status = ctx_open (&c, g, TRUE)) != 0)
    return status;
  if (automatic) {
    guint linked = 0, suggested = 0;

    if (!sg_process_link_auto (c.store, 0, &linked, &suggested, &error))
      return fail (error);
    printf ("Linked %u interaction%s; %u new stage suggestion%s.\n", linked, linked == 1 ? "" : "s", suggested,
            suggested == 1 ? "" : "s");
    return SG_EXIT_OK;
  }
  if ((uuid = resolve (&c, argv[1], &status)) == NULL)
    return status;
  if (remove)
    ok = sg_process_unlink (c.store, uuid, argv[2], sg_cli_actor (c.config), &error);
  else
    ok = sg_process_link (c.store, uuid, argv[2], sg_cli_actor (c.config), &error);
  return ok ? SG_EXIT_OK : fail (error);
}

static int
cmd_suggestions (int argc, char **argv, SgGlobalOptions *g)
{
  gint64 dismiss = 0;
  const GOptionEntry entries[] = {
    { "dismiss", 0, 0, G_OPTION_ARG_INT64, &dismiss, "Dismiss the suggestion with this id", "ID" },
    { NULL },
  };
  g_auto (Ctx) c = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = NULL;
  g_autofree char *uuid = NULL;
  int status = 0;

  if (!parse ("suggestions", "[PROCESS]", "Lists open stage suggestions made from captured activity (all,\n"
              "or one process's). They are never applied by themselves: move the process to accept one.",
              entries, TRUE, &argc, &argv, g))
    return SG_EXIT_USAGE;
  if (argc > 2 || (dismiss != 0 && argc != 1))
    return usage_error ("suggestions", "give at most one PROCESS, and none with --dismiss");
  if ((status = ctx_open (&c, g, dismiss != 0)) != 0)
    return status;
  if (dismiss != 0)
    return sg_process_dismiss_suggestion (c.store, dismiss, &error) ? SG_EXIT_OK : fail (error);
  if (argc == 2 && (uuid = resolve (&c, argv[1], &status)) == NULL)
    return status;
  if ((t = sg_process_suggestions (c.store, uuid, &error)) == NULL)
    return fail (error);
  sg_output_table (t, c.format);
  return SG_EXIT_OK;
}

static int
cmd_stages (int argc, char **argv, SgGlobalOptions *g)
{
  g_autofree char *pipeline = NULL;
  gboolean check = FALSE;
  const GOptionEntry entries[] = {
    { "pipeline", 0, 0, G_OPTION_ARG_STRING, &pipeline, "Only this pipeline's", "NAME" },
    { "apply", 0, 0, G_OPTION_ARG_NONE, &check, "Apply the pipelines file to the store first", NULL },
    { NULL },
  };
  g_auto (Ctx) c = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = NULL;
  int status = 0;

  if (!parse ("stages", NULL, "Lists the pipelines and their stages, as the store holds them.", entries, TRUE,
              &argc, &argv, g))
    return SG_EXIT_USAGE;
  if (argc != 1)
    return usage_error ("stages", "takes no arguments");
  if ((status = ctx_open (&c, g, check)) != 0)
    return status;
  if ((t = sg_pipeline_list_stages (c.store, pipeline, &error)) == NULL)
    return fail (error);
  sg_output_table (t, c.format);
  return SG_EXIT_OK;
}

static const struct {
  const char *verb;
  int (*run) (int argc, char **argv, SgGlobalOptions *g);
  const char *summary;
} verbs[] = {
  { "new", cmd_new, "create a sales process (prints its id)" },
  { "list", cmd_list, "list sales processes (open ones by default)" },
  { "show", cmd_show, "show one process: fields, contacts, history, links, suggestions" },
  { "move", cmd_move, "move a process to another stage" },
  { "close", cmd_close, "close a process as won or lost" },
  { "reopen", cmd_reopen, "reopen a closed process" },
  { "set", cmd_set, "set a field (value, currency, cost, owner, expected-close, source, title)" },
  { "contact", cmd_contact, "add or remove a contact and their part in the buying process" },
  { "link", cmd_link, "link mail and meetings to processes (--auto, or one by Message-ID)" },
  { "suggestions", cmd_suggestions, "stage suggestions from captured activity" },
  { "stages", cmd_stages, "the pipelines and their stages" },
};

static void
process_usage (FILE *out)
{
  fprintf (out, "Usage: salesgetter process VERB [OPTIONS] [ARGS]\n\nSales processes (opportunities).\n\nVerbs:\n");
  for (guint i = 0; i < G_N_ELEMENTS (verbs); i++)
    fprintf (out, "  %-12s %s\n", verbs[i].verb, verbs[i].summary);
  fprintf (out, "\nRun 'salesgetter process VERB --help' for a verb's options; 'man salesgetter-process'.\n"
                "Exit status: 0 success, 1 failure, 2 usage error, 3 not found (process, organisation,\n"
                "person, stage, pipeline), 4 refused by the stage rules (closed process, duplicate).\n");
}

int
sg_cmd_process (int argc, char **argv, SgGlobalOptions *globals)
{
  if (argc < 2) {
    process_usage (stderr);
    return SG_EXIT_USAGE;
  }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0) {
    process_usage (stdout);
    return SG_EXIT_OK;
  }
  for (guint i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (strcmp (argv[1], verbs[i].verb) == 0)
      return verbs[i].run (argc - 1, argv + 1, globals);
  sg_cli_error ("process: unknown verb “%s” (see 'salesgetter process --help')", argv[1]);
  return SG_EXIT_USAGE;
}
