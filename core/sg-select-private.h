/* sg-select-private.h: what the insight asks of the selections module. Never installed. */
#pragma once

#include "sg-private.h"

G_BEGIN_DECLS

/* The names of the saved selections @person_id matches, sorted.
 * Returns: (transfer full): a NULL-terminated vector (empty when none), or NULL with @error. */
char **_sg_selection_matching (SgStore *store, gint64 person_id, GError **error);

G_END_DECLS
