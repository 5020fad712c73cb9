-- A cheaper push and pull (docs/internals/server.md "Push", "Pull"; bench/README.md "Server:
-- the faster push"), the ownership rule for processes created in the request, and
-- users.removed_at (salesgetter-server user remove).
-- sg_push_batch replaces sg_push (kept, unused, so a database can go back one version):
--
-- * one call per request, in autocommit: it takes the op-log lock itself, so a push is one
--   round trip and one transaction;
-- * the fields of an op that is alone on its entity in the request (nearly every op) go into
--   entity_state as they are, with the field clocks the server computed (p_field_hlcs):
--   only entities with several ops in one request are split field by field;
-- * repeats are found by an index probe on ops.op_id before the insert (the lock keeps other
--   writers out), so the insert needs no ON CONFLICT and nothing has to be joined back;
-- * ownership: a non-manager's op is refused when its process is another user's, and also
--   when it is a process upsert whose account_manager is another user's address (creating,
--   or handing over, a process for someone else is a manager's job). Within one request
--   this is the same as checking each op against the state the ops before it made: no
--   accepted op of a non-manager can make a process another user's.

-- Last writer wins per field, walking only B's fields (A's others stay as they are): B's
-- value wins when its hlc is newer, or equal and its JSON text larger.
CREATE OR REPLACE FUNCTION sg_lww (a jsonb, ah jsonb, b jsonb, bh jsonb, OUT f jsonb, OUT h jsonb)
LANGUAGE sql IMMUTABLE AS $$
  SELECT a || coalesce(jsonb_object_agg(x.k, b -> x.k), '{}'),
         ah || coalesce(jsonb_object_agg(x.k, x.hb), '{}')
    FROM jsonb_each_text(bh) x (k, hb)
   WHERE ah ->> x.k IS NULL
      OR x.hb COLLATE "C" > (ah ->> x.k) COLLATE "C"
      OR (x.hb = ah ->> x.k AND (b -> x.k)::text COLLATE "C" > (a -> x.k)::text COLLATE "C")
$$;

-- Why P_USER (not a manager) may not push this op on process P_PROCESS, or NULL.
CREATE FUNCTION sg_process_refusal (p_user bigint, p_entity text, p_op text, p_process text, p_fields jsonb)
RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    (SELECT format('process %s belongs to %s; only its account manager or a manager may change it',
                   p_process, u.login)
       FROM entity_state s JOIN users u ON u.id = s.owner_user_id
      WHERE s.entity = 'process' AND s.natural_key = p_process AND s.owner_user_id <> p_user),
    (SELECT format('process %s: account_manager %s is %s''s address; only a manager may create or hand over '
                   'a process for another user', p_process, p_fields ->> 'account_manager', u.login)
       FROM user_addresses a JOIN users u ON u.id = a.user_id
      WHERE p_entity = 'process' AND p_op = 'upsert' AND a.address = lower(p_fields ->> 'account_manager')
        AND a.user_id <> p_user))
$$;

-- Stores a batch of ops pushed by one user from one device and materialises them. Returns
-- the refused ops only (their 1-based position in the arrays and why); every other op is
-- held (stored now, or before: a repeat is not stored twice). P_FIELD_HLCS: for an upsert,
-- its fields' names each mapped to the op's hlc; P_ALONE: no other op of the request is on
-- the same entity and key (upsert/delete) or member (add/remove). The caller sends each
-- op_id once.
CREATE FUNCTION sg_push_batch (p_user bigint, p_manager boolean, p_device text, p_op_ids text[],
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
           CASE WHEN n.op = 'remove' THEN n.hlc END COLLATE "C" AS removed
      FROM new n WHERE n.alone AND n.op IN ('add', 'remove')
    UNION ALL
    SELECT n.entity, n.natural_key,
           coalesce((array_agg(n.fields ORDER BY n.hlc COLLATE "C" DESC) FILTER (WHERE n.op = 'add'))[1], '{}'),
           max(n.hlc COLLATE "C") FILTER (WHERE n.op = 'add'),
           max(n.hlc COLLATE "C") FILTER (WHERE n.op = 'remove')
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

-- The ops after P_CURSOR that P_USER may see, from other devices than P_DEVICE, in seq order,
-- at most P_LIMIT of them, looking no further than P_WINDOW seqs past the cursor; every row
-- carries the newest seq of the log (TOP; one row with only TOP when there is no op). One
-- snapshot (a STABLE function runs in its caller's): TOP and the rows agree.
-- The walk must be an index scan on seq in order, stopping after P_LIMIT rows: its cost is
-- then bounded by what is sent (and the window). The planner's row estimates for a seq range
-- come from statistics that lag behind a log growing by thousands of rows a second, and
-- with a small estimate it reads the whole window with a bitmap scan and sorts it instead
-- (measured: 100 ms for a pull of 1000 ops from a 100k log, 1 ms with the index scan). No
-- JIT: compiling costs more than any pull (a disabled plan's cost once triggered it: 0.8 s).
CREATE FUNCTION sg_pull (p_cursor bigint, p_device text, p_manager boolean, p_user bigint, p_limit integer,
                         p_window bigint)
RETURNS TABLE (top bigint, seq bigint, op_id text, hlc text, entity text, natural_key text, op text,
               fields text, login text)
LANGUAGE sql STABLE
SET enable_bitmapscan = off
SET jit = off
AS $$
  SELECT t.top, o.seq, o.op_id, o.hlc, o.entity, o.natural_key, o.op, o.fields::text,
         (SELECT u.login FROM users u WHERE u.id = o.user_id)
    FROM (SELECT coalesce(max(x.seq), 0) AS top FROM ops x) t
    LEFT JOIN LATERAL (
      SELECT o.* FROM ops o
       WHERE o.seq > p_cursor AND o.seq <= p_cursor + p_window AND o.device <> p_device
         AND (p_manager OR o.scope = 'shared' OR o.user_id = p_user
              OR EXISTS (SELECT 1 FROM entity_state p WHERE p.entity = 'process'
                          AND p.natural_key = o.process_key AND p.owner_user_id = p_user))
       ORDER BY o.seq LIMIT p_limit) o ON true
   ORDER BY o.seq
$$;

-- salesgetter-server user remove: a removed user keeps their row (their ops keep their
-- author), their tokens are revoked and nothing authenticates as them again.
ALTER TABLE users ADD COLUMN removed_at timestamptz;
