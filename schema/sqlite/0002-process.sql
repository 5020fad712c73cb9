-- SalesGetter local store, migration: sales process management.
-- Pipelines and stages, sales processes (opportunities) with their contacts and an
-- append-only stage history, lead sources, customer-experience notes, unfulfilled
-- requests, links between interactions and processes, and stage suggestions.
-- Natural keys for sync: a pipeline by its name, a stage by (pipeline name, stage name),
-- a process / note / request by the UUID made when it was created, a lead source by its
-- name. Integer ids are local to this store. Money is stored in minor units (cents) as
-- INTEGER with an ISO 4217 currency code, never as a float.

CREATE TABLE pipelines (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  description TEXT,
  created_at  INTEGER NOT NULL
);

-- kind: 'open' (the process is being worked on), 'won' and 'lost' (closed), 'post'
-- (after a won close, such as follow-up: the outcome stays won). A stage that left the
-- pipeline's definition but is still used by a process is kept with retired = 1.
CREATE TABLE stages (
  id          INTEGER PRIMARY KEY,
  pipeline_id INTEGER NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  position    INTEGER NOT NULL,
  probability INTEGER NOT NULL CHECK (probability BETWEEN 0 AND 100),
  kind        TEXT NOT NULL DEFAULT 'open' CHECK (kind IN ('open', 'won', 'lost', 'post')),
  keywords    TEXT,                          -- ';'-separated words that suggest this stage
  retired     INTEGER NOT NULL DEFAULT 0,
  UNIQUE (pipeline_id, name)
);

CREATE TABLE lead_sources (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,          -- natural key: 'inbound', 'list:Trade fair 2026'
  kind        TEXT NOT NULL CHECK (kind IN ('management', 'analyst-referral', 'rented-list',
                                             'event', 'existing-customer', 'inbound', 'other')),
  detail      TEXT,                          -- a list's or an event's name
  credited_to TEXT,                          -- address of the colleague credited
  builtin     INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL
);

-- Where a person came from (a prospect list, a colleague's mail...). Several per person.
CREATE TABLE person_lead_sources (
  person_id      INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  lead_source_id INTEGER NOT NULL REFERENCES lead_sources(id) ON DELETE CASCADE,
  added_at       INTEGER NOT NULL,
  PRIMARY KEY (person_id, lead_source_id)
) WITHOUT ROWID;

CREATE TABLE processes (
  id               INTEGER PRIMARY KEY,
  uuid             TEXT NOT NULL UNIQUE,     -- natural key
  title            TEXT,
  org_id           INTEGER NOT NULL REFERENCES organisations(id),
  account_manager  TEXT,                     -- the owner's address
  deliverable      TEXT NOT NULL,            -- what is sold ("Demand forecast 2027")
  deliverable_kind TEXT NOT NULL DEFAULT 'service' CHECK (deliverable_kind IN ('product', 'service')),
  deliverable_type TEXT,                     -- free text: research, forecasting, consulting...
  value_minor      INTEGER,                  -- in minor units of currency; NULL: not known yet
  currency         TEXT,                     -- ISO 4217
  cost_minor       INTEGER NOT NULL DEFAULT 0, -- cost of the sales process itself
  lead_source_id   INTEGER REFERENCES lead_sources(id),
  pipeline_id      INTEGER NOT NULL REFERENCES pipelines(id),
  stage_id         INTEGER NOT NULL REFERENCES stages(id),
  status           TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
  lost_reason      TEXT,
  opened_at        INTEGER NOT NULL,
  expected_close   INTEGER,
  closed_at        INTEGER,
  stage_since      INTEGER NOT NULL,
  last_activity    INTEGER,                  -- newest linked interaction
  created_by       TEXT,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
);
-- "Open processes of this organisation" (insight, linking, duplicate detection).
CREATE INDEX processes_org_status ON processes(org_id, status);
CREATE INDEX processes_owner ON processes(account_manager, status);

-- The people of the customer's side and their part in the buying process.
CREATE TABLE process_contacts (
  process_id  INTEGER NOT NULL REFERENCES processes(id) ON DELETE CASCADE,
  person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  part        TEXT NOT NULL CHECK (part IN ('decision-maker', 'influencer', 'user', 'gatekeeper',
                                            'buyer', 'champion', 'contact')),
  added_by    TEXT,
  added_at    INTEGER NOT NULL,
  PRIMARY KEY (process_id, person_id, part)
) WITHOUT ROWID;
CREATE INDEX process_contacts_person ON process_contacts(person_id, process_id);

-- Append-only: every open, move, close and reopen, with who and when.
CREATE TABLE stage_history (
  id          INTEGER PRIMARY KEY,
  process_id  INTEGER NOT NULL REFERENCES processes(id),
  event       TEXT NOT NULL CHECK (event IN ('open', 'move', 'close', 'reopen')),
  from_stage  TEXT,                          -- stage names: history survives renames
  to_stage    TEXT NOT NULL,
  moved_by    TEXT,
  moved_at    INTEGER NOT NULL,
  note        TEXT
);
CREATE INDEX stage_history_process ON stage_history(process_id, id);
CREATE TRIGGER stage_history_append_only_update BEFORE UPDATE ON stage_history
BEGIN SELECT RAISE(ABORT, 'stage history is append-only'); END;
CREATE TRIGGER stage_history_append_only_delete BEFORE DELETE ON stage_history
BEGIN SELECT RAISE(ABORT, 'stage history is append-only'); END;

-- Customer-experience notes (the life cycle after a sale, or any time).
CREATE TABLE cx_notes (
  id          INTEGER PRIMARY KEY,
  uuid        TEXT NOT NULL UNIQUE,
  org_id      INTEGER NOT NULL REFERENCES organisations(id),
  process_id  INTEGER REFERENCES processes(id),
  person_id   INTEGER REFERENCES people(id) ON DELETE SET NULL,
  text        TEXT NOT NULL,
  sentiment   TEXT NOT NULL DEFAULT 'neutral' CHECK (sentiment IN ('positive', 'neutral', 'negative')),
  author      TEXT,
  noted_at    INTEGER NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE INDEX cx_notes_org ON cx_notes(org_id, noted_at);

-- What a customer asked for that the company could not deliver.
CREATE TABLE unfulfilled_requests (
  id           INTEGER PRIMARY KEY,
  uuid         TEXT NOT NULL UNIQUE,
  what         TEXT NOT NULL,
  category     TEXT NOT NULL,
  org_id       INTEGER NOT NULL REFERENCES organisations(id),
  person_id    INTEGER REFERENCES people(id) ON DELETE SET NULL,
  process_id   INTEGER REFERENCES processes(id),
  requested_at INTEGER NOT NULL,
  recorded_by  TEXT,
  created_at   INTEGER NOT NULL
);
CREATE INDEX unfulfilled_requests_org ON unfulfilled_requests(org_id);

-- An interaction linked to a process. origin 'rule' rows are made by automatic linking,
-- 'person' rows by a person; a person's decision sticks: automatic linking never touches
-- an interaction that has a 'person' row, and an unlink by a person is kept as removed = 1.
CREATE TABLE interaction_links (
  interaction_id INTEGER NOT NULL REFERENCES interactions(id) ON DELETE CASCADE,
  process_id     INTEGER NOT NULL REFERENCES processes(id) ON DELETE CASCADE,
  origin         TEXT NOT NULL CHECK (origin IN ('rule', 'person')),
  reason         TEXT,
  removed        INTEGER NOT NULL DEFAULT 0,
  linked_by      TEXT,
  created_at     INTEGER NOT NULL,
  PRIMARY KEY (interaction_id, process_id)
) WITHOUT ROWID;
CREATE INDEX interaction_links_process ON interaction_links(process_id, interaction_id);

-- Stages suggested by captured activity; offered, never applied by themselves.
CREATE TABLE stage_suggestions (
  id             INTEGER PRIMARY KEY,
  process_id     INTEGER NOT NULL REFERENCES processes(id) ON DELETE CASCADE,
  stage          TEXT NOT NULL,
  interaction_id INTEGER REFERENCES interactions(id) ON DELETE CASCADE,
  reason         TEXT NOT NULL,
  status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'dismissed')),
  created_at     INTEGER NOT NULL,
  UNIQUE (process_id, stage, interaction_id)
);

-- A role a person removed stays as removed = 1 so that the rules do not put it back.
ALTER TABLE person_roles ADD COLUMN removed INTEGER NOT NULL DEFAULT 0;

-- The built-in pipeline for problem-solving sales of services, and the built-in lead
-- sources. A pipelines file may redefine 'default'; see docs/internals/process.md.
INSERT INTO pipelines (name, description, created_at)
  VALUES ('default', 'Problem-solving sales of services', CAST(strftime('%s', 'now') AS INTEGER));
INSERT INTO stages (pipeline_id, name, position, probability, kind, keywords) VALUES
  (1, 'identified',     1,   5, 'open', NULL),
  (1, 'qualified',      2,  15, 'open', 'qualification;budget;timeline'),
  (1, 'needs analysed', 3,  30, 'open', 'requirements;needs analysis;briefing;workshop'),
  (1, 'proposal',       4,  50, 'open', 'proposal;offer;quotation;quote'),
  (1, 'negotiation',    5,  75, 'open', 'negotiation;contract;terms;pricing'),
  (1, 'closed won',     6, 100, 'won',  'purchase order;signed contract'),
  (1, 'closed lost',    7,   0, 'lost', NULL),
  (1, 'follow-up',      8, 100, 'post', 'follow-up;kick-off;debrief');
INSERT INTO lead_sources (name, kind, builtin, created_at) VALUES
  ('management',        'management',        1, CAST(strftime('%s', 'now') AS INTEGER)),
  ('analyst-referral',  'analyst-referral',  1, CAST(strftime('%s', 'now') AS INTEGER)),
  ('rented-list',       'rented-list',       1, CAST(strftime('%s', 'now') AS INTEGER)),
  ('event',             'event',             1, CAST(strftime('%s', 'now') AS INTEGER)),
  ('existing-customer', 'existing-customer', 1, CAST(strftime('%s', 'now') AS INTEGER)),
  ('inbound',           'inbound',           1, CAST(strftime('%s', 'now') AS INTEGER));
