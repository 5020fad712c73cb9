"""A real PostgreSQL for the e2e tests: a throw-away cluster in a temp dir, on loopback, run
as a non-root user (PostgreSQL refuses root; as root the cluster runs as 'nobody', or
$SG_PG_USER). Standard library only. Also: the sync contract's server state built from a
client store's change log (apply_changes), the stand-in for salesgetter-server until the
dashboard is wired into it."""

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile

SUPERUSER = 'sg'


def bindir():
    """The PostgreSQL server binaries (Debian: /usr/lib/postgresql/N/bin), or None."""
    found = sorted(glob.glob('/usr/lib/postgresql/*/bin/initdb'),
                   key=lambda p: int(p.split('/')[4]) if p.split('/')[4].isdigit() else 0)
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which('initdb')
    return os.path.dirname(initdb) if initdb else None


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def q(text):
    """A SQL string literal (standard_conforming_strings is on: only quotes double)."""
    if text is None:
        return 'NULL'
    return "'" + str(text).replace("'", "''") + "'"


class Postgres:
    def __init__(self):
        self.bin = bindir()
        self.dir = None
        self.port = None
        self.user = None
        self.started = False

    def available(self):
        return self.bin is not None and shutil.which('psql') is not None

    def _run(self, argv, **kw):
        kw.setdefault('cwd', self.dir)
        if self.user is not None:
            kw['user'] = self.user.pw_uid
            kw['group'] = self.user.pw_gid
            kw['extra_groups'] = []
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120, **kw)

    def start(self):
        self.dir = tempfile.mkdtemp(prefix='sg-pg-')
        if os.geteuid() == 0:
            self.user = pwd.getpwnam(os.environ.get('SG_PG_USER', 'nobody'))
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
            os.chmod(self.dir, 0o700)
        data = os.path.join(self.dir, 'data')
        r = self._run([os.path.join(self.bin, 'initdb'), '-D', data, '-U', SUPERUSER, '--auth=trust',
                       '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'])
        if r.returncode != 0:
            raise RuntimeError('initdb failed: %s' % r.stdout.decode(errors='replace'))
        self.port = free_port()
        opts = '-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off' % (
            self.port, self.dir)
        r = self._run([os.path.join(self.bin, 'pg_ctl'), '-D', data, '-o', opts, '-w', '-t', '60',
                       '-l', os.path.join(self.dir, 'postgres.log'), 'start'])
        if r.returncode != 0:
            log = ''
            try:
                with open(os.path.join(self.dir, 'postgres.log'), errors='replace') as f:
                    log = f.read()
            except OSError:
                pass
            raise RuntimeError('pg_ctl start failed: %s\n%s' % (r.stdout.decode(errors='replace'), log))
        self.started = True
        return self

    def conninfo(self, dbname='postgres'):
        return 'host=127.0.0.1 port=%d user=%s dbname=%s' % (self.port, SUPERUSER, dbname)

    def psql(self, sql, dbname='postgres'):
        """Runs @sql (stops at the first error); returns the rows as lists of text."""
        r = subprocess.run(['psql', '-X', '-q', '-A', '-t', '-F', '\x1f', '-v', 'ON_ERROR_STOP=1',
                            '-d', self.conninfo(dbname)], input=sql.encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        if r.returncode != 0:
            raise RuntimeError('psql: %s' % r.stderr.decode(errors='replace'))
        out = r.stdout.decode()
        return [line.split('\x1f') for line in out.splitlines() if line != '']

    def stop(self):
        if self.started:
            self._run([os.path.join(self.bin, 'pg_ctl'), '-D', os.path.join(self.dir, 'data'), '-m', 'fast',
                       '-w', 'stop'])
            self.started = False
        if self.dir and not os.environ.get('SG_KEEP_TMP'):
            shutil.rmtree(self.dir, ignore_errors=True)


def apply_changes(changes):
    """The server state the sync contract describes (entity_state merged last-writer-wins per
    field by hlc, set_members add-wins, stage_history appended to entity_history), from
    change-log rows (op_id, hlc, entity, natural_key, op, fields): SQL to load it."""
    state = {}     # (entity, key) -> (fields, field_hlc)
    members = {}   # (entity, key) -> [added_hlc, removed_hlc]
    history = []
    for op_id, hlc, entity, key, op, fields in changes:
        f = json.loads(fields) if fields else {}
        if op == 'upsert':
            cur, fh = state.setdefault((entity, key), ({}, {}))
            for k, v in f.items():
                if fh.get(k, -1) <= hlc:
                    cur[k] = v
                    fh[k] = hlc
        elif op == 'delete':
            state.pop((entity, key), None)
        elif op in ('add', 'remove'):
            m = members.setdefault((entity, key), [None, None])
            i = 0 if op == 'add' else 1
            m[i] = hlc if m[i] is None else max(m[i], hlc)
        elif op == 'append':
            history.append((entity, key, hlc, f))
    sql = []
    for (entity, key), (fields, fh) in state.items():
        sql.append('INSERT INTO entity_state (entity, natural_key, fields, field_hlc) VALUES (%s, %s, %s, %s);' % (
            q(entity), q(key), q(json.dumps(fields)), q(json.dumps(fh))))
    for (entity, key), (added, removed) in members.items():
        sql.append('INSERT INTO set_members (entity, natural_key, added_hlc, removed_hlc) VALUES (%s, %s, %s, %s);'
                   % (q(entity), q(key), 'NULL' if added is None else added, 'NULL' if removed is None else removed))
    for entity, key, hlc, f in history:
        sql.append('INSERT INTO entity_history (entity, natural_key, hlc, fields) VALUES (%s, %s, %d, %s);' % (
            q(entity), q(key), hlc, q(json.dumps(f))))
    return '\n'.join(sql) + '\n'
