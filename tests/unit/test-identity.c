/* test-identity.c: the identity rules of DESIGN.md section 3 (sg-identity.h). */
#include "config.h"

#include <locale.h>
#include <string.h>

#include "sg.h"
#include "test-util.h"

/* @s escaped and shortened for a failure message. */
static char *
shown (const char *s)
{
  g_autofree char *escaped = g_strescape (s, NULL);

  if (strlen (escaped) <= 60)
    return g_steal_pointer (&escaped);
  return g_strdup_printf ("%.40s… (%zu bytes)", escaped, strlen (s));
}

/* Asserts that @input normalises to @expected. */
static void
assert_normalizes (const char *input, const char *expected)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out = sg_address_normalize (input, &error);

  sg_assert_no_error (error);
  g_assert_cmpstr (out, ==, expected);
}

/* Asserts that @input is refused as an address, with an error that quotes it. */
static void
assert_rejected (const char *input)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out = sg_address_normalize (input, &error);

  if (out != NULL) {
    g_autofree char *in = shown (input);

    sg_test_failf ("“%s” was accepted as an address", in);
    return;
  }
  g_assert_error (error, SG_IDENTITY_ERROR, SG_IDENTITY_ERROR_BAD_ADDRESS);
  /* The user must see which address was refused (long ones are checked by prefix). */
  if (error != NULL && strlen (input) < 100)
    g_assert_nonnull (strstr (error->message, input));
}

static void
test_normalize_case (void)
{
  assert_normalizes ("Jane.Doe@ACME.Com", "jane.doe@acme.com");
  assert_normalizes ("JANE@EXAMPLE.ORG", "jane@example.org");
  /* Non-ASCII local parts fold too. */
  assert_normalizes ("ÉLODIE@Acme.fr", "élodie@acme.fr");
}

static void
test_normalize_brackets_space (void)
{
  assert_normalizes ("<jane@acme.com>", "jane@acme.com");
  assert_normalizes ("  <Jane@Acme.com>\t\n", "jane@acme.com");
  assert_normalizes ("  jane@acme.com  ", "jane@acme.com");
}

static void
test_normalize_trailing_dot (void)
{
  assert_normalizes ("jane@acme.com.", "jane@acme.com");
  assert_normalizes ("<jane@ACME.COM.>", "jane@acme.com");
}

static void
test_normalize_idna (void)
{
  /* Punycode becomes UTF-8, so one domain has one spelling in the store. */
  assert_normalizes ("jane@xn--mnchen-3ya.de", "jane@münchen.de");
  assert_normalizes ("jane@XN--MNCHEN-3YA.DE", "jane@münchen.de");
  assert_normalizes ("jane@MÜNCHEN.DE", "jane@münchen.de");
  assert_normalizes ("jane@mail.xn--mnchen-3ya.de", "jane@mail.münchen.de");
}

static void
test_normalize_idna_mixed_case_prefix (void)
{
  /* "Xn--" is the same ACE prefix as "xn--" (IDNA labels are case-insensitive); a domain
   * spelt with it must not be stored as a second, punycode spelling of münchen.de. */
  assert_normalizes ("jane@Xn--mnchen-3ya.de", "jane@münchen.de");
  assert_normalizes ("jane@xN--mnchen-3ya.de", "jane@münchen.de");
}

static void
test_normalize_rejects (void)
{
  g_autoptr (GString) longer = g_string_new (NULL);
  g_autoptr (GString) long_ok = g_string_new (NULL);

  assert_rejected ("");
  assert_rejected ("   ");
  assert_rejected ("jane");
  assert_rejected ("jane.acme.com");
  assert_rejected ("@acme.com");
  assert_rejected ("jane@");
  assert_rejected ("jane@.");
  assert_rejected ("<>");
  assert_rejected ("jane doe@acme.com");
  assert_rejected ("jane@ac me.com");
  assert_rejected ("jane@acme..com");
  assert_rejected ("jane@.acme.com");
  assert_rejected ("ja,ne@acme.com");
  assert_rejected ("<jane@acme.com");
  assert_rejected ("Jane Doe <jane@acme.com>");
  assert_rejected ("jane@[acme].com");
  assert_rejected ("ja\x01ne@acme.com");
  assert_rejected ("j\xff\xfe"
                   "@acme.com");
  assert_rejected ("jane@acme.c\xc3");

  /* Overlong: far past any real address. */
  for (int i = 0; i < 600; i++)
    g_string_append_c (longer, 'a');
  g_string_append (longer, "@acme.com");
  assert_rejected (longer->str);

  /* A long but sane address is still fine. */
  for (int i = 0; i < 64; i++)
    g_string_append_c (long_ok, 'b');
  g_string_append (long_ok, "@acme.com");
  {
    g_autofree char *out = sg_address_normalize (long_ok->str, NULL);

    g_assert_cmpstr (out, ==, long_ok->str);
  }
}

static void
test_normalize_rejects_del (void)
{
  /* DEL (0x7f) is a control character like the others below the space. */
  assert_rejected ("jane@acme\x7f.com");
  assert_rejected ("ja\x7fne@acme.com");
}

static void
test_normalize_rejects_two_addresses (void)
{
  /* Outlook separates addresses with ';'; two addresses glued together are not one
   * address with the local part "jane@acme.com;bob". */
  assert_rejected ("jane@acme.com;bob@acme.com");
  assert_rejected ("jane@acme.com,bob@acme.com");
}

static void
test_normalize_rejects_overlong_domain (void)
{
  g_autoptr (GString) address = g_string_new ("jane@");

  /* DNS names are at most 253 characters. */
  for (int i = 0; i < 5; i++) {
    for (int j = 0; j < 60; j++)
      g_string_append_c (address, 'a' + i);
    g_string_append_c (address, '.');
  }
  g_string_append (address, "com");
  assert_rejected (address->str);
}

static void
test_normalize_consistent (void)
{
  /* Brackets and surrounding space never change the verdict or the result: the same
   * address reaches the store whether a header had "<x>" or a config had "x". */
  static const char *const inputs[] = {
    "Jane.Doe@ACME.Com",
    "jane@acme.com.",
    "jane@xn--mnchen-3ya.de",
    "jane@Xn--mnchen-3ya.de",
    "jane@acme\x7f.com",
    "jane@acme.com;bob@acme.com",
    "jane@localhost",
    "a+tag@acme.com",
    "jane@-acme.com",
    "o'brien@acme.ie",
    "jane@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
    "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc."
    "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd."
    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.com",
  };

  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++) {
    g_autofree char *plain = sg_address_normalize (inputs[i], NULL);
    g_autofree char *bracketed_in = g_strdup_printf ("<%s>", inputs[i]);
    g_autofree char *spaced_in = g_strdup_printf (" %s ", inputs[i]);
    g_autofree char *bracketed = sg_address_normalize (bracketed_in, NULL);
    g_autofree char *spaced = sg_address_normalize (spaced_in, NULL);

    if (g_strcmp0 (plain, bracketed) != 0 || g_strcmp0 (plain, spaced) != 0) {
      g_autofree char *in = shown (inputs[i]);

      sg_test_failf ("“%s”: %s plain, %s in brackets, %s with spaces", in, plain ? "accepted" : "refused",
                     bracketed ? "accepted" : "refused", spaced ? "accepted" : "refused");
    }
  }
}

static void
test_address_domain (void)
{
  g_assert_cmpstr (sg_address_get_domain ("jane@acme.com"), ==, "acme.com");
  /* The last '@' separates the domain. */
  g_assert_cmpstr (sg_address_get_domain ("\"a@b\"@acme.com"), ==, "acme.com");
}

static void
test_registrable (void)
{
  static const struct {
    const char *domain;
    const char *registrable;
  } cases[] = {
    { "x.acme.co.uk", "acme.co.uk" },
    { "mail.acme.co.uk", "acme.co.uk" },
    { "acme.co.uk", "acme.co.uk" },
    { "co.uk", NULL },
    { "uk", NULL },
    { "com", NULL },
    { "a.b.example.com", "example.com" },
    { "example.com", "example.com" },
    { "mail.münchen.de", "münchen.de" },
    { "", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *reg = sg_domain_get_registrable (cases[i].domain);

    g_test_message ("%s -> %s", cases[i].domain, reg ? reg : "(null)");
    g_assert_cmpstr (reg, ==, cases[i].registrable);
  }
  g_assert_null (sg_domain_get_registrable (NULL));
}

static void
test_freemail (void)
{
  static const char *const freemail[] = {
    "126.com",       "163.com",       "aim.com",        "aol.com",     "bigpond.com",   "btinternet.com",
    "comcast.net",   "cox.net",       "earthlink.net",  "email.com",   "fastmail.com",  "fastmail.fm",
    "free.fr",       "freenet.de",    "gmail.com",      "gmx.at",      "gmx.ch",        "gmx.com",
    "gmx.de",        "gmx.net",       "googlemail.com", "hey.com",     "hotmail.co.uk", "hotmail.com",
    "hotmail.de",    "hotmail.fr",    "hushmail.com",   "icloud.com",  "laposte.net",   "libero.it",
    "live.com",      "live.de",       "mac.com",        "mail.com",    "mail.ru",       "me.com",
    "msn.com",       "naver.com",     "orange.fr",      "outlook.com", "outlook.de",    "posteo.de",
    "proton.me",     "protonmail.ch", "protonmail.com", "qq.com",      "rambler.ru",    "rediffmail.com",
    "sbcglobal.net", "seznam.cz",     "sina.com",       "t-online.de", "tutanota.com",  "uol.com.br",
    "verizon.net",   "wanadoo.fr",    "web.de",         "yahoo.co.jp", "yahoo.co.uk",   "yahoo.com",
    "yahoo.de",      "yahoo.fr",      "yandex.com",     "yandex.ru",   "ymail.com",     "zoho.com",
  };
  static const char *const business[] = {
    "acme.com", "acme.co.uk", "gmail.acme.com", "example.org", "mailchimp.com", "yahoo.net", "",
  };

  for (guint i = 0; i < G_N_ELEMENTS (freemail); i++) {
    if (!sg_domain_is_freemail (freemail[i]))
      sg_test_failf ("%s is not recognised as freemail", freemail[i]);
  }
  for (guint i = 0; i < G_N_ELEMENTS (business); i++) {
    if (sg_domain_is_freemail (business[i]))
      sg_test_failf ("%s is wrongly taken for freemail", business[i]);
  }
  g_assert_false (sg_domain_is_freemail (NULL));
}

static void
assert_kind (const char *address, SgAddressKind expected)
{
  SgAddressKind kind = sg_address_classify (address);

  if (kind != expected)
    sg_test_failf ("%s is classified %s, expected %s", address, sg_address_kind_to_string (kind),
                   sg_address_kind_to_string (expected));
}

static void
test_classify_noreply (void)
{
  /* Every machine sender the library knows by name must be found (the lookup is a binary
   * search, so this also catches a table that is not sorted). */
  static const char *const machines[] = {
    "alert",        "alerts",        "auto-reply",   "autoreply",  "bounce",     "bounces",
    "daemon",       "do-not-reply",  "do_not_reply", "donotreply", "mailer",     "mailer-daemon",
    "maildaemon",   "newsletter",    "news",         "no-reply",   "no_reply",   "noreply",
    "notification", "notifications", "notifier",     "notify",     "postmaster", "root",
  };

  for (guint i = 0; i < G_N_ELEMENTS (machines); i++) {
    g_autofree char *address = g_strconcat (machines[i], "@acme.com", NULL);

    assert_kind (address, SG_ADDRESS_NOREPLY);
  }
  /* Bounces come from MAILER-DAEMON@: a machine, not a person "Mail Delivery System". */
  {
    g_autofree char *daemon = sg_address_normalize ("MAILER-DAEMON@mx.acme.com", NULL);

    assert_kind (daemon, SG_ADDRESS_NOREPLY);
  }
  assert_kind ("noreply-billing@acme.com", SG_ADDRESS_NOREPLY);
  assert_kind ("no-reply.orders@shop.com", SG_ADDRESS_NOREPLY);
  assert_kind ("bounce-12345@mail.shop.com", SG_ADDRESS_NOREPLY);
  assert_kind ("list-bounces@lists.example.org", SG_ADDRESS_NOREPLY);
  assert_kind ("msprvs1=abc=bounces+123@acme.com", SG_ADDRESS_NOREPLY);
  assert_kind ("shop-noreply@acme.com", SG_ADDRESS_NOREPLY);
}

static void
test_classify_role (void)
{
  static const char *const roles[] = {
    "abuse",     "accounting",    "accounts", "purchasing", "einkauf", "buchhaltung", "accounts-payable",
    "admin",     "administrator", "billing",
    "careers",   "contact",       "customerservice",
    "enquiries", "feedback",      "hello",
    "help",      "helpdesk",      "hostmaster",
    "hr",        "info",          "inquiries",
    "invoice",   "invoices",      "jobs",
    "legal",     "marketing",     "office",
    "orders",    "press",         "privacy",
    "reception", "recruiting",    "sales",
    "security",  "service",       "support",
    "team",      "webmaster",
  };

  for (guint i = 0; i < G_N_ELEMENTS (roles); i++) {
    g_autofree char *address = g_strconcat (roles[i], "@acme.com", NULL);

    assert_kind (address, SG_ADDRESS_ROLE);
  }
}

static void
test_classify_list (void)
{
  assert_kind ("announce-request@lists.example.org", SG_ADDRESS_LIST);
  assert_kind ("announce-owner@lists.example.org", SG_ADDRESS_LIST);
  assert_kind ("owner-announce@lists.example.org", SG_ADDRESS_LIST);
  assert_kind ("announce-subscribe@lists.example.org", SG_ADDRESS_LIST);
  assert_kind ("announce-unsubscribe@lists.example.org", SG_ADDRESS_LIST);
}

static void
test_classify_personal (void)
{
  assert_kind ("jane.doe@acme.com", SG_ADDRESS_PERSONAL);
  assert_kind ("j@acme.com", SG_ADDRESS_PERSONAL);
  /* Names that merely contain a role word are people. */
  assert_kind ("informatics.prof@uni.edu", SG_ADDRESS_PERSONAL);
  assert_kind ("salesforce.jane@acme.com", SG_ADDRESS_PERSONAL);
  assert_kind ("rooted@acme.com", SG_ADDRESS_PERSONAL);
  assert_kind ("newton@acme.com", SG_ADDRESS_PERSONAL);
  g_assert_cmpstr (sg_address_kind_to_string (SG_ADDRESS_PERSONAL), ==, "personal");
  g_assert_cmpstr (sg_address_kind_to_string (SG_ADDRESS_ROLE), ==, "role");
  g_assert_cmpstr (sg_address_kind_to_string (SG_ADDRESS_NOREPLY), ==, "noreply");
  g_assert_cmpstr (sg_address_kind_to_string (SG_ADDRESS_LIST), ==, "list");
}

static void
assert_clean (const char *input, const char *expected)
{
  g_autofree char *out = sg_name_clean (input);

  g_assert_cmpstr (out, ==, expected);
}

static void
test_name_clean (void)
{
  assert_clean ("Doe, Jane", "Jane Doe");
  assert_clean ("  Doe ,  Jane  ", "Jane Doe");
  assert_clean ("\"Jane Doe\"", "Jane Doe");
  assert_clean ("'Jane Doe'", "Jane Doe");
  assert_clean ("“Jane Doe”", "Jane Doe");
  assert_clean ("\"Doe, Jane\"", "Jane Doe");
  assert_clean ("Conan O'Brien", "Conan O'Brien");
  assert_clean ("Miles O’Brien", "Miles O’Brien");
  assert_clean ("  Jane \t  Doe \r\n", "Jane Doe");
  assert_clean ("Jane Doe -", "Jane Doe");
  /* Companies and titles are not "Last, First". */
  assert_clean ("Doe Smith, Jane", "Doe Smith, Jane");
  assert_clean ("Doe, Jane, Dr", "Doe, Jane, Dr");
  assert_clean ("Acme, Ltd", "Acme, Ltd");
  assert_clean ("Acme, LLC", "Acme, LLC");
  /* Nothing usable left. */
  assert_clean (NULL, NULL);
  assert_clean ("", NULL);
  assert_clean ("   ", NULL);
  assert_clean ("\"\"", NULL);
  assert_clean ("' '", NULL);
  assert_clean (" , ", NULL);
}

static void
test_name_clean_decorations (void)
{
  /* What follows the name is affiliation or channel, not the name. */
  assert_clean ("Brandon Clark (LoireSupply)", "Brandon Clark");
  assert_clean ("\"Monika Zimmermann | Crest Partners\"", "Monika Zimmermann");
  assert_clean ("Jane Doe via LinkedIn", "Jane Doe");
  assert_clean ("Jane Doe [Acme]", "Jane Doe");
  /* Surnames with particles are turned around too. */
  assert_clean ("van der Meer, Sophie", "Sophie van der Meer");
  assert_clean ("de Wit, Johannes", "Johannes de Wit");
  /* A surname with an apostrophe at its end keeps it. */
  assert_clean ("Michiel Buddingh'", "Michiel Buddingh'");
}

static void
test_name_clean_company_abbrev (void)
{
  /* "Acme, Inc." is a company: neither turned around nor shortened. */
  assert_clean ("Acme, Inc.", "Acme, Inc.");
  assert_clean ("\"Acme, Inc.\"", "Acme, Inc.");
}

static void
test_name_clean_control (void)
{
  static const char *const inputs[] = {
    "Jane\x07 Doe",
    "Jane\x01\x02"
    "Doe",
    "\x1b[31mJane Doe\x1b[0m",
    "Jane\x7f Doe",
    "Jane\u200b"
    "Doe",
    "J\xff"
    "ane Doe",
  };

  assert_clean ("Jane\x07 Doe", "Jane Doe");
  assert_clean ("Jane\x01\x02"
                "Doe",
                "Jane Doe");
  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++) {
    g_autofree char *out = sg_name_clean (inputs[i]);

    g_assert_nonnull (out);
    if (out == NULL)
      continue;
    g_assert_true (g_utf8_validate (out, -1, NULL));
    for (const char *p = out; *p; p = g_utf8_next_char (p)) {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c) || c == 0x200B)
        sg_test_failf ("control character U+%04X left in “%s”", c, out);
    }
  }
}

static void
test_name_clean_long (void)
{
  g_autoptr (GString) ascii = g_string_new (NULL);
  g_autoptr (GString) wide = g_string_new (NULL);
  g_autofree char *a = NULL;
  g_autofree char *w = NULL;

  for (int i = 0; i < 2000; i++)
    g_string_append (ascii, i % 7 == 6 ? " " : "a");
  for (int i = 0; i < 2000; i++)
    g_string_append (wide, "é");
  a = sg_name_clean (ascii->str);
  w = sg_name_clean (wide->str);
  g_assert_nonnull (a);
  g_assert_nonnull (w);
  if (a == NULL || w == NULL)
    return;
  /* Capped, and the cut never splits a character. */
  g_assert_cmpint (g_utf8_strlen (a, -1), <=, 200);
  g_assert_cmpint (g_utf8_strlen (a, -1), >=, 100);
  g_assert_true (g_utf8_validate (w, -1, NULL));
  g_assert_cmpint (g_utf8_strlen (w, -1), <=, 200);
  g_assert_cmpint (g_utf8_strlen (w, -1), >=, 100);
  g_assert_true (g_str_has_prefix (wide->str, w));
}

static void
test_name_score (void)
{
  const char *addr = "jane.doe@acme.com";
  int full = sg_name_score ("Jane Doe", addr);
  int single = sg_name_score ("Jane", addr);
  int local = sg_name_score ("jane.doe", addr);
  int address = sg_name_score ("jane.doe@acme.com", addr);

  g_assert_cmpint (full, ==, 3);
  g_assert_cmpint (single, ==, 2);
  g_assert_cmpint (local, ==, 1);
  g_assert_cmpint (address, ==, 0);
  /* The order the importer relies on to keep the best name. */
  g_assert_cmpint (full, >, single);
  g_assert_cmpint (single, >, local);
  g_assert_cmpint (local, >, address);

  g_assert_cmpint (sg_name_score ("JANE.DOE", addr), ==, 1);
  g_assert_cmpint (sg_name_score ("Jane van der Berg", addr), ==, 3);
  g_assert_cmpint (sg_name_score ("Jörg Müller", "j@acme.de"), ==, 3);
  g_assert_cmpint (sg_name_score ("12345", addr), ==, 0);
  g_assert_cmpint (sg_name_score ("", addr), ==, 0);
  g_assert_cmpint (sg_name_score (NULL, addr), ==, 0);
  g_assert_cmpint (sg_name_score ("Jane Doe", NULL), ==, 3);
  /* A shouted or decorated name loses to the plain one. */
  g_assert_cmpint (sg_name_score ("Joseph MORRIS", addr), <, sg_name_score ("Joseph Morris", addr));
  g_assert_cmpint (sg_name_score ("Jane Doe 2", addr), <, full);
}

static void
test_self_internal (void)
{
  g_autoptr (SgIdentity) id = sg_identity_new ();
  g_autoptr (GError) error = NULL;
  const char *const *addresses;

  g_assert_cmpstrv (sg_identity_get_addresses (id), ((const char *const[]){ NULL }));
  g_assert_true (sg_identity_add_address (id, "Me@MyCorp.com", &error));
  sg_assert_no_error (error);
  g_assert_true (sg_identity_add_address (id, "<me@mycorp.com>", &error));
  sg_assert_no_error (error);
  g_assert_true (sg_identity_add_address (id, "me.private@gmail.com", &error));
  sg_assert_no_error (error);
  addresses = sg_identity_get_addresses (id);
  /* Normalised, and the same address only once. */
  g_assert_cmpstrv (addresses, ((const char *const[]){ "me@mycorp.com", "me.private@gmail.com", NULL }));

  g_assert_true (sg_identity_is_self (id, "me@mycorp.com"));
  g_assert_true (sg_identity_is_self (id, "me.private@gmail.com"));
  g_assert_false (sg_identity_is_self (id, "bob@mycorp.com"));
  g_assert_false (sg_identity_is_self (id, "me@mycorp.com.evil.org"));

  /* Without internal domains only the user's own addresses are internal. */
  g_assert_true (sg_identity_is_internal (id, "me@mycorp.com"));
  g_assert_false (sg_identity_is_internal (id, "bob@mycorp.com"));

  g_assert_true (sg_identity_add_internal_domain (id, "MyCorp.COM.", &error));
  sg_assert_no_error (error);
  g_assert_true (sg_identity_add_internal_domain (id, "@subsidiary.co.uk", &error));
  sg_assert_no_error (error);
  g_assert_true (sg_identity_is_internal (id, "bob@mycorp.com"));
  g_assert_true (sg_identity_is_internal (id, "bob@eu.mycorp.com"));
  g_assert_true (sg_identity_is_internal (id, "bob@a.b.mycorp.com"));
  g_assert_true (sg_identity_is_internal (id, "bob@subsidiary.co.uk"));
  g_assert_false (sg_identity_is_internal (id, "bob@notmycorp.com"));
  g_assert_false (sg_identity_is_internal (id, "bob@mycorp.com.evil.org"));
  g_assert_false (sg_identity_is_internal (id, "bob@mycorp.co"));
  g_assert_false (sg_identity_is_internal (id, "bob@co.uk"));
  /* The user's own freemail address is internal; other users of the provider are not. */
  g_assert_true (sg_identity_is_internal (id, "me.private@gmail.com"));
  g_assert_false (sg_identity_is_internal (id, "someone@gmail.com"));
}

static void
test_identity_errors (void)
{
  g_autoptr (SgIdentity) id = sg_identity_new ();
  static const char *const bad_domains[] = { "localhost", "", "a b.com", "acme..com", "jane@acme.com", "." };

  {
    g_autoptr (GError) error = NULL;

    g_assert_false (sg_identity_add_address (id, "not an address", &error));
    g_assert_error (error, SG_IDENTITY_ERROR, SG_IDENTITY_ERROR_BAD_ADDRESS);
    if (error != NULL)
      g_assert_nonnull (strstr (error->message, "not an address"));
    g_assert_cmpstrv (sg_identity_get_addresses (id), ((const char *const[]){ NULL }));
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad_domains); i++) {
    g_autoptr (GError) error = NULL;

    if (sg_identity_add_internal_domain (id, bad_domains[i], &error)) {
      sg_test_failf ("“%s” was accepted as an internal domain", bad_domains[i]);
      continue;
    }
    g_assert_error (error, SG_IDENTITY_ERROR, SG_IDENTITY_ERROR_BAD_DOMAIN);
    if (error != NULL)
      g_assert_nonnull (strstr (error->message, bad_domains[i]));
  }
  /* A refused domain makes nothing internal. */
  g_assert_false (sg_identity_is_internal (id, "x@localhost"));
}

static void
test_role (void)
{
  g_autoptr (SgIdentity) id = sg_identity_new ();
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (sg_identity_get_role (id), ==, SG_USER_ROLE_ANALYST);
  g_assert_true (sg_identity_set_role_from_string (id, "manager", &error));
  sg_assert_no_error (error);
  g_assert_cmpint (sg_identity_get_role (id), ==, SG_USER_ROLE_MANAGER);
  g_assert_true (sg_identity_set_role_from_string (id, "account-manager", &error));
  sg_assert_no_error (error);
  g_assert_cmpint (sg_identity_get_role (id), ==, SG_USER_ROLE_ACCOUNT_MANAGER);
  g_assert_true (sg_identity_set_role_from_string (id, "analyst", &error));
  sg_assert_no_error (error);
  g_assert_cmpint (sg_identity_get_role (id), ==, SG_USER_ROLE_ANALYST);
  g_assert_true (sg_identity_set_role_from_string (id, "manager", &error));
  sg_assert_no_error (error);

  for (SgUserRole r = SG_USER_ROLE_ANALYST; r <= SG_USER_ROLE_MANAGER; r++) {
    g_autoptr (SgIdentity) other = sg_identity_new ();

    g_assert_true (sg_identity_set_role_from_string (other, sg_user_role_to_string (r), NULL));
    g_assert_cmpint (sg_identity_get_role (other), ==, r);
  }

  g_assert_false (sg_identity_set_role_from_string (id, "boss", &error));
  g_assert_error (error, SG_IDENTITY_ERROR, SG_IDENTITY_ERROR_BAD_ROLE);
  if (error != NULL)
    g_assert_nonnull (strstr (error->message, "boss"));
  g_clear_error (&error);
  g_assert_false (sg_identity_set_role_from_string (id, "Manager ", &error));
  g_assert_error (error, SG_IDENTITY_ERROR, SG_IDENTITY_ERROR_BAD_ROLE);
  g_clear_error (&error);
  g_assert_false (sg_identity_set_role_from_string (id, NULL, &error));
  g_assert_error (error, SG_IDENTITY_ERROR, SG_IDENTITY_ERROR_BAD_ROLE);
  /* A refused role leaves the previous one. */
  g_assert_cmpint (sg_identity_get_role (id), ==, SG_USER_ROLE_MANAGER);
}

static void
test_name_and_ref (void)
{
  SgIdentity *id = sg_identity_new ();

  g_assert_null (sg_identity_get_name (id));
  sg_identity_set_name (id, "Jane Doe");
  g_assert_cmpstr (sg_identity_get_name (id), ==, "Jane Doe");
  g_assert_true (sg_identity_ref (id) == id);
  sg_identity_unref (id);
  /* Still alive after one unref of two references. */
  g_assert_cmpstr (sg_identity_get_name (id), ==, "Jane Doe");
  sg_identity_set_name (id, NULL);
  g_assert_null (sg_identity_get_name (id));
  sg_identity_unref (id);
  sg_identity_unref (NULL);
}

static void
test_org_name (void)
{
  static const struct {
    const char *domain;
    const char *name;
  } cases[] = {
    { "acme-labs.co.uk", "Acme Labs" },
    { "acme.com", "Acme" },
    { "big_corp.de", "Big Corp" },
    { "münchen.de", "München" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *name = sg_org_name_from_domain (cases[i].domain);

    g_assert_cmpstr (name, ==, cases[i].name);
  }
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);
  /* A failed check fails its test case, and the other cases still run. */
  g_test_set_nonfatal_assertions ();

  g_test_add_func ("/identity/normalize/case", test_normalize_case);
  g_test_add_func ("/identity/normalize/brackets-space", test_normalize_brackets_space);
  g_test_add_func ("/identity/normalize/trailing-dot", test_normalize_trailing_dot);
  g_test_add_func ("/identity/normalize/idna", test_normalize_idna);
  g_test_add_func ("/identity/normalize/idna-mixed-case-prefix", test_normalize_idna_mixed_case_prefix);
  g_test_add_func ("/identity/normalize/rejects", test_normalize_rejects);
  g_test_add_func ("/identity/normalize/rejects-del", test_normalize_rejects_del);
  g_test_add_func ("/identity/normalize/rejects-two-addresses", test_normalize_rejects_two_addresses);
  g_test_add_func ("/identity/normalize/rejects-overlong-domain", test_normalize_rejects_overlong_domain);
  g_test_add_func ("/identity/normalize/consistent", test_normalize_consistent);
  g_test_add_func ("/identity/address/domain", test_address_domain);
  g_test_add_func ("/identity/domain/registrable", test_registrable);
  g_test_add_func ("/identity/domain/freemail", test_freemail);
  g_test_add_func ("/identity/classify/noreply", test_classify_noreply);
  g_test_add_func ("/identity/classify/role", test_classify_role);
  g_test_add_func ("/identity/classify/list", test_classify_list);
  g_test_add_func ("/identity/classify/personal", test_classify_personal);
  g_test_add_func ("/identity/name/clean", test_name_clean);
  g_test_add_func ("/identity/name/clean-decorations", test_name_clean_decorations);
  g_test_add_func ("/identity/name/clean-company-abbrev", test_name_clean_company_abbrev);
  g_test_add_func ("/identity/name/clean-control", test_name_clean_control);
  g_test_add_func ("/identity/name/clean-long", test_name_clean_long);
  g_test_add_func ("/identity/name/score", test_name_score);
  g_test_add_func ("/identity/self-internal", test_self_internal);
  g_test_add_func ("/identity/errors", test_identity_errors);
  g_test_add_func ("/identity/role", test_role);
  g_test_add_func ("/identity/name-and-ref", test_name_and_ref);
  g_test_add_func ("/identity/org-name", test_org_name);

  return g_test_run ();
}
