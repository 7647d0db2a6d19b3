#!/usr/bin/env python3
"""Independent check of a sharelog trail (sharelog-report trail): every
row's inclusion proof leads from its record_hash to the root of the signed
checkpoint, and with the bundle's entries.jsonl, every record_hash is the
leaf hash of the entry at that seq. python3's standard library and the
openssl command only.
Usage: verify-trail.py TRAIL.csv CHECKPOINT LOG.VKEY [ENTRIES.jsonl]"""
import base64, csv, hashlib, os, subprocess, sys, tempfile

def fail(msg):
    print("FAILED: " + msg)
    sys.exit(1)

def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()

def checkpoint(path, vkey):                    # C2SP signed note, Ed25519
    note = open(path, "rb").read()
    text, _, sigs = note.rpartition(b"\n\n")
    text += b"\n"
    name, keyid, key = vkey.split("+", 2)
    raw = base64.b64decode(key)
    spki = bytes.fromhex("302a300506032b6570032100") + raw[1:]
    want = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    for line in sigs.decode().splitlines():
        dash, sname, sig = line.split(" ")
        blob = base64.b64decode(sig)
        if dash != "\u2014" or sname != name or blob[:4] != want:
            continue
        with tempfile.TemporaryDirectory() as d:
            for fn, data in (("k", spki), ("m", text), ("s", blob[4:])):
                open(os.path.join(d, fn), "wb").write(data)
            r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin",
                                "-keyform", "DER", "-inkey", d + "/k", "-rawin",
                                "-in", d + "/m", "-sigfile", d + "/s"],
                               capture_output=True)
        if r.returncode != 0:
            fail(path + ": the signature does not verify")
        origin, size, root = text.decode().splitlines()[:3]
        return int(size), base64.b64decode(root)
    fail(path + ": not signed by the key given")

def root_from(index, size, h, proof):          # RFC 9162 section 2.1.3.2
    if index >= size:
        fail("seq %d is not below the tree size %d" % (index, size))
    fn, sn = index, size - 1
    for p in proof:
        if sn == 0:
            fail("seq %d: the proof is too long" % index)
        if fn % 2 == 1 or fn == sn:
            h = node(p, h)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            h = node(h, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        fail("seq %d: the proof is too short" % index)
    return h

def main():
    if len(sys.argv) < 4:
        fail(__doc__)
    size, root = checkpoint(sys.argv[2], open(sys.argv[3]).read().strip())
    entries = None
    if len(sys.argv) > 4:
        entries = open(sys.argv[4], "rb").read().split(b"\n")
    rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
    for row in rows:
        seq = int(row["seq"])
        if int(row["tree_size"]) != size:
            fail("seq %d: proof for tree size %s, checkpoint is %d"
                 % (seq, row["tree_size"], size))
        h = bytes.fromhex(row["record_hash"])
        if entries is not None and \
           hashlib.sha256(b"\x00" + entries[seq]).digest() != h:
            fail("seq %d: record_hash is not the entry's leaf hash" % seq)
        proof = [bytes.fromhex(x) for x in row["inclusion_proof"].split()]
        if root_from(seq, size, h, proof) != root:
            fail("seq %d: the proof does not lead to the checkpoint's root"
                 % seq)
    print("OK %d rows, each included in the log of %d entries" % (len(rows), size))

main()
