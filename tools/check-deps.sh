#!/bin/sh
# One line per missing build dependency, naming the Debian package.
missing=0
need_cmd() {	# command package
	command -v "$1" >/dev/null 2>&1 && return
	echo "ebprof: '$1' is missing: install the Debian package '$2' (or run 'make deps')" >&2
	missing=1
}
need_pc() {	# pkg-config-name package
	pkg-config --exists "$1" 2>/dev/null && return
	echo "ebprof: library '$1' is missing: install the Debian package '$2' (or run 'make deps')" >&2
	missing=1
}
need_cmd pkg-config pkg-config
need_cmd clang clang
need_cmd llvm-strip llvm
need_cmd bpftool bpftool
need_pc libbpf libbpf-dev
need_pc libelf libelf-dev
need_pc libdw libdw-dev
need_pc zlib zlib1g-dev
need_pc libprotobuf-c libprotobuf-c-dev
need_pc libdebuginfod libdebuginfod-dev
need_pc ncursesw libncurses-dev
need_pc libcurl libcurl4-gnutls-dev
need_cmd protoc-c protobuf-c-compiler
need_cmd help2man help2man
exit $missing
