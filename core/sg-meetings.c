/* sg-meetings.c: occurrences of meetings in a window, recurrences expanded with libical. */
#include "config.h"

#include "sg-ical.h"
#include "sg-identity.h"
#include "sg-private.h"

#include <libical/ical.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  gint64 start, end;
  guint row;
  char *rid; /* nullable: the series' own start for a single meeting */
} Occurrence;

typedef struct {
  gint64 id;
  char *uid, *rid, *summary, *organizer, *orgs, *status, *tags, *tz, *location;
  gint64 attendees, interaction_id;
  gboolean all_day, recurring;
} Row;

static void
row_clear (gpointer p)
{
  Row *r = p;

  g_free (r->uid);
  g_free (r->rid);
  g_free (r->summary);
  g_free (r->organizer);
  g_free (r->orgs);
  g_free (r->status);
  g_free (r->tags);
  g_free (r->tz);
  g_free (r->location);
}

static void
occurrence_clear (gpointer p)
{
  g_free (((Occurrence *) p)->rid);
}

static char *
col_dup (sqlite3_stmt *stmt, int i)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, i));
}

/* "20260402T070000Z" (or "20260402"): one per occurrence, so gmtime_r rather than a
 * GDateTime. */
static char *
utc_key (gint64 t, gboolean is_date)
{
  time_t tt = (time_t) t;
  struct tm tm;

  if (gmtime_r (&tt, &tm) == NULL)
    return g_strdup ("0");
  if (is_date)
    return g_strdup_printf ("%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return g_strdup_printf ("%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                          tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static gint64
key_to_utc (const char *key)
{
  struct icaltimetype t = icaltime_from_string (key);

  if (icaltime_is_null_time (t))
    return G_MININT64;
  return (gint64) icaltime_as_timet_with_zone (t, icaltimezone_get_utc_timezone ());
}

/* A set of UTC times from a space-separated list of keys. */
static GHashTable *
time_set (const char *list)
{
  GHashTable *set = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_auto (GStrv) parts = list ? g_strsplit (list, " ", -1) : NULL;

  for (guint i = 0; parts && parts[i]; i++) {
    gint64 *t = g_new (gint64, 1);

    *t = key_to_utc (parts[i]);
    g_hash_table_add (set, t);
  }
  return set;
}

typedef struct {
  GHashTable *zones;     /* VTIMEZONE text -> icaltimezone (owned) */
  GHashTable *overrides; /* uid -> set of the UTC times of its overridden instances */
} Ctx;

static void
zone_free (gpointer z)
{
  icaltimezone_free (z, 1);
}

static icaltimezone *
zone_of (Ctx *ctx, const char *tz, const char *vtimezone)
{
  icaltimezone *z;
  icalcomponent *c;

  if (tz != NULL)
    return icaltimezone_get_builtin_timezone (tz);
  if (vtimezone == NULL)
    return NULL;
  z = g_hash_table_lookup (ctx->zones, vtimezone);
  if (z != NULL)
    return z;
  c = icalparser_parse_string (vtimezone);
  if (c == NULL)
    return NULL;
  z = icaltimezone_new ();
  if (!icaltimezone_set_component (z, c)) {
    icalcomponent_free (c);
    icaltimezone_free (z, 1);
    return NULL;
  }
  g_hash_table_insert (ctx->zones, g_strdup (vtimezone), z);
  return z;
}


static void
add_occurrence (GArray *out, guint row, gint64 start, gint64 end, gboolean all_day)
{
  Occurrence o = { start, end, row, utc_key (start, all_day) };

  g_array_append_val (out, o);
}

/* Expands one series into @out, within [@from, @to), bounded. */
static void
expand_series (Ctx *ctx, sqlite3_stmt *stmt, guint row, const Row *r, gint64 from, gint64 to, GArray *out)
{
  const char *dtstart_local = (const char *) sqlite3_column_text (stmt, 10);
  const char *rrule = (const char *) sqlite3_column_text (stmt, 11);
  const char *rdates = (const char *) sqlite3_column_text (stmt, 12);
  const char *exdates = (const char *) sqlite3_column_text (stmt, 13);
  gint64 start = sqlite3_column_int64 (stmt, 5), end = sqlite3_column_int64 (stmt, 6);
  gint64 duration = MAX (0, end - start);
  icaltimezone *zone = zone_of (ctx, (const char *) sqlite3_column_text (stmt, 8),
                                (const char *) sqlite3_column_text (stmt, 9));
  g_autoptr (GHashTable) ex = time_set (exdates);
  GHashTable *overridden = g_hash_table_lookup (ctx->overrides, r->uid); /* nullable */
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  guint added = 0;

#define CONSIDER(s)                                                                              \
  do {                                                                                           \
    gint64 s_ = (s);                                                                             \
    if (s_ < to && s_ + duration > from - (duration == 0 ? 1 : 0) && !g_hash_table_contains (ex, &s_) && \
        !g_hash_table_contains (seen, &s_) && !(overridden && g_hash_table_contains (overridden, &s_))) { \
      gint64 *k_ = g_new (gint64, 1);                                                            \
      *k_ = s_;                                                                                  \
      g_hash_table_add (seen, k_);                                                               \
      add_occurrence (out, row, s_, s_ + duration, r->all_day);                                  \
      added++;                                                                                   \
    }                                                                                            \
  } while (0)

  if (rrule != NULL && dtstart_local != NULL) {
    struct icalrecurrencetype rule = icalrecurrencetype_from_string (rrule);
    struct icaltimetype dt = icaltime_from_string (dtstart_local);
    icalrecur_iterator *it;

    if (rule.freq != ICAL_NO_RECURRENCE && !icaltime_is_null_time (dt)) {
      gboolean utc = icaltime_is_utc (dt);

      if (!utc && !dt.is_date && zone != NULL)
        dt = icaltime_set_timezone (&dt, zone);
      it = icalrecur_iterator_new (rule, dt);
      /* A rule without COUNT can start at the window rather than at DTSTART: a daily
       * meeting begun ten years ago (or a FREQ=SECONDLY one) costs what its window holds.
       * With COUNT every instance from DTSTART counts, and COUNT bounds the walk. */
      if (it != NULL && rule.count == 0 && from - duration > start) {
        icaltimezone *z = (utc || dt.is_date || zone == NULL) ? icaltimezone_get_utc_timezone () : zone;
        struct icaltimetype from_t = icaltime_from_timet_with_zone ((time_t) (from - duration), dt.is_date, z);

        icalrecur_iterator_set_start (it, from_t);
      }
      for (guint n = 0; it != NULL && n < SG_MEETINGS_MAX_ITERATIONS && added < SG_MEETINGS_MAX_INSTANCES; n++) {
        struct icaltimetype t = icalrecur_iterator_next (it);
        gint64 s;

        if (icaltime_is_null_time (t))
          break;
        s = (gint64) icaltime_as_timet_with_zone (
            t, (utc || t.is_date || zone == NULL) ? icaltimezone_get_utc_timezone () : zone);
        if (s >= to)
          break;
        CONSIDER (s);
      }
      if (it != NULL)
        icalrecur_iterator_free (it);
    } else {
      CONSIDER (start);
    }
    /* libical 3.0 strdup()s an RSCALE and leaves it to the caller (the iterator does not
     * own it). */
    free (rule.rscale);
  } else {
    CONSIDER (start);
  }
  if (rdates != NULL) {
    g_auto (GStrv) parts = g_strsplit (rdates, " ", -1);

    for (guint i = 0; parts[i] && added < SG_MEETINGS_MAX_INSTANCES; i++)
      CONSIDER (key_to_utc (parts[i]));
  }
#undef CONSIDER
}

static gint64
org_id_for (SgStore *store, const char *domain, GError **error)
{
  g_autofree char *down = g_utf8_strdown (domain, -1);
  g_autofree char *reg = NULL;
  sqlite3_stmt *stmt;
  gint64 id = 0;

  g_strstrip (down);
  reg = sg_domain_get_registrable (down);
  stmt = _sg_store_prepare (store,
      "SELECT org_id FROM org_domains WHERE domain = ?1 OR domain = ?2 ORDER BY domain = ?1 DESC", error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, down, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, reg ? reg : down, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (id == 0)
    g_set_error (error, SG_STORE_ERROR, SG_STORE_ERROR_NOT_FOUND,
                 "“%s” is not an organisation in the store (give a domain that was imported)", domain);
  return id == 0 ? -1 : id;
}

static int
compare_occurrences (gconstpointer a, gconstpointer b)
{
  const Occurrence *x = a, *y = b;

  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  return x->row < y->row ? -1 : x->row > y->row;
}

SgTable *
sg_meetings_list (SgStore *store, const SgMeetingFilter *filter, GError **error)
{
  static const char sql[] =
    "SELECT m.id, m.uid, m.recurrence_id, m.recurrence_utc, m.summary, m.start_utc, m.end_utc, m.all_day, "
    "  m.tz, m.vtimezone, m.dtstart_local, m.rrule, m.rdates, m.exdates, m.status, m.location, "
    "  coalesce(m.interaction_id, 0), coalesce(m.tz, m.tzid), "
    "  (SELECT coalesce(p.name, ma.display_name, a.address) FROM meeting_attendees ma "
    "     JOIN addresses a ON a.id = ma.address_id LEFT JOIN people p ON p.id = a.person_id "
    "     WHERE ma.meeting_id = m.id AND ma.role = 'organizer'), "
    "  (SELECT group_concat(domain, ', ') FROM (SELECT DISTINCT o.domain FROM meeting_attendees ma "
    "     JOIN addresses a ON a.id = ma.address_id JOIN org_domains d ON d.domain = a.org_domain "
    "     JOIN organisations o ON o.id = d.org_id WHERE ma.meeting_id = m.id AND o.kind = 'external' "
    "     ORDER BY o.domain)), "
    "  (SELECT count(*) FROM meeting_attendees WHERE meeting_id = m.id), "
    "  (SELECT group_concat(name, ', ') FROM (SELECT DISTINCT t.name FROM tag_assignments ta "
    "     JOIN tags t ON t.id = ta.tag_id WHERE ta.entity_type = 'interaction' AND ta.removed = 0 "
    "     AND ta.entity_id IN (m.interaction_id, (SELECT s.interaction_id FROM meetings s "
    "       WHERE s.uid = m.uid AND s.recurrence_id = '')) ORDER BY t.name)) "
    "FROM meetings m "
    "WHERE m.start_utc < ?2 "
    "  AND ((m.recurrence_id = '' AND (m.rrule IS NOT NULL OR m.rdates IS NOT NULL)) "
    "       OR m.end_utc > ?1 OR m.start_utc >= ?1) "
    "  AND (?3 OR m.status != 'cancelled') "
    "  AND (?4 = 0 OR EXISTS (SELECT 1 FROM meeting_attendees ma JOIN addresses a ON a.id = ma.address_id "
    "       JOIN org_domains d ON d.domain = a.org_domain WHERE ma.meeting_id = m.id AND d.org_id = ?4)) "
    "  AND (?5 IS NULL OR EXISTS (SELECT 1 FROM tag_assignments ta JOIN tags t ON t.id = ta.tag_id "
    "       WHERE t.name = ?5 AND ta.entity_type = 'interaction' AND ta.removed = 0 "
    "       AND ta.entity_id IN (m.interaction_id, (SELECT s.interaction_id FROM meetings s "
    "         WHERE s.uid = m.uid AND s.recurrence_id = ''))))";
  g_autoptr (GArray) rows = g_array_new (FALSE, TRUE, sizeof (Row));
  g_autoptr (GArray) occ = g_array_new (FALSE, TRUE, sizeof (Occurrence));
  Ctx ctx;
  sqlite3_stmt *stmt;
  gint64 org = 0;
  SgTable *t;
  int rc;

  g_return_val_if_fail (store != NULL && filter != NULL, NULL);
  g_array_set_clear_func (rows, row_clear);
  g_array_set_clear_func (occ, occurrence_clear);
  if (filter->org != NULL && (org = org_id_for (store, filter->org, error)) < 0)
    return NULL;

  ctx.zones = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, zone_free);
  ctx.overrides = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_hash_table_unref);
  stmt = _sg_store_prepare (store, "SELECT uid, recurrence_utc FROM meetings WHERE recurrence_id != ''", error);
  if (stmt == NULL)
    goto fail;
  while (sqlite3_step (stmt) == SQLITE_ROW) {
    const char *uid = (const char *) sqlite3_column_text (stmt, 0);
    GHashTable *set = g_hash_table_lookup (ctx.overrides, uid);
    gint64 *when = g_new (gint64, 1);

    if (set == NULL) {
      set = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
      g_hash_table_insert (ctx.overrides, g_strdup (uid), set);
    }
    *when = sqlite3_column_int64 (stmt, 1);
    g_hash_table_add (set, when);
  }
  sqlite3_reset (stmt);

  stmt = _sg_store_prepare (store, sql, error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, filter->from);
  sqlite3_bind_int64 (stmt, 2, filter->to);
  sqlite3_bind_int (stmt, 3, filter->with_cancelled);
  sqlite3_bind_int64 (stmt, 4, org);
  if (filter->tag)
    sqlite3_bind_text (stmt, 5, filter->tag, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    Row r = { 0 };
    guint index = rows->len;
    const char *rid = (const char *) sqlite3_column_text (stmt, 2);

    r.id = sqlite3_column_int64 (stmt, 0);
    r.uid = col_dup (stmt, 1);
    r.rid = col_dup (stmt, 2);
    r.summary = col_dup (stmt, 4);
    r.all_day = sqlite3_column_int (stmt, 7);
    r.status = col_dup (stmt, 14);
    r.location = col_dup (stmt, 15);
    r.interaction_id = sqlite3_column_int64 (stmt, 16);
    r.tz = col_dup (stmt, 17);
    r.organizer = col_dup (stmt, 18);
    r.orgs = col_dup (stmt, 19);
    r.attendees = sqlite3_column_int64 (stmt, 20);
    r.tags = col_dup (stmt, 21);
    r.recurring = *rid == '\0' && (sqlite3_column_type (stmt, 11) != SQLITE_NULL ||
                                   sqlite3_column_type (stmt, 12) != SQLITE_NULL);
    g_array_append_val (rows, r);
    if (r.recurring) {
      expand_series (&ctx, stmt, index, &g_array_index (rows, Row, index), filter->from, filter->to, occ);
    } else {
      gint64 s = sqlite3_column_int64 (stmt, 5), e = sqlite3_column_int64 (stmt, 6);
      Occurrence o = { s, e, index, *rid ? g_strdup (rid) : NULL };

      g_array_append_val (occ, o);
    }
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "meetings");
    goto fail;
  }
  g_hash_table_unref (ctx.zones);
  g_hash_table_unref (ctx.overrides);

  g_array_sort (occ, compare_occurrences);
  t = sg_table_new ();
  sg_table_add_column (t, "start", SG_COLUMN_TIME, 0);
  sg_table_add_column (t, "end", SG_COLUMN_TIME, 0);
  sg_table_add_column (t, "summary", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "organizer", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "orgs", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "attendees", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "status", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "tags", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "uid", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "recurrence_id", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "all_day", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "tz", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "location", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "recurring", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "interaction_id", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  for (guint i = 0; i < occ->len; i++) {
    const Occurrence *o = &g_array_index (occ, Occurrence, i);
    const Row *r = &g_array_index (rows, Row, o->row);

    sg_table_append_row (t);
    sg_table_set_int (t, 0, o->start);
    sg_table_set_int (t, 1, o->end);
    sg_table_set_text (t, 2, r->summary);
    sg_table_set_text (t, 3, r->organizer);
    sg_table_set_text (t, 4, r->orgs);
    sg_table_set_int (t, 5, r->attendees);
    sg_table_set_text (t, 6, r->status);
    sg_table_set_text (t, 7, r->tags);
    sg_table_set_text (t, 8, r->uid);
    sg_table_set_text (t, 9, o->rid);
    sg_table_set_int (t, 10, r->all_day);
    sg_table_set_text (t, 11, r->tz);
    sg_table_set_text (t, 12, r->location);
    sg_table_set_int (t, 13, r->recurring || *r->rid);
    if (r->interaction_id)
      sg_table_set_int (t, 14, r->interaction_id);
  }
  return t;

fail:
  g_hash_table_unref (ctx.zones);
  g_hash_table_unref (ctx.overrides);
  return NULL;
}
