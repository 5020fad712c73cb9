/* evolution-seed: makes Evolution's built-in local mail store ("On This Computer") know the
 * messages a test put into its Inbox (a Maildir).
 *
 * Evolution opens that store with "need-summary-check" off: it never looks for files that
 * appear behind its back, and shows only what its folder summary (folders.db) lists. This
 * helper opens the same Maildir with Camel (evolution-data-server's mail library), with the
 * check on, refreshes the Inbox and saves its summary, as Evolution would have after
 * receiving the messages itself. Run it before Evolution starts.
 *
 *   evolution-seed LOCAL-STORE-DIR SCRATCH-DIR
 *
 * LOCAL-STORE-DIR is $XDG_DATA_HOME/evolution/mail/local (its name must be "local").
 *
 * Prints the number of messages in the Inbox. */
#include <camel/camel.h>
#include <stdio.h>

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  if (argc != 3) {
    fprintf (stderr, "usage: %s LOCAL-STORE-DIR SCRATCH-DIR\n", argv[0]);
    return 2;
  }
  camel_init (argv[2], FALSE);
  camel_provider_init ();
  /* As Evolution does: the store "local" of a session whose data folder is the store's
   * parent, so that the store opens its summary database (folders.db) where Evolution will
   * look for it, before the path setting below is read. */
  g_autofree char *parent = g_path_get_dirname (argv[1]);
  CamelSession *session
      = g_object_new (CAMEL_TYPE_SESSION, "user-data-dir", parent, "user-cache-dir", parent, NULL);
  CamelService *store = camel_session_add_service (session, "local", "maildir", CAMEL_PROVIDER_STORE, &error);
  if (store == NULL) {
    fprintf (stderr, "evolution-seed: the maildir store: %s\n", error->message);
    return 1;
  }
  CamelSettings *settings = camel_service_ref_settings (store);
  camel_local_settings_set_path (CAMEL_LOCAL_SETTINGS (settings), argv[1]);
  g_object_unref (settings);
  CamelFolder *inbox = camel_store_get_inbox_folder_sync (CAMEL_STORE (store), NULL, &error);
  if (inbox == NULL || !camel_folder_refresh_info_sync (inbox, NULL, &error)
      || !camel_folder_synchronize_sync (inbox, FALSE, NULL, &error)) {
    fprintf (stderr, "evolution-seed: the Inbox in %s: %s\n", argv[1], error->message);
    return 1;
  }
  printf ("%u\n", camel_folder_get_message_count (inbox));
  g_object_unref (inbox);
  g_object_unref (store);
  g_object_unref (session);
  camel_shutdown ();
  return 0;
}
