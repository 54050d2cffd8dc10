// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mode_cpu.c - ebprof's on-CPU mode (bpf/cpu.bpf.c): a perf event per
 * CPU runs the sampler, which counts (process, stacks) in a map; drains
 * move the counts of one epoch into the profile while the sampler fills
 * the other, and processes gone with -a are forgotten after two drains.
 */
#include <malloc.h>
#include <errno.h>
#include <linux/membarrier.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "run.h"
#include "cpu.skel.h"
#include "ebprof.h"
#include "sym/symbolizer.h"
#include "util/grow.h"
#include "util/log.h"
#include "util/strmap.h"

struct cpu_mode {
	struct cpu_bpf *skel;
	struct bpf_program *prog;	/* the sampler in use */
	struct bpf_link **links;	/* a perf event per CPU and event, and its link */
	int *pefds;
	/* counted events: each event counted on the target's tasks, inherited by their children */
	struct task_counter counters[2];
	double jittered;	/* when the clock periods were last drawn */
	/* drains: the counts of one epoch into the profile while the samplers fill the other */
	unsigned int epoch;	/* the one they fill */
	unsigned long drains;
	double last_drain, drain_s;
	__u64 new_base;		/* EBPROF_STAT_NEW_E* of the epoch when it began */
	int first_tgid;		/* the first process a sample came from */
	double ns_per_sample;	/* a clock's mean period; 0: not a clock */
	struct exited { int tgid; unsigned long drains; } *exited;	/* -a: to forget after two drains */
	size_t nexited, exited_cap;
	struct strmap *fold;	/* exited and forgotten: their stacks to merge by command */
	double last_fold;
};

#define C(r) ((struct cpu_mode *)(r)->mode)

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

/*
 * The best sampler this kernel runs: unwind tables (bpf_loop, 5.17), our
 * frame-pointer walk (bpf_task_pt_regs, 5.15), or the kernel's.
 */
static void select_sampler(struct run *r)
{
	struct cpu_bpf *skel = C(r)->skel;
	bool regs = run_have_helper(BPF_FUNC_task_pt_regs), loop = run_have_helper(BPF_FUNC_loop);

	if (r->dwarf) {
		C(r)->prog = skel->progs.eb_cpu_dwarf;
	} else if (regs && loop) {
		C(r)->prog = skel->progs.eb_cpu_fp_loop;
	} else if (regs) {
		if (!r->o->fp)
			pr_warn("the kernel lacks bpf_loop (5.17): user stacks follow frame pointers only\n");
		C(r)->prog = skel->progs.eb_cpu_fp;
	} else {
		pr_warn("the kernel lacks bpf_task_pt_regs (5.15): user stacks by the kernel's frame-pointer walk\n");
		C(r)->prog = skel->progs.eb_cpu_compat;
	}
	bpf_program__set_autoload(skel->progs.eb_cpu_dwarf, C(r)->prog == skel->progs.eb_cpu_dwarf);
	bpf_program__set_autoload(skel->progs.eb_cpu_fp, C(r)->prog == skel->progs.eb_cpu_fp);
	bpf_program__set_autoload(skel->progs.eb_cpu_fp_loop, C(r)->prog == skel->progs.eb_cpu_fp_loop);
	bpf_program__set_autoload(skel->progs.eb_cpu_compat, C(r)->prog == skel->progs.eb_cpu_compat);
}

static int open_events(struct run *r)
{
	int attached = 0, e, n;

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
		n = run_attach_per_cpu(r, &attr, ev->name, C(r)->prog, e, C(r)->pefds + e * r->ncpus,
				       C(r)->links + e * r->ncpus);
		if (n < 0)
			return -1;
		attached += n;
	}
	return attached ? 0 : -1;
}

/*
 * Counted events: their counts now are where the target's start, so a first
 * sample does not take in the events before it (ebprof's own, say).
 */
static void mark_events_start(struct run *r)
{
	int fd = bpf_map__fd(C(r)->skel->maps.ev_start), e, cpu;

	for (e = 0; e < r->o->nevents; e++)
		for (cpu = 0; cpu < r->ncpus; cpu++) {
			__u32 k = 2 * cpu + e;
			__u64 count;

			if (C(r)->pefds[e * r->ncpus + cpu] >= 0 &&
			    read(C(r)->pefds[e * r->ncpus + cpu], &count, sizeof(count)) == sizeof(count))
				bpf_map_update_elem(fd, &k, &count, BPF_ANY);
		}
}

/* the counts into *m*, the counters closed */
static void close_counters(struct run *r, struct profile_meta *m)
{
	int e;

	if (m && C(r)->counters[0].n)
		m->counted = true;
	for (e = 0; e < 2; e++) {
		if (m && C(r)->counters[e].n && task_counter__read(&C(r)->counters[e], &m->counted_events[e]))
			m->counted = false;
		task_counter__close(&C(r)->counters[e]);
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
static void open_counters(struct run *r, struct launch *l)
{
	int i, e, err = 0;

	for (e = 0; e < r->o->nevents && !r->o->all && !err; e++) {
		const struct ebprof_event_spec *ev = e ? &r->o->event2 : &r->o->event;

		if (l->pid)
			err = task_counter__open(&C(r)->counters[e], l->pid, ev->type, ev->config, false, false);
		for (i = 0; i < r->o->npids && !err; i++)
			err = task_counter__open(&C(r)->counters[e], r->o->pids[i], ev->type, ev->config, true, false);
	}
	if (err)
		close_counters(r, NULL);
}

static void jitter_periods(struct run *r)
{
	__u64 mean = 1000000000ULL / r->o->freq;
	int cpu;

	if (!r->o->event.timer || r->o->event.period || now_sec() - C(r)->jittered < JITTER_MS / 1e3)
		return;
	C(r)->jittered = now_sec();
	for (cpu = 0; cpu < r->ncpus; cpu++) {
		__u64 p = mean * (0.9 + 0.2 * drand48());

		if (C(r)->pefds[cpu] >= 0)
			ioctl(C(r)->pefds[cpu], PERF_EVENT_IOC_PERIOD, &p);
	}
}

static void close_events(struct run *r)
{
	int i;

	for (i = 0; C(r)->links && i < 2 * r->ncpus; i++) {
		bpf_link__destroy(C(r)->links[i]);
		C(r)->links[i] = NULL;
		if (C(r)->pefds[i] >= 0)
			close(C(r)->pefds[i]);
		C(r)->pefds[i] = -1;
	}
}

/* one counted key into the profile */
static int add_key(struct run *r, struct profile *p, const struct sample_key *key, __u64 count,
		   struct key_scratch *s)
{
	uint64_t v[PROFILE_MAX_VALUES] = {};
	int n, err;

	n = key_frames(r, p, key, s);
	if (n < 0)
		return n;
	if (key->ustack_hash)
		stacks_quality(p, (key->flags & EBPROF_F_END_MASK) >> EBPROF_F_END_SHIFT, s->ids, n, count);
	/* a launched command's children: shown by process */
	if (!r->o->all) {
		if (C(r)->first_tgid < 0)
			C(r)->first_tgid = key->tgid;
		else if (C(r)->first_tgid != (int)key->tgid)
			p->meta.per_process = true;
	}
	if (C(r)->ns_per_sample) {
		v[0] = count;
		v[1] = (uint64_t)(count * C(r)->ns_per_sample + 0.5);
	} else {
		v[key->event ? 1 : 0] = count;
	}
	err = profile__addv(p, key->tgid, key->tid, key->comm, s->ids, n, v);
	if (!err && r->o->lines && !key->event)
		err = stacks_count_lines(p, s->ids, s->lines, n, count);
	return err;
}

/* the counts left in the map (both epochs), then the totals */
static int build_profile(struct run *r, struct profile *p)
{
	int cfd = bpf_map__fd(C(r)->skel->maps.counts);
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
		profile__scale(p, p->meta.counted_events);
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
static int forget_exited(struct run *r, struct profile *p)
{
	size_t i, k = 0;
	int err = 0;

	for (i = 0; i < C(r)->nexited; i++) {
		if (C(r)->exited[i].drains + 2 > C(r)->drains) {
			C(r)->exited[k++] = C(r)->exited[i];
			continue;
		}
		symbolizer__forget(r->sym, C(r)->exited[i].tgid);
		if (!err && strmap__set(C(r)->fold, &C(r)->exited[i].tgid, sizeof(int), (void *)1))
			err = -ENOMEM;
	}
	C(r)->nexited = k;
	if (err || !strmap__size(C(r)->fold) ||
	    (strmap__size(C(r)->fold) < FOLD_BATCH && now_sec() - C(r)->last_fold < FOLD_S))
		return err;
	if (r->py)
		py__drop(r->py, tgid_gone, C(r)->fold);
	err = profile__fold(p, tgid_gone, C(r)->fold);
	strmap__free(C(r)->fold);
	C(r)->fold = strmap__new();
	C(r)->last_fold = now_sec();
	return err ? err : C(r)->fold ? 0 : -ENOMEM;
}

/*
 * Time for a drain: the interval is up, or the epoch has added a 16th of
 * --map-size entries to the maps (the Python stack map holds half that,
 * two epochs share each map, and a sample counted once may have added a
 * user and a Python stack).
 */
static bool drain_due(struct run *r)
{
	if (now_sec() - C(r)->last_drain >= C(r)->drain_s)
		return true;
	return run_stat_sum(r, EBPROF_STAT_NEW_E0 + C(r)->epoch) - C(r)->new_base > r->o->map_size / 16;
}

/*
 * Move the counts of the epoch the samplers fill into the profile, and
 * free their room in the maps: the samplers go on in the other epoch.  A
 * long run (-a for hours) needs maps only as large as a drain interval's
 * distinct stacks.
 */
static int drain(struct run *r, struct profile *p)
{
	int cfd = bpf_map__fd(C(r)->skel->maps.counts);
	unsigned int ep = C(r)->epoch;
	struct sample_key key, next, *prev = NULL, *del = NULL;
	struct key_scratch *s = malloc(sizeof(*s));
	struct strmap *seen = strmap__new();
	size_t n = 0, cap = 0, i;
	int err = -ENOMEM;

	if (!s || !seen)
		goto out;
	C(r)->epoch = ep ^ 1;
	C(r)->new_base = run_stat_sum(r, EBPROF_STAT_NEW_E0 + C(r)->epoch);
	C(r)->last_drain = now_sec();
	__atomic_store_n(r->b.epoch, C(r)->epoch, __ATOMIC_RELEASE);
	wait_samplers();
	run_py_catch_up(r);
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
	C(r)->drains++;
	if (!err)
		err = forget_exited(r, p);
	/*
	 * the heap in use (large blocks are mmap()ed: hblkhd), beside what
	 * grows with the stacks and functions seen: make soak watches all
	 */
	{
		struct mallinfo2 mi = mallinfo2();

		pr_info("drain %lu: %zu keys; the profile holds %zu stacks in %.1f MB; names %.1f MB; heap in use %.1f MB\n",
			C(r)->drains, n, p->nstacks, profile__bytes(p) / 1e6, symbolizer__name_bytes(r->sym) / 1e6,
			(mi.uordblks + mi.hblkhd) / 1e6);
	}
out:
	free(del);
	free(s);
	strmap__free(seen);
	return err;
}

/* a new process has the pid of one that exited: not to be forgotten */
static void exited_reused(struct run *r, int tgid)
{
	size_t i, k = 0;

	for (i = 0; i < C(r)->nexited; i++)
		if (C(r)->exited[i].tgid != tgid)
			C(r)->exited[k++] = C(r)->exited[i];
	C(r)->nexited = k;
	if (C(r)->fold)
		strmap__del(C(r)->fold, &tgid, sizeof(tgid));
}

static int cpu_open(struct run *r)
{
	struct cpu_mode *c = calloc(1, sizeof(*c));
	int i;

	r->mode = c;
	if (c) {
		c->first_tgid = -1;
		c->drain_s = DRAIN_S;
		c->links = calloc(2 * r->ncpus, sizeof(*c->links));
		c->pefds = calloc(2 * r->ncpus, sizeof(*c->pefds));
	}
	if (!c || !c->links || !c->pefds) {
		pr_err("out of memory\n");
		return 1;
	}
	for (i = 0; i < 2 * r->ncpus; i++)
		c->pefds[i] = -1;
	c->skel = cpu_bpf__open();
	if (!c->skel) {
		pr_err("cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	r->b = SESSION_BPF(c->skel);
	return 0;
}

/*
 * What a stack's values are: with a clock, its samples and the CPU time
 * they stand for (each the mean period: pprof's pair); else each event's
 * count.  And the losses of the mode's own maps, reported even when 0.
 */
static int cpu_values(struct run *r)
{
	const struct ebprof_opts *o = r->o;
	struct profile_value v[2] = { { "samples", "count" }, { "cpu", "nanoseconds" } };
	unsigned int n = 2;

	if (!o->event.timer) {
		v[0] = (struct profile_value){ o->event.name, "count" };
		v[1] = (struct profile_value){ o->nevents == 2 ? o->event2.name : "", "count" };
		n = o->nevents;
	}
	C(r)->ns_per_sample = o->event.timer ? (o->event.period ? o->event.period : 1e9 / o->freq) : 0;
	profile__loss(r->p, "counts", LOSS_SAMPLES, 0, "samples lost: the counts map is full",
		      "rerun with a larger --map-size");
	profile__loss(r->p, "kernel_skipped", LOSS_SAMPLES, 0,
		      "samples skipped by the kernel: another BPF program was running on the CPU", NULL);
	return profile__set_values(r->p, n, v) ? 1 : 0;
}

static int cpu_configure(struct run *r)
{
	const struct ebprof_opts *o = r->o;
	struct cpu_bpf *skel = C(r)->skel;

	skel->rodata->targ_per_thread = o->per_thread;
	skel->rodata->targ_kernel = !o->no_kernel;
	/* events other than clocks: each sample stands for its period's worth */
	skel->rodata->targ_weight = !o->event.timer;
	if (o->nevents == 2) {
		if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_get_attach_cookie, NULL) <= 0) {
			pr_err("sampling two events needs bpf_get_attach_cookie (kernel 5.15): give one event\n");
			return EXIT_NOFEATURE;
		}
		skel->rodata->targ_two_events = true;
	}
	bpf_map__set_max_entries(skel->maps.counts, o->map_size * 2);
	if (!o->event.timer) {
		bpf_map__set_max_entries(skel->maps.ev_last, 2 * r->ncpus);
		bpf_map__set_max_entries(skel->maps.ev_start, 2 * r->ncpus);
	}
	select_sampler(r);
	return cpu_values(r);
}

static int cpu_start(struct run *r)
{
	struct cpu_mode *c = C(r);
	/* for the tests: drains this often, racing the samplers */
	const char *d = getenv("EBPROF_TEST_DRAIN_MS");

	if (open_events(r))
		return 1;
	if (!r->o->event.timer) {
		mark_events_start(r);
		open_counters(r, r->l);
	}
	if (d)
		c->drain_s = atoi(d) / 1e3;
	c->last_drain = c->last_fold = now_sec();
	c->fold = strmap__new();
	if (!c->fold) {
		pr_err("out of memory\n");
		return 1;
	}
	return 0;
}

static void cpu_announce(struct run *r, double attach_ms)
{
	pr_info("sampling %s at %u Hz on %d CPUs, attached in %.1f ms; Ctrl-C to stop\n", r->o->event.name, r->o->freq,
		r->ncpus, attach_ms);
}

static void cpu_event(struct run *r, const struct ebprof_event *e)
{
	struct cpu_mode *c = C(r);

	if (e->type == EBPROF_EV_FORK && c->nexited) {
		exited_reused(r, e->tgid);
	} else if (e->type == EBPROF_EV_EXIT && r->o->all) {
		if (GROW(c->exited, c->nexited, c->exited_cap, 256))
			return;
		c->exited[c->nexited].tgid = e->tgid;
		c->exited[c->nexited++].drains = c->drains;
	}
}

static int cpu_poll_ms(struct run *r)
{
	(void)r;
	return JITTER_MS;
}

static int cpu_tick(struct run *r)
{
	int err;

	jitter_periods(r);
	if (!drain_due(r))
		return 0;
	err = drain(r, r->p);
	if (err)
		pr_err("cannot take in the samples: %s\n", strerror(-err));
	return err;
}

static void cpu_stop(struct run *r)
{
	if (!r->o->event.timer)
		close_counters(r, &r->p->meta);
	close_events(r);
}

/* what the profile's meta says of the sampling and the mode's losses */
static void cpu_meta(struct run *r)
{
	const struct ebprof_opts *o = r->o;
	struct profile_meta *m = &r->p->meta;
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	m->event = o->event.name;
	m->event2 = o->nevents == 2 ? o->event2.name : NULL;
	m->weighted = !o->event.timer;
	m->freq = o->event.period ? 0 : o->freq;
	/* pprof: what one sample stands for */
	if (o->event.timer) {
		m->period_type = (struct profile_value){ "cpu", "nanoseconds" };
		m->period = (uint64_t)(C(r)->ns_per_sample + 0.5);
	} else {
		m->period_type = (struct profile_value){ o->event.name, "count" };
		m->period = o->event.period;
	}
	m->per_thread = o->per_thread;
	m->per_process = m->per_process || o->all || o->npids > 1;
	/* the kernel's side: runs (with bpf_stats_enabled) and overflows it skipped */
	if (C(r)->prog && bpf_program__fd(C(r)->prog) >= 0 &&
	    !bpf_obj_get_info_by_fd(bpf_program__fd(C(r)->prog), &info, &len)) {
		m->prog_runs = info.run_cnt;
		m->prog_misses = info.recursion_misses;
	}
	profile__loss(r->p, "counts", LOSS_SAMPLES, run_stat_sum(r, EBPROF_STAT_LOST_COUNTS), NULL, NULL);
	profile__loss(r->p, "kernel_skipped", LOSS_SAMPLES, m->prog_misses, NULL, NULL);
}

/* a live front end's period: the samples so far, by a drain */
static int cpu_flush(struct run *r)
{
	int err;

	cpu_meta(r);
	err = drain(r, r->p);
	if (!err)
		err = profile__finish(r->p);
	if (err) {
		pr_err("cannot take in the samples: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}

static int cpu_report(struct run *r, double duration, struct profile **out)
{
	const struct ebprof_opts *o = r->o;
	struct profile_meta *m = &r->p->meta;
	int err;

	(void)duration;
	cpu_meta(r);
	err = build_profile(r, r->p);
	if (err) {
		pr_err("cannot build the profile: %s\n", strerror(-err));
		return 1;
	}
	/* an empty table says nothing by itself: say why it is empty */
	if (!r->p->totals[0] && o->event.timer && !o->all && C(r)->ns_per_sample > 0)
		fprintf(stderr, "ebprof: no samples in %.2f s: the target ran on a CPU for less than one sample period"
			" (%.1f ms); it was waiting or sleeping%s\n", m->duration, C(r)->ns_per_sample / 1e6,
			o->cmd ? ", or ended too soon (raise -F)" : "");
	*out = r->p;
	r->p = NULL;
	return 0;
}

static void cpu_destroy(struct run *r)
{
	struct cpu_mode *c = C(r);

	if (!c)
		return;
	close_counters(r, NULL);
	close_events(r);
	cpu_bpf__destroy(c->skel);
	free(c->links);
	free(c->pefds);
	free(c->exited);
	strmap__free(c->fold);
	free(c);
	r->mode = NULL;
}

const struct mode_ops cpu_mode = {
	.name = "cpu",
	.open = cpu_open,
	.configure = cpu_configure,
	.start = cpu_start,
	.announce = cpu_announce,
	.event = cpu_event,
	.poll_ms = cpu_poll_ms,
	.tick = cpu_tick,
	.flush = cpu_flush,
	.stop = cpu_stop,
	.report = cpu_report,
	.destroy = cpu_destroy,
};
