/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * mem.h - ebprof mem's report: allocation sites with what they allocated,
 * freed and still hold, page faults and mappings per stack, leaks, sizes,
 * RSS.  Pure data and rendering; mode_mem.c fills it.
 */
#ifndef __EBPROF_MEM_H
#define __EBPROF_MEM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "profile.h"

struct render_opts;

struct mem_site {
	uint32_t *frames;	/* frame ids in the report's profile, outermost first */
	uint32_t nframes;
	int tgid;
	uint64_t allocs, bytes;		/* estimates when sampled */
	uint64_t frees, bytes_freed;
	uint64_t out_blocks, out_bytes;	/* blocks still held at the end */
	uint64_t peak_blocks, peak_bytes;	/* ... at the peak heap (interposed) */
	uint64_t leak_blocks, leak_bytes;	/* ... older than --min-age */
	double oldest_s;
	uint64_t faults, mapped;	/* pages faulted in, bytes mapped */
	/* interposed: the samples behind the estimates, and their variances */
	uint64_t samples;
	double var_bytes, var_allocs, var_out_bytes, var_out_blocks, var_peak_bytes;
};

struct mem_report {
	char target[256];
	struct profile *prof;	/* frames, and stacks weighted for folded and SVG: it owns the report (ext) */
	struct mem_site *sites;
	size_t nsites, sites_cap;
	double duration;
	bool exact;
	double overhead_pct;	/* the default mode's budget; 0: --exact was asked */
	double share;		/* time the allocator probes were on / all */
	double scale;		/* estimated calls / calls seen: what estimates are scaled by */
	uint64_t allocs, frees, bytes, bytes_freed;	/* estimated when not exact */
	uint64_t blocks_outstanding, bytes_outstanding;
	uint64_t faults, mapped;
	uint64_t hist[64];	/* allocations of 2^i .. 2^(i+1) - 1 bytes */
	uint64_t lost_blocks, lost_stacks;
	uint64_t lost_samples;	/* the interposer's samples ebprof's program did not see */
	/*
	 * frees of blocks never seen allocated; *check_frees*: a command traced
	 * from its start, every call, where there should be none (-p has
	 * blocks from before the attach, the budget misses some allocations)
	 */
	uint64_t unseen_frees;
	bool check_frees;
	/*
	 * -p, every call: the frees after the first moments (MEM_LATE_S), and
	 * of those the ones of blocks never seen allocated.  Most of them
	 * unseen: an allocator the probes miss, or a process freeing what it
	 * made long before (said as either)
	 */
	uint64_t late_frees, late_unseen;
	bool check_late;
	/* its CPython began to finalize: the frees after that not counted (its teardown) */
	bool finalized;
	uint64_t final_frees, final_allocs, final_bytes;
	/* a CPython whose object allocator is inlined where -p cannot probe it: its module, the call sites */
	char py_inlined[64];
	uint64_t py_inlined_sites;
	uint64_t lost_ustacks, lost_pystacks;	/* allocations counted without their native, Python stack */
	long rss_now_kib, rss_peak_kib;	/* -1: unknown */
	bool leaks;
	double min_age;
	double cost_s, work_s;	/* budgeted mode: what the probes cost the target, its own work */
	double probe_x;		/* the probes' cost over the target's work while they were on; -1: no work */
	double uncertainty;	/* of the estimates, relative */
	bool floor_only;	/* probe_x is so high that the estimates are floors */
	bool few_windows;	/* ... or the windows too few to scale by: counts as seen */
	int windows;		/* times the probes went on */
	int nprobes;		/* functions probed */
	/*
	 * A launched command's interposer counted every call (the totals are
	 * exact) and sampled the bytes allocated, on average one sample each
	 * *sample_bytes*: the sites' figures are estimates, with variances
	 */
	bool interposed;
	uint64_t sample_bytes, samples;
	bool sample_adaptive;	/* sample_bytes the least interval: it grew to sample_max while samples came fast */
	uint64_t sample_max;
	uint64_t peak_heap;	/* the most bytes held at once */
	bool peak_exact;	/* one thread allocated: else a floor */
	bool peak_sites;	/* the sites' peak_ figures are known (a sample before the peak) */
	unsigned int threads;	/* the most that allocated at once */
	uint64_t foreign_frees;	/* of blocks from before the interposer was loaded */
	uint64_t failed;	/* allocations that returned NULL */
	bool not_loaded;	/* the command ran without it (it cleared LD_PRELOAD, exec'd a static program, ...) */
	const char *not_loaded_why;	/* ... why */
	unsigned int children;	/* processes the target forked, not counted */
	double not_loaded_at;	/* ... seen this long into the run (s), the probes from then on; < 0: not probed */
	int py;			/* CPython's object allocator: EBMEM_PY_* (user/memshm.h) */
	bool by_syscall;	/* the interposer's markers told by getppid, not by uprobes */
	/* the exact totals less the stacks' estimates of them, and those estimates' variance */
	double unattributed, unattributed_out, var_sum, var_out_sum;
	double unattributed_peak, var_peak_sum;	/* the same of the peak heap */
};

/* frees *m* (a profile's ext_free): not its profile */
void mem_report__free(void *m);
/* are the counts incomplete: frees of blocks never seen allocated where there should be none? */
bool mem_report__incomplete(const struct mem_report *m);
#define MEM_BOUND_SIGMAS 4	/* an estimate's bound: standard deviations */
#define MEM_MIN_WINDOWS 10	/* windows the default mode scales its counts from, at the least */
/* -p: most frees after the first moments were of blocks never seen allocated? */
bool mem_report__late_unseen(const struct mem_report *m);
#define MEM_LATE_S 2.0	/* seconds of -p after which a free of an unseen block is news */
/* the mode's renderer: the table and JSON of its report, else the generic ones of its profile */
int mem_render(const struct profile *p, int format, const struct render_opts *o, FILE *out);
/*
 * What the counts stand for, from the budget's books in seconds of the
 * target's CPU time: its own work while the probes were on and off (its
 * CPU time less theirs), and their cost.
 */
void mem_report__estimate(struct mem_report *m, bool exact, int windows, double work_on, double work_off, double cost);
int mem_render_table(const struct mem_report *m, int rows, FILE *out);
/*
 * --lines: per source line of the top functions (or of FUNC,...), what the
 * allocations made while it ran allocated, still hold, how many, and the
 * pages they first touched (a profile's ext_lines).  -ENOENT: no function
 * with line information
 */
int mem_render_lines(const struct profile *p, const char *func, int top, FILE *out);
/* mem_budget.c: the arithmetic of the default mode's budget and of --exact's cost */
#define MEM_MIN_ON 0.001	/* seconds a window stays on at the least */
/* how long the next window stays on at the least, given what the last one cost over its CPU time */
double mem_window_min_on(double last_cost, double last_on_cpu);
enum mem_budget_act { MEM_BUDGET_KEEP, MEM_BUDGET_ON, MEM_BUDGET_OFF };
/*
 * Probes on or off: off when what they cost the target (*cost*, seconds)
 * exceeds half of --overhead of its own *work*, once on for *min_on*; on
 * again when its work has earned them back (not while the last ones are
 * still closing).  Budget left unused for a second of work is gone
 * (*forgone*, kept by the caller).
 */
enum mem_budget_act mem_budget_decide(double overhead_pct, double work, double cost, double *forgone, bool on,
				      double on_for, double min_on, bool detaching);
/* --exact over a window: the target's CPU time and what it says of its own work (seconds) */
struct mem_rate {
	double cpu;		/* its CPU time */
	double spent;		/* the traps' calibrated cost, its programs' run time */
	double user;		/* its time in user mode (the traps run in the kernel); < 0: unknown */
	double base_user, base_sys;	/* before the probes went on; base_user < 0: unknown */
	double tick;		/* what a reading of user and system time can be off by */
	double ktick;		/* the kernel's tick: user and system time are split by sampling at it */
};
/*
 * The most its own work can have been: the least of its CPU time less
 * the traps' cost at the low end of their calibration, and its time in
 * user mode over the share of user mode before the probes (each taken at
 * the far end of its sampling error, and widened by two ticks of a
 * reading).  cpu over it is a floor of the slowdown.
 */
double mem_work_most(const struct mem_rate *m);
/*
 * The least variance of an interposer's estimate *est* of a site (bytes,
 * or blocks with *p* over their mean size) sampled at mean intervals up to
 * *p*, of which the run made *total*: what a bound of MEM_BOUND_SIGMAS
 * standard deviations needs to cover the truth however few its samples
 */
double mem_least_var(double est, double p, double total);
int mem_render_json(const struct mem_report *m, FILE *out);

#endif
