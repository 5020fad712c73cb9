/* sg-config.h: the front ends' configuration file and paths (not part of the library).
 *
 * $XDG_CONFIG_HOME/salesgetter/salesgetter.conf (or --config FILE), a GKeyFile:
 *   [identity] name, addresses (list), internal-domains (list), role
 *   [store]    path
 *   [maildir]  paths (list): Maildirs the daemon watches
 *   [rules]    path: the tagging rules file (sg-rules.h); none: the built-in rules
 *   [calendar] paths (list): folders of .ics files the daemon watches
 * Every problem names the file and the group/key.
 */
#pragma once

#include <sg.h>

G_BEGIN_DECLS

#define SG_CONFIG_ERROR (sg_config_error_quark ())
GQuark sg_config_error_quark (void);

typedef enum {
  SG_CONFIG_ERROR_PARSE,   /* the file is not a key file */
  SG_CONFIG_ERROR_INVALID, /* a key has a bad value */
  SG_CONFIG_ERROR_UNKNOWN, /* an unknown group or key (a typo) */
} SgConfigError;

typedef struct {
  char *path;          /* the file read, or NULL when none existed */
  SgIdentity *identity;
  char *store_path;    /* nullable: from [store] path */
  char **maildirs;     /* NULL-terminated, expanded (~ and relative to the file) */
  char *rules_path;    /* nullable: from [rules] path, expanded */
  char **calendars;    /* NULL-terminated: [calendar] paths, folders of .ics the daemon watches */
} SgConfig;

/* Reads @path, or the default file when @path is NULL. A missing default file gives an
 * empty config; a missing explicit @path is an error.
 * Returns: (transfer full): the config, or NULL with SG_CONFIG_ERROR or G_FILE_ERROR. */
SgConfig *sg_config_load (const char *path, GError **error);
void sg_config_free (SgConfig *config);

/* Returns: (transfer full): $XDG_CONFIG_HOME/salesgetter/salesgetter.conf. */
char *sg_config_default_path (void);

/* The store to use: @override (--store), else $SALESGETTER_STORE, else [store] path, else
 * $XDG_DATA_HOME/salesgetter/store.db. Creates nothing.
 * Returns: (transfer full). */
char *sg_config_store_path (const SgConfig *config, const char *override);

/* Creates the folder of @store_path (mode 0700) before a store is made there. */
gboolean sg_config_ensure_store_dir (const char *store_path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgConfig, sg_config_free)

G_END_DECLS
