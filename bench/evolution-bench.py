#!/usr/bin/env python3
"""evolution-bench: time from selecting a message in Evolution to the SalesGetter panel shown,
on a big store (issue 8's benchmark).

    python3 bench/evolution-bench.py STORE [N]

STORE is a store made by bench/insight-bench (people pK@org(K mod orgs).example; 1M
interactions in the issue's figure); it is copied, not changed. Evolution runs under Xvfb as in
tests/e2e/test-evolution.py (same profile, module through EDS_EXTRA_PREFIXES) with N messages
(default 20) in its Inbox, each from a different known person of a different organisation
with a known colleague of theirs in Cc. The bench clicks each message in turn and measures, by
the wall clock, from the click to the panel's "rendered" line in $SALESGETTER_PANEL_LOG (polled
every 5 ms): Evolution's own message loading, the lookup in the worker (including the first
"similar organisations" of each organisation, cached afterwards) and the rendering. Then it
clicks them all again (organisations seen before). Wall times: noisy on a loaded machine.

Needs a build with the module (build/plugins/evolution) and build/tests/e2e/evolution-seed."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'e2e'))
import sgtest as sg  # noqa: E402

if len(sys.argv) < 2:
    sys.exit(__doc__)
SRC_STORE = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 20
MODULE = os.path.join(sg.BUILDDIR, 'plugins', 'evolution', 'module-salesgetter.so')
SEED = os.path.join(sg.BUILDDIR, 'tests', 'e2e', 'evolution-seed')

db = sqlite3.connect('file:%s?mode=ro' % SRC_STORE, uri=True)
n_inter, n_people, n_orgs = db.execute('SELECT (SELECT count(*) FROM interactions), (SELECT count(*) FROM people), '
                                       '(SELECT count(*) FROM organisations)').fetchone()
db.close()
print('store: %d interactions, %d people, %d organisations' % (n_inter, n_people, n_orgs))
STORE = sg.path('store.db')
shutil.copy(SRC_STORE, STORE)

HOME = sg.path('evo-home')
CONFIG_HOME, DATA_HOME = os.path.join(HOME, '.config'), os.path.join(HOME, '.local', 'share')
CONF = os.path.join(CONFIG_HOME, 'salesgetter', 'salesgetter.conf')
os.makedirs(os.path.dirname(CONF))
sg.write_config(CONF, name='Me', addresses=('me@ourco.example',), internal_domains=('ourco.example',), store=STORE)
LOCAL = os.path.join(DATA_HOME, 'evolution', 'mail', 'local')
for folder in ('', '.Outbox'):
    for sub in ('cur', 'new', 'tmp'):
        os.makedirs(os.path.join(LOCAL, folder, sub), exist_ok=True)
with open(os.path.join(LOCAL, '..maildir++'), 'w') as f:
    f.write('maildir++ 1\n')
now = int(time.time())
for i in range(N):
    p = 1 + i * 997 % (n_people - 2)
    org = p % n_orgs
    q = p + n_orgs if p + n_orgs < n_people - 1 else p
    msg = sg.make_message('bench%d@org%d.example' % (i, org), 'Person %d <p%d@org%d.example>' % (p, p, org),
                          to=['Me <me@ourco.example>'], cc=['p%d@org%d.example' % (q, org)],
                          subject='Bench %02d' % i, date=now - (N - i) * 3600)
    with open(os.path.join(LOCAL, 'new', '%d.M%dP1.bench' % (1700000000 + i, i)), 'wb') as f:
        f.write(msg)
r = sg.run([SEED, LOCAL, sg.path('seed')])
assert r.rc == 0, r
version = subprocess.run(['pkg-config', '--modversion', 'evolution-shell-3.0'], stdout=subprocess.PIPE,
                         universal_newlines=True).stdout.strip()
os.makedirs(os.path.join(CONFIG_HOME, 'glib-2.0', 'settings'))
with open(os.path.join(CONFIG_HOME, 'glib-2.0', 'settings', 'keyfile'), 'w') as f:
    f.write("[org/gnome/evolution/mail]\nshow-startup-wizard=false\n[org/gnome/evolution]\nversion='%s'\n" % version)
moduledir = subprocess.run(['pkg-config', '--variable=moduledir', 'evolution-shell-3.0'], stdout=subprocess.PIPE,
                           universal_newlines=True).stdout.strip()
prefix = subprocess.run(['pkg-config', '--variable=prefix', 'evolution-shell-3.0'], stdout=subprocess.PIPE,
                        universal_newlines=True).stdout.strip()
PREFIX = sg.path('prefix')
os.makedirs(os.path.join(PREFIX, os.path.relpath(moduledir, prefix)))
shutil.copy(MODULE, os.path.join(PREFIX, os.path.relpath(moduledir, prefix)))
LOG = sg.path('panel.log')

r_fd, w_fd = os.pipe()
xvfb = subprocess.Popen(['Xvfb', '-displayfd', str(w_fd), '-screen', '0', '1280x900x24', '-nolisten', 'tcp'],
                        pass_fds=(w_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
os.close(w_fd)
with os.fdopen(r_fd) as f:
    display = ':' + f.readline().strip()
env = sg.child_env({'HOME': HOME, 'XDG_CONFIG_HOME': CONFIG_HOME, 'XDG_DATA_HOME': DATA_HOME,
                    'XDG_CACHE_HOME': os.path.join(HOME, '.cache'), 'DISPLAY': display, 'GSETTINGS_BACKEND': 'keyfile',
                    'NO_AT_BRIDGE': '1', 'WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS': '1', 'EDS_EXTRA_PREFIXES': PREFIX,
                    'SALESGETTER_PANEL_LOG': LOG, 'SALESGETTER_STORE': STORE,
                    'LD_LIBRARY_PATH': os.path.join(sg.BUILDDIR, 'core')})
env.pop('G_DEBUG', None)
evo = subprocess.Popen(['dbus-run-session', '--', 'evolution'], env=env, stdout=open(sg.path('evolution.log'), 'wb'),
                       stderr=subprocess.STDOUT, start_new_session=True)


def xdo(*args):
    return subprocess.run(['xdotool'] + list(args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


def n_rendered():
    try:
        with open(LOG, encoding='utf-8') as f:
            return sum(1 for line in f if '"rendered"' in line and 'evolution-reader' in line)
    except OSError:
        return 0


try:
    main = None
    for _ in range(180):
        r = xdo('search', '--onlyvisible', '--class', '^evolution$')
        if r.stdout.strip():
            main = r.stdout.split()[0]
            break
        time.sleep(0.5)
    assert main, 'Evolution did not start'
    xdo('windowmove', main, '0', '0')
    xdo('windowsize', main, '1280', '900')
    time.sleep(6)
    xdo('mousemove', '--sync', '78', '194')
    xdo('click', '1')
    time.sleep(4)
    row_h = 22  # the message list's rows (tests/e2e/test-evolution.py: 196, 218)
    visible = min(N, 12)
    for round_ in ('first time for each organisation', 'again'):
        times, missed = [], 0
        for i in range(visible):
            before = n_rendered()
            xdo('mousemove', '--sync', '700', str(196 + i * row_h))
            t0 = time.monotonic()
            xdo('click', '1')
            while n_rendered() == before and time.monotonic() - t0 < 15:
                time.sleep(0.005)
            if n_rendered() == before:
                missed += 1  # no message-loaded: the row was already selected
            else:
                times.append((time.monotonic() - t0) * 1000)
            while n_rendered() > before + 1 or time.monotonic() - t0 < 0.3:
                time.sleep(0.05)
        print('  ' + ' '.join('%.0f' % t for t in times))
        times.sort()
        print('selection to panel, %-32s n=%d  p50 %7.1f ms  max %7.1f ms  (no panel: %d clicks)' % (
            round_, len(times), times[len(times) // 2], times[-1], missed))
finally:
    for p in (evo, xvfb):
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except OSError:
            pass
        p.wait()
