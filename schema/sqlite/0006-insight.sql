-- Migration 3 (issue 5): saved customer selections.
-- The integrator may renumber this file; nothing refers to its number.

-- A selection expression (docs/internals/insight.md) saved under a name. The expression is
-- kept as written and parsed again when run, so that a grammar extension never needs a
-- data migration. Logged as entity 'selection' keyed by name (schema/sync.md).
CREATE TABLE saved_selections (
  name        TEXT PRIMARY KEY,
  expression  TEXT NOT NULL,
  created_by  TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
