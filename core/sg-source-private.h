/* sg-source-private.h: the bookkeeping the polled sources (sg-imap.c, sg-caldav.c) share:
 * their row in `sources` and how their syncs went, in `source_status`. */
#pragma once

#include "sg-store.h"

G_BEGIN_DECLS

/* The id of the source @kind @uri, added if new, in a transaction of its own.
 * Returns: the id, 0 with @error. */
gint64 _sg_source_ensure (SgStore *store, const char *kind, const char *uri, GError **error);

/* Records a sync of source @source_id (named @name in the config): @started, one begins;
 * else it ended, with @failure or not. @pending: messages still to fetch, -1 unknown.
 * In a transaction of its own. */
gboolean _sg_source_write_status (SgStore *store, gint64 source_id, const char *name, const GError *failure,
                                  gboolean started, gint64 pending, GError **error);

/* Records @failure, which happened before a sync of the account could start (a password
 * command that failed), adding the source if new. */
gboolean _sg_source_record_failure (SgStore *store, const char *kind, const char *uri, const char *name,
                                    const GError *failure, GError **error);

G_END_DECLS
