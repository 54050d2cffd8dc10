"""Where a CPython's small objects come from, and K objects of a known
size kept, for ebprof mem's wrapper of the object allocator.
Usage: py_pymalloc.py K [none].  Prints "heap H of 2000" (how many of 2000
floats made in a row lie in the brk heap, where libc's malloc puts small
blocks and pymalloc's arenas never are), "stride S" (the most common
distance between two of them in a row: the size of pymalloc's block),
then keeps K bytes objects of 600 bytes (633 asked of the allocator each:
past pymalloc's 512, what it asks of malloc) made by big() in a list made
beforehand (one block of 8 K bytes); with none, the same loop keeps None
(what big() asks for, less these K objects)."""
import sys
from collections import Counter

K = int(sys.argv[1])
NONE = sys.argv[2:] == ["none"]


def heap_range():
    with open("/proc/self/maps") as f:
        for line in f:
            if line.rstrip().endswith("[heap]"):
                lo, hi = line.split()[0].split("-")
                return int(lo, 16), int(hi, 16)
    return 0, 0


def floats():
    return [float(i) + 0.5 for i in range(2000)]


def big(keep):
    for i in range(K):
        keep[i] = None if NONE else bytes(600)


fl = floats()
lo, hi = heap_range()
ids = [id(x) for x in fl]
print("heap %d of %d" % (sum(lo <= a < hi for a in ids), len(ids)))
print("stride %d" % Counter(b - a for a, b in zip(ids, ids[1:])).most_common(1)[0][0])
keep = [None] * K
big(keep)
sys.stdout.flush()
