/* sg-config.c: reading salesgetter.conf. */
#include "config.h"

#include "sg-config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

G_DEFINE_QUARK (sg-config-error-quark, sg_config_error)

/* Every group and key we know, so that a typo is reported instead of silently ignored. */
static const struct {
  const char *group;
  const char *keys[16];
} known[] = {
  { "identity", { "name", "addresses", "internal-domains", "role", NULL } },
  { "store", { "path", NULL } },
  { "maildir", { "paths", NULL } },
  { "process", { "pipelines", NULL } },
  { "team", { "analysts", "managers", NULL } },
  /* [imap NAME]: one group per account. */
  { "imap", { "url", "user", "password", "password-command", "oauth2-token-command", "ca-file",
              "folders-include", "folders-exclude", "sent-folder", "poll-interval", NULL } },
  { "topics", { "taxonomy", "extract", NULL } }, /* issue 9 */
  /* meetings branch: the tagging rules file */
  { "rules", { "path", NULL } },
  { "calendar", { "paths", NULL } },
  /* caldav branch: [caldav NAME], one group per CalDAV account. */
  { "caldav", { "url", "user", "password-file", "password-command", "ca-file", "poll-interval", "timeout",
                NULL } },
  /* syncclient branch: the team server (issue 6) */
  { "sync", { "server", "token-file", "share", "exclude-domains", "exclude-addresses", "private-folders",
              "interval", "ca-file", "timeout", NULL } },
};

char *
sg_config_default_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "salesgetter", "salesgetter.conf", NULL);
}

void
sg_config_free (SgConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->path);
  sg_identity_unref (config->identity);
  g_free (config->store_path);
  g_free (config->pipelines_path);
  g_strfreev (config->team_analysts);
  g_strfreev (config->team_managers);
  g_strfreev (config->maildirs);
  if (config->imap)
    g_ptr_array_unref (config->imap);
  g_strfreev (config->warnings);
  g_free (config->taxonomy_path);
  g_free (config->rules_path);
  g_strfreev (config->calendars);
  if (config->caldav)
    g_ptr_array_unref (config->caldav);
  g_free (config->sync_server);
  g_free (config->sync_token_file);
  g_free (config->sync_ca_file);
  g_strfreev (config->sync_exclude_domains);
  g_strfreev (config->sync_exclude_addresses);
  g_strfreev (config->sync_private_folders);
  g_free (config);
}

static char *expand_path (const char *value, const char *config_path);
static gboolean invalid (GError **error, const char *path, const char *group, const char *key, const GError *why);

static void
imap_free (gpointer p)
{
  SgConfigImap *a = p;

  g_free (a->name);
  g_free (a->url);
  g_free (a->user);
  if (a->password)
    memset (a->password, 0, strlen (a->password));
  g_free (a->password);
  g_free (a->password_command);
  g_free (a->token_command);
  g_free (a->ca_file);
  g_strfreev (a->include);
  g_strfreev (a->exclude);
  g_strfreev (a->sent);
  g_free (a);
}

static char **
string_list (GKeyFile *kf, const char *group, const char *key)
{
  g_auto (GStrv) raw = g_key_file_get_string_list (kf, group, key, NULL, NULL);
  GPtrArray *out = g_ptr_array_new_null_terminated (4, g_free, TRUE);

  for (guint i = 0; raw && raw[i]; i++) {
    g_strstrip (raw[i]);
    if (*raw[i])
      g_ptr_array_add (out, g_strdup (raw[i]));
  }
  return (char **) g_ptr_array_free (out, FALSE);
}

static char *
string_value (GKeyFile *kf, const char *group, const char *key)
{
  char *v = g_key_file_get_string (kf, group, key, NULL);

  if (v != NULL && *g_strstrip (v) == '\0')
    g_clear_pointer (&v, g_free);
  return v;
}

static gboolean
load_imap (SgConfig *config, GKeyFile *kf, const char *group, GPtrArray *warnings, GError **error)
{
  const char *path = config->path;
  SgConfigImap *a = g_new0 (SgConfigImap, 1);
  g_autofree char *ca = NULL;
  g_autofree char *poll = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (SgImapAccount) probe = NULL;

  g_ptr_array_add (config->imap, a);
  a->name = g_strdup (group + 5);
  a->url = string_value (kf, group, "url");
  a->user = string_value (kf, group, "user");
  a->password = g_key_file_get_string (kf, group, "password", NULL);
  a->password_command = string_value (kf, group, "password-command");
  a->token_command = string_value (kf, group, "oauth2-token-command");
  ca = string_value (kf, group, "ca-file");
  if (ca)
    a->ca_file = expand_path (ca, path);
  a->include = string_list (kf, group, "folders-include");
  a->exclude = string_list (kf, group, "folders-exclude");
  a->sent = string_list (kf, group, "sent-folder");
  a->poll_interval = SG_CONFIG_DEFAULT_POLL_INTERVAL;
  if (a->url == NULL) {
    g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID, "%s: [%s] url: missing", path, group);
    return FALSE;
  }
  probe = sg_imap_account_new (a->name, a->url, &local);
  if (probe == NULL)
    return invalid (error, path, group, "url", local);
  if (a->user)
    sg_imap_account_set_user (probe, a->user);
  /* Two groups for one mailbox would share (and fight over) its state in the store. */
  for (guint i = 0; i + 1 < config->imap->len; i++) {
    const SgConfigImap *other = config->imap->pdata[i];
    g_autoptr (SgImapAccount) o = sg_imap_account_new (other->name, other->url, NULL);

    if (o && other->user)
      sg_imap_account_set_user (o, other->user);
    if (o && strcmp (sg_imap_account_get_uri (o), sg_imap_account_get_uri (probe)) == 0) {
      g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID, "%s: [%s] is the same account (%s) as [imap %s]",
                   path, group, sg_imap_account_get_uri (probe), other->name);
      return FALSE;
    }
  }
  if ((a->password != NULL) + (a->password_command != NULL) + (a->token_command != NULL) > 1) {
    g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID,
                 "%s: [%s]: give one of password, password-command and oauth2-token-command", path, group);
    return FALSE;
  }
  poll = string_value (kf, group, "poll-interval");
  if (poll != NULL) {
    guint64 v = 0;

    if (!g_ascii_string_to_unsigned (poll, 10, 1, 7 * 24 * 3600, &v, &local))
      return invalid (error, path, group, "poll-interval", local);
    a->poll_interval = (guint) v;
  }
  if (a->password != NULL)
    g_ptr_array_add (warnings, g_strdup (group));
  return TRUE;
}

static void
caldav_free (gpointer p)
{
  SgConfigCaldav *a = p;

  g_free (a->name);
  g_free (a->url);
  g_free (a->user);
  g_free (a->password_file);
  g_free (a->password_command);
  g_free (a->ca_file);
  g_free (a);
}

/* A password file must be a regular file only its owner can read (0600 or stricter). */
static gboolean
check_secret_file (const char *file, const char *path, const char *group, GError **error)
{
  GStatBuf st;

  if (g_stat (file, &st) != 0) {
    int e = errno;

    g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID, "%s: [%s] password-file: %s: %s", path, group,
                 file, g_strerror (e));
    return FALSE;
  }
  if (!S_ISREG (st.st_mode)) {
    g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID, "%s: [%s] password-file: %s: not a regular file",
                 path, group, file);
    return FALSE;
  }
  if ((st.st_mode & 077) != 0) {
    g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID,
                 "%s: [%s] password-file: %s can be read by others (mode %03o): chmod 600 it", path, group, file,
                 (unsigned) (st.st_mode & 0777));
    return FALSE;
  }
  return TRUE;
}

static gboolean
seconds_value (GKeyFile *kf, const char *path, const char *group, const char *key, guint64 max, guint *out,
               GError **error)
{
  g_autofree char *v = string_value (kf, group, key);
  g_autoptr (GError) local = NULL;
  guint64 n = 0;

  if (v == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (v, 10, 1, max, &n, &local))
    return invalid (error, path, group, key, local);
  *out = (guint) n;
  return TRUE;
}

static gboolean
load_caldav (SgConfig *config, GKeyFile *kf, const char *group, GError **error)
{
  const char *path = config->path;
  SgConfigCaldav *a = g_new0 (SgConfigCaldav, 1);
  g_autofree char *ca = NULL, *pwfile = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (SgCaldavAccount) probe = NULL;

  g_ptr_array_add (config->caldav, a);
  a->name = g_strdup (group + 7);
  a->url = string_value (kf, group, "url");
  a->user = string_value (kf, group, "user");
  a->password_command = string_value (kf, group, "password-command");
  pwfile = string_value (kf, group, "password-file");
  if (pwfile)
    a->password_file = expand_path (pwfile, path);
  ca = string_value (kf, group, "ca-file");
  if (ca)
    a->ca_file = expand_path (ca, path);
  a->poll_interval = SG_CONFIG_DEFAULT_POLL_INTERVAL;
  a->timeout = SG_CALDAV_DEFAULT_TIMEOUT;
  if (a->url == NULL) {
    g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID, "%s: [%s] url: missing", path, group);
    return FALSE;
  }
  probe = sg_caldav_account_new (a->name, a->url, &local);
  if (probe == NULL)
    return invalid (error, path, group, "url", local);
  if (a->user)
    sg_caldav_account_set_user (probe, a->user);
  for (guint i = 0; i + 1 < config->caldav->len; i++) {
    const SgConfigCaldav *other = config->caldav->pdata[i];
    g_autoptr (SgCaldavAccount) o = sg_caldav_account_new (other->name, other->url, NULL);

    if (o && other->user)
      sg_caldav_account_set_user (o, other->user);
    if (o && strcmp (sg_caldav_account_get_uri (o), sg_caldav_account_get_uri (probe)) == 0) {
      g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID, "%s: [%s] is the same account (%s) as [caldav %s]",
                   path, group, sg_caldav_account_get_uri (probe), other->name);
      return FALSE;
    }
  }
  if (a->password_file != NULL && a->password_command != NULL) {
    g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID,
                 "%s: [%s]: give one of password-file and password-command", path, group);
    return FALSE;
  }
  if ((a->password_file != NULL || a->password_command != NULL) && a->user == NULL &&
      strchr (a->url, '@') == NULL) {
    g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID, "%s: [%s] user: missing (a password needs a user)",
                 path, group);
    return FALSE;
  }
  if (a->password_file != NULL && !check_secret_file (a->password_file, path, group, error))
    return FALSE;
  if (a->ca_file != NULL && !g_file_test (a->ca_file, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID, "%s: [%s] ca-file: %s: no such file", path, group,
                 a->ca_file);
    return FALSE;
  }
  return seconds_value (kf, path, group, "poll-interval", 7 * 24 * 3600, &a->poll_interval, error) &&
         seconds_value (kf, path, group, "timeout", 3600, &a->timeout, error);
}

const SgConfigCaldav *
sg_config_find_caldav (const SgConfig *config, const char *name)
{
  for (guint i = 0; config->caldav && i < config->caldav->len; i++) {
    const SgConfigCaldav *a = config->caldav->pdata[i];

    if (strcmp (a->name, name) == 0)
      return a;
  }
  return NULL;
}

static char *run_secret_command (const SgConfigImap *a, const char *key, const char *command, GError **error);

SgCaldavAccount *
sg_config_caldav_account (const SgConfigCaldav *c, GError **error)
{
  g_autoptr (SgCaldavAccount) account = sg_caldav_account_new (c->name, c->url, error);

  if (account == NULL)
    return NULL;
  if (c->user)
    sg_caldav_account_set_user (account, c->user);
  if (c->password_file) {
    g_autofree char *secret = NULL;
    g_autoptr (GError) local = NULL;
    char *nl;

    /* Checked again: the file may have changed since the config was read. */
    if (!check_secret_file (c->password_file, "config", c->name, error))
      return NULL;
    if (!g_file_get_contents (c->password_file, &secret, NULL, &local)) {
      g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID, "account %s: password-file: %s", c->name,
                   local->message);
      return NULL;
    }
    nl = strpbrk (secret, "\r\n");
    if (nl)
      *nl = '\0';
    sg_caldav_account_set_password (account, secret);
    memset (secret, 0, strlen (secret));
  } else if (c->password_command) {
    SgConfigImap shim = { .name = c->name };
    g_autofree char *secret = run_secret_command (&shim, "password-command", c->password_command, error);

    if (secret == NULL)
      return NULL;
    sg_caldav_account_set_password (account, secret);
    memset (secret, 0, strlen (secret));
  }
  if (c->ca_file)
    sg_caldav_account_set_ca_file (account, c->ca_file);
  sg_caldav_account_set_timeout (account, c->timeout);
  return g_steal_pointer (&account);
}

const SgConfigImap *
sg_config_find_imap (const SgConfig *config, const char *name)
{
  for (guint i = 0; config->imap && i < config->imap->len; i++) {
    const SgConfigImap *a = config->imap->pdata[i];

    if (strcmp (a->name, name) == 0)
      return a;
  }
  return NULL;
}

/* The first line of what /bin/sh -c @command prints. */
static char *
run_secret_command (const SgConfigImap *a, const char *key, const char *command, GError **error)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) local = NULL;
  const char *argv[] = { "/bin/sh", "-c", command, NULL };
  int status = 0;
  char *nl;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &local)) {
    g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID, "account %s: %s: %s", a->name, key,
                 local->message);
    return NULL;
  }
  if (!g_spawn_check_wait_status (status, &local)) {
    g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID, "account %s: %s failed (%s)%s%s", a->name, key,
                 local->message, err && *g_strstrip (err) ? ": " : "", err ? err : "");
    return NULL;
  }
  nl = strpbrk (out, "\r\n");
  if (nl)
    *nl = '\0';
  if (*out == '\0') {
    g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID, "account %s: %s printed nothing", a->name, key);
    return NULL;
  }
  return g_steal_pointer (&out);
}

SgImapAccount *
sg_config_imap_account (const SgConfigImap *imap, GError **error)
{
  g_autoptr (SgImapAccount) account = sg_imap_account_new (imap->name, imap->url, error);

  if (account == NULL)
    return NULL;
  if (imap->user)
    sg_imap_account_set_user (account, imap->user);
  if (imap->password) {
    sg_imap_account_set_password (account, imap->password);
  } else if (imap->password_command) {
    g_autofree char *secret = run_secret_command (imap, "password-command", imap->password_command, error);

    if (secret == NULL)
      return NULL;
    sg_imap_account_set_password (account, secret);
    memset (secret, 0, strlen (secret));
  } else if (imap->token_command) {
    g_autofree char *secret = run_secret_command (imap, "oauth2-token-command", imap->token_command, error);

    if (secret == NULL)
      return NULL;
    sg_imap_account_set_oauth2_token (account, secret);
    memset (secret, 0, strlen (secret));
  }
  if (imap->ca_file)
    sg_imap_account_set_ca_file (account, imap->ca_file);
  sg_imap_account_set_folders (account, (const char *const *) imap->include, (const char *const *) imap->exclude);
  sg_imap_account_set_sent_folders (account, (const char *const *) imap->sent);
  return g_steal_pointer (&account);
}

static char *
expand_path (const char *value, const char *config_path)
{
  g_autofree char *dir = NULL;

  if (value[0] == '~' && (value[1] == '/' || value[1] == '\0'))
    return g_build_filename (g_get_home_dir (), value + 1, NULL);
  if (g_path_is_absolute (value))
    return g_strdup (value);
  dir = config_path ? g_path_get_dirname (config_path) : g_get_current_dir ();
  return g_build_filename (dir, value, NULL);
}

static gboolean
check_known (GKeyFile *kf, const char *path, GError **error)
{
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);

  for (guint g = 0; groups[g]; g++) {
    g_auto (GStrv) keys = NULL;
    guint k;

    for (k = 0; k < G_N_ELEMENTS (known); k++)
      if (strcmp (groups[g], known[k].group) == 0 ||
          (strcmp (known[k].group, "imap") == 0 && g_str_has_prefix (groups[g], "imap ") && groups[g][5]) ||
          (strcmp (known[k].group, "caldav") == 0 && g_str_has_prefix (groups[g], "caldav ") && groups[g][7]))
        break;
    if (k == G_N_ELEMENTS (known)) {
      g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_UNKNOWN, "%s: unknown group [%s]", path,
                   groups[g]);
      return FALSE;
    }
    keys = g_key_file_get_keys (kf, groups[g], NULL, NULL);
    for (guint i = 0; keys && keys[i]; i++) {
      gboolean ok = FALSE;

      for (guint j = 0; known[k].keys[j]; j++)
        ok = ok || strcmp (keys[i], known[k].keys[j]) == 0;
      if (!ok) {
        g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_UNKNOWN, "%s: unknown key %s in [%s]",
                     path, keys[i], groups[g]);
        return FALSE;
      }
    }
  }
  return TRUE;
}

static gboolean
invalid (GError **error, const char *path, const char *group, const char *key, const GError *why)
{
  g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID, "%s: [%s] %s: %s", path, group, key,
               why->message);
  return FALSE;
}

/* [sync]: the team server (issue 6). */
static gboolean
load_sync (SgConfig *config, GKeyFile *kf, GError **error)
{
  const char *path = config->path;
  g_autofree char *token = string_value (kf, "sync", "token-file");
  g_autofree char *ca = string_value (kf, "sync", "ca-file");
  g_autofree char *share = string_value (kf, "sync", "share");
  g_autofree char *interval = string_value (kf, "sync", "interval");
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) folders = string_list (kf, "sync", "private-folders");
  GPtrArray *dirs = g_ptr_array_new_null_terminated (2, g_free, TRUE);

  config->sync_share = SG_SHARE_METADATA;
  config->sync_interval = SG_CONFIG_DEFAULT_SYNC_INTERVAL;
  config->sync_server = string_value (kf, "sync", "server");
  if (config->sync_server != NULL) {
    g_autoptr (SgSyncSettings) probe = sg_sync_settings_new ();

    if (!sg_sync_settings_set_server (probe, config->sync_server, &local))
      return invalid (error, path, "sync", "server", local);
  }
  if (token)
    config->sync_token_file = expand_path (token, path);
  if (ca)
    config->sync_ca_file = expand_path (ca, path);
  if (share != NULL && !sg_share_level_from_string (share, &config->sync_share)) {
    g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID,
                 "%s: [sync] share: “%s” is not metadata, subjects or full", path, share);
    return FALSE;
  }
  if (interval != NULL) {
    guint64 v = 0;

    if (!g_ascii_string_to_unsigned (interval, 10, 10, 7 * 24 * 3600, &v, &local))
      return invalid (error, path, "sync", "interval", local);
    config->sync_interval = (guint) v;
  }
  if (!seconds_value (kf, path, "sync", "timeout", 3600, &config->sync_timeout, error))
    return FALSE;
  config->sync_exclude_domains = string_list (kf, "sync", "exclude-domains");
  config->sync_exclude_addresses = string_list (kf, "sync", "exclude-addresses");
  for (guint i = 0; config->sync_exclude_addresses[i]; i++) {
    g_autofree char *norm = sg_address_normalize (config->sync_exclude_addresses[i], &local);

    if (norm == NULL) {
      g_ptr_array_free (dirs, TRUE);
      return invalid (error, path, "sync", "exclude-addresses", local);
    }
  }
  /* A folder with a '/' is a path (~ and relative to the file); else an IMAP folder's name. */
  for (guint i = 0; folders[i]; i++)
    g_ptr_array_add (dirs, strchr (folders[i], '/') ? expand_path (folders[i], path) : g_strdup (folders[i]));
  config->sync_private_folders = (char **) g_ptr_array_free (dirs, FALSE);
  return TRUE;
}

SgSyncSettings *
sg_config_sync_settings (const SgConfig *config, GError **error)
{
  g_autoptr (SgSyncSettings) s = sg_sync_settings_new ();
  const char *path = config->path ? config->path : "the config";

  sg_sync_settings_set_share (s, config->sync_share);
  for (guint i = 0; config->sync_exclude_domains && config->sync_exclude_domains[i]; i++)
    sg_sync_settings_add_excluded_domain (s, config->sync_exclude_domains[i]);
  for (guint i = 0; config->sync_exclude_addresses && config->sync_exclude_addresses[i]; i++)
    sg_sync_settings_add_excluded_address (s, config->sync_exclude_addresses[i]);
  for (guint i = 0; config->sync_private_folders && config->sync_private_folders[i]; i++)
    sg_sync_settings_add_private_folder (s, config->sync_private_folders[i]);
  if (config->sync_server == NULL) {
    g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID, "%s: [sync] server: not set (no team server)", path);
    return NULL;
  }
  if (!sg_sync_settings_set_server (s, config->sync_server, error))
    return NULL;
  if (config->sync_token_file == NULL) {
    g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_INVALID,
                 "%s: [sync] token-file: not set (the file holding this device's token)", path);
    return NULL;
  }
  if (!sg_sync_settings_load_token (s, config->sync_token_file, error))
    return NULL;
  if (config->sync_ca_file)
    sg_sync_settings_set_ca_file (s, config->sync_ca_file);
  if (config->sync_timeout > 0)
    sg_sync_settings_set_timeouts (s, config->sync_timeout, MIN (config->sync_timeout, 20u));
  return g_steal_pointer (&s);
}

static gboolean
load_keyfile (SgConfig *config, GKeyFile *kf, GError **error)
{
  const char *path = config->path;
  g_autoptr (GError) local = NULL;
  g_autofree char *name = NULL;
  g_autofree char *role = NULL;
  g_autofree char *store = NULL;
  g_auto (GStrv) addresses = NULL;
  g_auto (GStrv) domains = NULL;
  g_auto (GStrv) maildirs = NULL;
  GPtrArray *dirs;

  if (!check_known (kf, path, error))
    return FALSE;
  name = g_key_file_get_string (kf, "identity", "name", NULL);
  sg_identity_set_name (config->identity, name);
  addresses = g_key_file_get_string_list (kf, "identity", "addresses", NULL, NULL);
  for (guint i = 0; addresses && addresses[i]; i++) {
    g_strstrip (addresses[i]);
    if (*addresses[i] && !sg_identity_add_address (config->identity, addresses[i], &local))
      return invalid (error, path, "identity", "addresses", local);
  }
  domains = g_key_file_get_string_list (kf, "identity", "internal-domains", NULL, NULL);
  for (guint i = 0; domains && domains[i]; i++) {
    g_strstrip (domains[i]);
    if (*domains[i] && !sg_identity_add_internal_domain (config->identity, domains[i], &local))
      return invalid (error, path, "identity", "internal-domains", local);
  }
  role = g_key_file_get_string (kf, "identity", "role", NULL);
  if (role != NULL && !sg_identity_set_role_from_string (config->identity, g_strstrip (role), &local))
    return invalid (error, path, "identity", "role", local);

  store = g_key_file_get_string (kf, "store", "path", NULL);
  if (store != NULL && *g_strstrip (store))
    config->store_path = expand_path (store, path);

  {
    /* [process] pipelines: the pipelines file (sales processes). */
    g_autofree char *pipelines = g_key_file_get_string (kf, "process", "pipelines", NULL);

    if (pipelines != NULL && *g_strstrip (pipelines))
      config->pipelines_path = expand_path (pipelines, path);
  }

  {
    /* [team] analysts, managers: colleagues whose captured contacts are credited to them. */
    static const char *const team_keys[] = { "analysts", "managers" };
    char ***slots[] = { &config->team_analysts, &config->team_managers };

    for (guint k = 0; k < G_N_ELEMENTS (team_keys); k++) {
      g_auto (GStrv) list = g_key_file_get_string_list (kf, "team", team_keys[k], NULL, NULL);
      GPtrArray *out = g_ptr_array_new_null_terminated (4, g_free, TRUE);

      for (guint i = 0; list && list[i]; i++) {
        char *norm;

        g_strstrip (list[i]);
        if (*list[i] == '\0')
          continue;
        if ((norm = sg_address_normalize (list[i], &local)) == NULL) {
          g_ptr_array_free (out, TRUE);
          return invalid (error, path, "team", team_keys[k], local);
        }
        g_ptr_array_add (out, norm);
      }
      *slots[k] = (char **) g_ptr_array_free (out, FALSE);
    }
  }

  maildirs = g_key_file_get_string_list (kf, "maildir", "paths", NULL, NULL);
  dirs = g_ptr_array_new_null_terminated (4, g_free, TRUE);
  for (guint i = 0; maildirs && maildirs[i]; i++) {
    g_strstrip (maildirs[i]);
    if (*maildirs[i])
      g_ptr_array_add (dirs, expand_path (maildirs[i], path));
  }
  config->maildirs = (char **) g_ptr_array_free (dirs, FALSE);

  {
    g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);
    g_autoptr (GPtrArray) secrets = g_ptr_array_new_with_free_func (g_free);

    for (guint g = 0; groups[g]; g++)
      if (g_str_has_prefix (groups[g], "imap ") && !load_imap (config, kf, groups[g], secrets, error))
        return FALSE;
    for (guint g = 0; groups[g]; g++)
      if (g_str_has_prefix (groups[g], "caldav ") && !load_caldav (config, kf, groups[g], error))
        return FALSE;
    /* A password in a file others can read is a password others have. */
    if (secrets->len > 0) {
      GStatBuf st;

      if (g_stat (path, &st) == 0 && (st.st_mode & 077) != 0) {
        GPtrArray *w = g_ptr_array_new_null_terminated (1, g_free, TRUE);

        g_ptr_array_add (w, g_strdup_printf ("%s holds the password of [%s] but others can read it "
                                             "(mode %03o): chmod 600 it, or use password-command",
                                             path, (char *) secrets->pdata[0], (unsigned) (st.st_mode & 0777)));
        g_strfreev (config->warnings);
        config->warnings = (char **) g_ptr_array_free (w, FALSE);
      }
    }
  }

  /* [topics] (issue 9): the taxonomy file, and whether message text is read at all. */
  {
    g_autofree char *taxonomy = g_key_file_get_string (kf, "topics", "taxonomy", NULL);

    if (taxonomy != NULL && *g_strstrip (taxonomy))
      config->taxonomy_path = expand_path (taxonomy, path);
    config->extract_content = TRUE;
    if (g_key_file_has_key (kf, "topics", "extract", NULL)) {
      config->extract_content = g_key_file_get_boolean (kf, "topics", "extract", &local);
      if (local != NULL)
        return invalid (error, path, "topics", "extract", local);
    }
  }

  /* [rules] path and [calendar] paths (meetings). */
  {
    g_autofree char *rules = g_key_file_get_string (kf, "rules", "path", NULL);
    g_auto (GStrv) calendars = g_key_file_get_string_list (kf, "calendar", "paths", NULL, NULL);
    GPtrArray *cals = g_ptr_array_new_null_terminated (2, g_free, TRUE);

    if (rules != NULL && *g_strstrip (rules))
      config->rules_path = expand_path (rules, path);
    for (guint i = 0; calendars && calendars[i]; i++) {
      g_strstrip (calendars[i]);
      if (*calendars[i])
        g_ptr_array_add (cals, expand_path (calendars[i], path));
    }
    config->calendars = (char **) g_ptr_array_free (cals, FALSE);
  }
  return load_sync (config, kf, error);
}

SgConfig *
sg_config_load (const char *path, GError **error)
{
  g_autoptr (SgConfig) config = g_new0 (SgConfig, 1);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *file = path ? g_strdup (path) : sg_config_default_path ();

  config->identity = sg_identity_new ();
  config->imap = g_ptr_array_new_with_free_func (imap_free);
  config->caldav = g_ptr_array_new_with_free_func (caldav_free);
  config->warnings = g_new0 (char *, 1);
  if (!g_key_file_load_from_file (kf, file, G_KEY_FILE_NONE, &local)) {
    if (path == NULL && g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
      config->maildirs = g_new0 (char *, 1);
      config->extract_content = TRUE;
      config->calendars = g_new0 (char *, 1);
      config->sync_interval = SG_CONFIG_DEFAULT_SYNC_INTERVAL;
      return g_steal_pointer (&config);
    }
    if (local->domain == G_KEY_FILE_ERROR)
      g_set_error (error, SG_CONFIG_ERROR, SG_CONFIG_ERROR_PARSE, "%s: %s", file, local->message);
    else
      g_set_error (error, local->domain, local->code, "config %s: %s", file, local->message);
    return NULL;
  }
  config->path = g_steal_pointer (&file);
  if (!load_keyfile (config, kf, error))
    return NULL;
  return g_steal_pointer (&config);
}

gboolean
sg_config_ensure_store_dir (const char *store_path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (store_path);

  if (g_mkdir_with_parents (dir, 0700) != 0) {
    int saved = errno;

    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "cannot create %s for the store: %s",
                 dir, g_strerror (saved));
    return FALSE;
  }
  return TRUE;
}

char *
sg_config_store_path (const SgConfig *config, const char *override)
{
  const char *env = g_getenv ("SALESGETTER_STORE");
  g_autofree char *dir = NULL;

  if (override != NULL)
    return g_strdup (override);
  if (env != NULL && *env)
    return g_strdup (env);
  if (config != NULL && config->store_path != NULL)
    return g_strdup (config->store_path);
  dir = g_build_filename (g_get_user_data_dir (), "salesgetter", NULL);
  return g_build_filename (dir, "store.db", NULL);
}

/* store_meta keys: the last interaction and person followed up. */
#define LINKED_UP_TO "after-capture.linked-up-to"
#define CREDITED_UP_TO "after-capture.credited-up-to"

gboolean
sg_config_after_capture (const SgConfig *config, SgStore *store, SgAfterCapture *out, GError **error)
{
  g_autoptr (GPtrArray) analysts = g_ptr_array_new_null_terminated (4, NULL, TRUE);
  g_autoptr (GPtrArray) managers = g_ptr_array_new_null_terminated (4, NULL, TRUE);
  const char *const *self = sg_identity_get_addresses (config->identity);
  SgUserRole role = sg_identity_get_role (config->identity);
  SgAfterCapture counts = { 0 };
  gint64 link_to = sg_process_link_watermark (store);
  gint64 person_to = sg_leads_person_watermark (store);

  if (out != NULL)
    *out = counts;
  if (!sg_process_link_auto (store, sg_store_get_meta_int (store, LINKED_UP_TO, 0), &counts.linked,
                             &counts.suggested, error) ||
      !sg_store_set_meta_int (store, LINKED_UP_TO, link_to, error)) {
    g_prefix_error (error, "linking to sales processes: ");
    return FALSE;
  }
  for (guint i = 0; config->team_analysts && config->team_analysts[i]; i++)
    g_ptr_array_add (analysts, config->team_analysts[i]);
  for (guint i = 0; config->team_managers && config->team_managers[i]; i++)
    g_ptr_array_add (managers, config->team_managers[i]);
  /* The user's own mail: an analyst's or a manager's contacts are credited to them; an
   * account manager's are not (they are the sales staff). */
  for (guint i = 0; self && self[i]; i++) {
    if (role == SG_USER_ROLE_ANALYST)
      g_ptr_array_add (analysts, (gpointer) self[i]);
    else if (role == SG_USER_ROLE_MANAGER)
      g_ptr_array_add (managers, (gpointer) self[i]);
  }
  if (!sg_leads_credit_captured (store, (const char *const *) analysts->pdata, (const char *const *) managers->pdata,
                                 sg_store_get_meta_int (store, CREDITED_UP_TO, 0), &counts.credited, error) ||
      !sg_store_set_meta_int (store, CREDITED_UP_TO, person_to, error)) {
    g_prefix_error (error, "crediting contacts to colleagues: ");
    return FALSE;
  }
  if (!sg_roles_derive (store, &counts.roles_added, NULL, error)) {
    g_prefix_error (error, "deriving buying-process roles: ");
    return FALSE;
  }
  if (!sg_org_learn_names (store, &counts.orgs_named, error)) {
    g_prefix_error (error, "naming organisations from signatures: ");
    return FALSE;
  }
  /* The similar organisations the insight shows, when tags changed since they were
   * computed (one pass over the organisation x tag matrix; sg-similar.h). */
  if (!sg_similar_is_current (store) && !sg_similar_refresh (store, error)) {
    g_prefix_error (error, "computing similar organisations: ");
    return FALSE;
  }
  if (out != NULL)
    *out = counts;
  return TRUE;
}
