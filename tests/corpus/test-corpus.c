/* test-corpus.c: golden tests of mail extraction on real messages.
 *
 * For each EXPECTED_DIR/NAME.expected, parses the corpus message it names with
 * sg_message_parse() and compares every fact with the hand-written expectation. The format
 * is described in README.md next to this file. Output is TAP, one test per expected file;
 * every mismatch is a diagnostic line "# NAME: FIELD: expected ..., got ...".
 *
 * Usage: test-corpus [--skip-status=N] EXPECTED_DIR [NAME.expected...]
 * The corpora are read from $SG_CORPORA/mail; they are never copied into the tree. When that
 * folder is absent the whole test is skipped (see skip_all()).
 */
#include "config.h"

#include "sg.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

/* The exit status that means "skipped" to automake and to meson's exitcode protocol. */
#define EXIT_SKIP 77

/* Facts every file must state (others have a default, see README.md). */
enum { F_MESSAGE_ID, F_DATE, F_TZ_OFFSET, F_SUBJECT, F_DIRECTION, F_BULK, F_THREAD_ROOT, F_N_REQUIRED };
static const char *const required_names[] = {
  "message-id", "date", "tz-offset", "subject", "direction", "bulk", "thread-root",
};

typedef struct {
  char *role;
  char *name;     /* NULL: no name */
  char *address;
  char *kind;
  gboolean internal;
  gboolean self;
  guint line;
} ExpParticipant;

typedef struct {
  char *path;               /* the .expected file */
  char *label;              /* its base name, for messages */
  /* Input. */
  char *file;               /* relative to $SG_CORPORA/mail */
  GPtrArray *identity_addresses;
  GPtrArray *internal_domains;
  char *identity_name;
  gint64 fallback_date;
  char *known_failure;
  /* Expected facts; NULL strings mean "none". */
  char *error;              /* parse must fail with this error */
  gboolean have[F_N_REQUIRED];
  gboolean any_fact;        /* a fact line was seen (none may be with "error:") */
  char *message_id;         /* "(hash)": a content hash */
  gint64 date;
  int tz_offset;
  gboolean date_fallback;
  char *subject;
  char *direction;
  gboolean internal;
  gboolean bulk;
  char *in_reply_to;
  char *thread_root;
  GPtrArray *references;    /* char* */
  GPtrArray *participants;  /* ExpParticipant* */
} Expected;

static void
exp_participant_free (gpointer data)
{
  ExpParticipant *p = data;

  g_free (p->role);
  g_free (p->name);
  g_free (p->address);
  g_free (p->kind);
  g_free (p);
}

static Expected *
expected_new (const char *path)
{
  Expected *e = g_new0 (Expected, 1);

  e->path = g_strdup (path);
  e->label = g_path_get_basename (path);
  e->identity_addresses = g_ptr_array_new_with_free_func (g_free);
  e->internal_domains = g_ptr_array_new_with_free_func (g_free);
  e->references = g_ptr_array_new_with_free_func (g_free);
  e->participants = g_ptr_array_new_with_free_func (exp_participant_free);
  return e;
}

static void
expected_free (Expected *e)
{
  g_free (e->path);
  g_free (e->label);
  g_free (e->file);
  g_ptr_array_unref (e->identity_addresses);
  g_ptr_array_unref (e->internal_domains);
  g_free (e->identity_name);
  g_free (e->known_failure);
  g_free (e->error);
  g_free (e->message_id);
  g_free (e->subject);
  g_free (e->direction);
  g_free (e->in_reply_to);
  g_free (e->thread_root);
  g_ptr_array_unref (e->references);
  g_ptr_array_unref (e->participants);
  g_free (e);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Expected, expected_free)

/* "(none)" stands for a missing value. */
static char *
value_or_null (const char *value)
{
  return strcmp (value, "(none)") == 0 ? NULL : g_strdup (value);
}

static gboolean
parse_bool (const char *value, gboolean *out)
{
  if (strcmp (value, "yes") == 0)
    *out = TRUE;
  else if (strcmp (value, "no") == 0)
    *out = FALSE;
  else
    return FALSE;
  return TRUE;
}

static gboolean
parse_time (const char *value, gint64 *out)
{
  g_autoptr (GDateTime) dt = NULL;
  gsize len = strlen (value);

  /* Only the one spelling the runner prints, so that expected files stay uniform. */
  if (len != 20 || value[10] != 'T' || value[19] != 'Z')
    return FALSE;
  dt = g_date_time_new_from_iso8601 (value, NULL);
  if (dt == NULL)
    return FALSE;
  *out = g_date_time_to_unix (dt);
  return TRUE;
}

static char *
format_time (gint64 t)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (t);

  return dt ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ")
            : g_strdup_printf ("(unix %" G_GINT64_FORMAT ")", t);
}

static void
split_list (const char *value, GPtrArray *into)
{
  g_auto (GStrv) parts = g_strsplit_set (value, ", \t", -1);

  for (guint i = 0; parts[i]; i++)
    if (*parts[i])
      g_ptr_array_add (into, g_strdup (parts[i]));
}

static gboolean
parse_participant (const char *value, guint line, ExpParticipant **out, GError **error)
{
  g_auto (GStrv) f = g_strsplit (value, "|", -1);
  guint n = g_strv_length (f);
  ExpParticipant *p;

  if (n != 4 && n != 5) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "line %u: participant needs ROLE | NAME | ADDRESS | KIND [| FLAGS]", line);
    return FALSE;
  }
  for (guint i = 0; i < n; i++)
    g_strstrip (f[i]);
  p = g_new0 (ExpParticipant, 1);
  p->role = g_strdup (f[0]);
  p->name = value_or_null (f[1]);
  p->address = g_strdup (f[2]);
  p->kind = g_strdup (f[3]);
  p->line = line;
  if (n == 5) {
    g_auto (GStrv) flags = g_strsplit_set (f[4], ", ", -1);

    for (guint i = 0; flags[i]; i++) {
      if (strcmp (flags[i], "internal") == 0)
        p->internal = TRUE;
      else if (strcmp (flags[i], "self") == 0)
        p->self = TRUE;
      else if (*flags[i]) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     "line %u: unknown participant flag “%s” (internal, self)", line, flags[i]);
        exp_participant_free (p);
        return FALSE;
      }
    }
  }
  *out = p;
  return TRUE;
}

static Expected *
expected_load (const char *path, GError **error)
{
  g_autoptr (Expected) e = expected_new (path);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  if (!g_utf8_validate (text, -1, NULL)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "not UTF-8");
    return NULL;
  }
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    char *line = lines[i], *colon;
    const char *key, *value;
    guint lineno = i + 1;
    gboolean ok = TRUE;

    g_strchomp (line);
    if (*line == '\0' || *line == '#')
      continue;
    colon = strchr (line, ':');
    if (colon == NULL) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "line %u: no “key: value”", lineno);
      return NULL;
    }
    *colon = '\0';
    key = g_strstrip (line);
    value = g_strstrip (colon + 1);

    if (strcmp (key, "file") != 0 && strcmp (key, "identity-addresses") != 0 &&
        strcmp (key, "internal-domains") != 0 && strcmp (key, "identity-name") != 0 &&
        strcmp (key, "fallback-date") != 0 && strcmp (key, "known-failure") != 0 &&
        strcmp (key, "error") != 0)
      e->any_fact = TRUE;
    if (strcmp (key, "file") == 0) {
      g_free (e->file);
      e->file = g_strdup (value);
    } else if (strcmp (key, "identity-addresses") == 0) {
      split_list (value, e->identity_addresses);
    } else if (strcmp (key, "internal-domains") == 0) {
      split_list (value, e->internal_domains);
    } else if (strcmp (key, "identity-name") == 0) {
      g_free (e->identity_name);
      e->identity_name = g_strdup (value);
    } else if (strcmp (key, "fallback-date") == 0) {
      ok = parse_time (value, &e->fallback_date);
    } else if (strcmp (key, "known-failure") == 0) {
      g_free (e->known_failure);
      e->known_failure = g_strdup (value);
    } else if (strcmp (key, "error") == 0) {
      g_free (e->error);
      e->error = g_strdup (value);
    } else if (strcmp (key, "message-id") == 0) {
      g_free (e->message_id);
      e->message_id = g_strdup (value);
      e->have[F_MESSAGE_ID] = TRUE;
    } else if (strcmp (key, "date") == 0) {
      ok = parse_time (value, &e->date);
      e->have[F_DATE] = TRUE;
    } else if (strcmp (key, "tz-offset") == 0) {
      char *end = NULL;
      gint64 v = g_ascii_strtoll (value, &end, 10);

      ok = end != value && *end == '\0' && v > -24 * 60 * 4 && v < 24 * 60 * 4;
      e->tz_offset = (int) v;
      e->have[F_TZ_OFFSET] = TRUE;
    } else if (strcmp (key, "date-fallback") == 0) {
      ok = parse_bool (value, &e->date_fallback);
    } else if (strcmp (key, "subject") == 0) {
      g_free (e->subject);
      e->subject = value_or_null (value);
      e->have[F_SUBJECT] = TRUE;
    } else if (strcmp (key, "direction") == 0) {
      ok = strcmp (value, "in") == 0 || strcmp (value, "out") == 0;
      g_free (e->direction);
      e->direction = g_strdup (value);
      e->have[F_DIRECTION] = TRUE;
    } else if (strcmp (key, "internal") == 0) {
      ok = parse_bool (value, &e->internal);
    } else if (strcmp (key, "bulk") == 0) {
      ok = parse_bool (value, &e->bulk);
      e->have[F_BULK] = TRUE;
    } else if (strcmp (key, "in-reply-to") == 0) {
      g_free (e->in_reply_to);
      e->in_reply_to = value_or_null (value);
    } else if (strcmp (key, "thread-root") == 0) {
      g_free (e->thread_root);
      e->thread_root = g_strdup (value);
      e->have[F_THREAD_ROOT] = TRUE;
    } else if (strcmp (key, "reference") == 0) {
      g_ptr_array_add (e->references, g_strdup (value));
    } else if (strcmp (key, "participant") == 0) {
      ExpParticipant *p;

      if (!parse_participant (value, lineno, &p, error))
        return NULL;
      for (guint j = 0; j < e->participants->len; j++) {
        ExpParticipant *q = e->participants->pdata[j];

        if (strcmp (q->role, p->role) == 0 && strcmp (q->address, p->address) == 0) {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "line %u: participant %s %s twice (see line %u)", lineno, p->role, p->address,
                       q->line);
          exp_participant_free (p);
          return NULL;
        }
      }
      g_ptr_array_add (e->participants, p);
    } else {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "line %u: unknown key “%s”", lineno, key);
      return NULL;
    }
    if (!ok) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "line %u: bad value for %s: “%s”",
                   lineno, key, value);
      return NULL;
    }
  }
  if (e->file == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "no “file:” line");
    return NULL;
  }
  if (e->error != NULL && e->any_fact) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "“error:” leaves no facts to state");
    return NULL;
  }
  if (e->error == NULL) {
    for (guint f = 0; f < F_N_REQUIRED; f++) {
      if (!e->have[f]) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "no “%s:” line", required_names[f]);
        return NULL;
      }
    }
  }
  return g_steal_pointer (&e);
}

/* --- comparison ------------------------------------------------------------------- */

typedef struct {
  const Expected *e;
  GPtrArray *diffs; /* char*: one line per mismatch */
} Check;

static void G_GNUC_PRINTF (2, 3)
mismatch (Check *c, const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_ptr_array_add (c->diffs, g_strdup_printf ("%s: %s", c->e->label, msg));
}

/* A value as printed in a diff: quoted, or (none); control characters, quotes and
 * backslashes escaped, UTF-8 kept as it is. */
static char *
show (const char *s)
{
  GString *out;

  if (s == NULL)
    return g_strdup ("(none)");
  out = g_string_new ("\"");
  for (const char *p = s; *p; p++) {
    guchar c = (guchar) *p;

    if (c == '"' || c == '\\')
      g_string_append_printf (out, "\\%c", c);
    else if (c < 0x20 || c == 0x7f)
      g_string_append_printf (out, "\\x%02x", c);
    else
      g_string_append_c (out, (char) c);
  }
  g_string_append_c (out, '"');
  return g_string_free (out, FALSE);
}

static void
compare_str (Check *c, const char *field, const char *want, const char *got)
{
  if (g_strcmp0 (want, got) != 0) {
    g_autofree char *w = show (want);
    g_autofree char *g = show (got);

    mismatch (c, "%s: expected %s, got %s", field, w, g);
  }
}

static void
compare_bool (Check *c, const char *field, gboolean want, gboolean got)
{
  if (!want != !got)
    mismatch (c, "%s: expected %s, got %s", field, want ? "yes" : "no", got ? "yes" : "no");
}

static gboolean
is_content_hash (const char *id)
{
  if (!g_str_has_prefix (id, "sha256:") || strlen (id) != 7 + 64)
    return FALSE;
  for (const char *p = id + 7; *p; p++)
    if (!g_ascii_isxdigit (*p) || g_ascii_isupper (*p))
      return FALSE;
  return TRUE;
}

static const char *
error_name (const GError *error)
{
  if (error->domain != SG_MESSAGE_ERROR)
    return "other";
  switch (error->code) {
  case SG_MESSAGE_ERROR_TOO_LARGE: return "too-large";
  case SG_MESSAGE_ERROR_HEADERS_TOO_LARGE: return "headers-too-large";
  case SG_MESSAGE_ERROR_NOT_MAIL: return "not-mail";
  case SG_MESSAGE_ERROR_EMPTY: return "empty";
  default: return "other";
  }
}

/* "internal", "self", "internal self" or "(none)". */
static char *
participant_flags (gboolean internal, gboolean self)
{
  if (!internal && !self)
    return g_strdup ("(none)");
  return g_strdup_printf ("%s%s%s", internal ? "internal" : "", internal && self ? " " : "",
                          self ? "self" : "");
}

static void
compare_participants (Check *c, const SgMessage *m)
{
  guint n = sg_message_get_n_participants (m);
  g_autofree gboolean *matched = g_new0 (gboolean, n);

  for (guint i = 0; i < c->e->participants->len; i++) {
    const ExpParticipant *want = c->e->participants->pdata[i];
    const SgParticipant *got = NULL;
    g_autofree char *field = g_strdup_printf ("participant %s <%s>", want->role, want->address);

    for (guint j = 0; j < n && got == NULL; j++) {
      const SgParticipant *p = sg_message_get_participant (m, j);

      if (!matched[j] && strcmp (sg_header_role_to_string (p->role), want->role) == 0 &&
          strcmp (p->address, want->address) == 0) {
        matched[j] = TRUE;
        got = p;
      }
    }
    if (got == NULL) {
      mismatch (c, "%s: expected, got none (line %u)", field, want->line);
      continue;
    }
    {
      g_autofree char *nfield = g_strconcat (field, " name", NULL);
      g_autofree char *kfield = g_strconcat (field, " kind", NULL);

      compare_str (c, nfield, want->name, got->name);
      compare_str (c, kfield, want->kind, sg_address_kind_to_string (got->kind));
    }
    if (!want->internal != !got->internal || !want->self != !got->self) {
      g_autofree char *w = participant_flags (want->internal, want->self);
      g_autofree char *g = participant_flags (got->internal, got->self);

      mismatch (c, "%s flags: expected %s, got %s", field, w, g);
    }
  }
  for (guint j = 0; j < n; j++) {
    const SgParticipant *p = sg_message_get_participant (m, j);
    g_autofree char *flags = NULL;
    g_autofree char *name = NULL;

    if (matched[j])
      continue;
    flags = participant_flags (p->internal, p->self);
    name = show (p->name);
    mismatch (c, "participant %s <%s>: not expected, got name %s, kind %s, flags %s",
              sg_header_role_to_string (p->role), p->address, name,
              sg_address_kind_to_string (p->kind), flags);
  }
}

static void
compare_message (Check *c, const SgMessage *m)
{
  const Expected *e = c->e;
  const char *const *refs = sg_message_get_references (m);
  guint n_refs = refs ? g_strv_length ((char **) refs) : 0;

  if (strcmp (e->message_id, "(hash)") == 0) {
    if (!sg_message_id_is_hash (m) || !is_content_hash (sg_message_get_id (m))) {
      g_autofree char *g = show (sg_message_get_id (m));

      mismatch (c, "message-id: expected a content hash (sha256:<64 hex>), got %s", g);
    }
  } else {
    compare_str (c, "message-id", e->message_id, sg_message_get_id (m));
    if (sg_message_id_is_hash (m))
      mismatch (c, "message-id: expected a Message-ID, got a content hash");
  }
  if (sg_message_get_date (m) != e->date) {
    g_autofree char *w = format_time (e->date);
    g_autofree char *g = format_time (sg_message_get_date (m));

    mismatch (c, "date: expected %s, got %s", w, g);
  }
  if (sg_message_get_tz_offset (m) != e->tz_offset)
    mismatch (c, "tz-offset: expected %d, got %d", e->tz_offset, sg_message_get_tz_offset (m));
  compare_bool (c, "date-fallback", e->date_fallback, sg_message_date_is_fallback (m));
  compare_str (c, "subject", e->subject, sg_message_get_subject (m));
  compare_str (c, "direction", e->direction, sg_direction_to_string (sg_message_get_direction (m)));
  compare_bool (c, "internal", e->internal, sg_message_is_internal (m));
  compare_bool (c, "bulk", e->bulk, sg_message_is_bulk (m));
  compare_str (c, "in-reply-to", e->in_reply_to, sg_message_get_in_reply_to (m));
  /* "(hash)": the message is its own root, and its id is a content hash. */
  compare_str (c, "thread-root",
               strcmp (e->thread_root, "(hash)") == 0 && sg_message_id_is_hash (m) ? sg_message_get_id (m)
                                                                                   : e->thread_root,
               sg_message_get_thread_root (m));
  for (guint i = 0; i < MAX (n_refs, e->references->len); i++) {
    g_autofree char *field = g_strdup_printf ("reference %u", i + 1);

    compare_str (c, field, i < e->references->len ? e->references->pdata[i] : NULL,
                 i < n_refs ? refs[i] : NULL);
  }
  compare_participants (c, m);
}

/* --- the run ---------------------------------------------------------------------- */

static SgIdentity *
identity_for (const Expected *e, GError **error)
{
  SgIdentity *identity = sg_identity_new ();

  sg_identity_set_name (identity, e->identity_name);
  for (guint i = 0; i < e->identity_addresses->len; i++) {
    if (!sg_identity_add_address (identity, e->identity_addresses->pdata[i], error)) {
      sg_identity_unref (identity);
      return NULL;
    }
  }
  for (guint i = 0; i < e->internal_domains->len; i++) {
    if (!sg_identity_add_internal_domain (identity, e->internal_domains->pdata[i], error)) {
      sg_identity_unref (identity);
      return NULL;
    }
  }
  return identity;
}

/* Runs one expected file. Returns its mismatches (empty when it passes), or NULL with
 * @error when the expected file or the corpus message cannot be read. */
static GPtrArray *
run_one (const Expected *e, const char *mail_root, GPtrArray **warnings, GError **error)
{
  g_autoptr (SgIdentity) identity = NULL;
  g_autofree char *path = NULL;
  g_autofree char *data = NULL;
  g_autoptr (GError) parse_error = NULL;
  gsize len;
  SgMessage *m;
  Check c = { e, g_ptr_array_new_with_free_func (g_free) };

  *warnings = g_ptr_array_new_with_free_func (g_free);
  identity = identity_for (e, error);
  if (identity == NULL)
    goto fail;
  path = g_build_filename (mail_root, e->file, NULL);
  if (!g_file_get_contents (path, &data, &len, error))
    goto fail;

  m = sg_message_parse (data, len, identity, e->fallback_date, &parse_error);
  if (e->error != NULL) {
    if (m != NULL) {
      mismatch (&c, "error: expected %s, got a message", e->error);
      sg_message_free (m);
    } else if (strcmp (e->error, error_name (parse_error)) != 0) {
      mismatch (&c, "error: expected %s, got %s (%s)", e->error, error_name (parse_error),
                parse_error->message);
    }
    return c.diffs;
  }
  if (m == NULL) {
    mismatch (&c, "parse: expected a message, got error %s (%s)", error_name (parse_error),
              parse_error->message);
    return c.diffs;
  }
  compare_message (&c, m);
  for (const char *const *w = sg_message_get_warnings (m); *w; w++)
    g_ptr_array_add (*warnings, g_strdup (*w));
  sg_message_free (m);
  return c.diffs;

fail:
  g_ptr_array_unref (c.diffs);
  return NULL;
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* TAP's way to skip a whole test is the plan "1..0 # SKIP"; the exit status 77 then says
 * "skipped" to a harness that reads exit statuses (automake, meson's exitcode protocol).
 * meson's TAP protocol reads the plan but takes any non-zero status as an error, so
 * meson.build passes --skip-status=0. */
static int
skip_all (const char *reason, int status)
{
  printf ("1..0 # SKIP %s\n", reason);
  return status;
}

int
main (int argc, char **argv)
{
  const char *corpora = g_getenv ("SG_CORPORA");
  g_autofree char *mail_root = NULL;
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  guint failed = 0, todo = 0;
  int skip_status = EXIT_SKIP;

  setlocale (LC_ALL, "");
  if (argc > 1 && g_str_has_prefix (argv[1], "--skip-status=")) {
    skip_status = (int) g_ascii_strtoll (argv[1] + strlen ("--skip-status="), NULL, 10);
    argv++;
    argc--;
  }
  if (argc < 2) {
    fprintf (stderr, "usage: test-corpus [--skip-status=N] EXPECTED_DIR [NAME.expected...]\n");
    return 2;
  }
  if (corpora == NULL || *corpora == '\0')
    return skip_all ("SG_CORPORA is not set", skip_status);
  mail_root = g_build_filename (corpora, "mail", NULL);
  if (!g_file_test (mail_root, G_FILE_TEST_IS_DIR)) {
    g_autofree char *reason = g_strdup_printf ("no corpora at %s", mail_root);

    return skip_all (reason, skip_status);
  }

  if (argc > 2) {
    for (int i = 2; i < argc; i++)
      g_ptr_array_add (files, g_build_filename (argv[1], argv[i], NULL));
  } else {
    g_autoptr (GError) error = NULL;
    g_autoptr (GDir) dir = g_dir_open (argv[1], 0, &error);
    const char *name;

    if (dir == NULL) {
      printf ("Bail out! %s\n", error->message);
      return 1;
    }
    while ((name = g_dir_read_name (dir)) != NULL)
      if (g_str_has_suffix (name, ".expected"))
        g_ptr_array_add (files, g_build_filename (argv[1], name, NULL));
    g_ptr_array_sort (files, compare_paths);
  }

  printf ("TAP version 13\n1..%u\n", files->len);
  for (guint i = 0; i < files->len; i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (Expected) e = expected_load (files->pdata[i], &error);
    g_autoptr (GPtrArray) diffs = NULL;
    g_autoptr (GPtrArray) warnings = NULL;
    g_autofree char *label = g_path_get_basename (files->pdata[i]);

    if (e != NULL)
      diffs = run_one (e, mail_root, &warnings, &error);
    if (diffs == NULL) {
      /* A broken expected file or a missing corpus message fails even when marked known. */
      printf ("not ok %u - %s\n# %s: %s\n", i + 1, label, label, error->message);
      failed++;
      continue;
    }
    if (diffs->len == 0 && e->known_failure == NULL) {
      printf ("ok %u - %s\n", i + 1, label);
    } else if (diffs->len == 0) {
      /* TAP reads "ok ... # TODO" as an unexpected pass, which meson counts as a failure:
       * the bug is fixed, so the known-failure line must go. */
      printf ("ok %u - %s # TODO known failure no longer fails: remove “known-failure:” (%s)\n",
              i + 1, label, e->known_failure);
      failed++;
    } else {
      if (e->known_failure != NULL) {
        printf ("not ok %u - %s # TODO %s\n", i + 1, label, e->known_failure);
        todo++;
      } else {
        printf ("not ok %u - %s\n", i + 1, label);
        failed++;
      }
      printf ("# %s: message %s\n", label, e->file);
      for (guint d = 0; d < diffs->len; d++)
        printf ("# %s\n", (const char *) diffs->pdata[d]);
    }
    for (guint w = 0; w < warnings->len; w++)
      printf ("# %s: warning: %s\n", label, (const char *) warnings->pdata[w]);
  }
  printf ("# %u golden messages: %u passed, %u known failures (TODO), %u failed\n", files->len,
          files->len - failed - todo, todo, failed);
  return failed > 0 ? 1 : 0;
}
