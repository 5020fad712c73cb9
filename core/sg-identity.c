/* sg-identity.c: the user's identity and the address rules. */
#include "config.h"

#include "sg-identity.h"

#include <libpsl.h>
#include <string.h>

/* Longest address we accept (RFC 5321 path limit is 256; be lenient). */
#define SG_ADDRESS_MAX 512

struct _SgIdentity {
  gatomicrefcount ref;
  char *name;
  GPtrArray *addresses;        /* normalised, NULL-terminated */
  GPtrArray *internal_domains; /* normalised */
  SgUserRole role;
};

G_DEFINE_QUARK (sg-identity-error-quark, sg_identity_error)

SgIdentity *
sg_identity_new (void)
{
  SgIdentity *self = g_new0 (SgIdentity, 1);

  g_atomic_ref_count_init (&self->ref);
  self->addresses = g_ptr_array_new_null_terminated (4, g_free, TRUE);
  self->internal_domains = g_ptr_array_new_with_free_func (g_free);
  self->role = SG_USER_ROLE_ANALYST;
  return self;
}

SgIdentity *
sg_identity_ref (SgIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, NULL);
  g_atomic_ref_count_inc (&identity->ref);
  return identity;
}

void
sg_identity_unref (SgIdentity *identity)
{
  if (identity == NULL || !g_atomic_ref_count_dec (&identity->ref))
    return;
  g_free (identity->name);
  g_ptr_array_unref (identity->addresses);
  g_ptr_array_unref (identity->internal_domains);
  g_free (identity);
}

void
sg_identity_set_name (SgIdentity *identity, const char *name)
{
  g_return_if_fail (identity != NULL);
  g_free (identity->name);
  identity->name = g_strdup (name);
}

const char *
sg_identity_get_name (const SgIdentity *identity)
{
  return identity->name;
}

gboolean
sg_identity_add_address (SgIdentity *identity, const char *address, GError **error)
{
  char *norm;

  g_return_val_if_fail (identity != NULL, FALSE);
  g_return_val_if_fail (address != NULL, FALSE);

  norm = sg_address_normalize (address, error);
  if (norm == NULL)
    return FALSE;
  if (sg_identity_is_self (identity, norm))
    g_free (norm);
  else
    g_ptr_array_add (identity->addresses, norm);
  return TRUE;
}

static char *
normalize_domain (const char *domain)
{
  g_autofree char *stripped = g_strstrip (g_strdup (domain));
  g_autofree char *unicode = NULL;
  gsize len;

  len = strlen (stripped);
  while (len > 0 && stripped[len - 1] == '.')
    stripped[--len] = '\0';
  if (len == 0 || len > 253 || stripped[0] == '.' || strstr (stripped, "..") != NULL)
    return NULL;
  for (const char *p = stripped; *p; p++)
    if ((guchar) *p <= ' ' || (guchar) *p == 0x7f || strchr ("@<>()[]\\,;:\"", *p) != NULL)
      return NULL;
  if (!g_utf8_validate (stripped, -1, NULL))
    return NULL;
  /* The common case, plain ASCII without punycode, needs no IDNA work. */
  {
    /* ACE prefixes are case-insensitive: "Xn--" is punycode too. */
    g_autofree char *lower = g_ascii_strdown (stripped, len);

    if (g_str_is_ascii (stripped) && strstr (lower, "xn--") == NULL)
      return g_steal_pointer (&lower);
  }
  /* Punycode labels become UTF-8 so that one domain has one spelling in the store. */
  unicode = g_hostname_to_unicode (stripped);
  if (unicode == NULL)
    return NULL;
  return g_utf8_strdown (unicode, -1);
}

gboolean
sg_identity_add_internal_domain (SgIdentity *identity, const char *domain, GError **error)
{
  char *norm;

  g_return_val_if_fail (identity != NULL, FALSE);
  g_return_val_if_fail (domain != NULL, FALSE);

  norm = normalize_domain (domain[0] == '@' ? domain + 1 : domain);
  if (norm == NULL || strchr (norm, '.') == NULL) {
    g_free (norm);
    g_set_error (error, SG_IDENTITY_ERROR, SG_IDENTITY_ERROR_BAD_DOMAIN,
                 "“%s” is not a domain", domain);
    return FALSE;
  }
  g_ptr_array_add (identity->internal_domains, norm);
  return TRUE;
}

static const char *const role_names[] = {
  [SG_USER_ROLE_ANALYST] = "analyst",
  [SG_USER_ROLE_ACCOUNT_MANAGER] = "account-manager",
  [SG_USER_ROLE_MANAGER] = "manager",
};

gboolean
sg_identity_set_role_from_string (SgIdentity *identity, const char *role, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (role_names); i++) {
    if (g_strcmp0 (role, role_names[i]) == 0) {
      identity->role = (SgUserRole) i;
      return TRUE;
    }
  }
  g_set_error (error, SG_IDENTITY_ERROR, SG_IDENTITY_ERROR_BAD_ROLE,
               "unknown role “%s” (expected analyst, account-manager or manager)",
               role ? role : "");
  return FALSE;
}

SgUserRole
sg_identity_get_role (const SgIdentity *identity)
{
  return identity->role;
}

const char *
sg_user_role_to_string (SgUserRole role)
{
  g_return_val_if_fail ((guint) role < G_N_ELEMENTS (role_names), NULL);
  return role_names[role];
}

const char *const *
sg_identity_get_addresses (const SgIdentity *identity)
{
  static const char *const empty[] = { NULL };

  /* An empty array may have no storage yet. */
  return identity->addresses->pdata ? (const char *const *) identity->addresses->pdata : empty;
}

gboolean
sg_identity_is_self (const SgIdentity *identity, const char *address)
{
  for (guint i = 0; i < identity->addresses->len; i++)
    if (strcmp (address, identity->addresses->pdata[i]) == 0)
      return TRUE;
  return FALSE;
}

/* TRUE if @domain is @parent or one of its subdomains. */
static gboolean
domain_within (const char *domain, const char *parent)
{
  gsize dl = strlen (domain), pl = strlen (parent);

  if (dl == pl)
    return strcmp (domain, parent) == 0;
  return dl > pl && domain[dl - pl - 1] == '.' && strcmp (domain + dl - pl, parent) == 0;
}

gboolean
sg_identity_is_internal (const SgIdentity *identity, const char *address)
{
  const char *domain = sg_address_get_domain (address);

  if (sg_identity_is_self (identity, address))
    return TRUE;
  for (guint i = 0; i < identity->internal_domains->len; i++)
    if (domain_within (domain, identity->internal_domains->pdata[i]))
      return TRUE;
  return FALSE;
}

char *
sg_address_normalize (const char *address, GError **error)
{
  g_autofree char *s = NULL;
  g_autofree char *domain = NULL;
  g_autofree char *local = NULL;
  char *at, *start, *end;

  g_return_val_if_fail (address != NULL, NULL);

  /* Fast path for the common case: plain ASCII local@domain.tld, no brackets, no spaces,
   * no punycode. One pass, one allocation. */
  {
    const char *at_fast = NULL;
    gsize n = 0;
    gboolean plain = TRUE;

    for (const char *p = address; *p && plain; p++, n++) {
      guchar c = (guchar) *p;

      if (c == '@')
        plain = at_fast == NULL && (at_fast = p) != NULL;
      else if (c <= ' ' || c >= 0x7f || strchr ("<>(),;:\\\"[]", c) != NULL)
        plain = FALSE;
    }
    if (plain && at_fast != NULL && at_fast != address && at_fast[1] != '\0' && at_fast[1] != '.' &&
        n <= SG_ADDRESS_MAX && address[n - 1] != '.' && strstr (at_fast, "..") == NULL &&
        strlen (at_fast + 1) <= 253 && strcasestr (at_fast, "xn--") == NULL)
      return g_ascii_strdown (address, (gssize) n);
  }

  s = g_strdup (address);
  start = g_strstrip (s);
  end = start + strlen (start);
  if (*start == '<' && end > start && end[-1] == '>') {
    start++;
    *--end = '\0';
  }
  at = strrchr (start, '@');
  if (end - start > SG_ADDRESS_MAX || at == NULL || at == start || at[1] == '\0')
    goto bad;
  *at = '\0';
  for (const char *p = start; *p; p++)
    if ((guchar) *p <= ' ' || (guchar) *p == 0x7f || strchr ("<>(),;:\\\"[]@", *p) != NULL)
      goto bad;
  if (!g_utf8_validate (start, -1, NULL))
    goto bad;
  domain = normalize_domain (at + 1);
  if (domain == NULL)
    goto bad;
  /* Local parts are case-sensitive by the letter of RFC 5321, but no real mail system
   * treats them so, and people type them in any case: fold them. */
  local = g_utf8_strdown (start, -1);
  return g_strconcat (local, "@", domain, NULL);

bad:
  g_set_error (error, SG_IDENTITY_ERROR, SG_IDENTITY_ERROR_BAD_ADDRESS,
               "“%s” is not a mail address", address);
  return NULL;
}

const char *
sg_address_get_domain (const char *address)
{
  const char *at = strrchr (address, '@');

  return at ? at + 1 : address;
}

static const psl_ctx_t *
get_psl (void)
{
  static const psl_ctx_t *psl;

  if (g_once_init_enter (&psl)) {
    /* The system list (Debian's publicsuffix package) when it is newer than the built-in one. */
    const psl_ctx_t *ctx = psl_latest (NULL);

    if (ctx == NULL)
      ctx = psl_builtin ();
    g_once_init_leave (&psl, ctx);
  }
  return psl;
}

char *
sg_domain_get_registrable (const char *domain)
{
  const char *reg;

  if (domain == NULL || strchr (domain, '.') == NULL)
    return NULL;
  reg = psl_registrable_domain (get_psl (), domain);
  return reg ? g_strdup (reg) : NULL;
}

/* Registrable domains of freemail and consumer ISP mail. */
static const char *const freemail_domains[] = {
  "126.com", "163.com", "aim.com", "aol.com", "bigpond.com", "btinternet.com",
  "comcast.net", "cox.net", "earthlink.net", "email.com", "fastmail.com", "fastmail.fm",
  "free.fr", "freenet.de", "gmail.com", "gmx.at", "gmx.ch", "gmx.com", "gmx.de", "gmx.net",
  "googlemail.com", "hey.com", "hotmail.co.uk", "hotmail.com", "hotmail.de", "hotmail.fr",
  "hushmail.com", "icloud.com", "laposte.net", "libero.it", "live.com", "live.de",
  "mac.com", "mail.com", "mail.ru", "me.com", "msn.com", "naver.com", "orange.fr",
  "outlook.com", "outlook.de", "posteo.de", "proton.me", "protonmail.ch", "protonmail.com",
  "qq.com", "rambler.ru", "rediffmail.com", "sbcglobal.net", "seznam.cz", "sina.com",
  "t-online.de", "tutanota.com", "uol.com.br", "verizon.net", "wanadoo.fr", "web.de",
  "yahoo.co.jp", "yahoo.co.uk", "yahoo.com", "yahoo.de", "yahoo.fr", "yandex.com",
  "yandex.ru", "ymail.com", "zoho.com",
};

/* The lists are short; a linear search cannot be broken by a list that is out of order. */
static gboolean
in_list (const char *key, const char *const *list, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (strcmp (key, list[i]) == 0)
      return TRUE;
  return FALSE;
}

gboolean
sg_domain_is_freemail (const char *registrable_domain)
{
  if (registrable_domain == NULL)
    return FALSE;
  return in_list (registrable_domain, freemail_domains, G_N_ELEMENTS (freemail_domains));
}

/* Local parts of machine senders. */
static const char *const noreply_locals[] = {
  "alert", "alerts", "auto-reply", "autoreply", "bounce", "bounces", "daemon",
  "do-not-reply", "do_not_reply", "donotreply", "mailer", "mailer-daemon", "maildaemon",
  "newsletter", "news", "no-reply", "no_reply", "noreply", "notification", "notifications",
  "notifier", "notify", "postmaster", "root", "undisclosed-recipients", "undisclosed.recipients",
  "unlisted-recipients",
};

/* Local parts of an organisation's functions. */
static const char *const role_locals[] = {
  "abuse", "abusedesk", "accounting", "accounts", "accounts-payable", "accounts-receivable",
  "accountspayable", "admin", "administrator", "bestellung", "billing", "booking", "bookings",
  "buchhaltung", "careers", "compliance", "contact", "customerservice", "einkauf", "enquiries",
  "events", "feedback", "finance", "hello", "help", "helpdesk", "hostmaster", "hr", "info",
  "inquiries", "invoice", "invoices", "jobs", "kontakt", "legal", "marketing", "media",
  "office", "orders", "partners", "payables", "payroll", "press", "privacy", "procurement",
  "purchasing", "rechnung", "rechnungen", "reception", "recruiting", "reservations", "sales",
  "security", "service", "servicedesk", "support", "team", "treasury", "vertrieb", "webmaster",
  "zentrale",
};

/* list-request@, list-owner@, owner-list@ are list robots. */
static gboolean
list_robot (const char *local)
{
  /* Mailman 2 -admin, mlmmj list+owner / list+subscribe..., gmane's mangled -owner-xyz. */
  return g_str_has_suffix (local, "-request") || g_str_has_suffix (local, "-owner") ||
         g_str_has_prefix (local, "owner-") || g_str_has_suffix (local, "-subscribe") ||
         g_str_has_suffix (local, "-unsubscribe") || g_str_has_suffix (local, "-admin") ||
         strstr (local, "-owner-") != NULL || strstr (local, "+owner") != NULL ||
         strstr (local, "+sub") != NULL || strstr (local, "+unsub") != NULL ||
         strstr (local, "+help") != NULL;
}

SgAddressKind
sg_address_classify (const char *address)
{
  const char *at = strrchr (address, '@');
  gsize len = at ? (gsize) (at - address) : strlen (address);
  char local[128];

  /* Longer local parts are no role or robot names we know. */
  if (len >= sizeof local)
    return SG_ADDRESS_PERSONAL;
  memcpy (local, address, len);
  local[len] = '\0';

  {
    static GHashTable *known;
    gpointer kind;

    /* Built once: this runs for every participant of every message. */
    if (g_once_init_enter (&known)) {
      GHashTable *t = g_hash_table_new (g_str_hash, g_str_equal);

      for (guint i = 0; i < G_N_ELEMENTS (noreply_locals); i++)
        g_hash_table_insert (t, (gpointer) noreply_locals[i], GINT_TO_POINTER (SG_ADDRESS_NOREPLY + 1));
      for (guint i = 0; i < G_N_ELEMENTS (role_locals); i++)
        g_hash_table_insert (t, (gpointer) role_locals[i], GINT_TO_POINTER (SG_ADDRESS_ROLE + 1));
      g_once_init_leave (&known, t);
    }
    kind = g_hash_table_lookup (known, local);
    if (kind == GINT_TO_POINTER (SG_ADDRESS_NOREPLY + 1))
      return SG_ADDRESS_NOREPLY;
    if (kind == GINT_TO_POINTER (SG_ADDRESS_ROLE + 1) && !list_robot (local))
      return SG_ADDRESS_ROLE;
  }
  if (g_str_has_prefix (local, "noreply") || g_str_has_prefix (local, "no-reply") ||
      g_str_has_prefix (local, "no_reply") || g_str_has_prefix (local, "donotreply") ||
      g_str_has_prefix (local, "bounce") || g_str_has_suffix (local, "-bounces") ||
      g_str_has_suffix (local, "-noreply") || g_str_has_suffix (local, "-no-reply") ||
      strstr (local, "bounces+") != NULL || strstr (local, "+bounces") != NULL)
    return SG_ADDRESS_NOREPLY;
  if (list_robot (local))
    return SG_ADDRESS_LIST;
  return SG_ADDRESS_PERSONAL;
}

const char *
sg_address_kind_to_string (SgAddressKind kind)
{
  switch (kind) {
  case SG_ADDRESS_PERSONAL: return "personal";
  case SG_ADDRESS_ROLE: return "role";
  case SG_ADDRESS_NOREPLY: return "noreply";
  case SG_ADDRESS_LIST: return "list";
  default: g_return_val_if_reached (NULL);
  }
}

/* Longest display name kept, in characters. */
#define SG_NAME_MAX 200

/* A surname: one word, or particles and one word ("van der Meer", "de Wit", "von Zahn"). */
static gboolean
surname_like (const char *last)
{
  static const char *const particles[] = { "van", "der", "den", "de", "von", "zu", "di", "da",
                                           "del", "della", "la", "le", "du", "dos", "das", "ten",
                                           "ter", "op", "het", "af", "al", "el", "bin", "ibn" };
  g_auto (GStrv) words = g_strsplit (last, " ", -1);
  guint n = g_strv_length (words);

  for (guint i = 0; i + 1 < n; i++) {
    gboolean particle = FALSE;

    for (guint j = 0; j < G_N_ELEMENTS (particles); j++)
      particle = particle || strcmp (words[i], particles[j]) == 0;
    if (!particle)
      return FALSE;
  }
  return n >= 1;
}

char *
sg_name_clean (const char *name)
{
  g_autoptr (GString) out = NULL;
  g_autofree char *s = NULL;
  char *p, *comma;
  gboolean space = FALSE, single_quoted;

  if (name == NULL)
    return NULL;
  s = g_utf8_make_valid (name, -1);
  out = g_string_sized_new (strlen (s));
  {
    const char *first = s;

    while (*first && g_ascii_isspace (*first))
      first++;
    single_quoted = *first == '\'' || *first == '`' || g_str_has_prefix (first, "\xe2\x80\x98");
  }
  /* Collapse white space and drop control characters and quotes. */
  for (p = s; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (g_unichar_isspace (c)) {
      space = out->len > 0;
      continue;
    }
    /* Control characters and zero-width spaces are dropped; between two letters they stand
     * for the space a broken mailer replaced ("Jane\x01Doe"), elsewhere (an escape sequence
     * glued to "Red\x1b[0m") they separate nothing. */
    if (g_unichar_iscntrl (c) || c == 0x200B) {
      const char *next = g_utf8_next_char (p);

      if (out->len > 0 && g_ascii_isalnum (out->str[out->len - 1]) && g_ascii_isalnum (*next))
        space = TRUE;
      continue;
    }
    if (c == '"' || c == 0x201C || c == 0x201D)
      continue;
    if (c == '\'' || c == '`' || c == 0x2018 || c == 0x2019) {
      /* Quotes around names are noise; an apostrophe after a letter is part of the name
       * (O'Brien, Buddingh'), unless the name opened with a single quote: then it closes it. */
      const char *next = g_utf8_next_char (p);
      gboolean after_letter = out->len > 0 && !space;
      gboolean inside = after_letter && *next && g_unichar_isalpha (g_utf8_get_char (next));

      if (!inside && (!after_letter || single_quoted))
        continue;
    }
    if (space)
      g_string_append_c (out, ' ');
    space = FALSE;
    g_string_append_unichar (out, c);
  }
  /* Decorations after the name: "Jane Doe (Acme)", "Jane Doe | Acme", "Jane Doe via LinkedIn". */
  {
    static const char *const cuts[] = { " (", " [", " | ", " / ", " via ", " @ " };

    for (guint i = 0; i < G_N_ELEMENTS (cuts); i++) {
      char *cut = strstr (out->str, cuts[i]);

      if (cut != NULL && cut > out->str)
        g_string_truncate (out, cut - out->str);
    }
  }
  /* Trailing and leading punctuation that mailers leave behind. */
  while (out->len > 0 && strchr (" ,;:-", out->str[out->len - 1]))
    g_string_truncate (out, out->len - 1);
  while (out->len > 0 && strchr (" ,;:-.", out->str[0]))
    g_string_erase (out, 0, 1);
  if (out->len == 0)
    return NULL;

  /* "Doe, Jane" -> "Jane Doe", but not "Acme, Inc." or names with more commas. */
  comma = strchr (out->str, ',');
  if (comma != NULL && strchr (comma + 1, ',') == NULL && strchr (out->str, '@') == NULL) {
    g_autofree char *last = g_strstrip (g_strndup (out->str, comma - out->str));
    g_autofree char *first = g_strstrip (g_strdup (comma + 1));
    g_autofree char *first_down = g_ascii_strdown (first, -1);

    if (*last && *first && surname_like (last) && !g_str_has_prefix (first_down, "inc") &&
        !g_str_has_prefix (first_down, "ltd") && !g_str_has_prefix (first_down, "llc") &&
        !g_str_has_prefix (first_down, "gmbh") && !g_str_has_prefix (first_down, "jr") &&
        !g_str_has_prefix (first_down, "sr") && !g_str_has_prefix (first_down, "phd")) {
      g_string_printf (out, "%s %s", first, last);
    }
  }
  if (g_utf8_strlen (out->str, -1) > SG_NAME_MAX) {
    const char *cut = g_utf8_offset_to_pointer (out->str, SG_NAME_MAX);
    g_string_truncate (out, cut - out->str);
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

int
sg_name_score (const char *name, const char *address)
{
  g_autofree char *down = NULL;
  const char *at;
  int words = 0, letters = 0;
  gboolean in_word = FALSE;

  if (name == NULL || *name == '\0' || strchr (name, '@') != NULL)
    return 0;
  down = g_utf8_strdown (name, -1);
  at = address ? strrchr (address, '@') : NULL;
  if (at != NULL && strlen (down) == (gsize) (at - address) && strncmp (down, address, at - address) == 0)
    return 1;
  for (const char *p = name; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (g_unichar_isalpha (c)) {
      letters++;
      if (!in_word)
        words++;
      in_word = TRUE;
    } else if (c == ' ') {
      in_word = FALSE;
    }
  }
  if (letters == 0)
    return 0;
  if (words < 2)
    return 2;
  /* "Joseph MORRIS" or a name with digits or symbols loses to "Joseph Morris". */
  for (const char *p = name, *w = name; ; p++) {
    if (*p == ' ' || *p == '\0') {
      gboolean upper = p - w >= 2;

      for (const char *q = w; q < p && upper; q++)
        upper = g_ascii_isupper (*q);
      if (upper)
        return 2;
      if (*p == '\0')
        break;
      w = p + 1;
    } else if (g_ascii_isdigit (*p) || strchr ("|()[]{}<>#*_=+~^", *p) != NULL) {
      return 2;
    }
  }
  return 3;
}

char *
sg_org_name_from_domain (const char *registrable_domain)
{
  const char *dot = strchr (registrable_domain, '.');
  g_autofree char *label = g_strndup (registrable_domain,
                                      dot ? (gsize) (dot - registrable_domain) : strlen (registrable_domain));
  GString *out = g_string_new (NULL);
  gboolean start = TRUE;

  for (const char *p = label; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (c == '-' || c == '_') {
      g_string_append_c (out, ' ');
      start = TRUE;
      continue;
    }
    g_string_append_unichar (out, start ? g_unichar_totitle (c) : c);
    start = FALSE;
  }
  return g_string_free (out, FALSE);
}
