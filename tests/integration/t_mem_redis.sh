#!/bin/bash
# ebprof mem on a real server launched under it: redis-server (Debian's,
# jemalloc linked in, so the interposer's real allocator is jemalloc)
# driven by redis-benchmark, 100,000 SETs of 200-byte values over 10,000
# keys.  It must serve them all and exit as it does bare (once, the
# interposer's kept blocks were sized for glibc's classes, jemalloc's
# smaller ones were overrun and redis-server crashed mid-benchmark); the
# bytes held at the end are at least the values it holds (each an sds of
# 200 bytes, its 3-byte header and NUL: 204 bytes a key, by construction)
# and at most redis's own used_memory (the usable size of each block it
# holds, which the interposer gives as at least the size asked for;
# 0.82 of it here); its stacks reach setCommand.
. "$(dirname "$0")/lib.sh"
need_root
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || skip "redis-server/redis-tools not installed (make deps)"
PORT=16392
$EBPROF mem -f json -o "$TMP/redis.json" -- redis-server --port $PORT --bind 127.0.0.1 --save '' --appendonly no \
	>"$TMP/redis.log" 2>"$TMP/err" &
EPID=$!
PIDS+=("$EPID")
for _ in $(seq 100); do redis-cli -p $PORT ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
redis-cli -p $PORT ping 2>/dev/null | grep -q PONG || fail "redis-server did not start under ebprof mem: $(cat "$TMP/err" "$TMP/redis.log")"
# bounded, on loopback only
timeout 60 redis-benchmark -h 127.0.0.1 -p $PORT -n 100000 -c 10 -P 16 -t set -r 10000 -d 200 -q --csv >"$TMP/bench.csv" 2>&1
keys=$(redis-cli -p $PORT dbsize)
used=$(redis-cli -p $PORT info memory | tr -d '\r' | sed -n 's/^used_memory://p')
redis-cli -p $PORT shutdown nosave >/dev/null 2>&1
rc=0
wait $EPID || rc=$?
[ $rc = 0 ] || fail "ebprof mem -- redis-server exited $rc: $(cat "$TMP/err"; tail -3 "$TMP/redis.log")"
grep -q "ready to exit" "$TMP/redis.log" || fail "redis-server did not shut down as asked: $(tail -5 "$TMP/redis.log")"
python3 - "$TMP/redis.json" "$TMP/bench.csv" "$keys" "$used" <<'PY' || exit 1
import csv, json, sys
p = json.load(open(sys.argv[1])); t = p["totals"]
rows = {r["test"]: r for r in csv.DictReader(open(sys.argv[2]))}
keys, used = int(sys.argv[3]), int(sys.argv[4])
fns = {f["function"] for s in p["stacks"] for f in s["frames"]}
print("  redis-server: SET %s requests/s; %d keys, used_memory %d; ebprof: %d allocs, %d frees, %d bytes held in %d blocks"
      % (rows.get("SET", {}).get("rps"), keys, used, t["allocs"], t["frees"], t["bytes_outstanding"], t["blocks_outstanding"]))
assert "SET" in rows and float(rows["SET"]["rps"]) > 0, rows
# 100,000 draws of 10,000 keys: each missed with p = (1 - 1e-4)^1e5 = 4.5e-5, ~0.5 missed
assert keys >= 9990, keys
assert p["exact"] and t["frees"] <= t["allocs"] and t["bytes_freed"] <= t["bytes_allocated"], t
assert 204 * keys <= t["bytes_outstanding"] <= used, (t, keys, used)
assert "setCommand" in fns and "main" in fns, sorted(fns)[:40]
PY
exit 0
