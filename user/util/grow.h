/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * grow.h - room for one more element at the end of a realloc'ed array.
 */
#ifndef __EBPROF_UTIL_GROW_H
#define __EBPROF_UTIL_GROW_H

#include <errno.h>
#include <stdlib.h>

/* *arr* holds *n* of *cap* elements of *size*: doubled when full (from *first*); -ENOMEM leaves it as it was */
static inline int grow_array(void **arr, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t c;
	void *p;

	if (n < *cap)
		return 0;
	c = *cap ? 2 * *cap : first;
	p = realloc(*arr, c * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

#define GROW(arr, n, cap, first) grow_array((void **)&(arr), &(cap), (n), sizeof(*(arr)), (first))

#endif
