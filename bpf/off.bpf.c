// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * off.bpf.c - ebprof's off-CPU profiler.  On every context switch
 * (sched_switch): a target thread going out has its stacks walked in its
 * own context and its switch-out time recorded under its thread id; when
 * it comes back in, on whichever CPU, the time since is added to its key
 * (process, [thread], user stack, kernel stack, Python stack, why it went
 * out) in a hash map.  Keyed by thread, never by CPU: a thread mostly
 * wakes up elsewhere.  The target set: targets.bpf.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ebprof.h"
#include "targets.bpf.h"

const volatile bool targ_per_thread = false;
const volatile bool targ_kernel = true;		/* --no-kernel clears it */
const volatile __u64 targ_min_block_ns = 1000;	/* --min-block */
const volatile __u64 targ_sample_ns = 0;	/* ebprof wall: what an on-CPU sample stands for */
const volatile bool targ_wakers = false;	/* --wakers */

/* tid -> its switch-out; user space sizes it */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct off_start);
} off_starts SEC(".maps");

/* the time switched out, and how many times, per key */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 40960);
	__type(key, struct sample_key);
	__type(value, struct off_value);
} off_counts SEC(".maps");

/* --wakers: the time switched out, by key and waker; user space sizes it */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct off_wkey);
	__type(value, struct off_value);
} off_wcounts SEC(".maps");

/*
 * --wakers: tid -> who woke its current wait; apart from off_starts, whose
 * record every switch-out writes, so that a run without --wakers copies
 * no waker; user space sizes it
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct off_waker);
} off_wakers SEC(".maps");

/* never written: a zeroed record to insert from, and the key of a wait no wakeup ended */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct off_waker);
} off_wscratch SEC(".maps");

/* the mode's own counters (enum ebprof_off_stat), per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EBPROF_OFF_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} off_stats SEC(".maps");

static __always_inline void off_stat(__u32 i, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&off_stats, &i);

	if (v)
		*v += n;
}

/* TASK_* of include/linux/sched.h */
#define TASK_INTERRUPTIBLE	0x1
#define TASK_UNINTERRUPTIBLE	0x2
#define TASK_DEAD		0x80

/* struct task_struct's state field was "state" before 5.14 */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline unsigned int task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

/*
 * why a thread went out: preempted (it stays on the run queue whatever
 * its state: a wait being set up), else by its state then
 */
static __always_inline __u32 off_reason(bool preempt, unsigned int state)
{
	if (preempt || !(state & 0xff))	/* still runnable: preempted, or yielded */
		return EBPROF_OFF_RUNNABLE;
	if (state & TASK_UNINTERRUPTIBLE)
		return EBPROF_OFF_BLOCKED;
	return EBPROF_OFF_SLEEPING;
}

/* the time under *key* in *counts* (off_counts, off_wcounts): *ns* more, in *n* more switches (or samples) */
static __always_inline void add_to(void *counts, const void *key, __u64 ns, __u64 n)
{
	struct off_value one = { ns, n }, *v;
	long err;

	v = bpf_map_lookup_elem(counts, key);
	if (v) {
		__sync_fetch_and_add(&v->ns, ns);
		__sync_fetch_and_add(&v->n, n);
		return;
	}
	err = bpf_map_update_elem(counts, key, &one, BPF_NOEXIST);
	if (err == -17 /* EEXIST: another CPU raced us */) {
		v = bpf_map_lookup_elem(counts, key);
		if (v) {
			__sync_fetch_and_add(&v->ns, ns);
			__sync_fetch_and_add(&v->n, n);
		}
	} else if (err) {
		off_stat(EBPROF_OFF_STAT_COUNTS_FULL, 1);
		off_stat(EBPROF_OFF_STAT_COUNTS_FULL_NS, ns);
	}
}

static __always_inline void add_time(struct sample_key *key, __u64 ns, __u64 n)
{
	add_to(&off_counts, key, ns, n);
}

/* --wakers: the wait *s* of thread *tid*: its time under its key and its waker's */
static __always_inline void add_wtime(__u32 tid, struct off_start *s, __u64 ns)
{
	struct off_waker *w = bpf_map_lookup_elem(&off_wakers, &tid);
	__u32 one = 1;

	if (w && w->ts == s->ts) {
		add_to(&off_wcounts, &w->w, ns, 1);
		return;
	}
	off_stat(EBPROF_OFF_STAT_NO_WAKER, 1);
	w = bpf_map_lookup_elem(&off_wscratch, &one);
	if (!w)
		return;
	w->w.key = s->key;
	__builtin_memset(&w->w.waker, 0, sizeof(w->w.waker));
	add_to(&off_wcounts, &w->w, ns, 1);
}

/*
 * Thread *tid*'s switch-out record, made when it has none; NULL when the
 * map is full.  A thread keeps it from its first switch-out to its exit
 * (eb_off_thread_exit): a lookup, not an insert and a delete, at each
 * switch.  ts 0: not out, or the record being written.
 */
static __always_inline struct off_start *start_record(__u32 tid)
{
	struct off_start *s = bpf_map_lookup_elem(&off_starts, &tid), zero = {};
	long err;

	if (s)
		return s;
	err = bpf_map_update_elem(&off_starts, &tid, &zero, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: made meanwhile */) {
		off_stat(EBPROF_OFF_STAT_STARTS_FULL, 1);
		return NULL;
	}
	return bpf_map_lookup_elem(&off_starts, &tid);
}

/* *prev*, the current task, goes out: its stacks now, the time later */
static __always_inline void switch_out(void *ctx, bool preempt, struct task_struct *prev, enum ustack_mode mode,
				       bool python)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id, *gen;
	unsigned int state = task_state(prev);
	struct off_start *s;

	if (!tgid || (state & TASK_DEAD))
		return;
	gen = bpf_map_lookup_elem(&targets, &tgid);
	if (!gen && !targ_any(tgid))
		return;
	if (gen && *gen == EBPROF_GEN_LAUNCHING)
		return;
	s = start_record(tid);
	if (!s)
		return;
	if (s->ts) {
		/*
		 * Its last switch-out still open: it ran again with no
		 * switch-in the tracepoint showed (1 wakeup in a few hundred,
		 * here; bpftrace sees the same).  The time since, less the CPU
		 * time it had since, was off.
		 */
		__u64 now = bpf_ktime_get_ns(), ran = BPF_CORE_READ(prev, se.sum_exec_runtime) - s->runtime;

		off_stat(EBPROF_OFF_STAT_UNSEEN, 1);
		if (now > s->ts && now - s->ts > ran && now - s->ts - ran >= targ_min_block_ns)
			add_time(&s->key, now - s->ts - ran, 1);
	}
	s->ts = 0;
	/* the record itself as scratch: the key is too big for the stack with the walkers */
	__builtin_memset(&s->key, 0, sizeof(s->key));
	s->key.tgid = tgid;
	s->key.tid = targ_per_thread ? tid : 0;
	s->key.gen = gen ? *gen : 0;
	s->key.event = off_reason(preempt, state);
	if (targ_per_thread)
		bpf_get_current_comm(s->key.comm, sizeof(s->key.comm));
	else
		BPF_CORE_READ_INTO(&s->key.comm, prev, group_leader, comm);
	/* in __schedule(): the kernel stack says why it waits, the user stack where */
	key_stacks(ctx, &s->key, prev, targ_kernel, true, NULL, mode, python, 0);
	stat_inc(EBPROF_STAT_SAMPLES);
	s->runtime = BPF_CORE_READ(prev, se.sum_exec_runtime);
	/* last: a record with ts 0 is one still being written */
	s->ts = bpf_ktime_get_ns();
}

/* *next* comes back in: the time it was out, onto its key */
static __always_inline void switch_in(struct task_struct *next)
{
	__u32 tid = BPF_CORE_READ(next, pid);
	struct off_start *s;
	__u64 now, d;

	if (!tid)
		return;
	s = bpf_map_lookup_elem(&off_starts, &tid);
	if (!s || !s->ts)
		return;
	now = bpf_ktime_get_ns();
	d = now > s->ts ? now - s->ts : 0;
	if (d < targ_min_block_ns) {
		off_stat(EBPROF_OFF_STAT_SHORT, 1);
		off_stat(EBPROF_OFF_STAT_SHORT_NS, d);
	} else if (targ_wakers) {
		add_wtime(tid, s, d);
	} else {
		add_time(&s->key, d, 1);
	}
	s->ts = 0;
}

/* a thread ends: its record goes (a process's last thread too: sched_process_exit fires for each) */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(eb_off_thread_exit, struct task_struct *p)
{
	__u32 tid = BPF_CORE_READ(p, pid);

	bpf_map_delete_elem(&off_starts, &tid);
	if (targ_wakers)
		bpf_map_delete_elem(&off_wakers, &tid);
	return 0;
}

static __always_inline int on_switch(void *ctx, bool preempt, struct task_struct *prev, struct task_struct *next,
				     enum ustack_mode mode, bool python)
{
	stat_inc(EBPROF_STAT_FIRED);
	switch_out(ctx, preempt, prev, mode, python);
	switch_in(next);
	return 0;
}

/*
 * unwind tables (5.17: bpf_loop), Python stacks; a thread mostly blocks
 * where it blocked last time: its last walk, when nothing it read changed
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(eb_off_dwarf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(ctx, preempt, prev, next, USTACK_TABLES_REUSE, true);
}

/* --fp: frame pointers, Python stacks */
SEC("tp_btf/sched_switch")
int BPF_PROG(eb_off_fp, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(ctx, preempt, prev, next, USTACK_FP, true);
}

/* older kernels: the kernel's own frame-pointer walk */
SEC("tp_btf/sched_switch")
int BPF_PROG(eb_off_compat, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(ctx, preempt, prev, next, USTACK_KERNEL_FP, false);
}

/*
 * Run once by user space right after the switch programs are attached:
 * target threads already off the CPU (waiting since before ebprof came)
 * are given their switch-out record now, with their kernel stack; their
 * user registers and fs base go to user space, which walks their user and
 * Python stacks (they cannot be read from here: another process's
 * memory).  Runnable threads are left out: they run again within a time
 * slice.
 */
SEC("iter/task")
int eb_off_blocked(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct off_start *s;
	struct off_blocked b = {};
	struct pt_regs *pr;
	struct ustack *st;
	unsigned int state;
	__u32 tgid, tid, *gen, zero = 0;
	__u64 tag;
	long len, err;

	if (!task)
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	tid = BPF_CORE_READ(task, pid);
	state = task_state(task);
	if (!tgid || !(state & 0xff) || (state & TASK_DEAD) || BPF_CORE_READ(task, on_cpu))
		return 0;
	gen = bpf_map_lookup_elem(&targets, &tgid);
	if ((!gen && !targ_any(tgid)) || (gen && *gen == EBPROF_GEN_LAUNCHING))
		return 0;
	s = start_record(tid);
	if (!s || s->ts)
		return 0;	/* no room, or it went out since the attach: recorded */
	__builtin_memset(&s->key, 0, sizeof(s->key));
	s->key.tgid = tgid;
	s->key.tid = tid;	/* its user stack is its own: user space puts it in, then drops the tid unless per thread */
	s->key.gen = gen ? *gen : 0;
	s->key.event = off_reason(false, state);
	if (targ_per_thread)
		BPF_CORE_READ_INTO(&s->key.comm, task, comm);
	else
		BPF_CORE_READ_INTO(&s->key.comm, task, group_leader, comm);
	st = bpf_map_lookup_elem(&ustack_scratch, &zero);
	if (targ_kernel && st) {
		tag = (__u64)(epoch & 1) << 63;
		len = bpf_get_task_stack(task, st->ips, sizeof(st->ips), 0);
		err = -1;
		if (len > 0) {
			st->nr = len / sizeof(__u64);
			s->key.kstack_hash = ebprof_epoch_hash(hash_ips(st), tag);
			err = bpf_map_update_elem(&kstacks, &s->key.kstack_hash, st, BPF_NOEXIST);
		}
		if (err && err != -17 /* EEXIST: stored before */) {
			s->key.kstack_hash = 0;
			s->key.flags |= EBPROF_F_KERNEL_MISSING;
			stat_inc(EBPROF_STAT_KSTACK_ERR);
		}
	}
	stat_inc(EBPROF_STAT_SAMPLES);
	s->runtime = BPF_CORE_READ(task, se.sum_exec_runtime);
	b.ts = bpf_ktime_get_ns();
	if (BPF_CORE_READ(task, mm)) {
		pr = (struct pt_regs *)bpf_task_pt_regs(task);
		b.tgid = tgid;
		b.tid = tid;
		b.ip = BPF_CORE_READ(pr, ip);
		b.sp = BPF_CORE_READ(pr, sp);
		b.bp = BPF_CORE_READ(pr, bp);
		b.bx = BPF_CORE_READ(pr, bx);
		b.fs = BPF_CORE_READ(task, thread.fsbase);
		s->key.flags |= EBPROF_F_WALK_LATER;
		/* the read's buffer is full: this task is shown again in the next, the record still closed */
		if (bpf_seq_write(ctx->meta->seq, &b, sizeof(b)))
			return 0;
	}
	s->ts = b.ts;
	return 0;
}

/*
 * --wakers: a target thread off the CPU is woken: who woke it, the stacks
 * of the current task (a thread that unlocked, wrote, signalled; in an
 * interrupt, whatever it interrupted, which user space tells by the
 * interrupt's kernel frames).  User stacks of targets only: no other
 * process's code is read.
 */
static __always_inline int on_waking(void *ctx, struct task_struct *p, enum ustack_mode mode)
{
	__u32 tid = BPF_CORE_READ(p, pid), wtgid, *gen, zero = 0;
	__u64 id = bpf_get_current_pid_tgid();
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task();
	struct off_waker *w, *z;
	struct off_start *s;
	bool user;

	if (!targ_wakers || !tid)
		return 0;
	s = bpf_map_lookup_elem(&off_starts, &tid);
	if (!s || !s->ts)
		return 0;
	w = bpf_map_lookup_elem(&off_wakers, &tid);
	if (!w) {
		z = bpf_map_lookup_elem(&off_wscratch, &zero);
		if (!z || bpf_map_update_elem(&off_wakers, &tid, z, BPF_ANY))
			return 0;
		w = bpf_map_lookup_elem(&off_wakers, &tid);
		if (!w)
			return 0;
	}
	w->ts = s->ts;
	w->w.key = s->key;
	__builtin_memset(&w->w.waker, 0, sizeof(w->w.waker));
	wtgid = id >> 32;
	w->w.waker.tgid = wtgid;
	w->w.waker.tid = targ_per_thread ? (__u32)id : 0;
	bpf_get_current_comm(w->w.waker.comm, sizeof(w->w.waker.comm));
	gen = wtgid ? bpf_map_lookup_elem(&targets, &wtgid) : NULL;
	w->w.waker.gen = gen ? *gen : 0;
	user = wtgid && (gen || targ_any(wtgid)) && !(gen && *gen == EBPROF_GEN_LAUNCHING);
	key_stacks(ctx, &w->w.waker, cur, targ_kernel, user, NULL, mode, false, 0);
	w->w.waker.flags |= EBPROF_F_WAKER;
	return 0;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(eb_off_waking_dwarf, struct task_struct *p)
{
	return on_waking(ctx, p, USTACK_TABLES);
}

SEC("tp_btf/sched_waking")
int BPF_PROG(eb_off_waking_fp, struct task_struct *p)
{
	return on_waking(ctx, p, USTACK_FP);
}

SEC("tp_btf/sched_waking")
int BPF_PROG(eb_off_waking_compat, struct task_struct *p)
{
	return on_waking(ctx, p, USTACK_KERNEL_FP);
}

/*
 * ebprof wall: the on-CPU side, a clock sample on every CPU.  A sample of
 * a target thread adds the period's worth of time to its key, its reason
 * EBPROF_OFF_ONCPU, in the same map as the time off the CPU.
 */
static __always_inline int on_cpu(struct bpf_perf_event_data *ctx, enum ustack_mode mode, bool python)
{
	struct user_regs uregs = {};
	struct sample_key key = {};
	bool in_kernel;

	if (!key_current(&key, targ_per_thread))
		return 0;
	key.event = EBPROF_OFF_ONCPU;
	in_kernel = perf_in_kernel(ctx, &uregs);
	key_stacks(ctx, &key, (struct task_struct *)bpf_get_current_task(), in_kernel && targ_kernel, true,
		   in_kernel ? NULL : &uregs, mode, python, 0);
	add_time(&key, targ_sample_ns, 1);
	return 0;
}

SEC("perf_event")
int eb_wall_dwarf(struct bpf_perf_event_data *ctx)
{
	return on_cpu(ctx, USTACK_TABLES, true);
}

SEC("perf_event")
int eb_wall_fp(struct bpf_perf_event_data *ctx)
{
	return on_cpu(ctx, USTACK_FP, true);
}

SEC("perf_event")
int eb_wall_compat(struct bpf_perf_event_data *ctx)
{
	return on_cpu(ctx, USTACK_KERNEL_FP, false);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
