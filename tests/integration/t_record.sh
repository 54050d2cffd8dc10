#!/bin/bash
# ebprof record: a pprof per interval into a directory and to a local
# stand-in for Pyroscope's /ingest (pyro_receiver.py, 127.0.0.1): the
# request's shape, the uploads the same bytes as the files, decoded by
# go tool pprof to cpu_split's 3:1 split and to the samples the intervals
# should hold; the receiver down for a while (nothing lost), down too long
# (the oldest dropped and counted, every profile sent or counted); SIGTERM
# writes and sends the interval it cuts short; --max-disk; --log and
# SIGHUP; the systemd unit.
. "$(dirname "$0")/lib.sh"
need_root
command -v go >/dev/null || fail "go is missing (make deps installs golang-go)"
RX_PID=
# the receiver writing into $1, on port $2 (default any); its port in $PORT
rx_start() {
	mkdir -p "$1"
	rm -f "$1/port"
	python3 tests/integration/pyro_receiver.py "$1" ${2:-0} >"$TMP/rx.log" 2>&1 &
	RX_PID=$!
	PIDS+=("$RX_PID")
	for _ in $(seq 50); do [ -s "$1/port" ] && break; sleep 0.1; done
	[ -s "$1/port" ] || fail "the receiver did not start: $(cat "$TMP/rx.log")"
	PORT=$(cat "$1/port")
}
rx_stop() { kill "$RX_PID"; wait "$RX_PID" 2>/dev/null; }
# a Python expression $2 of each request r in dir $1's requests.jsonl (a tuple: its items)
field() { python3 -c 'import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line); v = eval(sys.argv[2])
    print(" ".join(map(str, v)) if isinstance(v, tuple) else v)' "$1/requests.jsonl" "$2"; }
nreq() { [ -s "$1/requests.jsonl" ] && wc -l <"$1/requests.jsonl" || echo 0; }
HOST=$(hostname | tr -c 'A-Za-z0-9_.\n-' _)

# refused: nowhere to go, a bad URL, a bad label, a command
for args in "-a" "-a --push ftp://x" "-a --out $TMP/o --label 1x=y" "-a --out $TMP/o --label a=b,c" "--out $TMP/o -- true"; do
	$EBPROF record $args >"$TMP/out" 2>"$TMP/err"
	[ $? = 2 ] || fail "record $args: exit $? ($(cat "$TMP/err"))"
done
# --out through a symbolic link: refused, nothing written where it points
mkdir "$TMP/real"
ln -s "$TMP/real" "$TMP/link"
$EBPROF record -a --out "$TMP/link" -d 1 >"$TMP/out" 2>"$TMP/err"
[ $? = 1 ] && grep -q 'symbolic link' "$TMP/err" || fail "--out through a link: $(cat "$TMP/err")"
[ -z "$(ls -A "$TMP/real")" ] || fail "files written through the link"

start "$T/cpu_split" 120
W=$WPID
sleep 0.3

# 1. every interval a file and a request of the right shape, the same bytes
rx_start "$TMP/rx1"
t0=$(date +%s)
$EBPROF record -p "$W" --interval 1 -F 499 --out "$TMP/out1" --push "http://127.0.0.1:$PORT/" --app demo \
	--label env=test --label team=perf -d 6.5 2>"$TMP/err" || fail "record: $(cat "$TMP/err")"
t1=$(date +%s)
cat "$TMP/err"
rx_stop
nf=$(ls "$TMP/out1" | grep -c '^ebprof-cpu-.*\.pb\.gz$')
nr=$(nreq "$TMP/rx1")
info "6.5 s at --interval 1: $nf files, $nr requests"
[ "$nf" = 7 ] && [ "$nr" = 7 ] || fail "not 7 files and 7 requests: $nf, $nr"
[ "$(field "$TMP/rx1" 'r["wrong"]' | sort -u)" = "[]" ] || fail "requests of a wrong shape: $(field "$TMP/rx1" 'r["wrong"]')"
[ "$(field "$TMP/rx1" 'r["query"]["name"]' | sort -u)" = "demo.cpu{host=$HOST,service=demo,env=test,team=perf}" ] ||
	fail "series name: $(field "$TMP/rx1" 'r["query"]["name"]' | sort -u)"
[ "$(field "$TMP/rx1" 'r["query"].get("sampleRate"), r["query"].get("spyName"), r["path"]' | sort -u)" = "499 ebprof /ingest" ] ||
	fail "sampleRate, spyName, path: $(field "$TMP/rx1" 'r["query"].get("sampleRate"), r["query"].get("spyName"), r["path"]' | sort -u)"
# from and until: in order, an interval of about a second each, within the run
field "$TMP/rx1" 'r["query"]["from"], r["query"]["until"]' | awk -v t0="$t0" -v t1="$t1" '
	{ if ($1 < t0 - 1 || $2 > t1 + 1 || $2 - $1 > 2 || $2 < $1 || $1 < last) bad = bad " " $1 "-" $2; last = $1 }
	END { if (bad) { print "from-until out of place:" bad; exit 1 } }' || fail "from/until"
i=0
for f in $(ls "$TMP/out1" | sort); do
	cmp -s "$TMP/out1/$f" "$TMP/rx1/$i.pb.gz" || fail "upload $i is not $f"
	i=$((i + 1))
done
# what go tool pprof reads in them: all the samples of 6.5 s at 499 Hz of one
# busy thread (Poisson: 5 sigma of 3240 is 285), burn_a 75 % of them
go tool pprof -top -sample_index=samples "$TMP"/rx1/*.pb.gz >"$TMP/top1" 2>"$TMP/gerr" || fail "go tool pprof: $(cat "$TMP/gerr")"
n=$(sed -nE 's/.*Total samples = ([0-9]+).*/\1/p' "$TMP/top1")
a=$(awk '$NF == "burn_a" { sub(/%/, "", $5); print $5 }' "$TMP/top1")
info "go tool pprof on the 7 uploads: $n samples, burn_a $a %"
within "$n" 3243 285 || fail "$n samples in 6.5 s at 499 Hz, not 3243 +- 285"
within_binom "$a" 75 "$n" || fail "burn_a $a %"

# 2. the receiver down for 3 s, then back: every profile sent in the end
rx_start "$TMP/rx2"
$EBPROF record -p "$W" --interval 1 --out "$TMP/out2" --push "http://127.0.0.1:$PORT" -d 8.5 2>"$TMP/err2" &
REC=$!
sleep 2
rx_stop
sleep 3
rx_start "$TMP/rx2" "$PORT"
wait "$REC" || fail "record with the receiver down for a while: $(cat "$TMP/err2")"
cat "$TMP/err2"
nf=$(ls "$TMP/out2" | grep -c '\.pb\.gz$')
nr=$(nreq "$TMP/rx2")
info "receiver down 3 s of 8.5: $nf files, $nr requests"
grep -q 'warning: cannot send a profile' "$TMP/err2" || fail "the failure was not said"
[ "$nf" = 9 ] && [ "$nr" = 9 ] || fail "not 9 files and 9 requests: $nf, $nr"
grep -q 'stopped: 9 profiles written, 0 removed for --max-disk; 9 sent, 0 dropped, 0 not sent' "$TMP/err2" ||
	fail "the last line: $(tail -1 "$TMP/err2")"
i=0
for f in $(ls "$TMP/out2" | sort); do
	cmp -s "$TMP/out2/$f" "$TMP/rx2/$i.pb.gz" || fail "after the outage, upload $i is not $f (in order, none lost)"
	i=$((i + 1))
done

# 3. down too long for --max-unsent 2: the oldest dropped and counted; each
# profile is either received or counted as dropped, the newest received
mkdir -p "$TMP/rx3"
rx_start "$TMP/rx3"
rx_stop
rm -f "$TMP/rx3/port"
$EBPROF record -p "$W" --interval 1 --out "$TMP/out3" --push "http://127.0.0.1:$PORT" --max-unsent 2 -d 6.5 \
	2>"$TMP/err3" &
REC=$!
sleep 5
rx_start "$TMP/rx3" "$PORT"
wait "$REC" || fail "record, receiver down too long: $(cat "$TMP/err3")"
cat "$TMP/err3"
nr=$(nreq "$TMP/rx3")
d=$(sed -nE 's/.*stopped: .* ([0-9]+) sent, ([0-9]+) dropped, ([0-9]+) not sent.*/\2/p' "$TMP/err3")
info "--max-unsent 2, receiver down 5 s of 6.5: $nr received, $d dropped"
grep -q 'dropped the oldest' "$TMP/err3" || fail "the drop was not said"
[ "$d" -ge 1 ] && [ $((nr + d)) = 7 ] || fail "received $nr + dropped $d is not the 7 profiles"
i=0
for f in $(ls "$TMP/out3" | sort | tail -n "$nr"); do
	cmp -s "$TMP/out3/$f" "$TMP/rx3/$i.pb.gz" || fail "the received are not the newest: upload $i is not $f"
	i=$((i + 1))
done

# 4. SIGTERM mid-interval: the 2 s cut short written and sent at once
rx_start "$TMP/rx4"
$EBPROF record -p "$W" --interval 60 --out "$TMP/out4" --push "http://127.0.0.1:$PORT" 2>"$TMP/err4" &
REC=$!
sleep 2.5
kill -TERM "$REC"
wait "$REC" || fail "record after SIGTERM exited $?: $(cat "$TMP/err4")"
rx_stop
[ "$(ls "$TMP/out4" | wc -l)" = 1 ] && [ "$(nreq "$TMP/rx4")" = 1 ] || fail "SIGTERM: not one file and one request"
n=$(go tool pprof -top -sample_index=samples "$TMP/rx4/0.pb.gz" 2>/dev/null | sed -nE 's/.*Total samples = ([0-9]+).*/\1/p')
info "SIGTERM after about 2 s: $n samples at 99 Hz"
at_least "$n" 150 && [ "$n" -le 260 ] || fail "SIGTERM's profile has $n samples, not about 2 s of 99 Hz"
[ "$(ebprof_progs)" = 0 ] || fail "BPF programs left after SIGTERM"

# 5. --max-disk: the oldest files go, the newest stay, within the budget
$EBPROF record -p "$W" --interval 1 --out "$TMP/out5" --max-disk 0.0015 -d 6.5 2>"$TMP/err5" || fail "--max-disk: $(cat "$TMP/err5")"
left=$(ls "$TMP/out5" | wc -l)
bytes=$(du -cb "$TMP"/out5/* | tail -1 | cut -f1)
info "--max-disk 0.0015 (1573 bytes): $left files of $bytes bytes left"
grep -qE "stopped: 7 profiles written, $((7 - left)) removed" "$TMP/err5" || fail "--max-disk count: $(tail -1 "$TMP/err5")"
[ "$left" -ge 1 ] && [ "$left" -lt 7 ] && { [ "$bytes" -le 1573 ] || [ "$left" = 1 ]; } || fail "--max-disk: $left files, $bytes bytes"

# 6. --log, and SIGHUP opens it again after logrotate moved it
$EBPROF record -p "$W" --interval 1 --out "$TMP/out6" --log "$TMP/rec.log" -v 2>"$TMP/err6" &
REC=$!
sleep 1.5
mv "$TMP/rec.log" "$TMP/rec.log.1"
kill -HUP "$REC"
sleep 2
kill -TERM "$REC"
wait "$REC" || fail "record with --log: exit $?"
[ ! -s "$TMP/err6" ] || fail "with --log, messages on standard error: $(cat "$TMP/err6")"
grep -q 'recording the processes given' "$TMP/rec.log.1" || fail "the first log has no start line"
grep -q 'log opened again (SIGHUP)' "$TMP/rec.log" && grep -q 'wrote ebprof-cpu-' "$TMP/rec.log" &&
	grep -q 'stopped: ' "$TMP/rec.log" || fail "after SIGHUP, the new log: $(cat "$TMP/rec.log")"

# 7. the systemd unit: valid, with the binary where make install puts it
make -s install DESTDIR="$TMP/inst" PREFIX=/usr >/dev/null || fail "make install"
unit=$TMP/inst/usr/lib/systemd/system/ebprof-record.service
grep -q '^ExecStart=/usr/bin/ebprof record -a ' "$unit" || fail "the unit's ExecStart: $(grep ExecStart "$unit")"
if command -v systemd-analyze >/dev/null; then
	sed "s|/usr/bin/ebprof|$EBPROF|" "$unit" >"$TMP/ebprof-record.service"
	systemd-analyze verify --man=no "$TMP/ebprof-record.service" >"$TMP/v" 2>&1 || fail "systemd-analyze verify: $(cat "$TMP/v")"
fi
exit 0
