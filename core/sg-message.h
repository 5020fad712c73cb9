/* sg-message.h: what one mail message says about who talked to whom, and when.
 *
 * Parsing uses GMime; the result holds only metadata (no body): participants with their
 * header role, direction, date with its original offset, subject, Message-ID and thread.
 * Input is untrusted: every size has a cap, and broken headers are tolerated where a
 * sensible reading exists.
 */
#pragma once

#include <glib.h>
#include <gmime/gmime.h>
#include "sg-identity.h"
#include "sg-signature.h"
#include "sg-text.h"
#include "sg-topics.h"

G_BEGIN_DECLS

#define SG_MESSAGE_ERROR (sg_message_error_quark ())
SG_API GQuark sg_message_error_quark (void);

typedef enum {
  SG_MESSAGE_ERROR_TOO_LARGE,         /* the whole message is over SG_MESSAGE_MAX_SIZE */
  SG_MESSAGE_ERROR_HEADERS_TOO_LARGE, /* the header block is over SG_MESSAGE_MAX_HEADER_SIZE */
  SG_MESSAGE_ERROR_NOT_MAIL,          /* no From, no Sender and no Message-ID: not a message */
  SG_MESSAGE_ERROR_EMPTY,             /* zero bytes */
} SgMessageError;

/* Caps on untrusted input. */
#define SG_MESSAGE_MAX_SIZE ((gsize) 64 * 1024 * 1024)
#define SG_MESSAGE_MAX_HEADER_SIZE ((gsize) 1024 * 1024)
#define SG_MESSAGE_MAX_PARTICIPANTS 1000
#define SG_MESSAGE_MAX_REFERENCES 128
#define SG_MESSAGE_MAX_SUBJECT_CHARS 998
#define SG_MESSAGE_MAX_ID_BYTES 998

typedef enum {
  SG_HEADER_FROM,
  SG_HEADER_SENDER,
  SG_HEADER_REPLY_TO,
  SG_HEADER_TO,
  SG_HEADER_CC,
  SG_HEADER_BCC,
} SgHeaderRole;

typedef enum {
  SG_DIRECTION_IN,
  SG_DIRECTION_OUT,
} SgDirection;

typedef struct _SgMessage SgMessage;

/* One participant of a message. Valid while its SgMessage lives. */
typedef struct {
  const char *address;      /* normalised */
  const char *name;         /* cleaned display name, nullable */
  SgHeaderRole role;
  SgAddressKind kind;
  gboolean internal;        /* the user or a colleague */
  gboolean self;            /* one of the user's own addresses */
} SgParticipant;

/* Parses a message held in memory. @fallback_date (Unix seconds, or 0) is used when the
 * message has no usable Date header (a Maildir's delivery time, an mbox From_ line).
 * Returns: (transfer full): the message's facts, or NULL with SG_MESSAGE_ERROR. */
SG_API SgMessage *sg_message_parse (const char *data, gsize len, const SgIdentity *identity,
                                    gint64 fallback_date, GError **error);

/* The same from a stream, read from its current position to its end. The caller checks the
 * stream's size against SG_MESSAGE_MAX_SIZE. */
SG_API SgMessage *sg_message_parse_stream (GMimeStream *stream, const SgIdentity *identity,
                                           gint64 fallback_date, GError **error);

/* The same from a message GMime has parsed already (an mbox). @headers_size is the size of
 * the message's header block as the parser saw it (for the cap), or 0 if unknown. */
SG_API SgMessage *sg_message_new_from_mime (GMimeMessage *mime, gsize headers_size,
                                            const SgIdentity *identity, gint64 fallback_date,
                                            GError **error);

SG_API void sg_message_free (SgMessage *message);

/* The Message-ID without angle brackets, or "sha256:<hex>" of the content when there is none. */
SG_API const char *sg_message_get_id (const SgMessage *message);
SG_API gboolean sg_message_id_is_hash (const SgMessage *message);
/* Unix seconds, UTC. */
SG_API gint64 sg_message_get_date (const SgMessage *message);
/* The original offset in minutes east of UTC. */
SG_API int sg_message_get_tz_offset (const SgMessage *message);
/* TRUE when the date came from @fallback_date, not from the Date header (which was missing,
 * unparsable, or more than a day in the future). */
SG_API gboolean sg_message_date_is_fallback (const SgMessage *message);
/* Returns: (nullable): the decoded subject, valid UTF-8 on one line. */
SG_API const char *sg_message_get_subject (const SgMessage *message);
SG_API SgDirection sg_message_get_direction (const SgMessage *message);
SG_API const char *sg_direction_to_string (SgDirection direction);
/* Only the user and colleagues took part. */
SG_API gboolean sg_message_is_internal (const SgMessage *message);
/* List, bulk or automatic mail (List-Id, Precedence, Auto-Submitted ...). */
SG_API gboolean sg_message_is_bulk (const SgMessage *message);
/* Returns: (nullable): the first In-Reply-To id. */
SG_API const char *sg_message_get_in_reply_to (const SgMessage *message);
/* Returns: the Message-ID of the thread's root: first of References, else In-Reply-To,
 * else the message's own id. */
SG_API const char *sg_message_get_thread_root (const SgMessage *message);
/* Returns: (transfer none): References, oldest first, NULL-terminated. */
SG_API const char *const *sg_message_get_references (const SgMessage *message);

SG_API guint sg_message_get_n_participants (const SgMessage *message);
SG_API const SgParticipant *sg_message_get_participant (const SgMessage *message, guint index);
SG_API const char *sg_header_role_to_string (SgHeaderRole role);

/* Warnings about parts of the message that were dropped (an unparsable address, a cap hit).
 * Returns: (transfer none): NULL-terminated. */
SG_API const char *const *sg_message_get_warnings (const SgMessage *message);

/* --- What the message says (issue 9): filled by every sg_message_parse*() ------------- */

/* Returns: (nullable): the readable text (body, signature, forwarded text, vCards); NULL
 * when the importer parsed without content (sg_importer_set_extract_content()). */
SG_API const SgText *sg_message_get_text (const SgMessage *message);
/* Facts about the sender (From) from their signature and attached vCards. */
SG_API guint sg_message_get_n_facts (const SgMessage *message);
SG_API const SgFact *sg_message_get_fact (const SgMessage *message, guint index);
/* Key phrases of the subject and own text, heaviest first. */
SG_API guint sg_message_get_n_topics (const SgMessage *message);
SG_API const SgTopic *sg_message_get_topic (const SgMessage *message, guint index);

G_END_DECLS
