/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * unwind.h - compact unwind tables from .eh_frame / .debug_frame, for the
 * BPF stack walker.
 *
 * unwind_build_elf() turns one ELF's call-frame information into sorted
 * struct unwind_row (see bpf/ebprof.h): CFA from rsp or rbp, the saved rbp,
 * and explicit rows for the PLT, signal frames, the outermost frame and the
 * gaps between FDEs.  Any other rule becomes an INVALID row, where the walk
 * stops as truncated: it never guesses.
 *
 * An unwind_pool hands out ranges of a row array (the BPF map) to files,
 * building each file's rows once and sharing them between processes; a
 * writer callback stores the rows (a batch map update, or memory in tests).
 */
#ifndef __EBPROF_UNWIND_H
#define __EBPROF_UNWIND_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "ebprof.h"

struct dso;

struct unwind_build_stats {
	size_t fdes;
	size_t rows;		/* rows before merging */
	size_t invalid;		/* rows the walker will not follow */
};

/* rows of *elf*, sorted by pc, malloc'd into *rows*: 0 or -errno (-ENOENT: no CFI) */
int unwind_build_elf(Elf *elf, struct unwind_row **rows, size_t *n, struct unwind_build_stats *st);
/* the last row at or below *pc*, or NULL */
const struct unwind_row *unwind_find_row(const struct unwind_row *rows, size_t n, uint32_t pc);

/*
 * The BPF walker's rules (bpf/unwind.bpf.h), in user space: for a thread
 * that is not running, whose stack BPF cannot read (another process's
 * memory): its registers, then its memory through *read*.  What it needs
 * of the process comes through the callbacks.
 */
struct unwind_regs {
	uint64_t ip, sp, bp, bx;
};

struct unwind_source {
	/* the mapping that holds *addr* (flags EBPROF_MAP_*): 0, or -1 when none */
	int (*map)(void *ctx, uint64_t addr, struct unwind_map *m);
	/* row *idx* of the row pool: 0 or -1 */
	int (*row)(void *ctx, uint32_t idx, struct unwind_row *row);
	/* the 8 bytes at *addr*: 0 or -1 */
	int (*read)(void *ctx, uint64_t addr, uint64_t *val);
	void *ctx;
};

/* walk from *r* into *ips* (at most *max*): the frames found; how it ended into *end* (enum ebprof_walk_end) */
int unwind_walk(const struct unwind_source *src, const struct unwind_regs *r, __u64 *ips, int max,
		unsigned int *end);

struct unwind_pool;

/* store *n* rows at index *first* of the row array: 0 or -errno */
typedef int (*unwind_write_fn)(void *ctx, uint32_t first, const struct unwind_row *rows, size_t n);

struct unwind_pool *unwind_pool__new(size_t cap, unwind_write_fn write, void *ctx);
void unwind_pool__free(struct unwind_pool *p);
/*
 * the rows of *d* in the pool, built on first use: 0, -ENOENT (the file has
 * no unwind information), -ENOSPC (the pool is full) or another -errno
 */
int unwind_pool__get(struct unwind_pool *p, struct dso *d, uint32_t *first, uint32_t *nrows);
/*
 * the pool full: the rows of every file whose first row *in_use* does not
 * name (no process's tables point at it) are free again, for the files
 * that need room; a file refused for room is tried again after.  How many
 * files went.
 */
size_t unwind_pool__collect(struct unwind_pool *p, bool (*in_use)(uint32_t first, void *ctx), void *ctx);
/* files whose rows went so, over the run */
size_t unwind_pool__evicted(const struct unwind_pool *p);
size_t unwind_pool__used(const struct unwind_pool *p);
size_t unwind_pool__files(const struct unwind_pool *p);
double unwind_pool__build_seconds(const struct unwind_pool *p);

#endif
