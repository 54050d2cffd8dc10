#!/bin/bash
# soak-tests.sh [QUIET [LOADED]] - is `make test` trustworthy?  Runs .ci/run
# (as CI does: CI=true, as root, in a fresh clone of HEAD) QUIET times in a
# row (default 10), then LOADED times (default 3) with both cores kept busy
# by stress-ng.  Prints each run's result line and time, then a summary;
# exits 1 if any run failed.  Logs stay in $SOAK_DIR (default /tmp/soak).
set -u
quiet=${1:-10}
loaded=${2:-3}
top=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel) || exit 1
dir=${SOAK_DIR:-/tmp/soak}
rm -rf "$dir" && mkdir -p "$dir" || exit 1
command -v stress-ng >/dev/null || [ "$loaded" = 0 ] ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq stress-ng >/dev/null ||
	{ echo "soak: stress-ng is missing (apt-get install stress-ng)"; exit 1; }
head=$(git -C "$top" rev-parse HEAD)	# every run tests this commit
echo "soak: $quiet quiet and $loaded loaded runs of .ci/run on fresh clones of ${head:0:12}"
bad=0
run() {	# run N LABEL
	local clone="$dir/clone-$1" log="$dir/run-$1.log" t0 rc last
	git clone -q "$top" "$clone" && git -C "$clone" checkout -q "$head" || return 1
	# shared/ sits beside the clone, as CI has it
	[ -d "$top/../shared" ] && [ ! -e "$dir/shared" ] && ln -s "$(cd "$top/../shared" && pwd)" "$dir/shared"
	t0=$(date +%s)
	(cd "$clone" && CI=true bash .ci/run) </dev/null >"$log" 2>&1
	rc=$?
	last=$(tail -n 1 "$log")
	printf 'run %2d (%s): %s, exit %d, %d s\n' "$1" "$2" "$last" "$rc" $(($(date +%s) - t0))
	[ $rc -eq 0 ] || { grep -E '^FAIL|^failed:' "$log" | sed 's/^/    /'; bad=$((bad + 1)); }
	rm -rf "$clone"
}
for i in $(seq "$quiet"); do
	run "$i" quiet
done
for i in $(seq "$loaded"); do
	stress-ng --cpu "$(nproc)" --timeout 3600s >/dev/null 2>&1 &
	sp=$!
	run $((quiet + i)) "loaded: stress-ng --cpu $(nproc)"
	kill "$sp" 2>/dev/null
	wait "$sp" 2>/dev/null
done
echo "soak: $((quiet + loaded - bad)) of $((quiet + loaded)) runs passed"
[ $bad -eq 0 ]
