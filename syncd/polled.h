/* polled.h: the scaffold of the daemon's polled sources (IMAP and CalDAV accounts, the team
 * sync): a run in a worker thread, at start and then every interval; after a failure, again
 * sooner, backing off exponentially with jitter; a run in flight cancelled at shutdown. The
 * source says what a run does and what to log; the scaffold decides when. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _SgPolled SgPolled;

typedef struct {
  /* One run, in a worker thread; @data is the source's. Returns: FALSE with @error
   * (G_IO_ERROR_CANCELLED when @cancellable was cancelled: then neither callback runs). */
  gboolean (*run) (gpointer data, GCancellable *cancellable, GError **error);
  /* In the main loop, after a run that succeeded. (nullable) */
  void (*succeeded) (gpointer data);
  /* In the main loop, after a run that failed: the @failures-th in a row; the next run is
   * in @delay_s seconds (as the schedule says; not run again when once). */
  void (*failed) (gpointer data, const GError *error, guint failures, guint delay_s);
  /* Frees @data, from sg_polled_free() once no run is in flight. (nullable) */
  void (*free) (gpointer data);
} SgPolledFuncs;

typedef enum {
  /* Every wait, after a success or a failure, is lengthened by up to a tenth (in ms), so
   * that sources polled at the same interval spread out; @delay_s is the wait before it. */
  SG_POLLED_JITTER_SPREAD,
  /* A wait after a failure is drawn between half its step and the step ("full jitter",
   * whole seconds, at least 1); @delay_s is the wait drawn. A wait after a success is the
   * interval exactly. */
  SG_POLLED_JITTER_HALF,
} SgPolledJitter;

typedef struct {
  guint interval_s;     /* between runs that succeed */
  guint retry_first_s;  /* the first wait after a failure, doubled after each further one ... */
  guint retry_max_s;    /* ... up to this (0: the interval) ... */
  guint max_doublings;  /* ... and at most this many times */
  SgPolledJitter jitter;
  gboolean once;        /* run once, at start, and not again */
} SgPolledSchedule;

/* The clock and the dice, for tests: a timer (g_timeout_add, g_source_remove) and a random
 * integer in [begin, end) (g_random_int_range). */
typedef struct {
  guint (*add_timeout) (guint interval_ms, GSourceFunc func, gpointer data);
  gboolean (*remove) (guint id);
  gint32 (*random_range) (gint32 begin, gint32 end);
} SgPolledClock;

/* The wait, in milliseconds, before the next run after @failures failures in a row (0: after
 * a success); @delay_s: (out) (optional): the delay the failed callback is told. */
guint64 sg_polled_next_wait (const SgPolledSchedule *schedule, guint failures,
                             gint32 (*random_range) (gint32 begin, gint32 end), guint *delay_s);

/* @funcs and @schedule are copied; @data must outlive the scaffold (freed with it when
 * @funcs has a free function). @clock: (nullable): NULL
 * for the real one. Returns: (transfer full): not started. */
SgPolled *sg_polled_new (const SgPolledFuncs *funcs, const SgPolledSchedule *schedule,
                         const SgPolledClock *clock, gpointer data);
/* Runs now (unless a run is in flight), in place of a pending timer. */
void sg_polled_run_now (SgPolled *polled);
/* Stops a run in flight at its next check of the cancellable. */
void sg_polled_cancel (SgPolled *polled);
/* Cancelled by sg_polled_cancel(), for a run the source makes itself. (transfer none) */
GCancellable *sg_polled_get_cancellable (SgPolled *polled);
/* TRUE while a run is in flight. */
gboolean sg_polled_is_busy (SgPolled *polled);
/* TRUE once a run has ended and none is in flight. */
gboolean sg_polled_is_done (SgPolled *polled);
/* Failures in a row since the last success. */
guint sg_polled_get_failures (SgPolled *polled);
/* Cancels, waits for a run in flight to return (iterating the default main context),
 * removes the timer and frees the source's data. */
void sg_polled_free (SgPolled *polled);

G_END_DECLS
