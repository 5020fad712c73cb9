/* process-bench: figures for the sales-process core on a real store (a copy is used).
 *
 *   process-bench STORE [N_PROCESSES]
 *
 * Creates N processes (default 500) on the organisations in contact most recently, each with
 * its first person as decision-maker; then times automatic linking of every interaction,
 * the "open processes of this organisation / person" query the insight beside a message
 * needs (p50/p99 over every organisation and person with a process), stage moves, and role
 * derivation over every contact. */
#include "config.h"

#include <sg.h>
#include <stdio.h>
#include <stdlib.h>

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
report (const char *what, GArray *us)
{
  g_array_sort (us, cmp_double);
  printf ("%-34s n=%-6u p50 %8.1f us  p99 %8.1f us  max %8.1f us\n", what, us->len,
          g_array_index (us, double, us->len / 2), g_array_index (us, double, (guint) (us->len * 0.99)),
          g_array_index (us, double, us->len - 1));
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgStore) store = NULL;
  g_autoptr (SgTable) orgs = NULL;
  g_autoptr (GPtrArray) uuids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) domains = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) people = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) t_org = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) t_person = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) t_move = g_array_new (FALSE, FALSE, sizeof (double));
  guint n = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 500;
  guint linked = 0, suggested = 0, added = 0, removed = 0;
  gint64 t0;

  if (argc < 2) {
    fprintf (stderr, "usage: process-bench STORE [N_PROCESSES]\n");
    return 2;
  }
  store = sg_store_open (argv[1], SG_STORE_OPEN_DEFAULT, &error);
  if (store == NULL) {
    fprintf (stderr, "%s\n", error->message);
    return 1;
  }
  printf ("store: %" G_GINT64_FORMAT " interactions, %" G_GINT64_FORMAT " people, %" G_GINT64_FORMAT
          " organisations\n", sg_store_count_interactions (store, NULL), sg_store_count_people (store, NULL),
          sg_store_count_organisations (store, NULL));
  orgs = sg_query_orgs (store, NULL, &error);
  t0 = g_get_monotonic_time ();
  sg_store_begin (store, NULL);
  for (guint r = 0; r < sg_table_get_n_rows (orgs) && uuids->len < n; r++) {
    const char *domain = sg_table_get_text (orgs, r, 1);
    SgPeopleQuery pq = { .organisation = domain, .limit = 1 };
    g_autoptr (SgTable) p = sg_query_people (store, &pq, NULL);
    SgProcessNew spec = { .organisation = domain, .deliverable = "Forecast", .opened_at = 1,
                          .has_value = TRUE, .value_minor = 1000000, .currency = "EUR" };
    char *uuid;

    if (p == NULL || sg_table_get_n_rows (p) == 0)
      continue;
    uuid = sg_process_create (store, &spec, NULL, &error);
    if (uuid == NULL) {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
    sg_process_add_contact (store, uuid, sg_table_get_text (p, 0, 1), "decision-maker", NULL, NULL);
    g_ptr_array_add (uuids, uuid);
    g_ptr_array_add (domains, g_strdup (domain));
    g_ptr_array_add (people, g_strdup (sg_table_get_text (p, 0, 1)));
  }
  sg_store_commit (store, NULL);
  printf ("created %u processes with a contact in %.1f ms (one transaction)\n", uuids->len,
          (g_get_monotonic_time () - t0) / 1000.0);

  t0 = g_get_monotonic_time ();
  if (!sg_process_link_auto (store, 0, &linked, &suggested, &error)) {
    fprintf (stderr, "%s\n", error->message);
    return 1;
  }
  printf ("link --auto: %u interactions linked, %u suggestions in %.1f ms\n", linked, suggested,
          (g_get_monotonic_time () - t0) / 1000.0);

  for (guint round = 0; round < 10; round++) {
    for (guint i = 0; i < domains->len; i++) {
      SgProcessQuery q = { .organisation = domains->pdata[i], .status = "open" };
      SgProcessQuery qp = { .person = people->pdata[i], .status = "open" };
      gint64 a = g_get_monotonic_time ();
      g_autoptr (SgTable) t = sg_process_query (store, &q, NULL);
      gint64 b = g_get_monotonic_time ();
      g_autoptr (SgTable) tp = sg_process_query (store, &qp, NULL);
      gint64 c = g_get_monotonic_time ();
      double d1 = (double) (b - a), d2 = (double) (c - b);

      if (t == NULL || sg_table_get_n_rows (t) == 0 || tp == NULL)
        return 1;
      g_array_append_val (t_org, d1);
      g_array_append_val (t_person, d2);
    }
  }
  report ("open processes of an organisation", t_org);
  report ("open processes of a person", t_person);
  for (guint i = 0; i < uuids->len; i++) {
    gint64 a = g_get_monotonic_time ();
    double d;

    if (!sg_process_move (store, uuids->pdata[i], "qualified", NULL, NULL, NULL))
      return 1;
    d = (double) (g_get_monotonic_time () - a);
    g_array_append_val (t_move, d);
  }
  report ("stage move (own transaction)", t_move);
  t0 = g_get_monotonic_time ();
  if (!sg_roles_derive (store, &added, &removed, &error)) {
    fprintf (stderr, "%s\n", error->message);
    return 1;
  }
  printf ("role derive: %u added, %u removed in %.1f ms\n", added, removed, (g_get_monotonic_time () - t0) / 1000.0);
  return 0;
}
