/* test-insight.c: the insight beside a message (sg-insight.h) and relationship strength,
 * on a store filled by the real importer from a small hand-written mailbox, with sales
 * processes, roles, a meeting, tags and a stage suggestion added on top. */
#include "config.h"

#include <locale.h>
#include <sqlite3.h>

#include "sg.h"
#include "test-util.h"

static const struct {
  const char *name;
  const char *text;
} mails[] = {
  { "a1", "From: Jane Doe <jane@acme.com>\nTo: Me <me@ourco.example>\nDate: Mon, 02 Mar 2026 10:00:00 +0000\n"
          "Subject: Demand forecast 2027\nMessage-ID: <a1@acme.com>\n\nCan you help?\n" },
  { "a2", "From: Me <me@ourco.example>\nTo: Jane Doe <jane@acme.com>, Bob Smith <bob@acme.com>\n"
          "Cc: Anna Colleague <anna@ourco.example>\n"
          "Date: Tue, 03 Mar 2026 10:00:00 +0000\nSubject: Our proposal for the demand forecast\n"
          "Message-ID: <a2@ourco.example>\n\nAttached.\n" },
  { "a3", "From: Bob Smith <bob@acme.com>\nTo: Me <me@ourco.example>\nDate: Thu, 05 Mar 2026 10:00:00 +0000\n"
          "Subject: A question\nMessage-ID: <a3@acme.com>\n\nHi.\n" },
  { "k1", "From: Kim Lee <kim@initech.de>\nTo: Me <me@ourco.example>\nDate: Fri, 06 Dec 2025 10:00:00 +0000\n"
          "Subject: Hello\nMessage-ID: <k1@initech.de>\n\nHello.\n" },
};

typedef struct {
  char *dir;
  char *db;
  SgStore *store;
  SgIdentity *identity;
  char *process;
} Fixture;

static gint64
date (const char *ymd)
{
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autofree char *iso = g_strdup_printf ("%sT00:00:00Z", ymd);
  g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (iso, utc);

  return g_date_time_to_unix (dt);
}

/* Runs SQL on the store file through a connection of its own (tags and meetings have no
 * write API in this module: they come from other parts of SalesGetter). */
static void
sql (Fixture *f, const char *text)
{
  sqlite3 *db = NULL;
  char *msg = NULL;

  g_assert_cmpint (sqlite3_open (f->db, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, text, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("%s: %s", text, msg);
  sqlite3_close (db);
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *md = NULL;
  g_autoptr (SgImporter) imp = NULL;

  f->dir = sg_test_make_tmpdir ();
  md = g_build_filename (f->dir, "Maildir", NULL);
  sg_test_make_maildir (md);
  for (guint i = 0; i < G_N_ELEMENTS (mails); i++) {
    g_autofree char *name = g_strdup_printf ("Maildir/cur/%u.%s:2,S", i, mails[i].name);
    g_autofree char *p = sg_test_write_file (f->dir, name, mails[i].text, -1);
  }
  f->identity = sg_identity_new ();
  g_assert_true (sg_identity_add_address (f->identity, "me@ourco.example", NULL));
  g_assert_true (sg_identity_add_internal_domain (f->identity, "ourco.example", NULL));
  f->db = g_build_filename (f->dir, "store.db", NULL);
  f->store = sg_store_open (f->db, SG_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  imp = sg_importer_new (f->store, f->identity);
  g_assert_true (sg_importer_import_path (imp, md, NULL, &error));
  g_assert_true (sg_importer_flush (imp, &error));
  g_assert_no_error (error);

  /* An open process at Acme with Jane as decision-maker, and a won one (never shown). */
  {
    SgProcessNew spec = { .organisation = "acme.com", .deliverable = "Demand forecast 2027", .stage = "proposal",
                          .account_manager = "me@ourco.example", .opened_at = date ("2026-03-01"),
                          .has_value = TRUE, .value_minor = 1200000, .currency = "EUR" };
    SgProcessNew old = { .organisation = "acme.com", .deliverable = "Market study 2025",
                         .opened_at = date ("2025-01-01") };
    g_autofree char *won = NULL;

    f->process = sg_process_create (f->store, &spec, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (sg_process_add_contact (f->store, f->process, "jane@acme.com", "decision-maker", NULL, &error));
    g_assert_true (sg_process_add_contact (f->store, f->process, "jane@acme.com", "champion", NULL, &error));
    won = sg_process_create (f->store, &old, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (sg_process_close (f->store, won, TRUE, NULL, NULL, &error));
    g_assert_true (sg_role_set (f->store, "jane@acme.com", "customer", "bought the 2025 study", NULL, &error));
    g_assert_no_error (error);
  }
  sql (f,
       "INSERT INTO tags (id, name, kind, created_at) VALUES (1, 'forecasting', 'interest', 0), "
       "  (2, 'analytics', 'topic', 0), (3, 'dropped', 'topic', 0);"
       "INSERT INTO tag_assignments (tag_id, entity_type, entity_id, origin, removed, created_at) VALUES "
       "  (1, 'organisation', (SELECT id FROM organisations WHERE domain = 'acme.com'), 'person', 0, 0), "
       "  (2, 'person', (SELECT person_id FROM addresses WHERE address = 'jane@acme.com'), 'rule', 0, 0), "
       "  (3, 'person', (SELECT person_id FROM addresses WHERE address = 'jane@acme.com'), 'rule', 1, 0);"
       /* A meeting with Jane on 6 March 2026 (as the meetings module stores them). */
       "INSERT INTO interactions (message_id, kind, direction, date_utc, subject, created_at) "
       "  VALUES ('meeting-1', 'meeting', 'out', 1772791200, 'Workshop at Acme', 0);"
       "INSERT INTO participants (interaction_id, address_id, role) VALUES ((SELECT id FROM interactions "
       "  WHERE message_id = 'meeting-1'), (SELECT id FROM addresses WHERE address = 'jane@acme.com'), 'attendee');");
  {
    g_autofree char *s = g_strdup_printf (
      "INSERT INTO stage_suggestions (process_id, stage, interaction_id, reason, created_at) VALUES "
      "((SELECT id FROM processes WHERE uuid = '%s'), 'negotiation', "
      " (SELECT id FROM interactions WHERE message_id = 'a3@acme.com'), 'the subject mentions pricing', 0)",
      f->process);

    sql (f, s);
  }
}

static void
teardown (Fixture *f, gconstpointer data)
{
  sg_store_close (f->store);
  sg_identity_unref (f->identity);
  sg_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->db);
  g_free (f->process);
}

static JsonObject *
correspondent (SgInsight *insight, guint i)
{
  JsonObject *root = json_node_get_object (sg_insight_get_json (insight));

  return json_array_get_object_element (json_object_get_array_member (root, "correspondents"), i);
}

static void
test_message (Fixture *f, gconstpointer data)
{
  static const char msg[] =
    "From: Jane Doe <jane@acme.com>\nTo: Me <me@ourco.example>, Carl New <carl@acme.com>, zed@nowhere.example\n"
    "Cc: Anna Colleague <anna@ourco.example>, JANE@acme.com\nSubject: Re: pricing\nMessage-ID: <x1@acme.com>\n"
    "Date: Mon, 09 Mar 2026 09:00:00 +0000\n\nLet's talk.\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (SgMessage) m = sg_message_parse (msg, sizeof msg - 1, f->identity, 0, &error);
  SgInsightOptions o = { .identity = f->identity, .now = date ("2026-03-10"), .n_interactions = 2 };
  g_autoptr (SgInsight) in = NULL;
  g_autofree char *text = NULL;
  JsonObject *jane, *carl, *zed, *p, *st;
  JsonArray *a;

  g_assert_no_error (error);
  in = sg_insight_for_message (f->store, m, &o, &error);
  g_assert_no_error (error);
  /* The user and the colleague are left out, Jane is listed once (From and Cc). */
  g_assert_cmpuint (sg_insight_get_n_correspondents (in), ==, 3);
  g_assert_cmpstr (sg_insight_get_address (in, 0), ==, "jane@acme.com");
  g_assert_cmpstr (sg_insight_get_address (in, 1), ==, "carl@acme.com");
  g_assert_cmpstr (sg_insight_get_address (in, 2), ==, "zed@nowhere.example");
  g_assert_true (sg_insight_is_known (in, 0));
  g_assert_false (sg_insight_is_known (in, 1));

  jane = correspondent (in, 0);
  g_assert_cmpstr (json_object_get_string_member (jane, "name"), ==, "Jane Doe");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (jane, "organisation"), "domain"),
                   ==, "acme.com");
  a = json_object_get_array_member (jane, "roles");
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (a, 0), "role"), ==, "customer");
  /* Her own tag first, then her organisation's; the removed one is not there. */
  a = json_object_get_array_member (jane, "tags");
  g_assert_cmpuint (json_array_get_length (a), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (a, 0), "name"), ==, "analytics");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (a, 1), "name"), ==, "forecasting");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (a, 1), "on"), ==, "organisation");
  /* Only the open process, with stage, value, her parts and the open suggestion. */
  a = json_object_get_array_member (jane, "processes");
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  p = json_array_get_object_element (a, 0);
  g_assert_cmpstr (json_object_get_string_member (p, "id"), ==, f->process);
  g_assert_cmpstr (json_object_get_string_member (p, "stage"), ==, "proposal");
  g_assert_cmpstr (json_object_get_string_member (p, "value"), ==, "12000.00");
  g_assert_cmpstr (json_object_get_string_member (p, "currency"), ==, "EUR");
  a = json_object_get_array_member (p, "parts");
  g_assert_cmpuint (json_array_get_length (a), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (a, 0), ==, "champion");
  g_assert_cmpstr (json_array_get_string_element (a, 1), ==, "decision-maker");
  a = json_object_get_array_member (p, "suggestions");
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (a, 0), "stage"), ==, "negotiation");
  /* Interactions: a1 received, a2 sent, the meeting; the last two, newest first. */
  {
    JsonObject *ia = json_object_get_object_member (jane, "interactions");

    g_assert_cmpint (json_object_get_int_member (ia, "total"), ==, 3);
    g_assert_cmpint (json_object_get_int_member (ia, "received"), ==, 1);
    g_assert_cmpint (json_object_get_int_member (ia, "sent"), ==, 1);
    g_assert_cmpint (json_object_get_int_member (ia, "meetings"), ==, 1);
  }
  a = json_object_get_array_member (jane, "last_interactions");
  g_assert_cmpuint (json_array_get_length (a), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (a, 0), "kind"), ==, "meeting");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (a, 1), "subject"), ==,
                   "Our proposal for the demand forecast");
  st = json_object_get_object_member (jane, "strength");
  g_assert_cmpint (json_object_get_int_member (st, "score"), >, 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (st, "reasons")), ==, 4);

  /* Carl is not in the CRM, but his organisation and its open process are shown. */
  carl = correspondent (in, 1);
  g_assert_false (json_object_get_boolean_member (carl, "known"));
  g_assert_cmpstr (json_object_get_string_member (carl, "note"), ==, "not in the CRM");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (carl, "organisation"), "name"),
                   ==, "Acme");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (carl, "processes")), ==, 1);
  g_assert_false (json_object_has_member (carl, "strength"));
  /* Zed: nothing known at all. */
  zed = correspondent (in, 2);
  g_assert_true (json_object_get_null_member (zed, "organisation"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (zed, "processes")), ==, 0);

  text = sg_insight_to_text (in);
  g_assert_true (sg_test_contains (text, "Jane Doe <jane@acme.com>"));
  g_assert_true (sg_test_contains (text, "Roles: customer"));
  g_assert_true (sg_test_contains (text, "stage proposal, 12000.00 EUR"));
  g_assert_true (sg_test_contains (text, "Suggested stage: negotiation"));
  g_assert_true (sg_test_contains (text, "carl@acme.com>  (not in the CRM)"));
  g_assert_true (sg_test_contains (text, "owner me@ourco.example"));
  g_assert_false (sg_test_contains (text, "<me@ourco.example>"));
  g_assert_false (sg_test_contains (text, "anna@ourco.example"));
}

/* Jane (two-way mail and a meeting this month) is a stronger relationship than Kim (one
 * message from him three months ago, never answered). Bob is in between: two-way mail,
 * recent, no meeting. */
static void
test_strength_order (Fixture *f, gconstpointer data)
{
  const char *const who[] = { "kim@initech.de", "bob@acme.com", "jane@acme.com", NULL };
  SgInsightOptions o = { .now = date ("2026-03-10") };
  g_autoptr (GError) error = NULL;
  g_autoptr (SgInsight) in = sg_insight_for_addresses (f->store, who, &o, &error);
  gint64 s[3];

  g_assert_no_error (error);
  g_assert_cmpuint (sg_insight_get_n_correspondents (in), ==, 3);
  for (guint i = 0; i < 3; i++)
    s[i] = json_object_get_int_member (json_object_get_object_member (correspondent (in, i), "strength"), "score");
  g_assert_cmpint (s[0], <, s[1]);
  g_assert_cmpint (s[1], <, s[2]);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (correspondent (in, 0), "strength"),
                                                  "label"), ==, "weak");
}

static void
test_addresses_errors (Fixture *f, gconstpointer data)
{
  const char *const none[] = { NULL };
  const char *const bad[] = { "not an address", "JANE@ACME.COM", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (SgInsight) in = sg_insight_for_addresses (f->store, none, NULL, &error);

  g_assert_null (in);
  g_assert_error (error, SG_INSIGHT_ERROR, SG_INSIGHT_ERROR_INVALID);
  g_clear_error (&error);
  /* A bad address is reported, the rest is still looked up (case-insensitively). */
  in = sg_insight_for_addresses (f->store, bad, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sg_insight_get_n_correspondents (in), ==, 2);
  g_assert_true (json_object_has_member (correspondent (in, 0), "error"));
  g_assert_true (sg_insight_is_known (in, 1));
  g_assert_cmpstr (sg_insight_get_address (in, 1), ==, "jane@acme.com");
}

/* Hand-computed scores (see sg_strength_compute): frequency 35*ln(1+n)/ln(51) capped at 35,
 * recency 25*2^(-days/45), reciprocity 25*min/max, meetings 5 each up to 15. */
static void
test_strength_compute (void)
{
  gint64 now = 1000 * 86400;
  const char *label;
  g_auto (GStrv) why = NULL;

  g_assert_cmpint (sg_strength_compute (0, 0, 0, 0, 0, now, &label, &why), ==, 0);
  g_assert_cmpstr (label, ==, "none");
  g_assert_cmpstr (why[1], ==, "no contact yet");
  g_clear_pointer (&why, g_strfreev);
  /* 50 a year, today, 25/25, 3 meetings: 35 + 25 + 25 + 15 = 100. */
  g_assert_cmpint (sg_strength_compute (50, 25, 25, 3, now, now, &label, &why), ==, 100);
  g_assert_cmpstr (label, ==, "strong");
  g_assert_cmpstr (why[2], ==, "two-way: 25 received, 25 sent");
  g_assert_cmpstr (why[3], ==, "3 meetings");
  g_clear_pointer (&why, g_strfreev);
  /* One message received 90 days ago: 35*ln2/ln51 = 6.17, 25/4 = 6.25: 12, weak, one-way. */
  g_assert_cmpint (sg_strength_compute (1, 1, 0, 0, now - 90 * 86400, now, &label, &why), ==, 12);
  g_assert_cmpstr (label, ==, "weak");
  g_assert_cmpstr (why[1], ==, "last contact 90 days ago");
  g_assert_cmpstr (why[2], ==, "one-way: 1 received, 0 sent");
  /* 10 a year, 45 days ago, 4 in / 6 out: 35*ln11/ln51 = 21.34, 12.5, 16.67: 50.5 -> 51 medium. */
  g_assert_cmpint (sg_strength_compute (10, 4, 6, 0, now - 45 * 86400, now, &label, NULL), ==, 51);
  g_assert_cmpstr (label, ==, "medium");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/insight/message", test_message);
  ADD ("/insight/strength-order", test_strength_order);
  ADD ("/insight/addresses-errors", test_addresses_errors);
  g_test_add_func ("/insight/strength-compute", test_strength_compute);
  return g_test_run ();
}
