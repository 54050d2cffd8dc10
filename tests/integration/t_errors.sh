#!/bin/bash
# Bad input: one clear line on stderr, a non-zero exit, nothing on stdout.
. "$(dirname "$0")/lib.sh"
need_root
# expect STATUS PATTERN -- ARGS...: exit STATUS, one line matching PATTERN
expect() {
	local want=$1 pat=$2 rc lines
	shift 3
	"$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
	lines=$(wc -l <"$TMP/err")
	info "[$rc] $(cat "$TMP/err")"
	[ "$rc" -eq "$want" ] || fail "'$*' exited $rc, expected $want"
	[ "$lines" -eq 1 ] || fail "'$*' printed $lines lines: $(cat "$TMP/err")"
	grep -qE "$pat" "$TMP/err" || fail "'$*': message does not match '$pat'"
	[ ! -s "$TMP/out" ] || fail "'$*' wrote to stdout: $(cat "$TMP/out")"
}
expect 2 'nothing to profile' -- $EBPROF
expect 2 "unknown option '--bogus'" -- $EBPROF -a --bogus
expect 2 "invalid frequency '0'" -- $EBPROF -a -F 0
expect 2 "invalid PID list 'abc'" -- $EBPROF -p abc
expect 2 "only one of" -- $EBPROF -p 1 -a
expect 2 "needs a value" -- $EBPROF -p
expect 2 "unknown format 'xml'" -- $EBPROF -a --format xml
expect 1 'no process with pid 999999' -- $EBPROF -p 999999
expect 127 "cannot run 'no-such-command-ebprof': command not found" -- $EBPROF -- no-such-command-ebprof
expect 127 "cannot run '/etc/passwd': Permission denied" -- $EBPROF -- /etc/passwd
expect 3 'no BTF' -- env EBPROF_SYSFS_BTF=/nonexistent $EBPROF -p $$
if command -v setpriv >/dev/null; then
	cp "$EBPROF" "$TMP/ebprof" && chmod 755 "$TMP" "$TMP/ebprof"
	expect 1 'run ebprof as root' -- setpriv --reuid=65534 --regid=65534 --clear-groups "$TMP/ebprof" -p $$
fi
# a hardware event on a machine without a PMU, or a software one that works
if perf stat -e cycles true 2>&1 | grep -q 'not supported'; then
	expect 1 "event 'cycles' is not supported on this machine" -- $EBPROF -e cycles -p $$ -d 1
fi
# never write through a symbolic link
echo keep >"$TMP/victim"
ln -s "$TMP/victim" "$TMP/link.svg"
expect 1 "refusing to write '.*link.svg': it is a symbolic link" -- $EBPROF -a -d 1 -o "$TMP/link.svg"
[ "$(cat "$TMP/victim")" = keep ] || fail "the symlink's target was overwritten"
# a device or a FIFO is written as it is, never replaced by a file (-o
# /dev/null once turned /dev/null into a regular file: the output went to
# a temporary file renamed over it)
mknod "$TMP/null" c 1 3
for mode in cpu mem; do
	$EBPROF $mode -o "$TMP/null" -- "$T/cpu_split" 0.2 >/dev/null 2>"$TMP/err" || fail "$mode -o a device: $(cat "$TMP/err")"
	[ -c "$TMP/null" ] || fail "$mode -o a device replaced it: $(ls -l "$TMP/null")"
	[ -z "$(ls "$TMP" | grep 'null\.')" ] || fail "$mode -o a device left a file beside it: $(ls "$TMP")"
done
mkfifo "$TMP/fifo"
cat "$TMP/fifo" >"$TMP/from-fifo" &
$EBPROF -f folded -o "$TMP/fifo" -- "$T/cpu_split" 0.2 >/dev/null 2>"$TMP/err" || fail "-o a FIFO: $(cat "$TMP/err")"
wait
[ -p "$TMP/fifo" ] && grep -q 'spin_leaf' "$TMP/from-fifo" || fail "-o a FIFO: $(ls -l "$TMP/fifo"; head -2 "$TMP/from-fifo")"
info "-o a device or a FIFO: written through, left as it was"
[ "$(ebprof_progs)" -eq 0 ] || fail "BPF programs left behind"
exit 0
