"""sgradicale: a real Radicale CalDAV server on loopback for the tests and benchmarks.

Radicale (Debian package `radicale`) runs with the system's Python, its storage in a folder
of the caller's, HTTP Basic authentication with one user (USER, PASSWORD) from a plain
htpasswd file. Standard library only.
"""

import base64
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

RADICALE = shutil.which('radicale') or ('/usr/bin/radicale' if os.path.exists('/usr/bin/radicale') else None)
USER, PASSWORD = 'jane', 'secret pass'


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Radicale:
    def __init__(self, folder, prepare=None, tls=None):
        """Starts Radicale with its storage in @folder; @prepare(collections_root) may
        write collections into the storage before it starts (the benchmark does); @tls:
        (certificate, key) files to serve https:// with."""
        self.dir = folder
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        with open(os.path.join(self.dir, 'users'), 'w') as f:
            f.write('%s:%s\n' % (USER, PASSWORD))
        with open(os.path.join(self.dir, 'config'), 'w') as f:
            f.write('[server]\nhosts = 127.0.0.1:%d\n%s[auth]\ntype = htpasswd\nhtpasswd_filename = %s\n'
                    'htpasswd_encryption = plain\n[storage]\nfilesystem_folder = %s\n[logging]\nlevel = warning\n'
                    % (self.port, 'ssl = True\ncertificate = %s\nkey = %s\n' % tls if tls else '',
                       os.path.join(self.dir, 'users'), os.path.join(self.dir, 'collections')))
        if prepare is not None:
            prepare(os.path.join(self.dir, 'collections', 'collection-root'))
        self.log = open(os.path.join(self.dir, 'log'), 'wb')
        # Radicale runs with the system's Python (its module lives there), not the test's.
        env = {k: v for k, v in os.environ.items() if not k.startswith('PYTHON')}
        self.proc = subprocess.Popen([RADICALE, '--config', os.path.join(self.dir, 'config')], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        self.base = '%s://127.0.0.1:%d' % ('https' if tls else 'http', self.port)

    def request(self, method, path, body=None, ctype='text/calendar; charset=utf-8', depth=None):
        req = urllib.request.Request(self.base + path, data=body.encode() if body is not None else None,
                                     method=method)
        req.add_header('Authorization', 'Basic ' + base64.b64encode(
            ('%s:%s' % (USER, PASSWORD)).encode()).decode())
        if body is not None:
            req.add_header('Content-Type', ctype)
        if depth is not None:
            req.add_header('Depth', depth)
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def mkcalendar(self, path, name, comps=('VEVENT',)):
        body = ('<?xml version="1.0"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
                '<D:set><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype>'
                '<D:displayname>%s</D:displayname><C:supported-calendar-component-set>%s'
                '</C:supported-calendar-component-set></D:prop></D:set></D:mkcol>'
                % (name, ''.join('<C:comp name="%s"/>' % c for c in comps)))
        return self.request('MKCOL', path, body, ctype='application/xml')

    def put(self, path, ics):
        return self.request('PUT', path, ics)

    def delete(self, path):
        return self.request('DELETE', path)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
