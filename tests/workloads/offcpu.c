// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * offcpu - waits whose length is known, for ebprof off and wall.  Each
 * mode times its own waits and prints them: the truth a profile of the
 * same run is checked against.
 *
 *   offcpu lock ROUNDS HOLD_MS   a holder keeps a mutex HOLD_MS (asleep)
 *                                while a waiter blocks on it in lock_wait();
 *                                prints "waited_s T rounds N"
 *   offcpu sleepburn ROUNDS      one thread: sleep 20 ms in nap(), then
 *                                burn 10 ms of CPU in burn(), per round;
 *                                prints "slept_s T burned_s T rounds N
 *                                cpu_s T" (its CPU time, getrusage)
 *   offcpu share SECONDS         two threads burn on one CPU (pinned): each
 *                                waits for the CPU about half of the time
 *                                (runnable, never asleep); prints
 *                                "cpu_s T wall_s T runnable_s T", the
 *                                last the time both waited on the run
 *                                queue, by the kernel's schedstat
 *   offcpu callers ROUNDS        per round wait_a() sleeps 1 ms three times
 *                                and wait_b() once, both through one
 *                                nap_ms(): the same registers and stack
 *                                depth at each sleep, only the return
 *                                address of nap_ms() tells them apart;
 *                                prints "a_s T b_s T rounds N"
 *   offcpu idle N                N threads wait in idle_wait() for a pipe
 *                                that stays empty, the main thread in
 *                                pause(), until killed
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include "workload.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t bar;
static int rounds;
static double hold_s, waited;

static noinline void lock_wait(void)
{
	double t0 = now();

	pthread_mutex_lock(&lock);
	waited += now() - t0;
	pthread_mutex_unlock(&lock);
}

static void *waiter(void *arg)
{
	(void)arg;
	for (int i = 0; i < rounds; i++) {
		pthread_barrier_wait(&bar);	/* the holder has the lock */
		lock_wait();
		pthread_barrier_wait(&bar);
	}
	return NULL;
}

static noinline void hold(void)
{
	struct timespec ts = { 0, (long)(hold_s * 1e9) };

	nanosleep(&ts, NULL);
}

static int run_lock(void)
{
	pthread_t t;

	pthread_barrier_init(&bar, NULL, 2);
	if (pthread_create(&t, NULL, waiter, NULL))
		return 1;
	for (int i = 0; i < rounds; i++) {
		pthread_mutex_lock(&lock);
		pthread_barrier_wait(&bar);
		hold();
		pthread_mutex_unlock(&lock);
		pthread_barrier_wait(&bar);
	}
	pthread_join(t, NULL);
	printf("waited_s %.6f rounds %d\n", waited, rounds);
	return 0;
}

static noinline void nap(void)
{
	struct timespec ts = { 0, 20 * 1000000 };

	nanosleep(&ts, NULL);
}

/* 10 ms of this thread's own CPU time */
static noinline void burn(void)
{
	struct timespec a, b;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	do {
		spin(10000);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	} while ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec) < 10e6);
}

static int run_sleepburn(void)
{
	double slept = 0, burned = 0, t;

	for (int i = 0; i < rounds; i++) {
		t = now();
		nap();
		slept += now() - t;
		t = now();
		burn();
		burned += now() - t;
	}
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	printf("slept_s %.6f burned_s %.6f rounds %d cpu_s %.6f\n", slept, burned, rounds,
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	return 0;
}

static double share_s;
static double waited_s[2];	/* on the run queue, by thread */

/* this thread's time waiting on a run queue so far (schedstat), in seconds */
static double run_delay(void)
{
	unsigned long long run, wait = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");

	if (f) {
		if (fscanf(f, "%llu %llu", &run, &wait) != 2)
			wait = 0;
		fclose(f);
	}
	return wait / 1e9;
}

static noinline void compete(int i)
{
	double end = now() + share_s, w0 = run_delay();

	while (now() < end)
		spin(100000);
	waited_s[i] = run_delay() - w0;
}

static void *competitor(void *arg)
{
	(void)arg;
	compete(1);
	return NULL;
}

static int run_share(void)
{
	cpu_set_t one;
	pthread_t t;
	struct rusage ru;
	double t0 = now();

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		return 1;
	if (pthread_create(&t, NULL, competitor, NULL))	/* inherits the affinity */
		return 1;
	compete(0);
	pthread_join(t, NULL);
	getrusage(RUSAGE_SELF, &ru);
	printf("cpu_s %.6f wall_s %.6f runnable_s %.6f\n", ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6, now() - t0, waited_s[0] + waited_s[1]);
	return 0;
}

static noinline void nap_ms(void)
{
	struct timespec ts = { 0, 1000000 };

	nanosleep(&ts, NULL);
}

static volatile int naps_a, naps_b, three = 3;	/* volatile: a loop, not three calls */

/* each counts its naps after the call: a call, not a jump, and no two bodies alike to fold */
static noinline void wait_a(void)
{
	nap_ms();
	naps_a++;
}

static noinline void wait_b(void)
{
	nap_ms();
	naps_b++;
}

static int run_callers(void)
{
	double a = 0, b = 0, t;

	for (int i = 0; i < rounds; i++) {
		t = now();
		for (int j = 0; j < three; j++)
			wait_a();	/* from one call site: the 2nd and 3rd find the stack as the 1st left it */
		a += now() - t;
		t = now();
		wait_b();
		b += now() - t;
	}
	printf("a_s %.6f b_s %.6f rounds %d\n", a, b, rounds);
	return 0;
}

static int idle_pipe[2];

static noinline void idle_wait(void)
{
	char c;

	if (read(idle_pipe[0], &c, 1) < 0)
		perror("read");
}

static void *idle_thread(void *arg)
{
	(void)arg;
	idle_wait();
	return NULL;
}

static int run_idle(int n)
{
	pthread_t t;

	if (pipe(idle_pipe))
		return 1;
	for (int i = 0; i < n; i++)
		if (pthread_create(&t, NULL, idle_thread, NULL))
			return 1;
	printf("idle %d\n", n);
	fflush(stdout);
	pause();
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	maybe_wait_for_go();
	if (!strcmp(mode, "lock") && argc > 3) {
		rounds = atoi(argv[2]);
		hold_s = atof(argv[3]) / 1e3;
		return run_lock();
	}
	if (!strcmp(mode, "sleepburn") && argc > 2) {
		rounds = atoi(argv[2]);
		return run_sleepburn();
	}
	if (!strcmp(mode, "share") && argc > 2) {
		share_s = atof(argv[2]);
		return run_share();
	}
	if (!strcmp(mode, "callers") && argc > 2) {
		rounds = atoi(argv[2]);
		return run_callers();
	}
	if (!strcmp(mode, "idle") && argc > 2)
		return run_idle(atoi(argv[2]));
	fprintf(stderr, "usage: offcpu lock ROUNDS HOLD_MS | sleepburn ROUNDS | share SECONDS | callers ROUNDS | idle N\n");
	return 2;
}
