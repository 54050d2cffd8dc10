/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * stacks.h - a sample's user frames as the profile keeps them: native
 * frames, each CPython eval frame replaced by the Python frames it ran,
 * gap frames where a walk stopped short; source lines for --lines; how
 * complete each walk was.  Pure: the names come through callbacks, so any
 * mode (and the unit tests) can use it.
 */
#ifndef __EBPROF_STACKS_H
#define __EBPROF_STACKS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "ebprof.h"
#include "profile.h"
#include "sym/elf.h"
#include "sym/symbolizer.h"

#define MAX_FRAMES (2 * EBPROF_MAX_STACK + EBPROF_PY_MAX_FRAMES + 2)
/* what stands where native frames that ran Python frames were not walked */
#define GAP_FRAME "[native frames not walked]"

/* frames being put together, innermost first, with their source lines */
struct frame_list {
	uint32_t ids[MAX_FRAMES];
	int lines[MAX_FRAMES];
	uint32_t n;
};

/* a Python frame named: function, file, first line, the line it is at (0: unknown) */
struct py_named {
	const char *name, *file;
	int first, line;
};

/* how frames get their names */
struct stack_names {
	/* the native frame at *addr* (*ret*: a return address, look one byte back) */
	void (*native)(void *ctx, int tgid, unsigned int gen, uint64_t addr, bool ret, struct sym_frame *out);
	/* its source line (--lines): false if none; NULL: none ever */
	bool (*native_line)(void *ctx, const struct sym_frame *sf, struct srcline *out);
	/* a Python frame */
	void (*python)(void *ctx, int tgid, const struct py_frame *f, struct py_named *out);
	void *ctx;
	bool lines;		/* --lines: native frames with their source */
	bool line_frames;	/* ... and a frame of their line, as Python frames are (top's view by line) */
	bool no_lineno;		/* Python frames without their line */
};

/*
 * The user frames of one sample into *fl*, innermost first: *ips* (*nr*
 * native frames, as walked) and *pf* (*np* Python frames, innermost
 * first), the walk having ended as *end* says (enum ebprof_walk_end).
 * 0 or -ENOMEM.
 */
int stacks_user(const struct stack_names *sn, struct profile *p, int tgid, unsigned int gen,
		unsigned int end, const __u64 *ips, uint32_t nr, const struct py_frame *pf, uint32_t np,
		struct frame_list *fl);

/* is *func* the native frame that runs Python frames? */
bool stacks_is_eval(const char *func);

/*
 * Book a stack of *n* frame ids (outermost first), walked to *end*, with
 * weight *count* in the profile's stack quality: complete when the walk
 * said so or it reached an entry (_start, main, clone, clone3,
 * start_thread).
 */
/* is kernel function *func* BPF's tracing machinery (bpf_prog_*, bpf_trace_run*, __bpf_trace_*, ...) */
bool stacks_tracing_frame(const char *func);
void stacks_quality(struct profile *p, unsigned int end, const uint32_t *ids, int n, uint64_t count);

/* --lines: each function once per sample, on the line of its innermost frame */
int stacks_count_lines(struct profile *p, const uint32_t *ids, const int *lines, int n, uint64_t count);

#endif
