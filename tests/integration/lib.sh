# Helpers for the integration tests: sourced, not run.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
EBPROF=$PWD/build/ebprof
T=$PWD/.output/tools
TMP=$(mktemp -d /tmp/ebprof-test.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 2; }
info() { echo "  $*"; }

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	[ -r /sys/kernel/btf/vmlinux ] || skip "kernel has no BTF"
}

# start a workload in the background; its pid in $WPID
start() {
	"$@" >"$TMP/workload.out" 2>&1 &
	WPID=$!
	PIDS+=("$WPID")
}

# start a workload held before its work (WAIT_FOR_SIGUSR1=1) and wait
# until it says it is ready; release it with "kill -USR1 $WPID"
start_held() {
	WAIT_FOR_SIGUSR1=1 start "$@"
	for _ in $(seq 50); do grep -q ready "$TMP/workload.out" && return; sleep 0.1; done
	fail "$1 never became ready"
}

# "$@", an ebprof attaching to the held $WPID (start_held), run while
# $WPID does its work: attached, $WPID released and waited for, then
# ebprof stopped if it has not stopped with it; its output in
# $TMP/attached.out; its exit status
run_attached() {
	local e
	"$@" >"$TMP/attached.out" 2>&1 &
	e=$!
	sleep 1.5
	kill -USR1 "$WPID"
	wait "$WPID"
	kill -INT "$e" 2>/dev/null
	wait "$e"
}

# samples in a folded file
total() { awk '{ n += $NF } END { print n + 0 }' "$1"; }
# percentage of samples whose stack matches an awk regex
share() {
	awk -v re="$2" '{ n += $NF; line = $0; sub(/ [0-9]+$/, "", line); if (line ~ re) m += $NF }
		END { if (!n) print 0; else printf "%.2f\n", 100 * m / n }' "$1"
}
# Is a share of $1 % within K (default 5) binomial sigmas of $2 % for $3
# samples?  sigma = 100 sqrt(p (1 - p) / n): at p = 75 % and n = 3000,
# 0.79 %, so the bound is 3.95 %; at p = 50 % and n = 1000, 7.9 %.  Says
# the bound it used.
within_binom() {
	awk -v v="$1" -v p="$2" -v n="$3" -v k="${4:-5}" 'BEGIN {
		d = k * 100 * sqrt((p / 100) * (1 - p / 100) / (n > 0 ? n : 1))
		printf "  (%s %% against %s %% +- %.2f: %s binomial sigmas of %d samples)\n", v, p, d, k, n
		exit !(n > 0 && v >= p - d && v <= p + d) }'
}
# is $1 within $2 +- $3?
within() { awk -v v="$1" -v c="$2" -v d="$3" 'BEGIN { exit !(v >= c - d && v <= c + d) }'; }
at_least() { awk -v v="$1" -v m="$2" 'BEGIN { exit !(v >= m) }'; }

# ebprof's BPF programs still loaded anywhere: every one is named eb_*
# (the build checks it), whatever mode loaded it
ebprof_progs() {
	bpftool prog show 2>/dev/null | grep -c ' name eb_'
}
