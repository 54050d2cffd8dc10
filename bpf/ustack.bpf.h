/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ustack.bpf.h - user stacks for every program that records stacks.
 *
 * ustack_record() finds the user frames of the current task, stores them in
 * the "ustacks" map under a hash of the frames and returns EBPROF_F_* flags.
 * Callers only see the hash, so the walk below (frame pointers today) can be
 * replaced by a table-driven unwinder without touching them.
 */
#ifndef __USTACK_BPF_H
#define __USTACK_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ebprof.h"
#include "stats.bpf.h"

struct user_regs {
	__u64 ip, sp, bp, bx;
	__u64 at_entry;		/* ip is a function's first instruction (uprobes): the return address is at sp */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct ustack);
} ustacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ustack);
} ustack_scratch SEC(".maps");

#define USER_TOP 0x800000000000ULL	/* x86-64 user space ends below */

/*
 * A function under a uretprobe (ebprof mem's allocator probes, anyone's)
 * returns to the uprobe trampoline, not its caller, until it returns: a
 * walk meets the trampoline's address where the caller's should be.  The
 * kernel keeps the real ones, newest first, in the thread's return
 * instances; a chained one (a tail call: the slot held the trampoline
 * already) shares its slot with the next.
 */
struct uretprobes {
	__u64 tramp;	/* the trampoline's address; 0: none */
	__u64 ri;	/* struct return_instance *: the next real return address */
};

static __always_inline void uretprobes_init(struct uretprobes *u)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	u->tramp = 0;
	u->ri = 0;
	if (!bpf_core_type_exists(struct xol_area) || !bpf_core_field_exists(task->utask))
		return;
	u->ri = (__u64)BPF_CORE_READ(task, utask, return_instances);
	if (u->ri)
		u->tramp = BPF_CORE_READ(task, mm, uprobes_state.xol_area, vaddr);
}

/*
 * *ra* is the trampoline's: the return address it stands for.  Plain
 * reads into scalars, no loop: this runs in every step of the walks, and
 * the verifier goes through each.  A chain of one tail call is followed.
 */
static __always_inline __u64 uretprobes_fix(struct uretprobes *u, __u64 ra)
{
	struct return_instance *ri = (void *)u->ri;
	__u64 real = 0, next = 0;
	bool chained = false;

	if (ra != u->tramp || !u->tramp)
		return ra;
	bpf_core_read(&real, sizeof(real), &ri->orig_ret_vaddr);
	bpf_core_read(&chained, sizeof(chained), &ri->chained);
	bpf_core_read(&next, sizeof(next), &ri->next);
	if (chained) {
		ri = (void *)next;
		next = 0;
		bpf_core_read(&next, sizeof(next), &ri->next);
	}
	u->ri = next;
	return real;
}

#include "unwind.bpf.h"

/* how ustack_record() finds the frames */
enum ustack_mode {
	USTACK_FP,		/* our frame-pointer walk (5.15: bpf_task_pt_regs) */
	USTACK_KERNEL_FP,	/* the kernel's frame-pointer walk (bpf_get_stack) */
	USTACK_TABLES,		/* unwind tables, frame pointers where there are none (5.17: bpf_loop) */
	USTACK_TABLES_REUSE,	/* the same, a thread's last walk reused when nothing it read changed */
};

/*
 * Does *ra* follow a call instruction?  Used only to vet the return address
 * we guess for a leaf sampled in its prologue or at its ret, so that a
 * pushed register is never shown as a frame.
 */
static __always_inline bool after_call(__u64 ra)
{
	__u8 c[8];

	if (bpf_probe_read_user(c, sizeof(c), (void *)(ra - 8)))
		return false;
	return c[3] == 0xe8 ||				/* call rel32 */
	       (c[2] == 0xff && c[3] == 0x15) ||	/* call *disp32(%rip) */
	       (c[5] == 0xff && (c[6] & 0xf8) == 0x50) ||	/* call *disp8(%reg) */
	       (c[6] == 0xff && (c[7] & 0xf8) == 0xd0);	/* call *%reg */
}

/*
 * In a function's first instructions (endbr64, push %rbp, mov %rsp,%rbp) or
 * at its final ret, %rbp still holds the caller's frame, so a plain frame
 * walk would skip the caller.  Its return address is on top of the stack.
 */
static __always_inline __u64 leaf_return_address(__u64 ip, __u64 sp)
{
	__u8 c[4];
	__u64 slot = 0, ra = 0;

	if (bpf_probe_read_user(c, sizeof(c), (void *)ip))
		return 0;
	if (c[0] == 0x55 || c[0] == 0xc3 ||
	    (c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa))
		slot = sp;
	else if (c[0] == 0x48 && c[1] == 0x89 && c[2] == 0xe5)
		slot = sp + 8;
	if (!slot || bpf_probe_read_user(&ra, sizeof(ra), (void *)slot))
		return 0;
	if (!ra || ra >= USER_TOP || !after_call(ra))
		return 0;
	return ra;
}

/*
 * Does the call that returns to *ra* lead to the function that holds *ip*?
 * Direct calls (e8 rel32), calls through the GOT (ff 15) and calls to a PLT
 * stub (jmp *GOT) are checked; the callee must start at most 64 KiB below
 * *ip*.  This vets return addresses found by scanning the stack.
 */
static __always_inline bool calls_near(__u64 ra, __u64 ip)
{
	__u8 b[6], p[8];
	__u64 target, fn = 0;
	__s32 rel;

	if (bpf_probe_read_user(b, sizeof(b), (void *)(ra - 6)))
		return false;
	__builtin_memcpy(&rel, &b[2], sizeof(rel));
	if (b[1] == 0xe8) {
		target = ra + (__s64)rel;
		if (ip >= target && ip - target < 0x10000)
			return true;
		/* a PLT stub: jmp *GOT(%rip), maybe after endbr64 and/or bnd */
		if (bpf_probe_read_user(p, sizeof(p), (void *)target))
			return false;
		if (p[0] == 0xff && p[1] == 0x25) {
			__builtin_memcpy(&rel, &p[2], sizeof(rel));
			target += 6 + (__s64)rel;
		} else if (p[0] == 0xf2 && p[1] == 0xff && p[2] == 0x25) {
			__builtin_memcpy(&rel, &p[3], sizeof(rel));
			target += 7 + (__s64)rel;
		} else if (p[0] == 0xf3 && p[1] == 0x0f && p[2] == 0x1e && p[3] == 0xfa &&
			   p[4] == 0xf2 && p[5] == 0xff && p[6] == 0x25) {
			if (bpf_probe_read_user(&rel, sizeof(rel), (void *)(target + 7)))
				return false;
			target += 11 + (__s64)rel;
		} else {
			return false;
		}
	} else if (b[0] == 0xff && b[1] == 0x15) {
		target = ra + (__s64)rel;	/* the GOT slot */
	} else {
		return false;
	}
	if (bpf_probe_read_user(&fn, sizeof(fn), (void *)target))
		return false;
	return ip >= fn && ip - fn < 0x10000;
}

/*
 * A leaf without a frame of its own (common at -O2, and everywhere in
 * libraries built without frame pointers) leaves %rbp at its caller's
 * frame, so the walk would skip the caller.  Its return address is within
 * the first slots above %rsp: take the first that calls the function at
 * *ip*.  *fp_ra* is what the frame walk will find first: seeing it means
 * the leaf has a frame after all.
 */
static __always_inline __u64 frameless_caller(__u64 ip, __u64 sp, __u64 fp_ra)
{
	__u64 slots[4];
	int i;

	if (bpf_probe_read_user(slots, sizeof(slots), (void *)sp))
		return 0;
#pragma unroll
	for (i = 0; i < 4; i++) {
		if (slots[i] == fp_ra)
			return 0;
		if (slots[i] > 0x10000 && slots[i] < USER_TOP && calls_near(slots[i], ip))
			return slots[i];
	}
	return 0;
}

/*
 * Walk the frame-pointer chain into *st*; the hash of the frames comes back
 * in *hash*, computed on the way, so that no second loop runs once per way
 * the walk can end (the verifier would explore each: slow loading).
 */
static __always_inline __u32 walk_frame_pointers(struct ustack *st, struct user_regs *r, __u64 *hash)
{
	__u64 bp = r->bp, ra, frame[2] = {}, h = EBPROF_HASH_SEED;
	struct uretprobes u;
	__u32 n = 0;
	int i;

	uretprobes_init(&u);
	st->ips[n++] = r->ip;
	h = ebprof_hash_step(h, r->ip);
	ra = 0;
	if (r->at_entry)
		bpf_probe_read_user(&ra, sizeof(ra), (void *)r->sp);
	else
		ra = leaf_return_address(r->ip, r->sp);
	if (!ra) {
		if (bp && !(bp & 7) && bp < USER_TOP)
			bpf_probe_read_user(frame, sizeof(frame), (void *)bp);
		ra = frameless_caller(r->ip, r->sp, frame[1]);
	}
	/*
	 * The frame-pointer chain is a loop the verifier goes through step by
	 * step: only its first return address (an allocator's caller, under
	 * ebprof mem) is looked up among the uretprobes'
	 */
	if (ra) {
		ra = uretprobes_fix(&u, ra);
		st->ips[n++] = ra;
		h = ebprof_hash_step(h, ra);
	}

	for (i = 0; i < EBPROF_MAX_STACK; i++) {
		if (n >= EBPROF_MAX_STACK) {
			*hash = h;
			return n | (1u << 31);	/* depth limit */
		}
		if (!bp || (bp & 7) || bp >= USER_TOP)
			break;
		if (bpf_probe_read_user(frame, sizeof(frame), (void *)bp))
			break;
		/* no code lives in the first page: that is not a return address */
		if (frame[1] < 0x1000 || frame[1] >= USER_TOP)
			break;
		st->ips[n++] = frame[1];
		h = ebprof_hash_step(h, frame[1]);
		if (frame[0] <= bp)	/* frames must move up the stack */
			break;
		bp = frame[0];
	}
	*hash = h;
	return n;
}

static __always_inline __u64 hash_ips(const struct ustack *st)
{
	__u64 h = EBPROF_HASH_SEED;
	int i;

	for (i = 0; i < EBPROF_MAX_STACK; i++) {
		if (i >= st->nr)
			break;
		h = ebprof_hash_step(h, st->ips[i]);
	}
	return h ? h : 1;
}

/*
 * Kernel stacks, kept as user stacks are: under a 64-bit hash of their
 * frames, not in a stack-trace map, whose buckets drop a stack that lands
 * on another's: a busy server lost dozens a run.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct ustack);
} kstacks SEC(".maps");

/*
 * The half of the count and stack maps the samplers fill; user space
 * drains the other (EBPROF_EPOCH_BIT).  Read once per sample.
 */
__u32 epoch = 0;

/*
 * the kernel stack of this sample into "kstacks" in epoch *tag*: its hash,
 * or 0 when it is lost
 */
static __always_inline __u64 kstack_record(void *ctx, __u64 tag)
{
	__u32 zero = 0;
	struct ustack *st = bpf_map_lookup_elem(&ustack_scratch, &zero);
	__u64 hash;
	long len, err;

	if (!st)
		return 0;
	len = bpf_get_stack(ctx, st->ips, sizeof(st->ips), 0);
	if (len <= 0)
		return 0;
	st->nr = len / sizeof(__u64);
	hash = ebprof_epoch_hash(hash_ips(st), tag);
	err = bpf_map_update_elem(&kstacks, &hash, st, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: stored before */)
		return 0;
	if (!err)
		stat_inc(EBPROF_STAT_NEW_E0 + !!tag);
	return hash;
}

/* in execve (the kernel's flag, where it has one) */
static __always_inline bool in_execve(void)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return bpf_core_field_exists(t->in_execve) && BPF_CORE_READ_BITFIELD_PROBED(t, in_execve);
}

/*
 * (thread, where it is) -> its last walk from there (struct ucache), for
 * programs that walk a thread where it blocks (ebprof off): mostly at one
 * of a few calls, with the same registers and the same words on its stack
 * as last time there.  User space sizes it; the least recently used make
 * room.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, struct ucache);
} ucache SEC(".maps");

/* [0]: a zeroed record to insert; never written */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ucache);
} ucache_zero SEC(".maps");

/* the stack words a reused walk is checked against, read at once */
struct ucache_words {
	__u8 b[UCACHE_SPAN + 8];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ucache_words);
} ucache_buf SEC(".maps");

/*
 * the record of thread *tid*'s last walk from *ip*, made when it has none;
 * NULL when the map cannot take it
 */
static __always_inline struct ucache *ucache_get(__u32 tid, __u64 ip)
{
	__u64 key = ((ip * 0x9e3779b97f4a7c15ULL) & 0xffffffff00000000ULL) | tid;
	struct ucache *c = bpf_map_lookup_elem(&ucache, &key), *z;
	__u32 zero = 0;

	if (c)
		return c;
	z = bpf_map_lookup_elem(&ucache_zero, &zero);
	if (!z || bpf_map_update_elem(&ucache, &key, z, BPF_NOEXIST))
		return NULL;
	return bpf_map_lookup_elem(&ucache, &key);
}

/* is every word *c*'s walk read still what it was? */
static __always_inline bool ucache_same(const struct ucache *c)
{
	struct ucache_words *buf;
	__u32 zero = 0, span = c->span, n = c->nslots, i;

	buf = bpf_map_lookup_elem(&ucache_buf, &zero);
	if (!buf || span > UCACHE_SPAN)
		return false;
	if (span && bpf_probe_read_user(buf->b, span, (void *)c->sp))
		return false;
	for (i = 0; i < UCACHE_SLOTS; i++) {
		if (i >= n)
			break;
		if (*(__u64 *)&buf->b[c->off[i] & (UCACHE_SPAN - 1)] != c->val[i])
			return false;
	}
	return true;
}

/*
 * The walk of *c* stands for a walk from *r* with *proc*'s tables now: the
 * same registers (rbp and rbx where it used them), tables and stack words; its stack is in epoch *tag*'s
 * map (a drained epoch's is gone: walk again).  Its hash into *hash*.
 */
static __always_inline bool ucache_reuse(const struct ucache *c, const struct unwind_proc *proc, __u32 tgid,
					 const struct user_regs *r, __u64 tag, __u64 *hash)
{
	__u64 h;

	if (!c->valid || c->tgid != tgid || c->version != proc->version || c->ip != r->ip || c->sp != r->sp ||
	    ((c->regs & UCACHE_BP) && c->bp != r->bp) || ((c->regs & UCACHE_BX) && c->bx != r->bx) ||
	    !ucache_same(c))
		return false;
	h = ebprof_epoch_hash(c->hash, tag);
	if (!bpf_map_lookup_elem(&ustacks, &h))
		return false;
	*hash = h;
	return true;
}

/*
 * Record the user stack of the current task.  *regs* are its user registers
 * when the sample hit user mode, NULL when it hit the kernel.  On success
 * *hash* names the stack in "ustacks"; the return value is EBPROF_F_*
 * flags, with how the walk ended in EBPROF_F_END_MASK, and
 * EBPROF_F_NEED_TABLES when the process has no unwind tables yet.  The
 * stack is stored in epoch *tag*.
 */
static __always_inline __u32 ustack_record(void *ctx, struct user_regs *regs, __u32 tgid,
					   enum ustack_mode mode, __u64 *hash, __u64 tag)
{
	__u32 zero = 0, n, flags = 0, end = EBPROF_END_FP;
	struct unwind_proc *proc;
	struct user_regs r = {};
	struct ucache *c = NULL;
	struct ustack *st;
	long err;

	st = bpf_map_lookup_elem(&ustack_scratch, &zero);
	if (!st)
		return EBPROF_F_USER_MISSING;

	if (mode == USTACK_KERNEL_FP) {
		long len = bpf_get_stack(ctx, st->ips, sizeof(st->ips), BPF_F_USER_STACK);

		if (len <= 0)
			return EBPROF_F_USER_MISSING;
		n = len / sizeof(__u64);
		if (n >= EBPROF_MAX_STACK)
			flags |= EBPROF_F_USER_TRUNC;
		st->nr = n;
		*hash = hash_ips(st);
		goto store;
	}

	if (!regs) {
		struct pt_regs *pr;

		pr = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
		r.ip = BPF_CORE_READ(pr, ip);
		r.sp = BPF_CORE_READ(pr, sp);
		r.bp = BPF_CORE_READ(pr, bp);
		r.bx = BPF_CORE_READ(pr, bx);
	} else {
		r = *regs;
	}
	/*
	 * At its entry (exec has just set the stack up, or the loader jumped
	 * to the program's _start): no caller, nothing to walk or to wait for
	 */
	if (r.sp == BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), mm, start_stack)) {
		st->ips[0] = r.ip;
		st->nr = 1;
		*hash = hash_ips(st);
		flags |= EBPROF_END_COMPLETE << EBPROF_F_END_SHIFT;
		goto store;
	}
	proc = mode == USTACK_TABLES || mode == USTACK_TABLES_REUSE ? bpf_map_lookup_elem(&unwind_procs, &tgid) : NULL;
	if (proc && mode == USTACK_TABLES_REUSE) {
		stat_inc(EBPROF_STAT_UWALKS);
		c = ucache_get((__u32)bpf_get_current_pid_tgid(), r.ip);
		if (c && ucache_reuse(c, proc, tgid, &r, tag, hash)) {
			stat_inc(EBPROF_STAT_UWALK_REUSED);
			return c->flags;
		}
		if (c) {
			c->valid = 1;
			c->ip = r.ip;
			c->sp = r.sp;
			c->bp = r.bp;
			c->bx = r.bx;
			c->tgid = tgid;
			c->version = proc->version;
			c->nslots = 0;
			c->span = 0;
			c->regs = 0;
		}
	}
	if (proc) {
		end = unwind_tables(st, proc, &r, hash, c);
		if (end == EBPROF_END_DEPTH)
			flags |= EBPROF_F_USER_TRUNC;
		/*
		 * The leaf is in no mapping the tables know: code mapped since
		 * (a library the loader just mapped).  Frame pointers, until
		 * user space catches up, do better than a stack of one frame.
		 */
		if (end == EBPROF_END_NO_MAPPING && st->nr <= 1) {
			proc = NULL;
			end = EBPROF_END_FP;
		}
		/*
		 * In execve once the new program's memory replaced the old:
		 * the registers are still the old program's, its stack is
		 * gone.  As far as anything can walk; counted apart.
		 */
		if (end == EBPROF_END_READ_FAULT && in_execve())
			end = EBPROF_END_EXEC;
		if (c && (!proc || end == EBPROF_END_READ_FAULT || end == EBPROF_END_EXEC))
			c->valid = 0;
	}
	if (!proc) {
		if (mode == USTACK_TABLES || mode == USTACK_TABLES_REUSE)
			flags |= EBPROF_F_NEED_TABLES;
		n = walk_frame_pointers(st, &r, hash);
		if (n & (1u << 31)) {
			flags |= EBPROF_F_USER_TRUNC;
			n &= ~(1u << 31);
		}
		st->nr = n;
	}
	flags |= end << EBPROF_F_END_SHIFT;
	if (c && c->valid) {
		c->hash = *hash;
		c->flags = flags;
	}
store:
	*hash = ebprof_epoch_hash(*hash, tag);
	err = bpf_map_update_elem(&ustacks, hash, st, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: stored before */) {
		*hash = 0;
		return flags | EBPROF_F_USER_MISSING;
	}
	return err ? flags : flags | EBPROF_F_NEW_STACK;
}

#endif /* __USTACK_BPF_H */
