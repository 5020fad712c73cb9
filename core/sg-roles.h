/* sg-roles.h: buying-process roles of people (suspect, prospect, lead, customer,
 * consumer, buyer), several at once, each with when it started and why.
 *
 * Roles come from rules (sg_roles_derive(), origin 'rule') or from a person (origin
 * 'person'). A person's decision always wins and sticks: the rules never add, change or
 * remove a role a person set or removed. The rules are written down in
 * docs/internals/process.md. Every change is logged (entity 'person_role', natural key
 * "address|role", op add or remove).
 */
#pragma once

#include <glib.h>
#include "sg-store.h"
#include "sg-table.h"

G_BEGIN_DECLS

#define SG_ROLE_ERROR (sg_role_error_quark ())
SG_API GQuark sg_role_error_quark (void);

typedef enum {
  SG_ROLE_ERROR_NOT_FOUND, /* no such person */
  SG_ROLE_ERROR_INVALID,   /* not a role */
} SgRoleError;

/* A person gives @address's person the role @role (suspect, prospect, lead, customer,
 * consumer, buyer). @reason: nullable. Returns: FALSE with SG_ROLE_ERROR naming the
 * address or role, or SG_STORE_ERROR. */
SG_API gboolean sg_role_set (SgStore *store, const char *address, const char *role,
                             const char *reason, const char *actor, GError **error);
/* A person takes the role away; the rules will not give it back. */
SG_API gboolean sg_role_remove (SgStore *store, const char *address, const char *role,
                                const char *reason, const char *actor, GError **error);

/* Applies the rules to every contact: adds the roles they now hold, and removes rule
 * roles that no longer hold. @n_added, @n_removed: (out) (optional). */
SG_API gboolean sg_roles_derive (SgStore *store, guint *n_added, guint *n_removed, GError **error);

/* Roles, by person: name, email, organisation, role, since, origin, reason; detail:
 * removed. @address, @role: nullable filters; removed roles only with @include_removed. */
SG_API SgTable *sg_role_list (SgStore *store, const char *address, const char *role,
                              gboolean include_removed, GError **error);

G_END_DECLS
