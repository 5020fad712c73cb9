-- SalesGetter local store, migration: CHECK constraints without IN lists.
--
-- SQLite compiles `CHECK (kind IN ('a', 'b', 'c'))` into an ephemeral index that it builds
-- afresh at every INSERT and UPDATE of the row (OpenEphemeral and one IdxInsert per value,
-- see `EXPLAIN INSERT`): thousands of instructions per row on the import's and the sync's
-- hot tables (people, addresses, interactions, tag_assignments...). `kind = 'a' OR kind =
-- 'b' OR ...` accepts and refuses exactly the same values (NULL included: both give NULL,
-- which a CHECK lets through; both compare with the column's TEXT affinity and BINARY
-- collation) and compiles into a few comparisons.
--
-- The constraints accept the same rows, so every row stored is still valid and the tables'
-- SQL text is edited in place, as 0007 did: the procedure SQLite documents for changing
-- constraints ("Making Other Kinds Of Table Schema Changes", lang_altertable.html), RESET
-- reloading the schema. New CHECKs should be written with OR (tests/unit/test-store.c,
-- /store/checks-without-in, fails on an IN list).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql,
      'CHECK (kind IN (''external'', ''internal''))',
      'CHECK (kind = ''external'' OR kind = ''internal'')')
  WHERE type = 'table' AND name = 'organisations';
UPDATE sqlite_schema SET sql = replace(sql,
      'CHECK (kind IN (''contact'', ''colleague'', ''self''))',
      'CHECK (kind = ''contact'' OR kind = ''colleague'' OR kind = ''self'')')
  WHERE type = 'table' AND name = 'people';
UPDATE sqlite_schema SET sql = replace(sql,
      'CHECK (kind IN (''personal'', ''role'', ''noreply'', ''list''))',
      'CHECK (kind = ''personal'' OR kind = ''role'' OR kind = ''noreply'' OR kind = ''list'')')
  WHERE type = 'table' AND name = 'addresses';
UPDATE sqlite_schema SET sql = replace(sql,
      'CHECK (kind IN (''maildir'', ''mbox'', ''file'', ''imap'', ''caldav''))',
      'CHECK (kind = ''maildir'' OR kind = ''mbox'' OR kind = ''file'' OR kind = ''imap'' OR kind = ''caldav'')')
  WHERE type = 'table' AND name = 'sources';
UPDATE sqlite_schema SET sql = replace(replace(sql,
      'CHECK (kind IN (''mail'', ''meeting''))',
      'CHECK (kind = ''mail'' OR kind = ''meeting'')'),
      'CHECK (direction IN (''in'', ''out''))',
      'CHECK (direction = ''in'' OR direction = ''out'')')
  WHERE type = 'table' AND name = 'interactions';
UPDATE sqlite_schema SET sql = replace(sql,
      'CHECK (kind IN (''topic'', ''interest'', ''industry'', ''product'', ''meeting-kind'', ''other''))',
      'CHECK (kind = ''topic'' OR kind = ''interest'' OR kind = ''industry'' OR kind = ''product'' OR kind = ''meeting-kind'' OR kind = ''other'')')
  WHERE type = 'table' AND name = 'tags';
UPDATE sqlite_schema SET sql = replace(replace(sql,
      'CHECK (entity_type IN (''person'', ''organisation'', ''interaction''))',
      'CHECK (entity_type = ''person'' OR entity_type = ''organisation'' OR entity_type = ''interaction'')'),
      'CHECK (origin IN (''rule'', ''person'', ''topic''))',
      'CHECK (origin = ''rule'' OR origin = ''person'' OR origin = ''topic'')')
  WHERE type = 'table' AND name = 'tag_assignments';
UPDATE sqlite_schema SET sql = replace(replace(sql,
      'CHECK (role IN (''suspect'', ''prospect'', ''lead'', ''customer'', ''consumer'', ''buyer''))',
      'CHECK (role = ''suspect'' OR role = ''prospect'' OR role = ''lead'' OR role = ''customer'' OR role = ''consumer'' OR role = ''buyer'')'),
      'CHECK (origin IN (''rule'', ''person''))',
      'CHECK (origin = ''rule'' OR origin = ''person'')')
  WHERE type = 'table' AND name = 'person_roles';
UPDATE sqlite_schema SET sql = replace(sql,
      'CHECK (kind IN (''open'', ''won'', ''lost'', ''post''))',
      'CHECK (kind = ''open'' OR kind = ''won'' OR kind = ''lost'' OR kind = ''post'')')
  WHERE type = 'table' AND name = 'stages';
UPDATE sqlite_schema SET sql = replace(sql,
      'CHECK (kind IN (''management'', ''analyst-referral'', ''rented-list'',
                                             ''event'', ''existing-customer'', ''inbound'', ''other''))',
      'CHECK (kind = ''management'' OR kind = ''analyst-referral'' OR kind = ''rented-list'' OR
                                             kind = ''event'' OR kind = ''existing-customer'' OR kind = ''inbound'' OR kind = ''other'')')
  WHERE type = 'table' AND name = 'lead_sources';
UPDATE sqlite_schema SET sql = replace(replace(sql,
      'CHECK (deliverable_kind IN (''product'', ''service''))',
      'CHECK (deliverable_kind = ''product'' OR deliverable_kind = ''service'')'),
      'CHECK (status IN (''open'', ''won'', ''lost''))',
      'CHECK (status = ''open'' OR status = ''won'' OR status = ''lost'')')
  WHERE type = 'table' AND name = 'processes';
UPDATE sqlite_schema SET sql = replace(sql,
      'CHECK (part IN (''decision-maker'', ''influencer'', ''user'', ''gatekeeper'',
                                            ''buyer'', ''champion'', ''contact''))',
      'CHECK (part = ''decision-maker'' OR part = ''influencer'' OR part = ''user'' OR part = ''gatekeeper'' OR
                                            part = ''buyer'' OR part = ''champion'' OR part = ''contact'')')
  WHERE type = 'table' AND name = 'process_contacts';
UPDATE sqlite_schema SET sql = replace(sql,
      'CHECK (event IN (''open'', ''move'', ''close'', ''reopen''))',
      'CHECK (event = ''open'' OR event = ''move'' OR event = ''close'' OR event = ''reopen'')')
  WHERE type = 'table' AND name = 'stage_history';
UPDATE sqlite_schema SET sql = replace(sql,
      'CHECK (sentiment IN (''positive'', ''neutral'', ''negative''))',
      'CHECK (sentiment = ''positive'' OR sentiment = ''neutral'' OR sentiment = ''negative'')')
  WHERE type = 'table' AND name = 'cx_notes';
UPDATE sqlite_schema SET sql = replace(sql,
      'CHECK (origin IN (''rule'', ''person''))',
      'CHECK (origin = ''rule'' OR origin = ''person'')')
  WHERE type = 'table' AND name = 'interaction_links';
UPDATE sqlite_schema SET sql = replace(sql,
      'CHECK (status IN (''open'', ''accepted'', ''dismissed''))',
      'CHECK (status = ''open'' OR status = ''accepted'' OR status = ''dismissed'')')
  WHERE type = 'table' AND name = 'stage_suggestions';
UPDATE sqlite_schema SET sql = replace(replace(sql,
      'CHECK (kind IN (''title'', ''organisation'', ''phone'', ''address'', ''website''))',
      'CHECK (kind = ''title'' OR kind = ''organisation'' OR kind = ''phone'' OR kind = ''address'' OR kind = ''website'')'),
      'CHECK (origin IN (''signature'', ''vcard''))',
      'CHECK (origin = ''signature'' OR origin = ''vcard'')')
  WHERE type = 'table' AND name = 'person_facts';
PRAGMA writable_schema = RESET;
