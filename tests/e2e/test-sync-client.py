#!/usr/bin/env python3
"""End-to-end test of the sync client (salesgetter sync, salesgetter-syncd) through the real
salesgetter-server over a real PostgreSQL: three users with their own stores and configs
converge after offline edits on all of them; what a `metadata` client's subjects and bodies
say never reaches the server's database (asserted with psql on the database); internal-only
mail and excluded domains neither; the server killed in the middle of a sync and restarted:
the client resumes, nothing lost or duplicated; a sync of several round trips whose second
request is refused (pipelined requests: only what the first answer named is acknowledged, the
puller keeps the first page's cursor); bad tokens give clear errors and exit codes.
Skips when PostgreSQL is not installed."""

import json
import os
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest as sg  # noqa: E402
import sgserver  # noqa: E402

tap = sg.start(sg.Tap())

if not sgserver.Postgres.available():
    tap.skip('sync client against salesgetter-server', 'PostgreSQL (Debian postgresql) is not installed')
    tap.done()

PG = sgserver.Postgres.start()
SRV = sgserver.Server.start(PG, tap)
SRV.user_add('alice', 'account-manager', ['alice@us.test'])
SRV.user_add('bob', 'account-manager', ['bob@us.test'])
SRV.user_add('carl', 'manager', ['carl@us.test'])

# Strings that must never reach the server from a metadata client.
ALICE_SUBJECT = 'AliceOnlySubjectXyzzy'
ALICE_BODY = 'AliceOnlyBodyPlugh'
BOB_SUBJECT = 'BobSharedSubjectFrobnitz'
BOB_BODY = 'BobPrivateBodyQuux'
CARL_BODY = 'CarlSharedBodyWibble'


class Client:
    def __init__(self, login, share, extra='', srv=None):
        srv = srv or SRV
        self.login = login
        self.address = '%s@us.test' % login
        self.dir = sg.path(login)
        os.makedirs(self.dir, exist_ok=True)
        self.store = os.path.join(self.dir, 'store.db')
        self.maildir = sg.make_maildir(os.path.join(self.dir, 'Maildir'))
        self.token_file = os.path.join(self.dir, 'token')
        with open(self.token_file, 'w') as f:
            f.write(srv.token_new(login, device=login + '-laptop') + '\n')
        os.chmod(self.token_file, 0o600)
        self.config = os.path.join(self.dir, 'salesgetter.conf')
        sg.write_config(self.config, name=login.title(), addresses=(self.address,), internal_domains=('us.test',),
                        store=self.store, maildirs=(self.maildir,),
                        extra='\n[sync]\nserver=%s\ntoken-file=%s\nshare=%s\n%s' % (srv.url, self.token_file,
                                                                                       share, extra))

    def cli(self, *args, **kw):
        return sg.cli(*args, config=self.config, **kw)

    def mail(self, msgid, from_, to, subject, body, date, cc=()):
        sg.put(self.maildir, sg.make_message(msgid, from_, to=to, cc=cc, subject=subject, date=date, body=body))

    def imp(self):
        r = self.cli('import', self.maildir)
        tap.ok(r.rc == 0, '%s: import' % self.login, repr(r))

    def sync(self, desc=None, rc=0):
        r = self.cli('sync', '--quiet', '--format', 'json')
        tap.ok(r.rc == rc, desc or '%s: salesgetter sync exits %d' % (self.login, rc), repr(r))
        return r

    def q(self, sql):
        return sg.query(self.store, sql)

    def shared(self):
        """The shared facts every user sees, by natural keys (no subjects: share levels differ;
        without what alice keeps to herself: her internal mail and the excluded domain)."""
        private = ('int1@us.test', 'secret.test', 'dave@us.test', 'private-co.test')
        return {k: [r for r in v if not any(p in str(r) for p in private)] for k, v in self._shared().items()}

    def _shared(self):
        return {
            'orgs': self.q('SELECT domain FROM organisations ORDER BY 1'),
            'people': self.q('SELECT a.address, p.name FROM people p JOIN addresses a ON a.person_id = p.id '
                             'WHERE p.kind = \'contact\' ORDER BY 1'),
            'interactions': self.q('SELECT message_id, date_utc, direction FROM interactions ORDER BY 1'),
            'participants': self.q('SELECT i.message_id, a.address, pa.role FROM participants pa '
                                   'JOIN interactions i ON i.id = pa.interaction_id '
                                   'JOIN addresses a ON a.id = pa.address_id ORDER BY 1, 2, 3'),
            'tags': self.q('SELECT t.name, a.address FROM tag_assignments ta JOIN tags t ON t.id = ta.tag_id '
                           'JOIN addresses a ON a.person_id = ta.entity_id AND ta.entity_type = \'person\' '
                           'WHERE ta.removed = 0 ORDER BY 1, 2'),
            'roles': self.q('SELECT a.address, r.role FROM person_roles r JOIN addresses a ON a.person_id = r.person_id '
                            'WHERE r.removed = 0 ORDER BY 1, 2'),
        }

    def processes(self):
        return self.q('SELECT p.uuid, p.title, p.value_minor, p.currency, s.name FROM processes p '
                      'JOIN stages s ON s.id = p.stage_id ORDER BY 1')


T0 = 1772442000  # 2026-03-02

alice = Client('alice', 'metadata', 'exclude-domains=secret.test;\nprivate-folders=Private;\n')
bob = Client('bob', 'subjects')
carl = Client('carl', 'full')

alice.mail('a1@acme.test', 'Jane Doe <jane@acme.test>', ('Alice <alice@us.test>',), ALICE_SUBJECT,
           'Dear Alice,\n%s\n' % ALICE_BODY, T0)
alice.mail('a2@us.test', 'Alice <alice@us.test>', ('Jane Doe <jane@acme.test>',), 'Re: ' + ALICE_SUBJECT,
           'Thanks, %s\n' % ALICE_BODY, T0 + 3600, cc=('Tom Bell <tom@beta.test>',))
alice.mail('int1@us.test', 'Alice <alice@us.test>', ('Dave <dave@us.test>',), 'InternalOnlyTopic',
           'internal\n', T0 + 7200)
# A Maildir++ subfolder alice declares private (private-folders=Private): its mail never leaves.
sg.make_maildir(alice.maildir, ('.Private',))
sg.put(alice.maildir, sg.make_message('p1@private-co.test', 'Pia Vault <pia@private-co.test>', to=('Alice <alice@us.test>',),
                                      subject='PrivateFolderTopic', date=T0 + 7250, body='PrivateFolderBody\n'),
       folder='.Private')
alice.mail('x1@secret.test', 'Eve Spy <eve@secret.test>', ('Alice <alice@us.test>',), 'ExcludedDomainTopic',
           'secret\n', T0 + 7300)
bob.mail('b1@gamma.test', 'Carol King <carol@gamma.test>', ('Bob <bob@us.test>',), BOB_SUBJECT,
         'Hi Bob,\n%s\n' % BOB_BODY, T0 + 86400)
bob.mail('b2@acme.test', 'Jane Doe <jane@acme.test>', ('Bob <bob@us.test>',), 'Second opinion',
         'Bob, could you look?\n', T0 + 90000)
carl.mail('c1@delta.test', 'Dora Lee <dora@delta.test>', ('Carl <carl@us.test>',), 'Intro',
          'Hello Carl,\n%s\n' % CARL_BODY, T0 + 100000)
for c in (alice, bob, carl):
    c.imp()

# --- first sync: everyone's shared mail reaches everyone --------------------------------------

r = alice.sync()
js = json.loads(r.out) if r.rc == 0 else {}
tap.ok(js.get('pushed', 0) > 0 and js.get('withheld', 0) >= 3 and js.get('pending') == 0,
       'alice pushes her log, keeps internal-only, excluded and private-folder mail back, nothing left pending',
       repr(js))
tap.eq(alice.q("SELECT count(*) FROM interactions WHERE message_id = 'p1@private-co.test'"), [(1,)],
       'alice\'s store has the mail of her private folder')
for c in (bob, carl, alice, bob, carl):
    c.sync()
views = [c.shared() for c in (alice, bob, carl)]
tap.ok(views[0] == views[1] == views[2], 'three stores converge on the shared facts',
       json.dumps([v['interactions'] for v in views]))
ids = [m for (m, _, _) in views[1]['interactions']]
tap.ok('a1@acme.test' in ids and 'b1@gamma.test' in ids and 'c1@delta.test' in ids,
       'each store has the others\' mail', repr(ids))
tap.ok('int1@us.test' not in ids and 'x1@secret.test' not in ids and 'p1@private-co.test' not in ids,
       'internal-only mail, mail from an excluded domain and from a private folder stayed on alice\'s machine',
       repr(ids))
tap.ok(('jane@acme.test', 'Jane Doe') in views[2]['people'], 'people arrive with their names', repr(views[2]['people']))

# --- what the server's database holds -------------------------------------------------------------

dbtext = PG.scalar("SELECT string_agg(op_id || ' ' || natural_key || ' ' || fields::text, E'\\n') FROM ops")
for s, desc in ((ALICE_SUBJECT, 'alice\'s subjects (metadata)'), (ALICE_BODY, 'alice\'s bodies (metadata)'),
                (BOB_BODY, 'bob\'s bodies (subjects)'), ('InternalOnlyTopic', 'internal-only mail'),
                ('int1@us.test', 'the internal message\'s id'), ('secret.test', 'the excluded domain'),
                ('ExcludedDomainTopic', 'mail of the excluded domain'),
                ('p1@private-co.test', 'the id of mail in a private folder'),
                ('PrivateFolderTopic', 'the subject of mail in a private folder'),
                ('PrivateFolderBody', 'the body of mail in a private folder')):
    tap.ok(s not in dbtext, 'the server database never holds %s' % desc)
tap.ok(BOB_SUBJECT in dbtext, 'bob shares subjects: his subject is on the server')
tap.ok(CARL_BODY in dbtext, 'carl shares full mail: his body is on the server')
tap.eq(PG.scalar("SELECT count(*) FROM ops WHERE natural_key LIKE '%private-co.test%' "
                 "OR fields::text LIKE '%private-co.test%'"), 0,
       'nor anything about the sender known only from the private folder (person, organisation, role)')
tap.eq(PG.scalar("SELECT count(*) FROM entity_state WHERE natural_key LIKE '%private-co.test%'"), 0,
       'the server\'s merged state neither')
# Pia then writes to alice's inbox: from now on she is someone alice's team may know.
alice.mail('p2@private-co.test', 'Pia Vault <pia@private-co.test>', ('Alice <alice@us.test>',), 'Open offer',
           'offer\n', T0 + 7260)
alice.imp()
alice.sync('alice syncs after mail from the same sender outside the private folder')
tap.eq(PG.rows("SELECT entity, natural_key, fields->>'name' FROM ops WHERE entity IN ('person', 'organisation') "
               "AND natural_key LIKE '%private-co.test' ORDER BY 1"),
       [['organisation', 'private-co.test', 'Private Co'], ['person', 'pia@private-co.test', 'Pia Vault']],
       'then her person and organisation reach the server (held back until then, not dropped)')
dbtext = PG.scalar("SELECT string_agg(natural_key || ' ' || fields::text, E'\\n') FROM ops")
tap.ok('p2@private-co.test' in dbtext and 'p1@private-co.test' not in dbtext and 'PrivateFolderTopic' not in dbtext,
       'her inbox mail goes; the private folder\'s mail still does not')
bob.sync()
tap.eq(bob.q("SELECT p.name FROM people p JOIN addresses a ON a.person_id = p.id WHERE a.address = 'pia@private-co.test'"),
       [('Pia Vault',)], 'bob\'s store gets her with her name')
state = PG.scalar("SELECT count(*) FROM entity_state WHERE entity = 'interaction' AND fields ? 'subject' "
                  "AND natural_key LIKE '%acme.test' AND natural_key LIKE 'a%'")
tap.eq(int(state), 0, 'no subject in the server\'s merged state for alice\'s mail')
r = bob.q("SELECT subject FROM interactions WHERE message_id = 'b1@gamma.test'")
carl_subject = carl.q("SELECT subject FROM interactions WHERE message_id = 'b1@gamma.test'")
tap.eq(carl_subject, [(BOB_SUBJECT,)], 'a subject bob shares arrives in carl\'s store')
tap.eq(carl.q("SELECT subject FROM interactions WHERE message_id = 'a1@acme.test'"), [(None,)],
       'alice\'s subject does not')
tap.ok(carl.q("SELECT count(*) FROM sync_bodies WHERE body LIKE '%%%s%%'" % CARL_BODY) == [(0,)]
       and alice.q("SELECT count(*) FROM sync_bodies WHERE body LIKE '%%%s%%'" % CARL_BODY) == [(1,)],
       'carl\'s shared body is kept by the others (not echoed into his own store)')

# --- offline edits on all three, then convergence -----------------------------------------------

r = alice.cli('process', 'new', '--org', 'acme.test', '--deliverable', 'Demand forecast', '--owner', 'alice@us.test')
tap.ok(r.rc == 0, 'alice opens a sales process', repr(r))
uuid = r.out.strip().split()[-1] if r.rc == 0 else 'none'
for c in (alice, carl):
    c.sync()
tap.eq([p[0] for p in carl.processes()], [uuid], 'the manager sees alice\'s process')
tap.eq(bob.processes(), [], 'another account manager does not')

# Offline: the same field on alice and carl, tags and roles on all three.
r1 = alice.cli('process', 'set', uuid, 'title', 'Alice title')
r2 = alice.cli('process', 'move', uuid, 'qualified')
r3 = alice.cli('tags', 'add', 'jane@acme.test', 'vip')
r4 = alice.cli('role', 'set', 'jane@acme.test', 'lead')
tap.ok(all(x.rc == 0 for x in (r1, r2, r3, r4)), 'alice edits offline', repr((r1, r2, r3, r4)))
time.sleep(0.01)
r1 = carl.cli('process', 'set', uuid, 'title', 'Carl title')
r2 = carl.cli('process', 'move', uuid, 'proposal')
r3 = bob.cli('tags', 'add', 'jane@acme.test', 'hot')
r4 = bob.cli('role', 'set', 'jane@acme.test', 'prospect')
tap.ok(all(x.rc == 0 for x in (r1, r2, r3, r4)), 'carl and bob edit offline, later', repr((r1, r2, r3, r4)))
for c in (bob, carl, alice, bob, carl, alice):
    c.sync()
views = [c.shared() for c in (alice, bob, carl)]
tap.ok(views[0] == views[1] == views[2], 'after offline edits on all three, the shared facts converge',
       json.dumps([[v['tags'], v['roles']] for v in views]))
tap.eq(views[0]['tags'], [('hot', 'jane@acme.test'), ('vip', 'jane@acme.test')], 'both tags kept (add-wins)')
tap.eq([r for r in views[0]['roles'] if r[0] == 'jane@acme.test' and r[1] != 'suspect'],
       [('jane@acme.test', 'lead'), ('jane@acme.test', 'prospect')], 'both roles kept (add-wins)')
pa, pc = alice.processes(), carl.processes()
tap.ok(pa == pc and pa and pa[0][1] == 'Carl title' and pa[0][4] == 'proposal',
       'the process converges on the later writer\'s title and stage', repr((pa, pc)))
hist = [alice.q('SELECT count(*) FROM stage_history')[0][0], carl.q('SELECT count(*) FROM stage_history')[0][0]]
tap.eq(hist, [3, 3], 'the stage history has every move once on both (open, two moves)')
for c in (alice, bob, carl):
    dev = c.q("SELECT value FROM store_meta WHERE key = 'device_id'")[0][0]
    tap.eq(c.q("SELECT count(*) FROM changes WHERE device <> '%s'" % dev), [(0,)],
           '%s: pulled ops are not logged again (no echo)' % c.login)

# --- sets: observed-remove, add-wins (schema/sync.md "Sets, add-wins") ---------------------------


def org_tags(c):
    return sorted(r[0] for r in c.q(
        "SELECT t.name FROM tag_assignments ta JOIN tags t ON t.id = ta.tag_id JOIN org_domains d "
        "ON d.org_id = ta.entity_id WHERE ta.entity_type = 'organisation' AND d.domain = 'acme.test' "
        "AND ta.removed = 0"))


def pg_present(tag):
    return PG.scalar("SELECT present FROM set_members WHERE entity = 'tag_assignment' "
                     "AND natural_key = 'organisation:acme.test/%s'" % tag)


def tag_ops(c, tag, op):
    return [r[0] for r in c.q("SELECT hlc FROM changes WHERE entity = 'tag_assignment' AND op = '%s' "
                              "AND natural_key = 'organisation:acme.test/%s' ORDER BY seq" % (op, tag))]


r = alice.cli('tags', 'add', 'acme.test', 'renewal')
tap.ok(r.rc == 0, 'alice tags acme.test renewal', repr(r))
alice.sync()
bob.sync()
tap.ok('renewal' in org_tags(bob), 'bob has the tag', repr(org_tags(bob)))
# alice, not having pulled since, takes the tag off and puts it on again (a new add); bob,
# later in real time, removes the tag he saw: his removal is stamped after alice's new add,
# but had not seen it.
r1 = alice.cli('tags', 'remove', 'acme.test', 'renewal')
r2 = alice.cli('tags', 'add', 'acme.test', 'renewal')
time.sleep(0.01)
r3 = bob.cli('tags', 'remove', 'acme.test', 'renewal')
tap.ok(all(x.rc == 0 for x in (r1, r2, r3)), 'alice re-adds the tag offline; bob removes it, later',
       repr((r1, r2, r3)))
bob_remove = bob.q("SELECT hlc, json_extract(fields, '$.seen') FROM changes WHERE entity = 'tag_assignment' "
                   "AND op = 'remove' AND natural_key = 'organisation:acme.test/renewal'")
alice_adds = tag_ops(alice, 'renewal', 'add')
tap.ok(len(alice_adds) == 2 and len(bob_remove) == 1 and bob_remove[0][0] > alice_adds[1]
       and bob_remove[0][1] == '%016x' % alice_adds[0],
       'bob\'s removal is stamped after alice\'s new add and carries the add it saw (alice\'s first) as seen',
       repr((bob_remove, alice_adds)))
for c in (bob, alice, bob, carl):
    c.sync()
tap.eq((org_tags(alice), org_tags(bob), org_tags(carl), pg_present('renewal')),
       (['renewal'], ['renewal'], ['renewal'], True),
       'the add bob had not seen wins: the tag is on in the three stores and in the server\'s set_members')
tap.eq(PG.scalar("SELECT fields->>'seen' FROM ops WHERE entity = 'tag_assignment' AND op = 'remove' "
                 "AND natural_key = 'organisation:acme.test/renewal' AND user_id = (SELECT id FROM users "
                 "WHERE login = 'bob')"), '%016x' % alice_adds[0], 'the server keeps bob\'s removal with its seen')
# The plain case: bob removes a tag after seeing its only add: off everywhere.
r = alice.cli('tags', 'add', 'acme.test', 'lapsed')
tap.ok(r.rc == 0, 'alice tags acme.test lapsed', repr(r))
alice.sync()
bob.sync()
r = bob.cli('tags', 'remove', 'acme.test', 'lapsed')
tap.ok(r.rc == 0 and 'lapsed' not in org_tags(bob), 'bob, having pulled it, removes it', repr(r))
for c in (bob, alice, carl):
    c.sync()
tap.eq(('lapsed' in org_tags(alice), 'lapsed' in org_tags(bob), 'lapsed' in org_tags(carl), pg_present('lapsed')),
       (False, False, False, False), 'a removal that saw the add: the tag is off in the three stores and on the server')

# --- meetings (with attendees), pipelines (with stages), signature facts, a person found to be a list

def ics(seq, stamp, start, summary, attendees):
    lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//sg e2e//EN', 'BEGIN:VEVENT', 'UID:demo-9@acme.test',
             'SEQUENCE:%d' % seq, 'DTSTAMP:%s' % stamp, 'DTSTART:%s' % start, 'DURATION:PT1H',
             'SUMMARY:%s' % summary, 'ORGANIZER;CN=Jane Doe:mailto:jane@acme.test']
    lines += ['ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:%s' % a for a in attendees]
    lines += ['END:VEVENT', 'END:VCALENDAR', '']
    return '\r\n'.join(lines)


def import_file(c, name, text):
    path = os.path.join(c.dir, name)
    with open(path, 'w') as f:
        f.write(text)
    r = c.cli('import', path)
    tap.ok(r.rc == 0, '%s: import %s' % (c.login, name), repr(r))


def pipelines(c, text):
    with open(os.path.join(c.dir, 'pipelines.conf'), 'w') as f:
        f.write(text)
    r = c.cli('process', 'stages', '--apply')
    tap.ok(r.rc == 0, '%s: applies a pipelines file' % c.login, repr(r))


def meeting_view(c):
    return (c.q('SELECT m.uid, m.recurrence_id, m.start_utc, m.end_utc, m.sequence, m.dtstamp, a.address '
                'FROM meetings m LEFT JOIN addresses a ON a.id = m.organizer_id ORDER BY 1, 2'),
            c.q('SELECT m.uid, a.address, ma.role FROM meeting_attendees ma JOIN meetings m ON m.id = ma.meeting_id '
                'JOIN addresses a ON a.id = ma.address_id ORDER BY 1, 2, 3'),
            c.q("SELECT p.name, p.description, s.name, s.position, s.kind, s.retired FROM pipelines p "
                "JOIN stages s ON s.pipeline_id = p.id WHERE p.name = 'consulting' ORDER BY 4"),
            c.q('SELECT a.address, f.kind, f.detail, f.value, f.first_seen, f.observed FROM person_facts f '
                'JOIN addresses a ON a.person_id = f.person_id ORDER BY 1, 2, 3, 4'),
            c.q("SELECT address, person_id FROM addresses WHERE kind = 'list' ORDER BY 1"))


CONSULTING = ('[pipeline consulting]\ndescription=%s\nstages=%s\n[stage consulting/won]\nkind=won\n'
              '[stage consulting/lost]\nkind=lost\n')
import_file(alice, 'demo-v0.ics', ics(0, '20260301T090000Z', '20260310T140000Z', 'AliceMeetingSecret',
                                      ['alice@us.test', 'tom@beta.test']))
pipelines(alice, CONSULTING % ('Consulting deals', 'lead;proposal;won;lost'))
SIG = '\n\nBest regards,\nAnn Smith\n%s\nAcme GmbH\nMobile: 0170 1234567\n'
carl.mail('s1@acme.test', 'Ann Smith <ann@acme.test>', ('Carl <carl@us.test>',), 'Tender',
          'Dear Carl,\n\nour tender opens next week.' + SIG % 'Head of Procurement', T0 + 400000)
carl.mail('s2@acme.test', 'Ann Smith <ann@acme.test>', ('Carl <carl@us.test>',), 'Tender questions',
          'Hello,\n\nquestions are due Friday.' + SIG % 'Chief Procurement Officer', T0 + 500000)
carl.imp()
bob.mail('n1@acme.test', 'Pat Weekly <pat@acme.test>', ('Bob <bob@us.test>',), 'Acme weekly', 'News.\n', T0 + 400000)
bob.imp()
for c in (alice, bob, carl, alice, bob, carl):
    c.sync()
mv = [meeting_view(c) for c in (alice, bob, carl)]
tap.ok(mv[0] == mv[1] == mv[2], 'meetings with attendees, pipelines with stages and facts converge', repr(mv))
tap.ok(mv[1][0] and mv[1][0][0][0] == 'demo-9@acme.test' and ('demo-9@acme.test', 'tom@beta.test', 'attendee')
       in mv[1][1], 'alice\'s meeting reaches bob with its attendees', repr(mv[1][:2]))
tap.eq([s[2] for s in mv[2][2]], ['lead', 'proposal', 'won', 'lost'], 'alice\'s pipeline reaches carl with its stages')
tap.ok(('ann@acme.test', 'title', '', 'Chief Procurement Officer') in [f[:4] for f in mv[0][3]]
       and ('ann@acme.test', 'title', '', 'Head of Procurement') in [f[:4] for f in mv[0][3]],
       'carl\'s signature facts (title history) reach alice', repr(mv[0][3]))
tap.eq(bob.q("SELECT summary FROM meetings"), [(None,)], 'alice shares metadata: her meeting has no summary elsewhere')
tap.ok('AliceMeetingSecret' not in PG.scalar("SELECT string_agg(fields::text, ' ') FROM ops"),
       'the server database never holds the summary of a metadata client\'s meeting')
r = alice.cli('show', 'ann@acme.test', '--facts', '--format', 'csv')
tap.ok(r.rc == 0 and 'Chief Procurement Officer' in r.out and 'Head of Procurement' not in r.out,
       'salesgetter show --facts on alice\'s store: Ann\'s current title, from carl\'s mail', repr(r))

# Offline on all three: alice and bob (later) take version 1 of the invitation; bob redefines
# the pipeline; bob learns pat@ is a mailing list while alice gets more of its mail.
import_file(alice, 'demo-v1.ics', ics(1, '20260305T090000Z', '20260312T140000Z', 'Demo moved',
                                      ['alice@us.test', 'dora@delta.test']))
time.sleep(0.01)
import_file(bob, 'demo-v1b.ics', ics(1, '20260305T090000Z', '20260312T150000Z', 'Demo on Thursday',
                                     ['alice@us.test', 'bob@us.test', 'carol@gamma.test']))
pipelines(bob, CONSULTING % ('Consulting (Bob)', 'lead;qualified;proposal;won;lost'))
bob.mail('n2@acme.test', 'Pat Weekly <pat@acme.test>', ('Bob <bob@us.test>',), 'Acme weekly 2', 'News.\n',
         T0 + 500000)
sg.put(bob.maildir, sg.make_message('n3@acme.test', 'Pat Weekly <pat@acme.test>', to=('Bob <bob@us.test>',),
                                    subject='Acme weekly 3', date=T0 + 510000, body='News.\n',
                                    headers=[('List-Post', '<mailto:pat@acme.test>'),
                                             ('List-Id', '<pat.acme.test>')]))
bob.imp()
time.sleep(0.01)
alice.mail('n4@acme.test', 'Pat Weekly Smith <pat@acme.test>', ('Alice <alice@us.test>',), 'Acme weekly 4',
           'News.\n', T0 + 520000)
alice.imp()
tap.eq(bob.q("SELECT count(*) FROM changes WHERE entity = 'person' AND op = 'delete' "
             "AND natural_key = 'pat@acme.test'"),
       [(1,)], 'bob\'s store logs the person delete of a list address')
for c in (carl, bob, alice, carl, bob, alice):
    c.sync()
mv = [meeting_view(c) for c in (alice, bob, carl)]
tap.ok(mv[0] == mv[1] == mv[2], 'after offline edits on all three, meetings, pipelines, facts and lists converge',
       repr(mv))
tap.ok(('demo-9@acme.test', 'carol@gamma.test', 'attendee') in mv[0][1]
       and ('demo-9@acme.test', 'dora@delta.test', 'attendee') not in mv[0][1]
       and mv[0][0][0][2] == 1773327600, 'the same meeting version: the later writer\'s time and attendees win',
       repr(mv[0][:2]))
tap.eq(carl.q("SELECT summary FROM meetings"), [('Demo on Thursday',)], 'bob shares subjects: his summary')
tap.eq([s[2] for s in mv[0][2]], ['lead', 'qualified', 'proposal', 'won', 'lost'],
       'the later pipeline definition wins on every store')
tap.ok(mv[0][4] == [('pat@acme.test', None)]
       and all(c.q("SELECT count(*) FROM addresses a JOIN people p ON p.id = a.person_id "
                   "WHERE a.address = 'pat@acme.test'") == [(0,)] for c in (alice, bob, carl)),
       'the list address is no person on any store, even after alice saw a newer name', repr(mv[0][4]))
tap.ok(all(c.q("SELECT count(*) FROM participants pa JOIN addresses a ON a.id = pa.address_id "
               "WHERE a.address = 'pat@acme.test'")[0][0] >= 2 for c in (alice, bob, carl)),
       'its interactions stay, through the address')
for c in (alice, bob, carl):
    dev = c.q("SELECT value FROM store_meta WHERE key = 'device_id'")[0][0]
    tap.eq(c.q("SELECT count(*) FROM changes WHERE device <> '%s'" % dev), [(0,)],
           '%s: pulled meetings, pipelines, facts are not logged again' % c.login)

# --- an op the server refuses: another user's process --------------------------------------------

r = bob.cli('process', 'new', '--org', 'gamma.test', '--deliverable', 'Pricing study', '--owner', 'alice@us.test')
tap.ok(r.rc == 0, 'bob opens a process owned by alice', repr(r))
buuid = r.out.strip().split()[-1] if r.rc == 0 else 'none'
bob.sync()
r = bob.cli('process', 'set', buuid, 'title', 'Bob renames it')
bob.sync()
r = bob.cli('sync', '--format', 'json')
js = json.loads(r.out) if r.out else {}
rows = json.loads(bob.cli('sync', '--status', '--format', 'json').out or '[]')
team = [x for x in rows if x.get('account') == 'team-server']
# (The server refuses the creation itself: a non-manager may not make a process for another user.)
tap.ok(team and team[0]['state'] == 'ok' and 'alice' in (team[0]['last_error'] or '') and team[0]['pending'] == 0,
       'an op the server refuses is not pushed again, and sync --status names why', repr(team))
tap.eq(bob.q("SELECT count(*) FROM changes WHERE acked = 3")[0][0], 1, 'bob\'s store marks it refused')

# --- status ---------------------------------------------------------------------------------------

r = alice.cli('sync', '--status', '--format', 'json')
rows = json.loads(r.out) if r.rc == 0 else []
team = [x for x in rows if x.get('account') == 'team-server']
tap.ok(len(team) == 1 and team[0]['state'] == 'ok' and team[0]['pending'] == 0 and team[0]['last_success'],
       'sync --status: the team server row, ok, nothing pending', repr(rows))

# --- the server killed in the middle of a sync, then restarted ------------------------------------

for i in range(400):
    alice.mail('bulk%d@acme.test' % i, 'Jane Doe <jane@acme.test>', ('Alice <alice@us.test>',), 'Update %d' % i,
               'text\n', T0 + 200000 + i)
alice.imp()
pending = alice.q('SELECT count(*) FROM changes WHERE acked = 0')[0][0]
SRV.proc.send_signal(signal.SIGSTOP)  # the request is sent, the answer never comes
p = subprocess.Popen([sg.CLI, '--config', alice.config, 'sync', '--quiet'], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True, env=sg.child_env())
time.sleep(1.0)
SRV.proc.send_signal(signal.SIGKILL)
out, err = p.communicate(timeout=120)
SRV.proc.wait()
tap.ok(p.returncode == 1 and 'sync:' in err, 'the server killed mid-sync: sync fails with exit status 1',
       repr((p.returncode, err)))
tap.eq(alice.q('SELECT count(*) FROM changes WHERE acked = 0')[0][0], pending,
       'nothing is marked acknowledged that the server did not acknowledge')
r = alice.cli('sync', '--status', '--format', 'json')
team = [x for x in json.loads(r.out) if x.get('account') == 'team-server'] if r.rc == 0 else []
tap.ok(team and team[0]['state'] == 'failing' and team[0]['last_error'] and team[0]['pending'] == pending,
       'sync --status shows the failure and what is pending', repr(team))
SRV.spawn()
r = alice.sync('after the restart, sync resumes and succeeds')
tap.eq(alice.q('SELECT count(*) FROM changes WHERE acked = 0')[0][0], 0, 'nothing left to push')
pushed = {row[0] for row in alice.q('SELECT op_id FROM changes WHERE acked = 1')}
dev = alice.q("SELECT value FROM store_meta WHERE key = 'device_id'")[0][0]
server_ids = [row[0] for row in PG.rows("SELECT op_id FROM ops WHERE device = '%s'" % dev)]
tap.ok(set(server_ids) == pushed, 'every op alice pushed is on the server, none lost',
       '%d on the server, %d acked' % (len(set(server_ids)), len(pushed)))
tap.eq(len(server_ids), len(set(server_ids)), 'and none twice')
carl.sync()
tap.eq(carl.q("SELECT count(*) FROM interactions WHERE message_id LIKE 'bulk%'")[0][0], 400,
       'carl pulls all of them')

# --- the daemon syncs too (--once) ------------------------------------------------------------------

bob.mail('b3@gamma.test', 'Carol King <carol@gamma.test>', ('Bob <bob@us.test>',), 'Daemon mail', 'x\n',
         T0 + 300000)
r = sg.run([sg.SYNCD, '--config', bob.config, '--once'], env=sg.child_env(), timeout=120)
tap.ok(r.rc == 0, 'salesgetter-syncd --once', repr(r))
tap.eq(PG.scalar("SELECT count(*) FROM ops WHERE natural_key = 'b3@gamma.test'"), 1,
       'the daemon captured the mail and pushed it to the server')

# --- alice raises her share level, then lowers it -------------------------------------------------

def set_share(c, level):
    with open(c.config) as f:
        text = f.read()
    with open(c.config, 'w') as f:
        f.write(re.sub(r'(?m)^share=.*$', 'share=' + level, text))


tap.ok(ALICE_SUBJECT not in PG.scalar("SELECT string_agg(fields::text, ' ') FROM ops"),
       'before: alice\'s subjects are not on the server')
set_share(alice, 'subjects')
r = alice.sync('alice syncs after raising her share level to subjects')
js = json.loads(r.out) if r.rc == 0 and r.out else {}
dbtext = PG.scalar("SELECT string_agg(fields::text, ' ') FROM ops")
tap.ok(ALICE_SUBJECT in dbtext and ALICE_BODY not in dbtext and 'InternalOnlyTopic' not in dbtext
       and 'ExcludedDomainTopic' not in dbtext,
       'raised to subjects: her earlier subjects reach the server; bodies, internal and excluded mail do not')
carl.sync()
tap.eq(carl.q("SELECT subject FROM interactions WHERE message_id = 'a1@acme.test'"), [(ALICE_SUBJECT,)],
       'carl\'s store gets the subject alice now shares')
set_share(alice, 'metadata')
r = alice.sync('alice syncs after lowering it again')
js = json.loads(r.out) if r.rc == 0 and r.out else {}
tap.eq(js.get('pushed'), 0, 'lowering the share level resends nothing')

# --- bad tokens ----------------------------------------------------------------------------------------

bad = Client('bob', 'metadata')  # a second token for bob, revoked below
tok_id = PG.scalar("SELECT max(id) FROM tokens")
SRV.admin('token', 'revoke', str(tok_id))
r = bad.cli('sync', '--quiet')
tap.ok(r.rc == 4 and '401' in r.err, 'a revoked token: exit status 4, the server\'s 401 named', repr(r))
os.chmod(bad.token_file, 0o644)
r = bad.cli('sync', '--quiet')
tap.ok(r.rc == 2 and bad.token_file in r.err and '600' in r.err,
       'a token file others can read is refused, naming it', repr(r))

# --- a server that says "too many requests" --------------------------------------------------------------
# A server allowing one request a minute (a burst of one). Erin's bucket is emptied by hand; her
# sync then gets a 429. That is not a refusal of what was sent: the ops stay pending, the
# failure shows in sync --status, and after the limit is gone (the limits live in the server
# process: a restart clears them) the same ops are pushed, once.
SLOW = sgserver.Server.start(PG, tap, extra_conf='[limits]\nsync-per-minute = 1\nsync-burst = 1\n')
SLOW.user_add('erin', 'account-manager', ['erin@us.test'])
erin = Client('erin', 'metadata', srv=SLOW)
erin.mail('e2@acme.test', 'Pat <pat@acme.test>', [erin.address], 'Hello Erin', 'body', T0)
erin.imp()
with open(erin.token_file) as f:
    erin_token = f.read().strip()
statuses = []
while len(statuses) < 10 and 429 not in statuses:
    statuses.append(sgserver.sync(SLOW.url, erin_token, 'erin-laptop')[0])
tap.ok(statuses[-1] == 429, 'the server answers 429 once the burst is used', repr(statuses))
pending = erin.q('SELECT count(*) FROM changes WHERE acked = 0')[0][0]
r = erin.cli('sync', '--quiet')
tap.ok(r.rc == 1 and 'HTTP 429' in r.err and 'try again in' in r.err,
       'salesgetter sync then: exit 1 (try later, not refused), the 429 and when to retry named', repr(r))
tap.eq((erin.q('SELECT count(*) FROM changes WHERE acked = 0')[0][0],
        erin.q('SELECT count(*) FROM changes WHERE acked = 3')[0][0]), (pending, 0),
       'nothing is marked refused: the ops are still to push')
st = {row['kind']: row for row in json.loads(erin.cli('sync', '--status', '--format', 'json').out or '[]')}
tap.ok('429' in (st.get('team', {}).get('last_error') or ''), 'sync --status shows the 429', repr(st))
SLOW.stop()
SLOW.spawn()
r = erin.cli('sync', '--quiet')
tap.eq((r.rc, erin.q('SELECT count(*) FROM changes WHERE acked = 0')[0][0]), (0, 0),
       'with the limit gone, the same ops go through')
tap.eq(PG.scalar("SELECT count(*) FROM ops WHERE entity = 'interaction' AND natural_key = 'e2@acme.test'"), 1,
       'and reach the server once')
SLOW.stop()

# --- several round trips, the second refused (pipelined requests) ----------------------------------
# The client builds request k+1 while the server works on k and sends it as soon as answer k
# arrives, before applying it. With one request a minute allowed, request 2 gets a 429 while
# answer 1 is applied: exactly the ops of request 1 (5000, the most a request holds) are marked
# acknowledged, the others stay pending, and the puller keeps the cursor of its first page
# only; after a restart both resume, nothing lost or twice.
SLOW = sgserver.Server.start(PG, tap, extra_conf='[limits]\nsync-per-minute = 1\nsync-burst = 1\n')
SLOW.user_add('fay', 'account-manager', ['fay@us.test'])
SLOW.user_add('gil', 'manager', ['gil@us.test'])
fay = Client('fay', 'metadata', srv=SLOW)
gil = Client('gil', 'metadata', 'private-folders=Private;\n', srv=SLOW)
# gil knows one person only from a private folder: withheld (acked 4), looked at again by the
# first request of each sync, never left pending by the requests built after it.
sg.make_maildir(gil.maildir, ('.Private',))
sg.put(gil.maildir, sg.make_message('q1@gil-private.test', 'Quin Hidden <quin@gil-private.test>',
                                    to=('Gil <gil@us.test>',), subject='Hidden', date=T0, body='x\n'),
       folder='.Private')
gil.imp()
mbox = os.path.join(fay.dir, 'bulk.mbox')
with open(mbox, 'w') as f:
    for i in range(1300):  # each: an interaction, a person, a role, a lead-source credit; an organisation per ten
        f.write('From x@x Mon Mar  2 09:00:00 2026\nFrom: Buyer %d <b%d@fay%d.test>\nTo: Fay <fay@us.test>\n'
                'Subject: s %d\nMessage-ID: <fay%d@fay.test>\nDate: Mon, 02 Mar 2026 09:00:00 +0000\n\nx\n\n'
                % (i, i, i // 10, i, i))
r = fay.cli('import', '-q', mbox)
tap.ok(r.rc == 0, 'fay: import of 1300 messages', repr(r))
total = fay.q('SELECT count(*) FROM changes WHERE acked = 0')[0][0]
tap.ok(5000 < total <= 10000, 'fay has between one and two requests of ops to push', repr(total))
r = fay.cli('sync', '--quiet')
tap.ok(r.rc == 1 and 'HTTP 429' in r.err, 'fay: the second request is refused (429)', repr(r))
fay_dev = fay.q("SELECT value FROM store_meta WHERE key = 'device_id'")[0][0]
acked = {row[0] for row in fay.q('SELECT op_id FROM changes WHERE acked = 1')}
first = [row[0] for row in fay.q('SELECT op_id FROM changes ORDER BY seq LIMIT 5000')]
on_server = [row[0] for row in PG.rows("SELECT op_id FROM ops WHERE device = '%s'" % fay_dev)]
tap.ok(acked == set(first) == set(on_server) and len(on_server) == 5000,
       'the first request\'s 5000 ops, and only they, are on the server and marked acknowledged',
       '%d acked, %d on the server' % (len(acked), len(on_server)))
tap.eq(fay.q('SELECT count(*) FROM changes WHERE acked = 0')[0][0], total - 5000, 'the rest is still to push')
SLOW.stop()
SLOW.spawn()
r = fay.cli('sync', '--quiet')
tap.eq((r.rc, fay.q('SELECT count(*) FROM changes WHERE acked = 0')[0][0]), (0, 0),
       'fay: after the restart the rest goes through')
on_server = [row[0] for row in PG.rows("SELECT op_id FROM ops WHERE device = '%s'" % fay_dev)]
tap.ok(len(on_server) == len(set(on_server)) == total, 'every op of fay on the server, once',
       '%d rows, %d distinct, %d logged' % (len(on_server), len(set(on_server)), total))
# gil pulls more than a page: the first applied, the second request refused.
r = gil.cli('sync', '--quiet')
tap.ok(r.rc == 1 and 'HTTP 429' in r.err, 'gil: the second pull request is refused (429)', repr(r))
cursor = gil.q("SELECT value FROM store_meta WHERE key = 'sync_cursor'")
page_end = PG.scalar('SELECT seq FROM ops ORDER BY seq OFFSET 4999 LIMIT 1')
tap.eq([tuple(x) for x in cursor], [('s%s' % page_end,)],
       'gil keeps the cursor of the page applied, not of the page refused')
# fay's log ends with the people's roles: the first page has some of them, not all.
FAY_ROLES = ("SELECT count(*) FROM person_roles r JOIN addresses a ON a.person_id = r.person_id "
             "WHERE a.address LIKE 'b%@fay%.test'")
n1 = gil.q(FAY_ROLES)[0][0]
tap.ok(0 < n1 < 1300, 'gil has part of what fay pushed (roles: the end of her log)', repr(n1))
SLOW.stop()
SLOW.spawn()
r = gil.cli('sync', '--quiet')
tap.ok(r.rc == 0, 'gil: after the restart the pull resumes', repr(r))
tap.eq((gil.q("SELECT count(*) FROM interactions WHERE message_id LIKE 'fay%@fay.test'")[0][0],
        gil.q("SELECT count(*) FROM addresses a JOIN people p ON p.id = a.person_id WHERE a.address LIKE 'b%@fay%.test'")[0][0],
        gil.q(FAY_ROLES)[0][0]),
       (1300, 1300, 1300), 'gil has every message, person and role of fay\'s')
SLOW.stop()
SLOW.spawn()  # the limit cleared
r = gil.cli('sync', '--quiet')  # nothing to push or pull
tap.eq((r.rc, gil.q("SELECT DISTINCT acked FROM changes WHERE natural_key = 'quin@gil-private.test'"),
        gil.q('SELECT count(*) FROM changes WHERE acked = 0')[0][0]), (0, [(4,)], 0),
       'gil syncs again: the person known only from his private folder is still withheld, nothing left pending')
SLOW.stop()

tap.done()
