// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * forker - forks a child that burns CPU in child_work() for 0.5 s and
 * exits; the parent then burns parent_work() for 0.5 s more and exits.
 */
#include <sys/wait.h>
#include "workload.h"

noinline void child_work(void)
{
	double t0 = now();

	while (now() - t0 < 0.5)
		spin(100000);
}

noinline void parent_work(void)
{
	double t0 = now();

	while (now() - t0 < 0.5)
		spin(100000);
}

int main(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return 1;
	if (pid == 0) {
		child_work();
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	parent_work();
	return 0;
}
