# gdb -batch -x gdb_bt.py --args PROG ARGS: stop at the first call of hot()
# and print its physical frames (no inlined or synthesized tail-call frames),
# outermost first, as "BT:f1;f2;...;hot".
import gdb

gdb.execute("set debuginfod enabled off")
gdb.execute("set pagination off")
gdb.execute("set backtrace past-main on")
gdb.execute("set backtrace past-entry on")
gdb.execute("break hot")
gdb.execute("run")
frames = []
f = gdb.newest_frame()
while f is not None:
    if f.type() in (gdb.NORMAL_FRAME, gdb.SIGTRAMP_FRAME):
        frames.append(f.name() or hex(f.pc()))
    f = f.older()
print("BT:" + ";".join(reversed(frames)))
gdb.execute("kill")
