/* sg-pipeline.c: pipeline definitions (key file) and their copy in the store. */
#include "config.h"

#include "sg-pipeline.h"
#include "sg-process.h"
#include "sg-process-private.h"

#include <string.h>

G_DEFINE_QUARK (sg-pipeline-error-quark, sg_pipeline_error)

typedef struct {
  char *name;
  int probability;
  SgStageKind kind;
  char *keywords; /* nullable, ';'-separated */
} Stage;

typedef struct {
  char *name;
  char *description;
  GPtrArray *stages; /* Stage */
} Pipeline;

struct _SgPipelines {
  GPtrArray *pipelines; /* Pipeline */
  GPtrArray *names;     /* NULL-terminated, for sg_pipelines_get_names() */
};

static const char *const kind_names[] = { "open", "won", "lost", "post" };

const char *
sg_stage_kind_to_string (SgStageKind kind)
{
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (kind_names), NULL);
  return kind_names[kind];
}

gboolean
sg_stage_kind_from_string (const char *text, SgStageKind *kind)
{
  for (guint i = 0; text && i < G_N_ELEMENTS (kind_names); i++) {
    if (strcmp (text, kind_names[i]) == 0) {
      *kind = (SgStageKind) i;
      return TRUE;
    }
  }
  return FALSE;
}

static void
stage_free (gpointer p)
{
  Stage *s = p;

  g_free (s->name);
  g_free (s->keywords);
  g_free (s);
}

static void
pipeline_free (gpointer p)
{
  Pipeline *pl = p;

  g_free (pl->name);
  g_free (pl->description);
  g_ptr_array_unref (pl->stages);
  g_free (pl);
}

void
sg_pipelines_free (SgPipelines *pipelines)
{
  if (pipelines == NULL)
    return;
  g_ptr_array_unref (pipelines->pipelines);
  g_ptr_array_unref (pipelines->names);
  g_free (pipelines);
}

static Stage *
stage_new (const char *name, int probability, SgStageKind kind, const char *keywords)
{
  Stage *s = g_new0 (Stage, 1);

  s->name = g_strdup (name);
  s->probability = probability;
  s->kind = kind;
  s->keywords = g_strdup (keywords);
  return s;
}

/* The built-in pipeline; the same as the one migration 0002 puts in every store. */
static Pipeline *
default_pipeline (void)
{
  static const struct {
    const char *name;
    int probability;
    SgStageKind kind;
    const char *keywords;
  } stages[] = {
    { "identified", 5, SG_STAGE_OPEN, NULL },
    { "qualified", 15, SG_STAGE_OPEN, "qualification;budget;timeline" },
    { "needs analysed", 30, SG_STAGE_OPEN, "requirements;needs analysis;briefing;workshop" },
    { "proposal", 50, SG_STAGE_OPEN, "proposal;offer;quotation;quote" },
    { "negotiation", 75, SG_STAGE_OPEN, "negotiation;contract;terms;pricing" },
    { "closed won", 100, SG_STAGE_WON, "purchase order;signed contract" },
    { "closed lost", 0, SG_STAGE_LOST, NULL },
    { "follow-up", 100, SG_STAGE_POST, "follow-up;kick-off;debrief" },
  };
  Pipeline *pl = g_new0 (Pipeline, 1);

  pl->name = g_strdup ("default");
  pl->description = g_strdup ("Problem-solving sales of services");
  pl->stages = g_ptr_array_new_with_free_func (stage_free);
  for (guint i = 0; i < G_N_ELEMENTS (stages); i++)
    g_ptr_array_add (pl->stages, stage_new (stages[i].name, stages[i].probability, stages[i].kind,
                                            stages[i].keywords));
  return pl;
}

static SgPipelines *
pipelines_new (void)
{
  SgPipelines *p = g_new0 (SgPipelines, 1);

  p->pipelines = g_ptr_array_new_with_free_func (pipeline_free);
  p->names = g_ptr_array_new_null_terminated (4, NULL, TRUE);
  return p;
}

static void
add_pipeline (SgPipelines *p, Pipeline *pl)
{
  g_ptr_array_add (p->pipelines, pl);
  g_ptr_array_add (p->names, pl->name);
}

SgPipelines *
sg_pipelines_new_default (void)
{
  SgPipelines *p = pipelines_new ();

  add_pipeline (p, default_pipeline ());
  return p;
}

const char *const *
sg_pipelines_get_names (const SgPipelines *pipelines)
{
  return (const char *const *) pipelines->names->pdata;
}

static gboolean
bad (GError **error, const char *name, const char *group, const char *key, const char *fmt, ...)
  G_GNUC_PRINTF (5, 6);

static gboolean
bad (GError **error, const char *name, const char *group, const char *key, const char *fmt, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  if (key != NULL)
    g_set_error (error, SG_PIPELINE_ERROR, SG_PIPELINE_ERROR_INVALID, "%s: [%s] %s: %s", name, group,
                 key, msg);
  else
    g_set_error (error, SG_PIPELINE_ERROR, SG_PIPELINE_ERROR_INVALID, "%s: [%s]: %s", name, group, msg);
  return FALSE;
}

static gboolean
check_keys (GKeyFile *kf, const char *name, const char *group, const char *const *allowed,
            GError **error)
{
  g_auto (GStrv) keys = g_key_file_get_keys (kf, group, NULL, NULL);

  for (guint i = 0; keys && keys[i]; i++) {
    if (!g_strv_contains (allowed, keys[i])) {
      g_autofree char *expected = g_strjoinv (", ", (char **) allowed);

      return bad (error, name, group, keys[i], "unknown key (expected one of: %s)", expected);
    }
  }
  return TRUE;
}

static Pipeline *
find_pipeline (SgPipelines *p, const char *name)
{
  for (guint i = 0; i < p->pipelines->len; i++) {
    Pipeline *pl = p->pipelines->pdata[i];

    if (strcmp (pl->name, name) == 0)
      return pl;
  }
  return NULL;
}

static Stage *
find_stage (Pipeline *pl, const char *name)
{
  for (guint i = 0; i < pl->stages->len; i++) {
    Stage *s = pl->stages->pdata[i];

    if (strcmp (s->name, name) == 0)
      return s;
  }
  return NULL;
}

static gboolean
parse_pipeline (SgPipelines *p, GKeyFile *kf, const char *name, const char *group,
                const char *pl_name, GError **error)
{
  static const char *const keys[] = { "description", "stages", NULL };
  g_auto (GStrv) stages = NULL;
  Pipeline *pl;
  gsize n = 0;

  if (!check_keys (kf, name, group, keys, error))
    return FALSE;
  if (*pl_name == '\0' || strchr (pl_name, '/') != NULL)
    return bad (error, name, group, NULL, "a pipeline name must be non-empty and without '/'");
  stages = g_key_file_get_string_list (kf, group, "stages", &n, NULL);
  if (stages == NULL || n == 0)
    return bad (error, name, group, "stages", "missing: list the stages in order, separated by ';'");
  if ((pl = find_pipeline (p, pl_name)) != NULL) {
    /* The file redefines the built-in pipeline. */
    g_ptr_array_remove (p->names, pl->name);
    g_ptr_array_remove (p->pipelines, pl);
  }
  pl = g_new0 (Pipeline, 1);
  pl->name = g_strdup (pl_name);
  pl->description = g_key_file_get_string (kf, group, "description", NULL);
  pl->stages = g_ptr_array_new_with_free_func (stage_free);
  add_pipeline (p, pl);
  for (gsize i = 0; i < n; i++) {
    const char *s = g_strstrip (stages[i]);

    if (*s == '\0' || strchr (s, '/') != NULL || !g_utf8_validate (s, -1, NULL))
      return bad (error, name, group, "stages", "stage %zu: a stage name must be non-empty and without '/'",
                  i + 1);
    if (find_stage (pl, s) != NULL)
      return bad (error, name, group, "stages", "stage “%s” is listed twice", s);
    g_ptr_array_add (pl->stages, stage_new (s, -1, SG_STAGE_OPEN, NULL));
  }
  return TRUE;
}

static gboolean
parse_stage (SgPipelines *p, GKeyFile *kf, const char *name, const char *group, const char *ref,
             GError **error)
{
  static const char *const keys[] = { "probability", "kind", "keywords", NULL };
  g_autofree char *pl_name = NULL;
  g_autofree char *kind = NULL;
  g_autoptr (GError) local = NULL;
  const char *slash = strchr (ref, '/');
  Pipeline *pl;
  Stage *st;

  if (!check_keys (kf, name, group, keys, error))
    return FALSE;
  if (slash == NULL)
    return bad (error, name, group, NULL, "a stage group is [stage PIPELINE/STAGE]");
  pl_name = g_strndup (ref, (gsize) (slash - ref));
  if ((pl = find_pipeline (p, pl_name)) == NULL)
    return bad (error, name, group, NULL, "no [pipeline %s] group defines pipeline “%s”", pl_name, pl_name);
  if ((st = find_stage (pl, slash + 1)) == NULL)
    return bad (error, name, group, NULL, "“%s” is not in the stages of pipeline “%s”", slash + 1, pl_name);
  if (g_key_file_has_key (kf, group, "probability", NULL)) {
    int v = g_key_file_get_integer (kf, group, "probability", &local);

    if (local != NULL || v < 0 || v > 100)
      return bad (error, name, group, "probability", "must be a whole number from 0 to 100");
    st->probability = v;
  }
  kind = g_key_file_get_string (kf, group, "kind", NULL);
  if (kind != NULL && !sg_stage_kind_from_string (g_strstrip (kind), &st->kind))
    return bad (error, name, group, "kind", "“%s” is not open, won, lost or post", kind);
  g_free (st->keywords);
  st->keywords = g_key_file_get_string (kf, group, "keywords", NULL);
  return TRUE;
}

/* Rules every pipeline must meet, and the default probabilities. */
static gboolean
finish_pipeline (Pipeline *pl, const char *name, GError **error)
{
  g_autofree char *group = g_strdup_printf ("pipeline %s", pl->name);
  guint n_open = 0, i_open = 0;
  gboolean won = FALSE, lost = FALSE;

  for (guint i = 0; i < pl->stages->len; i++) {
    Stage *s = pl->stages->pdata[i];

    n_open += s->kind == SG_STAGE_OPEN;
    won = won || s->kind == SG_STAGE_WON;
    lost = lost || s->kind == SG_STAGE_LOST;
  }
  if (((Stage *) pl->stages->pdata[0])->kind != SG_STAGE_OPEN)
    return bad (error, name, group, "stages", "the first stage must be an open stage");
  if (!won || !lost)
    return bad (error, name, group, "stages",
                "needs a stage of kind won and one of kind lost ([stage %s/NAME] kind = won)", pl->name);
  for (guint i = 0; i < pl->stages->len; i++) {
    Stage *s = pl->stages->pdata[i];

    if (s->kind == SG_STAGE_OPEN)
      i_open++;
    if (s->probability >= 0)
      continue;
    /* Open stages spread evenly between 0 and 100; closed ones are 100 or 0. */
    switch (s->kind) {
    case SG_STAGE_OPEN:
      s->probability = (int) (i_open * 100 / (n_open + 1));
      break;
    case SG_STAGE_LOST:
      s->probability = 0;
      break;
    default:
      s->probability = 100;
      break;
    }
  }
  return TRUE;
}

SgPipelines *
sg_pipelines_new_from_data (const char *data, gssize len, const char *name, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) groups = NULL;
  SgPipelines *p;

  if (name == NULL)
    name = "pipelines";
  if (!g_key_file_load_from_data (kf, data, len < 0 ? strlen (data) : (gsize) len, G_KEY_FILE_NONE, &local)) {
    g_set_error (error, SG_PIPELINE_ERROR, SG_PIPELINE_ERROR_PARSE, "%s: %s", name, local->message);
    return NULL;
  }
  p = sg_pipelines_new_default ();
  groups = g_key_file_get_groups (kf, NULL);
  /* Pipelines first, so that stage groups may come in any order. */
  for (guint pass = 0; pass < 2; pass++) {
    for (guint i = 0; groups[i]; i++) {
      const char *g = groups[i];
      gboolean ok = TRUE;

      if (g_str_has_prefix (g, "pipeline ")) {
        if (pass == 0)
          ok = parse_pipeline (p, kf, name, g, g + strlen ("pipeline "), error);
      } else if (g_str_has_prefix (g, "stage ")) {
        if (pass == 1)
          ok = parse_stage (p, kf, name, g, g + strlen ("stage "), error);
      } else if (pass == 0) {
        ok = bad (error, name, g, NULL, "unknown group (expected [pipeline NAME] or [stage PIPELINE/STAGE])");
      }
      if (!ok) {
        sg_pipelines_free (p);
        return NULL;
      }
    }
  }
  for (guint i = 0; i < p->pipelines->len; i++) {
    if (!finish_pipeline (p->pipelines->pdata[i], name, error)) {
      sg_pipelines_free (p);
      return NULL;
    }
  }
  return p;
}

SgPipelines *
sg_pipelines_new_from_file (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  return sg_pipelines_new_from_data (data, (gssize) len, path, error);
}

/* Stages: upsert what is defined; what is no longer defined goes, or is retired while
 * a process uses it. Positions of removed stages move behind the defined ones, so the
 * UNIQUE name constraint is never in the way. @changed: set when a row changed. */
static gboolean
store_stages (SgStore *store, gint64 pid, const GPtrArray *stages, gboolean *changed_out, GError **error)
{
  sqlite3_stmt *stmt;
  gboolean changed = FALSE;
  g_autoptr (GString) names = g_string_new (NULL);

  for (guint i = 0; i < stages->len; i++) {
    const Stage *s = stages->pdata[i];

    stmt = _sg_store_prepare (store,
        "INSERT INTO stages (pipeline_id, name, position, probability, kind, keywords, retired) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0) "
        "ON CONFLICT (pipeline_id, name) DO UPDATE SET position = ?3, probability = ?4, kind = ?5, "
        "  keywords = ?6, retired = 0 "
        "WHERE position IS NOT ?3 OR probability IS NOT ?4 OR kind IS NOT ?5 OR keywords IS NOT ?6 "
        "  OR retired != 0", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, pid);
    sqlite3_bind_text (stmt, 2, s->name, -1, SQLITE_STATIC);
    sqlite3_bind_int (stmt, 3, (int) i + 1);
    sqlite3_bind_int (stmt, 4, s->probability);
    sqlite3_bind_text (stmt, 5, sg_stage_kind_to_string (s->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 6, s->keywords, -1, SQLITE_STATIC);
    if (!_sg_store_exec_stmt (store, stmt, error))
      return FALSE;
    changed = changed || sqlite3_changes (_sg_store_get_db (store)) > 0;
    g_string_append_printf (names, "%s%s", i ? "\x1f" : "", s->name);
  }
  {
    /* The defined names as one string; instr() keeps the SQL parameterised. */
    g_autofree char *list = g_strdup_printf ("\x1f%s\x1f", names->str);

    stmt = _sg_store_prepare (store,
        "DELETE FROM stages WHERE pipeline_id = ?1 AND instr(?2, char(31) || name || char(31)) = 0 "
        "AND NOT EXISTS (SELECT 1 FROM processes WHERE stage_id = stages.id)", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, pid);
    sqlite3_bind_text (stmt, 2, list, -1, SQLITE_STATIC);
    if (!_sg_store_exec_stmt (store, stmt, error))
      return FALSE;
    changed = changed || sqlite3_changes (_sg_store_get_db (store)) > 0;
    stmt = _sg_store_prepare (store,
        "UPDATE stages SET retired = 1, position = 1000 + position "
        "WHERE pipeline_id = ?1 AND instr(?2, char(31) || name || char(31)) = 0 AND retired = 0", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, pid);
    sqlite3_bind_text (stmt, 2, list, -1, SQLITE_STATIC);
    if (!_sg_store_exec_stmt (store, stmt, error))
      return FALSE;
    changed = changed || sqlite3_changes (_sg_store_get_db (store)) > 0;
  }
  *changed_out = *changed_out || changed;
  return TRUE;
}

/* A pipeline's stages as sync pulled them (core/sg-sync.c validated them): the same rows as
 * sg_pipelines_apply() makes, not logged again. */
gboolean
_sg_pipeline_store_stages_json (SgStore *store, gint64 pipeline_id, JsonArray *stages, GError **error)
{
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (g_free);
  gboolean changed = FALSE;

  for (guint i = 0; i < json_array_get_length (stages); i++) {
    JsonObject *o = json_array_get_object_element (stages, i);
    Stage *st = g_new0 (Stage, 1);
    const char *kind = json_object_get_string_member_with_default (o, "kind", "open");
    JsonNode *kw = json_object_get_member (o, "keywords");

    st->name = (char *) json_object_get_string_member (o, "name");
    st->probability = (int) json_object_get_int_member (o, "probability");
    st->kind = SG_STAGE_OPEN;
    for (guint k = 0; k < G_N_ELEMENTS (kind_names); k++)
      if (g_strcmp0 (kind, kind_names[k]) == 0)
        st->kind = (SgStageKind) k;
    st->keywords = kw && JSON_NODE_HOLDS_VALUE (kw) ? (char *) json_node_get_string (kw) : NULL;
    g_ptr_array_add (list, st);
  }
  return store_stages (store, pipeline_id, list, &changed, error);
}

static gboolean
apply_pipeline (SgStore *store, const Pipeline *pl, GError **error)
{
  sqlite3_stmt *stmt;
  gint64 pid = 0;
  gboolean changed = FALSE;
  g_autofree char *old_desc = NULL;
  g_autoptr (GString) names = g_string_new (NULL);

  stmt = _sg_store_prepare (store, "SELECT id, description FROM pipelines WHERE name = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, pl->name, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW) {
    pid = sqlite3_column_int64 (stmt, 0);
    old_desc = g_strdup (_SG_COL_TEXT (stmt, 1));
  }
  sqlite3_reset (stmt);
  if (pid == 0) {
    stmt = _sg_store_prepare (store, "INSERT INTO pipelines (name, description, created_at) VALUES (?, ?, ?)", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, pl->name, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, pl->description, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, _sg_now ());
    if (!_sg_store_exec_stmt (store, stmt, error))
      return FALSE;
    pid = sqlite3_last_insert_rowid (_sg_store_get_db (store));
    changed = TRUE;
  } else if (g_strcmp0 (old_desc, pl->description) != 0) {
    stmt = _sg_store_prepare (store, "UPDATE pipelines SET description = ? WHERE id = ?", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, pl->description, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, pid);
    if (!_sg_store_exec_stmt (store, stmt, error))
      return FALSE;
    changed = TRUE;
  }

  if (!store_stages (store, pid, pl->stages, &changed, error))
    return FALSE;
  if (changed) {
    JsonBuilder *b = _sg_json_begin ();

    _sg_json_str (b, "description", pl->description);
    json_builder_set_member_name (b, "stages");
    json_builder_begin_array (b);
    for (guint i = 0; i < pl->stages->len; i++) {
      const Stage *s = pl->stages->pdata[i];

      json_builder_begin_object (b);
      _sg_json_str (b, "name", s->name);
      _sg_json_int (b, "probability", s->probability);
      _sg_json_str (b, "kind", sg_stage_kind_to_string (s->kind));
      _sg_json_str (b, "keywords", s->keywords);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    if (!_sg_log_json (store, "pipeline", pl->name, "upsert", b, error))
      return FALSE;
  }
  return TRUE;
}

gboolean
sg_pipelines_apply (SgStore *store, const SgPipelines *pipelines, GError **error)
{
  if (!sg_store_begin (store, error))
    return FALSE;
  for (guint i = 0; i < pipelines->pipelines->len; i++) {
    if (!apply_pipeline (store, pipelines->pipelines->pdata[i], error)) {
      sg_store_rollback (store);
      return FALSE;
    }
  }
  return sg_store_commit (store, error);
}

SgTable *
sg_pipeline_list_stages (SgStore *store, const char *pipeline, GError **error)
{
  sqlite3_stmt *stmt;
  SgTable *t;

  if (pipeline != NULL) {
    stmt = _sg_store_prepare (store, "SELECT 1 FROM pipelines WHERE name = ?", error);
    if (stmt == NULL)
      return NULL;
    sqlite3_bind_text (stmt, 1, pipeline, -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) != SQLITE_ROW) {
      sqlite3_reset (stmt);
      g_set_error (error, SG_PROCESS_ERROR, SG_PROCESS_ERROR_UNKNOWN_PIPELINE, "no pipeline “%s”", pipeline);
      return NULL;
    }
    sqlite3_reset (stmt);
  }
  stmt = _sg_store_prepare (store,
      "SELECT p.name, s.position, s.name, s.probability, s.kind, s.keywords, s.retired "
      "FROM stages s JOIN pipelines p ON p.id = s.pipeline_id "
      "WHERE ?1 IS NULL OR p.name = ?1 ORDER BY p.name = 'default' DESC, p.name, s.position", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, pipeline, -1, SQLITE_STATIC);
  t = sg_table_new ();
  sg_table_add_column (t, "pipeline", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "position", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "stage", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "probability", SG_COLUMN_INT, 0);
  sg_table_add_column (t, "kind", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "keywords", SG_COLUMN_TEXT, 0);
  sg_table_add_column (t, "retired", SG_COLUMN_INT, SG_COLUMN_FLAG_DETAIL);
  if (!_sg_table_fill (store, t, stmt, error)) {
    sg_table_free (t);
    return NULL;
  }
  return t;
}
