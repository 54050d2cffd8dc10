/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * stat.h - ebprof stat: counts for a command or running processes, as
 * perf stat and time(1) give them.  The model, math and rendering here are
 * pure (unit-tested on recorded values); mode_stat.c collects.
 */
#ifndef __EBPROF_STAT_H
#define __EBPROF_STAT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* rows that are not perf events: from rusage and /proc */
enum stat_pseudo {
	STAT_WALL = 1,		/* seconds */
	STAT_USER,		/* seconds */
	STAT_SYS,		/* seconds */
	STAT_VCSW,		/* voluntary context switches */
	STAT_IVCSW,		/* involuntary context switches */
	STAT_MAXRSS,		/* KiB */
};

struct stat_event {
	const char *name;	/* perf's name: "cache-misses" */
	const char *alias;	/* another name perf accepts, or NULL */
	uint32_t type;		/* PERF_TYPE_*, or 0xffffffff for a pseudo row */
	uint64_t config;	/* or enum stat_pseudo */
	const char *unit;	/* "msec", "seconds", "KiB" or "" */
	bool hardware;		/* needs a PMU */
};

#define STAT_PSEUDO 0xffffffffu
#define STAT_MAX_EVENTS 48
#define STAT_MAX_RUNS 100

/* every event and pseudo row ebprof stat knows, by perf's name or alias */
const struct stat_event *stat_event_find(const char *name);
/* the rows shown when -e is not given, in order */
size_t stat_default_events(const struct stat_event **out, size_t max);
/* the time and rusage rows, always shown */
size_t stat_pseudo_events(const struct stat_event **out, size_t max);

/* one counter as read: perf's read format with times */
struct stat_read {
	uint64_t value, enabled, running;
};

/*
 * scale a multiplexed count by enabled/running, as perf does: *pct* gets
 * the share of the time it was counted (100 when never multiplexed); false
 * when it was enabled but never counted (multiplexed out all along)
 */
bool stat_scale(const struct stat_read *r, double *value, double *pct);

/* mean and perf stat -r's "+-": the standard deviation of the mean, % of it */
void stat_mean_rel_stddev(const double *v, int n, double *mean, double *rel_stddev);

/* a row of results */
struct stat_row {
	const struct stat_event *ev;
	bool supported;		/* the event could be opened */
	bool counted;		/* ... and ran */
	double value;		/* scaled; the mean with -r */
	double pct;		/* time counted, % */
	double rel_stddev;	/* -r: +- % */
	int nruns;
	double runs[STAT_MAX_RUNS];	/* -r: each run's value */
};

struct stat_result {
	char target[256];
	struct stat_row rows[STAT_MAX_EVENTS];
	size_t nrows;
	int runs;		/* -r N: runs done */
	int status;		/* exit status of the (last failing) run */
	int failed;		/* -r: runs that exited non-zero */
	bool command;		/* a command was run (wall/user/sys from rusage) */
	bool attach;		/* counts start at attach: max-rss is the process's peak */
};

/* the row of event *name*, or NULL */
const struct stat_row *stat_row(const struct stat_result *r, const char *name);
/*
 * the "# ..." note perf prints beside a row: IPC beside instructions,
 * miss rates, CPUs utilized, rates per second; "" if none
 */
void stat_note(const struct stat_result *r, const struct stat_row *row, char *buf, size_t len);

/* perf stat's layout */
void stat_render_table(const struct stat_result *r, FILE *out);
/*
 * {"events": {NAME: {"value", "unit", ...}}, ...}; *extra*, when given,
 * writes more members ("\"threads\": [...]") before the closing brace
 */
void stat_render_json(const struct stat_result *r, FILE *out, void (*extra)(void *ctx, FILE *out),
		      void *ctx);

/*
 * Things that make timings unstable, one line each into *lines*: the CPU
 * frequency governor, turbo, battery.  *root* prefixes /sys ("" for the
 * real one; tests give a fixture tree).  Returns the number of lines.
 */
int stat_env_warnings(const char *root, char lines[][256], int max);
/*
 * From two /proc/stat "cpu" lines *dt* apart (and what the target used), the
 * CPUs other processes kept busy
 */
double stat_busy_cpus(const char *before, const char *after);

struct ebprof_opts;
/* ebprof stat: the exit status (the command's, with a command) */
int stat_main(const struct ebprof_opts *o);

#endif
