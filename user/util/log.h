/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef __EBPROF_LOG_H
#define __EBPROF_LOG_H

#include <stdio.h>

/* 0: errors and warnings, 1: + info, 2: + debug (--debug) */
extern int log_level;

#define pr_err(fmt, ...)	fprintf(stderr, "ebprof: " fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...)	fprintf(stderr, "ebprof: warning: " fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)	do { if (log_level >= 1) fprintf(stderr, "ebprof: " fmt, ##__VA_ARGS__); } while (0)
#define pr_debug(fmt, ...)	do { if (log_level >= 2) fprintf(stderr, "ebprof: debug: " fmt, ##__VA_ARGS__); } while (0)

#endif
