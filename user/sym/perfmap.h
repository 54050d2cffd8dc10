/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * perfmap.h - /tmp/perf-PID.map, where JITs (CPython 3.12 -X perf, Node
 * --perf-basic-prof, perf-map-agent) name the code they generate:
 * "START SIZE name" per line, hex numbers.
 */
#ifndef __EBPROF_PERFMAP_H
#define __EBPROF_PERFMAP_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct perfmap;

struct perfmap *perfmap__parse(FILE *f);
/*
 * the map of process *pid* (whose files live under *root*), read only when
 * it is a regular file owned by *uid* or by root: NULL with errno set
 */
struct perfmap *perfmap__load(const char *root, int nspid, uid_t uid);
void perfmap__free(struct perfmap *m);
/* the name of the code at *addr*, or NULL */
const char *perfmap__find(const struct perfmap *m, uint64_t addr);
size_t perfmap__count(const struct perfmap *m);

#endif
