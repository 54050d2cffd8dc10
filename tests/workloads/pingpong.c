// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pingpong - two threads pass a byte back and forth through pipes: two
 * context switches per round trip, the worst case for counting.
 * usage: pingpong [-r ROUNDS]; prints "work_s T rounds R".
 */
#include <pthread.h>
#include <string.h>
#include "workload.h"

static int ab[2], ba[2];
static long rounds = 100000;

static void *echo(void *arg)
{
	char c;
	long i;

	(void)arg;
	for (i = 0; i < rounds; i++) {
		if (read(ab[0], &c, 1) != 1 || write(ba[1], &c, 1) != 1)
			break;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	double t0;
	char c = 'x';
	long i;

	if (argc > 2 && !strcmp(argv[1], "-r"))
		rounds = atol(argv[2]);
	if (pipe(ab) || pipe(ba))
		return 1;
	maybe_wait_for_go();
	pthread_create(&t, NULL, echo, NULL);
	t0 = now();
	for (i = 0; i < rounds; i++) {
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			return 1;
	}
	printf("work_s %.6f rounds %ld\n", now() - t0, rounds);
	pthread_join(t, NULL);
	return 0;
}
