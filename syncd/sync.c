/* sync.c: the daemon's team sync ([sync], issue 6): after local changes (debounced), every
 * [sync] interval seconds, and, after a failure, again with exponential backoff and jitter;
 * in a worker thread with its own store connection. Offline for ever is fine: the change
 * log keeps everything until a round trip succeeds. */
#include "config.h"

#include "syncd.h"
#include "polled.h"
#include "sync-watch.h"

/* How often the store is looked at for new local changes, and how long they must have
 * stopped coming before a sync starts (an import writes in bursts). */
#define WATCH_INTERVAL_S 2
#define DEBOUNCE_S 5
#define BACKOFF_MIN_S 5
#define BACKOFF_MAX_S 3600
#define BACKOFF_DOUBLINGS 12

struct _SgSyncSource {
  char *store_path;
  SgSyncSettings *settings; /* NULL when [sync] could not be read (error kept) */
  char *config_error;
  guint interval;
  SgPolled *polled;     /* the worker thread, the next sync (interval or backoff) */
  guint watch_id;
  SgSyncWatch watch;    /* ops pending, and since when (the debounce) */
};

/* The ops waiting to be pushed (the last count seen when the store cannot be read). */
static gint64
pending_ops (SgSyncSource *s)
{
  g_autoptr (SgStore) store = sg_store_open (s->store_path, SG_STORE_OPEN_READ_ONLY, NULL);
  gint64 n;

  if (store == NULL)
    return s->watch.pending;
  n = sg_sync_count_pending (store, NULL);
  return n < 0 ? s->watch.pending : n;
}

static gboolean
sync_run (gpointer data, GCancellable *cancellable, GError **error)
{
  SgSyncSource *s = data;
  g_autoptr (SgStore) store = sg_store_open (s->store_path, SG_STORE_OPEN_DEFAULT, error);
  SgSyncCounts c = { 0 };

  if (store == NULL || !sg_sync_run (store, s->settings, NULL, NULL, cancellable, &c, error))
    return FALSE;
  g_message ("team sync: %u pushed, %u kept private, %u pulled (%u applied) in %u round trips", c.pushed,
             c.withheld, c.pulled, c.applied, c.rounds);
  {
    g_autofree char *clock = sg_sync_get_clock_warning (store);

    if (clock != NULL)
      g_warning ("team sync: %s", clock);
  }
  return TRUE;
}

static void
sync_succeeded (gpointer data)
{
  SgSyncSource *s = data;

  /* Changes logged while it ran, after its last round trip, are debounced from now: they go
   * out DEBOUNCE_S later, not at the next interval. */
  sg_sync_watch_synced (&s->watch, g_get_monotonic_time (), pending_ops (s));
}

/* Exponential backoff with full jitter between half the step and the step. */
static void
sync_failed (gpointer data, const GError *error, guint failures, guint delay_s)
{
  SgSyncSource *s = data;

  sg_sync_watch_failed (&s->watch);
  g_warning ("team sync failed (%u in a row; next try in %u s): %s", failures, delay_s, error->message);
}

static const SgPolledFuncs sync_funcs = { sync_run, sync_succeeded, sync_failed };

SgSyncSource *
sg_sync_source_new (const SgConfig *config, const char *store_path)
{
  SgSyncSource *s;
  g_autoptr (GError) error = NULL;
  SgPolledSchedule schedule = { config->sync_interval, BACKOFF_MIN_S, BACKOFF_MAX_S, BACKOFF_DOUBLINGS,
                                SG_POLLED_JITTER_HALF, FALSE };

  if (config->sync_server == NULL)
    return NULL;
  s = g_new0 (SgSyncSource, 1);
  s->store_path = g_strdup (store_path);
  s->interval = config->sync_interval;
  s->polled = sg_polled_new (&sync_funcs, &schedule, NULL, s);
  s->settings = sg_config_sync_settings (config, &error);
  if (s->settings == NULL) {
    g_warning ("team sync off: %s", error->message);
    s->config_error = g_strdup (error->message);
  }
  return s;
}

/* New local changes: a sync DEBOUNCE_S after the last of a burst (not while backing off). */
static gboolean
on_watch (gpointer data)
{
  SgSyncSource *s = data;

  if (sg_polled_is_busy (s->polled) || sg_polled_get_failures (s->polled) > 0)
    return G_SOURCE_CONTINUE;
  if (sg_sync_watch_tick (&s->watch, g_get_monotonic_time (), pending_ops (s), DEBOUNCE_S * G_USEC_PER_SEC))
    sg_polled_run_now (s->polled);
  return G_SOURCE_CONTINUE;
}

void
sg_sync_source_start (SgSyncSource *s)
{
  if (s->settings == NULL)
    return;
  g_message ("team sync with %s every %u s and after local changes", sg_sync_settings_get_server (s->settings),
             s->interval);
  s->watch_id = g_timeout_add_seconds (WATCH_INTERVAL_S, on_watch, s);
  sg_polled_run_now (s->polled);
}

gboolean
sg_sync_source_run_once (SgSyncSource *s, GError **error)
{
  if (s->settings == NULL) {
    g_set_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_CONFIG, "%s", s->config_error);
    return FALSE;
  }
  /* The scheduled sync's body: the same log lines (counts, a clock far off). */
  return sync_run (s, sg_polled_get_cancellable (s->polled), error);
}

void
sg_sync_source_cancel (SgSyncSource *s)
{
  sg_polled_cancel (s->polled);
}

gboolean
sg_sync_source_is_running (SgSyncSource *s)
{
  return sg_polled_is_busy (s->polled);
}

void
sg_sync_source_free (SgSyncSource *s)
{
  if (s == NULL)
    return;
  g_clear_handle_id (&s->watch_id, g_source_remove);
  /* A round trip in flight ends at its timeout at worst; its callback needs us. */
  sg_polled_free (s->polled);
  sg_sync_settings_free (s->settings);
  g_free (s->config_error);
  g_free (s->store_path);
  g_free (s);
}
