/* imap.c: the IMAP source of salesgetter-syncd: one per [imap NAME] account, polling. */
#include "config.h"

#include "syncd.h"
#include "polled.h"

#include <string.h>

/* The first retry after a failure, doubled after each further one, up to the poll interval. */
#define RETRY_FIRST_S 15
#define RETRY_DOUBLINGS 10

/* An account's state: the data of its polled source. */
typedef struct _SgImapSource SgImapSource;

struct _SgImapSource {
  char *name;
  SgConfigImap *conf;   /* a copy: the daemon's config may be replaced on SIGHUP */
  SgStore *store;       /* a connection of its own: the sync runs in a worker thread */
  SgImporter *importer;
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

static gboolean
sync_run (gpointer data, GCancellable *cancellable, GError **error)
{
  SgImapSource *self = data;
  g_autoptr (SgImapAccount) account = NULL;

  /* The secret is asked for at every sync: a token command gives a fresh token. */
  account = sg_config_imap_account (self->conf, error);
  if (account == NULL) {
    g_autoptr (SgImapAccount) bare = sg_imap_account_new (self->conf->name, self->conf->url, NULL);

    if (bare != NULL) {
      if (self->conf->user)
        sg_imap_account_set_user (bare, self->conf->user);
      sg_imap_record_failure (self->store, bare, *error, NULL);
    }
    return FALSE;
  }
  return sg_imap_account_sync (account, self->importer, cancellable, error);
}

static void
sync_succeeded (gpointer data)
{
  SgImapSource *self = data;
  const SgImportStats *stats = sg_importer_get_stats (self->importer);

  g_message ("IMAP account %s: synced; %u interactions stored so far, %u skipped", self->name, stats->imported,
             stats->skipped);
}

/* Retried soon after a first failure (a dropped connection), less and less often after
 * more (a wrong password), never less often than the poll interval. */
static void
sync_failed (gpointer data, const GError *error, guint failures, guint delay_s)
{
  g_warning ("%s; retrying in %u s", error->message, delay_s);
}

static void
source_free (gpointer data)
{
  SgImapSource *self = data;

  sg_importer_flush (self->importer, NULL);
  sg_importer_free (self->importer);
  sg_store_close (self->store);
  conf_free (self->conf);
  g_free (self->name);
  g_free (self);
}

static const SgPolledFuncs sync_funcs = { sync_run, sync_succeeded, sync_failed, source_free };

SgPolled *
sg_imap_source_new (const SgConfigImap *conf, const char *store_path, SgIdentity *identity, gboolean once,
                    GError **error)
{
  SgImapSource *self;
  SgPolledSchedule schedule = { conf->poll_interval, RETRY_FIRST_S, 0, RETRY_DOUBLINGS,
                                SG_POLLED_JITTER_SPREAD, once };
  SgStore *store = sg_store_open (store_path, SG_STORE_OPEN_DEFAULT, error);

  if (store == NULL)
    return NULL;
  self = g_new0 (SgImapSource, 1);
  self->name = g_strdup (conf->name);
  self->conf = conf_copy (conf);
  self->store = store;
  self->importer = sg_importer_new (store, identity);
  sg_importer_set_problem_func (self->importer, on_problem, self);
  return sg_polled_new (&sync_funcs, &schedule, NULL, self);
}
