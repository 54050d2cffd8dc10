// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mode_mem.c - ebprof mem: uprobes on the allocator
 * functions the target maps, on for every call (--exact) or in windows
 * that keep their cost within --overhead of the target's own CPU time, and
 * the report: allocation sites, RSS growth, leaks, estimates.  Its
 * programs: bpf/mem.bpf.c; it runs in run.c's session (its ops at the
 * end).
 */
#include <dlfcn.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "run.h"
#include "mem.skel.h"
#include "mem.h"
#include "mem_preload.h"
#include "pyalloc.h"
#include "python.h"
#include "session.h"
#include "uprobes.h"
#include <gelf.h>
#include "sym/elf.h"
#include "sym/procmaps.h"
#include "sym/symbolizer.h"
#include "util/grow.h"
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
	double cost_on, cost_off;	/* what the probes cost it while counted, and while going off */
	double forgone;			/* budget not used in time (MEM_HORIZON) */
	uint64_t hits_mark[3], off_mark[3], bpf_ns_mark;	/* entries, returns, frees */
	int windows, offs;		/* times the probes went on, and off for the budget */
	double min_on;			/* this window's shortest length */
	double window_cost0, window_cpu0;	/* cost_on, on_cpu when this window began */
	double last_cost, last_on_cpu;	/* ... what the last one cost, and its CPU time */
};

struct mem_run {
	struct mem_bpf *skel;
	int pid;			/* the target */
	/* a command with the interposer (mem_preload.c): it counts, the markers' probes take stacks */
	bool preload;
	bool not_loaded;		/* ... which the command ran without: the probes instead */
	const char *not_loaded_why;	/* ... why (LD_PRELOAD cleared, ...) */
	double not_loaded_at;		/* ... seen this long into the run (s); < 0: after its end, not probed */
	double exec_at;			/* when it was seen to run a program the interposer was not loaded into (0: not since) */
	uint32_t execs;			/* programs it ran (each exec, the command's own too) */
	uint32_t children;		/* processes it forked: not counted */
	struct bpf_link *marker_links[2];
	bool py_via_malloc;		/* its CPython allocates through malloc (PYTHONMALLOC=malloc) */
	bool scan_live;			/* the files scanned are mapped by the running target */
	/* a CPython whose object allocator is inlined (a PGO build): not probed; its module, the sites */
	char py_inlined[64];
	uint64_t py_inlined_sites;
	/* -p, --exact: the counters MEM_LATE_S after the probes went on */
	double probes_t0;
	uint64_t late_frees0, late_unseen0;
	bool late_taken;
	struct bpf_link *final_link;	/* on its CPython's Py_FinalizeEx */
	struct mem_probe *probes;	/* allocator functions found in the target */
	size_t nprobes, probes_cap;
	struct mem_file *files;		/* ... by file: their probes are contiguous */
	size_t nfiles, files_cap;
	bool multi;			/* uprobe.multi links (6.6), else a uprobe each */
	struct uprobe_files uf;		/* files looked at for allocators */
	bool probes_on;			/* attached and counted */
	double on_since, on_total;	/* wall seconds counted */
	double cost[3];			/* seconds a trap costs: an allocator's entry, its return, a free (the hits' order) */
	bool cost_read;			/* ... read (mem_calibrate), not guessed */
	volatile int detaching;		/* links still being destroyed in the background */
	struct mem_budget budget;
	struct task_counter cpu_clock;	/* the target's threads' task-clock */
	int stats_fd;			/* BPF run-time statistics on while >= 0 */
	long rss_kib, hwm_kib;
	double rss_polled;		/* when */
	__u32 *batch_keys;		/* mem_counters_all()'s buffers */
	__u64 *batch_vals;
	/* --exact: the first moments' call rate, for what it costs the target */
	double rate_t0, rate_cpu0, rate_user0;
	uint64_t rate_hits0[3], rate_bpf_ns0;
	bool rate_said, rate_recal;
	/* -p: its user and system CPU seconds from our start to the probes' (untraced) */
	double base_user0, base_sys0, base_user, base_sys;
	bool base_ok;
};

#define MR(r) ((struct mem_run *)(r)->mode)

/*
 * The interposer for a launched command (the default, mem_preload.c):
 * its files exist from before the fork to the end of the run, and go on
 * any exit (mem_destroy, or at exit where the run never began)
 */
static struct mem_preload preload;

/* an allocator function found in a file the target maps */
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

/*
 * The kinds of CPython's allocator table's functions (a ctx first), as
 * bpf/mem.bpf.c numbers them; they run eb_mem_m_entry, by cookie
 */
enum { KIND_CTX_SIZE1 = 7, KIND_CTX_CALLOC, KIND_CTX_REALLOC, KIND_CTX_FREE };
static const char *const table_names[PYALLOC_SLOTS] = {
	NULL, "PyObject_Malloc (table)", "PyObject_Calloc (table)", "PyObject_Realloc (table)", "PyObject_Free (table)",
};

static struct bpf_program *mem_prog(struct run *r, int kind)
{
	struct mem_bpf *k = MR(r)->skel;

	switch (kind) {
	case 1: return k->progs.eb_mem_size1;
	case 2: return k->progs.eb_mem_calloc;
	case 3: return k->progs.eb_mem_size2;
	case 4: return k->progs.eb_mem_realloc;
	case 5: return k->progs.eb_mem_reallocn;
	case 6: return k->progs.eb_mem_memalign;
	case KIND_CTX_SIZE1: case KIND_CTX_CALLOC: case KIND_CTX_REALLOC: case KIND_CTX_FREE:
		return k->progs.eb_mem_m_entry;
	default: return k->progs.eb_mem_free;
	}
}

/* attach by file offset when known: libbpf would parse the file's symbols for each link */
static int probe_attach(struct run *r, struct mem_probe *p, int pid)
{
	if (p->entry)
		return 0;
	return uprobe_attach_pair(p->prog, p->ret ? MR(r)->skel->progs.eb_mem_ret : NULL, pid, p->path, p->offset,
				  p->func, p->kind, &p->entry, &p->exit);
}

static void probe_detach(struct mem_probe *p)
{
	bpf_link__destroy(p->entry);
	bpf_link__destroy(p->exit);
	p->entry = p->exit = NULL;
}

/* how busy an allocator usually is: 0 the busiest */
static int busyness(const char *func)
{
	static const char *const order[] = { "malloc", "free", "PyObject_Malloc", "PyObject_Free",
					     "PyObject_Malloc (table)", "PyObject_Free (table)", "realloc",
					     "PyObject_Realloc", "PyObject_Realloc (table)", "calloc", "PyMem_Malloc", "PyMem_Free" };
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (!strcmp(func, order[i]))
			return i;
	return 99;
}

/* *order*: the indices of the *n* probes at *p*, the busiest first, or the coldest (an insertion sort) */
static void by_busyness(const struct mem_probe *p, size_t n, size_t *order, bool coldest)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		int b = busyness(p[i].func);

		for (k = i; k > 0; k--) {
			int c = busyness(p[order[k - 1]].func);

			if (coldest ? c >= b : c <= b)
				break;
			order[k] = order[k - 1];
		}
		order[k] = i;
	}
}

static int file_attach(struct run *r, struct mem_file *f)
{
	uint64_t offs[64], cookies[64], roffs[64];
	uint32_t n = 0, nr = 0;
	size_t order[64], k, m = f->n < 64 ? f->n : 64;
	int fd;

	if (f->entry_fd >= 0 || !f->n)
		return 0;
	/*
	 * The coldest first: closing, the first uprobe's breakpoint stays
	 * for a grace period after its program is gone (uncounted traps)
	 */
	by_busyness(&MR(r)->probes[f->first], m, order, true);
	for (k = 0; k < m && n < 64; k++) {
		const struct mem_probe *p = &MR(r)->probes[f->first + order[k]];

		if (!p->offset)
			continue;
		offs[n] = p->offset;
		cookies[n++] = p->kind;
		if (p->ret)
			roffs[nr++] = p->offset;
	}
	if (!n)
		return 0;
	fd = uprobe_multi_link(bpf_program__fd(MR(r)->skel->progs.eb_mem_m_entry), MR(r)->probes[f->first].path, offs,
			       cookies, n, false, MR(r)->pid);
	if (fd < 0)
		return fd;
	f->entry_fd = fd;
	if (nr) {
		fd = uprobe_multi_link(bpf_program__fd(MR(r)->skel->progs.eb_mem_m_ret), MR(r)->probes[f->first].path,
				       roffs, NULL, nr, true, MR(r)->pid);
		if (fd < 0) {
			close(f->entry_fd);
			f->entry_fd = -1;
			return fd;
		}
		f->ret_fd = fd;
	}
	return 0;
}

static uint64_t mem_counter(struct run *r, __u32 idx);

/*
 * The allocator probes' programs: *n_uprobe* of them for uprobes one by
 * one (the first *n_entry* the entries, which walk stacks), then the two
 * for uprobe.multi links; how many in all
 */
#define MEM_PROBE_PROGS 10
static size_t mem_probe_progs(struct mem_bpf *k, struct bpf_program **progs, size_t *n_uprobe, size_t *n_entry)
{
	struct bpf_program *all[MEM_PROBE_PROGS] = {
		k->progs.eb_mem_size1, k->progs.eb_mem_calloc, k->progs.eb_mem_size2, k->progs.eb_mem_realloc,
		k->progs.eb_mem_reallocn, k->progs.eb_mem_memalign, k->progs.eb_mem_ret, k->progs.eb_mem_free,
		k->progs.eb_mem_m_entry, k->progs.eb_mem_m_ret,
	};

	memcpy(progs, all, sizeof(all));
	if (n_uprobe)
		*n_uprobe = MEM_PROBE_PROGS - 2;
	if (n_entry)
		*n_entry = MEM_PROBE_PROGS - 4;
	return MEM_PROBE_PROGS;
}

/* nanoseconds the allocator probes' programs have run (BPF statistics) */
static uint64_t mem_bpf_ns(struct run *r)
{
	struct bpf_program *progs[MEM_PROBE_PROGS];
	size_t i, n = mem_probe_progs(MR(r)->skel, progs, NULL, NULL);
	uint64_t ns = 0;

	if (MR(r)->stats_fd < 0)
		return 0;
	for (i = 0; i < n; i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_program__fd(progs[i]) >= 0 && !bpf_obj_get_info_by_fd(bpf_program__fd(progs[i]), &info, &len))
			ns += info.run_time_ns;
	}
	return ns;
}

/*
 * The CPU time of the target, all its threads, ended ones too, in seconds:
 * a task-clock event on each, read up to the nanosecond.  Its process CPU
 * clock, read from here, moves a scheduler tick (4 ms) at a time, and the
 * budget, whose windows open as the work it allows steps up, saw each
 * window a tick short, and estimated high.
 */
static double target_cpu(struct run *r)
{
	uint64_t ns;

	if (task_counter__read(&MR(r)->cpu_clock, &ns))
		return MR(r)->budget.cpu_mark;	/* gone: no more time */
	return ns / 1e9;
}

/* the counters' sums, all in one call when the kernel can (5.6: batches) */
static void mem_counters_all(struct run *r, uint64_t *sum)
{
	int ncpu = libbpf_num_possible_cpus() > 0 ? libbpf_num_possible_cpus() : 1, fd = bpf_map__fd(MR(r)->skel->maps.mem_counters);
	__u32 n = EBPROF_MEM_COUNTERS, out, *keys = MR(r)->batch_keys;
	__u64 *vals = MR(r)->batch_vals;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	bool ok = false;
	static bool said;
	__u32 i;
	int c;

	/* read every 1 ms while the probes are on: the buffers stay */
	if (!keys)
		keys = MR(r)->batch_keys = calloc(n, sizeof(*keys));
	if (!vals)
		vals = MR(r)->batch_vals = calloc((size_t)n * ncpu, sizeof(*vals));
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
}

/*
 * Bring the books up to now: the probes' cost, the target's CPU time on
 * and off; *full*: the BPF programs' time too (ten syscalls: at switches).
 */
static void mem_books(struct run *r, bool full)
{
	struct mem_budget *b = &MR(r)->budget;
	double cpu = target_cpu(r), *cost = MR(r)->cost, all = 0, off_cost = 0;
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
	if (MR(r)->probes_on)
		b->on_cpu += cpu - b->cpu_mark;
	else
		b->off_cpu += cpu - b->cpu_mark;
	b->cpu_mark = cpu;
}

static void mem_probes_on(struct run *r)
{
	double t0 = now_sec();
	size_t i;

	for (i = 0; MR(r)->multi && i < MR(r)->nfiles; i++) {
		int err = file_attach(r, &MR(r)->files[i]);

		if (err)
			pr_debug("cannot probe the allocators in %s: %s\n", MR(r)->probes[MR(r)->files[i].first].path,
				 strerror(-err));
	}
	for (i = 0; !MR(r)->multi && i < MR(r)->nprobes; i++) {
		int err = probe_attach(r, &MR(r)->probes[i], MR(r)->pid);

		if (err)
			pr_debug("cannot probe %s in %s: %s\n", MR(r)->probes[i].func, MR(r)->probes[i].path, strerror(-err));
	}
	/* counted from when every probe is on to when the first goes: whole calls */
	if (!r->o->mem.exact) {
		mem_books(r, true);
		MR(r)->budget.window_cost0 = MR(r)->budget.cost_on;
		MR(r)->budget.window_cpu0 = MR(r)->budget.on_cpu;
	}
	__atomic_store_n(&MR(r)->skel->bss->mem_on, 1, __ATOMIC_RELEASE);
	MR(r)->probes_on = true;
	MR(r)->on_since = now_sec();
	if (!MR(r)->probes_t0)
		MR(r)->probes_t0 = MR(r)->on_since;
	MR(r)->budget.windows++;
	pr_debug("mem: %zu probes on in %.1f ms\n", MR(r)->nprobes, 1000 * (MR(r)->on_since - t0));
}

/* links being closed in a thread: a uprobe.multi link, or uprobes in order */
struct retired {
	int fd;			/* -1: none */
	struct bpf_link **links;
	size_t nlinks;
	volatile int *busy;
};

static void *close_links(void *arg)
{
	struct retired *rt = arg;
	double t0 = now_sec();
	size_t i;

	if (rt->fd >= 0)
		close(rt->fd);
	for (i = 0; i < rt->nlinks; i++)
		bpf_link__destroy(rt->links[i]);
	pr_debug("mem: %zu links closed in %.1f ms\n", rt->nlinks + (rt->fd >= 0), 1000 * (now_sec() - t0));
	__atomic_fetch_sub(rt->busy, 1, __ATOMIC_RELEASE);
	free(rt->links);
	free(rt);
	return NULL;
}

/* close *rt*'s links in a thread of its own, or here if none can start */
static void close_retired(struct run *r, struct retired *rt)
{
	pthread_attr_t attr;
	pthread_t t;
	bool ok = false;

	rt->busy = &MR(r)->detaching;
	__atomic_fetch_add(&MR(r)->detaching, 1, __ATOMIC_ACQ_REL);
	if (!pthread_attr_init(&attr)) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		ok = !pthread_create(&t, &attr, close_links, rt);
		pthread_attr_destroy(&attr);
	}
	if (!ok)
		close_links(rt);
}

/* a uprobe.multi link closed in the background; *fd* is -1 after */
static void close_fd_later(struct run *r, int *fd)
{
	struct retired *rt;

	if (*fd < 0)
		return;
	rt = calloc(1, sizeof(*rt));
	if (rt) {
		rt->fd = *fd;
		close_retired(r, rt);
	} else {
		close(*fd);
	}
	*fd = -1;
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
static void mem_probes_off(struct run *r)
{
	struct mem_run *mr = MR(r);
	struct retired *rt;
	size_t *order, i;

	if (mr->probes_on && !r->o->mem.exact) {
		mem_books(r, true);
		mr->budget.last_cost = mr->budget.cost_on - mr->budget.window_cost0;
		mr->budget.last_on_cpu = mr->budget.on_cpu - mr->budget.window_cpu0;
	}
	if (MR(r)->skel && MR(r)->skel->bss)
		__atomic_store_n(&MR(r)->skel->bss->mem_on, 0, __ATOMIC_RELEASE);
	if (mr->probes_on)
		mr->on_total += now_sec() - mr->on_since;
	mr->probes_on = false;
	/*
	 * The multi links close at once, each in a thread: a close removes
	 * its breakpoints after a grace period unless another close or
	 * attach just had one (dup_mmap_sem's rcu_sync), so together they
	 * wait for one.
	 */
	for (i = 0; i < mr->nfiles; i++)
		close_fd_later(r, &mr->files[i].ret_fd);
	for (i = 0; i < mr->nfiles; i++)
		close_fd_later(r, &mr->files[i].entry_fd);
	/* separate uprobes: one after another in one thread */
	rt = calloc(1, sizeof(*rt));
	order = calloc(mr->nprobes + 1, sizeof(*order));
	if (rt)
		rt->links = calloc(2 * mr->nprobes + 1, sizeof(*rt->links));
	if (!rt || !rt->links || !order) {
		for (i = 0; i < mr->nprobes; i++)
			probe_detach(&mr->probes[i]);
		goto out;
	}
	rt->fd = -1;
	for (i = 0; i < mr->nprobes; i++) {
		if (mr->probes[i].exit)
			rt->links[rt->nlinks++] = mr->probes[i].exit;
		mr->probes[i].exit = NULL;
	}
	by_busyness(mr->probes, mr->nprobes, order, false);
	for (i = 0; i < mr->nprobes; i++) {
		struct mem_probe *p = &mr->probes[order[i]];

		if (p->entry)
			rt->links[rt->nlinks++] = p->entry;
		p->entry = NULL;
	}
	if (rt->nlinks) {
		close_retired(r, rt);
		rt = NULL;
	}
out:
	if (rt)
		free(rt->links);
	free(rt);
	free(order);
}

/* wait for the links being destroyed in the background */
static void mem_detach_wait(struct run *r)
{
	while (__atomic_load_n(&MR(r)->detaching, __ATOMIC_ACQUIRE) > 0)
		usleep(2000);
}

/* the allocators *d* defines, probed through *path* (attached now if the probes are on) */
/* the target's memory at *d*'s file address *at*, through the bias of its mapping */
struct py_look {
	int pid;
	uint64_t bias;
};

static int py_read(void *ctx, uint64_t at, uint64_t *val)
{
	const struct py_look *l = ctx;

	if (py__read_mem(l->pid, at + l->bias, val, sizeof(*val)))
		return 0;
	*val -= l->bias;
	return 1;
}

/* the table a pair of wrappers (PyObject_Malloc and _Free, PyMem_...) reads, as a file address */
static bool py_wrappers_table(struct dso *d, const char *malloc_fn, const char *free_fn, struct py_look *l,
			      uint64_t *table)
{
	struct pyalloc_load ml[64], fl[64];
	uint8_t mc[96], fc[96];
	uint64_t mv, ms, fv, fs;
	ssize_t mn, fn;

	if (!dso__symbol(d, malloc_fn, &mv, &ms) || !dso__symbol(d, free_fn, &fv, &fs))
		return false;
	mn = dso__read(d, mv, mc, ms && ms < sizeof(mc) ? ms : sizeof(mc));
	fn = dso__read(d, fv, fc, fs && fs < sizeof(fc) ? fs : sizeof(fc));
	if (mn <= 0 || fn <= 0)
		return false;
	return pyalloc_table(ml, pyalloc_loads(mc, mn, mv, ml, 64), fl, pyalloc_loads(fc, fn, fv, fl, 64), py_read, l,
			     table);
}

/* the call sites of *d* that inline *fn* behind a guard */
static uint64_t py_guards(struct dso *d, uint64_t fn)
{
	Elf *elf = dso__elf(d);
	Elf_Scn *scn = NULL;
	uint64_t n = 0;
	GElf_Shdr sh;

	while (elf && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_EXECINSTR))
			continue;
		data = elf_getdata(scn, NULL);
		if (data && data->d_buf && data->d_size <= sh.sh_size)
			n += pyalloc_guards(data->d_buf, data->d_size, sh.sh_addr, fn);
	}
	if (elf)
		elf_end(elf);
	return n;
}

/*
 * The interpreter asks which allocator it runs (_PyMem_PymallocEnabled,
 * _PyMem_GetCurrentAllocatorName): a compare or two in any build (1-2 in
 * pyenv's 3.8-3.13).  A build that inlines the allocator has one at every
 * hot allocation (242 in Debian's 3.11).
 */
#define PY_INLINED_MIN 16

/*
 * Where a running CPython's allocations can be seen.  PyObject_Malloc
 * and the others call through a table (_PyObject, or _PyRuntime's in
 * 3.12+): its functions get every call, where link-time optimisation may
 * have inlined the wrappers; found from the wrappers' code and the table
 * read in the target.  A build with profile-guided optimisation (Debian's,
 * Ubuntu's, Fedora's) also inlines the table's functions into their hot
 * callers, behind a compare of the pointer: those allocations no probe
 * sees, and the Python allocators are better not probed at all than seen
 * in part (frees without their allocations).  Returns 1 with the
 * functions' file addresses in *fns* (0: none), 0 to probe the wrappers
 * (a command not started, a table not found), -1 for none.
 */
static int py_allocators(struct run *r, struct dso *d, uint64_t *fns)
{
	struct mem_run *mr = MR(r);
	const struct sym_mapping *maps;
	struct py_look l = { .pid = mr->pid };
	uint64_t table, slots[PYALLOC_SLOTS], off, sites;
	size_t n, i;
	int k;

	if (mr->py_via_malloc || !mr->scan_live || !dso__symbol(d, "PyObject_Malloc", &table, &off))
		return 0;
	n = symbolizer__mappings(r->sym, mr->pid, &maps);
	for (i = 0; i < n && !(maps[i].dso == d && dso__map_bias(d, maps[i].start, maps[i].pgoff, true, &l.bias)); i++)
		;
	if (i == n || !py_wrappers_table(d, "PyObject_Malloc", "PyObject_Free", &l, &table))
		return 0;
	for (k = 0; k < PYALLOC_SLOTS; k++)
		if (!py_read(&l, table + 8 * k, &slots[k]))
			return 0;
	memset(fns, 0, PYALLOC_SLOTS * sizeof(*fns));
	for (k = PYALLOC_MALLOC; k < PYALLOC_SLOTS; k++) {
		/* a hook in another file (a profiler's): the wrappers are all there is to go by */
		if (!dso__vaddr_to_offset(d, slots[k], &off) || !off)
			return 0;
		fns[k] = slots[k];
	}
	sites = py_guards(d, fns[PYALLOC_MALLOC]) + py_guards(d, fns[PYALLOC_FREE]);
	pr_debug("mem: %s: CPython's allocator table at 0x%" PRIx64 " (malloc 0x%" PRIx64 ", free 0x%" PRIx64
		 "), %" PRIu64 " inlined call sites\n", dso__name(d), table, fns[PYALLOC_MALLOC], fns[PYALLOC_FREE], sites);
	if (sites < PY_INLINED_MIN)
		return 1;
	if (!mr->py_inlined_sites) {
		snprintf(mr->py_inlined, sizeof(mr->py_inlined), "%s", dso__name(d));
		pr_warn("%s (pid %d) inlines CPython's object allocator into %" PRIu64 " call sites (an optimised build): -p cannot see its small objects, so the Python allocators are not probed; counted: what reaches libc's malloc, page faults, RSS. Launched (ebprof mem -- python3 ...), every allocation is seen\n",
			dso__name(d), mr->pid, sites);
	}
	mr->py_inlined_sites += sites;
	return -1;
}

static struct mem_probe *add_probe(struct run *r, struct dso *d, const char *path, const char *func, uint64_t vaddr,
				   int kind)
{
	struct mem_run *mr = MR(r);
	struct mem_probe *p;

	if (GROW(mr->probes, mr->nprobes, mr->probes_cap, 32))
		return NULL;
	p = &mr->probes[mr->nprobes++];
	memset(p, 0, sizeof(*p));
	snprintf(p->path, sizeof(p->path), "%s", path);
	p->func = func;
	if (!dso__vaddr_to_offset(d, vaddr, &p->offset))
		p->offset = 0;
	p->prog = mem_prog(r, kind);
	p->kind = kind;
	p->ret = kind != 0 && kind != KIND_CTX_FREE;
	pr_debug("allocator %s in %s\n", p->func, p->path);
	if (mr->probes_on && !mr->multi)
		probe_attach(r, p, mr->pid);
	return p;
}

static void scan_file(void *ctx, struct dso *d, const char *path)
{
	static const int table_kinds[PYALLOC_SLOTS] = { 0, KIND_CTX_SIZE1, KIND_CTX_CALLOC, KIND_CTX_REALLOC,
							 KIND_CTX_FREE };
	struct run *r = ctx;
	struct mem_run *mr = MR(r);
	uint64_t fns[PYALLOC_SLOTS], fin, fsize;
	struct mem_file *f;
	size_t a;
	int py, k;

	if (GROW(mr->files, mr->nfiles, mr->files_cap, 8))
		return;
	f = &mr->files[mr->nfiles];
	f->first = mr->nprobes;
	f->n = 0;
	f->entry_fd = f->ret_fd = -1;
	py = py_allocators(r, d, fns);
	for (a = 0; a < sizeof(allocators) / sizeof(allocators[0]); a++) {
		uint64_t v, size = 0;

		if (!dso__symbol(d, allocators[a].name, &v, &size) || !size)
			continue;
		/*
		 * CPython's allocators forward to malloc: probed there, once;
		 * or the table's functions are, or none can be seen
		 */
		if ((mr->py_via_malloc || py) && !strncmp(allocators[a].name, "Py", 2))
			continue;
		if (!add_probe(r, d, path, allocators[a].name, v, allocators[a].kind))
			return;
		f->n++;
	}
	/* what a CPython holds is what it held when it began to finalize: its teardown frees it all */
	if (!mr->final_link && dso__symbol(d, "Py_FinalizeEx", &fin, &fsize) && fsize &&
	    dso__vaddr_to_offset(d, fin, &fin)) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo);

		mr->final_link = bpf_program__attach_uprobe_opts(mr->skel->progs.eb_mem_finalize, mr->pid, path, fin, &uo);
		if (!mr->final_link)
			pr_debug("cannot probe Py_FinalizeEx in %s: %s\n", path, strerror(errno));
	}
	for (k = PYALLOC_MALLOC; py > 0 && k < PYALLOC_SLOTS; k++) {
		int j;

		/* one probe a function (the calloc of a table may be its malloc's) */
		for (j = PYALLOC_MALLOC; j < k && fns[j] != fns[k]; j++)
			;
		if (j < k)
			continue;
		if (!add_probe(r, d, path, table_names[k], fns[k], table_kinds[k]))
			return;
		f->n++;
	}
	if (!f->n)
		return;
	mr->nfiles++;
	if (mr->probes_on && mr->multi)
		file_attach(r, f);
}

/* the allocators in files *tgid* maps that were not looked at yet */
static void mem_scan(struct run *r, int tgid)
{
	if (tgid != MR(r)->pid)
		return;
	MR(r)->scan_live = true;
	uprobe_files__mapped(&MR(r)->uf, r->sym, tgid);
	MR(r)->scan_live = false;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double thread_cpu_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * CPU seconds a malloc(64) + free pair takes here: the median of 7
 * batches of 300.  CPU time, as the books count the target's: a trap runs
 * in the thread that hit it.  Wall time took in preemption and a VM's
 * steal time, which overrated the traps under load, and so the estimates.
 */
static double pair_time(void)
{
	double t[7], t0;
	void *volatile q;
	int i, k;

	for (k = 0; k < 7; k++) {
		t0 = thread_cpu_sec();
		for (i = 0; i < 300; i++) {
			q = malloc(64);
			free(q);
		}
		t[k] = (thread_cpu_sec() - t0) / 300;
	}
	qsort(t, 7, sizeof(t[0]), cmp_double);
	return t[3];
}

/*
 * What a trap costs on this libc's malloc (entry; entry and return) and on
 * its free, here in this thread; the BPF programs' own time is left out
 * (they return at once for this process): it is measured in the target.
 * Called again, the costs of the least reading are kept, by what a
 * malloc, its return and a free cost together: what is not the traps'
 * cost only adds, and their cost here moves with the machine's state for
 * a while at a time (about one reading in 15 had every batch 25-40 %
 * over the usual, and the next reading, 0.5 s on, the usual).  Read while
 * the target's probes are on, a malloc's entry alone traps its return too
 * (their return probe), so such a reading has the sum only.
 */
static void mem_calibrate(struct run *r)
{
	struct mem_run *mr = MR(r);
	struct mem_probe p = {};
	double bare, pair = -1, cost[3] = { -1, -1, -1 };
	Dl_info dli;
	int k;

	if (!dladdr((void *)malloc, &dli) || !dli.dli_fname)
		goto out;
	snprintf(p.path, sizeof(p.path), "%s", dli.dli_fname);
	bare = pair_time();
	p.func = "malloc";
	p.prog = mr->skel->progs.eb_mem_cal;
	if (!probe_attach(r, &p, syscall(SYS_gettid))) {
		cost[0] = pair_time() - bare;
		probe_detach(&p);
	}
	p.ret = true;
	if (!probe_attach(r, &p, syscall(SYS_gettid))) {
		pair = pair_time() - bare;
		probe_detach(&p);
	}
	p.func = "free";
	p.prog = mr->skel->progs.eb_mem_free;
	p.ret = false;
	if (!probe_attach(r, &p, syscall(SYS_gettid))) {
		cost[2] = pair_time() - bare;
		probe_detach(&p);
	}
	if (pair > 0 && cost[0] > 0)
		cost[1] = pair - cost[0];
	if (cost[0] > 0 && cost[1] > 0 && cost[2] > 0) {
		if (!mr->cost_read || cost[0] + cost[1] + cost[2] < mr->cost[0] + mr->cost[1] + mr->cost[2])
			for (k = 0; k < 3; k++)
				mr->cost[k] = cost[k];
		mr->cost_read = true;
	}
	pr_debug("mem: traps read %.1f us at an allocator's entry, %.1f us at its return, %.1f us at a free\n",
		 1e6 * cost[0], 1e6 * cost[1], 1e6 * cost[2]);
out:
	for (k = 0; k < 3; k++)
		if (mr->cost[k] <= 0)
			mr->cost[k] = k == 1 ? 5e-6 : 10e-6;
}

static uint64_t mem_counter(struct run *r, __u32 idx)
{
	int ncpu = libbpf_num_possible_cpus(), c;
	__u64 vals[ncpu > 0 ? ncpu : 1];
	uint64_t sum = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(MR(r)->skel->maps.mem_counters), &idx, vals))
		return 0;
	for (c = 0; c < ncpu; c++)
		sum += vals[c];
	return sum;
}

/*
 * The default mode's budget, looked at every 10 ms (every 1 ms while on):
 * the probes go off when what they cost the target exceeds --overhead of
 * its own work, and on again when its work has earned them back
 * (mem_budget.c).  A target whose calls fit the budget keeps them on all
 * the time, and is counted exactly.
 */
static void mem_budget(struct run *r)
{
	struct mem_budget *b = &MR(r)->budget;
	double now, cost, work;

	if (r->o->mem.exact || MR(r)->preload)
		return;
	mem_books(r, false);
	now = now_sec();
	cost = b->cost_on + b->cost_off;
	work = b->cpu_mark - b->cpu0 - cost;
	switch (mem_budget_decide(r->o->mem.overhead, work, cost, &b->forgone, MR(r)->probes_on, now - MR(r)->on_since,
				  b->min_on, __atomic_load_n(&MR(r)->detaching, __ATOMIC_ACQUIRE))) {
	case MEM_BUDGET_OFF:
		pr_debug("mem: %.4f: probes off: they cost %.3f s of %.3f s of work\n", now, cost, work);
		mem_probes_off(r);
		b->offs++;
		break;
	case MEM_BUDGET_ON:
		/* windows of random length, so that they do not beat with a period of the target's */
		b->min_on = mem_window_min_on(b->last_cost, b->last_on_cpu) * (0.5 + drand48());
		mem_probes_on(r);
		break;
	case MEM_BUDGET_KEEP:
		break;
	}
}

static void mem_poll_rss(struct run *r)
{
	char path[64], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", MR(r)->pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmRSS:", 6))
			MR(r)->rss_kib = atol(line + 6);
		else if (!strncmp(line, "VmHWM:", 6))
			MR(r)->hwm_kib = atol(line + 6);
	}
	if (f)
		fclose(f);
}


/* the programs and maps of mem's BPF object (bpf/mem.bpf.c), before its load */
static void mem_programs(struct run *r)
{
	struct mem_bpf *k = MR(r)->skel;
	struct bpf_program *progs[MEM_PROBE_PROGS];
	bool multi = uprobe_multi_supported();
	size_t i, n_uprobe, n_entry, n = mem_probe_progs(k, progs, &n_uprobe, &n_entry);

	/*
	 * uprobe.multi links (6.6) when the kernel has them, else a uprobe
	 * each.  The entries' programs each walk stacks, which the verifier
	 * takes ~0.15 s to go through: the ones not used are not loaded.
	 */
	for (i = 0; i < n_entry; i++)
		bpf_program__set_autoload(progs[i], !multi);
	for (i = n_uprobe; i < n; i++)
		bpf_program__set_autoload(progs[i], multi);
	/* the functions of CPython's allocator table (a ctx first) go through it by cookie, either way */
	bpf_program__set_autoload(k->progs.eb_mem_m_entry, true);
	/* the interposer's markers */
	bpf_program__set_autoload(k->progs.eb_mem_smp_alloc, MR(r)->preload);
	bpf_program__set_autoload(k->progs.eb_mem_smp_free, MR(r)->preload);
	bpf_program__set_autoload(k->progs.eb_mem_smp_sys, MR(r)->preload);
	bpf_program__set_autoattach(k->progs.eb_mem_smp_sys, false);
	MR(r)->multi = multi;
	if (multi) {
		bpf_program__set_expected_attach_type(k->progs.eb_mem_m_entry, EBPROF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(k->progs.eb_mem_m_ret, EBPROF_TRACE_UPROBE_MULTI);
	}
	/*
	 * Every allocation records its stacks, so there are many more of them
	 * than samples give; no perf_event program is loaded, so the maps can
	 * grow on demand instead of being allocated up front.
	 */
	bpf_map__set_max_entries(k->maps.mem_blocks, r->o->mem.max_blocks);
	bpf_map__set_max_entries(k->maps.mem_stats, r->o->map_size * 8);
	bpf_map__set_max_entries(k->maps.mem_rss, r->o->map_size * 4);
	bpf_map__set_max_entries(k->maps.ustacks, r->o->map_size * 8);
	bpf_map__set_max_entries(k->maps.kstacks, 1);
	bpf_map__set_map_flags(k->maps.mem_blocks, BPF_F_NO_PREALLOC);
	bpf_map__set_map_flags(k->maps.mem_stats, BPF_F_NO_PREALLOC);
	bpf_map__set_map_flags(k->maps.mem_rss, BPF_F_NO_PREALLOC);
	bpf_map__set_map_flags(k->maps.ustacks, BPF_F_NO_PREALLOC);
	bpf_map__set_map_flags(k->maps.pystacks, BPF_F_NO_PREALLOC);
	/* allocated on demand: as many as native stacks */
	if (*r->b.targ_python)
		bpf_map__set_max_entries(k->maps.pystacks, r->o->map_size * 4);
}


/* the site of *k* in *m*, made on first use: its index, or -1 */
static long mem_site(struct run *r, struct mem_report *m, struct strmap *ids, struct strmap *by_frames,
		     const struct mem_key *k, struct key_scratch *s)
{
	struct sample_key sk = {};
	uint32_t *fids = s->ids;
	int n;
	struct mem_site *site;
	void *v = strmap__get(ids, k, sizeof(*k));

	if (v)
		return (long)(uintptr_t)v - 1;
	if (GROW(m->sites, m->nsites, m->sites_cap, 256))
		return -1;
	sk.tgid = k->tgid;
	sk.gen = symbolizer__latest_gen(r->sym, k->tgid);
	sk.ustack_hash = k->ustack_hash;
	sk.pystack_hash = k->pystack_hash;
	sk.flags = k->flags;
	n = key_frames(r, m->prof, &sk, s);
	if (n < 0)
		return -1;
	/*
	 * The probed function itself is not where the allocation comes from:
	 * at its entry it is the innermost native frame (a function of
	 * CPython's allocator table may have no name in a stripped build)
	 */
	if (MR(r)->preload) {
		/* the interposer's own frames (the marker, its malloc; under libc's malloc where it faults pages in) */
		int i, k = 0;

		for (i = 0; i < n; i++)
			if (strcmp(profile__frame_at(m->prof, fids[i])->module, "libebprof-mem.so"))
				fids[k++] = fids[i];
		/* nothing else: its own code's pages faulted in as it loads */
		if (!k && n) {
			int f = profile__frame(m->prof, "[ebprof's interposer]", "ebprof", false);

			if (f < 0)
				return -1;
			fids[k++] = (uint32_t)f;
		}
		n = k;
	} else if (n > 1) {
		const struct frame *leaf = profile__frame_at(m->prof, fids[n - 1]);

		if (!leaf->python && !leaf->kernel)
			n--;
	}
	/* the interposer's: stacks that differ in its frames dropped (or in how they were walked) but show the same, one site */
	if (MR(r)->preload) {
		uint32_t fk[MAX_FRAMES + 2];

		fk[0] = k->tgid;
		fk[1] = k->flags & (EBPROF_F_USER_TRUNC | EBPROF_F_USER_MISSING);
		memcpy(fk + 2, fids, n * sizeof(uint32_t));
		v = strmap__get(by_frames, fk, (n + 2) * sizeof(uint32_t));
		if (v)
			return strmap__set(ids, k, sizeof(*k), v) ? -1 : (long)(uintptr_t)v - 1;
		if (strmap__set(by_frames, fk, (n + 2) * sizeof(uint32_t), (void *)(uintptr_t)(m->nsites + 1)))
			return -1;
	}
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

static void mem_estimate(struct run *r, struct mem_report *m)
{
	const struct mem_budget *b = &MR(r)->budget;

	mem_report__estimate(m, r->o->mem.exact || !b->offs, b->windows, b->on_cpu - b->cost_on, b->off_cpu - b->cost_off,
			     b->cost_on + b->cost_off);
}

/* the interposer's counts: every call, exact */
static void preload_totals(struct run *r, struct mem_report *m)
{
	struct ebmem_counts c;
	uint64_t seen;
	int k;

	mem_preload_totals(&preload, &c);
	m->interposed = true;
	m->exact = true;
	m->check_frees = false;
	m->allocs = 0;
	for (k = 0; k < 64; k++) {
		m->hist[k] = c.hist[k];
		m->allocs += c.hist[k];
	}
	m->frees = c.frees;
	m->bytes = c.bytes;
	m->bytes_freed = c.bytes_freed;
	m->blocks_outstanding = m->allocs - c.frees;
	m->bytes_outstanding = c.bytes - c.bytes_freed;
	m->sample_bytes = preload.shm->sample_bytes;
	m->sample_adaptive = preload.shm->adaptive;
	m->sample_max = preload.shm->mean_max;
	m->samples = c.samples;
	m->peak_heap = preload.shm->peak;
	m->peak_sites = preload.shm->peak_seq > 0;
	m->threads = preload.shm->max_live;
	m->peak_exact = m->threads <= 1;
	m->foreign_frees = c.foreign;
	m->failed = c.failed;
	m->py = (int)preload.shm->py;
	m->by_syscall = preload.shm->by_syscall;
	seen = mem_counter(r, EBPROF_MEM_HITS_ENTRY);
	m->lost_samples = c.samples > seen ? c.samples - seen : 0;
	pr_debug("mem: interposer: %lu samples, %lu sampled frees; BPF saw %lu and %lu; %lu frees of unseen sampled blocks\n",
		 (unsigned long)c.samples, (unsigned long)c.sampled_frees,
		 (unsigned long)mem_counter(r, EBPROF_MEM_ALLOCS), (unsigned long)mem_counter(r, EBPROF_MEM_FREES),
		 (unsigned long)mem_counter(r, EBPROF_MEM_UNSEEN_FREES));
}

/* the estimates' bounds: each site's variance at least mem_least_var()'s (mem_budget.c) */
static void preload_bounds(struct mem_report *m)
{
	double run_max = m->sample_adaptive ? (double)m->sample_max : (double)m->sample_bytes;
	size_t i;

	/* what the stacks' estimates add up to, against the exact totals */
	m->unattributed = (double)m->bytes;
	m->unattributed_out = (double)m->bytes_outstanding;
	m->unattributed_peak = (double)m->peak_heap;
	for (i = 0; i < m->nsites; i++) {
		struct mem_site *s = &m->sites[i];
		double mean = s->allocs ? (double)s->bytes / s->allocs : 1, omean;

		omean = s->out_blocks ? (double)s->out_bytes / s->out_blocks : mean;
		s->var_bytes = fmax(s->var_bytes, mem_least_var((double)s->bytes, run_max, (double)m->bytes));
		s->var_allocs = fmax(s->var_allocs, mem_least_var((double)s->allocs, run_max / fmax(mean, 1), (double)m->allocs));
		s->var_out_bytes = fmax(s->var_out_bytes, mem_least_var((double)s->out_bytes, run_max, (double)m->bytes_outstanding));
		s->var_out_blocks = fmax(s->var_out_blocks, mem_least_var((double)s->out_blocks, run_max / fmax(omean, 1),
								       (double)m->blocks_outstanding));
		s->var_peak_bytes = fmax(s->var_peak_bytes, mem_least_var((double)s->peak_bytes, run_max, (double)m->peak_heap));
		m->unattributed -= s->bytes;
		m->unattributed_out -= s->out_bytes;
		m->unattributed_peak -= s->peak_bytes;
		m->var_sum += s->var_bytes;
		m->var_out_sum += s->var_out_bytes;
		m->var_peak_sum += s->var_peak_bytes;
	}
}

static int mem_build_report(struct run *r, struct launch *l, struct mem_report *m, double duration)
{
	int sfd = bpf_map__fd(MR(r)->skel->maps.mem_stats), rfd = bpf_map__fd(MR(r)->skel->maps.mem_rss);
	int bfd = bpf_map__fd(MR(r)->skel->maps.mem_blocks);
	struct key_scratch *ks = malloc(sizeof(*ks));
	struct strmap *ids = strmap__new(), *by_frames = strmap__new();
	struct mem_key key, next, *prev;
	struct timespec now_ts;
	double scale, now_ns;
	uint64_t bkey, bnext, *bprev, c[EBPROF_MEM_COUNTERS];
	size_t i;
	int err = -ENOMEM, k;
	char comm[32];
	bool ip = MR(r)->preload, peak_first = false;
	uint64_t peak_seq = ip ? preload.shm->peak_seq : 0;

	if (!ks || !ids || !by_frames)
		goto out;
	m->duration = duration;
	mem_estimate(r, m);
	mem_counters_all(r, c);
	pr_debug("mem: probes on %.3f s of %.3f s in %d windows; %lu entries, %lu nested, %lu other returns; traps while not counting: %lu entries, %lu returns, %lu frees\n",
		 MR(r)->on_total, duration, MR(r)->budget.windows, (unsigned long)c[EBPROF_MEM_ENTRIES],
		 (unsigned long)c[EBPROF_MEM_NESTED], (unsigned long)c[EBPROF_MEM_RET_OTHER],
		 (unsigned long)c[EBPROF_MEM_OFF_ENTRY], (unsigned long)c[EBPROF_MEM_OFF_RET],
		 (unsigned long)c[EBPROF_MEM_OFF_FREE]);
	pr_debug("mem: target CPU %.3f s on, %.3f s off; probes cost %.3f s on (BPF %.3f s), %.3f s off; %lu allocations seen\n",
		 MR(r)->budget.on_cpu, MR(r)->budget.off_cpu, MR(r)->budget.cost_on, MR(r)->budget.bpf_ns_mark / 1e9,
		 MR(r)->budget.cost_off, (unsigned long)c[EBPROF_MEM_ALLOCS]);
	scale = m->scale;
	m->leaks = r->o->mem.leaks;
	m->min_age = r->o->mem.min_age;
	m->nprobes = MR(r)->nprobes;
	m->overhead_pct = r->o->mem.exact ? 0 : r->o->mem.overhead;
	m->rss_now_kib = MR(r)->rss_kib;
	m->rss_peak_kib = MR(r)->hwm_kib;
	if (l->pid && l->done && l->ru.ru_maxrss > 0)
		m->rss_peak_kib = l->ru.ru_maxrss;
	if (m->rss_now_kib > m->rss_peak_kib)
		m->rss_peak_kib = m->rss_now_kib;
	m->lost_blocks = c[EBPROF_MEM_LOST_BLOCKS];
	m->unseen_frees = c[EBPROF_MEM_UNSEEN_FREES] * scale;
	m->check_late = MR(r)->late_taken;
	m->late_frees = c[EBPROF_MEM_FREES] - MR(r)->late_frees0;
	m->late_unseen = c[EBPROF_MEM_UNSEEN_FREES] - MR(r)->late_unseen0;
	snprintf(m->py_inlined, sizeof(m->py_inlined), "%s", MR(r)->py_inlined);
	m->py_inlined_sites = MR(r)->py_inlined_sites;
	m->final_frees = c[EBPROF_MEM_FINAL_FREES] * scale;
	m->final_allocs = c[EBPROF_MEM_FINAL_ALLOCS] * scale;
	m->final_bytes = c[EBPROF_MEM_FINAL_BYTES] * scale;
	m->finalized = MR(r)->skel->bss->mem_final;
	m->not_loaded = MR(r)->not_loaded;
	m->not_loaded_why = MR(r)->not_loaded_why;
	m->not_loaded_at = MR(r)->not_loaded_at;
	m->children = MR(r)->children;
	/* found at the end: nothing probed, its counts not exact but floors (of nothing) */
	if (m->not_loaded && m->not_loaded_at < 0) {
		m->exact = false;
		m->floor_only = true;
	}
	/* a command traced from its start, every call: every block freed was seen allocated */
	m->check_frees = l->pid && m->exact;
	m->lost_stacks = c[EBPROF_MEM_LOST_STACKS];
	m->allocs = c[EBPROF_MEM_ALLOCS] * scale;
	m->frees = c[EBPROF_MEM_FREES] * scale;
	m->bytes = c[EBPROF_MEM_BYTES] * scale;
	m->faults = c[EBPROF_MEM_FAULTS];
	for (k = 0; k < 64; k++)
		m->hist[k] = c[EBPROF_MEM_HIST + k] * scale;

	if (ip)
		preload_totals(r, m);
	prev = NULL;
	while (!bpf_map_get_next_key(sfd, prev, &next)) {
		struct mem_stats st;
		struct mem_site *site;
		long si;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(sfd, &key, &st))
			continue;
		si = mem_site(r, m, ids, by_frames, &key, ks);
		if (si < 0)
			goto out;
		site = &m->sites[si];
		if (ip) {
			/* the samples' weights: estimates, the counts in EBMEM_COUNT_ONE, their variances in 256ths */
			site->allocs += llround(st.allocs / EBMEM_COUNT_ONE);
			site->bytes += st.bytes;
			site->frees += llround(st.frees / EBMEM_COUNT_ONE);
			site->bytes_freed += st.bytes_freed;
			site->samples += st.samples;
			site->var_bytes += st.var_bytes;
			/* its blocks freed since the peak that were held at it (none: freed before, or none held) */
			if (peak_seq && st.peak_seq == peak_seq) {
				site->peak_blocks += llround(st.peak_count / EBMEM_COUNT_ONE);
				site->peak_bytes += st.peak_bytes;
				site->var_peak_bytes += st.peak_var;
			}
			continue;
		}
		site->allocs += st.allocs * scale;
		site->bytes += st.bytes * scale;
		site->frees += st.frees * scale;
		site->bytes_freed += st.bytes_freed * scale;
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
		si = mem_site(r, m, ids, by_frames, &key, ks);
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
		uint64_t nb, bb;

		bkey = bnext;
		bprev = &bkey;
		if (bpf_map_lookup_elem(bfd, &bkey, &b))
			continue;
		si = mem_site(r, m, ids, by_frames, &b.key, ks);
		if (si < 0)
			goto out;
		if (ip) {
			/* a sampled block: what it stands for */
			nb = llround(b.w.count / EBMEM_COUNT_ONE);
			bb = b.w.bytes;
			m->sites[si].var_out_bytes += b.w.var_bytes;
			/* held at the end, and at the peak if made before it */
			if (peak_seq && b.w.seq < peak_seq) {
				m->sites[si].peak_blocks += nb;
				m->sites[si].peak_bytes += bb;
				m->sites[si].var_peak_bytes += b.w.var_bytes;
			}
		} else {
			nb = 1;
			bb = b.size;
			m->blocks_outstanding++;
			m->bytes_outstanding += b.size;
		}
		m->sites[si].out_blocks += nb;
		m->sites[si].out_bytes += bb;
		age = (now_ns - (double)b.ts) / 1e9;
		if (age >= m->min_age) {
			m->sites[si].leak_blocks += nb;
			m->sites[si].leak_bytes += bb;
			if (age > m->sites[si].oldest_s)
				m->sites[si].oldest_s = age;
		}
	}
	if (ip)
		preload_bounds(m);
	/*
	 * The sites as stacks with pprof's heap values: weighted for folded
	 * and SVG by bytes (or allocations, --count), the first value; then
	 * what they held at the peak, where known
	 */
	m->prof->meta.mode = "mem";
	{
		static const struct profile_value by_bytes[] = {
			{ "alloc_space", "bytes" }, { "alloc_objects", "count" },
			{ "inuse_space", "bytes" }, { "inuse_objects", "count" },
			{ "peak_space", "bytes" }, { "peak_objects", "count" },
		}, by_count[] = {
			{ "alloc_objects", "count" }, { "alloc_space", "bytes" },
			{ "inuse_objects", "count" }, { "inuse_space", "bytes" },
			{ "peak_objects", "count" }, { "peak_space", "bytes" },
		};
		const struct profile_value *by = r->o->mem.count ? by_count : by_bytes;
		struct profile_value v[6];

		if (r->o->mem.peak && !m->peak_sites)
			pr_warn("no peak heap by stack (the command ran without ebprof's interposer): stacks weighed by what they allocated\n");
		/* --peak: the peak's pair first, then the rest in order (as the values below) */
		peak_first = r->o->mem.peak && m->peak_sites;
		memcpy(v, by + (peak_first ? 4 : 0), 2 * sizeof(v[0]));
		memcpy(v + 2, by + (peak_first ? 0 : 2), 4 * sizeof(v[0]));
		err = profile__set_values(m->prof, m->peak_sites ? 6 : 4, v);
	}
	if (err)
		goto out;
	for (i = 0; i < m->nsites; i++) {
		const struct mem_site *s = &m->sites[i];
		uint64_t v[PROFILE_MAX_VALUES] = { s->bytes, s->allocs, s->out_bytes, s->out_blocks, s->peak_bytes,
						   s->peak_blocks };

		if (r->o->mem.count) {
			v[0] = s->allocs, v[1] = s->bytes;
			v[2] = s->out_blocks, v[3] = s->out_bytes;
			v[4] = s->peak_blocks, v[5] = s->peak_bytes;
		}
		if (peak_first) {
			/* the peak's pair first, then the rest in order */
			uint64_t p0 = v[4], p1 = v[5];

			memmove(v + 2, v, 4 * sizeof(v[0]));
			v[0] = p0, v[1] = p1;
		}
		if (!v[0])
			continue;
		proc_comm(s->tgid, comm, sizeof(comm));
		err = profile__addv(m->prof, s->tgid, 0, comm, s->frames, s->nframes, v);
		if (err)
			goto out;
	}
	err = profile__finish(m->prof);
out:
	free(ks);
	strmap__free(ids);
	strmap__free(by_frames);
	return err;
}


/* its ops (run.h) */

static int mem_open(struct run *r)
{
	struct mem_run *mr = calloc(1, sizeof(*mr));

	r->mode = mr;
	if (!mr) {
		pr_err("out of memory\n");
		return 1;
	}
	mr->rss_kib = mr->hwm_kib = -1;
	mr->stats_fd = -1;
	mr->uf.scan = scan_file;
	mr->uf.ctx = r;
	mr->skel = mem_bpf__open();
	if (!mr->skel) {
		pr_err("cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	r->b = SESSION_BPF(mr->skel);
	return 0;
}

static int mem_configure(struct run *r)
{
	struct mem_run *mr = MR(r);
	int pid = run_target_pid(r);

	if (!r->dwarf) {
		pr_err("ebprof mem needs bpf_loop (kernel 5.17) and unwind tables (not --fp)\n");
		return EXIT_NOFEATURE;
	}
	mr->pid = pid;
	if (preload.shm && r->l && r->l->pid && r->o->mem.preload) {
		mem_preload_target(&preload, pid);
		mr->preload = true;
	}
	/* a command gets ebprof's environment at its exec; /proc shows what ebprof started with */
	if (r->l && r->l->pid)
		mr->py_via_malloc = getenv("PYTHONMALLOC") && !strcmp(getenv("PYTHONMALLOC"), "malloc");
	else
		mr->py_via_malloc = proc_environ_has(pid, "PYTHONMALLOC=malloc");
	mr->skel->rodata->targ_mem_tgid = pid;
	mr->base_ok = proc_times(pid, &mr->base_user0, &mr->base_sys0);
	mem_programs(r);
	return 0;
}

/* the probes on the allocator functions: from the start, or once a command runs without the interposer */
static int probes_start(struct run *r, char **cmd)
{
	struct mem_run *mr = MR(r);
	int pid = mr->pid, err;

	mem_calibrate(r);
	/* a command is not started yet: its one task, and those it starts */
	err = task_counter__open(&mr->cpu_clock, pid, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, !cmd, true);
	if (err == -ESRCH)
		pr_debug("mem: pid %d ended before its CPU time could be counted\n", pid);
	else if (err)
		pr_warn("cannot count the CPU time of pid %d: %s\n", pid, strerror(-err));
	uprobe_files__command(&mr->uf, cmd, false);
	mem_scan(r, pid);
	if (!mr->nprobes)
		pr_warn("no allocator functions found in pid %d: page faults and mappings only\n", pid);
	if (!r->o->mem.exact && !mr->multi)
		pr_warn("this kernel has no uprobe.multi links (6.6): the probes go off one by one, a grace period each, so the budget allows few windows and the estimates are rough; --exact counts exactly\n");
	if (!r->o->mem.exact) {
		/* what the probes' programs cost, for the budget */
		mr->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		mr->budget.cpu0 = mr->budget.cpu_mark = target_cpu(r);
		mr->budget.min_on = MEM_MIN_ON;
	}
	/* a command has not run yet: no untraced time to go by */
	mr->base_ok = mr->base_ok && !cmd && proc_times(pid, &mr->base_user, &mr->base_sys);
	mem_probes_on(r);
	return 0;
}

/* the interposer's markers probed (every process that maps it; the programs keep to the target) */
static int preload_start(struct run *r)
{
	static const char *const fns[2] = { EBMEM_SAMPLE_FN, EBMEM_FREE_FN };
	struct mem_run *mr = MR(r);
	struct bpf_program *progs[2] = { mr->skel->progs.eb_mem_smp_alloc, mr->skel->progs.eb_mem_smp_free };
	int i;

	/*
	 * the markers' getppid by its tracepoint (a system call, ~1 us here),
	 * rather than their uprobes (a trap, 6-19 us); the uprobes tested
	 * by EBPROF_TEST_MEM_UPROBE_MARKERS
	 */
	if (!getenv("EBPROF_TEST_MEM_UPROBE_MARKERS")) {
		mr->marker_links[0] = bpf_program__attach(mr->skel->progs.eb_mem_smp_sys);
		if (mr->marker_links[0]) {
			__atomic_store_n(&preload.shm->by_syscall, 1, __ATOMIC_RELEASE);
			pr_debug("mem: the markers tell by getppid\n");
			mr->probes_t0 = now_sec();
			return 0;
		}
		pr_warn("cannot trace the getppid system call (%s): the samples' stacks are taken by uprobes, ~10x the cost each\n",
			strerror(errno));
	}
	pr_debug("mem: the markers' uprobes\n");
	for (i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = fns[i]);

		mr->marker_links[i] = bpf_program__attach_uprobe_opts(progs[i], -1, preload.lib, 0, &uo);
		if (!mr->marker_links[i]) {
			pr_err("cannot probe ebprof's allocation counter (%s in %s): %s\n", fns[i], preload.lib,
			       strerror(errno));
			return 1;
		}
	}
	mr->probes_t0 = now_sec();
	return 0;
}

static int mem_start(struct run *r)
{
	if (MR(r)->preload)
		return preload_start(r);
	return probes_start(r, r->l->pid ? r->o->cmd : NULL);
}

/*
 * The interposer's samples so far gone from the maps, with the counts its
 * markers' programs keep: what the probes count from now on is theirs
 * alone (the interposer's totals go with it; its samples' weights are not
 * the probes' counts; the program they were taken in may be gone)
 */
static void preload_forget(struct run *r)
{
	static const __u32 marked[] = { EBPROF_MEM_ALLOCS, EBPROF_MEM_FREES, EBPROF_MEM_LOST_BLOCKS,
					EBPROF_MEM_LOST_STACKS, EBPROF_MEM_UNSEEN_FREES, EBPROF_MEM_HITS_ENTRY,
					EBPROF_MEM_HITS_FREE };
	int ncpu = libbpf_num_possible_cpus() > 0 ? libbpf_num_possible_cpus() : 1;
	int fds[2] = { bpf_map__fd(MR(r)->skel->maps.mem_stats), bpf_map__fd(MR(r)->skel->maps.mem_blocks) };
	__u64 *zero = calloc(ncpu, sizeof(__u64));
	struct mem_key key;
	__u64 addr;
	size_t i;

	while (!bpf_map_get_next_key(fds[0], NULL, &key))
		if (bpf_map_delete_elem(fds[0], &key))
			break;
	while (!bpf_map_get_next_key(fds[1], NULL, &addr))
		if (bpf_map_delete_elem(fds[1], &addr))
			break;
	for (i = 0; zero && i < sizeof(marked) / sizeof(marked[0]); i++)
		bpf_map_update_elem(bpf_map__fd(MR(r)->skel->maps.mem_counters), &marked[i], zero, BPF_ANY);
	free(zero);
}

/* why (a warning's present, a report's past) */
#define WHY_NOT_LOADED "LD_PRELOAD cleared, or a static program"
#define WHY_SHADOWED "a program that defines malloc itself, where its calls go"

/*
 * A command that runs without the interposer after all (*why*): the
 * probes instead, from now on; or, at its end (*ended*), nothing counted
 * since
 */
static void preload_fallback(struct run *r, const char *why, bool ended)
{
	struct mem_run *mr = MR(r);
	int i;

	if (ended)
		pr_warn("pid %d ran without ebprof's allocation counter (%s): its allocations were not counted\n", mr->pid,
			why);
	else
		pr_warn("pid %d runs without ebprof's allocation counter (%s): its allocator functions are probed from now on, within --overhead\n",
			mr->pid, why);
	for (i = 0; i < 2; i++) {
		bpf_link__destroy(mr->marker_links[i]);
		mr->marker_links[i] = NULL;
	}
	mr->preload = false;
	preload_forget(r);
	mr->not_loaded = true;
	mr->not_loaded_why = why;
	mr->not_loaded_at = ended ? -1 : now_sec() - mr->probes_t0;
	mem_preload_cleanup(&preload);
	if (!ended)
		probes_start(r, NULL);
}

static void mem_announce(struct run *r, double attach_ms)
{
	if (MR(r)->preload)
		pr_info("tracing the allocations of pid %d (every call counted by ebprof's interposer, stacks sampled %s), attached in %.1f ms; Ctrl-C to stop\n",
			MR(r)->pid, r->o->mem.sample_bytes ? "by bytes allocated (--sample-bytes)" : "at up to 500 a second",
			attach_ms);
	else
		pr_info("tracing the allocations of pid %d (%zu allocator functions, %s), attached in %.1f ms; Ctrl-C to stop\n",
			MR(r)->pid, MR(r)->nprobes, r->o->mem.exact ? "every call" : "within the overhead budget", attach_ms);
}

static void mem_new_code(struct run *r, int tgid)
{
	if (MR(r)->preload)
		return;
	mem_scan(r, tgid);
}

/* the budget is looked at every ms while the probes are on, every 10 ms while off */
static int mem_poll_ms(struct run *r)
{
	if (r->o->mem.exact || MR(r)->preload)
		return 100;
	return MR(r)->probes_on ? 1 : 10;
}

#define MEM_RATE_WINDOW 2.0	/* seconds traced the rate is measured over */

/*
 * The traps' cost read again in the window.  The programs' time while it
 * reads is left out of the target's books: ours would count as its, and
 * leaving its own out too (~1 % of the window) errs low, as a floor may.
 */
static void rate_calibrate(struct run *r)
{
	uint64_t ns = mem_bpf_ns(r);

	mem_calibrate(r);
	MR(r)->rate_bpf_ns0 += mem_bpf_ns(r) - ns;
}

/*
 * --exact traps every call: on a busy server that can slow it a
 * hundredfold.  Measured over the first two seconds traced (or less, at
 * the end), said in one line when it is over 10 %.  The slowdown said is a
 * floor: the target's CPU time over the most its own work can be, the
 * least of two bounds.  One is its CPU time less the traps' cost, taken
 * at the low end of its calibration (the least of three readings, at the
 * start, mid-way and at the end).  The other, for -p: its time in user
 * mode while traced (the traps run in the kernel), over the share of user
 * mode in its time before the probes went on (it did its own work in the
 * kernel too), each at the far end of its sampling error (the kernel's
 * tick splits them) and widened by the two clock ticks a reading of
 * /proc/PID/stat can be off.
 */
static void mem_exact_rate(struct run *r, bool final)
{
	struct mem_run *mr = MR(r);
	double *cost = mr->cost, now = now_sec(), spent = 0, cpu, work, most;
	double user = 0, sys, tick = 1.0 / sysconf(_SC_CLK_TCK), ktick = 0;
	struct timespec res;
	uint64_t sum[EBPROF_MEM_COUNTERS], calls = 0;
	int k;

	if (!r->o->mem.exact || mr->rate_said || (final && !mr->rate_t0))
		return;
	if (!mr->rate_t0) {
		mem_counters_all(r, sum);
		/* the programs' own time too (the stack walks): statistics on for the while */
		if (mr->stats_fd < 0)
			mr->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		mr->rate_t0 = now;
		mr->rate_cpu0 = target_cpu(r);
		if (!proc_times(mr->pid, &mr->rate_user0, &sys))
			mr->base_ok = false;
		mr->rate_bpf_ns0 = mem_bpf_ns(r);
		for (k = 0; k < 3; k++)
			mr->rate_hits0[k] = sum[EBPROF_MEM_HITS_ENTRY + k];
		return;
	}
	if (now - mr->rate_t0 < (final ? 0.2 : MEM_RATE_WINDOW)) {
		/* the traps' cost read again, mid-way and at the end: the least reading */
		if (!final && !mr->rate_recal && now - mr->rate_t0 >= MEM_RATE_WINDOW / 2) {
			rate_calibrate(r);
			mr->rate_recal = true;
		}
		return;
	}
	mr->rate_said = true;
	rate_calibrate(r);
	now = now_sec();
	mem_counters_all(r, sum);
	cpu = target_cpu(r) - mr->rate_cpu0;
	if (mr->base_ok && !proc_times(mr->pid, &user, &sys))
		mr->base_ok = false;
	spent = (mem_bpf_ns(r) - mr->rate_bpf_ns0) / 1e9;
	if (mr->stats_fd >= 0) {
		close(mr->stats_fd);
		mr->stats_fd = -1;
	}
	for (k = 0; k < 3; k++) {
		uint64_t hits = sum[EBPROF_MEM_HITS_ENTRY + k] - mr->rate_hits0[k];

		spent += hits * cost[k];
		if (k != 1)	/* returns: the same calls as their entries */
			calls += hits;
	}
	work = cpu - spent;
	if (spent < 0.1 * (work > 0 ? work : 0) || !calls || cpu <= 0)
		return;
	{
		struct mem_rate m = { .cpu = cpu, .spent = spent, .user = user - mr->rate_user0, .tick = tick,
				      .base_user = mr->base_user - mr->base_user0, .base_sys = mr->base_sys - mr->base_sys0 };

		/* the coarse clocks move once a tick: their resolution is 1/HZ */
		if (!clock_getres(CLOCK_MONOTONIC_COARSE, &res))
			ktick = res.tv_sec + res.tv_nsec / 1e9;
		m.ktick = ktick > 0 && ktick <= 0.01 ? ktick : 0.01;

		if (!mr->base_ok)
			m.base_user = m.user = -1;
		most = mem_work_most(&m);
	}
	pr_debug("mem: --exact over %.2f s: %.3f CPU s, traps %.3f s (calibrated), user mode %.3f s; its own work at most %.3f s\n",
		 now - mr->rate_t0, cpu, spent, user - mr->rate_user0, most);
	if (most <= 0.01 * cpu)
		pr_warn("--exact: pid %d makes %.0f allocator calls a second, and tracing them takes nearly all its CPU time: it runs over 100x slower while traced (Ctrl-C stops; without --exact, ebprof mem keeps within --overhead)\n",
			mr->pid, calls / (now - mr->rate_t0));
	else
		pr_warn("--exact: pid %d makes %.0f allocator calls a second, and tracing them takes at least %.0f %% of its CPU time: it runs at least %.1fx slower while traced (Ctrl-C stops; without --exact, ebprof mem keeps within --overhead)\n",
			mr->pid, calls / (now - mr->rate_t0), 100 * (1 - most / cpu), cpu / most);
}

/* does pid *pid* map the interposer's library?  (true when its maps cannot be read: no news) */
static bool maps_preload(int pid)
{
	struct map_entry *e = NULL;
	bool found = false;
	size_t n = 0, i;

	if (procmaps_read(pid, &e, &n))
		return true;
	for (i = 0; i < n && !found; i++)
		found = !strcmp(e[i].path, preload.lib);
	free(e);
	return found;
}

/*
 * The interposer counts from the command's first allocation: not loaded a
 * second into the run, it is not there (a static program, LD_PRELOAD
 * cleared before).  The command may also run another program in its
 * place (exec) without it (env -u LD_PRELOAD ...): more programs run
 * (the session's exec events) than it was loaded into (it counts them),
 * and its maps are looked at once the loader has had its moment.  Either
 * way, the probes from then on.
 */
static void preload_check(struct run *r, double now)
{
	struct mem_run *mr = MR(r);

	if (!mem_preload_loaded(&preload)) {
		if (now - mr->probes_t0 > 1.0)
			preload_fallback(r, WHY_NOT_LOADED, false);
		return;
	}
	if (__atomic_load_n(&preload.shm->shadowed, __ATOMIC_RELAXED)) {
		preload_fallback(r, WHY_SHADOWED, false);
		return;
	}
	/* every program it ran (mem_event) loaded it */
	if (mr->execs <= __atomic_load_n(&preload.shm->loads, __ATOMIC_ACQUIRE)) {
		mr->exec_at = 0;
		return;
	}
	if (!mr->exec_at) {
		mr->exec_at = now;
	} else if (now - mr->exec_at > 0.3) {
		if (!maps_preload(mr->pid))
			preload_fallback(r, WHY_NOT_LOADED, false);
		mr->exec_at = 0;
	}
}

static int mem_tick(struct run *r)
{
	double now = now_sec();

	/* VmHWM keeps the peak: ten looks a second are enough */
	if (now - MR(r)->rss_polled >= 0.1) {
		mem_poll_rss(r);
		MR(r)->rss_polled = now;
	}
	if (MR(r)->preload)
		preload_check(r, now);
	mem_exact_rate(r, false);
	mem_budget(r);
	/* -p, every call: the frees from here on should be of blocks seen allocated, mostly */
	if (r->o->mem.exact && !(r->l && r->l->pid) && !MR(r)->late_taken && MR(r)->probes_t0 &&
	    now - MR(r)->probes_t0 >= MEM_LATE_S) {
		uint64_t sum[EBPROF_MEM_COUNTERS];

		mem_counters_all(r, sum);
		MR(r)->late_frees0 = sum[EBPROF_MEM_FREES];
		MR(r)->late_unseen0 = sum[EBPROF_MEM_UNSEEN_FREES];
		MR(r)->late_taken = true;
	}
	return 0;
}

/* a free its thread still held: the block goes, its stack's stats take it back (as BPF's smp_release) */
static void preload_free_told(void *ctx, uint64_t block, uint64_t id, uint64_t seq)
{
	struct run *r = ctx;
	int bfd = bpf_map__fd(MR(r)->skel->maps.mem_blocks), sfd = bpf_map__fd(MR(r)->skel->maps.mem_stats);
	uint64_t peak = preload.shm->peak_seq;
	struct mem_block b;
	struct mem_stats st;

	if (bpf_map_lookup_elem(bfd, &block, &b) || b.w.id != id)
		return;
	if (!bpf_map_lookup_elem(sfd, &b.key, &st)) {
		st.frees += b.w.count;
		st.bytes_freed += b.w.bytes;
		if (peak && peak != st.peak_seq) {
			st.peak_seq = peak;
			st.peak_count = st.peak_bytes = st.peak_var = 0;
		}
		if (peak && b.w.seq < peak && peak <= seq) {
			st.peak_count += b.w.count;
			st.peak_bytes += b.w.bytes;
			st.peak_var += b.w.var_bytes;
		}
		bpf_map_update_elem(sfd, &b.key, &st, BPF_EXIST);
	}
	bpf_map_delete_elem(bfd, &block);
}

/*
 * an exec of the target (held until this is seen, so before the program it
 * runs loads anything), or a child it forked
 */
static void mem_event(struct run *r, const struct ebprof_event *e)
{
	if (e->type == EBPROF_EV_EXEC && (int)e->tgid == MR(r)->pid)
		MR(r)->execs++;
	else if (e->type == EBPROF_EV_FORK && (int)e->ppid == MR(r)->pid)
		MR(r)->children++;
}

static void mem_stop(struct run *r)
{
	/*
	 * A program run and gone between two looks: with its own allocator,
	 * or without the interposer (more programs than it was loaded into)
	 */
	if (MR(r)->preload && __atomic_load_n(&preload.shm->shadowed, __ATOMIC_RELAXED))
		preload_fallback(r, WHY_SHADOWED, true);
	else if (MR(r)->preload && MR(r)->execs > __atomic_load_n(&preload.shm->loads, __ATOMIC_ACQUIRE))
		preload_fallback(r, WHY_NOT_LOADED, true);
	if (MR(r)->preload) {
		/* the markers' programs gone first: what is left is read alone */
		bpf_link__destroy(MR(r)->marker_links[0]);
		bpf_link__destroy(MR(r)->marker_links[1]);
		MR(r)->marker_links[0] = MR(r)->marker_links[1] = NULL;
		mem_preload_pending(&preload, preload_free_told, r);
	}
	mem_poll_rss(r);
	mem_exact_rate(r, true);
	if (!r->o->mem.exact && !MR(r)->preload)
		mem_books(r, true);
	mem_probes_off(r);
	mem_detach_wait(r);
}

static void mem_destroy(struct run *r)
{
	struct mem_run *mr = MR(r);

	if (!mr)
		return;
	if (mr->skel) {
		mem_probes_off(r);
		mem_detach_wait(r);
	}
	bpf_link__destroy(mr->final_link);
	bpf_link__destroy(mr->marker_links[0]);
	bpf_link__destroy(mr->marker_links[1]);
	mem_preload_cleanup(&preload);
	free(mr->probes);
	free(mr->files);
	uprobe_files__free(&mr->uf);
	free(mr->batch_keys);
	free(mr->batch_vals);
	task_counter__close(&mr->cpu_clock);
	if (mr->stats_fd >= 0)
		close(mr->stats_fd);
	mem_bpf__destroy(mr->skel);
	free(mr);
	r->mode = NULL;
}

static int mem_report(struct run *r, double duration, struct profile **out)
{
	struct mem_report *m = calloc(1, sizeof(*m));
	struct profile *p = r->p;
	int err;

	if (!m) {
		pr_err("out of memory\n");
		return 1;
	}
	snprintf(m->target, sizeof(m->target), "%s", p->meta.target);
	pr_debug("python: %lu stacks, %lu without a thread state, %lu lost, %lu truncated, %lu read errors\n",
		 (unsigned long)p->meta.py_samples, (unsigned long)p->meta.py_no_tstate,
		 (unsigned long)profile__lost(p, "python_stacks"), (unsigned long)profile__lost(p, "python_truncated"),
		 (unsigned long)profile__lost(p, "python_read_errors"));
	m->lost_ustacks = profile__lost(p, "user_stacks");
	m->lost_pystacks = profile__lost(p, "python_stacks");
	/* the profile owns the report from here */
	m->prof = p;
	p->ext = m;
	p->ext_free = mem_report__free;
	p->ext_lines = mem_render_lines;
	err = mem_build_report(r, r->l, m, duration);
	if (err) {
		pr_err("cannot build the memory report: %s\n", strerror(-err));
		return 1;
	}
	*out = p;
	r->p = NULL;
	return 0;
}

/*
 * A CPython launched, unless the user chose its allocator (PYTHONMALLOC).
 * With the interposer, its object allocator is wrapped by it (pymalloc
 * kept, each block 16 bytes larger: ebmem.c).  With the probes, it is
 * made to call libc's malloc (PYTHONMALLOC=malloc): builds with link-time
 * optimisation (Debian's, Ubuntu's, Fedora's) inline PyObject_Malloc and
 * pymalloc into their callers, where no probe sees them; through malloc
 * every allocation is seen, once (the Python allocators, which then only
 * forward to it, are not probed).  Objects then come from libc, not
 * pymalloc's arenas (slower; the counts are what the program asks for).
 * Either changes how the program allocates: said, not only with -v.
 */
static void py_before_launch(const char *path, bool preloaded)
{
	struct dso *d;
	int fd;

	if (getenv("PYTHONMALLOC"))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	d = dso__new_fd(fd, path, "");
	if (d && dso__mentions(d, "Py_BytesMain")) {
		if (preloaded) {
			/* PYTHONDEVMODE: its debug hooks in place of the wrapper, which the report says */
			if (!getenv("PYTHONDEVMODE") || !*getenv("PYTHONDEVMODE"))
				fprintf(stderr, "ebprof: %s is CPython: ebprof's counter wraps its object allocator (pymalloc kept; each block 16 bytes larger)\n",
					path);
		} else {
			setenv("PYTHONMALLOC", "malloc", 1);
			fprintf(stderr, "ebprof: %s is CPython: it runs with PYTHONMALLOC=malloc so that every allocation is seen (objects from libc's malloc, not pymalloc's arenas; set PYTHONMALLOC to choose)\n",
				path);
		}
	}
	dso__free(d);
}

static void preload_at_exit(void)
{
	mem_preload_cleanup(&preload);
}

static void mem_before_launch(const struct ebprof_opts *o, const char *path)
{
	const char *why;
	int err;

	if (!o->mem.preload) {
		py_before_launch(path, false);
		return;
	}
	why = mem_preload_refusal(path);
	if (why) {
		pr_warn("%s cannot run with ebprof's allocation counter (%s): its allocator functions are probed instead, within --overhead\n",
			path, why);
		py_before_launch(path, false);
		return;
	}
	err = mem_preload_setup(&preload, o->mem.sample_bytes ? o->mem.sample_bytes : 1, !o->mem.sample_bytes);
	if (err) {
		pr_warn("cannot set up ebprof's allocation counter in /tmp: %s: the allocator functions are probed instead, within --overhead\n",
			strerror(-err));
		py_before_launch(path, false);
		return;
	}
	atexit(preload_at_exit);
	py_before_launch(path, true);
}

const struct mode_ops mem_mode = {
	.name = "mem",
	.before_launch = mem_before_launch,
	.open = mem_open,
	.configure = mem_configure,
	.start = mem_start,
	.announce = mem_announce,
	.new_code = mem_new_code,
	.event = mem_event,
	.poll_ms = mem_poll_ms,
	.tick = mem_tick,
	.stop = mem_stop,
	.report = mem_report,
	.render = mem_render,
	.destroy = mem_destroy,
};
