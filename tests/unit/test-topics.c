/* test-topics.c: key phrases, language, stemming, the taxonomy, and the facts and topics the
 * importer stores (sg-topics.h, sg_query_topics, sg_query_person_facts). */
#include "config.h"

#include <locale.h>

#include "sg.h"
#include "test-util.h"

static gboolean
has_topic (GPtrArray *topics, const char *stem)
{
  for (guint i = 0; i < topics->len; i++)
    if (strcmp (((SgTopic *) topics->pdata[i])->stem, stem) == 0)
      return TRUE;
  return FALSE;
}

static void
test_language (void)
{
  g_assert_cmpstr (sg_topics_detect_language ("The forecast for the next quarter is ready and we will send it"), ==, "en");
  g_assert_cmpstr (sg_topics_detect_language ("Die Prognose für das nächste Quartal ist fertig und wir senden sie"), ==, "de");
  g_assert_cmpstr (sg_topics_detect_language ("La prévision pour le prochain trimestre est prête et nous vous l'envoyons"), ==, "fr");
  g_assert_cmpstr (sg_topics_detect_language ("La previsión para el próximo trimestre está lista y se la enviamos"), ==, "es");
}

static void
test_stem (void)
{
  g_autofree char *a = sg_topics_stem ("Forecasting", "en");
  g_autofree char *b = sg_topics_stem ("forecasts", "en");
  g_autofree char *c = sg_topics_stem ("Ausschreibungen", "de");
  g_autofree char *d = sg_topics_stem ("Ausschreibung", "de");

  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (c, ==, d);
}

/* Words and repeated two-word phrases of subject and text; stop words, numbers, addresses
 * and the greeting are no topics; the subject weighs three times. */
static void
test_extract (void)
{
  g_autoptr (GPtrArray) t = sg_topics_extract (
      "Demand forecasting for 2027",
      "Hi Bob,\n\nthe demand forecasting model needs more data. Please send the demand "
      "forecasting inputs to data@acme.com or see www.acme.com. We will do it in 2027.\n");
  const SgTopic *top = t->pdata[0];

  g_assert_true (has_topic (t, "demand forecast"));
  g_assert_true (has_topic (t, "forecast"));
  g_assert_false (has_topic (t, "bob"));
  g_assert_false (has_topic (t, "the"));
  g_assert_false (has_topic (t, "2027"));
  g_assert_false (has_topic (t, "acme"));
  g_assert_false (has_topic (t, "will"));
  /* 3 (subject) + 2 (text) */
  g_assert_cmpuint (top->count, ==, 5);
  g_assert_cmpstr (top->lang, ==, "en");
  g_assert_cmpuint (t->len, <=, SG_TOPICS_MAX_PER_MESSAGE);
}

static void
test_taxonomy_errors (void)
{
  static const struct { const char *text, *needle; } cases[] = {
    { "[pricing]\nphrase = price\n", "unknown key “phrase”" },
    { "[pricing]\nkind = colour\nphrases = price\n", "kind: “colour”" },
    { "[pricing]\nphrases = a very long phrase here\n", "phrase “a very long phrase here”" },
    { "[pricing]\nkind = topic\n", "has no phrases" },
    { "[pricing\nphrases = x\n", "tax" },
  };
  g_autofree char *dir = sg_test_make_tmpdir ();

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *path = sg_test_write_file (dir, "tax", cases[i].text, -1);
    g_autoptr (GError) error = NULL;
    g_autoptr (SgTaxonomy) tax = sg_taxonomy_load (path, &error);

    g_assert_null (tax);
    g_assert_error (error, SG_TOPICS_ERROR, SG_TOPICS_ERROR_TAXONOMY);
    if (error) {
      g_assert_nonnull (strstr (error->message, path));
      g_assert_nonnull (strstr (error->message, cases[i].needle));
    }
  }
  sg_test_rm_rf (dir);
}

/* --- through the importer and the store ------------------------------------------------- */

static const char mail1[] =
  "From: Ann Smith <ann@acme.de>\nTo: me@mycorp.com\nDate: Tue, 3 Mar 2026 10:00:00 +0100\n"
  "Subject: Tender for demand forecasting\nMessage-ID: <t1@acme.de>\n\n"
  "Dear Sir,\n\nour tender for demand forecasting opens next week.\n\n"
  "Best regards,\nAnn Smith\nHead of Procurement\nAcme GmbH\nMobile: 0170 1234567\n";
static const char mail2[] =
  "From: Ann Smith <ann@acme.de>\nTo: me@mycorp.com\nDate: Tue, 10 Mar 2026 10:00:00 +0100\n"
  "Subject: Tender questions\nMessage-ID: <t2@acme.de>\n\n"
  "Hello,\n\nquestions about the tender are due Friday.\n\n"
  "Best regards,\nAnn Smith\nChief Procurement Officer\nAcme GmbH\nMobile: 0170 1234567\n";
/* An older message imported last: its title must not replace the newer one. */
static const char mail3[] =
  "From: Ann Smith <ann@acme.de>\nTo: me@mycorp.com\nDate: Mon, 2 Feb 2026 10:00:00 +0100\n"
  "Subject: Lunch\nMessage-ID: <t3@acme.de>\n\n"
  "See you.\n\n-- \nAnn Smith\nProcurement Manager\nAcme GmbH\n";

typedef struct {
  char *dir;
  SgStore *store;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgIdentity) identity = sg_identity_new ();
  g_autoptr (SgImporter) imp = NULL;
  g_autofree char *maildir = NULL;
  g_autofree char *store_path = NULL;

  f->dir = sg_test_make_tmpdir ();
  maildir = g_build_filename (f->dir, "Maildir", NULL);
  sg_test_make_maildir (maildir);
  g_free (sg_test_write_file (maildir, "cur/1000.a:2,", mail1, -1));
  g_free (sg_test_write_file (maildir, "cur/1001.b:2,", mail2, -1));
  g_free (sg_test_write_file (maildir, "new/1002.c", mail3, -1));
  store_path = g_build_filename (f->dir, "store.db", NULL);
  f->store = sg_store_open (store_path, SG_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_true (sg_identity_add_address (identity, "me@mycorp.com", NULL));
  imp = sg_importer_new (f->store, identity);
  g_assert_true (sg_importer_import_path (imp, maildir, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sg_importer_flush (imp, &error));
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  sg_store_close (f->store);
  sg_test_rm_rf (f->dir);
  g_free (f->dir);
}

/* Which row of @t has @value in @col, or -1. */
static int
find_row (SgTable *t, guint col, const char *value)
{
  for (guint r = 0; r < sg_table_get_n_rows (t); r++)
    if (g_strcmp0 (sg_table_get_text (t, r, col), value) == 0)
      return (int) r;
  return -1;
}

static void
test_facts_history (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) current = sg_query_person_facts (f->store, "ann@acme.de", FALSE, &error);
  g_autoptr (SgTable) all = sg_query_person_facts (f->store, "ann@acme.de", TRUE, &error);
  int r;

  g_assert_no_error (error);
  /* The newest title is current; the older ones are history. */
  g_assert_cmpint (find_row (current, 2, "Chief Procurement Officer"), >=, 0);
  g_assert_cmpint (find_row (current, 2, "Head of Procurement"), <, 0);
  g_assert_cmpint (find_row (current, 2, "Procurement Manager"), <, 0);
  r = find_row (all, 2, "Procurement Manager");
  g_assert_cmpint (r, >=, 0);
  g_assert_cmpint (sg_table_get_int (all, (guint) r, 6), ==, 0);
  r = find_row (current, 2, "+491701234567");
  g_assert_cmpint (r, >=, 0);
  g_assert_cmpstr (sg_table_get_text (current, (guint) r, 1), ==, "mobile");
  g_assert_cmpstr (sg_table_get_text (current, (guint) r, 7), ==, "t2@acme.de");
  g_assert_cmpint (sg_table_get_int (current, (guint) r, 9), ==, 2);
}

static void
test_topics_query (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = sg_query_topics (f->store, "acme.de", 0, &error);
  int r;

  g_assert_no_error (error);
  r = find_row (t, 0, "tender");
  g_assert_cmpint (r, >=, 0);
  g_assert_cmpint (sg_table_get_int (t, (guint) r, 2), ==, 2);
  g_assert_nonnull (strstr (sg_table_get_text (t, (guint) r, 5), "t1@acme.de"));
  /* Signatures are no topics. */
  g_assert_cmpint (find_row (t, 0, "procurement"), <, 0);
  g_assert_cmpint (find_row (t, 0, "mobile"), <, 0);
}

static void
test_taxonomy_apply (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = sg_test_write_file (f->dir, "tax",
      "[procurement]\nkind = interest\nphrases = tender; Ausschreibung\nmin-messages = 2\n"
      "[forecasting]\nphrases = forecasts\n[energy]\nphrases = energy\n", -1);
  g_autoptr (SgTaxonomy) tax = sg_taxonomy_load (path, &error);
  guint added = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (sg_taxonomy_get_n_tags (tax), ==, 3);
  g_assert_true (sg_topics_apply_taxonomy (f->store, tax, &added, &error));
  g_assert_no_error (error);
  /* procurement: 2 interactions + person + org; forecasting: 1 interaction + person + org. */
  g_assert_cmpuint (added, ==, 7);
  /* Again: nothing new, nothing lost. */
  g_assert_true (sg_topics_apply_taxonomy (f->store, tax, &added, &error));
  g_assert_cmpuint (added, ==, 0);
  {
    g_autoptr (SgTable) t = sg_query_topics (f->store, "ann@acme.de", 0, &error);
    int r = find_row (t, 0, "tender");

    g_assert_cmpint (r, >=, 0);
    g_assert_cmpstr (sg_table_get_text (t, (guint) r, 3), ==, "procurement");
  }
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);
  g_test_set_nonfatal_assertions ();

  g_test_add_func ("/topics/language", test_language);
  g_test_add_func ("/topics/stem", test_stem);
  g_test_add_func ("/topics/extract", test_extract);
  g_test_add_func ("/topics/taxonomy/errors", test_taxonomy_errors);
  g_test_add ("/topics/store/facts-history", Fixture, NULL, fixture_setup, test_facts_history, fixture_teardown);
  g_test_add ("/topics/store/query", Fixture, NULL, fixture_setup, test_topics_query, fixture_teardown);
  g_test_add ("/topics/store/taxonomy", Fixture, NULL, fixture_setup, test_taxonomy_apply, fixture_teardown);
  return g_test_run ();
}
