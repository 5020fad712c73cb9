/* sg-leads.h: prospect lists (CSV) imported as a lead source.
 *
 * A list is read as a stream (bounded memory, any size) with libcsv: quoted fields,
 * any one-byte delimiter, UTF-8 or Latin-1 (a field that is not valid UTF-8 is converted
 * from Windows-1252/ISO-8859-1, or every field from a named encoding). Each row names a
 * person by address; it is matched to the person and organisation already known (no
 * duplicates) or makes new ones, and the person is credited to the list's lead source
 * ("list:NAME", kind rented-list). A bad row is rejected with its row number and reason,
 * and the rest is imported; rows are committed in batches, each row whole or not at all.
 * The rejected table holds the first 1000 rejected rows; SgListStats.rejected counts all.
 */
#pragma once

#include <gio/gio.h>
#include "sg-identity.h"
#include "sg-store.h"
#include "sg-table.h"

G_BEGIN_DECLS

#define SG_LIST_ERROR (sg_list_error_quark ())
SG_API GQuark sg_list_error_quark (void);

typedef enum {
  SG_LIST_ERROR_OPEN,     /* the file cannot be read */
  SG_LIST_ERROR_EMPTY,    /* no header row */
  SG_LIST_ERROR_COLUMNS,  /* a column named in the options, or the address column, is missing */
  SG_LIST_ERROR_ENCODING, /* an unknown --encoding */
  SG_LIST_ERROR_TOO_BIG,  /* a field larger than SG_LIST_MAX_FIELD: the import stops there */
  SG_LIST_ERROR_INVALID,  /* a bad option (list name, delimiter) */
} SgListError;

/* The largest field read; a larger one stops the import (rows before it are kept). */
#define SG_LIST_MAX_FIELD (1024 * 1024)

typedef struct {
  const char *list_name; /* the list's name: the lead source is "list:NAME" */
  char delimiter;        /* 0: ',' */
  const char *encoding;  /* nullable: UTF-8, with Latin-1 for fields that are not UTF-8 */
  gboolean no_header;    /* the first row is data; columns are given by number */
  /* Columns, by header name (case-insensitive) or 1-based number; NULL: found by the usual
   * header names (email, e-mail, name, first name, company, domain, title...). */
  const char *email_col;
  const char *name_col;
  const char *first_name_col;
  const char *last_name_col;
  const char *org_col;
  const char *domain_col;
  const char *credited_to; /* nullable: the colleague the list is credited to */
  /* The organisation's industry (customer type), set where the organisation has none;
   * NULL: found by header name (industry, sector, branche...). */
  const char *industry_col;
} SgListOptions;

typedef struct {
  guint rows;        /* data rows read */
  guint new_people;
  guint matched;     /* people already known (by address) */
  guint new_orgs;
  guint rejected;    /* see the rejected table */
  guint converted;   /* rows with fields converted from Latin-1 */
} SgListStats;

/* Imports the list at @path into @store. @identity says which addresses are the user's
 * and colleagues' (rejected). @rejected: (out) (optional) (transfer full): row, reason.
 * Returns: FALSE with SG_LIST_ERROR or SG_STORE_ERROR when the list could not be read at
 * all, or stopped (what was imported before is committed, and @stats say so). */
SG_API gboolean sg_list_import (SgStore *store, SgIdentity *identity, const char *path,
                                const SgListOptions *options, SgListStats *stats,
                                SgTable **rejected, GCancellable *cancellable, GError **error);

/* The highest person row id now: give it to sg_leads_credit_captured() after an import.
 * Returns: the id, 0 for none or on error. */
SG_API gint64 sg_leads_person_watermark (SgStore *store);

/* Credits the contacts made after @after_person_id (0: all contacts without a lead source)
 * to the analyst or manager whose mail they were first seen in: among the participants of
 * the contact's first interaction, the sender if it is one of @analysts or @managers, else
 * the first of them in the To/Cc lists. An analyst's contacts get the lead source
 * "referral:ADDRESS" (kind analyst-referral), a manager's "management:ADDRESS" (kind
 * management), credited_to ADDRESS. Contacts that already have a lead source are left alone.
 * @analysts, @managers: nullable NULL-terminated address lists (normalised here).
 * @n_credited: (out) (optional). Returns: FALSE with SG_STORE_ERROR. */
SG_API gboolean sg_leads_credit_captured (SgStore *store, const char *const *analysts,
                                          const char *const *managers, gint64 after_person_id,
                                          guint *n_credited, GError **error);

/* A person (the user, from a mail client) adds @address as a contact, named @name
 * (nullable; cleaned like a header's display name), with the organisation of its
 * registrable domain (made when new; none for a freemail domain), in one transaction,
 * logged ('person', 'organisation'). An address already known is left as it is.
 * @identity: nullable; the user's and colleagues' addresses are refused.
 * @added: (out) (optional): whether a person was made.
 * Returns: FALSE with SG_LIST_ERROR_INVALID naming a bad, role, list or internal
 * address, or SG_STORE_ERROR. */
SG_API gboolean sg_leads_add_person (SgStore *store, SgIdentity *identity, const char *address,
                                     const char *name, gboolean *added, GError **error);

/* Lead sources: name, kind, detail, credited_to, people; detail: builtin. */
SG_API SgTable *sg_lead_source_list (SgStore *store, GError **error);

G_END_DECLS
