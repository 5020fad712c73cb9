/* test-insight.c: the insight beside a message (sg-insight.h) and relationship strength,
 * on a store filled by the real importer from a small hand-written mailbox, with sales
 * processes, roles, a meeting, tags and a stage suggestion added on top. */
#include "config.h"

#include <locale.h>
#include <sqlite3.h>
#include <string.h>

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
  /* What bypassed the store is folded into the activity summaries at its next commit. */
  if (f->store != NULL) {
    g_autoptr (GError) error = NULL;

    g_assert_true (sg_store_begin (f->store, &error) && sg_store_commit (f->store, &error));
    g_assert_no_error (error);
  }
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


/* --- selections ----------------------------------------------------------------------- */

static void
test_parse_errors (void)
{
  static const struct {
    const char *expr;
    guint column;
    const char *message;
  } cases[] = {
    { "tag:x and", 10, "column 10: expected a criterion" },
    { "", 1, "column 1: expected a criterion" },
    { "   ", 4, "column 4: expected a criterion" },
    { "tag:x tag:y", 7, "column 7: expected and, or or the end, found “tag:y”" },
    { "forecasting", 1, "column 1: expected a criterion such as tag:NAME, found “forecasting”" },
    { "colour:red", 1, "column 1: unknown criterion “colour”" },
    { "tag:", 5, "column 5: expected a value after “tag:”" },
    { "role:king", 6, "column 6: unknown role “king”" },
    { "(tag:x or tag:y", 16, "column 16: expected “)” to close the “(” at column 1, found the end" },
    { "tag:x)", 6, "column 6: “)” without a matching “(”" },
    { "()", 2, "column 2: expected a criterion before “)”" },
    { "contacted:90d", 11, "column 11: expected < or > before the duration" },
    { "contacted:<90", 14, "column 14: expected a unit" },
    { "contacted:<d", 12, "column 12: expected a number" },
    { "interactions:>=five", 16, "column 16: expected a number" },
    { "tag:\"open", 5, "column 5: unterminated quoted value" },
    /* Columns count characters, not bytes. */
    { "tag:café and", 13, "column 13: expected a criterion" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    guint column = 99;
    g_autoptr (SgSelection) sel = sg_selection_parse (cases[i].expr, &column, &error);

    g_test_message ("%s", cases[i].expr);
    g_assert_null (sel);
    g_assert_error (error, SG_SELECT_ERROR, SG_SELECT_ERROR_PARSE);
    g_assert_true (g_str_has_prefix (error->message, cases[i].message));
    g_assert_cmpuint (column, ==, cases[i].column);
  }
  {
    g_autofree char *deep = g_strnfill (100, '(');
    g_autoptr (GError) error = NULL;

    g_assert_null (sg_selection_parse (deep, NULL, &error));
    g_assert_true (sg_test_contains (error->message, "nested too deeply"));
  }
  {
    g_autoptr (SgSelection) sel = sg_selection_parse (
      "NOT (tag:\"machine learning\" Or role:customer) AND contacted:>=2w and interactions:3", NULL, NULL);

    g_assert_nonnull (sel);
    g_assert_cmpuint (sg_selection_get_n_criteria (sel), ==, 4);
  }
}

/* The addresses a selection returns, in rank order, comma-separated. */
static char *
select_addresses (Fixture *f, const char *expr)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgSelection) sel = sg_selection_parse (expr, NULL, &error);
  g_autoptr (SgTable) t = NULL;
  GString *out = g_string_new (NULL);

  g_assert_no_error (error);
  t = sg_selection_run (f->store, sel, date ("2026-03-10"), 0, &error);
  g_assert_no_error (error);
  for (guint r = 0; r < sg_table_get_n_rows (t); r++)
    g_string_append_printf (out, "%s%s", r ? "," : "", sg_table_get_text (t, r, 1));
  return g_string_free (out, FALSE);
}

static void
test_criteria (Fixture *f, gconstpointer data)
{
  /* Kim (initech.de) came in through the website; initech is in retail. */
  sql (f, "UPDATE organisations SET industry = 'Retail' WHERE domain = 'initech.de';"
          "INSERT INTO person_lead_sources (person_id, lead_source_id, added_at) VALUES ("
          "(SELECT person_id FROM addresses WHERE address = 'kim@initech.de'), "
          "(SELECT id FROM lead_sources WHERE name = 'inbound'), 0);");
  static const struct {
    const char *expr;
    const char *expect;
  } cases[] = {
    /* Jane before Bob whenever both match: same relevance, she is the stronger relationship. */
    { "tag:forecasting", "jane@acme.com,bob@acme.com" },  /* the organisation's tag */
    { "tag:Analytics", "jane@acme.com" },                 /* her own, any case */
    { "tag:dropped", "" },                                /* removed */
    { "role:customer", "jane@acme.com" },
    { "org:ACME.com", "jane@acme.com,bob@acme.com" },
    { "industry:retail", "kim@initech.de" },
    { "source:inbound", "kim@initech.de" },
    { "contacted:<30d", "jane@acme.com,bob@acme.com" },  /* 3 and 5 March, now is 10 March */
    { "contacted:>30d", "kim@initech.de" },              /* December */
    { "interactions:>=2", "jane@acme.com,bob@acme.com" }, /* Jane 3 (with the meeting), Bob 2 */
    { "interactions:>2", "jane@acme.com" },
    { "interactions:1", "kim@initech.de" },
    { "stage:proposal", "jane@acme.com,bob@acme.com" },
    { "stage:negotiation", "" },
    { "owner:me@ourco.example", "jane@acme.com,bob@acme.com" },
    { "bought:study", "jane@acme.com,bob@acme.com" },    /* the won "Market study 2025" */
    { "bought:forecast", "" },                           /* open, not won */
    { "bought:%", "" },                                  /* LIKE wildcards are literal */
    /* Never the user or a colleague. */
    { "not org:acme.com", "kim@initech.de" },
    { "not (org:acme.com or industry:retail)", "" },
    { "role:customer or org:initech.de", "jane@acme.com,kim@initech.de" },
    { "tag:forecasting and not role:customer", "bob@acme.com" },
    /* Values are bound, never pasted into the SQL. */
    { "tag:\"x' OR 1=1 --\"", "" },
    { "org:\"acme.com') OR ('1'='1\"", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *got = select_addresses (f, cases[i].expr);

    g_test_message ("%s", cases[i].expr);
    g_assert_cmpstr (got, ==, cases[i].expect);
  }
}

/* Relevance counts the criteria matched: Jane matches three of the four alternatives,
 * Bob two, Kim one; so they come in that order although Kim's is the only one "or"ed. */
static void
test_relevance (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgSelection) sel = sg_selection_parse (
    "role:customer or tag:forecasting or stage:proposal or org:initech.de", NULL, &error);
  g_autoptr (SgTable) t = sg_selection_run (f->store, sel, date ("2026-03-10"), 0, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 3);
  g_assert_cmpstr (sg_table_get_text (t, 0, 1), ==, "jane@acme.com");
  g_assert_cmpint (sg_table_get_int (t, 0, 3), ==, 3);
  g_assert_cmpstr (sg_table_get_text (t, 1, 1), ==, "bob@acme.com");
  g_assert_cmpint (sg_table_get_int (t, 1, 3), ==, 2);
  g_assert_cmpstr (sg_table_get_text (t, 2, 1), ==, "kim@initech.de");
  g_assert_cmpint (sg_table_get_int (t, 2, 3), ==, 1);
  /* --limit keeps the best ranked. */
  g_clear_pointer (&t, sg_table_free);
  t = sg_selection_run (f->store, sel, date ("2026-03-10"), 1, &error);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 1);
  g_assert_cmpstr (sg_table_get_text (t, 0, 1), ==, "jane@acme.com");
}

static void
test_saved (Fixture *f, gconstpointer data)
{
  const char *const who[] = { "jane@acme.com", "kim@initech.de", NULL };
  SgInsightOptions o = { .now = date ("2026-03-10") };
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) list = NULL;
  g_autoptr (SgInsight) in = NULL;
  g_autofree char *expr = NULL;
  JsonArray *a;

  g_assert_true (sg_selection_save (f->store, "customers", "role:customer", "me@ourco.example", &error));
  g_assert_true (sg_selection_save (f->store, "acme", "org:acme.com", NULL, &error));
  g_assert_true (sg_selection_save (f->store, "quiet", "contacted:>30d", NULL, &error));
  /* Saving again replaces. */
  g_assert_true (sg_selection_save (f->store, "acme", "org:acme.com and tag:analytics", NULL, &error));
  g_assert_no_error (error);
  g_assert_false (sg_selection_save (f->store, "broken", "tag:x and", NULL, &error));
  g_assert_error (error, SG_SELECT_ERROR, SG_SELECT_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_false (sg_selection_save (f->store, "no spaces", "tag:x", NULL, &error));
  g_assert_error (error, SG_SELECT_ERROR, SG_SELECT_ERROR_INVALID);
  g_clear_error (&error);

  list = sg_selection_list (f->store, &error);
  g_assert_cmpuint (sg_table_get_n_rows (list), ==, 3);
  g_assert_cmpstr (sg_table_get_text (list, 0, 0), ==, "acme");
  g_assert_cmpstr (sg_table_get_text (list, 0, 1), ==, "org:acme.com and tag:analytics");
  expr = sg_selection_lookup (f->store, "customers", &error);
  g_assert_cmpstr (expr, ==, "role:customer");

  /* The insight names the saved selections each correspondent matches. */
  in = sg_insight_for_addresses (f->store, who, &o, &error);
  g_assert_no_error (error);
  a = json_object_get_array_member (correspondent (in, 0), "selections");
  g_assert_cmpuint (json_array_get_length (a), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (a, 0), ==, "acme");
  g_assert_cmpstr (json_array_get_string_element (a, 1), ==, "customers");
  a = json_object_get_array_member (correspondent (in, 1), "selections");
  g_assert_cmpuint (json_array_get_length (a), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (a, 0), ==, "quiet");

  g_assert_true (sg_selection_delete (f->store, "quiet", &error));
  g_assert_false (sg_selection_delete (f->store, "quiet", &error));
  g_assert_error (error, SG_SELECT_ERROR, SG_SELECT_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (sg_selection_lookup (f->store, "quiet", &error));
  g_assert_error (error, SG_SELECT_ERROR, SG_SELECT_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* Every change is in the change log for sync. */
  {
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;

    g_assert_cmpint (sqlite3_open (f->db, &db), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT group_concat(natural_key || ':' || op, ' ') FROM "
                                             "(SELECT * FROM changes WHERE entity = 'selection' ORDER BY seq)",
                                         -1, &stmt, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==,
                     "customers:upsert acme:upsert quiet:upsert acme:upsert quiet:delete");
    sqlite3_finalize (stmt);
    sqlite3_close (db);
  }
}


/* --- reports ----------------------------------------------------------------------------- */

static char *
new_process (Fixture *f, const char *org, const char *deliverable, const char *owner, gint64 value,
             const char *currency, gint64 cost, const char *source, const char *opened)
{
  g_autoptr (GError) error = NULL;
  SgProcessNew spec = { .organisation = org, .deliverable = deliverable, .account_manager = owner,
                        .has_value = TRUE, .value_minor = value, .currency = currency, .cost_minor = cost,
                        .lead_source = source, .opened_at = opened ? date (opened) : 0 };
  char *uuid = sg_process_create (f->store, &spec, NULL, &error);

  g_assert_no_error (error);
  return uuid;
}

/* A cell as text ("n/a", "50.0%", "7000.00 EUR"), or "null". */
static char *
text_of (const SgTable *t, guint row, guint col)
{
  char *s = sg_table_format_cell (t, row, col);

  return s ? s : g_strdup ("null");
}

static char *
row_text (const SgTable *t, guint row, guint n_cols)
{
  GString *out = g_string_new (NULL);

  for (guint c = 0; c < n_cols; c++) {
    g_autofree char *cell = text_of (t, row, c);

    g_string_append_printf (out, "%s%s", c ? "|" : "", cell);
  }
  return g_string_free (out, FALSE);
}

/* Anna's three processes, figures worked out by hand:
 *   Licence A  initech  5000 EUR  cost 300  inbound  identified -> qualified -> lost
 *   Licence B  initech  7000 EUR  cost 100  inbound  identified -> won
 *   Workshop   acme     1000 USD  cost 0    -        identified (open)
 * managers, EUR: 2 processes, 1 won, 1 lost: 50.0%; won 7000.00 EUR; cost (300+100)/2 = 200.00.
 * managers, USD: 1 open, nothing closed: n/a, never a division by zero.
 * stages: identified entered 3 times (all opened there), 1 still in it, none lost from it;
 *   qualified entered once and lost from once: 100% drop-off; proposal never entered: n/a.
 * sources: inbound/EUR: 2 processes, 1 won, 1 lost, 50.0%, 7000.00 EUR revenue. */
static void
test_reports (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *a = new_process (f, "initech.de", "Licence A", "anna@ourco.example", 500000, "EUR", 30000,
                                    "inbound", "2026-02-01");
  g_autofree char *b = new_process (f, "initech.de", "Licence B", "Anna@OurCo.example", 700000, "EUR", 10000,
                                    "inbound", "2026-02-02");
  g_autofree char *w = new_process (f, "acme.com", "Workshop", "anna@ourco.example", 100000, "USD", 0, NULL,
                                    "2026-02-03");
  SgReportFilter anna = { .owner = "ANNA@ourco.example" };
  g_autoptr (SgTable) t = NULL;

  g_assert_true (sg_process_move (f->store, a, "qualified", NULL, NULL, &error));
  g_assert_true (sg_process_close (f->store, a, FALSE, "too expensive", NULL, &error));
  g_assert_true (sg_process_close (f->store, b, TRUE, NULL, NULL, &error));
  g_assert_no_error (error);

  t = sg_report_run (f->store, "managers", &anna, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 2);
  {
    g_autofree char *r0 = row_text (t, 0, 9);
    g_autofree char *r1 = row_text (t, 1, 9);

    g_assert_cmpstr (r0, ==, "anna@ourco.example|EUR|2|0|1|1|50.0%|7000.00 EUR|200.00 EUR");
    g_assert_cmpstr (r1, ==, "anna@ourco.example|USD|1|1|0|0|n/a|0.00 USD|0.00 USD");
    g_assert_true (sg_table_is_null (t, 1, 9)); /* the ratio's value is null, not NaN */
  }
  g_clear_pointer (&t, sg_table_free);

  t = sg_report_run (f->store, "stages", &anna, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 8);
  {
    static const char *const want[] = {
      "identified|1|open|3|1|0|0.0%", "qualified|2|open|1|0|1|100.0%", "needs analysed|3|open|0|0|0|n/a",
      "proposal|4|open|0|0|0|n/a",    "negotiation|5|open|0|0|0|n/a",  "closed won|6|won|1|0|0|0.0%",
      "closed lost|7|lost|1|0|0|0.0%", "follow-up|8|post|0|0|0|n/a",
    };

    for (guint r = 0; r < G_N_ELEMENTS (want); r++) {
      g_autofree char *got = row_text (t, r, 7);

      g_assert_cmpstr (got, ==, want[r]);
    }
  }
  g_clear_pointer (&t, sg_table_free);

  t = sg_report_run (f->store, "sources", &anna, &error);
  g_assert_no_error (error);
  for (guint r = 0; r < sg_table_get_n_rows (t); r++) {
    g_autofree char *row = row_text (t, r, 9);

    if (g_str_has_prefix (row, "inbound|"))
      g_assert_cmpstr (row, ==, "inbound|inbound|EUR|0|2|1|1|50.0%|7000.00 EUR");
    else /* the other sources brought Anna nothing: honest zeros and n/a */
      g_assert_true (g_str_has_suffix (row, "|null|0|0|0|0|n/a|0.00"));
  }
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 6); /* the six built-in sources */
  g_clear_pointer (&t, sg_table_free);

  /* Stages never left have no time in stage: n/a. */
  t = sg_report_run (f->store, "stages", &anna, &error);
  {
    g_autofree char *proposal = text_of (t, 3, 8);

    g_assert_cmpstr (proposal, ==, "n/a");
  }
  g_clear_pointer (&t, sg_table_free);

  /* Closing ratios by deliverable kind, type and customer type (initech is in retail). */
  sql (f, "UPDATE organisations SET industry = 'Retail' WHERE domain = 'initech.de'");
  t = sg_report_run (f->store, "closing", &anna, &error);
  g_assert_no_error (error);
  {
    static const char *const want[] = {
      "deliverable_kind|service|EUR|2|1|1|50.0%|7000.00 EUR", "deliverable_kind|service|USD|1|0|0|n/a|0.00 USD",
      "deliverable_type|(none)|EUR|2|1|1|50.0%|7000.00 EUR",  "deliverable_type|(none)|USD|1|0|0|n/a|0.00 USD",
      "industry|Retail|EUR|2|1|1|50.0%|7000.00 EUR",          "industry|(none)|USD|1|0|0|n/a|0.00 USD",
    };

    g_assert_cmpuint (sg_table_get_n_rows (t), ==, G_N_ELEMENTS (want));
    for (guint r = 0; r < G_N_ELEMENTS (want); r++) {
      g_autofree char *got = row_text (t, r, 8);

      g_assert_cmpstr (got, ==, want[r]);
    }
  }
  g_clear_pointer (&t, sg_table_free);

  /* Requests by category and organisation; notes by organisation, the most negative first. */
  {
    SgRequestNew r1 = { .organisation = "initech.de", .what = "Brazil", .category = "region", .at = date ("2026-02-01") };
    SgRequestNew r2 = { .organisation = "initech.de", .what = "Chile", .category = "region", .at = date ("2026-02-05") };
    SgRequestNew r3 = { .organisation = "acme.com", .what = "Excel export", .category = "format", .at = date ("2026-02-02") };
    SgNoteNew n1 = { .organisation = "acme.com", .text = "Great kick-off", .sentiment = "positive", .at = date ("2026-02-01") };
    SgNoteNew n2 = { .organisation = "acme.com", .text = "Late delivery", .sentiment = "negative", .at = date ("2026-02-10") };
    SgNoteNew n3 = { .organisation = "initech.de", .text = "Fine", .at = date ("2026-02-03") };
    g_autofree char *u1 = sg_request_add (f->store, &r1, NULL, &error);
    g_autofree char *u2 = sg_request_add (f->store, &r2, NULL, &error);
    g_autofree char *u3 = sg_request_add (f->store, &r3, NULL, &error);
    g_autofree char *v1 = sg_note_add (f->store, &n1, NULL, &error);
    g_autofree char *v2 = sg_note_add (f->store, &n2, NULL, &error);
    g_autofree char *v3 = sg_note_add (f->store, &n3, NULL, &error);
    g_autofree char *row0 = NULL;
    g_autofree char *row1 = NULL;

    g_assert_no_error (error);
    t = sg_report_run (f->store, "requests", NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (sg_table_get_n_rows (t), ==, 2);
    row0 = row_text (t, 0, 6);
    row1 = row_text (t, 1, 6);
    g_assert_cmpstr (row0, ==, "format|Acme|acme.com|1|2026-02-02T00:00:00Z|Excel export");
    g_assert_cmpstr (row1, ==, "region|Initech|initech.de|2|2026-02-05T00:00:00Z|Chile");
    g_clear_pointer (&t, sg_table_free);
    g_clear_pointer (&row0, g_free);
    g_clear_pointer (&row1, g_free);

    t = sg_report_run (f->store, "notes", NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (sg_table_get_n_rows (t), ==, 2);
    row0 = row_text (t, 0, 8);
    row1 = row_text (t, 1, 8);
    g_assert_cmpstr (row0, ==, "Acme|acme.com|2|1|0|1|2026-02-10T00:00:00Z|Late delivery");
    g_assert_cmpstr (row1, ==, "Initech|initech.de|1|0|1|0|2026-02-03T00:00:00Z|Fine");
    g_clear_pointer (&t, sg_table_free);
  }

  /* A period with no data: empty, not an error. */
  {
    SgReportFilter later = { .from = date ("2030-01-01") };

    t = sg_report_run (f->store, "managers", &later, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (sg_table_get_n_rows (t), ==, 0);
    g_clear_pointer (&t, sg_table_free);
  }
  {
    SgReportFilter backwards = { .from = date ("2026-03-01"), .to = date ("2026-01-01") };

    g_assert_null (sg_report_run (f->store, "managers", &backwards, &error));
    g_assert_error (error, SG_REPORT_ERROR, SG_REPORT_ERROR_INVALID);
    g_clear_error (&error);
  }
  g_assert_null (sg_report_run (f->store, "funnel", NULL, &error));
  g_assert_error (error, SG_REPORT_ERROR, SG_REPORT_ERROR_UNKNOWN);
  (void) w;
}


/* --- similarity -------------------------------------------------------------------------- */

/* Tags: acme {forecasting (its own), analytics (Jane's)}, initech {forecasting},
 * umbrella {forecasting, analytics, retail}, globex {retail}. N = 4 tagged organisations;
 * df: forecasting 3, analytics 2, retail 2; idf = 1 + ln(5/(1+df)): 1.223, 1.511, 1.511.
 *   cos(acme, umbrella) = (1.223² + 1.511²) / (1.944 × 2.462) = 0.790: both of acme's tags,
 *     the rarer analytics weighing more, but umbrella has retail too;
 *   cos(acme, initech)  = 1.223² / (1.944 × 1.223) = 0.629: only the common tag;
 *   globex shares nothing with acme and is not listed.
 * From initech: acme 0.629 (and what acme bought), umbrella 1.223²/(1.223 × 2.462) = 0.497. */
static void
test_similar (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = NULL;

  sql (f, "INSERT INTO organisations (id, domain, name, created_at) VALUES (100, 'umbrella.com', 'Umbrella', 0), "
          "  (101, 'globex.de', 'Globex', 0);"
          "INSERT INTO org_domains VALUES ('umbrella.com', 100), ('globex.de', 101);"
          "INSERT INTO tags (id, name, kind, created_at) VALUES (4, 'retail', 'industry', 0);"
          "INSERT INTO tag_assignments (tag_id, entity_type, entity_id, origin, created_at) VALUES "
          "  (1, 'organisation', (SELECT id FROM organisations WHERE domain = 'initech.de'), 'rule', 0), "
          "  (1, 'organisation', 100, 'rule', 0), (2, 'organisation', 100, 'rule', 0), "
          "  (4, 'organisation', 100, 'rule', 0), (4, 'organisation', 101, 'rule', 0);");
  t = sg_similar_organisations (f->store, "acme.com", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 2);
  g_assert_cmpstr (sg_table_get_text (t, 0, 1), ==, "umbrella.com");
  g_assert_cmpfloat_with_epsilon (sg_table_get_real (t, 0, 2), 0.790, 0.0015);
  g_assert_cmpstr (sg_table_get_text (t, 0, 3), ==, "analytics, forecasting");
  g_assert_cmpstr (sg_table_get_text (t, 1, 1), ==, "initech.de");
  g_assert_cmpfloat_with_epsilon (sg_table_get_real (t, 1, 2), 0.629, 0.0015);
  g_clear_pointer (&t, sg_table_free);

  t = sg_similar_organisations (f->store, "www.initech.de", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 2);
  g_assert_cmpstr (sg_table_get_text (t, 0, 1), ==, "acme.com");
  g_assert_cmpstr (sg_table_get_text (t, 0, 4), ==, "Market study 2025");
  g_assert_cmpfloat_with_epsilon (sg_table_get_real (t, 1, 2), 0.497, 0.0015);
  g_clear_pointer (&t, sg_table_free);

  /* No tags: nobody is similar; an unknown domain is an error. */
  t = sg_similar_organisations (f->store, "ourco.example", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 0);
  g_clear_pointer (&t, sg_table_free);
  g_assert_null (sg_similar_organisations (f->store, "nowhere.example", 0, &error));
  g_assert_error (error, SG_SIMILAR_ERROR, SG_SIMILAR_ERROR_NOT_FOUND);
}

/* The summaries as text, ordered: what a full recomputation must give again. */
static char *
dump_summaries (SgStore *store)
{
  sqlite3 *db = NULL;
  const char *path = sg_store_get_path (store);
  GString *out = g_string_new (NULL);
  sqlite3_stmt *st = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db,
    "SELECT 'p', person_id, n_total, n_in, n_out, n_meetings, n_bulk, first_at, last_at, hex(days), hex(recent) "
    "FROM person_summary UNION ALL SELECT 'o', org_id, n_total, n_in, n_out, n_meetings, 0, first_at, last_at, '', '' "
    "FROM org_summary ORDER BY 1, 2", -1, &st, NULL), ==, SQLITE_OK);
  while (sqlite3_step (st) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count (st); c++)
      g_string_append_printf (out, "%s|", (const char *) sqlite3_column_text (st, c));
    g_string_append_c (out, '\n');
  }
  sqlite3_finalize (st);
  sqlite3_close (db);
  return g_string_free (out, FALSE);
}

/* The summaries kept commit by commit equal the ones computed from scratch. */
static void
assert_summaries_exact (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *kept = dump_summaries (f->store);
  g_autofree char *rebuilt = NULL;

  g_assert_true (sg_store_rebuild_summaries (f->store, &error));
  g_assert_no_error (error);
  rebuilt = dump_summaries (f->store);
  g_assert_cmpstr (kept, ==, rebuilt);
  g_assert_cmpuint (strlen (kept), >, 0);
}

static JsonObject *
jane_interactions (Fixture *f, SgInsight **keep)
{
  g_autoptr (GError) error = NULL;
  const char *who[] = { "jane@acme.com", NULL };
  SgInsightOptions o = { .identity = f->identity, .now = date ("2026-03-10") };

  *keep = sg_insight_for_addresses (f->store, who, &o, &error);
  g_assert_no_error (error);
  return json_object_get_object_member (correspondent (*keep, 0), "interactions");
}

/* 300 more mails with Jane than the old 250-interaction cap: every count is exact, the
 * last interactions are the newest, and the summary kept per commit equals a rebuild. */
static void
test_summary_exact (Fixture *f, gconstpointer data)
{
  SgInsight *in = NULL;
  JsonObject *ia;
  JsonArray *last;
  gint64 total_before, received_before;

  ia = jane_interactions (f, &in);
  total_before = json_object_get_int_member (ia, "total");
  received_before = json_object_get_int_member (ia, "received");
  /* a1 (in), a2 (out), the meeting. */
  g_assert_cmpint (total_before, ==, 3);
  g_assert_cmpint (json_object_get_int_member (ia, "meetings"), ==, 1);
  g_assert_false (json_object_has_member (ia, "capped"));
  sg_insight_free (in);
  assert_summaries_exact (f);

  /* 300 mails from Jane, one a day back from 1 March 2026 (the newest 2026-03-01), and
   * 5 bulk ones, which count nowhere. */
  sql (f,
       "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 305) "
       "INSERT INTO interactions (message_id, kind, direction, bulk, date_utc, subject, created_at) "
       "SELECT 'x' || k || '@acme.com', 'mail', 'in', k > 300, 1772323200 - (k - 1) * 86400, 'Mail ' || k, 0 FROM n;"
       "INSERT INTO participants (interaction_id, address_id, role) SELECT i.id, a.id, 'from' FROM interactions i, "
       "  addresses a WHERE i.message_id LIKE 'x%@acme.com' AND a.address = 'jane@acme.com';");
  ia = jane_interactions (f, &in);
  g_assert_cmpint (json_object_get_int_member (ia, "total"), ==, total_before + 300);
  g_assert_cmpint (json_object_get_int_member (ia, "received"), ==, received_before + 300);
  /* now = 10 March 2026: the year back reaches 10 March 2025, day included: mails 1..(days
   * from 1 March 2026 back to 10 March 2025) = 357, all of the 300, plus the 3 above. */
  g_assert_cmpint (json_object_get_int_member (ia, "last_year"), ==, 303);
  g_assert_cmpstr (json_object_get_string_member (ia, "first"), ==, "2025-05-06T00:00:00Z");
  last = json_object_get_array_member (correspondent (in, 0), "last_interactions");
  g_assert_cmpuint (json_array_get_length (last), ==, 5);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (last, 0), "subject"), ==,
                   "Workshop at Acme");
  sg_insight_free (in);
  assert_summaries_exact (f);

  /* More last interactions than the summary keeps: read from the history, same order. */
  {
    g_autoptr (GError) error = NULL;
    const char *who[] = { "jane@acme.com", NULL };
    SgInsightOptions o = { .identity = f->identity, .now = date ("2026-03-10"), .n_interactions = 12 };
    g_autoptr (SgInsight) many = sg_insight_for_addresses (f->store, who, &o, &error);

    g_assert_no_error (error);
    last = json_object_get_array_member (correspondent (many, 0), "last_interactions");
    g_assert_cmpuint (json_array_get_length (last), ==, 12);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (last, 11), "subject"), ==,
                     "Mail 9");
  }

  /* The selection counts the same. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (SgSelection) sel = sg_selection_parse ("interactions:>=303", NULL, &error);
    g_autoptr (SgTable) t = sg_selection_run (f->store, sel, date ("2026-03-10"), 0, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (sg_table_get_n_rows (t), ==, 1);
    g_assert_cmpstr (sg_table_get_text (t, 0, 1), ==, "jane@acme.com");
  }
}

static const char *ics_v0 =
  "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//sg test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
  "UID:review-1@ourco.example\r\nSEQUENCE:0\r\nDTSTAMP:20260301T090000Z\r\n"
  "DTSTART:20260304T140000Z\r\nDTEND:20260304T150000Z\r\nSUMMARY:Review\r\n"
  "ORGANIZER:mailto:me@ourco.example\r\nATTENDEE:mailto:jane@acme.com\r\nATTENDEE:mailto:bob@acme.com\r\n"
  "END:VEVENT\r\nEND:VCALENDAR\r\n";
static const char *ics_v1 =
  "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//sg test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
  "UID:review-1@ourco.example\r\nSEQUENCE:1\r\nDTSTAMP:20260302T090000Z\r\n"
  "DTSTART:20260305T140000Z\r\nDTEND:20260305T150000Z\r\nSUMMARY:Review\r\n"
  "ORGANIZER:mailto:me@ourco.example\r\nATTENDEE:mailto:bob@acme.com\r\n"
  "END:VEVENT\r\nEND:VCALENDAR\r\n";

static gint64
meetings_of (Fixture *f, const char *address)
{
  g_autoptr (GError) error = NULL;
  const char *who[] = { address, NULL };
  SgInsightOptions o = { .identity = f->identity, .now = date ("2026-03-10") };
  g_autoptr (SgInsight) in = sg_insight_for_addresses (f->store, who, &o, &error);

  g_assert_no_error (error);
  return json_object_get_int_member (json_object_get_object_member (correspondent (in, 0), "interactions"),
                                     "meetings");
}

static void
import_file (Fixture *f, const char *name, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = sg_test_write_file (f->dir, name, text, -1);
  g_autoptr (SgImporter) imp = sg_importer_new (f->store, f->identity);

  sg_importer_import_path (imp, path, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (sg_importer_flush (imp, &error));
  g_assert_no_error (error);
}

/* The meetings path (a new meeting, then its update dropping Jane), a re-import of the same
 * mail, and process changes keep the summaries equal to a rebuild. */
static void
test_summary_writers (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *md = g_build_filename (f->dir, "Maildir", NULL);

  g_assert_cmpint (meetings_of (f, "jane@acme.com"), ==, 1);
  g_assert_cmpint (meetings_of (f, "bob@acme.com"), ==, 0);
  import_file (f, "review-0.ics", ics_v0);
  g_assert_cmpint (meetings_of (f, "jane@acme.com"), ==, 2);
  g_assert_cmpint (meetings_of (f, "bob@acme.com"), ==, 1);
  assert_summaries_exact (f);
  import_file (f, "review-1.ics", ics_v1); /* moved a day, Jane no longer invited */
  g_assert_cmpint (meetings_of (f, "jane@acme.com"), ==, 1);
  g_assert_cmpint (meetings_of (f, "bob@acme.com"), ==, 1);
  assert_summaries_exact (f);

  /* The same mailbox again: nothing new, nothing counted twice. */
  {
    g_autofree char *before = dump_summaries (f->store);
    g_autofree char *after = NULL;
    g_autoptr (SgImporter) imp = sg_importer_new (f->store, f->identity);

    g_assert_true (sg_importer_import_path (imp, md, NULL, &error));
    g_assert_true (sg_importer_flush (imp, &error));
    g_assert_no_error (error);
    after = dump_summaries (f->store);
    g_assert_cmpstr (before, ==, after);
  }

  /* Process changes touch no interaction. */
  g_assert_true (sg_process_move (f->store, f->process, "negotiation", NULL, NULL, &error));
  g_assert_no_error (error);
  assert_summaries_exact (f);

  /* Jane's address given to Bob (as a merge would): both recomputed. */
  sql (f, "UPDATE addresses SET person_id = (SELECT person_id FROM addresses WHERE address = 'bob@acme.com') "
          "WHERE address = 'jane@acme.com'");
  assert_summaries_exact (f);
}

/* Similar organisations in the insight: computed ahead, flagged when tags changed since. */
static void
test_similar_insight (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *who[] = { "jane@acme.com", "someone@globex.de", NULL };
  SgInsight *in;
  JsonObject *sim;
  JsonArray *orgs;

  sql (f, "INSERT INTO organisations (id, domain, name, created_at) VALUES (100, 'umbrella.com', 'Umbrella', 0), "
          "  (101, 'globex.de', 'Globex', 0);"
          "INSERT INTO org_domains VALUES ('umbrella.com', 100), ('globex.de', 101);"
          "INSERT INTO tags (id, name, kind, created_at) VALUES (4, 'retail', 'industry', 0);"
          "INSERT INTO tag_assignments (tag_id, entity_type, entity_id, origin, created_at) VALUES "
          "  (1, 'organisation', (SELECT id FROM organisations WHERE domain = 'initech.de'), 'rule', 0), "
          "  (1, 'organisation', 100, 'rule', 0), (2, 'organisation', 100, 'rule', 0), "
          "  (4, 'organisation', 100, 'rule', 0), (4, 'organisation', 101, 'rule', 0);");
  /* Never computed: null. */
  in = sg_insight_for_addresses (f->store, who, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (json_object_get_null_member (correspondent (in, 0), "similar_organisations"));
  sg_insight_free (in);

  g_assert_true (sg_similar_refresh (f->store, &error));
  g_assert_no_error (error);
  g_assert_true (sg_similar_is_current (f->store));
  in = sg_insight_for_addresses (f->store, who, NULL, &error);
  g_assert_no_error (error);
  /* The same figures as /similar/organisations works out by hand. */
  sim = json_object_get_object_member (correspondent (in, 0), "similar_organisations");
  g_assert_true (json_object_get_boolean_member (sim, "current"));
  orgs = json_object_get_array_member (sim, "organisations");
  g_assert_cmpuint (json_array_get_length (orgs), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (orgs, 0), "domain"), ==,
                   "umbrella.com");
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (json_array_get_object_element (orgs, 0),
                                                                 "similarity"), 0.790, 0.0015);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (orgs, 0), "shared_tags"), ==,
                   "analytics, forecasting");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (orgs, 1), "domain"), ==,
                   "initech.de");
  /* A stranger at Globex: Globex's own similar organisations (Umbrella, by retail). */
  sim = json_object_get_object_member (correspondent (in, 1), "similar_organisations");
  orgs = json_object_get_array_member (sim, "organisations");
  g_assert_cmpuint (json_array_get_length (orgs), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (orgs, 0), "domain"), ==,
                   "umbrella.com");
  sg_insight_free (in);

  /* A tag removed: the kept list is no longer current until computed again. */
  sql (f, "UPDATE tag_assignments SET removed = 1 WHERE entity_type = 'organisation' AND entity_id = 101");
  g_assert_false (sg_similar_is_current (f->store));
  in = sg_insight_for_addresses (f->store, who, NULL, &error);
  g_assert_no_error (error);
  sim = json_object_get_object_member (correspondent (in, 1), "similar_organisations");
  g_assert_false (json_object_get_boolean_member (sim, "current"));
  sg_insight_free (in);
  g_assert_true (sg_similar_refresh (f->store, &error));
  in = sg_insight_for_addresses (f->store, who, NULL, &error);
  g_assert_no_error (error);
  sim = json_object_get_object_member (correspondent (in, 1), "similar_organisations");
  g_assert_true (json_object_get_boolean_member (sim, "current"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (sim, "organisations")), ==, 0);
  sg_insight_free (in);
}

/* Jane's correspondent object in an insight for her and Bob, the time fixed. */
static SgInsight *
insight_of_jane (SgStore *store, Fixture *f)
{
  g_autoptr (GError) error = NULL;
  const char *who[] = { "jane@acme.com", "bob@acme.com", NULL };
  SgInsightOptions o = { .identity = f->identity, .now = date ("2026-03-20"), .n_interactions = 2 };
  SgInsight *in = sg_insight_for_addresses (store, who, &o, &error);

  g_assert_no_error (error);
  g_assert_nonnull (in);
  return in;
}

/* Nothing the insight reads ahead (the activity summaries, the statements the store keeps
 * prepared, the pages a read-only connection maps) may show an old state: after a new
 * mail, a tag added and one removed, a stage move, a new process and a new suggestion,
 * the next insight shows each, on the writing connection and on a read-only one opened
 * (and used) before the changes. */
static void
test_fresh (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgStore) reader = sg_store_open (f->db, SG_STORE_OPEN_READ_ONLY, &error);
  g_autofree char *second = NULL;
  SgStore *stores[2];
  gint64 total_before;

  g_assert_no_error (error);
  stores[0] = f->store;
  stores[1] = reader;
  /* Before: what the fixture made (see test_message). */
  for (guint s = 0; s < 2; s++) {
    g_autoptr (SgInsight) in = insight_of_jane (stores[s], f);
    JsonObject *jane = correspondent (in, 0);
    JsonArray *procs = json_object_get_array_member (jane, "processes");
    JsonArray *tags = json_object_get_array_member (jane, "tags");
    JsonObject *p = json_array_get_object_element (procs, 0);

    total_before = json_object_get_int_member (json_object_get_object_member (jane, "interactions"), "total");
    g_assert_cmpint (total_before, ==, 3);
    g_assert_cmpstr (json_object_get_string_member (
                       json_array_get_object_element (json_object_get_array_member (jane, "last_interactions"), 0),
                       "subject"), ==, "Workshop at Acme");
    g_assert_cmpuint (json_array_get_length (tags), ==, 2);
    g_assert_cmpuint (json_array_get_length (procs), ==, 1);
    g_assert_cmpstr (json_object_get_string_member (p, "stage"), ==, "proposal");
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (p, "suggestions")), ==, 1);
  }

  /* A new mail from Jane, through the importer. */
  {
    g_autoptr (SgImporter) imp = sg_importer_new (f->store, f->identity);
    g_autofree char *path = sg_test_write_file (f->dir, "Maildir/cur/9.j9:2,S",
      "From: Jane Doe <jane@acme.com>\nTo: Me <me@ourco.example>\nDate: Wed, 18 Mar 2026 10:00:00 +0000\n"
      "Subject: Signed contract\nMessage-ID: <j9@acme.com>\n\nHere it is.\n", -1);

    g_assert_true (sg_importer_import_path (imp, path, NULL, &error));
    g_assert_true (sg_importer_flush (imp, &error));
    g_assert_no_error (error);
  }
  /* A tag added to her, her other tag removed, her process moved on, a second process at
   * Acme and a new suggestion on it. */
  g_assert_true (sg_tags_add (f->store, "jane@acme.com", "pricing", &error));
  g_assert_true (sg_tags_add (f->store, "jane@acme.com", "budget", &error));
  g_assert_true (sg_tags_remove (f->store, "jane@acme.com", "analytics", &error));
  g_assert_true (sg_role_set (f->store, "jane@acme.com", "prospect", NULL, NULL, &error));
  g_assert_true (sg_role_set (f->store, "jane@acme.com", "lead", NULL, NULL, &error));
  g_assert_no_error (error);
  /* Bob gets 70 tags, more than the insight sorts itself (SMALL_ROWS). */
  sql (f, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 70) "
          "INSERT INTO tags (name, kind, created_at) SELECT printf('t%02d', 71 - i), 'topic', 0 FROM n;"
          "INSERT INTO tag_assignments (tag_id, entity_type, entity_id, origin, created_at) "
          "SELECT id, 'person', (SELECT person_id FROM addresses WHERE address = 'bob@acme.com'), 'rule', 0 "
          "FROM tags WHERE name GLOB 't[0-9][0-9]'");
  g_assert_true (sg_process_move (f->store, f->process, "negotiation", "terms agreed", NULL, &error));
  g_assert_no_error (error);
  {
    SgProcessNew spec = { .organisation = "acme.com", .deliverable = "Forecast training", .stage = "qualified",
                          .opened_at = date ("2026-03-19") };
    g_autofree char *s = NULL;

    second = sg_process_create (f->store, &spec, NULL, &error);
    g_assert_no_error (error);
    s = g_strdup_printf ("INSERT INTO stage_suggestions (process_id, stage, interaction_id, reason, created_at) "
                         "VALUES ((SELECT id FROM processes WHERE uuid = '%s'), 'proposal', "
                         "(SELECT id FROM interactions WHERE message_id = 'j9@acme.com'), 'a contract', 0)", second);
    sql (f, s);
  }

  for (guint s = 0; s < 2; s++) {
    g_autoptr (SgInsight) in = insight_of_jane (stores[s], f);
    JsonObject *jane = correspondent (in, 0);
    JsonObject *org = json_object_get_object_member (jane, "organisation");
    JsonArray *procs = json_object_get_array_member (jane, "processes");
    JsonArray *tags = json_object_get_array_member (jane, "tags");
    JsonArray *last = json_object_get_array_member (jane, "last_interactions");
    JsonObject *p0, *p1;

    g_test_message ("connection %u (%s)", s, s == 0 ? "the writer" : "read-only");
    /* The new mail: counted, first of the last interactions, in the organisation's
     * activity and in the strength's reasons. */
    g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (jane, "interactions"), "total"), ==,
                     total_before + 1);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (last, 0), "subject"), ==,
                     "Signed contract");
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (jane, "interactions"), "last"), ==,
                     "2026-03-18T10:00:00Z");
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (org, "activity"), "last"), ==,
                     "2026-03-18T10:00:00Z");
    g_assert_cmpstr (json_array_get_string_element (
                       json_object_get_array_member (json_object_get_object_member (jane, "strength"), "reasons"), 1),
                     ==, "last contact 1 day ago"); /* 38 hours before "now" */
    /* Tags: "analytics" gone, "budget" and "pricing" there in that order, her
     * organisation's still last. */
    g_assert_cmpuint (json_array_get_length (tags), ==, 3);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (tags, 0), "name"), ==, "budget");
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (tags, 1), "name"), ==, "pricing");
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (tags, 2), "name"), ==,
                     "forecasting");
    /* Roles: customer first, then lead before prospect. */
    {
      JsonArray *roles = json_object_get_array_member (jane, "roles");

      g_assert_cmpuint (json_array_get_length (roles), ==, 3);
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (roles, 0), "role"), ==, "customer");
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (roles, 1), "role"), ==, "lead");
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (roles, 2), "role"), ==, "prospect");
    }
    /* Bob's 70 tags, sorted by name (t01 .. t70), then his organisation's. */
    {
      JsonArray *bt = json_object_get_array_member (correspondent (in, 1), "tags");

      g_assert_cmpuint (json_array_get_length (bt), ==, 71);
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (bt, 0), "name"), ==, "t01");
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (bt, 69), "name"), ==, "t70");
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (bt, 70), "name"), ==,
                       "forecasting");
    }
    /* Both processes, the newer one first (no activity: sorted by when it was opened,
     * after the moved one's activity), the moved one in its new stage without the
     * suggestion the move accepted. */
    g_assert_cmpuint (json_array_get_length (procs), ==, 2);
    p0 = json_array_get_object_element (procs, 0);
    p1 = json_array_get_object_element (procs, 1);
    g_assert_cmpstr (json_object_get_string_member (p0, "id"), ==, second);
    g_assert_cmpstr (json_object_get_string_member (p0, "stage"), ==, "qualified");
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (p0, "suggestions")), ==, 1);
    g_assert_cmpstr (json_object_get_string_member (
                       json_array_get_object_element (json_object_get_array_member (p0, "suggestions"), 0), "message_id"),
                     ==, "j9@acme.com");
    g_assert_cmpstr (json_object_get_string_member (p1, "id"), ==, f->process);
    g_assert_cmpstr (json_object_get_string_member (p1, "stage"), ==, "negotiation");
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (p1, "suggestions")), ==, 0);
  }
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
  g_test_add_func ("/select/parse-errors", test_parse_errors);
  ADD ("/select/criteria", test_criteria);
  ADD ("/select/relevance", test_relevance);
  ADD ("/select/saved", test_saved);
  ADD ("/report/figures", test_reports);
  ADD ("/similar/organisations", test_similar);
  ADD ("/summary/exact", test_summary_exact);
  ADD ("/summary/writers", test_summary_writers);
  ADD ("/similar/insight", test_similar_insight);
  ADD ("/insight/fresh", test_fresh);
  return g_test_run ();
}
