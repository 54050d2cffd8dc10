// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rusage_of - runs a command and prints its getrusage() figures, as
 * /usr/bin/time -v does, counted from its exec: the ground truth of the
 * stat tests.  usage: rusage_of COMMAND [ARG...]
 */
#include <spawn.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv)
{
	struct rusage ru;
	int status;
	pid_t pid;

	if (argc < 2 || posix_spawnp(&pid, argv[1], NULL, NULL, argv + 1, environ))
		return 127;
	if (wait4(pid, &status, 0, &ru) != pid)
		return 1;
	/* posix_spawn shares our memory until the exec (CLONE_VFORK): nothing before it counts */
	fprintf(stderr, "user %.6f sys %.6f vcsw %ld ivcsw %ld minflt %ld majflt %ld maxrss %ld\n",
		ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
		ru.ru_nvcsw, ru.ru_nivcsw, ru.ru_minflt, ru.ru_majflt, ru.ru_maxrss);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
