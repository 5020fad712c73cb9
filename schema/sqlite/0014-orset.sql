-- Migration (orset branch): sets become observed-remove, add-wins (schema/sync.md "Sets,
-- add-wins"). A set member's '-' clock in sync_clock is no longer the hlc of its newest
-- remove but the newest add that remove had seen (the op's `seen`, or its hlc minus one for
-- a remove without it), and the member is present when '+' > '-' (strict), where it was
-- '+' >= '-'. Every '-' clock stored so far came from a remove's own hlc: moving it down by
-- one keeps every member present or absent exactly as it was ('+' >= h  <=>  '+' > h - 1;
-- hlc is an integer here). Only set entities: the '-' clock of an entity's delete (meeting,
-- interaction, person, selection) keeps its meaning and its value. The integrator may
-- renumber this file; nothing refers to its number.
UPDATE sync_clock SET hlc = hlc - 1
 WHERE field = '-'
   AND entity IN ('tag_assignment', 'person_role', 'process_contact', 'interaction_link', 'person_lead_source');
