/* cli-util.c: option parsing, config and store opening shared by the subcommands. */
#include "config.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>

void
sg_cli_error (const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;
  g_autofree char *safe = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  safe = sg_cli_sanitize (msg);
  fflush (stdout);
  fprintf (stderr, "salesgetter: %s\n", safe);
}

char *
sg_cli_sanitize (const char *text)
{
  g_autofree char *valid = NULL;
  GString *out;

  if (text == NULL)
    return NULL;
  valid = g_utf8_make_valid (text, -1);
  out = g_string_sized_new (strlen (valid));
  for (const char *p = valid; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    /* Control characters, and the bidirectional overrides that can make a name display
     * as something else, are shown as U+FFFD. */
    if (g_unichar_iscntrl (c) || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069))
      g_string_append (out, "\xef\xbf\xbd");
    else
      g_string_append_unichar (out, c);
  }
  return g_string_free (out, FALSE);
}

gboolean
sg_cli_parse (const char *command, const char *parameter, const char *summary,
              const GOptionEntry *entries, gboolean with_format, int *argc, char ***argv,
              SgGlobalOptions *globals)
{
  const GOptionEntry common[] = {
    { "store", 0, 0, G_OPTION_ARG_FILENAME, &globals->store, "The store to use", "FILE" },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &globals->config, "The config file", "FILE" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &globals->format, "Output format: table (default), json or csv",
      "FORMAT" },
    { NULL },
  };
  g_autofree char *title = g_strdup_printf ("%s%s%s", command, parameter ? " " : "", parameter ? parameter : "");
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  GOptionEntry only_common[4];

  g_option_context_set_summary (ctx, summary);
  g_option_context_set_description (ctx, "Exit status: 0 success, 1 failure, 2 usage error.");
  if (entries != NULL)
    g_option_context_add_main_entries (ctx, entries, NULL);
  memcpy (only_common, common, sizeof only_common);
  if (!with_format)
    only_common[2] = (GOptionEntry) { NULL };
  g_option_context_add_main_entries (ctx, only_common, NULL);
  /* "salesgetter people" rather than the binary's name in --help. */
  {
    g_autofree char *prgname = g_strdup_printf ("salesgetter %s", title);

    g_set_prgname (prgname);
  }
  if (!g_option_context_parse (ctx, argc, argv, &error)) {
    sg_cli_error ("%s: %s (see 'salesgetter %s --help')", command, error->message, command);
    return FALSE;
  }
  return TRUE;
}

SgConfig *
sg_cli_load_config (SgGlobalOptions *globals)
{
  g_autoptr (GError) error = NULL;
  SgConfig *config = sg_config_load (globals->config, &error);

  if (config == NULL)
    sg_cli_error ("%s", error->message);
  for (guint i = 0; config && config->warnings[i]; i++)
    sg_cli_error ("warning: %s", config->warnings[i]);
  return config;
}

SgStore *
sg_cli_open_store (SgGlobalOptions *globals, SgConfig *config, gboolean read_only)
{
  g_autofree char *path = sg_config_store_path (config, globals->store);
  g_autoptr (GError) error = NULL;
  SgStore *store;

  if (read_only && !g_file_test (path, G_FILE_TEST_EXISTS)) {
    sg_cli_error ("no store at %s yet: run 'salesgetter import' first", path);
    return NULL;
  }
  if (!read_only && !sg_config_ensure_store_dir (path, &error)) {
    sg_cli_error ("%s", error->message);
    return NULL;
  }
  store = sg_store_open (path, read_only ? SG_STORE_OPEN_READ_ONLY : SG_STORE_OPEN_DEFAULT, &error);
  if (store == NULL)
    sg_cli_error ("%s", error->message);
  return store;
}

gboolean
sg_cli_get_format (SgGlobalOptions *globals, SgFormat *format)
{
  const char *f = globals->format;

  if (f == NULL || strcmp (f, "table") == 0)
    *format = SG_FORMAT_TABLE;
  else if (strcmp (f, "json") == 0)
    *format = SG_FORMAT_JSON;
  else if (strcmp (f, "csv") == 0)
    *format = SG_FORMAT_CSV;
  else {
    sg_cli_error ("unknown format “%s” (expected table, json or csv)", f);
    return FALSE;
  }
  return TRUE;
}

int
sg_cli_exit_for (const GError *error)
{
  if (error == NULL)
    return SG_EXIT_FAILED;
  if (error->domain == SG_PROCESS_ERROR) {
    switch (error->code) {
    case SG_PROCESS_ERROR_NOT_FOUND:
    case SG_PROCESS_ERROR_AMBIGUOUS:
    case SG_PROCESS_ERROR_UNKNOWN_PIPELINE:
    case SG_PROCESS_ERROR_UNKNOWN_STAGE:
      return SG_EXIT_NOT_FOUND;
    case SG_PROCESS_ERROR_INVALID_MOVE:
    case SG_PROCESS_ERROR_DUPLICATE:
      return SG_EXIT_REFUSED;
    case SG_PROCESS_ERROR_INVALID:
      return SG_EXIT_USAGE;
    default:
      return SG_EXIT_FAILED;
    }
  }
  if (error->domain == SG_ROLE_ERROR)
    return error->code == SG_ROLE_ERROR_NOT_FOUND ? SG_EXIT_NOT_FOUND : SG_EXIT_USAGE;
  if (error->domain == SG_ORG_ERROR)
    return error->code == SG_ORG_ERROR_NOT_FOUND ? SG_EXIT_NOT_FOUND : SG_EXIT_USAGE;
  return SG_EXIT_FAILED;
}

const char *
sg_cli_actor (SgConfig *config)
{
  const char *const *addresses = config ? sg_identity_get_addresses (config->identity) : NULL;

  return addresses && addresses[0] ? addresses[0] : NULL;
}
