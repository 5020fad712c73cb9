/* evolution-salesgetter.c: the SalesGetter panel in GNOME Evolution (issue 8).
 *
 * A loadable Evolution module with two extensions:
 *
 *   SgEvoReader    on every mail reader (E_TYPE_MAIL_READER: the mail view's preview pane
 *                  and message windows). On "message-loaded" it looks the message's
 *                  correspondents up and shows the panel above the message, in the
 *                  reader's preview pane.
 *   SgEvoComposer  on every composer (E_TYPE_MSG_COMPOSER). It shows the panel for the
 *                  recipients (To, Cc, Bcc) below the header table and looks them up again
 *                  when they change, half a second after the last change.
 *
 * What to show and what a click does is the shared presentation layer
 * (plugins/common/sg-panel-gtk.h): the view looks up in a worker thread (never on
 * Evolution's UI thread), cancels a lookup that a newer one replaces, and shows a missing
 * or locked store as one quiet status line. This file only decides where the view goes
 * and which addresses it gets.
 *
 * Debug log for tests: $SALESGETTER_PANEL_LOG (see sg-panel-gtk.h); the views are named
 * "evolution-reader" and "evolution-composer". Documented in docs/internals/evolution.md.
 */
#include <string.h>

#include <composer/e-composer-header-table.h>
#include <composer/e-msg-composer.h>
#include <libebackend/libebackend.h>
#include <libebook/libebook.h>
#include <mail/e-mail-reader.h>

#include "sg-panel-gtk.h"

/* Module entry points. */
void e_module_load (GTypeModule *type_module);
void e_module_unload (GTypeModule *type_module);

/* The recipients of a composer are looked up this long after their last change. */
#define SG_EVO_COMPOSER_DELAY_MS 500

/* One source (config and store connection) for every view of this Evolution process. */
static SgPanelSource *evo_source;

/* An environment variable's value, NULL when unset or empty. */
static const char *
nonempty_env (const char *name)
{
  const char *value = g_getenv (name);
  return value != NULL && *value != '\0' ? value : NULL;
}

/* The usual salesgetter.conf and store; $SALESGETTER_CONFIG and $SALESGETTER_STORE in
 * Evolution's environment override them (as for the CLI). */
static SgPanelSource *
sg_evo_source (void)
{
  if (evo_source == NULL)
    evo_source
        = sg_panel_source_new (nonempty_env ("SALESGETTER_CONFIG"), nonempty_env ("SALESGETTER_STORE"));
  return evo_source;
}

/* --- addresses ----------------------------------------------------------------------------- */

/* Appends "Name <address>" (or the bare address) of each entry of @addr to @out. */
static void
add_camel_addresses (GPtrArray *out, CamelInternetAddress *addr)
{
  if (addr == NULL)
    return;
  int n = camel_address_length (CAMEL_ADDRESS (addr));
  for (int i = 0; i < n; i++) {
    const char *name = NULL, *email = NULL;
    if (!camel_internet_address_get (addr, i, &name, &email) || email == NULL || *email == '\0')
      continue;
    /* camel_internet_address_format_address() quotes the name as a header would: the panel
     * parses it back, and shows the name as plain text. */
    g_ptr_array_add (out, camel_internet_address_format_address (name, email));
  }
}

/* The correspondents of @message, From first. Returns: (transfer full): NULL-terminated. */
static char **
message_addresses (CamelMimeMessage *message)
{
  GPtrArray *out = g_ptr_array_new ();
  add_camel_addresses (out, camel_mime_message_get_from (message));
  add_camel_addresses (out, camel_mime_message_get_reply_to (message));
  add_camel_addresses (out, camel_mime_message_get_recipients (message, CAMEL_RECIPIENT_TYPE_TO));
  add_camel_addresses (out, camel_mime_message_get_recipients (message, CAMEL_RECIPIENT_TYPE_CC));
  g_ptr_array_add (out, NULL);
  return (char **)g_ptr_array_free (out, FALSE);
}

/* Appends the addresses of @dests (NULL-terminated; contact lists expanded) to @out. */
static void
add_destinations (GPtrArray *out, EDestination **dests)
{
  for (guint i = 0; dests != NULL && dests[i] != NULL; i++) {
    EDestination *d = dests[i];
    if (e_destination_is_evolution_list (d)) {
      for (const GList *l = e_destination_list_get_dests (d); l != NULL; l = l->next) {
        EDestination *member = l->data;
        const char *email = e_destination_get_email (member);
        if (email != NULL && *email != '\0')
          g_ptr_array_add (out,
                           camel_internet_address_format_address (e_destination_get_name (member), email));
      }
      continue;
    }
    const char *email = e_destination_get_email (d);
    if (email != NULL && *email != '\0')
      g_ptr_array_add (out, camel_internet_address_format_address (e_destination_get_name (d), email));
  }
}

/* --- the reader ---------------------------------------------------------------------------- */

#define SG_TYPE_EVO_READER (sg_evo_reader_get_type ())
typedef struct {
  EExtension parent;
  GtkWidget *view; /* owned by the preview pane; weak pointer */
} SgEvoReader;
typedef struct {
  EExtensionClass parent_class;
} SgEvoReaderClass;

GType sg_evo_reader_get_type (void);
G_DEFINE_DYNAMIC_TYPE (SgEvoReader, sg_evo_reader, E_TYPE_EXTENSION)

/* The view in @reader's preview pane, packed above the message on first use (the preview
 * pane does not exist yet when the extension is made). */
static GtkWidget *
reader_view (SgEvoReader *self, EMailReader *reader)
{
  if (self->view != NULL)
    return self->view;
  EPreviewPane *pane = e_mail_reader_get_preview_pane (reader);
  if (pane == NULL || !GTK_IS_BOX (pane))
    return NULL;
  self->view = sg_panel_view_new (sg_evo_source (), "evolution-reader");
  g_object_add_weak_pointer (G_OBJECT (self->view), (gpointer *)&self->view);
  gtk_widget_set_margin_start (self->view, 6);
  gtk_widget_set_margin_end (self->view, 6);
  gtk_box_pack_start (GTK_BOX (pane), self->view, FALSE, FALSE, 0);
  gtk_box_reorder_child (GTK_BOX (pane), self->view, 0);
  gtk_widget_show (self->view);
  return self->view;
}

static void
reader_message_loaded_cb (EMailReader *reader, const char *message_uid, CamelMimeMessage *message,
                          SgEvoReader *self)
{
  if (message == NULL)
    return;
  GtkWidget *view = reader_view (self, reader);
  if (view == NULL)
    return;
  g_auto (GStrv) addresses = message_addresses (message);
  if (addresses[0] == NULL) {
    g_autoptr (SgPanel) empty = sg_panel_new_status ("No correspondents in this message.");
    sg_panel_view_show (view, empty);
    return;
  }
  sg_panel_view_lookup (view, (const char *const *)addresses, camel_mime_message_get_message_id (message),
                        FALSE);
}

static void
sg_evo_reader_constructed (GObject *object)
{
  G_OBJECT_CLASS (sg_evo_reader_parent_class)->constructed (object);
  EExtensible *reader = e_extension_get_extensible (E_EXTENSION (object));
  g_signal_connect_object (reader, "message-loaded", G_CALLBACK (reader_message_loaded_cb), object, 0);
}

static void
sg_evo_reader_dispose (GObject *object)
{
  SgEvoReader *self = (SgEvoReader *)object;
  if (self->view != NULL) {
    g_object_remove_weak_pointer (G_OBJECT (self->view), (gpointer *)&self->view);
    self->view = NULL;
  }
  G_OBJECT_CLASS (sg_evo_reader_parent_class)->dispose (object);
}

static void
sg_evo_reader_class_init (SgEvoReaderClass *klass)
{
  G_OBJECT_CLASS (klass)->constructed = sg_evo_reader_constructed;
  G_OBJECT_CLASS (klass)->dispose = sg_evo_reader_dispose;
  E_EXTENSION_CLASS (klass)->extensible_type = E_TYPE_MAIL_READER;
}

static void
sg_evo_reader_class_finalize (SgEvoReaderClass *klass)
{
}

static void
sg_evo_reader_init (SgEvoReader *self)
{
}

/* --- the composer -------------------------------------------------------------------------- */

#define SG_TYPE_EVO_COMPOSER (sg_evo_composer_get_type ())
typedef struct {
  EExtension parent;
  GtkWidget *view;  /* owned by the composer's box; weak pointer */
  guint timeout_id; /* the debounced lookup */
  char *last;       /* the recipients last looked up, joined by "\n" */
} SgEvoComposer;
typedef struct {
  EExtensionClass parent_class;
} SgEvoComposerClass;

GType sg_evo_composer_get_type (void);
G_DEFINE_DYNAMIC_TYPE (SgEvoComposer, sg_evo_composer, E_TYPE_EXTENSION)

static EComposerHeaderTable *
composer_table (SgEvoComposer *self)
{
  EExtensible *composer = e_extension_get_extensible (E_EXTENSION (self));
  return composer != NULL ? e_msg_composer_get_header_table (E_MSG_COMPOSER (composer)) : NULL;
}

/* The view below the composer's header table (a child of the composer's vertical box). */
static GtkWidget *
composer_view (SgEvoComposer *self)
{
  if (self->view != NULL)
    return self->view;
  EComposerHeaderTable *table = composer_table (self);
  GtkWidget *box = table != NULL ? gtk_widget_get_parent (GTK_WIDGET (table)) : NULL;
  if (box == NULL || !GTK_IS_BOX (box))
    return NULL;
  int position = 0;
  gtk_container_child_get (GTK_CONTAINER (box), GTK_WIDGET (table), "position", &position, NULL);
  self->view = sg_panel_view_new (sg_evo_source (), "evolution-composer");
  g_object_add_weak_pointer (G_OBJECT (self->view), (gpointer *)&self->view);
  gtk_widget_set_margin_start (self->view, 6);
  gtk_widget_set_margin_end (self->view, 6);
  gtk_box_pack_start (GTK_BOX (box), self->view, FALSE, FALSE, 0);
  gtk_box_reorder_child (GTK_BOX (box), self->view, position + 1);
  gtk_widget_show (self->view);
  return self->view;
}

static gboolean
composer_lookup_cb (gpointer data)
{
  SgEvoComposer *self = data;
  self->timeout_id = 0;
  EComposerHeaderTable *table = composer_table (self);
  if (table == NULL)
    return G_SOURCE_REMOVE;
  GPtrArray *addresses = g_ptr_array_new_with_free_func (g_free);
  EDestination **to = e_composer_header_table_get_destinations_to (table);
  EDestination **cc = e_composer_header_table_get_destinations_cc (table);
  EDestination **bcc = e_composer_header_table_get_destinations_bcc (table);
  add_destinations (addresses, to);
  add_destinations (addresses, cc);
  add_destinations (addresses, bcc);
  e_destination_freev (to);
  e_destination_freev (cc);
  e_destination_freev (bcc);
  g_ptr_array_add (addresses, NULL);

  /* Header "changed" signals also come for edits that leave the recipients as they were
   * (typing in the subject, a new signature): look up only when they differ. */
  g_autofree char *joined = g_strjoinv ("\n", (char **)addresses->pdata);
  if (g_strcmp0 (joined, self->last) != 0) {
    GtkWidget *view = composer_view (self);
    if (view != NULL) {
      if (addresses->len > 1) {
        sg_panel_view_lookup (view, (const char *const *)addresses->pdata, NULL, TRUE);
      } else {
        g_autoptr (SgPanel) empty = sg_panel_new_status ("No recipients yet.");
        sg_panel_view_show (view, empty);
      }
      g_free (self->last);
      self->last = g_steal_pointer (&joined);
    }
  }
  g_ptr_array_unref (addresses);
  return G_SOURCE_REMOVE;
}

static void
composer_schedule (SgEvoComposer *self)
{
  if (self->timeout_id != 0)
    g_source_remove (self->timeout_id);
  self->timeout_id = g_timeout_add (SG_EVO_COMPOSER_DELAY_MS, composer_lookup_cb, self);
}

static void
composer_header_changed_cb (EComposerHeader *header, SgEvoComposer *self)
{
  composer_schedule (self);
}

static void
sg_evo_composer_constructed (GObject *object)
{
  SgEvoComposer *self = (SgEvoComposer *)object;
  G_OBJECT_CLASS (sg_evo_composer_parent_class)->constructed (object);
  EComposerHeaderTable *table = composer_table (self);
  if (table == NULL)
    return;
  static const EComposerHeaderType watched[]
      = { E_COMPOSER_HEADER_TO, E_COMPOSER_HEADER_CC, E_COMPOSER_HEADER_BCC };
  for (guint i = 0; i < G_N_ELEMENTS (watched); i++) {
    EComposerHeader *header = e_composer_header_table_get_header (table, watched[i]);
    if (header != NULL)
      g_signal_connect_object (header, "changed", G_CALLBACK (composer_header_changed_cb), self, 0);
  }
  /* A reply or a forward sets its recipients before the extension exists, or right after. */
  composer_schedule (self);
}

static void
sg_evo_composer_dispose (GObject *object)
{
  SgEvoComposer *self = (SgEvoComposer *)object;
  if (self->timeout_id != 0) {
    g_source_remove (self->timeout_id);
    self->timeout_id = 0;
  }
  if (self->view != NULL) {
    g_object_remove_weak_pointer (G_OBJECT (self->view), (gpointer *)&self->view);
    self->view = NULL;
  }
  g_clear_pointer (&self->last, g_free);
  G_OBJECT_CLASS (sg_evo_composer_parent_class)->dispose (object);
}

static void
sg_evo_composer_class_init (SgEvoComposerClass *klass)
{
  G_OBJECT_CLASS (klass)->constructed = sg_evo_composer_constructed;
  G_OBJECT_CLASS (klass)->dispose = sg_evo_composer_dispose;
  E_EXTENSION_CLASS (klass)->extensible_type = E_TYPE_MSG_COMPOSER;
}

static void
sg_evo_composer_class_finalize (SgEvoComposerClass *klass)
{
}

static void
sg_evo_composer_init (SgEvoComposer *self)
{
}

/* --- module -------------------------------------------------------------------------------- */

void
e_module_load (GTypeModule *type_module)
{
  sg_evo_reader_register_type (type_module);
  sg_evo_composer_register_type (type_module);
}

void
e_module_unload (GTypeModule *type_module)
{
  /* The source (and its store connection) lives as long as Evolution: views still hold
   * it, and a module's code is not unloaded while its types exist. */
}
