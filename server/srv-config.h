/* srv-config.h: the server's config file (GKeyFile), see data/salesgetter-server.conf.example. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SRV_CONFIG_ERROR (srv_config_error_quark ())
GQuark srv_config_error_quark (void);

typedef struct {
  char *path;            /* the file read */
  char *listen;          /* address to bind, "127.0.0.1" by default */
  guint16 port;          /* 8765 by default */
  guint threads;         /* HTTP worker threads (thread pool), 4 by default */
  gboolean behind_proxy; /* plain HTTP, TLS ends at a reverse proxy */
  char *tls_cert;        /* PEM certificate chain (path) */
  char *tls_key;         /* PEM private key (path, must not be readable by group or others) */
  gsize max_body;        /* bytes, after decompression: 64 MiB by default */
  char *database_url;    /* libpq connection string or URL (from url, or url-file's content) */
  guint pool_size;       /* PostgreSQL connections, = threads by default */
  /* [limits] (0: no limit) */
  guint sync_per_minute;         /* POST /v1/sync per token: refill a minute, 600 by default */
  guint sync_burst;              /* ... and the bucket, 120 by default */
  guint login_failures_address;  /* failed dashboard logins per client address in the window, 20 */
  guint login_failures_user;     /* ... per login, 5 */
  guint login_window_s;          /* the window, login-window-minutes (15) */
} SrvConfig;

/* Reads and checks FILE: unknown groups or keys, bad values, TLS settings (a cert and a key,
 * or behind-proxy = true), secret files readable by others (the key, url-file, and the config
 * file itself when the URL carries a password) are errors naming the file and key.
 * Returns: (transfer full): the config, or NULL with @error set. */
SrvConfig *srv_config_load (const char *file, GError **error);
void srv_config_free (SrvConfig *config);

/* Checks that FILE is not readable or writable by group or others (secret files are 0600).
 * WHAT names the file in the message ("tls-key"). */
gboolean srv_check_secret_file (const char *file, const char *what, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SrvConfig, srv_config_free)

G_END_DECLS
