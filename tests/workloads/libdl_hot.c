// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libdl_hot.so - loaded with dlopen() after the profiler attached; no frame pointers */
#include "workload.h"

noinline void dl_inner(void)
{
	spin(300000);
}

/* a handler __cxa_finalize runs from this library's __do_global_dtors_aux at dlclose */
extern void *__dso_handle;
int __cxa_atexit(void (*fn)(void *), void *arg, void *dso);

static double close_secs;

noinline void dl_close_spin(void *arg)
{
	double t0 = now();

	(void)arg;
	while (now() - t0 < close_secs)
		spin(1000);
}

void dl_at_close(double secs)
{
	close_secs = secs;
	__cxa_atexit(dl_close_spin, NULL, &__dso_handle);
}

void dl_entry(void)
{
	dl_inner();
	sink++;
}
