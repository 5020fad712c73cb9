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
 * one detail) the one observed last is current (computed by sg_query_person_facts); the
 * others are history, so a new title replaces the old one, and an old message imported late
 * does not.
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
  const char *kind = sg_fact_kind_to_string (f->kind);
  gint64 date = sg_message_get_date (m), id = 0;
  gboolean known = FALSE;
  sqlite3_stmt *stmt;

  /* Known already? Then only its dates and count change (the same signature under every
   * message: the common case, one look-up and one update by rowid). Only a new fact goes to
   * the change log (once per natural key); which value is current follows on every device
   * from the dates the ops carry. */
  stmt = _sg_store_prepare_static (store,
      "SELECT id FROM person_facts "
      "WHERE person_id = ? AND kind = ? AND detail = ? AND value = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, person_id);
  sqlite3_bind_text (stmt, 2, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, detail, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, f->value, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW) {
    known = TRUE;
    id = sqlite3_column_int64 (stmt, 0);
  }
  sqlite3_reset (stmt);

  if (known) {
    stmt = _sg_store_prepare_static (store,
        "UPDATE person_facts SET times = times + 1, confidence = max(confidence, ?2), "
        "  first_seen = min(first_seen, ?3), "
        "  interaction_id = CASE WHEN ?3 >= observed THEN ?4 ELSE interaction_id END, "
        "  origin = CASE WHEN ?3 >= observed THEN ?5 ELSE origin END, "
        "  observed = max(observed, ?3) WHERE id = ?1", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, id);
    sqlite3_bind_double (stmt, 2, f->confidence);
    sqlite3_bind_int64 (stmt, 3, date);
    sqlite3_bind_int64 (stmt, 4, interaction_id);
    sqlite3_bind_text (stmt, 5, sg_fact_origin_to_string (f->origin), -1, SQLITE_STATIC);
    return _sg_store_exec_stmt (store, stmt, error);
  }

  stmt = _sg_store_prepare_static (store,
      "INSERT INTO person_facts (person_id, kind, detail, value, confidence, origin, interaction_id, "
      "  first_seen, observed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, person_id);
  sqlite3_bind_text (stmt, 2, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, detail, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, f->value, -1, SQLITE_STATIC);
  sqlite3_bind_double (stmt, 5, f->confidence);
  sqlite3_bind_text (stmt, 6, sg_fact_origin_to_string (f->origin), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 7, interaction_id);
  sqlite3_bind_int64 (stmt, 8, date);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return FALSE;

  if (!known && address != NULL &&
      !_sg_log_person_fact (store, address, sg_fact_kind_to_string (f->kind), detail, f->value, f->confidence,
                            sg_fact_origin_to_string (f->origin), date, NULL, sg_message_get_id (m), error))
    return FALSE;
  return TRUE;
}

gboolean
_sg_import_store_content (SgStore *store, const SgMessage *m, gint64 interaction_id,
                          gint64 person_id, GError **error)
{
  const char *from = NULL;
  sqlite3_stmt *stmt;

  /* No body text is stored (see 0004-text.sql): the mailbox keeps it. */
  if (sg_message_get_text (m) == NULL)
    return TRUE;
  /* One statement for all of a message's topics (at most SG_TOPICS_MAX_PER_MESSAGE rows):
   * this runs on the store's one thread for every message. */
  if (sg_message_get_n_topics (m) > 0) {
#define TOPIC_ROW "(?, ?, ?, ?, ?)"
#define TOPIC_INSERT "INSERT OR REPLACE INTO interaction_topics (interaction_id, stem, phrase, lang, count) VALUES "
    /* String literals: the store caches statements by their SQL text and keeps the pointer. */
    static const char *const sqls[] = {
      TOPIC_INSERT TOPIC_ROW,
      TOPIC_INSERT TOPIC_ROW "," TOPIC_ROW,
      TOPIC_INSERT TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW,
      TOPIC_INSERT TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW,
      TOPIC_INSERT TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW,
      TOPIC_INSERT TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW,
      TOPIC_INSERT TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW,
      TOPIC_INSERT TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW "," TOPIC_ROW
        "," TOPIC_ROW,
    };
#undef TOPIC_ROW
#undef TOPIC_INSERT
    guint n = MIN (sg_message_get_n_topics (m), (guint) G_N_ELEMENTS (sqls));

    G_STATIC_ASSERT (G_N_ELEMENTS (sqls) == SG_TOPICS_MAX_PER_MESSAGE);
    stmt = _sg_store_prepare_static (store, sqls[n - 1], error);
    if (stmt == NULL)
      return FALSE;
    for (guint i = 0; i < n; i++) {
      const SgTopic *t = sg_message_get_topic (m, i);
      int b = (int) i * 5;

      sqlite3_bind_int64 (stmt, b + 1, interaction_id);
      sqlite3_bind_text (stmt, b + 2, t->stem, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, b + 3, t->phrase, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, b + 4, t->lang, -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, b + 5, (int) t->count);
    }
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

gboolean
_sg_log_person_fact (SgStore *store, const char *address, const char *kind, const char *detail, const char *value,
                     double confidence, const char *origin, gint64 observed, const gint64 *first_seen,
                     const char *message_id, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) node = NULL;
  g_autofree char *fields = NULL;
  g_autofree char *key = g_strdup_printf ("%s|%s|%s|%s", address, kind, detail, value);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, kind);
  json_builder_set_member_name (b, "detail");
  json_builder_add_string_value (b, detail);
  json_builder_set_member_name (b, "value");
  json_builder_add_string_value (b, value);
  json_builder_set_member_name (b, "confidence");
  json_builder_add_double_value (b, confidence);
  json_builder_set_member_name (b, "origin");
  json_builder_add_string_value (b, origin);
  json_builder_set_member_name (b, "observed");
  json_builder_add_int_value (b, observed);
  if (first_seen != NULL) {
    json_builder_set_member_name (b, "first_seen");
    json_builder_add_int_value (b, *first_seen);
  }
  if (message_id != NULL) {
    json_builder_set_member_name (b, "message_id");
    json_builder_add_string_value (b, message_id);
  }
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  fields = json_to_string (node, FALSE);
  return _sg_store_log_change (store, "person_fact", key, "upsert", fields, error);
}
