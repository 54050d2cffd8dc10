// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * jit - behaves like a JIT: writes a hot loop into an anonymous executable
 * mapping, names it in /tmp/perf-PID.map, and calls it there.
 *
 * usage: jit [SECONDS]
 */
#include <string.h>
#include <sys/mman.h>
#include "workload.h"

/* mov %rdi,%rax; 1: dec %rax; jnz 1b; ret */
static const unsigned char code[] = { 0x48, 0x89, 0xf8, 0x48, 0xff, 0xc8, 0x75, 0xfb, 0xc3 };

noinline void run_jitted(void (*fn)(unsigned long))
{
	fn(1000000);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3, t0;
	void (*fn)(unsigned long);
	char path[64];
	FILE *f;
	void *mem;

	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	/* put it mid-page, as JITs rarely start at a page boundary */
	memcpy((char *)mem + 256, code, sizeof(code));
	if (mprotect(mem, 4096, PROT_READ | PROT_EXEC))
		return 1;
	fn = (void (*)(unsigned long))((char *)mem + 256);
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, "%lx %zx jit_hot_loop\n", (unsigned long)fn, sizeof(code));
	fclose(f);
	maybe_wait_for_go();
	t0 = now();
	while (now() - t0 < secs)
		run_jitted(fn);
	unlink(path);
	return 0;
}
