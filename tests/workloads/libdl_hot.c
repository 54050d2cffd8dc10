// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libdl_hot.so - loaded with dlopen() after the profiler attached; no frame pointers */
#include "workload.h"

noinline void dl_inner(void)
{
	spin(300000);
}

void dl_entry(void)
{
	dl_inner();
	sink++;
}
