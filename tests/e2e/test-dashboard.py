#!/usr/bin/env python3
"""End-to-end test of the managers' dashboard (issue 6, point 5): a team scenario made with
the real CLI in two account managers' stores is pushed through a real salesgetter-server's
POST /v1/sync (PostgreSQL started by the test); a manager logs in and the figures on the
pages are checked, filter by filter, against `salesgetter report --format json` on a client
store holding the same scenario: the overview's four reports, the closing-ratio page and the
customer-notes page (note texts an author's device did not share are marked, never shown).
Then: an account manager is refused, bad parameters get a 400 naming them, hostile names,
types, industries and notes stay text, sessions expire and log out, and headless Chromium
saves screenshots (build/tests/e2e/dashboard-screenshot.png, dashboard-notes-screenshot.png,
dashboard-closing-screenshot.png)."""

import html.parser
import http.client as httpclient
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import urllib.parse
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest as sg  # noqa: E402
import sgserver  # noqa: E402

tap = sg.start(sg.Tap())

if not sgserver.Postgres.available():
    tap.skip('dashboard', 'PostgreSQL is not installed (Debian postgresql)')
    sys.exit(tap.done())
if not os.path.exists(sgserver.SERVER):
    tap.skip('dashboard', 'salesgetter-server is not built')
    sys.exit(tap.done())

# --- the scenario ----------------------------------------------------------------------------
# Max and Julia are account managers, each with a store of their own; Boss is the manager.
# ALL is a client store that holds the whole scenario: `salesgetter report` runs on it.
HOSTILE_ORG = '<img src=x onerror=alert(1)>'
HOSTILE_CATEGORY = '"><script>alert(2)</script>'
HOSTILE_SOURCE = "list:Spring <Expo> & 'Co'"
HOSTILE_TYPE = '<img src=y onerror=alert(9)>'
HOSTILE_NOTE = '</td><script>alert(8)</script>'
HOSTILE_INDUSTRY = 'Retail & <Co>'
JULIA_NOTES = ('Slow to answer: the CFO is unhappy', 'Happy with the audit')
PROSPECTS = ('email,name,organisation,domain\n'
             'jane@acme.com,Jane Doe,Acme,acme.com\n'
             'bob@evil.example,Bob,"%s",evil.example\n' % HOSTILE_ORG)
csv_path = sg.path('prospects.csv')
with open(csv_path, 'w') as f:
    f.write(PROSPECTS)
csv2_path = sg.path('fair.csv')
with open(csv2_path, 'w') as f:
    f.write('email,name,organisation,domain\ncarl@globex.de,Carl,Globex,globex.de\n'
            'dana@initech.example,Dana,Initech,initech.example\n')

MAX = [
    ['import-list', csv_path, '--name', HOSTILE_SOURCE[5:], '--org-col', 'organisation', '--domain-col', 'domain'],
    # Studie: qualified, proposal, then lost. Lizenz: qualified, won.
    ('P1', ['process', 'new', '--org', 'acme.com', '--deliverable', 'Studie', '--value', '10000', '--currency', 'EUR',
            '--owner', 'max@ourco.example', '--cost', '600', '--source', 'event', '--opened', '2026-01-10',
            '--type', 'research']),
    ['process', 'move', '$P1', 'qualified'],
    ['process', 'move', '$P1', 'proposal'],
    ['process', 'close', '$P1', '--lost', '--reason', 'budget'],
    ('P2', ['process', 'new', '--org', 'acme.com', '--deliverable', 'Lizenz', '--value', '20000', '--currency', 'EUR',
            '--owner', 'max@ourco.example', '--cost', '200', '--source', 'event', '--opened', '2026-02-05',
            '--kind', 'product', '--type', 'licence']),
    ['process', 'move', '$P2', 'qualified'],
    ['process', 'close', '$P2', '--won'],
    ('P3', ['process', 'new', '--org', 'evil.example', '--deliverable', 'Forecast <beta>', '--value', '3000',
            '--currency', 'USD', '--owner', 'max@ourco.example', '--source', HOSTILE_SOURCE, '--opened', '2026-03-03',
            '--type', HOSTILE_TYPE]),
    ['process', 'move', '$P3', 'needs analysed'],
    ['request', 'add', 'Spanish training <b>now</b>', '--org', 'acme.com', '--category', 'training',
     '--date', '2026-01-05'],
    ['request', 'add', 'More training', '--org', 'acme.com', '--category', 'training', '--date', '2026-02-10'],
    ['note', 'add', 'Loves the <b>forecast</b>', '--org', 'acme.com', '--sentiment', 'positive', '--date', '2026-01-15'],
    ['note', 'add', 'Invoice late again', '--org', 'acme.com', '--sentiment', 'negative', '--date', '2026-02-20'],
    ['note', 'add', HOSTILE_NOTE, '--org', 'evil.example', '--sentiment', 'negative', '--date', '2026-03-05'],
]
JULIA = [
    ['import-list', csv2_path, '--name', 'Trade fair', '--org-col', 'organisation', '--domain-col', 'domain'],
    ('P4', ['process', 'new', '--org', 'globex.de', '--deliverable', 'Beratung', '--value', '5000', '--currency', 'USD',
            '--owner', 'julia@ourco.example', '--cost', '100', '--source', 'inbound', '--opened', '2026-03-01',
            '--type', 'consulting']),
    ['process', 'move', '$P4', 'proposal'],
    ('P5', ['process', 'new', '--org', 'globex.de', '--deliverable', 'Lizenz', '--value', '7000', '--currency', 'EUR',
            '--owner', 'julia@ourco.example', '--source', 'inbound', '--opened', '2026-01-20',
            '--kind', 'product', '--type', 'licence']),
    ['process', 'close', '$P5', '--won'],
    ('P6', ['process', 'new', '--org', 'initech.example', '--deliverable', 'Audit', '--owner', 'julia@ourco.example',
            '--opened', '2026-02-15']),
    ['process', 'move', '$P6', 'closed lost', '--reason', 'no budget'],
    ['request', 'add', 'An API in COBOL', '--org', 'globex.de', '--category', HOSTILE_CATEGORY, '--date', '2026-03-02'],
    # Julia's device does not share the texts of her notes (see below): the server gets
    # their organisation, sentiment, author and date only.
    ['note', 'add', JULIA_NOTES[0], '--org', 'globex.de', '--sentiment', 'negative', '--date', '2026-03-03'],
    ['note', 'add', JULIA_NOTES[1], '--org', 'initech.example', '--sentiment', 'positive', '--date', '2026-02-20'],
]


def make_store(name, who, steps_lists):
    store = sg.path(name + '.db')
    conf = sg.write_config(sg.path(name + '.conf'), name=who, addresses=('%s@ourco.example' % who.lower(),),
                           internal_domains=('ourco.example',))
    ids = {}
    for steps in steps_lists:
        for step in steps:
            var, args = step if isinstance(step, tuple) else (None, step)
            args = [ids.get(a[1:], a) if a.startswith('$') else a for a in args]
            r = sg.cli(*args, store=store, config=conf)
            if r.rc != 0:
                raise RuntimeError('scenario step failed: %r' % r)
            if var:
                ids[var] = r.out.strip()
    return store, conf


max_store, _ = make_store('max', 'Max', [MAX])
julia_store, _ = make_store('julia', 'Julia', [JULIA])
all_store, all_conf = make_store('all', 'Boss', [MAX, JULIA])
tap.ok(True, 'the scenario runs through the CLI in three stores')

# --- the server -------------------------------------------------------------------------------
pg = sgserver.Postgres.start()
srv = sgserver.Server.start(pg, tap)
srv.user_add('boss', 'manager', ['boss@ourco.example'])
srv.user_add('max', 'account-manager', ['max@ourco.example'])
srv.user_add('julia', 'account-manager', ['julia@ourco.example'])
TOKENS = {u: srv.token_new(u, device='laptop') for u in ('boss', 'max', 'julia')}


def change_log_ops(store):
    """The store's change log as the contract's ops (hlc as 16 hex digits)."""
    con = sqlite3.connect(store)
    try:
        device = con.execute("SELECT value FROM store_meta WHERE key = 'device_id'").fetchone()
        rows = con.execute('SELECT op_id, device, hlc, entity, natural_key, op, fields FROM changes ORDER BY seq')
        ops = [{'op_id': r[0], 'hlc': '%016x' % r[2], 'entity': r[3], 'key': r[4], 'op': r[5],
                'fields': json.loads(r[6])} for r in rows]
        dev = device[0] if device else (ops[0]['op_id'].split(':')[0] if ops else None)
    finally:
        con.close()
    return dev, ops


for user, store in (('max', max_store), ('julia', julia_store)):
    device, ops = change_log_ops(store)
    if user == 'julia':
        # A note that arrives without "text" (an older or a foreign client may send one):
        # the page counts it and marks its text as not shared.
        for op in ops:
            if op['entity'] == 'cx_note':
                op['fields'].pop('text', None)
    st, answer = sgserver.sync(srv.url, TOKENS[user], device, ops=ops)
    tap.ok(st == 200 and answer and len(answer['acked']) == len(ops) and not answer['rejected'],
           '%s pushes %d ops through /v1/sync' % (user, len(ops)), repr((st, answer and answer.get('rejected'))))

# Industries (customer types): a store sets one with `salesgetter orgs set --industry` or a
# prospect list's industry column, and syncs it as an `organisation` upsert; here the boss's
# device pushes two such upserts, and the reference store gets the same values.
import time  # noqa: E402
hlc = int(time.time() * 1000) << 16
ind_ops = [{'op_id': 'boss-laptop:%016x' % (hlc + i), 'hlc': '%016x' % (hlc + i), 'entity': 'organisation',
            'key': dom, 'op': 'upsert', 'fields': {'industry': ind}}
           for i, (dom, ind) in enumerate((('acme.com', HOSTILE_INDUSTRY), ('globex.de', 'Manufacturing')))]
st, answer = sgserver.sync(srv.url, TOKENS['boss'], 'boss-laptop', ops=ind_ops)
tap.ok(st == 200 and answer and len(answer['acked']) == 2, 'the industries of two organisations are pushed',
       repr((st, answer)))
con = sqlite3.connect(all_store)
con.execute('UPDATE organisations SET industry = ? WHERE domain = ?', (HOSTILE_INDUSTRY, 'acme.com'))
con.execute('UPDATE organisations SET industry = ? WHERE domain = ?', ('Manufacturing', 'globex.de'))
con.commit()
con.close()

# --- HTTP as a browser does it (no redirects followed, cookies by hand) --------------------------
HOST, PORT = '127.0.0.1', srv.port


def http(method, path, body=None, cookie=None, headers=None):
    conn = httpclient.HTTPConnection(HOST, PORT, timeout=60)
    h = dict(headers or {})
    if cookie:
        h['Cookie'] = cookie
    if body is not None:
        h['Content-Type'] = 'application/x-www-form-urlencoded'
        body = body.encode() if isinstance(body, str) else body
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    hdrs = r.getheaders()
    conn.close()
    return r.status, hdrs, data


def header(hdrs, name):
    for k, v in hdrs:
        if k.lower() == name.lower():
            return v
    return None


def login(user, token, login_name=None):
    form = urllib.parse.urlencode({'login': user if login_name is None else login_name, 'token': token})
    return http('POST', '/dashboard/login', body=form)


WITHHELD = object()  # a cell the page marks as not shared by its author


class Page(html.parser.HTMLParser):
    """Tables by id (rows of {data-col: text}), the #message text, images, inputs."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tables, self.images, self.inputs, self.message, self.tags = {}, [], {}, None, []
        self.texts, self._text_id = {}, None  # the text of each <p> with an id
        self._table = self._row = self._col = None
        self._in_message = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == 'p' and a.get('id'):
            self._text_id = a['id']
            self.texts[self._text_id] = ''
        if tag == 'table':
            self._table = self.tables.setdefault(a.get('id'), [])
        elif tag == 'tr' and self._table is not None:
            self._row = {}
        elif tag == 'td' and self._row is not None:
            self._col = a.get('data-col')
            self._row[self._col] = WITHHELD if a.get('class') == 'withheld' else ''
        elif tag == 'img':
            self.images.append(a.get('src'))
        elif tag == 'input':
            self.inputs[a.get('name')] = a.get('value')
        elif a.get('id') == 'message':
            self._in_message = True
            self.message = ''
        elif a.get('id', '').endswith('-empty'):
            self.tables[a['id'][:-6]] = []

    def handle_endtag(self, tag):
        if tag == 'td':
            self._col = None
        elif tag == 'tr' and self._row is not None:
            if self._row:
                self._table.append(self._row)
            self._row = None
        elif tag == 'table':
            self._table = None
        elif tag == 'p':
            self._in_message = False
            self._text_id = None

    def handle_data(self, data):
        if self._text_id is not None:
            self.texts[self._text_id] += data
        if self._col is not None and self._row[self._col] is WITHHELD:
            pass
        elif self._col is not None:
            self._row[self._col] += data
        elif self._in_message:
            self.message += data


# --- login ----------------------------------------------------------------------------------
st, hdrs, _ = http('GET', '/dashboard')
tap.eq((st, header(hdrs, 'Location')), (303, '/dashboard/login'), 'no session: GET /dashboard redirects to the login')
st, hdrs, body = http('GET', '/dashboard/login')
tap.ok(st == 200 and b'name="token"' in body, 'the login form')
st, _, body = login('boss', 'not-a-token')
tap.ok(st == 401 and 'Unknown login or token.' in Page(body.decode()).message, 'a wrong token: 401', body[:300])
st, _, body = login('max', TOKENS['boss'])
tap.eq(st, 401, "the boss's token with another login: 401")
st, hdrs, body = login('max', TOKENS['max'])
tap.ok(st == 403 and 'for managers only' in Page(body.decode()).message and header(hdrs, 'Set-Cookie') is None,
       'an account manager is refused (403, no session)', repr((st, body[:300])))
tap.eq(pg.scalar('SELECT count(*) FROM dashboard_sessions'), 0, 'no session stored for a refused login')

st, hdrs, _ = login('boss', TOKENS['boss'], login_name='')
tap.ok(st == 303 and (header(hdrs, 'Set-Cookie') or '').startswith('sg_session='), 'the token alone logs in too')
pg.psql(pg.dbname, 'DELETE FROM dashboard_sessions')
st, hdrs, _ = login('boss', TOKENS['boss'])
set_cookie = header(hdrs, 'Set-Cookie') or ''
tap.eq((st, header(hdrs, 'Location')), (303, '/dashboard'), 'the manager logs in: 303 to the dashboard')
attrs = [a.strip() for a in set_cookie.split(';')]
tap.ok(attrs[0].startswith('sg_session=') and len(attrs[0]) == len('sg_session=') + 64 and 'HttpOnly' in attrs
       and 'SameSite=Strict' in attrs and 'Path=/dashboard' in attrs and 'Max-Age=28800' in attrs,
       'the session cookie: random id, HttpOnly, SameSite=Strict, Path, expiry', set_cookie)
COOKIE = attrs[0]
session_id = COOKIE.split('=', 1)[1]
stored = pg.rows('SELECT id_hash, expires_at > now() + interval \'7 hours\' FROM dashboard_sessions')
import hashlib  # noqa: E402
tap.ok(len(stored) == 1 and stored[0][0] == hashlib.sha256(session_id.encode()).hexdigest() and stored[0][1]
       and session_id not in json.dumps(stored), 'the database holds the hash of the session id, with an expiry',
       repr(stored))
st, hdrs, body = http('GET', '/dashboard', cookie=COOKIE)
csp = header(hdrs, 'Content-Security-Policy') or ''
tap.ok(st == 200 and "default-src 'none'" in csp and 'script-src' not in csp, 'the dashboard page, no script allowed',
       repr((st, csp)))

# --- the figures against salesgetter report ---------------------------------------------------
REPORTS = ['managers', 'sources', 'stages', 'requests']
FILTERS = [
    {},
    {'owner': 'max@ourco.example'},
    {'owner': 'Julia@OurCo.example'},
    {'from': '2026-02-01'},
    {'from': '2026-01-01', 'to': '2026-02-01'},
    {'pipeline': 'default'},
    {'from': '2099-01-01'},
    {'pipeline': 'nope'},
]


def cli_report(name, flt):
    args = ['report', name, '--format', 'json']
    for k in ('owner', 'pipeline', 'from', 'to'):
        if k in flt:
            args += ['--' + k, flt[k]]
    r = sg.cli(*args, store=all_store, config=all_conf)
    if r.rc != 0:
        raise RuntimeError(repr(r))
    return json.loads(r.out)


def day(text):
    if not text:
        return 0
    import calendar
    return calendar.timegm(time.strptime(text, '%Y-%m-%d'))


def cell(v):
    return '' if v is None else str(v)


def compare(name, page_rows, cli_rows):
    """The page shows each report's visible columns, as the CLI's JSON has them. Time in stage
    (avg_days) may differ by 0.1 day: the stores' moves ran seconds apart."""
    if len(page_rows) != len(cli_rows):
        return 'rows: page %d, cli %d' % (len(page_rows), len(cli_rows))
    for i, (p, c) in enumerate(zip(page_rows, cli_rows)):
        for col, text in p.items():
            want = cell(c.get(col))
            if text is WITHHELD or want in JULIA_NOTES:
                # The server never got the text: the page must say so, exactly there.
                if not (text is WITHHELD and col == 'latest_text' and want in JULIA_NOTES):
                    return 'row %d %s: page %r, cli %r (withheld texts)' % (i, col, text, want)
            elif col == 'avg_days' and want not in ('', 'n/a') and text not in ('', 'n/a'):
                if abs(float(text) - float(want)) > 0.11:
                    return 'row %d %s: page %r, cli %r' % (i, col, text, want)
            elif text != want:
                return 'row %d %s: page %r, cli %r' % (i, col, text, want)
    return None


checked = 0
for flt in FILTERS:
    q = urllib.parse.urlencode(flt)
    st, _, body = http('GET', '/dashboard' + ('?' + q if q else ''), cookie=COOKIE)
    page = Page(body.decode())
    for name in REPORTS:
        rows = page.tables.get('report-' + name)
        want = cli_report(name, flt)
        problem = 'no table' if rows is None else compare(name, rows, want)
        tap.ok(st == 200 and problem is None, '%s with %s: the page shows the figures of salesgetter report' % (
            name, q or 'no filter'), '%s\npage: %r\ncli: %r' % (problem, rows, want))
        checked += len(want)
    tap.ok(all(page.inputs.get(k) == (v.lower() if k == 'owner' else v) for k, v in flt.items()),
           'the filter form shows the filters (%s)' % (q or 'none'), repr(page.inputs))
    # The closing-ratio page (a table per dimension) and the notes page, same filters.
    st, _, body = http('GET', '/dashboard/closing' + ('?' + q if q else ''), cookie=COOKIE)
    page = Page(body.decode())
    rows = []
    for dim in ('deliverable_kind', 'deliverable_type', 'industry'):
        part = page.tables.get('report-closing-' + dim)
        rows = None if part is None or rows is None else rows + [dict(r, by=dim) for r in part]
    want = cli_report('closing', flt)
    problem = 'no table' if rows is None else compare('closing', rows, want)
    tap.ok(st == 200 and problem is None, 'closing with %s: the page shows the figures of salesgetter report' % (
        q or 'no filter'), '%s\npage: %r\ncli: %r' % (problem, rows, want))
    checked += len(want)
    tap.ok(all(page.inputs.get(k) == (v.lower() if k == 'owner' else v) for k, v in flt.items()),
           'the closing page\'s filter form shows the filters (%s)' % (q or 'none'), repr(page.inputs))
    st, _, body = http('GET', '/dashboard/notes' + ('?' + q if q else ''), cookie=COOKIE)
    page = Page(body.decode())
    rows = page.tables.get('report-notes')
    want = cli_report('notes', flt)
    problem = 'no table' if rows is None else compare('notes', rows, want)
    tap.ok(st == 200 and problem is None, 'notes with %s: the page shows the figures of salesgetter report' % (
        q or 'no filter'), '%s\npage: %r\ncli: %r' % (problem, rows, want))
    checked += len(want)
    # The page says how many notes of the period came without their text: Julia's.
    con = sqlite3.connect(all_store)
    hidden = con.execute('SELECT count(*) FROM cx_notes WHERE text IN (?, ?) AND (? = 0 OR noted_at >= ?) '
                         'AND (? = 0 OR noted_at < ?)',
                         JULIA_NOTES + (day(flt.get('from')),) * 2 + (day(flt.get('to')),) * 2).fetchone()[0]
    con.close()
    said = page.texts.get('notes-withheld', '')
    tap.ok(('%d of the %d notes' % (hidden, sum(r['notes'] for r in want)) in said) if hidden else not said,
           'notes with %s: the page says %d note texts are not on the server' % (q or 'no filter', hidden), said)
tap.ok(checked > 60, 'the comparison covered %d report rows' % checked)

# Hand-checked anchors, so that a bug common to both sides would still show.
page = Page(http('GET', '/dashboard', cookie=COOKIE)[2].decode())
mgr = {(r['account_manager'], r['currency']): r for r in page.tables['report-managers']}
tap.eq({k: (v['processes'], v['won'], v['lost'], v['closing_ratio'], v['won_value'], v['avg_cost'])
        for k, v in mgr.items()},
       {('julia@ourco.example', None): ('1', '0', '1', '0.0%', '0.00', '0.00'),
        ('julia@ourco.example', 'EUR'): ('1', '1', '0', '100.0%', '7000.00 EUR', '0.00 EUR'),
        ('julia@ourco.example', 'USD'): ('1', '0', '0', 'n/a', '0.00 USD', '100.00 USD'),
        ('max@ourco.example', 'EUR'): ('2', '1', '1', '50.0%', '20000.00 EUR', '400.00 EUR'),
        ('max@ourco.example', 'USD'): ('1', '0', '0', 'n/a', '0.00 USD', '0.00 USD')}
       if ('julia@ourco.example', None) in mgr else
       {('julia@ourco.example', ''): ('1', '0', '1', '0.0%', '0.00', '0.00'),
        ('julia@ourco.example', 'EUR'): ('1', '1', '0', '100.0%', '7000.00 EUR', '0.00 EUR'),
        ('julia@ourco.example', 'USD'): ('1', '0', '0', 'n/a', '0.00 USD', '100.00 USD'),
        ('max@ourco.example', 'EUR'): ('2', '1', '1', '50.0%', '20000.00 EUR', '400.00 EUR'),
        ('max@ourco.example', 'USD'): ('1', '0', '0', 'n/a', '0.00 USD', '0.00 USD')},
       'managers by hand: Max won 1 of 2 in EUR (50%, cost (600+200)/2); nothing closed in USD: n/a')
stg = {r['stage']: r for r in page.tables['report-stages']}
tap.eq({s: (stg[s]['entered'], stg[s]['lost_here'], stg[s]['drop_off']) for s in ('identified', 'qualified', 'proposal')},
       {'identified': ('6', '1', '16.7%'), 'qualified': ('2', '0', '0.0%'), 'proposal': ('2', '1', '50.0%')},
       'stage drop-off by hand: 6 entered identified, Audit lost from it; Studie lost from proposal')
src = {(r['source'], r['currency']): r for r in page.tables['report-sources']}
tap.eq((src.get((HOSTILE_SOURCE, 'USD'), {}).get('leads'), src.get(('event', 'EUR'), {}).get('closing_ratio'),
        src.get(('inbound', 'EUR'), {}).get('revenue')), ('2', '50.0%', '7000.00 EUR'),
       'lead sources by hand: the list brought 2 leads; event 1 of 2; inbound 7000 EUR')
req = page.tables['report-requests']
tap.eq([(r['category'], r['organisation'], r['requests']) for r in req],
       [(HOSTILE_CATEGORY, 'Globex', '1'), ('training', 'Acme', '2')],
       'requests by hand: training twice at Acme; the hostile category is shown as text')

page = Page(http('GET', '/dashboard/closing', cookie=COOKIE)[2].decode())
kinds = {(r['value'], r['currency']): (r['processes'], r['won'], r['lost'], r['closing_ratio'], r['won_value'])
         for r in page.tables['report-closing-deliverable_kind']}
inds = {(r['value'], r['currency']): (r['processes'], r['won'], r['lost'], r['closing_ratio'], r['won_value'])
        for r in page.tables['report-closing-industry']}
types = [r['value'] for r in page.tables['report-closing-deliverable_type']]
tap.ok(kinds.get(('product', 'EUR')) == ('2', '2', '0', '100.0%', '27000.00 EUR')
       and kinds.get(('service', 'EUR')) == ('1', '0', '1', '0.0%', '0.00 EUR')
       and inds.get((HOSTILE_INDUSTRY, 'EUR')) == ('2', '1', '1', '50.0%', '20000.00 EUR')
       and inds.get(('Manufacturing', 'EUR')) == ('1', '1', '0', '100.0%', '7000.00 EUR')
       and HOSTILE_TYPE in types and '(none)' in types,
       'closing by hand: both licences (products) won, 27000 EUR; Acme (the hostile industry) 1 of 2; '
       'Audit has no type', repr((kinds, inds, types)))
page = Page(http('GET', '/dashboard/notes', cookie=COOKIE)[2].decode())
tap.eq([(r['organisation'], r['notes'], r['positive'], r['negative'], r['latest'],
         'WITHHELD' if r['latest_text'] is WITHHELD else r['latest_text']) for r in page.tables['report-notes']],
       [('Acme', '2', '1', '1', '2026-02-20T00:00:00Z', 'Invoice late again'),
        (HOSTILE_ORG, '1', '0', '1', '2026-03-05T00:00:00Z', HOSTILE_NOTE),
        ('Globex', '1', '0', '1', '2026-03-03T00:00:00Z', 'WITHHELD'),
        ('Initech', '1', '1', '0', '2026-02-20T00:00:00Z', 'WITHHELD')],
       'notes by hand: most negative first; Julia\'s texts are not on the server and say so')
tap.ok('2 of the 5 notes' in page.texts.get('notes-withheld', ''), 'notes: the page says 2 of 5 texts are withheld',
       repr(page.texts))
tap.eq(pg.scalar("SELECT count(*) FROM entity_state WHERE entity = 'cx_note' AND fields ? 'text' "
                 "AND fields->>'organisation' IN ('globex.de', 'initech.example')"), 0,
       'the server\'s database holds no text of Julia\'s notes (what is withheld is not there to show)')

# Every report `salesgetter report --help` lists has its table on a dashboard page.
import re  # noqa: E402
help_text = sg.cli('report', '--help', store=all_store, config=all_conf).out
listed = re.findall(r'^  ([a-z]+)  ', help_text.split('Reports for sales management:')[-1].split('--format')[0], re.M)
ids = set()
for path in ('/dashboard', '/dashboard/closing', '/dashboard/notes'):
    ids |= {k.split('-')[1] for k in Page(http('GET', path, cookie=COOKIE)[2].decode()).tables if k}
tap.ok(len(listed) >= 6 and set(listed) <= ids, 'every report of salesgetter report --help is on the dashboard',
       repr((listed, sorted(ids))))

# --- escaping -------------------------------------------------------------------------------
raw = http('GET', '/dashboard', cookie=COOKIE)[2].decode()
tap.ok('<script' not in raw and '<img src=x' not in raw and '<b>now</b>' not in raw
       and all(t in ('html', 'head', 'meta', 'link', 'title', 'body', 'header', 'h1', 'h2', 'form', 'span', 'button',
                     'label', 'input', 'a', 'section', 'p', 'img', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'nav')
               for t, _ in Page(raw).tags),
       'names, categories and sources from mail stay text (no markup of theirs on the page)')
tap.ok('&lt;script&gt;alert(2)&lt;/script&gt;' in raw and 'Spring &lt;Expo&gt; &amp; &apos;Co&apos;' in raw,
       'they are shown escaped')
ALLOWED_TAGS = ('html', 'head', 'meta', 'link', 'title', 'body', 'header', 'h1', 'h2', 'form', 'span', 'button',
                'label', 'input', 'a', 'section', 'p', 'img', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'nav')
for path in ('/dashboard/closing', '/dashboard/notes'):
    raw = http('GET', path, cookie=COOKIE)[2].decode()
    tap.ok('<script' not in raw and '<img src=' not in raw.replace('<img class="chart" src=', '')
           and '<b>forecast' not in raw and all(t in ALLOWED_TAGS for t, _ in Page(raw).tags)
           and sum(1 for t, _ in Page(raw).tags if t == 'img') == 1,
           '%s: types, industries, organisations and note texts from the data stay text' % path)
raw = http('GET', '/dashboard/closing', cookie=COOKIE)[2].decode()
tap.ok('&lt;img src=y onerror=alert(9)&gt;' in raw and 'Retail &amp; &lt;Co&gt;' in raw,
       'closing: the hostile type and industry are shown escaped')
raw = http('GET', '/dashboard/notes', cookie=COOKIE)[2].decode()
tap.ok('&lt;/td&gt;&lt;script&gt;alert(8)&lt;/script&gt;' in raw and '&lt;img src=x onerror=alert(1)&gt;' in raw,
       'notes: the hostile note text and organisation are shown escaped')
q = urllib.parse.urlencode({'pipeline': '"><img src=x onerror=alert(3)>'})
st, _, body = http('GET', '/dashboard?' + q, cookie=COOKIE)
p = Page(body.decode())
tap.ok(st == 200 and p.inputs.get('pipeline') == '"><img src=x onerror=alert(3)>' and '<img src=x' not in body.decode()
       and p.tables.get('report-stages') == [], 'a hostile filter value stays inside its attribute; no such pipeline')

# --- bad parameters ---------------------------------------------------------------------------
for query, named in (('from=2026-13-01', 'parameter “from”'), ('colour=red', 'unknown parameter “colour”'),
                     ('owner=nobody', 'parameter “owner”'), ('from=2026-03-01&to=2026-02-01', 'parameter “to”'),
                     ('pipeline=' + 'x' * 400, 'parameter “pipeline”')):
    st, hdrs, body = http('GET', '/dashboard?' + query, cookie=COOKIE)
    msg = Page(body.decode()).message or ''
    tap.ok(st == 400 and named in msg and 'text/html' in (header(hdrs, 'Content-Type') or ''),
           '?%s: 400 naming it (%s)' % (query[:40], msg[:80]), repr((st, body[:400])))

for path in ('/dashboard/closing', '/dashboard/notes'):
    st, hdrs, body = http('GET', path + '?from=2026-02-30', cookie=COOKIE)
    tap.ok(st == 400 and 'parameter “from”' in (Page(body.decode()).message or ''),
           '%s?from=2026-02-30: 400 naming it' % path, repr((st, body[:300])))
    st, _, _ = http('GET', path)
    tap.eq(st, 401, '%s without a session: 401' % path)
    st, _, _ = http('POST', path, body='', cookie=COOKIE)
    tap.eq(st, 405, '%s: POST is 405' % path)

# --- charts ----------------------------------------------------------------------------------
for name in ('stages', 'managers', 'sources', 'requests', 'closing', 'notes', 'stages-time'):
    st, hdrs, body = http('GET', '/dashboard/chart/%s.svg?owner=max%%40ourco.example' % name, cookie=COOKIE)
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        root = None
    tap.ok(st == 200 and header(hdrs, 'Content-Type') == 'image/svg+xml' and root is not None
           and root.tag == '{http://www.w3.org/2000/svg}svg' and b'<script' not in body,
           'chart %s: an SVG document' % name, repr((st, body[:200])))
# The funnel is the CLI's: same drawing code, same table.
st, _, body = http('GET', '/dashboard/chart/stages.svg?owner=max%40ourco.example', cookie=COOKIE)
r = sg.cli('report', 'stages', '--owner', 'max@ourco.example', '--format', 'svg', store=all_store, config=all_conf)
if r.rc == 0:
    def rects(svg):
        return sorted(ET.fromstring(svg).iter('{http://www.w3.org/2000/svg}path'), key=lambda e: e.get('d', '')) \
            and len(list(ET.fromstring(svg).iter('{http://www.w3.org/2000/svg}path')))
    tap.eq(rects(body), rects(r.out.encode()), 'the funnel has the shapes of report stages --format svg')
st, _, _ = http('GET', '/dashboard/chart/stages.svg')
tap.eq(st, 401, 'a chart without a session: 401')
st, _, _ = http('GET', '/dashboard/chart/nope.svg', cookie=COOKIE)
tap.eq(st, 404, 'an unknown chart: 404')

# --- headless Chromium: a manager logs in as a user does ------------------------------------------
chromium = shutil.which('chromium') or shutil.which('chromium-browser')
shot = os.path.join(sg.BUILDDIR, 'tests', 'e2e', 'dashboard-screenshot.png')
if chromium is None:
    tap.skip('Chromium', 'chromium is not installed (Debian chromium)')
else:
    import sgchromium  # noqa: E402
    base = 'http://127.0.0.1:%d' % PORT
    browser = None
    try:
        browser = sgchromium.Browser.start(chromium, sg.path('chromium'), sg.path('chromium.log'), env=sg.child_env())
        tab = browser.new_tab()
        tab.navigate(base + '/dashboard')
        tap.eq(tab.url(), base + '/dashboard/login', 'Chromium: /dashboard sends a stranger to the login form')
        tab.type_into('input[name=login]', 'boss')
        tab.type_into('input[name=token]', TOKENS['boss'])
        tab.press_enter()
        tap.ok(tab.url() == base + '/dashboard' and 'boss' in (tab.text('#user') or ''),
               'Chromium: the manager types login and token, presses Enter, and is on the dashboard', tab.url())
        jar = [c for c in tab.cookies() if c['name'] == 'sg_session']
        tap.ok(len(jar) == 1 and jar[0]['httpOnly'] and jar[0]['sameSite'] == 'Strict'
               and jar[0]['path'] == '/dashboard', "Chromium's cookie jar: sg_session, HttpOnly, SameSite=Strict", repr(jar))
        try:
            tap.eq(tab.evaluate('document.cookie'), '', 'no script can read the session cookie (HttpOnly)')
            tap.ok(tab.evaluate('Array.from(document.images).length === 5 && Array.from(document.images).every('
                                'i => i.complete && i.naturalWidth > 0)'), 'Chromium: the five charts load as images')
            tap.eq(tab.evaluate('document.querySelectorAll("#report-managers tbody tr").length'),
                   len(cli_report('managers', {})), 'Chromium: the managers table has the report\'s rows')
        except sgchromium.Error as e:
            tap.ok(False, 'Chromium evaluates read-only checks', str(e))
        if os.path.exists(shot):
            os.unlink(shot)
        tab.screenshot(shot)
        with open(shot, 'rb') as f:
            head = f.read(8)
        tap.ok(head == b'\x89PNG\r\n\x1a\n' and os.path.getsize(shot) > 20000,
               'Chromium: screenshot of the whole page saved: %s' % shot)
        # The new pages, reached by the navigation as a user does.
        tab.navigate(base + '/dashboard/notes')
        shot2 = os.path.join(sg.BUILDDIR, 'tests', 'e2e', 'dashboard-notes-screenshot.png')
        try:
            tap.ok(tab.evaluate('document.querySelectorAll("#report-notes tbody tr").length === %d && '
                                'document.querySelectorAll("td.withheld").length === 2 && '
                                'document.images.length === 1 && document.images[0].complete && '
                                'document.images[0].naturalWidth > 0' % len(cli_report('notes', {}))),
                   'Chromium: the notes page: its rows, two withheld texts marked, its chart loaded')
        except sgchromium.Error as e:
            tap.ok(False, 'Chromium evaluates read-only checks on the notes page', str(e))
        if os.path.exists(shot2):
            os.unlink(shot2)
        tab.screenshot(shot2)
        with open(shot2, 'rb') as f:
            head = f.read(8)
        tap.ok(head == b'\x89PNG\r\n\x1a\n' and os.path.getsize(shot2) > 20000,
               'Chromium: screenshot of the notes page saved: %s' % shot2)
        tab.navigate(base + '/dashboard/closing?owner=max%40ourco.example')
        try:
            tap.ok(tab.evaluate('document.querySelectorAll("table[id^=report-closing-]").length === 3 && '
                                'document.images.length === 1 && document.images[0].naturalWidth > 0 && '
                                'document.querySelector("nav a.current").textContent === "Closing ratios" && '
                                'document.querySelector("input[name=owner]").value === "max@ourco.example"'),
                   'Chromium: the closing page: three tables, its chart, the filter kept')
        except sgchromium.Error as e:
            tap.ok(False, 'Chromium evaluates read-only checks on the closing page', str(e))
        shot3 = os.path.join(sg.BUILDDIR, 'tests', 'e2e', 'dashboard-closing-screenshot.png')
        tab.screenshot(shot3)
        with open(shot3, 'rb') as f:
            head = f.read(8)
        tap.ok(head == b'\x89PNG\r\n\x1a\n' and os.path.getsize(shot3) > 20000,
               'Chromium: screenshot of the closing page saved: %s' % shot3)
        # An account manager, in a fresh cookie jar: refused.
        tab2 = browser.new_tab()
        tab2.navigate(base + '/dashboard/login')
        tab2.type_into('input[name=login]', 'max')
        tab2.type_into('input[name=token]', TOKENS['max'])
        tab2.press_enter()
        tap.ok('for managers only' in (tab2.text('#message') or '')
               and not [c for c in tab2.cookies() if c['name'] == 'sg_session'],
               'Chromium: an account manager who logs in is refused, with no session cookie', tab2.text('body'))
        tab2.navigate(base + '/dashboard')
        tap.eq(tab2.url(), base + '/dashboard/login', 'Chromium: and the dashboard still sends them to the login')
    except (sgchromium.Error, OSError) as e:
        log = ''
        try:
            with open(sg.path('chromium.log'), errors='replace') as f:
                log = f.read()[-3000:]
        except OSError:
            pass
        tap.ok(False, 'Chromium drives the dashboard', '%s\n%s' % (e, log))
    finally:
        if browser is not None:
            browser.stop()

# --- what a hostile client could have stored --------------------------------------------------
# The server keeps fields as the ops carried them: numbers that are not numbers must count as
# missing, not fail the page.
pg.psql(pg.dbname, """INSERT INTO entity_state (entity, natural_key, fields) VALUES ('process', 'x-1',
  '{"account_manager": "mallory@ourco.example", "status": "won", "value_minor": "lots", "cost_minor": [1],
    "opened_at": "soon", "currency": "EUR", "stage": 5, "pipeline": "default"}')""")
pg.psql(pg.dbname, """INSERT INTO entity_history (op_id, entity, natural_key, hlc, fields, user_id) VALUES
  ('x:1', 'stage_history', 'x-1', '0000000000000001', '{"event": "open", "to_stage": "identified", "moved_at": "never"}',
   (SELECT id FROM users WHERE login = 'max')),
  ('x:2', 'stage_history', 'x-1', '0000000000000002', '{"event": "move", "to_stage": "qualified", "moved_at": 1e400}',
   (SELECT id FROM users WHERE login = 'max'))""")
st, _, body = http('GET', '/dashboard', cookie=COOKIE)
page = Page(body.decode())
mal = [r for r in page.tables.get('report-managers', []) if r['account_manager'] == 'mallory@ourco.example']
stg = {r['stage']: r for r in page.tables.get('report-stages', [])}
tap.ok(st == 200 and [(r['processes'], r['won'], r['won_value'], r['avg_cost']) for r in mal]
       == [('1', '1', '0.00 EUR', '0.00 EUR')] and stg.get('identified', {}).get('entered') == '7',
       'fields that are not numbers count as missing; the page still renders', repr((st, mal)))
st, _, body = http('GET', '/dashboard?from=2026-01-01', cookie=COOKIE)
tap.ok(st == 200 and 'mallory' not in body.decode(), 'a process with no opening date is outside any period')
st, _, body = http('GET', '/dashboard/closing', cookie=COOKIE)
page = Page(body.decode())
odd = [r for r in page.tables.get('report-closing-deliverable_kind', []) if r['value'] == '(none)']
tap.ok(st == 200 and [(r['processes'], r['won'], r['won_value']) for r in odd] == [('1', '1', '0.00 EUR')],
       'closing: a process with no kind counts under (none); its non-number value as missing', repr((st, odd)))
pg.psql(pg.dbname, """INSERT INTO entity_state (entity, natural_key, fields) VALUES ('cx_note', 'x-n',
  '{"organisation": "acme.com", "sentiment": 5, "text": {"html": "<b>x</b>"}, "noted_at": "soon"}')""")
st, _, body = http('GET', '/dashboard/notes', cookie=COOKIE)
page = Page(body.decode())
acme = [r for r in page.tables.get('report-notes', []) if r['organisation'] == 'Acme']
tap.ok(st == 200 and [(r['notes'], r['positive'], r['neutral'], r['negative'], r['latest_text']) for r in acme]
       == [('3', '1', '0', '1', 'Invoice late again')] and '<b>x' not in body.decode(),
       'notes: a note with a non-number date, an odd sentiment and a non-text text counts, shows nothing of its own',
       repr((st, acme)))
st, _, body = http('GET', '/dashboard/notes?from=2026-01-01', cookie=COOKIE)
acme = [r for r in Page(body.decode()).tables.get('report-notes', []) if r['organisation'] == 'Acme']
tap.ok(st == 200 and [r['notes'] for r in acme] == ['2'], 'a note with no date is outside any period', repr(acme))
pg.psql(pg.dbname, "DELETE FROM entity_state WHERE natural_key IN ('x-1', 'x-n'); "
        "DELETE FROM entity_history WHERE op_id IN ('x:1', 'x:2')")

# --- a metadata user's notes, through the real sync client ------------------------------------
# A note is typed into the CRM for the team, not read from mail: the share level (what of
# mail leaves the machine) does not hold it back, so a `metadata` user's notes count and
# show on the page with their text (schema/sync.md, "Privacy"). A note about an excluded
# organisation never leaves the machine.
srv.user_add('dana', 'analyst', ['dana@ourco.example'])
dana_dir = sg.path('dana')
os.makedirs(dana_dir, exist_ok=True)
dana_token = os.path.join(dana_dir, 'token')
with open(dana_token, 'w') as f:
    f.write(srv.token_new('dana', device='dana-laptop') + '\n')
os.chmod(dana_token, 0o600)
dana_conf = sg.write_config(os.path.join(dana_dir, 'salesgetter.conf'), name='Dana',
                            addresses=('dana@ourco.example',), internal_domains=('ourco.example',),
                            extra='\n[sync]\nserver=%s\ntoken-file=%s\nshare=metadata\n'
                                  'exclude-domains=hidden.example\n' % (srv.url, dana_token))
dana_store = os.path.join(dana_dir, 'store.db')
DANA_NOTE = 'Dana: their CEO is leaving in May'
HIDDEN_NOTE = 'Dana secret: hidden.example is talking to a rival'
dana_csv = os.path.join(dana_dir, 'd.csv')
with open(dana_csv, 'w') as f:
    f.write('email,name,organisation,domain\nzed@umbrella.example,Zed,Umbrella,umbrella.example\n'
            'hal@hidden.example,Hal,Hidden,hidden.example\n')
steps = [sg.cli('import-list', dana_csv, '--name', 'Dana list', '--org-col', 'organisation', '--domain-col', 'domain',
                store=dana_store, config=dana_conf),
         sg.cli('note', 'add', DANA_NOTE, '--org', 'umbrella.example', '--sentiment', 'negative', '--date', '2026-03-10',
                store=dana_store, config=dana_conf),
         sg.cli('note', 'add', HIDDEN_NOTE, '--org', 'hidden.example', '--date', '2026-03-11',
                store=dana_store, config=dana_conf),
         sg.cli('request', 'add', 'A rival feature', '--org', 'hidden.example', '--category', 'product',
                store=dana_store, config=dana_conf),
         sg.cli('sync', store=dana_store, config=dana_conf)]
tap.ok(all(r.rc == 0 for r in steps), 'a metadata user notes and syncs with the real client', repr(steps))
page = Page(http('GET', '/dashboard/notes', cookie=COOKIE)[2].decode())
umb = [r for r in page.tables.get('report-notes', []) if r['organisation'] == 'Umbrella']
tap.ok(len(umb) == 1 and umb[0]['notes'] == '1' and umb[0]['negative'] == '1' and umb[0]['latest_text'] == DANA_NOTE,
       "the metadata user's note counts on the notes page, with its text", repr(umb))
tap.eq(pg.scalar("SELECT count(*) FROM ops WHERE fields::text LIKE '%%hidden.example%%' OR "
                 "fields::text LIKE '%%rival%%' OR natural_key LIKE '%%hidden.example%%'"), 0,
       'the note, the request and the organisation of an excluded domain never reach the server')
tap.ok(not [r for r in page.tables.get('report-notes', []) if r['organisation'] == 'Hidden'],
       'and the notes page has no row for it')
tap.eq(sg.scalar(dana_store, "SELECT count(*) FROM changes WHERE entity IN ('cx_note', 'request') AND acked = 2"), 2,
       "on Dana's machine, the two ops are marked kept back")

# --- sessions end ----------------------------------------------------------------------------
pg.psql(pg.dbname, "UPDATE users SET role = 'account-manager' WHERE login = 'boss'")
st, _, body = http('GET', '/dashboard', cookie=COOKIE)
tap.eq(st, 403, 'a session whose user is no longer a manager: 403')
pg.psql(pg.dbname, "UPDATE users SET role = 'manager' WHERE login = 'boss'")
st, hdrs, _ = http('POST', '/dashboard/logout', body='', cookie=COOKIE)
tap.ok(st == 303 and header(hdrs, 'Location') == '/dashboard/login' and 'Max-Age=0' in (header(hdrs, 'Set-Cookie') or ''),
       'logout: the cookie is cleared')
tap.eq(pg.scalar("SELECT count(*) FROM dashboard_sessions WHERE id_hash = '%s'" % hashlib.sha256(session_id.encode()).hexdigest()),
       0, 'logout: the session is gone from the database')
st, hdrs, _ = http('GET', '/dashboard', cookie=COOKIE)
tap.eq(st, 303, 'the old cookie opens nothing')
st, hdrs, _ = login('boss', TOKENS['boss'])
cookie2 = (header(hdrs, 'Set-Cookie') or '').split(';')[0]
pg.psql(pg.dbname, "UPDATE dashboard_sessions SET expires_at = now() - interval '1 second'")
st, _, _ = http('GET', '/dashboard', cookie=cookie2)
tap.eq(st, 303, 'an expired session opens nothing')
revoked = srv.admin('token', 'new', 'boss').out.strip()
pg.psql(pg.dbname, "UPDATE tokens SET revoked_at = now() WHERE hash = '%s'" % hashlib.sha256(revoked.encode()).hexdigest())
st, _, _ = login('boss', revoked)
tap.eq(st, 401, 'a revoked token does not log in')
st, _, _ = http('GET', '/dashboard', cookie='sg_session=' + 'a' * 64 + "'; DROP TABLE users; --")
tap.ok(st == 303 and pg.scalar('SELECT count(*) FROM users') == 4, 'a forged cookie opens nothing (and drops nothing)')

srv.stop()
sys.exit(tap.done())
