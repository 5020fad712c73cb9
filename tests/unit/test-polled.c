/* test-polled.c: the daemon's polled-source scaffold (syncd/polled.c): when runs happen after
 * successes and failures (backoff, jitter, its caps), the reset after a success, --once, a
 * run started early in place of its timer, and the cancellation at shutdown. The clock and
 * the dice are injected, so nothing here waits for a timer. */
#include "config.h"

#include "polled.h"

#include <string.h>

/* The fake clock: the one pending timer, which the test fires by hand. */
static struct {
  guint last_id;
  guint id;        /* 0: none pending */
  guint ms;
  GSourceFunc func;
  gpointer data;
  guint added;
  guint removed;
} timer;

static guint
fake_add_timeout (guint ms, GSourceFunc func, gpointer data)
{
  g_assert_cmpuint (timer.id, ==, 0);
  timer.id = ++timer.last_id;
  timer.ms = ms;
  timer.func = func;
  timer.data = data;
  timer.added++;
  return timer.id;
}

static gboolean
fake_remove (guint id)
{
  g_assert_cmpuint (id, ==, timer.id);
  timer.id = 0;
  timer.removed++;
  return TRUE;
}

static gint32
dice_low (gint32 begin, gint32 end)
{
  g_assert_cmpint (begin, <, end);
  return begin;
}

static gint32
dice_high (gint32 begin, gint32 end)
{
  g_assert_cmpint (begin, <, end);
  return end - 1;
}

static const SgPolledClock low_clock = { fake_add_timeout, fake_remove, dice_low };

static void
fire_timer (void)
{
  GSourceFunc func = timer.func;

  g_assert_cmpuint (timer.id, !=, 0);
  timer.id = 0;
  g_assert_false (func (timer.data));
}

/* A source whose runs succeed or fail as its script says. */
typedef struct {
  const gboolean *script;
  guint n_script;
  gint runs;            /* atomic: counted in the worker thread */
  guint succeeded;
  guint failed;
  guint last_failures;
  guint last_delay;
  gint block;           /* atomic: the run waits for its cancellation */
  gint started;         /* atomic */
} Source;

static gboolean
source_run (gpointer data, GCancellable *cancellable, GError **error)
{
  Source *s = data;
  guint n = (guint) g_atomic_int_add (&s->runs, 1);

  if (g_atomic_int_get (&s->block)) {
    g_atomic_int_set (&s->started, 1);
    while (!g_cancellable_is_cancelled (cancellable))
      g_usleep (1000);
    return !g_cancellable_set_error_if_cancelled (cancellable, error);
  }
  g_assert_cmpuint (n, <, s->n_script);
  if (s->script[n])
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "run %u failed", n);
  return FALSE;
}

static void
source_succeeded (gpointer data)
{
  ((Source *) data)->succeeded++;
}

static void
source_failed (gpointer data, const GError *error, guint failures, guint delay_s)
{
  Source *s = data;

  s->failed++;
  s->last_failures = failures;
  s->last_delay = delay_s;
}

static const SgPolledFuncs source_funcs = { source_run, source_succeeded, source_failed };

/* Runs the main loop until the run in flight has reported. */
static void
wait_run (SgPolled *p)
{
  while (sg_polled_is_busy (p))
    g_main_context_iteration (NULL, TRUE);
}

static void
reset_timer (void)
{
  memset (&timer, 0, sizeof timer);
}

/* The IMAP and CalDAV accounts' schedule: 15 s after a first failure, doubled after each
 * further one, never longer than the poll interval; every wait up to a tenth longer. */
static void
test_next_wait_spread (void)
{
  const SgPolledSchedule sched = { 300, 15, 0, 10, SG_POLLED_JITTER_SPREAD, FALSE };
  const struct {
    guint failures, delay;
  } cases[] = { { 0, 300 }, { 1, 15 }, { 2, 30 }, { 3, 60 }, { 4, 120 }, { 5, 240 }, { 6, 300 }, { 40, 300 },
                { G_MAXUINT, 300 } };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    guint delay = 0;

    g_assert_cmpuint (sg_polled_next_wait (&sched, cases[i].failures, dice_low, &delay), ==,
                      (guint64) cases[i].delay * 1000);
    g_assert_cmpuint (delay, ==, cases[i].delay);
    g_assert_cmpuint (sg_polled_next_wait (&sched, cases[i].failures, dice_high, &delay), ==,
                      (guint64) cases[i].delay * 1100);
    g_assert_cmpuint (delay, ==, cases[i].delay);
  }
}

/* The team sync's schedule: 5 s doubled up to an hour, drawn between half the step and the
 * step; after a success the interval exactly. */
static void
test_next_wait_half (void)
{
  const SgPolledSchedule sched = { 300, 5, 3600, 12, SG_POLLED_JITTER_HALF, FALSE };
  const SgPolledSchedule tiny = { 300, 1, 3600, 12, SG_POLLED_JITTER_HALF, FALSE };
  const struct {
    guint failures, low, high;
  } cases[] = { { 0, 300, 300 },    { 1, 2, 4 },         { 2, 5, 10 },        { 3, 10, 20 },
                { 10, 1280, 2560 }, { 11, 1800, 3600 }, { 13, 1800, 3600 }, { 1000, 1800, 3600 } };
  guint delay = 0;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_assert_cmpuint (sg_polled_next_wait (&sched, cases[i].failures, dice_low, &delay), ==,
                      (guint64) cases[i].low * 1000);
    g_assert_cmpuint (delay, ==, cases[i].low);
    g_assert_cmpuint (sg_polled_next_wait (&sched, cases[i].failures, dice_high, &delay), ==,
                      (guint64) cases[i].high * 1000);
    g_assert_cmpuint (delay, ==, cases[i].high);
  }
  /* Never sooner than a second. */
  g_assert_cmpuint (sg_polled_next_wait (&tiny, 1, dice_low, &delay), ==, 1000);
  g_assert_cmpuint (delay, ==, 1);
}

/* Failures back off, a success resets them and polls at the interval, a failure after it
 * starts again from the first retry. */
static void
test_backoff (void)
{
  static const gboolean script[] = { FALSE, FALSE, FALSE, TRUE, FALSE, TRUE };
  const SgPolledSchedule sched = { 300, 15, 0, 10, SG_POLLED_JITTER_SPREAD, FALSE };
  Source s = { script, G_N_ELEMENTS (script) };
  SgPolled *p;

  reset_timer ();
  p = sg_polled_new (&source_funcs, &sched, &low_clock, &s);
  g_assert_false (sg_polled_is_done (p));
  sg_polled_run_now (p);
  g_assert_true (sg_polled_is_busy (p));
  wait_run (p);
  g_assert_true (sg_polled_is_done (p));
  g_assert_cmpuint (s.failed, ==, 1);
  g_assert_cmpuint (s.last_failures, ==, 1);
  g_assert_cmpuint (s.last_delay, ==, 15);
  g_assert_cmpuint (sg_polled_get_failures (p), ==, 1);
  g_assert_cmpuint (timer.ms, ==, 15000);

  fire_timer ();
  wait_run (p);
  g_assert_cmpuint (s.last_failures, ==, 2);
  g_assert_cmpuint (timer.ms, ==, 30000);
  fire_timer ();
  wait_run (p);
  g_assert_cmpuint (s.last_failures, ==, 3);
  g_assert_cmpuint (timer.ms, ==, 60000);

  fire_timer ();
  wait_run (p);
  g_assert_cmpuint (s.succeeded, ==, 1);
  g_assert_cmpuint (sg_polled_get_failures (p), ==, 0);
  g_assert_cmpuint (timer.ms, ==, 300000);

  fire_timer ();
  wait_run (p);
  g_assert_cmpuint (s.failed, ==, 4);
  g_assert_cmpuint (s.last_failures, ==, 1);
  g_assert_cmpuint (timer.ms, ==, 15000);

  fire_timer ();
  wait_run (p);
  g_assert_cmpint (g_atomic_int_get (&s.runs), ==, 6);
  g_assert_cmpuint (s.succeeded, ==, 2);
  g_assert_cmpuint (timer.added, ==, 6);
  /* The pending timer goes with the scaffold. */
  sg_polled_free (p);
  g_assert_cmpuint (timer.removed, ==, 1);
  g_assert_cmpuint (timer.id, ==, 0);
}

/* --once: one run, reported, and no timer, whether it failed or not. */
static void
test_once (void)
{
  static const gboolean script[] = { FALSE };
  const SgPolledSchedule sched = { 300, 15, 0, 10, SG_POLLED_JITTER_SPREAD, TRUE };
  Source s = { script, G_N_ELEMENTS (script) };
  SgPolled *p;

  reset_timer ();
  p = sg_polled_new (&source_funcs, &sched, &low_clock, &s);
  sg_polled_run_now (p);
  wait_run (p);
  g_assert_true (sg_polled_is_done (p));
  g_assert_cmpuint (s.failed, ==, 1);
  g_assert_cmpuint (timer.added, ==, 0);
  sg_polled_free (p);
}

/* A run asked for early (the team sync's local changes) replaces the pending timer; one
 * asked for while a run is in flight is dropped. */
static void
test_run_now (void)
{
  static const gboolean script[] = { TRUE, TRUE };
  const SgPolledSchedule sched = { 300, 5, 3600, 12, SG_POLLED_JITTER_HALF, FALSE };
  Source s = { script, G_N_ELEMENTS (script) };
  SgPolled *p;

  reset_timer ();
  p = sg_polled_new (&source_funcs, &sched, &low_clock, &s);
  sg_polled_run_now (p);
  sg_polled_run_now (p);
  wait_run (p);
  g_assert_cmpint (g_atomic_int_get (&s.runs), ==, 1);
  g_assert_cmpuint (timer.ms, ==, 300000);
  sg_polled_run_now (p);
  g_assert_cmpuint (timer.removed, ==, 1);
  wait_run (p);
  g_assert_cmpint (g_atomic_int_get (&s.runs), ==, 2);
  g_assert_cmpuint (s.succeeded, ==, 2);
  g_assert_cmpuint (timer.added, ==, 2);
  sg_polled_free (p);
}

/* Shutdown: freeing cancels the run in flight, waits for it, and neither reports it nor
 * plans another. */
static void
test_cancel_at_shutdown (void)
{
  const SgPolledSchedule sched = { 300, 15, 0, 10, SG_POLLED_JITTER_SPREAD, FALSE };
  Source s = { NULL, 0 };
  SgPolled *p;

  reset_timer ();
  s.block = 1;
  p = sg_polled_new (&source_funcs, &sched, &low_clock, &s);
  sg_polled_run_now (p);
  while (!g_atomic_int_get (&s.started))
    g_thread_yield ();
  g_assert_true (sg_polled_is_busy (p));
  sg_polled_free (p);
  g_assert_cmpint (g_atomic_int_get (&s.runs), ==, 1);
  g_assert_cmpuint (s.succeeded + s.failed, ==, 0);
  g_assert_cmpuint (timer.added, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/polled/next-wait/spread", test_next_wait_spread);
  g_test_add_func ("/polled/next-wait/half", test_next_wait_half);
  g_test_add_func ("/polled/backoff", test_backoff);
  g_test_add_func ("/polled/once", test_once);
  g_test_add_func ("/polled/run-now", test_run_now);
  g_test_add_func ("/polled/cancel-at-shutdown", test_cancel_at_shutdown);
  return g_test_run ();
}
