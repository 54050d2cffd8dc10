// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sleeper - N sleeps of US microseconds (default 10000 x 1000): each sleep
 * is one voluntary context switch, by construction.
 * usage: sleeper [N [US]]; prints "work_s T rounds N".
 */
#include "workload.h"

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000, us = argc > 2 ? atol(argv[2]) : 1000, i;
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	double t0;

	maybe_wait_for_go();
	t0 = now();
	for (i = 0; i < n; i++)
		nanosleep(&ts, NULL);
	printf("work_s %.6f rounds %ld\n", now() - t0, n);
	return 0;
}
