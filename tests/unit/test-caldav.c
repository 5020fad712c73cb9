/* test-caldav.c: the WebDAV answers CalDAV sync reads (core/sg-dav-xml.c, compiled into
 * this test since its functions are internal), on real-shaped multistatus documents:
 * Radicale's own answers (captured from Radicale 3.1), and the shapes of other servers
 * (prefixed DAV: namespace, a 404 propstat, calendar-data with escaped text). Also the
 * account URL rules. The protocol is tested against a real Radicale in
 * tests/e2e/test-caldav.py. */
#include <sg.h>

#include "sg-caldav-private.h"
#include "test-util.h"

static SgDavMultistatus *
parse (const char *doc)
{
  g_autoptr (GError) error = NULL;
  SgDavMultistatus *ms = _sg_dav_parse_multistatus (doc, strlen (doc), &error);

  g_assert_no_error (error);
  g_assert_nonnull (ms);
  return ms;
}

static const SgDavResponse *
nth (const SgDavMultistatus *ms, guint i)
{
  g_assert_cmpuint (ms->responses->len, >, i);
  return ms->responses->pdata[i];
}

/* Radicale 3.1, PROPFIND Depth 1 on a calendar home: the principal collection (its
 * properties in a 404 propstat) and a calendar. */
static const char radicale_home[] =
  "<?xml version='1.0' encoding='utf-8'?>\n"
  "<multistatus xmlns=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\" xmlns:CS=\"http://calendarserver.org/ns/\">"
  "<response><href>/jane/</href><propstat><prop><resourcetype><principal /><collection /></resourcetype></prop>"
  "<status>HTTP/1.1 200 OK</status></propstat><propstat><prop><displayname /><C:supported-calendar-component-set />"
  "<CS:getctag /><sync-token /></prop><status>HTTP/1.1 404 Not Found</status></propstat></response>"
  "<response><href>/jane/work/</href><propstat><prop><resourcetype><C:calendar /><collection /></resourcetype>"
  "<displayname>Work</displayname><C:supported-calendar-component-set><C:comp name=\"VTODO\" />"
  "<C:comp name=\"VEVENT\" /><C:comp name=\"VJOURNAL\" /></C:supported-calendar-component-set>"
  "<CS:getctag>\"b89f40904aae0ffe\"</CS:getctag>"
  "<sync-token>http://radicale.org/ns/sync/47576a4fecfebe11</sync-token></prop>"
  "<status>HTTP/1.1 200 OK</status></propstat></response>"
  "<response><href>/jane/tasks/</href><propstat><prop><resourcetype><C:calendar /><collection /></resourcetype>"
  "<displayname>Tasks</displayname><C:supported-calendar-component-set><C:comp name=\"VTODO\" />"
  "</C:supported-calendar-component-set></prop><status>HTTP/1.1 200 OK</status></propstat></response>"
  "</multistatus>";

static void
test_home_listing (void)
{
  g_autoptr (SgDavMultistatus) ms = parse (radicale_home);
  const SgDavResponse *r;

  g_assert_cmpuint (ms->responses->len, ==, 3);
  r = nth (ms, 0);
  g_assert_cmpstr (r->href, ==, "/jane/");
  g_assert_true (r->collection);
  g_assert_false (r->calendar);
  /* What a 404 propstat names, the resource does not have. */
  g_assert_false (r->has_components);
  g_assert_null (r->ctag);
  g_assert_null (r->sync_token);
  g_assert_null (r->displayname);

  r = nth (ms, 1);
  g_assert_cmpstr (r->href, ==, "/jane/work/");
  g_assert_true (r->calendar);
  g_assert_true (r->has_components);
  g_assert_true (r->vevent);
  g_assert_cmpstr (r->displayname, ==, "Work");
  g_assert_cmpstr (r->ctag, ==, "\"b89f40904aae0ffe\"");
  g_assert_cmpstr (r->sync_token, ==, "http://radicale.org/ns/sync/47576a4fecfebe11");

  r = nth (ms, 2);
  g_assert_true (r->calendar);
  g_assert_true (r->has_components);
  g_assert_false (r->vevent);
}

/* Discovery answers in the shape of other servers: the DAV: namespace prefixed, white space
 * around hrefs, several hrefs in calendar-home-set (the first is taken). */
static void
test_principal (void)
{
  static const char doc[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<d:multistatus xmlns:d=\"DAV:\" xmlns:cal=\"urn:ietf:params:xml:ns:caldav\">\n"
    "  <d:response>\n    <d:href>/remote.php/dav/</d:href>\n    <d:propstat>\n      <d:prop>\n"
    "        <d:current-user-principal>\n          <d:href>\n  /remote.php/dav/principals/users/jane/\n"
    "          </d:href>\n        </d:current-user-principal>\n"
    "        <cal:calendar-home-set><d:href>/remote.php/dav/calendars/jane/</d:href>"
    "<d:href>/other/</d:href></cal:calendar-home-set>\n"
    "        <d:resourcetype><d:collection/></d:resourcetype>\n"
    "      </d:prop>\n      <d:status>HTTP/1.1 200 OK</d:status>\n    </d:propstat>\n  </d:response>\n"
    "</d:multistatus>\n";
  g_autoptr (SgDavMultistatus) ms = parse (doc);
  const SgDavResponse *r = nth (ms, 0);

  g_assert_cmpstr (r->principal, ==, "/remote.php/dav/principals/users/jane/");
  g_assert_cmpstr (r->home, ==, "/remote.php/dav/calendars/jane/");
  g_assert_true (r->collection);
  g_assert_false (r->calendar);
}

/* Radicale's answer to sync-collection: the new token first, removed members with a
 * response-level 404, changed ones with their ETag. */
static void
test_sync_collection (void)
{
  static const char doc[] =
    "<?xml version='1.0' encoding='utf-8'?>\n"
    "<multistatus xmlns=\"DAV:\"><sync-token>http://radicale.org/ns/sync/47576a4f</sync-token>"
    "<response><href>/jane/work/e1.ics</href><status>HTTP/1.1 404 Not Found</status></response>"
    "<response><href>/jane/work/e3.ics</href><status>HTTP/1.1 404 Not Found</status></response>"
    "<response><href>/jane/work/e2.ics</href><propstat><prop><getetag>\"729ea550\"</getetag></prop>"
    "<status>HTTP/1.1 200 OK</status></propstat></response></multistatus>";
  g_autoptr (SgDavMultistatus) ms = parse (doc);

  g_assert_cmpstr (ms->sync_token, ==, "http://radicale.org/ns/sync/47576a4f");
  g_assert_cmpuint (ms->responses->len, ==, 3);
  g_assert_cmpint (nth (ms, 0)->status, ==, 404);
  g_assert_null (nth (ms, 0)->etag);
  g_assert_cmpint (nth (ms, 1)->status, ==, 404);
  g_assert_cmpint (nth (ms, 2)->status, ==, 0);
  g_assert_cmpstr (nth (ms, 2)->etag, ==, "\"729ea550\"");
}

/* calendar-multiget: the iCalendar text comes back exactly, entities and CDATA decoded,
 * line ends kept; a member the server does not have is a 404 without data. */
static void
test_multiget (void)
{
  static const char doc[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<D:multistatus xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">"
    "<D:response><D:href>/cal/a.ics</D:href><D:propstat><D:prop><D:getetag>\"1\"</D:getetag>"
    "<C:calendar-data>BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:Q&amp;A &lt;Acme&gt;\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n</C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status>"
    "</D:propstat></D:response>"
    "<D:response><D:href>/cal/b.ics</D:href><D:propstat><D:prop><D:getetag>\"2\"</D:getetag>"
    "<C:calendar-data><![CDATA[BEGIN:VCALENDAR\nSUMMARY:x < y & z\nEND:VCALENDAR\n]]></C:calendar-data>"
    "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"
    "<D:response><D:href>/cal/gone.ics</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>"
    "</D:multistatus>";
  g_autoptr (SgDavMultistatus) ms = parse (doc);

  g_assert_cmpuint (ms->responses->len, ==, 3);
  g_assert_cmpstr (nth (ms, 0)->calendar_data, ==,
                   "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nSUMMARY:Q&A <Acme>\nEND:VEVENT\nEND:VCALENDAR\n");
  g_assert_cmpstr (nth (ms, 1)->calendar_data, ==, "BEGIN:VCALENDAR\nSUMMARY:x < y & z\nEND:VCALENDAR\n");
  g_assert_null (nth (ms, 2)->calendar_data);
  g_assert_cmpint (nth (ms, 2)->status, ==, 404);
}

/* Elements of the right name in another namespace are not DAV's; a response without href
 * is dropped; unknown elements are ignored. */
static void
test_namespaces (void)
{
  static const char doc[] =
    "<?xml version=\"1.0\"?><multistatus xmlns=\"DAV:\" xmlns:x=\"urn:example\">"
    "<response><propstat><prop><getetag>\"orphan\"</getetag></prop><status>HTTP/1.1 200 OK</status>"
    "</propstat></response>"
    "<response><href>/c/</href><x:ignored><getetag>no</getetag></x:ignored><propstat><prop>"
    "<x:getetag>\"wrong ns\"</x:getetag><resourcetype><collection/><x:calendar/></resourcetype></prop>"
    "<status>HTTP/1.1 200 OK</status></propstat></response></multistatus>";
  g_autoptr (SgDavMultistatus) ms = parse (doc);

  g_assert_cmpuint (ms->responses->len, ==, 1);
  g_assert_cmpstr (nth (ms, 0)->href, ==, "/c/");
  g_assert_null (nth (ms, 0)->etag);
  g_assert_true (nth (ms, 0)->collection);
  g_assert_false (nth (ms, 0)->calendar);
}

static void
test_garbage (void)
{
  const char *docs[] = {
    "",
    "<html><body>Welcome to our portal!<p>not dav",
    "<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\"><body/></html>",
    "<?xml version=\"1.0\"?><multistatus><response/></multistatus>", /* no DAV: namespace */
    "<?xml version=\"1.0\"?><d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>/a</d:href>",
    "\xff\xfe<\x00m\x00",
  };

  for (guint i = 0; i < G_N_ELEMENTS (docs); i++) {
    g_autoptr (GError) error = NULL;
    SgDavMultistatus *ms = _sg_dav_parse_multistatus (docs[i], strlen (docs[i]), &error);

    g_assert_null (ms);
    g_assert_error (error, SG_CALDAV_ERROR, SG_CALDAV_ERROR_PROTOCOL);
  }
}

/* Entities are never expanded into huge text (no billion laughs), nor fetched. */
static void
test_entities (void)
{
  static const char doc[] =
    "<?xml version=\"1.0\"?><!DOCTYPE m [<!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">"
    "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
    "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
    "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
    "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">"
    "<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">"
    "<!ENTITY ext SYSTEM \"file:///etc/passwd\">]>"
    "<multistatus xmlns=\"DAV:\"><response><href>/a&ext;</href><propstat><prop><displayname>&f;&f;&f;</displayname>"
    "</prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>";
  g_autoptr (GError) error = NULL;
  g_autoptr (SgDavMultistatus) ms = _sg_dav_parse_multistatus (doc, strlen (doc), &error);

  /* Either refused or read with the entities left unexpanded; never expanded or fetched. */
  if (ms != NULL) {
    for (guint i = 0; i < ms->responses->len; i++) {
      const SgDavResponse *r = nth (ms, i);

      g_assert_true (r->href == NULL || strstr (r->href, "root:") == NULL);
      g_assert_true (r->displayname == NULL || strlen (r->displayname) < 1024 * 1024);
    }
  } else {
    g_assert_error (error, SG_CALDAV_ERROR, SG_CALDAV_ERROR_PROTOCOL);
  }
}

static void
test_invalid_token (void)
{
  /* Radicale's 403 body. */
  static const char radicale[] =
    "<?xml version='1.0' encoding='utf-8'?>\n<error xmlns=\"DAV:\"><valid-sync-token /></error>";
  static const char other[] =
    "<?xml version='1.0'?><d:error xmlns:d=\"DAV:\"><d:need-privileges/></d:error>";

  g_assert_true (_sg_dav_is_invalid_sync_token (radicale, strlen (radicale)));
  g_assert_false (_sg_dav_is_invalid_sync_token (other, strlen (other)));
  g_assert_false (_sg_dav_is_invalid_sync_token ("Forbidden", 9));
  g_assert_false (_sg_dav_is_invalid_sync_token ("", 0));
}

static void
test_account_url (void)
{
  struct {
    const char *url;
    const char *uri; /* NULL: refused */
  } cases[] = {
    { "https://dav.example.com/", "https://dav.example.com/" },
    { "https://dav.example.com", "https://dav.example.com/" },
    { "https://jane@dav.example.com:8443/cal/", "https://jane@dav.example.com:8443/cal/" },
    { "http://127.0.0.1:5232/", "http://127.0.0.1:5232/" },
    { "http://localhost/x/", "http://localhost/x/" },
    { "http://[::1]:5232/", "http://[::1]:5232/" },
    /* The password would go in clear to a remote host. */
    { "http://dav.example.com/", NULL },
    /* A password in the URL would show wherever the URL is shown. */
    { "https://jane:secret@dav.example.com/", NULL },
    { "imaps://dav.example.com/", NULL },
    { "not a url", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (SgCaldavAccount) a = sg_caldav_account_new ("work", cases[i].url, &error);

    if (cases[i].uri == NULL) {
      g_assert_null (a);
      g_assert_error (error, SG_CALDAV_ERROR, SG_CALDAV_ERROR_URL);
      g_assert_nonnull (strstr (error->message, cases[i].url));
    } else {
      g_assert_no_error (error);
      g_assert_cmpstr (sg_caldav_account_get_uri (a), ==, cases[i].uri);
      g_assert_cmpstr (sg_caldav_account_get_name (a), ==, "work");
    }
  }
}

/* The status of a store without CalDAV accounts is an empty table with its columns. */
static void
test_status_empty (void)
{
  g_autofree char *dir = sg_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "store.db", NULL);
  g_autoptr (GError) error = NULL;
  SgStore *store = sg_store_open (path, SG_STORE_OPEN_DEFAULT, &error);
  g_autoptr (SgTable) t = NULL;

  g_assert_no_error (error);
  t = sg_source_get_status (store, "caldav", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 0);
  g_assert_cmpstr (sg_table_get_column_name (t, 0), ==, "account");
  sg_store_close (store);
  sg_test_rm_rf (dir);
}

/* One status query for every kind: an account's row is under its own kind only. */
static void
test_status_by_kind (void)
{
  g_autofree char *dir = sg_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "store.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) failure = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "password-command failed");
  SgStore *store = sg_store_open (path, SG_STORE_OPEN_DEFAULT, &error);
  g_autoptr (SgCaldavAccount) cal = sg_caldav_account_new ("cal", "https://cal.example.com/", NULL);
  g_autoptr (SgImapAccount) mail = sg_imap_account_new ("mail", "imaps://imap.example.com/", NULL);
  g_autoptr (SgTable) t = NULL;
  const char *kinds[] = { "caldav", "imap" };
  const char *names[] = { "cal", "mail" };

  g_assert_no_error (error);
  g_assert_true (sg_caldav_record_failure (store, cal, failure, &error));
  g_assert_true (sg_caldav_record_failure (store, cal, failure, &error));
  g_assert_true (sg_imap_record_failure (store, mail, failure, &error));
  g_assert_no_error (error);
  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++) {
    t = sg_source_get_status (store, kinds[k], &error);
    g_assert_no_error (error);
    g_assert_cmpuint (sg_table_get_n_rows (t), ==, 1);
    g_assert_cmpuint (sg_table_get_n_columns (t), ==, 12);
    g_assert_cmpstr (sg_table_get_text (t, 0, 0), ==, names[k]);
    g_assert_cmpstr (sg_table_get_text (t, 0, 2), ==, "failing");
    g_assert_cmpstr (sg_table_get_text (t, 0, 5), ==, "password-command failed");
    g_assert_cmpint (sg_table_get_int (t, 0, 6), ==, k == 0 ? 2 : 1);
    g_assert_cmpint (sg_table_get_int (t, 0, 8), ==, 0);
    g_assert_cmpstr (sg_table_get_column_name (t, 11), ==, "kind");
    g_assert_cmpstr (sg_table_get_text (t, 0, 11), ==, kinds[k]);
    g_clear_pointer (&t, sg_table_free);
  }
  sg_store_close (store);
  sg_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/caldav/xml/home-listing", test_home_listing);
  g_test_add_func ("/caldav/xml/principal", test_principal);
  g_test_add_func ("/caldav/xml/sync-collection", test_sync_collection);
  g_test_add_func ("/caldav/xml/multiget", test_multiget);
  g_test_add_func ("/caldav/xml/namespaces", test_namespaces);
  g_test_add_func ("/caldav/xml/garbage", test_garbage);
  g_test_add_func ("/caldav/xml/entities", test_entities);
  g_test_add_func ("/caldav/xml/invalid-sync-token", test_invalid_token);
  g_test_add_func ("/caldav/account/url", test_account_url);
  g_test_add_func ("/caldav/status/empty", test_status_empty);
  g_test_add_func ("/caldav/status/by-kind", test_status_by_kind);
  return g_test_run ();
}
