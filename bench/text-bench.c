/* text-bench.c: the parse step of the import alone, for profiling the text reading (issue 9)
 * under callgrind: every file of a Maildir is read and given to sg_message_parse(), which reads
 * the text, the signature facts, the vCards and the topics (as the import's parse threads do),
 * and nothing is stored.
 *
 *   text-bench MAILDIR [LIMIT [dump]]
 *   valgrind --tool=callgrind build/bench/text-bench /tmp/sg-bench/maildir-10000-s1-HASH 2000
 *
 * Prints the messages parsed, the facts and topics found, and the seconds; with "dump", also
 * every message's text, signature, facts and topics, to compare two builds (a change made for
 * speed must not change a single result). */
#include "config.h"

#include "sg-identity.h"
#include "sg-message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static guint n_messages, n_facts, n_topics, limit;
static SgIdentity *identity;
static gboolean dump;

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
walk (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (d && (name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  /* The same order on every run. */
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len && (limit == 0 || n_messages < limit); i++) {
    g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);
    g_autofree char *data = NULL;
    gsize len = 0;

    if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
      if (strcmp (names->pdata[i], "tmp") != 0)
        walk (path);
      continue;
    }
    if (!g_file_get_contents (path, &data, &len, NULL) || len == 0)
      continue;
    {
      SgMessage *m = sg_message_parse (data, len, identity, 0, NULL);

      if (m != NULL) {
        n_messages++;
        n_facts += sg_message_get_n_facts (m);
        n_topics += sg_message_get_n_topics (m);
        if (dump) {
          const SgText *t = sg_message_get_text (m);

          printf ("== %s\n", sg_message_get_id (m));
          printf ("source %s\nbody %s\nsignature %s\nforwarded %s\n",
                  sg_text_source_to_string (sg_text_get_source (t)), sg_text_get_body (t),
                  sg_text_get_signature (t) ? sg_text_get_signature (t) : "(none)",
                  sg_text_get_forwarded (t) ? sg_text_get_forwarded (t) : "(none)");
          for (guint k = 0; k < sg_message_get_n_facts (m); k++) {
            const SgFact *f = sg_message_get_fact (m, k);

            printf ("fact %s|%s|%s|%.3f|%s\n", sg_fact_kind_to_string (f->kind), f->detail ? f->detail : "",
                    f->value, f->confidence, sg_fact_origin_to_string (f->origin));
          }
          for (guint k = 0; k < sg_message_get_n_topics (m); k++) {
            const SgTopic *tp = sg_message_get_topic (m, k);

            printf ("topic %s|%s|%s|%u\n", tp->stem, tp->phrase, tp->lang, tp->count);
          }
          for (const char *const *w = sg_text_get_warnings (t); *w; w++)
            printf ("warning %s\n", *w);
        }
        sg_message_free (m);
      }
    }
  }
}

int
main (int argc, char **argv)
{
  gint64 start;

  if (argc < 2 || argc > 4) {
    fprintf (stderr, "usage: text-bench MAILDIR [LIMIT [dump]]\n");
    return 2;
  }
  /* The generated user (tests/gen/gen-maildir.py), as in the Maildir's config. */
  identity = sg_identity_new ();
  sg_identity_set_name (identity, "Julia Hoffmann");
  sg_identity_add_address (identity, "julia.hoffmann@ourco.example", NULL);
  sg_identity_add_address (identity, "j.hoffmann@ourco.example", NULL);
  sg_identity_add_address (identity, "julia@eu.ourco.example", NULL);
  sg_identity_add_internal_domain (identity, "ourco.example", NULL);
  sg_identity_add_internal_domain (identity, "eu.ourco.example", NULL);
  limit = argc >= 3 ? (guint) strtoul (argv[2], NULL, 10) : 0;
  dump = argc == 4 && strcmp (argv[3], "dump") == 0;
  start = g_get_monotonic_time ();
  walk (argv[1]);
  printf ("%u messages, %u facts, %u topics, %.2f s\n", n_messages, n_facts, n_topics,
          (g_get_monotonic_time () - start) / 1e6);
  sg_identity_unref (identity);
  return 0;
}
