/* sg-panel-gtk.h: the panel as GTK 3 widgets, for the GTK mail clients (Claws Mail,
 * Evolution). They differ only in where they pack the view.
 *
 * The view is a vertical GtkBox: a status line, then per correspondent a heading and its
 * lines (GtkLabel, plain text only: gtk_label_set_text(), never markup), each line followed
 * by its action buttons. Actions needing a value open a popover: a text entry (tag, note)
 * or a list of choices (stages, tags to remove). A click runs the action in a worker
 * (sg_panel_run_action_async()), shows what was done (or why not) in the status line and
 * looks the same addresses up again.
 *
 * Lookups are asynchronous (sg_panel_lookup_async()); a new lookup cancels the one still
 * running, and destroying the view cancels everything. Nothing blocks the UI thread.
 *
 * Debug log for tests: when $SALESGETTER_PANEL_LOG names a file, the view appends one JSON
 * object per line: {"event": "rendered", "view": N, "composing", "status", "text"} with the
 * panel as text (sg_panel_to_text() with actions), {"event": "button", "view", "label",
 * "kind", "x", "y", "width", "height"} with a button's allocation in screen coordinates
 * (each time it is allocated, so the last one counts), and {"event": "action", "view",
 * "label", "ok", "message"} after an action ran.
 */
#pragma once

#include <gtk/gtk.h>

#include "sg-panel.h"

G_BEGIN_DECLS

/* Returns: (transfer floating): a new view reading @source (referenced). @name is the
 * client's name for the debug log ("claws-reader", "claws-composer", ...). */
GtkWidget *sg_panel_view_new (SgPanelSource *source, const char *name);

/* Looks @addresses up (see sg_panel_lookup_async()) and shows the result; the previous
 * panel stays until then. */
void sg_panel_view_lookup (GtkWidget *view, const char *const *addresses, const char *message_id,
                           gboolean composing);

/* Shows @panel (referenced) as it is. */
void sg_panel_view_show (GtkWidget *view, SgPanel *panel);

/* Returns: (transfer none) (nullable): the panel shown. */
SgPanel *sg_panel_view_get_panel (GtkWidget *view);

/* The text of the status line ("" when none). */
const char *sg_panel_view_get_status (GtkWidget *view);

/* The lookups and actions of all views whose callbacks have not run yet. A client that
 * unloads the plugin's code (Claws Mail's plugin_done) destroys its views, then iterates
 * the main context until this is 0, so no callback runs into unloaded code. */
guint sg_panel_view_get_n_pending (void);

/* Tests: when $SALESGETTER_PANEL_LOG is set, logs @widget's screen rectangle now and at each
 * allocation as {"event": "widget", "name": @name, "x", "y", "width", "height"} (a client's
 * own button a test must click, such as Claws' Reply). Does nothing otherwise. */
void sg_panel_debug_watch_widget (GtkWidget *widget, const char *name);

G_END_DECLS
