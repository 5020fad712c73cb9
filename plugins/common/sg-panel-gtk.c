/* sg-panel-gtk.c: the panel as GTK 3 widgets (sg-panel-gtk.h). */
#include "config.h"

#include "sg-panel-gtk.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#define VIEW_KEY "sg-panel-view"

typedef struct {
  GtkWidget *box;       /* the view (not referenced: it owns this) */
  GtkWidget *status;    /* GtkLabel */
  GtkWidget *content;   /* GtkBox with the entries */
  SgPanelSource *source;
  SgPanel *panel;
  GCancellable *cancellable;
  char *name;
  guint id;
  /* The last lookup, repeated after an action. */
  char **addresses;
  char *message_id;
  gboolean composing;
  gboolean destroyed;
  char *notice; /* what the last action did, shown with the next panel */
} View;

static guint n_views;
/* Lookups and actions whose callback has not run yet (all on the UI thread). */
static guint n_pending;

guint
sg_panel_view_get_n_pending (void)
{
  return n_pending;
}

static const char *
kind_name (SgPanelActionKind kind)
{
  switch (kind) {
  case SG_PANEL_ACTION_NEXT_STAGE: return "next-stage";
  case SG_PANEL_ACTION_SET_STAGE: return "set-stage";
  case SG_PANEL_ACTION_ADD_TAG: return "add-tag";
  case SG_PANEL_ACTION_REMOVE_TAG: return "remove-tag";
  case SG_PANEL_ACTION_LINK_MESSAGE: return "link-message";
  case SG_PANEL_ACTION_ADD_NOTE: return "add-note";
  case SG_PANEL_ACTION_ADD_PERSON: return "add-person";
  }
  return "?";
}

/* Appends one JSON object to $SALESGETTER_PANEL_LOG; @b is freed. */
static void
debug_log (JsonBuilder *b)
{
  const char *path = g_getenv ("SALESGETTER_PANEL_LOG");
  g_autoptr (JsonGenerator) gen = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;
  FILE *f;

  json_builder_end_object (b);
  root = json_builder_get_root (b);
  g_object_unref (b);
  if (path == NULL || *path == '\0')
    return;
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  if ((f = fopen (path, "a")) != NULL) {
    fprintf (f, "%s\n", text);
    fclose (f);
  }
}

static JsonBuilder *
debug_begin (View *v, const char *event)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "event");
  json_builder_add_string_value (b, event);
  json_builder_set_member_name (b, "view");
  json_builder_add_string_value (b, v->name);
  return b;
}

static gboolean
debug_enabled (void)
{
  const char *path = g_getenv ("SALESGETTER_PANEL_LOG");

  return path != NULL && *path != '\0';
}

static void
view_free (View *v)
{
  g_cancellable_cancel (v->cancellable);
  g_object_unref (v->cancellable);
  sg_panel_source_unref (v->source);
  g_clear_pointer (&v->panel, sg_panel_unref);
  g_strfreev (v->addresses);
  g_free (v->message_id);
  g_free (v->name);
  g_free (v->notice);
  g_free (v);
}

static View *
view_get (GtkWidget *widget)
{
  return g_object_get_data (G_OBJECT (widget), VIEW_KEY);
}

static void
set_status (View *v, const char *text)
{
  g_autofree char *safe = sg_panel_sanitize (text, SG_PANEL_WIDTH_DEFAULT);

  if (*safe == '\0') {
    gtk_label_set_text (GTK_LABEL (v->status), "");
    gtk_widget_hide (v->status);
  } else {
    g_autofree char *line = g_strconcat ("SalesGetter: ", safe, NULL);

    gtk_label_set_text (GTK_LABEL (v->status), line);
    gtk_widget_show (v->status);
  }
}

static GtkWidget *
plain_label (const char *text, gboolean bold)
{
  GtkWidget *label = gtk_label_new (NULL);

  /* Text, never markup: whatever a correspondent put in a name stays characters. */
  gtk_label_set_text (GTK_LABEL (label), text);
  gtk_label_set_use_markup (GTK_LABEL (label), FALSE);
  gtk_label_set_use_underline (GTK_LABEL (label), FALSE);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_label_set_selectable (GTK_LABEL (label), FALSE);
  gtk_widget_set_hexpand (label, TRUE);
  if (bold) {
    PangoAttrList *attrs = pango_attr_list_new ();

    pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
    gtk_label_set_attributes (GTK_LABEL (label), attrs);
    pango_attr_list_unref (attrs);
  }
  return label;
}

static void run_action (View *v, const SgPanelAction *action);

static void
on_button_allocate (GtkWidget *button, GdkRectangle *alloc, gpointer data)
{
  View *v = data;
  const SgPanelAction *a = g_object_get_data (G_OBJECT (button), "sg-action");
  GtkWidget *top = gtk_widget_get_toplevel (button);
  GdkWindow *win = gtk_widget_is_toplevel (top) ? gtk_widget_get_window (top) : NULL;
  int x = 0, y = 0, ox = 0, oy = 0;
  JsonBuilder *b;

  if (!debug_enabled () || a == NULL || win == NULL)
    return;
  if (!gtk_widget_translate_coordinates (button, top, 0, 0, &x, &y))
    return;
  gdk_window_get_origin (win, &ox, &oy);
  b = debug_begin (v, "button");
  json_builder_set_member_name (b, "label");
  json_builder_add_string_value (b, a->label);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, kind_name (a->kind));
  json_builder_set_member_name (b, "x");
  json_builder_add_int_value (b, ox + x);
  json_builder_set_member_name (b, "y");
  json_builder_add_int_value (b, oy + y);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, alloc->width);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, alloc->height);
  debug_log (b);
}

/* Logs @widget's screen rectangle as {"event": "widget", "name", "x", "y", "width", "height"}. */
static void
log_widget (GtkWidget *widget, const char *name)
{
  GtkWidget *top = gtk_widget_get_toplevel (widget);
  GdkWindow *win = gtk_widget_is_toplevel (top) ? gtk_widget_get_window (top) : NULL;
  GtkAllocation alloc;
  int x = 0, y = 0, ox = 0, oy = 0;
  JsonBuilder *b;

  if (!debug_enabled () || win == NULL || !gtk_widget_get_mapped (widget) ||
      !gtk_widget_translate_coordinates (widget, top, 0, 0, &x, &y))
    return;
  gtk_widget_get_allocation (widget, &alloc);
  gdk_window_get_origin (win, &ox, &oy);
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "event");
  json_builder_add_string_value (b, "widget");
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "x");
  json_builder_add_int_value (b, ox + x);
  json_builder_set_member_name (b, "y");
  json_builder_add_int_value (b, oy + y);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, alloc.width);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, alloc.height);
  debug_log (b);
}

static void
on_watched_allocate (GtkWidget *widget, GdkRectangle *alloc, gpointer data)
{
  log_widget (widget, data);
}

static void
on_watched_map (GtkWidget *widget, gpointer data)
{
  log_widget (widget, data);
}

void
sg_panel_debug_watch_widget (GtkWidget *widget, const char *name)
{
  g_return_if_fail (GTK_IS_WIDGET (widget) && name != NULL);
  if (!debug_enabled () || g_object_get_data (G_OBJECT (widget), "sg-debug-watched") != NULL)
    return;
  g_object_set_data_full (G_OBJECT (widget), "sg-debug-watched", g_strdup (name), g_free);
  g_signal_connect_data (widget, "size-allocate", G_CALLBACK (on_watched_allocate), g_strdup (name),
                         (GClosureNotify) (void (*) (void)) g_free, 0);
  g_signal_connect_data (widget, "map", G_CALLBACK (on_watched_map), g_strdup (name),
                         (GClosureNotify) (void (*) (void)) g_free, 0);
  log_widget (widget, name);
}

static void
on_simple_clicked (GtkButton *button, gpointer data)
{
  run_action (data, g_object_get_data (G_OBJECT (button), "sg-action"));
}

static void
on_choice_activated (GtkMenuItem *item, gpointer data)
{
  const SgPanelAction *a = g_object_get_data (G_OBJECT (item), "sg-action");
  const char *value = g_object_get_data (G_OBJECT (item), "sg-value");
  g_autoptr (GError) error = NULL;
  g_autoptr (SgPanelAction) filled = sg_panel_action_with_value (a, value, &error);

  if (filled == NULL)
    set_status (data, error->message);
  else
    run_action (data, filled);
}

static void
on_entry_activate (GtkEntry *entry, gpointer data)
{
  const SgPanelAction *a = g_object_get_data (G_OBJECT (entry), "sg-action");
  GtkWidget *popover = gtk_widget_get_ancestor (GTK_WIDGET (entry), GTK_TYPE_POPOVER);
  g_autoptr (GError) error = NULL;
  g_autoptr (SgPanelAction) filled = sg_panel_action_with_value (a, gtk_entry_get_text (entry), &error);

  if (popover != NULL)
    gtk_popover_popdown (GTK_POPOVER (popover));
  if (filled == NULL)
    set_status (data, error->message);
  else
    run_action (data, filled);
}

static GtkWidget *
action_button (View *v, const SgPanelAction *a)
{
  GtkWidget *button;

  switch (a->input) {
  case SG_PANEL_INPUT_NONE:
    button = gtk_button_new ();
    g_signal_connect (button, "clicked", G_CALLBACK (on_simple_clicked), v);
    break;
  case SG_PANEL_INPUT_CHOICE: {
    GtkWidget *menu = gtk_menu_new ();

    button = gtk_menu_button_new ();
    for (guint i = 0; a->choices != NULL && a->choices[i] != NULL; i++) {
      GtkWidget *item = gtk_menu_item_new_with_label (a->choice_labels ? a->choice_labels[i] : a->choices[i]);

      g_object_set_data (G_OBJECT (item), "sg-action", (gpointer) a);
      g_object_set_data (G_OBJECT (item), "sg-value", a->choices[i]);
      g_signal_connect (item, "activate", G_CALLBACK (on_choice_activated), v);
      gtk_menu_shell_append (GTK_MENU_SHELL (menu), item);
    }
    gtk_widget_show_all (menu);
    gtk_menu_button_set_popup (GTK_MENU_BUTTON (button), menu);
    break;
  }
  case SG_PANEL_INPUT_TEXT:
  default: {
    GtkWidget *popover, *entry;

    button = gtk_menu_button_new ();
    popover = gtk_popover_new (button);
    entry = gtk_entry_new ();
    gtk_entry_set_max_length (GTK_ENTRY (entry), a->kind == SG_PANEL_ACTION_ADD_NOTE ? 2000 : 100);
    gtk_entry_set_placeholder_text (GTK_ENTRY (entry),
                                    a->kind == SG_PANEL_ACTION_ADD_NOTE ? "Note, then Enter" : "Tag, then Enter");
    g_object_set_data (G_OBJECT (entry), "sg-action", (gpointer) a);
    g_signal_connect (entry, "activate", G_CALLBACK (on_entry_activate), v);
    gtk_container_add (GTK_CONTAINER (popover), entry);
    gtk_container_set_border_width (GTK_CONTAINER (popover), 6);
    gtk_widget_show (entry);
    gtk_menu_button_set_popover (GTK_MENU_BUTTON (button), popover);
    break;
  }
  }
  /* The label is plain text: a child GtkLabel set with gtk_label_set_text(). */
  {
    GtkWidget *label = gtk_label_new (NULL);
    GtkWidget *child = gtk_bin_get_child (GTK_BIN (button));

    gtk_label_set_text (GTK_LABEL (label), a->label);
    if (child != NULL)
      gtk_container_remove (GTK_CONTAINER (button), child);
    gtk_container_add (GTK_CONTAINER (button), label);
  }
  gtk_button_set_relief (GTK_BUTTON (button), GTK_RELIEF_NONE);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  g_object_set_data (G_OBJECT (button), "sg-action", (gpointer) a);
  g_signal_connect (button, "size-allocate", G_CALLBACK (on_button_allocate), v);
  return button;
}

static GtkWidget *
line_row (View *v, const char *text, GPtrArray *actions, gboolean bold, int indent)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *label = plain_label (text, bold);

  gtk_widget_set_margin_start (label, indent);
  gtk_widget_set_tooltip_text (label, text); /* plain text (not markup): the whole line when cut */
  gtk_box_pack_start (GTK_BOX (row), label, TRUE, TRUE, 0);
  for (guint k = 0; actions != NULL && k < actions->len; k++)
    gtk_box_pack_start (GTK_BOX (row), action_button (v, actions->pdata[k]), FALSE, FALSE, 0);
  return row;
}

static void
collect_labels (GtkWidget *widget, JsonBuilder *b)
{
  if (GTK_IS_LABEL (widget)) {
    json_builder_add_string_value (b, gtk_label_get_text (GTK_LABEL (widget)));
  } else if (GTK_IS_CONTAINER (widget)) {
    GList *children = gtk_container_get_children (GTK_CONTAINER (widget));

    for (GList *l = children; l != NULL; l = l->next)
      collect_labels (l->data, b);
    g_list_free (children);
  }
}

static void
render (View *v)
{
  GList *children = gtk_container_get_children (GTK_CONTAINER (v->content));

  for (GList *l = children; l != NULL; l = l->next)
    gtk_widget_destroy (l->data);
  g_list_free (children);
  if (v->panel == NULL)
    return;
  for (guint i = 0; i < sg_panel_get_n_entries (v->panel); i++) {
    const SgPanelEntry *e = sg_panel_get_entry (v->panel, i);

    gtk_box_pack_start (GTK_BOX (v->content), line_row (v, e->heading, e->actions, TRUE, 0), FALSE, FALSE, 0);
    for (guint j = 0; j < e->lines->len; j++) {
      const SgPanelLine *line = e->lines->pdata[j];

      gtk_box_pack_start (GTK_BOX (v->content), line_row (v, line->text, line->actions, FALSE, 12), FALSE, FALSE, 0);
    }
  }
  gtk_widget_show_all (v->content);
  if (debug_enabled ()) {
    g_autofree char *text = sg_panel_to_text (v->panel, TRUE);
    JsonBuilder *b = debug_begin (v, "rendered");

    json_builder_set_member_name (b, "composing");
    json_builder_add_boolean_value (b, sg_panel_is_composing (v->panel));
    json_builder_set_member_name (b, "status");
    json_builder_add_string_value (b, gtk_label_get_text (GTK_LABEL (v->status)));
    json_builder_set_member_name (b, "text");
    json_builder_add_string_value (b, text);
    /* What the labels hold, read back from the widgets (a markup tag would be gone). */
    json_builder_set_member_name (b, "labels");
    json_builder_begin_array (b);
    collect_labels (v->content, b);
    json_builder_end_array (b);
    debug_log (b);
  }
}

void
sg_panel_view_show (GtkWidget *view, SgPanel *panel)
{
  View *v = view_get (view);

  g_return_if_fail (v != NULL && panel != NULL);
  sg_panel_ref (panel);
  g_clear_pointer (&v->panel, sg_panel_unref);
  v->panel = panel;
  set_status (v, sg_panel_get_status (panel) ? sg_panel_get_status (panel) : v->notice);
  g_clear_pointer (&v->notice, g_free);
  render (v);
}

SgPanel *
sg_panel_view_get_panel (GtkWidget *view)
{
  View *v = view_get (view);

  g_return_val_if_fail (v != NULL, NULL);
  return v->panel;
}

const char *
sg_panel_view_get_status (GtkWidget *view)
{
  View *v = view_get (view);

  g_return_val_if_fail (v != NULL, NULL);
  return gtk_label_get_text (GTK_LABEL (v->status));
}

static void
lookup_done (GObject *object, GAsyncResult *result, gpointer data)
{
  GtkWidget *box = data;
  View *v = view_get (box);
  g_autoptr (GError) error = NULL;
  g_autoptr (SgPanel) panel = v ? sg_panel_lookup_finish (v->source, result, &error) : NULL;

  (void) object;
  if (v != NULL && !v->destroyed && panel != NULL)
    sg_panel_view_show (box, panel);
  g_object_unref (box);
  n_pending--;
}

static void
start_lookup (View *v)
{
  g_cancellable_cancel (v->cancellable);
  g_object_unref (v->cancellable);
  v->cancellable = g_cancellable_new ();
  n_pending++;
  sg_panel_lookup_async (v->source, (const char *const *) v->addresses, v->message_id, v->composing,
                         v->cancellable, lookup_done, g_object_ref (v->box));
}

void
sg_panel_view_lookup (GtkWidget *view, const char *const *addresses, const char *message_id, gboolean composing)
{
  View *v = view_get (view);

  g_return_if_fail (v != NULL);
  g_strfreev (v->addresses);
  g_free (v->message_id);
  v->addresses = g_strdupv ((char **) addresses);
  v->message_id = g_strdup (message_id);
  v->composing = composing;
  start_lookup (v);
}

typedef struct {
  GtkWidget *box;        /* referenced */
  SgPanelAction *action; /* what ran, for the status line */
} ActionCall;

static void
action_done (GObject *object, GAsyncResult *result, gpointer data)
{
  ActionCall *call = data;
  View *v = view_get (call->box);
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL;
  gboolean ok = FALSE;

  (void) object;
  if (v != NULL && !v->destroyed) {
    ok = sg_panel_run_action_finish (v->source, result, &error);
    message = ok ? sg_panel_action_describe (call->action) : g_strdup (error->message);
    set_status (v, message);
    if (debug_enabled ()) {
      JsonBuilder *b = debug_begin (v, "action");

      json_builder_set_member_name (b, "label");
      json_builder_add_string_value (b, call->action->label);
      json_builder_set_member_name (b, "ok");
      json_builder_add_boolean_value (b, ok);
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, message);
      debug_log (b);
    }
    if (ok && v->addresses != NULL) {
      g_free (v->notice);
      v->notice = g_strdup (message);
      start_lookup (v);
    }
  }
  g_object_unref (call->box);
  sg_panel_action_free (call->action);
  g_free (call);
  n_pending--;
}

static void
run_action (View *v, const SgPanelAction *action)
{
  ActionCall *call;

  if (action == NULL)
    return;
  if (action->input != SG_PANEL_INPUT_NONE) {
    set_status (v, "choose a value first");
    return;
  }
  set_status (v, "working…");
  call = g_new0 (ActionCall, 1);
  call->box = g_object_ref (v->box);
  call->action = sg_panel_action_copy (action);
  /* Not cancelled with the lookups: a write the user asked for runs to its end. */
  n_pending++;
  sg_panel_run_action_async (v->source, action, NULL, action_done, call);
}

static void
on_destroy (GtkWidget *box, gpointer data)
{
  View *v = data;

  v->destroyed = TRUE;
  g_cancellable_cancel (v->cancellable);
}

GtkWidget *
sg_panel_view_new (SgPanelSource *source, const char *name)
{
  View *v = g_new0 (View, 1);

  g_return_val_if_fail (source != NULL, NULL);
  v->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  v->status = plain_label ("", FALSE);
  v->content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  v->source = sg_panel_source_ref (source);
  v->cancellable = g_cancellable_new ();
  v->id = ++n_views;
  v->name = g_strdup (name ? name : "panel");
  gtk_box_pack_start (GTK_BOX (v->box), v->status, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (v->box), v->content, FALSE, FALSE, 0);
  gtk_widget_set_margin_start (v->box, 6);
  gtk_widget_set_margin_end (v->box, 6);
  gtk_widget_set_margin_top (v->box, 2);
  gtk_widget_set_margin_bottom (v->box, 2);
  gtk_widget_set_name (v->box, "salesgetter-panel");
  g_object_set_data_full (G_OBJECT (v->box), VIEW_KEY, v, (GDestroyNotify) view_free);
  g_signal_connect (v->box, "destroy", G_CALLBACK (on_destroy), v);
  gtk_widget_show (v->content);
  gtk_widget_show (v->box);
  set_status (v, "looking up…");
  return v->box;
}
