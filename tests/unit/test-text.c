/* test-text.c: the readable text of a message (sg-text.h). */
#include "config.h"

#include <locale.h>

#include "sg.h"
#include "test-util.h"

static SgIdentity *identity;

static SgMessage *
parse_ok (const char *text, gsize len)
{
  g_autoptr (GError) error = NULL;
  SgMessage *m = sg_message_parse (text, len ? len : strlen (text), identity, 0, &error);

  g_assert_no_error (error);
  g_assert_nonnull (m);
  return m;
}

static gboolean
has_warning (const SgMessage *m, const char *needle)
{
  for (const char *const *w = sg_message_get_warnings (m); *w; w++)
    if (strstr (*w, needle) != NULL)
      return TRUE;
  return FALSE;
}

/* Bottom-posting, interleaved quotes and the "-- " signature. */
static void
test_plain_quotes_signature (void)
{
  g_autoptr (SgText) t = sg_text_new_from_plain (
      "Hi Ann,\n\n"
      "On Tue, 3 Mar 2026 at 10:00, Ann Smith <ann@acme.de> wrote:\n"
      "> Can you send the forecast?\n"
      "> -- \n"
      "> Ann Smith, Acme\n"
      "\n"
      "Yes, attached.\n"
      "> And the price?\n"
      "Ten thousand.\n"
      "\n"
      "-- \n"
      "Bob Jones\n"
      "Example Corp\n", -1, NULL);

  g_assert_cmpstr (sg_text_get_body (t), ==, "Hi Ann,\n\nYes, attached.\nTen thousand.");
  g_assert_cmpstr (sg_text_get_signature (t), ==, "Bob Jones\nExample Corp");
  g_assert_null (sg_text_get_forwarded (t));
}

/* Attributions in German, French and Spanish, Gmail's two-line form. */
static void
test_attributions (void)
{
  static const char *const heads[] = {
    "Am 03.03.2026 um 10:00 schrieb Anna Müller <anna@acme.de>:",
    "Le mar. 3 mars 2026 à 10:00, Anne Dupont <anne@acme.fr> a écrit :",
    "El mar, 3 mar 2026 a las 10:00, Ana García (<ana@acme.es>) escribió:",
    "On Tue, Mar 3, 2026 at 10:00 AM Ann Smith <ann@acme.com>\nwrote:",
  };

  for (guint i = 0; i < G_N_ELEMENTS (heads); i++) {
    g_autofree char *text = g_strdup_printf ("Danke!\n\n%s\n> zitiert\n> mehr\n", heads[i]);
    g_autoptr (SgText) t = sg_text_new_from_plain (text, -1, NULL);

    g_assert_cmpstr (sg_text_get_body (t), ==, "Danke!");
  }
}

/* Outlook's top-posted reply: everything from the header block on is quoted, also
 * without '>'; the German and French header names too. */
static void
test_outlook (void)
{
  g_autoptr (SgText) a = sg_text_new_from_plain (
      "Sounds good, see you Monday.\n\n"
      "Best regards,\nJohn Doe\nSales Director\n\n"
      "________________________________\n"
      "From: Ann Smith <ann@acme.com>\n"
      "Sent: Tuesday, March 3, 2026 10:00 AM\n"
      "To: John Doe <john@example.com>\n"
      "Subject: Meeting\n\n"
      "Can we meet on Monday?\n\nBest regards,\nAnn Smith\nCEO\n", -1, NULL);
  g_autoptr (SgText) b = sg_text_new_from_plain (
      "Passt.\n\n"
      "-----Ursprüngliche Nachricht-----\n"
      "Von: Anna <anna@acme.de>\nGesendet: Dienstag, 3. März 2026 10:00\nAn: x@y.de\nBetreff: Termin\n\n"
      "Wann?\n", -1, NULL);
  g_autoptr (SgText) c = sg_text_new_from_plain (
      "D'accord.\n\n"
      "De : Anne <anne@acme.fr>\nEnvoyé : mardi 3 mars 2026 10:00\nÀ : x@y.fr\nObjet : RDV\n\nQuand ?\n", -1, NULL);

  g_assert_cmpstr (sg_text_get_body (a), ==, "Sounds good, see you Monday.");
  /* The sign-off starts the sender's signature; Ann's quoted one is not there. */
  g_assert_cmpstr (sg_text_get_signature (a), ==, "Best regards,\nJohn Doe\nSales Director");
  g_assert_cmpstr (sg_text_get_body (b), ==, "Passt.");
  g_assert_cmpstr (sg_text_get_body (c), ==, "D'accord.");
}

/* A forwarded message is kept apart, not taken as the sender's words. */
static void
test_forwarded (void)
{
  g_autoptr (SgText) t = sg_text_new_from_plain (
      "FYI, see below.\n\n"
      "---------- Forwarded message ---------\n"
      "From: Carl <carl@other.com>\nDate: Mon, 2 Mar 2026\nSubject: Offer\nTo: me@mycorp.com\n\n"
      "Our offer is attached.\n--\nCarl Berger\nCEO, Other Inc\n", -1, NULL);

  g_assert_cmpstr (sg_text_get_body (t), ==, "FYI, see below.");
  g_assert_null (sg_text_get_signature (t));
  g_assert_nonnull (sg_text_get_forwarded (t));
  g_assert_nonnull (strstr (sg_text_get_forwarded (t), "Our offer is attached."));
}

/* Sign-offs without a delimiter, in four languages, and mobile footers. */
static void
test_signoffs (void)
{
  static const char *const closes[] = { "Kind regards,", "Mit freundlichen Grüßen", "Cordialement,",
                                        "Un saludo,", "Thanks,", "Viele Grüße" };

  for (guint i = 0; i < G_N_ELEMENTS (closes); i++) {
    g_autofree char *text = g_strdup_printf ("The report is ready.\n\n%s\nAnn Smith\nAcme GmbH\n", closes[i]);
    g_autoptr (SgText) t = sg_text_new_from_plain (text, -1, NULL);
    g_autofree char *sig = g_strdup_printf ("%s\nAnn Smith\nAcme GmbH", closes[i]);

    g_assert_cmpstr (sg_text_get_body (t), ==, "The report is ready.");
    g_assert_cmpstr (sg_text_get_signature (t), ==, sig);
  }
  {
    g_autoptr (SgText) t = sg_text_new_from_plain ("OK, agreed.\n\nSent from my iPhone\n", -1, NULL);

    g_assert_cmpstr (sg_text_get_body (t), ==, "OK, agreed.");
    g_assert_cmpstr (sg_text_get_signature (t), ==, "Sent from my iPhone");
  }
  {
    /* "Thanks" in the middle of the text is no sign-off. */
    g_autoptr (SgText) t = sg_text_new_from_plain ("Thanks\n" "for the call.\n" "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\no\n", -1, NULL);

    g_assert_null (sg_text_get_signature (t));
  }
}

static void
test_html (void)
{
  gboolean cut = TRUE;
  static const char html[] =
      "<html><head><title>T</title><style>p{color:red}</style><script>alert(1)</script></head>"
      "<body><p>Hello&nbsp;Bob,</p><div>the <b>forecast</b> is &amp; was ready.</div>"
      "<table><tr><td>Q1</td><td>10</td></tr></table>"
      "<div class=\"gmail_quote\">On Mon Ann wrote:<blockquote>old text</blockquote></div>"
      "<blockquote type=\"cite\">quoted too</blockquote><p>Bye</p></body></html>";
  g_autofree char *s = sg_text_html_to_text (html, strlen (html), &cut);

  g_assert_false (cut);
  g_assert_nonnull (strstr (s, "Hello Bob,"));
  g_assert_nonnull (strstr (s, "the forecast is & was ready."));
  g_assert_nonnull (strstr (s, "Q1 10"));
  g_assert_null (strstr (s, "alert"));
  g_assert_null (strstr (s, "color"));
  g_assert_null (strstr (s, "old text"));
  g_assert_null (strstr (s, "quoted too"));
  g_assert_null (strstr (s, "wrote"));
}

/* HTML-only mail in another charset: the part is decoded from its charset and from
 * quoted-printable; the HTML's own <meta charset> does not decode it twice. */
static void
test_html_message (void)
{
  g_autoptr (SgMessage) m = parse_ok (
      "From: Anna Müller <anna@acme.de>\r\nTo: me@mycorp.com\r\nSubject: Angebot\r\n"
      "Message-ID: <h1@acme.de>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
      "<html><head><meta charset=3D\"utf-8\"></head><body><p>Gr=FC=DFe aus M=FCnchen</p>"
      "<p>Mit freundlichen Gr=FC=DFen<br>Anna M=FCller<br>Leiterin Einkauf<br>Acme GmbH</p></body></html>\r\n", 0);
  const SgText *t = sg_message_get_text (m);

  g_assert_cmpint (sg_text_get_source (t), ==, SG_TEXT_SOURCE_HTML);
  g_assert_cmpstr (sg_text_get_body (t), ==, "Grüße aus München");
  g_assert_cmpstr (sg_text_get_signature (t), ==, "Mit freundlichen Grüßen\nAnna Müller\nLeiterin Einkauf\nAcme GmbH");
}

/* text/plain wins over text/html in multipart/alternative; attachments are not text. */
static void
test_alternative (void)
{
  g_autoptr (SgMessage) m = parse_ok (
      "From: a@acme.com\r\nTo: me@mycorp.com\r\nSubject: x\r\nMessage-ID: <alt@acme.com>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"m\"\r\n\r\n"
      "--m\r\nContent-Type: text/plain; name=\"notes.txt\"\r\nContent-Disposition: attachment\r\n\r\nnot me\r\n"
      "--m\r\nContent-Type: multipart/alternative; boundary=\"a\"\r\n\r\n"
      "--a\r\nContent-Type: text/html\r\n\r\n<p>html version</p>\r\n"
      "--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain version\r\n"
      "--a--\r\n--m--\r\n", 0);

  g_assert_cmpint (sg_text_get_source (sg_message_get_text (m)), ==, SG_TEXT_SOURCE_PLAIN);
  g_assert_cmpstr (sg_text_get_body (sg_message_get_text (m)), ==, "plain version");
}

/* An unknown charset is read as Windows-1252, with a warning naming it. */
static void
test_bad_charset (void)
{
  g_autoptr (SgMessage) m = parse_ok (
      "From: a@acme.com\r\nTo: me@mycorp.com\r\nSubject: x\r\nMessage-ID: <cs@acme.com>\r\n"
      "Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nCaf\xe9 ok\r\n", 0);

  g_assert_cmpstr (sg_text_get_body (sg_message_get_text (m)), ==, "Café ok");
  g_assert_true (has_warning (m, "x-no-such-charset"));
  g_assert_true (g_utf8_validate (sg_text_get_body (sg_message_get_text (m)), -1, NULL));
}

/* HTML bombs: 250,000 nested elements and a table of 100,000 cells. The SAX reading keeps
 * no tree; the output and the input are capped. */
static void
test_html_bombs (void)
{
  GString *deep = g_string_new ("<html><body>");
  GString *table = g_string_new ("<table>");
  gboolean cut = FALSE;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  for (guint i = 0; i < 250000; i++)
    g_string_append (deep, "<div>");
  g_string_append (deep, "deep text");
  for (guint i = 0; i < 100000; i++)
    g_string_append (table, "<tr><td>cell</td></tr>");
  a = sg_text_html_to_text (deep->str, deep->len, &cut);
  g_assert_true (cut); /* 1.25 MB of input: over the cap */
  g_assert_cmpuint (strlen (a), <=, SG_TEXT_MAX_PART_BYTES);
  b = sg_text_html_to_text (table->str, table->len, &cut);
  g_assert_cmpuint (strlen (b), <=, SG_TEXT_MAX_PART_BYTES);
  g_assert_nonnull (strstr (b, "cell"));
  g_string_free (deep, TRUE);
  g_string_free (table, TRUE);
}

/* A 50 MB text part: 1 MB is read, the message is parsed, a warning says so. */
static void
test_huge_part (void)
{
  GString *msg = g_string_new ("From: a@acme.com\r\nTo: me@mycorp.com\r\nSubject: big\r\n"
                               "Message-ID: <big@acme.com>\r\nContent-Type: text/plain\r\n\r\n");
  g_autoptr (SgMessage) m = NULL;

  while (msg->len < 50 * 1024 * 1024)
    g_string_append (msg, "forecast forecast forecast forecast forecast forecast forecast\r\n");
  m = parse_ok (msg->str, msg->len);
  g_assert_true (has_warning (m, "text part over"));
  g_assert_cmpuint (strlen (sg_text_get_body (sg_message_get_text (m))), <=, SG_TEXT_MAX_BODY_BYTES);
  g_assert_cmpstr (sg_message_get_id (m), ==, "big@acme.com");
  g_string_free (msg, TRUE);
}

/* A 500-line signature: 40 lines are kept, a warning says how many there were. */
static void
test_long_signature (void)
{
  GString *s = g_string_new ("Short text.\n-- \n");
  g_autoptr (SgText) t = NULL;
  guint lines = 0;

  for (guint i = 0; i < 500; i++)
    g_string_append_printf (s, "signature line %u\n", i);
  t = sg_text_new_from_plain (s->str, (gssize) s->len, NULL);
  for (const char *p = sg_text_get_signature (t); p && *p; p++)
    lines += *p == '\n';
  g_assert_cmpuint (lines + 1, ==, SG_TEXT_MAX_SIGNATURE_LINES);
  g_assert_nonnull (strstr (sg_text_get_warnings (t)[0], "signature of 500 lines"));
  g_string_free (s, TRUE);
}

/* vCards attached are collected raw; a message/rfc822 part's are not. */
static void
test_vcards_found (void)
{
  g_autoptr (SgMessage) m = parse_ok (
      "From: a@acme.com\r\nTo: me@mycorp.com\r\nSubject: card\r\nMessage-ID: <vc@acme.com>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"m\"\r\n\r\n"
      "--m\r\nContent-Type: text/plain\r\n\r\nmy card\r\n"
      "--m\r\nContent-Type: text/x-vcard; name=\"a.vcf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      "QkVHSU46VkNBUkQNClZFUlNJT046My4wDQpGTjpBDQpFTkQ6VkNBUkQNCg==\r\n"
      "--m\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y.z\r\nContent-Type: text/vcard\r\n\r\nBEGIN:VCARD\r\nEND:VCARD\r\n"
      "--m--\r\n", 0);
  const char *const *cards = sg_text_get_vcards (sg_message_get_text (m));

  g_assert_nonnull (cards[0]);
  g_assert_true (g_str_has_prefix (cards[0], "BEGIN:VCARD"));
  g_assert_null (cards[1]);
}

/* textperf session: quote shapes other than "> ", forwards that end, footers inside "-- ". */
static void
test_other_quotes (void)
{
  g_autoptr (SgText) a = sg_text_new_from_plain (
      "let me put it another way ...\n\n"
      "    f> Mike says: how are you?\n"
      "    f> SmarterChild says: Great thx!\n\n"
      "Out of 8 million visitors, this is the best example?\n", -1, NULL);
  g_autoptr (SgText) b = sg_text_new_from_plain (
      "On Mon, 23 Sep 2002 17:41:20 +0200\n"
      "Matthias Saou <matthias@egwn.net> wrote:\n\n"
      "# So did my build\n# and more\n\n"
      "Oops, I did not see it.\n\n"
      "# If I build recent packages\n\n"
      "Oh yeah.\n"
      "#include <stdio.h> stays: no space after the mark\n", -1, NULL);

  g_assert_cmpstr (sg_text_get_body (a), ==,
                   "let me put it another way ...\n\nOut of 8 million visitors, this is the best example?");
  g_assert_cmpstr (sg_text_get_body (b), ==,
                   "Oops, I did not see it.\n\nOh yeah.\n#include <stdio.h> stays: no space after the mark");
}

static void
test_forward_ends (void)
{
  g_autoptr (SgText) t = sg_text_new_from_plain (
      "--- begin forwarded text\n\n"
      "From: someone\nSubject: x\n\nTheir words.\n\n"
      "--- end forwarded text\n\n"
      "-- \nR. A. Hettinga\nThe Internet Bearer Underwriting Corporation\n", -1, NULL);

  g_assert_nonnull (strstr (sg_text_get_forwarded (t), "Their words."));
  g_assert_null (strstr (sg_text_get_body (t), "Their words."));
  g_assert_cmpstr (sg_text_get_signature (t), ==, "R. A. Hettinga\nThe Internet Bearer Underwriting Corporation");
}

static void
test_footer_inside_signature (void)
{
  g_autoptr (SgText) t = sg_text_new_from_plain (
      "See you in December.\n-- \n\nFel\nhttp://www.frogstone.net\n\n"
      "------------------------ Yahoo! Groups Sponsor ---------------------~-->\n"
      "Sell a Home with Ease!\n"
      "---------------------------------------------------------------------~->\n\n"
      "To unsubscribe from this group, send an email to:\nforteana-unsubscribe@egroups.com\n", -1, NULL);

  g_assert_cmpstr (sg_text_get_body (t), ==, "See you in December.");
  g_assert_cmpstr (sg_text_get_signature (t), ==, "Fel\nhttp://www.frogstone.net");
}

/* Audit: a legal notice between asterisk rules and a titled sponsor footer, with no "-- "
 * before them, are no part of the own text (they were topics: "confidential", "yahoo"). */
static void
test_notice_and_sponsor (void)
{
  g_autoptr (SgText) t = sg_text_new_from_plain (
      "Vegetable-derived lubricants have been used.\n\n"
      "Robin Hill, STEAMY BESS, Brough, East Yorkshire\n\n\n\n"
      "********************************************************************\n"
      "This email and any attachments are confidential to the intended\n"
      "recipient and may also be privileged.\n"
      "********************************************************************\n\n"
      "------------------------ Yahoo! Groups Sponsor ---------------------~-->\n"
      "4 DVDs Free +s&p Join Now\nhttp://us.click.yahoo.com/pt6YBB/NXiEAA/MVfIAA/7gSolB/TM\n"
      "---------------------------------------------------------------------~->\n\n"
      "To unsubscribe from this group, send an email to:\nforteana-unsubscribe@egroups.com\n", -1, "Robin Hill");
  /* A closing rule alone is no footer: the box above it stays the signature's. */
  g_autoptr (SgText) u = sg_text_new_from_plain (
      "Any help appreciated.\n\nWendy Roberts\n\n=====================\nWendy Roberts\n"
      "HEAD System Administrator\nPhone:  617-495-7153\n=====================\n", -1, "Wendy Roberts");

  g_assert_cmpstr (sg_text_get_body (t), ==,
                   "Vegetable-derived lubricants have been used.\n\nRobin Hill, STEAMY BESS, Brough, East Yorkshire");
  g_assert_cmpstr (sg_text_get_body (u), ==, "Any help appreciated.");
  g_assert_nonnull (sg_text_get_signature (u));
  g_assert_nonnull (strstr (sg_text_get_signature (u), "HEAD System Administrator"));
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

  g_test_add_func ("/text/plain/quotes-signature", test_plain_quotes_signature);
  g_test_add_func ("/text/plain/attributions", test_attributions);
  g_test_add_func ("/text/plain/outlook", test_outlook);
  g_test_add_func ("/text/plain/forwarded", test_forwarded);
  g_test_add_func ("/text/plain/signoffs", test_signoffs);
  g_test_add_func ("/text/html/to-text", test_html);
  g_test_add_func ("/text/html/message", test_html_message);
  g_test_add_func ("/text/mime/alternative", test_alternative);
  g_test_add_func ("/text/mime/vcards", test_vcards_found);
  g_test_add_func ("/text/plain/other-quotes", test_other_quotes);
  g_test_add_func ("/text/plain/forward-ends", test_forward_ends);
  g_test_add_func ("/text/plain/footer-inside-signature", test_footer_inside_signature);
  g_test_add_func ("/text/plain/notice-and-sponsor", test_notice_and_sponsor);
  g_test_add_func ("/text/bad/charset", test_bad_charset);
  g_test_add_func ("/text/bad/html-bombs", test_html_bombs);
  g_test_add_func ("/text/bad/huge-part", test_huge_part);
  g_test_add_func ("/text/bad/long-signature", test_long_signature);
  ret = g_test_run ();
  sg_identity_unref (identity);
  return ret;
}
