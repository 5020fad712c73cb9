/* test-rules.c: the tagging engine (sg-rules.h) on meetings imported from iCalendar:
 * built-in meeting kinds, a rules file's conditions, evidence, retagging after the file
 * changes, and tags people add or remove. */
#include "config.h"

#include <locale.h>

#include "sg.h"
#include "test-util.h"

typedef struct {
  char *dir;
  SgIdentity *identity;
  SgStore *store;
  guint n;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *db = NULL;

  f->dir = sg_test_make_tmpdir ();
  db = g_build_filename (f->dir, "store.db", NULL);
  f->identity = sg_identity_new ();
  g_assert_true (sg_identity_add_address (f->identity, "me@mycorp.com", NULL));
  g_assert_true (sg_identity_add_internal_domain (f->identity, "mycorp.com", NULL));
  f->store = sg_store_open (db, SG_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  sg_store_close (f->store);
  sg_identity_unref (f->identity);
  sg_test_rm_rf (f->dir);
  g_free (f->dir);
}

/* A meeting @uid organised by @organizer with @attendees (space-separated). */
static void
meeting (Fixture *f, const char *uid, const char *start, const char *summary, const char *organizer,
         const char *attendees, const char *extra)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgImporter) imp = sg_importer_new (f->store, f->identity);
  g_auto (GStrv) who = g_strsplit (attendees, " ", -1);
  GString *ics = g_string_new (NULL);
  g_autofree char *name = g_strdup_printf ("m%u.ics", f->n++);
  g_autofree char *path = NULL;

  g_string_append_printf (ics, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n"
                               "UID:%s\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:%s\r\nSUMMARY:%s\r\n"
                               "ORGANIZER:mailto:%s\r\n%s", uid, start, summary, organizer, extra ? extra : "");
  for (guint i = 0; who[i]; i++)
    g_string_append_printf (ics, "ATTENDEE:mailto:%s\r\n", who[i]);
  g_string_append (ics, "END:VEVENT\r\nEND:VCALENDAR\r\n");
  path = sg_test_write_file (f->dir, name, ics->str, -1);
  g_string_free (ics, TRUE);
  g_assert_true (sg_importer_import_path (imp, path, NULL, &error));
  g_assert_no_error (error);
}

static void
apply (Fixture *f, SgRules *rules, SgRulesStats *stats)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sg_rules_apply (rules, f->store, f->identity, stats, &error));
  g_assert_no_error (error);
}

/* "tag=rule" for the live tags of @entity, sorted, comma-separated. */
static char *
tags_of (Fixture *f, const char *entity)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = sg_tags_explain (f->store, entity, &error);
  GString *s = g_string_new (NULL);

  g_assert_no_error (error);
  g_assert_nonnull (t);
  for (guint r = 0; t && r < sg_table_get_n_rows (t); r++) {
    if (sg_table_get_int (t, r, 5))
      continue; /* removed */
    g_string_append_printf (s, "%s%s=%s", s->len ? "," : "", sg_table_get_text (t, r, 0),
                            sg_table_is_null (t, r, 3) ? "person" : sg_table_get_text (t, r, 3));
  }
  return g_string_free (s, FALSE);
}

static char *
evidence_of (Fixture *f, const char *entity, const char *tag)
{
  g_autoptr (SgTable) t = sg_tags_explain (f->store, entity, NULL);

  for (guint r = 0; t && r < sg_table_get_n_rows (t); r++)
    if (strcmp (sg_table_get_text (t, r, 0), tag) == 0)
      return g_strdup (sg_table_get_text (t, r, 4));
  return NULL;
}

static void
test_defaults (Fixture *f, gconstpointer data)
{
  g_autoptr (SgRules) rules = sg_rules_new_default ();
  g_autofree char *first = NULL, *demo = NULL, *internal = NULL, *qbr = NULL, *ev = NULL;

  meeting (f, "m1", "20260301T100000Z", "Hello Acme", "me@mycorp.com", "jane@acme.com", NULL);
  meeting (f, "m2", "20260308T100000Z", "Product Demo for Acme", "me@mycorp.com", "jane@acme.com", NULL);
  meeting (f, "m3", "20260309T100000Z", "Pipeline planning", "me@mycorp.com", "alice@mycorp.com", NULL);
  meeting (f, "m4", "20260601T100000Z", "Acme QBR", "me@mycorp.com", "jane@acme.com bob@acme.com", NULL);
  apply (f, rules, NULL);
  first = tags_of (f, "m1");
  demo = tags_of (f, "m2");
  internal = tags_of (f, "m3");
  qbr = tags_of (f, "m4");
  /* The first meeting with Acme is an introduction; later ones are not. */
  g_assert_cmpstr (first, ==, "introduction=first-meeting");
  g_assert_cmpstr (demo, ==, "demo=demo");
  g_assert_cmpstr (internal, ==, "internal=internal");
  g_assert_cmpstr (qbr, ==, "review=review");
  ev = evidence_of (f, "m2", "demo");
  g_assert_cmpstr (ev, ==, "summary/description contains “demo”");
  g_clear_pointer (&ev, g_free);
  ev = evidence_of (f, "m1", "introduction");
  g_assert_cmpstr (ev, ==, "first meeting with acme.com");
}

/* "demo" in "demolition" is not a demo. */
static void
test_whole_words (Fixture *f, gconstpointer data)
{
  g_autoptr (SgRules) rules = sg_rules_new_default ();
  g_autofree char *t = NULL;

  meeting (f, "m0", "20260201T100000Z", "Earlier", "me@mycorp.com", "jane@acme.com", NULL);
  meeting (f, "m1", "20260301T100000Z", "Demolition schedule", "me@mycorp.com", "jane@acme.com", NULL);
  apply (f, rules, NULL);
  t = tags_of (f, "m1");
  g_assert_cmpstr (t, ==, "");
}

static const char rules_v1[] =
  "[rules]\n"
  "defaults = false\n"
  "\n"
  "[rule big-acme]\n"
  "tag = committee\n"
  "orgs = acme.com\n"
  "external-more-than = 2\n"
  "role = organizer\n"
  "\n"
  "[rule weekly]\n"
  "tag = recurring-call\n"
  "kind = other\n"
  "recurring = true\n"
  "role = invitee\n";

static const char rules_v2[] =
  "[rules]\n"
  "defaults = false\n"
  "\n"
  "[rule big-acme]\n"
  "tag = committee\n"
  "orgs = acme.com\n"
  "external-more-than = 3\n";

static void
test_rules_file_and_retag (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgRules) v1 = sg_rules_new_from_data (rules_v1, -1, "rules.conf", &error);
  g_autoptr (SgRules) v2 = NULL;
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *a2 = NULL, *b2 = NULL;
  SgRulesStats stats;

  g_assert_no_error (error);
  g_assert_cmpuint (sg_rules_get_n_rules (v1), ==, 2);
  meeting (f, "big", "20260301T100000Z", "Steering", "me@mycorp.com",
           "a@acme.com b@eu.acme.com c@acme.com alice@mycorp.com", NULL);
  meeting (f, "small", "20260302T100000Z", "Steering", "me@mycorp.com", "a@acme.com b@acme.com", NULL);
  meeting (f, "weekly", "20260303T100000Z", "Sync", "jane@acme.com", "me@mycorp.com", "RRULE:FREQ=WEEKLY\r\n");
  apply (f, v1, &stats);
  a = tags_of (f, "big");
  b = tags_of (f, "small");
  c = tags_of (f, "weekly");
  g_assert_cmpstr (a, ==, "committee=big-acme");
  g_assert_cmpstr (b, ==, "");
  g_assert_cmpstr (c, ==, "recurring-call=weekly");
  g_assert_cmpuint (stats.added, ==, 2);

  /* The file changes: the threshold goes up and the weekly rule goes away. */
  v2 = sg_rules_new_from_data (rules_v2, -1, "rules.conf", &error);
  g_assert_no_error (error);
  apply (f, v2, &stats);
  a2 = tags_of (f, "big");
  b2 = tags_of (f, "weekly");
  g_assert_cmpstr (a2, ==, "");
  g_assert_cmpstr (b2, ==, "");
  g_assert_cmpuint (stats.removed, ==, 2);
  g_assert_cmpuint (stats.added, ==, 0);
}

/* A tag a person removed stays removed; a tag a person added stays. */
static void
test_person_wins (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgRules) rules = sg_rules_new_default ();
  g_autoptr (SgRules) none = sg_rules_new_from_data ("[rules]\ndefaults = false\n", -1, "empty", &error);
  g_autofree char *t1 = NULL, *t2 = NULL, *t3 = NULL;

  g_assert_no_error (error);
  meeting (f, "m0", "20260201T100000Z", "Earlier", "me@mycorp.com", "jane@acme.com", NULL);
  meeting (f, "m1", "20260301T100000Z", "Demo", "me@mycorp.com", "jane@acme.com", NULL);
  apply (f, rules, NULL);
  g_assert_true (sg_tags_remove (f->store, "m1", "demo", &error));
  g_assert_no_error (error);
  g_assert_true (sg_tags_add (f->store, "m1", "Key Account", &error));
  g_assert_no_error (error);
  apply (f, rules, NULL);
  t1 = tags_of (f, "m1");
  g_assert_cmpstr (t1, ==, "key account=person");
  /* With no rules at all, a person's tag still stays. */
  apply (f, none, NULL);
  t2 = tags_of (f, "m1");
  g_assert_cmpstr (t2, ==, "key account=person");
  /* Added back by hand, it is back. */
  g_assert_true (sg_tags_add (f->store, "m1", "demo", &error));
  g_assert_no_error (error);
  t3 = tags_of (f, "m1");
  g_assert_cmpstr (t3, ==, "demo=person,key account=person");
  /* Unknown things are named. */
  g_assert_false (sg_tags_add (f->store, "nothing-like-this", "x", &error));
  g_assert_error (error, SG_STORE_ERROR, SG_STORE_ERROR_NOT_FOUND);
  g_assert_true (sg_test_contains (error->message, "nothing-like-this"));
}

static void
test_bad_rules (Fixture *f, gconstpointer data)
{
  static const struct {
    const char *text;
    const char *expect;
  } cases[] = {
    { "[rule x]\nwords = a\n", "[rule x] tag" },
    { "[rule x]\ntag = t\nwordz = a\n", "[rule x] wordz" },
    { "[rule x]\ntag = t\nrole = boss\n", "[rule x] role" },
    { "[rule x]\ntag = t\nexternal-more-than = many\n", "[rule x] external-more-than" },
    { "[rule x]\ntag = t\nfolder = INBOX\n", "[rule x] folder" },
    { "[something]\n", "[something]" },
    { "not a key file", "my.rules" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (SgRules) r = sg_rules_new_from_data (cases[i].text, -1, "my.rules", &error);

    g_assert_null (r);
    g_assert_nonnull (error);
    if (error && !sg_test_contains (error->message, cases[i].expect))
      sg_test_failf ("case %u: “%s” does not name “%s”", i, error->message, cases[i].expect);
    if (error && !sg_test_contains (error->message, "my.rules"))
      sg_test_failf ("case %u: “%s” does not name the file", i, error->message);
  }
}

/* The example shipped in data/ is a valid rules file, and keeps the built-in rules. */
static void
test_example_file (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (g_getenv ("SG_SRCDIR") ? g_getenv ("SG_SRCDIR") : ".", "data",
                                            "salesgetter-rules.example", NULL);
  g_autoptr (SgRules) rules = sg_rules_new_from_file (path, &error);
  g_autoptr (SgRules) defaults = sg_rules_new_default ();

  g_assert_no_error (error);
  g_assert_nonnull (rules);
  /* Seven built-in rules, one of them replaced, and five more. */
  g_assert_cmpuint (sg_rules_get_n_rules (defaults), ==, 7);
  g_assert_cmpuint (sg_rules_get_n_rules (rules), ==, 12);
}

/* Mail is tagged by the same engine: subject words, sender organisation, folder. */
static void
test_mail (Fixture *f, gconstpointer data)
{
  static const char rules[] =
    "[rules]\ndefaults = false\n\n"
    "[rule rfp]\ntag = rfp\napplies-to = mail\nwords = request for proposal\norgs = acme.com\n\n"
    "[rule sent]\ntag = outgoing-offer\napplies-to = mail\nwords = offer\nrole = organizer\nfolder = Sent\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (SgRules) r = sg_rules_new_from_data (rules, -1, "mail.rules", &error);
  g_autoptr (SgImporter) imp = sg_importer_new (f->store, f->identity);
  g_autofree char *md = g_build_filename (f->dir, "Maildir", NULL);
  g_autofree char *sent = g_build_filename (f->dir, "Maildir", ".Sent", NULL);
  g_autofree char *p1 = NULL, *p2 = NULL, *t1 = NULL, *t2 = NULL;

  g_assert_no_error (error);
  sg_test_make_maildir (md);
  sg_test_make_maildir (sent);
  p1 = sg_test_write_file (md, "cur/1.a:2,S",
                           "From: Jane <jane@acme.com>\nTo: me@mycorp.com\nSubject: Request for Proposal: forecasting\n"
                           "Date: Sun, 01 Mar 2026 10:00:00 +0000\nMessage-ID: <rfp@acme.com>\n\nHi\n", -1);
  p2 = sg_test_write_file (sent, "cur/2.b:2,S",
                           "From: Me <me@mycorp.com>\nTo: jane@acme.com\nSubject: Our offer\n"
                           "Date: Mon, 02 Mar 2026 10:00:00 +0000\nMessage-ID: <offer@mycorp.com>\n\nHi\n", -1);
  g_assert_true (sg_importer_import_path (imp, md, NULL, &error));
  g_assert_no_error (error);
  apply (f, r, NULL);
  t1 = tags_of (f, "rfp@acme.com");
  t2 = tags_of (f, "<offer@mycorp.com>");
  g_assert_cmpstr (t1, ==, "rfp=rfp");
  g_assert_cmpstr (t2, ==, "outgoing-offer=sent");
}

/* first-with-org: the first (not cancelled) meeting with an organisation, by start and then
 * by the order stored; mail before a meeting does not make it a later meeting, and the
 * first mail with an organisation is told apart from the later ones the same way. */
static void
test_first_with_org (Fixture *f, gconstpointer data)
{
  static const char rules[] =
    "[rules]\ndefaults = false\n\n"
    "[rule first-meeting]\ntag = introduction\napplies-to = meeting\nfirst-with-org = true\n\n"
    "[rule first-mail]\ntag = first-contact\napplies-to = mail\nfirst-with-org = true\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (SgRules) r = sg_rules_new_from_data (rules, -1, "first.rules", &error);
  g_autoptr (SgImporter) imp = sg_importer_new (f->store, f->identity);
  g_autofree char *md = g_build_filename (f->dir, "Maildir", NULL);
#define MAIL(id) "From: Bob <bob@globex.com>\nTo: me@mycorp.com\nSubject: Hello\n" \
                 "Date: Sun, 01 Mar 2026 10:00:00 +0000\nMessage-ID: <" id "@globex.com>\n\nHi\n"
  static const char mail1[] = MAIL ("one"), mail2[] = MAIL ("two");
#undef MAIL
  static const char *const expect[][2] = {
    { "m-acme", "introduction=first-meeting" },   /* the cancelled one before it does not count */
    { "m-acme-later", "" },
    { "m-globex", "introduction=first-meeting" }, /* mail before it is not a meeting */
    { "m-initech-a", "introduction=first-meeting" },
    { "m-initech-b", "" },                        /* same start: the one stored first is first */
    { "<one@globex.com>", "first-contact=first-mail" },
    { "<two@globex.com>", "" },                   /* same Date, stored after <one> */
  };

  g_assert_no_error (error);
  sg_test_make_maildir (md);
  g_free (sg_test_write_file (md, "cur/1.a:2,S", mail1, -1));
  g_free (sg_test_write_file (md, "cur/2.b:2,S", mail2, -1));
  g_assert_true (sg_importer_import_path (imp, md, NULL, &error));
  g_assert_no_error (error);
  meeting (f, "m-acme-cancelled", "20260301T100000Z", "Kick-off", "me@mycorp.com", "jane@acme.com",
           "STATUS:CANCELLED\r\n");
  meeting (f, "m-acme", "20260302T100000Z", "Kick-off", "me@mycorp.com", "jane@acme.com", NULL);
  meeting (f, "m-acme-later", "20260303T100000Z", "Follow-up", "me@mycorp.com", "jane@acme.com", NULL);
  meeting (f, "m-globex", "20260310T100000Z", "Intro", "me@mycorp.com", "bob@globex.com", NULL);
  meeting (f, "m-initech-a", "20260311T100000Z", "Intro", "me@mycorp.com", "peter@initech.com", NULL);
  meeting (f, "m-initech-b", "20260311T100000Z", "Intro", "me@mycorp.com", "milton@initech.com", NULL);
  for (guint pass = 0; pass < 2; pass++) {
    /* The second pass re-tags the same store: the same answer. */
    apply (f, r, NULL);
    for (guint i = 0; i < G_N_ELEMENTS (expect); i++) {
      g_autofree char *tags = tags_of (f, expect[i][0]);

      g_assert_cmpstr (tags, ==, expect[i][1]);
    }
  }
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);
  g_test_set_nonfatal_assertions ();

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/rules/defaults", test_defaults);
  ADD ("/rules/whole-words", test_whole_words);
  ADD ("/rules/file-and-retag", test_rules_file_and_retag);
  ADD ("/rules/person-wins", test_person_wins);
  ADD ("/rules/bad-rules", test_bad_rules);
  ADD ("/rules/mail", test_mail);
  ADD ("/rules/example-file", test_example_file);
  ADD ("/rules/first-with-org", test_first_with_org);
#undef ADD

  return g_test_run ();
}
