/* sg-text.h: what a message says in its own words.
 *
 * The readable text of a message: its best text part (text/plain preferred, else HTML turned
 * into text with libxml2's HTML parser), decoded from any charset, split into
 *
 *   body       the sender's own words (quoted replies removed),
 *   signature  the block after "-- " or after a sign-off ("Best regards,\nName\nTitle"),
 *   forwarded  a forwarded message's text, kept apart (it is someone else's),
 *
 * and the vCards attached to it. Everything here is pure computation on one message: no store,
 * safe to run on any thread for separate objects, bounded in time and memory (see the caps).
 */
#pragma once

#include <glib.h>

#include "sg-version.h"
#include <gmime/gmime.h>

G_BEGIN_DECLS

/* Caps on untrusted input. */
#define SG_TEXT_MAX_PART_BYTES ((gsize) 1024 * 1024)  /* decoded text read from one part */
#define SG_TEXT_MAX_HTML_BYTES ((gsize) 1024 * 1024)  /* HTML given to the parser */
#define SG_TEXT_MAX_BODY_BYTES ((gsize) 64 * 1024)    /* own text kept */
#define SG_TEXT_MAX_SIGNATURE_LINES 40                /* signature lines kept */
#define SG_TEXT_MAX_PARTS 200                         /* MIME parts walked */
#define SG_TEXT_MAX_VCARDS 8
#define SG_TEXT_MAX_VCARD_BYTES ((gsize) 64 * 1024)

typedef enum {
  SG_TEXT_SOURCE_NONE,   /* no text part */
  SG_TEXT_SOURCE_PLAIN,  /* text/plain */
  SG_TEXT_SOURCE_HTML,   /* text/html, turned into text */
} SgTextSource;

typedef struct _SgText SgText;

/* The text of @mime (never NULL: a message without text has an empty body). @sender_name
 * (nullable): the From display name, which may start a signature that has no "-- " and no
 * sign-off. Returns: (transfer full). */
SG_API SgText *sg_text_new_from_mime (GMimeMessage *mime, const char *sender_name);

/* Splits already readable text (UTF-8, any line ends) as a message's text/plain part would
 * be. For tests and for text from elsewhere. Returns: (transfer full). */
SG_API SgText *sg_text_new_from_plain (const char *text, gssize len, const char *sender_name);

SG_API void sg_text_free (SgText *text);

SG_API SgTextSource sg_text_get_source (const SgText *text);
SG_API const char *sg_text_source_to_string (SgTextSource source);
/* Returns: the own text, without quotes or signature; "" when there is none. */
SG_API const char *sg_text_get_body (const SgText *text);
/* Returns: (nullable): the signature block, at most SG_TEXT_MAX_SIGNATURE_LINES lines. */
SG_API const char *sg_text_get_signature (const SgText *text);
/* Returns: (nullable): the forwarded message's text (its header lines included). */
SG_API const char *sg_text_get_forwarded (const SgText *text);
/* Returns: (transfer none): the raw vCards attached (text/vcard, text/x-vcard, .vcf),
 * NULL-terminated. */
SG_API const char *const *sg_text_get_vcards (const SgText *text);
/* Returns: (transfer none): what was cut or could not be read, NULL-terminated. */
SG_API const char *const *sg_text_get_warnings (const SgText *text);

/* Turns HTML (UTF-8, at most SG_TEXT_MAX_HTML_BYTES are read) into text: block elements
 * become line breaks, script/style/head are dropped, and so is what sits inside
 * <blockquote> (a quoted reply). Streaming (SAX): memory does not grow with nesting.
 * @truncated (nullable): set to TRUE when input or output was cut at a cap.
 * Returns: (transfer full): UTF-8 text. */
SG_API char *sg_text_html_to_text (const char *html, gsize len, gboolean *truncated);

G_END_DECLS
