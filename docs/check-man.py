#!/usr/bin/env python3
"""Checks that the man pages keep up with the commands.

Usage: check-man.py SALESGETTER SALESGETTER_SYNCD MAN_SOURCE_DIR [SALESGETTER_SERVER]

- every command listed by 'salesgetter --help' has a page salesgetter-CMD.1.scd
  (except 'help', which salesgetter.1.scd documents), and no page is left over
  for a command that is gone;
- 'salesgetter CMD --help' and 'salesgetter help CMD' exit 0 for each command;
- every long option a command's --help lists is named in its page (*--option*);
- the global options of 'salesgetter --help' are named in salesgetter.1.scd, and
  the options of 'salesgetter-syncd --help' in salesgetter-syncd.1.scd, and those of
  'salesgetter-server --help' in salesgetter-server.1.scd.
"""
import os
import re
import subprocess
import sys

failures = []


def fail(message):
    failures.append(message)
    print('FAIL: ' + message)


def run(argv):
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except OSError as e:
        fail('cannot run %s: %s' % (argv[0], e))
        return None
    if proc.returncode != 0:
        fail('%s exited %d (expected 0): %s' % (' '.join(argv), proc.returncode,
                                                proc.stderr.strip()))
        return None
    return proc.stdout


def long_options(help_text):
    """The long options a --help text lists, without --help itself."""
    options = set(re.findall(r'(?<![\w-])(--[a-z][a-z0-9-]*)', help_text))
    options.discard('--help')
    options.discard('--help-all')
    return options


def check_options_in_page(what, options, page):
    try:
        with open(page, encoding='utf-8') as f:
            text = f.read()
    except OSError as e:
        fail('%s: cannot read %s: %s' % (what, page, e))
        return
    for option in sorted(options):
        # scdoc bold: *--option* (possibly followed by =_ARG_).
        if '*' + option + '*' not in text and '*' + option + '=' not in text:
            fail('%s: option %s is not described in %s' % (what, option, os.path.basename(page)))


def commands_from_help(help_text):
    """Command names from the 'Commands:' section of 'salesgetter --help'."""
    commands = []
    in_section = False
    for line in help_text.splitlines():
        if line.strip() == 'Commands:':
            in_section = True
            continue
        if in_section:
            m = re.match(r'^\s+([a-z][a-z0-9-]*)\s{2,}\S', line)
            if not m:
                break
            commands.append(m.group(1))
    return commands


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__)
        return 2
    cli, syncd, man_dir = sys.argv[1:4]
    server = sys.argv[4] if len(sys.argv) > 4 else None

    main_page = os.path.join(man_dir, 'salesgetter.1.scd')
    help_text = run([cli, '--help'])
    if help_text is None:
        return 1
    commands = commands_from_help(help_text)
    if not commands:
        fail("found no commands in 'salesgetter --help'")
    print('commands: ' + ' '.join(commands))

    try:
        with open(main_page, encoding='utf-8') as f:
            main_text = f.read()
    except OSError as e:
        fail('cannot read %s: %s' % (main_page, e))
        main_text = ''

    for command in commands:
        if '*' + command + '*' not in main_text:
            fail('command %s is not described in salesgetter.1.scd' % command)
        if command == 'help':
            continue
        page = os.path.join(man_dir, 'salesgetter-%s.1.scd' % command)
        if not os.path.exists(page):
            fail('command %s has no man page source %s' % (command, os.path.basename(page)))
        command_help = run([cli, command, '--help'])
        run([cli, 'help', command])
        if command_help is not None and os.path.exists(page):
            check_options_in_page('salesgetter ' + command, long_options(command_help), page)

    # No page for a command that no longer exists.
    for name in sorted(os.listdir(man_dir)):
        m = re.match(r'^salesgetter-(.+)\.1\.scd$', name)
        if m and m.group(1) not in ('syncd', 'server') and m.group(1) not in commands:
            fail('%s documents a command that salesgetter --help does not list' % name)

    # Global options: the part of 'salesgetter --help' after the command list.
    global_part = help_text.split('Global options:', 1)[-1]
    check_options_in_page('salesgetter', long_options(global_part), main_page)

    syncd_help = run([syncd, '--help'])
    if syncd_help is not None:
        check_options_in_page('salesgetter-syncd', long_options(syncd_help),
                              os.path.join(man_dir, 'salesgetter-syncd.1.scd'))

    if server:
        server_help = run([server, '--help'])
        if server_help is not None:
            check_options_in_page('salesgetter-server', long_options(server_help),
                                  os.path.join(man_dir, 'salesgetter-server.1.scd'))

    if failures:
        print('%d problem(s)' % len(failures))
        return 1
    print('OK')
    return 0


if __name__ == '__main__':
    sys.exit(main())
