#!/bin/bash
# Code without CFI in a file that has tables: gcc's crtstuff functions
# (__do_global_dtors_aux, frame_dummy) are in every executable and library,
# built without unwind tables but with a frame pointer.  dlopen_late 1
# close spends its second in dlclose(), in a handler that __cxa_finalize
# runs from libdl_hot.so's __do_global_dtors_aux: every such sample must
# walk through it to main (before, 325 of 327 ended there in a table miss).
. "$(dirname "$0")/lib.sh"
need_root
$EBPROF -F 999 -f json -o "$TMP/c.json" -- "$T/dlopen_late" 1 close >/dev/null 2>"$TMP/err" ||
	fail "ebprof: $(cat "$TMP/err")"
python3 - "$TMP/c.json" <<'PY' || fail "walks through code without CFI"
import json, sys
p = json.load(open(sys.argv[1]))
q = p["stack_quality"]
spin = full = 0
for s in p["stacks"]:
    names = [f["function"] for f in s["frames"] if not f.get("kernel")]
    if "dl_close_spin" not in names:
        continue
    spin += s["count"]
    i = names.index("dl_close_spin")
    if (names[:5] == ["_start", "__libc_start_main", "__libc_start_call_main", "main", "dlclose"]
            and names[i - 2:i] == ["__do_global_dtors_aux", "__cxa_finalize"]):
        full += s["count"]
print("  %d samples in the dlclose handler, %d walked from _start through dlclose and __do_global_dtors_aux;"
      " %d of %d walks complete %s" % (spin, full, q["complete"], q["user_stacks"], q["incomplete"] or ""))
assert spin >= 500 and full == spin, (spin, full)  # ~1000 at 999 Hz over 1 s
assert q["complete"] + q["in_exec"] == q["user_stacks"] and not q["incomplete"], q
PY
exit 0
