// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * manystacks - burns CPU at the bottom of recursion of varying depth
 * (1..100), so it produces a hundred distinct stacks: enough to
 * overflow small stack maps in the loss-reporting test.
 *
 * usage: manystacks [SECONDS]
 */
#include "workload.h"

noinline void descend(int depth)
{
	if (depth > 0) {
		descend(depth - 1);
		return;
	}
	spin(20000);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3, t0 = now();
	unsigned int seed = 1;

	while (now() - t0 < secs) {
		seed = seed * 1103515245 + 12345;
		descend(1 + (seed >> 16) % 100);
	}
	return 0;
}
