-- salesgetter-server: the central PostgreSQL database (docs/internals/server.md,
-- schema/sync.md "Protocol"). Applied by salesgetter-server at start, in one transaction;
-- schema_migrations (made by the server itself) records the files applied.

-- Users and their per-device API tokens. A token is shown once; only its SHA-256 is kept.
CREATE TABLE users (
  id         bigserial PRIMARY KEY,
  login      text NOT NULL UNIQUE,
  role       text NOT NULL CHECK (role IN ('analyst', 'account-manager', 'manager')),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The mail addresses that are this user: a process whose account_manager is one of them is
-- theirs. An address is one user's.
CREATE TABLE user_addresses (
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  address text NOT NULL UNIQUE,
  PRIMARY KEY (user_id, address)
);

CREATE TABLE tokens (
  id           bigserial PRIMARY KEY,
  user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  device_name  text,
  hash         text NOT NULL UNIQUE,          -- lower-case hex SHA-256 of the token
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz,
  last_used_at timestamptz
);

-- A store (device id) belongs to the first user who synced it; another user is refused.
CREATE TABLE devices (
  device     text PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  first_seen timestamptz NOT NULL DEFAULT now(),
  last_seen  timestamptz NOT NULL DEFAULT now()
);

-- The op log: every op any client pushed, once (op_id), in server order (seq). seq is
-- assigned under a transaction-scoped advisory lock, so the order of seq is the order of
-- commit and a reader never sees seq N+1 before N (the pull cursor relies on it).
CREATE TABLE ops (
  seq         bigserial PRIMARY KEY,
  op_id       text NOT NULL UNIQUE,
  user_id     bigint NOT NULL,               -- users.id (no foreign key: it comes from the token,
                                             -- and the check per row costs half of an insert)
  device      text NOT NULL,
  hlc         text COLLATE "C" NOT NULL,    -- 16 lower-case hex digits
  entity      text NOT NULL,
  natural_key text NOT NULL,
  op          text NOT NULL,
  fields      jsonb NOT NULL,
  -- 'shared' (people, organisations, mail...) or 'process' (the process family: seen by the
  -- process's owner, its author and managers).
  scope       text NOT NULL CHECK (scope IN ('shared', 'process')),
  process_key text,                          -- the process UUID of a 'process' op, if known
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ops_process_key ON ops (process_key) WHERE process_key IS NOT NULL;

-- Current state, merged: last writer wins per field by hlc (field_hlc holds each field's
-- hlc; a tie keeps the larger JSON value, so the order ops arrive in does not matter).
-- owner_user_id: for a process, the user whose address is its account_manager, else the
-- user who created it.
CREATE TABLE entity_state (
  entity        text NOT NULL,
  natural_key   text NOT NULL,
  fields        jsonb NOT NULL DEFAULT '{}',
  field_hlc     jsonb NOT NULL DEFAULT '{}',
  owner_user_id bigint,                      -- users.id (no foreign key, as in ops)
  deleted       boolean NOT NULL DEFAULT false,
  deleted_hlc   text COLLATE "C",
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (entity, natural_key)
);
CREATE INDEX entity_state_owner ON entity_state (owner_user_id) WHERE owner_user_id IS NOT NULL;

-- Sets (add/remove ops): one row per member, the member being the op's natural key
-- (process_contact "uuid|address|part", tag_assignment "person:jane@x/tag", ...); member
-- holds the fields of the newest add. Add wins: present unless removed after the last add.
CREATE TABLE set_members (
  entity      text NOT NULL,
  natural_key text NOT NULL,
  member      jsonb NOT NULL DEFAULT '{}',
  added_hlc   text COLLATE "C",
  removed_hlc text COLLATE "C",
  present     boolean GENERATED ALWAYS AS
                (added_hlc IS NOT NULL AND (removed_hlc IS NULL OR added_hlc >= removed_hlc)) STORED,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (entity, natural_key)
);

-- Append-only history (stage_history ops): one row per op.
CREATE TABLE entity_history (
  id          bigserial PRIMARY KEY,
  op_id       text NOT NULL UNIQUE,
  entity      text NOT NULL,
  natural_key text NOT NULL,
  hlc         text COLLATE "C" NOT NULL,
  fields      jsonb NOT NULL,
  user_id     bigint NOT NULL                -- users.id
);
CREATE INDEX entity_history_key ON entity_history (entity, natural_key, hlc);

-- The owner of a process: the user one of whose addresses is the account manager, else the
-- one it had, else the author.
CREATE FUNCTION sg_process_owner (p_fields jsonb, p_old bigint, p_author bigint)
RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    (SELECT ua.user_id FROM user_addresses ua
      WHERE ua.address = lower(p_fields ->> 'account_manager')),
    p_old, p_author)
$$;

-- The newest hlc among a field_hlc object's values (NULL for {}).
CREATE FUNCTION sg_max_hlc (p_field_hlc jsonb)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT max(value COLLATE "C") FROM jsonb_each_text(p_field_hlc)
$$;

-- Last writer wins per field: merges fields A (with their hlcs AH) and B (BH). A field of B
-- wins when its hlc is newer, or equal and its JSON text larger (order-independent).
CREATE FUNCTION sg_lww (a jsonb, ah jsonb, b jsonb, bh jsonb, OUT f jsonb, OUT h jsonb)
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_object_agg(k, CASE WHEN win_b THEN b -> k ELSE a -> k END), '{}'),
         coalesce(jsonb_object_agg(k, CASE WHEN win_b THEN bh -> k ELSE ah -> k END), '{}')
  FROM (SELECT k, coalesce(ah ->> k IS NULL
                 OR (bh ->> k) COLLATE "C" > (ah ->> k) COLLATE "C"
                 OR ((bh ->> k) = (ah ->> k) AND (b -> k)::text COLLATE "C" > (a -> k)::text COLLATE "C"),
               false) AS win_b
        FROM (SELECT jsonb_object_keys(a) UNION SELECT jsonb_object_keys(b)) keys (k)) x
$$;

-- Stores a batch of ops pushed by one user from one device and materialises them, in one
-- statement (set-based: one pass per table, whatever the batch size). Returns one row per
-- op, in order: 'acked' (stored now or before: a repeat is acked and not stored twice) or
-- 'rejected' with the reason (a non-manager's op on a process another user owns).
-- The caller holds the ops advisory lock (seq order = commit order).
CREATE FUNCTION sg_push (p_user bigint, p_manager boolean, p_device text, p_op_ids text[],
                         p_hlcs text[], p_entities text[], p_keys text[], p_ops text[],
                         p_fields jsonb[], p_scopes text[], p_process_keys text[])
RETURNS TABLE (op_id text, status text, reason text) LANGUAGE sql AS $$
  WITH inp AS (
    SELECT * FROM unnest(p_op_ids, p_hlcs, p_entities, p_keys, p_ops, p_fields, p_scopes, p_process_keys)
      WITH ORDINALITY AS t (op_id, hlc, entity, natural_key, op, fields, scope, process_key, ord)
  ), refused AS (
    SELECT i.ord, u.login FROM inp i
      JOIN entity_state s ON s.entity = 'process' AND s.natural_key = i.process_key
      JOIN users u ON u.id = s.owner_user_id
     WHERE NOT p_manager AND s.owner_user_id <> p_user
  ), ins AS (
    INSERT INTO ops (op_id, user_id, device, hlc, entity, natural_key, op, fields, scope, process_key)
    SELECT i.op_id, p_user, p_device, i.hlc, i.entity, i.natural_key, i.op, i.fields, i.scope, i.process_key
      FROM inp i WHERE NOT EXISTS (SELECT 1 FROM refused r WHERE r.ord = i.ord) ORDER BY i.ord
    ON CONFLICT ON CONSTRAINT ops_op_id_key DO NOTHING
    RETURNING ops.op_id, ops.hlc, ops.entity, ops.natural_key, ops.op, ops.fields
  ), ups_f AS (
    -- Per entity, key and field: the winner among this request's upserts (one sort).
    SELECT DISTINCT ON (i.entity, i.natural_key, f.key)
           i.entity, i.natural_key, f.key AS k, f.value AS v, i.hlc AS h
      FROM ins i, jsonb_each(i.fields) f WHERE i.op = 'upsert'
     ORDER BY i.entity, i.natural_key, f.key, i.hlc COLLATE "C" DESC, f.value::text COLLATE "C" DESC
  ), upf AS (
    SELECT entity, natural_key, jsonb_object_agg(k, v) AS fields, jsonb_object_agg(k, h) AS field_hlc
      FROM ups_f GROUP BY 1, 2
  ), srows AS (
    SELECT k.entity, k.natural_key, coalesce(u.fields, '{}') AS fields, coalesce(u.field_hlc, '{}') AS field_hlc,
           k.del_hlc
      FROM (SELECT entity, natural_key, max(hlc COLLATE "C") FILTER (WHERE op = 'delete') AS del_hlc
              FROM ins WHERE op IN ('upsert', 'delete') GROUP BY 1, 2) k
      LEFT JOIN upf u USING (entity, natural_key)
  ), st AS (
    INSERT INTO entity_state AS s (entity, natural_key, fields, field_hlc, deleted, deleted_hlc, owner_user_id)
    SELECT entity, natural_key, fields, field_hlc,
           CASE WHEN del_hlc IS NULL THEN false ELSE del_hlc > coalesce(sg_max_hlc(field_hlc), '') END, del_hlc,
           CASE WHEN entity = 'process' THEN sg_process_owner(fields, NULL, p_user) END
      FROM srows
    ON CONFLICT (entity, natural_key) DO UPDATE
      SET (fields, field_hlc, deleted, deleted_hlc, owner_user_id, updated_at) = (
        SELECT m.f, m.h,
               CASE WHEN s.deleted_hlc IS NULL AND EXCLUDED.deleted_hlc IS NULL THEN false
                    ELSE greatest(s.deleted_hlc, EXCLUDED.deleted_hlc) > coalesce(sg_max_hlc(m.h), '') END,
               greatest(s.deleted_hlc, EXCLUDED.deleted_hlc),
               CASE WHEN s.entity = 'process' THEN sg_process_owner(m.f, s.owner_user_id, p_user)
                    ELSE s.owner_user_id END,
               now()
          FROM sg_lww(s.fields, s.field_hlc, EXCLUDED.fields, EXCLUDED.field_hlc) m)
  ), sets AS (
    INSERT INTO set_members AS m (entity, natural_key, member, added_hlc, removed_hlc)
    SELECT entity, natural_key,
           coalesce((array_agg(fields ORDER BY hlc COLLATE "C" DESC) FILTER (WHERE op = 'add'))[1], '{}'),
           max(hlc COLLATE "C") FILTER (WHERE op = 'add'),
           max(hlc COLLATE "C") FILTER (WHERE op = 'remove')
      FROM ins WHERE op IN ('add', 'remove') GROUP BY 1, 2
    ON CONFLICT (entity, natural_key) DO UPDATE
      SET member = CASE WHEN EXCLUDED.added_hlc IS NOT NULL
                         AND (m.added_hlc IS NULL OR EXCLUDED.added_hlc > m.added_hlc)
                        THEN EXCLUDED.member ELSE m.member END,
          added_hlc = greatest(m.added_hlc, EXCLUDED.added_hlc),
          removed_hlc = greatest(m.removed_hlc, EXCLUDED.removed_hlc),
          updated_at = now()
  ), hist AS (
    INSERT INTO entity_history (op_id, entity, natural_key, hlc, fields, user_id)
    SELECT op_id, entity, natural_key, hlc, fields, p_user FROM ins WHERE op = 'append'
    ON CONFLICT (op_id) DO NOTHING
  )
  SELECT i.op_id,
         CASE WHEN r.ord IS NULL THEN 'acked' ELSE 'rejected' END,
         CASE WHEN r.ord IS NOT NULL THEN
           format('process %s belongs to %s; only its account manager or a manager may change it',
                  i.process_key, r.login) END
    FROM inp i LEFT JOIN refused r ON r.ord = i.ord
   ORDER BY i.ord
$$;
