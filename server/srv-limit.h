/* srv-limit.h: rate limits kept in the server's memory (docs/internals/server.md "Rate
 * limits"): a token bucket per key (sync requests per API token) and a window of failures per
 * key (dashboard logins per client address and per login). Thread-safe. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SrvLimiter SrvLimiter;

/* MAX_KEYS bounds the memory: past it, keys whose state has expired are dropped, and a new
 * key that still finds no room is not tracked (srv_limit_take allows it). */
SrvLimiter *srv_limiter_new (guint max_keys);
void srv_limiter_free (SrvLimiter *limiter);

/* Token bucket of BURST tokens refilled at PER_MINUTE a minute: takes one token for KEY.
 * Returns 0 when allowed, else the whole seconds (at least 1) until a token is back.
 * PER_MINUTE 0: no limit. NOW_US: g_get_monotonic_time() (tests pass their own). */
guint srv_limit_take (SrvLimiter *limiter, const char *key, guint per_minute, guint burst, gint64 now_us);

/* Failures of KEY within the last WINDOW_S seconds: when there are MAX or more, returns the
 * whole seconds (at least 1) until the oldest of them leaves the window; else 0. MAX 0: no
 * limit. */
guint srv_limit_failures_wait (SrvLimiter *limiter, const char *key, guint max, guint window_s, gint64 now_us);
/* Records a failure of KEY (keeps at most MAX of them, the newest). */
void srv_limit_failure (SrvLimiter *limiter, const char *key, guint max, guint window_s, gint64 now_us);
/* Forgets KEY's failures (a successful login). */
void srv_limit_forget (SrvLimiter *limiter, const char *key);

G_END_DECLS
