/* srv-util.h: the pure parts of the server (no HTTP, no database): gzip, a guard run over
 * JSON before json-glib parses it, JSON string escaping, tokens. Unit-tested in
 * tests/unit/test-server.c. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SRV_ERROR (srv_error_quark ())
GQuark srv_error_quark (void);

typedef enum {
  SRV_ERROR_BAD_INPUT, /* 400 */
  SRV_ERROR_TOO_LARGE, /* 413 */
} SrvError;

/* Inflates a gzip stream of LEN bytes. The result is at most MAX bytes (else
 * SRV_ERROR_TOO_LARGE); a truncated or corrupt stream, or bytes after its end, is
 * SRV_ERROR_BAD_INPUT. Returns: (transfer full): the data, or NULL. */
GBytes *srv_gunzip (const void *data, gsize len, gsize max, GError **error);
/* Deflates DATA into a gzip stream. */
GBytes *srv_gzip (const void *data, gsize len);

/* Before json-glib (whose parser recurses) sees a body: the body must be UTF-8, nest at most
 * MAX_DEPTH arrays and objects, and hold no \u0000 in strings (PostgreSQL's jsonb cannot store
 * it). Errors name the byte offset. */
gboolean srv_json_guard (const char *text, gsize len, guint max_depth, GError **error);

/* Appends S as a JSON string (quotes included) to OUT. S must be UTF-8. */
void srv_json_append_string (GString *out, const char *s);

/* A new API token: "sgt_" and 64 lower-case hex digits (256 random bits from getrandom). */
char *srv_token_generate (GError **error);
/* The hex SHA-256 of TOKEN, what the tokens table keeps. */
char *srv_token_hash (const char *token);

/* Reads "Bearer <token>" (scheme case-insensitive). Returns: (transfer full) (nullable). */
char *srv_bearer_token (const char *authorization);
/* TRUE when an Accept-Encoding header value accepts gzip (gzip listed and not q=0). */
gboolean srv_accepts_gzip (const char *accept_encoding);

G_END_DECLS
