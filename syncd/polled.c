/* polled.c: the scaffold of the daemon's polled sources (polled.h): the worker thread, the
 * timer, the backoff with jitter after failures and the cancellation at shutdown, which the
 * IMAP and CalDAV accounts and the team sync share. */
#include "config.h"

#include "polled.h"

struct _SgPolled {
  SgPolledFuncs funcs;
  SgPolledSchedule schedule;
  SgPolledClock clock;
  gpointer data;
  GCancellable *cancellable;
  gboolean busy;        /* a run is in flight: its callback needs us */
  gboolean ran;         /* at least one run has ended */
  guint failures;       /* in a row */
  guint timer_id;       /* the next run */
};

static const SgPolledClock real_clock = { g_timeout_add, g_source_remove, g_random_int_range };

guint64
sg_polled_next_wait (const SgPolledSchedule *schedule, guint failures,
                     gint32 (*random_range) (gint32, gint32), guint *delay_s)
{
  guint delay = schedule->interval_s;
  guint64 wait_ms;

  if (failures > 0) {
    guint max = schedule->retry_max_s ? schedule->retry_max_s : schedule->interval_s;
    guint shift = MIN (failures - 1, schedule->max_doublings);
    guint64 step = (guint64) schedule->retry_first_s << MIN (shift, 31u);

    delay = (guint) MIN (step, (guint64) max);
  }
  if (schedule->jitter == SG_POLLED_JITTER_SPREAD) {
    /* Up to a tenth more, so that sources polled at the same interval spread out. */
    guint64 tenth_ms = MIN ((guint64) delay * 100, (guint64) G_MAXINT32 - 1);

    wait_ms = (guint64) delay * 1000 + (guint64) random_range (0, (gint32) tenth_ms + 1);
  } else {
    /* Full jitter after a failure: between half the step and the step. */
    if (failures > 0) {
      guint half = MIN (delay / 2, (guint) G_MAXINT32 - 1);

      delay = MAX (delay / 2 + (guint) random_range (0, (gint32) half + 1), 1u);
    }
    wait_ms = (guint64) delay * 1000;
  }
  if (delay_s != NULL)
    *delay_s = delay;
  return wait_ms;
}

static void
run_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  SgPolled *self = task_data;
  GError *error = NULL;

  if (self->funcs.run (self->data, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static gboolean
on_timer (gpointer data)
{
  SgPolled *self = data;

  self->timer_id = 0;
  sg_polled_run_now (self);
  return G_SOURCE_REMOVE;
}

static void
run_done (GObject *source_object, GAsyncResult *result, gpointer user_data)
{
  SgPolled *self = user_data;
  g_autoptr (GError) error = NULL;
  guint64 wait_ms;
  guint delay_s;

  self->busy = FALSE;
  self->ran = TRUE;
  if (!g_task_propagate_boolean (G_TASK (result), &error)) {
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return;
    self->failures++;
    wait_ms = sg_polled_next_wait (&self->schedule, self->failures, self->clock.random_range, &delay_s);
    self->funcs.failed (self->data, error, self->failures, delay_s);
  } else {
    self->failures = 0;
    wait_ms = sg_polled_next_wait (&self->schedule, 0, self->clock.random_range, NULL);
    if (self->funcs.succeeded != NULL)
      self->funcs.succeeded (self->data);
  }
  if (self->schedule.once)
    return;
  self->timer_id = self->clock.add_timeout ((guint) MIN (wait_ms, (guint64) G_MAXUINT), on_timer, self);
}

SgPolled *
sg_polled_new (const SgPolledFuncs *funcs, const SgPolledSchedule *schedule, const SgPolledClock *clock,
               gpointer data)
{
  SgPolled *self = g_new0 (SgPolled, 1);

  self->funcs = *funcs;
  self->schedule = *schedule;
  self->clock = clock ? *clock : real_clock;
  self->data = data;
  self->cancellable = g_cancellable_new ();
  return self;
}

void
sg_polled_run_now (SgPolled *self)
{
  g_autoptr (GTask) task = NULL;

  if (self->busy)
    return;
  if (self->timer_id != 0) {
    self->clock.remove (self->timer_id);
    self->timer_id = 0;
  }
  self->busy = TRUE;
  task = g_task_new (NULL, self->cancellable, run_done, self);
  g_task_set_task_data (task, self, NULL);
  g_task_run_in_thread (task, run_thread);
}

void
sg_polled_cancel (SgPolled *self)
{
  g_cancellable_cancel (self->cancellable);
}

GCancellable *
sg_polled_get_cancellable (SgPolled *self)
{
  return self->cancellable;
}

gboolean
sg_polled_is_busy (SgPolled *self)
{
  return self->busy;
}

gboolean
sg_polled_is_done (SgPolled *self)
{
  return self->ran && !self->busy;
}

guint
sg_polled_get_failures (SgPolled *self)
{
  return self->failures;
}

void
sg_polled_free (SgPolled *self)
{
  if (self == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  /* A run in flight holds self: wait for it to return (it stops at its next check). */
  while (self->busy)
    g_main_context_iteration (NULL, TRUE);
  if (self->timer_id != 0)
    self->clock.remove (self->timer_id);
  if (self->funcs.free != NULL)
    self->funcs.free (self->data);
  g_object_unref (self->cancellable);
  g_free (self);
}
