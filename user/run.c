// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * run.c - the session every BPF mode runs in (run.h): open -> configure
 * -> load -> attach -> targets -> start -> poll -> stop -> report.  It
 * knows no mode: what a mode does, it does through its struct mode_ops.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <pthread.h>
#include <signal.h>
#include <errno.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "run.h"
#include "ebprof.h"
#include "sym/elf.h"
#include "sym/symbolizer.h"
#include "unwind.h"
#include "debuginfod.h"
#include "util/grow.h"
#include "util/log.h"
#include "util/strmap.h"
#include "util/bisect.h"

/* the mode table: a mode is one line here */
static const struct mode_ops *const modes[] = {
	[MODE_CPU] = &cpu_mode,
	[MODE_MEM] = &mem_mode,
	[MODE_OFF] = &off_mode,
	[MODE_WALL] = &wall_mode,
	[MODE_LAT] = &lat_mode,
	[MODE_STAT] = &stat_mode,
	/* top and record: cpu's sampling, handed out every period (run_sink) */
	[MODE_TOP] = &cpu_mode,
	[MODE_RECORD] = &cpu_mode,
};

/*
 * a target's file mapped without its symbols: ask debuginfod for its
 * debug file, in the background (not for ebprof's own, which a command
 * runs until its exec)
 */
static void want_debug_file(struct dso *d, int tgid, unsigned int gen, void *ctx)
{
	struct run *r = ctx;
	char bid[128];

	if (r->l && r->l->pid == tgid && !gen)
		return;
	if (dso__debug_wanted(d, bid, sizeof(bid))) {
		pr_debug("debuginfod: %s has no symbols here: fetching its debug file %s\n", dso__path(d), bid);
		debuginfod_want(bid);
	}
}

static void *destroy_link(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/*
 * The skeleton's links, destroyed together: taking a tracepoint's away
 * waits for a grace period (~70 ms here), and the user waits for the
 * report until they are all gone.
 */
static void detach_together(struct bpf_object_skeleton *s)
{
	pthread_t th[64];
	int i, n = 0;

	for (i = 0; s && i < s->prog_cnt; i++) {
		struct bpf_prog_skeleton *ps = (void *)((char *)s->progs + (size_t)i * s->prog_skel_sz);
		struct bpf_link *l = *ps->link;

		if (!l)
			continue;
		*ps->link = NULL;
		if (n == 64 || pthread_create(&th[n], NULL, destroy_link, l))
			bpf_link__destroy(l);
		else
			n++;
	}
	while (n > 0)
		pthread_join(th[--n], NULL);
}

void run_before_launch(const struct ebprof_opts *o, const char *path)
{
	const struct mode_ops *ops = (size_t)o->mode < sizeof(modes) / sizeof(modes[0]) ? modes[o->mode] : NULL;

	if (ops && ops->before_launch)
		ops->before_launch(o, path);
}

int run_attach_per_cpu(struct run *r, struct perf_event_attr *attr, const char *name, struct bpf_program *prog,
		       __u64 cookie, int *fds, struct bpf_link **links)
{
	int cpu, attached = 0;

	for (cpu = 0; cpu < r->ncpus; cpu++) {
		LIBBPF_OPTS(bpf_perf_event_opts, opts, .bpf_cookie = cookie);
		int fd = syscall(__NR_perf_event_open, attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);

		fds[cpu] = -1;
		links[cpu] = NULL;
		if (fd < 0) {
			if (errno == ENODEV)	/* offline CPU */
				continue;
			if (errno == ENOENT || errno == EOPNOTSUPP)
				pr_err("event '%s' is not supported on this machine%s\n", name,
				       attr->type != PERF_TYPE_SOFTWARE ? " (no hardware PMU: a VM?); use a software event such as cpu-clock or page-faults" : "");
			else
				pr_err("cannot open perf event '%s' on CPU %d: %s\n", name, cpu, strerror(errno));
			return -1;
		}
		fds[cpu] = fd;
		links[cpu] = bpf_program__attach_perf_event_opts(prog, fd, &opts);
		if (!links[cpu]) {
			pr_err("cannot attach the sampler to CPU %d: %s\n", cpu, strerror(errno));
			return -1;
		}
		attached++;
	}
	return attached;
}

int run_render(const struct ebprof_opts *o, const struct profile *p, int format, const struct render_opts *ro,
	       FILE *out)
{
	const struct mode_ops *ops = (size_t)o->mode < sizeof(modes) / sizeof(modes[0]) ? modes[o->mode] : NULL;

	if (ops && ops->render)
		return ops->render(p, format, ro, out);
	return render_for(format)(p, ro, out);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	/* libbpf's warnings are only noise next to our own one-line errors */
	if (log_level < 2 || (level == LIBBPF_DEBUG && log_level < 3))
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* how the walkers go through mapping *sm*: its rows in the pool, else frame pointers */
/* the first rows of the tables some process's walks may use now */
struct rows_in_use {
	struct strmap *firsts;
};

static bool rows_in_use(uint32_t first, void *ctx)
{
	return strmap__get(((struct rows_in_use *)ctx)->firsts, &first, sizeof(first)) != NULL;
}

static void mark_in_use(struct strmap *firsts, const struct unwind_map *maps, __u32 n)
{
	__u32 i;

	for (i = 0; i < n && i < EBPROF_UNWIND_MAPS; i++)
		if (maps[i].flags & EBPROF_MAP_TABLE)
			strmap__set(firsts, &maps[i].first, sizeof(maps[i].first), (void *)1);
}

/*
 * The pool is full: the tables no process in the BPF map points at (and
 * none of *building*'s, which is not there yet) go, at most once a
 * second.  Files gone: how many.
 */
static size_t collect_rows(struct run *r, const struct unwind_proc *building)
{
	int fd = bpf_map__fd(r->b.unwind_procs);
	struct rows_in_use u;
	struct unwind_proc *up;
	__u32 key, next, *prev = NULL;
	size_t n = 0;

	if (now_sec() - r->last_collect < 1.0)
		return 0;
	r->last_collect = now_sec();
	u.firsts = strmap__new();
	up = malloc(sizeof(*up));
	if (!u.firsts || !up) {
		strmap__free(u.firsts);
		free(up);
		return 0;
	}
	if (building)
		mark_in_use(u.firsts, building->maps, building->nmaps);
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, up))
			mark_in_use(u.firsts, up->maps, up->nmaps);
	}
	n = unwind_pool__collect(r->pool, rows_in_use, &u);
	pr_debug("unwind pool full: %zu files no process uses gave their rows back (%zu tables in use)\n", n,
		 strmap__size(u.firsts));
	strmap__free(u.firsts);
	free(up);
	return n;
}

/* *sm*'s rows for the walker in *m*; *building*: the tables of the process being written, or NULL */
static void unwind_map_of(struct run *r, const struct sym_mapping *sm, struct unwind_map *m,
			  const struct unwind_proc *building)
{
	uint64_t bias;
	int err;

	memset(m, 0, sizeof(*m));
	m->start = sm->start;
	m->end = sm->end;
	m->flags = EBPROF_MAP_FP;
	if (!sm->dso)
		return;
	err = unwind_pool__get(r->pool, sm->dso, &m->first, &m->nrows);
	/* full: room from the tables of processes gone, and again */
	if (err == -ENOSPC && collect_rows(r, building))
		err = unwind_pool__get(r->pool, sm->dso, &m->first, &m->nrows);
	if (err == -ENOSPC)
		pr_debug("no room for the unwind table of %s\n", dso__name(sm->dso));
	if (!err && dso__map_bias(sm->dso, m->start, sm->pgoff, true, &bias)) {
		m->bias = bias;
		m->flags = EBPROF_MAP_TABLE;
	} else if (err == -ENOSPC && !r->pool_full_warned) {
		pr_warn("the unwind table pool is full (%zu rows) with the tables of running processes: some code is walked by frame pointers; rerun with a larger --unwind-rows\n",
			unwind_pool__used(r->pool));
		r->pool_full_warned = true;
	}
}

/*
 * Give the BPF walker the unwind tables of *tgid*'s mappings as the
 * symbolizer last saw them: rows for each file (built once per file),
 * frame pointers for anonymous code (JITs) and files without tables.
 */
static void unwind_update(struct run *r, int tgid)
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
	/* what tells the BPF side that a walk it keeps was made with other tables */
	up->version = ++r->unwind_version ? r->unwind_version : ++r->unwind_version;
	for (i = 0; i < n && up->nmaps < EBPROF_UNWIND_MAPS; i++)
		unwind_map_of(r, &maps[i], &up->maps[up->nmaps++], up);
	if (bpf_map_update_elem(bpf_map__fd(r->b.unwind_procs), &key, up, BPF_ANY))
		pr_debug("cannot store unwind tables of %d: %s\n", tgid, strerror(errno));
	free(up);
}

/* *hash* in the epoch the BPF side fills now */
static __u64 epoch_key(struct run *r, __u64 hash)
{
	return ebprof_epoch_hash(hash, (__u64)(*r->b.epoch & 1) << 63);
}

/* a walk of another process's stack (run_walk_blocked) */
struct remote_walk {
	struct run *r;
	const struct sym_mapping *maps;
	size_t nmaps;
	int mem;	/* its /proc/PID/mem */
};

static int remote_map(void *ctx, uint64_t addr, struct unwind_map *m)
{
	struct remote_walk *w = ctx;
	size_t lo = bisect_u64(w->maps, w->nmaps, sizeof(*w->maps), offsetof(struct sym_mapping, start), addr);

	if (!lo || addr >= w->maps[lo - 1].end)
		return -1;
	if (!w->r->dwarf) {	/* --fp, or no tables on this kernel: frame pointers, as BPF walks */
		*m = (struct unwind_map){ .start = w->maps[lo - 1].start, .end = w->maps[lo - 1].end,
					  .flags = EBPROF_MAP_FP };
		return 0;
	}
	unwind_map_of(w->r, &w->maps[lo - 1], m, NULL);
	return 0;
}

static int remote_row(void *ctx, uint32_t idx, struct unwind_row *row)
{
	struct remote_walk *w = ctx;

	return bpf_map_lookup_elem(bpf_map__fd(w->r->b.unwind_rows), &idx, row) ? -1 : 0;
}

static int remote_read(void *ctx, uint64_t addr, uint64_t *val)
{
	struct remote_walk *w = ctx;

	return addr < (1ULL << 63) && pread(w->mem, val, sizeof(*val), (off_t)addr) == sizeof(*val) ? 0 : -1;
}

/*
 * The user stack of thread *regs* of *tgid*, which is not running (it
 * waits in the kernel): walked here from its memory, as the BPF walker
 * would (by the unwind tables, or by frame pointers when the session walks
 * by them), and stored in the stack map in the epoch now filled.  Its
 * hash, 0 when there is none; how the walk ended in *flags*.
 */
static __u64 walk_native(struct run *r, int tgid, const struct unwind_regs *regs, __u32 *flags)
{
	struct remote_walk w = { .r = r };
	struct unwind_source src = { remote_map, remote_row, remote_read, &w };
	struct ustack us = {};
	unsigned int end = EBPROF_END_MAX;
	char path[64];
	__u64 h = EBPROF_HASH_SEED;
	int i;

	w.nmaps = symbolizer__mappings(r->sym, tgid, &w.maps);
	snprintf(path, sizeof(path), "/proc/%d/mem", tgid);
	w.mem = open(path, O_RDONLY | O_CLOEXEC);
	if (!w.nmaps || w.mem < 0) {
		if (w.mem >= 0)
			close(w.mem);
		return 0;
	}
	us.nr = unwind_walk(&src, regs, us.ips, EBPROF_MAX_STACK, &end);
	close(w.mem);
	if (!us.nr)
		return 0;
	for (i = 0; i < (int)us.nr; i++)
		h = ebprof_hash_step(h, us.ips[i]);
	h = epoch_key(r, h);
	if (bpf_map_update_elem(bpf_map__fd(r->b.ustacks), &h, &us, BPF_NOEXIST) && errno != EEXIST)
		return 0;
	*flags |= (end == EBPROF_END_DEPTH ? EBPROF_F_USER_TRUNC : 0) | end << EBPROF_F_END_SHIFT;
	return h;
}

/*
 * The stacks of a thread of *tgid* that is not running, read from its
 * memory (BPF cannot read another process's): its user stack from its
 * user registers *regs*, its Python stack from its fs base *fs*, each
 * stored in its stack map; their hashes (0: none) and EBPROF_F_* into *out*.
 */
void run_walk_blocked(struct run *r, int tgid, const struct unwind_regs *regs, __u64 fs, struct run_walked *out)
{
	static struct py_stack ps;
	uint64_t h;
	uint32_t end;

	memset(out, 0, sizeof(*out));
	out->ustack_hash = walk_native(r, tgid, regs, &out->flags);
	if (!out->ustack_hash)
		out->flags |= EBPROF_F_USER_MISSING;
	if (r->py && py__walk_thread(r->py, tgid, fs, &ps, &h, &end)) {
		h = epoch_key(r, h);
		if (!bpf_map_update_elem(bpf_map__fd(r->b.pystacks), &h, &ps, BPF_NOEXIST) || errno == EEXIST) {
			out->pystack_hash = h;
			out->flags |= end;
		}
	}
}

/*
 * re-read the mappings of *tgid* and update its unwind tables (*inherited*:
 * a forked child that has its parent's, the BPF side's copy of its tables)
 */
/* CLOCK_MONOTONIC in ns, the clock of the events' ts */
static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void refresh(struct run *r, int tgid, unsigned int gen, bool inherited)
{
	if (!inherited) {
		__u64 t = mono_ns();

		if (symbolizer__snapshot(r->sym, tgid, gen))
			return;
		/* what the maps held at *t* is known: mappings made before need no read */
		if (r->read_at)
			strmap__set(r->read_at, &tgid, sizeof(tgid), (void *)(uintptr_t)t);
		unwind_update(r, tgid);
	}
	if (r->py)
		py__scan(r->py, tgid);
	if (r->ops->new_code)
		r->ops->new_code(r, tgid);
}

/* the work an event asks for: snapshots, unwind tables */
static void process_event(struct run *r, const struct ebprof_event *e)
{
	int i;

	switch (e->type) {
	case EBPROF_EV_FORK:
		/*
		 * The child runs its parent's code until it execs or maps more
		 * (events of their own): its parent's mappings, tables (copied
		 * by the BPF side) and Python, not a read of its own maps.
		 */
		if (r->py)
			py__fork(r->py, e->tgid, e->ppid);
		refresh(r, e->tgid, 0, !symbolizer__inherit(r->sym, e->tgid, 0, e->ppid));
		pr_debug("fork %u -> %u\n", e->ppid, e->tgid);
		break;
	case EBPROF_EV_EXEC:
	case EBPROF_EV_MMAP_EXEC:
		if (e->type == EBPROF_EV_EXEC && r->py)
			py__forget(r->py, e->tgid);
		/*
		 * A mapping made before the last read of the process's maps is
		 * in it: a loader mapping five libraries while the read after
		 * the exec ran costs one read, not six.
		 */
		if (e->type == EBPROF_EV_MMAP_EXEC && r->read_at &&
		    e->ts < (uintptr_t)strmap__get(r->read_at, &e->tgid, sizeof(e->tgid))) {
			if (e->held)
				kill(e->tgid, SIGCONT);
			r->reads_saved++;
			break;
		}
		refresh(r, e->tgid, e->gen, false);
		pr_debug("%s %u gen %u%s\n", e->type == EBPROF_EV_EXEC ? "exec" : "mmap", e->tgid, e->gen,
			 e->held ? ", held" : "");
		if (e->held)
			kill(e->tgid, SIGCONT);
		break;
	case EBPROF_EV_UNWIND_REQ:
		if (!symbolizer__has(r->sym, e->tgid))
			symbolizer__snapshot(r->sym, e->tgid, 0);
		unwind_update(r, e->tgid);
		pr_debug("unwind tables for %u\n", e->tgid);
		break;
	case EBPROF_EV_EXIT:
		if (r->read_at)
			strmap__del(r->read_at, &e->tgid, sizeof(e->tgid));
		/* not looked at again: its code objects stay for the report */
		if (r->py)
			py__forget(r->py, e->tgid);
		for (i = 0; i < r->o->npids; i++)
			if (r->o->pids[i] == (int)e->tgid)
				r->pids_gone[i] = true;
		pr_debug("exit %u\n", e->tgid);
		break;
	}
	if (r->ops->event)
		r->ops->event(r, e);
}

/*
 * No more holding at new code: every target continued, in case it was
 * held (a SIGCONT also drops a SIGSTOP still pending).  Twice, for a
 * program that read hold_new_code just before it was cleared.
 */
static void release_held(struct run *r)
{
	int fd, pass;

	if (!r->b.obj || !*r->b.hold_new_code)
		return;
	*r->b.hold_new_code = 0;
	fd = bpf_map__fd(r->b.targets);
	for (pass = 0; pass < 2; pass++) {
		__u32 key, next, *prev = NULL;

		if (pass)
			usleep(10000);
		while (!bpf_map_get_next_key(fd, prev, &next)) {
			kill(next, SIGCONT);
			key = next;
			prev = &key;
		}
	}
}

/* events wait in a queue for run_queue(): ring_buffer__consume() is not reentrant */
static int handle_event(void *ctx, void *data, size_t size)
{
	struct run *r = ctx;
	const struct ebprof_event *e = data;

	if (size < sizeof(*e))
		return 0;
	if (GROW(r->queue, r->nqueue, r->queue_cap, 64)) {
		process_event(r, e);
		return 0;
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
	struct run *r = ctx;
	const struct py_code_event *pe = data;

	if (size >= sizeof(*pe) && pe->type == EBPROF_EV_PY_CODE)
		py__code_seen(r->py, pe);
	return 0;
}

static void *py_reader(void *arg)
{
	struct run *r = arg;

	while (!r->py_stop) {
		int err;

		struct epoll_event ev;

		/* for the tests: a reader that is late, as under load */
		if (r->py_lag_us)
			usleep(r->py_lag_us);
		else
			epoll_wait(ring_buffer__epoll_fd(r->py_rb), &ev, 1, 50 /* ms */);
		/* a mode may consume too (run_py_catch_up) */
		pthread_mutex_lock(&r->py_rb_lock);
		err = ring_buffer__consume(r->py_rb);
		pthread_mutex_unlock(&r->py_rb_lock);
		if (err < 0 && err != -EINTR)
			break;
	}
	ring_buffer__consume(r->py_rb);
	return NULL;
}

static void py_reader_stop(struct run *r)
{
	if (!r->py_thread_on)
		return;
	r->py_stop = true;
	pthread_join(r->py_thread, NULL);
	r->py_thread_on = false;
}

static void run_queue(struct run *r)
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

/* *launching*: a command's process that has not exec'd it yet */
static int add_target(struct run *r, int tgid, bool launching)
{
	__u32 key = tgid, gen = launching ? EBPROF_GEN_LAUNCHING : 0;

	if (bpf_map_update_elem(bpf_map__fd(r->b.targets), &key, &gen, BPF_ANY))
		return -errno;
	return 0;
}

static void snapshot_all(struct run *r)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		int pid = atoi(de->d_name);

		if (pid <= 0 || (pid == getpid() && !r->o->include_self))
			continue;
		if (!symbolizer__snapshot(r->sym, pid, 0) && r->py)
			py__scan(r->py, pid);
	}
	closedir(d);
}

/*
 * Has -p target *i* exited?  Asked of its pidfd, not of the pid: a new
 * process may have the pid by now, and it is not the target.  Once gone,
 * out of the target set too (in case its exit came before it was in it).
 */
static bool pid_gone(struct run *r, int i)
{
	struct pollfd pfd = { .fd = r->pidfds[i], .events = POLLIN };
	__u32 key = r->o->pids[i];

	if (r->pids_gone[i])
		return true;
	if (pfd.fd >= 0 && poll(&pfd, 1, 0) == 0)
		return false;
	r->pids_gone[i] = true;
	if (r->b.obj)
		bpf_map_delete_elem(bpf_map__fd(r->b.targets), &key);
	return true;
}

static bool targets_gone(struct run *r, struct launch *l)
{
	bool all_gone = true;
	int i;

	if (l->pid)
		return launch_poll(l);
	if (r->o->all || !r->o->npids)
		return false;
	for (i = 0; i < r->o->npids; i++)
		if (!pid_gone(r, i))
			all_gone = false;
	return all_gone;
}

/*
 * A mode without a ring buffer waits here: for *timeout* ms, or until a
 * target exits (its pidfd readable), so that its end is timed to it
 */
static void wait_targets(struct run *r, int timeout)
{
	struct pollfd fds[MAX_PIDS + 1];
	int i, n = 0;

	if (targets_gone(r, r->l))
		return;
	if (r->launch_fd >= 0)
		fds[n++] = (struct pollfd){ .fd = r->launch_fd, .events = POLLIN };
	for (i = 0; i < r->o->npids; i++) {
		if (r->pids_gone[i])
			continue;
		if (r->pidfds[i] >= 0)
			fds[n++] = (struct pollfd){ .fd = r->pidfds[i], .events = POLLIN };
	}
	poll(fds, n, timeout);	/* EINTR: a signal; the loop looks at why */
}

/* ms from now to *t* (seconds on CLOCK_MONOTONIC), at most *ms* */
static int ms_until(double t, int ms)
{
	double left = (t - now_sec()) * 1000;

	if (left <= 0)
		return 0;
	return left < ms ? (int)left + 1 : ms;
}

/* without mmap tracing: catch code mapped since the last look */
static void rescan(struct run *r, struct launch *l)
{
	int i;

	if (l->pid && !l->done)
		refresh(r, l->pid, symbolizer__latest_gen(r->sym, l->pid), false);
	for (i = 0; i < r->o->npids; i++)
		if (!r->pids_gone[i])
			refresh(r, r->o->pids[i], symbolizer__latest_gen(r->sym, r->o->pids[i]), false);
}

#define STR_(x) #x
#define STR(x) STR_(x)

/* the session's counters into the profile: what was taken and the losses of the shared parts */
static void read_stats(struct run *r, struct profile *p)
{
	struct profile_meta *m = &p->meta;
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(r->b.stats);
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
	m->py_samples = sum[EBPROF_STAT_PY_SAMPLES];
	m->py_no_tstate = sum[EBPROF_STAT_PY_NO_TSTATE];
	/* the samples' own map is the mode's; these are the shared stack maps' and the ring's */
	profile__loss(p, "user_stacks", LOSS_STACKS, sum[EBPROF_STAT_LOST_USTACK],
		      "user stacks lost (stack map full or stack unreadable)", "a larger --map-size helps the first");
	profile__loss(p, "kernel_stacks", LOSS_STACKS, sum[EBPROF_STAT_KSTACK_ERR],
		      "kernel stacks lost: the stack map is full", "rerun with a larger --map-size");
	profile__loss(p, "kernel_stack_collisions", LOSS_STACKS, sum[EBPROF_STAT_KSTACK_COLLISION],
		      "kernel stacks lost to hash collisions", "rerun with a larger --map-size");
	profile__loss(p, "truncated_user_stacks", LOSS_STACKS, sum[EBPROF_STAT_USTACK_TRUNC],
		      "user stacks truncated at 127 frames", NULL);
	if (r->py) {
		profile__loss(p, "python_stacks", LOSS_STACKS, sum[EBPROF_STAT_PY_LOST],
			      "Python stacks lost: the Python stack map is full", "rerun with a larger --map-size");
		profile__loss(p, "python_truncated", LOSS_STACKS, sum[EBPROF_STAT_PY_TRUNC],
			      "Python stacks truncated at " STR(EBPROF_PY_MAX_FRAMES) " frames", NULL);
		profile__loss(p, "python_read_errors", LOSS_STACKS, sum[EBPROF_STAT_PY_ERROR],
			      "Python stacks stopped early at a frame that could not be read", NULL);
	}
	profile__loss(p, "events", LOSS_OTHER, sum[EBPROF_STAT_EVENTS_LOST],
		      "process events lost (ring buffer full): some mappings may be stale", NULL);
	m->fired = sum[EBPROF_STAT_FIRED];
	m->idle = sum[EBPROF_STAT_IDLE];
	m->before_exec = sum[EBPROF_STAT_BEFORE_EXEC];
}

/* how frames get names here: the symbolizer, the Python registry, DWARF lines */
static void name_native(void *ctx, int tgid, unsigned int gen, uint64_t addr, bool ret, struct sym_frame *out)
{
	struct run *r = ctx;

	symbolizer__user(r->sym, tgid, gen, addr, ret, out);
}

static bool name_native_line(void *ctx, const struct sym_frame *sf, struct srcline *out)
{
	(void)ctx;
	return sf->known && sf->dso && dso__srcline(sf->dso, sf->vaddr, out);
}

static void name_python(void *ctx, int tgid, const struct py_frame *f, struct py_named *out)
{
	struct run *r = ctx;
	const struct py_code *c = py__code(r->py, tgid, f->code, f->sum);

	out->name = c->name;
	out->file = c->file;
	out->first = c->first;
	out->line = py__line(c, f->instr);
}

/* one counted key to frame ids, outermost first, and their lines */
int key_frames(struct run *r, struct profile *p, const struct sample_key *k, struct key_scratch *s)
{
	int ufd = bpf_map__fd(r->b.ustacks), kfd = bpf_map__fd(r->b.kstacks);
	int pfd = bpf_map__fd(r->b.pystacks);
	struct ustack *us = &s->us, *ks = &s->ks;
	struct py_stack *ps = &s->ps;
	struct frame_list *fl = &s->fl;
	uint32_t *ids = s->ids;
	int *lines = s->lines;
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
		struct stack_names sn = { name_native, name_native_line, name_python, r, r->o->lines || r->o->line_frames,
					  r->o->line_frames, r->o->no_lineno };

		err = stacks_user(&sn, p, k->tgid, k->gen, (k->flags & EBPROF_F_END_MASK) >> EBPROF_F_END_SHIFT,
				  have_us ? us->ips : NULL, have_us ? us->nr : 0, have_ps ? ps->frames : NULL,
				  have_ps ? ps->nr : 0, fl);
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
	if (k->kstack_hash && !bpf_map_lookup_elem(kfd, &k->kstack_hash, ks)) {
		int skip = 0;

		nk = ks->nr < EBPROF_MAX_STACK ? ks->nr : EBPROF_MAX_STACK;
		/* a stack taken in a tracepoint starts in the BPF program and what ran it: not the target's */
		while (skip < nk - 1) {
			struct sym_frame sf;

			symbolizer__kernel(r->sym, ks->ips[skip], skip > 0, &sf);
			if (!stacks_tracing_frame(sf.func))
				break;
			skip++;
		}
		for (i = nk - 1; i >= skip; i--) {
			struct sym_frame sf;

			symbolizer__kernel(r->sym, ks->ips[i], i > 0, &sf);
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

/*
 * Code objects the walker reported are read by py_reader(): take in all
 * that came before the drain, lest their frames show as unknown.
 */
void run_py_catch_up(struct run *r)
{
	if (!r->py_thread_on)
		return;
	pthread_mutex_lock(&r->py_rb_lock);
	ring_buffer__consume(r->py_rb);
	pthread_mutex_unlock(&r->py_rb_lock);
}

__u64 run_stat_sum(struct run *r, __u32 idx)
{
	int fd = bpf_map__fd(r->b.stats), c;
	__u64 vals[r->ncpus], sum = 0;

	if (bpf_map_lookup_elem(fd, &idx, vals))
		return 0;
	for (c = 0; c < r->ncpus; c++)
		sum += vals[c];
	return sum;
}

static void describe_target(const struct ebprof_opts *o, struct launch *l, struct profile_meta *m)
{
	char comm[32];
	size_t len = 0;
	int i;

	if (o->all) {
		snprintf(m->target, sizeof(m->target), "%s",
			 o->include_self ? "all processes" : "all processes but ebprof's own");
	} else if (o->cmd) {
		len = snprintf(m->target, sizeof(m->target), "command '");
		len += join_words(m->target + len, sizeof(m->target) - len, o->cmd);
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

bool run_have_helper(enum bpf_func_id id)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, id, NULL) > 0;
}

/*
 * What this kernel lets the walkers do, for every mode: unwind tables and
 * Python stacks need bpf_loop (5.17) and bpf_task_pt_regs (5.15)
 */
static void probe_walkers(struct run *r)
{
	bool regs, loop;

	regs = r->stacks != RUN_STACKS_NONE && run_have_helper(BPF_FUNC_task_pt_regs);
	loop = r->stacks != RUN_STACKS_NONE && run_have_helper(BPF_FUNC_loop);
	r->dwarf = regs && loop && !r->o->fp && r->stacks == RUN_STACKS_ALL;
	if (r->stacks == RUN_STACKS_NONE) {
		*r->b.targ_python = false;
		return;
	}
	/* the Python walker runs in bpf_loop() callbacks */
	*r->b.targ_python = loop && regs && !r->o->no_python;
	if (!loop && !r->o->no_python)
		pr_warn("the kernel lacks bpf_loop (5.17): no Python stacks, native frames only\n");
}

/* store rows in the BPF row pool, in batches (kernel 5.6+) */
static int write_rows(void *ctx, uint32_t first, const struct unwind_row *rows, size_t n)
{
	struct run *r = ctx;
	int fd = bpf_map__fd(r->b.unwind_rows);
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

int run_target_pid(const struct run *r)
{
	return r->l && r->l->pid ? r->l->pid : r->o->pids[0];
}

/*
 * The mode's BPF object: what every object has configured, then the
 * mode's own; loaded, attached, and its rings read.  0 or an exit status
 * (said).
 */
static int load_bpf(struct run *r)
{
	const struct ebprof_opts *o = r->o;
	double t0;
	int err, ret;

	*r->b.targ_all = o->all;
	*r->b.targ_self = o->all && !o->include_self ? (__u32)getpid() : 0;
	*r->b.targ_follow_fork = o->cmd != NULL;
	bpf_map__set_max_entries(r->b.kstacks, r->stacks != RUN_STACKS_ALL ? 1 : o->map_size);
	bpf_map__set_max_entries(r->b.ustacks, r->stacks != RUN_STACKS_ALL ? 1 : o->map_size);
	probe_walkers(r);
	if (*r->b.targ_python) {
		/* 2 KiB a stack, preallocated: half as many as native stacks */
		bpf_map__set_max_entries(r->b.pystacks, o->map_size / 2);
	} else {
		bpf_map__set_max_entries(r->b.pystacks, 1);
		bpf_map__set_max_entries(r->b.py_codes, 1);
		bpf_map__set_max_entries(r->b.py_threads, 1);
	}
	if (r->dwarf) {
		bpf_map__set_max_entries(r->b.unwind_rows, o->unwind_rows);
		bpf_map__set_max_entries(r->b.unwind_procs, o->all ? 1024 : 256);
	} else {
		bpf_map__set_max_entries(r->b.unwind_procs, 1);
	}
	/* ~400 bytes a thread: the threads that block most keep theirs */
	bpf_map__set_max_entries(r->b.ucache, r->dwarf && r->reuse_walks ? 8192 : 1);
	r->track_mmap = ensure_tracefs();
	if (!r->track_mmap) {
		pr_info("tracefs is not available: re-reading mappings every second instead of tracing mmap\n");
		bpf_program__set_autoload(r->b.on_mmap_enter, false);
		bpf_program__set_autoload(r->b.on_mmap_exit, false);
	}
	if (r->ops->configure && (ret = r->ops->configure(r)))
		return ret;

	/* Load and verify the BPF programs */
	t0 = now_sec();
	err = bpf_object__load_skeleton(r->b.skeleton);
	if (err) {
		if (err == -EPERM || errno == EPERM)
			pr_err("permission denied loading BPF programs: run as root, or with CAP_BPF and CAP_PERFMON\n");
		else
			pr_err("cannot load the BPF programs: %s (rerun with --debug for the verifier's log)\n",
			       strerror(-err));
		return err == -EPERM ? 1 : EXIT_NOFEATURE;
	}
	pr_debug("%s: BPF object loaded in %.1f ms\n", r->ops->name, 1000 * (now_sec() - t0));

	if (*r->b.targ_python) {
		r->py = py__new(r->sym, bpf_map__fd(r->b.py_procs), o->all);
		if (!r->py) {
			pr_err("out of memory\n");
			return 1;
		}
	}
	if (r->dwarf) {
		r->pool = unwind_pool__new(o->unwind_rows, write_rows, r);
		if (!r->pool) {
			pr_err("out of memory\n");
			return 1;
		}
	}

	/* Attach the tracepoints that follow processes, then the ring buffer */
	err = bpf_object__attach_skeleton(r->b.skeleton);
	if (err) {
		pr_err("cannot attach tracepoints: %s\n", strerror(-err));
		return 1;
	}
	r->rb = ring_buffer__new(bpf_map__fd(r->b.events), handle_event, r, NULL);
	if (!r->rb) {
		pr_err("cannot create the ring buffer: %s\n", strerror(errno));
		return 1;
	}
	if (r->py) {
		const char *lag = getenv("EBPROF_TEST_PY_LAG_MS");

		r->py_lag_us = lag ? 1000 * atoi(lag) : 0;
		r->py_rb = ring_buffer__new(bpf_map__fd(r->b.py_events), handle_py_event, r, NULL);
		if (!r->py_rb || pthread_create(&r->py_thread, NULL, py_reader, r)) {
			pr_err("cannot start reading Python code objects: %s\n", strerror(errno));
			return 1;
		}
		r->py_thread_on = true;
	}
	return 0;
}

/*
 * The target set, and its mappings as they are now (with BPF): a launched
 * command, the -p processes (each watched by a pidfd) or all of them
 */
static int add_targets(struct run *r, struct launch *l)
{
	const struct ebprof_opts *o = r->o;
	bool bpf = r->b.obj != NULL;
	int i, err;

	if (o->all) {
		if (bpf)
			snapshot_all(r);
		return 0;
	}
	if (l->pid) {
		r->launch_fd = syscall(SYS_pidfd_open, l->pid, 0);
		if (!bpf)
			return 0;
		if (add_target(r, l->pid, true)) {
			pr_err("cannot add pid %d to the target set: %s\n", l->pid, strerror(errno));
			return 1;
		}
		/* until it execs, the held child runs our code */
		refresh(r, l->pid, 0, false);
		return 0;
	}
	for (i = 0; i < o->npids; i++) {
		r->pidfds[i] = syscall(SYS_pidfd_open, o->pids[i], 0);
		if (r->pidfds[i] < 0 && errno != ESRCH) {
			pr_err("cannot watch pid %d: %s\n", o->pids[i], strerror(errno));
			return 1;
		}
		if (bpf && add_target(r, o->pids[i], false)) {
			pr_err("cannot add pid %d to the target set: %s\n", o->pids[i], strerror(errno));
			return 1;
		}
		if (pid_gone(r, i) || !bpf)
			continue;
		err = symbolizer__snapshot(r->sym, o->pids[i], 0);
		if (err)
			pr_warn("cannot read the mappings of pid %d: %s\n", o->pids[i], strerror(-err));
		else
			unwind_update(r, o->pids[i]);
		if (!err && r->py)
			py__scan(r->py, o->pids[i]);
	}
	return 0;
}

/* what the session knows of the run, into *p*'s meta: over *duration* seconds */
static void run_meta(struct run *r, struct profile *p, double duration)
{
	p->meta.duration = duration;
	p->meta.unwinder = r->dwarf ? "dwarf" : "fp";
	if (r->pool) {
		p->meta.table_rows = unwind_pool__used(r->pool);
		p->meta.table_files = unwind_pool__files(r->pool);
		p->meta.table_build_s = unwind_pool__build_seconds(r->pool);
	}
	if (r->b.obj)
		read_stats(r, p);
	if (r->py)
		p->meta.py_procs = py__walked(r->py);
}

/* what the run's counters add up to since the last period (they count from its start) */
static void live_delta(struct run *r, struct profile_meta *m)
{
	struct profile_meta *b = &r->live_base, now = *m;
	unsigned int i, k;

#define SUB(f) (m->f -= b->f < m->f ? b->f : m->f)
	SUB(samples);
	SUB(py_samples);
	SUB(py_no_tstate);
	SUB(fired);
	SUB(idle);
	SUB(prog_runs);
	SUB(prog_misses);
	SUB(before_exec);
#undef SUB
	for (i = 0; i < m->nlosses; i++)
		for (k = 0; k < b->nlosses; k++)
			if (!strcmp(m->losses[i].key, b->losses[k].key))
				m->losses[i].n -= b->losses[k].n < m->losses[i].n ? b->losses[k].n : m->losses[i].n;
	*b = now;
}

/* what the run found over its period from *t0* to *t1*: to the sink */
static int take_period(struct run *r, const struct run_sink *sink, double t0, double t1, enum run_end end)
{
	struct profile *p = r->p, *next = NULL;
	struct timespec ts;
	int ret;

	if (end == RUN_END_NONE) {
		next = profile__new_like(p);
		if (!next) {
			pr_err("out of memory\n");
			return 1;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		next->meta.time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	}
	run_meta(r, p, t1 - t0);
	ret = r->ops->flush(r);
	if (ret) {
		profile__free(next);
		return ret;
	}
	live_delta(r, &p->meta);
	r->p = next;
	return sink->profile(sink->ctx, p, t0, t1, end);
}

int run_mode(const struct ebprof_opts *o, struct launch *l, const struct run_sink *sink, struct profile **out)
{
	struct run r = { .o = o, .l = l, .launch_fd = -1, .py_rb_lock = PTHREAD_MUTEX_INITIALIZER };
	double start, stop, deadline = 0, last_rescan = 0, next_snapshot = 0, next_take = 0, last_take = 0;
	enum run_end end = RUN_END_SIGNAL;	/* unless the loop says otherwise */
	int err, ret = 1, i;

	libbpf_set_print(libbpf_print);
	r.ops = (size_t)o->mode < sizeof(modes) / sizeof(modes[0]) ? modes[o->mode] : NULL;
	if (!r.ops) {
		pr_err("mode %d has no entry in the mode table\n", o->mode);
		return 1;
	}
	if (sink && !r.ops->flush) {
		pr_err("ebprof %s hands out no profile per period\n", r.ops->name);
		return 1;
	}
	r.ncpus = libbpf_num_possible_cpus();
	for (i = 0; i < MAX_PIDS; i++)
		r.pidfds[i] = -1;
	r.sym = symbolizer__new();
	r.read_at = strmap__new();
	r.p = profile__new();
	/* -a and several pids: a row per command (300 cc1 of a build are one), unless --per-pid */
	if (r.p)
		r.p->meta.by_command = (o->all || o->npids > 1) && !o->per_pid;
	if (!r.sym || !r.p) {
		pr_err("out of memory\n");
		goto cleanup;
	}

	/* Open the mode's BPF object, if it has one, and load it */
	ret = r.ops->open(&r);
	if (ret)
		goto cleanup;
	/*
	 * debug files of the targets' stripped binaries, fetched while they
	 * run (with -a, only those the report needs, as it needs them)
	 */
	if (r.b.obj && !o->no_debuginfod && debuginfod_start(DEBUGINFOD_FILE_TIMEOUT_S) && !o->all)
		symbolizer__on_file(r.sym, want_debug_file, &r);
	ret = r.b.obj ? load_bpf(&r) : r.ops->configure ? r.ops->configure(&r) : 0;
	if (ret)
		goto cleanup;
	ret = add_targets(&r, l);
	if (ret)
		goto cleanup;

	/* Start the mode: sampling, tracing, counting */
	ret = r.ops->start(&r);
	if (ret)
		goto cleanup;
	ret = 1;
	start = now_sec();
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		r.p->meta.time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	}
	if (o->duration > 0)
		deadline = start + o->duration;
	if (r.snapshot_s > 0 && r.ops->snapshot)
		next_snapshot = start + r.snapshot_s;
	if (sink) {
		next_take = start + sink->period_s;
		last_take = start;
	}
	if (l->pid) {
		if (r.b.obj)
			*r.b.hold_new_code = 1;
		err = launch_release(l);
		if (err) {
			pr_err("cannot run '%s': %s\n", o->cmd[0], strerror(-err));
			ret = 127;
			goto cleanup;
		}
	}
	/* named now: a target may be gone by the end */
	describe_target(o, l, &r.p->meta);
	r.ops->announce(&r, 1000 * (now_sec() - session_t0));

	while (!exiting) {
		int timeout = r.ops->poll_ms(&r);
		double now;

		/* an interpreter starting up: look again soon */
		if (r.py && py__retry(r.py) > 0 && timeout > 5)
			timeout = 5;
		if (deadline)
			timeout = ms_until(deadline, timeout);
		if (next_snapshot)
			timeout = ms_until(next_snapshot, timeout);
		if (next_take)
			timeout = ms_until(next_take, timeout);
		if (r.rb) {
			err = ring_buffer__poll(r.rb, timeout /* ms */);
			run_queue(&r);
			if (err < 0 && err != -EINTR) {
				pr_err("polling the ring buffer failed: %s\n", strerror(-err));
				end = RUN_END_ERROR;
				break;
			}
		} else {
			wait_targets(&r, timeout);
		}
		now = now_sec();
		if (deadline && now >= deadline) {
			end = RUN_END_DEADLINE;
			break;
		}
		if (targets_gone(&r, l)) {
			end = RUN_END_TARGETS;
			break;
		}
		if (next_snapshot && now >= next_snapshot) {
			r.ops->snapshot(&r, now - start);
			next_snapshot += r.snapshot_s;
		}
		if (r.b.obj && !r.track_mmap && now - last_rescan >= 1.0) {
			rescan(&r, l);
			last_rescan = now;
		}
		if (r.ops->tick(&r))
			goto cleanup;
		if (next_take && now >= next_take) {
			err = take_period(&r, sink, last_take - start, now - start, RUN_END_NONE);
			if (err == RUN_SINK_END) {
				end = RUN_END_SINK;
				break;
			}
			if (err) {
				ret = err;
				goto cleanup;
			}
			last_take = now;
			/* a period missed (the machine stalled) is not made up for */
			while (next_take <= now)
				next_take += sink->period_s;
		}
		if (sink && sink->tick) {
			err = sink->tick(sink->ctx);
			if (err == RUN_SINK_END) {
				end = RUN_END_SINK;
				break;
			}
			if (err) {
				ret = err;
				goto cleanup;
			}
		}
	}
	stop = now_sec();
	release_held(&r);

	/* Stop the mode, then take in the last events */
	r.ops->stop(&r);
	if (r.rb) {
		ring_buffer__consume(r.rb);
		run_queue(&r);
	}
	py_reader_stop(&r);
	if (r.py)
		py__finish(r.py);
	debuginfod_final();
	if (sink) {
		err = take_period(&r, sink, last_take - start, stop - start, end);
		ret = err == RUN_SINK_END ? 0 : err;
		goto cleanup;
	}
	run_meta(&r, r.p, stop - start);
	ret = r.ops->report(&r, stop - start, out);

cleanup:
	release_held(&r);
	py_reader_stop(&r);
	ring_buffer__free(r.py_rb);
	ring_buffer__free(r.rb);
	detach_together(r.b.skeleton);
	if (r.ops)
		r.ops->destroy(&r);
	py__free(r.py);
	free(r.queue);
	debuginfod_stop();
	symbolizer__free(r.sym);
	strmap__free(r.read_at);
	if (r.reads_saved)
		pr_info("mappings: %lu reads of /proc/PID/maps saved (the mapping was in the last read)\n", r.reads_saved);
	if (r.pool)
		pr_info("unwind tables: %zu rows of %zu files, built in %.1f ms; %zu files' rows given back\n",
			unwind_pool__used(r.pool), unwind_pool__files(r.pool), 1000 * unwind_pool__build_seconds(r.pool),
			unwind_pool__evicted(r.pool));
	unwind_pool__free(r.pool);
	profile__free(r.p);
	for (i = 0; i < MAX_PIDS; i++)
		if (r.pidfds[i] >= 0)
			close(r.pidfds[i]);
	if (r.launch_fd >= 0)
		close(r.launch_fd);
	return ret;
}
