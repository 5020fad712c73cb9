-- SalesGetter local store, migration: the CalDAV source (issue 3).
-- Written on the `caldav` branch; the integrator renumbers it at merge.

-- sources.kind gains 'caldav'. 0001 has a CHECK on the kind; SQLite cannot alter a CHECK,
-- and rebuilding `sources` inside the migration's transaction (foreign keys on) would run
-- the ON DELETE actions of every table that references it. A CHECK that allows one more
-- value is valid for every row already stored, so the table's SQL text is edited in place:
-- the procedure SQLite documents for changing constraints ("Making Other Kinds Of Table
-- Schema Changes", lang_altertable.html), RESET reloading the schema.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
  SET sql = replace(sql, '''file'', ''imap'')', '''file'', ''imap'', ''caldav'')')
  WHERE type = 'table' AND name = 'sources' AND sql NOT LIKE '%''caldav''%';
PRAGMA writable_schema = RESET;

-- One row per calendar collection of a CalDAV account (sources.kind = 'caldav', one source
-- per account). sync_token: the RFC 6578 token of the last sync-collection (NULL: none
-- yet, or the server has none); ctag: the CalendarServer getctag seen at the last sync.
CREATE TABLE caldav_calendars (
  source_id    INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  href         TEXT NOT NULL,                -- the collection's path on the server
  display_name TEXT,
  sync_token   TEXT,
  ctag         TEXT,
  objects      INTEGER NOT NULL DEFAULT 0,   -- calendar objects stored from it
  last_sync    INTEGER,
  PRIMARY KEY (source_id, href)
) WITHOUT ROWID;

-- One row per calendar object resource (an .ics on the server) stored: its ETag when it was
-- stored, and the UIDs it held (space-separated; a UID never holds a space in practice, and
-- one that did would only be missed by deletion), so that a resource removed from the
-- server removes its meetings.
CREATE TABLE caldav_objects (
  source_id    INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  calendar     TEXT NOT NULL,                -- caldav_calendars.href
  href         TEXT NOT NULL,
  etag         TEXT,
  uids         TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (source_id, href)
) WITHOUT ROWID;
CREATE INDEX caldav_objects_calendar ON caldav_objects(source_id, calendar);
