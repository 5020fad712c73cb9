/* sg-ical.h: meetings from iCalendar (RFC 5545) and iTIP (RFC 5546), with libical.
 *
 * Meetings reach the store through an SgImporter (sg-import.h): .ics files and folders of
 * them, and text/calendar parts and .ics attachments of mail. Each VEVENT is stored by UID
 * and RECURRENCE-ID; iTIP methods are applied in SEQUENCE / DTSTAMP order, so a message
 * that arrives late never undoes a newer one (an old REQUEST after a CANCEL does not bring
 * the meeting back). Organizers and attendees become addresses, people and organisations
 * under the same identity rules as mail participants, and every meeting is also an
 * interaction of kind "meeting", so timelines show it.
 *
 * Time zones: Olson TZIDs, Windows names ("W. Europe Standard Time", mapped to Olson with
 * ICU), Olson names behind a vendor prefix ("/mozilla.org/.../Europe/Berlin"), and any
 * other TZID defined by a VTIMEZONE in the same file. Recurrences are stored as written
 * and expanded on demand for a window, in the meeting's own zone (so a weekly 09:00
 * Europe/Berlin meeting stays at 09:00 local across DST changes), with hard caps.
 * See docs/internals/meetings.md.
 */
#pragma once

#include <glib.h>
#include "sg-store.h"
#include "sg-table.h"
#include "sg-version.h"

G_BEGIN_DECLS

#define SG_ICAL_ERROR (sg_ical_error_quark ())
SG_API GQuark sg_ical_error_quark (void);

typedef enum {
  SG_ICAL_ERROR_PARSE,       /* not iCalendar, or no VCALENDAR in it */
  SG_ICAL_ERROR_TOO_LARGE,   /* over SG_ICAL_MAX_SIZE */
  SG_ICAL_ERROR_TRUNCATED,   /* ends before END:VCALENDAR */
  SG_ICAL_ERROR_BAD_EVENT,   /* a VEVENT without UID, or without DTSTART where it needs one */
  SG_ICAL_ERROR_NO_EVENTS,   /* a calendar with no VEVENT (only VTODO, VJOURNAL ...) */
  SG_ICAL_ERROR_FLAWED,      /* stored, with a flaw: a TZID neither Olson, Windows nor defined
                              * in the file, a property libical could not read, attendees
                              * over the cap (a warning, not a skip) */
} SgIcalError;

/* Caps on untrusted input. */
#define SG_ICAL_MAX_SIZE ((gsize) 16 * 1024 * 1024)  /* one calendar file or part */
#define SG_ICAL_MAX_ATTENDEES 1000                   /* attendees kept per VEVENT */
#define SG_ICAL_MAX_TEXT 65536                       /* bytes of SUMMARY/DESCRIPTION/LOCATION */
/* Caps on recurrence expansion, per series and window: an RRULE that never ends (or a
 * FREQ=SECONDLY one) costs at most this much. */
#define SG_MEETINGS_MAX_INSTANCES 5000
#define SG_MEETINGS_MAX_ITERATIONS 200000

typedef struct _SgImporter SgImporter;

/* Imports the iCalendar text @data (a VCALENDAR, iTIP or not, or a bare VEVENT) with
 * @importer, as a .ics file would be: problems with it go to the importer's problem
 * callback, naming @location. Commits. For invitations received some other way (an
 * Evolution plugin, a CalDAV server).
 * Returns: FALSE with SG_STORE_ERROR only when the store failed. */
SG_API gboolean sg_importer_import_calendar (SgImporter *importer, const char *data, gsize len,
                                             const char *location, GError **error);

/* The Olson name for a TZID: an Olson name as is, "UTC" for UTC/GMT spellings, an Olson
 * name behind a vendor prefix, or a Windows zone name mapped with ICU.
 * Returns: (transfer full) (nullable): NULL when the TZID is none of these. */
SG_API char *sg_ical_resolve_tzid (const char *tzid);

/* Which occurrences sg_meetings_list() returns. */
typedef struct {
  gint64 from;              /* window, Unix seconds: occurrences that end after @from ... */
  gint64 to;                /* ... and start before @to */
  const char *org;          /* nullable: only meetings with someone of this domain's organisation */
  const char *tag;          /* nullable: only meetings with this tag */
  gboolean with_cancelled;  /* include cancelled meetings and instances */
} SgMeetingFilter;

/* The occurrences of meetings in a window, recurrences expanded (RRULE, RDATE, EXDATE,
 * overridden and cancelled instances), sorted by start. Columns: start, end, summary,
 * organizer, orgs, attendees, status, tags; detail: uid, recurrence_id, all_day, tz,
 * location, recurring, interaction_id (see schema/json/meetings.md).
 * Returns: (transfer full): the table, or NULL with SG_STORE_ERROR. */
SG_API SgTable *sg_meetings_list (SgStore *store, const SgMeetingFilter *filter, GError **error);

G_END_DECLS
