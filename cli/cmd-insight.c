/* cmd-insight.c: salesgetter insight — what the store knows about a message's people. */
#include "config.h"

#include "cli.h"

#include <gio/gunixinputstream.h>
#include <stdio.h>
#include <string.h>

/* Reads all of @path ("-" or NULL: standard input), up to the message size cap. */
static GBytes *
read_message (const char *path, GError **error)
{
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  guint8 chunk[65536];

  if (path == NULL || strcmp (path, "-") == 0) {
    in = g_unix_input_stream_new (0, FALSE);
  } else {
    g_autoptr (GFile) file = g_file_new_for_path (path);

    if ((in = G_INPUT_STREAM (g_file_read (file, NULL, error))) == NULL)
      return NULL;
  }
  for (;;) {
    gssize n = g_input_stream_read (in, chunk, sizeof chunk, NULL, error);

    if (n < 0)
      return NULL;
    if (n == 0)
      break;
    if (buf->len + (gsize) n > SG_MESSAGE_MAX_SIZE) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE, "%s: message larger than %zu bytes",
                   path ? path : "standard input", (size_t) SG_MESSAGE_MAX_SIZE);
      return NULL;
    }
    g_byte_array_append (buf, chunk, (guint) n);
  }
  return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}

int
sg_cmd_insight (int argc, char **argv, SgGlobalOptions *globals)
{
  g_auto (GStrv) addresses = NULL;
  int n_interactions = 5;
  const GOptionEntry entries[] = {
    { "address", 'a', 0, G_OPTION_ARG_STRING_ARRAY, &addresses,
      "Look at this address instead of a message (repeatable)", "ADDR" },
    { "interactions", 'n', 0, G_OPTION_ARG_INT, &n_interactions, "Last interactions per person (default 5)", "N" },
    { NULL },
  };
  g_autoptr (SgConfig) config = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (SgInsight) insight = NULL;
  g_autoptr (SgMessage) message = NULL;
  g_autoptr (GError) error = NULL;
  SgInsightOptions options = { 0 };
  gboolean json;

  if (!sg_cli_parse ("insight", "[FILE]",
                     "Shows what the store knows about the people of a message (read from FILE or\n"
                     "standard input) or of the addresses given with --address: person, organisation,\n"
                     "roles, open sales processes, tags, last interactions, relationship strength,\n"
                     "stage suggestions and matching saved selections. --format text (default) or json.",
                     entries, TRUE, &argc, &argv, globals))
    return SG_EXIT_USAGE;
  if (globals->format != NULL && strcmp (globals->format, "text") != 0 && strcmp (globals->format, "table") != 0 &&
      strcmp (globals->format, "json") != 0) {
    sg_cli_error ("insight: unknown format “%s” (expected text or json)", globals->format);
    return SG_EXIT_USAGE;
  }
  json = g_strcmp0 (globals->format, "json") == 0;
  if (argc > 2 || (argc == 2 && addresses != NULL) || n_interactions < 0 || n_interactions > 100) {
    sg_cli_error ("insight: %s (see 'salesgetter insight --help')",
                  n_interactions < 0 || n_interactions > 100 ? "--interactions must be between 0 and 100"
                                                            : "give one FILE, or --address");
    return SG_EXIT_USAGE;
  }
  if ((config = sg_cli_load_config (globals)) == NULL || (store = sg_cli_open_store (globals, config, TRUE)) == NULL)
    return SG_EXIT_FAILED;
  options.identity = config->identity;
  options.n_interactions = (guint) n_interactions;
  if (addresses != NULL) {
    insight = sg_insight_for_addresses (store, (const char *const *) addresses, &options, &error);
  } else {
    const char *path = argc == 2 ? argv[1] : NULL;
    g_autoptr (GBytes) bytes = read_message (path, &error);
    gsize len = 0;
    const char *data;

    if (bytes == NULL) {
      sg_cli_error ("%s", error->message);
      return SG_EXIT_FAILED;
    }
    data = g_bytes_get_data (bytes, &len);
    message = sg_message_parse (data, len, config->identity, 0, &error);
    if (message == NULL) {
      sg_cli_error ("%s: %s", path ? path : "standard input", error->message);
      return SG_EXIT_FAILED;
    }
    insight = sg_insight_for_message (store, message, &options, &error);
  }
  if (insight == NULL) {
    sg_cli_error ("%s", error->message);
    return error->domain == SG_INSIGHT_ERROR ? SG_EXIT_USAGE : SG_EXIT_FAILED;
  }
  if (json) {
    g_autofree char *text = sg_insight_to_json_string (insight, TRUE);

    printf ("%s\n", text);
  } else {
    g_autofree char *text = sg_insight_to_text (insight);

    fputs (text, stdout);
  }
  return SG_EXIT_OK;
}
