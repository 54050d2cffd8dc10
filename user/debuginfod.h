/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * debuginfod.h - debug files of stripped binaries (distributions' python3,
 * redis-server) fetched by build-id from the servers DEBUGINFOD_URLS names,
 * through libdebuginfod, in a thread of their own: sampling never waits
 * for the network; the report waits for the files it needs, each as long as
 * its transfer does not stall for a timeout.  The
 * client's cache (DEBUGINFOD_CACHE_PATH, ~/.cache/debuginfod_client) is
 * reused from run to run.
 */
#ifndef __EBPROF_DEBUGINFOD_H
#define __EBPROF_DEBUGINFOD_H

#include <stdbool.h>

/* how long a debug file's transfer may stall before it is given up */
#define DEBUGINFOD_FILE_TIMEOUT_S 10.0

/*
 * start fetching when DEBUGINFOD_URLS names a server: true when started;
 * a transfer that stalls *timeout_s* seconds is given up.  Files asked for are fetched as
 * they come, and the symbolizer opens them by build-id (elf.h's fetcher).
 */
bool debuginfod_start(double timeout_s);
/* fetch the debug file of *build_id* (hex) in the background, once */
void debuginfod_want(const char *build_id);
/* the report starts: from now on a lookup waits for the file it needs */
void debuginfod_final(void);
/*
 * stop: fetches not done are abandoned; says in one line how many files
 * could not be fetched and why (on stderr), if any
 */
void debuginfod_stop(void);

#endif
