/* sg-signature.h: facts about a person from their signature block or their vCard.
 *
 * A signature ("Ann Smith\nHead of Research\nAcme GmbH\nMobile: +49 170 1234567") and a vCard
 * (TITLE, ORG, TEL;TYPE=CELL, ADR, URL) say the same kinds of thing: job title,
 * organisation, phone numbers with their kind, postal address, web site. Each is a fact with
 * a confidence; the store keeps them per person with their source message and date.
 * Pure computation: thread-safe for separate calls, bounded (SG_SIGNATURE_MAX_LINES lines are
 * read, SG_SIGNATURE_MAX_FACTS facts kept).
 */
#pragma once

#include <glib.h>

#include "sg-version.h"

G_BEGIN_DECLS

#define SG_SIGNATURE_MAX_LINES 30
#define SG_SIGNATURE_MAX_FACTS 16
#define SG_FACT_MAX_VALUE_CHARS 200

typedef enum {
  SG_FACT_TITLE,
  SG_FACT_ORGANISATION,
  SG_FACT_PHONE,
  SG_FACT_ADDRESS,
  SG_FACT_WEBSITE,
} SgFactKind;

typedef enum {
  SG_FACT_FROM_SIGNATURE,
  SG_FACT_FROM_VCARD,
} SgFactOrigin;

/* One fact. Strings are owned by the array that holds it. */
typedef struct {
  SgFactKind kind;
  char *detail;       /* phone: "mobile", "office", "fax" or "phone"; else NULL */
  char *value;        /* phones normalised: "+4917012345" with a country code, else digits */
  double confidence;  /* 0..1 */
  SgFactOrigin origin;
} SgFact;

SG_API const char *sg_fact_kind_to_string (SgFactKind kind);
SG_API const char *sg_fact_origin_to_string (SgFactOrigin origin);

/* Reads a signature block. @sender_name (nullable) is the From display name, which marks
 * where the sender's own lines start; @sender_domain (nullable) the sender's mail domain,
 * which names the organisation and the country of national phone numbers (".de": +49).
 * Disclaimers and marketing footers end the reading.
 * Returns: (transfer full) (element-type SgFact): facts, most confident first per kind; free
 * with g_ptr_array_unref(). */
SG_API GPtrArray *sg_signature_parse (const char *signature, const char *sender_name,
                                      const char *sender_domain);

/* Normalises a phone number as written: "+49 (0)30 123-45" -> "+493012345", "0049 30 1"
 * -> "+49301", "030 12345" -> "+493012345" when @country_code is "49", else "03012345".
 * Returns: (transfer full) (nullable): NULL when it has fewer than 6 or more than 15 digits. */
SG_API char *sg_phone_normalize (const char *text, const char *country_code);

/* Reads the vCards in @text (2.1, 3.0 and 4.0; several in a row are fine) with libvformat.
 * @warning (nullable): set to a description when the text is not a readable vCard.
 * Returns: (transfer full) (element-type SgFact): facts (TITLE, ORG, TEL, ADR, URL). */
SG_API GPtrArray *sg_vcard_parse (const char *text, gsize len, const char *sender_domain,
                                  char **warning);

G_END_DECLS
