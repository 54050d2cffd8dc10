/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * workload.h - shared bits of the test workloads: a unit of CPU work that
 * costs the same wherever it runs, and the self-timing the bench reads.
 */
#ifndef __WORKLOAD_H
#define __WORKLOAD_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define noinline __attribute__((noinline))

static volatile unsigned long sink;

/*
 * a fixed amount of pure CPU work: *n* iterations of a dependent chain;
 * always inlined, so the work shows in the function that asked for it
 */
static inline __attribute__((always_inline)) void spin(unsigned long n)
{
	unsigned long x = sink;

	while (n--)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile sig_atomic_t go;
static void on_go(int sig) { (void)sig; go = 1; }

/* with WAIT_FOR_SIGUSR1=1 in the environment, wait for SIGUSR1 first */
static inline void maybe_wait_for_go(void)
{
	const char *w = getenv("WAIT_FOR_SIGUSR1");

	signal(SIGUSR1, on_go);
	if (!w || *w != '1')
		return;
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (!go)
		pause();
}

#endif
