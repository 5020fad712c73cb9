-- Migration (clockskew branch): the hybrid logical clock of each stage history entry, so
-- that every store lists a process's history in the same order, the order of the clocks
-- (the server's dashboard orders entity_history by hlc), whatever order a store learned the
-- entries in and whatever its wall clock says. A local entry gets the hlc of the op that
-- logs it, a pulled one the op's hlc. The integrator may renumber this file; nothing refers
-- to its number. schema/sync.md, "A clock far off".
--
-- Entries stored before this migration keep NULL: they are ordered by moved_at (seconds,
-- as the clock's physical part) and then by id, as before.
ALTER TABLE stage_history ADD COLUMN hlc INTEGER;
