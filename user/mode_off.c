// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mode_off.c - ebprof off (where threads wait) and ebprof wall (where
 * their wall-clock time goes, on the CPU and off it).  off.bpf.c sums, per
 * key, the time target threads spend switched out and, for wall, the
 * on-CPU time of clock samples, in one map; this reads the sums (and the
 * switches still open at the end) into a profile whose values are times.
 * Everything else is the session's (run.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "run.h"
#include "unwind.h"
#include "off.skel.h"
#include "util/grow.h"
#include "util/log.h"

struct off_mode {
	struct off_bpf *skel;
	bool wall;			/* ebprof wall: the on-CPU samples too */
	struct bpf_program *prog;	/* the switch program in use */
	struct bpf_link **link;		/* its link in the skeleton */
	struct bpf_program *sampler;	/* wall: the clock sampler in use */
	struct key_scratch *ws;		/* --wakers: the waker's frames */
	int *pefds;			/* wall: its perf event per CPU */
	struct bpf_link **plinks;
	__u64 t_end;			/* CLOCK_MONOTONIC ns at the stop: switches still open end here */
	struct blocked *blocked;	/* threads off the CPU at the attach, by tid: their user stacks */
	size_t nblocked;
	__u64 py_n;			/* switches (off) or samples (wall) in the profile with Python frames */
	__u64 look_ns;			/* CLOCK_MONOTONIC ns of the look for threads already off the CPU */
};

/* a thread that was off the CPU when ebprof attached: its user and Python stacks, walked here */
struct blocked {
	__u32 tid;
	__u64 ts;		/* its record's, as the look left it */
	struct run_walked w;
};

#define O(r) ((struct off_mode *)(r)->mode)

/* the frames --state puts at the root, by enum ebprof_off_reason */
static const char *const reason_frame[EBPROF_OFF_REASONS] = { "[sleeping]", "[blocked]", "[runnable]", "[on-cpu]" };

static int open_mode(struct run *r, bool wall)
{
	struct off_mode *m = calloc(1, sizeof(*m));
	int i;

	r->mode = m;
	if (m && wall) {
		m->wall = true;
		m->pefds = calloc(r->ncpus, sizeof(*m->pefds));
		m->plinks = calloc(r->ncpus, sizeof(*m->plinks));
	}
	if (!m || (wall && (!m->pefds || !m->plinks))) {
		pr_err("out of memory\n");
		return 1;
	}
	for (i = 0; wall && i < r->ncpus; i++)
		m->pefds[i] = -1;
	m->skel = off_bpf__open();
	if (!m->skel) {
		pr_err("cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	r->b = SESSION_BPF(m->skel);
	r->reuse_walks = true;
	return 0;
}

static int off_open(struct run *r)
{
	return open_mode(r, false);
}

static int wall_open(struct run *r)
{
	return open_mode(r, true);
}

/* the user-stack walk this kernel allows, as the CPU profiler picks it */
static void select_prog(struct run *r)
{
	struct off_bpf *skel = O(r)->skel;
	bool regs = run_have_helper(BPF_FUNC_task_pt_regs), loop = run_have_helper(BPF_FUNC_loop);

	if (r->dwarf) {
		O(r)->prog = skel->progs.eb_off_dwarf;
		O(r)->link = &skel->links.eb_off_dwarf;
		O(r)->sampler = skel->progs.eb_wall_dwarf;
	} else if (regs && loop) {
		O(r)->prog = skel->progs.eb_off_fp;
		O(r)->link = &skel->links.eb_off_fp;
		O(r)->sampler = skel->progs.eb_wall_fp;
	} else {
		pr_warn("the kernel lacks bpf_loop (5.17): user stacks by the kernel's frame-pointer walk\n");
		O(r)->prog = skel->progs.eb_off_compat;
		O(r)->link = &skel->links.eb_off_compat;
		O(r)->sampler = skel->progs.eb_wall_compat;
	}
	if (!O(r)->wall)
		O(r)->sampler = NULL;
	bpf_program__set_autoload(skel->progs.eb_off_waking_dwarf,
				  r->o->off.wakers && O(r)->prog == skel->progs.eb_off_dwarf);
	bpf_program__set_autoload(skel->progs.eb_off_waking_fp, r->o->off.wakers && O(r)->prog == skel->progs.eb_off_fp);
	bpf_program__set_autoload(skel->progs.eb_off_waking_compat,
				  r->o->off.wakers && O(r)->prog == skel->progs.eb_off_compat);
	bpf_program__set_autoload(skel->progs.eb_off_dwarf, O(r)->prog == skel->progs.eb_off_dwarf);
	bpf_program__set_autoload(skel->progs.eb_off_fp, O(r)->prog == skel->progs.eb_off_fp);
	bpf_program__set_autoload(skel->progs.eb_off_compat, O(r)->prog == skel->progs.eb_off_compat);
	bpf_program__set_autoload(skel->progs.eb_wall_dwarf, O(r)->sampler == skel->progs.eb_wall_dwarf);
	bpf_program__set_autoload(skel->progs.eb_wall_fp, O(r)->sampler == skel->progs.eb_wall_fp);
	bpf_program__set_autoload(skel->progs.eb_wall_compat, O(r)->sampler == skel->progs.eb_wall_compat);
	/* threads already off the CPU: -p and -a (a launched command is followed from its start); 5.15 */
	bpf_program__set_autoload(skel->progs.eb_off_blocked, !r->o->cmd && regs);
	bpf_program__set_autoattach(skel->progs.eb_off_blocked, false);
}

static int off_configure(struct run *r)
{
	const struct ebprof_opts *o = r->o;
	struct off_bpf *skel = O(r)->skel;
	static const struct profile_value off_v[] = {
		{ "off-cpu", "nanoseconds" }, { "runnable", "nanoseconds" }, { "switches", "count" },
	}, wall_v[] = {
		{ "wall", "nanoseconds" }, { "on-cpu", "nanoseconds" }, { "runnable", "nanoseconds" },
		{ "switches", "count" }, { "samples", "count" },
	};
	bool wall = O(r)->wall;

	skel->rodata->targ_per_thread = o->per_thread;
	skel->rodata->targ_kernel = !o->no_kernel;
	skel->rodata->targ_min_block_ns = (__u64)(o->off.min_block_us * 1000);
	skel->rodata->targ_sample_ns = 1000000000ULL / o->freq;
	skel->rodata->targ_wakers = o->off.wakers;
	bpf_map__set_max_entries(skel->maps.off_counts, o->off.wakers ? 1 : o->map_size * 2);
	bpf_map__set_max_entries(skel->maps.off_wcounts, o->off.wakers ? o->map_size * 2 : 1);
	bpf_map__set_max_entries(skel->maps.off_wakers, o->off.wakers ? (o->map_size < 16384 ? 16384 : o->map_size) : 1);
	/* a record per thread off the CPU at once: every thread of a busy machine can be */
	bpf_map__set_max_entries(skel->maps.off_starts, o->map_size < 16384 ? 16384 : o->map_size);
	bpf_map__set_max_entries(skel->maps.off_stats, EBPROF_OFF_STAT_MAX);
	select_prog(r);
	r->p->meta.mode = wall ? "wall" : "off";
	r->p->meta.event = wall ? "cpu-clock and sched_switch" : "sched_switch";
	profile__loss(r->p, "counts", LOSS_SAMPLES, 0, "switches not counted: the counts map is full",
		      "rerun with a larger --map-size");
	profile__loss(r->p, "starts", LOSS_SAMPLES, 0,
		      "switches not timed: more threads were off the CPU at once than the map holds",
		      "rerun with a larger --map-size");
	profile__loss(r->p, "kernel_skipped", LOSS_SAMPLES, 0,
		      "switches not seen: the kernel skipped the program (another BPF program was running on the CPU)",
		      NULL);
	return profile__set_values(r->p, wall ? 5 : 3, wall ? wall_v : off_v) ? 1 : 0;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* bpf_ktime_get_ns()'s clock */
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int by_tid(const void *a, const void *b)
{
	const struct blocked *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/*
 * Threads of the targets already off the CPU (waiting since before the
 * attach): eb_off_blocked gives each its switch-out record, from now, and
 * says where it waits; their user stacks are walked here, from their
 * memory.  Without this, a thread that waits all along (an idle worker, a
 * thread in accept()) would not be in the profile at all.
 */
static void find_blocked(struct run *r)
{
	struct off_mode *m = O(r);
	struct bpf_link *link;
	struct off_blocked b, *bs = NULL;
	struct off_start st;
	size_t cap = 0, bcap = 0, woke = 0, i;
	ssize_t got;
	int fd, sfd = bpf_map__fd(m->skel->maps.off_starts);

	if (!bpf_program__autoload(m->skel->progs.eb_off_blocked))
		return;
	m->look_ns = mono_ns();
	link = bpf_program__attach_iter(m->skel->progs.eb_off_blocked, NULL);
	fd = link ? bpf_iter_create(bpf_link__fd(link)) : -1;
	if (fd < 0) {
		pr_warn("cannot look for threads already off the CPU: %s; they count from their next switch\n",
			strerror(errno));
		bpf_link__destroy(link);
		return;
	}
	/*
	 * All the records first, the walks after: a thread's record is timed
	 * when the iterator reaches it, and the walks of one read's threads
	 * (~0.1 ms each) would otherwise make the next read's later
	 */
	while ((got = read(fd, &b, sizeof(b))) == sizeof(b)) {
		if (GROW(m->blocked, m->nblocked, cap, 64) || GROW(bs, m->nblocked, bcap, 64))
			break;
		bs[m->nblocked] = b;
		m->blocked[m->nblocked].tid = b.tid;
		m->blocked[m->nblocked++].ts = b.ts;
	}
	close(fd);
	bpf_link__destroy(link);
	for (i = 0; i < m->nblocked; i++)
		run_walk_blocked(r, bs[i].tgid, &(struct unwind_regs){ bs[i].ip, bs[i].sp, bs[i].bp, bs[i].bx }, bs[i].fs,
				 &m->blocked[i].w);
	free(bs);
	/*
	 * A thread that ran since the look (its record is no longer that
	 * one) may have changed the stack the walk read: its walk is not
	 * trusted, that wait shows no user stack
	 */
	for (i = 0; i < m->nblocked; i++) {
		struct blocked *e = &m->blocked[i];

		if (bpf_map_lookup_elem(sfd, &e->tid, &st) || st.ts != e->ts) {
			e->w = (struct run_walked){ .flags = EBPROF_F_USER_MISSING };
			woke++;
		}
	}
	if (woke)
		pr_info("%zu threads off the CPU at the attach ran before their stacks were read: their first wait has no user stack\n",
			woke);
	qsort(m->blocked, m->nblocked, sizeof(*m->blocked), by_tid);
	pr_debug("%zu threads were off the CPU at the attach: timed from it\n", m->nblocked);
}

/* the user stacks of a key whose thread was off the CPU at the attach, put in; its tid dropped unless per thread */
static const struct sample_key *blocked_key(struct run *r, const struct sample_key *k, struct sample_key *out)
{
	struct off_mode *m = O(r);
	struct blocked *e, want = { .tid = k->tid };

	if (!(k->flags & EBPROF_F_WALK_LATER))
		return k;
	*out = *k;
	out->flags &= ~(EBPROF_F_WALK_LATER | EBPROF_F_END_MASK);
	if (!r->o->per_thread)
		out->tid = 0;
	e = m->nblocked ? bsearch(&want, m->blocked, m->nblocked, sizeof(want), by_tid) : NULL;
	if (e) {
		out->ustack_hash = e->w.ustack_hash;
		out->pystack_hash = e->w.pystack_hash;
		out->flags |= e->w.flags;
	} else {
		out->flags |= EBPROF_F_USER_MISSING;
	}
	return out;
}

/* wall: the clock on every CPU, at -F */
static int off_start(struct run *r)
{
	struct perf_event_attr attr = {};
	struct off_mode *m = O(r);

	find_blocked(r);
	if (!m->wall)
		return 0;
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_CPU_CLOCK;
	attr.sample_period = 1000000000ULL / r->o->freq;
	return run_attach_per_cpu(r, &attr, "cpu-clock", m->sampler, 0, m->pefds, m->plinks) > 0 ? 0 : 1;
}

/* the clock samplers, detached and closed */
static void close_sampler(struct run *r)
{
	struct off_mode *m = O(r);
	int i;

	for (i = 0; m->wall && m->pefds && m->plinks && i < r->ncpus; i++) {
		bpf_link__destroy(m->plinks[i]);
		m->plinks[i] = NULL;
		if (m->pefds[i] >= 0)
			close(m->pefds[i]);
		m->pefds[i] = -1;
	}
}

static void off_announce(struct run *r, double attach_ms)
{
	pr_info("timing the context switches of the targets (at least %g us off the CPU)%s, attached in %.1f ms;"
		" Ctrl-C to stop\n", r->o->off.min_block_us, O(r)->wall ? " and sampling them on the CPU" : "",
		attach_ms);
}

static int off_poll_ms(struct run *r)
{
	(void)r;
	return 500;
}

static int off_tick(struct run *r)
{
	(void)r;
	return 0;
}

/* no more switches: the sums stay as they are while they are read */
static void off_stop(struct run *r)
{
	struct off_mode *m = O(r);

	close_sampler(r);
	if (m->link && *m->link) {
		bpf_link__destroy(*m->link);
		*m->link = NULL;
	}
	m->t_end = mono_ns();
}

/* the waker's kernel frames are an interrupt's: it woke from a timer or a device, not from the task it interrupted */
static bool in_interrupt(const struct profile *p, const uint32_t *ids, int n)
{
	static const char *const entries[] = { "asm_sysvec_", "asm_common_interrupt", "sysvec_", "handle_softirqs",
						"__do_softirq", "irq_exit", "hrtimer_interrupt", "asm_exc_" };
	int i;
	size_t k;

	for (i = 0; i < n; i++) {
		const struct frame *f = &p->frames[ids[i]];

		for (k = 0; f->kernel && k < sizeof(entries) / sizeof(entries[0]); k++)
			if (!strncmp(f->func, entries[k], strlen(entries[k])))
				return true;
	}
	return false;
}

/*
 * --wakers: after the waiter's frames in *s* (*n* of them), "--" and the
 * waker's, leaf first, then its command, as offwaketime draws them: the
 * new count of frames, or < 0
 */
static int add_waker(struct run *r, struct profile *p, const struct sample_key *w, struct key_scratch *s, int n)
{
	struct key_scratch *ws = O(r)->ws;
	char label[EBPROF_COMM_LEN + 16];
	int m, i, id, first = 0;

	id = profile__frame(p, "--", "", false);
	if (id < 0 || n >= MAX_FRAMES)
		return id < 0 ? id : n;
	s->ids[n++] = id;
	if (!(w->flags & EBPROF_F_WAKER)) {
		id = profile__frame(p, "[no waker]", "", false);
		if (id >= 0 && n < MAX_FRAMES)
			s->ids[n++] = id;
		return id < 0 ? id : n;
	}
	m = key_frames(r, p, w, ws);
	if (m < 0)
		return m;
	if (in_interrupt(p, ws->ids, m)) {
		/* what it interrupted did not wake it: its kernel frames only */
		while (first < m && !p->frames[ws->ids[first]].kernel)
			first++;
		snprintf(label, sizeof(label), "[interrupt]");
	} else {
		snprintf(label, sizeof(label), "%.*s", EBPROF_COMM_LEN, w->comm);
	}
	for (i = m - 1; i >= first && n < MAX_FRAMES; i--)
		s->ids[n++] = ws->ids[i];
	id = profile__frame(p, label, "", false);
	if (id >= 0 && n < MAX_FRAMES)
		s->ids[n++] = id;
	return id < 0 ? id : n;
}

/* one key's time into the profile, under its reason with --state, with its waker with --wakers */
static int add_key(struct run *r, struct profile *p, const struct sample_key *key, const struct sample_key *waker,
		   const struct off_value *val, struct key_scratch *s)
{
	uint64_t v[PROFILE_MAX_VALUES] = {};
	struct sample_key bk;
	int n, id;

	key = blocked_key(r, key, &bk);
	if (key->pystack_hash && (!O(r)->wall || key->event == EBPROF_OFF_ONCPU))
		O(r)->py_n += val->n;
	n = key_frames(r, p, key, s);
	if (n < 0)
		return n;
	if (key->ustack_hash)
		stacks_quality(p, (key->flags & EBPROF_F_END_MASK) >> EBPROF_F_END_SHIFT, s->ids, n, val->n);
	if (r->o->off.state && key->event < EBPROF_OFF_REASONS && n < MAX_FRAMES) {
		id = profile__frame(p, reason_frame[key->event], "", false);
		if (id < 0)
			return id;
		memmove(s->ids + 1, s->ids, n * sizeof(s->ids[0]));
		s->ids[0] = (uint32_t)id;
		n++;
	}
	if (waker) {
		n = add_waker(r, p, waker, s, n);
		if (n < 0)
			return n;
	}
	v[0] = val->ns;
	if (O(r)->wall) {
		v[1] = key->event == EBPROF_OFF_ONCPU ? val->ns : 0;
		v[2] = key->event == EBPROF_OFF_RUNNABLE ? val->ns : 0;
		v[key->event == EBPROF_OFF_ONCPU ? 4 : 3] = val->n;
	} else {
		v[1] = key->event == EBPROF_OFF_RUNNABLE ? val->ns : 0;
		v[2] = val->n;
	}
	if (r->o->all || r->o->npids > 1)
		p->meta.per_process = true;
	return profile__addv(p, key->tgid, key->tid, key->comm, s->ids, n, v);
}

/* the per-CPU counters of the mode, summed */
static void read_off_stats(struct run *r, __u64 *sum)
{
	int fd = bpf_map__fd(O(r)->skel->maps.off_stats), c;
	__u64 *vals = calloc(r->ncpus, sizeof(*vals));
	__u32 i;

	for (i = 0; vals && i < EBPROF_OFF_STAT_MAX; i++) {
		sum[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (c = 0; c < r->ncpus; c++)
			sum[i] += vals[c];
	}
	free(vals);
}

static int build_profile(struct run *r, struct profile *p, uint64_t *open_n, uint64_t *open_ns)
{
	struct off_bpf *skel = O(r)->skel;
	int cfd = bpf_map__fd(skel->maps.off_counts), sfd = bpf_map__fd(skel->maps.off_starts);
	int wfd = bpf_map__fd(skel->maps.off_wcounts);
	struct key_scratch *s = malloc(sizeof(*s));
	struct sample_key key, next, *prev = NULL;
	struct off_wkey wkey, wnext, *wprev = NULL;
	struct off_waker ow;
	bool wakers = r->o->off.wakers;
	__u32 tid, ntid, *ptid = NULL;
	int err = 0;

	if (!s)
		return -ENOMEM;
	if (wakers && !O(r)->ws && !(O(r)->ws = malloc(sizeof(*O(r)->ws)))) {
		free(s);
		return -ENOMEM;
	}
	run_py_catch_up(r);
	while (!err && !wakers && !bpf_map_get_next_key(cfd, prev, &next)) {
		struct off_value v;

		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(cfd, &key, &v))
			err = add_key(r, p, &key, NULL, &v, s);
	}
	while (!err && wakers && !bpf_map_get_next_key(wfd, wprev, &wnext)) {
		struct off_value v;

		wkey = wnext;
		wprev = &wkey;
		if (!bpf_map_lookup_elem(wfd, &wkey, &v))
			err = add_key(r, p, &wkey.key, &wkey.waker, &v, s);
	}
	/* threads still off the CPU at the end: their time so far */
	while (!err && !bpf_map_get_next_key(sfd, ptid, &ntid)) {
		struct off_start st;

		tid = ntid;
		ptid = &tid;
		if (bpf_map_lookup_elem(sfd, &tid, &st) || !st.ts || st.ts >= O(r)->t_end)
			continue;
		if (O(r)->t_end - st.ts < (__u64)(r->o->off.min_block_us * 1000))
			continue;
		if (wakers) {
			/* its waker, if one woke this very wait (it has not run since) */
			int wkfd = bpf_map__fd(skel->maps.off_wakers);

			if (bpf_map_lookup_elem(wkfd, &tid, &ow) || ow.ts != st.ts)
				memset(&ow.w.waker, 0, sizeof(ow.w.waker));
		}
		err = add_key(r, p, &st.key, wakers ? &ow.w.waker : NULL, &(struct off_value){ O(r)->t_end - st.ts, 1 }, s);
		(*open_n)++;
		*open_ns += O(r)->t_end - st.ts;
	}
	free(s);
	return err ? err : profile__finish(p);
}

static int off_report(struct run *r, double duration, struct profile **out)
{
	struct profile_meta *m = &r->p->meta;
	__u64 st[EBPROF_OFF_STAT_MAX] = {};
	uint64_t open_n = 0, open_ns = 0;
	int err;

	(void)duration;
	/* threads waiting since the attach are timed from the look, before the session's clock began */
	if (O(r)->look_ns && O(r)->t_end > O(r)->look_ns && (O(r)->t_end - O(r)->look_ns) / 1e9 > m->duration)
		m->duration = (O(r)->t_end - O(r)->look_ns) / 1e9;
	read_off_stats(r, st);
	/* the kernel's side: runs it skipped (another BPF program running on the CPU) */
	{
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (O(r)->prog && bpf_program__fd(O(r)->prog) >= 0 &&
		    !bpf_obj_get_info_by_fd(bpf_program__fd(O(r)->prog), &info, &len)) {
			m->prog_runs = info.run_cnt;
			m->prog_misses = info.recursion_misses;
		}
	}
	profile__loss(r->p, "kernel_skipped", LOSS_SAMPLES, m->prog_misses, NULL, NULL);
	m->per_thread = r->o->per_thread;
	m->self_in_user = true;
	m->per_process = m->per_process || r->o->all || r->o->npids > 1;
	profile__loss(r->p, "counts", LOSS_SAMPLES, st[EBPROF_OFF_STAT_COUNTS_FULL], NULL, NULL);
	profile__loss(r->p, "starts", LOSS_SAMPLES, st[EBPROF_OFF_STAT_STARTS_FULL], NULL, NULL);
	err = build_profile(r, r->p, &open_n, &open_ns);
	if (err) {
		pr_err("cannot build the profile: %s\n", strerror(-err));
		return 1;
	}
	m->samples = O(r)->wall ? r->p->totals[4] : r->p->totals[2];
	/* of those: the Python walks of BPF's own count switch-outs not counted (and not threads walked here) */
	m->py_samples = O(r)->py_n;
	pr_debug("%llu switch-ins not shown by the tracepoint: timed at the next switch-out\n",
		 (unsigned long long)st[EBPROF_OFF_STAT_UNSEEN]);
	pr_debug("user stacks walked %llu, of which reused unchanged from the thread's last walk %llu\n",
		 (unsigned long long)run_stat_sum(r, EBPROF_STAT_UWALKS),
		 (unsigned long long)run_stat_sum(r, EBPROF_STAT_UWALK_REUSED));
	pr_debug("switch-outs recorded %llu, switches counted %llu (open at the end %llu, shorter than --min-block %llu)\n",
		 (unsigned long long)run_stat_sum(r, EBPROF_STAT_SAMPLES), (unsigned long long)r->p->totals[O(r)->wall ? 3 : 2],
		 (unsigned long long)open_n, (unsigned long long)st[EBPROF_OFF_STAT_SHORT]);
	m->freq = O(r)->wall ? r->o->freq : 0;
	pr_info("%llu switches of %.3f ms in all were shorter than --min-block %g us: left out\n",
		(unsigned long long)st[EBPROF_OFF_STAT_SHORT], st[EBPROF_OFF_STAT_SHORT_NS] / 1e6,
		r->o->off.min_block_us);
	if (r->o->off.wakers)
		pr_info("%llu waits ended with no wakeup seen (preemption, a signal): under [no waker]\n",
			(unsigned long long)st[EBPROF_OFF_STAT_NO_WAKER]);
	if (open_n)
		pr_info("%llu threads were still off the CPU at the end: %.3f s of theirs counted up to it\n",
			(unsigned long long)open_n, open_ns / 1e9);
	if (st[EBPROF_OFF_STAT_COUNTS_FULL_NS])
		pr_debug("%.3f s of switches not counted (counts map full)\n", st[EBPROF_OFF_STAT_COUNTS_FULL_NS] / 1e9);
	*out = r->p;
	r->p = NULL;
	return 0;
}

static void off_destroy(struct run *r)
{
	struct off_mode *m = O(r);

	if (!m)
		return;
	close_sampler(r);
	off_bpf__destroy(m->skel);
	free(m->blocked);
	free(m->ws);
	free(m->pefds);
	free(m->plinks);
	free(m);
	r->mode = NULL;
}

const struct mode_ops wall_mode = {
	.name = "wall",
	.open = wall_open,
	.configure = off_configure,
	.start = off_start,
	.announce = off_announce,
	.poll_ms = off_poll_ms,
	.tick = off_tick,
	.stop = off_stop,
	.report = off_report,
	.destroy = off_destroy,
};

const struct mode_ops off_mode = {
	.name = "off",
	.open = off_open,
	.configure = off_configure,
	.start = off_start,
	.announce = off_announce,
	.poll_ms = off_poll_ms,
	.tick = off_tick,
	.stop = off_stop,
	.report = off_report,
	.destroy = off_destroy,
};
