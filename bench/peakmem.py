#!/usr/bin/env python3
"""Peak memory of a command, two ways: peak RSS (what /usr/bin/time %M
says, the kernel's high-water mark) and peak private memory (RssAnon +
RssShmem, sampled every millisecond from /proc/PID/status).

Why both: peak RSS also counts clean page-cache pages of files the
process has mapped. Since Linux 6.18 a fault on a file mapping maps the
whole large folio around it (up to 2 MB on ext4), so a program that reads
a few scattered pages of a large LMDB map shows tens of MB of file pages
in its RSS that the kernel can take back at any moment. Private memory is
what the process itself needs.

Usage: bench/peakmem.py CMD [ARG...]
Prints: wall_seconds peak_rss_kib peak_private_kib exit_status
"""
import os
import subprocess
import sys
import time


def private_kib(pid):
    anon = shmem = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    anon = int(line.split()[1])
                elif line.startswith("RssShmem:"):
                    shmem = int(line.split()[1])
    except OSError:
        return 0
    return anon + shmem


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    t0 = time.monotonic()
    p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
    peak = 0
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, private_kib(p.pid))
        time.sleep(0.001)
    wall = time.monotonic() - t0
    print(f"{wall:.2f} {ru.ru_maxrss} {peak} {os.waitstatus_to_exitcode(status)}")


if __name__ == "__main__":
    main()
