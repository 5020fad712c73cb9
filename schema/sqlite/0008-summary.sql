-- Migration (issue 5, insightperf): per-person and per-organisation activity summaries,
-- and the similar organisations computed ahead. The integrator may renumber this file;
-- nothing refers to its number. docs/internals/insight.md, "Activity summaries".
--
-- Derived data only: nothing here is synced or logged; every row can be rebuilt from
-- interactions, participants, addresses, people and tag_assignments
-- (sg_store_rebuild_summaries()).

-- What the insight, the selections and relationship strength need of a person's history,
-- kept up to date at every commit of the store (sg-summary.c folds the interactions newer
-- than store_meta 'summary_interaction_id' in, per person, aggregated). Bulk and list mail
-- is counted apart (n_bulk) and nowhere else.
CREATE TABLE person_summary (
  person_id   INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
  n_total     INTEGER NOT NULL,  -- interactions, not bulk
  n_in        INTEGER NOT NULL,  -- mail received from the person (direction 'in')
  n_out       INTEGER NOT NULL,  -- other mail (sent, internal)
  n_meetings  INTEGER NOT NULL,  -- interactions of kind 'meeting'
  n_bulk      INTEGER NOT NULL,
  first_at    INTEGER,           -- oldest and newest interaction (not bulk), UTC seconds
  last_at     INTEGER,
  days        BLOB,              -- (UTC day, count) pairs, little-endian uint32 each, of the
                                 -- interactions within 366 days of last_at, oldest first
  recent      BLOB               -- (date, id) pairs, little-endian int64 each, of the newest
                                 -- interactions (at most 10), newest first
);

CREATE TABLE org_summary (
  org_id      INTEGER PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
  n_total     INTEGER NOT NULL,  -- interactions with any of its people, each once; not bulk
  n_in        INTEGER NOT NULL,
  n_out       INTEGER NOT NULL,
  n_meetings  INTEGER NOT NULL,
  first_at    INTEGER,
  last_at     INTEGER
);

-- People and organisations whose summary must be computed again from scratch at the next
-- commit, because rows they were folded from changed (a meeting moved or its attendees
-- changed, an address moved to another person, a person to another organisation). New
-- interactions do not come here: they are folded in by id.
-- No unique key: an ON CONFLICT clause of the statement that fires a trigger (the
-- meetings path's upsert) overrides the trigger's own OR IGNORE; the reader takes DISTINCT.
CREATE TABLE summary_dirty (
  kind        TEXT NOT NULL,     -- 'person' or 'org'
  id          INTEGER NOT NULL
);

CREATE TRIGGER summary_participant_deleted AFTER DELETE ON participants BEGIN
  INSERT INTO summary_dirty (kind, id)
    SELECT 'person', a.person_id FROM addresses a WHERE a.id = OLD.address_id AND a.person_id IS NOT NULL;
  INSERT INTO summary_dirty (kind, id)
    SELECT 'org', p.org_id FROM addresses a JOIN people p ON p.id = a.person_id
    WHERE a.id = OLD.address_id AND p.org_id IS NOT NULL;
END;

-- Only a change of what is counted; the meetings path updates every field of a meeting it
-- reads again.
CREATE TRIGGER summary_interaction_changed AFTER UPDATE OF kind, direction, bulk, date_utc ON interactions
WHEN OLD.kind IS NOT NEW.kind OR OLD.direction IS NOT NEW.direction OR OLD.bulk IS NOT NEW.bulk
  OR OLD.date_utc IS NOT NEW.date_utc BEGIN
  INSERT INTO summary_dirty (kind, id)
    SELECT 'person', a.person_id FROM participants pa JOIN addresses a ON a.id = pa.address_id
    WHERE pa.interaction_id = NEW.id AND a.person_id IS NOT NULL;
  INSERT INTO summary_dirty (kind, id)
    SELECT 'org', p.org_id FROM participants pa JOIN addresses a ON a.id = pa.address_id
    JOIN people p ON p.id = a.person_id WHERE pa.interaction_id = NEW.id AND p.org_id IS NOT NULL;
END;

-- The importer gives a new address its person right after inserting it, before any
-- participant: that costs one index probe and marks nothing.
CREATE TRIGGER summary_address_moved AFTER UPDATE OF person_id ON addresses
WHEN OLD.person_id IS NOT NEW.person_id AND EXISTS (SELECT 1 FROM participants WHERE address_id = NEW.id) BEGIN
  INSERT INTO summary_dirty (kind, id)
    SELECT 'person', OLD.person_id WHERE OLD.person_id IS NOT NULL
    UNION ALL SELECT 'person', NEW.person_id WHERE NEW.person_id IS NOT NULL;
  INSERT INTO summary_dirty (kind, id)
    SELECT 'org', org_id FROM people WHERE id IN (OLD.person_id, NEW.person_id) AND org_id IS NOT NULL;
END;

-- Summaries are kept for contacts and external organisations only (the user and
-- colleagues are in every interaction; nobody asks for their summary).
CREATE TRIGGER summary_person_moved AFTER UPDATE OF org_id, kind ON people
WHEN OLD.org_id IS NOT NEW.org_id OR OLD.kind IS NOT NEW.kind BEGIN
  INSERT INTO summary_dirty (kind, id)
    SELECT 'person', NEW.id
    UNION ALL SELECT 'org', OLD.org_id WHERE OLD.org_id IS NOT NULL
    UNION ALL SELECT 'org', NEW.org_id WHERE NEW.org_id IS NOT NULL;
END;

CREATE TRIGGER summary_org_changed AFTER UPDATE OF kind ON organisations WHEN OLD.kind IS NOT NEW.kind BEGIN
  INSERT INTO summary_dirty (kind, id) VALUES ('org', NEW.id);
END;

CREATE TRIGGER summary_person_deleted AFTER DELETE ON people WHEN OLD.org_id IS NOT NULL BEGIN
  INSERT INTO summary_dirty (kind, id) VALUES ('org', OLD.org_id);
END;

-- The similar organisations of each organisation (sg_similar_refresh(); the insight reads
-- them), and the version of the tags they were computed from. tags_version counts every
-- change that moves an organisation's tag vector: tag assignments made, removed or
-- deleted, a person moving organisation or changing kind, an organisation changing kind.
CREATE TABLE similar_state (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  tags_version   INTEGER NOT NULL,
  computed_at    INTEGER,          -- when org_similar was last computed
  computed_from  INTEGER           -- the tags_version it was computed from
);
INSERT INTO similar_state (id, tags_version) VALUES (1, 1);

CREATE TABLE org_similar (
  org_id      INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  rank        INTEGER NOT NULL,  -- 0 = most similar
  similar_id  INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  score       REAL NOT NULL,     -- cosine, rounded to 3 digits
  shared_tags TEXT,              -- heaviest first, ", "-separated
  PRIMARY KEY (org_id, rank)
) WITHOUT ROWID;
CREATE INDEX org_similar_similar ON org_similar(similar_id);

CREATE TRIGGER similar_tag_added AFTER INSERT ON tag_assignments BEGIN
  UPDATE similar_state SET tags_version = tags_version + 1 WHERE id = 1;
END;
CREATE TRIGGER similar_tag_changed AFTER UPDATE OF removed, entity_id, entity_type, tag_id ON tag_assignments BEGIN
  UPDATE similar_state SET tags_version = tags_version + 1 WHERE id = 1;
END;
CREATE TRIGGER similar_tag_deleted AFTER DELETE ON tag_assignments BEGIN
  UPDATE similar_state SET tags_version = tags_version + 1 WHERE id = 1;
END;
CREATE TRIGGER similar_person_changed AFTER UPDATE OF org_id, kind ON people
WHEN OLD.org_id IS NOT NEW.org_id OR OLD.kind IS NOT NEW.kind BEGIN
  UPDATE similar_state SET tags_version = tags_version + 1 WHERE id = 1;
END;
CREATE TRIGGER similar_person_deleted AFTER DELETE ON people BEGIN
  UPDATE similar_state SET tags_version = tags_version + 1 WHERE id = 1;
END;
CREATE TRIGGER similar_org_changed AFTER UPDATE OF kind ON organisations WHEN OLD.kind IS NOT NEW.kind BEGIN
  UPDATE similar_state SET tags_version = tags_version + 1 WHERE id = 1;
END;

-- Existing interactions are folded in when the store is next opened read-write
-- (sg-store.c: the summary is behind the interactions).
INSERT INTO store_meta (key, value) VALUES ('summary_interaction_id', '0')
  ON CONFLICT (key) DO UPDATE SET value = '0';
