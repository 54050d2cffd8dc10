// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mode_stat.c - ebprof stat: counting perf events (no sampling, no BPF)
 * for a command, running processes or the whole machine, with the time
 * and rusage figures time(1) gives.
 *
 * A mode of the session (run.c) without a BPF object: the session
 * launches the command, watches the targets, keeps the deadline and calls
 * the snapshot that prints -I's intervals; stat_main() runs one session
 * for each of -r's runs and prints their mean and spread.
 *
 * A command is counted from its exec (enable_on_exec) with inherited
 * counters, so its threads and children count too; wait4() gives its
 * rusage.  Running processes get inherited counters on each thread there
 * is at attach, which follow the threads and children those create.
 * Multiplexed counters are scaled by time enabled / time running.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "run.h"
#include "session.h"
#include "stat.h"
#include "util/json.h"
#include "util/grow.h"
#include "util/log.h"

#define MAX_FDS_PER_EVENT 4096

struct counter {
	const struct stat_event *ev;
	int *fds;
	int nfds, cap;
	bool supported;
	struct stat_read last;	/* for -I deltas */
	double last_value;
};

struct thread_counters {
	int pid, tid;
	char comm[16];
	int fds[STAT_MAX_EVENTS];
	double v[STAT_MAX_EVENTS];
	bool ok[STAT_MAX_EVENTS];
};

/* the mode's state: one run */
struct stat_run {
	const struct ebprof_opts *o;
	struct launch *l;		/* the command, if one runs */
	bool stopped_at_deadline;	/* -d ended the command of this run */
	const struct stat_event *evs[STAT_MAX_EVENTS];
	size_t nevs;
	struct counter c[STAT_MAX_EVENTS];
	struct thread_counters *threads;
	size_t nthreads, threads_cap;
	FILE *out;
	double t_start, t_end;
	/* -p: /proc figures at the start */
	double utime0, stime0, vcsw0, ivcsw0;
	/* -a: /proc/stat at the start */
	double all_user0, all_sys0;
};

#define S(r) ((struct stat_run *)(r)->mode)

/* one run's results, on its profile (p->ext) for stat_main() */
struct stat_report {
	struct stat_result res;		/* this run's rows (as run 0) */
	bool stopped_at_deadline;
	const struct stat_event *evs[STAT_MAX_EVENTS];
	bool supported[STAT_MAX_EVENTS];
	size_t nevs;
	struct thread_counters *threads;	/* --per-thread: as read at the end */
	size_t nthreads;
};

/* where -I prints: the output of the stat_main() that runs the sessions */
static FILE *stat_out;

static int perf_open(const struct stat_event *ev, pid_t pid, int cpu, bool inherit, bool on_exec)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = ev->type;
	a.config = ev->config;
	a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
	a.inherit = inherit;
	a.disabled = on_exec;
	a.enable_on_exec = on_exec;
	return syscall(__NR_perf_event_open, &a, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* the event is not on this machine (no PMU, or not this one) */
static bool unsupported(int err)
{
	return err == ENOENT || err == EOPNOTSUPP || err == ENODEV || err == EINVAL;
}

static int add_fd(struct counter *c, int fd)
{
	if (c->nfds == c->cap) {
		int cap = c->cap ? 2 * c->cap : 8;
		int *f = realloc(c->fds, cap * sizeof(*f));

		if (!f)
			return -ENOMEM;
		c->fds = f;
		c->cap = cap;
	}
	c->fds[c->nfds++] = fd;
	return 0;
}

/* open event *i* on (pid, cpu): 0, 1 when the machine lacks it, -1 on error (printed) */
static int open_one(struct stat_run *s, size_t i, pid_t pid, int cpu, bool inherit, bool on_exec)
{
	struct counter *c = &s->c[i];
	int fd;

	if (c->ev->type == STAT_PSEUDO)
		return 0;
	if (!c->supported && c->nfds == 0 && c->cap < 0)
		return 1;
	fd = perf_open(c->ev, pid, cpu, inherit, on_exec);
	if (fd < 0) {
		if (unsupported(errno)) {
			pr_debug("%s: not supported (%s)\n", c->ev->name, strerror(errno));
			c->supported = false;
			c->cap = -1;	/* do not try again */
			return 1;
		}
		if (errno == ESRCH)
			return 0;	/* a thread that just exited */
		if (errno == EACCES || errno == EPERM)
			pr_err("permission denied opening '%s': run as root, or lower /proc/sys/kernel/perf_event_paranoid\n",
			       c->ev->name);
		else if (errno == EMFILE)
			pr_err("too many open files counting '%s': raise the limit (ulimit -n) or count fewer events\n",
			       c->ev->name);
		else
			pr_err("cannot count '%s': %s\n", c->ev->name, strerror(errno));
		return -1;
	}
	c->supported = true;
	if (add_fd(c, fd)) {
		close(fd);
		pr_err("out of memory\n");
		return -1;
	}
	return 0;
}

static void close_counters(struct stat_run *s)
{
	size_t i, t;
	int k;

	for (i = 0; i < s->nevs; i++) {
		for (k = 0; k < s->c[i].nfds; k++)
			close(s->c[i].fds[k]);
		free(s->c[i].fds);
		s->c[i].fds = NULL;
		s->c[i].nfds = 0;
		s->c[i].cap = 0;
	}
	for (t = 0; t < s->nthreads; t++)
		for (i = 0; i < s->nevs; i++)
			if (s->threads[t].fds[i] > 0)
				close(s->threads[t].fds[i]);
	free(s->threads);
	s->threads = NULL;
	s->nthreads = s->threads_cap = 0;
}

/* sum of a counter's fds, each scaled; *pct*: time counted */
static bool read_counter(struct counter *c, double *value, double *pct, struct stat_read *raw)
{
	double sum = 0, en = 0, run = 0;
	bool any = false;
	int k;

	memset(raw, 0, sizeof(*raw));
	for (k = 0; k < c->nfds; k++) {
		struct stat_read r;
		double v, p;

		if (read(c->fds[k], &r, sizeof(r)) != sizeof(r))
			continue;
		raw->value += r.value;
		raw->enabled += r.enabled;
		raw->running += r.running;
		if (stat_scale(&r, &v, &p)) {
			sum += v;
			any = true;
		}
		en += r.enabled;
		run += r.running;
	}
	*value = sum;
	*pct = en > 0 ? 100.0 * run / en : 0;
	/* task-clock counts ns */
	if (c->ev->type == PERF_TYPE_SOFTWARE &&
	    (c->ev->config == PERF_COUNT_SW_TASK_CLOCK || c->ev->config == PERF_COUNT_SW_CPU_CLOCK))
		*value /= 1e6;
	return any;
}

/* context switches of the threads of *pid* alive now */
static void proc_ctxsw(int pid, double *vol, double *invol)
{
	char path[300], line[128];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", pid, de->d_name);
		f = fopen(path, "re");
		while (f && fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "voluntary_ctxt_switches:", 24))
				*vol += atof(line + 24);
			else if (!strncmp(line, "nonvoluntary_ctxt_switches:", 27))
				*invol += atof(line + 27);
		}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
}

/* VmHWM of *pid*, KiB, or -1 */
static double proc_hwm(int pid)
{
	char path[64], line[128];
	double v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			v = atof(line + 6);
	if (f)
		fclose(f);
	return v;
}

/* /proc/stat's first line: user and system seconds of all CPUs */
static bool all_times(double *user, double *sys, char *line, size_t len)
{
	unsigned long long v[8] = {};
	char buf[512];

	if (!read_line("/proc/stat", buf, sizeof(buf)))
		return false;
	if (line)
		snprintf(line, len, "%s", buf);
	if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5], &v[6], &v[7]) < 7)
		return false;
	*user = (double)(v[0] + v[1]) / sysconf(_SC_CLK_TCK);
	*sys = (double)(v[2] + v[5] + v[6]) / sysconf(_SC_CLK_TCK);
	return true;
}

/*
 * a thread's name as it is now (a command's first thread is ebprof's until
 * its exec); the last one read stays when the thread is gone
 */
static void thread_comm(struct thread_counters *t)
{
	char path[64], comm[sizeof(t->comm)];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", t->pid, t->tid);
	if (read_line(path, comm, sizeof(comm)))
		memcpy(t->comm, comm, sizeof(comm));
}

/* --per-thread: counters on threads of *pid* not seen yet */
static int scan_threads(struct stat_run *s, int pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		int tid = atoi(de->d_name);
		struct thread_counters *t;
		size_t i;

		if (tid <= 0)
			continue;
		for (i = 0; i < s->nthreads; i++)
			if (s->threads[i].tid == tid)
				break;
		if (i < s->nthreads) {
			thread_comm(&s->threads[i]);
			continue;
		}
		if (GROW(s->threads, s->nthreads, s->threads_cap, 16))
			break;
		t = &s->threads[s->nthreads++];
		memset(t, 0, sizeof(*t));
		t->pid = pid;
		t->tid = tid;
		thread_comm(t);
		for (i = 0; i < s->nevs; i++) {
			t->fds[i] = -1;
			if (s->evs[i]->type != STAT_PSEUDO && s->c[i].supported)
				t->fds[i] = perf_open(s->evs[i], tid, -1, false, false);
		}
	}
	closedir(d);
	return 0;
}

static void read_threads(struct stat_run *s)
{
	size_t t, i;

	for (t = 0; t < s->nthreads; t++) {
		thread_comm(&s->threads[t]);
		for (i = 0; i < s->nevs; i++) {
			struct stat_read r;
			double p;

			if (s->threads[t].fds[i] < 0 ||
			    read(s->threads[t].fds[i], &r, sizeof(r)) != sizeof(r))
				continue;
			s->threads[t].ok[i] = stat_scale(&r, &s->threads[t].v[i], &p);
			if (s->evs[i]->config == PERF_COUNT_SW_TASK_CLOCK && s->evs[i]->type == PERF_TYPE_SOFTWARE)
				s->threads[t].v[i] /= 1e6;
		}
	}
}

/* -I: what each counter did since the last interval */
static void print_interval(struct stat_run *s, double t)
{
	size_t i;

	if (s->o->stat.json)
		fprintf(s->out, "{\"interval\": %.6f, \"events\": {", t);
	for (i = 0; i < s->nevs; i++) {
		struct counter *c = &s->c[i];
		struct stat_read raw;
		double v, pct;
		bool ok;

		if (c->ev->type == STAT_PSEUDO)
			continue;
		ok = c->supported && read_counter(c, &v, &pct, &raw);
		if (s->o->stat.json) {
			fprintf(s->out, "%s\"%s\": ", i ? ", " : "", c->ev->name);
			if (ok)
				fprintf(s->out, "%.17g", v - c->last_value);
			else
				fputs("null", s->out);
		} else if (ok) {
			fprintf(s->out, "%14.6f %18.*f %-5s %s\n", t, !strcmp(c->ev->unit, "msec") ? 2 : 0,
				v - c->last_value, !strcmp(c->ev->unit, "msec") ? "msec" : "", c->ev->name);
		} else {
			fprintf(s->out, "%14.6f %18s %-5s %s\n", t, c->supported ? "<not counted>" : "<not supported>",
				"", c->ev->name);
		}
		if (ok)
			c->last_value = v;
	}
	if (s->o->stat.json)
		fputs("}}\n", s->out);
	fflush(s->out);
}

/*
 * user (or *sys*) seconds since the start: from rusage with a command, from
 * /proc/stat with -a, from the processes' /proc/PID/stat with -p
 */
static bool cpu_times(struct stat_run *s, bool sys, const struct rusage *ru, double *v)
{
	double u = 0, sy = 0, a, b;
	int k;

	if (ru) {
		const struct timeval *t = sys ? &ru->ru_stime : &ru->ru_utime;

		*v = t->tv_sec + t->tv_usec / 1e6;
		return true;
	}
	if (s->o->all) {
		if (!all_times(&u, &sy, NULL, 0))
			return false;
		*v = sys ? sy - s->all_sys0 : u - s->all_user0;
		return true;
	}
	for (k = 0; k < s->o->npids; k++)
		if (proc_times(s->o->pids[k], &a, &b))
			u += a, sy += b;
	*v = sys ? sy - s->stime0 : u - s->utime0;
	return true;
}

/* the rows of one run into *res* (run index *run*) */
static void collect(struct stat_run *s, struct stat_result *res, int run, double wall,
		    const struct rusage *ru, bool have_ru)
{
	size_t i;

	for (i = 0; i < s->nevs; i++) {
		struct stat_row *row = &res->rows[i];
		const struct stat_event *ev = s->evs[i];
		double v = 0, pct = 100;
		bool ok = false;

		row->ev = ev;
		if (ev->type != STAT_PSEUDO) {
			struct stat_read raw;

			row->supported = s->c[i].supported;
			ok = row->supported && read_counter(&s->c[i], &v, &pct, &raw);
		} else {
			row->supported = true;
			ok = true;
			switch (ev->config) {
			case STAT_WALL:
				v = wall;
				break;
			case STAT_USER:
			case STAT_SYS:
				ok = cpu_times(s, ev->config == STAT_SYS, have_ru ? ru : NULL, &v);
				break;
			case STAT_VCSW:
			case STAT_IVCSW:
				if (have_ru) {
					v = ev->config == STAT_VCSW ? ru->ru_nvcsw : ru->ru_nivcsw;
				} else if (s->o->all) {
					ok = row->supported = false;
				} else {
					double vol = 0, inv = 0;
					int k;

					for (k = 0; k < s->o->npids; k++)
						proc_ctxsw(s->o->pids[k], &vol, &inv);
					v = ev->config == STAT_VCSW ? vol - s->vcsw0 : inv - s->ivcsw0;
					if (v < 0)
						v = 0;
				}
				break;
			case STAT_MAXRSS:
				if (have_ru) {
					v = ru->ru_maxrss;
				} else if (s->o->all) {
					ok = row->supported = false;
				} else {
					int k;

					v = -1;
					for (k = 0; k < s->o->npids; k++)
						v = fmax(v, proc_hwm(s->o->pids[k]));
					ok = v >= 0;
				}
				break;
			}
		}
		row->counted = ok;
		row->pct = ok ? pct : 0;
		if (run < STAT_MAX_RUNS)
			row->runs[run] = v;
		row->nruns = run + 1;
		row->value = v;
	}
	res->nrows = s->nevs;
}

/* mean and spread over the runs (all of them counted) */
static void summarize(struct stat_result *res, int runs)
{
	size_t i;

	res->runs = runs;
	if (runs < 2)
		return;
	for (i = 0; i < res->nrows; i++) {
		struct stat_row *row = &res->rows[i];

		if (row->counted)
			stat_mean_rel_stddev(row->runs, runs < STAT_MAX_RUNS ? runs : STAT_MAX_RUNS, &row->value,
					     &row->rel_stddev);
	}
}

static void print_threads(const struct stat_report *rep, FILE *out)
{
	size_t t, i;

	fprintf(out, "\n Per thread:\n\n  %-16s %7s", "comm", "tid");
	for (i = 0; i < rep->nevs; i++)
		if (rep->evs[i]->type != STAT_PSEUDO && rep->supported[i])
			fprintf(out, " %16s", rep->evs[i]->name);
	fputc('\n', out);
	for (t = 0; t < rep->nthreads; t++) {
		fprintf(out, "  %-16s %7d", rep->threads[t].comm, rep->threads[t].tid);
		for (i = 0; i < rep->nevs; i++) {
			if (rep->evs[i]->type == STAT_PSEUDO || !rep->supported[i])
				continue;
			if (rep->threads[t].ok[i])
				fprintf(out, " %16.*f", rep->evs[i]->config == PERF_COUNT_SW_TASK_CLOCK &&
					rep->evs[i]->type == PERF_TYPE_SOFTWARE ? 2 : 0, rep->threads[t].v[i]);
			else
				fprintf(out, " %16s", "-");
		}
		fputc('\n', out);
	}
}

static void print_threads_json(void *ctx, FILE *out)
{
	const struct stat_report *rep = ctx;
	size_t t, i;
	bool first;

	fputs("  \"threads\": [", out);
	for (t = 0; t < rep->nthreads; t++) {
		fprintf(out, "%s\n    {\"pid\": %d, \"tid\": %d, \"comm\": ", t ? "," : "", rep->threads[t].pid,
			rep->threads[t].tid);
		json_str(out, rep->threads[t].comm);
		fputs(", \"events\": {", out);
		first = true;
		for (i = 0; i < rep->nevs; i++) {
			if (rep->evs[i]->type == STAT_PSEUDO || !rep->supported[i])
				continue;
			fprintf(out, "%s\"%s\": ", first ? "" : ", ", rep->evs[i]->name);
			if (rep->threads[t].ok[i])
				fprintf(out, "%.17g", rep->threads[t].v[i]);
			else
				fputs("null", out);
			first = false;
		}
		fputs("}}", out);
	}
	fputs("\n  ]", out);
}

/* the events to count: -e's (or the default ones), then the time and rusage rows */
static int stat_open(struct run *r)
{
	const struct ebprof_opts *o = r->o;
	struct stat_run *s = calloc(1, sizeof(*s));
	const struct stat_event *pseudo[8];
	size_t i, np;

	r->mode = s;
	if (!s) {
		pr_err("out of memory\n");
		return 1;
	}
	s->o = o;
	s->l = r->l;
	s->out = stat_out ? stat_out : stderr;
	if (o->stat.events[0]) {
		for (i = 0; o->stat.events[i] && s->nevs < STAT_MAX_EVENTS; i++) {
			size_t k;

			for (k = 0; k < s->nevs && s->evs[k] != o->stat.events[i]; k++)
				;
			if (k == s->nevs)
				s->evs[s->nevs++] = o->stat.events[i];
		}
	} else {
		s->nevs += stat_default_events(s->evs + s->nevs, STAT_MAX_EVENTS - s->nevs);
	}
	/* then the time and rusage rows (the table prints the times last) */
	np = stat_pseudo_events(pseudo, 8);
	for (i = 0; i < np && s->nevs < STAT_MAX_EVENTS; i++) {
		size_t k;

		for (k = 0; k < s->nevs && s->evs[k] != pseudo[i]; k++)
			;
		if (k == s->nevs)
			s->evs[s->nevs++] = pseudo[i];
	}
	for (i = 0; i < s->nevs; i++)
		s->c[i].ev = s->evs[i];
	/* -I: the session calls stat_snapshot() that often */
	r->snapshot_s = o->stat.interval_ms / 1000.0;
	return 0;
}

/* -p or -a: counters on every thread of the processes, or on every CPU */
static int open_attached(struct stat_run *s)
{
	const struct ebprof_opts *o = s->o;
	int k, cpu, ncpu = sysconf(_SC_NPROCESSORS_CONF);
	size_t i;

	for (i = 0; i < s->nevs; i++) {
		if (o->all) {
			for (cpu = 0; cpu < ncpu; cpu++) {
				int r = open_one(s, i, -1, cpu, false, false);

				if (r < 0 && errno != ENODEV)
					return -1;
				if (r == 1)
					break;
			}
			continue;
		}
		for (k = 0; k < o->npids; k++) {
			char path[64];
			struct dirent *de;
			DIR *d;

			snprintf(path, sizeof(path), "/proc/%d/task", o->pids[k]);
			d = opendir(path);
			while (d && (de = readdir(d))) {
				int tid = atoi(de->d_name), r;

				if (tid <= 0)
					continue;
				r = open_one(s, i, tid, -1, true, false);
				if (r < 0) {
					closedir(d);
					return -1;
				}
				if (r == 1)
					break;
			}
			if (d)
				closedir(d);
		}
	}
	return 0;
}

/*
 * The counters, before the session lets a command exec (they start at
 * its exec) or just before it starts its clock; -p and -a: the /proc
 * figures the run's are taken from
 */
static int stat_start(struct run *r)
{
	struct stat_run *s = S(r);
	const struct ebprof_opts *o = r->o;
	double u, sy;
	size_t i;
	int k;

	if (s->l->pid) {
		for (i = 0; i < s->nevs; i++)
			if (open_one(s, i, s->l->pid, -1, true, true) < 0)
				return 1;
		if (o->per_thread)
			scan_threads(s, s->l->pid);
		s->t_start = now_sec();
		return 0;
	}
	if (open_attached(s))
		return 1;
	s->t_start = now_sec();
	if (o->all) {
		all_times(&s->all_user0, &s->all_sys0, NULL, 0);
		return 0;
	}
	for (k = 0; k < o->npids; k++) {
		if (proc_times(o->pids[k], &u, &sy)) {
			s->utime0 += u;
			s->stime0 += sy;
		}
		proc_ctxsw(o->pids[k], &s->vcsw0, &s->ivcsw0);
		if (o->per_thread)
			scan_threads(s, o->pids[k]);
	}
	return 0;
}

static void stat_announce(struct run *r, double attach_ms)
{
	pr_debug("counting %zu events, %.1f ms after start\n", S(r)->nevs, attach_ms);
	if (!S(r)->l->pid)
		pr_info("counting; Ctrl-C to stop\n");
}

/* the session wakes at a target's exit, the deadline and -I by itself */
static int stat_poll_ms(struct run *r)
{
	return r->o->per_thread ? 20 : 1000;
}

/* --per-thread: counters on the threads started since the last look */
static int stat_tick(struct run *r)
{
	struct stat_run *s = S(r);
	int k;

	if (!r->o->per_thread)
		return 0;
	if (s->l->pid)
		scan_threads(s, s->l->pid);
	for (k = 0; k < r->o->npids; k++)
		scan_threads(s, r->o->pids[k]);
	return 0;
}

static void stat_snapshot(struct run *r, double t)
{
	print_interval(S(r), t);
}

/* a command the run ended (-d, Ctrl-C) is stopped, and what it did until it ended counted */
static void stat_stop(struct run *r)
{
	struct stat_run *s = S(r);
	struct launch *l = s->l;

	if (l->pid && !launch_poll(l)) {
		kill(l->pid, exiting ? SIGINT : SIGTERM);
		l->stopped = true;
		s->stopped_at_deadline = !exiting;
		while (wait4(l->pid, &l->status, 0, &l->ru) < 0 && errno == EINTR)
			;
		l->done = true;
	}
	s->t_end = now_sec();
}

static void stat_report_free(void *ext)
{
	struct stat_report *rep = ext;

	if (rep)
		free(rep->threads);
	free(rep);
}

/* the run's rows, and --per-thread's, on the profile for stat_main() */
static int stat_report(struct run *r, double duration, struct profile **out)
{
	struct stat_run *s = S(r);
	struct stat_report *rep = calloc(1, sizeof(*rep));
	struct launch *l = s->l;
	size_t t, i;

	(void)duration;	/* the command's own, from its exec to its end: s->t_start, s->t_end */
	if (!rep) {
		pr_err("out of memory\n");
		return 1;
	}
	if (l->pid) {
		struct rusage ru = l->ru;

		/* count from the exec, as the counters do: not the fork and the wait before it */
		ru.ru_nvcsw -= l->pre_exec.ru_nvcsw;
		ru.ru_nivcsw -= l->pre_exec.ru_nivcsw;
		ru.ru_minflt -= l->pre_exec.ru_minflt;
		ru.ru_majflt -= l->pre_exec.ru_majflt;
		timersub(&ru.ru_utime, &l->pre_exec.ru_utime, &ru.ru_utime);
		timersub(&ru.ru_stime, &l->pre_exec.ru_stime, &ru.ru_stime);
		collect(s, &rep->res, 0, s->t_end - s->t_start, &ru, true);
	} else {
		collect(s, &rep->res, 0, s->t_end - s->t_start, NULL, false);
	}
	rep->stopped_at_deadline = s->stopped_at_deadline;
	rep->nevs = s->nevs;
	for (i = 0; i < s->nevs; i++) {
		rep->evs[i] = s->evs[i];
		rep->supported[i] = s->c[i].supported;
	}
	if (r->o->per_thread) {
		read_threads(s);
		/* the report keeps the values; the counters close here */
		for (t = 0; t < s->nthreads; t++)
			for (i = 0; i < s->nevs; i++)
				if (s->threads[t].fds[i] >= 0) {
					close(s->threads[t].fds[i]);
					s->threads[t].fds[i] = -1;
				}
		rep->threads = s->threads;
		rep->nthreads = s->nthreads;
		s->threads = NULL;
		s->nthreads = s->threads_cap = 0;
	}
	r->p->ext = rep;
	r->p->ext_free = stat_report_free;
	*out = r->p;
	r->p = NULL;
	return 0;
}

static void stat_destroy(struct run *r)
{
	if (!S(r))
		return;
	close_counters(S(r));
	free(S(r));
	r->mode = NULL;
}

const struct mode_ops stat_mode = {
	.name = "stat",
	.open = stat_open,
	.start = stat_start,
	.announce = stat_announce,
	.poll_ms = stat_poll_ms,
	.tick = stat_tick,
	.snapshot = stat_snapshot,
	.stop = stat_stop,
	.report = stat_report,
	.destroy = stat_destroy,
};

/* run *run*'s rows (*one*, collected as run 0) into *res* */
static void add_run(struct stat_result *res, const struct stat_result *one, int run)
{
	size_t i;

	for (i = 0; i < one->nrows; i++) {
		struct stat_row *row = &res->rows[i];
		const struct stat_row *o = &one->rows[i];

		row->ev = o->ev;
		row->supported = o->supported;
		row->counted = o->counted;
		row->pct = o->pct;
		row->value = o->value;
		if (run < STAT_MAX_RUNS)
			row->runs[run] = o->value;
		row->nruns = run + 1;
	}
	res->nrows = one->nrows;
}

static void describe(const struct ebprof_opts *o, struct stat_result *res)
{
	size_t len = 0;
	int i;

	if (o->all) {
		snprintf(res->target, sizeof(res->target), "system wide");
	} else if (o->cmd) {
		len = snprintf(res->target, sizeof(res->target), "'");
		len += join_words(res->target + len, sizeof(res->target) - len, o->cmd);
		if (len < sizeof(res->target))
			snprintf(res->target + len, sizeof(res->target) - len, "'");
	} else {
		len = snprintf(res->target, sizeof(res->target), "process id");
		for (i = 0; i < o->npids && len < sizeof(res->target); i++)
			len += snprintf(res->target + len, sizeof(res->target) - len, "%s%d", i ? "," : " ", o->pids[i]);
	}
}

/* lines about what makes timings unstable, before the run */
static void env_check(const struct ebprof_opts *o)
{
	char lines[8][256], before[512], after[512];
	const char *root = getenv("EBPROF_SYSROOT");
	double u, sy, busy;
	int n, i, ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	n = stat_env_warnings(root ? root : "", lines, 8);
	for (i = 0; i < n; i++)
		pr_warn("%s\n", lines[i]);
	if (o->all || !all_times(&u, &sy, before, sizeof(before)))
		return;
	usleep(100000);
	if (!all_times(&u, &sy, after, sizeof(after)))
		return;
	busy = stat_busy_cpus(before, after) * ncpu;
	/* attached: the targets are busy by design */
	if (o->npids) {
		double a0 = 0, a1 = 0;
		int k;

		for (k = 0; k < o->npids; k++) {
			double x, y;

			if (proc_times(o->pids[k], &x, &y))
				a0 += x + y;
		}
		usleep(100000);
		for (k = 0; k < o->npids; k++) {
			double x, y;

			if (proc_times(o->pids[k], &x, &y))
				a1 += x + y;
		}
		busy -= (a1 - a0) / 0.1;
	}
	if (busy > 0.3)
		pr_warn("other processes kept %.1f of %d CPUs busy just before the run: they compete with it and make timings vary\n",
			busy, ncpu);
}

int stat_main(const struct ebprof_opts *o)
{
	static struct stat_result res;
	const struct stat_report *rep;
	struct profile *last = NULL;
	FILE *out;
	int run, ret = 0, runs = o->stat.repeat ? o->stat.repeat : 1;

	memset(&res, 0, sizeof(res));
	out = o->output ? open_output(o->output) : stderr;
	if (!out)
		return 1;
	stat_out = out;
	env_check(o);
	describe(o, &res);
	res.command = o->cmd != NULL;
	res.attach = o->npids > 0;
	/* one session a run; -p and -a have one */
	for (run = 0; run < runs && (!run || !exiting); run++) {
		struct launch l = { .go_fd = -1, .err_fd = -1 };
		struct profile *p = NULL;
		int err, st = 0;

		if (o->cmd) {
			err = launch_start(&l, o->cmd, 0);
			if (err) {
				pr_err("cannot start '%s': %s\n", o->cmd[0], strerror(-err));
				ret = 1;
				goto out;
			}
		}
		err = run_mode(o, &l, NULL, &p);
		if (l.pid)
			st = launch_finish(&l);
		if (err) {
			ret = err;
			goto out;
		}
		rep = p->ext;
		add_run(&res, &rep->res, run);
		if (rep->stopped_at_deadline) {
			/* counted as long as asked: a success, whatever the signal did to the command */
			fprintf(stderr, "ebprof: stopped '%s' (pid %d) at the end of -d %g s\n", o->cmd[0], (int)l.pid,
				o->duration);
			st = 0;
		}
		if (st) {
			res.status = st;
			res.failed++;
		}
		profile__free(last);
		last = p;
	}
	summarize(&res, run);
	ret = res.status;
	rep = last->ext;
	if (o->stat.json) {
		stat_render_json(&res, out, o->per_thread ? print_threads_json : NULL, (void *)rep);
	} else {
		stat_render_table(&res, out);
		if (o->per_thread)
			print_threads(rep, out);
	}
	fflush(out);
out:
	profile__free(last);
	stat_out = NULL;
	if (out != stdout && out != stderr)
		fclose(out);
	return ret;
}
