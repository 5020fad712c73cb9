-- The sync contract's PostgreSQL tables the dashboard reads (../briefs sync contract;
-- schema/sync.md "Protocol" once the server branch is merged), as test fixtures: the
-- server's own migrations replace this file when salesgetter-server is merged.
CREATE TABLE users (id bigserial PRIMARY KEY, login text UNIQUE NOT NULL, role text NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE user_addresses (user_id bigint NOT NULL REFERENCES users(id), address text NOT NULL);
CREATE TABLE tokens (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), device_name text,
                     hash text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now(),
                     revoked_at timestamptz, last_used_at timestamptz);
CREATE TABLE entity_state (entity text NOT NULL, natural_key text NOT NULL, fields jsonb NOT NULL,
                           field_hlc jsonb NOT NULL DEFAULT '{}', owner_user_id bigint,
                           updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (entity, natural_key));
CREATE TABLE set_members (entity text NOT NULL, natural_key text NOT NULL, member jsonb NOT NULL DEFAULT '{}',
                          added_hlc bigint, removed_hlc bigint, PRIMARY KEY (entity, natural_key));
CREATE TABLE entity_history (entity text NOT NULL, natural_key text NOT NULL, hlc bigint NOT NULL,
                             fields jsonb NOT NULL, user_id bigint);
