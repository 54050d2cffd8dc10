// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cpu.bpf.c - ebprof's on-CPU sampler.  A perf_event program on every
 * online CPU filters the target set in the kernel, records the kernel
 * stack in a stack-trace map and the user stack in our own hash map, and
 * counts (tgid, [tid], user stack, kernel stack) in a hash map: no
 * per-sample trip to user space.  The target set: targets.bpf.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ebprof.h"
#include "targets.bpf.h"

const volatile bool targ_per_thread = false;
const volatile bool targ_kernel = true;		/* --no-kernel clears it */
const volatile bool targ_user = true;
const volatile bool targ_weight = false;	/* count events (sample periods), not samples */
const volatile bool targ_two_events = false;	/* -e A,B: the attach cookie says which */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 40960);
	__type(key, struct sample_key);
	__type(value, __u64);
} counts SEC(".maps");


static __always_inline void count_key(struct sample_key *key, __u64 weight)
{
	__u64 *c;
	long err;

	c = bpf_map_lookup_elem(&counts, key);
	if (c) {
		__sync_fetch_and_add(c, weight);
		return;
	}
	err = bpf_map_update_elem(&counts, key, &weight, BPF_NOEXIST);
	if (!err) {
		stat_inc(EBPROF_STAT_NEW_E0 + (key->epoch & 1));
	} else if (err == -17 /* EEXIST: another CPU raced us */) {
		c = bpf_map_lookup_elem(&counts, key);
		if (c)
			__sync_fetch_and_add(c, weight);
	} else if (err) {
		stat_inc(EBPROF_STAT_LOST_COUNTS);
	}
}

/*
 * Counted events (-e other than a clock): (CPU, event) -> the event's count
 * at its last sample on that CPU, whoever it hit, and at the start of the
 * target (set by user space, before a launched command runs).  Indexed
 * 2 * CPU + event; user space sizes both.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ev_last SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ev_start SEC(".maps");

/*
 * The events a sample stands for: those counted on this CPU since its last
 * sample (or since the start, if later).  Not the sample's period: for
 * software events in frequency mode the kernel reports the period it set
 * at this overflow for the next one (perf_swevent_set_period), while the
 * count that elapsed was the one set before, so a rising period (a short
 * burst, a command's first milliseconds) is over-counted.
 */
static __always_inline __u64 sample_weight(struct bpf_perf_event_data *ctx)
{
	struct bpf_perf_event_value v = {};
	__u32 i = 2 * bpf_get_smp_processor_id();
	__u64 *last, *start, base;

	if (targ_two_events)
		i += bpf_get_attach_cookie(ctx) & 1;
	last = bpf_map_lookup_elem(&ev_last, &i);
	start = bpf_map_lookup_elem(&ev_start, &i);
	if (!last || !start || bpf_perf_prog_read_value(ctx, &v, sizeof(v)))
		return *(volatile __u64 *)&ctx->sample_period;
	base = *last > *start ? *last : *start;
	*last = v.counter;
	return v.counter > base ? v.counter - base : 0;
}

static __always_inline int sample(struct bpf_perf_event_data *ctx, enum ustack_mode mode, bool python)
{
	struct sample_key key = {};
	struct user_regs uregs = {};
	__u32 ep = epoch & 1;
	__u64 tag = (__u64)ep << 63;
	bool in_kernel;
	/* before the target filter: every sample on a CPU moves its count on */
	__u64 weight = targ_weight ? sample_weight(ctx) : 1;

	if (!key_current(&key, targ_per_thread))
		return 0;
	key.epoch = ep;
	in_kernel = perf_in_kernel(ctx, &uregs);
	key_stacks(ctx, &key, (struct task_struct *)bpf_get_current_task(), in_kernel && targ_kernel, targ_user,
		   in_kernel ? NULL : &uregs, mode, python, tag);
	if (targ_two_events)
		key.event = bpf_get_attach_cookie(ctx) & 1;

	count_key(&key, weight);
	return 0;
}

/* Kernels with bpf_loop() (5.17+): unwind tables, frame pointers for JIT code. */
SEC("perf_event")
int eb_cpu_dwarf(struct bpf_perf_event_data *ctx)
{
	return sample(ctx, USTACK_TABLES, true);
}

/* --fp on kernels with bpf_loop(): frame pointers, Python stacks. */
SEC("perf_event")
int eb_cpu_fp_loop(struct bpf_perf_event_data *ctx)
{
	return sample(ctx, USTACK_FP, true);
}

/* Kernels with bpf_task_pt_regs() (5.15+): our own frame-pointer walk. */
SEC("perf_event")
int eb_cpu_fp(struct bpf_perf_event_data *ctx)
{
	return sample(ctx, USTACK_FP, false);
}

/* Older kernels: the kernel's own frame-pointer walk (bpf_get_stack). */
SEC("perf_event")
int eb_cpu_compat(struct bpf_perf_event_data *ctx)
{
	return sample(ctx, USTACK_KERNEL_FP, false);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
