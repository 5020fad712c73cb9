/* dashboard-driver.c: one dashboard request, for tests/e2e/test-dashboard.py, until the
 * dashboard is wired into salesgetter-server's HTTP handler.
 *
 *   dashboard-driver CONNINFO METHOD PATH [QUERY]   (Cookie from $SG_COOKIE, body from stdin for POST)
 *
 * Prints "STATUS\nName: value\n...\n\n" then the body. Exit 0 when the dashboard answered,
 * 3 when the path is not the dashboard's, 1 when the database cannot be reached. */
#include "config.h"

#include "dashboard.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  SgDashboardRequest req = { 0 };
  SgDashboardResponse resp = { 0 };
  g_autoptr (GString) body = g_string_new (NULL);
  PGconn *db;
  const char *data;
  gsize len;

  if (argc < 4 || argc > 5) {
    fprintf (stderr, "usage: dashboard-driver CONNINFO METHOD PATH [QUERY]\n");
    return 2;
  }
  db = PQconnectdb (argv[1]);
  if (PQstatus (db) != CONNECTION_OK) {
    fprintf (stderr, "dashboard-driver: %s", PQerrorMessage (db));
    PQfinish (db);
    return 1;
  }
  req.method = argv[2];
  req.path = argv[3];
  req.query = argc == 5 ? argv[4] : NULL;
  req.cookie = g_getenv ("SG_COOKIE");
  req.https = g_getenv ("SG_HTTPS") != NULL;
  if (strcmp (req.method, "POST") == 0) {
    char buf[4096];
    size_t n;

    while ((n = fread (buf, 1, sizeof buf, stdin)) > 0)
      g_string_append_len (body, buf, (gssize) n);
    req.body = body->str;
    req.body_len = body->len;
  }
  if (!sg_dashboard_handle (&req, db, &resp)) {
    PQfinish (db);
    return 3;
  }
  printf ("%u\n", resp.status);
  printf ("Content-Type: %s\n", resp.content_type);
  for (guint i = 0; i + 1 < resp.headers->len; i += 2)
    printf ("%s: %s\n", (char *) resp.headers->pdata[i], (char *) resp.headers->pdata[i + 1]);
  printf ("\n");
  data = g_bytes_get_data (resp.body, &len);
  fwrite (data, 1, len, stdout);
  sg_dashboard_response_clear (&resp);
  PQfinish (db);
  return fflush (stdout) == 0 ? 0 : 1;
}
