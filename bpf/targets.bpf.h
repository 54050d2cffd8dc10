// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * targets.bpf.h - what every mode's BPF object has: the target set (which
 * processes are profiled, and the exec generation of each), and the
 * tracepoints that keep it up to date and tell user space when to read a
 * process's mappings and build its unwind tables (fork, exec, exit, mmap
 * of code), with the user-stack and Python walkers they reset.  A mode's
 * .bpf.c includes it once; user space drives it the same for every mode
 * (struct session_bpf).
 */
#ifndef __TARGETS_BPF_H
#define __TARGETS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ebprof.h"
#include "ustack.bpf.h"
#include "python.bpf.h"

#define PROT_EXEC 0x4

const volatile bool targ_all = false;		/* -a: every process */
const volatile bool targ_follow_fork = false;	/* launch mode follows children */
const volatile __u32 targ_self = 0;		/* -a: ebprof's own tgid, left out (--include-self: 0) */

/* -a, and *tgid* is not ebprof's own */
static __always_inline bool targ_any(__u32 tgid)
{
	return targ_all && tgid != targ_self;
}

/* tgid -> exec generation; the target set unless targ_all */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u32);
} targets SEC(".maps");



struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* tid -> 1 while an mmap(PROT_EXEC) of a target is in flight */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} mmap_pending SEC(".maps");

/*
 * A launched command: set by user space while it runs.  A target that
 * execs or maps code stops (SIGSTOP) until user space has read its
 * mappings and built their unwind tables, and continues it: its first
 * instructions in new code are walked like the rest.
 */
__u32 hold_new_code = 0;

#define SIGSTOP 19

static __always_inline bool emit_held(__u32 type, __u32 tgid, __u32 ppid, __u32 gen, bool hold)
{
	struct ebprof_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(EBPROF_STAT_EVENTS_LOST);
		return false;
	}
	e->type = type;
	e->tgid = tgid;
	e->ppid = ppid;
	e->gen = gen;
	e->held = hold;
	e->pad = 0;
	e->ts = bpf_ktime_get_ns();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/*
	 * Only with the event that makes user space continue it, and before
	 * user space can see it: the stop is pending until the task returns
	 * to user mode, and a SIGCONT that comes first drops it.
	 */
	if (hold)
		bpf_send_signal(SIGSTOP);
	bpf_ringbuf_submit(e, 0);
	return true;
}

static __always_inline void emit(__u32 type, __u32 tgid, __u32 ppid, __u32 gen)
{
	emit_held(type, tgid, ppid, gen, false);
}

/* tgid -> 1 once user space was asked for its unwind tables */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u8);
} tables_asked SEC(".maps");

/* ask user space, once, to build a process's unwind tables */
static __always_inline void request_tables(__u32 tgid)
{
	__u8 one = 1;

	if (bpf_map_update_elem(&tables_asked, &tgid, &one, BPF_NOEXIST))
		return;
	emit(EBPROF_EV_UNWIND_REQ, tgid, 0, 0);
}

/*
 * The current task as a key of the target set: its tgid, tid (when
 * *per_thread*), exec generation and command into *key*.  False when it
 * is not to be sampled: the idle task, a process outside the set, a
 * launched command before its exec (ebprof's code; counted).
 */
static __always_inline bool key_current(struct sample_key *key, bool per_thread)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, *gen;
	struct task_struct *task;

	stat_inc(EBPROF_STAT_FIRED);
	if (!tgid) {	/* the idle task */
		stat_inc(EBPROF_STAT_IDLE);
		return false;
	}
	gen = bpf_map_lookup_elem(&targets, &tgid);
	if (!gen && !targ_any(tgid))
		return false;
	if (gen && *gen == EBPROF_GEN_LAUNCHING) {
		stat_inc(EBPROF_STAT_BEFORE_EXEC);
		return false;
	}
	stat_inc(EBPROF_STAT_SAMPLES);
	task = (struct task_struct *)bpf_get_current_task();
	key->tgid = tgid;
	key->tid = per_thread ? (__u32)id : 0;
	key->gen = gen ? *gen : 0;
	if (per_thread)
		bpf_get_current_comm(key->comm, sizeof(key->comm));
	else
		BPF_CORE_READ_INTO(&key->comm, task, group_leader, comm);
	return true;
}

/* did perf event sample *ctx* hit the kernel?  If not, its user registers into *uregs* */
static __always_inline bool perf_in_kernel(struct bpf_perf_event_data *ctx, struct user_regs *uregs)
{
	/* full-width loads: the verifier rejects narrow ctx reads here */
	if ((*(volatile __u64 *)&ctx->regs.cs & 3) == 0)
		return true;
	uregs->ip = *(volatile __u64 *)&ctx->regs.ip;
	uregs->sp = *(volatile __u64 *)&ctx->regs.sp;
	uregs->bp = *(volatile __u64 *)&ctx->regs.bp;
	uregs->bx = *(volatile __u64 *)&ctx->regs.bx;
	return false;
}

/*
 * The stacks of the current task (*task*) into *key*, whose tgid is set:
 * its kernel stack when *kernel*, its user stack from *uregs* (NULL: the
 * registers it entered the kernel with) when *user*, its Python stack
 * when *python*; each stored in epoch *tag*, losses counted, unwind
 * tables asked for.  *ctx* is the program's own.  Every mode's way to
 * name what a task was doing.
 */
static __always_inline void key_stacks(void *ctx, struct sample_key *key, struct task_struct *task, bool kernel,
				       bool user, struct user_regs *uregs, enum ustack_mode mode, bool python,
				       __u64 tag)
{
	if (kernel) {
		key->kstack_hash = kstack_record(ctx, tag);
		if (!key->kstack_hash) {
			stat_inc(EBPROF_STAT_KSTACK_ERR);
			key->flags |= EBPROF_F_KERNEL_MISSING;
		}
	}
	/* kernel threads have no user stack, and that is not a loss */
	if (user && BPF_CORE_READ(task, mm)) {
		__u32 ret = ustack_record(ctx, uregs, key->tgid, mode, &key->ustack_hash, tag);

		if (ret & EBPROF_F_NEED_TABLES)
			request_tables(key->tgid);
		ret &= ~EBPROF_F_NEED_TABLES;
		if (ret & EBPROF_F_USER_TRUNC)
			stat_inc(EBPROF_STAT_USTACK_TRUNC);
		if (ret & EBPROF_F_USER_MISSING)
			stat_inc(EBPROF_STAT_LOST_USTACK);
		key->flags |= ret;
	}
	if (python)
		key->pystack_hash = pystack_record(key->tgid, (__u32)bpf_get_current_pid_tgid(), &key->flags);
	if (key->flags & EBPROF_F_NEW_STACK) {
		key->flags &= ~EBPROF_F_NEW_STACK;
		stat_inc(EBPROF_STAT_NEW_E0 + !!tag);
	}
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(eb_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	struct unwind_proc *proc;
	__u32 zero = 0;

	if (ptgid == ctgid)	/* a new thread: already covered by its tgid */
		return 0;
	if (!targ_all) {
		if (!targ_follow_fork || !bpf_map_lookup_elem(&targets, &ptgid))
			return 0;
		bpf_map_update_elem(&targets, &ctgid, &zero, BPF_ANY);
	}
	/*
	 * The child runs its parent's code at the same addresses: its unwind
	 * tables from its first instruction.  (Not its Python: user space must
	 * know a process before the code objects its walks report.)
	 */
	proc = bpf_map_lookup_elem(&unwind_procs, &ptgid);
	if (proc)
		bpf_map_update_elem(&unwind_procs, &ctgid, proc, BPF_ANY);
	emit(EBPROF_EV_FORK, ctgid, ptgid, 0);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(eb_exec, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	__u32 *gen = bpf_map_lookup_elem(&targets, &tgid);
	__u32 g = 1;

	if (gen) {
		g = *gen == EBPROF_GEN_LAUNCHING ? 1 : *gen + 1;
		*gen = g;
	} else if (targ_any(tgid)) {
		bpf_map_update_elem(&targets, &tgid, &g, BPF_ANY);
	} else {
		return 0;
	}
	/* new code: the old tables no longer apply */
	bpf_map_delete_elem(&unwind_procs, &tgid);
	bpf_map_delete_elem(&tables_asked, &tgid);
	bpf_map_delete_elem(&py_procs, &tgid);
	emit_held(EBPROF_EV_EXEC, tgid, 0, g, hold_new_code);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(eb_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);

	/* only when the last thread of the process goes */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	if (!targ_any(tgid) && !bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	/*
	 * Out of the set: a new process given this pid is not the target.
	 * (With -a it also keeps the map bounded; a late sample falls back
	 * to gen 0.)  User space forgets it once its samples are in.
	 */
	bpf_map_delete_elem(&targets, &tgid);
	emit(EBPROF_EV_EXIT, tgid, 0, 0);
	return 0;
}

/*
 * The process's unwind tables and Python offsets go when it is gone: when
 * its leader, freed after every other thread, is.  Not at its exit, which
 * on recent kernels (6.18 here) comes before its memory goes: a sample in
 * the rest of do_exit still walks its stack.
 */
SEC("tp_btf/sched_process_free")
int BPF_PROG(eb_free, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);

	if (BPF_CORE_READ(p, pid) != tgid)
		return 0;
	bpf_map_delete_elem(&unwind_procs, &tgid);
	bpf_map_delete_elem(&tables_asked, &tgid);
	bpf_map_delete_elem(&py_procs, &tgid);
	return 0;
}

SEC("tp/syscalls/sys_enter_mmap")
int eb_mmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	__u8 one = 1;

	if (!(ctx->args[2] & PROT_EXEC))
		return 0;
	if (!targ_any(tgid) && !bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	bpf_map_update_elem(&mmap_pending, &tid, &one, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_exit_mmap")
int eb_mmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	__u32 *gen;

	if (!bpf_map_lookup_elem(&mmap_pending, &tid))
		return 0;
	bpf_map_delete_elem(&mmap_pending, &tid);
	if (ctx->ret < 0)
		return 0;
	gen = bpf_map_lookup_elem(&targets, &tgid);
	if (gen && *gen == EBPROF_GEN_LAUNCHING)	/* ebprof's code, before the exec */
		return 0;
	emit_held(EBPROF_EV_MMAP_EXEC, tgid, 0, gen ? *gen : 0, hold_new_code && gen);
	return 0;
}

#endif /* __TARGETS_BPF_H */
