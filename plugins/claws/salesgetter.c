/* salesgetter.c: the SalesGetter plugin for Claws Mail (GTK 3).
 *
 * Shows the SalesGetter panel (plugins/common/sg-panel-gtk.h) above the message being read
 * (MESSAGE_VIEW_SHOW_DONE_HOOKLIST: packed first in the message view's box) and at the top
 * of every composer (COMPOSE_CREATED_HOOKLIST: for the recipients, looked up again a moment
 * after they change). Lookups and actions run in worker threads; the store is never read
 * on Claws' UI thread. UI only: what to show and what a click does are in the shared layer.
 *
 * Config: the usual salesgetter.conf and store; $SALESGETTER_CONFIG and $SALESGETTER_STORE
 * override them for this plugin.
 */
#include "config.h"

#include "claws-features.h"

#include <glib.h>
#include <gtk/gtk.h>
#include <string.h>

#include "common/hooks.h"
#include "common/plugin.h"
#include "common/version.h"
#include "compose.h"
#include "messageview.h"
#include "mainwindow.h"
#include "procmsg.h"
#include "toolbar.h"

#include "sg-panel-gtk.h"

#define VIEW_KEY "salesgetter-panel-view"
#define WATCH_KEY "salesgetter-compose-watch"
/* How long the recipients must stay unchanged before they are looked up again. */
#define RECIPIENTS_SETTLE_MS 400

static SgPanelSource *source;
static gulong message_hook, compose_hook;
static GPtrArray *views; /* GtkWidget* (weak): every view made, destroyed at unload */

static void
forget_view (gpointer data, GObject *where_it_was)
{
  if (views != NULL)
    g_ptr_array_remove_fast (views, where_it_was);
}

static GtkWidget *
make_view (const char *name)
{
  GtkWidget *view = sg_panel_view_new (source, name);

  g_ptr_array_add (views, view);
  g_object_weak_ref (G_OBJECT (view), forget_view, NULL);
  return view;
}

/* --- the message view ---------------------------------------------------------------------- */

static gboolean
on_message_shown (gpointer hook_source, gpointer data)
{
  MessageView *mv = hook_source;
  MsgInfo *msg;
  GtkWidget *view;
  const char *addresses[4];
  guint n = 0;

  if (mv == NULL || mv->msginfo == NULL || mv->vbox == NULL || !GTK_IS_BOX (mv->vbox))
    return FALSE;
  msg = mv->msginfo;
  view = g_object_get_data (G_OBJECT (mv->vbox), VIEW_KEY);
  if (view == NULL) {
    view = make_view ("claws-reader");
    gtk_box_pack_start (GTK_BOX (mv->vbox), view, FALSE, FALSE, 0);
    gtk_box_reorder_child (GTK_BOX (mv->vbox), view, 0);
    g_object_set_data (G_OBJECT (mv->vbox), VIEW_KEY, view);
  }
  /* Raw header values (address lists); the shared layer parses them. */
  if (msg->from != NULL)
    addresses[n++] = msg->from;
  if (msg->to != NULL)
    addresses[n++] = msg->to;
  if (msg->cc != NULL)
    addresses[n++] = msg->cc;
  addresses[n] = NULL;
  sg_panel_view_lookup (view, addresses, msg->msgid, FALSE);
  /* For the end-to-end test (only with $SALESGETTER_PANEL_LOG): where Reply is. */
  if (mv->mainwin != NULL && mv->mainwin->toolbar != NULL && mv->mainwin->toolbar->reply_btn != NULL)
    sg_panel_debug_watch_widget (mv->mainwin->toolbar->reply_btn, "claws-reply");
  return FALSE; /* other hooks run too */
}

/* --- the composer -------------------------------------------------------------------------- */

typedef struct {
  Compose *compose;
  GtkWidget *view;
  guint timeout;
} Watch;

static void
watch_free (Watch *w)
{
  if (w->timeout != 0)
    g_source_remove (w->timeout);
  g_free (w);
}

static gboolean
is_recipient_header (const char *header)
{
  /* Claws translates header names; To, Cc and Bcc are the ones not about news or replies. */
  return header != NULL && strstr (header, "News") == NULL && strstr (header, "Followup") == NULL &&
         strstr (header, "Reply") == NULL;
}

static void schedule_lookup (Watch *w);

/* The handlers get the view (they are disconnected when it goes); its watch is on it. */
static void
on_recipient_changed (gpointer instance, gpointer view)
{
  Watch *w = g_object_get_data (G_OBJECT (view), WATCH_KEY);

  if (w != NULL)
    schedule_lookup (w);
}

/* Connects to the entries of the header lines not watched yet (lines are added as the user
 * types), and returns the recipients as written. */
static GPtrArray *
scan_recipients (Watch *w)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (GSList *l = w->compose->header_list; l != NULL; l = l->next) {
    ComposeHeaderEntry *h = l->data;
    g_autofree char *header = NULL;
    const char *text;

    if (h == NULL || h->entry == NULL || !GTK_IS_ENTRY (h->entry))
      continue;
    if (g_object_get_data (G_OBJECT (h->entry), WATCH_KEY) == NULL) {
      g_object_set_data (G_OBJECT (h->entry), WATCH_KEY, w);
      g_signal_connect_object (h->entry, "changed", G_CALLBACK (on_recipient_changed), w->view, 0);
      if (h->combo != NULL && GTK_IS_COMBO_BOX (h->combo)) /* To: turned into Cc: */
        g_signal_connect_object (h->combo, "changed", G_CALLBACK (on_recipient_changed), w->view, 0);
    }
    if (h->combo != NULL && GTK_IS_COMBO_BOX (h->combo)) {
      GtkWidget *child = gtk_bin_get_child (GTK_BIN (h->combo));

      if (gtk_combo_box_get_has_entry (GTK_COMBO_BOX (h->combo)) && child != NULL && GTK_IS_ENTRY (child))
        header = g_strdup (gtk_entry_get_text (GTK_ENTRY (child)));
      else if (GTK_IS_COMBO_BOX_TEXT (h->combo))
        header = gtk_combo_box_text_get_active_text (GTK_COMBO_BOX_TEXT (h->combo));
    }
    text = gtk_entry_get_text (GTK_ENTRY (h->entry));
    if (is_recipient_header (header) && text != NULL && *text != '\0')
      g_ptr_array_add (out, g_strdup (text));
  }
  g_ptr_array_add (out, NULL);
  return out;
}

static gboolean
lookup_now (gpointer data)
{
  Watch *w = data;
  g_autoptr (GPtrArray) recipients = NULL;

  w->timeout = 0;
  if (w->compose == NULL)
    return G_SOURCE_REMOVE;
  recipients = scan_recipients (w);
  sg_panel_view_lookup (w->view, (const char *const *) recipients->pdata, NULL, TRUE);
  return G_SOURCE_REMOVE;
}

/* Looks the recipients up once they have settled (typing a name changes them per key). */
static void
schedule_lookup (Watch *w)
{
  if (w->timeout != 0)
    g_source_remove (w->timeout);
  w->timeout = g_timeout_add (RECIPIENTS_SETTLE_MS, lookup_now, w);
}

static void
on_focus_moved (GtkWindow *window, GtkWidget *widget, gpointer view)
{
  Watch *w = g_object_get_data (G_OBJECT (view), WATCH_KEY);
  g_autoptr (GPtrArray) unused = w != NULL ? scan_recipients (w) : NULL; /* watch header lines added since */
}

/* The composer goes: its Compose is freed soon, while the view may live on a little (a
 * lookup's callback holds it). */
static void
on_view_destroy (GtkWidget *view, gpointer data)
{
  Watch *w = data;

  w->compose = NULL;
  if (w->timeout != 0) {
    g_source_remove (w->timeout);
    w->timeout = 0;
  }
}

static gboolean
on_compose_created (gpointer hook_source, gpointer data)
{
  Compose *compose = hook_source;
  GtkWidget *view;
  Watch *w;

  if (compose == NULL || compose->vbox2 == NULL || !GTK_IS_BOX (compose->vbox2))
    return FALSE;
  view = make_view ("claws-composer");
  gtk_box_pack_start (GTK_BOX (compose->vbox2), view, FALSE, FALSE, 0);
  gtk_box_reorder_child (GTK_BOX (compose->vbox2), view, 0);
  w = g_new0 (Watch, 1);
  w->compose = compose;
  w->view = view;
  g_object_set_data_full (G_OBJECT (view), WATCH_KEY, w, (GDestroyNotify) watch_free);
  g_signal_connect (view, "destroy", G_CALLBACK (on_view_destroy), w);
  if (compose->window != NULL && GTK_IS_WINDOW (compose->window))
    g_signal_connect_object (compose->window, "set-focus", G_CALLBACK (on_focus_moved), view, 0);
  lookup_now (w);
  return FALSE;
}

/* --- the plugin ------------------------------------------------------------------------------ */

static const char *
nonempty (const char *s)
{
  return s != NULL && *s != '\0' ? s : NULL;
}

gint
plugin_init (gchar **error)
{
  if (!check_plugin_version (MAKE_NUMERIC_VERSION (4, 0, 0, 0), VERSION_NUMERIC, "SalesGetter", error))
    return -1;
  source = sg_panel_source_new (nonempty (g_getenv ("SALESGETTER_CONFIG")), nonempty (g_getenv ("SALESGETTER_STORE")));
  views = g_ptr_array_new ();
  message_hook = hooks_register_hook (MESSAGE_VIEW_SHOW_DONE_HOOKLIST, on_message_shown, NULL);
  if (message_hook == 0) {
    *error = g_strdup ("SalesGetter: cannot register the message view hook");
    return -1;
  }
  compose_hook = hooks_register_hook (COMPOSE_CREATED_HOOKLIST, on_compose_created, NULL);
  if (compose_hook == 0) {
    hooks_unregister_hook (MESSAGE_VIEW_SHOW_DONE_HOOKLIST, message_hook);
    *error = g_strdup ("SalesGetter: cannot register the composer hook");
    return -1;
  }
  g_debug ("SalesGetter plugin loaded; store %s", sg_panel_source_get_store_path (source));
  return 0;
}

gboolean
plugin_done (void)
{
  hooks_unregister_hook (MESSAGE_VIEW_SHOW_DONE_HOOKLIST, message_hook);
  hooks_unregister_hook (COMPOSE_CREATED_HOOKLIST, compose_hook);
  /* The views hold callbacks into this module: destroy them, and let the lookups and
   * actions still running come back before the code goes away. */
  while (views != NULL && views->len > 0) {
    GtkWidget *view = views->pdata[views->len - 1];
    GtkWidget *parent = gtk_widget_get_parent (view);

    g_object_weak_unref (G_OBJECT (view), forget_view, NULL);
    g_ptr_array_remove_index_fast (views, views->len - 1);
    g_object_set_data (G_OBJECT (parent ? parent : view), VIEW_KEY, NULL);
    gtk_widget_destroy (view);
  }
  while (sg_panel_view_get_n_pending () > 0)
    g_main_context_iteration (NULL, TRUE);
  g_clear_pointer (&views, g_ptr_array_unref);
  g_clear_pointer (&source, sg_panel_source_unref);
  return TRUE;
}

const gchar *
plugin_name (void)
{
  return "SalesGetter";
}

const gchar *
plugin_desc (void)
{
  return "Shows what your SalesGetter CRM knows about the people of the message you read or "
         "write: organisation, buying-process roles, open sales processes and their stage, tags, "
         "last interactions, matching selections, similar organisations and relationship "
         "strength; moves a process to its next stage, tags, links the message and records "
         "notes in one click.";
}

const gchar *
plugin_type (void)
{
  return "GTK3";
}

const gchar *
plugin_licence (void)
{
  return "GPL3+";
}

const gchar *
plugin_version (void)
{
  return PACKAGE_VERSION;
}

struct PluginFeature *
plugin_provides (void)
{
  static struct PluginFeature features[] = { { PLUGIN_UTILITY, "SalesGetter" }, { PLUGIN_NOTHING, NULL } };

  return features;
}
