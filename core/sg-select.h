/* sg-select.h: customer selections — which people match a criteria expression.
 *
 * An expression combines criteria with and, or, not and parentheses:
 *
 *   tag:forecasting and role:customer and not contacted:<90d
 *   (industry:retail or industry:energy) and interactions:>=5 and stage:proposal
 *
 * Criteria (docs/internals/insight.md has the grammar; salesgetter-select(1) the manual):
 *   tag:NAME          the person or their organisation has the tag (not removed)
 *   role:ROLE         suspect, prospect, lead, customer, consumer, buyer (not removed)
 *   org:DOMAIN        works at the organisation owning DOMAIN (any of its domains)
 *   industry:NAME     the organisation's industry, or an industry tag on it
 *   source:NAME       a lead source of the person, by name or kind (inbound, list:NAME...)
 *   contacted:<90d    last contact less than 90 days ago; >30d: longer ago, or never
 *                     (units d, w, m = 30 days, y = 365 days)
 *   interactions:>=5  number of interactions (not bulk); operators < <= > >= =
 *   stage:NAME        an open sales process in that stage (of the organisation, or as contact)
 *   owner:ADDRESS     a sales process (any status) with that account manager
 *   bought:TEXT       a won process whose deliverable or deliverable type contains TEXT
 * Values with spaces are quoted: tag:"machine learning". Keywords are case-insensitive.
 *
 * An expression compiles to ONE SQL statement; every value is a bound parameter.
 * Only people of kind 'contact' are selected (not the user, not colleagues).
 */
#pragma once

#include <glib.h>
#include "sg-store.h"
#include "sg-table.h"

G_BEGIN_DECLS

#define SG_SELECT_ERROR (sg_select_error_quark ())
SG_API GQuark sg_select_error_quark (void);

typedef enum {
  SG_SELECT_ERROR_PARSE,     /* the message starts "column N: " (1-based, in characters) */
  SG_SELECT_ERROR_NOT_FOUND, /* no saved selection of that name */
  SG_SELECT_ERROR_INVALID,   /* a bad selection name */
} SgSelectError;

/* Longest expression accepted, in bytes, and deepest nesting. */
#define SG_SELECT_MAX_LENGTH 4096
#define SG_SELECT_MAX_DEPTH 64

typedef struct _SgSelection SgSelection;

/* Parses @expression. Returns: (transfer full), or NULL with SG_SELECT_ERROR_PARSE whose
 * message names the column, e.g. "column 10: expected a criterion". @column: (out)
 * (optional): that column, 0 on success. */
SG_API SgSelection *sg_selection_parse (const char *expression, guint *column, GError **error);
SG_API void sg_selection_free (SgSelection *selection);
/* Returns: (transfer none): the expression as given. */
SG_API const char *sg_selection_get_expression (const SgSelection *selection);
/* The number of criteria in the expression. */
SG_API guint sg_selection_get_n_criteria (const SgSelection *selection);

/* The people matching @selection, ranked: relevance (how many of the expression's
 * criteria, not under a "not", they match) first, then relationship strength (see
 * sg_strength_compute()), then the most recent contact. Columns: name, address,
 * organisation, relevance, strength, last_contact; detail: domain, strength_label,
 * strength_reasons, interactions. @now: 0 for now (reference for contacted:).
 * @limit: 0 for all. Returns: (transfer full), or NULL with SG_STORE_ERROR. */
SG_API SgTable *sg_selection_run (SgStore *store, const SgSelection *selection, gint64 now, guint limit,
                                  GError **error);

/* Saves (or replaces) @expression under @name (letters, digits, '-', '_', '.', at most 64
 * bytes). The expression must parse. Logged as entity 'selection'. */
SG_API gboolean sg_selection_save (SgStore *store, const char *name, const char *expression,
                                   const char *actor, GError **error);
/* Removes a saved selection. FALSE with SG_SELECT_ERROR_NOT_FOUND when there is none. */
SG_API gboolean sg_selection_delete (SgStore *store, const char *name, GError **error);
/* The saved expression. Returns: (transfer full), or NULL with SG_SELECT_ERROR_NOT_FOUND. */
SG_API char *sg_selection_lookup (SgStore *store, const char *name, GError **error);
/* Saved selections by name: name, expression, updated; detail: created_by, created. */
SG_API SgTable *sg_selection_list (SgStore *store, GError **error);

G_END_DECLS
