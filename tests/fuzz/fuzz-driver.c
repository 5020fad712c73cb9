/* fuzz-driver.c: the standalone driver of the fuzz targets (see fuzz-driver.h). */
#include "config.h"

#include "fuzz-driver.h"

#include <stdio.h>
#include <string.h>

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static guint
run_path (const char *path)
{
  guint n = 0;

  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
    g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
    const char *name;

    while (d && (name = g_dir_read_name (d)) != NULL)
      g_ptr_array_add (names, g_strdup (name));
    g_ptr_array_sort (names, compare_names);
    for (guint i = 0; i < names->len; i++) {
      g_autofree char *child = g_build_filename (path, (char *) names->pdata[i], NULL);

      n += run_path (child);
    }
  } else if (g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    g_autofree char *data = NULL;
    gsize len = 0;

    if (g_file_get_contents (path, &data, &len, NULL)) {
      LLVMFuzzerTestOneInput ((const guint8 *) data, len);
      n++;
    }
  }
  return n;
}

int
main (int argc, char **argv)
{
  guint total = 0;

  if (sg_fuzz_hooks.begin)
    sg_fuzz_hooks.begin ();
  printf ("1..%d\n", argc - 1);
  for (int i = 1; i < argc; i++) {
    guint n;

    if (!g_file_test (argv[i], G_FILE_TEST_EXISTS)) {
      printf ("ok %d - %s # SKIP not present\n", i, argv[i]);
      continue;
    }
    n = run_path (argv[i]);
    total += n;
    if (sg_fuzz_hooks.after_path)
      sg_fuzz_hooks.after_path (i, argv[i]);
    printf ("ok %d - %u inputs from %s without a crash\n", i, n, argv[i]);
  }
  fprintf (stderr, "%u inputs\n", total);
  return 0;
}
