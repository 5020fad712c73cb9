/* maildir.c: the Maildir source of salesgetter-syncd (inotify + rescan). */
#include "config.h"

#include "syncd.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define FILE_EVENTS (IN_MOVED_TO | IN_CLOSE_WRITE)
#define DIR_EVENTS (IN_CREATE | IN_MOVED_TO | IN_ONLYDIR | IN_DELETE_SELF | IN_MOVE_SELF)
/* Folder depth followed under the root, as the importer does. */
#define MAX_DEPTH 16

struct _SgMaildirSource {
  char *root;
  SgStore *store;       /* a connection of its own: the rescan runs in a worker thread */
  SgImporter *importer;
  int fd;
  guint fd_watch;
  GHashTable *wd_paths; /* wd -> path of the watched folder */
  GHashTable *wd_files; /* wd -> TRUE for new/ and cur/ (file events), absent for folders */
  GCancellable *cancellable;
  gboolean scanning;
  gboolean rescan_needed;
  GPtrArray *queued;    /* file paths that arrived during a scan */
  guint retry_id;       /* a failed rescan's retry */
  gint64 link_mark;     /* interactions up to this row id were offered to sales processes */
};

static void watch_tree (SgMaildirSource *self, const char *dir, int depth);

static void
add_watch (SgMaildirSource *self, const char *path, gboolean files)
{
  int wd = inotify_add_watch (self->fd, path, files ? FILE_EVENTS | IN_ONLYDIR : DIR_EVENTS);

  if (wd < 0) {
    g_warning ("cannot watch %s: %s", path, g_strerror (errno));
    return;
  }
  g_hash_table_replace (self->wd_paths, GINT_TO_POINTER (wd), g_strdup (path));
  if (files)
    g_hash_table_replace (self->wd_files, GINT_TO_POINTER (wd), GINT_TO_POINTER (TRUE));
}

/* Watches @dir for new subfolders, and its new/ and cur/ for messages; then its children. */
static void
watch_tree (SgMaildirSource *self, const char *dir, int depth)
{
  g_autoptr (GDir) d = NULL;
  const char *name;

  if (depth > MAX_DEPTH)
    return;
  add_watch (self, dir, FALSE);
  d = g_dir_open (dir, 0, NULL);
  while (d && (name = g_dir_read_name (d)) != NULL) {
    g_autofree char *child = g_build_filename (dir, name, NULL);

    if (!g_file_test (child, G_FILE_TEST_IS_DIR) || g_file_test (child, G_FILE_TEST_IS_SYMLINK))
      continue;
    if (strcmp (name, "new") == 0 || strcmp (name, "cur") == 0)
      add_watch (self, child, TRUE);
    else if (strcmp (name, "tmp") != 0)
      watch_tree (self, child, depth + 1);
  }
}

static void
on_problem (const char *location, const GError *error, gpointer user_data)
{
  g_warning ("skipped %s: %s", location, error->message);
}

static void
import_file (SgMaildirSource *self, const char *path)
{
  g_autoptr (GError) error = NULL;

  if (!sg_importer_add_maildir_file (self->importer, self->root, path, &error))
    g_warning ("%s: %s", path, error->message);
}

/* Sales processes: what was stored since the last call goes to its organisation's open
 * process (with stage suggestions). Main thread only, never during a scan. */
static void
link_new (SgMaildirSource *self)
{
  g_autoptr (GError) error = NULL;
  gint64 mark = sg_process_link_watermark (self->store);
  guint linked = 0;

  if (mark <= self->link_mark)
    return;
  if (!sg_process_link_auto (self->store, self->link_mark, &linked, NULL, &error)) {
    g_warning ("%s: linking to sales processes failed: %s", self->root, error->message);
    return;
  }
  self->link_mark = mark;
  if (linked > 0)
    g_debug ("%s: %u interactions linked to sales processes", self->root, linked);
}

static void
flush (SgMaildirSource *self)
{
  g_autoptr (GError) error = NULL;

  if (!sg_importer_flush (self->importer, &error))
    g_warning ("cannot commit to the store: %s", error->message);
  else
    link_new (self);
}

static void start_scan (SgMaildirSource *self);

/* Seconds before a failed rescan is tried again. */
#define RESCAN_RETRY_S 5

static gboolean
retry_scan (gpointer data)
{
  SgMaildirSource *self = data;

  self->retry_id = 0;
  if (self->scanning)
    self->rescan_needed = TRUE;
  else
    start_scan (self);
  return G_SOURCE_REMOVE;
}

static gboolean
on_inotify (int fd, GIOCondition condition, gpointer user_data)
{
  SgMaildirSource *self = user_data;
  char buf[64 * 1024] __attribute__ ((aligned (__alignof__ (struct inotify_event))));
  gboolean imported = FALSE;
  ssize_t len;

  while ((len = read (fd, buf, sizeof buf)) > 0) {
    for (char *p = buf; p < buf + len;) {
      const struct inotify_event *ev = (const struct inotify_event *) p;
      const char *dir = g_hash_table_lookup (self->wd_paths, GINT_TO_POINTER (ev->wd));

      p += sizeof (struct inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        g_message ("%s: inotify queue overflowed; rescanning", self->root);
        self->rescan_needed = TRUE;
        continue;
      }
      if (ev->mask & IN_IGNORED) {
        g_hash_table_remove (self->wd_paths, GINT_TO_POINTER (ev->wd));
        g_hash_table_remove (self->wd_files, GINT_TO_POINTER (ev->wd));
        continue;
      }
      /* Hidden files in new/ and cur/ are not messages; but Maildir++ folders are
       * dot-directories (.Sent) and must be watched. */
      if (dir == NULL || ev->len == 0 ||
          (ev->name[0] == '.' && !(ev->mask & IN_ISDIR)) || strcmp (ev->name, ".") == 0 ||
          strcmp (ev->name, "..") == 0)
        continue;
      {
        g_autofree char *path = g_build_filename (dir, ev->name, NULL);

        if (g_hash_table_contains (self->wd_files, GINT_TO_POINTER (ev->wd))) {
          if (ev->mask & IN_ISDIR)
            continue;
          if (self->scanning) {
            g_ptr_array_add (self->queued, g_steal_pointer (&path));
          } else {
            import_file (self, path);
            imported = TRUE;
          }
        } else if (ev->mask & IN_ISDIR) {
          /* A new folder (or new/ cur/ of one being made): watch it and pick up what is
           * already in it. */
          if (strcmp (ev->name, "new") == 0 || strcmp (ev->name, "cur") == 0)
            add_watch (self, path, TRUE);
          else if (strcmp (ev->name, "tmp") != 0)
            watch_tree (self, path, 1);
          self->rescan_needed = TRUE;
        }
      }
    }
  }
  if (imported)
    flush (self);
  if (self->rescan_needed && !self->scanning)
    start_scan (self);
  return G_SOURCE_CONTINUE;
}

static void
scan_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  SgMaildirSource *self = task_data;
  GError *error = NULL;

  if (!sg_importer_scan_maildir (self->importer, self->root, cancellable, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
scan_done (GObject *source_object, GAsyncResult *result, gpointer user_data)
{
  SgMaildirSource *self = user_data;
  g_autoptr (GError) error = NULL;
  const SgImportStats *stats = sg_importer_get_stats (self->importer);

  self->scanning = FALSE;
  if (!g_task_propagate_boolean (G_TASK (result), &error)) {
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return;
    /* A store that stayed locked, say: what the rescan did not store is read by the next
     * one, which is tried again shortly; mail that arrived meanwhile is stored now. */
    g_warning ("%s: rescan failed, retrying in %u s: %s", self->root, RESCAN_RETRY_S, error->message);
    if (self->retry_id == 0)
      self->retry_id = g_timeout_add_seconds (RESCAN_RETRY_S, retry_scan, self);
  } else {
    g_message ("%s: scanned; %u interactions stored so far, %u skipped", self->root, stats->imported,
               stats->skipped);
    link_new (self);
  }
  for (guint i = 0; i < self->queued->len; i++)
    import_file (self, self->queued->pdata[i]);
  if (self->queued->len > 0)
    flush (self);
  g_ptr_array_set_size (self->queued, 0);
  if (self->rescan_needed)
    start_scan (self);
}

static void
start_scan (SgMaildirSource *self)
{
  g_autoptr (GTask) task = NULL;

  self->rescan_needed = FALSE;
  self->scanning = TRUE;
  task = g_task_new (NULL, self->cancellable, scan_done, self);
  g_task_set_task_data (task, self, NULL);
  g_task_run_in_thread (task, scan_thread);
}

SgMaildirSource *
sg_maildir_source_new (const char *root, const char *store_path, SgIdentity *identity, GError **error)
{
  SgMaildirSource *self;
  SgStore *store;
  int fd;

  if (!g_file_test (root, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "Maildir %s: no such folder", root);
    return NULL;
  }
  store = sg_store_open (store_path, SG_STORE_OPEN_DEFAULT, error);
  if (store == NULL)
    return NULL;
  fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    int saved = errno;

    sg_store_close (store);
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "Maildir %s: inotify: %s", root,
                 g_strerror (saved));
    return NULL;
  }
  self = g_new0 (SgMaildirSource, 1);
  self->root = g_canonicalize_filename (root, NULL);
  self->store = store;
  self->importer = sg_importer_new (store, identity);
  self->link_mark = sg_process_link_watermark (store);
  self->fd = fd;
  self->wd_paths = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  self->wd_files = g_hash_table_new (g_direct_hash, g_direct_equal);
  self->cancellable = g_cancellable_new ();
  self->queued = g_ptr_array_new_with_free_func (g_free);
  sg_importer_set_problem_func (self->importer, on_problem, self);
  return self;
}

void
sg_maildir_source_set_extract_content (SgMaildirSource *self, gboolean extract)
{
  sg_importer_set_extract_content (self->importer, extract);
}

void
sg_maildir_source_start (SgMaildirSource *self)
{
  /* Watches first, then the rescan: a message landing in between is seen by both, and the
   * store keeps it once. */
  watch_tree (self, self->root, 0);
  self->fd_watch = g_unix_fd_add (self->fd, G_IO_IN, on_inotify, self);
  start_scan (self);
}

void
sg_maildir_source_cancel (SgMaildirSource *self)
{
  g_cancellable_cancel (self->cancellable);
}

gboolean
sg_maildir_source_is_scanning (SgMaildirSource *self)
{
  return self->scanning;
}

void
sg_maildir_source_free (SgMaildirSource *self)
{
  if (self == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  /* A scan still running holds self: wait for it to return. */
  while (self->scanning)
    g_main_context_iteration (NULL, TRUE);
  if (self->fd_watch)
    g_source_remove (self->fd_watch);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  close (self->fd);
  flush (self);
  sg_importer_free (self->importer);
  sg_store_close (self->store);
  g_hash_table_unref (self->wd_paths);
  g_hash_table_unref (self->wd_files);
  g_object_unref (self->cancellable);
  g_ptr_array_unref (self->queued);
  g_free (self->root);
  g_free (self);
}
