#!/usr/bin/env python3
"""Checks that salesgetter.conf.example is a valid config.

Usage: check-config-example.py SALESGETTER_SYNCD EXAMPLE

Runs 'salesgetter-syncd --check-config --config EXAMPLE' with HOME in a fresh
temporary folder that has the Maildirs the example names, so that the check
tests the keys and values, not the machine it runs on.
"""
import configparser
import os
import subprocess
import sys
import tempfile


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    syncd, example = sys.argv[1:]

    with tempfile.TemporaryDirectory() as home:
        # The example's paths start with ~/; make them exist under the fake home.
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.read(example, encoding='utf-8')
        for item in parser.get('maildir', 'paths', fallback='').split(';'):
            item = item.strip()
            if item.startswith('~/'):
                os.makedirs(os.path.join(home, item[2:], 'cur'), exist_ok=True)
        store = parser.get('store', 'path', fallback='').strip()
        if store.startswith('~/'):
            os.makedirs(os.path.dirname(os.path.join(home, store[2:])), exist_ok=True)

        env = dict(os.environ)
        env.update({
            'HOME': home,
            'XDG_CONFIG_HOME': os.path.join(home, '.config'),
            'XDG_DATA_HOME': os.path.join(home, '.local', 'share'),
            'SALESGETTER_STORE': '',
        })
        proc = subprocess.run([syncd, '--check-config', '--config', example],
                              env=env, capture_output=True, text=True, timeout=30)
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        if proc.returncode != 0 or not proc.stdout.startswith('OK: '):
            print('FAIL: %s is not a valid config (exit %d)' % (example, proc.returncode))
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
