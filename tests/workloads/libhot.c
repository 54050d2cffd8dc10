// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libhot.so - a shared library with a hot function and a tiny one, for pie_main */
#include "workload.h"

noinline void lib_hot(void)
{
	spin(200000);
}

noinline void lib_tiny(void)
{
	spin(10);
}
