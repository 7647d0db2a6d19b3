#!/usr/bin/env python3
"""A socket-level fuzzer for sharelogd: what evhttp and the handlers get
from a running service over mutual TLS, not from a function call.

    http_fuzz.py HOST:PORT PKI RECORDS.jsonl SECONDS SEED

Each case is one connection carrying one to three requests built from a
valid one (a fresh record from RECORDS or a GET of an endpoint on a
submitter's connection, a trail of a child or case of RECORDS on a
reviewer's, a GET with query numbers on an inspector's) and then
broken the ways HTTP gets broken: the method, target and version, header
fields (missing, doubled, folded, with control bytes, too many), the
Content-Length (off by some, negative, not a number, doubled), chunked
bodies (wrong sizes, extensions, trailers), the body itself, and how the
bytes travel (cut into TLS records and TCP writes at random, closed half
way). The properties, for every case:
  - every answer is an HTTP/1.x status line with a status the API can
    give (never 500, never a 2xx for a request that was broken in a way
    that must be refused), and a JSON answer is a JSON object with
    "error" and "message" when it is an error;
  - an entries page answered 200 is one entry a line, in seq order;
  - the service answers /v1/healthz after the case (it is alive);
and at the end, against GET /v1/entries:
  - every record answered 201 is in the log exactly once;
  - nothing is in the log that was not sent in a request left unanswered
    or answered 201 (a refused request stored nothing);
  - every trail answered 200 names its access entry, which is in the log,
    and no refused trail request left one (the fuzzer is the only
    reviewer while it runs).
Prints one line per failure with the seed and case number, and the case's
bytes to tests' scratch; exits 1 if any. The records used are counted on
the last line ("used N records") so the caller can skip them.
"""
import json
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import http_raw  # noqa: E402

STATUSES = {200, 201, 400, 403, 404, 405, 409, 411, 413, 414, 415, 417,
            422, 431, 501}
GETS = ["/v1/healthz", "/v1/checkpoint", "/metrics",
        "/v1/entries?start=0&count=2", "/v1/proof/inclusion?seq=1&size=2",
        "/v1/proof/consistency?from=1&to=2"]


class Case:
    def __init__(self):
        self.requests = []      # (bytes, record ids sent, must_refuse)
        self.segments = None    # how the bytes travel, see send()
        self.close_after = None
        self.who = "school"     # whose certificate it is sent with


def fresh(records, used):
    """A record never sent before, as JSON bytes."""
    used[0] += 1
    return records[used[0] - 1].encode()


def head(method, target, version, fields):
    out = method + b" " + target + b" " + version + b"\r\n"
    for f in fields:
        out += f + b"\r\n"
    return out + b"\r\n"


def chunked(rng, body, broken):
    out = b""
    i = 0
    while i < len(body):
        n = rng.randint(1, max(1, len(body) - i))
        size = b"%x" % n
        if broken and rng.random() < 0.3:
            size = rng.choice([b"%x" % (n + rng.randint(1, 9)), b"-1",
                               b"zz", b"", b"%x" % (1 << 62)])
        ext = b";name=value" if rng.random() < 0.1 else b""
        out += size + ext + b"\r\n" + body[i:i + n] + b"\r\n"
        i += n
    trailer = b"X-Trailer: 1\r\n" if rng.random() < 0.1 else b""
    return out + b"0\r\n" + trailer + b"\r\n"


def mutate_body(rng, body):
    b = bytearray(body)
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        if op < 0.4 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op < 0.7 and b:
            del b[rng.randrange(len(b))]
        else:
            b.insert(rng.randrange(len(b) + 1),
                     rng.choice(b'{}[]",:\\\x00\n'))
    return bytes(b)


def trail_body(rng, records):
    """A reviewer's trail request for a child or case of the records."""
    r = json.loads(records[rng.randrange(len(records))])
    subject = ("child_id", r["child_id"]) if rng.random() < 0.5 and \
        "child_id" in r else ("case_ref", r.get("case_ref", "C-000001"))
    return json.dumps({subject[0]: subject[1],
                       "review_ref": "CSPR-FUZZ-%d" % rng.randrange(99)},
                      separators=(",", ":")).encode()


# query numbers no strict decimal reader takes (docs/API.md)
BAD_NUMBERS = {"-1", "+3", " 3", "3 ", "0x10", "1e3", "",
               "18446744073709551616", "99999999999999999999999", "3%00",
               "%33", "abc"}


def number(rng):
    """A query number as clients get them wrong, or right."""
    return rng.choice([str(rng.randint(0, 40)), str(rng.randint(0, 40)),
                       "0", "18446744073709551615"] + sorted(BAD_NUMBERS))


def inspector_target(rng):
    """(target, refused): an inspector's GET with query parameters, often
    broken; refused when a parameter it reads is not a number."""
    path, names = rng.choice([("/v1/entries", ["start", "count"]),
                              ("/v1/proof/inclusion", ["seq", "size"]),
                              ("/v1/proof/consistency", ["from", "to"]),
                              ("/v1/checkpoint", []), ("/metrics", [])])
    params = [(n, number(rng)) for n in names if rng.random() < 0.9]
    if rng.random() < 0.2 and names:
        params.append((rng.choice(names), number(rng)))     # twice
    if rng.random() < 0.1:
        params.append(("extra", "1"))
    rng.shuffle(params)
    seen = set()
    refused = False
    for n, v in params:     # the first of a name is the one read
        if n in names and n not in seen:
            refused = refused or v in BAD_NUMBERS
            seen.add(n)
    q = "&".join(n + "=" + v for n, v in params)
    target = path + ("?" + q if q or rng.random() < 0.1 else "")
    return target.encode(), refused


def one_request(rng, records, used, who):
    """(request bytes, record ids in it, must_refuse): a valid request,
    often broken; a reviewer's are trail requests, an inspector's GETs."""
    broken = rng.random() < 0.6
    body_refused = False
    reviewer = who == "reviewer"
    if reviewer:
        method, target = b"POST", b"/v1/trail"
        body = trail_body(rng, records)
    elif who == "inspector":
        method = b"GET"
        target, query_refused = inspector_target(rng)
        body = b""
    elif rng.random() < 0.7:
        method, target = b"POST", b"/v1/decisions"
        n = 1 if rng.random() < 0.8 else rng.randint(2, 3)
        recs = [fresh(records, used) for _ in range(n)]
        body = recs[0] if n == 1 else b"[" + b",".join(recs) + b"]"
    else:
        method, target = b"GET", rng.choice(GETS).encode()
        body = b""
    version = b"HTTP/1.1"
    fields = [b"Host: sharelog"]
    if method == b"POST":
        fields.append(b"Content-Type: application/json")
    te = False
    length = len(body)
    first_method = method
    extra_length = None
    target_refused = who == "inspector" and query_refused
    if broken:
        for _ in range(rng.randint(1, 3)):
            k = rng.randrange(14)
            if k == 0:
                method = rng.choice([b"PUT", b"DELETE", b"PATCH", b"HEAD",
                                     b"OPTIONS", b"post", b"GE T", b"",
                                     b"\x00POST"])
            elif k == 1:
                # (target, refused whatever the method): a query or a
                # fragment does not change the path
                target, refuse = rng.choice([
                    (b"/v1/decisions/", True), (b"/v1//decisions", True),
                    (b"*", True), (b"/" + b"a" * 9000, True),
                    (b"/v1/entries?start=-1&count=1", True),
                    (b"/v1/entries?start=0&count=99999999999999999999",
                     True),
                    (b"/v1/entries?start=0&count=+1", True),
                    (b"/v1/proof/inclusion?seq=5&size=2", True),
                    (b"/v1/decisions?x=%zz", False),
                    (b"/v1/decisions#frag", False),
                    (b"http://x/v1/decisions", False)])
                target_refused = refuse
            elif k == 2:
                version = rng.choice([b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.x",
                                      b"HTTP/1.1 ", b"", b"http/1.1"])
            elif k == 3:
                fields = [f for f in fields
                          if not f.startswith(b"Content-Type")]
                if rng.random() < 0.5:
                    fields.append(rng.choice([b"Content-Type: text/plain",
                                              b"Content-Type:",
                                              b"Content-Type: application/"
                                              b"json; charset=utf-8",
                                              b"Content-Type: APPLICATION/JSON",
                                              b"Content-Type: application/"
                                              b"jsonx"]))
            elif k == 4 and isinstance(length, int):
                length = rng.choice([length + rng.randint(1, 50),
                                     max(0, length - rng.randint(1, 50)),
                                     -1, 0, 1 << 40, "abc", " %d" % length,
                                     "%d, %d" % (length, length)])
            elif k == 5:
                extra_length = b"Content-Length: %d" % rng.randint(0, 99)
            elif k == 6:
                te = True
            elif k == 7:
                fields.append(rng.choice([b"X-Fold: a", b"no colon here",
                                          b" folded: continuation",
                                          b"X-Nul: a\x00b", b"X-Cr: a\rb",
                                          b": empty name",
                                          b"X-Big: " + b"b" * 9000]))
            elif k == 8:
                fields += [b"X-Many-%d: %d" % (i, i) for i in range(120)]
            elif k == 9:
                fields.append(b"Expect: 100-continue")
            elif k == 10:
                fields.append(rng.choice([b"Connection: close",
                                          b"Connection: keep-alive",
                                          b"Connection: upgrade"]))
            elif k == 11 and body:
                body = mutate_body(rng, body)
                body_refused = False    # may or may not be valid
                length = len(body) if isinstance(length, int) and \
                    length >= 0 and length < (1 << 40) else length
            elif k == 12:
                fields = [f for f in fields if not f.startswith(b"Host")]
            elif k == 13 and body:
                whole = body
                body = rng.choice([b"", b"null", b"[]", b"{}", b"\xff\xfe",
                                   body + b" trailing", b"[" + body + b","
                                   + body + b"]"])
                length = len(body)
                body_refused = reviewer or not body.startswith(b"[" + whole)
    # the last word on the method and the target counts
    must_refuse = (target_refused or body_refused or
                   method not in (first_method, b"HEAD"))
    # a POST whose Content-Length is not its body's cannot be taken
    if method == b"POST" and not te and length not in (len(body),
                                                      " %d" % len(body)):
        must_refuse = True
    if te:
        fields.append(b"Transfer-Encoding: chunked")
        if rng.random() < 0.3:
            fields.append(b"Content-Length: %d" % len(body))
            must_refuse = True
        payload = chunked(rng, body, broken)
    else:
        if method == b"POST" or body or rng.random() < 0.2:
            fields.append(b"Content-Length: " + str(length).encode())
        payload = body
    if extra_length:        # before or after the real one
        fields.insert(rng.randint(0, len(fields)), extra_length)
    # two lengths are refused whatever they say (RFC 9112 section 6.3)
    if sum(f.startswith(b"Content-Length") for f in fields) > 1:
        must_refuse = True
    ids = [m.decode("latin-1") for m in
           re.findall(rb'"record_id"\s*:\s*"([^"\\]*)"', payload)]
    return head(method, target, version, fields) + payload, ids, must_refuse


def make_case(rng, records, used):
    c = Case()
    c.who = rng.choices(["school", "reviewer", "inspector"],
                        [0.7, 0.15, 0.15])[0]
    for _ in range(1 if rng.random() < 0.7 else rng.randint(2, 3)):
        c.requests.append(one_request(rng, records, used, c.who))
    data = b"".join(r[0] for r in c.requests)
    if rng.random() < 0.3:      # cut into TLS records and TCP sends
        cuts = sorted(rng.sample(range(1, max(2, len(data))),
                                 min(rng.randint(1, 6), max(1, len(data) - 1))))
        c.segments = cuts
    if rng.random() < 0.08:
        c.close_after = rng.randrange(max(1, len(data)))
    return c, data


def send(sock, tls, out, data, cuts, close_after):
    if close_after is not None:
        data = data[:close_after]
    pieces = []
    last = 0
    for cut in (cuts or []):
        if cut < len(data):
            pieces.append(data[last:cut])
            last = cut
    pieces.append(data[last:])
    for p in pieces:
        if p:
            tls.write(p)
        if cuts:
            sock.sendall(out.read())
            time.sleep(0.002)
    sock.sendall(out.read())


def alive(hostport, pki):
    sock, tls, inc, out = http_raw.tls_connect(hostport, pki + "/ca.crt",
                                               pki + "/admin.crt",
                                               pki + "/admin.key")
    tls.write(b"GET /v1/healthz HTTP/1.1\r\nHost: sharelog\r\n"
              b"Connection: close\r\n\r\n")
    sock.sendall(out.read())
    got, closed = http_raw.answers(sock, tls, inc, 5)
    sock.close()
    res, _ = http_raw.parse(got, closed)
    return res and res[0][0] == 200 and json.loads(res[0][2])


def log_ids(hostport, pki, start):
    """(seq, type, record id) of the log's entries from @start on."""
    ids = []
    while True:
        sock, tls, inc, out = http_raw.tls_connect(
            hostport, pki + "/ca.crt", pki + "/inspector.crt",
            pki + "/inspector.key")
        tls.write(b"GET /v1/entries?start=%d&count=1000 HTTP/1.1\r\n"
                  b"Host: sharelog\r\nConnection: close\r\n\r\n" % start)
        sock.sendall(out.read())
        got, closed = http_raw.answers(sock, tls, inc, 10)
        sock.close()
        res, _ = http_raw.parse(got, closed)
        if not res or res[0][0] != 200:
            raise SystemExit("GET /v1/entries failed")
        lines = [ln for ln in res[0][2].split(b"\n") if ln]
        for ln in lines:
            e = json.loads(ln)
            ids.append((e.get("seq"), e.get("type"),
                        e.get("record", {}).get("record_id")))
        if len(lines) < 1000:
            return ids
        start += len(lines)


def main():
    hostport, pki, recfile, secs, seed = sys.argv[1:6]
    records = [ln for ln in open(recfile).read().split("\n") if ln]
    rng = random.Random(int(seed))
    used = [0]
    fails = []
    acked = {}              # record id -> times answered 201 (new)
    unanswered = set()      # sent, no answer read: may or may not be stored
    sent = set()            # every record id sent
    reads = set()           # access seqs of trails answered 200
    reads_maybe = 0         # trail requests left unanswered
    start = alive(hostport, pki)["entries"]
    scratch = os.environ.get("HTTP_FUZZ_SCRATCH", "/tmp")
    deadline = time.time() + float(secs)
    ncase = 0
    while time.time() < deadline and used[0] < len(records) - 10:
        ncase += 1
        case, data = make_case(rng, records, used)
        for _, rids, _ in case.requests:
            sent.update(rids)
        who = case.who
        sock, tls, inc, out = http_raw.tls_connect(
            hostport, pki + "/ca.crt", pki + "/%s.crt" % who,
            pki + "/%s.key" % who)
        try:
            send(sock, tls, out, data, case.segments, case.close_after)
        except OSError:
            pass                # the server may close on a broken head
        closed = True
        if case.close_after is not None:
            sock.close()
            got = b""
        else:
            got, closed = http_raw.answers(sock, tls, inc, 0.4,
                                           len(case.requests))
            sock.close()
        res, left = http_raw.parse(got, closed)
        why = []
        for i, (st, hd, body) in enumerate(res):
            if st not in STATUSES:
                why.append("status %d" % st)
            media = hd.get("content-type", "").split(";")[0].strip()
            if media == "application/jsonl" and st == 200:
                try:
                    seqs = [json.loads(ln)["seq"]
                            for ln in body.split(b"\n") if ln]
                except (ValueError, KeyError, TypeError):
                    seqs = None
                if seqs is None or (seqs and seqs != list(range(
                        seqs[0], seqs[0] + len(seqs)))):
                    why.append("entries answered 200 that are not one "
                               "entry a line in seq order")
            if media == "application/json":
                try:
                    obj = json.loads(body)
                except ValueError:
                    why.append("answer %d: JSON content type, body not "
                               "JSON" % st)
                    continue
                if st >= 400 and not (isinstance(obj, dict) and
                                      "error" in obj and "message" in obj):
                    why.append("error %d without error and message" % st)
                if st == 201:
                    seen = obj if isinstance(obj, list) else \
                        obj.get("results", [obj]) if isinstance(obj, dict) \
                        else []
                    for r in seen:
                        if isinstance(r, dict) and "record_id" in r and \
                                not r.get("duplicate"):
                            acked[r["record_id"]] = \
                                acked.get(r["record_id"], 0) + 1
            if case.who == "reviewer" and st == 200:
                seq = hd.get("sharelog-access-seq", "")
                if not seq.isdigit() or \
                        not hd.get("content-type", "").startswith("text/csv"):
                    why.append("a trail answered 200 without its access "
                               "entry's seq or not as CSV")
                else:
                    reads.add(int(seq))
            if i < len(case.requests) and case.requests[i][2] and \
                    200 <= st < 300:
                why.append("request %d, which must be refused, got %d"
                           % (i + 1, st))
        # an answer still arriving when the wait ended counts as none
        if left and not left.startswith(b"HTTP/1."):
            why.append("bytes that are not an HTTP answer: %r" % left[:60])
        # requests whose answer was not read may have been stored
        for _, ids, _ in case.requests[len(res):]:
            unanswered.update(ids)
        if case.who == "reviewer":
            reads_maybe += len(case.requests) - len(res)
        if not alive(hostport, pki):
            why.append("the service no longer answers /v1/healthz")
        if why:
            name = os.path.join(scratch, "http_fuzz-%s-%d.bin" % (seed, ncase))
            open(name, "wb").write(data)
            fails.append("seed %s case %d (%s): %s" % (seed, ncase, name,
                                                       "; ".join(why)))
            if "no longer answers" in why[-1]:
                break
    log = log_ids(hostport, pki, start)
    ids = [rid for _, _, rid in log]
    access = {seq for seq, typ, _ in log if typ == "access"}
    if not reads <= access:
        fails.append("trails answered 200 whose access entry is not in the "
                     "log: %s" % sorted(reads - access)[:5])
    # this fuzzer is the only reviewer: every access entry is one of its
    # reads, answered or not; a refused trail request appends nothing
    if len(access - reads) > reads_maybe:
        fails.append("%d access entries for %d trails answered and %d "
                     "unanswered: a refused trail request was recorded"
                     % (len(access), len(reads), reads_maybe))
    for rid, n in acked.items():
        if n > 1:
            fails.append("record %s answered 201 as new %d times" % (rid, n))
        if ids.count(rid) != 1:
            fails.append("record %s answered 201 but in the log %d times"
                         % (rid, ids.count(rid)))
    for rid in ids:             # (another client's records are not ours)
        if rid in sent and rid not in acked and rid not in unanswered:
            fails.append("record %s is in the log, but its request was "
                         "refused" % rid)
    print("\n".join(fails))
    print("%d cases, %d records answered 201, %d trails read, %d entries; "
          "used %d records" % (ncase, len(acked), len(reads), len(ids),
                               used[0]))
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
