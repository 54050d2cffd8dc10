// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * threads - the main thread sleeps; after SIGUSR1 (or at once) it creates
 * NTHREADS threads that burn CPU in thread_worker() for SECONDS, so every
 * on-CPU sample after the start belongs to threads created late.
 *
 * usage: WAIT_FOR_SIGUSR1=1 threads [SECONDS]
 */
#include <pthread.h>
#include "workload.h"

#define NTHREADS 2

static double secs = 3;

noinline void thread_worker_loop(void)
{
	double t0 = now();

	while (now() - t0 < secs)
		spin(100000);
}

static void *thread_worker(void *arg)
{
	(void)arg;
	thread_worker_loop();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[NTHREADS];
	int i;

	if (argc > 1)
		secs = atof(argv[1]);
	maybe_wait_for_go();
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, thread_worker, NULL);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	printf("done\n");
	return 0;
}
