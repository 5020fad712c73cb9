/* cmd-import.c: salesgetter import — Maildirs, mbox files and messages into the store. */
#include "config.h"

#include "cli.h"

#include <glib-unix.h>
#include <stdio.h>
#include <unistd.h>

/* Problems printed one by one before they are only counted. */
#define MAX_PROBLEMS_SHOWN 20

typedef struct {
  SgImporter *importer;
  char **paths;
  GCancellable *cancellable;
  GError *error;
  gboolean done;
  gboolean tty;
  gint64 start;
  guint problems;
  guint failed_paths;
  const char *current;
  GMainLoop *loop;
} ImportJob;

static void
format_duration (GString *out, double seconds)
{
  guint s = (guint) (seconds + 0.5);

  if (s >= 3600)
    g_string_append_printf (out, "%u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
  else
    g_string_append_printf (out, "%u:%02u", s / 60, s % 60);
}

/* "[#########-----------]  45%  12345/27000  6789 msg/s  ETA 0:02" on stderr. */
static void
on_progress (const SgImportProgress *p, gpointer user_data)
{
  ImportJob *job = user_data;
  double elapsed = (g_get_monotonic_time () - job->start) / (double) G_USEC_PER_SEC;
  double fraction = 0.0, rate = elapsed > 0 ? p->files_done / elapsed : 0.0;
  GString *line = g_string_new ("\r");
  const guint width = 24;

  if (!job->tty)
    return;
  if (p->bytes_total > 0)
    fraction = (double) p->bytes_done / p->bytes_total;
  else if (p->files_total > 0)
    fraction = (double) p->files_done / p->files_total;
  fraction = CLAMP (fraction, 0.0, 1.0);
  g_string_append_c (line, '[');
  for (guint i = 0; i < width; i++)
    g_string_append_c (line, i < (guint) (fraction * width) ? '#' : '-');
  g_string_append_printf (line, "] %3.0f%%  %" G_GUINT64_FORMAT, fraction * 100, p->files_done);
  if (p->files_total > 0)
    g_string_append_printf (line, "/%" G_GUINT64_FORMAT, p->files_total);
  g_string_append_printf (line, " msgs  %.0f msg/s", rate);
  if (fraction > 0.0 && fraction < 1.0 && elapsed > 0.5) {
    g_string_append (line, "  ETA ");
    format_duration (line, elapsed / fraction - elapsed);
  }
  g_string_append (line, "\033[K");
  fputs (line->str, stderr);
  fflush (stderr);
  g_string_free (line, TRUE);
}

static void
on_problem (const char *location, const GError *error, gpointer user_data)
{
  ImportJob *job = user_data;

  if (job->problems++ < MAX_PROBLEMS_SHOWN) {
    if (job->tty)
      fputs ("\r\033[K", stderr);
    /* A meeting stored with a flaw (an unknown zone ...) is a warning, not a skip. */
    if (g_error_matches (error, SG_ICAL_ERROR, SG_ICAL_ERROR_FLAWED))
      sg_cli_error ("warning: %s: %s", location, error->message);
    else
      sg_cli_error ("skipped %s: %s", location, error->message);
  } else if (job->problems == MAX_PROBLEMS_SHOWN + 1) {
    sg_cli_error ("more messages skipped; the summary counts them");
  }
}

static gpointer
import_thread (gpointer data)
{
  ImportJob *job = data;

  for (guint i = 0; job->paths[i] && job->error == NULL; i++) {
    g_autoptr (GError) error = NULL;

    job->current = job->paths[i];
    if (sg_importer_import_path (job->importer, job->paths[i], job->cancellable, &error))
      continue;
    /* A PATH that is missing or not mail is reported, and the other PATHs are imported;
     * a store failure or Ctrl-C stops everything. */
    if (error->domain == SG_IMPORT_ERROR && error->code != SG_IMPORT_ERROR_CANCELLED) {
      if (job->tty)
        fputs ("\r\033[K", stderr);
      sg_cli_error ("import: %s", error->message);
      job->failed_paths++;
      continue;
    }
    job->error = g_steal_pointer (&error);
  }
  g_atomic_int_set (&job->done, TRUE);
  g_main_context_wakeup (NULL);
  return NULL;
}

static gboolean
on_signal (gpointer data)
{
  ImportJob *job = data;

  g_cancellable_cancel (job->cancellable);
  return G_SOURCE_CONTINUE;
}

/* Organisations as `salesgetter orgs` lists them: in contact outside list and bulk mail. */
static gint64
count_orgs (SgStore *store)
{
  g_autoptr (SgTable) t = sg_query_orgs (store, NULL, NULL);

  return t ? sg_table_get_n_rows (t) : 0;
}

static void
print_summary (SgStore *store, SgImporter *importer, gboolean interrupted, gint64 people_before,
               gint64 orgs_before)
{
  const SgImportStats *s = sg_importer_get_stats (importer);
  g_autoptr (SgTable) reasons = sg_importer_get_skip_reasons (importer);
  gint64 people = sg_store_count_people (store, NULL), orgs = count_orgs (store);

  printf ("%s: %u messages read, %u new interactions, %u already known, %u skipped\n",
          interrupted ? "Interrupted (what was read is kept)" : "Imported",
          s->messages, s->imported, s->known, s->skipped);
  /* New is what the store gained: a person made from one message may turn out to be a
   * mailing list in the next, and an organisation seen only in list mail is not counted. */
  printf ("People: %" G_GINT64_FORMAT " new (%" G_GINT64_FORMAT " in the store); organisations: %"
          G_GINT64_FORMAT " new (%" G_GINT64_FORMAT " in the store)\n",
          MAX (0, people - people_before), people, MAX (0, orgs - orgs_before), orgs);
  if (s->meetings > 0 || s->meetings_stale > 0)
    printf ("Meetings: %u stored or changed, %u older invitations or answers not applied\n", s->meetings,
            s->meetings_stale);
  if (sg_table_get_n_rows (reasons) > 0) {
    printf ("Skipped:");
    for (guint r = 0; r < sg_table_get_n_rows (reasons); r++)
      printf ("%s %" G_GINT64_FORMAT " %s", r ? "," : "", sg_table_get_int (reasons, r, 1),
              sg_table_get_text (reasons, r, 0));
    printf ("\n");
  }
}

int
sg_cmd_import (int argc, char **argv, SgGlobalOptions *globals)
{
  gboolean quiet = FALSE;
  const GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress bar and no summary", NULL },
    { NULL },
  };
  g_autoptr (SgConfig) config = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (SgImporter) importer = NULL;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_null_terminated (4, g_free, TRUE);
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GThread) thread = NULL;
  ImportJob job = { 0 };
  guint sigint, sigterm;
  gboolean interrupted;
  gint64 people_before, orgs_before;
  int status = SG_EXIT_OK;

  if (!sg_cli_parse ("import", "[PATH...]",
                     "Imports mail into the store: a Maildir (with its subfolders), an mbox file,\n"
                     "or a single message file; and meetings: an .ics file or a folder of them\n"
                     "(invitations inside mail are imported with the mail). Without PATH, imports the Maildirs in the config\n"
                     "([maildir] paths), else ~/Maildir. Importing again adds only what is new.",
                     entries, FALSE, &argc, &argv, globals))
    return SG_EXIT_USAGE;
  if ((config = sg_cli_load_config (globals)) == NULL)
    return SG_EXIT_FAILED;
  for (int i = 1; i < argc; i++)
    g_ptr_array_add (paths, g_strdup (argv[i]));
  if (paths->len == 0) {
    g_autofree char *home_maildir = g_build_filename (g_get_home_dir (), "Maildir", NULL);

    for (guint i = 0; config->maildirs[i]; i++)
      g_ptr_array_add (paths, g_strdup (config->maildirs[i]));
    if (paths->len == 0 && g_file_test (home_maildir, G_FILE_TEST_IS_DIR))
      g_ptr_array_add (paths, g_steal_pointer (&home_maildir));
    if (paths->len == 0) {
      sg_cli_error ("import: no PATH given, no [maildir] paths in the config and no ~/Maildir");
      return SG_EXIT_USAGE;
    }
  }
  if ((store = sg_cli_open_store (globals, config, FALSE)) == NULL)
    return SG_EXIT_FAILED;

  people_before = sg_store_count_people (store, NULL);
  orgs_before = count_orgs (store);
  importer = sg_importer_new (store, config->identity);
  job.importer = importer;
  job.paths = (char **) paths->pdata;
  job.cancellable = g_cancellable_new ();
  job.tty = !quiet && isatty (STDERR_FILENO);
  job.start = g_get_monotonic_time ();
  sg_importer_set_progress_func (importer, on_progress, &job, 100);
  sg_importer_set_problem_func (importer, on_problem, &job);
  {
    /* Floating iCalendar times ("09:00", no zone) are read in the user's own zone. */
    g_autoptr (GTimeZone) local = g_time_zone_new_local ();
    g_autofree char *olson = sg_ical_resolve_tzid (g_time_zone_get_identifier (local));

    sg_importer_set_floating_timezone (importer, olson);
  }

  /* The import runs in a worker so that Ctrl-C is handled in the main loop: it stops the
   * import after the current message and keeps everything read so far. */
  loop = g_main_loop_new (NULL, FALSE);
  sigint = g_unix_signal_add (SIGINT, on_signal, &job);
  sigterm = g_unix_signal_add (SIGTERM, on_signal, &job);
  thread = g_thread_new ("import", import_thread, &job);
  while (!g_atomic_int_get (&job.done))
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (g_steal_pointer (&thread));
  g_source_remove (sigint);
  g_source_remove (sigterm);
  if (job.tty)
    fputs ("\r\033[K", stderr);

  interrupted = g_error_matches (job.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  if (job.error != NULL && !interrupted) {
    sg_cli_error ("import: %s", job.error->message);
    status = SG_EXIT_FAILED;
  }
  {
    g_autoptr (GError) flush_error = NULL;

    /* What is still pending is committed; if that fails, it is said, whatever went before. */
    if (!sg_importer_flush (importer, &flush_error)) {
      sg_cli_error ("import: the last batch was not stored: %s", flush_error->message);
      status = SG_EXIT_FAILED;
    }
  }
  /* meetings branch: new or changed meetings are tagged by the rules. */
  if (status == SG_EXIT_OK && sg_importer_get_stats (importer)->meetings > 0) {
    g_autoptr (GError) rules_error = NULL;
    g_autoptr (SgRules) rules = sg_cli_load_rules (config);

    if (rules == NULL || !sg_rules_apply (rules, store, config->identity, NULL, &rules_error)) {
      if (rules_error)
        sg_cli_error ("import: tagging: %s", rules_error->message);
      status = SG_EXIT_FAILED;
    }
  }
  if (!quiet)
    print_summary (store, importer, interrupted, people_before, orgs_before);
  if (interrupted || job.failed_paths > 0)
    status = SG_EXIT_FAILED;
  g_clear_error (&job.error);
  g_object_unref (job.cancellable);
  return status;
}
