#!/usr/bin/env python3
"""What this machine's disk charges for the log's commit, alone: the pages
one group commit of ~28 decisions writes to the store's log (3 scattered
pages LMDB reuses from its free list, 11 new pages at the end of the file),
then fdatasync, for 4 seconds. Prints the fdatasync percentiles; run it a
few times, since the disk's cost moves from one minute to the next.
Usage: disk_flush.py [DIR] (default bench/out)."""
import os, random, sys, time

d = sys.argv[1] if len(sys.argv) > 1 else "bench/out"
path = os.path.join(d, "disk_flush.tmp")
fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o600)
try:
    page = b"y" * 4096
    os.pwrite(fd, b"\0" * (64 << 20), 0)
    os.fsync(fd)
    end = 64 << 20
    ts = []
    stop = time.time() + 4
    while time.time() < stop:
        for _ in range(3):
            os.pwrite(fd, page, random.randrange(16000) * 4096)
        os.pwrite(fd, page * 11, end)
        end += 11 * 4096
        t = time.perf_counter()
        os.fdatasync(fd)
        ts.append(time.perf_counter() - t)
    ts.sort()
    q = lambda p: ts[int(len(ts) * p)] * 1e6
    print("%d commits; fdatasync p10 %.0f us, p50 %.0f us, p90 %.0f us"
          % (len(ts), q(.1), q(.5), q(.9)))
finally:
    os.close(fd)
    os.unlink(path)
