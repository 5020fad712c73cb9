/* fuzz-sync.c: fuzz target for what salesgetter-server reads from the network: a sync request
 * body, as JSON and inside gzip. Invariants: srv_sync_parse() gives a request or an error,
 * never both or neither; every op has an op_id, and either a reason to reject it or fields
 * that are a JSON object; srv_gunzip() never returns more than its limit.
 *
 * Built with -Dfuzzing it is a libFuzzer target; otherwise the standalone driver runs it over
 * the files and folders given on the command line (and every prefix of each). */
#include "config.h"

#include "srv-sync.h"
#include "srv-util.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
check_parse (const char *data, gsize size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SrvSyncRequest) req = srv_sync_parse (data, size, &error);

  if ((req == NULL) == (error == NULL))
    abort ();
  if (req == NULL)
    return;
  if (req->device == NULL || req->limit < 1 || req->limit > SRV_SYNC_MAX_OPS || req->ops->len > SRV_SYNC_MAX_OPS)
    abort ();
  for (guint i = 0; i < req->ops->len; i++) {
    SrvOp *op = g_ptr_array_index (req->ops, i);
    if (op->op_id == NULL)
      abort ();
    if (op->error == NULL) {
      g_autoptr (JsonParser) p = json_parser_new ();
      if (!json_parser_load_from_data (p, op->fields, -1, NULL) || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
        abort ();
    }
  }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  check_parse ((const char *) data, size);
  {
    g_autoptr (GBytes) z = srv_gzip (data, size);
    g_autoptr (GBytes) back = srv_gunzip (g_bytes_get_data (z, NULL), g_bytes_get_size (z), 1 << 20, NULL);
    /* What gzip made comes back whole (inputs up to 1 MiB). */
    if (size <= (1 << 20) && (back == NULL || g_bytes_get_size (back) != size))
      abort ();
  }
  {
    /* The input itself as a gzip stream: mostly refused, never over the limit. */
    g_autoptr (GBytes) raw = srv_gunzip (data, size, 4096, NULL);
    if (raw && g_bytes_get_size (raw) > 4096)
      abort ();
    if (raw)
      check_parse (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));
  }
  return 0;
}

#ifndef SG_LIBFUZZER
static guint
run_path (const char *path)
{
  guint n = 0;

  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name (d)) != NULL) {
      g_autofree char *child = g_build_filename (path, name, NULL);

      n += run_path (child);
    }
  } else if (g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    g_autofree char *data = NULL;
    gsize len = 0;

    if (g_file_get_contents (path, &data, &len, NULL)) {
      LLVMFuzzerTestOneInput ((const guint8 *) data, len);
      /* Every prefix too: truncated bodies are what a cut connection sends. */
      for (gsize k = 0; k < len; k++)
        LLVMFuzzerTestOneInput ((const guint8 *) data, k);
      n++;
    }
  }
  return n;
}

int
main (int argc, char **argv)
{
  guint total = 0;

  printf ("1..%d\n", argc - 1);
  for (int i = 1; i < argc; i++) {
    if (!g_file_test (argv[i], G_FILE_TEST_EXISTS)) {
      printf ("ok %d - %s # SKIP not present\n", i, argv[i]);
      continue;
    }
    total += run_path (argv[i]);
    printf ("ok %d - %u inputs (and their prefixes) from %s without a crash\n", i, total, argv[i]);
  }
  return 0;
}
#endif
