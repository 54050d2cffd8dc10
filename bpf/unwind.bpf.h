/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * unwind.bpf.h - walk user stacks with unwind tables built from .eh_frame
 * (user/unwind.c), for code without frame pointers.
 *
 * Each frame: find the mapping of the address (bisection over the process's
 * sorted mappings), then the row for it (bisection over the file's rows in
 * the shared row pool), compute the CFA, read the return address at CFA-8
 * and the saved rbp.  Every bisection runs in its own bpf_loop() callback,
 * which keeps verification small (bpf_loop: kernel 5.17).  A walk that
 * cannot go on ends with a reason; it never guesses a frame.
 *
 * A part of ustack.bpf.h, which includes it: not included on its own.
 */
#ifndef __UNWIND_BPF_H
#define __UNWIND_BPF_H

#include "ebprof.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* sized by user space */
	__type(key, __u32);
	__type(value, struct unwind_row);
} unwind_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);	/* sized by user space */
	__type(key, __u32);
	__type(value, struct unwind_proc);
} unwind_procs SEC(".maps");

/*
 * What a walk read, so that a thread's next walk from the same registers
 * can be taken as it was: the walk is a function of the registers, the
 * tables and the stack words it read, nothing else, when it took only
 * table rows (no frame-pointer step, which reads code; no signal frame; no
 * uretprobe return address; every read succeeded).  The words lie within
 * UCACHE_SPAN bytes above the first sp.
 */
#define UCACHE_SLOTS	32
#define UCACHE_SPAN	4096
#define UCACHE_BP	1
#define UCACHE_BX	2

struct ucache {
	__u64 ip, sp, bp, bx;	/* the registers the walk began with */
	__u64 hash;		/* its frames' hash, before the epoch */
	__u32 tgid, version;	/* whose tables, which write of them */
	__u32 flags;		/* what ustack_record() returned for it */
	__u32 valid;		/* the record is whole and the walk may be reused */
	__u32 nslots, span;	/* words read; bytes above sp they lie in */
	__u32 regs;		/* UCACHE_BP, UCACHE_BX: the walk used the register as it began */
	__u16 off[UCACHE_SLOTS];	/* each word's offset from sp */
	__u64 val[UCACHE_SLOTS];	/* and its value */
};

/*
 * A walk's state, kept in a map, not on the stack: values the verifier
 * tracks there (how the walk ended, which registers are still the first
 * ones, a bisection's bounds) multiply its states at each step of
 * bpf_loop()'s callbacks, which it goes through until they converge; a
 * program past its million instructions does not load (kernel 6.18.44).
 * What it reads from a map it takes as any value: one state a step.
 */
struct walk {
	__u32 live;		/* UCACHE_BP, UCACHE_BX: still the registers the walk began with */
	__u32 n;
	__u64 ip, sp, bp, bx;
	__u64 hash;
	__u64 key;		/* what the bisections look for */
	__u32 lo, hi;		/* bisection bounds */
	__u32 end;		/* enum ebprof_walk_end, once ended */
	__u8 ret_addr;		/* ip is a return address: look up ip - 1 */
	__u8 bx_lost;		/* rbx is not the caller's: a frame saved it out of reach */
	struct uretprobes uret;	/* the thread's return addresses under uretprobes */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk);
} walk_scratch SEC(".maps");

/* what the callbacks are given (on the stack: bpf_loop's context must be) */
struct walk_ctx {
	struct walk *w;
	struct ustack *st;
	struct unwind_proc *proc;
	struct ucache *log;	/* NULL, or where the words read are written down */
};

static long bisect_maps(__u32 i, struct walk_ctx *x)
{
	struct walk *w = x->w;
	__u32 mid;

	if (w->lo >= w->hi)
		return 1;
	mid = (w->lo + (w->hi - w->lo) / 2) & (EBPROF_UNWIND_MAPS - 1);
	if (x->proc->maps[mid].start <= w->key)
		w->lo = mid + 1;
	else
		w->hi = mid;
	return 0;
}

static long bisect_rows(__u32 i, struct walk_ctx *x)
{
	struct walk *w = x->w;
	struct unwind_row *row;
	__u32 mid;

	if (w->lo >= w->hi)
		return 1;
	mid = w->lo + (w->hi - w->lo) / 2;
	row = bpf_map_lookup_elem(&unwind_rows, &mid);
	if (!row)
		return 1;
	if (row->pc <= (__u32)w->key)
		w->lo = mid + 1;
	else
		w->hi = mid;
	return 0;
}

static __always_inline long walk_end(struct walk *w, __u32 why)
{
	w->end = why;
	return 1;
}

/* the walk read *val* at *addr*: written down, or the walk made one not to reuse */
static __always_inline void walk_log(struct walk_ctx *x, __u64 addr, __u64 val)
{
	struct ucache *c = x->log;
	__u64 off;
	__u32 i;

	if (!c)
		return;
	i = c->nslots;
	off = addr - c->sp;
	if (i >= UCACHE_SLOTS || off > UCACHE_SPAN - 8) {
		c->valid = 0;
		return;
	}
	c->off[i] = off;
	c->val[i] = val;
	c->nslots = i + 1;
	if (off + 8 > c->span)
		c->span = off + 8;
}

/* the walk uses *reg* (UCACHE_BP, UCACHE_BX): as it began, a reuse needs it the same */
static __always_inline void walk_uses(struct walk_ctx *x, __u32 reg)
{
	struct ucache *c = x->log;

	if (c && (x->w->live & reg))
		c->regs |= reg;
}

/* the walk read something it does not write down: not to be reused */
static __always_inline void walk_nolog(struct walk_ctx *x)
{
	struct ucache *c = x->log;

	if (c)
		c->valid = 0;
}

/*
 * Code with no table (JIT output, anonymous memory): frame pointers, except
 * for one stub shape that has none: "sub $8,%rsp; call *REG; add $8,%rsp;
 * ret", CPython 3.12's perf trampoline (-X perf) when built without frame
 * pointers.  Returning into it, its CFA is 16 bytes up.
 * The caller's registers: 0 to go on, 1 when the walk ended (w->end).
 */
static __always_inline long step_fp(struct walk_ctx *x)
{
	struct walk *w = x->w;
	__u64 frame[2], ra;
	__u8 c[5];

	walk_nolog(x);
	if (w->ret_addr && !bpf_probe_read_user(c, sizeof(c), (void *)w->ip) &&
	    c[0] == 0x48 && c[1] == 0x83 && c[2] == 0xc4 && c[3] == 0x08 && c[4] == 0xc3) {
		if (bpf_probe_read_user(&ra, sizeof(ra), (void *)(w->sp + 8)))
			return walk_end(w, EBPROF_END_READ_FAULT);
		w->sp += 16;
		w->ip = ra;
		return 0;
	}

	if (!w->bp || (w->bp & 7) || w->bp < w->sp)
		return walk_end(w, EBPROF_END_BAD_FRAME);
	if (bpf_probe_read_user(frame, sizeof(frame), (void *)w->bp))
		return walk_end(w, EBPROF_END_READ_FAULT);
	w->sp = w->bp + 16;
	w->bp = frame[0];
	w->ip = frame[1];
	w->ret_addr = true;
	w->bx_lost = true;	/* frame-pointer code says nothing of where it saved rbx */
	return 0;
}

static long unwind_step(__u32 i, struct walk_ctx *x)
{
	struct unwind_proc *proc = x->proc;
	struct walk *w = x->w;
	struct unwind_row *row;
	struct unwind_map *m;
	__u64 key, cfa, ra, sc[4];
	__u32 idx, n = w->n;

	if (n >= EBPROF_MAX_STACK)
		return walk_end(w, EBPROF_END_DEPTH);
	if (w->ret_addr && w->uret.tramp && w->ip == w->uret.tramp) {
		walk_nolog(x);
		w->ip = uretprobes_fix(&w->uret, w->ip);
	}
	if (w->ip < 0x1000 || w->ip >= USER_TOP)
		return walk_end(w, w->ip ? EBPROF_END_BAD_FRAME : EBPROF_END_COMPLETE);
	x->st->ips[n] = w->ip;
	w->n = n + 1;
	w->hash = ebprof_hash_step(w->hash, w->ip);

	/* a return address may follow a call that ends its function */
	key = w->ret_addr ? w->ip - 1 : w->ip;
	w->key = key;
	w->lo = 0;
	w->hi = proc->nmaps < EBPROF_UNWIND_MAPS ? proc->nmaps : EBPROF_UNWIND_MAPS;
	bpf_loop(10, bisect_maps, x, 0);
	if (!w->lo)
		return walk_end(w, EBPROF_END_NO_MAPPING);
	/* lo <= nmaps <= EBPROF_UNWIND_MAPS, a power of two: the mask is for the verifier */
	idx = (w->lo - 1) & (EBPROF_UNWIND_MAPS - 1);
	m = &proc->maps[idx];
	if (key >= m->end)
		return walk_end(w, EBPROF_END_NO_MAPPING);
	if (!(m->flags & EBPROF_MAP_TABLE)) {
		if (m->flags & EBPROF_MAP_FP)
			return step_fp(x);
		return walk_end(w, EBPROF_END_NO_TABLE);
	}
	if (key - m->bias > 0xffffffffULL)
		return walk_end(w, EBPROF_END_TABLE_MISS);
	w->key = key - m->bias;
	w->lo = m->first;
	w->hi = m->first + m->nrows;
	bpf_loop(26, bisect_rows, x, 0);
	/*
	 * Code no FDE covers in a file that has tables: gcc's crtstuff
	 * (__do_global_dtors_aux, frame_dummy, built without CFI, each
	 * with a frame pointer) in every executable and library, and
	 * _init.  Frame pointers, as libdw falls back to.
	 */
	if (w->lo == m->first)
		return step_fp(x);	/* below the first row */
	idx = w->lo - 1;
	row = bpf_map_lookup_elem(&unwind_rows, &idx);
	if (!row)
		return walk_end(w, EBPROF_END_TABLE_MISS);
	if (row->kind == EBPROF_ROW_GAP)
		return step_fp(x);

	switch (row->kind) {
	case EBPROF_ROW_CFA_RSP:
		cfa = w->sp + (__u64)row->cfa * 8;
		break;
	case EBPROF_ROW_CFA_RBP:
		walk_uses(x, UCACHE_BP);
		cfa = w->bp + (__u64)row->cfa * 8;
		break;
	case EBPROF_ROW_CFA_RBX:
		if (w->bx_lost)
			return walk_end(w, EBPROF_END_TABLE_MISS);
		walk_uses(x, UCACHE_BX);
		cfa = w->bx + (__u64)row->cfa * 8;
		break;
	case EBPROF_ROW_PLT:
		cfa = w->sp + 8 + ((w->ip & 15) >= row->cfa ? 8 : 0);
		break;
	case EBPROF_ROW_SIGNAL:
		walk_nolog(x);
		/*
		 * At __restore_rt, rsp points at the rt_sigframe: its
		 * ucontext's sigcontext starts 40 bytes in, with rbp at +80,
		 * rbx at +88, rsp at +120 and rip at +128.  The rip there is
		 * exact.
		 */
		if (bpf_probe_read_user(&sc[0], 16, (void *)(w->sp + 40 + 80)) ||
		    bpf_probe_read_user(&sc[2], 16, (void *)(w->sp + 40 + 120)))
			return walk_end(w, EBPROF_END_READ_FAULT);
		w->bp = sc[0];
		w->bx = sc[1];
		w->bx_lost = false;
		w->sp = sc[2];
		w->ip = sc[3];
		w->ret_addr = false;
		return 0;
	case EBPROF_ROW_STOP:
		return walk_end(w, EBPROF_END_COMPLETE);
	default:
		return walk_end(w, EBPROF_END_TABLE_MISS);
	}
	if (cfa <= w->sp)
		return walk_end(w, EBPROF_END_BAD_FRAME);
	if (bpf_probe_read_user(&ra, sizeof(ra), (void *)(cfa - 8)))
		return walk_end(w, EBPROF_END_READ_FAULT);
	walk_log(x, cfa - 8, ra);
	if (row->rbp) {
		if (bpf_probe_read_user(&w->bp, sizeof(w->bp), (void *)(cfa - 8 * (__u64)row->rbp)))
			return walk_end(w, EBPROF_END_READ_FAULT);
		walk_log(x, cfa - 8 * (__u64)row->rbp, w->bp);
		w->live &= ~UCACHE_BP;
	}
	if (row->rbx == EBPROF_RBX_LOST) {
		w->bx_lost = true;
	} else if (row->rbx) {
		if (bpf_probe_read_user(&w->bx, sizeof(w->bx), (void *)(cfa - 8 * (__u64)row->rbx))) {
			w->bx_lost = true;	/* only a CFA in rbx further up needs it */
			walk_nolog(x);
		} else {
			walk_log(x, cfa - 8 * (__u64)row->rbx, w->bx);
			w->live &= ~UCACHE_BX;
		}
	}
	w->sp = cfa;
	w->ip = ra;
	w->ret_addr = true;
	return 0;
}

/*
 * Walk with the tables of *proc*: the frames in *st*, their hash in *hash*,
 * and how the walk ended; what it read into *log* unless NULL.
 */
static __always_inline __u32 unwind_tables(struct ustack *st, struct unwind_proc *proc,
					   struct user_regs *r, __u64 *hash, struct ucache *log)
{
	struct walk_ctx x = { .st = st, .proc = proc, .log = log };
	struct walk *w;
	__u32 zero = 0, n;

	w = bpf_map_lookup_elem(&walk_scratch, &zero);
	if (!w) {
		st->nr = 0;
		return EBPROF_END_READ_FAULT;
	}
	__builtin_memset(w, 0, sizeof(*w));
	w->live = UCACHE_BP | UCACHE_BX;
	w->ip = r->ip;
	w->sp = r->sp;
	w->bp = r->bp;
	w->bx = r->bx;
	w->hash = EBPROF_HASH_SEED;
	w->end = EBPROF_END_MAX;
	uretprobes_init(&w->uret);
	x.w = w;
	bpf_loop(EBPROF_MAX_STACK + 1, unwind_step, &x, 0);
	n = w->n;
	st->nr = n < EBPROF_MAX_STACK ? n : EBPROF_MAX_STACK;
	*hash = w->hash;
	return w->end == EBPROF_END_MAX ? EBPROF_END_DEPTH : w->end;
}

#endif /* __UNWIND_BPF_H */
