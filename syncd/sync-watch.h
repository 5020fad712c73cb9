/* sync-watch.h: when the daemon's team sync (sync.c) starts after local changes: the count of
 * ops waiting to be pushed is looked at every few seconds, and a sync starts once it has
 * stopped changing for the debounce time (an import writes in bursts). Changes logged while a
 * sync runs, after its last round trip, are still pending when it ends: they start a debounce
 * of their own, so they go out soon after, not at the next interval. Pure: the caller passes
 * the time and the count, so the unit test drives it on a clock of its own. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gint64 pending;     /* ops pending when last looked */
  gint64 changed_at;  /* monotonic µs when they were last seen to change; 0: none waiting */
} SgSyncWatch;

/* A look at the store at @now (µs) found @pending ops waiting. The caller only looks when no
 * sync is in flight and none is backing off. Returns: TRUE when a sync should start now
 * (@debounce_us after the count last changed). */
gboolean sg_sync_watch_tick (SgSyncWatch *watch, gint64 now, gint64 pending, gint64 debounce_us);
/* A sync ended well at @now; @pending ops are still waiting (logged while it ran, after its
 * last round trip): when there are any, the debounce starts for them from @now. */
void sg_sync_watch_synced (SgSyncWatch *watch, gint64 now, gint64 pending);
/* A sync failed: the backoff decides when the next one runs, and it pushes everything. */
void sg_sync_watch_failed (SgSyncWatch *watch);

G_END_DECLS
