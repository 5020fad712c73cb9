/* sg-process.h: sales processes (opportunities) and their life cycle.
 *
 * A sales process belongs to an organisation, has an account manager, a deliverable, a
 * value, a cost, a lead source, a pipeline and a current stage, contacts with their part
 * in the buying process, and an append-only stage history. Its natural key is a UUID made
 * at creation (sg_process_create() returns it); front ends may also refer to a process by
 * a unique prefix of the UUID or by its local row id (sg_process_resolve()).
 *
 * Every write runs in one store transaction (nothing is half-written) and logs its change
 * (entities 'process', 'stage_history', 'process_contact', 'cx_note', 'request',
 * 'interaction_link', keyed by UUID or UUID|natural key; see schema/sync.md).
 * @actor arguments name who did it (an address, or NULL for the store's user).
 *
 * Stage rules (sg_process_move()): a move must name a stage of the process's pipeline; a
 * process in a won or lost stage can only move after sg_process_reopen(), except from won
 * into a post-sale stage (follow-up) and between post-sale stages; moving to the stage the
 * process is in is refused. Moving into a won or lost stage closes the process.
 */
#pragma once

#include <glib.h>
#include "sg-pipeline.h"
#include "sg-store.h"
#include "sg-table.h"

G_BEGIN_DECLS

#define SG_PROCESS_ERROR (sg_process_error_quark ())
SG_API GQuark sg_process_error_quark (void);

typedef enum {
  SG_PROCESS_ERROR_NOT_FOUND,        /* no such process, organisation, person or interaction */
  SG_PROCESS_ERROR_AMBIGUOUS,        /* a UUID prefix matching several processes */
  SG_PROCESS_ERROR_UNKNOWN_PIPELINE, /* no pipeline of that name */
  SG_PROCESS_ERROR_UNKNOWN_STAGE,    /* no such stage in the process's pipeline */
  SG_PROCESS_ERROR_INVALID_MOVE,     /* the stage rules forbid it (closed, same stage) */
  SG_PROCESS_ERROR_DUPLICATE,        /* an open process for this organisation and deliverable */
  SG_PROCESS_ERROR_INVALID,          /* a bad value (amount, currency, part, sentiment...) */
} SgProcessError;

/* --- money ------------------------------------------------------------------------- */

/* Parses "12000", "12,000.50" or "12000.5" in @currency (ISO 4217, three letters; its
 * number of decimals is known for the common currencies, 2 otherwise) into minor units,
 * without floating point. Returns: FALSE with SG_PROCESS_ERROR_INVALID naming @text. */
SG_API gboolean sg_money_parse (const char *text, const char *currency, gint64 *minor,
                                GError **error);
/* "12000.50" for 1200050 EUR. Returns: (transfer full). */
SG_API char *sg_money_format (gint64 minor, const char *currency);

/* --- processes ---------------------------------------------------------------------- */

typedef struct {
  const char *organisation;     /* a domain of the organisation (any of its domains) */
  const char *deliverable;      /* what is sold */
  const char *deliverable_kind; /* nullable: "product" or "service" (default) */
  const char *deliverable_type; /* nullable: free text (research, forecasting...) */
  const char *title;            /* nullable */
  const char *pipeline;         /* nullable: "default" */
  const char *stage;            /* nullable: the pipeline's first stage; must be open */
  const char *account_manager;  /* nullable: an address */
  gboolean has_value;
  gint64 value_minor;
  const char *currency;         /* nullable: "EUR"; required with a value */
  gint64 cost_minor;
  const char *lead_source;      /* nullable: a lead source's name (sg_lead_source_*) */
  gint64 opened_at;             /* 0: now */
  gint64 expected_close;        /* 0: not known */
  gboolean allow_duplicate;     /* do not refuse a second open process for the same
                                 * organisation and deliverable */
} SgProcessNew;

/* Creates a process in its first (or the given) stage, with an 'open' history entry.
 * Returns: (transfer full): its UUID, or NULL with SG_PROCESS_ERROR (DUPLICATE names the
 * open process's UUID) or SG_STORE_ERROR. */
SG_API char *sg_process_create (SgStore *store, const SgProcessNew *spec, const char *actor,
                                GError **error);

/* Finds a process by UUID, unique UUID prefix (at least 4 characters) or local row id.
 * Returns: (transfer full): its UUID, or NULL with SG_PROCESS_ERROR_NOT_FOUND or
 * _AMBIGUOUS naming @ref. */
SG_API char *sg_process_resolve (SgStore *store, const char *ref, GError **error);

/* Moves a process to @stage (see the rules above). A move into a lost stage takes
 * @reason as the lost reason; @reason is also kept as the history entry's note. Open
 * stage suggestions for @stage are marked accepted.
 * Returns: FALSE with SG_PROCESS_ERROR (UNKNOWN_STAGE lists the pipeline's stages;
 * INVALID_MOVE says why). */
SG_API gboolean sg_process_move (SgStore *store, const char *uuid, const char *stage,
                                 const char *reason, const char *actor, GError **error);

/* Closes a process into its pipeline's first won (@won) or lost stage. */
SG_API gboolean sg_process_close (SgStore *store, const char *uuid, gboolean won,
                                  const char *reason, const char *actor, GError **error);

/* Reopens a closed process into @stage (an open stage), or, when NULL, the open stage it
 * was in before it closed. Refused (INVALID_MOVE) for an open process. */
SG_API gboolean sg_process_reopen (SgStore *store, const char *uuid, const char *stage,
                                   const char *actor, GError **error);

typedef enum {
  SG_PROCESS_FIELD_VALUE,          /* @text: amount, in the process's currency */
  SG_PROCESS_FIELD_CURRENCY,
  SG_PROCESS_FIELD_COST,           /* @text: amount */
  SG_PROCESS_FIELD_ACCOUNT_MANAGER,
  SG_PROCESS_FIELD_EXPECTED_CLOSE, /* @text: YYYY-MM-DD or ISO 8601 */
  SG_PROCESS_FIELD_LEAD_SOURCE,
  SG_PROCESS_FIELD_TITLE,
} SgProcessField;

/* Sets one field of a process (logged per field, for last-writer-wins merges). */
SG_API gboolean sg_process_set_field (SgStore *store, const char *uuid, SgProcessField field,
                                      const char *text, const char *actor, GError **error);

/* Adds @address (a known person) as a contact with @part: decision-maker, influencer,
 * user, gatekeeper, buyer, champion or contact. Returns FALSE with NOT_FOUND naming an
 * unknown person, INVALID naming a bad part. */
SG_API gboolean sg_process_add_contact (SgStore *store, const char *uuid, const char *address,
                                        const char *part, const char *actor, GError **error);
SG_API gboolean sg_process_remove_contact (SgStore *store, const char *uuid, const char *address,
                                           const char *part, const char *actor, GError **error);

typedef struct {
  const char *organisation; /* nullable: only this organisation's (any domain of it) */
  const char *person;       /* nullable: only processes this person is a contact of, or
                             * of this person's organisation */
  const char *owner;        /* nullable: account manager's address */
  const char *pipeline;     /* nullable */
  const char *status;       /* nullable: "open", "won", "lost" or "closed" (won or lost) */
  const char *uuid;         /* nullable: this one only */
  guint limit;              /* 0: all */
} SgProcessQuery;

/* Processes, open first, then by last activity: id (UUID), organisation, deliverable,
 * stage, status, value, currency, owner, last_activity; detail: title, org_domain,
 * pipeline, stage_position, probability, deliverable_kind, deliverable_type, value_minor,
 * cost, cost_minor, lead_source, opened, expected_close, closed, stage_since, lost_reason,
 * contacts (address:part, comma-separated), links, open_suggestions, local_id.
 * Uses the indexes on (org_id, status) and contacts(person_id): cheap enough for the
 * insight beside a message. Returns: (transfer full) or NULL with an error. */
SG_API SgTable *sg_process_query (SgStore *store, const SgProcessQuery *query, GError **error);

/* A process's stage history, oldest first: at, event, from_stage, to_stage, by, note. */
SG_API SgTable *sg_process_history (SgStore *store, const char *uuid, GError **error);
/* A process's contacts: name, email, part, added; detail: added_by. */
SG_API SgTable *sg_process_contacts (SgStore *store, const char *uuid, GError **error);

/* --- linking interactions --------------------------------------------------------- */

/* Links the interactions with a row id above @after_id (0: all) to open processes:
 * an interaction goes to the open process of an organisation taking part in it; among
 * several, the one with the most of its contacts taking part, then the one whose
 * deliverable, type or title appears in the subject (topic), then the one with the most
 * recent activity. The reason is stored. Interactions a person linked or unlinked are
 * left alone. Stage suggestions are made from the linked interactions' subjects and tags.
 * @n_linked, @n_suggested: (out) (optional). Returns: FALSE with SG_STORE_ERROR. */
SG_API gboolean sg_process_link_auto (SgStore *store, gint64 after_id, guint *n_linked,
                                      guint *n_suggested, GError **error);

/* The highest interaction row id now: give it to sg_process_link_auto() after an import
 * to link only what the import added. Returns: the id, 0 for none or on error. */
SG_API gint64 sg_process_link_watermark (SgStore *store);

/* A person links @message_id to the process (any other link of the interaction is
 * removed: a move). It sticks: sg_process_link_auto() never changes it. */
SG_API gboolean sg_process_link (SgStore *store, const char *uuid, const char *message_id,
                                 const char *actor, GError **error);
/* A person removes the link; it stays removed. */
SG_API gboolean sg_process_unlink (SgStore *store, const char *uuid, const char *message_id,
                                   const char *actor, GError **error);

/* The process's linked interactions, newest first: date, direction, subject, origin,
 * reason; detail: message_id. */
SG_API SgTable *sg_process_links (SgStore *store, const char *uuid, GError **error);

/* Open stage suggestions (all, or @uuid's): process, organisation, current_stage,
 * suggested_stage, reason, date; detail: suggestion_id, message_id. */
SG_API SgTable *sg_process_suggestions (SgStore *store, const char *uuid, GError **error);
/* Marks a suggestion dismissed. */
SG_API gboolean sg_process_dismiss_suggestion (SgStore *store, gint64 suggestion_id, GError **error);

/* --- life cycle: customer-experience notes and unfulfilled requests ------------------ */

typedef struct {
  const char *organisation; /* a domain; may be NULL when @process is given */
  const char *process;      /* nullable: a process reference (sg_process_resolve()) */
  const char *person;       /* nullable: an address of a known person */
  const char *text;
  const char *sentiment;    /* nullable: positive, neutral (default), negative */
  gint64 at;                /* 0: now */
} SgNoteNew;

/* Returns: (transfer full): the note's UUID, or NULL with SG_PROCESS_ERROR. */
SG_API char *sg_note_add (SgStore *store, const SgNoteNew *spec, const char *actor, GError **error);
/* Notes, newest first (all, or one organisation's): date, organisation, sentiment, text,
 * author; detail: id, process, person. */
SG_API SgTable *sg_note_list (SgStore *store, const char *organisation, GError **error);

typedef struct {
  const char *organisation;
  const char *process; /* nullable */
  const char *person;  /* nullable */
  const char *what;
  const char *category;
  gint64 at;           /* 0: now */
} SgRequestNew;

SG_API char *sg_request_add (SgStore *store, const SgRequestNew *spec, const char *actor,
                             GError **error);
/* Requests, newest first: date, organisation, category, what, recorded_by; detail: id,
 * process, person. */
SG_API SgTable *sg_request_list (SgStore *store, const char *organisation, GError **error);

G_END_DECLS
