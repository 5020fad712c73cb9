-- SalesGetter local store, migration: meetings (iCalendar, iTIP) and tagging rules.
-- Written on the `meetings` branch; the integrator renumbers it at merge.

-- One row per VEVENT as the store last accepted it, keyed by UID and RECURRENCE-ID: the
-- series (or single meeting) has recurrence_id '' and carries the recurrence rules;
-- an overridden instance is a row of its own with the instance's RECURRENCE-ID in UTC
-- ('20260319T080000Z', or '20260319' for an all-day series).
CREATE TABLE meetings (
  id             INTEGER PRIMARY KEY,
  uid            TEXT NOT NULL,
  recurrence_id  TEXT NOT NULL DEFAULT '',
  recurrence_utc INTEGER,                    -- the RECURRENCE-ID as Unix seconds (overrides)
  interaction_id INTEGER REFERENCES interactions(id) ON DELETE SET NULL,
  summary        TEXT,
  description    TEXT,                       -- local only: never in the change log
  location       TEXT,
  start_utc      INTEGER NOT NULL,
  end_utc        INTEGER NOT NULL,
  all_day        INTEGER NOT NULL DEFAULT 0, -- all-day: start/end are dates at 00:00 UTC
  tzid           TEXT,                       -- the TZID as written (NULL: UTC or floating)
  tz             TEXT,                       -- the Olson zone it resolved to (NULL: UTC)
  vtimezone      TEXT,                       -- the file's VTIMEZONE when no Olson zone fits
  dtstart_local  TEXT,                       -- DTSTART in its own zone, for expansion
  rrule          TEXT,                       -- RRULE as written
  rdates         TEXT,                       -- RDATEs, UTC, space-separated
  exdates        TEXT,                       -- EXDATEs, UTC, space-separated
  status         TEXT NOT NULL DEFAULT 'confirmed', -- tentative, confirmed, cancelled
  sequence       INTEGER NOT NULL DEFAULT 0,
  dtstamp        INTEGER NOT NULL DEFAULT 0,
  method         TEXT,                       -- the iTIP METHOD last applied (NULL: a plain file)
  organizer_id   INTEGER REFERENCES addresses(id),
  source_id      INTEGER REFERENCES sources(id) ON DELETE SET NULL,
  location_ref   TEXT,                       -- where it came from (file, message)
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  UNIQUE (uid, recurrence_id)
);
CREATE INDEX meetings_start ON meetings(start_utc);
CREATE INDEX meetings_interaction ON meetings(interaction_id);

-- Organizer and attendees of a meeting row, linked to addresses (and so to people and
-- organisations) by the same identity rules as mail participants.
CREATE TABLE meeting_attendees (
  meeting_id     INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
  address_id     INTEGER NOT NULL REFERENCES addresses(id),
  role           TEXT NOT NULL,              -- organizer, attendee
  partstat       TEXT NOT NULL DEFAULT 'needs-action',
  partstat_stamp INTEGER NOT NULL DEFAULT 0, -- DTSTAMP of the REPLY that set partstat
  display_name   TEXT,
  PRIMARY KEY (meeting_id, address_id)
) WITHOUT ROWID;
CREATE INDEX meeting_attendees_address ON meeting_attendees(address_id);
