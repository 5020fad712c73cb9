/* caldav.c: the CalDAV source of salesgetter-syncd: one per [caldav NAME] account, polling
 * (caldav branch). Each sync runs in a worker thread with a store connection of its own;
 * when meetings changed, the tagging rules are applied. */
#include "config.h"

#include "syncd.h"

#include <string.h>

/* The first retry after a failure, doubled after each further one, up to the poll interval. */
#define RETRY_FIRST_S 15

struct _SgCaldavSource {
  SgConfigCaldav conf;  /* a copy: the daemon's config may be replaced on SIGHUP */
  char *rules_path;     /* nullable: the built-in rules */
  SgIdentity *identity;
  SgStore *store;
  SgImporter *importer;
  GCancellable *cancellable;
  gboolean once;
  gboolean busy;
  gboolean ran;
  guint failures;
  guint timer_id;
};

static void
on_problem (const char *location, const GError *error, gpointer user_data)
{
  g_warning ("skipped %s: %s", location, error->message);
}

static void
on_warning (const char *location, const GError *error, gpointer user_data)
{
  g_message ("%s: %s", location, error->message);
}

static void
sync_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  SgCaldavSource *self = task_data;
  g_autoptr (SgCaldavAccount) account = NULL;
  GError *error = NULL;
  guint meetings_before = sg_importer_get_stats (self->importer)->meetings;

  /* The password is read at every sync: a changed password file is taken up. */
  account = sg_config_caldav_account (&self->conf, &error);
  if (account == NULL) {
    g_autoptr (SgCaldavAccount) bare = sg_caldav_account_new (self->conf.name, self->conf.url, NULL);

    if (bare != NULL) {
      if (self->conf.user)
        sg_caldav_account_set_user (bare, self->conf.user);
      sg_caldav_record_failure (self->store, bare, error, NULL);
    }
    g_task_return_error (task, error);
    return;
  }
  if (!sg_caldav_account_sync (account, self->importer, cancellable, &error)) {
    g_task_return_error (task, error);
    return;
  }
  /* Deletions are not counted as meetings stored; tagging only looks at what exists. */
  if (sg_importer_get_stats (self->importer)->meetings != meetings_before) {
    g_autoptr (SgRules) rules = self->rules_path ? sg_rules_new_from_file (self->rules_path, &error)
                                                 : sg_rules_new_default ();

    if (rules == NULL || !sg_rules_apply (rules, self->store, self->identity, NULL, &error)) {
      g_warning ("CalDAV account %s: tagging: %s", self->conf.name, error->message);
      g_clear_error (&error);
    }
  }
  g_task_return_boolean (task, TRUE);
}

static void start_sync (SgCaldavSource *self);

static gboolean
on_timer (gpointer data)
{
  SgCaldavSource *self = data;

  self->timer_id = 0;
  start_sync (self);
  return G_SOURCE_REMOVE;
}

static void
sync_done (GObject *source_object, GAsyncResult *result, gpointer user_data)
{
  SgCaldavSource *self = user_data;
  g_autoptr (GError) error = NULL;
  guint delay = self->conf.poll_interval;

  self->busy = FALSE;
  self->ran = TRUE;
  if (!g_task_propagate_boolean (G_TASK (result), &error)) {
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return;
    self->failures++;
    delay = MIN (delay, (guint) RETRY_FIRST_S << MIN (self->failures - 1, 10u));
    g_warning ("%s; retrying in %u s", error->message, delay);
  } else {
    self->failures = 0;
    g_message ("CalDAV account %s: synced; %u meetings stored or changed so far", self->conf.name,
               sg_importer_get_stats (self->importer)->meetings);
  }
  if (self->once)
    return;
  self->timer_id = g_timeout_add ((guint) (delay * 1000 + g_random_int_range (0, (gint32) delay * 100 + 1)),
                                  on_timer, self);
}

static void
start_sync (SgCaldavSource *self)
{
  g_autoptr (GTask) task = NULL;

  if (self->busy)
    return;
  self->busy = TRUE;
  task = g_task_new (NULL, self->cancellable, sync_done, self);
  g_task_set_task_data (task, self, NULL);
  g_task_run_in_thread (task, sync_thread);
}

SgCaldavSource *
sg_caldav_source_new (const SgConfigCaldav *conf, const char *store_path, SgIdentity *identity,
                      const char *rules_path, gboolean once, GError **error)
{
  SgCaldavSource *self;
  SgStore *store = sg_store_open (store_path, SG_STORE_OPEN_DEFAULT, error);

  if (store == NULL)
    return NULL;
  self = g_new0 (SgCaldavSource, 1);
  self->conf.name = g_strdup (conf->name);
  self->conf.url = g_strdup (conf->url);
  self->conf.user = g_strdup (conf->user);
  self->conf.password_file = g_strdup (conf->password_file);
  self->conf.password_command = g_strdup (conf->password_command);
  self->conf.ca_file = g_strdup (conf->ca_file);
  self->conf.poll_interval = conf->poll_interval;
  self->conf.timeout = conf->timeout;
  self->rules_path = g_strdup (rules_path);
  self->identity = sg_identity_ref (identity);
  self->store = store;
  self->importer = sg_importer_new (store, identity);
  self->cancellable = g_cancellable_new ();
  self->once = once;
  sg_importer_set_problem_func (self->importer, on_problem, self);
  sg_importer_set_warning_func (self->importer, on_warning, self);
  return self;
}

void
sg_caldav_source_start (SgCaldavSource *self)
{
  start_sync (self);
}

void
sg_caldav_source_cancel (SgCaldavSource *self)
{
  g_cancellable_cancel (self->cancellable);
}

gboolean
sg_caldav_source_is_done (SgCaldavSource *self)
{
  return self->ran && !self->busy;
}

void
sg_caldav_source_free (SgCaldavSource *self)
{
  if (self == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  while (self->busy)
    g_main_context_iteration (NULL, TRUE);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  sg_importer_flush (self->importer, NULL);
  sg_importer_free (self->importer);
  sg_store_close (self->store);
  sg_identity_unref (self->identity);
  g_object_unref (self->cancellable);
  g_free (self->conf.name);
  g_free (self->conf.url);
  g_free (self->conf.user);
  g_free (self->conf.password_file);
  g_free (self->conf.password_command);
  g_free (self->conf.ca_file);
  g_free (self->rules_path);
  g_free (self);
}
