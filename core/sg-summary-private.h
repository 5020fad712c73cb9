/* sg-summary-private.h: per-person and per-organisation activity summaries (sg-summary.c,
 * migration 0007-summary.sql, docs/internals/insight.md "Activity summaries"). Never
 * installed. */
#pragma once

#include "sg-private.h"

G_BEGIN_DECLS

/* The newest interactions a person's summary keeps. */
#define SG_SUMMARY_RECENT 10

/* One person's (or organisation's) activity, as the readers need it. Bulk mail counts
 * only in @n_bulk. */
typedef struct {
  gint64 n_total, n_in, n_out, n_meetings, n_bulk;
  gint64 n_year;        /* interactions on UTC days from (now - 365 days)'s day on */
  gint64 first, last;   /* 0 when none */
  guint n_recent;
  gint64 recent_id[SG_SUMMARY_RECENT], recent_date[SG_SUMMARY_RECENT]; /* newest first */
} SgActivity;

/* The columns _sg_activity_from_row() reads, from person_summary aliased @alias. */
#define SG_SUMMARY_COLUMNS(alias) \
  alias ".n_total, " alias ".n_in, " alias ".n_out, " alias ".n_meetings, " alias ".n_bulk, " \
  alias ".first_at, " alias ".last_at, " alias ".days, " alias ".recent"

/* Fills @act from the SG_SUMMARY_COLUMNS starting at column @col of @stmt (all NULL: no
 * activity); @now is the reference time of n_year. */
void _sg_activity_from_row (sqlite3_stmt *stmt, int col, gint64 now, SgActivity *act);

/* A person's activity (contacts only: zeros for anyone else). FALSE on a store error. */
gboolean _sg_summary_person (SgStore *store, gint64 person_id, gint64 now, SgActivity *act, GError **error);

/* Brings the summaries up to date inside the open (outermost) transaction: folds the
 * interactions added since the last call in, aggregated per person and organisation, and
 * recomputes the ones summary_dirty names. sg_store_commit() calls it before COMMIT. */
gboolean _sg_summary_update (SgStore *store, GError **error);

/* Whether the summaries are behind the interactions (a writer that bypassed the store). */
gboolean _sg_summary_is_behind (SgStore *store);

G_END_DECLS
