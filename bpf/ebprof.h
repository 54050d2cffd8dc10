/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ebprof.h - the ABI shared by the BPF programs and user space: limits and
 * the key/value/event structs.  Fixed-width types only, so it compiles next
 * to vmlinux.h and next to libc.
 */
#ifndef __EBPROF_H
#define __EBPROF_H

#define EBPROF_COMM_LEN		16
#define EBPROF_MAX_STACK	127	/* frames per user or kernel stack */

/* indexes into the per-CPU "stats" array */
enum ebprof_stat {
	EBPROF_STAT_SAMPLES,		/* samples that matched the target set */
	EBPROF_STAT_LOST_COUNTS,	/* counts map full */
	EBPROF_STAT_LOST_USTACK,	/* user stack map full */
	EBPROF_STAT_KSTACK_ERR,		/* kernel stack could not be stored */
	EBPROF_STAT_KSTACK_COLLISION,	/* kernel stack-map hash collision */
	EBPROF_STAT_USTACK_TRUNC,	/* user walk hit the depth limit */
	EBPROF_STAT_EVENTS_LOST,	/* ring buffer full */
	EBPROF_STAT_MAX,
};

/* flags in struct sample_key.flags */
#define EBPROF_F_USER_MISSING	(1u << 0)	/* no user stack (kernel thread, fault) */
#define EBPROF_F_USER_TRUNC	(1u << 1)	/* user walk stopped at the depth limit */
#define EBPROF_F_KERNEL_MISSING	(1u << 2)	/* in kernel, but the stack was not stored */

/*
 * A user stack, innermost frame first.  It lives in the "ustacks" hash map
 * under a 64-bit hash of its frames, so that the way the frames were found
 * (frame pointers now, unwind tables later) stays private to the BPF side.
 */
struct ustack {
	__u32 nr;
	__u32 pad;
	__u64 ips[EBPROF_MAX_STACK];
};

struct sample_key {
	__u32 tgid;
	__u32 tid;		/* 0 unless per-thread */
	__u32 gen;		/* exec generation of tgid: which maps apply */
	__s32 kstack_id;	/* -1: none */
	__u64 ustack_hash;	/* 0: none */
	__u32 flags;
	__u32 pad;
	char comm[EBPROF_COMM_LEN];
};

enum ebprof_event_type {
	EBPROF_EV_FORK = 1,	/* a new process joined the target set */
	EBPROF_EV_EXEC,		/* a target exec'd: new generation */
	EBPROF_EV_MMAP_EXEC,	/* a target mapped executable memory */
	EBPROF_EV_EXIT,		/* a target process exited */
};

struct ebprof_event {
	__u32 type;
	__u32 tgid;
	__u32 ppid;
	__u32 gen;
	char comm[EBPROF_COMM_LEN];
};

#endif /* __EBPROF_H */
