#!/usr/bin/env python3
"""server-bench: salesgetter-server against a real PostgreSQL (bench/README.md, "Server").

1. relay: N ops (default 100k) pushed by one client in batches of 5000, then pulled by a
   second client with limit 5000; the time from the first push to the last op pulled, and a
   check that the second client got every op exactly once.
2. concurrent: C clients (default 50, separate processes, 5 users) each push B batches of
   S ops and pull (limit 1000) in the same request; ops/s over the run, HTTP errors, and a check that the
   database holds every op once and that a final pull returns them all (no lost ops).

Usage: bench/server-bench.py [-b BUILD] [--ops 100000] [--clients 50] [--batches 10]
       [--batch-size 200] [--threads 4]
Needs PostgreSQL (Debian postgresql) and a built salesgetter-server. Python 3 stdlib only.
"""

import argparse
import multiprocessing
import os
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'e2e'))


def client_proc(args):
    import sgserver
    url, token, n, batches, size, start_at = args
    d = sgserver.Device()
    errors, pushed, pulled, cursor = 0, [], 0, ''
    while time.time() < start_at:
        time.sleep(0.001)
    t0 = time.time()
    for b in range(batches):
        ops = [d.op('person', 'c%d-%d-%d@bench.example' % (n, b, i),
                    fields={'name': 'Person %d %d' % (b, i), 'kind': 'contact'}) for i in range(size)]
        st, a = sgserver.sync(url, token, d.id, ops, cursor=cursor, limit=1000)
        if st != 200 or len(a['acked']) != size:
            errors += 1
            continue
        pushed += [o['op_id'] for o in ops]
        pulled += len(a['ops'])
        cursor = a['cursor']
    return errors, pushed, pulled, t0, time.time()


def cpu_seconds(pids):
    """User + system CPU seconds used so far by PIDS and their children (PostgreSQL backends
    are the postmaster's children)."""
    tick = os.sysconf('SC_CLK_TCK')
    total = 0.0
    all_pids = set(pids)
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open('/proc/%s/stat' % d) as f:
                    fields = f.read().rsplit(')', 1)[1].split()
                if int(fields[1]) in pids:
                    all_pids.add(int(d))
            except OSError:
                pass
    for p in all_pids:
        try:
            with open('/proc/%d/stat' % p) as f:
                fields = f.read().rsplit(')', 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        except OSError:
            pass
    return total


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
    ap.add_argument('--threads', type=int, default=4)
    opts = ap.parse_args()
    os.environ['SG_SERVER'] = os.path.join(os.path.abspath(opts.build), 'server', 'salesgetter-server')
    os.environ.setdefault('SG_BUILDDIR', os.path.abspath(opts.build))
    import sgserver
    from sgserver import Device, sync, pull_all

    pg = sgserver.Postgres.start()
    srv = sgserver.Server.start(pg, threads=opts.threads, extra_conf='')
    for u, role in (('u0', 'manager'), ('u1', 'account-manager'), ('u2', 'account-manager'), ('u3', 'analyst'),
                    ('u4', 'manager')):
        srv.user_add(u, role, ['%s@ourco.example' % u])
    tokens = [srv.token_new('u%d' % i) for i in range(5)]

    pids = {srv.proc.pid, postmaster_pid(pg)}
    print('load average before: %s' % open('/proc/loadavg').read().split()[0])

    # 1. relay
    a, b = Device(), Device()
    ops = [a.op('person', 'p%d@relay.example' % i, fields={'name': 'Person %d' % i, 'kind': 'contact',
                                                            'org': 'org%d.example' % (i % 997)})
           for i in range(opts.ops)]
    c0 = cpu_seconds(pids)
    t0 = time.time()
    for i in range(0, len(ops), 5000):
        st, ans = sync(srv.url, tokens[1], a.id, ops[i:i + 5000])
        assert st == 200 and len(ans['acked']) == len(ops[i:i + 5000]), (st, str(ans)[:300])
    t_push = time.time() - t0
    c_push = cpu_seconds(pids) - c0
    got, cursor, trips = pull_all(srv.url, tokens[0], b.id, limit=5000)
    t_all = time.time() - t0
    c_all = cpu_seconds(pids) - c0
    ids = [o['op_id'] for o in got]
    ok = len(ids) == len(set(ids)) == opts.ops and set(ids) == set(o['op_id'] for o in ops)
    print('relay: %d ops pushed in %.2f s (%d requests), pulled by a second client in %.2f s (%d requests); '
          'total %.2f s; %s' % (opts.ops, t_push, (opts.ops + 4999) // 5000, t_all - t_push, trips, t_all,
                                'every op once' if ok else 'MISMATCH: %d pulled, %d distinct' % (len(ids), len(set(ids)))))
    print('relay CPU (server + PostgreSQL, user+system): push %.2f s, pull %.2f s; %.1f us per op pushed' %
          (c_push, c_all - c_push, c_push / opts.ops * 1e6))

    # 2. concurrent
    before = pg.scalar('SELECT max(seq) FROM ops')
    c0 = cpu_seconds(pids)
    start_at = time.time() + 1.0
    jobs = [(srv.url, tokens[n % 5], n, opts.batches, opts.batch_size, start_at) for n in range(opts.clients)]
    with multiprocessing.Pool(opts.clients) as pool:
        results = pool.map(client_proc, jobs)
    errors = sum(r[0] for r in results)
    pushed = [i for r in results for i in r[1]]
    pulled = sum(r[2] for r in results)
    t_start = min(r[3] for r in results)
    t_end = max(r[4] for r in results)
    elapsed = t_end - t_start
    c_conc = cpu_seconds(pids) - c0
    stored = pg.scalar('SELECT count(*) FROM ops WHERE seq > %d' % before)
    final, _, _ = pull_all(srv.url, tokens[0], Device().id, cursor='s%d' % before)
    fids = set(o['op_id'] for o in final)
    lost = len(set(pushed) - fids)
    print('concurrent: %d clients x %d batches x %d ops = %d ops pushed in %.2f s: %.0f ops/s pushed '
          '(%.0f ops/s pushed+pulled, %d ops pulled by the clients meanwhile); %d HTTP errors; %d stored; '
          '%d lost; %d duplicated' % (opts.clients, opts.batches, opts.batch_size, len(pushed), elapsed,
                                      len(pushed) / elapsed, (len(pushed) + pulled) / elapsed, pulled, errors,
                                      stored, lost, len(final) - len(fids)))
    print('concurrent CPU (server + PostgreSQL): %.2f s, %.1f us per op pushed (pulls included)' %
          (c_conc, c_conc / max(1, len(pushed)) * 1e6))
    print('load average after: %s' % open('/proc/loadavg').read().split()[0])
    srv.stop()


if __name__ == '__main__':
    main()
