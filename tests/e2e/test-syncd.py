#!/usr/bin/env python3
"""End-to-end tests of salesgetter-syncd: --check-config, the start-up rescan, messages
stored as they land (latency printed, not asserted beyond 10 s), flag changes not
duplicated, new folders watched, SIGHUP reload, SIGTERM, --once."""

import os
import signal
import statistics
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest as sg  # noqa: E402

tap = sg.start(sg.Tap())

ME = 'Me Myself <me@ourco.example>'
ARRIVAL_TIMEOUT = 10.0   # a delivered message must be stored within this
SCAN_TIMEOUT = 60.0      # the start-up rescan of a small Maildir
T0 = 1700000000
_n = [0]


def msg(domain='acme.com', who='John Smith', user='john', subject=None):
    _n[0] += 1
    mid = 'm%d.%d@%s' % (_n[0], os.getpid(), domain)
    return mid, sg.make_message(mid, '%s <%s@%s>' % (who, user, domain), to=[ME],
                                subject=subject or 'Message %d' % _n[0], date=T0 + _n[0] * 60)


def syncd(*args, **kw):
    return sg.run([sg.SYNCD] + list(args), **kw)


# --- --check-config ---------------------------------------------------------------------

def test_check_config():
    md = sg.make_maildir(sg.path('cc-Maildir'))
    good = sg.write_config(sg.path('good.conf'), maildirs=[md], store=sg.path('cc.db'))
    r = syncd('--config', good, '--check-config')
    tap.ok(r.rc == 0 and r.out.startswith('OK') and good in r.out, '--check-config: OK and exit 0 for a good config',
           repr(r))
    tap.ok(not os.path.exists(sg.path('cc.db')), '--check-config does not create the store')
    bad = sg.path('bad-key.conf')
    with open(bad, 'w') as f:
        f.write('[identity]\nname=Me\nnmae=typo\n[maildir]\npaths=%s\n' % md)
    r = syncd('--config', bad, '--check-config')
    tap.ok(r.rc == 1 and bad in r.err and 'nmae' in r.err, '--check-config: exit 1 naming file and key of a typo',
           repr(r))
    bad_addr = sg.write_config(sg.path('bad-addr.conf'), addresses=['not-an-address'], maildirs=[md])
    r = syncd('--config', bad_addr, '--check-config')
    tap.ok(r.rc == 1 and bad_addr in r.err and '[identity] addresses' in r.err,
           '--check-config: exit 1 naming [identity] addresses for a bad address', repr(r))
    missing_md = sg.path('no-such-Maildir')
    nomd = sg.write_config(sg.path('missing-maildir.conf'), maildirs=[md, missing_md])
    r = syncd('--config', nomd, '--check-config')
    tap.ok(r.rc == 1 and nomd in r.err and missing_md in r.err and '[maildir] paths' in r.err,
           '--check-config: exit 1 naming file, key and the missing Maildir', repr(r))
    r = syncd('--config', sg.path('no-such.conf'), '--check-config')
    tap.ok(r.rc == 1 and 'no-such.conf' in r.err, '--check-config: exit 1 naming a config that does not exist',
           repr(r))
    r = syncd('--bogus')
    tap.eq(r.rc, 2, 'an unknown option is a usage error (exit 2)')
    r = syncd('extra-argument')
    tap.eq(r.rc, 2, 'an argument is a usage error (exit 2)')
    # A store the daemon cannot use stops it at once with a message naming the store.
    notdb = sg.path('not-a-store.db')
    with open(notdb, 'wb') as f:
        f.write(b'not sqlite\n' * 500)
    r = syncd('--config', good, '--store', notdb, '--once', timeout=30)
    tap.ok(r.rc == 1 and notdb in r.err, 'a store that is not SQLite: exit 1 naming it', repr(r))


# --- the running daemon ------------------------------------------------------------------

def find_by_location(maildir, location):
    """The file a stored Maildir location stands for: the same unique name (before ':2,')
    in new/ or cur/ of the same folder. None if there is none."""
    folder = os.path.split(location)[0]
    folder = os.path.dirname(folder)
    unique = os.path.basename(location).split(':2,')[0]
    for sub in ('cur', 'new'):
        d = os.path.join(maildir, folder, sub)
        for f in os.listdir(d) if os.path.isdir(d) else []:
            if f.split(':2,')[0] == unique:
                return os.path.join(d, f)
    return None


def deliver_and_wait(poller, maildir, folder='', **kw):
    """Delivers a new message and waits until it is stored. Returns (Message-ID, stored in
    time, seconds from the rename into new/ to the row in the store, delivered path)."""
    mid, data = msg(**kw)
    t = time.monotonic()
    delivered = sg.deliver(maildir, data, folder=folder)
    ok, _ = sg.wait_for(lambda: poller.has_message(mid), ARRIVAL_TIMEOUT, interval=0.001)
    return mid, ok, time.monotonic() - t, delivered


def test_daemon():
    md = sg.make_maildir(sg.path('Maildir'), ['.Work'])
    md2 = sg.make_maildir(sg.path('Maildir2'))
    store = sg.path('daemon.db')
    conf = sg.write_config(sg.path('daemon.conf'), maildirs=[md])
    pre = []
    for i in range(6):
        mid, data = msg(domain='initech.com', who='Bill Lumbergh', user='bill')
        folder = '.Work' if i % 3 == 0 else ''
        if i % 2:
            sg.put(md, data, folder=folder, sub='new', flags=None)
        else:
            sg.put(md, data, folder=folder)
        pre.append(mid)
    pre2 = []
    for i in range(3):
        mid, data = msg(domain='globex.com', who='Hank Scorpio', user='hank')
        sg.put(md2, data)
        pre2.append(mid)

    d = sg.Daemon(conf, store).start()
    poller = sg.StorePoller(store)
    try:
        ok, waited = sg.wait_for(lambda: all(poller.has_message(m) for m in pre), SCAN_TIMEOUT, 0.02)
        tap.ok(ok, 'the start-up rescan stores the %d messages already there (%.2f s)' % (len(pre), waited), d.log())
        tap.ok(d.alive(), 'the daemon is running after the rescan', d.log())

        # New messages, one at a time, as an MDA delivers them.
        latencies = []
        for i in range(20):
            folder = '.Work' if i % 4 == 3 else ''
            mid, ok, dt, _ = deliver_and_wait(poller, md, folder=folder)
            latencies.append(dt)
            tap.comment('latency %s%s: %.1f ms%s' % (folder or 'INBOX', '', dt * 1000, '' if ok else ' (NOT STORED)'))
            if not ok:
                break
        tap.ok(len(latencies) == 20 and max(latencies) < ARRIVAL_TIMEOUT,
               'each of 20 delivered messages is stored within %d s' % ARRIVAL_TIMEOUT, d.log())
        if latencies:
            s = sorted(latencies)
            tap.comment('latency summary over %d deliveries: min %.1f ms, median %.1f ms, p90 %.1f ms, max %.1f ms'
                        % (len(s), s[0] * 1000, statistics.median(s) * 1000, s[int(len(s) * 0.9) - 1] * 1000,
                           s[-1] * 1000))

        # A burst: 200 messages delivered back to back all arrive.
        burst = []
        for _ in range(200):
            mid, data = msg(domain='hooli.com', who='Gavin Belson', user='gavin')
            sg.deliver(md, data)
            burst.append(mid)
        t = time.monotonic()
        ok, waited = sg.wait_for(lambda: all(poller.has_message(m) for m in burst[-1:]) and
                                 poller.one('SELECT count(*) FROM interactions WHERE message_id LIKE ?',
                                            ('%@hooli.com',)) == len(burst), 30, 0.01)
        tap.ok(ok, 'a burst of 200 deliveries is stored completely (%.2f s after the last)' % (time.monotonic() - t),
               d.log())

        # Flag change: new/ -> cur/ with :2,S is the same message.
        mid, ok, _, newpath = deliver_and_wait(poller, md)
        n_inter = poller.count('interactions')
        n_seen = poller.count('maildir_seen')
        n_changes = poller.count('changes')
        curpath = os.path.join(md, 'cur', os.path.basename(newpath) + ':2,S')
        os.rename(newpath, curpath)
        # Flags change again (read, replied), as a mail client does.
        os.rename(curpath, curpath + 'R')
        # A sentinel delivered after the moves: once it is stored, the moves were handled.
        sentinel, ok, _, _ = deliver_and_wait(poller, md)
        tap.ok(ok, 'a sentinel after the flag changes is stored', d.log())
        tap.eq((poller.count('interactions'), poller.count('maildir_seen'), poller.count('changes') - n_changes),
               (n_inter + 1, n_seen + 1, 1),
               'a message moved new/ -> cur/ with :2,S (then :2,RS) is not stored again')
        tap.eq(poller.one("SELECT count(*) FROM changes WHERE entity = 'interaction' AND natural_key = ?", (mid,)), 1,
               'the moved message has one change in the log')
        # interactions.location is where the body was at import ([folder/]new|cur/name); a
        # flag change renames the file and only its unique part (before ':2,') stays. The
        # body must still be found from it that way.
        loc = poller.one('SELECT location FROM interactions WHERE message_id = ?', (mid,))
        tap.ok(loc is not None and find_by_location(md, loc) == curpath + 'R',
               'after the flag change the file is found from the stored location by its unique name',
               'location %r; the file is now %s' % (loc, os.path.relpath(curpath + 'R', md)))

        # A new Maildir++ subfolder made while running, with a message delivered at once.
        newfolder = os.path.join(md, '.Created Later')
        os.mkdir(newfolder)
        for sub in ('tmp', 'new', 'cur'):
            os.mkdir(os.path.join(newfolder, sub))
        mid, ok, dt, _ = deliver_and_wait(poller, md, folder='.Created Later')
        tap.comment('latency new folder, first message: %.1f ms' % (dt * 1000))
        tap.ok(ok, 'a message delivered at once into a new subfolder is stored', d.log())
        mid, ok, dt, _ = deliver_and_wait(poller, md, folder='.Created Later')
        tap.comment('latency new folder, second message: %.1f ms' % (dt * 1000))
        tap.ok(ok, 'the new subfolder is watched (next message stored in %.0f ms)' % (dt * 1000), d.log())
        # A nested one, made in steps (folder first, its new/ a moment later).
        nested = os.path.join(md, '.Created Later.Deeper')
        os.mkdir(nested)
        time.sleep(0.1)
        for sub in ('cur', 'new', 'tmp'):
            os.mkdir(os.path.join(nested, sub))
        time.sleep(0.1)
        mid, ok, dt, _ = deliver_and_wait(poller, md, folder='.Created Later.Deeper')
        tap.ok(ok, 'a subfolder made in steps is watched', d.log())
        # A nested (non-Maildir++, no leading dot) folder made while running.
        sg.make_maildir(os.path.join(md, 'Archive'))
        mid, ok, dt, _ = deliver_and_wait(poller, md, folder='Archive')
        tap.comment('latency nested folder Archive (no leading dot), first message: %.1f ms' % (dt * 1000))
        tap.ok(ok, 'a nested folder without a leading dot made while running is watched', d.log())
        # Trash is not sales knowledge, even when made later.
        trash = sg.make_maildir(os.path.join(md, '.Trash'))
        tmid, tdata = msg()
        sg.deliver(md, tdata, folder='.Trash')
        sentinel, ok, _, _ = deliver_and_wait(poller, md)
        time.sleep(0.3)
        tap.ok(ok and not poller.has_message(tmid), 'a message delivered into Trash is not stored', trash)

        # SIGHUP after adding a second Maildir.
        sg.write_config(conf, maildirs=[md, md2])
        d.signal(signal.SIGHUP)
        ok, waited = sg.wait_for(lambda: all(poller.has_message(m) for m in pre2), SCAN_TIMEOUT, 0.02)
        tap.ok(ok, 'SIGHUP with a second Maildir in the config: its messages are stored (%.2f s)' % waited, d.log())
        mid, ok, dt, _ = deliver_and_wait(poller, md2, domain='globex.com')
        tap.comment('latency second Maildir after SIGHUP: %.1f ms' % (dt * 1000))
        tap.ok(ok, 'after SIGHUP the second Maildir is watched', d.log())
        mid, ok, dt, _ = deliver_and_wait(poller, md)
        tap.ok(ok, 'after SIGHUP the first Maildir is still watched', d.log())
        mid, ok, dt, _ = deliver_and_wait(poller, md, folder='.Created Later')
        tap.ok(ok, 'after SIGHUP the subfolder made while running is still watched', d.log())

        # SIGHUP with a broken config keeps the previous one.
        with open(conf, 'a') as f:
            f.write('[maildir]\nbogus-key=1\n')
        d.signal(signal.SIGHUP)
        time.sleep(0.3)
        mid, ok, dt, _ = deliver_and_wait(poller, md2, domain='globex.com')
        tap.ok(d.alive() and ok, 'SIGHUP with a broken config: the daemon goes on with the previous one', d.log())
        tap.ok('bogus-key' in d.log(), 'the broken config is reported in the log, naming the key', d.log()[-2000:])
        sg.write_config(conf, maildirs=[md, md2])

        poller.close()
        total = sg.scalar(store, 'SELECT count(*) FROM interactions')
        rc, took = d.stop(timeout=10)
        tap.ok(rc == 0 and took < 5.0, 'SIGTERM: exit 0 promptly (rc %r in %.2f s)' % (rc, took), d.log()[-3000:])
        tap.eq(sg.integrity(store), 'ok', 'after SIGTERM the store passes integrity_check and foreign_key_check')
        tap.eq(sg.scalar(store, 'SELECT count(*) FROM interactions'), total, 'nothing is lost at SIGTERM')
        tap.ok('CRITICAL' not in d.log(), 'no GLib criticals in the daemon log', d.log()[-3000:])
        warnings = [l for l in d.log().splitlines() if 'WARNING' in l and 'bogus-key' not in l]
        tap.ok(not warnings, 'no warnings in the daemon log (besides the broken config)', '\n'.join(warnings[:20]))

        # Restart: nothing new, nothing duplicated, and messages delivered while it was down arrive.
        downtime = []
        for _ in range(3):
            mid, data = msg()
            sg.deliver(md, data)
            downtime.append(mid)
        before_changes = sg.scalar(store, 'SELECT count(*) FROM changes')
        d2 = sg.Daemon(conf, store, name='syncd-restart').start()
        poller = sg.StorePoller(store)
        ok, waited = sg.wait_for(lambda: all(poller.has_message(m) for m in downtime), SCAN_TIMEOUT, 0.02)
        tap.ok(ok, 'after a restart, messages delivered while it was down are stored', d2.log())
        time.sleep(0.5)
        poller.close()
        rc, took = d2.stop()
        tap.eq(rc, 0, 'the restarted daemon stops with exit 0')
        tap.eq(sg.scalar(store, "SELECT count(*) FROM changes WHERE entity = 'interaction'") -
               sg.scalar(store, 'SELECT count(*) FROM interactions'), 0,
               'after the restart every interaction has exactly one change')
        tap.ok(sg.scalar(store, 'SELECT count(*) FROM changes') - before_changes >= len(downtime),
               'the restart logged the new messages')
    finally:
        poller.close()
        d.stop()
        for x in list(sg._daemons):
            x.stop()


def test_sigterm_during_scan():
    """SIGTERM while the start-up rescan is busy: prompt exit 0, a consistent store, and a
    later --once finishes the job with nothing lost or doubled."""
    n = 1500 if sg.is_sanitized_build() else 4000
    md = sg.make_maildir(sg.path('Big'))
    for i in range(n):
        sg.put(md, sg.make_message('big%d@initech.com' % i, 'Peter Gibbons <peter%d@initech.com>' % (i % 50),
                                   subject='Number %d' % i, date=T0 + i), name='%d.%d.big' % (T0 + i, i))
    store = sg.path('big.db')
    conf = sg.write_config(sg.path('big.conf'), maildirs=[md])
    d = sg.Daemon(conf, store, name='syncd-big').start()
    poller = sg.StorePoller(store)
    try:
        ok, _ = sg.wait_for(lambda: poller.count() > 0, SCAN_TIMEOUT, 0.005)
        partial = poller.count()
        poller.close()
        rc, took = d.stop(timeout=10)
        tap.ok(rc == 0 and took < 5.0,
               'SIGTERM during the start-up rescan: exit 0 promptly (rc %r in %.2f s, %d of %d stored)'
               % (rc, took, partial, n), d.log()[-3000:])
        tap.eq(sg.integrity(store), 'ok', 'the store is consistent after SIGTERM during the rescan')
        r = syncd('--config', conf, '--store', store, '--once', timeout=300)
        tap.ok(r.rc == 0, '--once after the interrupted rescan exits 0', repr(r))
        tap.eq((sg.scalar(store, 'SELECT count(*) FROM interactions'),
                sg.scalar(store, 'SELECT count(DISTINCT name) FROM maildir_seen'),
                sg.scalar(store, "SELECT count(*) FROM changes WHERE entity = 'interaction'")),
               (n, n, n), 'after --once every message is stored once, seen once, logged once')
    finally:
        poller.close()
        d.stop()

    # --once stopped by SIGTERM in the middle of its scan: the timer that ends --once must not
    # fire on a daemon being torn down (it crashed with SIGSEGV).
    store_once = sg.path('big-once.db')
    d = sg.Daemon(conf, store_once, args=('--once',), name='syncd-once-term').start()
    poller = sg.StorePoller(store_once)
    try:
        sg.wait_for(lambda: poller.count() > 0 or not d.alive(), SCAN_TIMEOUT, 0.005)
        poller.close()
        rc, took = d.stop(timeout=10)
        tap.ok(rc == 0, '--once stopped by SIGTERM during its scan exits 0 (rc %r in %.2f s)' % (rc, took),
               d.log()[-3000:])
        tap.eq(sg.integrity(store_once), 'ok', 'and leaves a consistent store')
    finally:
        poller.close()
        d.stop()

    # Deliveries while the start-up rescan is busy are queued and stored once it is done;
    # a file moved new/ -> cur/ during the scan is not doubled.
    store2 = sg.path('big2.db')
    d = sg.Daemon(conf, store2, name='syncd-busy').start()
    poller = sg.StorePoller(store2)
    try:
        sg.wait_for(lambda: poller.count() > 0 or not d.alive(), SCAN_TIMEOUT, 0.005)
        scanning = poller.count() < n
        late = []
        for i in range(5):
            mid, data = msg(domain='initech.com', who='Milton Waddams', user='milton')
            p = sg.deliver(md, data)
            late.append(mid)
            if i == 0:
                os.rename(p, os.path.join(md, 'cur', os.path.basename(p) + ':2,S'))
        ok, waited = sg.wait_for(lambda: all(poller.has_message(m) for m in late), SCAN_TIMEOUT + ARRIVAL_TIMEOUT,
                                 0.01)
        tap.ok(ok, 'messages delivered during the start-up rescan (%s) are stored (%.2f s)'
               % ('it was still running' if scanning else 'it had already finished', waited), d.log()[-3000:])
        time.sleep(0.3)
        tap.eq((poller.count(), poller.one("SELECT count(*) FROM changes WHERE entity = 'interaction'")),
               (n + len(late), n + len(late)), 'and nothing is stored twice')
        poller.close()
        rc, took = d.stop()
        tap.eq(rc, 0, 'the daemon stops with exit 0')
    finally:
        poller.close()
        d.stop()

    # SIGHUP (several, quickly) while the start-up rescan is busy: the scan is restarted and
    # completes, nothing is doubled, and the daemon goes on watching.
    store3 = sg.path('big3.db')
    want = n + len(late)
    d = sg.Daemon(conf, store3, name='syncd-hup').start()
    poller = sg.StorePoller(store3)
    try:
        sg.wait_for(lambda: poller.count() > 0 or not d.alive(), SCAN_TIMEOUT, 0.005)
        d.signal(signal.SIGHUP)
        time.sleep(0.05)
        d.signal(signal.SIGHUP)
        d.signal(signal.SIGHUP)
        ok, waited = sg.wait_for(lambda: poller.count() >= want or not d.alive(), SCAN_TIMEOUT, 0.02)
        tap.ok(ok and d.alive(), 'SIGHUP during the start-up rescan: the scan still completes (%.2f s)' % waited,
               d.log()[-3000:])
        mid, ok, dt, _ = deliver_and_wait(poller, md, domain='initech.com')
        tap.ok(ok, 'and the Maildir is watched afterwards', d.log()[-3000:])
        time.sleep(0.2)
        tap.eq((poller.count(), poller.one("SELECT count(*) FROM changes WHERE entity = 'interaction'")),
               (want + 1, want + 1), 'and nothing is stored twice')
        poller.close()
        rc, took = d.stop()
        tap.ok(rc == 0 and sg.integrity(store3) == 'ok', 'it stops with exit 0 and a consistent store',
               d.log()[-3000:])
    finally:
        poller.close()
        d.stop()


def test_once():
    md = sg.make_maildir(sg.path('Once'), ['.Sent'])
    mids = []
    for i in range(30):
        mid, data = msg(domain='umbrella.com', who='Albert Wesker', user='wesker')
        sg.put(md, data, folder='.Sent' if i % 5 == 0 else '', sub='new' if i % 2 else 'cur',
               flags=None if i % 2 else 'S')
        mids.append(mid)
    store = sg.path('once.db')
    conf = sg.write_config(sg.path('once.conf'), maildirs=[md])
    r = syncd('--config', conf, '--store', store, '--once', timeout=120)
    tap.ok(r.rc == 0, '--once exits 0', repr(r))
    tap.ok(r.elapsed < 60, '--once returns when the scan is done (%.2f s)' % r.elapsed)
    got = {x[0] for x in sg.query(store, 'SELECT message_id FROM interactions')}
    tap.eq(got, set(mids), '--once stored every message of the Maildir and its subfolder')
    r = syncd('--config', conf, '--store', store, '--once', timeout=120)
    tap.ok(r.rc == 0, 'a second --once exits 0', repr(r))
    tap.eq(sg.scalar(store, "SELECT count(*) FROM changes WHERE entity = 'interaction'"), len(mids),
           'a second --once adds nothing')
    tap.eq(sg.integrity(store), 'ok', 'the store after --once passes integrity_check')
    # --once with a missing Maildir reports it and still does the others.
    conf2 = sg.write_config(sg.path('once2.conf'), maildirs=[sg.path('gone'), md])
    r = syncd('--config', conf2, '--store', store, '--once', timeout=120)
    tap.ok(r.rc in (0, 1) and sg.path('gone') in r.err, '--once names a missing Maildir', repr(r))


for name, func in [('check-config', test_check_config), ('daemon', test_daemon),
                   ('sigterm during scan', test_sigterm_during_scan), ('once', test_once)]:
    tap.run(name, func)
tap.done()
