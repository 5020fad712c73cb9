#!/usr/bin/env python3
"""Latency of live capture: the time from a message landing in a watched Maildir (rename
from tmp/ to new/, as an MDA delivers) to its interaction being visible in the store.

usage: latency-bench.py SYNCD MAILDIR CONFIG STORE [N]

MAILDIR should already be imported into STORE (e.g. by `salesgetter-syncd --once`), so the
daemon watches a large mailbox with a large store. Prints min/median/p90/p99/max in ms."""
import os
import sqlite3
import subprocess
import sys
import time

syncd, maildir, config, store = sys.argv[1:5]
n = int(sys.argv[5]) if len(sys.argv) > 5 else 50
proc = subprocess.Popen([syncd, '--config', config, '--store', store],
                        stderr=subprocess.PIPE, text=True)
try:
    # Wait for the start-up rescan to finish.
    for line in proc.stderr:
        if 'scanned' in line:
            break
    db = sqlite3.connect('file:%s?mode=ro' % store, uri=True)
    lat = []
    for i in range(n):
        mid = 'latency-%d-%d@bench.example' % (os.getpid(), i)
        msg = ('From: Lat Ency <lat@bench-client.example>\nTo: someone@ourco.example\n'
               'Subject: latency %d\nMessage-ID: <%s>\nDate: Thu, 19 Mar 2026 15:00:00 +0100\n\nhi\n'
               % (i, mid))
        name = '%d.lat%d_%d.bench' % (time.time(), os.getpid(), i)
        tmp = os.path.join(maildir, 'tmp', name)
        with open(tmp, 'w') as f:
            f.write(msg)
        t0 = time.monotonic()
        os.rename(tmp, os.path.join(maildir, 'new', name))
        deadline = t0 + 10
        while time.monotonic() < deadline:
            if db.execute('SELECT 1 FROM interactions WHERE message_id = ?', (mid,)).fetchone():
                break
            time.sleep(0.0005)
        lat.append((time.monotonic() - t0) * 1000)
        time.sleep(0.05)
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    print('%d deliveries into %s: min %.1f ms, median %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms'
          % (n, maildir, lat[0], q(0.5), q(0.9), q(0.99), lat[-1]))
finally:
    proc.terminate()
    proc.wait(timeout=30)
