/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * stats.bpf.h - the per-CPU counters (enum ebprof_stat) every program
 * bumps: samples, losses, what the maps took in.
 */
#ifndef __STATS_BPF_H
#define __STATS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ebprof.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EBPROF_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		(*v)++;
}

#endif /* __STATS_BPF_H */
