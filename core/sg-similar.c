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
