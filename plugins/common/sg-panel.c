/* sg-panel.c: the shared presentation layer of the mail client plugins (sg-panel.h). */
#include "config.h"

#include "sg-panel.h"

#include <string.h>

#include "sg-config.h"

G_DEFINE_QUARK (sg - panel - error - quark, sg_panel_error)

#define SIMILAR_LIMIT 3
/* Organisations whose similar ones are kept; the cache starts afresh past this. */
#define SIMILAR_CACHE_MAX 2000

struct _SgPanel {
  gatomicrefcount ref;
  char *status;
  char *message_id;
  gboolean composing;
  GPtrArray *entries;     /* SgPanelEntry* */
  char **missing_similar; /* nullable: organisations not in the similar cache (deferred) */
};

struct _SgPanelSource {
  gatomicrefcount ref;
  char *store_path;
  char *config_problem; /* nullable: why the config did not load */
  SgIdentity *identity; /* never NULL */
  char *actor;          /* nullable: the user's first address */
  GMutex lock;          /* guards everything below, and the store's use */
  SgStore *store;       /* the cached read-only connection, or NULL */
  GHashTable *similar;  /* organisation domain -> line text ("" for none) */
  guint width;
  guint n_interactions;
  gboolean with_similar;
  gboolean similar_deferred;
};

/* --- text ---------------------------------------------------------------------------------- */

static gboolean
is_bidi_control (gunichar c)
{
  return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F
         || c == 0x061C;
}

static guint
char_columns (gunichar c)
{
  if (g_unichar_iszerowidth (c))
    return 0;
  return g_unichar_iswide (c) ? 2 : 1;
}

guint
sg_panel_text_columns (const char *text)
{
  guint n = 0;

  if (text == NULL)
    return 0;
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    n += char_columns (g_utf8_get_char (p));
  return n;
}

char *
sg_panel_sanitize (const char *text, guint columns)
{
  g_autofree char *valid = NULL;
  GString *out;
  gboolean space = FALSE;
  guint width = 0;

  if (text == NULL)
    return g_strdup ("");
  if (columns < 1)
    columns = 1;
  valid = g_utf8_make_valid (text, -1);
  out = g_string_sized_new (strlen (valid));
  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (is_bidi_control (c))
      continue;
    if (g_unichar_iscntrl (c) || g_unichar_isspace (c) || c == 0x2028 || c == 0x2029) {
      space = out->len > 0;
      continue;
    }
    if (space) {
      g_string_append_c (out, ' ');
      space = FALSE;
    }
    g_string_append_unichar (out, c);
  }
  /* Shorten to @columns, the last one taken by the ellipsis. */
  if (sg_panel_text_columns (out->str) > columns) {
    const char *p = out->str;

    while (*p != '\0') {
      guint w = char_columns (g_utf8_get_char (p));

      if (width + w > columns - 1)
        break;
      width += w;
      p = g_utf8_next_char (p);
    }
    g_string_truncate (out, (gsize)(p - out->str));
    while (out->len > 0 && out->str[out->len - 1] == ' ')
      g_string_truncate (out, out->len - 1);
    g_string_append (out, "…");
  }
  return g_string_free (out, FALSE);
}

/* --- the model ----------------------------------------------------------------------------- */

SgPanelAction *
sg_panel_action_copy (const SgPanelAction *a)
{
  SgPanelAction *c;

  g_return_val_if_fail (a != NULL, NULL);
  c = g_new0 (SgPanelAction, 1);
  c->kind = a->kind;
  c->input = a->input;
  c->label = g_strdup (a->label);
  c->process = g_strdup (a->process);
  c->stage = g_strdup (a->stage);
  c->entity = g_strdup (a->entity);
  c->tag = g_strdup (a->tag);
  c->message_id = g_strdup (a->message_id);
  c->address = g_strdup (a->address);
  c->organisation = g_strdup (a->organisation);
  c->name = g_strdup (a->name);
  c->text = g_strdup (a->text);
  c->choices = g_strdupv (a->choices);
  c->choice_labels = g_strdupv (a->choice_labels);
  return c;
}

void
sg_panel_action_free (SgPanelAction *a)
{
  if (a == NULL)
    return;
  g_free (a->label);
  g_free (a->process);
  g_free (a->stage);
  g_free (a->entity);
  g_free (a->tag);
  g_free (a->message_id);
  g_free (a->address);
  g_free (a->organisation);
  g_free (a->name);
  g_free (a->text);
  g_strfreev (a->choices);
  g_strfreev (a->choice_labels);
  g_free (a);
}

static SgPanelAction *
action_new (SgPanelActionKind kind, SgPanelInput input, const char *label, guint width)
{
  SgPanelAction *a = g_new0 (SgPanelAction, 1);

  a->kind = kind;
  a->input = input;
  a->label = sg_panel_sanitize (label, MIN (width, 40));
  return a;
}

static void
line_free (SgPanelLine *line)
{
  g_free (line->text);
  g_ptr_array_unref (line->actions);
  g_free (line);
}

static void
entry_free (SgPanelEntry *e)
{
  g_free (e->address);
  g_free (e->heading);
  g_free (e->organisation);
  g_ptr_array_unref (e->lines);
  g_ptr_array_unref (e->actions);
  g_free (e);
}

static SgPanel *
panel_new (void)
{
  SgPanel *p = g_new0 (SgPanel, 1);

  g_atomic_ref_count_init (&p->ref);
  p->entries = g_ptr_array_new_with_free_func ((GDestroyNotify)entry_free);
  return p;
}

SgPanel *
sg_panel_new_status (const char *status)
{
  SgPanel *p = panel_new ();

  p->status = status ? sg_panel_sanitize (status, SG_PANEL_WIDTH_MAX) : NULL;
  return p;
}

SgPanel *
sg_panel_ref (SgPanel *panel)
{
  g_return_val_if_fail (panel != NULL, NULL);
  g_atomic_ref_count_inc (&panel->ref);
  return panel;
}

void
sg_panel_unref (SgPanel *panel)
{
  if (panel == NULL || !g_atomic_ref_count_dec (&panel->ref))
    return;
  g_free (panel->status);
  g_free (panel->message_id);
  g_strfreev (panel->missing_similar);
  g_ptr_array_unref (panel->entries);
  g_free (panel);
}

const char *
sg_panel_get_status (const SgPanel *panel)
{
  g_return_val_if_fail (panel != NULL, NULL);
  return panel->status;
}

guint
sg_panel_get_n_entries (const SgPanel *panel)
{
  g_return_val_if_fail (panel != NULL, 0);
  return panel->entries->len;
}

const SgPanelEntry *
sg_panel_get_entry (const SgPanel *panel, guint index)
{
  g_return_val_if_fail (panel != NULL && index < panel->entries->len, NULL);
  return panel->entries->pdata[index];
}

gboolean
sg_panel_is_composing (const SgPanel *panel)
{
  g_return_val_if_fail (panel != NULL, FALSE);
  return panel->composing;
}

const char *const *
sg_panel_get_missing_similar (const SgPanel *panel)
{
  g_return_val_if_fail (panel != NULL, NULL);
  return (const char *const *)panel->missing_similar;
}

const char *
sg_panel_get_message_id (const SgPanel *panel)
{
  g_return_val_if_fail (panel != NULL, NULL);
  return panel->message_id;
}

/* --- from the insight ------------------------------------------------------------------------ */

static const char *
member_str (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
             ? json_node_get_string (n)
             : NULL;
}

static gboolean
member_int (JsonObject *o, const char *name, gint64 *out)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  if (json_node_get_value_type (n) == G_TYPE_INT64)
    *out = json_node_get_int (n);
  else if (json_node_get_value_type (n) == G_TYPE_DOUBLE)
    *out = (gint64)json_node_get_double (n);
  else
    return FALSE;
  return TRUE;
}

static JsonArray *
member_array (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n != NULL && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static JsonObject *
member_object (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static int
column_index (const SgTable *t, const char *name)
{
  for (guint i = 0; i < sg_table_get_n_columns (t); i++)
    if (strcmp (sg_table_get_column_name (t, i), name) == 0)
      return (int)i;
  return -1;
}

static const char *
cell (const SgTable *t, guint row, const char *name)
{
  int c = column_index (t, name);

  return c < 0 || sg_table_is_null (t, row, (guint)c) ? NULL : sg_table_get_text (t, row, (guint)c);
}

/* The stages a process can be moved to: its pipeline's stages in order (not retired). */
typedef struct {
  char *pipeline;
  GPtrArray *names;         /* char* */
  GPtrArray *kinds;         /* char* */
  GPtrArray *probabilities; /* char* ("60%") */
} Stages;

static void
stages_free (Stages *s)
{
  g_free (s->pipeline);
  g_ptr_array_unref (s->names);
  g_ptr_array_unref (s->kinds);
  g_ptr_array_unref (s->probabilities);
  g_free (s);
}

typedef struct {
  SgStore *store; /* nullable */
  const char *message_id;
  gboolean composing;
  guint width;
  gboolean similar;
  gboolean deferred;         /* cache only: misses go to @missing */
  GPtrArray *missing;        /* nullable: domains (char*) */
  GHashTable *similar_cache; /* nullable: domain -> line text */
  GHashTable *stages;        /* pipeline -> Stages* */
} Build;

static Stages *
stages_for (Build *b, const char *process)
{
  g_autoptr (SgTable) q = NULL;
  g_autoptr (SgTable) st = NULL;
  SgProcessQuery query = { .uuid = process, .limit = 1 };
  const char *pipeline;
  Stages *s;

  if (b->store == NULL)
    return NULL;
  if ((q = sg_process_query (b->store, &query, NULL)) == NULL || sg_table_get_n_rows (q) == 0
      || (pipeline = cell (q, 0, "pipeline")) == NULL)
    return NULL;
  if ((s = g_hash_table_lookup (b->stages, pipeline)) != NULL)
    return s;
  if ((st = sg_pipeline_list_stages (b->store, pipeline, NULL)) == NULL)
    return NULL;
  s = g_new0 (Stages, 1);
  s->pipeline = g_strdup (pipeline);
  s->names = g_ptr_array_new_with_free_func (g_free);
  s->kinds = g_ptr_array_new_with_free_func (g_free);
  s->probabilities = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < sg_table_get_n_rows (st); i++) {
    int rc = column_index (st, "retired");
    int pc = column_index (st, "probability");

    if (rc >= 0 && !sg_table_is_null (st, i, (guint)rc) && sg_table_get_int (st, i, (guint)rc) != 0)
      continue;
    if (cell (st, i, "stage") == NULL)
      continue;
    g_ptr_array_add (s->names, g_strdup (cell (st, i, "stage")));
    g_ptr_array_add (s->kinds, g_strdup (cell (st, i, "kind") ? cell (st, i, "kind") : "open"));
    g_ptr_array_add (s->probabilities, pc >= 0 && !sg_table_is_null (st, i, (guint)pc) ? g_strdup_printf (
                                           "%" G_GINT64_FORMAT "%%", sg_table_get_int (st, i, (guint)pc))
                                                                                       : g_strdup (""));
  }
  g_hash_table_insert (b->stages, s->pipeline, s);
  return s;
}

static SgPanelLine *
add_line (SgPanelEntry *e, SgPanelLineKind kind, const char *raw, guint width)
{
  SgPanelLine *line = g_new0 (SgPanelLine, 1);

  line->kind = kind;
  line->text = sg_panel_sanitize (raw, width);
  line->actions = g_ptr_array_new_with_free_func ((GDestroyNotify)sg_panel_action_free);
  g_ptr_array_add (e->lines, line);
  return line;
}

static void
join_names (GString *s, JsonArray *a, const char *key)
{
  for (guint j = 0; a != NULL && j < json_array_get_length (a); j++) {
    const char *v;

    if (key != NULL) {
      JsonNode *n = json_array_get_element (a, j);

      v = JSON_NODE_HOLDS_OBJECT (n) ? member_str (json_node_get_object (n), key) : NULL;
    } else {
      JsonNode *n = json_array_get_element (a, j);

      v = JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
              ? json_node_get_string (n)
              : NULL;
    }
    if (v == NULL)
      continue;
    if (s->len > 0 && !g_str_has_suffix (s->str, ": "))
      g_string_append (s, ", ");
    g_string_append (s, v);
  }
}

static void
add_process_lines (Build *b, SgPanelEntry *e, JsonObject *p)
{
  g_autoptr (GString) s = g_string_new ("Process: ");
  const char *id = member_str (p, "id");
  const char *stage = member_str (p, "stage");
  const char *title = member_str (p, "title") ? member_str (p, "title") : member_str (p, "deliverable");
  JsonArray *parts = member_array (p, "parts");
  JsonArray *sugg = member_array (p, "suggestions");
  SgPanelLine *line;
  Stages *stages = id != NULL ? stages_for (b, id) : NULL;
  gint64 prob;

  g_string_append (s, title ? title : "(untitled)");
  if (member_str (p, "organisation") != NULL && e->organisation == NULL) {
    g_string_append (s, " · ");
    g_string_append (s, member_str (p, "organisation"));
  }
  g_string_append (s, " · stage ");
  g_string_append (s, stage ? stage : "?");
  if (member_int (p, "probability", &prob))
    g_string_append_printf (s, " (%" G_GINT64_FORMAT "%%)", prob);
  if (member_str (p, "value") != NULL) {
    g_string_append_printf (s, " · %s", member_str (p, "value"));
    if (member_str (p, "currency") != NULL)
      g_string_append_printf (s, " %s", member_str (p, "currency"));
  }
  if (parts != NULL && json_array_get_length (parts) > 0) {
    g_autoptr (GString) ps = g_string_new (NULL);

    join_names (ps, parts, NULL);
    g_string_append_printf (s, " · their part: %s", ps->str);
  }
  if (member_str (p, "owner") != NULL)
    g_string_append_printf (s, " · owner %s", member_str (p, "owner"));
  line = add_line (e, SG_PANEL_LINE_PROCESS, s->str, b->width);
  if (id == NULL)
    return;
  if (stages != NULL && stage != NULL) {
    guint cur = G_MAXUINT;
    GPtrArray *values = g_ptr_array_new ();
    GPtrArray *labels = g_ptr_array_new ();
    SgPanelAction *a;

    for (guint i = 0; i < stages->names->len; i++)
      if (strcmp (stages->names->pdata[i], stage) == 0)
        cur = i;
    /* Next: the following stage that is not a lost one (from the last open stage, won). */
    for (guint i = cur == G_MAXUINT ? stages->names->len : cur + 1; i < stages->names->len; i++) {
      if (strcmp (stages->kinds->pdata[i], "lost") == 0)
        continue;
      if (strcmp (stages->kinds->pdata[cur], "open") != 0 && strcmp (stages->kinds->pdata[i], "post") != 0)
        break;
      {
        g_autofree char *label = g_strdup_printf ("Next stage: %s", (char *)stages->names->pdata[i]);

        a = action_new (SG_PANEL_ACTION_NEXT_STAGE, SG_PANEL_INPUT_NONE, label, b->width);
      }
      a->process = g_strdup (id);
      a->stage = g_strdup (stages->names->pdata[i]);
      a->name = g_strdup (title);
      g_ptr_array_add (line->actions, a);
      break;
    }
    for (guint i = 0; i < stages->names->len; i++) {
      const char *pr = stages->probabilities->pdata[i];
      g_autofree char *t = NULL;

      if (i == cur)
        continue;
      t = *pr ? g_strdup_printf ("%s (%s)", (char *)stages->names->pdata[i], pr)
              : g_strdup (stages->names->pdata[i]);
      g_ptr_array_add (values, g_strdup (stages->names->pdata[i]));
      g_ptr_array_add (labels, sg_panel_sanitize (t, 60));
    }
    g_ptr_array_add (values, NULL);
    g_ptr_array_add (labels, NULL);
    if (values->len > 1) {
      a = action_new (SG_PANEL_ACTION_SET_STAGE, SG_PANEL_INPUT_CHOICE, "Stage…", b->width);
      a->process = g_strdup (id);
      a->name = g_strdup (title);
      a->choices = (char **)g_ptr_array_free (values, FALSE);
      a->choice_labels = (char **)g_ptr_array_free (labels, FALSE);
      g_ptr_array_add (line->actions, a);
    } else {
      g_ptr_array_free (values, TRUE);
      g_ptr_array_free (labels, TRUE);
    }
  }
  if (b->message_id != NULL && !b->composing) {
    SgPanelAction *a
        = action_new (SG_PANEL_ACTION_LINK_MESSAGE, SG_PANEL_INPUT_NONE, "Link message", b->width);

    a->process = g_strdup (id);
    a->message_id = g_strdup (b->message_id);
    a->name = g_strdup (title);
    g_ptr_array_add (line->actions, a);
  }
  for (guint k = 0; sugg != NULL && k < json_array_get_length (sugg) && k < 2; k++) {
    JsonObject *sg = json_array_get_object_element (sugg, k);
    g_autofree char *text = NULL;
    g_autofree char *label = NULL;
    const char *to = member_str (sg, "stage");
    SgPanelLine *l;
    SgPanelAction *a;

    if (to == NULL)
      continue;
    text = g_strdup_printf ("Suggested stage for %s: %s%s%s", title ? title : "the process", to,
                            member_str (sg, "reason") ? " · " : "",
                            member_str (sg, "reason") ? member_str (sg, "reason") : "");
    l = add_line (e, SG_PANEL_LINE_SUGGESTION, text, b->width);
    label = g_strdup_printf ("Move to %s", to);
    a = action_new (SG_PANEL_ACTION_SET_STAGE, SG_PANEL_INPUT_NONE, label, b->width);
    a->process = g_strdup (id);
    a->stage = g_strdup (to);
    a->name = g_strdup (title);
    g_ptr_array_add (l->actions, a);
  }
}

static void
add_tag_lines (Build *b, SgPanelEntry *e, JsonArray *tags)
{
  g_autoptr (GString) s = g_string_new ("Tags: ");
  g_autoptr (GPtrArray) mine = g_ptr_array_new ();
  g_autoptr (GPtrArray) org = g_ptr_array_new ();
  SgPanelLine *line;
  SgPanelAction *a;

  for (guint j = 0; tags != NULL && j < json_array_get_length (tags); j++) {
    JsonObject *t = json_array_get_object_element (tags, j);
    const char *name = member_str (t, "name");

    if (name == NULL)
      continue;
    if (g_strcmp0 (member_str (t, "on"), "organisation") == 0)
      g_ptr_array_add (org, (gpointer)name);
    else
      g_ptr_array_add (mine, (gpointer)name);
  }
  if (mine->len == 0 && org->len == 0 && !e->known)
    return;
  for (guint j = 0; j < mine->len; j++)
    g_string_append_printf (s, "%s%s", j ? ", " : "", (char *)mine->pdata[j]);
  if (mine->len == 0 && org->len == 0)
    g_string_append (s, "none");
  if (org->len > 0) {
    g_string_append (s, mine->len ? " · organisation: " : "organisation: ");
    for (guint j = 0; j < org->len; j++)
      g_string_append_printf (s, "%s%s", j ? ", " : "", (char *)org->pdata[j]);
  }
  line = add_line (e, SG_PANEL_LINE_TAGS, s->str, b->width);
  if (!e->known)
    return;
  a = action_new (SG_PANEL_ACTION_ADD_TAG, SG_PANEL_INPUT_TEXT, "Add tag…", b->width);
  a->entity = g_strdup (e->address);
  a->address = g_strdup (e->address);
  g_ptr_array_add (line->actions, a);
  for (guint pass = 0; pass < 2; pass++) {
    GPtrArray *list = pass == 0 ? mine : org;
    GPtrArray *values, *labels;

    if (list->len == 0 || (pass == 1 && e->organisation == NULL))
      continue;
    values = g_ptr_array_new ();
    labels = g_ptr_array_new ();
    for (guint j = 0; j < list->len; j++) {
      g_ptr_array_add (values, g_strdup (list->pdata[j]));
      g_ptr_array_add (labels, sg_panel_sanitize (list->pdata[j], 60));
    }
    g_ptr_array_add (values, NULL);
    g_ptr_array_add (labels, NULL);
    a = action_new (SG_PANEL_ACTION_REMOVE_TAG, SG_PANEL_INPUT_CHOICE,
                    pass == 0 ? "Remove tag…" : "Remove organisation tag…", b->width);
    a->entity = g_strdup (pass == 0 ? e->address : e->organisation);
    a->address = g_strdup (e->address);
    a->choices = (char **)g_ptr_array_free (values, FALSE);
    a->choice_labels = (char **)g_ptr_array_free (labels, FALSE);
    g_ptr_array_add (line->actions, a);
  }
}

/* Appends one similar organisation to a "Similar: Initech (initech.de, 82%, bought forecast); ..."
 * line, whether it came from the insight or from sg_similar_organisations(). */
static void
append_similar (GString *s, const char *name, const char *domain, double similarity, const char *bought)
{
  g_string_append (s, s->len ? "; " : "Similar: ");
  g_string_append_printf (s, "%s (%s, %d%%", name ? name : domain ? domain : "?", domain ? domain : "?",
                          (int)(similarity * 100 + 0.5));
  if (bought != NULL && *bought)
    g_string_append_printf (s, ", bought %s", bought);
  g_string_append_c (s, ')');
}

/* "Similar: Initech (initech.de, 82%, bought forecast), ..." or "" when none. */
static char *
similar_text (Build *b, const char *domain)
{
  g_autoptr (SgTable) t = NULL;
  GString *s;
  const char *cached;

  if (b->similar_cache != NULL && (cached = g_hash_table_lookup (b->similar_cache, domain)) != NULL)
    return g_strdup (cached);
  if (b->deferred) {
    if (b->missing != NULL && !g_ptr_array_find_with_equal_func (b->missing, domain, g_str_equal, NULL))
      g_ptr_array_add (b->missing, g_strdup (domain));
    return g_strdup ("");
  }
  if (b->store == NULL || (t = sg_similar_organisations (b->store, domain, SIMILAR_LIMIT, NULL)) == NULL)
    return g_strdup ("");
  s = g_string_new (NULL);
  for (guint i = 0; i < sg_table_get_n_rows (t); i++) {
    const char *name = cell (t, i, "organisation");
    const char *d = cell (t, i, "domain");
    const char *bought = cell (t, i, "bought");
    int sc = column_index (t, "similarity");
    double sim = sc >= 0 && !sg_table_is_null (t, i, (guint)sc) ? sg_table_get_real (t, i, (guint)sc) : 0;

    append_similar (s, name, d, sim, bought);
  }
  if (b->similar_cache != NULL) {
    if (g_hash_table_size (b->similar_cache) >= SIMILAR_CACHE_MAX)
      g_hash_table_remove_all (b->similar_cache);
    g_hash_table_insert (b->similar_cache, g_strdup (domain), g_strdup (s->str));
  }
  return g_string_free (s, FALSE);
}

/* The same text from the insight's own similar organisations (computed ahead for every
 * organisation by sg_similar_refresh()); NULL when the insight has none (never computed),
 * and the panel then computes them itself (similar_text). */
static char *
similar_from_insight (JsonObject *c)
{
  JsonObject *so = member_object (c, "similar_organisations");
  JsonArray *list = so != NULL ? member_array (so, "organisations") : NULL;
  GString *s;

  if (list == NULL)
    return NULL;
  s = g_string_new (NULL);
  for (guint i = 0; i < json_array_get_length (list); i++) {
    JsonObject *o = json_array_get_object_element (list, i);

    if (o == NULL)
      continue;
    append_similar (s, member_str (o, "name"), member_str (o, "domain"),
                    json_object_get_double_member_with_default (o, "similarity", 0), member_str (o, "bought"));
  }
  return g_string_free (s, FALSE);
}

static SgPanelEntry *
build_entry (Build *b, JsonObject *c, GHashTable *display_names)
{
  SgPanelEntry *e = g_new0 (SgPanelEntry, 1);
  JsonObject *org = member_object (c, "organisation");
  JsonObject *st = member_object (c, "strength");
  const char *address = member_str (c, "address");
  const char *name = member_str (c, "name");
  g_autoptr (GString) h = g_string_new (NULL);
  JsonArray *a;

  e->lines = g_ptr_array_new_with_free_func ((GDestroyNotify)line_free);
  e->actions = g_ptr_array_new_with_free_func ((GDestroyNotify)sg_panel_action_free);
  e->address = g_strdup (address ? address : "");
  e->known = json_object_get_boolean_member_with_default (c, "known", FALSE);
  if (name == NULL && display_names != NULL && address != NULL)
    name = g_hash_table_lookup (display_names, address);
  if (org != NULL && member_str (org, "domain") != NULL)
    e->organisation = g_strdup (member_str (org, "domain"));
  if (name != NULL)
    g_string_append_printf (h, "%s <%s>", name, e->address);
  else
    g_string_append (h, e->address);
  if (org != NULL) {
    const char *oname = member_str (org, "name");

    g_string_append_printf (h, " · %s", oname ? oname : e->organisation ? e->organisation : "");
    if (oname != NULL && e->organisation != NULL)
      g_string_append_printf (h, " (%s)", e->organisation);
  }
  e->heading = sg_panel_sanitize (h->str, b->width);

  if (member_str (c, "error") != NULL) {
    g_autofree char *t = g_strdup_printf ("Not an address: %s", member_str (c, "error"));

    add_line (e, SG_PANEL_LINE_NOTICE, t, b->width);
    return e;
  }
  if (!e->known) {
    SgPanelLine *line
        = add_line (e, SG_PANEL_LINE_NOTICE,
                    member_str (c, "note") ? member_str (c, "note") : "not in the CRM", b->width);
    const char *kind = member_str (c, "address_kind");

    if (kind == NULL || strcmp (kind, "personal") == 0) {
      SgPanelAction *act
          = action_new (SG_PANEL_ACTION_ADD_PERSON, SG_PANEL_INPUT_NONE, "Add to the CRM", b->width);

      act->address = g_strdup (e->address);
      act->name = g_strdup (name);
      act->organisation = g_strdup (e->organisation);
      g_ptr_array_add (line->actions, act);
    }
  }
  if ((a = member_array (c, "roles")) != NULL && json_array_get_length (a) > 0) {
    g_autoptr (GString) s = g_string_new ("Roles: ");

    join_names (s, a, "role");
    add_line (e, SG_PANEL_LINE_ROLES, s->str, b->width);
  }
  if ((a = member_array (c, "processes")) != NULL)
    for (guint j = 0; j < json_array_get_length (a); j++)
      add_process_lines (b, e, json_array_get_object_element (a, j));
  add_tag_lines (b, e, member_array (c, "tags"));
  if ((a = member_array (c, "last_interactions")) != NULL)
    for (guint j = 0; j < json_array_get_length (a); j++) {
      JsonObject *i = json_array_get_object_element (a, j);
      const char *date = member_str (i, "date");
      const char *kind = member_str (i, "kind");
      const char *dir = member_str (i, "direction");
      const char *subject = member_str (i, "subject");
      g_autofree char *day = g_strndup (date ? date : "(no date)", date ? 10 : 9);
      g_autofree char *t = g_strdup_printf ("%s %s: %s", day,
                                            g_strcmp0 (kind, "meeting") == 0 ? "meeting"
                                            : g_strcmp0 (dir, "out") == 0    ? "sent"
                                                                             : "received",
                                            subject && *subject ? subject : "(no subject)");

      add_line (e, SG_PANEL_LINE_INTERACTION, t, b->width);
    }
  if ((a = member_array (c, "selections")) != NULL && json_array_get_length (a) > 0) {
    g_autoptr (GString) s = g_string_new ("Matches: ");

    join_names (s, a, NULL);
    add_line (e, SG_PANEL_LINE_SELECTIONS, s->str, b->width);
  }
  if (b->similar && e->organisation != NULL && org != NULL
      && g_strcmp0 (member_str (org, "kind"), "internal") != 0) {
    g_autofree char *t = similar_from_insight (c);

    if (t == NULL)
      t = similar_text (b, e->organisation);

    if (*t)
      add_line (e, SG_PANEL_LINE_SIMILAR, t, b->width);
  }
  if (st != NULL) {
    g_autoptr (GString) s = g_string_new ("Relationship: ");
    JsonArray *why = member_array (st, "reasons");
    gint64 score = 0;

    g_string_append (s, member_str (st, "label") ? member_str (st, "label") : "?");
    if (member_int (st, "score", &score))
      g_string_append_printf (s, " (%" G_GINT64_FORMAT "/100)", score);
    for (guint j = 0; why != NULL && j < json_array_get_length (why); j++) {
      JsonNode *n = json_array_get_element (why, j);

      if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
        g_string_append_printf (s, "%s%s", j == 0 ? ": " : "; ", json_node_get_string (n));
    }
    add_line (e, SG_PANEL_LINE_STRENGTH, s->str, b->width);
  }
  if (e->known) {
    SgPanelAction *act = action_new (SG_PANEL_ACTION_ADD_NOTE, SG_PANEL_INPUT_TEXT, "Note…", b->width);

    act->address = g_strdup (e->address);
    act->organisation = g_strdup (e->organisation);
    /* A note is about the first open process, when there is one. */
    for (guint j = 0; j < e->lines->len; j++) {
      SgPanelLine *l = e->lines->pdata[j];

      for (guint k = 0; l->kind == SG_PANEL_LINE_PROCESS && act->process == NULL && k < l->actions->len; k++)
        act->process = g_strdup (((SgPanelAction *)l->actions->pdata[k])->process);
    }
    g_ptr_array_add (e->actions, act);
  }
  return e;
}

static char *
strip_message_id (const char *id)
{
  g_autofree char *s = NULL;
  gsize n;

  if (id == NULL)
    return NULL;
  s = g_strstrip (g_strdup (id));
  n = strlen (s);
  if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
    memmove (s, s + 1, n - 2);
    s[n - 2] = '\0';
  }
  return *s ? g_steal_pointer (&s) : NULL;
}

static SgPanel *
build_panel (const SgInsight *insight, Build *b, GHashTable *display_names)
{
  SgPanel *p = panel_new ();
  JsonNode *root = sg_insight_get_json (insight);
  JsonArray *cs
      = JSON_NODE_HOLDS_OBJECT (root) ? member_array (json_node_get_object (root), "correspondents") : NULL;

  p->composing = b->composing;
  p->message_id = g_strdup (b->message_id);
  b->stages = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify)stages_free);
  for (guint i = 0; cs != NULL && i < json_array_get_length (cs); i++) {
    JsonNode *n = json_array_get_element (cs, i);

    if (JSON_NODE_HOLDS_OBJECT (n))
      g_ptr_array_add (p->entries, build_entry (b, json_node_get_object (n), display_names));
  }
  g_clear_pointer (&b->stages, g_hash_table_unref);
  if (b->missing != NULL && b->missing->len > 0) {
    g_ptr_array_add (b->missing, NULL);
    p->missing_similar = (char **)g_ptr_array_free (g_steal_pointer (&b->missing), FALSE);
  }
  g_clear_pointer (&b->missing, g_ptr_array_unref);
  if (p->entries->len == 0)
    p->status = g_strdup (b->composing ? "No recipients outside your company."
                                       : "No correspondents outside your company.");
  return p;
}

SgPanel *
sg_panel_new_from_insight (const SgInsight *insight, SgStore *store, const char *message_id,
                           gboolean composing, guint width, gboolean similar)
{
  g_autofree char *mid = strip_message_id (message_id);
  Build b = { .store = store,
              .message_id = mid,
              .composing = composing,
              .width = CLAMP (width ? width : SG_PANEL_WIDTH_DEFAULT, SG_PANEL_WIDTH_MIN, SG_PANEL_WIDTH_MAX),
              .similar = similar && store != NULL };

  g_return_val_if_fail (insight != NULL, NULL);
  return build_panel (insight, &b, NULL);
}

/* --- text rendering ------------------------------------------------------------------------ */

char *
sg_panel_to_text (const SgPanel *panel, gboolean with_actions)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (panel != NULL, NULL);
  if (panel->status != NULL)
    g_string_append_printf (out, "SalesGetter: %s\n", panel->status);
  for (guint i = 0; i < panel->entries->len; i++) {
    const SgPanelEntry *e = panel->entries->pdata[i];

    g_string_append_printf (out, "%s\n", e->heading);
    for (guint j = 0; j < e->lines->len; j++) {
      const SgPanelLine *l = e->lines->pdata[j];

      g_string_append_printf (out, "  %s\n", l->text);
      if (with_actions && l->actions->len > 0) {
        g_string_append (out, "   ");
        for (guint k = 0; k < l->actions->len; k++)
          g_string_append_printf (out, " [%s]", ((SgPanelAction *)l->actions->pdata[k])->label);
        g_string_append_c (out, '\n');
      }
    }
    if (with_actions && e->actions->len > 0) {
      g_string_append (out, "   ");
      for (guint k = 0; k < e->actions->len; k++)
        g_string_append_printf (out, " [%s]", ((SgPanelAction *)e->actions->pdata[k])->label);
      g_string_append_c (out, '\n');
    }
  }
  return g_string_free (out, FALSE);
}

/* --- the source ----------------------------------------------------------------------------- */

SgPanelSource *
sg_panel_source_new (const char *config_path, const char *store_path)
{
  SgPanelSource *s = g_new0 (SgPanelSource, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (SgConfig) config = sg_config_load (config_path, &error);

  static gsize gmime_ready;

  /* Display names are parsed with GMime, which the client may not have started. */
  if (g_once_init_enter (&gmime_ready)) {
    g_mime_init ();
    g_once_init_leave (&gmime_ready, 1);
  }
  g_atomic_ref_count_init (&s->ref);
  g_mutex_init (&s->lock);
  s->width = SG_PANEL_WIDTH_DEFAULT;
  s->n_interactions = 3;
  s->with_similar = TRUE;
  s->similar = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (config != NULL) {
    const char *const *mine = sg_identity_get_addresses (config->identity);

    s->identity = sg_identity_ref (config->identity);
    s->actor = mine != NULL && mine[0] != NULL ? g_strdup (mine[0]) : NULL;
    s->store_path = sg_config_store_path (config, store_path);
  } else {
    s->config_problem = g_strdup_printf ("config not read (%s)", error->message);
    s->identity = sg_identity_new ();
    if (store_path != NULL)
      s->store_path = g_strdup (store_path);
    else {
      /* The default store path needs no config. */
      g_autoptr (SgConfig) empty = sg_config_load ("/dev/null", NULL);

      s->store_path = empty != NULL
                          ? sg_config_store_path (empty, NULL)
                          : g_build_filename (g_get_user_data_dir (), "salesgetter", "store.db", NULL);
    }
  }
  return s;
}

SgPanelSource *
sg_panel_source_ref (SgPanelSource *source)
{
  g_return_val_if_fail (source != NULL, NULL);
  g_atomic_ref_count_inc (&source->ref);
  return source;
}

void
sg_panel_source_unref (SgPanelSource *source)
{
  if (source == NULL || !g_atomic_ref_count_dec (&source->ref))
    return;
  sg_store_close (source->store);
  g_hash_table_unref (source->similar);
  sg_identity_unref (source->identity);
  g_mutex_clear (&source->lock);
  g_free (source->store_path);
  g_free (source->config_problem);
  g_free (source->actor);
  g_free (source);
}

const char *
sg_panel_source_get_store_path (SgPanelSource *source)
{
  g_return_val_if_fail (source != NULL, NULL);
  return source->store_path;
}

void
sg_panel_source_set_width (SgPanelSource *source, guint columns)
{
  g_return_if_fail (source != NULL);
  g_mutex_lock (&source->lock);
  source->width = CLAMP (columns, SG_PANEL_WIDTH_MIN, SG_PANEL_WIDTH_MAX);
  g_mutex_unlock (&source->lock);
}

void
sg_panel_source_set_similar (SgPanelSource *source, gboolean enabled)
{
  g_return_if_fail (source != NULL);
  g_mutex_lock (&source->lock);
  source->with_similar = enabled;
  g_mutex_unlock (&source->lock);
}

void
sg_panel_source_set_similar_deferred (SgPanelSource *source, gboolean deferred)
{
  g_return_if_fail (source != NULL);
  g_mutex_lock (&source->lock);
  source->similar_deferred = deferred;
  g_mutex_unlock (&source->lock);
}

void
sg_panel_source_set_n_interactions (SgPanelSource *source, guint n)
{
  g_return_if_fail (source != NULL);
  g_mutex_lock (&source->lock);
  source->n_interactions = MIN (n, 20);
  g_mutex_unlock (&source->lock);
}

void
sg_panel_source_close_store (SgPanelSource *source)
{
  g_return_if_fail (source != NULL);
  g_mutex_lock (&source->lock);
  g_clear_pointer (&source->store, sg_store_close);
  g_mutex_unlock (&source->lock);
}

/* A quiet status line for a store that cannot be used. */
static char *
store_status (const char *path, const GError *error)
{
  if (error == NULL)
    return g_strdup_printf ("no store at %s yet (run 'salesgetter import')", path);
  if (error->domain == SG_STORE_ERROR && error->code == SG_STORE_ERROR_BUSY)
    return g_strdup ("the store is busy (another program is writing); try again");
  if (error->domain == SG_STORE_ERROR && error->code == SG_STORE_ERROR_TOO_NEW)
    return g_strdup ("the store was made by a newer SalesGetter");
  return g_strdup_printf ("store not readable: %s", error->message);
}

/* The addresses of @given, parsed (display names allowed), without duplicates; display
 * names go to @names (address -> name). */
static GPtrArray *
parse_addresses (const char *const *given, GHashTable *names)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; given != NULL && given[i] != NULL; i++) {
    InternetAddressList *list = internet_address_list_parse (NULL, given[i]);
    int n = list ? internet_address_list_length (list) : 0;
    gboolean any = FALSE;

    for (int j = 0; j < n; j++) {
      InternetAddress *ia = internet_address_list_get_address (list, j);
      g_autofree char *norm = NULL;

      if (!INTERNET_ADDRESS_IS_MAILBOX (ia))
        continue;
      any = TRUE;
      norm = sg_address_normalize (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (ia)), NULL);
      if (norm == NULL)
        norm = g_strdup (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (ia)));
      if (norm == NULL || g_hash_table_contains (seen, norm)
          || g_ptr_array_find_with_equal_func (out, norm, g_str_equal, NULL))
        continue;
      if (internet_address_get_name (ia) != NULL && *internet_address_get_name (ia))
        g_hash_table_insert (names, g_strdup (norm), g_strdup (internet_address_get_name (ia)));
      g_ptr_array_add (out, g_steal_pointer (&norm));
      g_hash_table_add (seen, out->pdata[out->len - 1]);
    }
    if (list != NULL)
      g_object_unref (list);
    if (!any) {
      char *raw = g_strstrip (g_strdup (given[i]));

      if (*raw != '\0')
        g_ptr_array_add (out, raw); /* the insight says why it is not an address */
      else
        g_free (raw);
    }
    if (out->len >= SG_INSIGHT_MAX_CORRESPONDENTS)
      break;
  }
  return out;
}

/* The lookup itself; runs with @source->lock held. */
static SgPanel *
lookup_locked (SgPanelSource *source, const char *const *addresses, const char *message_id,
               gboolean composing)
{
  g_autoptr (GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GPtrArray) addrs = parse_addresses (addresses, names);
  g_autoptr (GError) error = NULL;
  g_autoptr (SgInsight) insight = NULL;
  g_autofree char *mid = strip_message_id (message_id);
  SgInsightOptions options = { .identity = source->identity, .n_interactions = source->n_interactions };
  Build b = { .message_id = mid,
              .composing = composing,
              .width = source->width,
              .similar = source->with_similar,
              .similar_cache = source->similar,
              .deferred = source->similar_deferred };
  SgPanel *panel;

  if (addrs->len == 0) {
    panel = sg_panel_new_status (composing ? "No recipients yet." : "No correspondents.");
    panel->composing = composing;
    return panel;
  }
  if (source->store == NULL) {
    g_autofree char *status = NULL;

    if (!g_file_test (source->store_path, G_FILE_TEST_EXISTS))
      status = store_status (source->store_path, NULL);
    else if ((source->store = sg_store_open (source->store_path, SG_STORE_OPEN_READ_ONLY, &error)) == NULL)
      status = store_status (source->store_path, error);
    if (status != NULL) {
      panel = sg_panel_new_status (status);
      panel->composing = composing;
      return panel;
    }
  }
  g_ptr_array_add (addrs, NULL);
  insight = sg_insight_for_addresses (source->store, (const char *const *)addrs->pdata, &options, &error);
  if (insight == NULL) {
    g_autofree char *status = store_status (source->store_path, error);

    /* A failed connection is not reused: the next lookup opens a fresh one. */
    g_clear_pointer (&source->store, sg_store_close);
    panel = sg_panel_new_status (status);
    panel->composing = composing;
    return panel;
  }
  b.store = source->store;
  if (b.deferred && b.similar)
    b.missing = g_ptr_array_new_with_free_func (g_free);
  panel = build_panel (insight, &b, names);
  if (source->config_problem != NULL && panel->status == NULL)
    panel->status = sg_panel_sanitize (source->config_problem, SG_PANEL_WIDTH_MAX);
  return panel;
}

SgPanel *
sg_panel_lookup_sync (SgPanelSource *source, const char *const *addresses, const char *message_id,
                      gboolean composing, GCancellable *cancellable, GError **error)
{
  SgPanel *panel;

  g_return_val_if_fail (source != NULL, NULL);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  g_mutex_lock (&source->lock);
  if (g_cancellable_is_cancelled (cancellable)) {
    g_mutex_unlock (&source->lock);
    g_cancellable_set_error_if_cancelled (cancellable, error);
    return NULL;
  }
  panel = lookup_locked (source, addresses, message_id, composing);
  g_mutex_unlock (&source->lock);
  if (g_cancellable_set_error_if_cancelled (cancellable, error)) {
    sg_panel_unref (panel);
    return NULL;
  }
  return panel;
}

typedef struct {
  char **addresses;
  char *message_id;
  gboolean composing;
  SgPanelAction *action;
} TaskData;

static void
task_data_free (TaskData *d)
{
  g_strfreev (d->addresses);
  g_free (d->message_id);
  sg_panel_action_free (d->action);
  g_free (d);
}

static void
lookup_thread (GTask *task, gpointer object, gpointer data, GCancellable *cancellable)
{
  SgPanelSource *source = g_object_get_data (G_OBJECT (task), "sg-source");
  TaskData *d = data;
  GError *error = NULL;
  SgPanel *panel;

  (void)object;
  panel = sg_panel_lookup_sync (source, (const char *const *)d->addresses, d->message_id, d->composing,
                                cancellable, &error);
  if (panel == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, panel, (GDestroyNotify)sg_panel_unref);
}

static GTask *
task_new (SgPanelSource *source, TaskData *d, GCancellable *cancellable, GAsyncReadyCallback callback,
          gpointer user_data, gpointer tag)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, tag);
  g_task_set_task_data (task, d, (GDestroyNotify)task_data_free);
  g_object_set_data_full (G_OBJECT (task), "sg-source", sg_panel_source_ref (source),
                          (GDestroyNotify)sg_panel_source_unref);
  return task;
}

void
sg_panel_lookup_async (SgPanelSource *source, const char *const *addresses, const char *message_id,
                       gboolean composing, GCancellable *cancellable, GAsyncReadyCallback callback,
                       gpointer user_data)
{
  TaskData *d = g_new0 (TaskData, 1);
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (source != NULL);
  d->addresses = g_strdupv ((char **)addresses);
  d->message_id = g_strdup (message_id);
  d->composing = composing;
  task = task_new (source, d, cancellable, callback, user_data, sg_panel_lookup_async);
  g_task_run_in_thread (task, lookup_thread);
}

SgPanel *
sg_panel_lookup_finish (SgPanelSource *source, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == sg_panel_lookup_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* --- similar organisations, in the background ---------------------------------------------- */

static void
warm_thread (GTask *task, gpointer object, gpointer data, GCancellable *cancellable)
{
  TaskData *d = data;
  SgPanelSource *source = g_object_get_data (G_OBJECT (task), "sg-source");
  g_autoptr (GError) error = NULL;
  SgStore *store;

  (void)object;
  /* A connection of its own: a look at every tag assignment takes a while, and the
   * lookups (which hold the source's connection) must not wait for it. */
  if (!g_file_test (source->store_path, G_FILE_TEST_EXISTS)
      || (store = sg_store_open (source->store_path, SG_STORE_OPEN_READ_ONLY, &error)) == NULL) {
    g_task_return_new_error (task, SG_PANEL_ERROR, SG_PANEL_ERROR_STORE, "%s",
                             error ? error->message : "no store");
    return;
  }
  for (guint i = 0; d->addresses != NULL && d->addresses[i] != NULL; i++) {
    g_autoptr (GHashTable) one = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    Build b = { .store = store, .similar = TRUE, .similar_cache = one };
    g_autofree char *text = NULL;

    if (g_cancellable_is_cancelled (cancellable))
      break;
    text = similar_text (&b, d->addresses[i]);
    g_mutex_lock (&source->lock);
    if (g_hash_table_size (source->similar) >= SIMILAR_CACHE_MAX)
      g_hash_table_remove_all (source->similar);
    g_hash_table_insert (source->similar, g_strdup (d->addresses[i]), g_steal_pointer (&text));
    g_mutex_unlock (&source->lock);
  }
  sg_store_close (store);
  if (!g_task_return_error_if_cancelled (task))
    g_task_return_boolean (task, TRUE);
}

void
sg_panel_source_warm_similar_async (SgPanelSource *source, const char *const *domains,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  TaskData *d = g_new0 (TaskData, 1);
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (source != NULL);
  d->addresses = g_strdupv ((char **)domains);
  task = task_new (source, d, cancellable, callback, user_data, sg_panel_source_warm_similar_async);
  g_task_run_in_thread (task, warm_thread);
}

gboolean
sg_panel_source_warm_similar_finish (SgPanelSource *source, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == sg_panel_source_warm_similar_async, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- actions ------------------------------------------------------------------------------ */

static gboolean
in_choices (const SgPanelAction *a, const char *value)
{
  for (guint i = 0; a->choices != NULL && a->choices[i] != NULL; i++)
    if (strcmp (a->choices[i], value) == 0)
      return TRUE;
  return FALSE;
}

SgPanelAction *
sg_panel_action_with_value (const SgPanelAction *action, const char *value, GError **error)
{
  g_autofree char *v = NULL;
  SgPanelAction *c;

  g_return_val_if_fail (action != NULL, NULL);
  v = value ? g_strstrip (g_strdup (value)) : g_strdup ("");
  if (*v == '\0') {
    g_set_error (error, SG_PANEL_ERROR, SG_PANEL_ERROR_INVALID, "nothing was entered");
    return NULL;
  }
  if (action->input == SG_PANEL_INPUT_CHOICE && !in_choices (action, v)) {
    g_set_error (error, SG_PANEL_ERROR, SG_PANEL_ERROR_INVALID, "“%s” is not one of the choices", v);
    return NULL;
  }
  if (!g_utf8_validate (v, -1, NULL)) {
    g_set_error (error, SG_PANEL_ERROR, SG_PANEL_ERROR_INVALID, "the text is not valid UTF-8");
    return NULL;
  }
  c = sg_panel_action_copy (action);
  c->input = SG_PANEL_INPUT_NONE;
  g_clear_pointer (&c->choices, g_strfreev);
  g_clear_pointer (&c->choice_labels, g_strfreev);
  switch (c->kind) {
  case SG_PANEL_ACTION_ADD_TAG:
  case SG_PANEL_ACTION_REMOVE_TAG:
    g_free (c->tag);
    c->tag = g_steal_pointer (&v);
    break;
  case SG_PANEL_ACTION_ADD_NOTE:
    g_free (c->text);
    c->text = g_steal_pointer (&v);
    break;
  case SG_PANEL_ACTION_SET_STAGE:
  case SG_PANEL_ACTION_NEXT_STAGE:
    g_free (c->stage);
    c->stage = g_steal_pointer (&v);
    break;
  case SG_PANEL_ACTION_LINK_MESSAGE:
    g_free (c->process);
    c->process = g_steal_pointer (&v);
    break;
  case SG_PANEL_ACTION_ADD_PERSON:
    g_free (c->name);
    c->name = g_steal_pointer (&v);
    break;
  }
  return c;
}

char *
sg_panel_action_describe (const SgPanelAction *a)
{
  g_autofree char *raw = NULL;

  g_return_val_if_fail (a != NULL, NULL);
  switch (a->kind) {
  case SG_PANEL_ACTION_NEXT_STAGE:
  case SG_PANEL_ACTION_SET_STAGE:
    raw = g_strdup_printf ("%s moved to %s", a->name ? a->name : "The process", a->stage ? a->stage : "?");
    break;
  case SG_PANEL_ACTION_ADD_TAG:
    raw = g_strdup_printf ("Tagged %s “%s”", a->entity ? a->entity : "", a->tag ? a->tag : "");
    break;
  case SG_PANEL_ACTION_REMOVE_TAG:
    raw = g_strdup_printf ("Removed the tag “%s” from %s", a->tag ? a->tag : "", a->entity ? a->entity : "");
    break;
  case SG_PANEL_ACTION_LINK_MESSAGE:
    raw = g_strdup_printf ("This message is now linked to %s", a->name ? a->name : "the process");
    break;
  case SG_PANEL_ACTION_ADD_NOTE:
    raw = g_strdup ("Note recorded");
    break;
  case SG_PANEL_ACTION_ADD_PERSON:
    raw = g_strdup_printf ("%s added to the CRM", a->address ? a->address : "");
    break;
  }
  return sg_panel_sanitize (raw, SG_PANEL_WIDTH_DEFAULT);
}

#define MAX_TAG_LEN 100
#define MAX_NOTE_LEN 10000

static gboolean
run_action (SgPanelSource *source, SgStore *store, const SgPanelAction *a, GError **error)
{
  if (a->input != SG_PANEL_INPUT_NONE) {
    g_set_error (error, SG_PANEL_ERROR, SG_PANEL_ERROR_INVALID, "“%s” needs a value first", a->label);
    return FALSE;
  }
  switch (a->kind) {
  case SG_PANEL_ACTION_NEXT_STAGE:
  case SG_PANEL_ACTION_SET_STAGE:
    if (a->process == NULL || a->stage == NULL)
      break;
    return sg_process_move (store, a->process, a->stage, NULL, source->actor, error);
  case SG_PANEL_ACTION_ADD_TAG:
  case SG_PANEL_ACTION_REMOVE_TAG:
    if (a->entity == NULL || a->tag == NULL)
      break;
    if (g_utf8_strlen (a->tag, -1) > MAX_TAG_LEN) {
      g_set_error (error, SG_PANEL_ERROR, SG_PANEL_ERROR_INVALID, "a tag is at most %d characters",
                   MAX_TAG_LEN);
      return FALSE;
    }
    return a->kind == SG_PANEL_ACTION_ADD_TAG ? sg_tags_add (store, a->entity, a->tag, error)
                                              : sg_tags_remove (store, a->entity, a->tag, error);
  case SG_PANEL_ACTION_LINK_MESSAGE:
    if (a->process == NULL || a->message_id == NULL)
      break;
    return sg_process_link (store, a->process, a->message_id, source->actor, error);
  case SG_PANEL_ACTION_ADD_NOTE: {
    SgNoteNew spec
        = { .organisation = a->organisation, .process = a->process, .person = a->address, .text = a->text };
    g_autofree char *uuid = NULL;

    if (a->text == NULL || (a->organisation == NULL && a->process == NULL && a->address == NULL))
      break;
    if (strlen (a->text) > MAX_NOTE_LEN) {
      g_set_error (error, SG_PANEL_ERROR, SG_PANEL_ERROR_INVALID, "a note is at most %d bytes", MAX_NOTE_LEN);
      return FALSE;
    }
    uuid = sg_note_add (store, &spec, source->actor, error);
    return uuid != NULL;
  }
  case SG_PANEL_ACTION_ADD_PERSON:
    if (a->address == NULL)
      break;
    return sg_leads_add_person (store, source->identity, a->address, a->name, NULL, error);
  }
  g_set_error (error, SG_PANEL_ERROR, SG_PANEL_ERROR_INVALID, "“%s” is missing what it acts on", a->label);
  return FALSE;
}

gboolean
sg_panel_run_action_sync (SgPanelSource *source, const SgPanelAction *action, GCancellable *cancellable,
                          GError **error)
{
  g_autoptr (GError) local = NULL;
  SgStore *store;
  gboolean ok;

  g_return_val_if_fail (source != NULL && action != NULL, FALSE);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (!g_file_test (source->store_path, G_FILE_TEST_EXISTS)) {
    g_set_error (error, SG_PANEL_ERROR, SG_PANEL_ERROR_STORE, "no store at %s yet (run 'salesgetter import')",
                 source->store_path);
    return FALSE;
  }
  /* A write connection of its own, for this action only: writes are rare, and the lookups'
   * read-only connection stays read-only. */
  if ((store = sg_store_open (source->store_path, SG_STORE_OPEN_DEFAULT, &local)) == NULL) {
    g_autofree char *status = store_status (source->store_path, local);

    g_set_error (error, SG_PANEL_ERROR, SG_PANEL_ERROR_STORE, "%s", status);
    return FALSE;
  }
  ok = run_action (source, store, action, error);
  sg_store_close (store);
  if (ok) {
    /* Tags changed what organisations look like. */
    g_mutex_lock (&source->lock);
    g_hash_table_remove_all (source->similar);
    g_mutex_unlock (&source->lock);
  }
  return ok;
}

static void
action_thread (GTask *task, gpointer object, gpointer data, GCancellable *cancellable)
{
  TaskData *d = data;
  SgPanelSource *source = g_object_get_data (G_OBJECT (task), "sg-source");
  GError *error = NULL;

  (void)object;
  if (sg_panel_run_action_sync (source, d->action, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
sg_panel_run_action_async (SgPanelSource *source, const SgPanelAction *action, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  TaskData *d = g_new0 (TaskData, 1);
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (source != NULL && action != NULL);
  d->action = sg_panel_action_copy (action);
  task = task_new (source, d, cancellable, callback, user_data, sg_panel_run_action_async);
  g_task_run_in_thread (task, action_thread);
}

gboolean
sg_panel_run_action_finish (SgPanelSource *source, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == sg_panel_run_action_async, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
