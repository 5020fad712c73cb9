/* fuzz-message.c: fuzz target for mail extraction (GMime parse + identity rules).
 *
 * Built with -Dfuzzing (clang -fsanitize=fuzzer) it is a libFuzzer target; otherwise the
 * standalone driver below runs it over files and folders given on the command line, so
 * that its corpus runs in `meson test` (under ASan/UBSan in CI). */
#include "config.h"

#include <sg.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static SgIdentity *identity;
  g_autoptr (SgMessage) m = NULL;

  if (identity == NULL) {
    identity = sg_identity_new ();
    sg_identity_add_address (identity, "me@ourco.example", NULL);
    sg_identity_add_internal_domain (identity, "ourco.example", NULL);
  }
  m = sg_message_parse ((const char *) data, size, identity, 1, NULL);
  if (m != NULL) {
    /* Touch everything a caller would. */
    g_assert_nonnull (sg_message_get_id (m));
    g_assert_nonnull (sg_message_get_thread_root (m));
    g_assert_true (g_utf8_validate (sg_message_get_subject (m) ? sg_message_get_subject (m) : "", -1, NULL));
    for (guint i = 0; i < sg_message_get_n_participants (m); i++) {
      const SgParticipant *p = sg_message_get_participant (m, i);

      g_assert_nonnull (strchr (p->address, '@'));
      g_assert_true (g_utf8_validate (p->address, -1, NULL));
      g_assert_true (p->name == NULL || g_utf8_validate (p->name, -1, NULL));
    }
    for (const char *const *r = sg_message_get_references (m); *r; r++)
      g_assert_true (**r != '\0');
  }
  return 0;
}

#ifndef SG_LIBFUZZER
static guint
run_path (const char *path)
{
  guint n = 0;

  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name (d)) != NULL) {
      g_autofree char *child = g_build_filename (path, name, NULL);

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
  guint total = 0, run = 0;

  printf ("1..%d\n", argc - 1);
  for (int i = 1; i < argc; i++) {
    guint n;

    if (!g_file_test (argv[i], G_FILE_TEST_EXISTS)) {
      printf ("ok %d - %s # SKIP not present\n", i, argv[i]);
      continue;
    }
    n = run_path (argv[i]);
    total += n;
    run++;
    printf ("ok %d - %u inputs from %s without a crash\n", i, n, argv[i]);
  }
  fprintf (stderr, "%u inputs\n", total);
  return 0;
}
#endif
