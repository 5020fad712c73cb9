/* sg-similar.c: TF-IDF tag vectors and cosine similarity (see sg-similar.h). */
#include "config.h"

#include "sg-similar.h"

#include <math.h>
#include <string.h>

#include "sg-process-private.h"

G_DEFINE_QUARK (sg-similar-error-quark, sg_similar_error)

typedef struct {
  gint64 org;
  GHashTable *tf; /* tag id -> count (GINT_TO_POINTER), raw */
  double norm;
  double score;
  char *shared;
} Vec;

static void
vec_free (gpointer p)
{
  Vec *v = p;

  g_hash_table_unref (v->tf);
  g_free (v->shared);
  g_free (v);
}

typedef struct {
  gint64 tag;
  double w;
} Shared;

static int
cmp_shared (gconstpointer a, gconstpointer b)
{
  const Shared *x = a, *y = b;

  return x->w < y->w ? 1 : x->w > y->w ? -1 : 0;
}

static int
cmp_score (gconstpointer a, gconstpointer b)
{
  const Vec *x = *(Vec *const *) a, *y = *(Vec *const *) b;

  if (x->score != y->score)
    return x->score < y->score ? 1 : -1;
  return x->org < y->org ? -1 : x->org > y->org;
}

SgTable *
sg_similar_organisations (SgStore *store, const char *domain, guint limit, GError **error)
{
  g_autoptr (GHashTable) vecs = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, vec_free);
  g_autoptr (GPtrArray) ranked = g_ptr_array_new ();
  gint64 target_id;
  Vec *target;
  sqlite3_stmt *stmt;
  GHashTableIter it;
  gpointer key, value;
  double n_orgs;
  SgTable *t;
  int rc;

  target_id = _sg_org_lookup (store, domain, error);
  if (target_id < 0)
    return NULL;
  if (target_id == 0) {
    g_set_error (error, SG_SIMILAR_ERROR, SG_SIMILAR_ERROR_NOT_FOUND, "no organisation “%s” in the store",
                 domain ? domain : "");
    return NULL;
  }
  /* The organisation x tag matrix, from the organisations' and their people's tags. */
  stmt = _sg_store_prepare (store,
    "SELECT m.org, m.tag_id, count(*) FROM ("
    "  SELECT ta.entity_id AS org, ta.tag_id FROM tag_assignments ta "
    "  WHERE ta.entity_type = 'organisation' AND ta.removed = 0 "
    "  UNION ALL SELECT p.org_id, ta.tag_id FROM tag_assignments ta JOIN people p ON p.id = ta.entity_id "
    "  WHERE ta.entity_type = 'person' AND ta.removed = 0 AND p.org_id IS NOT NULL AND p.kind = 'contact') m "
    "JOIN organisations o ON o.id = m.org WHERE o.kind = 'external' OR o.id = ?1 GROUP BY m.org, m.tag_id", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, target_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    gint64 org = sqlite3_column_int64 (stmt, 0), tag = sqlite3_column_int64 (stmt, 1);
    Vec *v = g_hash_table_lookup (vecs, &org);

    if (v == NULL) {
      v = g_new0 (Vec, 1);
      v->org = org;
      v->tf = g_hash_table_new (g_direct_hash, g_direct_equal);
      g_hash_table_insert (vecs, &v->org, v);
    }
    /* Tag ids (> 0) are the keys, as pointer-sized integers. */
    g_hash_table_insert (v->tf, GSIZE_TO_POINTER ((gsize) tag), GINT_TO_POINTER (sqlite3_column_int (stmt, 2)));
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "similar organisations");
    return NULL;
  }
  t = sg_table_new ();
  sg_table_add_column (t, "organisation", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "domain", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "similarity", SG_COLUMN_REAL, 0);
  sg_table_add_column (t, "shared_tags", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "bought", SG_COLUMN_TEXT, 0);
  target = g_hash_table_lookup (vecs, &target_id);
  if (target == NULL) /* an organisation without tags is like nobody */
    return t;

  {
    /* Document frequencies, keyed by tag id (as a pointer-sized integer). */
    g_autoptr (GHashTable) dfs = g_hash_table_new (g_direct_hash, g_direct_equal);

    g_hash_table_iter_init (&it, vecs);
    while (g_hash_table_iter_next (&it, &key, &value)) {
      GHashTableIter jt;
      gpointer tag;

      g_hash_table_iter_init (&jt, ((Vec *) value)->tf);
      while (g_hash_table_iter_next (&jt, &tag, NULL))
        g_hash_table_insert (dfs, tag, GINT_TO_POINTER (GPOINTER_TO_INT (g_hash_table_lookup (dfs, tag)) + 1));
    }
    n_orgs = (double) g_hash_table_size (vecs);

#define WEIGHT(count, tag) \
  ((1.0 + log ((double) (count))) * (1.0 + log ((1.0 + n_orgs) / (1.0 + GPOINTER_TO_INT (g_hash_table_lookup (dfs, tag))))))

    g_hash_table_iter_init (&it, vecs);
    while (g_hash_table_iter_next (&it, &key, &value)) {
      Vec *v = value;
      GHashTableIter jt;
      gpointer tag, count;
      double sum = 0;

      g_hash_table_iter_init (&jt, v->tf);
      while (g_hash_table_iter_next (&jt, &tag, &count)) {
        double w = WEIGHT (GPOINTER_TO_INT (count), tag);

        sum += w * w;
      }
      v->norm = sqrt (sum);
    }
    g_hash_table_iter_init (&it, vecs);
    while (g_hash_table_iter_next (&it, &key, &value)) {
      Vec *v = value;
      GHashTableIter jt;
      gpointer tag, count;
      double dot = 0;
      g_autoptr (GArray) shared = g_array_new (FALSE, FALSE, sizeof (Shared));

      if (v == target || v->norm == 0 || target->norm == 0)
        continue;
      g_hash_table_iter_init (&jt, target->tf);
      while (g_hash_table_iter_next (&jt, &tag, &count)) {
        gpointer other = g_hash_table_lookup (v->tf, tag);

        if (other != NULL) {
          Shared s = { (gint64) GPOINTER_TO_SIZE (tag),
                       WEIGHT (GPOINTER_TO_INT (count), tag) * WEIGHT (GPOINTER_TO_INT (other), tag) };

          dot += s.w;
          g_array_append_val (shared, s);
        }
      }
      if (dot <= 0)
        continue;
      v->score = dot / (v->norm * target->norm);
      g_array_sort (shared, cmp_shared);
      {
        GString *names_s = g_string_new (NULL);
        sqlite3_stmt *tn = _sg_store_prepare (store, "SELECT name FROM tags WHERE id = ?", error);

        if (tn == NULL) {
          g_string_free (names_s, TRUE);
          sg_table_free (t);
          return NULL;
        }
        for (guint i = 0; i < shared->len; i++) {
          sqlite3_bind_int64 (tn, 1, g_array_index (shared, Shared, i).tag);
          if (sqlite3_step (tn) == SQLITE_ROW)
            g_string_append_printf (names_s, "%s%s", names_s->len ? ", " : "", _SG_COL_TEXT (tn, 0));
          sqlite3_reset (tn);
        }
        v->shared = g_string_free (names_s, FALSE);
      }
      g_ptr_array_add (ranked, v);
    }
#undef WEIGHT
  }
  g_ptr_array_sort (ranked, cmp_score);
  stmt = _sg_store_prepare (store,
    "SELECT coalesce(o.name, o.domain), o.domain, (SELECT group_concat(deliverable, ', ') FROM "
    "  (SELECT DISTINCT deliverable FROM processes WHERE org_id = o.id AND status = 'won' ORDER BY deliverable)) "
    "FROM organisations o WHERE o.id = ?", error);
  if (stmt == NULL) {
    sg_table_free (t);
    return NULL;
  }
  for (guint i = 0; i < ranked->len && i < (limit ? limit : 10); i++) {
    Vec *v = ranked->pdata[i];

    sqlite3_bind_int64 (stmt, 1, v->org);
    if (sqlite3_step (stmt) == SQLITE_ROW) {
      sg_table_append_row (t);
      sg_table_set_text (t, 0, _SG_COL_TEXT (stmt, 0));
      sg_table_set_text (t, 1, _SG_COL_TEXT (stmt, 1));
      sg_table_set_real (t, 2, round (v->score * 1000.0) / 1000.0);
      sg_table_set_text (t, 3, v->shared);
      sg_table_set_text (t, 4, _SG_COL_TEXT (stmt, 2));
    }
    sqlite3_reset (stmt);
  }
  return t;
}

/* --- kept for every organisation (sg_similar_refresh) -------------------------------- */

typedef struct {
  gint64 tag;
  int count;
  double w;
} Entry;

typedef struct {
  GArray *entries; /* Entry, by tag id */
  GArray *members; /* gint64 organisation ids, ascending */
  double norm;
} Group;

static void
group_free (gpointer p)
{
  Group *g = p;

  g_array_unref (g->entries);
  g_array_unref (g->members);
  g_free (g);
}

typedef struct {
  guint group;
  double score;
} Scored;

static int
cmp_scored (gconstpointer a, gconstpointer b)
{
  const Scored *x = a, *y = b;

  if (x->score != y->score)
    return x->score < y->score ? 1 : -1;
  return x->group < y->group ? -1 : x->group > y->group;
}

typedef struct {
  gint64 org;
  double score;
  guint group;
} Candidate;

static int
cmp_candidate (gconstpointer a, gconstpointer b)
{
  const Candidate *x = a, *y = b;

  if (x->score != y->score)
    return x->score < y->score ? 1 : -1;
  return x->org < y->org ? -1 : x->org > y->org;
}

static int
cmp_entry_w (gconstpointer a, gconstpointer b)
{
  const Shared *x = a, *y = b;

  if (x->w != y->w)
    return x->w < y->w ? 1 : -1;
  return x->tag < y->tag ? -1 : x->tag > y->tag;
}

/* The tags two groups share, heaviest product first, as names. */
static char *
shared_names (const Group *a, const Group *b, GHashTable *names)
{
  g_autoptr (GArray) shared = g_array_new (FALSE, FALSE, sizeof (Shared));
  GString *out = g_string_new (NULL);
  guint i = 0, j = 0;

  while (i < a->entries->len && j < b->entries->len) {
    const Entry *x = &g_array_index (a->entries, Entry, i), *y = &g_array_index (b->entries, Entry, j);

    if (x->tag < y->tag) {
      i++;
    } else if (x->tag > y->tag) {
      j++;
    } else {
      Shared s = { x->tag, x->w * y->w };

      g_array_append_val (shared, s);
      i++;
      j++;
    }
  }
  g_array_sort (shared, cmp_entry_w);
  for (guint k = 0; k < shared->len; k++) {
    const char *name = g_hash_table_lookup (names, &g_array_index (shared, Shared, k).tag);

    g_string_append_printf (out, "%s%s", out->len ? ", " : "", name ? name : "?");
  }
  return g_string_free (out, FALSE);
}

gboolean
sg_similar_is_current (SgStore *store)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
    "SELECT computed_from IS NOT NULL AND computed_from = tags_version FROM similar_state WHERE id = 1", NULL);
  gboolean current = FALSE;

  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    current = sqlite3_column_int (stmt, 0) != 0;
  sqlite3_reset (stmt);
  return current;
}

gboolean
sg_similar_refresh (SgStore *store, GError **error)
{
  g_autoptr (GHashTable) by_sig = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                                         (GDestroyNotify) g_bytes_unref, NULL);
  g_autoptr (GPtrArray) groups = g_ptr_array_new_with_free_func (group_free);
  g_autoptr (GHashTable) dfs = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr (GHashTable) names = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  g_autoptr (GHashTable) postings = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                                           (GDestroyNotify) g_array_unref);
  g_autoptr (GArray) cur = g_array_new (FALSE, FALSE, sizeof (Entry));
  g_autoptr (GArray) df_counts = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree double *dot = NULL;
  sqlite3_stmt *stmt;
  gint64 cur_org = 0, n_orgs = 0;
  int rc;

  g_return_val_if_fail (store != NULL, FALSE);
  if (!sg_store_begin (store, error))
    return FALSE;
  stmt = _sg_store_prepare (store, "SELECT id, name FROM tags", error);
  if (stmt == NULL)
    goto fail;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    gint64 *id = g_new (gint64, 1);

    *id = sqlite3_column_int64 (stmt, 0);
    g_hash_table_insert (names, id, g_strdup (_SG_COL_TEXT (stmt, 1)));
  }
  sqlite3_reset (stmt);
  /* The organisation x tag matrix, by organisation then tag (as sg_similar_organisations()). */
  stmt = _sg_store_prepare (store,
    "SELECT m.org, m.tag_id, count(*) FROM ("
    "  SELECT ta.entity_id AS org, ta.tag_id FROM tag_assignments ta "
    "  WHERE ta.entity_type = 'organisation' AND ta.removed = 0 "
    "  UNION ALL SELECT p.org_id, ta.tag_id FROM tag_assignments ta JOIN people p ON p.id = ta.entity_id "
    "  WHERE ta.entity_type = 'person' AND ta.removed = 0 AND p.org_id IS NOT NULL AND p.kind = 'contact') m "
    "JOIN organisations o ON o.id = m.org WHERE o.kind = 'external' GROUP BY m.org, m.tag_id ORDER BY m.org, m.tag_id",
    error);
  if (stmt == NULL)
    goto fail;
  for (;;) {
    gboolean row = (rc = sqlite3_step (stmt)) == SQLITE_ROW;
    gint64 org = row ? sqlite3_column_int64 (stmt, 0) : 0;

    if ((!row || org != cur_org) && cur->len > 0) {
      /* One organisation's vector is complete: its group is the one of the same vector. */
      /* The signature is the (tag, count) pairs only: an Entry has padding after its count,
       * which must not be hashed or compared (it is not initialised). */
      gint64 *pairs = g_new (gint64, cur->len * 2);
      GBytes *sig;
      gpointer gi;
      Group *g;

      for (guint i = 0; i < cur->len; i++) {
        pairs[2 * i] = g_array_index (cur, Entry, i).tag;
        pairs[2 * i + 1] = g_array_index (cur, Entry, i).count;
      }
      sig = g_bytes_new_take (pairs, cur->len * 2 * sizeof (gint64));

      if (!g_hash_table_lookup_extended (by_sig, sig, NULL, &gi)) {
        g = g_new0 (Group, 1);
        g->entries = g_array_copy (cur);
        g->members = g_array_new (FALSE, FALSE, sizeof (gint64));
        gi = GUINT_TO_POINTER (groups->len);
        g_ptr_array_add (groups, g);
        g_hash_table_insert (by_sig, sig, gi);
      } else {
        g_bytes_unref (sig);
      }
      g = groups->pdata[GPOINTER_TO_UINT (gi)];
      g_array_append_val (g->members, cur_org);
      n_orgs++;
      g_array_set_size (cur, 0);
    }
    if (!row)
      break;
    cur_org = org;
    {
      Entry e = { sqlite3_column_int64 (stmt, 1), sqlite3_column_int (stmt, 2), 0 };

      g_array_append_val (cur, e);
    }
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "similar organisations");
    goto fail;
  }
  /* Document frequencies: organisations (group members) holding each tag. */
  for (guint gi = 0; gi < groups->len; gi++) {
    Group *g = groups->pdata[gi];

    for (guint i = 0; i < g->entries->len; i++) {
      Entry *e = &g_array_index (g->entries, Entry, i);
      gpointer idx = g_hash_table_lookup (dfs, &e->tag);

      if (idx == NULL) {
        gint64 zero = 0;

        g_array_append_val (df_counts, zero);
        idx = GSIZE_TO_POINTER (df_counts->len);
        g_hash_table_insert (dfs, &e->tag, idx);
      }
      g_array_index (df_counts, gint64, GPOINTER_TO_SIZE (idx) - 1) += g->members->len;
    }
  }
  /* Weights, norms, and the postings of each tag: (group, weight). */
  for (guint gi = 0; gi < groups->len; gi++) {
    Group *g = groups->pdata[gi];
    double sum = 0;

    for (guint i = 0; i < g->entries->len; i++) {
      Entry *e = &g_array_index (g->entries, Entry, i);
      gint64 df = g_array_index (df_counts, gint64, GPOINTER_TO_SIZE (g_hash_table_lookup (dfs, &e->tag)) - 1);
      GArray *post = g_hash_table_lookup (postings, &e->tag);
      Scored s;

      e->w = (1.0 + log ((double) e->count)) * (1.0 + log ((1.0 + (double) n_orgs) / (1.0 + (double) df)));
      sum += e->w * e->w;
      if (post == NULL) {
        gint64 *key = g_new (gint64, 1);

        *key = e->tag;
        post = g_array_new (FALSE, FALSE, sizeof (Scored));
        g_hash_table_insert (postings, key, post);
      }
      s.group = gi;
      s.score = e->w;
      g_array_append_val (post, s);
    }
    g->norm = sqrt (sum);
  }

  stmt = _sg_store_prepare (store, "DELETE FROM org_similar", error);
  if (stmt == NULL || !_sg_store_exec_stmt (store, stmt, error))
    goto fail;
  dot = g_new0 (double, MAX (groups->len, 1));
  stmt = _sg_store_prepare (store,
    "INSERT INTO org_similar (org_id, rank, similar_id, score, shared_tags) VALUES (?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    goto fail;
  for (guint gi = 0; gi < groups->len; gi++) {
    Group *g = groups->pdata[gi];
    g_autoptr (GArray) scored = g_array_new (FALSE, FALSE, sizeof (Scored));
    g_autoptr (GArray) cands = g_array_new (FALSE, FALSE, sizeof (Candidate));
    g_autoptr (GArray) touched = g_array_new (FALSE, FALSE, sizeof (guint));
    g_autoptr (GHashTable) shared_cache = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);

    if (g->norm == 0)
      continue;
    for (guint i = 0; i < g->entries->len; i++) {
      const Entry *e = &g_array_index (g->entries, Entry, i);
      GArray *post = g_hash_table_lookup (postings, &e->tag);

      for (guint k = 0; k < post->len; k++) {
        const Scored *p = &g_array_index (post, Scored, k);

        if (dot[p->group] == 0)
          g_array_append_val (touched, p->group);
        dot[p->group] += e->w * p->score;
      }
    }
    for (guint k = 0; k < touched->len; k++) {
      guint h = g_array_index (touched, guint, k);
      Group *o = groups->pdata[h];
      Scored s = { h, dot[h] / (g->norm * o->norm) };

      dot[h] = 0;
      if (s.score > 0 && o->norm > 0)
        g_array_append_val (scored, s);
    }
    g_array_sort (scored, cmp_scored);
    /* Enough groups to fill the list for any member (itself left out), and every group
     * tied with the last one taken. */
    for (guint k = 0, n = 0; k < scored->len; k++) {
      const Scored *s = &g_array_index (scored, Scored, k);
      Group *o = groups->pdata[s->group];

      if (n >= SG_SIMILAR_KEPT + 1 && s->score != g_array_index (scored, Scored, k - 1).score)
        break;
      for (guint m = 0; m < o->members->len; m++) {
        Candidate c = { g_array_index (o->members, gint64, m), round (s->score * 1000.0) / 1000.0, s->group };

        g_array_append_val (cands, c);
      }
      n += o->members->len;
    }
    g_array_sort (cands, cmp_candidate);
    for (guint m = 0; m < g->members->len; m++) {
      gint64 org = g_array_index (g->members, gint64, m);
      int rank = 0;

      for (guint k = 0; k < cands->len && rank < SG_SIMILAR_KEPT; k++) {
        const Candidate *c = &g_array_index (cands, Candidate, k);
        const char *shared;

        if (c->org == org)
          continue;
        shared = g_hash_table_lookup (shared_cache, GUINT_TO_POINTER (c->group + 1));
        if (shared == NULL) {
          char *s = shared_names (g, groups->pdata[c->group], names);

          g_hash_table_insert (shared_cache, GUINT_TO_POINTER (c->group + 1), s);
          shared = s;
        }
        sqlite3_bind_int64 (stmt, 1, org);
        sqlite3_bind_int (stmt, 2, rank++);
        sqlite3_bind_int64 (stmt, 3, c->org);
        sqlite3_bind_double (stmt, 4, c->score);
        sqlite3_bind_text (stmt, 5, shared, -1, SQLITE_STATIC);
        if (!_sg_store_exec_stmt (store, stmt, error))
          goto fail;
      }
    }
  }
  stmt = _sg_store_prepare (store,
    "UPDATE similar_state SET computed_from = tags_version, computed_at = ? WHERE id = 1", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, g_get_real_time () / G_USEC_PER_SEC);
  if (!_sg_store_exec_stmt (store, stmt, error))
    goto fail;
  return sg_store_commit (store, error);

fail:
  sg_store_rollback (store);
  return FALSE;
}
