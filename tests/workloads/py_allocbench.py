"""The Python allocation workload of make bench: ROUNDS of building and
dropping small objects (tuples, strings, a dict), timed by itself.
Usage: py_allocbench.py -r ROUNDS.  With WAIT_FOR_SIGUSR1=1 in the
environment it prints "ready PID" and waits for SIGUSR1 before working.
Prints "work_s SECONDS rounds ROUNDS"."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from py_bench import timed_rounds  # noqa: E402


def build(n):
    return [(i, str(i)) for i in range(n)]


def index(rows):
    return {s: i for i, s in rows}


if __name__ == "__main__":
    timed_rounds(lambda: index(build(2000)))
