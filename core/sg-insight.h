/* sg-insight.h: what the store knows about the people of a message.
 *
 * One call takes a message (or a list of addresses) and returns, for each correspondent
 * other than the user and colleagues: the person (name, address, kind), the organisation,
 * buying-process roles, open sales processes (stage, value, the person's part), tags,
 * the last interactions (mail and meetings), relationship strength with its reasons
 * (metadata only: frequency, recency, reciprocity, meetings), open stage suggestions and
 * the saved selections the person matches, the organisation's activity and the
 * organisations most like it (as sg_similar_refresh() last computed them). An address the
 * store does not know is flagged "not in the CRM"; its organisation, when known from its
 * domain, is still reported.
 *
 * This is the API the mail client plugins call, typically from a worker thread with a
 * store of their own (an SgStore is used by one thread at a time). It only reads, and
 * uses indexed look-ups only: its cost grows with the number of correspondents, not with
 * the size of the store nor with a person's history (counts come from the activity
 * summaries the store keeps at every commit; bench/insight-bench).
 *
 * The result is an opaque SgInsight: a JSON tree (schema/json/insight.md) that a GTK
 * plugin can walk with json-glib, and a plain-text rendering for terminals and filters.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include "sg-identity.h"
#include "sg-message.h"
#include "sg-store.h"

G_BEGIN_DECLS

#define SG_INSIGHT_ERROR (sg_insight_error_quark ())
SG_API GQuark sg_insight_error_quark (void);

typedef enum {
  SG_INSIGHT_ERROR_INVALID, /* no addresses, or too many */
} SgInsightError;

/* At most this many correspondents are looked at (the first ones of the message). */
#define SG_INSIGHT_MAX_CORRESPONDENTS 50

typedef struct {
  const SgIdentity *identity; /* nullable: addresses it knows as the user's or internal are
                               * skipped (the store's self and colleagues always are) */
  gint64 now;                 /* 0: now; the reference time for recency ("3 days ago") */
  guint n_interactions;       /* last interactions per correspondent; 0: 5 */
} SgInsightOptions;

typedef struct _SgInsight SgInsight;

/* The insight for @message's participants (From, To, Cc...), in header order, each address
 * once; a mailing list's own address and machine senders (no-reply, bounces) are left out.
 * @message comes from sg_message_parse(), or from a GMimeMessage the client has already
 * parsed, by sg_message_new_from_mime(). @options: nullable. Returns: (transfer full), or NULL with an error
 * (SG_STORE_ERROR on a database failure). */
SG_API SgInsight *sg_insight_for_message (SgStore *store, const SgMessage *message,
                                          const SgInsightOptions *options, GError **error);

/* The same for a NULL-terminated list of addresses (any case; display names not allowed).
 * An address that does not parse is reported as a correspondent with an "error" member.
 * Returns: (transfer full), or NULL with SG_INSIGHT_ERROR_INVALID when @addresses is empty. */
SG_API SgInsight *sg_insight_for_addresses (SgStore *store, const char *const *addresses,
                                            const SgInsightOptions *options, GError **error);

SG_API void sg_insight_free (SgInsight *insight);

/* The whole insight as a JSON object (schema/json/insight.md).
 * Returns: (transfer none): valid while @insight lives. */
SG_API JsonNode *sg_insight_get_json (const SgInsight *insight);

/* Returns: (transfer full): the JSON text, pretty-printed when @pretty. */
SG_API char *sg_insight_to_json_string (const SgInsight *insight, gboolean pretty);

/* A plain-text rendering (UTF-8, lines of at most ~100 columns, no escape sequences
 * from the store: control characters are replaced). Returns: (transfer full). */
SG_API char *sg_insight_to_text (const SgInsight *insight);

/* The number of correspondents reported. */
SG_API guint sg_insight_get_n_correspondents (const SgInsight *insight);
/* Returns: (transfer none): the @index-th correspondent's normalised address. */
SG_API const char *sg_insight_get_address (const SgInsight *insight, guint index);
/* Whether the @index-th correspondent is a person in the store. */
SG_API gboolean sg_insight_is_known (const SgInsight *insight, guint index);

/* Relationship strength from metadata only. @n_year: interactions (not bulk) in the year
 * before @now; @n_in, @n_out: all received from / sent to the person (mail); @n_meetings;
 * @last: newest interaction (0: none). Returns: a score 0..100; @label (out) "none",
 * "weak", "medium" or "strong"; @reasons (out) (transfer full) (optional): one sentence
 * per factor, NULL-terminated. */
SG_API int sg_strength_compute (gint64 n_year, gint64 n_in, gint64 n_out, gint64 n_meetings,
                                gint64 last, gint64 now, const char **label, char ***reasons);

G_END_DECLS
