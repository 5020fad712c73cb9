#!/usr/bin/env python3
"""End-to-end tests of what the text says (issue 9) through the real CLI: signature and vCard
facts shown by `show` with their history, topics with TF-IDF weights and their messages,
taxonomy tags and `topics --recompute`, `import --no-content`, and bad input (HTML bomb,
unknown charset, 50 MB text part, 500-line signature, broken vCard) stored with a warning
naming the file and with bounded output; topic tags selectable with `select`; a German
synonym in the taxonomy; the running daemon storing the same facts and topics as import."""

import json
import os
import sqlite3
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest as sg  # noqa: E402

tap = sg.start(sg.Tap())

ME = 'Me Myself <me@ourco.example>'
T0 = 1770000000  # 2026-02-02

STORE = sg.path('store.db')
TAX = sg.path('taxonomy')
with open(TAX, 'w') as f:
    f.write('[forecasting]\nphrases = forecast; demand planning\n'
            '[procurement]\nkind = interest\nphrases = tender; procurement; Ausschreibung\nmin-messages = 2\n')
CONF = sg.write_config(sg.path('salesgetter.conf'), extra='[topics]\ntaxonomy=%s\n' % TAX)
MD = sg.make_maildir(sg.path('Maildir'))

SIG_OLD = ('Best regards,\nAnn Smith\nHead of Procurement\nAcme Research GmbH\nHauptstraße 5\n'
           '10115 Berlin\nMobile: +49 (0)170 1234567\nwww.acme-research.de\n')
SIG_NEW = SIG_OLD.replace('Head of Procurement', 'Chief Procurement Officer')


def mime(msgid, from_, subject, date, parts, headers=()):
    """A multipart/mixed message of (content-type, transfer-encoding, body-bytes) parts."""
    h = ['From: %s' % from_, 'To: %s' % ME, 'Subject: %s' % subject, 'Date: %s' % sg.fmt_date(date),
         'Message-ID: <%s>' % msgid, 'MIME-Version: 1.0'] + list(headers)
    out = ('\r\n'.join(h) + '\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n').encode()
    for ctype, cte, body in parts:
        out += ('--b0\r\nContent-Type: %s\r\nContent-Transfer-Encoding: %s\r\n\r\n' % (ctype, cte)).encode()
        out += body + b'\r\n'
    return out + b'--b0--\r\n'


FILES = {}
FILES['t1'] = sg.put(MD, sg.make_message(
    't1@acme-research.de', 'Ann Smith <ann@acme-research.de>', subject='Tender for demand forecasting',
    date=T0, body='Hello,\n\nour tender for demand forecasting opens next week. The forecast '
    'horizon is 24 months.\n\n' + SIG_OLD))
FILES['t2'] = sg.put(MD, sg.make_message(
    't2@acme-research.de', 'Ann Smith <ann@acme-research.de>', subject='Re: Tender questions',
    date=T0 + 86400 * 7, body='Questions about the tender are due on Friday.\n\n' + SIG_NEW +
    '\nOn Mon, Me Myself <me@ourco.example> wrote:\n> Can you send the forecast?\n> -- \n> Me Myself\n'
    '> Sales Director, OurCo Inc\n> Tel: +1 555 0100 999\n'))
# A vCard (3.0) from another person, in an HTML-only message.
FILES['v1'] = sg.put(MD, mime(
    'v1@globex.com', 'Hank Scorpio <hank@globex.com>', 'My card', T0 + 3600,
    [('text/html; charset=utf-8', '8bit', b'<p>Here is my <b>card</b> for the volcano project.</p>'),
     ('text/vcard; name="hank.vcf"', '8bit',
      b'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Hank Scorpio\r\nTITLE:CEO\r\nORG:Globex Corporation\r\n'
      b'TEL;TYPE=CELL:+1 555 010 2000\r\nEND:VCARD')]))

# German mail naming the procurement tag's German synonym, inflected ("Ausschreibungen").
FILES['g1'] = sg.put(MD, sg.make_message(
    'g1@beispiel.de', 'Jörg Weber <joerg@beispiel.de>', subject='Ausschreibung Rechenzentrum',
    date=T0 + 7200, body='Guten Tag,\n\ndie Ausschreibung für das Rechenzentrum ist veröffentlicht. '
    'Die Unterlagen zur Ausschreibung finden Sie im Portal.\n\nMit freundlichen Grüßen\nJörg Weber\n'))
FILES['g2'] = sg.put(MD, sg.make_message(
    'g2@beispiel.de', 'Jörg Weber <joerg@beispiel.de>', subject='Fragen zu den Ausschreibungen',
    date=T0 + 86400 + 7200, body='Hallo,\n\nFragen zu den Ausschreibungen bitte bis Freitag.\n\n'
    'Mit freundlichen Grüßen\nJörg Weber\n'))

# List mail: its topics count, but the importer stores no facts from bulk mail (the person
# is a contact through a direct message without a signature).
FILES['l1'] = sg.put(MD, sg.make_message(
    'l1@initrode.example', 'Lisa Turner <lisa@initrode.example>', subject='Quick question', date=T0 + 9000,
    body='Do you have a minute on Friday?\n\nLisa\n'))
FILES['l2'] = sg.put(MD, sg.make_message(
    'l2@initrode.example', 'Lisa Turner <lisa@initrode.example>', subject='[users] Warehouse scanners',
    date=T0 + 9600, headers=[('List-Id', 'Users <users.lists.example>'), ('Precedence', 'list')],
    body='Our warehouse scanners drop the warehouse inventory feed.\n\n-- \nLisa Turner\n'
    'VP Sales, Initrode Inc\nTel: +1 555 0100 123\n'))

# Bad input: each message must be stored, with a warning naming its file.
bomb = b'<html><body>' + b'<div>' * 300000 + b'deep' + b'<table>' + b'<tr><td>x</td></tr>' * 50000
FILES['bomb'] = sg.put(MD, mime('bomb@evil.example', 'Eve <eve@evil.example>', 'HTML bomb', T0 + 10,
                                [('text/html; charset=utf-8', '8bit', bomb)]))
FILES['charset'] = sg.put(MD, mime('cs@evil.example', 'Eve <eve@evil.example>', 'Charset', T0 + 20,
                                   [('text/plain; charset=x-no-such-charset', '8bit', b'Caf\xe9 au lait')]))
big = b'forecast planning budget ' * (50 * 1024 * 1024 // 25)
FILES['big'] = sg.put(MD, mime('big@evil.example', 'Eve <eve@evil.example>', 'Big', T0 + 30,
                               [('text/plain; charset=us-ascii', '7bit', big)]))
longsig = 'Short text.\n-- \n' + ''.join('line %d of my signature\n' % i for i in range(500))
FILES['longsig'] = sg.put(MD, sg.make_message('ls@evil.example', 'Eve <eve@evil.example>',
                                              subject='Long signature', date=T0 + 40, body=longsig))
FILES['badcard'] = sg.put(MD, mime('bc@evil.example', 'Eve <eve@evil.example>', 'Broken card', T0 + 50,
                                   [('text/plain', '7bit', b'card attached'),
                                    ('text/x-vcard', '7bit', b'this is no vcard at all ;;;;')]))


def facts(who, *extra):
    r = sg.cli('show', '--facts', '--format', 'json', *extra, who, store=STORE, config=CONF)
    tap.eq(r.rc, 0, 'show --facts %s exits 0' % who)
    try:
        return json.loads(r.out or '[]')
    except ValueError:
        return []


N_MAIL = len(FILES)
r = sg.cli('import', MD, store=STORE, config=CONF, timeout=300)
tap.eq(r.rc, 0, 'import exits 0 with bad input among the messages')
tap.eq(sg.parse_summary(r.out), (N_MAIL, N_MAIL, 0, 0), 'every message is stored, none skipped')
for key, needle in [('bomb', 'text part over'), ('charset', 'x-no-such-charset'),
                    ('big', 'text part over'), ('longsig', 'signature of 500 lines'),
                    ('badcard', 'vCard')]:
    name = os.path.basename(FILES[key])
    tap.ok(any(name in line and needle in line and 'warning' in line for line in r.err.splitlines()),
           'a warning names %s: %s' % (key, needle), r.err[-2000:])

# Bounded output from the bad input (no timing asserted): each message has at most 8 topics
# and a few facts, nothing of the 50 MB or the bomb is kept, and the signature's 500 lines
# give no facts beyond the cap.
con = sqlite3.connect(STORE)
per_msg = con.execute('SELECT max(n) FROM (SELECT count(*) AS n FROM interaction_topics GROUP BY interaction_id)'
                      ).fetchone()[0]
tap.ok(per_msg is not None and per_msg <= 8, 'at most 8 topics per message (%r)' % per_msg)
eve = con.execute("SELECT count(*) FROM person_facts f JOIN addresses a ON a.person_id = f.person_id "
                  "WHERE a.address = 'eve@evil.example'").fetchone()[0]
tap.ok(eve <= 10, 'the bad messages give at most a few facts (%d)' % eve)
longest = con.execute('SELECT max(length(value)) FROM person_facts').fetchone()[0] or 0
tap.ok(longest <= 200, 'no fact value is longer than 200 characters (%d)' % longest)
bad_ids = ('bomb@evil.example', 'cs@evil.example', 'big@evil.example', 'ls@evil.example', 'bc@evil.example')
stored = con.execute('SELECT count(*) FROM interactions WHERE message_id IN (?,?,?,?,?)', bad_ids).fetchone()[0]
tap.eq(stored, 5, 'each bad message is stored as an interaction')
con.close()

con = sqlite3.connect(STORE)
lisa = con.execute("SELECT count(*) FROM person_facts f JOIN addresses a ON a.person_id = f.person_id "
                   "WHERE a.address = 'lisa@initrode.example'").fetchone()[0]
lisa_topics = con.execute("SELECT count(*) FROM interaction_topics t JOIN interactions i ON i.id = t.interaction_id "
                          "WHERE i.message_id = 'l2@initrode.example'").fetchone()[0]
has_person = con.execute("SELECT person_id IS NOT NULL FROM addresses WHERE address = 'lisa@initrode.example'"
                         ).fetchone()
con.close()
tap.ok(has_person == (1,) and lisa == 0 and lisa_topics > 0,
       'list mail gives topics but no facts about its sender (person %r, %d facts, %d topics)'
       % (has_person, lisa, lisa_topics))

# Facts: the newest title is current, the older one is history; the quoted signature of the
# user in t2 is not Ann's.
cur = facts('ann@acme-research.de')
by = {(f['kind'], f.get('detail')): f for f in cur}
tap.eq(by.get(('title', None), {}).get('value'), 'Chief Procurement Officer', 'the newer title is current')
tap.eq(by.get(('organisation', None), {}).get('value'), 'Acme Research GmbH', 'organisation from the signature')
tap.eq(by.get(('phone', 'mobile'), {}).get('value'), '+491701234567', 'mobile phone, normalised')
tap.eq(by.get(('address', None), {}).get('value'), 'Hauptstraße 5, 10115 Berlin', 'postal address')
tap.eq(by.get(('website', None), {}).get('value'), 'acme-research.de', 'web site')
tap.eq(by.get(('phone', 'mobile'), {}).get('message_id'), 't2@acme-research.de', 'a fact names its latest message')
tap.ok(all('Sales Director' not in f['value'] and 'OurCo' not in f['value'] for f in cur),
       "the quoted signature is not taken as Ann's")
hist = facts('ann@acme-research.de', '--history')
old = [f for f in hist if f['value'] == 'Head of Procurement']
tap.ok(len(old) == 1 and old[0]['current'] == 0, 'the older title stays as history')
hank = {(f['kind'], f.get('detail')): f for f in facts('hank@globex.com')}
tap.eq(hank.get(('title', None), {}).get('value'), 'CEO', 'title from the vCard')
tap.eq(hank.get(('phone', 'mobile'), {}).get('origin'), 'vcard', 'a vCard fact says it came from a vCard')

r = sg.cli('show', 'ann@acme-research.de', store=STORE, config=CONF)
tap.ok(r.rc == 0 and 'Chief Procurement Officer' in r.out and 'From signatures and vCards' in r.out,
       'show prints the facts above the timeline', r.out)

# Topics: weighted, with their messages; the signature and the quote are no topics.
r = sg.cli('topics', '--format', 'json', '-n', '0', 'acme-research.de', store=STORE, config=CONF)
tap.eq(r.rc, 0, 'topics DOMAIN exits 0')
topics = {t['topic']: t for t in json.loads(r.out or '[]')}
tap.ok('tender' in topics and topics['tender']['messages'] == 2, 'tender is a topic of both messages',
       r.out[:1500])
tap.ok('tender' in topics and 't1@acme-research.de' in topics['tender']['message_ids'],
       'a topic lists the messages it came from')
tap.ok(all(k not in topics for k in ('procurement', 'mobile', 'sales director')),
       'signature and quoted words are no topics', sorted(topics))
tap.ok('tender' in topics and topics['tender'].get('tags') == 'procurement',
       'the taxonomy maps tender to the procurement tag (applied at import)')
weights = [t.get('weight') for t in json.loads(r.out or '[]')]
tap.ok(weights and all(isinstance(w, (int, float)) and w > 0 for w in weights) and weights == sorted(weights, reverse=True),
       'topics have positive TF-IDF weights, heaviest first', weights)
r = sg.cli('topics', 'ann@acme-research.de', store=STORE, config=CONF)
tap.ok(r.rc == 0 and 'tender' in r.out and 'weight' in r.out.splitlines()[0] and 'messages' in r.out.splitlines()[0],
       'topics ADDRESS prints a table with weight and messages', r.out)
# The German synonym, inflected, names the same tag.
r = sg.cli('topics', '--format', 'json', '-n', '0', 'joerg@beispiel.de', store=STORE, config=CONF)
jt = {t['topic']: t for t in json.loads(r.out or '[]')}
tap.ok(any(t.get('tags') == 'procurement' and t['messages'] == 2 for t in jt.values()),
       '"Ausschreibung(en)" in two German messages maps to the procurement tag', r.out[:1500])
# Topic tags are tags everyone can select on, and they are shared (change log).
r = sg.cli('select', '--format', 'json', 'tag:procurement', store=STORE, config=CONF)
sel = json.loads(r.out or '[]') if r.rc == 0 else []
emails = sorted(str(p.get('email') or p.get('address') or p.get('addresses')) for p in sel)
tap.ok(r.rc == 0 and any('ann@acme-research.de' in e for e in emails) and any('joerg@beispiel.de' in e for e in emails),
       "select 'tag:procurement' finds the people whose mail discussed it", r.out[:1500] + r.err)
r = sg.cli('select', '--format', 'json', 'tag:forecasting and not tag:procurement', store=STORE, config=CONF)
tap.ok(r.rc == 0 and 'acme-research' not in r.out, 'topic tags combine in select expressions', r.out[:800])
con = sqlite3.connect(STORE)
tags = con.execute("SELECT t.name, ta.entity_type FROM tag_assignments ta JOIN tags t ON t.id = ta.tag_id "
                   "WHERE ta.origin = 'topic' ORDER BY 1, 2").fetchall()
tap.ok(('procurement', 'person') in tags and ('procurement', 'organisation') in tags,
       'procurement (2 messages) tags Ann and Acme', tags)
tap.ok(('forecasting', 'person') in tags, 'forecasting tags Ann', tags)
adds = con.execute("SELECT count(*) FROM changes WHERE entity = 'tag_assignment' AND op <> 'remove'").fetchone()[0]
tap.ok(adds >= 5, 'topic tags go into the change log for the team (%d ops)' % adds)
tap.eq(con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'message_texts'").fetchone()[0], 0,
       'no body text is stored')
con.close()
# Bodies stay in the mailbox: no sentence of a body is anywhere in the store's files.
blob = b''
for suffix in ('', '-wal'):
    if os.path.exists(STORE + suffix):
        with open(STORE + suffix, 'rb') as f:
            blob += f.read()
tap.ok(len(blob) > 0 and b'forecast horizon is 24 months' not in blob and b'Unterlagen zur Ausschreibung' not in blob,
       "no body sentence is in the store's files")

# The taxonomy changes; --recompute follows it without the mailbox.
with open(TAX, 'w') as f:
    f.write('[volcanoes]\nkind = interest\nphrases = volcano\n')
os.rename(MD, MD + '.gone')
r = sg.cli('topics', '--recompute', store=STORE, config=CONF)
tap.ok(r.rc == 0 and '1 tags' in r.out, 'topics --recompute reads the new taxonomy', r.out + r.err)
con = sqlite3.connect(STORE)
tags = con.execute("SELECT DISTINCT t.name FROM tag_assignments ta JOIN tags t ON t.id = ta.tag_id "
                   "WHERE ta.origin = 'topic'").fetchall()
tap.eq(tags, [('volcanoes',)], 'old topic tags are gone, new ones are there, without the mailbox')
removes = con.execute("SELECT count(*) FROM changes WHERE entity = 'tag_assignment' AND op = 'remove'").fetchone()[0]
tap.ok(removes >= 3, 'removed topic tags are in the change log (%d)' % removes)
con.close()
os.rename(MD + '.gone', MD)

# A bad taxonomy is an error naming the file and group.
with open(TAX, 'w') as f:
    f.write('[pricing]\nphrase = price\n')
r = sg.cli('topics', '--recompute', store=STORE, config=CONF)
tap.ok(r.rc == 1 and TAX in r.err and '[pricing]' in r.err, 'a bad taxonomy names its file and group', r.err)
r = sg.cli('topics', '--recompute', 'acme.de', store=STORE, config=CONF)
tap.eq(r.rc, 2, 'topics --recompute with an argument is a usage error')

# --no-content: the same mail, no facts and no topics.
with open(TAX, 'w') as f:
    f.write('[volcanoes]\nphrases = volcano\n')
STORE2 = sg.path('store2.db')
r = sg.cli('import', '--no-content', MD, store=STORE2, config=CONF, timeout=300)
tap.eq(r.rc, 0, 'import --no-content exits 0')
con = sqlite3.connect(STORE2)
tap.eq(con.execute('SELECT (SELECT count(*) FROM person_facts) + (SELECT count(*) FROM interaction_topics)')
       .fetchone()[0], 0, 'import --no-content stores no facts and no topics')
tap.eq(con.execute('SELECT count(*) FROM interactions').fetchone()[0], N_MAIL, '... but every interaction')
con.close()

# The daemon reads text too, and honours [topics] extract=false.
for extract, want in (('true', True), ('false', False)):
    dconf = sg.write_config(sg.path('syncd-%s.conf' % extract), maildirs=(MD,),
                            extra='[topics]\nextract=%s\n' % extract)
    dstore = sg.path('syncd-%s.db' % extract)
    r = sg.run([sg.SYNCD, '--config', dconf, '--store', dstore, '--once'], timeout=300)
    tap.eq(r.rc, 0, 'salesgetter-syncd --once with extract=%s exits 0' % extract)
    con = sqlite3.connect(dstore)
    n = con.execute('SELECT (SELECT count(*) FROM person_facts) + (SELECT count(*) FROM interaction_topics)').fetchone()[0]
    tap.ok((n > 0) == want, 'the daemon %s facts and topics with extract=%s (%d rows)'
           % ('stores' if want else 'stores no', extract, n))
    con.close()

# The daemon refreshes topic tags from the taxonomy (here: at the end of --once).
with open(TAX, 'w') as f:
    f.write('[procurement]\nphrases = tender\n')
dconf = sg.write_config(sg.path('syncd-tax.conf'), maildirs=(MD,), extra='[topics]\ntaxonomy=%s\n' % TAX)
dstore = sg.path('syncd-tax.db')
r = sg.run([sg.SYNCD, '--config', dconf, '--store', dstore, '--once'], timeout=300)
con = sqlite3.connect(dstore)
tags = con.execute("SELECT DISTINCT ta.entity_type FROM tag_assignments ta JOIN tags t ON t.id = ta.tag_id "
                   "WHERE t.name = 'procurement' AND ta.origin = 'topic' ORDER BY 1").fetchall()
con.close()
tap.ok(r.rc == 0 and tags == [('interaction',), ('organisation',), ('person',)],
       'salesgetter-syncd applies the taxonomy to what it stored', '%r %s' % (tags, r.err[-500:]))

# The running daemon (not --once): mail delivered while it runs gets the same facts and
# topics as `import` gave the same messages.
FACTS_SQL = ('SELECT a.address, f.kind, f.detail, f.value, f.origin, f.times FROM person_facts f '
             'JOIN addresses a ON a.person_id = f.person_id WHERE a.address IN (?, ?) ORDER BY 1, 2, 3, 4')
TOPICS_SQL = ('SELECT i.message_id, t.stem, t.phrase, t.lang, t.count FROM interaction_topics t '
              'JOIN interactions i ON i.id = t.interaction_id WHERE i.message_id IN (?, ?, ?) ORDER BY 1, 2')
WHO = ('ann@acme-research.de', 'hank@globex.com')
MIDS = ('t1@acme-research.de', 't2@acme-research.de', 'v1@globex.com')
MD3 = sg.make_maildir(sg.path('Maildir-live'))
lconf = sg.write_config(sg.path('syncd-live.conf'), maildirs=(MD3,))
lstore = sg.path('syncd-live.db')
d = sg.Daemon(lconf, lstore).start()
poller = sg.StorePoller(lstore)
try:
    ok, _ = sg.wait_for(lambda: poller.one('SELECT count(*) FROM sources') is not None, 60, 0.05)
    for key in ('t1', 'v1', 't2'):
        with open(FILES[key], 'rb') as f:
            sg.deliver(MD3, f.read())
    ok, _ = sg.wait_for(lambda: all(poller.has_message(m) for m in MIDS), 60, 0.02)
    tap.ok(ok and d.alive(), 'the running daemon stores mail delivered to it', d.log()[-1500:])
finally:
    poller.close()
    d.stop()
with sqlite3.connect(STORE) as a, sqlite3.connect(lstore) as b:
    fa, fb = a.execute(FACTS_SQL, WHO).fetchall(), b.execute(FACTS_SQL, WHO).fetchall()
    ta, tb = a.execute(TOPICS_SQL, MIDS).fetchall(), b.execute(TOPICS_SQL, MIDS).fetchall()
tap.ok(len(fa) >= 8 and fa == fb, 'the daemon stores the same facts as import (%d rows)' % len(fb),
       'import: %r\ndaemon: %r' % (fa, fb))
tap.ok(len(ta) >= 10 and ta == tb, 'the daemon stores the same topics as import (%d rows)' % len(tb),
       'import: %r\ndaemon: %r' % (ta, tb))
r = sg.cli('show', '--facts', '--format', 'json', 'ann@acme-research.de', store=lstore, config=lconf)
cur = {(f['kind'], f.get('detail')): f['value'] for f in json.loads(r.out or '[]')}
tap.eq(cur.get(('title', None)), 'Chief Procurement Officer',
       "the daemon's store shows the newer title as current (t2 delivered after t1)")

# The example taxonomy shipped in data/ is valid.
example = os.path.join(os.environ.get('SG_SRCDIR', ''), 'data', 'salesgetter-taxonomy.example')
r = sg.cli('topics', '--recompute', '--taxonomy', example, store=STORE, config=CONF)
tap.ok(r.rc == 0 and '5 tags' in r.out, 'the example taxonomy loads', r.out + r.err)

tap.done()
