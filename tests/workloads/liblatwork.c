// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * liblatwork.so - latwork's library: an exported function, and a local
 * one only the symbol table names (gone when the library is stripped)
 */
#include "workload.h"

noinline static void lib_private(void)
{
	spin(100);
}

noinline void lib_work(int n)
{
	spin(50 + n % 7);
	lib_private();
}
