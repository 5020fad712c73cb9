-- Migration (importperf branch): a participant added to an interaction the activity
-- summaries already folded in (a meeting whose attendee list grew) marks its person and
-- organisation for a recompute. Before, only new interactions (by id, past the mark) and
-- deleted participants were seen: an attendee added to a known meeting was left out of their
-- summary until sg_store_rebuild_summaries(). The integrator may renumber this file; nothing
-- refers to its number. docs/internals/insight.md, "Activity summaries".
--
-- New mail and new meetings do not fire it: their interaction ids are past the mark until
-- the commit that folds them in. The condition is one primary-key probe of store_meta.
CREATE TRIGGER summary_participant_added AFTER INSERT ON participants
WHEN NEW.interaction_id <= (SELECT CAST(value AS INTEGER) FROM store_meta WHERE key = 'summary_interaction_id')
BEGIN
  INSERT INTO summary_dirty (kind, id)
    SELECT 'person', a.person_id FROM addresses a WHERE a.id = NEW.address_id AND a.person_id IS NOT NULL;
  INSERT INTO summary_dirty (kind, id)
    SELECT 'org', p.org_id FROM addresses a JOIN people p ON p.id = a.person_id
    WHERE a.id = NEW.address_id AND p.org_id IS NOT NULL;
END;

-- The sync clocks and names of local ops are kept by _sg_store_log_change() (sg-store.c),
-- with the statements these triggers ran: as triggers on `changes` they cost about 55,000
-- instructions for every op logged, also the ops that matched none of their WHEN clauses
-- (an interaction captured from mail, '{}'), a quarter of the cost of storing a message.
-- `changes` has one writer, _sg_store_log_change(); pulled ops never go into it.
DROP TRIGGER changes_sync_clock_upsert;
DROP TRIGGER changes_sync_clock_set;
DROP TRIGGER changes_sync_names;
