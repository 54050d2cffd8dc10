// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fault_split - touch_a() faults in 3 pages for every 1 that touch_b()
 * does: a page-fault profile shows touch_a 75 % and touch_b 25 %.
 * usage: fault_split [ROUNDS]  (each round: 3 + 1 MiB of fresh pages)
 */
#include <sys/mman.h>
#include "workload.h"

static noinline void touch(size_t pages)
{
	char *p = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (p == MAP_FAILED)
		exit(1);
	madvise(p, pages * 4096, MADV_NOHUGEPAGE);
	for (i = 0; i < pages; i++)
		p[i * 4096] = 1;
	munmap(p, pages * 4096);
}

noinline void touch_a(void)
{
	touch(3 * 256);
}

noinline void touch_b(void)
{
	touch(256);
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 200, i;

	maybe_wait_for_go();
	for (i = 0; i < rounds; i++) {
		touch_a();
		touch_b();
	}
	printf("rounds %ld\n", rounds);
	return 0;
}
