// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * py_embed - CPython embedded in a C program that looks broken for a
 * while before its interpreter starts, as a process does to a profiler
 * that reads it while the loader is still mapping libpython: dlopen()s
 * LIBPYTHON, points _PyRuntime's list of interpreters (at OFFSET in it)
 * at unmapped memory for BROKEN seconds, puts it back, then starts the
 * interpreter and runs spin_here() in Python for SECONDS.
 *
 *   PYTHONHOME=PREFIX py_embed LIBPYTHON OFFSET BROKEN SECONDS
 */
#include <dlfcn.h>
#include <stdint.h>
#include "workload.h"

int main(int argc, char **argv)
{
	double broken, secs, t0;
	void (*init)(void);
	int (*run)(const char *);
	char code[512];
	uint64_t *head;
	char *rt;
	void *h;

	if (argc != 5) {
		fprintf(stderr, "usage: PYTHONHOME=PREFIX py_embed LIBPYTHON OFFSET BROKEN SECONDS\n");
		return 2;
	}
	broken = atof(argv[3]);
	secs = atof(argv[4]);
	h = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	rt = dlsym(h, "_PyRuntime");
	init = (void (*)(void))dlsym(h, "Py_Initialize");
	run = (int (*)(const char *))dlsym(h, "PyRun_SimpleString");
	if (!rt || !init || !run) {
		fprintf(stderr, "libpython lacks _PyRuntime, Py_Initialize or PyRun_SimpleString\n");
		return 1;
	}
	head = (uint64_t *)(rt + atoi(argv[2]));
	if (*head) {
		fprintf(stderr, "_PyRuntime's interpreter list is not empty before Py_Initialize\n");
		return 1;
	}
	*head = 0x10;	/* an interpreter that cannot be read */
	t0 = now();
	while (now() - t0 < broken)
		usleep(1000);
	*head = 0;
	init();
	snprintf(code, sizeof(code),
		 "import time\n"
		 "def spin_here(deadline):\n"
		 "    while time.time() < deadline:\n"
		 "        sum(i * i for i in range(1000))\n"
		 "spin_here(time.time() + %f)\n", secs);
	return run(code) ? 1 : 0;
}
