"""Python objects made in known numbers, for ebprof mem on every CPython
build: ints() keeps a list of N ints beyond the small-int cache (and range
makes N more, dropped at once), strs() a dict of M distinct string keys,
temps() makes and drops K bytes objects.
Usage: py_objects.py N M K [wait]: with wait, it prints "ready PID" and
waits for SIGUSR1 before the work, then prints "done blocks B" (what
sys.getallocatedblocks() grew by: pymalloc's blocks still held) and waits
for another before it exits."""
import os
import signal
import sys
from itertools import repeat

N, M, K = (int(a) for a in sys.argv[1:4])


def ints():
    return [i + 1000 for i in range(N)]


def strs():
    return {"k%d" % i: None for i in range(M)}


def temps():
    for _ in repeat(None, K):
        x = bytes(40)
    return x


def main():
    wait = len(sys.argv) > 4 and sys.argv[4] == "wait"
    if wait:
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
        print("ready %d" % os.getpid(), flush=True)
        signal.sigwait([signal.SIGUSR1])
    b0 = sys.getallocatedblocks()
    keep = [ints(), strs()]
    temps()
    b1 = sys.getallocatedblocks()
    if wait:
        print("done blocks %d" % (b1 - b0), flush=True)
        signal.sigwait([signal.SIGUSR1])
    return keep


if __name__ == "__main__":
    main()
