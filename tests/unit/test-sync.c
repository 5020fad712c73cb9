/* test-sync.c: the sync client's codec and merge (core/sg-sync.c), with stores exchanging
 * batches through a relay played by this test (the real server is in the e2e test): stores
 * converge whatever the order, duplicates and concurrent offline edits; the share levels
 * keep what they promise; pulled ops are never logged again (no echo). */
#include "config.h"

#include <json-glib/json-glib.h>
#include <sqlite3.h>

#include <sg.h>

#include "test-util.h"

/* --- the relay: what a server does, reduced to the protocol -------------------------------- */

typedef struct {
  GPtrArray *log;    /* JsonObject of every op, in arrival order */
  GHashTable *seen;  /* op_id */
  gboolean duplicate; /* answer every op twice */
  guint limit;       /* ops per answer */
} Relay;

static void
relay_init (Relay *r)
{
  *r = (Relay){ 0 };
  r->log = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  r->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  r->limit = 3;
}

static void
relay_clear (Relay *r)
{
  g_ptr_array_unref (r->log);
  g_hash_table_unref (r->seen);
}

static char *
op_device (const char *op_id)
{
  const char *colon = strrchr (op_id, ':');

  return g_strndup (op_id, (gsize) (colon - op_id));
}

/* Takes a request, answers it. */
static char *
relay_answer (Relay *r, const char *request)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  JsonObject *req;
  JsonArray *ops;
  const char *device;
  guint cursor = 0, sent = 0, i;

  g_assert_true (json_parser_load_from_data (parser, request, -1, NULL));
  req = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member (req, "protocol"), ==, 1);
  device = json_object_get_string_member (req, "device");
  if (*json_object_get_string_member (req, "cursor"))
    cursor = (guint) g_ascii_strtoull (json_object_get_string_member (req, "cursor"), NULL, 10);
  ops = json_object_get_array_member (req, "ops");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "protocol");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "acked");
  json_builder_begin_array (b);
  for (i = 0; i < json_array_get_length (ops); i++) {
    JsonObject *op = json_array_get_object_element (ops, i);
    const char *id = json_object_get_string_member (op, "op_id");
    g_autofree char *dev = op_device (id);

    g_assert_cmpstr (dev, ==, device);
    g_assert_cmpuint (strlen (json_object_get_string_member (op, "hlc")), ==, 16);
    if (!g_hash_table_contains (r->seen, id)) {
      g_hash_table_add (r->seen, g_strdup (id));
      g_ptr_array_add (r->log, json_object_ref (op));
    }
    json_builder_add_string_value (b, id);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "rejected");
  json_builder_begin_array (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "ops");
  json_builder_begin_array (b);
  for (i = cursor; i < r->log->len && sent < r->limit; i++) {
    JsonObject *op = r->log->pdata[i];
    g_autofree char *dev = op_device (json_object_get_string_member (op, "op_id"));
    JsonNode *n;

    if (strcmp (dev, device) == 0)
      continue;
    for (guint k = 0; k < (r->duplicate ? 2u : 1u); k++) {
      n = json_node_new (JSON_NODE_OBJECT);
      json_node_set_object (n, op);
      json_object_set_string_member (op, "user", "someone");
      json_builder_add_value (b, n);
    }
    sent++;
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "cursor");
  {
    g_autofree char *c = g_strdup_printf ("%u", i);

    json_builder_add_string_value (b, c);
  }
  json_builder_set_member_name (b, "more");
  json_builder_add_boolean_value (b, i < r->log->len);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

/* One sync of @store through the relay, until it has pushed everything and pulled the rest. */
static void
relay_sync (Relay *r, SgStore *store, const SgSyncSettings *settings)
{
  for (guint round = 0; round < 1000; round++) {
    g_autoptr (GError) error = NULL;
    g_autofree char *req = NULL;
    g_autofree char *answer = NULL;
    SgSyncCounts c = { 0 };
    guint n = 0;

    req = sg_sync_build_request (store, settings, 4, &n, &c, &error);
    g_assert_no_error (error);
    answer = relay_answer (r, req);
    g_assert_true (sg_sync_apply_answer (store, answer, -1, &c, &error));
    g_assert_no_error (error);
    if (!c.more && n == 0)
      return;
  }
  g_assert_not_reached ();
}

/* --- stores ---------------------------------------------------------------------------------------- */

typedef struct {
  char *dir;
  SgStore *store;
  SgIdentity *identity;
  char *device;
} Peer;

static void
peer_open (Peer *p, const char *root, const char *name, const char *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *db = NULL;

  p->dir = g_build_filename (root, name, NULL);
  g_assert_cmpint (g_mkdir_with_parents (p->dir, 0700), ==, 0);
  db = g_build_filename (p->dir, "store.db", NULL);
  p->store = sg_store_open (db, SG_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  p->device = g_strdup (sg_store_get_device_id (p->store));
  p->identity = sg_identity_new ();
  g_assert_true (sg_identity_add_address (p->identity, self, NULL));
  g_assert_true (sg_identity_add_internal_domain (p->identity, "us.test", NULL));
}

static void
peer_close (Peer *p)
{
  sg_store_close (p->store);
  sg_identity_unref (p->identity);
  g_free (p->dir);
  g_free (p->device);
}

/* Imports messages (text) into @p from a Maildir made under its folder as @folder. */
static void
peer_import (Peer *p, const char *folder, const char *const *messages)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *md = g_build_filename (p->dir, folder, NULL);
  g_autoptr (SgImporter) imp = NULL;
  static guint counter;

  sg_test_make_maildir (md);
  for (guint i = 0; messages[i]; i++) {
    g_autofree char *name = g_strdup_printf ("%s/cur/%u.m:2,S", folder, counter++);
    g_autofree char *path = sg_test_write_file (p->dir, name, messages[i], -1);
  }
  imp = sg_importer_new (p->store, p->identity);
  g_assert_true (sg_importer_import_path (imp, md, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sg_importer_flush (imp, &error));
  g_assert_no_error (error);
}

/* What a user sees, as text: the rows of the shared facts, by natural keys. */
static char *
dump (Peer *p, gboolean subjects)
{
  static const char *const queries[] = {
    "SELECT 'org', domain, name, kind FROM organisations ORDER BY domain",
    "SELECT 'person', a.address, p.name, CASE p.kind WHEN 'self' THEN 'colleague' ELSE p.kind END "
    "FROM people p JOIN addresses a ON a.person_id = p.id ORDER BY a.address",
    "SELECT 'interaction', message_id, date_utc, direction, kind, %s FROM interactions ORDER BY message_id",
    "SELECT 'participant', i.message_id, a.address, pa.role FROM participants pa "
    "JOIN interactions i ON i.id = pa.interaction_id JOIN addresses a ON a.id = pa.address_id ORDER BY 2, 3, 4",
    "SELECT 'thread', i.message_id, t.root_key FROM interactions i LEFT JOIN threads t ON t.id = i.thread_id "
    "ORDER BY 2",
    "SELECT 'tag', t.name, ta.entity_type, coalesce(a.address, o.domain, i.message_id) FROM tag_assignments ta "
    "JOIN tags t ON t.id = ta.tag_id LEFT JOIN people p ON ta.entity_type = 'person' AND p.id = ta.entity_id "
    "LEFT JOIN addresses a ON a.person_id = p.id LEFT JOIN organisations o ON ta.entity_type = 'organisation' "
    "AND o.id = ta.entity_id LEFT JOIN interactions i ON ta.entity_type = 'interaction' AND i.id = ta.entity_id "
    "WHERE ta.removed = 0 ORDER BY 2, 3, 4",
    "SELECT 'process', p.uuid, o.domain, p.deliverable, s.name, p.status, p.value_minor, p.currency, p.title, "
    "p.account_manager FROM processes p JOIN organisations o ON o.id = p.org_id JOIN stages s ON s.id = p.stage_id "
    "ORDER BY p.uuid",
    "SELECT 'history', p.uuid, h.event, h.from_stage, h.to_stage, h.moved_at, h.moved_by FROM stage_history h "
    "JOIN processes p ON p.id = h.process_id ORDER BY 2, 6, 3, 4, 5",
    "SELECT 'contact', p.uuid, a.address, c.part FROM process_contacts c JOIN processes p ON p.id = c.process_id "
    "JOIN addresses a ON a.person_id = c.person_id ORDER BY 2, 3, 4",
    "SELECT 'role', a.address, r.role FROM person_roles r JOIN addresses a ON a.person_id = r.person_id "
    "WHERE r.removed = 0 ORDER BY 2, 3",
    "SELECT 'link', i.message_id, p.uuid FROM interaction_links l JOIN interactions i ON i.id = l.interaction_id "
    "JOIN processes p ON p.id = l.process_id WHERE l.removed = 0 ORDER BY 2, 3",
    "SELECT 'meeting', m.uid, m.recurrence_id, %s, m.start_utc, m.end_utc, m.status, m.sequence, m.dtstamp, "
    "a.address, i.message_id FROM meetings m LEFT JOIN addresses a ON a.id = m.organizer_id "
    "LEFT JOIN interactions i ON i.id = m.interaction_id ORDER BY 2, 3",
    "SELECT 'attendee', m.uid, a.address, ma.role, ma.partstat FROM meeting_attendees ma "
    "JOIN meetings m ON m.id = ma.meeting_id JOIN addresses a ON a.id = ma.address_id ORDER BY 2, 3, 4",
    "SELECT 'pipeline', p.name, p.description, s.name, s.position, s.probability, s.kind, s.keywords, s.retired "
    "FROM pipelines p LEFT JOIN stages s ON s.pipeline_id = p.id ORDER BY 2, 5",
    "SELECT 'fact', a.address, f.kind, f.detail, f.value, f.first_seen, f.observed, f.origin FROM person_facts f "
    "JOIN addresses a ON a.person_id = f.person_id ORDER BY 2, 3, 4, 5",
    "SELECT 'list', address, person_id FROM addresses WHERE kind = 'list' ORDER BY 2",
  };
  g_autofree char *path = g_build_filename (p->dir, "store.db", NULL);
  GString *out = g_string_new (NULL);
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  for (guint q = 0; q < G_N_ELEMENTS (queries); q++) {
    g_auto (GStrv) parts = g_strsplit (queries[q], "%s", -1);
    g_autofree char *sql = g_strjoinv (!subjects ? "''" : q == 11 ? "m.summary || '/' || coalesce(m.location, '')"
                                                                  : "subject", parts);
    sqlite3_stmt *stmt = NULL;

    g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
    while (sqlite3_step (stmt) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count (stmt); c++) {
        const char *v = (const char *) sqlite3_column_text (stmt, c);

        g_string_append_printf (out, "%s%s", c ? " | " : "", v ? v : "NULL");
      }
      g_string_append_c (out, '\n');
    }
    sqlite3_finalize (stmt);
  }
  sqlite3_close (db);
  return g_string_free (out, FALSE);
}

static gint64
count (Peer *p, const char *sql)
{
  g_autofree char *path = g_build_filename (p->dir, "store.db", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 n;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return n;
}

/* No echo: every op in a store's log was made on that device, and nothing is left to push. */
static void
assert_no_echo (Peer *p)
{
  g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM changes WHERE device <> '%s'", p->device);

  g_assert_cmpint (count (p, sql), ==, 0);
  g_assert_cmpint (sg_sync_count_pending (p->store, NULL), ==, 0);
}

static const char *const alice_mail[] = {
  "From: Jane Doe <jane@acme.test>\nTo: Alice <alice@us.test>\nDate: Mon, 02 Mar 2026 10:00:00 +0000\n"
  "Subject: Forecast tender\nMessage-ID: <a1@acme.test>\n\nWe need a demand forecast.\n",
  "From: Alice <alice@us.test>\nTo: Jane Doe <jane@acme.test>\nCc: Tom Bell <tom@beta.test>\n"
  "Date: Tue, 03 Mar 2026 09:00:00 +0000\nSubject: Re: Forecast tender\nMessage-ID: <a2@us.test>\n"
  "In-Reply-To: <a1@acme.test>\nReferences: <a1@acme.test>\n\nHappy to help.\n",
  NULL,
};
static const char *const bob_mail[] = {
  "From: Carol King <carol@gamma.test>\nTo: Bob <bob@us.test>\nDate: Wed, 04 Mar 2026 11:00:00 +0000\n"
  "Subject: Pricing question\nMessage-ID: <b1@gamma.test>\n\nHow much is it?\n",
  "From: Jane Doe <jane@acme.test>\nTo: Bob <bob@us.test>\nDate: Thu, 05 Mar 2026 11:00:00 +0000\n"
  "Subject: Second opinion\nMessage-ID: <b2@acme.test>\n\nCould you look too?\n",
  NULL,
};
static const char *const carl_mail[] = {
  "From: Dora Lee <dora@delta.test>\nTo: Carl <carl@us.test>\nDate: Fri, 06 Mar 2026 08:00:00 +0000\n"
  "Subject: Intro\nMessage-ID: <c1@delta.test>\n\nHello.\n",
  NULL,
};

static char *
new_process (Peer *p, const char *org)
{
  g_autoptr (GError) error = NULL;
  SgProcessNew spec = { 0 };
  char *uuid;

  spec.organisation = org;
  spec.deliverable = "Demand forecast";
  spec.opened_at = 1772400000;
  uuid = sg_process_create (p->store, &spec, "alice@us.test", &error);
  g_assert_no_error (error);
  return uuid;
}

/* Two stores filled offline, then edited concurrently (same field, same set), converge. */
static void
test_two_stores (void)
{
  g_autofree char *root = sg_test_make_tmpdir ();
  g_autoptr (SgSyncSettings) s = sg_sync_settings_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *uuid = NULL;
  g_autofree char *da = NULL, *db = NULL;
  Peer a = { 0 }, b = { 0 };
  Relay r;

  relay_init (&r);
  sg_sync_settings_set_share (s, SG_SHARE_SUBJECTS);
  peer_open (&a, root, "alice", "alice@us.test");
  peer_open (&b, root, "bob", "bob@us.test");
  peer_import (&a, "Maildir", alice_mail);
  peer_import (&b, "Maildir", bob_mail);
  uuid = new_process (&a, "acme.test");
  g_assert_true (sg_process_add_contact (a.store, uuid, "jane@acme.test", "decision-maker", "alice@us.test", &error));
  g_assert_no_error (error);
  g_assert_true (sg_process_link (a.store, uuid, "a1@acme.test", "alice@us.test", &error));
  g_assert_no_error (error);

  relay_sync (&r, a.store, s);
  relay_sync (&r, b.store, s);
  relay_sync (&r, a.store, s);
  da = dump (&a, TRUE);
  db = dump (&b, TRUE);
  g_assert_cmpstr (da, ==, db);
  g_assert_true (sg_test_contains (db, "interaction | a1@acme.test"));
  g_assert_true (sg_test_contains (da, "interaction | b1@gamma.test"));
  g_assert_true (sg_test_contains (db, "Forecast tender"));
  g_assert_true (sg_test_contains (db, "person | jane@acme.test | Jane Doe"));
  g_assert_true (sg_test_contains (db, "contact | "));
  g_assert_true (sg_test_contains (db, "link | a1@acme.test"));
  assert_no_echo (&a);
  assert_no_echo (&b);

  /* Offline on both: the same field, the same set, the stage (history is appended). */
  g_assert_true (sg_process_set_field (a.store, uuid, SG_PROCESS_FIELD_CURRENCY, "EUR", "alice@us.test", &error));
  g_assert_no_error (error);
  g_assert_true (sg_process_set_field (a.store, uuid, SG_PROCESS_FIELD_VALUE, "1000", "alice@us.test", &error));
  g_assert_no_error (error);
  g_assert_true (sg_process_move (a.store, uuid, "qualified", NULL, "alice@us.test", &error));
  g_assert_no_error (error);
  g_assert_true (sg_role_set (a.store, "jane@acme.test", "lead", NULL, "alice@us.test", &error));
  g_assert_no_error (error);
  g_assert_true (sg_tags_add (a.store, "jane@acme.test", "vip", &error));
  g_assert_no_error (error);
  g_usleep (3000); /* Bob's edits are later (the clocks are milliseconds) */
  g_assert_true (sg_process_set_field (b.store, uuid, SG_PROCESS_FIELD_CURRENCY, "GBP", "bob@us.test", &error));
  g_assert_no_error (error);
  g_assert_true (sg_process_set_field (b.store, uuid, SG_PROCESS_FIELD_VALUE, "2000", "bob@us.test", &error));
  g_assert_no_error (error);
  g_assert_true (sg_process_move (b.store, uuid, "proposal", NULL, "bob@us.test", &error));
  g_assert_no_error (error);
  g_assert_true (sg_role_set (b.store, "jane@acme.test", "prospect", NULL, "bob@us.test", &error));
  g_assert_no_error (error);
  g_assert_true (sg_process_remove_contact (b.store, uuid, "jane@acme.test", "decision-maker", "bob@us.test", &error));
  g_assert_no_error (error);

  relay_sync (&r, b.store, s);
  relay_sync (&r, a.store, s);
  relay_sync (&r, b.store, s);
  g_clear_pointer (&da, g_free);
  g_clear_pointer (&db, g_free);
  da = dump (&a, TRUE);
  db = dump (&b, TRUE);
  g_assert_cmpstr (da, ==, db);
  /* The later writer wins each field; sets keep both adds; the history has every move. */
  g_assert_true (sg_test_contains (da, "| proposal | open | 200000 | GBP |"));
  g_assert_true (sg_test_contains (da, "role | jane@acme.test | lead"));
  g_assert_true (sg_test_contains (da, "role | jane@acme.test | prospect"));
  g_assert_true (sg_test_contains (da, "tag | vip | person | jane@acme.test"));
  g_assert_false (sg_test_contains (da, "contact | "));
  g_assert_true (sg_test_contains (da, "| move | identified | qualified |"));
  g_assert_true (sg_test_contains (da, "| move | identified | proposal |"));
  assert_no_echo (&a);
  assert_no_echo (&b);

  /* After a pull, a local edit is newer than what was pulled (the clock's receive rule). */
  g_assert_true (sg_process_set_field (a.store, uuid, SG_PROCESS_FIELD_CURRENCY, "USD", "alice@us.test", &error));
  g_assert_no_error (error);
  relay_sync (&r, a.store, s);
  relay_sync (&r, b.store, s);
  g_clear_pointer (&db, g_free);
  db = dump (&b, TRUE);
  g_assert_true (sg_test_contains (db, "| 200000 | USD |"));

  peer_close (&a);
  peer_close (&b);
  relay_clear (&r);
  sg_test_rm_rf (root);
}

/* Three stores, every op delivered twice, syncing in different orders, converge; the stage
 * history is not duplicated. */
static void
test_three_stores (void)
{
  g_autofree char *root = sg_test_make_tmpdir ();
  g_autoptr (SgSyncSettings) s = sg_sync_settings_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *uuid = NULL;
  Peer p[3] = { { 0 } };
  const char *const titles[] = { "From Alice", "From Bob", "From Carl" };
  Relay r;

  relay_init (&r);
  r.duplicate = TRUE;
  r.limit = 2;
  peer_open (&p[0], root, "alice", "alice@us.test");
  peer_open (&p[1], root, "bob", "bob@us.test");
  peer_open (&p[2], root, "carl", "carl@us.test");
  peer_import (&p[0], "Maildir", alice_mail);
  peer_import (&p[1], "Maildir", bob_mail);
  peer_import (&p[2], "Maildir", carl_mail);
  uuid = new_process (&p[1], "acme.test");
  for (guint i = 0; i < 3; i++)
    relay_sync (&r, p[(i + 1) % 3].store, s);
  for (guint i = 0; i < 3; i++)
    relay_sync (&r, p[i].store, s);
  /* All three edit the title offline; then they sync in reverse order. */
  for (guint i = 0; i < 3; i++) {
    g_assert_true (sg_process_set_field (p[i].store, uuid, SG_PROCESS_FIELD_TITLE, titles[i], "x@us.test", &error));
    g_assert_no_error (error);
    g_assert_true (sg_process_move (p[i].store, uuid, i == 2 ? "negotiation" : "qualified", NULL, "x@us.test",
                                    &error));
    g_assert_no_error (error);
    g_usleep (3000);
  }
  for (guint round = 0; round < 2; round++)
    for (int i = 2; i >= 0; i--)
      relay_sync (&r, p[i].store, s);
  {
    g_autofree char *d0 = dump (&p[0], FALSE);
    g_autofree char *d1 = dump (&p[1], FALSE);
    g_autofree char *d2 = dump (&p[2], FALSE);

    g_assert_cmpstr (d0, ==, d1);
    g_assert_cmpstr (d1, ==, d2);
    g_assert_true (sg_test_contains (d0, "| negotiation | open | NULL | NULL | From Carl |"));
    g_assert_true (sg_test_contains (d0, "interaction | c1@delta.test"));
    g_assert_true (sg_test_contains (d2, "interaction | a2@us.test"));
  }
  for (guint i = 0; i < 3; i++) {
    /* open + three moves, once each */
    g_assert_cmpint (count (&p[i], "SELECT count(*) FROM stage_history"), ==, 4);
    assert_no_echo (&p[i]);
    peer_close (&p[i]);
  }
  relay_clear (&r);
  sg_test_rm_rf (root);
}

static JsonArray *
request_ops (SgStore *store, const SgSyncSettings *s, JsonParser *parser)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *req = sg_sync_build_request (store, s, 5000, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_true (json_parser_load_from_data (parser, req, -1, NULL));
  return json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "ops");
}

static const char *const private_mail[] = {
  /* internal only */
  "From: Alice <alice@us.test>\nTo: Dave <dave@us.test>\nDate: Mon, 02 Mar 2026 12:00:00 +0000\n"
  "Subject: Salary talk\nMessage-ID: <int1@us.test>\n\nBetween us.\n",
  /* an excluded domain */
  "From: Eve <eve@secret.test>\nTo: Alice <alice@us.test>\nDate: Mon, 02 Mar 2026 13:00:00 +0000\n"
  "Subject: Confidential merger\nMessage-ID: <x1@secret.test>\n\nHush.\n",
  NULL,
};
static const char *const excluded_address_mail[] = {
  "From: Gil <gil@eta.test>\nTo: Alice <alice@us.test>\nDate: Mon, 02 Mar 2026 15:00:00 +0000\n"
  "Subject: Job offer\nMessage-ID: <g1@eta.test>\n\nCome work for us.\n",
  NULL,
};
static const char *const folder_mail[] = {
  "From: Fay <fay@zeta.test>\nTo: Alice <alice@us.test>\nDate: Mon, 02 Mar 2026 14:00:00 +0000\n"
  "Subject: Personal matter\nMessage-ID: <p1@zeta.test>\n\nPrivate.\n",
  NULL,
};

/* metadata: no subject, no body; subjects: the subject; full: the body too. Internal-only
 * mail, excluded domains and private folders never leave, at any level, and are not looked
 * at again. */
static void
test_share_levels (void)
{
  g_autofree char *root = sg_test_make_tmpdir ();
  g_autoptr (SgSyncSettings) s = sg_sync_settings_new ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *private_dir = NULL;
  JsonArray *ops;
  gboolean saw_a1 = FALSE, saw_meeting = FALSE;
  Peer a = { 0 };

  peer_open (&a, root, "alice", "alice@us.test");
  peer_import (&a, "Maildir", alice_mail);
  peer_import (&a, "Maildir", private_mail);
  peer_import (&a, "Private", folder_mail);
  peer_import (&a, "Maildir", excluded_address_mail);
  {
    /* A meeting: its summary and location are its subject. */
    g_autoptr (GError) error = NULL;
    g_autoptr (SgImporter) imp = sg_importer_new (a.store, a.identity);
    g_autofree char *ics = sg_test_write_file (a.dir, "cal/demo.ics",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//sg test//EN\r\nBEGIN:VEVENT\r\nUID:demo-7@acme.test\r\n"
        "DTSTAMP:20260301T090000Z\r\nDTSTART:20260310T140000Z\r\nDTEND:20260310T150000Z\r\n"
        "SUMMARY:SecretMeetingSummary\r\nLOCATION:SecretMeetingRoom\r\n"
        "ORGANIZER;CN=Jane Doe:mailto:jane@acme.test\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@us.test\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n", -1);

    g_assert_true (sg_importer_import_path (imp, ics, NULL, &error));
    g_assert_no_error (error);
    g_assert_true (sg_importer_flush (imp, &error));
    g_assert_cmpint (count (&a, "SELECT count(*) FROM changes WHERE entity = 'meeting' "
                                "AND fields LIKE '%SecretMeetingSummary%'"), >, 0);
  }
  private_dir = g_build_filename (a.dir, "Private", NULL);
  g_assert_cmpint (sg_share_level_from_string ("metadata", &(SgShareLevel){ 0 }), ==, TRUE);
  g_assert_false (sg_share_level_from_string ("everything", &(SgShareLevel){ 0 }));
  sg_sync_settings_add_excluded_domain (s, "secret.test");
  sg_sync_settings_add_private_folder (s, private_dir);
  sg_sync_settings_add_excluded_address (s, "Gil@Eta.test");

  /* metadata, the default */
  ops = request_ops (a.store, s, parser);
  g_assert_cmpuint (json_array_get_length (ops), >, 0);
  for (guint i = 0; i < json_array_get_length (ops); i++) {
    JsonObject *op = json_array_get_object_element (ops, i);
    JsonObject *fields = json_object_get_object_member (op, "fields");
    g_autofree char *text = json_to_string (json_array_get_element (ops, i), FALSE);

    g_assert_false (json_object_has_member (fields, "subject"));
    g_assert_false (json_object_has_member (fields, "body"));
    g_assert_false (sg_test_contains (text, "Forecast tender"));
    g_assert_false (sg_test_contains (text, "secret.test"));
    g_assert_false (sg_test_contains (text, "int1@us.test"));
    g_assert_false (sg_test_contains (text, "p1@zeta.test"));
    /* Nor who wrote it: known here only from the private folder. */
    g_assert_false (sg_test_contains (text, "zeta.test"));
    /* An excluded address: neither the person nor the mail with them. */
    g_assert_false (sg_test_contains (text, "gil@eta.test"));
    g_assert_false (sg_test_contains (text, "g1@eta.test"));
    g_assert_false (sg_test_contains (text, "Confidential"));
    g_assert_false (sg_test_contains (text, "SecretMeeting"));
    if (strcmp (json_object_get_string_member (op, "entity"), "meeting") == 0)
      saw_meeting = TRUE;
    if (strcmp (json_object_get_string_member (op, "key"), "a1@acme.test") == 0) {
      saw_a1 = TRUE;
      g_assert_cmpstr (json_object_get_string_member (fields, "from"), ==, "jane@acme.test");
      g_assert_cmpstr (json_object_get_string_member (fields, "direction"), ==, "in");
      g_assert_cmpstr (json_object_get_string_member (fields, "date"), ==, "2026-03-02T10:00:00Z");
      g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (fields, "to"), 0), ==,
                       "alice@us.test");
    }
  }
  g_assert_true (saw_a1);
  g_assert_true (saw_meeting);
  /* Withheld ops are marked, and not sent at another level either. */
  g_assert_cmpint (count (&a, "SELECT count(*) FROM changes WHERE acked = 2 AND natural_key = 'int1@us.test'"), ==, 1);
  g_assert_cmpint (count (&a, "SELECT count(*) FROM changes WHERE acked = 2 AND natural_key = 'x1@secret.test'"), ==, 1);
  g_assert_cmpint (count (&a, "SELECT count(*) FROM changes WHERE acked = 2 AND natural_key = 'p1@zeta.test'"), ==, 1);
  g_assert_cmpint (count (&a, "SELECT count(*) FROM changes WHERE acked = 2 AND natural_key = 'eve@secret.test'"), ==, 1);
  g_assert_cmpint (count (&a, "SELECT count(*) FROM changes WHERE acked = 2 AND natural_key = 'secret.test'"), ==, 1);
  g_assert_cmpint (count (&a, "SELECT count(*) FROM changes WHERE acked = 2 AND natural_key = 'gil@eta.test'"), ==, 1);
  g_assert_cmpint (count (&a, "SELECT count(*) FROM changes WHERE acked = 2 AND natural_key = 'g1@eta.test'"), ==, 1);
  /* Fay's person, organisation and roles wait (acked 4), looked at again at every push. */
  g_assert_cmpint (count (&a, "SELECT count(*) FROM changes WHERE acked = 4 AND natural_key = 'fay@zeta.test'"), ==, 1);
  g_assert_cmpint (count (&a, "SELECT count(*) FROM changes WHERE acked = 4 AND natural_key = 'zeta.test'"), ==, 1);
  g_assert_cmpint (count (&a, "SELECT count(*) FROM changes WHERE acked = 0 AND natural_key LIKE '%zeta.test%'"), ==, 0);

  sg_sync_settings_set_share (s, SG_SHARE_SUBJECTS);
  ops = request_ops (a.store, s, parser);
  for (guint i = 0; i < json_array_get_length (ops); i++) {
    JsonObject *op = json_array_get_object_element (ops, i);
    JsonObject *fields = json_object_get_object_member (op, "fields");
    g_autofree char *text = json_to_string (json_array_get_element (ops, i), FALSE);

    g_assert_false (json_object_has_member (fields, "body"));
    g_assert_false (sg_test_contains (text, "Salary"));
    if (strcmp (json_object_get_string_member (op, "key"), "a1@acme.test") == 0)
      g_assert_cmpstr (json_object_get_string_member (fields, "subject"), ==, "Forecast tender");
  }

  sg_sync_settings_set_share (s, SG_SHARE_FULL);
  ops = request_ops (a.store, s, parser);
  saw_a1 = FALSE;
  for (guint i = 0; i < json_array_get_length (ops); i++) {
    JsonObject *op = json_array_get_object_element (ops, i);
    JsonObject *fields = json_object_get_object_member (op, "fields");
    g_autofree char *text = json_to_string (json_array_get_element (ops, i), FALSE);

    g_assert_false (sg_test_contains (text, "Between us"));
    g_assert_false (sg_test_contains (text, "Hush"));
    if (strcmp (json_object_get_string_member (op, "key"), "a1@acme.test") == 0) {
      saw_a1 = TRUE;
      g_assert_true (sg_test_contains (json_object_get_string_member (fields, "body"), "demand forecast"));
    }
  }
  g_assert_true (saw_a1);

  /* Fay writes again, to the inbox: now she (and her organisation) may be shared; her
   * private mail still may not. */
  {
    static const char *const fay_open[] = {
      "From: Fay <fay@zeta.test>\nTo: Alice <alice@us.test>\nDate: Tue, 03 Mar 2026 09:00:00 +0000\n"
      "Subject: Offer\nMessage-ID: <o1@zeta.test>\n\nAn offer.\n",
      NULL,
    };
    gboolean saw_person = FALSE, saw_org = FALSE, saw_o1 = FALSE;

    sg_sync_settings_set_share (s, SG_SHARE_METADATA);
    ops = request_ops (a.store, s, parser);
    for (guint i = 0; i < json_array_get_length (ops); i++) {
      g_autofree char *text = json_to_string (json_array_get_element (ops, i), FALSE);

      g_assert_false (sg_test_contains (text, "zeta.test"));
    }
    peer_import (&a, "Maildir", fay_open);
    ops = request_ops (a.store, s, parser);
    for (guint i = 0; i < json_array_get_length (ops); i++) {
      JsonObject *op = json_array_get_object_element (ops, i);
      const char *entity = json_object_get_string_member (op, "entity");
      const char *key = json_object_get_string_member (op, "key");
      g_autofree char *text = json_to_string (json_array_get_element (ops, i), FALSE);

      saw_person |= strcmp (entity, "person") == 0 && strcmp (key, "fay@zeta.test") == 0;
      saw_org |= strcmp (entity, "organisation") == 0 && strcmp (key, "zeta.test") == 0;
      saw_o1 |= strcmp (key, "o1@zeta.test") == 0;
      g_assert_false (sg_test_contains (text, "p1@zeta.test"));
    }
    g_assert_true (saw_person);
    g_assert_true (saw_org);
    g_assert_true (saw_o1);
    g_assert_cmpint (count (&a, "SELECT count(*) FROM changes WHERE acked = 4"), ==, 0);
  }
  peer_close (&a);
  sg_test_rm_rf (root);
}

/* A person's better name found in a later message is logged (other devices get it). */
static void
test_better_name (void)
{
  static const char *const first[] = {
    "From: jane@acme.test\nTo: Alice <alice@us.test>\nDate: Mon, 02 Mar 2026 10:00:00 +0000\n"
    "Subject: Hi\nMessage-ID: <n1@acme.test>\n\nHi.\n",
    NULL,
  };
  static const char *const later[] = {
    "From: Jane Doe <jane@acme.test>\nTo: Alice <alice@us.test>\nDate: Tue, 03 Mar 2026 10:00:00 +0000\n"
    "Subject: Hi again\nMessage-ID: <n2@acme.test>\n\nHi.\n",
    NULL,
  };
  g_autofree char *root = sg_test_make_tmpdir ();
  Peer a = { 0 };

  peer_open (&a, root, "alice", "alice@us.test");
  peer_import (&a, "Maildir", first);
  g_assert_cmpint (count (&a, "SELECT count(*) FROM changes WHERE entity = 'person' AND natural_key = 'jane@acme.test' "
                              "AND json_extract(fields, '$.name') = 'Jane Doe'"), ==, 0);
  peer_import (&a, "Maildir", later);
  {
    /* Logged when the next push is built, once. */
    g_autoptr (SgSyncSettings) s = sg_sync_settings_new ();
    g_autoptr (JsonParser) parser = json_parser_new ();
    JsonArray *ops = request_ops (a.store, s, parser);
    gboolean sent = FALSE;

    for (guint i = 0; i < json_array_get_length (ops); i++) {
      JsonObject *op = json_array_get_object_element (ops, i);

      sent |= strcmp (json_object_get_string_member (op, "entity"), "person") == 0 &&
              g_strcmp0 (json_object_get_string_member_with_default (json_object_get_object_member (op, "fields"),
                                                                     "name", NULL), "Jane Doe") == 0;
    }
    g_assert_true (sent);
    ops = request_ops (a.store, s, parser);
  }
  g_assert_cmpint (count (&a, "SELECT count(*) FROM changes WHERE entity = 'person' AND natural_key = 'jane@acme.test' "
                              "AND json_extract(fields, '$.name') = 'Jane Doe'"), ==, 1);
  /* The same name in a newer message is not news. */
  {
    static const char *const again[] = {
      "From: Jane Doe <jane@acme.test>\nTo: Alice <alice@us.test>\nDate: Wed, 04 Mar 2026 10:00:00 +0000\n"
      "Subject: Hi 3\nMessage-ID: <n3@acme.test>\n\nHi.\n",
      NULL,
    };
    g_autoptr (SgSyncSettings) s = sg_sync_settings_new ();
    g_autoptr (JsonParser) parser = json_parser_new ();

    peer_import (&a, "Maildir", again);
    request_ops (a.store, s, parser);
    g_assert_cmpint (count (&a, "SELECT count(*) FROM changes WHERE entity = 'person' "
                                "AND json_extract(fields, '$.name') = 'Jane Doe'"), ==, 1);
  }
  peer_close (&a);
  sg_test_rm_rf (root);
}

/* The clock of every field of a store that only made ops of its own is the newest op of
 * the log that carried it, and its logged names the last ones logged: the sync state
 * _sg_store_log_change() keeps (triggers on `changes` until 0011) equals a recompute from
 * the log, the one 0009's migration ran. Upserts with fields, a '{}' upsert, adds, removes. */
static void
test_clocks_from_log (void)
{
  g_autofree char *root = sg_test_make_tmpdir ();
  g_autoptr (GError) error = NULL;
  g_autofree char *uuid = NULL;
  Peer a = { 0 };
  const char *recompute =
    "SELECT entity, natural_key, j.key AS field, max(hlc) AS hlc FROM changes, json_each(fields) j "
    "WHERE op = 'upsert' AND fields <> '{}' GROUP BY 1, 2, 3 UNION ALL "
    "SELECT entity, natural_key, CASE op WHEN 'add' THEN '+' ELSE '-' END, max(CASE op WHEN 'remove' THEN "
    /* A remove moves '-' to the add it saw (observed-remove): on a store that only made its
     * own ops, the newest add logged before it, else 0 (it saw none). */
    "  coalesce((SELECT max(d.hlc) FROM changes d WHERE d.op = 'add' AND d.entity = c.entity "
    "            AND d.natural_key = c.natural_key AND d.seq < c.seq), 0) ELSE hlc END) FROM changes c "
    "WHERE op IN ('add', 'remove', 'delete') GROUP BY 1, 2, 3";
  const char *names =
    "SELECT natural_key, json_extract(fields, '$.name') FROM changes c WHERE entity = 'person' AND op = 'upsert' "
    "AND json_type(fields, '$.name') IS NOT NULL AND seq = (SELECT max(seq) FROM changes d WHERE "
    "d.entity = 'person' AND d.op = 'upsert' AND d.natural_key = c.natural_key "
    "AND json_type(d.fields, '$.name') IS NOT NULL)";
  g_autofree char *clock_diff = g_strdup_printf (
    "SELECT (SELECT count(*) FROM (SELECT entity, natural_key, field, hlc FROM sync_clock EXCEPT SELECT * FROM (%s))) + "
    "(SELECT count(*) FROM (SELECT * FROM (%s) EXCEPT SELECT entity, natural_key, field, hlc FROM sync_clock))", recompute, recompute);
  g_autofree char *names_diff = g_strdup_printf (
    "SELECT (SELECT count(*) FROM (SELECT address, name FROM sync_names EXCEPT %s)) + "
    "(SELECT count(*) FROM (%s EXCEPT SELECT address, name FROM sync_names))", names, names);

  peer_open (&a, root, "alice", "alice@us.test");
  peer_import (&a, "Maildir", alice_mail);
  peer_import (&a, "Maildir", bob_mail);
  uuid = new_process (&a, "acme.test");
  g_assert_true (sg_tags_add (a.store, "jane@acme.test", "vip", &error));
  g_assert_no_error (error);
  g_assert_true (sg_tags_add (a.store, "acme.test", "forecasting", &error));
  g_assert_no_error (error);
  g_assert_true (sg_tags_remove (a.store, "jane@acme.test", "vip", &error));
  g_assert_no_error (error);
  g_assert_true (sg_tags_add (a.store, "jane@acme.test", "vip", &error));
  g_assert_no_error (error);
  /* What this covers: each kind of op, and a clock moved by a later op on the same key. */
  g_assert_cmpint (count (&a, "SELECT count(DISTINCT op) FROM changes WHERE op IN ('upsert', 'add', 'remove')"), ==, 3);
  g_assert_cmpint (count (&a, "SELECT count(*) FROM changes WHERE op = 'upsert' AND fields = '{}'"), >, 0);
  g_assert_cmpint (count (&a, "SELECT count(*) FROM sync_clock WHERE field IN ('+', '-')"), >=, 3);
  g_assert_cmpint (count (&a, "SELECT count(*) FROM sync_clock"), >, 10);
  g_assert_cmpint (count (&a, "SELECT count(*) FROM sync_names"), >, 0);
  g_assert_cmpint (count (&a, clock_diff), ==, 0);
  g_assert_cmpint (count (&a, names_diff), ==, 0);
  /* Every remove says which add it saw: the newest one logged before it (0: none). */
  g_assert_cmpint (count (&a, "SELECT count(*) FROM changes c WHERE op = 'remove'"), >, 0);
  g_assert_cmpint (count (&a, "SELECT count(*) FROM changes c WHERE op = 'remove' AND json_extract(fields, '$.seen') IS NOT "
                              "printf('%016x', coalesce((SELECT max(d.hlc) FROM changes d WHERE d.op = 'add' "
                              "AND d.entity = c.entity AND d.natural_key = c.natural_key AND d.seq < c.seq), 0))"), ==, 0);
  peer_close (&a);
  sg_test_rm_rf (root);
}

/* Bad answers: refused with a clear error and nothing changed; a malformed op or one this
 * store cannot place is skipped, the rest applied; a far clock moves the local clock. */
static void
test_bad_answers (void)
{
  g_autofree char *root = sg_test_make_tmpdir ();
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL, *after = NULL;
  SgSyncCounts c = { 0 };
  Peer a = { 0 };
  const char *answer =
    "{\"protocol\": 1, \"acked\": [\"nobody:0000000000000001\"], \"rejected\": [], \"cursor\": \"7\", \"more\": false,"
    " \"ops\": ["
    "  {\"op_id\": \"dev-x:7fff000000000001\", \"hlc\": \"7fff000000000001\", \"entity\": \"organisation\","
    "   \"key\": \"omega.test\", \"op\": \"upsert\", \"fields\": {\"name\": \"Omega'; DROP TABLE people; --\"}},"
    "  {\"op_id\": \"dev-x:0000000000000002\", \"hlc\": \"xyz\", \"entity\": \"person\", \"key\": \"a@b.test\","
    "   \"op\": \"upsert\", \"fields\": {}},"
    "  {\"op_id\": \"dev-x:0000000000000003\", \"hlc\": \"0000000000000003\", \"entity\": \"tag_assignment\","
    "   \"key\": \"interaction:nowhere@x/vip\", \"op\": \"add\", \"fields\": {}},"
    "  {\"op_id\": \"dev-x:0000000000000004\", \"hlc\": \"0000000000000004\", \"entity\": \"unknown_thing\","
    "   \"key\": \"k\", \"op\": \"upsert\", \"fields\": {}}"
    " ]}";

  peer_open (&a, root, "alice", "alice@us.test");
  peer_import (&a, "Maildir", alice_mail);
  before = dump (&a, TRUE);
  g_assert_false (sg_sync_apply_answer (a.store, "{\"protocol\": 1, \"acked\": [", -1, NULL, &error));
  g_assert_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_false (sg_sync_apply_answer (a.store, "{\"protocol\": 2, \"acked\": [], \"ops\": [], \"cursor\": \"\"}", -1,
                                        NULL, &error));
  g_assert_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_PROTOCOL);
  g_clear_error (&error);
  after = dump (&a, TRUE);
  g_assert_cmpstr (before, ==, after);

  g_assert_true (sg_sync_apply_answer (a.store, answer, -1, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.pulled, ==, 4);
  g_assert_cmpuint (c.applied, ==, 1);
  g_assert_cmpuint (c.skipped, ==, 3);
  g_assert_cmpint (count (&a, "SELECT count(*) FROM organisations WHERE name = 'Omega''; DROP TABLE people; --'"), ==, 1);
  g_assert_cmpint (count (&a, "SELECT count(*) FROM store_meta WHERE key = 'sync_cursor' AND value = '7'"), ==, 1);
  /* The next local op is newer than the far clock received. */
  g_assert_true (sg_tags_add (a.store, "jane@acme.test", "vip", &error));
  g_assert_no_error (error);
  g_assert_cmpint (count (&a, "SELECT max(hlc) > 0x7fff000000000001 FROM changes"), ==, 1);
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM changes WHERE device <> '%s'", a.device);

    g_assert_cmpint (count (&a, sql), ==, 0);
  }
  peer_close (&a);
  sg_test_rm_rf (root);
}

/* --- sets: observed-remove, add-wins (schema/sync.md "Sets, add-wins") ------------------------ */

/* The clock base of these tests (a real one: milliseconds << 16), plus @n. */
#define SET_HLC(n) (G_GUINT64_CONSTANT (0x019ad27174400000) + (guint64) (n))

typedef struct {
  const char *op;  /* "add" or "remove" */
  guint64 hlc;     /* SET_HLC (n) */
  gint64 seen;     /* a remove's `seen` (SET_HLC (n)), or -1: none (an older client's remove) */
  const char *dev; /* the device that made it */
} SetOp;

/* Applies @ops (of @n) as one answer, each on the member organisation:acme.test/@tag. */
static void
apply_set_ops (Peer *p, const char *tag, const SetOp *ops, guint n)
{
  g_autoptr (GError) error = NULL;
  GString *a = g_string_new ("{\"protocol\": 1, \"acked\": [], \"rejected\": [], \"cursor\": \"1\", \"more\": false, \"ops\": [");
  SgSyncCounts c = { 0 };

  for (guint i = 0; i < n; i++) {
    g_string_append_printf (a, "%s{\"op_id\": \"%s:%016" G_GINT64_MODIFIER "x\", \"hlc\": \"%016" G_GINT64_MODIFIER "x\", "
                            "\"entity\": \"tag_assignment\", \"key\": \"organisation:acme.test/%s\", \"op\": \"%s\", "
                            "\"fields\": {\"origin\": \"person\"", i ? "," : "", ops[i].dev, ops[i].hlc, ops[i].hlc, tag,
                            ops[i].op);
    if (ops[i].seen >= 0)
      g_string_append_printf (a, ", \"seen\": \"%016" G_GINT64_MODIFIER "x\"", (guint64) ops[i].seen);
    g_string_append (a, "}}");
  }
  g_string_append (a, "]}");
  g_assert_true (sg_sync_apply_answer (p->store, a->str, -1, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.skipped, ==, 0);
  g_string_free (a, TRUE);
}

/* Whether organisation acme.test has @tag here (1), has it removed (0) or never had it (-1). */
static gint64
tag_state (Peer *p, const char *tag)
{
  g_autofree char *sql = g_strdup_printf (
    "SELECT coalesce((SELECT 1 - ta.removed FROM tag_assignments ta JOIN tags t ON t.id = ta.tag_id "
    "JOIN organisations o ON o.id = ta.entity_id WHERE ta.entity_type = 'organisation' AND o.domain = 'acme.test' "
    "AND t.name = '%s'), -1)", tag);

  return count (p, sql);
}

/* The member's clocks, "+:N -:N", for comparing stores and orders. */
static char *
set_clocks (Peer *p, const char *tag)
{
  g_autofree char *sql = g_strdup_printf (
    "SELECT coalesce((SELECT hlc FROM sync_clock WHERE entity = 'tag_assignment' AND natural_key = "
    "'organisation:acme.test/%s' AND field = '+'), -1) * 1000003 + coalesce((SELECT hlc FROM sync_clock WHERE "
    "entity = 'tag_assignment' AND natural_key = 'organisation:acme.test/%s' AND field = '-'), -1)", tag, tag);

  return g_strdup_printf ("%" G_GINT64_FORMAT, count (p, sql));
}

/* The rule, computed independently: present iff the newest add is newer than the newest add a
 * remove saw (a remove without `seen`: its hlc minus one). */
static gboolean
set_expected (const SetOp *ops, guint n)
{
  gint64 plus = -1, minus = -1;

  for (guint i = 0; i < n; i++) {
    if (strcmp (ops[i].op, "add") == 0)
      plus = MAX (plus, (gint64) ops[i].hlc);
    else
      minus = MAX (minus, ops[i].seen >= 0 ? ops[i].seen : (gint64) ops[i].hlc - 1);
  }
  return plus > minus;
}

/* What a pulled add and remove do to a member: an add the remover had not seen wins over a
 * remove stamped after it; an add it had seen is removed; a remove from an older client (no
 * `seen`) removes every add stamped before it and loses a tie, as before; a local remove
 * sends the add it saw, and an add it had not seen, pulled afterwards, brings the member
 * back. */
static void
test_set_rules (void)
{
  g_autofree char *root = sg_test_make_tmpdir ();
  g_autoptr (GError) error = NULL;
  g_autofree char *fields = NULL;
  Peer a = { 0 };

  peer_open (&a, root, "alice", "alice@us.test");
  peer_import (&a, "Maildir", alice_mail);
  {
    /* y had seen its own add at 100 and removes at 300; x's add at 200 was concurrent. */
    const SetOp ops[] = { { "add", SET_HLC (100), -1, "dev-y" }, { "add", SET_HLC (200), -1, "dev-x" },
                          { "remove", SET_HLC (300), SET_HLC (100), "dev-y" } };

    apply_set_ops (&a, "unseen", ops, 3);
    g_assert_cmpint (tag_state (&a, "unseen"), ==, 1);
    /* The same ops again, one by one and reversed: nothing changes. */
    for (int i = 2; i >= 0; i--)
      apply_set_ops (&a, "unseen", &ops[i], 1);
    g_assert_cmpint (tag_state (&a, "unseen"), ==, 1);
  }
  {
    /* The remover had seen the add at 200: removed, and an add at 150 arriving late does not
     * bring it back (it too was before what the remover saw). */
    const SetOp ops[] = { { "add", SET_HLC (200), -1, "dev-x" }, { "remove", SET_HLC (300), SET_HLC (200), "dev-y" },
                          { "add", SET_HLC (150), -1, "dev-z" } };

    apply_set_ops (&a, "seen", ops, 2);
    g_assert_cmpint (tag_state (&a, "seen"), ==, 0);
    apply_set_ops (&a, "seen", &ops[2], 1);
    g_assert_cmpint (tag_state (&a, "seen"), ==, 0);
  }
  {
    /* Removes without `seen` (older clients, ops logged before this rule): a tie keeps the
     * member, a later remove removes it. */
    const SetOp tie[] = { { "remove", SET_HLC (300), -1, "dev-y" }, { "add", SET_HLC (300), -1, "dev-x" } };
    const SetOp after[] = { { "add", SET_HLC (200), -1, "dev-x" }, { "remove", SET_HLC (300), -1, "dev-y" } };

    apply_set_ops (&a, "old-tie", tie, 2);
    g_assert_cmpint (tag_state (&a, "old-tie"), ==, 1);
    apply_set_ops (&a, "old-after", after, 2);
    g_assert_cmpint (tag_state (&a, "old-after"), ==, 0);
  }
  {
    /* A `seen` that is not older than its remove cannot be: it counts as hlc - 1 (the server
     * refuses such an op). */
    const SetOp ops[] = { { "add", SET_HLC (400), -1, "dev-x" }, { "remove", SET_HLC (300), SET_HLC (900), "dev-y" } };

    apply_set_ops (&a, "bogus", ops, 2);
    g_assert_cmpint (tag_state (&a, "bogus"), ==, 1);
  }
  {
    /* A local remove carries the add it saw (the pulled one at 200, not its own clock), and a
     * concurrent add it had not seen, pulled afterwards, wins although stamped earlier. */
    const SetOp add[] = { { "add", SET_HLC (200), -1, "dev-x" } };
    const SetOp unseen[] = { { "add", SET_HLC (250), -1, "dev-z" } };

    apply_set_ops (&a, "local", add, 1);
    g_assert_cmpint (tag_state (&a, "local"), ==, 1);
    g_assert_true (sg_tags_remove (a.store, "acme.test", "local", &error));
    g_assert_no_error (error);
    g_assert_cmpint (tag_state (&a, "local"), ==, 0);
    fields = g_strdup_printf ("SELECT count(*) FROM changes WHERE entity = 'tag_assignment' AND op = 'remove' "
                              "AND natural_key = 'organisation:acme.test/local' AND json_extract(fields, '$.seen') = "
                              "'%016" G_GINT64_MODIFIER "x' AND hlc > %" G_GINT64_FORMAT, SET_HLC (200),
                              (gint64) SET_HLC (250));
    g_assert_cmpint (count (&a, fields), ==, 1);
    apply_set_ops (&a, "local", unseen, 1);
    g_assert_cmpint (tag_state (&a, "local"), ==, 1);
    /* Removed again, now having seen 250: gone. */
    g_assert_true (sg_tags_remove (a.store, "acme.test", "local", &error));
    g_assert_no_error (error);
    apply_set_ops (&a, "local", unseen, 1);
    g_assert_cmpint (tag_state (&a, "local"), ==, 0);
  }
  {
    /* A remove of a member this store never saw added says it saw none (seen 0): an add made
     * elsewhere, pulled afterwards though stamped before the remove, wins. */
    const SetOp add[] = { { "add", SET_HLC (260), -1, "dev-x" } };

    g_assert_true (sg_tags_remove (a.store, "acme.test", "never", &error));
    g_assert_no_error (error);
    g_assert_cmpint (count (&a, "SELECT count(*) FROM changes WHERE op = 'remove' AND natural_key = "
                                "'organisation:acme.test/never' AND json_extract(fields, '$.seen') = '0000000000000000'"),
                     ==, 1);
    apply_set_ops (&a, "never", add, 1);
    g_assert_cmpint (tag_state (&a, "never"), ==, 1);
  }
  peer_close (&a);
  sg_test_rm_rf (root);
}

/* Heap's algorithm: every permutation of idx[0..n-1], appended to @out as n guints each. */
static void
permutations (guint *idx, guint n, guint k, GArray *out)
{
  if (k == 1) {
    g_array_append_vals (out, idx, n);
    return;
  }
  for (guint i = 0; i < k; i++) {
    permutations (idx, n, k - 1, out);
    guint j = (k % 2 == 0) ? i : 0, t = idx[j];

    idx[j] = idx[k - 1];
    idx[k - 1] = t;
  }
}

/* Convergence: the same add and remove ops applied in every order (each op its own answer,
 * and every third order with each op applied twice) give the same member and the same clocks,
 * the ones the rule gives; with `seen`, without (older clients), and mixed. */
static void
test_set_permutations (void)
{
  g_autofree char *root = sg_test_make_tmpdir ();
  const SetOp with_seen[] = {
    { "add", SET_HLC (100), -1, "dev-x" }, { "remove", SET_HLC (200), SET_HLC (100), "dev-y" },
    { "add", SET_HLC (150), -1, "dev-z" }, { "remove", SET_HLC (180), SET_HLC (120), "dev-z" },
    { "add", SET_HLC (120), -1, "dev-y" } };
  const SetOp with_seen_gone[] = {
    { "add", SET_HLC (100), -1, "dev-x" }, { "add", SET_HLC (150), -1, "dev-z" },
    { "remove", SET_HLC (200), SET_HLC (150), "dev-y" }, { "remove", SET_HLC (120), SET_HLC (100), "dev-x" },
    { "add", SET_HLC (140), -1, "dev-y" } };
  const SetOp without_seen[] = {
    { "add", SET_HLC (100), -1, "dev-x" }, { "remove", SET_HLC (200), -1, "dev-y" },
    { "add", SET_HLC (200), -1, "dev-z" }, { "add", SET_HLC (150), -1, "dev-x" },
    { "remove", SET_HLC (190), -1, "dev-z" } };
  const SetOp without_seen_gone[] = {
    { "add", SET_HLC (100), -1, "dev-x" }, { "remove", SET_HLC (200), -1, "dev-y" },
    { "add", SET_HLC (150), -1, "dev-z" }, { "remove", SET_HLC (120), -1, "dev-x" } };
  const SetOp mixed[] = {
    { "remove", SET_HLC (300), SET_HLC (100), "dev-y" }, { "remove", SET_HLC (250), -1, "dev-x" },
    { "add", SET_HLC (200), -1, "dev-z" }, { "add", SET_HLC (260), -1, "dev-x" },
    { "add", SET_HLC (100), -1, "dev-y" } };
  const struct {
    const char *name;
    const SetOp *ops;
    guint n;
    gboolean want;
  } sets[] = {
    { "seen", with_seen, G_N_ELEMENTS (with_seen), TRUE },
    { "seengone", with_seen_gone, G_N_ELEMENTS (with_seen_gone), FALSE },
    { "old", without_seen, G_N_ELEMENTS (without_seen), TRUE },
    { "oldgone", without_seen_gone, G_N_ELEMENTS (without_seen_gone), FALSE },
    { "mixed", mixed, G_N_ELEMENTS (mixed), TRUE },
  };
  Peer a = { 0 };

  peer_open (&a, root, "alice", "alice@us.test");
  peer_import (&a, "Maildir", alice_mail);
  for (guint s = 0; s < G_N_ELEMENTS (sets); s++) {
    g_autoptr (GArray) orders = g_array_new (FALSE, FALSE, sizeof (guint));
    g_autofree char *first_clocks = NULL;
    guint idx[8];
    guint n = sets[s].n, norders;

    g_assert_cmpint (set_expected (sets[s].ops, n), ==, sets[s].want);
    for (guint i = 0; i < n; i++)
      idx[i] = i;
    permutations (idx, n, n, orders);
    norders = orders->len / n;
    g_assert_cmpuint (norders, ==, n == 5 ? 120 : 24);
    for (guint o = 0; o < norders; o++) {
      g_autofree char *tag = g_strdup_printf ("%s-%u", sets[s].name, o);
      g_autofree char *clocks = NULL;

      for (guint i = 0; i < n; i++) {
        const SetOp *op = &sets[s].ops[g_array_index (orders, guint, o * n + i)];

        apply_set_ops (&a, tag, op, 1);
        if (o % 3 == 0)
          apply_set_ops (&a, tag, op, 1);
      }
      /* Absent: removed, or never stored (when no add got past the removes seen so far). */
      if ((tag_state (&a, tag) == 1) != sets[s].want)
        g_error ("set %s, order %u: the member is %s", sets[s].name, o, sets[s].want ? "absent" : "present");
      clocks = set_clocks (&a, tag);
      if (first_clocks == NULL)
        first_clocks = g_strdup (clocks);
      g_assert_cmpstr (clocks, ==, first_clocks);
    }
    /* All the ops in one answer: the same. */
    {
      g_autofree char *tag = g_strdup_printf ("%s-one", sets[s].name);
      g_autofree char *clocks = NULL;

      apply_set_ops (&a, tag, sets[s].ops, n);
      g_assert_cmpint (tag_state (&a, tag) == 1, ==, sets[s].want);
      clocks = set_clocks (&a, tag);
      g_assert_cmpstr (clocks, ==, first_clocks);
    }
  }
  peer_close (&a);
  sg_test_rm_rf (root);
}

/* --- meetings, pipelines, facts, lists --------------------------------------------------------- */

static char *
ics (const char *uid, int sequence, const char *dtstamp, const char *start, const char *summary,
     const char *const *attendees)
{
  GString *s = g_string_new ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//sg test//EN\r\nBEGIN:VEVENT\r\n");

  g_string_append_printf (s, "UID:%s\r\nSEQUENCE:%d\r\nDTSTAMP:%s\r\nDTSTART:%s\r\nDURATION:PT1H\r\n"
                          "SUMMARY:%s\r\nLOCATION:Room 4\r\nORGANIZER;CN=Jane Doe:mailto:jane@acme.test\r\n",
                          uid, sequence, dtstamp, start, summary);
  for (guint i = 0; attendees[i]; i++)
    g_string_append_printf (s, "ATTENDEE;PARTSTAT=%s:mailto:%s\r\n", i == 0 ? "ACCEPTED" : "NEEDS-ACTION",
                            attendees[i]);
  g_string_append (s, "END:VEVENT\r\nEND:VCALENDAR\r\n");
  return g_string_free (s, FALSE);
}

/* Imports a calendar file into @p. */
static void
peer_import_ics (Peer *p, const char *name, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgImporter) imp = sg_importer_new (p->store, p->identity);
  g_autofree char *rel = g_strdup_printf ("cal/%s", name);
  g_autofree char *path = sg_test_write_file (p->dir, rel, text, -1);

  g_assert_true (sg_importer_import_path (imp, path, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sg_importer_flush (imp, &error));
  g_assert_no_error (error);
}

static void
peer_pipelines (Peer *p, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgPipelines) pl = sg_pipelines_new_from_data (text, -1, "pipelines.conf", &error);

  g_assert_no_error (error);
  g_assert_true (sg_pipelines_apply (p->store, pl, &error));
  g_assert_no_error (error);
}

/* Signatures: Ann's title changes over time (facts and their history). */
static const char *const ann_old[] = {
  "From: Ann Smith <ann@acme.test>\nTo: Alice <alice@us.test>\nDate: Tue, 3 Mar 2026 10:00:00 +0100\n"
  "Subject: Tender for demand forecasting\nMessage-ID: <t1@acme.test>\n\n"
  "Dear Alice,\n\nour tender for demand forecasting opens next week.\n\n"
  "Best regards,\nAnn Smith\nHead of Procurement\nAcme GmbH\nMobile: 0170 1234567\n",
  "From: Ann Smith <ann@acme.test>\nTo: Alice <alice@us.test>\nDate: Mon, 2 Feb 2026 10:00:00 +0100\n"
  "Subject: Lunch\nMessage-ID: <t3@acme.test>\n\nSee you.\n\n-- \nAnn Smith\nProcurement Manager\nAcme GmbH\n",
  /* a newsletter sender, a person so far */
  "From: Pat Weekly <pat@acme.test>\nTo: Alice <alice@us.test>\nDate: Wed, 4 Mar 2026 10:00:00 +0000\n"
  "Subject: Acme news\nMessage-ID: <n1@acme.test>\n\nNews.\n",
  NULL,
};
static const char *const ann_new[] = {
  "From: Ann Smith <ann@acme.test>\nTo: Bob <bob@us.test>\nDate: Tue, 10 Mar 2026 10:00:00 +0100\n"
  "Subject: Tender questions\nMessage-ID: <t2@acme.test>\n\n"
  "Hello,\n\nquestions about the tender are due Friday.\n\n"
  "Best regards,\nAnn Smith\nChief Procurement Officer\nAcme GmbH\nMobile: 0170 1234567\n",
  NULL,
};
/* The same sender, now seen to be a mailing list (List-Post): the person is deleted. */
static const char *const news_list[] = {
  "From: Pat Weekly <pat@acme.test>\nTo: Bob <bob@us.test>\nDate: Thu, 5 Mar 2026 10:00:00 +0000\n"
  "List-Post: <mailto:pat@acme.test>\nList-Id: <pat.acme.test>\n"
  "Subject: Acme news 2\nMessage-ID: <n2@acme.test>\n\nMore news.\n",
  NULL,
};
static const char *const news_later[] = {
  "From: \"Pat Weekly Smith\" <pat@acme.test>\nTo: Alice <alice@us.test>\nDate: Fri, 6 Mar 2026 10:00:00 +0000\n"
  "Subject: Acme news 3\nMessage-ID: <n3@acme.test>\n\nEven more.\n",
  NULL,
};

static void
assert_converged (Peer *p, guint n, gboolean subjects)
{
  g_autofree char *first = dump (&p[0], subjects);

  for (guint i = 1; i < n; i++) {
    g_autofree char *other = dump (&p[i], subjects);

    g_assert_cmpstr (first, ==, other);
  }
  for (guint i = 0; i < n; i++)
    assert_no_echo (&p[i]);
}

/* Meetings (with attendees), pipelines (with stages), signature facts and a person found to
 * be a list converge on three stores, after concurrent offline edits, delivered twice. */
static void
test_meetings_pipelines_facts (void)
{
  static const char *const att1[] = { "alice@us.test", "tom@beta.test", NULL };
  static const char *const att2[] = { "alice@us.test", "dora@delta.test", NULL };
  static const char *const att3[] = { "alice@us.test", "dora@delta.test", "carol@gamma.test", NULL };
  g_autofree char *root = sg_test_make_tmpdir ();
  g_autoptr (SgSyncSettings) s = sg_sync_settings_new ();
  g_autoptr (GError) error = NULL;
  Peer p[3] = { { 0 } };
  Relay r;

  relay_init (&r);
  r.duplicate = TRUE;
  sg_sync_settings_set_share (s, SG_SHARE_FULL);
  peer_open (&p[0], root, "alice", "alice@us.test");
  peer_open (&p[1], root, "bob", "bob@us.test");
  peer_open (&p[2], root, "carl", "carl@us.test");

  /* Offline: Alice has the old signatures, the newsletter as a person, a meeting and a
   * pipeline; Bob the newest signature. */
  peer_import (&p[0], "Maildir", ann_old);
  peer_import (&p[1], "Maildir", ann_new);
  {
    g_autofree char *v0 = ics ("demo-9@acme.test", 0, "20260301T090000Z", "20260310T140000Z", "Demo", att1);

    peer_import_ics (&p[0], "demo.ics", v0);
  }
  peer_pipelines (&p[0], "[pipeline consulting]\ndescription=Consulting deals\nstages=lead;proposal;won;lost\n"
                         "[stage consulting/won]\nkind=won\n[stage consulting/lost]\nkind=lost\n");
  for (guint round = 0; round < 2; round++)
    for (guint i = 0; i < 3; i++)
      relay_sync (&r, p[i].store, s);
  assert_converged (p, 3, TRUE);
  {
    g_autofree char *d = dump (&p[2], TRUE);
    g_autoptr (SgTable) current = sg_query_person_facts (p[2].store, "ann@acme.test", FALSE, &error);
    g_autoptr (SgTable) all = sg_query_person_facts (p[2].store, "ann@acme.test", TRUE, &error);
    gboolean cpo = FALSE, old_current = FALSE;

    g_assert_no_error (error);
    g_assert_true (sg_test_contains (d, "meeting | demo-9@acme.test |  | Demo/Room 4 | "));
    g_assert_true (sg_test_contains (d, "| jane@acme.test | ical:demo-9@acme.test\n"));
    g_assert_true (sg_test_contains (d, "attendee | demo-9@acme.test | tom@beta.test |"));
    g_assert_true (sg_test_contains (d, "pipeline | consulting | Consulting deals | proposal | 2 |"));
    g_assert_true (sg_test_contains (d, "fact | ann@acme.test | title |  | Procurement Manager |"));
    /* Carl, who never saw Ann's mail, knows her current title and its history. */
    for (guint i = 0; i < sg_table_get_n_rows (current); i++) {
      cpo |= g_strcmp0 (sg_table_get_text (current, i, 2), "Chief Procurement Officer") == 0;
      old_current |= g_strcmp0 (sg_table_get_text (current, i, 2), "Head of Procurement") == 0;
    }
    g_assert_true (cpo);
    g_assert_false (old_current);
    g_assert_cmpuint (sg_table_get_n_rows (all), >=, 4);
    g_assert_true (sg_test_contains (d, "person | pat@acme.test | Pat Weekly"));
  }

  /* Concurrent offline edits. Alice moves the meeting (SEQUENCE 1), Bob (later) does the same
   * with another summary and attendee list: the same version, the later writer wins. Carl
   * has only the original invitation (SEQUENCE 0) and imports it last: an older version, it
   * wins nothing. Pipelines: Bob redefines it later than Alice. Bob learns the newsletter is
   * a list; Alice, later, sees a better name for it. */
  {
    g_autofree char *a1 = ics ("demo-9@acme.test", 1, "20260305T090000Z", "20260312T140000Z", "Demo (moved)", att2);
    g_autofree char *b1 = ics ("demo-9@acme.test", 1, "20260305T090000Z", "20260312T150000Z", "Demo on Thursday",
                               att3);
    g_autofree char *c0 = ics ("demo-9@acme.test", 0, "20260301T090000Z", "20260310T140000Z", "Demo", att1);

    peer_import_ics (&p[0], "demo.ics", a1);
    peer_pipelines (&p[0], "[pipeline consulting]\ndescription=Consulting (Alice)\nstages=lead;proposal;won;lost\n"
                           "[stage consulting/won]\nkind=won\n[stage consulting/lost]\nkind=lost\n");
    g_usleep (3000);
    peer_import (&p[1], "Maildir", news_list);
    peer_import_ics (&p[1], "demo.ics", b1);
    peer_pipelines (&p[1], "[pipeline consulting]\ndescription=Consulting (Bob)\n"
                           "stages=lead;qualified;proposal;won;lost\n[stage consulting/won]\nkind=won\n"
                           "[stage consulting/lost]\nkind=lost\n[stage consulting/qualified]\nprobability=40\n");
    g_usleep (3000);
    peer_import (&p[0], "Maildir", news_later);
    /* Carl's store forgets it had the meeting: its importer takes the old invitation. */
    {
      sqlite3 *db = NULL;
      g_autofree char *path = g_build_filename (p[2].dir, "store.db", NULL);

      g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_exec (db, "DELETE FROM meetings", NULL, NULL, NULL), ==, SQLITE_OK);
      sqlite3_close (db);
    }
    peer_import_ics (&p[2], "demo.ics", c0);
    g_assert_cmpint (count (&p[2], "SELECT count(*) FROM changes WHERE entity = 'meeting' AND acked = 0"), ==, 1);
  }
  for (guint round = 0; round < 2; round++)
    for (int i = 2; i >= 0; i--)
      relay_sync (&r, p[i].store, s);
  assert_converged (p, 3, TRUE);
  {
    g_autofree char *d = dump (&p[0], TRUE);

    g_assert_true (sg_test_contains (d, "meeting | demo-9@acme.test |  | Demo on Thursday/Room 4 | "));
    g_assert_true (sg_test_contains (d, "attendee | demo-9@acme.test | carol@gamma.test |"));
    g_assert_false (sg_test_contains (d, "attendee | demo-9@acme.test | tom@beta.test |"));
    g_assert_true (sg_test_contains (d, "participant | ical:demo-9@acme.test | carol@gamma.test"));
    g_assert_true (sg_test_contains (d, "pipeline | consulting | Consulting (Bob) | qualified | 2 | 40 |"));
    /* The list: no person (a later name does not bring it back), its mail stays. */
    g_assert_false (sg_test_contains (d, "person | pat@acme.test"));
    g_assert_true (sg_test_contains (d, "list | pat@acme.test | NULL"));
    g_assert_true (sg_test_contains (d, "participant | n1@acme.test | pat@acme.test | from"));
    g_assert_true (sg_test_contains (d, "participant | n3@acme.test | pat@acme.test | from"));
  }
  g_assert_cmpint (count (&p[0], "SELECT count(*) FROM interactions WHERE message_id LIKE 'n_@acme.test'"), ==, 3);

  /* Bob found the list (a person delete), Alice later logged a better name for it. */
  g_assert_cmpint (count (&p[1], "SELECT count(*) FROM changes WHERE entity = 'person' AND op = 'delete' "
                                 "AND natural_key = 'pat@acme.test'"), ==, 1);
  g_assert_cmpint (count (&p[0], "SELECT count(*) FROM changes WHERE entity = 'person' "
                                 "AND natural_key = 'pat@acme.test' "
                                 "AND json_extract(fields, '$.name') = 'Pat Weekly Smith'"), ==, 1);

  /* A CalDAV server lost the event on another device: the meeting and its interaction are
   * deleted (newer than every field), everywhere. */
  {
    gint64 hlc = (g_get_real_time () / 1000 + 10) << 16;
    const char *keys[][2] = { { "meeting", "demo-9@acme.test" }, { "interaction", "ical:demo-9@acme.test" } };

    for (guint k = 0; k < 2; k++) {
      JsonObject *op = json_object_new ();
      g_autofree char *hex = g_strdup_printf ("%016" G_GINT64_MODIFIER "x", hlc + k);
      g_autofree char *id = g_strdup_printf ("dev-z:%s", hex);

      json_object_set_string_member (op, "op_id", id);
      json_object_set_string_member (op, "hlc", hex);
      json_object_set_string_member (op, "entity", keys[k][0]);
      json_object_set_string_member (op, "key", keys[k][1]);
      json_object_set_string_member (op, "op", "delete");
      json_object_set_object_member (op, "fields", json_object_new ());
      g_ptr_array_add (r.log, op);
    }
  }
  for (guint i = 0; i < 3; i++)
    relay_sync (&r, p[i].store, s);
  assert_converged (p, 3, TRUE);
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpint (count (&p[i], "SELECT count(*) FROM meetings"), ==, 0);
    g_assert_cmpint (count (&p[i], "SELECT count(*) FROM interactions WHERE kind = 'meeting'"), ==, 0);
  }
  for (guint i = 0; i < 3; i++)
    peer_close (&p[i]);
  relay_clear (&r);
  sg_test_rm_rf (root);
}

/* Whether the relay holds an op of @entity/@key whose fields have @member (with @text in it). */
static gboolean
relay_has (Relay *r, const char *entity, const char *key, const char *member, const char *text)
{
  for (guint i = 0; i < r->log->len; i++) {
    JsonObject *op = r->log->pdata[i];
    JsonObject *fields = json_object_get_object_member (op, "fields");
    const char *v;

    if (strcmp (json_object_get_string_member (op, "entity"), entity) != 0 ||
        (key && strcmp (json_object_get_string_member (op, "key"), key) != 0) ||
        !json_object_has_member (fields, member))
      continue;
    v = json_object_get_string_member_with_default (fields, member, NULL);
    if (text == NULL || (v && sg_test_contains (v, text)))
      return TRUE;
  }
  return FALSE;
}

/* Raising the share level sends, at the next sync, what the lower level held back: subjects,
 * meeting summaries, then bodies and signature facts. Lowering it sends nothing again; what
 * other rules keep back (internal-only mail, excluded domains) stays back. */
static void
test_share_raised (void)
{
  g_autofree char *root = sg_test_make_tmpdir ();
  g_autoptr (SgSyncSettings) s = sg_sync_settings_new ();
  g_autofree char *d = NULL;
  guint before;
  Peer a = { 0 }, b = { 0 };
  Relay r;

  relay_init (&r);
  peer_open (&a, root, "alice", "alice@us.test");
  peer_open (&b, root, "bob", "bob@us.test");
  peer_import (&a, "Maildir", alice_mail);
  peer_import (&a, "Maildir", private_mail);
  peer_import (&a, "Maildir", ann_old);
  {
    static const char *const att[] = { "alice@us.test", NULL };
    g_autofree char *v0 = ics ("demo-9@acme.test", 0, "20260301T090000Z", "20260310T140000Z", "Demo", att);

    peer_import_ics (&a, "demo.ics", v0);
  }
  sg_sync_settings_add_excluded_domain (s, "secret.test");

  /* metadata */
  relay_sync (&r, a.store, s);
  g_assert_true (relay_has (&r, "interaction", "a1@acme.test", "from", NULL));
  g_assert_false (relay_has (&r, "interaction", NULL, "subject", NULL));
  g_assert_false (relay_has (&r, "meeting", NULL, "summary", NULL));
  g_assert_false (relay_has (&r, "person_fact", NULL, "value", NULL));

  /* subjects: the subjects of the mail already sent, the meeting's summary; no body, no fact */
  sg_sync_settings_set_share (s, SG_SHARE_SUBJECTS);
  relay_sync (&r, a.store, s);
  g_assert_true (relay_has (&r, "interaction", "a1@acme.test", "subject", "Forecast tender"));
  g_assert_true (relay_has (&r, "meeting", "demo-9@acme.test", "summary", "Demo"));
  g_assert_false (relay_has (&r, "interaction", NULL, "body", NULL));
  g_assert_false (relay_has (&r, "person_fact", NULL, "value", NULL));
  relay_sync (&r, b.store, s);
  d = dump (&b, TRUE);
  g_assert_true (sg_test_contains (d, "| Forecast tender\n"));
  g_assert_true (sg_test_contains (d, "meeting | demo-9@acme.test |  | Demo/Room 4 |"));

  /* full: bodies and the facts read from signatures */
  sg_sync_settings_set_share (s, SG_SHARE_FULL);
  relay_sync (&r, a.store, s);
  g_assert_true (relay_has (&r, "interaction", "a1@acme.test", "body", "demand forecast"));
  g_assert_true (relay_has (&r, "person_fact", NULL, "value", "Head of Procurement"));
  /* never: internal-only mail, an excluded domain */
  g_assert_false (relay_has (&r, "interaction", "int1@us.test", "date", NULL));
  g_assert_false (relay_has (&r, "interaction", "x1@secret.test", "date", NULL));
  g_assert_false (relay_has (&r, "person", "eve@secret.test", "name", NULL));
  g_assert_cmpint (count (&a, "SELECT count(*) FROM changes WHERE acked = 2 AND natural_key = 'int1@us.test'"), ==, 1);
  relay_sync (&r, b.store, s);
  g_clear_pointer (&d, g_free);
  d = dump (&b, TRUE);
  g_assert_true (sg_test_contains (d, "fact | ann@acme.test | title |  | Head of Procurement |"));
  g_assert_cmpint (count (&b, "SELECT count(*) FROM sync_bodies WHERE message_id = 'a1@acme.test' "
                              "AND body LIKE '%demand forecast%'"), ==, 1);

  /* Mail captured from IMAP goes without its body at full (the store keeps no text of it;
   * docs/internals/sync-client.md, "Bodies of IMAP mail"), with its subject. */
  {
    sqlite3 *db = NULL;
    g_autofree char *path = g_build_filename (a.dir, "store.db", NULL);
    static const char *const imap_mail[] = {
      "From: Jane Doe <jane@acme.test>\nTo: Alice <alice@us.test>\nDate: Tue, 03 Mar 2026 12:00:00 +0000\n"
      "Subject: From the IMAP server\nMessage-ID: <imap1@acme.test>\n\nImapBodyText stays here.\n",
      NULL,
    };

    peer_import (&a, "Maildir", imap_mail);
    g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_exec (db, "UPDATE interactions SET source_id = NULL, location = "
                                       "'imaps://alice@imap.us.test/INBOX;UIDVALIDITY=7/;UID=42' "
                                       "WHERE message_id = 'imap1@acme.test'", NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close (db);
    relay_sync (&r, a.store, s);
    g_assert_true (relay_has (&r, "interaction", "imap1@acme.test", "subject", "From the IMAP server"));
    g_assert_false (relay_has (&r, "interaction", "imap1@acme.test", "body", NULL));
  }

  /* lowering it resends nothing */
  before = r.log->len;
  sg_sync_settings_set_share (s, SG_SHARE_METADATA);
  relay_sync (&r, a.store, s);
  g_assert_cmpuint (r.log->len, ==, before);
  assert_no_echo (&a);
  assert_no_echo (&b);
  peer_close (&a);
  peer_close (&b);
  relay_clear (&r);
  sg_test_rm_rf (root);
}

/* The request is written as text: quotes, backslashes, control characters and non-ASCII in
 * what it carries come out as the same strings on the other side. */
static void
test_request_escaping (void)
{
  static const char *const mail[] = {
    "From: \"O'Brien, \\\"Jo\\\"\" <jo@acme.test>\nTo: Alice <alice@us.test>\nDate: Mon, 02 Mar 2026 10:00:00 +0000\n"
    "Subject: =?UTF-8?B?UXVvdGVzICJoaSIsIGEgYmFja3NsYXNoIFwsIGEgdGFiCSBhbmQgw6nDqMOg?=\n"
    "Message-ID: <e1@acme.test>\n\nText.\n",
    NULL,
  };
  g_autofree char *root = sg_test_make_tmpdir ();
  g_autoptr (SgSyncSettings) s = sg_sync_settings_new ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *da = NULL, *db = NULL;
  gboolean seen = FALSE;
  JsonArray *ops;
  Peer a = { 0 }, b = { 0 };
  Relay r;

  relay_init (&r);
  sg_sync_settings_set_share (s, SG_SHARE_SUBJECTS);
  peer_open (&a, root, "alice", "alice@us.test");
  peer_open (&b, root, "bob", "bob@us.test");
  peer_import (&a, "Maildir", mail);
  ops = request_ops (a.store, s, parser);
  for (guint i = 0; i < json_array_get_length (ops); i++) {
    JsonObject *op = json_array_get_object_element (ops, i);

    if (strcmp (json_object_get_string_member (op, "key"), "e1@acme.test") == 0) {
      seen = TRUE;
      g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (op, "fields"), "subject"), ==,
                       /* the importer made the tab a space */
                       "Quotes \"hi\", a backslash \\, a tab  and \xc3\xa9\xc3\xa8\xc3\xa0");
    }
  }
  g_assert_true (seen);
  relay_sync (&r, a.store, s);
  relay_sync (&r, b.store, s);
  da = dump (&a, TRUE);
  db = dump (&b, TRUE);
  g_assert_cmpstr (da, ==, db);
  peer_close (&a);
  peer_close (&b);
  relay_clear (&r);
  sg_test_rm_rf (root);
}

/* The token file must be private. */
static void
test_token_file (void)
{
  g_autofree char *root = sg_test_make_tmpdir ();
  g_autofree char *path = sg_test_write_file (root, "token", "sg_secret_token\n", -1);
  g_autoptr (SgSyncSettings) s = sg_sync_settings_new ();
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_chmod (path, 0644), ==, 0);
  g_assert_false (sg_sync_settings_load_token (s, path, &error));
  g_assert_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_CONFIG);
  g_assert_true (sg_test_contains (error->message, path));
  g_clear_error (&error);
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  g_assert_true (sg_sync_settings_load_token (s, path, &error));
  g_assert_no_error (error);
  g_assert_false (sg_sync_settings_set_server (s, "ftp://x", &error));
  g_assert_error (error, SG_SYNC_ERROR, SG_SYNC_ERROR_CONFIG);
  g_clear_error (&error);
  g_assert_true (sg_sync_settings_set_server (s, "https://crm.example.com/", &error));
  g_assert_cmpstr (sg_sync_settings_get_server (s), ==, "https://crm.example.com");
  sg_test_rm_rf (root);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sync/two-stores", test_two_stores);
  g_test_add_func ("/sync/three-stores", test_three_stores);
  g_test_add_func ("/sync/share-levels", test_share_levels);
  g_test_add_func ("/sync/better-name", test_better_name);
  g_test_add_func ("/sync/clocks-from-log", test_clocks_from_log);
  g_test_add_func ("/sync/bad-answers", test_bad_answers);
  g_test_add_func ("/sync/set-rules", test_set_rules);
  g_test_add_func ("/sync/set-permutations", test_set_permutations);
  g_test_add_func ("/sync/token-file", test_token_file);
  g_test_add_func ("/sync/meetings-pipelines-facts", test_meetings_pipelines_facts);
  g_test_add_func ("/sync/share-raised", test_share_raised);
  g_test_add_func ("/sync/request-escaping", test_request_escaping);
  return g_test_run ();
}
