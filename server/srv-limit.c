/* srv-limit.c: token buckets and failure windows in memory (srv-limit.h). */
#include "config.h"

#include "srv-limit.h"

typedef struct {
  double tokens;    /* bucket: tokens left at LAST */
  gint64 last;      /* bucket: when TOKENS was computed (monotonic µs) */
  GQueue failures;  /* failure times (gint64 µs, boxed), oldest first */
  gint64 expires;   /* when this entry holds nothing worth keeping */
} Entry;

struct _SrvLimiter {
  GMutex lock;
  GHashTable *keys; /* char* -> Entry* */
  guint max_keys;
};

static void
entry_free (gpointer p)
{
  Entry *e = p;
  g_queue_clear_full (&e->failures, g_free);
  g_free (e);
}

SrvLimiter *
srv_limiter_new (guint max_keys)
{
  SrvLimiter *l = g_new0 (SrvLimiter, 1);
  g_mutex_init (&l->lock);
  l->keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, entry_free);
  l->max_keys = max_keys;
  return l;
}

void
srv_limiter_free (SrvLimiter *limiter)
{
  if (limiter == NULL)
    return;
  g_hash_table_unref (limiter->keys);
  g_mutex_clear (&limiter->lock);
  g_free (limiter);
}

/* The entry of KEY, made when missing and there is room (else NULL). Lock held. */
static Entry *
entry_get (SrvLimiter *l, const char *key, gint64 now)
{
  Entry *e = g_hash_table_lookup (l->keys, key);
  if (e)
    return e;
  if (g_hash_table_size (l->keys) >= l->max_keys) {
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init (&it, l->keys);
    while (g_hash_table_iter_next (&it, NULL, &v))
      if (((Entry *) v)->expires <= now)
        g_hash_table_iter_remove (&it);
    if (g_hash_table_size (l->keys) >= l->max_keys)
      return NULL;
  }
  e = g_new0 (Entry, 1);
  e->last = now;
  e->tokens = -1; /* a full bucket, set on first use */
  g_queue_init (&e->failures);
  g_hash_table_insert (l->keys, g_strdup (key), e);
  return e;
}

static guint
whole_seconds (double us)
{
  double s = us / G_USEC_PER_SEC;
  guint n = (guint) s;
  if ((double) n < s)
    n++;
  return MAX (n, 1);
}

guint
srv_limit_take (SrvLimiter *limiter, const char *key, guint per_minute, guint burst, gint64 now_us)
{
  if (per_minute == 0)
    return 0;
  burst = MAX (burst, 1);
  double rate = per_minute / 60.0 / G_USEC_PER_SEC; /* tokens per µs */
  guint wait = 0;
  g_mutex_lock (&limiter->lock);
  Entry *e = entry_get (limiter, key, now_us);
  if (e) {
    if (e->tokens < 0)
      e->tokens = burst;
    e->tokens = MIN ((double) burst, e->tokens + (double) (now_us - e->last) * rate);
    e->last = now_us;
    if (e->tokens >= 1.0) {
      e->tokens -= 1.0;
    } else {
      wait = whole_seconds ((1.0 - e->tokens) / rate);
    }
    /* Full again by then: nothing to remember past it. */
    gint64 full = now_us + (gint64) (((double) burst - e->tokens) / rate);
    e->expires = MAX (e->expires, full);
  }
  g_mutex_unlock (&limiter->lock);
  return wait;
}

/* Drops failures older than the window. Lock held. */
static void
expire (Entry *e, guint window_s, gint64 now)
{
  gint64 *t;
  while ((t = g_queue_peek_head (&e->failures)) && *t <= now - (gint64) window_s * G_USEC_PER_SEC)
    g_free (g_queue_pop_head (&e->failures));
}

guint
srv_limit_failures_wait (SrvLimiter *limiter, const char *key, guint max, guint window_s, gint64 now_us)
{
  if (max == 0)
    return 0;
  guint wait = 0;
  g_mutex_lock (&limiter->lock);
  Entry *e = g_hash_table_lookup (limiter->keys, key);
  if (e) {
    expire (e, window_s, now_us);
    if (e->failures.length >= max) {
      /* Blocked until enough of them have left the window to be under MAX again. */
      gint64 *t = g_queue_peek_nth (&e->failures, e->failures.length - max);
      wait = whole_seconds ((double) (*t + (gint64) window_s * G_USEC_PER_SEC - now_us));
    }
  }
  g_mutex_unlock (&limiter->lock);
  return wait;
}

void
srv_limit_failure (SrvLimiter *limiter, const char *key, guint max, guint window_s, gint64 now_us)
{
  if (max == 0)
    return;
  g_mutex_lock (&limiter->lock);
  Entry *e = entry_get (limiter, key, now_us);
  if (e) {
    expire (e, window_s, now_us);
    gint64 *t = g_new (gint64, 1);
    *t = now_us;
    g_queue_push_tail (&e->failures, t);
    while (e->failures.length > max)
      g_free (g_queue_pop_head (&e->failures));
    e->expires = MAX (e->expires, now_us + (gint64) window_s * G_USEC_PER_SEC);
  }
  g_mutex_unlock (&limiter->lock);
}

void
srv_limit_forget (SrvLimiter *limiter, const char *key)
{
  g_mutex_lock (&limiter->lock);
  Entry *e = g_hash_table_lookup (limiter->keys, key);
  if (e)
    g_queue_clear_full (&e->failures, g_free);
  g_mutex_unlock (&limiter->lock);
}
