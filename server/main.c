/* salesgetter-server: the team's central server (issue 6). main() reads as a checklist:
 * arguments, config, --check-config, database and migrations, then either an admin command
 * (user, token) or the HTTP server until SIGINT/SIGTERM. */
#include "config.h"

#include "srv-config.h"
#include "srv-db.h"
#include "srv-http.h"
#include "srv-sync.h"
#include "srv-util.h"
#include "dashboard.h"

#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

static char *opt_config;
static gboolean opt_check_config;
static gboolean opt_version;
static char *opt_role;
static char **opt_addresses;
static char *opt_device;
static char *opt_reassign;

static const GOptionEntry entries[] = {
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config, "Config file (default " SG_SYSCONFDIR "/salesgetter/server.conf, or $SALESGETTER_SERVER_CONFIG)", "FILE" },
  { "check-config", 0, 0, G_OPTION_ARG_NONE, &opt_check_config, "Check the config file and exit", NULL },
  { "role", 0, 0, G_OPTION_ARG_STRING, &opt_role, "user add: analyst, account-manager or manager", "ROLE" },
  { "address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_addresses, "user add: a mail address of the user (repeat)", "ADDR" },
  { "device", 0, 0, G_OPTION_ARG_STRING, &opt_device, "token new: a name for the device the token is for", "NAME" },
  { "reassign-to", 0, 0, G_OPTION_ARG_STRING, &opt_reassign, "user remove: give the user's processes to this user", "LOGIN" },
  { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version, "Print the version", NULL },
  { NULL },
};

static const char summary[] =
  "Commands:\n"
  "  (none)                          run the server\n"
  "  user add LOGIN --role ROLE [--address ADDR]...\n"
  "  user list\n"
  "  user remove LOGIN [--reassign-to LOGIN]  revoke the tokens, keep the data\n"
  "  token new LOGIN [--device NAME]  print a new API token (shown once)\n"
  "  token list [LOGIN]\n"
  "  token revoke ID";

static int
fail (const char *what, const GError *e)
{
  g_printerr ("salesgetter-server: %s%s%s\n", what ? what : "", what ? ": " : "", e->message);
  return 1;
}

static int
usage_error (const char *msg)
{
  g_printerr ("salesgetter-server: %s (see salesgetter-server --help)\n", msg);
  return 2;
}

static gboolean stop_requested;

static gboolean
on_signal (gpointer loop)
{
  stop_requested = TRUE;
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static int
cmd_serve (SrvConfig *config)
{
  SrvServer srv = { .config = config };
  srv.pool = srv_pool_new (config->database_url, config->pool_size);
  srv.limiter = srv_limiter_new (100000);
  g_autoptr (GError) e = NULL;
  if (!srv_server_start (&srv, &e)) {
    srv_pool_free (srv.pool);
    srv_limiter_free (srv.limiter);
    return fail (NULL, e);
  }
  g_message ("listening on %s port %u (%s, %u threads, %u database connections)", config->listen, config->port,
             config->behind_proxy ? "plain HTTP behind a proxy" : "HTTPS", config->threads, config->pool_size);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  guint s1 = g_unix_signal_add (SIGINT, on_signal, loop);
  guint s2 = g_unix_signal_add (SIGTERM, on_signal, loop);
  g_main_loop_run (loop);
  if (!stop_requested) {
    g_source_remove (s1);
    g_source_remove (s2);
  }
  g_message ("stopping");
  srv_server_stop (&srv);
  sg_dashboard_shutdown (); /* the HTTP threads are done: cairo's caches can go */
  srv_pool_free (srv.pool);
  srv_limiter_free (srv.limiter);
  return 0;
}

static gboolean
user_id (PGconn *pg, const char *login, char **id, GError **error)
{
  const char *p[] = { login };
  g_autoptr (PGresult) r = srv_db_exec (pg, "user", "SELECT id, removed_at IS NOT NULL FROM users WHERE login = $1",
                                        1, p, error);
  if (r == NULL)
    return FALSE;
  if (PQntuples (r) == 0) {
    g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT, "no user %s (salesgetter-server user list)", login);
    return FALSE;
  }
  if (strcmp (PQgetvalue (r, 0, 1), "t") == 0) {
    g_set_error (error, SRV_ERROR, SRV_ERROR_BAD_INPUT, "user %s was removed", login);
    return FALSE;
  }
  *id = g_strdup (PQgetvalue (r, 0, 0));
  return TRUE;
}

static int
cmd_user_add (PGconn *pg, const char *login)
{
  g_autoptr (GError) e = NULL;
  SrvRole role;
  if (opt_role == NULL || !srv_role_parse (opt_role, &role))
    return usage_error ("user add: --role must be analyst, account-manager or manager");
  if (!g_utf8_validate (login, -1, NULL) || *login == '\0' || strlen (login) > 128)
    return usage_error ("user add: LOGIN must be 1 to 128 bytes of UTF-8");
  for (char **a = opt_addresses; a && *a; a++)
    if (!strchr (*a, '@') || !g_utf8_validate (*a, -1, NULL)) {
      g_autofree char *m = g_strdup_printf ("user add: --address %s is not a mail address", *a);
      return usage_error (m);
    }
  const char *p[] = { login, srv_role_name (role) };
  if (!srv_db_run (pg, "user add", "BEGIN", 0, NULL, &e))
    return fail (NULL, e);
  g_autoptr (PGresult) r = srv_db_exec (pg, "user add",
    "INSERT INTO users (login, role) VALUES ($1, $2) ON CONFLICT (login) DO NOTHING RETURNING id", 2, p, &e);
  if (r == NULL)
    return fail (NULL, e);
  if (PQntuples (r) == 0) {
    PQclear (PQexec (pg, "ROLLBACK"));
    g_printerr ("salesgetter-server: user add: %s exists already\n", login);
    return 1;
  }
  const char *id = PQgetvalue (r, 0, 0);
  for (char **a = opt_addresses; a && *a; a++) {
    g_autofree char *lower = g_utf8_strdown (g_strstrip (*a), -1);
    const char *pa[] = { id, lower };
    g_autoptr (PGresult) x = srv_db_exec (pg, "user add",
      "INSERT INTO user_addresses (user_id, address) VALUES ($1::bigint, $2) ON CONFLICT (address) DO NOTHING "
      "RETURNING address", 2, pa, &e);
    if (x == NULL)
      return fail (NULL, e);
    if (PQntuples (x) == 0) {
      PQclear (PQexec (pg, "ROLLBACK"));
      g_printerr ("salesgetter-server: user add: address %s is another user's already\n", lower);
      return 1;
    }
  }
  /* Processes already on the server whose account manager is one of these addresses are now
   * this user's. */
  const char *pi[] = { id };
  if (!srv_db_run (pg, "user add",
        "UPDATE entity_state SET owner_user_id = $1::bigint WHERE entity = 'process' "
        "AND lower(fields ->> 'account_manager') IN (SELECT address FROM user_addresses WHERE user_id = $1::bigint)",
        1, pi, &e)
      || !srv_db_run (pg, "user add", "COMMIT", 0, NULL, &e))
    return fail (NULL, e);
  printf ("user %s added (id %s, %s)\n", login, id, srv_role_name (role));
  return 0;
}

/* Removes a user: their tokens are revoked, their dashboard sessions closed, their addresses
 * freed (another user may take them); their ops stay, with them as author, and so does the
 * users row (marked removed, the login not reusable). Their processes go to --reassign-to, or
 * stay theirs (then only managers see and change them). One transaction. */
static int
cmd_user_remove (PGconn *pg, const char *login)
{
  g_autoptr (GError) e = NULL;
  g_autofree char *uid = NULL, *to = NULL;

  if (!srv_db_run (pg, "user remove", "BEGIN", 0, NULL, &e))
    return fail (NULL, e);
  const char *p[] = { login };
  g_autoptr (PGresult) r = srv_db_exec (pg, "user remove",
    "SELECT id, removed_at IS NOT NULL FROM users WHERE login = $1 FOR UPDATE", 1, p, &e);
  if (r == NULL)
    return fail (NULL, e);
  if (PQntuples (r) == 0 || strcmp (PQgetvalue (r, 0, 1), "t") == 0) {
    PQclear (PQexec (pg, "ROLLBACK"));
    g_printerr ("salesgetter-server: user remove: %s %s\n", login,
                PQntuples (r) == 0 ? "is no user (salesgetter-server user list)" : "was removed already");
    return 1;
  }
  uid = g_strdup (PQgetvalue (r, 0, 0));
  if (opt_reassign) {
    const char *pt[] = { opt_reassign };
    g_autoptr (PGresult) t = srv_db_exec (pg, "user remove",
      "SELECT id FROM users WHERE login = $1 AND removed_at IS NULL", 1, pt, &e);
    if (t == NULL)
      return fail (NULL, e);
    if (PQntuples (t) == 0 || g_str_equal (PQgetvalue (t, 0, 0), uid)) {
      PQclear (PQexec (pg, "ROLLBACK"));
      g_printerr ("salesgetter-server: user remove: --reassign-to %s: not another current user\n", opt_reassign);
      return 1;
    }
    to = g_strdup (PQgetvalue (t, 0, 0));
  }
  const char *pu[] = { uid, to };
  g_autoptr (PGresult) rt = srv_db_exec (pg, "user remove",
    "UPDATE tokens SET revoked_at = now() WHERE user_id = $1::bigint AND revoked_at IS NULL RETURNING id", 1, pu, &e);
  g_autoptr (PGresult) rp = rt == NULL ? NULL : srv_db_exec (pg, "user remove",
    "UPDATE entity_state SET owner_user_id = $2::bigint, updated_at = now() "
    "WHERE entity = 'process' AND owner_user_id = $1::bigint AND $2::bigint IS NOT NULL RETURNING natural_key",
    2, pu, &e);
  if (rp == NULL
      || !srv_db_run (pg, "user remove", "DELETE FROM dashboard_sessions WHERE user_id = $1::bigint", 1, pu, &e)
      || !srv_db_run (pg, "user remove", "DELETE FROM user_addresses WHERE user_id = $1::bigint", 1, pu, &e)
      || !srv_db_run (pg, "user remove", "UPDATE users SET removed_at = now() WHERE id = $1::bigint", 1, pu, &e)
      || !srv_db_run (pg, "user remove", "COMMIT", 0, NULL, &e)) {
    PQclear (PQexec (pg, "ROLLBACK"));
    return fail (NULL, e);
  }
  printf ("user %s removed: %d token%s revoked; ", login, PQntuples (rt), PQntuples (rt) == 1 ? "" : "s");
  if (to)
    printf ("%d process%s moved to %s\n", PQntuples (rp), PQntuples (rp) == 1 ? "" : "es", opt_reassign);
  else
    printf ("their processes stay theirs (only managers see and change them; --reassign-to moves them)\n");
  return 0;
}

static int
cmd_user_list (PGconn *pg)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (PGresult) r = srv_db_exec (pg, "user list",
    "SELECT u.id, u.login, u.role || CASE WHEN u.removed_at IS NULL THEN '' ELSE ' (removed)' END, "
    "coalesce(string_agg(a.address, ',' ORDER BY a.address), '') "
    "FROM users u LEFT JOIN user_addresses a ON a.user_id = u.id GROUP BY u.id ORDER BY u.login", 0, NULL, &e);
  if (r == NULL)
    return fail (NULL, e);
  printf ("%-5s %-20s %-16s %s\n", "ID", "LOGIN", "ROLE", "ADDRESSES");
  for (int i = 0; i < PQntuples (r); i++)
    printf ("%-5s %-20s %-16s %s\n", PQgetvalue (r, i, 0), PQgetvalue (r, i, 1), PQgetvalue (r, i, 2),
            PQgetvalue (r, i, 3));
  return 0;
}

static int
cmd_token_new (PGconn *pg, const char *login)
{
  g_autoptr (GError) e = NULL;
  g_autofree char *uid = NULL;
  if (!user_id (pg, login, &uid, &e))
    return fail ("token new", e);
  g_autofree char *token = srv_token_generate (&e);
  if (token == NULL)
    return fail ("token new", e);
  g_autofree char *hash = srv_token_hash (token);
  const char *p[] = { uid, opt_device, hash };
  g_autoptr (PGresult) r = srv_db_exec (pg, "token new",
    "INSERT INTO tokens (user_id, device_name, hash) VALUES ($1::bigint, $2, $3) RETURNING id", 3, p, &e);
  if (r == NULL)
    return fail (NULL, e);
  g_printerr ("token %s for %s%s%s; it is shown once, keep it (only its hash is stored):\n", PQgetvalue (r, 0, 0),
              login, opt_device ? ", device " : "", opt_device ? opt_device : "");
  printf ("%s\n", token);
  memset (token, 0, strlen (token));
  return 0;
}

static int
cmd_token_list (PGconn *pg, const char *login)
{
  g_autoptr (GError) e = NULL;
  const char *p[] = { login };
  g_autoptr (PGresult) r = srv_db_exec (pg, "token list",
    "SELECT t.id, u.login, coalesce(t.device_name, ''), to_char(t.created_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "coalesce(to_char(t.last_used_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '-'), "
    "coalesce(to_char(t.revoked_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '-') "
    "FROM tokens t JOIN users u ON u.id = t.user_id WHERE $1::text IS NULL OR u.login = $1 ORDER BY t.id",
    1, p, &e);
  if (r == NULL)
    return fail (NULL, e);
  printf ("%-5s %-16s %-16s %-20s %-20s %s\n", "ID", "LOGIN", "DEVICE", "CREATED", "LAST USED", "REVOKED");
  for (int i = 0; i < PQntuples (r); i++)
    printf ("%-5s %-16s %-16s %-20s %-20s %s\n", PQgetvalue (r, i, 0), PQgetvalue (r, i, 1), PQgetvalue (r, i, 2),
            PQgetvalue (r, i, 3), PQgetvalue (r, i, 4), PQgetvalue (r, i, 5));
  return 0;
}

static int
cmd_token_revoke (PGconn *pg, const char *id)
{
  g_autoptr (GError) e = NULL;
  guint64 n;
  if (!g_ascii_string_to_unsigned (id, 10, 1, G_MAXINT64, &n, NULL))
    return usage_error ("token revoke: ID is the number token list shows");
  const char *p[] = { id };
  g_autoptr (PGresult) r = srv_db_exec (pg, "token revoke",
    "UPDATE tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1::bigint RETURNING id", 1, p, &e);
  if (r == NULL)
    return fail (NULL, e);
  if (PQntuples (r) == 0) {
    g_printerr ("salesgetter-server: token revoke: no token %s\n", id);
    return 1;
  }
  printf ("token %s revoked\n", id);
  return 0;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_autoptr (GOptionContext) ctx = g_option_context_new ("[user add|list|remove | token new|list|revoke ...]");
  g_option_context_set_summary (ctx, "The SalesGetter central server: sync API over PostgreSQL.");
  g_option_context_set_description (ctx, summary);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) e = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &e)) {
    g_printerr ("salesgetter-server: %s\n", e->message);
    return 2;
  }
  if (opt_version) {
    printf ("salesgetter-server %s\n", PACKAGE_VERSION);
    return 0;
  }

  /* Config. */
  const char *path = opt_config;
  if (path == NULL)
    path = g_getenv ("SALESGETTER_SERVER_CONFIG");
  g_autofree char *default_path = g_build_filename (SG_SYSCONFDIR, "salesgetter", "server.conf", NULL);
  if (path == NULL || *path == '\0')
    path = default_path;
  g_autoptr (SrvConfig) config = srv_config_load (path, &e);
  if (config == NULL)
    return fail (NULL, e);
  if (opt_check_config) {
    printf ("OK: %s (listen %s port %u, %s)\n", path, config->listen, config->port,
            config->behind_proxy ? "behind a proxy" : "TLS");
    /* The limits in force, defaults included (0: none). */
    printf ("limits: sync %u a minute per token (burst %u); dashboard logins: %u failures per address, "
            "%u per login, in %u minutes\n", config->sync_per_minute, config->sync_burst,
            config->login_failures_address, config->login_failures_user, config->login_window_s / 60);
    return 0;
  }

  /* The command, checked before connecting. */
  const char *c1 = argc > 1 ? argv[1] : NULL, *c2 = argc > 2 ? argv[2] : NULL, *arg = argc > 3 ? argv[3] : NULL;
  enum { SERVE, USER_ADD, USER_LIST, USER_REMOVE, TOKEN_NEW, TOKEN_LIST, TOKEN_REVOKE } cmd;
  int want_args;
  if (c1 == NULL) {
    cmd = SERVE, want_args = 1;
  } else if (g_str_equal (c1, "user") && g_strcmp0 (c2, "add") == 0) {
    cmd = USER_ADD, want_args = 4;
  } else if (g_str_equal (c1, "user") && g_strcmp0 (c2, "list") == 0) {
    cmd = USER_LIST, want_args = 3;
  } else if (g_str_equal (c1, "user") && g_strcmp0 (c2, "remove") == 0) {
    cmd = USER_REMOVE, want_args = 4;
  } else if (g_str_equal (c1, "token") && g_strcmp0 (c2, "new") == 0) {
    cmd = TOKEN_NEW, want_args = 4;
  } else if (g_str_equal (c1, "token") && g_strcmp0 (c2, "list") == 0) {
    cmd = TOKEN_LIST, want_args = arg ? 4 : 3;
  } else if (g_str_equal (c1, "token") && g_strcmp0 (c2, "revoke") == 0) {
    cmd = TOKEN_REVOKE, want_args = 4;
  } else {
    g_autofree char *m = g_strdup_printf ("unknown command: %s%s%s", c1, c2 ? " " : "", c2 ? c2 : "");
    return usage_error (m);
  }
  if (argc != want_args)
    return usage_error (argc < want_args ? "missing argument" : "too many arguments");

  /* Database: migrated before anything else touches it. */
  PGconn *pg = srv_db_connect (config->database_url, &e);
  if (pg == NULL)
    return fail (NULL, e);
  if (!srv_db_migrate (pg, &e)) {
    PQfinish (pg);
    return fail (NULL, e);
  }
  int rc;
  switch (cmd) {
  case USER_ADD: rc = cmd_user_add (pg, arg); break;
  case USER_LIST: rc = cmd_user_list (pg); break;
  case USER_REMOVE: rc = cmd_user_remove (pg, arg); break;
  case TOKEN_NEW: rc = cmd_token_new (pg, arg); break;
  case TOKEN_LIST: rc = cmd_token_list (pg, arg); break;
  case TOKEN_REVOKE: rc = cmd_token_revoke (pg, arg); break;
  case SERVE:
  default:
    PQfinish (pg);
    pg = NULL;
    rc = cmd_serve (config);
  }
  if (pg)
    PQfinish (pg);
  g_free (opt_config);
  g_free (opt_role);
  g_strfreev (opt_addresses);
  g_free (opt_device);
  g_free (opt_reassign);
  return rc;
}
