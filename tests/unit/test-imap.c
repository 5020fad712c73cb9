/* test-imap.c: the IMAP account and status API (the protocol is tested against a real
 * Dovecot in tests/e2e/test-imap.py). */
#include <sg.h>

#include "test-util.h"

static void
test_url (void)
{
  struct {
    const char *url;
    const char *uri; /* NULL: refused */
  } cases[] = {
    { "imaps://imap.example.com/", "imaps://imap.example.com:993/" },
    { "imaps://imap.example.com", "imaps://imap.example.com:993/" },
    { "IMAPS://jane@imap.example.com:1993/", "imaps://jane@imap.example.com:1993/" },
    { "imap://jane%40work@imap.example.com/", "imap://jane%40work@imap.example.com:143/" },
    { "imaps://[::1]:993/", "imaps://[::1]:993/" },
    /* A password in the URL would show wherever the URL is shown. */
    { "imaps://jane:secret@imap.example.com/", NULL },
    { "https://imap.example.com/", NULL },
    { "imaps:///", NULL },
    { "imaps://imap.example.com/INBOX", NULL },
    { "not a url", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (SgImapAccount) a = sg_imap_account_new ("work", cases[i].url, &error);

    if (cases[i].uri == NULL) {
      g_assert_null (a);
      g_assert_error (error, SG_IMAP_ERROR, SG_IMAP_ERROR_URL);
      /* The error names the account; it never repeats a password. */
      g_assert_nonnull (strstr (error->message, "account work"));
      g_assert_null (strstr (error->message, "secret"));
    } else {
      g_assert_no_error (error);
      g_assert_cmpstr (sg_imap_account_get_uri (a), ==, cases[i].uri);
      g_assert_cmpstr (sg_imap_account_get_name (a), ==, "work");
    }
  }
}

static void
test_user_override (void)
{
  g_autoptr (SgImapAccount) a = sg_imap_account_new ("w", "imaps://old@h.example/", NULL);

  sg_imap_account_set_user (a, "new@corp.example");
  g_assert_cmpstr (sg_imap_account_get_uri (a), ==, "imaps://new%40corp.example@h.example:993/");
  sg_imap_account_set_password (a, "x");
  sg_imap_account_set_password (a, NULL);
  sg_imap_account_set_oauth2_token (a, "t");
  sg_imap_account_set_ca_file (a, "/nonexistent/ca.pem");
  sg_imap_account_set_folders (a, (const char *[]) { "INBOX", "Customers/*", NULL }, NULL);
  sg_imap_account_set_sent_folders (a, NULL);
  sg_imap_account_set_timeout (a, 0);
}

/* A server nobody listens on: a connection error naming the account, recorded in the store
 * as the account's last error, and nothing else stored. */
static void
test_unreachable_status (void)
{
  g_autofree char *dir = sg_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "store.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SgStore) store = sg_store_open (path, SG_STORE_OPEN_DEFAULT, &error);
  g_autoptr (SgIdentity) identity = sg_identity_new ();
  g_autoptr (SgImporter) importer = NULL;
  g_autoptr (SgImapAccount) a = sg_imap_account_new ("down", "imaps://127.0.0.1:1/", NULL);
  g_autoptr (SgTable) t = NULL;

  g_assert_no_error (error);
  t = sg_source_get_status (store, "imap", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 0);
  g_clear_pointer (&t, sg_table_free);

  importer = sg_importer_new (store, identity);
  sg_imap_account_set_timeout (a, 5);
  g_assert_false (sg_imap_account_sync (a, importer, NULL, &error));
  g_assert_error (error, SG_IMAP_ERROR, SG_IMAP_ERROR_CONNECT);
  g_assert_true (g_str_has_prefix (error->message, "account down (imaps://127.0.0.1:1/): "));
  g_assert_false (sg_store_in_transaction (store));
  g_clear_error (&error);

  t = sg_source_get_status (store, "imap", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 1);
  g_assert_cmpstr (sg_table_get_text (t, 0, 0), ==, "down");
  g_assert_cmpstr (sg_table_get_text (t, 0, 1), ==, "imaps://127.0.0.1:1/");
  g_assert_cmpstr (sg_table_get_text (t, 0, 2), ==, "failing");
  g_assert_true (sg_table_is_null (t, 0, 3));
  g_assert_null (strstr (sg_table_get_text (t, 0, 5), "account down"));
  g_assert_cmpint (sg_table_get_int (t, 0, 6), ==, 1);
  g_assert_cmpint (sg_store_count_interactions (store, NULL), ==, 0);
  g_clear_pointer (&t, sg_table_free);

  /* A failure before any sync (a password command that failed) counts too. */
  g_clear_error (&error);
  g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_FAILED, "password-command failed");
  g_assert_true (sg_imap_record_failure (store, a, error, NULL));
  t = sg_source_get_status (store, "imap", NULL);
  g_assert_cmpint (sg_table_get_int (t, 0, 6), ==, 2);
  g_assert_cmpstr (sg_table_get_text (t, 0, 5), ==, "password-command failed");

  g_clear_pointer (&importer, sg_importer_free);
  g_clear_pointer (&store, sg_store_close);
  sg_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/imap/url", test_url);
  g_test_add_func ("/imap/user-override", test_user_override);
  g_test_add_func ("/imap/unreachable-status", test_unreachable_status);
  return g_test_run ();
}
