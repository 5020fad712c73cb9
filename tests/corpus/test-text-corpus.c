/* test-text-corpus.c: golden tests of what the text of real messages says (issue 9).
 *
 * For each TEXT_DIR/NAME.expected, parses the corpus message it names with
 * sg_message_parse() and compares its readable text, signature, facts about the sender and
 * topics with the hand-written expectation (format in README.md, "The text sample"). Output
 * is TAP, one test per file; mismatches are "# NAME: ..." lines. At the end it prints the
 * precision and recall of the signature and vCard facts over the whole sample.
 *
 * Usage: test-text-corpus [--skip-status=N] TEXT_DIR [NAME.expected...]
 */
#include "config.h"

#include "sg.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#define EXIT_SKIP 77

typedef struct {
  char *label;
  char *file;
  char *source;
  char *known_failure;
  GPtrArray *body, *not_body, *signature, *not_signature, *facts, *topics, *not_topics;
  gboolean no_signature;
  gboolean forwarded;
  int vcards;
  int mbox_message; /* 0: the file is one message; N: the Nth "From " message of an mbox */
} Expected;

static void
expected_free (Expected *e)
{
  g_free (e->label);
  g_free (e->file);
  g_free (e->source);
  g_free (e->known_failure);
  g_ptr_array_unref (e->body);
  g_ptr_array_unref (e->not_body);
  g_ptr_array_unref (e->signature);
  g_ptr_array_unref (e->not_signature);
  g_ptr_array_unref (e->facts);
  g_ptr_array_unref (e->topics);
  g_ptr_array_unref (e->not_topics);
  g_free (e);
}

static Expected *
load (const char *path, GString *problems)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  Expected *e = g_new0 (Expected, 1);

  e->label = g_path_get_basename (path);
  e->body = g_ptr_array_new_with_free_func (g_free);
  e->not_body = g_ptr_array_new_with_free_func (g_free);
  e->signature = g_ptr_array_new_with_free_func (g_free);
  e->not_signature = g_ptr_array_new_with_free_func (g_free);
  e->facts = g_ptr_array_new_with_free_func (g_free);
  e->topics = g_ptr_array_new_with_free_func (g_free);
  e->not_topics = g_ptr_array_new_with_free_func (g_free);
  if (!g_file_get_contents (path, &text, NULL, NULL)) {
    g_string_append_printf (problems, "cannot read %s", path);
    return e;
  }
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    char *line = g_strstrip (lines[i]);
    char *colon;
    const char *key, *value;

    if (*line == '\0' || *line == '#')
      continue;
    colon = strchr (line, ':');
    if (colon == NULL) {
      g_string_append_printf (problems, "line %u: no 'key: value'", i + 1);
      continue;
    }
    *colon = '\0';
    key = g_strstrip (line);
    value = g_strstrip (colon + 1);
    if (strcmp (key, "file") == 0)
      e->file = g_strdup (value);
    else if (strcmp (key, "source") == 0)
      e->source = g_strdup (value);
    else if (strcmp (key, "known-failure") == 0)
      e->known_failure = g_strdup (value);
    else if (strcmp (key, "body") == 0)
      g_ptr_array_add (e->body, g_strdup (value));
    else if (strcmp (key, "not-body") == 0)
      g_ptr_array_add (e->not_body, g_strdup (value));
    else if (strcmp (key, "signature") == 0 && strcmp (value, "(none)") == 0)
      e->no_signature = TRUE;
    else if (strcmp (key, "signature") == 0)
      g_ptr_array_add (e->signature, g_strdup (value));
    else if (strcmp (key, "not-signature") == 0)
      g_ptr_array_add (e->not_signature, g_strdup (value));
    else if (strcmp (key, "fact") == 0) {
      g_auto (GStrv) parts = g_strsplit (value, "|", 3);

      if (g_strv_length (parts) != 3) {
        g_string_append_printf (problems, "line %u: fact: KIND | DETAIL | VALUE", i + 1);
        continue;
      }
      for (guint k = 0; k < 3; k++)
        g_strstrip (parts[k]);
      g_ptr_array_add (e->facts, g_strdup_printf ("%s|%s|%s", parts[0],
                                                  strcmp (parts[1], "-") == 0 ? "" : parts[1], parts[2]));
    } else if (strcmp (key, "topic") == 0)
      g_ptr_array_add (e->topics, g_strdup (value));
    else if (strcmp (key, "not-topic") == 0)
      g_ptr_array_add (e->not_topics, g_strdup (value));
    else if (strcmp (key, "forwarded") == 0)
      e->forwarded = strcmp (value, "yes") == 0;
    else if (strcmp (key, "vcards") == 0)
      e->vcards = (int) g_ascii_strtoll (value, NULL, 10);
    else if (strcmp (key, "mbox-message") == 0)
      e->mbox_message = (int) g_ascii_strtoll (value, NULL, 10);
    else
      g_string_append_printf (problems, "line %u: unknown key %s", i + 1, key);
  }
  if (e->file == NULL)
    g_string_append (problems, "no file:");
  return e;
}

static guint fact_expected, fact_found, fact_correct;
/* The same over the held-out files only (heldout-*: written before the program ran on them). */
static guint held_expected, held_found, held_correct;

/* Runs one expectation. Returns: TRUE when everything matches. */
static gboolean
check (Expected *e, const char *corpora, GString *diag)
{
  g_autofree char *path = g_build_filename (corpora, "mail", e->file, NULL);
  g_autofree char *data = NULL;
  g_autoptr (SgIdentity) identity = sg_identity_new ();
  g_autoptr (SgMessage) m = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  const SgText *t;
  const char *body, *sig;
  gsize len;
  gboolean ok = TRUE;
  int vcards = 0;

  if (!g_file_get_contents (path, &data, &len, &error)) {
    g_string_append_printf (diag, "# %s: %s\n", e->label, error->message);
    return FALSE;
  }
  /* An mbox From_ line (SpamAssassin's files start with one) is not a header. With
   * mbox-message: N, the Nth message of an mbox, up to the next "From " line. */
  {
    const char *start = data, *end = data + len;

    for (int k = 1; k < e->mbox_message && start != NULL; k++) {
      start = strstr (start + 1, "\nFrom ");
      if (start != NULL)
        start++;
    }
    if (start == NULL) {
      g_string_append_printf (diag, "# %s: no message %d in the mbox\n", e->label, e->mbox_message);
      return FALSE;
    }
    if (e->mbox_message > 0) {
      const char *next = strstr (start + 1, "\nFrom ");

      if (next != NULL)
        end = next + 1;
    }
    if (g_str_has_prefix (start, "From ") && strchr (start, '\n'))
      start = strchr (start, '\n') + 1;
    m = sg_message_parse (start, (gsize) (end - start), identity, 0, &error);
  }
  if (m == NULL) {
    g_string_append_printf (diag, "# %s: not parsed: %s\n", e->label, error->message);
    return FALSE;
  }
  t = sg_message_get_text (m);
  body = sg_text_get_body (t);
  sig = sg_text_get_signature (t);
  if (e->source && strcmp (e->source, sg_text_source_to_string (sg_text_get_source (t))) != 0) {
    g_string_append_printf (diag, "# %s: source: expected %s, got %s\n", e->label, e->source,
                            sg_text_source_to_string (sg_text_get_source (t)));
    ok = FALSE;
  }
  for (guint i = 0; i < e->body->len; i++)
    if (strstr (body, e->body->pdata[i]) == NULL) {
      g_string_append_printf (diag, "# %s: body lacks \"%s\"\n", e->label, (char *) e->body->pdata[i]);
      ok = FALSE;
    }
  for (guint i = 0; i < e->not_body->len; i++)
    if (strstr (body, e->not_body->pdata[i]) != NULL) {
      g_string_append_printf (diag, "# %s: body has \"%s\" (quoted or signature)\n", e->label,
                              (char *) e->not_body->pdata[i]);
      ok = FALSE;
    }
  if (e->no_signature && sig != NULL) {
    g_string_append_printf (diag, "# %s: signature: expected none, got \"%.60s...\"\n", e->label, sig);
    ok = FALSE;
  }
  for (guint i = 0; i < e->signature->len; i++)
    if (sig == NULL || strstr (sig, e->signature->pdata[i]) == NULL) {
      g_string_append_printf (diag, "# %s: signature lacks \"%s\"\n", e->label, (char *) e->signature->pdata[i]);
      ok = FALSE;
    }
  for (guint i = 0; i < e->not_signature->len; i++)
    if (sig != NULL && strstr (sig, e->not_signature->pdata[i]) != NULL) {
      g_string_append_printf (diag, "# %s: signature has \"%s\"\n", e->label, (char *) e->not_signature->pdata[i]);
      ok = FALSE;
    }
  if (e->forwarded != (sg_text_get_forwarded (t) != NULL)) {
    g_string_append_printf (diag, "# %s: forwarded: expected %s\n", e->label, e->forwarded ? "yes" : "no");
    ok = FALSE;
  }
  for (const char *const *v = sg_text_get_vcards (t); *v; v++)
    vcards++;
  if (vcards != e->vcards) {
    g_string_append_printf (diag, "# %s: vcards: expected %d, got %d\n", e->label, e->vcards, vcards);
    ok = FALSE;
  }

  /* Facts: the expected set against the found set. */
  for (guint i = 0; i < sg_message_get_n_facts (m); i++) {
    const SgFact *f = sg_message_get_fact (m, i);

    g_ptr_array_add (found, g_strdup_printf ("%s|%s|%s", sg_fact_kind_to_string (f->kind),
                                             f->kind == SG_FACT_PHONE && f->detail ? f->detail : "", f->value));
  }
  fact_expected += e->facts->len;
  fact_found += found->len;
  if (g_str_has_prefix (e->label, "heldout-")) {
    held_expected += e->facts->len;
    held_found += found->len;
  }
  for (guint i = 0; i < found->len; i++) {
    if (g_ptr_array_find_with_equal_func (e->facts, found->pdata[i], g_str_equal, NULL)) {
      fact_correct++;
      if (g_str_has_prefix (e->label, "heldout-"))
        held_correct++;
    } else {
      g_string_append_printf (diag, "# %s: fact found but not expected: %s\n", e->label, (char *) found->pdata[i]);
      ok = FALSE;
    }
  }
  for (guint i = 0; i < e->facts->len; i++)
    if (!g_ptr_array_find_with_equal_func (found, e->facts->pdata[i], g_str_equal, NULL)) {
      g_string_append_printf (diag, "# %s: fact expected but not found: %s\n", e->label, (char *) e->facts->pdata[i]);
      ok = FALSE;
    }

  /* Topics: each expected word is a topic (by its stem in the message's language). */
  for (guint i = 0; i < e->topics->len; i++) {
    gboolean hit = FALSE;

    for (guint k = 0; k < sg_message_get_n_topics (m) && !hit; k++) {
      const SgTopic *tp = sg_message_get_topic (m, k);
      g_autofree char *stem = sg_topics_stem (e->topics->pdata[i], tp->lang);

      hit = strcmp (tp->stem, stem) == 0 || g_ascii_strcasecmp (tp->phrase, e->topics->pdata[i]) == 0;
    }
    if (!hit) {
      GString *got = g_string_new (NULL);

      for (guint k = 0; k < sg_message_get_n_topics (m); k++)
        g_string_append_printf (got, "%s%s", k ? ", " : "", sg_message_get_topic (m, k)->phrase);
      g_string_append_printf (diag, "# %s: topic \"%s\" not among: %s\n", e->label, (char *) e->topics->pdata[i], got->str);
      g_string_free (got, TRUE);
      ok = FALSE;
    }
  }
  /* Noise: words that must not be topics (a name, a link's scheme, a footer's words). */
  for (guint i = 0; i < e->not_topics->len; i++)
    for (guint k = 0; k < sg_message_get_n_topics (m); k++) {
      const SgTopic *tp = sg_message_get_topic (m, k);
      g_autofree char *stem = sg_topics_stem (e->not_topics->pdata[i], tp->lang);

      if (strcmp (tp->stem, stem) == 0 || g_ascii_strcasecmp (tp->phrase, e->not_topics->pdata[i]) == 0) {
        g_string_append_printf (diag, "# %s: \"%s\" is a topic (noise)\n", e->label, (char *) e->not_topics->pdata[i]);
        ok = FALSE;
        break;
      }
    }
  return ok;
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
main (int argc, char **argv)
{
  const char *corpora = g_getenv ("SG_CORPORA");
  g_autofree char *mail = NULL;
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  int skip_status = EXIT_SKIP, first = 1, failed = 0;
  const char *dir;

  setlocale (LC_ALL, "");
  if (argc > 1 && g_str_has_prefix (argv[1], "--skip-status=")) {
    skip_status = (int) g_ascii_strtoll (argv[1] + strlen ("--skip-status="), NULL, 10);
    first = 2;
  }
  if (argc <= first) {
    fprintf (stderr, "usage: test-text-corpus [--skip-status=N] TEXT_DIR [NAME.expected...]\n");
    return 2;
  }
  dir = argv[first];
  mail = corpora ? g_build_filename (corpora, "mail", NULL) : NULL;
  if (mail == NULL || !g_file_test (mail, G_FILE_TEST_IS_DIR)) {
    printf ("1..0 # SKIP no corpora at $SG_CORPORA/mail\n");
    return skip_status;
  }
  if (argc > first + 1) {
    for (int i = first + 1; i < argc; i++)
      g_ptr_array_add (files, g_build_filename (dir, argv[i], NULL));
  } else {
    g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name (d)))
      if (g_str_has_suffix (name, ".expected"))
        g_ptr_array_add (files, g_build_filename (dir, name, NULL));
    g_ptr_array_sort (files, compare_paths);
  }
  printf ("1..%u\n", files->len);
  for (guint i = 0; i < files->len; i++) {
    g_autoptr (GString) problems = g_string_new (NULL);
    g_autoptr (GString) diag = g_string_new (NULL);
    Expected *e = load (files->pdata[i], problems);
    gboolean ok;

    if (problems->len > 0) {
      printf ("not ok %u - %s # broken expected file: %s\n", i + 1, e->label, problems->str);
      failed++;
      expected_free (e);
      continue;
    }
    ok = check (e, corpora, diag);
    if (e->known_failure)
      printf ("%s %u - %s # TODO %s\n", ok ? "ok" : "not ok", i + 1, e->label, e->known_failure);
    else
      printf ("%s %u - %s\n", ok ? "ok" : "not ok", i + 1, e->label);
    fputs (diag->str, stdout);
    if (!ok && !e->known_failure)
      failed++;
    expected_free (e);
  }
  printf ("# signature and vCard facts: %u expected, %u found, %u correct: precision %.2f, recall %.2f\n",
          fact_expected, fact_found, fact_correct,
          fact_found ? (double) fact_correct / fact_found : 1.0,
          fact_expected ? (double) fact_correct / fact_expected : 1.0);
  printf ("# held-out files only (heldout-*): %u expected, %u found, %u correct: precision %.2f, recall %.2f\n",
          held_expected, held_found, held_correct,
          held_found ? (double) held_correct / held_found : 1.0,
          held_expected ? (double) held_correct / held_expected : 1.0);
  return failed ? 1 : 0;
}
