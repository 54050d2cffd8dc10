// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The symbolizer facade on this very process, and the demangler. */
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "t.h"
#include "sym/demangle.h"
#include "sym/symbolizer.h"

__attribute__((noinline)) int sym_target_fn(int x)
{
	return x * 7;
}

static int own_function(void)
{
	struct symbolizer *s = symbolizer__new();
	struct sym_frame f;

	T_ASSERT(s);
	T_ASSERT(!symbolizer__snapshot(s, getpid(), 0));
	symbolizer__user(s, getpid(), 0, (uint64_t)(uintptr_t)&sym_target_fn + 1, false, &f);
	T_ASSERT(f.known);
	T_ASSERT_STR(f.func, "sym_target_fn");
	T_ASSERT_STR(f.module, "test_symbolizer");
	symbolizer__free(s);
	return T_OK;
}

static int libc_function(void)
{
	struct symbolizer *s = symbolizer__new();
	void *fn = dlsym(RTLD_DEFAULT, "getpid");
	struct sym_frame f;

	T_ASSERT(s && fn);
	T_ASSERT(!symbolizer__snapshot(s, getpid(), 0));
	symbolizer__user(s, getpid(), 0, (uint64_t)(uintptr_t)fn, false, &f);
	T_ASSERT(f.known);
	T_ASSERT_STR(f.func, "getpid");
	T_ASSERT_STR(f.module, "libc.so.6");
	symbolizer__free(s);
	return T_OK;
}

/* a return address right after a call at a function's end names the caller */
static int return_address_adjust(void)
{
	struct symbolizer *s = symbolizer__new();
	struct sym_frame a, b;
	uint64_t start = (uint64_t)(uintptr_t)&sym_target_fn;

	T_ASSERT(!symbolizer__snapshot(s, getpid(), 0));
	symbolizer__user(s, getpid(), 0, start, true, &a);
	symbolizer__user(s, getpid(), 0, start, false, &b);
	T_ASSERT_STR(b.func, "sym_target_fn");
	T_ASSERT(strcmp(a.func, "sym_target_fn") != 0);
	symbolizer__free(s);
	return T_OK;
}

/* anonymous code is named by the perf map, or shown as an offset */
static int perf_map_and_unknown(void)
{
	struct symbolizer *s;
	char path[64];
	struct sym_frame f;
	void *mem = mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t a = (uint64_t)(uintptr_t)mem;
	FILE *pm;

	T_ASSERT(mem != MAP_FAILED);
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	pm = fopen(path, "w");
	T_ASSERT(pm);
	fprintf(pm, "%lx 100 jitted_thing\n", (unsigned long)a + 0x100);
	fclose(pm);
	s = symbolizer__new();
	T_ASSERT(!symbolizer__snapshot(s, getpid(), 0));
	symbolizer__user(s, getpid(), 0, a + 0x180, false, &f);
	T_ASSERT(f.known);
	T_ASSERT_STR(f.func, "jitted_thing");
	symbolizer__user(s, getpid(), 0, a + 0x1000, false, &f);
	T_ASSERT(!f.known);
	T_ASSERT_STR(f.func, "[anon]+0x1000");
	/* nothing mapped there at all: still shown, never dropped */
	symbolizer__user(s, getpid(), 0, 0x10, false, &f);
	T_ASSERT(!f.known);
	T_ASSERT_STR(f.func, "[unknown]");
	symbolizer__free(s);
	unlink(path);
	munmap(mem, 8192);
	return T_OK;
}

/* samples of a process that exited resolve from the snapshot */
static int exited_process(void)
{
	struct symbolizer *s = symbolizer__new();
	int pipefd[2];
	struct sym_frame f;
	pid_t pid;
	char c;

	T_ASSERT(!pipe(pipefd));
	pid = fork();
	if (pid == 0) {
		close(pipefd[1]);
		if (read(pipefd[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(pipefd[0]);
	T_ASSERT(!symbolizer__snapshot(s, pid, 0));
	close(pipefd[1]);
	waitpid(pid, NULL, 0);
	T_ASSERT(symbolizer__snapshot(s, pid, 1) < 0);
	/* a later generation without a snapshot falls back to the older one */
	symbolizer__user(s, pid, 3, (uint64_t)(uintptr_t)&sym_target_fn, false, &f);
	T_ASSERT(f.known);
	T_ASSERT_STR(f.func, "sym_target_fn");
	symbolizer__free(s);
	return T_OK;
}

static int kernel_symbols(void)
{
	struct symbolizer *s;
	struct sym_frame f;
	unsigned long long addr = 0;
	char line[256], name[128], type;
	FILE *k;

	if (geteuid())
		return T_SKIP;
	k = fopen("/proc/kallsyms", "r");
	T_ASSERT(k);
	while (fgets(line, sizeof(line), k))
		if (sscanf(line, "%llx %c %127s", &addr, &type, name) == 3 && !strcmp(name, "do_sys_open"))
			break;
	fclose(k);
	if (strcmp(name, "do_sys_open"))
		return T_SKIP;
	s = symbolizer__new();
	symbolizer__kernel(s, addr + 4, false, &f);
	T_ASSERT(f.known);
	T_ASSERT_STR(f.func, "do_sys_open");
	T_ASSERT_STR(f.module, "[kernel]");
	symbolizer__free(s);
	return T_OK;
}

static int demangling(void)
{
	char *d;

	d = demangle("_ZN3foo3barEi");
	T_ASSERT_STR(d, "foo::bar(int)");
	free(d);
	d = demangle("_ZNSt6vectorIiSaIiEE9push_backERKi");
	T_ASSERT_STR(d, "std::vector<int, std::allocator<int> >::push_back(int const&)");
	free(d);
	/* Rust's legacy mangling: the hash suffix goes */
	d = demangle("_ZN4core3fmt5write17h0123456789abcdefE");
	T_ASSERT_STR(d, "core::fmt::write");
	free(d);
	/* escapes, and LLVM's ".llvm.N" suffix */
	d = demangle("_ZN3std2rt10lang_start28_$u7b$$u7b$closure$u7d$$u7d$17h193778884b59623dE.llvm.11176999414974712391");
	T_ASSERT_STR(d, "std::rt::lang_start::{{closure}}");
	free(d);
	d = demangle("_ZN4core3ptr85drop_in_place$LT$std..rt..lang_start$LT$$LP$$RP$$GT$..$u7b$$u7b$closure$u7d$$u7d$$GT$17h0123456789abcdefE");
	T_ASSERT_STR(d, "core::ptr::drop_in_place<std::rt::lang_start<()>::{{closure}}>");
	free(d);
	T_ASSERT(demangle("main") == NULL);
	T_ASSERT(demangle("_Zgarbage") == NULL);
	return T_OK;
}

/* Rust v0 ("_R") names, against c++filt's output recorded in the fixture */
static int demangling_rust_v0(void)
{
	FILE *f = fopen("tests/unit/fixtures/rust_v0.txt", "r");
	char line[8192];
	int n = 0;

	T_ASSERT(f);
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t'), *d;

		if (!tab)
			continue;
		*tab++ = '\0';
		tab[strcspn(tab, "\n")] = '\0';
		d = demangle(line);
		if (!d || strcmp(d, tab))
			fprintf(stderr, "  %s\n  got      %s\n  expected %s\n", line, d ? d : "(null)", tab);
		T_ASSERT(d && !strcmp(d, tab));
		free(d);
		n++;
	}
	fclose(f);
	T_ASSERT(n >= 40);
	/* malformed input never crashes, and yields no name */
	T_ASSERT(demangle("_RNvB9999_3foo") == NULL);
	T_ASSERT(demangle("_RNvCs") == NULL);
	T_ASSERT(demangle("_R") == NULL);
	return T_OK;
}

T_MAIN("symbolizer", T(own_function), T(libc_function), T(return_address_adjust),
       T(perf_map_and_unknown), T(exited_process), T(kernel_symbols), T(demangling), T(demangling_rust_v0))
