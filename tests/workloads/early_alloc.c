// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * early_alloc - mallocs as soon as main() starts: grow_cache() asks for
 * N blocks of 64 bytes (default 700) and keeps them.  Built without frame
 * pointers: a stack that reaches main() was walked by unwind tables, which
 * must be in place before the command's first instruction.
 * usage: early_alloc [N]
 */
#include "workload.h"

void *volatile cache[100000];

noinline void grow_cache(long n)
{
	long i;

	for (i = 0; i < n && i < 100000; i++)
		cache[i] = malloc(64);
}

int main(int argc, char **argv)
{
	grow_cache(argc > 1 ? atol(argv[1]) : 700);
	printf("blocks %ld\n", argc > 1 ? atol(argv[1]) : 700L);
	return 0;
}
