/* sg-store.c: opening, migrating and transactions of the local store. */
#include "config.h"

#include "sg-store.h"
#include "sg-private.h"
#include "sg-summary-private.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

/* How long a writer waits for another process's lock before SG_STORE_ERROR_BUSY. */
#define SG_STORE_BUSY_TIMEOUT_MS 10000
#define SCHEMA_PREFIX "/org/salesgetter/schema/sqlite"

struct _SgStore {
  sqlite3 *db;
  char *path;
  SgStoreOpenFlags flags;
  GHashTable *stmts; /* sql text -> sqlite3_stmt* */
  GHashTable *stmts_static; /* address of a string literal -> sqlite3_stmt* (owned by stmts) */
  guint depth;
  gboolean failed;   /* a rollback happened inside a nested transaction */
  char *device_id;
  guint64 hlc;
  guint bulk;          /* _sg_store_set_bulk() depth */
  gint64 cache_size;   /* PRAGMA cache_size before the outermost bulk write */
  gint64 autocheckpoint; /* PRAGMA wal_autocheckpoint before it */
};

G_DEFINE_QUARK (sg-store-error-quark, sg_store_error)

static SgStoreError
code_for (int rc)
{
  switch (rc & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return SG_STORE_ERROR_BUSY;
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
    return SG_STORE_ERROR_CORRUPT;
  case SQLITE_READONLY:
    return SG_STORE_ERROR_READ_ONLY;
  case SQLITE_CANTOPEN:
  case SQLITE_PERM:
    return SG_STORE_ERROR_OPEN;
  default:
    return SG_STORE_ERROR_SQL;
  }
}

void
_sg_store_set_error (SgStore *store, GError **error, const char *what)
{
  int rc = sqlite3_extended_errcode (store->db);
  SgStoreError code = code_for (rc);

  if (code == SG_STORE_ERROR_BUSY)
    g_set_error (error, SG_STORE_ERROR, code,
                 "store %s is locked by another process (%s): %s", store->path, what,
                 sqlite3_errmsg (store->db));
  else
    g_set_error (error, SG_STORE_ERROR, code, "store %s: %s: %s", store->path, what,
                 sqlite3_errmsg (store->db));
}

sqlite3 *
_sg_store_get_db (SgStore *store)
{
  return store->db;
}

sqlite3_stmt *
_sg_store_prepare (SgStore *store, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (store->stmts, sql);

  if (stmt != NULL) {
    sqlite3_reset (stmt);
    sqlite3_clear_bindings (stmt);
    return stmt;
  }
  if (sqlite3_prepare_v3 (store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK) {
    _sg_store_set_error (store, error, "prepare");
    return NULL;
  }
  /* The key is the statement's own copy of its SQL (it lives as long as the statement), so
   * SQL built at run time may be freed by the caller. Replace, not insert: an equal key
   * must not stay behind pointing into a finalised statement. */
  g_hash_table_replace (store->stmts, (gpointer) sqlite3_sql (stmt), stmt);
  return stmt;
}

/* The same cache reached by the literal's address: a pointer hash instead of hashing
 * and comparing the SQL text (a tenth of the insight's instructions went to that). */
sqlite3_stmt *
_sg_store_prepare_static (SgStore *store, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (store->stmts_static, sql);

  if (stmt != NULL) {
    sqlite3_reset (stmt);
    sqlite3_clear_bindings (stmt);
    return stmt;
  }
  if ((stmt = _sg_store_prepare (store, sql, error)) != NULL)
    g_hash_table_insert (store->stmts_static, (gpointer) sql, stmt);
  return stmt;
}

gboolean
_sg_store_exec_stmt (SgStore *store, sqlite3_stmt *stmt, GError **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    _sg_store_set_error (store, error, "write");
    return FALSE;
  }
  return TRUE;
}

static gboolean
exec (SgStore *store, const char *sql, GError **error)
{
  char *msg = NULL;

  if (sqlite3_exec (store->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    int rc = sqlite3_extended_errcode (store->db);

    g_set_error (error, SG_STORE_ERROR, code_for (rc), "store %s: %s", store->path,
                 msg ? msg : sqlite3_errstr (rc));
    sqlite3_free (msg);
    return FALSE;
  }
  return TRUE;
}

static gboolean
query_int (SgStore *store, const char *sql, gint64 *out, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store, sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64 (stmt, 0);
    sqlite3_reset (stmt);
    return TRUE;
  }
  sqlite3_reset (stmt);
  _sg_store_set_error (store, error, "query");
  return FALSE;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
finalize_stmt (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

/* Migrations are the files NNNN-name.sql under SCHEMA_PREFIX, applied in order;
 * PRAGMA user_version is the number of the last one applied. */
static char **
list_migrations (void)
{
  g_auto (GStrv) names = g_resources_enumerate_children (SCHEMA_PREFIX, 0, NULL);
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; names && names[i]; i++)
    if (g_str_has_suffix (names[i], ".sql"))
      g_ptr_array_add (out, g_strdup (names[i]));
  g_ptr_array_sort (out, compare_names);
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

int
sg_store_get_latest_version (void)
{
  g_auto (GStrv) migrations = list_migrations ();

  return (int) g_strv_length (migrations);
}

static gboolean
migrate (SgStore *store, int from, GError **error)
{
  g_auto (GStrv) migrations = list_migrations ();
  int latest = (int) g_strv_length (migrations);

  if (!exec (store, "BEGIN IMMEDIATE", error))
    return FALSE;
  for (int v = from; v < latest; v++) {
    g_autofree char *rpath = g_strconcat (SCHEMA_PREFIX "/", migrations[v], NULL);
    g_autoptr (GBytes) sql = g_resources_lookup_data (rpath, 0, NULL);
    g_autofree char *text = NULL;
    g_autofree char *set_version = NULL;
    g_autoptr (GError) local = NULL;

    if (sql == NULL || g_ascii_strtoll (migrations[v], NULL, 10) != v + 1) {
      g_set_error (error, SG_STORE_ERROR, SG_STORE_ERROR_MIGRATION,
                   "store %s: migration %d is missing from this build", store->path, v + 1);
      goto fail;
    }
    text = g_strndup (g_bytes_get_data (sql, NULL), g_bytes_get_size (sql));
    set_version = g_strdup_printf ("PRAGMA user_version = %d", v + 1);
    if (!exec (store, text, &local) || !exec (store, set_version, &local)) {
      g_set_error (error, SG_STORE_ERROR, SG_STORE_ERROR_MIGRATION,
                   "store %s: migration %s failed, store left at version %d: %s", store->path,
                   migrations[v], from, local->message);
      goto fail;
    }
  }
  if (!exec (store, "COMMIT", error))
    goto fail;
  return TRUE;

fail:
  exec (store, "ROLLBACK", NULL);
  return FALSE;
}

static gboolean
load_device_id (SgStore *store, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store, "SELECT value FROM store_meta WHERE key = 'device_id'", error);

  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    store->device_id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  if (store->device_id != NULL)
    return TRUE;
  if (store->flags & SG_STORE_OPEN_READ_ONLY) {
    store->device_id = g_strdup ("read-only");
    return TRUE;
  }
  store->device_id = g_uuid_string_random ();
  stmt = _sg_store_prepare (store, "INSERT INTO store_meta (key, value) VALUES ('device_id', ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, store->device_id, -1, SQLITE_STATIC);
  return _sg_store_exec_stmt (store, stmt, error);
}

gint64
sg_store_get_meta_int (SgStore *store, const char *key, gint64 fallback)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store, "SELECT value FROM store_meta WHERE key = ?", NULL);
  gint64 value = fallback;

  if (stmt == NULL)
    return fallback;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = g_ascii_strtoll ((const char *) sqlite3_column_text (stmt, 0), NULL, 10);
  sqlite3_reset (stmt);
  return value;
}

gboolean
sg_store_set_meta_int (SgStore *store, const char *key, gint64 value, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      error);
  char buf[32];

  if (stmt == NULL)
    return FALSE;
  g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, value);
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, buf, -1, SQLITE_TRANSIENT);
  return _sg_store_exec_stmt (store, stmt, error);
}

SgStore *
sg_store_open (const char *path, SgStoreOpenFlags flags, GError **error)
{
  SgStore *store;
  int rc, oflags;
  gint64 version = 0;
  int latest;

  g_return_val_if_fail (path != NULL, NULL);

  store = g_new0 (SgStore, 1);
  store->path = g_strdup (path);
  store->flags = flags;
  store->stmts_static = g_hash_table_new (g_direct_hash, g_direct_equal);
  store->stmts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                        finalize_stmt);
  oflags = (flags & SG_STORE_OPEN_READ_ONLY) ? SQLITE_OPEN_READONLY
                                             : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  rc = sqlite3_open_v2 (path, &store->db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    g_set_error (error, SG_STORE_ERROR, SG_STORE_ERROR_OPEN, "cannot open store %s: %s", path,
                 store->db ? sqlite3_errmsg (store->db) : sqlite3_errstr (rc));
    goto fail;
  }
  sqlite3_extended_result_codes (store->db, 1);
  sqlite3_busy_timeout (store->db, SG_STORE_BUSY_TIMEOUT_MS);

  /* The first read tells a damaged or foreign file apart. */
  if (!query_int (store, "PRAGMA user_version", &version, error))
    goto fail;
  if (version == 0) {
    gint64 n_tables = 0;

    if (!query_int (store, "SELECT count(*) FROM sqlite_master", &n_tables, error))
      goto fail;
    if (n_tables > 0) {
      g_set_error (error, SG_STORE_ERROR, SG_STORE_ERROR_CORRUPT,
                   "%s is an SQLite database but not a SalesGetter store", path);
      goto fail;
    }
  }
  latest = sg_store_get_latest_version ();
  if (version > latest) {
    g_set_error (error, SG_STORE_ERROR, SG_STORE_ERROR_TOO_NEW,
                 "store %s has schema version %" G_GINT64_FORMAT
                 ", newer than this SalesGetter understands (%d): upgrade SalesGetter",
                 path, version, latest);
    goto fail;
  }
  if (!(flags & SG_STORE_OPEN_READ_ONLY)) {
    if (!exec (store, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;", error))
      goto fail;
    if (version < latest && !migrate (store, (int) version, error))
      goto fail;
  } else if (version < latest) {
    g_set_error (error, SG_STORE_ERROR, SG_STORE_ERROR_READ_ONLY,
                 "store %s has schema version %" G_GINT64_FORMAT
                 " and needs a migration; open it once read-write", path, version);
    goto fail;
  }
  if (!exec (store, "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;", error))
    goto fail;
  /* No PRAGMA mmap_size: tried for the readers (bench/README.md, insight p99), it saved
   * the insight's pread() calls without a CPU time it could show, and made the first
   * insight on a file not in the OS cache 10 times slower (the kernel reads around every
   * faulted page). */
  if (!load_device_id (store, error))
    goto fail;
  /* A store migrated to the summaries, or written by something that bypassed the store
   * (a bulk SQL load), is brought up to date once, here. */
  if (!(flags & SG_STORE_OPEN_READ_ONLY) && _sg_summary_is_behind (store) &&
      (!sg_store_begin (store, error) || !sg_store_commit (store, error)))
    goto fail;
  return store;

fail:
  sg_store_close (store);
  return NULL;
}

void
sg_store_close (SgStore *store)
{
  if (store == NULL)
    return;
  if (store->depth > 0 && store->db != NULL)
    exec (store, "ROLLBACK", NULL);
  g_hash_table_unref (store->stmts_static);
  g_hash_table_unref (store->stmts);
  sqlite3_close_v2 (store->db);
  g_free (store->path);
  g_free (store->device_id);
  g_free (store);
}

const char *
sg_store_get_path (const SgStore *store)
{
  return store->path;
}

int
sg_store_get_version (SgStore *store)
{
  gint64 v = 0;

  query_int (store, "PRAGMA user_version", &v, NULL);
  return (int) v;
}

const char *
sg_store_get_device_id (SgStore *store)
{
  return store->device_id;
}

gboolean
sg_store_begin (SgStore *store, GError **error)
{
  if (store->flags & SG_STORE_OPEN_READ_ONLY) {
    g_set_error (error, SG_STORE_ERROR, SG_STORE_ERROR_READ_ONLY, "store %s is open read-only",
                 store->path);
    return FALSE;
  }
  if (store->depth == 0) {
    if (!exec (store, "BEGIN IMMEDIATE", error))
      return FALSE;
    store->failed = FALSE;
    /* Other connections (the daemon has one per source) may have logged changes since our
     * last transaction: the clock is read again under the write lock, so op ids stay unique. */
    store->hlc = 0;
  }
  store->depth++;
  return TRUE;
}

gboolean
sg_store_commit (SgStore *store, GError **error)
{
  g_return_val_if_fail (store->depth > 0, FALSE);

  if (--store->depth > 0)
    return TRUE;
  if (store->failed) {
    if (!sqlite3_get_autocommit (store->db))
      exec (store, "ROLLBACK", NULL);
    store->failed = FALSE;
    g_set_error (error, SG_STORE_ERROR, SG_STORE_ERROR_SQL,
                 "store %s: transaction was rolled back", store->path);
    return FALSE;
  }
  /* Derived data follows what this transaction wrote, in the same transaction: the
   * activity summaries fold in the new interactions, aggregated (sg-summary.c). */
  if (!_sg_summary_update (store, error)) {
    exec (store, "ROLLBACK", NULL);
    return FALSE;
  }
  if (!exec (store, "COMMIT", error)) {
    exec (store, "ROLLBACK", NULL);
    return FALSE;
  }
  return TRUE;
}

void
sg_store_rollback (SgStore *store)
{
  g_return_if_fail (store->depth > 0);

  if (!sqlite3_get_autocommit (store->db))
    exec (store, "ROLLBACK", NULL);
  if (--store->depth == 0) {
    store->failed = FALSE;
    return;
  }
  /* What the outer levels still write must not be committed behind their back: it goes into
   * a transaction that their (failing) commit or their rollback ends. */
  store->failed = TRUE;
  exec (store, "BEGIN IMMEDIATE", NULL);
}

/* Page cache and WAL checkpoint interval of a bulk write (see sg-private.h). 16 MiB: at
 * 100k messages a batch dirties about 20 MB of pages spread over the store's random-key
 * indexes (Message-IDs, thread roots, the sync clock), so SQLite's default 2 MB cache spilled
 * and re-read most of them (bench/README.md, importtext). */
#define BULK_CACHE_KIB 16384
#define BULK_AUTOCHECKPOINT 8192

/* A PRAGMA's current value: prepared each time, not cached (SQLite reads some of them when
 * it prepares the statement). */
static gint64
pragma_int (SgStore *store, const char *sql, gint64 fallback)
{
  sqlite3_stmt *stmt = NULL;
  gint64 v = fallback;

  if (sqlite3_prepare_v2 (store->db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
    v = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return v;
}

void
_sg_store_set_bulk (SgStore *store, gboolean bulk)
{
  g_autofree char *sql = NULL;

  if (store->flags & SG_STORE_OPEN_READ_ONLY)
    return;
  if (bulk) {
    if (store->bulk++ > 0)
      return;
    store->cache_size = pragma_int (store, "PRAGMA cache_size", -2000);
    store->autocheckpoint = pragma_int (store, "PRAGMA wal_autocheckpoint", 1000);
    sql = g_strdup_printf ("PRAGMA cache_size = %d; PRAGMA wal_autocheckpoint = %d", -BULK_CACHE_KIB,
                           BULK_AUTOCHECKPOINT);
    exec (store, sql, NULL);
    return;
  }
  g_return_if_fail (store->bulk > 0);
  if (--store->bulk > 0)
    return;
  /* Back to the defaults; the WAL, grown to up to 32 MiB, goes back to 4 MiB at its next
   * reset instead of keeping its largest size on disk. */
  sql = g_strdup_printf ("PRAGMA cache_size = %" G_GINT64_FORMAT "; PRAGMA wal_autocheckpoint = %" G_GINT64_FORMAT
                         "; PRAGMA journal_size_limit = %d",
                         store->cache_size, store->autocheckpoint, 4 * 1024 * 1024);
  exec (store, sql, NULL);
}

gboolean
sg_store_in_transaction (SgStore *store)
{
  return store->depth > 0;
}

/* Hybrid logical clock: physical milliseconds in the high bits, a counter in the low
 * 16 bits, never going backwards on this device. */
static guint64
next_hlc (SgStore *store)
{
  guint64 now = ((guint64) (g_get_real_time () / 1000)) << 16;

  store->hlc = now > store->hlc ? now : store->hlc + 1;
  return store->hlc;
}

/* The newest clock this store has seen, read once per write transaction (sg_store_begin
 * resets it). */
static void
load_hlc (SgStore *store)
{
  gint64 last = 0;

  if (store->hlc != 0)
    return;
  /* The newest row has the highest clock: this device's clock never goes back. Sync
   * keeps the newest clock it received under 'sync_hlc' (sg-sync.c): a later local op is
   * newer than anything this store has seen (HLC receive rule), so a local edit made after
   * a pull wins over the pulled value. */
  query_int (store,
             "SELECT max(coalesce((SELECT hlc FROM changes ORDER BY seq DESC LIMIT 1), 0), "
             "coalesce((SELECT CAST(value AS INTEGER) FROM store_meta WHERE key = 'sync_hlc'), 0))",
             &last, NULL);
  store->hlc = (guint64) last;
}

guint64
_sg_store_last_hlc (SgStore *store)
{
  return store->hlc;
}

gint64
_sg_store_now (SgStore *store)
{
  guint64 wall_ms = (guint64) (g_get_real_time () / 1000);
  guint64 hlc_ms;

  load_hlc (store);
  hlc_ms = store->hlc >> 16;
  return (gint64) (MAX (wall_ms, hlc_ms) / 1000);
}

/* The '+' clock of a set member (its newest add, made here or pulled): *@out = -1 when none. */
static gboolean
member_add_clock (SgStore *store, const char *entity, const char *natural_key, gint64 *out, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare_static (store,
      "SELECT hlc FROM sync_clock WHERE entity = ? AND natural_key = ? AND field = '+'", error);
  int rc;

  *out = -1;
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, natural_key, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    *out = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "sync clock of a set member");
    return FALSE;
  }
  return TRUE;
}

/* @fields_json with "seen": the clock @seen as 16 lower-case hex digits (as `hlc` travels). */
static char *
json_with_seen (SgStore *store, const char *fields_json, gint64 seen, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare_static (store, "SELECT json_set(?, '$.seen', ?)", error);
  char hex[17];
  char *out = NULL;

  if (stmt == NULL)
    return NULL;
  g_snprintf (hex, sizeof hex, "%016" G_GINT64_MODIFIER "x", (guint64) seen);
  sqlite3_bind_text (stmt, 1, fields_json, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, hex, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_text (stmt, 0) != NULL)
    out = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  else
    _sg_store_set_error (store, error, "the fields of a set member's remove");
  sqlite3_reset (stmt);
  return out;
}

/* The sync state a local op moves (schema/sync.md): the clocks of the fields it carries
 * (for a set member: its '+' or '-' clock), and for a person upsert the name logged. Until
 * 0011 these were AFTER INSERT triggers on `changes`; as triggers they cost about 55,000
 * instructions for every op, even the ops (an interaction's '{}') that matched none of their
 * WHEN clauses: a quarter of what storing a message costs. The statements are theirs. */
static gboolean
log_sync_clock (SgStore *store, const char *entity, const char *natural_key, const char *op,
                const char *fields_json, guint64 hlc, gint64 seen, GError **error)
{
  sqlite3_stmt *stmt;
  gboolean upsert = strcmp (op, "upsert") == 0;

  if (upsert && strcmp (fields_json, "{}") != 0) {
    stmt = _sg_store_prepare_static (store,
        "INSERT INTO sync_clock (entity, natural_key, field, hlc) "
        "SELECT ?1, ?2, j.key, ?3 FROM json_each(?4) j WHERE true "
        "ON CONFLICT (entity, natural_key, field) DO UPDATE SET hlc = max(hlc, excluded.hlc)", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, natural_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) hlc);
    sqlite3_bind_text (stmt, 4, fields_json, -1, SQLITE_STATIC);
    if (!_sg_store_exec_stmt (store, stmt, error))
      return FALSE;
  } else if (strcmp (op, "add") == 0 || strcmp (op, "remove") == 0 || strcmp (op, "delete") == 0) {
    /* A set member's remove moves '-' to the add it saw (observed-remove: schema/sync.md
     * "Sets, add-wins"); an entity's delete, to its hlc. */
    if (seen >= 0)
      hlc = (guint64) seen;
    stmt = _sg_store_prepare_static (store,
        "INSERT INTO sync_clock (entity, natural_key, field, hlc) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (entity, natural_key, field) DO UPDATE SET hlc = max(hlc, excluded.hlc)", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, natural_key, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, strcmp (op, "add") == 0 ? "+" : "-", -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 4, (sqlite3_int64) hlc);
    if (!_sg_store_exec_stmt (store, stmt, error))
      return FALSE;
  }
  if (upsert && strcmp (entity, "person") == 0) {
    stmt = _sg_store_prepare_static (store,
        "INSERT INTO sync_names (address, name) SELECT ?1, json_extract(?2, '$.name') "
        "WHERE json_type(?2, '$.name') IS NOT NULL ON CONFLICT (address) DO UPDATE SET name = excluded.name", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, natural_key, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, fields_json, -1, SQLITE_STATIC);
    if (!_sg_store_exec_stmt (store, stmt, error))
      return FALSE;
  }
  return TRUE;
}

gboolean
_sg_store_log_change (SgStore *store, const char *entity, const char *natural_key,
                      const char *op, const char *fields_json, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare_static (store,
      "INSERT INTO changes (op_id, device, hlc, entity, natural_key, op, fields) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)", error);
  g_autofree char *op_id = NULL;
  g_autofree char *with_seen = NULL;
  guint64 hlc;
  gint64 seen = -1;

  if (stmt == NULL)
    return FALSE;
  /* A set member's remove says which add it removes: the member's '+' clock here, the
   * newest add this store made or pulled (`seen`). An add stamped after it, that this store
   * has not seen, is not removed by it, on any store or on the server. A store that knows no
   * add of the member saw none: `seen` 0, the remove takes nothing away elsewhere. */
  if (strcmp (op, "remove") == 0) {
    if (!member_add_clock (store, entity, natural_key, &seen, error))
      return FALSE;
    seen = MAX (seen, 0);
    if ((with_seen = json_with_seen (store, fields_json, seen, error)) == NULL)
      return FALSE;
    fields_json = with_seen;
  }
  load_hlc (store);
  /* The HLC never repeats on a device, so device + HLC is a globally unique op id, and one
   * that grows: the unique index is appended to, not split at random places. */
  hlc = next_hlc (store);
  op_id = g_strdup_printf ("%s:%016" G_GINT64_MODIFIER "x", store->device_id, hlc);
  sqlite3_bind_text (stmt, 1, op_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, store->device_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) hlc);
  sqlite3_bind_text (stmt, 4, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, natural_key, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, op, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, fields_json, -1, SQLITE_STATIC);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return FALSE;
  return log_sync_clock (store, entity, natural_key, op, fields_json, hlc, seen, error);
}

static gint64
count (SgStore *store, const char *sql, GError **error)
{
  gint64 n = -1;

  if (!query_int (store, sql, &n, error))
    return -1;
  return n;
}

gint64
sg_store_count_people (SgStore *store, GError **error)
{
  return count (store, "SELECT count(*) FROM people WHERE kind = 'contact'", error);
}

gint64
sg_store_count_organisations (SgStore *store, GError **error)
{
  return count (store, "SELECT count(*) FROM organisations WHERE kind = 'external'", error);
}

gint64
sg_store_count_interactions (SgStore *store, GError **error)
{
  return count (store, "SELECT count(*) FROM interactions", error);
}
