#!/bin/bash
# Lazy binding: with LD_BIND_NOT=1 every call of pie_main's "plt" loop to
# lib_tiny() goes through the dynamic loader's _dl_runtime_resolve_*, which
# realigns the stack and keeps its CFA in rbx.  Every walk from there must
# reach main (by construction every call comes from main's loop); before,
# those from the resolver's callees ended in a table miss (1 walk in ~300
# of a launched command's first moments, in t_launch_early under load).
. "$(dirname "$0")/lib.sh"
need_root
$EBPROF -F 999 -f json -o "$TMP/l.json" -- env LD_BIND_NOT=1 "$T/pie_main" 1 plt >/dev/null 2>"$TMP/err" ||
	fail "ebprof: $(cat "$TMP/err")"
python3 - "$TMP/l.json" <<'PY' || fail "walks through the lazy-binding resolver"
import json, sys
p = json.load(open(sys.argv[1]))
q = p["stack_quality"]
res = deep = full = 0
env = 0
for s in p["stacks"]:
    names = [f["function"] for f in s["frames"] if not f.get("kernel")]
    if not any(n.startswith("_dl_runtime_resolve") for n in names):
        continue
    # env binds lazily too, in its own start before it execs pie_main (a
    # walk complete from env's _start: env+0x35e0;__libc_start_main;
    # _dl_runtime_resolve_xsavec;_dl_fixup;..., once in ~15 runs): not
    # pie_main's calls, which the check is of
    if any(f["module"] == "env" for f in s["frames"]):
        env += s["count"]
        continue
    res += s["count"]
    i = next(i for i, n in enumerate(names) if n.startswith("_dl_runtime_resolve"))
    deep += s["count"] if i + 1 < len(names) else 0
    full += s["count"] if names[:4] == ["_start", "__libc_start_main", "__libc_start_call_main", "main"] else 0
print("  %d of %d samples in the resolver, %d of them in its callees; %d walked from _start through main;"
      " %d of %d walks complete, %d in execve %s; %d in env's own resolver" % (res, p["samples"], deep, full,
      q["complete"], q["user_stacks"], q["in_exec"], q["incomplete"] or "", env))
# the test exercises what it says: most samples are in the resolver, and
# its callees (where rbx must be followed through their saves) have ~100s
assert res > p["samples"] / 2 and deep >= 50, (res, deep)
assert full == res, (full, res)
# the walks of env's execve, once it dropped env's memory, are in_exec
assert q["complete"] + q["in_exec"] == q["user_stacks"] and not q["incomplete"], q
PY
exit 0
