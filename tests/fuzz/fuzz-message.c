/* fuzz-message.c: fuzz target for mail extraction (GMime parse + identity rules).
 *
 * Built with -Dfuzzing=true (clang) it is a libFuzzer target; otherwise fuzz-driver.c runs
 * it over the files and folders given on the command line, so that its corpus runs in
 * `meson test` (under ASan/UBSan and valgrind in CI). */
#include "config.h"

#include "fuzz-driver.h"

#include <sg.h>
#include <stdio.h>
#include <string.h>


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
const SgFuzzHooks sg_fuzz_hooks = { NULL, NULL };
#endif
