// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cpu_split - burn_a() does 3 units of work for every 1 unit burn_b() does,
 * so a correct profile shows burn_a 75 % and burn_b 25 % of the samples.
 *
 * The work itself runs in spin_leaf(), a leaf without a frame of its own
 * (as -O2 code usually is), so its caller is only found by a profiler that
 * handles frameless leaves.
 *
 * usage: cpu_split [SECONDS | -r ROUNDS]   (SECONDS 0: run until killed)
 * Prints "work_s T rounds R" when done: the bench's self-timed work.
 */
#include <string.h>
#include "workload.h"

#define UNIT 5000UL	/* ~25 us: far below a sampling period, so no aliasing */

noinline void spin_leaf(unsigned long n)
{
	spin(n);
}

noinline void burn_a(void)
{
	spin_leaf(3 * UNIT);
}

noinline void burn_b(void)
{
	spin_leaf(UNIT);
}

noinline void work(void)
{
	burn_a();
	burn_b();
}

int main(int argc, char **argv)
{
	double secs = 10, t0, t;
	long rounds = -1, r = 0;

	if (argc > 2 && !strcmp(argv[1], "-r"))
		rounds = atol(argv[2]);
	else if (argc > 1)
		secs = atof(argv[1]);
	maybe_wait_for_go();
	t0 = now();
	for (;;) {
		work();
		r++;
		if (rounds >= 0) {
			if (r >= rounds)
				break;
		} else if (secs > 0 && (r & 255) == 0 && now() - t0 >= secs) {
			break;
		}
	}
	t = now() - t0;
	printf("work_s %.6f rounds %ld\n", t, r);
	return 0;
}
