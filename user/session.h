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
#include <stdint.h>
#include <linux/types.h>
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
	bool stopped;		/* it did not end by itself: launch_finish() stopped it */
	int status;		/* wait status once done */
	struct rusage pre_exec;	/* the child's own, just before exec */
	struct rusage ru;	/* once done: its usage (max RSS ...) */
};

void session_install_signals(void);
/* 0, or an exit status after printing why ebprof cannot run here */
int session_check_system(void);
/* check each -p pid exists and turn thread ids into process ids */
int session_resolve_pids(struct ebprof_opts *o);
/* is *cmd* something execvp can run?  prints why not; its path into *buf* */
int session_check_command(char **cmd, char *buf, size_t len);
/* launch_start(): the command's standard output goes to ebprof's standard error */
#define LAUNCH_STDOUT_TO_STDERR 1
/* fork the command, held before exec: 0 or -errno */
int launch_start(struct launch *l, char **cmd, unsigned int flags);
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
/*
 * the same, into a new temporary file beside *path* (its name in *tmp*),
 * so that a run that fails (a full disk) leaves no truncated file behind:
 * close_output() renames it over *path* when *ok* and every write went
 * through, else removes it; 0, or -errno after saying why.  A *path*
 * that is a device or a FIFO (/dev/null) is written as it is (*tmp*
 * NULL), never replaced.
 */
FILE *open_output_tmp(const char *path, char **tmp);
int close_output(FILE *f, const char *path, char *tmp, bool ok);
/* *words* joined by spaces into *buf* (cut short to fit): the length written */
size_t join_words(char *buf, size_t len, char **words);
/* the first line of *path* into *buf*, without its newline; false if unreadable or empty */
bool read_line(const char *path, char *buf, size_t len);
/* "comm" of a process, or "?" */
void proc_comm(int pid, char *buf, size_t len);
/* is *var* ("NAME=value") in the environment *pid* started with? */
bool proc_environ_has(int pid, const char *var);
/* did *pid* start with the argument *arg* (its command line, argv[1] on)? */
bool proc_cmdline_has(int pid, const char *arg);
/*
 * /proc/PID/stat: the user and system CPU seconds of all its threads, as
 * the kernel splits them (by where its ticks land); false if gone
 */
bool proc_times(int pid, double *ut, double *st);
/*
 * make tracefs reachable for tracepoint ids, mounting it in a private mount
 * namespace when the system has not mounted it; false if that failed
 */
bool ensure_tracefs(void);
/* seconds on CLOCK_MONOTONIC */
double now_sec(void);

/*
 * A perf event counting on every task of a process, and on the tasks they
 * start (inherited): exact, and up to date when read, unlike a process's
 * CPU clock read from outside, which moves a scheduler tick at a time.
 */
struct task_counter {
	int *fds;
	size_t n, cap;
};
/*
 * count event *type*, *config* on *pid*: only the thread ids in
 * /proc/PID/task when *all_tasks* (a running process), else *pid* alone (a
 * launched command not started yet); *threads_only*: not in child
 * processes.  0 or -errno
 */
int task_counter__open(struct task_counter *c, int pid, __u32 type, __u64 config, bool all_tasks,
		       bool threads_only);
/* the sum over its tasks: 0 or -errno */
int task_counter__read(const struct task_counter *c, uint64_t *sum);
void task_counter__close(struct task_counter *c);

#endif
