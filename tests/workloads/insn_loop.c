// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * insn_loop - a known number of instructions: loop_a() runs 3 * N and
 * loop_b() N iterations of a 4-instruction loop (add, add, dec, jnz), so
 * a run retires 16 * N instructions and 4 * N branches (plus start-up),
 * 75 % of them in loop_a.  usage: insn_loop [N] (default 250000000)
 */
#include "workload.h"

static noinline void loop(unsigned long n)
{
	unsigned long a = 0, b = 0;

	__asm__ volatile("1:\n\t"
			 "add $1, %0\n\t"
			 "add $1, %1\n\t"
			 "dec %2\n\t"
			 "jnz 1b\n\t"
			 : "+r"(a), "+r"(b), "+r"(n));
	sink = a + b;
}

noinline void loop_a(unsigned long n)
{
	loop(3 * n);
}

noinline void loop_b(unsigned long n)
{
	loop(n);
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 250000000UL;

	maybe_wait_for_go();
	loop_a(n);
	loop_b(n);
	printf("instructions_in_loops %lu branches_in_loops %lu\n", 16 * n, 4 * n);
	return 0;
}
