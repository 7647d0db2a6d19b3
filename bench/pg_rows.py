#!/usr/bin/env python3
"""CSV rows for the PostgreSQL peer's table from a bundle's entries.jsonl:
seq, the record (JSON), recorded_at, prev_hash, hash (the chain the peer's
trigger would have made: sha256(prev || record)), for COPY ... FROM STDIN
WITH (FORMAT csv). The entry layout is fixed (docs/FORMAT.md), so no JSON
parsing: the record is the bytes between "record": and ,"recorded_at":."""
import hashlib
import sys

KEY = b'"record":'
RAT = b',"recorded_at":"'


def main():
    prev = b"\0" * 32
    out = sys.stdout.buffer
    for line in open(sys.argv[1], "rb"):
        a = line.find(KEY)
        z = line.rfind(RAT)
        if a < 0 or z < 0:
            continue        # genesis has a record too; anything else: skip
        rec = line[a + len(KEY):z]
        if b'"record_type":' not in rec:
            continue        # not a decision record (genesis, access)
        seq = line[line.rfind(b'"seq":') + 6:].split(b",", 1)[0]
        at = line[z + len(RAT):z + len(RAT) + 24]
        h = hashlib.sha256(prev + rec).digest()
        out.write(b'%s,"%s",%s,\\x%s,\\x%s\n' % (
            seq, rec.replace(b'"', b'""'), at, prev.hex().encode(),
            h.hex().encode()))
        prev = h


if __name__ == "__main__":
    main()
