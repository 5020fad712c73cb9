/* sg-query.h: listings of what the store knows, as tables for any front end.
 *
 * Column sets and JSON shapes are documented in schema/json/. Times are Unix seconds in
 * TIME columns (rendered ISO 8601 UTC).
 */
#pragma once

#include "sg-store.h"
#include "sg-table.h"

G_BEGIN_DECLS

typedef struct {
  gboolean include_colleagues; /* colleagues and the user too, not only contacts */
  const char *organisation;    /* nullable: only people of this registrable domain */
  const char *search;          /* nullable: substring of name or address (case-insensitive) */
  guint limit;                 /* 0: no limit */
} SgPeopleQuery;

/* People, most recently in contact first: name, email, organisation, kind, interactions,
 * last_contact; detail: id, addresses (comma-separated), first_contact, org_domain.
 * Returns: (transfer full): the table, or NULL with SG_STORE_ERROR. */
SG_API SgTable *sg_query_people (SgStore *store, const SgPeopleQuery *query, GError **error);

typedef struct {
  gboolean include_internal; /* the user's own organisation, and organisations seen only in
                              * list or bulk mail, too */
  const char *search;        /* nullable: substring of name or domain */
  guint limit;               /* 0: no limit */
} SgOrgQuery;

/* Organisations, most recently in contact first: name, domain, people, interactions,
 * last_contact; detail: id, kind, first_contact.
 * Returns: (transfer full): the table, or NULL with SG_STORE_ERROR. */
SG_API SgTable *sg_query_orgs (SgStore *store, const SgOrgQuery *query, GError **error);

/* The timeline of one person (by any of their addresses, or an address that is not a person)
 * or one organisation (by any of its domains, or a subdomain): date, direction, from,
 * subject, with (other participants); detail: message_id, tz_offset, thread, location, kind.
 * Newest first. @limit 0 means all.
 * Returns: (transfer full): the table, or NULL with SG_STORE_ERROR_NOT_FOUND naming @who. */
SG_API SgTable *sg_query_timeline (SgStore *store, const char *who, guint limit, GError **error);

/* One-line description of @who for a timeline's heading ("Jane Doe <jane@acme.com>, Acme").
 * Returns: (transfer full) (nullable). */
SG_API char *sg_query_describe (SgStore *store, const char *who, GError **error);

/* --- What the text says (issue 9) ------------------------------------------------------ */

/* The facts known about a person (@who: any of their addresses) from signatures and
 * vCards: kind, detail, value, confidence, origin, observed, current; detail: message_id.
 * Current facts first, each kind's newest first; with @history also the superseded ones.
 * Returns: (transfer full): NULL with SG_STORE_ERROR_NOT_FOUND naming @who. */
SG_API SgTable *sg_query_person_facts (SgStore *store, const char *who, gboolean history,
                                       GError **error);

/* The topics of @who (an address, a person by any address, or a domain; NULL: the whole
 * store) weighted by TF-IDF over the store, heaviest first, at most @limit (0: all):
 * topic, weight, messages, tags; detail: stem, message_ids (at most 10).
 * Returns: (transfer full): NULL with @error. */
SG_API SgTable *sg_query_topics (SgStore *store, const char *who, guint limit, GError **error);

G_END_DECLS
