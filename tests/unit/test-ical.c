/* test-ical.c: meetings from iCalendar (sg-ical.h): iTIP order, time zones, recurrence,
 * bad input, invitations in mail; checked through sg_meetings_list() and the store. */
#include "config.h"

#include <locale.h>
#include <sqlite3.h>

#include "sg.h"
#include "test-util.h"

typedef struct {
  char *dir;
  char *db;
  SgIdentity *identity;
  SgStore *store;
  SgImporter *importer;
  GPtrArray *problems; /* "location: message" */
  guint n;
} Fixture;

static void
on_problem (const char *location, const GError *error, gpointer data)
{
  Fixture *f = data;

  g_ptr_array_add (f->problems, g_strdup_printf ("%s: %s", location, error->message));
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = sg_test_make_tmpdir ();
  f->db = g_build_filename (f->dir, "store.db", NULL);
  f->identity = sg_identity_new ();
  g_assert_true (sg_identity_add_address (f->identity, "me@mycorp.com", NULL));
  g_assert_true (sg_identity_add_internal_domain (f->identity, "mycorp.com", NULL));
  f->store = sg_store_open (f->db, SG_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  f->importer = sg_importer_new (f->store, f->identity);
  f->problems = g_ptr_array_new_with_free_func (g_free);
  sg_importer_set_problem_func (f->importer, on_problem, f);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  sg_importer_free (f->importer);
  sg_store_close (f->store);
  sg_identity_unref (f->identity);
  g_ptr_array_unref (f->problems);
  sg_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->db);
}

/* Imports @ics as the next file. */
static void
import_ics (Fixture *f, const char *ics)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *name = g_strdup_printf ("%03u.ics", f->n++);
  g_autofree char *path = sg_test_write_file (f->dir, name, ics, -1);

  g_assert_true (sg_importer_import_path (f->importer, path, NULL, &error));
  g_assert_no_error (error);
}

static gint64
utc (const char *iso)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (iso, NULL);

  g_assert_nonnull (dt);
  return g_date_time_to_unix (dt);
}

static SgTable *
list (Fixture *f, const char *from, const char *to, gboolean cancelled)
{
  g_autoptr (GError) error = NULL;
  SgMeetingFilter filter = { utc (from), utc (to), NULL, NULL, cancelled };
  SgTable *t = sg_meetings_list (f->store, &filter, &error);

  g_assert_no_error (error);
  g_assert_nonnull (t);
  return t;
}

static int
col (const SgTable *t, const char *name)
{
  for (guint c = 0; c < sg_table_get_n_columns (t); c++)
    if (strcmp (sg_table_get_column_name (t, c), name) == 0)
      return (int) c;
  g_assert_not_reached ();
  return -1;
}

static char *
cell (const SgTable *t, guint row, const char *name)
{
  return sg_table_format_cell (t, row, (guint) col (t, name));
}

/* The starts of the table's rows, "2026-03-19T08:00:00Z 2026-03-26T08:00:00Z ...". */
static char *
starts (const SgTable *t)
{
  GString *s = g_string_new (NULL);

  for (guint r = 0; r < sg_table_get_n_rows (t); r++) {
    g_autofree char *c = cell (t, r, "start");

    g_string_append_printf (s, "%s%s", r ? " " : "", c);
  }
  return g_string_free (s, FALSE);
}

/* One value from the store, for facts no listing shows (PARTSTAT). */
static char *
query_text (Fixture *f, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  char *out = NULL;

  g_assert_cmpint (sqlite3_open_v2 (f->db, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    out = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return out;
}

static gboolean
problem_mentions (Fixture *f, const char *text)
{
  for (guint i = 0; i < f->problems->len; i++)
    if (strstr (f->problems->pdata[i], text) != NULL)
      return TRUE;
  return FALSE;
}

#define CAL_BEGIN(method) "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//sg test//EN\r\n" method
#define CAL_END "END:VCALENDAR\r\n"

/* An invitation of sequence @seq stamped @stamp, at @start (UTC). */
static char *
request (const char *method, int seq, const char *stamp, const char *start, const char *end, const char *extra)
{
  return g_strdup_printf (CAL_BEGIN ("METHOD:%s\r\n")
                          "BEGIN:VEVENT\r\nUID:deal-42@acme.com\r\nSEQUENCE:%d\r\nDTSTAMP:%s\r\n"
                          "DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:Pricing call\r\n"
                          "ORGANIZER;CN=Jane Doe:mailto:jane.doe@acme.com\r\n"
                          "ATTENDEE;CN=Me;PARTSTAT=NEEDS-ACTION:mailto:me@mycorp.com\r\n"
                          "ATTENDEE;CN=Bob Smith;PARTSTAT=NEEDS-ACTION:mailto:bob@acme.com\r\n%s"
                          "END:VEVENT\r\n" CAL_END,
                          method, seq, stamp, start, end, extra ? extra : "");
}

/* --- iTIP ----------------------------------------------------------------------------- */

static void
test_itip_moved (Fixture *f, gconstpointer data)
{
  g_autofree char *v0 = request ("REQUEST", 0, "20260301T100000Z", "20260319T100000Z", "20260319T110000Z", NULL);
  g_autofree char *v1 = request ("REQUEST", 1, "20260302T100000Z", "20260319T140000Z", "20260319T150000Z", NULL);
  g_autoptr (SgTable) t = NULL;
  g_autofree char *s = NULL;

  import_ics (f, v0);
  import_ics (f, v1);
  /* The first version again, late (a slow mail server): it does not move the meeting back. */
  import_ics (f, v0);
  t = list (f, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", TRUE);
  s = starts (t);
  g_assert_cmpstr (s, ==, "2026-03-19T14:00:00Z");
  g_assert_cmpuint (sg_importer_get_stats (f->importer)->meetings_stale, ==, 1);
}

static void
test_itip_cancel_then_old_request (Fixture *f, gconstpointer data)
{
  g_autofree char *req = request ("REQUEST", 1, "20260301T100000Z", "20260319T100000Z", "20260319T110000Z", NULL);
  g_autofree char *old = request ("REQUEST", 0, "20260228T100000Z", "20260319T090000Z", "20260319T100000Z", NULL);
  g_autofree char *cancel = request ("CANCEL", 1, "20260305T100000Z", "20260319T100000Z", "20260319T110000Z",
                                     "STATUS:CANCELLED\r\n");
  g_autoptr (SgTable) active = NULL;
  g_autoptr (SgTable) all = NULL;
  g_autofree char *status = NULL;

  import_ics (f, req);
  import_ics (f, cancel);
  import_ics (f, old);
  active = list (f, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", FALSE);
  g_assert_cmpuint (sg_table_get_n_rows (active), ==, 0);
  all = list (f, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", TRUE);
  g_assert_cmpuint (sg_table_get_n_rows (all), ==, 1);
  status = cell (all, 0, "status");
  g_assert_cmpstr (status, ==, "cancelled");
}

/* The CANCEL arrives first (mail order is not send order): the REQUEST it cancelled,
 * arriving later, does not bring the meeting back; a newer one (re-invited) does. */
static void
test_itip_cancel_first (Fixture *f, gconstpointer data)
{
  g_autofree char *req = request ("REQUEST", 0, "20260301T100000Z", "20260319T100000Z", "20260319T110000Z", NULL);
  g_autofree char *cancel = request ("CANCEL", 1, "20260305T100000Z", "20260319T100000Z", "20260319T110000Z", NULL);
  g_autofree char *again = request ("REQUEST", 2, "20260306T100000Z", "20260320T100000Z", "20260320T110000Z", NULL);
  g_autoptr (SgTable) t1 = NULL;
  g_autoptr (SgTable) t2 = NULL;
  g_autofree char *s = NULL;

  import_ics (f, cancel);
  import_ics (f, req);
  t1 = list (f, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", FALSE);
  g_assert_cmpuint (sg_table_get_n_rows (t1), ==, 0);
  import_ics (f, again);
  t2 = list (f, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", FALSE);
  s = starts (t2);
  g_assert_cmpstr (s, ==, "2026-03-20T10:00:00Z");
}

static void
test_itip_reply (Fixture *f, gconstpointer data)
{
  g_autofree char *req = request ("REQUEST", 0, "20260301T100000Z", "20260319T100000Z", "20260319T110000Z", NULL);
  const char *accept = CAL_BEGIN ("METHOD:REPLY\r\n")
    "BEGIN:VEVENT\r\nUID:deal-42@acme.com\r\nSEQUENCE:0\r\nDTSTAMP:20260303T100000Z\r\n"
    "DTSTART:20260319T100000Z\r\nORGANIZER:mailto:jane.doe@acme.com\r\n"
    "ATTENDEE;PARTSTAT=ACCEPTED:mailto:Bob@ACME.com\r\nEND:VEVENT\r\n" CAL_END;
  /* An earlier answer (declined, then changed their mind) delivered last. */
  const char *decline = CAL_BEGIN ("METHOD:REPLY\r\n")
    "BEGIN:VEVENT\r\nUID:deal-42@acme.com\r\nSEQUENCE:0\r\nDTSTAMP:20260302T100000Z\r\n"
    "DTSTART:20260319T100000Z\r\nORGANIZER:mailto:jane.doe@acme.com\r\n"
    "ATTENDEE;PARTSTAT=DECLINED:mailto:bob@acme.com\r\nEND:VEVENT\r\n" CAL_END;
  const char *sql = "SELECT ma.partstat FROM meeting_attendees ma JOIN addresses a ON a.id = ma.address_id "
                    "WHERE a.address = 'bob@acme.com'";
  g_autofree char *p1 = NULL, *p2 = NULL, *p3 = NULL;

  import_ics (f, req);
  p1 = query_text (f, sql);
  g_assert_cmpstr (p1, ==, "needs-action");
  import_ics (f, accept);
  import_ics (f, decline);
  p2 = query_text (f, sql);
  g_assert_cmpstr (p2, ==, "accepted");
  /* The organizer re-sends the same version: the answer received since is kept. */
  import_ics (f, req);
  p3 = query_text (f, sql);
  g_assert_cmpstr (p3, ==, "accepted");
}

/* COUNTER and REFRESH change nothing: only the organizer moves a meeting. */
static void
test_itip_counter_refresh (Fixture *f, gconstpointer data)
{
  g_autofree char *req = request ("REQUEST", 0, "20260301T100000Z", "20260319T100000Z", "20260319T110000Z", NULL);
  g_autofree char *counter = request ("COUNTER", 0, "20260303T100000Z", "20260319T160000Z", "20260319T170000Z", NULL);
  g_autofree char *refresh = request ("REFRESH", 0, "20260304T100000Z", "20260319T180000Z", "20260319T190000Z", NULL);
  g_autoptr (SgTable) t = NULL;
  g_autofree char *s = NULL;

  import_ics (f, req);
  import_ics (f, counter);
  import_ics (f, refresh);
  t = list (f, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", TRUE);
  s = starts (t);
  g_assert_cmpstr (s, ==, "2026-03-19T10:00:00Z");
}

/* Attendees become people and organisations by the mail rules, and the meeting is an
 * interaction in their timelines. */
static void
test_identity_and_timeline (Fixture *f, gconstpointer data)
{
  g_autofree char *req = request ("REQUEST", 0, "20260301T100000Z", "20260319T100000Z", "20260319T110000Z", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = NULL;
  g_autofree char *kind = NULL, *from = NULL, *subject = NULL, *colleague = NULL;

  import_ics (f, req);
  t = sg_query_timeline (f->store, "bob@acme.com", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 1);
  kind = cell (t, 0, "kind");
  from = cell (t, 0, "from");
  subject = cell (t, 0, "subject");
  g_assert_cmpstr (kind, ==, "meeting");
  g_assert_cmpstr (from, ==, "Jane Doe");
  g_assert_cmpstr (subject, ==, "Pricing call");
  colleague = query_text (f, "SELECT p.kind FROM people p JOIN addresses a ON a.person_id = p.id "
                             "WHERE a.address = 'me@mycorp.com'");
  g_assert_cmpstr (colleague, ==, "self");
  g_clear_pointer (&colleague, g_free);
  colleague = query_text (f, "SELECT o.domain FROM people p JOIN organisations o ON o.id = p.org_id "
                             "JOIN addresses a ON a.person_id = p.id WHERE a.address = 'bob@acme.com'");
  g_assert_cmpstr (colleague, ==, "acme.com");
  /* The change log has the meeting, without its description (local only). */
  g_clear_pointer (&colleague, g_free);
  colleague = query_text (f, "SELECT count(*) FROM changes WHERE entity = 'meeting' AND natural_key = "
                             "'deal-42@acme.com' AND fields NOT LIKE '%description%'");
  g_assert_cmpstr (colleague, ==, "1");
}

/* --- time zones and recurrence ---------------------------------------------------------- */

/* Weekly at 09:00 Berlin from 12 March 2026, across the DST change of 29 March: one
 * instance removed (EXDATE), one moved to 11:00 (an override by RECURRENCE-ID). */
static void
test_recurrence_dst_exceptions (Fixture *f, gconstpointer data)
{
  const char *ics = CAL_BEGIN ("")
    "BEGIN:VEVENT\r\nUID:weekly@acme.com\r\nDTSTAMP:20260301T100000Z\r\n"
    "DTSTART;TZID=Europe/Berlin:20260312T090000\r\nDTEND;TZID=Europe/Berlin:20260312T093000\r\n"
    "RRULE:FREQ=WEEKLY;UNTIL=20260430T220000Z\r\nEXDATE;TZID=Europe/Berlin:20260326T090000\r\n"
    "SUMMARY:Weekly sync\r\nORGANIZER:mailto:jane.doe@acme.com\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:weekly@acme.com\r\nDTSTAMP:20260301T100000Z\r\n"
    "RECURRENCE-ID;TZID=Europe/Berlin:20260402T090000\r\n"
    "DTSTART;TZID=Europe/Berlin:20260402T110000\r\nDTEND;TZID=Europe/Berlin:20260402T113000\r\n"
    "SUMMARY:Weekly sync (moved)\r\nORGANIZER:mailto:jane.doe@acme.com\r\nEND:VEVENT\r\n" CAL_END;
  g_autoptr (SgTable) t = NULL;
  g_autofree char *s = NULL, *moved = NULL, *end = NULL;

  import_ics (f, ics);
  t = list (f, "2026-03-01T00:00:00Z", "2026-06-01T00:00:00Z", FALSE);
  s = starts (t);
  /* 09:00 CET is 08:00Z until 29 March, 09:00 CEST is 07:00Z after it. */
  g_assert_cmpstr (s, ==, "2026-03-12T08:00:00Z 2026-03-19T08:00:00Z 2026-04-02T09:00:00Z "
                          "2026-04-09T07:00:00Z 2026-04-16T07:00:00Z 2026-04-23T07:00:00Z 2026-04-30T07:00:00Z");
  moved = cell (t, 2, "summary");
  g_assert_cmpstr (moved, ==, "Weekly sync (moved)");
  end = cell (t, 3, "end");
  g_assert_cmpstr (end, ==, "2026-04-09T07:30:00Z");
}

/* A series begun years before the window: expansion starts at the window (the rule has no
 * COUNT), and lands on the same local times as walking from DTSTART would. */
static void
test_recurrence_long_running (Fixture *f, gconstpointer data)
{
  const char *ics = CAL_BEGIN ("")
    "BEGIN:VEVENT\r\nUID:old-weekly@acme.com\r\nDTSTAMP:20200101T100000Z\r\n"
    "DTSTART;TZID=Europe/Berlin:20200102T090000\r\nDURATION:PT1H\r\n"
    "RRULE:FREQ=WEEKLY;BYDAY=TH\r\nSUMMARY:Old weekly\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:old-monthly@acme.com\r\nDTSTAMP:20200101T100000Z\r\n"
    "DTSTART;TZID=America/New_York:20191231T170000\r\nDURATION:PT1H\r\n"
    "RRULE:FREQ=MONTHLY;BYDAY=-1TU\r\nSUMMARY:Last Tuesday\r\nEND:VEVENT\r\n" CAL_END;
  g_autoptr (SgTable) t = NULL;
  g_autofree char *s = NULL;

  import_ics (f, ics);
  t = list (f, "2026-03-20T00:00:00Z", "2026-04-10T00:00:00Z", FALSE);
  s = starts (t);
  /* Berlin: CET until 29 March, CEST after; New York: EDT since 8 March (last Tuesday of
   * March 2026 is the 31st, 17:00 EDT = 21:00Z). */
  g_assert_cmpstr (s, ==, "2026-03-26T08:00:00Z 2026-03-31T21:00:00Z 2026-04-02T07:00:00Z 2026-04-09T07:00:00Z");
}

static void
test_windows_tzid (Fixture *f, gconstpointer data)
{
  /* Outlook writes its own zone names, with a VTIMEZONE holding only today's rule. */
  const char *ics = CAL_BEGIN ("METHOD:REQUEST\r\n")
    "BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\n"
    "BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n"
    "BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\nUID:win@acme.com\r\nDTSTAMP:20260301T100000Z\r\n"
    "DTSTART;TZID=W. Europe Standard Time:20260701T090000\r\n"
    "DTEND;TZID=W. Europe Standard Time:20260701T100000\r\nSUMMARY:Summer meeting\r\n"
    "END:VEVENT\r\n" CAL_END;
  g_autoptr (SgTable) t = NULL;
  g_autofree char *s = NULL, *tz = NULL, *e = NULL, *n = NULL;

  import_ics (f, ics);
  t = list (f, "2026-06-01T00:00:00Z", "2026-08-01T00:00:00Z", FALSE);
  s = starts (t);
  g_assert_cmpstr (s, ==, "2026-07-01T07:00:00Z");
  tz = cell (t, 0, "tz");
  g_assert_cmpstr (tz, ==, "Europe/Berlin");

  e = sg_ical_resolve_tzid ("Eastern Standard Time");
  g_assert_cmpstr (e, ==, "America/New_York");
  n = sg_ical_resolve_tzid ("/mozilla.org/20050126_1/Europe/Berlin");
  g_assert_cmpstr (n, ==, "Europe/Berlin");
  g_clear_pointer (&n, g_free);
  n = sg_ical_resolve_tzid ("GMT");
  g_assert_cmpstr (n, ==, "UTC");
  g_clear_pointer (&n, g_free);
  n = sg_ical_resolve_tzid ("Mars/Olympus_Mons");
  g_assert_null (n);
}

/* A zone only the file defines (no Olson or Windows name): its VTIMEZONE is used, also
 * when the series is expanded later. */
static void
test_custom_vtimezone (Fixture *f, gconstpointer data)
{
  const char *ics = CAL_BEGIN ("")
    "BEGIN:VTIMEZONE\r\nTZID:Customized Time Zone\r\n"
    "BEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:+0530\r\nTZOFFSETTO:+0530\r\nEND:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\nUID:india@acme.com\r\nDTSTAMP:20260301T100000Z\r\n"
    "DTSTART;TZID=Customized Time Zone:20260302T100000\r\nDURATION:PT1H\r\n"
    "RRULE:FREQ=DAILY;COUNT=2\r\nSUMMARY:Offshore standup\r\nEND:VEVENT\r\n" CAL_END;
  g_autoptr (SgTable) t = NULL;
  g_autofree char *s = NULL;

  import_ics (f, ics);
  t = list (f, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", FALSE);
  s = starts (t);
  g_assert_cmpstr (s, ==, "2026-03-02T04:30:00Z 2026-03-03T04:30:00Z");
  g_assert_cmpuint (f->problems->len, ==, 0);
}

static void
test_unknown_tz (Fixture *f, gconstpointer data)
{
  const char *ics = CAL_BEGIN ("")
    "BEGIN:VEVENT\r\nUID:mars@acme.com\r\nDTSTAMP:20260301T100000Z\r\n"
    "DTSTART;TZID=Mars/Olympus_Mons:20260302T100000\r\nSUMMARY:Far away\r\nEND:VEVENT\r\n" CAL_END;
  g_autoptr (SgTable) t = NULL;
  g_autofree char *s = NULL;

  sg_importer_set_floating_timezone (f->importer, "Europe/Berlin");
  import_ics (f, ics);
  /* Stored, read in the user's zone, and said so naming the zone. */
  t = list (f, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", FALSE);
  s = starts (t);
  g_assert_cmpstr (s, ==, "2026-03-02T09:00:00Z");
  g_assert_true (problem_mentions (f, "Mars/Olympus_Mons"));
}

static void
test_floating_and_all_day (Fixture *f, gconstpointer data)
{
  const char *ics = CAL_BEGIN ("")
    "BEGIN:VEVENT\r\nUID:floating@acme.com\r\nDTSTAMP:20260301T100000Z\r\n"
    "DTSTART:20260302T090000\r\nDTEND:20260302T100000\r\nSUMMARY:Floating\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:allday@acme.com\r\nDTSTAMP:20260301T100000Z\r\n"
    "DTSTART;VALUE=DATE:20260303\r\nSUMMARY:Trade fair\r\nRRULE:FREQ=DAILY;COUNT=3\r\n"
    "EXDATE;VALUE=DATE:20260304\r\nEND:VEVENT\r\n" CAL_END;
  g_autoptr (SgTable) t = NULL;
  g_autofree char *s = NULL, *all_day = NULL, *end = NULL;

  sg_importer_set_floating_timezone (f->importer, "Europe/Berlin");
  import_ics (f, ics);
  t = list (f, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", FALSE);
  s = starts (t);
  g_assert_cmpstr (s, ==, "2026-03-02T08:00:00Z 2026-03-03T00:00:00Z 2026-03-05T00:00:00Z");
  all_day = cell (t, 1, "all_day");
  end = cell (t, 1, "end");
  g_assert_cmpstr (all_day, ==, "1");
  g_assert_cmpstr (end, ==, "2026-03-04T00:00:00Z");
}

/* A rule that never ends, even one ticking every second, expands within bounds. */
static void
test_infinite_rrule (Fixture *f, gconstpointer data)
{
  const char *ics = CAL_BEGIN ("")
    "BEGIN:VEVENT\r\nUID:forever@acme.com\r\nDTSTAMP:20260301T100000Z\r\n"
    "DTSTART:20260302T090000Z\r\nRRULE:FREQ=SECONDLY\r\nSUMMARY:Forever\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:daily@acme.com\r\nDTSTAMP:20260301T100000Z\r\n"
    "DTSTART:20260302T090000Z\r\nDURATION:PT15M\r\nRRULE:FREQ=DAILY\r\nSUMMARY:Daily\r\nEND:VEVENT\r\n" CAL_END;
  g_autoptr (SgTable) t = NULL;
  g_autoptr (SgTable) later = NULL;
  guint daily = 0;

  import_ics (f, ics);
  t = list (f, "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", FALSE);
  g_assert_cmpuint (sg_table_get_n_rows (t), <=, SG_MEETINGS_MAX_INSTANCES + 1);
  g_assert_cmpuint (sg_table_get_n_rows (t), >=, 1000);
  /* Four years on, the daily meeting is still there, once a day. */
  later = list (f, "2030-03-01T00:00:00Z", "2030-03-08T00:00:00Z", FALSE);
  for (guint r = 0; r < sg_table_get_n_rows (later); r++) {
    g_autofree char *summary = cell (later, r, "summary");

    daily += strcmp (summary, "Daily") == 0;
  }
  g_assert_cmpuint (daily, ==, 7);
}

/* --- bad input -------------------------------------------------------------------------- */

static void
test_malformed (Fixture *f, gconstpointer data)
{
  g_autofree char *good = request ("REQUEST", 0, "20260301T100000Z", "20260319T100000Z", "20260319T110000Z", NULL);
  g_autofree char *truncated = g_strndup (good, strlen (good) / 2);
  const char *mixed = CAL_BEGIN ("")
    "BEGIN:VEVENT\r\nUID:nostart@acme.com\r\nSUMMARY:No start\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:ok@acme.com\r\nDTSTAMP:20260301T100000Z\r\nDTSTART:20260320T100000Z\r\n"
    "SUMMARY:Fine\r\nRRULE:FREQ=BOGUS\r\nEND:VEVENT\r\n" CAL_END;
  g_autoptr (SgTable) t = NULL;
  g_autofree char *s = NULL;

  import_ics (f, truncated);
  g_assert_true (problem_mentions (f, "truncated"));
  import_ics (f, "this is not a calendar\n");
  g_assert_true (problem_mentions (f, "not iCalendar"));
  import_ics (f, mixed);
  g_assert_true (problem_mentions (f, "nostart@acme.com has no DTSTART"));
  g_assert_true (problem_mentions (f, "RRULE"));
  g_assert_true (problem_mentions (f, "002.ics"));
  t = list (f, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", FALSE);
  s = starts (t);
  /* Nothing of the truncated file; the good VEVENT of the mixed one, once (bad RRULE dropped). */
  g_assert_cmpstr (s, ==, "2026-03-20T10:00:00Z");
}

static void
test_huge_attendee_list (Fixture *f, gconstpointer data)
{
  GString *ics = g_string_new (CAL_BEGIN ("METHOD:REQUEST\r\n")
                               "BEGIN:VEVENT\r\nUID:allhands@acme.com\r\nDTSTAMP:20260301T100000Z\r\n"
                               "DTSTART:20260320T100000Z\r\nSUMMARY:All hands\r\n"
                               "ORGANIZER:mailto:ceo@acme.com\r\n");
  g_autoptr (SgTable) t = NULL;
  g_autofree char *n = NULL;

  for (guint i = 0; i < SG_ICAL_MAX_ATTENDEES + 500; i++)
    g_string_append_printf (ics, "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:person%u@acme.com\r\n", i);
  g_string_append (ics, "END:VEVENT\r\n" CAL_END);
  import_ics (f, ics->str);
  g_string_free (ics, TRUE);
  t = list (f, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", FALSE);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 1);
  n = cell (t, 0, "attendees");
  g_assert_cmpstr (n, ==, "1001"); /* the organizer and the first 1000 */
  g_assert_true (problem_mentions (f, "500 attendees over the cap"));
}

/* --- activity summaries ----------------------------------------------------------------- */

static void
exec_sql (Fixture *f, const char *sql)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (f->db, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

#define SUMMARIES_SQL \
  "SELECT (SELECT group_concat(r, ';') FROM (SELECT json_array(person_id, n_total, n_in, n_out, n_meetings, " \
  "n_bulk, first_at, last_at, hex(days), hex(recent)) AS r FROM person_summary ORDER BY person_id)) || '|' || " \
  "(SELECT group_concat(r, ';') FROM (SELECT json_array(org_id, n_total, n_in, n_out, n_meetings, first_at, " \
  "last_at) AS r FROM org_summary ORDER BY org_id))"

/* The summaries as the commits kept them equal a recompute from scratch. */
static void
assert_summaries_exact (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *kept = query_text (f, SUMMARIES_SQL);
  g_autofree char *rebuilt = NULL;

  g_assert_nonnull (kept);
  g_assert_true (sg_store_rebuild_summaries (f->store, &error));
  g_assert_no_error (error);
  rebuilt = query_text (f, SUMMARIES_SQL);
  g_assert_cmpstr (kept, ==, rebuilt);
}

/* A meeting read again keeps its participants in place: a REPLY or a re-sent invitation
 * with the same attendees deletes none, so nobody's activity summary is recomputed from all
 * their history (which made the import superlinear); a changed list still replaces them, and
 * the summaries stay equal to a full recompute throughout. */
static void
test_participants_kept (Fixture *f, gconstpointer data)
{
  const char *carol = "ATTENDEE;CN=Carol White:mailto:carol@acme.com\r\n";
  g_autofree char *v0 = request ("REQUEST", 0, "20260301T100000Z", "20260319T100000Z", "20260319T110000Z", carol);
  const char *accept = CAL_BEGIN ("METHOD:REPLY\r\n")
    "BEGIN:VEVENT\r\nUID:deal-42@acme.com\r\nSEQUENCE:0\r\nDTSTAMP:20260303T100000Z\r\n"
    "DTSTART:20260319T100000Z\r\nORGANIZER:mailto:jane.doe@acme.com\r\n"
    "ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@acme.com\r\nEND:VEVENT\r\n" CAL_END;
  /* Carol leaves, Dave of another organisation joins, Bob's name is given in full. */
  const char *v1 = CAL_BEGIN ("METHOD:REQUEST\r\n")
    "BEGIN:VEVENT\r\nUID:deal-42@acme.com\r\nSEQUENCE:1\r\nDTSTAMP:20260304T100000Z\r\n"
    "DTSTART:20260319T100000Z\r\nDTEND:20260319T110000Z\r\nSUMMARY:Pricing call\r\n"
    "ORGANIZER;CN=Jane Doe:mailto:jane.doe@acme.com\r\n"
    "ATTENDEE;CN=Me;PARTSTAT=NEEDS-ACTION:mailto:me@mycorp.com\r\n"
    "ATTENDEE;CN=Robert Smith;PARTSTAT=ACCEPTED:mailto:bob@acme.com\r\n"
    "ATTENDEE;CN=Dave Brown:mailto:dave@beta-industries.com\r\n"
    "END:VEVENT\r\n" CAL_END;
  const char *participants_sql =
    "SELECT group_concat(a.address || ':' || p.role || ':' || coalesce(p.display_name, ''), ' ') FROM "
    "(SELECT * FROM participants ORDER BY address_id, role) p JOIN addresses a ON a.id = p.address_id "
    "JOIN interactions i ON i.id = p.interaction_id WHERE i.kind = 'meeting'";
  const char *attendees_sql =
    "SELECT group_concat(a.address || ':' || ma.role || ':' || coalesce(ma.display_name, ''), ' ') FROM "
    "(SELECT * FROM meeting_attendees ORDER BY address_id, role) ma JOIN addresses a ON a.id = ma.address_id";
  g_autofree char *marks0 = NULL, *marks1 = NULL, *marks2 = NULL;
  g_autofree char *p0 = NULL, *a0 = NULL, *p1 = NULL, *a1 = NULL, *dave = NULL, *carol_left = NULL;

  import_ics (f, v0);
  assert_summaries_exact (f);
  /* Every mark for a recompute from here on is recorded. */
  exec_sql (f, "CREATE TABLE test_marks (kind TEXT, id INTEGER); "
               "CREATE TRIGGER test_marks AFTER INSERT ON summary_dirty BEGIN "
               "INSERT INTO test_marks VALUES (NEW.kind, NEW.id); END;");
  import_ics (f, accept);
  import_ics (f, v0); /* the organizer re-sends the same version */
  marks0 = query_text (f, "SELECT count(*) FROM test_marks");
  g_assert_cmpstr (marks0, ==, "0");
  p0 = query_text (f, participants_sql);
  a0 = query_text (f, attendees_sql);
  g_assert_cmpstr (p0, ==, a0);
  g_assert_nonnull (strstr (p0, "carol@acme.com"));
  assert_summaries_exact (f);

  import_ics (f, v1);
  p1 = query_text (f, participants_sql);
  a1 = query_text (f, attendees_sql);
  g_assert_cmpstr (p1, ==, a1);
  g_assert_null (strstr (p1, "carol@acme.com"));
  g_assert_nonnull (strstr (p1, "bob@acme.com:attendee:Robert Smith"));
  g_assert_nonnull (strstr (p1, "dave@beta-industries.com"));
  /* Carol's leaving is what marked her (and Acme) for a recompute. */
  marks1 = query_text (f, "SELECT group_concat(DISTINCT kind) FROM test_marks");
  g_assert_cmpstr (marks1, ==, "person,org");
  carol_left = query_text (f, "SELECT count(*) FROM test_marks t JOIN addresses a ON a.person_id = t.id "
                              "WHERE t.kind = 'person' AND a.address = 'carol@acme.com'");
  g_assert_cmpstr (carol_left, ==, "1");
  dave = query_text (f, "SELECT s.n_meetings FROM person_summary s JOIN addresses a ON a.person_id = s.person_id "
                        "WHERE a.address = 'dave@beta-industries.com'");
  g_assert_cmpstr (dave, ==, "1");
  assert_summaries_exact (f);
  exec_sql (f, "DELETE FROM test_marks");
  import_ics (f, v1);
  marks2 = query_text (f, "SELECT count(*) FROM test_marks");
  g_assert_cmpstr (marks2, ==, "0");
}

/* --- mail ----------------------------------------------------------------------------- */

static void
test_invitation_in_mail (Fixture *f, gconstpointer data)
{
  g_autofree char *req = request ("REQUEST", 0, "20260301T100000Z", "20260319T100000Z", "20260319T110000Z", NULL);
  g_autofree char *b64 = g_base64_encode ((const guchar *) req, strlen (req));
  g_autofree char *msg = g_strdup_printf (
      "From: Jane Doe <jane.doe@acme.com>\nTo: me@mycorp.com\nDate: Sun, 01 Mar 2026 10:00:00 +0000\n"
      "Subject: Invitation: Pricing call\nMessage-ID: <invite-1@acme.com>\nMIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nSee you.\n"
      "--b\nContent-Type: text/calendar; method=REQUEST; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n"
      "%s\n--b--\n", b64);
  g_autofree char *md = g_build_filename (f->dir, "Maildir", NULL);
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = NULL;
  g_autofree char *s = NULL, *n = NULL;

  sg_test_make_maildir (md);
  path = sg_test_write_file (md, "cur/1772359200.1.host:2,S", msg, -1);
  g_assert_true (sg_importer_import_path (f->importer, md, NULL, &error));
  g_assert_no_error (error);
  t = list (f, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", FALSE);
  s = starts (t);
  g_assert_cmpstr (s, ==, "2026-03-19T10:00:00Z");
  /* Both the mail and the meeting are interactions. */
  n = query_text (f, "SELECT group_concat(kind, ',') FROM (SELECT kind FROM interactions ORDER BY kind)");
  g_assert_cmpstr (n, ==, "mail,meeting");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_setenv ("TZ", "UTC", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_set_nonfatal_assertions ();

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/ical/itip/moved", test_itip_moved);
  ADD ("/ical/itip/cancel-then-old-request", test_itip_cancel_then_old_request);
  ADD ("/ical/itip/cancel-first", test_itip_cancel_first);
  ADD ("/ical/itip/reply", test_itip_reply);
  ADD ("/ical/itip/counter-refresh", test_itip_counter_refresh);
  ADD ("/ical/identity-and-timeline", test_identity_and_timeline);
  ADD ("/ical/recurrence/dst-exceptions", test_recurrence_dst_exceptions);
  ADD ("/ical/recurrence/long-running", test_recurrence_long_running);
  ADD ("/ical/tz/windows", test_windows_tzid);
  ADD ("/ical/tz/custom-vtimezone", test_custom_vtimezone);
  ADD ("/ical/tz/unknown", test_unknown_tz);
  ADD ("/ical/floating-and-all-day", test_floating_and_all_day);
  ADD ("/ical/recurrence/infinite", test_infinite_rrule);
  ADD ("/ical/bad/malformed", test_malformed);
  ADD ("/ical/bad/huge-attendee-list", test_huge_attendee_list);
  ADD ("/ical/mail/invitation", test_invitation_in_mail);
  ADD ("/ical/summary/participants-kept", test_participants_kept);
#undef ADD

  return g_test_run ();
}
