/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef __EBPROF_PROCMAPS_H
#define __EBPROF_PROCMAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* one line of /proc/PID/maps */
struct map_entry {
	uint64_t start, end, pgoff;
	uint64_t dev;		/* makedev(major, minor) */
	uint64_t ino;
	bool exec;
	bool deleted;		/* the path ended in " (deleted)" */
	char path[256];		/* "" for anonymous memory */
};

/* parse one maps line: 0, or -EINVAL */
int procmaps_parse_line(const char *line, struct map_entry *e);
/*
 * the executable mappings in *f* (a maps file): an array in *out*, sorted by
 * address, with its length in *n*: 0 or -errno
 */
int procmaps_parse(FILE *f, struct map_entry **out, size_t *n);
/*
 * the executable mappings of process *pid*, as procmaps_parse() gives
 * them: by PROCMAP_QUERY where the kernel has it (6.11), else from the
 * text (*text*: from the text anyway).  0, -ESRCH (none: a zombie, a
 * kernel thread) or -errno.
 */
int procmaps_read_how(int pid, struct map_entry **out, size_t *n, bool text);
int procmaps_read(int pid, struct map_entry **out, size_t *n);

#endif
