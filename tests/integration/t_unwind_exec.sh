#!/bin/bash
# A sample in execve past its point of no return has the old program's
# registers and no stack to walk: toucher 1024 touches 1 GiB and then execs
# /bin/true, so execve spends ~0.1 s freeing the old memory.  Those walks
# are counted as in_exec, apart from the complete and the incomplete ones,
# and every other walk is complete (before, each was a read fault).
. "$(dirname "$0")/lib.sh"
need_root
# --debug: an incomplete walk is printed with its frames and registers
$EBPROF -F 999 --debug -f json -o "$TMP/e.json" -- "$T/toucher" 1024 exec /bin/true >/dev/null 2>"$TMP/err" ||
	fail "ebprof: $(cat "$TMP/err")"
python3 - "$TMP/e.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
q = p["stack_quality"]
# samples whose user part is the old program's execve call alone, in the
# kernel's exec of the new program: in begin_new_exec (freeing the old
# memory) or after it, in load_elf_binary (mapping the new program)
gone = sum(s["count"] for s in p["stacks"]
           if [f["function"] for f in s["frames"] if not f.get("kernel")] == ["execve"]
           and "bprm_execve" in [f["function"] for f in s["frames"]])
print("  %d walks in execve with the old stack gone (%d such stacks seen); %d complete, %d incomplete %s of %d"
      % (q["in_exec"], gone, q["complete"], sum(q["incomplete"].values()), q["incomplete"] or "", q["user_stacks"]))
assert q["in_exec"] >= 20 and q["in_exec"] == gone, (q, gone)
assert q["complete"] + q["in_exec"] == q["user_stacks"] and not q["incomplete"], q
PY
[ $? = 0 ] || { grep "incomplete walk" "$TMP/err"; fail "walks of a process in execve"; }
exit 0
