/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef __EBPROF_COLLECT_CPU_H
#define __EBPROF_COLLECT_CPU_H

#include "cli.h"
#include "profile.h"
#include "session.h"

/*
 * sample the targets of *o* on CPU until stopped, and build *out*; a
 * launched command is in *l*.  Returns 0 or an exit status (printed).
 */
struct mem_report;
/* ... or with MODE_MEM, trace its allocations into *mout* */
int cpu_collect(const struct ebprof_opts *o, struct launch *l, struct profile **out, struct mem_report **mout);

#endif
