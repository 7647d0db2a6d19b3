#!/usr/bin/env python3
"""Independent check of a sharelog bundle: python3's standard library and
the openssl command only. Usage: verify-bundle.py BUNDLE [HELD_CHECKPOINT]"""
import base64, hashlib, json, os, subprocess, sys, tempfile

def fail(msg):
    print("FAILED: " + msg)
    sys.exit(1)

def leaf(b):
    return hashlib.sha256(b"\x00" + b).digest()

def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()

def mth(hs):                                   # RFC 6962 section 2.1
    if not hs:
        return hashlib.sha256(b"").digest()
    if len(hs) == 1:
        return hs[0]
    k = 1
    while k * 2 < len(hs):
        k *= 2
    return node(mth(hs[:k]), mth(hs[k:]))

def no_dups(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)

def canonical(obj):                            # RFC 8785 for ASCII keys, integers
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"),
                      sort_keys=True).encode()

def open_note(path, vkeys):
    for vkey in vkeys:
        got = open_note_with(path, vkey)
        if got:
            return got
    fail(path + ": not signed by any key of log.vkey")

def open_note_with(path, vkey):
    note = open(path, "rb").read()
    text, _, sigs = note.rpartition(b"\n\n")
    text += b"\n"
    name, keyid, key = vkey.split("+", 2)
    raw = base64.b64decode(key)
    if raw[0] != 1 or len(raw) != 33:
        fail("log.vkey is not an Ed25519 key")
    want = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if want.hex() != keyid:
        fail("log.vkey: key id does not match")
    spki = bytes.fromhex("302a300506032b6570032100") + raw[1:]
    for line in sigs.decode().splitlines():
        dash, sname, sig = line.split(" ")
        blob = base64.b64decode(sig)
        if dash != "\u2014" or sname != name or blob[:4] != want:
            continue                           # another key: ignored
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
        return origin, int(size), base64.b64decode(root)
    return None

def main():
    bundle = sys.argv[1]
    vkeys = open(os.path.join(bundle, "log.vkey")).read().split()
    known = set()                             # genesis and rotation keys
    hs, prev = [], "0" * 64
    with open(os.path.join(bundle, "entries.jsonl"), "rb") as f:
        for i, line in enumerate(f):
            if not line.endswith(b"\n"):
                fail("entry %d: no final newline" % i)
            b = line[:-1]
            try:
                e = json.loads(b, object_pairs_hook=no_dups)
            except ValueError as x:
                fail("entry %d: not JSON (%s)" % (i, x))
            if canonical(e) != b:
                fail("entry %d: not in canonical form" % i)
            if e["seq"] != i:
                fail("entry %d: carries seq %d" % (i, e["seq"]))
            if e["prev"] != prev:
                fail("entry %d: prev does not match entry %d" % (i, i - 1))
            if (e["type"] == "genesis") != (i == 0):
                fail("entry %d: genesis misplaced" % i)
            if i == 0:
                known.update(e["record"]["checkpoint_keys"])
            if e["type"] == "key_rotation":
                known.add(e["record"]["new_key"])
            hs.append(leaf(b))
            prev = hs[-1].hex()
    if not set(vkeys) <= known:
        fail("log.vkey names a key that no genesis or key_rotation entry lists")
    origin, size, root = open_note(os.path.join(bundle, "checkpoint"), vkeys)
    if size != len(hs) or root != mth(hs):
        fail("checkpoint (size %d) does not match the %d entries" % (size, len(hs)))
    for held in sys.argv[2:]:
        o, s, r = open_note(held, vkeys)
        if o != origin or s > len(hs) or mth(hs[:s]) != r:
            fail("the log is not an extension of held checkpoint " + held)
    print("OK %s: %d entries, root %s" % (origin, len(hs), root.hex()))

main()
