#!/usr/bin/env python3
"""End-to-end test of the Evolution module (issue 8): GNOME Evolution started under Xvfb
with a scratch profile and the module, a message of a known customer opened by mouse
clicks, the panel checked from its debug log ($SALESGETTER_PANEL_LOG, written by the
shared GTK view: what it rendered, where its buttons are), "next stage" clicked and the
store checked through the CLI, a reply opened and the composer panel checked, and a
hostile display name checked to show as plain text. Screenshots are kept as artifacts in
BUILDDIR/tests/artifacts/evolution/.

How Evolution runs here (../shared/notes/mail-clients.md): HOME and XDG dirs in the temp
dir, GSETTINGS_BACKEND=keyfile with the first-run wizard off, messages in the built-in
local Maildir store. Evolution loads modules from its own module folder only, and from
the same path under each prefix of $EDS_EXTRA_PREFIXES (e_module_load_all_in_directory_
and_prefixes): the test copies the built module into a prefix of its own, so nothing
outside the temp dir is touched and no root is needed.

Skips when Evolution, Xvfb, dbus-run-session, xdotool or ImageMagick's import is missing,
or when the module was not built. Under a sanitizer build Evolution runs with the
sanitizer runtimes preloaded (an instrumented module cannot load otherwise).

Knobs: SG_KEEP_TMP=1 keeps the temp dir (Evolution's profile, the store, the log)."""

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


def skip_all(reason):
    print('1..0 # SKIP %s' % reason)
    sys.exit(0)


MODULE = os.environ.get('SG_EVOLUTION_MODULE') or os.path.join(sg.BUILDDIR, 'plugins', 'evolution',
                                                                'module-salesgetter.so')
SEED = os.environ.get('SG_EVOLUTION_SEED') or os.path.join(sg.BUILDDIR, 'tests', 'e2e', 'evolution-seed')
TOOLS = ('evolution', 'Xvfb', 'dbus-run-session', 'xdotool', 'import', 'pkg-config')
missing = [t for t in TOOLS if shutil.which(t) is None]
if not MODULE or not os.path.isfile(MODULE) or not os.path.isfile(SEED):
    skip_all('the Evolution module was not built (-Devolution, evolution-dev)')
if missing:
    skip_all('not installed: %s' % ', '.join(missing))
# Under a sanitizer build the module needs the sanitizer runtimes loaded first: Evolution
# gets them through LD_PRELOAD (leak detection off: Evolution is killed, not shut down).
PRELOAD = []
if sg.is_sanitized_build():
    ldd = subprocess.run(['ldd', MODULE], stdout=subprocess.PIPE, universal_newlines=True).stdout
    for line in ldd.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == '=>' and ('libasan' in parts[0] or 'libubsan' in parts[0]):
            PRELOAD.append(parts[2])
    if not PRELOAD:
        skip_all('sanitizer build: no sanitizer runtime found for the module')

ARTIFACTS = os.path.join(sg.BUILDDIR, 'tests', 'artifacts', 'evolution')
shutil.rmtree(ARTIFACTS, ignore_errors=True)
os.makedirs(ARTIFACTS)

ME = 'Julia Hoffmann <julia@ourco.example>'
NOW = int(time.time())
DAY = 86400
STORE = sg.path('store.db')
HOME = sg.path('evo-home')
CONFIG_HOME = os.path.join(HOME, '.config')
DATA_HOME = os.path.join(HOME, '.local', 'share')
CONF = os.path.join(CONFIG_HOME, 'salesgetter', 'salesgetter.conf')
os.makedirs(os.path.dirname(CONF))
sg.write_config(CONF, name='Julia Hoffmann', addresses=('julia@ourco.example',),
                internal_domains=('ourco.example',), store=STORE)
PANEL_LOG = sg.path('panel.log')
# A display name a correspondent controls: markup, an entity, a right-to-left override,
# a control character, and length.
HOSTILE = '<b>Evil</b> &amp; \u202eCorp\u202c \x07' + 'x' * 150


def sgc(*args, **kw):
    return sg.cli(*args, store=STORE, config=CONF, **kw)


def ok(r, desc):
    return tap.ok(r.rc == 0, desc, repr(r))


# --- the store: a known customer with an open process ------------------------------------------
MD = sg.path('Maildir')
sg.make_maildir(MD)
for mid, frm, to, subj, date in [
        ('a1@acme.com', 'Jane Doe <jane@acme.com>', [ME], 'Demand forecast 2027', NOW - 20 * DAY),
        ('a2@ourco.example', ME, ['Jane Doe <jane@acme.com>'], 'Our proposal for the demand forecast',
         NOW - 10 * DAY),
        ('a3@acme.com', 'Jane Doe <jane@acme.com>', [ME], 'Re: Our proposal', NOW - 5 * DAY)]:
    sg.put(MD, sg.make_message(mid, frm, to=to, subject=subj, date=date))
ok(sgc('import', MD), 'import a mailbox with a customer')
ok(sgc('orgs'), 'the store lists organisations')
r = sgc('process', 'new', '--org', 'acme.com', '--deliverable', 'Demand forecast', '--value', '48000',
        '--currency', 'EUR', '--stage', 'proposal', '-c', 'jane@acme.com:decision-maker')
ok(r, 'an open process at Acme in stage "proposal"')
PROC = r.out.strip()


def process_stage():
    r = sgc('process', 'show', PROC, '--format', 'json')
    try:
        return json.loads(r.out)[0].get('stage')
    except (ValueError, IndexError, AttributeError):
        tap.diag('process show: %r' % r)
        return None


tap.eq(process_stage(), 'proposal', 'process show reads the stage back')

# --- Evolution's profile: the local Maildir store holds the messages --------------------------
LOCAL = os.path.join(DATA_HOME, 'evolution', 'mail', 'local')
# A Maildir Outbox tells Evolution the local store is Maildir already (no mbox migration).
for folder in ('', '.Outbox'):
    for sub in ('cur', 'new', 'tmp'):
        os.makedirs(os.path.join(LOCAL, folder, sub), exist_ok=True)
# The marker of Evolution's Maildir++ layout (".Outbox" is the folder "Outbox").
with open(os.path.join(LOCAL, '..maildir++'), 'w') as f:
    f.write('maildir++ 1\n')
MESSAGES = [
    # (file name, message): Jane's newest message is the one the test opens.
    ('1700000001.M1P1.sg', sg.make_message('evo1@acme.com', 'Jane Doe <jane@acme.com>', to=[ME],
                                               subject='Pricing for the forecast', date=NOW - 2 * DAY)),
    ('1700000002.M2P2.sg', sg.make_message('evo2@acme.com', '%s <eve@acme.com>' % sg.rfc2047(HOSTILE),
                                               to=[ME], subject='Hostile name', date=NOW - DAY)),
]
for name, data in MESSAGES:
    with open(os.path.join(LOCAL, 'new', name), 'wb') as f:
        f.write(data)
# Evolution shows what the Inbox's summary lists: evolution-seed makes it (see there).
r = sg.run([SEED, LOCAL, sg.path('seed')])
tap.eq((r.rc, r.out.strip()), (0, str(len(MESSAGES))), 'evolution-seed: the local Inbox knows the messages')
EVO_VERSION = subprocess.run(['pkg-config', '--modversion', 'evolution-shell-3.0'], stdout=subprocess.PIPE,
                             universal_newlines=True).stdout.strip()
settings = os.path.join(CONFIG_HOME, 'glib-2.0', 'settings')
os.makedirs(settings)
with open(os.path.join(settings, 'keyfile'), 'w') as f:
    f.write('[org/gnome/evolution/mail]\nshow-startup-wizard=false\n'
            # The message list shows plain rows sorted by date (oldest first), one line each.
            'show-to-do-bar=false\n'
            # A profile of this very version: no migration of older profiles runs.
            "[org/gnome/evolution]\nversion='%s'\n" % EVO_VERSION)

# --- the module in a prefix of the test's own ---------------------------------------------------


def pkgvar(var):
    return subprocess.run(['pkg-config', '--variable=' + var, 'evolution-shell-3.0'], stdout=subprocess.PIPE,
                          universal_newlines=True).stdout.strip()


moduledir, prefix = pkgvar('moduledir'), pkgvar('prefix')
PREFIX = sg.path('prefix')
rel = os.path.relpath(moduledir, prefix)
os.makedirs(os.path.join(PREFIX, rel))
shutil.copy(MODULE, os.path.join(PREFIX, rel, os.path.basename(MODULE)))

# --- X and Evolution -----------------------------------------------------------------------------
procs = []


def stop_all():
    for p in reversed(procs):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except OSError:
                pass
    for p in reversed(procs):
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


r_fd, w_fd = os.pipe()
xvfb = subprocess.Popen(['Xvfb', '-displayfd', str(w_fd), '-screen', '0', '1280x900x24', '-nolisten', 'tcp'],
                        pass_fds=(w_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                        start_new_session=True)
procs.append(xvfb)
os.close(w_fd)
with os.fdopen(r_fd) as f:
    DISPLAY = ':' + f.readline().strip()

env = sg.child_env({
    'HOME': HOME, 'XDG_CONFIG_HOME': CONFIG_HOME, 'XDG_DATA_HOME': DATA_HOME,
    'XDG_CACHE_HOME': os.path.join(HOME, '.cache'), 'XDG_RUNTIME_DIR': sg.path('runtime'),
    'DISPLAY': DISPLAY, 'GSETTINGS_BACKEND': 'keyfile', 'NO_AT_BRIDGE': '1',
    'WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS': '1', 'EDS_EXTRA_PREFIXES': PREFIX,
    'SALESGETTER_PANEL_LOG': PANEL_LOG, 'SALESGETTER_STORE': STORE,
    # The copied module finds the library in the build tree.
    'LD_LIBRARY_PATH': os.path.join(sg.BUILDDIR, 'core'),
})
env.pop('G_DEBUG', None)  # Evolution's own criticals are not the module's
os.makedirs(env['XDG_RUNTIME_DIR'], mode=0o700)
evo_out = open(sg.path('evolution.log'), 'wb')
evo_argv = ['dbus-run-session', '--', 'evolution']
if PRELOAD:
    # Only Evolution (and what it starts), not the D-Bus services.
    evo_argv = ['dbus-run-session', '--', 'env', 'LD_PRELOAD=' + ' '.join(PRELOAD),
                'ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1:print_summary=1',
                'UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:print_summary=1', 'evolution']
evo = subprocess.Popen(evo_argv, env=env, stdout=evo_out, stderr=subprocess.STDOUT, start_new_session=True)
procs.append(evo)


def xdo(*args):
    return subprocess.run(['xdotool'] + list(args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=30)


def screenshot(name):
    file = os.path.join(ARTIFACTS, name + '.png')
    subprocess.run(['import', '-display', DISPLAY, '-window', 'root', file], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)
    tap.diag('screenshot: %s' % file)
    return file


def click(x, y):
    xdo('mousemove', '--sync', str(int(x)), str(int(y)))
    xdo('click', '1')


def log_events():
    out = []
    try:
        with open(PANEL_LOG, encoding='utf-8') as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except (ValueError, IndexError, AttributeError):
                    pass
    except OSError:
        pass
    return out


def wait_event(pred, timeout):
    """The newest log event matching @pred, waiting up to @timeout seconds."""
    end = time.monotonic() + timeout
    while True:
        found = [e for e in log_events() if pred(e)]
        if found:
            return found[-1]
        if time.monotonic() > end or evo.poll() is not None:
            return None
        time.sleep(0.2)


def window_named(name, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end and evo.poll() is None:
        r = xdo('search', '--onlyvisible', '--name', name)
        if r.returncode == 0 and r.stdout.strip():
            return r.stdout.split()[0]
        time.sleep(0.5)
    return None


def visible_windows():
    r = xdo('search', '--onlyvisible', '--class', '^evolution$')
    return sorted(r.stdout.split()) if r.returncode == 0 else []


def window(name, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end and evo.poll() is None:
        r = xdo('search', '--onlyvisible', '--class', name)
        if r.returncode == 0 and r.stdout.strip():
            return r.stdout.split()[0]
        time.sleep(0.5)
    return None




def events(kind, view=None, after=0):
    return [e for e in log_events()[after:] if e.get('event') == kind and (view is None or e.get('view') == view)]


def wait_for(pred, timeout):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > end or evo.poll() is not None:
            return v
        time.sleep(0.2)


def rendered(view, after, needle=None):
    """The first panel @view rendered after log line @after (holding @needle), waiting."""
    def find():
        for e in events('rendered', view, after):
            if needle is None or needle in (e.get('text') or ''):
                return e
        return None
    return wait_for(find, 30)


def button(view, kind, after):
    """The last allocation of @view's button for @kind logged after line @after."""
    found = [e for e in events('button', view, after) if e.get('kind') == kind]
    return found[-1] if found else None


def center(e):
    return e['x'] + e['width'] // 2, e['y'] + e['height'] // 2


# Rows of the message list and the folder tree, from the layout of the 1280x900 window
# (screenshots 1-started.png and 2-inbox.png show them).
INBOX = (78, 194)
COMPOSER_CC = (669, 396)
ROW_Y = (196, 218)
ROW_X = 700


def test_reader():
    n0 = len(log_events())
    click(*INBOX)
    time.sleep(3)
    screenshot('2-inbox')
    # Oldest first: Jane's message, then the hostile name.
    click(ROW_X, ROW_Y[0])
    e = rendered('evolution-reader', n0, 'jane@acme.com')
    screenshot('3-reader')
    if not tap.ok(e is not None, 'clicking Jane\'s message shows the panel in the preview pane',
                  json.dumps(log_events()[n0:], indent=1)[-3000:]):
        return
    text = e.get('text') or ''
    tap.ok('Acme' in text, 'the panel names her organisation', text)
    tap.ok('proposal' in text, 'the panel shows the open process in stage "proposal"', text)
    tap.ok(not e.get('status'), 'no status line: the store was read', e)

    # "Next stage": the button's place comes from the log (its allocation on screen).
    b = wait_for(lambda: button('evolution-reader', 'next-stage', n0), 10)
    if not tap.ok(b is not None, 'the panel has a "next stage" button',
                  json.dumps(events('button', None, n0), indent=1)[-3000:]):
        return
    n1 = len(log_events())
    click(*center(b))
    a = wait_for(lambda: events('action', 'evolution-reader', n1), 30)
    tap.ok(a and a[-1].get('ok'), 'clicking it runs the action', a)
    tap.ok(wait_for(lambda: process_stage() != 'proposal', 10),
           'the store has the process in the next stage (salesgetter process show)', process_stage())
    tap.diag('stage now: %s' % process_stage())
    stage = process_stage()
    again = rendered('evolution-reader', n1, 'stage %s ' % stage)
    tap.ok(again is not None and any(label.startswith('Process: Demand forecast · stage %s ' % stage)
                                     for label in again.get('labels', [])),
           'the panel is looked up again and its label shows the new stage', again)
    tap.ok(again is not None and stage in (again.get('status') or ''), 'the status line says what was done', again)
    screenshot('4-next-stage')


def test_composer():
    n0 = len(log_events())
    # Reply: Ctrl+R does not reach the window without a window manager; the toolbar's
    # Reply button does.
    click(777, 26)
    e = rendered('evolution-composer', n0, 'jane@acme.com')
    time.sleep(1)
    screenshot('5-composer')
    if not tap.ok(e is not None, 'a reply shows the panel for its recipient in the composer',
                  json.dumps(log_events()[n0:], indent=1)[-3000:]):
        return
    tap.ok(e.get('composing'), 'the composer panel is a composing one', e)
    tap.ok('Acme' in (e.get('text') or ''), 'the composer panel names the organisation', e)

    # A recipient added in Cc: the panel follows once typing settles. The composer window's
    # Cc entry is where 5-composer.png shows it (no window manager: windows keep their place).
    comp = window_named('Re: Pricing', 5)
    cc = None
    if comp:
        geo = xdo('getwindowgeometry', comp).stdout
        tap.diag(geo)
    n1 = len(log_events())
    click(*COMPOSER_CC)
    time.sleep(0.5)
    xdo('type', '--delay', '30', 'Hans Meier <hans@globex.de>, ')  # noqa: the same text as below
    cc = rendered('evolution-composer', n1, 'hans@globex.de')
    screenshot('5b-composer-cc')
    if not tap.ok(cc is not None, 'a recipient typed into Cc is looked up (the panel shows them)',
                  json.dumps(log_events()[n1:], indent=1)[-3000:]):
        return
    tap.ok('jane@acme.com' in cc.get('text', ''), 'the first recipient stays in the panel', cc)
    looked = [e for e in events('rendered', 'evolution-composer', n1)]
    typed = 'Hans Meier <hans@globex.de>, '
    tap.ok(len(looked) <= 3, 'typing is debounced: %d lookups for %d keystrokes' % (len(looked), len(typed)),
           looked)


def test_hostile():
    n0 = len(log_events())
    main = window('^evolution$', 5)
    if main:
        xdo('windowactivate', main)
        xdo('windowraise', main)
    click(ROW_X, ROW_Y[1])
    e = rendered('evolution-reader', n0, 'Evil')
    screenshot('6-hostile')
    if not tap.ok(e is not None, 'the message with a hostile display name shows a panel',
                  json.dumps(log_events()[n0:], indent=1)[-3000:]):
        return
    text = e.get('text') or ''
    labels = e.get('labels', [])
    heading = labels[0] if labels else ''
    # The GTK labels' own text (gtk_label_get_text()): with markup, "<b>" would be gone.
    tap.ok(heading.startswith('<b>Evil</b> &amp; Corp'), 'markup in the name is shown as characters', labels)
    tap.ok('not in the CRM' in labels, 'the stranger is "not in the CRM"', labels)
    tap.ok(not any(c in label for label in labels for c in '\u202e\u202c\x07'),
           'no bidi override or control character reaches a label', ascii(labels))
    tap.ok(heading.endswith('\u2026') and len(heading) < len(HOSTILE), 'a very long name is shortened', heading)


def test_locked_store():
    """Another program writes to the store (an import, say) while the user reads: the panel
    still reads (WAL), and an action that cannot write in time says so in the status line:
    no dialog, nothing changed, Evolution keeps working."""
    import sqlite3
    n0 = len(log_events())
    click(ROW_X, ROW_Y[0])
    if not tap.ok(rendered('evolution-reader', n0, 'Acme') is not None, 'back to Jane\'s message'):
        return
    b = wait_for(lambda: button('evolution-reader', 'next-stage', n0), 10)
    stage = process_stage()
    windows = visible_windows()
    db = sqlite3.connect(STORE, isolation_level=None)
    db.execute('BEGIN IMMEDIATE')
    db.execute("UPDATE store_meta SET value = value WHERE key = 'none'")
    try:
        n1 = len(log_events())
        click(ROW_X, ROW_Y[1])
        tap.ok(rendered('evolution-reader', n1, 'Evil') is not None,
               'while another program writes, the panel still reads the store')
        n2 = len(log_events())
        click(ROW_X, ROW_Y[0])
        rendered('evolution-reader', n2, 'Acme')
        b = wait_for(lambda: button('evolution-reader', 'next-stage', n2), 10)
        if b is None:
            tap.ok(False, 'the next-stage button is there')
            return
        n3 = len(log_events())
        click(*center(b))
        a = wait_for(lambda: events('action', 'evolution-reader', n3), 120)
        screenshot('7-store-busy')
        tap.ok(a and not a[-1].get('ok'), 'an action while the store is held by a writer fails', a)
        tap.ok(a and any(w in (a[-1].get('message') or '') for w in ('busy', 'locked')),
               'and says why in one line', a)
        tap.eq(visible_windows(), windows, 'no dialog opened')
    finally:
        db.execute('ROLLBACK')
        db.close()
    tap.eq(process_stage(), stage, 'the stage did not change')


try:
    main = window('^evolution$', 90)
    tap.ok(main is not None, 'Evolution shows its main window')
    if main is None:
        screenshot('0-no-window')
        tap.diag('Evolution did not start:\n%s' % open(sg.path('evolution.log'), errors='replace').read()[-3000:])
    else:
        # No window manager: place the window at a known spot and size.
        xdo('windowmove', main, '0', '0')
        xdo('windowsize', main, '1280', '900')
        time.sleep(6)
        screenshot('1-started')
        tap.run('reader', test_reader)
        tap.run('composer', test_composer)
        tap.run('hostile name', test_hostile)
        tap.run('locked store', test_locked_store)
        tap.ok(evo.poll() is None, 'Evolution is still running')
finally:
    stop_all()
    evo_out.close()
    with open(sg.path('evolution.log'), errors='replace') as f:
        crit = [line for line in f if 'salesgetter' in line and ('CRITICAL' in line or 'WARNING' in line)]
    tap.ok(not crit, 'no criticals or warnings from the module in Evolution\'s output', ''.join(crit[:20]))
    with open(sg.path('evolution.log'), errors='replace') as f:
        out = f.read()
    tap.note_output('evolution', out)  # AddressSanitizer/UBSan reports count as failures
    for name in ('panel.log', 'evolution.log'):
        if os.path.exists(sg.path(name)):
            shutil.copy(sg.path(name), os.path.join(ARTIFACTS, name))
tap.done()
