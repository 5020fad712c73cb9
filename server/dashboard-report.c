/* dashboard-report.c: the reports of `salesgetter report` (core/sg-report.c) over the
 * team's state in PostgreSQL. Same reports, same columns, same definitions: closing ratio
 * = won / (won + lost), "n/a" when nothing closed; drop-off = lost from a stage / entered
 * it; money summed per currency. Filters are bound parameters ($1 owner, $2 pipeline,
 * $3 from, $4 to), never pasted.
 *
 * The state is read as the sync contract gives it: processes are entity_state rows
 * (entity 'process', natural key the process uuid, fields as the client's upsert ops carry
 * them), stage history is entity_history ('stage_history', natural key the process uuid,
 * in hlc order), lead credits are set_members ('person_lead_source', key "address|source").
 * Numbers inside jsonb are read only when they are JSON numbers: a hostile client's
 * "opened_at": "soon" counts as missing rather than failing the page. */
#include "config.h"

#include "dashboard-private.h"

#include <string.h>

/* A jsonb number field of f, else NULL. */
#define NUM(key) "(CASE WHEN jsonb_typeof(f->'" key "') = 'number' THEN (f->>'" key "')::numeric END)"

/* The processes passing the filter: id (uuid) and f (fields). */
#define FILTERED                                                                                   \
  "SELECT natural_key AS id, fields AS f FROM entity_state WHERE entity = 'process' AND NOT deleted "\
  "AND ($1::text IS NULL OR fields->>'account_manager' = $1) "                                     \
  "AND ($2::text IS NULL OR fields->>'pipeline' = $2) "                                            \
  "AND ($3::bigint = 0 OR (CASE WHEN jsonb_typeof(fields->'opened_at') = 'number' "                \
  "     THEN (fields->>'opened_at')::numeric END) >= $3::bigint) "                                 \
  "AND ($4::bigint = 0 OR (CASE WHEN jsonb_typeof(fields->'opened_at') = 'number' "                \
  "     THEN (fields->>'opened_at')::numeric END) < $4::bigint)"

/* The built-in lead sources every store has (schema/sqlite/0002-process.sql). They are
 * seeded, not synced, so the server knows them only from here. */
#define BUILTIN_SOURCES "ARRAY['management', 'analyst-referral', 'rented-list', 'event', 'existing-customer', 'inbound']"

/* The built-in 'default' pipeline (schema/sqlite/0002-process.sql), for a team that never
 * redefined it (a redefinition is synced as a 'pipeline' upsert and wins). */
#define DEFAULT_STAGES                                                                             \
  "(VALUES ('identified', 1, 'open'), ('qualified', 2, 'open'), ('needs analysed', 3, 'open'), "  \
  "('proposal', 4, 'open'), ('negotiation', 5, 'open'), ('closed won', 6, 'won'), "               \
  "('closed lost', 7, 'lost'), ('follow-up', 8, 'post')) AS d(name, position, kind)"

static const char *const managers_sql =
  "WITH ps AS (" FILTERED ") "
  "SELECT f->>'account_manager' AS am, f->>'currency' AS cur, count(*), "
  "  count(*) FILTER (WHERE f->>'status' = 'open'), count(*) FILTER (WHERE f->>'status' = 'won'), "
  "  count(*) FILTER (WHERE f->>'status' = 'lost'), "
  "  coalesce(sum(" NUM ("value_minor") ") FILTER (WHERE f->>'status' = 'won'), 0), "
  "  coalesce(sum(" NUM ("cost_minor") "), 0) "
  "FROM ps GROUP BY 1, 2 "
  "ORDER BY (f->>'account_manager') IS NULL, (f->>'account_manager') COLLATE \"C\", "
  "  (f->>'currency') COLLATE \"C\" NULLS FIRST";

static const char *const stages_sql =
  "WITH ps AS (" FILTERED "), "
  "defined AS (SELECT s.value->>'name' AS name, s.ord AS position, s.value->>'kind' AS kind "
  "  FROM entity_state e, jsonb_array_elements(CASE WHEN jsonb_typeof(e.fields->'stages') = 'array' "
  "    THEN e.fields->'stages' ELSE '[]'::jsonb END) WITH ORDINALITY AS s(value, ord) "
  "  WHERE e.entity = 'pipeline' AND e.natural_key = $2 AND NOT e.deleted), "
  "stg AS (SELECT name, position, kind FROM defined UNION ALL "
  "  SELECT name, position, kind FROM " DEFAULT_STAGES
  "  WHERE $2 = 'default' AND NOT EXISTS (SELECT 1 FROM defined)), "
  /* The history of those processes, each field read from jsonb once. */
  "h AS (SELECT h.natural_key AS pid, h.hlc, h.id, h.fields->>'event' AS event, h.fields->>'from_stage' AS from_stage, "
  "    h.fields->>'to_stage' AS to_stage, ps.f->>'status' AS status, "
  "    CASE WHEN jsonb_typeof(h.fields->'moved_at') = 'number' AND abs((h.fields->>'moved_at')::numeric) < 1e15 "
  "      THEN (h.fields->>'moved_at')::float8 END AS moved_at "
  "  FROM entity_history h JOIN ps ON ps.id = h.natural_key WHERE h.entity = 'stage_history'), "
  "reached AS (SELECT to_stage AS stage, count(DISTINCT pid) AS n FROM h GROUP BY 1), "
  /* Lost from: the from_stage of a lost process's last close (one pass, not one per process). */
  "lost AS (SELECT stage, count(*) AS n FROM (SELECT DISTINCT ON (pid) pid, from_stage AS stage FROM h "
  "  WHERE status = 'lost' AND event = 'close' ORDER BY pid, hlc DESC, id DESC) lc GROUP BY stage), "
  /* Time in stage: each stay from its entry to the process's next one; stays not over yet
   * are left out, as in the CLI. */
  "stays AS (SELECT to_stage AS stage, lead(moved_at) OVER (PARTITION BY pid ORDER BY hlc, id) - moved_at AS secs "
  "  FROM h), "
  "timed AS (SELECT stage, avg(secs) AS secs, count(secs) AS n FROM stays WHERE secs IS NOT NULL GROUP BY stage), "
  "now_in AS (SELECT f->>'stage' AS stage, count(*) AS n FROM ps WHERE f->>'status' = 'open' GROUP BY 1) "
  "SELECT s.name, s.position, s.kind, coalesce(r.n, 0), coalesce(ni.n, 0), coalesce(l.n, 0), "
  "  tm.secs / 86400.0, coalesce(tm.n, 0) "
  "FROM stg s LEFT JOIN reached r ON r.stage = s.name LEFT JOIN lost l ON l.stage = s.name "
  "LEFT JOIN timed tm ON tm.stage = s.name LEFT JOIN now_in ni ON ni.stage = s.name ORDER BY s.position";

static const char *const sources_sql =
  "WITH ps AS (" FILTERED "), "
  "ls AS (SELECT natural_key AS name, fields->>'kind' AS kind FROM entity_state WHERE entity = 'lead_source' "
  "    AND NOT deleted "
  "  UNION ALL SELECT b, b FROM unnest(" BUILTIN_SOURCES ") AS b "
  "  WHERE NOT EXISTS (SELECT 1 FROM entity_state WHERE entity = 'lead_source' AND natural_key = b AND NOT deleted)), "
  /* A credit's period is when it was added: the hlc of its add (16 hex digits, ms << 16). */
  "credits AS (SELECT natural_key, CASE WHEN added_hlc ~ '^[0-7][0-9a-f]{15}$' "
  "    THEN (('x' || added_hlc)::bit(64)::bigint >> 16) / 1000 END AS at "
  "  FROM set_members WHERE entity = 'person_lead_source' AND present), "
  "leads AS (SELECT substr(natural_key, strpos(natural_key, '|') + 1) AS source, count(DISTINCT natural_key) AS n "
  "  FROM credits WHERE ($3::bigint = 0 OR at >= $3::bigint) AND ($4::bigint = 0 OR at < $4::bigint) GROUP BY 1) "
  "SELECT ls.name, ls.kind, ps.f->>'currency' AS cur, coalesce(max(leads.n), 0), count(ps.id), "
  "  count(ps.id) FILTER (WHERE ps.f->>'status' = 'won'), count(ps.id) FILTER (WHERE ps.f->>'status' = 'lost'), "
  "  coalesce(sum(CASE WHEN jsonb_typeof(ps.f->'value_minor') = 'number' THEN (ps.f->>'value_minor')::numeric END) "
  "    FILTER (WHERE ps.f->>'status' = 'won'), 0) "
  "FROM ls LEFT JOIN ps ON ps.f->>'lead_source' = ls.name LEFT JOIN leads ON leads.source = ls.name "
  "GROUP BY ls.name, ls.kind, cur ORDER BY ls.name COLLATE \"C\", (ps.f->>'currency') COLLATE \"C\" NULLS FIRST";

/* Unfulfilled requests: the period filters requested_at; owner and pipeline do not apply
 * (a request needs no process), as in the CLI. */
static const char *const requests_sql =
  "WITH allr AS (SELECT natural_key AS id, f->>'organisation' AS domain, f->>'category' AS category, "
  "    f->>'what' AS what, " NUM ("requested_at") " AS at "
  "  FROM (SELECT natural_key, fields AS f FROM entity_state WHERE entity = 'request' AND NOT deleted) e "
  "  WHERE f->>'organisation' IS NOT NULL), "
  "r AS (SELECT * FROM allr WHERE ($1::bigint = 0 OR at >= $1::bigint) AND ($2::bigint = 0 OR at < $2::bigint)), "
  /* The latest request's text per category and organisation, over all periods, as the CLI. */
  "latest AS (SELECT DISTINCT ON (category, domain) category, domain, what FROM allr "
  "  ORDER BY category, domain, at DESC NULLS LAST, id COLLATE \"C\" DESC) "
  "SELECT r.category, coalesce(o.fields->>'name', r.domain), r.domain, count(*), max(r.at), max(lt.what) "
  "FROM r LEFT JOIN entity_state o ON o.entity = 'organisation' AND o.natural_key = r.domain AND NOT o.deleted "
  "LEFT JOIN latest lt ON lt.category IS NOT DISTINCT FROM r.category AND lt.domain = r.domain "
  "GROUP BY r.category, r.domain, o.fields->>'name' "
  "ORDER BY r.category COLLATE \"C\" NULLS FIRST, count(*) DESC, r.domain COLLATE \"C\"";

/* Closing ratios per deliverable kind, deliverable type and customer type (the
 * organisation's industry), per currency, as the CLI's "closing". The kind and type are
 * the process's own fields (its creation op carries them); the industry is the
 * organisation's `industry` field, which a client pushes only when it has one (no
 * command sets it today, a pull does): "(none)" otherwise. A process whose organisation
 * the server does not hold counts under "(none)" (the CLI always holds it). */
static const char *const closing_sql =
  "WITH ps AS (" FILTERED "), "
  "d AS (SELECT 'deliverable_kind' AS dim, 1 AS o, f->>'deliverable_kind' AS val, f FROM ps "
  "  UNION ALL SELECT 'deliverable_type', 2, f->>'deliverable_type', f FROM ps "
  "  UNION ALL SELECT 'industry', 3, org.fields->>'industry', ps.f FROM ps "
  "    LEFT JOIN entity_state org ON org.entity = 'organisation' AND org.natural_key = ps.f->>'organisation' "
  "      AND NOT org.deleted) "
  "SELECT dim, val, f->>'currency' AS cur, count(*), count(*) FILTER (WHERE f->>'status' = 'won'), "
  "  count(*) FILTER (WHERE f->>'status' = 'lost'), "
  "  coalesce(sum(" NUM ("value_minor") ") FILTER (WHERE f->>'status' = 'won'), 0) "
  "FROM d GROUP BY o, dim, val, cur "
  "ORDER BY o, val IS NULL, val COLLATE \"C\", (f->>'currency') COLLATE \"C\" NULLS FIRST";

/* Customer-experience notes per organisation, by sentiment, as the CLI's "notes": the
 * period filters noted_at; owner and pipeline do not apply. The latest text is the latest
 * note's over all periods (as the CLI), ties broken by the clock of its noted_at (when it
 * was written; the CLI: its insertion order). A note's text is on the server only when its
 * author's device shared it: a note without one (a JSON string) counts, and its text shows
 * as withheld. */
static const char *const notes_sql =
  "WITH alln AS (SELECT natural_key AS id, f->>'organisation' AS domain, f->>'sentiment' AS sentiment, "
  "    CASE WHEN jsonb_typeof(f->'text') = 'string' THEN f->>'text' END AS text, " NUM ("noted_at") " AS at, "
  "    hlc "
  "  FROM (SELECT natural_key, fields AS f, field_hlc->>'noted_at' AS hlc FROM entity_state "
  "    WHERE entity = 'cx_note' AND NOT deleted) e "
  "  WHERE f->>'organisation' IS NOT NULL), "
  "n AS (SELECT * FROM alln WHERE ($1::bigint = 0 OR at >= $1::bigint) AND ($2::bigint = 0 OR at < $2::bigint)), "
  "latest AS (SELECT DISTINCT ON (domain) domain, text FROM alln "
  "  ORDER BY domain, at DESC NULLS LAST, hlc COLLATE \"C\" DESC NULLS LAST, id COLLATE \"C\" DESC) "
  "SELECT coalesce(o.fields->>'name', n.domain), n.domain, count(*), "
  "  count(*) FILTER (WHERE n.sentiment = 'positive'), count(*) FILTER (WHERE n.sentiment = 'neutral'), "
  "  count(*) FILTER (WHERE n.sentiment = 'negative'), max(n.at), max(lt.text), bool_and(lt.text IS NULL), "
  "  count(*) FILTER (WHERE n.text IS NULL) "
  "FROM n LEFT JOIN entity_state o ON o.entity = 'organisation' AND o.natural_key = n.domain AND NOT o.deleted "
  "LEFT JOIN latest lt ON lt.domain = n.domain "
  "GROUP BY n.domain, o.fields->>'name' "
  "ORDER BY count(*) FILTER (WHERE n.sentiment = 'negative') DESC, count(*) DESC, n.domain COLLATE \"C\"";

static gint64
get_int (PGresult *res, int row, int col)
{
  if (PQgetisnull (res, row, col))
    return 0;
  /* numeric sums come as "123" (or "123.5" from a hostile fraction: the integer part). */
  return g_ascii_strtoll (PQgetvalue (res, row, col), NULL, 10);
}

static const char *
get_text (PGresult *res, int row, int col)
{
  return PQgetisnull (res, row, col) ? NULL : PQgetvalue (res, row, col);
}

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

static PGresult *
run (PGconn *db, const char *name, const char *sql, int n, const char *const *params, GError **error)
{
  PGresult *res = PQexecParams (db, sql, n, NULL, params, NULL, NULL, 0);

  if (PQresultStatus (res) != PGRES_TUPLES_OK) {
    g_set_error (error, SG_DASHBOARD_ERROR, SG_DASHBOARD_ERROR_DATABASE, "report %s: %s", name,
                 PQresultErrorMessage (res));
    PQclear (res);
    return NULL;
  }
  return res;
}

static SgTable *
report_managers (PGresult *res)
{
  SgTable *t = sg_table_new ();

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
  for (int r = 0; r < PQntuples (res); r++) {
    const char *cur = get_text (res, r, 1);
    gint64 n = get_int (res, r, 2), won = get_int (res, r, 4), lost = get_int (res, r, 5);
    gint64 value = get_int (res, r, 6), cost = get_int (res, r, 7);

    sg_table_append_row (t);
    sg_table_set_text (t, 0, get_text (res, r, 0) ? get_text (res, r, 0) : "(none)");
    sg_table_set_text (t, 1, cur);
    sg_table_set_int (t, 2, n);
    sg_table_set_int (t, 3, get_int (res, r, 3));
    sg_table_set_int (t, 4, won);
    sg_table_set_int (t, 5, lost);
    set_ratio (t, 6, 9, won, won + lost);
    set_money (t, 7, value, cur);
    /* Rounded half away from zero, in minor units, as the CLI. */
    set_money (t, 8, n > 0 ? (cost + n / 2) / n : 0, cur);
    sg_table_set_int (t, 10, value);
    sg_table_set_int (t, 11, cost);
  }
  return t;
}

static SgTable *
report_stages (PGresult *res)
{
  SgTable *t = sg_table_new ();

  sg_table_add_column (t, "stage", SG_COLUMN_TEXT, 0);     /* 0 */
  sg_table_add_column (t, "position", SG_COLUMN_INT, 0);   /* 1 */
  sg_table_add_column (t, "kind", SG_COLUMN_TEXT, 0);      /* 2 */
  sg_table_add_column (t, "entered", SG_COLUMN_INT, 0);    /* 3 */
  sg_table_add_column (t, "in_stage", SG_COLUMN_INT, 0);   /* 4 */
  sg_table_add_column (t, "lost_here", SG_COLUMN_INT, 0);  /* 5 */
  sg_table_add_column (t, "drop_off", SG_COLUMN_TEXT, 0);  /* 6 */
  sg_table_add_column (t, "drop_off_value", SG_COLUMN_REAL, SG_COLUMN_FLAG_DETAIL); /* 7 */
  sg_table_add_column (t, "avg_days", SG_COLUMN_TEXT, 0);  /* 8 */
  sg_table_add_column (t, "avg_days_value", SG_COLUMN_REAL, SG_COLUMN_FLAG_DETAIL); /* 9 */
  sg_table_add_column (t, "stays", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);          /* 10 */
  for (int r = 0; r < PQntuples (res); r++) {
    gint64 entered = get_int (res, r, 3), lost = get_int (res, r, 5);

    sg_table_append_row (t);
    sg_table_set_text (t, 0, get_text (res, r, 0));
    sg_table_set_int (t, 1, get_int (res, r, 1));
    sg_table_set_text (t, 2, get_text (res, r, 2));
    sg_table_set_int (t, 3, entered);
    sg_table_set_int (t, 4, get_int (res, r, 4));
    sg_table_set_int (t, 5, lost);
    set_ratio (t, 6, 7, lost, entered);
    if (PQgetisnull (res, r, 6)) {
      sg_table_set_text (t, 8, "n/a");
    } else {
      double days = g_ascii_strtod (PQgetvalue (res, r, 6), NULL);

      sg_table_take_text (t, 8, g_strdup_printf ("%.1f", days));
      sg_table_set_real (t, 9, days);
    }
    sg_table_set_int (t, 10, get_int (res, r, 7));
  }
  return t;
}

static SgTable *
report_sources (PGresult *res)
{
  SgTable *t = sg_table_new ();

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
  for (int r = 0; r < PQntuples (res); r++) {
    const char *cur = get_text (res, r, 2);
    gint64 won = get_int (res, r, 5), lost = get_int (res, r, 6), value = get_int (res, r, 7);

    sg_table_append_row (t);
    sg_table_set_text (t, 0, get_text (res, r, 0));
    sg_table_set_text (t, 1, get_text (res, r, 1));
    sg_table_set_text (t, 2, cur);
    sg_table_set_int (t, 3, get_int (res, r, 3));
    sg_table_set_int (t, 4, get_int (res, r, 4));
    sg_table_set_int (t, 5, won);
    sg_table_set_int (t, 6, lost);
    set_ratio (t, 7, 9, won, won + lost);
    set_money (t, 8, value, cur);
    sg_table_set_int (t, 10, value);
  }
  return t;
}

static SgTable *
report_requests (PGresult *res)
{
  SgTable *t = sg_table_new ();

  sg_table_add_column (t, "category", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "organisation", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "domain", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "requests", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "latest", SG_COLUMN_TIME, 0);
  sg_table_add_column (t, "latest_what", SG_COLUMN_TEXT, 0);
  for (int r = 0; r < PQntuples (res); r++) {
    sg_table_append_row (t);
    sg_table_set_text (t, 0, get_text (res, r, 0));
    sg_table_set_text (t, 1, get_text (res, r, 1));
    sg_table_set_text (t, 2, get_text (res, r, 2));
    sg_table_set_int (t, 3, get_int (res, r, 3));
    if (!PQgetisnull (res, r, 4))
      sg_table_set_int (t, 4, get_int (res, r, 4));
    sg_table_set_text (t, 5, get_text (res, r, 5));
  }
  return t;
}

static SgTable *
report_closing (PGresult *res)
{
  SgTable *t = sg_table_new ();

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
  for (int r = 0; r < PQntuples (res); r++) {
    const char *cur = get_text (res, r, 2);
    gint64 won = get_int (res, r, 4), lost = get_int (res, r, 5), value = get_int (res, r, 6);

    sg_table_append_row (t);
    sg_table_set_text (t, 0, get_text (res, r, 0));
    sg_table_set_text (t, 1, get_text (res, r, 1) ? get_text (res, r, 1) : "(none)");
    sg_table_set_text (t, 2, cur);
    sg_table_set_int (t, 3, get_int (res, r, 3));
    sg_table_set_int (t, 4, won);
    sg_table_set_int (t, 5, lost);
    set_ratio (t, 6, 8, won, won + lost);
    set_money (t, 7, value, cur);
    sg_table_set_int (t, 9, value);
  }
  return t;
}

static SgTable *
report_notes (PGresult *res)
{
  SgTable *t = sg_table_new ();

  sg_table_add_column (t, "organisation", SG_COLUMN_TEXT, 0);                        /* 0 */
  sg_table_add_column (t, "domain", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);          /* 1 */
  sg_table_add_column (t, "notes", SG_COLUMN_INT, 0);                                /* 2 */
  sg_table_add_column (t, "positive", SG_COLUMN_INT, 0);                             /* 3 */
  sg_table_add_column (t, "neutral", SG_COLUMN_INT, 0);                              /* 4 */
  sg_table_add_column (t, "negative", SG_COLUMN_INT, 0);                             /* 5 */
  sg_table_add_column (t, "latest", SG_COLUMN_TIME, 0);                              /* 6 */
  sg_table_add_column (t, "latest_text", SG_COLUMN_TEXT, 0);                         /* 7 */
  /* The dashboard's own: the latest text is not on the server (its author's device did
   * not share it); how many of the row's notes came without their text. */
  sg_table_add_column (t, "latest_text" SG_DASHBOARD_WITHHELD, SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL); /* 8 */
  sg_table_add_column (t, "texts_withheld", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);   /* 9 */
  for (int r = 0; r < PQntuples (res); r++) {
    gboolean withheld = !PQgetisnull (res, r, 8) && PQgetvalue (res, r, 8)[0] == 't';

    sg_table_append_row (t);
    sg_table_set_text (t, 0, get_text (res, r, 0));
    sg_table_set_text (t, 1, get_text (res, r, 1));
    sg_table_set_int (t, 2, get_int (res, r, 2));
    sg_table_set_int (t, 3, get_int (res, r, 3));
    sg_table_set_int (t, 4, get_int (res, r, 4));
    sg_table_set_int (t, 5, get_int (res, r, 5));
    if (!PQgetisnull (res, r, 6))
      sg_table_set_int (t, 6, get_int (res, r, 6));
    sg_table_set_text (t, 7, withheld ? NULL : get_text (res, r, 7));
    sg_table_set_int (t, 8, withheld);
    sg_table_set_int (t, 9, get_int (res, r, 9));
  }
  return t;
}

SgTable *
_sg_dashboard_report (PGconn *db, const char *name, const SgDashboardFilter *f, GError **error)
{
  g_autofree char *from = g_strdup_printf ("%" G_GINT64_FORMAT, f->from);
  g_autofree char *to = g_strdup_printf ("%" G_GINT64_FORMAT, f->to);
  const char *params[4] = { f->owner, f->pipeline, from, to };
  const char *period[2] = { from, to };
  PGresult *res;
  SgTable *t;

  if (strcmp (name, "managers") == 0) {
    if ((res = run (db, name, managers_sql, 4, params, error)) == NULL)
      return NULL;
    t = report_managers (res);
  } else if (strcmp (name, "stages") == 0) {
    /* Stage drop-off is per pipeline: the default one unless asked. */
    if (params[1] == NULL)
      params[1] = "default";
    if ((res = run (db, name, stages_sql, 4, params, error)) == NULL)
      return NULL;
    t = report_stages (res);
  } else if (strcmp (name, "sources") == 0) {
    if ((res = run (db, name, sources_sql, 4, params, error)) == NULL)
      return NULL;
    t = report_sources (res);
  } else if (strcmp (name, "closing") == 0) {
    if ((res = run (db, name, closing_sql, 4, params, error)) == NULL)
      return NULL;
    t = report_closing (res);
  } else if (strcmp (name, "notes") == 0) {
    if ((res = run (db, name, notes_sql, 2, period, error)) == NULL)
      return NULL;
    t = report_notes (res);
  } else if (strcmp (name, "requests") == 0) {
    if ((res = run (db, name, requests_sql, 2, period, error)) == NULL)
      return NULL;
    t = report_requests (res);
  } else {
    g_return_val_if_reached (NULL);
  }
  PQclear (res);
  return t;
}
