-- SalesGetter local store, migration: what the text says (issue 9).
-- No body text is stored: the mailbox holds it (interactions.location), and what the
-- text says is kept as facts and topics. interaction_topics stay local (never in the change
-- log); person_facts are shared facts and go through the change log.

-- Facts about a person from their signatures and vCards. One row per (person, kind,
-- detail, value). Of the values of one kind (and, for phones, one detail) the one observed
-- last is current; the others are history. Which one is current is computed when asked
-- (sg_query_person_facts), not stored: keeping a flag up to date cost an UPDATE per fact on
-- the importer's one store thread. Unlabelled phones (detail 'phone') are all current.
CREATE TABLE person_facts (
  id             INTEGER PRIMARY KEY,
  person_id      INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  kind           TEXT NOT NULL
                 CHECK (kind IN ('title', 'organisation', 'phone', 'address', 'website')),
  detail         TEXT NOT NULL DEFAULT '',     -- phone: mobile, office, fax, phone
  value          TEXT NOT NULL,
  confidence     REAL NOT NULL,
  origin         TEXT NOT NULL CHECK (origin IN ('signature', 'vcard')),
  interaction_id INTEGER REFERENCES interactions(id) ON DELETE SET NULL, -- the latest source
  first_seen     INTEGER NOT NULL,             -- date of the first message that said it
  observed       INTEGER NOT NULL,             -- date of the latest message that said it
  times          INTEGER NOT NULL DEFAULT 1,   -- messages that said it
  UNIQUE (person_id, kind, detail, value)
);

-- Key phrases of each message (subject and own text). Local only.
CREATE TABLE interaction_topics (
  interaction_id INTEGER NOT NULL REFERENCES interactions(id) ON DELETE CASCADE,
  stem           TEXT NOT NULL,                -- Snowball stems joined by a space
  phrase         TEXT NOT NULL,                -- as first written
  lang           TEXT NOT NULL,
  count          INTEGER NOT NULL,
  PRIMARY KEY (interaction_id, stem)
) WITHOUT ROWID;
-- No index on stem: it would be a random insert for every topic of every message, and the
-- queries that group by stem read the table once.

-- The taxonomy as last applied (sg_topics_apply_taxonomy): which stemmed phrase means which
-- tag, so that topic listings can name the tags. Replaced whole on every apply.
CREATE TABLE taxonomy_map (
  tag_id       INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
  stem         TEXT NOT NULL,
  phrase       TEXT NOT NULL,
  min_messages INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX taxonomy_map_stem ON taxonomy_map(stem);
