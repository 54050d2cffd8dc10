// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mem.bpf.c - ebprof mem: allocator uprobes, page faults and mappings.
 *
 * An allocator's entry records the request and the caller's stacks (the
 * same user-stack and Python walkers as the CPU sampler) per thread; its
 * return records the block by address with the stacks that asked for it,
 * and counts it per stack.  A free finds the block, counts the free
 * against the stack that allocated it and forgets the block; a free of a
 * block not seen (allocated before the attach, or while the probes were
 * off) is ignored.  Calls made inside another allocator call (malloc under
 * PyObject_Malloc) are the outer call's business.
 */
#include "targets.bpf.h"

const volatile __u32 targ_mem_tgid = 0;
/* set by user space while all the allocator probes are attached: a window is counted whole */
__u32 mem_on = 0;
/*
 * set when the target's CPython begins to finalize (Py_FinalizeEx): what
 * it frees from then on is its teardown, and what it held is the answer
 */
__u32 mem_final = 0;

/* what an allocator entry asks for */
enum mem_kind {
	MEM_SIZE1 = 1,		/* size in arg 1: malloc, valloc, pvalloc, PyObject_Malloc */
	MEM_CALLOC,		/* n, size */
	MEM_SIZE2,		/* alignment, size: aligned_alloc, memalign */
	MEM_REALLOC,		/* ptr, size */
	MEM_REALLOCARRAY,	/* ptr, n, size */
	MEM_MEMALIGN_PTR,	/* void **ptr, alignment, size: posix_memalign */
	/* CPython's allocator table's functions: a ctx first (PyMemAllocatorEx) */
	MEM_CTX_SIZE1,		/* ctx, size */
	MEM_CTX_CALLOC,		/* ctx, n, size */
	MEM_CTX_REALLOC,	/* ctx, ptr, size */
	MEM_CTX_FREE,		/* ctx, ptr: a free (an attach cookie only) */
};

struct mem_inflight {
	__u64 sp;		/* the outermost call's stack pointer at entry */
	__u64 size;
	__u64 old;		/* realloc: the block it resizes */
	__u64 memptr;		/* posix_memalign: where the pointer goes */
	struct mem_key key;
	__u32 kind;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct mem_inflight);
} mem_inflight SEC(".maps");

/* live blocks by address (user space sizes it: --max-blocks) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, struct mem_block);
} mem_blocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct mem_key);
	__type(value, struct mem_stats);
} mem_stats SEC(".maps");

/* calls seen, bytes by power-of-two size, and losses */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EBPROF_MEM_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} mem_counters SEC(".maps");

static __always_inline void mem_count(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&mem_counters, &idx);

	if (v)
		*v += n;
}

/*
 * A trap of the target's (EBPROF_MEM_HITS_*), counted for what the probes
 * cost; false when calls are not being counted (the probes going on or off)
 */
static __always_inline bool mem_trap(__u32 hits)
{
	mem_count(hits, 1);
	if (mem_on)
		return true;
	mem_count(hits - EBPROF_MEM_HITS_ENTRY + EBPROF_MEM_OFF_ENTRY, 1);
	return false;
}

static __always_inline bool mem_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == targ_mem_tgid;
}

/* the stacks of the current call from user registers *r* (NULL: the task's, in a system call), into *key* */
static __always_inline void mem_stacks_at(void *ctx, struct user_regs *r, struct mem_key *key, __u32 tgid, __u32 tid)
{
	__u32 flags;

	key->tgid = tgid;
	flags = ustack_record(ctx, r, tgid, USTACK_TABLES, &key->ustack_hash, 0);
	if (flags & EBPROF_F_NEED_TABLES)
		request_tables(tgid);
	if (flags & EBPROF_F_USER_MISSING)
		stat_inc(EBPROF_STAT_LOST_USTACK);
	key->flags = flags & ~EBPROF_F_NEED_TABLES;
	key->pystack_hash = pystack_record(tgid, tid, &key->flags);
	key->flags &= ~EBPROF_F_NEW_STACK;
}

/* the user registers of a call a uprobe stopped at its entry */
static __always_inline void entry_regs(struct pt_regs *ctx, struct user_regs *r)
{
	r->ip = PT_REGS_IP(ctx);
	r->sp = PT_REGS_SP(ctx);
	r->bp = PT_REGS_FP(ctx);
	r->bx = ctx->bx;
	r->at_entry = 1;
}

/* the stacks of the call a uprobe stopped at its entry, into *key* */
static __always_inline void mem_stacks(struct pt_regs *ctx, struct mem_key *key, __u32 tgid, __u32 tid)
{
	struct user_regs r;

	entry_regs(ctx, &r);
	mem_stacks_at(ctx, &r, key, tgid, tid);
}

/* what an allocator call asks for, by its kind: *in*'s size, old block and pointer's place */
static __always_inline void mem_args(struct pt_regs *ctx, enum mem_kind kind, struct mem_inflight *in)
{
	switch (kind) {
	case MEM_SIZE1:
		in->size = PT_REGS_PARM1(ctx);
		break;
	case MEM_CALLOC:
		in->size = PT_REGS_PARM1(ctx) * PT_REGS_PARM2(ctx);
		break;
	case MEM_SIZE2:
		in->size = PT_REGS_PARM2(ctx);
		break;
	case MEM_REALLOC:
		in->old = PT_REGS_PARM1(ctx);
		in->size = PT_REGS_PARM2(ctx);
		break;
	case MEM_REALLOCARRAY:
		in->old = PT_REGS_PARM1(ctx);
		in->size = PT_REGS_PARM2(ctx) * PT_REGS_PARM3(ctx);
		break;
	case MEM_MEMALIGN_PTR:
		in->memptr = PT_REGS_PARM1(ctx);
		in->size = PT_REGS_PARM3(ctx);
		break;
	case MEM_CTX_SIZE1:
		in->size = PT_REGS_PARM2(ctx);
		break;
	case MEM_CTX_CALLOC:
		in->size = PT_REGS_PARM2(ctx) * PT_REGS_PARM3(ctx);
		break;
	case MEM_CTX_REALLOC:
		in->old = PT_REGS_PARM2(ctx);
		in->size = PT_REGS_PARM3(ctx);
		break;
	default:
		break;
	}
}

static __always_inline int mem_enter(struct pt_regs *ctx, enum mem_kind kind)
{
	__u64 id = bpf_get_current_pid_tgid(), sp = PT_REGS_SP(ctx);
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct mem_inflight *cur, in = {};

	if (tgid != targ_mem_tgid || !mem_trap(EBPROF_MEM_HITS_ENTRY))
		return 0;
	cur = bpf_map_lookup_elem(&mem_inflight, &tid);
	/* the interpreter's teardown: counted apart, its blocks not tracked (what it held stays) */
	if (mem_final) {
		if (!(cur && sp < cur->sp)) {
			mem_args(ctx, kind, &in);
			mem_count(EBPROF_MEM_FINAL_ALLOCS, 1);
			mem_count(EBPROF_MEM_FINAL_BYTES, in.size);
			/* a realloc: a free of the block it resizes too */
			if (in.old)
				mem_count(EBPROF_MEM_FINAL_FREES, 1);
		}
		return 0;
	}
	/* deeper on the stack than a call in flight: an allocator inside an allocator */
	if (cur && sp < cur->sp) {
		mem_count(EBPROF_MEM_NESTED, 1);
		return 0;
	}
	mem_count(EBPROF_MEM_ENTRIES, 1);
	in.sp = sp;
	in.kind = kind;
	mem_args(ctx, kind, &in);
	mem_stacks(ctx, &in.key, tgid, tid);
	bpf_map_update_elem(&mem_inflight, &tid, &in, BPF_ANY);
	return 0;
}

/*
 * a block goes: its bytes are freed from the stack that allocated it; one
 * not seen allocated is counted apart (*count*: a call's, not a check's)
 */
static __always_inline void mem_release(__u64 addr, bool count)
{
	struct mem_block *b;
	struct mem_stats *st;

	if (!addr)
		return;
	b = bpf_map_lookup_elem(&mem_blocks, &addr);
	if (!b) {
		if (count)
			mem_count(EBPROF_MEM_UNSEEN_FREES, 1);
		return;
	}
	st = bpf_map_lookup_elem(&mem_stats, &b->key);
	if (st) {
		__sync_fetch_and_add(&st->frees, 1);
		__sync_fetch_and_add(&st->bytes_freed, b->size);
	}
	bpf_map_delete_elem(&mem_blocks, &addr);
}

static __always_inline int mem_exit(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), sp = PT_REGS_SP(ctx), addr;
	__u32 tgid = id >> 32, tid = (__u32)id, bucket = 0;
	struct mem_inflight *in;
	struct mem_block blk = {};
	struct mem_stats *st, zero = {};
	__u64 s;

	if (tgid != targ_mem_tgid || !mem_trap(EBPROF_MEM_HITS_RET))
		return 0;
	in = bpf_map_lookup_elem(&mem_inflight, &tid);
	/* after ret, sp is 8 above where the outermost call started */
	if (!in || sp != in->sp + 8) {
		mem_count(EBPROF_MEM_RET_OTHER, 1);
		return 0;
	}
	addr = PT_REGS_RC(ctx);
	if (in->kind == MEM_MEMALIGN_PTR) {
		if (addr != 0 || bpf_probe_read_user(&addr, sizeof(addr), (void *)in->memptr))
			addr = 0;
	}
	if ((in->kind == MEM_REALLOC || in->kind == MEM_REALLOCARRAY || in->kind == MEM_CTX_REALLOC) && in->old) {
		/* the old block is gone unless realloc failed: a free, as valgrind counts it */
		if (addr || !in->size) {
			mem_release(in->old, true);
			mem_count(EBPROF_MEM_FREES, 1);
		}
	}
	if (!addr)
		goto out;
	/* an address we still hold was freed while we did not look */
	mem_release(addr, false);
	blk.size = in->size;
	blk.key = in->key;
	blk.ts = bpf_ktime_get_ns();
	st = bpf_map_lookup_elem(&mem_stats, &in->key);
	if (!st) {
		bpf_map_update_elem(&mem_stats, &in->key, &zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&mem_stats, &in->key);
	}
	if (st) {
		__sync_fetch_and_add(&st->allocs, 1);
		__sync_fetch_and_add(&st->bytes, in->size);
	} else {
		mem_count(EBPROF_MEM_LOST_STACKS, 1);
	}
	if (bpf_map_update_elem(&mem_blocks, &addr, &blk, BPF_ANY))
		mem_count(EBPROF_MEM_LOST_BLOCKS, 1);
	mem_count(EBPROF_MEM_ALLOCS, 1);
	mem_count(EBPROF_MEM_BYTES, in->size);
	for (s = in->size; s > 1 && bucket < 63; s >>= 1)
		bucket++;
	mem_count(EBPROF_MEM_HIST + (bucket & 63), 1);
out:
	bpf_map_delete_elem(&mem_inflight, &tid);
	return 0;
}

SEC("uprobe")
int eb_mem_size1(struct pt_regs *ctx) { return mem_enter(ctx, MEM_SIZE1); }
SEC("uprobe")
int eb_mem_calloc(struct pt_regs *ctx) { return mem_enter(ctx, MEM_CALLOC); }
SEC("uprobe")
int eb_mem_size2(struct pt_regs *ctx) { return mem_enter(ctx, MEM_SIZE2); }
SEC("uprobe")
int eb_mem_realloc(struct pt_regs *ctx) { return mem_enter(ctx, MEM_REALLOC); }
SEC("uprobe")
int eb_mem_reallocn(struct pt_regs *ctx) { return mem_enter(ctx, MEM_REALLOCARRAY); }
SEC("uprobe")
int eb_mem_memalign(struct pt_regs *ctx) { return mem_enter(ctx, MEM_MEMALIGN_PTR); }

SEC("uretprobe")
int eb_mem_ret(struct pt_regs *ctx) { return mem_exit(ctx); }

/*
 * The trap alone, as the entries cost a process that is not the target
 * (they return at once): put on ebprof's own malloc to measure it, with
 * no stack walk for the verifier to go through once more.
 */
SEC("uprobe")
int eb_mem_cal(struct pt_regs *ctx) { return 0; }

static __always_inline int mem_free_call(struct pt_regs *ctx, __u64 addr)
{
	struct mem_inflight *cur;
	__u32 tid;

	if (!mem_target() || !mem_trap(EBPROF_MEM_HITS_FREE))
		return 0;
	/* free(NULL) frees nothing: not a free (nor is it one to valgrind) */
	if (!addr)
		return 0;
	if (mem_final) {
		mem_count(EBPROF_MEM_FINAL_FREES, 1);
		return 0;
	}
	tid = (__u32)bpf_get_current_pid_tgid();
	/* free inside an allocator (realloc's, PyObject_Free's): the outer call's */
	cur = bpf_map_lookup_elem(&mem_inflight, &tid);
	if (cur && PT_REGS_SP(ctx) < cur->sp)
		return 0;
	mem_count(EBPROF_MEM_FREES, 1);
	mem_release(addr, true);
	return 0;
}

SEC("uprobe")
int eb_mem_free(struct pt_regs *ctx) { return mem_free_call(ctx, PT_REGS_PARM1(ctx)); }

/*
 * The same as one uprobe.multi link per file (kernel 6.6): the attach
 * cookie says what the function is (enum mem_kind; 0: a free).  Such a
 * link goes in one close, where separate uprobes go one grace period
 * (~50 ms here) each: what lets the budgeted mode switch quickly.  The
 * kinds with a ctx come here on older kernels too, a uprobe each with its
 * cookie (5.15).
 */
SEC("uprobe")
int eb_mem_m_entry(struct pt_regs *ctx)
{
	__u64 kind = bpf_get_attach_cookie(ctx);

	if (kind >= MEM_SIZE1 && kind <= MEM_CTX_REALLOC)
		return mem_enter(ctx, kind);
	/* two reads, not one through a computed offset (the verifier's rule for ctx) */
	if (kind == MEM_CTX_FREE)
		return mem_free_call(ctx, PT_REGS_PARM2(ctx));
	return mem_free_call(ctx, PT_REGS_PARM1(ctx));
}

SEC("uprobe")
int eb_mem_m_ret(struct pt_regs *ctx) { return mem_exit(ctx); }

/*
 * A launched command's interposer (user/preload/ebmem.c, user/memshm.h)
 * counts every call itself and calls a marker for a sampled allocation,
 * ebprof_mem_sampled(const struct ebmem_sample *): its block, weights, and
 * the frees of sampled blocks its thread holds (address and sample id),
 * told first.  When a thread holds too many, ebprof_mem_sampled_free(
 * blocks, n) tells them.  The stacks are taken at the marker's entry by a
 * uprobe, or, where ebprof traces getppid instead (the interposer then
 * calls getppid() in the marker, a system call rather than a trap, with
 * EBMEM_MARK_SAMPLE and the sample, or EBMEM_MARK_FREE, the blocks and
 * their number, then EBMEM_MARK_CHECK, in its argument registers), from
 * the task's user registers in that call.  The interposer's own frames
 * are dropped in user space.
 */
#define EBMEM_PEND 32
#define EBMEM_ID_SHIFT 48
#define EBMEM_MARK_SAMPLE 0x45424d53
#define EBMEM_MARK_FREE 0x45424d46
#define EBMEM_MARK_CHECK 0x6562707266ULL

/* user/memshm.h's, field for field */
struct ebmem_sample {
	__u64 block, size, w_bytes, w_count, var_bytes, pend, id, seq, peak_seq_at;
};
_Static_assert(sizeof(struct ebmem_sample) == 9 * 8, "user/memshm.h's struct ebmem_sample has 9 fields");

/* where the interposer keeps the sequence number of its peak, in the process counted */
__u64 mem_peak_seq_at;

/* the sequence number of the interposer's peak now: 0, none yet */
static __always_inline __u64 smp_peak(void)
{
	__u64 peak = 0;

	if (mem_peak_seq_at)
		bpf_probe_read_user(&peak, sizeof(peak), (void *)mem_peak_seq_at);
	return peak;
}

/*
 * a sampled block freed, at *seq* in the interposer's sequence, told with
 * its peak at *peak*: its stack's stats take it back, and keep it among
 * those held at the peak if it was (user/memshm.h's peak_seq).  A block
 * told freed before the peak was raised to *peak* was freed before it, so
 * a stack's sums of blocks held at an older peak start again.
 */
static __always_inline void smp_release(struct mem_block *b, __u64 seq, __u64 peak)
{
	struct mem_stats *st = bpf_map_lookup_elem(&mem_stats, &b->key);

	if (!st)
		return;
	__sync_fetch_and_add(&st->frees, b->w.count);
	__sync_fetch_and_add(&st->bytes_freed, b->w.bytes);
	if (peak < st->peak_seq)
		peak = st->peak_seq;	/* another thread told a later one */
	if (!peak)
		return;
	if (peak != st->peak_seq) {
		st->peak_seq = peak;
		st->peak_count = st->peak_bytes = st->peak_var = 0;
	}
	if (b->w.seq < peak && peak <= seq) {
		__sync_fetch_and_add(&st->peak_count, b->w.count);
		__sync_fetch_and_add(&st->peak_bytes, b->w.bytes);
		__sync_fetch_and_add(&st->peak_var, b->w.var_bytes);
	}
}

/* user/memshm.h's npend, pend[] and pend_seq[] */
struct smp_frees {
	__u64 n;
	__u64 blocks[EBMEM_PEND];
	__u64 seqs[EBMEM_PEND];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct smp_frees);
} mem_smp_frees SEC(".maps");

/* the frees told: *f*'s blocks that are still the ones sampled (same id) go */
static __always_inline void smp_free_all(struct smp_frees *f)
{
	__u64 peak = smp_peak();
	__u32 i;

	for (i = 0; i < EBMEM_PEND && i < f->n; i++) {
		__u64 e = f->blocks[i], addr = e & ((1ULL << EBMEM_ID_SHIFT) - 1);
		struct mem_block *b = bpf_map_lookup_elem(&mem_blocks, &addr);

		mem_count(EBPROF_MEM_FREES, 1);
		if (!b || b->w.id != e >> EBMEM_ID_SHIFT) {
			/* told already: another thread's sample at its address came first */
			mem_count(EBPROF_MEM_UNSEEN_FREES, 1);
			continue;
		}
		smp_release(b, f->seqs[i], peak);
		bpf_map_delete_elem(&mem_blocks, &addr);
	}
}

/* a sampled block being made (off the programs' stack, which the stack walk fills), and a zero to start a site */
struct smp_scratch {
	struct mem_block blk;
	struct ebmem_sample smp;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct smp_scratch);
} mem_smp_scratch SEC(".maps");

struct mem_stats mem_stats_zero = {};

/*
 * a sample (*u*: the interposer's struct ebmem_sample), its stacks from
 * *r* (NULL: the task's user registers, in its getppid)
 */
static __always_inline int smp_alloc(void *ctx, struct user_regs *r, __u64 u)
{
	__u64 id = bpf_get_current_pid_tgid(), addr;
	__u32 tgid = id >> 32, tid = (__u32)id, zero = 0;
	struct smp_scratch *sc;
	struct ebmem_sample *smp;
	struct smp_frees *f;
	struct mem_block *blk, *old;
	struct mem_stats *st;
	struct mem_key key = {};

	if (tgid != targ_mem_tgid)
		return 0;
	mem_count(EBPROF_MEM_HITS_ENTRY, 1);
	sc = bpf_map_lookup_elem(&mem_smp_scratch, &zero);
	if (!sc)
		return 0;
	smp = &sc->smp;
	if (bpf_probe_read_user(smp, sizeof(*smp), (void *)u))
		return 0;
	if (smp->peak_seq_at)
		mem_peak_seq_at = smp->peak_seq_at;
	f = bpf_map_lookup_elem(&mem_smp_frees, &zero);
	if (f && smp->pend && !bpf_probe_read_user(f, sizeof(*f), (void *)smp->pend))
		smp_free_all(f);
	mem_stacks_at(ctx, r, &key, tgid, tid);
	/* the walk may have used the scratch of another program on this CPU: looked up again */
	sc = bpf_map_lookup_elem(&mem_smp_scratch, &zero);
	if (!sc)
		return 0;
	smp = &sc->smp;
	blk = &sc->blk;
	addr = smp->block;
	blk->key = key;
	blk->size = smp->size;
	blk->ts = bpf_ktime_get_ns();
	blk->w.bytes = smp->w_bytes;
	blk->w.count = smp->w_count;
	blk->w.var_bytes = smp->var_bytes;
	blk->w.id = smp->id;
	blk->w.seq = smp->seq;
	st = bpf_map_lookup_elem(&mem_stats, &key);
	if (!st) {
		bpf_map_update_elem(&mem_stats, &key, &mem_stats_zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&mem_stats, &key);
	}
	if (st) {
		__sync_fetch_and_add(&st->allocs, blk->w.count);
		__sync_fetch_and_add(&st->bytes, blk->w.bytes);
		__sync_fetch_and_add(&st->samples, 1);
		__sync_fetch_and_add(&st->var_bytes, blk->w.var_bytes);
	} else {
		mem_count(EBPROF_MEM_LOST_STACKS, 1);
	}
	/* a block still at its address was freed, by a thread that has not told it yet: gone now (before this sample) */
	old = bpf_map_lookup_elem(&mem_blocks, &addr);
	if (old)
		smp_release(old, smp->seq, smp_peak());
	if (bpf_map_update_elem(&mem_blocks, &addr, blk, BPF_ANY))
		mem_count(EBPROF_MEM_LOST_BLOCKS, 1);
	mem_count(EBPROF_MEM_ALLOCS, 1);
	return 0;
}

/* frees told: *n* blocks at *u* */
static __always_inline int smp_free(__u64 u, __u64 n)
{
	struct smp_frees *f;
	__u32 zero = 0;

	if (!mem_target())
		return 0;
	mem_count(EBPROF_MEM_HITS_FREE, 1);
	f = bpf_map_lookup_elem(&mem_smp_frees, &zero);
	if (!f || !n || n > EBMEM_PEND)
		return 0;
	if (bpf_probe_read_user(f->blocks, n * sizeof(__u64), (void *)u) ||
	    bpf_probe_read_user(f->seqs, n * sizeof(__u64), (void *)(u + EBMEM_PEND * sizeof(__u64))))
		return 0;
	f->n = n;
	smp_free_all(f);
	return 0;
}

/* the markers' uprobes */
SEC("uprobe")
int eb_mem_smp_alloc(struct pt_regs *ctx)
{
	struct user_regs r;

	entry_regs(ctx, &r);
	return smp_alloc(ctx, &r, PT_REGS_PARM1(ctx));
}

SEC("uprobe")
int eb_mem_smp_free(struct pt_regs *ctx)
{
	return smp_free(PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx));
}

/*
 * or the markers' getppid (user/memshm.h): a system call, no trap.  Its
 * tracepoint records no arguments (it has none): they are read from the
 * task's user registers.
 */
SEC("tp/syscalls/sys_enter_getppid")
int eb_mem_smp_sys(void *ctx)
{
	struct pt_regs *regs;
	__u64 what;

	if (!mem_target())
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (BPF_CORE_READ(regs, r10) != EBMEM_MARK_CHECK)
		return 0;
	what = BPF_CORE_READ(regs, di);
	if (what == EBMEM_MARK_SAMPLE)
		return smp_alloc(ctx, NULL, BPF_CORE_READ(regs, si));
	if (what == EBMEM_MARK_FREE)
		return smp_free(BPF_CORE_READ(regs, si), BPF_CORE_READ(regs, dx));
	return 0;
}

SEC("uprobe")
int eb_mem_finalize(struct pt_regs *ctx)
{
	if (mem_target())
		mem_final = 1;
	return 0;
}

/* which stacks fault in new pages (RSS growth), and which map memory */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct mem_key);
	__type(value, struct mem_rss);
} mem_rss SEC(".maps");

static __always_inline void mem_rss_add(void *ctx, __u64 faults, __u64 mapped)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id, flags;
	struct mem_key key = {};
	struct mem_rss *v, zero = {};

	key.tgid = tgid;
	flags = ustack_record(ctx, NULL, tgid, USTACK_TABLES, &key.ustack_hash, 0);
	if (flags & EBPROF_F_NEED_TABLES)
		request_tables(tgid);
	key.flags = flags & ~EBPROF_F_NEED_TABLES;
	key.pystack_hash = pystack_record(tgid, tid, &key.flags);
	key.flags &= ~EBPROF_F_NEW_STACK;
	v = bpf_map_lookup_elem(&mem_rss, &key);
	if (!v) {
		bpf_map_update_elem(&mem_rss, &key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&mem_rss, &key);
	}
	if (!v)
		return;
	__sync_fetch_and_add(&v->faults, faults);
	__sync_fetch_and_add(&v->mapped, mapped);
}

SEC("tp/exceptions/page_fault_user")
int eb_mem_fault(struct trace_event_raw_exceptions *ctx)
{
	if (!mem_target())
		return 0;
	/* error code bit 0: a protection fault on a present page; 0: a new page */
	if (ctx->error_code & 1)
		return 0;
	mem_count(EBPROF_MEM_FAULTS, 1);
	mem_rss_add(ctx, 1, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_mmap")
int eb_mem_mmap(struct trace_event_raw_sys_enter *ctx)
{
	if (!mem_target())
		return 0;
	mem_rss_add(ctx, 0, ctx->args[1]);
	return 0;
}

/* brk: the heap grows by new - old */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} mem_brk SEC(".maps");

SEC("tp/syscalls/sys_exit_brk")
int eb_mem_brk_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 now = ctx->ret, *old;

	if (tgid != targ_mem_tgid)
		return 0;
	old = bpf_map_lookup_elem(&mem_brk, &tgid);
	if (old && now > *old)
		mem_rss_add(ctx, 0, now - *old);
	bpf_map_update_elem(&mem_brk, &tgid, &now, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
