#!/usr/bin/env python3
"""Crash safety of salesgetter-syncd (DESIGN.md 7: killing syncd at any point loses nothing
and duplicates nothing on restart).

Store B is made from a large Maildir by a daemon killed with SIGKILL again and again after
seeded random delays spread over the import, restarted each time, while new mail lands (while
it runs and while it is down), and finally run to the end with --once. Store A, the
reference, is then made from the final Maildir by one clean --once run. A and B must hold
the same facts (compared by natural keys; ids, creation times and clocks may differ),
nothing twice, and pass integrity_check.

Knobs (environment): SG_CRASH_COUNT (messages, default 20000; 5000 under sanitizers),
SG_CRASH_KILLS (default 20), SG_CRASH_SEED (default 20251129).
"""

import configparser
import os
import random
import shutil
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest as sg  # noqa: E402

tap = sg.start(sg.Tap())

SANITIZED = sg.is_sanitized_build()
COUNT = int(os.environ.get('SG_CRASH_COUNT') or (5000 if SANITIZED else 20000))
KILLS = max(3, int(os.environ.get('SG_CRASH_KILLS') or 20))
SEED = int(os.environ.get('SG_CRASH_SEED') or 20251129)
ONCE_TIMEOUT = 600

MAILDIR = sg.path('Maildir')
CONF = sg.path('salesgetter.conf')
STORE_A = sg.path('reference.db')
STORE_B = sg.path('crashed.db')


# --- the mailbox ----------------------------------------------------------------------------

def own_messages(root, count, seed):
    """A realistic enough Maildir of @count messages, made here when tests/gen/gen-maildir.py
    is not there: threads, Sent, a mailing list, freemail, role and no-reply senders,
    subdomains, RFC 2047 names, a copy of some messages in a second folder, a few broken
    files; new/ and cur/ with flags."""
    rnd = random.Random(seed)
    sg.make_maildir(root, ['.Sent', '.Archive', '.Lists.dev', '.Archive.2023'])
    first = ['Anna', 'Bernd', 'Chloé', 'Dmitri', 'Eve', 'Farid', 'Grace', 'Hiro', 'Ines', 'José', 'Kai', 'Lena',
             'Mateo', 'Nora', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tariq', 'Ute', 'Vera', 'Wen', 'Yusuf']
    last = ['Müller', 'Smith', 'Nguyen', 'García', 'Okafor', 'Tanaka', 'Kowalski', 'Rossi', 'Dubois', 'Ivanova',
            'Hansen', 'Novak', "O'Brien", 'Silva', 'Kim', 'Larsen']
    orgs = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'vandelay', 'stark', 'wayne', 'cyberdyne', 'tyrell',
            'soylent', 'wonka', 'gringotts', 'oscorp', 'aperture', 'blackmesa', 'massive', 'prestige', 'nakatomi',
            'monarch']
    tlds = ['com', 'co.uk', 'de', 'fr', 'com.au', 'io', 'org', 'co.jp']
    people = []
    for i in range(400):
        f, l = rnd.choice(first), rnd.choice(last)
        org = rnd.choice(orgs)
        tld = tlds[orgs.index(org) % len(tlds)]
        sub = rnd.choice(['', '', '', 'mail.', 'eu.', 'research.'])
        if rnd.random() < 0.08:
            domain = rnd.choice(['gmail.com', 'yahoo.co.uk', 'outlook.com', 'web.de'])
        else:
            domain = '%s%s.%s' % (sub, org, tld)
        user = ('%s.%s%d' % (f, l, i)).lower().replace("'", '').encode('ascii', 'ignore').decode()
        name = '%s %s' % (f, l)
        if rnd.random() < 0.1:
            name = '%s, %s' % (l, f)
        people.append((name, '%s@%s' % (user, domain)))
    colleagues = [('Colleague %d' % i, 'c%d@ourco.example' % i) for i in range(8)]
    me = ('Me Myself', 'me@ourco.example')
    roles = [('Sales Team', 'sales@%s.com' % o) for o in orgs[:5]] + \
            [('No Reply', 'noreply@%s.com' % o) for o in orgs[5:9]]

    def mbox(nm, addr):
        if any(ord(c) > 127 for c in nm) or rnd.random() < 0.2:
            return '%s <%s>' % (sg.rfc2047(nm), addr)
        if ',' in nm or "'" in nm:
            return '"%s" <%s>' % (nm, addr)
        return '%s <%s>' % (nm, addr)

    threads = []  # (root id, [ids])
    t = 1672531200  # 2023-01-01
    n = 0
    written = []
    while n < count:
        t += rnd.randrange(30, 1800)
        kind = rnd.random()
        headers = []
        folder = rnd.choice(['', '', '', '', '.Archive', '.Archive.2023'])
        frm, to, cc = rnd.choice(people), [me], []
        subject = 'Project %s, phase %d' % (rnd.choice(orgs).title(), rnd.randrange(1, 9))
        if kind < 0.15:
            folder = '.Sent'
            frm, to = me, [rnd.choice(people)]
            cc = rnd.sample(people, rnd.randrange(0, 3)) + rnd.sample(colleagues, rnd.randrange(0, 2))
        elif kind < 0.30:
            folder = '.Lists.dev'
            to = [('Dev List', 'dev@lists.example.org')]
            headers += [('List-Id', '<dev.lists.example.org>'), ('Precedence', 'list')]
        elif kind < 0.34:
            frm = rnd.choice(roles)
            headers.append(('Auto-Submitted', 'auto-generated'))
        elif kind < 0.40:
            frm = rnd.choice(colleagues)
            cc = [rnd.choice(colleagues)]
        else:
            cc = rnd.sample(people, rnd.randrange(0, 4))
        mid = 'msg%06d.%d@%s' % (n, seed, frm[1].split('@')[1])
        if threads and rnd.random() < 0.45:
            thread_root, ids = rnd.choice(threads[-200:])
            parent = rnd.choice(ids)
            subject = 'Re: thread %s' % thread_root
            if rnd.random() < 0.3:
                headers.append(('In-Reply-To', '<%s>' % parent))
            else:
                headers += [('In-Reply-To', '<%s>' % parent), ('References', ' '.join('<%s>' % x for x in ids[-5:]))]
            ids.append(mid)
        else:
            threads.append((mid, [mid]))
            subject += ' #%d' % n
        offset = rnd.choice([0, 60, 120, -300, -420, 330, 540])
        data = sg.make_message(mid, mbox(*frm), to=[mbox(*x) for x in to], cc=[mbox(*x) for x in cc],
                               subject=subject, date=t, offset=offset, headers=headers,
                               body=('Hello,\n\n' + 'Some words about the offer. ' * rnd.randrange(1, 40) +
                                     '\n\n-- \n%s\n' % frm[0]))
        flags = rnd.choice([None, 'S', 'RS', 'FS'])
        name = '%d.M%dP%dQ%d.gen' % (t, rnd.randrange(10 ** 6), 4242, n)
        sub = 'new' if flags is None else 'cur'
        sg.put(root, data, folder=folder, name=name, sub=sub, flags=flags)
        written.append(mid)
        n += 1
        # The same message filed twice (a copy in the archive).
        if rnd.random() < 0.02 and n < count and folder != '.Archive':
            sg.put(root, data, folder='.Archive', name=name.replace('.gen', '.copy'), sub='cur', flags='S')
            n += 1
        # A broken file now and then.
        if rnd.random() < 0.003 and n < count:
            sg.put(root, rnd.choice([b'', b'garbage without headers\n', bytes(range(256)) * 8]),
                   folder=folder, name='%d.broken%d.gen' % (t, n), sub='new', flags=None)
            n += 1
    write_conf(root, identity=None)
    return n


def write_conf(root, identity):
    """Our config for @root: the generator's identity when it wrote one, else ours."""
    cp = configparser.ConfigParser(interpolation=None, strict=False, delimiters=('=',))
    cp.optionxform = str
    if identity and os.path.exists(identity):
        cp.read(identity, encoding='utf-8')
    if not cp.has_section('identity'):
        cp['identity'] = {'name': 'Me Myself', 'addresses': 'me@ourco.example;',
                          'internal-domains': 'ourco.example;'}
    if cp.has_section('store'):
        cp.remove_section('store')
    if not cp.has_section('maildir'):
        cp.add_section('maildir')
    cp['maildir']['paths'] = os.path.abspath(root) + ';'
    with open(CONF, 'w', encoding='utf-8') as f:
        cp.write(f, space_around_delimiters=False)


def make_mailbox():
    if os.path.exists(sg.GENERATOR):
        gen_conf = sg.path('generated.conf')
        r = sg.run([sys.executable, sg.GENERATOR, '--out', MAILDIR, '--count', str(COUNT), '--seed', str(SEED),
                    '--config', gen_conf], timeout=600)
        # The generator is not what is under test here: when it fails, say so and go on
        # with the test's own messages.
        if tap.todo(r.rc == 0 and os.path.isdir(MAILDIR),
                    'tests/gen/gen-maildir.py made %d messages (%.1f s)' % (COUNT, r.elapsed),
                    'the generator failed; the test makes its own messages', repr(r)[-3000:]):
            write_conf(MAILDIR, gen_conf)
            return 'generator'
        shutil.rmtree(MAILDIR, ignore_errors=True)
    else:
        tap.comment('tests/gen/gen-maildir.py is not there: the test makes its own messages')
    start = time.monotonic()
    n = own_messages(MAILDIR, COUNT, SEED)
    tap.comment('made %d message files in %.1f s' % (n, time.monotonic() - start))
    return 'own'


def count_files(root):
    n = 0
    for dirpath, dirnames, filenames in os.walk(root):
        if os.path.basename(dirpath) in ('new', 'cur'):
            n += len(filenames)
    return n


# --- the test ---------------------------------------------------------------------------------

class Deliveries:
    """New mail landing while B is being made: standalone messages (no In-Reply-To, so the
    order they are stored in does not matter), delivered the MDA way, some later moved
    new/ -> cur/ with flags as a mail client does. The reference A is made afterwards from
    the final Maildir, so it has them too."""

    def __init__(self, seed):
        self.rnd = random.Random(seed)
        self.n = 0
        self.in_new = []
        self.ids = []

    def deliver(self):
        self.n += 1
        rnd = self.rnd
        mid = 'late%04d.%d@latecomer.example' % (self.n, SEED)
        who = rnd.choice(['Lara Late <lara@latecomer.example>', 'Nils Neu <nils@mail.latecomer.example>',
                          'Olga Owl <olga@owls.example>'])
        data = sg.make_message(mid, who, to=['Me Myself <me@ourco.example>'], subject='Late news %d' % self.n,
                               date=1767225600 + self.n * 60, body='Landed while syncd was busy.\n')
        folder = rnd.choice(['', '', '.Sent']) if os.path.isdir(os.path.join(MAILDIR, '.Sent')) else ''
        p = sg.deliver(MAILDIR, data, folder=folder)
        self.in_new.append(p)
        self.ids.append(mid)

    def read_one(self):
        """A mail client marks one delivered message as seen: new/X -> cur/X:2,S."""
        if not self.in_new:
            return
        p = self.in_new.pop(self.rnd.randrange(len(self.in_new)))
        cur = os.path.join(os.path.dirname(os.path.dirname(p)), 'cur', os.path.basename(p) + ':2,S')
        os.rename(p, cur)

    def maybe(self, p=0.5):
        if self.rnd.random() < p:
            self.deliver()
        if self.rnd.random() < p / 2:
            self.read_one()


def test_crash():
    origin = make_mailbox()
    files = count_files(MAILDIR)
    tap.comment('mailbox from %s: %d files; %d kills; seed %d' % (origin, files, KILLS, SEED))

    # B: killed again and again. Kill 1 lands while the store is being made and migrated;
    # the others wait for a seeded random share of the files to be committed (or for the
    # scan to end), then a random 0-0.6 s more (a batch is committed at least every 0.5 s),
    # so that they land anywhere in a batch, spread over the whole import; the last one
    # hits the daemon after its scan. New mail lands meanwhile, while the daemon runs and
    # while it is down.
    rnd = random.Random(SEED)
    late = Deliveries(SEED + 1)
    targets = [None] + sorted(rnd.uniform(0.0, 1.0) for _ in range(KILLS - 2)) + [1.0]
    d = sg.Daemon(CONF, STORE_B, name='syncd-crash')
    poller = None
    kills = []   # (seconds after start, committed just before the kill, alive at the kill, rc)
    try:
        for i, target in enumerate(targets):
            log_start = len(d.log())
            d.start()
            started = time.monotonic()
            poller = sg.StorePoller(STORE_B)
            if target is None:
                time.sleep(rnd.uniform(0.0, 0.03))
            else:
                want = int(target * files)
                late.maybe()
                sg.wait_for(lambda: (poller.one('SELECT count(*) FROM interactions') or 0) >= want or
                            'scanned;' in d.log()[log_start:] or not d.alive(), 60, 0.01)
                late.maybe()
                time.sleep(rnd.uniform(0.0, 0.6))
            # What is committed just before the kill (not exact: the daemon keeps going).
            committed = poller.one('SELECT count(*) FROM interactions')
            poller.close()
            alive = d.alive()
            rc = d.kill9()
            delay = time.monotonic() - started
            d.note_log()
            kills.append((delay, committed, alive, rc))
            tap.comment('kill %2d after %.3f s%s: %s interactions committed%s' % (
                i + 1, delay, '' if target is None else ' (target %4.1f%%)' % (100 * target),
                committed if committed is not None else 'no store yet',
                '' if alive else ' (daemon had already exited with %r)' % rc))
            late.maybe(0.3)  # while it is down
        tap.ok(all(k[2] for k in kills), 'the daemon was running at each of the %d kills' % KILLS,
               d.log()[-4000:])
        before_final = sg.scalar(STORE_B, 'SELECT count(*) FROM interactions') if os.path.exists(STORE_B) else 0
        r = sg.run([sg.SYNCD, '--config', CONF, '--store', STORE_B, '--once'], timeout=ONCE_TIMEOUT)
        tap.ok(r.rc == 0, 'after %d kills, --once runs the import to its end and exits 0 (%d stored before it)'
               % (KILLS, before_final), repr(r))
    finally:
        if poller:
            poller.close()
        d.kill9()
    tap.comment('%d messages were delivered during the kills' % len(late.ids))

    # A: the reference, one clean run over the final Maildir.
    r = sg.run([sg.SYNCD, '--config', CONF, '--store', STORE_A, '--once'], timeout=ONCE_TIMEOUT)
    if not tap.ok(r.rc == 0, 'reference: a clean --once run exits 0 (%.1f s, %.0f files/s)'
                  % (r.elapsed, files / max(r.elapsed, 0.001)), repr(r)) and \
            'scanned;' not in r.err:
        return  # (a sanitizer report at exit still leaves a complete store to compare)
    total = sg.scalar(STORE_A, 'SELECT count(*) FROM interactions')
    tap.ok(total > files * 0.5, 'reference: %d interactions from %d files' % (total, count_files(MAILDIR)))
    tap.eq(sg.integrity(STORE_A), 'ok', 'reference store passes integrity_check')
    dups = sg.duplicates(STORE_A)
    tap.ok(not dups, 'reference store has nothing twice', '\n'.join(dups))
    mid_import = sum(1 for k in kills if (k[1] or 0) < total)
    tap.ok(mid_import >= KILLS // 2 and max(k[1] or 0 for k in kills[:-1]) >= total // 2,
           '%d of %d kills landed before the import was complete, spread over it' % (mid_import, KILLS),
           repr(kills))

    tap.eq(sg.integrity(STORE_B), 'ok', 'the crashed store passes integrity_check and foreign_key_check')
    dups = sg.duplicates(STORE_B)
    tap.ok(not dups, 'the crashed store has nothing twice and no orphans', '\n'.join(dups))
    got_late = {x[0] for x in sg.query(STORE_B, "SELECT message_id FROM interactions WHERE message_id LIKE 'late%'")}
    tap.eq(sorted(set(late.ids) - got_late), [], 'every message delivered during the kills is in the crashed store')
    a, b = sg.canonical_dump(STORE_A), sg.canonical_dump(STORE_B)
    for table in sorted(a):
        tap.ok(a[table] == b.get(table), '%s: the crashed store equals the reference (%d rows)'
               % (table, len(a[table])), sg.diff_dumps({table: a[table]}, {table: b.get(table, [])}))
    # One more --once on B changes nothing.
    r = sg.run([sg.SYNCD, '--config', CONF, '--store', STORE_B, '--once'], timeout=ONCE_TIMEOUT)
    b2 = sg.canonical_dump(STORE_B)
    tap.ok(r.rc == 0 and b2 == b, 'one more --once on the crashed store changes nothing',
           sg.diff_dumps(b, b2) or repr(r))


tap.run('crash', test_crash)
tap.done()
