// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * thread_churn - creates N threads (default 500), WAVE at a time, each of
 * which burns 6 ms of its own CPU time in churn_a() and 2 ms in churn_b()
 * and exits: a 3:1 split spread over short-lived threads.  Prints the CPU
 * seconds the workers burnt in all and how many there were.
 *
 * usage: WAIT_FOR_SIGUSR1=1 thread_churn [N]
 */
#include <pthread.h>
#include "workload.h"

#define WAVE 4

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static noinline void burn_for(double s)
{
	double end = thread_cpu() + s;

	while (thread_cpu() < end)
		spin(2000);
}

noinline void churn_a(void) { burn_for(0.006); }
noinline void churn_b(void) { burn_for(0.002); }

static void *churn_thread(void *arg)
{
	double *cpu = arg;

	churn_a();
	churn_b();
	*cpu = thread_cpu();
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 500, i, k, made = 0;
	double cpu[WAVE], total = 0;
	pthread_t t[WAVE];

	maybe_wait_for_go();
	for (i = 0; i < n; i += WAVE) {
		int w = n - i < WAVE ? n - i : WAVE;

		for (k = 0; k < w; k++)
			if (pthread_create(&t[k], NULL, churn_thread, &cpu[k]))
				return 1;
		for (k = 0; k < w; k++) {
			pthread_join(t[k], NULL);
			total += cpu[k];
			made++;
		}
	}
	printf("threads %d cpu_s %.6f\n", made, total);
	return 0;
}
