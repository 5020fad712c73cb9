-- SalesGetter local store, migration 1: the mail capture foundation.
-- Times are Unix seconds (UTC). Natural keys (address, domain, message_id)
-- are what sync uses; the integer ids are local to this store.

CREATE TABLE organisations (
  id          INTEGER PRIMARY KEY,
  domain      TEXT NOT NULL UNIQUE,          -- registrable domain, the natural key
  name        TEXT,                          -- best known display name
  kind        TEXT NOT NULL DEFAULT 'external'
              CHECK (kind IN ('external', 'internal')),
  industry    TEXT,
  first_seen  INTEGER,
  last_seen   INTEGER,
  created_at  INTEGER NOT NULL
);

-- An organisation may own several registrable domains (acme.com, acme.co.uk).
CREATE TABLE org_domains (
  domain      TEXT PRIMARY KEY,
  org_id      INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE
);

CREATE TABLE people (
  id          INTEGER PRIMARY KEY,
  name        TEXT,
  name_score  INTEGER NOT NULL DEFAULT 0,    -- how good the name is (see sg-identity.c)
  name_date   INTEGER NOT NULL DEFAULT 0,    -- date of the message the name came from
  org_id      INTEGER REFERENCES organisations(id) ON DELETE SET NULL,
  kind        TEXT NOT NULL DEFAULT 'contact'
              CHECK (kind IN ('contact', 'colleague', 'self')),
  first_seen  INTEGER,
  last_seen   INTEGER,
  created_at  INTEGER NOT NULL
);
CREATE INDEX people_org ON people(org_id);

-- Every address ever seen. Only addresses of real people have a person;
-- role, no-reply and list addresses are kept (they explain interactions)
-- but never become people.
CREATE TABLE addresses (
  id          INTEGER PRIMARY KEY,
  address     TEXT NOT NULL UNIQUE,          -- normalised, case-folded
  domain      TEXT NOT NULL,                 -- full (normalised) domain part
  org_domain  TEXT,                          -- registrable domain, NULL for freemail
  kind        TEXT NOT NULL
              CHECK (kind IN ('personal', 'role', 'noreply', 'list')),
  person_id   INTEGER REFERENCES people(id) ON DELETE SET NULL,
  created_at  INTEGER NOT NULL
);
CREATE INDEX addresses_person ON addresses(person_id);
CREATE INDEX addresses_org_domain ON addresses(org_domain);

CREATE TABLE threads (
  id          INTEGER PRIMARY KEY,
  root_key    TEXT NOT NULL UNIQUE           -- Message-ID of the thread's root
);

CREATE TABLE sources (
  id          INTEGER PRIMARY KEY,
  kind        TEXT NOT NULL CHECK (kind IN ('maildir', 'mbox', 'file', 'imap')),
  uri         TEXT NOT NULL UNIQUE,
  state       TEXT,                          -- kind-specific resume state
  last_scan   INTEGER
);

-- One interaction per message. message_id is the Message-ID, or
-- 'sha256:<hex>' of the message content when it has none.
CREATE TABLE interactions (
  id          INTEGER PRIMARY KEY,
  message_id  TEXT NOT NULL UNIQUE,
  kind        TEXT NOT NULL DEFAULT 'mail' CHECK (kind IN ('mail', 'meeting')),
  direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  internal    INTEGER NOT NULL DEFAULT 0,    -- only the user and colleagues took part
  bulk        INTEGER NOT NULL DEFAULT 0,    -- list, bulk or automatic mail
  date_utc    INTEGER NOT NULL,
  tz_offset   INTEGER NOT NULL DEFAULT 0,    -- original offset in minutes east of UTC
  subject     TEXT,
  thread_id   INTEGER REFERENCES threads(id),
  in_reply_to TEXT,
  source_id   INTEGER REFERENCES sources(id) ON DELETE SET NULL,
  location    TEXT,                          -- where the body lives locally (file, mbox offset)
  created_at  INTEGER NOT NULL
);
-- No index on date_utc: no query needs one yet (timelines reach a person's interactions
-- through participants and sort those), and each index is a random insert per message.
CREATE INDEX interactions_thread ON interactions(thread_id);

CREATE TABLE participants (
  interaction_id INTEGER NOT NULL REFERENCES interactions(id) ON DELETE CASCADE,
  address_id     INTEGER NOT NULL REFERENCES addresses(id),
  -- from, sender, reply-to, to, cc, bcc, organizer, attendee. Not a CHECK (... IN ...):
  -- SQLite builds a temporary b-tree per row for such lists, and this is the hottest table.
  role           TEXT NOT NULL,
  display_name   TEXT,
  PRIMARY KEY (interaction_id, address_id, role)
) WITHOUT ROWID;
CREATE INDEX participants_address ON participants(address_id, interaction_id);

CREATE TABLE tags (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  kind        TEXT NOT NULL DEFAULT 'topic'
              CHECK (kind IN ('topic', 'interest', 'industry', 'product', 'meeting-kind', 'other')),
  created_at  INTEGER NOT NULL
);

-- A tag on an entity, with where it came from. A person removing a tag
-- leaves a row with removed = 1 so that rules do not put it back.
CREATE TABLE tag_assignments (
  tag_id      INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
  entity_type TEXT NOT NULL CHECK (entity_type IN ('person', 'organisation', 'interaction')),
  entity_id   INTEGER NOT NULL,
  origin      TEXT NOT NULL CHECK (origin IN ('rule', 'person', 'topic')),
  rule        TEXT,
  evidence    TEXT,
  assigned_by TEXT,
  removed     INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (tag_id, entity_type, entity_id)
) WITHOUT ROWID;
CREATE INDEX tag_assignments_entity ON tag_assignments(entity_type, entity_id);

-- Buying-process roles a person holds, several at once.
CREATE TABLE person_roles (
  person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  role        TEXT NOT NULL
              CHECK (role IN ('suspect', 'prospect', 'lead', 'customer', 'consumer', 'buyer')),
  since       INTEGER NOT NULL,
  origin      TEXT NOT NULL CHECK (origin IN ('rule', 'person')),
  reason      TEXT,
  PRIMARY KEY (person_id, role)
) WITHOUT ROWID;

-- The sync change log: every change to shared facts, by natural key.
CREATE TABLE changes (
  seq         INTEGER PRIMARY KEY,
  op_id       TEXT NOT NULL UNIQUE,
  device      TEXT NOT NULL,
  hlc         INTEGER NOT NULL,              -- hybrid logical clock: ms << 16 | counter
  entity      TEXT NOT NULL,
  natural_key TEXT NOT NULL,
  op          TEXT NOT NULL,                 -- upsert, delete, add, remove (no CHECK: hot path)
  fields      TEXT NOT NULL,                 -- JSON object; '{}' for an interaction captured from
                                             -- mail: immutable, serialised from its rows at push time
  acked       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX changes_unacked ON changes(acked, seq);

-- Files of a Maildir already imported, by their unique name (before ':2,').
CREATE TABLE maildir_seen (
  source_id      INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  interaction_id INTEGER REFERENCES interactions(id) ON DELETE SET NULL,
  PRIMARY KEY (source_id, name)
) WITHOUT ROWID;

-- What could not be imported, and why, so it can be reviewed and retried.
CREATE TABLE import_problems (
  id          INTEGER PRIMARY KEY,
  source_id   INTEGER REFERENCES sources(id) ON DELETE CASCADE,
  location    TEXT NOT NULL,
  reason      TEXT NOT NULL,
  at          INTEGER NOT NULL,
  UNIQUE (source_id, location)
);

CREATE TABLE store_meta (
  key         TEXT PRIMARY KEY,
  value       TEXT NOT NULL
);
