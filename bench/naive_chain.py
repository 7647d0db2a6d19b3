#!/usr/bin/env python3
"""Peer: the naive hash-chain verifier people write first. h_0 = 32 zero
bytes, h_i = SHA-256(h_{i-1} || line_i) over a JSON Lines file; no
canonical-form check, no Merkle tree, no signature. Prints count and hash."""
import hashlib
import sys

h = bytes(32)
n = 0
sha = hashlib.sha256
with open(sys.argv[1], "rb") as f:
    for line in f:
        h = sha(h + line.rstrip(b"\n")).digest()
        n += 1
print(n, h.hex())
