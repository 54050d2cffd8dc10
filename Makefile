# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
OUTPUT := .output
BUILD := build
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
CC ?= cc
ARCH := $(shell uname -m | sed 's/x86_64/x86/' | sed 's/aarch64/arm64/')
VMLINUX := vmlinux/$(ARCH)/vmlinux.h
PREFIX ?= /usr/local

INCLUDES := -I$(OUTPUT) -Ibpf -Iuser
# system include dirs clang would use for the host, for -target bpf
CLANG_BPF_SYS_INCLUDES ?= $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
CFLAGS ?= -g -O2
CFLAGS += -Wall -Wextra -Werror -D_GNU_SOURCE
PKGS := libbpf libelf libdw zlib libprotobuf-c libdebuginfod ncursesw libcurl
LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lstdc++ -lm -lpthread
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
# modules without libbpf: unit-tested, also under sanitizers
PURE_SRCS := user/cli.c user/profile.c user/util/strmap.c \
	user/sym/procmaps.c user/sym/elf.c user/sym/kallsyms.c user/sym/perfmap.c \
	user/sym/demangle.c user/sym/rust_v0.c user/sym/symbolizer.c user/unwind.c \
	user/render/common.c user/render/table.c user/render/folded.c \
	user/render/json.c user/render/flamegraph.c user/render/lines.c user/pyframes.c user/stat_report.c user/mem_report.c \
	user/top_model.c user/pyalloc.c \
	user/stacks.c user/mem_budget.c user/render/pprof.c user/render/speedscope.c user/lat_report.c
BPF_USER_SRCS := user/main.c user/session.c user/run.c user/mode_cpu.c user/mode_mem.c user/mode_off.c user/python.c \
	user/uprobes.c user/mode_lat.c \
	user/mode_stat.c user/debuginfod.c user/top.c user/record.c user/mem_preload.c
# pprof's messages, generated from proto/profile.proto by protoc-c
PROTO_OBJ := $(OUTPUT)/obj/profile.pb-c.o
PURE_OBJS := $(patsubst user/%.c,$(OUTPUT)/obj/%.o,$(PURE_SRCS)) $(PROTO_OBJ)
BPF_USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/obj/%.o,$(BPF_USER_SRCS))
HDRS := $(wildcard user/*.h user/*/*.h bpf/*.h)

UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
# libFuzzer harnesses for every parser of outside data (tests/fuzz)
FUZZERS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Wall -Wextra -Werror -D_GNU_SOURCE
FUZZ_SECONDS ?= 60
TOOLS := cpu_split threads syscalls pie_main jit forker manystacks cxx_hot symbench \
	qsort_deep cxx_exc threads_nofp dlopen_late libdl_hot.so sigframe unwindbench rust_hot \
	sleeper toucher forkmany fault_split pingpong rusage_of insn_loop alloc_work alloc_own py_embed early_alloc \
	thread_churn offcpu liblatwork.so latwork latcxx verifier_cost

ifeq ($(V),1)
	Q =
	msg =
else
	Q = @
	msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: man all deps bench-deps check-deps vmlinux test test-unit test-integration bench soak soak-tests fuzz fuzz-build demo install clean tools

all: $(BUILD)/ebprof man

check-deps:
	$(Q)tools/check-deps.sh

deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq make gcc g++ clang llvm libclang-rt-14-dev pkg-config \
		libbpf-dev bpftool libelf-dev libdw-dev zlib1g-dev libprotobuf-c-dev protobuf-c-compiler libdebuginfod-dev \
		libncurses-dev libcurl4-gnutls-dev tmux binutils python3 procps util-linux nodejs golang-go help2man man-db \
		gdb rustc linux-perf valgrind libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 \
		redis-server redis-tools stress-ng debuginfod python3-memory-profiler python3-line-profiler \
		>/dev/null
	@# the tests' npm packages, at the versions tests/npm/package-lock.json pins
	npm ci --prefix tests/npm --no-audit --no-fund --silent
	@echo "ebprof: build and test dependencies installed"

# the peers make bench compares with
bench-deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf bpftrace time austin libbpf-tools heaptrack >/dev/null

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX)

$(OUTPUT) $(OUTPUT)/obj $(OUTPUT)/tests $(OUTPUT)/tests-asan $(OUTPUT)/tools $(BUILD):
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(VMLINUX) | $(OUTPUT) check-deps
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(dir $(VMLINUX)) -Ibpf \
		$(CLANG_BPF_SYS_INCLUDES) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

# the headers a mode's .bpf.c includes each compile on their own
# (unwind.bpf.h is a part of ustack.bpf.h)
BPF_SHARED_HDRS := bpf/stats.bpf.h bpf/ustack.bpf.h bpf/python.bpf.h bpf/targets.bpf.h
$(OUTPUT)/bpf-headers.ok: $(wildcard bpf/*.h) $(VMLINUX) | $(OUTPUT) check-deps
	$(call msg,BPF-HDR,$(BPF_SHARED_HDRS))
	$(Q)for h in $(BPF_SHARED_HDRS); do \
		$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(dir $(VMLINUX)) -Ibpf \
			$(CLANG_BPF_SYS_INCLUDES) -fsyntax-only -x c $$h || exit 1; done
	$(Q)touch $@

# every program is named eb_*: how the tests find ebprof's programs left
# behind, whichever mode loaded them
$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o $(OUTPUT)/bpf-headers.ok
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp
	$(Q)! grep -o 'struct bpf_program \*[a-z0-9_]*;' $@.tmp | grep -v ' \*eb_' || \
		{ echo "$<: BPF programs must be named eb_* (tests/integration/lib.sh)"; rm -f $@.tmp; exit 1; }
	$(Q)mv $@.tmp $@

$(OUTPUT)/profile.pb-c.c $(OUTPUT)/profile.pb-c.h: proto/profile.proto | $(OUTPUT) check-deps
	$(call msg,PROTOC,$@)
	$(Q)protoc-c --c_out=$(OUTPUT) --proto_path=proto $<

$(PROTO_OBJ): $(OUTPUT)/profile.pb-c.c $(OUTPUT)/profile.pb-c.h | $(OUTPUT)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -c $< -o $@

$(OUTPUT)/obj-asan/profile.pb-c.o: $(OUTPUT)/profile.pb-c.c $(OUTPUT)/profile.pb-c.h | $(OUTPUT)/obj
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $(INCLUDES) -c $< -o $@

$(OUTPUT)/obj/%.o: user/%.c $(HDRS) $(BPF_SKELS) $(OUTPUT)/profile.pb-c.h | $(OUTPUT)/obj
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -c $< -o $@

# ebprof mem's interposer, preloaded into a launched command: a library of
# its own (no ebprof code, no libm), carried in the binary
EBMEM_SO := $(OUTPUT)/libebprof-mem.so
$(EBMEM_SO): user/preload/ebmem.c user/memshm.h | $(OUTPUT)
	$(call msg,CC-SO,$@)
	$(Q)$(CC) -O2 -fPIC -shared -fvisibility=hidden -fno-builtin -ftls-model=initial-exec \
		-Wall -Wextra -Werror -D_GNU_SOURCE -Wl,-soname,libebprof-mem.so -Wl,-z,now -s $< -o $@

$(OUTPUT)/obj/ebmem_blob.o: user/preload/blob.S $(EBMEM_SO) | $(OUTPUT)/obj
	$(call msg,AS,$@)
	$(Q)$(CC) -c -DEBMEM_SO='"$(EBMEM_SO)"' $< -o $@

$(BUILD)/ebprof: $(PURE_OBJS) $(BPF_USER_OBJS) $(OUTPUT)/obj/ebmem_blob.o | $(BUILD)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# the pure sources, built once into a library the unit tests link, plain
# and with ASan+UBSan
$(OUTPUT)/obj-asan/%.o: user/%.c $(HDRS) $(BPF_SKELS) $(OUTPUT)/profile.pb-c.h | $(OUTPUT)/obj
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $(INCLUDES) -c $< -o $@

$(OUTPUT)/libpure.a: $(PURE_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUTPUT)/libpure-asan.a: $(patsubst user/%.c,$(OUTPUT)/obj-asan/%.o,$(PURE_SRCS)) $(OUTPUT)/obj-asan/profile.pb-c.o
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# unit tests: one binary per module, plain and with ASan+UBSan
$(OUTPUT)/tests/%: tests/unit/%.c tests/unit/t.h $(OUTPUT)/libpure.a $(HDRS) | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -Itests/unit $< $(OUTPUT)/libpure.a $(LDLIBS) -o $@

$(OUTPUT)/tests-asan/%: tests/unit/%.c tests/unit/t.h $(OUTPUT)/libpure-asan.a $(HDRS) | $(OUTPUT)/tests-asan
	$(call msg,TEST-SAN,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $(INCLUDES) -Itests/unit $< $(OUTPUT)/libpure-asan.a $(LDLIBS) -o $@

# workloads with a profile known by construction (tests/workloads), built
# into .output/tools with the benchmarks; frame pointers on
TOOL_CFLAGS := -O2 -g -fno-omit-frame-pointer -fno-inline -fno-optimize-sibling-calls -Wall -Wextra -Werror
$(OUTPUT)/tools/libhot.so: tests/workloads/libhot.c tests/workloads/workload.h | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(TOOL_CFLAGS) -fPIC -shared $< -o $@
$(OUTPUT)/tools/pie_main: tests/workloads/pie_main.c tests/workloads/workload.h $(OUTPUT)/tools/libhot.so
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(TOOL_CFLAGS) -fPIE -pie $< -L$(OUTPUT)/tools -lhot -Wl,-rpath,'$$ORIGIN' -o $@
$(OUTPUT)/tools/liblatwork.so: tests/workloads/liblatwork.c tests/workloads/workload.h | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(TOOL_CFLAGS) -fPIC -shared $< -o $@
$(OUTPUT)/tools/latwork: tests/workloads/latwork.c tests/workloads/workload.h $(OUTPUT)/tools/liblatwork.so
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(TOOL_CFLAGS) $< -L$(OUTPUT)/tools -llatwork -Wl,-rpath,'$$ORIGIN' -o $@
$(OUTPUT)/tools/latcxx: tests/workloads/latcxx.cpp | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CXX) $(TOOL_CFLAGS) $< -o $@
$(OUTPUT)/tools/threads: tests/workloads/threads.c tests/workloads/workload.h | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(TOOL_CFLAGS) $< -pthread -o $@
$(OUTPUT)/tools/thread_churn: tests/workloads/thread_churn.c tests/workloads/workload.h | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(TOOL_CFLAGS) $< -pthread -o $@
$(OUTPUT)/tools/offcpu: tests/workloads/offcpu.c tests/workloads/workload.h | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(TOOL_CFLAGS) $< -pthread -o $@
$(OUTPUT)/tools/pingpong: tests/workloads/pingpong.c tests/workloads/workload.h | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(TOOL_CFLAGS) $< -pthread -o $@
# production-like builds: no frame pointers, only .eh_frame to unwind with
NOFP_CFLAGS := -O2 -g -fomit-frame-pointer -Wall -Wextra -Werror
$(OUTPUT)/tools/qsort_deep: tests/workloads/qsort_deep.c tests/workloads/workload.h | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(NOFP_CFLAGS) $< -o $@
$(OUTPUT)/tools/sigframe: tests/workloads/sigframe.c tests/workloads/workload.h | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(NOFP_CFLAGS) $< -o $@
$(OUTPUT)/tools/threads_nofp: tests/workloads/threads.c tests/workloads/workload.h | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(NOFP_CFLAGS) $< -pthread -o $@
$(OUTPUT)/tools/cxx_exc: tests/workloads/cxx_exc.cpp | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CXX) $(NOFP_CFLAGS) $< -o $@
$(OUTPUT)/tools/libdl_hot.so: tests/workloads/libdl_hot.c tests/workloads/workload.h | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(NOFP_CFLAGS) -fPIC -shared $< -o $@
$(OUTPUT)/tools/dlopen_late: tests/workloads/dlopen_late.c tests/workloads/workload.h | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(NOFP_CFLAGS) $< -ldl -o $@
$(OUTPUT)/tools/early_alloc: tests/workloads/early_alloc.c tests/workloads/workload.h | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(NOFP_CFLAGS) $< -o $@
$(OUTPUT)/tools/py_embed: tests/workloads/py_embed.c tests/workloads/workload.h | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(TOOL_CFLAGS) $< -ldl -o $@
$(OUTPUT)/tools/unwindbench: tools/unwindbench.c $(OUTPUT)/libpure.a $(HDRS) | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $< $(OUTPUT)/libpure.a $(LDLIBS) -o $@
# Rust when Debian's rustc is there (the test skips otherwise)
# (Debian's, which a fresh machine gets from make deps, before a rustup one)
RUSTC ?= $(shell test -x /usr/bin/rustc && echo /usr/bin/rustc || echo rustc)
$(OUTPUT)/tools/rust_hot: tests/workloads/rust_hot.rs | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)if command -v $(RUSTC) >/dev/null; then $(RUSTC) -O -g -C force-frame-pointers=no $< -o $@ && \
		$(RUSTC) -O -g -C force-frame-pointers=no -C symbol-mangling-version=v0 $< -o $@_v0; \
	else echo "  (rustc missing: Rust unwinding test skipped)"; fi
$(OUTPUT)/tools/cxx_hot: tests/workloads/cxx_hot.cpp | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CXX) $(TOOL_CFLAGS) $< -o $@
$(OUTPUT)/tools/verifier_cost: tools/verifier_cost.c | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LDLIBS) -o $@
$(OUTPUT)/tools/symbench: tools/symbench.c $(OUTPUT)/libpure.a $(HDRS) | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $< $(OUTPUT)/libpure.a $(LDLIBS) -o $@
$(OUTPUT)/tools/%: tests/workloads/%.c tests/workloads/workload.h | $(OUTPUT)/tools
	$(call msg,TOOL,$@)
	$(Q)$(CC) $(TOOL_CFLAGS) -no-pie $< -o $@

tools: $(addprefix $(OUTPUT)/tools/,$(TOOLS) libhot.so)

test-unit: $(addprefix $(OUTPUT)/tests/,$(UNIT_TESTS)) $(addprefix $(OUTPUT)/tests-asan/,$(UNIT_TESTS)) $(OUTPUT)/tests/sym_fixture \
	fuzz-build
test-integration: all tools

$(OUTPUT)/tests/sym_fixture: tests/unit/fixtures/sym_fixture.c | $(OUTPUT)/tests
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) -O1 -g -fPIE -pie -Wl,--build-id $< -o $@
	$(Q)cp $@ $@.stripped && strip --strip-all $@.stripped
	$(Q)cd $(dir $@) && objcopy --only-keep-debug sym_fixture sym_fixture.debug && \
		objcopy --strip-all --add-gnu-debuglink=sym_fixture.debug sym_fixture sym_fixture.linked

$(OUTPUT)/fuzz:
	$(Q)mkdir -p $@
$(OUTPUT)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(PURE_SRCS) $(HDRS) $(OUTPUT)/profile.pb-c.c | $(OUTPUT)/fuzz
	$(call msg,FUZZER,$@)
	$(Q)$(CLANG) $(FUZZ_FLAGS) $(INCLUDES) -Itests/fuzz $< $(PURE_SRCS) $(OUTPUT)/profile.pb-c.c $(LDLIBS) -o $@
# ELF seeds are built, not kept in git: the fixtures the unit tests build
$(OUTPUT)/fuzz/seeds-elf: $(OUTPUT)/tests/sym_fixture $(OUTPUT)/tools/libhot.so | $(OUTPUT)/fuzz
	$(Q)rm -rf $@ && mkdir -p $@
	$(Q)cp $(OUTPUT)/tests/sym_fixture $(OUTPUT)/tests/sym_fixture.stripped $(OUTPUT)/tests/sym_fixture.debug \
		$(OUTPUT)/tests/sym_fixture.linked $(OUTPUT)/tools/libhot.so $@/
fuzz-build: $(addprefix $(OUTPUT)/fuzz/,$(FUZZERS)) $(OUTPUT)/fuzz/seeds-elf

# each fuzzer for FUZZ_SECONDS from its seeds; new inputs go to .output, not git
fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh $(FUZZ_SECONDS)

test: test-unit test-integration
	$(Q)tests/run.sh

bench: all tools
	$(Q)tools/bench.sh

# 30 minutes of -a -F 999 with process and thread churn (SOAK_MIN=N for N)
soak: all tools
	$(Q)tools/soak.sh

# is make test trustworthy?  10 CI runs on fresh clones, 3 more with the cores busy (~2.5 h)
soak-tests:
	$(Q)tools/soak-tests.sh $(QUIET) $(LOADED)

# man pages from each mode's --help (help2man), so that they cannot drift
# from it; ebprof-cpu(1) is ebprof(1)
MAN_MODES := off wall lat mem stat top record
MAN_PAGES := $(BUILD)/man/ebprof.1 $(BUILD)/man/ebprof-cpu.1 $(MAN_MODES:%=$(BUILD)/man/ebprof-%.1)
man_name_ := sample where processes spend their CPU time, with kernel, native and Python stacks
man_name_off := where threads wait: time off the CPU, by stack
man_name_wall := where wall-clock time goes: on and off the CPU, by stack
man_name_lat := how long each call of a function takes: counts, percentiles, histogram
man_name_mem := allocations, leaks and RSS growth, by stack
man_name_stat := count what a command or processes do, as time and perf stat do
man_name_top := a live view of where processes spend their CPU time
man_name_record := continuous profiling: a pprof per interval, to files or Pyroscope
man: $(MAN_PAGES)

$(BUILD)/man:
	$(Q)mkdir -p $@

$(OUTPUT)/see-also.h2m: | $(OUTPUT)
	$(Q)printf '[SEE ALSO]\nebprof(1), ebprof-off(1), ebprof-wall(1), ebprof-lat(1), ebprof-mem(1), ebprof-stat(1), ebprof-top(1), ebprof-record(1); the docs/ directory of the source tree for examples and how it works.\n' >$@

man_mode = $(patsubst ebprof-%,%,$(patsubst ebprof,,$(basename $(notdir $@))))
$(BUILD)/man/ebprof.1 $(MAN_MODES:%=$(BUILD)/man/ebprof-%.1): $(BUILD)/ebprof $(OUTPUT)/see-also.h2m tools/gen-man.sh | $(BUILD)/man
	$(call msg,MAN,$@)
	$(Q)tools/gen-man.sh ./$(BUILD)/ebprof "$(man_mode)" "$(man_name_$(man_mode))" $(OUTPUT)/see-also.h2m $@

$(BUILD)/man/ebprof-cpu.1: | $(BUILD)/man
	$(Q)printf '.so man1/ebprof.1\n' >$@

# installs what is missing, builds, and profiles a bundled workload
demo:
	$(Q)tools/check-deps.sh 2>/dev/null || $(MAKE) deps
	$(Q)$(MAKE) all tools
	$(Q)tools/demo.sh

install: $(BUILD)/ebprof man
	install -D -m 0755 $(BUILD)/ebprof $(DESTDIR)$(PREFIX)/bin/ebprof
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0644 $(MAN_PAGES) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|/usr/local/bin/ebprof|$(PREFIX)/bin/ebprof|' tools/ebprof-record.service \
		>$(DESTDIR)$(PREFIX)/lib/systemd/system/ebprof-record.service

clean:
	rm -rf $(OUTPUT) $(BUILD)
