/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * top_model.h - what ebprof top shows, without the terminal: the stacks
 * of the last seconds, a period at a time, and the rows they make as the
 * view's settings say.  Pure data (no curses, no BPF), unit-tested.
 */
#ifndef __EBPROF_TOP_MODEL_H
#define __EBPROF_TOP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct profile;
struct strmap;

/* a frame as top keeps it: its strings interned in the model */
struct tframe {
	const char *func;	/* as shown by line: "f (x.py:12)" */
	const char *fn;		/* as shown by function: "f (x.py)", "f" */
	const char *module;	/* base name */
	bool kernel;
};

/* one stack of a period: its group (command or process), count and frames, outermost first */
struct tstack {
	uint32_t group;
	uint32_t nframes;
	uint64_t count;
	uint32_t *frames;
};

/* what one period brought */
struct tperiod {
	double t0, t1;		/* seconds of the run */
	uint64_t samples, lost, user_stacks, complete;
	double self_cpu;	/* ebprof's own CPU seconds over it */
	struct tstack *stacks;
	size_t nstacks;
};

/* a row of the view */
struct trow {
	uint32_t group;		/* TOP_NO_GROUP: no process column */
	uint32_t frame;		/* the tframe whose name it shows */
	uint64_t self, total;
	uint64_t seen;		/* the last stack that counted it in total (recursion counts once) */
};

#define TOP_NO_GROUP UINT32_MAX

struct top_model {
	double window;		/* seconds the rows count */
	bool per_process;	/* stacks grouped by command (or process) */
	/* the view's settings */
	bool sort_total, no_kernel, by_line, paused;
	int drilled;		/* only this group, or -1 */
	char filter[64];	/* only functions with this text, case aside */
	/* the stacks */
	struct strmap *strings;
	struct strmap *frame_ids;
	struct tframe *frames;
	size_t nframes, frames_cap;
	int kernel_only;	/* the frame of "[kernel]", or -1 */
	struct strmap *group_ids;
	char **groups;
	size_t ngroups, groups_cap;
	struct tperiod *periods;	/* oldest first */
	size_t nperiods, periods_cap;
	double paused_at;	/* the end of the last period shown while paused */
	/* the rows, by top_count() */
	struct trow *rows;
	size_t nrows, rows_cap;
	struct strmap *row_ids;
	uint64_t scope_samples;	/* samples of the stacks counted (of the group drilled into) */
	double covered;		/* seconds of the periods counted */
	struct tperiod sum;	/* their header figures, summed */
};

int top_model_init(struct top_model *m, double window, bool per_process);
void top_model_free(struct top_model *m);
/*
 * a period's profile, from *t0* to *t1*, with *self_cpu* seconds of
 * ebprof's own: shown by its Python frames where it has them, as the
 * profile's table is.  0 or -ENOMEM.
 */
int top_model_add(struct top_model *m, struct profile *p, double t0, double t1, double self_cpu);
/* the counts from zero */
void top_model_reset(struct top_model *m);
/* the view stays at what it shows now (the periods still come), or goes on */
void top_model_pause(struct top_model *m, bool on);
/* the rows of the window, sorted, as the settings say: 0 or -ENOMEM */
int top_model_count(struct top_model *m);

#endif
