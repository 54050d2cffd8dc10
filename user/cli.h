/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef __EBPROF_CLI_H
#define __EBPROF_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include "render/render.h"
#include "stat.h"

#define EBPROF_VERSION "0.1.0"
#define MAX_PIDS 64

/* exit statuses */
#define EXIT_USAGE	2	/* bad command line */
#define EXIT_NOFEATURE	3	/* the kernel lacks a required feature */

enum ebprof_mode {
	MODE_CPU,
	MODE_STAT,
	MODE_MEM,
	MODE_OFF,
	MODE_WALL,
	MODE_LAT,
	MODE_TOP,	/* cpu's sampling, shown live */
	MODE_RECORD,	/* cpu's sampling, a pprof per interval: files, a backend */
};

#define RECORD_MAX_LABELS 16

struct ebprof_event_spec {
	const char *name;	/* perf's name: "cpu-clock" */
	uint32_t type;		/* PERF_TYPE_* */
	uint64_t config;
	uint64_t period;	/* 0: sample at the frequency */
	bool timer;		/* a clock: period in ns from the frequency */
};

struct ebprof_opts {
	enum ebprof_mode mode;
	int pids[MAX_PIDS];
	int npids;
	bool all;
	char **cmd;		/* NULL-terminated, or NULL */
	unsigned int freq;
	bool freq_set;		/* -F was given */
	double duration;	/* 0: until Ctrl-C or the targets exit */
	const char *output;
	enum render_format format;
	bool format_set;
	bool no_kernel;
	bool per_thread;
	bool per_pid;		/* -a, several pids: a row per process, not per command */
	bool include_self;	/* -a: ebprof's own process too */
	int rows;
	bool debug;
	bool verbose;
	struct ebprof_event_spec event;
	struct ebprof_event_spec event2;	/* -e A,B */
	int nevents;
	unsigned int map_size;	/* entries in each stack map */
	unsigned int unwind_rows;	/* rows in the unwind table pool */
	bool fp;		/* frame pointers only, no unwind tables */
	bool lines;		/* --lines: line-level report */
	const char *lines_func;	/* ... of this function only */
	bool no_lineno;		/* Python frames per function */
	bool line_frames;	/* native frames of a known line as frames of their own (top) */
	bool no_python;
	bool no_debuginfod;
	int view;		/* --view: enum profile_view, -1: python for a table, else mixed */
	/* ebprof stat's own */
	struct stat_opts {
		const struct stat_event *events[STAT_MAX_EVENTS + 1];	/* -e, NULL-terminated */
		int repeat;		/* -r N */
		unsigned int interval_ms;	/* -I MS */
		bool json;
	} stat;
	/* ebprof mem's own */
	struct mem_opts {
		bool exact;		/* every allocator call */
		double overhead;	/* % slowdown allowed otherwise */
		bool leaks;
		double min_age;		/* seconds */
		bool count;		/* weigh stacks by allocations, not bytes */
		bool peak;		/* ... by what they held at the peak heap */
		unsigned int max_blocks;
		uint64_t sample_bytes;	/* the interposer's mean sampling interval; 0: its default */
		bool no_preload;	/* a command too by the probes on the allocators */
		bool preload;		/* a command with the interposer (none of --exact, --overhead, --no-preload) */
	} mem;
	/* ebprof lat's own */
	struct lat_opts {
		const char *funcs;	/* FUNC[,FUNC...] */
		bool per_call;
		unsigned int call_limit;	/* --per-call lines a second */
		double interval;	/* -i: seconds, 0: none */
		bool exact;		/* Python functions by probes on the eval loop */
	} lat;
	/* ebprof top's own */
	struct top_opts {
		double delay;		/* seconds between refreshes */
		double window;		/* the rows count the last *window* seconds */
	} top;
	/* ebprof record's own */
	struct record_opts {
		double interval;	/* seconds a profile covers */
		const char *out;	/* a directory for the files, or NULL */
		double max_disk_mb;	/* what the files in it may take */
		const char *push;	/* a Pyroscope's base URL, or NULL */
		const char *app;	/* its application (service) name */
		const char *labels[RECORD_MAX_LABELS];	/* "k=v" */
		int nlabels;
		unsigned int max_unsent;	/* intervals kept while the backend is down */
		const char *log;	/* messages to this file (reopened on SIGHUP), or NULL */
	} record;
	/* ebprof off's own */
	struct off_opts {
		double min_block_us;	/* switches shorter than this are not counted */
		bool state;		/* split by why the thread went out */
		bool wakers;		/* and by who woke it */
	} off;
};

/*
 * parse the command line into *o*: 0 to run, 1 when --help or --version was
 * printed, -EINVAL after printing one line about what is wrong
 */
int cli_parse(int argc, char **argv, struct ebprof_opts *o);
/* the --help text of mode *name* ("cpu", "stat", ...), NULL when there is no such mode */
const char *cli_mode_usage(const char *name);
/* "cpu-clock", "page-faults/1000", ...: 0, -ENOENT (no such event) or -ERANGE (a bad period) */
int cli_parse_event(const char *spec, struct ebprof_event_spec *ev);
/* "1,2,3": 0 or -EINVAL */
int cli_parse_pids(const char *arg, struct ebprof_opts *o);

#endif
