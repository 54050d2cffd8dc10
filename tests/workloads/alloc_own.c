// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * alloc_own - a program with its own allocator linked in: malloc, free,
 * calloc, realloc and the aligned ones are defined here (a bump arena with
 * a size header, frees kept on one list), so every caller, libc's too,
 * gets these and not libc's.  ebprof mem must find them in the executable.
 *
 *   alloc_own N S M [R]  f() keeps N blocks of S bytes; g() mallocs and
 *                        frees M blocks of 48 bytes; then R more rounds of
 *                        g(), 0.1 s apart
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include "workload.h"

#define ARENA (256UL << 20)

static char *arena, *top;

struct hdr {
	size_t size;
	size_t pad;
};

static void *bump(size_t size, size_t align)
{
	char *p;

	if (!arena) {
		arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (arena == MAP_FAILED)
			abort();
		top = arena;
	}
	p = (char *)(((uintptr_t)top + sizeof(struct hdr) + align - 1) & ~(uintptr_t)(align - 1));
	if (p + size > arena + ARENA)
		return NULL;
	((struct hdr *)p)[-1].size = size;
	top = p + size;
	return p;
}

noinline void *malloc(size_t size) { return bump(size, 16); }
static void *volatile last_freed;

noinline void free(void *p) { last_freed = p; }	/* kept: nothing reuses it */
noinline void *calloc(size_t n, size_t s) { return bump(n * s, 16); }	/* the arena is zero */
noinline void *realloc(void *old, size_t size)
{
	void *p = bump(size, 16);

	if (p && old) {
		size_t o = ((struct hdr *)old)[-1].size;

		memcpy(p, old, o < size ? o : size);
	}
	return p;
}
noinline void *aligned_alloc(size_t a, size_t s) { return bump(s, a < 16 ? 16 : a); }
noinline void *memalign(size_t a, size_t s) { return bump(s, a < 16 ? 16 : a); }
noinline int posix_memalign(void **p, size_t a, size_t s)
{
	*p = bump(s, a < 16 ? 16 : a);
	return *p ? 0 : 12;
}

static void *volatile keep;

noinline void **f(int n, size_t s)
{
	void **v = mmap(NULL, n * sizeof(*v), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int i;

	for (i = 0; i < n; i++)
		v[i] = malloc(s);
	return v;
}

noinline void g(int m)
{
	int i;

	for (i = 0; i < m; i++) {
		keep = malloc(48);
		free(keep);
	}
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100, m = argc > 3 ? atoi(argv[3]) : 1000;
	int r = argc > 4 ? atoi(argv[4]) : 0, i;
	size_t s = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000;

	maybe_wait_for_go();
	keep = f(n, s);
	g(m);
	for (i = 0; i < r; i++) {
		usleep(100000);
		g(m);
	}
	return 0;
}
