#!/usr/bin/env python3
"""End-to-end tests of the salesgetter CLI: import, people, orgs, show; output formats;
exit codes; errors that name their input; bad messages among good ones; hostile names."""

import csv
import io
import json
import os
import random
import re
import sqlite3
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest as sg  # noqa: E402

tap = sg.start(sg.Tap())

ME = 'Me Myself <me@ourco.example>'
T0 = 1700000000  # 2023-11-14T22:13:20Z

STORE = sg.path('store.db')
CONF = sg.write_config(sg.path('salesgetter.conf'))
MD = sg.make_maildir(sg.path('Maildir'), ['.Sent', '.Work.Projects'])
MBOX = sg.path('inbox.mbox')

# The fixture: who wrote what. Expected facts are computed from it.
MD_MESSAGES = [
    # (folder, msgid, from, to, cc, subject, date, offset)
    ('', 'a1@mail.acme.co.uk', 'John Smith <john@mail.acme.co.uk>', [ME], [], 'Proposal', T0, 120),
    ('', 'a2@acme.co.uk', 'Jane Roe <jane@acme.co.uk>', [ME], ['John Smith <john@mail.acme.co.uk>'],
     'Re: Proposal', T0 + 3600, 0),
    ('.Sent', 'o1@ourco.example', ME, ['John Smith <john@mail.acme.co.uk>'], [],
     'Re: Proposal', T0 + 7200, 60),
    ('.Work.Projects', 'g1@sub.globex.com', '"Ann, Bob, and Carol" <abc@sub.globex.com>', [ME], [],
     'Say "hello", world', T0 + 10000, -300),
    ('', 'g2@globex.com', 'Hank Scorpio <hank@globex.com>', [ME], [], 'Volcano', T0 + 20000, 0),
]
MBOX_MESSAGES = [
    ('m1@initech.com', 'Bill Lumbergh <bill@initech.com>', [ME], [], 'TPS reports', T0 + 30000, 0),
    ('m2@initech.com', 'Peter Gibbons <peter@initech.com>', [ME], ['Bill Lumbergh <bill@initech.com>'],
     'From here on', T0 + 40000, 0),
]
N_MD, N_MBOX = len(MD_MESSAGES), len(MBOX_MESSAGES)


def fixtures():
    for i, (folder, mid, frm, to, cc, subj, date, off) in enumerate(MD_MESSAGES):
        data = sg.make_message(mid, frm, to=to, cc=cc, subject=subj, date=date, offset=off)
        # Some in new/, some in cur/ with flags, as a real mailbox has.
        if i % 2:
            sg.put(MD, data, folder=folder, sub='new', flags=None)
        else:
            sg.put(MD, data, folder=folder, sub='cur', flags='S')
    sg.write_mbox(MBOX, [sg.make_message(mid, frm, to=to, cc=cc, subject=subj, date=date, offset=off,
                                         body='From the desk of Bill.\nFrom here on, TPS.\n')
                         for mid, frm, to, cc, subj, date, off in MBOX_MESSAGES])


def run_json(*args):
    r = sg.cli(*args, store=STORE, config=CONF)
    try:
        data = json.loads(r.out)
    except ValueError as e:
        data = e
    return r, data


# --- import ---------------------------------------------------------------------------

def test_import():
    r = sg.cli('import', MD, store=STORE, config=CONF)
    tap.eq(r.rc, 0, 'import of a Maildir exits 0')
    tap.eq(sg.parse_summary(r.out), (N_MD, N_MD, 0, 0),
           'Maildir import summary: %d read, %d new, 0 known, 0 skipped' % (N_MD, N_MD))
    tap.ok('People:' in r.out and 'organisations:' in r.out, 'summary has the people/organisations line',
           repr(r))
    r = sg.cli('import', MBOX, store=STORE, config=CONF)
    tap.eq(r.rc, 0, 'import of an mbox exits 0')
    tap.eq(sg.parse_summary(r.out), (N_MBOX, N_MBOX, 0, 0),
           'mbox import summary: %d read, %d new' % (N_MBOX, N_MBOX))
    tap.eq(sg.scalar(STORE, 'SELECT count(*) FROM interactions'), N_MD + N_MBOX,
           'the store holds one interaction per message')
    ids = {r[0] for r in sg.query(STORE, 'SELECT message_id FROM interactions')}
    tap.eq(ids, {m[1] for m in MD_MESSAGES} | {m[0] for m in MBOX_MESSAGES},
           'interactions are keyed by the Message-IDs')
    # The mbox body has "From " lines that must not split messages.
    tap.eq(sg.scalar(STORE, "SELECT subject FROM interactions WHERE message_id = 'm2@initech.com'"),
           'From here on', 'mbox: quoted From_ lines in bodies do not split messages')
    r = sg.cli('import', MD, MBOX, store=STORE, config=CONF)
    tap.eq(r.rc, 0, 're-import exits 0')
    tap.eq(sg.parse_summary(r.out), (N_MD + N_MBOX, 0, N_MD + N_MBOX, 0),
           're-import of the same Maildir and mbox imports nothing new')
    tap.eq(sg.scalar(STORE, "SELECT count(*) FROM changes WHERE entity = 'interaction'"), N_MD + N_MBOX,
           're-import logs no new changes')
    tap.eq(sg.scalar(STORE, 'SELECT direction FROM interactions WHERE message_id = ?', ('o1@ourco.example',)),
           'out', 'a message from one of my addresses is outgoing')
    # --quiet prints no summary.
    r = sg.cli('import', '--quiet', MD, store=STORE, config=CONF)
    tap.ok(r.rc == 0 and r.out == '', 'import --quiet prints nothing on stdout', repr(r))


# --- output formats ---------------------------------------------------------------------

SNAKE = re.compile(r'^[a-z][a-z0-9]*(_[a-z0-9]+)*$')


def check_json_array(data, what, must_have):
    if not tap.ok(isinstance(data, list) and all(isinstance(o, dict) for o in data),
                  '%s --format=json is a JSON array of objects' % what, repr(data)[:2000]):
        return False
    keys = set().union(*(o.keys() for o in data)) if data else set()
    tap.ok(data and all(SNAKE.match(k) for k in keys), '%s JSON keys are snake_case' % what, sorted(keys))
    tap.ok(must_have <= keys, '%s JSON has keys %s' % (what, ', '.join(sorted(must_have))), sorted(keys))
    times = [(k, v) for o in data for k, v in o.items()
             if isinstance(v, str) and (k in ('date',) or k.endswith('_contact') or k.endswith('_at'))]
    tap.ok(times and all(sg.ISO_Z.match(v) for k, v in times),
           '%s JSON times are ISO 8601 UTC with Z' % what, repr(times[:10]))
    return True


def test_people_orgs_json():
    r, data = run_json('people', '--format=json')
    tap.eq(r.rc, 0, 'people --format=json exits 0')
    if check_json_array(data, 'people', {'name', 'email', 'organisation', 'kind', 'interactions', 'last_contact'}):
        by_email = {o['email']: o for o in data}
        john = by_email.get('john@mail.acme.co.uk', {})
        tap.eq((john.get('name'), john.get('organisation'), john.get('interactions')),
               ('John Smith', 'Acme', 3), 'people: John Smith of Acme, in 3 interactions')
        tap.eq(john.get('last_contact'), sg.iso_z(T0 + 7200), 'people: last_contact in UTC (from +0100)')
        tap.eq(john.get('first_contact'), sg.iso_z(T0), 'people: first_contact in UTC (from +0200)')
        tap.ok('me@ourco.example' not in by_email, 'people leaves me out by default', sorted(by_email))
        tap.eq(by_email.get('abc@sub.globex.com', {}).get('name'), 'Ann, Bob, and Carol',
               'a name with commas is kept as written')
    r, data = run_json('people', '--all', '--format=json')
    tap.ok(r.rc == 0 and isinstance(data, list) and any(o.get('email') == 'me@ourco.example' for o in data),
           'people --all includes me', repr(r))
    r, data = run_json('orgs', '--format=json')
    tap.eq(r.rc, 0, 'orgs --format=json exits 0')
    if check_json_array(data, 'orgs', {'name', 'domain', 'people', 'interactions', 'last_contact'}):
        domains = {o['domain']: o for o in data}
        tap.eq(sorted(domains), ['acme.co.uk', 'globex.com', 'initech.com'],
               'orgs: registrable domains (mail.acme.co.uk -> acme.co.uk, never co.uk)')
        tap.eq(domains.get('acme.co.uk', {}).get('interactions'), 3, 'orgs: Acme has 3 interactions')
        tap.eq(domains.get('globex.com', {}).get('people'), 2, 'orgs: Globex has 2 people (with a subdomain)')
    r, data = run_json('orgs', '--format=json', '--search', 'no-such-organisation')
    tap.ok(r.rc == 0 and data == [], 'an empty result is an empty JSON array', repr(r))
    r = sg.cli('orgs', '--format=csv', '--search', 'no-such-organisation', store=STORE, config=CONF)
    tap.ok(r.rc == 0 and len(parse_csv(r.out)) == 1 and parse_csv(r.out)[0][:2] == ['name', 'domain'],
           'an empty result in csv is the header row alone', repr(r))
    r, data = run_json('people', '--format=json', '--org', 'initech.com')
    tap.ok(r.rc == 0 and isinstance(data, list) and sorted(o['email'] for o in data) ==
           ['bill@initech.com', 'peter@initech.com'], 'people --org initech.com lists its people', repr(r))


def test_format_separate_argument():
    # GOption takes "--format json" as well as "--format=json"; scripts use both.
    for cmd in (['people'], ['orgs'], ['show', 'acme.co.uk']):
        r = sg.cli(cmd[0], '--format', 'json', *cmd[1:], store=STORE, config=CONF)
        try:
            ok = isinstance(json.loads(r.out), list)
        except ValueError:
            ok = False
        tap.ok(r.rc == 0 and ok, '%s --format json (value as a separate argument) gives JSON' % cmd[0], repr(r))
    r = sg.cli('people', '--format', 'csv', '--all', store=STORE, config=CONF)
    tap.ok(r.rc == 0 and r.out.startswith('name,'), 'people --format csv --all: csv, with --all as an option',
           repr(r))


def parse_csv(text):
    return list(csv.reader(io.StringIO(text, newline='')))


def test_csv():
    r, data = run_json('people', '--format=json')
    rc = sg.cli('people', '--format=csv', store=STORE, config=CONF)
    tap.eq(rc.rc, 0, 'people --format=csv exits 0')
    rows = parse_csv(rc.out)
    if isinstance(data, list) and data:
        tap.eq(rows[0] if rows else None, list(data[0].keys()), 'csv header row is the JSON keys, in order')
        tap.eq(len(rows) - 1, len(data), 'csv has one row per JSON object')
        names = [row[0] for row in rows[1:]]
        tap.ok('Ann, Bob, and Carol' in names, 'csv: a name with commas reads back as one field', names)
    tap.ok('"Ann, Bob, and Carol"' in rc.out, 'csv: a field with commas is quoted', rc.out[:2000])
    # A subject with a double quote and a comma, in the timeline.
    r = sg.cli('show', '--format=csv', 'globex.com', store=STORE, config=CONF)
    tap.eq(r.rc, 0, 'show --format=csv exits 0')
    rows = parse_csv(r.out)
    header = rows[0] if rows else []
    subjects = [row[header.index('subject')] for row in rows[1:]] if 'subject' in header else []
    tap.ok('Say "hello", world' in subjects, 'csv: a subject with quotes and a comma reads back intact', subjects)
    tap.ok('"Say ""hello"", world"' in r.out, 'csv: double quotes are doubled inside a quoted field', r.out[:2000])
    tap.ok(all(len(row) == len(header) for row in rows), 'csv: every row has as many fields as the header')


def test_table():
    r = sg.cli('people', store=STORE, config=CONF)
    lines = r.out.splitlines()
    tap.eq(r.rc, 0, 'people (table) exits 0')
    tap.ok(lines and lines[0].split()[:2] == ['name', 'email'], 'people table has a header row', r.out)
    tap.ok(any('John Smith' in l and 'john@mail.acme.co.uk' in l for l in lines), 'people table lists John Smith',
           r.out)
    tap.ok(not any(l.strip().startswith('id ') for l in lines) and 'addresses' not in lines[0],
           'people table leaves out the detail columns', r.out)
    r = sg.cli('orgs', store=STORE, config=CONF)
    tap.ok(r.rc == 0 and r.out.splitlines()[0].split()[:2] == ['name', 'domain'] and 'acme.co.uk' in r.out,
           'orgs (table) has a header row and lists acme.co.uk', repr(r))


def test_show():
    r = sg.cli('show', 'acme.co.uk', store=STORE, config=CONF)
    tap.eq(r.rc, 0, 'show of a domain exits 0')
    tap.ok('<acme.co.uk>' in r.out and '3 interactions' in r.out, 'show acme.co.uk: heading and 3 interactions',
           r.out)
    r2 = sg.cli('show', 'mail.acme.co.uk', store=STORE, config=CONF)
    tap.ok(r2.rc == 0 and r2.out == r.out, 'show of a subdomain (mail.acme.co.uk) shows its organisation', repr(r2))
    r, data = run_json('show', '--format=json', 'acme.co.uk')
    if check_json_array(data, 'show', {'date', 'direction', 'from', 'subject', 'message_id'}):
        tap.eq([o['message_id'] for o in data], ['o1@ourco.example', 'a2@acme.co.uk', 'a1@mail.acme.co.uk'],
               'show: the timeline, newest first')
        tap.eq(data[-1]['date'], sg.iso_z(T0), 'show: dates in UTC')
        tap.eq(data[0]['direction'], 'out', 'show: my reply is outgoing')
    r, data = run_json('show', '--format=json', 'JOHN@Mail.Acme.co.uk')
    tap.ok(r.rc == 0 and isinstance(data, list) and len(data) == 3,
           'show of an address (case-folded) gives the person\'s 3 interactions', repr(r))
    r = sg.cli('show', '--limit', '1', '--format=json', 'acme.co.uk', store=STORE, config=CONF)
    try:
        n = len(json.loads(r.out))
    except ValueError:
        n = None
    tap.eq(n, 1, 'show --limit 1 gives one row')


# --- exit codes -------------------------------------------------------------------------

def test_usage_errors():
    cases = [
        (['frobnicate'], 'an unknown command', 'frobnicate'),
        (['people', '--bogus'], 'an unknown option of a command', '--bogus'),
        (['--bogus', 'people'], 'an unknown global option', '--bogus'),
        (['people', '--format=xml'], 'a bad --format', 'xml'),
        (['orgs', '--format=yaml'], 'a bad --format (orgs)', 'yaml'),
        (['show'], 'show without an argument', 'show'),
        (['show', 'a.example', 'b.example'], 'show with two arguments', 'show'),
        (['people', 'extra'], 'people with an argument', 'people'),
        (['people', '--limit', '-1'], 'a negative --limit', 'limit'),
        ([], 'no command at all', 'Usage'),
    ]
    for args, what, word in cases:
        r = sg.cli(*args, store=STORE, config=CONF)
        tap.ok(r.rc == 2 and word in r.err and r.out == '', 'exit 2 with a message (on stderr) for %s' % what,
               repr(r))
    r = sg.cli('--help')
    tap.ok(r.rc == 0 and 'import' in r.out and 'show' in r.out, '--help exits 0 and lists the commands', repr(r))
    r = sg.cli('help', 'show')
    tap.ok(r.rc == 0 and 'ADDRESS' in r.out, 'help show exits 0 and shows its usage', repr(r))
    r = sg.cli('--version')
    tap.ok(r.rc == 0 and r.out.startswith('salesgetter '), '--version exits 0', repr(r))


def test_failures():
    missing = sg.path('no', 'such', 'Maildir')
    r = sg.cli('import', missing, store=STORE, config=CONF)
    tap.ok(r.rc == 1 and missing in r.err, 'exit 1 naming a missing path', repr(r))
    plain = sg.path('plain-folder')
    os.makedirs(os.path.join(plain, 'stuff'), exist_ok=True)
    r = sg.cli('import', plain, store=STORE, config=CONF)
    tap.ok(r.rc == 1 and plain in r.err and 'Maildir' in r.err, 'exit 1 naming a folder that is not a Maildir',
           repr(r))

    notdb = sg.path('not-a-store.db')
    with open(notdb, 'wb') as f:
        f.write(b'This is a text file, not an SQLite database.\n' * 200)
    for cmd in (['people'], ['import', MD]):
        r = sg.cli(*cmd, store=notdb, config=CONF)
        tap.ok(r.rc == 1 and notdb in r.err, '%s: exit 1 naming a store file that is not SQLite' % cmd[0], repr(r))
    with open(notdb, 'rb') as f:
        tap.ok(f.read().startswith(b'This is a text file'), 'the non-SQLite file is left as it was')

    foreign = sg.path('foreign.db')
    con = sqlite3.connect(foreign)
    con.execute('CREATE TABLE t (x)')
    con.commit()
    con.close()
    r = sg.cli('import', MD, store=foreign, config=CONF)
    tap.ok(r.rc == 1 and foreign in r.err, 'exit 1 naming an SQLite file that is not a SalesGetter store', repr(r))

    newer = sg.path('newer.db')
    con = sqlite3.connect(newer)
    con.execute('CREATE TABLE t (x)')
    con.execute('PRAGMA user_version = 999')
    con.commit()
    con.close()
    for cmd in (['people'], ['import', MD]):
        r = sg.cli(*cmd, store=newer, config=CONF)
        tap.ok(r.rc == 1 and 'newer' in r.err and newer in r.err,
               '%s: exit 1 for a store with user_version 999, saying it is newer' % cmd[0], repr(r))

    r = sg.cli('people', store=sg.path('never-made.db'), config=CONF)
    tap.ok(r.rc == 1 and 'never-made.db' in r.err and not os.path.exists(sg.path('never-made.db')),
           'people on a store that does not exist: exit 1, and no store is made', repr(r))

    bad_key = sg.write_config(sg.path('bad-key.conf'), extra='[maildir]\npaths=%s\npath=oops\n' % MD)
    r = sg.cli('people', store=STORE, config=bad_key)
    tap.ok(r.rc == 1 and bad_key in r.err and 'path' in r.err and 'unknown key' in r.err,
           'exit 1 for a config with an unknown key, naming file and key', repr(r))
    bad_group = sg.path('bad-group.conf')
    with open(bad_group, 'w') as f:
        f.write('[identity]\nname=Me\n[idenity]\nname=typo\n')
    r = sg.cli('people', store=STORE, config=bad_group)
    tap.ok(r.rc == 1 and bad_group in r.err and 'idenity' in r.err,
           'exit 1 for a config with an unknown group, naming file and group', repr(r))
    bad_addr = sg.write_config(sg.path('bad-address.conf'), addresses=['me@ourco.example', 'not an address'])
    r = sg.cli('people', store=STORE, config=bad_addr)
    tap.ok(r.rc == 1 and bad_addr in r.err and '[identity] addresses' in r.err,
           'exit 1 for a bad address, naming [identity] addresses', repr(r))
    r = sg.cli('people', store=STORE, config=sg.path('missing.conf'))
    tap.ok(r.rc == 1 and 'missing.conf' in r.err, 'exit 1 for a --config that does not exist, naming it', repr(r))
    garbled = sg.path('garbled.conf')
    with open(garbled, 'wb') as f:
        f.write(b'this is not a key file\n\x00\xff\n')
    r = sg.cli('people', store=STORE, config=garbled)
    tap.ok(r.rc == 1 and garbled in r.err, 'exit 1 for a config that does not parse, naming it', repr(r))

    r = sg.cli('show', 'nobody@nowhere.example', store=STORE, config=CONF)
    tap.ok(r.rc == 1 and 'nobody@nowhere.example' in r.err, 'show nobody@nowhere.example: exit 1 naming it',
           repr(r))
    r = sg.cli('show', 'nowhere.example', store=STORE, config=CONF)
    tap.ok(r.rc == 1 and 'nowhere.example' in r.err, 'show of an unknown domain: exit 1 naming it', repr(r))


# --- import order ------------------------------------------------------------------------

def test_folder_order():
    """Folders are imported in name order, so that two runs over the same mail make the same
    store (which copy of a message filed twice is kept, which thread a reply joins)."""
    md = sg.make_maildir(sg.path('Ordered'))
    names = ['.F%02d' % i for i in range(24)]
    sg.make_maildir(md, names)
    sg.put(md, sg.make_message('root@order.example', 'Olga Order <olga@order.example>'), name='1.root.host')
    for i, n in enumerate(names):
        sg.put(md, sg.make_message('f%02d@order.example' % i, 'Olga Order <olga@order.example>', date=T0 + i),
               folder=n, name='%d.f%02d.host' % (T0 + i, i))
    store = sg.path('ordered.db')
    r = sg.cli('import', md, store=store, config=CONF)
    tap.eq(r.rc, 0, 'import of 25 folders exits 0')
    got = [x[0].split('/')[0] for x in sg.query(store, 'SELECT location FROM interactions ORDER BY id')]
    want = ['cur'] + names
    tap.eq(got, want, 'Maildir folders are imported in name order')

    # The same Message-ID filed twice: in the inbox (to me) and in a list folder (bulk).
    md2 = sg.make_maildir(sg.path('Twice'), ['.Lists.dev', '.Archive'])
    direct = sg.make_message('twice@order.example', 'Olga Order <olga@order.example>', subject='Direct copy')
    listed = sg.make_message('twice@order.example', 'Olga Order <olga@order.example>', subject='List copy',
                             to=['Dev List <dev@lists.order.example>'],
                             headers=[('List-Id', '<dev.lists.order.example>'), ('Precedence', 'list')])
    sg.put(md2, direct, name='%d.direct.host' % T0)
    sg.put(md2, listed, folder='.Lists.dev', name='%d.listed.host' % T0)
    sg.put(md2, direct, folder='.Archive', name='%d.archived.host' % T0)
    results = set()
    for k in range(3):
        st = sg.path('twice%d.db' % k)
        sg.cli('import', md2, store=st, config=CONF)
        results.add(tuple(sg.query(st, 'SELECT subject, bulk, location FROM interactions')))
    tap.ok(len(results) == 1 and list(results)[0][0][:2] == ('Direct copy', 0),
           'a message filed twice: the copy in the first folder (by name) is kept, every time', results)


# --- bad messages among good ones ------------------------------------------------------------

def test_bad_messages():
    md = sg.make_maildir(sg.path('Mixed'))
    store = sg.path('mixed.db')
    good = []
    for i in range(4):
        mid = 'good%d@hooli.com' % i
        sg.put(md, sg.make_message(mid, 'Gavin Belson <gavin@hooli.com>', subject='Good %d' % i,
                                   date=T0 + i * 60), name='%d.good%d.host' % (T0 + i, i))
        good.append(mid)
    bad = {}

    def bad_file(tag, data=None, size=None):
        name = '%d.bad-%s.host' % (T0 + 100, tag)
        p = sg.put(md, data or b'', name=name, sub='new', flags=None)
        if size is not None:
            os.truncate(p, size)
        bad[tag] = p
        return p

    bad_file('empty', b'')
    rnd = random.Random(7)
    bad_file('binary', bytes(rnd.randrange(256) for _ in range(4096)).replace(b':', b'\x00'))
    bad_file('broken', b'this is not a mail message at all\nno headers, no sender, nothing\n')
    bad_file('headers', b'X-Filler: ' + b'a' * 200 + b'\n' + (b'X-Filler: ' + b'b' * 990 + b'\n') * 1200 +
             b'From: x@hooli.com\n\nbody\n')
    bad_file('huge', b'From: big@hooli.com\nMessage-ID: <big@hooli.com>\n\n', size=64 * 1024 * 1024 + 1)
    tap.ok(os.stat(bad['huge']).st_blocks * 512 < 1024 * 1024, 'the huge message is a sparse file')

    r = sg.cli('import', md, store=store, config=CONF)
    tap.eq(r.rc, 0, 'import with bad messages among good ones exits 0')
    ids = {x[0] for x in sg.query(store, 'SELECT message_id FROM interactions')} if os.path.exists(store) else set()
    tap.eq(ids, set(good), 'the good messages are imported, the bad ones are not')
    tap.eq(sg.parse_summary(r.out), (len(good) + len(bad), len(good), 0, len(bad)),
           'the summary counts %d good and %d skipped' % (len(good), len(bad)))
    for tag, p in sorted(bad.items()):
        name = os.path.basename(p)
        line = next((l for l in r.err.splitlines() if name in l), None)
        tap.ok(line is not None, 'the %s message is listed on stderr by its file name' % tag, r.err)
    tap.ok('Skipped:' in r.out and 'empty file' in r.out and 'message too large' in r.out,
           'the summary gives the reasons', r.out)
    reasons = dict(sg.query(store, 'SELECT location, reason FROM import_problems'))
    tap.eq(sorted(reasons), sorted(bad.values()), 'every skipped file is recorded in import_problems')
    r = sg.cli('import', md, store=store, config=CONF)
    tap.ok(r.rc == 0 and sg.parse_summary(r.out) == (len(good) + len(bad), 0, len(good) + len(bad), 0),
           're-import: bad files are remembered, not retried or reported again', repr(r))

    # An unreadable file. Root reads it anyway: then there is nothing to test.
    md2 = sg.make_maildir(sg.path('Unreadable'))
    store2 = sg.path('unreadable.db')
    sg.put(md2, sg.make_message('ok@hooli.com', 'Gavin Belson <gavin@hooli.com>'), name='1.ok.host')
    locked = sg.put(md2, sg.make_message('locked@hooli.com', 'Gavin Belson <gavin@hooli.com>'), name='2.locked.host')
    os.chmod(locked, 0)
    readable = os.access(locked, os.R_OK)
    if readable:
        for _ in range(3):
            tap.skip('an unreadable file is skipped and named', 'running as root: chmod 000 does not stop reads')
    else:
        r = sg.cli('import', md2, store=store2, config=CONF)
        tap.ok(r.rc == 0 and sg.parse_summary(r.out) == (2, 1, 0, 1),
               'an unreadable file among good ones: the good one is imported, one skipped', repr(r))
        tap.ok(locked in r.err or '2.locked.host' in r.err, 'the unreadable file is named on stderr', r.err)
        os.chmod(locked, 0o600)
        r = sg.cli('import', md2, store=store2, config=CONF)
        tap.ok(r.rc == 0 and sg.parse_summary(r.out) == (2, 1, 1, 0),
               'once readable, the file is imported on the next run', repr(r))
    os.chmod(locked, 0o600)


# --- hostile names ------------------------------------------------------------------------

BAD_CHARS = re.compile('[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]')


def test_hostile():
    md = sg.make_maildir(sg.path('Hostile'))
    store = sg.path('hostile.db')
    long_name = 'Very' + ' Long' * 3000
    hostile = [
        ('h1@evil.example', '"\x1b[31mRed\x1b[0m \x1b]0;pwned\x07 Mallory" <mallory@evil.example>',
         '\x1b[2J\x1b[H cleared'),
        ('h2@evil.example', '%s <eve@evil.example>' % sg.rfc2047('Eve \x1b[5m\u202eelif.exe\u202c \x9b31m Adams'),
         sg.rfc2047('Invoice \u202egnp.exe\u202c \x1b[1mbold\x07')),
        ('h3@evil.example', '%s <long@evil.example>' % sg.rfc2047(long_name), 'x' * 5000),
        ('h4@evil.example', '"Zero\u200bWidth \u2066Isolate\u2069" <zw@evil.example>', 'Tab\there'),
    ]
    for mid, frm, subj in hostile:
        sg.put(md, sg.make_message(mid, frm, subject=subj))
    # A broken file whose name carries an escape sequence: named on stderr, not raw.
    sg.put(md, b'garbage\n', name='1.\x1b[2Jbad.host', sub='new', flags=None)
    r = sg.cli('import', md, store=store, config=CONF)
    tap.ok(r.rc == 0 and sg.parse_summary(r.out) == (5, 4, 0, 1), 'hostile messages import', repr(r))
    tap.ok(not BAD_CHARS.search(r.err) and not BAD_CHARS.search(r.out),
           'import output (a file name with an escape sequence) has no raw control characters',
           ascii(r.err))
    outs = {
        'people': sg.cli('people', store=store, config=CONF),
        'orgs': sg.cli('orgs', store=store, config=CONF),
        'show evil.example': sg.cli('show', 'evil.example', store=store, config=CONF),
        'show eve@evil.example': sg.cli('show', 'eve@evil.example', store=store, config=CONF),
    }
    for what, r in outs.items():
        tap.eq(r.rc, 0, '%s (table) on hostile names exits 0' % what)
        m = BAD_CHARS.search(r.out)
        tap.ok(m is None, '%s (table): no raw escape, control or bidi-override characters' % what,
               'found %r in %s' % (m.group(0) if m else None, ascii(r.out[:3000])))
        widest = max((len(l) for l in r.out.splitlines()), default=0)
        tap.ok(widest <= 400, '%s (table): long names and subjects are shortened (widest line %d)' % (what, widest))
    tap.ok('Mallory' in outs['people'].out and 'Eve' in outs['people'].out,
           'hostile names are still shown, made safe', outs['people'].out)
    # JSON must carry them escaped, never raw control characters.
    r = sg.cli('people', '--format=json', store=store, config=CONF)
    tap.ok(r.rc == 0 and not re.search('[\x00-\x1f\x7f]', r.out.replace('\n', '')),
           'people --format=json: control characters are escaped', ascii(r.out[:2000]))
    try:
        names = {o['email']: o['name'] for o in json.loads(r.out)}
    except (ValueError, KeyError, TypeError):
        names = {}
    tap.ok(len(names.get('long@evil.example') or '') <= 1000,
           'a very long display name is stored bounded', len(names.get('long@evil.example') or ''))


def test_parse_threads():
    """Files are parsed on several threads but stored in the order they are listed: the store
    is the same, row for row and in the same order, whatever --jobs says; broken files among
    them are reported the same way."""
    root = sg.path('threads')
    md = os.path.join(root, 'Maildir')
    gen_conf = os.path.join(root, 'gen.conf')
    os.makedirs(root)
    count = 150 if sg.is_sanitized_build() else 600
    r = sg.run([sys.executable, sg.GENERATOR, '--out', md, '--count', str(count), '--seed', '7',
                '--config', gen_conf], timeout=600)
    if not tap.ok(r.rc == 0, 'tests/gen/gen-maildir.py made %d messages' % count, repr(r)[-2000:]):
        return
    # Broken files among the good ones, so the workers' errors travel to the store too.
    sg.put(md, b'', name='1700000000.empty.host')
    sg.put(md, bytes(range(256)) * 64, name='1700000001.binary.host')
    sg.put(md, b'Subject: no end of headers', name='1700000002.truncated.host')
    stores = {}
    for jobs in ('1', '2', '4'):
        store = os.path.join(root, 'jobs%s.db' % jobs)
        r = sg.cli('import', '--jobs', jobs, md, store=store, config=gen_conf)
        tap.ok(r.rc == 0, 'import --jobs %s exits 0' % jobs, repr(r)[-2000:])
        stores[jobs] = (store, sg.parse_summary(r.out))
    (one, sum1), (four, sum4) = stores['1'], stores['4']
    order = 'SELECT message_id FROM interactions ORDER BY id'
    # 2: one worker and the importer, which parses whenever the next file is not ready.
    for jobs in ('2', '4'):
        other, sum_other = stores[jobs]
        tap.ok(sum1 is not None and sum1 == sum_other, 'the summary is the same with 1 and %s threads' % jobs,
               (sum1, sum_other))
        diff = sg.diff_dumps(sg.canonical_dump(one), sg.canonical_dump(other))
        tap.ok(diff == '', 'the store is the same with 1 and %s threads' % jobs, diff)
        tap.ok(sg.query(one, order) == sg.query(other, order),
               'interactions are stored in the same order with 1 and %s threads' % jobs)
    problems = 'SELECT location, reason FROM import_problems ORDER BY location'
    tap.ok(len(sg.query(four, problems)) >= 2 and sg.query(one, problems) == sg.query(four, problems),
           'the broken files are recorded the same way by both', sg.query(four, problems))
    tap.eq(sg.duplicates(four), [], 'nothing is stored twice with 4 threads')
    r = sg.cli('import', '--jobs', '9', md, store=os.path.join(root, 'x.db'), config=gen_conf)
    tap.ok(r.rc == 2 and '--jobs' in r.err, 'import --jobs 9 is a usage error naming --jobs', repr(r))


fixtures()
for name, func in [('import', test_import), ('people/orgs json', test_people_orgs_json), ('format argument', test_format_separate_argument),
                   ('csv', test_csv), ('table', test_table), ('show', test_show),
                   ('usage errors', test_usage_errors), ('failures', test_failures),
                   ('folder order', test_folder_order),
                   ('bad messages', test_bad_messages), ('hostile names', test_hostile),
                   ('parse threads', test_parse_threads)]:
    tap.run(name, func)
tap.done()
