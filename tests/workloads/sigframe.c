// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sigframe - the main thread loops in work(); SIGALRM (every 10 ms) runs
 * on_alarm(), which spins in handler_spin() for 5 ms: half the samples are
 * in a signal handler, under the kernel's signal frame (__restore_rt).
 * Built without frame pointers.
 *
 * usage: sigframe [SECONDS]
 */
#include <sys/time.h>
#include "workload.h"

noinline void handler_spin(void)
{
	double t0 = now();

	while (now() - t0 < 0.005)
		spin(1000);
}

static void on_alarm(int sig)
{
	(void)sig;
	handler_spin();
	sink++;
}

noinline void work(double secs)
{
	double t0 = now();

	while (now() - t0 < secs)
		spin(1000);
}

int main(int argc, char **argv)
{
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } };
	struct sigaction sa = {};

	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	work(argc > 1 ? atof(argv[1]) : 3);
	return 0;
}
