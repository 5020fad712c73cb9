#!/usr/bin/env python3
# text-dump-compare.py: compares two `text-bench MAILDIR 0 dump` outputs message by message
# (by Message-ID, whatever the order), to check that a change made for speed changed no result:
#
#   build-a/bench/text-bench DIR 0 dump > a.txt; build-b/bench/text-bench DIR 0 dump > b.txt
#   bench/text-dump-compare.py a.txt b.txt [N]      # prints the count and the first N differences
#
# Exit status 0 when both dumps say the same of every message, 1 otherwise.
import difflib
import sys


def load(path):
    records, current, lines = {}, None, []
    for line in open(path, errors='replace'):
        if line.startswith('== '):
            if current is not None:
                records.setdefault(current, []).append(''.join(lines))
            current, lines = line[3:].strip(), []
        elif current is not None and ' messages, ' not in line:
            lines.append(line)
    if current is not None:
        records.setdefault(current, []).append(''.join(lines))
    return records


a, b = load(sys.argv[1]), load(sys.argv[2])
shown = int(sys.argv[3]) if len(sys.argv) > 3 else 3
differ = [k for k in sorted(set(a) | set(b)) if sorted(a.get(k, [])) != sorted(b.get(k, []))]
print(f'{len(a)} and {len(b)} messages, {len(differ)} differ')
for k in differ[:shown]:
    print('==', k)
    print(''.join(difflib.unified_diff(''.join(sorted(a.get(k, []))).splitlines(True),
                                       ''.join(sorted(b.get(k, []))).splitlines(True))))
sys.exit(1 if differ else 0)
