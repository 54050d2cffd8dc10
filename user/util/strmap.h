/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * strmap.h - an open-addressing hash map from a byte key to a pointer.
 * Keys are copied; values are the caller's.
 */
#ifndef __EBPROF_STRMAP_H
#define __EBPROF_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap;

struct strmap *strmap__new(void);
void strmap__free(struct strmap *m);
/* the value stored under the key, or NULL */
void *strmap__get(const struct strmap *m, const void *key, size_t len);
/* store *val* under the key (replacing any value): 0 or -ENOMEM */
int strmap__set(struct strmap *m, const void *key, size_t len, void *val);
/* remove the key: its value, or NULL if it was not there */
void *strmap__del(struct strmap *m, const void *key, size_t len);
size_t strmap__size(const struct strmap *m);
/* bytes it holds itself: its slots and the copies of the keys */
size_t strmap__bytes(const struct strmap *m);
/* iterate: *it* starts at 0; returns the value or NULL at the end */
void *strmap__next(const struct strmap *m, size_t *it, const void **key, size_t *len);

/*
 * a set of strings: the copy *m* holds of *s* (made and stored under
 * itself when new: *added* says so, NULL if it need not), or NULL when
 * out of memory.  The owner frees the copies, the map's values.
 */
const char *strmap__intern(struct strmap *m, const char *s, int *added);

uint64_t hash_bytes(const void *p, size_t len);

/* what the allocator holds for block *p* (its header included), 0 for NULL */
size_t malloc_bytes(const void *p);

#endif
