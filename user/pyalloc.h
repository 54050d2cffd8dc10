/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pyalloc.h - where a CPython build's object allocator can be seen, from
 * its machine code (x86-64): the table PyObject_Malloc and PyObject_Free
 * call through (_PyObject, or _PyRuntime.allocators in 3.12+), and the
 * call sites a profile-guided build inlined the table's functions into.
 * Pure: bytes in, addresses out (the unit tests and a fuzzer call it).
 */
#ifndef __EBPROF_PYALLOC_H
#define __EBPROF_PYALLOC_H

#include <stddef.h>
#include <stdint.h>

/*
 * A PyMemAllocatorEx: { ctx, malloc(ctx, n), calloc(ctx, n, size),
 * realloc(ctx, p, n), free(ctx, p) }
 */
enum { PYALLOC_CTX, PYALLOC_MALLOC, PYALLOC_CALLOC, PYALLOC_REALLOC, PYALLOC_FREE, PYALLOC_SLOTS };

/* an 8-byte load a wrapper makes: from *at*, or from *(*at) + disp when indirect (a GOT entry) */
struct pyalloc_load {
	uint64_t at;
	int64_t disp;
	int indirect;
};

/*
 * The 8-byte loads in *len* bytes of code at *vaddr* (a wrapper's first
 * bytes): RIP-relative moves, jumps and calls, and loads through a register
 * a RIP-relative move just filled.  Every byte offset is tried (no
 * instruction boundaries are known): callers keep only what a table's
 * layout confirms.  Returns how many went into *out* (at most *max*).
 */
int pyalloc_loads(const uint8_t *code, size_t len, uint64_t vaddr, struct pyalloc_load *out, int max);

/*
 * The table both wrappers read: the ctx slot that PyObject_Malloc's loads
 * reach with the malloc slot 8 bytes on, and PyObject_Free's with the free
 * slot 32 bytes on.  *resolve* turns an indirect load into an address
 * (reads the GOT entry; false: unreadable).  True with the ctx slot's
 * address in *table*.
 */
int pyalloc_table(const struct pyalloc_load *m, int nm, const struct pyalloc_load *f, int nf,
		  int (*resolve)(void *ctx, uint64_t at, uint64_t *val), void *ctx, uint64_t *table);

/*
 * The sites in *len* bytes of code at *vaddr* that compare a function
 * pointer with *func* before running an inlined copy of it (what GCC's
 * speculative devirtualisation leaves): cmp $func, %reg (code below 2 GiB,
 * not position-independent) or lea func(%rip), %reg followed by a cmp of
 * that register.
 */
size_t pyalloc_guards(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t func);

#endif
