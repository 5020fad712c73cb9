#!/usr/bin/env python3
"""dashboard-bench: the managers' dashboard on a team-sized server state.

    bench/dashboard-bench.py [-b BUILDDIR] [--processes N] [--loads K]

Starts a throw-away PostgreSQL and salesgetter-server (tests/e2e/sgserver.py), fills the
contract's state with N processes (20 account managers, 3 currencies, 8 lead sources), their
stage history (4 entries each), N/2 unfulfilled requests and 2N lead credits, as the server
would hold them after sync, plus 2,000 organisations with industries and N
customer-experience notes (a quarter without their text, as a device that does not share
them sends them), logs a manager in and times K loads of each page (the overview: four
reports in one snapshot; the closing-ratio page; the notes page) and of each chart over
loopback HTTP. Prints median and worst wall time, and the CPU time per load of the server
and its PostgreSQL backends (from /proc: repeatable on a loaded machine, wall times are
not)."""

import argparse
import hashlib
import http.client
import os
import statistics
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'e2e'))
sys.dont_write_bytecode = True

ap = argparse.ArgumentParser()
ap.add_argument('-b', '--build', default=os.path.join(HERE, '..', 'build'))
ap.add_argument('--processes', type=int, default=5000)
ap.add_argument('--loads', type=int, default=20)
args = ap.parse_args()
os.environ.setdefault('SG_BUILDDIR', os.path.abspath(args.build))
os.environ.setdefault('SG_SERVER', os.path.join(os.path.abspath(args.build), 'server', 'salesgetter-server'))

import sgtest  # noqa: E402
import sgserver  # noqa: E402

N = args.processes
pg = sgserver.Postgres.start()
srv = sgserver.Server.start(pg)
srv.user_add('boss', 'manager', ['boss@ourco.example'])
token = srv.token_new('boss')
uid = pg.scalar("SELECT id FROM users WHERE login = 'boss'")
t0 = time.monotonic()
pg.psql(pg.dbname, """
INSERT INTO entity_state (entity, natural_key, fields)
SELECT 'process', 'p-' || i, jsonb_build_object(
  'organisation', 'org' || (i % 2000) || '.example', 'account_manager', 'am' || (i % 20) || '@ourco.example',
  'currency', (ARRAY['EUR','USD','GBP'])[1 + i % 3], 'value_minor', 100000 + (i * 7919) % 5000000,
  'cost_minor', (i * 31) % 100000, 'lead_source', (ARRAY['event','inbound','management','analyst-referral',
  'rented-list','existing-customer','list:A','list:B'])[1 + i % 8], 'pipeline', 'default',
  'stage', (ARRAY['identified','qualified','needs analysed','proposal','negotiation','closed won','closed lost'])[1 + i % 7],
  'status', CASE i % 7 WHEN 5 THEN 'won' WHEN 6 THEN 'lost' ELSE 'open' END,
  'opened_at', 1735689600 + (i * 6311) % 31536000,
  'deliverable_kind', CASE WHEN i % 3 = 0 THEN 'product' ELSE 'service' END,
  'deliverable_type', (ARRAY['research','forecasting','consulting','licence','training',NULL])[1 + i % 6])
FROM generate_series(1, %(n)d) i;
INSERT INTO entity_state (entity, natural_key, fields)
SELECT 'organisation', 'org' || i || '.example', jsonb_build_object('name', 'Org ' || i, 'kind', 'external',
  'industry', (ARRAY['retail','manufacturing','energy','public sector','finance',NULL])[1 + i %% 6])
FROM generate_series(0, 1999) i;
INSERT INTO entity_state (entity, natural_key, fields, field_hlc)
SELECT 'cx_note', 'n-' || i, jsonb_build_object('organisation', 'org' || (i %% 2000) || '.example',
  'sentiment', (ARRAY['positive','neutral','negative'])[1 + i %% 3], 'author', 'am' || (i %% 20) || '@ourco.example',
  'noted_at', 1735689600 + (i * 5113) %% 31536000)
  || CASE WHEN i %% 4 = 0 THEN '{}'::jsonb ELSE jsonb_build_object('text', 'note ' || i) END,
  jsonb_build_object('noted_at', lpad(to_hex(i), 16, '0'))
FROM generate_series(1, %(n)d) i;
INSERT INTO entity_history (op_id, entity, natural_key, hlc, fields, user_id)
SELECT 'h-' || i || '-' || k, 'stage_history', 'p-' || i, lpad(to_hex(i * 10 + k), 16, '0'),
  jsonb_build_object('event', CASE WHEN k = 0 THEN 'open' WHEN k = 3 AND i %% 7 IN (5, 6) THEN 'close' ELSE 'move' END,
    'from_stage', (ARRAY[NULL,'identified','qualified','proposal'])[k + 1],
    'to_stage', CASE WHEN k = 3 AND i %% 7 = 5 THEN 'closed won' WHEN k = 3 AND i %% 7 = 6 THEN 'closed lost'
                ELSE (ARRAY['identified','qualified','proposal','negotiation'])[k + 1] END,
    'moved_at', 1735689600 + (i * 6311) %% 31536000 + k * 86400 * (1 + i %% 9)), %(uid)s
FROM generate_series(1, %(n)d) i, generate_series(0, 3) k;
INSERT INTO entity_state (entity, natural_key, fields)
SELECT 'request', 'r-' || i, jsonb_build_object('organisation', 'org' || (i %% 2000) || '.example',
  'category', (ARRAY['training','integration','language','pricing'])[1 + i %% 4], 'what', 'request ' || i,
  'requested_at', 1735689600 + (i * 7717) %% 31536000)
FROM generate_series(1, %(h)d) i;
INSERT INTO set_members (entity, natural_key, added_hlc)
SELECT 'person_lead_source', 'p' || i || '@x.example|' || (ARRAY['event','inbound','list:A','list:B'])[1 + i %% 4],
  lpad(to_hex(((1735689600000 + (i::bigint * 7717) %% 31536000000) << 16)), 16, '0')
FROM generate_series(1, %(l)d) i;
ANALYZE;
""".replace('%(n)d', str(N)).replace('%(h)d', str(N // 2)).replace('%(l)d', str(2 * N)).replace('%(uid)s', str(uid))
   .replace('%%', '%'))
fill = time.monotonic() - t0

conn = http.client.HTTPConnection('127.0.0.1', srv.port, timeout=120)
conn.request('POST', '/dashboard/login', body=urllib.parse.urlencode({'login': 'boss', 'token': token}),
             headers={'Content-Type': 'application/x-www-form-urlencoded'})
r = conn.getresponse()
r.read()
cookie = r.getheader('Set-Cookie').split(';')[0]


TICK = os.sysconf('SC_CLK_TCK')


def team_cpu():
    """CPU seconds (user + system) of salesgetter-server and of every PostgreSQL process of
    the cluster (the postmaster's children: the server's pooled backends): repeatable under
    load where wall times are not."""
    with open(os.path.join(pg.data, 'postmaster.pid')) as f:
        postmaster = int(f.readline())
    pids = {srv.proc.pid, postmaster}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/stat' % entry) as f:
                    fields = f.read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                pids.add(int(entry))
    total = 0
    for pid in pids:
        try:
            with open('/proc/%d/stat' % pid) as f:
                fields = f.read().rsplit(')', 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / TICK


def timed(path):
    times = []
    size = 0
    cpu0 = team_cpu()
    for _ in range(args.loads):
        t = time.monotonic()
        conn.request('GET', path, headers={'Cookie': cookie})
        resp = conn.getresponse()
        body = resp.read()
        times.append(time.monotonic() - t)
        if resp.status != 200:
            raise RuntimeError('%s: %d %s' % (path, resp.status, body[:300]))
        size = len(body)
    return statistics.median(times) * 1000, max(times) * 1000, size, (team_cpu() - cpu0) * 1000 / args.loads


print('dashboard-bench: %d processes, %d history entries, %d requests, %d lead credits, 2000 organisations, '
      '%d notes (filled in %.1f s)' % (N, 4 * N, N // 2, 2 * N, N, fill))
for path in ('/dashboard', '/dashboard?owner=am3%40ourco.example', '/dashboard?from=2025-03-01&to=2025-06-01',
             '/dashboard/closing', '/dashboard/closing?owner=am3%40ourco.example',
             '/dashboard/closing?from=2025-03-01&to=2025-06-01', '/dashboard/notes',
             '/dashboard/notes?from=2025-03-01&to=2025-06-01',
             '/dashboard/chart/stages.svg', '/dashboard/chart/managers.svg', '/dashboard/chart/sources.svg',
             '/dashboard/chart/requests.svg', '/dashboard/chart/closing.svg', '/dashboard/chart/notes.svg',
             '/dashboard/chart/stages-time.svg'):
    med, worst, size, cpu = timed(path)
    print('  %-48s median %7.1f ms  worst %7.1f ms  CPU %6.1f ms/load  (%d bytes, %d loads)'
          % (path, med, worst, cpu, size, args.loads))
conn.close()
srv.stop()
