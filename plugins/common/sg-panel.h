/* sg-panel.h: the presentation layer the mail client plugins share (issue 8).
 *
 * What to show beside a message, in what order, how to shorten it, and what a click does,
 * written once so that the Claws Mail plugin, the Evolution module and the mutt/neomutt
 * display filter differ only in where they put it.
 *
 *   SgPanelSource  the user's config and store, shared by the lookups of one client. It
 *                  keeps one read-only store connection, owned by whichever worker thread
 *                  runs a lookup (a mutex makes them take turns: an SgStore is used by one
 *                  thread at a time), reopened after a failure.
 *   SgPanel        the model of one lookup: per correspondent a heading and lines of plain
 *                  text, each already shortened and made safe, and the actions on them.
 *                  Immutable; reference counted, so a widget can keep it.
 *   SgPanelAction  an action as data (what to change, with which values); the UI asks for
 *                  the missing value (a tag, a note, a stage, a process) when it needs one,
 *                  and sg_panel_run_action_async() writes it through the core library, so
 *                  the change log gets the operation (sync pushes it).
 *
 * Threads: sg_panel_lookup_async() and sg_panel_run_action_async() run in a GTask worker
 * thread and never touch the store on the caller's (UI) thread; their callbacks run in the
 * caller's thread-default main context. A missing, locked, too new or damaged store is not
 * an error: the panel comes back with a one-line status (sg_panel_get_status()), so a
 * client shows a quiet line, never a dialog. Only cancellation (G_IO_ERROR_CANCELLED) and
 * caller bugs are errors.
 *
 * Text: everything a correspondent controls (names, subjects, tags, organisation names,
 * process titles) is plain text: control characters become spaces, bidi embeddings and
 * overrides (U+202A..U+202E, U+2066..U+2069, U+200E/F, U+061C) are removed, invalid UTF-8
 * is replaced, and a line longer than the panel's width (in terminal columns, wide
 * characters counting two) ends in "…". Clients must show it as text, never as markup:
 * gtk_label_set_text(), never gtk_label_set_markup(). Text from the store is trusted no
 * more than text from the message.
 *
 * Documented in docs/internals/plugins.md.
 */
#pragma once

#include <gio/gio.h>
#include <sg.h>

G_BEGIN_DECLS

#define SG_PANEL_ERROR (sg_panel_error_quark ())
GQuark sg_panel_error_quark (void);

typedef enum {
  SG_PANEL_ERROR_INVALID, /* an action without the value it needs */
  SG_PANEL_ERROR_STORE,   /* the store cannot be written (missing, locked, read-only) */
} SgPanelError;

/* Widths, in terminal columns, of a panel line: a GTK panel (default) and a terminal. */
#define SG_PANEL_WIDTH_DEFAULT 100
#define SG_PANEL_WIDTH_MIN 20
#define SG_PANEL_WIDTH_MAX 1000

/* What a line says. Lines come in this order. */
typedef enum {
  SG_PANEL_LINE_NOTICE,       /* "not in the CRM" or why an address does not parse */
  SG_PANEL_LINE_ROLES,        /* "Roles: customer, lead" */
  SG_PANEL_LINE_PROCESS,      /* one per open process: "Forecast 2027 · proposal (60%) · 48000.00 EUR · their part: ..." */
  SG_PANEL_LINE_SUGGESTION,   /* "Suggested stage: negotiation (subject mentions ...)" */
  SG_PANEL_LINE_TAGS,         /* "Tags: forecasting, retail" */
  SG_PANEL_LINE_INTERACTION,  /* one per recent interaction: "2026-03-05 in mail: subject" */
  SG_PANEL_LINE_SELECTIONS,   /* "Matches: key accounts, retail leads" */
  SG_PANEL_LINE_SIMILAR,      /* "Similar: Initech (0.82; bought forecast)" */
  SG_PANEL_LINE_STRENGTH,     /* "Relationship: strong (81/100): ..." */
} SgPanelLineKind;

typedef enum {
  SG_PANEL_ACTION_NEXT_STAGE,   /* process, stage (the pipeline's next stage) */
  SG_PANEL_ACTION_SET_STAGE,    /* process, stage (a choice) */
  SG_PANEL_ACTION_ADD_TAG,      /* entity (the person's address), tag (text) */
  SG_PANEL_ACTION_REMOVE_TAG,   /* entity (address or domain), tag */
  SG_PANEL_ACTION_LINK_MESSAGE, /* process (a choice), message_id */
  SG_PANEL_ACTION_ADD_NOTE,     /* organisation, process (nullable), address, text (text) */
  SG_PANEL_ACTION_ADD_PERSON,   /* address, name (nullable) */
} SgPanelActionKind;

/* What the UI must ask for before running an action. */
typedef enum {
  SG_PANEL_INPUT_NONE,   /* run as it is */
  SG_PANEL_INPUT_TEXT,   /* a line of text (tag name, note) */
  SG_PANEL_INPUT_CHOICE, /* one of choices[] (stages, processes), shown as choice_labels[] */
} SgPanelInput;

/* An action. Read-only for clients; strings are plain text (labels shortened). */
typedef struct {
  SgPanelActionKind kind;
  SgPanelInput input;
  char *label;          /* the button's text: "Next stage: proposal", "Add tag…" */
  char *process;        /* nullable: a process UUID */
  char *stage;          /* nullable */
  char *entity;         /* nullable: what a tag is on (address or domain) */
  char *tag;            /* nullable */
  char *message_id;     /* nullable */
  char *address;        /* nullable: the correspondent */
  char *organisation;   /* nullable: its organisation's domain */
  char *name;           /* nullable: a display name (add person) */
  char *text;           /* nullable: a note's text */
  char **choices;       /* NULL unless input is CHOICE: values, NULL-terminated */
  char **choice_labels; /* the same length: what to show for each */
} SgPanelAction;

/* One line: its kind, text, and the actions that belong to it (buttons beside it). */
typedef struct {
  SgPanelLineKind kind;
  char *text;        /* plain text, at most the panel's width in columns */
  GPtrArray *actions; /* SgPanelAction*; never NULL, maybe empty */
} SgPanelLine;

/* One correspondent. */
typedef struct {
  char *address;      /* normalised (as given when it does not parse) */
  gboolean known;     /* a person in the store */
  char *heading;      /* "Jane Doe · Acme Corp (acme.com)" or the address */
  char *organisation; /* nullable: the organisation's domain */
  GPtrArray *lines;   /* SgPanelLine*, in SgPanelLineKind order */
  GPtrArray *actions; /* SgPanelAction*: the correspondent's own (add tag, note, add person) */
} SgPanelEntry;

typedef struct _SgPanel SgPanel;
typedef struct _SgPanelSource SgPanelSource;

/* --- the source: config and store ------------------------------------------------------- */

/* The user's config (@config_path, NULL: the default file) and store (@store_path, NULL:
 * $SALESGETTER_STORE, the config's [store] path, or the default). Reads the config now; a
 * config that does not load is kept as the status of every panel (the store is still
 * used, with no identity). Never fails. Returns: (transfer full). */
SgPanelSource *sg_panel_source_new (const char *config_path, const char *store_path);
SgPanelSource *sg_panel_source_ref (SgPanelSource *source);
void sg_panel_source_unref (SgPanelSource *source);
/* Returns: (transfer none): the store path used. */
const char *sg_panel_source_get_store_path (SgPanelSource *source);
/* The width of panel lines, in columns (clamped to SG_PANEL_WIDTH_MIN..MAX). */
void sg_panel_source_set_width (SgPanelSource *source, guint columns);
/* Whether to look up similar organisations (reads every tag assignment; cached per
 * organisation for the source's life). Default TRUE. */
void sg_panel_source_set_similar (SgPanelSource *source, gboolean enabled);
/* The number of last interactions per correspondent (0..20; default 3). */
void sg_panel_source_set_n_interactions (SgPanelSource *source, guint n);
/* Closes the cached store connection (the next lookup reopens it): call when the client
 * goes idle, or in tests. Blocks while a lookup is running. */
void sg_panel_source_close_store (SgPanelSource *source);

/* --- lookups ------------------------------------------------------------------------------ */

/* Builds the panel for @addresses (NULL-terminated; display names allowed, "Jane
 * <jane@acme.com>"; the user's own and colleagues' addresses are left out) and, when
 * reading a message, its @message_id (nullable; with or without <>), which enables the
 * "link to process" action. @composing: the addresses are recipients being written to.
 * Runs in a worker thread. */
void sg_panel_lookup_async (SgPanelSource *source, const char *const *addresses, const char *message_id,
                            gboolean composing, GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer user_data);
/* Returns: (transfer full): the panel (with a status line when the store could not be
 * read), or NULL with G_IO_ERROR_CANCELLED. */
SgPanel *sg_panel_lookup_finish (SgPanelSource *source, GAsyncResult *result, GError **error);
/* The same in the calling thread (the display filter, tests). */
SgPanel *sg_panel_lookup_sync (SgPanelSource *source, const char *const *addresses, const char *message_id,
                               gboolean composing, GCancellable *cancellable, GError **error);

/* Builds a panel from an insight (what the lookup does after the call); @store is used for
 * the stages of processes and similar organisations (nullable: neither). For tests and
 * clients that already hold an insight. Returns: (transfer full). */
SgPanel *sg_panel_new_from_insight (const SgInsight *insight, SgStore *store, const char *message_id,
                                    gboolean composing, guint width, gboolean similar);
/* A panel with no correspondents and @status (for clients that have nothing to look up).
 * Returns: (transfer full). */
SgPanel *sg_panel_new_status (const char *status);

SgPanel *sg_panel_ref (SgPanel *panel);
void sg_panel_unref (SgPanel *panel);

/* Returns: (transfer none) (nullable): a one-line status ("No SalesGetter store at ...",
 * "The store is busy; try again"), shortened and safe. NULL when the lookup worked. */
const char *sg_panel_get_status (const SgPanel *panel);
guint sg_panel_get_n_entries (const SgPanel *panel);
/* Returns: (transfer none): valid while @panel lives. */
const SgPanelEntry *sg_panel_get_entry (const SgPanel *panel, guint index);
/* Whether the lookup was for a composer. */
gboolean sg_panel_is_composing (const SgPanel *panel);
/* Returns: (transfer none) (nullable): the message's Message-ID, without <>. */
const char *sg_panel_get_message_id (const SgPanel *panel);

/* --- text -------------------------------------------------------------------------------- */

/* Makes @text safe plain text (see the top of this file) of at most @columns columns,
 * ending in "…" when cut; NULL gives "". Returns: (transfer full). */
char *sg_panel_sanitize (const char *text, guint columns);
/* The terminal width of @text (wide characters count 2, combining marks 0). */
guint sg_panel_text_columns (const char *text);

/* The panel as text for a terminal: each heading, its lines indented by two spaces, no
 * escape sequences. @with_actions: list each line's actions as "[next stage: proposal]".
 * Returns: (transfer full). */
char *sg_panel_to_text (const SgPanel *panel, gboolean with_actions);

/* --- actions ----------------------------------------------------------------------------- */

SgPanelAction *sg_panel_action_copy (const SgPanelAction *action);
void sg_panel_action_free (SgPanelAction *action);
/* A copy of @action with @value (the user's input) where it belongs: the tag (ADD_TAG), the
 * note's text (ADD_NOTE), the stage (SET_STAGE), the process (LINK_MESSAGE). A CHOICE must
 * be one of the choices. Returns: (transfer full), or NULL with SG_PANEL_ERROR_INVALID. */
SgPanelAction *sg_panel_action_with_value (const SgPanelAction *action, const char *value, GError **error);
/* A short sentence saying what was done ("Moved to proposal"), for the status line.
 * Returns: (transfer full). */
char *sg_panel_action_describe (const SgPanelAction *action);

/* Runs @action against the store (opened read-write for it, in a worker thread), written
 * through the core library so the change log gets the operation. */
void sg_panel_run_action_async (SgPanelSource *source, const SgPanelAction *action, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);
/* Returns: FALSE with the core library's error (SG_PROCESS_ERROR, SG_STORE_ERROR...),
 * SG_PANEL_ERROR_INVALID for an action still missing its value, or SG_PANEL_ERROR_STORE
 * when there is no store to write. The message is one plain sentence for a status line. */
gboolean sg_panel_run_action_finish (SgPanelSource *source, GAsyncResult *result, GError **error);
gboolean sg_panel_run_action_sync (SgPanelSource *source, const SgPanelAction *action, GCancellable *cancellable,
                                   GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgPanel, sg_panel_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgPanelSource, sg_panel_source_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgPanelAction, sg_panel_action_free)

G_END_DECLS
