#!/usr/bin/env python3
"""End-to-end test of the Claws Mail plugin under Xvfb: a real Claws Mail 4 with a fresh
copy of a template config (one SMTP-only account, an MH mailbox) and the plugin built in
this tree, a store with a customer and her open sales process. It opens the customer's
message with --select and checks what the panel above it shows (from the plugin's debug
log, $SALESGETTER_PANEL_LOG, which has the panel's text, the text read back from its GTK
labels, and where its buttons are), clicks "Next stage" with the mouse and checks the
store, adds an unknown sender to the CRM, shows a hostile display name as plain text, and
opens a reply to check the composer's panel. Screenshots go to
$SG_BUILDDIR/tests/artifacts/claws-*.png; look at them.

Skipped when claws-mail, Xvfb, xdotool, ImageMagick's import or dbus-run-session are
missing, when the plugin was not built (-Dplugins=disabled), and in sanitizer builds (an
ASan module cannot be loaded into an uninstrumented Claws Mail)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest as sg  # noqa: E402

tap = sg.start(sg.Tap())

PLUGIN = os.environ.get('SG_CLAWS_PLUGIN') or os.path.join(sg.BUILDDIR, 'plugins', 'claws', 'salesgetter.so')
ARTIFACTS = os.path.join(sg.BUILDDIR, 'tests', 'artifacts')
TOOLS = ['claws-mail', 'Xvfb', 'xdotool', 'import', 'dbus-run-session']
missing = [t for t in TOOLS if shutil.which(t) is None]
if missing or not os.path.exists(PLUGIN) or sg.is_sanitized_build():
    tap.skip('Claws Mail end to end', 'missing: %s' % ', '.join(missing) if missing else
             'plugin not built (%s)' % PLUGIN if not os.path.exists(PLUGIN) else 'sanitizer build')
    tap.done()

ME = 'Julia Hoffmann <julia@ourco.example>'
STORE = sg.path('store.db')
CONF = sg.write_config(sg.path('salesgetter.conf'), name='Julia Hoffmann', addresses=('julia@ourco.example',),
                       internal_domains=('ourco.example',), store=STORE)
LOG = sg.path('panel.log')
NOW = int(time.time())
DAY = 86400
HOSTILE = '<b>Boss</b> &amp; <i>Co</i>'


def sgc(*args, **kw):
    return sg.cli(*args, store=STORE, config=CONF, **kw)


# --- the store: Jane of Acme, with an open process at "proposal" -----------------------------------
MD = sg.path('Maildir')
sg.make_maildir(MD)
jane_old = sg.make_message('a1@acme.com', 'Jane Doe <jane@acme.com>', to=[ME], subject='Demand forecast 2027',
                           date=NOW - 20 * DAY)
jane_new = sg.make_message('a3@acme.com', 'Jane Doe <jane@acme.com>', to=[ME], subject='Re: Our proposal',
                           date=NOW - 2 * DAY)
boss = sg.make_message('b1@bad.example', '"%s" <boss@bad.example>' % HOSTILE, to=[ME], subject='<script>x</script>',
                       date=NOW - 3 * DAY)
stranger = sg.make_message('s1@initech.de', 'Kim Lee <kim@initech.de>', to=[ME], subject='Hello', date=NOW - DAY)
for m in (jane_old, jane_new, boss):
    sg.put(MD, m)
tap.ok(sgc('import', MD).rc == 0, 'import the scenario')
r = sgc('process', 'new', '--org', 'acme.com', '--deliverable', 'Demand forecast', '--value', '48,000',
        '--currency', 'EUR', '--stage', 'proposal', '-c', 'jane@acme.com:decision-maker')
tap.ok(r.rc == 0, 'an open process at Acme, stage proposal', repr(r))
PROC = r.out.strip()


def stage():
    return sg.scalar(STORE, 'SELECT s.name FROM processes p JOIN stages s ON s.id = p.stage_id WHERE p.uuid = ?',
                     (PROC,))


# --- Claws Mail: a fresh copy of the template config ------------------------------------------------
TEMPLATE = sg.path('claws-template')
MAIL = sg.path('Mail')
os.makedirs(TEMPLATE)
with open(os.path.join(TEMPLATE, 'accountrc'), 'w') as f:
    # protocol=6: SMTP only in accountrc's numbering (4 there is a news account).
    f.write('[Account: 1]\naccount_name=Julia\nis_default=1\nname=Julia Hoffmann\naddress=julia@ourco.example\n'
            'protocol=6\nreceive_server=\nsmtp_server=127.0.0.1\n')
with open(os.path.join(TEMPLATE, 'folderlist.xml'), 'w') as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?>\n<folderlist>\n'
            '<folder type="mh" name="Mailbox" path="%s" collapsed="0">\n' % MAIL +
            ''.join('<folderitem type="%s" name="%s" path="%s" />\n' % (t, n, n)
                    for t, n in (('inbox', 'inbox'), ('outbox', 'sent'), ('queue', 'queue'), ('trash', 'trash'),
                                 ('draft', 'draft'))) +
            '</folder>\n</folderlist>\n')
with open(os.path.join(TEMPLATE, 'clawsrc'), 'w') as f:
    f.write('[Common]\nchk_on_startup=0\nwork_offline=1\nconfirm_on_exit=0\nenable_aspell=0\n\n'
            '[Plugins_GTK3]\n%s\n' % os.path.abspath(PLUGIN))
for sub in ('inbox', 'sent', 'queue', 'trash', 'draft'):
    os.makedirs(os.path.join(MAIL, sub))
for i, m in enumerate((jane_new, stranger, boss), 1):
    with open(os.path.join(MAIL, 'inbox', str(i)), 'wb') as f:
        f.write(m)
CFG = sg.path('claws-run')
shutil.copytree(TEMPLATE, CFG)  # Claws rewrites its config: every run starts from the template

os.makedirs(ARTIFACTS, exist_ok=True)
procs = []


def cleanup():
    for p in reversed(procs):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except OSError:
                pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)


import atexit  # noqa: E402
atexit.register(cleanup)

# Xvfb picks a free display and tells us which.
rfd, wfd = os.pipe()
xvfb = subprocess.Popen(['Xvfb', '-displayfd', str(wfd), '-screen', '0', '1280x900x24', '-nolisten', 'tcp'],
                        pass_fds=(wfd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
procs.append(xvfb)
os.close(wfd)
display = b''
deadline = time.time() + 30
while not display.endswith(b'\n') and time.time() < deadline:
    chunk = os.read(rfd, 16)
    if not chunk:
        break
    display += chunk
os.close(rfd)
if not display.strip():
    tap.ok(False, 'Xvfb started')
    tap.done()
DISPLAY = ':' + display.decode().strip()
ENV = sg.child_env({'DISPLAY': DISPLAY, 'NO_AT_BRIDGE': '1', 'SALESGETTER_CONFIG': CONF,
                    'SALESGETTER_PANEL_LOG': LOG, 'GTK_THEME': 'Adwaita',
                    # Claws' own criticals are not ours to make fatal; ours are counted below.
                    'G_DEBUG': ''})


def claws(*args, background=False):
    argv = ['claws-mail', '--alternate-config-dir', CFG] + list(args)
    if background:
        p = subprocess.Popen(['dbus-run-session', '--'] + argv + ['--geometry', '1200x850+0+0'], env=ENV,
                             stdout=open(sg.path('claws.out'), 'ab'), stderr=subprocess.STDOUT,
                             start_new_session=True)
        procs.append(p)
        return p
    return sg.run(argv, env=ENV, timeout=30)


def events():
    try:
        with open(LOG) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def wait_event(pred, timeout=60):
    """The first event after the log's current end... or any: @pred decides; bounded."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for e in reversed(events()):
            if pred(e):
                return e
        if main.poll() is not None:
            return None
        time.sleep(0.2)
    return None


def rendered(view, *needles):
    return lambda e: (e.get('event') == 'rendered' and e.get('view') == view and
                      all(n in e.get('text', '') for n in needles))


def last_button(view, kind, label=None):
    for e in reversed(events()):
        if e.get('event') == 'button' and e.get('view') == view and e.get('kind') == kind and \
                (label is None or e.get('label') == label):
            return e
    return None


def click(rect):
    x = rect['x'] + rect['width'] // 2
    y = rect['y'] + rect['height'] // 2
    r = sg.run(['xdotool', 'mousemove', str(x), str(y), 'click', '1'], env=ENV, timeout=20)
    return r.rc == 0


def screenshot(name):
    out = os.path.join(ARTIFACTS, 'claws-%s.png' % name)
    r = sg.run(['import', '-window', 'root', out], env=ENV, timeout=30)
    tap.ok(r.rc == 0 and os.path.getsize(out) > 10000, 'screenshot %s' % out, repr(r))


def wait_new(pred, timeout=60):
    """Waits for an event matching @pred that comes after the events seen now."""
    start = len(events())
    deadline = time.time() + timeout
    while time.time() < deadline:
        evs = events()
        for e in evs[start:]:
            if pred(e):
                return e
        if main.poll() is not None:
            return None
        time.sleep(0.2)
    return None


# --- 1. a message from a known customer -----------------------------------------------------------
main = claws('--select', '#mh/Mailbox/inbox/1', background=True)
e = wait_event(rendered('claws-reader', 'Jane Doe', 'Acme'), timeout=90)
tap.ok(e is not None, 'the panel is shown above Jane\'s message', open(sg.path('claws.out'), 'rb').read()[-3000:])
if e is None:
    tap.done()
tap.diag(e['text'])
tap.ok('stage proposal' in e['text'] and '48000.00 EUR' in e['text'], 'it shows her open process at stage proposal')
tap.ok(any(l.startswith('Jane Doe <jane@acme.com> · Acme (acme.com)') for l in e['labels']),
       'a GTK label holds the heading with the organisation', e['labels'])
tap.ok(any('stage proposal' in l for l in e['labels']), 'a GTK label holds the process line', e['labels'])
time.sleep(1)  # let the buttons settle into their final allocation
screenshot('1-reader')

# --- 2. "Next stage" by a mouse click -------------------------------------------------------------------
b = last_button('claws-reader', 'next-stage')
tap.ok(b is not None and b['label'] == 'Next stage: negotiation', 'a Next stage button, to negotiation', b)
ops_before = sg.scalar(STORE, "SELECT count(*) FROM changes WHERE entity = 'stage_history'")
tap.ok(b is not None and click(b), 'click it')
a = wait_new(lambda e: e.get('event') == 'action', timeout=30) if b else None
if a is None:
    a = wait_event(lambda e: e.get('event') == 'action', timeout=5)
tap.ok(a is not None and a['ok'] and a['message'] == 'Demand forecast moved to negotiation',
       'the plugin reports the move', a)
tap.eq(stage(), 'negotiation', 'the store has the process at negotiation')
tap.ok(sg.scalar(STORE, "SELECT count(*) FROM changes WHERE entity = 'stage_history'") > ops_before,
       'the change log has the move (sync will push it)')
e = wait_event(rendered('claws-reader', 'stage negotiation'), timeout=30)
tap.ok(e is not None, 'the panel is looked up again and shows stage negotiation')
tap.ok(e is not None and 'SalesGetter: Demand forecast moved to negotiation' in e['status'],
       'its status line says what was done', e)
time.sleep(1)
screenshot('2-next-stage')

# --- 3. an unknown sender, added to the CRM ---------------------------------------------------------------
claws('--select', '#mh/Mailbox/inbox/2')
e = wait_event(rendered('claws-reader', 'kim@initech.de', 'not in the CRM'), timeout=30)
tap.ok(e is not None, 'a stranger: "not in the CRM"', e)
time.sleep(1)
b = last_button('claws-reader', 'add-person')
tap.ok(b is not None and click(b), 'click "Add to the CRM"', b)
a = wait_event(lambda e: e.get('event') == 'action' and e.get('label') == 'Add to the CRM', timeout=30)
tap.ok(a is not None and a['ok'], 'the plugin reports Kim added', a)
tap.eq(sg.scalar(STORE, "SELECT count(*) FROM addresses WHERE address = 'kim@initech.de' AND person_id IS NOT NULL"),
       1, 'the store has Kim as a person')
tap.eq(sg.scalar(STORE, "SELECT count(*) FROM changes WHERE entity = 'person' AND natural_key = 'kim@initech.de'"),
       1, 'and the change log the new person')
e = wait_event(lambda e: rendered('claws-reader', 'Kim Lee <kim@initech.de>')(e) and 'not in the CRM' not in e['text'],
               timeout=30)
tap.ok(e is not None, 'the panel now shows Kim as known', e)
screenshot('3-added')

# --- 4. a hostile display name: plain text in the labels ------------------------------------------------------
claws('--select', '#mh/Mailbox/inbox/3')
e = wait_event(rendered('claws-reader', 'boss@bad.example'), timeout=30)
tap.ok(e is not None and any(HOSTILE in l for l in e['labels']),
       'markup in a display name is shown as its characters (read back from the GTK label)', e and e['labels'])
tap.ok(e is not None and any('<script>x</script>' in l for l in e['labels']),
       'so is markup in a subject', e and e['labels'])
time.sleep(1)
screenshot('4-hostile')

# --- 5. a reply to Jane: the composer's panel ----------------------------------------------------------------------
claws('--select', '#mh/Mailbox/inbox/1')
wait_event(rendered('claws-reader', 'Jane Doe', 'stage negotiation'), timeout=30)
time.sleep(1)
w = None
for ev in reversed(events()):
    if ev.get('event') == 'widget' and ev.get('name') == 'claws-reply':
        w = ev
        break
tap.ok(w is not None and click(w), 'click Reply', w)
e = wait_event(rendered('claws-composer', 'Jane Doe <jane@acme.com> · Acme', 'stage negotiation'), timeout=30)
tap.ok(e is not None, 'the composer shows the panel for the recipient Jane, with her process', e)
tap.ok(e is not None and all('Link message' not in l for l in e['labels']),
       'no "link message" while composing', e and e['labels'])
time.sleep(1)
screenshot('5-composer')

# --- done: Claws exits cleanly, the plugin unloads ---------------------------------------------------------------------
claws('--exit')
try:
    main.wait(30)
    tap.ok(True, 'Claws Mail exits (the plugin unloads)')
except subprocess.TimeoutExpired:
    tap.ok(False, 'Claws Mail exits (the plugin unloads)')
out = open(sg.path('claws.out'), 'rb').read().decode('utf-8', 'replace')
tap.ok('salesgetter' not in out.lower() or 'CRITICAL' not in out, 'no criticals from the plugin',
       '\n'.join(l for l in out.splitlines() if 'CRITICAL' in l)[:2000])
tap.done()
