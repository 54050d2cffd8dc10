// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * threads - the main thread sleeps; after SIGUSR1 (or at once) it creates
 * NTHREADS threads that burn CPU in thread_worker() for SECONDS, so every
 * on-CPU sample after the start belongs to threads created late.
 *
 * usage: WAIT_FOR_SIGUSR1=1 threads [SECONDS]; prints "done cpu_s T", the
 * CPU time the threads had (getrusage of the process, the joined threads'
 * included, less the main thread's before they started).
 */
#include <pthread.h>
#include <sys/resource.h>
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
	struct rusage r0, r1;
	int i;

	if (argc > 1)
		secs = atof(argv[1]);
	maybe_wait_for_go();
	getrusage(RUSAGE_SELF, &r0);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, thread_worker, NULL);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	getrusage(RUSAGE_SELF, &r1);
	printf("done cpu_s %.6f\n", r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) / 1e6 +
	       r1.ru_stime.tv_sec - r0.ru_stime.tv_sec + (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6);
	return 0;
}
