/* sg-ical-private.h: how the importer (sg-import.c) and the iCalendar module (sg-ical.c)
 * call each other. Never installed.
 *
 * Meetings are imported by an SgImporter, in its batches, so that their organizers and
 * attendees go through the very same address/person/organisation resolution (and caches)
 * as mail participants: one set of identity rules, applied in one place.
 */
#pragma once

#include "sg-import.h"
#include "sg-private.h"

G_BEGIN_DECLS

/* --- provided by sg-import.c ------------------------------------------------------- */

SgStore *_sg_importer_get_store (SgImporter *importer);
SgIdentity *_sg_importer_get_identity (SgImporter *importer);
/* The Olson zone floating times are read in (nullable: UTC). */
const char *_sg_importer_get_floating_tz (SgImporter *importer);
/* Opens a batch (transaction) if none is open. */
gboolean _sg_importer_begin (SgImporter *importer, GError **error);
/* Rolls the open batch back and forgets what it cached (after a store failure). */
void _sg_importer_abandon (SgImporter *importer);
/* Counts one unit of work in the batch and commits when the batch is full. */
gboolean _sg_importer_done_one (SgImporter *importer, GError **error);
gint64 _sg_importer_ensure_source (SgImporter *importer, const char *kind, const char *uri,
                                   GError **error);
/* Reports a problem with @location (counted, stored in import_problems, passed on). */
void _sg_importer_problem (SgImporter *importer, gint64 source_id, const char *location,
                           const GError *problem);
/* The same for something kept with a flaw (an unknown zone, a dropped property): not
 * counted as skipped. */
void _sg_importer_warning (SgImporter *importer, gint64 source_id, const char *location,
                           const GError *problem);
SgImportStats *_sg_importer_stats (SgImporter *importer);
/* Resolves a mail address seen in a meeting (organizer, attendee) into an address row, and
 * through it a person and an organisation, by the identity rules of mail participants.
 * @address is raw (a "mailto:" prefix is removed); @name is a display name (nullable).
 * *@address_id is 0 when @address is not a usable address (not an error).
 * *@internal / *@self (nullable) say whether it is a colleague's / the user's.
 * Returns: FALSE only on a store failure. */
gboolean _sg_importer_resolve_address (SgImporter *importer, const char *address, const char *name,
                                       gint64 date, gint64 *address_id, gboolean *internal,
                                       gboolean *self, GError **error);

/* --- provided by sg-ical.c ----------------------------------------------------------- */

/* Imports the iCalendar text @data (VCALENDAR with VEVENTs, iTIP or not) in the importer's
 * open batch, which it never commits (a mail message's import is still under way).
 * Problems with the text are reported with @location and the rest goes on.
 * Returns: FALSE only on a store failure. */
gboolean _sg_ical_import_data (SgImporter *importer, const char *data, gsize len, gint64 source_id,
                               const char *location, GError **error);

/* The same for an object of a calendar server (CalDAV), which is authoritative: each
 * VEVENT replaces its row whatever its SEQUENCE/DTSTAMP, and rows of its UIDs that it no
 * longer holds (a removed overridden instance) are deleted. The UIDs it held are appended
 * to @uids (strings, owned by the array). Returns: FALSE only on a store failure. */
gboolean _sg_ical_import_object (SgImporter *importer, const char *data, gsize len, gint64 source_id,
                                 const char *location, GPtrArray *uids, GError **error);

/* Removes every row of @uid (series and instances), their interactions and those
 * interactions' tags, logging a `delete` op for each meeting and interaction, in the
 * importer's open batch (opened if needed). *@deleted (nullable) counts the rows. */
gboolean _sg_ical_delete_uid (SgImporter *importer, const char *uid, guint *deleted, GError **error);

/* TRUE when @path looks like an iCalendar file (named *.ics, or starting BEGIN:VCALENDAR). */
gboolean _sg_ical_is_ics_file (const char *path);

/* Imports every *.ics file under the folder @path. */
gboolean _sg_ical_import_dir (SgImporter *importer, const char *path, GCancellable *cancellable,
                              GError **error);
/* Imports one .ics file. Problems with it are reported; FALSE only on a store failure. */
gboolean _sg_ical_import_file (SgImporter *importer, const char *path, GError **error);

G_END_DECLS
