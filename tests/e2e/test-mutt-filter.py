#!/usr/bin/env python3
"""End-to-end test of salesgetter-mutt-filter, the display_filter for mutt and neomutt: on a
small scenario (a customer with an open process, a stranger, a hostile display name) and on
real messages of the notmuch corpus (skipped when ../shared/corpora is absent), the block
above the message says the right things, and the message itself always comes out byte for
byte, whatever the store's state."""

import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest as sg  # noqa: E402

tap = sg.start(sg.Tap())

FILTER = os.environ.get('SG_MUTT_FILTER') or os.path.join(sg.BUILDDIR, 'plugins', 'mutt', 'salesgetter-mutt-filter')
ME = 'Julia Hoffmann <julia@ourco.example>'
STORE = sg.path('store.db')
CONF = sg.write_config(sg.path('salesgetter.conf'), name='Julia Hoffmann', addresses=('julia@ourco.example',),
                       internal_domains=('ourco.example',), store=STORE)
MD = sg.path('Maildir')
sg.make_maildir(MD)
NOW = int(time.time())
DAY = 86400

MAIL = [
    ('a1@acme.com', 'Jane Doe <jane@acme.com>', [ME], 'Demand forecast 2027', NOW - 20 * DAY),
    ('a2@ourco.example', ME, ['Jane Doe <jane@acme.com>'], 'Our proposal', NOW - 10 * DAY),
    ('a3@acme.com', 'Jane Doe <jane@acme.com>', [ME], 'Re: Our proposal', NOW - 5 * DAY),
]
for mid, frm, to, subj, date in MAIL:
    sg.put(MD, sg.make_message(mid, frm, to=to, subject=subj, date=date))


def sgc(*args, **kw):
    return sg.cli(*args, store=STORE, config=CONF, **kw)


def filt(data, *args, env=None):
    e = {'COLUMNS': '100'}
    e.update(env or {})
    return sg.run([FILTER, '--config', CONF] + list(args), input=data, binary=True, env=sg.child_env(e))


tap.ok(sgc('import', MD).rc == 0, 'import the scenario')
r = sgc('process', 'new', '--org', 'acme.com', '--deliverable', 'Demand forecast', '--value', '48,000',
        '--currency', 'EUR', '--stage', 'proposal', '-c', 'jane@acme.com:decision-maker')
tap.ok(r.rc == 0, 'an open process at Acme', repr(r))
tap.ok(sgc('tags', 'add', 'jane@acme.com', 'forecasting').rc == 0, 'a tag on Jane')

# --- a known customer ---------------------------------------------------------------------------
msg = sg.make_message('new1@acme.com', 'Jane Doe <jane@acme.com>', to=[ME], cc=['Carl New <carl@initech.de>'],
                      subject='Next steps', date=NOW)
r = filt(msg)
tap.ok(r.rc == 0, 'the filter exits 0', repr(r))
out = r.out
tap.ok(out.endswith(msg), 'the message follows, unchanged byte for byte')
block = out[:len(out) - len(msg)].decode('utf-8', 'replace')
tap.diag(block)
tap.ok(block.startswith('Jane Doe <jane@acme.com> · Acme'), 'the block opens with Jane and her organisation', block)
tap.ok('stage proposal' in block and '48000.00 EUR' in block and 'decision-maker' in block,
       'her open process with stage, value and her part', block)
tap.ok('Relationship:' in block, 'relationship strength', block)
tap.ok('carl@initech.de' in block and 'not in the CRM' in block, 'Carl is not in the CRM', block)
tap.ok('julia@ourco.example' not in block, 'the user is left out', block)
lines = block.splitlines()
tap.ok(all(len(line) <= 100 for line in lines), 'no line wider than $COLUMNS', block)
tap.ok(lines[-1].startswith('-----'), 'a rule separates the block from the message')

r = filt(msg, '--width', '40')
block = r.out[:len(r.out) - len(msg)].decode('utf-8')
tap.ok(r.out.endswith(msg) and all(len(line) <= 40 for line in block.splitlines()) and '…' in block,
       '--width 40: lines shortened with an ellipsis', block)

# --- hostile display names and subjects ---------------------------------------------------------
evil = sg.make_message('evil@bad.example', '"\x1b]0;owned\x07<b>Boss</b> \u202eevil" <boss@bad.example>',
                       to=[ME], subject='\x1b[2J wipe', date=NOW - DAY)
sg.put(MD, evil)
tap.ok(sgc('import', MD).rc == 0, 'import a message with escape sequences and a bidi override in the name')
r = filt(evil)
block = r.out[:len(r.out) - len(evil)].decode('utf-8', 'replace')
tap.ok(r.out.endswith(evil), 'the hostile message itself is passed on unchanged (mutt shows it as it would)')
tap.ok('\x1b' not in block and '\x07' not in block and '\u202e' not in block,
       'no escape, bell or bidi override in the block', repr(block))
tap.ok('<b>Boss</b>' in block, 'markup in a name is shown as text', block)

# --- the store missing, broken, busy: the message still comes through -----------------------------
r = filt(msg, '--store', sg.path('nowhere', 'store.db'))
tap.ok(r.rc == 0 and r.out.endswith(msg) and b'SalesGetter: no store at' in r.out,
       'no store: one quiet line, then the message', repr(r))
junk = sg.path('junk.db')
with open(junk, 'wb') as f:
    f.write(b'not a database' * 100)
r = filt(msg, '--store', junk)
tap.ok(r.rc == 0 and r.out.endswith(msg) and b'SalesGetter: store not readable' in r.out,
       'a file that is not a store: one quiet line, then the message', repr(r))
for desc, data in [('empty input', b''), ('binary junk', bytes(range(256)) * 10),
                   ('no headers', b'just some text\nwith lines\n')]:
    r = filt(data)
    tap.ok(r.rc == 0 and r.out == data, '%s: passed through unchanged' % desc, repr(r))
r = sg.run([FILTER, '--help'], env=sg.child_env())
tap.ok(r.rc == 0 and 'display_filter' in r.out, '--help names the muttrc line', repr(r))
r = sg.run([FILTER, 'extra'], env=sg.child_env())
tap.ok(r.rc == 2, 'an argument is a usage error (exit 2)', repr(r))

# --- mutt's own view of a message: headers decoded, some weeded ---------------------------------------
shown = ('Date: Mon, 2 Mar 2026 10:00:00 +0000\nFrom: Jane Doe <jane@acme.com>\nTo: %s\n'
         'Subject: Re: Our proposal\n\nThanks!\n' % ME).encode('utf-8')
r = filt(shown)
tap.ok(r.out.endswith(shown) and b'stage proposal' in r.out,
       'a message as mutt shows it (weeded headers, no Message-ID) still gets the block', repr(r))

# --- real messages ----------------------------------------------------------------------------------
corpus = os.path.join(os.environ.get('SG_CORPORA', ''), 'mail', 'notmuch')
if not os.path.isdir(corpus):
    tap.skip('real messages', 'no corpus at %s' % corpus)
else:
    store2 = sg.path('corpus.db')
    r = sg.cli('import', corpus, store=store2, config=CONF)
    tap.ok(r.rc in (0, 1), 'import the notmuch corpus', repr(r))
    files = []
    for root, dirs, names in sorted(os.walk(corpus)):
        dirs.sort()
        files += [os.path.join(root, n) for n in sorted(names) if '/cur' in root or '/new' in root]
    files = files[:80]
    unchanged = with_block = 0
    for f in files:
        with open(f, 'rb') as fh:
            data = fh.read()
        r = filt(data, '--store', store2)
        if r.rc == 0 and r.out.endswith(data):
            unchanged += 1
        head = r.out[:len(r.out) - len(data)]
        if head:
            with_block += 1
            text = head.decode('utf-8', 'replace')
            if any(ord(c) < 32 and c != '\n' for c in text):
                tap.diag('control character in the block for %s' % f)
                unchanged = -1
    tap.eq(unchanged, len(files), '%d real messages: each passed on unchanged, no control character in a block'
           % len(files))
    tap.ok(with_block > len(files) // 2, 'most real messages get a block (%d of %d)' % (with_block, len(files)))

tap.done()
