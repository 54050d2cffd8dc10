"""A service-like loop whose time goes to the standard library's C code:
encode() serializes records with json.dumps, decode() parses them back
with json.loads, scan() counts regex matches in a generator.  Usage:
py_json.py [SECONDS] (default 3).

Each function's thread CPU time is measured around its calls, so the share
of each in the profile is known: prints "cpu encode E decode D scan S" in
seconds at the end.  All the work a timing covers happens in the function's
own frame: decode() frees what it parsed before it returns, and scan()
builds the text it scans (work left to the caller would be timed as the
function's and sampled as the caller's).
"""
import json
import re
import sys
import time

RECORDS = [{"id": i, "name": "user%d" % i, "score": i * 0.37, "tags": ["a", "b", str(i)],
            "nested": {"x": i, "y": [i, i + 1, i + 2]}} for i in range(400)]
WORD = re.compile(r"user(\d+)7\b")


def encode(records):
    return json.dumps(records)


def decode(text):
    return len(json.loads(text))


def scan(text):
    text = text * 3
    return sum(1 for m in WORD.finditer(text) if int(m.group(1)) % 3 == 0)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    spent = {"encode": 0.0, "decode": 0.0, "scan": 0.0}
    clock = time.thread_time
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = clock()
        text = encode(RECORDS)
        t1 = clock()
        decode(text)
        t2 = clock()
        scan(text)
        t3 = clock()
        spent["encode"] += t1 - t0
        spent["decode"] += t2 - t1
        spent["scan"] += t3 - t2
    print("cpu encode %.6f decode %.6f scan %.6f" % (spent["encode"], spent["decode"], spent["scan"]))


if __name__ == "__main__":
    main()
