"""sgserver: a real PostgreSQL and a real salesgetter-server for the end-to-end tests.

Python 3 standard library only (no psycopg2: the tests read the database with psql).

    pg = Postgres.start()               # initdb + pg_ctl in a temp dir, on 127.0.0.1, as a
                                        # non-root user (postgres when we are root)
    srv = Server.start(pg)              # behind-proxy config on loopback, migrated database
    srv.user_add('alice', 'account-manager', ['alice@ourco.example'])
    token = srv.token_new('alice')
    status, answer = sync(srv.url, token, device, ops=[...])
    pg.rows("SELECT ... FROM ops")      # list of tuples of str (None for NULL)

Postgres.available() says whether PostgreSQL is installed (tests skip cleanly when not).
Environment: SG_SERVER (the binary; set by tests/meson.build), SG_PG_BINDIR (default: the
newest /usr/lib/postgresql/N/bin).
"""

import atexit
import glob
import gzip
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import sgtest

SERVER = os.environ.get('SG_SERVER') or os.path.join(sgtest.BUILDDIR, 'server', 'salesgetter-server')


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pg_bindir():
    d = os.environ.get('SG_PG_BINDIR')
    if d:
        return d
    found = sorted(glob.glob('/usr/lib/postgresql/*/bin/initdb'),
                   key=lambda p: int(p.split('/')[4]) if p.split('/')[4].isdigit() else 0)
    return os.path.dirname(found[-1]) if found else None


class Postgres:
    """A throwaway PostgreSQL cluster. Removed (stopped and deleted) at exit."""

    @staticmethod
    def available():
        b = pg_bindir()
        return bool(b and os.path.exists(os.path.join(b, 'pg_ctl')) and shutil.which('psql'))

    @classmethod
    def start(cls, dbname='salesgetter'):
        self = cls()
        self.bindir = pg_bindir()
        self.port = free_port()
        self.dbname = dbname
        # PostgreSQL refuses to run as root: the cluster belongs to 'postgres' then, in a
        # directory of its own (our temp dir is root's, mode 0700).
        self.as_user = None
        if os.geteuid() == 0:
            self.as_user = 'postgres'
            pw = pwd.getpwnam('postgres')
        self.dir = tempfile.mkdtemp(prefix='sg-pg-')
        if self.as_user:
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        atexit.register(self.stop)
        self.data = os.path.join(self.dir, 'data')
        self._run([os.path.join(self.bindir, 'initdb'), '-D', self.data, '-U', 'postgres', '-A', 'trust',
                   '-E', 'UTF8', '--no-locale', '-N'])
        self.opts = "-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories='%s' -c fsync=off " \
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200" % (self.port, self.dir)
        self.pg_start()
        self.psql('postgres', 'CREATE DATABASE %s' % dbname)
        self.url = 'postgresql://postgres@127.0.0.1:%d/%s' % (self.port, dbname)
        return self

    def pg_start(self):
        self._run([os.path.join(self.bindir, 'pg_ctl'), '-D', self.data, '-o', self.opts, '-l',
                   os.path.join(self.dir, 'log'), '-w', '-t', '60', 'start'])
        self.running = True

    def pg_stop(self, mode='fast'):
        self._run([os.path.join(self.bindir, 'pg_ctl'), '-D', self.data, '-m', mode, '-w', 'stop'])
        self.running = False

    def _run(self, argv, timeout=120):
        if self.as_user:
            argv = ['runuser', '-u', self.as_user, '--'] + argv
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        if p.returncode != 0:
            raise RuntimeError('%s failed (%d): %s%s' % (' '.join(argv), p.returncode, p.stdout, p.stderr))
        return p.stdout

    def psql(self, db, sql):
        p = subprocess.run(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-At', '-h', '127.0.0.1', '-p',
                            str(self.port), '-U', 'postgres', '-d', db, '-c', sql],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError('psql: %s\n%s' % (sql, p.stderr))
        return p.stdout

    def rows(self, sql):
        """The rows of a query, as lists of str or None (read through json_agg)."""
        out = self.psql(self.dbname, 'SELECT coalesce(json_agg(row_to_json(q))::text, \'[]\') FROM (%s) q' % sql)
        return [list(r.values()) for r in json.loads(out)]

    def scalar(self, sql):
        r = self.rows(sql)
        return r[0][0] if r else None

    def stop(self):
        if getattr(self, 'running', False):
            try:
                self._run([os.path.join(self.bindir, 'pg_ctl'), '-D', self.data, '-m', 'immediate', '-w', 'stop'])
            except Exception:  # noqa: BLE001 - best effort at exit
                pass
            self.running = False
        if not os.environ.get('SG_KEEP_TMP'):
            shutil.rmtree(self.dir, ignore_errors=True)


class Server:
    """salesgetter-server running on loopback (behind-proxy), with its own config file."""

    @classmethod
    def start(cls, pg, tap=None, extra_conf='', threads=4, port=None, wait=True, tls=None):
        """tls: (cert file, key file) to serve HTTPS (the url is then https://localhost:PORT
        and self.ssl_context trusts the certificate); else behind-proxy plain HTTP."""
        self = cls()
        self.pg = pg
        self.tap = tap
        self.port = port or free_port()
        self.ssl_context = None
        if tls:
            import ssl
            self.url = 'https://localhost:%d' % self.port
            self.ssl_context = ssl.create_default_context(cafile=tls[0])
            front = 'tls-cert = %s\ntls-key = %s\n' % tls
        else:
            self.url = 'http://127.0.0.1:%d' % self.port
            front = 'behind-proxy = true\n'
        self.conf = sgtest.path('server-%d.conf' % self.port)
        with open(self.conf, 'w') as f:
            f.write('[server]\nlisten = 127.0.0.1\nport = %d\nthreads = %d\n%s%s\n'
                    '[database]\nurl = %s\n' % (self.port, threads, front, extra_conf, pg.url))
        os.chmod(self.conf, 0o600)
        self.log = sgtest.path('server-%d.log' % self.port)
        self.proc = None
        if wait is not None:
            self.spawn(wait)
        return self

    def spawn(self, wait=True):
        self.logf = open(self.log, 'ab')
        self.proc = subprocess.Popen([SERVER, '-c', self.conf], stdout=self.logf, stderr=subprocess.STDOUT,
                                     env=sgtest.child_env())
        atexit.register(self.stop)
        if wait:
            deadline = time.time() + 60
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError('salesgetter-server exited %d:\n%s' % (self.proc.returncode, self.output()))
                try:
                    st, _ = request(self.url + '/v1/health', method='GET', timeout=5, context=self.ssl_context)
                    if st == 200:
                        return
                except OSError:
                    pass
                time.sleep(0.05)
            raise RuntimeError('salesgetter-server did not answer /v1/health in 60 s:\n' + self.output())

    def output(self):
        try:
            with open(self.log, encoding='utf-8', errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            if self.tap:
                self.tap.note_output('salesgetter-server', self.output())
            self.logf.close()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc

    def admin(self, *args, check=True):
        r = sgtest.run([SERVER, '-c', self.conf] + list(args), env=sgtest.child_env())
        if self.tap:
            self.tap.note_output('salesgetter-server ' + ' '.join(args), r.err)
        if check and r.rc != 0:
            raise RuntimeError('salesgetter-server %s exited %r: %s' % (' '.join(args), r.rc, r.err))
        return r

    def user_add(self, login, role, addresses=()):
        args = ['user', 'add', login, '--role', role]
        for a in addresses:
            args += ['--address', a]
        return self.admin(*args)

    def token_new(self, login, device=None):
        args = ['token', 'new', login] + (['--device', device] if device else [])
        return self.admin(*args).out.strip()


def request(url, body=None, method='POST', headers=None, timeout=60, context=None):
    """One HTTP request. Returns (status, body bytes, decompressed when gzip)."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as r:
            data, status, enc = r.read(), r.status, r.headers.get('Content-Encoding')
    except urllib.error.HTTPError as e:
        data, status, enc = e.read(), e.code, e.headers.get('Content-Encoding')
    if enc == 'gzip':
        data = gzip.decompress(data)
    return status, data


def sync(url, token, device, ops=(), cursor='', limit=None, compress=True, extra=None, context=None):
    """POST /v1/sync. Returns (status, parsed JSON answer or None)."""
    doc = {'protocol': 1, 'device': device, 'cursor': cursor, 'ops': list(ops)}
    if limit is not None:
        doc['limit'] = limit
    if extra:
        doc.update(extra)
    body = json.dumps(doc).encode('utf-8')
    headers = {'Content-Type': 'application/json', 'Accept-Encoding': 'gzip'}
    if token is not None:
        headers['Authorization'] = 'Bearer ' + token
    if compress:
        body = gzip.compress(body)
        headers['Content-Encoding'] = 'gzip'
    status, data = request(url + '/v1/sync', body, headers=headers, context=context)
    try:
        return status, json.loads(data)
    except ValueError:
        return status, None


def pull_all(url, token, device, cursor='', limit=None):
    """Pulls until more is false. Returns (ops, cursor, number of round trips)."""
    ops, trips = [], 0
    while True:
        st, a = sync(url, token, device, cursor=cursor, limit=limit)
        trips += 1
        if st != 200:
            raise RuntimeError('sync: %d %r' % (st, a))
        ops += a['ops']
        cursor = a['cursor']
        if not a['more']:
            return ops, cursor, trips


class Device:
    """A fake client store: makes ops with a growing hlc, as the change log does."""

    def __init__(self, device_id=None):
        import uuid
        self.id = device_id or str(uuid.uuid4())
        self.last = 0

    def op(self, entity, key, op='upsert', fields=None, hlc=None):
        if hlc is None:
            # The store's clock: now << 16, or the last value + 1 (never backwards).
            self.last = max(int(time.time() * 1000) << 16, self.last + 1)
            hlc = '%016x' % self.last
        return {'op_id': '%s:%s' % (self.id, hlc), 'hlc': hlc, 'entity': entity, 'key': key, 'op': op,
                'fields': fields if fields is not None else {}}
