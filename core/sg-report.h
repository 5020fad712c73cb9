/* sg-report.h: reports for sales management, as tables.
 *
 * Reports (sg_report_names()):
 *   managers  per account manager and currency: processes, open, won, lost, closing ratio
 *             (won / closed, "n/a" when none closed), won value, total and average cost
 *             of the sales processes;
 *   stages    stage drop-off in one pipeline: per stage, processes that entered it, are in
 *             it now, and were lost from it (their last open stage), and the drop-off rate
 *             (lost from it / entered it);
 *   sources   lead-source effectiveness, per lead source and currency: leads (people),
 *             processes, won, lost, closing ratio, revenue (won value);
 *   closing   closing ratios per deliverable kind, deliverable type and industry;
 *   requests  unfulfilled requests by category and organisation (period only);
 *   notes     customer-experience notes per organisation by sentiment (period only).
 * "stages" also gives the time in stage: the average of the stays that are over.
 * Money is summed per currency, never across currencies. Ratios are text ("66.7%", or
 * "n/a" when the denominator is 0) with the exact value in a detail column (null for n/a).
 */
#pragma once

#include <glib.h>
#include "sg-store.h"
#include "sg-table.h"

G_BEGIN_DECLS

#define SG_REPORT_ERROR (sg_report_error_quark ())
SG_API GQuark sg_report_error_quark (void);

typedef enum {
  SG_REPORT_ERROR_UNKNOWN, /* no report of that name */
  SG_REPORT_ERROR_INVALID, /* a bad filter (period ends before it starts) */
} SgReportError;

typedef struct {
  const char *owner;    /* nullable: only this account manager's processes */
  const char *pipeline; /* nullable: only this pipeline ("stages": default "default") */
  gint64 from;          /* 0: no bound; processes opened at or after (Unix seconds) */
  gint64 to;            /* 0: no bound; processes opened before */
} SgReportFilter;

/* Returns: (transfer none): the report names, NULL-terminated. */
SG_API const char *const *sg_report_names (void);

/* Runs the report @name. @filter: nullable. An empty store or period gives an empty table
 * (or zero counts), never an error. Returns: (transfer full), or NULL with
 * SG_REPORT_ERROR (UNKNOWN lists the names) or SG_STORE_ERROR. */
SG_API SgTable *sg_report_run (SgStore *store, const char *name, const SgReportFilter *filter, GError **error);

G_END_DECLS
