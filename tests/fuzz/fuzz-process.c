/* fuzz-process.c: fuzz target for the sales-process parsers: the pipelines key file and the
 * prospect-list CSV reader (libcsv, encodings, column mapping, matching into a store).
 *
 * Built with -Dfuzzing it is a libFuzzer target; otherwise the standalone driver runs it over
 * the files and folders given on the command line, so that its seeds run in `meson test`. */
#include "config.h"

#include "fuzz-driver.h"

#include <sg.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>


static char *dir;
static SgStore *store;
static SgIdentity *identity;

static void
cleanup (void)
{
  g_autofree char *db = g_build_filename (dir, "store.db", NULL);
  g_autofree char *wal = g_strconcat (db, "-wal", NULL);
  g_autofree char *shm = g_strconcat (db, "-shm", NULL);
  g_autofree char *csv = g_build_filename (dir, "input.csv", NULL);

  sg_store_close (store);
  sg_identity_unref (identity);
  g_unlink (db);
  g_unlink (wal);
  g_unlink (shm);
  g_unlink (csv);
  g_rmdir (dir);
  g_free (dir);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static const char delimiters[] = { ',', ';', '\t', '|' };
  g_autoptr (SgPipelines) pipelines = NULL;
  g_autoptr (SgTable) rejected = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *csv = NULL;
  SgListOptions opts = { .list_name = "fuzz" };
  SgListStats stats;

  if (store == NULL) {
    g_autofree char *db = NULL;

    dir = g_dir_make_tmp ("sg-fuzz-process-XXXXXX", NULL);
    db = g_build_filename (dir, "store.db", NULL);
    store = sg_store_open (db, SG_STORE_OPEN_DEFAULT, NULL);
    g_assert_nonnull (store);
    identity = sg_identity_new ();
    sg_identity_add_address (identity, "me@ourco.example", NULL);
    sg_identity_add_internal_domain (identity, "ourco.example", NULL);
    atexit (cleanup);
  }
  /* The pipelines parser takes any bytes; what it accepts must apply to a store. */
  pipelines = sg_pipelines_new_from_data ((const char *) data, (gssize) size, "fuzz.conf", &error);
  if (pipelines != NULL) {
    g_assert_true (sg_pipelines_apply (store, pipelines, NULL));
    g_assert_nonnull (sg_pipelines_get_names (pipelines)[0]);
  } else {
    g_assert_nonnull (error);
    g_assert_true (g_str_has_prefix (error->message, "fuzz.conf"));
  }
  g_clear_error (&error);
  /* The same bytes as a prospect list, with a delimiter chosen by the first byte. */
  csv = g_build_filename (dir, "input.csv", NULL);
  if (!g_file_set_contents (csv, (const char *) data, (gssize) size, NULL))
    return 0;
  opts.delimiter = size > 0 ? delimiters[data[0] % G_N_ELEMENTS (delimiters)] : ',';
  opts.encoding = size > 1 && data[1] == '!' ? "ISO-8859-1" : NULL;
  if (sg_list_import (store, identity, csv, &opts, &stats, &rejected, NULL, &error)) {
    g_assert_cmpuint (stats.rows, ==, stats.new_people + stats.matched + stats.rejected);
    g_assert_cmpuint (sg_table_get_n_rows (rejected), <=, stats.rejected);
    for (guint r = 0; r < sg_table_get_n_rows (rejected); r++)
      g_assert_true (g_utf8_validate (sg_table_get_text (rejected, r, 1), -1, NULL));
  } else {
    g_assert_nonnull (error);
  }
  return 0;
}

#ifndef SG_LIBFUZZER
const SgFuzzHooks sg_fuzz_hooks = { NULL, NULL };
#endif
