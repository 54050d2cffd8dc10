"""Python workloads whose profile is known by construction, for ebprof's
tests.  Usage: py_work.py MODE [SECONDS]

  split    hot() does 3 units of work for every 1 of cold(): 75 % / 25 %
  shapes   a method of a class, 20-deep recursion, a generator and a lambda,
           each a quarter of the time
  threads  a thread running Python (py_thread_loop) and one hashing with the
           GIL released (hash_thread); the main thread sleeps
  sorted   sort_with_key() calls sorted(key=lambda ...): Python -> C -> Python
  quick    exits after the given seconds (default 0.5) of spin()
  fork     forks: parent and child both spin(), the child in child_spin()
  deep     recursion 200 deep, beyond what ebprof walks (128 frames)
  churn    starts short threads one after another, each churn_worker() > work()
  modules  runs module code compiled afresh each time (gen_N.py, ~1 ms of
           work at its top level), freed as soon as it has run, as an
           import's is

Prints "ready PID" once running; with SECONDS it stops by itself.
"""
import hashlib
import os
import sys
import threading
import time

UNIT = 20000


def work(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


def hot():
    for _ in range(3):
        work(UNIT)


def cold():
    work(UNIT)


class Shape:
    def method(self):
        return work(UNIT)


def recurse(depth):
    if depth <= 1:
        return work(UNIT)
    return recurse(depth - 1)


def gen():
    while True:
        yield work(UNIT)


def run_split(deadline):
    while time.time() < deadline:
        hot()
        cold()


def run_shapes(deadline):
    s = Shape()
    g = gen()
    lam = lambda: work(UNIT)  # noqa: E731
    while time.time() < deadline:
        s.method()
        recurse(20)
        next(g)
        lam()


def py_thread_loop(deadline):
    while time.time() < deadline:
        work(UNIT)


def hash_thread(deadline):
    data = b"x" * (16 << 20)
    while time.time() < deadline:
        hashlib.sha256(data).digest()   # releases the GIL for big buffers


def run_threads(deadline):
    ts = [threading.Thread(target=py_thread_loop, args=(deadline,), name="pyloop"),
          threading.Thread(target=hash_thread, args=(deadline,), name="hasher")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def sort_with_key(data):
    return sorted(data, key=lambda v: (v * 7919) % 10007)


def run_sorted(deadline):
    data = list(range(20000))
    while time.time() < deadline:
        sort_with_key(data)


def spin(deadline):
    while time.time() < deadline:
        work(UNIT)


def run_fork(deadline):
    pid = os.fork()
    if pid == 0:
        child_spin(deadline)
        os._exit(0)
    spin(deadline)
    os.waitpid(pid, 0)


def child_spin(deadline):
    spin(deadline)


def churn_worker():
    work(UNIT // 4)


def run_churn(deadline):
    while time.time() < deadline:
        t = threading.Thread(target=churn_worker)
        t.start()
        t.join()


GEN = """def f():
    pass


x = 0
for i in range(%d):
    x += i * i
"""


def run_modules(deadline):
    mods = []
    while time.time() < deadline:
        # like an import: the module's functions, and so its file name,
        # outlive its code
        ns = {}
        exec(compile(GEN % UNIT, "gen_%d.py" % len(mods), "exec"), ns)
        mods.append(ns)
    print("modules %d" % len(mods), flush=True)


def idle_worker(ev):
    ev.wait()


def run_idle(deadline):
    """three threads that wait all along (py-spy --idle's case), the main thread busy"""
    ev = threading.Event()
    ts = [threading.Thread(target=idle_worker, args=(ev,)) for _ in range(3)]
    for t in ts:
        t.start()
    spin(deadline)
    ev.set()
    for t in ts:
        t.join()


def run_deep(deadline):
    while time.time() < deadline:
        recurse(200)


MODES = {"deep": run_deep, "split": run_split, "shapes": run_shapes, "threads": run_threads, "sorted": run_sorted,
         "quick": spin, "fork": run_fork, "churn": run_churn,
         "modules": run_modules, "idle": run_idle}


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "split"
    secs = float(sys.argv[2]) if len(sys.argv) > 2 else (0.5 if mode == "quick" else 3600)
    print("ready %d" % os.getpid(), flush=True)
    deadline = time.time() + secs
    MODES[mode](deadline)


if __name__ == "__main__":
    main()
