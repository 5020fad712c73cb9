/* sg-text.c: the readable text of a message, split into own words, signature and forwarded
 * text. See sg-text.h. */
#include "config.h"

#include "sg-text.h"
#include "sg-private.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <string.h>

struct _SgText {
  SgTextSource source;
  char *body;
  char *signature;
  char *forwarded;
  GPtrArray *vcards;   /* char*, NULL-terminated */
  GPtrArray *warnings; /* char*, NULL-terminated */
};

static SgText *
text_new (void)
{
  SgText *t = g_new0 (SgText, 1);

  t->vcards = g_ptr_array_new_null_terminated (0, g_free, TRUE);
  t->warnings = g_ptr_array_new_null_terminated (0, g_free, TRUE);
  return t;
}

void
sg_text_free (SgText *text)
{
  if (text == NULL)
    return;
  g_free (text->body);
  g_free (text->signature);
  g_free (text->forwarded);
  g_ptr_array_unref (text->vcards);
  g_ptr_array_unref (text->warnings);
  g_free (text);
}

static void G_GNUC_PRINTF (2, 3)
warn (SgText *t, const char *format, ...)
{
  va_list args;

  if (t->warnings->len >= 16)
    return;
  va_start (args, format);
  g_ptr_array_add (t->warnings, g_strdup_vprintf (format, args));
  va_end (args);
}

char *_sg_strdown (const char *s, gssize len);

/* g_utf8_strdown(), without its Unicode tables for ASCII text (most lines of most mail). */
char *
_sg_strdown (const char *s, gssize len)
{
  gsize n = len < 0 ? strlen (s) : (gsize) len;

  for (gsize i = 0; i < n; i++)
    if ((guchar) s[i] >= 0x80 || s[i] == '\0')
      return g_utf8_strdown (s, len);
  return g_ascii_strdown (s, (gssize) n);
}

/* Cuts @s at @max bytes on a character boundary. */
static void
utf8_truncate (GString *s, gsize max)
{
  if (s->len <= max)
    return;
  const char *end = g_utf8_find_prev_char (s->str, s->str + max + 1);

  g_string_truncate (s, end ? (gsize) (end - s->str) : 0);
}

/* --- HTML ------------------------------------------------------------------------------ */

typedef struct {
  GString *out;
  gsize cap;
  int skip;            /* inside script, style, head ... */
  int quote;           /* inside a quoted reply (blockquote, Gmail's gmail_quote) */
  int pre;
  GByteArray *stack;   /* per open element: what it added to skip/quote/pre (bits) */
  gboolean truncated;
  htmlParserCtxtPtr ctxt;
} HtmlState;

enum { POP_SKIP = 1, POP_QUOTE = 2, POP_PRE = 4 };

static gboolean
name_in (const char *name, const char *const *names)
{
  for (; *names; names++)
    if (g_ascii_strcasecmp (name, *names) == 0)
      return TRUE;
  return FALSE;
}

static const char *const skip_names[] = { "script", "style", "head", "title", "noscript",
                                           "template", "svg", "object", NULL };
static const char *const block_names[] = { "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4",
                                            "h5", "h6", "table", "ul", "ol", "hr", "blockquote",
                                            "pre", "dd", "dt", "section", "article", "header",
                                            "footer", "address", "body", NULL };

static void
html_newline (HtmlState *s)
{
  if (s->skip > 0 || s->quote > 0)
    return;
  /* Trailing spaces go; at most one blank line in a row. */
  while (s->out->len > 0 && s->out->str[s->out->len - 1] == ' ')
    g_string_truncate (s->out, s->out->len - 1);
  if (s->out->len >= 2 && s->out->str[s->out->len - 1] == '\n' && s->out->str[s->out->len - 2] == '\n')
    return;
  if (s->out->len > 0)
    g_string_append_c (s->out, '\n');
}

static void
html_limit (HtmlState *s)
{
  if (s->out->len > s->cap && !s->truncated) {
    s->truncated = TRUE;
    xmlStopParser (s->ctxt);
  }
}

static void
html_start (void *data, const xmlChar *xname, const xmlChar **attrs)
{
  HtmlState *s = data;
  const char *name = (const char *) xname;
  guint8 pop = 0;

  if (name_in (name, skip_names)) {
    s->skip++;
    pop |= POP_SKIP;
  } else if (g_ascii_strcasecmp (name, "blockquote") == 0) {
    html_newline (s);
    s->quote++;
    pop |= POP_QUOTE;
  } else {
    for (const xmlChar **a = attrs; a && a[0]; a += 2) {
      const char *v = (const char *) a[1];

      /* Gmail's and Thunderbird's quoted parts, Outlook's reply header. */
      if (v != NULL && g_ascii_strcasecmp ((const char *) a[0], "class") == 0 &&
          (strstr (v, "gmail_quote") || strstr (v, "moz-cite-prefix") ||
           strstr (v, "yahoo_quoted"))) {
        html_newline (s);
        s->quote++;
        pop |= POP_QUOTE;
        break;
      }
    }
    if (g_ascii_strcasecmp (name, "pre") == 0) {
      s->pre++;
      pop |= POP_PRE;
    }
    if (name_in (name, block_names))
      html_newline (s);
    else if ((g_ascii_strcasecmp (name, "td") == 0 || g_ascii_strcasecmp (name, "th") == 0) &&
             s->out->len > 0 && s->out->str[s->out->len - 1] != '\n' && s->skip == 0 && s->quote == 0)
      g_string_append_c (s->out, ' ');
  }
  /* Void elements never end; keep the stack for the others only. */
  if (!(g_ascii_strcasecmp (name, "br") == 0 || g_ascii_strcasecmp (name, "hr") == 0 ||
        g_ascii_strcasecmp (name, "img") == 0 || g_ascii_strcasecmp (name, "meta") == 0 ||
        g_ascii_strcasecmp (name, "link") == 0 || g_ascii_strcasecmp (name, "input") == 0 ||
        g_ascii_strcasecmp (name, "col") == 0 || g_ascii_strcasecmp (name, "wbr") == 0))
    g_byte_array_append (s->stack, &pop, 1);
}

static void
html_end (void *data, const xmlChar *xname)
{
  HtmlState *s = data;
  const char *name = (const char *) xname;

  if (name_in (name, block_names) && g_ascii_strcasecmp (name, "br") != 0)
    html_newline (s);
  if (g_ascii_strcasecmp (name, "br") == 0 || g_ascii_strcasecmp (name, "hr") == 0 ||
      g_ascii_strcasecmp (name, "img") == 0 || g_ascii_strcasecmp (name, "meta") == 0 ||
      g_ascii_strcasecmp (name, "link") == 0 || g_ascii_strcasecmp (name, "input") == 0 ||
      g_ascii_strcasecmp (name, "col") == 0 || g_ascii_strcasecmp (name, "wbr") == 0)
    return;
  if (s->stack->len > 0) {
    guint8 pop = s->stack->data[s->stack->len - 1];

    g_byte_array_set_size (s->stack, s->stack->len - 1);
    if (pop & POP_SKIP)
      s->skip--;
    if (pop & POP_QUOTE)
      s->quote--;
    if (pop & POP_PRE)
      s->pre--;
  }
}

static void
html_characters (void *data, const xmlChar *ch, int len)
{
  HtmlState *s = data;
  const char *p = (const char *) ch, *end = p + len;

  if (s->skip > 0 || s->quote > 0 || s->truncated)
    return;
  while (p < end) {
    gunichar c = g_utf8_get_char_validated (p, end - p);
    const char *next;

    if (c == (gunichar) -1 || c == (gunichar) -2) {
      p++;
      continue;
    }
    next = g_utf8_next_char (p);
    if (s->pre > 0 && c == '\n') {
      g_string_append_c (s->out, '\n');
    } else if (g_unichar_isspace (c) || c == 0xA0 || c == 0x200B || c == 0xFEFF) {
      /* White space collapses; none at the start of a line. */
      if (s->out->len > 0 && s->out->str[s->out->len - 1] != ' ' && s->out->str[s->out->len - 1] != '\n')
        g_string_append_c (s->out, ' ');
    } else if (!g_unichar_iscntrl (c)) {
      g_string_append_len (s->out, p, next - p);
    }
    p = next;
  }
  html_limit (s);
}

static void
html_silent (void *ctx, const char *msg, ...)
{
}

static void
xml_init (void)
{
  static gsize done;

  if (g_once_init_enter (&done)) {
    /* libxml2 is thread-safe for separate parser contexts once initialised. */
    xmlInitParser ();
    g_once_init_leave (&done, 1);
  }
}

char *
sg_text_html_to_text (const char *html, gsize len, gboolean *truncated)
{
  xmlSAXHandler sax;
  HtmlState s = { 0 };

  xml_init ();
  if (truncated)
    *truncated = FALSE;
  if (len > SG_TEXT_MAX_HTML_BYTES) {
    len = SG_TEXT_MAX_HTML_BYTES;
    if (truncated)
      *truncated = TRUE;
  }
  memset (&sax, 0, sizeof sax);
  sax.startElement = html_start;
  sax.endElement = html_end;
  sax.characters = html_characters;
  sax.cdataBlock = html_characters;
  sax.warning = html_silent;
  sax.error = html_silent;
  s.out = g_string_sized_new (MIN (len, 4096));
  s.cap = SG_TEXT_MAX_PART_BYTES;
  s.stack = g_byte_array_new ();
  s.ctxt = htmlCreatePushParserCtxt (&sax, &s, NULL, 0, NULL, XML_CHAR_ENCODING_UTF8);
  if (s.ctxt != NULL) {
    htmlCtxtUseOptions (s.ctxt, HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                HTML_PARSE_RECOVER | HTML_PARSE_NOIMPLIED | HTML_PARSE_IGNORE_ENC);
    /* Fed in slices, so that a stop at the output cap takes effect soon. */
    for (gsize off = 0; off < len && !s.truncated;) {
      gsize n = MIN (len - off, (gsize) 65536);

      htmlParseChunk (s.ctxt, html + off, (int) n, 0);
      off += n;
    }
    if (!s.truncated)
      htmlParseChunk (s.ctxt, NULL, 0, 1);
    htmlFreeParserCtxt (s.ctxt);
  }
  g_byte_array_unref (s.stack);
  if (truncated && s.truncated)
    *truncated = TRUE;
  utf8_truncate (s.out, s.cap);
  return g_string_free (s.out, FALSE);
}

/* --- splitting plain text ----------------------------------------------------------------- */

static const char *
skip_space (const char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  return s;
}

static gboolean
is_blank (const char *s)
{
  return *skip_space (s) == '\0';
}

static gboolean
is_quoted (const char *line)
{
  const char *s = skip_space (line), *p = s;

  if (*s == '>')
    return TRUE;
  /* Supercite's initials: "    f> Mike says", "R> variety". */
  while (p - s < 3 && g_ascii_isalpha (*p))
    p++;
  return p > s && *p == '>' && (p[1] == ' ' || p[1] == '\0' || p[1] == '\r');
}

/* A rule with a title: "------------ Yahoo! Groups Sponsor ---------~-->". */
static gboolean
starts_rule (const char *line)
{
  const char *s = skip_space (line);
  char c = *s;
  guint n = 0;

  if (c != '-' && c != '_' && c != '=')
    return FALSE;
  while (s[n] == c)
    n++;
  return n >= 5;
}

/* A rule of asterisks around a legal notice: "**********". */
static gboolean
is_star_rule (const char *line)
{
  const char *s = skip_space (line);
  gsize n = 0;

  while (s[n] == '*')
    n++;
  return n >= 10 && is_blank (s + n);
}

/* Case-insensitive ASCII prefix test (the needles are ASCII or exact UTF-8). */
static gboolean
has_prefix_ci (const char *s, const char *prefix)
{
  return g_ascii_strncasecmp (s, prefix, strlen (prefix)) == 0;
}

/* "--- end forwarded text", "----- End forwarded message -----", "End of forwarded message". */
static gboolean
ends_forward (const char *line)
{
  const char *s = skip_space (line);

  while (*s == '-' || *s == ' ')
    s++;
  return has_prefix_ci (s, "end forwarded") || has_prefix_ci (s, "end of forwarded");
}

/* The length of @s without trailing white space. */
static gsize
trimmed_len (const char *s)
{
  gsize n = strlen (s);

  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
    n--;
  return n;
}

/* "On Tue, 3 Mar 2026, Ann wrote:", "Am ... schrieb Ann <ann@x>:", "Le ... a écrit :",
 * "El ... escribió:", "Ann <ann@x> writes:" — the end of a reply's attribution line: a
 * line ending in ':' with a verb of writing in it. */
static gboolean
ends_attribution (const char *line)
{
  static const char *const verbs[] = { "wrote", "writes", "schrieb", "geschrieben", "a \xc3\xa9" "crit",
                                       "escribi\xc3\xb3", "said", "scritto", NULL };
  gsize n = trimmed_len (line);
  g_autofree char *low = NULL;

  if (n == 0 || line[n - 1] != ':' || n > 300)
    return FALSE;
  low = g_ascii_strdown (line, (gssize) n);
  for (guint i = 0; verbs[i]; i++)
    if (strstr (low, verbs[i]) != NULL)
      return TRUE;
  return FALSE;
}

static gboolean
starts_attribution (const char *line)
{
  const char *s = skip_space (line);

  return has_prefix_ci (s, "On ") || has_prefix_ci (s, "Am ") || has_prefix_ci (s, "Le ") ||
         has_prefix_ci (s, "El ") || has_prefix_ci (s, "Quoting ");
}

/* Kinds of line that end the own text. */
typedef enum { CUT_NONE, CUT_QUOTED, CUT_FORWARDED } CutKind;

/* "-----Original Message-----", "---------- Forwarded message ---------", "Begin forwarded
 * message:" and their German, French and Spanish forms. */
static CutKind
separator_kind (const char *line)
{
  static const char *const original[] = { "original message", "ursprüngliche nachricht",
                                          "original-nachricht", "message d'origine",
                                          "mensaje original", "message original", NULL };
  static const char *const forwarded[] = { "forwarded message", "weitergeleitete nachricht",
                                           "message transféré", "mensaje reenviado",
                                           "message transfere", NULL };
  static const char *const begins[] = { "begin forwarded message", "begin forwarded text",
                                        "anfang der weitergeleiteten",
                                        "début du message réexpédié", "inicio del mensaje reenviado",
                                        NULL };
  const char *s = skip_space (line);
  g_autofree char *low = NULL;

  if (*s != '-' && *s != 'B' && *s != 'b' && *s != 'A' && *s != 'a' && *s != 'D' && *s != 'd' &&
      *s != 'I' && *s != 'i')
    return CUT_NONE;
  if (strlen (s) > 80)
    return CUT_NONE;
  low = _sg_strdown (s, -1);
  for (guint i = 0; begins[i]; i++)
    if (g_str_has_prefix (low + strspn (low, "- "), begins[i]))
      return CUT_FORWARDED;
  if (*s != '-')
    return CUT_NONE;
  for (guint i = 0; original[i]; i++)
    if (strstr (low, original[i]))
      return CUT_QUOTED;
  for (guint i = 0; forwarded[i]; i++)
    if (strstr (low, forwarded[i]))
      return CUT_FORWARDED;
  return CUT_NONE;
}

static gboolean
header_line (const char *line, const char *const *names)
{
  const char *s = skip_space (line);

  /* Outlook's HTML puts the label in bold: "*From:*". */
  if (*s == '*')
    s++;
  for (; *names; names++)
    if (has_prefix_ci (s, *names))
      return TRUE;
  return FALSE;
}

static const char *const from_names[] = { "From:", "Von:", "De:", "De :", "Da:", "Van:", NULL };
static const char *const sent_names[] = { "Sent:", "Date:", "Gesendet:", "Datum:", "Envoy\xc3\xa9 :",
                                          "Envoy\xc3\xa9:", "Date :", "Enviado:", "Enviado el:",
                                          "Fecha:", "Inviato:", "Verzonden:", NULL };
static const char *const subject_names[] = { "Subject:", "Betreff:", "Objet :", "Objet:", "Asunto:",
                                             "To:", "An:", "\xc3\x80 :", "Para:", "Oggetto:",
                                             "Onderwerp:", NULL };

/* An Outlook reply header: From: then, within five lines, Sent:/Date: and Subject:/To:. */
static gboolean
outlook_header (char **lines, guint i, guint n)
{
  gboolean sent = FALSE, subject = FALSE;
  const char *s = skip_space (lines[i]);

  /* Most lines: not "From:", "Von:", "De:", "Da:" or "Van:" (header_line's test, first letter). */
  if (*s == '*')
    s++;
  if (*s != 'F' && *s != 'f' && *s != 'V' && *s != 'v' && *s != 'D' && *s != 'd')
    return FALSE;
  if (!header_line (lines[i], from_names))
    return FALSE;
  for (guint j = i + 1; j < n && j <= i + 6; j++) {
    if (header_line (lines[j], sent_names))
      sent = TRUE;
    else if (header_line (lines[j], subject_names))
      subject = TRUE;
  }
  return sent && subject;
}

static gboolean
is_underscore_rule (const char *line)
{
  const char *s = skip_space (line);
  gsize n = 0;

  for (; *s == '_'; s++)
    n++;
  return n >= 10 && is_blank (s);
}

/* Sign-offs: a short line that closes the own words ("Best regards,"). */
static gboolean
is_signoff (const char *line)
{
  static const char *const phrases[] = {
    "best regards", "kind regards", "warm regards", "regards", "best wishes", "best", "cheers",
    "thanks", "thank you", "many thanks", "thanks and regards", "thanks & regards", "sincerely",
    "yours sincerely", "yours truly", "yours faithfully", "all the best", "with best regards",
    "with kind regards", "br", "rgds", "greetings",
    "mit freundlichen gr\xc3\xbc\xc3\x9f" "en", "mit freundlichen gruessen", "freundliche gr\xc3\xbc\xc3\x9f" "e",
    "viele gr\xc3\xbc\xc3\x9f" "e", "beste gr\xc3\xbc\xc3\x9f" "e", "liebe gr\xc3\xbc\xc3\x9f" "e",
    "herzliche gr\xc3\xbc\xc3\x9f" "e", "gr\xc3\xbc\xc3\x9f" "e", "gru\xc3\x9f", "mfg", "vg",
    "cordialement", "bien cordialement", "bien \xc3\xa0 vous", "salutations", "meilleures salutations",
    "bonne journ\xc3\xa9" "e", "amicalement",
    "saludos", "un saludo", "saludos cordiales", "atentamente", "un cordial saludo", "gracias",
    NULL,
  };
  const char *s = skip_space (line);
  gsize n = trimmed_len (s);
  g_autofree char *low = NULL;

  if (n == 0 || n > 40)
    return FALSE;
  for (;;) {
    if (n > 0 && (s[n - 1] == ',' || s[n - 1] == '!' || s[n - 1] == '.' || s[n - 1] == ' '))
      n--;
    /* Full-width '！' and '，' (CJK input methods). */
    else if (n >= 3 && (memcmp (s + n - 3, "\xef\xbc\x81", 3) == 0 || memcmp (s + n - 3, "\xef\xbc\x8c", 3) == 0))
      n -= 3;
    else
      break;
  }
  low = _sg_strdown (s, (gssize) n);
  for (guint i = 0; phrases[i]; i++)
    if (strcmp (low, phrases[i]) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
is_mobile_footer (const char *line)
{
  const char *s = skip_space (line);

  return has_prefix_ci (s, "Sent from my ") || has_prefix_ci (s, "Sent from Mail for") ||
         has_prefix_ci (s, "Get Outlook for") || has_prefix_ci (s, "Von meinem ") ||
         has_prefix_ci (s, "Envoy\xc3\xa9 de mon ") || has_prefix_ci (s, "Enviado desde mi ");
}

/* Joins lines [@from, @to), leaving out the @dropped ones (nullable) without a trace, and
 * squeezing runs of blank lines into one. */
static char *
join_lines (char **lines, const guint8 *dropped, guint from, guint to)
{
  GString *s = g_string_new (NULL);
  guint blank = 0;

  for (guint i = from; i < to; i++) {
    if (lines[i] == NULL || (dropped && dropped[i]))
      continue;
    if (is_blank (lines[i])) {
      blank++;
      continue;
    }
    if (s->len > 0)
      g_string_append (s, blank > 0 ? "\n\n" : "\n");
    blank = 0;
    g_string_append_len (s, lines[i], trimmed_len (lines[i]));
  }
  return g_string_free (s, FALSE);
}

/* A separator line: "--", "-----", "_____", "=====". */
static gboolean
is_rule (const char *line)
{
  const char *s = skip_space (line);
  char c = *s;
  gsize n = 0;

  if (c != '-' && c != '_' && c != '=')
    return FALSE;
  while (*s == c) {
    s++;
    n++;
  }
  return is_blank (s) && (c == '-' ? n >= 2 : n >= 10);
}

/* What mailing lists append to every message. */
static gboolean
is_list_footer (char **lines, const guint8 *dropped, guint from, guint to)
{
  static const char *const needles[] = { "mailing list", "listinfo", "list maintainer",
                                         "unsubscribe", "sponsored by", "subscription",
                                         "mailman", "list-request", "archives at", "groups sponsor",
                                         /* a company's legal notice under a rule */
                                         "confidential", "intended recipient", "intended solely",
                                         "privileged",
                                         /* free mail providers' advertising */
                                         "msn messenger", "msn explorer", "msn hotmail",
                                         "do you yahoo", "yahoo! mail", "get your free", NULL };

  for (guint i = from; i < to; i++) {
    g_autofree char *low = NULL;

    if (dropped[i] || is_blank (lines[i]))
      continue;
    low = g_ascii_strdown (lines[i], -1);
    for (guint k = 0; needles[k]; k++)
      if (strstr (low, needles[k]) != NULL)
        return TRUE;
  }
  return FALSE;
}

/* The sender's display name on a line of its own ("Ann Smith", "ANN SMITH"; "Wendy Roberts"
 * for "Wendy P. Roberts"). */
static gboolean
is_sender_line (const char *line, const char *name)
{
  const char *s = skip_space (line);
  gsize n = trimmed_len (s);
  const char *first_end, *last;

  if (name == NULL || (first_end = strchr (name, ' ')) == NULL || n == 0 || n > 60)
    return FALSE;
  if (n == strlen (name) && g_ascii_strncasecmp (s, name, n) == 0)
    return TRUE;
  /* First and last name without the middle ones. */
  last = strrchr (name, ' ') + 1;
  return n == (gsize) (first_end - name) + 1 + strlen (last) &&
         g_ascii_strncasecmp (s, name, first_end - name) == 0 && s[first_end - name] == ' ' &&
         g_ascii_strncasecmp (s + (first_end - name) + 1, last, strlen (last)) == 0;
}

/* Splits decoded text into body, signature and forwarded text. @subject (nullable) tells an
 * Outlook forward from a reply; @sender_name (nullable) marks a signature that starts with
 * the sender's name and no sign-off. */
static void
split_text (SgText *t, const char *text, const char *subject, const char *sender_name)
{
  /* The lines, cut in place in one copy of the text (as g_strsplit (text, "\n", -1) would
   * cut them, without an allocation per line). */
  g_autofree char *copy = g_strdup (text);
  g_autofree char **lines = NULL;
  guint n = 0, own_end, sig, signoff;
  gboolean forward_subject = FALSE, sig_has_line = FALSE;
  char alt_quote = 0;
  CutKind cut = CUT_NONE;
  g_autofree guint8 *dropped = NULL;

  if (*copy != '\0') {
    n = 1;
    for (const char *p = copy; *p; p++)
      if (*p == '\n')
        n++;
  }
  lines = g_new (char *, n + 1);
  if (n > 0) {
    guint k = 0;

    lines[k++] = copy;
    for (char *p = copy; *p; p++)
      if (*p == '\n') {
        *p = '\0';
        lines[k++] = p + 1;
      }
  }
  lines[n] = NULL;
  own_end = sig = signoff = n;
  if (subject != NULL) {
    const char *s = skip_space (subject);

    forward_subject = has_prefix_ci (s, "fw:") || has_prefix_ci (s, "fwd:") ||
                      has_prefix_ci (s, "wg:") || has_prefix_ci (s, "tr:") || has_prefix_ci (s, "rv:");
  }
  for (guint i = 0; i < n; i++) {
    char *l = lines[i];
    gsize len = strlen (l);

    if (len > 0 && l[len - 1] == '\r')
      l[len - 1] = '\0';
  }

  /* 1. Where the own text ends: a separator, or an Outlook header block. */
  for (guint i = 0; i < n && cut == CUT_NONE; i++) {
    CutKind k = separator_kind (lines[i]);

    if (k == CUT_NONE && outlook_header (lines, i, n))
      k = forward_subject ? CUT_FORWARDED : CUT_QUOTED;
    if (k != CUT_NONE) {
      cut = k;
      own_end = i;
      if (i > 0 && is_underscore_rule (lines[i - 1]))
        own_end = i - 1;
    }
  }
  dropped = g_malloc0 (n + 1);
  if (cut == CUT_FORWARDED) {
    guint end = n;

    /* A forward that says where it ends ("--- end forwarded text"): what follows is the
     * sender's own again (their signature). */
    for (guint j = own_end + 1; j < n && end == n; j++)
      if (ends_forward (lines[j]))
        end = j;
    t->forwarded = join_lines (lines, NULL, own_end, end < n ? end + 1 : n);
    if (end < n) {
      memset (dropped + own_end, 1, end + 1 - own_end);
      own_end = n;
    }
  }

  /* 2. Quoted lines and their attribution go; a quote marked "# " or "| " is known by the
   * line after the attribution. */
  for (guint i = 0; i < own_end; i++) {
    if (dropped[i])
      continue;
    if (is_quoted (lines[i]) ||
        (alt_quote != 0 && *skip_space (lines[i]) == alt_quote &&
         (skip_space (lines[i])[1] == ' ' || skip_space (lines[i])[1] == '\0'))) {
      dropped[i] = 1;
      continue;
    }
    if (ends_attribution (lines[i])) {
      gboolean before_quote = FALSE;
      guint j;

      for (j = i + 1; j < own_end && is_blank (lines[j]); j++)
        ;
      before_quote = j >= own_end || is_quoted (lines[j]);
      if (before_quote || starts_attribution (lines[i]) ||
          (i > 0 && starts_attribution (lines[i - 1]))) {
        /* Gmail wraps long attributions onto a second line. */
        if (i > 0 && !starts_attribution (lines[i]) && starts_attribution (lines[i - 1]) &&
            strlen (lines[i - 1]) < 100)
          dropped[i - 1] = 1;
        dropped[i] = 1;
        if (j < own_end && (*skip_space (lines[j]) == '#' || *skip_space (lines[j]) == '|') &&
            skip_space (lines[j])[1] == ' ')
          alt_quote = *skip_space (lines[j]);
      }
    }
  }

  /* 3. Mailing-list footers and legal notices go, block by block from the end: a separator
   * line ("-----", a titled "---- Yahoo! Groups Sponsor ----~-->", "*****") and, before the
   * next one, the list's or the notice's words. A rule with nothing after it closes a box:
   * the block above it is looked at. */
  for (;;) {
    guint rule = own_end, seen = 0, after = 0;

    for (guint i = own_end; i-- > 0 && seen < 14;) {
      if (dropped[i] || is_blank (lines[i]))
        continue;
      seen++;
      if (is_rule (lines[i]) || starts_rule (lines[i]) || is_star_rule (lines[i])) {
        rule = i;
        break;
      }
      after++;
    }
    if (rule == own_end)
      break;
    if (after == 0 && strcmp (lines[rule], "-- ") != 0 && strcmp (lines[rule], "--") != 0) {
      own_end = rule;
      continue;
    }
    /* A titled rule's title may name the list ("Yahoo! Groups Sponsor"). */
    if (!is_list_footer (lines, dropped, is_rule (lines[rule]) ? rule + 1 : rule, own_end))
      break;
    /* "-- ", a signature, then a titled rule and the list's footer: only the footer goes. */
    if (strcmp (lines[rule], "-- ") == 0 || strcmp (lines[rule], "--") == 0) {
      guint inner = own_end;
      gboolean own = FALSE;

      for (guint k = rule + 1; k < own_end && inner == own_end; k++) {
        if (dropped[k] || is_blank (lines[k]))
          continue;
        if (own && starts_rule (lines[k]) && is_list_footer (lines, dropped, k, own_end))
          inner = k;
        else if (!starts_rule (lines[k]))
          own = !is_list_footer (lines, dropped, k, k + 1);
        if (!own)
          break;
      }
      if (inner < own_end) {
        own_end = inner;
        break;
      }
    }
    own_end = rule;
  }

  /* 4. The signature: after the last "-- " line, else after a sign-off near the end, else
   * from a line with the sender's name. */
  for (guint i = own_end, after = 0; i-- > 0;) {
    if (dropped[i])
      continue;
    if (strcmp (lines[i], "-- ") == 0 || strcmp (lines[i], "--") == 0) {
      sig = i;
      break;
    }
    /* "---" and "----" only close a short block: "---" also opens a patch's diffstat. */
    if ((strcmp (lines[i], "---") == 0 || strcmp (lines[i], "----") == 0) && after > 0 && after <= 6) {
      sig = i;
      break;
    }
    if (!is_blank (lines[i]))
      after++;
  }
  if (sig == n) {
    guint seen = 0, name_line = n;

    for (guint i = own_end; i-- > 0 && seen < 14;) {
      if (dropped[i] || is_blank (lines[i]))
        continue;
      seen++;
      if (is_sender_line (lines[i], sender_name) && i + 1 < own_end)
        name_line = i;
      if (is_mobile_footer (lines[i])) {
        sig = i;
        sig_has_line = TRUE;
        continue;
      }
      if (is_signoff (lines[i])) {
        signoff = i;
        break;
      }
    }
    if (signoff < n) {
      sig = signoff;
      sig_has_line = TRUE;
    } else if (name_line < n && sig == n) {
      sig = name_line;
      sig_has_line = TRUE;
    }
  }
  if (sig < own_end) {
    guint from = sig_has_line ? sig : sig + 1, kept = 0, total = 0, to = from;

    for (guint i = from; i < own_end; i++) {
      if (dropped[i] || is_blank (lines[i]))
        continue;
      total++;
      if (kept < SG_TEXT_MAX_SIGNATURE_LINES) {
        kept++;
        to = i + 1;
      }
    }
    if (total > SG_TEXT_MAX_SIGNATURE_LINES)
      warn (t, "signature of %u lines; the first %u were kept", total, SG_TEXT_MAX_SIGNATURE_LINES);
    t->signature = join_lines (lines, dropped, from, to);
    if (*t->signature == '\0')
      g_clear_pointer (&t->signature, g_free);
    own_end = sig;
  }
  {
    g_autofree char *body = join_lines (lines, dropped, 0, own_end);
    GString *s = g_string_new (body);

    if (s->len > SG_TEXT_MAX_BODY_BYTES) {
      warn (t, "own text of %" G_GSIZE_FORMAT " bytes; the first %" G_GSIZE_FORMAT " were kept",
            s->len, SG_TEXT_MAX_BODY_BYTES);
      utf8_truncate (s, SG_TEXT_MAX_BODY_BYTES);
    }
    t->body = g_string_free (s, FALSE);
  }
}

SgText *
sg_text_new_from_plain (const char *text, gssize len, const char *sender_name)
{
  SgText *t = text_new ();
  g_autofree char *valid = NULL;

  g_return_val_if_fail (text != NULL || len == 0, t);
  valid = g_utf8_make_valid (text ? text : "", len);
  t->source = SG_TEXT_SOURCE_PLAIN;
  split_text (t, valid, NULL, sender_name);
  return t;
}

/* --- MIME parts -------------------------------------------------------------------------- */

/* The decoded content of @part as UTF-8, at most @cap bytes. */
static char *
read_part (SgText *t, GMimePart *part, gsize cap, gboolean convert, gboolean *cut)
{
  GMimeDataWrapper *wrapper = g_mime_part_get_content (part);
  g_autoptr (GMimeStream) filtered = NULL;
  GMimeContentEncoding encoding;
  const char *charset;
  GString *out;
  char buf[8192];

  *cut = FALSE;
  if (wrapper == NULL || g_mime_data_wrapper_get_stream (wrapper) == NULL)
    return g_strdup ("");
  g_mime_stream_reset (g_mime_data_wrapper_get_stream (wrapper));
  filtered = g_mime_stream_filter_new (g_mime_data_wrapper_get_stream (wrapper));
  encoding = g_mime_data_wrapper_get_encoding (wrapper);
  if (encoding != GMIME_CONTENT_ENCODING_DEFAULT) {
    g_autoptr (GMimeFilter) f = g_mime_filter_basic_new (encoding, FALSE);

    if (f)
      g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), f);
  }
  charset = g_mime_object_get_content_type_parameter (GMIME_OBJECT (part), "charset");
  if (convert && charset != NULL && g_ascii_strcasecmp (charset, "utf-8") != 0 &&
      g_ascii_strcasecmp (charset, "us-ascii") != 0) {
    g_autoptr (GMimeFilter) f = g_mime_filter_charset_new (charset, "UTF-8");

    if (f == NULL) {
      /* An unknown charset: the bytes are read as Windows-1252 (or kept, if UTF-8). */
      g_autofree char *safe = g_utf8_make_valid (charset, MIN (strlen (charset), 40));

      warn (t, "unknown charset \"%s\"; text read as windows-1252", safe);
      f = g_mime_filter_charset_new ("windows-1252", "UTF-8");
    }
    if (f)
      g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), f);
  }
  {
    g_autoptr (GMimeFilter) f = g_mime_filter_dos2unix_new (FALSE);

    g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), f);
  }
  out = g_string_new (NULL);
  for (;;) {
    gssize got = g_mime_stream_read (filtered, buf, sizeof buf);

    if (got <= 0)
      break;
    if (out->len + (gsize) got > cap) {
      g_string_append_len (out, buf, cap - out->len);
      *cut = TRUE;
      break;
    }
    g_string_append_len (out, buf, got);
  }
  if (convert && !g_utf8_validate (out->str, out->len, NULL)) {
    /* No charset named (or a wrong one): Windows-1252 is what such mail almost always is. */
    g_autofree char *conv = g_convert (out->str, out->len, "UTF-8", "WINDOWS-1252", NULL, NULL, NULL);

    if (conv != NULL) {
      g_string_assign (out, conv);
    } else {
      g_autofree char *valid = g_utf8_make_valid (out->str, out->len);

      g_string_assign (out, valid);
    }
  }
  return g_string_free (out, FALSE);
}

typedef struct {
  SgText *text;
  GMimePart *plain;
  GMimePart *html;
  guint parts;
} Walk;

static gboolean
is_attachment (GMimeObject *obj)
{
  GMimeContentDisposition *d = g_mime_object_get_content_disposition (obj);

  return d != NULL && g_mime_content_disposition_is_attachment (d);
}

static void
walk (Walk *w, GMimeObject *obj, int depth)
{
  GMimeContentType *ct;

  if (obj == NULL || depth > 16)
    return;
  if (++w->parts > SG_TEXT_MAX_PARTS) {
    if (w->parts == SG_TEXT_MAX_PARTS + 1)
      warn (w->text, "more than %d MIME parts; the rest were not read for text", SG_TEXT_MAX_PARTS);
    return;
  }
  if (GMIME_IS_MULTIPART (obj)) {
    GMimeMultipart *mp = GMIME_MULTIPART (obj);
    int n = g_mime_multipart_get_count (mp);

    for (int i = 0; i < n; i++)
      walk (w, g_mime_multipart_get_part (mp, i), depth + 1);
    return;
  }
  /* A message/rfc822 part is someone else's message: neither its text nor its vCards. */
  if (!GMIME_IS_PART (obj))
    return;
  ct = g_mime_object_get_content_type (obj);
  {
    const char *type = ct ? g_mime_content_type_get_media_type (ct) : "text";
    const char *sub = ct ? g_mime_content_type_get_media_subtype (ct) : "plain";
    const char *filename = g_mime_part_get_filename (GMIME_PART (obj));
    gboolean vcard = (g_ascii_strcasecmp (type, "text") == 0 &&
                      (g_ascii_strcasecmp (sub, "vcard") == 0 || g_ascii_strcasecmp (sub, "x-vcard") == 0 ||
                       g_ascii_strcasecmp (sub, "directory") == 0)) ||
                     (filename != NULL && (g_str_has_suffix (filename, ".vcf") ||
                                           g_str_has_suffix (filename, ".VCF")));

    if (vcard) {
      gboolean cut;
      char *raw;

      if (w->text->vcards->len >= SG_TEXT_MAX_VCARDS)
        return;
      raw = read_part (w->text, GMIME_PART (obj), SG_TEXT_MAX_VCARD_BYTES, TRUE, &cut);
      if (cut)
        warn (w->text, "vCard attachment over %" G_GSIZE_FORMAT " bytes; cut", SG_TEXT_MAX_VCARD_BYTES);
      g_ptr_array_add (w->text->vcards, raw);
      return;
    }
    if (g_ascii_strcasecmp (type, "text") != 0 || is_attachment (obj))
      return;
    if (g_ascii_strcasecmp (sub, "plain") == 0 && w->plain == NULL)
      w->plain = GMIME_PART (obj);
    else if (g_ascii_strcasecmp (sub, "html") == 0 && w->html == NULL)
      w->html = GMIME_PART (obj);
  }
}

SgText *
sg_text_new_from_mime (GMimeMessage *mime, const char *sender_name)
{
  SgText *t = text_new ();
  Walk w = { .text = t };
  g_autofree char *text = NULL;
  gboolean cut = FALSE;

  g_return_val_if_fail (GMIME_IS_MESSAGE (mime), t);
  walk (&w, g_mime_message_get_mime_part (mime), 0);
  if (w.plain != NULL) {
    text = read_part (t, w.plain, SG_TEXT_MAX_PART_BYTES, TRUE, &cut);
    t->source = SG_TEXT_SOURCE_PLAIN;
    /* An empty text/plain beside real HTML: the HTML is the text. */
    if (w.html != NULL && is_blank (text))
      g_clear_pointer (&text, g_free);
  }
  if (text == NULL && w.html != NULL) {
    g_autofree char *html = read_part (t, w.html, SG_TEXT_MAX_HTML_BYTES, TRUE, &cut);
    gboolean html_cut = FALSE;

    text = sg_text_html_to_text (html, strlen (html), &html_cut);
    cut = cut || html_cut;
    t->source = SG_TEXT_SOURCE_HTML;
  }
  if (cut)
    warn (t, "text part over %" G_GSIZE_FORMAT " bytes; the rest was not read", SG_TEXT_MAX_PART_BYTES);
  if (text == NULL) {
    t->source = SG_TEXT_SOURCE_NONE;
    t->body = g_strdup ("");
    return t;
  }
  split_text (t, text, g_mime_message_get_subject (mime), sender_name);
  return t;
}

/* --- getters ----------------------------------------------------------------------------- */

SgTextSource
sg_text_get_source (const SgText *text)
{
  return text->source;
}

const char *
sg_text_source_to_string (SgTextSource source)
{
  switch (source) {
  case SG_TEXT_SOURCE_PLAIN: return "plain";
  case SG_TEXT_SOURCE_HTML: return "html";
  default: return "none";
  }
}

const char *
sg_text_get_body (const SgText *text)
{
  return text->body ? text->body : "";
}

const char *
sg_text_get_signature (const SgText *text)
{
  return text->signature;
}

const char *
sg_text_get_forwarded (const SgText *text)
{
  return text->forwarded;
}

const char *const *
sg_text_get_vcards (const SgText *text)
{
  static const char *const empty[] = { NULL };

  return text->vcards->pdata ? (const char *const *) text->vcards->pdata : empty;
}

const char *const *
sg_text_get_warnings (const SgText *text)
{
  static const char *const empty[] = { NULL };

  return text->warnings->pdata ? (const char *const *) text->warnings->pdata : empty;
}
