// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libhot.so - a shared library with one hot function, for pie_main */
#include "workload.h"

noinline void lib_hot(void)
{
	spin(200000);
}
