"""The Python workload of make bench: ROUNDS of pure-Python work that times
itself, so that a profiler's start-up and exit do not count.
Usage: py_bench.py -r ROUNDS.  With WAIT_FOR_SIGUSR1=1 in the environment
it prints "ready PID" and waits for SIGUSR1 before working.
Prints "work_s SECONDS rounds ROUNDS"."""
import os
import signal
import sys
import time


def leaf(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


def middle(n):
    return leaf(n) + leaf(n // 3)


def outer(n):
    return [middle(n) for _ in range(2)]


def timed_rounds(work):
    """-r ROUNDS of work(), held first when asked, and the time they took:
    the harness of make bench's Python workloads"""
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[1] == "-r" else 100
    if os.environ.get("WAIT_FOR_SIGUSR1"):
        signal.signal(signal.SIGUSR1, lambda *a: None)
        print("ready %d" % os.getpid(), flush=True)
        signal.pause()
    t = time.perf_counter()
    for _ in range(rounds):
        work()
    print("work_s %.6f rounds %d" % (time.perf_counter() - t, rounds), flush=True)


def main():
    timed_rounds(lambda: outer(3000))


if __name__ == "__main__":
    main()
