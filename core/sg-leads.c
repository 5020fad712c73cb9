/* sg-leads.c: prospect lists (CSV, read with libcsv) and lead sources. */
#include "config.h"

#include "sg-leads.h"
#include "sg-org.h"
#include "sg-process-private.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

G_DEFINE_QUARK (sg-list-error-quark, sg_list_error)

/* Rows per transaction: a crash loses at most one batch, never half a row. */
#define BATCH_ROWS 500
/* A row's fields beyond this many, or bytes beyond this size, reject the row. */
#define MAX_FIELDS 512
#define MAX_ROW_BYTES (4 * 1024 * 1024)
#define READ_CHUNK 65536
/* Memory stays bounded for any file: the reasons of the first MAX_REJECTED rejected rows
 * are kept (the rest are counted), and duplicates within the file are recognised among the
 * first MAX_SEEN addresses (a later repeat is matched to the person the first made, so it
 * is never stored twice either way). */
#define MAX_REJECTED 1000
#define MAX_SEEN 200000

enum { COL_EMAIL, COL_NAME, COL_FIRST, COL_LAST, COL_ORG, COL_DOMAIN, COL_INDUSTRY, N_COLS };

static const char *const synonyms[N_COLS][8] = {
  [COL_EMAIL] = { "email", "e-mail", "mail", "email address", "e-mail address", "emailaddress", "e-mail-adresse", NULL },
  [COL_NAME] = { "name", "full name", "fullname", "contact", "contact name", NULL },
  [COL_FIRST] = { "first name", "firstname", "given name", "first", "vorname", "prénom", NULL },
  [COL_LAST] = { "last name", "lastname", "surname", "family name", "last", "nachname", "nom", NULL },
  [COL_ORG] = { "company", "organisation", "organization", "org", "account", "firma", "company name", NULL },
  [COL_DOMAIN] = { "domain", "website", "web", "url", "company domain", NULL },
  [COL_INDUSTRY] = { "industry", "sector", "branche", "branch", "secteur", "industrie", "industria", NULL },
};
static const char *const col_flags[N_COLS] = { "email", "name", "first-name", "last-name", "org", "domain", "industry" };

typedef struct {
  SgStore *store;
  SgIdentity *identity;
  const SgListOptions *opts;
  SgListStats *stats;
  SgTable *rejected;
  GError *error;           /* a store error: stops the import */
  gint64 source_id;
  char *source_name;
  /* The row being read. */
  GPtrArray *fields;       /* char* (as read, not converted) */
  gsize row_bytes;
  guint n_fields_seen;
  gboolean row_too_big;
  guint64 row_no;          /* 1-based, header included, as a spreadsheet numbers them */
  /* The header. */
  gboolean have_header;
  guint n_columns;
  int col[N_COLS];         /* 0-based, -1: none */
  GHashTable *seen;        /* address -> row number (first), for duplicates in the file */
  guint in_batch;
  gboolean stopped;
} Reader;

static void
reject (Reader *r, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
reject (Reader *r, const char *fmt, ...)
{
  va_list args;

  r->stats->rejected++;
  if (sg_table_get_n_rows (r->rejected) >= MAX_REJECTED)
    return;
  va_start (args, fmt);
  sg_table_append_row (r->rejected);
  sg_table_set_int (r->rejected, 0, (gint64) r->row_no);
  sg_table_take_text (r->rejected, 1, g_strdup_vprintf (fmt, args));
  va_end (args);
}

static void
on_field (void *data, size_t len, void *user)
{
  Reader *r = user;

  r->n_fields_seen++;
  if (r->row_too_big || r->n_fields_seen > MAX_FIELDS || r->row_bytes + len > MAX_ROW_BYTES) {
    r->row_too_big = TRUE;
    return;
  }
  r->row_bytes += len;
  g_ptr_array_add (r->fields, g_strndup (data ? data : "", len));
}

/* The field as UTF-8. Returns: (transfer full), or NULL when it cannot be converted. */
static char *
to_utf8 (Reader *r, const char *s, gboolean *converted)
{
  char *out;

  if (r->opts->encoding != NULL && g_ascii_strcasecmp (r->opts->encoding, "UTF-8") != 0) {
    out = g_convert (s, -1, "UTF-8", r->opts->encoding, NULL, NULL, NULL);
    return out;
  }
  if (g_utf8_validate (s, -1, NULL))
    return g_strdup (s);
  if (r->opts->encoding != NULL)
    return NULL; /* UTF-8 was promised */
  /* Latin-1 as Windows writes it; bytes Windows-1252 leaves undefined as ISO-8859-1. */
  out = g_convert (s, -1, "UTF-8", "WINDOWS-1252", NULL, NULL, NULL);
  if (out == NULL)
    out = g_convert (s, -1, "UTF-8", "ISO-8859-1", NULL, NULL, NULL);
  *converted = TRUE;
  return out;
}

static int
find_column (Reader *r, char **header, const char *spec)
{
  char *end = NULL;
  guint64 n;

  if (header == NULL || g_ascii_isdigit (spec[0])) {
    n = g_ascii_strtoull (spec, &end, 10);
    if (end != NULL && *end == '\0' && n >= 1 && n <= r->n_columns)
      return (int) n - 1;
    if (header == NULL)
      return -2;
  }
  for (guint i = 0; i < r->n_columns; i++)
    if (g_utf8_collate (header[i], spec) == 0 || g_ascii_strcasecmp (header[i], spec) == 0)
      return (int) i;
  return -2;
}

static gboolean
read_header (Reader *r, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_null_terminated (8, g_free, TRUE);
  const char *specs[N_COLS] = { r->opts->email_col, r->opts->name_col, r->opts->first_name_col,
                                r->opts->last_name_col, r->opts->org_col, r->opts->domain_col,
                                r->opts->industry_col };

  r->n_columns = r->fields->len;
  for (guint i = 0; i < r->fields->len; i++) {
    gboolean conv = FALSE;
    char *s = to_utf8 (r, r->fields->pdata[i], &conv);

    if (s == NULL)
      s = g_utf8_make_valid (r->fields->pdata[i], -1);
    /* A byte order mark before the first header. */
    if (i == 0 && g_str_has_prefix (s, "\xef\xbb\xbf"))
      memmove (s, s + 3, strlen (s + 3) + 1);
    g_ptr_array_add (names, g_strstrip (s));
  }
  for (guint c = 0; c < N_COLS; c++) {
    r->col[c] = -1;
    if (specs[c] != NULL) {
      r->col[c] = find_column (r, r->opts->no_header ? NULL : (char **) names->pdata, specs[c]);
      if (r->col[c] == -2) {
        g_autofree char *list = r->opts->no_header ? g_strdup_printf ("columns are numbered 1 to %u", r->n_columns)
                                                   : g_strjoinv (", ", (char **) names->pdata);

        g_set_error (error, SG_LIST_ERROR, SG_LIST_ERROR_COLUMNS, "--%s-col “%s”: no such column (%s%s)",
                     col_flags[c], specs[c], r->opts->no_header ? "" : "the header has: ", list);
        return FALSE;
      }
      continue;
    }
    for (guint i = 0; !r->opts->no_header && i < r->n_columns && r->col[c] < 0; i++) {
      g_autofree char *folded = g_utf8_strdown (names->pdata[i], -1);

      if (g_strv_contains (synonyms[c], folded))
        r->col[c] = (int) i;
    }
  }
  if (r->col[COL_EMAIL] < 0) {
    g_autofree char *list = g_strjoinv (", ", (char **) names->pdata);

    g_set_error (error, SG_LIST_ERROR, SG_LIST_ERROR_COLUMNS,
                 "no email address column (the header has: %s); name it with --email-col", list);
    return FALSE;
  }
  r->have_header = TRUE;
  return TRUE;
}

static gint64
ensure_org (Reader *r, const char *domain, const char *name, GError **error)
{
  gint64 id = _sg_org_lookup (r->store, domain, error);
  g_autofree char *display = NULL;
  JsonBuilder *b;
  sqlite3_stmt *stmt;

  if (id != 0)
    return id;
  display = name && *name ? g_strdup (name) : sg_org_name_from_domain (domain);
  stmt = _sg_store_prepare (r->store,
      "INSERT INTO organisations (domain, name, kind, created_at) VALUES (?, ?, 'external', ?)", error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, domain, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, display, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, _sg_now ());
  if (!_sg_store_exec_stmt (r->store, stmt, error))
    return -1;
  id = sqlite3_last_insert_rowid (_sg_store_get_db (r->store));
  stmt = _sg_store_prepare (r->store, "INSERT INTO org_domains (domain, org_id) VALUES (?, ?)", error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, domain, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, id);
  if (!_sg_store_exec_stmt (r->store, stmt, error))
    return -1;
  b = _sg_json_begin ();
  _sg_json_str (b, "name", display);
  _sg_json_str (b, "kind", "external");
  if (!_sg_log_json (r->store, "organisation", domain, "upsert", b, error))
    return -1;
  r->stats->new_orgs++;
  return id;
}

/* Stores one row (inside the batch's transaction, under a savepoint). Returns: FALSE on a
 * store error (in r->error). */
/* A list's industry for the organisation @org_id, when it has none yet: one set by hand, or
 * by an earlier list, stays. */
static gboolean
set_org_industry (Reader *r, gint64 org_id, const char *industry, GError **error)
{
  g_autofree char *domain = NULL;
  sqlite3_stmt *stmt;
  JsonBuilder *b;

  if (org_id <= 0 || industry == NULL || *industry == '\0' || strlen (industry) > SG_ORG_MAX_FIELD)
    return TRUE;
  stmt = _sg_store_prepare (r->store, "UPDATE organisations SET industry = ? WHERE id = ? AND industry IS NULL", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, industry, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, org_id);
  if (!_sg_store_exec_stmt (r->store, stmt, error))
    return FALSE;
  if (sqlite3_changes (_sg_store_get_db (r->store)) == 0)
    return TRUE;
  domain = _sg_org_domain (r->store, org_id);
  b = _sg_json_begin ();
  _sg_json_str (b, "industry", industry);
  return _sg_log_json (r->store, "organisation", domain, "upsert", b, error);
}

static gboolean
store_row (Reader *r, const char *address, const char *name, const char *org_name, const char *domain_field,
           const char *industry)
{
  sqlite3_stmt *stmt;
  gint64 person = 0, address_id = 0, org_id = 0;
  g_autofree char *reg = NULL;
  const char *domain = sg_address_get_domain (address);
  GError **error = &r->error;
  JsonBuilder *b;
  g_autofree char *key = NULL;

  stmt = _sg_store_prepare (r->store, "SELECT id, person_id FROM addresses WHERE address = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, address, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW) {
    address_id = sqlite3_column_int64 (stmt, 0);
    person = sqlite3_column_int64 (stmt, 1);
  }
  sqlite3_reset (stmt);
  if (address_id != 0 && person == 0) {
    reject (r, "%s is known as an address that is not a person (a role or list address)", address);
    return TRUE;
  }
  if (person != 0) {
    r->stats->matched++;
    if (industry != NULL && *industry) {
      stmt = _sg_store_prepare (r->store, "SELECT org_id FROM people WHERE id = ?", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, person);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        org_id = sqlite3_column_int64 (stmt, 0);
      sqlite3_reset (stmt);
    }
  } else {
    reg = sg_domain_get_registrable (domain);
    if (reg != NULL && sg_domain_is_freemail (reg)) {
      /* A freemail address: the organisation comes from the domain column, if any. */
      g_clear_pointer (&reg, g_free);
      if (domain_field != NULL && *domain_field) {
        g_autofree char *d = g_utf8_strdown (domain_field, -1);
        char *host = d;

        if (strstr (host, "://") != NULL)
          host = strstr (host, "://") + 3;
        host[strcspn (host, "/")] = '\0';
        if (g_str_has_prefix (host, "www."))
          host += 4;
        reg = sg_domain_get_registrable (host);
      }
    }
    if (reg != NULL && (org_id = ensure_org (r, reg, org_name, error)) < 0)
      return FALSE;
    stmt = _sg_store_prepare (r->store,
        "INSERT INTO people (name, name_score, org_id, kind, created_at) VALUES (?, ?, ?, 'contact', ?)", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int (stmt, 2, name ? sg_name_score (name, address) : 0);
    if (org_id > 0)
      sqlite3_bind_int64 (stmt, 3, org_id);
    sqlite3_bind_int64 (stmt, 4, _sg_now ());
    if (!_sg_store_exec_stmt (r->store, stmt, error))
      return FALSE;
    person = sqlite3_last_insert_rowid (_sg_store_get_db (r->store));
    {
      g_autofree char *addr_reg = sg_domain_get_registrable (domain);

      stmt = _sg_store_prepare (r->store,
          "INSERT INTO addresses (address, domain, org_domain, kind, person_id, created_at) "
          "VALUES (?, ?, ?, 'personal', ?, ?)", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, address, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, domain, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, addr_reg && !sg_domain_is_freemail (addr_reg) ? addr_reg : NULL, -1,
                         SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 4, person);
      sqlite3_bind_int64 (stmt, 5, _sg_now ());
      if (!_sg_store_exec_stmt (r->store, stmt, error))
        return FALSE;
    }
    b = _sg_json_begin ();
    _sg_json_str (b, "name", name);
    _sg_json_str (b, "kind", "contact");
    if (!_sg_log_json (r->store, "person", address, "upsert", b, error))
      return FALSE;
    r->stats->new_people++;
  }
  if (!set_org_industry (r, org_id, industry, error))
    return FALSE;
  if (r->source_id == 0) /* a person added by hand (sg_leads_add_person()) */
    return TRUE;
  stmt = _sg_store_prepare (r->store,
      "INSERT INTO person_lead_sources (person_id, lead_source_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
      error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, person);
  sqlite3_bind_int64 (stmt, 2, r->source_id);
  sqlite3_bind_int64 (stmt, 3, _sg_now ());
  if (!_sg_store_exec_stmt (r->store, stmt, error))
    return FALSE;
  if (sqlite3_changes (_sg_store_get_db (r->store)) == 0)
    return TRUE;
  key = g_strdup_printf ("%s|%s", address, r->source_name);
  b = _sg_json_begin ();
  _sg_json_str (b, "credited_to", r->opts->credited_to);
  return _sg_log_json (r->store, "person_lead_source", key, "add", b, error);
}

static void
process_row (Reader *r)
{
  g_autoptr (GPtrArray) utf8 = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *address = NULL;
  g_autofree char *name = NULL;
  gboolean converted = FALSE;
  const char *v[N_COLS] = { 0 };
  guint first;

  r->stats->rows++;
  if (r->fields->len != r->n_columns) {
    reject (r, "%u field%s, the header has %u", r->fields->len, r->fields->len == 1 ? "" : "s", r->n_columns);
    return;
  }
  for (guint i = 0; i < r->fields->len; i++) {
    char *s = to_utf8 (r, r->fields->pdata[i], &converted);

    if (s == NULL) {
      reject (r, "column %u is not valid %s", i + 1, r->opts->encoding ? r->opts->encoding : "UTF-8");
      return;
    }
    g_ptr_array_add (utf8, g_strstrip (s));
  }
  if (converted)
    r->stats->converted++;
  for (guint c = 0; c < N_COLS; c++)
    v[c] = r->col[c] >= 0 ? utf8->pdata[r->col[c]] : NULL;
  if (v[COL_EMAIL] == NULL || *v[COL_EMAIL] == '\0') {
    reject (r, "no email address");
    return;
  }
  address = sg_address_normalize (v[COL_EMAIL], NULL);
  if (address == NULL) {
    reject (r, "“%s” is not an email address", v[COL_EMAIL]);
    return;
  }
  if (sg_identity_is_self (r->identity, address) || sg_identity_is_internal (r->identity, address)) {
    reject (r, "%s is your own or a colleague's address", address);
    return;
  }
  if (sg_address_classify (address) != SG_ADDRESS_PERSONAL) {
    reject (r, "%s is a %s address, not a person's", address, sg_address_kind_to_string (sg_address_classify (address)));
    return;
  }
  first = GPOINTER_TO_UINT (g_hash_table_lookup (r->seen, address));
  if (first != 0) {
    reject (r, "%s is already on row %u", address, first);
    return;
  }
  if (g_hash_table_size (r->seen) < MAX_SEEN)
    g_hash_table_insert (r->seen, g_strdup (address), GUINT_TO_POINTER ((guint) r->row_no));
  if (v[COL_NAME] != NULL && *v[COL_NAME])
    name = sg_name_clean (v[COL_NAME]);
  else if ((v[COL_FIRST] && *v[COL_FIRST]) || (v[COL_LAST] && *v[COL_LAST])) {
    g_autofree char *joined = g_strjoin (" ", v[COL_FIRST] ? v[COL_FIRST] : "", v[COL_LAST] ? v[COL_LAST] : "", NULL);

    name = sg_name_clean (g_strstrip (joined));
  }
  if (name != NULL && *name == '\0')
    g_clear_pointer (&name, g_free);
  if (!sg_store_begin (r->store, &r->error)) {
    r->stopped = TRUE;
    return;
  }
  /* Every check that can reject a row is made above, before anything is written: a row
   * is stored whole. A store failure stops the import (the batch is rolled back). */
  if (!store_row (r, address, name, v[COL_ORG], v[COL_DOMAIN], v[COL_INDUSTRY])) {
    r->stopped = TRUE;
    sg_store_rollback (r->store);
    return;
  }
  if (!sg_store_commit (r->store, &r->error))
    r->stopped = TRUE;
}

static void
on_row (int terminator, void *user)
{
  Reader *r = user;

  r->row_no++;
  if (r->stopped)
    goto out;
  if (r->row_too_big) {
    if (!r->have_header) {
      g_set_error (&r->error, SG_LIST_ERROR, SG_LIST_ERROR_TOO_BIG, "the header row is too large");
      r->stopped = TRUE;
    } else {
      r->stats->rows++;
      reject (r, "more than %d fields or %d MB", MAX_FIELDS, MAX_ROW_BYTES / (1024 * 1024));
    }
    goto out;
  }
  /* An empty line is not a row. */
  if (r->fields->len == 1 && *(char *) r->fields->pdata[0] == '\0')
    goto out;
  if (!r->have_header) {
    if (!read_header (r, &r->error)) {
      r->stopped = TRUE;
      goto out;
    }
    if (!r->opts->no_header)
      goto out;
  }
  process_row (r);
  if (!r->stopped && ++r->in_batch >= BATCH_ROWS) {
    r->in_batch = 0;
    if (!sg_store_commit (r->store, &r->error) || !sg_store_begin (r->store, &r->error))
      r->stopped = TRUE;
  }
out:
  g_ptr_array_set_size (r->fields, 0);
  r->row_bytes = 0;
  r->n_fields_seen = 0;
  r->row_too_big = FALSE;
}

static gboolean
make_source (Reader *r, GError **error)
{
  sqlite3_stmt *stmt;

  r->source_name = g_strdup_printf ("list:%s", r->opts->list_name);
  stmt = _sg_store_prepare (r->store,
      "INSERT INTO lead_sources (name, kind, detail, credited_to, created_at) VALUES (?, 'rented-list', ?, ?, ?) "
      "ON CONFLICT (name) DO NOTHING", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, r->source_name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, r->opts->list_name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, r->opts->credited_to, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, _sg_now ());
  if (!_sg_store_exec_stmt (r->store, stmt, error))
    return FALSE;
  if (sqlite3_changes (_sg_store_get_db (r->store)) > 0) {
    JsonBuilder *b = _sg_json_begin ();

    _sg_json_str (b, "kind", "rented-list");
    _sg_json_str (b, "detail", r->opts->list_name);
    _sg_json_str (b, "credited_to", r->opts->credited_to);
    if (!_sg_log_json (r->store, "lead_source", r->source_name, "upsert", b, error))
      return FALSE;
  }
  r->source_id = _sg_lead_source_id (r->store, r->source_name, error);
  return r->source_id > 0;
}

gboolean
sg_list_import (SgStore *store, SgIdentity *identity, const char *path, const SgListOptions *options,
                SgListStats *stats, SgTable **rejected, GCancellable *cancellable, GError **error)
{
  struct csv_parser parser;
  Reader r = { 0 };
  SgListStats local_stats = { 0 };
  g_autofree char *buf = NULL;
  gboolean ok = FALSE, in_txn = FALSE;
  int fd = -1;

  if (stats == NULL)
    stats = &local_stats;
  memset (stats, 0, sizeof *stats);
  if (rejected)
    *rejected = NULL;
  if (options->list_name == NULL || *options->list_name == '\0') {
    g_set_error (error, SG_LIST_ERROR, SG_LIST_ERROR_INVALID, "a prospect list needs a name (its lead source)");
    return FALSE;
  }
  if (options->encoding != NULL) {
    GIConv cd = g_iconv_open ("UTF-8", options->encoding);

    if (cd == (GIConv) -1) {
      g_set_error (error, SG_LIST_ERROR, SG_LIST_ERROR_ENCODING, "unknown encoding “%s”", options->encoding);
      return FALSE;
    }
    g_iconv_close (cd);
  }
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int saved = errno;

    g_set_error (error, SG_LIST_ERROR, SG_LIST_ERROR_OPEN, "%s: %s", path, g_strerror (saved));
    return FALSE;
  }
  if (csv_init (&parser, CSV_APPEND_NULL) != 0) {
    close (fd);
    g_set_error (error, SG_LIST_ERROR, SG_LIST_ERROR_OPEN, "%s: cannot start the CSV parser", path);
    return FALSE;
  }
  csv_set_delim (&parser, (unsigned char) (options->delimiter ? options->delimiter : ','));
  r.store = store;
  r.identity = identity;
  r.opts = options;
  r.stats = stats;
  r.fields = g_ptr_array_new_with_free_func (g_free);
  r.seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  r.rejected = sg_table_new ();
  sg_table_add_column (r.rejected, "row", SG_COLUMN_INT, 0);
  sg_table_add_column (r.rejected, "reason", SG_COLUMN_TEXT, 0);
  buf = g_malloc (READ_CHUNK);

  if (!sg_store_begin (store, error))
    goto out;
  in_txn = TRUE;
  if (!make_source (&r, error))
    goto out;
  for (;;) {
    ssize_t n = read (fd, buf, READ_CHUNK);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int saved = errno;

      g_set_error (error, SG_LIST_ERROR, SG_LIST_ERROR_OPEN, "%s: read failed after row %" G_GUINT64_FORMAT ": %s",
                   path, r.row_no, g_strerror (saved));
      goto out;
    }
    if (n == 0)
      break;
    /* Small slices, so that a runaway field is caught before it grows large. */
    for (ssize_t off = 0; off < n && !r.stopped; off += 4096) {
      size_t len = (size_t) MIN ((ssize_t) 4096, n - off);

      if (csv_parse (&parser, buf + off, len, on_field, on_row, &r) != len) {
        g_set_error (error, SG_LIST_ERROR, SG_LIST_ERROR_OPEN, "%s: row %" G_GUINT64_FORMAT ": %s", path,
                     r.row_no + 1, csv_strerror (csv_error (&parser)));
        goto out;
      }
      if (parser.entry_pos > SG_LIST_MAX_FIELD) {
        g_set_error (error, SG_LIST_ERROR, SG_LIST_ERROR_TOO_BIG,
                     "%s: row %" G_GUINT64_FORMAT ": a field larger than %d MB (an unclosed quote?); the rows "
                     "before it were imported", path, r.row_no + 1, SG_LIST_MAX_FIELD / (1024 * 1024));
        goto out;
      }
    }
    if (r.stopped)
      break;
    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      goto out;
  }
  if (!r.stopped)
    csv_fini (&parser, on_field, on_row, &r);
  if (r.error != NULL) {
    g_propagate_prefixed_error (error, g_steal_pointer (&r.error), "%s: ", path);
    goto out;
  }
  if (!r.have_header) {
    g_set_error (error, SG_LIST_ERROR, SG_LIST_ERROR_EMPTY, "%s: the file is empty (no header row)", path);
    goto out;
  }
  ok = TRUE;
out:
  if (in_txn) {
    /* What was read before a failure is kept: rows are whole, the batch is committed. */
    if (!sg_store_commit (store, ok ? error : NULL) && ok)
      ok = FALSE;
  }
  csv_free (&parser);
  close (fd);
  g_clear_error (&r.error);
  g_ptr_array_unref (r.fields);
  g_hash_table_unref (r.seen);
  g_free (r.source_name);
  if (rejected)
    *rejected = r.rejected;
  else
    sg_table_free (r.rejected);
  return ok;
}

SgTable *
sg_lead_source_list (SgStore *store, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "SELECT s.name, s.kind, s.detail, s.credited_to, "
      "  (SELECT count(*) FROM person_lead_sources pl WHERE pl.lead_source_id = s.id), s.builtin "
      "FROM lead_sources s ORDER BY s.builtin DESC, s.id", error);
  SgTable *t;

  if (stmt == NULL)
    return NULL;
  t = sg_table_new ();
  sg_table_add_column (t, "name", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "kind", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "detail", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "credited_to", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "people", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "builtin", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  if (!_sg_table_fill (store, t, stmt, error)) {
    sg_table_free (t);
    return NULL;
  }
  return t;
}

gint64
sg_leads_person_watermark (SgStore *store)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store, "SELECT coalesce(max(id), 0) FROM people", NULL);
  gint64 id = 0;

  if (stmt == NULL)
    return 0;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return id;
}

/* "referral:ADDRESS" or "management:ADDRESS" when @address is one of the team, else NULL. */
static const char *
team_prefix (GHashTable *analysts, GHashTable *managers, const char *address)
{
  if (g_hash_table_contains (managers, address))
    return "management:";
  if (g_hash_table_contains (analysts, address))
    return "referral:";
  return NULL;
}

static GHashTable *
address_set (const char *const *list)
{
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; list && list[i]; i++) {
    char *norm = sg_address_normalize (list[i], NULL);

    if (norm != NULL)
      g_hash_table_add (set, norm);
  }
  return set;
}

gboolean
sg_leads_credit_captured (SgStore *store, const char *const *analysts, const char *const *managers,
                          gint64 after_person_id, guint *n_credited, GError **error)
{
  g_autoptr (GHashTable) a_set = address_set (analysts);
  g_autoptr (GHashTable) m_set = address_set (managers);
  g_autoptr (GArray) people = g_array_new (FALSE, FALSE, sizeof (gint64));
  sqlite3_stmt *stmt;
  guint credited = 0;
  int rc;

  if (n_credited)
    *n_credited = 0;
  if (g_hash_table_size (a_set) == 0 && g_hash_table_size (m_set) == 0)
    return TRUE;
  if (!sg_store_begin (store, error))
    return FALSE;
  stmt = _sg_store_prepare (store,
      "SELECT p.id FROM people p WHERE p.id > ? AND p.kind = 'contact' "
      "AND NOT EXISTS (SELECT 1 FROM person_lead_sources s WHERE s.person_id = p.id) ORDER BY p.id", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, after_person_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64 (stmt, 0);

    g_array_append_val (people, id);
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "credit");
    goto fail;
  }
  for (guint i = 0; i < people->len; i++) {
    gint64 pid = g_array_index (people, gint64, i), source;
    g_autofree char *who = NULL;
    g_autofree char *address = NULL;
    g_autofree char *key = NULL;
    JsonBuilder *b;

    /* The team's addresses among the participants of the person's first interaction, the
     * sender first. */
    stmt = _sg_store_prepare (store,
        "SELECT a2.address FROM participants pa2 JOIN addresses a2 ON a2.id = pa2.address_id "
        "WHERE pa2.interaction_id = (SELECT i.id FROM addresses a JOIN participants pa ON pa.address_id = a.id "
        "  JOIN interactions i ON i.id = pa.interaction_id WHERE a.person_id = ?1 AND i.bulk = 0 "
        "  ORDER BY i.date_utc, i.id LIMIT 1) "
        "ORDER BY pa2.role != 'from', pa2.role != 'sender', pa2.role, a2.id", error);
    if (stmt == NULL)
      goto fail;
    sqlite3_bind_int64 (stmt, 1, pid);
    while (who == NULL && (rc = sqlite3_step (stmt)) == SQLITE_ROW) {
      const char *addr = _SG_COL_TEXT (stmt, 0);
      const char *prefix = team_prefix (a_set, m_set, addr);

      if (prefix != NULL)
        who = g_strconcat (prefix, addr, NULL);
    }
    sqlite3_reset (stmt);
    if (who == NULL)
      continue;
    if ((source = _sg_lead_source_id (store, who, error)) < 0)
      goto fail;
    stmt = _sg_store_prepare (store,
        "INSERT INTO person_lead_sources (person_id, lead_source_id, added_at) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING", error);
    if (stmt == NULL)
      goto fail;
    sqlite3_bind_int64 (stmt, 1, pid);
    sqlite3_bind_int64 (stmt, 2, source);
    sqlite3_bind_int64 (stmt, 3, _sg_now ());
    if (!_sg_store_exec_stmt (store, stmt, error))
      goto fail;
    address = _sg_person_address (store, pid);
    key = g_strdup_printf ("%s|%s", address ? address : "", who);
    b = _sg_json_begin ();
    _sg_json_str (b, "credited_to", strchr (who, ':') + 1);
    if (!_sg_log_json (store, "person_lead_source", key, "add", b, error))
      goto fail;
    credited++;
  }
  if (!sg_store_commit (store, error))
    return FALSE;
  if (n_credited)
    *n_credited = credited;
  return TRUE;
fail:
  sg_store_rollback (store);
  return FALSE;
}

gboolean
sg_leads_add_person (SgStore *store, SgIdentity *identity, const char *address, const char *name,
                     gboolean *added, GError **error)
{
  g_autofree char *norm = NULL;
  g_autofree char *clean = NULL;
  SgListOptions opts = { 0 };
  SgListStats stats = { 0 };
  Reader r = { 0 };
  gint64 known;

  g_return_val_if_fail (store != NULL && address != NULL, FALSE);
  if (added != NULL)
    *added = FALSE;
  if ((norm = sg_address_normalize (address, NULL)) == NULL) {
    g_set_error (error, SG_LIST_ERROR, SG_LIST_ERROR_INVALID, "“%s” is not an email address", address);
    return FALSE;
  }
  if (identity != NULL && (sg_identity_is_self (identity, norm) || sg_identity_is_internal (identity, norm))) {
    g_set_error (error, SG_LIST_ERROR, SG_LIST_ERROR_INVALID, "%s is your own or a colleague's address", norm);
    return FALSE;
  }
  if (sg_address_classify (norm) != SG_ADDRESS_PERSONAL) {
    g_set_error (error, SG_LIST_ERROR, SG_LIST_ERROR_INVALID, "%s is a %s address, not a person's", norm,
                 sg_address_kind_to_string (sg_address_classify (norm)));
    return FALSE;
  }
  if ((known = _sg_person_lookup (store, norm, error)) < 0)
    return FALSE;
  if (known > 0)
    return TRUE;
  if (name != NULL && *name != '\0')
    clean = sg_name_clean (name);
  r.store = store;
  r.identity = identity;
  r.opts = &opts;
  r.stats = &stats;
  r.rejected = sg_table_new ();
  sg_table_add_column (r.rejected, "row", SG_COLUMN_INT, 0);
  sg_table_add_column (r.rejected, "reason", SG_COLUMN_TEXT, 0);
  if (!sg_store_begin (store, error)) {
    sg_table_free (r.rejected);
    return FALSE;
  }
  if (!store_row (&r, norm, clean && *clean ? clean : NULL, NULL, NULL, NULL) || stats.rejected > 0) {
    sg_store_rollback (store);
    if (r.error != NULL)
      g_propagate_error (error, r.error);
    else
      g_set_error (error, SG_LIST_ERROR, SG_LIST_ERROR_INVALID, "%s: %s", norm,
                   sg_table_get_n_rows (r.rejected) > 0 ? sg_table_get_text (r.rejected, 0, 1) : "refused");
    sg_table_free (r.rejected);
    return FALSE;
  }
  sg_table_free (r.rejected);
  if (!sg_store_commit (store, error))
    return FALSE;
  if (added != NULL)
    *added = stats.new_people > 0;
  return TRUE;
}
