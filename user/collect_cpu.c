// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * collect_cpu.c - the on-CPU collector: open -> configure -> load ->
 * attach -> poll -> drain -> symbolize.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "collect_cpu.h"
#include "cpu.skel.h"
#include "ebprof.h"
#include "sym/elf.h"
#include "sym/symbolizer.h"
#include "mem.h"
#include "python.h"
#include "unwind.h"
#include "util/log.h"
#include "util/strmap.h"

/*
 * The budgeted mode's books, in seconds of the target's CPU time: what
 * the probes cost it (traps by count, BPF by measure), and its CPU time
 * while they were on and off.  Its own work is its CPU time less the
 * probes' cost; the probes go on while their cost is within --overhead
 * of that work, and off when it is not.
 */
struct mem_budget {
	double cpu0, cpu_mark;		/* the target's CPU time at the start, at the last look */
	double on_cpu, off_cpu;		/* its CPU time while the probes were on, off */
	double cost;			/* what the probes cost it */
	double cost_on, cost_off;	/* ... while counted, and while going off */
	double forgone;			/* budget not used in time (MEM_HORIZON) */
	uint64_t hits_mark[3], off_mark[3], bpf_ns_mark;	/* entries, returns, frees */
	int windows, offs;		/* times the probes went on, and off for the budget */
	double min_on;			/* this window's shortest length */
	double window_cost0, window_cpu0;	/* cost_on, on_cpu when this window began */
	double last_cost, last_on_cpu;	/* ... what the last one cost, and its CPU time */
};

struct cpu_run {
	const struct ebprof_opts *o;
	struct cpu_bpf *skel;
	struct symbolizer *sym;
	struct ring_buffer *rb;
	struct bpf_link **links;
	int *pefds;
	int ncpus;
	bool track_mmap;	/* else re-read the targets' mappings periodically */
	bool dwarf;		/* user stacks by unwind tables */
	struct bpf_program *prog;	/* the sampler in use */
	struct unwind_pool *pool;
	struct pyreg *py;	/* NULL: no Python stacks */
	struct ring_buffer *py_rb;	/* code objects, read by py_thread */
	pthread_t py_thread;
	bool py_thread_on;
	volatile bool py_stop;
	struct ebprof_event *queue;	/* events waiting for run_queue() */
	size_t nqueue, queue_cap;
	/* ebprof mem */
	bool mem;
	struct mem_probe *probes;	/* allocator functions found in the target */
	size_t nprobes, probes_cap;
	struct mem_file *files;		/* ... by file: their probes are contiguous */
	size_t nfiles, files_cap;
	bool multi;			/* uprobe.multi links (6.6), else a uprobe each */
	struct dso **scanned;		/* files looked at for allocators */
	size_t nscanned, scanned_cap;
	bool probes_on;			/* attached and counted */
	double on_since, on_total;	/* wall seconds counted */
	double entry_cost, ret_cost, free_cost;	/* seconds a trap costs: entry, return, free */
	volatile int detaching;		/* links still being destroyed in the background */
	struct mem_budget budget;
	clockid_t cpu_clock;		/* the target's CPU clock */
	bool cpu_clock_ok;
	int stats_fd;			/* BPF run-time statistics on while >= 0 */
	long rss_kib, hwm_kib;
	bool pool_full_warned;
	bool pids_gone[MAX_PIDS];
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	/* libbpf's warnings are only noise next to our own one-line errors */
	if (log_level < 2 || (level == LIBBPF_DEBUG && log_level < 3))
		return 0;
	return vfprintf(stderr, fmt, args);
}

/*
 * Give the BPF walker the unwind tables of *tgid*'s mappings as the
 * symbolizer last saw them: rows for each file (built once per file),
 * frame pointers for anonymous code (JITs) and files without tables.
 */
static void unwind_update(struct cpu_run *r, int tgid)
{
	const struct sym_mapping *maps;
	struct unwind_proc *up;
	size_t n, i;
	__u32 key = tgid;

	if (!r->dwarf)
		return;
	n = symbolizer__mappings(r->sym, tgid, &maps);
	if (!n)
		return;
	up = calloc(1, sizeof(*up));
	if (!up)
		return;
	for (i = 0; i < n && up->nmaps < EBPROF_UNWIND_MAPS; i++) {
		struct unwind_map *m = &up->maps[up->nmaps];
		uint64_t bias;
		int err;

		m->start = maps[i].start;
		m->end = maps[i].end;
		if (!maps[i].dso) {
			m->flags = EBPROF_MAP_FP;
			up->nmaps++;
			continue;
		}
		err = unwind_pool__get(r->pool, maps[i].dso, &m->first, &m->nrows);
		if (!err && dso__map_bias(maps[i].dso, m->start, maps[i].pgoff, true, &bias)) {
			m->bias = bias;
			m->flags = EBPROF_MAP_TABLE;
		} else {
			if (err == -ENOSPC && !r->pool_full_warned) {
				pr_warn("the unwind table pool is full (%zu rows): some code is walked by frame pointers; rerun with a larger --unwind-rows\n",
					unwind_pool__used(r->pool));
				r->pool_full_warned = true;
			}
			m->flags = EBPROF_MAP_FP;
		}
		up->nmaps++;
	}
	if (bpf_map_update_elem(bpf_map__fd(r->skel->maps.unwind_procs), &key, up, BPF_ANY))
		pr_debug("cannot store unwind tables of %d: %s\n", tgid, strerror(errno));
	free(up);
}

static void mem_scan(struct cpu_run *r, int tgid);
static bool is_allocator(const char *func);
static uint64_t mem_counter(struct cpu_run *r, __u32 idx);

/* re-read the mappings of *tgid* and update its unwind tables */
static void refresh(struct cpu_run *r, int tgid, unsigned int gen)
{
	if (!symbolizer__snapshot(r->sym, tgid, gen)) {
		unwind_update(r, tgid);
		if (r->py)
			py__scan(r->py, tgid);
		if (r->mem)
			mem_scan(r, tgid);
	}
}

/* the work an event asks for: snapshots, unwind tables */
static void process_event(struct cpu_run *r, const struct ebprof_event *e)
{
	int i;

	switch (e->type) {
	case EBPROF_EV_FORK:
		/* the child runs its parent's code until it execs */
		symbolizer__inherit(r->sym, e->tgid, 0, e->ppid);
		if (r->py)
			py__fork(r->py, e->tgid, e->ppid);
		refresh(r, e->tgid, 0);
		pr_debug("fork %u -> %u\n", e->ppid, e->tgid);
		break;
	case EBPROF_EV_EXEC:
	case EBPROF_EV_MMAP_EXEC:
		if (e->type == EBPROF_EV_EXEC && r->py)
			py__forget(r->py, e->tgid);
		refresh(r, e->tgid, e->gen);
		pr_debug("%s %u gen %u\n", e->type == EBPROF_EV_EXEC ? "exec" : "mmap", e->tgid, e->gen);
		break;
	case EBPROF_EV_UNWIND_REQ:
		if (!symbolizer__has(r->sym, e->tgid))
			symbolizer__snapshot(r->sym, e->tgid, 0);
		unwind_update(r, e->tgid);
		pr_debug("unwind tables for %u\n", e->tgid);
		break;
	case EBPROF_EV_EXIT:
		for (i = 0; i < r->o->npids; i++)
			if (r->o->pids[i] == (int)e->tgid)
				r->pids_gone[i] = true;
		pr_debug("exit %u\n", e->tgid);
		break;
	}
}

/* events wait in a queue for run_queue(): ring_buffer__consume() is not reentrant */
static int handle_event(void *ctx, void *data, size_t size)
{
	struct cpu_run *r = ctx;
	const struct ebprof_event *e = data;

	if (size < sizeof(*e))
		return 0;
	if (r->nqueue == r->queue_cap) {
		size_t cap = r->queue_cap ? 2 * r->queue_cap : 64;
		struct ebprof_event *q = realloc(r->queue, cap * sizeof(*q));

		if (!q) {
			process_event(r, e);
			return 0;
		}
		r->queue = q;
		r->queue_cap = cap;
	}
	r->queue[r->nqueue++] = *e;
	return 0;
}

/*
 * The code objects the Python walker reports are read at once, in a
 * thread of their own: module code is freed right after its import, while
 * the main thread may be busy building unwind tables.
 */
static int handle_py_event(void *ctx, void *data, size_t size)
{
	struct cpu_run *r = ctx;
	const struct py_code_event *pe = data;

	if (size >= sizeof(*pe) && pe->type == EBPROF_EV_PY_CODE)
		py__code_seen(r->py, pe->tgid, pe->code, pe->sum);
	return 0;
}

static void *py_reader(void *arg)
{
	struct cpu_run *r = arg;

	while (!r->py_stop) {
		int err = ring_buffer__poll(r->py_rb, 50 /* ms */);

		if (err < 0 && err != -EINTR)
			break;
	}
	ring_buffer__consume(r->py_rb);
	return NULL;
}

static void py_reader_stop(struct cpu_run *r)
{
	if (!r->py_thread_on)
		return;
	r->py_stop = true;
	pthread_join(r->py_thread, NULL);
	r->py_thread_on = false;
}

static void run_queue(struct cpu_run *r)
{
	size_t i;

	/* process_event() may poll the ring buffer, which may queue more */
	for (i = 0; i < r->nqueue; i++) {
		struct ebprof_event e = r->queue[i];

		process_event(r, &e);
		ring_buffer__consume(r->rb);
	}
	r->nqueue = 0;
}

static int add_target(struct cpu_run *r, int tgid)
{
	__u32 key = tgid, gen = 0;

	if (bpf_map_update_elem(bpf_map__fd(r->skel->maps.targets), &key, &gen, BPF_ANY))
		return -errno;
	return 0;
}

static void snapshot_all(struct cpu_run *r)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		int pid = atoi(de->d_name);

		if (pid > 0 && !symbolizer__snapshot(r->sym, pid, 0) && r->py)
			py__scan(r->py, pid);
	}
	closedir(d);
}

static int open_events(struct cpu_run *r)
{
	int cpu, attached = 0, e;

	for (e = 0; e < r->o->nevents; e++) {
		const struct ebprof_event_spec *ev = e ? &r->o->event2 : &r->o->event;
		struct perf_event_attr attr = {};

		attr.size = sizeof(attr);
		attr.type = ev->type;
		attr.config = ev->config;
		if (ev->period) {
			attr.sample_period = ev->period;
		} else if (ev->timer) {
			attr.sample_period = 1000000000ULL / r->o->freq;	/* ns */
		} else {
			attr.freq = 1;
			attr.sample_freq = r->o->freq;
		}
		for (cpu = 0; cpu < r->ncpus; cpu++) {
			LIBBPF_OPTS(bpf_perf_event_opts, opts, .bpf_cookie = e);
			int i = e * r->ncpus + cpu;
			int fd = syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);

			r->pefds[i] = -1;
			if (fd < 0) {
				if (errno == ENODEV)	/* offline CPU */
					continue;
				if (errno == ENOENT || errno == EOPNOTSUPP)
					pr_err("event '%s' is not supported on this machine%s\n", ev->name,
					       ev->type != PERF_TYPE_SOFTWARE ? " (no hardware PMU: a VM?); use a software event such as cpu-clock or page-faults" : "");
				else
					pr_err("cannot open perf event '%s' on CPU %d: %s\n", ev->name, cpu, strerror(errno));
				return -1;
			}
			r->pefds[i] = fd;
			r->links[i] = bpf_program__attach_perf_event_opts(r->prog, fd, &opts);
			if (!r->links[i]) {
				pr_err("cannot attach the sampler to CPU %d: %s\n", cpu, strerror(errno));
				return -1;
			}
			attached++;
		}
	}
	return attached ? 0 : -1;
}

static void close_events(struct cpu_run *r)
{
	int i;

	for (i = 0; r->links && i < 2 * r->ncpus; i++) {
		bpf_link__destroy(r->links[i]);
		r->links[i] = NULL;
		if (r->pefds[i] >= 0)
			close(r->pefds[i]);
		r->pefds[i] = -1;
	}
}

static bool targets_gone(struct cpu_run *r, struct launch *l)
{
	int i;

	if (l->pid)
		return launch_poll(l);
	if (r->o->all || !r->o->npids)
		return false;
	for (i = 0; i < r->o->npids; i++) {
		if (!r->pids_gone[i] && kill(r->o->pids[i], 0) && errno == ESRCH)
			r->pids_gone[i] = true;
		if (!r->pids_gone[i])
			return false;
	}
	return true;
}

/* without mmap tracing: catch code mapped since the last look */
static void rescan(struct cpu_run *r, struct launch *l)
{
	int i;

	if (l->pid && !l->done)
		refresh(r, l->pid, symbolizer__latest_gen(r->sym, l->pid));
	for (i = 0; i < r->o->npids; i++)
		if (!r->pids_gone[i])
			refresh(r, r->o->pids[i], symbolizer__latest_gen(r->sym, r->o->pids[i]));
}

static void read_stats(struct cpu_run *r, struct profile_meta *m)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(r->skel->maps.stats);
	__u64 *vals = calloc(ncpu, sizeof(__u64));
	__u64 sum[EBPROF_STAT_MAX] = {};
	__u32 i;
	int c;

	if (!vals)
		return;
	for (i = 0; i < EBPROF_STAT_MAX; i++) {
		if (bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (c = 0; c < ncpu; c++)
			sum[i] += vals[c];
	}
	free(vals);
	m->samples = sum[EBPROF_STAT_SAMPLES];
	m->lost_counts = sum[EBPROF_STAT_LOST_COUNTS];
	m->lost_ustacks = sum[EBPROF_STAT_LOST_USTACK];
	m->lost_kstacks = sum[EBPROF_STAT_KSTACK_ERR];
	m->kstack_collisions = sum[EBPROF_STAT_KSTACK_COLLISION];
	m->ustack_truncated = sum[EBPROF_STAT_USTACK_TRUNC];
	m->lost_events = sum[EBPROF_STAT_EVENTS_LOST];
	m->py_samples = sum[EBPROF_STAT_PY_SAMPLES];
	m->py_no_tstate = sum[EBPROF_STAT_PY_NO_TSTATE];
	m->py_lost = sum[EBPROF_STAT_PY_LOST];
	m->py_truncated = sum[EBPROF_STAT_PY_TRUNC];
	m->py_errors = sum[EBPROF_STAT_PY_ERROR];
}

#define MAX_FRAMES (2 * EBPROF_MAX_STACK + EBPROF_PY_MAX_FRAMES + 2)

/* the native frame that runs Python frames */
static bool is_eval_frame(const char *func)
{
	return !strncmp(func, "_PyEval_EvalFrameDefault", 24) && (func[24] == 0 || func[24] == '.');
}

/* frames being put together, innermost first, with their source lines */
struct frame_list {
	uint32_t ids[MAX_FRAMES];
	int lines[MAX_FRAMES];
	uint32_t n;
};

static int push(struct frame_list *fl, int id, int line)
{
	if (id < 0)
		return id;
	if (fl->n < MAX_FRAMES) {
		fl->ids[fl->n] = id;
		fl->lines[fl->n++] = line;
	}
	return 0;
}

static int py_frame(struct cpu_run *r, struct profile *p, int tgid, const struct py_frame *f,
		    struct frame_list *fl)
{
	const struct py_code *c = py__code(r->py, tgid, f->code, f->sum);
	int fn = profile__py_func(p, c->name, c->file, c->first, tgid);
	int line = py__line(c, f->instr);
	const char *base;
	char text[512];

	if (fn < 0 || !line || r->o->no_lineno)
		return push(fl, fn, line);
	base = strrchr(c->file, '/');
	base = base ? base + 1 : c->file;
	snprintf(text, sizeof(text), "%s (%s:%d)", c->name, base, line);
	return push(fl, profile__line_frame(p, fn, text, line), line);
}

/*
 * the frames of one eval call (all that are left when *all*), from frame
 * *j on
 */
static int py_segment(struct cpu_run *r, struct profile *p, int tgid, const struct py_stack *ps,
		      uint32_t *j, bool all, struct frame_list *fl)
{
	int err;

	while (*j < ps->nr && *j < EBPROF_PY_MAX_FRAMES) {
		const struct py_frame *f = &ps->frames[(*j)++];

		if (!(f->flags & EBPROF_PYF_EMPTY)) {
			err = py_frame(r, p, tgid, f, fl);
			if (err)
				return err;
		}
		if ((f->flags & EBPROF_PYF_ENTRY) && !all)
			break;
	}
	return 0;
}

/* a native frame, with its source line from DWARF for --lines */
static int native_frame(struct cpu_run *r, struct profile *p, int tgid, const struct sym_frame *sf,
			struct frame_list *fl)
{
	int id = profile__frame(p, sf->func, sf->module, false);
	struct srcline sl;

	if (id < 0 || !r->o->lines || !sf->known || !sf->dso || !dso__srcline(sf->dso, sf->vaddr, &sl))
		return push(fl, id, 0);
	if (!profile__frame_at(p, id)->src) {
		char path[4096];

		if (sl.fn_file[0] != '/' && sl.comp_dir)
			snprintf(path, sizeof(path), "%s/%s", sl.comp_dir, sl.fn_file);
		else
			snprintf(path, sizeof(path), "%s", sl.fn_file);
		if (profile__set_source(p, id, path, sl.fn_line, tgid))
			return -ENOMEM;
	}
	return push(fl, id, sl.line);
}

/*
 * The user part of a sample, innermost first: native frames, each
 * _PyEval_EvalFrameDefault replaced by the Python frames it ran.  A walk
 * that did not reach the start (frame pointers through a libpython that
 * has none) loses its way: its frames past the first one without a name
 * are dropped, and the Python frames no eval frame took go outside.
 */
static int user_frames(struct cpu_run *r, struct profile *p, const struct sample_key *k,
		       const struct ustack *us, const struct py_stack *ps, struct frame_list *fl)
{
	unsigned int end = (k->flags & EBPROF_F_END_MASK) >> EBPROF_F_END_SHIFT;
	uint32_t i, j = 0, cut = 0, nr = us ? us->nr : 0, np = ps ? ps->nr : 0;
	bool trusted = true;
	int err;

	for (i = 0; i < nr; i++) {
		struct sym_frame sf;

		symbolizer__user(r->sym, k->tgid, k->gen, us->ips[i], i > 0, &sf);
		if (j < np && is_eval_frame(sf.func)) {
			err = py_segment(r, p, k->tgid, ps, &j, false, fl);
			if (err)
				return err;
			cut = fl->n;
			trusted = true;
			continue;
		}
		/* past code with no name, a walk without tables may be lost */
		if (!sf.known)
			trusted = false;
		err = native_frame(r, p, k->tgid, &sf, fl);
		if (err)
			return err;
		if (trusted)
			cut = fl->n;
	}
	if (np && end != EBPROF_END_COMPLETE)
		fl->n = cut;
	if (j < np) {
		err = py_segment(r, p, k->tgid, ps, &j, true, fl);
		if (err)
			return err;
	}
	return 0;
}

/* one counted key to frame ids, outermost first, and their lines */
static int key_frames(struct cpu_run *r, struct profile *p, const struct sample_key *k,
		      struct ustack *us, struct py_stack *ps, __u64 *kips, struct frame_list *fl,
		      uint32_t *ids, int *lines)
{
	int ufd = bpf_map__fd(r->skel->maps.ustacks), kfd = bpf_map__fd(r->skel->maps.kstacks);
	int pfd = bpf_map__fd(r->skel->maps.pystacks);
	bool have_us, have_ps;
	uint32_t n = 0;
	int i, id, nk = 0, err;

	fl->n = 0;
	have_us = k->ustack_hash && !bpf_map_lookup_elem(ufd, &k->ustack_hash, us);
	if (have_us && us->nr > EBPROF_MAX_STACK)
		us->nr = EBPROF_MAX_STACK;
	have_ps = r->py && k->pystack_hash && !bpf_map_lookup_elem(pfd, &k->pystack_hash, ps);
	if (have_ps && ps->nr > EBPROF_PY_MAX_FRAMES)
		ps->nr = EBPROF_PY_MAX_FRAMES;
	if (have_us || have_ps) {
		err = user_frames(r, p, k, have_us ? us : NULL, have_ps ? ps : NULL, fl);
		if (err)
			return err;
		for (i = fl->n - 1; i >= 0; i--) {
			lines[n] = fl->lines[i];
			ids[n++] = fl->ids[i];
		}
	} else if (k->flags & EBPROF_F_USER_MISSING) {
		id = profile__frame(p, "[missing user stack]", "", false);
		if (id < 0)
			return id;
		lines[n] = 0;
		ids[n++] = id;
	}
	if (k->kstack_id >= 0 && !bpf_map_lookup_elem(kfd, &k->kstack_id, kips)) {
		while (nk < EBPROF_MAX_STACK && kips[nk])
			nk++;
		for (i = nk - 1; i >= 0; i--) {
			struct sym_frame sf;

			symbolizer__kernel(r->sym, kips[i], i > 0, &sf);
			id = profile__frame(p, sf.func, sf.module, true);
			if (id < 0)
				return id;
			lines[n] = 0;
			ids[n++] = id;
		}
	} else if (k->flags & EBPROF_F_KERNEL_MISSING) {
		id = profile__frame(p, "[missing kernel stack]", "[kernel]", true);
		if (id < 0)
			return id;
		lines[n] = 0;
		ids[n++] = id;
	}
	return n;
}

/* --lines: each function once per sample, on the line of its innermost frame */
static int count_lines(struct profile *p, const uint32_t *ids, const int *lines, int n, __u64 count)
{
	bool innermost = true;
	int i, k, err;

	for (i = n - 1; i >= 0; i--) {
		uint32_t fn = profile__frame_at(p, ids[i])->fn;
		bool inner = false;

		/* line 0: where the sample was, for ranking functions */
		if (lines[i] && innermost) {
			innermost = false;
			err = profile__hit(p, fn, 0, count);
			if (err)
				return err;
		}

		if (!lines[i])
			continue;
		for (k = i + 1; k < n && !inner; k++)
			inner = profile__frame_at(p, ids[k])->fn == fn && lines[k];
		if (inner)
			continue;
		err = profile__hit(p, fn, lines[i], count);
		if (err)
			return err;
	}
	return 0;
}

/* a frame that means the walk reached the start of the process or thread */
static bool is_entry(const char *func)
{
	static const char *const entries[] = { "_start", "main", "clone", "clone3", "start_thread" };
	size_t i;

	for (i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		if (!strcmp(func, entries[i]))
			return true;
	return false;
}

static void account_quality(struct profile *p, const struct sample_key *k, const uint32_t *ids,
			    int n, __u64 count)
{
	unsigned int end = (k->flags & EBPROF_F_END_MASK) >> EBPROF_F_END_SHIFT;
	bool complete = end == EBPROF_END_COMPLETE;
	int i;

	for (i = 0; i < n && !complete; i++) {
		const struct frame *f = profile__frame_at(p, ids[i]);

		complete = !f->kernel && is_entry(f->func);
	}
	p->meta.user_stacks += count;
	if (complete)
		p->meta.complete += count;
	else if (end < sizeof(p->meta.ends) / sizeof(p->meta.ends[0]))
		p->meta.ends[end] += count;
}

static int build_profile(struct cpu_run *r, struct profile *p)
{
	int cfd = bpf_map__fd(r->skel->maps.counts);
	struct sample_key key, next, *prev = NULL;
	__u64 kips[EBPROF_MAX_STACK];
	struct frame_list *fl = malloc(sizeof(*fl));
	struct py_stack *ps = malloc(sizeof(*ps));
	uint32_t ids[MAX_FRAMES];
	int lines[MAX_FRAMES];
	struct ustack us;
	int first_tgid = -1, n, err = -ENOMEM;

	if (!fl || !ps)
		goto out;

	while (!bpf_map_get_next_key(cfd, prev, &next)) {
		__u64 count;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(cfd, &key, &count))
			continue;
		n = key_frames(r, p, &key, &us, ps, kips, fl, ids, lines);
		if (n < 0) {
			err = n;
			goto out;
		}
		if (key.ustack_hash)
			account_quality(p, &key, ids, n, count);
		if (first_tgid < 0)
			first_tgid = key.tgid;
		else if (first_tgid != (int)key.tgid)
			p->meta.per_process = true;
		err = profile__add2(p, key.tgid, key.tid, key.comm, ids, n, key.event ? 0 : count,
				    key.event ? count : 0);
		if (!err && r->o->lines && !key.event)
			err = count_lines(p, ids, lines, n, count);
		if (err)
			goto out;
	}
	err = profile__finish(p);
out:
	free(fl);
	free(ps);
	return err;
}


struct mem_key_site {
	size_t idx;
};

/* the site of *k* in *m*, made on first use: its index, or -1 */
static long mem_site(struct cpu_run *r, struct mem_report *m, struct strmap *ids, const struct mem_key *k,
		     struct ustack *us, struct py_stack *ps, struct frame_list *fl)
{
	struct sample_key sk = {};
	__u64 kips[EBPROF_MAX_STACK];
	uint32_t fids[MAX_FRAMES];
	int lines[MAX_FRAMES], n;
	struct mem_site *site;
	void *v = strmap__get(ids, k, sizeof(*k));

	if (v)
		return (long)(uintptr_t)v - 1;
	if (m->nsites % 256 == 0) {
		struct mem_site *ns = realloc(m->sites, (m->nsites + 256) * sizeof(*ns));

		if (!ns)
			return -1;
		m->sites = ns;
	}
	sk.tgid = k->tgid;
	sk.gen = symbolizer__latest_gen(r->sym, k->tgid);
	sk.kstack_id = -1;
	sk.ustack_hash = k->ustack_hash;
	sk.pystack_hash = k->pystack_hash;
	sk.flags = k->flags;
	n = key_frames(r, m->prof, &sk, us, ps, kips, fl, fids, lines);
	if (n < 0)
		return -1;
	/* the probed function itself is not where the allocation comes from */
	if (n > 1 && is_allocator(profile__frame_at(m->prof, fids[n - 1])->func))
		n--;
	site = &m->sites[m->nsites];
	memset(site, 0, sizeof(*site));
	site->tgid = k->tgid;
	site->frames = malloc((n ? n : 1) * sizeof(uint32_t));
	if (!site->frames)
		return -1;
	memcpy(site->frames, fids, n * sizeof(uint32_t));
	site->nframes = n;
	if (strmap__set(ids, k, sizeof(*k), (void *)(uintptr_t)(m->nsites + 1)))
		return -1;
	return (long)m->nsites++;
}

static void mem_estimate(struct cpu_run *r, struct mem_report *m)
{
	const struct mem_budget *b = &r->budget;

	mem_report__estimate(m, r->o->exact || !b->offs, b->windows, b->on_cpu - b->cost_on, b->off_cpu - b->cost_off,
			     b->cost);
}

static int build_mem_report(struct cpu_run *r, struct launch *l, struct mem_report *m, double duration)
{
	int sfd = bpf_map__fd(r->skel->maps.mem_stats), rfd = bpf_map__fd(r->skel->maps.mem_rss);
	int bfd = bpf_map__fd(r->skel->maps.mem_blocks);
	struct frame_list *fl = malloc(sizeof(*fl));
	struct py_stack *ps = malloc(sizeof(*ps));
	struct strmap *ids = strmap__new();
	struct mem_key key, next, *prev;
	struct timespec now_ts;
	struct ustack us;
	double scale, now_ns;
	uint64_t bkey, bnext, *bprev;
	size_t i;
	int err = -ENOMEM, k;
	char comm[32];

	if (!fl || !ps || !ids)
		goto out;
	m->duration = duration;
	mem_estimate(r, m);
	pr_debug("mem: probes on %.3f s of %.3f s in %d windows; %lu entries, %lu nested, %lu other returns; traps while not counting: %lu entries, %lu returns, %lu frees\n",
		 r->on_total, duration, r->budget.windows, (unsigned long)mem_counter(r, EBPROF_MEM_ENTRIES),
		 (unsigned long)mem_counter(r, EBPROF_MEM_NESTED), (unsigned long)mem_counter(r, EBPROF_MEM_RET_OTHER),
		 (unsigned long)mem_counter(r, EBPROF_MEM_OFF_ENTRY), (unsigned long)mem_counter(r, EBPROF_MEM_OFF_RET),
		 (unsigned long)mem_counter(r, EBPROF_MEM_OFF_FREE));
	pr_debug("mem: target CPU %.3f s on, %.3f s off; probes cost %.3f s on (BPF %.3f s), %.3f s off; %lu allocations seen\n",
		 r->budget.on_cpu, r->budget.off_cpu, r->budget.cost_on, r->budget.bpf_ns_mark / 1e9, r->budget.cost_off,
		 (unsigned long)mem_counter(r, EBPROF_MEM_ALLOCS));
	scale = m->scale;
	m->leaks = r->o->leaks;
	m->min_age = r->o->min_age;
	m->probe_pair_us = 1e6 * (r->entry_cost + r->ret_cost);
	m->nprobes = r->nprobes;
	m->rss_now_kib = r->rss_kib;
	m->rss_peak_kib = r->hwm_kib;
	if (l->pid && l->done && l->ru.ru_maxrss > 0)
		m->rss_peak_kib = l->ru.ru_maxrss;
	if (m->rss_now_kib > m->rss_peak_kib)
		m->rss_peak_kib = m->rss_now_kib;
	m->lost_blocks = mem_counter(r, EBPROF_MEM_LOST_BLOCKS);
	m->lost_stacks = mem_counter(r, EBPROF_MEM_LOST_STACKS);
	m->allocs = mem_counter(r, EBPROF_MEM_ALLOCS) * scale;
	m->frees = mem_counter(r, EBPROF_MEM_FREES) * scale;
	m->bytes = mem_counter(r, EBPROF_MEM_BYTES) * scale;
	m->faults = mem_counter(r, EBPROF_MEM_FAULTS);
	for (k = 0; k < 64; k++)
		m->hist[k] = mem_counter(r, EBPROF_MEM_HIST + k) * scale;

	prev = NULL;
	while (!bpf_map_get_next_key(sfd, prev, &next)) {
		struct mem_stats st;
		long si;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(sfd, &key, &st))
			continue;
		si = mem_site(r, m, ids, &key, &us, ps, fl);
		if (si < 0)
			goto out;
		m->sites[si].allocs += st.allocs * scale;
		m->sites[si].bytes += st.bytes * scale;
		m->sites[si].frees += st.frees * scale;
		m->sites[si].bytes_freed += st.bytes_freed * scale;
		m->bytes_freed += st.bytes_freed * scale;
	}
	prev = NULL;
	while (!bpf_map_get_next_key(rfd, prev, &next)) {
		struct mem_rss rs;
		long si;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(rfd, &key, &rs))
			continue;
		si = mem_site(r, m, ids, &key, &us, ps, fl);
		if (si < 0)
			goto out;
		m->sites[si].faults += rs.faults;
		m->sites[si].mapped += rs.mapped;
		m->mapped += rs.mapped;
	}
	clock_gettime(CLOCK_MONOTONIC, &now_ts);
	now_ns = now_ts.tv_sec * 1e9 + now_ts.tv_nsec;
	bprev = NULL;
	while (!bpf_map_get_next_key(bfd, bprev, &bnext)) {
		struct mem_block b;
		long si;
		double age;

		bkey = bnext;
		bprev = &bkey;
		if (bpf_map_lookup_elem(bfd, &bkey, &b))
			continue;
		si = mem_site(r, m, ids, &b.key, &us, ps, fl);
		if (si < 0)
			goto out;
		m->sites[si].out_blocks++;
		m->sites[si].out_bytes += b.size;
		m->blocks_outstanding++;
		m->bytes_outstanding += b.size;
		age = (now_ns - (double)b.ts) / 1e9;
		if (age >= m->min_age) {
			m->sites[si].leak_blocks++;
			m->sites[si].leak_bytes += b.size;
			if (age > m->sites[si].oldest_s)
				m->sites[si].oldest_s = age;
		}
	}
	/* folded and SVG: allocation sites weighted by bytes (or allocations) */
	for (i = 0; i < m->nsites; i++) {
		uint64_t w = r->o->count ? m->sites[i].allocs : m->sites[i].bytes;

		if (!w)
			continue;
		proc_comm(m->sites[i].tgid, comm, sizeof(comm));
		err = profile__add(m->prof, m->sites[i].tgid, 0, comm, m->sites[i].frames, m->sites[i].nframes, w);
		if (err)
			goto out;
	}
	err = profile__finish(m->prof);
out:
	free(fl);
	free(ps);
	strmap__free(ids);
	return err;
}

static void describe_target(const struct ebprof_opts *o, struct launch *l, struct profile_meta *m)
{
	char comm[32];
	size_t len = 0;
	int i;

	if (o->all) {
		snprintf(m->target, sizeof(m->target), "all processes");
	} else if (o->cmd) {
		len = snprintf(m->target, sizeof(m->target), "command '");
		for (i = 0; o->cmd[i] && len < sizeof(m->target); i++)
			len += snprintf(m->target + len, sizeof(m->target) - len, "%s%s", i ? " " : "", o->cmd[i]);
		if (len < sizeof(m->target))
			snprintf(m->target + len, sizeof(m->target) - len, "' (pid %d)", l->pid);
	} else if (o->npids == 1) {
		proc_comm(o->pids[0], comm, sizeof(comm));
		snprintf(m->target, sizeof(m->target), "pid %d (%s)", o->pids[0], comm);
	} else {
		len = snprintf(m->target, sizeof(m->target), "pids");
		for (i = 0; i < o->npids && len < sizeof(m->target); i++)
			len += snprintf(m->target + len, sizeof(m->target) - len, "%s%d", i ? "," : " ", o->pids[i]);
	}
}

static bool have_helper(enum bpf_func_id id)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, id, NULL) > 0;
}

/*
 * The best sampler this kernel runs: unwind tables (bpf_loop, 5.17), our
 * frame-pointer walk (bpf_task_pt_regs, 5.15), or the kernel's.
 */
static void select_sampler(struct cpu_run *r)
{
	struct cpu_bpf *skel = r->skel;
	bool regs = have_helper(BPF_FUNC_task_pt_regs), loop = have_helper(BPF_FUNC_loop);

	if (regs && loop && !r->o->fp) {
		r->prog = skel->progs.do_sample_dwarf;
		r->dwarf = true;
	} else if (regs && loop) {
		r->prog = skel->progs.do_sample_fp_loop;
	} else if (regs) {
		if (!r->o->fp)
			pr_warn("the kernel lacks bpf_loop (5.17): user stacks follow frame pointers only\n");
		r->prog = skel->progs.do_sample;
	} else {
		pr_warn("the kernel lacks bpf_task_pt_regs (5.15): user stacks by the kernel's frame-pointer walk\n");
		r->prog = skel->progs.do_sample_compat;
	}
	bpf_program__set_autoload(skel->progs.do_sample_dwarf, r->prog == skel->progs.do_sample_dwarf);
	bpf_program__set_autoload(skel->progs.do_sample, r->prog == skel->progs.do_sample);
	bpf_program__set_autoload(skel->progs.do_sample_fp_loop, r->prog == skel->progs.do_sample_fp_loop);
	/* the Python walker runs in bpf_loop() callbacks */
	skel->rodata->targ_python = loop && regs && !r->o->no_python;
	if (!loop && !r->o->no_python)
		pr_warn("the kernel lacks bpf_loop (5.17): no Python stacks, native frames only\n");
	bpf_program__set_autoload(skel->progs.do_sample_compat, r->prog == skel->progs.do_sample_compat);
}


/*
 * ebprof mem: uprobes on the allocator functions the target maps (libc's,
 * an allocator preloaded or linked in, CPython's object allocator), on for
 * a share of each half second that keeps the slowdown under --overhead,
 * or all the time with --exact.
 */
struct mem_probe {
	char path[300];
	const char *func;
	uint64_t offset;	/* of the function in the file: 0 lets libbpf find *func* */
	struct bpf_program *prog;
	int kind;		/* enum mem_kind; 0: a free */
	bool ret;
	struct bpf_link *entry, *exit;
};

/* a file's allocators, attached with one uprobe.multi link for entries and one for returns */
struct mem_file {
	size_t first, n;	/* its probes */
	int entry_fd, ret_fd;	/* links; -1: none */
};

static const struct {
	const char *name;
	int kind;		/* 0: free */
} allocators[] = {
	{ "malloc", 1 }, { "calloc", 2 }, { "realloc", 4 }, { "reallocarray", 5 },
	{ "posix_memalign", 6 }, { "aligned_alloc", 3 }, { "memalign", 3 }, { "valloc", 1 },
	{ "pvalloc", 1 }, { "free", 0 },
	{ "PyObject_Malloc", 1 }, { "PyObject_Calloc", 2 }, { "PyObject_Realloc", 4 },
	{ "PyObject_Free", 0 }, { "PyMem_Malloc", 1 }, { "PyMem_Calloc", 2 },
	{ "PyMem_Realloc", 4 }, { "PyMem_Free", 0 },
};

static bool is_allocator(const char *func)
{
	size_t i;

	for (i = 0; i < sizeof(allocators) / sizeof(allocators[0]); i++)
		if (!strcmp(func, allocators[i].name))
			return true;
	/* glibc's own names for them */
	return !strcmp(func, "__libc_malloc") || !strcmp(func, "__libc_calloc") ||
	       !strcmp(func, "__libc_realloc") || !strcmp(func, "__libc_free") ||
	       !strcmp(func, "__libc_memalign") || !strcmp(func, "__posix_memalign") ||
	       !strcmp(func, "__libc_valloc") || !strcmp(func, "__libc_pvalloc") ||
	       !strcmp(func, "cfree") || !strcmp(func, "__reallocarray");
}

static struct bpf_program *mem_prog(struct cpu_run *r, int kind)
{
	struct cpu_bpf *k = r->skel;

	switch (kind) {
	case 1: return k->progs.mem_size1;
	case 2: return k->progs.mem_calloc;
	case 3: return k->progs.mem_size2;
	case 4: return k->progs.mem_realloc;
	case 5: return k->progs.mem_reallocarray;
	case 6: return k->progs.mem_memalign_ptr;
	default: return k->progs.mem_free;
	}
}

/* attach by file offset when known: libbpf would parse the file's symbols for each link */
static int probe_attach(struct cpu_run *r, struct mem_probe *p, int pid)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = p->offset ? NULL : p->func);

	if (p->entry)
		return 0;
	p->entry = bpf_program__attach_uprobe_opts(p->prog, pid, p->path, p->offset, &opts);
	if (!p->entry)
		return -errno;
	if (p->ret) {
		LIBBPF_OPTS(bpf_uprobe_opts, ropts, .func_name = p->offset ? NULL : p->func, .retprobe = true);

		p->exit = bpf_program__attach_uprobe_opts(r->skel->progs.mem_ret, pid, p->path, p->offset, &ropts);
		if (!p->exit) {
			int err = -errno;

			bpf_link__destroy(p->entry);
			p->entry = NULL;
			return err;
		}
	}
	return 0;
}

static void probe_detach(struct mem_probe *p)
{
	bpf_link__destroy(p->entry);
	bpf_link__destroy(p->exit);
	p->entry = p->exit = NULL;
}

/* BPF_LINK_CREATE of a uprobe.multi link (kernel 6.6; libbpf 1.1 does not know it) */
#define EBPROF_TRACE_UPROBE_MULTI 48
#define EBPROF_F_UPROBE_MULTI_RETURN 1

static int uprobe_multi_link(int prog_fd, const char *path, const uint64_t *offsets, const uint64_t *cookies,
			     uint32_t n, bool ret, int pid)
{
	union {
		struct {
			uint32_t prog_fd, target_fd, attach_type, flags;
			uint64_t path, offsets, ref_ctr_offsets, cookies;
			uint32_t cnt, flags2, pid;
		} __attribute__((packed, aligned(8))) a;
		char pad[sizeof(union bpf_attr) > 128 ? sizeof(union bpf_attr) : 128];
	} attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.a.prog_fd = prog_fd;
	attr.a.attach_type = EBPROF_TRACE_UPROBE_MULTI;
	attr.a.path = (uintptr_t)path;
	attr.a.offsets = (uintptr_t)offsets;
	attr.a.cookies = (uintptr_t)cookies;
	attr.a.cnt = n;
	attr.a.flags2 = ret ? EBPROF_F_UPROBE_MULTI_RETURN : 0;
	attr.a.pid = pid;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

static int busyness(const char *func);

static int file_attach(struct cpu_run *r, struct mem_file *f, int pid)
{
	uint64_t offs[64], cookies[64], roffs[64];
	uint32_t n = 0, nr = 0;
	size_t order[64], i, k, m = 0;
	int fd, rank;

	if (f->entry_fd >= 0 || !f->n)
		return 0;
	/*
	 * The coldest first: closing, the first uprobe's breakpoint stays
	 * for a grace period after its program is gone (uncounted traps)
	 */
	for (rank = 99; rank >= 0; rank--)
		for (i = 0; i < f->n && m < 64; i++)
			if (busyness(r->probes[f->first + i].func) == rank)
				order[m++] = i;
	for (k = 0; k < m && n < 64; k++) {
		const struct mem_probe *p = &r->probes[f->first + order[k]];

		if (!p->offset)
			continue;
		offs[n] = p->offset;
		cookies[n++] = p->kind;
		if (p->ret)
			roffs[nr++] = p->offset;
	}
	if (!n)
		return 0;
	fd = uprobe_multi_link(bpf_program__fd(r->skel->progs.mem_multi_entry), r->probes[f->first].path, offs,
			       cookies, n, false, pid);
	if (fd < 0)
		return fd;
	f->entry_fd = fd;
	if (nr) {
		fd = uprobe_multi_link(bpf_program__fd(r->skel->progs.mem_multi_ret), r->probes[f->first].path,
				       roffs, NULL, nr, true, pid);
		if (fd < 0) {
			close(f->entry_fd);
			f->entry_fd = -1;
			return fd;
		}
		f->ret_fd = fd;
	}
	return 0;
}

/* does this kernel have uprobe.multi links? */
static bool have_uprobe_multi(void)
{
	struct btf *btf;
	bool ok;

	if (getenv("EBPROF_NO_UPROBE_MULTI"))
		return false;
	btf = btf__load_vmlinux_btf();
	if (!btf)
		return false;
	ok = btf__find_by_name_kind(btf, "bpf_uprobe_multi_link", BTF_KIND_STRUCT) >= 0;
	btf__free(btf);
	return ok;
}

static int mem_pid(const struct cpu_run *r, const struct launch *l)
{
	return l && l->pid ? l->pid : r->o->pids[0];
}

static uint64_t mem_counter(struct cpu_run *r, __u32 idx);

/* nanoseconds the allocator probes' programs have run (BPF statistics) */
static uint64_t mem_bpf_ns(struct cpu_run *r)
{
	struct cpu_bpf *k = r->skel;
	struct bpf_program *progs[] = {
		k->progs.mem_size1, k->progs.mem_calloc, k->progs.mem_size2, k->progs.mem_realloc,
		k->progs.mem_reallocarray, k->progs.mem_memalign_ptr, k->progs.mem_ret, k->progs.mem_free,
		k->progs.mem_multi_entry, k->progs.mem_multi_ret,
	};
	uint64_t ns = 0;
	size_t i;

	if (r->stats_fd < 0)
		return 0;
	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_program__fd(progs[i]) >= 0 && !bpf_obj_get_info_by_fd(bpf_program__fd(progs[i]), &info, &len))
			ns += info.run_time_ns;
	}
	return ns;
}

/*
 * The CPU time of process *pid*, all its threads, ended ones too, in
 * seconds: its process CPU clock, which brings running threads' time up
 * to now (schedstat lags by up to a tick, 4 ms, too coarse for windows).
 */
static double target_cpu(struct cpu_run *r, int pid)
{
	struct timespec ts;

	if (!r->cpu_clock_ok) {
		if (clock_getcpuclockid(pid, &r->cpu_clock))
			return r->budget.cpu_mark;
		r->cpu_clock_ok = true;
	}
	if (clock_gettime(r->cpu_clock, &ts))
		return r->budget.cpu_mark;	/* it is gone: no more time */
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* bring the books up to now: the probes' cost, the target's CPU time on and off */
/* the counters' sums, all in one call when the kernel can (5.6: batches) */
static void mem_counters_all(struct cpu_run *r, uint64_t *sum)
{
	int ncpu = libbpf_num_possible_cpus() > 0 ? libbpf_num_possible_cpus() : 1, fd = bpf_map__fd(r->skel->maps.mem_counters);
	__u32 n = EBPROF_MEM_COUNTERS, out, *keys = calloc(n, sizeof(*keys));
	__u64 *vals = calloc((size_t)n * ncpu, sizeof(*vals));
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	bool ok = false;
	static bool said;
	__u32 i;
	int c;

	if (keys && vals) {
		int err = bpf_map_lookup_batch(fd, NULL, &out, keys, vals, &n, &opts);

		if ((!err || errno == ENOENT) && n == EBPROF_MEM_COUNTERS) {
			for (i = 0; i < n; i++) {
				sum[keys[i]] = 0;
				for (c = 0; c < ncpu; c++)
					sum[keys[i]] += vals[(size_t)i * ncpu + c];
			}
			ok = true;
		}
	}
	if (!ok) {
		if (!said)
			pr_debug("mem: no batch lookups: the counters one by one\n");
		said = true;
		for (i = 0; i < EBPROF_MEM_COUNTERS; i++)
			sum[i] = mem_counter(r, i);
	}
	free(keys);
	free(vals);
}

/*
 * Bring the books up to now: the probes' cost, the target's CPU time on
 * and off; *full*: the BPF programs' time too (ten syscalls: at switches).
 */
static void mem_books(struct cpu_run *r, int pid, bool full)
{
	struct mem_budget *b = &r->budget;
	double cpu = target_cpu(r, pid), cost[3] = { r->entry_cost, r->ret_cost, r->free_cost }, all = 0, off_cost = 0;
	uint64_t sum[EBPROF_MEM_COUNTERS];
	int k;

	mem_counters_all(r, sum);
	for (k = 0; k < 3; k++) {
		uint64_t hits = sum[EBPROF_MEM_HITS_ENTRY + k], off = sum[EBPROF_MEM_OFF_ENTRY + k];

		all += (hits - b->hits_mark[k]) * cost[k];
		off_cost += (off - b->off_mark[k]) * cost[k];
		b->hits_mark[k] = hits;
		b->off_mark[k] = off;
	}
	/* counted calls are made while on; the traps of probes going on or off, while off */
	b->cost_on += all - off_cost;
	b->cost_off += off_cost;
	if (full) {
		uint64_t ns = mem_bpf_ns(r);

		b->cost_on += (ns - b->bpf_ns_mark) / 1e9;
		b->bpf_ns_mark = ns;
	}
	b->cost = b->cost_on + b->cost_off;
	if (r->probes_on)
		b->on_cpu += cpu - b->cpu_mark;
	else
		b->off_cpu += cpu - b->cpu_mark;
	b->cpu_mark = cpu;
}

static void mem_probes_on(struct cpu_run *r)
{
	double t0 = now_sec();
	size_t i;

	for (i = 0; r->multi && i < r->nfiles; i++) {
		int err = file_attach(r, &r->files[i], r->skel->rodata->targ_mem_tgid);

		if (err)
			pr_debug("cannot probe the allocators in %s: %s\n", r->probes[r->files[i].first].path,
				 strerror(-err));
	}
	for (i = 0; !r->multi && i < r->nprobes; i++) {
		int err = probe_attach(r, &r->probes[i], r->skel->rodata->targ_mem_tgid);

		if (err)
			pr_debug("cannot probe %s in %s: %s\n", r->probes[i].func, r->probes[i].path, strerror(-err));
	}
	/* counted from when every probe is on to when the first goes: whole calls */
	if (!r->o->exact) {
		mem_books(r, r->skel->rodata->targ_mem_tgid, true);
		r->budget.window_cost0 = r->budget.cost_on;
		r->budget.window_cpu0 = r->budget.on_cpu;
	}
	__atomic_store_n(&r->skel->bss->mem_on, 1, __ATOMIC_RELEASE);
	r->probes_on = true;
	r->on_since = now_sec();
	r->budget.windows++;
	pr_debug("mem: %zu probes on in %.1f ms\n", r->nprobes, 1000 * (r->on_since - t0));
}

struct retired {
	int *fds;		/* uprobe.multi links, returns first */
	struct bpf_link **links;	/* uprobes, returns first, then the busiest */
	size_t nfds, nlinks;
	volatile int *busy;
};

static void *close_links(void *arg)
{
	struct retired *rt = arg;
	size_t i;

	double t0 = now_sec();

	for (i = 0; i < rt->nfds; i++)
		close(rt->fds[i]);
	for (i = 0; i < rt->nlinks; i++)
		bpf_link__destroy(rt->links[i]);
	pr_debug("mem: %zu links closed in %.1f ms\n", rt->nfds + rt->nlinks, 1000 * (now_sec() - t0));
	__atomic_fetch_sub(rt->busy, 1, __ATOMIC_RELEASE);
	free(rt->fds);
	free(rt->links);
	free(rt);
	return NULL;
}

/* close in a thread of its own; false: could not */
static bool spawn_closer(struct cpu_run *r, struct retired *rt)
{
	pthread_attr_t attr;
	pthread_t t;
	bool ok;

	if (pthread_attr_init(&attr))
		return false;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	__atomic_fetch_add(&r->detaching, 1, __ATOMIC_ACQ_REL);
	ok = !pthread_create(&t, &attr, close_links, rt);
	if (!ok)
		__atomic_fetch_sub(&r->detaching, 1, __ATOMIC_ACQ_REL);
	pthread_attr_destroy(&attr);
	return ok;
}

/* the order uprobes are closed in: the busiest allocators first */
static int busyness(const char *func)
{
	static const char *const order[] = { "malloc", "free", "PyObject_Malloc", "PyObject_Free", "realloc",
					     "PyObject_Realloc", "calloc", "PyMem_Malloc", "PyMem_Free" };
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (!strcmp(func, order[i]))
			return i;
	return 99;
}

/*
 * Closing a probe removes its breakpoints, but each close waits for a
 * grace period (~20-50 ms here, one after another even from several
 * threads), and until then the probes not closed yet go on trapping (they
 * are counted as the probes' cost, not as calls).  uprobe.multi links
 * make that one close per file and kind.  Returns go first: a return
 * probe also traps at the entry, to take the return address, and only an
 * entry probe beside it lets that trap be counted.  (Attaching, entries go
 * first.)  The links close in a thread while the target runs on.
 */
static void mem_probes_off(struct cpu_run *r)
{
	struct retired *rt = calloc(1, sizeof(*rt));
	size_t i, rank;

	if (r->probes_on && !r->o->exact) {
		mem_books(r, r->skel->rodata->targ_mem_tgid, true);
		r->budget.last_cost = r->budget.cost_on - r->budget.window_cost0;
		r->budget.last_on_cpu = r->budget.on_cpu - r->budget.window_cpu0;
	}
	if (r->skel && r->skel->bss)
		__atomic_store_n(&r->skel->bss->mem_on, 0, __ATOMIC_RELEASE);
	if (r->probes_on)
		r->on_total += now_sec() - r->on_since;
	r->probes_on = false;
	if (rt) {
		rt->fds = calloc(2 * r->nfiles + 1, sizeof(*rt->fds));
		rt->links = calloc(2 * r->nprobes + 1, sizeof(*rt->links));
	}
	if (!rt || !rt->fds || !rt->links) {
		if (rt) {
			free(rt->fds);
			free(rt->links);
			free(rt);
		}
		for (i = 0; i < r->nfiles; i++) {
			if (r->files[i].entry_fd >= 0)
				close(r->files[i].entry_fd);
			if (r->files[i].ret_fd >= 0)
				close(r->files[i].ret_fd);
			r->files[i].entry_fd = r->files[i].ret_fd = -1;
		}
		for (i = 0; i < r->nprobes; i++)
			probe_detach(&r->probes[i]);
		return;
	}
	for (i = 0; i < r->nfiles; i++) {
		if (r->files[i].ret_fd >= 0)
			rt->fds[rt->nfds++] = r->files[i].ret_fd;
		r->files[i].ret_fd = -1;
	}
	for (i = 0; i < r->nfiles; i++) {
		if (r->files[i].entry_fd >= 0)
			rt->fds[rt->nfds++] = r->files[i].entry_fd;
		r->files[i].entry_fd = -1;
	}
	for (i = 0; i < r->nprobes; i++) {
		if (r->probes[i].exit)
			rt->links[rt->nlinks++] = r->probes[i].exit;
		r->probes[i].exit = NULL;
	}
	for (rank = 0; rank <= 99; rank++) {
		for (i = 0; i < r->nprobes; i++) {
			struct mem_probe *p = &r->probes[i];

			if (busyness(p->func) != (int)rank || !p->entry)
				continue;
			rt->links[rt->nlinks++] = p->entry;
			p->entry = NULL;
		}
	}
	rt->busy = &r->detaching;
	/*
	 * The multi links close at once, each in a thread: a close removes
	 * its breakpoints after a grace period unless another close or
	 * attach just had one (dup_mmap_sem's rcu_sync), so together they
	 * wait for one.
	 */
	for (i = 0; i < rt->nfds; i++) {
		struct retired *one = calloc(1, sizeof(*one));

		if (!one || !(one->fds = malloc(sizeof(int)))) {
			free(one);
			continue;
		}
		one->fds[0] = rt->fds[i];
		one->nfds = 1;
		one->busy = &r->detaching;
		if (spawn_closer(r, one))
			rt->fds[i] = -1;
		else
			free(one->fds), free(one);
	}
	for (i = 0; i < rt->nfds; i++)
		if (rt->fds[i] < 0)
			rt->fds[i--] = rt->fds[--rt->nfds];
	if (!rt->nfds && !rt->nlinks) {
		free(rt->fds);
		free(rt->links);
		free(rt);
		return;
	}
	if (!spawn_closer(r, rt)) {
		__atomic_fetch_add(&r->detaching, 1, __ATOMIC_ACQ_REL);
		close_links(rt);
	}
}

/* wait for the links being destroyed in the background */
static void mem_detach_wait(struct cpu_run *r)
{
	while (__atomic_load_n(&r->detaching, __ATOMIC_ACQUIRE) > 0)
		usleep(2000);
}

/* the allocators in files *tgid* maps that were not looked at yet */
static void mem_scan(struct cpu_run *r, int tgid)
{
	const struct sym_mapping *maps;
	struct mem_file *f;
	size_t n, i, k, a;

	if ((unsigned int)tgid != r->skel->rodata->targ_mem_tgid)
		return;
	n = symbolizer__mappings(r->sym, tgid, &maps);
	for (i = 0; i < n; i++) {
		struct dso *d = maps[i].dso;

		if (!d || !strncmp(dso__name(d), "ld-linux", 8))
			continue;
		for (k = 0; k < r->nscanned && r->scanned[k] != d; k++)
			;
		if (k < r->nscanned)
			continue;
		if (r->nscanned == r->scanned_cap) {
			size_t cap = r->scanned_cap ? 2 * r->scanned_cap : 32;
			struct dso **nd = realloc(r->scanned, cap * sizeof(*nd));

			if (!nd)
				return;
			r->scanned = nd;
			r->scanned_cap = cap;
		}
		r->scanned[r->nscanned++] = d;
		if (r->nfiles == r->files_cap) {
			size_t cap = r->files_cap ? 2 * r->files_cap : 8;
			struct mem_file *nf = realloc(r->files, cap * sizeof(*nf));

			if (!nf)
				return;
			r->files = nf;
			r->files_cap = cap;
		}
		f = &r->files[r->nfiles];
		f->first = r->nprobes;
		f->n = 0;
		f->entry_fd = f->ret_fd = -1;
		for (a = 0; a < sizeof(allocators) / sizeof(allocators[0]); a++) {
			uint64_t v, size = 0;
			struct mem_probe *p;

			if (!dso__symbol(d, allocators[a].name, &v, &size) || !size)
				continue;
			if (r->nprobes == r->probes_cap) {
				size_t cap = r->probes_cap ? 2 * r->probes_cap : 32;
				struct mem_probe *np = realloc(r->probes, cap * sizeof(*np));

				if (!np)
					return;
				r->probes = np;
				r->probes_cap = cap;
			}
			p = &r->probes[r->nprobes++];
			memset(p, 0, sizeof(*p));
			snprintf(p->path, sizeof(p->path), "/proc/%d/root%s", tgid, dso__path(d));
			p->func = allocators[a].name;
			if (!dso__vaddr_to_offset(d, v, &p->offset))
				p->offset = 0;
			p->prog = mem_prog(r, allocators[a].kind);
			p->kind = allocators[a].kind;
			p->ret = allocators[a].kind != 0;
			f->n++;
			pr_debug("allocator %s in %s\n", p->func, p->path);
			if (r->probes_on && !r->multi)
				probe_attach(r, p, tgid);
		}
		if (!f->n)
			continue;
		r->nfiles++;
		if (r->probes_on && r->multi)
			file_attach(r, f, tgid);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* seconds a malloc(64) + free pair takes here: the median of 7 batches of 300 */
static double pair_time(void)
{
	double t[7], t0;
	void *volatile q;
	int i, k;

	for (k = 0; k < 7; k++) {
		t0 = now_sec();
		for (i = 0; i < 300; i++) {
			q = malloc(64);
			free(q);
		}
		t[k] = (now_sec() - t0) / 300;
	}
	qsort(t, 7, sizeof(t[0]), cmp_double);
	return t[3];
}

/*
 * What a trap costs on this libc's malloc (entry; entry and return) and on
 * its free, here in this thread; the BPF programs' own time is left out
 * (they return at once for this process): it is measured in the target.
 */
static void mem_calibrate(struct cpu_run *r)
{
	struct mem_probe p = {};
	double bare, pair = 0;
	Dl_info dli;

	if (!dladdr((void *)malloc, &dli) || !dli.dli_fname)
		goto out;
	snprintf(p.path, sizeof(p.path), "%s", dli.dli_fname);
	bare = pair_time();
	p.func = "malloc";
	p.prog = r->skel->progs.mem_size1;
	if (!probe_attach(r, &p, syscall(SYS_gettid))) {
		r->entry_cost = pair_time() - bare;
		probe_detach(&p);
	}
	p.ret = true;
	if (!probe_attach(r, &p, syscall(SYS_gettid))) {
		pair = pair_time() - bare;
		probe_detach(&p);
	}
	p.func = "free";
	p.prog = r->skel->progs.mem_free;
	p.ret = false;
	if (!probe_attach(r, &p, syscall(SYS_gettid))) {
		r->free_cost = pair_time() - bare;
		probe_detach(&p);
	}
	r->ret_cost = pair - r->entry_cost;
out:
	if (r->entry_cost <= 0)
		r->entry_cost = 10e-6;
	if (r->ret_cost <= 0)
		r->ret_cost = 5e-6;
	if (r->free_cost <= 0)
		r->free_cost = 10e-6;
	pr_debug("mem: traps cost %.1f us at an allocator's entry, %.1f us at its return, %.1f us at a free\n",
		 1e6 * r->entry_cost, 1e6 * r->ret_cost, 1e6 * r->free_cost);
}

static uint64_t mem_counter(struct cpu_run *r, __u32 idx)
{
	int ncpu = libbpf_num_possible_cpus(), c;
	__u64 vals[ncpu > 0 ? ncpu : 1];
	uint64_t sum = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.mem_counters), &idx, vals))
		return 0;
	for (c = 0; c < ncpu; c++)
		sum += vals[c];
	return sum;
}

/*
 * A window stays on at least long enough that its probes cost the target
 * ~1 ms (given the last window's cost per second on), 1-20 ms: in an
 * allocation storm each window sees one moment of the target, so many
 * short ones are better; elsewhere longer ones disturb it less (each
 * attach and close of the probes flushes its TLB and rewrites code pages).
 */
#define MEM_WINDOW_COST 0.001
#define MEM_AIM 0.9
#define MEM_MIN_ON 0.001
#define MEM_MAX_MIN_ON 0.020
#define MEM_HORIZON 1.0		/* seconds of the target's work: budget not used by then is gone */

/*
 * The default mode's budget, looked at every 10 ms: the probes go off
 * when what they cost the target exceeds --overhead of its own work, and
 * on again when its work has earned them back.  A target whose calls fit
 * the budget keeps them on all the time, and is counted exactly.
 */
static void mem_budget(struct cpu_run *r, int pid)
{
	struct mem_budget *b = &r->budget;
	double work, allowed, spent, now, cap = r->o->overhead / 100.0 * MEM_HORIZON;

	if (r->o->exact)
		return;
	mem_books(r, pid, false);
	now = now_sec();
	work = b->cpu_mark - b->cpu0 - b->cost;
	/* 10 % under: what is not counted (TLB flushes and code pages copied at each switch, colder caches) */
	allowed = MEM_AIM * r->o->overhead / 100.0 * work;
	/* budget not used within MEM_HORIZON of work is gone: no long bursts at a later storm */
	if (allowed - (b->cost + b->forgone) > cap)
		b->forgone = allowed - cap - b->cost;
	spent = b->cost + b->forgone;
	if (r->probes_on && now - r->on_since >= b->min_on && spent > allowed) {
		pr_debug("mem: %.4f: probes off: they cost %.3f s of %.3f s of work\n", now, b->cost, work);
		mem_probes_off(r);
		b->offs++;
	} else if (!r->probes_on && spent <= allowed && !__atomic_load_n(&r->detaching, __ATOMIC_ACQUIRE)) {
		double rate = b->last_on_cpu > 0 ? b->last_cost / b->last_on_cpu : 1;	/* cost a second on */
		double len = rate > 0 ? MEM_WINDOW_COST / rate : MEM_MAX_MIN_ON;

		len = len < MEM_MIN_ON ? MEM_MIN_ON : len > MEM_MAX_MIN_ON ? MEM_MAX_MIN_ON : len;
		/* windows of random length, so that they do not beat with a period of the target's */
		b->min_on = len * (0.5 + drand48());
		mem_probes_on(r);
	}
}

static void mem_poll_rss(struct cpu_run *r, int pid)
{
	char path[64], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmRSS:", 6))
			r->rss_kib = atol(line + 6);
		else if (!strncmp(line, "VmHWM:", 6))
			r->hwm_kib = atol(line + 6);
	}
	if (f)
		fclose(f);
}

/* store rows in the BPF row pool, in batches (kernel 5.6+) */
static int write_rows(void *ctx, uint32_t first, const struct unwind_row *rows, size_t n)
{
	struct cpu_run *r = ctx;
	int fd = bpf_map__fd(r->skel->maps.unwind_rows);
	__u32 *keys = malloc(n * sizeof(*keys));
	size_t done = 0;
	int err = 0;

	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		keys[i] = first + i;
	while (done < n && !err) {
		__u32 count = n - done;

		err = bpf_map_update_batch(fd, keys + done, rows + done, &count, NULL);
		if (err)
			err = -errno;
		done += count;
	}
	free(keys);
	return err;
}

/* ebprof mem's programs are loaded in its mode only */
static void mem_programs(struct cpu_run *r)
{
	struct cpu_bpf *k = r->skel;
	struct bpf_program *progs[] = {
		k->progs.mem_size1, k->progs.mem_calloc, k->progs.mem_size2, k->progs.mem_realloc,
		k->progs.mem_reallocarray, k->progs.mem_memalign_ptr, k->progs.mem_ret, k->progs.mem_free,
		k->progs.mem_fault, k->progs.mem_mmap, k->progs.mem_brk_exit,
	};
	size_t i;

	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		bpf_program__set_autoload(progs[i], r->mem);
	r->multi = r->mem && have_uprobe_multi();
	bpf_program__set_autoload(k->progs.mem_multi_entry, r->multi);
	bpf_program__set_autoload(k->progs.mem_multi_ret, r->multi);
	if (r->multi) {
		bpf_program__set_expected_attach_type(k->progs.mem_multi_entry, EBPROF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(k->progs.mem_multi_ret, EBPROF_TRACE_UPROBE_MULTI);
	}
	if (!r->mem)
		return;
	/* no sampling: the allocator probes and tracepoints record the stacks */
	bpf_program__set_autoload(k->progs.do_sample_dwarf, false);
	bpf_program__set_autoload(k->progs.do_sample_fp_loop, false);
	bpf_program__set_autoload(k->progs.do_sample, false);
	bpf_program__set_autoload(k->progs.do_sample_compat, false);
	/*
	 * Every allocation records its stacks, so there are many more of them
	 * than samples give; no perf_event program is loaded, so the maps can
	 * grow on demand instead of being allocated up front.
	 */
	bpf_map__set_max_entries(k->maps.mem_blocks, r->o->max_blocks);
	bpf_map__set_max_entries(k->maps.mem_stats, r->o->map_size * 8);
	bpf_map__set_max_entries(k->maps.mem_rss, r->o->map_size * 4);
	bpf_map__set_max_entries(k->maps.ustacks, r->o->map_size * 8);
	bpf_map__set_max_entries(k->maps.kstacks, 1);
	bpf_map__set_max_entries(k->maps.counts, 1);
	bpf_map__set_map_flags(k->maps.mem_blocks, BPF_F_NO_PREALLOC);
	bpf_map__set_map_flags(k->maps.mem_stats, BPF_F_NO_PREALLOC);
	bpf_map__set_map_flags(k->maps.mem_rss, BPF_F_NO_PREALLOC);
	bpf_map__set_map_flags(k->maps.ustacks, BPF_F_NO_PREALLOC);
	bpf_map__set_map_flags(k->maps.pystacks, BPF_F_NO_PREALLOC);
}

int cpu_collect(const struct ebprof_opts *o, struct launch *l, struct profile **out, struct mem_report **mout)
{
	struct cpu_run r = { .o = o, .mem = o->mode == MODE_MEM, .rss_kib = -1, .hwm_kib = -1, .stats_fd = -1 };
	struct profile *p = NULL;
	double start, stop, deadline = 0, last_rescan = 0;
	int err, ret = 1, i;

	libbpf_set_print(libbpf_print);
	r.ncpus = libbpf_num_possible_cpus();
	r.links = calloc(2 * r.ncpus, sizeof(*r.links));
	r.pefds = calloc(2 * r.ncpus, sizeof(*r.pefds));
	for (i = 0; r.pefds && i < 2 * r.ncpus; i++)
		r.pefds[i] = -1;
	r.sym = symbolizer__new();
	p = profile__new();
	if (!r.links || !r.pefds || !r.sym || !p) {
		pr_err("out of memory\n");
		goto cleanup;
	}

	/* Open and configure the BPF object */
	r.skel = cpu_bpf__open();
	if (!r.skel) {
		pr_err("cannot open the BPF object: %s\n", strerror(errno));
		goto cleanup;
	}
	r.skel->rodata->targ_all = o->all;
	r.skel->rodata->targ_per_thread = o->per_thread;
	r.skel->rodata->targ_kernel = !o->no_kernel;
	r.skel->rodata->targ_follow_fork = o->cmd != NULL;
	/* events other than clocks: each sample stands for its period's worth */
	r.skel->rodata->targ_weight = !o->event.timer;
	if (o->nevents == 2) {
		if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_get_attach_cookie, NULL) <= 0) {
			pr_err("sampling two events needs bpf_get_attach_cookie (kernel 5.15): give one event\n");
			ret = EXIT_NOFEATURE;
			goto cleanup;
		}
		r.skel->rodata->targ_two_events = true;
	}
	bpf_map__set_max_entries(r.skel->maps.kstacks, o->map_size);
	bpf_map__set_max_entries(r.skel->maps.ustacks, o->map_size);
	bpf_map__set_max_entries(r.skel->maps.counts, o->map_size * 2);
	select_sampler(&r);
	if (r.mem) {
		if (!r.dwarf) {
			pr_err("ebprof mem needs bpf_loop (kernel 5.17) and unwind tables (not --fp)\n");
			ret = EXIT_NOFEATURE;
			goto cleanup;
		}
		r.skel->rodata->targ_mem_tgid = mem_pid(&r, l);
	}
	mem_programs(&r);
	if (r.skel->rodata->targ_python) {
		/* 2 KiB a stack, preallocated (not by mem): half as many as native stacks */
		bpf_map__set_max_entries(r.skel->maps.pystacks, r.mem ? o->map_size * 4 : o->map_size / 2);
	} else {
		bpf_map__set_max_entries(r.skel->maps.pystacks, 1);
		bpf_map__set_max_entries(r.skel->maps.py_codes, 1);
		bpf_map__set_max_entries(r.skel->maps.py_threads, 1);
	}
	if (r.dwarf) {
		bpf_map__set_max_entries(r.skel->maps.unwind_rows, o->unwind_rows);
		bpf_map__set_max_entries(r.skel->maps.unwind_procs, o->all ? 1024 : 256);
	} else {
		bpf_map__set_max_entries(r.skel->maps.unwind_procs, 1);
	}

	r.track_mmap = ensure_tracefs();
	if (!r.track_mmap) {
		pr_info("tracefs is not available: re-reading mappings every second instead of tracing mmap\n");
		bpf_program__set_autoload(r.skel->progs.on_mmap_enter, false);
		bpf_program__set_autoload(r.skel->progs.on_mmap_exit, false);
	}

	/* Load and verify the BPF programs */
	err = cpu_bpf__load(r.skel);
	if (err) {
		if (err == -EPERM || errno == EPERM)
			pr_err("permission denied loading BPF programs: run as root, or with CAP_BPF and CAP_PERFMON\n");
		else
			pr_err("cannot load the BPF programs: %s (rerun with --debug for the verifier's log)\n",
			       strerror(-err));
		ret = err == -EPERM ? 1 : EXIT_NOFEATURE;
		goto cleanup;
	}

	if (r.skel->rodata->targ_python) {
		r.py = py__new(r.sym, bpf_map__fd(r.skel->maps.py_procs), o->all);
		if (!r.py) {
			pr_err("out of memory\n");
			goto cleanup;
		}
	}
	if (r.dwarf) {
		r.pool = unwind_pool__new(o->unwind_rows, write_rows, &r);
		if (!r.pool) {
			pr_err("out of memory\n");
			goto cleanup;
		}
	}

	/* Attach the tracepoints that follow processes, then the ring buffer */
	err = cpu_bpf__attach(r.skel);
	if (err) {
		pr_err("cannot attach tracepoints: %s\n", strerror(-err));
		goto cleanup;
	}
	r.rb = ring_buffer__new(bpf_map__fd(r.skel->maps.events), handle_event, &r, NULL);
	if (!r.rb) {
		pr_err("cannot create the ring buffer: %s\n", strerror(errno));
		goto cleanup;
	}
	if (r.py) {
		r.py_rb = ring_buffer__new(bpf_map__fd(r.skel->maps.py_events), handle_py_event, &r, NULL);
		if (!r.py_rb || pthread_create(&r.py_thread, NULL, py_reader, &r)) {
			pr_err("cannot start reading Python code objects: %s\n", strerror(errno));
			goto cleanup;
		}
		r.py_thread_on = true;
	}

	/* The target set, and its mappings as they are now */
	if (o->all) {
		snapshot_all(&r);
	} else if (l->pid) {
		if (add_target(&r, l->pid)) {
			pr_err("cannot add pid %d to the target set: %s\n", l->pid, strerror(errno));
			goto cleanup;
		}
		/* until it execs, the held child runs our code */
		refresh(&r, l->pid, 0);
	} else {
		for (i = 0; i < o->npids; i++) {
			if (add_target(&r, o->pids[i])) {
				pr_err("cannot add pid %d to the target set: %s\n", o->pids[i], strerror(errno));
				goto cleanup;
			}
			err = symbolizer__snapshot(r.sym, o->pids[i], 0);
			if (err)
				pr_warn("cannot read the mappings of pid %d: %s\n", o->pids[i], strerror(-err));
			else
				unwind_update(&r, o->pids[i]);
			if (!err && r.py)
				py__scan(r.py, o->pids[i]);
		}
	}

	/* Start sampling, or tracing allocations */
	if (r.mem) {
		mem_calibrate(&r);
		mem_scan(&r, mem_pid(&r, l));
		if (!r.nprobes)
			pr_warn("no allocator functions found in pid %d: page faults and mappings only\n", mem_pid(&r, l));
		if (!o->exact) {
			/* what the probes' programs cost, for the budget */
			r.stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
			r.budget.cpu0 = r.budget.cpu_mark = target_cpu(&r, mem_pid(&r, l));
			r.budget.min_on = MEM_MIN_ON;
		}
		mem_probes_on(&r);
	} else if (open_events(&r)) {
		goto cleanup;
	}
	start = now_sec();
	if (o->duration > 0)
		deadline = start + o->duration;
	if (l->pid) {
		err = launch_release(l);
		if (err) {
			pr_err("cannot run '%s': %s\n", o->cmd[0], strerror(-err));
			ret = 127;
			goto cleanup;
		}
	}
	if (r.mem)
		pr_info("tracing the allocations of pid %d (%zu allocator functions, %s), attached in %.1f ms; Ctrl-C to stop\n",
			mem_pid(&r, l), r.nprobes, o->exact ? "every call" : "within the overhead budget",
			1000 * (now_sec() - session_t0));
	else
		pr_info("sampling %s at %u Hz on %d CPUs, attached in %.1f ms; Ctrl-C to stop\n",
			o->event.name, o->freq, r.ncpus, 1000 * (now_sec() - session_t0));

	while (!exiting) {
		/* an interpreter starting up: look again soon */
		bool py_waiting = r.py && py__retry(r.py) > 0;
		int timeout = py_waiting ? 5 : 100;

		if (r.mem) {
			mem_poll_rss(&r, mem_pid(&r, l));
			if (!o->exact)
				timeout = r.probes_on ? 1 : 10;
		}
		err = ring_buffer__poll(r.rb, timeout /* ms */);
		if (r.mem)
			mem_budget(&r, mem_pid(&r, l));
		run_queue(&r);
		if (err < 0 && err != -EINTR) {
			pr_err("polling the ring buffer failed: %s\n", strerror(-err));
			break;
		}
		if (deadline && now_sec() >= deadline)
			break;
		if (targets_gone(&r, l))
			break;
		if (!r.track_mmap && now_sec() - last_rescan >= 1.0) {
			rescan(&r, l);
			last_rescan = now_sec();
		}
	}
	stop = now_sec();

	/* Stop sampling, then take in the last events and the counts */
	close_events(&r);
	if (r.mem) {
		if (!o->exact)
			mem_books(&r, mem_pid(&r, l), true);
		mem_probes_off(&r);
		mem_detach_wait(&r);
	}
	ring_buffer__consume(r.rb);
	run_queue(&r);
	py_reader_stop(&r);
	describe_target(o, l, &p->meta);
	p->meta.event = o->event.name;
	p->meta.event2 = o->nevents == 2 ? o->event2.name : NULL;
	p->meta.weighted = !o->event.timer;
	p->meta.freq = o->event.period ? 0 : o->freq;
	p->meta.duration = stop - start;
	p->meta.per_thread = o->per_thread;
	p->meta.per_process = o->all || o->npids > 1;
	p->meta.unwinder = r.dwarf ? "dwarf" : "fp";
	if (r.pool) {
		p->meta.table_rows = unwind_pool__used(r.pool);
		p->meta.table_files = unwind_pool__files(r.pool);
		p->meta.table_build_s = unwind_pool__build_seconds(r.pool);
	}
	read_stats(&r, &p->meta);
	if (r.py)
		p->meta.py_procs = py__active(r.py);
	if (r.mem) {
		struct mem_report *m = calloc(1, sizeof(*m));

		if (!m) {
			pr_err("out of memory\n");
			goto cleanup;
		}
		snprintf(m->target, sizeof(m->target), "%s", p->meta.target);
		pr_debug("python: %lu stacks, %lu without a thread state, %lu lost, %lu truncated, %lu read errors\n",
			 (unsigned long)p->meta.py_samples, (unsigned long)p->meta.py_no_tstate,
			 (unsigned long)p->meta.py_lost, (unsigned long)p->meta.py_truncated,
			 (unsigned long)p->meta.py_errors);
		m->prof = p;
		p = NULL;
		err = build_mem_report(&r, l, m, stop - start);
		if (err) {
			pr_err("cannot build the memory report: %s\n", strerror(-err));
			mem_report__free(m);
			goto cleanup;
		}
		*mout = m;
		ret = 0;
		goto cleanup;
	}
	err = build_profile(&r, p);
	if (err) {
		pr_err("cannot build the profile: %s\n", strerror(-err));
		goto cleanup;
	}
	*out = p;
	p = NULL;
	ret = 0;

cleanup:
	close_events(&r);
	if (r.mem) {
		mem_probes_off(&r);
		mem_detach_wait(&r);
		free(r.probes);
		free(r.files);
		free(r.scanned);
		if (r.stats_fd >= 0)
			close(r.stats_fd);
	}
	py_reader_stop(&r);
	ring_buffer__free(r.py_rb);
	ring_buffer__free(r.rb);
	cpu_bpf__destroy(r.skel);
	py__free(r.py);
	free(r.queue);
	symbolizer__free(r.sym);
	if (r.pool)
		pr_info("unwind tables: %zu rows of %zu files, built in %.1f ms\n", unwind_pool__used(r.pool),
			unwind_pool__files(r.pool), 1000 * unwind_pool__build_seconds(r.pool));
	unwind_pool__free(r.pool);
	profile__free(p);
	free(r.links);
	free(r.pefds);
	return ret;
}
