-- SalesGetter local store, migration: the IMAP source.
-- Where each folder of an IMAP account stands, and how each account's last syncs went.

-- One row per folder of an IMAP account (sources.kind = 'imap'). Every message of the
-- folder up to last_uid, under this uidvalidity, is stored (or was skipped with a problem
-- row): a sync fetches only UIDs above it. A changed UIDVALIDITY sets last_uid back to 0;
-- the rescan stores nothing twice because interactions are keyed by Message-ID.
CREATE TABLE imap_folders (
  source_id   INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,                 -- as the server spells it (modified UTF-7)
  uidvalidity INTEGER NOT NULL,
  last_uid    INTEGER NOT NULL DEFAULT 0,
  uidnext     INTEGER,                       -- as of the last EXAMINE
  sent        INTEGER NOT NULL DEFAULT 0,    -- captured as outgoing mail
  last_sync   INTEGER,
  PRIMARY KEY (source_id, name)
) WITHOUT ROWID;

-- How the last syncs of a source went, for `salesgetter sync --status`.
CREATE TABLE source_status (
  source_id     INTEGER PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
  name          TEXT,                        -- the account's name in the config
  last_attempt  INTEGER,
  last_success  INTEGER,
  last_error    TEXT,
  last_error_at INTEGER,
  failures      INTEGER NOT NULL DEFAULT 0,  -- failed syncs since the last success
  pending       INTEGER                      -- messages on the server not stored yet, if known
);
