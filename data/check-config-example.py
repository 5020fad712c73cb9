#!/usr/bin/env python3
"""Checks that salesgetter.conf.example is a valid config and that it and
salesgetter.conf(5) describe every group and key the code accepts.

Usage: check-config-example.py SALESGETTER_SYNCD EXAMPLE SG_CONFIG_C CONF_PAGE

Runs 'salesgetter-syncd --check-config --config EXAMPLE' with HOME in a fresh
temporary folder that has the Maildirs the example names, so that the check
tests the keys and values, not the machine it runs on. The groups and keys the
code accepts are read from the table of known keys in common/sg-config.c.
"""
import configparser
import os
import re
import subprocess
import sys
import tempfile


def known_keys(source):
    """{group: [keys]} from the 'known' table of sg-config.c."""
    with open(source, encoding='utf-8') as f:
        text = f.read()
    table = re.search(r'known\[\]\s*=\s*\{(.*?)\n\};', text, re.S)
    if table is None:
        return {}
    groups = {}
    for group, keys in re.findall(r'\{\s*"([^"]+)"\s*,\s*\{([^}]*)\}', table.group(1)):
        groups[group] = re.findall(r'"([^"]+)"', keys)
    return groups


def check_described(known, example, page):
    problems = []
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read(example, encoding='utf-8')
    with open(page, encoding='utf-8') as f:
        page_text = f.read()
    with open(example, encoding='utf-8') as f:
        example_text = f.read()
    for group, keys in known.items():
        # [imap NAME] is a family of groups: any of them may hold a key, and a key that
        # excludes another (password, password-command) may be shown commented out.
        # [caldav NAME] (caldav branch) likewise.
        family = group in ('imap', 'caldav')
        heading = '# [%s NAME]' % group if family else '# [%s]' % group
        sections = [s for s in parser.sections() if s.startswith(group + ' ')] if family else [group]
        if heading not in page_text:
            problems.append('group [%s] has no section in %s' % (group, os.path.basename(page)))
        for key in keys:
            present = any(parser.has_option(s, key) for s in sections if parser.has_section(s))
            if family and re.search(r'^#\s*%s=' % re.escape(key), example_text, re.M):
                present = True
            if not present:
                problems.append('[%s] %s is not in %s' % (group, key, os.path.basename(example)))
            if '*%s* =' % key not in page_text:
                problems.append('[%s] %s is not described in %s' % (group, key, os.path.basename(page)))
    return problems


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    syncd, example, source, page = sys.argv[1:]

    known = known_keys(source)
    if not known:
        print('FAIL: found no table of known keys in %s' % source)
        return 1
    problems = check_described(known, example, page)
    for problem in problems:
        print('FAIL: ' + problem)
    if problems:
        return 1

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
