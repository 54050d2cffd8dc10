/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * profile.h - the aggregate every renderer reads: symbolized stacks with
 * counts, plus what the run was and what it lost.  Pure data: no BPF, no
 * /proc, so renderers are unit-tested on profiles the tests build.
 */
#ifndef __EBPROF_PROFILE_H
#define __EBPROF_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strmap;

struct frame {
	const char *func;	/* what stacks show: "f", "f (file.py:12)" */
	const char *module;	/* library, or a Python frame's source file */
	bool kernel;
	bool python;
	int line;		/* source line of this frame, 0: none */
	uint32_t fn;		/* the frame of its whole function: itself unless line */
	/* of function frames, for line reports: the source, as tgid sees it */
	const char *src;
	int src_line;		/* the function's first line */
	int src_tgid;
};

/* samples of a function on one of its source lines (--lines) */
struct line_hit {
	uint32_t fn;
	int line;
	uint64_t count;
};

struct stack {
	int tgid;
	int tid;		/* 0 unless per-thread */
	const char *comm;
	uint64_t count;
	uint64_t count2;	/* of the second event (-e A,B) */
	uint32_t nframes;
	uint32_t *frames;	/* frame ids, outermost first */
	char *text;		/* "comm;outer;...;leaf": sort key and folded line */
};

struct profile_meta {
	char target[256];	/* "pid 42 (python3)", "all processes", "command ..." */
	const char *event;	/* "cpu-clock" */
	const char *event2;	/* the second event sampled, or NULL */
	bool weighted;		/* counts are events (sums of sample periods), not samples */
	uint64_t samples;	/* samples taken (of both events) */
	bool counted;		/* counted[] holds the exact counts of the target's events */
	uint64_t counted_events[2];
	unsigned int freq;	/* Hz, 0 when sampling by period */
	double duration;	/* seconds profiled */
	bool per_process;	/* group rows by process (-a, several pids) */
	bool per_thread;
	/* losses, from the BPF side */
	uint64_t lost_counts;	/* counts map full */
	uint64_t lost_ustacks;	/* user stack missing (map full or unreadable) */
	uint64_t lost_kstacks;	/* kernel stack not stored */
	uint64_t kstack_collisions;
	uint64_t ustack_truncated;
	uint64_t lost_events;
	/* stack quality: how user walks ended */
	const char *unwinder;	/* "dwarf" or "fp" */
	uint64_t user_stacks;	/* samples with a user stack */
	uint64_t complete;	/* ... whose walk reached _start, main or the thread start */
	uint64_t ends[16];	/* the others, by enum ebprof_walk_end */
	/* Python: processes walked, samples with a Python stack, losses */
	uint64_t py_procs, py_samples, py_no_tstate, py_lost, py_truncated, py_errors;
	/* every run of the sampler and the idle task's share; the kernel's own
	 * count of the runs and of those it skipped (0 unless bpf_stats_enabled) */
	uint64_t fired, idle, prog_runs, prog_misses;
	/* of those, a launched command's before its exec (ebprof's code): not samples */
	uint64_t before_exec;
	/* unwind tables (dwarf): rows stored, files, time to build them */
	uint64_t table_rows, table_files;
	double table_build_s;
};

/* names of enum ebprof_walk_end values, for reports ("no_table", ...) */
const char *profile_end_name(unsigned int end);

struct profile {
	struct profile_meta meta;
	struct frame *frames;
	size_t nframes, frames_cap;
	struct stack *stacks;
	size_t nstacks, stacks_cap;
	uint64_t total;		/* sum of stack counts */
	uint64_t total2;	/* ... of count2 */
	struct line_hit *hits;	/* unordered */
	size_t nhits, hits_cap;
	struct strmap *hit_ids;
	struct strmap *strings;
	struct strmap *frame_ids;
	struct strmap *stack_ids;
	bool finished;
	size_t text_bytes;	/* the interned strings */
	uint64_t *key;		/* a stack's index key, built here (stack_key) */
	size_t key_cap;
};

struct profile *profile__new(void);
void profile__free(struct profile *p);
/* the id of a frame, interning its strings: >= 0 or -ENOMEM */
int profile__frame(struct profile *p, const char *func, const char *module, bool kernel);
/* a Python function's frame: "name (base.py)"; its source is *file* */
int profile__py_func(struct profile *p, const char *name, const char *file, int first, int tgid);
/* a frame of function frame *fn* at *line*, shown as *text*: >= 0 or -ENOMEM */
int profile__line_frame(struct profile *p, uint32_t fn, const char *text, int line);
/* give function frame *fn* a source file and first line (--lines) */
int profile__set_source(struct profile *p, uint32_t fn, const char *src, int first, int tgid);
/* *count* samples of function frame *fn* on *line*: 0 or -ENOMEM */
int profile__hit(struct profile *p, uint32_t fn, int line, uint64_t count);
/*
 * add *count* samples of a stack of *n* frame ids, outermost first; equal
 * stacks of the same thread merge: 0 or -ENOMEM
 */
int profile__add(struct profile *p, int tgid, int tid, const char *comm,
		 const uint32_t *frames, uint32_t n, uint64_t count);
/* the same with a count of the second event */
int profile__add2(struct profile *p, int tgid, int tid, const char *comm,
		  const uint32_t *frames, uint32_t n, uint64_t count, uint64_t count2);
/*
 * the stacks of processes that *gone* says are gone, merged into pid 0 by
 * command and frames: what a long -a run keeps of exited processes.
 * 0 or -ENOMEM (the profile is then empty).
 */
int profile__fold(struct profile *p, bool (*gone)(int tgid, void *ctx), void *ctx);
/* about how many bytes of memory the profile holds */
size_t profile__bytes(const struct profile *p);
/*
 * the stacks' counts shared out anew so that they add up to *to* (and
 * their second counts to *to2*), each keeping its share; a total of 0
 * stays 0.  Line hits scale alike.
 */
void profile__scale(struct profile *p, uint64_t to, uint64_t to2);
/* sort the stacks (count descending, then text) and build their texts */
int profile__finish(struct profile *p);
const struct frame *profile__frame_at(const struct profile *p, uint32_t id);
/* a root label for a stack: "comm", or "comm-tid" / "comm-pid" when split */
void profile__root_label(const struct profile *p, const struct stack *s, char *buf, size_t len);

#endif
