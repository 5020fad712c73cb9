/* sg-sync.c: the client half of the team sync: the push codec with the privacy rules, the
 * merge of pulled ops, and the HTTP round trips (libcurl). See schema/sync.md and
 * docs/internals/sync-client.md. */
#include "config.h"

#include "sg-sync.h"
#include "sg-identity.h"
#include "sg-message.h"
#include "sg-text.h"
#include "sg-private.h"
#include "sg-process-private.h"
#include "sg-autocleanups.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK (sg-sync-error-quark, sg_sync_error)

#define PROTOCOL 1
#define MAX_OPS_PER_REQUEST 5000
#define MAX_ANSWER_BYTES (256u * 1024 * 1024)
#define MAX_BODY_BYTES (25u * 1024 * 1024)
/* A device clock further than this from the server's (seconds) is named in sync --status. */
#define CLOCK_WARN_S 600
/* Level 3: half the CPU of level 6 for about 17% more bytes on a push of 5000 ops
 * (bench/sync-apply-bench.c, bench/README.md "Sync client CPU"). */
#define GZIP_LEVEL 3

/* changes.acked */
#define ACK_PENDING 0
#define ACK_DONE 1
#define ACK_WITHHELD 2
#define ACK_REJECTED 3
/* Withheld because the person or organisation is known here only from mail in private
 * folders: looked at again at every push, and sent once other mail shows them. */
#define ACK_PRIVATE 4

struct _SgSyncSettings {
  SgShareLevel share;
  GPtrArray *domains;   /* lower case */
  GPtrArray *addresses; /* normalised */
  GPtrArray *folders;
  char *server;
  char *token;
  char *ca_file;
  guint timeout;
  guint connect_timeout;
};

/* --- settings --------------------------------------------------------------------------- */

static const char *const share_names[] = { "metadata", "subjects", "full" };

gboolean
sg_share_level_from_string (const char *text, SgShareLevel *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (share_names); i++)
    if (g_strcmp0 (text, share_names[i]) == 0) {
      *out = (SgShareLevel) i;
      return TRUE;
    }
  return FALSE;
}

const char *
sg_share_level_to_string (SgShareLevel level)
{
  return (guint) level < G_N_ELEMENTS (share_names) ? share_names[level] : "metadata";
}

SgSyncSettings *
sg_sync_settings_new (void)
{
  SgSyncSettings *s = g_new0 (SgSyncSettings, 1);

  s->share = SG_SHARE_METADATA;
  s->domains = g_ptr_array_new_with_free_func (g_free);
  s->addresses = g_ptr_array_new_with_free_func (g_free);
  s->folders = g_ptr_array_new_with_free_func (g_free);
  s->timeout = 120;
  s->connect_timeout = 20;
  return s;
}

void
sg_sync_settings_free (SgSyncSettings *s)
{
  if (s == NULL)
    return;
  g_ptr_array_unref (s->domains);
  g_ptr_array_unref (s->addresses);
  g_ptr_array_unref (s->folders);
  g_free (s->server);
  if (s->token)
    memset (s->token, 0, strlen (s->token));
  g_free (s->token);
  g_free (s->ca_file);
  g_free (s);
}

void
sg_sync_settings_set_share (SgSyncSettings *s, SgShareLevel level)
{
  s->share = level;
}

SgShareLevel
sg_sync_settings_get_share (const SgSyncSettings *s)
{
  return s->share;
}

void
sg_sync_settings_add_excluded_domain (SgSyncSettings *s, const char *domain)
{
  char *d = g_ascii_strdown (domain, -1);

  g_strstrip (d);
  while (*d == '@' || *d == '.')
    memmove (d, d + 1, strlen (d));
  if (*d)
    g_ptr_array_add (s->domains, d);
  else
    g_free (d);
}

void
sg_sync_settings_add_excluded_address (SgSyncSettings *s, const char *address)
{
  char *a = sg_address_normalize (address, NULL);

  g_ptr_array_add (s->addresses, a ? a : g_ascii_strdown (address, -1));
}

void
sg_sync_settings_add_private_folder (SgSyncSettings *s, const char *folder)
{
  char *f = g_strdup (folder);

  /* "/home/me/Mail/Private/" and "/home/me/Mail/Private" are one folder. */
  while (strlen (f) > 1 && g_str_has_suffix (f, "/"))
    f[strlen (f) - 1] = '\0';
  g_ptr_array_add (s->folders, f);
}

gboolean
sg_sync_settings_set_server (SgSyncSettings *s, const char *url, GError **error)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  const char *scheme = uri ? g_uri_get_scheme (uri) : NULL;

  if (uri == NULL || (g_strcmp0 (scheme, "https") != 0 && g_strcmp0 (scheme, "http") != 0) ||
      g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0') {
    g_set_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_CONFIG,
                 "server “%s”: not an http:// or https:// URL with a host", url);
    return FALSE;
  }
  g_free (s->server);
  s->server = g_strdup (url);
  while (g_str_has_suffix (s->server, "/"))
    s->server[strlen (s->server) - 1] = '\0';
  return TRUE;
}

const char *
sg_sync_settings_get_server (const SgSyncSettings *s)
{
  return s->server;
}

void
sg_sync_settings_set_token (SgSyncSettings *s, const char *token)
{
  g_free (s->token);
  s->token = g_strdup (token);
  if (s->token)
    g_strstrip (s->token);
}

gboolean
sg_sync_settings_load_token (SgSyncSettings *s, const char *path, GError **error)
{
  g_autofree char *text = NULL;
  struct stat st;
  int fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
  char *nl;

  if (fd < 0) {
    int e = errno;

    g_set_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_CONFIG, "token file %s: %s", path, g_strerror (e));
    return FALSE;
  }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)) {
    close (fd);
    g_set_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_CONFIG, "token file %s: not a regular file", path);
    return FALSE;
  }
  if ((st.st_mode & 077) != 0) {
    close (fd);
    g_set_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_CONFIG,
                 "token file %s: others may read it (mode %03o); chmod 600 %s", path,
                 (unsigned) (st.st_mode & 0777), path);
    return FALSE;
  }
  close (fd);
  if (!g_file_get_contents (path, &text, NULL, NULL) || text == NULL) {
    g_set_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_CONFIG, "token file %s: cannot read it", path);
    return FALSE;
  }
  if ((nl = strchr (text, '\n')) != NULL)
    *nl = '\0';
  g_strstrip (text);
  if (*text == '\0') {
    g_set_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_CONFIG, "token file %s: empty", path);
    return FALSE;
  }
  sg_sync_settings_set_token (s, text);
  memset (text, 0, strlen (text));
  return TRUE;
}

void
sg_sync_settings_set_ca_file (SgSyncSettings *s, const char *path)
{
  g_free (s->ca_file);
  s->ca_file = g_strdup (path);
}

void
sg_sync_settings_set_timeouts (SgSyncSettings *s, guint total, guint connect)
{
  if (total > 0)
    s->timeout = total;
  if (connect > 0)
    s->connect_timeout = connect;
}

/* --- store_meta text values ---------------------------------------------------------------- */

static char *
meta_get (SgStore *store, const char *key)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store, "SELECT value FROM store_meta WHERE key = ?", NULL);
  char *v = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    v = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return v;
}

static gboolean
meta_set (SgStore *store, const char *key, const char *value, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, value, -1, SQLITE_STATIC);
  return _sg_store_exec_stmt (store, stmt, error);
}

static JsonArray *
arr_member (JsonObject *o, const char *name, gpointer fallback)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : fallback;
}

/* --- privacy -------------------------------------------------------------------------------- */

static gboolean
domain_excluded (const SgSyncSettings *s, const char *domain)
{
  gsize n = domain ? strlen (domain) : 0;

  for (guint i = 0; i < s->domains->len && n > 0; i++) {
    const char *d = s->domains->pdata[i];
    gsize m = strlen (d);

    if (g_ascii_strcasecmp (domain, d) == 0 ||
        (n > m && domain[n - m - 1] == '.' && g_ascii_strcasecmp (domain + n - m, d) == 0))
      return TRUE;
  }
  return FALSE;
}

static gboolean
address_excluded (const SgSyncSettings *s, const char *address)
{
  const char *at;

  if (address == NULL)
    return FALSE;
  for (guint i = 0; i < s->addresses->len; i++)
    if (g_ascii_strcasecmp (address, s->addresses->pdata[i]) == 0)
      return TRUE;
  at = strrchr (address, '@');
  return at != NULL && domain_excluded (s, at + 1);
}

/* Whether mail stored at @location (a file, or imap://.../FOLDER;UIDVALIDITY=...) comes from
 * a private folder. */
static gboolean
folder_private (const SgSyncSettings *s, const char *location)
{
  if (location == NULL)
    return FALSE;
  for (guint i = 0; i < s->folders->len; i++) {
    const char *f = s->folders->pdata[i];
    g_autofree char *esc = NULL;
    g_autofree char *imap = NULL;
    g_autofree char *sub = NULL;
    g_autofree char *subpp = NULL;

    if (g_path_is_absolute (f)) {
      gsize n = strlen (f);

      if (strncmp (location, f, n) == 0 && location[n] == '/')
        return TRUE;
      continue;
    }
    esc = g_uri_escape_string (f, "/", FALSE);
    imap = g_strdup_printf ("/%s;UIDVALIDITY=", esc);
    sub = g_strdup_printf ("/%s/", f);
    subpp = g_strdup_printf ("/.%s/", f);
    if (g_str_has_prefix (location, "imap") ? strstr (location, imap) != NULL
                                            : (strstr (location, sub) || strstr (location, subpp)))
      return TRUE;
  }
  return FALSE;
}

typedef struct {
  SgStore *store;
  const SgSyncSettings *settings;
  GHashTable *withheld; /* message id -> GINT_TO_POINTER (1 withheld, 2 shared) */
  gboolean private_only; /* set by op_withheld: withheld as known only from private folders */
} Push;

#define LOCATION_SQL \
  "CASE WHEN s.kind = 'maildir' AND substr(i.location, 1, 1) <> '/' " \
  "  THEN s.uri || '/' || i.location ELSE coalesce(i.location, s.uri) END"

/* Whether the address (@domain NULL) or the organisation @domain is known here only from
 * mail in private folders: it takes part in some interaction, and in none outside them. A
 * person or organisation known from no mail at all (typed in, from a prospect list) is not. */
static gboolean
known_only_privately (Push *p, const char *address, const char *domain, gboolean *out, GError **error)
{
  sqlite3_stmt *stmt;
  gboolean seen = FALSE, open = FALSE;
  int rc;

  *out = FALSE;
  if (p->settings->folders->len == 0 || (address == NULL && domain == NULL))
    return TRUE;
  if (address != NULL)
    stmt = _sg_store_prepare (p->store,
        "SELECT " LOCATION_SQL " FROM addresses a JOIN participants pa ON pa.address_id = a.id "
        "JOIN interactions i ON i.id = pa.interaction_id LEFT JOIN sources s ON s.id = i.source_id "
        "WHERE a.address = ?", error);
  else
    stmt = _sg_store_prepare (p->store,
        "SELECT " LOCATION_SQL " FROM addresses a JOIN participants pa ON pa.address_id = a.id "
        "JOIN interactions i ON i.id = pa.interaction_id LEFT JOIN sources s ON s.id = i.source_id "
        "WHERE a.org_domain = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, address ? address : domain, -1, SQLITE_STATIC);
  while (!open && (rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    seen = TRUE;
    open = !folder_private (p->settings, (const char *) sqlite3_column_text (stmt, 0));
  }
  sqlite3_reset (stmt);
  *out = seen && !open;
  return TRUE;
}

/* Whether the interaction @message_id stays here; FALSE with @error on a store failure. */
static gboolean
interaction_withheld (Push *p, const char *message_id, gboolean *out, GError **error)
{
  gpointer cached = g_hash_table_lookup (p->withheld, message_id);
  sqlite3_stmt *stmt;
  gboolean withheld = FALSE;
  gint64 id = 0;
  int rc;

  if (cached != NULL) {
    *out = GPOINTER_TO_INT (cached) == 1;
    return TRUE;
  }
  stmt = _sg_store_prepare (p->store,
      "SELECT i.id, i.internal, CASE WHEN s.kind = 'maildir' AND substr(i.location, 1, 1) <> '/' "
      "  THEN s.uri || '/' || i.location ELSE coalesce(i.location, s.uri) END "
      "FROM interactions i LEFT JOIN sources s ON s.id = i.source_id WHERE i.message_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, message_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW) {
    id = sqlite3_column_int64 (stmt, 0);
    withheld = sqlite3_column_int (stmt, 1) != 0 ||
               folder_private (p->settings, (const char *) sqlite3_column_text (stmt, 2));
  } else {
    withheld = TRUE; /* not (or no longer) here: nothing to send */
  }
  sqlite3_reset (stmt);
  if (!withheld && (p->settings->domains->len > 0 || p->settings->addresses->len > 0)) {
    stmt = _sg_store_prepare (p->store,
        "SELECT a.address FROM participants pa JOIN addresses a ON a.id = pa.address_id "
        "WHERE pa.interaction_id = ?", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, id);
    while (!withheld && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
      withheld = address_excluded (p->settings, (const char *) sqlite3_column_text (stmt, 0));
    sqlite3_reset (stmt);
  }
  g_hash_table_insert (p->withheld, g_strdup (message_id), GINT_TO_POINTER (withheld ? 1 : 2));
  *out = withheld;
  return TRUE;
}

static char *
iso_date (gint64 t)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (t);

  return dt ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("1970-01-01T00:00:00Z");
}

/* The readable text of a message kept in a Maildir file; NULL when it cannot be read here. */
static char *
read_body (const char *location)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  SgMessage *m;
  const SgText *t;
  SgIdentity *identity;
  char *body = NULL;

  if (location == NULL || !g_path_is_absolute (location) ||
      !g_file_get_contents (location, &data, &len, NULL) || len > MAX_BODY_BYTES)
    return NULL;
  identity = sg_identity_new ();
  m = sg_message_parse (data, len, identity, 0, NULL);
  sg_identity_unref (identity);
  if (m == NULL)
    return NULL;
  t = sg_message_get_text (m);
  if (t != NULL && sg_text_get_body (t) != NULL)
    body = g_strdup (sg_text_get_body (t));
  sg_message_free (m);
  return body;
}

/* Appends @text as a JSON string (NULL: null). The request is written straight into one
 * GString: building a JsonNode tree per op and generating it cost more than the rest of the
 * push (bench/README.md, "Sync client CPU"). Text that is not UTF-8 is made valid first. */
static void
json_str (GString *out, const char *text)
{
  g_autofree char *valid = NULL;
  const char *run;

  if (text == NULL) {
    g_string_append (out, "null");
    return;
  }
  if (!g_utf8_validate (text, -1, NULL))
    text = valid = g_utf8_make_valid (text, -1);
  g_string_append_c (out, '"');
  run = text;
  for (const char *c = text; *c; c++) {
    guchar u = (guchar) *c;

    if (u >= 0x20 && u != '"' && u != '\\')
      continue;
    g_string_append_len (out, run, c - run);
    switch (u) {
    case '"': g_string_append (out, "\\\""); break;
    case '\\': g_string_append (out, "\\\\"); break;
    case '\n': g_string_append (out, "\\n"); break;
    case '\r': g_string_append (out, "\\r"); break;
    case '\t': g_string_append (out, "\\t"); break;
    default: g_string_append_printf (out, "\\u%04x", u); break;
    }
    run = c + 1;
  }
  g_string_append (out, run);
  g_string_append_c (out, '"');
}

/* ,"name": */
static void
json_key (GString *out, const char *name, gboolean first)
{
  if (!first)
    g_string_append_c (out, ',');
  json_str (out, name);
  g_string_append_c (out, ':');
}

/* An interaction's fields, from its rows (the log keeps '{}'), as a JSON object. */
static gboolean
serialise_interaction (Push *p, const char *message_id, GString *b, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (p->store,
      "SELECT i.id, i.date_utc, i.direction, i.subject, t.root_key, s.kind, i.kind, "
      "  CASE WHEN s.kind = 'maildir' AND substr(i.location, 1, 1) <> '/' THEN s.uri || '/' || i.location "
      "  ELSE i.location END, i.tz_offset, "
      "  i.in_reply_to "
      "FROM interactions i LEFT JOIN threads t ON t.id = i.thread_id LEFT JOIN sources s ON s.id = i.source_id "
      "WHERE i.message_id = ?", error);
  g_autofree char *date = NULL;
  g_autofree char *location = NULL;
  gint64 id;
  const char *roles[][2] = { { "from", "from" }, { "to", "to" }, { "cc", "cc" }, { "organizer", "from" },
                             { "attendee", "to" } };
  GPtrArray *lists[3] = { NULL, NULL, NULL };
  char *from = NULL;
  const char *source;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, message_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW) {
    sqlite3_reset (stmt);
    g_set_error (error, SG_STORE_ERROR, SG_STORE_ERROR_NOT_FOUND, "interaction %s vanished", message_id);
    return FALSE;
  }
  id = sqlite3_column_int64 (stmt, 0);
  date = iso_date (sqlite3_column_int64 (stmt, 1));
  g_string_append_c (b, '{');
  json_key (b, "date", TRUE);
  json_str (b, date);
  json_key (b, "direction", FALSE);
  json_str (b, (const char *) sqlite3_column_text (stmt, 2));
  json_key (b, "thread", FALSE);
  json_str (b, (const char *) sqlite3_column_text (stmt, 4));
  source = (const char *) sqlite3_column_text (stmt, 5);
  if (g_strcmp0 ((const char *) sqlite3_column_text (stmt, 6), "meeting") == 0)
    source = "ical";
  json_key (b, "source_kind", FALSE);
  json_str (b, source ? source : "file");
  json_key (b, "kind", FALSE);
  json_str (b, (const char *) sqlite3_column_text (stmt, 6));
  json_key (b, "tz_offset", FALSE);
  g_string_append_printf (b, "%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (stmt, 8));
  if (sqlite3_column_type (stmt, 9) != SQLITE_NULL) {
    json_key (b, "in_reply_to", FALSE);
    json_str (b, (const char *) sqlite3_column_text (stmt, 9));
  }
  if (p->settings->share >= SG_SHARE_SUBJECTS) {
    json_key (b, "subject", FALSE);
    json_str (b, (const char *) sqlite3_column_text (stmt, 3));
  }
  location = g_strdup ((const char *) sqlite3_column_text (stmt, 7));
  sqlite3_reset (stmt);

  stmt = _sg_store_prepare (p->store,
      "SELECT pa.role, a.address FROM participants pa JOIN addresses a ON a.id = pa.address_id "
      "WHERE pa.interaction_id = ? ORDER BY pa.role, a.address", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  for (guint i = 0; i < 3; i++)
    lists[i] = g_ptr_array_new_with_free_func (g_free);
  while (sqlite3_step (stmt) == SQLITE_ROW) {
    const char *role = (const char *) sqlite3_column_text (stmt, 0);
    const char *address = (const char *) sqlite3_column_text (stmt, 1);

    for (guint r = 0; r < G_N_ELEMENTS (roles); r++) {
      if (strcmp (role, roles[r][0]) != 0)
        continue;
      if (strcmp (roles[r][1], "from") == 0) {
        if (from == NULL)
          from = g_strdup (address);
      } else {
        g_ptr_array_add (lists[strcmp (roles[r][1], "to") == 0 ? 1 : 2], g_strdup (address));
      }
    }
  }
  sqlite3_reset (stmt);
  json_key (b, "from", FALSE);
  json_str (b, from);
  g_free (from);
  for (guint l = 1; l < 3; l++) {
    json_key (b, l == 1 ? "to" : "cc", FALSE);
    g_string_append_c (b, '[');
    for (guint i = 0; i < lists[l]->len; i++) {
      if (i > 0)
        g_string_append_c (b, ',');
      json_str (b, lists[l]->pdata[i]);
    }
    g_string_append_c (b, ']');
  }
  for (guint i = 0; i < 3; i++)
    g_ptr_array_unref (lists[i]);
  if (p->settings->share >= SG_SHARE_FULL) {
    g_autofree char *body = read_body (location);

    if (body != NULL) {
      json_key (b, "body", FALSE);
      json_str (b, body);
    }
  }
  g_string_append_c (b, '}');
  return TRUE;
}

/* Splits "a|b" at the last '|'. */
static char *
key_head (const char *key, char sep, const char **tail)
{
  const char *bar = strrchr (key, sep);

  if (bar == NULL) {
    *tail = NULL;
    return g_strdup (key);
  }
  *tail = bar + 1;
  return g_strndup (key, (gsize) (bar - key));
}

/* Whether an op stays on this device. */
static gboolean
op_withheld (Push *p, const char *entity, const char *key, JsonObject *fields, gboolean *out, GError **error)
{
  const SgSyncSettings *s = p->settings;
  const char *tail = NULL;
  /* Who the op is about, when mail in private folders may be all that is known of them. */
  g_autofree char *private_address = NULL;
  g_autofree char *private_domain = NULL;
  gboolean folders = s->folders->len > 0;

  *out = FALSE;
  p->private_only = FALSE;
  if (strcmp (entity, "interaction") == 0)
    return interaction_withheld (p, key, out, error);
  if (strcmp (entity, "person") == 0) {
    *out = address_excluded (s, key);
    private_address = folders ? g_strdup (key) : NULL;
  } else if (strcmp (entity, "organisation") == 0) {
    *out = domain_excluded (s, key);
    private_domain = folders ? g_strdup (key) : NULL;
  } else if (strcmp (entity, "person_fact") == 0) {
    /* Facts are read from the text of mail (signatures, vCards): only at level full. */
    g_autofree char *address = NULL;
    const char *mid = fields ? json_object_get_string_member_with_default (fields, "message_id", NULL) : NULL;

    address = g_strdup (key);
    if (strchr (address, '|'))
      *strchr (address, '|') = '\0';
    *out = s->share < SG_SHARE_FULL || address_excluded (s, address);
    if (!*out && mid != NULL)
      return interaction_withheld (p, mid, out, error);
  } else if (strcmp (entity, "tag_assignment") == 0) {
    /* "<entity type>:<entity key>/<tag>" */
    g_autofree char *target = key_head (key, '/', &tail);
    const char *colon = strchr (target, ':');

    if (colon != NULL) {
      const char *ekey = colon + 1;

      if (g_str_has_prefix (target, "interaction:"))
        return interaction_withheld (p, ekey, out, error);
      if (g_str_has_prefix (target, "person:")) {
        *out = address_excluded (s, ekey);
        private_address = folders ? g_strdup (ekey) : NULL;
      } else if (g_str_has_prefix (target, "organisation:")) {
        *out = domain_excluded (s, ekey);
        private_domain = folders ? g_strdup (ekey) : NULL;
      }
    }
  } else if (strcmp (entity, "interaction_link") == 0) {
    g_autofree char *mid = key_head (key, '|', &tail);

    return interaction_withheld (p, mid, out, error);
  } else if (strcmp (entity, "person_role") == 0 || strcmp (entity, "person_lead_source") == 0) {
    g_autofree char *address = key_head (key, '|', &tail);

    *out = address_excluded (s, address);
    if (folders)
      private_address = g_steal_pointer (&address);
  } else if (strcmp (entity, "process_contact") == 0) {
    g_autofree char *head = key_head (key, '|', &tail);
    const char *address = strchr (head, '|');

    *out = address != NULL && address_excluded (s, address + 1);
  } else if ((strcmp (entity, "cx_note") == 0 || strcmp (entity, "request") == 0) && fields != NULL) {
    /* Typed into the CRM for the team, so sent whole at every level; but not about an
     * excluded organisation or person. */
    *out = domain_excluded (s, json_object_get_string_member_with_default (fields, "organisation", NULL)) ||
           address_excluded (s, json_object_get_string_member_with_default (fields, "person", NULL));
  } else if (strcmp (entity, "meeting") == 0 && fields != NULL) {
    JsonArray *att = arr_member (fields, "attendees", NULL);

    *out = address_excluded (s, json_object_get_string_member_with_default (fields, "organizer", NULL));
    for (guint i = 0; att && !*out && i < json_array_get_length (att); i++) {
      JsonNode *n = json_array_get_element (att, i);

      if (JSON_NODE_HOLDS_OBJECT (n))
        *out = address_excluded (s, json_object_get_string_member_with_default (json_node_get_object (n),
                                                                                "address", NULL));
    }
  }
  if (!*out && folders && (private_address != NULL || private_domain != NULL)) {
    if (!known_only_privately (p, private_address, private_domain, out, error))
      return FALSE;
    p->private_only = *out;
  }
  return TRUE;
}

static gboolean
mark (SgStore *store, gint64 seq, int acked, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store, "UPDATE changes SET acked = ? WHERE seq = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, acked);
  sqlite3_bind_int64 (stmt, 2, seq);
  return _sg_store_exec_stmt (store, stmt, error);
}

/* The names the importer improved since the last push, logged now unless that name was
 * logged (or pulled) already for one of the person's addresses (schema/sync.md). */
static gboolean
log_name_changes (SgStore *store, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "SELECT d.person_id, p.name, (SELECT min(address) FROM addresses WHERE person_id = d.person_id) "
      "FROM sync_dirty_people d JOIN people p ON p.id = d.person_id WHERE p.name IS NOT NULL "
      "AND NOT EXISTS (SELECT 1 FROM addresses a JOIN sync_names s ON s.address = a.address "
      "  WHERE a.person_id = d.person_id AND s.name IS p.name)", error);
  g_autoptr (GPtrArray) todo = g_ptr_array_new_with_free_func (g_free);
  int rc;

  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    if (sqlite3_column_type (stmt, 2) == SQLITE_NULL)
      continue;
    g_ptr_array_add (todo, g_strdup ((const char *) sqlite3_column_text (stmt, 2)));
    g_ptr_array_add (todo, g_strdup ((const char *) sqlite3_column_text (stmt, 1)));
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "changed names");
    return FALSE;
  }
  for (guint i = 0; i + 1 < todo->len; i += 2) {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;
    g_autofree char *fields = NULL;

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, todo->pdata[i + 1]);
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    fields = json_to_string (root, FALSE);
    if (!_sg_store_log_change (store, "person", todo->pdata[i], "upsert", fields, error))
      return FALSE;
  }
  stmt = _sg_store_prepare (store, "DELETE FROM sync_dirty_people", error);
  return stmt != NULL && _sg_store_exec_stmt (store, stmt, error);
}

/* The facts a later message confirmed since the last push (sync_dirty_facts, migration
 * 0010): logged again with their current dates, keyed as when first logged. */
typedef struct {
  char *text[6]; /* address, kind, detail, value, origin, message_id (nullable) */
  double confidence;
  gint64 observed, first_seen;
} ConfirmedFact;

static void
confirmed_fact_free (gpointer data)
{
  ConfirmedFact *f = data;

  for (guint c = 0; c < G_N_ELEMENTS (f->text); c++)
    g_free (f->text[c]);
  g_free (f);
}

static gboolean
log_fact_changes (SgStore *store, GError **error)
{
  static const int text_columns[] = { 0, 1, 2, 3, 5, 8 };
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "SELECT (SELECT min(address) FROM addresses WHERE person_id = f.person_id), f.kind, f.detail, f.value, "
      "  f.confidence, f.origin, f.observed, f.first_seen, i.message_id "
      "FROM sync_dirty_facts d JOIN person_facts f ON f.id = d.fact_id "
      "LEFT JOIN interactions i ON i.id = f.interaction_id ORDER BY d.fact_id", error);
  g_autoptr (GPtrArray) todo = g_ptr_array_new_with_free_func (confirmed_fact_free);
  int rc;

  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    ConfirmedFact *f;

    if (sqlite3_column_type (stmt, 0) == SQLITE_NULL)
      continue;
    f = g_new0 (ConfirmedFact, 1);
    for (guint c = 0; c < G_N_ELEMENTS (f->text); c++)
      f->text[c] = g_strdup ((const char *) sqlite3_column_text (stmt, text_columns[c]));
    f->confidence = sqlite3_column_double (stmt, 4);
    f->observed = sqlite3_column_int64 (stmt, 6);
    f->first_seen = sqlite3_column_int64 (stmt, 7);
    g_ptr_array_add (todo, f);
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "confirmed facts");
    return FALSE;
  }
  /* Logged once the read is done: logging writes to tables the read joins. */
  for (guint i = 0; i < todo->len; i++) {
    ConfirmedFact *f = todo->pdata[i];

    if (!_sg_log_person_fact (store, f->text[0], f->text[1], f->text[2], f->text[3], f->confidence, f->text[4],
                              f->observed, &f->first_seen, f->text[5], error))
      return FALSE;
  }
  stmt = _sg_store_prepare (store, "DELETE FROM sync_dirty_facts", error);
  return stmt != NULL && _sg_store_exec_stmt (store, stmt, error);
}

/* The share level went up since the last push (store_meta sync_share): what it held back is
 * sent now. Withheld ops are examined again (the other rules still keep theirs back), and
 * what went out without its subject or body goes again, as a new op of each interaction
 * already sent (the server keeps an op_id once, so the old one cannot be re-pushed) and the
 * summary and location of each meeting. Lowering the level resends nothing. */
static gboolean
reshare (SgStore *store, const SgSyncSettings *settings, GError **error)
{
  gint64 prev = sg_store_get_meta_int (store, "sync_share", -1);
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;
  char buf[8];

  if (prev == (gint64) settings->share)
    return TRUE;
  g_snprintf (buf, sizeof buf, "%d", (int) settings->share);
  if (!meta_set (store, "sync_share", buf, error))
    return FALSE;
  if (prev < 0 || (gint64) settings->share < prev)
    return TRUE;
  if ((stmt = _sg_store_prepare (store, "UPDATE changes SET acked = 0 WHERE acked = 2", error)) == NULL ||
      !_sg_store_exec_stmt (store, stmt, error))
    return FALSE;
  /* Interactions sent before: with a subject (now subjects or full), or all (full: bodies). */
  stmt = _sg_store_prepare (store,
      "SELECT DISTINCT c.natural_key FROM changes c JOIN interactions i ON i.message_id = c.natural_key "
      "WHERE c.entity = 'interaction' AND c.op = 'upsert' AND c.acked = 1 AND (?1 OR i.subject IS NOT NULL) "
      "ORDER BY c.natural_key", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, settings->share == SG_SHARE_FULL);
  while (sqlite3_step (stmt) == SQLITE_ROW) {
    g_ptr_array_add (keys, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
    g_ptr_array_add (fields, g_strdup ("{}"));
  }
  sqlite3_reset (stmt);
  for (guint i = 0; i < keys->len; i++)
    if (!_sg_store_log_change (store, "interaction", keys->pdata[i], "upsert", fields->pdata[i], error))
      return FALSE;
  g_ptr_array_set_size (keys, 0);
  g_ptr_array_set_size (fields, 0);
  if (prev >= SG_SHARE_SUBJECTS)
    return TRUE;
  /* Meetings sent without summary and location: those two, with the version they belong to. */
  stmt = _sg_store_prepare (store,
      "SELECT CASE m.recurrence_id WHEN '' THEN m.uid ELSE m.uid || '/' || m.recurrence_id END AS k, "
      "  json_object('summary', m.summary, 'location', m.location, 'sequence', m.sequence, 'dtstamp', m.dtstamp) "
      "FROM meetings m WHERE EXISTS (SELECT 1 FROM changes c WHERE c.entity = 'meeting' AND c.acked = 1 "
      "  AND c.natural_key = CASE m.recurrence_id WHEN '' THEN m.uid ELSE m.uid || '/' || m.recurrence_id END) "
      "ORDER BY k", error);
  if (stmt == NULL)
    return FALSE;
  while (sqlite3_step (stmt) == SQLITE_ROW) {
    g_ptr_array_add (keys, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
    g_ptr_array_add (fields, g_strdup ((const char *) sqlite3_column_text (stmt, 1)));
  }
  sqlite3_reset (stmt);
  for (guint i = 0; i < keys->len; i++)
    if (!_sg_store_log_change (store, "meeting", keys->pdata[i], "upsert", fields->pdata[i], error))
      return FALSE;
  return TRUE;
}

/* Ops withheld because the person or organisation was known only from private folders are
 * looked at again at every push (other mail may show them now, or the folder may no longer
 * be private): pending again, the push withholds them again or sends them. */
static gboolean
reexamine_private (SgStore *store, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store, "UPDATE changes SET acked = 0 WHERE acked = 4", error);

  return stmt != NULL && _sg_store_exec_stmt (store, stmt, error);
}

/* The fields of a meeting op without what is a subject (summary, location). */
static char *
meeting_without_subject (JsonObject *fields)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GList) members = json_object_get_members (fields);

  json_builder_begin_object (b);
  for (GList *m = members; m; m = m->next) {
    const char *name = m->data;

    if (strcmp (name, "summary") == 0 || strcmp (name, "location") == 0)
      continue;
    json_builder_set_member_name (b, name);
    json_builder_add_value (b, json_node_copy (json_object_get_member (fields, name)));
  }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

/* The ops of a request: the JSON array of the first @limit unacknowledged ops after seq
 * @after that the settings let leave (those they do not are marked withheld, in the same
 * transaction). @last_seq: (out): the seq of the last op looked at (@after when none), where
 * the next batch starts. */
static GString *
build_ops (SgStore *store, const SgSyncSettings *settings, guint limit, gint64 after, gint64 *last_seq,
           guint *n_ops, SgSyncCounts *counts, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  GString *b = NULL;
  Push p = { store, settings, NULL, FALSE };
  guint n = 0, withheld = 0;
  gboolean done = FALSE;

  if (limit == 0 || limit > MAX_OPS_PER_REQUEST)
    limit = MAX_OPS_PER_REQUEST;
  if (!sg_store_begin (store, error))
    return NULL;
  p.withheld = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* Ops withheld as private are looked at again from the start of the log only (the first
   * request of a sync): a request built after another (pipelined, @after > 0) would make
   * them pending without looking at them. */
  if (!reshare (store, settings, error) || !log_name_changes (store, error) || !log_fact_changes (store, error) ||
      (after == 0 && !reexamine_private (store, error)))
    goto fail;
  b = g_string_sized_new (64 * 1024);
  g_string_append_c (b, '[');
  while (!done && n < limit) {
    sqlite3_stmt *stmt = _sg_store_prepare (store,
        "SELECT seq, op_id, hlc, entity, natural_key, op, fields FROM changes "
        "WHERE acked = 0 AND seq > ? ORDER BY seq LIMIT 500", error);
    g_autoptr (GArray) seqs = g_array_new (FALSE, FALSE, sizeof (gint64));
    g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
    g_autoptr (GArray) hlcs = g_array_new (FALSE, FALSE, sizeof (gint64));
    int rc;

    if (stmt == NULL)
      goto fail;
    sqlite3_bind_int64 (stmt, 1, after);
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
      gint64 seq = sqlite3_column_int64 (stmt, 0);
      gint64 hlc = sqlite3_column_int64 (stmt, 2);
      char **row = g_new0 (char *, 6);

      for (int c = 0; c < 5; c++)
        row[c] = g_strdup ((const char *) sqlite3_column_text (stmt, c == 0 ? 1 : c + 2));
      g_array_append_val (seqs, seq);
      g_array_append_val (hlcs, hlc);
      g_ptr_array_add (rows, row);
    }
    sqlite3_reset (stmt);
    if (rc != SQLITE_DONE) {
      _sg_store_set_error (store, error, "change log");
      goto fail;
    }
    if (rows->len == 0)
      break;
    for (guint i = 0; i < rows->len && n < limit; i++) {
      char **row = rows->pdata[i]; /* op_id, entity, key, op, fields */
      gint64 seq = g_array_index (seqs, gint64, i);
      gboolean meeting = strcmp (row[1], "meeting") == 0;
      gboolean object = row[4] != NULL && row[4][0] == '{';
      JsonObject *fields = NULL;
      gboolean hold = FALSE;

      after = seq;
      gboolean about_org = (strcmp (row[1], "cx_note") == 0 || strcmp (row[1], "request") == 0) &&
                           (p.settings->domains->len > 0 || p.settings->addresses->len > 0);

      /* The log's fields are JSON written by this library, sent as they are; parsed only
       * where the privacy rules look inside (facts, meetings, notes and requests when
       * something is excluded). */
      if ((meeting || about_org || strcmp (row[1], "person_fact") == 0) && object &&
          json_parser_load_from_data (parser, row[4], -1, NULL) &&
          JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        fields = json_node_get_object (json_parser_get_root (parser));
      if (!op_withheld (&p, row[1], row[2], fields, &hold, error))
        goto fail;
      if (hold) {
        if (!mark (store, seq, p.private_only ? ACK_PRIVATE : ACK_WITHHELD, error))
          goto fail;
        withheld++;
        continue;
      }
      if (n > 0)
        g_string_append_c (b, ',');
      g_string_append (b, "{\"op_id\":");
      json_str (b, row[0]);
      g_string_append_printf (b, ",\"hlc\":\"%016" G_GINT64_MODIFIER "x\",\"entity\":",
                              (guint64) g_array_index (hlcs, gint64, i));
      json_str (b, row[1]);
      g_string_append (b, ",\"key\":");
      json_str (b, row[2]);
      g_string_append (b, ",\"op\":");
      json_str (b, row[3]);
      g_string_append (b, ",\"fields\":");
      if (strcmp (row[1], "interaction") == 0 && strcmp (row[3], "upsert") == 0) {
        if (!serialise_interaction (&p, row[2], b, error))
          goto fail;
      } else if (meeting && fields != NULL && settings->share < SG_SHARE_SUBJECTS) {
        /* A meeting's summary and location are its subject. */
        g_autofree char *text = meeting_without_subject (fields);

        g_string_append (b, text);
      } else {
        g_string_append (b, object ? row[4] : "{}");
      }
      g_string_append_c (b, '}');
      n++;
    }
    if (rows->len < 500)
      done = TRUE;
  }
  g_string_append_c (b, ']');
  if (!sg_store_commit (store, error))
    goto fail_committed;
  g_hash_table_unref (p.withheld);
  if (n_ops)
    *n_ops = n;
  if (last_seq)
    *last_seq = after;
  if (counts) {
    counts->pushed += n;
    counts->withheld += withheld;
  }
  return b;

fail:
  sg_store_rollback (store);
fail_committed:
  g_hash_table_unref (p.withheld);
  if (b != NULL)
    g_string_free (b, TRUE);
  return NULL;
}

/* The request body up to its cursor: the store's device and @ops (a JSON array). The cursor
 * comes last (request_tail), so that a request can be built, and compressed, before the
 * answer that gives its cursor has arrived. */
static GString *
request_head (SgStore *store, const GString *ops)
{
  GString *b = g_string_sized_new (ops->len + 256);

  g_string_append_printf (b, "{\"protocol\":%d,\"device\":", PROTOCOL);
  json_str (b, sg_store_get_device_id (store));
  g_string_append_printf (b, ",\"limit\":%d,\"ops\":", MAX_OPS_PER_REQUEST);
  g_string_append_len (b, ops->str, (gssize) ops->len);
  return b;
}

static char *
request_tail (const char *cursor)
{
  GString *b = g_string_new (",\"cursor\":");

  json_str (b, cursor ? cursor : "");
  g_string_append_c (b, '}');
  return g_string_free (b, FALSE);
}

char *
sg_sync_build_request (SgStore *store, const SgSyncSettings *settings, guint limit, guint *n_ops,
                       SgSyncCounts *counts, GError **error)
{
  g_autoptr (GString) ops = build_ops (store, settings, limit, 0, NULL, n_ops, counts, error);
  g_autofree char *cursor = NULL;

  if (ops == NULL)
    return NULL;
  GString *head;
  g_autofree char *tail = NULL;

  cursor = meta_get (store, "sync_cursor");
  head = request_head (store, ops);
  tail = request_tail (cursor);
  g_string_append (head, tail);
  return g_string_free (head, FALSE);
}

/* --- merge ------------------------------------------------------------------------------------ */

/* The clocks of one (entity, key), read once per op (one query, not one per field). */
typedef struct {
  char *field;
  gint64 hlc;
} Clock;

typedef struct {
  SgStore *store;
  const char *op_id;
  const char *entity;
  const char *key;
  const char *op;
  gint64 hlc;
  JsonObject *fields;
  gboolean changed;
  gboolean force; /* every field of the op wins (a newer meeting version) */
  GArray *clocks; /* Clock, loaded on first use */
  /* person id -> Seen: the first and last contact dates a page's participants bring, written
   * once per person when the page is done (apply_ops, fast mode); NULL: written at once. */
  GHashTable *seen;
  /* address -> Known: the page's participant addresses that have a person, looked up once
   * (keys point into the answer's JSON, which outlives the page); NULL in careful mode. */
  GHashTable *known;
} Apply;

typedef struct {
  gint64 addr, person;
} Known;

typedef struct {
  gint64 first, last;
} Seen;

static void
clock_clear (gpointer data)
{
  g_free (((Clock *) data)->field);
}

static gboolean
load_clocks (Apply *a, GError **error)
{
  sqlite3_stmt *stmt;
  int rc;

  if (a->clocks != NULL)
    return TRUE;
  stmt = _sg_store_prepare_static (a->store, "SELECT field, hlc FROM sync_clock WHERE entity = ? AND natural_key = ?", error);
  if (stmt == NULL)
    return FALSE;
  a->clocks = g_array_sized_new (FALSE, FALSE, sizeof (Clock), 4);
  g_array_set_clear_func (a->clocks, clock_clear);
  sqlite3_bind_text (stmt, 1, a->entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, a->key, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    Clock c = { g_strdup ((const char *) sqlite3_column_text (stmt, 0)), sqlite3_column_int64 (stmt, 1) };

    g_array_append_val (a->clocks, c);
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (a->store, error, "sync clocks");
    return FALSE;
  }
  return TRUE;
}

static Clock *
find_clock (Apply *a, const char *field)
{
  for (guint i = 0; a->clocks && i < a->clocks->len; i++)
    if (strcmp (g_array_index (a->clocks, Clock, i).field, field) == 0)
      return &g_array_index (a->clocks, Clock, i);
  return NULL;
}

/* The clock of (@entity, @key, @field): -1 when never set. */
static gint64
clock_of (Apply *a, const char *field)
{
  Clock *c;

  if (!load_clocks (a, NULL))
    return -1;
  c = find_clock (a, field);
  return c ? c->hlc : -1;
}

/* The newest clock of the entity's fields (not its '+' and '-'). */
static gint64
newest_field_clock (Apply *a)
{
  gint64 max = -1;

  if (!load_clocks (a, NULL))
    return -1;
  for (guint i = 0; i < a->clocks->len; i++) {
    const Clock *c = &g_array_index (a->clocks, Clock, i);

    if (strcmp (c->field, "+") != 0 && strcmp (c->field, "-") != 0)
      max = MAX (max, c->hlc);
  }
  return max;
}

/* Whether @hlc is newer than the clock of (@entity, @key, @field); moves the clock if so. */
static gboolean
clock_wins (Apply *a, const char *field, gboolean *wins, GError **error)
{
  sqlite3_stmt *stmt;
  Clock *c;

  if (!load_clocks (a, error))
    return FALSE;
  c = find_clock (a, field);
  *wins = a->force || a->hlc > (c ? c->hlc : -1);
  if (!*wins)
    return TRUE;
  if (c != NULL) {
    c->hlc = a->hlc;
  } else {
    Clock n = { g_strdup (field), a->hlc };

    g_array_append_val (a->clocks, n);
  }
  stmt = _sg_store_prepare_static (a->store,
      "INSERT INTO sync_clock (entity, natural_key, field, hlc) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (entity, natural_key, field) DO UPDATE SET hlc = excluded.hlc", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, a->entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, a->key, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, field, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, a->hlc);
  return _sg_store_exec_stmt (a->store, stmt, error);
}

static gboolean parse_hlc (const char *text, gint64 *out);
static const char *str_member (JsonObject *o, const char *name);

/* The clock a remove op moves a member's '-' clock to (schema/sync.md "Sets, add-wins"): the
 * newest add its author had seen (`seen`), or, from a client that does not send it, its own
 * hlc minus one (every add stamped before the remove: the rule before observed-remove). A
 * `seen` that is not a clock, or not older than the op, counts as the latter (the server
 * refuses such ops; a remove cannot have seen an add stamped after it). */
static gint64
remove_clock (Apply *a)
{
  gint64 seen;

  if (parse_hlc (str_member (a->fields, "seen"), &seen) && seen < a->hlc)
    return seen;
  return a->hlc - 1;
}

/* For a set member (observed-remove, add-wins): an add moves the '+' clock to its hlc, a
 * remove the '-' clock to what it had seen (remove_clock()); both only forward. @present:
 * whether the member is in the set after it: '+' > '-', so an add its remover had not seen
 * wins whatever the clocks. @wins: whether this op can change the member's row: an add that
 * moved '+', or a remove that moved '-' and left the member absent (a remove that removes
 * nothing here changes nothing). */
static gboolean
set_member (Apply *a, gboolean *present, gboolean *wins, GError **error)
{
  gboolean add = strcmp (a->op, "add") == 0;
  gint64 hlc = a->hlc;
  gboolean ok;

  if (!add)
    a->hlc = remove_clock (a);
  ok = clock_wins (a, add ? "+" : "-", wins, error);
  a->hlc = hlc;
  if (!ok)
    return FALSE;
  *present = clock_of (a, "+") > clock_of (a, "-");
  if (!add && *present)
    *wins = FALSE;
  return TRUE;
}

static gint64
lookup (SgStore *store, const char *sql, const char *text, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare_static (store, sql, error);
  gint64 id = 0;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, text, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return id;
}

static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static gint64
ensure_org (SgStore *store, const char *domain, GError **error)
{
  gint64 id = lookup (store, "SELECT org_id FROM org_domains WHERE domain = ?", domain, error);
  g_autofree char *name = NULL;
  sqlite3_stmt *stmt;

  if (id != 0)
    return id;
  id = lookup (store, "SELECT id FROM organisations WHERE domain = ?", domain, error);
  if (id != 0)
    return id;
  name = sg_org_name_from_domain (domain);
  stmt = _sg_store_prepare_static (store,
      "INSERT INTO organisations (domain, name, kind, created_at) VALUES (?, ?, 'external', ?)", error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, domain, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, now_s ());
  if (!_sg_store_exec_stmt (store, stmt, error))
    return -1;
  id = sqlite3_last_insert_rowid (_sg_store_get_db (store));
  stmt = _sg_store_prepare_static (store, "INSERT OR IGNORE INTO org_domains (domain, org_id) VALUES (?, ?)", error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, domain, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, id);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return -1;
  return id;
}

/* A pulled person's first values, set when the person row is made (no UPDATE, and so none
 * of the summary and name triggers, for each new person of a first pull). */
typedef struct {
  const char *name;
  int name_score;
  gint64 name_date;
  const char *kind;
} NewPerson;

/* The address row of @address, made when new, with the person row too when @make_person
 * (then *person_id is that person). @person_id: (out) (optional); @is_list: (out) (optional). */
static gint64
address_row (SgStore *store, const char *address, gboolean make_person, const NewPerson *np, gint64 *person_id,
             gboolean *is_list, gboolean *made, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare_static (store,
      "SELECT id, coalesce(person_id, 0), kind = 'list' FROM addresses WHERE address = ?", error);
  g_autofree char *norm = NULL;
  g_autofree char *reg = NULL;
  const char *domain;
  gint64 id = 0, org = 0, person = 0;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, address, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW) {
    id = sqlite3_column_int64 (stmt, 0);
    if (person_id)
      *person_id = sqlite3_column_int64 (stmt, 1);
    if (is_list)
      *is_list = sqlite3_column_int (stmt, 2) != 0;
  }
  sqlite3_reset (stmt);
  if (id != 0)
    return id;
  if (person_id)
    *person_id = 0;
  if (is_list)
    *is_list = FALSE;
  norm = sg_address_normalize (address, NULL);
  if (norm == NULL || strcmp (norm, address) != 0) {
    g_set_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_PROTOCOL, "“%s” is not a normalised address", address);
    return -1;
  }
  domain = sg_address_get_domain (address);
  reg = sg_domain_get_registrable (domain);
  if (reg != NULL && sg_domain_is_freemail (reg))
    g_clear_pointer (&reg, g_free);
  if (reg != NULL && (org = ensure_org (store, reg, error)) < 0)
    return -1;
  if (make_person) {
    stmt = _sg_store_prepare_static (store,
        "INSERT INTO people (org_id, name, name_score, name_date, kind, created_at) "
        "VALUES (?, ?, ?, ?, coalesce(?, 'contact'), ?)", error);
    if (stmt == NULL)
      return -1;
    if (org > 0)
      sqlite3_bind_int64 (stmt, 1, org);
    if (np && np->name) {
      sqlite3_bind_text (stmt, 2, np->name, -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 3, np->name_score);
      sqlite3_bind_int64 (stmt, 4, np->name_date);
    } else {
      sqlite3_bind_int (stmt, 3, 0);
      sqlite3_bind_int (stmt, 4, 0);
    }
    sqlite3_bind_text (stmt, 5, np ? np->kind : NULL, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 6, now_s ());
    if (!_sg_store_exec_stmt (store, stmt, error))
      return -1;
    person = sqlite3_last_insert_rowid (_sg_store_get_db (store));
    if (person_id)
      *person_id = person;
    if (made)
      *made = TRUE;
  }
  stmt = _sg_store_prepare_static (store,
      "INSERT INTO addresses (address, domain, org_domain, kind, person_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, address, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, domain, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, reg, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, sg_address_kind_to_string (sg_address_classify (address)), -1, SQLITE_STATIC);
  if (person > 0)
    sqlite3_bind_int64 (stmt, 5, person);
  sqlite3_bind_int64 (stmt, 6, now_s ());
  if (!_sg_store_exec_stmt (store, stmt, error))
    return -1;
  return sqlite3_last_insert_rowid (_sg_store_get_db (store));
}

static gint64
ensure_address (SgStore *store, const char *address, gint64 *person_id, GError **error)
{
  return address_row (store, address, FALSE, NULL, person_id, NULL, NULL, error);
}

/* The person of @address, made when missing (with @np's values when given; *created). A
 * mailing list's address is no person: skipped. */
static gint64
ensure_person_full (SgStore *store, const char *address, const NewPerson *np, gboolean *created, GError **error)
{
  gint64 person = 0;
  gboolean is_list = FALSE, made = FALSE;
  gint64 addr = address_row (store, address, TRUE, np, &person, &is_list, &made, error);
  sqlite3_stmt *stmt;

  if (created)
    *created = made;
  if (addr < 0)
    return -1;
  if (person != 0)
    return person; /* there already, or made with the new address */
  if (is_list) {
    g_set_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_PROTOCOL, "“%s” is a mailing list, not a person", address);
    return -1;
  }
  stmt = _sg_store_prepare_static (store,
      "INSERT INTO people (org_id, name, name_score, name_date, kind, created_at) VALUES "
      "((SELECT d.org_id FROM addresses a JOIN org_domains d ON d.domain = a.org_domain WHERE a.id = ?), "
      " ?, ?, ?, coalesce(?, 'contact'), ?)", error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, addr);
  if (np && np->name) {
    sqlite3_bind_text (stmt, 2, np->name, -1, SQLITE_STATIC);
    sqlite3_bind_int (stmt, 3, np->name_score);
    sqlite3_bind_int64 (stmt, 4, np->name_date);
  } else {
    sqlite3_bind_int (stmt, 3, 0);
    sqlite3_bind_int (stmt, 4, 0);
  }
  sqlite3_bind_text (stmt, 5, np ? np->kind : NULL, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 6, now_s ());
  if (!_sg_store_exec_stmt (store, stmt, error))
    return -1;
  person = sqlite3_last_insert_rowid (_sg_store_get_db (store));
  stmt = _sg_store_prepare_static (store, "UPDATE addresses SET person_id = ? WHERE id = ?", error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, person);
  sqlite3_bind_int64 (stmt, 2, addr);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return -1;
  if (created)
    *created = TRUE;
  return person;
}

static gint64
ensure_person (SgStore *store, const char *address, GError **error)
{
  return ensure_person_full (store, address, NULL, NULL, error);
}

static gboolean
skip (GError **error, const char *why, const char *key)
{
  g_set_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_PROTOCOL, "%s (%s)", why, key);
  return FALSE;
}

/* Binds a JSON value: null, text, integer, boolean, else its JSON text. */
static void
bind_json (sqlite3_stmt *stmt, int i, JsonNode *v)
{
  if (v == NULL || JSON_NODE_HOLDS_NULL (v)) {
    sqlite3_bind_null (stmt, i);
  } else if (JSON_NODE_HOLDS_VALUE (v)) {
    GType t = json_node_get_value_type (v);

    if (t == G_TYPE_INT64)
      sqlite3_bind_int64 (stmt, i, json_node_get_int (v));
    else if (t == G_TYPE_BOOLEAN)
      sqlite3_bind_int (stmt, i, json_node_get_boolean (v));
    else if (t == G_TYPE_DOUBLE)
      sqlite3_bind_double (stmt, i, json_node_get_double (v));
    else
      sqlite3_bind_text (stmt, i, json_node_get_string (v), -1, SQLITE_TRANSIENT);
  } else {
    g_autofree char *text = json_to_string (v, FALSE);

    sqlite3_bind_text (stmt, i, text, -1, SQLITE_TRANSIENT);
  }
}

static const char *
str_member (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING ? json_node_get_string (n)
                                                                                          : NULL;
}

static gint64
int_member (JsonObject *o, const char *name, gint64 fallback)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64 ? json_node_get_int (n)
                                                                                         : fallback;
}

/* The meeting row @meeting and its interaction: linked, and the interaction follows the row
 * (date, subject, participants), as sg-ical.c keeps it on the device that wrote it. */
static gboolean
link_meeting_interaction (SgStore *store, gint64 meeting, gint64 interaction, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare_static (store, "UPDATE meetings SET interaction_id = ?2 WHERE id = ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, meeting);
  sqlite3_bind_int64 (stmt, 2, interaction);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return FALSE;
  stmt = _sg_store_prepare_static (store,
      "UPDATE interactions SET date_utc = m.start_utc, subject = coalesce(m.summary, interactions.subject) "
      "FROM (SELECT start_utc, summary FROM meetings WHERE id = ?1) m WHERE interactions.id = ?2", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, meeting);
  sqlite3_bind_int64 (stmt, 2, interaction);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return FALSE;
  stmt = _sg_store_prepare_static (store,
      "SELECT count(*) FROM meeting_attendees WHERE meeting_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, meeting);
  if (sqlite3_step (stmt) != SQLITE_ROW || sqlite3_column_int64 (stmt, 0) == 0) {
    sqlite3_reset (stmt);
    return TRUE; /* attendees not known (yet): the interaction keeps the op's participants */
  }
  sqlite3_reset (stmt);
  stmt = _sg_store_prepare_static (store, "DELETE FROM participants WHERE interaction_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, interaction);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return FALSE;
  stmt = _sg_store_prepare_static (store,
      "INSERT OR IGNORE INTO participants (interaction_id, address_id, role, display_name) "
      "SELECT ?1, address_id, role, display_name FROM meeting_attendees WHERE meeting_id = ?2", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, interaction);
  sqlite3_bind_int64 (stmt, 2, meeting);
  return _sg_store_exec_stmt (store, stmt, error);
}

/* Runs a row statement of a pulled op: a constraint the op's values break (a kind this
 * schema does not allow, a missing NOT NULL field) skips the op instead of failing the sync. */
static gboolean
exec_op_stmt (Apply *a, sqlite3_stmt *stmt, GError **error)
{
  sqlite3 *db = _sg_store_get_db (a->store);
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
    sqlite3_reset (stmt);
    return TRUE;
  }
  rc = sqlite3_reset (stmt);
  if ((rc & 0xff) == SQLITE_CONSTRAINT)
    return skip (error, sqlite3_errmsg (db), a->key);
  _sg_store_set_error (a->store, error, "sync");
  return FALSE;
}

/* The fields of the op that win over what this store has (moving their clocks). On an
 * entity that can be deleted, a field older than the newest delete does not come back. */
static gboolean
winning_fields (Apply *a, GPtrArray *out, gboolean deletable, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (a->fields);

  if (deletable && a->hlc <= clock_of (a, "-"))
    return TRUE;
  for (GList *m = members; m; m = m->next) {
    gboolean wins = FALSE;

    if (!clock_wins (a, m->data, &wins, error))
      return FALSE;
    if (wins)
      g_ptr_array_add (out, m->data);
  }
  return TRUE;
}

static gboolean
won (GPtrArray *wins, const char *field)
{
  for (guint i = 0; i < wins->len; i++)
    if (strcmp (wins->pdata[i], field) == 0)
      return TRUE;
  return FALSE;
}

/* How a field becomes a column: as it is, or a natural key resolved to a local id
 * (COL_HOOK: not a column; the entity's hook applies it). */
typedef enum {
  COL_VALUE, COL_ORG, COL_PROCESS, COL_PERSON, COL_PIPELINE, COL_STAGE, COL_LEAD, COL_ADDRESS, COL_HOOK
} ColKind;
typedef struct {
  const char *field;
  const char *column;
  ColKind kind;
} ColSpec;

/* One entity merged last-writer-wins per field onto one row: a new entity adds a RowSpec. */
typedef struct {
  const char *entity;
  const char *table;
  const char *find_sql;        /* the row's rowid from the natural key (?1) */
  gint64 (*find) (Apply *a, GError **error); /* instead of find_sql: 0 not found, -1 error */
  gint64 (*ensure) (Apply *a, GError **error); /* makes a missing row (organisations) */
  const char *key_column;      /* set to the natural key on insert; NULL: the fields carry it */
  const ColSpec *cols;
  const char *required[6];     /* fields a new row needs */
  const char *insert_now;      /* columns set to now on insert, unless a field sets them */
  const char *update_now;      /* column set to now on update */
  gboolean deletable;          /* takes `delete` ops: the row goes when the delete is newest */
  gboolean stage_in_pipeline;  /* COL_STAGE resolves in the op's (or the row's) pipeline */
  gboolean (*after) (Apply *a, gint64 rowid, GPtrArray *wins, GError **error); /* COL_HOOK fields */
  /* An order of the entity's own that comes before the clock: the op against the row, -1
   * older (ignored), 0 the same (last writer wins per field), 1 newer (every field wins). */
  int (*order) (Apply *a, gint64 rowid, GError **error);
} RowSpec;

static const ColSpec org_cols[] = {
  { "name", "name", COL_VALUE }, { "kind", "kind", COL_VALUE }, { "industry", "industry", COL_VALUE }, { NULL },
};
static const ColSpec process_cols[] = {
  { "organisation", "org_id", COL_ORG }, { "title", "title", COL_VALUE },
  { "account_manager", "account_manager", COL_VALUE }, { "deliverable", "deliverable", COL_VALUE },
  { "deliverable_kind", "deliverable_kind", COL_VALUE }, { "deliverable_type", "deliverable_type", COL_VALUE },
  { "value_minor", "value_minor", COL_VALUE }, { "currency", "currency", COL_VALUE },
  { "cost_minor", "cost_minor", COL_VALUE }, { "lead_source", "lead_source_id", COL_LEAD },
  { "pipeline", "pipeline_id", COL_PIPELINE }, { "stage", "stage_id", COL_STAGE },
  { "status", "status", COL_VALUE }, { "lost_reason", "lost_reason", COL_VALUE },
  { "opened_at", "opened_at", COL_VALUE }, { "expected_close", "expected_close", COL_VALUE },
  { "closed_at", "closed_at", COL_VALUE }, { "created_by", "created_by", COL_VALUE }, { NULL },
};
static const ColSpec cx_cols[] = {
  { "organisation", "org_id", COL_ORG }, { "process", "process_id", COL_PROCESS },
  { "person", "person_id", COL_PERSON }, { "text", "text", COL_VALUE }, { "sentiment", "sentiment", COL_VALUE },
  { "author", "author", COL_VALUE }, { "noted_at", "noted_at", COL_VALUE }, { NULL },
};
static const ColSpec request_cols[] = {
  { "organisation", "org_id", COL_ORG }, { "process", "process_id", COL_PROCESS },
  { "person", "person_id", COL_PERSON }, { "what", "what", COL_VALUE }, { "category", "category", COL_VALUE },
  { "recorded_by", "recorded_by", COL_VALUE }, { "requested_at", "requested_at", COL_VALUE }, { NULL },
};
static const ColSpec lead_cols[] = {
  { "kind", "kind", COL_VALUE }, { "detail", "detail", COL_VALUE }, { "credited_to", "credited_to", COL_VALUE },
  { NULL },
};
static const ColSpec selection_cols[] = {
  { "expression", "expression", COL_VALUE }, { "by", "created_by", COL_VALUE },
  { "updated_at", "updated_at", COL_VALUE }, { NULL },
};
static const ColSpec meeting_cols[] = {
  { "uid", "uid", COL_VALUE }, { "recurrence_id", "recurrence_id", COL_VALUE }, { "summary", "summary", COL_VALUE },
  { "location", "location", COL_VALUE }, { "start", "start_utc", COL_VALUE }, { "end", "end_utc", COL_VALUE },
  { "all_day", "all_day", COL_VALUE }, { "tzid", "tzid", COL_VALUE }, { "tz", "tz", COL_VALUE },
  { "rrule", "rrule", COL_VALUE }, { "rdates", "rdates", COL_VALUE }, { "exdates", "exdates", COL_VALUE },
  { "status", "status", COL_VALUE }, { "sequence", "sequence", COL_VALUE }, { "dtstamp", "dtstamp", COL_VALUE },
  { "method", "method", COL_VALUE }, { "organizer", "organizer_id", COL_ADDRESS },
  { "attendees", NULL, COL_HOOK }, { NULL },
};
static const ColSpec pipeline_cols[] = {
  { "description", "description", COL_VALUE }, { "stages", NULL, COL_HOOK }, { NULL },
};

static gint64 ensure_org_row (Apply *a, GError **error);
static gint64 find_meeting_row (Apply *a, GError **error);
static gboolean after_meeting (Apply *a, gint64 rowid, GPtrArray *wins, GError **error);
static gboolean after_pipeline (Apply *a, gint64 rowid, GPtrArray *wins, GError **error);
static int meeting_order (Apply *a, gint64 rowid, GError **error);

static const RowSpec row_specs[] = {
  { .entity = "organisation", .table = "organisations", .ensure = ensure_org_row, .cols = org_cols },
  { .entity = "process", .table = "processes", .find_sql = "SELECT id FROM processes WHERE uuid = ?",
    .key_column = "uuid", .cols = process_cols,
    .required = { "organisation", "deliverable", "pipeline", "stage", "opened_at", NULL },
    .insert_now = "stage_since, created_at, updated_at", .update_now = "updated_at", .stage_in_pipeline = TRUE },
  { .entity = "cx_note", .table = "cx_notes", .find_sql = "SELECT id FROM cx_notes WHERE uuid = ?",
    .key_column = "uuid", .cols = cx_cols, .required = { "organisation", "text", "noted_at", NULL },
    .insert_now = "created_at" },
  { .entity = "request", .table = "unfulfilled_requests",
    .find_sql = "SELECT id FROM unfulfilled_requests WHERE uuid = ?", .key_column = "uuid", .cols = request_cols,
    .required = { "organisation", "what", "category", "requested_at", NULL }, .insert_now = "created_at" },
  { .entity = "lead_source", .table = "lead_sources", .find_sql = "SELECT id FROM lead_sources WHERE name = ?",
    .key_column = "name", .cols = lead_cols, .required = { "kind", NULL }, .insert_now = "created_at" },
  { .entity = "selection", .table = "saved_selections",
    .find_sql = "SELECT rowid FROM saved_selections WHERE name = ?", .key_column = "name", .cols = selection_cols,
    .required = { "expression", NULL }, .insert_now = "created_at, updated_at", .deletable = TRUE },
  { .entity = "meeting", .table = "meetings", .find = find_meeting_row, .cols = meeting_cols,
    .required = { "uid", "start", "end", NULL }, .insert_now = "created_at, updated_at", .update_now = "updated_at",
    .deletable = TRUE, .after = after_meeting, .order = meeting_order },
  { .entity = "pipeline", .table = "pipelines", .find_sql = "SELECT id FROM pipelines WHERE name = ?",
    .key_column = "name", .cols = pipeline_cols, .required = { "stages", NULL }, .insert_now = "created_at",
    .after = after_pipeline },
};

static const RowSpec *
row_spec (const char *entity)
{
  for (guint i = 0; i < G_N_ELEMENTS (row_specs); i++)
    if (strcmp (row_specs[i].entity, entity) == 0)
      return &row_specs[i];
  return NULL;
}

/* The value a column gets from a field (references resolved to local ids). */
static JsonNode *
resolve (Apply *a, const ColSpec *c, JsonNode *v, gint64 pipeline_id, GError **error)
{
  const char *text = v && JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING
                         ? json_node_get_string (v) : NULL;
  gint64 id = 0;
  JsonNode *out;

  if (c->kind == COL_VALUE)
    return v ? json_node_copy (v) : json_node_new (JSON_NODE_NULL);
  if (text == NULL)
    return json_node_new (JSON_NODE_NULL);
  switch (c->kind) {
  case COL_ORG:
    id = ensure_org (a->store, text, error);
    break;
  case COL_PERSON:
    id = ensure_person (a->store, text, error);
    break;
  case COL_ADDRESS:
    id = ensure_address (a->store, text, NULL, error);
    break;
  case COL_PROCESS:
    id = lookup (a->store, "SELECT id FROM processes WHERE uuid = ?", text, error);
    break;
  case COL_PIPELINE:
    id = lookup (a->store, "SELECT id FROM pipelines WHERE name = ?", text, error);
    break;
  case COL_LEAD:
    id = lookup (a->store, "SELECT id FROM lead_sources WHERE name = ?", text, error);
    break;
  case COL_STAGE: {
    sqlite3_stmt *stmt = _sg_store_prepare_static (a->store,
        "SELECT id FROM stages WHERE pipeline_id = ? AND name = ?", error);

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64 (stmt, 1, pipeline_id);
    sqlite3_bind_text (stmt, 2, text, -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) == SQLITE_ROW)
      id = sqlite3_column_int64 (stmt, 0);
    sqlite3_reset (stmt);
    break;
  }
  default:
    break;
  }
  if (id < 0)
    return NULL;
  if (id == 0) {
    g_set_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_PROTOCOL, "%s “%s” is not known here", c->field, text);
    return NULL;
  }
  out = json_node_new (JSON_NODE_VALUE);
  json_node_set_int (out, id);
  return out;
}

static JsonNode *
int_node (gint64 v)
{
  JsonNode *n = json_node_new (JSON_NODE_VALUE);

  json_node_set_int (n, v);
  return n;
}

static gint64
find_row (Apply *a, const RowSpec *r, GError **error)
{
  return r->find ? r->find (a, error) : lookup (a->store, r->find_sql, a->key, error);
}

/* A delete of a deletable entity: the row goes when the delete is newer than every field
 * set before it (a field set later brings it back). */
static gboolean
delete_row (Apply *a, const RowSpec *r, GError **error)
{
  g_autofree char *sql = NULL;
  sqlite3_stmt *stmt;
  gboolean wins = FALSE;
  gint64 rowid;

  if (!clock_wins (a, "-", &wins, error))
    return FALSE;
  if (!wins || newest_field_clock (a) > a->hlc)
    return TRUE;
  if ((rowid = find_row (a, r, error)) <= 0)
    return rowid == 0;
  sql = g_strdup_printf ("DELETE FROM %s WHERE rowid = ?", r->table);
  if ((stmt = _sg_store_prepare (a->store, sql, error)) == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, rowid);
  if (!_sg_store_exec_stmt (a->store, stmt, error))
    return FALSE;
  a->changed = TRUE;
  return TRUE;
}

/* Last writer wins per field on the row of a natural key, from the entity's RowSpec. */
static gboolean
apply_row (Apply *a, const RowSpec *r, GError **error)
{
  g_autoptr (GPtrArray) wins = g_ptr_array_new ();
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr (GString) sql = g_string_new (NULL);
  gint64 rowid, pipeline_id = 0;
  sqlite3_stmt *stmt;
  gboolean hooked = FALSE;

  if (strcmp (a->op, "delete") == 0 && r->deletable)
    return delete_row (a, r, error);
  if (strcmp (a->op, "upsert") != 0)
    return skip (error, "an op this entity does not take", a->key);
  rowid = r->ensure ? r->ensure (a, error) : find_row (a, r, error);
  if (rowid < 0)
    return FALSE;
  if (rowid == 0)
    for (guint i = 0; r->required[i]; i++)
      if (!json_object_has_member (a->fields, r->required[i]))
        return skip (error, "a new row without all its fields", a->key);
  if (rowid > 0 && r->order != NULL) {
    int o = r->order (a, rowid, error);

    if (o == -2)
      return FALSE;
    if (o < 0)
      return TRUE;
    a->force = o > 0;
  }
  if (!winning_fields (a, wins, r->deletable, error))
    return FALSE;
  if (wins->len == 0)
    return TRUE;
  /* The stage belongs to the pipeline the op names, else to the row's. */
  if (r->stage_in_pipeline) {
    const char *pl = str_member (a->fields, "pipeline");
    g_autofree char *pl_sql = g_strdup_printf ("SELECT pipeline_id FROM %s WHERE rowid = ?", r->table);

    if (pl != NULL) {
      pipeline_id = lookup (a->store, "SELECT id FROM pipelines WHERE name = ?", pl, error);
    } else if ((stmt = _sg_store_prepare (a->store, pl_sql, error)) != NULL) {
      sqlite3_bind_int64 (stmt, 1, rowid);
      pipeline_id = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
      sqlite3_reset (stmt);
    } else {
      pipeline_id = -1;
    }
    if (pipeline_id < 0)
      return FALSE;
  }
  if (rowid == 0) {
    g_autoptr (GString) cols = g_string_new (NULL);
    g_autoptr (GString) marks = g_string_new (NULL);

    if (r->key_column) {
      JsonNode *key_node = json_node_new (JSON_NODE_VALUE);

      json_node_set_string (key_node, a->key);
      g_string_append (cols, r->key_column);
      g_string_append (marks, "?");
      g_ptr_array_add (values, key_node);
    }
    for (const ColSpec *c = r->cols; c->field; c++) {
      JsonNode *v = json_object_get_member (a->fields, c->field);
      JsonNode *val;

      if (v == NULL || c->kind == COL_HOOK)
        continue;
      if ((val = resolve (a, c, v, pipeline_id, error)) == NULL)
        return FALSE;
      g_string_append_printf (cols, "%s%s", cols->len ? ", " : "", c->column);
      g_string_append (marks, marks->len ? ", ?" : "?");
      g_ptr_array_add (values, val);
    }
    if (r->insert_now) {
      g_auto (GStrv) extra = g_strsplit (r->insert_now, ", ", -1);
      gint64 opened = int_member (a->fields, "opened_at", now_s ());

      for (guint i = 0; extra[i]; i++) {
        gboolean set = FALSE;

        /* A column the op sets (a selection's updated_at) keeps the op's value. */
        for (const ColSpec *c = r->cols; c->field && !set; c++)
          set = c->column && strcmp (c->column, extra[i]) == 0 && json_object_has_member (a->fields, c->field);
        if (set)
          continue;
        g_string_append_printf (cols, ", %s", extra[i]);
        g_string_append (marks, ", ?");
        g_ptr_array_add (values, int_node (strcmp (extra[i], "stage_since") == 0 ? opened : now_s ()));
      }
    }
    g_string_printf (sql, "INSERT INTO %s (%s) VALUES (%s)", r->table, cols->str, marks->str);
  } else {
    g_string_printf (sql, "UPDATE %s SET ", r->table);
    for (const ColSpec *c = r->cols; c->field; c++) {
      JsonNode *val;

      if (!won (wins, c->field))
        continue;
      if (c->kind == COL_HOOK) {
        hooked = TRUE;
        continue;
      }
      if ((val = resolve (a, c, json_object_get_member (a->fields, c->field), pipeline_id, error)) == NULL)
        return FALSE;
      g_string_append_printf (sql, "%s%s = ?", values->len ? ", " : "", c->column);
      g_ptr_array_add (values, val);
      if (c->kind == COL_STAGE) {
        g_string_append (sql, ", stage_since = ?");
        g_ptr_array_add (values, int_node (a->hlc >> 16 >= 1000 ? (a->hlc >> 16) / 1000 : now_s ()));
      }
    }
    if (values->len == 0 && !hooked)
      return TRUE; /* fields this version does not keep */
    if (values->len == 0) {
      g_string_truncate (sql, 0);
    } else {
      if (r->update_now) {
        g_string_append_printf (sql, ", %s = ?", r->update_now);
        g_ptr_array_add (values, int_node (now_s ()));
      }
      g_string_append (sql, " WHERE rowid = ?");
      g_ptr_array_add (values, int_node (rowid));
    }
  }
  if (sql->len > 0) {
    if ((stmt = _sg_store_prepare (a->store, sql->str, error)) == NULL)
      return FALSE;
    for (guint i = 0; i < values->len; i++)
      bind_json (stmt, (int) i + 1, values->pdata[i]);
    if (!exec_op_stmt (a, stmt, error))
      return FALSE;
    if (rowid == 0)
      rowid = sqlite3_last_insert_rowid (_sg_store_get_db (a->store));
  }
  a->changed = TRUE;
  return r->after == NULL || r->after (a, rowid, wins, error);
}

static gint64
ensure_org_row (Apply *a, GError **error)
{
  if (strcmp (a->op, "upsert") != 0)
    return skip (error, "not an upsert", a->key) ? 0 : -1;
  return ensure_org (a->store, a->key, error);
}

/* A meeting's key is UID or UID/RECURRENCE-ID, and a UID may hold '/': the fields say
 * which, else each split is tried. */
static gint64
find_meeting_row (Apply *a, GError **error)
{
  const char *uid = str_member (a->fields, "uid");
  const char *rid = str_member (a->fields, "recurrence_id");
  sqlite3_stmt *stmt = _sg_store_prepare_static (a->store,
      "SELECT id FROM meetings WHERE uid = ?1 AND recurrence_id = coalesce(?2, '')", error);
  gint64 id = 0;

  if (stmt == NULL)
    return -1;
  if (uid != NULL) {
    sqlite3_bind_text (stmt, 1, uid, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, rid, -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) == SQLITE_ROW)
      id = sqlite3_column_int64 (stmt, 0);
    sqlite3_reset (stmt);
    return id;
  }
  for (const char *slash = a->key + strlen (a->key); id == 0 && slash != NULL;) {
    g_autofree char *u = g_strndup (a->key, (gsize) (slash - a->key));

    sqlite3_bind_text (stmt, 1, u, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (stmt, 2, *slash ? slash + 1 : "", -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) == SQLITE_ROW)
      id = sqlite3_column_int64 (stmt, 0);
    sqlite3_reset (stmt);
    /* the previous '/' */
    while (slash > a->key && *--slash != '/')
      ;
    if (slash == a->key)
      slash = NULL;
  }
  return id;
}

/* iTIP order (RFC 5546 2.1.5, as sg-ical.c applies it on import): a higher SEQUENCE, then a
 * later DTSTAMP, is a newer version of the meeting whatever the clocks say, so a device that
 * captures an old invitation late does not undo a newer one. -2: store error. */
static int
meeting_order (Apply *a, gint64 rowid, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare_static (a->store, "SELECT sequence, dtstamp FROM meetings WHERE id = ?", error);
  gint64 seq, stamp, oseq, ostamp;

  if (stmt == NULL)
    return -2;
  sqlite3_bind_int64 (stmt, 1, rowid);
  if (sqlite3_step (stmt) != SQLITE_ROW) {
    sqlite3_reset (stmt);
    return 0;
  }
  seq = sqlite3_column_int64 (stmt, 0);
  stamp = sqlite3_column_int64 (stmt, 1);
  sqlite3_reset (stmt);
  oseq = int_member (a->fields, "sequence", seq);
  ostamp = int_member (a->fields, "dtstamp", stamp);
  if (oseq != seq)
    return oseq < seq ? -1 : 1;
  if (ostamp != stamp)
    return ostamp < stamp ? -1 : 1;
  return 0;
}

/* Attendees are one field (the list replaces the list, last writer wins); the meeting's
 * interaction (ical:KEY, pulled as its own op) follows the row as on the device that
 * wrote it: date, subject, participants. */
static gboolean
after_meeting (Apply *a, gint64 rowid, GPtrArray *wins, GError **error)
{
  g_autofree char *ikey = g_strdup_printf ("ical:%s", a->key);
  sqlite3_stmt *stmt;
  gint64 interaction;

  if (won (wins, "attendees")) {
    JsonArray *att = arr_member (a->fields, "attendees", NULL);

    if ((stmt = _sg_store_prepare_static (a->store, "DELETE FROM meeting_attendees WHERE meeting_id = ?", error)) == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, rowid);
    if (!_sg_store_exec_stmt (a->store, stmt, error))
      return FALSE;
    for (guint i = 0; att && i < json_array_get_length (att); i++) {
      JsonNode *n = json_array_get_element (att, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      const char *address = str_member (o, "address");
      const char *role = str_member (o, "role");
      const char *partstat = str_member (o, "partstat");
      gint64 addr;

      if (address == NULL)
        continue;
      if ((addr = ensure_address (a->store, address, NULL, error)) < 0)
        return FALSE;
      stmt = _sg_store_prepare_static (a->store,
          "INSERT OR REPLACE INTO meeting_attendees (meeting_id, address_id, role, partstat) "
          "VALUES (?, ?, coalesce(?, 'attendee'), coalesce(?, 'needs-action'))", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, rowid);
      sqlite3_bind_int64 (stmt, 2, addr);
      sqlite3_bind_text (stmt, 3, role, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, partstat, -1, SQLITE_STATIC);
      if (!exec_op_stmt (a, stmt, error))
        return FALSE;
    }
  }
  if ((interaction = lookup (a->store, "SELECT id FROM interactions WHERE message_id = ?", ikey, error)) <= 0)
    return interaction == 0;
  return link_meeting_interaction (a->store, rowid, interaction, error);
}

static gboolean
after_pipeline (Apply *a, gint64 rowid, GPtrArray *wins, GError **error)
{
  JsonArray *stages = arr_member (a->fields, "stages", NULL);

  if (!won (wins, "stages"))
    return TRUE;
  if (stages == NULL)
    return skip (error, "a pipeline's stages that are not a list", a->key);
  for (guint i = 0; i < json_array_get_length (stages); i++) {
    JsonNode *n = json_array_get_element (stages, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
    gint64 p = int_member (o, "probability", -1);
    const char *kind = str_member (o, "kind");

    if (str_member (o, "name") == NULL || p < 0 || p > 100 ||
        (kind && strcmp (kind, "open") && strcmp (kind, "won") && strcmp (kind, "lost") && strcmp (kind, "post")))
      return skip (error, "a pipeline stage without a name, a probability 0..100 and a kind", a->key);
  }
  return _sg_pipeline_store_stages_json (a->store, rowid, stages, error);
}

static gboolean delete_person (Apply *a, GError **error);

static gboolean
apply_person (Apply *a, GError **error)
{
  g_autoptr (GPtrArray) wins = g_ptr_array_new ();
  NewPerson np = { NULL, 0, 0, NULL };
  gboolean name_wins, created = FALSE;
  const char *kind = NULL;
  sqlite3_stmt *stmt;
  gint64 id;

  if (strcmp (a->op, "delete") == 0)
    return delete_person (a, error);
  if (strcmp (a->op, "upsert") != 0)
    return skip (error, "a person op other than upsert and delete", a->key);
  /* An address found to be a list stays one (delete_person). */
  if (clock_of (a, "-") >= 0)
    return TRUE;
  if (!winning_fields (a, wins, FALSE, error))
    return FALSE;
  name_wins = won (wins, "name");
  if (won (wins, "kind")) {
    /* Another user's 'self' is a colleague here; this user's own person stays 'self'. */
    kind = str_member (a->fields, "kind");
    if (g_strcmp0 (kind, "self") == 0)
      kind = "colleague";
    if (g_strcmp0 (kind, "contact") != 0 && g_strcmp0 (kind, "colleague") != 0)
      kind = NULL;
  }
  if (name_wins) {
    /* The name keeps its score, so that the importer only replaces it with a better one. */
    np.name = str_member (a->fields, "name");
    np.name_score = np.name ? sg_name_score (np.name, a->key) : 0;
    np.name_date = (a->hlc >> 16) / 1000;
  }
  np.kind = kind;
  /* A new person is made with its name and kind: no UPDATE after the INSERT. */
  if ((id = ensure_person_full (a->store, a->key, &np, &created, error)) < 0)
    return FALSE;
  if (created)
    a->changed = TRUE;
  if (name_wins && !created) {
    stmt = _sg_store_prepare_static (a->store,
        "UPDATE people SET name = ?, name_score = ?, name_date = ? WHERE id = ?", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, np.name, -1, SQLITE_STATIC);
    sqlite3_bind_int (stmt, 2, np.name_score);
    sqlite3_bind_int64 (stmt, 3, np.name_date);
    sqlite3_bind_int64 (stmt, 4, id);
    if (!_sg_store_exec_stmt (a->store, stmt, error))
      return FALSE;
    a->changed = TRUE;
  }
  if (name_wins) {
    /* A pulled name is not news to push back (no echo). */
    stmt = _sg_store_prepare_static (a->store,
        "INSERT INTO sync_names (address, name) VALUES (?, ?) "
        "ON CONFLICT (address) DO UPDATE SET name = excluded.name", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, a->key, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, np.name, -1, SQLITE_STATIC);
    if (!_sg_store_exec_stmt (a->store, stmt, error))
      return FALSE;
  }
  if (kind != NULL && !created) {
    stmt = _sg_store_prepare_static (a->store, "UPDATE people SET kind = ? WHERE id = ? AND kind <> 'self'", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, id);
    if (!_sg_store_exec_stmt (a->store, stmt, error))
      return FALSE;
    a->changed = TRUE;
  }
  return TRUE;
}

/* A person delete: the importer found the address to be a mailing list (schema/sync.md,
 * "person delete"). The address becomes a list here too, and stays one: a person upsert of
 * it, older or newer, does not bring the person back. Its interactions stay (participants
 * point to the address); what hangs on the person row (facts, roles, process contacts,
 * lead-source credits, summary) goes with it, as on the device that found it. */
static gboolean
delete_person (Apply *a, GError **error)
{
  gboolean wins = FALSE;
  gint64 person = 0;
  gint64 addr;
  sqlite3_stmt *stmt;

  if (!clock_wins (a, "-", &wins, error))
    return FALSE;
  if ((addr = ensure_address (a->store, a->key, &person, error)) < 0)
    return FALSE;
  if (a->known != NULL)
    g_hash_table_remove (a->known, a->key);
  stmt = _sg_store_prepare_static (a->store,
      "UPDATE addresses SET kind = 'list', person_id = NULL WHERE id = ? AND (kind <> 'list' OR person_id IS NOT NULL)",
      error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, addr);
  if (!_sg_store_exec_stmt (a->store, stmt, error))
    return FALSE;
  a->changed = sqlite3_changes (_sg_store_get_db (a->store)) > 0;
  if (person == 0)
    return TRUE;
  stmt = _sg_store_prepare_static (a->store,
      "DELETE FROM people WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM addresses WHERE person_id = ?1)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, person);
  if (!_sg_store_exec_stmt (a->store, stmt, error))
    return FALSE;
  /* Gone: its pending contact dates must not land on a new person given its id. */
  if (a->seen != NULL && sqlite3_changes (_sg_store_get_db (a->store)) > 0)
    g_hash_table_remove (a->seen, &person);
  return TRUE;
}

/* A fact read from a person's signature or vCard (sg-import-text.c), key
 * "address|kind|detail|value". Facts are observations: merged by keeping the newest
 * observation, the first sighting and the best confidence, the same rule the importer
 * applies to its own, so stores converge whatever the order. */
static gboolean
apply_person_fact (Apply *a, GError **error)
{
  static const char *const kinds[] = { "title", "organisation", "phone", "address", "website", NULL };
  const char *kind = str_member (a->fields, "kind");
  const char *detail = str_member (a->fields, "detail");
  const char *value = str_member (a->fields, "value");
  const char *origin = str_member (a->fields, "origin");
  const char *mid = str_member (a->fields, "message_id");
  JsonNode *conf = json_object_get_member (a->fields, "confidence");
  gint64 observed = int_member (a->fields, "observed", -1);
  gint64 first_seen = int_member (a->fields, "first_seen", observed);
  g_autofree char *address = g_strdup (a->key);
  gint64 person, interaction = 0;
  double confidence = 0;
  sqlite3_stmt *stmt;

  if (strcmp (a->op, "upsert") != 0)
    return skip (error, "a person fact op other than upsert", a->key);
  if (strchr (address, '|'))
    *strchr (address, '|') = '\0';
  if (conf && JSON_NODE_HOLDS_VALUE (conf) &&
      (json_node_get_value_type (conf) == G_TYPE_DOUBLE || json_node_get_value_type (conf) == G_TYPE_INT64))
    confidence = json_node_get_double (conf);
  if (kind == NULL || !g_strv_contains (kinds, kind) || value == NULL || *value == '\0' || observed < 0 ||
      (g_strcmp0 (origin, "signature") != 0 && g_strcmp0 (origin, "vcard") != 0))
    return skip (error, "a person fact without a known kind, a value, an origin and a date", a->key);
  if ((person = ensure_person (a->store, address, error)) < 0)
    return FALSE;
  if (mid != NULL &&
      (interaction = lookup (a->store, "SELECT id FROM interactions WHERE message_id = ?", mid, error)) < 0)
    return FALSE;
  stmt = _sg_store_prepare_static (a->store,
      "INSERT INTO person_facts (person_id, kind, detail, value, confidence, origin, interaction_id, first_seen, "
      "  observed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, min(?9, ?8), ?8) "
      "ON CONFLICT (person_id, kind, detail, value) DO UPDATE SET "
      "  confidence = max(confidence, excluded.confidence), first_seen = min(first_seen, excluded.first_seen), "
      "  interaction_id = CASE WHEN excluded.observed > observed OR interaction_id IS NULL "
      "    THEN coalesce(excluded.interaction_id, interaction_id) ELSE interaction_id END, "
      "  origin = CASE WHEN excluded.observed > observed THEN excluded.origin ELSE origin END, "
      "  observed = max(observed, excluded.observed) "
      "WHERE excluded.observed > observed OR excluded.first_seen < first_seen OR excluded.confidence > confidence "
      "  OR (interaction_id IS NULL AND excluded.interaction_id IS NOT NULL)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, person);
  sqlite3_bind_text (stmt, 2, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, detail ? detail : "", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, value, -1, SQLITE_STATIC);
  sqlite3_bind_double (stmt, 5, confidence);
  sqlite3_bind_text (stmt, 6, origin, -1, SQLITE_STATIC);
  if (interaction > 0)
    sqlite3_bind_int64 (stmt, 7, interaction);
  sqlite3_bind_int64 (stmt, 8, observed);
  sqlite3_bind_int64 (stmt, 9, first_seen);
  if (!exec_op_stmt (a, stmt, error))
    return FALSE;
  a->changed = sqlite3_changes (_sg_store_get_db (a->store)) > 0;
  /* What the op brought is not news to push back; a date this store has beyond it is. */
  stmt = _sg_store_prepare_static (a->store,
      "DELETE FROM sync_dirty_facts WHERE fact_id = (SELECT id FROM person_facts WHERE person_id = ?1 AND kind = ?2 "
      "AND detail = ?3 AND value = ?4 AND observed = ?5 AND first_seen = min(?6, ?5))", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, person);
  sqlite3_bind_text (stmt, 2, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, detail ? detail : "", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, value, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, observed);
  sqlite3_bind_int64 (stmt, 6, first_seen);
  return _sg_store_exec_stmt (a->store, stmt, error);
}

/* An interaction delete: only meetings' interactions are ever deleted (a CalDAV event gone
 * from its server, sg-ical.c delete_row); mail is immutable. */
static gboolean
delete_interaction (Apply *a, GError **error)
{
  gboolean wins = FALSE;
  gint64 id;
  sqlite3_stmt *stmt;

  if (!g_str_has_prefix (a->key, "ical:"))
    return skip (error, "a delete of a mail interaction", a->key);
  if (!clock_wins (a, "-", &wins, error))
    return FALSE;
  if (!wins)
    return TRUE;
  if ((id = lookup (a->store, "SELECT id FROM interactions WHERE message_id = ? AND kind = 'meeting'", a->key,
                    error)) <= 0)
    return id == 0;
  stmt = _sg_store_prepare_static (a->store,
      "DELETE FROM tag_assignments WHERE entity_type = 'interaction' AND entity_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  if (!_sg_store_exec_stmt (a->store, stmt, error))
    return FALSE;
  stmt = _sg_store_prepare_static (a->store, "DELETE FROM interactions WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  if (!_sg_store_exec_stmt (a->store, stmt, error))
    return FALSE;
  a->changed = TRUE;
  return TRUE;
}

static gint64
parse_iso (const char *text)
{
  g_autoptr (GDateTime) dt = text ? g_date_time_new_from_iso8601 (text, NULL) : NULL;

  return dt ? g_date_time_to_unix (dt) : -1;
}

static gboolean update_seen (SgStore *store, gint64 person, gint64 first, gint64 last, GError **error);

static gboolean
add_participant (Apply *a, gint64 interaction, const char *address, const char *role, gint64 date,
                 GError **error)
{
  Known *k = a->known ? g_hash_table_lookup (a->known, address) : NULL;
  gint64 person = k ? k->person : 0;
  gint64 addr = k ? k->addr : ensure_address (a->store, address, &person, error);
  sqlite3_stmt *stmt;

  if (addr < 0)
    return FALSE;
  /* An address's person only changes from none to one (ensure_person_full) or to none
   * (delete_person, which forgets it here): one that has a person keeps it for the page. */
  if (k == NULL && person != 0 && a->known != NULL) {
    k = g_new (Known, 1);
    k->addr = addr;
    k->person = person;
    g_hash_table_insert (a->known, (gpointer) address, k);
  }
  stmt = _sg_store_prepare_static (a->store,
      "INSERT OR IGNORE INTO participants (interaction_id, address_id, role) VALUES (?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, interaction);
  sqlite3_bind_int64 (stmt, 2, addr);
  sqlite3_bind_text (stmt, 3, role, -1, SQLITE_STATIC);
  if (!_sg_store_exec_stmt (a->store, stmt, error))
    return FALSE;
  if (person == 0)
    return TRUE;
  if (a->seen != NULL) {
    Seen *s = g_hash_table_lookup (a->seen, &person);

    if (s == NULL) {
      gint64 *id = g_new (gint64, 1);

      *id = person;
      s = g_new (Seen, 1);
      s->first = s->last = date;
      g_hash_table_insert (a->seen, id, s);
    } else {
      s->first = MIN (s->first, date);
      s->last = MAX (s->last, date);
    }
    return TRUE;
  }
  return update_seen (a->store, person, date, date, error);
}

/* First and last contact are derived on each device from the interactions it has. */
static gboolean
update_seen (SgStore *store, gint64 person, gint64 first, gint64 last, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare_static (store,
      "UPDATE people SET first_seen = min(coalesce(first_seen, ?2), ?2), last_seen = max(coalesce(last_seen, ?3), ?3) "
      "WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, person);
  sqlite3_bind_int64 (stmt, 2, first);
  sqlite3_bind_int64 (stmt, 3, last);
  return _sg_store_exec_stmt (store, stmt, error);
}

static gboolean
apply_interaction (Apply *a, GError **error)
{
  const char *direction = str_member (a->fields, "direction");
  const char *subject = str_member (a->fields, "subject");
  const char *thread = str_member (a->fields, "thread");
  const char *from = str_member (a->fields, "from");
  const char *body = str_member (a->fields, "body");
  const char *kind = g_strcmp0 (str_member (a->fields, "kind"), "meeting") == 0 ? "meeting" : "mail";
  gint64 date = parse_iso (str_member (a->fields, "date"));
  gint64 id = lookup (a->store, "SELECT id FROM interactions WHERE message_id = ?", a->key, error);
  gint64 thread_id = 0;
  sqlite3_stmt *stmt;

  if (id < 0)
    return FALSE;
  /* A meeting's interaction deleted after this op was made stays deleted. */
  if (id == 0 && g_str_has_prefix (a->key, "ical:") && clock_of (a, "-") >= a->hlc)
    return TRUE;
  if (id == 0) {
    if (date < 0 || (g_strcmp0 (direction, "in") != 0 && g_strcmp0 (direction, "out") != 0))
      return skip (error, "an interaction without a valid date and direction", a->key);
    if (thread != NULL) {
      stmt = _sg_store_prepare_static (a->store, "INSERT OR IGNORE INTO threads (root_key) VALUES (?)", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, thread, -1, SQLITE_STATIC);
      if (!_sg_store_exec_stmt (a->store, stmt, error))
        return FALSE;
      if ((thread_id = lookup (a->store, "SELECT id FROM threads WHERE root_key = ?", thread, error)) < 0)
        return FALSE;
    }
    stmt = _sg_store_prepare_static (a->store,
        "INSERT INTO interactions (message_id, kind, direction, date_utc, tz_offset, subject, thread_id, "
        "  in_reply_to, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, a->key, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, direction, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 4, date);
    sqlite3_bind_int64 (stmt, 5, int_member (a->fields, "tz_offset", 0));
    sqlite3_bind_text (stmt, 6, subject, -1, SQLITE_STATIC);
    if (thread_id > 0)
      sqlite3_bind_int64 (stmt, 7, thread_id);
    sqlite3_bind_text (stmt, 8, str_member (a->fields, "in_reply_to"), -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 9, now_s ());
    if (!_sg_store_exec_stmt (a->store, stmt, error))
      return FALSE;
    id = sqlite3_last_insert_rowid (_sg_store_get_db (a->store));
    if (from && !add_participant (a, id, from, strcmp (kind, "meeting") == 0 ? "organizer" : "from", date, error))
      return FALSE;
    for (guint l = 0; l < 2; l++) {
      JsonArray *arr = arr_member (a->fields, l == 0 ? "to" : "cc", NULL);

      for (guint i = 0; arr && i < json_array_get_length (arr); i++) {
        JsonNode *n = json_array_get_element (arr, i);
        const char *role = strcmp (kind, "meeting") == 0 ? "attendee" : l == 0 ? "to" : "cc";

        if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING &&
            !add_participant (a, id, json_node_get_string (n), role, date, error))
          return FALSE;
      }
    }
    a->changed = TRUE;
    /* A meeting pulled before its interaction: linked now. */
    if (strcmp (kind, "meeting") == 0 && g_str_has_prefix (a->key, "ical:")) {
      gint64 meeting = lookup (a->store,
          "SELECT id FROM meetings "
          "WHERE (CASE recurrence_id WHEN '' THEN uid ELSE uid || '/' || recurrence_id END) = ?",
          a->key + 5, error);

      if (meeting < 0 || (meeting > 0 && !link_meeting_interaction (a->store, meeting, id, error)))
        return FALSE;
    }
  } else if (subject != NULL) {
    /* A message never changes; a subject another user shares fills one this store lacks. */
    stmt = _sg_store_prepare_static (a->store,
        "UPDATE interactions SET subject = ? WHERE id = ? AND subject IS NULL", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, subject, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, id);
    if (!_sg_store_exec_stmt (a->store, stmt, error))
      return FALSE;
    a->changed |= sqlite3_changes (_sg_store_get_db (a->store)) > 0;
  }
  if (body != NULL) {
    stmt = _sg_store_prepare_static (a->store, "INSERT OR IGNORE INTO sync_bodies (message_id, body) VALUES (?, ?)", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, a->key, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, body, -1, SQLITE_STATIC);
    if (!_sg_store_exec_stmt (a->store, stmt, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
apply_tag (Apply *a, GError **error)
{
  const char *tag = NULL;
  g_autofree char *target = key_head (a->key, '/', &tag);
  const char *colon = strchr (target, ':');
  gboolean present = FALSE, wins = FALSE;
  g_autofree char *type = NULL;
  const char *ekey;
  gint64 entity_id = 0;
  sqlite3_stmt *stmt;

  if (tag == NULL || *tag == '\0' || colon == NULL)
    return skip (error, "a tag assignment key that is not TYPE:KEY/TAG", a->key);
  type = g_strndup (target, (gsize) (colon - target));
  ekey = colon + 1;
  if (strcmp (type, "person") == 0)
    entity_id = lookup (a->store, "SELECT coalesce(person_id, 0) FROM addresses WHERE address = ?", ekey, error);
  else if (strcmp (type, "organisation") == 0)
    entity_id = lookup (a->store, "SELECT id FROM organisations WHERE domain = ?", ekey, error);
  else if (strcmp (type, "interaction") == 0)
    entity_id = lookup (a->store, "SELECT id FROM interactions WHERE message_id = ?", ekey, error);
  else
    return skip (error, "a tag on an unknown kind of thing", a->key);
  if (entity_id < 0)
    return FALSE;
  if (entity_id == 0)
    return skip (error, "a tag on something this store does not have", a->key);
  if (!set_member (a, &present, &wins, error))
    return FALSE;
  if (!wins)
    return TRUE;
  stmt = _sg_store_prepare_static (a->store,
      "INSERT INTO tags (name, kind, created_at) VALUES (?, 'other', ?) ON CONFLICT (name) DO NOTHING", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, tag, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, now_s ());
  if (!_sg_store_exec_stmt (a->store, stmt, error))
    return FALSE;
  if (present && strcmp (a->op, "add") == 0) {
    const char *origin = str_member (a->fields, "origin");

    stmt = _sg_store_prepare_static (a->store,
        "INSERT INTO tag_assignments (tag_id, entity_type, entity_id, origin, rule, evidence, removed, created_at) "
        "VALUES ((SELECT id FROM tags WHERE name = ?1), ?2, ?3, ?4, ?5, ?6, 0, ?7) "
        "ON CONFLICT (tag_id, entity_type, entity_id) DO UPDATE SET removed = 0, origin = excluded.origin, "
        "rule = excluded.rule, evidence = excluded.evidence", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, tag, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, entity_id);
    sqlite3_bind_text (stmt, 4, origin ? origin : "person", -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 5, str_member (a->fields, "rule"), -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 6, str_member (a->fields, "evidence"), -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 7, now_s ());
  } else if (!present) {
    stmt = _sg_store_prepare_static (a->store,
        "UPDATE tag_assignments SET removed = 1 WHERE tag_id = (SELECT id FROM tags WHERE name = ?) "
        "AND entity_type = ? AND entity_id = ?", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, tag, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, entity_id);
  } else {
    return TRUE;
  }
  if (!_sg_store_exec_stmt (a->store, stmt, error))
    return FALSE;
  a->changed = TRUE;
  return TRUE;
}

static gboolean
apply_history (Apply *a, GError **error)
{
  gint64 process = lookup (a->store, "SELECT id FROM processes WHERE uuid = ?", a->key, error);
  sqlite3_stmt *stmt;

  if (process < 0)
    return FALSE;
  if (process == 0)
    return skip (error, "stage history of a sales process this store does not have", a->key);
  stmt = _sg_store_prepare_static (a->store, "INSERT OR IGNORE INTO sync_applied (op_id) VALUES (?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, a->op_id, -1, SQLITE_STATIC);
  if (!_sg_store_exec_stmt (a->store, stmt, error))
    return FALSE;
  if (sqlite3_changes (_sg_store_get_db (a->store)) == 0)
    return TRUE; /* appended already */
  stmt = _sg_store_prepare_static (a->store,
      "INSERT INTO stage_history (process_id, event, from_stage, to_stage, moved_by, moved_at, note, hlc) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 8, (sqlite3_int64) a->hlc);
  sqlite3_bind_int64 (stmt, 1, process);
  sqlite3_bind_text (stmt, 2, str_member (a->fields, "event"), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, str_member (a->fields, "from_stage"), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, str_member (a->fields, "to_stage"), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, str_member (a->fields, "moved_by"), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 6, int_member (a->fields, "moved_at", (a->hlc >> 16) / 1000));
  sqlite3_bind_text (stmt, 7, str_member (a->fields, "note"), -1, SQLITE_STATIC);
  if (!_sg_store_exec_stmt (a->store, stmt, error))
    return FALSE;
  a->changed = TRUE;
  return TRUE;
}

/* process_contact "uuid|address|part", interaction_link "message-id|uuid", person_role
 * "address|role", person_lead_source "address|source name": add-wins set members. */
static gboolean
apply_member (Apply *a, GError **error)
{
  const char *tail = NULL;
  g_autofree char *head = key_head (a->key, '|', &tail);
  gboolean present = FALSE, wins = FALSE;
  sqlite3_stmt *stmt = NULL;
  gint64 x = 0, y = 0;

  if (tail == NULL)
    return skip (error, "a set member key without its parts", a->key);
  if (strcmp (a->entity, "process_contact") == 0) {
    const char *address = NULL;
    g_autofree char *uuid = key_head (head, '|', &address);

    if (address == NULL)
      return skip (error, "a process contact key that is not UUID|ADDRESS|PART", a->key);
    if ((x = lookup (a->store, "SELECT id FROM processes WHERE uuid = ?", uuid, error)) <= 0)
      return x < 0 ? FALSE : skip (error, "a contact of a sales process this store does not have", a->key);
    if (!set_member (a, &present, &wins, error))
      return FALSE;
    if (!wins)
      return TRUE;
    if ((y = ensure_person (a->store, address, error)) < 0)
      return FALSE;
    stmt = _sg_store_prepare_static (a->store,
        present ? "INSERT OR IGNORE INTO process_contacts (process_id, person_id, part, added_by, added_at) "
                  "VALUES (?1, ?2, ?3, ?4, ?5)"
                : "DELETE FROM process_contacts WHERE process_id = ?1 AND person_id = ?2 AND part = ?3 "
                  "AND ?4 IS ?4 AND ?5 IS ?5", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, x);
    sqlite3_bind_int64 (stmt, 2, y);
    sqlite3_bind_text (stmt, 3, tail, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, str_member (a->fields, "by"), -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 5, now_s ());
  } else if (strcmp (a->entity, "interaction_link") == 0) {
    if ((x = lookup (a->store, "SELECT id FROM interactions WHERE message_id = ?", head, error)) <= 0)
      return x < 0 ? FALSE : skip (error, "a link to an interaction this store does not have", a->key);
    if ((y = lookup (a->store, "SELECT id FROM processes WHERE uuid = ?", tail, error)) <= 0)
      return y < 0 ? FALSE : skip (error, "a link to a sales process this store does not have", a->key);
    if (!set_member (a, &present, &wins, error))
      return FALSE;
    if (!wins)
      return TRUE;
    stmt = _sg_store_prepare_static (a->store,
        "INSERT INTO interaction_links (interaction_id, process_id, origin, reason, removed, linked_by, created_at) "
        "VALUES (?1, ?2, coalesce(?3, 'person'), ?4, ?5, ?6, ?7) ON CONFLICT (interaction_id, process_id) DO UPDATE "
        "SET removed = excluded.removed, origin = CASE WHEN excluded.removed THEN origin ELSE excluded.origin END, "
        "reason = CASE WHEN excluded.removed THEN reason ELSE excluded.reason END", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, x);
    sqlite3_bind_int64 (stmt, 2, y);
    sqlite3_bind_text (stmt, 3, str_member (a->fields, "origin"), -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, str_member (a->fields, "reason"), -1, SQLITE_STATIC);
    sqlite3_bind_int (stmt, 5, !present);
    sqlite3_bind_text (stmt, 6, str_member (a->fields, "by"), -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 7, now_s ());
  } else if (strcmp (a->entity, "person_role") == 0) {
    if (!set_member (a, &present, &wins, error))
      return FALSE;
    if (!wins)
      return TRUE;
    if ((x = ensure_person (a->store, head, error)) < 0)
      return FALSE;
    stmt = _sg_store_prepare_static (a->store,
        "INSERT INTO person_roles (person_id, role, since, origin, reason, removed) "
        "VALUES (?1, ?2, ?3, coalesce(?4, 'person'), ?5, ?6) ON CONFLICT (person_id, role) DO UPDATE "
        "SET removed = excluded.removed, since = CASE WHEN excluded.removed THEN since ELSE excluded.since END, "
        "origin = CASE WHEN excluded.removed THEN origin ELSE excluded.origin END, "
        "reason = CASE WHEN excluded.removed THEN reason ELSE excluded.reason END", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, x);
    sqlite3_bind_text (stmt, 2, tail, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, int_member (a->fields, "since", (a->hlc >> 16) / 1000));
    sqlite3_bind_text (stmt, 4, str_member (a->fields, "origin"), -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 5, str_member (a->fields, "reason"), -1, SQLITE_STATIC);
    sqlite3_bind_int (stmt, 6, !present);
  } else if (strcmp (a->entity, "person_lead_source") == 0) {
    if ((y = lookup (a->store, "SELECT id FROM lead_sources WHERE name = ?", tail, error)) <= 0)
      return y < 0 ? FALSE : skip (error, "a lead source this store does not have", a->key);
    if (!set_member (a, &present, &wins, error))
      return FALSE;
    if (!wins)
      return TRUE;
    if ((x = ensure_person (a->store, head, error)) < 0)
      return FALSE;
    stmt = _sg_store_prepare_static (a->store,
        present ? "INSERT OR IGNORE INTO person_lead_sources (person_id, lead_source_id, added_at) VALUES (?1, ?2, ?3)"
                : "DELETE FROM person_lead_sources WHERE person_id = ?1 AND lead_source_id = ?2 AND ?3 IS ?3", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, x);
    sqlite3_bind_int64 (stmt, 2, y);
    sqlite3_bind_int64 (stmt, 3, now_s ());
  }
  if (stmt == NULL)
    return TRUE;
  if (!_sg_store_exec_stmt (a->store, stmt, error))
    return FALSE;
  a->changed = TRUE;
  return TRUE;
}

/* One pulled op. FALSE with SG_SYNC_ERROR_PROTOCOL: skipped (the caller rolls it back); any
 * other error: the store failed. */
static gboolean
apply_op (Apply *a, GError **error)
{
  const char *e = a->entity;
  const RowSpec *r;

  if (strcmp (e, "person") == 0)
    return apply_person (a, error);
  if (strcmp (e, "interaction") == 0)
    return strcmp (a->op, "delete") == 0 ? delete_interaction (a, error) : apply_interaction (a, error);
  if (strcmp (e, "tag_assignment") == 0)
    return apply_tag (a, error);
  if (strcmp (e, "stage_history") == 0)
    return apply_history (a, error);
  if (strcmp (e, "process_contact") == 0 || strcmp (e, "interaction_link") == 0 ||
      strcmp (e, "person_role") == 0 || strcmp (e, "person_lead_source") == 0)
    return apply_member (a, error);
  if (strcmp (e, "person_fact") == 0)
    return apply_person_fact (a, error);
  if ((r = row_spec (e)) != NULL)
    return apply_row (a, r, error);
  return skip (error, "this version does not apply this kind of op", e);
}

/* A statement without parameters, prepared once (SAVEPOINT, RELEASE, ROLLBACK TO). */
static gboolean
exec_sql (SgStore *store, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare_static (store, sql, error);

  return stmt != NULL && _sg_store_exec_stmt (store, stmt, error);
}

static gboolean
parse_hlc (const char *text, gint64 *out)
{
  guint64 v = 0;

  if (text == NULL || strlen (text) != 16 || !g_ascii_string_to_unsigned (text, 16, 0, G_MAXINT64, &v, NULL))
    return FALSE;
  *out = (gint64) v;
  return TRUE;
}

static gboolean
bad_answer (GError **error, const char *what)
{
  g_set_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_PROTOCOL, "the server's answer is not valid: %s", what);
  return FALSE;
}

static gboolean
mark_op (SgStore *store, const char *op_id, int acked, guint *n, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare_static (store,
      "UPDATE changes SET acked = ? WHERE op_id = ? AND acked = 0", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, acked);
  sqlite3_bind_text (stmt, 2, op_id, -1, SQLITE_STATIC);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return FALSE;
  *n += (guint) sqlite3_changes (_sg_store_get_db (store));
  return TRUE;
}

typedef enum { PAGE_APPLIED, PAGE_REDO, PAGE_FAILED } PageResult;

/* Applies the pulled ops of an answer. Fast (@careful FALSE): all of them in the answer's
 * transaction with no savepoint per op; the first op that must be skipped stops it
 * (PAGE_REDO: the caller rolls the page back and applies it again carefully). Careful:
 * each op under a savepoint, a skipped one rolled back alone. */
static PageResult
apply_ops (SgStore *store, JsonArray *ops, gboolean careful, SgSyncCounts *c, gint64 *max_hlc, GError **error)
{
  const char *device = sg_store_get_device_id (store);
  gsize dlen = strlen (device);
  /* Fast mode: the page's first and last contact dates, one UPDATE per person at its end
   * (a page rolled back drops them with it). Careful mode: one per participant, under the
   * op's savepoint. */
  g_autoptr (GHashTable) seen = careful ? NULL : g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  g_autoptr (GHashTable) known = careful ? NULL : g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  GHashTableIter it;
  gpointer k, v;

  for (guint i = 0; i < json_array_get_length (ops); i++) {
    JsonNode *n = json_array_get_element (ops, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
    JsonNode *fields = o ? json_object_get_member (o, "fields") : NULL;
    Apply a = { store };
    g_autoptr (GError) why = NULL;
    gboolean ok;

    c->pulled++;
    a.op_id = str_member (o, "op_id");
    a.entity = str_member (o, "entity");
    a.key = str_member (o, "key");
    a.op = str_member (o, "op");
    if (a.op_id == NULL || a.entity == NULL || a.key == NULL || a.op == NULL || fields == NULL ||
        !JSON_NODE_HOLDS_OBJECT (fields) || !parse_hlc (str_member (o, "hlc"), &a.hlc)) {
      c->skipped++;
      g_debug ("sync: op %u of the answer is malformed; skipped", i);
      continue;
    }
    /* Our own ops come back only from a misbehaving server: they are here already. */
    if (strncmp (a.op_id, device, dlen) == 0 && a.op_id[dlen] == ':')
      continue;
    a.fields = json_node_get_object (fields);
    a.seen = seen;
    a.known = known;
    *max_hlc = MAX (*max_hlc, a.hlc);
    if (careful && !exec_sql (store, "SAVEPOINT sync_op", error))
      return PAGE_FAILED;
    ok = apply_op (&a, &why);
    g_clear_pointer (&a.clocks, g_array_unref);
    if (!ok) {
      if (!g_error_matches (why, SG_SYNC_ERROR, SG_SYNC_ERROR_PROTOCOL)) {
        g_propagate_error (error, g_steal_pointer (&why));
        return PAGE_FAILED;
      }
      if (!careful)
        return PAGE_REDO;
      if (!exec_sql (store, "ROLLBACK TO sync_op", error))
        return PAGE_FAILED;
      g_debug ("sync: op %s (%s) not applied: %s", a.op_id, a.entity, why->message);
      c->skipped++;
    } else if (a.changed) {
      c->applied++;
    }
    if (careful && !exec_sql (store, "RELEASE sync_op", error))
      return PAGE_FAILED;
  }
  if (seen != NULL) {
    g_hash_table_iter_init (&it, seen);
    while (g_hash_table_iter_next (&it, &k, &v))
      if (!update_seen (store, *(gint64 *) k, ((Seen *) v)->first, ((Seen *) v)->last, error))
        return PAGE_FAILED;
  }
  return PAGE_APPLIED;
}

/* The answer's root object once checked (protocol, acked, ops and cursor present), or NULL
 * with an error. */
static JsonObject *
answer_root (JsonParser *parser, const char *answer, gssize len, GError **error)
{
  g_autoptr (GError) local = NULL;
  JsonObject *root;

  if (!json_parser_load_from_data (parser, answer, len, &local)) {
    bad_answer (error, local->message);
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    bad_answer (error, "not a JSON object");
    return NULL;
  }
  root = json_node_get_object (json_parser_get_root (parser));
  if (int_member (root, "protocol", 0) != PROTOCOL) {
    bad_answer (error, "protocol is not 1");
    return NULL;
  }
  if (arr_member (root, "acked", NULL) == NULL || arr_member (root, "ops", NULL) == NULL ||
      str_member (root, "cursor") == NULL) {
    bad_answer (error, "acked, ops or cursor missing");
    return NULL;
  }
  return root;
}

static gboolean
apply_root (SgStore *store, JsonObject *root, SgSyncCounts *counts, GError **error)
{
  SgSyncCounts c = { 0 };
  JsonArray *acked, *rejected, *ops;
  const char *cursor;
  gint64 max_hlc = 0;
  PageResult pr;
  char buf[32];

  acked = arr_member (root, "acked", NULL);
  rejected = arr_member (root, "rejected", NULL);
  ops = arr_member (root, "ops", NULL);
  cursor = str_member (root, "cursor");
  c.more = json_object_get_boolean_member_with_default (root, "more", FALSE);

  if (!sg_store_begin (store, error))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (acked); i++) {
    JsonNode *n = json_array_get_element (acked, i);

    if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING &&
        !mark_op (store, json_node_get_string (n), ACK_DONE, &c.acked, error))
      goto fail;
  }
  for (guint i = 0; rejected && i < json_array_get_length (rejected); i++) {
    JsonNode *n = json_array_get_element (rejected, i);
    const char *id = JSON_NODE_HOLDS_OBJECT (n) ? str_member (json_node_get_object (n), "op_id") : NULL;

    if (id != NULL && !mark_op (store, id, ACK_REJECTED, &c.rejected, error))
      goto fail;
    if (id != NULL) {
      const char *why = str_member (json_node_get_object (n), "error");
      g_autofree char *msg = g_strdup_printf ("the server refused op %s: %s", id, why ? why : "no reason given");

      if (!meta_set (store, "sync_last_rejection", msg, error))
        goto fail;
    }
  }
  /* The page in one go; if an op of it has to be skipped, again op by op. */
  if (!exec_sql (store, "SAVEPOINT sync_page", error))
    goto fail;
  {
    SgSyncCounts fast = c;

    pr = apply_ops (store, ops, FALSE, &fast, &max_hlc, error);
    if (pr == PAGE_APPLIED)
      c = fast;
  }
  if (pr == PAGE_REDO) {
    if (!exec_sql (store, "ROLLBACK TO sync_page", error))
      goto fail;
    max_hlc = 0;
    pr = apply_ops (store, ops, TRUE, &c, &max_hlc, error);
  }
  if (pr == PAGE_FAILED || !exec_sql (store, "RELEASE sync_page", error))
    goto fail;
  if (!meta_set (store, "sync_cursor", cursor, error))
    goto fail;
  /* The receive rule of the clock: the next local op is newer than anything seen. */
  if (max_hlc > sg_store_get_meta_int (store, "sync_hlc", 0)) {
    g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, max_hlc);
    if (!meta_set (store, "sync_hlc", buf, error))
      goto fail;
  }
  if (!sg_store_commit (store, error))
    return FALSE;
  if (counts) {
    counts->acked += c.acked;
    counts->rejected += c.rejected;
    counts->pulled += c.pulled;
    counts->applied += c.applied;
    counts->skipped += c.skipped;
    counts->more = c.more;
  }
  return TRUE;

fail:
  sg_store_rollback (store);
  return FALSE;
}

gboolean
sg_sync_apply_answer (SgStore *store, const char *answer, gssize len, SgSyncCounts *counts, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root = answer_root (parser, answer, len, error);

  return root != NULL && apply_root (store, root, counts, error);
}

/* --- status -------------------------------------------------------------------------------------- */

gint64
sg_sync_count_pending (SgStore *store, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store, "SELECT count(*) FROM changes WHERE acked = 0", error);
  gint64 n = -1;

  if (stmt == NULL)
    return -1;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  else
    _sg_store_set_error (store, error, "pending ops");
  sqlite3_reset (stmt);
  return n;
}

SgTable *
sg_sync_get_status (SgStore *store, GError **error)
{
  g_autoptr (SgTable) t = sg_table_new ();
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "SELECT sum(acked = 0), sum(acked = 2 OR acked = 4), sum(acked = 3) FROM changes", error);
  g_autofree char *server = meta_get (store, "sync_server");
  g_autofree char *err = meta_get (store, "sync_last_error");
  g_autofree char *refused = meta_get (store, "sync_last_rejection");
  g_autofree char *clock = meta_get (store, "sync_clock_warning");
  g_autofree char *cursor = meta_get (store, "sync_cursor");
  gint64 ok = sg_store_get_meta_int (store, "sync_last_success", 0);
  gint64 attempt = sg_store_get_meta_int (store, "sync_last_attempt", 0);

  if (stmt == NULL)
    return NULL;
  sg_table_add_column (t, "server", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "last_success", SG_COLUMN_TIME, 0);
  sg_table_add_column (t, "last_attempt", SG_COLUMN_TIME, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "pending", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "withheld", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "rejected", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "last_error", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "cursor", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "failing", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  sg_table_append_row (t);
  sg_table_set_text (t, 0, server ? server : "none");
  if (ok > 0)
    sg_table_set_int (t, 1, ok);
  if (attempt > 0)
    sg_table_set_int (t, 2, attempt);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    for (int i = 0; i < 3; i++)
      sg_table_set_int (t, (guint) (3 + i), sqlite3_column_int64 (stmt, i));
  sqlite3_reset (stmt);
  /* A sync that succeeded may still warn about this device's clock, or have had ops
   * refused: the clock, else the last refusal, shows then. */
  sg_table_set_text (t, 6, err && *err ? err : clock && *clock ? clock : refused ? refused : "");
  sg_table_set_text (t, 7, cursor ? cursor : "");
  sg_table_set_int (t, 8, attempt > 0 && err != NULL && *err != '\0');
  return g_steal_pointer (&t);
}

char *
sg_sync_get_clock_warning (SgStore *store)
{
  g_autofree char *w = meta_get (store, "sync_clock_warning");

  return w && *w ? g_steal_pointer (&w) : NULL;
}

/* --- transport (libcurl) ---------------------------------------------------------------------------- */

static size_t
collect (char *data, size_t size, size_t n, void *user)
{
  GByteArray *buf = user;

  if (buf->len + size * n > MAX_ANSWER_BYTES)
    return 0; /* abort: curl reports a write error */
  g_byte_array_append (buf, (const guint8 *) data, (guint) (size * n));
  return size * n;
}

/* The answer's Date header (Unix seconds, 0 when none), to compare this device's clock
 * with the server's. */
static size_t
header_date (char *data, size_t size, size_t n, void *user)
{
  gint64 *date = user;
  size_t len = size * n;

  if (len > 5 && len < 128 && g_ascii_strncasecmp (data, "Date:", 5) == 0) {
    g_autofree char *value = g_strndup (data + 5, len - 5);
    time_t t = curl_getdate (g_strstrip (value), NULL);

    *date = t > 0 ? (gint64) t : 0;
  }
  return len;
}

/* Compresses @len bytes of @data into @out with @z; @end: the last of the input (the gzip
 * trailer is written). */
static gboolean
gz_feed (GConverter *z, GByteArray *out, const char *data, gsize len, gboolean end, GError **error)
{
  for (;;) {
    guint old = out->len;
    gsize room = MAX (len / 2, 64 * 1024), read = 0, written = 0;
    g_autoptr (GError) local = NULL;
    GConverterResult r;

    g_byte_array_set_size (out, old + (guint) room);
    r = g_converter_convert (z, data, len, out->data + old, room, end ? G_CONVERTER_INPUT_AT_END : G_CONVERTER_NO_FLAGS,
                             &read, &written, &local);
    g_byte_array_set_size (out, old + (guint) written);
    if (r == G_CONVERTER_ERROR) {
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
        continue; /* more room next time round */
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
    data += read;
    len -= read;
    if (r == G_CONVERTER_FINISHED || (!end && len == 0))
      return TRUE;
  }
}

/* The message of an error answer {"error": "..."}, or its first line. */
static char *
error_message (const GByteArray *body)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *text = g_strndup ((const char *) body->data, MIN (body->len, 2000));
  char *nl;

  if (json_parser_load_from_data (parser, (const char *) body->data, body->len, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    const char *m = str_member (json_node_get_object (json_parser_get_root (parser)), "error");

    if (m != NULL)
      return g_strdup (m);
  }
  if ((nl = strchr (text, '\n')) != NULL)
    *nl = '\0';
  return g_utf8_make_valid (g_strstrip (text), -1);
}

/* One POST of a gzip body; @answer gets the body of a 200. */
static gboolean
post (const SgSyncSettings *s, const GByteArray *body, GByteArray *answer, gint64 *server_date, GError **error)
{
  g_autofree char *url = NULL;
  g_autofree char *auth = NULL;
  struct curl_slist *headers = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  CURL *curl;
  CURLcode rc;
  long status = 0;
  curl_off_t retry_after = 0;

  curl = curl_easy_init ();
  if (curl == NULL) {
    g_set_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_NETWORK, "cannot start libcurl");
    return FALSE;
  }
  url = g_strdup_printf ("%s/v1/sync", s->server);
  auth = g_strdup_printf ("Authorization: Bearer %s", s->token);
  headers = curl_slist_append (headers, auth);
  headers = curl_slist_append (headers, "Content-Type: application/json");
  headers = curl_slist_append (headers, "Content-Encoding: gzip");
  headers = curl_slist_append (headers, "Expect:");
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (s->ca_file)
    curl_easy_setopt (curl, CURLOPT_CAINFO, s->ca_file);
  curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT, (long) s->connect_timeout);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, (long) s->timeout);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_POST, 1L);
  curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body->data);
  curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body->len);
  curl_easy_setopt (curl, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, answer);
  curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, header_date);
  curl_easy_setopt (curl, CURLOPT_HEADERDATA, server_date);
  curl_easy_setopt (curl, CURLOPT_USERAGENT, "salesgetter/" PACKAGE_VERSION);
  rc = curl_easy_perform (curl);
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo (curl, CURLINFO_RETRY_AFTER, &retry_after);
  curl_slist_free_all (headers);
  curl_easy_cleanup (curl);
  memset (auth, 0, strlen (auth));
  if (rc != CURLE_OK) {
    const char *what = *errbuf ? errbuf : curl_easy_strerror (rc);

    /* A certificate is judged by this device's clock: one far off sees a valid certificate
     * as not yet valid (clock behind) or expired (clock ahead). Say which time it used. */
    if (rc == CURLE_PEER_FAILED_VERIFICATION && (strstr (what, "not yet valid") || strstr (what, "expired"))) {
      g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
      g_autofree char *when = g_date_time_format (now, "%Y-%m-%d %H:%M UTC");

      g_set_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_NETWORK,
                   "%s: %s (checked against this device's clock, which says %s: if that is wrong, set the clock)",
                   url, what, when);
      return FALSE;
    }
    g_set_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_NETWORK, "%s: %s", url, what);
    return FALSE;
  }
  if (status == 429) {
    g_autofree char *msg = error_message (answer);

    /* Not a refusal of what was sent: the same ops go at the next try. */
    g_set_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_BUSY, "%s: HTTP 429: %s (try again in %" G_GINT64_FORMAT " s)",
                 url, *msg ? msg : "too many requests", (gint64) MAX (retry_after, 1));
    return FALSE;
  }
  if (status != 200) {
    g_autofree char *msg = error_message (answer);

    g_set_error (error, SG_SYNC_ERROR,
                 status == 401 || status == 403 ? SG_SYNC_ERROR_AUTH
                 : status >= 500                ? SG_SYNC_ERROR_SERVER
                                                : SG_SYNC_ERROR_REFUSED,
                 "%s: HTTP %ld: %s", url, status, *msg ? msg : "no message");
    return FALSE;
  }
  return TRUE;
}

static void
remember (SgStore *store, const char *key, const char *value)
{
  meta_set (store, key, value, NULL);
}

/* What `sync --status` says when this device's clock is more than CLOCK_WARN_S off the
 * server's (its Date header, @server_date, @skew = server - device seconds), else NULL. A
 * clock behind loses every concurrent edit; one ahead wins them, and more than a day ahead
 * has its ops refused. schema/sync.md, "A clock far off". (transfer full) */
static char *
clock_warning (gint64 skew, gint64 server_date)
{
  gint64 off = skew < 0 ? -skew : skew;
  g_autoptr (GDateTime) then = NULL;
  g_autofree char *when = NULL;
  g_autofree char *amount = NULL;

  if (server_date <= 0 || off <= CLOCK_WARN_S)
    return NULL;
  /* Rounded: the Date header has whole seconds, and the answer took some time to come. */
  if (off >= 2 * 86400)
    amount = g_strdup_printf ("%" G_GINT64_FORMAT " days", (off + 43200) / 86400);
  else if (off >= 2 * 3600)
    amount = g_strdup_printf ("%" G_GINT64_FORMAT " hours", (off + 1800) / 3600);
  else
    amount = g_strdup_printf ("%" G_GINT64_FORMAT " minutes", (off + 30) / 60);
  then = g_date_time_new_from_unix_utc (server_date);
  when = then ? g_date_time_format (then, "%Y-%m-%d %H:%M UTC") : g_strdup ("?");
  return g_strdup_printf ("this device's clock is %s %s the server's (the server says it is %s): edits made here "
                          "before a sync %s others' made meanwhile; set the clock",
                          amount, skew > 0 ? "behind" : "ahead of", when,
                          skew > 0 ? "lose to" : "win over");
}

/* A request: its ops built and, up to the cursor, compressed (request_head), ahead of the
 * answer that gives the cursor. */
typedef struct {
  GConverter *z;   /* the gzip stream, the cursor and the end still to come */
  GByteArray *gz;  /* what it wrote so far */
  guint n;         /* ops pushed */
  gint64 last_seq; /* the change log's seq where the next request's ops start */
} Prepared;

static void
prepared_free (Prepared *p)
{
  if (p == NULL)
    return;
  g_clear_object (&p->z);
  if (p->gz)
    g_byte_array_unref (p->gz);
  g_free (p);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Prepared, prepared_free)

/* Builds and compresses the next request's ops, after seq @after (counts: withheld at once,
 * pushed when sent). */
static Prepared *
prepare (SgStore *store, const SgSyncSettings *s, gint64 after, SgSyncCounts *c, GError **error)
{
  g_autoptr (Prepared) p = g_new0 (Prepared, 1);
  SgSyncCounts nc = { 0 };
  g_autoptr (GString) ops = build_ops (store, s, MAX_OPS_PER_REQUEST, after, &p->last_seq, &p->n, &nc, error);
  g_autoptr (GString) head = NULL;

  if (ops == NULL)
    return NULL;
  c->withheld += nc.withheld;
  head = request_head (store, ops);
  g_string_free (g_steal_pointer (&ops), TRUE);
  p->z = G_CONVERTER (g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, GZIP_LEVEL));
  p->gz = g_byte_array_sized_new ((guint) MIN (head->len / 8 + 1024, 16u * 1024 * 1024));
  if (!gz_feed (p->z, p->gz, head->str, head->len, FALSE, error))
    return NULL;
  return g_steal_pointer (&p);
}

/* One round trip in flight: the end of the compression, the POST and the parse of the answer
 * run in a thread of their own while the caller applies the previous answer and builds the
 * next request (the store is only ever used by the caller's thread). At most two answers are
 * held at once: the one being applied and the one arriving. */
typedef struct {
  const SgSyncSettings *settings;
  Prepared *req;
  char *tail;       /* the request's cursor and end */
  guint n;
  gint64 last_seq;
  GThread *thread;
  JsonParser *parser;
  JsonObject *root; /* the answer, checked (answer_root); NULL: error says why */
  GError *error;
  gint64 server_date; /* the answer's Date (Unix seconds; 0: none) */
  gint64 skew;        /* server_date - this device's clock when the answer came */
} Trip;

static gpointer
trip_run (gpointer data)
{
  Trip *t = data;
  g_autoptr (GByteArray) answer = g_byte_array_new ();

  if (gz_feed (t->req->z, t->req->gz, t->tail, strlen (t->tail), TRUE, &t->error) &&
      post (t->settings, t->req->gz, answer, &t->server_date, &t->error)) {
    if (t->server_date > 0)
      t->skew = t->server_date - now_s ();
    t->parser = json_parser_new ();
    t->root = answer_root (t->parser, (const char *) answer->data, (gssize) answer->len, &t->error);
  }
  g_clear_pointer (&t->req, prepared_free);
  return NULL;
}

/* Sends @req (taken) with @cursor. */
static Trip *
trip_start (const SgSyncSettings *s, Prepared *req, const char *cursor, SgSyncCounts *c)
{
  Trip *t = g_new0 (Trip, 1);

  t->settings = s;
  t->req = req;
  t->tail = request_tail (cursor);
  t->n = req->n;
  t->last_seq = req->last_seq;
  c->pushed += req->n;
  t->thread = g_thread_try_new ("sg-sync", trip_run, t, NULL);
  if (t->thread == NULL)
    trip_run (t); /* no thread to be had: the round trip at once */
  return t;
}

static void
trip_wait (Trip *t)
{
  if (t->thread != NULL) {
    g_thread_join (t->thread);
    t->thread = NULL;
  }
}

/* Waits for the round trip and drops it (its answer was never applied: the store's cursor and
 * acked flags are where they were, so its ops are pushed, and pulled, again next time). */
static void
trip_free (Trip *t)
{
  if (t == NULL)
    return;
  trip_wait (t);
  prepared_free (t->req);
  g_free (t->tail);
  g_clear_object (&t->parser);
  g_clear_error (&t->error);
  g_free (t);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Trip, trip_free)

static gpointer
trip_free_thread (gpointer data)
{
  trip_free (data);
  return NULL;
}

/* Frees an applied round trip in a thread of its own (the parsed answer is a tree of some
 * 30,000 nodes: freeing it costs a sixth of applying it), after the previous one is freed:
 * at most one is being freed at any time. */
static void
trip_dispose (Trip *t, GThread **freeing)
{
  if (*freeing != NULL)
    g_thread_join (g_steal_pointer (freeing));
  if (t != NULL && (*freeing = g_thread_try_new ("sg-sync-free", trip_free_thread, t, NULL)) == NULL)
    trip_free (t);
}

gboolean
sg_sync_run (SgStore *store, const SgSyncSettings *s, SgSyncProgressFunc progress, gpointer user_data,
             GCancellable *cancellable, SgSyncCounts *counts, GError **error)
{
  SgSyncCounts c = { 0 };
  g_autoptr (GError) local = NULL;
  gboolean ok = FALSE;
  Trip *trip = NULL; /* the round trip in flight */
  GThread *freeing = NULL; /* the last round trip applied, being freed */
  /* Enough rounds for any log (5000 ops each); a server that keeps saying "more" with
   * nothing in it cannot loop us forever. */
  guint max_rounds = 100000;
  gint64 server_date = 0, skew = 0;

  if (s->server == NULL || s->token == NULL) {
    g_set_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_CONFIG,
                 s->server == NULL ? "no sync server configured ([sync] server)"
                                   : "no sync token ([sync] token-file)");
    return FALSE;
  }
  sg_store_set_meta_int (store, "sync_last_attempt", now_s (), NULL);
  remember (store, "sync_server", s->server);
  /* Pipelined: while the server works on request k, this thread builds the ops of request k+1
   * (after the last op of k); when answer k arrives, request k+1 leaves at once with k's
   * cursor, and this thread applies answer k meanwhile. An op is marked acked, and the cursor
   * kept, only when the answer naming them is applied, in its transaction; an answer is
   * applied only after the one before it was, and a failure drops whatever is in flight. */
  if (!g_cancellable_set_error_if_cancelled (cancellable, &local)) {
    g_autofree char *cursor = meta_get (store, "sync_cursor");
    Prepared *first = prepare (store, s, 0, &c, &local);

    if (first != NULL)
      trip = trip_start (s, first, cursor, &c);
  }
  while (trip != NULL) {
    g_autoptr (Trip) cur = g_steal_pointer (&trip);
    g_autoptr (Prepared) next = NULL;
    guint n = cur->n;
    guint acked_before = c.acked, rejected_before = c.rejected;
    gint64 pending, t0 = g_get_monotonic_time (), t1, t2;

    if (g_cancellable_set_error_if_cancelled (cancellable, &local))
      break;
    /* The next ops, while the server stores these. */
    if ((next = prepare (store, s, cur->last_seq, &c, &local)) == NULL)
      break;
    t1 = g_get_monotonic_time ();
    trip_wait (cur);
    t2 = g_get_monotonic_time ();
    if (cur->root == NULL) {
      g_propagate_error (&local, g_steal_pointer (&cur->error));
      break;
    }
    if (cur->server_date > 0) {
      server_date = cur->server_date;
      skew = cur->skew;
    }
    if (json_object_get_boolean_member_with_default (cur->root, "more", FALSE) || next->n > 0)
      trip = trip_start (s, g_steal_pointer (&next), str_member (cur->root, "cursor"), &c);
    if (!apply_root (store, cur->root, &c, &local))
      break;
    trip_dispose (g_steal_pointer (&cur), &freeing);
    g_debug ("sync: round %u: %u ops pushed; next request built in %.1f ms, then waited %.1f ms for the "
             "answer, applied in %.1f ms", c.rounds + 1, n, (t1 - t0) / 1e3, (t2 - t1) / 1e3,
             (g_get_monotonic_time () - t2) / 1e3);
    c.rounds++;
    pending = sg_sync_count_pending (store, NULL);
    if (progress)
      progress (&c, pending, user_data);
    /* Pushed ops the server neither acked nor rejected: it did not take them; try later. */
    if (!c.more && n > 0 && pending > 0 && c.acked == acked_before && c.rejected == rejected_before) {
      g_set_error (&local, SG_SYNC_ERROR, SG_SYNC_ERROR_PROTOCOL,
                   "the server acknowledged none of the %u ops pushed", n);
      break;
    }
    if (trip == NULL) {
      g_autofree char *cursor = NULL;
      Prepared *again;

      /* Nothing more to pull, nothing after what was pushed. */
      if (n == 0 || pending == 0) {
        ok = TRUE;
        break;
      }
      /* Ops left unacknowledged (or logged meanwhile): from the start of the log again. */
      if ((again = prepare (store, s, 0, &c, &local)) == NULL)
        break;
      if (again->n == 0) {
        prepared_free (again);
        ok = TRUE;
        break;
      }
      cursor = meta_get (store, "sync_cursor");
      trip = trip_start (s, again, cursor, &c);
    }
    if (--max_rounds == 0) {
      g_set_error (&local, SG_SYNC_ERROR, SG_SYNC_ERROR_PROTOCOL, "the server keeps saying it has more");
      break;
    }
  }
  trip_free (trip);
  trip_dispose (NULL, &freeing);
  if (ok) {
    g_autofree char *warning = clock_warning (skew, server_date);

    sg_store_set_meta_int (store, "sync_last_success", now_s (), NULL);
    remember (store, "sync_last_error", "");
    remember (store, "sync_clock_warning", warning ? warning : "");
  } else {
    remember (store, "sync_last_error", local->message);
    g_propagate_error (error, g_steal_pointer (&local));
  }
  if (counts)
    *counts = c;
  return ok;
}
