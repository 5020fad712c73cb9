/* sg-caldav-private.h: the WebDAV answers sg-caldav.c reads, parsed with libxml2; here so
 * that the unit tests can feed them real-shaped documents. Never installed. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One DAV:response of a multistatus, with the properties CalDAV sync asks for. Properties
 * come only from a propstat whose status is 2xx (a 404 propstat lists what the resource
 * does not have). */
typedef struct {
  char *href;              /* as written (nullable when missing) */
  int status;              /* the response's own DAV:status (sync-collection: 404 = removed), 0 when none */
  gboolean collection;     /* resourcetype has DAV:collection */
  gboolean calendar;       /* resourcetype has C:calendar */
  gboolean has_components; /* supported-calendar-component-set was given */
  gboolean vevent;         /* ... and names VEVENT */
  char *displayname;
  char *etag;
  char *ctag;              /* CS:getctag */
  char *sync_token;        /* DAV:sync-token property */
  char *principal;         /* DAV:current-user-principal/DAV:href */
  char *home;              /* C:calendar-home-set/DAV:href (the first) */
  char *calendar_data;     /* C:calendar-data */
} SgDavResponse;

typedef struct {
  GPtrArray *responses;    /* SgDavResponse */
  char *sync_token;        /* the multistatus's own DAV:sync-token (sync-collection) */
} SgDavMultistatus;

/* Parses a 207 Multi-Status body. Returns: (transfer full): NULL with SG_CALDAV_ERROR_PROTOCOL
 * when it is not XML or not a DAV:multistatus. */
SgDavMultistatus *_sg_dav_parse_multistatus (const char *data, gsize len, GError **error);
void _sg_dav_multistatus_free (SgDavMultistatus *ms);

/* TRUE when @data is a DAV:error naming the DAV:valid-sync-token precondition (RFC 6578
 * 3.2: the server no longer accepts the token). */
gboolean _sg_dav_is_invalid_sync_token (const char *data, gsize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SgDavMultistatus, _sg_dav_multistatus_free)

G_END_DECLS
