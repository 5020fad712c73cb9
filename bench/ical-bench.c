/* ical-bench.c: meetings benchmark (issue 3).
 *
 *   1. import 50,000 generated events (a fifth of them recurring, some with EXDATEs and
 *      overridden instances, in Olson, Windows and UTC zones, 2-8 attendees from 500
 *      organisations), written as 50 .ics files of 1,000 VEVENTs, through the real import
 *      path (sg_importer_import_path on the folder); then the tagging rules over them;
 *   2. expand one year of a calendar of 5,000 recurring events (sg_meetings_list).
 *
 * Usage: ical-bench [EVENTS [RECURRING]]   (defaults 50000 and 5000). Prints figures; it
 * is not a test. Deterministic (fixed seed). Uses a temp folder it removes. */
#include "config.h"

#include <sg.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const zones[] = { "Europe/Berlin", "America/New_York", "W. Europe Standard Time",
                                     "Pacific Standard Time", NULL /* UTC */ };
static const char *const words[] = { "Intro call", "Product demo", "Proposal review", "Contract negotiation",
                                     "QBR", "Weekly sync", "Planning", "Workshop", "Lunch", "Status" };

static void
rm_rf (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK)) {
    g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
    const char *n;

    while (d && (n = g_dir_read_name (d)) != NULL) {
      g_autofree char *c = g_build_filename (path, n, NULL);

      rm_rf (c);
    }
    g_rmdir (path);
  } else {
    g_unlink (path);
  }
}

/* One VEVENT (and, for some recurring ones, an override) into @out. */
static void
write_event (GString *out, GRand *rand, guint i, gboolean recurring)
{
  const char *zone = zones[g_rand_int_range (rand, 0, G_N_ELEMENTS (zones))];
  int day = g_rand_int_range (rand, 1, 28), month = g_rand_int_range (rand, 1, 13);
  int hour = g_rand_int_range (rand, 8, 18);
  guint org = g_rand_int_range (rand, 0, 500), n = g_rand_int_range (rand, 2, 9);

  g_string_append_printf (out, "BEGIN:VEVENT\r\nUID:bench-%u@org%u.example\r\nDTSTAMP:20260101T000000Z\r\n"
                               "SEQUENCE:0\r\nSUMMARY:%s %u\r\n", i, org, words[i % G_N_ELEMENTS (words)], i);
  if (zone != NULL)
    g_string_append_printf (out, "DTSTART;TZID=%s:2026%02d%02dT%02d0000\r\nDURATION:PT1H\r\n", zone, month, day,
                            hour);
  else
    g_string_append_printf (out, "DTSTART:2026%02d%02dT%02d0000Z\r\nDURATION:PT1H\r\n", month, day, hour);
  if (recurring) {
    static const char *const rules[] = { "FREQ=WEEKLY", "FREQ=DAILY;COUNT=30", "FREQ=MONTHLY;BYDAY=2TU",
                                         "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH", "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR" };

    g_string_append_printf (out, "RRULE:%s\r\n", rules[i % G_N_ELEMENTS (rules)]);
    if (i % 3 == 0 && zone != NULL)
      g_string_append_printf (out, "EXDATE;TZID=%s:2026%02d%02dT%02d0000\r\n", zone, month, day, hour);
  }
  g_string_append_printf (out, "ORGANIZER;CN=Organizer %u:mailto:boss%u@org%u.example\r\n", org, org % 7, org);
  /* The first attendee is a colleague; the others are from random organisations. */
  for (guint a = 0; a < n; a++) {
    g_autofree char *domain = a == 0 ? g_strdup ("ourco.example")
                                     : g_strdup_printf ("org%d.example", g_rand_int_range (rand, 0, 500));

    g_string_append_printf (out, "ATTENDEE;CN=Person %u;PARTSTAT=NEEDS-ACTION:mailto:p%d@%s\r\n", a,
                            g_rand_int_range (rand, 0, 40), domain);
  }
  g_string_append (out, "END:VEVENT\r\n");
}

static double
now_s (void)
{
  return g_get_monotonic_time () / (double) G_USEC_PER_SEC;
}

static SgStore *
open_store (const char *dir, const char *name)
{
  g_autofree char *db = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  SgStore *store = sg_store_open (db, SG_STORE_OPEN_DEFAULT, &error);

  if (store == NULL)
    g_error ("%s", error->message);
  return store;
}

static void
write_files (const char *dir, guint events, guint every_recurring, GRand *rand)
{
  GString *out = g_string_new (NULL);

  g_mkdir_with_parents (dir, 0700);
  for (guint i = 0; i < events; i++) {
    if (i % 1000 == 0)
      g_string_assign (out, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n");
    write_event (out, rand, i, every_recurring ? i % every_recurring == 0 : TRUE);
    if (i % 1000 == 999 || i == events - 1) {
      g_autofree char *name = g_strdup_printf ("%s/cal-%05u.ics", dir, i / 1000);

      g_string_append (out, "END:VCALENDAR\r\n");
      if (!g_file_set_contents (name, out->str, (gssize) out->len, NULL))
        g_error ("cannot write %s", name);
    }
  }
  g_string_free (out, TRUE);
}

int
main (int argc, char **argv)
{
  guint events = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 50000;
  guint recurring = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 5000;
  g_autofree char *tmp = g_dir_make_tmp ("sg-ical-bench-XXXXXX", NULL);
  g_autofree char *ics = g_build_filename (tmp, "ics", NULL);
  g_autofree char *rics = g_build_filename (tmp, "recurring", NULL);
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  g_autoptr (SgIdentity) identity = sg_identity_new ();
  g_autoptr (GError) error = NULL;
  SgMeetingFilter year = { 1767225600 /* 2026-01-01 */, 1798761600 /* 2027-01-01 */, NULL, NULL, FALSE };
  double t0, t1;

  sg_identity_add_address (identity, "me@ourco.example", NULL);
  sg_identity_add_internal_domain (identity, "ourco.example", NULL);

  /* 1. Import. */
  write_files (ics, events, 5, rand);
  {
    g_autoptr (SgStore) store = open_store (tmp, "import.db");
    g_autoptr (SgImporter) imp = sg_importer_new (store, identity);
    g_autoptr (SgRules) rules = sg_rules_new_default ();
    const SgImportStats *s;
    SgRulesStats rs;

    t0 = now_s ();
    if (!sg_importer_import_path (imp, ics, NULL, &error))
      g_error ("%s", error->message);
    t1 = now_s ();
    s = sg_importer_get_stats (imp);
    printf ("import: %u events (1 in 5 recurring) in %.2f s: %.0f events/s (%u stored, %u skipped)\n", events,
            t1 - t0, events / (t1 - t0), s->meetings, s->skipped);
    t0 = now_s ();
    if (!sg_rules_apply (rules, store, identity, &rs, &error))
      g_error ("%s", error->message);
    t1 = now_s ();
    printf ("tagging (built-in rules): %u meetings in %.2f s: %.0f meetings/s, %u tags\n", rs.entities, t1 - t0,
            rs.entities / (t1 - t0), rs.added);
  }

  /* 2. Expansion of a calendar of recurring events. */
  write_files (rics, recurring, 0, rand);
  {
    g_autoptr (SgStore) store = open_store (tmp, "recurring.db");
    g_autoptr (SgImporter) imp = sg_importer_new (store, identity);
    g_autoptr (SgTable) t = NULL;

    if (!sg_importer_import_path (imp, rics, NULL, &error))
      g_error ("%s", error->message);
    for (int run = 0; run < 3; run++) {
      g_clear_pointer (&t, sg_table_free);
      t0 = now_s ();
      t = sg_meetings_list (store, &year, &error);
      t1 = now_s ();
      if (t == NULL)
        g_error ("%s", error->message);
      printf ("expand one year of %u recurring events (run %d): %u occurrences in %.3f s (%.0f occurrences/s)\n",
              recurring, run + 1, sg_table_get_n_rows (t), t1 - t0, sg_table_get_n_rows (t) / (t1 - t0));
    }
  }
  rm_rf (tmp);
  return 0;
}
