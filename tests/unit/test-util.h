/* test-util.h: small fixtures shared by the unit tests (temp folders, files).
 *
 * Header-only so that each test stays one executable built from one .c file.
 */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

/* Removes @path and everything below it. Symlinks are removed, never followed. */
static inline void
sg_test_rm_rf (const char *path)
{
  if (path == NULL)
    return;
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK)) {
    g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
      g_autofree char *child = g_build_filename (path, name, NULL);

      sg_test_rm_rf (child);
    }
    g_rmdir (path);
  } else {
    g_unlink (path);
  }
}

/* Returns: (transfer full): a new empty folder under the system temp folder. */
static inline char *
sg_test_make_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("sg-unit-XXXXXX", &error);

  g_assert_no_error (error);
  g_assert_nonnull (dir);
  return dir;
}

/* Writes @len bytes (-1: a string) to @dir/@name, making the folders on the way.
 * Returns: (transfer full): the file's path. */
static inline char *
sg_test_write_file (const char *dir, const char *name, const char *data, gssize len)
{
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (parent, 0700), ==, 0);
  g_file_set_contents (path, data, len, &error);
  g_assert_no_error (error);
  return path;
}

/* Makes the cur/ new/ tmp/ folders of a Maildir folder at @dir. */
static inline void
sg_test_make_maildir (const char *dir)
{
  static const char *const subs[] = { "cur", "new", "tmp" };

  for (guint i = 0; i < G_N_ELEMENTS (subs); i++) {
    g_autofree char *sub = g_build_filename (dir, subs[i], NULL);

    g_assert_cmpint (g_mkdir_with_parents (sub, 0700), ==, 0);
  }
}

/* TRUE when @haystack contains @needle (for error messages naming a path). */
static inline gboolean
sg_test_contains (const char *haystack, const char *needle)
{
  return haystack != NULL && needle != NULL && strstr (haystack, needle) != NULL;
}

/* Fails the current test case with a message, and lets it go on (every failure is logged,
 * not only the last one). */
#define sg_test_failf(...)                                                                                   \
  G_STMT_START                                                                                               \
  {                                                                                                          \
    g_autofree char *sg_test_msg_ = g_strdup_printf (__VA_ARGS__);                                           \
    g_test_message ("FAIL: %s", sg_test_msg_);                                                               \
    g_test_fail_printf ("%s", sg_test_msg_);                                                                 \
  }                                                                                                          \
  G_STMT_END

/* g_assert_no_error() that also clears @err, so that a failed check (non-fatal in these
 * tests) does not make the next call set an error over it, which GLib treats as fatal. */
#define sg_assert_no_error(err)                                                                              \
  G_STMT_START                                                                                               \
  {                                                                                                          \
    g_assert_no_error (err);                                                                                 \
    g_clear_error (&(err));                                                                                  \
  }                                                                                                          \
  G_STMT_END
