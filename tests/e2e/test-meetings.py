#!/usr/bin/env python3
"""End-to-end tests of meetings through the real CLI: `salesgetter import` of .ics files,
folders and invitations in mail, iTIP order across files, `meetings` (window, --org, --tag,
formats, usage errors), `show` timelines with meetings, and `tags` (rules file, explain,
remove, retag after the file changes, bad rules named)."""

import csv
import io
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest as sg  # noqa: E402

tap = sg.start(sg.Tap())

STORE = sg.path('store.db')
RULES = sg.path('rules.conf')
CONF = sg.write_config(sg.path('salesgetter.conf'), addresses=('me@ourco.example',),
                       internal_domains=('ourco.example',), extra='\n[rules]\npath=%s\n' % RULES)
ICS = sg.path('calendar')
os.makedirs(os.path.join(ICS, 'sub'))


def cal(method, body):
    head = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//e2e//EN\r\n'
    if method:
        head += 'METHOD:%s\r\n' % method
    return head + body + 'END:VCALENDAR\r\n'


def vevent(uid, start, summary, seq=0, stamp='20260301T100000Z', extra='', end=None,
           organizer='jane@acme.com', attendees=('me@ourco.example', 'bob@acme.com')):
    lines = ['BEGIN:VEVENT', 'UID:%s' % uid, 'SEQUENCE:%d' % seq, 'DTSTAMP:%s' % stamp, start]
    if end:
        lines.append(end)
    lines += ['SUMMARY:%s' % summary, 'ORGANIZER;CN=Jane Doe:mailto:%s' % organizer]
    lines += ['ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:%s' % a for a in attendees]
    if extra:
        lines.append(extra)
    lines.append('END:VEVENT')
    return '\r\n'.join(lines) + '\r\n'


def write(name, text):
    with open(os.path.join(ICS, name), 'w', newline='') as f:
        f.write(text)


def meetings(*args, fmt='json'):
    r = sg.cli('meetings', '--format', fmt, *args, store=STORE, config=CONF)
    return r, (json.loads(r.out) if r.rc == 0 and fmt == 'json' else None)


# The files sort in the order they are imported: the CANCEL (01) comes before the REQUEST it
# cancels (02), as mail read out of order does; the move (03) is a newer SEQUENCE.
write('01-cancel.ics', cal('CANCEL', vevent('lost@acme.com', 'DTSTART:20260320T100000Z', 'Lost deal',
                                            seq=1, stamp='20260305T100000Z')))
write('02-request.ics', cal('REQUEST', vevent('lost@acme.com', 'DTSTART:20260320T100000Z', 'Lost deal',
                                              end='DTEND:20260320T110000Z')))
write('03-demo.ics', cal('REQUEST', vevent('demo@acme.com', 'DTSTART;TZID=Europe/Berlin:20260319T090000',
                                           'Product demo for Acme', end='DURATION:PT1H',
                                           extra='RRULE:FREQ=WEEKLY;COUNT=3')))
write('sub/04-globex.ics', cal(None, vevent('g@globex.com', 'DTSTART;VALUE=DATE:20260401', 'Globex fair',
                                            organizer='me@ourco.example', attendees=('hank@globex.com',))))
write('05-broken.ics', 'BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n')
with open(RULES, 'w') as f:
    f.write('[rule steering]\ntag = steering\nwords = fair\n')


def check_import():
    r = sg.cli('import', ICS, store=STORE, config=CONF)
    tap.eq(r.rc, 0, 'import of a folder of .ics files succeeds (a broken file is skipped, not fatal)')
    tap.ok('05-broken.ics' in r.err and 'truncated' in r.err, 'the broken file is named, and why', r.err)
    tap.ok('Meetings: 3 stored or changed, 1 older invitations or answers not applied' in r.out,
           'the summary counts meetings, and the REQUEST older than its CANCEL as not applied', r.out)
    again = sg.cli('import', ICS, store=STORE, config=CONF)
    tap.ok(again.rc == 0 and 'Meetings: 0 stored' in again.out, 'importing again changes nothing', again.out)


def check_meetings():
    r, rows = meetings('--from', '2026-03-01', '--to', '2026-05-01')
    tap.eq(r.rc, 0, 'meetings --format json succeeds')
    if rows is None:
        return
    got = [(m['start'], m['summary']) for m in rows]
    tap.eq(got, [('2026-03-19T08:00:00Z', 'Product demo for Acme'),
                 ('2026-03-26T08:00:00Z', 'Product demo for Acme'),
                 ('2026-04-01T00:00:00Z', 'Globex fair'),
                 ('2026-04-02T07:00:00Z', 'Product demo for Acme')],
           'occurrences sorted, recurrence expanded at 09:00 Berlin across DST, cancelled meeting left out')
    keys = ['start', 'end', 'summary', 'organizer', 'orgs', 'attendees', 'status', 'tags', 'uid',
            'recurrence_id', 'all_day', 'tz', 'location', 'recurring', 'interaction_id']
    tap.ok(all(list(m.keys()) == keys for m in rows), 'every object has the documented keys, in order',
           rows[0].keys() if rows else None)
    tap.ok(all(sg.ISO_Z.match(m['start']) and sg.ISO_Z.match(m['end']) for m in rows), 'times are ISO 8601 Z')
    demo = rows[0]
    tap.eq((demo['organizer'], demo['orgs'], demo['attendees'], demo['tz'], demo['recurring']),
           ('Jane Doe', 'acme.com', 3, 'Europe/Berlin', 1), 'organizer, organisations, attendees, zone')
    tap.eq(rows[2]['all_day'], 1, 'an all-day meeting is marked so')
    tap.eq(rows[2]['tags'], 'introduction, steering',
           'the rules file (and the built-in rules) tagged the fair: import applies the rules')
    r, allrows = meetings('--from', '2026-03-01', '--to', '2026-05-01', '--all')
    tap.ok(allrows is not None and ('2026-03-20T10:00:00Z', 'cancelled') in
           [(m['start'], m['status']) for m in allrows], '--all shows the cancelled meeting as cancelled')
    r, acme = meetings('--from', '2026-03-01', '--to', '2026-05-01', '--org', 'mail.acme.com')
    tap.eq([m['summary'] for m in acme or []], ['Product demo for Acme'] * 3, '--org takes any domain of it')
    r, tagged = meetings('--from', '2026-03-01', '--to', '2026-05-01', '--tag', 'steering')
    tap.eq([m['summary'] for m in tagged or []], ['Globex fair'], '--tag filters')
    r = sg.cli('meetings', '--format', 'csv', '--from', '2026-03-01', '--to', '2026-05-01', store=STORE,
               config=CONF)
    table = list(csv.reader(io.StringIO(r.out)))
    tap.ok(r.rc == 0 and table[0][:3] == ['start', 'end', 'summary'] and len(table) == 5, 'CSV has a header row',
           r.out)
    r = sg.cli('meetings', '--from', '2026-03-01', '--to', '2026-05-01', store=STORE, config=CONF)
    tap.ok(r.rc == 0 and '2026-03-19 08:00' in r.out and 'uid' not in r.out.split('\n')[0],
           'the table leaves detail columns out', r.out)


def check_usage():
    r = sg.cli('meetings', '--from', 'yesterday', store=STORE, config=CONF)
    tap.ok(r.rc == 2 and 'yesterday' in r.err, 'a date that does not parse is a usage error naming it', r.err)
    r = sg.cli('meetings', '--from', '2026-05-01', '--to', '2026-04-01', store=STORE, config=CONF)
    tap.eq(r.rc, 2, '--to before --from is a usage error')
    r = sg.cli('meetings', '--org', 'nowhere.example', store=STORE, config=CONF)
    tap.ok(r.rc == 1 and 'nowhere.example' in r.err, 'an unknown organisation fails, named', r.err)
    r = sg.cli('tags', 'frobnicate', store=STORE, config=CONF)
    tap.eq(r.rc, 2, 'an unknown tags action is a usage error')
    for cmd in ('meetings', 'tags'):
        r = sg.cli(cmd, '--help')
        tap.ok(r.rc == 0 and cmd in r.out, '%s --help works' % cmd)


def check_show():
    r = sg.cli('show', 'bob@acme.com', '--format', 'json', store=STORE, config=CONF)
    rows = json.loads(r.out) if r.rc == 0 else []
    kinds = sorted((x['kind'], x['subject'], x['from']) for x in rows)
    tap.eq(kinds, [('meeting', 'Lost deal', 'Jane Doe'), ('meeting', 'Product demo for Acme', 'Jane Doe')],
           "a person's timeline has their meetings, with the organizer as 'from'")


def check_tags():
    r = sg.cli('tags', 'explain', 'demo@acme.com', '--format', 'json', store=STORE, config=CONF)
    rows = json.loads(r.out) if r.rc == 0 else []
    # The rules file keeps the built-in rules: demo by its word, introduction as the first
    # meeting with Acme (the cancelled one does not count).
    got = sorted((x['tag'], x['origin'], x['rule']) for x in rows)
    tap.eq(got, [('demo', 'rule', 'demo'), ('introduction', 'rule', 'first-meeting')],
           'explain: tags with their rule')
    tap.ok(any('“demo”' in (x['evidence'] or '') for x in rows), 'explain: the evidence names the word')
    r = sg.cli('tags', 'remove', 'demo@acme.com', 'demo', store=STORE, config=CONF)
    tap.eq(r.rc, 0, 'tags remove succeeds')
    # The rules change: 'fair' no longer tags, 'demo' would (again).
    with open(RULES, 'w') as f:
        f.write('[rules]\ndefaults = false\n\n[rule demos]\ntag = demo\nwords = demo\n\n'
                '[rule acme]\ntag = acme-account\nkind = other\norgs = acme.com\n')
    r = sg.cli('tags', 'apply', store=STORE, config=CONF)
    tap.ok(r.rc == 0 and 'Tagged:' in r.out, 'tags apply succeeds', r.out + r.err)
    r, rows = meetings('--from', '2026-03-01', '--to', '2026-05-01')
    tags = {m['summary']: m['tags'] for m in rows or []}
    tap.eq(tags.get('Globex fair'), None, 'a rule tag no longer matched is taken away')
    tap.eq(tags.get('Product demo for Acme'), 'acme-account',
           'a new rule tags; a tag the person removed is not put back; dropped built-ins are gone')
    r = sg.cli('tags', 'list', '--format', 'json', store=STORE, config=CONF)
    listing = {x['tag']: (x['count'], x['removed']) for x in json.loads(r.out)} if r.rc == 0 else {}
    tap.eq(listing.get('demo'), (0, 1), 'tags list counts the removal')
    r = sg.cli('tags', 'add', 'nothing@here.example', 'x', store=STORE, config=CONF)
    tap.ok(r.rc == 1 and 'nothing@here.example' in r.err, 'tagging something unknown fails, named', r.err)
    with open(RULES, 'w') as f:
        f.write('[rule oops]\ntag = x\nwrods = typo\n')
    r = sg.cli('tags', 'apply', store=STORE, config=CONF)
    tap.ok(r.rc == 1 and RULES in r.err and 'wrods' in r.err and '[rule oops]' in r.err,
           'a bad rules file fails naming the file, the rule and the key', r.err)


def check_mail_invitation():
    md = sg.make_maildir(sg.path('Maildir'))
    ics = cal('REQUEST', vevent('mailed@initech.com', 'DTSTART:20260410T150000Z', 'TPS review',
                                organizer='bill@initech.com', attendees=('me@ourco.example',)))
    msg = ('From: Bill Lumbergh <bill@initech.com>\r\nTo: me@ourco.example\r\n'
           'Date: Wed, 01 Apr 2026 10:00:00 +0000\r\nSubject: Invitation: TPS review\r\n'
           'Message-ID: <inv-1@initech.com>\r\nMIME-Version: 1.0\r\n'
           'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nHi\r\n'
           '--b\r\nContent-Type: application/octet-stream; name="invite.ics"\r\n'
           'Content-Disposition: attachment; filename="invite.ics"\r\n\r\n' + ics + '--b--\r\n')
    sg.put(md, msg.encode())
    with open(RULES, 'w') as f:
        f.write('')
    r = sg.cli('import', md, store=STORE, config=CONF)
    tap.ok(r.rc == 0 and 'Meetings: 1 stored' in r.out, 'an .ics attachment in mail becomes a meeting',
           r.out + r.err)
    r, rows = meetings('--from', '2026-04-01', '--to', '2026-05-01', '--org', 'initech.com')
    tap.eq([(m['start'], m['summary'], m['tags']) for m in rows or []],
           [('2026-04-10T15:00:00Z', 'TPS review', 'introduction, review')],
           'the invitation is listed, tagged by the built-in rules')


def check_mail_tagging():
    """Mail is tagged at import by the rules file's mail rules, without 'tags apply'; a tag a
    person removed stays removed at the next import (caldav branch, issue 3)."""
    md = sg.make_maildir(sg.path('Maildir-rfp'))
    with open(RULES, 'w') as f:
        f.write('[rule rfp]\ntag = rfp\nkind = topic\napplies-to = mail\nwords = request for proposal\n')

    def mail(n, subject):
        return ('From: Buyer <buyer@initrode.example>\r\nTo: me@ourco.example\r\n'
                'Date: Wed, 0%d Apr 2026 10:00:00 +0000\r\nSubject: %s\r\n'
                'Message-ID: <rfp-%d@initrode.example>\r\n\r\nHello\r\n' % (n, subject, n)).encode()

    sg.put(md, mail(1, 'Request for proposal: CRM licences'))
    sg.put(md, mail(2, 'Lunch next week'))
    r = sg.cli('import', md, store=STORE, config=CONF)
    tap.ok(r.rc == 0, 'import of mail with a rules file', r.out + r.err)

    def tags(msgid):
        r = sg.cli('tags', 'explain', msgid, '--format', 'json', store=STORE, config=CONF)
        return sorted((x['tag'], x['rule'], x['removed']) for x in json.loads(r.out)) if r.rc == 0 else None

    tap.eq(tags('rfp-1@initrode.example'), [('rfp', 'rfp', 0)], 'mail is tagged by a mail rule at import')
    tap.eq(tags('rfp-2@initrode.example'), [], 'mail the rule does not match is not tagged')
    r = sg.cli('tags', 'remove', 'rfp-1@initrode.example', 'rfp', store=STORE, config=CONF)
    tap.eq(r.rc, 0, 'tags remove on a mail')
    sg.put(md, mail(3, 'Another request for proposal'))
    r = sg.cli('import', md, store=STORE, config=CONF)
    tap.eq((tags('rfp-1@initrode.example') or [[None, None, None]])[0][2], 1,
           'the next import does not put back a tag the person removed')
    tap.eq(tags('rfp-3@initrode.example'), [('rfp', 'rfp', 0)], 'the new mail is tagged')
    with open(RULES, 'w') as f:
        f.write('')


def check_daemon():
    cal_dir = sg.path('daemon-calendar')
    os.makedirs(cal_dir)
    dstore = sg.path('daemon.db')
    dconf = sg.write_config(sg.path('daemon.conf'), addresses=('me@ourco.example',),
                            extra='\n[calendar]\npaths=%s\n' % cal_dir)
    with open(os.path.join(cal_dir, 'first.ics'), 'w', newline='') as f:
        f.write(cal('REQUEST', vevent('d1@acme.com', 'DTSTART:20260501T100000Z', 'Kick-off')))
    once = sg.run([sg.SYNCD, '--config', dconf, '--store', dstore, '--once'], timeout=60)
    tap.eq(once.rc, 0, 'syncd --once with a [calendar] folder exits 0')
    tap.eq(sg.scalar(dstore, "SELECT summary FROM meetings WHERE uid = 'd1@acme.com'"), 'Kick-off',
           'syncd --once imports the calendar folder')
    tap.eq(sg.scalar(dstore, "SELECT count(*) FROM tag_assignments"), 1, 'and tags it (introduction)')
    d = sg.Daemon(dconf, dstore).start()
    try:
        # A calendar client saves a new file, then the organizer cancels the first meeting.
        with open(os.path.join(cal_dir, 'second.ics.tmp'), 'w', newline='') as f:
            f.write(cal('REQUEST', vevent('d2@acme.com', 'DTSTART:20260502T100000Z', 'Follow-up')))
        os.rename(os.path.join(cal_dir, 'second.ics.tmp'), os.path.join(cal_dir, 'second.ics'))
        ok, _ = sg.wait_for(lambda: sg.scalar(dstore, "SELECT count(*) FROM meetings WHERE uid = 'd2@acme.com'")
                            == 1, 30, 0.05)
        tap.ok(ok, 'the running daemon imports a new .ics file in the folder', d.log())
        with open(os.path.join(cal_dir, 'first.ics'), 'w', newline='') as f:
            f.write(cal('CANCEL', vevent('d1@acme.com', 'DTSTART:20260501T100000Z', 'Kick-off', seq=1,
                                         stamp='20260310T100000Z')))
        ok, _ = sg.wait_for(lambda: sg.scalar(dstore, "SELECT status FROM meetings WHERE uid = 'd1@acme.com'")
                            == 'cancelled', 30, 0.05)
        tap.ok(ok, 'a changed file (a CANCEL) is applied', d.log())
    finally:
        rc, _ = d.stop()
    tap.eq(rc, 0, 'the daemon stops cleanly on SIGTERM')


tap.run('import', check_import)
tap.run('meetings', check_meetings)
tap.run('usage', check_usage)
tap.run('show', check_show)
tap.run('tags', check_tags)
tap.run('mail invitation', check_mail_invitation)
tap.run('mail tagging', check_mail_tagging)
tap.run('daemon', check_daemon)
tap.done()
