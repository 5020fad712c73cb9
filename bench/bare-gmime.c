/* bare-gmime.c: the floor for import speed: a bare GMime 3 parse of every file of a Maildir,
 * walking every MIME part, storing nothing. Prints messages, seconds and messages/s. */
#include <fcntl.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <unistd.h>

static guint parts;

static void
count_part (GMimeObject *parent, GMimeObject *part, gpointer user_data)
{
  parts++;
}

static guint
walk (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (d && (name = g_dir_read_name (d)) != NULL) {
    char *path = g_build_filename (dir, name, NULL);

    if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
      n += walk (path);
    } else {
      int fd = open (path, O_RDONLY);

      if (fd >= 0) {
        GMimeStream *stream = g_mime_stream_fs_new (fd);
        GMimeParser *parser = g_mime_parser_new_with_stream (stream);
        GMimeMessage *msg = g_mime_parser_construct_message (parser, NULL);

        if (msg) {
          g_mime_message_foreach (msg, count_part, NULL);
          g_object_unref (msg);
          n++;
        }
        g_object_unref (parser);
        g_object_unref (stream);
      }
    }
    g_free (path);
  }
  if (d)
    g_dir_close (d);
  return n;
}

int
main (int argc, char **argv)
{
  gint64 start;
  guint n;
  double secs;

  if (argc != 2) {
    fprintf (stderr, "usage: bare-gmime MAILDIR\n");
    return 2;
  }
  g_mime_init ();
  start = g_get_monotonic_time ();
  n = walk (argv[1]);
  secs = (g_get_monotonic_time () - start) / 1e6;
  printf ("%u messages, %u parts, %.2f s, %.0f msgs/s\n", n, parts, secs, n / secs);
  g_mime_shutdown ();
  return 0;
}
