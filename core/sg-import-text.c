/* sg-import-text.c: storing what a message's text says (issue 9), on the importer's thread.
 *
 * The reading happened on the parse threads (sg-text, sg-signature, sg-vcard, sg-topics);
 * this only writes it, inside the importer's open transaction:
 *
 *   interaction_topics  the key phrases (local only);
 *   person_facts        facts about the sender, a shared fact: each new or renewed fact goes
 *                       to the change log as a "person_fact" upsert keyed by the sender's
 *                       address, kind, detail and value.
 *
 * A fact seen again renews its date and count. Of the values of one kind (and, for phones,
 * one detail) the one observed last is current; the others are marked superseded and kept as
 * history, so a new title replaces the old one, and an old message imported late does not.
 */
#include "config.h"

#include "sg-message.h"
#include "sg-private.h"

#include <json-glib/json-glib.h>
#include <string.h>

static gboolean
store_fact (SgStore *store, const SgMessage *m, const SgFact *f, gint64 interaction_id,
            gint64 person_id, const char *address, GError **error)
{
  const char *detail = f->detail ? f->detail : "";
  gint64 date = sg_message_get_date (m);
  sqlite3_stmt *stmt;

  gboolean known = FALSE;

  /* Known already? Only a new fact goes to the change log (once per natural key): seeing the
   * same signature again renews its date locally, and which value is current follows on
   * every device from the dates the ops carry. */
  stmt = _sg_store_prepare (store,
      "SELECT 1 FROM person_facts WHERE person_id = ? AND kind = ? AND detail = ? AND value = ?",
      error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, person_id);
  sqlite3_bind_text (stmt, 2, sg_fact_kind_to_string (f->kind), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, detail, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, f->value, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    known = TRUE;
  sqlite3_reset (stmt);

  stmt = _sg_store_prepare (store,
      "INSERT INTO person_facts (person_id, kind, detail, value, confidence, origin, interaction_id, "
      "  first_seen, observed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) "
      "ON CONFLICT (person_id, kind, detail, value) DO UPDATE SET "
      "  times = times + 1, confidence = max(confidence, excluded.confidence), "
      "  first_seen = min(first_seen, excluded.first_seen), "
      "  interaction_id = CASE WHEN excluded.observed >= observed THEN excluded.interaction_id "
      "                   ELSE interaction_id END, "
      "  origin = CASE WHEN excluded.observed >= observed THEN excluded.origin ELSE origin END, "
      "  observed = max(observed, excluded.observed)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, person_id);
  sqlite3_bind_text (stmt, 2, sg_fact_kind_to_string (f->kind), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, detail, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, f->value, -1, SQLITE_STATIC);
  sqlite3_bind_double (stmt, 5, f->confidence);
  sqlite3_bind_text (stmt, 6, sg_fact_origin_to_string (f->origin), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 7, interaction_id);
  sqlite3_bind_int64 (stmt, 8, date);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return FALSE;

  /* The newest value of the kind is current; the rest is history. A generic "phone" is
   * not single-valued: someone may list two numbers without labels. */
  if (!(f->kind == SG_FACT_PHONE && strcmp (detail, "phone") == 0)) {
    stmt = _sg_store_prepare (store,
        "UPDATE person_facts SET superseded = (id != (SELECT id FROM person_facts "
        "  WHERE person_id = ?1 AND kind = ?2 AND detail = ?3 ORDER BY observed DESC, id DESC LIMIT 1)) "
        "WHERE person_id = ?1 AND kind = ?2 AND detail = ?3", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, person_id);
    sqlite3_bind_text (stmt, 2, sg_fact_kind_to_string (f->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, detail, -1, SQLITE_STATIC);
    if (!_sg_store_exec_stmt (store, stmt, error))
      return FALSE;
  }

  if (!known && address != NULL) {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) node = NULL;
    g_autofree char *fields = NULL;
    g_autofree char *key = g_strdup_printf ("%s|%s|%s|%s", address, sg_fact_kind_to_string (f->kind),
                                            detail, f->value);

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "kind");
    json_builder_add_string_value (b, sg_fact_kind_to_string (f->kind));
    json_builder_set_member_name (b, "detail");
    json_builder_add_string_value (b, detail);
    json_builder_set_member_name (b, "value");
    json_builder_add_string_value (b, f->value);
    json_builder_set_member_name (b, "confidence");
    json_builder_add_double_value (b, f->confidence);
    json_builder_set_member_name (b, "origin");
    json_builder_add_string_value (b, sg_fact_origin_to_string (f->origin));
    json_builder_set_member_name (b, "observed");
    json_builder_add_int_value (b, date);
    json_builder_set_member_name (b, "message_id");
    json_builder_add_string_value (b, sg_message_get_id (m));
    json_builder_end_object (b);
    node = json_builder_get_root (b);
    fields = json_to_string (node, FALSE);
    if (!_sg_store_log_change (store, "person_fact", key, "upsert", fields, error))
      return FALSE;
  }
  return TRUE;
}

gboolean
_sg_import_store_content (SgStore *store, const SgMessage *m, gint64 interaction_id,
                          gint64 person_id, GError **error)
{
  const char *from = NULL;
  sqlite3_stmt *stmt;

  /* No body text is stored (see 0002-text.sql): the mailbox keeps it. */
  if (sg_message_get_text (m) == NULL)
    return TRUE;
  for (guint i = 0; i < sg_message_get_n_topics (m); i++) {
    const SgTopic *t = sg_message_get_topic (m, i);

    stmt = _sg_store_prepare (store,
        "INSERT OR REPLACE INTO interaction_topics (interaction_id, stem, phrase, lang, count) "
        "VALUES (?, ?, ?, ?, ?)", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, interaction_id);
    sqlite3_bind_text (stmt, 2, t->stem, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, t->phrase, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, t->lang, -1, SQLITE_STATIC);
    sqlite3_bind_int (stmt, 5, (int) t->count);
    if (!_sg_store_exec_stmt (store, stmt, error))
      return FALSE;
  }

  /* Facts only about a person, and not from list or bulk mail: a newsletter's footer is
   * the sender's marketing, not a person's signature. */
  if (person_id == 0 || sg_message_is_bulk (m))
    return TRUE;
  for (guint i = 0; i < sg_message_get_n_participants (m) && from == NULL; i++)
    if (sg_message_get_participant (m, i)->role == SG_HEADER_FROM)
      from = sg_message_get_participant (m, i)->address;
  for (guint i = 0; i < sg_message_get_n_facts (m); i++)
    if (!store_fact (store, m, sg_message_get_fact (m, i), interaction_id, person_id, from, error))
      return FALSE;
  return TRUE;
}
