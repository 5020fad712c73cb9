/* sg-ical.c: VCALENDAR text -> meetings in the store (libical), iTIP in order. */
#include "config.h"

#include "sg-ical.h"
#include "sg-ical-private.h"
#include "sg-autocleanups.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <libical/ical.h>
#include <string.h>
#include <sys/stat.h>
#include <unicode/ucal.h>
#include <unicode/ustring.h>
#include <unistd.h>

/* Folder depth followed under an .ics folder. */
#define MAX_ICS_DEPTH 8

G_DEFINE_QUARK (sg-ical-error-quark, sg_ical_error)

/* libical reports errors through a global flag and, in some builds, aborts on them. A
 * library must not abort on bad input: errors are made non-fatal once. */
static void
ical_init (void)
{
  static gsize done;

  if (g_once_init_enter (&done)) {
    icalerror_set_errors_are_fatal (0);
    g_once_init_leave (&done, 1);
  }
}

/* --- time zones --------------------------------------------------------------------- */

static gboolean
is_utc_name (const char *tzid)
{
  static const char *const names[] = { "UTC", "GMT", "Z", "Etc/UTC", "Etc/GMT", "Etc/Universal",
                                       "Etc/Zulu", "Universal", "Zulu", "Coordinated Universal Time",
                                       "Greenwich Mean Time", "UTC+00:00", "GMT+00:00" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (tzid, names[i]) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
is_olson (const char *name)
{
  /* libical's builtin zones come from the system's tzdata (/usr/share/zoneinfo). Names
   * without a '/' are mostly aliases ("CET", "EST5EDT"), which tzdata also has. */
  return *name && strlen (name) < 128 && icaltimezone_get_builtin_timezone (name) != NULL;
}

/* Windows zone names: libical has no table for them, but ICU (CLDR's windowsZones.xml)
 * does; see docs/internals/meetings.md. */
static char *
windows_to_olson (const char *tzid)
{
  UChar win[128], out[128];
  UErrorCode status = U_ZERO_ERROR;
  int32_t len = 0, n;
  char utf8[256];

  u_strFromUTF8 (win, G_N_ELEMENTS (win), &len, tzid, -1, &status);
  if (U_FAILURE (status) || len <= 0 || len >= (int32_t) G_N_ELEMENTS (win))
    return NULL;
  n = ucal_getTimeZoneIDForWindowsID (win, len, NULL, out, G_N_ELEMENTS (out), &status);
  if (U_FAILURE (status) || n <= 0 || n >= (int32_t) G_N_ELEMENTS (out))
    return NULL;
  u_strToUTF8 (utf8, sizeof utf8, &len, out, n, &status);
  if (U_FAILURE (status) || len <= 0 || len >= (int32_t) sizeof utf8)
    return NULL;
  return g_strndup (utf8, (gsize) len);
}

static char *resolve_tzid (const char *tzid);

/* Resolved TZIDs, for the life of the process: a calendar names a handful of zones and
 * repeats them on every VEVENT, and ICU's Windows lookup reads a resource bundle each time.
 * Bounded: past this many entries the cache is not grown. */
#define TZID_CACHE_MAX 1024
G_LOCK_DEFINE_STATIC (tzid_cache);
static GHashTable *tzid_cache; /* TZID -> Olson name, or "" for none */

char *
sg_ical_resolve_tzid (const char *tzid)
{
  const char *hit;
  char *result;

  g_return_val_if_fail (tzid != NULL, NULL);
  G_LOCK (tzid_cache);
  if (tzid_cache == NULL)
    tzid_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  hit = g_hash_table_lookup (tzid_cache, tzid);
  if (hit != NULL) {
    result = *hit ? g_strdup (hit) : NULL;
    G_UNLOCK (tzid_cache);
    return result;
  }
  G_UNLOCK (tzid_cache);
  result = resolve_tzid (tzid);
  G_LOCK (tzid_cache);
  if (g_hash_table_size (tzid_cache) < TZID_CACHE_MAX)
    g_hash_table_replace (tzid_cache, g_strdup (tzid), g_strdup (result ? result : ""));
  G_UNLOCK (tzid_cache);
  return result;
}

static char *
resolve_tzid (const char *tzid)
{
  g_autofree char *t = NULL;
  char *win;

  ical_init ();
  t = g_strstrip (g_strdup (tzid));
  if (*t == '"' && strlen (t) >= 2 && t[strlen (t) - 1] == '"') {
    t[strlen (t) - 1] = '\0';
    memmove (t, t + 1, strlen (t));
  }
  if (*t == '\0' || strlen (t) > 200)
    return NULL;
  if (is_utc_name (t))
    return g_strdup ("UTC");
  if (is_olson (t))
    return g_steal_pointer (&t);
  /* An Olson name behind a vendor prefix: "/mozilla.org/20050126_1/Europe/Berlin",
   * "/freeassociation.sourceforge.net/Tzfile/Europe/Berlin". Only names with an area
   * ("Europe/Berlin") are tried, so that no prefix's last word passes for a zone. */
  for (const char *p = strchr (t, '/'); p != NULL; p = strchr (p + 1, '/')) {
    const char *rest = p + 1;

    if (strchr (rest, '/') != NULL && is_olson (rest))
      return g_strdup (rest);
  }
  win = windows_to_olson (t);
  if (win != NULL) {
    if (is_utc_name (win) || g_str_has_prefix (win, "Etc/GMT") || strcmp (win, "Etc/UTC") == 0) {
      /* Windows' "UTC" maps to Etc/UTC (and "UTC-11" to Etc/GMT+11, a fixed offset). */
      if (is_utc_name (win)) {
        g_free (win);
        return g_strdup ("UTC");
      }
    }
    if (is_olson (win))
      return win;
    g_free (win);
  }
  return NULL;
}

/* How one TZID resolved: a zone to convert with, and what to store for expanding later. */
typedef struct {
  icaltimezone *zone; /* (transfer none): builtin, or owned by the VCALENDAR; NULL = UTC */
  char *tz;           /* Olson name, NULL for UTC or a VTIMEZONE-only zone */
  char *vtimezone;    /* the file's VTIMEZONE text when no Olson zone fits */
  gboolean unknown;
} Zone;

static void
zone_clear (Zone *z)
{
  g_free (z->tz);
  g_free (z->vtimezone);
  memset (z, 0, sizeof *z);
}

/* Olson first (tzdata knows every past rule; Outlook's VTIMEZONE knows only the current
 * one), then the file's own VTIMEZONE. */
static void
zone_resolve (icalcomponent *cal, const char *tzid, Zone *out)
{
  g_autofree char *olson = sg_ical_resolve_tzid (tzid);
  icaltimezone *z;

  memset (out, 0, sizeof *out);
  if (olson != NULL && strcmp (olson, "UTC") == 0)
    return;
  if (olson != NULL) {
    out->zone = icaltimezone_get_builtin_timezone (olson);
    out->tz = g_steal_pointer (&olson);
    return;
  }
  z = cal ? icalcomponent_get_timezone (cal, tzid) : NULL;
  if (z != NULL && icaltimezone_get_component (z) != NULL) {
    out->zone = z;
    out->vtimezone = icalcomponent_as_ical_string_r (icaltimezone_get_component (z));
    return;
  }
  out->unknown = TRUE;
}

static const char *
tzid_of (icalproperty *prop)
{
  icalparameter *param = icalproperty_get_first_parameter (prop, ICAL_TZID_PARAMETER);

  return param ? icalparameter_get_tzid (param) : NULL;
}

static gint64
utc_of (struct icaltimetype t, icaltimezone *zone)
{
  if (t.is_date || icaltime_is_utc (t) || zone == NULL)
    return (gint64) icaltime_as_timet_with_zone (t, icaltimezone_get_utc_timezone ());
  return (gint64) icaltime_as_timet_with_zone (t, zone);
}

/* A time property (DTEND, RECURRENCE-ID, EXDATE ...) in UTC: its own TZID, else the zone
 * of DTSTART (@fallback). */
static gint64
prop_time_utc (icalcomponent *cal, icalproperty *prop, struct icaltimetype t, icaltimezone *fallback)
{
  const char *tzid = tzid_of (prop);

  if (t.is_date || icaltime_is_utc (t))
    return utc_of (t, NULL);
  if (tzid != NULL) {
    Zone z;
    gint64 r;

    zone_resolve (cal, tzid, &z);
    r = z.unknown ? utc_of (t, fallback) : utc_of (t, z.zone);
    zone_clear (&z);
    return r;
  }
  return utc_of (t, fallback);
}

static char *
utc_key (gint64 t, gboolean is_date)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (t);

  if (dt == NULL)
    return g_strdup ("0");
  return g_date_time_format (dt, is_date ? "%Y%m%d" : "%Y%m%dT%H%M%SZ");
}

/* --- one VEVENT ------------------------------------------------------------------------ */

typedef struct {
  char *address;
  char *name;
  char *partstat;
} Who;

typedef struct {
  char *uid;
  char *rid;        /* "" for the series */
  gint64 rid_utc;
  char *summary, *description, *location;
  gint64 start, end;
  gboolean all_day;
  char *tzid;
  Zone zone;
  char *dtstart_local;
  char *rrule;
  GString *rdates, *exdates;
  const char *status;
  int sequence;
  gint64 dtstamp;
  Who organizer;
  GArray *attendees; /* Who */
  guint attendees_dropped;
  gboolean no_start; /* an iTIP message without DTSTART: start/end are stand-ins */
} Event;

static void
who_clear (Who *w)
{
  g_free (w->address);
  g_free (w->name);
  g_free (w->partstat);
}

static void
event_free (Event *e)
{
  if (e == NULL)
    return;
  g_free (e->uid);
  g_free (e->rid);
  g_free (e->summary);
  g_free (e->description);
  g_free (e->location);
  g_free (e->tzid);
  zone_clear (&e->zone);
  g_free (e->dtstart_local);
  g_free (e->rrule);
  g_string_free (e->rdates, TRUE);
  g_string_free (e->exdates, TRUE);
  who_clear (&e->organizer);
  for (guint i = 0; i < e->attendees->len; i++)
    who_clear (&g_array_index (e->attendees, Who, i));
  g_array_unref (e->attendees);
  g_free (e);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Event, event_free)

/* Text from the file: valid UTF-8, capped, NULL when empty. */
static char *
text_value (const char *s, gboolean one_line)
{
  char *out;

  if (s == NULL || *s == '\0')
    return NULL;
  out = g_utf8_make_valid (s, MIN (strlen (s), (gsize) SG_ICAL_MAX_TEXT));
  if (one_line)
    g_strdelimit (out, "\r\n\t", ' ');
  g_strstrip (out);
  if (*out == '\0')
    g_clear_pointer (&out, g_free);
  return out;
}

static void
read_who (icalproperty *prop, const char *value, Who *w)
{
  icalparameter *cn = icalproperty_get_first_parameter (prop, ICAL_CN_PARAMETER);
  char *ps = icalproperty_get_parameter_as_string_r (prop, "PARTSTAT");

  w->address = g_strdup (value);
  w->name = cn ? text_value (icalparameter_get_cn (cn), TRUE) : NULL;
  w->partstat = ps ? g_ascii_strdown (ps, -1) : g_strdup ("needs-action");
  free (ps);
}

static void read_people (icalcomponent *ev, Event *e, GPtrArray *warnings);

/* Reads one VEVENT. @needs_start: the method is one that defines a meeting (REQUEST,
 * PUBLISH, ADD, or none), which DTSTART is required for.
 * Returns NULL with SG_ICAL_ERROR_* when it cannot be a meeting. */
static Event *
read_event (icalcomponent *cal, icalcomponent *ev, gboolean needs_start, const char *floating_tz,
            GPtrArray *warnings, GError **error)
{
  g_autoptr (Event) e = g_new0 (Event, 1);
  icalproperty *prop;
  struct icaltimetype dtstart;
  const char *uid = icalcomponent_get_uid (ev);
  icalproperty_status status;

  e->rdates = g_string_new (NULL);
  e->exdates = g_string_new (NULL);
  e->attendees = g_array_new (FALSE, TRUE, sizeof (Who));
  if (uid != NULL && strlen (uid) > 1000) {
    g_set_error_literal (error, SG_ICAL_ERROR, SG_ICAL_ERROR_BAD_EVENT, "VEVENT with a UID over 1000 bytes");
    return NULL;
  }
  if (uid == NULL || *uid == '\0') {
    /* RFC 5545 requires a UID; files made by hand or by some exporters have none. As for
     * mail without a Message-ID, a hash of the content stands in, so that importing the
     * file again finds the same meeting. An iTIP message without one refers to nothing. */
    char *text;

    if (!needs_start) {
      g_set_error_literal (error, SG_ICAL_ERROR, SG_ICAL_ERROR_BAD_EVENT, "iTIP VEVENT without a UID");
      return NULL;
    }
    text = icalcomponent_as_ical_string_r (ev);
    {
      g_autofree char *hex = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text ? text : "", -1);

      e->uid = g_strconcat ("sha256:", hex, NULL);
    }
    free (text);
  } else {
    e->uid = g_utf8_make_valid (uid, -1);
  }
  e->summary = text_value (icalcomponent_get_summary (ev), TRUE);
  e->description = text_value (icalcomponent_get_description (ev), FALSE);
  e->location = text_value (icalcomponent_get_location (ev), TRUE);
  e->sequence = MAX (0, icalcomponent_get_sequence (ev));
  {
    struct icaltimetype stamp = icalcomponent_get_dtstamp (ev);

    e->dtstamp = icaltime_is_null_time (stamp) ? 0 : utc_of (stamp, NULL);
  }
  status = icalcomponent_get_status (ev);
  e->status = status == ICAL_STATUS_CANCELLED ? "cancelled"
            : status == ICAL_STATUS_TENTATIVE ? "tentative" : "confirmed";

  /* DTSTART, in its zone. */
  prop = icalcomponent_get_first_property (ev, ICAL_DTSTART_PROPERTY);
  if (prop == NULL && !needs_start) {
    /* A REPLY, CANCEL, REFRESH or COUNTER may leave DTSTART out (RFC 5546 3.2): it
     * refers to a meeting by UID (and RECURRENCE-ID). */
    e->no_start = TRUE;
    prop = icalcomponent_get_first_property (ev, ICAL_RECURRENCEID_PROPERTY);
    if (prop != NULL) {
      struct icaltimetype t = icalproperty_get_recurrenceid (prop);

      e->rid_utc = prop_time_utc (cal, prop, t, NULL);
      e->rid = utc_key (e->rid_utc, t.is_date);
      e->start = e->end = e->rid_utc;
    } else {
      e->rid = g_strdup ("");
      e->start = e->end = e->dtstamp;
    }
    read_people (ev, e, warnings);
    return g_steal_pointer (&e);
  }
  if (prop == NULL) {
    g_set_error (error, SG_ICAL_ERROR, SG_ICAL_ERROR_BAD_EVENT, "VEVENT %s has no DTSTART", e->uid);
    return NULL;
  }
  dtstart = icalproperty_get_dtstart (prop);
  if (icaltime_is_null_time (dtstart) || !icaltime_is_valid_time (dtstart)) {
    g_set_error (error, SG_ICAL_ERROR, SG_ICAL_ERROR_BAD_EVENT, "VEVENT %s has an unreadable DTSTART", e->uid);
    return NULL;
  }
  e->all_day = dtstart.is_date;
  if (!dtstart.is_date && !icaltime_is_utc (dtstart)) {
    const char *tzid = tzid_of (prop);

    if (tzid != NULL) {
      e->tzid = g_utf8_make_valid (tzid, MIN (strlen (tzid), 200));
      zone_resolve (cal, tzid, &e->zone);
      if (e->zone.unknown) {
        /* Read in the user's zone: the likeliest meaning of a zone nobody defined. */
        g_ptr_array_add (warnings, g_strdup_printf ("VEVENT %s: unknown time zone “%s” (not Olson, not "
                                                    "Windows, no VTIMEZONE); read as %s", e->uid, e->tzid,
                                                    floating_tz ? floating_tz : "UTC"));
      }
    }
    if (tzid == NULL || e->zone.unknown) {
      zone_clear (&e->zone);
      if (floating_tz != NULL && is_olson (floating_tz) && strcmp (floating_tz, "UTC") != 0) {
        e->zone.zone = icaltimezone_get_builtin_timezone (floating_tz);
        e->zone.tz = g_strdup (floating_tz);
      }
    }
  }
  dtstart.zone = NULL;
  {
    char *s = icaltime_as_ical_string_r (dtstart);

    e->dtstart_local = g_strdup (s);
    free (s);
  }
  e->start = utc_of (dtstart, e->zone.zone);
  if (icaltime_is_utc (icalproperty_get_dtstart (prop)) && !e->all_day) {
    g_free (e->dtstart_local);
    e->dtstart_local = utc_key (e->start, FALSE);
  }

  /* DTEND or DURATION. */
  prop = icalcomponent_get_first_property (ev, ICAL_DTEND_PROPERTY);
  if (prop != NULL) {
    struct icaltimetype t = icalproperty_get_dtend (prop);

    e->end = icaltime_is_null_time (t) ? e->start : prop_time_utc (cal, prop, t, e->zone.zone);
  } else if ((prop = icalcomponent_get_first_property (ev, ICAL_DURATION_PROPERTY)) != NULL) {
    struct icaldurationtype d = icalproperty_get_duration (prop);

    e->end = e->start + icaldurationtype_as_int (d);
  } else {
    e->end = e->start + (e->all_day ? 86400 : 0);
  }
  if (e->end < e->start)
    e->end = e->start;

  /* RECURRENCE-ID. */
  prop = icalcomponent_get_first_property (ev, ICAL_RECURRENCEID_PROPERTY);
  if (prop != NULL) {
    struct icaltimetype t = icalproperty_get_recurrenceid (prop);

    if (icaltime_is_null_time (t)) {
      g_set_error (error, SG_ICAL_ERROR, SG_ICAL_ERROR_BAD_EVENT, "VEVENT %s has an unreadable RECURRENCE-ID",
                   e->uid);
      return NULL;
    }
    e->rid_utc = prop_time_utc (cal, prop, t, e->zone.zone);
    e->rid = utc_key (e->rid_utc, t.is_date);
  } else {
    e->rid = g_strdup ("");
  }

  /* Recurrence, as written (RRULE) and in UTC (RDATE, EXDATE). */
  prop = icalcomponent_get_first_property (ev, ICAL_RRULE_PROPERTY);
  if (prop != NULL && *e->rid == '\0') {
    char *s = icalproperty_get_value_as_string_r (prop);
    struct icalrecurrencetype r;

    icalerror_clear_errno ();
    r = icalrecurrencetype_from_string (s ? s : "");
    free (r.rscale); /* libical 3.0 leaves the RSCALE string to the caller */
    if (s == NULL || r.freq == ICAL_NO_RECURRENCE) {
      g_ptr_array_add (warnings, g_strdup_printf ("VEVENT %s: unreadable RRULE “%s” ignored", e->uid,
                                                  s ? s : ""));
    } else {
      e->rrule = g_strdup (s);
    }
    free (s);
  }
  for (prop = icalcomponent_get_first_property (ev, ICAL_RDATE_PROPERTY); prop && *e->rid == '\0';
       prop = icalcomponent_get_next_property (ev, ICAL_RDATE_PROPERTY)) {
    struct icaldatetimeperiodtype p = icalproperty_get_rdate (prop);
    struct icaltimetype t = icaltime_is_null_time (p.time) ? p.period.start : p.time;
    g_autofree char *k = NULL;

    if (icaltime_is_null_time (t) || e->rdates->len > 100000)
      continue;
    k = utc_key (prop_time_utc (cal, prop, t, e->zone.zone), FALSE);
    g_string_append_printf (e->rdates, "%s%s", e->rdates->len ? " " : "", k);
  }
  for (prop = icalcomponent_get_first_property (ev, ICAL_EXDATE_PROPERTY); prop && *e->rid == '\0';
       prop = icalcomponent_get_next_property (ev, ICAL_EXDATE_PROPERTY)) {
    struct icaltimetype t = icalproperty_get_exdate (prop);
    g_autofree char *k = NULL;
    gint64 u;

    if (icaltime_is_null_time (t) || e->exdates->len > 100000)
      continue;
    /* An all-day EXDATE of a timed series removes that day's instance: it is matched on
     * the series' local start time on that date. */
    if (t.is_date && !e->all_day) {
      struct icaltimetype s = icaltime_from_string (e->dtstart_local);

      s.year = t.year;
      s.month = t.month;
      s.day = t.day;
      s.zone = NULL;
      u = icaltime_is_utc (icaltime_from_string (e->dtstart_local)) ? utc_of (s, NULL) : utc_of (s, e->zone.zone);
    } else {
      u = prop_time_utc (cal, prop, t, e->zone.zone);
    }
    k = utc_key (u, FALSE);
    g_string_append_printf (e->exdates, "%s%s", e->exdates->len ? " " : "", k);
  }

  read_people (ev, e, warnings);
  return g_steal_pointer (&e);
}

/* Organizer and attendees, and what libical dropped. */
static void
read_people (icalcomponent *ev, Event *e, GPtrArray *warnings)
{
  icalproperty *prop;

  prop = icalcomponent_get_first_property (ev, ICAL_ORGANIZER_PROPERTY);
  if (prop != NULL && icalproperty_get_organizer (prop) != NULL) {
    read_who (prop, icalproperty_get_organizer (prop), &e->organizer);
    g_free (e->organizer.partstat);
    e->organizer.partstat = g_strdup ("accepted");
  }
  for (prop = icalcomponent_get_first_property (ev, ICAL_ATTENDEE_PROPERTY); prop;
       prop = icalcomponent_get_next_property (ev, ICAL_ATTENDEE_PROPERTY)) {
    const char *v = icalproperty_get_attendee (prop);
    Who w = { 0 };

    if (v == NULL)
      continue;
    if (e->attendees->len >= SG_ICAL_MAX_ATTENDEES) {
      e->attendees_dropped++;
      continue;
    }
    read_who (prop, v, &w);
    g_array_append_val (e->attendees, w);
  }
  /* What libical could not parse it dropped, leaving an X-LIC-ERROR in its place. */
  {
    guint n = 0;

    for (prop = icalcomponent_get_first_property (ev, ICAL_XLICERROR_PROPERTY); prop && n < 5;
         prop = icalcomponent_get_next_property (ev, ICAL_XLICERROR_PROPERTY), n++) {
      g_autofree char *what = text_value (icalproperty_get_xlicerror (prop), TRUE);

      g_ptr_array_add (warnings, g_strdup_printf ("VEVENT %s: dropped a property libical could not read: %s",
                                                  e->uid, what ? what : "?"));
    }
  }
  if (e->attendees_dropped > 0)
    g_ptr_array_add (warnings, g_strdup_printf ("VEVENT %s: %u attendees over the cap of %d were left out",
                                                e->uid, e->attendees_dropped, SG_ICAL_MAX_ATTENDEES));
}

/* --- the store ------------------------------------------------------------------------- */

typedef struct {
  gint64 id;
  int sequence;
  gint64 dtstamp;
  char *status;
} Existing;

static gboolean
find_meeting (SgStore *store, const char *uid, const char *rid, Existing *out, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "SELECT id, sequence, dtstamp, status FROM meetings WHERE uid = ? AND recurrence_id = ?", error);

  memset (out, 0, sizeof *out);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, uid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, rid, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW) {
    out->id = sqlite3_column_int64 (stmt, 0);
    out->sequence = sqlite3_column_int (stmt, 1);
    out->dtstamp = sqlite3_column_int64 (stmt, 2);
    out->status = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
  }
  sqlite3_reset (stmt);
  return TRUE;
}

/* iTIP order (RFC 5546 2.1.5): a higher SEQUENCE wins; at the same SEQUENCE, a later
 * DTSTAMP. -1 older, 0 the same, 1 newer. */
static int
compare_order (int seq, gint64 stamp, const Existing *ex)
{
  if (seq != ex->sequence)
    return seq < ex->sequence ? -1 : 1;
  if (stamp != ex->dtstamp)
    return stamp < ex->dtstamp ? -1 : 1;
  return 0;
}

static char *
natural_key (const char *uid, const char *rid)
{
  return *rid ? g_strdup_printf ("%s/%s", uid, rid) : g_strdup (uid);
}

/* The change-log op of a meeting row: every shared field, never the description. */
static gboolean
log_meeting (SgStore *store, gint64 id, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *fields = NULL;
  g_autofree char *key = NULL;
  static const char *const names[] = { "uid", "recurrence_id", "summary", "location", "start", "end",
                                       "all_day", "tzid", "tz", "rrule", "rdates", "exdates", "status",
                                       "sequence", "dtstamp", "method", "organizer" };
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "SELECT m.uid, m.recurrence_id, m.summary, m.location, m.start_utc, m.end_utc, m.all_day, m.tzid, "
      "m.tz, m.rrule, m.rdates, m.exdates, m.status, m.sequence, m.dtstamp, m.method, a.address "
      "FROM meetings m LEFT JOIN addresses a ON a.id = m.organizer_id WHERE m.id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  if (sqlite3_step (stmt) != SQLITE_ROW) {
    sqlite3_reset (stmt);
    return TRUE;
  }
  json_builder_begin_object (b);
  for (int i = 0; i < (int) G_N_ELEMENTS (names); i++) {
    json_builder_set_member_name (b, names[i]);
    if (sqlite3_column_type (stmt, i) == SQLITE_NULL)
      json_builder_add_null_value (b);
    else if (sqlite3_column_type (stmt, i) == SQLITE_INTEGER)
      json_builder_add_int_value (b, sqlite3_column_int64 (stmt, i));
    else
      json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, i));
  }
  key = natural_key ((const char *) sqlite3_column_text (stmt, 0), (const char *) sqlite3_column_text (stmt, 1));
  sqlite3_reset (stmt);
  stmt = _sg_store_prepare (store,
      "SELECT a.address, ma.role, ma.partstat FROM meeting_attendees ma JOIN addresses a ON a.id = ma.address_id "
      "WHERE ma.meeting_id = ? ORDER BY a.address", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  json_builder_set_member_name (b, "attendees");
  json_builder_begin_array (b);
  while (sqlite3_step (stmt) == SQLITE_ROW) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "address");
    json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 0));
    json_builder_set_member_name (b, "role");
    json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 1));
    json_builder_set_member_name (b, "partstat");
    json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 2));
    json_builder_end_object (b);
  }
  sqlite3_reset (stmt);
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  fields = json_to_string (root, FALSE);
  return _sg_store_log_change (store, "meeting", key, "upsert", fields, error);
}

/* The interaction of a meeting row (kind 'meeting'), so timelines show it: its date is the
 * start, its subject the summary, its participants the organizer and attendees. */
static gboolean
sync_interaction (SgImporter *imp, gint64 meeting_id, GError **error)
{
  SgStore *store = _sg_importer_get_store (imp);
  SgIdentity *identity = _sg_importer_get_identity (imp);
  sqlite3 *db = _sg_store_get_db (store);
  sqlite3_stmt *stmt;
  g_autofree char *uid = NULL, *rid = NULL, *summary = NULL, *key = NULL, *where = NULL;
  gint64 start = 0, source_id = 0, interaction_id = 0;
  gboolean out = FALSE, internal = TRUE, any = FALSE, created;

  stmt = _sg_store_prepare (store,
      "SELECT m.uid, m.recurrence_id, m.summary, m.start_utc, coalesce(m.source_id, 0), m.location_ref, "
      "a.address FROM meetings m LEFT JOIN addresses a ON a.id = m.organizer_id WHERE m.id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, meeting_id);
  if (sqlite3_step (stmt) != SQLITE_ROW) {
    sqlite3_reset (stmt);
    return TRUE;
  }
  uid = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  rid = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  summary = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  start = sqlite3_column_int64 (stmt, 3);
  source_id = sqlite3_column_int64 (stmt, 4);
  where = g_strdup ((const char *) sqlite3_column_text (stmt, 5));
  if (sqlite3_column_type (stmt, 6) != SQLITE_NULL)
    out = sg_identity_is_self (identity, (const char *) sqlite3_column_text (stmt, 6));
  sqlite3_reset (stmt);

  stmt = _sg_store_prepare (store,
      "SELECT a.address FROM meeting_attendees ma JOIN addresses a ON a.id = ma.address_id WHERE ma.meeting_id = ?",
      error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, meeting_id);
  while (sqlite3_step (stmt) == SQLITE_ROW) {
    any = TRUE;
    if (!sg_identity_is_internal (identity, (const char *) sqlite3_column_text (stmt, 0)))
      internal = FALSE;
  }
  sqlite3_reset (stmt);

  /* The natural key of the interaction: "ical:" and the meeting's key (a Message-ID never
   * starts so, having no ':' before its '@'... and if one did, it would still be unique
   * among meetings). */
  key = g_strdup_printf ("ical:%s%s%s", uid, *rid ? "/" : "", rid);
  stmt = _sg_store_prepare (store, "SELECT id FROM interactions WHERE message_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    interaction_id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  created = interaction_id == 0;
  stmt = _sg_store_prepare (store,
      "INSERT INTO interactions (message_id, kind, direction, internal, bulk, date_utc, tz_offset, subject, "
      "source_id, location, created_at) VALUES (?1, 'meeting', ?2, ?3, 0, ?4, 0, ?5, ?6, ?7, ?8) "
      "ON CONFLICT (message_id) DO UPDATE SET direction = ?2, internal = ?3, date_utc = ?4, subject = ?5", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, out ? "out" : "in", -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 3, any && internal);
  sqlite3_bind_int64 (stmt, 4, start);
  sqlite3_bind_text (stmt, 5, summary, -1, SQLITE_STATIC);
  if (source_id > 0)
    sqlite3_bind_int64 (stmt, 6, source_id);
  sqlite3_bind_text (stmt, 7, where, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 8, g_get_real_time () / G_USEC_PER_SEC);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return FALSE;
  if (created)
    interaction_id = sqlite3_last_insert_rowid (db);

  /* The participants become the attendees. Only those who left are deleted and only new
   * ones inserted: a deleted participant marks its person and organisation for a summary
   * recompute from all their history (0008-summary.sql), which a meeting read again with
   * the same attendees (every REPLY, every update) must not cost. */
  stmt = _sg_store_prepare (store,
      "DELETE FROM participants WHERE interaction_id = ?1 AND NOT EXISTS (SELECT 1 FROM meeting_attendees ma "
      "WHERE ma.meeting_id = ?2 AND ma.address_id = participants.address_id AND ma.role = participants.role)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, interaction_id);
  sqlite3_bind_int64 (stmt, 2, meeting_id);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return FALSE;
  stmt = _sg_store_prepare (store,
      "INSERT INTO participants (interaction_id, address_id, role, display_name) "
      "SELECT ?1, address_id, role, display_name FROM meeting_attendees WHERE meeting_id = ?2 AND true "
      "ON CONFLICT (interaction_id, address_id, role) DO UPDATE SET display_name = excluded.display_name "
      "WHERE display_name IS NOT excluded.display_name", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, interaction_id);
  sqlite3_bind_int64 (stmt, 2, meeting_id);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return FALSE;
  stmt = _sg_store_prepare (store, "UPDATE meetings SET interaction_id = ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, interaction_id);
  sqlite3_bind_int64 (stmt, 2, meeting_id);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return FALSE;
  /* The interaction is logged once, when made: like mail, it is serialised from its rows
   * at push time, and every change of the meeting is in the meeting's own ops. */
  return !created || _sg_store_log_change (store, "interaction", key, "upsert", "{}", error);
}

/* The date a meeting counts as contact with its people: its start, unless that is still
 * to come (then the invitation's time). */
static gint64
contact_date (const Event *e)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (e->start <= now)
    return e->start;
  return e->dtstamp > 0 && e->dtstamp < now ? e->dtstamp : now;
}

static gboolean
add_attendee (SgImporter *imp, gint64 meeting_id, const Who *w, const char *role, gint64 date,
              gint64 stamp, gboolean *changed, GError **error)
{
  SgStore *store = _sg_importer_get_store (imp);
  sqlite3_stmt *stmt;
  gint64 address_id = 0;

  if (!_sg_importer_resolve_address (imp, w->address, w->name, date, &address_id, NULL, NULL, error))
    return FALSE;
  if (address_id == 0)
    return TRUE; /* not a mail address (a URN, a phone number): nobody to link */
  if (changed != NULL) {
    /* An answer (REPLY) changes something only when it is newer than the one stored, or
     * says something else at the same time: the same REPLY read twice is no change. */
    stmt = _sg_store_prepare (store,
        "SELECT partstat, partstat_stamp FROM meeting_attendees WHERE meeting_id = ? AND address_id = ?", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, meeting_id);
    sqlite3_bind_int64 (stmt, 2, address_id);
    *changed = TRUE;
    if (sqlite3_step (stmt) == SQLITE_ROW) {
      gint64 old = sqlite3_column_int64 (stmt, 1);

      *changed = stamp > old || (stamp == old && g_strcmp0 ((const char *) sqlite3_column_text (stmt, 0),
                                                            w->partstat) != 0);
    }
    sqlite3_reset (stmt);
    if (!*changed)
      return TRUE;
  }
  /* The organizer listed again as an attendee stays the organizer. */
  stmt = _sg_store_prepare (store,
      "INSERT INTO meeting_attendees (meeting_id, address_id, role, partstat, partstat_stamp, display_name) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (meeting_id, address_id) DO UPDATE SET "
      "partstat = CASE WHEN partstat_stamp > ?5 THEN partstat ELSE ?4 END, "
      "partstat_stamp = max(partstat_stamp, ?5), display_name = coalesce(?6, display_name)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, meeting_id);
  sqlite3_bind_int64 (stmt, 2, address_id);
  sqlite3_bind_text (stmt, 3, role, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, w->partstat, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, stamp);
  sqlite3_bind_text (stmt, 6, w->name, -1, SQLITE_STATIC);
  return _sg_store_exec_stmt (store, stmt, error);
}

/* Writes @e over the row (uid, rid), or a new row. Attendees' answers received later than
 * @e (a REPLY with a newer DTSTAMP) are kept. */
static gboolean
store_event (SgImporter *imp, const Event *e, const char *status, const char *method, gint64 existing_id,
             gint64 source_id, const char *location, gint64 *out_id, GError **error)
{
  SgStore *store = _sg_importer_get_store (imp);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC, id = existing_id, organizer_id = 0, date = contact_date (e);
  sqlite3_stmt *stmt;

  if (e->organizer.address != NULL &&
      !_sg_importer_resolve_address (imp, e->organizer.address, e->organizer.name, date, &organizer_id, NULL,
                                     NULL, error))
    return FALSE;
  stmt = _sg_store_prepare (store,
      "INSERT INTO meetings (uid, recurrence_id, recurrence_utc, summary, description, location, start_utc, "
      "end_utc, all_day, tzid, tz, vtimezone, dtstart_local, rrule, rdates, exdates, status, sequence, dtstamp, "
      "method, organizer_id, source_id, location_ref, created_at, updated_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
      "?22, ?23, ?24, ?24) ON CONFLICT (uid, recurrence_id) DO UPDATE SET recurrence_utc = ?3, summary = ?4, "
      "description = ?5, location = ?6, start_utc = ?7, end_utc = ?8, all_day = ?9, tzid = ?10, tz = ?11, "
      "vtimezone = ?12, dtstart_local = ?13, rrule = ?14, rdates = ?15, exdates = ?16, status = ?17, "
      "sequence = ?18, dtstamp = ?19, method = ?20, organizer_id = ?21, source_id = coalesce(?22, source_id), "
      "location_ref = ?23, updated_at = ?24", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, e->uid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, e->rid, -1, SQLITE_STATIC);
  if (*e->rid)
    sqlite3_bind_int64 (stmt, 3, e->rid_utc);
  sqlite3_bind_text (stmt, 4, e->summary, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, e->description, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, e->location, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 7, e->start);
  sqlite3_bind_int64 (stmt, 8, e->end);
  sqlite3_bind_int (stmt, 9, e->all_day);
  sqlite3_bind_text (stmt, 10, e->tzid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 11, e->zone.tz, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 12, e->zone.vtimezone, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 13, e->dtstart_local, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 14, e->rrule, -1, SQLITE_STATIC);
  if (e->rdates->len)
    sqlite3_bind_text (stmt, 15, e->rdates->str, -1, SQLITE_STATIC);
  if (e->exdates->len)
    sqlite3_bind_text (stmt, 16, e->exdates->str, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 17, status, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 18, e->sequence);
  sqlite3_bind_int64 (stmt, 19, e->dtstamp);
  sqlite3_bind_text (stmt, 20, method, -1, SQLITE_STATIC);
  if (organizer_id > 0)
    sqlite3_bind_int64 (stmt, 21, organizer_id);
  if (source_id > 0)
    sqlite3_bind_int64 (stmt, 22, source_id);
  sqlite3_bind_text (stmt, 23, location, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 24, now);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return FALSE;
  if (id == 0)
    id = sqlite3_last_insert_rowid (_sg_store_get_db (store));

  /* Attendees: the new list replaces the old one (someone removed from the invitation is
   * no longer invited), keeping answers newer than this version. */
  stmt = _sg_store_prepare (store,
      "DELETE FROM meeting_attendees WHERE meeting_id = ? AND partstat_stamp <= ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, e->dtstamp);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return FALSE;
  if (e->organizer.address != NULL && !add_attendee (imp, id, &e->organizer, "organizer", date, e->dtstamp, NULL, error))
    return FALSE;
  for (guint i = 0; i < e->attendees->len; i++) {
    const Who *w = &g_array_index (e->attendees, Who, i);

    if (e->organizer.address && g_ascii_strcasecmp (w->address, e->organizer.address) == 0)
      continue;
    if (!add_attendee (imp, id, w, "attendee", date, e->dtstamp, NULL, error))
      return FALSE;
  }
  *out_id = id;
  return TRUE;
}

static gboolean
finish_row (SgImporter *imp, gint64 id, GError **error)
{
  return sync_interaction (imp, id, error) && log_meeting (_sg_importer_get_store (imp), id, error);
}

static gboolean
set_status (SgStore *store, gint64 id, const char *status, int sequence, gint64 dtstamp, const char *method,
            GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store,
      "UPDATE meetings SET status = ?, sequence = ?, dtstamp = ?, method = ?, updated_at = ? WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, status, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 2, sequence);
  sqlite3_bind_int64 (stmt, 3, dtstamp);
  sqlite3_bind_text (stmt, 4, method, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, g_get_real_time () / G_USEC_PER_SEC);
  sqlite3_bind_int64 (stmt, 6, id);
  return _sg_store_exec_stmt (store, stmt, error);
}

/* CANCEL: the row (or, for the series, every row of the UID) is cancelled. A CANCEL for a
 * meeting not seen yet is stored, cancelled, so that an older REQUEST arriving later does
 * not bring it back. */
static gboolean
apply_cancel (SgImporter *imp, const Event *e, const Existing *ex, gint64 source_id, const char *location,
              GError **error)
{
  SgStore *store = _sg_importer_get_store (imp);
  gint64 id = ex->id;

  if (id == 0) {
    if (!store_event (imp, e, "cancelled", "CANCEL", 0, source_id, location, &id, error))
      return FALSE;
  } else if (!set_status (store, id, "cancelled", e->sequence, e->dtstamp, "CANCEL", error)) {
    return FALSE;
  }
  if (!finish_row (imp, id, error))
    return FALSE;
  if (*e->rid == '\0') {
    g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
    sqlite3_stmt *stmt = _sg_store_prepare (store,
        "SELECT id FROM meetings WHERE uid = ? AND recurrence_id != '' AND status != 'cancelled'", error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_text (stmt, 1, e->uid, -1, SQLITE_STATIC);
    while (sqlite3_step (stmt) == SQLITE_ROW) {
      gint64 o = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (ids, o);
    }
    sqlite3_reset (stmt);
    for (guint i = 0; i < ids->len; i++) {
      gint64 o = g_array_index (ids, gint64, i);

      stmt = _sg_store_prepare (store, "UPDATE meetings SET status = 'cancelled' WHERE id = ?", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, o);
      if (!_sg_store_exec_stmt (store, stmt, error) || !log_meeting (store, o, error))
        return FALSE;
    }
  }
  return TRUE;
}

/* REPLY: each attendee in it answers; an answer older than the one stored is ignored. */
static gboolean
apply_reply (SgImporter *imp, const Event *e, const Existing *ex, GError **error)
{
  SgStore *store = _sg_importer_get_store (imp);
  gint64 id = ex->id;
  Existing series = { 0 };
  gboolean any = FALSE;

  if (id == 0 && *e->rid) {
    /* An answer for one instance of a series we hold only as a series: it goes to the series. */
    if (!find_meeting (store, e->uid, "", &series, error))
      return FALSE;
    id = series.id;
    g_free (series.status);
  }
  if (id == 0) {
    _sg_importer_stats (imp)->meetings_stale++;
    return TRUE;
  }
  for (guint i = 0; i < e->attendees->len; i++) {
    const Who *w = &g_array_index (e->attendees, Who, i);
    gboolean one = FALSE;

    if (!add_attendee (imp, id, w, "attendee", contact_date (e), MAX (e->dtstamp, 1), &one, error))
      return FALSE;
    any |= one;
  }
  if (!any) {
    _sg_importer_stats (imp)->meetings_stale++;
    return TRUE;
  }
  _sg_importer_stats (imp)->meetings++;
  return finish_row (imp, id, error);
}

static gboolean
apply_event (SgImporter *imp, icalproperty_method method, const Event *e, gint64 source_id, const char *location,
             gboolean authoritative, GError **error)
{
  SgStore *store = _sg_importer_get_store (imp);
  SgImportStats *stats = _sg_importer_stats (imp);
  Existing ex;
  gboolean ok = TRUE;
  int order;

  if (!find_meeting (store, e->uid, e->rid, &ex, error))
    return FALSE;
  order = ex.id ? compare_order (e->sequence, e->dtstamp, &ex) : 1;
  /* A calendar server's copy is the meeting as it stands now, whatever its SEQUENCE and
   * DTSTAMP (a client may edit without raising either): it replaces the row. The caller
   * imports only objects whose ETag changed. */
  if (authoritative) {
    order = 1;
    method = ICAL_METHOD_NONE;
  }
  switch (method) {
  case ICAL_METHOD_REPLY:
    ok = apply_reply (imp, e, &ex, error);
    break;
  case ICAL_METHOD_CANCEL:
    if (order < 0 || (order == 0 && g_strcmp0 (ex.status, "cancelled") == 0)) {
      stats->meetings_stale++;
      break;
    }
    ok = apply_cancel (imp, e, &ex, source_id, location, error);
    if (ok)
      stats->meetings++;
    break;
  case ICAL_METHOD_COUNTER:
  case ICAL_METHOD_REFRESH:
  case ICAL_METHOD_DECLINECOUNTER:
    /* A counter-proposal or a request for the latest version changes nothing: the meeting
     * moves only when its organizer sends the new version (a REQUEST). */
    break;
  default: {
    /* REQUEST, PUBLISH, ADD, or a plain calendar file. An older version, or the same one
     * again, is not applied; a STATUS:CANCELLED in it cancels like a CANCEL. */
    gint64 id = 0;

    if (order <= 0) {
      if (order < 0)
        stats->meetings_stale++;
      break;
    }
    if (strcmp (e->status, "cancelled") == 0) {
      ok = apply_cancel (imp, e, &ex, source_id, location, error);
    } else {
      const char *m = method == ICAL_METHOD_NONE ? NULL : icalproperty_method_to_string (method);

      ok = store_event (imp, e, e->status, m, ex.id, source_id, location, &id, error) && finish_row (imp, id, error);
    }
    if (ok)
      stats->meetings++;
    break;
  }
  }
  g_free (ex.status);
  return ok;
}

static gboolean
report (SgImporter *imp, gint64 source_id, const char *location, GQuark domain, int code, const char *fmt, ...)
  G_GNUC_PRINTF (6, 7);

static gboolean
report (SgImporter *imp, gint64 source_id, const char *location, GQuark domain, int code, const char *fmt, ...)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  err = g_error_new_literal (domain, code, msg);
  _sg_importer_problem (imp, source_id, location, err);
  return TRUE;
}

/* TRUE when the text ends with END:VCALENDAR (white space aside). */
static gboolean
ends_properly (const char *data, gsize len)
{
  static const char end[] = "END:VCALENDAR";

  while (len > 0 && g_ascii_isspace (data[len - 1]))
    len--;
  return len >= sizeof end - 1 && g_ascii_strncasecmp (data + len - (sizeof end - 1), end, sizeof end - 1) == 0;
}

gboolean
_sg_ical_import_data (SgImporter *imp, const char *data, gsize len, gint64 source_id, const char *location,
                      GError **error)
{
  return _sg_ical_import_object (imp, data, len, source_id, location, NULL, error);
}

/* Deletes the meeting row @id: its interaction (and that interaction's tags), its
 * attendees, the row, each with a logged delete op. */
static gboolean
delete_row (SgStore *store, gint64 id, const char *uid, const char *rid, GError **error)
{
  g_autofree char *key = natural_key (uid, rid);
  g_autofree char *ikey = g_strdup_printf ("ical:%s", key);
  gint64 interaction_id = 0;
  sqlite3_stmt *stmt = _sg_store_prepare (store, "SELECT id FROM interactions WHERE message_id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, ikey, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    interaction_id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  stmt = _sg_store_prepare (store, "DELETE FROM meetings WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  if (!_sg_store_exec_stmt (store, stmt, error) || !_sg_store_log_change (store, "meeting", key, "delete", "{}", error))
    return FALSE;
  if (interaction_id == 0)
    return TRUE;
  stmt = _sg_store_prepare (store,
      "DELETE FROM tag_assignments WHERE entity_type = 'interaction' AND entity_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, interaction_id);
  if (!_sg_store_exec_stmt (store, stmt, error))
    return FALSE;
  stmt = _sg_store_prepare (store, "DELETE FROM interactions WHERE id = ? AND kind = 'meeting'", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, interaction_id);
  return _sg_store_exec_stmt (store, stmt, error) &&
         _sg_store_log_change (store, "interaction", ikey, "delete", "{}", error);
}

/* Deletes the rows of @uid whose natural key is not in @keep (NULL: every row). */
static gboolean
delete_uid_rows (SgStore *store, const char *uid, GHashTable *keep, guint *deleted, GError **error)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  sqlite3_stmt *stmt = _sg_store_prepare (store, "SELECT id, recurrence_id FROM meetings WHERE uid = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, uid, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW) {
    const char *rid = (const char *) sqlite3_column_text (stmt, 1);
    g_autofree char *key = natural_key (uid, rid);
    gint64 id = sqlite3_column_int64 (stmt, 0);

    if (keep != NULL && g_hash_table_contains (keep, key))
      continue;
    g_array_append_val (ids, id);
    g_ptr_array_add (rows, g_strdup (rid));
  }
  sqlite3_reset (stmt);
  for (guint i = 0; i < ids->len; i++)
    if (!delete_row (store, g_array_index (ids, gint64, i), uid, rows->pdata[i], error))
      return FALSE;
  if (deleted)
    *deleted += ids->len;
  return TRUE;
}

gboolean
_sg_ical_delete_uid (SgImporter *imp, const char *uid, guint *deleted, GError **error)
{
  if (!_sg_importer_begin (imp, error))
    return FALSE;
  return delete_uid_rows (_sg_importer_get_store (imp), uid, NULL, deleted, error);
}

gboolean
_sg_ical_import_object (SgImporter *imp, const char *data, gsize len, gint64 source_id, const char *location,
                        GPtrArray *uids, GError **error)
{
  g_autoptr (GHashTable) seen = uids ? g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL) : NULL;
  g_autofree char *text = NULL;
  g_autoptr (GPtrArray) cals = g_ptr_array_new ();
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  icalcomponent *root;
  guint events = 0;

  ical_init ();
  if (!_sg_importer_begin (imp, error))
    return FALSE;
  if (len > SG_ICAL_MAX_SIZE)
    return report (imp, source_id, location, SG_ICAL_ERROR, SG_ICAL_ERROR_TOO_LARGE,
                   "calendar of %" G_GSIZE_FORMAT " bytes is over the cap of %" G_GSIZE_FORMAT, len,
                   SG_ICAL_MAX_SIZE);
  if (len >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0) {
    data += 3;
    len -= 3;
  }
  /* libical reads a NUL-terminated string: a NUL inside ends the text there. */
  text = g_strndup (data, len);
  len = strlen (text);
  /* A bare VEVENT (some tools export one without its VCALENDAR) is wrapped in one. */
  if (g_ascii_strncasecmp (text + strspn (text, " \t\r\n"), "BEGIN:VEVENT", 12) == 0) {
    char *wrapped = g_strconcat ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", text + strspn (text, " \t\r\n"),
                                 "\r\nEND:VCALENDAR\r\n", NULL);
    gsize end = len;

    while (end > 0 && g_ascii_isspace (text[end - 1]))
      end--;
    if (end < 10 || g_ascii_strncasecmp (text + end - 10, "END:VEVENT", 10) != 0) {
      g_free (wrapped);
      return report (imp, source_id, location, SG_ICAL_ERROR, SG_ICAL_ERROR_TRUNCATED,
                     "truncated iCalendar (no END:VEVENT at the end); nothing of it was stored");
    }
    g_free (text);
    text = wrapped;
    len = strlen (text);
  }
  if (g_ascii_strncasecmp (text + strspn (text, " \t\r\n"), "BEGIN:VCALENDAR", 15) != 0)
    return report (imp, source_id, location, SG_ICAL_ERROR, SG_ICAL_ERROR_PARSE,
                   "not iCalendar (does not begin with BEGIN:VCALENDAR or BEGIN:VEVENT)");
  if (!ends_properly (text, len))
    return report (imp, source_id, location, SG_ICAL_ERROR, SG_ICAL_ERROR_TRUNCATED,
                   "truncated iCalendar (no END:VCALENDAR at the end); nothing of it was stored");
  root = icalparser_parse_string (text);
  if (root == NULL)
    return report (imp, source_id, location, SG_ICAL_ERROR, SG_ICAL_ERROR_PARSE, "unparsable iCalendar");
  if (icalcomponent_isa (root) == ICAL_VCALENDAR_COMPONENT) {
    g_ptr_array_add (cals, root);
  } else {
    for (icalcomponent *c = icalcomponent_get_first_component (root, ICAL_VCALENDAR_COMPONENT); c;
         c = icalcomponent_get_next_component (root, ICAL_VCALENDAR_COMPONENT))
      g_ptr_array_add (cals, c);
  }

  for (guint k = 0; k < cals->len; k++) {
    icalcomponent *cal = cals->pdata[k];
    icalproperty_method method = icalcomponent_get_method (cal);
    g_autoptr (GPtrArray) evs = g_ptr_array_new ();

    /* The VEVENTs are read before any is applied: libical's iteration state lives in the
     * component, and applying reads the calendar's VTIMEZONEs. */
    for (icalcomponent *ev = icalcomponent_get_first_component (cal, ICAL_VEVENT_COMPONENT); ev;
         ev = icalcomponent_get_next_component (cal, ICAL_VEVENT_COMPONENT))
      g_ptr_array_add (evs, ev);
    for (guint i = 0; i < evs->len; i++) {
      g_autoptr (GError) bad = NULL;
      gboolean needs_start = method != ICAL_METHOD_REPLY && method != ICAL_METHOD_CANCEL &&
                             method != ICAL_METHOD_REFRESH && method != ICAL_METHOD_COUNTER &&
                             method != ICAL_METHOD_DECLINECOUNTER;
      g_autoptr (Event) e = read_event (cal, evs->pdata[i], needs_start, _sg_importer_get_floating_tz (imp),
                                        warnings, &bad);

      events++;
      if (e == NULL) {
        report (imp, source_id, location, bad->domain, bad->code, "%s", bad->message);
        continue;
      }
      if (!apply_event (imp, method, e, source_id, location, uids != NULL, error)) {
        icalcomponent_free (root);
        return FALSE;
      }
      if (seen != NULL) {
        if (!g_ptr_array_find_with_equal_func (uids, e->uid, g_str_equal, NULL))
          g_ptr_array_add (uids, g_strdup (e->uid));
        g_hash_table_add (seen, natural_key (e->uid, e->rid));
      }
    }
  }
  icalcomponent_free (root);
  for (guint i = 0; i < warnings->len; i++) {
    const char *w = warnings->pdata[i];
    g_autoptr (GError) err = g_error_new_literal (SG_ICAL_ERROR, SG_ICAL_ERROR_FLAWED, w);

    _sg_importer_warning (imp, source_id, location, err);
  }
  if (events == 0)
    return report (imp, source_id, location, SG_ICAL_ERROR, SG_ICAL_ERROR_NO_EVENTS,
                   "no VEVENT in the calendar (nothing that is a meeting)");
  /* The object is the whole of each UID it holds: an overridden instance no longer in it
   * is gone from the server. */
  for (guint i = 0; uids != NULL && i < uids->len; i++)
    if (!delete_uid_rows (_sg_importer_get_store (imp), uids->pdata[i], seen, NULL, error))
      return FALSE;
  /* No commit here: inside a mail message's import the batch must stay open until the
   * whole message (and its maildir_seen row) is written. Callers count and commit. */
  return TRUE;
}

/* --- files and folders ----------------------------------------------------------------- */

gboolean
_sg_ical_is_ics_file (const char *path)
{
  char head[32] = { 0 };
  ssize_t got;
  int fd;
  gsize skip = 0;

  if (g_str_has_suffix (path, ".ics") || g_str_has_suffix (path, ".ICS") || g_str_has_suffix (path, ".ifb"))
    return TRUE;
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return FALSE;
  got = read (fd, head, sizeof head - 1);
  close (fd);
  if (got <= 0)
    return FALSE;
  if (got >= 3 && memcmp (head, "\xef\xbb\xbf", 3) == 0)
    skip = 3;
  return g_ascii_strncasecmp (head + skip, "BEGIN:VCALENDAR", 15) == 0;
}

gboolean
_sg_ical_import_file (SgImporter *imp, const char *path, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *canon = NULL;
  g_autofree char *data = NULL;
  gint64 source_id;
  gsize len = 0;
  struct stat st;

  {
    g_autofree char *abs = g_canonicalize_filename (path, NULL);
    char *real = realpath (abs, NULL);

    canon = real ? g_strdup (real) : g_steal_pointer (&abs);
    free (real);
  }
  source_id = _sg_importer_ensure_source (imp, "file", canon, error);
  if (source_id == 0)
    return FALSE;
  if (stat (path, &st) == 0 && (guint64) st.st_size > SG_ICAL_MAX_SIZE)
    return report (imp, source_id, canon, SG_ICAL_ERROR, SG_ICAL_ERROR_TOO_LARGE,
                   "calendar of %lld bytes is over the cap of %" G_GSIZE_FORMAT, (long long) st.st_size,
                   SG_ICAL_MAX_SIZE);
  if (!g_file_get_contents (path, &data, &len, &local)) {
    _sg_importer_problem (imp, source_id, canon, local);
    return TRUE;
  }
  return _sg_ical_import_data (imp, data, len, source_id, canon, error) && _sg_importer_done_one (imp, error);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static gboolean
import_dir (SgImporter *imp, const char *path, int depth, GCancellable *cancellable, guint *found, GError **error)
{
  g_autoptr (GDir) d = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *n;

  if (depth > MAX_ICS_DEPTH)
    return TRUE;
  d = g_dir_open (path, 0, NULL);
  while (d && (n = g_dir_read_name (d)) != NULL)
    if (n[0] != '.')
      g_ptr_array_add (names, g_strdup (n));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *child = g_build_filename (path, names->pdata[i], NULL);

    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return FALSE;
    if (g_file_test (child, G_FILE_TEST_IS_SYMLINK))
      continue;
    if (g_file_test (child, G_FILE_TEST_IS_DIR)) {
      if (!import_dir (imp, child, depth + 1, cancellable, found, error))
        return FALSE;
    } else if (g_str_has_suffix (child, ".ics") || g_str_has_suffix (child, ".ICS")) {
      (*found)++;
      if (!_sg_ical_import_file (imp, child, error))
        return FALSE;
    }
  }
  return TRUE;
}

gboolean
_sg_ical_import_dir (SgImporter *imp, const char *path, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local = NULL;
  guint found = 0;

  if (!import_dir (imp, path, 0, cancellable, &found, &local)) {
    if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      sg_importer_flush (imp, NULL);
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  if (found == 0) {
    g_set_error (error, SG_IMPORT_ERROR, SG_IMPORT_ERROR_UNSUPPORTED,
                 "%s: neither a Maildir (no cur/ or new/ folder in it or below it) nor a folder of .ics files",
                 path);
    return FALSE;
  }
  return sg_importer_flush (imp, error);
}

gboolean
sg_importer_import_calendar (SgImporter *importer, const char *data, gsize len, const char *location,
                             GError **error)
{
  g_return_val_if_fail (importer != NULL && (data != NULL || len == 0) && location != NULL, FALSE);
  if (!_sg_importer_begin (importer, error))
    return FALSE;
  if (!_sg_ical_import_data (importer, data ? data : "", len, 0, location, error)) {
    _sg_importer_abandon (importer);
    return FALSE;
  }
  return sg_importer_flush (importer, error);
}
