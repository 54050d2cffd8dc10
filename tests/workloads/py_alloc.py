"""Python allocations known by construction, for ebprof mem: g() makes 3x
the small objects (bytes) that h() makes, which pymalloc serves from its
arenas, so only a probe on PyObject_Malloc sees them.
Usage: py_alloc.py [SECONDS]"""
import os
import sys
import time
from itertools import repeat

N = 2000


# bytes objects: no free list, so each one is a PyObject_Malloc (freed at
# the next); repeat() makes no int objects, and nothing grows a list
def g():
    for _ in repeat(None, 3 * N):
        x = bytes(40)
    return x


def h():
    for _ in repeat(None, N):
        x = bytes(40)
    return x


def main():
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 5
    print("ready %d" % os.getpid(), flush=True)
    t = time.time()
    while time.time() - t < secs:
        g()
        h()


if __name__ == "__main__":
    main()
