/* sg-config.h: the front ends' configuration file and paths (not part of the library).
 *
 * $XDG_CONFIG_HOME/salesgetter/salesgetter.conf (or --config FILE), a GKeyFile:
 *   [identity] name, addresses (list), internal-domains (list), role
 *   [store]    path
 *   [maildir]  paths (list): Maildirs the daemon watches
 *   [team]     analysts, managers (lists of addresses): colleagues whose captured
 *              contacts are credited to them as lead source
 *   [process]  pipelines: the sales pipelines file (default: pipelines.conf beside the
 *              config, when it exists)
 *   [imap NAME] url, user, password, password-command, oauth2-token-command, ca-file,
 *              folders-include (list), folders-exclude (list), sent-folder (list),
 *              poll-interval (seconds): one IMAP account per group
 *   [rules]    path: the tagging rules file (sg-rules.h); none: the built-in rules
 *   [calendar] paths (list): folders of .ics files the daemon watches
 *   [caldav NAME] url, user, password-file (mode 0600), password-command, ca-file,
 *              poll-interval, timeout (seconds): one CalDAV account per group
 *   [sync]     server (https URL), token-file (0600), share (metadata|subjects|full),
 *              exclude-domains, exclude-addresses, private-folders (lists), interval
 *              (seconds), ca-file, timeout (seconds): the team server (issue 6, sg-sync.h)
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

/* One [imap NAME] group. */
typedef struct {
  char *name;
  char *url;
  char *user;             /* nullable */
  char *password;         /* nullable */
  char *password_command; /* nullable: run with /bin/sh -c; its first line is the password */
  char *token_command;    /* nullable: the same for an OAuth 2.0 bearer token */
  char *ca_file;          /* nullable, expanded */
  char **include;         /* NULL-terminated */
  char **exclude;
  char **sent;
  guint poll_interval;    /* seconds */
} SgConfigImap;

#define SG_CONFIG_DEFAULT_POLL_INTERVAL 300

/* One [caldav NAME] group. */
typedef struct {
  char *name;
  char *url;
  char *user;             /* nullable */
  char *password_file;    /* nullable, expanded; checked to be 0600 when the config is read */
  char *password_command; /* nullable */
  char *ca_file;          /* nullable, expanded */
  guint poll_interval;    /* seconds */
  guint timeout;          /* seconds */
} SgConfigCaldav;

typedef struct {
  char *path;          /* the file read, or NULL when none existed */
  SgIdentity *identity;
  char *store_path;    /* nullable: from [store] path */
  char **maildirs;     /* NULL-terminated, expanded (~ and relative to the file) */
  char *pipelines_path; /* nullable: from [process] pipelines, expanded */
  char **team_analysts; /* nullable, NULL-terminated, normalised: [team] analysts */
  char **team_managers; /* nullable, NULL-terminated, normalised: [team] managers */
  GPtrArray *imap;     /* SgConfigImap, in file order */
  char **warnings;     /* NULL-terminated: things the front end should tell the user */
  char *taxonomy_path; /* nullable: [topics] taxonomy (issue 9) */
  gboolean extract_content; /* [topics] extract, default TRUE: read message text */
  char *rules_path;    /* nullable: from [rules] path, expanded */
  char **calendars;    /* NULL-terminated: [calendar] paths, folders of .ics the daemon watches */
  GPtrArray *caldav;   /* SgConfigCaldav, in file order (caldav branch) */
  /* [sync] (issue 6) */
  char *sync_server;       /* nullable: no team server */
  char *sync_token_file;   /* nullable, expanded */
  char *sync_ca_file;      /* nullable, expanded */
  SgShareLevel sync_share; /* default metadata */
  char **sync_exclude_domains;   /* NULL-terminated (NULL in an empty config) */
  char **sync_exclude_addresses;
  char **sync_private_folders;   /* paths expanded; names as written */
  guint sync_interval;     /* seconds between syncs of the daemon */
  guint sync_timeout;      /* seconds a round trip may take; 0: the default (120) */
} SgConfig;

#define SG_CONFIG_DEFAULT_SYNC_INTERVAL 300

/* Reads @path, or the default file when @path is NULL. A missing default file gives an
 * empty config; a missing explicit @path is an error.
 * Returns: (transfer full): the config, or NULL with SG_CONFIG_ERROR or G_FILE_ERROR. */
SgConfig *sg_config_load (const char *path, GError **error);
void sg_config_free (SgConfig *config);

/* The IMAP account @name ([imap NAME]), or NULL. (transfer none) */
const SgConfigImap *sg_config_find_imap (const SgConfig *config, const char *name);

/* The library's account for @imap, with its secret: the password (or token) from the
 * config, or from its command (which must exit 0 and print a non-empty first line).
 * Returns: (transfer full): NULL with an error naming the account. */
SgImapAccount *sg_config_imap_account (const SgConfigImap *imap, GError **error);

/* The CalDAV account @name ([caldav NAME]), or NULL. (transfer none) */
const SgConfigCaldav *sg_config_find_caldav (const SgConfig *config, const char *name);

/* The library's account for @caldav, with its password (read from its password-file, which
 * must still be 0600, or its command). Returns: (transfer full): NULL with an error naming
 * the account. */
SgCaldavAccount *sg_config_caldav_account (const SgConfigCaldav *caldav, GError **error);
/* The sync settings of [sync], with the token read from token-file.
 * Returns: (transfer full): NULL with an error naming the key when there is no server, no
 * token file, or it cannot be read or others may read it. */
SgSyncSettings *sg_config_sync_settings (const SgConfig *config, GError **error);

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

/* What follows a capture, counted. */
typedef struct {
  guint linked;      /* interactions linked to sales processes */
  guint suggested;   /* stage suggestions made */
  guint credited;    /* contacts credited to a colleague as lead source */
  guint roles_added; /* buying-process roles added by the rules */
  guint orgs_named;  /* organisations named after their people's signatures */
} SgAfterCapture;

/* What follows a capture, for every front end that stores mail (salesgetter import and the
 * daemon), whatever source stored it: the interactions stored since the last run are linked
 * to open sales processes (with stage suggestions); the contacts made since then are
 * credited to the analyst or manager whose mail they came from ([team] analysts/managers,
 * and the user by [identity] role); the buying-process roles are derived again (rules
 * never override a person's choice); and organisations still named after their domain take
 * the name their people's signatures give (sg_org_learn_names()). How far it got is kept in the store (store_meta), and
 * only moved on when a step succeeds: a capture killed before this ran is followed up by
 * the next run. @out: (optional). */
gboolean sg_config_after_capture (const SgConfig *config, SgStore *store, SgAfterCapture *out, GError **error);
