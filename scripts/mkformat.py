#!/usr/bin/env python3
"""Write docs/FORMAT.md from docs/FORMAT.md.in and the frozen test vectors
in tests/data/vectors/bundle, so the document shows the exact bytes the
tests check. tests/cli_test.sh fails when the two drift apart.
Usage: scripts/mkformat.py [OUTPUT] (default docs/FORMAT.md)"""
import sys
import hashlib
V='tests/data/vectors/bundle'
lines=open(V+'/entries.jsonl','rb').read().decode().split('\n')[:-1]
lv=[hashlib.sha256(b'\x00'+l.encode()).digest() for l in lines]
leaves=[x.hex() for x in lv]
n01=hashlib.sha256(b'\x01'+lv[0]+lv[1]).digest()
root=hashlib.sha256(b'\x01'+n01+lv[2]).hexdigest()
n01=n01.hex()
cp=open(V+'/checkpoint').read().rstrip()
vkey=open(V+'/log.vkey').read().strip()
script=open('docs/verify-bundle.py').read().rstrip()
trail=open('docs/verify-trail.py').read().rstrip()
entries='\n'.join(lines)
tmpl=open('docs/FORMAT.md.in').read()
for k,v in dict(ENTRIES=entries,L0=leaves[0],L1=leaves[1],L2=leaves[2],
    B0=str(len(lines[0])),B1=str(len(lines[1])),B2=str(len(lines[2])),
    N01=n01,ROOT=root,VKEY=vkey,CP=cp,SCRIPT=script,
    TRAIL_SCRIPT=trail).items():
    tmpl=tmpl.replace('@'+k+'@',v)
open(sys.argv[1] if len(sys.argv) > 1 else 'docs/FORMAT.md','w').write(tmpl)
