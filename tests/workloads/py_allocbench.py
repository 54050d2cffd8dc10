"""The Python allocation workload of make bench: ROUNDS of building and
dropping small objects (tuples, strings, a dict), timed by itself.
Usage: py_allocbench.py -r ROUNDS.  With WAIT_FOR_SIGUSR1=1 in the
environment it prints "ready PID" and waits for SIGUSR1 before working.
Prints "work_s SECONDS rounds ROUNDS"."""
import os
import signal
import sys
import time


def build(n):
    return [(i, str(i)) for i in range(n)]


def index(rows):
    return {s: i for i, s in rows}


def main():
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[1] == "-r" else 100
    if os.environ.get("WAIT_FOR_SIGUSR1"):
        signal.signal(signal.SIGUSR1, lambda *a: None)
        print("ready %d" % os.getpid(), flush=True)
        signal.pause()
    t = time.perf_counter()
    for _ in range(rounds):
        index(build(2000))
    print("work_s %.6f rounds %d" % (time.perf_counter() - t, rounds), flush=True)


if __name__ == "__main__":
    main()
