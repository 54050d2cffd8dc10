// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dlopen_late - after SIGUSR1 (or at once), dlopen()s libdl_hot.so from
 * its own directory and calls into it for SECONDS: code that appears after
 * the profiler attached.  With "close", it spends the SECONDS in dlclose()
 * instead: in a handler the library registered with __cxa_atexit, which
 * __cxa_finalize runs from the library's __do_global_dtors_aux (gcc's
 * crtstuff, built without CFI).
 *
 * usage: WAIT_FOR_SIGUSR1=1 dlopen_late [SECONDS [close]]
 */
#include <dlfcn.h>
#include <libgen.h>
#include <string.h>
#include "workload.h"

noinline void call_lib(void (*fn)(void))
{
	fn();
	sink++;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3, t0;
	char path[4096], self[4096];
	void (*fn)(void);
	ssize_t n;
	void *h;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return 1;
	self[n] = '\0';
	snprintf(path, sizeof(path), "%s/libdl_hot.so", dirname(self));
	maybe_wait_for_go();
	h = dlopen(path, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	if (argc > 2 && !strcmp(argv[2], "close")) {
		void (*at_close)(double) = (void (*)(double))dlsym(h, "dl_at_close");

		if (!at_close)
			return 1;
		at_close(secs);
		return dlclose(h) ? 1 : 0;
	}
	fn = (void (*)(void))dlsym(h, "dl_entry");
	if (!fn)
		return 1;
	t0 = now();
	while (now() - t0 < secs)
		call_lib(fn);
	return 0;
}
