#!/usr/bin/env python3
"""The IMAP source against a real Dovecot (tests/e2e/sgdovecot.py) on loopback.

What a user relies on: the first sync stores the same facts as an import of the same mail
from a Maildir; later syncs fetch only what is new; nothing on the server changes (no \\Seen
set); Sent folders (SPECIAL-USE or configured) are outgoing, Trash/Junk/Drafts left out; a
changed UIDVALIDITY or a renamed folder stores nothing twice; mail deleted on the server
stays in the store; a sync killed with SIGKILL at any point and resumed gives the store a
clean run gives; a wrong password, a closed port or a certificate that does not verify is a
clear error naming the account, also in `salesgetter sync --status`, and does not stop the
other accounts; the daemon polls every account.

Skipped (TAP "1..0 # SKIP", exit 77 with --skip-status=77) when Dovecot is not installed.
Knobs: SG_IMAP_COUNT (generated messages, default 3000; 800 under sanitizers).
"""

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgdovecot  # noqa: E402
import sgtest as sg  # noqa: E402

if sgdovecot.find_dovecot() is None or shutil.which('openssl') is None:
    print('1..0 # SKIP Dovecot (dovecot-imapd) or openssl is not installed')
    sys.exit(77 if '--skip-status=77' in sys.argv else 0)

tap = sg.start(sg.Tap())
SANITIZED = sg.is_sanitized_build()
COUNT = int(os.environ.get('SG_IMAP_COUNT') or (800 if SANITIZED else 3000))
ME = 'me@ourco.example'

dv = sgdovecot.Dovecot()
import atexit  # noqa: E402
atexit.register(dv.cleanup)


def conf(file, accounts, mode=0o600, maildirs=()):
    """A config with our identity and [imap NAME] groups: accounts = {name: {key: value}}."""
    extra = ''
    for name, keys in accounts.items():
        extra += '\n[imap %s]\n' % name + ''.join('%s=%s\n' % kv for kv in keys.items())
    sg.write_config(file, addresses=(ME,) + GEN_ADDRESSES, internal_domains=('ourco.example',),
                    maildirs=maildirs, extra=extra)
    os.chmod(file, mode)
    return file


# The generated mailbox's user: all their addresses, so that a Maildir import (which knows no
# Sent folder) finds the same directions as the IMAP sync.
GEN_CONF = sg.path('generated.conf')
GEN_ADDRESSES = ()


def account(**over):
    keys = {'url': dv.url('imaps'), 'user': sgdovecot.USER, 'password': sgdovecot.PASSWORD, 'ca-file': dv.cert}
    keys.update(over)
    return {k: v for k, v in keys.items() if v is not None}


# Outbox (made later) holds sent mail; Lists/Ignored (made later) is not wanted.
def gen_addresses():
    with open(GEN_CONF) as f:
        m = re.search(r'^addresses=(.*)$', f.read(), re.M)
    return tuple(a for a in m.group(1).split(';') if a)


CONF = None


def set_conf():
    global CONF
    CONF = conf(sg.path('good.conf'), {'work': account(**{'sent-folder': 'Outbox', 'folders-exclude': 'Lists/Ignored'})})
    return CONF


def sync(store, config=None, *args, **kw):
    return sg.cli('import', *args, store=store, config=config or CONF, **kw)


def all_flags():
    """{(folder, uid): flags} of every message on the server, read with EXAMINE."""
    c = dv.client()
    out = {}
    try:
        typ, boxes = c.list()
        for line in boxes:
            m = re.match(rb'\((.*?)\) "(.*)" (.*)$', line)
            name = m.group(3).decode()
            if name.startswith('"'):
                name = name[1:-1]
            if b'\\Noselect' in m.group(1):
                continue
            typ, _ = c.select('"%s"' % name, readonly=True)
            if typ != 'OK':
                continue
            typ, data = c.uid('FETCH', '1:*', '(FLAGS)')
            for item in data:
                if not item:
                    continue
                mm = re.search(rb'UID (\d+) FLAGS \((.*?)\)', item if isinstance(item, bytes) else item[0])
                if mm:
                    out[(name, int(mm.group(1)))] = set(mm.group(2).split())
    finally:
        c.logout()
    return out


def facts_without_location(store):
    """The canonical dump, minus what names where the mail was read (source, location) and
    what depends on the order messages are read in, which differs between a Maildir walk
    (folders by name) and a sync (Sent first, then INBOX, then by name, each in UID order):
    the name a person's change-log op carried when first stored, a list address's
    time as a person, and a person's first and
    last contact when bulk mail came before their first personal message (import.md)."""
    d = sg.canonical_dump(store)
    d['interactions'] = sorted(r[:2] + r[3:-2] for r in d['interactions'])
    d['people'] = sorted(r[:5] + r[5:6] for r in d['people'])
    # (An address that turns out to be a list may have been a person for a while first.)
    # (A meeting is logged once per version applied: an older invitation read after a newer
    # one is not applied, so the number of its ops depends on the order; its final state is
    # compared in 'interactions'. Its tags' ops follow it.)
    versioned = {((e, k, op), 1) for (e, k, op, fields), n in d['changes'] if e in ('meeting', 'tag_assignment')}
    d['changes'] = sorted([((e, k, op), n) for (e, k, op, fields), n in d['changes']
                           if e not in ('meeting', 'tag_assignment')
                           and not (e == 'person' and k in LIST_ADDRESSES(store))] + list(versioned))
    for k in ('sources', 'maildir_seen', 'import_problems'):
        d.pop(k, None)
    return d


def LIST_ADDRESSES(store):
    return {r[0] for r in sg.query(store, "SELECT address FROM addresses WHERE kind = 'list'")}


def directions(store, where=''):
    return dict(sg.query(store, 'SELECT message_id, direction FROM interactions ' + where))


def count(store, sql, args=()):
    return sg.scalar(store, sql, args)


def status_rows(store, config):
    r = sg.cli('sync', '--status', '--format', 'json', store=store, config=config)
    import json
    return r, (json.loads(r.out) if r.rc == 0 else [])


# --- the server's mailbox -----------------------------------------------------------------------

def fill_server():
    subprocess.run([sys.executable, sg.GENERATOR, '--out', dv.maildir + '.gen', '--count', str(COUNT), '--seed', '7',
                    '--config', GEN_CONF],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # The generator's Maildir++ folders become the server's folders.
    for entry in os.listdir(dv.maildir + '.gen'):
        src = os.path.join(dv.maildir + '.gen', entry)
        dst = os.path.join(dv.maildir, entry)
        if entry in ('cur', 'new', 'tmp'):
            for n in os.listdir(src):
                os.rename(os.path.join(src, n), os.path.join(dst, n))
        else:
            shutil.move(src, dst)
    shutil.rmtree(dv.maildir + '.gen')
    # Some unread mail: the sync must leave it unread.
    inbox_cur = os.path.join(dv.maildir, 'cur')
    for n in sorted(os.listdir(inbox_cur))[:40]:
        os.rename(os.path.join(inbox_cur, n), os.path.join(inbox_cur, n.split(':2,')[0] + ':2,'))
    dv.fix_owner()


fill_server()
GEN_ADDRESSES = gen_addresses()
set_conf()
dv.start()
tap.diag('dovecot on imaps %d, imap %d; %d generated messages' % (dv.imaps_port, dv.imap_port, COUNT))


# --- first sync: the same facts as a Maildir import -----------------------------------------------

STORE = sg.path('imap.db')
flags_before = all_flags()


def first_sync():
    r = sync(STORE)
    tap.ok(r.rc == 0, 'first sync of %d messages succeeds' % COUNT, repr(r))
    summary = sg.parse_summary(r.out)
    m = sg.cli('import', dv.maildir, store=sg.path('maildir.db'), config=CONF)
    tap.ok(m.rc == 0, 'the same Maildir imported from disk', repr(m))
    ms = sg.parse_summary(m.out)
    tap.eq(summary and summary[:2], ms and ms[:2],
           'IMAP reads and stores as many messages as the Maildir import (Trash/Junk/Drafts left out by both)')
    a, b = facts_without_location(STORE), facts_without_location(sg.path('maildir.db'))
    if a != b:
        import collections
        ca, cb = collections.Counter(a.get('changes', [])), collections.Counter(b.get('changes', []))
        tap.diag('changes only in IMAP: %r' % list((ca - cb).items())[:8])
        tap.diag('changes only in Maildir: %r' % list((cb - ca).items())[:8])
    tap.ok(a == b, 'IMAP gives the facts of the Maildir import (people, organisations, addresses, '
           'interactions, participants, threads, change log)', sg.diff_dumps(a, b))
    da = directions(STORE, "WHERE location NOT LIKE '%/Sent;UIDVALIDITY%'")
    db = directions(sg.path('maildir.db'))
    tap.eq({k: v for k, v in da.items() if db.get(k) != v}, {},
           'every message outside Sent has the direction the Maildir import gives it')
    tap.eq(count(STORE, "SELECT count(*) FROM interactions WHERE location LIKE '%/Sent;UIDVALIDITY%' "
                 "AND direction = 'in'"), 0, 'every message in Sent is outgoing')
    tap.eq(sg.duplicates(STORE), [], 'nothing stored twice')
    loc = count(STORE, "SELECT location FROM interactions WHERE location LIKE 'imaps://%' LIMIT 1")
    tap.ok(loc is not None and re.match(r'imaps://alice@127\.0\.0\.1:\d+/.+;UIDVALIDITY=\d+/;UID=\d+$', loc),
           'each interaction names its message as an IMAP URL (folder, UIDVALIDITY, UID)', loc)
    folders = [r[0] for r in sg.query(STORE, 'SELECT name FROM imap_folders ORDER BY name')]
    tap.ok('INBOX' in folders and 'Sent' in folders and not {'Trash', 'Junk', 'Drafts'} & set(folders),
           'every folder is remembered except Trash, Junk and Drafts', folders)
    again = sync(STORE)
    tap.eq(sg.parse_summary(again.out), (0, 0, 0, 0), 'a second sync with nothing new reads nothing')
    r2 = sync(STORE)
    tap.ok('warning' not in r2.err, 'no warning for a 0600 config holding a password', r2.err)


tap.run('first sync', first_sync)


# --- what the server has: Sent, Trash, tricky messages, flags ---------------------------------------

def special_folders():
    c = dv.client()
    try:
        for box in ('Outbox', 'Lists/Ignored', 'Partner/J&APY-rg'):  # Partner/Jörg in modified UTF-7
            c.create('"%s"' % box)
        appends = [
            ('Gesendet', sg.make_message('sent-special@ourco.example', 'Alias <me.alias@ourco.example>',
                                         to=('Kim Park <kim.park@parkindustries.example>',), subject='Proposal')),
            ('Outbox', sg.make_message('sent-configured@ourco.example', 'Alias <me.alias@ourco.example>',
                                       to=('Kim Park <kim.park@parkindustries.example>',), subject='Follow-up')),
            ('Trash', sg.make_message('in-trash@x.example', 'Tom Trash <tom@trash-co.example>')),
            ('Junk', sg.make_message('in-junk@x.example', 'Jim Junk <jim@junk-co.example>')),
            ('Drafts', sg.make_message('in-drafts@x.example', 'Me Myself <%s>' % ME)),
            ('Lists/Ignored', sg.make_message('in-excluded@x.example', 'Ed Excluded <ed@excluded.example>')),
            ('Partner/J&APY-rg', sg.make_message('umlaut@partner.example', 'Jörg Partner <joerg@partner.example>')),
            # Lines that look like IMAP responses, and one 200 kB line: literals are framed, not read as lines.
            ('INBOX', sg.make_message('tricky@hostile.example', 'Hana Hostile <hana@hostile.example>',
                                      subject='Tricky body',
                                      body='* 1 FETCH (UID 1)\r\nS9 OK done\r\nS10 OK done\r\n+ go on\r\n' +
                                      'x' * 200000 + '\r\n)\r\n')),
            ('INBOX', sg.make_message('after-tricky@acme-widgets.example', 'Anne After <anne@acme-widgets.example>',
                                      subject='After the tricky one')),
        ]
        for box, data in appends:
            typ, _ = c.append('"%s"' % box, '', None, data.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n'))
            assert typ == 'OK', box
    finally:
        c.logout()
    before = all_flags()
    r = sync(STORE)
    tap.ok(r.rc == 0, 'sync after new folders and mail', repr(r))
    tap.eq(sg.parse_summary(r.out), (5, 5, 0, 0), 'exactly the five messages in taken folders are read')
    d = dict(sg.query(STORE, "SELECT message_id, direction FROM interactions WHERE message_id LIKE 'sent-%'"))
    tap.eq(d.get('sent-special@ourco.example'), 'out',
           'mail in the SPECIAL-USE \\Sent folder (named "Gesendet") is outgoing, though its From is not in [identity]')
    tap.eq(d.get('sent-configured@ourco.example'), 'out', 'mail in a sent-folder named in the config is outgoing')
    stored = {r[0] for r in sg.query(STORE, "SELECT message_id FROM interactions WHERE message_id LIKE 'in-%'")}
    tap.eq(stored, set(), 'Trash, Junk, Drafts and an excluded folder are left out')
    subj = count(STORE, "SELECT subject FROM interactions WHERE message_id = 'tricky@hostile.example'")
    tap.eq(subj, 'Tricky body', 'a message whose body holds lines like IMAP responses and a 200 kB line is stored')
    tap.ok(count(STORE, "SELECT count(*) FROM interactions WHERE message_id = 'after-tricky@acme-widgets.example'")
           == 1, 'and the message after it too (the stream stayed in step)')
    after = all_flags()
    tap.eq(after, before, 'flags on the server are unchanged by the sync (no \\Seen set, nothing expunged)')
    inc = conf(sg.path('trash.conf'), {'work': account(**{'folders-include': 'Trash'})})
    r = sync(sg.path('trash.db'), inc)
    c = dv.client()
    try:
        in_trash = int(c.select('Trash', readonly=True)[1][0])
    finally:
        c.logout()
    # Mail only: an invitation in Trash also makes a meeting (an interaction of kind 'meeting').
    locations = [row[0] for row in sg.query(sg.path('trash.db'),
                                            "SELECT location FROM interactions WHERE kind = 'mail'")]
    umlaut = conf(sg.path('umlaut.conf'), {'work': account(**{'folders-include': 'Partner/Jörg'})})
    ru = sync(sg.path('umlaut.db'), umlaut)
    names = [row[0] for row in sg.query(sg.path('umlaut.db'), 'SELECT name FROM imap_folders')]
    tap.ok(ru.rc == 0 and names == ['Partner/J&APY-rg'] and
           count(sg.path('umlaut.db'), 'SELECT count(*) FROM interactions') > 0,
           'folder patterns match the UTF-8 name of a modified UTF-7 folder (Partner/Jörg)', repr((ru, names)))
    tap.ok(r.rc == 0 and len(locations) == in_trash and all('/Trash;' in x for x in locations) and
           count(sg.path('trash.db'), "SELECT count(*) FROM interactions WHERE message_id = 'in-trash@x.example'")
           == 1, 'folders-include naming Trash takes it (all %d messages), and only it' % in_trash, repr(r))


tap.run('special folders', special_folders)


def flags_untouched():
    after = all_flags()
    unseen_before = {k for k, v in flags_before.items() if b'\\Seen' not in v}
    still_unseen = {k for k in unseen_before if b'\\Seen' not in after.get(k, {b'\\Seen'})}
    tap.ok(len(unseen_before) >= 40 and still_unseen == unseen_before,
           'the %d unread messages are still unread after the syncs' % len(unseen_before),
           'now seen: %r' % sorted(unseen_before - still_unseen)[:5])


tap.run('flags', flags_untouched)


# --- new mail, deletions, UIDVALIDITY, renames ---------------------------------------------------------

def changes_on_server():
    c = dv.client()
    try:
        new = sg.make_message('fresh@newco.example', 'Nina New <nina@newco.example>', subject='Fresh')
        c.append('INBOX', '', None, new.replace(b'\n', b'\r\n'))
    finally:
        c.logout()
    r = sync(STORE)
    tap.eq(sg.parse_summary(r.out), (1, 1, 0, 0), 'new mail arriving: the next sync reads just that message')
    tap.eq(count(STORE, "SELECT direction FROM interactions WHERE message_id = 'fresh@newco.example'"), 'in',
           'and stores it')

    # Deleted on the server: stays in the store as history.
    c = dv.client()
    try:
        c.select('INBOX')
        typ, data = c.uid('SEARCH', None, 'HEADER', 'Message-ID', 'fresh@newco.example')
        uid = data[0].split()[0]
        c.uid('STORE', uid, '+FLAGS', '(\\Deleted)')
        c.expunge()
    finally:
        c.logout()
    r = sync(STORE)
    tap.ok(r.rc == 0 and count(STORE, "SELECT count(*) FROM interactions WHERE message_id = 'fresh@newco.example'")
           == 1, 'a message deleted on the server stays in the store', repr(r))

    # UIDVALIDITY changed (a server restore, a rebuilt index): INBOX is read again, nothing doubles.
    inbox_total = count(STORE, "SELECT count(*) FROM interactions i JOIN sources s ON s.id = i.source_id "
                        "WHERE i.kind = 'mail' AND i.location LIKE '%/INBOX;UIDVALIDITY=%'")
    old_validity = count(STORE, "SELECT uidvalidity FROM imap_folders WHERE name = 'INBOX'")
    up = dv.doveadm('mailbox', 'update', '-u', sgdovecot.USER, '--uid-validity', str(old_validity + 1000), 'INBOX')
    tap.ok(up.returncode == 0, 'doveadm changed the UIDVALIDITY of INBOX', up.stderr)
    before = count(STORE, 'SELECT count(*) FROM interactions')
    r = sync(STORE)
    s = sg.parse_summary(r.out)
    tap.ok(r.rc == 0 and s is not None and s[1] == 0 and s[0] >= inbox_total - 1,
           'after a UIDVALIDITY change INBOX is read again (%s of ~%d) and nothing is new' % (s and s[0], inbox_total),
           repr(r))
    tap.eq(count(STORE, 'SELECT count(*) FROM interactions'), before, 'no interaction stored twice')
    tap.eq(count(STORE, "SELECT uidvalidity FROM imap_folders WHERE name = 'INBOX'"), old_validity + 1000,
           'the new UIDVALIDITY is remembered')
    tap.eq(sg.parse_summary(sync(STORE).out), (0, 0, 0, 0), 'and the sync after that reads nothing')

    # A renamed folder is a new folder to IMAP: read again, nothing doubles, the old name forgotten.
    c = dv.client()
    try:
        typ, _ = c.rename('Prospects', 'Prospects-2025')
    finally:
        c.logout()
    n = count(STORE, "SELECT count(*) FROM interactions WHERE kind = 'mail' AND "
                     "location LIKE '%/Prospects;UIDVALIDITY=%'")
    r = sync(STORE)
    tap.ok(typ == 'OK' and sg.parse_summary(r.out) == (n, 0, n, 0),
           'a renamed folder is read again (%d messages), all already known' % n, repr(r))
    names = {row[0] for row in sg.query(STORE, 'SELECT name FROM imap_folders')}
    tap.ok('Prospects-2025' in names and 'Prospects' not in names, 'its new name replaces the old one', names)
    tap.eq(sg.duplicates(STORE), [], 'nothing stored twice after new mail, deletion, UIDVALIDITY change and rename')


tap.run('changes on the server', changes_on_server)


# --- STARTTLS, errors, several accounts ------------------------------------------------------------

def starttls_and_errors():
    cfg = conf(sg.path('starttls.conf'), {'plain': account(url=dv.url('imap'))})
    r = sync(sg.path('starttls.db'), cfg)
    tap.ok(r.rc == 0 and count(sg.path('starttls.db'), 'SELECT count(*) FROM interactions') > 0,
           'imap:// with STARTTLS (required) works', repr(r))

    bad = {
        'wrongpw': (account(password='not the password'), r'account wrongpw .*login refused'),
        'closed': (account(url='imaps://127.0.0.1:%d/' % sgdovecot.free_port()),
                   r'account closed .*(connect|Connection refused)'),
        'untrusted': (account(**{'ca-file': dv.other_cert}), r'account untrusted .*(certificate|SSL)'),
        'systemca': (account(**{'ca-file': None}), r'account systemca .*(certificate|SSL)'),
    }
    for name, (keys, pattern) in bad.items():
        cfg = conf(sg.path('%s.conf' % name), {name: keys})
        store = sg.path('%s.db' % name)
        r = sync(store, cfg, timeout=60)
        tap.ok(r.rc == 1 and re.search(pattern, r.err, re.I) is not None,
               '%s: exit 1 and an error naming the account (%s)' % (name, r.err.strip().splitlines()[-1:]), repr(r))
        tap.ok(sgdovecot.PASSWORD not in r.err + r.out, '%s: the password is never printed' % name)
        st, rows = status_rows(store, cfg)
        tap.ok(st.rc == 0 and len(rows) == 1 and rows[0]['state'] == 'failing' and rows[0]['account'] == name and
               re.search(pattern.split('.*')[-1], rows[0]['last_error'] or '', re.I) and rows[0]['failures'] == 1,
               '%s: sync --status shows the account failing with its error' % name, repr(st))

    # Two accounts in one run: the failing one does not stop the other.
    cfg = conf(sg.path('two.conf'), {'broken': account(user='bob'), 'good': account()}, mode=0o644)
    store = sg.path('two.db')
    r = sg.cli('import', store=store, config=cfg)
    tap.ok(r.rc == 1 and re.search(r'account broken', r.err) and
           count(store, 'SELECT count(*) FROM interactions') > 0,
           'import of all configured accounts: the good one is stored, the broken one reported, exit 1', repr(r))
    tap.ok(re.search(r'others can read it \(mode 644\)', r.err) is not None,
           'a config holding a password that others can read is warned about', r.err)
    st, rows = status_rows(store, cfg)
    states = {row['account']: row['state'] for row in rows}
    tap.eq(states, {'broken': 'failing', 'good': 'ok'}, 'sync --status lists both accounts with their state')
    text = sg.cli('sync', '--status', store=store, config=cfg)
    tap.ok(text.rc == 0 and 'broken' in text.out and 'login refused' in text.out,
           'the table form shows the error too', repr(text))


tap.run('STARTTLS and errors', starttls_and_errors)


# --- a server that misbehaves -----------------------------------------------------------------------

class FakeServer:
    """A TLS IMAP server (the test's certificate) that serves INBOX with messages 1 and 2, and
    message 3 announced at 70 MB (and message 2 listed twice); when fetching bodies it misbehaves as @mode says: 'drop'
    closes the connection half-way through message 2, 'garbage' answers with HTTP after
    message 1, 'longline' sends 2 MB without a line end, 'bye' says BYE; 'ok' behaves."""

    def __init__(self):
        import socket
        import ssl
        import threading
        self.mode = 'ok'
        self.seen_auth = None
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(dv.cert, dv.key)
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.messages = {uid: sg.make_message('fake-%d@fake.example' % uid, 'Fay Fake <fay@fake-co.example>',
                                              subject='Fake %d' % uid).replace(b'\n', b'\r\n')
                         for uid in (1, 2)}
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                raw, _ = self.sock.accept()
                conn = self.ctx.wrap_socket(raw, server_side=True)
                self.session(conn)
            except Exception:  # noqa: BLE001 - a client that went away
                pass

    def session(self, conn):
        f = conn.makefile('rwb', buffering=0)
        f.write(b'* OK fake IMAP ready\r\n')
        while True:
            line = f.readline()
            if not line:
                return
            tag, _, rest = line.decode().strip().partition(' ')
            cmd = rest.upper()
            if cmd.startswith('CAPABILITY'):
                caps = b'IMAP4rev1 SASL-IR AUTH=XOAUTH2' if self.mode == 'oauth2' else b'IMAP4rev1'
                f.write(b'* CAPABILITY %s\r\n%s OK done\r\n' % (caps, tag.encode()))
            elif cmd.startswith('AUTHENTICATE XOAUTH2 '):
                import base64
                self.seen_auth = base64.b64decode(rest.split(' ', 2)[2])
                ok = self.seen_auth == b'user=alice\x01auth=Bearer tok-123\x01\x01'
                f.write(b'%s %s\r\n' % (tag.encode(), b'OK authenticated' if ok else b'NO [AUTHENTICATIONFAILED] bad token'))
            elif cmd.startswith('LOGIN'):
                f.write(b'%s OK logged in\r\n' % tag.encode())
            elif cmd.startswith('LIST'):
                f.write(b'* LIST () "/" INBOX\r\n%s OK done\r\n' % tag.encode())
            elif cmd.startswith('EXAMINE'):
                f.write(b'* 3 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [UIDNEXT 4] x\r\n%s OK [READ-ONLY] x\r\n'
                        % tag.encode())
            elif 'RFC822.SIZE' in cmd:
                out = b''
                for uid in (1, 2):
                    out += b'* %d FETCH (UID %d RFC822.SIZE %d)\r\n' % (uid, uid, len(self.messages[uid]))
                # UID 2 listed twice (it must be fetched once), and one 70 MB message.
                out += b'* 2 FETCH (UID 2 RFC822.SIZE %d)\r\n' % len(self.messages[2])
                out += b'* 3 FETCH (UID 3 RFC822.SIZE 73400320)\r\n'
                f.write(out + b'%s OK done\r\n' % tag.encode())
            elif 'BODY.PEEK[]' in cmd:
                m = re.search(r'FETCH (\S+)', cmd)
                uids = set()
                for part in m.group(1).split(','):
                    a, _, b = part.partition(':')
                    uids.update(range(int(a), int(b or a) + 1))
                for uid in sorted(uids):
                    body = self.messages[uid]
                    head = b'* %d FETCH (UID %d BODY[] {%d}\r\n' % (uid, uid, len(body))
                    if uid == 2 and self.mode == 'drop':
                        f.write(head + body[:40])
                        conn.close()
                        return
                    if uid == 2 and self.mode == 'garbage':
                        f.write(b'HTTP/1.1 400 Bad Request\r\n\r\n')
                        continue
                    if uid == 2 and self.mode == 'longline':
                        f.write(b'* ' + b'x' * (2 * 1024 * 1024))
                        continue
                    if uid == 2 and self.mode == 'bye':
                        f.write(b'* BYE going down\r\n')
                        conn.close()
                        return
                    f.write(head + body + b')\r\n')
                f.write(b'%s OK done\r\n' % tag.encode())
            elif cmd.startswith('LOGOUT'):
                f.write(b'* BYE bye\r\n%s OK bye\r\n' % tag.encode())
                return
            else:
                f.write(b'%s BAD what\r\n' % tag.encode())


def misbehaving_server():
    fake = FakeServer()
    cfg = conf(sg.path('fake.conf'), {'fake': account(url='imaps://127.0.0.1:%d/' % fake.port)})
    store = sg.path('fake.db')
    expect = {'drop': r'closed the connection', 'garbage': r'not an IMAP response: "HTTP/1.1 400',
              'longline': r'response of more than 1048576 bytes', 'bye': r'closed the connection: "?BYE going down'}
    for mode, pattern in expect.items():
        fake.mode = mode
        for f in ('', '-wal', '-shm'):
            if os.path.exists(store + f):
                os.unlink(store + f)
        r = sync(store, cfg, timeout=60)
        tap.ok(r.rc == 1 and re.search(r'account fake .*' + pattern, r.err) is not None,
               'a server that %s: a clear error naming the account' % {
                   'drop': 'drops the connection mid-fetch', 'garbage': 'answers garbage',
                   'longline': 'sends a 2 MB line', 'bye': 'says BYE mid-fetch'}[mode], repr(r))
        tap.eq(count(store, "SELECT count(*) FROM interactions WHERE message_id = 'fake-1@fake.example'"), 1,
               '%s: the message fetched before the fault is kept' % mode)
        tap.eq(count(store, "SELECT last_uid FROM imap_folders WHERE name = 'INBOX'"), 1,
               '%s: the folder stands at that message' % mode)
        st, rows = status_rows(store, cfg)
        tap.eq([(r['state'], r['pending']) for r in rows], [('failing', 2)],
               '%s: sync --status: failing, 2 messages still to fetch' % mode)
    fake.mode = 'ok'
    r = sync(store, cfg)
    tap.eq(sg.parse_summary(r.out), (2, 1, 0, 1),
           'the next sync fetches the rest: message 2 stored, the 70 MB message 3 skipped (not fetched)')
    tap.ok(re.search(r'UID=3: message of 73400320 bytes is over the cap', r.err) is not None,
           'the skipped message is named with its size', r.err)
    tap.eq(count(store, "SELECT count(*) FROM import_problems WHERE location LIKE '%;UID=3'"), 1,
           'and recorded as a problem')
    tap.eq(sg.parse_summary(sync(store, cfg).out), (0, 0, 0, 0), 'after which nothing is fetched again')

    # Secrets from commands: an OAuth 2.0 token (SASL XOAUTH2) and a password.
    fake.mode = 'oauth2'
    for token, want in (('tok-123', 0), ('expired', 1)):
        cfg = conf(sg.path('oauth.conf'), {'oauth': account(url='imaps://127.0.0.1:%d/' % fake.port, password=None,
                                                            **{'oauth2-token-command': 'echo %s' % token})})
        r = sync(sg.path('oauth-%s.db' % token), cfg)
        tap.ok(r.rc == want and (want == 0 or re.search(r'account oauth .*login refused', r.err)),
               'oauth2-token-command: the token goes to the server as SASL XOAUTH2 (%s)' %
               ('accepted' if want == 0 else 'refused: a clear error'), repr(r))
    cfg = conf(sg.path('pwcmd.conf'), {'cmd': account(password=None, **{
        'password-command': "printf '%s\\n' '" + sgdovecot.PASSWORD + "'"})})
    r = sync(sg.path('pwcmd.db'), cfg)
    tap.ok(r.rc == 0 and sg.parse_summary(r.out)[1] > 0, 'password-command: its first line is the password', repr(r))
    cfg = conf(sg.path('pwfail.conf'), {'cmd': account(password=None, **{'password-command': 'echo nope >&2; exit 3'})})
    r = sg.cli('import', store=sg.path('pwfail.db'), config=cfg)
    tap.ok(r.rc == 1 and re.search(r'account cmd: password-command failed .*: nope', r.err) is not None,
           'a failing password-command is an error naming the account, with what it said', repr(r))
    st, rows = status_rows(sg.path('pwfail.db'), cfg)
    tap.ok(len(rows) == 1 and rows[0]['state'] == 'failing' and 'password-command failed' in rows[0]['last_error'],
           'and shows in sync --status', repr(rows))


tap.run('misbehaving server', misbehaving_server)


def no_starttls():
    """imap:// to a server that offers no STARTTLS: refused before any password is sent."""
    import socket
    import threading
    srv = socket.socket()
    srv.bind(('127.0.0.1', 0))
    srv.listen(2)
    received = []

    def serve():
        try:
            conn, _ = srv.accept()
            f = conn.makefile('rwb', buffering=0)
            f.write(b'* OK plain IMAP, no TLS here\r\n')
            while True:
                line = f.readline()
                if not line:
                    break
                received.append(line)
                tag = line.split(b' ', 1)[0]
                if b'CAPABILITY' in line.upper():
                    f.write(b'* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n%s OK done\r\n' % tag)
                else:
                    f.write(b'%s OK fine\r\n' % tag)
        except OSError:
            pass

    threading.Thread(target=serve, daemon=True).start()
    cfg = conf(sg.path('plain.conf'), {'plain': account(url='imap://127.0.0.1:%d/' % srv.getsockname()[1])})
    r = sync(sg.path('plain.db'), cfg, timeout=60)
    tap.ok(r.rc == 1 and re.search(r'account plain .*STARTTLS', r.err, re.I) is not None,
           'imap:// to a server without STARTTLS is refused with an error naming the account', repr(r))
    sent = b''.join(received)
    tap.ok(b'LOGIN' not in sent.upper() and b'AUTHENTICATE' not in sent.upper() and
           sgdovecot.PASSWORD.encode() not in sent, 'and no password was sent in clear text', sent)
    srv.close()


tap.run('no STARTTLS', no_starttls)


# --- killed mid-sync ---------------------------------------------------------------------------------

def kill_and_resume():
    clean = sg.path('clean.db')
    t0 = time.monotonic()
    r = sync(clean)
    clean_time = time.monotonic() - t0
    tap.ok(r.rc == 0, 'a clean sync of the whole account (%.1f s)' % clean_time, repr(r))
    crashed = sg.path('crashed.db')
    rnd = random.Random(20251129)
    kills = 0
    for i in range(6):
        # Both front ends: the CLI's import and the daemon's sync (the same core code).
        argv = ([sg.CLI, '--store', crashed, '--config', CONF, 'import'] if i % 2 == 0 else
                [sg.SYNCD, '--once', '--store', crashed, '--config', CONF])
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=sg.child_env())
        # Early enough that most runs are killed half-way (each resumes where the last stopped).
        time.sleep(rnd.uniform(0.1, max(0.2, clean_time / 4)))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait(30)
    r = sync(crashed)
    tap.ok(r.rc == 0 and kills >= 3, 'the sync killed with SIGKILL %d times (import and syncd in turn) finishes on the next run' % kills,
           repr(r))
    a, b = sg.canonical_dump(clean), sg.canonical_dump(crashed)
    tap.ok(a == b, 'the resumed store holds exactly what the clean run stored', sg.diff_dumps(a, b))
    fa = sg.query(clean, 'SELECT name, uidvalidity, last_uid FROM imap_folders ORDER BY name')
    fb = sg.query(crashed, 'SELECT name, uidvalidity, last_uid FROM imap_folders ORDER BY name')
    tap.eq(fb, fa, 'and every folder stands at the same UID')
    tap.eq(sg.duplicates(crashed), [], 'nothing stored twice')
    tap.eq(sg.integrity(crashed), 'ok', 'the store passes integrity_check')


tap.run('kill -9 and resume', kill_and_resume)


# --- the daemon --------------------------------------------------------------------------------------------

def daemon():
    cfg = conf(sg.path('daemon.conf'), {'broken': account(user='bob', **{'poll-interval': '1'}),
                                        'good': account(**{'poll-interval': '1'})})
    store = sg.path('daemon.db')
    d = sg.Daemon(cfg, store, ['--once'], name='once').start()
    rc = d.wait(120)
    d.note_log()
    tap.ok(rc == 0 and count(store, 'SELECT count(*) FROM interactions') > 0,
           'syncd --once syncs the good account though the other fails', d.log()[-2000:])
    tap.ok(re.search(r'account broken .*login refused', d.log()) is not None, 'and logs the failing one', d.log())
    d = sg.Daemon(cfg, store, name='poll').start()
    c = dv.client()
    try:
        c.append('INBOX', '', None, sg.make_message('polled@newco.example', 'Pia Poll <pia@newco.example>')
                 .replace(b'\n', b'\r\n'))
    finally:
        c.logout()
    got = sg.wait_for(lambda: count(store, "SELECT count(*) FROM interactions WHERE message_id = "
                                    "'polled@newco.example'") == 1, 30, 0.2)
    tap.ok(got, 'the running daemon polls and stores new mail', d.log()[-2000:])
    retried = sg.wait_for(lambda: (count(store, "SELECT failures FROM source_status st JOIN sources s "
                                         "ON s.id = st.source_id WHERE s.uri LIKE 'imaps://bob@%'") or 0) >= 2, 30, 0.2)
    tap.ok(retried, 'and retries the failing account', d.log()[-2000:])
    rc, _ = d.stop()
    tap.eq(rc, 0, 'SIGTERM stops the daemon cleanly')
    st, rows = status_rows(store, cfg)
    by = {row['account']: row for row in rows}
    tap.ok(by.get('good', {}).get('state') == 'ok' and by.get('broken', {}).get('failures', 0) >= 2,
           'the daemon keeps each account\'s status (the broken one retried)', repr(rows))


tap.run('daemon', daemon)
tap.done()
