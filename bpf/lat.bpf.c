// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lat.bpf.c - ebprof lat: how long calls of chosen functions take.  An
 * entry probe pushes (function, time, stack pointer) on its thread's stack
 * of calls in flight; the return probe takes the call whose stack pointer
 * is its own off it, so recursion, nesting and tail calls each time their
 * own call, and entries whose return never came (longjmp, exceptions) are
 * dropped, not mistimed.  Per function, per CPU: count, total, min, max
 * and a log-linear histogram; user space sums the CPUs.  The target set
 * (targets.bpf.h) is there for the session; the probes are per process.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ebprof.h"
#include "targets.bpf.h"

const volatile __u32 targ_nfuncs = 1;		/* the sums are per slot of this many */
const volatile bool targ_per_call = false;
const volatile __u32 targ_call_limit = 1000;	/* --per-call events a second */

__u32 lat_slot;		/* which half of the sums calls go to: -i flips it */

struct lat_frame {
	__u64 ts;
	__u64 sp;	/* at the entry: where the return address is */
	__u32 fn;
	__u32 pad;
};

struct lat_stack {
	__u32 n;
	__u32 pad;
	struct lat_frame f[EBPROF_LAT_DEPTH];
};

/* tid -> its calls in flight; user space sizes it */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct lat_stack);
} lat_stacks SEC(".maps");

/* a zeroed stack to insert from (too big for the BPF stack) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lat_stack);
} lat_zero SEC(".maps");

/* slot * targ_nfuncs + fn -> its calls; user space sizes it */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct lat_sum);
} lat_sums SEC(".maps");

/* (slot * targ_nfuncs + fn) * EBPROF_LAT_BUCKETS + bucket -> calls */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * EBPROF_LAT_BUCKETS);
	__type(key, __u32);
	__type(value, __u64);
} lat_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EBPROF_LAT_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} lat_stats SEC(".maps");

/*
 * --per-call: events sent since user space last zeroed it, on all CPUs
 * (checked, then added to: a few over the limit when CPUs race)
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lat_sent SEC(".maps");

/* --per-call: the calls; user space sizes it */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} lat_calls SEC(".maps");

static __always_inline void lat_stat(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&lat_stats, &i);

	if (v)
		*v += 1;
}

static __always_inline int lat_push(struct pt_regs *ctx, __u64 now, __u64 fn)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), zero = 0, n;
	struct lat_stack *s = bpf_map_lookup_elem(&lat_stacks, &tid);
	struct lat_frame *f;

	if (!s) {
		struct lat_stack *z = bpf_map_lookup_elem(&lat_zero, &zero);

		if (!z || bpf_map_update_elem(&lat_stacks, &tid, z, BPF_NOEXIST)) {
			lat_stat(EBPROF_LAT_THREADS_FULL);
			return 0;
		}
		s = bpf_map_lookup_elem(&lat_stacks, &tid);
		if (!s)
			return 0;
	}
	n = s->n;
	if (n >= EBPROF_LAT_DEPTH) {
		lat_stat(EBPROF_LAT_TOO_DEEP);
		return 0;
	}
	f = &s->f[n & (EBPROF_LAT_DEPTH - 1)];
	f->ts = now;
	f->sp = PT_REGS_SP(ctx);
	f->fn = (__u32)fn;
	s->n = n + 1;
	return 0;
}

static __always_inline int lat_enter(struct pt_regs *ctx)
{
	__u64 now = bpf_ktime_get_ns();

	return lat_push(ctx, now, bpf_get_attach_cookie(ctx));
}

static __always_inline void lat_record(__u32 fn, __u64 ns, __u32 tid, __u64 now)
{
	__u32 key = (lat_slot & 1) * targ_nfuncs + fn, hkey, zero = 0;
	struct lat_sum *sum;
	__u64 *sent;
	struct lat_call *c;
	__u64 *h;

	if (fn >= targ_nfuncs)
		return;
	sum = bpf_map_lookup_elem(&lat_sums, &key);
	if (sum) {
		sum->count++;
		sum->total_ns += ns;
		if (!sum->min_ns || ns < sum->min_ns)
			sum->min_ns = ns ? ns : 1;
		if (ns > sum->max_ns)
			sum->max_ns = ns;
	}
	hkey = key * EBPROF_LAT_BUCKETS + ebprof_lat_bucket(ns);
	h = bpf_map_lookup_elem(&lat_hist, &hkey);
	if (h)
		*h += 1;
	if (!targ_per_call)
		return;
	sent = bpf_map_lookup_elem(&lat_sent, &zero);
	if (!sent || *sent >= targ_call_limit) {
		lat_stat(EBPROF_LAT_SUPPRESSED);
		return;
	}
	__sync_fetch_and_add(sent, 1);
	c = bpf_ringbuf_reserve(&lat_calls, sizeof(*c), 0);
	if (!c) {
		lat_stat(EBPROF_LAT_CALLS_LOST);
		return;
	}
	c->ts = now;
	c->ns = ns;
	c->fn = fn;
	c->tid = tid;
	bpf_ringbuf_submit(c, 0);
}

static __always_inline int lat_exit(struct pt_regs *ctx)
{
	__u64 now = bpf_ktime_get_ns(), sp = PT_REGS_SP(ctx) - 8;	/* the return popped its address */
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), n, i;
	struct lat_stack *s = bpf_map_lookup_elem(&lat_stacks, &tid);
	struct lat_frame *f = NULL;

	if (!s) {
		lat_stat(EBPROF_LAT_NO_ENTRY);
		return 0;
	}
	n = s->n;
	/* calls deeper than this one whose returns never came: longjmp'ed or unwound past */
	for (i = 0; i < EBPROF_LAT_DEPTH && n > 0; i++) {
		f = &s->f[(n - 1) & (EBPROF_LAT_DEPTH - 1)];
		if (f->sp >= sp)
			break;
		lat_stat(EBPROF_LAT_UNFINISHED);
		n--;
		f = NULL;
	}
	if (n > 0 && f && f->sp == sp) {
		lat_record(f->fn, now - f->ts, tid, now);
		n--;
	} else {
		lat_stat(EBPROF_LAT_NO_ENTRY);
	}
	s->n = n;
	return 0;
}

/* a thread's record goes with it (kept between calls: a delete and an insert a call cost more) */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(eb_lat_thread_exit, struct task_struct *task)
{
	__u32 tid = BPF_CORE_READ(task, pid);

	bpf_map_delete_elem(&lat_stacks, &tid);
	return 0;
}

/* a uprobe each (the cookie: the function) */
SEC("uprobe")
int eb_lat_entry(struct pt_regs *ctx) { return lat_enter(ctx); }
SEC("uretprobe")
int eb_lat_ret(struct pt_regs *ctx) { return lat_exit(ctx); }

/* uprobe.multi links (6.6), a file's functions in one */
SEC("uprobe")
int eb_lat_m_entry(struct pt_regs *ctx) { return lat_enter(ctx); }
SEC("uprobe")
int eb_lat_m_ret(struct pt_regs *ctx) { return lat_exit(ctx); }

/*
 * Python functions, by sampling the threads' Python stacks: on the CPU at
 * each clock sample, and off it from a switch-out (its stack walked then,
 * in its own context) to the switch-in.  User space follows each call of
 * the functions named across these observations.
 */
const volatile __u64 targ_py_min_off_ns = 250000;	/* shorter times off the CPU: not sent */

/* tid -> its Python stack when it went out; user space sizes it */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct lat_py_obs);
} lat_py_outs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lat_py_obs);
} lat_py_scratch SEC(".maps");

/* the observations; user space sizes it */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} lat_py_events SEC(".maps");

static __always_inline bool lat_target(__u32 tgid)
{
	__u32 *gen = bpf_map_lookup_elem(&targets, &tgid);

	return tgid && gen && *gen != EBPROF_GEN_LAUNCHING;
}

/* the current thread's Python stack into *o* (innermost first): its frames, 0 when none */
static __noinline __u32 lat_py_walk(__u32 tgid, __u32 tid, struct lat_py_obs *o)
{
	struct py_walk *w;
	__u32 n, i;

	if (!o || !(w = py_walk_current(tgid, tid)))
		return 0;
	n = w->st.nr;
	if (n > EBPROF_LAT_PY_FRAMES) {
		lat_stat(EBPROF_LAT_PY_DEEP);
		n = EBPROF_LAT_PY_FRAMES;
	}
	for (i = 0; i < EBPROF_LAT_PY_FRAMES; i++) {
		if (i >= n)
			break;
		o->f[i] = w->st.frames[i];
	}
	o->nr = n;
	o->tgid = tgid;
	o->tid = tid;
	return n;
}

/* a clock sample: a target thread's stack, if it is running Python code */
SEC("perf_event")
int eb_lat_py_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, zero = 0;
	struct lat_py_obs *o;

	if (!lat_target(tgid))
		return 0;
	o = bpf_map_lookup_elem(&lat_py_scratch, &zero);
	if (!o || !lat_py_walk(tgid, (__u32)id, o))
		return 0;
	o->t0 = o->t1 = bpf_ktime_get_ns();
	o->kind = EBPROF_LAT_PY_ON;
	if (bpf_ringbuf_output(&lat_py_events, o, sizeof(*o), 0))
		lat_stat(EBPROF_LAT_PY_LOST);
	return 0;
}

/* a target thread going out: its stack now; coming back in, after long enough: sent */
SEC("tp_btf/sched_switch")
int BPF_PROG(eb_lat_py_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 id = bpf_get_current_pid_tgid(), now;
	__u32 tgid = id >> 32, tid = (__u32)id, ntid, zero = 0;
	struct lat_py_obs *o;

	if (lat_target(tgid)) {
		o = bpf_map_lookup_elem(&lat_py_scratch, &zero);
		if (o && lat_py_walk(tgid, tid, o)) {
			o->t0 = bpf_ktime_get_ns();
			o->kind = EBPROF_LAT_PY_OFF;
			if (bpf_map_update_elem(&lat_py_outs, &tid, o, BPF_ANY))
				lat_stat(EBPROF_LAT_PY_OUTS_FULL);
		}
	}
	ntid = BPF_CORE_READ(next, pid);
	o = ntid ? bpf_map_lookup_elem(&lat_py_outs, &ntid) : NULL;
	if (!o)
		return 0;
	now = bpf_ktime_get_ns();
	if (now > o->t0 && now - o->t0 >= targ_py_min_off_ns) {
		o->t1 = now;
		if (bpf_ringbuf_output(&lat_py_events, o, sizeof(*o), 0))
			lat_stat(EBPROF_LAT_PY_LOST);
	}
	bpf_map_delete_elem(&lat_py_outs, &ntid);
	return 0;
}

/*
 * --exact Python: a probe on _PyEval_EvalFrameDefault, which 3.8-3.10 call
 * once a Python call; a call of a function named is pushed as a native
 * one is, and the return probe on it ends it.  Each code object is named
 * once (its name and file compared with the functions'), then found by
 * its address (and its name's and file's, against reuse of the memory).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lat_pyx_cfg);
} lat_pyx_cfgs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EBPROF_LAT_PYX_MAX);
	__type(key, __u32);
	__type(value, struct lat_pyx_target);
} lat_pyx_targets SEC(".maps");

struct lat_pyx_key {
	__u64 code;
	__u64 id;	/* its name's and file's addresses */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct lat_pyx_key);
	__type(value, __s32);
} lat_pyx_codes SEC(".maps");

struct lat_pyx_name {
	char name[EBPROF_LAT_PYX_NAME];
	char file[128];
	__u32 base;	/* where the file's name starts in file */
	__s32 fn;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lat_pyx_name);
} lat_pyx_scratch SEC(".maps");

struct pyx_ctx {
	struct lat_pyx_name *n;
};

/* does target *i* have the name (and file) in c->n?  Then its fn: its index */
static long pyx_compare(__u32 i, struct pyx_ctx *c)
{
	struct lat_pyx_target *t = bpf_map_lookup_elem(&lat_pyx_targets, &i);
	struct lat_pyx_name *n = c->n;
	__u32 k;

	if (!t || !n)
		return 1;
	for (k = 0; k < EBPROF_LAT_PYX_NAME; k++) {
		if (t->name[k] != n->name[k])
			return 0;
		if (!t->name[k])
			break;
	}
	if (t->file[0]) {
		for (k = 0; k < EBPROF_LAT_PYX_NAME; k++) {
			char c = n->file[(n->base + k) & 127];

			if (n->base + k >= 128 || t->file[k] != c)
				return 0;
			if (!c)
				break;
		}
	}
	n->fn = t->fn;
	return 1;
}

static __always_inline int pyx_enter(struct pt_regs *ctx)
{
	__u64 now = bpf_ktime_get_ns(), frame, code, id, arg1, arg2;
	__u32 zero = 0, k;
	struct lat_pyx_cfg *cfg = bpf_map_lookup_elem(&lat_pyx_cfgs, &zero);
	struct lat_pyx_key key = {};
	struct lat_pyx_name *n;
	struct pyx_ctx c;
	__s32 *fn;

	if (!cfg || !cfg->ntargets)
		return 0;
	lat_stat(EBPROF_LAT_PYX_CALLS);
	/* both read, then one picked: a load from a computed offset of ctx is refused */
	arg1 = PT_REGS_PARM1(ctx);
	arg2 = PT_REGS_PARM2(ctx);
	barrier_var(arg1);
	barrier_var(arg2);
	frame = cfg->frame_arg == 1 ? arg1 : arg2;
	code = frame ? py_read_ptr(frame + (cfg->o.f_code & 0xfff)) : 0;
	if (!code)
		return 0;
	id = py_read_ptr(code + (cfg->o.co_name & 0xfff)) ^ (py_read_ptr(code + (cfg->o.co_filename & 0xfff)) << 1);
	key.code = code;
	key.id = id;
	fn = bpf_map_lookup_elem(&lat_pyx_codes, &key);
	if (fn) {
		if (*fn < 0)
			return 0;
		return lat_push(ctx, now, *fn);
	}
	n = bpf_map_lookup_elem(&lat_pyx_scratch, &zero);
	if (!n)
		return 0;
	py_read_ascii(&cfg->o, code + (cfg->o.co_name & 0xfff), n->name, sizeof(n->name), false);
	py_read_ascii(&cfg->o, code + (cfg->o.co_filename & 0xfff), n->file, sizeof(n->file), true);
	n->base = 0;
	for (k = 0; k < sizeof(n->file); k++) {
		if (!n->file[k])
			break;
		if (n->file[k] == '/')
			n->base = k + 1;
	}
	n->fn = -1;
	c.n = n;
	bpf_loop(cfg->ntargets < EBPROF_LAT_PYX_MAX ? cfg->ntargets : EBPROF_LAT_PYX_MAX, pyx_compare, &c, 0);
	bpf_map_update_elem(&lat_pyx_codes, &key, &n->fn, BPF_ANY);
	if (n->fn < 0)
		return 0;
	return lat_push(ctx, now, n->fn);
}

SEC("uprobe")
int eb_lat_pyx_entry(struct pt_regs *ctx) { return pyx_enter(ctx); }
SEC("uprobe")
int eb_lat_pyx_m_entry(struct pt_regs *ctx) { return pyx_enter(ctx); }

char LICENSE[] SEC("license") = "Dual BSD/GPL";
