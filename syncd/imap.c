/* imap.c: the IMAP source of salesgetter-syncd: one per [imap NAME] account, polling. */
#include "config.h"

#include "syncd.h"

#include <string.h>

/* The first retry after a failure, doubled after each further one, up to the poll interval. */
#define RETRY_FIRST_S 15

struct _SgImapSource {
  char *name;
  SgConfigImap *conf;   /* a copy: the daemon's config may be replaced on SIGHUP */
  SgStore *store;       /* a connection of its own: the sync runs in a worker thread */
  SgImporter *importer;
  GCancellable *cancellable;
  gboolean once;
  gboolean busy;
  gboolean ran;         /* at least one sync has ended */
  guint failures;
  guint timer_id;
};

static char **
copy_strv (char **v)
{
  return g_strdupv (v ? v : (char *[]) { NULL });
}

static SgConfigImap *
conf_copy (const SgConfigImap *c)
{
  SgConfigImap *n = g_new0 (SgConfigImap, 1);

  n->name = g_strdup (c->name);
  n->url = g_strdup (c->url);
  n->user = g_strdup (c->user);
  n->password = g_strdup (c->password);
  n->password_command = g_strdup (c->password_command);
  n->token_command = g_strdup (c->token_command);
  n->ca_file = g_strdup (c->ca_file);
  n->include = copy_strv (c->include);
  n->exclude = copy_strv (c->exclude);
  n->sent = copy_strv (c->sent);
  n->poll_interval = c->poll_interval;
  return n;
}

static void
conf_free (SgConfigImap *c)
{
  if (c == NULL)
    return;
  g_free (c->name);
  g_free (c->url);
  g_free (c->user);
  if (c->password)
    memset (c->password, 0, strlen (c->password));
  g_free (c->password);
  g_free (c->password_command);
  g_free (c->token_command);
  g_free (c->ca_file);
  g_strfreev (c->include);
  g_strfreev (c->exclude);
  g_strfreev (c->sent);
  g_free (c);
}

static void
on_problem (const char *location, const GError *error, gpointer user_data)
{
  g_warning ("skipped %s: %s", location, error->message);
}

static void
sync_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  SgImapSource *self = task_data;
  g_autoptr (SgImapAccount) account = NULL;
  GError *error = NULL;

  /* The secret is asked for at every sync: a token command gives a fresh token. */
  account = sg_config_imap_account (self->conf, &error);
  if (account == NULL) {
    g_autoptr (SgImapAccount) bare = sg_imap_account_new (self->conf->name, self->conf->url, NULL);

    if (bare != NULL) {
      if (self->conf->user)
        sg_imap_account_set_user (bare, self->conf->user);
      sg_imap_record_failure (self->store, bare, error, NULL);
    }
    g_task_return_error (task, error);
    return;
  }
  if (!sg_imap_account_sync (account, self->importer, cancellable, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void start_sync (SgImapSource *self);

static gboolean
on_timer (gpointer data)
{
  SgImapSource *self = data;

  self->timer_id = 0;
  start_sync (self);
  return G_SOURCE_REMOVE;
}

static void
sync_done (GObject *source_object, GAsyncResult *result, gpointer user_data)
{
  SgImapSource *self = user_data;
  g_autoptr (GError) error = NULL;
  const SgImportStats *stats = sg_importer_get_stats (self->importer);
  guint delay = self->conf->poll_interval;

  self->busy = FALSE;
  self->ran = TRUE;
  if (!g_task_propagate_boolean (G_TASK (result), &error)) {
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return;
    self->failures++;
    /* Retried soon after a first failure (a dropped connection), less and less often
     * after more (a wrong password), never less often than the poll interval. */
    delay = MIN (delay, (guint) RETRY_FIRST_S << MIN (self->failures - 1, 10u));
    g_warning ("%s; retrying in %u s", error->message, delay);
  } else {
    self->failures = 0;
    g_message ("IMAP account %s: synced; %u interactions stored so far, %u skipped", self->name,
               stats->imported, stats->skipped);
  }
  if (self->once)
    return;
  /* Up to a tenth more, so that accounts polled at the same interval spread out. */
  self->timer_id = g_timeout_add ((guint) (delay * 1000 + g_random_int_range (0, (gint32) delay * 100 + 1)),
                                  on_timer, self);
}

static void
start_sync (SgImapSource *self)
{
  g_autoptr (GTask) task = NULL;

  if (self->busy)
    return;
  self->busy = TRUE;
  task = g_task_new (NULL, self->cancellable, sync_done, self);
  g_task_set_task_data (task, self, NULL);
  g_task_run_in_thread (task, sync_thread);
}

SgImapSource *
sg_imap_source_new (const SgConfigImap *conf, const char *store_path, SgIdentity *identity, gboolean once,
                    GError **error)
{
  SgImapSource *self;
  SgStore *store = sg_store_open (store_path, SG_STORE_OPEN_DEFAULT, error);

  if (store == NULL)
    return NULL;
  self = g_new0 (SgImapSource, 1);
  self->name = g_strdup (conf->name);
  self->conf = conf_copy (conf);
  self->store = store;
  self->importer = sg_importer_new (store, identity);
  self->cancellable = g_cancellable_new ();
  self->once = once;
  sg_importer_set_problem_func (self->importer, on_problem, self);
  return self;
}

void
sg_imap_source_start (SgImapSource *self)
{
  start_sync (self);
}

void
sg_imap_source_cancel (SgImapSource *self)
{
  g_cancellable_cancel (self->cancellable);
}

gboolean
sg_imap_source_is_done (SgImapSource *self)
{
  return self->ran && !self->busy;
}

void
sg_imap_source_free (SgImapSource *self)
{
  if (self == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  /* A sync still running holds self: wait for it to return (it stops at the next read). */
  while (self->busy)
    g_main_context_iteration (NULL, TRUE);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  sg_importer_flush (self->importer, NULL);
  sg_importer_free (self->importer);
  sg_store_close (self->store);
  g_object_unref (self->cancellable);
  conf_free (self->conf);
  g_free (self->name);
  g_free (self);
}
