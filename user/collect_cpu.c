// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * collect_cpu.c - the on-CPU collector: open -> configure -> load ->
 * attach -> poll -> drain -> symbolize.
 */
#include <dirent.h>
#include <malloc.h>
#include <poll.h>
#include <sys/epoll.h>
#include <pthread.h>
#include <signal.h>
#include <errno.h>
#include <linux/membarrier.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collect.h"
#include "cpu.skel.h"
#include "ebprof.h"
#include "sym/elf.h"
#include "sym/symbolizer.h"
#include "mem.h"
#include "python.h"
#include "unwind.h"
#include "util/grow.h"
#include "util/log.h"
#include "util/strmap.h"


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
	if (bpf_map_update_elem(bpf_map__fd(r->b.unwind_procs), &key, up, BPF_ANY))
		pr_debug("cannot store unwind tables of %d: %s\n", tgid, strerror(errno));
	free(up);
}


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

/* a new process has the pid of one that exited: not to be forgotten */
static void exited_reused(struct cpu_run *r, int tgid)
{
	size_t i, k = 0;

	for (i = 0; i < r->nexited; i++)
		if (r->exited[i].tgid != tgid)
			r->exited[k++] = r->exited[i];
	r->nexited = k;
	if (r->fold)
		strmap__del(r->fold, &tgid, sizeof(tgid));
}

/* the work an event asks for: snapshots, unwind tables */
static void process_event(struct cpu_run *r, const struct ebprof_event *e)
{
	int i;

	switch (e->type) {
	case EBPROF_EV_FORK:
		if (r->nexited)
			exited_reused(r, e->tgid);
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
		/* not looked at again: its code objects stay for the report */
		if (r->py)
			py__forget(r->py, e->tgid);
		for (i = 0; i < r->o->npids; i++)
			if (r->o->pids[i] == (int)e->tgid)
				r->pids_gone[i] = true;
		if (r->o->all && !r->mem) {
			if (GROW(r->exited, r->nexited, r->exited_cap, 256))
				break;
			r->exited[r->nexited].tgid = e->tgid;
			r->exited[r->nexited++].drains = r->drains;
		}
		pr_debug("exit %u\n", e->tgid);
		break;
	}
}

/*
 * No more holding at new code: every target continued, in case it was
 * held (a SIGCONT also drops a SIGSTOP still pending).  Twice, for a
 * program that read hold_new_code just before it was cleared.
 */
static void release_held(struct cpu_run *r)
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
	struct cpu_run *r = ctx;
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
	struct cpu_run *r = ctx;
	const struct py_code_event *pe = data;

	if (size >= sizeof(*pe) && pe->type == EBPROF_EV_PY_CODE)
		py__code_seen(r->py, pe);
	return 0;
}

static void *py_reader(void *arg)
{
	struct cpu_run *r = arg;

	while (!r->py_stop) {
		int err;

		struct epoll_event ev;

		/* for the tests: a reader that is late, as under load */
		if (r->py_lag_us)
			usleep(r->py_lag_us);
		else
			epoll_wait(ring_buffer__epoll_fd(r->py_rb), &ev, 1, 50 /* ms */);
		/* a drain may consume too (py_catch_up) */
		pthread_mutex_lock(&r->py_rb_lock);
		err = ring_buffer__consume(r->py_rb);
		pthread_mutex_unlock(&r->py_rb_lock);
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

/* *launching*: a command's process that has not exec'd it yet */
static int add_target(struct cpu_run *r, int tgid, bool launching)
{
	__u32 key = tgid, gen = launching ? EBPROF_GEN_LAUNCHING : 0;

	if (bpf_map_update_elem(bpf_map__fd(r->b.targets), &key, &gen, BPF_ANY))
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

/*
 * Counted events: their counts now are where the target's start, so a first
 * sample does not take in the events before it (ebprof's own, say).
 */
static void mark_events_start(struct cpu_run *r)
{
	int fd = bpf_map__fd(r->cpu_skel->maps.ev_start), e, cpu;

	for (e = 0; e < r->o->nevents; e++)
		for (cpu = 0; cpu < r->ncpus; cpu++) {
			__u32 k = 2 * cpu + e;
			__u64 count;

			if (r->pefds[e * r->ncpus + cpu] >= 0 &&
			    read(r->pefds[e * r->ncpus + cpu], &count, sizeof(count)) == sizeof(count))
				bpf_map_update_elem(fd, &k, &count, BPF_ANY);
		}
}

/* the counts into *m*, the counters closed */
static void close_counters(struct cpu_run *r, struct profile_meta *m)
{
	int e;

	if (m && r->counters[0].n)
		m->counted = true;
	for (e = 0; e < 2; e++) {
		if (m && r->counters[e].n && task_counter__read(&r->counters[e], &m->counted_events[e]))
			m->counted = false;
		task_counter__close(&r->counters[e]);
	}
}

/*
 * Counted events: the samples' weights are an estimate (what came after a
 * CPU's last sample is in none); the totals are counted exactly by an
 * event per task of the target, inherited by the threads and children it
 * starts.  Not for -a: the per-CPU counts take in ebprof's own events and
 * the idle task's, which the samples leave out.  A task we cannot count
 * (gone already) leaves the total unknown, and it is not shown.
 */
static void open_counters(struct cpu_run *r, struct launch *l)
{
	int i, e, err = 0;

	for (e = 0; e < r->o->nevents && !r->o->all && !err; e++) {
		const struct ebprof_event_spec *ev = e ? &r->o->event2 : &r->o->event;

		if (l->pid)
			err = task_counter__open(&r->counters[e], l->pid, ev->type, ev->config, false, false);
		for (i = 0; i < r->o->npids && !err; i++)
			err = task_counter__open(&r->counters[e], r->o->pids[i], ev->type, ev->config, true, false);
	}
	if (err)
		close_counters(r, NULL);
}

/*
 * Clock events: each CPU's period drawn anew within +-10 % of the mean
 * every JITTER_MS (a restart, at a new phase too).  At a fixed period, a
 * workload whose cycle is a multiple of it is sampled at the same points
 * of the cycle again and again (aliasing), and the samples stop being
 * independent draws.
 */
#define JITTER_MS 100
/* the longest the samples wait in the maps before a drain, in seconds */
#define DRAIN_S 10.0
/* exited processes' stacks merge by command when this many wait, or after FOLD_S */
#define FOLD_BATCH 256
#define FOLD_S 60.0

static void jitter_periods(struct cpu_run *r)
{
	__u64 mean = 1000000000ULL / r->o->freq;
	int cpu;

	if (!r->o->event.timer || r->o->event.period || r->mem || now_sec() - r->jittered < JITTER_MS / 1e3)
		return;
	r->jittered = now_sec();
	for (cpu = 0; cpu < r->ncpus; cpu++) {
		__u64 p = mean * (0.9 + 0.2 * drand48());

		if (r->pefds[cpu] >= 0)
			ioctl(r->pefds[cpu], PERF_EVENT_IOC_PERIOD, &p);
	}
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

/*
 * Has -p target *i* exited?  Asked of its pidfd, not of the pid: a new
 * process may have the pid by now, and it is not the target.  Once gone,
 * out of the target set too (in case its exit came before it was in it).
 */
static bool pid_gone(struct cpu_run *r, int i)
{
	struct pollfd pfd = { .fd = r->pidfds[i], .events = POLLIN };
	__u32 key = r->o->pids[i];

	if (r->pids_gone[i])
		return true;
	if (pfd.fd >= 0 && poll(&pfd, 1, 0) == 0)
		return false;
	r->pids_gone[i] = true;
	bpf_map_delete_elem(bpf_map__fd(r->b.targets), &key);
	return true;
}

static bool targets_gone(struct cpu_run *r, struct launch *l)
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
	m->fired = sum[EBPROF_STAT_FIRED];
	m->idle = sum[EBPROF_STAT_IDLE];
	m->before_exec = sum[EBPROF_STAT_BEFORE_EXEC];
	/* the kernel's side: runs (with bpf_stats_enabled) and overflows it skipped */
	if (!r->mem && r->prog && bpf_program__fd(r->prog) >= 0) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (!bpf_obj_get_info_by_fd(bpf_program__fd(r->prog), &info, &len)) {
			m->prog_runs = info.run_cnt;
			m->prog_misses = info.recursion_misses;
		}
	}
}

/* how frames get names here: the symbolizer, the Python registry, DWARF lines */
static void name_native(void *ctx, int tgid, unsigned int gen, uint64_t addr, bool ret, struct sym_frame *out)
{
	struct cpu_run *r = ctx;

	symbolizer__user(r->sym, tgid, gen, addr, ret, out);
}

static bool name_native_line(void *ctx, const struct sym_frame *sf, struct srcline *out)
{
	(void)ctx;
	return sf->known && sf->dso && dso__srcline(sf->dso, sf->vaddr, out);
}

static void name_python(void *ctx, int tgid, const struct py_frame *f, struct py_named *out)
{
	struct cpu_run *r = ctx;
	const struct py_code *c = py__code(r->py, tgid, f->code, f->sum);

	out->name = c->name;
	out->file = c->file;
	out->first = c->first;
	out->line = py__line(c, f->instr);
}

/* one counted key to frame ids, outermost first, and their lines */
int key_frames(struct cpu_run *r, struct profile *p, const struct sample_key *k, struct key_scratch *s)
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
		struct stack_names sn = { name_native, name_native_line, name_python, r, r->o->lines,
					  r->o->no_lineno };

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
		nk = ks->nr < EBPROF_MAX_STACK ? ks->nr : EBPROF_MAX_STACK;
		for (i = nk - 1; i >= 0; i--) {
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

/* one counted key into the profile */
static int add_key(struct cpu_run *r, struct profile *p, const struct sample_key *key, __u64 count,
		   struct key_scratch *s)
{
	int n, err;

	n = key_frames(r, p, key, s);
	if (n < 0)
		return n;
	if (key->ustack_hash)
		stacks_quality(p, (key->flags & EBPROF_F_END_MASK) >> EBPROF_F_END_SHIFT, s->ids, n, count);
	/* a launched command's children: shown by process */
	if (!r->o->all) {
		if (r->first_tgid < 0)
			r->first_tgid = key->tgid;
		else if (r->first_tgid != (int)key->tgid)
			p->meta.per_process = true;
	}
	err = profile__add2(p, key->tgid, key->tid, key->comm, s->ids, n, key->event ? 0 : count,
			    key->event ? count : 0);
	if (!err && r->o->lines && !key->event)
		err = stacks_count_lines(p, s->ids, s->lines, n, count);
	return err;
}

/* the counts left in the map (both epochs), then the totals */
static int build_profile(struct cpu_run *r, struct profile *p)
{
	int cfd = bpf_map__fd(r->cpu_skel->maps.counts);
	struct sample_key key, next, *prev = NULL;
	struct key_scratch *s = malloc(sizeof(*s));
	int err = -ENOMEM;

	if (!s)
		return err;
	err = 0;
	while (!err && !bpf_map_get_next_key(cfd, prev, &next)) {
		__u64 count;

		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(cfd, &key, &count))
			err = add_key(r, p, &key, count, s);
	}
	free(s);
	if (err)
		return err;
	/* the samples' weights miss what came after each CPU's last sample: the exact totals, shared out */
	if (p->meta.counted)
		profile__scale(p, p->meta.counted_events[0], p->meta.counted_events[1]);
	return profile__finish(p);
}

/*
 * Wait until no sampler still runs with the epoch it read before a flip:
 * samplers run in RCU read-side sections (interrupts off), and a global
 * membarrier waits for an RCU grace period.
 */
static void wait_samplers(void)
{
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		usleep(20000);
}

/*
 * Code objects the walker reported are read by py_reader(): take in all
 * that came before the drain, lest their frames show as unknown.
 */
static void py_catch_up(struct cpu_run *r)
{
	if (!r->py_thread_on)
		return;
	pthread_mutex_lock(&r->py_rb_lock);
	ring_buffer__consume(r->py_rb);
	pthread_mutex_unlock(&r->py_rb_lock);
}

/* delete the keys of epoch *ep* from a stack map: they are in the profile */
static void drain_stacks(struct bpf_map *map, unsigned int ep)
{
	int fd = bpf_map__fd(map);
	__u64 key, next, *prev = NULL, tag = ep ? EBPROF_EPOCH_BIT : 0;
	__u64 *del = NULL;
	size_t n = 0, cap = 0, i;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if ((key & EBPROF_EPOCH_BIT) != tag)
			continue;
		if (GROW(del, n, cap, 1024))
			break;
		del[n++] = key;
	}
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &del[i]);
	free(del);
}

static bool tgid_gone(int tgid, void *ctx)
{
	return strmap__get(ctx, &tgid, sizeof(tgid)) != NULL;
}

/*
 * -a: processes that exited before the last two drains have all their
 * samples in the profile.  What was kept to name their frames goes, and
 * now and then (a batch at a time: it rebuilds the profile's index) their
 * stacks merge into their command's.
 */
static int forget_exited(struct cpu_run *r, struct profile *p)
{
	size_t i, k = 0;
	int err = 0;

	for (i = 0; i < r->nexited; i++) {
		if (r->exited[i].drains + 2 > r->drains) {
			r->exited[k++] = r->exited[i];
			continue;
		}
		symbolizer__forget(r->sym, r->exited[i].tgid);
		if (!err && strmap__set(r->fold, &r->exited[i].tgid, sizeof(int), (void *)1))
			err = -ENOMEM;
	}
	r->nexited = k;
	if (err || !strmap__size(r->fold) ||
	    (strmap__size(r->fold) < FOLD_BATCH && now_sec() - r->last_fold < FOLD_S))
		return err;
	if (r->py)
		py__drop(r->py, tgid_gone, r->fold);
	err = profile__fold(p, tgid_gone, r->fold);
	strmap__free(r->fold);
	r->fold = strmap__new();
	r->last_fold = now_sec();
	return err ? err : r->fold ? 0 : -ENOMEM;
}

static __u64 stat_sum(struct cpu_run *r, __u32 idx)
{
	int fd = bpf_map__fd(r->b.stats), c;
	__u64 vals[r->ncpus], sum = 0;

	if (bpf_map_lookup_elem(fd, &idx, vals))
		return 0;
	for (c = 0; c < r->ncpus; c++)
		sum += vals[c];
	return sum;
}

/*
 * Time for a drain: the interval is up, or the epoch has added a 16th of
 * --map-size entries to the maps (the Python stack map holds half that,
 * two epochs share each map, and a sample counted once may have added a
 * user and a Python stack).
 */
static bool drain_due(struct cpu_run *r)
{
	if (r->mem)
		return false;
	if (now_sec() - r->last_drain >= r->drain_s)
		return true;
	return stat_sum(r, EBPROF_STAT_NEW_E0 + r->epoch) - r->new_base > r->o->map_size / 16;
}

/*
 * Move the counts of the epoch the samplers fill into the profile, and
 * free their room in the maps: the samplers go on in the other epoch.  A
 * long run (-a for hours) needs maps only as large as a drain interval's
 * distinct stacks.
 */
static int drain(struct cpu_run *r, struct profile *p)
{
	int cfd = bpf_map__fd(r->cpu_skel->maps.counts);
	unsigned int ep = r->epoch;
	struct sample_key key, next, *prev = NULL, *del = NULL;
	struct key_scratch *s = malloc(sizeof(*s));
	struct strmap *seen = strmap__new();
	size_t n = 0, cap = 0, i;
	int err = -ENOMEM;

	if (!s || !seen)
		goto out;
	r->epoch = ep ^ 1;
	r->new_base = stat_sum(r, EBPROF_STAT_NEW_E0 + r->epoch);
	r->last_drain = now_sec();
	__atomic_store_n(r->b.epoch, r->epoch, __ATOMIC_RELEASE);
	wait_samplers();
	py_catch_up(r);
	err = 0;
	while (!err && !bpf_map_get_next_key(cfd, prev, &next)) {
		__u64 count;

		key = next;
		prev = &key;
		/* a key seen twice (the map changes under the walk) counts once */
		if (key.epoch != ep || strmap__get(seen, &key, sizeof(key)))
			continue;
		if (bpf_map_lookup_elem(cfd, &key, &count))
			continue;
		err = add_key(r, p, &key, count, s);
		if (!err)
			err = strmap__set(seen, &key, sizeof(key), (void *)1);
		if (err)
			break;
		if (GROW(del, n, cap, 1024)) {
			err = -ENOMEM;
			break;
		}
		del[n++] = key;
	}
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(cfd, &del[i]);
	drain_stacks(r->b.ustacks, ep);
	drain_stacks(r->b.kstacks, ep);
	drain_stacks(r->b.pystacks, ep);
	r->drains++;
	if (!err)
		err = forget_exited(r, p);
	/*
	 * the heap in use (large blocks are mmap()ed: hblkhd), beside what
	 * grows with the stacks and functions seen: make soak watches all
	 */
	{
		struct mallinfo2 mi = mallinfo2();

		pr_info("drain %lu: %zu keys; the profile holds %zu stacks in %.1f MB; names %.1f MB; heap in use %.1f MB\n",
			r->drains, n, p->nstacks, profile__bytes(p) / 1e6, symbolizer__name_bytes(r->sym) / 1e6,
			(mi.uordblks + mi.hblkhd) / 1e6);
	}
out:
	free(del);
	free(s);
	strmap__free(seen);
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
 * What this kernel lets the walkers do, for every mode: unwind tables and
 * Python stacks need bpf_loop (5.17) and bpf_task_pt_regs (5.15)
 */
static void probe_walkers(struct cpu_run *r)
{
	bool regs = have_helper(BPF_FUNC_task_pt_regs), loop = have_helper(BPF_FUNC_loop);

	r->dwarf = regs && loop && !r->o->fp;
	/* the Python walker runs in bpf_loop() callbacks */
	*r->b.targ_python = loop && regs && !r->o->no_python;
	if (!loop && !r->o->no_python)
		pr_warn("the kernel lacks bpf_loop (5.17): no Python stacks, native frames only\n");
}

/*
 * The best sampler this kernel runs: unwind tables (bpf_loop, 5.17), our
 * frame-pointer walk (bpf_task_pt_regs, 5.15), or the kernel's.
 */
static void select_sampler(struct cpu_run *r)
{
	struct cpu_bpf *skel = r->cpu_skel;
	bool regs = have_helper(BPF_FUNC_task_pt_regs), loop = have_helper(BPF_FUNC_loop);

	if (r->dwarf) {
		r->prog = skel->progs.eb_cpu_dwarf;
	} else if (regs && loop) {
		r->prog = skel->progs.eb_cpu_fp_loop;
	} else if (regs) {
		if (!r->o->fp)
			pr_warn("the kernel lacks bpf_loop (5.17): user stacks follow frame pointers only\n");
		r->prog = skel->progs.eb_cpu_fp;
	} else {
		pr_warn("the kernel lacks bpf_task_pt_regs (5.15): user stacks by the kernel's frame-pointer walk\n");
		r->prog = skel->progs.eb_cpu_compat;
	}
	bpf_program__set_autoload(skel->progs.eb_cpu_dwarf, r->prog == skel->progs.eb_cpu_dwarf);
	bpf_program__set_autoload(skel->progs.eb_cpu_fp, r->prog == skel->progs.eb_cpu_fp);
	bpf_program__set_autoload(skel->progs.eb_cpu_fp_loop, r->prog == skel->progs.eb_cpu_fp_loop);
	bpf_program__set_autoload(skel->progs.eb_cpu_compat, r->prog == skel->progs.eb_cpu_compat);
}


/* store rows in the BPF row pool, in batches (kernel 5.6+) */
static int write_rows(void *ctx, uint32_t first, const struct unwind_row *rows, size_t n)
{
	struct cpu_run *r = ctx;
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

/* the process ebprof mem traces */
static int mem_pid(const struct cpu_run *r, const struct launch *l)
{
	return l && l->pid ? l->pid : r->o->pids[0];
}

int cpu_collect(const struct ebprof_opts *o, struct launch *l, struct profile **out, struct mem_report **mout)
{
	struct cpu_run r = { .o = o, .mem = o->mode == MODE_MEM, .first_tgid = -1, .drain_s = DRAIN_S,
			     .py_rb_lock = PTHREAD_MUTEX_INITIALIZER };
	struct profile *p = NULL;
	double start, stop, deadline = 0, last_rescan = 0;
	int err, ret = 1, i;

	libbpf_set_print(libbpf_print);
	r.ncpus = libbpf_num_possible_cpus();
	r.links = calloc(2 * r.ncpus, sizeof(*r.links));
	r.pefds = calloc(2 * r.ncpus, sizeof(*r.pefds));
	for (i = 0; r.pefds && i < 2 * r.ncpus; i++)
		r.pefds[i] = -1;
	for (i = 0; i < MAX_PIDS; i++)
		r.pidfds[i] = -1;
	r.sym = symbolizer__new();
	p = profile__new();
	if (!r.links || !r.pefds || !r.sym || !p) {
		pr_err("out of memory\n");
		goto cleanup;
	}

	/* Open the mode's BPF object, and configure what every mode has */
	if (r.mem) {
		r.mem_skel = mem_bpf__open();
		if (r.mem_skel)
			r.b = SESSION_BPF(r.mem_skel);
	} else {
		r.cpu_skel = cpu_bpf__open();
		if (r.cpu_skel)
			r.b = SESSION_BPF(r.cpu_skel);
	}
	if (!r.b.obj) {
		pr_err("cannot open the BPF object: %s\n", strerror(errno));
		goto cleanup;
	}
	*r.b.targ_all = o->all;
	*r.b.targ_follow_fork = o->cmd != NULL;
	bpf_map__set_max_entries(r.b.kstacks, o->map_size);
	bpf_map__set_max_entries(r.b.ustacks, o->map_size);
	probe_walkers(&r);
	if (r.mem) {
		if (!r.dwarf) {
			pr_err("ebprof mem needs bpf_loop (kernel 5.17) and unwind tables (not --fp)\n");
			ret = EXIT_NOFEATURE;
			goto cleanup;
		}
		if (mem_configure(&r, mem_pid(&r, l))) {
			pr_err("out of memory\n");
			goto cleanup;
		}
	} else {
		r.cpu_skel->rodata->targ_per_thread = o->per_thread;
		r.cpu_skel->rodata->targ_kernel = !o->no_kernel;
		/* events other than clocks: each sample stands for its period's worth */
		r.cpu_skel->rodata->targ_weight = !o->event.timer;
		if (o->nevents == 2) {
			if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_get_attach_cookie, NULL) <= 0) {
				pr_err("sampling two events needs bpf_get_attach_cookie (kernel 5.15): give one event\n");
				ret = EXIT_NOFEATURE;
				goto cleanup;
			}
			r.cpu_skel->rodata->targ_two_events = true;
		}
		bpf_map__set_max_entries(r.cpu_skel->maps.counts, o->map_size * 2);
		if (!o->event.timer) {
			bpf_map__set_max_entries(r.cpu_skel->maps.ev_last, 2 * r.ncpus);
			bpf_map__set_max_entries(r.cpu_skel->maps.ev_start, 2 * r.ncpus);
		}
		select_sampler(&r);
	}
	if (*r.b.targ_python) {
		/* 2 KiB a stack, preallocated (not by mem): half as many as native stacks */
		bpf_map__set_max_entries(r.b.pystacks, r.mem ? o->map_size * 4 : o->map_size / 2);
	} else {
		bpf_map__set_max_entries(r.b.pystacks, 1);
		bpf_map__set_max_entries(r.b.py_codes, 1);
		bpf_map__set_max_entries(r.b.py_threads, 1);
	}
	if (r.dwarf) {
		bpf_map__set_max_entries(r.b.unwind_rows, o->unwind_rows);
		bpf_map__set_max_entries(r.b.unwind_procs, o->all ? 1024 : 256);
	} else {
		bpf_map__set_max_entries(r.b.unwind_procs, 1);
	}

	r.track_mmap = ensure_tracefs();
	if (!r.track_mmap) {
		pr_info("tracefs is not available: re-reading mappings every second instead of tracing mmap\n");
		bpf_program__set_autoload(r.b.on_mmap_enter, false);
		bpf_program__set_autoload(r.b.on_mmap_exit, false);
	}

	/* Load and verify the BPF programs */
	err = r.mem ? mem_bpf__load(r.mem_skel) : cpu_bpf__load(r.cpu_skel);
	if (err) {
		if (err == -EPERM || errno == EPERM)
			pr_err("permission denied loading BPF programs: run as root, or with CAP_BPF and CAP_PERFMON\n");
		else
			pr_err("cannot load the BPF programs: %s (rerun with --debug for the verifier's log)\n",
			       strerror(-err));
		ret = err == -EPERM ? 1 : EXIT_NOFEATURE;
		goto cleanup;
	}

	if (*r.b.targ_python) {
		r.py = py__new(r.sym, bpf_map__fd(r.b.py_procs), o->all);
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
	err = r.mem ? mem_bpf__attach(r.mem_skel) : cpu_bpf__attach(r.cpu_skel);
	if (err) {
		pr_err("cannot attach tracepoints: %s\n", strerror(-err));
		goto cleanup;
	}
	r.rb = ring_buffer__new(bpf_map__fd(r.b.events), handle_event, &r, NULL);
	if (!r.rb) {
		pr_err("cannot create the ring buffer: %s\n", strerror(errno));
		goto cleanup;
	}
	if (r.py) {
		const char *lag = getenv("EBPROF_TEST_PY_LAG_MS");

		r.py_lag_us = lag ? 1000 * atoi(lag) : 0;
		r.py_rb = ring_buffer__new(bpf_map__fd(r.b.py_events), handle_py_event, &r, NULL);
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
		if (add_target(&r, l->pid, true)) {
			pr_err("cannot add pid %d to the target set: %s\n", l->pid, strerror(errno));
			goto cleanup;
		}
		/* until it execs, the held child runs our code */
		refresh(&r, l->pid, 0);
	} else {
		for (i = 0; i < o->npids; i++) {
			r.pidfds[i] = syscall(SYS_pidfd_open, o->pids[i], 0);
			if (r.pidfds[i] < 0 && errno != ESRCH) {
				pr_err("cannot watch pid %d: %s\n", o->pids[i], strerror(errno));
				goto cleanup;
			}
			if (add_target(&r, o->pids[i], false)) {
				pr_err("cannot add pid %d to the target set: %s\n", o->pids[i], strerror(errno));
				goto cleanup;
			}
			if (pid_gone(&r, i))
				continue;
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
		mem_start(&r, l->pid ? o->cmd : NULL);
	} else if (open_events(&r)) {
		goto cleanup;
	} else if (!o->event.timer) {
		mark_events_start(&r);
		open_counters(&r, l);
	}
	start = now_sec();
	r.last_drain = start;
	r.last_fold = start;
	r.fold = strmap__new();
	if (!r.fold) {
		pr_err("out of memory\n");
		goto cleanup;
	}
	{
		/* for the tests: drains this often, racing the samplers */
		const char *d = getenv("EBPROF_TEST_DRAIN_MS");

		if (d)
			r.drain_s = atoi(d) / 1e3;
	}
	if (o->duration > 0)
		deadline = start + o->duration;
	if (l->pid) {
		*r.b.hold_new_code = 1;
		err = launch_release(l);
		if (err) {
			pr_err("cannot run '%s': %s\n", o->cmd[0], strerror(-err));
			ret = 127;
			goto cleanup;
		}
	}
	/* named now: a target may be gone by the end */
	describe_target(o, l, &p->meta);
	if (r.mem)
		pr_info("tracing the allocations of pid %d (%d allocator functions, %s), attached in %.1f ms; Ctrl-C to stop\n",
			mem_pid(&r, l), mem_nprobes(&r), o->exact ? "every call" : "within the overhead budget",
			1000 * (now_sec() - session_t0));
	else
		pr_info("sampling %s at %u Hz on %d CPUs, attached in %.1f ms; Ctrl-C to stop\n",
			o->event.name, o->freq, r.ncpus, 1000 * (now_sec() - session_t0));

	while (!exiting) {
		/* an interpreter starting up: look again soon */
		bool py_waiting = r.py && py__retry(r.py) > 0;
		int timeout = py_waiting ? 5 : JITTER_MS;

		if (r.mem)
			timeout = mem_poll_timeout(&r, timeout);
		err = ring_buffer__poll(r.rb, timeout /* ms */);
		jitter_periods(&r);
		if (r.mem)
			mem_tick(&r);
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
		if (drain_due(&r)) {
			err = drain(&r, p);
			if (err) {
				pr_err("cannot take in the samples: %s\n", strerror(-err));
				goto cleanup;
			}
		}
	}
	stop = now_sec();
	release_held(&r);

	/* Stop sampling, then take in the last events and the counts */
	if (!o->event.timer)
		close_counters(&r, &p->meta);
	close_events(&r);
	if (r.mem)
		mem_stop(&r);
	ring_buffer__consume(r.rb);
	run_queue(&r);
	py_reader_stop(&r);
	if (r.py)
		py__finish(r.py);
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
		err = mem_build_report(&r, l, m, stop - start);
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
	release_held(&r);
	close_counters(&r, NULL);
	close_events(&r);
	mem_free(&r);
	py_reader_stop(&r);
	ring_buffer__free(r.py_rb);
	ring_buffer__free(r.rb);
	cpu_bpf__destroy(r.cpu_skel);
	mem_bpf__destroy(r.mem_skel);
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
	free(r.exited);
	strmap__free(r.fold);
	for (i = 0; i < MAX_PIDS; i++)
		if (r.pidfds[i] >= 0)
			close(r.pidfds[i]);
	return ret;
}
