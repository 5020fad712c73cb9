/* sg-rules.h: tagging rules, and tags people add and remove.
 *
 * A rules file is a GKeyFile with one group per rule ([rule NAME]); a rule gives a tag and
 * conditions, all of which must hold: words or phrases in the meeting's SUMMARY/DESCRIPTION
 * (a mail's subject), organisations or domains of the people in it, the attendee mix
 * (internal only, first meeting with an organisation, more than N external people), the
 * user's role (organizer or invitee), recurrence, and for mail the folder. Built-in rules
 * tag the usual meeting kinds (introduction, demo, proposal, negotiation, review,
 * internal). See data/salesgetter-rules.example and docs/internals/tagging.md.
 *
 * Every tag a rule assigns records the rule and the evidence (tag_assignments). Applying
 * the rules again after the file changed retags: rule tags no longer matched are removed,
 * new matches added. A tag a person removed is never put back by a rule, and a tag a
 * person added is never taken away by one.
 */
#pragma once

#include <glib.h>
#include "sg-identity.h"
#include "sg-store.h"
#include "sg-table.h"
#include "sg-version.h"

G_BEGIN_DECLS

#define SG_RULES_ERROR (sg_rules_error_quark ())
SG_API GQuark sg_rules_error_quark (void);

typedef enum {
  SG_RULES_ERROR_PARSE,   /* not a key file */
  SG_RULES_ERROR_INVALID, /* a rule with a bad or unknown key, or no tag */
} SgRulesError;

typedef struct _SgRules SgRules;

/* Returns: (transfer full): the built-in rules. */
SG_API SgRules *sg_rules_new_default (void);

/* Rules from the text of a rules file, plus the built-in ones unless it says
 * `[rules] defaults = false`; a rule named like a built-in one replaces it. @name names the
 * text in errors (a file name). Returns: (transfer full): the rules, or NULL with
 * SG_RULES_ERROR naming @name, the rule and the key. */
SG_API SgRules *sg_rules_new_from_data (const char *data, gssize len, const char *name, GError **error);
/* The same from a file. */
SG_API SgRules *sg_rules_new_from_file (const char *path, GError **error);
SG_API void sg_rules_free (SgRules *rules);
SG_API guint sg_rules_get_n_rules (const SgRules *rules);

typedef struct {
  guint entities; /* meetings and mail looked at */
  guint added;    /* rule tags assigned */
  guint removed;  /* rule tags taken away (no longer matched) */
} SgRulesStats;

/* Applies @rules to every meeting (and, if a rule applies to mail, every mail) in @store, in
 * one transaction, logging each change. @stats (nullable) gets the counts.
 * Returns: FALSE with SG_STORE_ERROR when the store failed; nothing is changed then. */
SG_API gboolean sg_rules_apply (SgRules *rules, SgStore *store, SgIdentity *identity, SgRulesStats *stats,
                                GError **error);

/* @entity names what is tagged: a Message-ID, a meeting UID, a person's address or an
 * organisation's domain. A person's tag is kept whatever the rules say; a removed tag
 * stays removed (rules never put it back) until a person adds it again.
 * Returns: FALSE with SG_STORE_ERROR_NOT_FOUND when @entity is not in the store. */
SG_API gboolean sg_tags_add (SgStore *store, const char *entity, const char *tag, GError **error);
SG_API gboolean sg_tags_remove (SgStore *store, const char *entity, const char *tag, GError **error);

/* Returns: (transfer full): every tag with its kind and how many things carry it
 * (columns tag, kind, count, removed), or NULL with SG_STORE_ERROR. */
SG_API SgTable *sg_tags_list (SgStore *store, GError **error);

/* Returns: (transfer full): the tags of @entity and why each is there (columns tag, kind,
 * origin, rule, evidence, removed, assigned), or NULL with SG_STORE_ERROR. */
SG_API SgTable *sg_tags_explain (SgStore *store, const char *entity, GError **error);

G_END_DECLS
