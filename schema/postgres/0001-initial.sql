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
  user_id     bigint NOT NULL REFERENCES users (id),
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
  owner_user_id bigint REFERENCES users (id),
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
  user_id     bigint NOT NULL REFERENCES users (id)
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

-- Applies one op to the materialised state (the op is new: the caller inserted it).
CREATE FUNCTION sg_apply_op (p_user bigint, p_op_id text, p_hlc text, p_entity text,
                             p_key text, p_op text, p_fields jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  st   entity_state%ROWTYPE;
  k    text;
  v    jsonb;
  oldh text;
BEGIN
  IF p_op = 'upsert' THEN
    SELECT * INTO st FROM entity_state WHERE entity = p_entity AND natural_key = p_key FOR UPDATE;
    IF NOT FOUND THEN
      st.fields := '{}'; st.field_hlc := '{}'; st.owner_user_id := NULL;
      st.deleted := false; st.deleted_hlc := NULL;
    END IF;
    FOR k, v IN SELECT * FROM jsonb_each(p_fields) LOOP
      oldh := st.field_hlc ->> k;
      IF oldh IS NULL OR p_hlc COLLATE "C" > oldh COLLATE "C"
         OR (p_hlc = oldh AND v::text COLLATE "C" > (st.fields -> k)::text COLLATE "C") THEN
        st.fields := st.fields || jsonb_build_object(k, v);
        st.field_hlc := st.field_hlc || jsonb_build_object(k, p_hlc);
      END IF;
    END LOOP;
    IF st.deleted AND p_hlc COLLATE "C" > st.deleted_hlc COLLATE "C" THEN
      st.deleted := false;
    END IF;
    IF p_entity = 'process' THEN
      st.owner_user_id := sg_process_owner(st.fields, st.owner_user_id, p_user);
    END IF;
    INSERT INTO entity_state (entity, natural_key, fields, field_hlc, owner_user_id, deleted,
                              deleted_hlc, updated_at)
    VALUES (p_entity, p_key, st.fields, st.field_hlc, st.owner_user_id, st.deleted,
            st.deleted_hlc, now())
    ON CONFLICT (entity, natural_key) DO UPDATE
      SET fields = EXCLUDED.fields, field_hlc = EXCLUDED.field_hlc,
          owner_user_id = EXCLUDED.owner_user_id, deleted = EXCLUDED.deleted,
          deleted_hlc = EXCLUDED.deleted_hlc, updated_at = now();
  ELSIF p_op = 'delete' THEN
    INSERT INTO entity_state AS s (entity, natural_key, owner_user_id, deleted, deleted_hlc)
    VALUES (p_entity, p_key, CASE WHEN p_entity = 'process' THEN p_user END, true, p_hlc)
    ON CONFLICT (entity, natural_key) DO UPDATE
      SET deleted_hlc = greatest(s.deleted_hlc, EXCLUDED.deleted_hlc),
          deleted = s.deleted OR NOT EXISTS (
            SELECT 1 FROM jsonb_each_text(s.field_hlc) h WHERE h.value COLLATE "C" >= p_hlc COLLATE "C"),
          updated_at = now();
  ELSIF p_op = 'add' THEN
    INSERT INTO set_members AS m (entity, natural_key, member, added_hlc)
    VALUES (p_entity, p_key, p_fields, p_hlc)
    ON CONFLICT (entity, natural_key) DO UPDATE
      SET member = CASE WHEN m.added_hlc IS NULL OR EXCLUDED.added_hlc COLLATE "C" > m.added_hlc COLLATE "C"
                        THEN EXCLUDED.member ELSE m.member END,
          added_hlc = greatest(m.added_hlc, EXCLUDED.added_hlc),
          updated_at = now();
  ELSIF p_op = 'remove' THEN
    INSERT INTO set_members AS m (entity, natural_key, removed_hlc)
    VALUES (p_entity, p_key, p_hlc)
    ON CONFLICT (entity, natural_key) DO UPDATE
      SET removed_hlc = greatest(m.removed_hlc, EXCLUDED.removed_hlc), updated_at = now();
  ELSIF p_op = 'append' THEN
    INSERT INTO entity_history (op_id, entity, natural_key, hlc, fields, user_id)
    VALUES (p_op_id, p_entity, p_key, p_hlc, p_fields, p_user)
    ON CONFLICT (op_id) DO NOTHING;
  END IF;
END
$$;

-- Stores a batch of ops pushed by one user from one device, in order: a repeat (same op_id)
-- is acked and not stored again; a non-manager's op on a process another user owns is
-- rejected. Returns one row per op: status 'new', 'repeat' or 'rejected' (with a reason).
-- The caller holds the ops advisory lock (seq order = commit order).
CREATE FUNCTION sg_push (p_user bigint, p_manager boolean, p_device text, p_op_ids text[],
                         p_hlcs text[], p_entities text[], p_keys text[], p_ops text[],
                         p_fields jsonb[], p_scopes text[], p_process_keys text[])
RETURNS TABLE (op_id text, status text, reason text) LANGUAGE plpgsql AS $$
DECLARE
  i      int;
  owner  bigint;
  owner_login text;
BEGIN
  FOR i IN 1 .. coalesce(array_length(p_op_ids, 1), 0) LOOP
    op_id := p_op_ids[i];
    reason := NULL;
    IF EXISTS (SELECT 1 FROM ops o WHERE o.op_id = p_op_ids[i]) THEN
      status := 'repeat';
      RETURN NEXT;
      CONTINUE;
    END IF;
    IF NOT p_manager AND p_process_keys[i] IS NOT NULL THEN
      SELECT s.owner_user_id INTO owner FROM entity_state s
       WHERE s.entity = 'process' AND s.natural_key = p_process_keys[i];
      IF owner IS NOT NULL AND owner <> p_user THEN
        SELECT u.login INTO owner_login FROM users u WHERE u.id = owner;
        status := 'rejected';
        reason := format('process %s belongs to %s; only its account manager or a manager may change it',
                         p_process_keys[i], owner_login);
        RETURN NEXT;
        CONTINUE;
      END IF;
    END IF;
    INSERT INTO ops (op_id, user_id, device, hlc, entity, natural_key, op, fields, scope, process_key)
    VALUES (p_op_ids[i], p_user, p_device, p_hlcs[i], p_entities[i], p_keys[i], p_ops[i],
            p_fields[i], p_scopes[i], p_process_keys[i])
    ON CONFLICT ON CONSTRAINT ops_op_id_key DO NOTHING;
    IF NOT FOUND THEN
      status := 'repeat';
    ELSE
      PERFORM sg_apply_op(p_user, p_op_ids[i], p_hlcs[i], p_entities[i], p_keys[i], p_ops[i], p_fields[i]);
      status := 'new';
    END IF;
    RETURN NEXT;
  END LOOP;
END
$$;
