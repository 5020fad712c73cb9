/* sg-select.c: customer selections (see sg-select.h).
 *
 * The parser is hand-written recursive descent: the grammar is a dozen lines (criteria,
 * and/or/not, parentheses), errors must name a column, and no Debian library parses a
 * small boolean query language into our own tree (GLib's GScanner tokenises C-like
 * input but gives no grammar, and a parser generator would be a build dependency for
 * less code than this). The tree compiles to one SQL statement over people p (and their
 * organisation o): each criterion is an indexed EXISTS or comparison on p, every value a
 * numbered parameter (?NNN), so the same parameter serves the WHERE clause and the
 * relevance sum. */
#include "config.h"

#include "sg-select.h"

#include <string.h>

#include "sg-autocleanups.h"
#include "sg-insight.h"
#include "sg-process-private.h"
#include "sg-select-private.h"
#include "sg-summary-private.h"

G_DEFINE_QUARK (sg-select-error-quark, sg_select_error)

#define DAY ((gint64) 86400)

typedef enum { NODE_AND, NODE_OR, NODE_NOT, NODE_LEAF } NodeType;

typedef enum {
  CRIT_TAG, CRIT_ROLE, CRIT_ORG, CRIT_INDUSTRY, CRIT_SOURCE, CRIT_CONTACTED,
  CRIT_INTERACTIONS, CRIT_STAGE, CRIT_OWNER, CRIT_BOUGHT,
} Crit;

static const char *const crit_names[] = { "tag", "role", "org", "industry", "source", "contacted",
                                          "interactions", "stage", "owner", "bought" };

typedef struct _Node Node;
struct _Node {
  NodeType type;
  Node *left, *right; /* NOT: left only */
  Crit crit;
  char *op;           /* contacted, interactions: "<", "<=", ">", ">=", "=" */
  char *value;        /* text value (normalised) */
  gint64 number;      /* interactions: count; contacted: seconds */
};

struct _SgSelection {
  char *expression;
  Node *root;
  guint n_criteria;
};

static void
node_free (Node *n)
{
  if (n == NULL)
    return;
  node_free (n->left);
  node_free (n->right);
  g_free (n->op);
  g_free (n->value);
  g_free (n);
}

/* --- parsing ----------------------------------------------------------------------------- */

typedef struct {
  const char *text;
  const char *p;
  guint depth;
  guint n_criteria;
  GError **error;
  guint *column;
} Parser;

static guint
column_of (Parser *ps, const char *at)
{
  return (guint) g_utf8_pointer_to_offset (ps->text, at) + 1;
}

static void
fail (Parser *ps, const char *at, const char *format, ...) G_GNUC_PRINTF (3, 4);

static void
fail (Parser *ps, const char *at, const char *format, ...)
{
  g_autofree char *msg = NULL;
  va_list ap;
  guint col = column_of (ps, at);

  if (ps->error != NULL && *ps->error != NULL)
    return;
  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (ps->column != NULL)
    *ps->column = col;
  g_set_error (ps->error, SG_SELECT_ERROR, SG_SELECT_ERROR_PARSE, "column %u: %s", col, msg);
}

static void
skip_space (Parser *ps)
{
  while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
    ps->p++;
}

static gboolean
is_word_char (char c)
{
  return c != '\0' && c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '(' && c != ')';
}

/* The length of the bare word at @p. */
static gsize
word_len (const char *p)
{
  gsize n = 0;

  while (is_word_char (p[n]))
    n++;
  return n;
}

/* Whether the next word is the keyword @kw (case-insensitive); consumes it if so. */
static gboolean
accept_keyword (Parser *ps, const char *kw)
{
  gsize n = word_len (ps->p);

  skip_space (ps);
  n = word_len (ps->p);
  if (n == strlen (kw) && g_ascii_strncasecmp (ps->p, kw, n) == 0) {
    ps->p += n;
    return TRUE;
  }
  return FALSE;
}

static Node *parse_or (Parser *ps);

/* A display form of the word at @p, for messages. (transfer full) */
static char *
found (const char *p)
{
  gsize n = word_len (p);

  if (*p == '\0')
    return g_strdup ("the end");
  if (n == 0)
    n = 1;
  return g_strdup_printf ("“%.*s”", (int) MIN (n, 40), p);
}

/* A value: "quoted" (with \" and \\) or a bare word. Returns: (transfer full) or NULL. */
static char *
parse_value (Parser *ps, const char *field_start, const char *field)
{
  GString *v = g_string_new (NULL);

  if (*ps->p == '"') {
    const char *open = ps->p++;

    while (*ps->p != '"') {
      if (*ps->p == '\0') {
        fail (ps, open, "unterminated quoted value");
        g_string_free (v, TRUE);
        return NULL;
      }
      if (*ps->p == '\\' && (ps->p[1] == '"' || ps->p[1] == '\\'))
        ps->p++;
      g_string_append_c (v, *ps->p++);
    }
    ps->p++;
  } else {
    gsize n = word_len (ps->p);

    g_string_append_len (v, ps->p, (gssize) n);
    ps->p += n;
  }
  if (v->len == 0) {
    fail (ps, ps->p, "expected a value after “%s:”", field);
    g_string_free (v, TRUE);
    return NULL;
  }
  (void) field_start;
  return g_string_free (v, FALSE);
}

/* An operator prefix of a comparison value. */
static const char *
parse_op (const char **p)
{
  static const char *const ops[] = { "<=", ">=", "<", ">", "=" };

  for (guint i = 0; i < G_N_ELEMENTS (ops); i++) {
    if (g_str_has_prefix (*p, ops[i])) {
      *p += strlen (ops[i]);
      return ops[i];
    }
  }
  return NULL;
}

static gboolean
parse_leaf_value (Parser *ps, Node *n, const char *value_start, const char *value)
{
  static const char *const roles[] = { "suspect", "prospect", "lead", "customer", "consumer", "buyer", NULL };

  switch (n->crit) {
  case CRIT_ROLE: {
    g_autofree char *lower = g_ascii_strdown (value, -1);

    if (!g_strv_contains (roles, lower)) {
      fail (ps, value_start, "unknown role “%s” (expected suspect, prospect, lead, customer, consumer or buyer)",
            value);
      return FALSE;
    }
    n->value = g_steal_pointer (&lower);
    return TRUE;
  }
  case CRIT_CONTACTED:
  case CRIT_INTERACTIONS: {
    const char *p = value, *op = parse_op (&p);
    const char *digits = p;
    guint64 number = 0;
    char *end = NULL;

    if (op == NULL)
      op = n->crit == CRIT_CONTACTED ? NULL : "=";
    if (op == NULL || strcmp (op, "=") == 0) {
      if (n->crit == CRIT_CONTACTED) {
        fail (ps, value_start, "expected < or > before the duration (contacted:<90d, contacted:>30d)");
        return FALSE;
      }
    }
    if (!g_ascii_isdigit (*digits)) {
      fail (ps, value_start + (digits - value), "expected a number%s",
            n->crit == CRIT_CONTACTED ? " of days, weeks, months or years such as 90d" : "");
      return FALSE;
    }
    number = g_ascii_strtoull (digits, &end, 10);
    if (number > 100000000) {
      fail (ps, value_start + (digits - value), "number too large");
      return FALSE;
    }
    if (n->crit == CRIT_CONTACTED) {
      gint64 unit = *end == 'd' ? DAY : *end == 'w' ? 7 * DAY : *end == 'm' ? 30 * DAY : *end == 'y' ? 365 * DAY : 0;

      if (unit == 0 || end[1] != '\0') {
        fail (ps, value_start + (end - value), "expected a unit: d (days), w (weeks), m (months) or y (years)");
        return FALSE;
      }
      if (strcmp (op, "<=") == 0)
        op = "<";
      else if (strcmp (op, ">=") == 0)
        op = ">";
      n->number = (gint64) number * unit;
    } else {
      if (*end != '\0') {
        fail (ps, value_start + (end - value), "expected only a number after the operator");
        return FALSE;
      }
      n->number = (gint64) number;
    }
    n->op = g_strdup (op);
    return TRUE;
  }
  case CRIT_ORG:
  case CRIT_OWNER: {
    char *lower = g_utf8_strdown (value, -1);

    n->value = lower;
    return TRUE;
  }
  default:
    n->value = g_strdup (value);
    return TRUE;
  }
}

static Node *
parse_criterion (Parser *ps)
{
  const char *start;
  const char *colon;
  gsize n;
  g_autofree char *field = NULL;
  g_autofree char *value = NULL;
  const char *value_start;
  Node *node;
  int crit = -1;

  skip_space (ps);
  start = ps->p;
  n = word_len (start);
  if (n == 0) {
    fail (ps, start, *start == ')' ? "expected a criterion before “)”" : "expected a criterion");
    return NULL;
  }
  colon = memchr (start, ':', n);
  if (colon == NULL) {
    g_autofree char *what = found (start);

    fail (ps, start, "expected a criterion such as tag:NAME, found %s", what);
    return NULL;
  }
  field = g_ascii_strdown (start, colon - start);
  for (guint i = 0; i < G_N_ELEMENTS (crit_names); i++)
    if (strcmp (field, crit_names[i]) == 0)
      crit = (int) i;
  if (crit < 0) {
    fail (ps, start, "unknown criterion “%s” (expected tag, role, org, industry, source, contacted, "
          "interactions, stage, owner or bought)", field);
    return NULL;
  }
  ps->p = colon + 1;
  value_start = ps->p;
  if ((value = parse_value (ps, start, field)) == NULL)
    return NULL;
  node = g_new0 (Node, 1);
  node->type = NODE_LEAF;
  node->crit = (Crit) crit;
  if (!parse_leaf_value (ps, node, *value_start == '"' ? value_start + 1 : value_start, value)) {
    node_free (node);
    return NULL;
  }
  ps->n_criteria++;
  return node;
}

static Node *
parse_unary (Parser *ps)
{
  skip_space (ps);
  if (++ps->depth > SG_SELECT_MAX_DEPTH) {
    fail (ps, ps->p, "nested too deeply (at most %d levels)", SG_SELECT_MAX_DEPTH);
    return NULL;
  }
  if (accept_keyword (ps, "not")) {
    Node *inner = parse_unary (ps);
    Node *n;

    ps->depth--;
    if (inner == NULL)
      return NULL;
    n = g_new0 (Node, 1);
    n->type = NODE_NOT;
    n->left = inner;
    return n;
  }
  if (*ps->p == '(') {
    const char *open = ps->p++;
    Node *inner = parse_or (ps);

    if (inner == NULL)
      return NULL;
    skip_space (ps);
    if (*ps->p != ')') {
      g_autofree char *what = found (ps->p);

      fail (ps, ps->p, "expected “)” to close the “(” at column %u, found %s", column_of (ps, open), what);
      node_free (inner);
      return NULL;
    }
    ps->p++;
    ps->depth--;
    return inner;
  }
  ps->depth--;
  return parse_criterion (ps);
}

static Node *
parse_binary (Parser *ps, const char *keyword, NodeType type, Node *(*next) (Parser *))
{
  Node *left = next (ps);

  while (left != NULL && accept_keyword (ps, keyword)) {
    Node *right = next (ps);
    Node *n;

    if (right == NULL) {
      node_free (left);
      return NULL;
    }
    n = g_new0 (Node, 1);
    n->type = type;
    n->left = left;
    n->right = right;
    left = n;
  }
  return left;
}

static Node *
parse_and (Parser *ps)
{
  return parse_binary (ps, "and", NODE_AND, parse_unary);
}

static Node *
parse_or (Parser *ps)
{
  return parse_binary (ps, "or", NODE_OR, parse_and);
}

SgSelection *
sg_selection_parse (const char *expression, guint *column, GError **error)
{
  Parser ps = { .text = expression, .p = expression, .error = error, .column = column };
  SgSelection *sel;
  Node *root;

  g_return_val_if_fail (expression != NULL, NULL);
  if (column != NULL)
    *column = 0;
  if (strlen (expression) > SG_SELECT_MAX_LENGTH) {
    if (column != NULL)
      *column = 1;
    g_set_error (error, SG_SELECT_ERROR, SG_SELECT_ERROR_PARSE, "column 1: expression longer than %d bytes",
                 SG_SELECT_MAX_LENGTH);
    return NULL;
  }
  if (!g_utf8_validate (expression, -1, NULL)) {
    if (column != NULL)
      *column = 1;
    g_set_error (error, SG_SELECT_ERROR, SG_SELECT_ERROR_PARSE, "column 1: the expression is not UTF-8");
    return NULL;
  }
  root = parse_or (&ps);
  if (root == NULL)
    return NULL;
  skip_space (&ps);
  if (*ps.p != '\0') {
    g_autofree char *what = found (ps.p);

    fail (&ps, ps.p, *ps.p == ')' ? "“)” without a matching “(”" : "expected and, or or the end, found %s", what);
    node_free (root);
    return NULL;
  }
  sel = g_new0 (SgSelection, 1);
  sel->expression = g_strdup (expression);
  sel->root = root;
  sel->n_criteria = ps.n_criteria;
  return sel;
}

void
sg_selection_free (SgSelection *selection)
{
  if (selection == NULL)
    return;
  node_free (selection->root);
  g_free (selection->expression);
  g_free (selection);
}

const char *
sg_selection_get_expression (const SgSelection *selection)
{
  return selection->expression;
}

guint
sg_selection_get_n_criteria (const SgSelection *selection)
{
  return selection->n_criteria;
}

/* --- compiling ---------------------------------------------------------------------------- */

typedef struct {
  gboolean is_int;
  gint64 i;
  char *s;
} Param;

typedef struct {
  GArray *params;    /* Param; parameter k is ?(k + FIRST_PARAM) */
  GPtrArray *scored; /* char*: SQL of each criterion not under a "not", for the relevance */
  gint64 now;
} Compiler;

/* ?1 is reserved for a person id (the insight's "does this person match"). */
#define FIRST_PARAM 2

static int
add_text (Compiler *c, const char *s)
{
  Param p = { FALSE, 0, g_strdup (s) };

  g_array_append_val (c->params, p);
  return (int) c->params->len - 1 + FIRST_PARAM;
}

static int
add_number (Compiler *c, gint64 i)
{
  Param p = { TRUE, i, NULL };

  g_array_append_val (c->params, p);
  return (int) c->params->len - 1 + FIRST_PARAM;
}

/* "%" + @s with LIKE's wildcards escaped + "%". (transfer full) */
static char *
like_pattern (const char *s)
{
  GString *out = g_string_new ("%");

  for (; *s != '\0'; s++) {
    if (*s == '%' || *s == '_' || *s == '\\')
      g_string_append_c (out, '\\');
    g_string_append_c (out, *s);
  }
  g_string_append_c (out, '%');
  return g_string_free (out, FALSE);
}

/* Processes of the person: of their organisation, or with them as a contact. */
#define PERSON_PROCESS "(pr.org_id = p.org_id OR pr.id IN (SELECT process_id FROM process_contacts WHERE person_id = p.id))"

static char *
compile_leaf (Compiler *c, const Node *n)
{
  int k;

  switch (n->crit) {
  case CRIT_TAG:
    k = add_text (c, n->value);
    /* Two primary-key probes per person (tag, entity type, entity); one EXISTS with an OR of
     * the two entities walked every assignment of the tag for every person. */
    return g_strdup_printf (
      "(EXISTS (SELECT 1 FROM tag_assignments ta WHERE ta.tag_id IN (SELECT id FROM tags WHERE name = ?%d "
      "COLLATE NOCASE) AND ta.entity_type = 'person' AND ta.entity_id = p.id AND ta.removed = 0) OR "
      "EXISTS (SELECT 1 FROM tag_assignments ta WHERE ta.tag_id IN (SELECT id FROM tags WHERE name = ?%d "
      "COLLATE NOCASE) AND ta.entity_type = 'organisation' AND ta.entity_id = p.org_id AND ta.removed = 0))", k, k);
  case CRIT_ROLE:
    k = add_text (c, n->value);
    return g_strdup_printf (
      "EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = p.id AND r.role = ?%d AND r.removed = 0)", k);
  case CRIT_ORG:
    k = add_text (c, n->value);
    return g_strdup_printf ("p.org_id = (SELECT org_id FROM org_domains WHERE domain = ?%d)", k);
  case CRIT_INDUSTRY:
    k = add_text (c, n->value);
    return g_strdup_printf (
      "(o.industry = ?%d COLLATE NOCASE OR EXISTS (SELECT 1 FROM tags t JOIN tag_assignments ta ON ta.tag_id = t.id "
      "WHERE t.name = ?%d COLLATE NOCASE AND t.kind = 'industry' AND ta.removed = 0 "
      "AND ta.entity_type = 'organisation' AND ta.entity_id = p.org_id))", k, k);
  case CRIT_SOURCE:
    k = add_text (c, n->value);
    return g_strdup_printf (
      "EXISTS (SELECT 1 FROM person_lead_sources pls JOIN lead_sources ls ON ls.id = pls.lead_source_id "
      "WHERE pls.person_id = p.id AND (ls.name = ?%d COLLATE NOCASE OR ls.kind = ?%d COLLATE NOCASE))", k, k);
  case CRIT_CONTACTED:
    k = add_number (c, c->now - n->number);
    /* people.last_seen: the newest interaction the importer saw with the person. */
    return strcmp (n->op, "<") == 0 ? g_strdup_printf ("coalesce(p.last_seen, 0) > ?%d", k)
                                    : g_strdup_printf ("coalesce(p.last_seen, 0) <= ?%d", k);
  case CRIT_INTERACTIONS:
    k = add_number (c, n->number);
    return g_strdup_printf (
      "coalesce((SELECT n_total FROM person_summary WHERE person_id = p.id), 0) %s ?%d", n->op, k);
  case CRIT_STAGE:
    k = add_text (c, n->value);
    return g_strdup_printf (
      "EXISTS (SELECT 1 FROM processes pr JOIN stages s ON s.id = pr.stage_id WHERE pr.status = 'open' "
      "AND s.name = ?%d COLLATE NOCASE AND " PERSON_PROCESS ")", k);
  case CRIT_OWNER:
    k = add_text (c, n->value);
    return g_strdup_printf (
      "EXISTS (SELECT 1 FROM processes pr WHERE pr.account_manager = ?%d COLLATE NOCASE AND " PERSON_PROCESS ")", k);
  case CRIT_BOUGHT: {
    g_autofree char *pattern = like_pattern (n->value);

    k = add_text (c, pattern);
    return g_strdup_printf (
      "EXISTS (SELECT 1 FROM processes pr WHERE pr.status = 'won' AND (pr.deliverable LIKE ?%d ESCAPE '\\' "
      "OR pr.deliverable_type LIKE ?%d ESCAPE '\\') AND " PERSON_PROCESS ")", k, k);
  }
  }
  g_assert_not_reached ();
  return NULL;
}

static char *
compile (Compiler *c, const Node *n, gboolean negated)
{
  g_autofree char *l = NULL;
  g_autofree char *r = NULL;

  switch (n->type) {
  case NODE_LEAF: {
    char *sql = compile_leaf (c, n);

    if (!negated)
      g_ptr_array_add (c->scored, g_strdup (sql));
    return sql;
  }
  case NODE_NOT:
    l = compile (c, n->left, !negated);
    return g_strdup_printf ("NOT (%s)", l);
  case NODE_AND:
  case NODE_OR:
    l = compile (c, n->left, negated);
    r = compile (c, n->right, negated);
    return g_strdup_printf ("(%s %s %s)", l, n->type == NODE_AND ? "AND" : "OR", r);
  }
  g_assert_not_reached ();
  return NULL;
}

static void
param_clear (gpointer p)
{
  g_free (((Param *) p)->s);
}

static void
bind_params (sqlite3_stmt *stmt, GArray *params)
{
  for (guint i = 0; i < params->len; i++) {
    Param *p = &g_array_index (params, Param, i);

    if (p->is_int)
      sqlite3_bind_int64 (stmt, (int) i + FIRST_PARAM, p->i);
    else
      sqlite3_bind_text (stmt, (int) i + FIRST_PARAM, p->s, -1, SQLITE_TRANSIENT);
  }
}

/* The condition's SQL and its parameters. */
static char *
compile_where (const SgSelection *sel, gint64 now, Compiler *c)
{
  c->params = g_array_new (FALSE, FALSE, sizeof (Param));
  g_array_set_clear_func (c->params, param_clear);
  c->scored = g_ptr_array_new_with_free_func (g_free);
  c->now = now;
  return compile (c, sel->root, FALSE);
}

static void
compiler_clear (Compiler *c)
{
  g_clear_pointer (&c->params, g_array_unref);
  g_clear_pointer (&c->scored, g_ptr_array_unref);
}

/* --- running ------------------------------------------------------------------------------ */

typedef struct {
  gint64 person_id;
  gint64 relevance;
  gint64 last_seen;
  int strength;
  const char *label;
  char *reasons;
  gint64 interactions;
  char *name, *address, *org, *domain;
} Row;

static void
row_clear (gpointer data)
{
  Row *r = data;

  g_free (r->reasons);
  g_free (r->name);
  g_free (r->address);
  g_free (r->org);
  g_free (r->domain);
}

static int
cmp_rows (gconstpointer a, gconstpointer b)
{
  const Row *x = a, *y = b;

  if (x->relevance != y->relevance)
    return x->relevance < y->relevance ? 1 : -1;
  if (x->strength != y->strength)
    return x->strength < y->strength ? 1 : -1;
  if (x->last_seen != y->last_seen)
    return x->last_seen < y->last_seen ? 1 : -1;
  return x->person_id < y->person_id ? -1 : x->person_id > y->person_id;
}

SgTable *
sg_selection_run (SgStore *store, const SgSelection *selection, gint64 now, guint limit, GError **error)
{
  Compiler c = { 0 };
  g_autofree char *where = NULL;
  g_autofree char *sql = NULL;
  g_autoptr (GString) relevance = g_string_new (NULL);
  g_autoptr (GArray) rows = g_array_new (FALSE, FALSE, sizeof (Row));
  sqlite3_stmt *stmt = NULL;
  SgTable *t;
  int rc;

  g_return_val_if_fail (store != NULL && selection != NULL, NULL);
  g_array_set_clear_func (rows, row_clear);
  if (now == 0)
    now = _sg_now ();
  where = compile_where (selection, now, &c);
  for (guint i = 0; i < c.scored->len; i++)
    g_string_append_printf (relevance, "%s(%s)", i ? " + " : "", (const char *) c.scored->pdata[i]);
  if (relevance->len == 0)
    g_string_append (relevance, "0");
  sql = g_strdup_printf (
    "SELECT p.id, p.name, (SELECT address FROM addresses WHERE person_id = p.id ORDER BY id LIMIT 1), "
    "  coalesce(o.name, o.domain), o.domain, coalesce(p.last_seen, 0), %s, " SG_SUMMARY_COLUMNS ("s") " "
    "FROM people p LEFT JOIN organisations o ON o.id = p.org_id LEFT JOIN person_summary s ON s.person_id = p.id "
    "WHERE p.kind = 'contact' AND %s", relevance->str, where);
  /* Ad-hoc SQL: prepared here and finalised, not kept in the store's statement cache. */
  if (sqlite3_prepare_v2 (_sg_store_get_db (store), sql, -1, &stmt, NULL) != SQLITE_OK) {
    _sg_store_set_error (store, error, "selection");
    compiler_clear (&c);
    return NULL;
  }
  bind_params (stmt, c.params);
  compiler_clear (&c);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    Row r = { 0 };

    r.person_id = sqlite3_column_int64 (stmt, 0);
    r.name = g_strdup (_SG_COL_TEXT (stmt, 1));
    r.address = g_strdup (_SG_COL_TEXT (stmt, 2));
    r.org = g_strdup (_SG_COL_TEXT (stmt, 3));
    r.domain = g_strdup (_SG_COL_TEXT (stmt, 4));
    r.last_seen = sqlite3_column_int64 (stmt, 5);
    r.relevance = sqlite3_column_int64 (stmt, 6);
    {
      /* Strength from the person's activity summary, read in the same row. */
      SgActivity act;
      g_auto (GStrv) why = NULL;

      _sg_activity_from_row (stmt, 7, now, &act);
      r.strength = sg_strength_compute (act.n_year, act.n_in, act.n_out, act.n_meetings,
                                        act.n_total > 0 ? act.last : 0, now, &r.label, &why);
      r.reasons = g_strjoinv ("; ", why);
      r.interactions = act.n_total;
    }
    g_array_append_val (rows, r);
  }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "selection");
    return NULL;
  }
  g_array_sort (rows, cmp_rows);

  t = sg_table_new ();
  sg_table_add_column (t, "name", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "address", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "organisation", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "relevance", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "strength", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "last_contact", SG_COLUMN_TIME, 0);
  sg_table_add_column (t, "domain", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "strength_label", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "strength_reasons", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "interactions", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  for (guint i = 0; i < rows->len && (limit == 0 || i < limit); i++) {
    Row *r = &g_array_index (rows, Row, i);

    sg_table_append_row (t);
    sg_table_set_text (t, 0, r->name);
    sg_table_set_text (t, 1, r->address);
    sg_table_set_text (t, 2, r->org);
    sg_table_set_int (t, 3, r->relevance);
    sg_table_set_int (t, 4, r->strength);
    if (r->last_seen > 0)
      sg_table_set_int (t, 5, r->last_seen);
    sg_table_set_text (t, 6, r->domain);
    sg_table_set_text (t, 7, r->label);
    sg_table_set_text (t, 8, r->reasons);
    sg_table_set_int (t, 9, r->interactions);
  }
  return t;
}

/* --- saved selections --------------------------------------------------------------------- */

static gboolean
valid_name (const char *name, GError **error)
{
  gsize n = name ? strlen (name) : 0;

  for (gsize i = 0; i < n; i++) {
    if (!g_ascii_isalnum (name[i]) && name[i] != '-' && name[i] != '_' && name[i] != '.') {
      n = 0;
      break;
    }
  }
  if (n == 0 || n > 64) {
    g_set_error (error, SG_SELECT_ERROR, SG_SELECT_ERROR_INVALID,
                 "selection name “%s” is not 1 to 64 letters, digits, '-', '_' or '.'", name ? name : "");
    return FALSE;
  }
  return TRUE;
}

gboolean
sg_selection_save (SgStore *store, const char *name, const char *expression, const char *actor, GError **error)
{
  g_autoptr (GError) local = NULL;
  SgSelection *sel;
  sqlite3_stmt *stmt;
  JsonBuilder *b;
  gint64 now = _sg_now ();

  if (!valid_name (name, error))
    return FALSE;
  if ((sel = sg_selection_parse (expression, NULL, error)) == NULL)
    return FALSE;
  sg_selection_free (sel);
  if (!sg_store_begin (store, error))
    return FALSE;
  stmt = _sg_store_prepare (store,
    "INSERT INTO saved_selections (name, expression, created_by, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4) "
    "ON CONFLICT (name) DO UPDATE SET expression = excluded.expression, updated_at = excluded.updated_at", &local);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, expression, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, actor, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, now);
  if (!_sg_store_exec_stmt (store, stmt, &local))
    goto fail;
  b = _sg_json_begin ();
  _sg_json_str (b, "expression", expression);
  _sg_json_str (b, "by", actor);
  _sg_json_int (b, "updated_at", now);
  if (!_sg_log_json (store, "selection", name, "upsert", b, &local) || !sg_store_commit (store, &local))
    goto fail;
  return TRUE;
fail:
  sg_store_rollback (store);
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

gboolean
sg_selection_delete (SgStore *store, const char *name, GError **error)
{
  g_autoptr (GError) local = NULL;
  sqlite3_stmt *stmt;

  if (!sg_store_begin (store, error))
    return FALSE;
  stmt = _sg_store_prepare (store, "DELETE FROM saved_selections WHERE name = ?", &local);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  if (!_sg_store_exec_stmt (store, stmt, &local))
    goto fail;
  if (sqlite3_changes (_sg_store_get_db (store)) == 0) {
    g_set_error (&local, SG_SELECT_ERROR, SG_SELECT_ERROR_NOT_FOUND, "no saved selection “%s”", name);
    goto fail;
  }
  if (!_sg_log_json (store, "selection", name, "delete", _sg_json_begin (), &local) ||
      !sg_store_commit (store, &local))
    goto fail;
  return TRUE;
fail:
  sg_store_rollback (store);
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

char *
sg_selection_lookup (SgStore *store, const char *name, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store, "SELECT expression FROM saved_selections WHERE name = ?", error);
  char *out = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    out = g_strdup (_SG_COL_TEXT (stmt, 0));
  sqlite3_reset (stmt);
  if (rc == SQLITE_ROW)
    return out;
  if (rc == SQLITE_DONE)
    g_set_error (error, SG_SELECT_ERROR, SG_SELECT_ERROR_NOT_FOUND,
                 "no saved selection “%s” (see 'salesgetter select --list')", name);
  else
    _sg_store_set_error (store, error, "saved selections");
  return NULL;
}

SgTable *
sg_selection_list (SgStore *store, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
    "SELECT name, expression, updated_at, created_by, created_at FROM saved_selections ORDER BY name", error);
  SgTable *t;

  if (stmt == NULL)
    return NULL;
  t = sg_table_new ();
  sg_table_add_column (t, "name", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "expression", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "updated", SG_COLUMN_TIME, 0);
  sg_table_add_column (t, "created_by", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "created", SG_COLUMN_TIME, SG_COLUMN_FLAG_DETAIL);
  if (!_sg_table_fill (store, t, stmt, error)) {
    sg_table_free (t);
    return NULL;
  }
  return t;
}

char **
_sg_selection_matching (SgStore *store, gint64 person_id, gint64 now, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) saved = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt = _sg_store_prepare_static (store, "SELECT name, expression FROM saved_selections ORDER BY name", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    g_ptr_array_add (saved, g_strdup (_SG_COL_TEXT (stmt, 0)));
    g_ptr_array_add (saved, g_strdup (_SG_COL_TEXT (stmt, 1)));
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "saved selections");
    return NULL;
  }
  for (guint i = 0; i + 1 < saved->len; i += 2) {
    g_autoptr (SgSelection) sel = sg_selection_parse (saved->pdata[i + 1], NULL, NULL);
    Compiler c = { 0 };
    g_autofree char *where = NULL;
    g_autofree char *sql = NULL;

    if (sel == NULL) /* saved by a newer version with a grammar this one lacks */
      continue;
    where = compile_where (sel, now, &c);
    sql = g_strdup_printf ("SELECT 1 FROM people p LEFT JOIN organisations o ON o.id = p.org_id "
                           "WHERE p.id = ?1 AND %s", where);
    /* Cached: the saved selections are few and the insight runs them on every message (the
     * store's cache keeps its own copy of the SQL). */
    stmt = _sg_store_prepare (store, sql, error);
    if (stmt == NULL) {
      compiler_clear (&c);
      return NULL;
    }
    sqlite3_bind_int64 (stmt, 1, person_id);
    bind_params (stmt, c.params);
    compiler_clear (&c);
    rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    if (rc == SQLITE_ROW)
      g_ptr_array_add (names, g_strdup (saved->pdata[i]));
    else if (rc != SQLITE_DONE) {
      _sg_store_set_error (store, error, "saved selections");
      return NULL;
    }
  }
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}
