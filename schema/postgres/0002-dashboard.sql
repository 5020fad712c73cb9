-- The managers' dashboard's sessions (server/dashboard.c). The cookie holds a random id;
-- only its SHA-256 (hex) is stored, so a copy of the database opens no session.
-- (Listed in schema/postgres.gresource.xml; renumber if another migration took 0002.)
CREATE TABLE IF NOT EXISTS dashboard_sessions (
  id_hash    text PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS dashboard_sessions_expiry ON dashboard_sessions(expires_at);
