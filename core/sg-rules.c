/* sg-rules.c: the tagging engine (rules file -> tag_assignments), and tags by hand. */
#include "config.h"

#include "sg-rules.h"
#include "sg-private.h"

#include <json-glib/json-glib.h>
#include <string.h>

G_DEFINE_QUARK (sg-rules-error-quark, sg_rules_error)

/* Caps: a rules file is written by a person, but it is still input. */
#define MAX_RULES 1000
#define MAX_WORDS 200

/* The built-in rules, in the rules file format (data/salesgetter-rules.example documents
 * them too). Words are matched as whole words, case-insensitively. */
static const char default_rules[] =
  "[rule introduction]\n"
  "tag = introduction\n"
  "words = introduction;intro;introductory;kick-off;kickoff;first call;getting to know;get to know;"
  "meet and greet;discovery call;exploratory call\n"
  "\n"
  "[rule first-meeting]\n"
  "tag = introduction\n"
  "first-with-org = true\n"
  "\n"
  "[rule demo]\n"
  "tag = demo\n"
  "words = demo;demonstration;presentation;walkthrough;walk-through;showcase;product tour\n"
  "\n"
  "[rule proposal]\n"
  "tag = proposal\n"
  "words = proposal;offer;quote;quotation;pricing;statement of work;sow;rfp\n"
  "\n"
  "[rule negotiation]\n"
  "tag = negotiation\n"
  "words = negotiation;negotiate;contract;terms and conditions;procurement;legal review;redline\n"
  "\n"
  "[rule review]\n"
  "tag = review\n"
  "words = review;qbr;quarterly business review;business review;retrospective;steering committee\n"
  "\n"
  "[rule internal]\n"
  "tag = internal\n"
  "internal-only = true\n";

typedef enum { TRI_ANY, TRI_YES, TRI_NO } Tri;

typedef struct {
  char *name;
  char *tag;
  char *kind;
  gboolean mail;          /* applies to mail instead of meetings */
  char **words;           /* casefolded */
  char **orgs;            /* registrable domains */
  Tri internal_only;
  Tri first_with_org;
  Tri recurring;
  int external_more_than; /* -1: any */
  int role;               /* 0 any, 1 organizer (out), 2 invitee (in) */
  char *folder;
} Rule;

struct _SgRules {
  GPtrArray *rules; /* Rule */
  gboolean any_mail;
};

static void
rule_free (gpointer p)
{
  Rule *r = p;

  g_free (r->name);
  g_free (r->tag);
  g_free (r->kind);
  g_strfreev (r->words);
  g_strfreev (r->orgs);
  g_free (r->folder);
  g_free (r);
}

void
sg_rules_free (SgRules *rules)
{
  if (rules == NULL)
    return;
  g_ptr_array_unref (rules->rules);
  g_free (rules);
}

guint
sg_rules_get_n_rules (const SgRules *rules)
{
  return rules->rules->len;
}

static gboolean
bad (GError **error, const char *name, const char *group, const char *key, const char *why)
{
  g_set_error (error, SG_RULES_ERROR, SG_RULES_ERROR_INVALID, "%s: [%s] %s: %s", name, group, key, why);
  return FALSE;
}

static gboolean
get_tri (GKeyFile *kf, const char *group, const char *key, Tri *out, const char *name, GError **error)
{
  g_autoptr (GError) local = NULL;
  gboolean v;

  *out = TRI_ANY;
  if (!g_key_file_has_key (kf, group, key, NULL))
    return TRUE;
  v = g_key_file_get_boolean (kf, group, key, &local);
  if (local != NULL)
    return bad (error, name, group, key, "not true or false");
  *out = v ? TRI_YES : TRI_NO;
  return TRUE;
}

static char **
get_list (GKeyFile *kf, const char *group, const char *key, gboolean casefold)
{
  g_auto (GStrv) raw = g_key_file_get_string_list (kf, group, key, NULL, NULL);
  GPtrArray *out;

  if (raw == NULL)
    return NULL;
  out = g_ptr_array_new_null_terminated (4, g_free, TRUE);
  for (guint i = 0; raw[i] && out->len < MAX_WORDS; i++) {
    g_strstrip (raw[i]);
    if (*raw[i])
      g_ptr_array_add (out, casefold ? g_utf8_casefold (raw[i], -1) : g_ascii_strdown (raw[i], -1));
  }
  return (char **) g_ptr_array_free (out, FALSE);
}

static Rule *
parse_rule (GKeyFile *kf, const char *group, const char *name, GError **error)
{
  static const char *const known[] = { "tag", "kind", "applies-to", "words", "orgs", "internal-only",
                                       "first-with-org", "external-more-than", "role", "recurring",
                                       "folder", NULL };
  static const char *const kinds[] = { "topic", "interest", "industry", "product", "meeting-kind", "other", NULL };
  g_auto (GStrv) keys = g_key_file_get_keys (kf, group, NULL, NULL);
  Rule *r = g_new0 (Rule, 1);
  g_autofree char *applies = NULL, *role = NULL;

  r->name = g_strdup (group + strlen ("rule "));
  g_strstrip (r->name);
  r->external_more_than = -1;
  for (guint i = 0; keys && keys[i]; i++) {
    if (!g_strv_contains (known, keys[i])) {
      bad (error, name, group, keys[i], "unknown key (a typo?)");
      goto fail;
    }
  }
  r->tag = g_key_file_get_string (kf, group, "tag", NULL);
  if (r->tag == NULL || *g_strstrip (r->tag) == '\0') {
    bad (error, name, group, "tag", "missing: every rule names the tag it assigns");
    goto fail;
  }
  {
    char *down = g_utf8_strdown (r->tag, -1);

    g_free (r->tag);
    r->tag = down;
  }
  r->kind = g_key_file_get_string (kf, group, "kind", NULL);
  applies = g_key_file_get_string (kf, group, "applies-to", NULL);
  if (applies != NULL) {
    g_strstrip (applies);
    if (strcmp (applies, "mail") == 0)
      r->mail = TRUE;
    else if (strcmp (applies, "meeting") != 0) {
      bad (error, name, group, "applies-to", "not meeting or mail");
      goto fail;
    }
  }
  if (r->kind == NULL)
    r->kind = g_strdup (r->mail ? "topic" : "meeting-kind");
  g_strstrip (r->kind);
  if (!g_strv_contains (kinds, r->kind)) {
    bad (error, name, group, "kind", "not topic, interest, industry, product, meeting-kind or other");
    goto fail;
  }
  r->words = get_list (kf, group, "words", TRUE);
  r->orgs = get_list (kf, group, "orgs", FALSE);
  for (guint i = 0; r->orgs && r->orgs[i]; i++) {
    char *reg = sg_domain_get_registrable (r->orgs[i]);

    if (reg == NULL) {
      bad (error, name, group, "orgs", "not a domain");
      goto fail;
    }
    g_free (r->orgs[i]);
    r->orgs[i] = reg;
  }
  if (!get_tri (kf, group, "internal-only", &r->internal_only, name, error) ||
      !get_tri (kf, group, "first-with-org", &r->first_with_org, name, error) ||
      !get_tri (kf, group, "recurring", &r->recurring, name, error))
    goto fail;
  if (g_key_file_has_key (kf, group, "external-more-than", NULL)) {
    g_autoptr (GError) local = NULL;
    int n = g_key_file_get_integer (kf, group, "external-more-than", &local);

    if (local != NULL || n < 0) {
      bad (error, name, group, "external-more-than", "not a number of people (0 or more)");
      goto fail;
    }
    r->external_more_than = n;
  }
  role = g_key_file_get_string (kf, group, "role", NULL);
  if (role != NULL) {
    g_strstrip (role);
    if (strcmp (role, "organizer") == 0)
      r->role = 1;
    else if (strcmp (role, "invitee") == 0)
      r->role = 2;
    else {
      bad (error, name, group, "role", "not organizer or invitee");
      goto fail;
    }
  }
  r->folder = g_key_file_get_string (kf, group, "folder", NULL);
  if (r->folder != NULL)
    g_strstrip (r->folder);
  if (r->folder != NULL && !r->mail) {
    bad (error, name, group, "folder", "only mail has a folder (add applies-to = mail)");
    goto fail;
  }
  return r;

fail:
  rule_free (r);
  return NULL;
}

static gboolean
load_into (SgRules *rules, GKeyFile *kf, const char *name, GError **error)
{
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);

  for (guint g = 0; groups[g]; g++) {
    Rule *r;

    if (strcmp (groups[g], "rules") == 0)
      continue;
    if (!g_str_has_prefix (groups[g], "rule ")) {
      g_set_error (error, SG_RULES_ERROR, SG_RULES_ERROR_INVALID,
                   "%s: unknown group [%s] (rules are [rule NAME])", name, groups[g]);
      return FALSE;
    }
    if (rules->rules->len >= MAX_RULES) {
      g_set_error (error, SG_RULES_ERROR, SG_RULES_ERROR_INVALID, "%s: more than %d rules", name, MAX_RULES);
      return FALSE;
    }
    r = parse_rule (kf, groups[g], name, error);
    if (r == NULL)
      return FALSE;
    /* A rule named like an earlier one (a built-in) replaces it. */
    for (guint i = 0; i < rules->rules->len; i++) {
      if (strcmp (((Rule *) rules->rules->pdata[i])->name, r->name) == 0) {
        g_ptr_array_remove_index (rules->rules, i);
        break;
      }
    }
    g_ptr_array_add (rules->rules, r);
    rules->any_mail |= r->mail;
  }
  return TRUE;
}

static SgRules *
rules_new (void)
{
  SgRules *rules = g_new0 (SgRules, 1);

  rules->rules = g_ptr_array_new_with_free_func (rule_free);
  return rules;
}

SgRules *
sg_rules_new_default (void)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  SgRules *rules = rules_new ();
  gboolean ok;

  ok = g_key_file_load_from_data (kf, default_rules, -1, G_KEY_FILE_NONE, NULL) &&
       load_into (rules, kf, "built-in rules", NULL);
  g_assert (ok);
  return rules;
}

SgRules *
sg_rules_new_from_data (const char *data, gssize len, const char *name, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  SgRules *rules;
  gboolean defaults = TRUE;

  if (!g_key_file_load_from_data (kf, data, len < 0 ? strlen (data) : (gsize) len, G_KEY_FILE_NONE, &local)) {
    g_set_error (error, SG_RULES_ERROR, SG_RULES_ERROR_PARSE, "%s: %s", name, local->message);
    return NULL;
  }
  if (g_key_file_has_key (kf, "rules", "defaults", NULL)) {
    defaults = g_key_file_get_boolean (kf, "rules", "defaults", &local);
    if (local != NULL) {
      bad (error, name, "rules", "defaults", "not true or false");
      return NULL;
    }
  }
  {
    g_auto (GStrv) keys = g_key_file_get_keys (kf, "rules", NULL, NULL);

    for (guint i = 0; keys && keys[i]; i++)
      if (strcmp (keys[i], "defaults") != 0) {
        bad (error, name, "rules", keys[i], "unknown key (a typo?)");
        return NULL;
      }
  }
  rules = defaults ? sg_rules_new_default () : rules_new ();
  if (!load_into (rules, kf, name, error)) {
    sg_rules_free (rules);
    return NULL;
  }
  return rules;
}

SgRules *
sg_rules_new_from_file (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  return sg_rules_new_from_data (data, (gssize) len, path, error);
}

/* --- matching ------------------------------------------------------------------------- */

/* What a rule looks at in one interaction. */
typedef struct {
  gint64 id;
  gboolean meeting;
  char *key;            /* message_id, for the change log */
  char *text;           /* casefolded SUMMARY + DESCRIPTION, or subject */
  gboolean internal;
  gboolean out;
  gboolean recurring;
  char *location;       /* mail: where it lives (folder/...) */
  gint64 date;
  GPtrArray *orgs;      /* external registrable domains of the people in it */
  GPtrArray *domains;   /* the registrable domains of all its people, internal ones too */
  gboolean cancelled;   /* a cancelled meeting */
  guint external;       /* external people (addresses) */
} Facts;

static void
facts_clear (Facts *f)
{
  g_free (f->key);
  g_free (f->text);
  g_free (f->location);
  if (f->orgs)
    g_ptr_array_unref (f->orgs);
  if (f->domains)
    g_ptr_array_unref (f->domains);
  memset (f, 0, sizeof *f);
}

/* Whole-word (or whole-phrase) match of a casefolded @word in casefolded @text. */
static gboolean
has_word (const char *text, const char *word)
{
  gsize n = strlen (word);

  if (n == 0)
    return FALSE;
  for (const char *p = strstr (text, word); p != NULL; p = strstr (p + 1, word)) {
    gboolean start_ok = p == text, end_ok = p[n] == '\0';

    if (!start_ok) {
      const char *prev = g_utf8_find_prev_char (text, p);

      start_ok = prev == NULL || !g_unichar_isalnum (g_utf8_get_char (prev));
    }
    if (!end_ok)
      end_ok = !g_unichar_isalnum (g_utf8_get_char (p + n));
    if (start_ok && end_ok)
      return TRUE;
  }
  return FALSE;
}

/* The folder of a mail from its location in a Maildir ("Sent/cur/1.x:2,S", Maildir++
 * ".Projects.Acme/new/2.y" -> "Projects/Acme"); "" for the root; NULL for no Maildir. */
static char *
mail_folder (const char *location)
{
  g_autofree char *sub = NULL;
  char *folder;

  if (location == NULL || (strstr (location, "cur/") == NULL && strstr (location, "new/") == NULL))
    return NULL;
  sub = g_path_get_dirname (location);
  folder = g_path_get_dirname (sub);
  if (strcmp (folder, ".") == 0) {
    g_free (folder);
    return g_strdup ("");
  }
  if (folder[0] == '.') {
    memmove (folder, folder + 1, strlen (folder));
    g_strdelimit (folder, ".", '/');
  }
  return folder;
}

/* Does @r match @f? @earlier: the domains of the earlier interactions of @f's kind (not
 * cancelled), for first-with-org. Sets *@evidence (transfer full) to why. */
static void
rule_matches (const Rule *r, const Facts *f, GHashTable *earlier, gboolean *match, char **evidence)
{
  g_autoptr (GString) why = g_string_new (NULL);

  *match = FALSE;
  if (r->mail == f->meeting)
    return;
  if (r->words != NULL) {
    const char *hit = NULL;

    for (guint i = 0; r->words[i] && hit == NULL; i++)
      if (f->text && has_word (f->text, r->words[i]))
        hit = r->words[i];
    if (hit == NULL)
      return;
    g_string_append_printf (why, "%s contains “%s”; ", f->meeting ? "summary/description" : "subject", hit);
  }
  if (r->orgs != NULL) {
    const char *hit = NULL;

    for (guint i = 0; r->orgs[i] && hit == NULL; i++)
      for (guint j = 0; j < f->orgs->len && hit == NULL; j++)
        if (strcmp (r->orgs[i], f->orgs->pdata[j]) == 0)
          hit = r->orgs[i];
    if (hit == NULL)
      return;
    g_string_append_printf (why, "with %s; ", hit);
  }
  if (r->internal_only != TRI_ANY) {
    if ((r->internal_only == TRI_YES) != f->internal)
      return;
    g_string_append (why, f->internal ? "internal only; " : "not internal only; ");
  }
  if (r->external_more_than >= 0) {
    if (f->external <= (guint) r->external_more_than)
      return;
    g_string_append_printf (why, "%u external people (more than %d); ", f->external, r->external_more_than);
  }
  if (r->role != 0) {
    if ((r->role == 1) != f->out)
      return;
    g_string_append (why, r->role == 1 ? (f->meeting ? "you organise it; " : "you sent it; ")
                                       : (f->meeting ? "you are invited; " : "you received it; "));
  }
  if (r->recurring != TRI_ANY) {
    if ((r->recurring == TRI_YES) != f->recurring)
      return;
    g_string_append (why, f->recurring ? "recurring; " : "not recurring; ");
  }
  if (r->folder != NULL) {
    g_autofree char *folder = mail_folder (f->location);
    gsize n = strlen (r->folder);

    if (folder == NULL || g_ascii_strncasecmp (folder, r->folder, n) != 0 || (folder[n] != '/' && folder[n]))
      return;
    g_string_append_printf (why, "in folder %s; ", r->folder);
  }
  if (r->first_with_org != TRI_ANY) {
    const char *first = NULL;

    for (guint j = 0; j < f->orgs->len && first == NULL; j++)
      if (!g_hash_table_contains (earlier, f->orgs->pdata[j]))
        first = f->orgs->pdata[j];
    if ((r->first_with_org == TRI_YES) != (first != NULL))
      return;
    if (first != NULL)
      g_string_append_printf (why, "first %s with %s; ", f->meeting ? "meeting" : "mail", first);
    else
      g_string_append (why, "not a first contact; ");
  }
  if (why->len >= 2)
    g_string_truncate (why, why->len - 2);
  *match = TRUE;
  *evidence = g_string_free (g_steal_pointer (&why), FALSE);
}

/* --- assignments ------------------------------------------------------------------------ */

static gint64
ensure_tag (SgStore *store, const char *name, const char *kind, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "INSERT INTO tags (name, kind, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING", error);
  gint64 id = 0;

  if (stmt == NULL)
    return 0;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, kind, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, g_get_real_time () / G_USEC_PER_SEC);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return 0;
  stmt = _sg_store_prepare (store, "SELECT id FROM tags WHERE name = ?", error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (id == 0)
    _sg_store_set_error (store, error, "tag");
  return id;
}

/* Logs a tag assignment op: natural key "<entity type>:<entity key>/<tag>". */
static gboolean
log_tag (SgStore *store, const char *entity_type, const char *entity_key, const char *tag, const char *op,
         const char *origin, const char *rule, const char *evidence, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *fields = NULL;
  g_autofree char *key = g_strdup_printf ("%s:%s/%s", entity_type, entity_key, tag);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "origin");
  json_builder_add_string_value (b, origin);
  json_builder_set_member_name (b, "rule");
  json_builder_add_string_value (b, rule);
  json_builder_set_member_name (b, "evidence");
  json_builder_add_string_value (b, evidence);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  fields = json_to_string (root, FALSE);
  return _sg_store_log_change (store, "tag_assignment", key, op, fields, error);
}

typedef struct {
  char *rule;
  char *evidence;
  const char *kind;
} Match;

static void
match_free (gpointer p)
{
  Match *m = p;

  g_free (m->rule);
  g_free (m->evidence);
  g_free (m);
}

static gboolean
reconcile (SgStore *store, const Facts *f, GHashTable *matched, SgRulesStats *stats, GError **error)
{
  g_autoptr (GHashTable) existing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GPtrArray) drop = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;
  GHashTableIter iter;
  gpointer k, v;

  stmt = _sg_store_prepare (store,
      "SELECT t.name, ta.origin, ta.removed, coalesce(ta.rule, ''), coalesce(ta.evidence, '') "
      "FROM tag_assignments ta JOIN tags t ON t.id = ta.tag_id WHERE ta.entity_type = 'interaction' "
      "AND ta.entity_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, f->id);
  while (sqlite3_step (stmt) == SQLITE_ROW) {
    const char *name = (const char *) sqlite3_column_text (stmt, 0);
    const char *origin = (const char *) sqlite3_column_text (stmt, 1);
    gboolean removed = sqlite3_column_int (stmt, 2);
    /* state: 'p' a person's (kept, or removed: never put back), 'r' a rule's, with rule/evidence */
    g_hash_table_insert (existing, g_strdup (name),
                         g_strdup_printf ("%c%s\x1f%s", removed || strcmp (origin, "rule") != 0 ? 'p' : 'r',
                                          sqlite3_column_text (stmt, 3), sqlite3_column_text (stmt, 4)));
  }
  sqlite3_reset (stmt);

  g_hash_table_iter_init (&iter, matched);
  while (g_hash_table_iter_next (&iter, &k, &v)) {
    const char *tag = k;
    Match *m = v;
    const char *state = g_hash_table_lookup (existing, tag);
    g_autofree char *same = g_strdup_printf ("r%s\x1f%s", m->rule, m->evidence);
    gint64 tag_id;

    if (state != NULL && (state[0] == 'p' || strcmp (state, same) == 0))
      continue;
    tag_id = ensure_tag (store, tag, m->kind, error);
    if (tag_id == 0)
      return FALSE;
    stmt = _sg_store_prepare (store,
        "INSERT INTO tag_assignments (tag_id, entity_type, entity_id, origin, rule, evidence, created_at) "
        "VALUES (?1, 'interaction', ?2, 'rule', ?3, ?4, ?5) ON CONFLICT (tag_id, entity_type, entity_id) "
        "DO UPDATE SET rule = ?3, evidence = ?4 WHERE origin = 'rule' AND removed = 0", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, tag_id);
    sqlite3_bind_int64 (stmt, 2, f->id);
    sqlite3_bind_text (stmt, 3, m->rule, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, m->evidence, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 5, g_get_real_time () / G_USEC_PER_SEC);
    if (!_sg_store_exec_stmt (store, stmt, error) ||
        !log_tag (store, "interaction", f->key, tag, "add", "rule", m->rule, m->evidence, error))
      return FALSE;
    if (state == NULL && stats)
      stats->added++;
  }
  g_hash_table_iter_init (&iter, existing);
  while (g_hash_table_iter_next (&iter, &k, &v))
    if (((char *) v)[0] == 'r' && !g_hash_table_contains (matched, k))
      g_ptr_array_add (drop, g_strdup (k));
  for (guint i = 0; i < drop->len; i++) {
    stmt = _sg_store_prepare (store,
        "DELETE FROM tag_assignments WHERE entity_type = 'interaction' AND entity_id = ? AND origin = 'rule' "
        "AND removed = 0 AND tag_id = (SELECT id FROM tags WHERE name = ?)", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, f->id);
    sqlite3_bind_text (stmt, 2, drop->pdata[i], -1, SQLITE_STATIC);
    if (!_sg_store_exec_stmt (store, stmt, error) ||
        !log_tag (store, "interaction", f->key, drop->pdata[i], "remove", "rule", NULL, "no longer matched", error))
      return FALSE;
    if (stats)
      stats->removed++;
  }
  return TRUE;
}

static gboolean
load_orgs (SgStore *store, SgIdentity *identity, Facts *f, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "SELECT DISTINCT a.address, a.org_domain FROM participants p JOIN addresses a ON a.id = p.address_id "
      "WHERE p.interaction_id = ?", error);

  if (stmt == NULL)
    return FALSE;
  f->orgs = g_ptr_array_new_with_free_func (g_free);
  f->domains = g_ptr_array_new_with_free_func (g_free);
  sqlite3_bind_int64 (stmt, 1, f->id);
  while (sqlite3_step (stmt) == SQLITE_ROW) {
    const char *address = (const char *) sqlite3_column_text (stmt, 0);
    const char *org = (const char *) sqlite3_column_text (stmt, 1);

    if (org != NULL && !g_ptr_array_find_with_equal_func (f->domains, org, g_str_equal, NULL))
      g_ptr_array_add (f->domains, g_strdup (org));
    if (sg_identity_is_internal (identity, address))
      continue;
    f->external++;
    if (org != NULL && !g_ptr_array_find_with_equal_func (f->orgs, org, g_str_equal, NULL))
      g_ptr_array_add (f->orgs, g_strdup (org));
  }
  sqlite3_reset (stmt);
  return TRUE;
}

gboolean
sg_rules_apply (SgRules *rules, SgStore *store, SgIdentity *identity, SgRulesStats *stats, GError **error)
{
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  /* The domains of the meetings and of the mail gone through so far, cancelled meetings
   * left out: the interactions are gone through in (date, id) order, all meetings and,
   * when a rule looks at mail, all mail, so these are exactly the earlier ones that
   * first-with-org asks about (one query per interaction and domain before: 0.23 s of a
   * 100k import's 0.54 s of tagging; bench/README.md). */
  g_autoptr (GHashTable) earlier_mail = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) earlier_meetings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (rules != NULL && store != NULL && identity != NULL, FALSE);
  if (stats)
    memset (stats, 0, sizeof *stats);
  if (!sg_store_begin (store, error))
    return FALSE;
  stmt = _sg_store_prepare (store,
      "SELECT id FROM interactions WHERE kind = 'meeting' OR ?1 ORDER BY date_utc, id", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int (stmt, 1, rules->any_mail);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64 (stmt, 0);

    g_array_append_val (ids, id);
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "rules");
    goto fail;
  }
  for (guint i = 0; i < ids->len; i++) {
    g_autoptr (GHashTable) matched = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, match_free);
    Facts f = { 0 };
    GHashTable *earlier;

    f.id = g_array_index (ids, gint64, i);
    stmt = _sg_store_prepare (store,
        "SELECT i.kind = 'meeting', i.message_id, i.internal, i.direction = 'out', i.location, i.date_utc, "
        "  coalesce(m.summary, i.subject, '') || ' ' || coalesce(m.description, ''), "
        "  m.rrule IS NOT NULL OR m.rdates IS NOT NULL OR coalesce(m.recurrence_id, '') != '', "
        "  coalesce(m.status = 'cancelled', 0) "
        "FROM interactions i LEFT JOIN meetings m ON m.interaction_id = i.id WHERE i.id = ?", error);
    if (stmt == NULL)
      goto fail;
    sqlite3_bind_int64 (stmt, 1, f.id);
    if (sqlite3_step (stmt) != SQLITE_ROW) {
      sqlite3_reset (stmt);
      continue;
    }
    f.meeting = sqlite3_column_int (stmt, 0);
    f.key = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
    f.internal = sqlite3_column_int (stmt, 2);
    f.out = sqlite3_column_int (stmt, 3);
    f.location = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
    f.date = sqlite3_column_int64 (stmt, 5);
    f.text = g_utf8_casefold ((const char *) sqlite3_column_text (stmt, 6), -1);
    f.recurring = sqlite3_column_int (stmt, 7);
    f.cancelled = sqlite3_column_int (stmt, 8);
    sqlite3_reset (stmt);
    earlier = f.meeting ? earlier_meetings : earlier_mail;
    if (!load_orgs (store, identity, &f, error)) {
      facts_clear (&f);
      goto fail;
    }
    if (stats)
      stats->entities++;
    for (guint r = 0; r < rules->rules->len; r++) {
      const Rule *rule = rules->rules->pdata[r];
      g_autofree char *evidence = NULL;
      gboolean match = FALSE;

      if (g_hash_table_contains (matched, rule->tag))
        continue; /* the first rule for a tag explains it */
      rule_matches (rule, &f, earlier, &match, &evidence);
      if (match) {
        Match *m = g_new0 (Match, 1);

        m->rule = g_strdup (rule->name);
        m->evidence = g_steal_pointer (&evidence);
        m->kind = rule->kind;
        g_hash_table_insert (matched, g_strdup (rule->tag), m);
      }
    }
    if (!reconcile (store, &f, matched, stats, error)) {
      facts_clear (&f);
      goto fail;
    }
    for (guint d = 0; !f.cancelled && d < f.domains->len; d++)
      g_hash_table_add (earlier, g_strdup (f.domains->pdata[d]));
    facts_clear (&f);
  }
  return sg_store_commit (store, error);

fail:
  sg_store_rollback (store);
  return FALSE;
}

/* --- by hand -------------------------------------------------------------------------- */

typedef struct {
  const char *type; /* entity_type */
  gint64 id;
  char *key;        /* natural key */
} Entity;

static gboolean
resolve_entity (SgStore *store, const char *entity, Entity *out, GError **error)
{
  sqlite3_stmt *stmt;
  g_autofree char *stripped = g_strdup (entity);
  g_autofree char *norm = NULL;

  g_strstrip (stripped);
  if (stripped[0] == '<' && g_str_has_suffix (stripped, ">")) {
    stripped[strlen (stripped) - 1] = '\0';
    memmove (stripped, stripped + 1, strlen (stripped));
  }
  stmt = _sg_store_prepare (store,
      "SELECT id, message_id FROM interactions WHERE message_id = ?1 OR message_id = 'ical:' || ?1 "
      "ORDER BY message_id = ?1 DESC LIMIT 1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, stripped, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW) {
    out->type = "interaction";
    out->id = sqlite3_column_int64 (stmt, 0);
    out->key = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
    sqlite3_reset (stmt);
    return TRUE;
  }
  sqlite3_reset (stmt);
  if (strchr (stripped, '@') != NULL && (norm = sg_address_normalize (stripped, NULL)) != NULL) {
    stmt = _sg_store_prepare (store, "SELECT person_id FROM addresses WHERE address = ? AND person_id IS NOT NULL",
                              error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, norm, -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) == SQLITE_ROW) {
      out->type = "person";
      out->id = sqlite3_column_int64 (stmt, 0);
      out->key = g_strdup (norm);
      sqlite3_reset (stmt);
      return TRUE;
    }
    sqlite3_reset (stmt);
  } else if (strchr (stripped, '@') == NULL) {
    g_autofree char *down = g_utf8_strdown (stripped, -1);

    stmt = _sg_store_prepare (store,
        "SELECT o.id, o.domain FROM org_domains d JOIN organisations o ON o.id = d.org_id WHERE d.domain = ?", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, down, -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) == SQLITE_ROW) {
      out->type = "organisation";
      out->id = sqlite3_column_int64 (stmt, 0);
      out->key = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      sqlite3_reset (stmt);
      return TRUE;
    }
    sqlite3_reset (stmt);
  }
  g_set_error (error, SG_STORE_ERROR, SG_STORE_ERROR_NOT_FOUND,
               "“%s” is not in the store (give a Message-ID, a meeting UID, an address or a domain)", entity);
  return FALSE;
}

static gboolean
set_by_hand (SgStore *store, const char *entity, const char *tag, gboolean removed, GError **error)
{
  g_autofree char *name = NULL;
  Entity e = { 0 };
  sqlite3_stmt *stmt;
  gint64 tag_id;
  gboolean ok = FALSE;

  name = g_utf8_strdown (tag, -1);
  g_strstrip (name);
  if (*name == '\0') {
    g_set_error_literal (error, SG_STORE_ERROR, SG_STORE_ERROR_NOT_FOUND, "an empty tag");
    return FALSE;
  }
  if (!sg_store_begin (store, error))
    return FALSE;
  if (!resolve_entity (store, entity, &e, error))
    goto out;
  tag_id = ensure_tag (store, name, "other", error);
  if (tag_id == 0)
    goto out;
  /* A person's word is final: the row becomes theirs, and a removal stays as a row with
   * removed = 1 so that no rule puts the tag back. */
  stmt = _sg_store_prepare (store,
      "INSERT INTO tag_assignments (tag_id, entity_type, entity_id, origin, evidence, assigned_by, removed, "
      "created_at) VALUES (?1, ?2, ?3, 'person', ?4, ?5, ?6, ?7) ON CONFLICT (tag_id, entity_type, entity_id) "
      "DO UPDATE SET origin = 'person', removed = ?6, assigned_by = ?5, rule = CASE WHEN ?6 THEN rule END, "
      "evidence = CASE WHEN ?6 THEN coalesce(evidence || ' (removed by hand)', ?4) ELSE ?4 END", error);
  if (stmt == NULL)
    goto out;
  sqlite3_bind_int64 (stmt, 1, tag_id);
  sqlite3_bind_text (stmt, 2, e.type, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, e.id);
  sqlite3_bind_text (stmt, 4, removed ? "removed by hand" : "added by hand", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, g_get_user_name (), -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 6, removed);
  sqlite3_bind_int64 (stmt, 7, g_get_real_time () / G_USEC_PER_SEC);
  if (!_sg_store_exec_stmt (store, stmt, error) ||
      !log_tag (store, e.type, e.key, name, removed ? "remove" : "add", "person", NULL,
                removed ? "removed by hand" : "added by hand", error))
    goto out;
  ok = sg_store_commit (store, error);
out:
  if (!ok && sg_store_in_transaction (store))
    sg_store_rollback (store);
  g_free (e.key);
  return ok;
}

gboolean
sg_tags_add (SgStore *store, const char *entity, const char *tag, GError **error)
{
  return set_by_hand (store, entity, tag, FALSE, error);
}

gboolean
sg_tags_remove (SgStore *store, const char *entity, const char *tag, GError **error)
{
  return set_by_hand (store, entity, tag, TRUE, error);
}

static SgTable *
fill_table (SgStore *store, sqlite3_stmt *stmt, SgTable *t, GError **error)
{
  guint n = sg_table_get_n_columns (t);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    sg_table_append_row (t);
    for (guint c = 0; c < n; c++) {
      if (sqlite3_column_type (stmt, (int) c) == SQLITE_NULL)
        continue;
      if (sg_table_get_column_type (t, c) == SG_COLUMN_TEXT)
        sg_table_set_text (t, c, (const char *) sqlite3_column_text (stmt, (int) c));
      else
        sg_table_set_int (t, c, sqlite3_column_int64 (stmt, (int) c));
    }
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "tags");
    sg_table_free (t);
    return NULL;
  }
  return t;
}

SgTable *
sg_tags_list (SgStore *store, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "SELECT t.name, t.kind, (SELECT count(*) FROM tag_assignments WHERE tag_id = t.id AND removed = 0), "
      "(SELECT count(*) FROM tag_assignments WHERE tag_id = t.id AND removed = 1) FROM tags t ORDER BY t.name", error);
  SgTable *t;

  if (stmt == NULL)
    return NULL;
  t = sg_table_new ();
  sg_table_add_column (t, "tag", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "kind", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "count", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "removed", SG_COLUMN_INT, 0);
  return fill_table (store, stmt, t, error);
}

SgTable *
sg_tags_explain (SgStore *store, const char *entity, GError **error)
{
  Entity e = { 0 };
  sqlite3_stmt *stmt;
  SgTable *t;

  if (!resolve_entity (store, entity, &e, error))
    return NULL;
  g_free (e.key);
  stmt = _sg_store_prepare (store,
      "SELECT t.name, t.kind, ta.origin, ta.rule, ta.evidence, ta.removed, ta.created_at FROM tag_assignments ta "
      "JOIN tags t ON t.id = ta.tag_id WHERE ta.entity_type = ? AND ta.entity_id = ? ORDER BY ta.removed, t.name",
      error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, e.type, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, e.id);
  t = sg_table_new ();
  sg_table_add_column (t, "tag", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "kind", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "origin", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "rule", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "evidence", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "removed", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "assigned", SG_COLUMN_TIME, SG_COLUMN_FLAG_DETAIL);
  return fill_table (store, stmt, t, error);
}
