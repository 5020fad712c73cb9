/* test-signature.c: facts from signature blocks and vCards (sg-signature.h). */
#include "config.h"

#include <locale.h>

#include "sg.h"
#include "test-util.h"

/* The value of the fact of @kind (and @detail), or NULL. */
static const char *
fact (GPtrArray *facts, SgFactKind kind, const char *detail)
{
  for (guint i = 0; i < facts->len; i++) {
    const SgFact *f = facts->pdata[i];

    if (f->kind == kind && (detail == NULL || g_strcmp0 (f->detail, detail) == 0))
      return f->value;
  }
  return NULL;
}

static guint
count_kind (GPtrArray *facts, SgFactKind kind)
{
  guint n = 0;

  for (guint i = 0; i < facts->len; i++)
    n += ((const SgFact *) facts->pdata[i])->kind == kind;
  return n;
}

static void
test_phone_normalize (void)
{
  static const struct { const char *in, *cc, *out; } cases[] = {
    { "+49 (0)30 123-45 67", NULL, "+4930123456" "7" },
    { "0049 30 1234567", NULL, "+49301234567" },
    { "030 1234567", "49", "+49301234567" },
    { "030 1234567", NULL, "0301234567" },
    { "(555) 010-1234", "1", "+15550101234" },
    { "+1 (555) 010-1234", NULL, "+15550101234" },
    { "49 89 1234567", "49", "+49891234567" },
    { "12345", NULL, NULL },
    { "+12345678901234567", NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *got = sg_phone_normalize (cases[i].in, cases[i].cc);

    g_assert_cmpstr (got, ==, cases[i].out);
  }
}

static void
test_classic (void)
{
  g_autoptr (GPtrArray) f = sg_signature_parse (
      "Best regards,\n"
      "Ann Smith\n"
      "Head of Procurement\n"
      "Acme Research GmbH\n"
      "Hauptstraße 5\n"
      "10115 Berlin\n"
      "Germany\n"
      "Mobile: +49 (0)170 1234567\n"
      "Tel.: 030 1234 5678 | Fax: 030 1234 5679\n"
      "www.acme-research.de | https://www.linkedin.com/in/annsmith\n",
      "Ann Smith", "acme-research.de");

  g_assert_cmpstr (fact (f, SG_FACT_TITLE, NULL), ==, "Head of Procurement");
  g_assert_cmpstr (fact (f, SG_FACT_ORGANISATION, NULL), ==, "Acme Research GmbH");
  g_assert_cmpstr (fact (f, SG_FACT_ADDRESS, NULL), ==, "Hauptstraße 5, 10115 Berlin, Germany");
  g_assert_cmpstr (fact (f, SG_FACT_PHONE, "mobile"), ==, "+491701234567");
  g_assert_cmpstr (fact (f, SG_FACT_PHONE, "office"), ==, "+493012345678");
  g_assert_cmpstr (fact (f, SG_FACT_PHONE, "fax"), ==, "+493012345679");
  g_assert_cmpstr (fact (f, SG_FACT_WEBSITE, NULL), ==, "acme-research.de");
  g_assert_cmpuint (count_kind (f, SG_FACT_WEBSITE), ==, 1); /* not LinkedIn */
}

/* One-line signatures, "Title, Organisation", "Title at Organisation", US address. */
static void
test_compact (void)
{
  g_autoptr (GPtrArray) a = sg_signature_parse ("John Doe | VP Sales | Example Corp | M +1 415 555 0100",
                                                "John Doe", "example.com");
  g_autoptr (GPtrArray) b = sg_signature_parse ("Jane Roe\nSenior Analyst at Contoso Ltd\n"
                                                "500 Market Street, Suite 200\nSan Francisco, CA 94105\n"
                                                "Direct: (415) 555-0199",
                                                "Jane Roe", "contoso.com");

  g_assert_cmpstr (fact (a, SG_FACT_TITLE, NULL), ==, "VP Sales");
  g_assert_cmpstr (fact (a, SG_FACT_ORGANISATION, NULL), ==, "Example Corp");
  g_assert_cmpstr (fact (a, SG_FACT_PHONE, "mobile"), ==, "+14155550100");
  g_assert_cmpstr (fact (b, SG_FACT_TITLE, NULL), ==, "Senior Analyst");
  g_assert_cmpstr (fact (b, SG_FACT_ORGANISATION, NULL), ==, "Contoso Ltd");
  g_assert_cmpstr (fact (b, SG_FACT_ADDRESS, NULL), ==, "500 Market Street, Suite 200, San Francisco, CA 94105");
  g_assert_cmpstr (fact (b, SG_FACT_PHONE, "office"), ==, "4155550199");
}

/* A disclaimer ends the reading; marketing footers give nothing; a date or postcode is no
 * phone. */
static void
test_noise (void)
{
  g_autoptr (GPtrArray) a = sg_signature_parse (
      "Ann Smith\nAcme GmbH\n\n"
      "CONFIDENTIALITY NOTICE: This e-mail is intended solely for the addressee. Director of Legal\n"
      "Tel: +49 30 999999\n", "Ann Smith", "acme.de");
  g_autoptr (GPtrArray) b = sg_signature_parse (
      "Follow us on Twitter!\nClick here to unsubscribe\n", NULL, "news.example.com");
  g_autoptr (GPtrArray) c = sg_signature_parse ("Ann\nMeeting on 12.03.2026\n", "Ann", "acme.de");

  g_assert_cmpstr (fact (a, SG_FACT_ORGANISATION, NULL), ==, "Acme GmbH");
  g_assert_null (fact (a, SG_FACT_PHONE, NULL));
  g_assert_null (fact (a, SG_FACT_TITLE, NULL));
  g_assert_cmpuint (b->len, ==, 0);
  g_assert_null (fact (c, SG_FACT_PHONE, NULL));
}

/* A signature of 500 lines is read for SG_SIGNATURE_MAX_LINES lines only. */
static void
test_long (void)
{
  GString *s = g_string_new ("Ann\n");
  g_autoptr (GPtrArray) f = NULL;

  for (guint i = 0; i < 500; i++)
    g_string_append_printf (s, "Tel: +49 30 %07u\n", i);
  f = sg_signature_parse (s->str, "Ann", "acme.de");
  g_assert_cmpuint (f->len, <=, SG_SIGNATURE_MAX_FACTS);
  g_string_free (s, TRUE);
}

static void
test_vcard (void)
{
  static const char card30[] =
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Smith\r\nN:Smith;Ann;;;\r\nTITLE:Head of Research\r\n"
    "ORG:Acme GmbH;Research\r\nTEL;TYPE=CELL:+49 170 1234567\r\nTEL;TYPE=WORK,VOICE:030 1234\r\n"
    "item1.TEL;type=FAX:+49 30 1235 99\r\nADR;TYPE=WORK:;;Hauptstr. 5;Berlin;;10115;Germany\r\n"
    "URL:https://www.acme.de/about\r\nEND:VCARD\r\n";
  static const char card21[] =
    "BEGIN:VCARD\nVERSION:2.1\nN:Doe;John\nFN:John Doe\n"
    "TITLE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Gesch=C3=A4ftsf=C3=BChrer\nTEL;CELL;VOICE:0170 5551234\nEND:VCARD\n"
    "BEGIN:VCARD\nVERSION:4.0\nFN:X\nTEL;VALUE=uri;TYPE=\"voice,cell\":tel:+1-555-555-5555\nEND:VCARD\n";
  g_autofree char *warning = NULL;
  g_autoptr (GPtrArray) a = sg_vcard_parse (card30, strlen (card30), "acme.de", &warning);
  g_autoptr (GPtrArray) b = NULL;

  g_assert_null (warning);
  g_assert_cmpstr (fact (a, SG_FACT_TITLE, NULL), ==, "Head of Research");
  g_assert_cmpstr (fact (a, SG_FACT_ORGANISATION, NULL), ==, "Acme GmbH");
  g_assert_cmpstr (fact (a, SG_FACT_PHONE, "mobile"), ==, "+491701234567");
  g_assert_cmpstr (fact (a, SG_FACT_PHONE, "office"), ==, "+49301234");
  g_assert_cmpstr (fact (a, SG_FACT_PHONE, "fax"), ==, "+4930123599");
  g_assert_cmpstr (fact (a, SG_FACT_ADDRESS, NULL), ==, "Hauptstr. 5, 10115 Berlin, Germany");
  g_assert_cmpstr (fact (a, SG_FACT_WEBSITE, NULL), ==, "acme.de");
  g_assert_cmpint (((const SgFact *) a->pdata[0])->origin, ==, SG_FACT_FROM_VCARD);

  b = sg_vcard_parse (card21, strlen (card21), "acme.de", NULL);
  g_assert_cmpstr (fact (b, SG_FACT_TITLE, NULL), ==, "Geschäftsführer");
  g_assert_cmpstr (fact (b, SG_FACT_PHONE, "mobile"), ==, "+491705551234");
  g_assert_nonnull (strstr ("+15555555555 +491705551234", fact (b, SG_FACT_PHONE, "mobile")));
}

/* A broken vCard: what can be read is kept, a warning says so, nothing crashes. */
static void
test_vcard_broken (void)
{
  static const char *const broken[] = {
    "garbage, no vCard at all",
    "BEGIN:VCARD\nVERSION:3.0\nTITLE:Boss\nTEL;TYPE=CELL\n:::;;\nBEGIN:VCARD\n",
    "BEGIN:VCARD\nTEL;ENCODING=BASE64:!!!!\nEND:VCARD",
    "",
  };

  for (guint i = 0; i < G_N_ELEMENTS (broken); i++) {
    g_autofree char *warning = NULL;
    g_autoptr (GPtrArray) f = sg_vcard_parse (broken[i], strlen (broken[i]), NULL, &warning);

    g_assert_nonnull (f);
    if (i == 0 || i == 3)
      g_assert_nonnull (warning);
  }
}

/* Through a message: facts from the signature and the vCard, not from the quoted part. */
static void
test_message (void)
{
  static const char msg[] =
    "From: Ann Smith <ann@acme.de>\r\nTo: me@mycorp.com\r\nSubject: Re: offer\r\n"
    "Message-ID: <s1@acme.de>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
    "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "Fine.\r\n\r\nRegards,\r\nAnn Smith\r\nCFO\r\n\r\n"
    "On Mon, Bob <me@mycorp.com> wrote:\r\n> offer\r\n> --\r\n> Bob\r\n> Sales Director, MyCorp Inc\r\n"
    "--b\r\nContent-Type: text/vcard\r\n\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nORG:Acme AG\r\nEND:VCARD\r\n"
    "--b--\r\n";
  g_autoptr (SgIdentity) id = sg_identity_new ();
  g_autoptr (SgMessage) m = sg_message_parse (msg, strlen (msg), id, 0, NULL);
  gboolean title = FALSE, org = FALSE;

  g_assert_nonnull (m);
  for (guint i = 0; i < sg_message_get_n_facts (m); i++) {
    const SgFact *f = sg_message_get_fact (m, i);

    g_assert_cmpstr (f->value, !=, "Sales Director");
    if (f->kind == SG_FACT_TITLE)
      title = g_strcmp0 (f->value, "CFO") == 0;
    if (f->kind == SG_FACT_ORGANISATION && f->origin == SG_FACT_FROM_VCARD)
      org = g_strcmp0 (f->value, "Acme AG") == 0;
  }
  g_assert_true (title);
  g_assert_true (org);
}

/* textperf session: links and addresses are taken out of a line and the rest is read; the
 * sender's name in front of it marks it as theirs; " - " separates segments. */
static void
test_links_and_dashes (void)
{
  g_autoptr (GPtrArray) a = sg_signature_parse (
      "R. A. Hettinga <mailto: rah@ibuc.com>\n"
      "The Internet Bearer Underwriting Corporation <http://www.ibuc.com/>\n"
      "44 Farquhar Street, Boston, MA 02131 USA\n", "R. A. Hettinga", "ibuc.com");
  g_autoptr (GPtrArray) b = sg_signature_parse (
      "Gary Lawrence Murphy - garym@teledyn.com - TeleDynamics Communications\n"
      " - blog: http://www.auracom.com/~teledyn - biz: http://teledyn.com/ -\n",
      "Gary Lawrence Murphy", "teledyn.com");
  g_autoptr (GPtrArray) c = sg_signature_parse (
      "Gary Lawrence Murphy <garym@teledyn.com> TeleDynamics Communications Inc\n",
      "Gary Lawrence Murphy", "teledyn.com");
  /* A phone number keeps its dashes. */
  g_autoptr (GPtrArray) d = sg_signature_parse ("Ann Smith\nTel: +1 555 - 010 1234\n", "Ann Smith", NULL);

  g_assert_cmpstr (fact (a, SG_FACT_ORGANISATION, NULL), ==, "The Internet Bearer Underwriting Corporation");
  g_assert_cmpstr (fact (a, SG_FACT_WEBSITE, NULL), ==, "ibuc.com");
  g_assert_cmpstr (fact (a, SG_FACT_ADDRESS, NULL), ==, "44 Farquhar Street, Boston, MA 02131 USA");
  g_assert_cmpstr (fact (b, SG_FACT_ORGANISATION, NULL), ==, "TeleDynamics Communications");
  g_assert_cmpstr (fact (b, SG_FACT_WEBSITE, NULL), ==, "teledyn.com");
  g_assert_cmpuint (count_kind (b, SG_FACT_WEBSITE), ==, 1);
  g_assert_cmpstr (fact (c, SG_FACT_ORGANISATION, NULL), ==, "TeleDynamics Communications Inc");
  g_assert_cmpstr (fact (d, SG_FACT_PHONE, "office"), ==, "+15550101234");
}

/* A guessed organisation (a short line under the name) is capitalised and no label. */
static void
test_no_guessed_org (void)
{
  g_autoptr (GPtrArray) a = sg_signature_parse (
      "Ingo Frommholz                             PGP public keys on homepage\n"
      "ingo@frommholz.org                           http://www.frommholz.org/\n",
      "Ingo Frommholz", "frommholz.org");
  g_autoptr (GPtrArray) b = sg_signature_parse (
      "Julian Bond Email&MSM: julian.bond@voidstar.com\n"
      "Webmaster:              http://www.ecademy.com/\n", "Julian Bond", "voidstar.com");

  g_assert_cmpuint (count_kind (a, SG_FACT_ORGANISATION), ==, 0);
  g_assert_cmpstr (fact (a, SG_FACT_WEBSITE, NULL), ==, "frommholz.org");
  g_assert_cmpuint (count_kind (b, SG_FACT_ORGANISATION), ==, 0);
}

/* The signature of the sender's own mailbox at their company, written from another
 * account, is theirs; a signature naming only someone else's address is not. */
static void
test_own_mailbox_elsewhere (void)
{
  static const char own[] =
    "From: Gary Murphy <garym@freemail.example>\r\nTo: me@mycorp.com\r\nSubject: x\r\n"
    "Message-ID: <g1@freemail.example>\r\n\r\n"
    "Fine.\r\n\r\n-- \r\nGary Murphy - garym@teledyn.com - TeleDynamics Communications\r\n";
  static const char other[] =
    "From: Gary Murphy <garym@freemail.example>\r\nTo: me@mycorp.com\r\nSubject: x\r\n"
    "Message-ID: <g2@freemail.example>\r\n\r\n"
    "Fine.\r\n\r\n-- \r\nAnn Smith - ann@teledyn.com - TeleDynamics Communications\r\n";
  g_autoptr (SgIdentity) id = sg_identity_new ();
  g_autoptr (SgMessage) a = sg_message_parse (own, strlen (own), id, 0, NULL);
  g_autoptr (SgMessage) b = sg_message_parse (other, strlen (other), id, 0, NULL);

  g_assert_cmpuint (sg_message_get_n_facts (a), ==, 1);
  g_assert_cmpstr (sg_message_get_fact (a, 0)->value, ==, "TeleDynamics Communications");
  g_assert_cmpuint (sg_message_get_n_facts (b), ==, 0);
}

/* A card with a delivery LABEL and no ADR (the corpus's 1996 card): the label is the
 * address; an ADR, when there is one, wins. */
static void
test_vcard_label (void)
{
  static const char label[] =
    "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Joseph;Mark\r\nTITLE:Software Architect\r\n"
    "LABEL;WORK;PARCEL;POSTAL;DOM;QUOTED-PRINTABLE:140 Du Bois Street, Suite C=0A=\r\n"
    "Santa Cruz, CA 95060\r\nEND:VCARD\r\n";
  static const char both[] =
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nADR;TYPE=WORK:;;Hauptstr. 5;Berlin;;10115;Germany\r\n"
    "LABEL;TYPE=WORK:Somewhere else 1\\n99999 Nowhere\r\nEND:VCARD\r\n";
  g_autofree char *w1 = NULL;
  g_autofree char *w2 = NULL;
  g_autoptr (GPtrArray) a = sg_vcard_parse (label, strlen (label), "atm.com", &w1);
  g_autoptr (GPtrArray) b = sg_vcard_parse (both, strlen (both), "acme.de", &w2);

  g_assert_null (w1);
  g_assert_cmpstr (fact (a, SG_FACT_ADDRESS, NULL), ==, "140 Du Bois Street, Suite C, Santa Cruz, CA 95060");
  g_assert_cmpstr (fact (a, SG_FACT_TITLE, NULL), ==, "Software Architect");
  g_assert_cmpstr (fact (b, SG_FACT_ADDRESS, NULL), ==, "Hauptstr. 5, 10115 Berlin, Germany");
  g_assert_cmpuint (count_kind (b, SG_FACT_ADDRESS), ==, 1);
}

/* Audit session: wrong readings seen in a user-style import of corpus mail (each also a
 * golden file, tests/corpus/text/audit-*.expected). */
static void
test_audit_noise (void)
{
  /* A personal disclaimer names the employer but is no fact. */
  g_autoptr (GPtrArray) a = sg_signature_parse (
      "Expressed in this posting are my opinions.  They are in no way related\n"
      "to opinions held by my employer, Sun Microsystems.\n", "Albert White", "ireland.sun.com");
  /* A key fingerprint is no address; the phone beside the site is a phone. */
  g_autoptr (GPtrArray) b = sg_signature_parse (
      "Michael Conry   Ph.:+353-1-7161987, Web: http://www.acronymchile.com\n"
      "Key fingerprint = 5508 B563 6791 5C84 A947  CB01 997B 3598 09DE 502C\n", "Michael Conry", "ucd.ie");
  /* A provider's footer under the name and a blank line is not the sender's. */
  g_autoptr (GPtrArray) c = sg_signature_parse (
      "Rgds,\n\nColin Nevin\n\n__________________________________________________\n"
      "Do You Yahoo!?\nEverything you'll ever need on one web page\nhttp://uk.my.yahoo.com\n",
      "Colin Nevin", "yahoo.com");
  /* ... but a box around the signature, opened under the name, is. */
  g_autoptr (GPtrArray) d = sg_signature_parse (
      "Wendy Roberts\n\n===========================================\nWendy Roberts\n"
      "HEAD System Administrator\nPhone:  617-495-7153\n", "Wendy Roberts", "cfa.harvard.edu");
  /* Digits inside a word are no phone. */
  g_autoptr (GPtrArray) e = sg_signature_parse (
      "Cheers....\nX-em-registration: #01E0520310450300B900\nSerial ABC1234567890\n", "Kevin Cosgrove", "doink.com");

  g_assert_cmpuint (a->len, ==, 0);
  g_assert_cmpuint (count_kind (b, SG_FACT_ADDRESS), ==, 0);
  g_assert_cmpstr (fact (b, SG_FACT_PHONE, "office"), ==, "+35317161987");
  g_assert_cmpstr (fact (b, SG_FACT_WEBSITE, NULL), ==, "acronymchile.com");
  g_assert_cmpuint (c->len, ==, 0);
  g_assert_cmpstr (fact (d, SG_FACT_TITLE, NULL), ==, "HEAD System Administrator");
  g_assert_cmpstr (fact (d, SG_FACT_PHONE, "office"), ==, "+16174957153");
  g_assert_cmpuint (e->len, ==, 0);
}

/* Another person's name over a title is a pasted signature; the sender's own name written
 * with accents is not someone else's. */
static void
test_someone_else (void)
{
  g_autoptr (GPtrArray) a = sg_signature_parse (
      "Yours Sincerely,\nTony Wright\nRegional Manager - Marketing\n", "Gary", "optusnet.com.au");
  g_autoptr (GPtrArray) b = sg_signature_parse (
      "Tiarn\xc3\xa1n \xc3\x93 Corr\xc3\xa1in\nConsultant / System Administrator\n"
      "CMG Wireless Data Solutions Ltd.\nTel.: +353 21 4933200\n", "Tiarnan O Corrain", "cmg.com");
  /* No name in From: nothing to compare, the signature is read. */
  g_autoptr (GPtrArray) c = sg_signature_parse ("Tony Wright\nRegional Manager\n", NULL, "acme.com");

  g_assert_cmpuint (a->len, ==, 0);
  g_assert_cmpstr (fact (b, SG_FACT_TITLE, NULL), ==, "Consultant / System Administrator");
  g_assert_cmpstr (fact (c, SG_FACT_TITLE, NULL), ==, "Regional Manager");
}

/* Columns, names before titles, departments beside institutions. */
static void
test_audit_layouts (void)
{
  g_autoptr (GPtrArray) a = sg_signature_parse (
      "Matthias Saou                                World Trade Center\n"
      "-------------                                Edificio Norte 4 Planta\n"
      "System and Network Engineer                  08039 Barcelona, Spain\n"
      "Electronic Group Interactive                 Phone : +34 936 00 23 23\n", "Matthias Saou", "egwn.net");
  g_autoptr (GPtrArray) b = sg_signature_parse (
      "Peter Aherne, Software Engineer, \nMotorola Ireland Ltd.\n"
      "Ph: +353 21 4511234 Mobile: +353 87 2246834\n", "Aherne Peter-pahern02", "motorola.com");
  g_autoptr (GPtrArray) c = sg_signature_parse (
      "Brendan Halpin, Dept of Government and Society, Limerick University, Ireland\n", "Brendan Halpin", "ul.ie");
  /* Not a column: a company line above its street stays the organisation. */
  g_autoptr (GPtrArray) d = sg_signature_parse (
      "Ann Smith\nContoso Pharma\n12 High Street\nLondon\n", "Ann Smith", "gmail.com");
  /* An institution without a department keeps its whole name. */
  g_autoptr (GPtrArray) e = sg_signature_parse (
      "Artem\nInstitute for System Programming, Russian Academy of Sciences\n", "Artem", "ispras.ru");

  g_assert_cmpstr (fact (a, SG_FACT_TITLE, NULL), ==, "System and Network Engineer");
  g_assert_cmpstr (fact (a, SG_FACT_ORGANISATION, NULL), ==, "Electronic Group Interactive");
  g_assert_cmpstr (fact (a, SG_FACT_ADDRESS, NULL), ==, "World Trade Center, Edificio Norte 4 Planta, 08039 Barcelona, Spain");
  g_assert_cmpstr (fact (a, SG_FACT_PHONE, "office"), ==, "+34936002323");
  g_assert_cmpstr (fact (b, SG_FACT_TITLE, NULL), ==, "Software Engineer");
  g_assert_cmpstr (fact (b, SG_FACT_ORGANISATION, NULL), ==, "Motorola Ireland Ltd.");
  g_assert_cmpstr (fact (c, SG_FACT_ORGANISATION, NULL), ==, "Limerick University");
  g_assert_cmpstr (fact (d, SG_FACT_ORGANISATION, NULL), ==, "Contoso Pharma");
  g_assert_cmpstr (fact (d, SG_FACT_ADDRESS, NULL), ==, "12 High Street, London");
  g_assert_cmpstr (fact (e, SG_FACT_ORGANISATION, NULL), ==, "Institute for System Programming, Russian Academy of Sciences");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);
  g_test_set_nonfatal_assertions ();

  g_test_add_func ("/signature/phone-normalize", test_phone_normalize);
  g_test_add_func ("/signature/classic", test_classic);
  g_test_add_func ("/signature/compact", test_compact);
  g_test_add_func ("/signature/noise", test_noise);
  g_test_add_func ("/signature/long", test_long);
  g_test_add_func ("/signature/message", test_message);
  g_test_add_func ("/signature/links-and-dashes", test_links_and_dashes);
  g_test_add_func ("/signature/no-guessed-org", test_no_guessed_org);
  g_test_add_func ("/signature/own-mailbox-elsewhere", test_own_mailbox_elsewhere);
  g_test_add_func ("/signature/audit-noise", test_audit_noise);
  g_test_add_func ("/signature/someone-else", test_someone_else);
  g_test_add_func ("/vcard/label", test_vcard_label);
  g_test_add_func ("/signature/audit-layouts", test_audit_layouts);
  g_test_add_func ("/vcard/versions", test_vcard);
  g_test_add_func ("/vcard/broken", test_vcard_broken);
  return g_test_run ();
}
