/* sync-apply-bench: the sync client's CPU without a server or network (syncapply branch):
 * N generated messages (one new person each, one organisation per ten, like
 * sync-client-bench.py) imported into store A; A's change log pushed (sg_sync_build_request
 * plus the gzip that post() does, acknowledged by a relay played here); every op answered in
 * pages of 5000 to an empty store B (sg_sync_apply_answer). Prints the CPU time of each
 * phase (CLOCK_PROCESS_CPUTIME_ID); run under `valgrind --tool=callgrind
 * --toggle-collect=...` for instruction counts.
 *
 * usage: sync-apply-bench [MESSAGES] (default 25000: about 102k ops) */
#include "config.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sg.h>

/* The level post() in core/sg-sync.c uses. */
#define SYNC_GZIP_LEVEL 3

static double
cpu_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static gsize
gzip_size (const char *text)
{
  g_autoptr (GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, SYNC_GZIP_LEVEL);
  g_autoptr (GInputStream) mem = g_memory_input_stream_new_from_data (text, (gssize) strlen (text), NULL);
  g_autoptr (GInputStream) in = g_converter_input_stream_new (mem, G_CONVERTER (z));
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();

  g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE | G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                          NULL, NULL);
  return g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out));
}

static SgStore *
open_store (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GError *error = NULL;
  SgStore *s = sg_store_open (path, SG_STORE_OPEN_DEFAULT, &error);

  if (s == NULL)
    g_error ("%s: %s", path, error->message);
  return s;
}

/* The push of phase 1 (build + gzip), the relay's ack, and the ops kept for phase 2. */
static double gzip_cpu;

static guint
push_all (SgStore *a, GPtrArray *ops, gsize *bytes, gsize *zbytes, double *cpu)
{
  g_autoptr (SgSyncSettings) s = sg_sync_settings_new ();
  guint total = 0, page = 0;

  sg_sync_settings_set_share (s, SG_SHARE_SUBJECTS);
  for (;;) {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;
    g_autofree char *answer = NULL;
    g_autofree char *req = NULL;
    JsonArray *arr;
    guint n = 0;
    double t0 = cpu_s ();

    req = sg_sync_build_request (a, s, 5000, &n, NULL, &error);
    if (req == NULL)
      g_error ("push: %s", error->message);
    *bytes += strlen (req);
    {
      double g0 = cpu_s ();

      *zbytes += gzip_size (req);
      gzip_cpu += cpu_s () - g0;
    }
    *cpu += cpu_s () - t0;
    if (n == 0)
      break;
    json_parser_load_from_data (parser, req, -1, NULL);
    arr = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "ops");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "protocol");
    json_builder_add_int_value (b, 1);
    json_builder_set_member_name (b, "acked");
    json_builder_begin_array (b);
    for (guint i = 0; i < json_array_get_length (arr); i++) {
      JsonObject *op = json_array_get_object_element (arr, i);

      json_builder_add_string_value (b, json_object_get_string_member (op, "op_id"));
      json_object_set_string_member (op, "user", "alice");
      g_ptr_array_add (ops, json_object_ref (op));
    }
    json_builder_end_array (b);
    json_builder_set_member_name (b, "ops");
    json_builder_begin_array (b);
    json_builder_end_array (b);
    json_builder_set_member_name (b, "cursor");
    json_builder_add_string_value (b, "s0");
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    answer = json_to_string (root, FALSE);
    t0 = cpu_s ();
    if (!sg_sync_apply_answer (a, answer, -1, NULL, &error))
      g_error ("ack: %s", error->message);
    *cpu += cpu_s () - t0;
    total += n;
    page++;
  }
  return total;
}

int
main (int argc, char **argv)
{
  guint n = argc > 1 ? (guint) atoi (argv[1]) : 25000;
  g_autofree char *dir = g_dir_make_tmp ("sync-bench-XXXXXX", NULL);
  g_autofree char *mbox = g_build_filename (dir, "mail.mbox", NULL);
  g_autoptr (GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr (GError) error = NULL;
  GString *mail = g_string_new (NULL);
  SgStore *a = open_store (dir, "a.db"), *b;
  SgIdentity *id = sg_identity_new ();
  SgImporter *imp;
  SgSyncCounts c = { 0 };
  gsize bytes = 0, zbytes = 0;
  double push_cpu = 0, pull_cpu = 0, t0;
  guint total;

  for (guint i = 0; i < n; i++)
    g_string_append_printf (mail,
        "From bench@x Thu Mar 19 15:00:00 2026\nFrom: Person %u <p%u@org%u.test>\nTo: Alice <alice@us.test>\n"
        "Subject: s %u\nMessage-ID: <m%u@bench.test>\nDate: Thu, 19 Mar 2026 15:00:00 +0000\n\nhello\n\n",
        i, i, i / 10, i, i);
  g_file_set_contents (mbox, mail->str, (gssize) mail->len, NULL);
  g_string_free (mail, TRUE);
  sg_identity_add_address (id, "alice@us.test", NULL);
  sg_identity_add_internal_domain (id, "us.test", NULL);
  imp = sg_importer_new (a, id);
  if (!sg_importer_import_path (imp, mbox, NULL, &error) || !sg_importer_flush (imp, &error))
    g_error ("import: %s", error->message);
  sg_importer_free (imp);

  total = push_all (a, ops, &bytes, &zbytes, &push_cpu);
  printf ("push: %u ops, %.2f s CPU (build + gzip + ack; gzip %.2f s), %.1f MB JSON, %.2f MB gzip (level %d)\n",
          total, push_cpu, gzip_cpu, bytes / 1e6, zbytes / 1e6, SYNC_GZIP_LEVEL);

  b = open_store (dir, "b.db");
  for (guint start = 0; start < ops->len; start += 5000) {
    g_autoptr (JsonBuilder) jb = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;
    g_autofree char *answer = NULL;
    g_autofree char *cursor = g_strdup_printf ("s%u", start + 5000);

    json_builder_begin_object (jb);
    json_builder_set_member_name (jb, "protocol");
    json_builder_add_int_value (jb, 1);
    json_builder_set_member_name (jb, "acked");
    json_builder_begin_array (jb);
    json_builder_end_array (jb);
    json_builder_set_member_name (jb, "ops");
    json_builder_begin_array (jb);
    for (guint i = start; i < ops->len && i < start + 5000; i++) {
      JsonNode *node = json_node_new (JSON_NODE_OBJECT);

      json_node_set_object (node, ops->pdata[i]);
      json_builder_add_value (jb, node);
    }
    json_builder_end_array (jb);
    json_builder_set_member_name (jb, "cursor");
    json_builder_add_string_value (jb, cursor);
    json_builder_set_member_name (jb, "more");
    json_builder_add_boolean_value (jb, start + 5000 < ops->len);
    json_builder_end_object (jb);
    root = json_builder_get_root (jb);
    answer = json_to_string (root, FALSE);
    t0 = cpu_s ();
    if (!sg_sync_apply_answer (b, answer, -1, &c, &error))
      g_error ("pull: %s", error->message);
    pull_cpu += cpu_s () - t0;
  }
  printf ("pull: %u ops, %.2f s CPU (parse + merge), %u applied, %u skipped\n", c.pulled, pull_cpu, c.applied,
          c.skipped);
  sg_store_close (a);
  sg_store_close (b);
  sg_identity_unref (id);
  {
    g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", dir);

    if (system (rm) != 0)
      return 1;
  }
  return 0;
}
