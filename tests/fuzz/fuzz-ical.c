/* fuzz-ical.c: fuzz target for iCalendar import (libical parse, iTIP, zones, the store) and
 * recurrence expansion.
 *
 * Each input is imported into one store (so that iTIP ordering against earlier inputs is
 * exercised too) and the meetings of 2026 are then listed, expanding every
 * recurrence. Built with -Dfuzzing it is a libFuzzer target; otherwise the standalone
 * driver runs it over the files and folders given on the command line (tests/meson.build
 * gives it its seeds and the shared iCalendar corpus, fuzz crash inputs included). */
#include "config.h"

#include "fuzz-driver.h"

#include <sg.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>


static SgStore *store;
static SgImporter *importer;
static SgIdentity *identity;
static char *dir;

static void
cleanup (void)
{
  g_autofree char *db = dir ? g_build_filename (dir, "fuzz.db", NULL) : NULL;

  sg_importer_free (importer);
  sg_store_close (store);
  sg_identity_unref (identity);
  if (db != NULL) {
    g_autofree char *wal = g_strconcat (db, "-wal", NULL);
    g_autofree char *shm = g_strconcat (db, "-shm", NULL);

    g_unlink (db);
    g_unlink (wal);
    g_unlink (shm);
    g_rmdir (dir);
  }
  g_free (dir);
}

/* The driver lists after every LIST_EVERY inputs (and at the end), not after each: every
 * listing expands every series stored so far, and libical builds ICU calendars for each,
 * which under ASan's slow unwinding costs seconds. libFuzzer lists after every input. */
static guint list_every = 1;
static guint inputs;

static void
list_meetings (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = NULL;
  SgMeetingFilter filter = { 1767225600 /* 2026 */, 1798761600 /* 2027 */, NULL, NULL, TRUE };

  t = sg_meetings_list (store, &filter, &error);
  g_assert_no_error (error);
  g_assert_nonnull (t);
  for (guint r = 0; r < sg_table_get_n_rows (t); r++) {
    g_assert_true (sg_table_get_int (t, r, 1) >= sg_table_get_int (t, r, 0));
    g_assert_true (sg_table_is_null (t, r, 2) || g_utf8_validate (sg_table_get_text (t, r, 2), -1, NULL));
  }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (GError) error = NULL;

  if (store == NULL) {
    g_autofree char *db = NULL;

    dir = g_dir_make_tmp ("sg-fuzz-ical-XXXXXX", NULL);
    g_assert_nonnull (dir);
    db = g_build_filename (dir, "fuzz.db", NULL);
    identity = sg_identity_new ();
    sg_identity_add_address (identity, "me@ourco.example", NULL);
    sg_identity_add_internal_domain (identity, "ourco.example", NULL);
    store = sg_store_open (db, SG_STORE_OPEN_DEFAULT, &error);
    g_assert_no_error (error);
    importer = sg_importer_new (store, identity);
    sg_importer_set_floating_timezone (importer, "Europe/Berlin");
    atexit (cleanup);
  }
  g_assert_true (sg_importer_import_calendar (importer, (const char *) data, size, "fuzz input", &error));
  g_assert_no_error (error);
  if (++inputs % list_every == 0)
    list_meetings ();
  return 0;
}

#ifndef SG_LIBFUZZER
static void
quiet_problem (const char *location, const GError *error, gpointer data)
{
}

static void
begin (void)
{
  list_every = 25;
}

static void
after_path (int index, const char *path)
{
  if (index == 1 && importer != NULL)
    sg_importer_set_problem_func (importer, quiet_problem, NULL);
  if (store != NULL)
    list_meetings ();
}

const SgFuzzHooks sg_fuzz_hooks = { begin, after_path };
#endif
