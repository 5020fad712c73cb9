/* srv-sync.h: POST /v1/sync (schema/sync.md, "Protocol"): the request parsed and checked,
 * the ops stored and materialised, the others' ops read back. */
#pragma once

#include <glib.h>
#include <libpq-fe.h>

G_BEGIN_DECLS

#define SRV_SYNC_PROTOCOL 1
#define SRV_SYNC_MAX_OPS 5000        /* ops per request, and per answer */
#define SRV_SYNC_MAX_ANSWER (16u << 20) /* an answer stops growing past 16 MiB (then more) */
#define SRV_SYNC_MAX_DEPTH 64        /* JSON nesting */
#define SRV_SYNC_PULL_WINDOW 50000   /* a pull looks at most this many seqs past its cursor */
/* An op whose clock is further ahead of the server's is rejected. */
#define SRV_SYNC_MAX_CLOCK_AHEAD_MS (G_GUINT64_CONSTANT (24) * 3600 * 1000)

typedef enum {
  SRV_ROLE_ANALYST,
  SRV_ROLE_ACCOUNT_MANAGER,
  SRV_ROLE_MANAGER,
} SrvRole;

/* The caller, from the token. */
typedef struct {
  gint64 user_id;
  gint64 token_id;
  char *login;
  SrvRole role;
} SrvUser;

/* One pushed op. ERROR set: it is rejected, with that reason, and never stored. */
typedef struct {
  char *op_id;
  char *hlc;
  char *entity;
  char *key;
  char *op;
  char *fields;      /* the fields object, serialised */
  char *field_hlc;   /* an upsert's field names each mapped to its hlc (JSON), else NULL */
  const char *scope; /* "shared" or "process" */
  char *process_key; /* the process UUID a process-family op belongs to, when known */
  char *error;
} SrvOp;

typedef struct {
  char *device;
  gint64 cursor; /* server seq; 0 the first time */
  guint limit;
  GPtrArray *ops; /* of SrvOp */
} SrvSyncRequest;

void srv_sync_request_free (SrvSyncRequest *req);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SrvSyncRequest, srv_sync_request_free)

/* Parses a request body (already decompressed; srv_json_guard is run first). Errors
 * (SRV_ERROR_BAD_INPUT, SRV_ERROR_TOO_LARGE) name the field or the JSON position; a bad op
 * is not an error but an op with ->error set. */
SrvSyncRequest *srv_sync_parse (const char *body, gsize len, GError **error);

/* The cursor as sent to clients, and back. */
char *srv_cursor_format (gint64 seq);
gboolean srv_cursor_parse (const char *cursor, gint64 *seq);

/* Whether ENTITY is of the process family, and the process UUID an op on it belongs to
 * (NULL when unknown: a note or request tied to no process). */
gboolean srv_entity_is_process_family (const char *entity);
char *srv_op_process_key (const char *entity, const char *key, const char *process_field);

const char *srv_role_name (SrvRole role);
gboolean srv_role_parse (const char *name, SrvRole *role);

/* Runs the sync for USER: binds the device (403 when another user's), stores the ops (one
 * transaction), reads the others' ops. On success returns the answer's JSON; else NULL with
 * *status the HTTP status and @error the message. */
GString *srv_sync_run (PGconn *conn, const SrvUser *user, SrvSyncRequest *req, guint *status, GError **error);

G_END_DECLS
