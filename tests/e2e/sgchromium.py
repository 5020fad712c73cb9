"""sgchromium: headless Chromium driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: JSON messages ending in NUL, we write fd 3, Chromium writes fd 4).
Standard library only. A test types into pages and presses keys as a user does; no script of
ours runs in the pages except the read-only checks a test asks for with evaluate().

    b = Browser.start(chromium, profile_dir)
    tab = b.new_tab()                 # its own cookie jar (browser context)
    tab.navigate(url); tab.type_into('input[name=login]', 'boss'); tab.press_enter()
    tab.screenshot(path)
"""

import base64
import json
import os
import subprocess
import threading
import time


class Error(Exception):
    pass


class Browser:
    @classmethod
    def start(cls, binary, profile, log_path, env=None):
        self = cls()
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def child():
            # Chromium reads commands on fd 3 and answers on fd 4. Move both out of the way
            # first so that one dup2 cannot clobber the other.
            a = os.dup(to_chrome_r)
            b = os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.log = open(log_path, 'ab')
        self.proc = subprocess.Popen(
            [binary, '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--hide-scrollbars',
             '--no-first-run', '--no-default-browser-check', '--disable-extensions', '--mute-audio',
             '--remote-debugging-pipe', '--user-data-dir=' + profile, 'about:blank'],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, pass_fds=(3, 4), preexec_fn=child,
            env=env, start_new_session=True)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next = 0
        self._lock = threading.Condition()
        self._answers = {}
        self._events = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self):
        buf = b''
        while True:
            try:
                chunk = os.read(self._from_chrome, 65536)
            except OSError:
                chunk = b''
            if not chunk:
                with self._lock:
                    self._answers['closed'] = True
                    self._lock.notify_all()
                return
            buf += chunk
            while b'\0' in buf:
                msg, buf = buf.split(b'\0', 1)
                m = json.loads(msg)
                with self._lock:
                    if 'id' in m:
                        self._answers[m['id']] = m
                    else:
                        self._events.append(m)
                    self._lock.notify_all()

    def send(self, method, params=None, session=None, timeout=60):
        with self._lock:
            self._next += 1
            mid = self._next
        msg = {'id': mid, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b'\0')
        deadline = time.monotonic() + timeout
        with self._lock:
            while mid not in self._answers:
                if self._answers.get('closed'):
                    raise Error('chromium closed the pipe (see its log)')
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Error('no answer to %s in %d s' % (method, timeout))
                self._lock.wait(left)
            m = self._answers.pop(mid)
        if 'error' in m:
            raise Error('%s: %s' % (method, m['error']))
        return m.get('result', {})

    def wait_event(self, method, session, since, timeout=60):
        """The first event @method of @session after index @since of the event list."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for e in self._events[since:]:
                    if e.get('method') == method and e.get('sessionId') == session:
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Error('no %s in %d s' % (method, timeout))
                self._lock.wait(left)

    def mark(self):
        with self._lock:
            return len(self._events)

    def new_tab(self, width=1200, height=900):
        ctx = self.send('Target.createBrowserContext')['browserContextId']
        target = self.send('Target.createTarget', {'url': 'about:blank', 'browserContextId': ctx})['targetId']
        session = self.send('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
        tab = Tab(self, session)
        tab.send('Page.enable')
        tab.send('Emulation.setDeviceMetricsOverride', {'width': width, 'height': height, 'deviceScaleFactor': 1,
                                                        'mobile': False})
        return tab

    def stop(self):
        try:
            self.send('Browser.close', timeout=10)
        except Error:
            pass
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()


class Tab:
    def __init__(self, browser, session):
        self.b = browser
        self.session = session

    def send(self, method, params=None, timeout=60):
        return self.b.send(method, params, self.session, timeout)

    def _loaded_after(self, action):
        mark = self.b.mark()
        action()
        self.b.wait_event('Page.loadEventFired', self.session, mark)

    def navigate(self, url):
        self._loaded_after(lambda: self.send('Page.navigate', {'url': url}))

    def url(self):
        h = self.send('Page.getNavigationHistory')
        return h['entries'][h['currentIndex']]['url']

    def _node(self, selector):
        root = self.send('DOM.getDocument', {'depth': 0})['root']['nodeId']
        node = self.send('DOM.querySelector', {'nodeId': root, 'selector': selector})['nodeId']
        if not node:
            raise Error('no element %s' % selector)
        return node

    def text(self, selector):
        """The outer HTML of the first element matching @selector, or None."""
        try:
            return self.send('DOM.getOuterHTML', {'nodeId': self._node(selector)})['outerHTML']
        except Error:
            return None

    def type_into(self, selector, text):
        self.send('DOM.focus', {'nodeId': self._node(selector)})
        self.send('Input.insertText', {'text': text})

    def press_enter(self):
        """Enter in the focused field submits its form; returns when the next page loaded."""
        def press():
            for kind in ('keyDown', 'keyUp'):
                self.send('Input.dispatchKeyEvent', {'type': kind, 'key': 'Enter', 'code': 'Enter',
                                                     'windowsVirtualKeyCode': 13, 'nativeVirtualKeyCode': 13,
                                                     **({'text': '\r'} if kind == 'keyDown' else {})})
        self._loaded_after(press)

    def evaluate(self, expression):
        r = self.send('Runtime.evaluate', {'expression': expression, 'returnByValue': True})
        if 'exceptionDetails' in r:
            raise Error('evaluate %s: %s' % (expression, r['exceptionDetails']))
        return r['result'].get('value')

    def cookies(self):
        return self.send('Network.getCookies')['cookies']

    def screenshot(self, path):
        m = self.send('Page.getLayoutMetrics')
        size = m.get('cssContentSize') or m['contentSize']
        clip = {'x': 0, 'y': 0, 'width': size['width'], 'height': size['height'], 'scale': 1}
        data = self.send('Page.captureScreenshot', {'format': 'png', 'captureBeyondViewport': True, 'clip': clip})
        with open(path, 'wb') as f:
            f.write(base64.b64decode(data['data']))
