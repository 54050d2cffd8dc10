/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * collect.h - what the collectors share (collect_cpu.c, collect_mem.c): the
 * run's state, the frames of a counted key, and ebprof mem's steps.
 * Internal: only collect_*.c include it.
 */
#ifndef __EBPROF_COLLECT_H
#define __EBPROF_COLLECT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "collect_cpu.h"
#include "cpu.skel.h"
#include "mem.skel.h"
#include "session.h"
#include "ebprof.h"
#include "python.h"
#include "stacks.h"


/*
 * What every mode's BPF object has (bpf/targets.bpf.h and the walkers it
 * includes), whichever skeleton it comes from: the session drives these.
 * The rodata pointers are written before the load only.
 */
struct session_bpf {
	struct bpf_object *obj;
	struct bpf_map *targets, *events, *stats, *ustacks, *kstacks, *unwind_rows, *unwind_procs;
	struct bpf_map *py_events, *py_procs, *py_threads, *py_codes, *pystacks;
	struct bpf_program *on_mmap_enter, *on_mmap_exit;
	bool *targ_all, *targ_follow_fork, *targ_python;
	__u32 *hold_new_code, *epoch;
};

#define SESSION_BPF(s) ((struct session_bpf){						\
	.obj = (s)->obj, .targets = (s)->maps.targets, .events = (s)->maps.events,		\
	.stats = (s)->maps.stats, .ustacks = (s)->maps.ustacks, .kstacks = (s)->maps.kstacks,	\
	.unwind_rows = (s)->maps.unwind_rows, .unwind_procs = (s)->maps.unwind_procs,		\
	.py_events = (s)->maps.py_events, .py_procs = (s)->maps.py_procs,			\
	.py_threads = (s)->maps.py_threads, .py_codes = (s)->maps.py_codes,			\
	.pystacks = (s)->maps.pystacks, .on_mmap_enter = (s)->progs.eb_mmap_enter,		\
	.on_mmap_exit = (s)->progs.eb_mmap_exit, .targ_all = &(s)->rodata->targ_all,		\
	.targ_follow_fork = &(s)->rodata->targ_follow_fork,					\
	.targ_python = &(s)->rodata->targ_python, .hold_new_code = &(s)->bss->hold_new_code,	\
	.epoch = &(s)->bss->epoch })

struct cpu_run {
	const struct ebprof_opts *o;
	struct session_bpf b;	/* b.obj: NULL until opened */
	struct cpu_bpf *cpu_skel;	/* the mode's own: one of these */
	struct mem_bpf *mem_skel;
	struct symbolizer *sym;
	struct ring_buffer *rb;
	struct bpf_link **links;
	int *pefds;
	int ncpus;
	bool track_mmap;	/* else re-read the targets' mappings periodically */
	bool dwarf;		/* user stacks by unwind tables */
	struct bpf_program *prog;	/* the sampler in use */
	struct unwind_pool *pool;
	struct pyreg *py;	/* NULL: no Python stacks */
	struct ring_buffer *py_rb;	/* code objects, read by py_thread */
	pthread_t py_thread;
	bool py_thread_on;
	unsigned int py_lag_us;	/* EBPROF_TEST_PY_LAG_MS: the reader wakes so seldom */
	volatile bool py_stop;
	struct ebprof_event *queue;	/* events waiting for run_queue() */
	size_t nqueue, queue_cap;
	/* ebprof mem: its own state (collect_mem.c) */
	bool mem;
	struct mem_run *mr;
	bool pool_full_warned;
	bool pids_gone[MAX_PIDS];
	int pidfds[MAX_PIDS];	/* -p targets: readable once exited, whoever has the pid by then */
	/* drains: the counts of one epoch into the profile while the samplers fill the other */
	unsigned int epoch;	/* the one they fill */
	unsigned long drains;
	double last_drain, drain_s;
	__u64 new_base;		/* EBPROF_STAT_NEW_E* of the epoch when it began */
	int first_tgid;		/* the first process a sample came from */
	struct exited { int tgid; unsigned long drains; } *exited;	/* -a: to forget after two drains */
	size_t nexited, exited_cap;
	struct strmap *fold;	/* exited and forgotten: their stacks to merge by command */
	double last_fold;
	pthread_mutex_t py_rb_lock;	/* py_reader() and a drain both consume py_rb */
	/* counted events: each event counted on the target's tasks, inherited by their children */
	struct task_counter counters[2];
	double jittered;	/* when the clock periods were last drawn */
};

/* what key_frames() works in: too big for the stack */
struct key_scratch {
	struct frame_list fl;
	struct py_stack ps;
	struct ustack us, ks;
	uint32_t ids[MAX_FRAMES];	/* the result: frame ids, outermost first */
	int lines[MAX_FRAMES];		/* ... and their lines */
};

/* the frames of *k* as ids in *p*, in s->ids and s->lines: how many, or < 0 */
int key_frames(struct cpu_run *r, struct profile *p, const struct sample_key *k, struct key_scratch *s);

/* ebprof mem (collect_mem.c), in the order a run calls them */
struct mem_report;
int mem_configure(struct cpu_run *r, int pid);	/* before the load: its programs, maps */
void mem_start(struct cpu_run *r, char **cmd);	/* loaded: calibrate, find the allocators, probes on */
void mem_scan(struct cpu_run *r, int tgid);	/* new mappings: more allocators */
int mem_poll_timeout(struct cpu_run *r, int timeout);	/* how long the loop may wait, in ms */
void mem_tick(struct cpu_run *r);	/* each turn of the loop: RSS, the budget */
void mem_stop(struct cpu_run *r);		/* the books closed, the probes off */
int mem_build_report(struct cpu_run *r, struct launch *l, struct mem_report *m, double duration);
void mem_free(struct cpu_run *r);		/* whatever is left */
int mem_nprobes(const struct cpu_run *r);

#endif
