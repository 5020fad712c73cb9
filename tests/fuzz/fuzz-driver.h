/* fuzz-driver.h: what a fuzz target gives the standalone driver (fuzz-driver.c).
 *
 * Each target defines LLVMFuzzerTestOneInput. Built with -Dfuzzing=true (clang) it is linked
 * with libFuzzer; otherwise fuzz-driver.c supplies main(), which runs the target over the
 * files and folders on the command line (folders sorted by name, recursively) and prints
 * one TAP line per argument, so that seeds and corpora run in `meson test` under ASan and
 * valgrind. A missing argument is a TAP skip: the shared corpora may be absent. */
#pragma once

#include <glib.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

typedef struct {
  void (*begin) (void);                     /* nullable: before the first input */
  void (*after_path) (int index, const char *path); /* nullable: after each argument */
} SgFuzzHooks;

/* Defined by each target (all NULL for most). */
extern const SgFuzzHooks sg_fuzz_hooks;
