/* panel-bench: from "a message is selected" to "the panel is shown", on a big store.
 *
 *   panel-bench STORE [N]
 *
 * STORE is a store made by insight-bench (1M interactions by default; run insight-bench
 * STORE first). For N (default 1000) random 3-address messages (two known people, one
 * stranger, as insight-bench), it times:
 *   - the worker's work, sg_panel_lookup_sync(): insight call + panel model (similar
 *     organisations off, the plugins' default for the filter; and on, cached per
 *     organisation after the first look, with the first look timed apart);
 *   - the whole asynchronous path a plugin takes: sg_panel_lookup_async() from the UI
 *     thread to its callback in the main loop (thread hop included);
 *   - with a display (Xvfb) and GTK: building the widgets of a panel and their first size
 *     allocation (sg_panel_view_show() in an offscreen window).
 * Prints p50/p99/max of wall time, and the CPU time of the calling thread for the sync path. */
#include "config.h"

#include <sg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <glib/gstdio.h>

#include "sg-panel.h"
#ifdef SG_PANEL_BENCH_GTK
#include "sg-panel-gtk.h"
#endif

static gint64
cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
report (const char *what, GArray *us)
{
  if (us->len == 0)
    return;
  g_array_sort (us, cmp_double);
  printf ("%-52s n=%-5u p50 %8.1f us  p99 %8.1f us  max %8.1f us\n", what, us->len,
          g_array_index (us, double, us->len / 2), g_array_index (us, double, (guint) (us->len * 0.99)),
          g_array_index (us, double, us->len - 1));
}

typedef struct {
  GMainLoop *loop;
  SgPanel *panel;
} Wait;

static void
done (GObject *o, GAsyncResult *r, gpointer data)
{
  Wait *w = data;

  w->panel = sg_panel_lookup_finish (NULL, r, NULL);
  g_main_loop_quit (w->loop);
}

int
main (int argc, char **argv)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (11);
  g_autoptr (GArray) t_sync = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) c_sync = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) t_sim_first = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) t_sim = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) t_async = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) t_render = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr (SgPanelSource) plain = NULL;
  g_autoptr (SgPanelSource) similar = NULL;
  g_autofree char *dir = NULL, *conf = NULL, *text = NULL;
  g_autoptr (GHashTable) seen_org = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  sqlite3 *db = NULL;
  gint64 n_people = 0, n_inter = 0;
  int n = argc > 2 ? (int) g_ascii_strtoll (argv[2], NULL, 10) : 1000;

  if (argc < 2 || n < 10 || !g_file_test (argv[1], G_FILE_TEST_EXISTS)) {
    fprintf (stderr, "usage: panel-bench STORE [N]   (make STORE with insight-bench first)\n");
    return 2;
  }
  if (sqlite3_open_v2 (argv[1], &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2 (db, "SELECT (SELECT count(*) FROM people), (SELECT count(*) FROM interactions)", -1,
                            &st, NULL) == SQLITE_OK && sqlite3_step (st) == SQLITE_ROW) {
      n_people = sqlite3_column_int64 (st, 0) - 1;
      n_inter = sqlite3_column_int64 (st, 1);
    }
    sqlite3_finalize (st);
  }
  sqlite3_close (db);
  printf ("store: %" G_GINT64_FORMAT " interactions, %" G_GINT64_FORMAT " people\n", n_inter, n_people);
  if (n_people < 10)
    return 1;
  dir = g_dir_make_tmp ("sg-panel-bench-XXXXXX", NULL);
  conf = g_build_filename (dir, "salesgetter.conf", NULL);
  text = g_strdup_printf ("[identity]\naddresses=me@ourco.example;\ninternal-domains=ourco.example;\n"
                          "[store]\npath=%s\n", argv[1]);
  g_file_set_contents (conf, text, -1, NULL);
  plain = sg_panel_source_new (conf, NULL);
  similar = sg_panel_source_new (conf, NULL);
  sg_panel_source_set_similar (plain, FALSE);
  for (int i = 0; i < n; i++) {
    gint32 p1 = g_rand_int_range (r, 0, (gint32) n_people), p2 = g_rand_int_range (r, 0, (gint32) n_people);
    gint64 n_orgs = MAX (1, n_people / 5);
    char **who = g_new0 (char *, 5);

    who[0] = g_strdup ("Me <me@ourco.example>");
    who[1] = g_strdup_printf ("Person %d <p%d@org%" G_GINT64_FORMAT ".example>", p1, p1, p1 % n_orgs);
    who[2] = g_strdup_printf ("p%d@org%" G_GINT64_FORMAT ".example", p2, p2 % n_orgs);
    who[3] = g_strdup_printf ("stranger%d@org%" G_GINT64_FORMAT ".example", i, p1 % n_orgs);
    g_ptr_array_add (messages, who);
  }
  /* Warm-up: the store's pages and statement caches, as in a client that has run a while. */
  for (guint i = 0; i < 20; i++) {
    g_autoptr (SgPanel) p = sg_panel_lookup_sync (plain, (const char *const *) messages->pdata[i], "x@y", FALSE,
                                                  NULL, NULL);
  }
  for (guint i = 0; i < messages->len; i++) {
    const char *const *who = messages->pdata[i];
    gint64 t0 = g_get_monotonic_time (), c0 = cpu_us ();
    g_autoptr (SgPanel) p = sg_panel_lookup_sync (plain, who, "x@y", FALSE, NULL, NULL);
    double us = (double) (g_get_monotonic_time () - t0), cus = (double) (cpu_us () - c0);

    if (p == NULL || sg_panel_get_status (p) != NULL || sg_panel_get_n_entries (p) < 2) {
      fprintf (stderr, "unexpected panel for %s: %s\n", who[1], p ? sg_panel_get_status (p) : "none");
      return 1;
    }
    g_array_append_val (t_sync, us);
    g_array_append_val (c_sync, cus);
  }
  for (guint i = 0; i < messages->len && i < 300; i++) {
    const char *const *who = messages->pdata[i];
    const char *at = strchr (who[2], '@') + 1;
    gboolean first = !g_hash_table_contains (seen_org, at) || !g_hash_table_contains (seen_org, strchr (who[1], '@') + 1);
    gint64 t0 = g_get_monotonic_time ();
    g_autoptr (SgPanel) p = sg_panel_lookup_sync (similar, who, "x@y", FALSE, NULL, NULL);
    double us = (double) (g_get_monotonic_time () - t0);

    g_array_append_val (first ? t_sim_first : t_sim, us);
    g_hash_table_add (seen_org, g_strdup (at));
    g_hash_table_add (seen_org, g_strndup (strchr (who[1], '@') + 1, strlen (strchr (who[1], '@') + 1) - 1));
  }
  {
    Wait w = { .loop = g_main_loop_new (NULL, FALSE) };

    for (guint i = 0; i < messages->len; i++) {
      gint64 t0 = g_get_monotonic_time ();
      double us;

      sg_panel_lookup_async (plain, (const char *const *) messages->pdata[i], "x@y", FALSE, NULL, done, &w);
      g_main_loop_run (w.loop);
      us = (double) (g_get_monotonic_time () - t0);
      g_array_append_val (t_async, us);
#ifdef SG_PANEL_BENCH_GTK
      {
        static GtkWidget *win, *view;
        static gboolean gtk_ok, tried;

        if (!tried) {
          tried = TRUE;
          if ((gtk_ok = gtk_init_check (NULL, NULL))) {
            win = gtk_offscreen_window_new ();
            view = sg_panel_view_new (plain, "bench");
            gtk_container_add (GTK_CONTAINER (win), view);
            gtk_widget_show_all (win);
          }
        }
        if (gtk_ok && w.panel != NULL) {
          gint64 r0 = g_get_monotonic_time ();
          double rus;

          sg_panel_view_show (view, w.panel);
          while (gtk_events_pending ())
            gtk_main_iteration ();
          rus = (double) (g_get_monotonic_time () - r0);
          g_array_append_val (t_render, rus);
        }
      }
#endif
      g_clear_pointer (&w.panel, sg_panel_unref);
    }
    g_main_loop_unref (w.loop);
  }
  report ("model (insight + panel), wall", t_sync);
  report ("model (insight + panel), CPU", c_sync);
  report ("model with similar orgs, first look at an org", t_sim_first);
  report ("model with similar orgs, cached", t_sim);
  report ("async: UI call to callback, wall", t_async);
  report ("GTK: widgets built and allocated, wall", t_render);
  if (t_render->len == 0)
    printf ("(no GTK figures: build with GTK and run under a display, e.g. xvfb-run)\n");
  g_unlink (conf);
  g_rmdir (dir);
  return 0;
}
