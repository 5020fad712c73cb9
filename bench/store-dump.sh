#!/bin/sh
# store-dump.sh STORE: what an import wrote, in a fixed order and by natural keys (no row ids,
# no creation times, no change-log clocks), so that two imports of the same mail can be
# compared with diff(1):
#
#   bench/store-dump.sh before.db > before.txt; bench/store-dump.sh after.db > after.txt
#   diff before.txt after.txt && echo identical
#
# Sections: interactions, participants, people, organisations, person facts, topics, tags,
# roles, meetings, and the change log's ops (entity, key, op, fields).
set -eu
[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: store-dump.sh STORE" >&2; exit 2; }
sqlite3 -readonly -batch "$1" <<'EOF'
.mode list
.separator "\t"
SELECT '# interactions';
SELECT message_id, kind, direction, internal, bulk, date_utc, tz_offset, subject,
       (SELECT root_key FROM threads t WHERE t.id = i.thread_id), in_reply_to, location
FROM interactions i ORDER BY message_id;
SELECT '# participants';
SELECT i.message_id, a.address, p.role, p.display_name
FROM participants p JOIN interactions i ON i.id = p.interaction_id JOIN addresses a ON a.id = p.address_id
ORDER BY 1, 2, 3;
SELECT '# addresses';
SELECT address, domain, org_domain, kind,
       (SELECT min(a2.address) FROM addresses a2 WHERE a2.person_id = a.person_id)
FROM addresses a ORDER BY address;
SELECT '# people';
SELECT (SELECT min(address) FROM addresses a WHERE a.person_id = p.id), name, name_score, name_date,
       (SELECT domain FROM organisations o WHERE o.id = p.org_id), kind, first_seen, last_seen
FROM people p ORDER BY 1, name;
SELECT '# organisations';
SELECT domain, name, kind, industry, first_seen, last_seen FROM organisations ORDER BY domain;
SELECT '# person facts';
SELECT (SELECT min(address) FROM addresses a WHERE a.person_id = f.person_id), kind, detail, value,
       confidence, origin, (SELECT message_id FROM interactions i WHERE i.id = f.interaction_id),
       first_seen, observed, times
FROM person_facts f ORDER BY 1, kind, detail, value;
SELECT '# topics';
SELECT i.message_id, t.stem, t.phrase, t.lang, t.count
FROM interaction_topics t JOIN interactions i ON i.id = t.interaction_id ORDER BY 1, 2;
SELECT '# tags';
SELECT g.name, g.kind, a.entity_type,
       CASE a.entity_type
         WHEN 'person' THEN (SELECT min(address) FROM addresses x WHERE x.person_id = a.entity_id)
         WHEN 'organisation' THEN (SELECT domain FROM organisations o WHERE o.id = a.entity_id)
         ELSE (SELECT message_id FROM interactions i WHERE i.id = a.entity_id) END,
       a.origin, a.rule, a.evidence, a.assigned_by, a.removed
FROM tag_assignments a JOIN tags g ON g.id = a.tag_id ORDER BY 1, 3, 4;
SELECT '# roles';
SELECT (SELECT min(address) FROM addresses a WHERE a.person_id = r.person_id), role, since, origin,
       reason, removed
FROM person_roles r ORDER BY 1, 2;
SELECT '# meetings';
SELECT uid, recurrence_id, (SELECT message_id FROM interactions i WHERE i.id = m.interaction_id),
       summary, start_utc, end_utc, all_day, tz, rrule, status, sequence, method
FROM meetings m ORDER BY uid, recurrence_id;
SELECT '# change log';
SELECT entity, natural_key, op, fields FROM changes ORDER BY seq;
EOF
