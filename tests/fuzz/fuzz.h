/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * fuzz.h - shared bits of the libFuzzer harnesses: each parser of data
 * from outside (files, /proc, a target's memory) gets bytes it did not
 * choose; the sanitizers (ASan, UBSan) and the harness's own checks find
 * what goes wrong.
 */
#ifndef __EBPROF_FUZZ_H
#define __EBPROF_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the parsers' warnings stay quiet (main.c owns this in ebprof) */
int log_level = -1;

/* the input as a C string (what a line-based parser reads) */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* the input as a FILE (fmemopen of a copy: the parser may not write into it) */
static inline FILE *fuzz_file(const uint8_t *data, size_t size, char **buf)
{
	*buf = fuzz_str(data, size);
	return fmemopen(*buf, size ? size : 1, "r");
}

/*
 * addresses to look up in what was parsed: the input's first 32 words,
 * then 0 and the top of the address space; how many in *a*
 */
static inline size_t fuzz_addrs(const uint8_t *data, size_t size, uint64_t a[34])
{
	size_t n = 0, i;

	for (i = 0; i + 8 <= size && n < 32; i += 8)
		memcpy(&a[n++], data + i, 8);
	a[n++] = 0;
	a[n++] = UINT64_MAX;
	return n;
}

#endif
