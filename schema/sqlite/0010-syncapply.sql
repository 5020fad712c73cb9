-- SalesGetter local store, migration: what the sync client needs to pull meetings,
-- pipelines and person facts and to re-send what the share level held back (syncapply
-- branch, core/sg-sync.c). The integrator may renumber it; nothing refers to its number.

-- Person facts are logged when first read (sg-import-text.c); a later message that says
-- the same thing moves the fact's observed or first_seen date in place. Like a better
-- name (sync_dirty_people), such a fact is queued here and the next push logs it, so
-- the other stores learn which title or phone is current.
CREATE TABLE sync_dirty_facts (
  fact_id     INTEGER PRIMARY KEY
);
CREATE TRIGGER person_facts_sync_dirty AFTER UPDATE OF observed, first_seen ON person_facts
WHEN NEW.observed <> OLD.observed OR NEW.first_seen <> OLD.first_seen
BEGIN
  INSERT OR IGNORE INTO sync_dirty_facts (fact_id) VALUES (NEW.id);
END;
