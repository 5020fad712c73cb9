#!/usr/bin/env python3
"""Counts test results in meson testlog.json files and prints 'N passed, N failed'.

A TAP test counts each of its `ok` / `not ok` lines (SKIP and TODO lines are skipped, not
counted); any other test counts once. A test that failed as a whole (crash, timeout) counts
at least one failure even if every TAP line it printed said ok. Failures are listed first.
"""
import json
import re
import sys

TAP = re.compile(r'^(not ok|ok)\b(.*)$')


def count(path, label):
    passed = failed = skipped = 0
    failures = []
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            t = json.loads(line)
            name, result = t['name'], t['result']
            p = n = s = 0
            for out in (t.get('stdout') or '').splitlines():
                m = TAP.match(out.strip())
                if not m:
                    continue
                rest = m.group(2)
                if re.search(r'#\s*(SKIP|TODO)', rest, re.I):
                    s += 1
                elif m.group(1) == 'ok':
                    p += 1
                else:
                    n += 1
                    failures.append(f'{label}: {name}: not ok{rest}')
            if p + n + s == 0:
                if result in ('OK', 'EXPECTEDFAIL'):
                    p = 1
                elif result == 'SKIP':
                    s = 1
                else:
                    n = 1
            if result in ('FAIL', 'TIMEOUT', 'ERROR', 'UNEXPECTEDPASS') and n == 0:
                n = 1
                failures.append(f'{label}: {name}: {result}')
            passed, failed, skipped = passed + p, failed + n, skipped + s
    return passed, failed, skipped, failures


def main():
    total = [0, 0, 0]
    all_failures = []
    for path in sys.argv[1:]:
        label = path.split('/')[0] + (' (valgrind)' if 'valgrind' in path else '')
        try:
            p, n, s, failures = count(path, label)
        except FileNotFoundError:
            p, n, s, failures = 0, 1, 0, [f'{label}: no test log (build failed?)']
        print(f'{label}: {p} passed, {n} failed, {s} skipped')
        total = [total[0] + p, total[1] + n, total[2] + s]
        all_failures += failures
    for f in all_failures:
        print('FAILED ' + f)
    print(f'{total[0]} passed, {total[1]} failed, {total[2]} skipped')


main()
