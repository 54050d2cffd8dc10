"""Write line-table fixtures for test_pyframes: for code objects compiled
by this interpreter, the table bytes and the line CPython itself gives each
instruction offset.  Usage: python3.X tools/gen_pylines.py >> tests/unit/fixtures/pylines.txt

Each record:  code MINOR FIRSTLINENO TABLEHEX
followed by:  at INSTR LINE    (INSTR as struct py_frame.instr has it)
"""
import dis
import sys

SRC = '''
def simple(a):
    x = a + 1
    return x

def loop(n):
    t = 0
    for i in range(n):
        if i % 3:
            t += i
        else:
            t -= 1
    while t > 0:
        t //= 2
    return t

def far(a):
    b = a
''' + "\n" * 300 + '''    c = b * 2
''' + "\n" * 40 + '''    return c

class K:
    def method(self, v):
        return [w * 2 for w in range(v)
                if w % 2]

def gen(n):
    for i in range(n):
        yield (i,
               i * 2,
               i * 3)
'''


def codes(co):
    yield co
    for c in co.co_consts:
        if hasattr(c, "co_code"):
            yield from codes(c)


def main():
    minor = sys.version_info[1]
    top = compile(SRC, "fixture.py", "exec")
    for co in codes(top):
        tab = co.co_lnotab if minor <= 9 else co.co_linetable
        print("code %d %d %s" % (minor, co.co_firstlineno, tab.hex() or "-"))
        n = len(co.co_code)
        if minor <= 9:
            starts = list(dis.findlinestarts(co))
            for off in range(0, n, 2):
                line = co.co_firstlineno
                for s, l in starts:
                    if s <= off:
                        line = l
                print("at %d %d" % (off, line))
        else:
            for s, e, l in co.co_lines():
                for off in range(s, e, 2):
                    instr = off // 2 if minor == 10 else off
                    print("at %d %d" % (instr, l or 0))


main()
