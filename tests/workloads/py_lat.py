# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""py_lat.py - Python calls whose number and length are known, for ebprof
lat: work() N times (default 40), each ~20 ms on the CPU then ~30 ms
asleep, timed inside it; Handler.handle() N times, ~5 ms each; between
the calls ~5 ms of other work.  Prints the count and the nearest-rank p50
of each, as ebprof lat reckons them.

then quick(), a few microseconds, Q times (default 0).

usage: py_lat.py [N [Q]]   (WAIT_FOR_SIGUSR1=1: waits for SIGUSR1 first)
"""
import os
import signal
import sys
import time


def burn(s):
    t = time.perf_counter()
    while time.perf_counter() - t < s:
        pass


def work(took):
    t0 = time.perf_counter()
    burn(0.02)
    time.sleep(0.03)
    took.append(time.perf_counter() - t0)


class Handler:
    def handle(self, took):
        t0 = time.perf_counter()
        burn(0.005)
        took.append(time.perf_counter() - t0)


def between():
    burn(0.005)


def quick(i):
    return i * 2


def p50(v):
    v = sorted(v)
    return v[(len(v) + 1) // 2 - 1] if v else 0


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    q = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    if os.environ.get("WAIT_FOR_SIGUSR1") == "1":
        signal.signal(signal.SIGUSR1, lambda *a: None)
        print("ready", os.getpid(), flush=True)
        signal.pause()
    w, h = [], []
    hd = Handler()
    t0 = time.perf_counter()
    for _ in range(n):
        work(w)
        between()
        hd.handle(h)
        between()
    tq = time.perf_counter()
    for i in range(q):
        quick(i)
    print("quick_calls %d\nquick_s %.6f" % (q, time.perf_counter() - tq))
    print("work_calls %d\nwork_p50_ms %.3f\nhandle_calls %d\nhandle_p50_ms %.3f\nwork_s %.6f"
          % (len(w), 1e3 * p50(w), len(h), 1e3 * p50(h), time.perf_counter() - t0), flush=True)


main()
