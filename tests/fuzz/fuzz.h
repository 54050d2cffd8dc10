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

#endif
