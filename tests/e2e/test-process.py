#!/usr/bin/env python3
"""End-to-end test of sales process management through the salesgetter CLI: a scenario of
four organisations imported from hand-written mail, processes moving through stages (won,
lost, reopened, follow-up), automatic and manual linking with stage suggestions, roles
derived and overridden, notes, unfulfilled requests and a prospect list. Every expected
result is written down by hand below; the comments say why it is what it is."""

import csv
import io
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest as sg  # noqa: E402

tap = sg.start(sg.Tap())

ME = 'Julia Hoffmann <julia@ourco.example>'
STORE = sg.path('store.db')
CONF = sg.write_config(sg.path('salesgetter.conf'), name='Julia Hoffmann', addresses=('julia@ourco.example',),
                       internal_domains=('ourco.example',), extra='[team]\nmanagers=max@ourco.example\n')
# pipelines.conf beside the config is read without a [process] key: a second pipeline.
with open(sg.path('pipelines.conf'), 'w') as f:
    f.write('[pipeline licence]\ndescription=Data licences\nstages=trial;offer;signed;dropped\n'
            '[stage licence/signed]\nkind=won\n[stage licence/dropped]\nkind=lost\n')
MD = sg.path('Maildir')
sg.make_maildir(MD)

D = {  # Unix times of the scenario (UTC)
    '03-02': 1772445600, '03-04': 1772618400, '03-05': 1772704800, '03-10': 1773136800,
    '03-12': 1773309600, '04-01': 1775037600,
}
MAIL = [
    # msgid, from, to, subject, date
    ('a1@acme.com', 'Jane Doe <jane@acme.com>', [ME], 'Demand forecast 2027', D['03-02']),
    ('a2@ourco.example', ME, ['Jane Doe <jane@acme.com>', 'Bob Smith <bob@acme.com>'],
     'Our proposal for the demand forecast', D['03-10']),
    ('a3@acme.com', 'Bob Smith <bob@acme.com>', [ME], 'Market research scope', D['03-12']),
    ('g1@globex.de', 'Hans Meier <hans@globex.de>', [ME], 'Anfrage Studie', D['03-04']),
    ('g2@ourco.example', ME, ['Hans Meier <hans@globex.de>'], 'Re: Anfrage Studie', D['03-05']),
    ('i1@initech.de', 'Peter Gibbons <peter@initech.de>', [ME], 'Negotiation of the contract terms', D['04-01']),
    # A manager's introduction, the user in Cc: Kate is credited to the manager.
    ('w1@ourco.example', 'Max Manager <max@ourco.example>', ['Kate Kane <kate@wayne.com>', ME], 'Introduction',
     D['03-04']),
]
for mid, frm, to, subj, date in MAIL:
    sg.put(MD, sg.make_message(mid, frm, to=to, subject=subj, date=date))

UUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')


def sgc(*args, **kw):
    return sg.cli(*args, store=STORE, config=CONF, **kw)


def ok(r, desc):
    return tap.ok(r.rc == 0, desc, repr(r))


def fails(r, rc, text, desc):
    """@r exited @rc and its error names @text."""
    return tap.ok(r.rc == rc and text in r.err, desc, 'want rc %d and %r in stderr\n%r' % (rc, text, r))


def js(r):
    try:
        return json.loads(r.out)
    except ValueError:
        tap.diag('not JSON: %r' % r)
        return []


def count_processes():
    return sg.scalar(STORE, 'SELECT count(*) FROM processes')


# --- import --------------------------------------------------------------------------------
r = sgc('import', MD)
ok(r, 'import the scenario mailbox')
tap.eq(sg.parse_summary(r.out), (7, 7, 0, 0), 'seven interactions imported')
# The user's role is analyst (the default): the contacts first seen in her mail are credited to
# her; Kate, first seen in the manager Max's mail ([team] managers), to him.
sources = {s['name']: s for s in js(sgc('import-list', '--sources', '--format', 'json'))}
tap.eq((sources.get('referral:julia@ourco.example', {}).get('kind'),
        sources.get('referral:julia@ourco.example', {}).get('credited_to'),
        sources.get('referral:julia@ourco.example', {}).get('people')),
       ('analyst-referral', 'julia@ourco.example', 4), 'Jane, Bob, Hans and Peter are credited to the analyst')
tap.eq((sources.get('management:max@ourco.example', {}).get('kind'),
        sources.get('management:max@ourco.example', {}).get('people')), ('management', 1),
       'Kate is credited to the manager who introduced her')
# The import derived the buying-process roles too, with no 'role derive'. No organisation has a
# sales process yet: Jane, Bob and Hans wrote and were written to (prospects); Peter only wrote
# and Kate was only introduced (suspects).
tap.eq(sorted((row['email'], row['role'], row['origin']) for row in js(sgc('role', 'list', '--format', 'json'))),
       [('bob@acme.com', 'prospect', 'rule'), ('hans@globex.de', 'prospect', 'rule'),
        ('jane@acme.com', 'prospect', 'rule'), ('kate@wayne.com', 'suspect', 'rule'),
        ('peter@initech.de', 'suspect', 'rule')],
       'the import derived roles: three prospects (two-way mail), two suspects')

# --- processes -----------------------------------------------------------------------------
r = sgc('process', 'new', '--org', 'acme.com', '--deliverable', 'Demand forecast', '--type', 'forecasting',
        '--value', '48,000', '--currency', 'EUR', '--cost', '1500', '--source', 'event:Summit 2026',
        '--opened', '2026-03-01', '--expected-close', '2026-06-30',
        '-c', 'jane@acme.com:decision-maker', '-c', 'bob@acme.com:influencer')
ok(r, 'process new prints the id')
F = r.out.strip()
tap.ok(UUID.match(F), 'the id is a UUID', r.out)

r = sgc('process', 'new', '--org', 'ACME.com', '--deliverable', 'demand FORECAST')
fails(r, 4, 'acme.com already has an open sales process for “demand FORECAST”: ' + F,
      'a duplicate (same organisation and deliverable, any case) is refused with exit 4, naming the open one')
r = sgc('process', 'new', '--org', 'acme.com', '--deliverable', 'Market research', '--type', 'research',
        '--value', '20000', '--currency', 'EUR', '--opened', '2026-03-01', '-c', 'bob@acme.com:user')
ok(r, 'a second acme process for another deliverable')
R = r.out.strip()
r = sgc('process', 'new', '--org', 'globex.de', '--deliverable', 'Studie', '--pipeline', 'licence',
        '--opened', '2026-03-01', '-c', 'hans@globex.de:buyer')
ok(r, 'a process in the pipeline of pipelines.conf')
G = r.out.strip()
r = sgc('process', 'new', '--org', 'initech.de', '--deliverable', 'Forecast licence', '--opened', '2026-03-20',
        '-c', 'peter@initech.de:decision-maker', '--format', 'json')
ok(r, 'process new --format json')
rows = js(r)
I = rows[0]['id'] if rows else None
tap.eq((rows[0]['stage'], rows[0]['status'], rows[0]['pipeline'], rows[0]['contacts']) if rows else None,
       ('identified', 'open', 'default', 'peter@initech.de:decision-maker'), 'the new process as JSON')

before = count_processes()
fails(sgc('process', 'new', '--org', 'nowhere.example', '--deliverable', 'x'), 3,
      'no organisation “nowhere.example” in the store', 'an unknown organisation: exit 3')
fails(sgc('process', 'new', '--org', 'acme.com', '--deliverable', 'x', '--pipeline', 'nope'), 3,
      'no pipeline “nope” (pipelines: default, licence)', 'an unknown pipeline: exit 3, the pipelines listed')
fails(sgc('process', 'new', '--org', 'acme.com', '--deliverable', 'x', '-c', 'ghost@acme.com:buyer'), 3,
      'no person with the address “ghost@acme.com” in the store', 'an unknown person: exit 3')
fails(sgc('process', 'new', '--org', 'acme.com', '--deliverable', 'x', '--value', '12.345', '--currency', 'EUR'),
      2, '“12.345” is not an amount', 'an amount with too many decimals: usage error')
fails(sgc('process', 'new', '--org', 'acme.com'), 2, '--org and --deliverable are required',
      'a missing --deliverable: usage error')
tap.eq(count_processes(), before, 'nothing half-written: the failed creations left no process (nor the one '
                                  'whose contact was unknown)')

# --- linking and suggestions ---------------------------------------------------------------
r = sgc('process', 'link', '--auto')
ok(r, 'process link --auto')
# a1 (Jane: contact of F only) -> F; a2 (Jane and Bob: both contacts of F, one of R) -> F;
# a3 (Bob: one contact of each; "market research" in the subject) -> R; g1, g2 -> G;
# i1 (Initech, dated after I opened) -> I. Subjects: a2 says "proposal" (a later stage of F),
# i1 says "negotiation" (later stage of I); the licence pipeline has no keywords.
tap.eq(r.out.strip(), 'Linked 6 interactions; 2 new stage suggestions.', 'six linked, two suggestions')
links = {row['message_id']: row for row in js(sgc('process', 'show', F, '--format', 'json'))[0]['linked']}
tap.eq(sorted(links), ['a1@acme.com', 'a2@ourco.example'], 'F has a1 and a2')
tap.eq(links['a2@ourco.example']['reason'], 'organisation acme.com; 2 contacts of the process took part '
       '(2 open processes)', 'the reason of a2 says why F won over R')
r_show = js(sgc('process', 'show', R, '--format', 'json'))[0]
tap.eq([l['message_id'] for l in r_show['linked']], ['a3@acme.com'], 'R has a3')
tap.eq(r_show['linked'][0]['reason'], 'organisation acme.com; 1 contact of the process took part; topic '
       '“market research” in the subject (2 open processes)', 'the topic broke the tie for a3')
sugg = js(sgc('process', 'suggestions', '--format', 'json'))
tap.eq(sorted((s['process'], s['suggested_stage'], s['message_id']) for s in sugg),
       sorted([(F, 'proposal', 'a2@ourco.example'), (I, 'negotiation', 'i1@initech.de')]),
       'suggestions: F proposal (a2), I negotiation (i1)')
tap.eq([row['stage'] for row in js(sgc('process', 'list', '--org', 'acme.com', '--format', 'json'))],
       ['identified', 'identified'], 'suggestions are not applied by themselves')

# --- stage moves -------------------------------------------------------------------------
ok(sgc('process', 'move', F, 'proposal'), 'move F to proposal')
tap.eq([s['process'] for s in js(sgc('process', 'suggestions', '--format', 'json'))], [I],
       'the accepted suggestion is gone')
fails(sgc('process', 'move', F, 'bogus'), 3, 'no stage “bogus” in pipeline “default” (stages: identified, '
      'qualified, needs analysed, proposal, negotiation, closed won, closed lost, follow-up)',
      'an unknown stage: exit 3, the stages listed')
fails(sgc('process', 'move', F, 'proposal'), 4, 'is already in stage “proposal”', 'the same stage: exit 4')
fails(sgc('process', 'move', F, 'follow-up'), 4, 'comes after a won close', 'follow-up before winning: exit 4')
ok(sgc('process', 'move', F[:8], 'Negotiation'), 'move by a UUID prefix, stage in any case')
ok(sgc('process', 'close', F, '--won'), 'close F won')
fails(sgc('process', 'move', F, 'proposal'), 4, 'is closed (“closed won”): reopen it before moving it',
      'a move out of a closed stage: exit 4')
ok(sgc('process', 'move', F, 'follow-up'), 'won -> follow-up is allowed')
ok(sgc('process', 'close', R, '--lost', '--reason', 'budget cut'), 'close R lost')
fails(sgc('process', 'move', R, 'qualified'), 4, 'reopen it before moving it', 'nothing moves out of lost')
ok(sgc('process', 'reopen', R), 'reopen R')
ok(sgc('process', 'close', R, '--lost', '--reason', 'went with a competitor'), 'close R lost again')
ok(sgc('process', 'move', G, 'offer'), 'G to offer (licence pipeline)')
fails(sgc('process', 'move', G, 'proposal'), 3, 'no stage “proposal” in pipeline “licence” (stages: trial, '
      'offer, signed, dropped)', 'stages are those of the process\'s pipeline')
ok(sgc('process', 'close', G, '--won'), 'close G won (its won stage is "signed")')
fails(sgc('process', 'reopen', I), 4, 'there is nothing to reopen', 'reopening an open process: exit 4')
fails(sgc('process', 'show', 'ffffffff'), 3, 'no sales process “ffffffff”', 'an unknown process: exit 3')
fails(sgc('process', 'move', F), 2, 'give PROCESS and STAGE', 'a missing argument: exit 2')

show = js(sgc('process', 'show', F, '--format', 'json'))[0]
tap.eq((show['stage'], show['status'], show['value'], show['value_minor'], show['currency'], show['cost'],
        show['lead_source'], show['deliverable_type'], show['opened'], show['expected_close']),
       ('follow-up', 'won', '48000.00', 4800000, 'EUR', '1500.00', 'event:Summit 2026', 'forecasting',
        '2026-03-01T00:00:00Z', '2026-06-30T00:00:00Z'), 'F: every field as given')
tap.eq([(h['event'], h['from_stage'], h['to_stage'], h['by']) for h in show['history']],
       [('open', None, 'identified', 'julia@ourco.example'),
        ('move', 'identified', 'proposal', 'julia@ourco.example'),
        ('move', 'proposal', 'negotiation', 'julia@ourco.example'),
        ('close', 'negotiation', 'closed won', 'julia@ourco.example'),
        ('move', 'closed won', 'follow-up', 'julia@ourco.example')], 'F: the stage history, who and from where')
tap.eq([(c['email'], c['part']) for c in show['contact_list']],
       [('jane@acme.com', 'decision-maker'), ('bob@acme.com', 'influencer')], 'F: its contacts and their parts')
r = sgc('process', 'show', F)
ok(r, 'process show (table)')
tap.ok(re.search(r'^stage +follow-up$', r.out, re.M) and re.search(r'^value +48000\.00$', r.out, re.M)
       and '\nStage history\n' in r.out and '\nLinked interactions\n' in r.out,
       'process show prints the fields and the sections for people', r.out)
rshow = js(sgc('process', 'show', R, '--format', 'json'))[0]
tap.eq((rshow['status'], rshow['stage'], rshow['lost_reason']), ('lost', 'closed lost', 'went with a competitor'),
       'R: lost, with the last reason')
tap.eq([h['to_stage'] for h in rshow['history']], ['identified', 'closed lost', 'identified', 'closed lost'],
       'R: reopened into the stage it was in before closing')

r = sgc('process', 'list', '--all', '--format', 'csv')
ok(r, 'process list --all --format csv')
table = list(csv.reader(io.StringIO(r.out)))
tap.eq(table[0][:9], ['id', 'organisation', 'deliverable', 'stage', 'status', 'value', 'currency', 'owner',
                      'last_activity'], 'the CSV header')
# Open first (I), then by last activity: R (a3, 03-12), F (a2, 03-10), G (g2, 03-05).
tap.eq([(row[0], row[4]) for row in table[1:]], [(I, 'open'), (R, 'lost'), (F, 'won'), (G, 'won')],
       'open first, then most recent activity')
tap.eq([row['id'] for row in js(sgc('process', 'list', '--format', 'json'))], [I], 'list: open ones by default')
tap.eq([row['id'] for row in js(sgc('process', 'list', '--org', 'acme.com', '--status', 'won', '--format', 'json'))],
       [F], 'list --org --status won')
tap.eq([row['id'] for row in js(sgc('process', 'list', '--person', 'hans@globex.de', '--all', '--format', 'json'))],
       [G], 'list --person')
fails(sgc('process', 'list', '--status', 'pending'), 2, 'status “pending” is not open, won, lost or closed',
      'a bad status: exit 2')

# A person's link sticks: a3 moved to F by hand, --auto leaves it.
ok(sgc('process', 'link', F, '<a3@acme.com>'), 'link a3 to F by hand')
tap.eq(sgc('process', 'link', '--auto').out.strip(), 'Linked 0 interactions; 0 new stage suggestions.',
       'link --auto changes nothing a person decided')
tap.eq([l['message_id'] for l in js(sgc('process', 'show', R, '--format', 'json'))[0]['linked']], [],
       'a3 moved away from R')
fails(sgc('process', 'link', F, 'nope@nowhere'), 3, 'no interaction with Message-ID “nope@nowhere”',
      'an unknown Message-ID: exit 3')

# --- roles ---------------------------------------------------------------------------------
r = sgc('role', 'derive')
ok(r, 'role derive')


def roles():
    out = {}
    for row in js(sgc('role', 'list', '--format', 'json')):
        out.setdefault(row['email'], []).append('%s/%s' % (row['role'], row['origin']))
    return out


# Jane: acme won F (customer) where she decides (buyer). Bob: customer (acme), an influencer on
# F and user on the lost R: neither buyer nor consumer. Hans: Globex won G (customer), a buyer
# on it. Peter: Initech's I is open (lead). Kate: only an introduction by a colleague (suspect).
tap.eq(roles(), {'jane@acme.com': ['customer/rule', 'buyer/rule'], 'bob@acme.com': ['customer/rule'],
                 'hans@globex.de': ['customer/rule', 'buyer/rule'], 'peter@initech.de': ['lead/rule'],
                 'kate@wayne.com': ['suspect/rule']},
       'roles derived from the processes')
ok(sgc('role', 'remove', 'hans@globex.de', 'buyer', '--reason', 'only signs'), 'a person removes a role')
ok(sgc('role', 'set', 'peter@initech.de', 'prospect'), 'a person sets a role')
ok(sgc('role', 'derive'), 'derive again')
got = roles()
tap.eq((got['hans@globex.de'], got['peter@initech.de']), (['customer/rule'], ['lead/rule', 'prospect/person']),
       'the person\'s decisions stick')
fails(sgc('role', 'set', 'ghost@acme.com', 'lead'), 3, 'no person with the address “ghost@acme.com”',
      'role for an unknown person: exit 3')
fails(sgc('role', 'set', 'peter@initech.de', 'king'), 2, '“king” is not a role', 'an unknown role: exit 2')

# --- notes and requests --------------------------------------------------------------------
r = sgc('note', 'add', 'Kick-off went well', '--process', F, '--sentiment', 'positive', '--date', '2026-04-05')
ok(r, 'note add')
tap.ok(UUID.match(r.out.strip()), 'note add prints the note\'s id')
fails(sgc('note', 'add', 'x', '--org', 'nowhere.example'), 3, 'no organisation “nowhere.example”',
      'a note for an unknown organisation: exit 3')
fails(sgc('note', 'add', 'x', '--org', 'acme.com', '--sentiment', 'ecstatic'), 2,
      'sentiment “ecstatic” is not positive, neutral or negative', 'a bad sentiment: exit 2')
notes = js(sgc('note', 'list', '--format', 'json'))
tap.eq([(n['date'], n['organisation'], n['sentiment'], n['text'], n['author'], n['process']) for n in notes],
       [('2026-04-05T00:00:00Z', 'Acme', 'positive', 'Kick-off went well', 'julia@ourco.example', F)],
       'note list')
ok(sgc('request', 'add', 'Forecast for Brazil', '--category', 'region', '--org', 'globex.de', '--date',
       '2026-04-02'), 'request add')
fails(sgc('request', 'add', 'x', '--org', 'globex.de'), 2, '--category is required', 'a request needs a category')
r = sgc('request', 'list', '--format', 'csv')
rows = list(csv.reader(io.StringIO(r.out)))
tap.eq([rows[0][:5], rows[1][:5]], [['date', 'organisation', 'category', 'what', 'recorded_by'],
                                    ['2026-04-02T00:00:00Z', 'Globex', 'region', 'Forecast for Brazil',
                                     'julia@ourco.example']], 'request list as CSV')

# --- prospect list -------------------------------------------------------------------------
LIST = sg.path('fair.csv')
with open(LIST, 'wb') as f:
    f.write(b'Vorname;Nachname;E-Mail;Firma\r\n'
            b'Jane;Doe;jane@acme.com;Acme\r\n'                 # 2: known
            b'J\xfcrgen;M\xfcller;juergen@umbrella.de;Umbrella\r\n'  # 3: new, Latin-1
            b'"Ann; jr";Lee;ann@umbrella.de;Umbrella\r\n'      # 4: new, quoted delimiter
            b'only;three;fields\r\n'                           # 5: bad
            b'Info;;info@umbrella.de;Umbrella\r\n')            # 6: role address
r = sgc('import-list', LIST, '--delimiter', ';', '--name', 'Fair 2026')
tap.ok(r.rc == 1, 'import-list with rejected rows exits 1', repr(r))
tap.eq(r.out.strip(), 'List “Fair 2026”: 5 rows: 2 new people, 1 matched, 2 rejected; 1 new organisations; '
       '1 row read as Latin-1.', 'the summary')
tap.eq(r.err.strip().splitlines(), [
    'salesgetter: %s: row 5: 3 fields, the header has 4' % LIST,
    'salesgetter: %s: row 6: info@umbrella.de is a role address, not a person\'s' % LIST],
    'each rejected row with its number and reason')
people = {p['email']: p for p in js(sgc('people', '--format', 'json'))}
tap.eq((people.get('juergen@umbrella.de', {}).get('name'), people.get('juergen@umbrella.de', {}).get('organisation')),
       ('Jürgen Müller', 'Umbrella'), 'the Latin-1 row is read right, with its organisation')
tap.eq(sg.scalar(STORE, "SELECT count(*) FROM addresses WHERE address = 'jane@acme.com'"), 1,
       'the known person is matched, not duplicated')
sources = {s['name']: s for s in js(sgc('import-list', '--sources', '--format', 'json'))}
tap.eq((sources['list:Fair 2026']['kind'], sources['list:Fair 2026']['people']), ('rented-list', 3),
       'the list is a rented-list lead source with its three people')
EMPTY = sg.path('empty.csv')
open(EMPTY, 'w').close()
fails(sgc('import-list', EMPTY), 1, '%s: the file is empty (no header row)' % EMPTY, 'an empty file')
NOMAIL = sg.path('nomail.csv')
with open(NOMAIL, 'w') as f:
    f.write('name,company\nJane,Acme\n')
fails(sgc('import-list', NOMAIL), 1, 'no email address column (the header has: name, company); name it with '
      '--email-col', 'a list without an email column')
ok(sgc('role', 'derive'), 'derive after the list')
tap.eq(roles().get('ann@umbrella.de'), ['suspect/rule'], 'a person from a list is a suspect')

# --- an organisation's industry: by hand, and from a list ---------------------------------
def orgs():
    return {o['domain']: o for o in js(sgc('orgs', '--all', '--format', 'json'))}


def org_ops(domain):
    return [json.loads(f) for (f,) in sg.query(STORE, "SELECT fields FROM changes WHERE entity = 'organisation' "
                                                 "AND natural_key = ? ORDER BY rowid", (domain,))]


n_ops = len(org_ops('umbrella.de'))
r = sgc('orgs', 'set', 'ann@umbrella.de', '--industry', '  Chemicals ', '--name', 'Umbrella Corporation')
tap.eq((r.rc, r.out.strip()), (0, 'ann@umbrella.de: updated'), 'orgs set, by an address at the organisation')
tap.eq((orgs()['umbrella.de']['industry'], orgs()['umbrella.de']['name']), ('Chemicals', 'Umbrella Corporation'),
       'orgs lists the industry and the name set (white space dropped)')
tap.eq(org_ops('umbrella.de')[n_ops:], [{'name': 'Umbrella Corporation', 'industry': 'Chemicals'}],
       'one organisation op with the two changed fields, for sync')
r = sgc('orgs', 'set', 'umbrella.de', '--industry', 'Chemicals')
tap.eq((r.rc, r.out.strip(), len(org_ops('umbrella.de'))), (0, 'umbrella.de: unchanged', n_ops + 1),
       'setting the same industry again changes and logs nothing')
fails(sgc('orgs', 'set', 'nowhere.example', '--industry', 'X'), 3,
      'orgs set: no organisation owns the domain “nowhere.example”', 'an unknown domain: exit 3, named')
fails(sgc('orgs', 'set', 'umbrella.de'), 2, 'orgs: set: give --name or --industry (see \'salesgetter orgs --help\')',
      'set without a field')
fails(sgc('orgs', 'set', 'umbrella.de', '--name', ' '), 2, 'orgs set: the name must not be empty',
      'an empty name is refused')
fails(sgc('orgs', 'set', 'umbrella.de', '--industry', 'x' * 201), 2, 'orgs set: the industry is longer than 200 bytes',
      'a too long industry is refused')
fails(sgc('orgs', '--industry', 'X'), 2, 'orgs: --name and --industry go with \'set DOMAIN\' (see \'salesgetter orgs '
      '--help\')', '--industry without set')
tap.eq(orgs()['umbrella.de']['industry'], 'Chemicals', 'the refused changes left the industry as it was')
SECTORS = sg.path('sectors.csv')
with open(SECTORS, 'w') as f:
    f.write('Email,Company,Sector\njane@acme.com,Acme,Retail\nann@umbrella.de,Umbrella,Energy\n'
            'kim@hooli.example,Hooli,Software\n')
ok(sgc('import-list', SECTORS, '--name', 'Sectors'), 'a list with an industry ("Sector") column')
o = orgs()
tap.eq((o['acme.com']['industry'], o['umbrella.de']['industry'], o.get('hooli.example', {}).get('industry')),
       ('Retail', 'Chemicals', 'Software'),
       'the list gives a known and a new organisation their industry; the one set by hand stays')
tap.eq(org_ops('acme.com')[-1], {'industry': 'Retail'}, 'the list\'s industry is logged for sync')
closing = {row['value']: (row['processes'], row['won'], row['lost'], row['closing_ratio'])
           for row in js(sgc('report', 'closing', '--format', 'json')) if row['by'] == 'industry'}
# Acme's two processes (one won, one lost) are now "Retail"; Globex's and Initech's have none.
tap.eq(closing.get('Retail'), (2, 1, 1, '50.0%'),
       'report closing: Acme\'s won and lost processes under the customer type Retail')
tap.ok({'jane@acme.com', 'bob@acme.com'} <= {row['address'] for row in js(sgc('select', 'industry:retail',
                                                                              '--format', 'json'))},
       'select industry:retail finds the people of the organisation')
ok(sgc('orgs', 'set', 'hooli.example', '--industry', ''), 'an empty industry clears it')
tap.eq(orgs()['hooli.example']['industry'], None, 'the industry is gone')

# --- the daemon links what it captures -----------------------------------------------------
# Kate's Wayne gets a process; a new message from her lands in a Maildir the daemon scans.
ok(sgc('process', 'new', '--org', 'wayne.com', '--deliverable', 'Scenario study', '--opened', '2026-03-01',
       '-c', 'kate@wayne.com:champion'), 'a process for Wayne')
MD2 = sg.path('Maildir2')
sg.make_maildir(MD2)
sg.put(MD2, sg.make_message('w2@wayne.com', 'Kate Kane <kate@wayne.com>', to=[ME],
                            subject='Please send a quote for the scenario study', date=D['04-01']))
# And a new correspondent at Wayne: the daemon credits him to the user (an analyst) and, Wayne
# having an open process, derives that he is a lead.
sg.put(MD2, sg.make_message('w3@wayne.com', 'Lucius Fox <lucius@wayne.com>', to=[ME],
                            subject='Data for the scenario study', date=D['04-01'] + 60))
CONF2 = sg.write_config(sg.path('daemon.conf'), name='Julia Hoffmann', addresses=('julia@ourco.example',),
                        internal_domains=('ourco.example',), maildirs=(MD2,))
r = sg.run([sg.SYNCD, '--config', CONF2, '--store', STORE, '--once'], timeout=60)
ok(r, 'salesgetter-syncd --once')
wayne = js(sgc('process', 'list', '--org', 'wayne.com', '--format', 'json'))
tap.eq((wayne[0]['links'], wayne[0]['open_suggestions']) if wayne else None, (2, 1),
       'the daemon linked both new messages to Wayne\'s process and suggested a stage once ("quote": proposal)')
sources = {s['name']: s for s in js(sgc('import-list', '--sources', '--format', 'json'))}
tap.eq(sources.get('referral:julia@ourco.example', {}).get('people'), 5,
       'the daemon credited the new contact to the analyst (4 before, 5 now)')
tap.eq([(row['role'], row['origin']) for row in js(sgc('role', 'list', '--format', 'json'))
        if row['email'] == 'lucius@wayne.com'], [('lead', 'rule')],
       'the daemon derived the new contact\'s role: a lead, Wayne having an open process')

# --- the change log ------------------------------------------------------------------------
tap.eq(sg.scalar(STORE, "SELECT count(*) FROM changes WHERE entity = 'stage_history' AND natural_key = ?", (F,)),
       5, 'F\'s five history entries are in the change log by its UUID')
tap.eq(sg.scalar(STORE, "SELECT count(DISTINCT natural_key) FROM changes WHERE entity = 'process'"), 5,
       'five processes in the change log')
tap.ok(sg.scalar(STORE, "SELECT count(*) FROM changes WHERE entity = 'interaction_link' AND "
                        "natural_key = ? AND op = 'add'", ('a3@acme.com|' + F,)) == 1,
       'the manual link is logged by Message-ID and UUID')
tap.eq(sg.integrity(STORE), 'ok', 'the store is sound')

tap.done()
