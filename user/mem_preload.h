/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * mem_preload.h - ebprof mem's interposer on a launched command: the
 * private files it needs (the library ebprof carries, the counts both
 * map), the environment that loads it, and the counts read back.
 */
#ifndef __EBPROF_MEM_PRELOAD_H
#define __EBPROF_MEM_PRELOAD_H

#include <stdbool.h>
#include <stdint.h>
#include "memshm.h"

struct mem_preload {
	char dir[64];		/* private, root's: removed at the end */
	char lib[96];		/* the interposer, written from ebprof's binary */
	char counts[96];
	struct ebmem_shm *shm;
};

/* NULL when *path* can run with the interposer, else why not (a static or setuid program) */
const char *mem_preload_refusal(const char *path);
/*
 * the files, and the environment the command gets (LD_PRELOAD first, and
 * where the counts are), for sampling every *sample_bytes* on average
 * (*adaptive*: at the least, more while samples come too fast); 0 or
 * -errno, nothing left behind on failure
 */
int mem_preload_setup(struct mem_preload *mp, uint64_t sample_bytes, bool adaptive);
/* the process to count: the launched command, before it runs */
void mem_preload_target(struct mem_preload *mp, int pid);
/* has the interposer started counting in its target? */
bool mem_preload_loaded(const struct mem_preload *mp);
/* the counts of every thread, summed */
void mem_preload_totals(const struct mem_preload *mp, struct ebmem_counts *sum);
/*
 * the frees of sampled blocks its threads still hold (not told to a
 * marker): *fn* on each (address, sample id, where the free fell in the
 * sequence); at the end, once the markers' probes are gone
 */
void mem_preload_pending(const struct mem_preload *mp, void (*fn)(void *ctx, uint64_t block, uint64_t id, uint64_t seq),
			 void *ctx);
/* the files removed, the environment as it was */
void mem_preload_cleanup(struct mem_preload *mp);

#endif
