/* srv-sync.c: POST /v1/sync. */
#include "config.h"

#include "srv-sync.h"
#include "srv-db.h"
#include "srv-util.h"

#include <json-glib/json-glib.h>
#include <string.h>

/* pg_advisory_xact_lock key of the op log: writers take it before their first insert into
 * ops, so seq is assigned in commit order and a reader's snapshot is always a prefix of the
 * log (a cursor never skips an op committed later with a smaller seq). */
#define OPS_LOCK "7306345617268339"

static const char *const process_family[] = {
  "process", "stage_history", "process_contact", "interaction_link", "cx_note", "request", NULL,
};
static const char *const op_kinds[] = { "upsert", "delete", "add", "remove", "append", NULL };

const char *
srv_role_name (SrvRole role)
{
  switch (role) {
  case SRV_ROLE_ANALYST: return "analyst";
  case SRV_ROLE_ACCOUNT_MANAGER: return "account-manager";
  case SRV_ROLE_MANAGER: return "manager";
  }
  return "analyst";
}

gboolean
srv_role_parse (const char *name, SrvRole *role)
{
  for (SrvRole r = SRV_ROLE_ANALYST; r <= SRV_ROLE_MANAGER; r++)
    if (g_strcmp0 (name, srv_role_name (r)) == 0) {
      *role = r;
      return TRUE;
    }
  return FALSE;
}

gboolean
srv_entity_is_process_family (const char *entity)
{
  return g_strv_contains (process_family, entity);
}

char *
srv_op_process_key (const char *entity, const char *key, const char *process_field)
{
  if (g_str_equal (entity, "process") || g_str_equal (entity, "stage_history"))
    return g_strdup (key);
  if (g_str_equal (entity, "process_contact")) { /* uuid|address|part */
    const char *bar = strchr (key, '|');
    return bar && bar > key ? g_strndup (key, (gsize) (bar - key)) : NULL;
  }
  if (g_str_equal (entity, "interaction_link")) { /* message-id|uuid */
    const char *bar = strrchr (key, '|');
    return bar && bar[1] ? g_strdup (bar + 1) : NULL;
  }
  /* cx_note, request: the process by UUID in their fields, when tied to one. */
  return process_field && *process_field ? g_strdup (process_field) : NULL;
}

char *
srv_cursor_format (gint64 seq)
{
  return g_strdup_printf ("s%" G_GINT64_FORMAT, seq);
}

gboolean
srv_cursor_parse (const char *cursor, gint64 *seq)
{
  if (cursor == NULL || *cursor == '\0') {
    *seq = 0;
    return TRUE;
  }
  if (cursor[0] != 's')
    return FALSE;
  guint64 n;
  if (!g_ascii_string_to_unsigned (cursor + 1, 10, 0, G_MAXINT64, &n, NULL))
    return FALSE;
  *seq = (gint64) n;
  return TRUE;
}

static void
op_free (gpointer p)
{
  SrvOp *op = p;
  g_free (op->op_id);
  g_free (op->hlc);
  g_free (op->entity);
  g_free (op->key);
  g_free (op->op);
  g_free (op->fields);
  g_free (op->field_hlc);
  g_free (op->process_key);
  g_free (op->error);
  g_free (op);
}

void
srv_sync_request_free (SrvSyncRequest *req)
{
  if (req == NULL)
    return;
  g_free (req->device);
  if (req->ops)
    g_ptr_array_unref (req->ops);
  g_free (req);
}

static gboolean
is_hlc (const char *s)
{
  if (strlen (s) != 16)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;
  return TRUE;
}

static gboolean
is_entity_name (const char *s)
{
  gsize n = strlen (s);
  if (n == 0 || n > 64)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_islower (*p) && *p != '_' && !g_ascii_isdigit (*p))
      return FALSE;
  return TRUE;
}

static gboolean
is_device_id (const char *s)
{
  gsize n = strlen (s);
  if (n == 0 || n > 64)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return TRUE;
}

/* A string member, or NULL when absent; FALSE (and *why) when present but not a string. */
static gboolean
member_string (JsonObject *o, const char *name, const char **out)
{
  *out = NULL;
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return FALSE;
  *out = json_node_get_string (n);
  return TRUE;
}

static SrvOp *
parse_op (JsonNode *node, guint index, const char *device, JsonGenerator *gen, GString *buf, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT, "ops[%u]: not an object", index);
    return NULL;
  }
  JsonObject *o = json_node_get_object (node);
  const char *op_id, *hlc, *entity, *key, *kind;
  if (!member_string (o, "op_id", &op_id) || op_id == NULL || *op_id == '\0') {
    g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT, "ops[%u].op_id: missing or not a string", index);
    return NULL;
  }
  if (strlen (op_id) > 256) {
    g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT, "ops[%u].op_id: longer than 256 bytes", index);
    return NULL;
  }
  SrvOp *op = g_new0 (SrvOp, 1);
  op->op_id = g_strdup (op_id);
  op->scope = "shared";
#define REJECT(...) do { op->error = g_strdup_printf (__VA_ARGS__); return op; } while (0)
  if (!member_string (o, "hlc", &hlc) || hlc == NULL || !is_hlc (hlc))
    REJECT ("hlc: missing or not 16 lower-case hex digits");
  if (!member_string (o, "entity", &entity) || entity == NULL || !is_entity_name (entity))
    REJECT ("entity: missing or not a name of lower-case letters, digits and _");
  if (!member_string (o, "key", &key) || key == NULL || *key == '\0')
    REJECT ("key: missing or empty");
  if (strlen (key) > 2048)
    REJECT ("key: longer than 2048 bytes");
  if (!member_string (o, "op", &kind) || kind == NULL || !g_strv_contains (op_kinds, kind))
    REJECT ("op: missing or not one of upsert, delete, add, remove, append");
  /* A clock far ahead would win every last-writer-wins merge, and clients adopt the newest
   * clock they receive: one bad clock would drag every store's clock with it. */
  guint64 ms = g_ascii_strtoull (hlc, NULL, 16) >> 16;
  guint64 now_ms = (guint64) (g_get_real_time () / 1000);
  if (ms > now_ms + SRV_SYNC_MAX_CLOCK_AHEAD_MS)
    REJECT ("hlc: %.1f days ahead of the server's clock; fix this device's clock",
            (double) (ms - now_ms) / 86400000.0);
  g_autofree char *want_id = g_strconcat (device, ":", hlc, NULL);
  if (strcmp (op_id, want_id) != 0)
    REJECT ("op_id: not this device's id and the op's hlc (%s)", want_id);
  JsonNode *f = json_object_get_member (o, "fields");
  if (f && !JSON_NODE_HOLDS_NULL (f) && !JSON_NODE_HOLDS_OBJECT (f))
    REJECT ("fields: not an object");
  /* A remove's `seen`: the newest add of the member its author had seen (observed-remove,
   * schema/sync.md "Sets, add-wins"). It cannot be newer than the remove itself; one that
   * were would remove adds made after it, on every store. */
  if (g_str_equal (kind, "remove") && f && JSON_NODE_HOLDS_OBJECT (f) &&
      json_object_has_member (json_node_get_object (f), "seen")) {
    const char *seen = NULL;
    if (!member_string (json_node_get_object (f), "seen", &seen) || seen == NULL || !is_hlc (seen))
      REJECT ("fields.seen: not 16 lower-case hex digits");
    if (strcmp (seen, hlc) >= 0)
      REJECT ("fields.seen: %s is not older than the op's hlc %s", seen, hlc);
  }
#undef REJECT
  op->hlc = g_strdup (hlc);
  op->entity = g_strdup (entity);
  op->key = g_strdup (key);
  op->op = g_strdup (kind);
  if (f && JSON_NODE_HOLDS_OBJECT (f)) {
    /* One generator for the request: json_to_string() makes one per call. */
    g_string_truncate (buf, 0);
    json_generator_set_root (gen, f);
    json_generator_to_gstring (gen, buf);
    op->fields = g_strndup (buf->str, buf->len);
  } else {
    op->fields = g_strdup ("{}");
  }
  if (g_str_equal (kind, "upsert")) {
    /* The field clocks the merge stores for an op alone on its entity (sg_push_batch). */
    GString *fh = g_string_new ("{");
    if (f && JSON_NODE_HOLDS_OBJECT (f)) {
      JsonObjectIter it;
      const char *name;
      json_object_iter_init (&it, json_node_get_object (f));
      while (json_object_iter_next (&it, &name, NULL)) {
        if (fh->len > 1)
          g_string_append_c (fh, ',');
        srv_json_append_string (fh, name);
        g_string_append_printf (fh, ":\"%s\"", hlc);
      }
    }
    g_string_append_c (fh, '}');
    op->field_hlc = g_string_free (fh, FALSE);
  }
  if (srv_entity_is_process_family (entity)) {
    op->scope = "process";
    const char *pf = NULL;
    if (f && JSON_NODE_HOLDS_OBJECT (f))
      member_string (json_node_get_object (f), "process", &pf);
    op->process_key = srv_op_process_key (entity, key, pf);
  }
  return op;
}

SrvSyncRequest *
srv_sync_parse (const char *body, gsize len, GError **error)
{
  if (len == 0) {
    g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT, "body is empty: expected a JSON object");
    return NULL;
  }
  if (!srv_json_guard (body, len, SRV_SYNC_MAX_DEPTH, error))
    return NULL;
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) e = NULL;
  if (!json_parser_load_from_data (parser, body, (gssize) len, &e)) {
    /* json-glib's messages carry the line and column. */
    g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT, "body is not JSON: %s", e->message);
    return NULL;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT, "body: not a JSON object");
    return NULL;
  }
  JsonObject *o = json_node_get_object (root);
  JsonNode *n = json_object_get_member (o, "protocol");
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64) {
    g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT, "protocol: missing or not a number (this server speaks %d)",
                 SRV_SYNC_PROTOCOL);
    return NULL;
  }
  if (json_node_get_int (n) != SRV_SYNC_PROTOCOL) {
    g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT, "protocol: %" G_GINT64_FORMAT " is not supported (this server speaks %d)",
                 json_node_get_int (n), SRV_SYNC_PROTOCOL);
    return NULL;
  }
  g_autoptr (SrvSyncRequest) req = g_new0 (SrvSyncRequest, 1);
  const char *s;
  if (!member_string (o, "device", &s) || s == NULL || !is_device_id (s)) {
    g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT,
                 "device: missing or not a device id (letters, digits, '-', at most 64)");
    return NULL;
  }
  req->device = g_strdup (s);
  if (!member_string (o, "cursor", &s) || !srv_cursor_parse (s, &req->cursor)) {
    g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT, "cursor: not one this server gave (send \"\" to start over)");
    return NULL;
  }
  req->limit = SRV_SYNC_MAX_OPS;
  n = json_object_get_member (o, "limit");
  if (n && !JSON_NODE_HOLDS_NULL (n)) {
    if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64 || json_node_get_int (n) < 1) {
      g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT, "limit: not a whole number of at least 1");
      return NULL;
    }
    if (json_node_get_int (n) < SRV_SYNC_MAX_OPS)
      req->limit = (guint) json_node_get_int (n);
  }
  req->ops = g_ptr_array_new_with_free_func (op_free);
  n = json_object_get_member (o, "ops");
  if (n && !JSON_NODE_HOLDS_NULL (n)) {
    if (!JSON_NODE_HOLDS_ARRAY (n)) {
      g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT, "ops: not an array");
      return NULL;
    }
    JsonArray *a = json_node_get_array (n);
    guint count = json_array_get_length (a);
    if (count > SRV_SYNC_MAX_OPS) {
      g_set_error (error, SRV_ERROR, SRV_ERROR_TOO_LARGE, "ops: %u ops, at most %d per request", count,
                   SRV_SYNC_MAX_OPS);
      return NULL;
    }
    g_autoptr (JsonGenerator) gen = json_generator_new ();
    g_autoptr (GString) buf = g_string_sized_new (256);
    for (guint i = 0; i < count; i++) {
      SrvOp *op = parse_op (json_array_get_element (a, i), i, req->device, gen, buf, error);
      if (op == NULL)
        return NULL;
      g_ptr_array_add (req->ops, op);
    }
  }
  return g_steal_pointer (&req);
}

static void
append_rejected (GString *rej, const char *op_id, const char *why)
{
  if (rej->len > 1)
    g_string_append_c (rej, ',');
  g_string_append (rej, "{\"op_id\":");
  srv_json_append_string (rej, op_id);
  g_string_append (rej, ",\"error\":");
  srv_json_append_string (rej, why);
  g_string_append_c (rej, '}');
}

/* The table an op's kind merges into: entity_state (upsert, delete), set_members (add,
 * remove), or none (append: a row per op). */
static char
op_class (const char *kind)
{
  if (g_str_equal (kind, "upsert") || g_str_equal (kind, "delete"))
    return 's';
  if (g_str_equal (kind, "add") || g_str_equal (kind, "remove"))
    return 'm';
  return 'h';
}

/* Stores the valid ops (one statement, one transaction: sg_push_batch); fills ACKED and
 * REJECTED (JSON arrays being written). */
static gboolean
push (PGconn *conn, const SrvUser *user, SrvSyncRequest *req, GString *acked, GString *rejected, GError **error)
{
  guint nops = req->ops->len;
  /* Per op: its position among the ops sent (1-based), 0 when rejected here, or -(i + 1)
   * when it repeats op i of this request (sent once; acked when that one is). */
  g_autofree gint64 *sent = g_new0 (gint64, nops);
  g_autoptr (GHashTable) by_id = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) per_entity = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) order = g_ptr_array_new (); /* the ops sent, in order */
  g_autoptr (GPtrArray) rowkey = g_ptr_array_new_with_free_func (g_free); /* per op sent */

  for (guint i = 0; i < nops; i++) {
    SrvOp *op = g_ptr_array_index (req->ops, i);
    if (op->error) {
      append_rejected (rejected, op->op_id, op->error);
      continue;
    }
    gpointer first;
    if (g_hash_table_lookup_extended (by_id, op->op_id, NULL, &first)) {
      sent[i] = -(gint64) GPOINTER_TO_UINT (first) - 1;
      continue;
    }
    g_hash_table_insert (by_id, op->op_id, GUINT_TO_POINTER (i));
    g_ptr_array_add (order, op);
    sent[i] = order->len;
    /* How many ops of the request merge into the same row. */
    char cls = op_class (op->op);
    char *k = cls == 'h' ? NULL : g_strdup_printf ("%c%s%c%s", cls, op->entity, 0x1f, op->key);
    g_ptr_array_add (rowkey, k);
    if (k) {
      guint count = GPOINTER_TO_UINT (g_hash_table_lookup (per_entity, k));
      g_hash_table_replace (per_entity, g_strdup (k), GUINT_TO_POINTER (count + 1));
    }
  }
  if (order->len == 0)
    return TRUE;

  GString *a[10];
  for (guint i = 0; i < G_N_ELEMENTS (a); i++)
    a[i] = g_string_sized_new (i == 5 ? 64 * order->len : 24 * order->len);
  for (guint j = 0; j < order->len; j++) {
    SrvOp *op = g_ptr_array_index (order, j);
    gboolean comma = j > 0;
    const char *k = g_ptr_array_index (rowkey, j);
    gboolean alone = k == NULL || GPOINTER_TO_UINT (g_hash_table_lookup (per_entity, k)) == 1;
    srv_pg_array_append (a[0], op->op_id, comma);
    srv_pg_array_append (a[1], op->hlc, comma);
    srv_pg_array_append (a[2], op->entity, comma);
    srv_pg_array_append (a[3], op->key, comma);
    srv_pg_array_append (a[4], op->op, comma);
    srv_pg_array_append (a[5], op->fields, comma);
    srv_pg_array_append (a[6], op->field_hlc, comma);
    srv_pg_array_append (a[7], alone ? "t" : "f", comma);
    srv_pg_array_append (a[8], op->scope, comma);
    srv_pg_array_append (a[9], op->process_key, comma);
  }
  for (guint i = 0; i < G_N_ELEMENTS (a); i++) {
    g_string_prepend_c (a[i], '{');
    g_string_append_c (a[i], '}');
  }
  g_autofree char *uid = g_strdup_printf ("%" G_GINT64_FORMAT, user->user_id);
  const char *params[] = {
    uid, user->role == SRV_ROLE_MANAGER ? "t" : "f", req->device,
    a[0]->str, a[1]->str, a[2]->str, a[3]->str, a[4]->str, a[5]->str, a[6]->str, a[7]->str, a[8]->str, a[9]->str,
  };
  /* Autocommit: the function's statement is the transaction (it takes the op-log lock
   * first); an error rolls all of it back. */
  g_autoptr (PGresult) r = srv_db_exec (conn, "push",
    "SELECT rej_ord, rej_reason FROM sg_push_batch($1::bigint, $2::boolean, $3, $4::text[], $5::text[], "
    "$6::text[], $7::text[], $8::text[], $9::jsonb[], $10::jsonb[], $11::boolean[], $12::text[], $13::text[])",
    G_N_ELEMENTS (params), params, error);
  for (guint i = 0; i < G_N_ELEMENTS (a); i++)
    g_string_free (a[i], TRUE);
  if (r == NULL)
    return FALSE;

  /* The refused ones, by their position among the ops sent. */
  g_autoptr (GHashTable) refused = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autofree gint64 *ords = g_new0 (gint64, PQntuples (r) + 1);
  for (int k = 0; k < PQntuples (r); k++) {
    ords[k] = g_ascii_strtoll (PQgetvalue (r, k, 0), NULL, 10);
    g_hash_table_insert (refused, &ords[k], PQgetvalue (r, k, 1));
  }
  for (guint i = 0; i < nops; i++) {
    SrvOp *op = g_ptr_array_index (req->ops, i);
    gint64 pos = sent[i];
    if (pos == 0)
      continue; /* rejected above */
    if (pos < 0)
      pos = sent[-pos - 1];
    const char *why = g_hash_table_lookup (refused, &pos);
    if (why) {
      append_rejected (rejected, op->op_id, why);
    } else {
      if (acked->len > 1)
        g_string_append_c (acked, ',');
      srv_json_append_string (acked, op->op_id);
    }
  }
  return TRUE;
}

/* Reads the ops after the cursor this user may see, from other devices; appends them to OPS
 * (a JSON array being written) and sets the next cursor and more.
 *
 * One statement (one snapshot: the newest seq and the rows agree, no transaction to open),
 * walking ops in seq order from the cursor, at most SRV_SYNC_PULL_WINDOW seqs far: the cost
 * of a pull is bounded by the window whatever the log holds after the cursor, and however
 * little of it this user may see. When the window ends before the log does, the answer says
 * more and the cursor moves to the window's end (possibly with no ops). */
static gboolean
pull (PGconn *conn, const SrvUser *user, SrvSyncRequest *req, GString *ops, gint64 *next, gboolean *more,
      GError **error)
{
  g_autofree char *cursor = g_strdup_printf ("%" G_GINT64_FORMAT, req->cursor);
  g_autofree char *uid = g_strdup_printf ("%" G_GINT64_FORMAT, user->user_id);
  g_autofree char *limit = g_strdup_printf ("%u", req->limit + 1);
  g_autofree char *window = g_strdup_printf ("%d", SRV_SYNC_PULL_WINDOW);
  const char *params[] = { cursor, req->device, user->role == SRV_ROLE_MANAGER ? "t" : "f", uid, limit, window };
  /* sg_pull (migration 0003) rather than the statement itself: it plans the walk as an
   * index scan in seq order whatever the statistics say. */
  g_autoptr (PGresult) r = srv_db_exec (conn, "pull",
    "SELECT top, seq, op_id, hlc, entity, natural_key, op, fields, login "
    "FROM sg_pull($1::bigint, $2, $3::boolean, $4::bigint, $5::int, $6::bigint)",
    G_N_ELEMENTS (params), params, error);
  if (r == NULL)
    return FALSE;
  int rows = PQgetisnull (r, 0, 1) ? 0 : PQntuples (r);
  gint64 top = g_ascii_strtoll (PQgetvalue (r, 0, 0), NULL, 10);
  gint64 window_end = req->cursor + SRV_SYNC_PULL_WINDOW;
  *more = window_end < top;
  *next = *more ? window_end : MAX (req->cursor, top);
  gsize start = ops->len;
  for (int i = 0; i < rows; i++) {
    if ((guint) i == req->limit || ops->len - start > SRV_SYNC_MAX_ANSWER) {
      /* The rest next time: the cursor stops after the last op sent. */
      *more = TRUE;
      *next = g_ascii_strtoll (PQgetvalue (r, i - 1, 1), NULL, 10);
      break;
    }
    if (i > 0)
      g_string_append_c (ops, ',');
    g_string_append (ops, "{\"op_id\":");
    srv_json_append_string (ops, PQgetvalue (r, i, 2));
    g_string_append (ops, ",\"hlc\":");
    srv_json_append_string (ops, PQgetvalue (r, i, 3));
    g_string_append (ops, ",\"entity\":");
    srv_json_append_string (ops, PQgetvalue (r, i, 4));
    g_string_append (ops, ",\"key\":");
    srv_json_append_string (ops, PQgetvalue (r, i, 5));
    g_string_append (ops, ",\"op\":");
    srv_json_append_string (ops, PQgetvalue (r, i, 6));
    g_string_append (ops, ",\"fields\":");
    g_string_append (ops, PQgetvalue (r, i, 7)); /* jsonb's own text: valid JSON */
    g_string_append (ops, ",\"user\":");
    srv_json_append_string (ops, PQgetvalue (r, i, 8));
    g_string_append_c (ops, '}');
  }
  return TRUE;
}

GString *
srv_sync_run (PGconn *conn, const SrvUser *user, SrvSyncRequest *req, guint *status, GError **error)
{
  g_autoptr (GError) e = NULL;
  *status = 500;

  /* The device is the first user's who synced it. last_seen is written at most once a
   * minute: a request that changes nothing writes nothing (no commit to flush). */
  g_autofree char *uid = g_strdup_printf ("%" G_GINT64_FORMAT, user->user_id);
  const char *dparams[] = { req->device, uid };
  g_autoptr (PGresult) d = NULL;
  /* Two users' first syncs of one device at once: the one whose insert lost sees nothing
   * in its snapshot; the second try sees the winner. */
  for (int attempt = 0; attempt < 2; attempt++) {
    g_clear_pointer (&d, PQclear);
    d = srv_db_exec (conn, "device",
      "WITH d AS (SELECT user_id FROM devices WHERE device = $1), "
      "ins AS (INSERT INTO devices (device, user_id) SELECT $1, $2::bigint WHERE NOT EXISTS (SELECT 1 FROM d) "
      "        ON CONFLICT (device) DO NOTHING RETURNING user_id), "
      "upd AS (UPDATE devices SET last_seen = now() WHERE device = $1 AND user_id = $2::bigint "
      "        AND last_seen < now() - interval '1 minute') "
      "SELECT user_id FROM d UNION ALL SELECT user_id FROM ins",
      2, dparams, error);
    if (d == NULL || PQntuples (d) > 0)
      break;
  }
  if (d == NULL) {
    if (error && *error && (*error)->code == SRV_DB_ERROR_UNAVAILABLE)
      *status = 503;
    return NULL;
  }
  if (PQntuples (d) == 0) {
    g_set_error (error, SRV_DB_ERROR, SRV_DB_ERROR_QUERY, "device %s: not found after its insert", req->device);
    return NULL;
  }
  if (g_ascii_strtoll (PQgetvalue (d, 0, 0), NULL, 10) != user->user_id) {
    *status = 403;
    g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT,
                 "device %s belongs to another user; each store syncs as one user (make a new store)",
                 req->device);
    return NULL;
  }

  GString *acked = g_string_new ("[");
  GString *rejected = g_string_new ("[");
  GString *out = g_string_sized_new (4096);
  gint64 next = 0;
  gboolean more = FALSE;
  g_string_append_printf (out, "{\"protocol\":%d,\"ops\":[", SRV_SYNC_PROTOCOL);
  if (!push (conn, user, req, acked, rejected, error) || !pull (conn, user, req, out, &next, &more, error)) {
    if (error && *error && (*error)->domain == SRV_DB_ERROR && (*error)->code == SRV_DB_ERROR_UNAVAILABLE)
      *status = 503;
    g_string_free (acked, TRUE);
    g_string_free (rejected, TRUE);
    g_string_free (out, TRUE);
    return NULL;
  }
  g_autofree char *cursor = srv_cursor_format (next);
  g_string_append (out, "],\"acked\":");
  g_string_append (out, acked->str);
  g_string_append (out, "],\"rejected\":");
  g_string_append (out, rejected->str);
  g_string_append (out, "],\"cursor\":");
  srv_json_append_string (out, cursor);
  g_string_append_printf (out, ",\"more\":%s}", more ? "true" : "false");
  g_string_free (acked, TRUE);
  g_string_free (rejected, TRUE);
  *status = 200;
  return out;
}
