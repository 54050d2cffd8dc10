#!/bin/bash
# The man pages say what --help says (they are made from it by help2man at
# build time: a stale page fails here), `make install` puts them where man
# finds them, and `ebprof help MODE` shows the page, or the help where no
# page is installed.
. "$(dirname "$0")/lib.sh"
command -v man >/dev/null || skip "man is not installed (make deps installs man-db)"
# the letters and digits of a text, in order: the page's line breaks,
# hyphenation and quoting do not count
norm() { tr -cd 'A-Za-z0-9'; }
for m in cpu off wall lat mem stat top record; do
	page=build/man/ebprof-$m.1
	[ "$m" = cpu ] && page=build/man/ebprof.1
	[ -s "$page" ] || fail "$page is missing (make builds it)"
	"$EBPROF" $m --help >"$TMP/help" || fail "ebprof $m --help"
	MANWIDTH=80 man -l "$page" 2>/dev/null | norm >"$TMP/page"
	# every line of the help but its usage line and headings, in the page
	n=0
	while IFS= read -r line; do
		w=$(printf '%s' "$line" | norm)
		[ -n "$w" ] || continue
		n=$((n + 1))
		grep -qF -- "$w" "$TMP/page" || fail "ebprof-$m(1) lacks what --help says: '$line' (make man)"
	done < <(grep -vE '^Usage:|^[A-Z][A-Za-z ()-]*:$' "$TMP/help")
	# and no option the help does not have
	grep -oE -- '--[a-z][a-z-]+' "$TMP/help" | sort -u >"$TMP/hopts"
	MANWIDTH=1000 man -l "$page" 2>/dev/null | grep -oE -- '--[a-z][a-z-]+' | sort -u >"$TMP/popts"
	extra=$(comm -13 "$TMP/hopts" "$TMP/popts" | tr '\n' ' ')
	[ -z "$extra" ] || fail "ebprof-$m(1) has options --help does not: $extra"
	info "ebprof-$m(1): the $n lines of --help, $(wc -l <"$TMP/hopts") long options"
done

# installed where man looks, and shown by ebprof help
make -s install DESTDIR="$TMP/inst" PREFIX=/usr >/dev/null || fail "make install"
for p in ebprof ebprof-cpu ebprof-off ebprof-wall ebprof-lat ebprof-mem ebprof-stat ebprof-top ebprof-record; do
	[ -s "$TMP/inst/usr/share/man/man1/$p.1" ] || fail "make install left out $p.1"
done
[ -x "$TMP/inst/usr/bin/ebprof" ] || fail "make install left out the binary"
[ -s "$TMP/inst/usr/lib/systemd/system/ebprof-record.service" ] || fail "make install left out the systemd unit"
MANPATH=$TMP/inst/usr/share/man MANWIDTH=80 "$EBPROF" help stat >"$TMP/h" 2>&1 || fail "ebprof help stat: $(cat "$TMP/h")"
norm <"$TMP/h" | grep -q "NAMEebprofstatcountwhat" || fail "ebprof help stat did not show ebprof-stat(1): $(head -5 "$TMP/h")"
MANPATH=$TMP/inst/usr/share/man MANWIDTH=80 "$EBPROF" help cpu 2>&1 | grep -q "^NAME" || fail "ebprof help cpu: no page"
# no page installed: the help itself
MANPATH=$TMP/none "$EBPROF" help mem >"$TMP/h" 2>&1 || fail "ebprof help mem without a page"
"$EBPROF" mem --help | cmp -s - "$TMP/h" || fail "ebprof help mem without a page is not its --help"
"$EBPROF" help stats >/dev/null 2>"$TMP/e"; rc=$?
[ $rc = 2 ] && [ "$(wc -l <"$TMP/e")" = 1 ] || fail "ebprof help stats: exit $rc, $(cat "$TMP/e")"
info "make install: the binary, 9 pages and the systemd unit; ebprof help shows them (and --help without them)"
exit 0
