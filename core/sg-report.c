/* sg-report.c: reports for sales management (see sg-report.h). Each report is one
 * aggregate statement over the processes that pass the filter; filters are bound
 * parameters (?1 owner, ?2 pipeline, ?3 from, ?4 to), never pasted. */
#include "config.h"

#include "sg-report.h"

#include "sg-identity.h"
#include "sg-process.h"
#include "sg-process-private.h"

G_DEFINE_QUARK (sg-report-error-quark, sg_report_error)

static const char *const names[] = { "managers", "stages", "sources", "closing", "requests", "notes", NULL };

const char *const *
sg_report_names (void)
{
  return names;
}

/* The processes passing the filter. */
#define FILTERED                                                                                   \
  "SELECT p.* FROM processes p JOIN pipelines pl ON pl.id = p.pipeline_id "                        \
  "WHERE (?1 IS NULL OR p.account_manager = ?1) AND (?2 IS NULL OR pl.name = ?2) "                \
  "AND (?3 = 0 OR p.opened_at >= ?3) AND (?4 = 0 OR p.opened_at < ?4)"

/* "66.7%" or "n/a"; the value (or NULL) in the detail column. */
static void
set_ratio (SgTable *t, guint text_col, guint value_col, gint64 num, gint64 den)
{
  if (den == 0) {
    sg_table_set_text (t, text_col, "n/a");
    return;
  }
  sg_table_take_text (t, text_col, g_strdup_printf ("%.1f%%", 100.0 * (double) num / (double) den));
  sg_table_set_real (t, value_col, (double) num / (double) den);
}

static void
set_money (SgTable *t, guint col, gint64 minor, const char *currency)
{
  g_autofree char *amount = sg_money_format (minor, currency);

  sg_table_take_text (t, col, currency ? g_strdup_printf ("%s %s", amount, currency) : g_steal_pointer (&amount));
}

static void
bind_filter (sqlite3_stmt *stmt, const SgReportFilter *f, const char *owner)
{
  sqlite3_bind_text (stmt, 1, owner, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, f->pipeline, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, f->from);
  sqlite3_bind_int64 (stmt, 4, f->to);
}

static SgTable *
report_managers (SgStore *store, const SgReportFilter *f, const char *owner, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
    "SELECT account_manager, currency, count(*), sum(status = 'open'), sum(status = 'won'), sum(status = 'lost'), "
    "  coalesce(sum(CASE WHEN status = 'won' THEN value_minor END), 0), sum(cost_minor) "
    "FROM (" FILTERED ") GROUP BY account_manager, currency ORDER BY account_manager IS NULL, account_manager, currency",
    error);
  SgTable *t;
  int rc;

  if (stmt == NULL)
    return NULL;
  bind_filter (stmt, f, owner);
  t = sg_table_new ();
  sg_table_add_column (t, "account_manager", SG_COLUMN_TEXT, 0);      /* 0 */
  sg_table_add_column (t, "currency", SG_COLUMN_TEXT, 0);             /* 1 */
  sg_table_add_column (t, "processes", SG_COLUMN_INT, 0);             /* 2 */
  sg_table_add_column (t, "open", SG_COLUMN_INT, 0);                  /* 3 */
  sg_table_add_column (t, "won", SG_COLUMN_INT, 0);                   /* 4 */
  sg_table_add_column (t, "lost", SG_COLUMN_INT, 0);                  /* 5 */
  sg_table_add_column (t, "closing_ratio", SG_COLUMN_TEXT, 0);        /* 6 */
  sg_table_add_column (t, "won_value", SG_COLUMN_TEXT, 0);            /* 7 */
  sg_table_add_column (t, "avg_cost", SG_COLUMN_TEXT, 0);             /* 8 */
  sg_table_add_column (t, "closing_ratio_value", SG_COLUMN_REAL, SG_COLUMN_FLAG_DETAIL); /* 9 */
  sg_table_add_column (t, "won_value_minor", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);      /* 10 */
  sg_table_add_column (t, "total_cost_minor", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);     /* 11 */
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    const char *cur = _SG_COL_TEXT (stmt, 1);
    gint64 n = sqlite3_column_int64 (stmt, 2), won = sqlite3_column_int64 (stmt, 4);
    gint64 lost = sqlite3_column_int64 (stmt, 5), value = sqlite3_column_int64 (stmt, 6);
    gint64 cost = sqlite3_column_int64 (stmt, 7);

    sg_table_append_row (t);
    sg_table_set_text (t, 0, _SG_COL_TEXT (stmt, 0) ? _SG_COL_TEXT (stmt, 0) : "(none)");
    sg_table_set_text (t, 1, cur);
    sg_table_set_int (t, 2, n);
    sg_table_set_int (t, 3, sqlite3_column_int64 (stmt, 3));
    sg_table_set_int (t, 4, won);
    sg_table_set_int (t, 5, lost);
    set_ratio (t, 6, 9, won, won + lost);
    set_money (t, 7, value, cur);
    /* Rounded half away from zero, in minor units. */
    set_money (t, 8, n > 0 ? (cost + n / 2) / n : 0, cur);
    sg_table_set_int (t, 10, value);
    sg_table_set_int (t, 11, cost);
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "report");
    sg_table_free (t);
    return NULL;
  }
  return t;
}

static SgTable *
report_stages (SgStore *store, const SgReportFilter *f, const char *owner, GError **error)
{
  SgReportFilter g = *f;
  sqlite3_stmt *stmt;
  SgTable *t;
  int rc;

  if (g.pipeline == NULL)
    g.pipeline = "default";
  stmt = _sg_store_prepare (store,
    "WITH ps AS (" FILTERED "), "
    "reached AS (SELECT sh.to_stage AS stage, count(DISTINCT sh.process_id) AS n FROM stage_history sh "
    "  JOIN ps ON ps.id = sh.process_id GROUP BY sh.to_stage), "
    "lost AS (SELECT sh.from_stage AS stage, count(*) AS n FROM ps JOIN stage_history sh ON sh.id = "
    "  (SELECT c.id FROM stage_history c WHERE c.process_id = ps.id AND c.event = 'close' "
    "   ORDER BY " SG_HISTORY_ORDER ("c") " DESC LIMIT 1) "
    "  WHERE ps.status = 'lost' GROUP BY sh.from_stage), "
    /* Time in stage: each stay from its history entry to the process's next one; stays not
     * over yet are left out (they would shorten the average of a young pipeline). */
    "stays AS (SELECT sh.to_stage AS stage, lead(sh.moved_at) OVER (PARTITION BY sh.process_id ORDER BY " SG_HISTORY_ORDER ("sh") ") "
    "  - sh.moved_at AS secs FROM stage_history sh JOIN ps ON ps.id = sh.process_id), "
    "timed AS (SELECT stage, avg(secs) AS secs, count(secs) AS n FROM stays WHERE secs IS NOT NULL GROUP BY stage) "
    "SELECT s.name, s.position, s.kind, coalesce(r.n, 0), "
    "  (SELECT count(*) FROM ps WHERE ps.stage_id = s.id AND ps.status = 'open'), coalesce(l.n, 0), "
    "  tm.secs / 86400.0, coalesce(tm.n, 0) "
    "FROM stages s JOIN pipelines pl ON pl.id = s.pipeline_id "
    "LEFT JOIN reached r ON r.stage = s.name LEFT JOIN lost l ON l.stage = s.name "
    "LEFT JOIN timed tm ON tm.stage = s.name "
    "WHERE pl.name = ?2 AND (s.retired = 0 OR r.n > 0) ORDER BY s.position", error);
  if (stmt == NULL)
    return NULL;
  bind_filter (stmt, &g, owner);
  t = sg_table_new ();
  sg_table_add_column (t, "stage", SG_COLUMN_TEXT, 0);     /* 0 */
  sg_table_add_column (t, "position", SG_COLUMN_INT, 0);   /* 1 */
  sg_table_add_column (t, "kind", SG_COLUMN_TEXT, 0);      /* 2 */
  sg_table_add_column (t, "entered", SG_COLUMN_INT, 0);    /* 3 */
  sg_table_add_column (t, "in_stage", SG_COLUMN_INT, 0);   /* 4 */
  sg_table_add_column (t, "lost_here", SG_COLUMN_INT, 0);  /* 5 */
  sg_table_add_column (t, "drop_off", SG_COLUMN_TEXT, 0);  /* 6 */
  sg_table_add_column (t, "drop_off_value", SG_COLUMN_REAL, SG_COLUMN_FLAG_DETAIL); /* 7 */
  sg_table_add_column (t, "avg_days", SG_COLUMN_TEXT, 0);  /* 8: time in stage, completed stays */
  sg_table_add_column (t, "avg_days_value", SG_COLUMN_REAL, SG_COLUMN_FLAG_DETAIL); /* 9 */
  sg_table_add_column (t, "stays", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);          /* 10 */
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    gint64 entered = sqlite3_column_int64 (stmt, 3), lost = sqlite3_column_int64 (stmt, 5);

    sg_table_append_row (t);
    sg_table_set_text (t, 0, _SG_COL_TEXT (stmt, 0));
    sg_table_set_int (t, 1, sqlite3_column_int64 (stmt, 1));
    sg_table_set_text (t, 2, _SG_COL_TEXT (stmt, 2));
    sg_table_set_int (t, 3, entered);
    sg_table_set_int (t, 4, sqlite3_column_int64 (stmt, 4));
    sg_table_set_int (t, 5, lost);
    set_ratio (t, 6, 7, lost, entered);
    if (sqlite3_column_type (stmt, 6) == SQLITE_NULL) {
      sg_table_set_text (t, 8, "n/a");
    } else {
      sg_table_take_text (t, 8, g_strdup_printf ("%.1f", sqlite3_column_double (stmt, 6)));
      sg_table_set_real (t, 9, sqlite3_column_double (stmt, 6));
    }
    sg_table_set_int (t, 10, sqlite3_column_int64 (stmt, 7));
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "report");
    sg_table_free (t);
    return NULL;
  }
  return t;
}

static SgTable *
report_sources (SgStore *store, const SgReportFilter *f, const char *owner, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
    "WITH ps AS (" FILTERED ") "
    "SELECT ls.name, ls.kind, ps.currency, "
    "  (SELECT count(*) FROM person_lead_sources pls WHERE pls.lead_source_id = ls.id "
    "     AND (?3 = 0 OR pls.added_at >= ?3) AND (?4 = 0 OR pls.added_at < ?4)), "
    "  count(ps.id), coalesce(sum(ps.status = 'won'), 0), coalesce(sum(ps.status = 'lost'), 0), "
    "  coalesce(sum(CASE WHEN ps.status = 'won' THEN ps.value_minor END), 0) "
    "FROM lead_sources ls LEFT JOIN ps ON ps.lead_source_id = ls.id "
    "GROUP BY ls.id, ps.currency ORDER BY ls.name, ps.currency", error);
  SgTable *t;
  int rc;

  if (stmt == NULL)
    return NULL;
  bind_filter (stmt, f, owner);
  t = sg_table_new ();
  sg_table_add_column (t, "source", SG_COLUMN_TEXT, 0);        /* 0 */
  sg_table_add_column (t, "kind", SG_COLUMN_TEXT, 0);          /* 1 */
  sg_table_add_column (t, "currency", SG_COLUMN_TEXT, 0);      /* 2 */
  sg_table_add_column (t, "leads", SG_COLUMN_INT, 0);          /* 3 */
  sg_table_add_column (t, "processes", SG_COLUMN_INT, 0);      /* 4 */
  sg_table_add_column (t, "won", SG_COLUMN_INT, 0);            /* 5 */
  sg_table_add_column (t, "lost", SG_COLUMN_INT, 0);           /* 6 */
  sg_table_add_column (t, "closing_ratio", SG_COLUMN_TEXT, 0); /* 7 */
  sg_table_add_column (t, "revenue", SG_COLUMN_TEXT, 0);       /* 8 */
  sg_table_add_column (t, "closing_ratio_value", SG_COLUMN_REAL, SG_COLUMN_FLAG_DETAIL); /* 9 */
  sg_table_add_column (t, "revenue_minor", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);        /* 10 */
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    const char *cur = _SG_COL_TEXT (stmt, 2);
    gint64 won = sqlite3_column_int64 (stmt, 5), lost = sqlite3_column_int64 (stmt, 6);
    gint64 value = sqlite3_column_int64 (stmt, 7);

    sg_table_append_row (t);
    sg_table_set_text (t, 0, _SG_COL_TEXT (stmt, 0));
    sg_table_set_text (t, 1, _SG_COL_TEXT (stmt, 1));
    sg_table_set_text (t, 2, cur);
    sg_table_set_int (t, 3, sqlite3_column_int64 (stmt, 3));
    sg_table_set_int (t, 4, sqlite3_column_int64 (stmt, 4));
    sg_table_set_int (t, 5, won);
    sg_table_set_int (t, 6, lost);
    set_ratio (t, 7, 9, won, won + lost);
    set_money (t, 8, value, cur);
    sg_table_set_int (t, 10, value);
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "report");
    sg_table_free (t);
    return NULL;
  }
  return t;
}

/* Closing ratios per deliverable kind (product/service), deliverable type and customer type
 * (the organisation's industry), per currency. */
static SgTable *
report_closing (SgStore *store, const SgReportFilter *f, const char *owner, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
    "WITH ps AS (" FILTERED ") "
    "SELECT dim, val, currency, count(*), sum(status = 'won'), sum(status = 'lost'), "
    "  coalesce(sum(CASE WHEN status = 'won' THEN value_minor END), 0) FROM ("
    "  SELECT 'deliverable_kind' AS dim, 1 AS o, deliverable_kind AS val, currency, status, value_minor FROM ps "
    "  UNION ALL SELECT 'deliverable_type', 2, deliverable_type, currency, status, value_minor FROM ps "
    "  UNION ALL SELECT 'industry', 3, o.industry, ps.currency, ps.status, ps.value_minor FROM ps "
    "    JOIN organisations o ON o.id = ps.org_id) "
    "GROUP BY o, dim, val, currency ORDER BY o, val IS NULL, val, currency", error);
  SgTable *t;
  int rc;

  if (stmt == NULL)
    return NULL;
  bind_filter (stmt, f, owner);
  t = sg_table_new ();
  sg_table_add_column (t, "by", SG_COLUMN_TEXT, 0);            /* 0 */
  sg_table_add_column (t, "value", SG_COLUMN_TEXT, 0);         /* 1 */
  sg_table_add_column (t, "currency", SG_COLUMN_TEXT, 0);      /* 2 */
  sg_table_add_column (t, "processes", SG_COLUMN_INT, 0);      /* 3 */
  sg_table_add_column (t, "won", SG_COLUMN_INT, 0);            /* 4 */
  sg_table_add_column (t, "lost", SG_COLUMN_INT, 0);           /* 5 */
  sg_table_add_column (t, "closing_ratio", SG_COLUMN_TEXT, 0); /* 6 */
  sg_table_add_column (t, "won_value", SG_COLUMN_TEXT, 0);     /* 7 */
  sg_table_add_column (t, "closing_ratio_value", SG_COLUMN_REAL, SG_COLUMN_FLAG_DETAIL); /* 8 */
  sg_table_add_column (t, "won_value_minor", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);      /* 9 */
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    const char *cur = _SG_COL_TEXT (stmt, 2);
    gint64 won = sqlite3_column_int64 (stmt, 4), lost = sqlite3_column_int64 (stmt, 5);

    sg_table_append_row (t);
    sg_table_set_text (t, 0, _SG_COL_TEXT (stmt, 0));
    sg_table_set_text (t, 1, _SG_COL_TEXT (stmt, 1) ? _SG_COL_TEXT (stmt, 1) : "(none)");
    sg_table_set_text (t, 2, cur);
    sg_table_set_int (t, 3, sqlite3_column_int64 (stmt, 3));
    sg_table_set_int (t, 4, won);
    sg_table_set_int (t, 5, lost);
    set_ratio (t, 6, 8, won, won + lost);
    set_money (t, 7, sqlite3_column_int64 (stmt, 6), cur);
    sg_table_set_int (t, 9, sqlite3_column_int64 (stmt, 6));
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "report");
    sg_table_free (t);
    return NULL;
  }
  return t;
}

/* Unfulfilled requests by category and organisation (the period filters requested_at; the
 * owner and pipeline filters do not apply: a request needs no process). */
static SgTable *
report_requests (SgStore *store, const SgReportFilter *f, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
    "SELECT r.category, coalesce(o.name, o.domain), o.domain, count(*), max(r.requested_at), "
    "  (SELECT what FROM unfulfilled_requests r2 WHERE r2.category = r.category AND r2.org_id = r.org_id "
    "   ORDER BY r2.requested_at DESC, r2.id DESC LIMIT 1) "
    "FROM unfulfilled_requests r JOIN organisations o ON o.id = r.org_id "
    "WHERE (?1 = 0 OR r.requested_at >= ?1) AND (?2 = 0 OR r.requested_at < ?2) "
    "GROUP BY r.category, r.org_id ORDER BY r.category, count(*) DESC, o.domain", error);
  SgTable *t;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, f->from);
  sqlite3_bind_int64 (stmt, 2, f->to);
  t = sg_table_new ();
  sg_table_add_column (t, "category", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "organisation", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "domain", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "requests", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "latest", SG_COLUMN_TIME, 0);
  sg_table_add_column (t, "latest_what", SG_COLUMN_TEXT, 0);
  if (!_sg_table_fill (store, t, stmt, error)) {
    sg_table_free (t);
    return NULL;
  }
  return t;
}

/* Customer-experience notes per organisation: counts by sentiment, the latest note. */
static SgTable *
report_notes (SgStore *store, const SgReportFilter *f, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
    "SELECT coalesce(o.name, o.domain), o.domain, count(*), sum(n.sentiment = 'positive'), "
    "  sum(n.sentiment = 'neutral'), sum(n.sentiment = 'negative'), max(n.noted_at), "
    "  (SELECT text FROM cx_notes n2 WHERE n2.org_id = n.org_id ORDER BY n2.noted_at DESC, n2.id DESC LIMIT 1) "
    "FROM cx_notes n JOIN organisations o ON o.id = n.org_id "
    "WHERE (?1 = 0 OR n.noted_at >= ?1) AND (?2 = 0 OR n.noted_at < ?2) "
    "GROUP BY n.org_id ORDER BY sum(n.sentiment = 'negative') DESC, count(*) DESC, o.domain", error);
  SgTable *t;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, f->from);
  sqlite3_bind_int64 (stmt, 2, f->to);
  t = sg_table_new ();
  sg_table_add_column (t, "organisation", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "domain", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "notes", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "positive", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "neutral", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "negative", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "latest", SG_COLUMN_TIME, 0);
  sg_table_add_column (t, "latest_text", SG_COLUMN_TEXT, 0);
  if (!_sg_table_fill (store, t, stmt, error)) {
    sg_table_free (t);
    return NULL;
  }
  return t;
}

SgTable *
sg_report_run (SgStore *store, const char *name, const SgReportFilter *filter, GError **error)
{
  SgReportFilter none = { 0 };
  const SgReportFilter *f = filter ? filter : &none;
  g_autofree char *owner = NULL;

  g_return_val_if_fail (store != NULL && name != NULL, NULL);
  if (f->from != 0 && f->to != 0 && f->to <= f->from) {
    g_set_error (error, SG_REPORT_ERROR, SG_REPORT_ERROR_INVALID, "the period ends before it starts");
    return NULL;
  }
  if (f->owner != NULL && (owner = sg_address_normalize (f->owner, NULL)) == NULL)
    owner = g_strdup (f->owner);
  if (g_strcmp0 (name, "managers") == 0)
    return report_managers (store, f, owner, error);
  if (g_strcmp0 (name, "stages") == 0)
    return report_stages (store, f, owner, error);
  if (g_strcmp0 (name, "sources") == 0)
    return report_sources (store, f, owner, error);
  if (g_strcmp0 (name, "closing") == 0)
    return report_closing (store, f, owner, error);
  if (g_strcmp0 (name, "requests") == 0)
    return report_requests (store, f, error);
  if (g_strcmp0 (name, "notes") == 0)
    return report_notes (store, f, error);
  g_set_error (error, SG_REPORT_ERROR, SG_REPORT_ERROR_UNKNOWN, "no report “%s” (reports: managers, stages, sources, closing, requests, notes)",
               name);
  return NULL;
}
