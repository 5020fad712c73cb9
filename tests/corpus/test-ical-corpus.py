#!/usr/bin/env python3
"""Golden tests of meetings on the real iCalendar files of the shared corpora
($SG_CORPORA/ical, and one invitation in $SG_CORPORA/mail), through the real CLI.

Each expectation below was worked out by hand from the raw file (its DTSTART, TZID, RRULE,
EXDATE, RECURRENCE-ID and the zone's rules in tzdata), never copied from the program's
output; the comment beside each says how. Then a sweep imports every corpus folder:
nothing crashes, every file is imported or named in a problem, a second import changes
nothing, and listing ten years of meetings works.

Without the corpora the test prints "1..0 # SKIP" and exits 77 (0 with --skip-status=0).
"""

import json
import os
import re
import shutil
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'e2e'))
import sgtest as sg  # noqa: E402

CORPORA = os.environ.get('SG_CORPORA', '')
ICAL = os.path.join(CORPORA, 'ical')
if not os.path.isdir(ICAL):
    print('1..0 # SKIP no iCalendar corpus at %s' % ICAL)
    sys.exit(0 if '--skip-status=0' in sys.argv else 77)

tap = sg.start(sg.Tap())
CONF = sg.write_config(sg.path('salesgetter.conf'), addresses=('me@ourco.example',))
RAD = os.path.join(ICAL, 'radicale', 'radicale', 'tests', 'static')
ICS_TESTS = os.path.join(ICAL, 'icalendar', 'src', 'icalendar', 'tests')

# (corpus file, window from, window to, [(start, end or None, summary, all_day, tz)], why)
CASES = [
    (os.path.join(RAD, 'event_daily_rrule_overridden.ics'), '2006-01-01', '2006-01-31',
     [('2006-01-02T17:00:00Z', '2006-01-02T18:00:00Z', 'Event #2', 0, 'US/Eastern'),
      ('2006-01-03T17:00:00Z', '2006-01-03T18:00:00Z', 'Event #2', 0, 'US/Eastern'),
      ('2006-01-04T19:00:00Z', '2006-01-04T20:00:00Z', 'Event #2 bis', 0, 'US/Eastern'),
      ('2006-01-05T17:00:00Z', '2006-01-05T18:00:00Z', 'Event #2', 0, 'US/Eastern'),
      ('2006-01-06T17:00:00Z', '2006-01-06T18:00:00Z', 'Event #2', 0, 'US/Eastern')],
     # Daily 12:00 EST (UTC-5) for 5 days; the 4 January instance moved to 14:00 and renamed.
     'daily series with one overridden instance (US/Eastern, winter)'),
    (os.path.join(RAD, 'event_full_day_rrule.ics'), '2006-01-01', '2006-01-31',
     [('2006-01-0%dT00:00:00Z' % d, '2006-01-0%dT00:00:00Z' % (d + 1), 'Recurring event', 1, None)
      for d in range(2, 7)],
     # DTSTART is a DATE (the TZID on it means nothing): five whole days from 2 January.
     'all-day daily series, COUNT=5'),
    (os.path.join(RAD, 'event_rdate_period_start_duration.ics'), '2000-01-01', '2000-01-15',
     [('2000-01-01T00:00:00Z', None, None, 0, None), ('2000-01-02T00:00:00Z', None, None, 0, None),
      ('2000-01-08T00:00:00Z', None, None, 0, None)],
     # Weekly from Saturday 1 January 2000 00:00Z, plus an RDATE period starting 2 January.
     'RRULE plus an RDATE given as a PERIOD'),
    (os.path.join(RAD, 'event_exdate_without_rrule.ics'), '2024-06-27', '2024-07-12',
     [('2024-06-27T17:30:00Z', '2024-06-27T18:30:00Z', 'Escalade', 0, 'Europe/Paris'),
      ('2024-07-11T17:30:00Z', '2024-07-11T18:30:00Z', 'Escalade', 0, 'Europe/Paris')],
     # Thursdays 19:30 Paris (CEST, UTC+2); EXDATE removes 4 July.
     'weekly series with an EXDATE, summer time'),
    (os.path.join(RAD, 'event_exdate_without_rrule.ics'), '2024-11-21', '2024-12-06',
     [('2024-11-21T18:30:00Z', '2024-11-21T19:30:00Z', 'Escalade', 0, 'Europe/Paris'),
      ('2024-11-28T18:30:00Z', '2024-11-28T19:30:00Z', 'Escalade avec Romain', 0, 'Europe/Paris'),
      ('2024-12-05T18:30:00Z', '2024-12-05T19:30:00Z', 'Escalade', 0, 'Europe/Paris')],
     # The same series in winter (CET, UTC+1): 19:30 local is 18:30Z; 28 November overridden
     # (an older SEQUENCE on the override is its own row, not a stale update of the series).
     'the same series across the DST change, with its overridden instance'),
    (os.path.join(RAD, 'event_issue2151.ics'), '2026-03-20', '2026-04-18',
     [('2026-03-20T10:00:00Z', '2026-03-20T11:00:00Z', 'Billings-task-setting follow-up series', 0,
       'Europe/Berlin'),
      ('2026-03-27T10:00:00Z', '2026-03-27T11:00:00Z', 'Billings-task-setting follow-up series', 0,
       'Europe/Berlin'),
      ('2026-04-10T09:00:00Z', '2026-04-10T10:00:00Z', 'Billings-task-setting follow-up series', 0,
       'Europe/Berlin'),
      ('2026-04-17T09:00:00Z', '2026-04-17T10:00:00Z', 'Billings-task-setting follow-up series', 0,
       'Europe/Berlin')],
     # Outlook's "W. Europe Standard Time" is Europe/Berlin (CLDR). Fridays 11:00 local: CET
     # until 29 March 2026 (10:00Z), CEST after (09:00Z). EXDATE:20260403T110000 has no TZID:
     # read in DTSTART's zone, it removes 3 April.
     'Windows TZID, weekly across DST, floating EXDATE'),
    (os.path.join(ICS_TESTS, 'calendars', 'issue_836_do_not_quote_tzid.ics'), '2024-10-01', '2024-11-30',
     [('2024-10-28T21:00:00Z', '2024-10-28T22:00:00Z', 'Anonymous Test Event for TZID', 0,
       'America/New_York')],
     # "Eastern Standard Time" is America/New_York; 28 October 2024 is still EDT (UTC-4).
     'Exchange TZID "Eastern Standard Time"'),
]


def store_for(name):
    path = sg.path(name + '.db')
    if os.path.exists(path):
        os.unlink(path)
    return path


def check_case(i, case):
    path, start, end, want, why = case
    if not os.path.exists(path):
        tap.skip(why, '%s not in the corpus' % path)
        return
    store = store_for('case%d' % i)
    r = sg.cli('import', path, store=store, config=CONF)
    if r.rc != 0:
        tap.ok(False, why + ': import', r.err)
        return
    r = sg.cli('meetings', '--all', '--from', start, '--to', end, '--format', 'json', store=store, config=CONF)
    rows = json.loads(r.out) if r.rc == 0 else []
    got = []
    for row, w in zip(rows, want):
        got.append((row['start'], row['end'] if w[1] else None, row['summary'] if w[2] else None,
                    row['all_day'], row['tz'] if w[4] else None))
    got += [(row['start'],) for row in rows[len(want):]]
    tap.eq(got, want, '%s (%s)' % (why, os.path.basename(path)))


def check_mail_invitation():
    eml = os.path.join(CORPORA, 'mail', 'notmuch', 'test', 'corpora', 'attachment', 'text-calendar.eml')
    if not os.path.exists(eml):
        tap.skip('invitation in mail', 'text-calendar.eml not in the corpus')
        return
    store = store_for('mail')
    r = sg.cli('import', eml, store=store, config=CONF)
    tap.ok(r.rc == 0 and 'Meetings: 1 stored' in r.out, 'a text/calendar part (base64) in real mail is a meeting',
           r.out + r.err)
    # Daily 14:00 "Atlantic Standard Time" (America/Halifax, ADT UTC-3 in summer) from 27 May
    # 2024 until 27 August 17:00Z inclusive: the last three instances, and 93 in all.
    r = sg.cli('meetings', '--from', '2024-08-25', '--to', '2024-09-30', '--format', 'json', store=store,
               config=CONF)
    rows = json.loads(r.out) if r.rc == 0 else []
    tap.eq([(x['start'], x['end'], x['summary'], x['tz'], x['organizer']) for x in rows],
           [('2024-08-%02dT17:00:00Z' % d, '2024-08-%02dT17:30:00Z' % d, 'test [In-person]', 'America/Halifax',
             'David Bremner') for d in (25, 26, 27)],
           'Exchange invitation: Windows zone, daily until UNTIL (inclusive), organizer by name')
    r = sg.cli('meetings', '--from', '2024-05-01', '--to', '2024-09-30', '--format', 'json', store=store,
               config=CONF)
    tap.eq(len(json.loads(r.out)) if r.rc == 0 else None, 93, 'all 93 daily instances')
    r = sg.cli('show', 'bremner@example.com', '--format', 'json', store=store, config=CONF)
    kinds = sorted(x['kind'] for x in json.loads(r.out)) if r.rc == 0 else []
    tap.eq(kinds, ['mail', 'meeting'], "the organizer's timeline has the mail and the meeting")


def check_sweep():
    for name in sorted(os.listdir(ICAL)):
        folder = os.path.join(ICAL, name)
        if not os.path.isdir(folder):
            continue
        store = store_for('sweep-' + name)
        first = sg.cli('import', folder, store=store, config=CONF, timeout=300)
        tap.eq(first.rc, 0, '%s: import of every .ics file finishes (bad files are skipped)' % name)
        files = sorted(os.path.realpath(os.path.join(d, f)) for d, _, fs in os.walk(folder) for f in fs
                       if f.lower().endswith('.ics'))
        named = set(row[0] for row in sg.query(store, "SELECT DISTINCT location_ref FROM meetings"))
        named |= set(row[0] for row in sg.query(store, "SELECT location FROM import_problems"))
        # A file whose every VEVENT is an older version of one in another file is rightly
        # neither stored nor a problem: imported alone, each must store or say something.
        silent = []
        for f in files:
            if f in named:
                continue
            alone = sg.cli('import', f, store=store_for('alone'), config=CONF)
            if alone.rc != 0 or not (re.search(r'Meetings: [1-9]', alone.out) or alone.err.strip()
                                     or re.search(r'[1-9]\d* older', alone.out)):
                silent.append(os.path.relpath(f, folder))
        tap.ok(not silent and len(named) > 0,
               '%s: each of its %d .ics files stores a meeting, is named in a problem, or (alone) says why not'
               % (name, len(files)), 'silent: %r' % silent)
        again = sg.cli('import', folder, store=store, config=CONF, timeout=300)
        tap.ok(again.rc == 0 and 'Meetings: 0 stored or changed' in again.out,
               '%s: a second import changes nothing' % name, again.out)
        r = sg.cli('meetings', '--all', '--from', '1990-01-01', '--to', '2040-01-01', '--format', 'json',
                   store=store, config=CONF, timeout=300)
        tap.ok(r.rc == 0 and isinstance(json.loads(r.out), list), '%s: fifty years of meetings list' % name,
               r.err)


for i, case in enumerate(CASES):
    tap.run('case %d' % i, check_case, i, case)
tap.run('mail invitation', check_mail_invitation)
tap.run('sweep', check_sweep)
tap.done()
