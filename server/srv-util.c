/* srv-util.c: gzip with zlib, the JSON guard, tokens. */
#include "config.h"

#include "srv-util.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <zlib.h>

G_DEFINE_QUARK (srv-error-quark, srv_error)

GBytes *
srv_gunzip (const void *data, gsize len, gsize max, GError **error)
{
  z_stream z = { 0 };
  /* 16 + MAX_WBITS: a gzip header and trailer (CRC and length checked by zlib). */
  if (inflateInit2 (&z, 16 + MAX_WBITS) != Z_OK) {
    g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT, "gzip: cannot start zlib");
    return NULL;
  }
  GByteArray *out = g_byte_array_new ();
  guint8 buf[64 * 1024];
  z.next_in = (Bytef *) data;
  z.avail_in = 0;
  gsize left = len;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (z.avail_in == 0) {
      if (left == 0)
        break;
      uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt) left;
      z.avail_in = chunk;
      left -= chunk;
    }
    z.next_out = buf;
    z.avail_out = sizeof buf;
    rc = inflate (&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && z.avail_in > 0)) {
      g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT, "gzip body is corrupt at byte %lu: %s",
                   (unsigned long) z.total_in, z.msg ? z.msg : "bad data");
      goto fail;
    }
    gsize produced = sizeof buf - z.avail_out;
    if (out->len + produced > max) {
      g_set_error (error, SRV_ERROR, SRV_ERROR_TOO_LARGE,
                   "body is larger than %lu MiB once decompressed", (unsigned long) (max >> 20));
      goto fail;
    }
    g_byte_array_append (out, buf, (guint) produced);
  }
  if (rc != Z_STREAM_END) {
    g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT,
                 "gzip body is truncated (%lu bytes, the stream does not end)", (unsigned long) len);
    goto fail;
  }
  if (z.avail_in > 0 || left > 0) {
    g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT, "gzip body has %lu bytes after the end of its stream",
                 (unsigned long) (z.avail_in + left));
    goto fail;
  }
  inflateEnd (&z);
  return g_byte_array_free_to_bytes (out);
fail:
  inflateEnd (&z);
  g_byte_array_unref (out);
  return NULL;
}

GBytes *
srv_gzip (const void *data, gsize len)
{
  z_stream z = { 0 };
  /* Level 1: answers are made per request, on the server's CPU; the gain past 1 is small. */
  if (deflateInit2 (&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    g_error ("zlib: deflateInit2 failed (out of memory)");
  gsize bound = deflateBound (&z, (uLong) len);
  guint8 *out = g_malloc (bound);
  z.next_in = (Bytef *) data;
  z.avail_in = (uInt) len;
  z.next_out = out;
  z.avail_out = (uInt) bound;
  int rc = deflate (&z, Z_FINISH);
  g_assert (rc == Z_STREAM_END);
  gsize n = z.total_out;
  deflateEnd (&z);
  return g_bytes_new_take (g_realloc (out, n ? n : 1), n);
}

gboolean
srv_json_guard (const char *text, gsize len, guint max_depth, GError **error)
{
  const char *end = NULL;
  if (!g_utf8_validate_len (text, len, &end)) {
    g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT, "body is not valid UTF-8 (at byte %lu)",
                 (unsigned long) (end - text));
    return FALSE;
  }
  guint depth = 0;
  gboolean in_string = FALSE;
  for (gsize i = 0; i < len; i++) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        if (i + 5 < len && text[i + 1] == 'u' && memcmp (text + i + 2, "0000", 4) == 0) {
          g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT,
                       "JSON at byte %lu: \\u0000 in a string is not accepted", (unsigned long) i);
          return FALSE;
        }
        i++; /* skip the escaped character */
      } else if (c == '"') {
        in_string = FALSE;
      }
      continue;
    }
    if (c == '"') {
      in_string = TRUE;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT,
                     "JSON at byte %lu: nested deeper than %u levels", (unsigned long) i, max_depth);
        return FALSE;
      }
    } else if (c == ']' || c == '}') {
      if (depth > 0)
        depth--;
    }
  }
  return TRUE;
}

void
srv_json_append_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
    switch (*p) {
    case '"': g_string_append (out, "\\\""); break;
    case '\\': g_string_append (out, "\\\\"); break;
    case '\n': g_string_append (out, "\\n"); break;
    case '\r': g_string_append (out, "\\r"); break;
    case '\t': g_string_append (out, "\\t"); break;
    default:
      if (*p < 0x20)
        g_string_append_printf (out, "\\u%04x", *p);
      else
        g_string_append_c (out, (char) *p);
    }
  }
  g_string_append_c (out, '"');
}

char *
srv_token_generate (GError **error)
{
  guint8 raw[32];
  gsize got = 0;
  while (got < sizeof raw) {
    ssize_t n = getrandom (raw + got, sizeof raw - got, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int e = errno;
      g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT, "getrandom: %s", g_strerror (e));
      return NULL;
    }
    got += (gsize) n;
  }
  GString *t = g_string_new ("sgt_");
  for (gsize i = 0; i < sizeof raw; i++)
    g_string_append_printf (t, "%02x", raw[i]);
  memset (raw, 0, sizeof raw);
  return g_string_free (t, FALSE);
}

char *
srv_token_hash (const char *token)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
}

char *
srv_bearer_token (const char *authorization)
{
  if (authorization == NULL)
    return NULL;
  while (*authorization == ' ')
    authorization++;
  if (g_ascii_strncasecmp (authorization, "Bearer ", 7) != 0)
    return NULL;
  const char *t = authorization + 7;
  while (*t == ' ')
    t++;
  g_autofree char *tok = g_strdup (t);
  g_strchomp (tok);
  if (*tok == '\0' || strlen (tok) > 256 || strchr (tok, ' '))
    return NULL;
  return g_steal_pointer (&tok);
}

gboolean
srv_accepts_gzip (const char *accept_encoding)
{
  if (accept_encoding == NULL)
    return FALSE;
  g_auto (GStrv) parts = g_strsplit (accept_encoding, ",", -1);
  for (char **p = parts; *p; p++) {
    g_auto (GStrv) kv = g_strsplit (*p, ";", 2);
    g_strstrip (kv[0]);
    if (g_ascii_strcasecmp (kv[0], "gzip") != 0 && strcmp (kv[0], "*") != 0)
      continue;
    if (kv[1]) {
      char *q = strstr (kv[1], "q=");
      if (q && g_ascii_strtod (q + 2, NULL) <= 0.0)
        return FALSE;
    }
    return TRUE;
  }
  return FALSE;
}
