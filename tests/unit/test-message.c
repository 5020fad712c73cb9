/* test-message.c: what one message says about who talked to whom, and when (sg-message.h). */
#include "config.h"

#include <locale.h>

#include "sg.h"
#include "test-util.h"

/* 2026-03-19T14:00:00Z */
#define MARCH_19_1400 G_GINT64_CONSTANT (1773928800)
/* A delivery time (2026-01-01T00:00:00Z) that stands in for a missing Date. */
#define FALLBACK G_GINT64_CONSTANT (1767225600)

static SgIdentity *identity;

static SgMessage *
parse (const char *text, GError **error)
{
  return sg_message_parse (text, strlen (text), identity, FALLBACK, error);
}

/* Parses @text, which must be a message. */
static SgMessage *
parse_ok (const char *text)
{
  g_autoptr (GError) error = NULL;
  SgMessage *m = parse (text, &error);

  sg_assert_no_error (error);
  g_assert_nonnull (m);
  return m;
}

/* The participant with @address and @role, or NULL. */
static const SgParticipant *
find (const SgMessage *m, const char *address, SgHeaderRole role)
{
  for (guint i = 0; i < sg_message_get_n_participants (m); i++) {
    const SgParticipant *p = sg_message_get_participant (m, i);

    if (g_strcmp0 (p->address, address) == 0 && p->role == role)
      return p;
  }
  return NULL;
}

static guint
count_address (const SgMessage *m, const char *address)
{
  guint n = 0;

  for (guint i = 0; i < sg_message_get_n_participants (m); i++)
    if (g_strcmp0 (sg_message_get_participant (m, i)->address, address) == 0)
      n++;
  return n;
}

static gboolean
has_warning (const SgMessage *m, const char *needle)
{
  for (const char *const *w = sg_message_get_warnings (m); *w; w++)
    if (strstr (*w, needle) != NULL)
      return TRUE;
  return FALSE;
}

static void
test_rfc2047_names (void)
{
  g_autoptr (SgMessage) m = parse_ok ("From: =?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= <joerg@acme.de>\r\n"
                                      "To: =?ISO-8859-1?Q?Fran=E7ois_Dupont?= <Francois@Acme.FR>,\r\n"
                                      " =?utf-8?q?=22M=C3=BCller=2C_Anna=22?= <anna@acme.de>\r\n"
                                      "Subject: names\r\n"
                                      "Message-ID: <names@acme.de>\r\n"
                                      "\r\n"
                                      "Hallo\r\n");
  const SgParticipant *p;

  if (m == NULL)
    return;
  p = find (m, "joerg@acme.de", SG_HEADER_FROM);
  g_assert_nonnull (p);
  if (p != NULL)
    g_assert_cmpstr (p->name, ==, "Jörg Müller");
  p = find (m, "francois@acme.fr", SG_HEADER_TO);
  g_assert_nonnull (p);
  if (p != NULL)
    g_assert_cmpstr (p->name, ==, "François Dupont");
  /* Encoded "Last, First" in quotes is cleaned like a plain one. */
  p = find (m, "anna@acme.de", SG_HEADER_TO);
  g_assert_nonnull (p);
  if (p != NULL)
    g_assert_cmpstr (p->name, ==, "Anna Müller");
}

static void
test_groups (void)
{
  g_autoptr (SgMessage) m = parse_ok ("From: Jane Doe <jane@acme.com>\n"
                                      "To: Team: a@x.com, Bob <b@y.com>;, carol@z.com\n"
                                      "Cc: undisclosed-recipients:;\n"
                                      "Message-ID: <group@acme.com>\n"
                                      "\n"
                                      "hi\n");

  if (m == NULL)
    return;
  g_assert_nonnull (find (m, "a@x.com", SG_HEADER_TO));
  g_assert_nonnull (find (m, "b@y.com", SG_HEADER_TO));
  g_assert_nonnull (find (m, "carol@z.com", SG_HEADER_TO));
  g_assert_cmpuint (sg_message_get_n_participants (m), ==, 4);
}

static void
test_roles (void)
{
  static const struct {
    const char *address;
    SgHeaderRole role;
    const char *name;
  } expected[] = {
    { "jane@acme.com", SG_HEADER_FROM, "from" },
    { "assistant@acme.com", SG_HEADER_SENDER, "sender" },
    { "replies@acme.com", SG_HEADER_REPLY_TO, "reply-to" },
    { "bob@client.com", SG_HEADER_TO, "to" },
    { "carol@client.com", SG_HEADER_CC, "cc" },
    { "dave@client.com", SG_HEADER_BCC, "bcc" },
  };
  g_autoptr (SgMessage) m = parse_ok ("From: Jane <jane@acme.com>\n"
                                      "Sender: assistant@acme.com\n"
                                      "Reply-To: replies@acme.com\n"
                                      "To: bob@client.com\n"
                                      "Cc: carol@client.com\n"
                                      "Bcc: dave@client.com\n"
                                      "Message-ID: <roles@acme.com>\n"
                                      "\n"
                                      "hi\n");

  if (m == NULL)
    return;
  g_assert_cmpuint (sg_message_get_n_participants (m), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++) {
    if (find (m, expected[i].address, expected[i].role) == NULL)
      sg_test_failf ("%s is not a %s participant", expected[i].address, expected[i].name);
    g_assert_cmpstr (sg_header_role_to_string (expected[i].role), ==, expected[i].name);
  }
}

static void
test_dedup_per_role (void)
{
  g_autoptr (SgMessage) m = parse_ok ("From: jane@acme.com\n"
                                      "To: bob@client.com, Bob <BOB@Client.com>, <bob@client.com.>\n"
                                      "Cc: bob@client.com, bob@client.com\n"
                                      "Message-ID: <dedup@acme.com>\n"
                                      "\n"
                                      "hi\n");

  if (m == NULL)
    return;
  /* Once as To, once as Cc: the role is part of the fact. */
  g_assert_cmpuint (count_address (m, "bob@client.com"), ==, 2);
  g_assert_nonnull (find (m, "bob@client.com", SG_HEADER_TO));
  g_assert_nonnull (find (m, "bob@client.com", SG_HEADER_CC));
  g_assert_cmpuint (sg_message_get_n_participants (m), ==, 3);
}

static void
test_direction (void)
{
  g_autoptr (SgMessage) out = parse_ok ("From: Me <Me@MyCorp.COM>\n"
                                        "To: bob@client.com\n"
                                        "Message-ID: <out@mycorp.com>\n\nhi\n");
  g_autoptr (SgMessage) in = parse_ok ("From: bob@client.com\n"
                                       "To: me@mycorp.com\n"
                                       "Message-ID: <in@client.com>\n\nhi\n");
  g_autoptr (SgMessage) alias = parse_ok ("From: me.private@gmail.com\n"
                                          "To: bob@client.com\n"
                                          "Message-ID: <alias@gmail.com>\n\nhi\n");
  g_autoptr (SgMessage) colleague = parse_ok ("From: alice@mycorp.com\n"
                                              "To: bob@client.com\n"
                                              "Cc: me@mycorp.com\n"
                                              "Message-ID: <colleague@mycorp.com>\n\nhi\n");
  const SgParticipant *p;

  if (out == NULL || in == NULL || alias == NULL || colleague == NULL)
    return;
  g_assert_cmpint (sg_message_get_direction (out), ==, SG_DIRECTION_OUT);
  g_assert_cmpstr (sg_direction_to_string (sg_message_get_direction (out)), ==, "out");
  p = find (out, "me@mycorp.com", SG_HEADER_FROM);
  g_assert_nonnull (p);
  if (p != NULL)
    g_assert_true (p->self && p->internal);
  p = find (out, "bob@client.com", SG_HEADER_TO);
  g_assert_nonnull (p);
  if (p != NULL)
    g_assert_false (p->self || p->internal);

  g_assert_cmpint (sg_message_get_direction (in), ==, SG_DIRECTION_IN);
  g_assert_cmpstr (sg_direction_to_string (sg_message_get_direction (in)), ==, "in");
  /* Any of the user's addresses counts. */
  g_assert_cmpint (sg_message_get_direction (alias), ==, SG_DIRECTION_OUT);
  /* A colleague's mail with the user in Cc is not the user's. */
  g_assert_cmpint (sg_message_get_direction (colleague), ==, SG_DIRECTION_IN);
}

static void
test_internal (void)
{
  g_autoptr (SgMessage) internal = parse_ok ("From: me@mycorp.com\n"
                                             "To: bob@mycorp.com\n"
                                             "Cc: alice@eu.mycorp.com\n"
                                             "Message-ID: <internal@mycorp.com>\n\nhi\n");
  g_autoptr (SgMessage) external = parse_ok ("From: me@mycorp.com\n"
                                             "To: bob@mycorp.com\n"
                                             "Cc: alice@eu.mycorp.com, client@acme.com\n"
                                             "Message-ID: <external@mycorp.com>\n\nhi\n");
  g_autoptr (SgMessage) lookalike = parse_ok ("From: me@mycorp.com\n"
                                              "To: bob@mycorp.com.evil.org\n"
                                              "Message-ID: <lookalike@mycorp.com>\n\nhi\n");

  if (internal == NULL || external == NULL || lookalike == NULL)
    return;
  g_assert_true (sg_message_is_internal (internal));
  g_assert_false (sg_message_is_internal (external));
  g_assert_false (sg_message_is_internal (lookalike));
}

static void
test_bulk (void)
{
  static const struct {
    const char *header;
    gboolean bulk;
  } cases[] = {
    { "", FALSE },
    { "List-Id: Dev list <dev.lists.example.org>\n", TRUE },
    { "List-Unsubscribe: <mailto:leave@lists.example.org>\n", TRUE },
    { "Precedence: bulk\n", TRUE },
    { "Precedence: Bulk \n", TRUE },
    { "Precedence: list\n", TRUE },
    { "Precedence: junk\n", TRUE },
    { "Precedence: first-class\n", FALSE },
    { "Auto-Submitted: auto-replied\n", TRUE },
    { "Auto-Submitted: auto-generated\n", TRUE },
    { "Auto-Submitted: no\n", FALSE },
    { "Auto-Submitted: No\n", FALSE },
    { "X-Autoreply: yes\n", TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *text = g_strdup_printf ("From: bob@client.com\n"
                                             "To: me@mycorp.com\n"
                                             "%s"
                                             "Message-ID: <bulk%u@client.com>\n\nhi\n",
                                             cases[i].header, i);
    g_autoptr (SgMessage) m = parse_ok (text);

    if (m != NULL && sg_message_is_bulk (m) != cases[i].bulk)
      sg_test_failf ("header %u (%s) gives bulk %d", i, cases[i].header, sg_message_is_bulk (m));
  }
}

static void
test_list_post (void)
{
  g_autoptr (SgMessage) m = parse_ok ("From: Bob <bob@client.com>\n"
                                      "To: Dev list <Dev@Lists.Example.org>\n"
                                      "List-Id: Dev list <dev.lists.example.org>\n"
                                      "List-Post: <mailto:dev@lists.example.org?subject=hi>\n"
                                      "Message-ID: <post@client.com>\n\nhi\n");
  const SgParticipant *p;

  if (m == NULL)
    return;
  g_assert_true (sg_message_is_bulk (m));
  p = find (m, "dev@lists.example.org", SG_HEADER_TO);
  g_assert_nonnull (p);
  if (p != NULL)
    g_assert_cmpint (p->kind, ==, SG_ADDRESS_LIST);
  p = find (m, "bob@client.com", SG_HEADER_FROM);
  g_assert_nonnull (p);
  if (p != NULL)
    g_assert_cmpint (p->kind, ==, SG_ADDRESS_PERSONAL);
}

static void
test_kinds (void)
{
  g_autoptr (SgMessage) m = parse_ok ("From: Acme <noreply@acme.com>\n"
                                      "To: me@mycorp.com\n"
                                      "Reply-To: info@acme.com\n"
                                      "Message-ID: <kinds@acme.com>\n\nhi\n");
  const SgParticipant *p;

  if (m == NULL)
    return;
  p = find (m, "noreply@acme.com", SG_HEADER_FROM);
  g_assert_nonnull (p);
  if (p != NULL)
    g_assert_cmpint (p->kind, ==, SG_ADDRESS_NOREPLY);
  p = find (m, "info@acme.com", SG_HEADER_REPLY_TO);
  g_assert_nonnull (p);
  if (p != NULL)
    g_assert_cmpint (p->kind, ==, SG_ADDRESS_ROLE);
}

static void
test_date (void)
{
  static const struct {
    const char *date;
    gint64 utc;
    int offset;
  } cases[] = {
    { "Thu, 19 Mar 2026 15:00:00 +0100", MARCH_19_1400, 60 },
    { "Thu, 19 Mar 2026 14:00:00 +0000", MARCH_19_1400, 0 },
    { "Thu, 19 Mar 2026 09:00:00 -0500", MARCH_19_1400, -300 },
    { "Thu, 19 Mar 2026 19:30:00 +0530", MARCH_19_1400, 330 },
    { "19 Mar 2026 14:00:00 GMT", MARCH_19_1400, 0 },
    { "Fri, 20 Mar 2026 00:00:00 +1000", MARCH_19_1400, 600 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *text
        = g_strdup_printf ("From: bob@client.com\nDate: %s\nMessage-ID: <d%u@x>\n\nhi\n", cases[i].date, i);
    g_autoptr (SgMessage) m = parse_ok (text);

    if (m == NULL)
      continue;
    g_test_message ("%s -> %" G_GINT64_FORMAT " %+d", cases[i].date, sg_message_get_date (m),
                    sg_message_get_tz_offset (m));
    g_assert_cmpint (sg_message_get_date (m), ==, cases[i].utc);
    g_assert_cmpint (sg_message_get_tz_offset (m), ==, cases[i].offset);
    g_assert_false (sg_message_date_is_fallback (m));
  }
  /* The same instant renders as the documented ISO form. */
  {
    g_autoptr (SgTable) t = sg_table_new ();
    g_autofree char *iso = NULL;
    g_autoptr (SgMessage) m = parse_ok ("From: bob@client.com\n"
                                        "Date: Thu, 19 Mar 2026 15:00:00 +0100\n"
                                        "Message-ID: <iso@x>\n\nhi\n");

    if (m == NULL)
      return;
    sg_table_add_column (t, "date", SG_COLUMN_TIME, 0);
    sg_table_append_row (t);
    sg_table_set_int (t, 0, sg_message_get_date (m));
    iso = sg_table_format_cell (t, 0, 0);
    g_assert_cmpstr (iso, ==, "2026-03-19T14:00:00Z");
  }
}

static void
test_date_fallback (void)
{
  g_autoptr (SgMessage) missing = parse_ok ("From: bob@client.com\nMessage-ID: <nodate@x>\n\nhi\n");
  g_autoptr (SgMessage) broken
      = parse_ok ("From: bob@client.com\nDate: yesterday-ish\nMessage-ID: <baddate@x>\n\nhi\n");
  g_autoptr (SgMessage) future = parse_ok ("From: bob@client.com\nDate: Mon, 1 Jan 2091 10:00:00 +0000\n"
                                           "Message-ID: <future@x>\n\nhi\n");

  if (missing == NULL || broken == NULL || future == NULL)
    return;
  g_assert_cmpint (sg_message_get_date (missing), ==, FALLBACK);
  g_assert_true (sg_message_date_is_fallback (missing));
  g_assert_cmpint (sg_message_get_date (broken), ==, FALLBACK);
  g_assert_true (sg_message_date_is_fallback (broken));
  g_assert_true (has_warning (broken, "Date"));
  /* A clock decades ahead would sit on top of every "last contact" list. */
  g_assert_cmpint (sg_message_get_date (future), ==, FALLBACK);
  g_assert_true (sg_message_date_is_fallback (future));
  {
    /* A clock that was never set says 1 January 1970. */
    g_autoptr (SgMessage) epoch = parse_ok ("From: bob@client.com\nDate: Thu, 1 Jan 1970 00:00:00 +0000\n"
                                            "Message-ID: <epoch@x>\n\nhi\n");

    if (epoch == NULL)
      return;
    g_assert_cmpint (sg_message_get_date (epoch), ==, FALLBACK);
    g_assert_true (sg_message_date_is_fallback (epoch));
  }
}

static const char hashless[] = "From: Jane <jane@acme.com>\n"
                               "To: bob@client.com\n"
                               "Date: Thu, 19 Mar 2026 15:00:00 +0100\n"
                               "Subject: no id\n"
                               "\n";

static char *
hash_id_of (const char *prefix, const char *body)
{
  g_autofree char *full = g_strconcat (prefix, hashless, body, "\n", NULL);
  g_autoptr (SgMessage) m = parse_ok (full);

  if (m == NULL)
    return NULL;
  g_assert_true (sg_message_id_is_hash (m));
  return g_strdup (sg_message_get_id (m));
}

static void
test_hash_id (void)
{
  g_autofree char *a = hash_id_of ("", "Hello Bob");
  g_autofree char *again = hash_id_of ("", "Hello Bob");
  g_autofree char *other_body = hash_id_of ("", "Hello Bob!");
  /* The same message delivered elsewhere: other Received and X- headers. */
  g_autofree char *delivered
      = hash_id_of ("Received: from mx2.client.com by mail.client.com; Thu, 19 Mar 2026 15:00:05 +0100\n"
                    "X-Spam-Score: 0.1\n",
                    "Hello Bob");

  g_assert_nonnull (a);
  if (a == NULL)
    return;
  g_assert_true (g_str_has_prefix (a, "sha256:"));
  g_assert_cmpuint (strlen (a), ==, strlen ("sha256:") + 64);
  for (const char *p = a + strlen ("sha256:"); *p; p++)
    g_assert_true (g_ascii_isxdigit (*p));
  g_assert_cmpstr (a, ==, again);
  g_assert_cmpstr (a, !=, other_body);
  g_assert_cmpstr (a, ==, delivered);
}

static void
test_unusable_message_id (void)
{
  g_autoptr (SgMessage) m = parse_ok ("From: bob@client.com\nMessage-ID: <>\n\nhi\n");
  g_autoptr (SgMessage) ok = parse_ok ("From: bob@client.com\nMessage-ID:   <Abc.123@Client.com>  \n\nhi\n");

  if (m == NULL || ok == NULL)
    return;
  g_assert_true (sg_message_id_is_hash (m));
  g_assert_true (g_str_has_prefix (sg_message_get_id (m), "sha256:"));
  g_assert_true (has_warning (m, "Message-ID"));
  /* Brackets go, case stays (Message-IDs are compared exactly). */
  g_assert_false (sg_message_id_is_hash (ok));
  g_assert_cmpstr (sg_message_get_id (ok), ==, "Abc.123@Client.com");
}

static void
test_thread (void)
{
  g_autoptr (SgMessage) refs = parse_ok ("From: bob@client.com\n"
                                         "Message-ID: <c@x>\n"
                                         "In-Reply-To: <b@x>\n"
                                         "References: <a@x>\n <b@x>\n"
                                         "\n"
                                         "hi\n");
  g_autoptr (SgMessage) irt = parse_ok ("From: bob@client.com\n"
                                        "Message-ID: <c@x>\n"
                                        "In-Reply-To: Your message of Tuesday <b@x>\n"
                                        "\n"
                                        "hi\n");
  g_autoptr (SgMessage) root = parse_ok ("From: bob@client.com\n"
                                         "Message-ID: <c@x>\n"
                                         "\n"
                                         "hi\n");
  g_autoptr (SgMessage) hashed = parse_ok ("From: bob@client.com\n\nhi\n");
  const char *const expected_refs[] = { "a@x", "b@x", NULL };
  const char *const no_refs[] = { NULL };

  if (refs == NULL || irt == NULL || root == NULL || hashed == NULL)
    return;
  g_assert_cmpstr (sg_message_get_thread_root (refs), ==, "a@x");
  g_assert_cmpstrv (sg_message_get_references (refs), expected_refs);
  g_assert_cmpstr (sg_message_get_in_reply_to (refs), ==, "b@x");

  g_assert_cmpstr (sg_message_get_thread_root (irt), ==, "b@x");
  g_assert_cmpstr (sg_message_get_in_reply_to (irt), ==, "b@x");
  g_assert_cmpstrv (sg_message_get_references (irt), no_refs);

  g_assert_cmpstr (sg_message_get_thread_root (root), ==, "c@x");
  g_assert_null (sg_message_get_in_reply_to (root));
  g_assert_cmpstrv (sg_message_get_references (root), no_refs);

  g_assert_cmpstr (sg_message_get_thread_root (hashed), ==, sg_message_get_id (hashed));
}

static void
test_subject (void)
{
  static const struct {
    const char *header;
    const char *subject;
  } cases[] = {
    { "Subject: Angebot =?UTF-8?Q?f=C3=BCr_Q2?=\n", "Angebot für Q2" },
    { "Subject: =?ISO-8859-1?Q?R=E9union_=E0_Paris?=\n", "Réunion à Paris" },
    { "Subject: A long subject\n folded over\n\tthree lines\n", "A long subject folded over three lines" },
    { "Subject: =?UTF-8?Q?Line_one=0ALine_two=0D=0A?=\n", "Line one Line two" },
    { "Subject: tab\there\n", "tab here" },
    { "", NULL },
    { "Subject: \n", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *text
        = g_strdup_printf ("From: bob@client.com\n%sMessage-ID: <s%u@x>\n\nhi\n", cases[i].header, i);
    g_autoptr (SgMessage) m = parse_ok (text);
    const char *s;

    if (m == NULL)
      continue;
    s = sg_message_get_subject (m);
    if (s != NULL
        && (strchr (s, '\n') || strchr (s, '\r') || strchr (s, '\t') || !g_utf8_validate (s, -1, NULL)))
      sg_test_failf ("subject %u is not one line of UTF-8", i);
    g_assert_cmpstr (s, ==, cases[i].subject);
  }
}

static void
test_subject_capped (void)
{
  GString *s = g_string_new ("From: bob@client.com\nMessage-ID: <longsubject@x>\nSubject: ");
  g_autofree char *text = NULL;
  g_autoptr (SgMessage) m = NULL;

  for (int i = 0; i < 5000; i++)
    g_string_append (s, "ü");
  g_string_append (s, "\n\nhi\n");
  text = g_string_free (s, FALSE);
  m = parse_ok (text);
  if (m == NULL || sg_message_get_subject (m) == NULL)
    return;
  g_assert_true (g_utf8_validate (sg_message_get_subject (m), -1, NULL));
  g_assert_cmpint (g_utf8_strlen (sg_message_get_subject (m), -1), <=, SG_MESSAGE_MAX_SUBJECT_CHARS);
  g_assert_cmpint (g_utf8_strlen (sg_message_get_subject (m), -1), >=, 100);
}

static void
test_many_references (void)
{
  GString *s = g_string_new ("From: bob@client.com\nMessage-ID: <last@x>\nReferences:");
  g_autofree char *text = NULL;
  g_autoptr (SgMessage) m = NULL;
  const char *const *refs;
  guint n;

  for (int i = 0; i < 300; i++)
    g_string_append_printf (s, "\n <r%03d@x>", i);
  g_string_append (s, "\n\nhi\n");
  text = g_string_free (s, FALSE);
  m = parse_ok (text);
  if (m == NULL)
    return;
  refs = sg_message_get_references (m);
  n = g_strv_length ((char **)refs);
  g_assert_cmpuint (n, ==, SG_MESSAGE_MAX_REFERENCES);
  /* The root and the nearest ancestors are what threading needs. */
  g_assert_cmpstr (refs[0], ==, "r000@x");
  g_assert_cmpstr (refs[n - 1], ==, "r299@x");
  g_assert_cmpstr (sg_message_get_thread_root (m), ==, "r000@x");
}

static void
test_subject_invalid_utf8 (void)
{
  g_autoptr (SgMessage) m
      = parse_ok ("From: bob@client.com\nSubject: caf\xe9 \xff\xfe\nMessage-ID: <u@x>\n\nhi\n");

  if (m == NULL)
    return;
  g_assert_nonnull (sg_message_get_subject (m));
  g_assert_true (g_utf8_validate (sg_message_get_subject (m), -1, NULL));
  g_assert_true (g_str_has_prefix (sg_message_get_subject (m), "caf"));
}

static void
test_empty (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgMessage) m = sg_message_parse ("", 0, identity, FALLBACK, &error);
  g_autoptr (SgMessage) n = NULL;

  g_assert_null (m);
  g_assert_error (error, SG_MESSAGE_ERROR, SG_MESSAGE_ERROR_EMPTY);
  g_clear_error (&error);
  n = sg_message_parse (NULL, 0, identity, FALLBACK, &error);
  g_assert_null (n);
  g_assert_error (error, SG_MESSAGE_ERROR, SG_MESSAGE_ERROR_EMPTY);
}

static void
test_not_mail (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  guint8 garbage[4096];
  const char *texts[] = {
    "just some text\nand more\n",
    "Subject: no sender\nTo: me@mycorp.com\n\nbody\n",
    "\n\n\n",
    "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
  };

  for (gsize i = 0; i < sizeof garbage; i++)
    garbage[i] = (guint8)g_rand_int_range (rand, 0, 256);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (SgMessage) m
        = sg_message_parse ((const char *)garbage, sizeof garbage, identity, FALLBACK, &error);

    g_assert_null (m);
    g_assert_error (error, SG_MESSAGE_ERROR, SG_MESSAGE_ERROR_NOT_MAIL);
  }
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (SgMessage) m = parse (texts[i], &error);

    if (m != NULL)
      sg_test_failf ("text %u was taken for a message", i);
    g_assert_error (error, SG_MESSAGE_ERROR, SG_MESSAGE_ERROR_NOT_MAIL);
  }
}

/* A message whose header block is about @size bytes. */
static char *
message_with_headers_of (gsize size)
{
  GString *s = g_string_new ("From: bob@client.com\nMessage-ID: <big@x>\n");
  guint n = 0;

  while (s->len < size) {
    g_string_append_printf (s, "X-Filler-%u: ", n++);
    for (int i = 0; i < 1000; i++)
      g_string_append_c (s, 'a' + i % 26);
    g_string_append_c (s, '\n');
  }
  g_string_append (s, "\nbody\n");
  return g_string_free (s, FALSE);
}

static void
test_headers_too_large (void)
{
  g_autofree char *big = message_with_headers_of (SG_MESSAGE_MAX_HEADER_SIZE + 4096);
  g_autofree char *fine = message_with_headers_of (SG_MESSAGE_MAX_HEADER_SIZE - 64 * 1024);
  g_autoptr (GError) error = NULL;
  g_autoptr (SgMessage) m = parse (big, &error);
  g_autoptr (SgMessage) ok = NULL;

  g_assert_null (m);
  g_assert_error (error, SG_MESSAGE_ERROR, SG_MESSAGE_ERROR_HEADERS_TOO_LARGE);
  g_clear_error (&error);
  ok = parse (fine, &error);
  sg_assert_no_error (error);
  g_assert_nonnull (ok);
}

static void
test_too_large (void)
{
  g_autoptr (GError) error = NULL;
  gsize len = SG_MESSAGE_MAX_SIZE + 1;
  /* Never touched: the size alone is refused. */
  g_autofree char *data = g_malloc (len);
  g_autoptr (SgMessage) m = sg_message_parse (data, len, identity, FALLBACK, &error);

  g_assert_null (m);
  g_assert_error (error, SG_MESSAGE_ERROR, SG_MESSAGE_ERROR_TOO_LARGE);
}

static void
test_too_many_participants (void)
{
  GString *s = g_string_new ("From: Jane <jane@acme.com>\nMessage-ID: <many@acme.com>\nTo: ");
  g_autofree char *text = NULL;
  g_autoptr (SgMessage) m = NULL;

  for (int i = 0; i < SG_MESSAGE_MAX_PARTICIPANTS + 200; i++)
    g_string_append_printf (s, "%suser%04d@client.com", i ? ",\n " : "", i);
  g_string_append (s, "\n\nhi\n");
  text = g_string_free (s, FALSE);
  m = parse_ok (text);
  if (m == NULL)
    return;
  g_assert_cmpuint (sg_message_get_n_participants (m), ==, SG_MESSAGE_MAX_PARTICIPANTS);
  /* The sender is never the one dropped. */
  g_assert_nonnull (find (m, "jane@acme.com", SG_HEADER_FROM));
  g_assert_nonnull (find (m, "user0000@client.com", SG_HEADER_TO));
  g_assert_null (find (m, "user1100@client.com", SG_HEADER_TO));
  g_assert_true (has_warning (m, "participants"));
  /* Warnings are bounded too. */
  g_assert_cmpuint (g_strv_length ((char **)sg_message_get_warnings (m)), <=, 32);
}

static void
test_bad_address (void)
{
  g_autoptr (SgMessage) m = parse_ok ("From: bob@client.com\n"
                                      "To: jane@acme.com, Undisclosed <no-at-sign>, carol@acme.com\n"
                                      "Message-ID: <bad@client.com>\n\nhi\n");

  if (m == NULL)
    return;
  g_assert_nonnull (find (m, "jane@acme.com", SG_HEADER_TO));
  g_assert_nonnull (find (m, "carol@acme.com", SG_HEADER_TO));
  g_assert_cmpuint (sg_message_get_n_participants (m), ==, 3);
  g_assert_true (has_warning (m, "no-at-sign"));
}

static void
test_semicolon_separated (void)
{
  /* Some mailers separate recipients with ';'. Nobody may be lost silently. */
  g_autoptr (SgMessage) m = parse_ok ("From: bob@client.com\n"
                                      "To: jane@acme.com; carol@acme.com\n"
                                      "Message-ID: <semi@client.com>\n\nhi\n");

  if (m == NULL)
    return;
  g_assert_nonnull (find (m, "jane@acme.com", SG_HEADER_TO));
  if (find (m, "carol@acme.com", SG_HEADER_TO) == NULL && !has_warning (m, "carol"))
    sg_test_failf ("carol@acme.com was dropped without a warning");
}

/* "Name <a@b@c.d>" is no address. GMime reads it as "a@b": that must not become a person
 * "Name" (it was one in the sample mailbox); the rest of the message is read, and a real
 * address with a one-label domain ("jimbo@lews", in old Usenet mail) is still recorded. */
static void
test_two_at_signs (void)
{
  g_autoptr (SgMessage) m = parse_ok ("From: Name <a@b@c.d>\n"
                                      "To: jane@acme.com, Jimbo <jimbo@lews>\n"
                                      "Cc: carol@acme.com@evil.example\n"
                                      "Message-ID: <twoat@acme.com>\n\nhi\n");

  if (m == NULL)
    return;
  g_assert_null (find (m, "a@b", SG_HEADER_FROM));
  g_assert_null (find (m, "carol@acme.com", SG_HEADER_CC));
  g_assert_true (has_warning (m, "two “@”"));
  g_assert_nonnull (find (m, "jane@acme.com", SG_HEADER_TO));
  g_assert_nonnull (find (m, "jimbo@lews", SG_HEADER_TO));
}

static void
test_names_cleaned (void)
{
  g_autoptr (SgMessage) m = parse_ok ("From: \"Doe, Jane\" <jane@acme.com>\n"
                                      "To: \"'Bob Smith'\" <bob@client.com>, carol@client.com\n"
                                      "Message-ID: <clean@acme.com>\n\nhi\n");
  const SgParticipant *p;

  if (m == NULL)
    return;
  p = find (m, "jane@acme.com", SG_HEADER_FROM);
  if (p != NULL)
    g_assert_cmpstr (p->name, ==, "Jane Doe");
  p = find (m, "bob@client.com", SG_HEADER_TO);
  if (p != NULL)
    g_assert_cmpstr (p->name, ==, "Bob Smith");
  p = find (m, "carol@client.com", SG_HEADER_TO);
  g_assert_nonnull (p);
  if (p != NULL)
    g_assert_null (p->name);
}

static void
test_parse_stream (void)
{
  static const char text[] = "From: bob@client.com\n"
                             "Date: Thu, 19 Mar 2026 15:00:00 +0100\n"
                             "Message-ID: <stream@client.com>\n\nhi\n";
  g_autoptr (GError) error = NULL;
  GMimeStream *stream = g_mime_stream_mem_new_with_buffer (text, sizeof text - 1);
  g_autoptr (SgMessage) m = sg_message_parse_stream (stream, identity, FALLBACK, &error);

  g_object_unref (stream);
  sg_assert_no_error (error);
  if (m == NULL)
    return;
  g_assert_cmpstr (sg_message_get_id (m), ==, "stream@client.com");
  g_assert_cmpint (sg_message_get_date (m), ==, MARCH_19_1400);
}

/* A phone in the sender's vCard (no TYPE) and in the signature ("Office:") is one number:
 * the message carries it once, with the more specific kind. */
static void
test_phone_once (void)
{
  g_autoptr (SgMessage) m = parse_ok (
      "From: Murat Yildiz <m.yildiz@fjordtech.co.uk>\r\n"
      "To: Me <me@ourco.example>\r\n"
      "Subject: Recording of the demo\r\n"
      "Date: Sat, 01 Nov 2025 09:30:00 +0000\r\n"
      "Message-ID: <phone-once@fjordtech.co.uk>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b\"\r\n"
      "\r\n"
      "--b\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "\r\n"
      "Here is the recording of today's demo.\r\n"
      "\r\n"
      "Best regards,\r\n"
      "Murat Yildiz\r\n"
      "Software Architect\r\n"
      "Office: +44 20 3600 111\r\n"
      "--b\r\n"
      "Content-Type: text/vcard; charset=utf-8\r\n"
      "Content-Disposition: attachment; filename=\"murat.vcf\"\r\n"
      "\r\n"
      "BEGIN:VCARD\r\n"
      "VERSION:3.0\r\n"
      "FN:Murat Yildiz\r\n"
      "TEL:+44 20 3600 111\r\n"
      "END:VCARD\r\n"
      "--b--\r\n");
  guint phones = 0;
  const char *detail = NULL;

  for (guint i = 0; i < sg_message_get_n_facts (m); i++) {
    const SgFact *f = sg_message_get_fact (m, i);

    if (f->kind == SG_FACT_PHONE) {
      phones++;
      detail = f->detail;
    }
  }
  g_assert_cmpuint (phones, ==, 1);
  g_assert_cmpstr (detail, ==, "office");
}

int
main (int argc, char **argv)
{
  int ret;

  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);
  g_test_set_nonfatal_assertions ();

  identity = sg_identity_new ();
  g_assert_true (sg_identity_add_address (identity, "me@mycorp.com", NULL));
  g_assert_true (sg_identity_add_address (identity, "me.private@gmail.com", NULL));
  g_assert_true (sg_identity_add_internal_domain (identity, "mycorp.com", NULL));

  g_test_add_func ("/message/names/rfc2047", test_rfc2047_names);
  g_test_add_func ("/message/names/cleaned", test_names_cleaned);
  g_test_add_func ("/message/addresses/groups", test_groups);
  g_test_add_func ("/message/addresses/roles", test_roles);
  g_test_add_func ("/message/addresses/dedup-per-role", test_dedup_per_role);
  g_test_add_func ("/message/addresses/kinds", test_kinds);
  g_test_add_func ("/message/addresses/list-post", test_list_post);
  g_test_add_func ("/message/addresses/bad-address", test_bad_address);
  g_test_add_func ("/message/addresses/semicolon-separated", test_semicolon_separated);
  g_test_add_func ("/message/addresses/two-at-signs", test_two_at_signs);
  g_test_add_func ("/message/addresses/too-many", test_too_many_participants);
  g_test_add_func ("/message/direction", test_direction);
  g_test_add_func ("/message/internal", test_internal);
  g_test_add_func ("/message/bulk", test_bulk);
  g_test_add_func ("/message/date/offset", test_date);
  g_test_add_func ("/message/date/fallback", test_date_fallback);
  g_test_add_func ("/message/id/hash", test_hash_id);
  g_test_add_func ("/message/id/unusable", test_unusable_message_id);
  g_test_add_func ("/message/thread", test_thread);
  g_test_add_func ("/message/subject", test_subject);
  g_test_add_func ("/message/subject-capped", test_subject_capped);
  g_test_add_func ("/message/thread-many-references", test_many_references);
  g_test_add_func ("/message/subject-invalid-utf8", test_subject_invalid_utf8);
  g_test_add_func ("/message/refuse/empty", test_empty);
  g_test_add_func ("/message/refuse/not-mail", test_not_mail);
  g_test_add_func ("/message/refuse/headers-too-large", test_headers_too_large);
  g_test_add_func ("/message/refuse/too-large", test_too_large);
  g_test_add_func ("/message/parse-stream", test_parse_stream);
  g_test_add_func ("/message/content/phone-once", test_phone_once);

  ret = g_test_run ();
  sg_identity_unref (identity);
  return ret;
}
