/* caldav.c: the CalDAV source of salesgetter-syncd: one per [caldav NAME] account, polling
 * (caldav branch). Each sync runs in a worker thread with a store connection of its own;
 * when meetings changed, the tagging rules are applied. */
#include "config.h"

#include "syncd.h"
#include "polled.h"

#include <string.h>

/* The first retry after a failure, doubled after each further one, up to the poll interval. */
#define RETRY_FIRST_S 15
#define RETRY_DOUBLINGS 10

/* An account's state: the data of its polled source. */
typedef struct _SgCaldavSource SgCaldavSource;

struct _SgCaldavSource {
  SgConfigCaldav conf;  /* a copy: the daemon's config may be replaced on SIGHUP */
  char *rules_path;     /* nullable: the built-in rules */
  SgIdentity *identity;
  SgStore *store;
  SgImporter *importer;
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

static gboolean
sync_run (gpointer data, GCancellable *cancellable, GError **error)
{
  SgCaldavSource *self = data;
  g_autoptr (SgCaldavAccount) account = NULL;
  g_autoptr (GError) tagging = NULL;
  guint meetings_before = sg_importer_get_stats (self->importer)->meetings;

  /* The password is read at every sync: a changed password file is taken up. */
  account = sg_config_caldav_account (&self->conf, error);
  if (account == NULL) {
    g_autoptr (SgCaldavAccount) bare = sg_caldav_account_new (self->conf.name, self->conf.url, NULL);

    if (bare != NULL) {
      if (self->conf.user)
        sg_caldav_account_set_user (bare, self->conf.user);
      sg_caldav_record_failure (self->store, bare, *error, NULL);
    }
    return FALSE;
  }
  if (!sg_caldav_account_sync (account, self->importer, cancellable, error))
    return FALSE;
  /* Deletions are not counted as meetings stored; tagging only looks at what exists. */
  if (sg_importer_get_stats (self->importer)->meetings != meetings_before) {
    g_autoptr (SgRules) rules = self->rules_path ? sg_rules_new_from_file (self->rules_path, &tagging)
                                                 : sg_rules_new_default ();

    if (rules == NULL || !sg_rules_apply (rules, self->store, self->identity, NULL, &tagging))
      g_warning ("CalDAV account %s: tagging: %s", self->conf.name, tagging->message);
  }
  return TRUE;
}

static void
sync_succeeded (gpointer data)
{
  SgCaldavSource *self = data;

  g_message ("CalDAV account %s: synced; %u meetings stored or changed so far", self->conf.name,
             sg_importer_get_stats (self->importer)->meetings);
}

static void
sync_failed (gpointer data, const GError *error, guint failures, guint delay_s)
{
  g_warning ("%s; retrying in %u s", error->message, delay_s);
}

static void
source_free (gpointer data)
{
  SgCaldavSource *self = data;

  sg_importer_flush (self->importer, NULL);
  sg_importer_free (self->importer);
  sg_store_close (self->store);
  sg_identity_unref (self->identity);
  g_free (self->conf.name);
  g_free (self->conf.url);
  g_free (self->conf.user);
  g_free (self->conf.password_file);
  g_free (self->conf.password_command);
  g_free (self->conf.ca_file);
  g_free (self->rules_path);
  g_free (self);
}

static const SgPolledFuncs sync_funcs = { sync_run, sync_succeeded, sync_failed, source_free };

SgPolled *
sg_caldav_source_new (const SgConfigCaldav *conf, const char *store_path, SgIdentity *identity,
                      const char *rules_path, gboolean once, GError **error)
{
  SgCaldavSource *self;
  SgPolledSchedule schedule = { conf->poll_interval, RETRY_FIRST_S, 0, RETRY_DOUBLINGS,
                                SG_POLLED_JITTER_SPREAD, once };
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
  sg_importer_set_problem_func (self->importer, on_problem, self);
  sg_importer_set_warning_func (self->importer, on_warning, self);
  return sg_polled_new (&sync_funcs, &schedule, NULL, self);
}
