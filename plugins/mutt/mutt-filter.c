/* salesgetter-mutt-filter: a display_filter for mutt and neomutt.
 *
 *   set display_filter="salesgetter-mutt-filter"
 *
 * Reads the message mutt is about to show on standard input, prints a short block of what
 * the store knows about its people (sg-panel.h, as text), then the message, byte for byte.
 * Whatever goes wrong (no store, a locked store, headers that do not parse, a message too
 * large to look at) the message itself is always printed unchanged: a filter must never
 * cost the user their mail. Only headers are read; the store is opened read-only.
 */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sg-config.h"
#include "sg-panel.h"

/* Only the header block is parsed; a header block larger than this is not looked at. */
#define HEADER_CAP ((gsize) 256 * 1024)

static gboolean
write_all (int fd, const char *data, gsize len)
{
  while (len > 0) {
    ssize_t n = write (fd, data, len);

    if (n < 0) {
      if (errno == EINTR)
        continue;
      return FALSE;
    }
    data += n;
    len -= (gsize) n;
  }
  return TRUE;
}

/* The end of the header block of @data (the blank line), or @len when there is none. */
static gsize
header_end (const char *data, gsize len)
{
  for (gsize i = 0; i + 1 < len; i++) {
    if (data[i] == '\n' && data[i + 1] == '\n')
      return i + 1;
    if (data[i] == '\n' && data[i + 1] == '\r' && i + 2 < len && data[i + 2] == '\n')
      return i + 1;
  }
  return len;
}

/* The block for the message in @data. Returns: (transfer full) (nullable). */
static char *
insight_block (SgPanelSource *source, const char *data, gsize len, const SgIdentity *identity)
{
  gsize hlen = header_end (data, len);
  g_autofree char *headers = NULL;
  g_autoptr (SgMessage) m = NULL;
  g_autoptr (GPtrArray) addrs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SgPanel) panel = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  if (hlen > HEADER_CAP)
    return g_strdup ("SalesGetter: the headers are too large to look at\n");
  /* The headers and a blank line: enough for the participants, and no body is parsed. */
  headers = g_strndup (data, hlen);
  m = sg_message_parse (headers, hlen, identity, 0, &error);
  if (m == NULL)
    return NULL; /* not a message (mutt showing something else): print it as it is */
  for (guint i = 0; i < sg_message_get_n_participants (m); i++) {
    const SgParticipant *p = sg_message_get_participant (m, i);

    if (p->self || p->internal)
      continue;
    g_ptr_array_add (addrs, g_strdup (p->address));
  }
  if (addrs->len == 0)
    return NULL;
  g_ptr_array_add (addrs, NULL);
  panel = sg_panel_lookup_sync (source, (const char *const *) addrs->pdata,
                                sg_message_id_is_hash (m) ? NULL : sg_message_get_id (m), FALSE, NULL, &error);
  if (panel == NULL)
    return NULL;
  text = sg_panel_to_text (panel, FALSE);
  if (*text == '\0')
    return NULL;
  return g_steal_pointer (&text);
}

int
main (int argc, char **argv)
{
  g_autofree char *config_path = NULL, *store_path = NULL;
  int width = 0, n_interactions = 2;
  gboolean similar = FALSE;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "The config file (default: the usual one)", "FILE" },
    { "store", 's', 0, G_OPTION_ARG_FILENAME, &store_path, "The store (default: as salesgetter finds it)", "FILE" },
    { "width", 'w', 0, G_OPTION_ARG_INT, &width, "Columns of a line (default: $COLUMNS, else 80)", "N" },
    { "interactions", 'n', 0, G_OPTION_ARG_INT, &n_interactions, "Last interactions per person (default 2)", "N" },
    { "similar", 0, 0, G_OPTION_ARG_NONE, &similar, "Also show similar organisations (reads all tags: slower)", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("< MESSAGE");
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  g_autoptr (SgPanelSource) source = NULL;
  g_autoptr (SgConfig) config = NULL;
  g_autofree char *block = NULL;
  gboolean too_large = FALSE;
  guint8 chunk[65536];

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx,
      "A display_filter for mutt and neomutt: prints what SalesGetter knows about the people\n"
      "of the message on standard input (organisation, roles, open sales processes and their\n"
      "stage, tags, last interactions, relationship), then the message unchanged.\n\n"
      "In ~/.muttrc or ~/.neomuttrc:  set display_filter=\"salesgetter-mutt-filter\"");
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc > 1) {
    fprintf (stderr, "salesgetter-mutt-filter: %s\n", error ? error->message : "unexpected argument (the message comes on standard input)");
    return 2;
  }
  if (n_interactions < 0 || n_interactions > 20 || width < 0 || width > SG_PANEL_WIDTH_MAX) {
    fprintf (stderr, "salesgetter-mutt-filter: --interactions must be 0..20 and --width 0..%d\n", SG_PANEL_WIDTH_MAX);
    return 2;
  }
  for (;;) {
    ssize_t n = read (0, chunk, sizeof chunk);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      fprintf (stderr, "salesgetter-mutt-filter: standard input: %s\n", g_strerror (errno));
      break;
    }
    if (n == 0)
      break;
    g_byte_array_append (buf, chunk, (guint) n);
    if (buf->len > SG_MESSAGE_MAX_SIZE)
      too_large = TRUE; /* still read and printed whole; only not looked at */
  }
  if (width == 0) {
    const char *cols = g_getenv ("COLUMNS");
    guint64 v = 0;

    width = cols != NULL && g_ascii_string_to_unsigned (cols, 10, SG_PANEL_WIDTH_MIN, SG_PANEL_WIDTH_MAX, &v, NULL)
                ? (int) v
                : 80;
  }
  if (!too_large && buf->len > 0) {
    config = sg_config_load (config_path, NULL);
    source = sg_panel_source_new (config_path, store_path);
    sg_panel_source_set_width (source, (guint) width - 2);
    sg_panel_source_set_similar (source, similar);
    sg_panel_source_set_n_interactions (source, (guint) n_interactions);
    block = insight_block (source, (const char *) buf->data, buf->len, config ? config->identity : NULL);
  }
  if (block != NULL) {
    const char *charset = NULL;

    /* The terminal's charset: names and "…" converted, what cannot be shown as '?'. */
    if (!g_get_charset (&charset)) {
      char *local = g_convert_with_fallback (block, -1, charset, "UTF-8", "?", NULL, NULL, NULL);

      if (local != NULL) {
        g_free (block);
        block = local;
      }
    }
  }
  if (block != NULL) {
    g_autoptr (GString) rule = g_string_new (NULL);

    for (int i = 0; i < MIN (width, 72); i++)
      g_string_append_c (rule, '-');
    g_string_append_c (rule, '\n');
    if (!write_all (1, block, strlen (block)) || !write_all (1, rule->str, rule->len))
      return 1;
  }
  return write_all (1, (const char *) buf->data, buf->len) ? 0 : 1;
}
