"""What held a CPython's peak heap, by construction, for ebprof mem.
Usage: py_peak.py N.  fa() keeps N bytes objects of 2000 bytes, fb() N/2;
fa()'s are dropped, then fc() keeps 3N/4: the peak holds fa()'s and fb()'s
objects (and their lists), none of fc()'s.  Prints "object S" (what each
object asks of the allocator: past pymalloc's 512, of malloc)."""
import sys

N = int(sys.argv[1])


def fa():
    return [bytes(2000) for _ in range(N)]


def fb():
    return [bytes(2000) for _ in range(N // 2)]


def fc():
    return [bytes(2000) for _ in range(3 * N // 4)]


a = fa()
b = fb()
del a
c = fc()
print("object", sys.getsizeof(bytes(2000)))
