"""Lines that allocate known amounts, for ebprof mem --lines (and
memory_profiler beside it): in work(), a list of N ints (and range's N,
dropped at once), a dict of M distinct strings, a temporary 10 MB bytes
object freed on the next line.
Usage: py_memlines.py N M [truth]: with truth, tracemalloc's figures per
line of work() (blocks still held when it returns), as "held LINE BYTES"."""
import sys


def work(n, m):
    a = [i + 1000 for i in range(n)]
    d = {"s%d" % i: i for i in range(m)}
    t = b"x" * 10_000_000
    del t
    return a, d


def main():
    n, m = int(sys.argv[1]), int(sys.argv[2])
    if len(sys.argv) > 3 and sys.argv[3] == "truth":
        import tracemalloc
        tracemalloc.start()
        keep = work(n, m)
        snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, __file__)])
        for st in snap.statistics("lineno"):
            print("held %d %d %d" % (st.traceback[0].lineno, st.size, st.count))
        return keep
    return work(n, m)


if __name__ == "__main__":
    KEEP = main()
