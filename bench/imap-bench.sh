#!/usr/bin/env bash
# imap-bench.sh: first sync of a generated mailbox from a local Dovecot (imaps on loopback),
# against `salesgetter import` of the same messages from the server's Maildir. See bench/README.md.
#
#   bench/imap-bench.sh [-b BUILDDIR] [-n COUNT] [-S SEED] [-r N]
#
#   -b BUILDDIR  meson build directory with cli/salesgetter (default ./build)
#   -n COUNT     messages (default 20000)
#   -S SEED      generator seed (default 1)
#   -r N         runs of each, the median is reported (default 3)
#
# Needs dovecot-imapd and openssl (scripts/bootstrap test installs them). Dovecot runs as in
# tests/e2e/test-imap.py (tests/e2e/sgdovecot.py): its own config, user and certificate in a
# temporary folder. Its index is built before timing (a real server has one), so the figures
# are ours plus Dovecot's serving, not Dovecot's first indexing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(dirname "$here")
build="$src/build"
count=20000
seed=1
repeats=3
while getopts "b:n:S:r:h" opt; do
  case $opt in
    b) build=$OPTARG ;;
    n) count=$OPTARG ;;
    S) seed=$OPTARG ;;
    r) repeats=$OPTARG ;;
    *) sed -n '4,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done

exec python3 - "$src" "$build/cli/salesgetter" "$count" "$seed" "$repeats" <<'PYEOF'
import os, re, shutil, statistics, subprocess, sys, tempfile, time
src, cli, count, seed, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
sys.path.insert(0, os.path.join(src, 'tests', 'e2e'))
sys.dont_write_bytecode = True
import sgdovecot

if sgdovecot.find_dovecot() is None:
    sys.exit('imap-bench: dovecot is not installed (apt-get install dovecot-imapd)')
work = tempfile.mkdtemp(prefix='sg-imap-bench-')
dv = sgdovecot.Dovecot()
try:
    gen = os.path.join(work, 'gen')
    conf = os.path.join(work, 'salesgetter.conf')
    subprocess.run([sys.executable, os.path.join(src, 'tests', 'gen', 'gen-maildir.py'), '--out', gen,
                    '--count', str(count), '--seed', str(seed), '--config', conf, '--jobs', '2'], check=True)
    for e in os.listdir(gen):
        s, d = os.path.join(gen, e), os.path.join(dv.maildir, e)
        if e in ('cur', 'new', 'tmp'):
            for n in os.listdir(s):
                os.rename(os.path.join(s, n), os.path.join(d, n))
        else:
            shutil.move(s, d)
    dv.fix_owner()
    dv.start()
    with open(conf, 'a') as f:
        f.write('\n[imap bench]\nurl=%s\nuser=%s\npassword=%s\nca-file=%s\n' % (
            dv.url(), sgdovecot.USER, sgdovecot.PASSWORD, dv.cert))
    os.chmod(conf, 0o600)
    t = time.monotonic()
    r = dv.doveadm('mailbox', 'status', '-u', sgdovecot.USER, 'messages', '*')
    print('dovecot indexed the mailbox in %.1f s (not timed below)' % (time.monotonic() - t))

    def timed(args):
        store = os.path.join(work, 'store.db')
        for suffix in ('', '-wal', '-shm'):
            if os.path.exists(store + suffix):
                os.unlink(store + suffix)
        t = time.monotonic()
        p = subprocess.run(['/usr/bin/time', '-f', '%M', cli, '--config', conf, '--store', store, 'import', '-q'] + args,
                           capture_output=True, text=True)
        elapsed = time.monotonic() - t
        if p.returncode != 0:
            sys.exit('imap-bench: %s failed: %s' % (args, p.stderr))
        rss = int(p.stderr.strip().splitlines()[-1])
        n = subprocess.run(['sqlite3', store, 'SELECT count(*) FROM interactions'], capture_output=True,
                           text=True).stdout.strip()
        return elapsed, rss, int(n)

    rows = []
    for what, args in (('IMAP first sync (imaps, loopback)', [dv.url().replace('://', '://%s@' % sgdovecot.USER)]),
                       ('Maildir import of the same messages', [dv.maildir])):
        runs = [timed(args) for _ in range(repeats)]
        wall = statistics.median(r[0] for r in runs)
        stored = runs[0][2]
        rows.append((what, wall, stored, max(r[1] for r in runs)))
    print()
    print('%d generated messages (seed %d), median of %d runs' % (count, seed, repeats))
    print('| what | wall s | interactions | msgs/s | peak RSS |')
    print('| --- | ---: | ---: | ---: | ---: |')
    for what, wall, stored, rss in rows:
        print('| %s | %.2f | %d | %.0f | %.0f MB |' % (what, wall, stored, stored / wall, rss / 1024))
    print('ratio IMAP / Maildir: %.2fx the time' % (rows[0][1] / rows[1][1]))
finally:
    dv.cleanup()
    shutil.rmtree(work, ignore_errors=True)
PYEOF
