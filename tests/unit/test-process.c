/* test-process.c: pipelines and stage rules, sales processes, linking, roles and prospect
 * lists (sg-pipeline.h, sg-process.h, sg-roles.h, sg-leads.h), on a store filled by the
 * real importer from a small hand-written mailbox. */
#include "config.h"

#include <locale.h>
#include <sqlite3.h>

#include "sg.h"
#include "test-util.h"

/* --- the mailbox ----------------------------------------------------------------- */

static const struct {
  const char *name;
  const char *text;
} mails[] = {
  { "a1", "From: Jane Doe <jane@acme.com>\nTo: Me <me@ourco.example>\nDate: Mon, 02 Mar 2026 10:00:00 +0000\n"
          "Subject: Demand forecast 2027\nMessage-ID: <a1@acme.com>\n\nCan you help?\n" },
  { "a2", "From: Me <me@ourco.example>\nTo: Jane Doe <jane@acme.com>, Bob Smith <bob@acme.com>\n"
          "Date: Tue, 03 Mar 2026 10:00:00 +0000\nSubject: Our proposal for the demand forecast\n"
          "Message-ID: <a2@ourco.example>\n\nAttached.\n" },
  { "a3", "From: Bob Smith <bob@acme.com>\nTo: Me <me@ourco.example>\nDate: Thu, 05 Mar 2026 10:00:00 +0000\n"
          "Subject: A question\nMessage-ID: <a3@acme.com>\n\nHi.\n" },
  { "g1", "From: Hans Meier <hans@globex.de>\nTo: Me <me@ourco.example>\nDate: Wed, 04 Mar 2026 10:00:00 +0000\n"
          "Subject: Anfrage\nMessage-ID: <g1@globex.de>\n\nHallo.\n" },
  { "g2", "From: Me <me@ourco.example>\nTo: Hans Meier <hans@globex.de>\nDate: Wed, 04 Mar 2026 12:00:00 +0000\n"
          "Subject: Re: Anfrage\nMessage-ID: <g2@ourco.example>\n\nGerne.\n" },
  { "k1", "From: Kim Lee <kim@initech.de>\nTo: Me <me@ourco.example>\nDate: Fri, 06 Mar 2026 10:00:00 +0000\n"
          "Subject: Hello\nMessage-ID: <k1@initech.de>\n\nHello.\n" },
};

typedef struct {
  char *dir;
  char *db;
  SgStore *store;
  SgIdentity *identity;
} Fixture;

static gint64
date (const char *ymd)
{
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autofree char *iso = g_strdup_printf ("%sT00:00:00Z", ymd);
  g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (iso, utc);

  return g_date_time_to_unix (dt);
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *md = NULL;
  g_autoptr (SgImporter) imp = NULL;

  f->dir = sg_test_make_tmpdir ();
  md = g_build_filename (f->dir, "Maildir", NULL);
  sg_test_make_maildir (md);
  for (guint i = 0; i < G_N_ELEMENTS (mails); i++) {
    g_autofree char *name = g_strdup_printf ("Maildir/cur/%u.%s:2,S", i, mails[i].name);
    g_autofree char *p = sg_test_write_file (f->dir, name, mails[i].text, -1);
  }
  f->identity = sg_identity_new ();
  g_assert_true (sg_identity_add_address (f->identity, "me@ourco.example", NULL));
  g_assert_true (sg_identity_add_internal_domain (f->identity, "ourco.example", NULL));
  f->db = g_build_filename (f->dir, "store.db", NULL);
  f->store = sg_store_open (f->db, SG_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  imp = sg_importer_new (f->store, f->identity);
  g_assert_true (sg_importer_import_path (imp, md, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sg_importer_flush (imp, &error));
  g_assert_cmpint (sg_store_count_interactions (f->store, NULL), ==, G_N_ELEMENTS (mails));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  sg_store_close (f->store);
  sg_identity_unref (f->identity);
  sg_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->db);
}

/* A process at @org for @deliverable, opened 2026-03-01, with one contact. */
static char *
new_process (Fixture *f, const char *org, const char *deliverable, const char *contact, const char *part)
{
  g_autoptr (GError) error = NULL;
  SgProcessNew spec = { .organisation = org, .deliverable = deliverable, .opened_at = date ("2026-03-01"),
                        .has_value = TRUE, .value_minor = 1000000, .currency = "EUR" };
  char *uuid = sg_process_create (f->store, &spec, "me@ourco.example", &error);

  g_assert_no_error (error);
  g_assert_nonnull (uuid);
  if (contact != NULL) {
    g_assert_true (sg_process_add_contact (f->store, uuid, contact, part, "me@ourco.example", &error));
    g_assert_no_error (error);
  }
  return uuid;
}

/* A column of the one row of a table, as text. */
static char *
cell (const SgTable *t, guint row, const char *column)
{
  for (guint c = 0; c < sg_table_get_n_columns (t); c++)
    if (g_strcmp0 (sg_table_get_column_name (t, c), column) == 0)
      return sg_table_format_cell (t, row, c);
  g_assert_not_reached ();
  return NULL;
}

static char *
process_field (Fixture *f, const char *uuid, const char *column)
{
  SgProcessQuery q = { .uuid = uuid };
  g_autoptr (SgTable) t = sg_process_query (f->store, &q, NULL);

  g_assert_nonnull (t);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 1);
  return cell (t, 0, column);
}

static gint64
count_sql (Fixture *f, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 n = -1;

  g_assert_cmpint (sqlite3_open_v2 (f->db, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return n;
}

/* --- pipelines ------------------------------------------------------------------- */

static void
test_pipeline_default (Fixture *f, gconstpointer data)
{
  static const char *const stages[] = { "identified", "qualified", "needs analysed", "proposal", "negotiation",
                                        "closed won", "closed lost", "follow-up" };
  static const char *const kinds[] = { "open", "open", "open", "open", "open", "won", "lost", "post" };
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = sg_pipeline_list_stages (f->store, "default", &error);
  g_autoptr (SgPipelines) builtin = sg_pipelines_new_default ();

  g_assert_no_error (error);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, G_N_ELEMENTS (stages));
  for (guint i = 0; i < G_N_ELEMENTS (stages); i++) {
    g_assert_cmpstr (sg_table_get_text (t, i, 2), ==, stages[i]);
    g_assert_cmpstr (sg_table_get_text (t, i, 4), ==, kinds[i]);
  }
  /* The built-in definition and the migration's copy agree: applying it changes nothing. */
  {
    gint64 before = count_sql (f, "SELECT count(*) FROM changes WHERE entity = 'pipeline'");

    g_assert_true (sg_pipelines_apply (f->store, builtin, &error));
    g_assert_no_error (error);
    g_assert_cmpint (count_sql (f, "SELECT count(*) FROM changes WHERE entity = 'pipeline'"), ==, before);
  }
  g_assert_null (sg_pipeline_list_stages (f->store, "nope", &error));
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_UNKNOWN_PIPELINE);
}

static void
test_pipeline_file_errors (Fixture *f, gconstpointer data)
{
  static const struct {
    const char *text;
    const char *message;
  } cases[] = {
    { "[pipeline x]\nstages=a;b;c\ncolour=red\n", "p.conf: [pipeline x] colour: unknown key" },
    { "[pipeline x]\n", "p.conf: [pipeline x] stages: missing" },
    { "[pipeline x]\nstages=a;won;lost\n[stage x/won]\nkind=won\n", "needs a stage of kind won and one of kind lost" },
    { "[pipeline x]\nstages=a;w;l\n[stage x/w]\nkind=won\n[stage x/l]\nkind=lost\nprobability=150\n",
      "p.conf: [stage x/l] probability: must be a whole number from 0 to 100" },
    { "[pipeline x]\nstages=a;w;l\n[stage x/zz]\nkind=won\n", "“zz” is not in the stages of pipeline “x”" },
    { "[pipeline x]\nstages=a;w;l\n[stage x/w]\nkind=maybe\n", "[stage x/w] kind: “maybe” is not open, won, lost or post" },
    { "[pipeline x]\nstages=w;a;l\n[stage x/w]\nkind=won\n[stage x/l]\nkind=lost\n", "the first stage must be an open stage" },
    { "[pipeline x]\nstages=a;a;l\n", "stage “a” is listed twice" },
    { "[pipelines]\nstages=a\n", "p.conf: [pipelines]: unknown group" },
    { "not a key file", "p.conf:" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (SgPipelines) p = sg_pipelines_new_from_data (cases[i].text, -1, "p.conf", &error);

    g_assert_null (p);
    g_assert_nonnull (error);
    g_assert_true (error->domain == SG_PIPELINE_ERROR);
    if (!sg_test_contains (error->message, cases[i].message))
      sg_test_failf ("case %u: “%s” does not say “%s”", i, error->message, cases[i].message);
  }
}

static void
test_pipeline_apply (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgPipelines) p = NULL;
  g_autoptr (SgTable) t = NULL;
  g_autofree char *uuid = new_process (f, "acme.com", "Forecast", NULL, NULL);

  g_assert_true (sg_process_move (f->store, uuid, "Needs Analysed", NULL, NULL, &error)); /* any case */
  g_assert_no_error (error);
  /* The default pipeline redefined without 'needs analysed' (in use: retired) and without
   * 'qualified' (unused: deleted), and a second pipeline. */
  p = sg_pipelines_new_from_data ("[pipeline default]\nstages=identified;proposal;won;lost\n"
                                  "[stage default/won]\nkind=won\n[stage default/lost]\nkind=lost\n"
                                  "[pipeline licence]\nstages=trial;offer;signed;dropped\n"
                                  "[stage licence/signed]\nkind=won\n[stage licence/dropped]\nkind=lost\n",
                                  -1, "p.conf", &error);
  g_assert_no_error (error);
  g_assert_true (sg_pipelines_apply (f->store, p, &error));
  g_assert_no_error (error);
  t = sg_pipeline_list_stages (f->store, "licence", &error);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 4);
  /* Open stages spread evenly: trial 33, offer 66. */
  g_assert_cmpint (sg_table_get_int (t, 0, 3), ==, 33);
  g_assert_cmpint (sg_table_get_int (t, 1, 3), ==, 66);
  g_clear_pointer (&t, sg_table_free);
  t = sg_pipeline_list_stages (f->store, "default", &error);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 5); /* 4 + the retired one */
  g_assert_cmpstr (sg_table_get_text (t, 4, 2), ==, "needs analysed");
  g_assert_cmpint (sg_table_get_int (t, 4, 6), ==, 1);
  /* The process stays where it is; nothing moves into a retired stage. */
  {
    g_autofree char *stage = process_field (f, uuid, "stage");

    g_assert_cmpstr (stage, ==, "needs analysed");
  }
  g_assert_true (sg_process_move (f->store, uuid, "proposal", NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (sg_process_move (f->store, uuid, "needs analysed", NULL, NULL, &error));
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_UNKNOWN_STAGE);
  g_assert_true (sg_test_contains (error->message, "any more"));
}

/* --- stage rules ----------------------------------------------------------------- */

static void
test_stage_rules (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *uuid = new_process (f, "acme.com", "Demand forecast", "jane@acme.com", "decision-maker");
  g_autoptr (SgTable) history = NULL;
  char *s;

  s = process_field (f, uuid, "stage");
  g_assert_cmpstr (s, ==, "identified");
  g_free (s);

  g_assert_false (sg_process_move (f->store, uuid, "signed", NULL, NULL, &error));
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_UNKNOWN_STAGE);
  g_assert_true (sg_test_contains (error->message, "no stage “signed” in pipeline “default” (stages: identified, "
                                                   "qualified, needs analysed, proposal"));
  g_clear_error (&error);

  g_assert_false (sg_process_move (f->store, uuid, "identified", NULL, NULL, &error));
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID_MOVE);
  g_assert_true (sg_test_contains (error->message, "already in stage “identified”"));
  g_clear_error (&error);

  g_assert_false (sg_process_move (f->store, uuid, "follow-up", NULL, NULL, &error));
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID_MOVE);
  g_clear_error (&error);

  g_assert_true (sg_process_move (f->store, uuid, "proposal", NULL, "me@ourco.example", &error));
  g_assert_true (sg_process_move (f->store, uuid, "negotiation", NULL, "me@ourco.example", &error));
  g_assert_true (sg_process_close (f->store, uuid, TRUE, NULL, "me@ourco.example", &error));
  g_assert_no_error (error);
  s = process_field (f, uuid, "status");
  g_assert_cmpstr (s, ==, "won");
  g_free (s);

  /* Out of a won stage: only into a post stage. */
  g_assert_false (sg_process_move (f->store, uuid, "proposal", NULL, NULL, &error));
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID_MOVE);
  g_assert_true (sg_test_contains (error->message, "is closed (“closed won”): reopen it before moving it"));
  g_clear_error (&error);
  g_assert_false (sg_process_close (f->store, uuid, FALSE, NULL, NULL, &error));
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID_MOVE);
  g_clear_error (&error);
  g_assert_true (sg_process_move (f->store, uuid, "follow-up", NULL, NULL, &error));
  s = process_field (f, uuid, "status");
  g_assert_cmpstr (s, ==, "won"); /* follow-up keeps the outcome */
  g_free (s);

  /* Reopen goes back to the last open stage. */
  g_assert_true (sg_process_reopen (f->store, uuid, NULL, NULL, &error));
  g_assert_no_error (error);
  s = process_field (f, uuid, "stage");
  g_assert_cmpstr (s, ==, "negotiation");
  g_free (s);
  s = process_field (f, uuid, "closed");
  g_assert_null (s);
  g_assert_false (sg_process_reopen (f->store, uuid, NULL, NULL, &error));
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID_MOVE);
  g_clear_error (&error);

  /* Lost, with a reason; nothing moves out of it. */
  g_assert_true (sg_process_close (f->store, uuid, FALSE, "price", NULL, &error));
  s = process_field (f, uuid, "lost_reason");
  g_assert_cmpstr (s, ==, "price");
  g_free (s);
  g_assert_false (sg_process_move (f->store, uuid, "follow-up", NULL, NULL, &error));
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID_MOVE);
  g_clear_error (&error);
  g_assert_true (sg_process_reopen (f->store, uuid, "qualified", NULL, &error));
  s = process_field (f, uuid, "lost_reason");
  g_assert_null (s);

  /* Every step is in the history, in order, with who and from where. */
  history = sg_process_history (f->store, uuid, &error);
  g_assert_no_error (error);
  {
    static const char *const expect[][3] = {
      { "open", NULL, "identified" },       { "move", "identified", "proposal" },
      { "move", "proposal", "negotiation" }, { "close", "negotiation", "closed won" },
      { "move", "closed won", "follow-up" }, { "reopen", "follow-up", "negotiation" },
      { "close", "negotiation", "closed lost" }, { "reopen", "closed lost", "qualified" },
    };

    g_assert_cmpuint (sg_table_get_n_rows (history), ==, G_N_ELEMENTS (expect));
    for (guint i = 0; i < G_N_ELEMENTS (expect); i++) {
      g_assert_cmpstr (sg_table_get_text (history, i, 1), ==, expect[i][0]);
      g_assert_cmpstr (sg_table_get_text (history, i, 2), ==, expect[i][1]);
      g_assert_cmpstr (sg_table_get_text (history, i, 3), ==, expect[i][2]);
    }
    g_assert_cmpstr (sg_table_get_text (history, 1, 4), ==, "me@ourco.example");
    g_assert_cmpstr (sg_table_get_text (history, 6, 5), ==, "price");
  }
  /* The history is append-only, even for SQL. */
  {
    sqlite3 *db = NULL;
    char *msg = NULL;

    g_assert_cmpint (sqlite3_open (f->db, &db), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_exec (db, "DELETE FROM stage_history", NULL, NULL, &msg), !=, SQLITE_OK);
    g_assert_true (sg_test_contains (msg, "append-only"));
    sqlite3_free (msg);
    sqlite3_close (db);
  }
  /* Each change is in the change log, by the process's UUID. */
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM changes WHERE entity = 'stage_history' "
                                            "AND natural_key = '%s'", uuid);

    g_assert_cmpint (count_sql (f, sql), ==, 8);
  }
}

/* Stage history and the store's clock (schema/sync.md, "A clock far off"): each entry keeps
 * the hlc of its op; a device whose wall clock is behind the newest clock it has seen dates
 * a move by that clock; the history is listed in the order of the clocks, not of arrival,
 * and entries from before the hlc column by their moved_at. */
static void
test_history_clock (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *uuid = new_process (f, "acme.com", "Demand forecast", NULL, NULL);
  g_autoptr (SgTable) history = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC, ahead = now + 3 * 86400, open_hlc, pid;
  sqlite3 *db = NULL;
  g_autofree char *sql = NULL;

  g_assert_true (sg_process_move (f->store, uuid, "proposal", NULL, "me@ourco.example", &error));
  g_assert_no_error (error);
  /* Every local entry has its op's clock. */
  g_assert_cmpint (count_sql (f, "SELECT count(*) FROM stage_history h JOIN changes c ON c.hlc = h.hlc "
                                 "AND c.entity = 'stage_history'"), ==, 2);
  /* The store has seen a clock three days past this machine's (a pull from a device whose
   * clock is right, this one's being behind): the next move is dated by it. */
  g_assert_cmpint (sqlite3_open (f->db, &db), ==, SQLITE_OK);
  sql = g_strdup_printf ("INSERT OR REPLACE INTO store_meta (key, value) VALUES ('sync_hlc', '%" G_GINT64_FORMAT "')",
                         (ahead * 1000) << 16);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_true (sg_process_move (f->store, uuid, "negotiation", NULL, "me@ourco.example", &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_sql (f, "SELECT max(moved_at) FROM stage_history"), >=, ahead);
  g_assert_cmpint (count_sql (f, "SELECT max(moved_at) FROM stage_history"), <=, ahead + 60);
  /* An entry pulled late with an early clock (just after the opening), and one from before
   * the hlc column (no clock, moved_at a day before the opening), both appended last. */
  open_hlc = count_sql (f, "SELECT min(hlc) FROM stage_history");
  pid = count_sql (f, "SELECT min(process_id) FROM stage_history");
  g_free (sql);
  sql = g_strdup_printf ("INSERT INTO stage_history (process_id, event, from_stage, to_stage, moved_by, moved_at, "
                         "hlc) VALUES (%" G_GINT64_FORMAT ", 'move', 'identified', 'qualified', 'kim@ourco.example', "
                         "%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "); "
                         "INSERT INTO stage_history (process_id, event, from_stage, to_stage, moved_by, moved_at) "
                         "VALUES (%" G_GINT64_FORMAT ", 'move', 'identified', 'needs analysed', 'old@ourco.example', "
                         "%" G_GINT64_FORMAT ")",
                         pid, now, open_hlc + 1, pid, date ("2026-02-28"));
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  history = sg_process_history (f->store, uuid, &error);
  g_assert_no_error (error);
  {
    static const char *const expect[] = { "needs analysed", "identified", "qualified", "proposal", "negotiation" };

    g_assert_cmpuint (sg_table_get_n_rows (history), ==, G_N_ELEMENTS (expect));
    for (guint i = 0; i < G_N_ELEMENTS (expect) && i < sg_table_get_n_rows (history); i++)
      g_assert_cmpstr (sg_table_get_text (history, i, 3), ==, expect[i]);
  }
}

static void
test_create_errors (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *first = new_process (f, "acme.com", "Demand forecast", NULL, NULL);
  SgProcessNew spec = { .organisation = "ACME.com", .deliverable = "  demand FORECAST " };
  char *uuid;

  uuid = sg_process_create (f->store, &spec, NULL, &error);
  g_assert_null (uuid);
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_DUPLICATE);
  g_assert_true (sg_test_contains (error->message, first));
  g_clear_error (&error);
  spec.allow_duplicate = TRUE;
  uuid = sg_process_create (f->store, &spec, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (uuid);
  g_free (uuid);
  /* A closed process is no duplicate. */
  g_assert_true (sg_process_close (f->store, first, FALSE, NULL, NULL, &error));
  spec.allow_duplicate = FALSE;
  spec.deliverable = "Other";
  uuid = sg_process_create (f->store, &spec, NULL, &error);
  g_assert_no_error (error);
  g_free (uuid);

  {
    static const struct {
      SgProcessNew spec;
      int code;
      const char *message;
    } bad[] = {
      { { .organisation = "nowhere.example", .deliverable = "x" }, SG_PROCESS_ERROR_NOT_FOUND,
        "no organisation “nowhere.example”" },
      { { .organisation = "acme.com", .deliverable = "x", .pipeline = "fast" }, SG_PROCESS_ERROR_UNKNOWN_PIPELINE,
        "no pipeline “fast” (pipelines: default)" },
      { { .organisation = "acme.com", .deliverable = "x", .stage = "closed won" }, SG_PROCESS_ERROR_INVALID_MOVE,
        "starts in an open stage" },
      { { .organisation = "acme.com", .deliverable = "x", .has_value = TRUE, .value_minor = 5 },
        SG_PROCESS_ERROR_INVALID, "a value needs a currency" },
      { { .organisation = "acme.com", .deliverable = "x", .currency = "euro" }, SG_PROCESS_ERROR_INVALID,
        "not an ISO 4217 code" },
      { { .organisation = "acme.com", .deliverable = "" }, SG_PROCESS_ERROR_INVALID, "needs a deliverable" },
      { { .organisation = "acme.com", .deliverable = "x", .lead_source = "radio" }, SG_PROCESS_ERROR_NOT_FOUND,
        "no lead source “radio”" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
      uuid = sg_process_create (f->store, &bad[i].spec, NULL, &error);
      g_assert_null (uuid);
      g_assert_error (error, SG_PROCESS_ERROR, bad[i].code);
      if (!sg_test_contains (error->message, bad[i].message))
        sg_test_failf ("case %u: “%s” does not say “%s”", i, error->message, bad[i].message);
      g_clear_error (&error);
    }
  }
  /* Nothing half-written: only the three processes made above exist. */
  g_assert_cmpint (count_sql (f, "SELECT count(*) FROM processes"), ==, 3);
  g_assert_cmpint (count_sql (f, "SELECT count(*) FROM stage_history WHERE event = 'open'"), ==, 3);

  /* Contacts must be known people with a real part. */
  g_assert_false (sg_process_add_contact (f->store, first, "ghost@acme.com", "buyer", NULL, &error));
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_NOT_FOUND);
  g_assert_true (sg_test_contains (error->message, "ghost@acme.com"));
  g_clear_error (&error);
  g_assert_false (sg_process_add_contact (f->store, first, "jane@acme.com", "boss", NULL, &error));
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (sg_process_add_contact (f->store, first, "me@ourco.example", "buyer", NULL, &error));
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID);
  g_assert_true (sg_test_contains (error->message, "me@ourco.example is you, not a contact"));
  g_clear_error (&error);
  /* References: a prefix, the local number, an unknown one. */
  {
    g_autofree char *prefix = g_strndup (first, 8);
    g_autofree char *r1 = sg_process_resolve (f->store, prefix, &error);

    g_assert_cmpstr (r1, ==, first);
    g_assert_null (sg_process_resolve (f->store, "deadbeef", &error));
    g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_NOT_FOUND);
    g_clear_error (&error);
    g_free (r1);
    r1 = sg_process_resolve (f->store, "1", &error);
    g_assert_cmpstr (r1, ==, first);
  }
}

static void
test_money (void)
{
  static const struct {
    const char *text;
    const char *currency;
    gboolean ok;
    gint64 minor;
    const char *back;
  } cases[] = {
    { "12000", "EUR", TRUE, 1200000, "12000.00" },   { "12,000.50", "EUR", TRUE, 1200050, "12000.50" },
    { "0.5", "USD", TRUE, 50, "0.50" },              { "1500", "JPY", TRUE, 1500, "1500" },
    { "1.234", "KWD", TRUE, 1234, "1.234" },         { "12.345", "EUR", FALSE, 0, NULL },
    { "", "EUR", FALSE, 0, NULL },                   { "-5", "EUR", FALSE, 0, NULL },
    { "1e3", "EUR", FALSE, 0, NULL },                { "99999999999999999999", "EUR", FALSE, 0, NULL },
    { "1.5", "JPY", FALSE, 0, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    gint64 minor = -1;
    gboolean ok = sg_money_parse (cases[i].text, cases[i].currency, &minor, &error);

    g_assert_cmpint (ok, ==, cases[i].ok);
    if (ok) {
      g_autofree char *back = sg_money_format (minor, cases[i].currency);

      g_assert_cmpint (minor, ==, cases[i].minor);
      g_assert_cmpstr (back, ==, cases[i].back);
    } else {
      g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID);
      g_assert_true (sg_test_contains (error->message, cases[i].text));
    }
  }
}

/* --- linking ----------------------------------------------------------------------- */

static char *
linked_to (Fixture *f, const char *message_id)
{
  g_autofree char *sql = g_strdup_printf ("SELECT p.id FROM interaction_links l JOIN interactions i ON "
                                          "i.id = l.interaction_id JOIN processes p ON p.id = l.process_id "
                                          "WHERE i.message_id = '%s' AND l.removed = 0", message_id);
  gint64 id = count_sql (f, sql);

  return id < 0 ? NULL : g_strdup_printf ("%" G_GINT64_FORMAT, id);
}

static void
test_link (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *forecast = new_process (f, "acme.com", "Demand forecast", "jane@acme.com", "decision-maker");
  g_autofree char *research = new_process (f, "acme.com", "Market research", "bob@acme.com", "influencer");
  g_autoptr (SgTable) links = NULL;
  g_autoptr (SgTable) sugg = NULL;
  guint n_linked = 0, n_suggested = 0;
  char *s;

  g_assert_true (sg_process_link_auto (f->store, 0, &n_linked, &n_suggested, &error));
  g_assert_no_error (error);
  /* a1 (Jane: a contact of the forecast), a2 (Jane and Bob: one contact each; the
   * subject names the forecast), a3 (Bob: research). Globex and Initech have no process. */
  g_assert_cmpuint (n_linked, ==, 3);
  s = linked_to (f, "a1@acme.com");
  g_assert_cmpstr (s, ==, "1");
  g_free (s);
  s = linked_to (f, "a2@ourco.example");
  g_assert_cmpstr (s, ==, "1");
  g_free (s);
  s = linked_to (f, "a3@acme.com");
  g_assert_cmpstr (s, ==, "2");
  g_free (s);
  g_assert_null (linked_to (f, "g1@globex.de"));

  links = sg_process_links (f->store, forecast, &error);
  g_assert_cmpuint (sg_table_get_n_rows (links), ==, 2);
  /* Newest first: a2, with its reason. */
  g_assert_cmpstr (sg_table_get_text (links, 0, 5), ==, "a2@ourco.example");
  g_assert_cmpstr (sg_table_get_text (links, 0, 3), ==, "rule");
  g_assert_cmpstr (sg_table_get_text (links, 0, 4), ==,
                   "organisation acme.com; 1 contact of the process took part; topic “demand forecast” in the "
                   "subject (2 open processes)");
  /* last_activity follows the newest linked interaction. */
  s = process_field (f, forecast, "last_activity");
  g_assert_cmpstr (s, ==, "2026-03-03T10:00:00Z");
  g_free (s);

  /* a2 says "proposal": a suggestion, not a move. */
  g_assert_cmpuint (n_suggested, ==, 1);
  sugg = sg_process_suggestions (f->store, forecast, &error);
  g_assert_cmpuint (sg_table_get_n_rows (sugg), ==, 1);
  g_assert_cmpstr (sg_table_get_text (sugg, 0, 3), ==, "proposal");
  g_assert_cmpstr (sg_table_get_text (sugg, 0, 4), ==, "the subject mentions “proposal”");
  s = process_field (f, forecast, "stage");
  g_assert_cmpstr (s, ==, "identified");
  g_free (s);
  g_assert_true (sg_process_move (f->store, forecast, "proposal", NULL, NULL, &error));
  g_clear_pointer (&sugg, sg_table_free);
  sugg = sg_process_suggestions (f->store, NULL, &error);
  g_assert_cmpuint (sg_table_get_n_rows (sugg), ==, 0); /* accepted */

  /* A person moves a1 to research and unlinks a3: both stick. */
  g_assert_true (sg_process_link (f->store, research, "<a1@acme.com>", "me@ourco.example", &error));
  g_assert_no_error (error);
  g_assert_true (sg_process_unlink (f->store, research, "a3@acme.com", "me@ourco.example", &error));
  g_assert_true (sg_process_link_auto (f->store, 0, &n_linked, NULL, &error));
  g_assert_cmpuint (n_linked, ==, 0);
  s = linked_to (f, "a1@acme.com");
  g_assert_cmpstr (s, ==, "2");
  g_free (s);
  g_assert_null (linked_to (f, "a3@acme.com"));
  g_assert_false (sg_process_link (f->store, research, "nope@x", NULL, &error));
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_NOT_FOUND);
  g_assert_true (sg_test_contains (error->message, "nope@x"));
  g_clear_error (&error);
  /* Links are in the change log by Message-ID and UUID. */
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM changes WHERE entity = 'interaction_link' "
                                            "AND natural_key = 'a1@acme.com|%s' AND op = 'remove'", forecast);

    g_assert_cmpint (count_sql (f, sql), ==, 1);
  }
}

/* A meeting or message tagged 'negotiation' (by the tagging rules of another module, which
 * write tag_assignments) suggests that stage; a removed tag does not. */
static void
test_link_tag_suggestion (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *uuid = new_process (f, "globex.de", "Studie", NULL, NULL);
  g_autoptr (SgTable) sugg = NULL;
  sqlite3 *db = NULL;
  guint n_linked = 0, n_suggested = 0;

  g_assert_cmpint (sqlite3_open (f->db, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db,
      "INSERT INTO tags (name, kind, created_at) VALUES ('Negotiation', 'meeting-kind', 0), ('proposal', 'topic', 0);"
      "INSERT INTO tag_assignments (tag_id, entity_type, entity_id, origin, created_at) "
      "  SELECT t.id, 'interaction', i.id, 'rule', 0 FROM tags t, interactions i "
      "  WHERE t.name = 'Negotiation' AND i.message_id = 'g1@globex.de';"
      "INSERT INTO tag_assignments (tag_id, entity_type, entity_id, origin, removed, created_at) "
      "  SELECT t.id, 'interaction', i.id, 'person', 1, 0 FROM tags t, interactions i "
      "  WHERE t.name = 'proposal' AND i.message_id = 'g2@ourco.example';",
      NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  g_assert_true (sg_process_link_auto (f->store, 0, &n_linked, &n_suggested, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_linked, ==, 2);
  g_assert_cmpuint (n_suggested, ==, 1);
  sugg = sg_process_suggestions (f->store, uuid, &error);
  g_assert_cmpuint (sg_table_get_n_rows (sugg), ==, 1);
  g_assert_cmpstr (sg_table_get_text (sugg, 0, 3), ==, "negotiation");
  g_assert_cmpstr (sg_table_get_text (sugg, 0, 4), ==, "tagged “Negotiation”");
  g_assert_cmpstr (sg_table_get_text (sugg, 0, 7), ==, "g1@globex.de");
  /* Dismissed, it stays dismissed. */
  g_assert_true (sg_process_dismiss_suggestion (f->store, sg_table_get_int (sugg, 0, 6), &error));
  g_clear_pointer (&sugg, sg_table_free);
  sugg = sg_process_suggestions (f->store, uuid, &error);
  g_assert_cmpuint (sg_table_get_n_rows (sugg), ==, 0);
  g_assert_false (sg_process_dismiss_suggestion (f->store, 999, &error));
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_NOT_FOUND);
}

static void
test_link_lookbehind (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  SgProcessNew spec = { .organisation = "globex.de", .deliverable = "Study", .opened_at = date ("2026-06-01") };
  g_autofree char *uuid = sg_process_create (f->store, &spec, NULL, &error);
  guint n = 0;

  /* Mail from March is not linked to a process opened in June. */
  g_assert_true (sg_process_link_auto (f->store, 0, &n, NULL, &error));
  g_assert_cmpuint (n, ==, 0);
  /* Only interactions after the watermark. */
  spec.opened_at = date ("2026-03-01");
  spec.deliverable = "Another";
  g_free (sg_process_create (f->store, &spec, NULL, &error));
  g_assert_true (sg_process_link_auto (f->store, sg_process_link_watermark (f->store), &n, NULL, &error));
  g_assert_cmpuint (n, ==, 0);
  g_assert_true (sg_process_link_auto (f->store, 0, &n, NULL, &error));
  g_assert_cmpuint (n, ==, 2); /* g1, g2 */
}

/* --- roles --------------------------------------------------------------------------- */

static char *
roles_of (Fixture *f, const char *address)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) t = sg_role_list (f->store, address, NULL, FALSE, &error);
  GString *s = g_string_new (NULL);

  g_assert_no_error (error);
  for (guint r = 0; r < sg_table_get_n_rows (t); r++)
    g_string_append_printf (s, "%s%s/%s", r ? " " : "", sg_table_get_text (t, r, 3), sg_table_get_text (t, r, 5));
  return g_string_free (s, FALSE);
}

static void
check_roles (Fixture *f, const char *address, const char *expect)
{
  g_autofree char *got = roles_of (f, address);

  if (g_strcmp0 (got, expect) != 0)
    sg_test_failf ("%s: roles “%s”, expected “%s”", address, got, expect);
}

static void
test_roles (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *forecast = NULL;
  guint added = 0, removed = 0;

  g_assert_true (sg_roles_derive (f->store, &added, &removed, &error));
  g_assert_no_error (error);
  /* No processes yet: Hans wrote and was answered (prospect); Jane too (a1, a2); Bob only
   * received mail from us and wrote a3: also two-way; Kim only wrote (suspect). */
  check_roles (f, "hans@globex.de", "prospect/rule");
  check_roles (f, "kim@initech.de", "suspect/rule");
  check_roles (f, "jane@acme.com", "prospect/rule");
  check_roles (f, "me@ourco.example", "");

  forecast = new_process (f, "acme.com", "Demand forecast", "jane@acme.com", "decision-maker");
  g_assert_true (sg_roles_derive (f->store, &added, &removed, &error));
  check_roles (f, "jane@acme.com", "lead/rule");
  check_roles (f, "bob@acme.com", "lead/rule");
  g_assert_true (sg_process_close (f->store, forecast, TRUE, NULL, NULL, &error));
  g_assert_true (sg_roles_derive (f->store, &added, &removed, &error));
  check_roles (f, "jane@acme.com", "customer/rule buyer/rule");
  check_roles (f, "bob@acme.com", "customer/rule");

  /* A person's decisions win and stick. */
  g_assert_true (sg_role_remove (f->store, "kim@initech.de", "suspect", "a partner, not a prospect",
                                 "me@ourco.example", &error));
  g_assert_true (sg_role_set (f->store, "bob@acme.com", "consumer", NULL, "me@ourco.example", &error));
  g_assert_true (sg_role_remove (f->store, "jane@acme.com", "buyer", NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sg_roles_derive (f->store, &added, &removed, &error));
  g_assert_cmpuint (added, ==, 0);
  check_roles (f, "kim@initech.de", "");
  check_roles (f, "bob@acme.com", "customer/rule consumer/person");
  check_roles (f, "jane@acme.com", "customer/rule");
  /* The removed role is still there, marked, so that the rules leave it alone. */
  {
    g_autoptr (SgTable) t = sg_role_list (f->store, "kim@initech.de", NULL, TRUE, &error);

    g_assert_cmpuint (sg_table_get_n_rows (t), ==, 1);
    g_assert_cmpstr (sg_table_get_text (t, 0, 6), ==, "a partner, not a prospect");
  }
  g_assert_false (sg_role_set (f->store, "ghost@acme.com", "lead", NULL, NULL, &error));
  g_assert_error (error, SG_ROLE_ERROR, SG_ROLE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (sg_role_set (f->store, "bob@acme.com", "king", NULL, NULL, &error));
  g_assert_error (error, SG_ROLE_ERROR, SG_ROLE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (count_sql (f, "SELECT count(*) FROM changes WHERE entity = 'person_role' AND "
                                 "natural_key = 'kim@initech.de|suspect' AND op = 'remove'"), ==, 1);
}

/* --- prospect lists ------------------------------------------------------------------ */

static void
test_list_import (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgTable) rejected = NULL;
  /* Semicolons, a quoted field holding the delimiter, Latin-1 bytes, and bad rows. */
  const char csv[] = "Vorname;Nachname;E-Mail;Firma;Website\r\n"
                     "Jane;Doe;JANE@acme.com;Acme;acme.com\r\n"           /* 2: matched */
                     "Peter;M\xfcller;peter@initech.de;Initech GmbH;\r\n"  /* 3: new, Latin-1 */
                     "\"Ann; the 2nd\";Smith;ann@gmail.com;Hooli;https://www.hooli.com/about\r\n" /* 4 */
                     "bad;row\r\n"                                        /* 5: 2 fields */
                     "X;Y;not-an-address;Z;z.com\r\n"                      /* 6 */
                     "Jane;Again;jane@acme.com;Acme;\r\n"                  /* 7: duplicate of 2 */
                     "Info;;info@initech.de;Initech;\r\n"                  /* 8: role address */
                     "Me;;me@ourco.example;Us;\r\n"                        /* 9: the user */
                     "\r\n"
                     "Zoe;Zed;zoe@newco.io;NewCo Ltd;\r\n";               /* 11: new org */
  g_autofree char *path = sg_test_write_file (f->dir, "list.csv", csv, -1);
  SgListOptions opts = { .list_name = "Fair 2026", .delimiter = ';' };
  SgListStats stats = { 0 };
  static const struct {
    gint64 row;
    const char *reason;
  } expect[] = {
    { 5, "2 fields, the header has 5" },
    { 6, "“not-an-address” is not an email address" },
    { 7, "jane@acme.com is already on row 2" },
    { 8, "info@initech.de is a role address, not a person's" },
    { 9, "me@ourco.example is your own or a colleague's address" },
  };

  g_assert_true (sg_list_import (f->store, f->identity, path, &opts, &stats, &rejected, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.rows, ==, 9);
  g_assert_cmpuint (stats.matched, ==, 1);
  g_assert_cmpuint (stats.new_people, ==, 3);
  g_assert_cmpuint (stats.new_orgs, ==, 2); /* hooli.com, newco.io; initech.de was known */
  g_assert_cmpuint (stats.rejected, ==, G_N_ELEMENTS (expect));
  g_assert_cmpuint (stats.converted, ==, 1);
  g_assert_cmpuint (sg_table_get_n_rows (rejected), ==, G_N_ELEMENTS (expect));
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++) {
    g_assert_cmpint (sg_table_get_int (rejected, i, 0), ==, expect[i].row);
    g_assert_cmpstr (sg_table_get_text (rejected, i, 1), ==, expect[i].reason);
  }
  /* No duplicates: Jane is still one person; Peter is at the known Initech. */
  g_assert_cmpint (count_sql (f, "SELECT count(*) FROM addresses WHERE address = 'jane@acme.com'"), ==, 1);
  g_assert_cmpint (count_sql (f, "SELECT count(*) FROM people p JOIN organisations o ON o.id = p.org_id "
                                 "WHERE p.name = 'Peter Müller' AND o.domain = 'initech.de'"), ==, 1);
  g_assert_cmpint (count_sql (f, "SELECT count(*) FROM people p JOIN organisations o ON o.id = p.org_id "
                                 "WHERE p.name = 'Ann; the 2nd Smith' AND o.domain = 'hooli.com'"), ==, 1);
  g_assert_cmpint (count_sql (f, "SELECT count(*) FROM person_lead_sources pl JOIN lead_sources s ON "
                                 "s.id = pl.lead_source_id WHERE s.name = 'list:Fair 2026' AND s.kind = 'rented-list'"),
                   ==, 4);
  /* Imported again: everyone matched, nothing new. */
  g_clear_pointer (&rejected, sg_table_free);
  g_assert_true (sg_list_import (f->store, f->identity, path, &opts, &stats, &rejected, NULL, &error));
  g_assert_cmpuint (stats.new_people, ==, 0);
  g_assert_cmpuint (stats.matched, ==, 4);
  /* New people from a list are suspects until contacted. */
  g_assert_true (sg_roles_derive (f->store, NULL, NULL, &error));
  check_roles (f, "zoe@newco.io", "suspect/rule");
}

static void
test_list_errors (Fixture *f, gconstpointer data)
{
  static const struct {
    const char *csv;
    SgListOptions opts;
    int code;
    const char *message;
  } cases[] = {
    { "", { .list_name = "l" }, SG_LIST_ERROR_EMPTY, "the file is empty (no header row)" },
    { "name,company\nJane,Acme\n", { .list_name = "l" }, SG_LIST_ERROR_COLUMNS,
      "no email address column (the header has: name, company)" },
    { "name,mail\n", { .list_name = "l", .email_col = "Address" }, SG_LIST_ERROR_COLUMNS,
      "--email-col “Address”: no such column (the header has: name, mail)" },
    { "a,b\n", { .list_name = "l", .encoding = "KLINGON-8" }, SG_LIST_ERROR_ENCODING, "unknown encoding “KLINGON-8”" },
    { "email\n\"never closed", { .list_name = "l" }, 0, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autofree char *name = g_strdup_printf ("bad%u.csv", i);
    g_autofree char *path = sg_test_write_file (f->dir, name, cases[i].csv, -1);
    SgListStats stats;
    gboolean ok = sg_list_import (f->store, f->identity, path, &cases[i].opts, &stats, NULL, NULL, &error);

    if (cases[i].message == NULL) {
      /* An unclosed quote at the end is one (bad) field: rejected, not a crash. */
      g_assert_true (ok);
      g_assert_cmpuint (stats.rejected, ==, 1);
      continue;
    }
    g_assert_false (ok);
    g_assert_error (error, SG_LIST_ERROR, cases[i].code);
    if (!sg_test_contains (error->message, cases[i].message))
      sg_test_failf ("case %u: “%s” does not say “%s”", i, error->message, cases[i].message);
  }
  {
    g_autoptr (GError) error = NULL;
    SgListOptions opts = { .list_name = "l" };

    g_assert_false (sg_list_import (f->store, f->identity, "/nonexistent/list.csv", &opts, NULL, NULL, NULL, &error));
    g_assert_error (error, SG_LIST_ERROR, SG_LIST_ERROR_OPEN);
    g_assert_true (sg_test_contains (error->message, "/nonexistent/list.csv"));
  }
  /* A runaway field (an unclosed quote over 1 MB): the import stops at its row, naming it,
   * and keeps the rows before it. Memory stays bounded: the field is not read to its end. */
  {
    g_autoptr (GError) error = NULL;
    GString *big = g_string_new ("email,name\nfirst@bigco.example,First\nsecond@bigco.example,\"");
    g_autofree char *path = NULL;
    SgListOptions opts = { .list_name = "big" };
    SgListStats stats;

    for (guint i = 0; i < 3 * 1024 * 1024 / 64; i++)
      g_string_append (big, "0123456789012345678901234567890123456789012345678901234567890123");
    path = sg_test_write_file (f->dir, "big.csv", big->str, (gssize) big->len);
    g_string_free (big, TRUE);
    g_assert_false (sg_list_import (f->store, f->identity, path, &opts, &stats, NULL, NULL, &error));
    g_assert_error (error, SG_LIST_ERROR, SG_LIST_ERROR_TOO_BIG);
    g_assert_true (sg_test_contains (error->message, "row 3: a field larger than 1 MB"));
    g_assert_cmpuint (stats.new_people, ==, 1);
    g_assert_cmpint (count_sql (f, "SELECT count(*) FROM addresses WHERE address = 'first@bigco.example'"), ==, 1);
  }
  /* Columns by number, no header, tab-separated, ISO-8859-1 named. */
  {
    g_autoptr (GError) error = NULL;
    const char tsv[] = "Ren\xe9\tren@example.org\n";
    g_autofree char *path = sg_test_write_file (f->dir, "n.tsv", tsv, -1);
    SgListOptions opts = { .list_name = "tsv", .delimiter = '\t', .no_header = TRUE, .email_col = "2",
                           .name_col = "1", .encoding = "ISO-8859-1" };
    SgListStats stats;

    g_assert_true (sg_list_import (f->store, f->identity, path, &opts, &stats, NULL, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (stats.new_people, ==, 1);
    g_assert_cmpint (count_sql (f, "SELECT count(*) FROM people WHERE name = 'René'"), ==, 1);
  }
}

/* --- notes and requests -------------------------------------------------------------- */

static void
test_notes_requests (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *uuid = new_process (f, "acme.com", "Demand forecast", NULL, NULL);
  SgNoteNew note = { .process = uuid, .text = "Loved the kick-off", .sentiment = "positive", .at = date ("2026-04-01") };
  SgRequestNew req = { .organisation = "globex.de", .what = "Forecast for Brazil", .category = "region" };
  g_autofree char *n1 = sg_note_add (f->store, &note, "me@ourco.example", &error);
  g_autofree char *r1 = NULL;
  g_autoptr (SgTable) t = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (n1);
  t = sg_note_list (f->store, "acme.com", &error);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 1);
  g_assert_cmpstr (sg_table_get_text (t, 0, 2), ==, "positive");
  g_assert_cmpstr (sg_table_get_text (t, 0, 6), ==, uuid);
  note.sentiment = "ecstatic";
  g_assert_null (sg_note_add (f->store, &note, NULL, &error));
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID);
  g_clear_error (&error);
  note.sentiment = NULL;
  note.organisation = "globex.de"; /* not the process's organisation */
  g_assert_null (sg_note_add (f->store, &note, NULL, &error));
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID);
  g_clear_error (&error);

  r1 = sg_request_add (f->store, &req, "me@ourco.example", &error);
  g_assert_no_error (error);
  g_clear_pointer (&t, sg_table_free);
  t = sg_request_list (f->store, NULL, &error);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 1);
  g_assert_cmpstr (sg_table_get_text (t, 0, 3), ==, "Forecast for Brazil");
  req.organisation = "nowhere.example";
  g_assert_null (sg_request_add (f->store, &req, NULL, &error));
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (count_sql (f, "SELECT count(*) FROM changes WHERE entity IN ('cx_note', 'request')"), ==, 2);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);
  g_test_set_nonfatal_assertions ();
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/process/pipeline/default", test_pipeline_default);
  ADD ("/process/pipeline/file-errors", test_pipeline_file_errors);
  ADD ("/process/pipeline/apply", test_pipeline_apply);
  ADD ("/process/stage-rules", test_stage_rules);
  ADD ("/process/create-errors", test_create_errors);
  ADD ("/process/history-clock", test_history_clock);
  g_test_add_func ("/process/money", test_money);
  ADD ("/process/link", test_link);
  ADD ("/process/link/lookbehind", test_link_lookbehind);
  ADD ("/process/link/tag-suggestion", test_link_tag_suggestion);
  ADD ("/process/roles", test_roles);
  ADD ("/process/list/import", test_list_import);
  ADD ("/process/list/errors", test_list_errors);
  ADD ("/process/notes-requests", test_notes_requests);
  return g_test_run ();
}
