/* fuzz-select.c: fuzz target for the selection expression parser and its SQL compilation.
 * Every expression the parser accepts must compile to SQL that SQLite accepts and runs:
 * each accepted input is run against an empty store, and a failure aborts.
 *
 * Built with -Dfuzzing it is a libFuzzer target; otherwise the standalone driver runs it over
 * the files and folders given on the command line, so that its seeds run in `meson test`. */
#include "config.h"

#include "fuzz-driver.h"

#include <sg.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static char *dir;
static SgStore *store;

static void
cleanup (void)
{
  g_autofree char *db = g_build_filename (dir, "store.db", NULL);
  g_autofree char *wal = g_strconcat (db, "-wal", NULL);
  g_autofree char *shm = g_strconcat (db, "-shm", NULL);

  sg_store_close (store);
  g_unlink (db);
  g_unlink (wal);
  g_unlink (shm);
  g_rmdir (dir);
  g_free (dir);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (SgSelection) sel = NULL;
  guint column = 0;

  if (store == NULL) {
    g_autofree char *db = NULL;

    dir = g_dir_make_tmp ("sg-fuzz-select-XXXXXX", NULL);
    db = g_build_filename (dir, "store.db", NULL);
    store = sg_store_open (db, SG_STORE_OPEN_DEFAULT, NULL);
    if (store == NULL)
      abort ();
    atexit (cleanup);
  }
  sel = sg_selection_parse (text, &column, &error);
  if (sel == NULL) {
    /* A refusal always names a column inside the text (or just past its end). */
    /* (g_utf8_strlen() reads past the end of a truncated sequence: invalid text is
     * measured in bytes.) */
    glong chars = g_utf8_validate (text, -1, NULL) ? g_utf8_strlen (text, -1) : (glong) strlen (text) + 1;

    if (error == NULL || column == 0 || column > (guint) chars + 1)
      abort ();
    return 0;
  }
  {
    g_autoptr (SgTable) t = sg_selection_run (store, sel, 0, 10, &error);

    if (t == NULL) {
      fprintf (stderr, "accepted but does not run: %s: %s\n", text, error->message);
      abort ();
    }
  }
  return 0;
}

#ifndef SG_LIBFUZZER
const SgFuzzHooks sg_fuzz_hooks = { NULL, NULL };
#endif
