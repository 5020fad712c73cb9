#!/usr/bin/env python3
"""End-to-end test of salesgetter-server against a real PostgreSQL (initdb + pg_ctl in a temp
dir, on loopback, as a non-root user): config checks, users and tokens, POST /v1/sync
(authentication, idempotent pushes, paging, visibility per role, writes to another user's
process, device binding, the merge materialised in the database, what the database holds),
hostile HTTP, the database going away and coming back, concurrent clients, migrations.
Skips when PostgreSQL is not installed."""

import gzip
import hashlib
import json
import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest as sg  # noqa: E402
import sgserver  # noqa: E402
from sgserver import Device, sync, request, pull_all  # noqa: E402

tap = sg.start(sg.Tap())
tap.diag('server %s' % sgserver.SERVER)

if not sgserver.Postgres.available():
    tap.skip('salesgetter-server against PostgreSQL', 'PostgreSQL (Debian postgresql) is not installed')
    tap.done()

PG = sgserver.Postgres.start()
# max-body-mib = 2: the limits are reached with small bodies.
SRV = sgserver.Server.start(PG, tap, extra_conf='max-body-mib = 2')
URL = SRV.url


def ids(ops):
    return [o['op_id'] for o in ops]


# --- config -----------------------------------------------------------------------------

def test_config():
    def check(name, text, mode=0o600):
        p = sg.path(name)
        with open(p, 'w') as f:
            f.write(text)
        os.chmod(p, mode)
        return sg.run([sgserver.SERVER, '-c', p, '--check-config'])

    r = check('ok.conf', '[server]\nbehind-proxy = true\n[database]\nurl = %s\n' % PG.url)
    tap.ok(r.rc == 0 and r.out.startswith('OK'), '--check-config accepts a valid config', repr(r))
    r = check('notls.conf', '[server]\nport = 9000\n[database]\nurl = %s\n' % PG.url)
    tap.ok(r.rc == 1 and 'tls-cert' in r.err and 'behind-proxy' in r.err,
           'no TLS and not behind a proxy: refused, naming tls-cert and behind-proxy', repr(r))
    r = check('typo.conf', '[server]\nbehind-proxy = true\nlisten-port = 1\n[database]\nurl = %s\n' % PG.url)
    tap.ok(r.rc == 1 and 'listen-port' in r.err and 'typo.conf' in r.err, 'an unknown key is named', repr(r))
    r = check('port.conf', '[server]\nbehind-proxy = true\nport = 70000\n[database]\nurl = %s\n' % PG.url)
    tap.ok(r.rc == 1 and '[server] port' in r.err, 'a port out of range is named', repr(r))
    key = sg.path('key.pem')
    with open(key, 'w') as f:
        f.write('not really a key\n')
    os.chmod(key, 0o644)
    with open(sg.path('cert.pem'), 'w') as f:
        f.write('x\n')
    r = check('tls.conf', '[server]\ntls-cert = cert.pem\ntls-key = key.pem\n[database]\nurl = %s\n' % PG.url)
    tap.ok(r.rc == 1 and 'tls-key' in r.err and 'chmod 600' in r.err,
           'a TLS key readable by others is refused', repr(r))
    r = check('pw.conf', '[server]\nbehind-proxy = true\n[database]\nurl = postgresql://u:secret@h/db\n', 0o644)
    tap.ok(r.rc == 1 and 'password' in r.err, 'a database password in a config readable by others is refused',
           repr(r))
    r = check('pw600.conf', '[server]\nbehind-proxy = true\n[database]\nurl = postgresql://u:secret@h/db\n')
    tap.ok(r.rc == 0, 'the same config at mode 0600 is accepted', repr(r))
    r = check('nodb.conf', '[server]\nbehind-proxy = true\n')
    tap.ok(r.rc == 1 and '[database] url' in r.err, 'a missing database url is named', repr(r))


tap.run('config', test_config)

# --- users and tokens --------------------------------------------------------------------

SRV.user_add('alice', 'account-manager', ['alice@ourco.example', 'Alice.Two@OurCo.example'])
SRV.user_add('carol', 'account-manager', ['carol@ourco.example'])
SRV.user_add('ann', 'analyst', ['ann@ourco.example'])
SRV.user_add('max', 'manager', ['max@ourco.example'])
T = {u: SRV.token_new(u, device='laptop') for u in ('alice', 'carol', 'ann', 'max')}


def test_admin():
    r = SRV.admin('user', 'add', 'alice', '--role', 'manager', check=False)
    tap.ok(r.rc == 1 and 'exists' in r.err, 'user add of an existing login fails', repr(r))
    r = SRV.admin('user', 'add', 'zed', '--role', 'boss', check=False)
    tap.ok(r.rc == 2 and '--role' in r.err, 'user add with an unknown role is a usage error', repr(r))
    r = SRV.admin('user', 'add', 'zed', '--role', 'analyst', '--address', 'carol@ourco.example', check=False)
    tap.ok(r.rc == 1 and 'carol@ourco.example' in r.err, "another user's address is refused", repr(r))
    tap.eq(PG.scalar("SELECT count(*) FROM users WHERE login = 'zed'"), 0, 'and nothing of that user is stored')
    r = SRV.admin('user', 'list')
    tap.ok('alice@ourco.example' in r.out and 'alice.two@ourco.example' in r.out and 'manager' in r.out,
           'user list shows logins, roles and (lower-cased) addresses', r.out)
    tap.ok(all(len(t) == 68 and t.startswith('sgt_') for t in T.values()), 'tokens are sgt_ and 64 hex digits',
           repr(T))
    hashes = [h for (h,) in PG.rows('SELECT hash FROM tokens')]
    tap.ok(hashlib.sha256(T['alice'].encode()).hexdigest() in hashes, 'the database keeps the SHA-256 of a token')
    dump = json.dumps(PG.rows('SELECT * FROM tokens'))
    tap.ok(not any(t in dump or t[4:] in dump for t in T.values()), 'and never the token itself')
    r = SRV.admin('token', 'new', 'nobody', check=False)
    tap.ok(r.rc == 1 and 'nobody' in r.err, 'token new for an unknown user names it', repr(r))


tap.run('admin', test_admin)

# --- authentication ------------------------------------------------------------------------


def test_auth():
    d = Device()
    op = d.op('person', 'auth@acme.com', fields={'name': 'Auth'})
    st, a = sync(URL, None, d.id, [op])
    tap.ok(st == 401 and 'Authorization' in a['error'], 'no token: 401 naming the Authorization header', repr(a))
    st, data = request(URL + '/v1/sync', b'{}', headers={'Authorization': 'Basic dXNlcjpwYXNz'})
    tap.ok(st == 401 and b'Bearer' in data, 'a Basic header: 401', data)
    st, a = sync(URL, 'sgt_' + '0' * 64, d.id, [op])
    tap.ok(st == 401 and 'unknown or revoked' in a['error'], 'an unknown token: 401', repr(a))
    tap.eq(PG.scalar("SELECT count(*) FROM ops WHERE natural_key = 'auth@acme.com'"), 0,
           'nothing pushed with a bad token is stored')
    tok = SRV.token_new('ann', device='old')
    st, a = sync(URL, tok, d.id, [])
    tap.eq(st, 200, 'a new token works')
    tid = PG.scalar("SELECT id FROM tokens WHERE device_name = 'old'")
    tap.ok(PG.scalar('SELECT last_used_at IS NOT NULL FROM tokens WHERE id = %d' % tid), 'and its last use is kept')
    r = SRV.admin('token', 'revoke', str(tid))
    tap.ok('revoked' in r.out, 'token revoke', repr(r))
    st, a = sync(URL, tok, d.id, [op])
    tap.ok(st == 401, 'a revoked token: 401', repr(a))
    r = SRV.admin('token', 'list', 'ann')
    line = [ln for ln in r.out.splitlines() if ln.startswith(str(tid) + ' ')]
    tap.ok(line and line[0].split()[-1].endswith('Z'), 'token list shows when it was revoked', r.out)
    r = SRV.admin('token', 'revoke', '99999', check=False)
    tap.ok(r.rc == 1 and '99999' in r.err, 'revoking an unknown token fails, naming it', repr(r))


tap.run('auth', test_auth)

# --- push: idempotent; pull: paging --------------------------------------------------------


def test_idempotent_and_paging():
    a, b = Device(), Device()
    ops = [a.op('organisation', 'org%02d.example' % i, fields={'name': 'Org %d' % i, 'kind': 'external'})
           for i in range(25)]
    st, ans = sync(URL, T['alice'], a.id, ops)
    tap.ok(st == 200 and ans['acked'] == ids(ops) and ans['rejected'] == [], 'a push of 25 ops: all acked, in order',
           repr(ans)[:500])
    tap.eq(ans['ops'], [], 'the pusher does not get its own ops back')
    st, ans2 = sync(URL, T['alice'], a.id, ops)
    tap.ok(st == 200 and ans2['acked'] == ids(ops), 'the same push again: all acked again', repr(ans2)[:300])
    tap.eq(PG.scalar("SELECT count(*) FROM ops WHERE natural_key LIKE 'org__.example'"), 25,
           'and stored once (25 rows, not 50)')
    # A repeat mixed with new ops (the client lost an answer, then made more ops).
    more_ops = ops[20:] + [a.op('organisation', 'org99.example', fields={'name': 'Org 99'})]
    st, ans3 = sync(URL, T['alice'], a.id, more_ops)
    tap.ok(st == 200 and ans3['acked'] == ids(more_ops), 'repeats and new ops in one push: all acked')
    tap.eq(PG.scalar("SELECT count(*) FROM ops WHERE natural_key LIKE 'org__.example'"), 26, 'one new row')

    # Device b (carol) pulls everything so far in pages of 10.
    seen, cursor, trips, mores = [], '', 0, []
    while True:
        st, ans = sync(URL, T['carol'], b.id, cursor=cursor, limit=10)
        trips += 1
        seen += ans['ops']
        mores.append(ans['more'])
        tap.ok(len(ans['ops']) <= 10, 'page %d holds at most limit (10) ops' % trips)
        cursor = ans['cursor']
        if not ans['more'] or trips > 50:
            break
    total = PG.scalar('SELECT count(*) FROM ops')  # everything is shared and none is carol's so far
    tap.eq(len(seen), total, 'paging returns every op once (%d ops)' % total)
    tap.eq(len(set(ids(seen))), len(seen), 'no op twice')
    tap.ok(all(mores[:-1]) and not mores[-1], 'more is true until the last page', repr(mores))
    tap.ok(set(ids(ops)) <= set(ids(seen)), 'the 25 organisations are among them')
    seqs = [int(x) for (x,) in PG.rows("SELECT seq FROM ops ORDER BY seq")]
    order = {i: n for n, (i,) in enumerate(PG.rows('SELECT op_id FROM ops ORDER BY seq'))}
    tap.ok([order[i] for i in ids(seen)] == sorted(order[i] for i in ids(seen)), 'in server order', repr(seqs[:5]))
    org = [o for o in seen if o['key'] == 'org03.example'][0]
    tap.ok(org['user'] == 'alice' and org['fields'] == {'name': 'Org 3', 'kind': 'external'} and org['op'] == 'upsert'
           and org['hlc'] == ops[3]['hlc'], 'a pulled op has its fields, hlc and author', repr(org))
    st, ans = sync(URL, T['carol'], b.id, cursor=cursor)
    tap.ok(st == 200 and ans['ops'] == [] and not ans['more'] and ans['cursor'] == cursor,
           'after the last page: nothing new, same cursor', repr(ans))
    st, ans = sync(URL, T['carol'], b.id, cursor='x1')
    tap.ok(st == 400 and 'cursor' in ans['error'], 'a cursor the server never gave: 400 naming cursor', repr(ans))
    # Identity encoding (no gzip) works too.
    st, ans = sync(URL, T['carol'], b.id, cursor=cursor, compress=False)
    tap.eq(st, 200, 'an uncompressed request is accepted')


tap.run('idempotent push and paging', test_idempotent_and_paging)

# --- visibility and ownership --------------------------------------------------------------

PA, PC = 'aaaaaaaa-0000-4000-8000-00000000000a', 'cccccccc-0000-4000-8000-00000000000c'


def test_visibility():
    al, al2, ca, an, mx = Device(), Device(), Device(), Device(), Device()
    # alice: a process of hers, its history, contacts, a note on it, a shared person, a note
    # tied to no process.
    alice_ops = [
        al.op('person', 'jane@acme.com', fields={'name': 'Jane Doe', 'kind': 'contact'}),
        al.op('process', PA, fields={'organisation': 'acme.com', 'stage': 'lead', 'status': 'open',
                                     'account_manager': 'alice@ourco.example', 'value_minor': 100000}),
        al.op('stage_history', PA, 'append', {'event': 'open', 'to_stage': 'lead', 'moved_by': 'alice'}),
        al.op('process_contact', PA + '|jane@acme.com|buyer', 'add', {'by': 'alice'}),
        al.op('interaction_link', 'm1@acme.com|' + PA, 'add', {'origin': 'manual'}),
        al.op('cx_note', 'note-a', fields={'process': PA, 'text': 'likes us', 'organisation': 'acme.com'}),
        al.op('request', 'req-free', fields={'process': None, 'text': 'wants an API'}),
    ]
    carol_ops = [
        ca.op('organisation', 'globex.com', fields={'name': 'Globex'}),
        ca.op('process', PC, fields={'organisation': 'globex.com', 'stage': 'lead',
                                     'account_manager': 'carol@ourco.example'}),
        ca.op('stage_history', PC, 'append', {'event': 'open', 'to_stage': 'lead'}),
    ]
    st, a = sync(URL, T['alice'], al.id, alice_ops)
    tap.ok(st == 200 and len(a['acked']) == len(alice_ops), 'alice pushes her process', repr(a)[:300])
    st, a = sync(URL, T['carol'], ca.id, carol_ops)
    tap.ok(st == 200 and len(a['acked']) == len(carol_ops), 'carol pushes hers', repr(a)[:300])
    tap.eq(PG.rows("SELECT u.login FROM entity_state s JOIN users u ON u.id = s.owner_user_id "
                   "WHERE s.entity = 'process' ORDER BY s.natural_key"), [['alice'], ['carol']],
           'each process is owned by the user whose address is its account_manager')

    def keys(token, dev):
        ops, _, _ = pull_all(URL, token, dev.id)
        return set((o['entity'], o['key']) for o in ops if o['entity'] != 'organisation'
                   or o['key'] == 'globex.com')

    A = set((o['entity'], o['key']) for o in alice_ops)
    C = set((o['entity'], o['key']) for o in carol_ops)
    shared_a = {('person', 'jane@acme.com')}
    shared_c = {('organisation', 'globex.com')}
    got = keys(T['max'], mx)
    tap.ok(A | C <= got, 'the manager sees every op of both processes', repr(sorted((A | C) - got)))
    got = keys(T['carol'], Device())
    tap.ok(shared_a <= got and not (A - shared_a) & got, "carol sees alice's person, none of alice's process",
           repr(sorted(got & A)))
    tap.ok(C <= got, 'and all of her own from another device')
    got = keys(T['ann'], an)
    tap.ok(shared_a | shared_c <= got and not ((A | C) - shared_a - shared_c) & got,
           'the analyst sees the shared people and organisations, no process op', repr(sorted(got & (A | C))))
    got = keys(T['alice'], al2)
    tap.ok(A <= got, "alice's second device gets all her ops (her note tied to no process too)")
    tap.ok(shared_c <= got and not (C - shared_c) & got, "but not carol's process", repr(sorted(got & C)))

    # carol writes to alice's process: rejected, not stored, state unchanged.
    bad = [ca.op('process', PA, fields={'stage': 'won'}),
           ca.op('stage_history', PA, 'append', {'to_stage': 'won'}),
           ca.op('process_contact', PA + '|x@acme.com|user', 'add', {}),
           ca.op('cx_note', 'note-c', fields={'process': PA, 'text': 'sneaky'}),
           ca.op('person', 'joe@acme.com', fields={'name': 'Joe'})]
    st, a = sync(URL, T['carol'], ca.id, bad)
    rej = {r['op_id']: r['error'] for r in a['rejected']}
    tap.ok(st == 200 and set(rej) == set(ids(bad[:4])) and a['acked'] == [bad[4]['op_id']],
           "carol's four ops on alice's process are rejected, her person is acked", repr(a)[:600])
    tap.ok(all(PA in e and 'alice' in e for e in rej.values()), 'the reason names the process and its owner',
           repr(rej))
    tap.eq(PG.scalar("SELECT count(*) FROM ops WHERE op_id IN (%s)" % ','.join("'%s'" % i for i in rej)), 0,
           'rejected ops are not stored')
    tap.eq(PG.scalar("SELECT fields->>'stage' FROM entity_state WHERE entity='process' AND natural_key='%s'" % PA),
           'lead', "alice's process is unchanged")
    st, a = sync(URL, T['carol'], ca.id, bad[:1])
    tap.ok(st == 200 and len(a['rejected']) == 1, 'pushed again, rejected again')
    # The analyst cannot either.
    st, a = sync(URL, T['ann'], an.id, [an.op('process', PC, fields={'stage': 'won'})])
    tap.ok(st == 200 and len(a['rejected']) == 1, "the analyst's write to carol's process is rejected")
    # The manager can; and reassigning the process to alice makes it (and its past) hers.
    st, a = sync(URL, T['max'], mx.id, [mx.op('process', PC, fields={'account_manager': 'Alice.Two@ourco.example'})])
    tap.ok(st == 200 and len(a['acked']) == 1, "the manager's write to carol's process is accepted", repr(a))
    tap.eq(PG.scalar("SELECT u.login FROM entity_state s JOIN users u ON u.id = s.owner_user_id "
                     "WHERE s.entity='process' AND s.natural_key='%s'" % PC), 'alice',
           "the process moves to alice (her second address, any case)")
    got = keys(T['alice'], Device())
    tap.ok(C <= got, "alice now sees the process's earlier ops too, from a fresh cursor", repr(sorted(C - got)))
    st, a = sync(URL, T['carol'], ca.id, [ca.op('process', PC, fields={'stage': 'lost'})])
    tap.ok(len(a['rejected']) == 1, 'and carol can no longer write to it')
    # A user added later with a process's account manager address becomes its owner.
    st, a = sync(URL, T['max'], mx.id, [mx.op('process', 'dddddddd-0000-4000-8000-00000000000d',
                                              fields={'account_manager': 'dave@ourco.example'})])
    SRV.user_add('dave', 'account-manager', ['dave@ourco.example'])
    tap.eq(PG.scalar("SELECT u.login FROM entity_state s JOIN users u ON u.id = s.owner_user_id "
                     "WHERE s.natural_key='dddddddd-0000-4000-8000-00000000000d'"), 'dave',
           'user add takes over the processes of its addresses')


tap.run('visibility', test_visibility)


def test_ownership_in_one_request():
    """Ownership is checked op by op as the request goes: a process created earlier in the
    same request counts (issue 6: ops on a process the server had not seen were all
    accepted, so a non-manager could create a process for someone else and edit it)."""
    al, ca, an, mx = Device(), Device(), Device(), Device()
    own, theirs, sneak = ('%s-1111-4000-8000-000000000001' % c for c in ('a0a0a0a0', 'c0c0c0c0', 'c1c1c1c1'))
    batch = [al.op('process', own, fields={'organisation': 'acme.com', 'stage': 'lead', 'status': 'open',
                                           'account_manager': 'alice@ourco.example'}),
             al.op('process', own, fields={'stage': 'qualified'}),
             al.op('stage_history', own, 'append', {'event': 'move', 'to_stage': 'qualified'}),
             al.op('process_contact', own + '|jane@acme.com|buyer', 'add', {'by': 'alice'}),
             al.op('cx_note', 'note-own', fields={'process': own, 'text': 'first call'})]
    st, a = sync(URL, T['alice'], al.id, batch)
    tap.ok(st == 200 and a['acked'] == ids(batch) and not a['rejected'],
           'an account manager creates her process and edits it in the same request', repr(a)[:400])
    tap.eq(PG.rows("SELECT u.login, s.fields->>'stage' FROM entity_state s JOIN users u ON u.id = s.owner_user_id "
                   "WHERE s.entity = 'process' AND s.natural_key = '%s'" % own), [['alice', 'qualified']],
           'the process is hers, at the stage her second op set')

    # carol creates a process whose account manager is alice, then edits it, in one request.
    batch = [ca.op('process', theirs, fields={'organisation': 'acme.com', 'stage': 'lead',
                                              'account_manager': 'Alice@OurCo.example'}),
             ca.op('process_contact', theirs + '|bob@acme.com|user', 'add', {'by': 'carol'}),
             ca.op('person', 'newbie@acme.com', fields={'name': 'Newbie'})]
    st, a = sync(URL, T['carol'], ca.id, batch)
    rej = {r['op_id']: r['error'] for r in a['rejected']}
    tap.ok(st == 200 and list(rej) == [batch[0]['op_id']] and batch[2]['op_id'] in a['acked'],
           "a non-manager's process made for another user is rejected; the rest of the request goes on",
           repr(a)[:500])
    tap.ok(theirs in rej.get(batch[0]['op_id'], '') and 'alice' in rej.get(batch[0]['op_id'], '')
           and 'manager' in rej.get(batch[0]['op_id'], ''),
           'the reason names the process, the user it would belong to, and who may do it', repr(rej))
    tap.eq(PG.scalar("SELECT count(*) FROM entity_state s JOIN users u ON u.id = s.owner_user_id "
                     "WHERE s.natural_key = '%s' AND u.login = 'alice'" % theirs), 0,
           'no process of alice was made by carol')
    tap.eq(PG.scalar("SELECT count(*) FROM ops WHERE natural_key = '%s' AND entity = 'process'" % theirs), 0,
           'the rejected creation is not stored')
    got, _, _ = pull_all(URL, T['alice'], Device().id)
    tap.ok(not [o for o in got if theirs in o['key']], "and alice pulls nothing of it", repr(got)[:300])

    # The same, then an edit in the same request: before the fix, the edit went through
    # because the process did not exist before the request.
    batch = [ca.op('process', sneak, fields={'organisation': 'acme.com', 'stage': 'lead',
                                             'account_manager': 'alice@ourco.example'}),
             ca.op('process', sneak, fields={'stage': 'won', 'status': 'won'})]
    st, a = sync(URL, T['carol'], ca.id, batch)
    tap.ok(st == 200 and [r['op_id'] for r in a['rejected']] == [batch[0]['op_id']],
           'creation for another user rejected, the later op on the process (not made) stands alone', repr(a))
    tap.eq(PG.rows("SELECT u.login, s.fields ? 'account_manager' FROM entity_state s "
                   "JOIN users u ON u.id = s.owner_user_id WHERE s.natural_key = '%s'" % sneak), [['carol', False]],
           "what carol's second op made is hers, never alice's")

    # An analyst cannot make one for carol either; handing over one's own process is a
    # manager's job; a manager may do both.
    st, a = sync(URL, T['ann'], an.id, [an.op('process', 'a1a1a1a1-1111-4000-8000-000000000002',
                                              fields={'stage': 'lead', 'account_manager': 'carol@ourco.example'})])
    tap.ok(st == 200 and len(a['rejected']) == 1 and 'carol' in a['rejected'][0]['error'],
           "an analyst's process for carol is rejected", repr(a))
    st, a = sync(URL, T['alice'], al.id, [al.op('process', own, fields={'account_manager': 'carol@ourco.example'})])
    tap.ok(st == 200 and len(a['rejected']) == 1, 'an account manager cannot hand her process to another', repr(a))
    tap.eq(PG.scalar("SELECT u.login FROM entity_state s JOIN users u ON u.id = s.owner_user_id "
                     "WHERE s.natural_key = '%s'" % own), 'alice', 'it stays hers')
    mine = 'a2a2a2a2-1111-4000-8000-000000000003'
    st, a = sync(URL, T['max'], mx.id, [mx.op('process', mine, fields={'stage': 'lead',
                                                                      'account_manager': 'carol@ourco.example'}),
                                        mx.op('process', own, fields={'account_manager': 'carol@ourco.example'})])
    tap.ok(st == 200 and len(a['acked']) == 2, 'a manager creates a process for carol and hands her alice\'s',
           repr(a))
    tap.eq(PG.rows("SELECT s.natural_key, u.login FROM entity_state s JOIN users u ON u.id = s.owner_user_id "
                   "WHERE s.natural_key IN ('%s', '%s') ORDER BY 1" % (own, mine)),
           sorted([[own, 'carol'], [mine, 'carol']]), 'both are carol\'s')


tap.run('ownership within one request', test_ownership_in_one_request)


def test_rate_limits():
    """[limits]: requests per token (429 with Retry-After, before the body is read) and failed
    dashboard logins per address and per login, on a second server with small limits."""
    import http.client
    import urllib.parse
    srv = sgserver.Server.start(PG, tap, extra_conf='[limits]\nsync-per-minute = 60\nsync-burst = 3\n'
                                'login-failures-per-address = 4\nlogin-failures-per-user = 2\n'
                                'login-window-minutes = 10\n')
    r = srv.admin('--check-config')
    tap.ok('sync 60 a minute per token (burst 3)' in r.out and '4 failures per address, 2 per login, in 10 minutes'
           in r.out, '--check-config shows the limits in force', r.out)
    host, port = '127.0.0.1', srv.port

    def post(path, body, headers):
        c = http.client.HTTPConnection(host, port, timeout=30)
        c.request('POST', path, body=body, headers=headers)
        resp = c.getresponse()
        data = resp.read()
        c.close()
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), data

    tok, tok2 = srv.token_new('alice', device='limited'), srv.token_new('alice', device='other')
    d = Device()

    def push(token):
        body = json.dumps({'protocol': 1, 'device': d.id, 'cursor': '',
                           'ops': [d.op('person', 'rl@acme.com', fields={'name': 'R'})]}).encode()
        return post('/v1/sync', body, {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'})

    got = [push(tok)[0] for _ in range(3)]
    st, hdr, data = push(tok)
    tap.ok(got == [200, 200, 200] and st == 429, 'a token gets its burst of 3 requests, then 429', repr((got, st)))
    err = json.loads(data).get('error', '') if data.startswith(b'{') else ''
    tap.ok('too many requests' in err and '60 a minute' in err, 'the JSON error says why and the limit', repr(data))
    wait = int(hdr.get('retry-after', '0'))
    tap.ok(1 <= wait <= 2, 'Retry-After: the seconds until the next request is allowed', repr(hdr))
    tap.eq(push(tok2)[0], 200, "the same user's other token has a bucket of its own")
    time.sleep(wait + 0.2)
    tap.eq(push(tok)[0], 200, 'after Retry-After seconds the token is served again')

    def login(user, token, xff):
        body = urllib.parse.urlencode({'login': user, 'token': token}).encode()
        return post('/dashboard/login', body, {'Content-Type': 'application/x-www-form-urlencoded',
                                               'X-Forwarded-For': xff})

    # Per login: 2 failures in the window, a success forgets them.
    st1 = login('max', 'sgt_wrong', '10.0.0.1')[0]
    st2 = login('max', T['max'], '10.0.0.1')[0]
    st3, st4 = login('max', 'sgt_wrong', '10.0.0.1')[0], login('max', 'sgt_wrong', '10.0.0.1')[0]
    st5, hdr, page = login('max', T['max'], '10.0.0.1')
    tap.ok([st1, st2, st3, st4] == [401, 303, 401, 401], 'failed logins are 401, a good one logs in and clears them',
           repr([st1, st2, st3, st4]))
    tap.ok(st5 == 429 and b'Too many failed logins for this login' in page and b'<form' in page,
           'two more failures lock the login: 429, even with the right token, on the login page', repr((st5, page[:300])))
    wait = int(hdr.get('retry-after', '0'))
    tap.ok(540 <= wait <= 600 and hdr.get('content-type', '').startswith('text/html')
           and 'content-security-policy' in hdr, 'with Retry-After (the window) and the pages\' headers', repr(hdr))
    tap.eq(login('max', T['max'], '10.0.0.9')[0], 429, 'from another address too: the limit is per login')
    # Per address: 4 failures from one address, whatever the logins.
    got = [login('nobody%d' % i, 'sgt_wrong', '10.0.0.2')[0] for i in range(4)]
    st, hdr, page = login('nobody9', 'sgt_wrong', '10.0.0.2')
    tap.ok(got == [401] * 4 and st == 429 and b'from this address' in page,
           'four failures from one address lock it for every login', repr((got, st)))
    tap.eq(login('nobody9', 'sgt_wrong', '10.0.0.3')[0], 401,
           'behind the proxy, the address is the last of X-Forwarded-For')
    tap.eq(login('nobody9', 'sgt_wrong', '10.0.0.3, 10.0.0.2')[0], 429,
           'and only the last: the client cannot choose it by sending its own')
    srv.stop()


tap.run('rate limits', test_rate_limits)


def test_user_remove():
    """user remove: tokens revoked, sessions closed, addresses freed, the data kept (its ops
    keep their author), the processes moved with --reassign-to."""
    SRV.user_add('rita', 'account-manager', ['rita@ourco.example'])
    tok = SRV.token_new('rita', device='laptop')
    ri, mx = Device(), Device()
    proc = 'b0b0b0b0-2222-4000-8000-000000000001'
    ops = [ri.op('process', proc, fields={'organisation': 'acme.com', 'stage': 'lead',
                                          'account_manager': 'rita@ourco.example'}),
           ri.op('person', 'rita-contact@acme.com', fields={'name': 'Rita Contact'})]
    st, a = sync(URL, tok, ri.id, ops)
    tap.ok(st == 200 and len(a['acked']) == 2, 'rita pushes a process and a person', repr(a)[:300])
    r = SRV.admin('user', 'remove', 'rita', '--reassign-to', 'carol')
    tap.ok('1 token revoked' in r.out and '1 process moved to carol' in r.out,
           'user remove says what it did', r.out)
    st, a = sync(URL, tok, ri.id, [ri.op('person', 'late@acme.com', fields={'name': 'Late'})])
    tap.ok(st == 401, "the removed user's token gets 401", repr((st, a)))
    tap.eq(PG.scalar("SELECT count(*) FROM ops WHERE op_id IN ('%s', '%s')" % tuple(ids(ops))), 2,
           'her ops stay on the server')
    got, _, _ = pull_all(URL, T['max'], mx.id)
    tap.ok([o['user'] for o in got if o['op_id'] in ids(ops)] == ['rita', 'rita'],
           'and are still pulled with her as author', repr([o for o in got if o['op_id'] in ids(ops)])[:300])
    tap.eq(PG.scalar("SELECT u.login FROM entity_state s JOIN users u ON u.id = s.owner_user_id "
                     "WHERE s.natural_key = '%s'" % proc), 'carol', 'her process is now carol\'s')
    ca = Device()
    st, a = sync(URL, T['carol'], ca.id, [ca.op('process', proc, fields={'stage': 'qualified'})])
    tap.ok(st == 200 and len(a['acked']) == 1, 'and carol may change it', repr(a))
    r = SRV.admin('user', 'list')
    tap.ok(any(ln.split()[1:3] == ['rita', 'account-manager'] and '(removed)' in ln for ln in r.out.splitlines()),
           'user list shows her as removed', r.out)
    r = SRV.admin('user', 'remove', 'rita', check=False)
    tap.ok(r.rc == 1 and 'removed already' in r.err, 'removing her again is an error', repr(r))
    r = SRV.admin('user', 'remove', 'nobody', '--reassign-to', 'carol', check=False)
    tap.ok(r.rc == 1 and 'nobody' in r.err, 'an unknown login is named', repr(r))
    r = SRV.admin('user', 'remove', 'ann', '--reassign-to', 'rita', check=False)
    tap.ok(r.rc == 1 and 'rita' in r.err and PG.scalar("SELECT removed_at FROM users WHERE login = 'ann'") is None,
           'reassigning to a removed user is refused, nothing changes', repr(r))
    r = SRV.admin('token', 'new', 'rita', check=False)
    tap.ok(r.rc == 1 and 'removed' in r.err, 'no new token for a removed user', repr(r))
    r = SRV.admin('user', 'add', 'rita2', '--role', 'analyst', '--address', 'rita@ourco.example', check=False)
    tap.ok(r.rc == 0, 'her address is free for another user', repr(r))


tap.run('user remove', test_user_remove)


def test_device_binding():
    d = Device()
    st, a = sync(URL, T['alice'], d.id, [d.op('person', 'bind@acme.com', fields={'name': 'B'})])
    tap.eq(st, 200, "alice's first sync binds the device to her")
    st, a = sync(URL, T['carol'], d.id, [d.op('person', 'bind2@acme.com', fields={'name': 'C'})])
    tap.ok(st == 403 and d.id in a['error'], "carol's token with alice's device: 403 naming the device", repr(a))
    tap.eq(PG.scalar("SELECT count(*) FROM ops WHERE natural_key = 'bind2@acme.com'"), 0, 'nothing stored')
    # Ops whose op_id is another device's are rejected (a client writes only its own ops).
    other = Device()
    op = other.op('person', 'forged@acme.com', fields={'name': 'F'})
    st, a = sync(URL, T['alice'], d.id, [op])
    tap.ok(st == 200 and a['rejected'] and 'op_id' in a['rejected'][0]['error'],
           "an op with another device's op_id is rejected", repr(a))
    # The author is the token's user, whatever the op says: a "user" (or "user_id") member
    # naming someone else is not taken.
    op = d.op('person', 'forged-author@acme.com', fields={'name': 'Forged'})
    op['user'] = 'carol'
    op['user_id'] = PG.scalar("SELECT id FROM users WHERE login = 'carol'")
    st, a = sync(URL, T['alice'], d.id, [op])
    tap.ok(st == 200 and a['acked'] == [op['op_id']], 'an op naming another user as its author is taken', repr(a))
    tap.eq(PG.scalar("SELECT u.login FROM ops o JOIN users u ON u.id = o.user_id WHERE o.op_id = '%s'" % op['op_id']),
           'alice', 'as the token\'s user\'s op: the database records alice, not carol')
    got, _, _ = pull_all(URL, T['max'], Device().id)
    tap.eq([o['user'] for o in got if o['op_id'] == op['op_id']], ['alice'], 'and others pull it as alice\'s')


tap.run('device binding', test_device_binding)

# --- merge ---------------------------------------------------------------------------------


def test_merge():
    x, y = Device(), Device()
    base = int(time.time() * 1000)

    def h(ms, c=0):
        return '%016x' % (((base + ms) << 16) | c)
    # Device y edits later than x, but its ops arrive first; x's later name arrives last.
    y_ops = [y.op('person', 'lww@acme.com', fields={'name': 'Y name', 'phone': '+1 555'}, hlc=h(20))]
    x_ops = [x.op('person', 'lww@acme.com', fields={'name': 'X old', 'title': 'CTO', 'phone': '+1 000'}, hlc=h(10)),
             x.op('person', 'lww@acme.com', fields={'name': 'X newest'}, hlc=h(30))]
    sync(URL, T['carol'], y.id, y_ops)
    sync(URL, T['alice'], x.id, x_ops)
    f = PG.scalar("SELECT fields FROM entity_state WHERE entity='person' AND natural_key='lww@acme.com'")
    tap.eq(f, {'name': 'X newest', 'title': 'CTO', 'phone': '+1 555'},
           'last writer wins per field by hlc, whatever the arrival order')
    fh = PG.scalar("SELECT field_hlc FROM entity_state WHERE entity='person' AND natural_key='lww@acme.com'")
    tap.eq(fh, {'name': h(30), 'title': h(10), 'phone': h(20)}, 'field_hlc holds each winning hlc')
    # Equal hlc from two devices: the larger JSON value wins on both orders.
    sync(URL, T['alice'], x.id, [x.op('person', 'tie@acme.com', fields={'name': 'Bbb'}, hlc=h(40))])
    sync(URL, T['carol'], y.id, [y.op('person', 'tie@acme.com', fields={'name': 'Aaa'}, hlc=h(40))])
    sync(URL, T['carol'], y.id, [y.op('person', 'tie2@acme.com', fields={'name': 'Aaa'}, hlc=h(41))])
    sync(URL, T['alice'], x.id, [x.op('person', 'tie2@acme.com', fields={'name': 'Bbb'}, hlc=h(41))])
    tap.eq(PG.rows("SELECT fields->>'name' FROM entity_state WHERE natural_key IN ('tie@acme.com','tie2@acme.com')"),
           [['Bbb'], ['Bbb']], 'an hlc tie is decided by value, not arrival order')
    # Sets: add-wins.
    k = 'person:lww@acme.com/prospect'
    sync(URL, T['alice'], x.id, [x.op('tag_assignment', k, 'add', {'origin': 'rule'}, hlc=h(50))])
    sync(URL, T['carol'], y.id, [y.op('tag_assignment', k, 'remove', {}, hlc=h(50))])
    tap.eq(PG.scalar("SELECT present FROM set_members WHERE natural_key='%s'" % k), True,
           'an add and a remove with the same hlc: add wins')
    sync(URL, T['carol'], y.id, [y.op('tag_assignment', k, 'remove', {}, hlc=h(60))])
    tap.eq(PG.scalar("SELECT present FROM set_members WHERE natural_key='%s'" % k), False, 'a later remove removes')
    sync(URL, T['alice'], x.id, [x.op('tag_assignment', k, 'add', {'origin': 'person'}, hlc=h(55))])
    tap.eq(PG.rows("SELECT present, member FROM set_members WHERE natural_key='%s'" % k), [[False, {'origin': 'person'}]],
           'an older add arriving late does not bring it back')
    # Sets, observed-remove (schema/sync.md "Sets, add-wins"): a remove carries `seen`, the
    # newest add its author had seen; removed_hlc is the newest seen, present iff added > removed.
    k = 'organisation:orset.test/unseen'
    sync(URL, T['alice'], x.id, [x.op('tag_assignment', k, 'add', {'origin': 'person'}, hlc=h(200))])
    sync(URL, T['carol'], y.id, [y.op('tag_assignment', k, 'remove', {'seen': h(100)}, hlc=h(300))])
    tap.eq(PG.rows("SELECT present, added_hlc, removed_hlc FROM set_members WHERE natural_key='%s'" % k),
           [[True, h(200), h(100)]],
           'an add the remover had not seen wins over a remove stamped after it (removed_hlc = its seen)')
    # (Each op its own hlc: device + hlc is the op's id, and a repeated id is not stored again.)
    k = 'organisation:orset.test/seen'
    sync(URL, T['alice'], x.id, [x.op('tag_assignment', k, 'add', {'origin': 'person'}, hlc=h(210))])
    sync(URL, T['carol'], y.id, [y.op('tag_assignment', k, 'remove', {'seen': h(210)}, hlc=h(310))])
    tap.eq(PG.scalar("SELECT present FROM set_members WHERE natural_key='%s'" % k), False,
           'a remove that had seen the add removes it')
    sync(URL, T['alice'], x.id, [x.op('tag_assignment', k, 'add', {'origin': 'person'}, hlc=h(150))])
    tap.eq(PG.scalar("SELECT present FROM set_members WHERE natural_key='%s'" % k), False,
           'an add older than what the remover saw, arriving late, does not bring it back')
    # The same in one request (ops on one member: the grouped path of sg_push_batch), remove first.
    k = 'organisation:orset.test/grouped'
    sync(URL, T['alice'], x.id, [x.op('tag_assignment', k, 'remove', {'seen': h(90)}, hlc=h(400)),
                                 x.op('tag_assignment', k, 'remove', {'seen': h(100)}, hlc=h(401)),
                                 x.op('tag_assignment', k, 'add', {'origin': 'rule'}, hlc=h(120))])
    tap.eq(PG.rows("SELECT present, removed_hlc FROM set_members WHERE natural_key='%s'" % k), [[True, h(100)]],
           'in one request: removed_hlc is the newest seen of its removes, and an unseen add wins')
    # A `seen` that is not a clock, or not older than its remove, is refused and stores nothing.
    bad = [y.op('tag_assignment', 'organisation:orset.test/bad', 'remove', {'seen': 'zz'}, hlc=h(500)),
           y.op('tag_assignment', 'organisation:orset.test/bad', 'remove', {'seen': h(501)}, hlc=h(501)),
           y.op('tag_assignment', 'organisation:orset.test/bad', 'remove', {'seen': 7}, hlc=h(502))]
    st, a = sync(URL, T['carol'], y.id, bad)
    tap.eq((st, [r['error'] for r in (a or {}).get('rejected', [])]),
           (200, ['fields.seen: not 16 lower-case hex digits',
                  'fields.seen: %s is not older than the op\'s hlc %s' % (h(501), h(501)),
                  'fields.seen: not 16 lower-case hex digits']),
           'a bad seen is rejected, naming the field')
    tap.eq(PG.scalar("SELECT count(*) FROM set_members WHERE natural_key='organisation:orset.test/bad'"), 0,
           'nothing stored for the rejected removes')
    # Pulled by another device: the remove comes with its seen, as pushed.
    seq = PG.scalar("SELECT seq FROM ops WHERE natural_key = 'organisation:orset.test/unseen' AND op = 'remove'")
    st, a = sync(URL, T['max'], Device().id, cursor='s%d' % (seq - 1), limit=1)
    pulled = [o for o in (a or {}).get('ops', []) if o['key'] == 'organisation:orset.test/unseen']
    tap.eq([o['fields'] for o in pulled], [{'seen': h(100)}], 'the pull serves the remove with its seen')
    # Delete: newer than every field deletes; a later upsert revives.
    sync(URL, T['alice'], x.id, [x.op('selection', 'hot', fields={'expression': 'x'}, hlc=h(70))])
    sync(URL, T['carol'], y.id, [y.op('selection', 'hot', 'delete', {}, hlc=h(80))])
    tap.eq(PG.scalar("SELECT deleted FROM entity_state WHERE entity='selection' AND natural_key='hot'"), True,
           'a delete newer than every field deletes')
    sync(URL, T['alice'], x.id, [x.op('selection', 'hot', fields={'expression': 'y'}, hlc=h(90))])
    tap.eq(PG.scalar("SELECT deleted FROM entity_state WHERE entity='selection' AND natural_key='hot'"), False,
           'a later upsert brings it back')
    # History: append-only, one row per op even when pushed twice.
    hs = [x.op('stage_history', 'eeee', 'append', {'to_stage': s}, hlc=h(100 + i))
          for i, s in enumerate(('lead', 'offer', 'won'))]
    sync(URL, T['alice'], x.id, hs)
    sync(URL, T['alice'], x.id, hs)
    tap.eq(PG.rows("SELECT fields->>'to_stage' FROM entity_history WHERE natural_key='eeee' ORDER BY hlc"),
           [['lead'], ['offer'], ['won']], 'stage history is appended once per op, in hlc order')


tap.run('merge', test_merge)

# --- what the database holds ----------------------------------------------------------------


def test_shared_data():
    d = Device()
    SECRET_SUBJECT, SECRET_BODY = 'Confidential merger Zanzibar', 'the body says Xylophone-42'
    # A metadata-level client sends an interaction without subject and body.
    meta = d.op('interaction', 'msg-1@acme.com', fields={
        'date': '2026-03-19T14:00:00Z', 'from': 'jane@acme.com', 'to': ['ann@ourco.example'], 'cc': [],
        'direction': 'in', 'thread': 'msg-1@acme.com', 'source_kind': 'maildir'})
    sql_key = "x'); DROP TABLE ops; --"
    odd = d.op('person', sql_key, fields={'name': "Robert'); DELETE FROM users;--", 'é': 'ünïcödé ☃',
                                          'nested': {'a': [1, 2.5, None, True]}})
    st, a = sync(URL, T['ann'], d.id, [meta, odd])
    tap.ok(st == 200 and len(a['acked']) == 2, 'pushed', repr(a))
    stored = PG.rows("SELECT op_id, fields FROM ops WHERE device = '%s' ORDER BY seq" % d.id)
    tap.eq(stored, [[meta['op_id'], meta['fields']], [odd['op_id'], odd['fields']]],
           'the database holds exactly the fields pushed (no subject, no body)')
    dump = PG.psql(PG.dbname, 'SELECT string_agg(t::text, E\'\\n\') FROM (SELECT ops::text FROM ops UNION ALL '
                              'SELECT entity_state::text FROM entity_state) t')
    tap.ok(SECRET_SUBJECT not in dump and SECRET_BODY not in dump and 'subject' not in dump,
           'no subject or body anywhere in ops or entity_state')
    tap.eq(PG.scalar("SELECT count(*) FROM ops WHERE natural_key = '%s'" % sql_key.replace("'", "''")), 1,
           'an SQL-looking key is stored as it is')
    tap.ok(PG.scalar('SELECT count(*) FROM users') >= 4, 'and did nothing else')
    ops, _, _ = pull_all(URL, T['max'], Device().id)
    got = [o for o in ops if o['op_id'] == odd['op_id']]
    tap.ok(got and got[0]['key'] == sql_key and got[0]['fields'] == odd['fields'],
           'it comes back byte for byte (unicode, nesting, quotes)', repr(got))


tap.run('shared data', test_shared_data)

# --- hostile HTTP ---------------------------------------------------------------------------


def raw(data, read=True, timeout=10):
    s = socket.create_connection(('127.0.0.1', SRV.port), timeout=timeout)
    try:
        s.sendall(data)
        if not read:
            return b''
        out = b''
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def post(body, headers=None, token='alice'):
    h = {'Authorization': 'Bearer ' + T[token], 'Content-Type': 'application/json'}
    h.update(headers or {})
    st, data = request(URL + '/v1/sync', body, headers=h)
    try:
        return st, json.loads(data)
    except ValueError:
        return st, data


def test_bad_http():
    dev = Device().id
    st, a = post(b'{"protocol": 1, "device": "x", "ops": [')
    tap.ok(st == 400 and 'not JSON' in a['error'] and ':' in a['error'], 'truncated JSON: 400 with a position', repr(a))
    st, a = post(b'[1,2]')
    tap.ok(st == 400 and 'object' in a['error'], 'a JSON array: 400', repr(a))
    st, a = post(json.dumps({'protocol': 2, 'device': dev}).encode())
    tap.ok(st == 400 and 'protocol' in a['error'], 'protocol 2: 400 naming protocol', repr(a))
    st, a = post(json.dumps({'protocol': 1}).encode())
    tap.ok(st == 400 and 'device' in a['error'], 'no device: 400 naming device', repr(a))
    st, a = post(json.dumps({'protocol': 1, 'device': dev, 'ops': {}}).encode())
    tap.ok(st == 400 and 'ops' in a['error'], 'ops not an array: 400', repr(a))
    st, a = post(json.dumps({'protocol': 1, 'device': dev, 'ops': [{'hlc': '0' * 16}]}).encode())
    tap.ok(st == 400 and 'ops[0].op_id' in a['error'], 'an op without op_id: 400 naming ops[0].op_id', repr(a))
    st, a = post(json.dumps({'protocol': 1, 'device': dev, 'limit': 0}).encode())
    tap.ok(st == 400 and 'limit' in a['error'], 'limit 0: 400', repr(a))
    d = Device(dev)
    bad = [dict(d.op('person', 'p1@x.com'), hlc='XYZ'), dict(d.op('person', 'p2@x.com'), op='frobnicate'),
           dict(d.op('person', 'p3@x.com'), fields=[1]), dict(d.op('person', 'p4@x.com'), entity='Bad Entity'),
           dict(d.op('person', 'p5@x.com'), key=''), d.op('person', 'p6@x.com', fields={'name': 'ok'})]
    st, a = post(json.dumps({'protocol': 1, 'device': dev, 'ops': bad}).encode())
    rej = [r['error'].split(':')[0] for r in a['rejected']]
    tap.ok(st == 200 and rej == ['hlc', 'op', 'fields', 'entity', 'key'] and a['acked'] == [bad[5]['op_id']],
           'bad ops are rejected one by one, naming the field; the good one is stored', repr(a))
    far = '%016x' % ((int(time.time() * 1000) + 30 * 86400000) << 16)
    st, a = post(json.dumps({'protocol': 1, 'device': dev, 'ops': [d.op('person', 'future@x.com', hlc=far)]}).encode())
    tap.ok(st == 200 and a['rejected'] and 'clock' in a['rejected'][0]['error'],
           'an op 30 days ahead of the server clock is rejected (it would win every merge)', repr(a))
    st, a = post(b'{"protocol": 1, "device": "' + dev.encode() + b'", "x": "\xff\xfe"}')
    tap.ok(st == 400 and 'UTF-8' in a['error'], 'invalid UTF-8: 400', repr(a))
    st, a = post(b'{"protocol": 1, "device": "' + dev.encode() + b'", "x": "a\\u0000b"}')
    tap.ok(st == 400 and 'u0000' in a['error'], '\\u0000 in a string: 400', repr(a))
    st, a = post(b'[' * 100000 + b']' * 100000)
    tap.ok(st == 400 and 'nested' in a['error'], '100,000 nested arrays: 400, no stack overflow', repr(a)[:200])
    body = json.dumps({'protocol': 1, 'device': dev}).encode()
    z = gzip.compress(body)
    st, a = post(z[:len(z) // 2], {'Content-Encoding': 'gzip'})
    tap.ok(st == 400 and 'truncated' in a['error'], 'truncated gzip: 400 saying truncated', repr(a))
    st, a = post(z[:10] + b'garbage-garbage-garbage' + z[10:], {'Content-Encoding': 'gzip'})
    tap.ok(st == 400 and 'gzip' in a['error'], 'corrupt gzip: 400', repr(a))
    st, a = post(z + b'trailing', {'Content-Encoding': 'gzip'})
    tap.ok(st == 400 and 'after the end' in a['error'], 'bytes after the gzip stream: 400', repr(a))
    st, a = post(body, {'Content-Encoding': 'br'})
    tap.ok(st == 415 and 'br' in a['error'], 'Content-Encoding br: 415', repr(a))
    bomb = gzip.compress(b'{"protocol": 1, "device": "x", "pad": "' + b'a' * (3 << 20) + b'"}')
    st, a = post(bomb, {'Content-Encoding': 'gzip'})
    tap.ok(st == 413 and 'MiB' in a['error'] and len(bomb) < 64 << 10,
           'a %d-byte gzip of 3 MiB (limit 2): 413' % len(bomb), repr(a))
    out = raw(b'POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ' + T['alice'].encode()
              + b'\r\nContent-Length: %d\r\n\r\n' % (3 << 20))
    tap.ok(out.startswith(b'HTTP/1.1 413') and b'over the limit' in out,
           'a 3 MiB body announced (limit 2): 413 before it is sent', out[:300])
    out = raw(b'POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ' + T['alice'].encode()
              + b'\r\nTransfer-Encoding: chunked\r\n\r\n' + (b'100000\r\n' + b' ' * 0x100000 + b'\r\n') * 3
              + b'0\r\n\r\n')
    tap.ok(out.startswith(b'HTTP/1.1 413'), 'a 3 MiB chunked body (no length announced): 413 once read', out[:300])
    many = {'protocol': 1, 'device': dev, 'ops': [d.op('person', 'm%d@x.com' % i) for i in range(5001)]}
    st, a = post(gzip.compress(json.dumps(many).encode()), {'Content-Encoding': 'gzip'})
    tap.ok(st == 413 and '5000' in a['error'], '5001 ops: 413 naming the limit', repr(a))
    tap.eq(PG.scalar("SELECT count(*) FROM ops WHERE natural_key = 'm1@x.com'"), 0, 'none of them stored')
    st, data = request(URL + '/v1/sync', method='GET')
    tap.ok(st == 405 and b'POST' in data, 'GET /v1/sync: 405 (allowed: POST)', data)
    st, data = request(URL + '/v1/nothing', method='GET')
    tap.ok(st == 404 and json.loads(data)['error'].startswith('no such path'), 'an unknown path: 404 in JSON', data)
    st, data = request(URL + '/v1/nothing', b'x' * 50000)
    tap.ok(st == 404, 'a POST with a body to an unknown path: 404', data[:200])
    st, data = request(URL + '/v1/health', b'x' * 50000)
    tap.ok(st == 405, 'a POST with a body to /v1/health: 405', data[:200])
    out = raw(b'POST /v1/nothing HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n0123456789'
              b'0123456789GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    tap.ok(out.startswith(b'HTTP/1.1 404'), 'a body after an early answer is not taken for a request', out[:200])
    st, data = request(URL + '/v1/health', method='DELETE')
    tap.eq(st, 405, 'DELETE /v1/health: 405')
    out = raw(b'GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ' + b'a' * (200 << 10) + b'\r\n\r\n')
    tap.ok(out.startswith(b'HTTP/1.1 4'), 'a 200 KiB header: a 4xx, no crash', out[:100])
    raw(b'POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ' + T['alice'].encode()
        + b'\r\nContent-Length: 100000\r\n\r\n{"protocol": 1', read=False)
    out = raw(b'GARBAGE\r\n\r\n')
    tap.ok(out == b'' or out.startswith(b'HTTP/1.1 400'), 'a request line that is not HTTP: 400 or closed', out[:100])
    out = raw(b'POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ' + T['alice'].encode()
              + b'\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')
    tap.ok(out == b'' or out.startswith(b'HTTP/1.1 4'), 'a bad chunk size: 4xx or closed', out[:100])
    st, data = request(URL + '/v1/health', method='GET')
    tap.eq(st, 200, 'the server still answers after all that')


tap.run('bad HTTP', test_bad_http)

# --- concurrency: no op lost, none twice ----------------------------------------------------


def test_concurrent():
    before = PG.scalar('SELECT max(seq) FROM ops')
    cursor = 's%d' % before
    pushed, errors = [], []
    lock = threading.Lock()

    def client(n):
        d = Device()
        tok = T['max'] if n % 2 else T['alice']
        for batch in range(5):
            ops = [d.op('person', 'c%d-%d-%d@acme.com' % (n, batch, i), fields={'n': i}) for i in range(40)]
            st, a = sync(URL, tok, d.id, ops)
            with lock:
                if st != 200 or len(a['acked']) != 40:
                    errors.append((st, a))
                pushed.extend(ids(ops))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    # A reader pulls while they write: whatever it gets, it must never miss an op by
    # jumping its cursor past one committed later.
    reader, seen, stop = Device(), [], threading.Event()

    def read():
        c = cursor
        while not stop.is_set():
            ops, c, _ = pull_all(URL, T['max'], reader.id, cursor=c)
            seen.extend(ops)
        ops, c, _ = pull_all(URL, T['max'], reader.id, cursor=c)
        seen.extend(ops)

    rt = threading.Thread(target=read)
    rt.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    rt.join()
    tap.eq(errors, [], '8 clients pushing 5 batches of 40 at once: every push answered 200, all acked')
    got = [o['op_id'] for o in seen]
    tap.eq(len(got), len(set(got)), 'a reader pulling meanwhile gets no op twice')
    tap.eq(set(got), set(pushed), 'and every op pushed (%d), none lost to a cursor race' % len(pushed))


tap.run('concurrency', test_concurrent)

# --- the database going away ----------------------------------------------------------------


def test_db_down():
    d = Device()
    PG.pg_stop()
    try:
        st, data = request(URL + '/v1/health', method='GET')
        tap.ok(st == 503 and b'database' in data, 'database stopped: health 503', data)
        st, a = sync(URL, T['alice'], d.id, [d.op('person', 'down@acme.com')])
        tap.ok(st == 503 and 'database' in a['error'], 'database stopped: sync 503 in JSON', repr(a))
    finally:
        PG.pg_start()
    st, a = sync(URL, T['alice'], d.id, [d.op('person', 'up@acme.com')])
    tap.ok(st == 200 and len(a['acked']) == 1, 'database back: the pool reconnects, sync works', repr(a))


tap.run('database down', test_db_down)

# --- TLS -------------------------------------------------------------------------------------


def test_tls():
    import ssl
    cert, key = sg.self_signed_cert(days=2)
    if cert is None:
        tap.skip('TLS', key)
        return
    srv = sgserver.Server.start(PG, tap, tls=(cert, key))
    st, _ = request(srv.url + '/v1/health', method='GET', context=srv.ssl_context)
    tap.eq(st, 200, 'with tls-cert and tls-key the server speaks HTTPS (certificate verified)')
    d = Device()
    st, a = sync(srv.url, T['max'], d.id, [d.op('person', 'tls@acme.com', fields={'name': 'T'})],
                 context=srv.ssl_context)
    tap.ok(st == 200 and len(a['acked']) == 1, 'a sync over HTTPS', repr(a))
    try:
        request(srv.url + '/v1/health', method='GET', context=ssl.create_default_context())
        tap.ok(False, 'a client that does not trust the certificate is refused by its own verification')
    except OSError as e:
        tap.ok('CERTIFICATE_VERIFY_FAILED' in str(e), 'a client that does not trust the certificate fails to verify',
               str(e))
    out = b''
    try:
        out = raw_to(srv.port, b'GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n')
    except OSError:
        pass
    tap.ok(not out.startswith(b'HTTP/1.1 200'), 'plain HTTP to the TLS port gets no answer', out[:80])
    tap.eq(srv.stop(), 0, 'the TLS server stops cleanly')


def raw_to(port, data):
    s = socket.create_connection(('127.0.0.1', port), timeout=5)
    try:
        s.sendall(data)
        return s.recv(1000)
    except socket.timeout:
        return b''
    finally:
        s.close()


tap.run('TLS', test_tls)

# --- migrations -------------------------------------------------------------------------------


def test_migrations():
    n = PG.scalar('SELECT count(*) FROM schema_migrations')
    tap.ok(n >= 1, 'schema_migrations records the migrations applied (%s)' % n)
    SRV.admin('user', 'list')
    tap.eq(PG.scalar('SELECT count(*) FROM schema_migrations'), n, 'running again applies nothing twice')
    PG.psql(PG.dbname, "INSERT INTO schema_migrations (version, name) VALUES (999, '0999-future.sql')")
    r = SRV.admin('user', 'list', check=False)
    tap.ok(r.rc == 1 and 'upgrade salesgetter-server' in r.err, 'a database newer than the binary is refused', repr(r))
    PG.psql(PG.dbname, 'DELETE FROM schema_migrations WHERE version = 999')


tap.run('migrations', test_migrations)


def test_migration_orset():
    """A database at the version before the orset migration, with set members written under
    the rule before (present iff added >= removed), keeps every member's presence once
    migrated (present iff added > removed, removed_hlc moved down by one)."""
    db = 'orsetmig'
    PG.psql('postgres', 'CREATE DATABASE %s' % db)
    files = sorted(f for f in os.listdir(os.path.join(sg.SRCDIR, 'schema', 'postgres')) if f.endswith('.sql'))
    mine = [f for f in files if f.endswith('-orset.sql')]
    tap.eq(len(mine), 1, 'one orset migration among %s' % files)
    PG.psql(db, 'CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, '
                'applied_at timestamptz NOT NULL DEFAULT now())')
    for f in files[:files.index(mine[0])]:
        with open(os.path.join(sg.SRCDIR, 'schema', 'postgres', f), encoding='utf-8') as fh:
            PG.psql(db, fh.read())
        PG.psql(db, "INSERT INTO schema_migrations (version, name) VALUES (%d, '%s')" % (int(f[:4]), f))
    # (added, removed): a tie, removed after, added after, only removed, only added, a borrow
    # across hex digits, zero.
    members = [('019ad27174400100', '019ad27174400100'), ('019ad27174400100', '019ad27174400101'),
               ('019ad27174400101', '019ad27174400100'), (None, '019ad27174400100'), ('019ad27174400100', None),
               ('0000000000010000', '0000000000010000'), ('000000000000ffff', '0000000000010000'),
               ('0000000000000000', '0000000000000000'), (None, '0000000000000000')]
    for i, (a, r) in enumerate(members):
        PG.psql(db, "INSERT INTO set_members (entity, natural_key, added_hlc, removed_hlc) VALUES "
                    "('tag_assignment', 'organisation:mig.test/t%d', %s, %s)"
                % (i, "'%s'" % a if a else 'NULL', "'%s'" % r if r else 'NULL'))

    def state():
        out = PG.psql(db, "SELECT natural_key || '=' || present || '/' || coalesce(removed_hlc, '-') FROM set_members "
                          "ORDER BY natural_key")
        return [line.split('=', 1) for line in out.split()]
    before = state()
    tap.eq([p.split('/')[0] for _, p in before], ['true', 'false', 'true', 'false', 'true', 'true', 'false', 'true',
                                                  'false'], 'before: present iff added >= removed')
    with open(SRV.conf, encoding='utf-8') as fh:
        conf = fh.read().replace('/' + PG.dbname + '\n', '/' + db + '\n')
    path = sg.path('server-orsetmig.conf')
    with open(path, 'w', encoding='utf-8') as fh:
        fh.write(conf)
    os.chmod(path, 0o600)
    r = sg.run([sgserver.SERVER, '-c', path, 'user', 'list'], env=sg.child_env())
    tap.ok(r.rc == 0 and 'applied migration %s' % mine[0] in r.err, 'salesgetter-server migrates it', repr(r))
    after = state()
    tap.eq([(k, p.split('/')[0]) for k, p in after], [(k, p.split('/')[0]) for k, p in before],
           'every member keeps its presence under the strict rule')
    tap.eq([p.split('/')[1] for _, p in after],
           ['019ad271744000ff', '019ad27174400100', '019ad271744000ff', '019ad271744000ff', '-',
            '000000000000ffff', '000000000000ffff', '-', '-'],
           'removed_hlc is one less, exactly (hex borrow; zero becomes none)')
    PG.psql('postgres', 'DROP DATABASE %s' % db)


tap.run('migration orset', test_migration_orset)

rc = SRV.stop()
tap.eq(rc, 0, 'SIGTERM stops the server cleanly (exit 0)')
tap.done()
