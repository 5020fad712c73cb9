/* sg-summary.c: per-person and per-organisation activity summaries, kept up to date at
 * every commit (see sg-summary-private.h and docs/internals/insight.md). */
#include "config.h"

#include "sg-summary-private.h"

#include <string.h>

#define DAY ((gint64) 86400)
/* Days of a person's activity kept before their newest interaction: any reader whose
 * "now" is at or after it sees every day of its last 365. */
#define KEEP_DAYS 366

typedef struct {
  guint32 day, count;
} DayCount;

typedef struct {
  gint64 id, last_iid;
  gint64 n_total, n_in, n_out, n_meetings, n_bulk, first, last;
  gboolean any;
  GArray *days; /* DayCount, unsorted; NULL for organisations */
  guint n_recent;
  gint64 recent_id[SG_SUMMARY_RECENT], recent_date[SG_SUMMARY_RECENT];
} Acc;

static void
acc_free (gpointer p)
{
  Acc *a = p;

  if (a->days != NULL)
    g_array_unref (a->days);
  g_free (a);
}

static guint32
day_of (gint64 date)
{
  return date <= 0 ? 0 : (guint32) MIN (date / DAY, (gint64) G_MAXUINT32);
}

/* Keeps the SG_SUMMARY_RECENT newest (date, id), newest first. */
static void
recent_add (gint64 *ids, gint64 *dates, guint *n, gint64 id, gint64 date)
{
  guint k = *n;

  for (guint i = 0; i < *n; i++)
    if (ids[i] == id)
      return;
  while (k > 0 && (dates[k - 1] < date || (dates[k - 1] == date && ids[k - 1] < id)))
    k--;
  if (k >= SG_SUMMARY_RECENT)
    return;
  if (*n < SG_SUMMARY_RECENT)
    (*n)++;
  memmove (ids + k + 1, ids + k, (*n - 1 - k) * sizeof *ids);
  memmove (dates + k + 1, dates + k, (*n - 1 - k) * sizeof *dates);
  ids[k] = id;
  dates[k] = date;
}

static Acc *
acc_get (GHashTable *table, gint64 id, gboolean detail)
{
  Acc *a = g_hash_table_lookup (table, &id);

  if (a == NULL) {
    a = g_new0 (Acc, 1);
    a->id = id;
    if (detail)
      a->days = g_array_new (FALSE, FALSE, sizeof (DayCount));
    g_hash_table_insert (table, &a->id, a);
  }
  return a;
}

static void
acc_add (Acc *a, gint64 iid, gboolean meeting, gboolean in, gboolean bulk, gint64 date)
{
  /* Rows come in interaction order: a person with two addresses on one message, or an
   * organisation with two people on it, counts it once. */
  if (a->last_iid == iid)
    return;
  a->last_iid = iid;
  if (bulk) {
    a->n_bulk++;
    return;
  }
  a->n_total++;
  if (meeting)
    a->n_meetings++;
  else if (in)
    a->n_in++;
  else
    a->n_out++;
  a->first = a->any ? MIN (a->first, date) : date;
  a->last = a->any ? MAX (a->last, date) : date;
  a->any = TRUE;
  if (a->days != NULL) {
    DayCount d = { day_of (date), 1 };

    g_array_append_val (a->days, d);
    recent_add (a->recent_id, a->recent_date, &a->n_recent, iid, date);
  }
}

/* Reads rows (interaction id, is meeting, is in, bulk, date, person id, org id) into
 * @people and @orgs (either may be NULL). */
static gboolean
fold (SgStore *store, sqlite3_stmt *stmt, GHashTable *people, GHashTable *orgs, GError **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    gint64 iid = sqlite3_column_int64 (stmt, 0), date = sqlite3_column_int64 (stmt, 4);
    gboolean meeting = sqlite3_column_int (stmt, 1), in = sqlite3_column_int (stmt, 2);
    gboolean bulk = sqlite3_column_int (stmt, 3) != 0;

    if (people != NULL)
      acc_add (acc_get (people, sqlite3_column_int64 (stmt, 5), TRUE), iid, meeting, in, bulk, date);
    if (orgs != NULL && sqlite3_column_type (stmt, 6) != SQLITE_NULL)
      acc_add (acc_get (orgs, sqlite3_column_int64 (stmt, 6), FALSE), iid, meeting, in, bulk, date);
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "activity summary");
    return FALSE;
  }
  return TRUE;
}

#define FOLD_SELECT \
  "SELECT i.id, i.kind = 'meeting', i.direction = 'in', i.bulk, i.date_utc, p.id, o.id " \
  "FROM interactions i JOIN participants pa ON pa.interaction_id = i.id " \
  "JOIN addresses a ON a.id = pa.address_id JOIN people p ON p.id = a.person_id " \
  "LEFT JOIN organisations o ON o.id = p.org_id AND o.kind = 'external' "

static int
cmp_day (gconstpointer a, gconstpointer b)
{
  const DayCount *x = a, *y = b;

  return x->day < y->day ? -1 : x->day > y->day;
}

/* --- reading ------------------------------------------------------------------------- */

void
_sg_activity_from_row (sqlite3_stmt *stmt, int col, gint64 now, SgActivity *act)
{
  const guint8 *days, *recent;
  int n_days, n_recent;
  guint32 from = day_of (now - 365 * DAY);

  memset (act, 0, sizeof *act);
  if (sqlite3_column_type (stmt, col) == SQLITE_NULL)
    return;
  act->n_total = sqlite3_column_int64 (stmt, col);
  act->n_in = sqlite3_column_int64 (stmt, col + 1);
  act->n_out = sqlite3_column_int64 (stmt, col + 2);
  act->n_meetings = sqlite3_column_int64 (stmt, col + 3);
  act->n_bulk = sqlite3_column_int64 (stmt, col + 4);
  act->first = sqlite3_column_int64 (stmt, col + 5);
  act->last = sqlite3_column_int64 (stmt, col + 6);
  days = sqlite3_column_blob (stmt, col + 7);
  n_days = sqlite3_column_bytes (stmt, col + 7) / 8;
  for (int i = 0; days != NULL && i < n_days; i++) {
    guint32 day, count;

    memcpy (&day, days + 8 * i, 4);
    memcpy (&count, days + 8 * i + 4, 4);
    if (GUINT32_FROM_LE (day) >= from)
      act->n_year += GUINT32_FROM_LE (count);
  }
  recent = sqlite3_column_blob (stmt, col + 8);
  n_recent = MIN (sqlite3_column_bytes (stmt, col + 8) / 16, SG_SUMMARY_RECENT);
  for (int i = 0; recent != NULL && i < n_recent; i++) {
    guint64 date, id;

    memcpy (&date, recent + 16 * i, 8);
    memcpy (&id, recent + 16 * i + 8, 8);
    act->recent_date[i] = (gint64) GUINT64_FROM_LE (date);
    act->recent_id[i] = (gint64) GUINT64_FROM_LE (id);
  }
  act->n_recent = (guint) MAX (n_recent, 0);
}

gboolean
_sg_summary_person (SgStore *store, gint64 person_id, gint64 now, SgActivity *act, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare_static (store,
    "SELECT " SG_SUMMARY_COLUMNS ("s") " FROM person_summary s WHERE s.person_id = ?", error);
  int rc;

  memset (act, 0, sizeof *act);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, person_id);
  if ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    _sg_activity_from_row (stmt, 0, now, act);
    rc = SQLITE_DONE;
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "activity summary");
    return FALSE;
  }
  return TRUE;
}

/* --- writing ------------------------------------------------------------------------- */

/* Adds the stored row of @a's person (when @merge) and writes the result. */
static gboolean
write_person (SgStore *store, Acc *a, gboolean merge, GError **error)
{
  sqlite3_stmt *stmt;
  g_autoptr (GByteArray) days = g_byte_array_new ();
  g_autoptr (GByteArray) recent = g_byte_array_new ();
  guint32 keep_from;
  int rc;

  if (merge) {
    SgActivity old;

    stmt = _sg_store_prepare (store,
      "SELECT " SG_SUMMARY_COLUMNS ("s") " FROM person_summary s WHERE s.person_id = ?", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, a->id);
    if ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
      const guint8 *blob = sqlite3_column_blob (stmt, 7);
      int n = sqlite3_column_bytes (stmt, 7) / 8;

      _sg_activity_from_row (stmt, 0, 0, &old);
      a->n_total += old.n_total;
      a->n_in += old.n_in;
      a->n_out += old.n_out;
      a->n_meetings += old.n_meetings;
      a->n_bulk += old.n_bulk;
      if (old.n_total > 0) {
        a->first = a->any ? MIN (a->first, old.first) : old.first;
        a->last = a->any ? MAX (a->last, old.last) : old.last;
        a->any = TRUE;
      }
      for (int i = 0; blob != NULL && i < n; i++) {
        DayCount d;

        memcpy (&d.day, blob + 8 * i, 4);
        memcpy (&d.count, blob + 8 * i + 4, 4);
        d.day = GUINT32_FROM_LE (d.day);
        d.count = GUINT32_FROM_LE (d.count);
        g_array_append_val (a->days, d);
      }
      for (guint i = 0; i < old.n_recent; i++)
        recent_add (a->recent_id, a->recent_date, &a->n_recent, old.recent_id[i], old.recent_date[i]);
      rc = SQLITE_DONE;
    }
    sqlite3_reset (stmt);
    if (rc != SQLITE_DONE) {
      _sg_store_set_error (store, error, "activity summary");
      return FALSE;
    }
  }
  if (a->n_total == 0 && a->n_bulk == 0) {
    stmt = _sg_store_prepare (store, "DELETE FROM person_summary WHERE person_id = ?", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, a->id);
    return _sg_store_exec_stmt (store, stmt, error);
  }

  /* Days: sorted, one entry per day, only those within KEEP_DAYS of the newest. */
  g_array_sort (a->days, cmp_day);
  keep_from = a->any ? day_of (a->last) : 0;
  keep_from = keep_from > KEEP_DAYS ? keep_from - KEEP_DAYS : 0;
  for (guint i = 0; i < a->days->len;) {
    DayCount d = g_array_index (a->days, DayCount, i);
    guint32 le_day, le_count;

    for (i++; i < a->days->len && g_array_index (a->days, DayCount, i).day == d.day; i++)
      d.count += g_array_index (a->days, DayCount, i).count;
    if (d.day < keep_from)
      continue;
    le_day = GUINT32_TO_LE (d.day);
    le_count = GUINT32_TO_LE (d.count);
    g_byte_array_append (days, (const guint8 *) &le_day, 4);
    g_byte_array_append (days, (const guint8 *) &le_count, 4);
  }
  for (guint i = 0; i < a->n_recent; i++) {
    guint64 le_date = GUINT64_TO_LE ((guint64) a->recent_date[i]), le_id = GUINT64_TO_LE ((guint64) a->recent_id[i]);

    g_byte_array_append (recent, (const guint8 *) &le_date, 8);
    g_byte_array_append (recent, (const guint8 *) &le_id, 8);
  }
  stmt = _sg_store_prepare (store,
    "INSERT OR REPLACE INTO person_summary (person_id, n_total, n_in, n_out, n_meetings, n_bulk, first_at, last_at, "
    "days, recent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, a->id);
  sqlite3_bind_int64 (stmt, 2, a->n_total);
  sqlite3_bind_int64 (stmt, 3, a->n_in);
  sqlite3_bind_int64 (stmt, 4, a->n_out);
  sqlite3_bind_int64 (stmt, 5, a->n_meetings);
  sqlite3_bind_int64 (stmt, 6, a->n_bulk);
  if (a->any) {
    sqlite3_bind_int64 (stmt, 7, a->first);
    sqlite3_bind_int64 (stmt, 8, a->last);
  }
  sqlite3_bind_blob (stmt, 9, days->data, (int) days->len, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 10, recent->data, (int) recent->len, SQLITE_STATIC);
  return _sg_store_exec_stmt (store, stmt, error);
}

static gboolean
write_org (SgStore *store, Acc *a, gboolean merge, GError **error)
{
  sqlite3_stmt *stmt;
  int rc;

  if (merge) {
    stmt = _sg_store_prepare (store,
      "SELECT n_total, n_in, n_out, n_meetings, first_at, last_at FROM org_summary WHERE org_id = ?", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, a->id);
    if ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
      a->n_total += sqlite3_column_int64 (stmt, 0);
      a->n_in += sqlite3_column_int64 (stmt, 1);
      a->n_out += sqlite3_column_int64 (stmt, 2);
      a->n_meetings += sqlite3_column_int64 (stmt, 3);
      if (sqlite3_column_type (stmt, 4) != SQLITE_NULL) {
        gint64 first = sqlite3_column_int64 (stmt, 4), last = sqlite3_column_int64 (stmt, 5);

        a->first = a->any ? MIN (a->first, first) : first;
        a->last = a->any ? MAX (a->last, last) : last;
        a->any = TRUE;
      }
      rc = SQLITE_DONE;
    }
    sqlite3_reset (stmt);
    if (rc != SQLITE_DONE) {
      _sg_store_set_error (store, error, "activity summary");
      return FALSE;
    }
  }
  if (a->n_total == 0) {
    stmt = _sg_store_prepare (store, "DELETE FROM org_summary WHERE org_id = ?", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, a->id);
    return _sg_store_exec_stmt (store, stmt, error);
  }
  stmt = _sg_store_prepare (store,
    "INSERT OR REPLACE INTO org_summary (org_id, n_total, n_in, n_out, n_meetings, first_at, last_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, a->id);
  sqlite3_bind_int64 (stmt, 2, a->n_total);
  sqlite3_bind_int64 (stmt, 3, a->n_in);
  sqlite3_bind_int64 (stmt, 4, a->n_out);
  sqlite3_bind_int64 (stmt, 5, a->n_meetings);
  sqlite3_bind_int64 (stmt, 6, a->first);
  sqlite3_bind_int64 (stmt, 7, a->last);
  return _sg_store_exec_stmt (store, stmt, error);
}

static gboolean
write_all (SgStore *store, GHashTable *table, gboolean person, gboolean merge, GError **error)
{
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, table);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (!(person ? write_person (store, value, merge, error) : write_org (store, value, merge, error)))
      return FALSE;
  return TRUE;
}

static gint64
max_interaction (SgStore *store)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store, "SELECT coalesce(max(id), 0) FROM interactions", NULL);
  gint64 max = 0;

  if (stmt == NULL)
    return -1;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    max = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return max;
}

static gboolean
any_dirty (SgStore *store)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store, "SELECT EXISTS (SELECT 1 FROM summary_dirty)", NULL);
  gboolean dirty = FALSE;

  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    dirty = sqlite3_column_int (stmt, 0) != 0;
  sqlite3_reset (stmt);
  return dirty;
}

gboolean
_sg_summary_is_behind (SgStore *store)
{
  gint64 done = sg_store_get_meta_int (store, "summary_interaction_id", -1);

  return done >= 0 && (max_interaction (store) != done || any_dirty (store));
}

/* Recomputes the summary of one person or organisation from all its interactions. */
static gboolean
recompute (SgStore *store, gboolean person, gint64 id, GError **error)
{
  g_autoptr (GHashTable) table = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, acc_free);
  sqlite3_stmt *stmt;

  stmt = _sg_store_prepare (store, person
    ? FOLD_SELECT "WHERE p.id = ?1 AND p.kind = 'contact' ORDER BY i.id"
    : FOLD_SELECT "WHERE p.org_id = ?1 AND o.id = ?1 AND p.kind = 'contact' ORDER BY i.id", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  if (!fold (store, stmt, person ? table : NULL, person ? NULL : table, error))
    return FALSE;
  if (g_hash_table_size (table) == 0)
    acc_get (table, id, person); /* nothing left: the row goes */
  return write_all (store, table, person, FALSE, error);
}

gboolean
_sg_summary_update (SgStore *store, GError **error)
{
  gint64 done = sg_store_get_meta_int (store, "summary_interaction_id", -1);
  gint64 max;

  if (done < 0) /* a store this build made before the summaries: nothing to keep */
    return TRUE;
  max = max_interaction (store);
  if (max < 0) {
    _sg_store_set_error (store, error, "activity summary");
    return FALSE;
  }
  if (max > done) {
    g_autoptr (GHashTable) people = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, acc_free);
    g_autoptr (GHashTable) orgs = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, acc_free);
    /* Interactions first, by id from the mark (CROSS JOIN fixes the order: with statistics
     * the planner may otherwise scan every person, at every commit). */
    sqlite3_stmt *stmt = _sg_store_prepare (store,
      "SELECT i.id, i.kind = 'meeting', i.direction = 'in', i.bulk, i.date_utc, p.id, o.id "
      "FROM interactions i CROSS JOIN participants pa ON pa.interaction_id = i.id "
      "CROSS JOIN addresses a ON a.id = pa.address_id CROSS JOIN people p ON p.id = a.person_id "
      "LEFT JOIN organisations o ON o.id = p.org_id AND o.kind = 'external' "
      "WHERE i.id > ?1 AND p.kind = 'contact' ORDER BY i.id", error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, done);
    if (!fold (store, stmt, people, orgs, error) || !write_all (store, people, TRUE, TRUE, error) ||
        !write_all (store, orgs, FALSE, TRUE, error))
      return FALSE;
  }
  if (max != done && !sg_store_set_meta_int (store, "summary_interaction_id", max, error))
    return FALSE;
  if (any_dirty (store)) {
    g_autoptr (GArray) kinds = g_array_new (FALSE, FALSE, sizeof (gboolean));
    g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
    sqlite3_stmt *stmt = _sg_store_prepare (store, "SELECT DISTINCT kind = 'person', id FROM summary_dirty", error);
    int rc;

    if (stmt == NULL)
      return FALSE;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
      gboolean person = sqlite3_column_int (stmt, 0) != 0;
      gint64 id = sqlite3_column_int64 (stmt, 1);

      g_array_append_val (kinds, person);
      g_array_append_val (ids, id);
    }
    sqlite3_reset (stmt);
    if (rc != SQLITE_DONE) {
      _sg_store_set_error (store, error, "activity summary");
      return FALSE;
    }
    stmt = _sg_store_prepare (store, "DELETE FROM summary_dirty", error);
    if (stmt == NULL || !_sg_store_exec_stmt (store, stmt, error))
      return FALSE;
    for (guint i = 0; i < ids->len; i++)
      if (!recompute (store, g_array_index (kinds, gboolean, i), g_array_index (ids, gint64, i), error))
        return FALSE;
  }
  return TRUE;
}

gboolean
sg_store_rebuild_summaries (SgStore *store, GError **error)
{
  sqlite3_stmt *stmt;

  g_return_val_if_fail (store != NULL, FALSE);
  if (!sg_store_begin (store, error))
    return FALSE;
  stmt = _sg_store_prepare (store, "DELETE FROM person_summary", error);
  if (stmt == NULL || !_sg_store_exec_stmt (store, stmt, error))
    goto fail;
  stmt = _sg_store_prepare (store, "DELETE FROM org_summary", error);
  if (stmt == NULL || !_sg_store_exec_stmt (store, stmt, error))
    goto fail;
  stmt = _sg_store_prepare (store, "DELETE FROM summary_dirty", error);
  if (stmt == NULL || !_sg_store_exec_stmt (store, stmt, error))
    goto fail;
  if (!sg_store_set_meta_int (store, "summary_interaction_id", 0, error))
    goto fail;
  return sg_store_commit (store, error); /* the commit folds everything in */

fail:
  sg_store_rollback (store);
  return FALSE;
}
