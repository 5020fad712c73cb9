#!/usr/bin/env python3
"""Sync client throughput: N messages imported into store A (one new person per message, one
organisation per ten: about 2.1 ops per message), pushed by `salesgetter sync` to a real
salesgetter-server on a real PostgreSQL, then pulled and merged into an empty store B.

usage: SG_BUILDDIR=build bench/sync-client-bench.py [MESSAGES]   (default 50000: ~105k ops)

Prints the ops and the wall time of the push (A) and the pull (B), and the CPU time (user +
system) of the client, the server and PostgreSQL (the postmaster and its backends, read from
/proc) for each. Needs PostgreSQL (Debian postgresql). Wall times: the machine may be loaded;
run it alone; the CPU times do not depend on the load.

Environment:
  SYNC_BENCH_STORE=FILE  keep the imported store A in FILE (made at the first run, copied from
                         it afterwards: the import takes longer than the sync)
  SYNC_BENCH_WRAP="CMD"  run each `salesgetter sync` under CMD, e.g.
                         "valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p"
  SYNC_BENCH_SERVER_WRAP="CMD"  the same for the server (under callgrind, a profile is dumped
                         after each step: callgrind_control -d)
  G_MESSAGES_DEBUG=salesgetter  print the client's time per round trip (building the next
                         request, waiting for the answer, applying it)"""
import os
import resource
import shlex
import shutil
import subprocess
import sys
import time

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.path.abspath(os.environ.get('SG_BUILDDIR', os.path.join(top, 'build')))
os.environ.setdefault('SG_BUILDDIR', build)
os.environ.setdefault('SG_CLI', os.path.join(build, 'cli', 'salesgetter'))
os.environ.setdefault('SG_SYNCD', os.path.join(build, 'syncd', 'salesgetter-syncd'))
os.environ.setdefault('SG_SERVER', os.path.join(build, 'server', 'salesgetter-server'))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(top, 'tests', 'e2e'))
import sgtest as sg  # noqa: E402
import sgserver  # noqa: E402

n = int(sys.argv[1]) if len(sys.argv) > 1 else 50000
cache = os.environ.get('SYNC_BENCH_STORE')
wrap = shlex.split(os.environ.get('SYNC_BENCH_WRAP', ''))
swrap = os.environ.get('SYNC_BENCH_SERVER_WRAP')
if swrap:
    real_server = sgserver.SERVER
    wrapper = sg.path('server-wrapper.sh')
    with open(wrapper, 'w') as f:
        f.write('#!/bin/sh\nexec %s %s "$@"\n' % (swrap, shlex.quote(real_server)))
    os.chmod(wrapper, 0o755)
    sgserver.SERVER = wrapper


def cpu_seconds(pids):
    """User + system CPU seconds of PIDS and their live children, plus the children they reaped
    (PostgreSQL backends are the postmaster's children)."""
    tick = os.sysconf('SC_CLK_TCK')
    total = 0.0
    procs = set(pids)
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open('/proc/%s/stat' % d) as f:
                    if int(f.read().rsplit(')', 1)[1].split()[1]) in pids:
                        procs.add(int(d))
            except OSError:
                pass
    for p in procs:
        try:
            with open('/proc/%d/stat' % p) as f:
                fields = f.read().rsplit(')', 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            if p in pids:
                total += (int(fields[13]) + int(fields[14])) / tick
        except OSError:
            pass
    return total


pg = sgserver.Postgres.start()
srv = sgserver.Server.start(pg, threads=2)
with open(os.path.join(pg.data, 'postmaster.pid')) as f:
    pg_pid = int(f.readline())
srv.user_add('alice', 'manager', ['alice@us.test'])
srv.user_add('bob', 'manager', ['bob@us.test'])


def client(login):
    d = sg.path(login)
    os.makedirs(d, exist_ok=True)
    tok = os.path.join(d, 'token')
    with open(tok, 'w') as f:
        f.write(srv.token_new(login) + '\n')
    os.chmod(tok, 0o600)
    conf = os.path.join(d, 'salesgetter.conf')
    sg.write_config(conf, addresses=('%s@us.test' % login,), internal_domains=('us.test',),
                    store=os.path.join(d, 'store.db'),
                    extra='\n[sync]\nserver=%s\ntoken-file=%s\n' % (srv.url, tok))
    return conf, os.path.join(d, 'store.db')


a_conf, a_store = client('alice')
b_conf, b_store = client('bob')
mbox = sg.path('mail.mbox')
with open(mbox, 'w') as f:
    for i in range(n):
        f.write('From bench@x Thu Mar 19 15:00:00 2026\n'
                'From: Person %d <p%d@org%d.test>\nTo: Alice <alice@us.test>\nSubject: s %d\n'
                'Message-ID: <m%d@bench.test>\nDate: Thu, 19 Mar 2026 15:00:00 +0000\n\nhello\n\n'
                % (i, i, i // 10, i, i))
if cache and os.path.exists(cache):
    shutil.copy(cache, a_store)
    print('store A copied from %s' % cache)
else:
    t = time.monotonic()
    r = sg.cli('import', '-q', mbox, config=a_conf, timeout=3600)
    assert r.rc == 0, r
    print('import of %d messages into A: %.1f s' % (n, time.monotonic() - t))
    if cache:
        shutil.copy(a_store, cache)
ops = int(sg.scalar(a_store, 'SELECT count(*) FROM changes'))
for name, conf in (('push from A', a_conf), ('pull into B', b_conf)):
    t = time.monotonic()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    s0, p0 = cpu_seconds({srv.proc.pid}), cpu_seconds({pg_pid})
    r = sg.run(wrap + [sg.CLI, '--config', conf, 'sync', '--quiet'], timeout=3600)
    dt = time.monotonic() - t
    ru2 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s1, p1 = cpu_seconds({srv.proc.pid}), cpu_seconds({pg_pid})
    if swrap and 'callgrind' in swrap:  # one profile of the server per step
        subprocess.run(['callgrind_control', '-d', name.replace(' ', '-'), str(srv.proc.pid)],
                       capture_output=True)
    assert r.rc == 0, r
    if os.environ.get('G_MESSAGES_DEBUG'):  # the client's round-by-round timings
        print('\n'.join(x for x in r.err.splitlines() if 'sync: round' in x))
    print('%s: %d ops in %.2f s (%.0f ops/s); CPU: client %.2f s, server %.2f s, PostgreSQL %.2f s: %s'
          % (name, ops, dt, ops / dt, ru2.ru_utime + ru2.ru_stime - ru.ru_utime - ru.ru_stime,
             s1 - s0, p1 - p0, r.out.strip()))
print('ops by entity: %r' % sg.query(a_store, 'SELECT entity, count(*) FROM changes GROUP BY 1'))
print('B has %s interactions, %s people' % (sg.scalar(b_store, 'SELECT count(*) FROM interactions'),
                                             sg.scalar(b_store, 'SELECT count(*) FROM people')))
srv.stop()
