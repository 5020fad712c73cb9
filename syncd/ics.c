/* ics.c: the .ics folder source of salesgetter-syncd (meetings branch).
 *
 * A folder of iCalendar files ([calendar] paths) is imported at start, again shortly after
 * anything in it changes (a GFileMonitor on the folder, debounced), and every few minutes
 * (which also catches subfolders, which are not monitored). An import of the folder is
 * idempotent: an unchanged meeting is not written again, an older iTIP version is not
 * applied; so a rescan costs a parse of the files and no writes. Imports run in a worker
 * thread with the source's own store connection, then the tagging rules are applied. */
#include "config.h"

#include "syncd.h"

#include <gio/gio.h>

#define DEBOUNCE_MS 500
#define RESCAN_S 300

struct _SgIcsSource {
  char *root;
  char *rules_path;     /* nullable: the built-in rules */
  SgStore *store;
  SgIdentity *identity;
  SgImporter *importer;
  GFileMonitor *monitor;
  GCancellable *cancellable;
  gboolean scanning;
  gboolean rescan_needed;
  guint debounce_id;
  guint interval_id;
};

static void start_scan (SgIcsSource *self);

static void
on_problem (const char *location, const GError *error, gpointer user_data)
{
  if (g_error_matches (error, SG_ICAL_ERROR, SG_ICAL_ERROR_FLAWED))
    g_message ("%s: %s", location, error->message);
  else
    g_warning ("skipped %s: %s", location, error->message);
}

static void
scan_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  SgIcsSource *self = task_data;
  GError *error = NULL;
  guint before = sg_importer_get_stats (self->importer)->meetings;

  if (!sg_importer_import_path (self->importer, self->root, cancellable, &error) &&
      !g_error_matches (error, SG_IMPORT_ERROR, SG_IMPORT_ERROR_UNSUPPORTED)) {
    g_task_return_error (task, error);
    return;
  }
  g_clear_error (&error); /* UNSUPPORTED: no .ics file yet */
  if (sg_importer_get_stats (self->importer)->meetings > before) {
    g_autoptr (SgRules) rules = self->rules_path ? sg_rules_new_from_file (self->rules_path, &error)
                                                 : sg_rules_new_default ();

    if (rules == NULL || !sg_rules_apply (rules, self->store, self->identity, NULL, &error)) {
      g_task_return_error (task, error);
      return;
    }
  }
  g_task_return_boolean (task, TRUE);
}

static void
scan_done (GObject *source_object, GAsyncResult *result, gpointer user_data)
{
  SgIcsSource *self = user_data;
  g_autoptr (GError) error = NULL;
  const SgImportStats *stats = sg_importer_get_stats (self->importer);

  self->scanning = FALSE;
  if (!g_task_propagate_boolean (G_TASK (result), &error)) {
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return;
    g_warning ("%s: %s", self->root, error->message);
  } else {
    g_message ("%s: scanned; %u meetings stored or changed so far", self->root, stats->meetings);
  }
  if (self->rescan_needed)
    start_scan (self);
}

static void
start_scan (SgIcsSource *self)
{
  g_autoptr (GTask) task = NULL;

  if (self->scanning) {
    self->rescan_needed = TRUE;
    return;
  }
  self->rescan_needed = FALSE;
  self->scanning = TRUE;
  task = g_task_new (NULL, self->cancellable, scan_done, self);
  g_task_set_task_data (task, self, NULL);
  g_task_run_in_thread (task, scan_thread);
}

static gboolean
on_debounced (gpointer data)
{
  SgIcsSource *self = data;

  self->debounce_id = 0;
  start_scan (self);
  return G_SOURCE_REMOVE;
}

static gboolean
on_interval (gpointer data)
{
  start_scan (data);
  return G_SOURCE_CONTINUE;
}

static void
on_changed (GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event, gpointer data)
{
  SgIcsSource *self = data;

  if (event != G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT && event != G_FILE_MONITOR_EVENT_MOVED_IN &&
      event != G_FILE_MONITOR_EVENT_RENAMED && event != G_FILE_MONITOR_EVENT_CREATED)
    return;
  /* A burst of writes (a calendar client saving many files) is one rescan. */
  if (self->debounce_id == 0)
    self->debounce_id = g_timeout_add (DEBOUNCE_MS, on_debounced, self);
}

SgIcsSource *
sg_ics_source_new (const char *root, const char *store_path, SgIdentity *identity, const char *rules_path,
                   GError **error)
{
  g_autoptr (GFile) dir = NULL;
  g_autoptr (GTimeZone) local = g_time_zone_new_local ();
  g_autofree char *olson = sg_ical_resolve_tzid (g_time_zone_get_identifier (local));
  SgIcsSource *self;
  SgStore *store;

  if (!g_file_test (root, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "calendar folder %s: no such folder", root);
    return NULL;
  }
  store = sg_store_open (store_path, SG_STORE_OPEN_DEFAULT, error);
  if (store == NULL)
    return NULL;
  self = g_new0 (SgIcsSource, 1);
  self->root = g_canonicalize_filename (root, NULL);
  self->rules_path = g_strdup (rules_path);
  self->store = store;
  self->identity = sg_identity_ref (identity);
  self->importer = sg_importer_new (store, identity);
  self->cancellable = g_cancellable_new ();
  sg_importer_set_problem_func (self->importer, on_problem, self);
  sg_importer_set_floating_timezone (self->importer, olson);
  dir = g_file_new_for_path (self->root);
  self->monitor = g_file_monitor_directory (dir, G_FILE_MONITOR_WATCH_MOVES, NULL, NULL);
  if (self->monitor != NULL)
    g_signal_connect (self->monitor, "changed", G_CALLBACK (on_changed), self);
  return self;
}

void
sg_ics_source_start (SgIcsSource *self)
{
  self->interval_id = g_timeout_add_seconds (RESCAN_S, on_interval, self);
  start_scan (self);
}

void
sg_ics_source_cancel (SgIcsSource *self)
{
  g_cancellable_cancel (self->cancellable);
}

gboolean
sg_ics_source_is_scanning (SgIcsSource *self)
{
  return self->scanning || self->debounce_id != 0;
}

void
sg_ics_source_free (SgIcsSource *self)
{
  if (self == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  /* A scan still running holds self: wait for it to return. */
  while (self->scanning)
    g_main_context_iteration (NULL, TRUE);
  if (self->monitor != NULL) {
    g_signal_handlers_disconnect_by_data (self->monitor, self);
    g_object_unref (self->monitor);
  }
  g_clear_handle_id (&self->debounce_id, g_source_remove);
  g_clear_handle_id (&self->interval_id, g_source_remove);
  sg_importer_free (self->importer);
  sg_store_close (self->store);
  sg_identity_unref (self->identity);
  g_object_unref (self->cancellable);
  g_free (self->rules_path);
  g_free (self->root);
  g_free (self);
}
