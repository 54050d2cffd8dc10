/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * run.h - one run of a BPF mode, and what a mode plugs into it.
 *
 * run.c is the session every mode shares and knows no mode: it opens the
 * mode's BPF object through the mode, configures, loads and attaches what
 * every object has (bpf/targets.bpf.h), keeps the target set (a launched
 * command held then released, -p, -a; fork, exec, exit, new code), the
 * targets' mappings and unwind tables, Python discovery, the event queue,
 * the deadline and the poll loop, and names the stacks the walkers
 * recorded (key_frames).  A mode is a struct mode_ops, its own BPF object
 * and state, and one line in the mode table (run.c).  A mode that opens
 * no BPF object (stat, which counts with perf events) gets the rest: the
 * targets, the launch, the loop, its deadline and the periodic snapshot.
 */
#ifndef __EBPROF_RUN_H
#define __EBPROF_RUN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "cli.h"
#include "ebprof.h"
#include "profile.h"
#include "python.h"
#include "session.h"
#include "stacks.h"

/*
 * What every mode's BPF object has (bpf/targets.bpf.h and the walkers it
 * includes), whichever skeleton it comes from: the session drives these.
 * The rodata pointers are written before the load only.
 */
struct session_bpf {
	struct bpf_object *obj;
	struct bpf_object_skeleton *skeleton;	/* loaded and attached by the session */
	struct bpf_map *targets, *events, *stats, *ustacks, *kstacks, *unwind_rows, *unwind_procs, *ucache;
	struct bpf_map *py_events, *py_procs, *py_threads, *py_codes, *pystacks;
	struct bpf_program *on_mmap_enter, *on_mmap_exit;
	bool *targ_all, *targ_follow_fork, *targ_python;
	__u32 *targ_self;
	__u32 *hold_new_code, *epoch;
};

/* the shared part of a mode's skeleton *s* */
#define SESSION_BPF(s) ((struct session_bpf){						\
	.obj = (s)->obj, .skeleton = (s)->skeleton, .targets = (s)->maps.targets, .events = (s)->maps.events,		\
	.stats = (s)->maps.stats, .ustacks = (s)->maps.ustacks, .kstacks = (s)->maps.kstacks,	\
	.unwind_rows = (s)->maps.unwind_rows, .unwind_procs = (s)->maps.unwind_procs,		\
	.ucache = (s)->maps.ucache,								\
	.py_events = (s)->maps.py_events, .py_procs = (s)->maps.py_procs,			\
	.py_threads = (s)->maps.py_threads, .py_codes = (s)->maps.py_codes,			\
	.pystacks = (s)->maps.pystacks, .on_mmap_enter = (s)->progs.eb_mmap_enter,		\
	.on_mmap_exit = (s)->progs.eb_mmap_exit, .targ_all = &(s)->rodata->targ_all,		\
	.targ_self = &(s)->rodata->targ_self,							\
	.targ_follow_fork = &(s)->rodata->targ_follow_fork,					\
	.targ_python = &(s)->rodata->targ_python, .hold_new_code = &(s)->bss->hold_new_code,	\
	.epoch = &(s)->bss->epoch })

struct run;
struct render_opts;
struct strmap;
struct perf_event_attr;

/*
 * A mode.  Called in this order: open, configure, (the session loads and
 * attaches its object), start, announce, then new_code and event as the
 * targets change and tick each turn of the loop, then stop, report,
 * destroy (always, even after a failure, with whatever was set up).  int
 * returns: 0, or an exit status already said (EXIT_NOFEATURE, 1), or
 * -errno for tick.
 */
struct mode_ops {
	const char *name;
	/* optional: a command is about to be started (*path*: its executable): what it needs first */
	void (*before_launch)(const struct ebprof_opts *o, const char *path);
	/*
	 * its state in r->mode, its BPF object opened and the shared part in
	 * r->b (a mode without BPF leaves r->b.obj NULL)
	 */
	int (*open)(struct run *r);
	/* optional: before the load, after the session's settings: its rodata, maps, programs */
	int (*configure)(struct run *r);
	/* the targets are in the set and their code read; a command is still held */
	int (*start)(struct run *r);
	/* the line -v prints once it runs */
	void (*announce)(struct run *r, double attach_ms);
	/* optional: a target's code changed (read again: exec, mmap, fork, start) */
	void (*new_code)(struct run *r, int tgid);
	/* optional: an event of the target set, after the session's handling */
	void (*event)(struct run *r, const struct ebprof_event *e);
	/* how long the loop may wait for events, in ms */
	int (*poll_ms)(struct run *r);
	int (*tick)(struct run *r);
	/*
	 * optional: every r->snapshot_s seconds of the run, what the mode has
	 * found since the last one (stat's -I); *t*: seconds since the start
	 */
	void (*snapshot)(struct run *r, double t);
	/*
	 * optional, for a live front end (struct run_sink): take in all that
	 * was found so far into r->p, fill its meta and finish it as report
	 * does; the session then hands r->p out and gives the mode an empty
	 * one like it (profile__new_like).  0, or an exit status already said.
	 */
	int (*flush)(struct run *r);
	/* the run is over: no more events come; the last ones are taken in after */
	void (*stop)(struct run *r);
	/* what it found, into *out*, over *duration* seconds */
	int (*report)(struct run *r, double duration, struct profile **out);
	/*
	 * optional: its own rendering of *p* in *format* (enum render_format),
	 * where the generic renderers are not enough (mem's table and JSON)
	 */
	int (*render)(const struct profile *p, int format, const struct render_opts *o, FILE *out);
	void (*destroy)(struct run *r);
};

extern const struct mode_ops cpu_mode, mem_mode, off_mode, wall_mode, stat_mode, lat_mode;

/* the stacks a mode records (struct run.stacks, set in its open) */
enum run_stacks {
	RUN_STACKS_ALL,		/* native (unwind tables) and Python */
	RUN_STACKS_PYTHON,	/* Python only: no unwind tables, native stack maps of one entry */
	RUN_STACKS_NONE,	/* none: no Python walker either */
};

/*
 * A live front end (ebprof top, ebprof record): instead of one report at
 * the end, the run hands it a profile of each period of *period_s*
 * seconds, the last one (shorter) when the run ends.  The front end knows
 * no mode; the mode needs a flush.
 */
#define RUN_SINK_END (-1)

/* why a run ended, as the last period's profile is handed out */
enum run_end {
	RUN_END_NONE,		/* not the last period */
	RUN_END_SIGNAL,		/* Ctrl-C, SIGTERM */
	RUN_END_DEADLINE,	/* -d */
	RUN_END_TARGETS,	/* the targets exited */
	RUN_END_SINK,		/* the front end asked (top's q) */
	RUN_END_ERROR,		/* said already */
};

struct run_sink {
	double period_s;
	/*
	 * a period's profile, finished, from *t0* to *t1* (seconds of the
	 * run); the sink owns it.  *end*: RUN_END_NONE, or why the run is
	 * over (the last period).  0 goes on, RUN_SINK_END ends the run, > 0
	 * an exit status (already said).
	 */
	int (*profile)(void *ctx, struct profile *p, double t0, double t1, enum run_end end);
	/* optional: each turn of the loop (at least every 100 ms): as profile returns */
	int (*tick)(void *ctx);
	void *ctx;
};

struct run {
	const struct ebprof_opts *o;
	const struct mode_ops *ops;
	void *mode;		/* the mode's own state */
	enum run_stacks stacks;	/* what the walkers are set up for */
	bool reuse_walks;	/* the mode walks threads where they block: keep each one's last walk */
	double snapshot_s;	/* the mode's snapshot period (set in open), 0: none */
	struct launch *l;
	int launch_fd;		/* a pidfd of the launched command, or -1 */
	struct session_bpf b;	/* b.obj: NULL until opened */
	struct profile *p;	/* frames and stacks the mode names into */
	struct symbolizer *sym;
	struct ring_buffer *rb;
	int ncpus;
	bool track_mmap;	/* else re-read the targets' mappings periodically */
	bool dwarf;		/* user stacks by unwind tables */
	struct unwind_pool *pool;
	__u32 unwind_version;	/* of the last unwind_procs entry written */
	struct pyreg *py;	/* NULL: no Python stacks */
	struct ring_buffer *py_rb;	/* code objects, read by py_thread */
	pthread_t py_thread;
	bool py_thread_on;
	unsigned int py_lag_us;	/* EBPROF_TEST_PY_LAG_MS: the reader wakes so seldom */
	volatile bool py_stop;
	pthread_mutex_t py_rb_lock;	/* py_reader() and run_py_catch_up() both consume py_rb */
	struct ebprof_event *queue;	/* events waiting for run_queue() */
	size_t nqueue, queue_cap;
	bool pool_full_warned;
	double last_collect;	/* when the pool last gave rows back */
	bool pids_gone[MAX_PIDS];
	int pidfds[MAX_PIDS];	/* -p targets: readable once exited, whoever has the pid by then */
	struct strmap *read_at;	/* tgid -> when its maps were last read (mono ns) */
	unsigned long reads_saved;	/* mmap events the last read had covered */
	/* a live front end's: the run's counts at the end of the last period (they are cumulative) */
	struct profile_meta live_base;
};

/*
 * Run the mode of *o* on its targets until stopped (a command launched
 * in *l*), and build its profile *out*; with a *sink*, hand it a profile
 * per period instead (*out* is not set).  Returns 0 or an exit status
 * (printed).
 */
int run_mode(const struct ebprof_opts *o, struct launch *l, const struct run_sink *sink, struct profile **out);
/* the mode's before_launch, if it has one */
void run_before_launch(const struct ebprof_opts *o, const char *path);
/* *p*, the profile of *o*'s mode, in *format*: by the mode's renderer if it has one */
int run_render(const struct ebprof_opts *o, const struct profile *p, int format, const struct render_opts *ro,
	       FILE *out);

/* what key_frames() works in: too big for the stack */
struct key_scratch {
	struct frame_list fl;
	struct py_stack ps;
	struct ustack us, ks;
	uint32_t ids[MAX_FRAMES];	/* the result: frame ids, outermost first */
	int lines[MAX_FRAMES];		/* ... and their lines */
};

/* the frames of *k* as ids in *p*, in s->ids and s->lines: how many, or < 0 */
int key_frames(struct run *r, struct profile *p, const struct sample_key *k, struct key_scratch *s);
struct unwind_regs;
/* the stacks of a thread that is not running, stored: run_walk_blocked() */
struct run_walked {
	__u64 ustack_hash, pystack_hash;	/* 0: none */
	__u32 flags;				/* EBPROF_F_* */
};
void run_walk_blocked(struct run *r, int tgid, const struct unwind_regs *regs, __u64 fs, struct run_walked *out);
/* a counter of the shared stats map (EBPROF_STAT_*), summed over the CPUs */
__u64 run_stat_sum(struct run *r, __u32 idx);
/* take in the Python code objects reported so far, before naming stacks */
void run_py_catch_up(struct run *r);
/* can a perf_event program call helper *id* here? */
bool run_have_helper(enum bpf_func_id id);
/*
 * A sampling event *attr* (named *name* in errors) opened on every online
 * CPU with *prog* attached (its cookie *cookie*): fds[cpu] and links[cpu]
 * (-1 and NULL for offline CPUs; both arrays r->ncpus long).  How many
 * CPUs, or -1 after saying why.
 */
int run_attach_per_cpu(struct run *r, struct perf_event_attr *attr, const char *name, struct bpf_program *prog,
		       __u64 cookie, int *fds, struct bpf_link **links);
/* the process a single-target mode (mem) traces */
int run_target_pid(const struct run *r);

#endif
