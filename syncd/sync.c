/* sync.c: the daemon's team sync ([sync], issue 6): after local changes (debounced), every
 * [sync] interval seconds, and, after a failure, again with exponential backoff and jitter;
 * in a worker thread with its own store connection. Offline for ever is fine: the change
 * log keeps everything until a round trip succeeds. */
#include "config.h"

#include "syncd.h"

/* How often the store is looked at for new local changes, and how long they must have
 * stopped coming before a sync starts (an import writes in bursts). */
#define WATCH_INTERVAL_S 2
#define DEBOUNCE_S 5
#define BACKOFF_MIN_S 5
#define BACKOFF_MAX_S 3600

struct _SgSyncSource {
  char *store_path;
  SgSyncSettings *settings; /* NULL when [sync] could not be read (error kept) */
  char *config_error;
  guint interval;
  GCancellable *cancellable;
  GTask *running;
  guint watch_id;
  guint timer_id;       /* the next sync (interval, debounce or backoff) */
  gint64 last_seq;      /* newest change seen */
  gint64 changed_at;    /* monotonic time the newest change was seen, 0: none pending */
  guint failures;
  gint64 next_at;       /* monotonic time of the next planned sync */
};

static gint64
newest_change (SgSyncSource *s)
{
  g_autoptr (SgStore) store = sg_store_open (s->store_path, SG_STORE_OPEN_READ_ONLY, NULL);
  gint64 n;

  if (store == NULL)
    return s->last_seq;
  n = sg_sync_count_pending (store, NULL);
  return n < 0 ? s->last_seq : n;
}

SgSyncSource *
sg_sync_source_new (const SgConfig *config, const char *store_path)
{
  SgSyncSource *s;
  g_autoptr (GError) error = NULL;

  if (config->sync_server == NULL)
    return NULL;
  s = g_new0 (SgSyncSource, 1);
  s->store_path = g_strdup (store_path);
  s->interval = config->sync_interval;
  s->cancellable = g_cancellable_new ();
  s->settings = sg_config_sync_settings (config, &error);
  if (s->settings == NULL) {
    g_warning ("team sync off: %s", error->message);
    s->config_error = g_strdup (error->message);
  }
  return s;
}

static void schedule (SgSyncSource *s, guint seconds);

static void
run_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  SgSyncSource *s = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SgStore) store = sg_store_open (s->store_path, SG_STORE_OPEN_DEFAULT, &error);
  SgSyncCounts c = { 0 };

  if (store == NULL || !sg_sync_run (store, s->settings, NULL, NULL, cancellable, &c, &error)) {
    g_task_return_error (task, g_steal_pointer (&error));
    return;
  }
  g_message ("team sync: %u pushed, %u kept private, %u pulled (%u applied) in %u round trips", c.pushed,
             c.withheld, c.pulled, c.applied, c.rounds);
  g_task_return_boolean (task, TRUE);
}

static void
run_done (GObject *source, GAsyncResult *result, gpointer data)
{
  SgSyncSource *s = data;
  g_autoptr (GError) error = NULL;

  g_clear_object (&s->running);
  if (!g_task_propagate_boolean (G_TASK (result), &error)) {
    guint delay;

    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return;
    /* Exponential backoff with full jitter between half the step and the step. */
    s->failures = MIN (s->failures + 1, 20u);
    delay = MIN ((guint) BACKOFF_MIN_S << MIN (s->failures - 1, 12u), (guint) BACKOFF_MAX_S);
    delay = delay / 2 + (guint) g_random_int_range (0, (gint32) (delay / 2 + 1));
    g_warning ("team sync failed (%u in a row; next try in %u s): %s", s->failures, delay, error->message);
    schedule (s, MAX (delay, 1u));
    return;
  }
  s->failures = 0;
  s->last_seq = newest_change (s);
  schedule (s, s->interval);
}

static void
start_run (SgSyncSource *s)
{
  if (s->running != NULL || s->settings == NULL)
    return;
  s->changed_at = 0;
  s->running = g_task_new (NULL, s->cancellable, run_done, s);
  g_task_set_task_data (s->running, s, NULL);
  g_task_run_in_thread (s->running, run_thread);
}

static gboolean
on_timer (gpointer data)
{
  SgSyncSource *s = data;

  s->timer_id = 0;
  start_run (s);
  return G_SOURCE_REMOVE;
}

static void
schedule (SgSyncSource *s, guint seconds)
{
  g_clear_handle_id (&s->timer_id, g_source_remove);
  s->next_at = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  s->timer_id = g_timeout_add_seconds (seconds, on_timer, s);
}

/* New local changes: a sync DEBOUNCE_S after the last of a burst (not while backing off). */
static gboolean
on_watch (gpointer data)
{
  SgSyncSource *s = data;
  gint64 now = g_get_monotonic_time ();
  gint64 pending;

  if (s->running != NULL || s->failures > 0)
    return G_SOURCE_CONTINUE;
  pending = newest_change (s);
  if (pending != s->last_seq) {
    s->last_seq = pending;
    s->changed_at = pending > 0 ? now : 0;
  } else if (s->changed_at != 0 && now - s->changed_at >= DEBOUNCE_S * G_USEC_PER_SEC) {
    g_clear_handle_id (&s->timer_id, g_source_remove);
    start_run (s);
  }
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
  start_run (s);
}

gboolean
sg_sync_source_run_once (SgSyncSource *s, GError **error)
{
  g_autoptr (SgStore) store = NULL;

  if (s->settings == NULL) {
    g_set_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_CONFIG, "%s", s->config_error);
    return FALSE;
  }
  store = sg_store_open (s->store_path, SG_STORE_OPEN_DEFAULT, error);
  return store != NULL && sg_sync_run (store, s->settings, NULL, NULL, s->cancellable, NULL, error);
}

void
sg_sync_source_cancel (SgSyncSource *s)
{
  g_cancellable_cancel (s->cancellable);
}

gboolean
sg_sync_source_is_running (SgSyncSource *s)
{
  return s->running != NULL;
}

void
sg_sync_source_free (SgSyncSource *s)
{
  if (s == NULL)
    return;
  g_cancellable_cancel (s->cancellable);
  g_clear_handle_id (&s->watch_id, g_source_remove);
  g_clear_handle_id (&s->timer_id, g_source_remove);
  /* A round trip in flight ends at its timeout at worst; its callback needs us. */
  while (s->running != NULL)
    g_main_context_iteration (NULL, TRUE);
  g_object_unref (s->cancellable);
  sg_sync_settings_free (s->settings);
  g_free (s->config_error);
  g_free (s->store_path);
  g_free (s);
}
