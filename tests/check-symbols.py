#!/usr/bin/env python3
"""The library exports exactly its public API (STYLE.md 1): every dynamic symbol of
libsalesgetter.so starts with sg_ and is declared in a public header, and every function
declared with SG_API in a header is exported."""
import glob
import os
import re
import subprocess
import sys

src, lib = sys.argv[1], sys.argv[2]
out = subprocess.run(['nm', '-D', '--defined-only', lib], capture_output=True, text=True, check=True).stdout
exported = {line.split()[-1] for line in out.splitlines() if line.split()[1:2] in (['T'], ['D'], ['B'], ['R'])}

declared = set()
for header in glob.glob(os.path.join(src, 'core', 'sg*.h')):
    text = open(header, encoding='utf-8').read()
    for m in re.finditer(r'SG_API\s+[^;(]*?\b(sg_\w+)\s*\(', text, re.S):
        declared.add(m.group(1))

checks = [
    ('every exported symbol is public (sg_ and declared in a header)', sorted(exported - declared)),
    ('every SG_API function is exported', sorted(declared - exported)),
]
print(f'1..{len(checks)}')
status = 0
for i, (what, bad) in enumerate(checks, 1):
    if bad:
        status = 1
        print(f'not ok {i} - {what}: {", ".join(bad)}')
    else:
        print(f'ok {i} - {what} ({len(exported)} symbols)')
sys.exit(status)
