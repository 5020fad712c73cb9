#!/usr/bin/env python3
"""server-bench: salesgetter-server against a real PostgreSQL (bench/README.md, "Server").

1. relay: N ops (default 100k) pushed by one client in batches of 5000, then pulled by a
   second client with limit 5000; the time from the first push to the last op pulled, and a
   check that the second client got every op exactly once.
2. concurrent: C clients (default 50, separate processes, 5 users) each make B requests that
   push S ops and pull (limit 1000) at once, and after every request that pushed, --pulls
   requests that only pull (clients that are behind catch up); ops/s over the run, HTTP
   errors, p50/p99 request latency, the CPU of the server, of PostgreSQL and of the clients,
   and a check that the database holds every op once and that a final pull returns them
   all (no lost ops).

Usage: bench/server-bench.py [-b BUILD] [--ops 100000] [--clients 50] [--batches 10]
       [--batch-size 200] [--pulls 0] [--threads 4] [--skip-relay] [--skip-concurrent]
Needs PostgreSQL (Debian postgresql) and a built salesgetter-server. Python 3 stdlib only.
"""

import argparse
import multiprocessing
import os
import resource
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'e2e'))


def client_proc(args):
    import sgserver
    url, token, n, batches, size, pulls, start_at = args
    d = sgserver.Device()
    errors, pushed, pulled, cursor, lat = 0, [], 0, '', []
    while time.time() < start_at:
        time.sleep(0.001)
    t0 = time.time()
    for b in range(batches):
        ops = [d.op('person', 'c%d-%d-%d@bench.example' % (n, b, i),
                    fields={'name': 'Person %d %d' % (b, i), 'kind': 'contact'}) for i in range(size)]
        r0 = time.time()
        try:
            st, a = sgserver.sync(url, token, d.id, ops, cursor=cursor, limit=1000)
        except OSError:
            st, a = 0, None
        lat.append(time.time() - r0)
        if st != 200 or len(a['acked']) != size:
            errors += 1
            continue
        pushed += [o['op_id'] for o in ops]
        pulled += len(a['ops'])
        cursor = a['cursor']
        for _ in range(pulls):
            r0 = time.time()
            try:
                st, a = sgserver.sync(url, token, d.id, cursor=cursor, limit=1000)
            except OSError:
                st, a = 0, None
            lat.append(time.time() - r0)
            if st != 200:
                errors += 1
                continue
            pulled += len(a['ops'])
            cursor = a['cursor']
    return errors, pushed, pulled, t0, time.time(), lat


def cpu_seconds(pids):
    """User + system CPU seconds used so far by PIDS (with the children they reaped) and their
    live children (PostgreSQL backends are the postmaster's children)."""
    tick = os.sysconf('SC_CLK_TCK')
    total = 0.0
    children = set()
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open('/proc/%s/stat' % d) as f:
                    fields = f.read().rsplit(')', 1)[1].split()
                if int(fields[1]) in pids:
                    children.add(int(d))
            except OSError:
                pass
    for p in set(pids) | children:
        try:
            with open('/proc/%d/stat' % p) as f:
                fields = f.read().rsplit(')', 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            if p in pids:
                total += (int(fields[13]) + int(fields[14])) / tick  # cutime, cstime
        except OSError:
            pass
    return total


def percentile(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float('nan')


def postmaster_pid(pg):
    with open(os.path.join(pg.data, 'postmaster.pid')) as f:
        return int(f.readline())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-b', '--build', default=os.path.join(HERE, '..', 'build'))
    ap.add_argument('--ops', type=int, default=100000)
    ap.add_argument('--clients', type=int, default=50)
    ap.add_argument('--batches', type=int, default=10)
    ap.add_argument('--batch-size', type=int, default=200)
    ap.add_argument('--pulls', type=int, default=0)
    ap.add_argument('--threads', type=int, default=4)
    ap.add_argument('--skip-relay', action='store_true')
    ap.add_argument('--skip-concurrent', action='store_true')
    opts = ap.parse_args()
    os.environ['SG_SERVER'] = os.path.join(os.path.abspath(opts.build), 'server', 'salesgetter-server')
    os.environ.setdefault('SG_BUILDDIR', os.path.abspath(opts.build))
    import sgserver

    pg = sgserver.Postgres.start()
    # No request limit: the bench measures what the server can do (5 tokens, 50 clients).
    srv = sgserver.Server.start(pg, threads=opts.threads, extra_conf='[limits]\nsync-per-minute = 0\n')
    for u, role in (('u0', 'manager'), ('u1', 'account-manager'), ('u2', 'account-manager'), ('u3', 'analyst'),
                    ('u4', 'manager')):
        srv.user_add(u, role, ['%s@ourco.example' % u])
    tokens = [srv.token_new('u%d' % i) for i in range(5)]

    print('load average before: %s' % open('/proc/loadavg').read().split()[0])
    if not opts.skip_relay:
        relay(opts, srv, tokens, srv.proc.pid, postmaster_pid(pg))
    if not opts.skip_concurrent:
        concurrent(opts, pg, srv, tokens)
    print('load average after: %s' % open('/proc/loadavg').read().split()[0])
    srv.stop()


def relay(opts, srv, tokens, spid, ppid):
    from sgserver import Device, sync, pull_all
    a, b = Device(), Device()
    ops = [a.op('person', 'p%d@relay.example' % i, fields={'name': 'Person %d' % i, 'kind': 'contact',
                                                            'org': 'org%d.example' % (i % 997)})
           for i in range(opts.ops)]
    s0, p0 = cpu_seconds({spid}), cpu_seconds({ppid})
    t0 = time.time()
    for i in range(0, len(ops), 5000):
        st, ans = sync(srv.url, tokens[1], a.id, ops[i:i + 5000])
        assert st == 200 and len(ans['acked']) == len(ops[i:i + 5000]), (st, str(ans)[:300])
    t_push = time.time() - t0
    s1, p1 = cpu_seconds({spid}), cpu_seconds({ppid})
    got, cursor, trips = pull_all(srv.url, tokens[0], b.id, limit=5000)
    t_all = time.time() - t0
    s2, p2 = cpu_seconds({spid}), cpu_seconds({ppid})
    ids = [o['op_id'] for o in got]
    ok = len(ids) == len(set(ids)) == opts.ops and set(ids) == set(o['op_id'] for o in ops)
    print('relay: %d ops pushed in %.2f s (%d requests), pulled by a second client in %.2f s (%d requests); '
          'total %.2f s; %s' % (opts.ops, t_push, (opts.ops + 4999) // 5000, t_all - t_push, trips, t_all,
                                'every op once' if ok else 'MISMATCH: %d pulled, %d distinct' % (len(ids), len(set(ids)))))
    print('relay CPU (user+system): push: server %.2f s + PostgreSQL %.2f s = %.1f us per op; '
          'pull: server %.2f s + PostgreSQL %.2f s = %.1f us per op' %
          (s1 - s0, p1 - p0, (s1 - s0 + p1 - p0) / opts.ops * 1e6,
           s2 - s1, p2 - p1, (s2 - s1 + p2 - p1) / opts.ops * 1e6))


def concurrent(opts, pg, srv, tokens):
    from sgserver import Device, pull_all
    before = pg.scalar('SELECT coalesce(max(seq), 0) FROM ops')
    spid, ppid = srv.proc.pid, postmaster_pid(pg)
    s0, p0 = cpu_seconds({spid}), cpu_seconds({ppid})
    k0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start_at = time.time() + 1.0
    jobs = [(srv.url, tokens[n % 5], n, opts.batches, opts.batch_size, opts.pulls, start_at)
            for n in range(opts.clients)]
    pool = multiprocessing.Pool(opts.clients)
    results = pool.map(client_proc, jobs)
    s_cpu, p_cpu = cpu_seconds({spid}) - s0, cpu_seconds({ppid}) - p0
    pool.close()
    pool.join()
    k1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    c_cpu = (k1.ru_utime + k1.ru_stime) - (k0.ru_utime + k0.ru_stime)
    errors = sum(r[0] for r in results)
    pushed = [i for r in results for i in r[1]]
    pulled = sum(r[2] for r in results)
    lat = [x for r in results for x in r[5]]
    elapsed = max(r[4] for r in results) - min(r[3] for r in results)
    stored = pg.scalar('SELECT count(*) FROM ops WHERE seq > %d' % before)
    final, _, _ = pull_all(srv.url, tokens[0], Device().id, cursor='s%d' % before)
    fids = set(o['op_id'] for o in final)
    lost = len(set(pushed) - fids)
    print('concurrent: %d clients x %d requests x %d ops (+%d pull-only requests after each) = %d ops pushed in '
          '%.2f s: %.0f ops/s pushed, %.0f ops/s pulled (%d ops), %.0f requests/s; %d errors; '
          'latency p50 %.0f ms, p99 %.0f ms; %d stored; %d lost; %d duplicated' %
          (opts.clients, opts.batches, opts.batch_size, opts.pulls, len(pushed), elapsed, len(pushed) / elapsed,
           pulled / elapsed, pulled, len(lat) / elapsed, errors, percentile(lat, 0.5) * 1e3,
           percentile(lat, 0.99) * 1e3, stored, lost, len(final) - len(fids)))
    n = max(1, len(pushed))
    print('concurrent CPU: server %.2f s, PostgreSQL %.2f s, together %.1f us per op pushed (pulls included); '
          'the Python clients %.2f s (%.1f us per op pushed)' %
          (s_cpu, p_cpu, (s_cpu + p_cpu) / n * 1e6, c_cpu, c_cpu / n * 1e6))


if __name__ == '__main__':
    main()
