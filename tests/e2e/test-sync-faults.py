#!/usr/bin/env python3
"""End-to-end test of the sync client against a failing network and server (issue 6, "Bad
input and faults"): the real salesgetter-server over a real PostgreSQL, reached through a
fault-injecting HTTP proxy run by this test. Each fault (a 500, an answer cut off in the
middle, the connection closed after the server took the push and before the client got the
acknowledgement, a server slower than the client's timeout, an answer that is not JSON) must
leave: salesgetter sync failing with exit status 1 and the reason named, `sync --status`
showing it with the ops still pending, nothing marked acknowledged that the client did not
see acknowledged, and after the next good sync every op on the server once and on a second
store once (the stage history, append-only, would show a duplicate). Then: a token revoked
between two round trips of one sync, a user removed on the server, a device whose clock is
days ahead, and a log larger than one request (at most 5000 ops per request: the client's
memory bound). Skips when PostgreSQL is not installed."""

import gzip
import http.client
import http.server
import json
import os
import sqlite3
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest as sg  # noqa: E402
import sgserver  # noqa: E402

tap = sg.start(sg.Tap())

if not sgserver.Postgres.available():
    tap.skip('sync faults against salesgetter-server', 'PostgreSQL (Debian postgresql) is not installed')
    tap.done()


# --- the fault-injecting proxy ------------------------------------------------------------------

class FaultProxy:
    """An HTTP proxy in front of the server. Each request takes the next fault of self.faults
    (none left: passed through). Faults:
      '500'       answered 500 by the proxy; the server never sees the request
      'garbage'   passed to the server; the client gets 200 with a body that is not JSON
      'truncate'  passed to the server; the client gets the status, the headers and half the body,
                  then the connection closes
      'cut'       passed to the server; the connection closes before any answer
      'slow'      passed to the server; the answer comes after self.slow seconds
    self.limit rewrites the request's pull limit (to make a sync take several round trips);
    self.after(n) is called after the n-th request was passed on. self.requests records the
    number of ops each request pushed."""

    def __init__(self, upstream):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.faults = []
        self.limit = None
        self.after = None
        self.slow = 0
        self.requests = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def do_POST(self):
                proxy.handle(self)

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def forward(self, h, body):
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=120)
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ('host', 'content-length', 'connection')}
        conn.request('POST', h.path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        out = (r.status, [(k, v) for k, v in r.getheaders() if k.lower() not in ('connection', 'transfer-encoding')],
               data)
        conn.close()
        return out

    def handle(self, h):
        body = h.rfile.read(int(h.headers.get('Content-Length', 0)))
        with self.lock:
            fault = self.faults.pop(0) if self.faults else None
            n = len(self.requests) + 1
            try:
                doc = json.loads(gzip.decompress(body) if h.headers.get('Content-Encoding') == 'gzip' else body)
                self.requests.append(len(doc.get('ops', [])))
            except ValueError:
                doc = None
                self.requests.append(-1)
        if doc is not None and self.limit is not None:
            doc['limit'] = self.limit
            body = gzip.compress(json.dumps(doc).encode())
        h.close_connection = True
        try:
            if fault == '500':
                data = b'{"error": "internal error (injected by the test)"}'
                h.send_response(500)
                h.send_header('Content-Type', 'application/json')
                h.send_header('Content-Length', str(len(data)))
                h.end_headers()
                h.wfile.write(data)
                return
            status, headers, data = self.forward(h, body)
            if self.after:
                self.after(n)
            if fault == 'cut':
                return  # closed: no status line at all
            if fault == 'slow':
                time.sleep(self.slow)
            if fault == 'garbage':
                status, headers, data = 200, [('Content-Type', 'text/html')], b'<html>proxy error</html>'
            h.send_response(status)
            for k, v in headers:
                if k.lower() not in ('content-length', 'date', 'server'):
                    h.send_header(k, v)
            h.send_header('Content-Length', str(len(data)))
            h.end_headers()
            h.wfile.write(data[:len(data) // 2] if fault == 'truncate' else data)
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (its timeout)


# --- users, stores ------------------------------------------------------------------------------

PG = sgserver.Postgres.start()
SRV = sgserver.Server.start(PG, tap)
PROXY = FaultProxy(SRV.url)
SRV.user_add('ann', 'account-manager', ['ann@us.test'])
SRV.user_add('mia', 'manager', ['mia@us.test'])
SRV.user_add('kim', 'account-manager', ['kim@us.test'])
T0 = 1772442000  # 2026-03-02


class Client:
    def __init__(self, login, url, extra=''):
        self.login = login
        self.address = '%s@us.test' % login
        self.dir = sg.path(login)
        os.makedirs(self.dir, exist_ok=True)
        self.store = os.path.join(self.dir, 'store.db')
        self.maildir = sg.make_maildir(os.path.join(self.dir, 'Maildir'))
        self.token_file = os.path.join(self.dir, 'token')
        self.new_token()
        self.config = os.path.join(self.dir, 'salesgetter.conf')
        sg.write_config(self.config, name=login.title(), addresses=(self.address,), internal_domains=('us.test',),
                        store=self.store, maildirs=(self.maildir,),
                        extra='\n[sync]\nserver=%s\ntoken-file=%s\n%s' % (url, self.token_file, extra))
        self.n = 0

    def new_token(self):
        with open(self.token_file, 'w') as f:
            f.write(SRV.token_new(self.login, device=self.login + '-laptop') + '\n')
        os.chmod(self.token_file, 0o600)

    def cli(self, *args, **kw):
        return sg.cli(*args, config=self.config, **kw)

    def q(self, sql):
        return sg.query(self.store, sql)

    def mails(self, tag, count=3):
        """count new messages from new senders, imported."""
        for i in range(count):
            self.n += 1
            sg.put(self.maildir, sg.make_message('%s-%d@acme.test' % (tag, i), 'Sender %s %d <s%s%d@acme.test>'
                                                 % (tag, i, tag, i), to=(self.address,), subject='About %s' % tag,
                                                 date=T0 + self.n * 60, body='text\n'))
        r = self.cli('import', '-q', self.maildir)
        tap.ok(r.rc == 0, '%s: import of %d new messages (%s)' % (self.login, count, tag), repr(r))

    def pending(self):
        return self.q('SELECT count(*) FROM changes WHERE acked = 0')[0][0]

    def device(self):
        return self.q("SELECT value FROM store_meta WHERE key = 'device_id'")[0][0]

    def status(self):
        r = self.cli('sync', '--status', '--format', 'json')
        rows = json.loads(r.out) if r.rc == 0 and r.out else []
        team = [x for x in rows if x.get('kind') == 'team']
        return team[0] if team else {}

    def sync(self, desc=None, rc=0):
        r = self.cli('sync', '--quiet')
        tap.ok(r.rc == rc, desc or '%s: salesgetter sync exits %d' % (self.login, rc), repr(r))
        return r


def server_ops(c):
    """The op ids of c's device on the server, as a list (a repeat would show)."""
    return [row[0] for row in PG.rows("SELECT op_id FROM ops WHERE device = '%s'" % c.device())]


def check_once(c, desc):
    """Nothing pending, every op c acked is on the server once, and nothing else of c's is."""
    acked = {row[0] for row in c.q('SELECT op_id FROM changes WHERE acked = 1')}
    on_server = server_ops(c)
    tap.eq(c.pending(), 0, '%s: nothing left to push' % desc)
    tap.ok(set(on_server) == acked and len(on_server) == len(acked),
           '%s: every op acked is on the server, once, none lost' % desc,
           '%d on the server (%d distinct), %d acked' % (len(on_server), len(set(on_server)), len(acked)))


ann = Client('ann', PROXY.url, 'timeout=5\n')
mia = Client('mia', SRV.url)

ann.mails('start')
r = ann.cli('process', 'new', '--org', 'acme.test', '--deliverable', 'Forecast', '--owner', 'ann@us.test')
tap.ok(r.rc == 0, 'ann opens a sales process', repr(r))
UUID = r.out.strip().split()[-1] if r.rc == 0 else 'none'
ann.sync('ann: a first sync through the proxy')
check_once(ann, 'first sync')

# --- each fault, then a good sync ------------------------------------------------------------------
# Every round makes new ops: three messages from new senders and a stage move (an append: a
# duplicate would be a second history row). The proxy passes the push to the server for every
# fault but '500', so for those the server has the ops while the client does not know it: the
# network cut between push and acknowledgement.

STAGES = ['qualified', 'proposal', 'negotiation', 'qualified', 'proposal', 'negotiation']
FAULTS = [
    ('500', 'HTTP 500', 'the server answers 500', False),
    ('truncate', 'transfer closed', 'the answer is cut off in the middle', True),
    ('cut', 'Empty reply', 'the connection closes after the push, before the acknowledgement', True),
    ('slow', 'timed out', 'the server answers after the client\'s timeout (5 s)', True),
    ('garbage', 'not valid', 'the answer is not JSON', True),
]
PROXY.slow = 12
moves = 0
for (fault, phrase, what, server_got_it), stage in zip(FAULTS, STAGES):
    ann.mails(fault)
    r = ann.cli('process', 'move', UUID, stage)
    moves += r.rc == 0
    tap.ok(r.rc == 0, 'ann moves her process to %s' % stage, repr(r))
    pending = ann.pending()
    before = len(server_ops(ann))
    PROXY.faults = [fault]
    r = ann.cli('sync', '--quiet')
    tap.ok(r.rc == 1 and phrase in r.err and 'sync:' in r.err,
           '%s: sync exits 1 naming the failure (%s)' % (what, phrase), repr(r))
    st = ann.status()
    tap.ok(st.get('state') == 'failing' and phrase in (st.get('last_error') or '') and st.get('pending') == pending,
           '%s: sync --status shows it, with the %d ops still pending' % (fault, pending), repr(st))
    tap.eq(ann.pending(), pending, '%s: no op is marked acknowledged' % fault)
    got = len(server_ops(ann)) - before
    if server_got_it:
        tap.eq(got, pending, '%s: (the server did take the push: the acknowledgement is what was lost)' % fault)
    else:
        tap.eq(got, 0, '%s: (the server never saw the push)' % fault)
    ann.sync('%s: the next sync succeeds' % fault)
    check_once(ann, fault)
    tap.ok(st.get('state') != 'ok' and ann.status().get('state') == 'ok' and not ann.status().get('last_error'),
           '%s: sync --status is ok again, the error cleared' % fault, repr(ann.status()))

# A slow server within the timeout is just slow.
ann.mails('slowok')
PROXY.slow, PROXY.faults = 1, ['slow']
ann.sync('a server answering after 1 s (timeout 5 s): sync succeeds')
check_once(ann, 'slow within the timeout')

# What a second store gets: everything, once.
mia.sync('mia (a manager) syncs directly with the server')
tap.eq(mia.q("SELECT count(*) FROM interactions WHERE message_id LIKE '%-_@acme.test'")[0][0], ann.n,
       'mia has each of ann\'s %d messages' % ann.n)
hist = mia.q("SELECT count(*) FROM stage_history h JOIN processes p ON p.id = h.process_id "
             "WHERE p.uuid = '%s'" % UUID)[0][0]
tap.eq(hist, moves + 1, 'mia has the stage history once: the opening and each of the %d moves' % moves)
tap.eq(PG.scalar("SELECT count(*) FROM entity_history WHERE natural_key = '%s'" % UUID), moves + 1,
       'the server\'s stage history holds each move once')
tap.eq(mia.q("SELECT s.name FROM processes p JOIN stages s ON s.id = p.stage_id WHERE p.uuid = '%s'" % UUID),
       [(STAGES[len(FAULTS) - 1],)], 'and the process is at ann\'s last stage')

# --- a token revoked between two round trips of one sync ---------------------------------------------
# mia's mail gives ann more to pull than one page; the proxy makes a page 3 ops, and revokes
# ann's token once the first round trip went through.

mia.mails('mia', 4)
mia.sync('mia pushes her mail')
ann.mails('revoke')
pending = ann.pending()
tok_id = PG.scalar("SELECT max(t.id) FROM tokens t JOIN users u ON u.id = t.user_id WHERE u.login = 'ann'")
PROXY.limit = 3
PROXY.after = lambda n: n == 1 and SRV.admin('token', 'revoke', str(tok_id))
PROXY.requests = []
r = ann.cli('sync', '--quiet')
PROXY.after = None
tap.ok(r.rc == 4 and '401' in r.err and 'revoked' in r.err,
       'a token revoked between two round trips: sync exits 4, the 401 and the reason named', repr(r))
tap.eq(len(PROXY.requests), 2, 'the first round trip went through, the second was refused')
st = ann.status()
tap.ok('401' in (st.get('last_error') or '') and st.get('state') == 'failing', 'sync --status shows the 401', repr(st))
tap.eq(ann.pending(), 0, 'what the first round trip pushed is acknowledged (it was: %d ops)' % pending)
pulled_before = ann.q("SELECT count(*) FROM interactions WHERE message_id LIKE 'mia-%'")[0][0]
tap.ok(0 < pulled_before < 4, 'the first page was applied (%d of mia\'s 4 messages)' % pulled_before)
ann.new_token()
ann.sync('with a new token the same device syncs again')
tap.eq(ann.q("SELECT count(*) FROM interactions WHERE message_id LIKE 'mia-%'")[0][0], 4,
       'and gets the rest of the pull, from where it stopped')
check_once(ann, 'after the revoked token')
PROXY.limit = None

# --- the user removed on the server ------------------------------------------------------------------

ann.mails('removed', 1)
pending = ann.pending()
r = SRV.admin('user', 'remove', 'ann', '--reassign-to', 'mia')
tap.ok(r.rc == 0, 'salesgetter-server user remove ann', repr(r))
r = ann.cli('sync', '--quiet')
tap.ok(r.rc == 4 and '401' in r.err, 'a removed user\'s sync: exit 4, the 401 named', repr(r))
tap.eq((ann.pending(), ann.q('SELECT count(*) FROM changes WHERE acked = 3')[0][0]), (pending, 0),
       'her ops stay pending (not refused): nothing is dropped on her machine')
tap.ok('401' in (ann.status().get('last_error') or ''), 'sync --status shows why', repr(ann.status()))
tap.eq(PG.scalar("SELECT count(*) FROM ops WHERE natural_key LIKE 'removed-%'"), 0, 'nothing of it reached the server')
tap.eq(PG.scalar("SELECT u.login FROM entity_state s JOIN users u ON u.id = s.owner_user_id "
                 "WHERE s.entity = 'process' AND s.natural_key = '%s'" % UUID), 'mia', 'her process went to mia')

# --- a device whose clock is days ahead ----------------------------------------------------------
# The store's clock is the larger of the time and the newest hlc it knows (sync_hlc): setting
# that three days ahead makes kim's ops look like a device whose clock is three days fast.

kim = Client('kim', SRV.url)
kim.mails('kim', 1)
kim.sync('kim syncs with a right clock')
ahead = (int(time.time() * 1000) + 3 * 86400 * 1000) << 16
with sqlite3.connect(kim.store) as db:
    db.execute("INSERT OR REPLACE INTO store_meta (key, value) VALUES ('sync_hlc', ?)", (str(ahead),))
r = kim.cli('tags', 'add', 'skim0@acme.test', 'fast-clock')
tap.ok(r.rc == 0, 'kim tags a person with her clock three days ahead', repr(r))
r = kim.cli('sync', '--quiet')
tap.ok(r.rc == 0 and 'refused 1' in r.err, 'sync says the server refused the op', repr(r))
st = kim.status()
tap.ok('clock' in (st.get('last_error') or ''), 'sync --status names the clock as the reason', repr(st))
tap.eq(kim.q('SELECT count(*) FROM changes WHERE acked = 3')[0][0], 1, 'the op is marked refused, not pushed again')
tap.eq(PG.scalar("SELECT count(*) FROM set_members WHERE natural_key LIKE '%fast-clock%'"), 0,
       'and the server\'s state does not hold it')
tap.eq(PG.scalar("SELECT count(*) FROM ops WHERE hlc > '%016x'" % ((int(time.time() * 1000) + 86400 * 1000) << 16)),
       0, 'no op of the server is more than a day ahead')

# --- TLS: the client verifies the server's certificate ----------------------------------------------

def test_tls():
    cert, key = sg.self_signed_cert(days=2)
    if cert is None:
        tap.skip('TLS', key)
        return
    tls = sgserver.Server.start(PG, tap, tls=(cert, key))
    SRV.user_add('tia', 'account-manager', ['tia@us.test'])
    tia = Client('tia', tls.url)
    tia.mails('tia', 1)
    pending = tia.pending()
    r = tia.cli('sync', '--quiet')
    tap.ok(r.rc == 1 and 'certificate' in r.err.lower(),
           'a server whose certificate this machine does not trust: sync exits 1 naming the certificate', repr(r))
    tap.eq(tia.pending(), pending, 'nothing is sent, nothing marked acknowledged')
    tap.ok('certificate' in (tia.status().get('last_error') or '').lower(), 'sync --status names it',
           repr(tia.status()))
    with open(tia.config, 'a') as f:
        f.write('ca-file=%s\n' % cert)
    tia.sync('with ca-file naming the certificate, the same server is trusted')
    check_once(tia, 'over TLS')
    tls.stop()


tap.run('TLS', test_tls)

# --- a log larger than one request: batches of at most 5000 ops ---------------------------------------

SRV.user_add('big', 'account-manager', ['big@us.test'])
big = Client('big', PROXY.url, 'timeout=600\n')
N = 1400
for i in range(N):
    sg.put(big.maildir, sg.make_message('bulk-%d@b%d.test' % (i, i), 'Bulk %d <bulk%d@b%d.test>' % (i, i, i),
                                        to=(big.address,), subject='Bulk', date=T0 + i, body='text\n'))
r = big.cli('import', '-q', big.maildir)
tap.ok(r.rc == 0, 'big: import of %d messages from %d organisations' % (N, N), repr(r))
pending = big.pending()
tap.ok(pending > 5000, 'that makes more ops than one request may carry (%d)' % pending)
PROXY.requests = []
if os.path.exists('/usr/bin/time'):
    # The client's peak memory, for the record (the bound is structural: one request of at
    # most 5000 ops and one answer of at most 16 MiB at a time, not the length of the log).
    r = sg.run(['/usr/bin/time', '-f', 'maxrss_kib=%M', sg.CLI, '--config', big.config, 'sync', '--quiet'],
               env=sg.child_env(), timeout=600)
    tap.ok(r.rc == 0, 'big pushes them', repr(r)[-500:])
    tap.diag('client peak RSS for %d ops: %s' % (pending, r.err.strip().splitlines()[-1] if r.err.strip() else '?'))
else:
    r = big.sync('big pushes them')
pushes = [n for n in PROXY.requests if n > 0]
tap.ok(len(pushes) >= 2 and max(pushes) <= 5000 and sum(pushes) == pending,
       'in requests of at most 5000 ops each, all of them once: %r' % pushes)
check_once(big, 'a log of %d ops' % pending)

tap.done()
