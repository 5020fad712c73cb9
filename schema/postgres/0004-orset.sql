-- Sets become observed-remove, add-wins (schema/sync.md "Sets, add-wins"; orset branch).
-- A remove op carries `seen`, the newest add of the member its author had seen (16 hex
-- digits, like hlc); set_members.removed_hlc becomes the newest `seen` over the member's
-- removes (a remove without it, from an older client: its hlc minus one, which is the rule
-- before), and a member is present when added_hlc > removed_hlc (strict): an add the
-- removers had not seen wins, whatever the clocks. The client merges by the same rule
-- (core/sg-sync.c set_member()), so both converge. The pull serves the ops as pushed, so
-- `seen` travels to the other clients inside the remove's fields.
--
-- Existing rows: every removed_hlc so far is the hlc of a remove; moving it down by one
-- keeps each member present or absent as it was (added >= h <=> added > h - 1). hlc is
-- text, 16 lower-case hex digits compared COLLATE "C" (srv-sync.c checks the format), so
-- "minus one" is done on the number: a text of 16 digits minus one is again 16 digits, in
-- the same order. A removed_hlc of zero becomes NULL (no remove counts: added > -1).

-- @h (16 lower-case hex digits) minus one, in the same form; NULL for zero.
CREATE FUNCTION sg_hlc_pred (h text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT CASE WHEN h = '0000000000000000' THEN NULL
              ELSE lpad(to_hex(('x' || h)::bit(64)::bigint - 1), 16, '0') END COLLATE "C"
$$;

-- The clock a remove op moves its member's removed_hlc to: its `seen` when that is a clock
-- older than the op (srv-sync.c refuses any other), else the op's hlc minus one.
CREATE FUNCTION sg_removed_clock (p_fields jsonb, p_hlc text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_fields ->> 'seen' ~ '^[0-9a-f]{16}$' AND (p_fields ->> 'seen') COLLATE "C" < p_hlc COLLATE "C"
              THEN (p_fields ->> 'seen') COLLATE "C"
              ELSE sg_hlc_pred(p_hlc) END
$$;

UPDATE set_members SET removed_hlc = sg_hlc_pred(removed_hlc) WHERE removed_hlc IS NOT NULL;

ALTER TABLE set_members DROP COLUMN present;
ALTER TABLE set_members ADD COLUMN present boolean GENERATED ALWAYS AS
  (added_hlc IS NOT NULL AND (removed_hlc IS NULL OR added_hlc > removed_hlc)) STORED;

-- sg_push_batch (0003) with the removed clock of each remove taken from sg_removed_clock.
-- (sg_push, unused since 0003, is left as it was.)
-- Stores a batch of ops pushed by one user from one device and materialises them. Returns
-- the refused ops only (their 1-based position in the arrays and why); every other op is
-- held (stored now, or before: a repeat is not stored twice). P_FIELD_HLCS: for an upsert,
-- its fields' names each mapped to the op's hlc; P_ALONE: no other op of the request is on
-- the same entity and key (upsert/delete) or member (add/remove). The caller sends each
-- op_id once.
CREATE OR REPLACE FUNCTION sg_push_batch (p_user bigint, p_manager boolean, p_device text, p_op_ids text[],
                               p_hlcs text[], p_entities text[], p_keys text[], p_ops text[],
                               p_fields jsonb[], p_field_hlcs jsonb[], p_alone boolean[],
                               p_scopes text[], p_process_keys text[])
RETURNS TABLE (rej_ord bigint, rej_reason text) LANGUAGE plpgsql
-- One plan per connection, made at its first push and kept (generic: 10 rows assumed per
-- array). Kept while the tables grow from nothing to millions of rows, so it must not depend
-- on their statistics: every step against a table is an index probe per op (measured: a plan
-- made on a small entity_state hashed all of it, 100k rows, at every 200-op push). No JIT.
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET jit = off
AS $$
BEGIN
  -- Writers are serialised (seq order = commit order; docs/internals/server.md). The lock
  -- comes before the statement below takes its snapshot.
  PERFORM pg_advisory_xact_lock(7306345617268339);
  -- An acknowledged op must survive a crash: never commit a push asynchronously.
  IF current_setting('synchronous_commit') = 'off' THEN
    PERFORM set_config('synchronous_commit', 'local', true);
  END IF;
  RETURN QUERY
  WITH chk AS (
    SELECT t.*,
           CASE WHEN p_manager OR t.process_key IS NULL THEN NULL
                ELSE sg_process_refusal(p_user, t.entity, t.op, t.process_key, t.fields) END AS refusal
      FROM unnest(p_op_ids, p_hlcs, p_entities, p_keys, p_ops, p_fields, p_field_hlcs, p_alone, p_scopes,
                  p_process_keys)
           WITH ORDINALITY AS t (op_id, hlc, entity, natural_key, op, fields, field_hlc, alone, scope,
                                 process_key, ord)
  ), new AS (
    SELECT c.* FROM chk c
     WHERE c.refusal IS NULL AND NOT EXISTS (SELECT 1 FROM ops o WHERE o.op_id = c.op_id)
  ), ins AS (
    INSERT INTO ops (op_id, user_id, device, hlc, entity, natural_key, op, fields, scope, process_key)
    SELECT n.op_id, p_user, p_device, n.hlc, n.entity, n.natural_key, n.op, n.fields, n.scope, n.process_key
      FROM new n ORDER BY n.ord
  ), srows AS (
    -- Alone: the op as it is.
    SELECT n.entity, n.natural_key,
           CASE WHEN n.op = 'upsert' THEN n.fields ELSE '{}' END AS fields,
           CASE WHEN n.op = 'upsert' THEN n.field_hlc ELSE '{}' END AS field_hlc,
           CASE WHEN n.op = 'delete' THEN n.hlc END COLLATE "C" AS del_hlc
      FROM new n WHERE n.alone AND n.op IN ('upsert', 'delete')
    UNION ALL
    -- Several ops on one entity: per field, the newest (two ops of one device never have
    -- the same hlc, so there is no tie here).
    SELECT x.entity, x.natural_key,
           coalesce(jsonb_object_agg(x.k, x.v) FILTER (WHERE x.k IS NOT NULL), '{}'),
           coalesce(jsonb_object_agg(x.k, x.h) FILTER (WHERE x.k IS NOT NULL), '{}'),
           max(x.dh COLLATE "C")
      FROM ((SELECT DISTINCT ON (n.entity, n.natural_key, f.key)
                    n.entity, n.natural_key, f.key AS k, f.value AS v, n.hlc AS h, NULL::text AS dh
               FROM new n, jsonb_each(n.fields) f WHERE NOT n.alone AND n.op = 'upsert'
              ORDER BY n.entity, n.natural_key, f.key, n.hlc COLLATE "C" DESC)
            UNION ALL
            SELECT n.entity, n.natural_key, NULL, NULL, NULL, CASE WHEN n.op = 'delete' THEN n.hlc END
              FROM new n WHERE NOT n.alone AND n.op IN ('upsert', 'delete')) x
     GROUP BY x.entity, x.natural_key
  ), st_upd AS (
    -- Entities the server has: merged field by field. Rows it has not: inserted as they are.
    -- (Two statements rather than INSERT ... ON CONFLICT DO UPDATE, whose speculative
    -- insertion measured three times the cost of a plain insert; the op-log lock keeps other
    -- pushes out, so a row cannot appear in between.)
    UPDATE entity_state s
       SET (fields, field_hlc, deleted, deleted_hlc, owner_user_id, updated_at) = (
         SELECT m.f, m.h,
                CASE WHEN s.deleted_hlc IS NULL AND r.del_hlc IS NULL THEN false
                     ELSE greatest(s.deleted_hlc, r.del_hlc) > coalesce(sg_max_hlc(m.h), '') END,
                greatest(s.deleted_hlc, r.del_hlc),
                CASE WHEN s.entity = 'process' THEN sg_process_owner(m.f, s.owner_user_id, p_user)
                     ELSE s.owner_user_id END,
                now()
           FROM sg_lww(s.fields, s.field_hlc, r.fields, r.field_hlc) m)
      FROM srows r
     WHERE s.entity = r.entity AND s.natural_key = r.natural_key
  ), st_ins AS (
    INSERT INTO entity_state (entity, natural_key, fields, field_hlc, deleted, deleted_hlc, owner_user_id)
    SELECT r.entity, r.natural_key, r.fields, r.field_hlc,
           CASE WHEN r.del_hlc IS NULL THEN false ELSE r.del_hlc > coalesce(sg_max_hlc(r.field_hlc), '') END,
           r.del_hlc,
           CASE WHEN r.entity = 'process' THEN sg_process_owner(r.fields, NULL, p_user) END
      FROM srows r
     WHERE NOT EXISTS (SELECT 1 FROM entity_state s WHERE s.entity = r.entity AND s.natural_key = r.natural_key)
  ), mrows AS (
    SELECT n.entity, n.natural_key, CASE WHEN n.op = 'add' THEN n.fields ELSE '{}' END AS member,
           CASE WHEN n.op = 'add' THEN n.hlc END COLLATE "C" AS added,
           CASE WHEN n.op = 'remove' THEN sg_removed_clock(n.fields, n.hlc) END COLLATE "C" AS removed
      FROM new n WHERE n.alone AND n.op IN ('add', 'remove')
    UNION ALL
    SELECT n.entity, n.natural_key,
           coalesce((array_agg(n.fields ORDER BY n.hlc COLLATE "C" DESC) FILTER (WHERE n.op = 'add'))[1], '{}'),
           max(n.hlc COLLATE "C") FILTER (WHERE n.op = 'add'),
           max(sg_removed_clock(n.fields, n.hlc) COLLATE "C") FILTER (WHERE n.op = 'remove')
      FROM new n WHERE NOT n.alone AND n.op IN ('add', 'remove')
     GROUP BY n.entity, n.natural_key
  ), sets_upd AS (
    UPDATE set_members m
       SET member = CASE WHEN r.added IS NOT NULL AND (m.added_hlc IS NULL OR r.added > m.added_hlc)
                         THEN r.member ELSE m.member END,
           added_hlc = greatest(m.added_hlc, r.added),
           removed_hlc = greatest(m.removed_hlc, r.removed),
           updated_at = now()
      FROM mrows r
     WHERE m.entity = r.entity AND m.natural_key = r.natural_key
  ), sets_ins AS (
    INSERT INTO set_members (entity, natural_key, member, added_hlc, removed_hlc)
    SELECT r.entity, r.natural_key, r.member, r.added, r.removed FROM mrows r
     WHERE NOT EXISTS (SELECT 1 FROM set_members m WHERE m.entity = r.entity AND m.natural_key = r.natural_key)
  ), hist AS (
    INSERT INTO entity_history (op_id, entity, natural_key, hlc, fields, user_id)
    SELECT n.op_id, n.entity, n.natural_key, n.hlc, n.fields, p_user FROM new n WHERE n.op = 'append'
    ON CONFLICT (op_id) DO NOTHING
  )
  SELECT c.ord, c.refusal FROM chk c WHERE c.refusal IS NOT NULL ORDER BY c.ord;
END
$$;
