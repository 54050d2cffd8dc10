/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * symbolizer.h - addresses to function and module names, per process.
 *
 * A process's mappings are snapshotted while it runs (at start, exec, and
 * when it maps new code), and every mapped file is opened at once, so that
 * samples still resolve after the process has exited or the file has been
 * deleted.  Files are parsed once, shared by every process that maps them.
 */
#ifndef __EBPROF_SYMBOLIZER_H
#define __EBPROF_SYMBOLIZER_H

#include <stdbool.h>
#include <stdint.h>

struct sym_frame {
	const char *func;	/* demangled name, or "module+0xVADDR" (until the 4th call after) */
	const char *module;	/* basename, "[kernel]", "[vdso]", "[unknown]" ... */
	bool known;		/* a symbol was found */
	struct dso *dso;	/* the file the address is in, or NULL */
	uint64_t vaddr;		/* ... at this ELF virtual address (looked-up address) */
};

struct symbolizer;
struct dso;

/* an executable mapping of a process */
struct sym_mapping {
	uint64_t start, end, pgoff;
	struct dso *dso;	/* NULL: anonymous or special */
	const char *name;	/* module column */
};

struct symbolizer *symbolizer__new(void);
void symbolizer__free(struct symbolizer *s);
/* call *fn* for each file mapping of each snapshot (NULL: none) */
void symbolizer__on_file(struct symbolizer *s, void (*fn)(struct dso *d, int tgid, unsigned int gen, void *ctx),
			 void *ctx);

/* snapshot the mappings of *tgid* for exec generation *gen*: 0 or -errno */
int symbolizer__snapshot(struct symbolizer *s, int tgid, unsigned int gen);
/* a forked child starts with its parent's mappings */
int symbolizer__inherit(struct symbolizer *s, int tgid, unsigned int gen, int ptgid);
bool symbolizer__has(struct symbolizer *s, int tgid);
/* drop what is known of process *tgid* (it exited and its samples are in) */
void symbolizer__forget(struct symbolizer *s, int tgid);
/* bytes held by the names it made (demangled, interned): they grow with the functions seen */
size_t symbolizer__name_bytes(const struct symbolizer *s);
/* the newest exec generation snapshotted for *tgid* (0 if none) */
unsigned int symbolizer__latest_gen(struct symbolizer *s, int tgid);

/*
 * name a user address of *tgid*; *ret_addr* says it is a return address
 * (every frame but the innermost), which is looked up one byte earlier so
 * that a call at the very end of a function still names that function
 */
void symbolizer__user(struct symbolizer *s, int tgid, unsigned int gen, uint64_t addr,
		      bool ret_addr, struct sym_frame *out);
void symbolizer__kernel(struct symbolizer *s, uint64_t addr, bool ret_addr,
			struct sym_frame *out);
/* the executable mappings of *tgid*'s newest snapshot, sorted: their number */
size_t symbolizer__mappings(struct symbolizer *s, int tgid, const struct sym_mapping **out);
/* intern a string for the life of the symbolizer */
const char *symbolizer__intern(struct symbolizer *s, const char *str);

#endif
