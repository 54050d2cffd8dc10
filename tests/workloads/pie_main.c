// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pie_main - a PIE executable whose time splits 1:1 between exe_hot() in
 * itself and lib_hot() in libhot.so.
 *
 * usage: pie_main [SECONDS]
 */
#include "workload.h"

void lib_hot(void);

noinline void exe_hot(void)
{
	spin(200000);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3, t0;

	maybe_wait_for_go();
	t0 = now();
	while (now() - t0 < secs) {
		exe_hot();
		lib_hot();
	}
	return 0;
}
