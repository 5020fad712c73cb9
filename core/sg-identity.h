/* sg-identity.h: who the user is, and how addresses become people and organisations.
 *
 * An SgIdentity is the user's own identity as the front end read it from its config:
 * name, own addresses, internal (own company's) domains and role. The library never
 * reads a config file; front ends fill one of these in and pass it down.
 *
 * The address helpers implement the identity rules of DESIGN.md section 3: case-folding
 * and normalising, organisation from the registrable domain (Public Suffix List, libpsl),
 * freemail domains, and role / no-reply / list addresses that are not people.
 */
#pragma once

#include <glib.h>
#include "sg-version.h"

G_BEGIN_DECLS

#define SG_IDENTITY_ERROR (sg_identity_error_quark ())
SG_API GQuark sg_identity_error_quark (void);

typedef enum {
  SG_IDENTITY_ERROR_BAD_ADDRESS,  /* not a usable mail address */
  SG_IDENTITY_ERROR_BAD_DOMAIN,   /* not a usable domain */
  SG_IDENTITY_ERROR_BAD_ROLE,     /* unknown user role */
} SgIdentityError;

typedef enum {
  SG_USER_ROLE_ANALYST,
  SG_USER_ROLE_ACCOUNT_MANAGER,
  SG_USER_ROLE_MANAGER,
} SgUserRole;

/* What kind of mailbox an address is. Only personal addresses become people. */
typedef enum {
  SG_ADDRESS_PERSONAL,
  SG_ADDRESS_ROLE,     /* info@, sales@, support@ ...: an organisation's function, not a person */
  SG_ADDRESS_NOREPLY,  /* no-reply, mailer-daemon, bounces ...: machines */
  SG_ADDRESS_LIST,     /* a mailing list's own address */
} SgAddressKind;

typedef struct _SgIdentity SgIdentity;

/* Returns: (transfer full): an empty identity (no addresses, role analyst). */
SG_API SgIdentity *sg_identity_new (void);
SG_API SgIdentity *sg_identity_ref (SgIdentity *identity);
SG_API void sg_identity_unref (SgIdentity *identity);

/* @name: (nullable): the user's display name. */
SG_API void sg_identity_set_name (SgIdentity *identity, const char *name);
SG_API const char *sg_identity_get_name (const SgIdentity *identity);

/* Adds one of the user's own addresses; it is normalised first.
 * Returns: FALSE with SG_IDENTITY_ERROR_BAD_ADDRESS naming @address if it is not an address. */
SG_API gboolean sg_identity_add_address (SgIdentity *identity, const char *address, GError **error);

/* Adds an internal domain (the user's company). Any subdomain of it is internal too.
 * Returns: FALSE with SG_IDENTITY_ERROR_BAD_DOMAIN naming @domain if it is not a domain. */
SG_API gboolean sg_identity_add_internal_domain (SgIdentity *identity, const char *domain, GError **error);

/* Parses "analyst", "account-manager" or "manager". */
SG_API gboolean sg_identity_set_role_from_string (SgIdentity *identity, const char *role, GError **error);
SG_API SgUserRole sg_identity_get_role (const SgIdentity *identity);
SG_API const char *sg_user_role_to_string (SgUserRole role);

/* Returns: (transfer none): the user's normalised addresses, NULL-terminated. */
SG_API const char *const *sg_identity_get_addresses (const SgIdentity *identity);

/* @address must be normalised (sg_address_normalize()). */
SG_API gboolean sg_identity_is_self (const SgIdentity *identity, const char *address);

/* TRUE for the user's own addresses and addresses in an internal domain (or its subdomains).
 * @address must be normalised. */
SG_API gboolean sg_identity_is_internal (const SgIdentity *identity, const char *address);

/* Normalises a mail address: surrounding space and angle brackets removed, case-folded,
 * trailing dot of the domain removed, punycode (IDNA) domains turned to UTF-8.
 * Returns: (transfer full): the address, or NULL with SG_IDENTITY_ERROR_BAD_ADDRESS. */
SG_API char *sg_address_normalize (const char *address, GError **error);

/* Returns: (transfer none): the domain part of a normalised address (after the last '@'). */
SG_API const char *sg_address_get_domain (const char *address);

/* The registrable domain of a normalised domain, from the Public Suffix List:
 * "mail.acme.co.uk" -> "acme.co.uk". Returns: (transfer full) (nullable): NULL when the
 * domain is itself a public suffix ("co.uk") or not a domain. */
SG_API char *sg_domain_get_registrable (const char *domain);

/* TRUE when @registrable_domain is a freemail provider (gmail.com, web.de, ...): its users
 * are people, but it is not their organisation. */
SG_API gboolean sg_domain_is_freemail (const char *registrable_domain);

/* Classifies a normalised address by its local part. */
SG_API SgAddressKind sg_address_classify (const char *address);
SG_API const char *sg_address_kind_to_string (SgAddressKind kind);

/* Cleans a display name as found in a header: quotes and surrounding junk removed,
 * white space collapsed, "Doe, Jane" turned into "Jane Doe".
 * Returns: (transfer full) (nullable): NULL when nothing usable is left. */
SG_API char *sg_name_clean (const char *name);

/* How good @name (already cleaned) is as the name of the person at @address:
 * 0 none or an address, 1 a bare word or the local part, 2 a single word,
 * 3 a full name (two or more words with letters). */
SG_API int sg_name_score (const char *name, const char *address);

/* Guesses an organisation's display name from its registrable domain:
 * "acme-labs.co.uk" -> "Acme Labs". Returns: (transfer full). */
SG_API char *sg_org_name_from_domain (const char *registrable_domain);

G_END_DECLS
