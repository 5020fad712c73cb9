"""sgdovecot: a real Dovecot IMAP server for tests and benchmarks, on loopback.

Dovecot (Debian's dovecot-imapd) runs in the foreground (`dovecot -F -c CONF`) with a
config of its own in a temporary folder: one passwd-file user, Maildir++ mail in that
folder, imaps and imap (STARTTLS) listeners on free loopback ports, and a self-signed
certificate made here with openssl. Nothing of the system's Dovecot setup is used.

As root (CI), Dovecot refuses to run its login processes or to serve mail as root: the
login processes run as `dovenull`, the internal ones and the mail user as `dovecot`
(both made by the Debian package), and the mail folder is owned by `dovecot`. As
another user, everything runs as that user.

Python 3 standard library only.
"""

import imaplib
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

USER = 'alice'
PASSWORD = 'correct horse'


def find_dovecot():
    for p in (shutil.which('dovecot'), '/usr/sbin/dovecot'):
        if p and os.access(p, os.X_OK):
            return p
    return None


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_cert(directory, name):
    """A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    cert, key = os.path.join(directory, name + '.pem'), os.path.join(directory, name + '.key')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
                    '-days', '2', '-subj', '/CN=salesgetter test %s' % name,
                    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class Dovecot:
    def __init__(self):
        self.binary = find_dovecot()
        self.root = tempfile.mkdtemp(prefix='sg-dovecot-')
        os.chmod(self.root, 0o755)
        self.home = os.path.join(self.root, 'home', USER)
        self.maildir = os.path.join(self.home, 'Maildir')
        self.imaps_port = free_port()
        self.imap_port = free_port()
        self.proc = None
        if os.getuid() == 0:
            mail = pwd.getpwnam('dovecot')
            self.uid, self.gid = mail.pw_uid, mail.pw_gid
            login_user, internal_user, internal_group = 'dovenull', 'dovecot', 'dovecot'
        else:
            me = pwd.getpwuid(os.getuid())
            self.uid, self.gid = me.pw_uid, me.pw_gid
            login_user = internal_user = me.pw_name
            internal_group = 'root'
            try:
                import grp
                internal_group = grp.getgrgid(me.pw_gid).gr_name
            except (ImportError, KeyError):
                pass
        self.cert, self.key = make_cert(self.root, 'server')
        # A second certificate the clients are never told to trust.
        self.other_cert, _ = make_cert(self.root, 'untrusted')
        os.makedirs(self.maildir)
        for sub in ('cur', 'new', 'tmp'):
            os.makedirs(os.path.join(self.maildir, sub))
        with open(os.path.join(self.root, 'passwd'), 'w') as f:
            f.write('%s:{PLAIN}%s:%d:%d::%s\n' % (USER, PASSWORD, self.uid, self.gid, self.home))
        self.conf = os.path.join(self.root, 'dovecot.conf')
        self.log = os.path.join(self.root, 'dovecot.log')
        with open(self.conf, 'w') as f:
            f.write(CONF_TEMPLATE % dict(root=self.root, cert=self.cert, key=self.key, log=self.log,
                                         imap_port=self.imap_port, imaps_port=self.imaps_port,
                                         login_user=login_user, internal_user=internal_user,
                                         internal_group=internal_group))
        self.fix_owner()

    def fix_owner(self):
        """Gives the mail folder to the mail user again (the test writes into it as root)."""
        if os.getuid() != 0:
            return
        for dirpath, dirnames, filenames in os.walk(self.home):
            os.chown(dirpath, self.uid, self.gid)
            for n in filenames:
                os.chown(os.path.join(dirpath, n), self.uid, self.gid)

    def start(self, timeout=20):
        self.proc = subprocess.Popen([self.binary, '-F', '-c', self.conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=open(self.log + '.stderr', 'ab'),
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('dovecot exited: %s' % self.log_text())
            try:
                socket.create_connection(('127.0.0.1', self.imaps_port), timeout=1).close()
                socket.create_connection(('127.0.0.1', self.imap_port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError('dovecot did not listen within %ds: %s' % (timeout, self.log_text()))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None

    def cleanup(self):
        self.stop()
        if not os.environ.get('SG_KEEP_TMP'):
            shutil.rmtree(self.root, ignore_errors=True)

    def log_text(self):
        out = []
        for p in (self.log, self.log + '.stderr'):
            try:
                with open(p, errors='replace') as f:
                    out.append(f.read()[-3000:])
            except OSError:
                pass
        return '\n'.join(out)

    def url(self, scheme='imaps'):
        return '%s://127.0.0.1:%d/' % (scheme, self.imaps_port if scheme == 'imaps' else self.imap_port)

    def doveadm(self, *args):
        return subprocess.run(['doveadm', '-c', self.conf] + list(args), capture_output=True, text=True,
                              timeout=60)

    def client(self):
        """An imaplib client, logged in, trusting the server's certificate."""
        ctx = ssl.create_default_context(cafile=self.cert)
        c = imaplib.IMAP4_SSL('127.0.0.1', self.imaps_port, ssl_context=ctx, timeout=30)
        c.login(USER, PASSWORD)
        return c

    def folder_path(self, folder):
        """The Maildir++ folder on disk for an IMAP name ('' or INBOX is the root)."""
        if folder in ('', 'INBOX'):
            return self.maildir
        return os.path.join(self.maildir, '.' + folder.replace('/', '.'))

    def put(self, folder, data, flags='S', when=None, name=None):
        """Puts a message straight into the server's Maildir (as a delivery would)."""
        base = self.folder_path(folder)
        for sub in ('cur', 'new', 'tmp'):
            os.makedirs(os.path.join(base, sub), exist_ok=True)
        when = when or time.time()
        name = name or '%d.M%dP%d.sgtest' % (int(when), int((when % 1) * 1e6), os.getpid())
        path = os.path.join(base, 'cur', '%s:2,%s' % (name, flags))
        with open(path, 'wb') as f:
            f.write(data)
        return path


CONF_TEMPLATE = '''# Made by tests/e2e/sgdovecot.py for one test run.
base_dir = %(root)s/run
state_dir = %(root)s/state
log_path = %(log)s
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <%(cert)s
ssl_key = <%(key)s
default_login_user = %(login_user)s
default_internal_user = %(internal_user)s
default_internal_group = %(internal_group)s
first_valid_uid = 1
auth_mechanisms = plain login
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
# Login throttling would slow the wrong-password test down.
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = %(root)s/passwd
}
userdb {
  driver = passwd-file
  args = %(root)s/passwd
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = %(imap_port)d
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = %(imaps_port)d
    ssl = yes
  }
}
service anvil {
  chroot =
}
namespace inbox {
  inbox = yes
  separator = /
  # The \\Sent folder has a name no heuristic knows: only SPECIAL-USE finds it.
  mailbox Gesendet {
    auto = subscribe
    special_use = \\Sent
  }
  mailbox Trash {
    auto = subscribe
    special_use = \\Trash
  }
  mailbox Junk {
    auto = subscribe
    special_use = \\Junk
  }
  mailbox Drafts {
    auto = subscribe
    special_use = \\Drafts
  }
}
'''
