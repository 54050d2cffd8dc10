/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * profile.h - the aggregate every renderer reads: symbolized stacks with
 * their values (each of a type, in a unit), plus what the run was and what
 * it lost.  Pure data: no BPF, no
 * /proc, so renderers are unit-tested on profiles the tests build.
 */
#ifndef __EBPROF_PROFILE_H
#define __EBPROF_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/* the most values a stack carries (pprof's sample_type) */
#define PROFILE_MAX_VALUES 8

/*
 * What one of a profile's values counts and in what unit, as pprof's
 * ValueType: ("samples", "count"), ("page-faults", "count"), ("off-cpu",
 * "nanoseconds"), ("alloc_space", "bytes").  Value 0 is the one tables
 * sort by, percentages are of and flame graphs are drawn with.
 */
struct profile_value {
	const char *type;
	const char *unit;	/* "count", "nanoseconds" or "bytes" */
};

struct stack {
	int tgid;
	int tid;		/* 0 unless per-thread */
	const char *comm;
	uint64_t *v;		/* meta.nvalues values */
	uint32_t nframes;
	uint32_t *frames;	/* frame ids, outermost first (in v's allocation) */
	char *text;		/* "comm;outer;...;leaf": sort key and folded line */
};

/* what a loss costs the profile */
enum profile_loss_kind {
	LOSS_SAMPLES,		/* samples are gone: not in the profile */
	LOSS_STACKS,		/* samples are in, with part of their stack missing */
	LOSS_OTHER,		/* neither (events about the targets) */
};

/* one kind of loss a mode can have: reported, with its fix, even when 0 in JSON */
struct profile_loss {
	const char *key;	/* its JSON name in "lost": "counts", "kernel_stack_collisions" */
	enum profile_loss_kind kind;
	uint64_t n;
	const char *what;	/* after the count: "samples lost: the counts map is full" */
	const char *fix;	/* "rerun with a larger --map-size", or NULL */
};

#define PROFILE_MAX_LOSSES 16

struct profile_meta {
	const char *mode;	/* the mode that made it: "cpu" */
	char target[256];	/* "pid 42 (python3)", "all processes", "command ..." */
	const char *event;	/* "cpu-clock" */
	const char *event2;	/* the second event sampled, or NULL */
	bool weighted;		/* counts are events (sums of sample periods), not samples */
	struct profile_value values[PROFILE_MAX_VALUES];
	unsigned int nvalues;	/* set before the first stack is added */
	uint64_t samples;	/* samples taken (of both events) */
	bool counted;		/* counted[] holds the exact counts of the target's events */
	uint64_t counted_events[PROFILE_MAX_VALUES];
	unsigned int freq;	/* Hz, 0 when sampling by period */
	/* what a sample stands for, as pprof's period_type and period (type NULL: nothing) */
	struct profile_value period_type;
	uint64_t period;
	int64_t time_ns;	/* when it started, ns since the epoch (CLOCK_REALTIME) */
	double duration;	/* seconds profiled */
	bool per_process;	/* group rows by process (-a, several pids) */
	bool by_command;	/* ... by command: every process of one command is one group (tgid 0) */
	bool self_in_user;	/* a table's self is the innermost user frame (waits: the call that waited) */
	bool per_thread;
	/* the stacks as shown: PROFILE_VIEW_* (profile__view) */
	int view;
	bool view_default;	/* ... chosen by ebprof, not asked for */
	/* every kind of loss the mode can have, in the order reported */
	struct profile_loss losses[PROFILE_MAX_LOSSES];
	unsigned int nlosses;
	/* stack quality: how user walks ended */
	const char *unwinder;	/* "dwarf" or "fp" */
	uint64_t user_stacks;	/* samples with a user stack */
	uint64_t complete;	/* ... whose walk reached _start, main or the thread start */
	uint64_t in_exec;	/* ... in execve, whose old program's stack was gone (not a defect) */
	uint64_t ends[16];	/* the others, by enum ebprof_walk_end */
	/* Python: processes walked, samples with a Python stack, samples of threads without one */
	uint64_t py_procs, py_samples, py_no_tstate;
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
	uint64_t totals[PROFILE_MAX_VALUES];	/* of each value over the stacks */
	struct line_hit *hits;	/* unordered */
	size_t nhits, hits_cap;
	struct strmap *hit_ids;
	struct strmap *strings;
	struct strmap *frame_ids;
	struct strmap *stack_ids;
	struct strmap *build_ids;	/* module -> its file's build-id */
	bool finished;
	/* a mode's own results beside the stacks (mem's sites and totals), freed with the profile */
	void *ext;
	void (*ext_free)(void *ext);
	/* the --lines report of a mode with its own (ebprof mem's); NULL: render_lines() */
	int (*ext_lines)(const struct profile *p, const char *func, int top, FILE *out);
	size_t text_bytes;	/* the interned strings */
	uint64_t *key;		/* a stack's index key, built here (stack_key) */
	size_t key_cap;
};

struct profile *profile__new(void);
/*
 * an empty profile of the same kind as *old*: its mode, event, target,
 * grouping, values and kinds of loss (at 0), for a run that hands out a
 * profile per period
 */
struct profile *profile__new_like(const struct profile *old);
void profile__free(struct profile *p);
/* the build-id (hex) of the file *module* names, for pprof's mappings: 0 or -ENOMEM */
int profile__set_build_id(struct profile *p, const char *module, const char *build_id);
/* ... or NULL */
const char *profile__build_id(const struct profile *p, const char *module);
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
 * what the stacks' values are: *n* of them (at most PROFILE_MAX_VALUES),
 * before the first stack is added; a new profile has ("samples", "count").
 * The strings must outlive the profile.  0 or -EINVAL.
 */
int profile__set_values(struct profile *p, unsigned int n, const struct profile_value *v);
/* the index of the value of *type*, or -1 */
int profile__value_index(const struct profile *p, const char *type);
/*
 * add *v* (meta.nvalues values) to a stack of *n* frame ids, outermost
 * first; equal stacks of the same thread merge: 0 or -ENOMEM
 */
int profile__addv(struct profile *p, int tgid, int tid, const char *comm,
		  const uint32_t *frames, uint32_t n, const uint64_t *v);
/* the same with *count* of value 0 (the others 0) */
int profile__add(struct profile *p, int tgid, int tid, const char *comm,
		 const uint32_t *frames, uint32_t n, uint64_t count);
/*
 * a kind of loss the run can have, at *n* (called again with the same
 * key: *n* replaces the count, the place and texts stay); *key*, *what*
 * and *fix* must outlive the profile.  0, or -ENOSPC past
 * PROFILE_MAX_LOSSES kinds.
 */
int profile__loss(struct profile *p, const char *key, enum profile_loss_kind kind, uint64_t n,
		  const char *what, const char *fix);
/* the count of loss *key* (0 if the mode has none of that kind) */
uint64_t profile__lost(const struct profile *p, const char *key);
/* the sum of the losses of *kind* */
uint64_t profile__lost_kind(const struct profile *p, enum profile_loss_kind kind);
/*
 * the stacks of processes that *gone* says are gone, merged into pid 0 by
 * command and frames: what a long -a run keeps of exited processes.
 * 0 or -ENOMEM (the profile is then empty).
 */
int profile__fold(struct profile *p, bool (*gone)(int tgid, void *ctx), void *ctx);
/* about how many bytes of memory the profile holds */
size_t profile__bytes(const struct profile *p);
/*
 * the stacks' values shared out anew so that value i adds up to to[i]
 * (meta.nvalues of them), each stack keeping its share; a total of 0
 * stays 0.  Line hits scale with value 0.
 */
void profile__scale(struct profile *p, const uint64_t *to);
/* sort the stacks (values descending, then text) and build their texts */
int profile__finish(struct profile *p);

/* which frames stacks show (--view) */
enum profile_view {
	PROFILE_VIEW_MIXED,	/* Python frames between the native ones that ran them */
	PROFILE_VIEW_PYTHON,	/* only the Python frames of stacks that have them */
	PROFILE_VIEW_NATIVE,	/* no Python frames: the interpreter's C frames */
};
/* "mixed", "python", "native" */
const char *profile_view_name(int view);
/*
 * The stacks shown as *view* asks, in place: PYTHON keeps only the Python
 * frames of each stack that has one (a sample counts for its innermost
 * Python frame, the C code it called included; stacks without Python
 * frames stay whole), NATIVE drops the Python frames; stacks that become
 * equal merge.  Sorted again when the profile was finished.  0 or -ENOMEM
 * (the profile is then empty).
 */
int profile__view(struct profile *p, enum profile_view view);
/* does a stack of *p* have a Python frame? */
bool profile__has_python(const struct profile *p);
const struct frame *profile__frame_at(const struct profile *p, uint32_t id);
/* a root label for a stack: "comm", or "comm-tid" / "comm-pid" when split */
void profile__root_label(const struct profile *p, const struct stack *s, char *buf, size_t len);

#endif
