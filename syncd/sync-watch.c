/* sync-watch.c: the debounce of the daemon's team sync after local changes (sync-watch.h). */
#include "config.h"

#include "sync-watch.h"

gboolean
sg_sync_watch_tick (SgSyncWatch *w, gint64 now, gint64 pending, gint64 debounce_us)
{
  if (pending != w->pending) {
    w->pending = pending;
    w->changed_at = pending > 0 ? now : 0;
    return FALSE;
  }
  return w->changed_at != 0 && now - w->changed_at >= debounce_us;
}

void
sg_sync_watch_synced (SgSyncWatch *w, gint64 now, gint64 pending)
{
  /* Whatever was pending before the run went out in it (ticks wait while one runs); what is
   * pending now came in while it ran and has to go out too. */
  w->pending = pending;
  w->changed_at = pending > 0 ? now : 0;
}

void
sg_sync_watch_failed (SgSyncWatch *w)
{
  w->changed_at = 0;
}
