// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * forkmany - forks N children (default 100) one after another; each
 * touches 64 pages, sleeps 1 ms and exits, and the parent waits for it.
 * usage: forkmany [N]
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include "workload.h"

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100, i;

	maybe_wait_for_go();
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0) {
			char *p = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			struct timespec ts = { 0, 1000000 };
			int k;

			if (p == MAP_FAILED)
				_exit(1);
			for (k = 0; k < 64; k++)
				p[k * 4096] = 1;
			nanosleep(&ts, NULL);
			_exit(0);
		}
		if (waitpid(pid, NULL, 0) != pid)
			return 1;
	}
	printf("children %d\n", n);
	return 0;
}
