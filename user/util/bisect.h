/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bisect.h - where an address falls in an array sorted by one of its
 * fields: symbols, mappings, perf-map entries.
 */
#ifndef __EBPROF_UTIL_BISECT_H
#define __EBPROF_UTIL_BISECT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Of the *n* elements of *size* bytes at *base*, sorted by the uint64_t at
 * *off* in each: how many have it at or below *key* (0: none; else the
 * last of them is element that - 1)
 */
static inline size_t bisect_u64(const void *base, size_t n, size_t size, size_t off, uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t v;

		memcpy(&v, (const char *)base + mid * size + off, sizeof(v));
		if (v <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#endif
