/* sg-similar.h: "customers like this one": organisations as weighted tag vectors.
 *
 * An organisation's vector holds the tags on it and on its people (not removed): weight
 * tf × idf, with tf = 1 + ln(n) for a tag held n times (by the organisation and its people)
 * and idf = 1 + ln((1 + N) / (1 + df)), N the organisations with any tag and df those with
 * this one (smoothed, so a tag everyone has still counts a little). Similarity is the cosine
 * of two vectors. Internal organisations are never listed.
 */
#pragma once

#include <glib.h>
#include "sg-store.h"
#include "sg-table.h"

G_BEGIN_DECLS

#define SG_SIMILAR_ERROR (sg_similar_error_quark ())
SG_API GQuark sg_similar_error_quark (void);

typedef enum {
  SG_SIMILAR_ERROR_NOT_FOUND, /* no organisation with that domain */
} SgSimilarError;

/* The organisations most similar to the one owning @domain (any of its domains), most
 * similar first, at most @limit (0: 10), only those sharing a tag: organisation, domain,
 * similarity (0..1), shared_tags (comma-separated, heaviest first), bought (deliverables
 * of their won processes, comma-separated). Reads every tag assignment once: batch work,
 * not for the per-message insight. Returns: (transfer full), or NULL with an error. */
SG_API SgTable *sg_similar_organisations (SgStore *store, const char *domain, guint limit, GError **error);

/* The number of similar organisations kept per organisation by sg_similar_refresh(). */
#define SG_SIMILAR_KEPT 5

/* Computes the SG_SIMILAR_KEPT most similar organisations of every external organisation
 * (the same vectors and cosine; organisations with identical vectors are computed once)
 * and keeps them in the store (org_similar), with the version of the tags they come from,
 * in one transaction. The insight reads them, and says whether tags changed since.
 * Returns: FALSE with an error. */
SG_API gboolean sg_similar_refresh (SgStore *store, GError **error);

/* Whether the kept similar organisations were computed from the tags as they are now;
 * FALSE also when they were never computed. */
SG_API gboolean sg_similar_is_current (SgStore *store);

G_END_DECLS
