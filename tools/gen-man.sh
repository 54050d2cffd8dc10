#!/bin/sh
# gen-man.sh EBPROF MODE NAME SEE_ALSO OUT - the man page of ebprof MODE
# (empty MODE: ebprof(1), the cpu mode and the list of modes) from its
# --help, by help2man, so that the page cannot drift from the help.
set -e
ebprof=$1 mode=$2 name=$3 see=$4 out=$5
help2man --no-info --section=1 --include="$see" --name="$name" \
	--help-option="${mode:+$mode }--help" --version-option="${mode:+$mode }--version" \
	--output="$out.tmp" "$ebprof"
if [ -n "$mode" ]; then
	upper=$(echo "$mode" | tr a-z A-Z)
	sed -i -e "s/^\.TH EBPROF /.TH EBPROF-$upper /" -e "s/^ebprof \\\\- /ebprof-$mode \\\\- /" "$out.tmp"
fi
mv "$out.tmp" "$out"
