/* sg-message.c: metadata extraction from one message with GMime. */
#include "config.h"

#include "sg-message.h"
#include "sg-private.h"
#include "sg-signature.h"
#include "sg-text.h"
#include "sg-topics.h"

#include <string.h>

struct _SgMessage {
  char *id;
  gboolean id_is_hash;
  gint64 date;
  int tz_offset;
  gboolean date_fallback;
  char *subject;
  SgDirection direction;
  gboolean internal;
  gboolean bulk;
  char *in_reply_to;
  char *thread_root;
  GPtrArray *references;   /* char*, NULL-terminated */
  GArray *participants;    /* SgParticipant, strings owned in strings */
  GStringChunk *strings;
  GPtrArray *warnings;     /* char*, NULL-terminated */
  /* Content (issue 9): NULL when the message was parsed without it. */
  SgText *text;
  GPtrArray *facts;        /* SgFact about the sender */
  GPtrArray *topics;       /* SgTopic */
  GPtrArray *content_warnings; /* char*, NULL-terminated */
  GPtrArray *calendars;    /* GBytes: text/calendar parts and .ics attachments (sg-ical.c) */
};

G_DEFINE_QUARK (sg-message-error-quark, sg_message_error)

static gboolean is_list_address (GPtrArray *lists, const char *addr);

GMimeParserOptions *
_sg_parser_options (void)
{
  static GMimeParserOptions *options;

  if (g_once_init_enter (&options)) {
    static const char *fallback[] = { "UTF-8", "windows-1252", NULL };
    GMimeParserOptions *o;

    _sg_gmime_init ();
    o = g_mime_parser_options_new ();
    g_mime_parser_options_set_address_compliance_mode (o, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_rfc2047_compliance_mode (o, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode (o, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_fallback_charsets (o, fallback);
    g_once_init_leave (&options, o);
  }
  return options;
}

void
_sg_gmime_init (void)
{
  static gsize done;

  if (g_once_init_enter (&done)) {
    g_mime_init ();
    g_once_init_leave (&done, 1);
  }
}

static SgMessage *
message_new (void)
{
  SgMessage *m = g_new0 (SgMessage, 1);

  m->references = g_ptr_array_new_null_terminated (0, g_free, TRUE);
  m->participants = g_array_new (FALSE, FALSE, sizeof (SgParticipant));
  m->strings = g_string_chunk_new (512);
  m->warnings = g_ptr_array_new_null_terminated (0, g_free, TRUE);
  return m;
}

void
sg_message_free (SgMessage *message)
{
  if (message == NULL)
    return;
  g_free (message->id);
  g_free (message->subject);
  g_free (message->in_reply_to);
  g_free (message->thread_root);
  g_ptr_array_unref (message->references);
  g_array_unref (message->participants);
  g_string_chunk_free (message->strings);
  g_ptr_array_unref (message->warnings);
  g_clear_pointer (&message->text, sg_text_free);
  g_clear_pointer (&message->facts, g_ptr_array_unref);
  g_clear_pointer (&message->topics, g_ptr_array_unref);
  g_clear_pointer (&message->content_warnings, g_ptr_array_unref);
  if (message->calendars)
    g_ptr_array_unref (message->calendars);
  g_free (message);
}

static void G_GNUC_PRINTF (2, 3)
warn (SgMessage *m, const char *format, ...)
{
  va_list args;

  /* Bounded: a hostile message could otherwise produce a warning per address. */
  if (m->warnings->len >= 32)
    return;
  va_start (args, format);
  g_ptr_array_add (m->warnings, g_strdup_vprintf (format, args));
  va_end (args);
}

/* Makes @s valid UTF-8 on one line, capped at @max_chars characters. */
static char *
one_line (const char *s, glong max_chars)
{
  g_autofree char *valid = NULL;
  GString *out;

  if (s == NULL)
    return NULL;
  valid = g_utf8_make_valid (s, -1);
  out = g_string_sized_new (strlen (valid));
  glong n = 0;

  for (const char *p = valid; *p && n < max_chars; p = g_utf8_next_char (p), n++) {
    gunichar c = g_utf8_get_char (p);

    if (g_unichar_iscntrl (c) || c == 0x2028 || c == 0x2029) {
      if (out->len > 0 && out->str[out->len - 1] != ' ')
        g_string_append_c (out, ' ');
      continue;
    }
    g_string_append_unichar (out, c);
  }
  g_strchomp (out->str);
  out->len = strlen (out->str);
  if (out->len == 0) {
    g_string_free (out, TRUE);
    return NULL;
  }
  return g_string_free (out, FALSE);
}

/* A Message-ID as found, without brackets or white space; NULL if empty or too long. */
static char *
clean_id (const char *id)
{
  g_autofree char *s = NULL;
  char *p;
  gsize len;

  if (id == NULL)
    return NULL;
  s = g_strstrip (g_strdup (id));
  p = s;
  if (*p == '<')
    p++;
  len = strlen (p);
  if (len > 0 && p[len - 1] == '>')
    p[--len] = '\0';
  if (len == 0 || len > SG_MESSAGE_MAX_ID_BYTES || !g_utf8_validate (p, len, NULL))
    return NULL;
  for (const char *q = p; *q; q++)
    if ((guchar) *q <= ' ')
      return NULL;
  return g_strdup (p);
}

/* GMime's parser stops at the first id without an '@' ("<yes> <a@b> <c@d>" gives only
 * "yes"). When it returns fewer ids than the header has '<', the <...> tokens are taken
 * one by one instead; clean_ref() then drops the ones that are not Message-IDs. */
static GMimeReferences *
parse_references (const char *text)
{
  GMimeReferences *refs = g_mime_references_parse (_sg_parser_options (), text);
  int brackets = 0;

  for (const char *p = text; *p; p++)
    brackets += *p == '<';
  if (refs != NULL && g_mime_references_length (refs) >= brackets)
    return refs;
  if (refs == NULL)
    refs = g_mime_references_new ();
  else
    g_mime_references_clear (refs);
  for (const char *p = strchr (text, '<'); p != NULL; p = strchr (p, '<')) {
    const char *end = strchr (p + 1, '>');
    g_autofree char *id = NULL;

    if (end == NULL)
      break;
    id = g_strndup (p + 1, end - p - 1);
    g_mime_references_append (refs, id);
    p = end + 1;
  }
  return refs;
}

/* An id in References or In-Reply-To. It must look like a Message-ID (have an '@'): people
 * answer "yes" to git send-email's In-Reply-To prompt, and every such "<yes>" would join
 * one giant thread. */
static char *
clean_ref (const char *id)
{
  char *out = clean_id (id);

  if (out != NULL && strchr (out, '@') == NULL)
    g_clear_pointer (&out, g_free);
  return out;
}

/* @obj's (first) header @name, or NULL: its raw value can be read without decoding it. */
static GMimeHeader *
find_header (GMimeObject *obj, const char *name)
{
  return g_mime_header_list_get_header (g_mime_object_get_header_list (obj), name);
}

/* The raw value of @obj's header @name when some address in it has two '@' ("a@b@c.d");
 * NULL otherwise (nearly always: one scan of the raw value, nothing decoded). */
static const char *
header_with_two_at (GMimeObject *obj, const char *name)
{
  GMimeHeader *h = find_header (obj, name);
  const char *raw = h ? g_mime_header_get_raw_value (h) : NULL;
  const char *at = raw ? strchr (raw, '@') : NULL;

  for (; at != NULL; at = strchr (at + 1, '@')) {
    gsize run = strcspn (at + 1, "@ \t\r\n,;<>()\"");

    if (at[1 + run] == '@')
      return raw;
  }
  return NULL;
}

/* Whether @addr (normalised: lower case) stands in @raw followed by another '@', where
 * GMime cut it. */
static gboolean
cut_at_second_at (const char *raw, const char *addr)
{
  gsize n = strlen (addr);

  for (const char *p = raw; *p; p++)
    if (g_ascii_strncasecmp (p, addr, n) == 0 && p[n] == '@')
      return TRUE;
  return FALSE;
}

static void
add_participant (SgMessage *m, const SgIdentity *identity, GPtrArray *lists,
                 InternetAddressMailbox *mb, SgHeaderRole role, const char *two_at)
{
  const char *raw = internet_address_mailbox_get_addr (mb);
  g_autoptr (GError) error = NULL;
  g_autofree char *addr = NULL;
  g_autofree char *name = NULL;
  SgParticipant p = { 0 };

  if (raw == NULL || *raw == '\0')
    return;
  addr = sg_address_normalize (raw, &error);
  if (addr == NULL) {
    warn (m, "%s: %s", sg_header_role_to_string (role), error->message);
    return;
  }
  /* GMime reads "Name <a@b@c.d>" as "a@b": an address nobody wrote, and a person "Name". */
  if (two_at != NULL && cut_at_second_at (two_at, addr)) {
    warn (m, "%s: “%s” is what is left of an address with two “@”; not recorded",
          sg_header_role_to_string (role), addr);
    return;
  }
  for (guint i = 0; i < m->participants->len; i++) {
    SgParticipant *q = &g_array_index (m->participants, SgParticipant, i);

    if (q->role == role && strcmp (q->address, addr) == 0)
      return;
  }
  if (m->participants->len >= SG_MESSAGE_MAX_PARTICIPANTS) {
    warn (m, "more than %d participants; the rest were not recorded", SG_MESSAGE_MAX_PARTICIPANTS);
    return;
  }
  name = sg_name_clean (internet_address_get_name (INTERNET_ADDRESS (mb)));
  p.address = g_string_chunk_insert (m->strings, addr);
  p.name = name ? g_string_chunk_insert (m->strings, name) : NULL;
  p.role = role;
  p.self = sg_identity_is_self (identity, addr);
  p.internal = sg_identity_is_internal (identity, addr);
  p.kind = is_list_address (lists, addr) ? SG_ADDRESS_LIST : sg_address_classify (addr);
  g_array_append_val (m->participants, p);
}

static void
add_list (SgMessage *m, const SgIdentity *identity, GPtrArray *lists,
          InternetAddressList *list, SgHeaderRole role, const char *two_at, int depth)
{
  int n;

  if (list == NULL || depth > 2)
    return;
  n = internet_address_list_length (list);
  for (int i = 0; i < n; i++) {
    InternetAddress *ia = internet_address_list_get_address (list, i);

    if (INTERNET_ADDRESS_IS_MAILBOX (ia))
      add_participant (m, identity, lists, INTERNET_ADDRESS_MAILBOX (ia), role, two_at);
    else if (INTERNET_ADDRESS_IS_GROUP (ia))
      add_list (m, identity, lists,
                internet_address_group_get_members (INTERNET_ADDRESS_GROUP (ia)), role, two_at, depth + 1);
  }
}

/* Whether @obj has the header @name. g_mime_object_get_header() would decode its value
 * (unfolding, encoded words: about 4,000 instructions each), which a test of presence does
 * not need. */
static gboolean
has_header (GMimeObject *obj, const char *name)
{
  return g_mime_header_list_contains (g_mime_object_get_header_list (obj), name);
}

/* Some mailers separate addresses with ';'. RFC 5322 reads a ';' as the end of a group and
 * GMime drops what follows it; when no group is open, read it as ','.
 * Returns: (transfer full) (nullable): the re-parsed list, or NULL when GMime's is right. */
static InternetAddressList *
semicolon_list (GMimeObject *obj, const char *header)
{
  GMimeHeader *h = find_header (obj, header);
  const char *raw = h ? g_mime_header_get_raw_value (h) : NULL;
  g_autofree char *fixed = NULL;
  gboolean quoted = FALSE, group = FALSE, changed = FALSE;
  int comment = 0;

  /* Most lists have no ';' at all: the raw value tells, without decoding it. */
  if (h == NULL || (raw != NULL && strchr (raw, ';') == NULL))
    return NULL;
  raw = g_mime_header_get_value (h);
  if (raw == NULL || strchr (raw, ';') == NULL)
    return NULL;
  fixed = g_strdup (raw);
  for (char *p = fixed; *p; p++) {
    if (*p == '\\' && p[1] != '\0')
      p++;
    else if (quoted)
      quoted = *p != '"';
    else if (*p == '"')
      quoted = TRUE;
    else if (*p == '(')
      comment++;
    else if (*p == ')' && comment > 0)
      comment--;
    else if (comment > 0)
      ;
    else if (*p == ':')
      group = TRUE;
    else if (*p == ';' && group)
      group = FALSE;
    else if (*p == ';') {
      *p = ',';
      changed = TRUE;
    }
  }
  return changed ? internet_address_list_parse (_sg_parser_options (), fixed) : NULL;
}

/* The list's own addresses: List-Post's mailto:, vger's X-Mailing-List, Mailman's
 * X-BeenThere, and List-Id's <list.host> (matched against the recipients later).
 * Returns: (transfer full): normalised addresses and, prefixed with "id:", the List-Id. */
static GPtrArray *
list_addresses (GMimeObject *obj)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  const char *v;

  v = g_mime_object_get_header (obj, "List-Post");
  if (v != NULL && (v = strstr (v, "mailto:")) != NULL) {
    g_autofree char *raw = g_strndup (v + 7, strcspn (v + 7, ">?, \t\r\n"));
    char *addr = sg_address_normalize (raw, NULL);

    if (addr)
      g_ptr_array_add (out, addr);
  }
  for (guint i = 0; i < 2; i++) {
    v = g_mime_object_get_header (obj, i ? "X-BeenThere" : "X-Mailing-List");
    if (v != NULL) {
      g_autofree char *raw = g_strndup (v, strcspn (v, " \t\r\n"));
      char *addr = sg_address_normalize (raw, NULL);

      if (addr)
        g_ptr_array_add (out, addr);
    }
  }
  v = g_mime_object_get_header (obj, "List-Id");
  if (v != NULL && (v = strrchr (v, '<')) != NULL) {
    g_autofree char *id = g_strndup (v + 1, strcspn (v + 1, ">"));
    g_autofree char *down = g_ascii_strdown (id, -1);

    g_ptr_array_add (out, g_strconcat ("id:", down, NULL));
  }
  return out;
}

/* TRUE if @addr is one of the message's lists: named outright, or "list@host" whose
 * List-Id is <list.host>. */
static gboolean
is_list_address (GPtrArray *lists, const char *addr)
{
  for (guint i = 0; i < lists->len; i++) {
    const char *l = lists->pdata[i];

    if (g_str_has_prefix (l, "id:")) {
      const char *at = strchr (addr, '@');
      gsize local = at ? (gsize) (at - addr) : 0;

      if (at && strncmp (l + 3, addr, local) == 0 && l[3 + local] == '.' &&
          strcmp (l + 4 + local, at + 1) == 0)
        return TRUE;
    } else if (strcmp (l, addr) == 0) {
      return TRUE;
    }
  }
  return FALSE;
}

/* TRUE if the header value, without surrounding white space, is @word (any case). */
static gboolean
value_is (const char *value, const char *word)
{
  gsize len = strlen (word);

  while (g_ascii_isspace (*value))
    value++;
  if (g_ascii_strncasecmp (value, word, len) != 0)
    return FALSE;
  for (value += len; *value; value++)
    if (!g_ascii_isspace (*value))
      return FALSE;
  return TRUE;
}

static gboolean
header_is_bulk (GMimeObject *obj)
{
  const char *v;

  if (has_header (obj, "List-Id") || has_header (obj, "List-Post") || has_header (obj, "List-Unsubscribe") ||
      has_header (obj, "X-Mailing-List") || has_header (obj, "X-BeenThere"))
    return TRUE;
  v = g_mime_object_get_header (obj, "Precedence");
  if (v != NULL && (value_is (v, "bulk") || value_is (v, "list") || value_is (v, "junk")))
    return TRUE;
  v = g_mime_object_get_header (obj, "Auto-Submitted");
  if (v != NULL && !value_is (v, "no"))
    return TRUE;
  return has_header (obj, "X-Autoreply") || has_header (obj, "X-Autorespond");
}

/* The content hash that stands in for a missing Message-ID: over the headers that identify
 * a message wherever it was delivered (not Received or X- headers) and the body. */
static char *
content_hash (GMimeMessage *mime)
{
  static const char *const headers[] = { "From", "To", "Cc", "Date", "Subject" };
  GMimeObject *obj = GMIME_OBJECT (mime);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  GMimeObject *body = g_mime_message_get_mime_part (mime);

  for (guint i = 0; i < G_N_ELEMENTS (headers); i++) {
    const char *v = g_mime_object_get_header (obj, headers[i]);

    g_checksum_update (sum, (const guchar *) headers[i], -1);
    g_checksum_update (sum, (const guchar *) ":", 1);
    if (v != NULL)
      g_checksum_update (sum, (const guchar *) v, -1);
    g_checksum_update (sum, (const guchar *) "\n", 1);
  }
  if (body != NULL) {
    g_autoptr (GMimeStream) null = g_mime_stream_null_new ();
    g_autoptr (GMimeStream) filtered = g_mime_stream_filter_new (null);
    g_autoptr (GMimeFilter) filter = g_mime_filter_checksum_new (G_CHECKSUM_SHA256);
    guint8 digest[32];

    g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), filter);
    g_mime_object_write_to_stream (body, NULL, filtered);
    g_mime_stream_flush (filtered);
    g_mime_filter_checksum_get_digest (GMIME_FILTER_CHECKSUM (filter), digest, sizeof digest);
    g_checksum_update (sum, digest, sizeof digest);
  }
  return g_strconcat ("sha256:", g_checksum_get_string (sum), NULL);
}

/* --- content: text, signature facts, vCards, topics (issue 9) ------------------------- */

/* TRUE when @signature names mail addresses and none is at the sender's organisation. */
static gboolean
signature_names_others (const char *signature, const char *sender, char **own_domain)
{
  g_autofree char *own = NULL;
  gboolean any = FALSE;
  const char *at;
  gsize local_len;

  if (signature == NULL || strchr (sender, '@') == NULL)
    return FALSE;
  local_len = (gsize) (strchr (sender, '@') - sender);
  own = sg_domain_get_registrable (strchr (sender, '@') + 1);
  for (const char *p = signature; (at = strchr (p, '@')) != NULL; p = at + 1) {
    gsize n = 0;
    g_autofree char *domain = NULL;
    g_autofree char *reg = NULL;

    while (g_ascii_isalnum (at[1 + n]) || at[1 + n] == '.' || at[1 + n] == '-')
      n++;
    while (n > 0 && at[n] == '.')
      n--;
    if (n == 0 || at == signature || !(g_ascii_isalnum (at[-1]) || at[-1] == '.' || at[-1] == '_' ||
                                       at[-1] == '-'))
      continue;
    domain = g_ascii_strdown (at + 1, (gssize) n);
    reg = sg_domain_get_registrable (domain);
    if (reg == NULL)
      continue;
    any = TRUE;
    if (own != NULL && strcmp (reg, own) == 0)
      return FALSE;
    /* "garym@teledyn.com" in the signature of garym@canada.com: the sender's own mailbox
     * at their organisation (written from another account), not someone else's. Its domain
     * names the organisation. */
    if ((gsize) (at - signature) >= local_len &&
        g_ascii_strncasecmp (at - local_len, sender, local_len) == 0 &&
        (at - local_len == signature || !(g_ascii_isalnum (at[-1 - (gssize) local_len]) ||
                                          at[-1 - (gssize) local_len] == '.' ||
                                          at[-1 - (gssize) local_len] == '_' ||
                                          at[-1 - (gssize) local_len] == '-'))) {
      if (own_domain != NULL && *own_domain == NULL)
        *own_domain = g_steal_pointer (&domain);
      return FALSE;
    }
  }
  return any;
}

/* The names of the people who write and are written to ("Gerry" signing off, "Bob" further
 * down) say who, not what: no topics. Only personal addresses' names, and only the first
 * few recipients (a list of 2,000 names in To is no reason to look at them all). */
static void
drop_name_topics (SgMessage *m)
{
  g_autoptr (GPtrArray) names = NULL;
  guint recipients = 0;

  if (m->topics == NULL || m->topics->len == 0)
    return;
  names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < m->participants->len && recipients < 16; i++) {
    const SgParticipant *p = &g_array_index (m->participants, SgParticipant, i);
    g_autofree char *low = NULL;
    char *w, *save = NULL;

    if (p->name == NULL || p->kind != SG_ADDRESS_PERSONAL)
      continue;
    if (p->role != SG_HEADER_FROM && p->role != SG_HEADER_SENDER && p->role != SG_HEADER_REPLY_TO)
      recipients++;
    low = g_utf8_strdown (p->name, -1);
    for (w = strtok_r (low, " ,.;:()<>\"'-_/|", &save); w; w = strtok_r (NULL, " ,.;:()<>\"'-_/|", &save))
      if (strlen (w) >= 3)
        g_ptr_array_add (names, g_strdup (w));
  }
  for (guint i = 0; i < m->topics->len;) {
    const SgTopic *t = m->topics->pdata[i];
    g_auto (GStrv) words = g_strsplit (t->phrase, " ", 2);
    gboolean named = FALSE;

    for (guint k = 0; words[k] && !named; k++) {
      /* "gerry's": the possessive is the name too. */
      gsize len = strlen (words[k]);

      if (len > 2 && strcmp (words[k] + len - 2, "'s") == 0)
        len -= 2;
      for (guint n = 0; n < names->len && !named; n++)
        named = strlen (names->pdata[n]) == len && strncmp (words[k], names->pdata[n], len) == 0;
    }
    if (named)
      g_ptr_array_remove_index (m->topics, i);
    else
      i++;
  }
}

/* Reads what the message says. Runs on the parse threads: no store, bounded work. */
static void
extract_content (SgMessage *m, GMimeMessage *mime, guint flags)
{
  const SgParticipant *from = NULL;
  const char *domain = NULL;
  g_autofree char *own_domain = NULL; /* the sender's other mailbox named in the signature */

  for (guint i = 0; i < m->participants->len && from == NULL; i++) {
    SgParticipant *p = &g_array_index (m->participants, SgParticipant, i);

    if (p->role == SG_HEADER_FROM)
      from = p;
  }
  m->text = sg_text_new_from_mime (mime, from ? from->name : NULL);
  m->content_warnings = g_ptr_array_new_null_terminated (0, g_free, TRUE);
  for (const char *const *w = sg_text_get_warnings (m->text); *w; w++) {
    warn (m, "%s", *w);
    g_ptr_array_add (m->content_warnings, g_strdup (*w));
  }
  if (from != NULL)
    domain = strchr (from->address, '@') ? strchr (from->address, '@') + 1 : NULL;
  /* A signature is the sender's only in a message of their own: not in a forward's text
   * (kept apart by sg-text), not from a list robot or a no-reply sender, and not when the
   * mail addresses it names are all at another organisation (someone else's signature
   * pasted in, or a message sent on another's behalf). */
  if (from != NULL && from->kind == SG_ADDRESS_PERSONAL &&
      /* The importer stores no facts from bulk mail (sg-import-text.c): not read for it. */
      !((flags & SG_MESSAGE_PARSE_NO_BULK_FACTS) && m->bulk) &&
      !signature_names_others (sg_text_get_signature (m->text), from->address, &own_domain))
    m->facts = sg_signature_parse (sg_text_get_signature (m->text), from->name,
                                   own_domain ? own_domain : domain);
  else
    m->facts = sg_signature_parse (NULL, NULL, NULL);
  for (const char *const *v = sg_text_get_vcards (m->text); *v; v++) {
    g_autofree char *warning = NULL;
    g_autoptr (GPtrArray) card = sg_vcard_parse (*v, strlen (*v), domain, &warning);

    if (warning != NULL) {
      warn (m, "%s", warning);
      if (m->content_warnings->len < 16)
        g_ptr_array_add (m->content_warnings, g_strdup (warning));
    }
    /* The vCard's facts come first: they were typed in, not guessed. */
    g_ptr_array_set_free_func (card, NULL);
    for (guint i = 0; i < card->len; i++)
      g_ptr_array_insert (m->facts, (gint) i, card->pdata[i]);
  }
  /* One number once: a vCard's untyped TEL and the signature's "Office:" line (or the same
   * line read twice) are the same phone; the most specific kind stays. */
  for (guint i = 0; i < m->facts->len; i++) {
    const SgFact *f = m->facts->pdata[i];
    gboolean drop = FALSE;

    if (f->kind != SG_FACT_PHONE)
      continue;
    for (guint j = 0; j < m->facts->len && !drop; j++) {
      const SgFact *g = m->facts->pdata[j];

      if (j == i || g->kind != SG_FACT_PHONE || g_strcmp0 (f->value, g->value) != 0)
        continue;
      /* @f goes if @g says more, or says the same and comes first. */
      drop = (g_strcmp0 (f->detail, "phone") == 0 && g_strcmp0 (g->detail, "phone") != 0) ||
             (g_strcmp0 (f->detail, g->detail) == 0 && j < i);
    }
    if (drop)
      g_ptr_array_remove_index (m->facts, i--);
  }
  m->topics = sg_topics_extract (m->subject, sg_text_get_body (m->text));
  drop_name_topics (m);
}

/* --- calendar parts (meetings, sg-ical.c) ------------------------------------------ */

/* Calendar parts taken from one message: more is an attack or an archive, not an invite. */
#define MAX_CALENDAR_PARTS 8

static gboolean
is_calendar_part (GMimePart *part)
{
  GMimeContentType *ct = g_mime_object_get_content_type (GMIME_OBJECT (part));
  const char *name;

  /* The content type is checked first: it is already parsed, and nearly every part fails
   * it, so the mail import's hot path pays two string compares per part. */
  if (ct != NULL && (g_mime_content_type_is_type (ct, "text", "calendar") ||
                     g_mime_content_type_is_type (ct, "application", "ics")))
    return TRUE;
  name = g_mime_part_get_filename (part);
  return name != NULL && g_str_has_suffix (name, ".ics");
}

static void
calendar_part_cb (GMimeObject *parent, GMimeObject *part, gpointer user_data)
{
  SgMessage *m = user_data;
  g_autoptr (GMimeStream) mem = NULL;
  GMimeDataWrapper *content;
  GByteArray *bytes;

  if (!GMIME_IS_PART (part) || !is_calendar_part (GMIME_PART (part)))
    return;
  if (m->calendars == NULL)
    m->calendars = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  if (m->calendars->len >= MAX_CALENDAR_PARTS) {
    warn (m, "more than %d calendar parts; the rest were ignored", MAX_CALENDAR_PARTS);
    return;
  }
  content = g_mime_part_get_content (GMIME_PART (part));
  if (content == NULL)
    return;
  mem = g_mime_stream_mem_new ();
  if (g_mime_data_wrapper_write_to_stream (content, mem) < 0)
    return;
  bytes = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (mem));
  if (bytes->len == 0)
    return;
  g_ptr_array_add (m->calendars, g_bytes_new (bytes->data, bytes->len));
}

static void
collect_calendars (SgMessage *m, GMimeMessage *mime)
{
  g_mime_message_foreach (mime, calendar_part_cb, m);
}

GPtrArray *
_sg_message_get_calendars (const SgMessage *message)
{
  return message->calendars;
}

SgMessage *
sg_message_new_from_mime (GMimeMessage *mime, gsize headers_size, const SgIdentity *identity,
                          gint64 fallback_date, GError **error)
{
  return _sg_message_new_from_mime_flags (mime, headers_size, identity, fallback_date,
                                          SG_MESSAGE_PARSE_CONTENT, error);
}

SgMessage *
_sg_message_new_from_mime_flags (GMimeMessage *mime, gsize headers_size, const SgIdentity *identity,
                                 gint64 fallback_date, guint flags, GError **error)
{
  static const struct {
    GMimeAddressType type;
    SgHeaderRole role;
    const char *header;
  } roles[] = {
    { GMIME_ADDRESS_TYPE_FROM, SG_HEADER_FROM, "From" },
    { GMIME_ADDRESS_TYPE_SENDER, SG_HEADER_SENDER, "Sender" },
    { GMIME_ADDRESS_TYPE_REPLY_TO, SG_HEADER_REPLY_TO, "Reply-To" },
    { GMIME_ADDRESS_TYPE_TO, SG_HEADER_TO, "To" },
    { GMIME_ADDRESS_TYPE_CC, SG_HEADER_CC, "Cc" },
    { GMIME_ADDRESS_TYPE_BCC, SG_HEADER_BCC, "Bcc" },
  };
  GMimeObject *obj = GMIME_OBJECT (mime);
  g_autoptr (GPtrArray) lists = NULL;
  SgMessage *m;
  GDateTime *date;
  const char *v;
  gboolean from_self = FALSE, any_external = FALSE;

  g_return_val_if_fail (GMIME_IS_MESSAGE (mime), NULL);
  g_return_val_if_fail (identity != NULL, NULL);

  if (headers_size > SG_MESSAGE_MAX_HEADER_SIZE) {
    g_set_error (error, SG_MESSAGE_ERROR, SG_MESSAGE_ERROR_HEADERS_TOO_LARGE,
                 "header block of %" G_GSIZE_FORMAT " bytes is over the cap of %" G_GSIZE_FORMAT,
                 headers_size, SG_MESSAGE_MAX_HEADER_SIZE);
    return NULL;
  }
  if (!has_header (obj, "From") && !has_header (obj, "Sender") && !has_header (obj, "Message-ID")) {
    g_set_error_literal (error, SG_MESSAGE_ERROR, SG_MESSAGE_ERROR_NOT_MAIL,
                         "not a mail message (no From, Sender or Message-ID header)");
    return NULL;
  }

  m = message_new ();
  m->bulk = header_is_bulk (obj);
  lists = list_addresses (obj);

  m->id = clean_id (g_mime_message_get_message_id (mime));
  if (m->id == NULL) {
    if (has_header (obj, "Message-ID"))
      warn (m, "unusable Message-ID; a content hash stands in for it");
    m->id = content_hash (mime);
    m->id_is_hash = TRUE;
  }

  date = g_mime_message_get_date (mime);
  /* A Date more than a day in the future is a broken clock or spam; it would sit on top of
   * every "last contact" list for years. The delivery time stands in for it. */
  if (date != NULL && fallback_date > 0 &&
      (g_date_time_to_unix (date) > g_get_real_time () / G_USEC_PER_SEC + 24 * 3600 ||
       g_date_time_to_unix (date) <= 24 * 3600)) {
    /* ... and so is 1 January 1970: a clock that was never set. */
    warn (m, "Date header is in the future or at the epoch; the delivery time stands in for it");
    m->date = fallback_date;
    m->date_fallback = TRUE;
  } else if (date != NULL) {
    m->date = g_date_time_to_unix (date);
    m->tz_offset = (int) (g_date_time_get_utc_offset (date) / G_TIME_SPAN_MINUTE);
  } else {
    if (has_header (obj, "Date"))
      warn (m, "unparsable Date header; the delivery time stands in for it");
    m->date = fallback_date;
    m->date_fallback = TRUE;
  }

  m->subject = one_line (g_mime_message_get_subject (mime), SG_MESSAGE_MAX_SUBJECT_CHARS);

  for (guint r = 0; r < G_N_ELEMENTS (roles); r++) {
    g_autoptr (InternetAddressList) fixed = semicolon_list (obj, roles[r].header);

    add_list (m, identity, lists,
              fixed ? fixed : g_mime_message_get_addresses (mime, roles[r].type), roles[r].role,
              header_with_two_at (obj, roles[r].header), 0);
  }

  /* Threading. */
  v = g_mime_object_get_header (obj, "References");
  if (v != NULL) {
    GMimeReferences *refs = parse_references (v);
    int n = refs ? g_mime_references_length (refs) : 0;

    if (n > SG_MESSAGE_MAX_REFERENCES) {
      warn (m, "%d References; the first and the last %d were kept", n, SG_MESSAGE_MAX_REFERENCES - 1);
    }
    for (int i = 0; i < n; i++) {
      char *id;

      /* Keep the root and the most recent ancestors. */
      if (n > SG_MESSAGE_MAX_REFERENCES && i > 0 && i < n - (SG_MESSAGE_MAX_REFERENCES - 1))
        continue;
      id = clean_ref (g_mime_references_get_message_id (refs, i));
      if (id != NULL && strcmp (id, m->id) != 0 &&
          !g_ptr_array_find_with_equal_func (m->references, id, g_str_equal, NULL))
        g_ptr_array_add (m->references, id);
      else
        g_free (id);
    }
    if (refs)
      g_mime_references_free (refs);
  }
  v = g_mime_object_get_header (obj, "In-Reply-To");
  if (v != NULL) {
    GMimeReferences *refs = parse_references (v);

    if (refs != NULL && g_mime_references_length (refs) > 0)
      m->in_reply_to = clean_ref (g_mime_references_get_message_id (refs, 0));
    if (refs)
      g_mime_references_free (refs);
    if (m->in_reply_to && strcmp (m->in_reply_to, m->id) == 0)
      g_clear_pointer (&m->in_reply_to, g_free);
  }
  if (m->references->len > 0 && m->in_reply_to != NULL) {
    guint n = m->references->len;
    const char *first = m->references->pdata[0], *last = m->references->pdata[n - 1];

    /* References should end with the parent, In-Reply-To (RFC 5322 3.6.4). When it starts
     * with it instead, the list runs newest first and its root is at the end; when its only
     * entry is not the parent, In-Reply-To is believed (as notmuch and JWZ threading do). */
    if (n > 1 && strcmp (first, m->in_reply_to) == 0 && strcmp (last, m->in_reply_to) != 0)
      m->thread_root = g_strdup (last);
    else if (n == 1 && strcmp (first, m->in_reply_to) != 0)
      m->thread_root = g_strdup (m->in_reply_to);
    else
      m->thread_root = g_strdup (first);
  } else if (m->references->len > 0)
    m->thread_root = g_strdup (m->references->pdata[0]);
  else if (m->in_reply_to != NULL)
    m->thread_root = g_strdup (m->in_reply_to);
  else
    m->thread_root = g_strdup (m->id);

  /* Direction: the user wrote it if a From (or, lacking From, Sender) address is theirs. */
  for (guint i = 0; i < m->participants->len; i++) {
    SgParticipant *p = &g_array_index (m->participants, SgParticipant, i);

    if (p->self && (p->role == SG_HEADER_FROM || p->role == SG_HEADER_SENDER))
      from_self = TRUE;
    if (!p->internal)
      any_external = TRUE;
  }
  m->direction = from_self ? SG_DIRECTION_OUT : SG_DIRECTION_IN;
  m->internal = m->participants->len > 0 && !any_external;
  if (flags & SG_MESSAGE_PARSE_CONTENT)
    extract_content (m, mime, flags);
  collect_calendars (m, mime);
  return m;
}

SgMessage *
sg_message_parse_stream (GMimeStream *stream, const SgIdentity *identity, gint64 fallback_date,
                         GError **error)
{
  return _sg_message_parse_stream_flags (stream, identity, fallback_date, SG_MESSAGE_PARSE_CONTENT,
                                         error);
}

SgMessage *
_sg_message_parse_stream_flags (GMimeStream *stream, const SgIdentity *identity, gint64 fallback_date,
                                guint flags, GError **error)
{
  g_autoptr (GMimeParser) parser = NULL;
  g_autoptr (GMimeMessage) mime = NULL;
  gint64 headers_end;

  g_return_val_if_fail (GMIME_IS_STREAM (stream), NULL);

  _sg_gmime_init ();
  parser = g_mime_parser_new_with_stream (stream);
  g_mime_parser_set_format (parser, GMIME_FORMAT_MESSAGE);
  mime = g_mime_parser_construct_message (parser, _sg_parser_options ());
  headers_end = g_mime_parser_get_headers_end (parser);
  if (mime == NULL) {
    g_set_error_literal (error, SG_MESSAGE_ERROR, SG_MESSAGE_ERROR_NOT_MAIL,
                         "not a mail message (GMime found no header block)");
    return NULL;
  }
  return _sg_message_new_from_mime_flags (mime, headers_end > 0 ? (gsize) headers_end : 0, identity,
                                          fallback_date, flags, error);
}

SgMessage *
sg_message_parse (const char *data, gsize len, const SgIdentity *identity, gint64 fallback_date,
                  GError **error)
{
  g_autoptr (GMimeStream) stream = NULL;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len == 0) {
    g_set_error_literal (error, SG_MESSAGE_ERROR, SG_MESSAGE_ERROR_EMPTY, "empty message");
    return NULL;
  }
  if (len > SG_MESSAGE_MAX_SIZE) {
    g_set_error (error, SG_MESSAGE_ERROR, SG_MESSAGE_ERROR_TOO_LARGE,
                 "message of %" G_GSIZE_FORMAT " bytes is over the cap of %" G_GSIZE_FORMAT,
                 len, SG_MESSAGE_MAX_SIZE);
    return NULL;
  }
  /* A UTF-8 byte order mark (Windows-made .eml files) would hide the first header. */
  if (len >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0) {
    data += 3;
    len -= 3;
  }
  _sg_gmime_init ();
  stream = g_mime_stream_mem_new_with_buffer (data, len);
  return sg_message_parse_stream (stream, identity, fallback_date, error);
}

const char *
sg_message_get_id (const SgMessage *message)
{
  return message->id;
}

gboolean
sg_message_id_is_hash (const SgMessage *message)
{
  return message->id_is_hash;
}

gint64
sg_message_get_date (const SgMessage *message)
{
  return message->date;
}

int
sg_message_get_tz_offset (const SgMessage *message)
{
  return message->tz_offset;
}

gboolean
sg_message_date_is_fallback (const SgMessage *message)
{
  return message->date_fallback;
}

const char *
sg_message_get_subject (const SgMessage *message)
{
  return message->subject;
}

SgDirection
sg_message_get_direction (const SgMessage *message)
{
  return message->direction;
}

const char *
sg_direction_to_string (SgDirection direction)
{
  return direction == SG_DIRECTION_OUT ? "out" : "in";
}

gboolean
sg_message_is_internal (const SgMessage *message)
{
  return message->internal;
}

gboolean
sg_message_is_bulk (const SgMessage *message)
{
  return message->bulk;
}

const char *
sg_message_get_in_reply_to (const SgMessage *message)
{
  return message->in_reply_to;
}

const char *
sg_message_get_thread_root (const SgMessage *message)
{
  return message->thread_root;
}

const char *const *
sg_message_get_references (const SgMessage *message)
{
  static const char *const empty[] = { NULL };

  /* An empty array may have no storage yet. */
  return message->references->pdata ? (const char *const *) message->references->pdata : empty;
}

guint
sg_message_get_n_participants (const SgMessage *message)
{
  return message->participants->len;
}

const SgParticipant *
sg_message_get_participant (const SgMessage *message, guint index)
{
  g_return_val_if_fail (index < message->participants->len, NULL);
  return &g_array_index (message->participants, SgParticipant, index);
}

const char *
sg_header_role_to_string (SgHeaderRole role)
{
  static const char *const names[] = { "from", "sender", "reply-to", "to", "cc", "bcc" };

  g_return_val_if_fail ((guint) role < G_N_ELEMENTS (names), NULL);
  return names[role];
}

const char *const *
sg_message_get_warnings (const SgMessage *message)
{
  static const char *const empty[] = { NULL };

  return message->warnings->pdata ? (const char *const *) message->warnings->pdata : empty;
}

void
_sg_message_set_direction (SgMessage *message, int direction)
{
  message->direction = direction == SG_DIRECTION_OUT ? SG_DIRECTION_OUT : SG_DIRECTION_IN;
}

/* --- content getters (issue 9) ----------------------------------------------------------- */

const SgText *
sg_message_get_text (const SgMessage *message)
{
  return message->text;
}

guint
sg_message_get_n_facts (const SgMessage *message)
{
  return message->facts ? message->facts->len : 0;
}

const SgFact *
sg_message_get_fact (const SgMessage *message, guint index)
{
  g_return_val_if_fail (message->facts != NULL && index < message->facts->len, NULL);
  return message->facts->pdata[index];
}

guint
sg_message_get_n_topics (const SgMessage *message)
{
  return message->topics ? message->topics->len : 0;
}

const SgTopic *
sg_message_get_topic (const SgMessage *message, guint index)
{
  g_return_val_if_fail (message->topics != NULL && index < message->topics->len, NULL);
  return message->topics->pdata[index];
}

const char *const *
_sg_message_get_content_warnings (const SgMessage *message)
{
  static const char *const empty[] = { NULL };

  return message->content_warnings && message->content_warnings->pdata
             ? (const char *const *) message->content_warnings->pdata : empty;
}
