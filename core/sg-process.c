/* sg-process.c: sales processes, stage rules, contacts, linking, notes and requests. */
#include "config.h"

#include "sg-identity.h"
#include "sg-process.h"
#include "sg-process-private.h"

#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK (sg-process-error-quark, sg_process_error)

/* Interactions this long before a process opened are not linked to it. */
#define LINK_LOOKBEHIND (30 * 24 * 3600)

/* --- money ------------------------------------------------------------------------- */

static int
currency_exponent (const char *c)
{
  static const char *const zero[] = { "JPY", "KRW", "ISK", "CLP", "VND", "UGX", "XOF", "XAF", "PYG", NULL };
  static const char *const three[] = { "BHD", "KWD", "OMR", "JOD", "TND", "IQD", "LYD", NULL };

  if (c != NULL && g_strv_contains (zero, c))
    return 0;
  if (c != NULL && g_strv_contains (three, c))
    return 3;
  return 2;
}

static gboolean
valid_currency (const char *c)
{
  return c != NULL && strlen (c) == 3 && g_ascii_isupper (c[0]) && g_ascii_isupper (c[1]) &&
         g_ascii_isupper (c[2]);
}

gboolean
sg_money_parse (const char *text, const char *currency, gint64 *minor, GError **error)
{
  int exp = currency_exponent (currency);
  gint64 units = 0, frac = 0;
  int n_frac = 0, n_digits = 0;
  gboolean in_frac = FALSE;

  if (text == NULL)
    text = "";
  for (const char *p = text; *p; p++) {
    if (g_ascii_isdigit (*p)) {
      int d = *p - '0';

      n_digits++;
      if (in_frac) {
        if (++n_frac > exp)
          goto bad;
        frac = frac * 10 + d;
      } else {
        if (units > (G_MAXINT64 / 1000 - d) / 10)
          goto bad;
        units = units * 10 + d;
      }
    } else if (*p == '.' && !in_frac) {
      in_frac = TRUE;
    } else if ((*p == ',' || *p == '_' || *p == ' ' || *p == '\'') && !in_frac && n_digits > 0) {
      continue; /* thousands separators */
    } else {
      goto bad;
    }
  }
  if (n_digits == 0)
    goto bad;
  for (int i = n_frac; i < exp; i++)
    frac *= 10;
  for (int i = 0; i < exp; i++)
    units *= 10;
  *minor = units + frac;
  return TRUE;
bad:
  g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID,
               "“%s” is not an amount (digits, an optional '.' and at most %d decimals%s%s)", text, exp,
               currency ? " for " : "", currency ? currency : "");
  return FALSE;
}

char *
sg_money_format (gint64 minor, const char *currency)
{
  int exp = currency_exponent (currency);
  gint64 div = 1;
  gboolean neg = minor < 0;
  guint64 v = neg ? (guint64) (-(minor + 1)) + 1 : (guint64) minor;

  for (int i = 0; i < exp; i++)
    div *= 10;
  if (exp == 0)
    return g_strdup_printf ("%s%" G_GUINT64_FORMAT, neg ? "-" : "", v);
  return g_strdup_printf ("%s%" G_GUINT64_FORMAT ".%0*" G_GUINT64_FORMAT, neg ? "-" : "", v / (guint64) div, exp,
                          v % (guint64) div);
}

/* --- lookups ------------------------------------------------------------------------ */

typedef struct {
  gint64 id;
  char *uuid;
  gint64 org_id;
  gint64 pipeline_id;
  gint64 stage_id;
  char *stage;
  SgStageKind kind;
  int position;
  char *status;
  char *currency;
} Proc;

static void
proc_clear (Proc *p)
{
  g_free (p->uuid);
  g_free (p->stage);
  g_free (p->status);
  g_free (p->currency);
  memset (p, 0, sizeof *p);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Proc, proc_clear)

static gboolean
load_proc (SgStore *store, const char *uuid, Proc *p, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "SELECT p.id, p.uuid, p.org_id, p.pipeline_id, p.stage_id, s.name, s.kind, s.position, p.status, "
      "  p.currency "
      "FROM processes p JOIN stages s ON s.id = p.stage_id WHERE p.uuid = ?", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, uuid, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW) {
    p->id = sqlite3_column_int64 (stmt, 0);
    p->uuid = g_strdup (_SG_COL_TEXT (stmt, 1));
    p->org_id = sqlite3_column_int64 (stmt, 2);
    p->pipeline_id = sqlite3_column_int64 (stmt, 3);
    p->stage_id = sqlite3_column_int64 (stmt, 4);
    p->stage = g_strdup (_SG_COL_TEXT (stmt, 5));
    sg_stage_kind_from_string (_SG_COL_TEXT (stmt, 6), &p->kind);
    p->position = sqlite3_column_int (stmt, 7);
    p->status = g_strdup (_SG_COL_TEXT (stmt, 8));
    p->currency = g_strdup (_SG_COL_TEXT (stmt, 9));
  }
  sqlite3_reset (stmt);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc != SQLITE_DONE)
    _sg_store_set_error (store, error, "process");
  else
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_NOT_FOUND, "no sales process “%s”", uuid);
  return FALSE;
}

char *
sg_process_resolve (SgStore *store, const char *ref, GError **error)
{
  sqlite3_stmt *stmt;
  char *found = NULL;
  guint n = 0;
  int rc;
  gboolean digits = ref != NULL && *ref != '\0';

  for (const char *p = ref; p && *p; p++)
    digits = digits && g_ascii_isdigit (*p);
  if (ref == NULL || *ref == '\0') {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_NOT_FOUND, "no sales process given");
    return NULL;
  }
  if (digits && strlen (ref) < 8) {
    stmt = _sg_store_prepare (store, "SELECT uuid FROM processes WHERE id = ?", error);
    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64 (stmt, 1, g_ascii_strtoll (ref, NULL, 10));
  } else if (strlen (ref) >= 4) {
    g_autofree char *lower = g_ascii_strdown (ref, -1);
    g_autofree char *upper = g_strdup_printf ("%s\x7f", lower);

    /* A prefix range: the unique index on uuid answers it. */
    stmt = _sg_store_prepare (store, "SELECT uuid FROM processes WHERE uuid >= ?1 AND uuid < ?2 LIMIT 2", error);
    if (stmt == NULL)
      return NULL;
    sqlite3_bind_text (stmt, 1, lower, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (stmt, 2, upper, -1, SQLITE_TRANSIENT);
  } else {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_NOT_FOUND,
                 "no sales process “%s” (give its id, or at least 4 characters of its UUID)", ref);
    return NULL;
  }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    if (n++ == 0)
      found = g_strdup (_SG_COL_TEXT (stmt, 0));
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    g_free (found);
    _sg_store_set_error (store, error, "process");
    return NULL;
  }
  if (n == 0) {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_NOT_FOUND, "no sales process “%s”", ref);
    return NULL;
  }
  if (n > 1) {
    g_free (found);
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_AMBIGUOUS,
                 "“%s” matches several sales processes: give more of the UUID", ref);
    return NULL;
  }
  return found;
}

typedef struct {
  gint64 id;
  char *name;
  SgStageKind kind;
  int position;
  gboolean retired;
} StageInfo;

static void
stage_info_clear (StageInfo *s)
{
  g_free (s->name);
  memset (s, 0, sizeof *s);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (StageInfo, stage_info_clear)

static char *
stage_names (SgStore *store, gint64 pipeline_id)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "SELECT group_concat(name, ', ') FROM (SELECT name FROM stages WHERE pipeline_id = ? AND retired = 0 "
      "ORDER BY position)", NULL);
  char *out = NULL;

  if (stmt == NULL)
    return g_strdup ("?");
  sqlite3_bind_int64 (stmt, 1, pipeline_id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    out = g_strdup (_SG_COL_TEXT (stmt, 0));
  sqlite3_reset (stmt);
  return out ? out : g_strdup ("");
}

static char *
pipeline_name (SgStore *store, gint64 pipeline_id)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store, "SELECT name FROM pipelines WHERE id = ?", NULL);
  char *out = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, pipeline_id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    out = g_strdup (_SG_COL_TEXT (stmt, 0));
  sqlite3_reset (stmt);
  return out;
}

/* A stage of @pipeline_id by name (case-insensitive for ASCII), or its first open stage
 * when @name is NULL. */
static gboolean
find_stage (SgStore *store, gint64 pipeline_id, const char *name, StageInfo *out, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "SELECT id, name, kind, position, retired FROM stages WHERE pipeline_id = ?1 "
      "AND (?2 IS NULL AND kind = 'open' AND retired = 0 OR name = ?2 COLLATE NOCASE) "
      "ORDER BY name = ?2 DESC, position LIMIT 1", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, pipeline_id);
  sqlite3_bind_text (stmt, 2, name, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW) {
    out->id = sqlite3_column_int64 (stmt, 0);
    out->name = g_strdup (_SG_COL_TEXT (stmt, 1));
    sg_stage_kind_from_string (_SG_COL_TEXT (stmt, 2), &out->kind);
    out->position = sqlite3_column_int (stmt, 3);
    out->retired = sqlite3_column_int (stmt, 4) != 0;
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "stage");
    return FALSE;
  }
  if (rc == SQLITE_DONE || out->retired) {
    g_autofree char *pl = pipeline_name (store, pipeline_id);
    g_autofree char *names = stage_names (store, pipeline_id);

    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_UNKNOWN_STAGE,
                 "no stage “%s” in pipeline “%s”%s (stages: %s)", name ? name : "", pl ? pl : "?",
                 out->retired ? " any more" : "", names);
    return FALSE;
  }
  return TRUE;
}

static gint64
find_pipeline (SgStore *store, const char *name, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store, "SELECT id FROM pipelines WHERE name = ?", error);
  gint64 id = 0;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (id == 0) {
    g_autofree char *names = NULL;

    stmt = _sg_store_prepare (store, "SELECT group_concat(name, ', ') FROM (SELECT name FROM pipelines ORDER BY name)", NULL);
    if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
      names = g_strdup (_SG_COL_TEXT (stmt, 0));
    if (stmt != NULL)
      sqlite3_reset (stmt);
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_UNKNOWN_PIPELINE, "no pipeline “%s” (pipelines: %s)",
                 name, names ? names : "");
    return -1;
  }
  return id;
}

static gint64
require_org (SgStore *store, const char *domain, GError **error)
{
  gint64 id = _sg_org_lookup (store, domain, error);

  if (id == 0)
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_NOT_FOUND,
                 "no organisation “%s” in the store (organisations come from imported mail and "
                 "prospect lists)", domain ? domain : "");
  return id > 0 ? id : -1;
}

static gint64
require_person (SgStore *store, const char *address, GError **error)
{
  gint64 id = _sg_person_lookup (store, address, error);

  if (id == 0)
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_NOT_FOUND, "no person with the address “%s” in the store",
                 address ? address : "");
  return id > 0 ? id : -1;
}

/* The lead source named @name, made when it is of a known "kind:detail" form. */
static gint64
lead_source_id (SgStore *store, const char *name, GError **error)
{
  static const struct {
    const char *prefix;
    const char *kind;
  } forms[] = {
    { "list:", "rented-list" }, { "event:", "event" }, { "referral:", "analyst-referral" },
    { "management:", "management" }, { "customer:", "existing-customer" }, { "other:", "other" },
  };
  sqlite3_stmt *stmt = _sg_store_prepare (store, "SELECT id FROM lead_sources WHERE name = ?", error);
  gint64 id = 0;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (id != 0)
    return id;
  for (guint i = 0; i < G_N_ELEMENTS (forms); i++) {
    const char *detail = name + strlen (forms[i].prefix);
    JsonBuilder *b;

    if (!g_str_has_prefix (name, forms[i].prefix) || *detail == '\0')
      continue;
    stmt = _sg_store_prepare (store,
        "INSERT INTO lead_sources (name, kind, detail, credited_to, created_at) VALUES (?, ?, ?, ?, ?)", error);
    if (stmt == NULL)
      return -1;
    sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (stmt, 2, forms[i].kind, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, detail, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (stmt, 4, strchr (detail, '@') ? detail : NULL, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (stmt, 5, _sg_now ());
    if (!_sg_store_exec_stmt (store, stmt, error))
      return -1;
    id = sqlite3_last_insert_rowid (_sg_store_get_db (store));
    b = _sg_json_begin ();
    _sg_json_str (b, "kind", forms[i].kind);
    _sg_json_str (b, "detail", detail);
    if (!_sg_log_json (store, "lead_source", name, "upsert", b, error))
      return -1;
    return id;
  }
  g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_NOT_FOUND,
               "no lead source “%s” (built in: management, analyst-referral, rented-list, event, "
               "existing-customer, inbound; or make one: list:NAME, event:NAME, referral:ADDRESS, other:NAME)",
               name);
  return -1;
}

gint64
_sg_lead_source_id (SgStore *store, const char *name, GError **error)
{
  return lead_source_id (store, name, error);
}

static char *
norm_actor (const char *actor)
{
  char *n;

  if (actor == NULL || *actor == '\0')
    return NULL;
  n = sg_address_normalize (actor, NULL);
  return n ? n : g_strdup (actor);
}

/* --- create ------------------------------------------------------------------------- */

static gboolean
log_process (SgStore *store, const char *uuid, JsonBuilder *b, GError **error)
{
  return _sg_log_json (store, "process", uuid, "upsert", b, error);
}

static gboolean
add_history (SgStore *store, gint64 process_id, const char *uuid, const char *event, const char *from,
             const char *to, const char *by, gint64 at, const char *note, GError **error)
{
  sqlite3_stmt *stmt;
  JsonBuilder *b;

  /* Append-only: each entry is its own op, keyed by the process's UUID. It is logged first,
   * so that the row keeps the op's clock (every store orders the history by it). */
  b = _sg_json_begin ();
  _sg_json_str (b, "event", event);
  _sg_json_str (b, "from_stage", from);
  _sg_json_str (b, "to_stage", to);
  _sg_json_str (b, "moved_by", by);
  _sg_json_int (b, "moved_at", at);
  _sg_json_str (b, "note", note);
  if (!_sg_log_json (store, "stage_history", uuid, "append", b, error))
    return FALSE;
  stmt = _sg_store_prepare (store,
      "INSERT INTO stage_history (process_id, event, from_stage, to_stage, moved_by, moved_at, note, hlc) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, process_id);
  sqlite3_bind_text (stmt, 2, event, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, from, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, to, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, by, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 6, at);
  sqlite3_bind_text (stmt, 7, note, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 8, (sqlite3_int64) _sg_store_last_hlc (store));
  return _sg_store_exec_stmt (store, stmt, error);
}

char *
sg_process_create (SgStore *store, const SgProcessNew *spec, const char *actor, GError **error)
{
  g_autofree char *by = norm_actor (actor);
  g_autofree char *owner = NULL;
  g_autofree char *uuid = NULL;
  g_autofree char *deliverable = NULL;
  g_autofree char *org_domain = NULL;
  g_auto (StageInfo) stage = { 0 };
  const char *pipeline = spec->pipeline ? spec->pipeline : "default";
  const char *kind = spec->deliverable_kind ? spec->deliverable_kind : "service";
  gint64 org_id, pipeline_id, process_id, source_id = 0, now = _sg_store_now (store);
  gint64 opened = spec->opened_at ? spec->opened_at : now;
  sqlite3_stmt *stmt;
  JsonBuilder *b;

  if (spec->deliverable == NULL || *g_strstrip (deliverable = g_strdup (spec->deliverable)) == '\0') {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID, "a sales process needs a deliverable");
    return NULL;
  }
  if (strcmp (kind, "product") != 0 && strcmp (kind, "service") != 0) {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID,
                 "deliverable kind “%s” is neither product nor service", kind);
    return NULL;
  }
  if (spec->currency != NULL && !valid_currency (spec->currency)) {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID,
                 "currency “%s” is not an ISO 4217 code (three capital letters, such as EUR)", spec->currency);
    return NULL;
  }
  if (spec->has_value && spec->currency == NULL) {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID, "a value needs a currency");
    return NULL;
  }
  if ((spec->has_value && spec->value_minor < 0) || spec->cost_minor < 0) {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID, "value and cost cannot be negative");
    return NULL;
  }
  if (spec->account_manager != NULL && (owner = sg_address_normalize (spec->account_manager, NULL)) == NULL) {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID, "account manager “%s” is not an address",
                 spec->account_manager);
    return NULL;
  }
  if (owner == NULL)
    owner = g_strdup (by);

  if (!sg_store_begin (store, error))
    return NULL;
  if ((org_id = require_org (store, spec->organisation, error)) < 0 ||
      (pipeline_id = find_pipeline (store, pipeline, error)) < 0 ||
      !find_stage (store, pipeline_id, spec->stage, &stage, error) ||
      (spec->lead_source != NULL && (source_id = lead_source_id (store, spec->lead_source, error)) < 0))
    goto fail;
  if (stage.kind != SG_STAGE_OPEN) {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID_MOVE,
                 "a new sales process starts in an open stage, not “%s” (%s)", stage.name,
                 sg_stage_kind_to_string (stage.kind));
    goto fail;
  }
  org_domain = _sg_org_domain (store, org_id);
  if (!spec->allow_duplicate) {
    g_autofree char *dup = NULL;

    stmt = _sg_store_prepare (store,
        "SELECT uuid FROM processes WHERE org_id = ? AND status = 'open' AND deliverable = ? COLLATE NOCASE "
        "LIMIT 1", error);
    if (stmt == NULL)
      goto fail;
    sqlite3_bind_int64 (stmt, 1, org_id);
    sqlite3_bind_text (stmt, 2, deliverable, -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) == SQLITE_ROW)
      dup = g_strdup (_SG_COL_TEXT (stmt, 0));
    sqlite3_reset (stmt);
    if (dup != NULL) {
      g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_DUPLICATE,
                   "%s already has an open sales process for “%s”: %s (allow a second one explicitly)",
                   org_domain, deliverable, dup);
      goto fail;
    }
  }
  uuid = g_uuid_string_random ();
  stmt = _sg_store_prepare (store,
      "INSERT INTO processes (uuid, title, org_id, account_manager, deliverable, deliverable_kind, "
      "  deliverable_type, value_minor, currency, cost_minor, lead_source_id, pipeline_id, stage_id, status, "
      "  opened_at, expected_close, stage_since, created_by, created_at, updated_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 'open', ?14, ?15, ?14, ?16, ?17, ?17)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, uuid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, spec->title, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, org_id);
  sqlite3_bind_text (stmt, 4, owner, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, deliverable, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, spec->deliverable_type, -1, SQLITE_STATIC);
  if (spec->has_value)
    sqlite3_bind_int64 (stmt, 8, spec->value_minor);
  sqlite3_bind_text (stmt, 9, spec->currency, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 10, spec->cost_minor);
  if (source_id > 0)
    sqlite3_bind_int64 (stmt, 11, source_id);
  sqlite3_bind_int64 (stmt, 12, pipeline_id);
  sqlite3_bind_int64 (stmt, 13, stage.id);
  sqlite3_bind_int64 (stmt, 14, opened);
  if (spec->expected_close)
    sqlite3_bind_int64 (stmt, 15, spec->expected_close);
  sqlite3_bind_text (stmt, 16, by, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 17, now);
  if (!_sg_store_exec_stmt (store, stmt, error))
    goto fail;
  process_id = sqlite3_last_insert_rowid (_sg_store_get_db (store));

  b = _sg_json_begin ();
  _sg_json_str (b, "organisation", org_domain);
  _sg_json_str (b, "title", spec->title);
  _sg_json_str (b, "account_manager", owner);
  _sg_json_str (b, "deliverable", deliverable);
  _sg_json_str (b, "deliverable_kind", kind);
  _sg_json_str (b, "deliverable_type", spec->deliverable_type);
  _sg_json_int_or_null (b, "value_minor", spec->has_value, spec->value_minor);
  _sg_json_str (b, "currency", spec->currency);
  _sg_json_int (b, "cost_minor", spec->cost_minor);
  _sg_json_str (b, "lead_source", spec->lead_source);
  _sg_json_str (b, "pipeline", pipeline);
  _sg_json_str (b, "stage", stage.name);
  _sg_json_str (b, "status", "open");
  _sg_json_int (b, "opened_at", opened);
  _sg_json_int_or_null (b, "expected_close", spec->expected_close != 0, spec->expected_close);
  if (!log_process (store, uuid, b, error) ||
      !add_history (store, process_id, uuid, "open", NULL, stage.name, by, opened, NULL, error))
    goto fail;
  if (!sg_store_commit (store, error))
    return NULL;
  return g_steal_pointer (&uuid);
fail:
  sg_store_rollback (store);
  return NULL;
}

/* --- moves -------------------------------------------------------------------------- */

static gboolean
apply_move (SgStore *store, const Proc *p, const StageInfo *to, const char *event, const char *reason,
            const char *by, GError **error)
{
  const char *status;
  gint64 now = _sg_store_now (store);
  sqlite3_stmt *stmt;
  JsonBuilder *b;
  gboolean closing = to->kind == SG_STAGE_WON || to->kind == SG_STAGE_LOST;

  switch (to->kind) {
  case SG_STAGE_WON:
  case SG_STAGE_POST:
    status = "won";
    break;
  case SG_STAGE_LOST:
    status = "lost";
    break;
  default:
    status = "open";
    break;
  }
  stmt = _sg_store_prepare (store,
      "UPDATE processes SET stage_id = ?2, status = ?3, stage_since = ?4, updated_at = ?4, "
      "  closed_at = CASE WHEN ?5 THEN ?4 WHEN ?3 = 'open' THEN NULL ELSE closed_at END, "
      "  lost_reason = CASE WHEN ?3 = 'lost' THEN ?6 WHEN ?3 = 'open' THEN NULL ELSE lost_reason END "
      "WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, p->id);
  sqlite3_bind_int64 (stmt, 2, to->id);
  sqlite3_bind_text (stmt, 3, status, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, now);
  sqlite3_bind_int (stmt, 5, closing);
  sqlite3_bind_text (stmt, 6, reason, -1, SQLITE_TRANSIENT);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return FALSE;
  b = _sg_json_begin ();
  _sg_json_str (b, "stage", to->name);
  _sg_json_str (b, "status", status);
  if (closing)
    _sg_json_int (b, "closed_at", now);
  else if (strcmp (status, "open") == 0)
    _sg_json_str (b, "closed_at", NULL);
  if (to->kind == SG_STAGE_LOST || strcmp (status, "open") == 0)
    _sg_json_str (b, "lost_reason", to->kind == SG_STAGE_LOST ? reason : NULL);
  if (!log_process (store, p->uuid, b, error) ||
      !add_history (store, p->id, p->uuid, event, p->stage, to->name, by, now, reason, error))
    return FALSE;
  /* A suggestion of the stage moved to is accepted; those of stages now passed (at or
   * before the new one) are dismissed, as are all when the process closes. */
  stmt = _sg_store_prepare (store,
      "UPDATE stage_suggestions SET status = CASE WHEN stage = ?2 THEN 'accepted' ELSE 'dismissed' END "
      "WHERE process_id = ?1 AND status = 'open' AND (stage = ?2 OR ?3 != 'open' OR stage IN "
      "  (SELECT name FROM stages WHERE pipeline_id = ?4 AND position <= ?5))", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, p->id);
  sqlite3_bind_text (stmt, 2, to->name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, status, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, p->pipeline_id);
  sqlite3_bind_int (stmt, 5, to->position);
  return _sg_store_exec_stmt (store, stmt, error);
}

/* Why the rules refuse the move, or NULL when allowed. (transfer full) */
static char *
refuse_move (const Proc *p, const StageInfo *to)
{
  if (to->id == p->stage_id)
    return g_strdup_printf ("sales process %s is already in stage “%s”", p->uuid, p->stage);
  switch (p->kind) {
  case SG_STAGE_LOST:
    return g_strdup_printf ("sales process %s is closed (“%s”): reopen it before moving it", p->uuid, p->stage);
  case SG_STAGE_WON:
  case SG_STAGE_POST:
    if (to->kind == SG_STAGE_POST)
      return NULL;
    return g_strdup_printf ("sales process %s is closed (“%s”): reopen it before moving it to “%s”", p->uuid,
                            p->stage, to->name);
  default:
    if (to->kind == SG_STAGE_POST)
      return g_strdup_printf ("“%s” comes after a won close: close sales process %s as won first", to->name,
                              p->uuid);
    return NULL;
  }
}

gboolean
sg_process_move (SgStore *store, const char *uuid, const char *stage, const char *reason,
                 const char *actor, GError **error)
{
  g_autofree char *by = norm_actor (actor);
  g_auto (Proc) p = { 0 };
  g_auto (StageInfo) to = { 0 };
  g_autofree char *why = NULL;

  if (stage == NULL) {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_UNKNOWN_STAGE, "no stage given");
    return FALSE;
  }
  if (!sg_store_begin (store, error))
    return FALSE;
  if (!load_proc (store, uuid, &p, error) || !find_stage (store, p.pipeline_id, stage, &to, error))
    goto fail;
  if ((why = refuse_move (&p, &to)) != NULL) {
    g_set_error_literal (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID_MOVE, why);
    goto fail;
  }
  if (!apply_move (store, &p, &to,
                   to.kind == SG_STAGE_WON || to.kind == SG_STAGE_LOST ? "close" : "move", reason, by, error))
    goto fail;
  return sg_store_commit (store, error);
fail:
  sg_store_rollback (store);
  return FALSE;
}

gboolean
sg_process_close (SgStore *store, const char *uuid, gboolean won, const char *reason,
                  const char *actor, GError **error)
{
  g_autofree char *stage = NULL;
  g_auto (Proc) p = { 0 };
  sqlite3_stmt *stmt;

  if (!load_proc (store, uuid, &p, error))
    return FALSE;
  stmt = _sg_store_prepare (store,
      "SELECT name FROM stages WHERE pipeline_id = ? AND kind = ? AND retired = 0 ORDER BY position LIMIT 1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, p.pipeline_id);
  sqlite3_bind_text (stmt, 2, won ? "won" : "lost", -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    stage = g_strdup (_SG_COL_TEXT (stmt, 0));
  sqlite3_reset (stmt);
  if (stage == NULL) {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_UNKNOWN_STAGE, "the pipeline of %s has no %s stage",
                 uuid, won ? "won" : "lost");
    return FALSE;
  }
  if (strcmp (p.status, "open") != 0) {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID_MOVE,
                 "sales process %s is already closed (“%s”): reopen it first", uuid, p.stage);
    return FALSE;
  }
  return sg_process_move (store, uuid, stage, reason, actor, error);
}

gboolean
sg_process_reopen (SgStore *store, const char *uuid, const char *stage, const char *actor,
                   GError **error)
{
  g_autofree char *by = norm_actor (actor);
  g_autofree char *back = NULL;
  g_auto (Proc) p = { 0 };
  g_auto (StageInfo) to = { 0 };

  if (!sg_store_begin (store, error))
    return FALSE;
  if (!load_proc (store, uuid, &p, error))
    goto fail;
  if (strcmp (p.status, "open") == 0) {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID_MOVE,
                 "sales process %s is open (“%s”): there is nothing to reopen", uuid, p.stage);
    goto fail;
  }
  if (stage == NULL) {
    /* The open stage it was in last, from the history. */
    sqlite3_stmt *stmt = _sg_store_prepare (store,
        "SELECT h.to_stage FROM stage_history h JOIN stages s ON s.pipeline_id = ?2 AND s.name = h.to_stage "
        "WHERE h.process_id = ?1 AND s.kind = 'open' AND s.retired = 0 "
        "ORDER BY coalesce(h.hlc, h.moved_at * 65536000) DESC, h.id DESC LIMIT 1", error);

    if (stmt == NULL)
      goto fail;
    sqlite3_bind_int64 (stmt, 1, p.id);
    sqlite3_bind_int64 (stmt, 2, p.pipeline_id);
    if (sqlite3_step (stmt) == SQLITE_ROW)
      back = g_strdup (_SG_COL_TEXT (stmt, 0));
    sqlite3_reset (stmt);
    stage = back;
  }
  if (!find_stage (store, p.pipeline_id, stage, &to, error))
    goto fail;
  if (to.kind != SG_STAGE_OPEN) {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID_MOVE,
                 "a sales process is reopened into an open stage, not “%s” (%s)", to.name,
                 sg_stage_kind_to_string (to.kind));
    goto fail;
  }
  if (!apply_move (store, &p, &to, "reopen", NULL, by, error))
    goto fail;
  return sg_store_commit (store, error);
fail:
  sg_store_rollback (store);
  return FALSE;
}

gboolean
sg_process_set_field (SgStore *store, const char *uuid, SgProcessField field, const char *text,
                      const char *actor, GError **error)
{
  static const char *const columns[] = { "value_minor", "currency", "cost_minor", "account_manager",
                                         "expected_close", "lead_source_id", "title" };
  static const char *const keys[] = { "value_minor", "currency", "cost_minor", "account_manager",
                                      "expected_close", "lead_source", "title" };
  g_auto (Proc) p = { 0 };
  g_autofree char *sql = NULL;
  g_autofree char *norm = NULL;
  sqlite3_stmt *stmt;
  gint64 n = 0;
  gboolean is_int = FALSE;
  JsonBuilder *b;

  g_return_val_if_fail ((guint) field < G_N_ELEMENTS (columns), FALSE);
  if (!sg_store_begin (store, error))
    return FALSE;
  if (!load_proc (store, uuid, &p, error))
    goto fail;
  switch (field) {
  case SG_PROCESS_FIELD_VALUE:
  case SG_PROCESS_FIELD_COST:
    if (field == SG_PROCESS_FIELD_VALUE && p.currency == NULL) {
      g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID, "set the currency of %s first", uuid);
      goto fail;
    }
    if (!sg_money_parse (text, p.currency, &n, error))
      goto fail;
    is_int = TRUE;
    break;
  case SG_PROCESS_FIELD_CURRENCY:
    if (!valid_currency (text)) {
      g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID,
                   "currency “%s” is not an ISO 4217 code (three capital letters, such as EUR)", text ? text : "");
      goto fail;
    }
    break;
  case SG_PROCESS_FIELD_ACCOUNT_MANAGER:
    if ((norm = sg_address_normalize (text, NULL)) == NULL) {
      g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID, "“%s” is not an address", text ? text : "");
      goto fail;
    }
    text = norm;
    break;
  case SG_PROCESS_FIELD_EXPECTED_CLOSE:
    if (!_sg_parse_date (text, &n)) {
      g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID, "“%s” is not a date (YYYY-MM-DD)",
                   text ? text : "");
      goto fail;
    }
    is_int = TRUE;
    break;
  case SG_PROCESS_FIELD_LEAD_SOURCE:
    if ((n = lead_source_id (store, text ? text : "", error)) < 0)
      goto fail;
    is_int = TRUE;
    break;
  default:
    break;
  }
  sql = g_strdup_printf ("UPDATE processes SET %s = ?, updated_at = ? WHERE id = ?", columns[field]);
  /* Not cached: one statement per field would fill the cache for a rare write. */
  if (sqlite3_prepare_v2 (_sg_store_get_db (store), sql, -1, &stmt, NULL) != SQLITE_OK) {
    _sg_store_set_error (store, error, "update");
    goto fail;
  }
  if (is_int)
    sqlite3_bind_int64 (stmt, 1, n);
  else
    sqlite3_bind_text (stmt, 1, text, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, _sg_now ());
  sqlite3_bind_int64 (stmt, 3, p.id);
  if (sqlite3_step (stmt) != SQLITE_DONE) {
    sqlite3_finalize (stmt);
    _sg_store_set_error (store, error, "update");
    goto fail;
  }
  sqlite3_finalize (stmt);
  b = _sg_json_begin ();
  if (field == SG_PROCESS_FIELD_LEAD_SOURCE || !is_int)
    _sg_json_str (b, keys[field], text);
  else
    _sg_json_int (b, keys[field], n);
  {
    g_autofree char *by = norm_actor (actor);

    _sg_json_str (b, "updated_by", by);
  }
  if (!log_process (store, uuid, b, error))
    goto fail;
  return sg_store_commit (store, error);
fail:
  sg_store_rollback (store);
  return FALSE;
}

/* --- contacts ----------------------------------------------------------------------- */

static gboolean
valid_part (const char *part, GError **error)
{
  static const char *const parts[] = { "decision-maker", "influencer", "user", "gatekeeper", "buyer",
                                       "champion", "contact", NULL };

  if (part != NULL && g_strv_contains (parts, part))
    return TRUE;
  g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID,
               "“%s” is not a part in the buying process (decision-maker, influencer, user, gatekeeper, "
               "buyer, champion, contact)", part ? part : "");
  return FALSE;
}

static gboolean
change_contact (SgStore *store, const char *uuid, const char *address, const char *part, gboolean add,
                const char *actor, GError **error)
{
  g_autofree char *by = norm_actor (actor);
  g_autofree char *norm = NULL;
  g_autofree char *key = NULL;
  g_auto (Proc) p = { 0 };
  sqlite3_stmt *stmt;
  gint64 person;
  JsonBuilder *b;

  if (part == NULL)
    part = "contact";
  if (!valid_part (part, error))
    return FALSE;
  if (!sg_store_begin (store, error))
    return FALSE;
  if (!load_proc (store, uuid, &p, error) || (person = require_person (store, address, error)) < 0)
    goto fail;
  if (add) {
    /* The contacts are the customer's side: not the user, not colleagues. */
    g_autofree char *kind = NULL;

    stmt = _sg_store_prepare (store, "SELECT kind FROM people WHERE id = ?", error);
    if (stmt == NULL)
      goto fail;
    sqlite3_bind_int64 (stmt, 1, person);
    if (sqlite3_step (stmt) == SQLITE_ROW)
      kind = g_strdup (_SG_COL_TEXT (stmt, 0));
    sqlite3_reset (stmt);
    if (g_strcmp0 (kind, "contact") != 0) {
      g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID,
                   "%s is %s, not a contact of the customer's side", address,
                   g_strcmp0 (kind, "self") == 0 ? "you" : "a colleague");
      goto fail;
    }
  }
  if (add)
    stmt = _sg_store_prepare (store,
        "INSERT INTO process_contacts (process_id, person_id, part, added_by, added_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING", error);
  else
    stmt = _sg_store_prepare (store, "DELETE FROM process_contacts WHERE process_id = ? AND person_id = ? AND part = ?",
                              error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, p.id);
  sqlite3_bind_int64 (stmt, 2, person);
  sqlite3_bind_text (stmt, 3, part, -1, SQLITE_STATIC);
  if (add) {
    sqlite3_bind_text (stmt, 4, by, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 5, _sg_now ());
  }
  if (!_sg_store_exec_stmt (store, stmt, error))
    goto fail;
  if (sqlite3_changes (_sg_store_get_db (store)) == 0) {
    if (!add) {
      g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_NOT_FOUND, "%s is not a %s of sales process %s",
                   address, part, uuid);
      goto fail;
    }
    return sg_store_commit (store, error);
  }
  norm = _sg_person_address (store, person);
  key = g_strdup_printf ("%s|%s|%s", uuid, norm, part);
  b = _sg_json_begin ();
  _sg_json_str (b, "by", by);
  if (!_sg_log_json (store, "process_contact", key, add ? "add" : "remove", b, error))
    goto fail;
  return sg_store_commit (store, error);
fail:
  sg_store_rollback (store);
  return FALSE;
}

gboolean
sg_process_add_contact (SgStore *store, const char *uuid, const char *address, const char *part,
                        const char *actor, GError **error)
{
  return change_contact (store, uuid, address, part, TRUE, actor, error);
}

gboolean
sg_process_remove_contact (SgStore *store, const char *uuid, const char *address, const char *part,
                           const char *actor, GError **error)
{
  return change_contact (store, uuid, address, part, FALSE, actor, error);
}

/* --- listings ----------------------------------------------------------------------- */

SgTable *
sg_process_query (SgStore *store, const SgProcessQuery *query, GError **error)
{
  /* Three statements, so that the common look-ups (one organisation, one person: the
   * insight beside a message) use the indexes rather than an "?1 IS NULL OR" scan. */
#define PROCESS_SQL(where)                                                                                   \
  "SELECT p.uuid, coalesce(o.name, o.domain), p.deliverable, s.name, p.status, p.value_minor, p.currency, "   \
  "  p.account_manager, p.last_activity, p.title, o.domain, pl.name, s.position, s.probability, "             \
  "  p.deliverable_kind, p.deliverable_type, p.value_minor, p.cost_minor, p.cost_minor, ls.name, p.opened_at, " \
  "  p.expected_close, p.closed_at, p.stage_since, p.lost_reason, "                                           \
  "  (SELECT group_concat(a, ',') FROM (SELECT (SELECT address FROM addresses WHERE person_id = pc.person_id " \
  "     ORDER BY id LIMIT 1) || ':' || pc.part AS a FROM process_contacts pc WHERE pc.process_id = p.id "      \
  "     ORDER BY pc.added_at, pc.person_id, pc.part)), "                                                      \
  "  (SELECT count(*) FROM interaction_links il WHERE il.process_id = p.id AND il.removed = 0), "              \
  "  (SELECT count(*) FROM stage_suggestions ss WHERE ss.process_id = p.id AND ss.status = 'open'), p.id "    \
  "FROM processes p JOIN organisations o ON o.id = p.org_id JOIN pipelines pl ON pl.id = p.pipeline_id "      \
  "  JOIN stages s ON s.id = p.stage_id LEFT JOIN lead_sources ls ON ls.id = p.lead_source_id "               \
  "WHERE " where " "                                                                                          \
  "  AND (?4 IS NULL OR p.account_manager = ?4) AND (?5 IS NULL OR pl.name = ?5) "                            \
  "  AND (?6 IS NULL OR p.status = ?6 OR (?6 = 'closed' AND p.status != 'open')) "                            \
  "  AND (?7 IS NULL OR p.uuid = ?7) "                                                                        \
  "ORDER BY p.status != 'open', coalesce(p.last_activity, p.opened_at) DESC, p.id LIMIT ?8"
  static const char *sql_any = PROCESS_SQL (
    "(?1 IS NULL OR p.org_id = ?1) "
    "AND (?2 IS NULL OR p.org_id = ?3 OR p.id IN (SELECT process_id FROM process_contacts WHERE person_id = ?2))");
  static const char *sql_org = PROCESS_SQL ("p.org_id = ?1");
  static const char *sql_person = PROCESS_SQL (
    "(p.org_id = ?3 OR p.id IN (SELECT process_id FROM process_contacts WHERE person_id = ?2))");
#undef PROCESS_SQL
  const char *sql;
  static const struct {
    const char *name;
    SgColumnType type;
    SgColumnFlags flags;
  } cols[] = {
    { "id", SG_COLUMN_TEXT, 0 }, { "organisation", SG_COLUMN_TEXT, 0 }, { "deliverable", SG_COLUMN_TEXT, 0 },
    { "stage", SG_COLUMN_TEXT, 0 }, { "status", SG_COLUMN_TEXT, 0 }, { "value", SG_COLUMN_TEXT, 0 },
    { "currency", SG_COLUMN_TEXT, 0 }, { "owner", SG_COLUMN_TEXT, 0 }, { "last_activity", SG_COLUMN_TIME, 0 },
    { "title", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL }, { "org_domain", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL },
    { "pipeline", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL }, { "stage_position", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL },
    { "probability", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL },
    { "deliverable_kind", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL },
    { "deliverable_type", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL },
    { "value_minor", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL }, { "cost", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL },
    { "cost_minor", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL }, { "lead_source", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL },
    { "opened", SG_COLUMN_TIME, SG_COLUMN_FLAG_DETAIL }, { "expected_close", SG_COLUMN_TIME, SG_COLUMN_FLAG_DETAIL },
    { "closed", SG_COLUMN_TIME, SG_COLUMN_FLAG_DETAIL }, { "stage_since", SG_COLUMN_TIME, SG_COLUMN_FLAG_DETAIL },
    { "lost_reason", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL }, { "contacts", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL },
    { "links", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL }, { "open_suggestions", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL },
    { "local_id", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL },
  };
  SgProcessQuery defaults = { 0 };
  g_autofree char *owner = NULL;
  gint64 org = 0, person = 0, person_org = 0;
  sqlite3_stmt *stmt;
  SgTable *t;
  int rc;

  if (query == NULL)
    query = &defaults;
  if (query->status != NULL && !g_strv_contains ((const char *const[]) { "open", "won", "lost", "closed", NULL },
                                                 query->status)) {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID,
                 "status “%s” is not open, won, lost or closed", query->status);
    return NULL;
  }
  if (query->organisation != NULL && (org = require_org (store, query->organisation, error)) < 0)
    return NULL;
  if (query->person != NULL) {
    if ((person = require_person (store, query->person, error)) < 0)
      return NULL;
    stmt = _sg_store_prepare (store, "SELECT org_id FROM people WHERE id = ?", error);
    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64 (stmt, 1, person);
    if (sqlite3_step (stmt) == SQLITE_ROW)
      person_org = sqlite3_column_int64 (stmt, 0);
    sqlite3_reset (stmt);
  }
  if (query->owner != NULL)
    owner = sg_address_normalize (query->owner, NULL);
  sql = org && !person ? sql_org : person && !org ? sql_person : sql_any;
  stmt = _sg_store_prepare (store, sql, error);
  if (stmt == NULL)
    return NULL;
  if (org)
    sqlite3_bind_int64 (stmt, 1, org);
  if (person) {
    sqlite3_bind_int64 (stmt, 2, person);
    sqlite3_bind_int64 (stmt, 3, person_org);
  }
  sqlite3_bind_text (stmt, 4, owner ? owner : query->owner, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, query->pipeline, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 6, query->status, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 7, query->uuid, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 8, query->limit ? (gint64) query->limit : -1);

  t = sg_table_new ();
  for (guint i = 0; i < G_N_ELEMENTS (cols); i++)
    sg_table_add_column (t, cols[i].name, cols[i].type, cols[i].flags);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    const char *currency = _SG_COL_TEXT (stmt, 6);

    sg_table_append_row (t);
    for (guint c = 0; c < G_N_ELEMENTS (cols); c++) {
      int i = (int) c;

      if (sqlite3_column_type (stmt, i) == SQLITE_NULL)
        continue;
      if (strcmp (cols[c].name, "value") == 0 || strcmp (cols[c].name, "cost") == 0)
        sg_table_take_text (t, c, sg_money_format (sqlite3_column_int64 (stmt, i), currency));
      else if (cols[c].type == SG_COLUMN_TEXT)
        sg_table_set_text (t, c, _SG_COL_TEXT (stmt, i));
      else
        sg_table_set_int (t, c, sqlite3_column_int64 (stmt, i));
    }
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "processes");
    sg_table_free (t);
    return NULL;
  }
  return t;
}

static SgTable *
process_table (SgStore *store, const char *uuid, const char *sql, const char *const *names,
               const SgColumnType *types, guint n_detail_from, GError **error)
{
  g_auto (Proc) p = { 0 };
  sqlite3_stmt *stmt;
  SgTable *t;

  if (!load_proc (store, uuid, &p, error))
    return NULL;
  stmt = _sg_store_prepare (store, sql, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, p.id);
  t = sg_table_new ();
  for (guint i = 0; names[i]; i++)
    sg_table_add_column (t, names[i], types[i], i >= n_detail_from ? SG_COLUMN_FLAG_DETAIL : 0);
  if (!_sg_table_fill (store, t, stmt, error)) {
    sg_table_free (t);
    return NULL;
  }
  return t;
}

SgTable *
sg_process_history (SgStore *store, const char *uuid, GError **error)
{
  static const char *const names[] = { "at", "event", "from_stage", "to_stage", "by", "note", NULL };
  static const SgColumnType types[] = { SG_COLUMN_TIME, SG_COLUMN_TEXT, SG_COLUMN_TEXT, SG_COLUMN_TEXT,
                                        SG_COLUMN_TEXT, SG_COLUMN_TEXT };

  return process_table (store, uuid,
                        "SELECT h.moved_at, h.event, h.from_stage, h.to_stage, h.moved_by, h.note FROM stage_history h "
                        "WHERE h.process_id = ? ORDER BY " SG_HISTORY_ORDER ("h"), names, types, 99, error);
}

SgTable *
sg_process_contacts (SgStore *store, const char *uuid, GError **error)
{
  static const char *const names[] = { "name", "email", "part", "added", "added_by", NULL };
  static const SgColumnType types[] = { SG_COLUMN_TEXT, SG_COLUMN_TEXT, SG_COLUMN_TEXT, SG_COLUMN_TIME,
                                        SG_COLUMN_TEXT };

  return process_table (store, uuid,
                        "SELECT pe.name, (SELECT address FROM addresses WHERE person_id = pe.id ORDER BY id LIMIT 1), "
                        "  pc.part, pc.added_at, pc.added_by FROM process_contacts pc JOIN people pe ON pe.id = pc.person_id "
                        "WHERE pc.process_id = ? ORDER BY pc.added_at, pc.person_id, pc.part", names, types, 4, error);
}

SgTable *
sg_process_links (SgStore *store, const char *uuid, GError **error)
{
  static const char *const names[] = { "date", "direction", "subject", "origin", "reason", "message_id", NULL };
  static const SgColumnType types[] = { SG_COLUMN_TIME, SG_COLUMN_TEXT, SG_COLUMN_TEXT, SG_COLUMN_TEXT,
                                        SG_COLUMN_TEXT, SG_COLUMN_TEXT };

  return process_table (store, uuid,
                        "SELECT i.date_utc, i.direction, i.subject, l.origin, l.reason, i.message_id "
                        "FROM interaction_links l JOIN interactions i ON i.id = l.interaction_id "
                        "WHERE l.process_id = ? AND l.removed = 0 ORDER BY i.date_utc DESC, i.id DESC",
                        names, types, 5, error);
}

SgTable *
sg_process_suggestions (SgStore *store, const char *uuid, GError **error)
{
  g_auto (Proc) p = { 0 };
  sqlite3_stmt *stmt;
  SgTable *t;

  if (uuid != NULL && !load_proc (store, uuid, &p, error))
    return NULL;
  stmt = _sg_store_prepare (store,
      "SELECT p.uuid, coalesce(o.name, o.domain), s.name, g.stage, g.reason, i.date_utc, g.id, i.message_id "
      "FROM stage_suggestions g JOIN processes p ON p.id = g.process_id JOIN organisations o ON o.id = p.org_id "
      "  JOIN stages s ON s.id = p.stage_id LEFT JOIN interactions i ON i.id = g.interaction_id "
      "WHERE g.status = 'open' AND (?1 = 0 OR g.process_id = ?1) ORDER BY i.date_utc DESC, g.id DESC", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, p.id);
  t = sg_table_new ();
  sg_table_add_column (t, "process", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "organisation", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "current_stage", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "suggested_stage", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "reason", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "date", SG_COLUMN_TIME, 0);
  sg_table_add_column (t, "suggestion_id", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "message_id", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  if (!_sg_table_fill (store, t, stmt, error)) {
    sg_table_free (t);
    return NULL;
  }
  return t;
}

gboolean
sg_process_dismiss_suggestion (SgStore *store, gint64 suggestion_id, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "UPDATE stage_suggestions SET status = 'dismissed' WHERE id = ? AND status = 'open'", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, suggestion_id);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return FALSE;
  if (sqlite3_changes (_sg_store_get_db (store)) == 0) {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_NOT_FOUND, "no open stage suggestion %" G_GINT64_FORMAT,
                 suggestion_id);
    return FALSE;
  }
  return TRUE;
}

/* --- linking ------------------------------------------------------------------------ */

typedef struct {
  gint64 id;
  char *uuid;
  char *topics[3]; /* deliverable, type, title: casefolded, nullable */
  char *domain;
  gint64 activity;
  gint64 pipeline_id;
  int position;
  int n_contacts;
} Candidate;

static void
candidate_clear (gpointer data)
{
  Candidate *c = data;

  g_free (c->uuid);
  g_free (c->domain);
  for (guint i = 0; i < 3; i++)
    g_free (c->topics[i]);
}

static const char *
topic_match (const Candidate *c, const char *subject_folded)
{
  for (guint i = 0; i < 3; i++) {
    if (c->topics[i] != NULL && strlen (c->topics[i]) >= 3 && subject_folded != NULL &&
        strstr (subject_folded, c->topics[i]) != NULL)
      return c->topics[i];
  }
  return NULL;
}

static char *
fold (const char *s)
{
  return s ? g_utf8_casefold (s, -1) : NULL;
}

/* Makes a stage suggestion for @c from the interaction's subject and tags: the furthest
 * stage after the current one whose keyword (or name) appears. Returns: 1 when one was
 * made, 0 when none, -1 on error. */
static int
suggest (SgStore *store, const Candidate *c, gint64 interaction_id, const char *subject_folded,
         GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "SELECT name, keywords, "
      "  (SELECT group_concat(t.name, char(31)) FROM tag_assignments ta JOIN tags t ON t.id = ta.tag_id "
      "   WHERE ta.entity_type = 'interaction' AND ta.entity_id = ?3 AND ta.removed = 0) "
      "FROM stages WHERE pipeline_id = ?1 AND position > ?2 AND kind IN ('open', 'won') AND retired = 0 "
      "ORDER BY position DESC", error);
  g_autofree char *stage = NULL;
  g_autofree char *reason = NULL;
  int rc;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, c->pipeline_id);
  sqlite3_bind_int (stmt, 2, c->position);
  sqlite3_bind_int64 (stmt, 3, interaction_id);
  while (stage == NULL && (rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    const char *name = _SG_COL_TEXT (stmt, 0);
    g_auto (GStrv) words = g_strsplit (_SG_COL_TEXT (stmt, 1) ? _SG_COL_TEXT (stmt, 1) : "", ";", -1);
    g_auto (GStrv) tags = g_strsplit (_SG_COL_TEXT (stmt, 2) ? _SG_COL_TEXT (stmt, 2) : "", "\x1f", -1);
    g_autofree char *name_folded = fold (name);

    for (guint t = 0; tags[t] && stage == NULL; t++) {
      g_autofree char *tf = fold (tags[t]);

      if (*tf && (strcmp (tf, name_folded) == 0 || g_strv_contains ((const char *const *) words, tags[t]))) {
        stage = g_strdup (name);
        reason = g_strdup_printf ("tagged “%s”", tags[t]);
      }
    }
    for (guint w = 0; words[w] && stage == NULL && subject_folded; w++) {
      g_autofree char *wf = fold (g_strstrip (words[w]));

      if (wf != NULL && *wf && strstr (subject_folded, wf) != NULL) {
        stage = g_strdup (name);
        reason = g_strdup_printf ("the subject mentions “%s”", words[w]);
      }
    }
  }
  sqlite3_reset (stmt);
  if (stage == NULL)
    return 0;
  stmt = _sg_store_prepare (store,
      "INSERT INTO stage_suggestions (process_id, stage, interaction_id, reason, created_at) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT DO NOTHING", error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, c->id);
  sqlite3_bind_text (stmt, 2, stage, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, interaction_id);
  sqlite3_bind_text (stmt, 4, reason, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, _sg_now ());
  if (!_sg_store_exec_stmt (store, stmt, error))
    return -1;
  return sqlite3_changes (_sg_store_get_db (store)) > 0 ? 1 : 0;
}

static gboolean
write_link (SgStore *store, gint64 interaction_id, const char *message_id, gint64 process_id,
            const char *uuid, const char *origin, const char *reason, gboolean removed, const char *by,
            gint64 date, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "INSERT INTO interaction_links (interaction_id, process_id, origin, reason, removed, linked_by, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (interaction_id, process_id) DO UPDATE SET "
      "  origin = ?3, reason = ?4, removed = ?5, linked_by = ?6", error);
  g_autofree char *key = NULL;
  JsonBuilder *b;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, interaction_id);
  sqlite3_bind_int64 (stmt, 2, process_id);
  sqlite3_bind_text (stmt, 3, origin, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, reason, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 5, removed);
  sqlite3_bind_text (stmt, 6, by, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 7, _sg_now ());
  if (!_sg_store_exec_stmt (store, stmt, error))
    return FALSE;
  if (!removed) {
    stmt = _sg_store_prepare (store,
        "UPDATE processes SET last_activity = ?2 WHERE id = ?1 AND (last_activity IS NULL OR last_activity < ?2)",
        error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, process_id);
    sqlite3_bind_int64 (stmt, 2, date);
    if (!_sg_store_exec_stmt (store, stmt, error))
      return FALSE;
  }
  key = g_strdup_printf ("%s|%s", message_id, uuid);
  b = _sg_json_begin ();
  _sg_json_str (b, "origin", origin);
  _sg_json_str (b, "reason", reason);
  _sg_json_str (b, "by", by);
  return _sg_log_json (store, "interaction_link", key, removed ? "remove" : "add", b, error);
}

static gboolean
link_one (SgStore *store, gint64 iid, const char *message_id, const char *subject, gint64 date,
          guint *n_linked, guint *n_suggested, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "SELECT p.id, p.uuid, p.deliverable, p.deliverable_type, p.title, o.domain, "
      "  coalesce(p.last_activity, p.opened_at), p.pipeline_id, s.position, "
      "  (SELECT count(DISTINCT pc.person_id) FROM process_contacts pc JOIN addresses a ON a.person_id = pc.person_id "
      "     JOIN participants pa ON pa.address_id = a.id AND pa.interaction_id = ?1 WHERE pc.process_id = p.id) "
      "FROM processes p JOIN organisations o ON o.id = p.org_id JOIN stages s ON s.id = p.stage_id "
      "WHERE p.status = 'open' AND p.opened_at - ?3 <= ?2 AND p.org_id IN ("
      "  SELECT od.org_id FROM participants pa JOIN addresses a ON a.id = pa.address_id "
      "    JOIN org_domains od ON od.domain = a.org_domain WHERE pa.interaction_id = ?1 "
      "  UNION SELECT pe.org_id FROM participants pa JOIN addresses a ON a.id = pa.address_id "
      "    JOIN people pe ON pe.id = a.person_id WHERE pa.interaction_id = ?1 AND pe.org_id IS NOT NULL) "
      "ORDER BY p.id", error);
  g_autoptr (GArray) cands = g_array_new (FALSE, TRUE, sizeof (Candidate));
  g_autofree char *subject_folded = fold (subject);
  g_autofree char *reason = NULL;
  const Candidate *best = NULL;
  const char *best_topic = NULL;
  int rc, n_best_contacts = -1;
  gboolean tie_topic = FALSE, tie_recent = FALSE;

  g_array_set_clear_func (cands, candidate_clear);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, iid);
  sqlite3_bind_int64 (stmt, 2, date);
  sqlite3_bind_int64 (stmt, 3, LINK_LOOKBEHIND);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    Candidate c = { 0 };

    c.id = sqlite3_column_int64 (stmt, 0);
    c.uuid = g_strdup (_SG_COL_TEXT (stmt, 1));
    for (guint i = 0; i < 3; i++)
      c.topics[i] = fold (_SG_COL_TEXT (stmt, 2 + (int) i));
    c.domain = g_strdup (_SG_COL_TEXT (stmt, 5));
    c.activity = sqlite3_column_int64 (stmt, 6);
    c.pipeline_id = sqlite3_column_int64 (stmt, 7);
    c.position = sqlite3_column_int (stmt, 8);
    c.n_contacts = sqlite3_column_int (stmt, 9);
    g_array_append_val (cands, c);
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "link");
    return FALSE;
  }
  if (cands->len == 0)
    return TRUE;
  /* Most contacts taking part, then topic, then most recent activity. */
  for (guint i = 0; i < cands->len; i++)
    n_best_contacts = MAX (n_best_contacts, g_array_index (cands, Candidate, i).n_contacts);
  {
    guint n_top = 0, n_topic = 0;

    for (guint i = 0; i < cands->len; i++) {
      const Candidate *c = &g_array_index (cands, Candidate, i);

      if (c->n_contacts != n_best_contacts)
        continue;
      n_top++;
      if (topic_match (c, subject_folded))
        n_topic++;
    }
    for (guint i = 0; i < cands->len; i++) {
      const Candidate *c = &g_array_index (cands, Candidate, i);

      if (c->n_contacts != n_best_contacts || (n_topic > 0 && !topic_match (c, subject_folded)))
        continue;
      if (best == NULL || c->activity > best->activity)
        best = c;
    }
    tie_topic = n_top > 1 && n_topic > 0;
    tie_recent = (n_topic > 1) || (n_topic == 0 && n_top > 1);
    best_topic = topic_match (best, subject_folded);
  }
  {
    GString *r = g_string_new (NULL);

    g_string_append_printf (r, "organisation %s", best->domain);
    if (best->n_contacts > 0)
      g_string_append_printf (r, "; %d contact%s of the process took part", best->n_contacts,
                              best->n_contacts == 1 ? "" : "s");
    /* The topic is named when it decided between processes with as many contacts taking
     * part, or when there was only one candidate anyway (it confirms the link). */
    if (best_topic != NULL && (tie_topic || cands->len == 1))
      g_string_append_printf (r, "; topic “%s” in the subject", best_topic);
    if (tie_recent)
      g_string_append (r, "; most recent activity among the open processes");
    if (cands->len > 1)
      g_string_append_printf (r, " (%u open processes)", cands->len);
    reason = g_string_free (r, FALSE);
  }
  if (!write_link (store, iid, message_id, best->id, best->uuid, "rule", reason, FALSE, NULL, date, error))
    return FALSE;
  if (n_linked)
    (*n_linked)++;
  rc = suggest (store, best, iid, subject_folded, error);
  if (rc < 0)
    return FALSE;
  if (n_suggested)
    *n_suggested += (guint) rc;
  return TRUE;
}

gboolean
sg_process_link_auto (SgStore *store, gint64 after_id, guint *n_linked, guint *n_suggested,
                      GError **error)
{
  /* Only interactions with an organisation that has an open process, not yet linked or
   * decided by a person, and not list or bulk mail. */
  sqlite3_stmt *stmt;
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  int rc;

  if (n_linked)
    *n_linked = 0;
  if (n_suggested)
    *n_suggested = 0;
  if (!sg_store_begin (store, error))
    return FALSE;
  stmt = _sg_store_prepare (store,
      "SELECT DISTINCT pa.interaction_id FROM processes p JOIN org_domains od ON od.org_id = p.org_id "
      "  JOIN addresses a ON a.org_domain = od.domain JOIN participants pa ON pa.address_id = a.id "
      "WHERE p.status = 'open' AND pa.interaction_id > ?1 "
      "  AND NOT EXISTS (SELECT 1 FROM interaction_links l WHERE l.interaction_id = pa.interaction_id) "
      "ORDER BY pa.interaction_id", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, after_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64 (stmt, 0);

    g_array_append_val (ids, id);
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "link");
    goto fail;
  }
  for (guint i = 0; i < ids->len; i++) {
    g_autofree char *message_id = NULL;
    g_autofree char *subject = NULL;
    gint64 date = 0;
    gboolean skip = TRUE;

    stmt = _sg_store_prepare (store, "SELECT message_id, subject, date_utc, bulk FROM interactions WHERE id = ?", error);
    if (stmt == NULL)
      goto fail;
    sqlite3_bind_int64 (stmt, 1, g_array_index (ids, gint64, i));
    if (sqlite3_step (stmt) == SQLITE_ROW) {
      message_id = g_strdup (_SG_COL_TEXT (stmt, 0));
      subject = g_strdup (_SG_COL_TEXT (stmt, 1));
      date = sqlite3_column_int64 (stmt, 2);
      skip = sqlite3_column_int (stmt, 3) != 0;
    }
    sqlite3_reset (stmt);
    if (skip)
      continue;
    if (!link_one (store, g_array_index (ids, gint64, i), message_id, subject, date, n_linked, n_suggested, error))
      goto fail;
  }
  return sg_store_commit (store, error);
fail:
  sg_store_rollback (store);
  return FALSE;
}

gint64
sg_process_link_watermark (SgStore *store)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store, "SELECT coalesce(max(id), 0) FROM interactions", NULL);
  gint64 id = 0;

  if (stmt == NULL)
    return 0;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return id;
}

static gboolean
find_interaction (SgStore *store, const char *message_id, gint64 *id, gint64 *date, char **key, GError **error)
{
  g_autofree char *mid = g_strdup (message_id ? message_id : "");
  sqlite3_stmt *stmt;
  size_t len;

  g_strstrip (mid);
  len = strlen (mid);
  if (len >= 2 && mid[0] == '<' && mid[len - 1] == '>') {
    mid[len - 1] = '\0';
    memmove (mid, mid + 1, len - 1);
  }
  stmt = _sg_store_prepare (store, "SELECT id, date_utc, message_id FROM interactions WHERE message_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, mid, -1, SQLITE_STATIC);
  *id = 0;
  if (sqlite3_step (stmt) == SQLITE_ROW) {
    *id = sqlite3_column_int64 (stmt, 0);
    *date = sqlite3_column_int64 (stmt, 1);
    *key = g_strdup (_SG_COL_TEXT (stmt, 2));
  }
  sqlite3_reset (stmt);
  if (*id == 0) {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_NOT_FOUND, "no interaction with Message-ID “%s” in the store",
                 mid);
    return FALSE;
  }
  return TRUE;
}

gboolean
sg_process_link (SgStore *store, const char *uuid, const char *message_id, const char *actor,
                 GError **error)
{
  g_autofree char *by = norm_actor (actor);
  g_autofree char *key = NULL;
  g_auto (Proc) p = { 0 };
  g_autoptr (GPtrArray) others = g_ptr_array_new_with_free_func (g_free);
  gint64 iid = 0, date = 0;
  sqlite3_stmt *stmt;
  int rc;

  if (!sg_store_begin (store, error))
    return FALSE;
  if (!load_proc (store, uuid, &p, error) || !find_interaction (store, message_id, &iid, &date, &key, error))
    goto fail;
  /* A move: the interaction's other links go, as the person's decision. */
  stmt = _sg_store_prepare (store,
      "SELECT p.uuid FROM interaction_links l JOIN processes p ON p.id = l.process_id "
      "WHERE l.interaction_id = ? AND l.process_id != ? AND l.removed = 0", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, iid);
  sqlite3_bind_int64 (stmt, 2, p.id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (others, g_strdup (_SG_COL_TEXT (stmt, 0)));
  sqlite3_reset (stmt);
  for (guint i = 0; i < others->len; i++) {
    g_auto (Proc) o = { 0 };

    if (!load_proc (store, others->pdata[i], &o, error) ||
        !write_link (store, iid, key, o.id, o.uuid, "person", "moved to another process", TRUE, by, date, error))
      goto fail;
  }
  if (!write_link (store, iid, key, p.id, p.uuid, "person", "linked by a person", FALSE, by, date, error))
    goto fail;
  return sg_store_commit (store, error);
fail:
  sg_store_rollback (store);
  return FALSE;
}

gboolean
sg_process_unlink (SgStore *store, const char *uuid, const char *message_id, const char *actor,
                   GError **error)
{
  g_autofree char *by = norm_actor (actor);
  g_autofree char *key = NULL;
  g_auto (Proc) p = { 0 };
  gint64 iid = 0, date = 0;

  if (!sg_store_begin (store, error))
    return FALSE;
  if (!load_proc (store, uuid, &p, error) || !find_interaction (store, message_id, &iid, &date, &key, error) ||
      !write_link (store, iid, key, p.id, p.uuid, "person", "removed by a person", TRUE, by, date, error))
    goto fail;
  return sg_store_commit (store, error);
fail:
  sg_store_rollback (store);
  return FALSE;
}

/* --- notes and requests ------------------------------------------------------------- */

/* Resolves the organisation, process and person of a note or request. */
static gboolean
resolve_refs (SgStore *store, const char *organisation, const char *process, const char *person,
              gint64 *org_id, gint64 *process_id, gint64 *person_id, char **process_uuid, GError **error)
{
  *org_id = *process_id = *person_id = 0;
  if (process != NULL) {
    g_auto (Proc) p = { 0 };

    if ((*process_uuid = sg_process_resolve (store, process, error)) == NULL ||
        !load_proc (store, *process_uuid, &p, error))
      return FALSE;
    *process_id = p.id;
    *org_id = p.org_id;
  }
  if (organisation != NULL) {
    gint64 o = require_org (store, organisation, error);

    if (o < 0)
      return FALSE;
    if (*org_id != 0 && *org_id != o) {
      g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID,
                   "sales process %s belongs to another organisation than %s", *process_uuid, organisation);
      return FALSE;
    }
    *org_id = o;
  }
  if (person != NULL && (*person_id = require_person (store, person, error)) < 0)
    return FALSE;
  if (*org_id == 0 && *person_id > 0) {
    sqlite3_stmt *stmt = _sg_store_prepare (store, "SELECT org_id FROM people WHERE id = ?", error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, *person_id);
    if (sqlite3_step (stmt) == SQLITE_ROW)
      *org_id = sqlite3_column_int64 (stmt, 0);
    sqlite3_reset (stmt);
  }
  if (*org_id == 0) {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID,
                 "give an organisation (or a process, or a person of an organisation)");
    return FALSE;
  }
  return TRUE;
}

char *
sg_note_add (SgStore *store, const SgNoteNew *spec, const char *actor, GError **error)
{
  static const char *const sentiments[] = { "positive", "neutral", "negative", NULL };
  g_autofree char *by = norm_actor (actor);
  g_autofree char *uuid = NULL;
  g_autofree char *process_uuid = NULL;
  g_autofree char *domain = NULL;
  g_autofree char *person_addr = NULL;
  const char *sentiment = spec->sentiment ? spec->sentiment : "neutral";
  gint64 org_id, process_id, person_id, at = spec->at ? spec->at : _sg_store_now (store);
  sqlite3_stmt *stmt;
  JsonBuilder *b;

  if (spec->text == NULL || *spec->text == '\0') {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID, "a note needs a text");
    return NULL;
  }
  if (!g_strv_contains (sentiments, sentiment)) {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID,
                 "sentiment “%s” is not positive, neutral or negative", sentiment);
    return NULL;
  }
  if (!sg_store_begin (store, error))
    return NULL;
  if (!resolve_refs (store, spec->organisation, spec->process, spec->person, &org_id, &process_id, &person_id,
                     &process_uuid, error))
    goto fail;
  uuid = g_uuid_string_random ();
  stmt = _sg_store_prepare (store,
      "INSERT INTO cx_notes (uuid, org_id, process_id, person_id, text, sentiment, author, noted_at, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, uuid, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, org_id);
  if (process_id)
    sqlite3_bind_int64 (stmt, 3, process_id);
  if (person_id)
    sqlite3_bind_int64 (stmt, 4, person_id);
  sqlite3_bind_text (stmt, 5, spec->text, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, sentiment, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, by, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 8, at);
  sqlite3_bind_int64 (stmt, 9, _sg_now ());
  if (!_sg_store_exec_stmt (store, stmt, error))
    goto fail;
  domain = _sg_org_domain (store, org_id);
  person_addr = person_id ? _sg_person_address (store, person_id) : NULL;
  b = _sg_json_begin ();
  _sg_json_str (b, "organisation", domain);
  _sg_json_str (b, "process", process_uuid);
  _sg_json_str (b, "person", person_addr);
  _sg_json_str (b, "text", spec->text);
  _sg_json_str (b, "sentiment", sentiment);
  _sg_json_str (b, "author", by);
  _sg_json_int (b, "noted_at", at);
  if (!_sg_log_json (store, "cx_note", uuid, "upsert", b, error))
    goto fail;
  if (!sg_store_commit (store, error))
    return NULL;
  return g_steal_pointer (&uuid);
fail:
  sg_store_rollback (store);
  return NULL;
}

SgTable *
sg_note_list (SgStore *store, const char *organisation, GError **error)
{
  gint64 org = 0;
  sqlite3_stmt *stmt;
  SgTable *t;

  if (organisation != NULL && (org = require_org (store, organisation, error)) < 0)
    return NULL;
  stmt = _sg_store_prepare (store,
      "SELECT n.noted_at, coalesce(o.name, o.domain), n.sentiment, n.text, n.author, n.uuid, p.uuid, "
      "  (SELECT address FROM addresses WHERE person_id = n.person_id ORDER BY id LIMIT 1), o.domain "
      "FROM cx_notes n JOIN organisations o ON o.id = n.org_id LEFT JOIN processes p ON p.id = n.process_id "
      "WHERE ?1 = 0 OR n.org_id = ?1 ORDER BY n.noted_at DESC, n.id DESC", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, org);
  t = sg_table_new ();
  sg_table_add_column (t, "date", SG_COLUMN_TIME, 0);
  sg_table_add_column (t, "organisation", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "sentiment", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "text", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "author", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "id", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "process", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "person", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "org_domain", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  if (!_sg_table_fill (store, t, stmt, error)) {
    sg_table_free (t);
    return NULL;
  }
  return t;
}

char *
sg_request_add (SgStore *store, const SgRequestNew *spec, const char *actor, GError **error)
{
  g_autofree char *by = norm_actor (actor);
  g_autofree char *uuid = NULL;
  g_autofree char *process_uuid = NULL;
  g_autofree char *domain = NULL;
  g_autofree char *person_addr = NULL;
  gint64 org_id, process_id, person_id, at = spec->at ? spec->at : _sg_store_now (store);
  sqlite3_stmt *stmt;
  JsonBuilder *b;

  if (spec->what == NULL || *spec->what == '\0' || spec->category == NULL || *spec->category == '\0') {
    g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID,
                 "an unfulfilled request needs what was asked for and a category");
    return NULL;
  }
  if (!sg_store_begin (store, error))
    return NULL;
  if (!resolve_refs (store, spec->organisation, spec->process, spec->person, &org_id, &process_id, &person_id,
                     &process_uuid, error))
    goto fail;
  uuid = g_uuid_string_random ();
  stmt = _sg_store_prepare (store,
      "INSERT INTO unfulfilled_requests (uuid, what, category, org_id, person_id, process_id, requested_at, "
      "  recorded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, uuid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, spec->what, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, spec->category, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, org_id);
  if (person_id)
    sqlite3_bind_int64 (stmt, 5, person_id);
  if (process_id)
    sqlite3_bind_int64 (stmt, 6, process_id);
  sqlite3_bind_int64 (stmt, 7, at);
  sqlite3_bind_text (stmt, 8, by, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 9, _sg_now ());
  if (!_sg_store_exec_stmt (store, stmt, error))
    goto fail;
  domain = _sg_org_domain (store, org_id);
  person_addr = person_id ? _sg_person_address (store, person_id) : NULL;
  b = _sg_json_begin ();
  _sg_json_str (b, "organisation", domain);
  _sg_json_str (b, "process", process_uuid);
  _sg_json_str (b, "person", person_addr);
  _sg_json_str (b, "what", spec->what);
  _sg_json_str (b, "category", spec->category);
  _sg_json_str (b, "recorded_by", by);
  _sg_json_int (b, "requested_at", at);
  if (!_sg_log_json (store, "request", uuid, "upsert", b, error))
    goto fail;
  if (!sg_store_commit (store, error))
    return NULL;
  return g_steal_pointer (&uuid);
fail:
  sg_store_rollback (store);
  return NULL;
}

SgTable *
sg_request_list (SgStore *store, const char *organisation, GError **error)
{
  gint64 org = 0;
  sqlite3_stmt *stmt;
  SgTable *t;

  if (organisation != NULL && (org = require_org (store, organisation, error)) < 0)
    return NULL;
  stmt = _sg_store_prepare (store,
      "SELECT r.requested_at, coalesce(o.name, o.domain), r.category, r.what, r.recorded_by, r.uuid, p.uuid, "
      "  (SELECT address FROM addresses WHERE person_id = r.person_id ORDER BY id LIMIT 1), o.domain "
      "FROM unfulfilled_requests r JOIN organisations o ON o.id = r.org_id "
      "  LEFT JOIN processes p ON p.id = r.process_id "
      "WHERE ?1 = 0 OR r.org_id = ?1 ORDER BY r.requested_at DESC, r.id DESC", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, org);
  t = sg_table_new ();
  sg_table_add_column (t, "date", SG_COLUMN_TIME, 0);
  sg_table_add_column (t, "organisation", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "category", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "what", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "recorded_by", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "id", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "process", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "person", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  sg_table_add_column (t, "org_domain", SG_COLUMN_TEXT, SG_COLUMN_FLAG_DETAIL);
  if (!_sg_table_fill (store, t, stmt, error)) {
    sg_table_free (t);
    return NULL;
  }
  return t;
}
