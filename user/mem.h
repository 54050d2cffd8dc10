/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * mem.h - ebprof mem's report: allocation sites with what they allocated,
 * freed and still hold, page faults and mappings per stack, leaks, sizes,
 * RSS.  Pure data and rendering; collect_cpu.c fills it.
 */
#ifndef __EBPROF_MEM_H
#define __EBPROF_MEM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "profile.h"

struct mem_site {
	uint32_t *frames;	/* frame ids in the report's profile, outermost first */
	uint32_t nframes;
	int tgid;
	uint64_t allocs, bytes;		/* estimates when sampled */
	uint64_t frees, bytes_freed;
	uint64_t out_blocks, out_bytes;	/* blocks still held at the end */
	uint64_t leak_blocks, leak_bytes;	/* ... older than --min-age */
	double oldest_s;
	uint64_t faults, mapped;	/* pages faulted in, bytes mapped */
};

struct mem_report {
	char target[256];
	struct profile *prof;	/* frames, and stacks weighted for folded and SVG */
	struct mem_site *sites;
	size_t nsites, sites_cap;
	double duration;
	bool exact;
	double share;		/* time the allocator probes were on / all */
	double scale;		/* estimated calls / calls seen: what estimates are scaled by */
	uint64_t allocs, frees, bytes, bytes_freed;	/* estimated when not exact */
	uint64_t blocks_outstanding, bytes_outstanding;
	uint64_t faults, mapped;
	uint64_t hist[64];	/* allocations of 2^i .. 2^(i+1) - 1 bytes */
	uint64_t lost_blocks, lost_stacks;
	long rss_now_kib, rss_peak_kib;	/* -1: unknown */
	bool leaks;
	double min_age;
	double cost_s, work_s;	/* budgeted mode: what the probes cost the target, its own work */
	double probe_x;		/* the probes' cost over the target's work while they were on; -1: no work */
	double uncertainty;	/* of the estimates, relative */
	bool floor_only;	/* probe_x is so high that the estimates are floors */
	int windows;		/* times the probes went on */
	int nprobes;		/* functions probed */
};

void mem_report__free(struct mem_report *m);
/*
 * What the counts stand for, from the budget's books in seconds of the
 * target's CPU time: its own work while the probes were on and off (its
 * CPU time less theirs), and their cost.
 */
void mem_report__estimate(struct mem_report *m, bool exact, int windows, double work_on, double work_off, double cost);
int mem_render_table(const struct mem_report *m, int rows, FILE *out);
int mem_render_json(const struct mem_report *m, FILE *out);

#endif
