/* Unit tests of salesgetter-server's pure parts (no HTTP, no database). */
#include "config.h"

#include "srv-config.h"
#include "srv-db.h"
#include "srv-limit.h"
#include "srv-sync.h"
#include "srv-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <zlib.h>

static void
test_gzip_roundtrip (void)
{
  GString *s = g_string_new (NULL);
  for (int i = 0; i < 20000; i++)
    g_string_append_printf (s, "{\"n\":%d},", i);
  g_autoptr (GBytes) z = srv_gzip (s->str, s->len);
  g_assert_cmpuint (g_bytes_get_size (z), <, s->len / 4);
  g_autoptr (GError) e = NULL;
  g_autoptr (GBytes) back = srv_gunzip (g_bytes_get_data (z, NULL), g_bytes_get_size (z), 1 << 20, &e);
  g_assert_no_error (e);
  g_assert_cmpmem (g_bytes_get_data (back, NULL), g_bytes_get_size (back), s->str, s->len);
  /* An empty body compresses and comes back empty. */
  g_autoptr (GBytes) z0 = srv_gzip ("", 0);
  g_autoptr (GBytes) b0 = srv_gunzip (g_bytes_get_data (z0, NULL), g_bytes_get_size (z0), 10, &e);
  g_assert_no_error (e);
  g_assert_cmpuint (g_bytes_get_size (b0), ==, 0);
  g_string_free (s, TRUE);
}

static void
test_gzip_bad (void)
{
  const char text[] = "{\"protocol\": 1, \"device\": \"d\", \"ops\": []}";
  g_autoptr (GBytes) z = srv_gzip (text, sizeof text - 1);
  gsize n;
  const guint8 *d = g_bytes_get_data (z, &n);
  g_autoptr (GError) e = NULL;

  /* Every truncation is an error, never a short body taken as whole. */
  for (gsize cut = 0; cut < n; cut++) {
    g_autoptr (GBytes) b = srv_gunzip (d, cut, 1 << 20, &e);
    g_assert_null (b);
    g_assert_error (e, SRV_ERROR, SRV_ERROR_BAD_INPUT);
    g_clear_error (&e);
  }
  g_assert_null (srv_gunzip ("not gzip at all", 15, 1 << 20, &e));
  g_assert_error (e, SRV_ERROR, SRV_ERROR_BAD_INPUT);
  g_clear_error (&e);
  /* A bad CRC (last 8 bytes: CRC32 and length). */
  g_autofree guint8 *copy = g_memdup2 (d, n);
  copy[n - 6] ^= 0xff;
  g_assert_null (srv_gunzip (copy, n, 1 << 20, &e));
  g_assert_error (e, SRV_ERROR, SRV_ERROR_BAD_INPUT);
  g_clear_error (&e);
  /* Trailing bytes. */
  g_autofree guint8 *longer = g_malloc (n + 3);
  memcpy (longer, d, n);
  memcpy (longer + n, "abc", 3);
  g_assert_null (srv_gunzip (longer, n + 3, 1 << 20, &e));
  g_assert_error (e, SRV_ERROR, SRV_ERROR_BAD_INPUT);
  g_assert_nonnull (strstr (e->message, "after the end"));
  g_clear_error (&e);
  /* Over the limit once inflated: a distinct error. */
  g_autofree char *big = g_malloc0 (1 << 20);
  g_autoptr (GBytes) zb = srv_gzip (big, 1 << 20);
  g_assert_null (srv_gunzip (g_bytes_get_data (zb, NULL), g_bytes_get_size (zb), 1 << 19, &e));
  g_assert_error (e, SRV_ERROR, SRV_ERROR_TOO_LARGE);
}

static void
test_json_guard (void)
{
  g_autoptr (GError) e = NULL;
  const char *ok = "{\"a\": [[1], {\"b\": \"[[[[[[\"}], \"c\": \"\\\\u0000 is text here\"}";
  g_assert_true (srv_json_guard (ok, strlen (ok), 3, &e));
  g_assert_no_error (e);
  const char *deep = "[[[[1]]]]";
  g_assert_false (srv_json_guard (deep, strlen (deep), 3, &e));
  g_assert_error (e, SRV_ERROR, SRV_ERROR_BAD_INPUT);
  g_assert_nonnull (strstr (e->message, "byte 3"));
  g_clear_error (&e);
  const char *nul = "{\"a\": \"x\\u0000\"}";
  g_assert_false (srv_json_guard (nul, strlen (nul), 8, &e));
  g_assert_nonnull (strstr (e->message, "u0000"));
  g_clear_error (&e);
  const char bad_utf8[] = "{\"a\": \"\xc3\x28\"}";
  g_assert_false (srv_json_guard (bad_utf8, sizeof bad_utf8 - 1, 8, &e));
  g_assert_nonnull (strstr (e->message, "UTF-8"));
  g_assert_nonnull (strstr (e->message, "byte 7"));
}

static void
test_json_string (void)
{
  g_autoptr (GString) s = g_string_new (NULL);
  srv_json_append_string (s, "a\"b\\c\n\x01\xc3\xa9");
  g_assert_cmpstr (s->str, ==, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
}

static void
test_tokens (void)
{
  g_autoptr (GError) e = NULL;
  g_autofree char *a = srv_token_generate (&e);
  g_autofree char *b = srv_token_generate (&e);
  g_assert_no_error (e);
  g_assert_cmpuint (strlen (a), ==, 4 + 64);
  g_assert_true (g_str_has_prefix (a, "sgt_"));
  g_assert_cmpstr (a, !=, b);
  g_autofree char *h = srv_token_hash ("sgt_abc");
  /* sha256("sgt_abc"), computed with sha256sum. */
  g_assert_cmpstr (h, ==, "5e21159dbff19e979371e21cb843e63810a486f02db3986568f979fb29c3e425");
  g_autofree char *t1 = srv_bearer_token ("Bearer sgt_x");
  g_autofree char *t2 = srv_bearer_token ("bearer   sgt_y  ");
  g_assert_cmpstr (t1, ==, "sgt_x");
  g_assert_cmpstr (t2, ==, "sgt_y");
  g_assert_null (srv_bearer_token ("Basic abc"));
  g_assert_null (srv_bearer_token ("Bearer "));
  g_assert_null (srv_bearer_token ("Bearer a b"));
  g_assert_null (srv_bearer_token (NULL));
  g_assert_true (srv_accepts_gzip ("gzip"));
  g_assert_true (srv_accepts_gzip ("deflate, gzip;q=0.5"));
  g_assert_true (srv_accepts_gzip ("*"));
  g_assert_false (srv_accepts_gzip ("gzip;q=0"));
  g_assert_false (srv_accepts_gzip ("br, deflate"));
  g_assert_false (srv_accepts_gzip (NULL));
}

static void
test_cursor (void)
{
  gint64 seq = -1;
  g_assert_true (srv_cursor_parse ("", &seq));
  g_assert_cmpint (seq, ==, 0);
  g_assert_true (srv_cursor_parse (NULL, &seq));
  g_autofree char *c = srv_cursor_format (123456789012);
  g_assert_true (srv_cursor_parse (c, &seq));
  g_assert_cmpint (seq, ==, 123456789012);
  g_assert_false (srv_cursor_parse ("123", &seq));
  g_assert_false (srv_cursor_parse ("s-1", &seq));
  g_assert_false (srv_cursor_parse ("s1x", &seq));
  g_assert_false (srv_cursor_parse ("s99999999999999999999999", &seq));
}

static void
test_process_key (void)
{
  g_assert_true (srv_entity_is_process_family ("stage_history"));
  g_assert_false (srv_entity_is_process_family ("person"));
  g_assert_false (srv_entity_is_process_family ("tag_assignment"));
  g_autofree char *k1 = srv_op_process_key ("process", "u-1", NULL);
  g_autofree char *k2 = srv_op_process_key ("process_contact", "u-2|jane@x.com|buyer", NULL);
  g_autofree char *k3 = srv_op_process_key ("interaction_link", "a|b@x|u-3", NULL);
  g_autofree char *k4 = srv_op_process_key ("cx_note", "n-1", "u-4");
  g_autofree char *k5 = srv_op_process_key ("request", "r-1", NULL);
  g_autofree char *k6 = srv_op_process_key ("process_contact", "|x", NULL);
  g_assert_cmpstr (k1, ==, "u-1");
  g_assert_cmpstr (k2, ==, "u-2");
  g_assert_cmpstr (k3, ==, "u-3");
  g_assert_cmpstr (k4, ==, "u-4");
  g_assert_null (k5);
  g_assert_null (k6);
}

static SrvSyncRequest *
parse (const char *text, GError **e)
{
  return srv_sync_parse (text, strlen (text), e);
}

static void
test_parse (void)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (SrvSyncRequest) r = parse (
    "{\"protocol\": 1, \"device\": \"dev-1\", \"cursor\": \"s42\", \"limit\": 10, \"ops\": ["
    " {\"op_id\": \"dev-1:01a22771744d0001\", \"hlc\": \"01a22771744d0001\", \"entity\": \"cx_note\","
    "  \"key\": \"n1\", \"op\": \"upsert\", \"fields\": {\"process\": \"p-9\", \"text\": \"hi\"}},"
    " {\"op_id\": \"dev-1:01a22771744d0002\", \"hlc\": \"01A22771744D0002\", \"entity\": \"person\","
    "  \"key\": \"a@b\", \"op\": \"upsert\"},"
    " {\"op_id\": \"other:01a22771744d0003\", \"hlc\": \"01a22771744d0003\", \"entity\": \"person\","
    "  \"key\": \"a@b\", \"op\": \"upsert\"},"
    " {\"op_id\": \"dev-1:01a22771744d0004\", \"hlc\": \"01a22771744d0004\", \"entity\": \"person\","
    "  \"key\": \"a@b\", \"op\": \"add\", \"fields\": null}]}", &e);
  g_assert_no_error (e);
  g_assert_cmpstr (r->device, ==, "dev-1");
  g_assert_cmpint (r->cursor, ==, 42);
  g_assert_cmpuint (r->limit, ==, 10);
  g_assert_cmpuint (r->ops->len, ==, 4);
  SrvOp *o = g_ptr_array_index (r->ops, 0);
  g_assert_null (o->error);
  g_assert_cmpstr (o->scope, ==, "process");
  g_assert_cmpstr (o->process_key, ==, "p-9");
  g_assert_cmpstr (o->fields, ==, "{\"process\":\"p-9\",\"text\":\"hi\"}");
  o = g_ptr_array_index (r->ops, 1);
  g_assert_nonnull (o->error); /* upper-case hex */
  g_assert_true (g_str_has_prefix (o->error, "hlc"));
  o = g_ptr_array_index (r->ops, 2);
  g_assert_true (g_str_has_prefix (o->error, "op_id")); /* another device's op */
  o = g_ptr_array_index (r->ops, 3);
  g_assert_null (o->error);
  g_assert_cmpstr (o->fields, ==, "{}");
  g_assert_cmpstr (o->scope, ==, "shared");

  /* A clock more than a day ahead is rejected; an hour ahead is fine. */
  guint64 now_ms = (guint64) (g_get_real_time () / 1000);
  g_autofree char *future = g_strdup_printf (
    "{\"protocol\": 1, \"device\": \"d\", \"ops\": ["
    "{\"op_id\": \"d:%016" G_GINT64_MODIFIER "x\", \"hlc\": \"%016" G_GINT64_MODIFIER "x\", \"entity\": \"person\", \"key\": \"k\", \"op\": \"upsert\"},"
    "{\"op_id\": \"d:%016" G_GINT64_MODIFIER "x\", \"hlc\": \"%016" G_GINT64_MODIFIER "x\", \"entity\": \"person\", \"key\": \"k\", \"op\": \"upsert\"}]}",
    (guint64) ((now_ms + 2 * G_GUINT64_CONSTANT (86400000)) << 16),
    (guint64) ((now_ms + 2 * G_GUINT64_CONSTANT (86400000)) << 16),
    (guint64) ((now_ms + G_GUINT64_CONSTANT (3600000)) << 16),
    (guint64) ((now_ms + G_GUINT64_CONSTANT (3600000)) << 16));
  g_autoptr (SrvSyncRequest) fr = parse (future, &e);
  g_assert_no_error (e);
  SrvOp *f0 = g_ptr_array_index (fr->ops, 0), *f1 = g_ptr_array_index (fr->ops, 1);
  g_assert_nonnull (f0->error);
  g_assert_nonnull (strstr (f0->error, "clock"));
  g_assert_null (f1->error);

  /* A remove's `seen` (observed-remove sets): an hlc older than the op, else rejected,
   * naming the field; absent is fine (an older client). */
  g_autoptr (SrvSyncRequest) sr = parse (
    "{\"protocol\": 1, \"device\": \"d\", \"ops\": ["
    "{\"op_id\": \"d:01a22771744d0010\", \"hlc\": \"01a22771744d0010\", \"entity\": \"tag_assignment\", \"key\": \"k\","
    " \"op\": \"remove\", \"fields\": {\"seen\": \"01a22771744d0001\"}},"
    "{\"op_id\": \"d:01a22771744d0011\", \"hlc\": \"01a22771744d0011\", \"entity\": \"tag_assignment\", \"key\": \"k\","
    " \"op\": \"remove\", \"fields\": {\"seen\": \"01a22771744d0011\"}},"
    "{\"op_id\": \"d:01a22771744d0012\", \"hlc\": \"01a22771744d0012\", \"entity\": \"tag_assignment\", \"key\": \"k\","
    " \"op\": \"remove\", \"fields\": {\"seen\": \"01A22771744D0001\"}},"
    "{\"op_id\": \"d:01a22771744d0013\", \"hlc\": \"01a22771744d0013\", \"entity\": \"tag_assignment\", \"key\": \"k\","
    " \"op\": \"remove\", \"fields\": {\"seen\": null}},"
    "{\"op_id\": \"d:01a22771744d0014\", \"hlc\": \"01a22771744d0014\", \"entity\": \"tag_assignment\", \"key\": \"k\","
    " \"op\": \"remove\", \"fields\": {}},"
    "{\"op_id\": \"d:01a22771744d0015\", \"hlc\": \"01a22771744d0015\", \"entity\": \"tag_assignment\", \"key\": \"k\","
    " \"op\": \"add\", \"fields\": {\"seen\": \"whatever\"}}]}", &e);
  g_assert_no_error (e);
  g_assert_cmpuint (sr->ops->len, ==, 6);
  g_assert_null (((SrvOp *) g_ptr_array_index (sr->ops, 0))->error);
  g_assert_cmpstr (((SrvOp *) g_ptr_array_index (sr->ops, 1))->error, ==,
                   "fields.seen: 01a22771744d0011 is not older than the op's hlc 01a22771744d0011");
  g_assert_cmpstr (((SrvOp *) g_ptr_array_index (sr->ops, 2))->error, ==, "fields.seen: not 16 lower-case hex digits");
  g_assert_cmpstr (((SrvOp *) g_ptr_array_index (sr->ops, 3))->error, ==, "fields.seen: not 16 lower-case hex digits");
  g_assert_null (((SrvOp *) g_ptr_array_index (sr->ops, 4))->error);
  g_assert_null (((SrvOp *) g_ptr_array_index (sr->ops, 5))->error); /* not a remove: not looked at */

  /* Limits and whole-request errors. */
  g_autoptr (SrvSyncRequest) big = parse ("{\"protocol\": 1, \"device\": \"d\", \"limit\": 1000000}", &e);
  g_assert_no_error (e);
  g_assert_cmpuint (big->limit, ==, SRV_SYNC_MAX_OPS);
  static const struct { const char *body; const char *names; } bad[] = {
    { "", "empty" },
    { "   ", "object" },
    { "{\"protocol\": 1, \"device\": ", "not JSON" },
    { "[]", "object" },
    { "{\"device\": \"d\"}", "protocol" },
    { "{\"protocol\": \"1\", \"device\": \"d\"}", "protocol" },
    { "{\"protocol\": 1}", "device" },
    { "{\"protocol\": 1, \"device\": \"a b\"}", "device" },
    { "{\"protocol\": 1, \"device\": \"d\", \"cursor\": 5}", "cursor" },
    { "{\"protocol\": 1, \"device\": \"d\", \"limit\": -1}", "limit" },
    { "{\"protocol\": 1, \"device\": \"d\", \"limit\": 1.5}", "limit" },
    { "{\"protocol\": 1, \"device\": \"d\", \"ops\": [3]}", "ops[0]" },
    { "{\"protocol\": 1, \"device\": \"d\", \"ops\": [{\"op_id\": 7}]}", "ops[0].op_id" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (SrvSyncRequest) x = parse (bad[i].body, &e);
    g_assert_null (x);
    g_assert_error (e, SRV_ERROR, SRV_ERROR_BAD_INPUT);
    if (!strstr (e->message, bad[i].names))
      g_error ("%s: message \"%s\" does not name %s", bad[i].body, e->message, bad[i].names);
    g_clear_error (&e);
  }
  GString *many = g_string_new ("{\"protocol\": 1, \"device\": \"d\", \"ops\": [");
  for (int i = 0; i <= SRV_SYNC_MAX_OPS; i++)
    g_string_append (many, i ? ",{}" : "{}");
  g_string_append (many, "]}");
  g_assert_null (srv_sync_parse (many->str, many->len, &e));
  g_assert_error (e, SRV_ERROR, SRV_ERROR_TOO_LARGE);
  g_string_free (many, TRUE);
}

static void
test_pg_array (void)
{
  g_autoptr (GString) s = g_string_new ("{");
  srv_pg_array_append (s, "plain", FALSE);
  srv_pg_array_append (s, "a\"b\\c,{}", TRUE);
  srv_pg_array_append (s, NULL, TRUE);
  srv_pg_array_append (s, "NULL", TRUE);
  g_string_append_c (s, '}');
  g_assert_cmpstr (s->str, ==, "{\"plain\",\"a\\\"b\\\\c,{}\",NULL,\"NULL\"}");
}

/* The token bucket and the failure window, on a clock of our own. */
static void
test_limits (void)
{
  SrvLimiter *l = srv_limiter_new (3);
  const gint64 s = G_USEC_PER_SEC, t0 = 1000 * s;
  /* 60 a minute, bursts of 3: three at once, then one a second. */
  for (int i = 0; i < 3; i++)
    g_assert_cmpuint (srv_limit_take (l, "a", 60, 3, t0), ==, 0);
  g_assert_cmpuint (srv_limit_take (l, "a", 60, 3, t0), ==, 1);
  g_assert_cmpuint (srv_limit_take (l, "a", 60, 3, t0 + s / 2), ==, 1);
  g_assert_cmpuint (srv_limit_take (l, "a", 60, 3, t0 + s), ==, 0);
  g_assert_cmpuint (srv_limit_take (l, "a", 60, 3, t0 + s), ==, 1);
  /* Another key has its own bucket; a slow rate asks to wait longer. */
  g_assert_cmpuint (srv_limit_take (l, "b", 6, 1, t0), ==, 0);
  g_assert_cmpuint (srv_limit_take (l, "b", 6, 1, t0), ==, 10);
  /* No limit. */
  for (int i = 0; i < 100; i++)
    g_assert_cmpuint (srv_limit_take (l, "c", 0, 0, t0), ==, 0);

  /* Failures: 2 allowed in 60 s. */
  g_assert_cmpuint (srv_limit_failures_wait (l, "x", 2, 60, t0), ==, 0);
  srv_limit_failure (l, "x", 2, 60, t0);
  g_assert_cmpuint (srv_limit_failures_wait (l, "x", 2, 60, t0 + s), ==, 0);
  srv_limit_failure (l, "x", 2, 60, t0 + 10 * s);
  /* Blocked until the first failure leaves the window. */
  g_assert_cmpuint (srv_limit_failures_wait (l, "x", 2, 60, t0 + 10 * s), ==, 50);
  g_assert_cmpuint (srv_limit_failures_wait (l, "x", 2, 60, t0 + 59 * s), ==, 1);
  g_assert_cmpuint (srv_limit_failures_wait (l, "x", 2, 60, t0 + 60 * s), ==, 0);
  srv_limit_failure (l, "x", 2, 60, t0 + 61 * s);
  g_assert_cmpuint (srv_limit_failures_wait (l, "x", 2, 60, t0 + 61 * s), ==, 9);
  srv_limit_forget (l, "x");
  g_assert_cmpuint (srv_limit_failures_wait (l, "x", 2, 60, t0 + 61 * s), ==, 0);

  /* At most 3 keys: "a" and "b" (full again) make room for "y"; with "x", "y" and "z"
   * still in their windows there is none, and "w" is not tracked. */
  srv_limit_failure (l, "y", 1, 60, t0 + 61 * s);
  g_assert_cmpuint (srv_limit_failures_wait (l, "y", 1, 60, t0 + 61 * s), ==, 60);
  srv_limit_failure (l, "z", 1, 60, t0 + 61 * s);
  srv_limit_failure (l, "w", 1, 60, t0 + 61 * s);
  g_assert_cmpuint (srv_limit_failures_wait (l, "z", 1, 60, t0 + 62 * s), ==, 59);
  g_assert_cmpuint (srv_limit_failures_wait (l, "w", 1, 60, t0 + 62 * s), ==, 0);
  g_assert_cmpuint (srv_limit_take (l, "v", 60, 1, t0 + 62 * s), ==, 0);
  g_assert_cmpuint (srv_limit_take (l, "v", 60, 1, t0 + 62 * s), ==, 0);
  srv_limiter_free (l);
}

static char *
write_conf (const char *dir, const char *name, const char *text, int mode)
{
  char *p = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (p, text, -1, NULL));
  g_chmod (p, mode);
  return p;
}

static void
test_config (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sg-server-conf-XXXXXX", NULL);
  g_autoptr (GError) e = NULL;
  g_autofree char *p1 = write_conf (dir, "a.conf",
    "[server]\nlisten = ::1\nport = 9443\nthreads = 2\nbehind-proxy = true\nmax-body-mib = 8\n"
    "[database]\nurl = postgresql:///sg\n", 0644);
  g_autoptr (SrvConfig) c = srv_config_load (p1, &e);
  g_assert_no_error (e);
  g_assert_cmpstr (c->listen, ==, "::1");
  g_assert_cmpuint (c->port, ==, 9443);
  g_assert_cmpuint (c->threads, ==, 2);
  g_assert_cmpuint (c->pool_size, ==, 2);
  g_assert_cmpuint (c->max_body, ==, 8u << 20);
  g_assert_true (c->behind_proxy);
  /* The limits' defaults. */
  g_assert_cmpuint (c->sync_per_minute, ==, 600);
  g_assert_cmpuint (c->sync_burst, ==, 120);
  g_assert_cmpuint (c->login_failures_address, ==, 20);
  g_assert_cmpuint (c->login_failures_user, ==, 5);
  g_assert_cmpuint (c->login_window_s, ==, 15 * 60);
  g_autofree char *pl = write_conf (dir, "l.conf",
    "[server]\nbehind-proxy = true\n[database]\nurl = postgresql:///sg\n[limits]\nsync-per-minute = 0\n"
    "login-failures-per-user = 3\nlogin-window-minutes = 2\n", 0600);
  g_autoptr (SrvConfig) cl = srv_config_load (pl, &e);
  g_assert_no_error (e);
  g_assert_cmpuint (cl->sync_per_minute, ==, 0);
  g_assert_cmpuint (cl->login_failures_user, ==, 3);
  g_assert_cmpuint (cl->login_window_s, ==, 120);

  g_autofree char *secret = write_conf (dir, "db-url", "postgresql://u:pw@h/db\n", 0600);
  g_autofree char *key = write_conf (dir, "key.pem", "k", 0600);
  g_autofree char *cert = write_conf (dir, "cert.pem", "c", 0644);
  g_autofree char *p2 = write_conf (dir, "b.conf",
    "[server]\ntls-cert = cert.pem\ntls-key = key.pem\n[database]\nurl-file = db-url\npool-size = 3\n", 0644);
  g_autoptr (SrvConfig) c2 = srv_config_load (p2, &e);
  g_assert_no_error (e);
  g_assert_cmpstr (c2->database_url, ==, "postgresql://u:pw@h/db");
  g_assert_cmpstr (c2->tls_key, ==, key);
  g_assert_cmpuint (c2->pool_size, ==, 3);
  g_assert_cmpstr (c2->listen, ==, "127.0.0.1");

  static const struct { const char *text; const char *names; } bad[] = {
    { "[server]\nbehind-proxy = true\n", "[database] url" },
    { "[server]\nbehind-proxy = maybe\n[database]\nurl = x=y\n", "behind-proxy" },
    { "[server]\nbehind-proxy = true\nlisten = example.com\n[database]\nurl = x=y\n", "listen" },
    { "[server]\nbehind-proxy = true\nthreads = 0\n[database]\nurl = x=y\n", "threads" },
    { "[server]\n[database]\nurl = x=y\n", "tls-cert" },
    { "[server]\nbehind-proxy = true\n[database]\nurl = x=y\n[extra]\n", "[extra]" },
    { "[server]\nbehind-proxy = true\n[database]\nurl = 'unterminated\n", "url" },
    { "[server]\nbehind-proxy = true\ntls-key = key.pem\n[database]\nurl = x=y\n", "choose one" },
    { "[server]\nbehind-proxy = true\n[database]\nurl = postgresql:///sg\n[limits]\nsync-per-minute = -1\n", "[limits] sync-per-minute" },
    { "[server]\nbehind-proxy = true\n[database]\nurl = postgresql:///sg\n[limits]\nlogin-window-minutes = 0\n", "login-window-minutes" },
    { "[server]\nbehind-proxy = true\n[database]\nurl = postgresql:///sg\n[limits]\nsync-burst = 0\n", "sync-burst" },
    { "[server]\nbehind-proxy = true\n[database]\nurl = postgresql:///sg\n[limits]\nlogins = 3\n", "logins" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree char *p = write_conf (dir, "bad.conf", bad[i].text, 0600);
    g_autoptr (SrvConfig) x = srv_config_load (p, &e);
    g_assert_null (x);
    if (!strstr (e->message, bad[i].names) || !strstr (e->message, "bad.conf"))
      g_error ("config %u: message \"%s\" does not name %s and the file", i, e->message, bad[i].names);
    g_clear_error (&e);
  }
  /* Secrets readable by others. */
  g_chmod (secret, 0640);
  g_assert_null (srv_config_load (p2, &e));
  g_assert_nonnull (strstr (e->message, "url-file"));
  g_clear_error (&e);
  g_autofree char *p3 = write_conf (dir, "c.conf",
    "[server]\nbehind-proxy = true\n[database]\nurl = host=h password=pw\n", 0604);
  g_assert_null (srv_config_load (p3, &e));
  g_assert_nonnull (strstr (e->message, "password"));
  g_clear_error (&e);
  g_chmod (p3, 0600);
  g_autoptr (SrvConfig) c3 = srv_config_load (p3, &e);
  g_assert_no_error (e);

  const char *names[] = { "a.conf", "b.conf", "bad.conf", "c.conf", "db-url", "key.pem", "cert.pem", "l.conf" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree char *p = g_build_filename (dir, names[i], NULL);
    g_unlink (p);
  }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/gzip/roundtrip", test_gzip_roundtrip);
  g_test_add_func ("/server/gzip/bad", test_gzip_bad);
  g_test_add_func ("/server/json/guard", test_json_guard);
  g_test_add_func ("/server/json/string", test_json_string);
  g_test_add_func ("/server/tokens", test_tokens);
  g_test_add_func ("/server/cursor", test_cursor);
  g_test_add_func ("/server/process-key", test_process_key);
  g_test_add_func ("/server/sync/parse", test_parse);
  g_test_add_func ("/server/pg-array", test_pg_array);
  g_test_add_func ("/server/config", test_config);
  g_test_add_func ("/server/limits", test_limits);
  return g_test_run ();
}
