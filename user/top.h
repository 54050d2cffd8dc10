/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef __EBPROF_TOP_H
#define __EBPROF_TOP_H

struct ebprof_opts;

/* ebprof top: the live view until q, Ctrl-C, SIGTERM or -d; an exit status */
int top_main(const struct ebprof_opts *o);

#endif
