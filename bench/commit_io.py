#!/usr/bin/env python3
"""What one durable commit costs this machine's disk, by how its pages are
written: the same 15 pages (60 KiB, about what a group commit of ~20
decisions dirties in the store) as 15 pwrite calls, as one pwritev of 15
buffers, and as one 60 KiB pwrite, each followed by fdatasync, on blocks
already allocated (as LMDB's reused pages are). Interleaved rounds, medians.
Usage: commit_io.py [DIR] (default bench/out)."""
import os, random, statistics, sys, time

d = sys.argv[1] if len(sys.argv) > 1 else "bench/out"
path = os.path.join(d, "commit_io.tmp")
size = 64 << 20
fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o600)
try:
    os.pwrite(fd, b"\0" * size, 0)
    os.fsync(fd)
    page = b"x" * 4096
    run = b"x" * (4096 * 15)
    pages = size // 4096
    modes = {
        "15 pwrite calls of one page, scattered": lambda: [os.pwrite(fd, page, random.randrange(pages) * 4096) for _ in range(15)],
        "15 pwrite calls of one page, contiguous": lambda: [os.pwrite(fd, page, (base + k) * 4096) for k in range(15)],
        "one pwritev of 15 pages, contiguous": lambda: os.pwritev(fd, [page] * 15, base * 4096),
        "one pwrite of 60 KiB": lambda: os.pwrite(fd, run, base * 4096),
        "one pwrite of one page": lambda: os.pwrite(fd, page, base * 4096),
    }
    res = {m: [] for m in modes}
    for _ in range(5):
        for m, f in modes.items():
            n = 100
            t = time.perf_counter()
            for _ in range(n):
                base = random.randrange(pages - 16)
                f()
                os.fdatasync(fd)
            res[m].append((time.perf_counter() - t) / n * 1000)
    for m, v in res.items():
        print("%-42s %.3f ms per commit (median of 5 x 100)" % (m, statistics.median(v)))
finally:
    os.close(fd)
    os.unlink(path)
