/* srv-db.c: the connection pool and the PostgreSQL migrations. */
#include "config.h"

#include "srv-db.h"
#include "sg-pg-resources.h"

#include <gio/gio.h>
#include <string.h>

G_DEFINE_QUARK (srv-db-error-quark, srv_db_error)

/* The migrations, compiled in by schema/meson.build (sg-pg-resources). */
#define MIGRATIONS_PATH "/org/salesgetter/schema/postgres/"
/* pg_advisory_lock key of the migrations ("sgmigr" as a number). */
#define MIGRATION_LOCK "7306345617268338"

typedef struct {
  PGconn *pg; /* NULL until made, or after it broke */
  int epoch;  /* the pool's epoch when pg was made */
} Slot;

struct _SrvPool {
  char *url;
  guint size;
  GAsyncQueue *free; /* of Slot* */
  /* Bumped whenever a connection is found broken: the database went away, so every
   * connection made before is suspect and is remade on its next use, instead of failing
   * one request each. */
  int epoch;
  GMutex lock;
  GHashTable *epochs; /* PGconn* handed out -> its epoch */
};

SrvPool *
srv_pool_new (const char *url, guint size)
{
  SrvPool *p = g_new0 (SrvPool, 1);
  p->url = g_strdup (url);
  p->size = size;
  p->free = g_async_queue_new ();
  g_mutex_init (&p->lock);
  p->epochs = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < size; i++)
    g_async_queue_push (p->free, g_new0 (Slot, 1));
  return p;
}

void
srv_pool_free (SrvPool *pool)
{
  if (pool == NULL)
    return;
  Slot *s;
  while ((s = g_async_queue_try_pop (pool->free)) != NULL) {
    if (s->pg)
      PQfinish (s->pg);
    g_free (s);
  }
  g_async_queue_unref (pool->free);
  g_hash_table_unref (pool->epochs);
  g_mutex_clear (&pool->lock);
  memset (pool->url, 0, strlen (pool->url));
  g_free (pool->url);
  g_free (pool);
}

PGconn *
srv_db_connect (const char *url, GError **error)
{
  PGconn *c = PQconnectdb (url);
  if (c == NULL || PQstatus (c) != CONNECTION_OK) {
    g_autofree char *msg = g_strdup (c ? PQerrorMessage (c) : "out of memory");
    g_set_error (error, SRV_DB_ERROR, SRV_DB_ERROR_UNAVAILABLE, "cannot connect to the database: %s",
                 g_strstrip (msg));
    if (c)
      PQfinish (c);
    return NULL;
  }
  /* Quiet NOTICEs (CREATE ... IF NOT EXISTS); UTC timestamps in answers. */
  PGresult *r = PQexec (c, "SET client_min_messages = warning; SET TIME ZONE 'UTC'");
  PQclear (r);
  return c;
}

/* The queue holds one Slot per connection the pool may make: taking a slot is the right to
 * use (or make) one connection, so at most SIZE exist. The caller gets the bare PGconn; its
 * slot is made again on release. */
PGconn *
srv_pool_acquire (SrvPool *pool, GError **error)
{
  Slot *s = g_async_queue_timeout_pop (pool->free, 10 * G_USEC_PER_SEC);
  if (s == NULL) {
    g_set_error (error, SRV_DB_ERROR, SRV_DB_ERROR_UNAVAILABLE,
                 "database busy: no free connection in 10 s (pool-size %u)", pool->size);
    return NULL;
  }
  int epoch = g_atomic_int_get (&pool->epoch);
  if (s->pg && (PQstatus (s->pg) != CONNECTION_OK || s->epoch != epoch)) {
    PQfinish (s->pg);
    s->pg = NULL;
  }
  if (s->pg == NULL) {
    s->pg = srv_db_connect (pool->url, error);
    s->epoch = epoch;
  }
  PGconn *c = s->pg;
  s->pg = NULL;
  if (c == NULL) {
    g_async_queue_push (pool->free, s);
    return NULL;
  }
  g_mutex_lock (&pool->lock);
  g_hash_table_insert (pool->epochs, c, GINT_TO_POINTER (s->epoch));
  g_mutex_unlock (&pool->lock);
  g_free (s);
  return c;
}

void
srv_pool_release (SrvPool *pool, PGconn *conn)
{
  Slot *s = g_new0 (Slot, 1);
  if (conn) {
    g_mutex_lock (&pool->lock);
    s->epoch = GPOINTER_TO_INT (g_hash_table_lookup (pool->epochs, conn));
    g_hash_table_remove (pool->epochs, conn);
    g_mutex_unlock (&pool->lock);
  }
  if (conn && PQstatus (conn) != CONNECTION_OK)
    g_atomic_int_inc (&pool->epoch);
  if (conn && (PQstatus (conn) != CONNECTION_OK || PQtransactionStatus (conn) != PQTRANS_IDLE)) {
    PQfinish (conn);
    conn = NULL;
  }
  s->pg = conn;
  g_async_queue_push (pool->free, s);
}

PGresult *
srv_db_exec (PGconn *conn, const char *what, const char *sql, int nparams, const char *const *params,
             GError **error)
{
  PGresult *r = PQexecParams (conn, sql, nparams, NULL, params, NULL, NULL, 0);
  ExecStatusType st = r ? PQresultStatus (r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
    return r;
  g_autofree char *msg = g_strdup (r ? PQresultErrorMessage (r) : PQerrorMessage (conn));
  gboolean down = PQstatus (conn) != CONNECTION_OK;
  g_set_error (error, SRV_DB_ERROR, down ? SRV_DB_ERROR_UNAVAILABLE : SRV_DB_ERROR_QUERY, "%s: %s", what,
               g_strstrip (msg));
  PQclear (r);
  return NULL;
}

gboolean
srv_db_run (PGconn *conn, const char *what, const char *sql, int nparams, const char *const *params,
            GError **error)
{
  PGresult *r = srv_db_exec (conn, what, sql, nparams, params, error);
  PQclear (r);
  return r != NULL;
}

void
srv_pg_array_append (GString *out, const char *s, gboolean comma)
{
  if (comma)
    g_string_append_c (out, ',');
  if (s == NULL) {
    g_string_append (out, "NULL");
    return;
  }
  g_string_append_c (out, '"');
  /* In runs between the characters to escape (a 5000-op request is megabytes). */
  for (const char *p = s; *p;) {
    size_t n = strcspn (p, "\"\\");
    g_string_append_len (out, p, (gssize) n);
    p += n;
    if (*p) {
      g_string_append_c (out, '\\');
      g_string_append_c (out, *p++);
    }
  }
  g_string_append_c (out, '"');
}

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The migration names built in, sorted. */
static GStrv
migration_names (void)
{
  /* Naming the resource makes the linker keep it (it registers itself at start). */
  (void) sg_pg_schema_get_resource ();
  g_auto (GStrv) names = g_resources_enumerate_children (MIGRATIONS_PATH, 0, NULL);
  GPtrArray *out = g_ptr_array_new ();
  for (char **n = names; n && *n; n++)
    if (g_str_has_suffix (*n, ".sql"))
      g_ptr_array_add (out, g_strdup (*n));
  g_ptr_array_sort (out, cmp_str);
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (out, FALSE);
}

guint
srv_db_migrations_built_in (void)
{
  g_auto (GStrv) names = migration_names ();
  return g_strv_length (names);
}

static gboolean
migrate_locked (PGconn *conn, GError **error)
{
  if (!srv_db_run (conn, "schema_migrations",
                   "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                   "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
                   0, NULL, error))
    return FALSE;
  g_autoptr (PGresult) r = srv_db_exec (conn, "schema_migrations",
                                        "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL, error);
  if (r == NULL)
    return FALSE;
  guint64 have = g_ascii_strtoull (PQgetvalue (r, 0, 0), NULL, 10);
  g_auto (GStrv) names = migration_names ();
  guint built = g_strv_length (names);
  if (have > built) {
    g_set_error (error, SRV_DB_ERROR, SRV_DB_ERROR_MIGRATION,
                 "the database is at schema version %" G_GUINT64_FORMAT " but this salesgetter-server knows "
                 "only %u: upgrade salesgetter-server", have, built);
    return FALSE;
  }
  for (guint i = (guint) have; i < built; i++) {
    const char *name = names[i];
    guint64 num = g_ascii_strtoull (name, NULL, 10);
    if (num != i + 1) {
      g_set_error (error, SRV_DB_ERROR, SRV_DB_ERROR_MIGRATION,
                   "migration %u is missing from this build (found %s)", i + 1, name);
      return FALSE;
    }
    g_autofree char *path = g_strconcat (MIGRATIONS_PATH, name, NULL);
    g_autoptr (GBytes) sql = g_resources_lookup_data (path, 0, error);
    if (sql == NULL)
      return FALSE;
    g_autofree char *text = g_strndup (g_bytes_get_data (sql, NULL), g_bytes_get_size (sql));
    /* A multi-statement file goes through PQexec (simple protocol: no parameters), wrapped
     * with its version row in one transaction: a failure leaves the old version. */
    g_autofree char *ver = g_strdup_printf ("%u", i + 1);
    const char *params[] = { ver, name };
    PGresult *b = PQexec (conn, "BEGIN");
    PQclear (b);
    PGresult *m = PQexec (conn, text);
    if (PQresultStatus (m) != PGRES_COMMAND_OK && PQresultStatus (m) != PGRES_TUPLES_OK) {
      g_autofree char *msg = g_strdup (PQresultErrorMessage (m));
      g_set_error (error, SRV_DB_ERROR, SRV_DB_ERROR_MIGRATION, "migration %s failed: %s", name, g_strstrip (msg));
      PQclear (m);
      PQclear (PQexec (conn, "ROLLBACK"));
      return FALSE;
    }
    PQclear (m);
    if (!srv_db_run (conn, name, "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)", 2,
                     params, error)
        || !srv_db_run (conn, name, "COMMIT", 0, NULL, error)) {
      PQclear (PQexec (conn, "ROLLBACK"));
      return FALSE;
    }
    g_message ("database: applied migration %s", name);
  }
  return TRUE;
}

gboolean
srv_db_migrate (PGconn *conn, GError **error)
{
  if (!srv_db_run (conn, "migration lock", "SELECT pg_advisory_lock(" MIGRATION_LOCK ")", 0, NULL, error))
    return FALSE;
  gboolean ok = migrate_locked (conn, error);
  PQclear (PQexec (conn, "SELECT pg_advisory_unlock(" MIGRATION_LOCK ")"));
  return ok;
}
