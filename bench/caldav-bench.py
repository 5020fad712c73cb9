#!/usr/bin/env python3
"""caldav-bench: CalDAV sync against a real Radicale on loopback (caldav branch).

Writes N generated events (a fifth of them weekly series, each with 2-4 attendees of 50
generated organisations) straight into a fresh Radicale storage folder, starts Radicale,
then times with the built salesgetter:

  1. the first sync (`salesgetter import caldav:bench`): discovery, ETag listing, every
     object fetched with calendar-multiget and imported;
  2. a sync with nothing changed (one PROPFIND on the calendar home);
  3. an incremental sync after C events were changed on the server with HTTP PUT and D
     deleted (sync-collection from the stored token, multiget of the changed ones).

Each step runs R times on fresh copies (steps 2 and 3 on a copy of the store step 1 made)
and the median wall time is printed; with --callgrind, step 1 and 3 also run once under
valgrind --tool=callgrind and the client's instruction count is printed (repeatable on a
loaded machine; Radicale's own time is not in it).

Usage: bench/caldav-bench.py [-b BUILD] [-n 2000] [-c 10] [-d 0] [-r 3] [--callgrind]
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'e2e'))
from sgradicale import RADICALE, Radicale, USER, PASSWORD  # noqa: E402


def event(i, summary, seq=0):
    day = 1 + i % 28
    month = 1 + (i // 28) % 12
    start = '2026%02d%02dT%02d0000Z' % (month, day, 8 + i % 9)
    end = '2026%02d%02dT%02d3000Z' % (month, day, 8 + i % 9)
    org = 'client%02d.example' % (i % 50)
    lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//sg bench//EN', 'BEGIN:VEVENT',
             'UID:bench-%d@ourco.example' % i, 'DTSTAMP:20260101T000000Z', 'SEQUENCE:%d' % seq,
             'DTSTART:%s' % start, 'DTEND:%s' % end, 'SUMMARY:%s' % summary,
             'ORGANIZER;CN=Me:mailto:me@ourco.example']
    for k in range(2 + i % 3):
        lines.append('ATTENDEE;CN=Person %d;PARTSTAT=ACCEPTED:mailto:p%d@%s' % (k, (i + k) % 400, org))
    if i % 5 == 0:
        lines.append('RRULE:FREQ=WEEKLY;COUNT=10')
    lines += ['END:VEVENT', 'END:VCALENDAR', '']
    return '\r\n'.join(lines)


KINDS = ('Introduction call', 'Product demo', 'Proposal review', 'Negotiation', 'Quarterly business review',
         'Weekly sync')


def prepare(n):
    def write(root):
        cal = os.path.join(root, USER, 'bench')
        os.makedirs(cal, exist_ok=True)
        with open(os.path.join(root, USER, '.Radicale.props'), 'w') as f:
            f.write('{}')
        with open(os.path.join(cal, '.Radicale.props'), 'w') as f:
            json.dump({'tag': 'VCALENDAR', 'D:displayname': 'Bench', 'C:supported-calendar-component-set': 'VEVENT'},
                      f)
        for i in range(n):
            with open(os.path.join(cal, 'e%05d.ics' % i), 'w', newline='') as f:
                f.write(event(i, '%s %d' % (KINDS[i % len(KINDS)], i)))
    return write


CPU = []  # the client's user+system seconds of each run


def run(argv, env):
    start = time.monotonic()
    before = os.times()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    elapsed = time.monotonic() - start
    after = os.times()
    CPU.append(after.children_user - before.children_user + after.children_system - before.children_system)
    if p.returncode != 0:
        sys.exit('failed (%d): %s\n%s\n%s' % (p.returncode, ' '.join(argv), p.stdout.decode(), p.stderr.decode()))
    return elapsed, p.stdout.decode()


def callgrind(argv, env, work, name):
    out = os.path.join(work, 'callgrind.%s.out' % name)
    subprocess.run(['valgrind', '--tool=callgrind', '--callgrind-out-file=' + out] + argv, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    with open(out) as f:
        for line in f:
            m = re.match(r'summary:\s+(\d+)', line) or re.match(r'totals:\s+(\d+)', line)
            if m:
                return int(m.group(1))
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('-b', '--build', default=os.path.join(HERE, '..', 'build'))
    ap.add_argument('-n', '--events', type=int, default=2000)
    ap.add_argument('-c', '--changes', type=int, default=10)
    ap.add_argument('-d', '--deletes', type=int, default=0)
    ap.add_argument('-r', '--runs', type=int, default=3)
    ap.add_argument('--callgrind', action='store_true')
    args = ap.parse_args()
    if RADICALE is None:
        sys.exit('Radicale is not installed (apt-get install radicale)')
    cli = os.path.join(args.build, 'cli', 'salesgetter')
    work = tempfile.mkdtemp(prefix='sg-caldav-bench-')
    try:
        rad = Radicale(os.path.join(work, 'radicale'), prepare=prepare(args.events))
        pw = os.path.join(work, 'pw')
        with open(pw, 'w') as f:
            f.write(PASSWORD + '\n')
        os.chmod(pw, 0o600)
        conf = os.path.join(work, 'sg.conf')
        with open(conf, 'w') as f:
            f.write('[identity]\naddresses=me@ourco.example\ninternal-domains=ourco.example\n\n'
                    '[caldav bench]\nurl=%s/\nuser=%s\npassword-file=%s\ntimeout=900\n' % (rad.base, USER, pw))
        os.chmod(conf, 0o600)
        env = dict(os.environ, HOME=work, XDG_CONFIG_HOME=os.path.join(work, 'cfg'),
                   XDG_DATA_HOME=os.path.join(work, 'data'), SALESGETTER_STORE='')

        def sync(store):
            return [cli, '--store', store, '--config', conf, 'import', 'caldav:bench']

        # Radicale builds its caches on the first listing: one warm-up sync, not counted.
        run(sync(os.path.join(work, 'warm.db')), env)
        first = []
        for r in range(args.runs):
            store = os.path.join(work, 'first-%d.db' % r)
            t, out = run(sync(store), env)
            first.append(t)
        base = os.path.join(work, 'first-0.db')
        meetings = int(subprocess.run(['sqlite3', base, 'SELECT count(*) FROM meetings'], stdout=subprocess.PIPE,
                                      check=True).stdout)
        print('events on the server: %d; meetings stored: %d' % (args.events, meetings))
        print('first sync: median %.2f s (%s), %.0f events/s; client CPU %.2f s' % (
            statistics.median(first), ', '.join('%.2f' % x for x in first), args.events / statistics.median(first),
            statistics.median(CPU[-args.runs:])))

        same = []
        for r in range(args.runs):
            store = os.path.join(work, 'same-%d.db' % r)
            shutil.copy(base, store)
            t, out = run(sync(store), env)
            same.append(t)
        print('sync with nothing changed: median %.3f s; client CPU %.3f s' % (
            statistics.median(same), statistics.median(CPU[-args.runs:])))

        # Changes on the server, then one incremental sync per copy of the first store. The
        # same changes serve every run: each copy's token predates them.
        for k in range(args.changes):
            i = (k * 97) % args.events
            rad.put('/%s/bench/e%05d.ics' % (USER, i), event(i, 'Changed meeting %d' % i, seq=1))
        for k in range(args.deletes):
            rad.delete('/%s/bench/e%05d.ics' % (USER, args.events - 1 - k))
        incr = []
        for r in range(args.runs):
            store = os.path.join(work, 'incr-%d.db' % r)
            shutil.copy(base, store)
            t, out = run(sync(store), env)
            incr.append(t)
            if r == 0:
                print('  ' + [line for line in out.splitlines() if line.startswith('CalDAV')][0])
        print('incremental sync after %d changes and %d deletions: median %.3f s (%s); client CPU %.3f s' % (
            args.changes, args.deletes, statistics.median(incr), ', '.join('%.3f' % x for x in incr),
            statistics.median(CPU[-args.runs:])))

        if args.callgrind:
            store = os.path.join(work, 'cg-first.db')
            ir = callgrind(sync(store), env, work, 'first')
            print('first sync, client instructions (callgrind): %s' % format(ir, ','))
            store = os.path.join(work, 'cg-incr.db')
            shutil.copy(base, store)
            ir = callgrind(sync(store), env, work, 'incremental')
            print('incremental sync, client instructions (callgrind): %s' % format(ir, ','))
        rad.stop()
    finally:
        if os.environ.get('SG_BENCH_KEEP'):
            print('kept %s (callgrind.*.out for callgrind_annotate)' % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
