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
  const char *keys[8];
} known[] = {
  { "identity", { "name", "addresses", "internal-domains", "role", NULL } },
  { "store", { "path", NULL } },
  { "maildir", { "paths", NULL } },
  /* meetings branch: the tagging rules file */
  { "rules", { "path", NULL } },
  { "calendar", { "paths", NULL } },
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
  g_strfreev (config->maildirs);
  g_free (config->rules_path);
  g_strfreev (config->calendars);
  g_free (config);
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
      if (strcmp (groups[g], known[k].group) == 0)
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

  maildirs = g_key_file_get_string_list (kf, "maildir", "paths", NULL, NULL);
  dirs = g_ptr_array_new_null_terminated (4, g_free, TRUE);
  for (guint i = 0; maildirs && maildirs[i]; i++) {
    g_strstrip (maildirs[i]);
    if (*maildirs[i])
      g_ptr_array_add (dirs, expand_path (maildirs[i], path));
  }
  config->maildirs = (char **) g_ptr_array_free (dirs, FALSE);

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
  return TRUE;
}

SgConfig *
sg_config_load (const char *path, GError **error)
{
  g_autoptr (SgConfig) config = g_new0 (SgConfig, 1);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *file = path ? g_strdup (path) : sg_config_default_path ();

  config->identity = sg_identity_new ();
  if (!g_key_file_load_from_file (kf, file, G_KEY_FILE_NONE, &local)) {
    if (path == NULL && g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
      config->maildirs = g_new0 (char *, 1);
      config->calendars = g_new0 (char *, 1);
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
