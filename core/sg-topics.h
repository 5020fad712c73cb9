/* sg-topics.h: what a message is about, and the tags that follow from it.
 *
 * Key phrases are read from a message's subject and own text (never quotes or signatures):
 * the language is guessed by counting stop words (English, German, French, Spanish), words
 * are stemmed with Snowball (libstemmer), and phrases of one to three words between stop
 * words and punctuation are counted (a subject word counts three times). The store keeps
 * them per interaction; weights over a person's or organisation's mail are TF-IDF against the
 * whole store, computed when asked. A taxonomy file maps phrases and synonyms onto tags.
 */
#pragma once

#include <glib.h>

#include "sg-version.h"

#include "sg-store.h"

G_BEGIN_DECLS

#define SG_TOPICS_ERROR (sg_topics_error_quark ())
SG_API GQuark sg_topics_error_quark (void);

typedef enum {
  SG_TOPICS_ERROR_TAXONOMY, /* the taxonomy file is unreadable or wrong; the message says where */
  SG_TOPICS_ERROR_NOT_FOUND,
} SgTopicsError;

#define SG_TOPICS_MAX_TEXT_BYTES ((gsize) 8 * 1024) /* own text read for topics */
#define SG_TOPICS_MAX_PER_MESSAGE 8

/* One key phrase of a message. Owned by the array that holds it. */
typedef struct {
  char *stem;      /* stems joined by one space: the key ("forecast model") */
  char *phrase;    /* as first written ("forecasting models") */
  char *lang;      /* "en", "de", "fr", "es" */
  guint count;     /* occurrences, a subject one counting 3 */
} SgTopic;

/* Returns: (transfer full) (element-type SgTopic): the key phrases of a message, heaviest
 * first, at most SG_TOPICS_MAX_PER_MESSAGE. Thread-safe. */
SG_API GPtrArray *sg_topics_extract (const char *subject, const char *body);

/* Returns: the language @text is most likely in ("en", "de", "fr", "es"); "en" when unsure. */
SG_API const char *sg_topics_detect_language (const char *text);

/* Returns: (transfer full): @word stemmed with Snowball for @lang, lower-cased. */
SG_API char *sg_topics_stem (const char *word, const char *lang);

typedef struct _SgTaxonomy SgTaxonomy;

/* Loads a taxonomy file (see data/salesgetter-taxonomy.example): one group per tag, with
 * the phrases and synonyms that mean it. Returns: (transfer full): NULL with
 * SG_TOPICS_ERROR_TAXONOMY naming the file and group on error. */
SG_API SgTaxonomy *sg_taxonomy_load (const char *path, GError **error);
SG_API void sg_taxonomy_free (SgTaxonomy *taxonomy);
SG_API guint sg_taxonomy_get_n_tags (const SgTaxonomy *taxonomy);

/* Re-runs @taxonomy over the topics stored for every interaction: topic tags (origin
 * 'topic') of people, organisations and interactions are replaced; tags a person removed
 * stay removed. No mail is read. @n_assigned (nullable): the assignments made.
 * Returns: FALSE with @error on store failure. */
SG_API gboolean sg_topics_apply_taxonomy (SgStore *store, const SgTaxonomy *taxonomy,
                                          guint *n_assigned, GError **error);

G_END_DECLS
