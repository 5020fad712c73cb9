"""sgtest: shared helpers for the end-to-end tests of the real binaries.

Python 3 standard library only. Each test script makes a Tap, runs checks, and calls
tap.done() (which prints the plan and exits with the right status). Everything a test
makes lives in one temporary directory that is removed at exit (set SG_KEEP_TMP=1 to keep
it); every child process gets XDG dirs and HOME inside that directory, so the developer's
own config and store are never touched; every wait is bounded.

Environment (set by tests/meson.build): SG_CLI, SG_SYNCD, SG_SRCDIR, SG_BUILDDIR.
"""

import atexit
import base64
import itertools
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get('SG_SRCDIR') or os.path.dirname(os.path.dirname(HERE))
BUILDDIR = os.environ.get('SG_BUILDDIR') or os.path.join(SRCDIR, 'build')
CLI = os.environ.get('SG_CLI') or os.path.join(BUILDDIR, 'cli', 'salesgetter')
SYNCD = os.environ.get('SG_SYNCD') or os.path.join(BUILDDIR, 'syncd', 'salesgetter-syncd')
GENERATOR = os.path.join(SRCDIR, 'tests', 'gen', 'gen-maildir.py')

# What the sanitizers print. Any of these in a child's stderr is a finding.
SANITIZER_MARKERS = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:',
                     'SUMMARY: UndefinedBehaviorSanitizer', 'WARNING: ThreadSanitizer')
ISO_Z = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
SUMMARY_RE = re.compile(r'(Imported|Interrupted[^:]*): (\d+) messages read, (\d+) new interactions, '
                        r'(\d+) already known, (\d+) skipped')


# --- TAP ------------------------------------------------------------------------------

class Tap:
    """TAP producer. The plan is printed at the end, so tests may be added freely."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        self.sanitizer_reports = []
        self._finished = False

    def _line(self, text):
        sys.stdout.write(text + '\n')
        sys.stdout.flush()

    def diag(self, text):
        for line in str(text).splitlines() or ['']:
            self._line('# ' + line)

    comment = diag

    def ok(self, cond, desc, diag=None):
        self.n += 1
        desc = desc.replace('#', '\\#')
        if cond:
            self._line('ok %d - %s' % (self.n, desc))
        else:
            self.failed += 1
            self._line('not ok %d - %s' % (self.n, desc))
            if diag:
                self.diag(diag)
        return bool(cond)

    def eq(self, got, want, desc):
        return self.ok(got == want, desc, 'got:  %r\nwant: %r' % (got, want))

    def todo(self, cond, desc, reason, diag=None):
        """A check that may fail for a known reason outside the code under test (TAP TODO:
        shown, but not counted as a failure)."""
        if cond:
            return self.ok(True, desc)
        self.n += 1
        desc = desc.replace('#', '\\#')
        self._line('not ok %d - %s # TODO %s' % (self.n, desc, reason))
        if diag:
            self.diag(diag)
        return False

    def skip(self, desc, reason):
        self.n += 1
        self._line('ok %d - %s # SKIP %s' % (self.n, desc, reason))

    def run(self, desc, func, *args, **kwargs):
        """Runs a group of checks; an exception becomes a failed test instead of ending the
        script."""
        try:
            return func(*args, **kwargs)
        except Exception:  # noqa: BLE001 - a test harness reports everything
            self.ok(False, '%s (raised)' % desc, traceback.format_exc())
            return None

    def note_output(self, what, text):
        """Remembers sanitizer reports found in a child's stderr."""
        if text and any(m in text for m in SANITIZER_MARKERS):
            self.sanitizer_reports.append((what, text))

    def done(self):
        if self._finished:
            return
        self._finished = True
        stop_all_daemons()
        # One last test: nothing the binaries printed came from ASan/UBSan.
        detail = '\n\n'.join('%s:\n%s' % (w, _excerpt_sanitizer(t)) for w, t in self.sanitizer_reports[:5])
        self.ok(not self.sanitizer_reports,
                'no AddressSanitizer/UBSan reports from the binaries (%d)' % len(self.sanitizer_reports),
                detail)
        self._line('1..%d' % self.n)
        # The TAP stream carries the verdict (meson reports "N/M subtests passed"); a
        # non-zero status would make it an ERROR instead. SG_TAP_STATUS=1 for shell use.
        sys.exit(1 if self.failed and os.environ.get('SG_TAP_STATUS') else 0)


def _excerpt_sanitizer(text, lines=40):
    out = text.splitlines()
    for i, line in enumerate(out):
        if any(m in line for m in SANITIZER_MARKERS):
            return '\n'.join(out[max(0, i - 2):i + lines])
    return '\n'.join(out[:lines])


# --- temporary directories and environment -------------------------------------------

_tmp_root = None


def tmpdir():
    """The test's own temporary directory (created once, removed at exit)."""
    global _tmp_root
    if _tmp_root is None:
        _tmp_root = tempfile.mkdtemp(prefix='sg-e2e-%s-' % os.path.splitext(os.path.basename(sys.argv[0]))[0])
        if not os.environ.get('SG_KEEP_TMP'):
            atexit.register(_remove_tmp)
    return _tmp_root


def _remove_tmp():
    stop_all_daemons()
    if _tmp_root and os.path.isdir(_tmp_root):
        # Give back permissions a test took away (chmod 000) so that rmtree works.
        for dirpath, dirnames, filenames in os.walk(_tmp_root):
            for n in dirnames + filenames:
                try:
                    os.chmod(os.path.join(dirpath, n), 0o700, follow_symlinks=False)
                except OSError:
                    pass
        shutil.rmtree(_tmp_root, ignore_errors=True)


def path(*parts):
    return os.path.join(tmpdir(), *parts)


def child_env(extra=None, detailed_leaks=False):
    """The environment of a child: XDG dirs and HOME inside the temp dir, no store override,
    a UTF-8 locale."""
    env = dict(os.environ)
    home = path('home')
    for d in ('home', 'home/.config', 'home/.local/share'):
        os.makedirs(path(d), exist_ok=True)
    env['HOME'] = home
    env['XDG_CONFIG_HOME'] = os.path.join(home, '.config')
    env['XDG_DATA_HOME'] = os.path.join(home, '.local', 'share')
    env['SALESGETTER_STORE'] = ''
    env.setdefault('LC_ALL', 'C.UTF-8')
    env.setdefault('G_DEBUG', 'fatal-criticals')
    # Under a sanitizer build (meson sets these too): stop at the first error, and let
    # a report reach stderr where the tests look for it.
    env.setdefault('ASAN_OPTIONS', 'halt_on_error=1:abort_on_error=1:print_summary=1')
    env.setdefault('UBSAN_OPTIONS', 'halt_on_error=1:abort_on_error=1:print_summary=1:print_stacktrace=1')
    if detailed_leaks and is_sanitized_build():
        # Full allocation stacks in leak reports (GLib has no frame pointers); slow, so
        # only for short runs.
        env['ASAN_OPTIONS'] += ':fast_unwind_on_malloc=0:malloc_context_size=30'
    if extra:
        env.update(extra)
    return env


def is_sanitized_build():
    """True when the binaries were built with -Db_sanitize (slower: tests scale down)."""
    try:
        with open(os.path.join(BUILDDIR, 'meson-info', 'intro-buildoptions.json')) as f:
            for opt in json.load(f):
                if opt.get('name') == 'b_sanitize':
                    return opt.get('value') not in ('none', '', None, [])
    except (OSError, ValueError):
        pass
    return False


# --- running the CLI ---------------------------------------------------------------

class Result:
    def __init__(self, args, rc, out, err, elapsed):
        self.args, self.rc, self.out, self.err, self.elapsed = args, rc, out, err, elapsed

    def __repr__(self):
        return 'Result(rc=%r, args=%r)\n--- stdout:\n%s\n--- stderr:\n%s' % (
            self.rc, self.args, self.out[-3000:], self.err[-3000:])


TAP = None  # the script's Tap, for sanitizer bookkeeping


def self_signed_cert(days=2, name='tls'):
    """A certificate for localhost and 127.0.0.1, valid from now for @days, and its key (0600)
    in the test's folder: (cert, key), or (None, the reason) when openssl cannot make one."""
    cert, key = path(name + '.crt'), path(name + '.key')
    r = run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', str(days), '-subj', '/CN=localhost',
             '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert])
    if r.rc != 0:
        return None, 'openssl cannot make a certificate: %s' % r.err[-200:]
    os.chmod(key, 0o600)
    return cert, key


def run(argv, timeout=120, env=None, input=None, binary=False):
    """Runs @argv with a bounded wait. Returns Result (stdout/stderr as str, or bytes when
    @binary). A timeout kills the child and gives rc None."""
    start = time.monotonic()
    short = argv[0] == CLI or '--check-config' in argv
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           env=env or child_env(detailed_leaks=short), input=input)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = None, e.stdout or b'', (e.stderr or b'') + b'\n[timed out]'
    elapsed = time.monotonic() - start
    if not binary:
        out = out.decode('utf-8', 'replace')
        err = err.decode('utf-8', 'replace')
    if TAP is not None:
        TAP.note_output(' '.join(os.path.basename(a) for a in argv[:1]) + ' ' + ' '.join(argv[1:4]),
                        err if isinstance(err, str) else err.decode('utf-8', 'replace'))
    return Result(argv, rc, out, err, elapsed)


def cli(*args, store=None, config=None, **kw):
    """Runs salesgetter with global --store/--config before the command."""
    argv = [CLI]
    if store is not None:
        argv += ['--store', store]
    if config is not None:
        argv += ['--config', config]
    return run(argv + list(args), **kw)


def parse_summary(text):
    """(messages read, new, known, skipped) from the import summary line, or None."""
    m = SUMMARY_RE.search(text)
    return tuple(int(x) for x in m.groups()[1:]) if m else None


# --- config ------------------------------------------------------------------------------

def write_config(file, name='Me Myself', addresses=('me@ourco.example',), internal_domains=(),
                 maildirs=(), store=None, extra=''):
    """Writes a salesgetter.conf (GKeyFile)."""
    lines = ['[identity]', 'name=%s' % name]
    if addresses:
        lines.append('addresses=%s;' % ';'.join(addresses))
    if internal_domains:
        lines.append('internal-domains=%s;' % ';'.join(internal_domains))
    if store:
        lines += ['', '[store]', 'path=%s' % store]
    if maildirs:
        lines += ['', '[maildir]', 'paths=%s;' % ';'.join(maildirs)]
    text = '\n'.join(lines) + '\n' + extra
    tmp = file + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.rename(tmp, file)
    return file


# --- messages and Maildirs ----------------------------------------------------------------

def rfc2047(text):
    return '=?utf-8?b?%s?=' % base64.b64encode(text.encode('utf-8')).decode('ascii')


def fmt_date(ts, offset_minutes=0):
    """An RFC 5322 date for Unix time @ts shown in the given offset."""
    t = time.gmtime(ts + offset_minutes * 60)
    sign = '+' if offset_minutes >= 0 else '-'
    off = abs(offset_minutes)
    return '%s, %02d %s %04d %02d:%02d:%02d %s%02d%02d' % (
        ('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[t.tm_wday], t.tm_mday,
        ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec')[t.tm_mon - 1],
        t.tm_year, t.tm_hour, t.tm_min, t.tm_sec, sign, off // 60, off % 60)


def iso_z(ts):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(ts))


def make_message(msgid, from_, to=('Me Myself <me@ourco.example>',), subject='Hello', date=1700000000,
                 offset=0, cc=(), headers=(), body='Hello,\n\nsome text.\n\n-- \nA Signature\n'):
    """A message as bytes. @from_/@to/@cc are full mailbox strings (already encoded if need be);
    @headers is a list of (name, value) added as they are."""
    h = [('From', from_)]
    if to:
        h.append(('To', ', '.join(to)))
    if cc:
        h.append(('Cc', ', '.join(cc)))
    h += [('Subject', subject), ('Date', fmt_date(date, offset))]
    if msgid is not None:
        h.append(('Message-ID', '<%s>' % msgid))
    h += list(headers)
    h += [('MIME-Version', '1.0'), ('Content-Type', 'text/plain; charset=utf-8'),
          ('Content-Transfer-Encoding', '8bit')]
    text = ''.join('%s: %s\n' % kv for kv in h) + '\n' + body
    return text.encode('utf-8')


def make_maildir(root, subfolders=()):
    """Creates a Maildir (cur, new, tmp) and Maildir++ subfolders (names like '.Sent')."""
    for d in [root] + [os.path.join(root, s) for s in subfolders]:
        for sub in ('cur', 'new', 'tmp'):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
    return root


_seq = itertools.count(1)
_host = socket.gethostname().replace('/', '\\057').replace(':', '\\072') or 'localhost'


def unique_name(when=None):
    """A Maildir unique file name: time.MusecPpidQseq.host (delivery time first, as the
    importer uses it as a fallback date)."""
    now = time.time() if when is None else when
    return '%d.M%06dP%dQ%d.%s' % (int(now), int((now % 1) * 1e6), os.getpid(), next(_seq), _host)


def deliver(maildir, data, folder='', name=None, sub='new', flags=None):
    """Delivers @data the way an MDA does: written and synced into tmp/, then renamed into
    new/ (or cur/ with ':2,FLAGS'). Returns the final path."""
    base = os.path.join(maildir, folder) if folder else maildir
    name = name or unique_name()
    tmp = os.path.join(base, 'tmp', name)
    with open(tmp, 'wb') as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    final_name = name + (':2,%s' % flags if flags is not None else '')
    final = os.path.join(base, sub, final_name)
    os.rename(tmp, final)
    return final


def put(maildir, data, folder='', name=None, sub='cur', flags='S'):
    """Puts a message straight into a Maildir (for fixtures made before any watcher runs)."""
    base = os.path.join(maildir, folder) if folder else maildir
    name = name or unique_name()
    if sub == 'cur' and flags is not None:
        name += ':2,%s' % flags
    p = os.path.join(base, sub, name)
    with open(p, 'wb') as f:
        f.write(data)
    return p


def write_mbox(file, messages):
    """An mbox (mboxrd quoting) of @messages (bytes each)."""
    with open(file, 'wb') as f:
        for i, data in enumerate(messages):
            f.write(b'From MAILER-DAEMON Thu Nov 16 10:00:%02d 2023\n' % (i % 60))
            for line in data.split(b'\n'):
                if re.match(rb'^>*From ', line):
                    line = b'>' + line
                f.write(line + b'\n')
            f.write(b'\n')
    return file


# --- the store ---------------------------------------------------------------------------

def open_ro(store, timeout=5.0):
    """A read-only connection to the store, in autocommit mode (each query sees the latest
    commit)."""
    con = sqlite3.connect('file:%s?mode=ro' % store, uri=True, timeout=timeout, isolation_level=None)
    con.execute('PRAGMA query_only = 1')
    return con


def query(store, sql, args=(), retries=50):
    """Runs a read-only query with retries on a busy or not-yet-created store."""
    last = None
    for _ in range(retries):
        try:
            con = open_ro(store)
            try:
                return con.execute(sql, args).fetchall()
            finally:
                con.close()
        except sqlite3.OperationalError as e:
            last = e
            time.sleep(0.02)
    raise last


def scalar(store, sql, args=()):
    rows = query(store, sql, args)
    return rows[0][0] if rows else None


def integrity(store):
    """'ok' or the problems PRAGMA integrity_check and foreign_key_check report."""
    con = sqlite3.connect(store, timeout=10)
    try:
        rows = [r[0] for r in con.execute('PRAGMA integrity_check')]
        fk = con.execute('PRAGMA foreign_key_check').fetchall()
    finally:
        con.close()
    problems = [r for r in rows if r != 'ok']
    if fk:
        problems.append('foreign_key_check: %r' % fk[:10])
    return 'ok' if not problems else '; '.join(problems)


class StorePoller:
    """Polls a store the daemon is writing, with one read-only connection."""

    def __init__(self, store):
        self.store = store
        self.con = None

    def _con(self):
        if self.con is None:
            if not os.path.exists(self.store):
                return None
            try:
                self.con = open_ro(self.store, timeout=0.5)
            except sqlite3.OperationalError:
                return None
        return self.con

    def one(self, sql, args=()):
        con = self._con()
        if con is None:
            return None
        try:
            row = con.execute(sql, args).fetchone()
            return row[0] if row else None
        except sqlite3.OperationalError:
            # A store still being created or migrated: try again later.
            self.close()
            return None

    def has_message(self, msgid):
        return self.one('SELECT 1 FROM interactions WHERE message_id = ?', (msgid,)) == 1

    def count(self, table='interactions'):
        return self.one('SELECT count(*) FROM %s' % table) or 0

    def close(self):
        if self.con is not None:
            self.con.close()
            self.con = None


def wait_for(pred, timeout, interval=0.005):
    """Polls @pred until true or @timeout seconds. Returns (ok, seconds waited)."""
    start = time.monotonic()
    while True:
        if pred():
            return True, time.monotonic() - start
        if time.monotonic() - start > timeout:
            return False, time.monotonic() - start
        time.sleep(interval)


# --- the daemon ---------------------------------------------------------------------------

_daemons = []


class Daemon:
    """A salesgetter-syncd child with its output in a log file. Always stopped at exit."""

    def __init__(self, config, store, args=(), name='syncd'):
        self.config, self.store, self.args = config, store, list(args)
        self.log_path = path('%s-%d.log' % (name, len(_daemons)))
        self.proc = None
        self.starts = 0

    def start(self):
        log = open(self.log_path, 'ab')
        try:
            self.proc = subprocess.Popen([SYNCD, '--config', self.config, '--store', self.store] + self.args,
                                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=child_env(), start_new_session=True)
        finally:
            log.close()
        self.starts += 1
        if self not in _daemons:
            _daemons.append(self)
        return self

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def wait(self, timeout):
        """Waits for exit; returns the exit code, or None on timeout."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill9(self):
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        return self.wait(10)

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL if it does not exit within @timeout. Returns (rc, seconds)."""
        if self.proc is None:
            return None, 0.0
        start = time.monotonic()
        if self.alive():
            os.kill(self.proc.pid, signal.SIGTERM)
        rc = self.wait(timeout)
        elapsed = time.monotonic() - start
        if rc is None:
            self.kill9()
        self.note_log()
        return rc, elapsed

    def log(self):
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def note_log(self):
        if TAP is not None:
            TAP.note_output('salesgetter-syncd (%s)' % os.path.basename(self.log_path), self.log())


def stop_all_daemons():
    for d in _daemons:
        try:
            if d.alive():
                d.kill9()
        except OSError:
            pass


def start(tap):
    """Per-script set-up: makes the Tap known for sanitizer bookkeeping, and makes sure a
    daemon is never left behind (SIGTERM to the test kills children first)."""
    global TAP
    TAP = tap

    def on_term(signum, frame):
        stop_all_daemons()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    atexit.register(stop_all_daemons)
    for exe in (CLI, SYNCD):
        if not os.access(exe, os.X_OK):
            tap.diag('missing binary %s' % exe)
    tap.diag('cli %s' % CLI)
    tap.diag('syncd %s' % SYNCD)
    if is_sanitized_build():
        tap.diag('sanitizer build: sizes are scaled down')
    return tap


# --- canonical dump of a store by natural keys ----------------------------------------------

def canonical_dump(store):
    """The store's facts by natural keys, without local ids, creation times or clocks, as a
    dict of table -> sorted list of tuples (and 'changes' as sorted (key, count) pairs). Two
    stores made from the same mail by different runs must give the same dump."""
    con = sqlite3.connect('file:%s?mode=ro' % store, uri=True, timeout=10)
    try:
        def rows(sql):
            return sorted(tuple(r) for r in con.execute(sql))

        person_addrs = {}
        for pid, addr in con.execute('SELECT person_id, address FROM addresses WHERE person_id IS NOT NULL'):
            person_addrs.setdefault(pid, []).append(addr)
        person_key = {pid: tuple(sorted(a)) for pid, a in person_addrs.items()}
        org_domain = dict(con.execute('SELECT id, domain FROM organisations'))
        d = {}
        # The location of a Maildir message is [folder/]new|cur/name as it was when it was
        # stored; a later move new/ -> cur/ with flags (name:2,S) is not a difference in the
        # facts (test-syncd checks the location itself), so it is compared without them.
        d['interactions'] = sorted(
            r[:-1] + (_maildir_key(r[-1]),) for r in con.execute(
                'SELECT i.message_id, i.kind, i.direction, i.internal, i.bulk, i.date_utc, i.tz_offset, i.subject, '
                '       t.root_key, i.in_reply_to, s.uri, i.location '
                'FROM interactions i LEFT JOIN threads t ON t.id = i.thread_id '
                'LEFT JOIN sources s ON s.id = i.source_id'))
        d['participants'] = rows(
            'SELECT i.message_id, a.address, p.role, p.display_name FROM participants p '
            'JOIN interactions i ON i.id = p.interaction_id JOIN addresses a ON a.id = p.address_id')
        d['addresses'] = sorted(
            (addr, dom, odom, kind, person_key.get(pid), name, pkind)
            for addr, dom, odom, kind, pid, name, pkind in con.execute(
                'SELECT a.address, a.domain, a.org_domain, a.kind, a.person_id, p.name, p.kind '
                'FROM addresses a LEFT JOIN people p ON p.id = a.person_id'))
        d['people'] = sorted(
            (person_key.get(pid, ('<no address: person %d>' % pid,)), name, score, ndate, kind,
             org_domain.get(oid), first, last)
            for pid, name, score, ndate, kind, oid, first, last in con.execute(
                'SELECT id, name, name_score, name_date, kind, org_id, first_seen, last_seen FROM people'))
        d['organisations'] = rows(
            'SELECT o.domain, o.name, o.kind, o.industry, o.first_seen, o.last_seen, '
            '       (SELECT group_concat(domain, \',\') FROM (SELECT domain FROM org_domains '
            '         WHERE org_id = o.id ORDER BY domain)) FROM organisations o')
        d['threads'] = rows('SELECT root_key FROM threads')
        d['sources'] = rows('SELECT kind, uri, state FROM sources')
        d['maildir_seen'] = rows(
            'SELECT s.uri, m.name, i.message_id FROM maildir_seen m JOIN sources s ON s.id = m.source_id '
            'LEFT JOIN interactions i ON i.id = m.interaction_id')
        d['import_problems'] = rows(
            'SELECT s.uri, p.location, p.reason FROM import_problems p LEFT JOIN sources s ON s.id = p.source_id')
        counts = {}
        for key in con.execute('SELECT entity, natural_key, op, fields FROM changes'):
            counts[tuple(key)] = counts.get(tuple(key), 0) + 1
        d['changes'] = sorted(counts.items())
        d['tag_assignments'] = rows('SELECT count(*) FROM tag_assignments')
        d['person_roles'] = rows('SELECT count(*) FROM person_roles')
        d['store_meta'] = rows('SELECT key FROM store_meta')
        return d
    finally:
        con.close()


def _maildir_key(location):
    if not location:
        return location
    location = re.sub(r':2,[^/]*$', '', location)
    return re.sub(r'(^|/)(new|cur)/([^/]*)$', r'\1\3', location)


def duplicates(store):
    """Facts that are there twice (or orphaned) in one store: a list of strings, empty when
    there are none."""
    con = sqlite3.connect('file:%s?mode=ro' % store, uri=True, timeout=10)
    out = []
    try:
        checks = [
            ('interactions with the same message_id',
             'SELECT message_id, count(*) FROM interactions GROUP BY message_id HAVING count(*) > 1'),
            # A meeting's ops are its versions (moved, cancelled, answered), and a tag can be
            # added, removed and added again: only the other entities are logged once each,
            # but for an organisation's later name (learned from signatures, or set by hand):
            # the same op (same fields) is never logged twice.
            ('changes logged more than once for one entity',
             "SELECT entity, natural_key, op, count(*) FROM changes WHERE entity NOT IN ('meeting', "
             "'tag_assignment', 'organisation') GROUP BY entity, natural_key, op HAVING count(*) > 1"),
            ('organisation ops logged twice',
             "SELECT natural_key, op, fields, count(*) FROM changes WHERE entity = 'organisation' "
             "GROUP BY natural_key, op, fields HAVING count(*) > 1"),
            ('interactions without their change', "SELECT message_id FROM interactions WHERE message_id NOT IN "
             "(SELECT natural_key FROM changes WHERE entity = 'interaction')"),
            ('changes for interactions that are not stored', "SELECT natural_key FROM changes WHERE "
             "entity = 'interaction' AND natural_key NOT IN (SELECT message_id FROM interactions)"),
            ('people without an address',
             'SELECT id FROM people WHERE id NOT IN (SELECT person_id FROM addresses WHERE person_id IS NOT NULL)'),
            ('organisations without a domain', 'SELECT id, domain FROM organisations WHERE id NOT IN '
             '(SELECT org_id FROM org_domains)'),
            ('maildir_seen rows pointing at no interaction (besides skipped files)',
             'SELECT m.name FROM maildir_seen m WHERE m.interaction_id IS NOT NULL AND m.interaction_id NOT IN '
             '(SELECT id FROM interactions)'),
        ]
        for what, sql in checks:
            rows = con.execute(sql + ' LIMIT 10').fetchall()
            if rows:
                out.append('%s: %r' % (what, rows))
    finally:
        con.close()
    return out


def diff_dumps(a, b, limit=8):
    """Human-readable differences between two canonical dumps ('' when equal)."""
    out = []
    for table in sorted(set(a) | set(b)):
        ra, rb = a.get(table, []), b.get(table, [])
        if ra == rb:
            continue
        sa, sb = set(ra), set(rb)
        only_a, only_b = sorted(sa - sb)[:limit], sorted(sb - sa)[:limit]
        out.append('%s: %d rows vs %d rows; %d only in A, %d only in B' % (
            table, len(ra), len(rb), len(sa - sb), len(sb - sa)))
        out += ['  A only: %r' % (r,) for r in only_a]
        out += ['  B only: %r' % (r,) for r in only_b]
        if not only_a and not only_b:
            out.append('  (same rows, different multiplicity)')
    return '\n'.join(out)
