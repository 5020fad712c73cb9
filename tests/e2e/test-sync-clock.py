#!/usr/bin/env python3
"""End-to-end test of sync with a device whose clock is far behind (issue 6, "Bad input and
faults": "a client clock far off"; the clock far *ahead* is in test-sync-faults.py). The real
salesgetter client runs under libfaketime (Debian faketime: LD_PRELOAD, FAKETIME) with its
wall clock days, then years behind, against the real salesgetter-server and PostgreSQL on
loopback (plain HTTP: see the TLS part for why).

For each offset, two devices of one user (ann's desk with the right time, ann's laptop
behind) and a manager's store (mia) check what schema/sync.md promises for hybrid logical
clocks ("Merge", "A clock far off"):
  - concurrent offline edits of the same fields (an organisation's name, a process's stage)
    and a note each: the edit with the newer hlc wins; the laptop's hlc is just above the
    newest clock it received, so the desk's later-stamped edit wins even when the laptop
    edited later in real time; a tag the desk removes while the laptop adds it again: the
    laptop's add wins although stamped older, since the desk's removal had not seen it
    (observed-remove, add-wins); every store and the server hold the same state;
  - after the laptop has pulled, its next edits win over what it pulled (HLC receive rule),
    though its wall clock is still behind;
  - the stage history is append-only: every move once on every store and on the server, no
    entry dated before the entries the device had seen when it moved, and the history listed
    in the same order on every store (the order of the entries' clocks, as on the server);
  - sync succeeds; on the laptop it warns, and sync --status (state ok) says, how far its
    clock is behind the server's (the server's HTTP Date); nothing lost or duplicated (ops on
    the server by device, rows on the other stores).
Then a TLS server whose certificate is valid from today: a clock years behind sees it as not
yet valid; the error names the certificate and this device's clock.
Skips when PostgreSQL or faketime is not installed."""

import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest as sg  # noqa: E402
import sgserver  # noqa: E402

tap = sg.start(sg.Tap())

FAKETIME_LIBS = ('/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
                 '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
                 '/usr/lib/faketime/libfaketime.so.1')
FAKETIME = next((p for p in FAKETIME_LIBS if os.path.exists(p)), None)

if not sgserver.Postgres.available():
    tap.skip('a client clock far behind', 'PostgreSQL (Debian postgresql) is not installed')
    tap.done()
if FAKETIME is None:
    tap.skip('a client clock far behind', 'libfaketime (Debian faketime) is not installed: no test can set a '
             'client\'s clock back')
    tap.done()
# libfaketime and jemalloc (the allocator of a plain build's executables, common/meson.build)
# wait on each other at start-up: jemalloc's first malloc asks the clock, libfaketime's clock
# initialises with malloc. The ASan/UBSan build, with glibc's malloc (the sanitizers bring
# their own), runs this test; `scripts/bootstrap test` runs both builds.
_version = subprocess.run([sg.CLI, '--version'], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode()
if 'jemalloc' in _version:
    tap.skip('a client clock far behind', 'this build\'s salesgetter runs on jemalloc, which deadlocks with '
             'libfaketime at start-up; the ASan/UBSan build (glibc malloc) runs these checks')
    tap.done()


def sanitizer_preload():
    """Under an ASan build, the sanitizer runtime must come first in LD_PRELOAD (before
    libfaketime), else ASan refuses to start. The paths the binary links, from ldd."""
    if not sg.is_sanitized_build():
        return []
    out = subprocess.run(['ldd', sg.CLI], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode()
    libs = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and ('libasan' in parts[0] or 'libubsan' in parts[0]) and parts[2].startswith('/'):
            libs.append(parts[2])
    return libs


PRELOAD = ':'.join(sanitizer_preload() + [FAKETIME])


def fake_env(offset):
    """The environment of a client whose wall clock is @offset (libfaketime syntax: '-3d',
    '-730d'). Monotonic clocks stay real (timeouts, GLib main loop)."""
    return {'LD_PRELOAD': PRELOAD, 'FAKETIME': offset, 'FAKETIME_DONT_FAKE_MONOTONIC': '1',
            'FAKETIME_DONT_RESET': '1'}


# That faketime reaches GLib's g_get_real_time in our binary is checked on the first op a
# faked store logs (its hlc's physical part is the faked time); that it reaches OpenSSL's
# certificate checks through libcurl, by the TLS part.

PG = sgserver.Postgres.start()
SRV = sgserver.Server.start(PG, tap)
SRV.user_add('ann', 'account-manager', ['ann@us.test'])
SRV.user_add('mia', 'manager', ['mia@us.test'])
T0 = 1772442000  # 2026-03-02: mail dates (the messages' own, not a clock)


class Client:
    def __init__(self, name, login, url, offset=None, days=0, extra=''):
        self.name, self.login, self.offset, self.days = name, login, offset, days
        self.address = '%s@us.test' % login
        self.dir = sg.path(name)
        os.makedirs(self.dir, exist_ok=True)
        self.store = os.path.join(self.dir, 'store.db')
        self.maildir = sg.make_maildir(os.path.join(self.dir, 'Maildir'))
        self.token_file = os.path.join(self.dir, 'token')
        with open(self.token_file, 'w') as f:
            f.write(SRV.token_new(login, device=name) + '\n')
        os.chmod(self.token_file, 0o600)
        self.config = os.path.join(self.dir, 'salesgetter.conf')
        sg.write_config(self.config, name=login.title(), addresses=(self.address,), internal_domains=('us.test',),
                        store=self.store, maildirs=(self.maildir,),
                        extra='\n[sync]\nserver=%s\ntoken-file=%s\n%s' % (url, self.token_file, extra))
        self.n = 0

    def cli(self, *args):
        env = sg.child_env(fake_env(self.offset) if self.offset else None, detailed_leaks=True)
        return sg.run([sg.CLI, '--config', self.config] + list(args), env=env)

    def ok(self, desc, *args):
        r = self.cli(*args)
        tap.ok(r.rc == 0, '%s: %s' % (self.name, desc), repr(r))
        return r

    def q(self, sql, args=()):
        return sg.query(self.store, sql, args)

    def one(self, sql, args=()):
        rows = self.q(sql, args)
        return rows[0][0] if rows else None

    def mail(self, sender, org):
        self.n += 1
        sg.put(self.maildir, sg.make_message('%s-%d@%s' % (self.name, self.n, org), 'Contact <%s@%s>' % (sender, org),
                                             to=(self.address,), subject='Hello', date=T0 + self.n * 60,
                                             body='text\n'))
        self.ok('imports a message from %s@%s' % (sender, org), 'import', '-q', self.maildir)

    def device(self):
        return self.one("SELECT value FROM store_meta WHERE key = 'device_id'")

    def status(self):
        r = self.cli('sync', '--status', '--format', 'json')
        rows = json.loads(r.out) if r.rc == 0 and r.out else []
        team = [x for x in rows if x.get('kind') == 'team']
        return team[0] if team else {}

    def warning(self):
        """What sync says of this device's clock: nothing with the right time."""
        return 'clock is %d days behind the server\'s' % self.days if self.offset else None

    def sync(self, desc):
        r = self.cli('sync', '--quiet')
        if self.warning():
            tap.ok(r.rc == 0 and self.warning() in r.err and 'warning' in r.err,
                   '%s: %s (exit 0, a warning naming the clock: %s)' % (self.name, desc, self.warning()), repr(r))
        else:
            tap.ok(r.rc == 0 and not r.err.strip(), '%s: %s (exit 0, nothing on stderr)' % (self.name, desc),
                   repr(r))
        return r

    # -- what the store holds --
    def org_name(self, domain):
        return self.one('SELECT o.name FROM organisations o JOIN org_domains d ON d.org_id = o.id WHERE d.domain = ?',
                        (domain,))

    def stage(self, uuid):
        return self.one('SELECT s.name FROM processes p JOIN stages s ON s.id = p.stage_id WHERE p.uuid = ?', (uuid,))

    def tags(self, domain):
        return sorted(r[0] for r in self.q(
            "SELECT t.name FROM tag_assignments ta JOIN tags t ON t.id = ta.tag_id "
            "JOIN org_domains d ON d.org_id = ta.entity_id "
            "WHERE ta.entity_type = 'organisation' AND d.domain = ? AND ta.removed = 0", (domain,)))

    def notes(self, domain):
        return sorted(r[0] for r in self.q(
            'SELECT n.text FROM cx_notes n JOIN org_domains d ON d.org_id = n.org_id WHERE d.domain = ?', (domain,)))

    def history_rows(self, uuid):
        return self.q('SELECT h.event, h.from_stage, h.to_stage, h.moved_at FROM stage_history h '
                      'JOIN processes p ON p.id = h.process_id WHERE p.uuid = ? ORDER BY h.id', (uuid,))

    def state(self, domain, uuid):
        return {'name': self.org_name(domain), 'stage': self.stage(uuid), 'tags': self.tags(domain),
                'notes': self.notes(domain)}


def server_state(domain, uuid):
    name = PG.scalar("SELECT fields->>'name' FROM entity_state WHERE entity = 'organisation' AND natural_key = '%s'"
                     % domain)
    stage = PG.scalar("SELECT fields->>'stage' FROM entity_state WHERE entity = 'process' AND natural_key = '%s'"
                      % uuid)
    tags = sorted(r[0].rsplit('/', 1)[1] for r in PG.rows(
        "SELECT natural_key FROM set_members WHERE entity = 'tag_assignment' AND present "
        "AND natural_key LIKE 'organisation:%s/%%'" % domain))
    notes = sorted(r[0] for r in PG.rows(
        "SELECT fields->>'text' FROM entity_state WHERE entity = 'cx_note' AND fields->>'organisation' = '%s'"
        % domain))
    return {'name': name, 'stage': stage, 'tags': tags, 'notes': notes}


def check_once(c, desc):
    """Nothing pending, each op c acked on the server once, nothing refused."""
    acked = {r[0] for r in c.q('SELECT op_id FROM changes WHERE acked = 1')}
    on_server = [r[0] for r in PG.rows("SELECT op_id FROM ops WHERE device = '%s'" % c.device())]
    tap.eq((c.one('SELECT count(*) FROM changes WHERE acked = 0'), c.one('SELECT count(*) FROM changes WHERE acked = 3')),
           (0, 0), '%s: %s: nothing pending, nothing refused' % (c.name, desc))
    tap.ok(set(on_server) == acked and len(on_server) == len(acked),
           '%s: %s: every op on the server once (%d), none lost' % (c.name, desc, len(acked)),
           '%d on the server (%d distinct), %d acked' % (len(on_server), len(set(on_server)), len(acked)))


def status_ok(c, desc):
    st = c.status()
    if c.warning():
        tap.ok(st.get('state') == 'ok' and c.warning() in (st.get('last_error') or '') and st.get('pending') == 0,
               '%s: sync --status %s: ok, nothing pending, and it names the clock: "%s"'
               % (c.name, desc, st.get('last_error')), repr(st))
    else:
        tap.ok(st.get('state') == 'ok' and not st.get('last_error') and st.get('pending') == 0,
               '%s: sync --status %s: ok, no error, nothing pending' % (c.name, desc), repr(st))


def store_hlc_ms(c):
    """The physical part (ms) of the newest hlc in c's log."""
    return (c.one('SELECT max(hlc) FROM changes') or 0) >> 16


def scenario(offset, days, tag):
    """ann's desk (right clock) and ann's laptop (clock @days behind, faketime @offset) edit
    the same things offline; mia (a manager, right clock) is the third store."""
    org = 'acme-%s.test' % tag
    desk = Client('desk-' + tag, 'ann', SRV.url)
    laptop = Client('laptop-' + tag, 'ann', SRV.url, offset=offset, days=days)
    mia = Client('mia-' + tag, 'mia', SRV.url)
    label = 'clock %d days behind' % days

    # The laptop's clock is what faketime says (GLib's g_get_real_time: store_meta's times).
    laptop.mail('zed', 'laptop-%s.test' % tag)
    lag = time.time() * 1000 - store_hlc_ms(laptop)
    tap.ok(abs(lag - days * 86400 * 1000) < 600 * 1000,
           '%s: faketime reaches the client: its first op is stamped %.1f days behind' % (label, lag / 86400000.0),
           'lag %d ms' % lag)
    laptop.sync('a first sync with the clock behind')

    desk.mail('jane', org)
    r = desk.ok('opens a sales process', 'process', 'new', '--org', org, '--deliverable', 'Forecast',
                '--owner', 'ann@us.test')
    uuid = r.out.strip().split()[-1] if r.rc == 0 else 'none'
    desk.ok('tags the organisation key-account', 'tags', 'add', org, 'key-account')
    desk.sync('pushes')
    laptop.sync('pulls the desk\'s organisation, process and tag')
    tap.eq((laptop.stage(uuid), laptop.tags(org)), ('identified', ['key-account']),
           '%s: the laptop has the process and the tag' % label)
    opened = laptop.history_rows(uuid)

    # -- concurrent offline edits: the desk first, the laptop later in real time --
    desk.ok('renames the organisation', 'orgs', 'set', org, '--name', 'Acme Desk')
    desk.ok('moves the process to proposal', 'process', 'move', uuid, 'proposal')
    desk.ok('removes the tag key-account', 'tags', 'remove', org, 'key-account')
    desk.ok('adds a note', 'note', 'add', 'desk note', '--org', org)
    time.sleep(0.05)  # the laptop edits after the desk, in real time
    laptop.ok('renames the organisation (offline, later in real time)', 'orgs', 'set', org, '--name', 'Acme Laptop')
    laptop.ok('moves the process to negotiation', 'process', 'move', uuid, 'negotiation')
    laptop.ok('tags the organisation key-account again', 'tags', 'add', org, 'key-account')
    laptop.ok('adds a note', 'note', 'add', 'laptop note', '--org', org)
    desk_hlc = desk.one("SELECT max(hlc) FROM changes")
    laptop_hlc = laptop.one("SELECT max(hlc) FROM changes")
    tap.ok(laptop_hlc < desk_hlc, '%s: the laptop\'s edits are stamped older than the desk\'s (hlc just above '
           'the newest it had received), though made later' % label, '%x vs %x' % (laptop_hlc, desk_hlc))

    for c in (laptop, desk, mia, laptop, desk):
        c.sync('syncs')
    # Fields: the newer hlc wins. The tag is a set member (observed-remove, add-wins): the
    # desk's removal removed the add it had seen, not the laptop's new add, which it had not
    # seen, although that add is stamped older than the removal.
    want = {'name': 'Acme Desk', 'stage': 'proposal', 'tags': ['key-account'], 'notes': ['desk note', 'laptop note']}
    for c in (desk, laptop, mia):
        tap.eq(c.state(org, uuid), want, '%s: %s: the newer hlc wins each field (the desk\'s name and stage), the '
               'laptop\'s re-added tag wins over the desk\'s removal that had not seen it (add-wins), both notes '
               'kept' % (label, c.name))
    tap.eq(server_state(org, uuid), want, '%s: the server\'s state is the same' % label)
    seen = PG.scalar("SELECT fields->>'seen' FROM ops WHERE entity = 'tag_assignment' AND op = 'remove' "
                     "AND natural_key = 'organisation:%s/key-account' AND device = '%s'" % (org, desk.device()))
    desk_add = desk.one("SELECT hlc FROM changes WHERE entity = 'tag_assignment' AND op = 'add' "
                        "AND natural_key = 'organisation:%s/key-account'" % org)
    tap.eq(seen, '%016x' % (desk_add or 0), '%s: the desk\'s removal carries the add it saw (its own) as seen' % label)

    # -- the HLC receive rule: after its pull, the laptop's edits win, its clock still behind --
    laptop.ok('renames the organisation after its pull', 'orgs', 'set', org, '--name', 'Acme Laptop 2')
    laptop.ok('moves the process to negotiation after its pull', 'process', 'move', uuid, 'negotiation')
    laptop.ok('tags key-account again after its pull', 'tags', 'add', org, 'key-account')
    tap.ok(laptop.one("SELECT max(hlc) FROM changes") > desk.one("SELECT max(hlc) FROM changes"),
           '%s: the laptop\'s new edits are stamped above everything it pulled' % label)
    for c in (laptop, desk, mia):
        c.sync('syncs again')
    want = {'name': 'Acme Laptop 2', 'stage': 'negotiation', 'tags': ['key-account'],
            'notes': ['desk note', 'laptop note']}
    for c in (desk, laptop, mia):
        tap.eq(c.state(org, uuid), want, '%s: %s: the laptop\'s edits made after its pull win' % (label, c.name))
    tap.eq(server_state(org, uuid), want, '%s: the server\'s state is the same' % label)

    # -- stage history: append-only, each move once, sensible order, same on every store --
    hist = {c.name: c.history_rows(uuid) for c in (desk, laptop, mia)}
    moves = [(e, f, t) for e, f, t, _ in hist[desk.name]]
    tap.eq(sorted(moves), sorted([('open', None, 'identified'), ('move', 'identified', 'proposal'),
                                  ('move', 'identified', 'negotiation'), ('move', 'proposal', 'negotiation')]),
           '%s: the desk\'s history holds the opening and the three moves, once each' % label)
    for c in (laptop, mia):
        tap.eq(sorted((e, f, t) for e, f, t, _ in hist[c.name]), sorted(moves),
               '%s: %s holds the same history entries' % (label, c.name))
    tap.eq(PG.scalar("SELECT count(*) FROM entity_history WHERE natural_key = '%s'" % uuid), 4,
           '%s: the server holds each history entry once' % label)
    open_at = opened[0][3] if opened else 0
    at = {(f, t): a for e, f, t, a in hist[mia.name]}
    tap.ok(at.get(('identified', 'negotiation'), 0) >= open_at,
           '%s: the laptop\'s offline move is not dated before the opening it had pulled (%s >= %d; its wall '
           'clock said %d days earlier)' % (label, at.get(('identified', 'negotiation')), open_at, days))
    tap.ok(at.get(('proposal', 'negotiation'), 0) >= at.get(('identified', 'proposal'), 1),
           '%s: its move after the pull is not dated before the desk\'s move it pulled (%s >= %s)'
           % (label, at.get(('proposal', 'negotiation')), at.get(('identified', 'proposal'))))
    tap.eq({c.name: sorted(hist[c.name]) for c in (laptop, mia)},
           {c.name: sorted(hist[desk.name]) for c in (laptop, mia)},
           '%s: every store has the same dates on the same entries' % label)
    shows = {}
    for c in (desk, laptop, mia):
        r = c.cli('process', 'show', uuid, '--format', 'json')
        try:
            doc = json.loads(r.out)[0]
            shows[c.name] = [(h.get('event'), h.get('from_stage'), h.get('to_stage')) for h in doc.get('history', [])]
        except (ValueError, IndexError, AttributeError):
            shows[c.name] = repr(r)
    tap.ok(all(isinstance(v, list) and len(v) == 4 for v in shows.values()),
           '%s: process show lists the four entries on each store' % label, repr(shows))
    # Each store learned the entries in another order (the desk its own move first, the
    # laptop its own): the history is listed by the entries' clocks, as the server's
    # entity_history (and so the dashboard) orders them.
    tap.ok(shows[desk.name] == shows[laptop.name] == shows[mia.name],
           '%s: process show lists the history in the same order on the three stores' % label, repr(shows))
    by_hlc = [(r[0], r[1], r[2]) for r in PG.rows(
        "SELECT fields->>'event' AS e, fields->>'from_stage' AS f, fields->>'to_stage' AS t FROM entity_history "
        "WHERE natural_key = '%s' ORDER BY hlc, id" % uuid)]
    tap.eq(shows[desk.name], [tuple(x or None for x in r) for r in by_hlc],
           '%s: the order of the clocks, as on the server: the desk\'s move (stamped later) after the laptop\'s '
           'offline move, the laptop\'s move after its pull last' % label)
    tap.ok(isinstance(shows[desk.name], list) and shows[desk.name][-1][2] == laptop.stage(uuid) == 'negotiation',
           '%s: the last entry is the stage the process is in' % label, repr(shows[desk.name]))
    tap.ok(len({c.one('SELECT count(*) FROM stage_history h JOIN processes p ON p.id = h.process_id '
                      'WHERE p.uuid = ? AND h.hlc IS NOT NULL', (uuid,)) for c in (desk, laptop, mia)}) == 1,
           '%s: every entry keeps its clock on every store' % label)
    for c in (desk, laptop, mia):
        status_ok(c, 'after the merge (%s)' % label)
    for c in (desk, laptop):
        check_once(c, label)
    # The other stores hold each op's row once: the organisation once, the notes once.
    for c in (desk, laptop, mia):
        tap.eq((c.one('SELECT count(*) FROM org_domains WHERE domain = ?', (org,)),
                c.one('SELECT count(*) FROM cx_notes n JOIN org_domains d ON d.org_id = n.org_id WHERE d.domain = ?',
                      (org,)),
                c.one('SELECT count(*) FROM processes WHERE uuid = ?', (uuid,))),
               (1, 2, 1), '%s: %s: one organisation, two notes, one process: nothing twice' % (label, c.name))
    return laptop


LAPTOP = tap.run('a clock 3 days behind', scenario, '-3d', 3, 'days')
tap.run('a clock 2 years behind', scenario, '-730d', 730, 'years')


def test_daemon(laptop):
    """The daemon (salesgetter-syncd --once) under the same faketime: its edit is pushed and wins."""
    org = 'acme-days.test'
    laptop.ok('renames the organisation once more', 'orgs', 'set', org, '--name', 'Acme Daemon')
    env = sg.child_env(fake_env(laptop.offset), detailed_leaks=True)
    r = sg.run([sg.SYNCD, '--config', laptop.config, '--once'], env=env, timeout=120)
    tap.ok(r.rc == 0, 'salesgetter-syncd --once with the clock 3 days behind', repr(r))
    tap.ok(laptop.warning() in r.out + r.err, 'its log warns about the clock', repr(r))
    tap.eq(laptop.one('SELECT count(*) FROM changes WHERE acked = 0'), 0, 'the daemon pushed the edit')
    tap.eq(PG.scalar("SELECT fields->>'name' FROM entity_state WHERE entity = 'organisation' AND natural_key = '%s'"
                     % org), 'Acme Daemon', 'and it wins on the server (stamped above what the laptop pulled)')
    status_ok(laptop, 'after the daemon\'s sync')
    check_once(laptop, 'after the daemon\'s sync')


if LAPTOP is not None:
    tap.run('the daemon with a clock behind', test_daemon, LAPTOP)


# --- TLS: a certificate valid from today, seen from a clock years behind -----------------------

def test_tls():
    cert, key = sg.self_signed_cert(days=30)
    if cert is None:
        tap.skip('TLS', key)
        return
    tls = sgserver.Server.start(PG, tap, tls=(cert, key))
    SRV.user_add('tia', 'account-manager', ['tia@us.test'])
    right = Client('tia-desk', 'tia', tls.url, extra='ca-file=%s\n' % cert)
    right.mail('ted', 'tls.test')
    right.sync('with the right clock, the certificate (valid from today) is trusted')
    behind = Client('tia-laptop', 'tia', tls.url, offset='-730d', days=730, extra='ca-file=%s\n' % cert)
    behind.mail('tom', 'tls-laptop.test')
    pending = behind.one('SELECT count(*) FROM changes WHERE acked = 0')
    r = behind.cli('sync', '--quiet')
    tap.ok(r.rc == 1 and 'certificate' in r.err.lower() and 'not yet valid' in r.err.lower(),
           'a clock 2 years behind: the same certificate is not yet valid; sync exits 1 naming the certificate',
           repr(r))
    tap.ok('clock' in r.err.lower(), 'and the message names this device\'s clock', repr(r))
    st = behind.status()
    tap.ok(st.get('state') == 'failing' and 'clock' in (st.get('last_error') or '').lower(),
           'sync --status shows it, naming the clock', repr(st))
    tap.eq(behind.one('SELECT count(*) FROM changes WHERE acked = 0'), pending, 'nothing is marked acknowledged')
    tap.eq(PG.scalar("SELECT count(*) FROM ops WHERE device = '%s'" % behind.device()), 0,
           'nothing reached the server')
    tls.stop()


tap.run('TLS with a clock years behind', test_tls)

tap.done()
