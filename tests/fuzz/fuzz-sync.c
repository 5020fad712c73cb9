/* fuzz-sync.c: fuzz target for what salesgetter-server reads from the network: a sync request
 * body, as JSON and inside gzip. Invariants: srv_sync_parse() gives a request or an error,
 * never both or neither; every op has an op_id, and either a reason to reject it or fields
 * that are a JSON object; srv_gunzip() never returns more than its limit.
 *
 * Built with -Dfuzzing=true it is a libFuzzer target; otherwise the standalone driver
 * (fuzz-driver.c) runs it over its seeds in `meson test`. */
#include "config.h"

#include "fuzz-driver.h"
#include "srv-sync.h"
#include "srv-util.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void
one_input (const guint8 *data, size_t size)
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
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  one_input (data, size);
#ifndef SG_LIBFUZZER
  /* Over the seeds in `meson test`: every prefix too, as a cut connection sends them. */
  for (size_t k = 0; k < size && size <= 8192; k++)
    one_input (data, k);
#endif
  return 0;
}

#ifndef SG_LIBFUZZER
const SgFuzzHooks sg_fuzz_hooks = { NULL, NULL };
#endif
