// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sigframe - the main thread loops in work(); SIGALRM (every 10 ms) runs
 * on_alarm(), which spins in handler_spin() for 5 ms: half the samples are
 * in a signal handler, under the kernel's signal frame (__restore_rt), on
 * an idle machine.  Both are timed by the wall clock, so with the CPUs busy
 * the handler's share of the CPU time is more (a signal that arrives while
 * the thread waits for a CPU shortens work(), not the handler): the
 * workload measures the CPU time it spent in the handler and prints it.
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

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile double in_handler;

static void on_alarm(int sig)
{
	double c0 = cpu_now();

	(void)sig;
	handler_spin();
	sink++;
	in_handler += cpu_now() - c0;
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
	setitimer(ITIMER_REAL, &(struct itimerval){}, NULL);
	printf("handler_cpu_s %.6f cpu_s %.6f\n", in_handler, cpu_now());
	return 0;
}
