/* sg-import.c: from messages to addresses, people, organisations and interactions. */
#include "config.h"

#include "sg-import.h"
#include "sg-message.h"
#include "sg-private.h"
#include "sg-autocleanups.h"
#include "sg-ical.h"
#include "sg-ical-private.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Work is committed after this many messages or this much time, whichever comes first. */
#define BATCH_MESSAGES 5000
#define BATCH_USEC (1000 * G_TIME_SPAN_MILLISECOND)
/* The same in a bulk write (a scan of a Maildir, an mbox): each commit writes every page the
 * batch dirtied, and at 100k messages that is about 20 MB of random-key index pages whatever
 * the batch's size, so fewer, larger batches write much less (bench/README.md, importtext).
 * Three seconds keeps another writer's wait well under the store's busy timeout (10 s). */
#define BULK_BATCH_MESSAGES 15000
#define BULK_BATCH_USEC (3000 * G_TIME_SPAN_MILLISECOND)
/* Caches are dropped (after a flush) past this many entries, so memory stays flat. */
#define CACHE_MAX 20000
/* Threads reading and parsing Maildir files at most, and files read ahead of the store. */
#define MAX_PARSE_THREADS 8
#define READ_AHEAD 64
/* Folder depth followed under a Maildir root. */
#define MAX_FOLDER_DEPTH 16

G_DEFINE_QUARK (sg-import-error-quark, sg_import_error)

typedef struct {
  gint64 id;
  gint64 person_id; /* 0: not a person */
  gint64 org_id;    /* 0: no organisation */
  SgAddressKind kind;
} AddressEntry;

typedef struct {
  gint64 id;
  char *name;
  int name_score;
  gint64 name_date;
  gint64 first_seen;
  gint64 last_seen;
  gboolean dirty;
} PersonEntry;

typedef struct {
  gint64 id;
  gint64 first_seen;
  gint64 last_seen;
  gboolean dirty;
} OrgEntry;

struct _SgImporter {
  SgStore *store;
  SgIdentity *identity;
  SgImportStats stats;
  GHashTable *skip_reasons; /* reason -> count */

  SgImportProgressFunc progress_func;
  gpointer progress_data;
  gint64 progress_interval;
  gint64 progress_last;
  SgImportProgress progress;

  SgImportProblemFunc problem_func;
  gpointer problem_data;

  GHashTable *addresses; /* address -> AddressEntry */
  GHashTable *people;    /* &id -> PersonEntry */
  GHashTable *orgs;      /* domain -> OrgEntry */
  GHashTable *org_by_id; /* &id -> OrgEntry (owned by orgs) */
  gint64 data_version;

  guint parse_threads;   /* threads parsing Maildir files, the calling thread included */

  /* What the text says (issue 9). */
  guint parse_flags;     /* SG_MESSAGE_PARSE_CONTENT, or 0 */
  SgImportProblemFunc warning_func;
  gpointer warning_data;
  char *floating_tz;     /* meetings: the zone of floating times (sg-ical.c), nullable */

  guint pending;         /* messages in the open transaction */
  guint bulk;            /* inside a scan or an mbox: larger batches (maybe_commit()) */
  SgImportStats batch_stats; /* the counts when it began */
  gint64 batch_start;
};

static void
person_entry_free (gpointer p)
{
  PersonEntry *e = p;

  g_free (e->name);
  g_free (e);
}

SgImporter *
sg_importer_new (SgStore *store, SgIdentity *identity)
{
  SgImporter *imp = g_new0 (SgImporter, 1);

  g_return_val_if_fail (store != NULL && identity != NULL, NULL);
  imp->store = store;
  imp->identity = sg_identity_ref (identity);
  imp->skip_reasons = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  imp->addresses = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  imp->people = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, person_entry_free);
  imp->orgs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  imp->org_by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  imp->data_version = -1;
  imp->parse_threads = CLAMP (g_get_num_processors (), 1, MAX_PARSE_THREADS);
  imp->parse_flags = SG_MESSAGE_PARSE_CONTENT | SG_MESSAGE_PARSE_NO_BULK_FACTS;
  return imp;
}

void
sg_importer_free (SgImporter *importer)
{
  if (importer == NULL)
    return;
  if (!sg_importer_flush (importer, NULL) && sg_store_in_transaction (importer->store))
    sg_store_rollback (importer->store);
  sg_identity_unref (importer->identity);
  g_hash_table_unref (importer->skip_reasons);
  g_hash_table_unref (importer->addresses);
  g_hash_table_unref (importer->people);
  g_hash_table_unref (importer->org_by_id);
  g_hash_table_unref (importer->orgs);
  g_free (importer->floating_tz);
  g_free (importer);
}

void
sg_importer_set_progress_func (SgImporter *importer, SgImportProgressFunc func,
                               gpointer user_data, guint interval_ms)
{
  importer->progress_func = func;
  importer->progress_data = user_data;
  importer->progress_interval = (gint64) interval_ms * G_TIME_SPAN_MILLISECOND;
}

void
sg_importer_set_problem_func (SgImporter *importer, SgImportProblemFunc func, gpointer user_data)
{
  importer->problem_func = func;
  importer->problem_data = user_data;
}

void
sg_importer_set_extract_content (SgImporter *importer, gboolean extract)
{
  g_return_if_fail (importer != NULL);
  importer->parse_flags = extract ? SG_MESSAGE_PARSE_CONTENT | SG_MESSAGE_PARSE_NO_BULK_FACTS : 0;
}

void
sg_importer_set_warning_func (SgImporter *importer, SgImportProblemFunc func, gpointer user_data)
{
  g_return_if_fail (importer != NULL);
  importer->warning_func = func;
  importer->warning_data = user_data;
}

void
sg_importer_set_parse_threads (SgImporter *importer, guint n_threads)
{
  importer->parse_threads = n_threads == 0 ? CLAMP (g_get_num_processors (), 1, MAX_PARSE_THREADS)
                                           : MIN (n_threads, MAX_PARSE_THREADS);
}

const SgImportStats *
sg_importer_get_stats (SgImporter *importer)
{
  return &importer->stats;
}

SgTable *
sg_importer_get_skip_reasons (SgImporter *importer)
{
  SgTable *t = sg_table_new ();
  g_autoptr (GList) keys = g_hash_table_get_keys (importer->skip_reasons);

  sg_table_add_column (t, "reason", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "count", SG_COLUMN_INT, 0);
  keys = g_list_sort (keys, (GCompareFunc) strcmp);
  for (GList *l = keys; l; l = l->next) {
    sg_table_append_row (t);
    sg_table_set_text (t, 0, l->data);
    sg_table_set_int (t, 1, GPOINTER_TO_UINT (g_hash_table_lookup (importer->skip_reasons, l->data)));
  }
  return t;
}

static void
report_progress (SgImporter *imp, gboolean force)
{
  gint64 now;

  if (imp->progress_func == NULL)
    return;
  now = g_get_monotonic_time ();
  if (!force && now - imp->progress_last < imp->progress_interval)
    return;
  imp->progress_last = now;
  imp->progress_func (&imp->progress, imp->progress_data);
}

static const char *
reason_for (const GError *error)
{
  if (error->domain == SG_MESSAGE_ERROR) {
    switch (error->code) {
    case SG_MESSAGE_ERROR_TOO_LARGE: return "message too large";
    case SG_MESSAGE_ERROR_HEADERS_TOO_LARGE: return "header block too large";
    case SG_MESSAGE_ERROR_NOT_MAIL: return "not a mail message";
    case SG_MESSAGE_ERROR_EMPTY: return "empty file";
    default: break;
    }
  }
  if (error->domain == SG_ICAL_ERROR)
    return error->code == SG_ICAL_ERROR_TOO_LARGE   ? "calendar too large"
         : error->code == SG_ICAL_ERROR_NO_EVENTS ? "calendar without meetings"
                                                  : "bad iCalendar";
  if (error->domain == SG_IMPORT_ERROR || error->domain == G_FILE_ERROR || error->domain == G_IO_ERROR)
    return "unreadable file";
  return "other error";
}

/* Tells the front end and remembers it in the store. */
static void
note (SgImporter *imp, gint64 source_id, const char *location, const GError *error)
{
  sqlite3_stmt *stmt;

  if (imp->problem_func)
    imp->problem_func (location, error, imp->problem_data);
  stmt = _sg_store_prepare_static (imp->store,
      "INSERT INTO import_problems (source_id, location, reason, at) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (source_id, location) DO UPDATE SET reason = excluded.reason, at = excluded.at",
      NULL);
  if (stmt != NULL) {
    if (source_id > 0)
      sqlite3_bind_int64 (stmt, 1, source_id);
    sqlite3_bind_text (stmt, 2, location, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, error->message, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 4, g_get_real_time () / G_USEC_PER_SEC);
    _sg_store_exec_stmt (imp->store, stmt, NULL);
  }
}

/* Counts a skipped message, tells the front end and remembers it in the store. */
static void
problem (SgImporter *imp, gint64 source_id, const char *location, const GError *error)
{
  const char *reason = reason_for (error);
  gpointer n = g_hash_table_lookup (imp->skip_reasons, reason);

  imp->stats.skipped++;
  g_hash_table_replace (imp->skip_reasons, g_strdup (reason), GUINT_TO_POINTER (GPOINTER_TO_UINT (n) + 1));
  note (imp, source_id, location, error);
}

/* --- caches ------------------------------------------------------------------------- */

static gboolean
flush_caches (SgImporter *imp, GError **error)
{
  GHashTableIter iter;
  gpointer value;
  sqlite3_stmt *stmt;

  g_hash_table_iter_init (&iter, imp->people);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    PersonEntry *p = value;

    if (!p->dirty)
      continue;
    stmt = _sg_store_prepare_static (imp->store,
        "UPDATE people SET name = ?, name_score = ?, name_date = ?, first_seen = ?, last_seen = ? "
        "WHERE id = ?", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_int (stmt, 2, p->name_score);
    sqlite3_bind_int64 (stmt, 3, p->name_date);
    sqlite3_bind_int64 (stmt, 4, p->first_seen);
    sqlite3_bind_int64 (stmt, 5, p->last_seen);
    sqlite3_bind_int64 (stmt, 6, p->id);
    if (!_sg_store_exec_stmt (imp->store, stmt, error))
      return FALSE;
    p->dirty = FALSE;
  }
  g_hash_table_iter_init (&iter, imp->orgs);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    OrgEntry *o = value;

    if (!o->dirty)
      continue;
    stmt = _sg_store_prepare_static (imp->store,
        "UPDATE organisations SET first_seen = ?, last_seen = ? WHERE id = ?", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, o->first_seen);
    sqlite3_bind_int64 (stmt, 2, o->last_seen);
    sqlite3_bind_int64 (stmt, 3, o->id);
    if (!_sg_store_exec_stmt (imp->store, stmt, error))
      return FALSE;
    o->dirty = FALSE;
  }
  return TRUE;
}

static void
drop_caches (SgImporter *imp)
{
  g_hash_table_remove_all (imp->addresses);
  g_hash_table_remove_all (imp->people);
  g_hash_table_remove_all (imp->org_by_id);
  g_hash_table_remove_all (imp->orgs);
}

gboolean
sg_importer_flush (SgImporter *importer, GError **error)
{
  if (importer->pending == 0 && !sg_store_in_transaction (importer->store))
    return TRUE;
  if (!flush_caches (importer, error)) {
    sg_store_rollback (importer->store);
    drop_caches (importer);
    importer->pending = 0;
    return FALSE;
  }
  importer->pending = 0;
  if (!sg_store_commit (importer->store, error)) {
    drop_caches (importer);
    importer->stats = importer->batch_stats;
    return FALSE;
  }
  if (g_hash_table_size (importer->addresses) > CACHE_MAX || g_hash_table_size (importer->people) > CACHE_MAX)
    drop_caches (importer);
  return TRUE;
}

/* Opens a batch if none is open. Another process may have written since our last batch:
 * then the caches may be stale, and are dropped. */
static gboolean
ensure_batch (SgImporter *imp, GError **error)
{
  gint64 version = 0;
  sqlite3_stmt *stmt;

  if (sg_store_in_transaction (imp->store))
    return TRUE;
  if (!sg_store_begin (imp->store, error))
    return FALSE;
  stmt = _sg_store_prepare_static (imp->store, "PRAGMA data_version", error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (version != imp->data_version)
    drop_caches (imp);
  imp->data_version = version;
  imp->batch_start = g_get_monotonic_time ();
  imp->batch_stats = imp->stats;
  return TRUE;
}

/* Rolls back the open batch and forgets what it counted and cached. */
static void
abandon_batch (SgImporter *imp)
{
  if (sg_store_in_transaction (imp->store))
    sg_store_rollback (imp->store);
  drop_caches (imp);
  imp->stats = imp->batch_stats;
  imp->pending = 0;
}

static gboolean
maybe_commit (SgImporter *imp, GError **error)
{
  guint limit = imp->bulk ? BULK_BATCH_MESSAGES : BATCH_MESSAGES;
  gint64 usec = imp->bulk ? BULK_BATCH_USEC : BATCH_USEC;

  if (imp->pending >= limit || g_get_monotonic_time () - imp->batch_start >= usec)
    return sg_importer_flush (imp, error);
  return TRUE;
}

/* --- change log ------------------------------------------------------------------- */

/* The fields of a person or organisation op: {"name": ..., "kind": ...}. */
static char *
name_kind_fields (const char *name, const char *kind)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, kind);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

/* --- organisations, addresses, people --------------------------------------------- */

static OrgEntry *
ensure_org (SgImporter *imp, const char *domain, gboolean internal, gint64 date, GError **error)
{
  OrgEntry *o = g_hash_table_lookup (imp->orgs, domain);
  sqlite3_stmt *stmt;

  if (o != NULL)
    return o;
  stmt = _sg_store_prepare_static (imp->store,
      "SELECT o.id, o.first_seen, o.last_seen FROM org_domains d JOIN organisations o ON o.id = d.org_id "
      "WHERE d.domain = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, domain, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW) {
    o = g_new0 (OrgEntry, 1);
    o->id = sqlite3_column_int64 (stmt, 0);
    o->first_seen = sqlite3_column_int64 (stmt, 1);
    o->last_seen = sqlite3_column_int64 (stmt, 2);
    sqlite3_reset (stmt);
  } else {
    g_autofree char *name = sg_org_name_from_domain (domain);
    g_autofree char *fields = NULL;
    const char *kind = internal ? "internal" : "external";

    sqlite3_reset (stmt);
    stmt = _sg_store_prepare_static (imp->store,
        "INSERT INTO organisations (domain, name, kind, first_seen, last_seen, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)", error);
    if (stmt == NULL)
      return NULL;
    sqlite3_bind_text (stmt, 1, domain, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, kind, -1, SQLITE_STATIC);
    if (date != 0) {
      sqlite3_bind_int64 (stmt, 4, date);
      sqlite3_bind_int64 (stmt, 5, date);
    }
    sqlite3_bind_int64 (stmt, 6, g_get_real_time () / G_USEC_PER_SEC);
    if (!_sg_store_exec_stmt (imp->store, stmt, error))
      return NULL;
    o = g_new0 (OrgEntry, 1);
    o->id = sqlite3_last_insert_rowid (_sg_store_get_db (imp->store));
    o->first_seen = o->last_seen = date;
    stmt = _sg_store_prepare_static (imp->store, "INSERT INTO org_domains (domain, org_id) VALUES (?, ?)", error);
    if (stmt == NULL) {
      g_free (o);
      return NULL;
    }
    sqlite3_bind_text (stmt, 1, domain, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, o->id);
    if (!_sg_store_exec_stmt (imp->store, stmt, error)) {
      g_free (o);
      return NULL;
    }
    fields = name_kind_fields (name, kind);
    if (!_sg_store_log_change (imp->store, "organisation", domain, "upsert", fields, error)) {
      g_free (o);
      return NULL;
    }
    if (!internal)
      imp->stats.orgs_new++;
  }
  g_hash_table_insert (imp->orgs, g_strdup (domain), o);
  g_hash_table_insert (imp->org_by_id, &o->id, o);
  return o;
}

static void
seen (gint64 *first, gint64 *last, gint64 date, gboolean *dirty)
{
  if (*first == 0 || date < *first) {
    *first = date;
    *dirty = TRUE;
  }
  if (date > *last) {
    *last = date;
    *dirty = TRUE;
  }
}

static PersonEntry *
lookup_person (SgImporter *imp, gint64 id, GError **error)
{
  PersonEntry *p = g_hash_table_lookup (imp->people, &id);
  sqlite3_stmt *stmt;

  if (p != NULL)
    return p;
  stmt = _sg_store_prepare_static (imp->store,
      "SELECT name, name_score, name_date, first_seen, last_seen FROM people WHERE id = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  if (sqlite3_step (stmt) != SQLITE_ROW) {
    sqlite3_reset (stmt);
    g_set_error (error, SG_STORE_ERROR, SG_STORE_ERROR_NOT_FOUND, "person %" G_GINT64_FORMAT " vanished", id);
    return NULL;
  }
  p = g_new0 (PersonEntry, 1);
  p->id = id;
  p->name = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  p->name_score = sqlite3_column_int (stmt, 1);
  p->name_date = sqlite3_column_int64 (stmt, 2);
  p->first_seen = sqlite3_column_int64 (stmt, 3);
  p->last_seen = sqlite3_column_int64 (stmt, 4);
  sqlite3_reset (stmt);
  g_hash_table_insert (imp->people, &p->id, p);
  return p;
}

/* A better name wins; between equally good names the one from the newer message wins, so
 * the result does not depend on the order in which messages are imported. */
static void
offer_name (PersonEntry *p, const SgParticipant *part, gint64 date)
{
  int score = sg_name_score (part->name, part->address);

  if (score == 0 || score < p->name_score)
    return;
  if (score == p->name_score &&
      (date < p->name_date || (date == p->name_date && g_strcmp0 (part->name, p->name) <= 0)))
    return;
  g_free (p->name);
  p->name = g_strdup (part->name);
  p->name_score = score;
  p->name_date = date;
  p->dirty = TRUE;
}

static gboolean
create_person (SgImporter *imp, AddressEntry *a, const SgParticipant *part, gint64 date, GError **error)
{
  const char *kind = part->self ? "self" : part->internal ? "colleague" : "contact";
  sqlite3_stmt *stmt;
  PersonEntry *p;
  g_autofree char *fields = NULL;

  stmt = _sg_store_prepare_static (imp->store,
      "INSERT INTO people (org_id, kind, first_seen, last_seen, created_at) VALUES (?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  if (a->org_id > 0)
    sqlite3_bind_int64 (stmt, 1, a->org_id);
  sqlite3_bind_text (stmt, 2, kind, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, date);
  sqlite3_bind_int64 (stmt, 4, date);
  sqlite3_bind_int64 (stmt, 5, g_get_real_time () / G_USEC_PER_SEC);
  if (!_sg_store_exec_stmt (imp->store, stmt, error))
    return FALSE;
  a->person_id = sqlite3_last_insert_rowid (_sg_store_get_db (imp->store));
  stmt = _sg_store_prepare_static (imp->store, "UPDATE addresses SET person_id = ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, a->person_id);
  sqlite3_bind_int64 (stmt, 2, a->id);
  if (!_sg_store_exec_stmt (imp->store, stmt, error))
    return FALSE;

  p = g_new0 (PersonEntry, 1);
  p->id = a->person_id;
  p->first_seen = p->last_seen = date;
  p->dirty = TRUE;
  g_hash_table_insert (imp->people, &p->id, p);
  offer_name (p, part, date);

  fields = name_kind_fields (p->name, kind);
  if (!_sg_store_log_change (imp->store, "person", part->address, "upsert", fields, error))
    return FALSE;
  if (!part->internal)
    imp->stats.people_new++;
  return TRUE;
}

/* Turns a stored address into a list address: it stops being a person, and a person left
 * with no address is deleted (their interactions stay, through the address). */
static gboolean
make_list (SgImporter *imp, AddressEntry *a, const SgParticipant *part, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare_static (imp->store,
      "UPDATE addresses SET kind = 'list', person_id = NULL WHERE id = ?", error);
  gint64 person = a->person_id;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, a->id);
  if (!_sg_store_exec_stmt (imp->store, stmt, error))
    return FALSE;
  a->kind = SG_ADDRESS_LIST;
  a->person_id = 0;
  if (person == 0)
    return TRUE;
  stmt = _sg_store_prepare_static (imp->store,
      "DELETE FROM people WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM addresses WHERE person_id = ?1)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, person);
  if (!_sg_store_exec_stmt (imp->store, stmt, error))
    return FALSE;
  if (sqlite3_changes (_sg_store_get_db (imp->store)) > 0) {
    g_hash_table_remove (imp->people, &person);
    return _sg_store_log_change (imp->store, "person", part->address, "delete", "{}", error);
  }
  return TRUE;
}

static AddressEntry *
resolve_address (SgImporter *imp, const SgParticipant *part, gboolean bulk, gint64 date, GError **error)
{
  AddressEntry *a = g_hash_table_lookup (imp->addresses, part->address);
  sqlite3_stmt *stmt;

  if (a == NULL) {
    stmt = _sg_store_prepare_static (imp->store,
        "SELECT a.id, coalesce(a.person_id, 0), coalesce(d.org_id, 0), a.kind FROM addresses a "
        "LEFT JOIN org_domains d ON d.domain = a.org_domain WHERE a.address = ?", error);
    if (stmt == NULL)
      return NULL;
    sqlite3_bind_text (stmt, 1, part->address, -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) == SQLITE_ROW) {
      const char *kind = (const char *) sqlite3_column_text (stmt, 3);

      a = g_new0 (AddressEntry, 1);
      a->id = sqlite3_column_int64 (stmt, 0);
      a->person_id = sqlite3_column_int64 (stmt, 1);
      a->org_id = sqlite3_column_int64 (stmt, 2);
      a->kind = g_strcmp0 (kind, "personal") == 0 ? SG_ADDRESS_PERSONAL
              : g_strcmp0 (kind, "role") == 0     ? SG_ADDRESS_ROLE
              : g_strcmp0 (kind, "list") == 0     ? SG_ADDRESS_LIST
                                                  : SG_ADDRESS_NOREPLY;
      sqlite3_reset (stmt);
    } else {
      const char *domain = sg_address_get_domain (part->address);
      g_autofree char *reg = NULL;
      OrgEntry *o = NULL;

      sqlite3_reset (stmt);
      reg = sg_domain_get_registrable (domain);
      if (reg != NULL && sg_domain_is_freemail (reg))
        g_clear_pointer (&reg, g_free);
      if (reg != NULL) {
        o = ensure_org (imp, reg, part->internal, bulk ? 0 : date, error);
        if (o == NULL)
          return NULL;
      }
      stmt = _sg_store_prepare_static (imp->store,
          "INSERT INTO addresses (address, domain, org_domain, kind, created_at) VALUES (?, ?, ?, ?, ?)", error);
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_text (stmt, 1, part->address, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, domain, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, reg, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, sg_address_kind_to_string (part->kind), -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 5, g_get_real_time () / G_USEC_PER_SEC);
      if (!_sg_store_exec_stmt (imp->store, stmt, error))
        return NULL;
      a = g_new0 (AddressEntry, 1);
      a->id = sqlite3_last_insert_rowid (_sg_store_get_db (imp->store));
      a->org_id = o ? o->id : 0;
      a->kind = part->kind;
    }
    g_hash_table_insert (imp->addresses, g_strdup (part->address), a);
  }

  /* A message that names this address as its list settles it: a list, whatever earlier
   * mail made of it. So the result does not depend on which message came first. */
  if (part->kind == SG_ADDRESS_LIST && a->kind != SG_ADDRESS_LIST && !make_list (imp, a, part, error))
    return NULL;

  /* Only personal addresses in person-to-person mail make people. A list's poster who
   * later writes directly becomes a person then, and their list mail joins them. */
  if (a->person_id == 0 && a->kind == SG_ADDRESS_PERSONAL && !bulk) {
    if (!create_person (imp, a, part, date, error))
      return NULL;
  } else if (a->person_id != 0) {
    PersonEntry *p = lookup_person (imp, a->person_id, error);

    if (p == NULL)
      return NULL;
    if (!bulk)
      offer_name (p, part, date);
    seen (&p->first_seen, &p->last_seen, date, &p->dirty);
  }
  if (a->org_id != 0) {
    OrgEntry *o = g_hash_table_lookup (imp->org_by_id, &a->org_id);

    if (o == NULL) {
      /* Cached addresses outlive a dropped org cache only within one batch; reload. */
      stmt = _sg_store_prepare_static (imp->store, "SELECT domain FROM organisations WHERE id = ?", error);
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_int64 (stmt, 1, a->org_id);
      if (sqlite3_step (stmt) == SQLITE_ROW) {
        g_autofree char *domain = g_strdup ((const char *) sqlite3_column_text (stmt, 0));

        sqlite3_reset (stmt);
        o = ensure_org (imp, domain, part->internal, bulk ? 0 : date, error);
        if (o == NULL)
          return NULL;
      } else {
        sqlite3_reset (stmt);
      }
    }
    if (o != NULL && !bulk)
      seen (&o->first_seen, &o->last_seen, date, &o->dirty);
  }
  return a;
}

/* --- interactions --------------------------------------------------------------------- */

static gboolean
lookup_interaction (SgImporter *imp, const char *message_id, gint64 *out_id, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare_static (imp->store, "SELECT id FROM interactions WHERE message_id = ?", error);

  if (stmt == NULL)
    return FALSE;
  *out_id = 0;
  sqlite3_bind_text (stmt, 1, message_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    *out_id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return TRUE;
}

static gint64
ensure_thread (SgImporter *imp, const SgMessage *m, GError **error)
{
  const char *root = sg_message_get_thread_root (m);
  sqlite3_stmt *stmt;
  gint64 id = 0;

  /* A reply that names only its parent joins the parent's thread when the parent is known. */
  if (sg_message_get_references (m)[0] == NULL && sg_message_get_in_reply_to (m) != NULL) {
    stmt = _sg_store_prepare_static (imp->store, "SELECT thread_id FROM interactions WHERE message_id = ?", error);
    if (stmt == NULL)
      return 0;
    sqlite3_bind_text (stmt, 1, sg_message_get_in_reply_to (m), -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) == SQLITE_ROW)
      id = sqlite3_column_int64 (stmt, 0);
    sqlite3_reset (stmt);
    if (id > 0)
      return id;
  }
  stmt = _sg_store_prepare_static (imp->store, "SELECT id FROM threads WHERE root_key = ?", error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_text (stmt, 1, root, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (id > 0)
    return id;
  stmt = _sg_store_prepare_static (imp->store, "INSERT INTO threads (root_key) VALUES (?)", error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_text (stmt, 1, root, -1, SQLITE_STATIC);
  if (!_sg_store_exec_stmt (imp->store, stmt, error))
    return 0;
  return sqlite3_last_insert_rowid (_sg_store_get_db (imp->store));
}

/* The calendar parts of a new message, as meetings. */
static gboolean
import_calendars (SgImporter *imp, const SgMessage *m, gint64 source_id, const char *location,
                  GError **error)
{
  GPtrArray *parts = _sg_message_get_calendars (m);
  g_autofree char *where = g_strdup_printf ("%s (Message-ID %s)", location ? location : "message",
                                            sg_message_get_id (m));

  for (guint i = 0; i < parts->len; i++) {
    gsize len;
    const char *data = g_bytes_get_data (parts->pdata[i], &len);

    if (!_sg_ical_import_data (imp, data, len, source_id, where, error))
      return FALSE;
  }
  return TRUE;
}

/* Stores @m unless its Message-ID is known. Sets *@out_id to the interaction. */
static gboolean
store_message (SgImporter *imp, const SgMessage *m, gint64 source_id, const char *location,
               gint64 *out_id, GError **error)
{
  gint64 id, thread_id, date = sg_message_get_date (m);
  gboolean bulk = sg_message_is_bulk (m);
  guint n = sg_message_get_n_participants (m);
  sqlite3_stmt *stmt;

  int rc;

  /* The insert itself finds a duplicate (one index probe, not a look-up and then an insert);
   * a known message's thread exists already, so ensuring it first adds nothing. */
  thread_id = ensure_thread (imp, m, error);
  if (thread_id == 0)
    return FALSE;
  stmt = _sg_store_prepare_static (imp->store,
      "INSERT INTO interactions (message_id, kind, direction, internal, bulk, date_utc, tz_offset, "
      "subject, thread_id, in_reply_to, source_id, location, created_at) "
      "VALUES (?, 'mail', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (message_id) DO NOTHING", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, sg_message_get_id (m), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, sg_direction_to_string (sg_message_get_direction (m)), -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 3, sg_message_is_internal (m));
  sqlite3_bind_int (stmt, 4, bulk);
  sqlite3_bind_int64 (stmt, 5, date);
  sqlite3_bind_int (stmt, 6, sg_message_get_tz_offset (m));
  sqlite3_bind_text (stmt, 7, sg_message_get_subject (m), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 8, thread_id);
  sqlite3_bind_text (stmt, 9, sg_message_get_in_reply_to (m), -1, SQLITE_STATIC);
  if (source_id > 0)
    sqlite3_bind_int64 (stmt, 10, source_id);
  sqlite3_bind_text (stmt, 11, location, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 12, g_get_real_time () / G_USEC_PER_SEC);
  /* Not RETURNING: SQLite buffers its rows in a temporary table, which costs more than
   * asking how many rows changed. */
  rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (imp->store, error, "write");
    return FALSE;
  }
  id = sqlite3_changes (_sg_store_get_db (imp->store)) > 0
           ? sqlite3_last_insert_rowid (_sg_store_get_db (imp->store)) : 0;
  if (id == 0) {
    /* Known already (the same Message-ID, from another folder or an earlier import). */
    if (!lookup_interaction (imp, sg_message_get_id (m), &id, error))
      return FALSE;
    imp->stats.known++;
    *out_id = id;
    return TRUE;
  }

  for (guint i = 0; i < n; i++) {
    const SgParticipant *p = sg_message_get_participant (m, i);
    AddressEntry *a = resolve_address (imp, p, bulk, date, error);

    if (a == NULL)
      return FALSE;
    stmt = _sg_store_prepare_static (imp->store,
        "INSERT OR IGNORE INTO participants (interaction_id, address_id, role, display_name) "
        "VALUES (?, ?, ?, ?)", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, id);
    sqlite3_bind_int64 (stmt, 2, a->id);
    sqlite3_bind_text (stmt, 3, sg_header_role_to_string (p->role), -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, p->name, -1, SQLITE_STATIC);
    if (!_sg_store_exec_stmt (imp->store, stmt, error))
      return FALSE;
  }
  /* A captured message never changes: the sync codec serialises it from its rows. */
  if (!_sg_store_log_change (imp->store, "interaction", sg_message_get_id (m), "upsert", "{}", error))
    return FALSE;
  imp->stats.imported++;
  *out_id = id;
  /* Invitations (text/calendar parts, .ics attachments) become meetings (sg-ical.c). */
  if (_sg_message_get_calendars (m) != NULL && !import_calendars (imp, m, source_id, location, error))
    return FALSE;
  return TRUE;
}

/* The person who wrote @m (From), as the participants were just resolved; 0 if none. */
static gint64
resolve_from_person (SgImporter *imp, const SgMessage *m)
{
  for (guint i = 0; i < sg_message_get_n_participants (m); i++) {
    const SgParticipant *p = sg_message_get_participant (m, i);
    AddressEntry *a;

    if (p->role != SG_HEADER_FROM)
      continue;
    a = g_hash_table_lookup (imp->addresses, p->address);
    return a ? a->person_id : 0;
  }
  return 0;
}

/* Imports one parsed message inside the current batch, all or nothing. @seen_name, when
 * not NULL, is recorded in maildir_seen in the same step. */
static gboolean
import_message (SgImporter *imp, const SgMessage *m, gint64 source_id, const char *location,
                const char *seen_name, GError **error)
{
  sqlite3_stmt *stmt;
  gint64 id = 0;
  guint imported = imp->stats.imported;

  if (!ensure_batch (imp, error))
    return FALSE;
  if (!store_message (imp, m, source_id, location, &id, error))
    goto fail;
  /* What the text says, for a message new to the store (issue 9, sg-import-text.c). */
  if (imp->stats.imported > imported && sg_message_get_text (m) != NULL) {
    if (!_sg_import_store_content (imp->store, m, id, resolve_from_person (imp, m), error))
      goto fail;
    if (imp->warning_func != NULL)
      for (const char *const *w = _sg_message_get_content_warnings (m); *w; w++) {
        g_autoptr (GError) warning = g_error_new_literal (SG_IMPORT_ERROR, SG_IMPORT_ERROR_CONTENT, *w);

        imp->warning_func (location, warning, imp->warning_data);
      }
  }
  if (seen_name != NULL) {
    stmt = _sg_store_prepare_static (imp->store,
        "INSERT OR REPLACE INTO maildir_seen (source_id, name, interaction_id) VALUES (?, ?, ?)", error);
    if (stmt == NULL)
      goto fail;
    sqlite3_bind_int64 (stmt, 1, source_id);
    sqlite3_bind_text (stmt, 2, seen_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, id);
    if (!_sg_store_exec_stmt (imp->store, stmt, error))
      goto fail;
  }
  imp->pending++;
  return TRUE;

fail:
  /* Only a store failure gets here (a full disk, a lost lock). The whole batch is rolled
   * back rather than a savepoint per message (5% of the import's instructions): no message
   * is left half-stored, and the batch's files, not marked seen, are read again next time. */
  abandon_batch (imp);
  return FALSE;
}

/* --- sources --------------------------------------------------------------------------- */

static gint64
ensure_source (SgImporter *imp, const char *kind, const char *uri, GError **error)
{
  sqlite3_stmt *stmt;
  gint64 id = 0;

  if (!ensure_batch (imp, error))
    return 0;
  stmt = _sg_store_prepare_static (imp->store,
      "INSERT INTO sources (kind, uri) VALUES (?, ?) ON CONFLICT (uri) DO NOTHING", error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_text (stmt, 1, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, uri, -1, SQLITE_STATIC);
  if (!_sg_store_exec_stmt (imp->store, stmt, error))
    return 0;
  stmt = _sg_store_prepare_static (imp->store, "SELECT id FROM sources WHERE uri = ?", error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_text (stmt, 1, uri, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return id;
}

static char *
canonical_path (const char *path)
{
  g_autofree char *abs = g_canonicalize_filename (path, NULL);
  char *real = realpath (abs, NULL);

  if (real != NULL) {
    char *out = g_strdup (real);

    free (real);
    return out;
  }
  return g_steal_pointer (&abs);
}

/* --- Maildir ----------------------------------------------------------------------------- */

static gboolean
is_maildir_folder (const char *dir)
{
  g_autofree char *cur = g_build_filename (dir, "cur", NULL);
  g_autofree char *new = g_build_filename (dir, "new", NULL);

  return g_file_test (cur, G_FILE_TEST_IS_DIR) || g_file_test (new, G_FILE_TEST_IS_DIR);
}

/* Folders people do not want as sales knowledge. */
static gboolean
is_skipped_folder (const char *name)
{
  static const char *const skipped[] = { "trash", "junk", "spam", "drafts", "deleted items",
                                         "deleted messages", "junk e-mail", "bulk mail" };
  const char *base = strrchr (name, '/');
  g_autofree char *down = NULL;

  base = base ? base + 1 : name;
  /* Maildir++ names folders .Parent.Child. */
  if (strrchr (base, '.') != NULL && base[0] == '.')
    base = strrchr (base, '.') + 1;
  down = g_utf8_strdown (base, -1);
  for (guint i = 0; i < G_N_ELEMENTS (skipped); i++)
    if (strcmp (down, skipped[i]) == 0)
      return TRUE;
  return FALSE;
}

/* The key a Maildir file keeps across flag changes: folder-relative path up to ':2,'. */
static char *
seen_key (const char *folder, const char *name)
{
  const char *colon = strchr (name, ':');
  gsize len = colon ? (gsize) (colon - name) : strlen (name);

  return *folder ? g_strdup_printf ("%s/%.*s", folder, (int) len, name)
                 : g_strndup (name, len);
}

static gboolean
is_seen (SgImporter *imp, gint64 source_id, const char *key, gboolean *out, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare_static (imp->store,
      "SELECT 1 FROM maildir_seen WHERE source_id = ? AND name = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, source_id);
  sqlite3_bind_text (stmt, 2, key, -1, SQLITE_STATIC);
  *out = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  return TRUE;
}

/* Marks a file that can never be imported as seen, so it is not retried forever. */
static gboolean
mark_seen (SgImporter *imp, gint64 source_id, const char *key, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare_static (imp->store,
      "INSERT OR IGNORE INTO maildir_seen (source_id, name) VALUES (?, ?)", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, source_id);
  sqlite3_bind_text (stmt, 2, key, -1, SQLITE_STATIC);
  return _sg_store_exec_stmt (imp->store, stmt, error);
}

/* Parses the message in @fd (taken), checking that it is a regular file within the size
 * caps. @name_time is a delivery time from the file name (or 0); the file's time stands in
 * when there is none. Returns: (transfer full): the message, or NULL with @error. */
static SgMessage *
parse_message_file (SgIdentity *identity, int fd, gint64 name_time, guint flags, GError **error)
{
  g_autoptr (GMimeStream) stream = NULL;
  struct stat st;

  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)) {
    close (fd);
    g_set_error (error, SG_IMPORT_ERROR, SG_IMPORT_ERROR_UNREADABLE, "not a regular file");
    return NULL;
  }
  if (st.st_size == 0) {
    close (fd);
    g_set_error (error, SG_MESSAGE_ERROR, SG_MESSAGE_ERROR_EMPTY, "empty file");
    return NULL;
  }
  if ((guint64) st.st_size > SG_MESSAGE_MAX_SIZE) {
    close (fd);
    g_set_error (error, SG_MESSAGE_ERROR, SG_MESSAGE_ERROR_TOO_LARGE,
                 "message of %lld bytes is over the cap of %" G_GSIZE_FORMAT, (long long) st.st_size,
                 SG_MESSAGE_MAX_SIZE);
    return NULL;
  }
  /* One read() of the whole file (within the cap) into memory GMime parses in place: a
   * file stream would read it in 4 KiB pieces and seek back and forth for every part. */
  {
    GByteArray *buf = g_byte_array_sized_new ((guint) st.st_size);
    gsize got = 0;

    g_byte_array_set_size (buf, (guint) st.st_size);
    while (got < (gsize) st.st_size) {
      ssize_t n = read (fd, buf->data + got, (gsize) st.st_size - got);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      got += (gsize) n;
    }
    close (fd);
    g_byte_array_set_size (buf, (guint) got);
    /* A UTF-8 byte order mark (Windows-made .eml files) would hide the first header. */
    if (got >= 3 && memcmp (buf->data, "\xef\xbb\xbf", 3) == 0)
      g_byte_array_remove_range (buf, 0, 3);
    _sg_gmime_init ();
    stream = g_mime_stream_mem_new_with_byte_array (buf);
  }
  return _sg_message_parse_stream_flags (stream, identity, name_time > 0 ? name_time : st.st_mtime,
                                         flags, error);
}

/* --- Maildir files: read and parsed on worker threads, stored in order --------------- */

/* One Maildir file on its way into the store. The reading and parsing (most of the work of
 * an import) touch nothing but the job and the immutable identity, so they run on worker
 * threads; the store is written by the importer's thread alone, in the order the files
 * were listed, so an import with threads stores exactly what one without does. */
typedef struct {
  char *path;
  char *key;      /* the seen key: folder and unique name */
  char *location; /* where the body is, relative to the Maildir root */
  gint64 name_time;
  guint parse_flags;
  /* Set by the worker: */
  SgMessage *message;
  GError *error;  /* why the message could not be parsed */
  int open_errno; /* why the file could not be opened, or 0 */
  gboolean done;
} FileJob;

static FileJob *
file_job_new (const char *path, const char *folder, const char *sub, const char *name)
{
  FileJob *job = g_new0 (FileJob, 1);

  job->path = g_strdup (path);
  job->key = seen_key (folder, name);
  /* A later flag change renames the file; its unique part (the seen key) stays. */
  job->location = *folder ? g_strdup_printf ("%s/%s/%s", folder, sub, name) : g_strdup_printf ("%s/%s", sub, name);
  /* The delivery time in the file name stands in for a missing Date. */
  job->name_time = g_ascii_strtoll (name, NULL, 10);
  return job;
}

static void
file_job_free (FileJob *job)
{
  g_free (job->path);
  g_free (job->key);
  g_free (job->location);
  g_clear_pointer (&job->message, sg_message_free);
  g_clear_error (&job->error);
  g_free (job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FileJob, file_job_free)

/* Reads and parses the file. Runs on any thread. */
static void
file_job_run (FileJob *job, SgIdentity *identity)
{
  /* O_NONBLOCK: a FIFO dropped into new/ must not hang the import (regular files ignore it). */
  int fd = open (job->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

  if (fd < 0) {
    job->open_errno = errno;
    return;
  }
  job->message = parse_message_file (identity, fd, job->name_time, job->parse_flags, &job->error);
}

/* Stores what file_job_run() found. Returns FALSE only on store failure. */
static gboolean
store_file_job (SgImporter *imp, gint64 source_id, FileJob *job, GError **error)
{
  if (!ensure_batch (imp, error))
    return FALSE;
  imp->stats.messages++;
  if (job->open_errno != 0) {
    g_autoptr (GError) local = NULL;

    /* A file moved away between listing and reading (new/ -> cur/) is not a problem. */
    if (job->open_errno == ENOENT) {
      imp->stats.messages--;
      return TRUE;
    }
    /* Not marked seen: a permission problem can be fixed, and the file retried. */
    g_set_error (&local, SG_IMPORT_ERROR, SG_IMPORT_ERROR_UNREADABLE, "%s", g_strerror (job->open_errno));
    problem (imp, source_id, job->path, local);
    return TRUE;
  }
  if (job->message == NULL) {
    /* Marked seen: the content will not get better by reading it again. */
    problem (imp, source_id, job->path, job->error);
    return mark_seen (imp, source_id, job->key, error) && maybe_commit (imp, error);
  }
  if (!import_message (imp, job->message, source_id, job->location, job->key, error))
    return FALSE;
  return maybe_commit (imp, error);
}

/* Files not yet seen, in listing order, parsed ahead by a pool of threads and by the
 * importer's own thread. The importer never sleeps while a file waits to be parsed: when the
 * file it must store next is not parsed yet, it parses the oldest file no one has taken.
 * On two cores one worker and the importer keep both busy; a worker per core left the
 * importer waiting and then preempted at every wake-up (bench/README.md, "parse queue"). */
typedef struct {
  GThreadPool *pool; /* NULL: parse on the importer's thread */
  SgIdentity *identity;
  GMutex lock;
  GCond done;
  GQueue jobs;       /* FileJob *, oldest first: the importer's alone */
  GQueue todo;       /* FileJob *, oldest first: not taken by anyone yet (under lock) */
} ParseQueue;

/* Parses @job, taken from q->todo by this thread (a worker or the importer). */
static void
parse_queue_run (ParseQueue *q, FileJob *job)
{
  file_job_run (job, q->identity);
  g_mutex_lock (&q->lock);
  job->done = TRUE;
  g_cond_broadcast (&q->done);
  g_mutex_unlock (&q->lock);
}

/* Returns: the oldest file no one has taken yet, now taken by the caller; or NULL. */
static FileJob *
parse_queue_take (ParseQueue *q)
{
  FileJob *job;

  g_mutex_lock (&q->lock);
  job = g_queue_pop_head (&q->todo);
  g_mutex_unlock (&q->lock);
  return job;
}

/* A worker's turn: one file from q->todo, if the importer did not take them all. */
static void
parse_queue_work (gpointer data, gpointer user_data)
{
  ParseQueue *q = user_data;
  FileJob *job = parse_queue_take (q);

  if (job != NULL)
    parse_queue_run (q, job);
}

static void
parse_queue_init (ParseQueue *q, SgIdentity *identity, guint n_threads)
{
  memset (q, 0, sizeof *q);
  q->identity = identity;
  g_mutex_init (&q->lock);
  g_cond_init (&q->done);
  g_queue_init (&q->jobs);
  g_queue_init (&q->todo);
  /* The importer's thread is one of the @n_threads. With one, it parses alone: no
   * hand-over at all. A pool that cannot start threads leaves the work to it too. */
  if (n_threads > 1)
    q->pool = g_thread_pool_new (parse_queue_work, q, (int) n_threads - 1, FALSE, NULL);
}

static void
parse_queue_push (ParseQueue *q, FileJob *job)
{
  g_queue_push_tail (&q->jobs, job);
  if (q->pool == NULL) {
    file_job_run (job, q->identity);
    job->done = TRUE;
    return;
  }
  g_mutex_lock (&q->lock);
  g_queue_push_tail (&q->todo, job);
  g_mutex_unlock (&q->lock);
  /* A worker's turn; the file it finds may be another, or none. */
  if (!g_thread_pool_push (q->pool, q, NULL)) {
    FileJob *own = parse_queue_take (q);

    if (own != NULL)
      parse_queue_run (q, own);
  }
}

/* Returns: (transfer full): the oldest job, once parsed; NULL when there is none. */
static FileJob *
parse_queue_pop (ParseQueue *q)
{
  FileJob *job = g_queue_pop_head (&q->jobs);

  if (job == NULL)
    return NULL;
  g_mutex_lock (&q->lock);
  while (!job->done) {
    /* The oldest file not taken: @job itself, or one the importer will need soon. */
    FileJob *own = g_queue_pop_head (&q->todo);

    if (own == NULL) {
      g_cond_wait (&q->done, &q->lock);
      continue;
    }
    g_mutex_unlock (&q->lock);
    parse_queue_run (q, own);
    g_mutex_lock (&q->lock);
  }
  g_mutex_unlock (&q->lock);
  return job;
}

/* Waits for the workers and drops what was not stored. */
static void
parse_queue_clear (ParseQueue *q)
{
  if (q->pool != NULL) {
    /* The workers' turns still queued find nothing to parse. */
    g_mutex_lock (&q->lock);
    g_queue_clear (&q->todo);
    g_mutex_unlock (&q->lock);
    g_thread_pool_free (q->pool, FALSE, TRUE);
  }
  q->pool = NULL;
  g_queue_clear_full (&q->jobs, (GDestroyNotify) file_job_free);
  g_mutex_clear (&q->lock);
  g_cond_clear (&q->done);
}

/* Stores the oldest job of @q. Returns FALSE only on store failure. */
static gboolean
store_next (SgImporter *imp, ParseQueue *q, gint64 source_id, GError **error)
{
  g_autoptr (FileJob) job = parse_queue_pop (q);

  if (!store_file_job (imp, source_id, job, error))
    return FALSE;
  imp->progress.files_done++;
  report_progress (imp, FALSE);
  return TRUE;
}

/* Imports one Maildir file on this thread (the daemon's path for one new file). */
static gboolean
import_maildir_file (SgImporter *imp, gint64 source_id, const char *path, const char *folder,
                     const char *sub, const char *name, GError **error)
{
  g_autoptr (FileJob) job = file_job_new (path, folder, sub, name);

  job->parse_flags = imp->parse_flags;
  gboolean already;

  if (!ensure_batch (imp, error) || !is_seen (imp, source_id, job->key, &already, error))
    return FALSE;
  if (already) {
    imp->stats.messages++;
    imp->stats.known++;
    return maybe_commit (imp, error);
  }
  file_job_run (job, imp->identity);
  return store_file_job (imp, source_id, job, error);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Sorted entries of @dir that are not hidden. NULL if it cannot be read. */
static GPtrArray *
list_dir (const char *dir, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  GPtrArray *names;
  const char *n;

  if (d == NULL)
    return NULL;
  names = g_ptr_array_new_with_free_func (g_free);
  while ((n = g_dir_read_name (d)) != NULL)
    if (n[0] != '.')
      g_ptr_array_add (names, g_strdup (n));
  g_ptr_array_sort (names, compare_names);
  return names;
}

typedef struct {
  char *path;   /* absolute */
  char *folder; /* relative to the root, "" for the root */
} Folder;

static int
compare_folders (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(Folder *const *) a)->folder, (*(Folder *const *) b)->folder);
}

static void
folder_free (gpointer p)
{
  Folder *f = p;

  g_free (f->path);
  g_free (f->folder);
  g_free (f);
}

/* Collects the Maildir folders under @root (the root itself, Maildir++ dot-folders and
 * nested Maildirs), and counts their messages for the progress bar. */
static void
collect_folders (SgImporter *imp, const char *path, const char *folder, int depth, GPtrArray *out)
{
  g_autoptr (GDir) d = NULL;
  const char *n;

  if (depth > MAX_FOLDER_DEPTH || (*folder && is_skipped_folder (folder)))
    return;
  if (is_maildir_folder (path)) {
    Folder *f = g_new0 (Folder, 1);

    f->path = g_strdup (path);
    f->folder = g_strdup (folder);
    g_ptr_array_add (out, f);
    for (guint s = 0; s < 2; s++) {
      g_autofree char *sub = g_build_filename (path, s ? "cur" : "new", NULL);
      g_autoptr (GDir) sd = g_dir_open (sub, 0, NULL);

      while (sd && (n = g_dir_read_name (sd)) != NULL)
        if (n[0] != '.')
          imp->progress.files_total++;
    }
  }
  d = g_dir_open (path, 0, NULL);
  while (d && (n = g_dir_read_name (d)) != NULL) {
    g_autofree char *child = NULL;
    g_autofree char *child_folder = NULL;

    if (strcmp (n, "cur") == 0 || strcmp (n, "new") == 0 || strcmp (n, "tmp") == 0 ||
        strcmp (n, ".") == 0 || strcmp (n, "..") == 0)
      continue;
    child = g_build_filename (path, n, NULL);
    if (!g_file_test (child, G_FILE_TEST_IS_DIR) || g_file_test (child, G_FILE_TEST_IS_SYMLINK))
      continue;
    child_folder = *folder ? g_strdup_printf ("%s/%s", folder, n) : g_strdup (n);
    collect_folders (imp, child, child_folder, depth + 1, out);
  }
}

/* @require_folders: fail with SG_IMPORT_ERROR_UNSUPPORTED when @root holds no Maildir folder
 * (an import of a path the user named); the daemon's rescan of a configured root does not. */
static gboolean
scan_maildir_run (SgImporter *imp, const char *root, gboolean require_folders, GCancellable *cancellable,
                  GError **error)
{
  g_autofree char *canon = canonical_path (root);
  g_autoptr (GPtrArray) folders = g_ptr_array_new_with_free_func (folder_free);
  ParseQueue q;
  gint64 source_id;

  /* The walk happens before the first write: no transaction is open during it. */
  collect_folders (imp, canon, "", 0, folders);
  if (require_folders && folders->len == 0) {
    g_set_error (error, SG_IMPORT_ERROR, SG_IMPORT_ERROR_UNSUPPORTED,
                 "%s: not a Maildir (no cur/ or new/ folder in it or below it)", root);
    return FALSE;
  }
  g_ptr_array_sort (folders, compare_folders);
  source_id = ensure_source (imp, "maildir", canon, error);
  if (source_id == 0)
    return FALSE;
  report_progress (imp, TRUE);

  parse_queue_init (&q, imp->identity, imp->parse_threads);
  for (guint i = 0; i < folders->len; i++) {
    Folder *f = folders->pdata[i];

    for (guint s = 0; s < 2; s++) {
      const char *subname = s ? "cur" : "new";
      g_autofree char *sub = g_build_filename (f->path, subname, NULL);
      g_autoptr (GError) local = NULL;
      g_autoptr (GPtrArray) names = NULL;

      if (!g_file_test (sub, G_FILE_TEST_IS_DIR))
        continue;
      names = list_dir (sub, &local);
      if (names == NULL) {
        if (!ensure_batch (imp, error))
          goto failed;
        problem (imp, source_id, sub, local);
        continue;
      }
      for (guint j = 0; j < names->len; j++) {
        g_autofree char *file = g_build_filename (sub, names->pdata[j], NULL);
        FileJob *job;
        gboolean already;

        if (g_cancellable_set_error_if_cancelled (cancellable, error)) {
          /* What was parsed ahead is dropped unstored: it is read again next time. */
          parse_queue_clear (&q);
          sg_importer_flush (imp, NULL);
          return FALSE;
        }
        job = file_job_new (file, f->folder, subname, names->pdata[j]);
        job->parse_flags = imp->parse_flags;
        if (!ensure_batch (imp, error) || !is_seen (imp, source_id, job->key, &already, error)) {
          file_job_free (job);
          goto failed;
        }
        if (already) {
          file_job_free (job);
          imp->stats.messages++;
          imp->stats.known++;
          imp->progress.files_done++;
          report_progress (imp, FALSE);
          /* A rescan of a mailbox imported before must not hold the write lock throughout. */
          if (!maybe_commit (imp, error))
            goto failed;
          continue;
        }
        parse_queue_push (&q, job);
        while (q.jobs.length >= READ_AHEAD)
          if (!store_next (imp, &q, source_id, error))
            goto failed;
      }
      /* The folder is stored before the next is listed, so that a file moving from new/
       * to cur/ meanwhile is known by its seen key when cur/ is listed. */
      while (q.jobs.length > 0)
        if (!store_next (imp, &q, source_id, error))
          goto failed;
    }
  }
  parse_queue_clear (&q);
  if (!ensure_batch (imp, error))
    return FALSE;
  {
    sqlite3_stmt *stmt = _sg_store_prepare_static (imp->store, "UPDATE sources SET last_scan = ? WHERE id = ?", error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, g_get_real_time () / G_USEC_PER_SEC);
    sqlite3_bind_int64 (stmt, 2, source_id);
    if (!_sg_store_exec_stmt (imp->store, stmt, error))
      return FALSE;
  }
  report_progress (imp, TRUE);
  return sg_importer_flush (imp, error);

failed:
  parse_queue_clear (&q);
  return FALSE;
}

/* A scan is a bulk write: a larger page cache and fewer WAL checkpoints while it runs. */
static gboolean
scan_maildir (SgImporter *imp, const char *root, gboolean require_folders, GCancellable *cancellable,
              GError **error)
{
  gboolean ok;

  _sg_store_set_bulk (imp->store, TRUE);
  imp->bulk++;
  ok = scan_maildir_run (imp, root, require_folders, cancellable, error);
  imp->bulk--;
  _sg_store_set_bulk (imp->store, FALSE);
  return ok;
}

/* What every entry point does with its result: a failure leaves no transaction open (the
 * batch it was in is rolled back, and its files are read again next time). */
static gboolean
finish (SgImporter *imp, gboolean ok)
{
  if (!ok && sg_store_in_transaction (imp->store))
    abandon_batch (imp);
  return ok;
}

gboolean
sg_importer_scan_maildir (SgImporter *importer, const char *root, GCancellable *cancellable,
                          GError **error)
{
  if (!g_file_test (root, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, SG_IMPORT_ERROR, SG_IMPORT_ERROR_NOT_FOUND, "%s: no such folder", root);
    return FALSE;
  }
  return finish (importer, scan_maildir (importer, root, FALSE, cancellable, error));
}

gboolean
sg_importer_add_maildir_file (SgImporter *importer, const char *root, const char *path, GError **error)
{
  g_autofree char *canon = canonical_path (root);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *folder_dir = g_path_get_dirname (dir);
  g_autofree char *name = g_path_get_basename (path);
  g_autofree char *canon_folder = canonical_path (folder_dir);
  const char *folder;
  gint64 source_id;

  if (name[0] == '.')
    return TRUE;
  if (!g_str_has_prefix (canon_folder, canon) ||
      (canon_folder[strlen (canon)] != '\0' && canon_folder[strlen (canon)] != '/')) {
    g_set_error (error, SG_IMPORT_ERROR, SG_IMPORT_ERROR_NOT_FOUND, "%s is not inside the Maildir %s",
                 path, root);
    return FALSE;
  }
  folder = canon_folder + strlen (canon);
  while (*folder == '/')
    folder++;
  if (*folder && is_skipped_folder (folder))
    return TRUE;
  source_id = ensure_source (importer, "maildir", canon, error);
  if (source_id == 0)
    return finish (importer, FALSE);
  {
    g_autofree char *sub = g_path_get_basename (dir);

    return finish (importer, import_maildir_file (importer, source_id, path, folder, sub, name, error));
  }
}

/* --- mbox and single files ----------------------------------------------------------- */

/* The delivery time on an mbox "From sender Thu Mar 19 14:00:00 2026" line, or 0. */
static gint64
mbox_marker_date (GMimeParser *parser)
{
  g_autofree char *marker = g_mime_parser_get_mbox_marker (parser);
  const char *p;
  GDateTime *dt;
  gint64 t;

  if (marker == NULL || !g_str_has_prefix (marker, "From "))
    return 0;
  /* Skip "From " and the envelope sender; the rest is an asctime() date. */
  p = strchr (marker + 5, ' ');
  if (p == NULL)
    return 0;
  dt = g_mime_utils_header_decode_date (p + 1);
  if (dt == NULL)
    return 0;
  t = g_date_time_to_unix (dt);
  g_date_time_unref (dt);
  return t;
}

static gboolean
import_mbox (SgImporter *imp, const char *path, int fd, gint64 size, GCancellable *cancellable,
             GError **error)
{
  g_autofree char *canon = canonical_path (path);
  g_autoptr (GMimeStream) stream = NULL;
  g_autoptr (GMimeParser) parser = NULL;
  gint64 source_id;

  source_id = ensure_source (imp, "mbox", canon, error);
  if (source_id == 0) {
    close (fd);
    return FALSE;
  }
  imp->progress.bytes_total += size;
  _sg_gmime_init ();
  stream = g_mime_stream_fs_new (fd);
  parser = g_mime_parser_new_with_stream (stream);
  g_mime_parser_set_format (parser, GMIME_FORMAT_MBOX);
  report_progress (imp, TRUE);

  while (!g_mime_parser_eos (parser)) {
    g_autoptr (GMimeMessage) mime = NULL;
    g_autoptr (GError) local = NULL;
    g_autofree char *location = NULL;
    gint64 offset, begin, end;
    SgMessage *m;

    if (g_cancellable_set_error_if_cancelled (cancellable, error)) {
      sg_importer_flush (imp, NULL);
      return FALSE;
    }
    mime = g_mime_parser_construct_message (parser, _sg_parser_options ());
    if (mime == NULL)
      break;
    offset = g_mime_parser_get_mbox_marker_offset (parser);
    begin = g_mime_parser_get_headers_begin (parser);
    end = g_mime_parser_tell (parser);
    location = g_strdup_printf ("%s:%" G_GINT64_FORMAT, canon, offset);
    imp->stats.messages++;
    imp->progress.files_done++;
    imp->progress.bytes_done = end;
    if (!ensure_batch (imp, error))
      return FALSE;
    if (end - offset > (gint64) SG_MESSAGE_MAX_SIZE) {
      g_set_error (&local, SG_MESSAGE_ERROR, SG_MESSAGE_ERROR_TOO_LARGE,
                   "message of %" G_GINT64_FORMAT " bytes is over the cap of %" G_GSIZE_FORMAT,
                   end - offset, SG_MESSAGE_MAX_SIZE);
      problem (imp, source_id, location, local);
      continue;
    }
    m = _sg_message_new_from_mime_flags (mime, (gsize) MAX (0, g_mime_parser_get_headers_end (parser) - begin),
                                         imp->identity, mbox_marker_date (parser), imp->parse_flags, &local);
    if (m == NULL) {
      problem (imp, source_id, location, local);
      continue;
    }
    if (!import_message (imp, m, source_id, location, NULL, error)) {
      sg_message_free (m);
      return FALSE;
    }
    sg_message_free (m);
    if (!maybe_commit (imp, error))
      return FALSE;
    report_progress (imp, FALSE);
  }
  report_progress (imp, TRUE);
  return sg_importer_flush (imp, error);
}

static gboolean
import_single (SgImporter *imp, const char *path, int fd, GError **error)
{
  g_autofree char *canon = canonical_path (path);
  g_autoptr (GError) local = NULL;
  g_autoptr (SgMessage) m = NULL;
  gint64 source_id;

  source_id = ensure_source (imp, "file", canon, error);
  if (source_id == 0) {
    close (fd);
    return FALSE;
  }
  imp->stats.messages++;
  imp->progress.files_total++;
  m = parse_message_file (imp->identity, fd, 0, imp->parse_flags, &local);
  imp->progress.files_done++;
  if (m == NULL)
    problem (imp, source_id, canon, local);
  else if (!import_message (imp, m, source_id, canon, NULL, error))
    return FALSE;
  report_progress (imp, TRUE);
  return sg_importer_flush (imp, error);
}

gboolean
sg_importer_import_path (SgImporter *importer, const char *path, GCancellable *cancellable,
                         GError **error)
{
  struct stat st;
  char head[5] = { 0 };
  ssize_t got;
  int fd;

  g_return_val_if_fail (importer != NULL && path != NULL, FALSE);

  if (stat (path, &st) != 0) {
    int saved = errno;

    g_set_error (error, SG_IMPORT_ERROR,
                 saved == ENOENT ? SG_IMPORT_ERROR_NOT_FOUND : SG_IMPORT_ERROR_UNREADABLE,
                 "%s: %s", path, g_strerror (saved));
    return FALSE;
  }
  if (S_ISDIR (st.st_mode)) {
    /* A folder with no Maildir in it may be a folder of .ics files (sg-ical.c). */
    if (!is_maildir_folder (path)) {
      g_autoptr (GPtrArray) folders = g_ptr_array_new_with_free_func (folder_free);
      SgImportProgress saved = importer->progress;

      collect_folders (importer, path, "", 0, folders);
      importer->progress = saved;
      if (folders->len == 0)
        return finish (importer, _sg_ical_import_dir (importer, path, cancellable, error));
    }
    return finish (importer, scan_maildir (importer, path, TRUE, cancellable, error));
  }
  if (S_ISREG (st.st_mode) && _sg_ical_is_ics_file (path))
    return finish (importer, _sg_ical_import_file (importer, path, error) && sg_importer_flush (importer, error));
  if (!S_ISREG (st.st_mode)) {
    g_set_error (error, SG_IMPORT_ERROR, SG_IMPORT_ERROR_UNSUPPORTED,
                 "%s: neither a folder nor a file", path);
    return FALSE;
  }
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int saved = errno;

    g_set_error (error, SG_IMPORT_ERROR, SG_IMPORT_ERROR_UNREADABLE, "%s: %s", path, g_strerror (saved));
    return FALSE;
  }
  got = read (fd, head, 5);
  lseek (fd, 0, SEEK_SET);
  if (got == 5 && memcmp (head, "From ", 5) == 0) {
    gboolean ok;

    _sg_store_set_bulk (importer->store, TRUE);
    importer->bulk++;
    ok = import_mbox (importer, path, fd, st.st_size, cancellable, error);
    importer->bulk--;
    _sg_store_set_bulk (importer->store, FALSE);
    return finish (importer, ok);
  }
  return finish (importer, import_single (importer, path, fd, error));
}

/* --- entry points for other sources (sg-imap.c) ------------------------------------------ */
/* --- for sg-ical.c (sg-ical-private.h) ------------------------------------------------- */

void
sg_importer_set_floating_timezone (SgImporter *importer, const char *olson)
{
  g_free (importer->floating_tz);
  importer->floating_tz = g_strdup (olson);
}

SgStore *
_sg_importer_get_store (SgImporter *importer)
{
  return importer->store;
}

gint64
_sg_importer_source (SgImporter *importer, const char *kind, const char *uri, GError **error)
{
  gint64 id = ensure_source (importer, kind, uri, error);

  if (id == 0)
    finish (importer, FALSE);
  return id;
}

SgIdentity *
_sg_importer_get_identity (SgImporter *importer)
{
  return importer->identity;
}

const char *
_sg_importer_get_floating_tz (SgImporter *importer)
{
  return importer->floating_tz;
}

gboolean
_sg_importer_begin (SgImporter *importer, GError **error)
{
  return finish (importer, ensure_batch (importer, error));
}

gboolean
_sg_importer_add_bytes (SgImporter *importer, gint64 source_id, GBytes *data, const char *location,
                        gboolean outgoing, gint64 fallback_date, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (SgMessage) m = NULL;
  gsize len = 0;
  const char *bytes = g_bytes_get_data (data, &len);

  if (!ensure_batch (importer, error))
    return finish (importer, FALSE);
  importer->stats.messages++;
  importer->progress.files_done++;
  m = sg_message_parse (bytes, len, importer->identity, fallback_date, &local);
  if (m == NULL) {
    problem (importer, source_id, location, local);
  } else {
    if (outgoing)
      _sg_message_set_direction (m, SG_DIRECTION_OUT);
    if (!import_message (importer, m, source_id, location, NULL, error))
      return FALSE;
  }
  report_progress (importer, FALSE);
  return TRUE;
}

gboolean
_sg_importer_skip (SgImporter *importer, gint64 source_id, const char *location, const GError *why,
                   GError **error)
{
  if (!ensure_batch (importer, error))
    return finish (importer, FALSE);
  importer->stats.messages++;
  importer->progress.files_done++;
  problem (importer, source_id, location, why);
  report_progress (importer, FALSE);
  return TRUE;
}

gboolean
_sg_importer_maybe_commit (SgImporter *importer, GError **error)
{
  return finish (importer, maybe_commit (importer, error));
}

void
_sg_importer_abandon (SgImporter *importer)
{
  if (sg_store_in_transaction (importer->store))
    abandon_batch (importer);
}

void
_sg_importer_add_expected (SgImporter *importer, guint64 messages)
{
  importer->progress.files_total += messages;
  report_progress (importer, TRUE);
}

gboolean
_sg_importer_done_one (SgImporter *importer, GError **error)
{
  importer->pending++;
  return maybe_commit (importer, error);
}

gint64
_sg_importer_ensure_source (SgImporter *importer, const char *kind, const char *uri, GError **error)
{
  return ensure_source (importer, kind, uri, error);
}

void
_sg_importer_problem (SgImporter *importer, gint64 source_id, const char *location, const GError *err)
{
  problem (importer, source_id, location, err);
}

void
_sg_importer_warning (SgImporter *importer, gint64 source_id, const char *location, const GError *err)
{
  note (importer, source_id, location, err);
}

SgImportStats *
_sg_importer_stats (SgImporter *importer)
{
  return &importer->stats;
}

gboolean
_sg_importer_resolve_address (SgImporter *importer, const char *address, const char *name, gint64 date,
                              gint64 *address_id, gboolean *internal, gboolean *self, GError **error)
{
  g_autofree char *norm = NULL;
  g_autofree char *clean = NULL;
  SgParticipant part = { 0 };
  AddressEntry *a;

  *address_id = 0;
  if (g_ascii_strncasecmp (address, "mailto:", 7) == 0)
    address += 7;
  norm = sg_address_normalize (address, NULL);
  if (norm == NULL)
    return TRUE;
  clean = name ? sg_name_clean (name) : NULL;
  part.address = norm;
  part.name = clean;
  part.role = SG_HEADER_TO;
  part.kind = sg_address_classify (norm);
  part.self = sg_identity_is_self (importer->identity, norm);
  part.internal = part.self || sg_identity_is_internal (importer->identity, norm);
  a = resolve_address (importer, &part, FALSE, date, error);
  if (a == NULL)
    return FALSE;
  *address_id = a->id;
  if (internal)
    *internal = part.internal;
  if (self)
    *self = part.self;
  return TRUE;
}
