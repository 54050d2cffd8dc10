// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * latwork - calls whose number and length are known, for ebprof lat:
 *   split ROUNDS  work_ms() 6 times for 1 ms, 3 for 10 ms, 1 for 100 ms a
 *                 round, shuffled; each call timed inside it: the count,
 *                 the total and the nearest-rank p50/p75/p90/p99 printed
 *   ranks ROUNDS  the same, rounds of 20: 11 for 1 ms, 8 for 10 ms, 1 for
 *                 100 ms (in 5 rounds p50 is the 50th of 100, within the
 *                 1 ms calls (1-55), p75 and p90 within the 10 ms ones
 *                 (56-95), p99 within the 100 ms ones (96-100): none is
 *                 the slowest of its kind, which a single slow call decides)
 *   fib N         fib(N) by recursion: the number of calls printed
 *   lib N         lib_work() of liblatwork.so N times
 *   jump N        outer() N times, each leaving inner() by longjmp
 *   spin N        quick() N times
 *   bench -r R    tick() R * 1000 times, "work_s T" only (make bench: the
 *                 cost per call; tick() calls quick(), so it starts with
 *                 push %rbp, which the kernel's uprobes emulate, where
 *                 quick(), a leaf, starts with a load they single-step)
 */
#include <setjmp.h>
#include <stdbool.h>
#include <string.h>
#include "workload.h"

void lib_work(int n);

static double took[1 << 16];
static int ntook;
static volatile unsigned long fib_calls, quick_calls;
static jmp_buf jb;

noinline void work_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	double t0 = now();

	nanosleep(&ts, NULL);
	if (ntook < (int)(sizeof(took) / sizeof(took[0])))
		took[ntook++] = now() - t0;
}

noinline unsigned long fib(int n)
{
	fib_calls++;
	if (n < 2)
		return n;
	return fib(n - 1) + fib(n - 2);
}

noinline void inner(int i)
{
	spin(100);
	longjmp(jb, i + 1);
}

noinline int outer(int i)
{
	volatile int r = setjmp(jb);

	if (!r)
		inner(i);
	return r;
}

noinline void quick(void)
{
	quick_calls++;
}

noinline void tick(void)
{
	quick();
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* nearest rank, as ebprof lat counts */
static double rank(double q)
{
	int k = (int)(q * ntook + 0.999999999);

	return took[(k < 1 ? 1 : k) - 1];
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 1, i, k;
	double t0;

	if (argc < 2) {
		fprintf(stderr, "usage: latwork split|ranks|fib|lib|jump|spin N, latwork bench -r R\n");
		return 2;
	}
	if (!strcmp(argv[1], "bench")) {
		n = argc > 3 && !strcmp(argv[2], "-r") ? atoi(argv[3]) : 1;
		maybe_wait_for_go();
		t0 = now();
		for (i = 0; i < n * 1000; i++)
			tick();
		printf("work_s %.6f\n", now() - t0);
		return 0;
	}
	maybe_wait_for_go();
	t0 = now();
	if (!strcmp(argv[1], "split") || !strcmp(argv[1], "ranks")) {
		static const int split[10] = { 1, 1, 1, 1, 1, 1, 10, 10, 10, 100 };
		static const int ranks[20] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 10, 10, 10, 10, 10, 10, 10, 10, 100 };
		bool by_split = argv[1][0] == 's';
		const int *pattern = by_split ? split : ranks;
		int len = by_split ? 10 : 20;
		unsigned long seed = 12345;
		double total = 0;

		for (i = 0; i < n; i++) {
			int order[20];

			memcpy(order, pattern, len * sizeof(order[0]));
			for (k = len - 1; k > 0; k--) {	/* Fisher-Yates, a fixed LCG */
				int j, t;

				seed = seed * 6364136223846793005UL + 1442695040888963407UL;
				j = (int)((seed >> 33) % (unsigned long)(k + 1));
				t = order[k];
				order[k] = order[j];
				order[j] = t;
			}
			for (k = 0; k < len; k++)
				work_ms(order[k]);
		}
		for (i = 0; i < ntook; i++)
			total += took[i];
		qsort(took, ntook, sizeof(took[0]), cmp);
		printf("calls %d\ntotal_s %.6f\np50_ms %.4f\np75_ms %.4f\np90_ms %.4f\np99_ms %.4f\n", ntook, total,
		       1e3 * rank(0.5), 1e3 * rank(0.75), 1e3 * rank(0.9), 1e3 * rank(0.99));
	} else if (!strcmp(argv[1], "fib")) {
		unsigned long v = fib(n);

		printf("fib %lu\ncalls %lu\n", v, fib_calls);
	} else if (!strcmp(argv[1], "lib")) {
		for (i = 0; i < n; i++)
			lib_work(i);
		printf("calls %d\n", n);
	} else if (!strcmp(argv[1], "jump")) {
		int sum = 0;

		for (i = 0; i < n; i++)
			sum += outer(i);
		printf("calls %d\nsum %d\n", n, sum);
	} else if (!strcmp(argv[1], "spin")) {
		for (i = 0; i < n; i++)
			quick();
		printf("calls %lu\n", quick_calls);
	}
	printf("work_s %.6f\n", now() - t0);
	return 0;
}
