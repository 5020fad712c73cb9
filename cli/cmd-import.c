/* cmd-import.c: salesgetter import — Maildirs, mbox files and messages into the store. */
#include "config.h"

#include "cli.h"

#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Problems printed one by one before they are only counted. */
#define MAX_PROBLEMS_SHOWN 20

typedef struct {
  SgImporter *importer;
  char **paths;
  SgImapAccount **accounts; /* parallel to paths: the IMAP account, or NULL for a path */
  SgCaldavAccount **caldav; /* parallel to paths: the CalDAV account, or NULL (caldav branch) */
  GCancellable *cancellable;
  GError *error;
  gboolean done;
  gboolean tty;
  gint64 start;
  guint problems;
  guint warnings;
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

/* A message stored with part of its text unread (issue 9). */
static void
on_warning (const char *location, const GError *error, gpointer user_data)
{
  ImportJob *job = user_data;

  if (job->warnings++ < MAX_PROBLEMS_SHOWN) {
    g_autofree char *safe = sg_cli_sanitize (error->message);

    if (job->tty)
      fputs ("\r\033[K", stderr);
    sg_cli_error ("warning: %s: %s (stored)", location, safe);
  }
}

static gpointer
import_thread (gpointer data)
{
  ImportJob *job = data;

  for (guint i = 0; job->paths[i] && job->error == NULL; i++) {
    g_autoptr (GError) error = NULL;

    job->current = job->paths[i];
    if (job->caldav[i] != NULL
          ? sg_caldav_account_sync (job->caldav[i], job->importer, job->cancellable, &error)
          : job->accounts[i] != NULL
          ? sg_imap_account_sync (job->accounts[i], job->importer, job->cancellable, &error)
          : sg_importer_import_path (job->importer, job->paths[i], job->cancellable, &error))
      continue;
    /* A PATH that is missing or not mail, or an account that fails, is reported, and the
     * others are imported; a store failure or Ctrl-C stops everything. */
    if ((error->domain == SG_IMPORT_ERROR && error->code != SG_IMPORT_ERROR_CANCELLED) ||
        error->domain == SG_IMAP_ERROR || error->domain == SG_CALDAV_ERROR ||
        error->domain == SG_CONFIG_ERROR) {
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

/* caldav branch: "caldav:NAME" names a [caldav NAME] account; an http(s):// URL is the
 * configured CalDAV account with that URL. */
static SgCaldavAccount *
caldav_account_for_arg (const SgConfig *config, const char *arg, GError **error)
{
  if (g_str_has_prefix (arg, "caldav:")) {
    const SgConfigCaldav *c = sg_config_find_caldav (config, arg + 7);

    if (c == NULL) {
      g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID, "%s: no [caldav %s] account in %s", arg, arg + 7,
                   config->path ? config->path : "the config");
      return NULL;
    }
    return sg_config_caldav_account (c, error);
  }
  for (guint i = 0; i < config->caldav->len; i++) {
    const SgConfigCaldav *c = config->caldav->pdata[i];

    if (strcmp (c->url, arg) == 0)
      return sg_config_caldav_account (c, error);
  }
  g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID,
               "%s: no [caldav NAME] account with this URL in %s (CalDAV accounts need their user and "
               "password-file there)", arg, config->path ? config->path : "the config");
  return NULL;
}

static gboolean
is_caldav_arg (const char *arg)
{
  return g_str_has_prefix (arg, "caldav:") || g_str_has_prefix (arg, "https://") || g_str_has_prefix (arg, "http://");
}

static gboolean
is_imap_url (const char *arg)
{
  return g_str_has_prefix (arg, "imap://") || g_str_has_prefix (arg, "imaps://");
}

/* A password typed at the terminal, without echo. */
static char *
prompt_password (const char *uri)
{
  struct termios old, quiet;
  char buf[1024];
  char *got;

  if (!isatty (STDIN_FILENO) || tcgetattr (STDIN_FILENO, &old) != 0)
    return NULL;
  fprintf (stderr, "Password for %s: ", uri);
  fflush (stderr);
  quiet = old;
  quiet.c_lflag &= ~(tcflag_t) ECHO;
  tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
  got = fgets (buf, sizeof buf, stdin);
  tcsetattr (STDIN_FILENO, TCSAFLUSH, &old);
  fputc ('\n', stderr);
  if (got == NULL)
    return NULL;
  buf[strcspn (buf, "\r\n")] = '\0';
  got = g_strdup (buf);
  memset (buf, 0, sizeof buf);
  return got;
}

/* The account for an imap(s):// URL on the command line: the config's account with the
 * same server and user, else the URL with a password typed at the terminal. */
static SgImapAccount *
account_for_url (SgConfig *config, const char *url, GError **error)
{
  g_autoptr (GUri) parsed = g_uri_parse (url, G_URI_FLAGS_HAS_PASSWORD, NULL);
  /* The account is named by its URL, unless that holds a password (which is refused). */
  const char *name = parsed && g_uri_get_password (parsed) == NULL ? url : "on the command line";
  g_autoptr (SgImapAccount) wanted = sg_imap_account_new (name, url, error);
  g_autofree char *password = NULL;

  if (wanted == NULL)
    return NULL;
  for (guint i = 0; i < config->imap->len; i++) {
    const SgConfigImap *c = config->imap->pdata[i];
    g_autoptr (SgImapAccount) probe = sg_imap_account_new (c->name, c->url, NULL);

    if (probe == NULL)
      continue;
    if (c->user)
      sg_imap_account_set_user (probe, c->user);
    if (strcmp (sg_imap_account_get_uri (probe), sg_imap_account_get_uri (wanted)) == 0)
      return sg_config_imap_account (c, error);
  }
  password = prompt_password (sg_imap_account_get_uri (wanted));
  if (password == NULL) {
    g_set_error (error, SG_IMAP_ERROR, SG_IMAP_ERROR_AUTH,
                 "%s: no [imap NAME] account with this server and user in %s, and no terminal to ask "
                 "for a password: add one (url, user, password or password-command)",
                 url, config->path ? config->path : "the config");
    return NULL;
  }
  sg_imap_account_set_password (wanted, password);
  memset (password, 0, strlen (password));
  return g_steal_pointer (&wanted);
}

int
sg_cmd_import (int argc, char **argv, SgGlobalOptions *globals)
{
  gboolean quiet = FALSE;
  gboolean no_content = FALSE;
  int jobs = 0;
  const GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress bar and no summary", NULL },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs,
      "Threads reading and parsing Maildir files, the one storing them included (default: one per processor, at most 8)", "N" },
    { "no-content", 0, 0, G_OPTION_ARG_NONE, &no_content,
      "Do not read message text (no signature facts, vCards or topics)", NULL },
    { NULL },
  };
  g_autoptr (SgConfig) config = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (SgImporter) importer = NULL;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_null_terminated (4, g_free, TRUE);
  g_autoptr (GPtrArray) accounts = g_ptr_array_new_null_terminated (4, (GDestroyNotify) sg_imap_account_free, TRUE);
  g_autoptr (GPtrArray) unstarted = g_ptr_array_new_with_free_func ((GDestroyNotify) sg_imap_account_free);
  g_autoptr (GPtrArray) caldav = g_ptr_array_new_null_terminated (4, (GDestroyNotify) sg_caldav_account_free, TRUE);
  g_autoptr (GPtrArray) caldav_unstarted = g_ptr_array_new_with_free_func ((GDestroyNotify) sg_caldav_account_free);
  g_autoptr (GPtrArray) caldav_errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_autoptr (GPtrArray) unstarted_errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GThread) thread = NULL;
  ImportJob job = { 0 };
  guint sigint, sigterm;
  gboolean interrupted;
  gint64 people_before, orgs_before;
  int status = SG_EXIT_OK;

  if (!sg_cli_parse ("import", "[PATH|URL...]",
                     "Imports mail into the store: a Maildir (with its subfolders), an mbox file,\n"
                     "a single message file, an IMAP account (imaps://user@host[:port]/, or\n"
                     "imap://... with STARTTLS), or meetings: an .ics file or a folder of them\n"
                     "(invitations inside mail are imported with the mail), or a CalDAV account of\n"
                     "the config (caldav:NAME, or its https:// URL). Without PATH, imports the\n"
                     "Maildirs ([maildir] paths), IMAP accounts ([imap NAME]) and CalDAV accounts\n"
                     "([caldav NAME]) of the config, else ~/Maildir. Importing again adds only what is new; IMAP messages are never\n"
                     "marked read.",
                     entries, FALSE, &argc, &argv, globals))
    return SG_EXIT_USAGE;
  if (jobs < 0 || jobs > 8) {
    sg_cli_error ("import: --jobs %d: must be between 1 and 8 (0: one per processor)", jobs);
    return SG_EXIT_USAGE;
  }
  if ((config = sg_cli_load_config (globals)) == NULL)
    return SG_EXIT_FAILED;
  for (int i = 1; i < argc; i++) {
    g_ptr_array_add (paths, g_strdup (argv[i]));
    g_ptr_array_add (accounts, NULL);
    g_ptr_array_add (caldav, NULL);
  }
  if (paths->len == 0) {
    g_autofree char *home_maildir = g_build_filename (g_get_home_dir (), "Maildir", NULL);

    for (guint i = 0; config->maildirs[i]; i++) {
      g_ptr_array_add (paths, g_strdup (config->maildirs[i]));
      g_ptr_array_add (accounts, NULL);
      g_ptr_array_add (caldav, NULL);
    }
    for (guint i = 0; i < config->imap->len; i++) {
      const SgConfigImap *c = config->imap->pdata[i];
      g_autoptr (GError) error = NULL;
      SgImapAccount *account = sg_config_imap_account (c, &error);

      if (account == NULL) {
        g_autoptr (SgImapAccount) bare = sg_imap_account_new (c->name, c->url, NULL);

        sg_cli_error ("import: %s", error->message);
        job.failed_paths++;
        /* Recorded for 'sync --status' once the store is open. */
        if (bare != NULL) {
          if (c->user)
            sg_imap_account_set_user (bare, c->user);
          g_ptr_array_add (unstarted, g_steal_pointer (&bare));
          g_ptr_array_add (unstarted_errors, g_steal_pointer (&error));
        }
        continue;
      }
      g_ptr_array_add (paths, g_strdup (sg_imap_account_get_uri (account)));
      g_ptr_array_add (accounts, account);
      g_ptr_array_add (caldav, NULL);
    }
    /* caldav branch: the CalDAV accounts of the config. */
    for (guint i = 0; i < config->caldav->len; i++) {
      const SgConfigCaldav *c = config->caldav->pdata[i];
      g_autoptr (GError) error = NULL;
      SgCaldavAccount *account = sg_config_caldav_account (c, &error);

      if (account == NULL) {
        g_autoptr (SgCaldavAccount) bare = sg_caldav_account_new (c->name, c->url, NULL);

        sg_cli_error ("import: %s", error->message);
        job.failed_paths++;
        if (bare != NULL) {
          if (c->user)
            sg_caldav_account_set_user (bare, c->user);
          g_ptr_array_add (caldav_unstarted, g_steal_pointer (&bare));
          g_ptr_array_add (caldav_errors, g_steal_pointer (&error));
        }
        continue;
      }
      g_ptr_array_add (paths, g_strdup (sg_caldav_account_get_uri (account)));
      g_ptr_array_add (accounts, NULL);
      g_ptr_array_add (caldav, account);
    }
    if (paths->len == 0 && job.failed_paths == 0 && g_file_test (home_maildir, G_FILE_TEST_IS_DIR)) {
      g_ptr_array_add (paths, g_steal_pointer (&home_maildir));
      g_ptr_array_add (accounts, NULL);
      g_ptr_array_add (caldav, NULL);
    }
    if (paths->len == 0 && job.failed_paths == 0) {
      sg_cli_error ("import: no PATH given, no [maildir] paths or [imap] accounts in the config and no ~/Maildir");
      return SG_EXIT_USAGE;
    }
  } else {
    for (guint i = 0; i < paths->len; i++) {
      g_autoptr (GError) error = NULL;

      if (is_caldav_arg (paths->pdata[i])) {
        caldav->pdata[i] = caldav_account_for_arg (config, paths->pdata[i], &error);
        if (caldav->pdata[i] == NULL) {
          sg_cli_error ("import: %s", error->message);
          return SG_EXIT_FAILED;
        }
        continue;
      }
      if (!is_imap_url (paths->pdata[i]))
        continue;
      accounts->pdata[i] = account_for_url (config, paths->pdata[i], &error);
      if (accounts->pdata[i] == NULL) {
        sg_cli_error ("import: %s", error->message);
        return SG_EXIT_FAILED;
      }
    }
  }
  if ((store = sg_cli_open_store (globals, config, FALSE)) == NULL)
    return SG_EXIT_FAILED;
  for (guint i = 0; i < unstarted->len; i++)
    sg_imap_record_failure (store, unstarted->pdata[i], unstarted_errors->pdata[i], NULL);
  for (guint i = 0; i < caldav_unstarted->len; i++)
    sg_caldav_record_failure (store, caldav_unstarted->pdata[i], caldav_errors->pdata[i], NULL);

  people_before = sg_store_count_people (store, NULL);
  orgs_before = count_orgs (store);
  importer = sg_importer_new (store, config->identity);
  sg_importer_set_parse_threads (importer, (guint) jobs);
  sg_importer_set_extract_content (importer, config->extract_content && !no_content);
  sg_importer_set_warning_func (importer, on_warning, &job);
  job.importer = importer;
  job.paths = (char **) paths->pdata;
  job.accounts = (SgImapAccount **) accounts->pdata;
  job.caldav = (SgCaldavAccount **) caldav->pdata;
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
  /* Topic tags follow the taxonomy over everything stored, new mail included (issue 9). */
  if (status == SG_EXIT_OK && !interrupted && config->taxonomy_path != NULL) {
    g_autoptr (GError) tax_error = NULL;
    g_autoptr (SgTaxonomy) taxonomy = sg_taxonomy_load (config->taxonomy_path, &tax_error);

    if (taxonomy == NULL || !sg_topics_apply_taxonomy (store, taxonomy, NULL, &tax_error)) {
      sg_cli_error ("import: topic tags not updated: %s", tax_error->message);
      status = SG_EXIT_FAILED;
    }
  }
  /* meetings branch: new or changed meetings are tagged by the rules; caldav branch: so is
   * new mail when a rules file is configured (it may hold applies-to = mail rules; the
   * built-in rules are meeting rules only). */
  if (status == SG_EXIT_OK && (sg_importer_get_stats (importer)->meetings > 0 ||
                               (config->rules_path != NULL && sg_importer_get_stats (importer)->imported > 0))) {
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
  /* caldav branch: what each CalDAV account's sync did. */
  for (guint i = 0; !quiet && i < caldav->len; i++) {
    const SgCaldavAccount *a = caldav->pdata[i];
    const SgCaldavStats *cs = a ? sg_caldav_account_get_stats (a) : NULL;

    if (cs == NULL || cs->calendars == 0)
      continue;
    printf ("CalDAV %s: %u calendar%s (%u unchanged), %u object%s fetched, %u removed from the server%s\n",
            sg_caldav_account_get_name (a), cs->calendars, cs->calendars == 1 ? "" : "s", cs->unchanged,
            cs->fetched, cs->fetched == 1 ? "" : "s", cs->removed,
            cs->resyncs ? "; the server no longer accepted the sync-token: resynchronised in full" : "");
  }
  {
    /* What follows a capture: linking to sales processes, lead-source credit, roles. */
    g_autoptr (GError) after_error = NULL;
    SgAfterCapture after = { 0 };

    if (!sg_config_after_capture (config, store, &after, &after_error)) {
      sg_cli_error ("import: %s", after_error->message);
      status = SG_EXIT_FAILED;
    } else if (!quiet && after.linked > 0) {
      printf ("Sales processes: %u interaction%s linked, %u stage suggestion%s\n", after.linked,
              after.linked == 1 ? "" : "s", after.suggested, after.suggested == 1 ? "" : "s");
    }
    if (!quiet && after.orgs_named > 0)
      printf ("Organisations named after their people's signatures: %u (salesgetter orgs set changes a name)\n",
              after.orgs_named);
  }
  if (interrupted || job.failed_paths > 0)
    status = SG_EXIT_FAILED;
  g_clear_error (&job.error);
  g_object_unref (job.cancellable);
  return status;
}
