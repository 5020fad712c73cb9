/* srv-db.h: PostgreSQL for the server: a small connection pool and the migrations. */
#pragma once

#include <glib.h>
#include <libpq-fe.h>

G_BEGIN_DECLS

#define SRV_DB_ERROR (srv_db_error_quark ())
GQuark srv_db_error_quark (void);

typedef enum {
  SRV_DB_ERROR_UNAVAILABLE, /* no connection (503) */
  SRV_DB_ERROR_QUERY,       /* a statement failed (500) */
  SRV_DB_ERROR_MIGRATION,   /* a migration failed or the database is newer than this build */
} SrvDbError;

typedef struct _SrvPool SrvPool;

/* Connects to URL: the pool holds SIZE connections, made lazily and remade when broken. */
SrvPool *srv_pool_new (const char *url, guint size);
void srv_pool_free (SrvPool *pool);

/* Takes a connection (waits up to 10 s for a free one). Returns NULL with
 * SRV_DB_ERROR_UNAVAILABLE when none can be made. Give it back with srv_pool_release(). */
PGconn *srv_pool_acquire (SrvPool *pool, GError **error);
/* Gives CONN back; a connection left in a transaction or broken is closed instead. */
void srv_pool_release (SrvPool *pool, PGconn *conn);

/* One direct connection (the admin commands). */
PGconn *srv_db_connect (const char *url, GError **error);

/* Applies the migrations built in (schema/postgres/NNNN-*.sql) that the database lacks, each
 * in its own transaction, under an advisory lock (two servers starting at once is safe).
 * A database newer than this build is refused. */
gboolean srv_db_migrate (PGconn *conn, GError **error);
/* The number of migrations built in. */
guint srv_db_migrations_built_in (void);

/* Runs SQL with NPARAMS text parameters (PQexecParams, never interpolated). Returns the
 * result when its status is COMMAND_OK or TUPLES_OK; else NULL with @error set (naming WHAT). */
PGresult *srv_db_exec (PGconn *conn, const char *what, const char *sql, int nparams,
                       const char *const *params, GError **error);
/* srv_db_exec for statements without rows to read. */
gboolean srv_db_run (PGconn *conn, const char *what, const char *sql, int nparams,
                     const char *const *params, GError **error);

/* Appends S (NULL: NULL) as one element of a PostgreSQL array literal ("{a,b}") to OUT,
 * quoted and escaped; COMMA says whether to put a comma first. */
void srv_pg_array_append (GString *out, const char *s, gboolean comma);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PGresult, PQclear)

G_END_DECLS
