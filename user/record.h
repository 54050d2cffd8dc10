/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef __EBPROF_RECORD_H
#define __EBPROF_RECORD_H

struct ebprof_opts;

/* ebprof record: a profile per interval until SIGTERM, Ctrl-C or -d; an exit status */
int record_main(const struct ebprof_opts *o);

#endif
