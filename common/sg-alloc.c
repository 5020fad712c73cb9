/* sg-alloc.c: the allocator of the salesgetter command and the daemon.
 *
 * Compiled into each executable (not into the library: a mail client's plugin must not bring
 * an allocator into the client's process). With jemalloc linked, every malloc of the process,
 * GLib's, GMime's and SQLite's included, is jemalloc's: an import's heap of short-lived MIME
 * trees and strings no longer slows glibc's malloc down as it grows (bench/README.md). */
#include "config.h"

#include <glib.h>
#include <stddef.h>

#include "sg-alloc.h"

#ifdef HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

const char *
sg_alloc_describe (void)
{
#ifdef HAVE_JEMALLOC
  static char buf[96];
  const char *version = NULL;
  size_t len = sizeof version;

  if (buf[0] == '\0') {
    if (mallctl ("version", &version, &len, NULL, 0) == 0 && version != NULL)
      g_snprintf (buf, sizeof buf, "jemalloc %s", version);
    else
      g_snprintf (buf, sizeof buf, "jemalloc");
  }
  return buf;
#else
  return "glibc malloc";
#endif
}
