/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * session.h - what every mode needs around its collector: privilege and
 * kernel checks, signals, target validation, launching a command held
 * until the probes are in place, and safe output files.
 */
#ifndef __EBPROF_SESSION_H
#define __EBPROF_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include "cli.h"

extern volatile sig_atomic_t exiting;
/* when main() started, for the time-to-attach report */
extern double session_t0;

struct launch {
	pid_t pid;		/* 0: no command */
	int go_fd;		/* write a byte to let it exec */
	int err_fd;		/* exec's errno comes back here */
	bool done;
	int status;		/* wait status once done */
	struct rusage pre_exec;	/* the child's own, just before exec */
	struct rusage ru;	/* once done: its usage (max RSS ...) */
};

void session_install_signals(void);
/* 0, or an exit status after printing why ebprof cannot run here */
int session_check_system(void);
/* check each -p pid exists and turn thread ids into process ids */
int session_resolve_pids(struct ebprof_opts *o);
/* is *cmd* something execvp can run?  prints why not */
int session_check_command(char **cmd);
/* fork the command, held before exec: 0 or -errno */
int launch_start(struct launch *l, char **cmd);
/* let it exec: 0, or -errno when exec failed (printed) */
int launch_release(struct launch *l);
/* has it exited?  (non-blocking) */
bool launch_poll(struct launch *l);
/* stop it if it still runs, and reap it: its exit status for ours */
int launch_finish(struct launch *l);
/*
 * open an output file for writing without following a symbolic link:
 * NULL after printing why
 */
FILE *open_output(const char *path);
/* "comm" of a process, or "?" */
void proc_comm(int pid, char *buf, size_t len);
/*
 * make tracefs reachable for tracepoint ids, mounting it in a private mount
 * namespace when the system has not mounted it; false if that failed
 */
bool ensure_tracefs(void);
/* seconds on CLOCK_MONOTONIC */
double now_sec(void);

#endif
