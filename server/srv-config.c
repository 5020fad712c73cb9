/* srv-config.c: reading salesgetter-server.conf. */
#include "config.h"

#include "srv-config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <string.h>
#include <sys/stat.h>

G_DEFINE_QUARK (srv-config-error-quark, srv_config_error)

/* Every group and key we know, so that a typo is reported instead of ignored. */
static const struct {
  const char *group;
  const char *keys[12];
} known[] = {
  { "server", { "listen", "port", "threads", "behind-proxy", "tls-cert", "tls-key", "max-body-mib", NULL } },
  { "database", { "url", "url-file", "pool-size", NULL } },
  { "limits", { "sync-per-minute", "sync-burst", "login-failures-per-address", "login-failures-per-user",
                "login-window-minutes", NULL } },
};

void
srv_config_free (SrvConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->path);
  g_free (config->listen);
  g_free (config->tls_cert);
  g_free (config->tls_key);
  if (config->database_url)
    memset (config->database_url, 0, strlen (config->database_url));
  g_free (config->database_url);
  g_free (config);
}

static gboolean
bad (GError **error, const SrvConfig *c, const char *group, const char *key, const char *fmt, ...) G_GNUC_PRINTF (5, 6);

static gboolean
bad (GError **error, const SrvConfig *c, const char *group, const char *key, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *why = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, SRV_CONFIG_ERROR, 1, "%s: [%s] %s: %s", c->path, group, key, why);
  return FALSE;
}

gboolean
srv_check_secret_file (const char *file, const char *what, GError **error)
{
  struct stat st;

  if (g_stat (file, &st) != 0) {
    int e = errno;
    g_set_error (error, SRV_CONFIG_ERROR, 1, "%s %s: %s", what, file, g_strerror (e));
    return FALSE;
  }
  if (!S_ISREG (st.st_mode)) {
    g_set_error (error, SRV_CONFIG_ERROR, 1, "%s %s: not a regular file", what, file);
    return FALSE;
  }
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    g_set_error (error, SRV_CONFIG_ERROR, 1,
                 "%s %s holds a secret but is readable by others (mode %03o); chmod 600 it",
                 what, file, (unsigned) (st.st_mode & 0777));
    return FALSE;
  }
  return TRUE;
}

static char *
path_value (GKeyFile *kf, const char *group, const char *key, const char *config_path)
{
  g_autofree char *v = g_key_file_get_string (kf, group, key, NULL);
  if (v == NULL || *v == '\0')
    return NULL;
  if (g_path_is_absolute (v))
    return g_steal_pointer (&v);
  g_autofree char *dir = g_path_get_dirname (config_path);
  return g_build_filename (dir, v, NULL);
}

static gboolean
int_value (GKeyFile *kf, const SrvConfig *c, const char *group, const char *key, gint64 min, gint64 max,
           gint64 *out, GError **error)
{
  g_autofree char *v = g_key_file_get_string (kf, group, key, NULL);
  if (v == NULL)
    return TRUE;
  g_strstrip (v);
  gint64 n;
  g_autoptr (GError) e = NULL;
  if (!g_ascii_string_to_signed (v, 10, min, max, &n, &e))
    return bad (error, c, group, key, "\"%s\" is not a whole number from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
                v, min, max);
  *out = n;
  return TRUE;
}

SrvConfig *
srv_config_load (const char *file, GError **error)
{
  g_autoptr (SrvConfig) c = g_new0 (SrvConfig, 1);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) e = NULL;

  c->path = g_strdup (file);
  if (!g_key_file_load_from_file (kf, file, G_KEY_FILE_NONE, &e)) {
    g_set_error (error, SRV_CONFIG_ERROR, 1, "%s: %s", file, e->message);
    return NULL;
  }

  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);
  for (char **g = groups; *g; g++) {
    int gi = -1;
    for (guint i = 0; i < G_N_ELEMENTS (known); i++)
      if (strcmp (known[i].group, *g) == 0)
        gi = (int) i;
    if (gi < 0) {
      g_set_error (error, SRV_CONFIG_ERROR, 1, "%s: unknown group [%s] (known: [server], [database], [limits])", file, *g);
      return NULL;
    }
    g_auto (GStrv) keys = g_key_file_get_keys (kf, *g, NULL, NULL);
    for (char **k = keys; k && *k; k++) {
      gboolean ok = FALSE;
      for (const char *const *kk = known[gi].keys; *kk; kk++)
        if (strcmp (*kk, *k) == 0)
          ok = TRUE;
      if (!ok) {
        g_set_error (error, SRV_CONFIG_ERROR, 1, "%s: [%s] unknown key %s", file, *g, *k);
        return NULL;
      }
    }
  }

  c->listen = g_key_file_get_string (kf, "server", "listen", NULL);
  if (c->listen == NULL || *g_strstrip (c->listen) == '\0') {
    g_free (c->listen);
    c->listen = g_strdup ("127.0.0.1");
  }
  if (!g_hostname_is_ip_address (c->listen)) {
    bad (error, c, "server", "listen", "\"%s\" is not an IPv4 or IPv6 address", c->listen);
    return NULL;
  }
  gint64 n = 8765;
  if (!int_value (kf, c, "server", "port", 1, 65535, &n, error))
    return NULL;
  c->port = (guint16) n;
  n = 4;
  if (!int_value (kf, c, "server", "threads", 1, 256, &n, error))
    return NULL;
  c->threads = (guint) n;
  n = 64;
  if (!int_value (kf, c, "server", "max-body-mib", 1, 1024, &n, error))
    return NULL;
  c->max_body = (gsize) n * 1024 * 1024;

  if (g_key_file_has_key (kf, "server", "behind-proxy", NULL)) {
    c->behind_proxy = g_key_file_get_boolean (kf, "server", "behind-proxy", &e);
    if (e) {
      bad (error, c, "server", "behind-proxy", "not true or false");
      return NULL;
    }
  }
  c->tls_cert = path_value (kf, "server", "tls-cert", file);
  c->tls_key = path_value (kf, "server", "tls-key", file);
  if (c->behind_proxy && (c->tls_cert || c->tls_key)) {
    bad (error, c, "server", "behind-proxy", "true, but tls-cert or tls-key is set too; choose one");
    return NULL;
  }
  if (!c->behind_proxy) {
    if (!c->tls_cert || !c->tls_key) {
      bad (error, c, "server", c->tls_cert ? "tls-key" : "tls-cert",
           "missing: set tls-cert and tls-key, or behind-proxy = true when a reverse proxy ends TLS");
      return NULL;
    }
    if (!g_file_test (c->tls_cert, G_FILE_TEST_IS_REGULAR)) {
      bad (error, c, "server", "tls-cert", "%s is not a readable file", c->tls_cert);
      return NULL;
    }
    if (!srv_check_secret_file (c->tls_key, "tls-key", &e)) {
      bad (error, c, "server", "tls-key", "%s", e->message);
      return NULL;
    }
  }

  g_autofree char *url = g_key_file_get_string (kf, "database", "url", NULL);
  g_autofree char *url_file = path_value (kf, "database", "url-file", file);
  if (url && url_file) {
    bad (error, c, "database", "url", "set url or url-file, not both");
    return NULL;
  }
  if (url_file) {
    if (!srv_check_secret_file (url_file, "url-file", &e)) {
      bad (error, c, "database", "url-file", "%s", e->message);
      return NULL;
    }
    g_autofree char *text = NULL;
    if (!g_file_get_contents (url_file, &text, NULL, &e)) {
      bad (error, c, "database", "url-file", "%s", e->message);
      return NULL;
    }
    url = g_strdup (g_strstrip (text));
    memset (text, 0, strlen (text));
  }
  if (url == NULL || *g_strstrip (url) == '\0') {
    bad (error, c, "database", "url", "missing: the PostgreSQL database, e.g. postgresql://salesgetter@localhost/salesgetter");
    return NULL;
  }
  char *perr = NULL;
  PQconninfoOption *opts = PQconninfoParse (url, &perr);
  if (opts == NULL) {
    bad (error, c, url_file ? "database" : "database", url_file ? "url-file" : "url",
         "not a PostgreSQL connection string: %s", perr ? g_strstrip (perr) : "out of memory");
    PQfreemem (perr);
    return NULL;
  }
  gboolean has_password = FALSE;
  for (PQconninfoOption *o = opts; o->keyword; o++)
    if (strcmp (o->keyword, "password") == 0 && o->val && *o->val)
      has_password = TRUE;
  PQconninfoFree (opts);
  if (has_password && !url_file && !srv_check_secret_file (file, "config file", &e)) {
    bad (error, c, "database", "url", "carries a password: %s (or move the URL to url-file)", e->message);
    return NULL;
  }
  c->database_url = g_steal_pointer (&url);
  n = c->threads;
  if (!int_value (kf, c, "database", "pool-size", 1, 256, &n, error))
    return NULL;
  c->pool_size = (guint) n;

  static const struct {
    const char *key;
    gint64 def, max;
    gsize offset;
  } limits[] = {
    { "sync-per-minute", 600, 1000000, G_STRUCT_OFFSET (SrvConfig, sync_per_minute) },
    { "sync-burst", 120, 1000000, G_STRUCT_OFFSET (SrvConfig, sync_burst) },
    { "login-failures-per-address", 20, 1000000, G_STRUCT_OFFSET (SrvConfig, login_failures_address) },
    { "login-failures-per-user", 5, 1000000, G_STRUCT_OFFSET (SrvConfig, login_failures_user) },
    { "login-window-minutes", 15, 7 * 24 * 60, G_STRUCT_OFFSET (SrvConfig, login_window_s) },
  };
  for (guint i = 0; i < G_N_ELEMENTS (limits); i++) {
    n = limits[i].def;
    if (!int_value (kf, c, "limits", limits[i].key, 0, limits[i].max, &n, error))
      return NULL;
    G_STRUCT_MEMBER (guint, c, limits[i].offset) = (guint) n;
  }
  c->login_window_s *= 60;
  if (c->login_window_s == 0 && (c->login_failures_address || c->login_failures_user)) {
    bad (error, c, "limits", "login-window-minutes", "0, but failed logins are limited: give the window in minutes");
    return NULL;
  }
  if (c->sync_per_minute && c->sync_burst == 0) {
    bad (error, c, "limits", "sync-burst", "0, but sync-per-minute is set: give the burst (at least 1)");
    return NULL;
  }
  return g_steal_pointer (&c);
}
