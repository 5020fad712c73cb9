/* sg-signature.c: facts about the sender from a signature block. See sg-signature.h.
 *
 * The reading is line by line, each line (or each " | " segment of a one-line signature)
 * classified as the sender's name, a title, an organisation, a phone number, an address, a
 * web site or noise; a disclaimer or a marketing footer ends it. What a line is comes from
 * labels ("Mobile:", "Fax"), word lists in English, German, French and Spanish (titles,
 * company forms, street words), shapes (postal codes, phone digits) and the sender's own
 * name and domain. No regular expressions: every test is a bounded scan of one short line.
 */
#include "config.h"

#include "sg-signature.h"

#include <string.h>

const char *
sg_fact_kind_to_string (SgFactKind kind)
{
  static const char *const names[] = { "title", "organisation", "phone", "address", "website" };

  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (names), NULL);
  return names[kind];
}

const char *
sg_fact_origin_to_string (SgFactOrigin origin)
{
  return origin == SG_FACT_FROM_VCARD ? "vcard" : "signature";
}

static void
fact_free (gpointer p)
{
  SgFact *f = p;

  g_free (f->detail);
  g_free (f->value);
  g_free (f);
}

/* Adds a fact unless the same kind (and detail) holds the same value already; a more
 * confident reading of the same value wins. */
void _sg_fact_add (GPtrArray *facts, SgFactKind kind, const char *detail, const char *value,
                   double confidence, SgFactOrigin origin);
const char *_sg_country_code_for (const char *domain);
char *_sg_strdown (const char *s, gssize len); /* sg-text.c */
#define add_fact _sg_fact_add

void
_sg_fact_add (GPtrArray *facts, SgFactKind kind, const char *detail, const char *value,
              double confidence, SgFactOrigin origin)
{
  g_autofree char *clean = NULL;
  SgFact *f;

  if (value == NULL || facts->len >= SG_SIGNATURE_MAX_FACTS)
    return;
  clean = g_utf8_make_valid (value, -1);
  g_strstrip (clean);
  /* "Software Engineer,": a comma or semicolon left at the end is no part of the value. */
  for (gsize n = strlen (clean); n > 0 && (clean[n - 1] == ',' || clean[n - 1] == ';'); n--)
    clean[n - 1] = '\0';
  g_strstrip (clean);
  if (*clean == '\0')
    return;
  if (g_utf8_strlen (clean, -1) > SG_FACT_MAX_VALUE_CHARS)
    *g_utf8_offset_to_pointer (clean, SG_FACT_MAX_VALUE_CHARS) = '\0';
  for (guint i = 0; i < facts->len; i++) {
    SgFact *o = facts->pdata[i];

    if (o->kind == kind && g_strcmp0 (o->detail, detail) == 0 && strcmp (o->value, clean) == 0) {
      o->confidence = MAX (o->confidence, confidence);
      return;
    }
  }
  f = g_new0 (SgFact, 1);
  f->kind = kind;
  f->detail = g_strdup (detail);
  f->value = g_steal_pointer (&clean);
  f->confidence = confidence;
  f->origin = origin;
  g_ptr_array_add (facts, f);
}

/* --- phone numbers ----------------------------------------------------------------------- */

char *
sg_phone_normalize (const char *text, const char *country_code)
{
  GString *digits = g_string_new (NULL);
  gboolean plus = FALSE, seen_digit = FALSE;
  char *out;

  g_return_val_if_fail (text != NULL, NULL);
  for (const char *p = text; *p; p++) {
    if (*p == '+' && !seen_digit)
      plus = TRUE;
    else if (*p == '(' && p[1] == '0' && p[2] == ')' && (plus || digits->len > 0)) {
      /* "+49 (0)30": the trunk 0 is dialled only inside the country. */
      p += 2;
    } else if (g_ascii_isdigit (*p)) {
      g_string_append_c (digits, *p);
      seen_digit = TRUE;
    }
  }
  if (!plus && g_str_has_prefix (digits->str, "00")) {
    g_string_erase (digits, 0, 2);
    plus = TRUE;
  }
  if (digits->len < 6 || digits->len > 15) {
    g_string_free (digits, TRUE);
    return NULL;
  }
  if (plus)
    out = g_strconcat ("+", digits->str, NULL);
  else if (country_code != NULL && digits->len >= 10 && digits->str[0] != '0' &&
           g_str_has_prefix (digits->str, country_code) && strcmp (country_code, "1") != 0)
    /* "Phone: 49 89 1234567": the '+' was dropped, the country code is still there. */
    out = g_strconcat ("+", digits->str, NULL);
  else if (country_code != NULL && digits->str[0] == '0' && digits->str[1] != '0')
    out = g_strconcat ("+", country_code, digits->str + 1, NULL);
  else if (country_code != NULL && strcmp (country_code, "1") == 0 && digits->len == 10)
    out = g_strconcat ("+1", digits->str, NULL);
  else
    out = g_strdup (digits->str);
  g_string_free (digits, TRUE);
  return out;
}

/* The calling code of a country domain, or NULL. */
const char *
_sg_country_code_for (const char *domain)
{
  static const struct { const char *tld, *code; } codes[] = {
    { "de", "49" }, { "at", "43" }, { "ch", "41" }, { "fr", "33" }, { "be", "32" }, { "nl", "31" },
    { "es", "34" }, { "it", "39" }, { "uk", "44" }, { "ie", "353" }, { "se", "46" }, { "dk", "45" },
    { "no", "47" }, { "fi", "358" }, { "pl", "48" }, { "pt", "351" }, { "lu", "352" }, { "cz", "420" },
    { "au", "61" }, { "nz", "64" }, { "ca", "1" }, { "us", "1" }, { "mx", "52" }, { "ar", "54" },
    { "br", "55" }, { "jp", "81" }, { "in", "91" }, { "edu", "1" }, { "gov", "1" }, { "mil", "1" },
  };
  const char *dot;

  if (domain == NULL || (dot = strrchr (domain, '.')) == NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    if (g_ascii_strcasecmp (dot + 1, codes[i].tld) == 0)
      return codes[i].code;
  return NULL;
}

static const char *const mobile_words[] = { "mobile", "mob", "cell", "cellular", "handy", "mobil",
                                            "portable", "m\xc3\xb3vil", "movil", "gsm", "m", NULL };
static const char *const fax_words[] = { "fax", "telefax", "f", "efax", NULL };
static const char *const office_words[] = { "tel", "t\xc3\xa9l", "phone", "w", "voice", "ofc", "office",
                                            "direct", "dir", "t", "p", "telefon", "telephone",
                                            "t\xc3\xa9l\xc3\xa9phone", "tel\xc3\xa9" "fono", "telefono", "fon", "work",
                                            "b\xc3\xbcro", "zentrale", "o", "d", "ph", "main",
                                            "switchboard", "standard", "fijo", "tfno", "landline", NULL };

/* The word lists as hash sets, built once (a signature line is tested against several
 * lists of up to 130 words). */
typedef enum { SET_MOBILE, SET_FAX, SET_OFFICE, SET_TITLE, SET_ORG, SET_STREET, SET_COUNTRY, SET_ORG_FORM,
               N_SETS } SetId;
static GHashTable *word_set (SetId id);

/* The kind a phone label names, or NULL when @label names none. */
static const char *
phone_kind (const char *label)
{
  g_autofree char *low = _sg_strdown (label, -1);
  g_auto (GStrv) words = NULL;
  const char *kind = NULL;

  for (char *p = low; *p; p++)
    if (*p == ':' || *p == '.' || *p == '/' || *p == '(' || *p == ')' || *p == ',' || *p == '|' ||
        *p == '-' || *p == '\t')
      *p = ' ';
  words = g_strsplit (low, " ", -1);
  for (guint i = 0; words[i] && kind == NULL; i++) {
    if (*words[i] == '\0')
      continue;
    if (g_hash_table_contains (word_set (SET_MOBILE), words[i]))
      kind = "mobile";
    else if (g_hash_table_contains (word_set (SET_FAX), words[i]))
      kind = "fax";
    else if (g_hash_table_contains (word_set (SET_OFFICE), words[i]))
      kind = "office";
  }
  return kind;
}

/* Finds phone numbers in one segment: "Mobile: +49 170 123 4567", "T +1 (555) 010-1234". */
static gboolean
scan_phones (GPtrArray *facts, const char *seg, const char *cc)
{
  const char *p = seg, *label_start = seg;
  gboolean found = FALSE;

  while (*p) {
    const char *start, *end;
    guint ndigits = 0;

    /* The next run of phone characters that starts with a digit, '+' or '('. */
    while (*p && !(g_ascii_isdigit (*p) || *p == '+' || (*p == '(' && g_ascii_isdigit (p[1]))))
      p++;
    if (*p == '\0')
      break;
    start = p;
    for (end = p; *end && (g_ascii_isdigit (*end) || strchr ("+ ()-./\t", *end)); end++)
      if (g_ascii_isdigit (*end))
        ndigits++;
    p = end;
    if (ndigits < 6)
      continue;
    /* Digits inside a word ("#01E0520310450300B900", a key or a serial) are no phone; an
     * extension ("555-1234x22") may follow. */
    if ((g_ascii_isdigit (*start) && start > seg && g_ascii_isalpha (start[-1])) ||
        (g_ascii_isdigit (end[-1]) && g_ascii_isalpha (*end) && *end != 'x' && *end != 'X'))
      continue;
    {
      g_autofree char *label = g_strndup (label_start, start - label_start);
      g_autofree char *number = g_strndup (start, end - start);
      const char *kind = phone_kind (label);
      g_autofree char *norm = NULL;
      /* The label is the last word(s) before the number; a line of digits alone is a phone
       * only with a '+' or enough digits (not a postal code or a date). */
      if (kind == NULL && !(*start == '+' || ndigits >= 9))
        continue;
      /* An address line's "12345 Berlin", a date or "Load: 0.06 0.12" is no phone: without
       * a label, dots separate digits only after a '+'. */
      if (kind == NULL && strchr (number, '.') != NULL && *start != '+')
        continue;
      norm = sg_phone_normalize (number, cc);
      if (norm == NULL)
        continue;
      add_fact (facts, SG_FACT_PHONE, kind ? kind : "phone", norm, kind ? 0.9 : 0.7,
                SG_FACT_FROM_SIGNATURE);
      found = TRUE;
      label_start = end;
    }
  }
  return found;
}

/* --- words ----------------------------------------------------------------------------- */

/* Lower-case words of @s (split at ASCII punctuation and spaces), NULL-terminated. */
static GStrv
words_of (const char *s)
{
  g_autofree char *low = _sg_strdown (s, -1);
  GPtrArray *out = g_ptr_array_new ();
  char *p = low;

  while (*p) {
    char *w;

    while (*p && (g_ascii_ispunct (*p) || g_ascii_isspace (*p)) && *p != '&')
      p++;
    if (!*p)
      break;
    w = p;
    while (*p && !((g_ascii_ispunct (*p) || g_ascii_isspace (*p)) && *p != '&'))
      p++;
    g_ptr_array_add (out, g_strndup (w, p - w));
  }
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (out, FALSE);
}

static gboolean
any_word (GStrv words, SetId set)
{
  GHashTable *table = word_set (set);

  for (guint i = 0; words[i]; i++)
    if (g_hash_table_contains (table, words[i]))
      return TRUE;
  return FALSE;
}

static gboolean
has_digit (const char *s)
{
  for (; *s; s++)
    if (g_ascii_isdigit (*s))
      return TRUE;
  return FALSE;
}

static const char *const title_words[] = {
  "manager", "director", "ceo", "cto", "cfo", "coo", "cio", "cmo", "cso", "founder", "cofounder",
  "engineer", "consultant", "analyst", "partner", "president", "vp", "svp", "evp", "executive",
  "officer", "lead", "specialist", "architect", "developer", "professor", "prof", "researcher",
  "scientist", "assistant", "coordinator", "administrator", "owner", "chairman", "chair",
  "secretary", "advisor", "adviser", "associate", "principal", "representative", "controller",
  "accountant", "maintainer", "economist", "strategist", "buyer", "head", "intern", "editor",
  "designer", "counsel", "attorney", "lawyer", "treasurer", "chief", "programmer",
  "geschäftsführer", "geschäftsführerin", "leiter", "leiterin", "berater", "beraterin",
  "referent", "referentin", "sachbearbeiter", "sachbearbeiterin", "prokurist", "vorstand",
  "inhaber", "inhaberin", "einkäufer", "einkäuferin", "projektleiter", "projektleiterin",
  "vertriebsleiter", "teamleiter", "abteilungsleiter", "entwickler", "ingenieur",
  "directeur", "directrice", "responsable", "ingénieur", "chargé", "chargée", "gérant",
  "gérante", "président", "présidente", "conseiller", "conseillère", "commercial",
  "gerente", "jefe", "jefa", "directora", "consultor", "consultora", "ingeniero", "ingeniera",
  "comercial", "asesor", "asesora", "presidente", "socio", "socia", "coordinador", "coordinadora",
  NULL,
};

static const char *const org_words[] = {
  "inc", "ltd", "llc", "llp", "gmbh", "ag", "sa", "sas", "sarl", "sl", "bv", "nv", "corp",
  "corporation", "limited", "plc", "kg", "gmbh&co", "group", "gruppe", "groupe", "grupo",
  "university", "universität", "université", "universidad", "institute", "institut",
  "instituto", "labs", "technologies", "consulting", "solutions", "systems", "foundation",
  "ev", "spa", "srl", "ab", "oy", "kft", "pty", "ug", "holding", "company", "associates",
  "research", "partners", "bank", "agency", "gbr", "ohg", "kgaa", "se", NULL,
};

/* The org_words that are company forms or institutions. */
static const char *const org_form_words[] = {
  "inc", "ltd", "llc", "llp", "gmbh", "ag", "sa", "sas", "sarl", "sl", "bv", "nv", "corp",
  "corporation", "limited", "plc", "kg", "gmbh&co", "university", "universität", "université",
  "universidad", "institute", "institut", "instituto", "foundation", "ev", "spa", "srl", "ab", "oy",
  "kft", "pty", "ug", "bank", "gbr", "ohg", "kgaa", "se", NULL,
};

static const char *const street_words[] = {
  "street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "drive", "dr", "boulevard",
  "blvd", "suite", "floor", "court", "square", "way", "house", "building", "park", "place",
  "straße", "strasse", "str", "weg", "platz", "allee", "gasse", "ring", "damm", "ufer", "chaussee",
  "rue", "bd", "chemin", "cedex", "bp", "calle", "avenida", "avda", "plaza", "paseo", "via",
  "piazza", "postfach", "box", "po", "piso", "planta", "étage", "quay", "terrace", "crescent",
  "hwy", "highway", "parkway", "pkwy", "hall", NULL,
};

static const char *const countries[] = {
  "germany", "deutschland", "austria", "österreich", "switzerland", "schweiz", "suisse",
  "france", "spain", "españa", "espana", "italy", "italia", "united kingdom", "uk",
  "england", "usa", "united states", "netherlands", "belgium", "belgique", "ireland",
  "sweden", "denmark", "norway", "finland", "poland", "portugal", "luxembourg", "canada",
  "australia", "mexico", "méxico", NULL,
};

static GHashTable *
word_set (SetId id)
{
  static GHashTable *sets[N_SETS];
  static gsize done;

  if (g_once_init_enter (&done)) {
    const char *const *const lists[N_SETS] = { mobile_words, fax_words, office_words, title_words,
                                               org_words, street_words, countries, org_form_words };

    for (guint i = 0; i < N_SETS; i++) {
      sets[i] = g_hash_table_new (g_str_hash, g_str_equal);
      for (const char *const *w = lists[i]; *w; w++)
        g_hash_table_add (sets[i], (gpointer) *w);
    }
    g_once_init_leave (&done, 1);
  }
  return sets[id];
}

/* Lines that end the signature: legal disclaimers, marketing footers, quoted headers. */
static gboolean
is_disclaimer (const char *line)
{
  static const char *const needles[] = {
    "confidential", "disclaimer", "intended recipient", "intended solely", "intended only",
    "if you have received this", "if you are not the", "this e-mail", "this email and",
    "this message and", "this message is", "vertraulich", "diese e-mail", "diese nachricht",
    "ce message", "ce courriel", "ce courrier", "este mensaje", "este correo", "unsubscribe",
    "abmelden", "désinscri", "privacy policy", "privacy notice", "datenschutz", "click here",
    "follow us", "folgen sie uns", "suivez-nous", "síguenos", "please consider the environment",
    "think before you print", "before printing", "registered office", "registered in",
    "handelsregister", "amtsgericht", "registergericht", "ust-id", "vat no", "company number",
    "sitz der gesellschaft", "pflichtangaben", "newsletter", "view in browser",
    "-----original message-----", "sponsored by", "mailing list", "listinfo",
    /* Personal disclaimers: "my opinions ... not those of my employer, Sun Microsystems". */
    "my opinions", "my own opinions", "my personal opinion", "opinions expressed", "views expressed",
    "my employer", "not necessarily reflect", "meine eigene meinung", "meine private meinung",
    "mon employeur", "mi empresa no", NULL,
  };
  g_autofree char *low = _sg_strdown (line, -1);

  for (guint i = 0; needles[i]; i++)
    if (strstr (low, needles[i]) != NULL)
      return TRUE;
  return FALSE;
}

/* "12345 Berlin", "75008 Paris", "CA 94103", "8001 Zürich", "SW1A 1AA", "1012 AB". */
static gboolean
has_postal_code (const char *s)
{
  for (const char *p = s; *p; p++) {
    guint n = 0;

    if (!g_ascii_isdigit (*p) || (p > s && (g_ascii_isalnum (p[-1]) || p[-1] == '+')))
      continue;
    while (g_ascii_isdigit (p[n]))
      n++;
    if ((n == 4 || n == 5) && (p[n] == ' ' || p[n] == '\0' || p[n] == ',') ) {
      const char *q = p + n;

      while (*q == ' ')
        q++;
      /* A city after the code, or a US state before it. */
      if (g_ascii_isupper (*q) || (guchar) *q >= 0xC0)
        return TRUE;
      if (p - s >= 3 && g_ascii_isupper (p[-2]) && g_ascii_isupper (p[-3]) && p[-1] == ' ')
        return TRUE;
    }
    p += n > 0 ? n - 1 : 0;
  }
  /* UK: outward code (letters then a digit) and inward code (digit, two letters). */
  for (const char *p = s; *p; p++) {
    if (g_ascii_isupper (p[0]) && (g_ascii_isdigit (p[1]) || (g_ascii_isupper (p[1]) && g_ascii_isdigit (p[2])))) {
      const char *q = p + 1;

      while (g_ascii_isalnum (*q))
        q++;
      if (q - p >= 2 && q - p <= 4 && *q == ' ' && g_ascii_isdigit (q[1]) && g_ascii_isupper (q[2]) &&
          g_ascii_isupper (q[3]) && !g_ascii_isalnum (q[4]))
        return TRUE;
    }
  }
  return FALSE;
}

/* German and Dutch street names are compounds: "Hauptstraße", "Lindenweg", "Marktplatz". */
static gboolean
street_compound (GStrv words)
{
  static const char *const suffixes[] = { "straße", "strasse", "str", "weg", "platz", "allee",
                                          "gasse", "damm", "ufer", "chaussee", "straat", "laan",
                                          "plein", "gracht", NULL };

  for (guint i = 0; words[i]; i++)
    for (guint j = 0; suffixes[j]; j++)
      if (strlen (words[i]) > strlen (suffixes[j]) + 2 && g_str_has_suffix (words[i], suffixes[j]))
        return TRUE;
  return FALSE;
}

static gboolean
looks_like_address (const char *line, GStrv words)
{
  if (has_postal_code (line))
    return TRUE;
  return has_digit (line) && (any_word (words, SET_STREET) || street_compound (words));
}

static gboolean
is_country (const char *line)
{
  g_autofree char *low = _sg_strdown (line, -1);

  g_strstrip (low);
  return g_hash_table_contains (word_set (SET_COUNTRY), low);
}

/* The web site named in @seg: "www.acme.com", "https://acme.com/about". Social networks and
 * link shorteners are not the sender's site. Returns: (transfer full) (nullable): the host. */
static char *
find_website (const char *seg)
{
  static const char *const social[] = { "linkedin.com", "twitter.com", "x.com", "facebook.com",
                                        "instagram.com", "xing.com", "youtube.com", "t.co",
                                        "bit.ly", "aka.ms", "goo.gl", "tinyurl.com", NULL };
  const char *p = strstr (seg, "://");
  const char *host;
  gsize n;
  g_autofree char *low = NULL;

  if (p != NULL)
    host = p + 3;
  else if ((p = strstr (seg, "www.")) != NULL && (p == seg || !g_ascii_isalnum (p[-1])))
    host = p;
  else
    return NULL;
  for (n = 0; g_ascii_isalnum (host[n]) || host[n] == '.' || host[n] == '-'; n++)
    ;
  while (n > 0 && host[n - 1] == '.')
    n--;
  if (n < 4 || memchr (host, '.', n) == NULL)
    return NULL;
  low = g_ascii_strdown (host, n);
  if (g_str_has_prefix (low, "www."))
    memmove (low, low + 4, strlen (low + 4) + 1);
  for (guint i = 0; social[i]; i++)
    if (strcmp (low, social[i]) == 0 || (g_str_has_suffix (low, social[i]) &&
                                         low[strlen (low) - strlen (social[i]) - 1] == '.'))
      return NULL;
  return g_steal_pointer (&low);
}

/* The sender's name on a line by itself (maybe with a title after a comma). @lw: the
 * line's words; @nw: the words of the name (nullable). */
static gboolean
is_name_words (GStrv lw, GStrv nw)
{
  guint hits = 0, n = 0, long_words = 0;

  if (nw == NULL || nw[0] == NULL)
    return FALSE;
  for (guint i = 0; nw[i]; i++) {
    if (strlen (nw[i]) < 2)
      continue;
    n++;
    if (g_strv_contains ((const char *const *) lw, nw[i]))
      hits++;
  }
  /* Initials ("R. A. Hettinga") are left out on both sides. */
  for (guint i = 0; lw[i]; i++)
    if (strlen (lw[i]) >= 2)
      long_words++;
  return n > 0 && hits == n && long_words <= n + 1;
}

/* @w (words of a part of a line) are all the sender's: "Peter Aherne" of "Aherne
 * Peter-pahern02". */
static gboolean
words_are_name (GStrv w, GStrv nw)
{
  guint n = 0;

  if (nw == NULL)
    return FALSE;
  for (guint i = 0; w[i]; i++) {
    if (strlen (w[i]) < 2)
      continue;
    if (!g_strv_contains ((const char *const *) nw, w[i]))
      return FALSE;
    n++;
  }
  return n > 0;
}

/* The length of a rule at the start of @line ("-----", "=====", "_____"), or 0. */
static gsize
rule_prefix (const char *line)
{
  gsize n = 0;

  if (*line != '-' && *line != '=' && *line != '_')
    return 0;
  while (line[n] == line[0])
    n++;
  return n >= 5 ? n : 0;
}

/* The next line after @from that is not blank is the sender's name: a box around the
 * signature ("Wendy Roberts", then "=====", "Wendy Roberts", her title...). */
static gboolean
name_follows (char **lines, guint from, GStrv name_words)
{
  for (guint j = from; lines[j]; j++) {
    g_autofree char *t = g_strstrip (g_strdup (lines[j]));
    g_auto (GStrv) w = NULL;

    if (*t == '\0')
      continue;
    w = words_of (t);
    return is_name_words (w, name_words);
  }
  return FALSE;
}

/* Another person's name over a title: "Tony Wright" then "Regional Manager - Marketing"
 * under "Yours Sincerely," in mail from "Gary". @lw: the line's words; @nw: the sender's
 * name's words; @next: the next line that is not blank (nullable). The line is two or three
 * capitalised words of letters, none of them the sender's, and no title, organisation or
 * street words; the next line has a title word. */
static gboolean
names_someone_else (const char *line, GStrv lw, GStrv nw, const char *next)
{
  guint n = 0, long_nw = 0;
  g_auto (GStrv) next_words = NULL;

  if (nw == NULL || next == NULL)
    return FALSE;
  for (guint i = 0; nw[i]; i++)
    long_nw += strlen (nw[i]) >= 3;
  if (long_nw == 0)
    return FALSE;
  for (const char *p = line; *p; p++)
    if (!(g_ascii_isalpha (*p) || *p == ' ' || *p == '.' || *p == '-' || *p == '\'' || (guchar) *p >= 0x80))
      return FALSE;
  for (const char *p = line; *p;) {
    while (*p == ' ')
      p++;
    if (*p == '\0')
      break;
    if (!g_unichar_isupper (g_utf8_get_char (p)))
      return FALSE;
    while (*p && *p != ' ')
      p++;
  }
  for (guint i = 0; lw[i]; i++) {
    /* "Tiarnán Ó Corráin" is "Tiarnan O Corrain": compared without accents. */
    g_autofree char *a = g_str_to_ascii (lw[i], "C");

    if (strlen (lw[i]) < 2)
      continue;
    for (guint k = 0; nw[k]; k++) {
      g_autofree char *b = g_str_to_ascii (nw[k], "C");

      if (g_ascii_strcasecmp (a, b) == 0)
        return FALSE;
    }
    n++;
  }
  if (n < 2 || n > 3 || any_word (lw, SET_TITLE) || any_word (lw, SET_ORG) || any_word (lw, SET_STREET))
    return FALSE;
  next_words = words_of (next);
  return any_word (next_words, SET_TITLE);
}

/* The next line after @from that is not blank, stripped; NULL if none. */
static char *
next_line (char **lines, guint from)
{
  for (guint j = from; lines[j]; j++) {
    char *t = g_strstrip (g_strdup (lines[j]));

    if (*t != '\0')
      return t;
    g_free (t);
  }
  return NULL;
}

/* A PGP key's fingerprint or id: groups of hex digits, no address and no phone. */
static gboolean
is_key_line (const char *line)
{
  g_autofree char *low = _sg_strdown (line, -1);

  return strstr (low, "fingerprint") != NULL || strstr (low, "pgp key") != NULL ||
         strstr (low, "gpg key") != NULL || strstr (low, "key id") != NULL;
}

/* The label of the domain that names the organisation: "acme" for mail.acme.co.uk. */
static char *
domain_label (const char *domain)
{
  g_auto (GStrv) parts = NULL;
  guint n;

  if (domain == NULL)
    return NULL;
  parts = g_strsplit (domain, ".", -1);
  n = g_strv_length (parts);
  if (n < 2)
    return NULL;
  /* Skip second-level registries: co.uk, com.au, co.jp. */
  if (n >= 3 && strlen (parts[n - 1]) == 2 && strlen (parts[n - 2]) <= 3)
    return strlen (parts[n - 3]) >= 3 ? g_ascii_strdown (parts[n - 3], -1) : NULL;
  return strlen (parts[n - 2]) >= 3 ? g_ascii_strdown (parts[n - 2], -1) : NULL;
}

static gboolean
mentions_label (const char *line, const char *label)
{
  g_autofree char *low = NULL;
  GString *squeezed;
  gboolean hit;

  if (label == NULL)
    return FALSE;
  low = _sg_strdown (line, -1);
  squeezed = g_string_new (NULL);
  for (const char *p = low; *p; p++)
    if (g_ascii_isalnum (*p))
      g_string_append_c (squeezed, *p);
  hit = strstr (squeezed->str, label) != NULL;
  g_string_free (squeezed, TRUE);
  return hit;
}

/* @seg without its mail addresses and links ("<mailto: ann@acme.com>", "http://acme.com/",
 * "(www.acme.com)") and without the sender's name in front; *@named tells whether the name
 * was there. Returns: (transfer full): what is left, trimmed of spaces and dashes. */
static char *
strip_links (const char *seg, const char *sender_name, gboolean *named)
{
  GString *out = g_string_new (NULL);
  const char *p = seg;
  gsize n;

  *named = FALSE;
  while (*p) {
    const char *end;
    g_autofree char *token = NULL;

    if (*p == ' ') {
      if (out->len > 0 && out->str[out->len - 1] != ' ')
        g_string_append_c (out, ' ');
      p++;
      continue;
    }
    /* A token: up to the next space, or a whole <...> span. */
    if (*p == '<' && (end = strchr (p, '>')) != NULL)
      end++;
    else
      for (end = p; *end && *end != ' '; end++)
        ;
    token = g_strndup (p, end - p);
    if (strchr (token, '@') == NULL && strstr (token, "://") == NULL && strstr (token, "www.") == NULL)
      g_string_append (out, token);
    p = end;
  }
  g_strstrip (out->str);
  out->len = strlen (out->str);
  if (sender_name != NULL && (n = strlen (sender_name)) >= 3 && out->len >= n &&
      g_ascii_strncasecmp (out->str, sender_name, n) == 0 && !g_ascii_isalnum (out->str[n])) {
    g_string_erase (out, 0, (gssize) n);
    *named = TRUE;
  }
  /* Separators and brackets left at the ends go, but not the closing one of a pair that
   * stays ("Institut TELECOM, SudParis Evry (France)"). */
  while (out->len > 0 && strchr (" -,;|/()[]<>", out->str[out->len - 1]) != NULL &&
         !(out->str[out->len - 1] == ')' && memchr (out->str, '(', out->len - 1) != NULL))
    g_string_truncate (out, out->len - 1);
  while (out->len > 0 && strchr (" -,;|/()[]<>", out->str[0]) != NULL &&
         !(out->str[0] == '(' && strchr (out->str, ')') != NULL))
    g_string_erase (out, 0, 1);
  return g_string_free (out, FALSE);
}

/* Enough letters to be read: not empty, not a bare label ("Web:", "E-mail:"). */
static gboolean
worth_reading (const char *s)
{
  guint letters = 0;

  for (const char *p = s; *p; p++)
    if (g_ascii_isalpha (*p) || (guchar) *p >= 0x80)
      letters++;
  return letters >= 2 && s[strlen (s) - 1] != ':';
}

/* Every longer word capitalised, as names of organisations are ("Pittsburg State University",
 * not "PGP public keys on homepage"). */
static gboolean
title_case (const char *seg)
{
  const char *p = seg;

  while (*p) {
    const char *w = p;
    guint n = 0;

    while (*p && *p != ' ')
      p++, n++;
    if (n >= 4 && g_ascii_islower (*w))
      return FALSE;
    while (*p == ' ')
      p++;
  }
  return TRUE;
}

/* Splits a one-line signature "Ann | Head of Sales | Acme" into segments. */
static GStrv
segments_of (const char *line)
{
  GPtrArray *out = g_ptr_array_new ();
  const char *p = line, *start = line;

  for (; *p; p++) {
    gboolean sep = (*p == '|') || (*p == '\t') ||
                   (strncmp (p, " \xc2\xb7 ", 4) == 0) || (strncmp (p, " \xe2\x80\xa2 ", 5) == 0) ||
                   (strncmp (p, "   ", 3) == 0);
    /* "Ann Smith - ann@acme.com - Acme": a dash between words (never inside a number). */
    gboolean dash = !sep && (strncmp (p, " - ", 3) == 0 || strncmp (p, " \xe2\x80\x93 ", 5) == 0) &&
                    p > line && !g_ascii_isdigit (p[-1]) &&
                    !g_ascii_isdigit (p[p[1] == '-' ? 3 : 5]);

    if (dash) {
      g_ptr_array_add (out, g_strstrip (g_strndup (start, p - start)));
      p += p[1] == '-' ? 3 : 5;
      while (*p == ' ')
        p++;
      start = p;
      if (*p == '\0')
        break;
      p--;
      continue;
    }
    if (sep) {
      g_ptr_array_add (out, g_strstrip (g_strndup (start, p - start)));
      while (*p && (*p == '|' || *p == ' ' || *p == '\t' || (guchar) *p >= 0x80) && !g_ascii_isalnum (*p)) {
        if ((guchar) *p >= 0x80 && !(strncmp (p, "\xc2\xb7", 2) == 0 || strncmp (p, "\xe2\x80\xa2", 3) == 0))
          break;
        p++;
      }
      start = p;
      if (*p == '\0')
        break;
    }
  }
  if (*start)
    g_ptr_array_add (out, g_strstrip (g_strdup (start)));
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (out, FALSE);
}

typedef enum { L_NONE, L_NAME, L_TITLE, L_ORG, L_PHONE, L_ADDRESS, L_WEB, L_OTHER } LineKind;

/* Classifies a segment that is no phone, address or web site: title, organisation, or both
 * ("Sales Director, Acme Inc", "Head of Research at Acme"). */
static LineKind
title_or_org (GPtrArray *facts, const char *seg, GStrv words, const char *label, LineKind previous)
{
  guint nwords = g_strv_length (words);
  gboolean title = any_word (words, SET_TITLE);
  gboolean org = any_word (words, SET_ORG) || mentions_label (seg, label);
  static const char *const joins[] = { ", ", " at ", " @ ", " - ", " \xe2\x80\x93 ", " bei ",
                                       " chez ", " en ", NULL };

  if (nwords == 0 || nwords > 9 || strchr (seg, '@') != NULL || g_utf8_strlen (seg, -1) > 80)
    return L_OTHER;
  if (title && org) {
    for (guint i = 0; joins[i]; i++) {
      const char *j = strstr (seg, joins[i]);

      if (j != NULL) {
        g_autofree char *a = g_strndup (seg, j - seg);
        const char *b = j + strlen (joins[i]);
        g_auto (GStrv) aw = words_of (a);

        if (any_word (aw, SET_TITLE)) {
          add_fact (facts, SG_FACT_TITLE, NULL, a, 0.8, SG_FACT_FROM_SIGNATURE);
          add_fact (facts, SG_FACT_ORGANISATION, NULL, b, 0.75, SG_FACT_FROM_SIGNATURE);
          return L_ORG;
        }
      }
    }
    /* "Solutions Consultant", "Research Analyst": a title word last is the head noun. */
    if (g_hash_table_contains (word_set (SET_TITLE), words[nwords - 1]) && !mentions_label (seg, label) &&
        !has_digit (seg)) {
      add_fact (facts, SG_FACT_TITLE, NULL, seg, 0.75, SG_FACT_FROM_SIGNATURE);
      return L_TITLE;
    }
    /* "Head of Acme Research": the organisation's own words make it no title. */
    if (!any_word (words, SET_ORG) || mentions_label (seg, label)) {
      if (has_digit (seg))
        return L_OTHER;
      add_fact (facts, SG_FACT_ORGANISATION, NULL, seg, mentions_label (seg, label) ? 0.85 : 0.7,
                SG_FACT_FROM_SIGNATURE);
      return L_ORG;
    }
  }
  if (org && !has_digit (seg)) {
    /* "Dept of Government and Society, Limerick University, Ireland": a department and a
     * country beside the institution are no part of its name. */
    if (strstr (seg, ", ") != NULL && any_word (words, SET_ORG_FORM)) {
      static const char *const units[] = { "dept", "department", "division", "faculty", "school of",
                                           "abteilung", "lehrstuhl", "fachbereich", "département",
                                           "departamento", NULL };
      g_auto (GStrv) parts = g_strsplit (seg, ", ", -1);
      GString *kept = g_string_new (NULL);
      guint n = 0, dropped = 0;

      for (guint i = 0; parts[i]; i++, n++) {
        g_autofree char *low = _sg_strdown (parts[i], -1);
        gboolean unit = is_country (parts[i]);

        for (guint u = 0; units[u] && !unit; u++)
          unit = g_str_has_prefix (low, units[u]) &&
                 !g_ascii_isalpha (low[strlen (units[u])]);
        if (unit) {
          dropped++;
          continue;
        }
        if (kept->len > 0)
          g_string_append (kept, ", ");
        g_string_append (kept, parts[i]);
      }
      if (dropped > 0 && dropped < n) {
        g_auto (GStrv) kw = words_of (kept->str);

        if (any_word (kw, SET_ORG_FORM)) {
          add_fact (facts, SG_FACT_ORGANISATION, NULL, kept->str, 0.82, SG_FACT_FROM_SIGNATURE);
          g_string_free (kept, TRUE);
          return L_ORG;
        }
      }
      g_string_free (kept, TRUE);
    }
    /* A company form or an institution ("Inc", "University") names the organisation more
     * surely than a word such as "Research" or "Systems" ("Research Computing Center"). */
    add_fact (facts, SG_FACT_ORGANISATION, NULL, seg,
              mentions_label (seg, label) ? 0.9 : any_word (words, SET_ORG_FORM) ? 0.82 : 0.8,
              SG_FACT_FROM_SIGNATURE);
    return L_ORG;
  }
  if (title && nwords <= 8 && !has_digit (seg)) {
    add_fact (facts, SG_FACT_TITLE, NULL, seg, previous == L_NAME ? 0.85 : 0.8, SG_FACT_FROM_SIGNATURE);
    return L_TITLE;
  }
  /* A short capitalised line right after the title is usually the organisation. */
  if ((previous == L_TITLE || previous == L_NAME) && nwords <= 5 && !has_digit (seg) &&
      g_unichar_isupper (g_utf8_get_char (seg)) && title_case (seg) && seg[strlen (seg) - 1] != ':')
    return L_OTHER + 1;
  return L_OTHER;
}

static int
compare_confidence (gconstpointer a, gconstpointer b)
{
  const SgFact *fa = *(SgFact *const *) a, *fb = *(SgFact *const *) b;

  if (fa->kind != fb->kind)
    return (int) fa->kind - (int) fb->kind;
  return fa->confidence < fb->confidence ? 1 : fa->confidence > fb->confidence ? -1 : 0;
}

GPtrArray *
sg_signature_parse (const char *signature, const char *sender_name, const char *sender_domain)
{
  GPtrArray *facts = g_ptr_array_new_with_free_func (fact_free);
  g_auto (GStrv) lines = NULL;
  g_autofree char *label = domain_label (sender_domain);
  const char *cc = _sg_country_code_for (sender_domain);
  GString *address = g_string_new (NULL);
  LineKind previous = L_NONE;
  gboolean name_in_line = FALSE, blank_before = FALSE;
  g_autofree char *column_guess = NULL; /* a guessed organisation in a right column */
  guint read = 0;
  g_auto (GStrv) name_words = sender_name ? words_of (sender_name) : NULL;

  if (signature == NULL) {
    g_string_free (address, TRUE);
    return facts;
  }
  lines = g_strsplit (signature, "\n", SG_SIGNATURE_MAX_LINES + 1);
  for (guint i = 0; lines[i] && read < SG_SIGNATURE_MAX_LINES; i++) {
    char *line = g_strstrip (lines[i]);
    g_auto (GStrv) segs = NULL;
    g_auto (GStrv) line_words = NULL;
    g_autofree char *guess_above = g_steal_pointer (&column_guess);
    gboolean column_line = FALSE;
    LineKind kind = L_NONE;

    /* A separator line ("=====", "-----") after the first facts ends the signature, and so
     * does one after the sender's name and a blank line (a mail provider's advertising under
     * "Rgds, Colin Nevin"). A rule under the left column of a two-column signature
     * ("-------------        Edificio Norte 4 Planta") is decoration: the right column goes on. */
    {
      gsize rule = rule_prefix (line);

      if (rule > 0) {
        const char *after = line + rule;

        while (*after == ' ' || *after == '\t')
          after++;
        if (*after != '\0' && after - (line + rule) >= 3 && *after != line[0]) {
          line = (char *) after;
          column_line = TRUE;
        }
        else if (facts->len > 0 || (previous == L_NAME && blank_before && !name_follows (lines, i + 1, name_words)))
          break;
      }
    }
    /* Decorations: "*Ann Smith*", "| Acme |", "• Tel". */
    while (*line == '*' || *line == '|' || *line == '_' || *line == '>' || *line == '~')
      line++;
    g_strstrip (line);
    if (*line == '\0') {
      blank_before = TRUE;
      /* A blank line ends an address block. */
      if (address->len > 0) {
        add_fact (facts, SG_FACT_ADDRESS, NULL, address->str, 0.75, SG_FACT_FROM_SIGNATURE);
        g_string_truncate (address, 0);
      }
      continue;
    }
    read++;
    blank_before = FALSE;
    if (is_disclaimer (line))
      break;
    if (is_key_line (line))
      continue;
    line_words = words_of (line);
    if (is_name_words (line_words, name_words)) {
      previous = L_NAME;
      continue;
    }
    /* Someone else's name and title before any fact of the sender's: a pasted or forwarded
     * message's signature, nothing about the sender. */
    if (facts->len == 0 && read <= 3) {
      g_autofree char *next = next_line (lines, i + 1);

      if (names_someone_else (line, line_words, name_words, next))
        break;
    }
    segs = segments_of (line);
    name_in_line = FALSE;
    for (guint s = 0; segs[s]; s++) {
      const char *seg = segs[s];
      g_auto (GStrv) words = NULL;
      g_autofree char *web = NULL;
      g_autofree char *rest = NULL;
      g_autofree char *unnamed = NULL;
      LineKind k;

      if (*seg == '\0')
        continue;
      if (segs[1] == NULL && line_words != NULL && strcmp (seg, line) == 0) {
        /* The segment is the line: its words are known. */
        words = g_steal_pointer (&line_words);
      } else {
        words = words_of (seg);
        if (segs[1] != NULL && is_name_words (words, name_words)) {
          kind = L_NAME;
          name_in_line = TRUE;
          continue;
        }
      }
      web = find_website (seg);
      if (web != NULL) {
        add_fact (facts, SG_FACT_WEBSITE, NULL, web, label && strstr (web, label) ? 0.9 : 0.8,
                  SG_FACT_FROM_SIGNATURE);
        kind = L_WEB;
      }
      if (strchr (seg, '@') != NULL && strchr (seg, ' ') == NULL)
        continue; /* an address: known from the headers */
      /* "Ann Smith <ann@acme.com> Acme Inc", "The Acme Corporation <http://www.acme.com/>":
       * what is left without the addresses, the links and the name is read on. */
      if (web != NULL && strstr (seg, " @ ") != NULL)
        continue; /* "((ann @ acme.com)) ((www.acme.com))": an address written out beside it */
      if ((web != NULL || strchr (seg, '@') != NULL) && strstr (seg, " @ ") == NULL) {
        gboolean named;

        rest = strip_links (seg, sender_name, &named);
        if (named) {
          name_in_line = TRUE;
          if (kind == L_NONE)
            kind = L_NAME;
        }
        if (!worth_reading (rest) || (web != NULL && strchr (rest, ':') != NULL)) {
          /* "Ph.:+353-1-7161987, Web: http://...": a phone beside the site. */
          if (has_digit (rest) && scan_phones (facts, rest, cc) && kind == L_NONE)
            kind = L_PHONE;
          continue;
        }
        seg = rest;
        g_strfreev (words);
        words = words_of (seg);
      }
      /* "ville.skytta at iki.fi", "ann (at) acme (dot) com": an address written out. */
      {
        const char *at = strstr (seg, " at ");

        if (at == NULL)
          at = strstr (seg, "(at)");
        if (at != NULL && (strchr (at, '.') != NULL || strstr (at, "dot") != NULL) &&
            strchr (at + 4, ' ') == NULL)
          continue;
        if (strstr (seg, "(at)") != NULL || strstr (seg, "[at]") != NULL)
          continue;
      }
      /* "Peter Aherne, Software Engineer": the sender's name in front is no part of it. */
      {
        const char *comma = strstr (seg, ", ");

        if (comma != NULL && name_words != NULL && comma[2] != '\0') {
          g_autofree char *head = g_strndup (seg, comma - seg);
          g_auto (GStrv) head_words = words_of (head);

          if (words_are_name (head_words, name_words)) {
            g_free (unnamed);
            unnamed = g_strdup (comma + 2);
            seg = unnamed;
            g_strfreev (words);
            words = words_of (seg);
            name_in_line = TRUE;
            if (kind == L_NONE)
              kind = L_NAME;
          }
        }
      }
      if (looks_like_address (seg, words) && !phone_kind (seg)) {
        const char *colon = strchr (seg, ':');

        /* "US Mail: 1905 Main St", "Adresse: ...": the label is no part of it. */
        if (colon != NULL && colon - seg < 20 && colon[1] == ' ') {
          g_autofree char *label_part = g_strndup (seg, colon - seg);

          if (!has_digit (label_part))
            seg = colon + 2;
        }
        /* "Ann Smith        World Trade Center" over "------      Edificio Norte 4 Planta": the
         * short line above the street in the right column was the building, not an
         * organisation. */
        if (address->len == 0 && guess_above != NULL && (s > 0 || column_line)) {
          for (guint f = 0; f < facts->len; f++) {
            const SgFact *o = facts->pdata[f];

            if (o->kind == SG_FACT_ORGANISATION && strcmp (o->value, guess_above) == 0) {
              g_ptr_array_remove_index (facts, f);
              g_string_append (address, guess_above);
              break;
            }
          }
        }
        if (address->len > 0)
          g_string_append (address, ", ");
        g_string_append (address, seg);
        kind = L_ADDRESS;
        continue;
      }
      /* "Dublin 4", "Cambridge": a short place line right after a street line. */
      if (address->len > 0 && previous == L_ADDRESS && kind == L_NONE && g_strv_length (words) <= 3 &&
          g_unichar_isupper (g_utf8_get_char (seg)) && !any_word (words, SET_TITLE) &&
          !any_word (words, SET_ORG) && !phone_kind (seg) && strchr (seg, '@') == NULL) {
        g_string_append_printf (address, ", %s", seg);
        kind = L_ADDRESS;
        continue;
      }
      if (address->len > 0 && is_country (seg)) {
        g_string_append_printf (address, ", %s", seg);
        kind = L_ADDRESS;
        continue;
      }
      if (has_digit (seg) && scan_phones (facts, seg, cc)) {
        kind = L_PHONE;
        continue;
      }
      k = title_or_org (facts, seg, words, label, kind != L_NONE ? kind : previous);
      if (k == L_OTHER + 1) {
        add_fact (facts, SG_FACT_ORGANISATION, NULL, seg, 0.6, SG_FACT_FROM_SIGNATURE);
        if (s > 0) {
          g_free (column_guess);
          column_guess = g_strdup (seg);
        }
        k = L_ORG;
      }
      kind = k;
    }
    if (kind != L_ADDRESS && address->len > 0) {
      add_fact (facts, SG_FACT_ADDRESS, NULL, address->str, 0.75, SG_FACT_FROM_SIGNATURE);
      g_string_truncate (address, 0);
    }
    previous = name_in_line && kind != L_ADDRESS ? L_NAME : kind;
  }
  if (address->len > 0)
    add_fact (facts, SG_FACT_ADDRESS, NULL, address->str, 0.75, SG_FACT_FROM_SIGNATURE);
  g_string_free (address, TRUE);

  /* One title, organisation, address and site: the most confident reading. */
  g_ptr_array_sort (facts, compare_confidence);
  for (guint i = 1; i < facts->len;) {
    SgFact *a = facts->pdata[i - 1], *b = facts->pdata[i];

    if (a->kind == b->kind && b->kind != SG_FACT_PHONE)
      g_ptr_array_remove_index (facts, i);
    else
      i++;
  }
  return facts;
}
