/* insight-bench: the insight beside a message on a big generated store.
 *
 *   insight-bench STORE [N_PEOPLE [N_INTERACTIONS]]
 *
 * When STORE does not exist it is generated first, by direct SQL inserts (the importer
 * would take far longer and is measured by import-bench): N_PEOPLE people (default
 * 100000) at N_PEOPLE/5 organisations, one address each, N_INTERACTIONS mails (default
 * 1000000) between the user and one or two people (skewed: person k's share falls with
 * k, so a few people have thousands of interactions, as in real mailboxes), 5% of them
 * meetings, N_PEOPLE/20 sales processes with two contacts each, roles and tags.
 * Then times sg_insight_for_addresses() for 2000 random "messages" of two known people
 * and one unknown address, and for the person with the most interactions, and a
 * selection over all people. Prints p50/p99. */
#include "config.h"

#include <sg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

/* CPU time of this thread, in microseconds: the figure without the other processes of a
 * loaded machine (wall-clock p99 on a shared box measures the scheduler). */
static gint64
cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Why slow calls were slow: for each call over 1 ms wall, the time it waited for a core
 * and the page faults it took (minor: a mapped page first touched; major: read from
 * disk). */
typedef struct {
  guint n_slow;
  double slow_gap_us, slow_wait_us;
  glong slow_minflt, slow_majflt, minflt, majflt;
} Why;

static Why why;

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
pct (GArray *us, double p)
{
  return g_array_index (us, double, MIN (us->len - 1, (guint) (us->len * p)));
}

static void
report (const char *what, GArray *us)
{
  g_array_sort (us, cmp_double);
  printf ("%-44s n=%-5u p50 %8.1f us  p99 %8.1f us  p99.9 %8.1f us  max %8.1f us\n", what, us->len,
          pct (us, 0.5), pct (us, 0.99), pct (us, 0.999), g_array_index (us, double, us->len - 1));
}

/* Prints and resets the slow calls' account (after a wall report). */
static void
report_why (guint n_calls)
{
  printf ("  %u of %u calls over 1 ms wall: wall - CPU %.1f ms in all, of which %.1f ms waiting for a core "
          "(run queue); page faults in all calls: %ld minor, %ld major (slow calls: %ld, %ld)\n",
          why.n_slow, n_calls, why.slow_gap_us / 1000.0, why.slow_wait_us / 1000.0, why.minflt, why.majflt,
          why.slow_minflt, why.slow_majflt);
  memset (&why, 0, sizeof why);
}

/* Nanoseconds this thread has waited on a run queue (schedstat's second field; 0 where
 * the kernel does not keep it). */
static gint64
run_delay_ns (void)
{
  g_autofree char *text = NULL;
  guint64 on_cpu = 0, waited = 0;

  if (!g_file_get_contents ("/proc/thread-self/schedstat", &text, NULL, NULL) ||
      sscanf (text, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &on_cpu, &waited) != 2)
    return 0;
  return (gint64) waited;
}

/* One three-address message: two random known people and a stranger at the first one's
 * organisation, plus the user (left out of the insight). Returns the wall and CPU
 * microseconds of the sg_insight_for_addresses() call; exits on a wrong answer. */
static void
one_message (SgStore *store, GRand *r, gint64 n_people, int i, const SgInsightOptions *o, double *wall, double *cpu)
{
  g_autoptr (GError) error = NULL;
  gint32 p1 = g_rand_int_range (r, 0, (gint32) n_people), p2 = g_rand_int_range (r, 0, (gint32) n_people);
  gint64 n_orgs = MAX (1, n_people / 5);
  g_autofree char *a1 = g_strdup_printf ("p%d@org%" G_GINT64_FORMAT ".example", p1, p1 % n_orgs);
  g_autofree char *a2 = g_strdup_printf ("p%d@org%" G_GINT64_FORMAT ".example", p2, p2 % n_orgs);
  g_autofree char *a3 = g_strdup_printf ("stranger%d@org%" G_GINT64_FORMAT ".example", i, p1 % n_orgs);
  const char *who[] = { "me@ourco.example", a1, a2, a3, NULL };
  struct rusage ru0, ru1;
  gint64 d0 = run_delay_ns (), t0, c0, d1;
  SgInsight *in;

  getrusage (RUSAGE_THREAD, &ru0);
  t0 = g_get_monotonic_time ();
  c0 = cpu_us ();
  in = sg_insight_for_addresses (store, who, o, &error);
  *wall = (double) (g_get_monotonic_time () - t0);
  *cpu = (double) (cpu_us () - c0);
  getrusage (RUSAGE_THREAD, &ru1);
  d1 = run_delay_ns ();
  why.minflt += ru1.ru_minflt - ru0.ru_minflt;
  why.majflt += ru1.ru_majflt - ru0.ru_majflt;
  if (*wall > 1000) {
    why.n_slow++;
    why.slow_gap_us += *wall - *cpu;
    why.slow_wait_us += (double) (d1 - d0) / 1000.0;
    why.slow_minflt += ru1.ru_minflt - ru0.ru_minflt;
    why.slow_majflt += ru1.ru_majflt - ru0.ru_majflt;
  }
  if (in == NULL) {
    fprintf (stderr, "%s\n", error->message);
    exit (1);
  }
  if (sg_insight_get_n_correspondents (in) != (p1 == p2 ? 2u : 3u) || !sg_insight_is_known (in, 0)) {
    fprintf (stderr, "unexpected insight for %s\n", a1);
    exit (1);
  }
  sg_insight_free (in);
}

/* Opens @path read-only, as the mail clients' panels and `salesgetter insight` do. */
static SgStore *
open_reader (const char *path)
{
  g_autoptr (GError) error = NULL;
  SgStore *store = sg_store_open (path, SG_STORE_OPEN_READ_ONLY, &error);

  if (store == NULL) {
    fprintf (stderr, "%s\n", error->message);
    exit (1);
  }
  return store;
}

/* Reads the whole file once: its pages in the OS page cache. */
static void
preload (const char *path)
{
  static char buf[1 << 16];
  int fd = open (path, O_RDONLY);

  if (fd >= 0) {
    while (read (fd, buf, sizeof buf) > 0)
      ;
    close (fd);
  }
}

/* Drops the store file's pages from the OS page cache (this file only). */
static void
evict (const char *path)
{
  int fd = open (path, O_RDONLY);

  if (fd >= 0) {
    posix_fadvise (fd, 0, 0, POSIX_FADV_DONTNEED);
    close (fd);
  }
}

static void
exec (sqlite3 *db, const char *sql)
{
  char *msg = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    fprintf (stderr, "%s: %s\n", sql, msg);
    exit (1);
  }
}

static sqlite3_stmt *
prepare (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK) {
    fprintf (stderr, "%s: %s\n", sql, sqlite3_errmsg (db));
    exit (1);
  }
  return stmt;
}

static void
run (sqlite3_stmt *stmt)
{
  if (sqlite3_step (stmt) != SQLITE_DONE) {
    fprintf (stderr, "insert: %s\n", sqlite3_errmsg (sqlite3_db_handle (stmt)));
    exit (1);
  }
  sqlite3_reset (stmt);
}

/* A person index skewed towards 0: P(index < k) = sqrt(k / n). */
static gint64
skewed (GRand *r, gint64 n)
{
  double u = g_rand_double (r);

  return MIN (n - 1, (gint64) (u * u * (double) n));
}

static void
generate (const char *path, gint64 n_people, gint64 n_inter)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) r = g_rand_new_with_seed (42);
  SgStore *store = sg_store_open (path, SG_STORE_OPEN_DEFAULT, &error);
  gint64 n_orgs = MAX (1, n_people / 5), n_proc = MAX (1, n_people / 20);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC, t0 = g_get_monotonic_time ();
  sqlite3 *db;
  sqlite3_stmt *org, *dom, *person, *addr, *inter, *part, *proc, *contact, *role, *tag;

  if (store == NULL) {
    fprintf (stderr, "%s\n", error->message);
    exit (1);
  }
  sg_store_close (store);
  if (sqlite3_open (path, &db) != SQLITE_OK)
    exit (1);
  exec (db, "PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF; BEGIN");
  exec (db, "INSERT INTO organisations (id, domain, name, kind, created_at) VALUES (1, 'ourco.example', 'Ourco', "
            "'internal', 0); INSERT INTO org_domains VALUES ('ourco.example', 1);"
            "INSERT INTO people (id, name, org_id, kind, created_at) VALUES (1, 'Me', 1, 'self', 0);"
            "INSERT INTO addresses (id, address, domain, org_domain, kind, person_id, created_at) VALUES "
            "(1, 'me@ourco.example', 'ourco.example', 'ourco.example', 'personal', 1, 0);"
            "INSERT INTO tags (id, name, kind, created_at) VALUES (1, 'forecasting', 'interest', 0), "
            "(2, 'analytics', 'topic', 0), (3, 'retail', 'industry', 0), (4, 'energy', 'industry', 0);");
  org = prepare (db, "INSERT INTO organisations (id, domain, name, industry, created_at) VALUES (?, ?, ?, ?, 0)");
  dom = prepare (db, "INSERT INTO org_domains (domain, org_id) VALUES (?, ?)");
  person = prepare (db, "INSERT INTO people (id, name, org_id, first_seen, last_seen, created_at) VALUES (?, ?, ?, 0, 0, 0)");
  addr = prepare (db, "INSERT INTO addresses (id, address, domain, org_domain, kind, person_id, created_at) "
                      "VALUES (?, ?, ?, ?, 'personal', ?, 0)");
  inter = prepare (db, "INSERT INTO interactions (id, message_id, kind, direction, date_utc, subject, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, 0)");
  part = prepare (db, "INSERT OR IGNORE INTO participants (interaction_id, address_id, role) VALUES (?, ?, ?)");
  proc = prepare (db, "INSERT INTO processes (id, uuid, org_id, account_manager, deliverable, value_minor, currency, "
                      "pipeline_id, stage_id, status, opened_at, stage_since, created_at, updated_at) "
                      "VALUES (?, ?, ?, 'me@ourco.example', ?, ?, 'EUR', 1, ?, ?, ?, ?, 0, 0)");
  contact = prepare (db, "INSERT OR IGNORE INTO process_contacts (process_id, person_id, part, added_at) VALUES (?, ?, ?, 0)");
  role = prepare (db, "INSERT OR IGNORE INTO person_roles (person_id, role, since, origin) VALUES (?, ?, 0, 'rule')");
  tag = prepare (db, "INSERT OR IGNORE INTO tag_assignments (tag_id, entity_type, entity_id, origin, created_at) "
                     "VALUES (?, ?, ?, 'rule', 0)");
  for (gint64 o = 0; o < n_orgs; o++) {
    g_autofree char *d = g_strdup_printf ("org%" G_GINT64_FORMAT ".example", o);
    g_autofree char *name = g_strdup_printf ("Org %" G_GINT64_FORMAT, o);

    sqlite3_bind_int64 (org, 1, o + 2);
    sqlite3_bind_text (org, 2, d, -1, SQLITE_STATIC);
    sqlite3_bind_text (org, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_text (org, 4, o % 3 == 0 ? "retail" : "energy", -1, SQLITE_STATIC);
    run (org);
    sqlite3_bind_text (dom, 1, d, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (dom, 2, o + 2);
    run (dom);
    sqlite3_bind_int64 (tag, 1, o % 3 == 0 ? 3 : 4);
    sqlite3_bind_text (tag, 2, "organisation", -1, SQLITE_STATIC);
    sqlite3_bind_int64 (tag, 3, o + 2);
    run (tag);
  }
  for (gint64 p = 0; p < n_people; p++) {
    gint64 o = p % n_orgs;
    g_autofree char *d = g_strdup_printf ("org%" G_GINT64_FORMAT ".example", o);
    g_autofree char *a = g_strdup_printf ("p%" G_GINT64_FORMAT "@%s", p, d);
    g_autofree char *name = g_strdup_printf ("Person %" G_GINT64_FORMAT, p);

    sqlite3_bind_int64 (person, 1, p + 2);
    sqlite3_bind_text (person, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (person, 3, o + 2);
    run (person);
    sqlite3_bind_int64 (addr, 1, p + 2);
    sqlite3_bind_text (addr, 2, a, -1, SQLITE_STATIC);
    sqlite3_bind_text (addr, 3, d, -1, SQLITE_STATIC);
    sqlite3_bind_text (addr, 4, d, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (addr, 5, p + 2);
    run (addr);
    if (p % 4 == 0) {
      sqlite3_bind_int64 (role, 1, p + 2);
      sqlite3_bind_text (role, 2, p % 8 == 0 ? "customer" : "prospect", -1, SQLITE_STATIC);
      run (role);
    }
    if (p % 3 == 0) {
      sqlite3_bind_int64 (tag, 1, p % 2 ? 1 : 2);
      sqlite3_bind_text (tag, 2, "person", -1, SQLITE_STATIC);
      sqlite3_bind_int64 (tag, 3, p + 2);
      run (tag);
    }
  }
  for (gint64 i = 0; i < n_inter; i++) {
    g_autofree char *mid = g_strdup_printf ("<m%" G_GINT64_FORMAT "@bench.example>", i);
    g_autofree char *subj = g_strdup_printf ("Subject %" G_GINT64_FORMAT, i % 997);
    gboolean meeting = g_rand_int_range (r, 0, 20) == 0, out = g_rand_boolean (r);
    gint64 who = skewed (r, n_people), date = now - (gint64) g_rand_int_range (r, 0, 3 * 365) * 86400;

    sqlite3_bind_int64 (inter, 1, i + 1);
    sqlite3_bind_text (inter, 2, mid, -1, SQLITE_STATIC);
    sqlite3_bind_text (inter, 3, meeting ? "meeting" : "mail", -1, SQLITE_STATIC);
    sqlite3_bind_text (inter, 4, out ? "out" : "in", -1, SQLITE_STATIC);
    sqlite3_bind_int64 (inter, 5, date);
    sqlite3_bind_text (inter, 6, subj, -1, SQLITE_STATIC);
    run (inter);
    sqlite3_bind_int64 (part, 1, i + 1);
    sqlite3_bind_int64 (part, 2, 1);
    sqlite3_bind_text (part, 3, out ? "from" : "to", -1, SQLITE_STATIC);
    run (part);
    sqlite3_bind_int64 (part, 1, i + 1);
    sqlite3_bind_int64 (part, 2, who + 2);
    sqlite3_bind_text (part, 3, out ? "to" : "from", -1, SQLITE_STATIC);
    run (part);
    if (g_rand_boolean (r)) {
      sqlite3_bind_int64 (part, 1, i + 1);
      sqlite3_bind_int64 (part, 2, g_rand_int_range (r, 0, (gint32) n_people) + 2);
      sqlite3_bind_text (part, 3, "cc", -1, SQLITE_STATIC);
      run (part);
    }
  }
  for (gint64 k = 0; k < n_proc; k++) {
    g_autofree char *uuid = g_uuid_string_random ();
    g_autofree char *what = g_strdup_printf ("Deliverable %" G_GINT64_FORMAT, k % 50);
    gint64 o = k % n_orgs, stage = 1 + k % 7;

    sqlite3_bind_int64 (proc, 1, k + 1);
    sqlite3_bind_text (proc, 2, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (proc, 3, o + 2);
    sqlite3_bind_text (proc, 4, what, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (proc, 5, 100000 * (1 + k % 20));
    sqlite3_bind_int64 (proc, 6, stage);
    sqlite3_bind_text (proc, 7, stage == 6 ? "won" : stage == 7 ? "lost" : "open", -1, SQLITE_STATIC);
    sqlite3_bind_int64 (proc, 8, now - 200 * 86400);
    sqlite3_bind_int64 (proc, 9, now - 20 * 86400);
    run (proc);
    for (int c = 0; c < 2; c++) {
      sqlite3_bind_int64 (contact, 1, k + 1);
      sqlite3_bind_int64 (contact, 2, o + c * n_orgs + 2); /* people o and o+n_orgs work at org o */
      sqlite3_bind_text (contact, 3, c == 0 ? "decision-maker" : "user", -1, SQLITE_STATIC);
      run (contact);
    }
  }
  sqlite3_finalize (org);
  sqlite3_finalize (dom);
  sqlite3_finalize (person);
  sqlite3_finalize (addr);
  sqlite3_finalize (inter);
  sqlite3_finalize (part);
  sqlite3_finalize (proc);
  sqlite3_finalize (contact);
  sqlite3_finalize (role);
  sqlite3_finalize (tag);
  /* What the importer and the process module keep: last contact, and a history entry. */
  exec (db, "UPDATE people SET last_seen = (SELECT max(i.date_utc) FROM addresses a JOIN participants p "
            "ON p.address_id = a.id JOIN interactions i ON i.id = p.interaction_id WHERE a.person_id = people.id);"
            "INSERT INTO stage_history (process_id, event, to_stage, moved_at) SELECT p.id, 'open', s.name, "
            "p.opened_at FROM processes p JOIN stages s ON s.id = p.stage_id;"
            "INSERT INTO person_lead_sources (person_id, lead_source_id, added_at) SELECT id, 1 + id % 6, 0 "
            "FROM people WHERE id % 10 = 0;"
            "UPDATE processes SET lead_source_id = 1 + id % 6, cost_minor = 1000 * (id % 7), "
            "closed_at = CASE WHEN status != 'open' THEN opened_at + 86400 * 30 END");
  exec (db, "COMMIT; ANALYZE");
  sqlite3_close (db);
  printf ("generated in %.1f s\n", (double) (g_get_monotonic_time () - t0) / 1e6);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (GRand) r = g_rand_new_with_seed (7);
  g_autoptr (GArray) t_msg = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) t_heavy = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) c_msg = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (SgIdentity) id = sg_identity_new ();
  gint64 n_people = argc > 2 ? g_ascii_strtoll (argv[2], NULL, 10) : 100000;
  gint64 n_inter = argc > 3 ? g_ascii_strtoll (argv[3], NULL, 10) : 1000000;
  SgInsightOptions o = { .identity = id };
  /* INSIGHT_BENCH_N: insights per pass (default 2000; fewer for callgrind). */
  int n_loops = g_getenv ("INSIGHT_BENCH_N") ? (int) CLAMP (g_ascii_strtoll (g_getenv ("INSIGHT_BENCH_N"), NULL, 10), 100, 1000000) : 2000;

  if (argc < 2 || n_people < 10 || n_inter < 1) {
    fprintf (stderr, "usage: insight-bench STORE [N_PEOPLE [N_INTERACTIONS]]\n");
    return 2;
  }
  sg_identity_add_address (id, "me@ourco.example", NULL);
  if (!g_file_test (argv[1], G_FILE_TEST_EXISTS))
    generate (argv[1], n_people, n_inter);
  {
    gint64 t0 = g_get_monotonic_time ();

    /* Migrates an older store, and folds every interaction into the activity summaries
     * when they are behind (always after generate(): its SQL bypasses the store). */
    store = sg_store_open (argv[1], SG_STORE_OPEN_DEFAULT, &error);
    if (store == NULL) {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
    printf ("store opened (migrations, summaries caught up) in %.1f ms\n",
            (double) (g_get_monotonic_time () - t0) / 1000.0);
  }
  n_people = sg_store_count_people (store, NULL); /* contacts: the user is not counted */
  printf ("store: %" G_GINT64_FORMAT " interactions, %" G_GINT64_FORMAT " people, %" G_GINT64_FORMAT
          " organisations\n", sg_store_count_interactions (store, NULL), n_people,
          sg_store_count_organisations (store, NULL));
  /* The similar organisations the insight shows are computed ahead, for every
   * organisation (sg_similar_refresh(): after each capture, or `salesgetter similar
   * --refresh`); timed here once. */
  if (!sg_similar_is_current (store)) {
    gint64 t0 = g_get_monotonic_time ();

    if (!sg_similar_refresh (store, &error)) {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
    printf ("similar organisations of every organisation computed in %.1f ms\n",
            (double) (g_get_monotonic_time () - t0) / 1000.0);
  }
  /* The insights run on a read-only connection of their own, as the panels' do. First
   * the cold costs: the file's pages dropped from the OS cache, a new connection (no
   * statement prepared yet), its first call; then the first call of another new
   * connection with the file cached. */
  sg_store_close (g_steal_pointer (&store));
  if (g_getenv ("INSIGHT_BENCH_ONLY") == NULL || g_getenv ("INSIGHT_BENCH_COLD") != NULL) {
    g_autoptr (GRand) rc = g_rand_new_with_seed (1);
    double w, c;
    SgStore *cold;

    evict (argv[1]);
    cold = open_reader (argv[1]);
    one_message (cold, rc, n_people, 0, &o, &w, &c);
    printf ("cold: first insight, file evicted, new connection:      %8.1f us wall, %8.1f us CPU\n", w, c);
    one_message (cold, rc, n_people, 1, &o, &w, &c);
    printf ("cold: its second insight (file still mostly evicted):  %8.1f us wall, %8.1f us CPU\n", w, c);
    sg_store_close (cold);
    preload (argv[1]);
    cold = open_reader (argv[1]);
    one_message (cold, rc, n_people, 2, &o, &w, &c);
    printf ("cold: first insight, file in the OS cache, new connection: %8.1f us wall, %8.1f us CPU\n", w, c);
    one_message (cold, rc, n_people, 3, &o, &w, &c);
    printf ("cold: its second insight:                                  %8.1f us wall, %8.1f us CPU\n", w, c);
    sg_store_close (cold);
  }
  store = open_reader (argv[1]);
  /* The warm-up pass: n_loops messages (seed 7), not timed. INSIGHT_BENCH_ONLY=1 (for
   * callgrind) stops after the insights; the selections of everyone take minutes under
   * valgrind. */
  for (int i = 0; i < n_loops; i++) {
    double w, c;

    one_message (store, r, n_people, i, &o, &w, &c);
  }
  /* Timed, warm: n_loops other messages (seed 8: other people), back to back. */
  memset (&why, 0, sizeof why);
  {
    g_autoptr (GRand) r2 = g_rand_new_with_seed (8);

    for (int i = 0; i < n_loops; i++) {
      double w, c;

      one_message (store, r2, n_people, n_loops + i, &o, &w, &c);
      g_array_append_val (t_msg, w);
      g_array_append_val (c_msg, c);
    }
  }
  report ("insight, 2 known + 1 unknown, warm, wall", t_msg);
  report_why (t_msg->len);
  report ("  the same, CPU time", c_msg);
  /* The same messages as the warm-up pass again: every page touched before. */
  {
    g_autoptr (GRand) r1 = g_rand_new_with_seed (7);

    g_array_set_size (t_msg, 0);
    memset (&why, 0, sizeof why);
    for (int i = 0; i < n_loops; i++) {
      double w, c;

      one_message (store, r1, n_people, i, &o, &w, &c);
      g_array_append_val (t_msg, w);
    }
    report ("  the warm-up's messages again, wall", t_msg);
    report_why (t_msg->len);
  }
  /* As a panel calls it: one message at a time, the thread asleep in between
   * (INSIGHT_BENCH_GAP_US, default 2000 µs; 0 skips). A sleeping thread is woken ahead of
   * the busy ones on a loaded machine; back to back, every call competes for its slice. */
  {
    gint64 gap = g_getenv ("INSIGHT_BENCH_GAP_US") ? g_ascii_strtoll (g_getenv ("INSIGHT_BENCH_GAP_US"), NULL, 10) : 2000;
    g_autoptr (GRand) r3 = g_rand_new_with_seed (9);

    if (gap > 0 && g_getenv ("INSIGHT_BENCH_ONLY") == NULL) {
      g_array_set_size (t_msg, 0);
      g_array_set_size (c_msg, 0);
      memset (&why, 0, sizeof why);
      for (int i = 0; i < n_loops; i++) {
        double w, c;

        g_usleep ((gulong) gap);
        one_message (store, r3, n_people, 2 * n_loops + i, &o, &w, &c);
        g_array_append_val (t_msg, w);
        g_array_append_val (c_msg, c);
      }
      g_autofree char *what = g_strdup_printf ("insight, paced (%" G_GINT64_FORMAT " us apart), wall", gap);
      report (what, t_msg);
      report_why (t_msg->len);
      report ("  the same, CPU time", c_msg);
    }
  }
  for (int i = 0; i < 200; i++) {
    const char *who[] = { "p0@org0.example", NULL };
    gint64 t0 = g_get_monotonic_time ();
    SgInsight *in = sg_insight_for_addresses (store, who, &o, &error);
    double us = (double) (g_get_monotonic_time () - t0);

    if (i == 0) {
      JsonObject *c = json_array_get_object_element (
        json_object_get_array_member (json_node_get_object (sg_insight_get_json (in)), "correspondents"), 0);

      printf ("heaviest person: %" G_GINT64_FORMAT " interactions\n",
              json_object_get_int_member (json_object_get_object_member (c, "interactions"), "total"));
    }
    sg_insight_free (in);
    g_array_append_val (t_heavy, us);
  }
  report ("insight, the heaviest person", t_heavy);
  if (g_getenv ("INSIGHT_BENCH_ONLY") != NULL)
    return 0;

  /* Reports: one run each, over every process. */
  for (const char *const *name = sg_report_names (); *name != NULL; name++) {
    gint64 t0 = g_get_monotonic_time (), c0 = cpu_us ();
    g_autoptr (SgTable) t = sg_report_run (store, *name, NULL, &error);

    if (t == NULL) {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
    printf ("report %-40s %6u rows   in %8.1f ms (CPU %.1f ms)\n", *name, sg_table_get_n_rows (t),
            (double) (g_get_monotonic_time () - t0) / 1000.0, (double) (cpu_us () - c0) / 1000.0);
  }

  /* Similar organisations: reads every tag assignment once. */
  {
    gint64 t0 = g_get_monotonic_time ();
    g_autoptr (SgTable) t = sg_similar_organisations (store, "org0.example", 10, &error);

    if (t == NULL) {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
    printf ("similar org0.example                             %6u rows   in %8.1f ms\n", sg_table_get_n_rows (t),
            (double) (g_get_monotonic_time () - t0) / 1000.0);
  }

  /* Selections: one run each (they are batch work, not per message). */
  {
    static const char *const exprs[] = {
      "role:customer and industry:retail",       /* a few thousand people */
      "tag:forecasting or tag:analytics",        /* a third of everyone */
      "not role:customer and contacted:>1000d",  /* matches nobody: the bare scan */
      "not tag:nothing",                         /* everyone */
    };

    for (guint i = 0; i < G_N_ELEMENTS (exprs); i++) {
      g_autoptr (SgSelection) sel = sg_selection_parse (exprs[i], NULL, NULL);
      gint64 t0 = g_get_monotonic_time (), c0 = cpu_us ();
      g_autoptr (SgTable) t = sg_selection_run (store, sel, 0, 0, &error);

      if (t == NULL) {
        fprintf (stderr, "%s\n", error->message);
        return 1;
      }
      printf ("select %-40s %6u people in %8.1f ms (CPU %.1f ms)\n", exprs[i], sg_table_get_n_rows (t),
              (double) (g_get_monotonic_time () - t0) / 1000.0, (double) (cpu_us () - c0) / 1000.0);
    }
  }
  return 0;
}
