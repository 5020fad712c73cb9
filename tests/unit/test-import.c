/* test-import.c: from mail folders to people, organisations and interactions (sg-import.h),
 * checked through the store's counts and listings (sg-query.h). */
#include "config.h"

#include <locale.h>

#include "sg.h"
#include "test-util.h"

#include <sys/stat.h>

/* --- messages ---------------------------------------------------------------------- */

/* From a contact at acme.co.uk, with a full name. */
static const char m1[] = "From: \"Doe, Jane\" <Jane.Doe@ACME.co.uk>\n"
                         "To: Me <me@mycorp.com>\n"
                         "Date: Thu, 19 Mar 2026 15:00:00 +0100\n"
                         "Subject: Proposal\n"
                         "Message-ID: <m1@acme.co.uk>\n"
                         "\n"
                         "Please find our proposal attached.\n";

/* The same contact later, with a worse name, naming only its parent. It is in new/, so it
 * is imported before its parent m1 (in cur/). */
static const char m2[] = "From: jane.doe <jane.doe@acme.co.uk>\n"
                         "To: me@mycorp.com\n"
                         "Date: Thu, 19 Mar 2026 16:00:00 +0000\n"
                         "Subject: Re: Proposal\n"
                         "Message-ID: <m2@acme.co.uk>\n"
                         "In-Reply-To: <m1@acme.co.uk>\n"
                         "\n"
                         "One more thing.\n";

/* The user's reply, to the contact and a colleague of hers at a subdomain. */
static const char m3[] = "From: Me <me@mycorp.com>\n"
                         "To: Jane Doe <jane.doe@acme.co.uk>\n"
                         "Cc: Bob Smith <bob@sales.acme.co.uk>\n"
                         "Date: Fri, 20 Mar 2026 09:00:00 +0000\n"
                         "Subject: Re: Proposal\n"
                         "Message-ID: <m3@mycorp.com>\n"
                         "In-Reply-To: <m2@acme.co.uk>\n"
                         "References: <m1@acme.co.uk> <m2@acme.co.uk>\n"
                         "\n"
                         "Thanks!\n";

/* A person on freemail. */
static const char m4[] = "From: Tom Free <tom.free@gmail.com>\n"
                         "To: me@mycorp.com\n"
                         "Date: Sat, 21 Mar 2026 10:00:00 +0000\n"
                         "Subject: Hello\n"
                         "Message-ID: <m4@gmail.com>\n"
                         "\n"
                         "Hi.\n";

/* A colleague. */
static const char m5[] = "From: Alice Colleague <alice@eu.mycorp.com>\n"
                         "To: me@mycorp.com\n"
                         "Date: Sun, 22 Mar 2026 10:00:00 +0000\n"
                         "Subject: Lunch\n"
                         "Message-ID: <m5@mycorp.com>\n"
                         "\n"
                         "Lunch?\n";

/* A machine. */
static const char m6[] = "From: Shop <noreply@shop.com>\n"
                         "To: me@mycorp.com\n"
                         "Date: Mon, 23 Mar 2026 10:00:00 +0000\n"
                         "Subject: Your order\n"
                         "Message-ID: <m6@shop.com>\n"
                         "\n"
                         "Shipped.\n";

/* An organisation's function. */
static const char m7[] = "From: Vendor Info <info@vendor.com>\n"
                         "To: me@mycorp.com\n"
                         "Date: Tue, 24 Mar 2026 10:00:00 +0000\n"
                         "Subject: Newsletter\n"
                         "Message-ID: <m7@vendor.com>\n"
                         "\n"
                         "News.\n";

/* A list post. */
static const char m8[] = "From: List Poster <poster@listco.com>\n"
                         "To: Dev list <dev@lists.example.org>\n"
                         "List-Id: Dev list <dev.lists.example.org>\n"
                         "List-Post: <mailto:dev@lists.example.org>\n"
                         "Date: Wed, 25 Mar 2026 10:00:00 +0000\n"
                         "Subject: [dev] release\n"
                         "Message-ID: <m8@listco.com>\n"
                         "\n"
                         "Released.\n";

/* In the trash: must never be seen. */
static const char trashed[] = "From: Trashy Person <trashy@spam-corp.com>\n"
                              "To: me@mycorp.com\n"
                              "Date: Thu, 26 Mar 2026 10:00:00 +0000\n"
                              "Subject: Deleted\n"
                              "Message-ID: <trash@spam-corp.com>\n"
                              "\n"
                              "Gone.\n";

/* --- fixture ----------------------------------------------------------------------- */

typedef struct {
  char *dir;
  char *maildir;
  char *store_path;
  SgStore *store;
  SgIdentity *identity;
  GPtrArray *problems; /* locations the problem callback got */
} Fixture;

static void
on_problem (const char *location, const GError *error, gpointer user_data)
{
  Fixture *f = user_data;

  g_test_message ("problem: %s: %s", location, error->message);
  g_ptr_array_add (f->problems, g_strdup (location));
}

static SgImporter *
new_importer (Fixture *f)
{
  SgImporter *imp = sg_importer_new (f->store, f->identity);

  sg_importer_set_problem_func (imp, on_problem, f);
  return imp;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = sg_test_make_tmpdir ();
  f->maildir = g_build_filename (f->dir, "Mail", NULL);
  f->store_path = g_build_filename (f->dir, "store.db", NULL);
  f->store = sg_store_open (f->store_path, SG_STORE_OPEN_DEFAULT, &error);
  sg_assert_no_error (error);
  g_assert_nonnull (f->store);
  f->identity = sg_identity_new ();
  g_assert_true (sg_identity_add_address (f->identity, "me@mycorp.com", NULL));
  g_assert_true (sg_identity_add_internal_domain (f->identity, "mycorp.com", NULL));
  f->problems = g_ptr_array_new_with_free_func (g_free);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  sg_store_close (f->store);
  sg_identity_unref (f->identity);
  g_ptr_array_unref (f->problems);
  sg_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->maildir);
  g_free (f->store_path);
}

/* Writes @text as the Maildir file @folder/@sub/@name under the fixture's Maildir. */
static char *
put (Fixture *f, const char *folder, const char *sub, const char *name, const char *text, gssize len)
{
  g_autofree char *dir = g_build_filename (f->maildir, folder, NULL);
  g_autofree char *rel = g_build_filename (sub, name, NULL);

  sg_test_make_maildir (dir);
  return sg_test_write_file (dir, rel, text, len);
}

/* The Maildir the import tests share:
 *   Mail/            m1 (cur), m2 (new), m4..m8 (cur), an empty and a binary file
 *   Mail/.Sent/      m3
 *   Mail/.Archive/   a second copy of m1 (same Message-ID, other file name)
 *   Mail/Trash/      a message that must be left out (nested Maildir)
 *   Mail/.Trash/     the same, Maildir++ style
 */
#define MAILDIR_FILES 11 /* read: all but the trash */
#define MAILDIR_MESSAGES 8

static void
make_maildir (Fixture *f)
{
  guint8 binary[2048];

  for (gsize i = 0; i < sizeof binary; i++)
    binary[i] = (guint8)((i * 7919 + 13) % 256);
  g_free (put (f, "", "cur", "1773928800.M1P1.host:2,S", m1, -1));
  g_free (put (f, "", "new", "1773936000.M2P1.host", m2, -1));
  g_free (put (f, "", "cur", "1774087200.M4P1.host:2,S", m4, -1));
  g_free (put (f, "", "cur", "1774173600.M5P1.host:2,S", m5, -1));
  g_free (put (f, "", "cur", "1774260000.M6P1.host:2,S", m6, -1));
  g_free (put (f, "", "cur", "1774346400.M7P1.host:2,S", m7, -1));
  g_free (put (f, "", "cur", "1774432800.M8P1.host:2,S", m8, -1));
  g_free (put (f, "", "cur", "1774500000.M9P1.empty:2,S", "", 0));
  g_free (put (f, "", "cur", "1774500001.M9P2.binary:2,S", (const char *)binary, sizeof binary));
  g_free (put (f, ".Sent", "cur", "1774000800.M3P1.host:2,S", m3, -1));
  g_free (put (f, ".Archive", "cur", "1773928800.M1P9.other:2,S", m1, -1));
  g_free (put (f, "Trash", "cur", "1774519200.MTP1.host:2,S", trashed, -1));
  g_free (put (f, ".Trash", "new", "1774519201.MTP2.host", trashed, -1));
}

/* --- table helpers ------------------------------------------------------------------- */

static int
column (const SgTable *t, const char *name)
{
  for (guint c = 0; c < sg_table_get_n_columns (t); c++)
    if (g_strcmp0 (sg_table_get_column_name (t, c), name) == 0)
      return (int)c;
  sg_test_failf ("no column %s", name);
  return -1;
}

/* The row whose TEXT column @name holds @value, or -1. */
static int
find_row (const SgTable *t, const char *name, const char *value)
{
  int c = column (t, name);

  if (c < 0)
    return -1;
  for (guint r = 0; r < sg_table_get_n_rows (t); r++)
    if (g_strcmp0 (sg_table_get_text (t, r, (guint)c), value) == 0)
      return (int)r;
  return -1;
}

static const char *
cell_text (const SgTable *t, int row, const char *name)
{
  int c = column (t, name);

  if (row < 0 || c < 0)
    return NULL;
  return sg_table_get_text (t, (guint)row, (guint)c);
}

static SgTable *
people (Fixture *f, gboolean colleagues)
{
  g_autoptr (GError) error = NULL;
  SgPeopleQuery q = { .include_colleagues = colleagues };
  SgTable *t = sg_query_people (f->store, &q, &error);

  sg_assert_no_error (error);
  g_assert_nonnull (t);
  return t;
}

/* The message_id column of @who's timeline, newest first, as one string "a b c". */
static char *
timeline_ids (Fixture *f, const char *who)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = sg_query_timeline (f->store, who, 0, &error);
  g_autoptr (GString) out = g_string_new (NULL);
  int c;

  sg_assert_no_error (error);
  if (t == NULL)
    return NULL;
  c = column (t, "message_id");
  for (guint r = 0; c >= 0 && r < sg_table_get_n_rows (t); r++)
    g_string_append_printf (out, "%s%s", r ? " " : "", sg_table_get_text (t, r, (guint)c));
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
assert_stats (const SgImportStats *s, guint messages, guint imported, guint known, guint skipped,
              guint people_new, guint orgs_new)
{
  g_test_message ("stats: messages %u imported %u known %u skipped %u people_new %u orgs_new %u", s->messages,
                  s->imported, s->known, s->skipped, s->people_new, s->orgs_new);
  g_assert_cmpuint (s->messages, ==, messages);
  g_assert_cmpuint (s->imported, ==, imported);
  g_assert_cmpuint (s->known, ==, known);
  g_assert_cmpuint (s->skipped, ==, skipped);
  g_assert_cmpuint (s->people_new, ==, people_new);
  g_assert_cmpuint (s->orgs_new, ==, orgs_new);
}

static gint64
n_interactions (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  gint64 n = sg_store_count_interactions (f->store, &error);

  sg_assert_no_error (error);
  return n;
}

/* Imports the shared Maildir once. */
static void
import_maildir (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgImporter) imp = NULL;

  make_maildir (f);
  imp = new_importer (f);
  g_assert_true (sg_importer_import_path (imp, f->maildir, NULL, &error));
  sg_assert_no_error (error);
}

/* --- Maildir ------------------------------------------------------------------------- */

static void
test_maildir_stats (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgImporter) imp = NULL;

  make_maildir (f);
  imp = new_importer (f);
  g_assert_true (sg_importer_import_path (imp, f->maildir, NULL, &error));
  sg_assert_no_error (error);
  /* People: jane.doe, bob (acme.co.uk), tom (gmail). Organisations (external): acme.co.uk,
   * shop.com, vendor.com, listco.com, example.org; not gmail.com, not mycorp.com. */
  assert_stats (sg_importer_get_stats (imp), MAILDIR_FILES, MAILDIR_MESSAGES, 1, 2, 3, 5);
  g_assert_cmpint (n_interactions (f), ==, MAILDIR_MESSAGES);
  g_assert_cmpint (sg_store_count_people (f->store, &error), ==, 3);
  sg_assert_no_error (error);
  g_assert_cmpint (sg_store_count_organisations (f->store, &error), ==, 5);
  sg_assert_no_error (error);
}

static void
test_maildir_skips_trash (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = NULL;

  import_maildir (f);
  t = sg_query_timeline (f->store, "trashy@spam-corp.com", 0, &error);
  g_assert_null (t);
  g_assert_error (error, SG_STORE_ERROR, SG_STORE_ERROR_NOT_FOUND);
  for (guint i = 0; i < f->problems->len; i++)
    g_assert_false (sg_test_contains (f->problems->pdata[i], "Trash"));
}

/* A FIFO (or any non-file) dropped into new/ is reported and skipped; opening it must not
 * block the import until a writer comes (this test would hang, and time out, if it did). */
static void
test_maildir_fifo (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgImporter) imp = NULL;
  g_autofree char *fifo = NULL;

  make_maildir (f);
  fifo = g_build_filename (f->maildir, "new", "1774500099.fifo", NULL);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  imp = new_importer (f);
  g_assert_true (sg_importer_import_path (imp, f->maildir, NULL, &error));
  sg_assert_no_error (error);
  g_assert_true (g_ptr_array_find_with_equal_func (f->problems, fifo, g_str_equal, NULL));
  g_assert_cmpuint (sg_importer_get_stats (imp)->imported, >, 0);
}

static void
test_maildir_skip_reasons (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgImporter) imp = NULL;
  g_autoptr (SgTable) reasons = NULL;
  gboolean empty_seen = FALSE, binary_seen = FALSE;
  int row;

  make_maildir (f);
  imp = new_importer (f);
  g_assert_true (sg_importer_import_path (imp, f->maildir, NULL, &error));
  sg_assert_no_error (error);

  reasons = sg_importer_get_skip_reasons (imp);
  g_assert_cmpstr (sg_table_get_column_name (reasons, 0), ==, "reason");
  g_assert_cmpstr (sg_table_get_column_name (reasons, 1), ==, "count");
  g_assert_cmpuint (sg_table_get_n_rows (reasons), ==, 2);
  row = find_row (reasons, "reason", "empty file");
  g_assert_cmpint (row, >=, 0);
  if (row >= 0)
    g_assert_cmpint (sg_table_get_int (reasons, (guint)row, 1), ==, 1);
  row = find_row (reasons, "reason", "not a mail message");
  g_assert_cmpint (row, >=, 0);
  if (row >= 0)
    g_assert_cmpint (sg_table_get_int (reasons, (guint)row, 1), ==, 1);

  /* The front end is told which file, by its path. */
  g_assert_cmpuint (f->problems->len, ==, 2);
  for (guint i = 0; i < f->problems->len; i++) {
    const char *location = f->problems->pdata[i];

    if (g_str_has_suffix (location, "/cur/1774500000.M9P1.empty:2,S"))
      empty_seen = TRUE;
    if (g_str_has_suffix (location, "/cur/1774500001.M9P2.binary:2,S"))
      binary_seen = TRUE;
    g_assert_true (g_path_is_absolute (location));
    g_assert_true (g_file_test (location, G_FILE_TEST_IS_REGULAR));
  }
  g_assert_true (empty_seen);
  g_assert_true (binary_seen);
}

static void
test_maildir_second_run (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgImporter) imp = NULL;

  import_maildir (f);
  g_ptr_array_set_size (f->problems, 0);
  imp = new_importer (f);
  g_assert_true (sg_importer_import_path (imp, f->maildir, NULL, &error));
  sg_assert_no_error (error);
  /* Nothing new, nothing reported again (broken files were remembered too). */
  assert_stats (sg_importer_get_stats (imp), MAILDIR_FILES, 0, MAILDIR_FILES, 0, 0, 0);
  g_assert_cmpuint (f->problems->len, ==, 0);
  g_assert_cmpint (n_interactions (f), ==, MAILDIR_MESSAGES);
}

static void
test_maildir_flag_change (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgImporter) imp = NULL;
  g_autofree char *from = g_build_filename (f->maildir, "new", "1773936000.M2P1.host", NULL);
  g_autofree char *to = g_build_filename (f->maildir, "cur", "1773936000.M2P1.host:2,RS", NULL);
  g_autofree char *from_cur = g_build_filename (f->maildir, "cur", "1773928800.M1P1.host:2,S", NULL);
  g_autofree char *to_cur = g_build_filename (f->maildir, "cur", "1773928800.M1P1.host:2,FS", NULL);

  g_autofree char *empty = g_build_filename (f->maildir, "cur", "1774500000.M9P1.empty:2,S", NULL);
  g_autofree char *empty_to = g_build_filename (f->maildir, "cur", "1774500000.M9P1.empty:2,RS", NULL);

  import_maildir (f);
  g_ptr_array_set_size (f->problems, 0);
  /* The mail client reads m2 (new/ -> cur/, ":2,RS"), flags m1, and marks the empty file
   * read. A file is known by its unique name, whatever its flags: none is read again (the
   * empty one would be reported again if it were). */
  g_assert_cmpint (g_rename (from, to), ==, 0);
  g_assert_cmpint (g_rename (from_cur, to_cur), ==, 0);
  g_assert_cmpint (g_rename (empty, empty_to), ==, 0);
  imp = new_importer (f);
  g_assert_true (sg_importer_import_path (imp, f->maildir, NULL, &error));
  sg_assert_no_error (error);
  assert_stats (sg_importer_get_stats (imp), MAILDIR_FILES, 0, MAILDIR_FILES, 0, 0, 0);
  g_assert_cmpuint (f->problems->len, ==, 0);
  g_assert_cmpint (n_interactions (f), ==, MAILDIR_MESSAGES);
}

static void
test_maildir_same_id_twice (Fixture *f, gconstpointer data)
{
  g_autofree char *ids = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = NULL;

  import_maildir (f);
  /* m1 is in the root and in .Archive: one interaction. */
  t = sg_query_timeline (f->store, "jane.doe@acme.co.uk", 0, &error);
  sg_assert_no_error (error);
  ids = timeline_ids (f, "jane.doe@acme.co.uk");
  g_assert_cmpstr (ids, ==, "m3@mycorp.com m2@acme.co.uk m1@acme.co.uk");
}

static void
test_maildir_folder_order (Fixture *f, gconstpointer data)
{
  static const char *const folders[] = { ".A", ".B", ".C", ".D", ".E", ".F", ".G", ".H", ".I" };
  g_autoptr (GError) error = NULL;
  g_autoptr (SgImporter) imp = NULL;
  g_autoptr (SgTable) t = NULL;

  /* The same message in the root and in nine subfolders. Folders are imported in order
   * of their path, the root first, so the copy recorded is the same on every machine and
   * every run: the root's. */
  g_free (put (f, "", "cur", "1773928800.M1P1.root:2,S", m1, -1));
  for (guint i = 0; i < G_N_ELEMENTS (folders); i++)
    g_free (put (f, folders[i], "cur", "1773928800.M1P1.copy:2,S", m1, -1));
  imp = new_importer (f);
  g_assert_true (sg_importer_import_path (imp, f->maildir, NULL, &error));
  sg_assert_no_error (error);
  g_assert_cmpuint (sg_importer_get_stats (imp)->imported, ==, 1);
  g_assert_cmpuint (sg_importer_get_stats (imp)->known, ==, G_N_ELEMENTS (folders));
  t = sg_query_timeline (f->store, "jane.doe@acme.co.uk", 0, &error);
  sg_assert_no_error (error);
  if (t == NULL || sg_table_get_n_rows (t) != 1)
    return;
  g_assert_cmpstr (cell_text (t, 0, "location"), ==, "cur/1773928800.M1P1.root:2,S");
}

typedef struct {
  guint calls;
  SgImportProgress last;
} ProgressLog;

static void
on_progress (const SgImportProgress *progress, gpointer user_data)
{
  ProgressLog *log = user_data;

  /* Never more done than expected. */
  if (progress->files_total > 0)
    g_assert_cmpuint (progress->files_done, <=, progress->files_total);
  log->calls++;
  log->last = *progress;
}

static void
test_maildir_progress (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgImporter) imp = NULL;
  ProgressLog log = { 0 };

  make_maildir (f);
  imp = new_importer (f);
  sg_importer_set_progress_func (imp, on_progress, &log, 0);
  g_assert_true (sg_importer_import_path (imp, f->maildir, NULL, &error));
  sg_assert_no_error (error);
  g_assert_cmpuint (log.calls, >=, 2);
  /* The end is reported: every file of the folders that are imported (not the trash). */
  g_assert_cmpuint (log.last.files_total, ==, MAILDIR_FILES);
  g_assert_cmpuint (log.last.files_done, ==, MAILDIR_FILES);
}

/* --- people and organisations ------------------------------------------------------------ */

static void
test_people_best_name (Fixture *f, gconstpointer data)
{
  g_autoptr (SgTable) t = NULL;
  int row;

  import_maildir (f);
  t = people (f, FALSE);
  row = find_row (t, "email", "jane.doe@acme.co.uk");
  g_assert_cmpint (row, >=, 0);
  /* "Jane Doe" (m1, m3) beats "jane.doe" (m2), though m2 is newer than m1. */
  g_assert_cmpstr (cell_text (t, row, "name"), ==, "Jane Doe");
  g_assert_cmpstr (cell_text (t, row, "organisation"), ==, "Acme");
  g_assert_cmpstr (cell_text (t, row, "org_domain"), ==, "acme.co.uk");
  g_assert_cmpstr (cell_text (t, row, "kind"), ==, "contact");
  row = find_row (t, "email", "bob@sales.acme.co.uk");
  g_assert_cmpint (row, >=, 0);
  g_assert_cmpstr (cell_text (t, row, "name"), ==, "Bob Smith");
  /* A subdomain's people belong to the registrable domain's organisation. */
  g_assert_cmpstr (cell_text (t, row, "org_domain"), ==, "acme.co.uk");
}

/* Imports the single files @a then @b (each by its own importer when @separate). */
static char *
best_name_after (const char *a, const char *b, gboolean separate)
{
  g_autofree char *dir = sg_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "store.db", NULL);
  g_autofree char *fa = sg_test_write_file (dir, "a.eml", a, -1);
  g_autofree char *fb = sg_test_write_file (dir, "b.eml", b, -1);
  g_autoptr (GError) error = NULL;
  g_autoptr (SgIdentity) id = sg_identity_new ();
  SgStore *store = sg_store_open (path, SG_STORE_OPEN_DEFAULT, &error);
  SgImporter *imp;
  SgTable *t;
  char *name = NULL;
  int row;

  sg_assert_no_error (error);
  if (store == NULL)
    return NULL;
  sg_identity_add_address (id, "me@mycorp.com", NULL);
  imp = sg_importer_new (store, id);
  g_assert_true (sg_importer_import_path (imp, fa, NULL, &error));
  sg_assert_no_error (error);
  if (separate) {
    sg_importer_free (imp);
    imp = sg_importer_new (store, id);
  }
  g_assert_true (sg_importer_import_path (imp, fb, NULL, &error));
  sg_assert_no_error (error);
  sg_importer_free (imp);

  t = sg_query_people (store, NULL, &error);
  sg_assert_no_error (error);
  if (t != NULL) {
    g_assert_cmpuint (sg_table_get_n_rows (t), ==, 1);
    row = find_row (t, "email", "jane.doe@acme.co.uk");
    name = g_strdup (cell_text (t, row, "name"));
    sg_table_free (t);
  }
  sg_store_close (store);
  sg_test_rm_rf (dir);
  return name;
}

static void
test_people_best_name_any_order (Fixture *f, gconstpointer data)
{
  for (int separate = 0; separate < 2; separate++) {
    g_autofree char *ab = best_name_after (m1, m2, separate);
    g_autofree char *ba = best_name_after (m2, m1, separate);

    g_assert_cmpstr (ab, ==, "Jane Doe");
    g_assert_cmpstr (ba, ==, "Jane Doe");
  }
}

static void
test_people_freemail (Fixture *f, gconstpointer data)
{
  g_autoptr (SgTable) t = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) orgs = NULL;
  int row;

  import_maildir (f);
  t = people (f, FALSE);
  row = find_row (t, "email", "tom.free@gmail.com");
  g_assert_cmpint (row, >=, 0);
  g_assert_cmpstr (cell_text (t, row, "name"), ==, "Tom Free");
  /* A person, without an organisation. */
  g_assert_null (cell_text (t, row, "organisation"));
  g_assert_null (cell_text (t, row, "org_domain"));
  g_assert_true (sg_table_is_null (t, (guint)row, (guint)column (t, "organisation")));

  orgs = sg_query_orgs (f->store, &(SgOrgQuery){ .include_internal = TRUE }, &error);
  sg_assert_no_error (error);
  if (orgs != NULL)
    g_assert_cmpint (find_row (orgs, "domain", "gmail.com"), <, 0);
}

static void
test_people_colleagues (Fixture *f, gconstpointer data)
{
  g_autoptr (SgTable) contacts = NULL;
  g_autoptr (SgTable) all = NULL;
  int row;

  import_maildir (f);
  contacts = people (f, FALSE);
  all = people (f, TRUE);
  g_assert_cmpint (find_row (contacts, "email", "alice@eu.mycorp.com"), <, 0);
  g_assert_cmpint (find_row (contacts, "email", "me@mycorp.com"), <, 0);
  g_assert_cmpuint (sg_table_get_n_rows (contacts), ==, 3);
  row = find_row (all, "email", "alice@eu.mycorp.com");
  g_assert_cmpint (row, >=, 0);
  g_assert_cmpstr (cell_text (all, row, "kind"), ==, "colleague");
  g_assert_cmpstr (cell_text (all, row, "name"), ==, "Alice Colleague");
  row = find_row (all, "email", "me@mycorp.com");
  g_assert_cmpint (row, >=, 0);
  g_assert_cmpstr (cell_text (all, row, "kind"), ==, "self");
  g_assert_cmpuint (sg_table_get_n_rows (all), ==, 5);
}

static void
test_people_not_machines (Fixture *f, gconstpointer data)
{
  g_autoptr (SgTable) all = NULL;
  static const char *const not_people[] = {
    "noreply@shop.com",
    "info@vendor.com",
    "poster@listco.com",
    "dev@lists.example.org",
  };

  import_maildir (f);
  all = people (f, TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (not_people); i++)
    if (find_row (all, "email", not_people[i]) >= 0)
      sg_test_failf ("%s became a person", not_people[i]);
  /* Their mail is still known, by address. */
  {
    g_autofree char *ids = timeline_ids (f, "noreply@shop.com");

    g_assert_cmpstr (ids, ==, "m6@shop.com");
  }
  {
    g_autofree char *ids = timeline_ids (f, "info@vendor.com");

    g_assert_cmpstr (ids, ==, "m7@vendor.com");
  }
}

static void
test_list_poster_becomes_person_when_writing_directly (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgImporter) imp = NULL;
  g_autoptr (SgTable) t = NULL;
  g_autofree char *direct = NULL;
  g_autofree char *ids = NULL;
  int row;

  import_maildir (f);
  direct = sg_test_write_file (f->dir, "direct.eml",
                               "From: List Poster <poster@listco.com>\n"
                               "To: me@mycorp.com\n"
                               "Date: Fri, 27 Mar 2026 10:00:00 +0000\n"
                               "Subject: Directly\n"
                               "Message-ID: <direct@listco.com>\n\nHi.\n",
                               -1);
  imp = new_importer (f);
  g_assert_true (sg_importer_import_path (imp, direct, NULL, &error));
  sg_assert_no_error (error);
  t = people (f, FALSE);
  row = find_row (t, "email", "poster@listco.com");
  g_assert_cmpint (row, >=, 0);
  g_assert_cmpstr (cell_text (t, row, "name"), ==, "List Poster");
  /* Their list mail joins them. */
  ids = timeline_ids (f, "poster@listco.com");
  g_assert_cmpstr (ids, ==, "direct@listco.com m8@listco.com");
}

static void
test_orgs (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = NULL;
  int row;

  import_maildir (f);
  t = sg_query_orgs (f->store, NULL, &error);
  sg_assert_no_error (error);
  if (t == NULL)
    return;
  row = find_row (t, "domain", "acme.co.uk");
  g_assert_cmpint (row, >=, 0);
  if (row >= 0) {
    g_assert_cmpstr (cell_text (t, row, "name"), ==, "Acme");
    g_assert_cmpint (sg_table_get_int (t, (guint)row, (guint)column (t, "people")), ==, 2);
    g_assert_cmpint (sg_table_get_int (t, (guint)row, (guint)column (t, "interactions")), ==, 3);
  }
  /* Not the user's own company, not freemail, not organisations seen only in list mail. */
  g_assert_cmpint (find_row (t, "domain", "mycorp.com"), <, 0);
  g_assert_cmpint (find_row (t, "domain", "gmail.com"), <, 0);
  g_assert_cmpint (find_row (t, "domain", "listco.com"), <, 0);
  g_assert_cmpint (find_row (t, "domain", "example.org"), <, 0);
  g_assert_cmpint (find_row (t, "domain", "co.uk"), <, 0);
}

/* --- timelines ------------------------------------------------------------------------ */

static void
test_timeline_person (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = NULL;
  g_autofree char *ids = NULL;
  g_autofree char *upper = NULL;
  g_autofree char *first_date = NULL;

  import_maildir (f);
  ids = timeline_ids (f, "jane.doe@acme.co.uk");
  g_assert_cmpstr (ids, ==, "m3@mycorp.com m2@acme.co.uk m1@acme.co.uk");
  /* Addresses are looked up normalised. */
  upper = timeline_ids (f, "<Jane.Doe@ACME.CO.UK>");
  g_assert_cmpstr (upper, ==, ids);

  t = sg_query_timeline (f->store, "jane.doe@acme.co.uk", 0, &error);
  sg_assert_no_error (error);
  if (t == NULL || sg_table_get_n_rows (t) != 3)
    return;
  /* Newest first; m1's date in UTC, its offset kept. */
  first_date = sg_table_format_cell (t, 2, (guint)column (t, "date"));
  g_assert_cmpstr (first_date, ==, "2026-03-19T14:00:00Z");
  g_assert_cmpint (sg_table_get_int (t, 2, (guint)column (t, "tz_offset")), ==, 60);
  g_assert_cmpstr (cell_text (t, 0, "direction"), ==, "out");
  g_assert_cmpstr (cell_text (t, 2, "direction"), ==, "in");
  g_assert_cmpstr (cell_text (t, 2, "from"), ==, "Jane Doe");
  /* All three are one thread, rooted at m1, though m2 came in before m1. */
  for (guint r = 0; r < 3; r++)
    g_assert_cmpstr (cell_text (t, (int)r, "thread"), ==, "m1@acme.co.uk");
}

static void
test_timeline_domain (Fixture *f, gconstpointer data)
{
  g_autofree char *org = NULL;
  g_autofree char *sub = NULL;
  g_autofree char *other_sub = NULL;
  g_autofree char *bob = NULL;

  import_maildir (f);
  org = timeline_ids (f, "acme.co.uk");
  g_assert_cmpstr (org, ==, "m3@mycorp.com m2@acme.co.uk m1@acme.co.uk");
  /* A subdomain names the organisation too, seen or not. */
  sub = timeline_ids (f, "sales.acme.co.uk");
  g_assert_cmpstr (sub, ==, org);
  other_sub = timeline_ids (f, "ACME.co.uk");
  g_assert_cmpstr (other_sub, ==, org);
  bob = timeline_ids (f, "bob@sales.acme.co.uk");
  g_assert_cmpstr (bob, ==, "m3@mycorp.com");
}

static void
test_timeline_not_found (Fixture *f, gconstpointer data)
{
  static const char *const unknown[]
      = { "nobody@nowhere.com", "nowhere.com", "co.uk", "trashy@spam-corp.com" };

  import_maildir (f);
  for (guint i = 0; i < G_N_ELEMENTS (unknown); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (SgTable) t = sg_query_timeline (f->store, unknown[i], 0, &error);

    g_assert_null (t);
    g_assert_error (error, SG_STORE_ERROR, SG_STORE_ERROR_NOT_FOUND);
    if (error != NULL)
      g_assert_true (sg_test_contains (error->message, unknown[i]));
  }
}

static void
test_timeline_limit (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = NULL;

  import_maildir (f);
  t = sg_query_timeline (f->store, "acme.co.uk", 2, &error);
  sg_assert_no_error (error);
  if (t == NULL)
    return;
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 2);
  g_assert_cmpstr (cell_text (t, 0, "message_id"), ==, "m3@mycorp.com");
}

/* --- mbox and single files ----------------------------------------------------------------- */

static const char mbox[] = "From jane.doe@acme.co.uk Thu Mar 19 14:00:00 2026\n"
                           "From: Jane Doe <jane.doe@acme.co.uk>\n"
                           "To: me@mycorp.com\n"
                           "Date: Thu, 19 Mar 2026 15:00:00 +0100\n"
                           "Subject: one\n"
                           "Message-ID: <mb1@acme.co.uk>\n"
                           "\n"
                           "First.\n"
                           ">From the mbox escaping: not a new message.\n"
                           "\n"
                           "From bob@client.com Fri Mar 20 10:00:00 2026\n"
                           "From: Bob Client <bob@client.com>\n"
                           "To: me@mycorp.com\n"
                           "Date: Fri, 20 Mar 2026 10:00:00 +0000\n"
                           "Subject: two, without a Message-ID\n"
                           "\n"
                           "Second.\n"
                           "\n"
                           "From me@mycorp.com Sat Mar 21 10:00:00 2026\n"
                           "From: me@mycorp.com\n"
                           "To: Bob Client <bob@client.com>\n"
                           "Date: Sat, 21 Mar 2026 10:00:00 +0000\n"
                           "Subject: three\n"
                           "Message-ID: <mb3@mycorp.com>\n"
                           "\n"
                           "Third.\n";

static void
test_mbox (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = sg_test_write_file (f->dir, "inbox.mbox", mbox, -1);
  g_autofree char *ids = NULL;
  SgImporter *imp = new_importer (f);

  g_assert_true (sg_importer_import_path (imp, path, NULL, &error));
  sg_assert_no_error (error);
  /* People: jane, bob; organisations: acme.co.uk, client.com. */
  assert_stats (sg_importer_get_stats (imp), 3, 3, 0, 0, 2, 2);
  sg_importer_free (imp);
  g_assert_cmpint (n_interactions (f), ==, 3);
  ids = timeline_ids (f, "bob@client.com");
  if (ids != NULL) {
    g_auto (GStrv) parts = g_strsplit (ids, " ", -1);

    g_assert_cmpuint (g_strv_length (parts), ==, 2);
    g_assert_cmpstr (parts[0], ==, "mb3@mycorp.com");
    g_assert_true (g_str_has_prefix (parts[1], "sha256:"));
  }

  /* Again: the hash of the message without Message-ID is stable, so nothing is new. */
  imp = new_importer (f);
  g_assert_true (sg_importer_import_path (imp, path, NULL, &error));
  sg_assert_no_error (error);
  assert_stats (sg_importer_get_stats (imp), 3, 0, 3, 0, 0, 0);
  sg_importer_free (imp);
  g_assert_cmpint (n_interactions (f), ==, 3);
}

static void
test_mbox_from_line_date (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = sg_test_write_file (f->dir, "nodate.mbox",
                                              "From bob@client.com Thu Mar 19 14:00:00 2026\n"
                                              "From: Bob Client <bob@client.com>\n"
                                              "To: me@mycorp.com\n"
                                              "Subject: no Date header\n"
                                              "Message-ID: <nodate@client.com>\n"
                                              "\n"
                                              "Hi.\n",
                                              -1);
  g_autoptr (SgImporter) imp = new_importer (f);
  g_autoptr (SgTable) t = NULL;
  g_autofree char *date = NULL;

  g_assert_true (sg_importer_import_path (imp, path, NULL, &error));
  sg_assert_no_error (error);
  t = sg_query_timeline (f->store, "bob@client.com", 0, &error);
  sg_assert_no_error (error);
  if (t == NULL || sg_table_get_n_rows (t) != 1)
    return;
  /* The From_ line's time stands in for the missing Date (sg-message.h), not 1970. */
  date = sg_table_format_cell (t, 0, (guint)column (t, "date"));
  g_assert_cmpstr (date, ==, "2026-03-19T14:00:00Z");
}

static void
test_single_file (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = sg_test_write_file (f->dir, "message.eml", m4, -1);
  g_autoptr (SgImporter) imp = new_importer (f);

  g_assert_true (sg_importer_import_path (imp, path, NULL, &error));
  sg_assert_no_error (error);
  assert_stats (sg_importer_get_stats (imp), 1, 1, 0, 0, 1, 0);
  g_assert_true (sg_importer_import_path (imp, path, NULL, &error));
  sg_assert_no_error (error);
  g_assert_cmpuint (sg_importer_get_stats (imp)->imported, ==, 1);
  g_assert_cmpuint (sg_importer_get_stats (imp)->known, ==, 1);
  g_assert_cmpint (n_interactions (f), ==, 1);
}

static void
test_import_path_errors (Fixture *f, gconstpointer data)
{
  g_autoptr (SgImporter) imp = new_importer (f);
  g_autofree char *missing = g_build_filename (f->dir, "no-such-mail", NULL);
  g_autofree char *plain_dir = g_build_filename (f->dir, "just-a-folder", NULL);

  {
    g_autoptr (GError) error = NULL;

    g_assert_false (sg_importer_import_path (imp, missing, NULL, &error));
    g_assert_error (error, SG_IMPORT_ERROR, SG_IMPORT_ERROR_NOT_FOUND);
    if (error != NULL)
      g_assert_true (sg_test_contains (error->message, missing));
  }
  {
    g_autoptr (GError) error = NULL;

    g_assert_cmpint (g_mkdir (plain_dir, 0700), ==, 0);
    g_assert_false (sg_importer_import_path (imp, plain_dir, NULL, &error));
    g_assert_error (error, SG_IMPORT_ERROR, SG_IMPORT_ERROR_UNSUPPORTED);
    if (error != NULL)
      g_assert_true (sg_test_contains (error->message, plain_dir));
  }
  g_assert_cmpint (n_interactions (f), ==, 0);
}

static void
test_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (SgImporter) imp = NULL;
  g_autoptr (SgImporter) again = NULL;

  make_maildir (f);
  g_cancellable_cancel (cancellable);
  imp = new_importer (f);
  g_assert_false (sg_importer_import_path (imp, f->maildir, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  /* A cancelled import resumes without loss. */
  again = new_importer (f);
  g_assert_true (sg_importer_import_path (again, f->maildir, NULL, &error));
  sg_assert_no_error (error);
  g_assert_cmpint (n_interactions (f), ==, MAILDIR_MESSAGES);
}

/* --- the daemon's path: one new file at a time ------------------------------------------------ */

static void
test_add_maildir_file (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgImporter) imp = new_importer (f);
  g_autofree char *path = put (f, "", "new", "1773928800.M1P1.host", m1, -1);
  g_autofree char *moved = g_build_filename (f->maildir, "cur", "1773928800.M1P1.host:2,S", NULL);
  g_autofree char *sent = put (f, ".Sent", "cur", "1774000800.M3P1.host:2,S", m3, -1);
  g_autofree char *trash = put (f, ".Trash", "cur", "1774519200.MTP1.host:2,S", trashed, -1);
  const SgImportStats *s = sg_importer_get_stats (imp);

  g_assert_true (sg_importer_add_maildir_file (imp, f->maildir, path, &error));
  sg_assert_no_error (error);
  g_assert_true (sg_importer_flush (imp, &error));
  sg_assert_no_error (error);
  g_assert_cmpuint (s->imported, ==, 1);
  g_assert_cmpint (n_interactions (f), ==, 1);
  {
    g_autoptr (SgTable) t = sg_query_timeline (f->store, "jane.doe@acme.co.uk", 0, &error);

    sg_assert_no_error (error);
    if (t != NULL && sg_table_get_n_rows (t) == 1)
      g_assert_cmpstr (cell_text (t, 0, "location"), ==, "new/1773928800.M1P1.host");
  }

  /* Seen again, and after the client moved it to cur/ with flags: not read again. */
  g_assert_true (sg_importer_add_maildir_file (imp, f->maildir, path, &error));
  sg_assert_no_error (error);
  g_assert_cmpint (g_rename (path, moved), ==, 0);
  g_assert_true (sg_importer_add_maildir_file (imp, f->maildir, moved, &error));
  sg_assert_no_error (error);
  g_assert_cmpuint (s->imported, ==, 1);
  g_assert_cmpuint (s->known, ==, 2);

  /* A subfolder works; the trash is left out. */
  g_assert_true (sg_importer_add_maildir_file (imp, f->maildir, sent, &error));
  sg_assert_no_error (error);
  g_assert_true (sg_importer_add_maildir_file (imp, f->maildir, trash, &error));
  sg_assert_no_error (error);
  g_assert_true (sg_importer_flush (imp, &error));
  sg_assert_no_error (error);
  g_assert_cmpuint (s->imported, ==, 2);
  g_assert_cmpint (n_interactions (f), ==, 2);

  /* A full scan afterwards knows both files. */
  {
    g_autoptr (SgImporter) scan = new_importer (f);

    g_assert_true (sg_importer_scan_maildir (scan, f->maildir, NULL, &error));
    sg_assert_no_error (error);
    assert_stats (sg_importer_get_stats (scan), 2, 0, 2, 0, 0, 0);
  }
}

static void
test_add_maildir_file_outside_root (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgImporter) imp = new_importer (f);
  g_autofree char *sibling = g_strconcat (f->maildir, "2", NULL);
  g_autofree char *path = NULL;

  /* "Mail2" only starts like "Mail": it is not inside it. */
  sg_test_make_maildir (f->maildir);
  sg_test_make_maildir (sibling);
  path = sg_test_write_file (sibling, "new/1773928800.M1P1.host", m1, -1);
  g_assert_false (sg_importer_add_maildir_file (imp, f->maildir, path, &error));
  g_assert_error (error, SG_IMPORT_ERROR, SG_IMPORT_ERROR_NOT_FOUND);
  g_assert_true (sg_importer_flush (imp, NULL));
  g_assert_cmpint (n_interactions (f), ==, 0);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);
  g_test_set_nonfatal_assertions ();

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/import/maildir/stats", test_maildir_stats);
  ADD ("/import/maildir/skips-trash", test_maildir_skips_trash);
  ADD ("/import/maildir/skip-reasons", test_maildir_skip_reasons);
  ADD ("/import/maildir/fifo", test_maildir_fifo);
  ADD ("/import/maildir/second-run", test_maildir_second_run);
  ADD ("/import/maildir/flag-change", test_maildir_flag_change);
  ADD ("/import/maildir/same-id-twice", test_maildir_same_id_twice);
  ADD ("/import/maildir/cancel", test_cancel);
  ADD ("/import/maildir/folder-order", test_maildir_folder_order);
  ADD ("/import/maildir/progress", test_maildir_progress);
  ADD ("/import/people/best-name", test_people_best_name);
  ADD ("/import/people/best-name-any-order", test_people_best_name_any_order);
  ADD ("/import/people/freemail", test_people_freemail);
  ADD ("/import/people/colleagues", test_people_colleagues);
  ADD ("/import/people/not-machines", test_people_not_machines);
  ADD ("/import/people/list-poster-writes-directly", test_list_poster_becomes_person_when_writing_directly);
  ADD ("/import/orgs", test_orgs);
  ADD ("/import/timeline/person", test_timeline_person);
  ADD ("/import/timeline/domain", test_timeline_domain);
  ADD ("/import/timeline/not-found", test_timeline_not_found);
  ADD ("/import/timeline/limit", test_timeline_limit);
  ADD ("/import/mbox", test_mbox);
  ADD ("/import/mbox/from-line-date", test_mbox_from_line_date);
  ADD ("/import/single-file", test_single_file);
  ADD ("/import/path-errors", test_import_path_errors);
  ADD ("/import/add-maildir-file", test_add_maildir_file);
  ADD ("/import/add-maildir-file/outside-root", test_add_maildir_file_outside_root);
#undef ADD

  return g_test_run ();
}
