// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * qsort_deep - built -O2 -fomit-frame-pointer, as production code is: main
 * -> run -> 12 levels of descend() -> sort_once -> libc's qsort -> cmp ->
 * hot, where nearly all the time goes.  Frame pointers cannot walk this;
 * unwind tables must.
 *
 * usage: qsort_deep [SECONDS | -r ROUNDS]
 * With -r, prints "work_s T rounds R": the bench's self-timed work.
 */
#include <stdlib.h>
#include <string.h>
#include "workload.h"

#define N 4096

static int data[N];

noinline int hot(int a, int b)
{
	unsigned long x = (unsigned long)a;

	spin(200);	/* the comparison is expensive on purpose */
	sink += x;
	return (a > b) - (a < b);
}

static int cmp(const void *a, const void *b)
{
	int r = hot(*(const int *)a, *(const int *)b);

	sink++;	/* not a tail call: cmp keeps its frame */
	return r;
}

noinline void sort_once(void)
{
	unsigned int i, seed = 7;

	for (i = 0; i < N; i++) {
		seed = seed * 1103515245 + 12345;
		data[i] = seed >> 8;
	}
	qsort(data, N, sizeof(data[0]), cmp);
	sink += data[0];
}

noinline int descend(int depth)
{
	int r;

	if (depth == 0) {
		sort_once();
		return 0;
	}
	r = descend(depth - 1);
	sink += depth;	/* not a tail call */
	return r + 1;
}

noinline void run(double secs)
{
	double t0 = now();

	while (now() - t0 < secs)
		descend(12);
}

int main(int argc, char **argv)
{
	double t0;
	long i, rounds;

	if (argc > 2 && !strcmp(argv[1], "-r")) {
		rounds = atol(argv[2]);
		maybe_wait_for_go();
		t0 = now();
		for (i = 0; i < rounds; i++)
			descend(12);
		printf("work_s %.6f rounds %ld\n", now() - t0, rounds);
		return 0;
	}
	maybe_wait_for_go();
	run(argc > 1 ? atof(argv[1]) : 3);
	return 0;
}
