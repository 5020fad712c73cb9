/* test-polled.c: the daemon's polled-source scaffold (syncd/polled.c): when runs happen after
 * successes and failures (backoff, jitter, its caps), the reset after a success, --once, a
 * run started early in place of its timer, and the cancellation at shutdown; the team sync's
 * debounce after local changes (syncd/sync-watch.c), also for changes made while a sync runs.
 * The clock and the dice are injected, so nothing here waits for a timer. */
#include "config.h"

#include "polled.h"
#include "sync-watch.h"

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

/* The team sync's source as syncd/sync.c drives it: a store whose pending ops the test
 * counts, a run that pushes them (and during which the user may make more), the watch that
 * looks every 2 s, the monotonic time the test's own. */
#define WATCH_US (2 * G_USEC_PER_SEC)
#define DEBOUNCE_US (5 * G_USEC_PER_SEC)

typedef struct {
  SgSyncWatch watch;
  gint64 now;         /* µs */
  gint pending;       /* atomic: ops in the change log not yet pushed */
  gint log_during;    /* atomic: ops the user makes while the next run is in flight */
  gint runs;          /* atomic */
  guint succeeded;
} Team;

static gboolean
team_run (gpointer data, GCancellable *cancellable, GError **error)
{
  Team *t = data;

  g_atomic_int_inc (&t->runs);
  /* The run pushes everything pending; then (after its last round trip) the user logs more. */
  g_atomic_int_set (&t->pending, g_atomic_int_get (&t->log_during));
  g_atomic_int_set (&t->log_during, 0);
  return TRUE;
}

static void
team_succeeded (gpointer data)
{
  Team *t = data;

  t->succeeded++;
  sg_sync_watch_synced (&t->watch, t->now, g_atomic_int_get (&t->pending));
}

static void
team_failed (gpointer data, const GError *error, guint failures, guint delay_s)
{
  sg_sync_watch_failed (&((Team *) data)->watch);
}

static const SgPolledFuncs team_funcs = { team_run, team_succeeded, team_failed };

/* One look of the watch, 2 s after the last (as on_watch in sync.c): starts a sync when the
 * debounce says so. Returns: whether it started one. */
static gboolean
team_tick (Team *t, SgPolled *p)
{
  t->now += WATCH_US;
  if (sg_polled_is_busy (p) || sg_polled_get_failures (p) > 0)
    return FALSE;
  if (!sg_sync_watch_tick (&t->watch, t->now, g_atomic_int_get (&t->pending), DEBOUNCE_US))
    return FALSE;
  sg_polled_run_now (p);
  wait_run (p);
  return TRUE;
}

/* A change logged while a sync runs goes out about DEBOUNCE_S after that sync, not at the
 * next interval (300 s here): issue 6 asks the daemon to sync on change. A burst of changes
 * is debounced from its last one; with nothing pending no sync starts early. */
static void
test_sync_debounce (void)
{
  const SgPolledSchedule sched = { 300, 5, 3600, 12, SG_POLLED_JITTER_HALF, FALSE };
  Team t = { { 0 } };
  SgPolled *p;
  guint ticks;

  reset_timer ();
  t.now = 1000 * G_USEC_PER_SEC;
  p = sg_polled_new (&team_funcs, &sched, &low_clock, &t);

  /* The start-up sync; the user logs 3 ops while it runs, after its last round trip. */
  g_atomic_int_set (&t.log_during, 3);
  sg_polled_run_now (p);
  wait_run (p);
  g_assert_cmpuint (t.succeeded, ==, 1);
  g_assert_cmpint (g_atomic_int_get (&t.pending), ==, 3);
  g_assert_cmpuint (timer.ms, ==, 300000);

  /* They are not left for the interval's timer: the watch starts a sync 6 s later (the first
   * look at 2 s or more past the 5 s debounce). */
  for (ticks = 1; ticks <= 150 && !team_tick (&t, p); ticks++)
    ;
  g_assert_cmpuint (ticks, ==, 3);
  g_assert_cmpint (g_atomic_int_get (&t.runs), ==, 2);
  g_assert_cmpint (g_atomic_int_get (&t.pending), ==, 0);
  /* It ran in place of the interval's timer, which starts again from it. */
  g_assert_cmpuint (timer.removed, ==, 1);
  g_assert_cmpuint (timer.added, ==, 2);

  /* Nothing pending: no sync before the interval. */
  for (ticks = 0; ticks < 100; ticks++)
    g_assert_false (team_tick (&t, p));
  g_assert_cmpint (g_atomic_int_get (&t.runs), ==, 2);

  /* A burst: one op at each look for 10 s; the sync comes 5 s (3 looks) after the last. */
  for (ticks = 0; ticks < 5; ticks++) {
    g_atomic_int_inc (&t.pending);
    g_assert_false (team_tick (&t, p));
  }
  g_assert_false (team_tick (&t, p));
  g_assert_false (team_tick (&t, p));
  g_assert_true (team_tick (&t, p));
  g_assert_cmpint (g_atomic_int_get (&t.runs), ==, 3);
  g_assert_cmpint (g_atomic_int_get (&t.pending), ==, 0);

  /* A sync that fails leaves the next try to the backoff; the watch starts nothing. */
  g_atomic_int_set (&t.pending, 2);
  sg_sync_watch_tick (&t.watch, t.now, 2, DEBOUNCE_US);
  sg_sync_watch_failed (&t.watch);
  g_assert_false (sg_sync_watch_tick (&t.watch, t.now + 60 * G_USEC_PER_SEC, 2, DEBOUNCE_US));
  /* ... until the count changes again. */
  g_assert_false (sg_sync_watch_tick (&t.watch, t.now + 62 * G_USEC_PER_SEC, 3, DEBOUNCE_US));
  g_assert_true (sg_sync_watch_tick (&t.watch, t.now + 67 * G_USEC_PER_SEC, 3, DEBOUNCE_US));
  sg_polled_free (p);
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
  g_test_add_func ("/polled/sync-debounce", test_sync_debounce);
  return g_test_run ();
}
