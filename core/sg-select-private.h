/* sg-select-private.h: what the insight and the selections share. Never installed. */
#pragma once

#include "sg-private.h"

G_BEGIN_DECLS

/* The names of the saved selections @person_id matches, sorted; @now is the reference
 * time of contacted:. Returns: (transfer full): a NULL-terminated vector (empty when
 * none), or NULL with @error. */
char **_sg_selection_matching (SgStore *store, gint64 person_id, gint64 now, GError **error);

/* A person's relationship strength (sg_strength_compute() over their activity summary). @label: (out) static; @reasons: (out) (transfer
 * full); @n_interactions: (out) (optional). */
gboolean _sg_person_strength (SgStore *store, gint64 person_id, gint64 now, int *score, const char **label,
                              char ***reasons, gint64 *n_interactions, GError **error);

G_END_DECLS
