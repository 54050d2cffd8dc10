// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * syscalls - do_writes() writes one byte to /dev/null in a loop, so most
 * on-CPU time is in the kernel under do_writes().
 *
 * usage: syscalls [SECONDS]
 */
#include <fcntl.h>
#include "workload.h"

noinline void do_writes(int fd, double secs)
{
	double t0 = now();
	char c = 'x';
	long i = 0;

	while ((++i & 1023) || now() - t0 < secs)
		if (write(fd, &c, 1) != 1)
			exit(1);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3;
	int fd = open("/dev/null", O_WRONLY);

	if (fd < 0)
		return 1;
	maybe_wait_for_go();
	do_writes(fd, secs);
	return 0;
}
