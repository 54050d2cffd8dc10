/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * uprobes.h - what the modes that put uprobes on a target's functions
 * share (mem on the allocators, lat on the functions it times): the files
 * whose functions they look for, each looked at once whatever path it
 * comes by, found before a launched command maps them, and uprobe.multi
 * links, which libbpf 1.1 cannot make.
 */
#ifndef __EBPROF_UPROBES_H
#define __EBPROF_UPROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct dso;
struct symbolizer;

struct uprobe_files {
	/* a file not looked at yet, by the path to probe it through */
	void (*scan)(void *ctx, struct dso *d, const char *path);
	void *ctx;
	struct uprobe_seen { dev_t dev; ino_t ino; } *seen;
	size_t nseen, seen_cap;
	struct dso **scanned;	/* the symbolizer's dsos already passed on */
	size_t nscanned, scanned_cap;
};

/* the files *tgid* maps now (as the symbolizer read them) that were not looked at */
void uprobe_files__mapped(struct uprobe_files *f, struct symbolizer *sym, int tgid);
/*
 * The files command *cmd* maps first, found as exec and ld.so will find
 * them: its executable and what LD_PRELOAD names, and with *needed* the
 * libraries it links (DT_NEEDED, by its RPATH/RUNPATH, LD_LIBRARY_PATH
 * and the system's directories).  Probed by path, their breakpoints go in
 * as the files are mapped, so the first calls are seen.
 */
void uprobe_files__command(struct uprobe_files *f, char **cmd, bool needed);
/* has the file at *path* been looked at (under any path)?  *add*: it has now */
bool uprobe_files__seen(struct uprobe_files *f, const char *path, bool add);
void uprobe_files__free(struct uprobe_files *f);

/* does this kernel have uprobe.multi links (6.6)?  EBPROF_NO_UPROBE_MULTI says no */
bool uprobe_multi_supported(void);
/* BPF_TRACE_UPROBE_MULTI, for bpf_program__set_expected_attach_type() */
#define EBPROF_TRACE_UPROBE_MULTI 48
/*
 * One uprobe.multi link of *prog_fd* on *n* offsets of *path* (their
 * cookies, or NULL), return probes if *ret*, for process *pid* (0: all):
 * its fd, or -errno
 */
int uprobe_multi_link(int prog_fd, const char *path, const uint64_t *offsets, const uint64_t *cookies, uint32_t n,
		      bool ret, int pid);

/*
 * A uprobe of *entry* on *offset* of *path* (0: the symbol *func*) and,
 * when *ret* is not NULL, a uretprobe of *ret* on it, both with attach
 * cookie *cookie*, for process *pid*: 0 and both links, or -errno and
 * neither
 */
struct bpf_program;
struct bpf_link;
int uprobe_attach_pair(struct bpf_program *entry, struct bpf_program *ret, int pid, const char *path,
		       uint64_t offset, const char *func, uint64_t cookie, struct bpf_link **entry_link,
		       struct bpf_link **ret_link);
/*
 * uprobe.multi links of programs *entry_fd* and *ret_fd* on the same *n*
 * offsets of *path* (their cookies): 0 and both links' fds, or -errno
 * and neither
 */
int uprobe_multi_pair(int entry_fd, int ret_fd, const char *path, const uint64_t *offsets, const uint64_t *cookies,
		      uint32_t n, int pid, int *entry_link, int *ret_link);

#endif
