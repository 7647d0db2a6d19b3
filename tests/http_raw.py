#!/usr/bin/env python3
"""HTTP as clients really send it, over mutual TLS, byte for byte.

curl always frames a request the one right way; case systems and proxies
do not. This sends one scenario on one connection and prints what came
back, one line per answer ("<status> <first body line>"), then "closed"
when the server closed the connection or "open" when it was still open
after the wait. Used by tests/service_test.sh.

    http_raw.py HOST:PORT CA CERT KEY SCENARIO RECORD [RECORD2]

Scenarios:
  pipelined    two POSTs in two TLS records sent in one TCP segment,
               before any answer (RFC 9112 section 9.3.2)
  chunked      one POST with a chunked body (two chunks)
  http10       one POST as HTTP/1.0 without keep-alive
  big-header   one POST with a 9,000-byte header field
  not-http     a line that is not a request line
  truncated    a POST whose body ends early, then the connection closes
  two-lengths  a POST with two Content-Length fields that disagree
  te-and-length  a chunked POST that also carries a Content-Length
"""
import socket
import ssl
import sys


def tls_connect(hostport, ca, cert, key):
    host, port = hostport.rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=ca)
    ctx.load_cert_chain(cert, key)
    ctx.check_hostname = False
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out)
    sock = socket.create_connection((host, int(port)), timeout=10)
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            sock.sendall(out.read())
            data = sock.recv(65536)
            if not data:
                raise SystemExit("handshake: connection closed")
            inc.write(data)
    sock.sendall(out.read())
    return sock, tls, inc, out


def post(body, version="1.1", extra=b"", length=True):
    head = b"POST /v1/decisions HTTP/" + version.encode() + b"\r\n"
    head += b"Host: sharelog\r\nContent-Type: application/json\r\n" + extra
    if length:
        head += b"Content-Length: %d\r\n" % len(body)
    return head + b"\r\n" + body


def chunked(body):
    half = len(body) // 2
    return (b"%x\r\n" % half + body[:half] + b"\r\n" +
            b"%x\r\n" % (len(body) - half) + body[half:] + b"\r\n0\r\n\r\n")


def answers(sock, tls, inc, wait, expect=None):
    """Every byte the server sends until it closes, @wait s of quiet, or
    (when given) @expect whole answers have come."""
    got = b""
    closed = False
    sock.settimeout(wait)
    while True:
        try:
            while True:
                got += tls.read(65536)
        except ssl.SSLWantReadError:
            pass
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            closed = True
            break
        if expect is not None and len(parse(got, False)[0]) >= expect:
            break
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            closed = True
            break
        if not data:
            closed = True
            break
        inc.write(data)
    return got, closed


def parse(got, closed=True):
    """The HTTP/1.x answers in @got: a list of (status, headers, body), with
    header names in lower case, and the bytes left over that are not one.
    An answer without a Content-Length (to HTTP/1.0) ends where the
    connection does: it is one only when the connection was @closed."""
    res = []
    while got.startswith(b"HTTP/1.") and b"\r\n\r\n" in got:
        head, _, rest = got.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) < 2 or not parts[1].isdigit():
            break
        headers = {}
        for h in lines[1:]:
            k, _, v = h.partition(b":")
            headers[k.strip().lower().decode("latin-1")] = \
                v.strip().decode("latin-1")
        n = headers.get("content-length")
        n = int(n) if n is not None and n.isdigit() else None
        if n is not None and len(rest) < n:
            break
        if parts[1].startswith(b"1"):   # interim (100 Continue): no body
            got = rest
            continue
        if n is None and not closed:
            break
        body = rest[:n] if n is not None else rest
        got = rest[n:] if n is not None else b""
        res.append((int(parts[1]), headers, body))
    return res, got


def split(got, closed=True):
    """(status, first body line) of each HTTP/1.x answer in @got."""
    answers_, left = parse(got, closed)
    res = ["%d %s" % (st, body.split(b"\n")[0].decode("utf-8", "replace"))
           for st, _, body in answers_]
    if left:
        res.append("unparsed " + repr(left[:80]))
    return res


def main():
    hostport, ca, cert, key, scenario, rec = sys.argv[1:7]
    body = open(rec, "rb").read().rstrip(b"\n")
    body2 = (open(sys.argv[7], "rb").read().rstrip(b"\n")
             if len(sys.argv) > 7 else body)
    sock, tls, inc, out = tls_connect(hostport, ca, cert, key)
    wait = 3
    if scenario == "pipelined":
        tls.write(post(body))
        tls.write(post(body2))           # a second record
        sock.sendall(out.read())         # both in one send
    elif scenario == "chunked":
        tls.write(post(chunked(body), extra=b"Transfer-Encoding: chunked\r\n",
                       length=False))
    elif scenario == "http10":
        tls.write(post(body, version="1.0"))
    elif scenario == "big-header":
        tls.write(post(body, extra=b"X-Padding: " + b"a" * 9000 + b"\r\n"))
    elif scenario == "not-http":
        tls.write(b"HELLO sharelog\r\n\r\n")
    elif scenario == "truncated":
        tls.write(post(body)[:-10])
        sock.sendall(out.read())
        sock.close()
        print("closed by the client")
        return
    elif scenario == "two-lengths":
        tls.write(post(body, extra=b"Content-Length: 5\r\n"))
    elif scenario == "te-and-length":
        tls.write(post(chunked(body), extra=b"Transfer-Encoding: chunked\r\n"
                       b"Content-Length: %d\r\n" % len(body), length=False))
    else:
        raise SystemExit("unknown scenario " + scenario)
    sock.sendall(out.read())
    got, closed = answers(sock, tls, inc, wait)
    for line in split(got, closed):
        print(line)
    print("closed" if closed else "open")


if __name__ == "__main__":
    main()
