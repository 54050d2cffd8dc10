/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * python.h - CPython processes: find the interpreter in a process, check
 * that ebprof can read it, tell the BPF walker how (py_procs), and name
 * the code objects the walker reports, while the process still exists.
 */
#ifndef __EBPROF_PYTHON_H
#define __EBPROF_PYTHON_H

#include <stdbool.h>
#include <stdint.h>

struct symbolizer;
struct pyreg;

/* a code object, as read from the process */
struct py_code_event;

struct py_code {
	const char *name;	/* co_qualname (3.11+) or co_name */
	const char *file;	/* co_filename */
	int first;		/* co_firstlineno */
	unsigned int minor;	/* CPython 3.minor: how to read the line table */
	const uint8_t *tab;	/* line table */
	size_t tablen;
	bool known;		/* false: no line table; name and file are what the walker
				   read when it saw the code, or "name" says why not */
};

/* *procs_fd*: the BPF py_procs map; *quiet*: info lines only (-a) */
struct pyreg *py__new(struct symbolizer *sym, int procs_fd, bool quiet);
void py__free(struct pyreg *r);

/*
 * look for CPython in *tgid*'s mappings (as the symbolizer has them now):
 * turns on Python stacks for it once its interpreter is running and
 * checks out; prints one line when it is a Python ebprof cannot read
 */
void py__scan(struct pyreg *r, int tgid);
/* an exec or an exit: whatever was known of *tgid*'s interpreter is gone */
void py__forget(struct pyreg *r, int tgid);
/* free all that is known of the processes *gone* names, code objects too */
void py__drop(struct pyreg *r, bool (*gone)(int tgid, void *ctx), void *ctx);
/* a forked child runs its parent's interpreter */
void py__fork(struct pyreg *r, int child, int parent);
/* retry processes whose interpreter was not running yet: how many wait */
int py__retry(struct pyreg *r);
/* at the end: say why processes whose checks kept failing have no Python stacks */
void py__finish(struct pyreg *r);
/* processes whose Python stacks were on, exited ones too */
int py__walked(const struct pyreg *r);

/* the walker saw a new code object: read it now (what it read of it if it is gone) */
void py__code_seen(struct pyreg *r, const struct py_code_event *e);
struct py_stack;
/* the Python stack of a thread that is not running, by its fs base: false when it runs no Python */
bool py__walk_thread(struct pyreg *r, int tgid, uint64_t fs, struct py_stack *st, uint64_t *hash, uint32_t *end);
/* a code object (read now if it was not yet); never NULL */
const struct py_code *py__code(struct pyreg *r, int tgid, uint64_t code, uint32_t sum);
/* the line *instr* is on in *c*: > 0, or 0 if unknown */
int py__line(const struct py_code *c, uint32_t instr);

/* *len* bytes of process *tgid*'s memory at *addr*: 0, or -EFAULT when not all came */
int py__read_mem(int tgid, uint64_t addr, void *buf, size_t len);

#endif
