/* sg-insight.c: the insight beside a message (see sg-insight.h). Read-only; every
 * statement is an indexed look-up by a person, an organisation or a process. */
#include "config.h"

#include "sg-insight.h"

#include <math.h>
#include <string.h>

#include "sg-process.h"
#include "sg-autocleanups.h"
#include "sg-process-private.h"
#include "sg-select-private.h"
#include "sg-summary-private.h"

G_DEFINE_QUARK (sg-insight-error-quark, sg_insight_error)

struct _SgInsight {
  JsonNode *root;      /* { "generated_at", "message"?, "correspondents": [...] } */
  GPtrArray *addresses; /* char*, one per correspondent */
  GArray *known;        /* gboolean */
};

#define DAY ((gint64) 86400)

/* --- relationship strength ----------------------------------------------------------- */

int
sg_strength_compute (gint64 n_year, gint64 n_in, gint64 n_out, gint64 n_meetings, gint64 last, gint64 now,
                     const char **label, char ***reasons)
{
  g_autoptr (GPtrArray) why = g_ptr_array_new_with_free_func (g_free);
  double score = 0;
  int result;

  /* Frequency: up to 35 points, logarithmic (50 interactions a year is as close as it gets). */
  if (n_year > 0)
    score += 35.0 * MIN (1.0, log1p ((double) n_year) / log1p (50.0));
  g_ptr_array_add (why, g_strdup_printf ("%" G_GINT64_FORMAT " interaction%s in the last year", n_year,
                                         n_year == 1 ? "" : "s"));

  /* Recency: up to 25 points, halving every 45 days. */
  if (last > 0) {
    gint64 days = MAX (0, (now - last) / DAY);

    score += 25.0 * exp2 (-(double) days / 45.0);
    if (days == 0)
      g_ptr_array_add (why, g_strdup ("last contact today"));
    else
      g_ptr_array_add (why, g_strdup_printf ("last contact %" G_GINT64_FORMAT " day%s ago", days, days == 1 ? "" : "s"));
  } else {
    g_ptr_array_add (why, g_strdup ("no contact yet"));
  }

  /* Reciprocity: up to 25 points when mail goes both ways in equal measure. */
  if (n_in > 0 && n_out > 0) {
    score += 25.0 * (double) MIN (n_in, n_out) / (double) MAX (n_in, n_out);
    g_ptr_array_add (why, g_strdup_printf ("two-way: %" G_GINT64_FORMAT " received, %" G_GINT64_FORMAT " sent",
                                           n_in, n_out));
  } else if (n_in > 0 || n_out > 0) {
    g_ptr_array_add (why, g_strdup_printf ("one-way: %" G_GINT64_FORMAT " received, %" G_GINT64_FORMAT " sent",
                                           n_in, n_out));
  }

  /* Meetings: 5 points each, up to 15. */
  if (n_meetings > 0) {
    score += (double) MIN (15, 5 * n_meetings);
    g_ptr_array_add (why, g_strdup_printf ("%" G_GINT64_FORMAT " meeting%s", n_meetings, n_meetings == 1 ? "" : "s"));
  }

  result = (int) lround (MIN (100.0, score));
  if (label != NULL)
    *label = result >= 60 ? "strong" : result >= 30 ? "medium" : result > 0 ? "weak" : "none";
  if (reasons != NULL) {
    g_ptr_array_add (why, NULL);
    *reasons = (char **) g_ptr_array_steal (why, NULL);
  }
  return result;
}

/* --- building -------------------------------------------------------------------------- */

/* The tree is built directly with json-glib's objects and arrays rather than through a
 * JsonBuilder, which copied every member name once more and kept a state stack of its
 * own (about a third of json-glib's share of the insight). The same calls, the same
 * order of members, so the same JSON. Member names are string literals (not copied
 * here; json-glib keeps its own copy). */
#define JB_DEPTH 12

typedef struct {
  JsonNode *root;
  guint depth;
  const char *member;                      /* the next value's name, in an object */
  gboolean is_object[JB_DEPTH];
  gpointer container[JB_DEPTH];            /* JsonObject* or JsonArray*, owned by the tree */
} Jb;

static void
jb_clear (Jb *b)
{
  g_clear_pointer (&b->root, json_node_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Jb, jb_clear)

static void
jb_member (Jb *b, const char *name)
{
  b->member = name;
}

/* Adds @node (taken) to the open container. */
static void
jb_add_node (Jb *b, JsonNode *node)
{
  g_assert (b->depth > 0);
  if (b->is_object[b->depth - 1])
    json_object_set_member (b->container[b->depth - 1], b->member, node);
  else
    json_array_add_element (b->container[b->depth - 1], node);
}

static void
jb_string (Jb *b, const char *value)
{
  g_assert (b->depth > 0);
  if (b->is_object[b->depth - 1])
    json_object_set_string_member (b->container[b->depth - 1], b->member, value);
  else
    json_array_add_string_element (b->container[b->depth - 1], value);
}

static void
jb_null (Jb *b)
{
  g_assert (b->depth > 0);
  if (b->is_object[b->depth - 1])
    json_object_set_null_member (b->container[b->depth - 1], b->member);
  else
    json_array_add_null_element (b->container[b->depth - 1]);
}

static void
jb_int (Jb *b, gint64 value)
{
  g_assert (b->depth > 0);
  if (b->is_object[b->depth - 1])
    json_object_set_int_member (b->container[b->depth - 1], b->member, value);
  else
    json_array_add_int_element (b->container[b->depth - 1], value);
}

static void
jb_double (Jb *b, double value)
{
  g_assert (b->depth > 0);
  if (b->is_object[b->depth - 1])
    json_object_set_double_member (b->container[b->depth - 1], b->member, value);
  else
    json_array_add_double_element (b->container[b->depth - 1], value);
}

static void
jb_boolean (Jb *b, gboolean value)
{
  g_assert (b->depth > 0);
  if (b->is_object[b->depth - 1])
    json_object_set_boolean_member (b->container[b->depth - 1], b->member, value);
  else
    json_array_add_boolean_element (b->container[b->depth - 1], value);
}

static void
jb_begin (Jb *b, gboolean object)
{
  JsonNode *node = json_node_alloc ();

  g_assert (b->depth < JB_DEPTH);
  if (object) {
    JsonObject *o = json_object_new ();

    json_node_init_object (node, o);
    json_object_unref (o); /* the node holds it */
    b->container[b->depth] = o;
  } else {
    JsonArray *a = json_array_new ();

    json_node_init_array (node, a);
    json_array_unref (a);
    b->container[b->depth] = a;
  }
  if (b->depth == 0) {
    g_assert (b->root == NULL);
    b->root = node;
  } else {
    jb_add_node (b, node);
  }
  b->is_object[b->depth++] = object;
}

static void
jb_begin_object (Jb *b)
{
  jb_begin (b, TRUE);
}

static void
jb_begin_array (Jb *b)
{
  jb_begin (b, FALSE);
}

static void
jb_end (Jb *b)
{
  g_assert (b->depth > 0);
  b->depth--;
}

static void
add_str (Jb *b, const char *key, const char *value)
{
  jb_member (b, key);
  jb_string (b, value); /* null for NULL */
}

static void
add_int (Jb *b, const char *key, gint64 value)
{
  jb_member (b, key);
  jb_int (b, value);
}

/* ISO 8601 UTC by hand, the civil date from the day number (H. Hinnant's days-to-civil):
 * gmtime_r() and a printf were a tenth of the insight's instructions. */
static void
add_time (Jb *b, const char *key, gint64 t)
{
  char iso[21];
  gint64 days, secs, z, era, doe, yoe, doy, mp, y, m, d;

  if (t <= 0 || t > G_GINT64_CONSTANT (253402300799)) { /* after 9999-12-31T23:59:59Z */
    add_str (b, key, NULL);
    return;
  }
  days = t / 86400;
  secs = t % 86400;
  z = days + 719468;
  era = z / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = yoe + era * 400;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  iso[0] = (char) ('0' + y / 1000);
  iso[1] = (char) ('0' + y / 100 % 10);
  iso[2] = (char) ('0' + y / 10 % 10);
  iso[3] = (char) ('0' + y % 10);
  iso[4] = '-';
  iso[5] = (char) ('0' + m / 10);
  iso[6] = (char) ('0' + m % 10);
  iso[7] = '-';
  iso[8] = (char) ('0' + d / 10);
  iso[9] = (char) ('0' + d % 10);
  iso[10] = 'T';
  iso[11] = (char) ('0' + secs / 36000);
  iso[12] = (char) ('0' + secs / 3600 % 10);
  iso[13] = ':';
  iso[14] = (char) ('0' + secs % 3600 / 600);
  iso[15] = (char) ('0' + secs % 3600 / 60 % 10);
  iso[16] = ':';
  iso[17] = (char) ('0' + secs % 60 / 10);
  iso[18] = (char) ('0' + secs % 10);
  iso[19] = 'Z';
  iso[20] = '\0';
  add_str (b, key, iso);
}

static sqlite3_stmt *
prep (SgStore *store, const char *sql, GError **error)
{
  return _sg_store_prepare_static (store, sql, error);
}

static gboolean
step_done (SgStore *store, sqlite3_stmt *stmt, int rc, GError **error)
{
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "insight");
    return FALSE;
  }
  return TRUE;
}

/* The organisation object (or null) for @org_id. */
static gboolean
add_org (SgStore *store, Jb *b, gint64 org_id, GError **error)
{
  sqlite3_stmt *stmt;
  int rc;

  jb_member (b, "organisation");
  if (org_id <= 0) {
    jb_null (b);
    return TRUE;
  }
  stmt = prep (store, "SELECT o.domain, o.name, o.kind, o.industry, coalesce(s.n_total, 0), coalesce(s.n_in, 0), "
                     "coalesce(s.n_out, 0), coalesce(s.n_meetings, 0), s.first_at, s.last_at "
                     "FROM organisations o LEFT JOIN org_summary s ON s.org_id = o.id WHERE o.id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, org_id);
  if ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    jb_begin_object (b);
    add_str (b, "domain", _SG_COL_TEXT (stmt, 0));
    add_str (b, "name", _SG_COL_TEXT (stmt, 1));
    add_str (b, "kind", _SG_COL_TEXT (stmt, 2));
    add_str (b, "industry", _SG_COL_TEXT (stmt, 3));
    /* Its activity: org_summary, kept at every commit (sg-summary.c). */
    jb_member (b, "activity");
    jb_begin_object (b);
    add_int (b, "total", sqlite3_column_int64 (stmt, 4));
    add_int (b, "received", sqlite3_column_int64 (stmt, 5));
    add_int (b, "sent", sqlite3_column_int64 (stmt, 6));
    add_int (b, "meetings", sqlite3_column_int64 (stmt, 7));
    add_time (b, "first", sqlite3_column_int64 (stmt, 8));
    add_time (b, "last", sqlite3_column_int64 (stmt, 9));
    jb_end (b);
    jb_end (b);
    rc = SQLITE_DONE;
  } else {
    jb_null (b);
  }
  return step_done (store, stmt, rc, error);
}

/* The organisations most like @org_id, as sg_similar_refresh() last computed them
 * (org_similar): null when never computed or @org_id is 0, else {current, computed_at,
 * organisations: [{domain, name, similarity, shared_tags, bought}]}. "current" is false
 * when tags changed since: the list is still the best one known, and says so. Two
 * statements: the list, and what its organisations bought (won processes' deliverables,
 * each once, sorted; deduplicated here rather than by DISTINCT per organisation). */
static gboolean
add_similar (SgStore *store, Jb *b, gint64 org_id, gint64 computed_at, gboolean current, GError **error)
{
  sqlite3_stmt *stmt, *bought;
  g_autoptr (GPtrArray) what = g_ptr_array_new_with_free_func (g_free); /* char*, by rank */
  g_autofree char *last = NULL;
  guint last_rank = G_MAXUINT;
  int rc;

  jb_member (b, "similar_organisations");
  if (org_id <= 0 || computed_at == 0) {
    jb_null (b);
    return TRUE;
  }
  bought = prep (store,
    "SELECT s.rank, p.deliverable FROM org_similar s JOIN processes p ON p.org_id = s.similar_id "
    "WHERE s.org_id = ? AND p.status = 'won' AND p.deliverable IS NOT NULL ORDER BY s.rank, p.deliverable", error);
  stmt = prep (store,
    "SELECT o.domain, o.name, s.score, s.shared_tags, s.rank "
    "FROM org_similar s JOIN organisations o ON o.id = s.similar_id WHERE s.org_id = ? ORDER BY s.rank", error);
  if (stmt == NULL || bought == NULL)
    return FALSE;
  sqlite3_bind_int64 (bought, 1, org_id);
  while ((rc = sqlite3_step (bought)) == SQLITE_ROW) {
    guint rank = (guint) sqlite3_column_int (bought, 0);
    const char *d = _SG_COL_TEXT (bought, 1);
    char *prev;

    if (rank >= 64)
      continue;
    if (what->len <= rank)
      g_ptr_array_set_size (what, rank + 1);
    if (rank == last_rank && g_strcmp0 (d, last) == 0)
      continue; /* sorted: a repeat follows its first */
    prev = what->pdata[rank];
    what->pdata[rank] = prev ? g_strconcat (prev, ", ", d, NULL) : g_strdup (d);
    g_free (prev);
    g_free (last);
    last = g_strdup (d);
    last_rank = rank;
  }
  if (!step_done (store, bought, rc, error))
    return FALSE;
  jb_begin_object (b);
  jb_member (b, "current");
  jb_boolean (b, current);
  add_time (b, "computed_at", computed_at);
  jb_member (b, "organisations");
  jb_begin_array (b);
  sqlite3_bind_int64 (stmt, 1, org_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    guint rank = (guint) sqlite3_column_int (stmt, 4);

    jb_begin_object (b);
    add_str (b, "domain", _SG_COL_TEXT (stmt, 0));
    add_str (b, "name", _SG_COL_TEXT (stmt, 1));
    jb_member (b, "similarity");
    jb_double (b, sqlite3_column_double (stmt, 2));
    add_str (b, "shared_tags", _SG_COL_TEXT (stmt, 3));
    add_str (b, "bought", rank < what->len ? what->pdata[rank] : NULL);
    jb_end (b);
  }
  jb_end (b);
  jb_end (b);
  return step_done (store, stmt, rc, error);
}

/* When the similar organisations were computed (0: never) and whether from the tags as
 * they are: read once per insight. */
static gboolean
similar_state (SgStore *store, gint64 *computed_at, gboolean *current, GError **error)
{
  sqlite3_stmt *state = prep (store, "SELECT computed_at, computed_from = tags_version FROM similar_state "
                                     "WHERE id = 1 AND computed_from IS NOT NULL", error);
  int rc;

  *computed_at = 0;
  *current = FALSE;
  if (state == NULL)
    return FALSE;
  if ((rc = sqlite3_step (state)) == SQLITE_ROW) {
    *computed_at = sqlite3_column_int64 (state, 0);
    *current = sqlite3_column_int (state, 1) != 0;
    rc = SQLITE_DONE;
  }
  return step_done (store, state, rc, error);
}

/* The tags of one entity sorted by SQLite, for an entity with more than SMALL_ROWS. */
static gboolean
add_tags_sorted (SgStore *store, Jb *b, gint64 entity_id, const char *entity_type, GError **error)
{
  sqlite3_stmt *stmt = prep (store,
    "SELECT t.name, t.kind FROM tag_assignments ta JOIN tags t ON t.id = ta.tag_id "
    "WHERE ta.entity_type = ?1 AND ta.entity_id = ?2 AND ta.removed = 0 ORDER BY t.name", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity_type, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, entity_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    jb_begin_object (b);
    add_str (b, "name", _SG_COL_TEXT (stmt, 0));
    add_str (b, "kind", _SG_COL_TEXT (stmt, 1));
    add_str (b, "on", entity_type);
    jb_end (b);
  }
  return step_done (store, stmt, rc, error);
}

/* Up to this many rows of a small list (tags, roles) are sorted here; a longer one keeps
 * the rest in the order read. */
#define SMALL_ROWS 64

typedef struct {
  char *a, *b, *c;
  gint64 t;
  int rank;
} SmallRow;

static int
small_row_cmp (gconstpointer pa, gconstpointer pb)
{
  const SmallRow *x = pa, *y = pb;

  if (x->rank != y->rank)
    return x->rank < y->rank ? -1 : 1;
  return g_strcmp0 (x->a, y->a);
}

static void
small_rows_clear (SmallRow *rows, guint n)
{
  for (guint i = 0; i < n; i++) {
    g_free (rows[i].a);
    g_free (rows[i].b);
    g_free (rows[i].c);
  }
}

/* Tags of a person and of their organisation, not removed: [{name, kind, on}], the
 * person's first, each part by name. Two statements, not one compound with ORDER BY, and
 * sorted here, not by an ORDER BY: a sorter opened for one or two rows cost more than the
 * look-ups. */
static gboolean
add_tags (SgStore *store, Jb *b, gint64 person_id, gint64 org_id, GError **error)
{
  sqlite3_stmt *stmt = prep (store,
    "SELECT t.name, t.kind FROM tag_assignments ta JOIN tags t ON t.id = ta.tag_id "
    "WHERE ta.entity_type = ?1 AND ta.entity_id = ?2 AND ta.removed = 0", error);
  static const char *const on[] = { "person", "organisation" };
  int rc = SQLITE_DONE;

  if (stmt == NULL)
    return FALSE;
  jb_member (b, "tags");
  jb_begin_array (b);
  for (guint k = 0; k < 2; k++) {
    SmallRow rows[SMALL_ROWS];
    guint n = 0;
    gboolean more = FALSE;

    if ((k == 0 ? person_id : org_id) <= 0)
      continue; /* nothing has the id 0 */
    sqlite3_bind_text (stmt, 1, on[k], -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, k == 0 ? person_id : org_id);
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
      if (n == SMALL_ROWS) {
        more = TRUE;
        break;
      }
      rows[n].a = g_strdup (_SG_COL_TEXT (stmt, 0));
      rows[n].b = g_strdup (_SG_COL_TEXT (stmt, 1));
      rows[n].c = NULL;
      rows[n++].rank = 0;
    }
    if (more) {
      /* Hundreds of tags on one entity: SQLite sorts them all. */
      sqlite3_reset (stmt);
      small_rows_clear (rows, n);
      if (!add_tags_sorted (store, b, k == 0 ? person_id : org_id, on[k], error))
        return FALSE;
      continue;
    }
    if (!step_done (store, stmt, rc, error)) {
      small_rows_clear (rows, n);
      return FALSE;
    }
    qsort (rows, n, sizeof *rows, small_row_cmp);
    for (guint i = 0; i < n; i++) {
      jb_begin_object (b);
      add_str (b, "name", rows[i].a);
      add_str (b, "kind", rows[i].b);
      add_str (b, "on", on[k]);
      jb_end (b);
    }
    small_rows_clear (rows, n);
  }
  jb_end (b);
  return TRUE;
}

static int
role_rank (const char *role)
{
  static const char *const order[] = { "customer", "buyer", "consumer", "lead", "prospect" };

  for (int i = 0; i < (int) G_N_ELEMENTS (order); i++)
    if (g_strcmp0 (role, order[i]) == 0)
      return i;
  return (int) G_N_ELEMENTS (order);
}

/* A person's roles, customer first (role_rank()), then by name; sorted here (see
 * add_tags). A person has six at most (person_roles' CHECK), far below SMALL_ROWS. */
static gboolean
add_roles (SgStore *store, Jb *b, gint64 person_id, GError **error)
{
  sqlite3_stmt *stmt = prep (store,
    "SELECT role, origin, reason, since FROM person_roles WHERE person_id = ? AND removed = 0", error);
  SmallRow rows[SMALL_ROWS];
  guint n = 0;
  gboolean ok;
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, person_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW && n < SMALL_ROWS) {
    rows[n].a = g_strdup (_SG_COL_TEXT (stmt, 0));
    rows[n].b = g_strdup (_SG_COL_TEXT (stmt, 1));
    rows[n].c = g_strdup (_SG_COL_TEXT (stmt, 2));
    rows[n].t = sqlite3_column_int64 (stmt, 3);
    rows[n].rank = role_rank (rows[n].a);
    n++;
  }
  ok = step_done (store, stmt, rc == SQLITE_ROW ? SQLITE_DONE : rc, error);
  qsort (rows, n, sizeof *rows, small_row_cmp);
  jb_member (b, "roles");
  jb_begin_array (b);
  for (guint i = 0; i < n; i++) {
    jb_begin_object (b);
    add_str (b, "role", rows[i].a);
    add_str (b, "origin", rows[i].b);
    add_str (b, "reason", rows[i].c);
    add_time (b, "since", rows[i].t);
    jb_end (b);
  }
  jb_end (b);
  small_rows_clear (rows, n);
  return ok;
}

/* One open process row, kept until the rows are sorted. */
typedef struct {
  char *uuid, *title, *org, *deliverable, *stage, *currency, *owner;
  gint64 probability, value, last_activity, id, key;
  gboolean has_value;
} ProcRow;

static void
proc_row_clear (ProcRow *r)
{
  g_free (r->uuid);
  g_free (r->title);
  g_free (r->org);
  g_free (r->deliverable);
  g_free (r->stage);
  g_free (r->currency);
  g_free (r->owner);
}

/* Latest activity first (no activity at all last), then the oldest process first. */
static int
proc_row_cmp (gconstpointer pa, gconstpointer pb)
{
  const ProcRow *x = pa, *y = pb;

  if (x->key != y->key)
    return x->key > y->key ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

typedef struct {
  char *stage, *reason, *message_id;
  gint64 created_at, id;
} SuggRow;

static int
sugg_row_cmp (gconstpointer pa, gconstpointer pb)
{
  const SuggRow *x = pa, *y = pb;

  return x->id > y->id ? -1 : x->id < y->id; /* newest first */
}

#define MAX_PROCESSES 20
#define MAX_SUGGESTIONS 5

/* A process's open stage suggestions, newest MAX_SUGGESTIONS. Sorted here: an ORDER BY
 * with a LIMIT made SQLite open a temporary b-tree on every call (about 18,000
 * instructions), for a handful of rows. */
static gboolean
add_suggestions (SgStore *store, Jb *b, gint64 process_id, GError **error)
{
  sqlite3_stmt *sugg = prep (store,
    "SELECT ss.stage, ss.reason, ss.created_at, i.message_id, ss.id FROM stage_suggestions ss "
    "LEFT JOIN interactions i ON i.id = ss.interaction_id "
    "WHERE ss.process_id = ? AND ss.status = 'open'", error);
  SuggRow rows[64];
  guint n = 0;
  gboolean ok;
  int rc;

  if (sugg == NULL)
    return FALSE;
  sqlite3_bind_int64 (sugg, 1, process_id);
  while ((rc = sqlite3_step (sugg)) == SQLITE_ROW) {
    SuggRow r = { NULL };

    r.id = sqlite3_column_int64 (sugg, 4);
    if (n == G_N_ELEMENTS (rows)) {
      /* More than fit: keep the newest (rows is sorted from here on, oldest last). */
      if (r.id < rows[n - 1].id)
        continue;
      g_free (rows[n - 1].stage);
      g_free (rows[n - 1].reason);
      g_free (rows[n - 1].message_id);
      n--;
    }
    r.stage = g_strdup (_SG_COL_TEXT (sugg, 0));
    r.reason = g_strdup (_SG_COL_TEXT (sugg, 1));
    r.created_at = sqlite3_column_int64 (sugg, 2);
    r.message_id = g_strdup (_SG_COL_TEXT (sugg, 3));
    rows[n++] = r;
    if (n == G_N_ELEMENTS (rows))
      qsort (rows, n, sizeof *rows, sugg_row_cmp);
  }
  ok = step_done (store, sugg, rc, error);
  qsort (rows, n, sizeof *rows, sugg_row_cmp);
  jb_member (b, "suggestions");
  jb_begin_array (b);
  for (guint k = 0; k < n; k++) {
    if (k < MAX_SUGGESTIONS) {
      jb_begin_object (b);
      add_str (b, "stage", rows[k].stage);
      add_str (b, "reason", rows[k].reason);
      add_time (b, "date", rows[k].created_at);
      add_str (b, "message_id", rows[k].message_id);
      jb_end (b);
    }
    g_free (rows[k].stage);
    g_free (rows[k].reason);
    g_free (rows[k].message_id);
  }
  jb_end (b);
  return ok;
}

/* Open processes of the person (as a contact, or of their organisation @org_id) or, for an
 * unknown person, of the organisation; each with the person's parts and its open stage
 * suggestions. One lean statement of its own (not sg_process_query(), whose listing
 * columns count every link of a process): the organisation's open processes by the
 * processes_org_status index, the person's by process_contacts_person. The rows are
 * sorted here (latest activity first, then the oldest process; the first MAX_PROCESSES):
 * ORDER BY over the UNION ALL opened two temporary b-trees on every call. */
static gboolean
add_processes (SgStore *store, Jb *b, gint64 person_id, gint64 org_id, GError **error)
{
  sqlite3_stmt *stmt, *parts;
  g_autoptr (GArray) rows = NULL;
  gboolean ok = TRUE;
  int rc;

  jb_member (b, "processes");
  jb_begin_array (b);
  if (person_id <= 0 && org_id <= 0) {
    jb_end (b);
    return TRUE;
  }
  stmt = prep (store,
    "SELECT p.uuid, p.title, coalesce(o.name, o.domain), p.deliverable, s.name, s.probability, p.value_minor, "
    "  p.currency, p.account_manager, p.last_activity, p.id, coalesce(p.last_activity, p.opened_at) FROM processes p "
    "JOIN organisations o ON o.id = p.org_id JOIN stages s ON s.id = p.stage_id "
    "WHERE p.org_id = ?1 AND p.status = 'open' "
    "UNION ALL "
    "SELECT p.uuid, p.title, coalesce(o.name, o.domain), p.deliverable, s.name, s.probability, p.value_minor, "
    "  p.currency, p.account_manager, p.last_activity, p.id, coalesce(p.last_activity, p.opened_at) "
    "FROM process_contacts pc "
    "JOIN processes p ON p.id = pc.process_id JOIN organisations o ON o.id = p.org_id JOIN stages s ON s.id = p.stage_id "
    "WHERE pc.person_id = ?2 AND p.status = 'open' AND p.org_id IS NOT ?1 "
    "  AND pc.part = (SELECT min(part) FROM process_contacts WHERE process_id = pc.process_id AND person_id = ?2)",
    error);
  parts = prep (store, "SELECT part FROM process_contacts WHERE process_id = ? AND person_id = ? ORDER BY part", error);
  if (stmt == NULL || parts == NULL)
    return FALSE;
  rows = g_array_new (FALSE, TRUE, sizeof (ProcRow));
  g_array_set_clear_func (rows, (GDestroyNotify) proc_row_clear);
  sqlite3_bind_int64 (stmt, 1, org_id);
  sqlite3_bind_int64 (stmt, 2, person_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    ProcRow r = { NULL };

    r.uuid = g_strdup (_SG_COL_TEXT (stmt, 0));
    r.title = g_strdup (_SG_COL_TEXT (stmt, 1));
    r.org = g_strdup (_SG_COL_TEXT (stmt, 2));
    r.deliverable = g_strdup (_SG_COL_TEXT (stmt, 3));
    r.stage = g_strdup (_SG_COL_TEXT (stmt, 4));
    r.probability = sqlite3_column_int64 (stmt, 5);
    r.has_value = sqlite3_column_type (stmt, 6) != SQLITE_NULL;
    r.value = sqlite3_column_int64 (stmt, 6);
    r.currency = g_strdup (_SG_COL_TEXT (stmt, 7));
    r.owner = g_strdup (_SG_COL_TEXT (stmt, 8));
    r.last_activity = sqlite3_column_int64 (stmt, 9);
    r.id = sqlite3_column_int64 (stmt, 10);
    /* NULL sorts after every time, as SQLite's DESC put it. */
    r.key = sqlite3_column_type (stmt, 11) == SQLITE_NULL ? G_MININT64 : sqlite3_column_int64 (stmt, 11);
    g_array_append_val (rows, r);
  }
  if (!step_done (store, stmt, rc, error))
    return FALSE;
  g_array_sort (rows, proc_row_cmp);
  for (guint k = 0; ok && k < rows->len && k < MAX_PROCESSES; k++) {
    const ProcRow *r = &g_array_index (rows, ProcRow, k);
    int prc;

    jb_begin_object (b);
    add_str (b, "id", r->uuid);
    add_str (b, "title", r->title);
    add_str (b, "organisation", r->org);
    add_str (b, "deliverable", r->deliverable);
    add_str (b, "stage", r->stage);
    add_int (b, "probability", r->probability);
    jb_member (b, "value");
    if (r->has_value) {
      g_autofree char *value = sg_money_format (r->value, r->currency);

      jb_string (b, value);
    } else {
      jb_null (b);
    }
    add_str (b, "currency", r->currency);
    add_str (b, "owner", r->owner);
    add_time (b, "last_activity", r->last_activity);
    jb_member (b, "parts");
    jb_begin_array (b);
    sqlite3_bind_int64 (parts, 1, r->id);
    sqlite3_bind_int64 (parts, 2, person_id);
    while ((prc = sqlite3_step (parts)) == SQLITE_ROW)
      jb_string (b, _SG_COL_TEXT (parts, 0));
    jb_end (b);
    ok = step_done (store, parts, prc, error) && add_suggestions (store, b, r->id, error);
    jb_end (b);
  }
  jb_end (b);
  return ok;
}

/* The person's interactions: counts for the strength, and the last @limit. Everything
 * comes from the person's activity summary (person_summary, kept at every commit by
 * sg-summary.c): one primary-key look-up whatever the person's history, exact counts.
 * Only a caller asking for more than the SG_SUMMARY_RECENT newest interactions makes the
 * history be read. */
gboolean
_sg_person_strength (SgStore *store, gint64 person_id, gint64 now, int *score, const char **label, char ***reasons,
                     gint64 *n_interactions, GError **error)
{
  SgActivity act;

  if (!_sg_summary_person (store, person_id, now, &act, error))
    return FALSE;
  *score = sg_strength_compute (act.n_year, act.n_in, act.n_out, act.n_meetings, act.last, now, label, reasons);
  if (n_interactions != NULL)
    *n_interactions = act.n_total;
  return TRUE;
}

static gboolean
add_interaction_row (SgStore *store, Jb *b, gint64 id, GError **error)
{
  sqlite3_stmt *stmt = prep (store, "SELECT date_utc, kind, direction, subject, message_id FROM interactions WHERE id = ?",
                             error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  if ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    jb_begin_object (b);
    add_time (b, "date", sqlite3_column_int64 (stmt, 0));
    add_str (b, "kind", _SG_COL_TEXT (stmt, 1));
    add_str (b, "direction", _SG_COL_TEXT (stmt, 2));
    add_str (b, "subject", _SG_COL_TEXT (stmt, 3));
    add_str (b, "message_id", _SG_COL_TEXT (stmt, 4));
    jb_end (b);
    rc = SQLITE_DONE;
  }
  return step_done (store, stmt, rc, error);
}

/* "SELECT ... WHERE id = ?1 UNION ALL ... WHERE id = ?N" for N = 1 .. SG_SUMMARY_RECENT,
 * built once and kept for the process's life (so the store may cache them by address):
 * the newest interactions kept in a summary in one statement run instead of N, in the
 * order of the parameters. Not "id IN (...)": SQLite builds a temporary index for it. */
static const char *
recent_rows_sql (guint n)
{
  static char *sql[SG_SUMMARY_RECENT + 1];
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    for (guint k = 1; k <= SG_SUMMARY_RECENT; k++) {
      GString *s = g_string_new (NULL);

      for (guint i = 1; i <= k; i++)
        g_string_append_printf (s, "%sSELECT date_utc, kind, direction, subject, message_id FROM interactions "
                                "WHERE id = ?%u", i > 1 ? " UNION ALL " : "", i);
      sql[k] = g_string_free (s, FALSE);
    }
    g_once_init_leave (&done, 1);
  }
  return sql[n];
}

/* The rows of @ids (newest first, as the summary keeps them), each once; an id no longer
 * in the store (deleted since the summary was written) is left out, as before. */
static gboolean
add_recent_rows (SgStore *store, Jb *b, const gint64 *ids, guint n, GError **error)
{
  sqlite3_stmt *stmt;
  int rc;

  if (n == 0)
    return TRUE;
  g_assert (n <= SG_SUMMARY_RECENT);
  if ((stmt = prep (store, recent_rows_sql (n), error)) == NULL)
    return FALSE;
  for (guint i = 0; i < n; i++)
    sqlite3_bind_int64 (stmt, (int) i + 1, ids[i]);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    jb_begin_object (b);
    add_time (b, "date", sqlite3_column_int64 (stmt, 0));
    add_str (b, "kind", _SG_COL_TEXT (stmt, 1));
    add_str (b, "direction", _SG_COL_TEXT (stmt, 2));
    add_str (b, "subject", _SG_COL_TEXT (stmt, 3));
    add_str (b, "message_id", _SG_COL_TEXT (stmt, 4));
    jb_end (b);
  }
  return step_done (store, stmt, rc, error);
}

static gboolean
add_interactions (SgStore *store, Jb *b, gint64 person_id, gint64 now, guint limit, GError **error)
{
  g_auto (GStrv) reasons = NULL;
  const char *label = NULL;
  SgActivity act;
  int score;

  if (!_sg_summary_person (store, person_id, now, &act, error))
    return FALSE;
  jb_member (b, "interactions");
  jb_begin_object (b);
  add_int (b, "total", act.n_total);
  add_int (b, "last_year", act.n_year);
  add_int (b, "received", act.n_in);
  add_int (b, "sent", act.n_out);
  add_int (b, "meetings", act.n_meetings);
  add_time (b, "first", act.n_total > 0 ? act.first : 0);
  add_time (b, "last", act.n_total > 0 ? act.last : 0);
  jb_end (b);

  score = sg_strength_compute (act.n_year, act.n_in, act.n_out, act.n_meetings, act.n_total > 0 ? act.last : 0, now,
                               &label, &reasons);
  jb_member (b, "strength");
  jb_begin_object (b);
  add_int (b, "score", score);
  add_str (b, "label", label);
  jb_member (b, "reasons");
  jb_begin_array (b);
  for (guint i = 0; reasons[i] != NULL; i++)
    jb_string (b, reasons[i]);
  jb_end (b);
  jb_end (b);

  jb_member (b, "last_interactions");
  jb_begin_array (b);
  if (limit <= act.n_recent || act.n_recent == act.n_total) {
    if (!add_recent_rows (store, b, act.recent_id, MIN (act.n_recent, limit), error))
      return FALSE;
  } else {
    /* More than the summary keeps: the person's history, newest first. */
    sqlite3_stmt *stmt = prep (store,
      "SELECT i.id FROM interactions i WHERE i.bulk = 0 AND i.id IN ("
      "  SELECT p.interaction_id FROM addresses a JOIN participants p ON p.address_id = a.id WHERE a.person_id = ?1) "
      "ORDER BY i.date_utc DESC, i.id DESC LIMIT ?2", error);
    g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
    int rc;

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, person_id);
    sqlite3_bind_int64 (stmt, 2, limit);
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (ids, id);
    }
    if (!step_done (store, stmt, rc, error))
      return FALSE;
    for (guint k = 0; k < ids->len; k++)
      if (!add_interaction_row (store, b, g_array_index (ids, gint64, k), error))
        return FALSE;
  }
  jb_end (b);
  return TRUE;
}

static gboolean
add_selections (SgStore *store, Jb *b, gint64 person_id, gint64 now, GError **error)
{
  g_auto (GStrv) names = _sg_selection_matching (store, person_id, now, error);

  if (names == NULL)
    return FALSE;
  jb_member (b, "selections");
  jb_begin_array (b);
  for (guint i = 0; names[i] != NULL; i++)
    jb_string (b, names[i]);
  jb_end (b);
  return TRUE;
}

/* One correspondent. Returns: FALSE on a store error; *@skip when it is the user or a
 * colleague; *@known whether the person is in the store. */
static gboolean
add_correspondent (SgStore *store, Jb *b, const char *address, const char *display_name,
                   const SgInsightOptions *o, gint64 now, gint64 similar_at, gboolean similar_current,
                   gboolean *skip, gboolean *known, GError **error)
{
  g_autofree char *name = NULL;
  g_autofree char *kind = NULL;
  g_autofree char *address_kind = NULL;
  gint64 person_id = 0, org_id = 0, person_org;
  sqlite3_stmt *stmt;
  int rc;

  *skip = *known = FALSE;
  if (o->identity != NULL &&
      (sg_identity_is_self (o->identity, address) || sg_identity_is_internal (o->identity, address))) {
    *skip = TRUE;
    return TRUE;
  }
  stmt = prep (store,
    "SELECT a.kind, p.id, p.name, p.kind, p.org_id FROM addresses a "
    "LEFT JOIN people p ON p.id = a.person_id WHERE a.address = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, address, -1, SQLITE_STATIC);
  if ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    address_kind = g_strdup (_SG_COL_TEXT (stmt, 0));
    person_id = sqlite3_column_int64 (stmt, 1);
    name = g_strdup (_SG_COL_TEXT (stmt, 2));
    kind = g_strdup (_SG_COL_TEXT (stmt, 3));
    org_id = sqlite3_column_int64 (stmt, 4);
    rc = SQLITE_DONE;
  }
  if (!step_done (store, stmt, rc, error))
    return FALSE;
  if (g_strcmp0 (kind, "self") == 0 || g_strcmp0 (kind, "colleague") == 0) {
    *skip = TRUE;
    return TRUE;
  }
  person_org = org_id;
  if (org_id == 0) {
    /* An unknown person (or one without an organisation): the organisation of the domain. */
    org_id = _sg_org_lookup (store, address, error);
    if (org_id < 0)
      return FALSE;
  }
  *known = person_id > 0;

  jb_begin_object (b);
  add_str (b, "address", address);
  jb_member (b, "known");
  jb_boolean (b, *known);
  if (!*known)
    add_str (b, "note", "not in the CRM");
  add_str (b, "name", name ? name : display_name);
  add_str (b, "kind", kind);
  add_str (b, "address_kind", address_kind ? address_kind : sg_address_kind_to_string (sg_address_classify (address)));
  if (!add_org (store, b, org_id, error))
    return FALSE;
  if (*known) {
    if (!add_roles (store, b, person_id, error) || !add_tags (store, b, person_id, org_id, error))
      return FALSE;
  } else if (!add_tags (store, b, 0, org_id, error)) {
    return FALSE;
  }
  if (!add_processes (store, b, person_id, *known ? person_org : org_id, error))
    return FALSE;
  if (!add_similar (store, b, org_id, similar_at, similar_current, error))
    return FALSE;
  if (*known) {
    if (!add_interactions (store, b, person_id, now, o->n_interactions ? o->n_interactions : 5, error) ||
        !add_selections (store, b, person_id, now, error))
      return FALSE;
  }
  jb_end (b);
  return TRUE;
}

typedef struct {
  const char *address;
  const char *name;
} Who;

static SgInsight *build_in_snapshot (SgStore *store, const Who *who, guint n, const SgMessage *message,
                                     const SgInsightOptions *options, GError **error);

/* One read transaction around the whole insight: a consistent snapshot (a sync committing
 * meanwhile does not show half), and one lock instead of one per statement. */
static SgInsight *
build (SgStore *store, const Who *who, guint n, const SgMessage *message, const SgInsightOptions *options,
       GError **error)
{
  sqlite3 *db = _sg_store_get_db (store);
  gboolean own = sqlite3_get_autocommit (db) != 0;
  SgInsight *insight;

  sqlite3_stmt *begin = NULL, *commit = NULL;

  /* Cached statements: sqlite3_exec() parsed BEGIN and COMMIT on every call. */
  if (own) {
    if ((begin = prep (store, "BEGIN DEFERRED", error)) == NULL || (commit = prep (store, "COMMIT", error)) == NULL)
      return NULL;
    if (sqlite3_step (begin) != SQLITE_DONE) {
      _sg_store_set_error (store, error, "insight");
      sqlite3_reset (begin);
      return NULL;
    }
    sqlite3_reset (begin);
  }
  insight = build_in_snapshot (store, who, n, message, options, error);
  if (own) {
    sqlite3_step (commit);
    sqlite3_reset (commit);
  }
  return insight;
}

static SgInsight *
build_in_snapshot (SgStore *store, const Who *who, guint n, const SgMessage *message, const SgInsightOptions *options,
       GError **error)
{
  SgInsightOptions defaults = { 0 };
  g_auto (Jb) tree = { 0 };
  Jb *b = &tree;
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) addresses = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) known = g_array_new (FALSE, FALSE, sizeof (gboolean));
  const SgInsightOptions *o = options ? options : &defaults;
  gint64 now = o->now ? o->now : _sg_now ();
  SgInsight *insight;
  guint n_done = 0;
  gint64 similar_at = 0;
  gboolean similar_current = FALSE;

  jb_begin_object (b);
  add_time (b, "generated_at", now);
  if (message != NULL) {
    jb_member (b, "message");
    jb_begin_object (b);
    add_str (b, "id", sg_message_get_id (message));
    add_str (b, "subject", sg_message_get_subject (message));
    add_time (b, "date", sg_message_get_date (message));
    jb_end (b);
  }
  if (!similar_state (store, &similar_at, &similar_current, error))
    return NULL;
  jb_member (b, "correspondents");
  jb_begin_array (b);
  for (guint i = 0; i < n && n_done < SG_INSIGHT_MAX_CORRESPONDENTS; i++) {
    g_autofree char *norm = NULL;
    g_autoptr (GError) bad = NULL;
    gboolean skip, is_known;

    norm = sg_address_normalize (who[i].address, &bad);
    if (norm == NULL) {
      jb_begin_object (b);
      add_str (b, "address", who[i].address);
      jb_member (b, "known");
      jb_boolean (b, FALSE);
      add_str (b, "error", bad ? bad->message : "not an address");
      jb_end (b);
      g_ptr_array_add (addresses, g_strdup (who[i].address));
      is_known = FALSE;
      g_array_append_val (known, is_known);
      n_done++;
      continue;
    }
    if (g_hash_table_contains (seen, norm))
      continue;
    if (!add_correspondent (store, b, norm, who[i].name, o, now, similar_at, similar_current, &skip, &is_known,
                            error))
      return NULL;
    g_hash_table_add (seen, g_strdup (norm));
    if (skip)
      continue;
    g_array_append_val (known, is_known);
    g_ptr_array_add (addresses, g_steal_pointer (&norm));
    n_done++;
  }
  jb_end (b);
  jb_end (b);

  insight = g_new0 (SgInsight, 1);
  insight->root = g_steal_pointer (&tree.root);
  insight->addresses = g_steal_pointer (&addresses);
  insight->known = g_steal_pointer (&known);
  return insight;
}

SgInsight *
sg_insight_for_message (SgStore *store, const SgMessage *message, const SgInsightOptions *options, GError **error)
{
  guint n, n_who = 0;
  g_autofree Who *who = NULL;

  g_return_val_if_fail (store != NULL && message != NULL, NULL);
  n = sg_message_get_n_participants (message);
  who = g_new0 (Who, MAX (n, 1));
  for (guint i = 0; i < n; i++) {
    const SgParticipant *p = sg_message_get_participant (message, i);

    /* A list's own address and machine senders (bounces, no-reply) are nobody to know
     * about beside a message. */
    if (p->kind == SG_ADDRESS_LIST || p->kind == SG_ADDRESS_NOREPLY)
      continue;
    who[n_who].address = p->address;
    who[n_who].name = p->name;
    n_who++;
  }
  return build (store, who, n_who, message, options, error);
}

SgInsight *
sg_insight_for_addresses (SgStore *store, const char *const *addresses, const SgInsightOptions *options,
                          GError **error)
{
  guint n = addresses ? g_strv_length ((char **) addresses) : 0;
  g_autofree Who *who = NULL;

  g_return_val_if_fail (store != NULL, NULL);
  if (n == 0) {
    g_set_error (error, SG_INSIGHT_ERROR, SG_INSIGHT_ERROR_INVALID, "no addresses given");
    return NULL;
  }
  who = g_new0 (Who, n);
  for (guint i = 0; i < n; i++)
    who[i].address = addresses[i];
  return build (store, who, n, NULL, options, error);
}

void
sg_insight_free (SgInsight *insight)
{
  if (insight == NULL)
    return;
  json_node_unref (insight->root);
  g_ptr_array_unref (insight->addresses);
  g_array_unref (insight->known);
  g_free (insight);
}

JsonNode *
sg_insight_get_json (const SgInsight *insight)
{
  g_return_val_if_fail (insight != NULL, NULL);
  return insight->root;
}

char *
sg_insight_to_json_string (const SgInsight *insight, gboolean pretty)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();

  g_return_val_if_fail (insight != NULL, NULL);
  json_generator_set_pretty (gen, pretty);
  json_generator_set_root (gen, insight->root);
  return json_generator_to_data (gen, NULL);
}

guint
sg_insight_get_n_correspondents (const SgInsight *insight)
{
  g_return_val_if_fail (insight != NULL, 0);
  return insight->addresses->len;
}

const char *
sg_insight_get_address (const SgInsight *insight, guint index)
{
  g_return_val_if_fail (insight != NULL && index < insight->addresses->len, NULL);
  return g_ptr_array_index (insight->addresses, index);
}

gboolean
sg_insight_is_known (const SgInsight *insight, guint index)
{
  g_return_val_if_fail (insight != NULL && index < insight->known->len, FALSE);
  return g_array_index (insight->known, gboolean, index);
}

/* --- text -------------------------------------------------------------------------------- */

/* Text from the store or the message, with control characters replaced (no terminal
 * escapes or bidi overrides reach a mail client's pager). */
static void
put (GString *out, const char *text)
{
  if (text == NULL)
    return;
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char_validated (p, -1);

    if (c == (gunichar) -1 || c == (gunichar) -2) {
      g_string_append_c (out, '?');
      if (c == (gunichar) -2)
        break;
      continue;
    }
    if (g_unichar_iscntrl (c) || g_unichar_type (c) == G_UNICODE_FORMAT)
      g_string_append_c (out, ' ');
    else
      g_string_append_unichar (out, c);
  }
}

static const char *
member_str (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n != NULL && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_string (n) : NULL;
}

static JsonArray *
member_array (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n != NULL && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static JsonObject *
member_object (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

/* "2026-03-05" from an ISO time. */
static void
put_day (GString *out, const char *iso)
{
  if (iso != NULL)
    g_string_append_len (out, iso, MIN ((gssize) strlen (iso), 10));
}

char *
sg_insight_to_text (const SgInsight *insight)
{
  GString *out = g_string_new (NULL);
  JsonObject *root;
  JsonArray *cs;

  g_return_val_if_fail (insight != NULL, NULL);
  root = json_node_get_object (insight->root);
  cs = member_array (root, "correspondents");
  if (cs == NULL || json_array_get_length (cs) == 0) {
    g_string_append (out, "No correspondents besides you and your colleagues.\n");
    return g_string_free (out, FALSE);
  }
  for (guint i = 0; i < json_array_get_length (cs); i++) {
    JsonObject *c = json_array_get_object_element (cs, i);
    JsonObject *org = member_object (c, "organisation");
    JsonObject *st = member_object (c, "strength");
    JsonObject *ia = member_object (c, "interactions");
    JsonArray *a;

    if (i > 0)
      g_string_append_c (out, '\n');
    if (member_str (c, "name") != NULL) {
      put (out, member_str (c, "name"));
      g_string_append (out, " <");
      put (out, member_str (c, "address"));
      g_string_append (out, ">");
    } else {
      put (out, member_str (c, "address"));
    }
    if (member_str (c, "error") != NULL) {
      g_string_append (out, ": ");
      put (out, member_str (c, "error"));
      g_string_append_c (out, '\n');
      continue;
    }
    if (!json_object_get_boolean_member_with_default (c, "known", FALSE))
      g_string_append (out, "  (not in the CRM)");
    g_string_append_c (out, '\n');
    if (org != NULL) {
      g_string_append (out, "  Organisation: ");
      put (out, member_str (org, "name") ? member_str (org, "name") : member_str (org, "domain"));
      g_string_append (out, " (");
      put (out, member_str (org, "domain"));
      if (member_str (org, "industry") != NULL) {
        g_string_append (out, ", ");
        put (out, member_str (org, "industry"));
      }
      g_string_append (out, ")\n");
    }
    if ((a = member_array (c, "roles")) != NULL && json_array_get_length (a) > 0) {
      g_string_append (out, "  Roles: ");
      for (guint j = 0; j < json_array_get_length (a); j++) {
        if (j > 0)
          g_string_append (out, ", ");
        put (out, member_str (json_array_get_object_element (a, j), "role"));
      }
      g_string_append_c (out, '\n');
    }
    if (st != NULL) {
      JsonArray *why = member_array (st, "reasons");

      g_string_append_printf (out, "  Relationship: %s (%" G_GINT64_FORMAT "/100)",
                              member_str (st, "label"), json_object_get_int_member (st, "score"));
      for (guint j = 0; why != NULL && j < json_array_get_length (why); j++) {
        g_string_append (out, j == 0 ? ": " : "; ");
        put (out, json_array_get_string_element (why, j));
      }
      g_string_append_c (out, '\n');
    }
    if ((a = member_array (c, "tags")) != NULL && json_array_get_length (a) > 0) {
      g_string_append (out, "  Tags: ");
      for (guint j = 0; j < json_array_get_length (a); j++) {
        if (j > 0)
          g_string_append (out, ", ");
        put (out, member_str (json_array_get_object_element (a, j), "name"));
      }
      g_string_append_c (out, '\n');
    }
    if ((a = member_array (c, "selections")) != NULL && json_array_get_length (a) > 0) {
      g_string_append (out, "  Selections: ");
      for (guint j = 0; j < json_array_get_length (a); j++) {
        if (j > 0)
          g_string_append (out, ", ");
        put (out, json_array_get_string_element (a, j));
      }
      g_string_append_c (out, '\n');
    }
    if ((a = member_array (member_object (c, "similar_organisations"), "organisations")) != NULL &&
        json_array_get_length (a) > 0) {
      g_string_append (out, "  Similar organisations: ");
      for (guint j = 0; j < json_array_get_length (a); j++) {
        JsonObject *s = json_array_get_object_element (a, j);

        if (j > 0)
          g_string_append (out, "; ");
        put (out, member_str (s, "domain"));
        g_string_append_printf (out, " (%.2f", json_object_get_double_member_with_default (s, "similarity", 0));
        if (member_str (s, "bought") != NULL) {
          g_string_append (out, ", bought ");
          put (out, member_str (s, "bought"));
        }
        g_string_append_c (out, ')');
      }
      g_string_append_c (out, '\n');
    }
    if ((a = member_array (c, "processes")) != NULL) {
      for (guint j = 0; j < json_array_get_length (a); j++) {
        JsonObject *p = json_array_get_object_element (a, j);
        JsonArray *parts = member_array (p, "parts");
        JsonArray *sugg = member_array (p, "suggestions");
        const char *id = member_str (p, "id");

        g_string_append (out, "  Open process ");
        g_string_append_len (out, id ? id : "", id ? MIN ((gssize) strlen (id), 8) : 0);
        g_string_append (out, ": ");
        put (out, member_str (p, "deliverable"));
        g_string_append (out, ", stage ");
        put (out, member_str (p, "stage"));
        if (member_str (p, "value") != NULL) {
          g_string_append (out, ", ");
          put (out, member_str (p, "value"));
          g_string_append_c (out, ' ');
          put (out, member_str (p, "currency"));
        }
        if (member_str (p, "owner") != NULL) {
          g_string_append (out, ", owner ");
          put (out, member_str (p, "owner"));
        }
        for (guint k = 0; parts != NULL && k < json_array_get_length (parts); k++) {
          g_string_append (out, k == 0 ? "; their part: " : ", ");
          put (out, json_array_get_string_element (parts, k));
        }
        g_string_append_c (out, '\n');
        for (guint k = 0; sugg != NULL && k < json_array_get_length (sugg); k++) {
          JsonObject *s = json_array_get_object_element (sugg, k);

          g_string_append (out, "    Suggested stage: ");
          put (out, member_str (s, "stage"));
          g_string_append (out, " (");
          put (out, member_str (s, "reason"));
          g_string_append (out, ")\n");
        }
      }
    }
    if (ia != NULL && (a = member_array (c, "last_interactions")) != NULL && json_array_get_length (a) > 0) {
      g_string_append_printf (out, "  Interactions: %" G_GINT64_FORMAT " (%" G_GINT64_FORMAT " received, %"
                              G_GINT64_FORMAT " sent, %" G_GINT64_FORMAT " meetings); latest:\n",
                              json_object_get_int_member (ia, "total"), json_object_get_int_member (ia, "received"),
                              json_object_get_int_member (ia, "sent"), json_object_get_int_member (ia, "meetings"));
      for (guint j = 0; j < json_array_get_length (a); j++) {
        JsonObject *x = json_array_get_object_element (a, j);
        const char *kind = member_str (x, "kind");

        g_string_append (out, "    ");
        put_day (out, member_str (x, "date"));
        g_string_append_printf (out, " %-7s ", g_strcmp0 (kind, "meeting") == 0 ? "meeting"
                                : g_strcmp0 (member_str (x, "direction"), "in") == 0 ? "from" : "to");
        put (out, member_str (x, "subject") ? member_str (x, "subject") : "(no subject)");
        g_string_append_c (out, '\n');
      }
    }
  }
  return g_string_free (out, FALSE);
}
