#!/bin/bash
# ebprof top in a terminal (tmux: keys by send-keys, the screen by
# capture-pane) against cpu_split's known 3:1 split, every key the help
# names, a resize, and the terminal as it was after q and after SIGTERM.
. "$(dirname "$0")/lib.sh"
need_root
command -v tmux >/dev/null || fail "tmux is missing (make deps installs it)"
# a server of its own for each view: "kill-server" returns before the old
# server has gone, and a session made on its socket meanwhile dies with it
NTM=0
SOCK="$TMP/tmux.$NTM.sock"
tm() { tmux -S "$SOCK" "$@"; }
cleanup_tmux() { tm kill-server 2>/dev/null; cleanup; }
trap cleanup_tmux EXIT
screen() { tm capture-pane -p -t top; }
# wait until the screen has a line matching an ERE (at most 10 s)
wait_for() {
	for _ in $(seq 100); do screen | grep -qE -- "$1" && return 0; sleep 0.1; done
	screen
	fail "the screen never showed /$1/"
}
# the view in a 100x30 terminal, its exit status and stty settings kept
open_top() {
	tm kill-server 2>/dev/null
	NTM=$((NTM + 1))
	SOCK="$TMP/tmux.$NTM.sock"
	rm -f "$TMP/status" "$TMP/stty.before" "$TMP/stty.after"
	tm new-session -d -s top -x 100 -y 30 \
		"stty -g >$TMP/stty.before; $EBPROF top $*; echo \$? >$TMP/status; stty -g >$TMP/stty.after; sleep 600"
	wait_for '^ +SELF% +TOTAL% +FUNCTION'
}
# after the view closed: its status ($1 expected) and the terminal as before
closed() {
	for _ in $(seq 50); do [ -s "$TMP/stty.after" ] && break; sleep 0.1; done
	[ -s "$TMP/stty.after" ] || { screen; fail "ebprof top did not exit"; }
	[ "$(cat "$TMP/status")" = "$1" ] || fail "ebprof top exited $(cat "$TMP/status"), not $1"
	diff "$TMP/stty.before" "$TMP/stty.after" >/dev/null || fail "terminal settings not restored: $(diff "$TMP/stty.before" "$TMP/stty.after")"
	[ "$(ebprof_progs)" = 0 ] || fail "BPF programs left loaded after ebprof top"
}
# a row's column ($2: 1 self, 2 total) for a function (ERE $1), without the %
col() { screen | awk -v re="$1" -v c="$2" '$3 ~ re { sub(/%/, "", $c); print $c; exit }'; }
samples() { screen | sed -n 2p | sed -E 's/.*: ([0-9]+) samples.*/\1/'; }

# refused: not a terminal, a command
$EBPROF top -a </dev/null >"$TMP/out" 2>"$TMP/err"
[ $? = 2 ] && grep -q 'needs a terminal' "$TMP/err" || fail "top without a terminal: $(cat "$TMP/err")"
$EBPROF top -- true >"$TMP/out" 2>"$TMP/err"
[ $? = 2 ] && grep -q 'not a command' "$TMP/err" || fail "top with a command: $(cat "$TMP/err")"

start "$T/cpu_split" 120
W=$WPID
sleep 0.3
open_top -p "$W" -F 999 --delay 0.5 --window 60
wait_for "^ebprof top: pid $W \(cpu_split\) +cpu-clock at 999 Hz"
sleep 6
screen
# the 3:1 split: burn_a's total 75 % of the window's samples, burn_b's 25 %
n=$(samples)
a=$(col '^burn_a$' 2)
b=$(col '^burn_b$' 2)
info "burn_a total $a %, burn_b $b % of $n samples"
within_binom "$a" 75 "$n" || fail "burn_a total $a %, not 75"
within_binom "$b" 25 "$n" || fail "burn_b total $b %, not 25"
# spin_leaf, the frameless leaf, has the self time; main and _start the whole
s=$(screen | sed -n 5p | awk '{ sub(/%/, "", $1); print $1, $3 }')
[ "${s#* }" = spin_leaf ] || fail "the first row is not spin_leaf: $s"
at_least "${s% *}" 98 || fail "spin_leaf self ${s% *} %"
for f in main _start; do
	at_least "$(col "^$f\$" 2)" 99 || fail "$f total $(col "^$f\$" 2) %, not the whole"
done
# s: by total (the first row then has 100 %)
tm send-keys -t top s
wait_for '^sort total, kernel on, by function'
[ "$(screen | sed -n 5p | awk '{ print $2 }')" = 100.00% ] || fail "sorted by total, the first row is not 100 %"
# l: by line, from the DWARF line info cpu_split has
tm send-keys -t top l
wait_for ', by line'
wait_for ' burn_a \(cpu_split\.c:[0-9]+\) '
# /: a filter
tm send-keys -t top l / b u r n Enter
wait_for 'filter: burn'
[ "$(screen | sed -n '5,$p' | grep -c '%')" = 2 ] || { screen; fail "the filter 'burn' does not leave burn_a and burn_b"; }
tm send-keys -t top / BSpace BSpace BSpace BSpace Enter
wait_for '^sort total, kernel on, by function   '
# k: kernel frames off; -a shows what that means below
tm send-keys -t top k
wait_for 'kernel off'
# p: paused, the view stays while sampling goes on; p again: it moves
tm send-keys -t top p
wait_for 'PAUSED'
a=$(screen)
sleep 1.5
[ "$a" = "$(screen)" ] || fail "the view changed while paused"
n=$(samples)
tm send-keys -t top p
sleep 1.2
screen | grep -q PAUSED && fail "still paused"
at_least "$(samples)" $((n + 500)) || fail "no new samples after the pause: $n then $(samples)"
# z: counts from zero
n=$(samples)
tm send-keys -t top z
sleep 0.3
[ "$(samples)" -lt $((n / 2)) ] || fail "z did not reset: $n then $(samples)"
# ?: help, any key closes it
tm send-keys -t top '?'
wait_for '^ebprof top keys'
tm send-keys -t top x
wait_for '^ +SELF% +TOTAL%'
# a smaller terminal: every line within it
tm resize-window -t top -x 60 -y 15
sleep 1.2
[ "$(screen | awk 'length > 60' | wc -l)" = 0 ] || fail "lines wider than 60 columns after a resize"
screen | grep -q "^ *SELF% *TOTAL% FUNCTION" || { screen; fail "no column header after a resize"; }
tm send-keys -t top q
closed 0

# Python: rows by Python function, as the profile's table; py_work.py split
# runs hot() 3 units for each 1 of cold(): hot's total is 75 % of the two
if [ -x /usr/bin/python3.11 ]; then
	start /usr/bin/python3.11 tests/workloads/py_work.py split 60
	PYW=$WPID
	for _ in $(seq 50); do grep -q ready "$TMP/workload.out" && break; sleep 0.1; done
	open_top -p "$PYW" -F 999 --delay 0.5 --window 60
	sleep 6
	screen
	n=$(samples)
	h=$(col '^hot$' 2)
	c=$(col '^cold$' 2)
	screen | grep -qE '^ +[0-9.]+% +[0-9.]+% hot \(py_work\.py\) +py_work\.py' || fail "Python: no 'hot (py_work.py)' row"
	hc=$(screen | awk '$3 == "hot" { sub(/%/, "", $2); h = $2 } $3 == "cold" { sub(/%/, "", $2); c = $2 }
		END { printf "%.2f %d\n", 100 * h / (h + c), (h + c) / 100 * N }' N="$n")
	info "Python: hot $h %, cold $c % of $n samples: hot ${hc% *} % of the two (${hc#* } samples)"
	within_binom "${hc% *}" 75 "${hc#* }" || fail "Python: hot ${hc% *} % of hot and cold, not 75"
	tm send-keys -t top l
	wait_for ' hot \(py_work\.py:[0-9]+\) '
	tm send-keys -t top q
	closed 0
	kill "$PYW"
else
	info "/usr/bin/python3.11 absent: the Python view untested here"
fi

# -a: a COMMAND column; Enter keeps the highlighted row's command only (its
# samples are then the whole), Esc goes back to every process
open_top -a -F 499 --delay 0.5 --window 60
wait_for '^ebprof top: all processes'
sleep 5
screen
screen | grep -qE '^ +SELF% +TOTAL% +FUNCTION +MODULE +COMMAND' || fail "-a: no COMMAND column"
row=$(screen | sed -n 5p)
case $row in *spin_leaf*cpu_split) ;; *) fail "-a: the first row is not cpu_split's spin_leaf: $row" ;; esac
tm send-keys -t top Enter
wait_for '^ebprof top: all processes.* > cpu_split '
screen | grep -q 'COMMAND' && fail "drilled into cpu_split, still a COMMAND column"
n=$(samples)
a=$(col '^burn_a$' 2)
info "-a > cpu_split: burn_a total $a % of $n samples"
within_binom "$a" 75 "$n" || fail "-a > cpu_split: burn_a total $a %, not 75"
tm send-keys -t top Escape
wait_for 'COMMAND'
# kernel frames off: no row of a kernel module, a kernel thread's time as [kernel]
tm send-keys -t top k
wait_for 'kernel off'
sleep 0.5
screen | sed -n '5,$p' | awk '$4 == "[kernel]" { bad = 1 } END { exit !bad }' &&
	fail "kernel off, yet a kernel function's row"
tm send-keys -t top q
closed 0
# the target exits: the view closes and says why
start "$T/cpu_split" 2
open_top -p "$WPID"
wait_for "^ebprof: pid $WPID \(cpu_split\) exited: ebprof top ends with it"
closed 0
# SIGTERM: the view closes, the terminal as it was, nothing left loaded
open_top -a
kill -TERM "$(pgrep -x ebprof)"
closed 0
exit 0
