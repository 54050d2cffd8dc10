// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pie_main - a PIE executable whose time splits 1:1 between exe_hot() in
 * itself and lib_hot() in libhot.so.  With "plt", it calls the tiny
 * lib_tiny() through its PLT in a loop instead: run with LD_BIND_NOT=1,
 * every call goes through the dynamic loader's lazy binding.
 *
 * usage: pie_main [SECONDS [plt]]
 */
#include <string.h>
#include "workload.h"

void lib_hot(void);
void lib_tiny(void);

noinline void exe_hot(void)
{
	spin(200000);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3, t0;

	maybe_wait_for_go();
	t0 = now();
	if (argc > 2 && !strcmp(argv[2], "plt")) {
		while (now() - t0 < secs)
			for (int i = 0; i < 100; i++)
				lib_tiny();
		return 0;
	}
	while (now() - t0 < secs) {
		exe_hot();
		lib_hot();
	}
	return 0;
}
