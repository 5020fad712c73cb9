-- SalesGetter local store, migration: the sync client's state (issue 6, core/sg-sync.c).
-- Written on the `syncclient` branch; the integrator may renumber it, nothing refers to its
-- number.

-- The clock of every field of every shared entity this store knows: the hlc of the op that
-- last set it, local or pulled. A pulled upsert sets a field only when its hlc is newer
-- (last writer wins per field). Sets (tags, roles, process contacts, links, lead sources)
-- keep two clocks per member: field '+' (newest add) and '-' (newest remove or delete);
-- the member is present when '+' >= '-' (an add and a remove with the same clock: add wins).
CREATE TABLE sync_clock (
  entity      TEXT NOT NULL,
  natural_key TEXT NOT NULL,
  field       TEXT NOT NULL,
  hlc         INTEGER NOT NULL,
  PRIMARY KEY (entity, natural_key, field)
) WITHOUT ROWID;

-- Local ops set the clocks of the fields they carry, in the statement that logs them, so that
-- every write path of the library (importer, process, roles, tags...) is covered.
CREATE TRIGGER changes_sync_clock_upsert AFTER INSERT ON changes
WHEN NEW.op = 'upsert' AND NEW.fields <> '{}'
BEGIN
  INSERT INTO sync_clock (entity, natural_key, field, hlc)
    SELECT NEW.entity, NEW.natural_key, j.key, NEW.hlc FROM json_each(NEW.fields) j WHERE true
    ON CONFLICT (entity, natural_key, field) DO UPDATE SET hlc = max(hlc, excluded.hlc);
END;
CREATE TRIGGER changes_sync_clock_set AFTER INSERT ON changes
WHEN NEW.op IN ('add', 'remove', 'delete')
BEGIN
  INSERT INTO sync_clock (entity, natural_key, field, hlc)
    VALUES (NEW.entity, NEW.natural_key, CASE NEW.op WHEN 'add' THEN '+' ELSE '-' END, NEW.hlc)
    ON CONFLICT (entity, natural_key, field) DO UPDATE SET hlc = max(hlc, excluded.hlc);
END;

-- The clocks of what was logged before this migration.
INSERT INTO sync_clock (entity, natural_key, field, hlc)
  SELECT c.entity, c.natural_key, j.key, max(c.hlc) FROM changes c, json_each(c.fields) j
  WHERE c.op = 'upsert' AND c.fields <> '{}' GROUP BY c.entity, c.natural_key, j.key;
INSERT OR REPLACE INTO sync_clock (entity, natural_key, field, hlc)
  SELECT entity, natural_key, CASE op WHEN 'add' THEN '+' ELSE '-' END, max(hlc) FROM changes
  WHERE op IN ('add', 'remove', 'delete') GROUP BY entity, natural_key, CASE op WHEN 'add' THEN '+' ELSE '-' END;

-- Pulled append-only ops (stage history) already applied: a repeat is not appended twice.
CREATE TABLE sync_applied (
  op_id       TEXT PRIMARY KEY
) WITHOUT ROWID;

-- Readable text of messages other users shared at level 'full' (this store keeps no body of
-- its own mail: the mailbox has it).
CREATE TABLE sync_bodies (
  message_id  TEXT PRIMARY KEY,
  body        TEXT NOT NULL
) WITHOUT ROWID;

-- changes.acked: 0 to push, 1 acknowledged by the server, 2 withheld (the privacy settings
-- keep it on this device; never examined again). No schema change: the column exists.

-- A person's name as this store last logged it, by the address the op was keyed by (set by
-- the person upserts of the log, and by pulled names). The importer updates a name in place
-- when it finds a better one (and first and last seen, which stay local); the trigger below
-- queues such a person, and the next push logs {"name": ...} for it unless that name is the
-- one logged already. So a better name reaches the other devices, and the log stays a
-- function of the mail, whatever the order or batches of the import.
CREATE TABLE sync_names (
  address     TEXT PRIMARY KEY,
  name        TEXT
) WITHOUT ROWID;
CREATE TRIGGER changes_sync_names AFTER INSERT ON changes
WHEN NEW.entity = 'person' AND NEW.op = 'upsert' AND json_type(NEW.fields, '$.name') IS NOT NULL
BEGIN
  INSERT INTO sync_names (address, name) VALUES (NEW.natural_key, json_extract(NEW.fields, '$.name'))
    ON CONFLICT (address) DO UPDATE SET name = excluded.name;
END;
INSERT OR REPLACE INTO sync_names (address, name)
  SELECT natural_key, json_extract(fields, '$.name') FROM changes
  WHERE entity = 'person' AND op = 'upsert' AND json_type(fields, '$.name') IS NOT NULL ORDER BY seq;

CREATE TABLE sync_dirty_people (
  person_id   INTEGER PRIMARY KEY
);
CREATE TRIGGER people_name_changed AFTER UPDATE OF name ON people
WHEN OLD.name IS NOT NEW.name AND NEW.name IS NOT NULL
BEGIN
  INSERT OR IGNORE INTO sync_dirty_people (person_id) VALUES (NEW.id);
END;
-- Names found before this migration.
INSERT OR IGNORE INTO sync_dirty_people (person_id)
  SELECT id FROM people WHERE name IS NOT NULL;
