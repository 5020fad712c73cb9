/* sg-org.h: what a person may set on an organisation by hand.
 *
 * Organisations are made by capture (one per registrable domain); their display name and
 * industry (the "customer type" of `salesgetter report closing` and `select industry:`)
 * are set here, or from a prospect list's industry column. Each change is logged for sync
 * (an `organisation` upsert of the changed fields only).
 */
#pragma once

#include <glib.h>
#include "sg-store.h"

G_BEGIN_DECLS

#define SG_ORG_ERROR (sg_org_error_quark ())
SG_API GQuark sg_org_error_quark (void);

typedef enum {
  SG_ORG_ERROR_NOT_FOUND, /* no organisation owns that domain */
  SG_ORG_ERROR_INVALID,   /* an empty or too long name, an industry too long */
} SgOrgError;

/* The longest name or industry accepted, in bytes. */
#define SG_ORG_MAX_FIELD 200

/* Sets the display name and/or industry of the organisation owning @domain (any of its
 * domains, a subdomain of one, or an address at one). @name, @industry: NULL leaves the
 * field; an empty @industry clears it (a name cannot be cleared). Surrounding white space
 * is dropped. Runs in its own transaction unless one is open. Sets *@changed (nullable) to
 * whether anything changed (setting a field to its value logs nothing, except the name
 * capture made from the domain: setting it by hand keeps it from sg_org_learn_names()).
 * Returns: FALSE with @error set. */
SG_API gboolean sg_org_update (SgStore *store, const char *domain, const char *name, const char *industry,
                               gboolean *changed, GError **error);

/* Names organisations after what their people's signatures call them. An organisation
 * still named after its domain ("Fjordtech", as capture made it from fjordtech.co.uk) takes
 * the organisation fact (sg_query_person_facts) its people's signatures give most: by the
 * number of people, then of messages, then the newest. The fact must have been seen in at
 * least two messages and must contain the domain's name ("FjordTech Limited", "The
 * Fjordtech Group"; accents and punctuation aside): a signature naming a parent company, a
 * client or a former employer does not rename. A name set by hand, by a prospect list or by
 * sync is never replaced. Each rename is logged for sync as sg_org_update() logs one. Runs
 * in its own transaction unless one is open; sets *@renamed (nullable) to the number of
 * organisations renamed. Returns: FALSE with @error set. */
SG_API gboolean sg_org_learn_names (SgStore *store, guint *renamed, GError **error);

G_END_DECLS
