/* test-panel.c: the mail client plugins' presentation layer (plugins/common/sg-panel.h):
 * what a panel says about a message's people, that every line is safe plain text of
 * bounded width, that its actions write through the core library (and its change log),
 * and that a missing or broken store gives a quiet status. On a store filled by the real
 * importer from hand-written and generated hostile messages, and on the real corpora
 * (../shared/corpora/mail; skipped when absent). */
#include "config.h"

#include <locale.h>
#include <sqlite3.h>
#include <string.h>

#include "sg-panel.h"
#include "sg.h"
#include "test-util.h"

static const struct {
  const char *name;
  const char *text;
} mails[] = {
  { "a1", "From: Jane Doe <jane@acme.com>\nTo: Me <me@ourco.example>\nDate: Mon, 02 Mar 2026 10:00:00 +0000\n"
          "Subject: Demand forecast 2027\nMessage-ID: <a1@acme.com>\n\nCan you help?\n" },
  { "a2", "From: Me <me@ourco.example>\nTo: Jane Doe <jane@acme.com>, Bob Smith <bob@acme.com>\n"
          "Cc: Anna Colleague <anna@ourco.example>\n"
          "Date: Tue, 03 Mar 2026 10:00:00 +0000\nSubject: Our proposal for the demand forecast\n"
          "Message-ID: <a2@ourco.example>\n\nAttached.\n" },
  { "a3", "From: Bob Smith <bob@acme.com>\nTo: Me <me@ourco.example>\nDate: Thu, 05 Mar 2026 10:00:00 +0000\n"
          "Subject: A question\nMessage-ID: <a3@acme.com>\n\nHi.\n" },
};

typedef struct {
  char *dir;
  char *db;
  char *conf;
  SgIdentity *identity;
  char *process;
  SgPanelSource *source;
} Fixture;

static void
write_config (Fixture *f, const char *store)
{
  g_autofree char *text = g_strdup_printf ("[identity]\nname=Me\naddresses=me@ourco.example;\n"
                                           "internal-domains=ourco.example;\n[store]\npath=%s\n",
                                           store);
  g_free (f->conf);
  f->conf = sg_test_write_file (f->dir, "salesgetter.conf", text, -1);
}

static void
import_dir (Fixture *f, const char *md)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgStore) store = sg_store_open (f->db, SG_STORE_OPEN_DEFAULT, &error);
  g_autoptr (SgImporter) imp = NULL;

  g_assert_no_error (error);
  imp = sg_importer_new (store, f->identity);
  g_assert_true (sg_importer_import_path (imp, md, NULL, &error));
  g_assert_true (sg_importer_flush (imp, &error));
  g_assert_no_error (error);
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *md = NULL;
  g_autoptr (SgStore) store = NULL;
  SgProcessNew spec = { .organisation = "acme.com",
                        .deliverable = "Demand forecast 2027",
                        .stage = "proposal",
                        .account_manager = "me@ourco.example",
                        .has_value = TRUE,
                        .value_minor = 4800000,
                        .currency = "EUR" };

  f->dir = sg_test_make_tmpdir ();
  md = g_build_filename (f->dir, "Maildir", NULL);
  sg_test_make_maildir (md);
  for (guint i = 0; i < G_N_ELEMENTS (mails); i++) {
    g_autofree char *name = g_strdup_printf ("Maildir/cur/%u.%s:2,S", i, mails[i].name);
    g_autofree char *p = sg_test_write_file (f->dir, name, mails[i].text, -1);
  }
  f->identity = sg_identity_new ();
  g_assert_true (sg_identity_add_address (f->identity, "me@ourco.example", NULL));
  g_assert_true (sg_identity_add_internal_domain (f->identity, "ourco.example", NULL));
  f->db = g_build_filename (f->dir, "store.db", NULL);
  import_dir (f, md);
  store = sg_store_open (f->db, SG_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  f->process = sg_process_create (store, &spec, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (sg_process_add_contact (store, f->process, "jane@acme.com", "decision-maker", NULL, &error));
  g_assert_true (sg_role_set (store, "jane@acme.com", "customer", NULL, NULL, &error));
  g_assert_true (sg_tags_add (store, "jane@acme.com", "forecasting", &error));
  g_assert_true (sg_tags_add (store, "acme.com", "retail", &error));
  g_assert_no_error (error);
  write_config (f, f->db);
  f->source = sg_panel_source_new (f->conf, NULL);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  sg_panel_source_unref (f->source);
  sg_identity_unref (f->identity);
  sg_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->db);
  g_free (f->conf);
  g_free (f->process);
}

static const SgPanelLine *
find_line (const SgPanelEntry *e, SgPanelLineKind kind)
{
  for (guint i = 0; i < e->lines->len; i++)
    if (((SgPanelLine *)e->lines->pdata[i])->kind == kind)
      return e->lines->pdata[i];
  return NULL;
}

static const SgPanelAction *
find_action (GPtrArray *actions, SgPanelActionKind kind)
{
  for (guint i = 0; actions != NULL && i < actions->len; i++)
    if (((SgPanelAction *)actions->pdata[i])->kind == kind)
      return actions->pdata[i];
  return NULL;
}

static SgPanel *
lookup (Fixture *f, const char *const *addresses, const char *message_id)
{
  g_autoptr (GError) error = NULL;
  SgPanel *panel = sg_panel_lookup_sync (f->source, addresses, message_id, FALSE, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (panel);
  return panel;
}

/* Whether @text is safe plain text of at most @width columns. */
static void
assert_safe (const char *text, guint width)
{
  g_assert_true (g_utf8_validate (text, -1, NULL));
  g_assert_cmpuint (sg_panel_text_columns (text), <=, width);
  for (const char *p = text; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    g_assert_false (g_unichar_iscntrl (c));
    g_assert_false ((c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E
                    || c == 0x200F);
  }
}

static void
assert_panel_safe (const SgPanel *panel, guint width)
{
  if (sg_panel_get_status (panel) != NULL)
    assert_safe (sg_panel_get_status (panel), SG_PANEL_WIDTH_MAX);
  for (guint i = 0; i < sg_panel_get_n_entries (panel); i++) {
    const SgPanelEntry *e = sg_panel_get_entry (panel, i);

    assert_safe (e->heading, width);
    g_assert_cmpuint (e->lines->len, >, 0);
    for (guint j = 0; j < e->lines->len; j++) {
      const SgPanelLine *l = e->lines->pdata[j];

      assert_safe (l->text, width);
      if (j > 0) /* lines come in their documented order */
        g_assert_cmpint (((SgPanelLine *)e->lines->pdata[j - 1])->kind, <=, l->kind);
      for (guint k = 0; k < l->actions->len; k++)
        assert_safe (((SgPanelAction *)l->actions->pdata[k])->label, 40);
    }
  }
}

/* --- text ----------------------------------------------------------------------------------- */

static void
test_sanitize (void)
{
  struct {
    const char *in;
    guint width;
    const char *out;
  } cases[] = {
    { "plain", 20, "plain" },
    { "  two\n\tlines \r\n", 20, "two lines" },
    { "esc\x1b[31mred\x07", 20, "esc [31mred" },
    { "<b>bold</b> &amp;", 30, "<b>bold</b> &amp;" },                                 /* markup stays text */
    { "abc\u202Egnp.exe", 20, "abcgnp.exe" },                                         /* override removed */
    { "\u2067\u05E9\u05DC\u05D5\u05DD\u2069 ok", 20, "\u05E9\u05DC\u05D5\u05DD ok" }, /* isolates too */
    { "0123456789abcdef", 10, "012345678…" },
    { "日本語のテキスト", 7, "日本語…" },                    /* wide: 2 columns each */
    { "e\u0301e\u0301e\u0301", 3, "e\u0301e\u0301e\u0301" }, /* combining marks: 0 */
    { "bad \xff\xfe utf8", 30, "bad \uFFFD\uFFFD utf8" },
    { NULL, 10, "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *got = sg_panel_sanitize (cases[i].in, cases[i].width);

    g_assert_cmpstr (got, ==, cases[i].out);
    assert_safe (got, cases[i].width);
  }
  g_assert_cmpuint (sg_panel_text_columns ("日本"), ==, 4);
}

/* --- a known customer ------------------------------------------------------------------------- */

static void
test_known (Fixture *f, gconstpointer data)
{
  const char *const addrs[] = { "Jane Doe <jane@acme.com>", "me@ourco.example", "anna@ourco.example", NULL };
  g_autoptr (SgPanel) panel = lookup (f, addrs, "<a1@acme.com>");
  const SgPanelEntry *e;
  const SgPanelLine *l;
  const SgPanelAction *a;
  g_autofree char *text = NULL;

  g_assert_null (sg_panel_get_status (panel));
  g_assert_cmpstr (sg_panel_get_message_id (panel), ==, "a1@acme.com");
  /* The user and a colleague are left out. */
  g_assert_cmpuint (sg_panel_get_n_entries (panel), ==, 1);
  e = sg_panel_get_entry (panel, 0);
  g_assert_true (e->known);
  g_assert_cmpstr (e->address, ==, "jane@acme.com");
  g_assert_cmpstr (e->organisation, ==, "acme.com");
  g_assert_true (sg_test_contains (e->heading, "Jane Doe"));
  g_assert_true (sg_test_contains (e->heading, "acme.com"));
  assert_panel_safe (panel, SG_PANEL_WIDTH_DEFAULT);

  g_assert_nonnull ((l = find_line (e, SG_PANEL_LINE_ROLES)));
  g_assert_true (sg_test_contains (l->text, "customer"));
  g_assert_nonnull ((l = find_line (e, SG_PANEL_LINE_TAGS)));
  g_assert_true (sg_test_contains (l->text, "forecasting"));
  g_assert_true (sg_test_contains (l->text, "retail"));
  g_assert_nonnull (find_action (l->actions, SG_PANEL_ACTION_ADD_TAG));
  g_assert_nonnull (find_line (e, SG_PANEL_LINE_INTERACTION));
  g_assert_nonnull (find_line (e, SG_PANEL_LINE_STRENGTH));
  g_assert_nonnull (find_action (e->actions, SG_PANEL_ACTION_ADD_NOTE));

  g_assert_nonnull ((l = find_line (e, SG_PANEL_LINE_PROCESS)));
  g_assert_true (sg_test_contains (l->text, "Demand forecast 2027"));
  g_assert_true (sg_test_contains (l->text, "stage proposal"));
  g_assert_true (sg_test_contains (l->text, "48000.00 EUR"));
  g_assert_true (sg_test_contains (l->text, "decision-maker"));
  a = find_action (l->actions, SG_PANEL_ACTION_NEXT_STAGE);
  g_assert_nonnull (a);
  g_assert_cmpstr (a->process, ==, f->process);
  g_assert_cmpstr (a->stage, ==, "negotiation");
  g_assert_cmpstr (a->label, ==, "Next stage: negotiation");
  a = find_action (l->actions, SG_PANEL_ACTION_SET_STAGE);
  g_assert_nonnull (a);
  g_assert_cmpint (a->input, ==, SG_PANEL_INPUT_CHOICE);
  g_assert_true (g_strv_contains ((const char *const *)a->choices, "qualified"));
  g_assert_false (g_strv_contains ((const char *const *)a->choices, "proposal"));
  a = find_action (l->actions, SG_PANEL_ACTION_LINK_MESSAGE);
  g_assert_nonnull (a);
  g_assert_cmpstr (a->message_id, ==, "a1@acme.com");

  text = sg_panel_to_text (panel, TRUE);
  g_assert_true (g_str_has_prefix (text, e->heading));
  g_assert_true (sg_test_contains (text, "\n  Process: Demand forecast 2027"));
  g_assert_true (sg_test_contains (text, "[Next stage: negotiation]"));
}

/* The number of change-log operations on @entity with @key. */
static int
count_ops (Fixture *f, const char *entity, const char *key_prefix)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  int n;

  g_assert_cmpint (sqlite3_open_v2 (f->db, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (
      sqlite3_prepare_v2 (db, "SELECT count(*) FROM changes WHERE entity = ? AND natural_key LIKE ? || '%'",
                          -1, &stmt, NULL),
      ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, key_prefix, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return n;
}

static char *
process_stage (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SgStore) store = sg_store_open (f->db, SG_STORE_OPEN_READ_ONLY, &error);
  SgProcessQuery q = { .uuid = f->process };
  g_autoptr (SgTable) t = sg_process_query (store, &q, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (sg_table_get_n_rows (t), ==, 1);
  for (guint c = 0; c < sg_table_get_n_columns (t); c++)
    if (strcmp (sg_table_get_column_name (t, c), "stage") == 0)
      return g_strdup (sg_table_get_text (t, 0, c));
  g_assert_not_reached ();
}

static void
test_actions (Fixture *f, gconstpointer data)
{
  const char *const addrs[] = { "jane@acme.com", NULL };
  g_autoptr (SgPanel) panel = lookup (f, addrs, "a1@acme.com");
  const SgPanelEntry *e = sg_panel_get_entry (panel, 0);
  const SgPanelLine *pl = find_line (e, SG_PANEL_LINE_PROCESS);
  const SgPanelLine *tl = find_line (e, SG_PANEL_LINE_TAGS);
  g_autoptr (GError) error = NULL;
  g_autoptr (SgPanelAction) tag = NULL;
  g_autoptr (SgPanelAction) untag = NULL;
  g_autoptr (SgPanelAction) note = NULL;
  g_autoptr (SgPanelAction) stage = NULL;
  g_autoptr (SgPanel) after = NULL;
  g_autofree char *now = NULL;
  g_autofree char *desc = NULL;
  int ops = count_ops (f, "stage_history", f->process);

  /* Next stage: the store and its change log get the move. */
  g_assert_true (sg_panel_run_action_sync (f->source, find_action (pl->actions, SG_PANEL_ACTION_NEXT_STAGE),
                                           NULL, &error));
  g_assert_no_error (error);
  now = process_stage (f);
  g_assert_cmpstr (now, ==, "negotiation");
  g_assert_cmpint (count_ops (f, "stage_history", f->process), >, ops);
  desc = sg_panel_action_describe (find_action (pl->actions, SG_PANEL_ACTION_NEXT_STAGE));
  g_assert_cmpstr (desc, ==, "Demand forecast 2027 moved to negotiation");
  /* The same move again is refused by the stage rules, with the core's reason. */
  g_assert_false (sg_panel_run_action_sync (f->source, find_action (pl->actions, SG_PANEL_ACTION_NEXT_STAGE),
                                            NULL, &error));
  g_assert_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_INVALID_MOVE);
  g_clear_error (&error);

  /* Set stage: a value must be one of the choices. */
  g_assert_null (
      sg_panel_action_with_value (find_action (pl->actions, SG_PANEL_ACTION_SET_STAGE), "nonsense", &error));
  g_assert_error (error, SG_PANEL_ERROR, SG_PANEL_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (sg_panel_run_action_sync (f->source, find_action (pl->actions, SG_PANEL_ACTION_SET_STAGE),
                                            NULL, &error));
  g_assert_error (error, SG_PANEL_ERROR, SG_PANEL_ERROR_INVALID);
  g_clear_error (&error);
  stage = sg_panel_action_with_value (find_action (pl->actions, SG_PANEL_ACTION_SET_STAGE), "qualified",
                                      &error);
  g_assert_no_error (error);
  g_assert_true (sg_panel_run_action_sync (f->source, stage, NULL, &error));
  g_assert_no_error (error);
  g_free (now);
  now = process_stage (f);
  g_assert_cmpstr (now, ==, "qualified");

  /* Tags: added and removed, logged. */
  tag = sg_panel_action_with_value (find_action (tl->actions, SG_PANEL_ACTION_ADD_TAG),
                                    " <i>key account</i> ", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tag->tag, ==, "<i>key account</i>");
  g_assert_true (sg_panel_run_action_sync (f->source, tag, NULL, &error));
  g_assert_no_error (error);
  untag = sg_panel_action_with_value (find_action (tl->actions, SG_PANEL_ACTION_REMOVE_TAG), "forecasting",
                                      &error);
  g_assert_no_error (error);
  g_assert_true (sg_panel_run_action_sync (f->source, untag, NULL, &error));
  g_assert_no_error (error);

  /* A note about the organisation and its process. */
  note = sg_panel_action_with_value (find_action (e->actions, SG_PANEL_ACTION_ADD_NOTE),
                                     "Happy with the demo", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (note->process, ==, f->process);
  g_assert_true (sg_panel_run_action_sync (f->source, note, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_ops (f, "cx_note", ""), ==, 1);

  /* Link the message (it is in the store) to the process. */
  g_assert_true (sg_panel_run_action_sync (f->source, find_action (pl->actions, SG_PANEL_ACTION_LINK_MESSAGE),
                                           NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_ops (f, "interaction_link", ""), >=, 1);

  /* A new lookup shows it all (the cached read-only connection sees the writes). */
  after = lookup (f, addrs, NULL);
  e = sg_panel_get_entry (after, 0);
  g_assert_true (sg_test_contains (find_line (e, SG_PANEL_LINE_PROCESS)->text, "stage qualified"));
  g_assert_true (sg_test_contains (find_line (e, SG_PANEL_LINE_TAGS)->text, "<i>key account</i>"));
  g_assert_false (sg_test_contains (find_line (e, SG_PANEL_LINE_TAGS)->text, "forecasting"));
  /* No message: nothing to link. */
  g_assert_null (find_action (find_line (e, SG_PANEL_LINE_PROCESS)->actions, SG_PANEL_ACTION_LINK_MESSAGE));
}

static void
test_unknown (Fixture *f, gconstpointer data)
{
  const char *const addrs[] = { "\"Kim Lee\" <Kim@Initech.DE>", "info@initech.de", "not an address", NULL };
  g_autoptr (SgPanel) panel = lookup (f, addrs, NULL);
  g_autoptr (SgPanel) after = NULL;
  g_autoptr (GError) error = NULL;
  const SgPanelEntry *e;
  const SgPanelLine *l;
  const SgPanelAction *add;

  g_assert_cmpuint (sg_panel_get_n_entries (panel), ==, 3);
  assert_panel_safe (panel, SG_PANEL_WIDTH_DEFAULT);
  e = sg_panel_get_entry (panel, 0);
  g_assert_false (e->known);
  g_assert_cmpstr (e->address, ==, "kim@initech.de");
  g_assert_true (sg_test_contains (e->heading, "Kim Lee"));
  g_assert_cmpuint (e->lines->len, ==, 1);
  l = e->lines->pdata[0];
  g_assert_cmpint (l->kind, ==, SG_PANEL_LINE_NOTICE);
  g_assert_cmpstr (l->text, ==, "not in the CRM");
  add = find_action (l->actions, SG_PANEL_ACTION_ADD_PERSON);
  g_assert_nonnull (add);
  g_assert_cmpstr (add->name, ==, "Kim Lee");
  /* A role address is not a person: no action to add it. */
  e = sg_panel_get_entry (panel, 1);
  g_assert_null (find_action (((SgPanelLine *)e->lines->pdata[0])->actions, SG_PANEL_ACTION_ADD_PERSON));
  /* What does not parse says so. */
  e = sg_panel_get_entry (panel, 2);
  g_assert_true (g_str_has_prefix (((SgPanelLine *)e->lines->pdata[0])->text, "Not an address"));

  g_assert_true (sg_panel_run_action_sync (f->source, add, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_ops (f, "person", "kim@initech.de"), ==, 1);
  g_assert_cmpint (count_ops (f, "organisation", "initech.de"), ==, 1);
  after = lookup (f, addrs, NULL);
  e = sg_panel_get_entry (after, 0);
  g_assert_true (e->known);
  g_assert_true (sg_test_contains (e->heading, "Kim Lee"));
  g_assert_true (sg_test_contains (e->heading, "initech.de"));
}

/* Generated messages with hostile display names, imported, then shown. */
static void
test_hostile (Fixture *f, gconstpointer data)
{
  g_autofree char *md = g_build_filename (f->dir, "Hostile", NULL);
  g_autoptr (GString) longname = g_string_new (NULL);
  const char *names[] = {
    "<span foreground='red'>Boss</span> &lt;",
    "Evil \u202Egnp.exe\u202C Person",
    "\u05D3\u05E0\u05D4 \u05DB\u05D4\u05DF", /* right-to-left (Hebrew) */
    "=?UTF-8?B?QmVsbAdCZWxsG1szMW1SZWQ=?=",  /* RFC 2047: BEL, ESC inside */
    NULL,                                    /* the long one */
  };
  g_autoptr (GPtrArray) addrs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SgPanel) panel = NULL;
  g_autoptr (SgPanel) narrow = NULL;

  for (int i = 0; i < 300; i++)
    g_string_append (longname, "Very Long Name ");
  names[4] = longname->str;
  sg_test_make_maildir (md);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree char *file = g_strdup_printf ("Hostile/cur/%u.h:2,S", i);
    g_autofree char *from = g_strdup_printf ("p%u@hostile%u.example", i, i);
    g_autofree char *text
        = g_strdup_printf ("From: \"%s\" <%s>\nTo: me@ourco.example\nSubject: <b>x</b>\x1b[2J %u\n"
                           "Date: Mon, 02 Mar 2026 10:00:00 +0000\nMessage-ID: <h%u@x>\n\nHi\n",
                           names[i], from, i, i);
    g_autofree char *p = sg_test_write_file (f->dir, file, text, -1);

    g_ptr_array_add (addrs, g_steal_pointer (&from));
  }
  import_dir (f, md);
  g_ptr_array_add (addrs, NULL);
  panel = lookup (f, (const char *const *)addrs->pdata, NULL);
  g_assert_cmpuint (sg_panel_get_n_entries (panel), ==, G_N_ELEMENTS (names));
  assert_panel_safe (panel, SG_PANEL_WIDTH_DEFAULT);
  /* Markup is shown as the characters it is made of. */
  g_assert_true (
      sg_test_contains (sg_panel_get_entry (panel, 0)->heading, "<span foreground='red'>Boss</span>"));
  g_assert_true (sg_test_contains (sg_panel_get_entry (panel, 1)->heading, "Evil gnp.exe Person"));
  g_assert_true (sg_test_contains (sg_panel_get_entry (panel, 2)->heading, "\u05D3\u05E0\u05D4"));
  g_assert_true (sg_test_contains (sg_panel_get_entry (panel, 3)->heading, "Bell"));
  g_assert_true (g_str_has_suffix (sg_panel_get_entry (panel, 4)->heading, "…"));
  /* The subjects of the last interactions too. */
  g_assert_true (sg_test_contains (find_line (sg_panel_get_entry (panel, 0), SG_PANEL_LINE_INTERACTION)->text,
                                   "<b>x</b> [2J 0"));
  /* A narrow terminal: every line shortened to its width. */
  sg_panel_source_set_width (f->source, 30);
  narrow = lookup (f, (const char *const *)addrs->pdata, NULL);
  assert_panel_safe (narrow, 30);
}

static void
test_status (Fixture *f, gconstpointer data)
{
  const char *const addrs[] = { "jane@acme.com", NULL };
  g_autofree char *missing = g_build_filename (f->dir, "nowhere", "store.db", NULL);
  g_autofree char *junk
      = sg_test_write_file (f->dir, "junk.db", "this is not a database, at all, nothing like one", -1);
  g_autoptr (SgPanelSource) none = sg_panel_source_new (f->conf, missing);
  g_autoptr (SgPanelSource) bad = sg_panel_source_new (f->conf, junk);
  g_autoptr (GError) error = NULL;
  g_autoptr (SgPanel) p1 = sg_panel_lookup_sync (none, addrs, NULL, FALSE, NULL, &error);
  g_autoptr (SgPanel) p2 = sg_panel_lookup_sync (bad, addrs, NULL, FALSE, NULL, &error);
  g_autoptr (SgPanel) p3 = sg_panel_lookup_sync (f->source, NULL, NULL, TRUE, NULL, &error);
  g_autoptr (SgPanelSource) noconf = sg_panel_source_new ("/nonexistent/salesgetter.conf", f->db);
  g_autoptr (SgPanel) p4 = sg_panel_lookup_sync (noconf, addrs, NULL, FALSE, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (sg_panel_get_n_entries (p1), ==, 0);
  g_assert_true (g_str_has_prefix (sg_panel_get_status (p1), "no store at"));
  g_assert_cmpuint (sg_panel_get_n_entries (p2), ==, 0);
  g_assert_true (g_str_has_prefix (sg_panel_get_status (p2), "store not readable"));
  g_assert_cmpstr (sg_panel_get_status (p3), ==, "No recipients yet.");
  g_assert_true (sg_panel_is_composing (p3));
  /* A config that does not load: the store is still read, and the status says why. */
  g_assert_cmpuint (sg_panel_get_n_entries (p4), ==, 1);
  g_assert_true (g_str_has_prefix (sg_panel_get_status (p4), "config not read"));
  /* Writing with no store: a clear error, no store made. */
  {
    SgPanelAction a
        = { .kind = SG_PANEL_ACTION_ADD_TAG, .label = "Add tag", .entity = "jane@acme.com", .tag = "x" };

    g_assert_false (sg_panel_run_action_sync (none, &a, NULL, &error));
    g_assert_error (error, SG_PANEL_ERROR, SG_PANEL_ERROR_STORE);
    g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  }
}

static void
on_warm (GObject *o, GAsyncResult *r, gpointer data)
{
  gboolean *done = data;

  g_assert_true (sg_panel_source_warm_similar_finish (NULL, r, NULL));
  *done = TRUE;
}

/* Similar organisations: inline (the filter), or deferred (the GTK view): the panel comes
 * at once with the organisations to fetch, and after a warm-up they are in the next one. */
static void
test_similar (Fixture *f, gconstpointer data)
{
  const char *const addrs[] = { "jane@acme.com", NULL };
  g_autofree char *md = g_build_filename (f->dir, "More", NULL);
  g_autofree char *p = NULL;
  g_autoptr (SgPanel) inline_panel = NULL;
  g_autoptr (SgPanel) first = NULL;
  g_autoptr (SgPanel) second = NULL;
  const SgPanelLine *l;
  gboolean done = FALSE;

  sg_test_make_maildir (md);
  p = sg_test_write_file (f->dir, "More/cur/1.k:2,S",
                          "From: Kim Lee <kim@initech.de>\nTo: me@ourco.example\nSubject: Hi\n"
                          "Date: Mon, 02 Mar 2026 10:00:00 +0000\nMessage-ID: <k1@initech.de>\n\nHi\n",
                          -1);
  import_dir (f, md);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (SgStore) store = sg_store_open (f->db, SG_STORE_OPEN_DEFAULT, &error);

    g_assert_true (sg_tags_add (store, "initech.de", "retail", &error));
    g_assert_no_error (error);
  }
  inline_panel = lookup (f, addrs, NULL);
  l = find_line (sg_panel_get_entry (inline_panel, 0), SG_PANEL_LINE_SIMILAR);
  g_assert_nonnull (l);
  g_assert_true (g_str_has_prefix (l->text, "Similar: Initech (initech.de, "));
  g_assert_null (sg_panel_get_missing_similar (inline_panel));

  /* Deferred, with a fresh cache (an action empties it). */
  {
    SgPanelAction a
        = { .kind = SG_PANEL_ACTION_ADD_TAG, .label = "t", .entity = "jane@acme.com", .tag = "x" };

    g_assert_true (sg_panel_run_action_sync (f->source, &a, NULL, NULL));
  }
  sg_panel_source_set_similar_deferred (f->source, TRUE);
  first = lookup (f, addrs, NULL);
  g_assert_null (find_line (sg_panel_get_entry (first, 0), SG_PANEL_LINE_SIMILAR));
  g_assert_nonnull (sg_panel_get_missing_similar (first));
  g_assert_cmpstr (sg_panel_get_missing_similar (first)[0], ==, "acme.com");
  sg_panel_source_warm_similar_async (f->source, sg_panel_get_missing_similar (first), NULL, on_warm, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  second = lookup (f, addrs, NULL);
  g_assert_null (sg_panel_get_missing_similar (second));
  l = find_line (sg_panel_get_entry (second, 0), SG_PANEL_LINE_SIMILAR);
  g_assert_nonnull (l);
  g_assert_true (g_str_has_prefix (l->text, "Similar: Initech (initech.de, "));

  /* Once computed ahead for every organisation (after a capture, or `similar --refresh`), the
   * insight carries them: even a deferred panel shows them at once, with nothing to fetch. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (SgStore) store = sg_store_open (f->db, SG_STORE_OPEN_DEFAULT, &error);
    SgPanelAction a
        = { .kind = SG_PANEL_ACTION_ADD_TAG, .label = "t", .entity = "jane@acme.com", .tag = "y" };
    g_autoptr (SgPanel) third = NULL;

    g_assert_true (sg_panel_run_action_sync (f->source, &a, NULL, NULL)); /* empties the cache */
    g_assert_true (sg_similar_refresh (store, &error));
    g_assert_no_error (error);
    third = lookup (f, addrs, NULL);
    g_assert_null (sg_panel_get_missing_similar (third));
    l = find_line (sg_panel_get_entry (third, 0), SG_PANEL_LINE_SIMILAR);
    g_assert_nonnull (l);
    g_assert_true (g_str_has_prefix (l->text, "Similar: Initech (initech.de, "));
  }
}

/* A store another program holds locked: a quiet status once the busy timeout is over, and
 * the next lookup works again. (Takes the store's busy timeout, 10 s.) */
static void
test_busy (Fixture *f, gconstpointer data)
{
  const char *const addrs[] = { "jane@acme.com", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (SgPanel) busy = NULL;
  g_autoptr (SgPanel) after = NULL;
  sqlite3 *db = NULL;
  char *msg = NULL;

  sg_panel_source_close_store (f->source);
  g_assert_cmpint (sqlite3_open (f->db, &db), ==, SQLITE_OK);
  /* Exclusive locking mode keeps even WAL readers out. */
  if (sqlite3_exec (db,
                    "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; "
                    "UPDATE store_meta SET value = value WHERE 0;",
                    NULL, NULL, &msg)
      != SQLITE_OK)
    g_error ("%s", msg);
  busy = sg_panel_lookup_sync (f->source, addrs, NULL, FALSE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sg_panel_get_n_entries (busy), ==, 0);
  g_assert_nonnull (sg_panel_get_status (busy));
  g_test_message ("status: %s", sg_panel_get_status (busy));
  g_assert_true (sg_test_contains (sg_panel_get_status (busy), "busy")
                 || sg_test_contains (sg_panel_get_status (busy), "locked"));
  sqlite3_exec (db, "COMMIT", NULL, NULL, NULL);
  sqlite3_close (db);
  after = sg_panel_lookup_sync (f->source, addrs, NULL, FALSE, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (sg_panel_get_status (after));
  g_assert_cmpuint (sg_panel_get_n_entries (after), ==, 1);
}

typedef struct {
  GMainLoop *loop;
  SgPanel *panel;
  GError *error;
  gboolean ok;
} Wait;

static void
on_lookup (GObject *o, GAsyncResult *r, gpointer data)
{
  Wait *w = data;

  w->panel = sg_panel_lookup_finish (NULL, r, &w->error);
  g_main_loop_quit (w->loop);
}

static void
on_action (GObject *o, GAsyncResult *r, gpointer data)
{
  Wait *w = data;

  w->ok = sg_panel_run_action_finish (NULL, r, &w->error);
  g_main_loop_quit (w->loop);
}

static void
test_async (Fixture *f, gconstpointer data)
{
  const char *const addrs[] = { "jane@acme.com", NULL };
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  g_autoptr (GCancellable) cancelled = g_cancellable_new ();
  Wait w = { 0 };
  const SgPanelLine *l;
  g_autofree char *stage = NULL;

  g_main_context_push_thread_default (ctx);
  w.loop = g_main_loop_new (ctx, FALSE);
  sg_panel_lookup_async (f->source, addrs, NULL, FALSE, NULL, on_lookup, &w);
  g_main_loop_run (w.loop);
  g_assert_no_error (w.error);
  g_assert_nonnull (w.panel);
  g_assert_cmpuint (sg_panel_get_n_entries (w.panel), ==, 1);
  l = find_line (sg_panel_get_entry (w.panel, 0), SG_PANEL_LINE_PROCESS);
  sg_panel_run_action_async (f->source, find_action (l->actions, SG_PANEL_ACTION_NEXT_STAGE), NULL, on_action,
                             &w);
  g_main_loop_run (w.loop);
  g_assert_no_error (w.error);
  g_assert_true (w.ok);
  stage = process_stage (f);
  g_assert_cmpstr (stage, ==, "negotiation");
  g_clear_pointer (&w.panel, sg_panel_unref);

  /* A cancelled lookup reports the cancellation, and no panel. */
  g_cancellable_cancel (cancelled);
  sg_panel_lookup_async (f->source, addrs, NULL, FALSE, cancelled, on_lookup, &w);
  g_main_loop_run (w.loop);
  g_assert_error (w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (w.panel);
  g_clear_error (&w.error);
  g_main_loop_unref (w.loop);
  g_main_context_pop_thread_default (ctx);
}

/* Real messages: import a corpus, then show every message's people. */
static void
corpus_case (Fixture *f, const char *sub, guint max)
{
  const char *corpora = g_getenv ("SG_CORPORA");
  g_autofree char *root = corpora ? g_build_filename (corpora, "mail", sub, NULL) : NULL;
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);
  guint shown = 0, known = 0, unknown = 0;

  if (root == NULL || !g_file_test (root, G_FILE_TEST_IS_DIR)) {
    g_test_skip ("no corpus (SG_CORPORA/mail)");
    return;
  }
  g_ptr_array_add (dirs, g_strdup (root));
  while (dirs->len > 0 && files->len < max) {
    g_autofree char *d = g_ptr_array_steal_index (dirs, dirs->len - 1);
    g_autoptr (GDir) dir = g_dir_open (d, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL && files->len < max) {
      char *p = g_build_filename (d, name, NULL);

      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (dirs, p);
      else if (strstr (d, "/cur") != NULL || strstr (d, "/new") != NULL || g_str_has_suffix (name, ".eml"))
        g_ptr_array_add (files, p);
      else
        g_free (p);
    }
  }
  if (files->len == 0) {
    g_test_skip ("corpus folder has no messages");
    return;
  }
  import_dir (f, root);
  for (guint i = 0; i < files->len; i++) {
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr (SgMessage) m = NULL;
    g_autoptr (GPtrArray) addrs = g_ptr_array_new_with_free_func (g_free);
    g_autoptr (SgPanel) panel = NULL;

    if (!g_file_get_contents (files->pdata[i], &data, &len, NULL)
        || (m = sg_message_parse (data, len, f->identity, 0, NULL)) == NULL)
      continue;
    for (guint j = 0; j < sg_message_get_n_participants (m); j++) {
      const SgParticipant *p = sg_message_get_participant (m, j);

      g_ptr_array_add (addrs, p->name ? g_strdup_printf ("\"%s\" <%s>", p->name, p->address)
                                      : g_strdup (p->address));
    }
    g_ptr_array_add (addrs, NULL);
    panel = lookup (f, (const char *const *)addrs->pdata, sg_message_get_id (m));
    assert_panel_safe (panel, SG_PANEL_WIDTH_DEFAULT);
    for (guint j = 0; j < sg_panel_get_n_entries (panel); j++) {
      const SgPanelEntry *e = sg_panel_get_entry (panel, j);

      if (e->known) {
        known++;
        /* A person the importer made has a relationship and interactions to show. */
        g_assert_nonnull (find_line (e, SG_PANEL_LINE_STRENGTH));
        g_assert_nonnull (find_line (e, SG_PANEL_LINE_INTERACTION));
      } else {
        unknown++;
        g_assert_cmpint (((SgPanelLine *)e->lines->pdata[0])->kind, ==, SG_PANEL_LINE_NOTICE);
      }
    }
    shown++;
  }
  g_test_message ("%s: %u messages shown, %u known and %u unknown correspondents", sub, shown, known,
                  unknown);
  g_assert_cmpuint (shown, >, files->len / 2);
  g_assert_cmpuint (known, >, 0);
}

static void
test_corpus_notmuch (Fixture *f, gconstpointer data)
{
  corpus_case (f, "notmuch", 400);
}

static void
test_corpus_spamassassin (Fixture *f, gconstpointer data)
{
  corpus_case (f, "spamassassin/hard-ham-1", 250);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  g_test_add_func ("/panel/sanitize", test_sanitize);
  ADD ("/panel/known", test_known);
  ADD ("/panel/actions", test_actions);
  ADD ("/panel/unknown", test_unknown);
  ADD ("/panel/hostile", test_hostile);
  ADD ("/panel/status", test_status);
  ADD ("/panel/async", test_async);
  ADD ("/panel/busy", test_busy);
  ADD ("/panel/similar", test_similar);
  ADD ("/panel/corpus/notmuch", test_corpus_notmuch);
  ADD ("/panel/corpus/spamassassin", test_corpus_spamassassin);
  return g_test_run ();
}
