/* test-store.c: opening, refusing, migrating and transactions of the local store (sg-store.h). */
#include "config.h"

#include <locale.h>
#include <sqlite3.h>

#include "sg.h"
#include "test-util.h"

typedef struct {
  char *dir;
  char *path; /* dir/store.db, not created */
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->dir = sg_test_make_tmpdir ();
  f->path = g_build_filename (f->dir, "store.db", NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  sg_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->path);
}

/* The library keeps its SQLite handle private. The tests reach it the way any SQLite user
 * could: an auto-extension sees every connection this process opens. */
static sqlite3 *captured_db;
static gboolean capturing;

static int
capture_db (sqlite3 *db, char **errmsg, const sqlite3_api_routines *api)
{
  if (capturing)
    captured_db = db;
  return SQLITE_OK;
}

/* Opens the store at @path and returns its SQLite connection in *@db (valid until the
 * store is closed). */
static SgStore *
open_store_with_db (const char *path, SgStoreOpenFlags flags, sqlite3 **db, GError **error)
{
  SgStore *store;

  captured_db = NULL;
  capturing = TRUE;
  store = sg_store_open (path, flags, error);
  capturing = FALSE;
  *db = store ? captured_db : NULL;
  return store;
}

/* A connection of our own on the same file, like another process's. */
static sqlite3 *
open_raw (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  return db;
}

static void
raw_exec (sqlite3 *db, const char *sql)
{
  char *msg = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    sg_test_failf ("%s: %s", sql, msg ? msg : "?");
  sqlite3_free (msg);
}

static gint64
raw_int (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 v = -1;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    v = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return v;
}

static char *
raw_text (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  char *v = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    v = g_strdup ((const char *)sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return v;
}

/* Adds one external organisation through the store's own connection. */
static void
insert_org (sqlite3 *db, const char *domain)
{
  g_autofree char *sql = g_strdup_printf (
      "INSERT INTO organisations (domain, name, kind, created_at) VALUES ('%s', 'X', 'external', 0)", domain);

  raw_exec (db, sql);
}

static void
begin_ok (SgStore *store)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sg_store_begin (store, &error));
  sg_assert_no_error (error);
}

static void
commit_ok (SgStore *store)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sg_store_commit (store, &error));
  sg_assert_no_error (error);
}

static gint64
count_orgs (SgStore *store)
{
  g_autoptr (GError) error = NULL;
  gint64 n = sg_store_count_organisations (store, &error);

  sg_assert_no_error (error);
  return n;
}

static void
test_create (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgStore) store = sg_store_open (f->path, SG_STORE_OPEN_DEFAULT, &error);

  sg_assert_no_error (error);
  g_assert_nonnull (store);
  if (store == NULL)
    return;
  g_assert_cmpint (sg_store_get_latest_version (), >=, 1);
  g_assert_cmpint (sg_store_get_version (store), ==, sg_store_get_latest_version ());
  g_assert_cmpstr (sg_store_get_path (store), ==, f->path);
  g_assert_true (g_uuid_string_is_valid (sg_store_get_device_id (store)));
  g_assert_false (sg_store_in_transaction (store));
  g_assert_cmpint (sg_store_count_people (store, NULL), ==, 0);
  g_assert_cmpint (sg_store_count_organisations (store, NULL), ==, 0);
  g_assert_cmpint (sg_store_count_interactions (store, NULL), ==, 0);
  sg_assert_no_error (error);
  g_assert_true (g_file_test (f->path, G_FILE_TEST_IS_REGULAR));
}

/* Runs @sql on @db and returns SQLite's extended result code. */
static int
raw_try (sqlite3 *db, const char *sql)
{
  int rc = sqlite3_exec (db, sql, NULL, NULL, NULL);

  return rc == SQLITE_OK ? rc : sqlite3_extended_errcode (db);
}

/* The constraints still refuse what they refused, accept what they accepted, and none is an
 * IN list any more (0012-checks: SQLite builds an ephemeral index for an IN list at every
 * row written). */
static void
test_checks_without_in (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sqlite3 *db = NULL;
  g_autoptr (SgStore) store = open_store_with_db (f->path, SG_STORE_OPEN_DEFAULT, &db, &error);
  sqlite3_stmt *stmt = NULL;
  int tables = 0;

  sg_assert_no_error (error);
  if (db == NULL)
    return;
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT name, sql FROM sqlite_schema WHERE type = 'table'", -1,
                                       &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW) {
    const char *sql = (const char *)sqlite3_column_text (stmt, 1);
    g_autoptr (GRegex) in_list = g_regex_new ("CHECK\\s*\\(\\s*\\w+\\s+IN\\s*\\(", G_REGEX_CASELESS, 0, NULL);

    if (sql != NULL && g_regex_match (in_list, sql, 0, NULL))
      sg_test_failf ("table %s still has a CHECK with an IN list: %s", sqlite3_column_text (stmt, 0), sql);
    tables++;
  }
  sqlite3_finalize (stmt);
  g_assert_cmpint (tables, >, 20);

  raw_exec (db, "INSERT INTO organisations (id, domain, name, kind, created_at) VALUES (1, 'a.com', 'A', 'external', 0)");
  g_assert_cmpint (raw_try (db, "INSERT INTO organisations (domain, name, kind, created_at) VALUES ('b.com', 'B', 'extern', 0)"),
                   ==, SQLITE_CONSTRAINT_CHECK);
  g_assert_cmpint (raw_try (db, "INSERT INTO organisations (domain, name, kind, created_at) VALUES ('c.com', 'C', 'External', 0)"),
                   ==, SQLITE_CONSTRAINT_CHECK);
  raw_exec (db, "INSERT INTO people (id, kind, created_at) VALUES (1, 'self', 0)");
  raw_exec (db, "INSERT INTO people (id, org_id, created_at) VALUES (2, 1, 0)");
  g_assert_cmpint (raw_try (db, "INSERT INTO people (kind, created_at) VALUES ('', 0)"), ==, SQLITE_CONSTRAINT_CHECK);
  g_assert_cmpint (raw_try (db, "UPDATE people SET kind = 'boss' WHERE id = 2"), ==, SQLITE_CONSTRAINT_CHECK);
  g_assert_cmpint (raw_int (db, "SELECT count(*) FROM people WHERE kind = 'contact'"), ==, 1);
  raw_exec (db, "UPDATE people SET kind = 'colleague' WHERE id = 2");
  g_assert_cmpint (raw_try (db, "INSERT INTO tags (name, kind, created_at) VALUES ('x', 'topics', 0)"), ==, SQLITE_CONSTRAINT_CHECK);
  raw_exec (db, "INSERT INTO tags (name, kind, created_at) VALUES ('x', 'meeting-kind', 0)");
  g_assert_cmpint (raw_try (db, "INSERT INTO lead_sources (name, kind, created_at) VALUES ('l', 'events', 0)"),
                   ==, SQLITE_CONSTRAINT_CHECK);
}

static void
test_wal_and_foreign_keys (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sqlite3 *db = NULL;
  g_autoptr (SgStore) store = open_store_with_db (f->path, SG_STORE_OPEN_DEFAULT, &db, &error);
  g_autofree char *mode = NULL;

  sg_assert_no_error (error);
  g_assert_nonnull (db);
  if (db == NULL)
    return;
  /* WAL lets the CLI read while the daemon writes. */
  mode = raw_text (db, "PRAGMA journal_mode");
  g_assert_cmpstr (mode, ==, "wal");
  g_assert_cmpint (raw_int (db, "PRAGMA foreign_keys"), ==, 1);
}

static void
test_reopen_keeps_data (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *device = NULL;
  sqlite3 *db = NULL;
  SgStore *store = open_store_with_db (f->path, SG_STORE_OPEN_DEFAULT, &db, &error);

  sg_assert_no_error (error);
  if (store == NULL)
    return;
  device = g_strdup (sg_store_get_device_id (store));
  begin_ok (store);
  insert_org (db, "acme.com");
  commit_ok (store);
  sg_assert_no_error (error);
  sg_store_close (store);

  store = sg_store_open (f->path, SG_STORE_OPEN_DEFAULT, &error);
  sg_assert_no_error (error);
  if (store == NULL)
    return;
  g_assert_cmpint (count_orgs (store), ==, 1);
  g_assert_cmpint (sg_store_get_version (store), ==, sg_store_get_latest_version ());
  /* The device id is made once, with the store: the change log depends on it. */
  g_assert_cmpstr (sg_store_get_device_id (store), ==, device);
  sg_store_close (store);

  /* Read-only sees the same data and the same device. */
  store = sg_store_open (f->path, SG_STORE_OPEN_READ_ONLY, &error);
  sg_assert_no_error (error);
  if (store == NULL)
    return;
  g_assert_cmpint (count_orgs (store), ==, 1);
  g_assert_cmpstr (sg_store_get_device_id (store), ==, device);
  sg_store_close (store);
}

static void
test_device_ids_differ (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *other = g_build_filename (f->dir, "other.db", NULL);
  g_autoptr (SgStore) a = sg_store_open (f->path, SG_STORE_OPEN_DEFAULT, NULL);
  g_autoptr (SgStore) b = sg_store_open (other, SG_STORE_OPEN_DEFAULT, NULL);

  g_assert_nonnull (a);
  g_assert_nonnull (b);
  if (a == NULL || b == NULL)
    return;
  g_assert_cmpstr (sg_store_get_device_id (a), !=, sg_store_get_device_id (b));
}

static void
test_too_new (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *sql = g_strdup_printf ("PRAGMA user_version = %d", sg_store_get_latest_version () + 1);
  SgStore *store = sg_store_open (f->path, SG_STORE_OPEN_DEFAULT, &error);
  sqlite3 *raw;

  sg_assert_no_error (error);
  sg_store_close (store);
  raw = open_raw (f->path);
  raw_exec (raw, sql);
  sqlite3_close (raw);

  for (int ro = 0; ro < 2; ro++) {
    g_autoptr (GError) local = NULL;

    store = sg_store_open (f->path, ro ? SG_STORE_OPEN_READ_ONLY : SG_STORE_OPEN_DEFAULT, &local);
    g_assert_null (store);
    sg_store_close (store);
    g_assert_error (local, SG_STORE_ERROR, SG_STORE_ERROR_TOO_NEW);
    if (local != NULL)
      g_assert_true (sg_test_contains (local->message, f->path));
  }
  /* Refused means untouched. */
  raw = open_raw (f->path);
  g_assert_cmpint (raw_int (raw, "PRAGMA user_version"), ==, sg_store_get_latest_version () + 1);
  sqlite3_close (raw);
}

static void
test_not_sqlite (Fixture *f, gconstpointer data)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (20260319);
  guint8 bytes[8192];
  g_autofree char *junk = NULL;
  g_autofree char *text = NULL;
  const char *paths[2];

  for (gsize i = 0; i < sizeof bytes; i++)
    bytes[i] = (guint8)g_rand_int_range (rand, 0, 256);
  junk = sg_test_write_file (f->dir, "junk.db", (const char *)bytes, sizeof bytes);
  text = sg_test_write_file (f->dir, "notes.txt",
                             "Dear diary, today I pointed SalesGetter at the wrong file.\n"
                             "It should say so, and name the file, and leave it alone.\n"
                             "Padding padding padding padding padding padding padding.\n",
                             -1);
  paths[0] = junk;
  paths[1] = text;
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++) {
    for (int ro = 0; ro < 2; ro++) {
      g_autoptr (GError) error = NULL;
      g_autoptr (SgStore) store
          = sg_store_open (paths[i], ro ? SG_STORE_OPEN_READ_ONLY : SG_STORE_OPEN_DEFAULT, &error);

      g_test_message ("%s%s: %s", paths[i], ro ? " (read-only)" : "", error ? error->message : "opened");
      g_assert_null (store);
      g_assert_error (error, SG_STORE_ERROR, SG_STORE_ERROR_CORRUPT);
      if (error != NULL)
        g_assert_true (sg_test_contains (error->message, paths[i]));
    }
  }
  /* The file is left as it was. */
  {
    g_autofree char *after = NULL;
    gsize len = 0;

    g_assert_true (g_file_get_contents (junk, &after, &len, NULL));
    g_assert_cmpmem (after, len, bytes, sizeof bytes);
  }
}

static void
test_foreign_sqlite (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgStore) store = NULL;
  sqlite3 *raw = open_raw (f->path);

  raw_exec (raw, "CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT); "
                 "INSERT INTO moz_places (url) VALUES ('https://example.com')");
  sqlite3_close (raw);

  store = sg_store_open (f->path, SG_STORE_OPEN_DEFAULT, &error);
  g_assert_null (store);
  g_assert_error (error, SG_STORE_ERROR, SG_STORE_ERROR_CORRUPT);
  if (error != NULL)
    g_assert_true (sg_test_contains (error->message, f->path));

  /* Not migrated into: still only the foreign table. */
  raw = open_raw (f->path);
  g_assert_cmpint (raw_int (raw, "SELECT count(*) FROM sqlite_master"), ==, 1);
  g_assert_cmpint (raw_int (raw, "PRAGMA user_version"), ==, 0);
  sqlite3_close (raw);
}

static void
test_foreign_sqlite_read_only (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgStore) store = NULL;
  sqlite3 *raw = open_raw (f->path);

  raw_exec (raw, "CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)");
  sqlite3_close (raw);
  /* Read-only must not call a foreign database "a store that needs a migration". */
  store = sg_store_open (f->path, SG_STORE_OPEN_READ_ONLY, &error);
  g_assert_null (store);
  g_assert_error (error, SG_STORE_ERROR, SG_STORE_ERROR_CORRUPT);
}

static void
test_migrate_empty_file (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *empty = sg_test_write_file (f->dir, "empty.db", "", 0);
  g_autoptr (SgStore) store = NULL;
  sqlite3 *raw;

  /* Only one migration exists so far: an empty file (version 0) goes to the latest. */
  store = sg_store_open (empty, SG_STORE_OPEN_DEFAULT, &error);
  sg_assert_no_error (error);
  g_assert_nonnull (store);
  if (store == NULL)
    return;
  g_assert_cmpint (sg_store_get_version (store), ==, sg_store_get_latest_version ());
  g_assert_cmpint (sg_store_count_people (store, &error), ==, 0);
  sg_assert_no_error (error);
  g_clear_pointer (&store, sg_store_close);

  raw = open_raw (empty);
  g_assert_cmpint (raw_int (raw, "PRAGMA user_version"), ==, sg_store_get_latest_version ());
  g_assert_cmpint (
      raw_int (raw, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'interactions'"), ==,
      1);
  sqlite3_close (raw);
}

static void
test_migrate_version_zero_db (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgStore) store = NULL;
  sqlite3 *raw = open_raw (f->path);

  /* An SQLite database with a header but nothing in it, as sqlite3 leaves it. */
  raw_exec (raw, "PRAGMA user_version = 0; VACUUM");
  sqlite3_close (raw);
  store = sg_store_open (f->path, SG_STORE_OPEN_DEFAULT, &error);
  sg_assert_no_error (error);
  if (store == NULL)
    return;
  g_assert_cmpint (sg_store_get_version (store), ==, sg_store_get_latest_version ());
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Applies the built-in migrations to @raw, in order, up to and without the one whose name
 * ends with @stop (as sg-store.c's migrate() does); returns that one's version. */
static int
raw_migrate_before (sqlite3 *raw, const char *stop)
{
  g_auto (GStrv) names = g_resources_enumerate_children ("/org/salesgetter/schema/sqlite", 0, NULL);
  g_autoptr (GPtrArray) sorted = g_ptr_array_new ();
  int version = 0;

  g_assert_nonnull (names);
  for (guint i = 0; names[i]; i++)
    if (g_str_has_suffix (names[i], ".sql"))
      g_ptr_array_add (sorted, names[i]);
  g_ptr_array_sort (sorted, compare_names);
  raw_exec (raw, "BEGIN IMMEDIATE");
  for (guint i = 0; i < sorted->len; i++) {
    const char *name = g_ptr_array_index (sorted, i);
    g_autofree char *rpath = NULL;
    g_autofree char *text = NULL;
    g_autofree char *set_version = NULL;
    g_autoptr (GBytes) sql = NULL;

    if (g_str_has_suffix (name, stop))
      break;
    rpath = g_strconcat ("/org/salesgetter/schema/sqlite/", name, NULL);
    sql = g_resources_lookup_data (rpath, 0, NULL);
    g_assert_nonnull (sql);
    text = g_strndup (g_bytes_get_data (sql, NULL), g_bytes_get_size (sql));
    raw_exec (raw, text);
    version = (int) g_ascii_strtoll (name, NULL, 10);
    set_version = g_strdup_printf ("PRAGMA user_version = %d", version);
    raw_exec (raw, set_version);
  }
  raw_exec (raw, "COMMIT");
  g_assert_cmpint (version, <, sg_store_get_latest_version ());
  return version + 1;
}

/* Migration orset (sets observed-remove, schema/sync.md "Sets, add-wins"): a store with set
 * members' '+' and '-' clocks, written under the rule before ('+' >= '-'), keeps every
 * member present or absent under the new one ('+' > '-'); the '-' clocks of entity deletes
 * and the fields' clocks are not touched. */
static void
test_migrate_orset (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgStore) store = NULL;
  sqlite3 *raw = open_raw (f->path);
  const char *sets[] = { "tag_assignment", "person_role", "process_contact", "interaction_link",
                         "person_lead_source" };
  /* '+' and '-' of a member (-1: none): a tie, removed after, added after, removed only. */
  const gint64 clocks[][2] = { { 1000, 1000 }, { 1000, 1001 }, { 1001, 1000 }, { -1, 1000 },
                               { G_GINT64_CONSTANT (0x019ad27174400005), G_GINT64_CONSTANT (0x019ad27174400005) },
                               { G_GINT64_CONSTANT (0x019ad27174400005), G_GINT64_CONSTANT (0x019ad27174400006) } };
  const char *old_rule =
    "SELECT group_concat(s.entity || '/' || s.natural_key || '=' || "
    "  (coalesce(p.hlc, -1) >= s.hlc AND p.hlc IS NOT NULL), ',') "
    "FROM sync_clock s LEFT JOIN sync_clock p ON p.entity = s.entity AND p.natural_key = s.natural_key "
    "AND p.field = '+' WHERE s.field = '-' AND s.entity <> 'meeting' ORDER BY 1";
  const char *new_rule =
    "SELECT group_concat(s.entity || '/' || s.natural_key || '=' || (coalesce(p.hlc, -1) > s.hlc), ',') "
    "FROM sync_clock s LEFT JOIN sync_clock p ON p.entity = s.entity AND p.natural_key = s.natural_key "
    "AND p.field = '+' WHERE s.field = '-' AND s.entity <> 'meeting' ORDER BY 1";
  const char *others = "SELECT group_concat(entity || '/' || natural_key || '/' || field || '=' || hlc, ',') "
                       "FROM sync_clock WHERE entity IN ('meeting', 'person', 'selection')";
  g_autofree char *before = NULL, *after = NULL, *others_before = NULL, *others_after = NULL;
  int version = raw_migrate_before (raw, "-orset.sql");

  for (guint e = 0; e < G_N_ELEMENTS (sets); e++)
    for (guint c = 0; c < G_N_ELEMENTS (clocks); c++)
      for (int side = 0; side < 2; side++) {
        g_autofree char *sql = NULL;

        if (clocks[c][side] < 0)
          continue;
        sql = g_strdup_printf ("INSERT INTO sync_clock (entity, natural_key, field, hlc) VALUES "
                               "('%s', 'k%u', '%s', %" G_GINT64_FORMAT ")", sets[e], c, side ? "-" : "+",
                               clocks[c][side]);
        raw_exec (raw, sql);
      }
  /* Deletes and fields: not set members. */
  raw_exec (raw, "INSERT INTO sync_clock (entity, natural_key, field, hlc) VALUES "
                 "('meeting', 'uid1', '-', 500), ('meeting', 'uid1', 'summary', 400), ('person', 'x@y.test', '-', 600), "
                 "('person', 'x@y.test', 'name', 600), ('selection', 'hot', '-', 700)");
  before = raw_text (raw, old_rule);
  others_before = raw_text (raw, others);
  g_assert_true (sg_test_contains (before, "tag_assignment/k0=1"));
  g_assert_true (sg_test_contains (before, "tag_assignment/k1=0"));
  g_assert_true (sg_test_contains (before, "person_lead_source/k4=1"));
  sqlite3_close (raw);

  store = sg_store_open (f->path, SG_STORE_OPEN_DEFAULT, &error);
  sg_assert_no_error (error);
  g_assert_cmpint (sg_store_get_version (store), ==, sg_store_get_latest_version ());
  g_clear_pointer (&store, sg_store_close);
  raw = open_raw (f->path);
  g_assert_cmpint (raw_int (raw, "PRAGMA user_version"), >=, version);
  after = raw_text (raw, new_rule);
  others_after = raw_text (raw, others);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpstr (others_after, ==, others_before);
  /* And the rule before, on the migrated clocks, would now say otherwise for the ties. */
  g_free (before);
  before = raw_text (raw, old_rule);
  g_assert_cmpstr (before, !=, after);
  sqlite3_close (raw);
}

static void
test_read_only_missing (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgStore) store = sg_store_open (f->path, SG_STORE_OPEN_READ_ONLY, &error);

  g_assert_null (store);
  g_assert_error (error, SG_STORE_ERROR, SG_STORE_ERROR_OPEN);
  if (error != NULL)
    g_assert_true (sg_test_contains (error->message, f->path));
  /* Read-only never creates. */
  g_assert_false (g_file_test (f->path, G_FILE_TEST_EXISTS));
}

static void
test_missing_folder (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "no-such-folder", "store.db", NULL);
  g_autoptr (SgStore) store = sg_store_open (path, SG_STORE_OPEN_DEFAULT, &error);

  g_assert_null (store);
  g_assert_error (error, SG_STORE_ERROR, SG_STORE_ERROR_OPEN);
  if (error != NULL)
    g_assert_true (sg_test_contains (error->message, path));
}

static void
test_read_only_unmigrated (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *empty = sg_test_write_file (f->dir, "empty.db", "", 0);
  g_autoptr (SgStore) store = sg_store_open (empty, SG_STORE_OPEN_READ_ONLY, &error);
  g_autofree char *after = NULL;
  gsize len = 1;

  g_assert_null (store);
  g_assert_error (error, SG_STORE_ERROR, SG_STORE_ERROR_READ_ONLY);
  if (error != NULL)
    g_assert_true (sg_test_contains (error->message, empty));
  /* Read-only never migrates. */
  g_assert_true (g_file_get_contents (empty, &after, &len, NULL));
  g_assert_cmpuint (len, ==, 0);
}

static void
test_read_only_refuses_writes (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  SgStore *store = sg_store_open (f->path, SG_STORE_OPEN_DEFAULT, &error);

  sg_assert_no_error (error);
  sg_store_close (store);
  store = sg_store_open (f->path, SG_STORE_OPEN_READ_ONLY, &error);
  sg_assert_no_error (error);
  if (store == NULL)
    return;
  g_assert_cmpint (sg_store_get_version (store), ==, sg_store_get_latest_version ());
  g_assert_false (sg_store_begin (store, &error));
  g_assert_error (error, SG_STORE_ERROR, SG_STORE_ERROR_READ_ONLY);
  g_assert_false (sg_store_in_transaction (store));
  sg_store_close (store);
}

static void
test_transactions_nest (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sqlite3 *db = NULL;
  g_autoptr (SgStore) store = open_store_with_db (f->path, SG_STORE_OPEN_DEFAULT, &db, &error);

  sg_assert_no_error (error);
  if (store == NULL)
    return;

  /* Commit: only the outermost commit ends the transaction. */
  begin_ok (store);
  begin_ok (store);
  g_assert_true (sg_store_in_transaction (store));
  insert_org (db, "a.com");
  commit_ok (store);
  sg_assert_no_error (error);
  g_assert_true (sg_store_in_transaction (store));
  g_assert_false (sqlite3_get_autocommit (db));
  commit_ok (store);
  sg_assert_no_error (error);
  g_assert_false (sg_store_in_transaction (store));
  g_assert_true (sqlite3_get_autocommit (db));
  g_assert_cmpint (count_orgs (store), ==, 1);

  /* An inner rollback rolls everything back, and the outer commit says so. */
  begin_ok (store);
  insert_org (db, "b.com");
  begin_ok (store);
  insert_org (db, "c.com");
  sg_store_rollback (store);
  g_assert_true (sg_store_in_transaction (store));
  g_assert_false (sg_store_commit (store, &error));
  g_assert_error (error, SG_STORE_ERROR, SG_STORE_ERROR_SQL);
  g_clear_error (&error);
  g_assert_false (sg_store_in_transaction (store));
  g_assert_cmpint (count_orgs (store), ==, 1);

  /* The failure does not stick to the next transaction. */
  begin_ok (store);
  insert_org (db, "d.com");
  commit_ok (store);
  sg_assert_no_error (error);
  g_assert_cmpint (count_orgs (store), ==, 2);

  /* Rolled back at both levels: nothing is left open, and the store works on. */
  begin_ok (store);
  begin_ok (store);
  insert_org (db, "x.com");
  sg_store_rollback (store);
  sg_store_rollback (store);
  g_assert_false (sg_store_in_transaction (store));
  g_assert_true (sqlite3_get_autocommit (db));
  begin_ok (store);
  commit_ok (store);
  sg_assert_no_error (error);

  /* Outer rollback after an inner commit drops the inner work too. */
  begin_ok (store);
  begin_ok (store);
  insert_org (db, "e.com");
  commit_ok (store);
  sg_store_rollback (store);
  g_assert_false (sg_store_in_transaction (store));
  g_assert_cmpint (count_orgs (store), ==, 2);
}

static void
test_rollback_then_write (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sqlite3 *db = NULL;
  g_autoptr (SgStore) store = open_store_with_db (f->path, SG_STORE_OPEN_DEFAULT, &db, &error);

  sg_assert_no_error (error);
  if (store == NULL)
    return;
  /* A helper rolls back its nested transaction; its caller does not notice, writes on
   * inside what sg_store_in_transaction() still calls a transaction, and commits. The
   * commit fails ("rolled back"), so none of that work may be in the store. */
  begin_ok (store);
  begin_ok (store);
  insert_org (db, "inner.com");
  sg_store_rollback (store);
  g_assert_true (sg_store_in_transaction (store));
  insert_org (db, "after.com");
  g_assert_false (sg_store_commit (store, &error));
  g_assert_error (error, SG_STORE_ERROR, SG_STORE_ERROR_SQL);
  g_assert_cmpint (count_orgs (store), ==, 0);
}

static void
test_close_rolls_back (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sqlite3 *db = NULL;
  SgStore *store = open_store_with_db (f->path, SG_STORE_OPEN_DEFAULT, &db, &error);

  sg_assert_no_error (error);
  if (store == NULL)
    return;
  begin_ok (store);
  insert_org (db, "acme.com");
  /* Closing commits nothing. */
  sg_store_close (store);
  store = sg_store_open (f->path, SG_STORE_OPEN_DEFAULT, &error);
  sg_assert_no_error (error);
  if (store == NULL)
    return;
  g_assert_cmpint (count_orgs (store), ==, 0);
  sg_store_close (store);
}

static void
test_busy (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sqlite3 *db = NULL;
  g_autoptr (SgStore) store = open_store_with_db (f->path, SG_STORE_OPEN_DEFAULT, &db, &error);
  sqlite3 *other;
  gint64 start, waited;

  sg_assert_no_error (error);
  if (store == NULL || db == NULL)
    return;
  /* The store waits SG_STORE_BUSY_TIMEOUT_MS (10 s) and has no API to change it; the
   * test shortens it on the connection so that it runs in a fraction of a second. */
  sqlite3_busy_timeout (db, 300);

  other = open_raw (f->path);
  raw_exec (other, "BEGIN IMMEDIATE");

  start = g_get_monotonic_time ();
  g_assert_false (sg_store_begin (store, &error));
  waited = (g_get_monotonic_time () - start) / 1000;
  g_test_message ("begin failed after %" G_GINT64_FORMAT " ms: %s", waited, error ? error->message : "");
  g_assert_error (error, SG_STORE_ERROR, SG_STORE_ERROR_BUSY);
  if (error != NULL)
    g_assert_true (sg_test_contains (error->message, f->path));
  g_clear_error (&error);
  /* It waited for the timeout instead of failing at once. */
  g_assert_cmpint (waited, >=, 250);
  g_assert_false (sg_store_in_transaction (store));

  /* Once the other writer is done, the store works again. */
  raw_exec (other, "ROLLBACK");
  begin_ok (store);
  sg_assert_no_error (error);
  commit_ok (store);
  sqlite3_close (other);
}

static void
test_open_while_writing (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  SgStore *store = sg_store_open (f->path, SG_STORE_OPEN_DEFAULT, &error);
  sqlite3 *other;
  gint64 start;

  sg_assert_no_error (error);
  sg_store_close (store);
  /* The daemon is in the middle of a batch; the CLI opens the store to list people. */
  other = open_raw (f->path);
  raw_exec (
      other,
      "BEGIN IMMEDIATE; "
      "INSERT INTO organisations (domain, name, kind, created_at) VALUES ('x.com', 'X', 'external', 0)");
  start = g_get_monotonic_time ();
  for (int ro = 0; ro < 2; ro++) {
    store = sg_store_open (f->path, ro ? SG_STORE_OPEN_READ_ONLY : SG_STORE_OPEN_DEFAULT, &error);
    sg_assert_no_error (error);
    g_clear_error (&error);
    if (store != NULL)
      g_assert_cmpint (count_orgs (store), ==, 0);
    sg_store_close (store);
  }
  /* Without waiting for the writer. */
  g_assert_cmpint ((g_get_monotonic_time () - start) / 1000, <, 1000);
  raw_exec (other, "COMMIT");
  sqlite3_close (other);
}

static gpointer
release_later (gpointer data)
{
  sqlite3 *other = data;

  g_usleep (300 * G_TIME_SPAN_MILLISECOND);
  raw_exec (other, "COMMIT");
  return NULL;
}

static void
test_busy_waits (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgStore) store = sg_store_open (f->path, SG_STORE_OPEN_DEFAULT, &error);
  sqlite3 *other;
  GThread *thread;
  gint64 start, waited;

  sg_assert_no_error (error);
  if (store == NULL)
    return;
  /* With its own (long) timeout the store waits for a short lock instead of failing:
   * the daemon's batch commits must not make the CLI fail. */
  other = open_raw (f->path);
  raw_exec (other, "BEGIN IMMEDIATE");
  thread = g_thread_new ("release", release_later, other);
  start = g_get_monotonic_time ();
  begin_ok (store);
  waited = (g_get_monotonic_time () - start) / 1000;
  sg_assert_no_error (error);
  g_assert_cmpint (waited, >=, 200);
  commit_ok (store);
  g_thread_join (thread);
  sqlite3_close (other);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);
  g_test_set_nonfatal_assertions ();
  sqlite3_auto_extension ((void (*) (void))capture_db);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/store/create", test_create);
  ADD ("/store/wal-and-foreign-keys", test_wal_and_foreign_keys);
  ADD ("/store/checks-without-in", test_checks_without_in);
  ADD ("/store/reopen-keeps-data", test_reopen_keeps_data);
  ADD ("/store/device-ids-differ", test_device_ids_differ);
  ADD ("/store/refuse/too-new", test_too_new);
  ADD ("/store/refuse/not-sqlite", test_not_sqlite);
  ADD ("/store/refuse/foreign-sqlite", test_foreign_sqlite);
  ADD ("/store/refuse/foreign-sqlite-read-only", test_foreign_sqlite_read_only);
  ADD ("/store/refuse/missing-folder", test_missing_folder);
  ADD ("/store/migrate/empty-file", test_migrate_empty_file);
  ADD ("/store/migrate/version-zero-db", test_migrate_version_zero_db);
  ADD ("/store/migrate/orset", test_migrate_orset);
  ADD ("/store/read-only/missing", test_read_only_missing);
  ADD ("/store/read-only/unmigrated", test_read_only_unmigrated);
  ADD ("/store/read-only/refuses-writes", test_read_only_refuses_writes);
  ADD ("/store/transaction/nest", test_transactions_nest);
  ADD ("/store/transaction/rollback-then-write", test_rollback_then_write);
  ADD ("/store/transaction/close-rolls-back", test_close_rolls_back);
  ADD ("/store/transaction/busy", test_busy);
  ADD ("/store/transaction/busy-waits", test_busy_waits);
  ADD ("/store/open-while-writing", test_open_while_writing);
#undef ADD

  return g_test_run ();
}
