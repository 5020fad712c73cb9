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

/* Snowball in each of the four languages: inflections share a stem, and the stem is the
 * language's (German "Verträge" and "Vertrag" would not meet under the English stemmer). */
static void
test_stem_languages (void)
{
  static const struct { const char *lang, *a, *b; } same[] = {
    { "en", "negotiations", "negotiating" }, { "en", "contracts", "contract" },
    { "de", "Verhandlungen", "Verhandlung" }, { "de", "Angebote", "Angebot" },
    { "fr", "négociations", "négociation" }, { "fr", "contrats", "contrat" },
    { "es", "negociaciones", "negociación" }, { "es", "contratos", "contrato" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (same); i++) {
    g_autofree char *a = sg_topics_stem (same[i].a, same[i].lang);
    g_autofree char *b = sg_topics_stem (same[i].b, same[i].lang);

    g_assert_cmpstr (a, ==, b);
    g_assert_cmpuint (strlen (a), <, strlen (same[i].a));
  }
  {
    /* French stemming is not English stemming. */
    g_autofree char *fr = sg_topics_stem ("négociations", "fr");
    g_autofree char *en = sg_topics_stem ("négociations", "en");

    g_assert_cmpstr (fr, !=, en);
  }
}

/* Each language's stop words are no topics, and its content words are, stemmed in it. */
static void
test_stop_words_languages (void)
{
  static const struct { const char *lang, *text, *topic, *stops[4]; } cases[] = {
    { "en", "The contracts are ready and the contracts will be signed by them on Monday.",
      "contracts", { "the", "are", "and", "will" } },
    { "de", "Die Verträge sind fertig und die Verträge werden von uns am Montag unterschrieben.",
      "verträge", { "die", "sind", "und", "werden" } },
    { "fr", "Les contrats sont prêts et les contrats seront signés par nous lundi.",
      "contrats", { "les", "sont", "et", "par" } },
    { "es", "Los contratos están listos y los contratos serán firmados por nosotros el lunes.",
      "contratos", { "los", "están", "por", "nosotros" } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GPtrArray) t = sg_topics_extract (NULL, cases[i].text);
    g_autofree char *stem = sg_topics_stem (cases[i].topic, cases[i].lang);

    g_assert_cmpuint (t->len, >, 0);
    g_assert_cmpstr (((SgTopic *) t->pdata[0])->lang, ==, cases[i].lang);
    g_assert_true (has_topic (t, stem));
    for (guint k = 0; k < G_N_ELEMENTS (cases[i].stops); k++)
      for (guint j = 0; j < t->len; j++)
        g_assert_cmpstr (((SgTopic *) t->pdata[j])->phrase, !=, cases[i].stops[k]);
  }
}

/* The subject prefixes of calendar answers, the words of every day's mail and the letters of
 * identifiers ("INV-731538") are no topics:
 * the sample mailbox's top topics were "today's" and "tentative" (from "Tentative: Recording
 * of today's demo"). In each language, the subject is an answer to an invitation. */
static void
test_calendar_prefixes (void)
{
  static const struct { const char *subject, *text, *topic, *stops[4]; } cases[] = {
    { "Tentative: Recording of today's demo", "The recording of today's demo is attached.",
      "recording", { "tentative", "today's", "attached", "today" } },
    { "Accepted: Pricing workshop", "See you tomorrow at the pricing workshop, and again next week.",
      "pricing", { "accepted", "tomorrow", "next", "week" } },
    { "Mit Vorbehalt angenommen: Preisverhandlung", "Die Preisverhandlung ist morgen, die Unterlagen anbei.",
      "preisverhandlung", { "vorbehalt", "angenommen", "anbei", NULL } },
    { "Accepté : Négociation tarifaire", "La négociation tarifaire est demain, ci-joint le devis.",
      "négociation", { "accepté", "demain", NULL, NULL } },
    { "Aceptado: Negociación de precios", "La negociación de precios es mañana, adjunto la oferta.",
      "negociación", { "aceptado", "mañana", "adjunto", NULL } },
    /* Identifiers: the letters of an invoice or ticket number are no word. */
    { "Re: Invoice INV-731538", "Invoice INV-731538 is paid; ticket TCK-2291 is closed.",
      "invoice", { "inv", "tck", NULL, NULL } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GPtrArray) t = sg_topics_extract (cases[i].subject, cases[i].text);
    gboolean found = FALSE;

    for (guint j = 0; j < t->len; j++) {
      const char *phrase = ((SgTopic *) t->pdata[j])->phrase;

      found = found || g_str_has_prefix (phrase, cases[i].topic);
      g_auto (GStrv) words = g_strsplit (phrase, " ", -1);

      for (guint k = 0; k < G_N_ELEMENTS (cases[i].stops) && cases[i].stops[k]; k++)
        g_assert_false (g_strv_contains ((const char *const *) words, cases[i].stops[k]));
    }
    g_assert_true (found);
  }
}

/* A link's scheme ("http://", "https://") is no word: the audit found "http" as the most
 * frequent topic of a store of list mail. */
static void
test_link_scheme (void)
{
  g_autoptr (GPtrArray) t = sg_topics_extract (
      "Terms", "Your use of the groups is subject to http://docs.example.com/info/terms/ and "
      "https://example.org/x and file:///tmp/y; see http://a.example http://b.example\n");

  for (guint i = 0; i < t->len; i++) {
    const char *p = ((SgTopic *) t->pdata[i])->phrase;

    g_assert_cmpstr (p, !=, "http");
    g_assert_cmpstr (p, !=, "https");
    g_assert_cmpstr (p, !=, "file");
  }
  g_assert_true (has_topic (t, "term"));
}

/* The names of sender and recipients are no topics of a message (sg_message_parse). */
static void
test_names_no_topics (void)
{
  static const char mail[] =
    "From: Gerry Carr <gerry@acme.example>\r\nTo: Bob Smith <bob@ourco.example>\r\n"
    "Subject: Gerry's budget review\r\nMessage-ID: <n1@acme.example>\r\n\r\n"
    "Bob, the budget review is done. Bob should check the budget. Smith said budget.\r\n\r\ngerry\r\n";
  g_autoptr (SgIdentity) id = sg_identity_new ();
  g_autoptr (SgMessage) m = sg_message_parse (mail, strlen (mail), id, 0, NULL);

  g_assert_nonnull (m);
  for (guint i = 0; m && i < sg_message_get_n_topics (m); i++) {
    const char *p = sg_message_get_topic (m, i)->phrase;

    g_assert_null (strstr (p, "gerry"));
    g_assert_null (strstr (p, "bob"));
    g_assert_null (strstr (p, "smith"));
  }
  g_assert_true (m && sg_message_get_n_topics (m) > 0 &&
                 strcmp (sg_message_get_topic (m, 0)->stem, "budget") == 0);
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

/* A new store in @dir with @n messages of @mails imported from a Maildir (the user is
 * me@mycorp.com). */
static SgStore *
store_with_mails (const char *dir, const char *const *mails, guint n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgIdentity) identity = sg_identity_new ();
  g_autofree char *maildir = g_build_filename (dir, "Maildir", NULL);
  g_autofree char *path = g_build_filename (dir, "store.db", NULL);
  g_autoptr (SgImporter) imp = NULL;
  SgStore *store;

  sg_test_make_maildir (maildir);
  for (guint i = 0; i < n; i++) {
    g_autofree char *name = g_strdup_printf ("cur/%u.x:2,", i);

    g_free (sg_test_write_file (maildir, name, mails[i], -1));
  }
  store = sg_store_open (path, SG_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_true (sg_identity_add_address (identity, "me@mycorp.com", NULL));
  imp = sg_importer_new (store, identity);
  g_assert_true (sg_importer_import_path (imp, maildir, NULL, &error));
  g_assert_true (sg_importer_flush (imp, &error));
  g_assert_no_error (error);
  return store;
}

/* A number seen unlabelled in one signature and as "Mobile:" in another is one phone: `show`
 * lists it once, with its kind; another unlabelled number stays. */
static void
test_facts_phone_once (void)
{
  static const char labelled[] =
    "From: Bo Lind <bo@lind.se>\nTo: me@mycorp.com\nDate: Tue, 3 Mar 2026 10:00:00 +0100\n"
    "Subject: Offer\nMessage-ID: <p1@lind.se>\n\nThe offer is attached.\n\n"
    "Best regards,\nBo Lind\nBuyer\nLind AB\nMobile: +46 70 123 45 67\n";
  static const char unlabelled[] =
    "From: Bo Lind <bo@lind.se>\nTo: me@mycorp.com\nDate: Mon, 2 Feb 2026 10:00:00 +0100\n"
    "Subject: Visit\nMessage-ID: <p2@lind.se>\n\nSee you on Monday.\n\n"
    "Best regards,\nBo Lind\nBuyer\nLind AB\n+46 70 123 45 67\n+46 8 555 12 34\n";
  /* A number seen once unlabelled, and nothing else unlabelled: listed once all the same. */
  static const char office[] =
    "From: Cy Lind <cy@lind.se>\nTo: me@mycorp.com\nDate: Tue, 3 Mar 2026 11:00:00 +0100\n"
    "Subject: Offer\nMessage-ID: <p3@lind.se>\n\nThe offer is attached.\n\n"
    "Best regards,\nCy Lind\nBuyer\nLind AB\nOffice: +46 8 111 22 33\n";
  static const char office_unlabelled[] =
    "From: Cy Lind <cy@lind.se>\nTo: me@mycorp.com\nDate: Mon, 2 Feb 2026 11:00:00 +0100\n"
    "Subject: Visit\nMessage-ID: <p4@lind.se>\n\nSee you on Monday.\n\n"
    "Best regards,\nCy Lind\nBuyer\nLind AB\n+46 8 111 22 33\n";
  const char *const mails[] = { labelled, unlabelled, office, office_unlabelled };
  g_autoptr (SgTable) cy = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = sg_test_make_tmpdir ();
  g_autoptr (SgStore) store = store_with_mails (dir, mails, G_N_ELEMENTS (mails));
  g_autoptr (SgTable) current = NULL;
  g_autoptr (SgTable) all = NULL;
  guint phones = 0;
  int r;

  current = sg_query_person_facts (store, "bo@lind.se", FALSE, &error);
  all = sg_query_person_facts (store, "bo@lind.se", TRUE, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < sg_table_get_n_rows (current); i++)
    if (g_strcmp0 (sg_table_get_text (current, i, 0), "phone") == 0)
      phones++;
  g_assert_cmpuint (phones, ==, 2);
  r = find_row (current, 2, "+46701234567");
  g_assert_cmpint (r, >=, 0);
  g_assert_cmpstr (sg_table_get_text (current, (guint) r, 1), ==, "mobile");
  g_assert_cmpint (find_row (current, 2, "+4685551234"), >=, 0);
  /* The unlabelled sighting is history, not lost. */
  g_assert_cmpuint (sg_table_get_n_rows (all), ==, sg_table_get_n_rows (current) + 1);
  cy = sg_query_person_facts (store, "cy@lind.se", FALSE, &error);
  g_assert_no_error (error);
  phones = 0;
  for (guint i = 0; i < sg_table_get_n_rows (cy); i++)
    if (g_strcmp0 (sg_table_get_text (cy, i, 0), "phone") == 0)
      phones++;
  g_assert_cmpuint (phones, ==, 1);
  r = find_row (cy, 2, "+4681112233");
  g_assert_cmpint (r, >=, 0);
  g_assert_cmpstr (sg_table_get_text (cy, (guint) r, 1), ==, "office");
  sg_test_rm_rf (dir);
}

/* A message from @from signed with @org, for the organisation-name tests. */
static char *
signed_mail (const char *from, const char *name, const char *org, int day)
{
  return g_strdup_printf ("From: %s <%s>\nTo: me@mycorp.com\nDate: %d Mar 2026 10:00:00 +0100\n"
                          "Subject: Offer %d\nMessage-ID: <o%d.%s>\n\nThe offer is attached.\n\n"
                          "Best regards,\n%s\nPurchasing Manager\n%s\nPhone: +49 30 1234 %04d\n",
                          name, from, day, day, day, from, name, org, day);
}

/* Organisations still named after their domain take the name their people's signatures
 * give, seen twice and containing the domain's name; a name set by hand stays. */
static void
test_org_names (void)
{
  static const struct { const char *from, *name, *org; } mails[] = {
    { "ann@umbrella-pharma.com", "Ann Umber", "Umbrella Pharma Inc." },
    { "ann@umbrella-pharma.com", "Ann Umber", "Umbrella Pharma Inc." },
    { "bob@umbrella-pharma.com", "Bob Brella", "Umbrella Pharma Ltd" },
    { "cy@nordwind.de", "Cy Nord", "Nordwind Logistik GmbH" },       /* seen once */
    { "di@globex.com", "Di Glob", "Initech Holdings" },              /* not the domain's name */
    { "di@globex.com", "Di Glob", "Initech Holdings" },
    { "ed@hooli.com", "Ed Hoo", "Hooli XYZ" },                       /* named by hand */
    { "ed@hooli.com", "Ed Hoo", "Hooli XYZ" },
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = sg_test_make_tmpdir ();
  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SgStore) store = NULL;
  guint renamed = 99;
  gint64 pending;

  for (guint i = 0; i < G_N_ELEMENTS (mails); i++)
    g_ptr_array_add (texts, signed_mail (mails[i].from, mails[i].name, mails[i].org, (int) i + 1));
  store = store_with_mails (dir, (const char *const *) texts->pdata, texts->len);
  /* The name capture gave ("Hooli"), chosen by hand: it stays. */
  g_assert_true (sg_org_update (store, "hooli.com", "Hooli", NULL, NULL, &error));
  g_assert_no_error (error);

  pending = sg_sync_count_pending (store, &error);
  g_assert_true (sg_org_learn_names (store, &renamed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (renamed, ==, 1);
  /* The rename goes to the team like a name set by hand. */
  g_assert_cmpint (sg_sync_count_pending (store, &error), ==, pending + 1);
  {
    g_autofree char *umbrella = sg_query_describe (store, "umbrella-pharma.com", &error);
    g_autofree char *nordwind = sg_query_describe (store, "nordwind.de", &error);
    g_autofree char *globex = sg_query_describe (store, "globex.com", &error);
    g_autofree char *hooli = sg_query_describe (store, "hooli.com", &error);

    g_assert_no_error (error);
    /* Most messages wins between two people's two names. */
    g_assert_true (g_str_has_prefix (umbrella, "Umbrella Pharma Inc. "));
    g_assert_true (g_str_has_prefix (nordwind, "Nordwind "));
    g_assert_true (g_str_has_prefix (globex, "Globex "));
    g_assert_true (g_str_has_prefix (hooli, "Hooli "));
  }
  /* Once named, nothing changes at the next run. */
  g_assert_true (sg_org_learn_names (store, &renamed, &error));
  g_assert_cmpuint (renamed, ==, 0);
  /* A name set by hand after the rename stays too. */
  g_assert_true (sg_org_update (store, "umbrella-pharma.com", "Umbrella", NULL, NULL, &error));
  g_assert_true (sg_org_learn_names (store, &renamed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (renamed, ==, 0);
  sg_test_rm_rf (dir);
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
  g_test_add_func ("/topics/stem-languages", test_stem_languages);
  g_test_add_func ("/topics/stop-words-languages", test_stop_words_languages);
  g_test_add_func ("/topics/link-scheme", test_link_scheme);
  g_test_add_func ("/topics/calendar-prefixes", test_calendar_prefixes);
  g_test_add_func ("/topics/names-no-topics", test_names_no_topics);
  g_test_add_func ("/topics/extract", test_extract);
  g_test_add_func ("/topics/taxonomy/errors", test_taxonomy_errors);
  g_test_add_func ("/topics/store/org-names", test_org_names);
  g_test_add_func ("/topics/store/facts-phone-once", test_facts_phone_once);
  g_test_add ("/topics/store/facts-history", Fixture, NULL, fixture_setup, test_facts_history, fixture_teardown);
  g_test_add ("/topics/store/query", Fixture, NULL, fixture_setup, test_topics_query, fixture_teardown);
  g_test_add ("/topics/store/taxonomy", Fixture, NULL, fixture_setup, test_taxonomy_apply, fixture_teardown);
  return g_test_run ();
}
