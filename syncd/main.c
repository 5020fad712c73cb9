/* main.c: salesgetter-syncd, the per-user capture daemon. main() reads as a checklist. */
#include "config.h"

#include "sg-alloc.h"
#include "sg-config.h"
#include "syncd.h"

#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>

typedef struct {
  GMainLoop *loop;
  char *config_path;  /* --config, or NULL for the default */
  char *store_path;   /* resolved */
  char *store_override;
  SgConfig *config;
  GPtrArray *sources; /* SgMaildirSource */
  GPtrArray *imap;    /* SgPolled: IMAP accounts */
  GPtrArray *ics_sources; /* SgIcsSource (meetings branch) */
  GPtrArray *caldav;  /* SgPolled: CalDAV accounts (caldav branch) */
  SgSyncSource *sync;     /* the team sync, NULL without [sync] server (syncclient branch) */
  gboolean once;
  guint once_id;
  gboolean stopping;  /* main() is tearing down: handlers do nothing */
  guint housekeeping_id; /* what follows capture, every HOUSEKEEPING_INTERVAL_S */
  gint64 housekeeping_seen; /* interactions in the store at the last pass */
} Daemon;

/* Seconds between two passes of what follows capture (each may read the whole store). */
#define HOUSEKEEPING_INTERVAL_S 300

/* What follows capture, when mail was stored since the last pass: new interactions of every
 * source are linked to sales processes (the Maildir source links its own at once; nothing
 * is linked twice), new contacts are credited to the analyst or manager whose mail they
 * came from, buying-process roles are derived again, and topic tags are refreshed with
 * [topics] taxonomy. On the main loop, with a connection of its own: the sources keep
 * theirs, and wait for the lock as for each other. Errors are logged. */
static void
housekeeping (Daemon *d)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgStore) store = NULL;
  gint64 seen = -1;

  store = sg_store_open (d->store_path, SG_STORE_OPEN_DEFAULT, &error);
  if (store != NULL)
    seen = sg_store_count_interactions (store, &error);
  if (store == NULL || seen < 0 || seen == d->housekeeping_seen) {
    if (error != NULL)
      g_warning ("store %s: %s", d->store_path, error->message);
    return;
  }
  if (!sg_config_after_capture (d->config, store, NULL, &error)) {
    g_warning ("store %s: %s", d->store_path, error->message);
    g_clear_error (&error);
  }
  if (d->config->taxonomy_path != NULL) {
    g_autoptr (SgTaxonomy) taxonomy = sg_taxonomy_load (d->config->taxonomy_path, &error);

    if (taxonomy == NULL || !sg_topics_apply_taxonomy (store, taxonomy, NULL, &error)) {
      g_warning ("topic tags not refreshed: %s", error->message);
      return;
    }
  }
  /* caldav branch: the rules file's mail rules tag the mail stored since (meetings are
   * tagged by their own sources right away). */
  if (d->config->rules_path != NULL) {
    g_autoptr (SgRules) rules = sg_rules_new_from_file (d->config->rules_path, &error);

    if (rules == NULL || !sg_rules_apply (rules, store, d->config->identity, NULL, &error)) {
      g_warning ("tagging rules not applied: %s", error->message);
      return;
    }
  }
  d->housekeeping_seen = seen;
}

static gboolean
on_housekeeping_timer (gpointer data)
{
  Daemon *d = data;

  if (!d->stopping)
    housekeeping (d);
  return G_SOURCE_CONTINUE;
}

static gboolean
load_config (Daemon *d, GError **error)
{
  g_autoptr (SgConfig) config = sg_config_load (d->config_path, error);

  if (config == NULL)
    return FALSE;
  g_clear_pointer (&d->config, sg_config_free);
  d->config = g_steal_pointer (&config);
  g_free (d->store_path);
  d->store_path = sg_config_store_path (d->config, d->store_override);
  return TRUE;
}

static void
stop_sources (Daemon *d)
{
  /* Freeing a source waits for its rescan while the main loop runs: handlers that look at
   * d->sources meanwhile must see an empty list, not half-freed sources. */
  g_autoptr (GPtrArray) old = g_steal_pointer (&d->sources);
  g_autoptr (GPtrArray) old_imap = g_steal_pointer (&d->imap);

  d->sources = g_ptr_array_new_with_free_func ((GDestroyNotify) sg_maildir_source_free);
  d->imap = g_ptr_array_new_with_free_func ((GDestroyNotify) sg_polled_free);
  for (guint i = 0; i < old->len; i++)
    sg_maildir_source_cancel (old->pdata[i]);
  for (guint i = 0; old_imap && i < old_imap->len; i++)
    sg_polled_cancel (old_imap->pdata[i]);
  /* caldav branch: CalDAV accounts, the same way. */
  if (d->caldav != NULL) {
    g_autoptr (GPtrArray) old_caldav = g_steal_pointer (&d->caldav);

    d->caldav = g_ptr_array_new_with_free_func ((GDestroyNotify) sg_polled_free);
    for (guint i = 0; i < old_caldav->len; i++)
      sg_polled_cancel (old_caldav->pdata[i]);
  }
  /* syncclient branch: the team sync waits for a round trip in flight (cancelled). */
  g_clear_pointer (&d->sync, sg_sync_source_free);
  /* meetings branch: the .ics folders, the same way. */
  if (d->ics_sources != NULL) {
    g_autoptr (GPtrArray) old_ics = g_steal_pointer (&d->ics_sources);

    d->ics_sources = g_ptr_array_new_with_free_func ((GDestroyNotify) sg_ics_source_free);
    for (guint i = 0; i < old_ics->len; i++)
      sg_ics_source_cancel (old_ics->pdata[i]);
  }
}

/* Starts one source per configured Maildir; one that cannot start is reported and the
 * others go on. */
static void
start_sources (Daemon *d)
{
  for (guint i = 0; d->config->maildirs[i]; i++) {
    g_autoptr (GError) error = NULL;
    SgMaildirSource *src = sg_maildir_source_new (d->config->maildirs[i], d->store_path,
                                                  d->config->identity, &error);

    if (src == NULL) {
      g_warning ("%s", error->message);
      continue;
    }
    g_message ("watching Maildir %s", d->config->maildirs[i]);
    sg_maildir_source_set_extract_content (src, d->config->extract_content);
    sg_maildir_source_start (src);
    g_ptr_array_add (d->sources, src);
  }
  /* One source per IMAP account; one that fails does not stop the others. */
  for (guint i = 0; i < d->config->imap->len; i++) {
    const SgConfigImap *conf = d->config->imap->pdata[i];
    g_autoptr (GError) error = NULL;
    SgPolled *src = sg_imap_source_new (conf, d->store_path, d->config->identity, d->once, &error);

    if (src == NULL) {
      g_warning ("IMAP account %s: %s", conf->name, error->message);
      continue;
    }
    g_message ("polling IMAP account %s (%s) every %u s", conf->name, conf->url, conf->poll_interval);
    sg_polled_run_now (src);
    g_ptr_array_add (d->imap, src);
  }
  if (d->sources->len == 0 && d->imap->len == 0)
    g_message ("no Maildir to watch and no IMAP account: add [maildir] paths or [imap NAME] to %s",
               d->config->path ? d->config->path : "the config");
  /* meetings branch: folders of .ics files. */
  for (guint i = 0; d->config->calendars[i]; i++) {
    g_autoptr (GError) error = NULL;
    SgIcsSource *src = sg_ics_source_new (d->config->calendars[i], d->store_path, d->config->identity,
                                          d->config->rules_path, &error);

    if (src == NULL) {
      g_warning ("%s", error->message);
      continue;
    }
    g_message ("watching calendar folder %s", d->config->calendars[i]);
    sg_ics_source_start (src);
    g_ptr_array_add (d->ics_sources, src);
  }
  /* caldav branch: one source per CalDAV account. */
  for (guint i = 0; i < d->config->caldav->len; i++) {
    const SgConfigCaldav *conf = d->config->caldav->pdata[i];
    g_autoptr (GError) error = NULL;
    SgPolled *src = sg_caldav_source_new (conf, d->store_path, d->config->identity, d->config->rules_path,
                                          d->once, &error);

    if (src == NULL) {
      g_warning ("CalDAV account %s: %s", conf->name, error->message);
      continue;
    }
    g_message ("polling CalDAV account %s (%s) every %u s", conf->name, conf->url, conf->poll_interval);
    sg_polled_run_now (src);
    g_ptr_array_add (d->caldav, src);
  }
  /* syncclient branch: the team sync; with --once it runs after the capture (check_done). */
  d->sync = sg_sync_source_new (d->config, d->store_path);
  if (d->sync != NULL && !d->once)
    sg_sync_source_start (d->sync);
}

static gboolean
on_hup (gpointer data)
{
  Daemon *d = data;
  g_autoptr (GError) error = NULL;

  if (d->stopping)
    return G_SOURCE_CONTINUE;
  g_message ("SIGHUP: reloading the config");
  if (!load_config (d, &error)) {
    g_warning ("%s; keeping the previous config", error->message);
    return G_SOURCE_CONTINUE;
  }
  stop_sources (d);
  start_sources (d);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_term (gpointer data)
{
  Daemon *d = data;

  if (d->stopping)
    return G_SOURCE_CONTINUE;
  g_message ("stopping");
  for (guint i = 0; i < d->sources->len; i++)
    sg_maildir_source_cancel (d->sources->pdata[i]);
  for (guint i = 0; i < d->imap->len; i++)
    sg_polled_cancel (d->imap->pdata[i]);
  for (guint i = 0; i < d->ics_sources->len; i++)
    sg_ics_source_cancel (d->ics_sources->pdata[i]);
  for (guint i = 0; i < d->caldav->len; i++)
    sg_polled_cancel (d->caldav->pdata[i]);
  if (d->sync != NULL)
    sg_sync_source_cancel (d->sync);
  g_main_loop_quit (d->loop);
  return G_SOURCE_CONTINUE;
}

/* --once: quit when every start-up rescan has finished. */
static gboolean
check_done (gpointer data)
{
  Daemon *d = data;

  if (d->stopping)
    return G_SOURCE_CONTINUE;
  for (guint i = 0; i < d->sources->len; i++)
    if (sg_maildir_source_is_scanning (d->sources->pdata[i]))
      return G_SOURCE_CONTINUE;
  for (guint i = 0; i < d->imap->len; i++)
    if (!sg_polled_is_done (d->imap->pdata[i]))
      return G_SOURCE_CONTINUE;
  for (guint i = 0; i < d->ics_sources->len; i++)
    if (sg_ics_source_is_scanning (d->ics_sources->pdata[i]))
      return G_SOURCE_CONTINUE;
  for (guint i = 0; i < d->caldav->len; i++)
    if (!sg_polled_is_done (d->caldav->pdata[i]))
      return G_SOURCE_CONTINUE;
  d->once_id = 0;
  housekeeping (d);
  if (d->sync != NULL) {
    g_autoptr (GError) error = NULL;

    if (!sg_sync_source_run_once (d->sync, &error))
      g_warning ("team sync failed: %s", error->message);
  }
  g_main_loop_quit (d->loop);
  return G_SOURCE_REMOVE;
}

/* What main() holds, freed on every way out. */
static void
daemon_clear (Daemon *d)
{
  /* No handler may act on a daemon being torn down (freeing sources runs the loop). The
   * signal handlers stay installed, as no-ops: removed, a late SIGTERM would kill the
   * process with the default action instead of letting it finish its clean exit. */
  d->stopping = TRUE;
  g_clear_handle_id (&d->once_id, g_source_remove);
  g_clear_handle_id (&d->housekeeping_id, g_source_remove);
  if (d->sources != NULL)
    stop_sources (d);
  g_clear_pointer (&d->sources, g_ptr_array_unref);
  g_clear_pointer (&d->imap, g_ptr_array_unref);
  g_clear_pointer (&d->ics_sources, g_ptr_array_unref);
  g_clear_pointer (&d->caldav, g_ptr_array_unref);
  g_clear_pointer (&d->loop, g_main_loop_unref);
  g_clear_pointer (&d->config, sg_config_free);
  g_clear_pointer (&d->store_path, g_free);
  g_clear_pointer (&d->store_override, g_free);
  g_clear_pointer (&d->config_path, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Daemon, daemon_clear)

int
main (int argc, char **argv)
{
  g_auto (Daemon) d = { 0 };
  gboolean check_config = FALSE, version = FALSE;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &d.config_path, "The config file", "FILE" },
    { "store", 0, 0, G_OPTION_ARG_FILENAME, &d.store_override, "The store to use", "FILE" },
    { "check-config", 0, 0, G_OPTION_ARG_NONE, &check_config, "Check the config, print OK and exit", NULL },
    { "once", 0, 0, G_OPTION_ARG_NONE, &d.once, "Scan every source once and exit", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SgStore) store = NULL;

  setlocale (LC_ALL, "");

  /* 1. Arguments. */
  g_option_context_set_summary (ctx,
      "Captures mail into the SalesGetter store: watches the Maildirs in the config\n"
      "([maildir] paths), stores each new message as it lands, rescans at start-up;\n"
      "polls the IMAP accounts ([imap NAME]) every poll-interval seconds; imports\n"
      "meetings from the folders of .ics files in [calendar] paths; polls the CalDAV\n"
      "accounts ([caldav NAME]) every poll-interval seconds; syncs with the\n"
      "team server of [sync] after local changes and every [sync] interval seconds.\n"
      "SIGHUP reloads the config; SIGTERM stops cleanly.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc > 1) {
    fprintf (stderr, "salesgetter-syncd: %s (see --help)\n", error ? error->message : "takes no arguments");
    return 2;
  }
  if (version) {
    printf ("salesgetter-syncd %s (%s)\n", PACKAGE_VERSION, sg_alloc_describe ());
    return 0;
  }

  /* 2. Config. */
  if (!load_config (&d, &error)) {
    fprintf (stderr, "salesgetter-syncd: %s\n", error->message);
    return 1;
  }
  for (guint i = 0; d.config->warnings[i]; i++)
    fprintf (stderr, "salesgetter-syncd: warning: %s\n", d.config->warnings[i]);
  for (guint i = 0; d.config->maildirs[i]; i++) {
    if (!g_file_test (d.config->maildirs[i], G_FILE_TEST_IS_DIR)) {
      fprintf (stderr, "salesgetter-syncd: %s: [maildir] paths: %s is not a folder\n",
               d.config->path ? d.config->path : "config", d.config->maildirs[i]);
      if (check_config)
        return 1;
    }
  }

  /* 3. --check-config prints OK. */
  if (check_config) {
    printf ("OK: %s: %u Maildir(s), %u IMAP account(s), %u CalDAV account(s), %u own address(es), store %s\n",
            d.config->path ? d.config->path : "(no config file; defaults)",
            g_strv_length (d.config->maildirs), d.config->imap->len, d.config->caldav->len,
            g_strv_length ((char **) sg_identity_get_addresses (d.config->identity)), d.store_path);
    return 0;
  }

  /* 4. Open (and migrate) the store once up front, so a bad store stops us here. */
  if (sg_config_ensure_store_dir (d.store_path, &error))
    store = sg_store_open (d.store_path, SG_STORE_OPEN_DEFAULT, &error);
  if (store == NULL) {
    fprintf (stderr, "salesgetter-syncd: %s\n", error->message);
    return 1;
  }
  g_clear_pointer (&store, sg_store_close);

  /* 5. Signals through the main loop, before any source runs: a SIGTERM must never meet
   * the default action once work has begun. */
  d.loop = g_main_loop_new (NULL, FALSE);
  d.sources = g_ptr_array_new_with_free_func ((GDestroyNotify) sg_maildir_source_free);
  d.imap = g_ptr_array_new_with_free_func ((GDestroyNotify) sg_polled_free);
  d.ics_sources = g_ptr_array_new_with_free_func ((GDestroyNotify) sg_ics_source_free);
  d.caldav = g_ptr_array_new_with_free_func ((GDestroyNotify) sg_polled_free);
  g_unix_signal_add (SIGHUP, on_hup, &d);
  g_unix_signal_add (SIGTERM, on_term, &d);
  g_unix_signal_add (SIGINT, on_term, &d);

  /* 6. Sources. */
  start_sources (&d);
  if (d.once)
    d.once_id = g_timeout_add (50, check_done, &d);
  else
    d.housekeeping_id = g_timeout_add_seconds (HOUSEKEEPING_INTERVAL_S, on_housekeeping_timer, &d);

  /* 7. Run. */
  g_main_loop_run (d.loop);
  return 0;
}
