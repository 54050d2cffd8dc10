/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * python.bpf.h - CPython stacks, for every program that records stacks.
 *
 * pystack_record() finds the PyThreadState of the current thread (the one
 * whose thread_id, pthread_self(), equals the task's fs base: this finds
 * threads that released the GIL too), walks its frame chain and stores
 * (code object, instruction offset, checksum) per frame in "pystacks"
 * under a hash of the frames.  Frames are named in user space; a code
 * object seen for the first time is reported at once on the ring buffer
 * so that it is read while it still exists.
 *
 * Segments: each _PyEval_EvalFrameDefault call runs a run of frames; the
 * first frame of each run is flagged EBPROF_PYF_ENTRY (every frame up to
 * 3.10, is_entry in 3.11, the frame under a shim frame in 3.12+) so that
 * user space puts each run in place of the native frame that ran it.
 *
 * Needs bpf_loop() (5.17).  Offsets come from user space (struct py_proc).
 */
#ifndef __PYTHON_BPF_H
#define __PYTHON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "ebprof.h"
#include "stats.bpf.h"
#include "ustack.bpf.h"

#define PY_OWNED_BY_GENERATOR	1
#define PY_OWNED_BY_CSTACK	3	/* 3.12+: the shim frame of an eval call */
#define PY_NEG_RETRY_NS		(200 * 1000 * 1000ULL)	/* re-look for a tstate */
#define PY_FRAME_READ		120	/* bytes of a frame header read at once */
#define PY_CODE_READ		EBPROF_PY_CODE_READ
#define PY_NONE			0xffff

const volatile bool targ_python = false;

/* new code objects, for user space's reader thread */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} py_events SEC(".maps");

/* tgid -> where CPython is and how to read it (user space fills it) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct py_proc);
} py_procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct py_stack);
} pystacks SEC(".maps");

struct py_thread {
	__u64 tstate;		/* 0: the thread has none (native-only) */
	__u64 fs;		/* the fs base it was found for */
	__u64 when;		/* for a negative result: when */
	__u32 tgid;
	__u32 pad;
};

/* tid -> its PyThreadState, positive and negative results */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct py_thread);
} py_threads SEC(".maps");

struct py_code_key {
	__u32 tgid;
	__u32 pad;
	__u64 code;
};

/* (tgid, code object) -> checksum: the code objects user space was told of */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct py_code_key);
	__type(value, __u32);
} py_codes SEC(".maps");

struct py_walk {
	struct py_stack st;
	__u64 fs, interp, ts, found, frame, hash;
	__u32 tgid, ninterp;
	__u32 since_boundary;	/* frames emitted since the last segment boundary */
	__u32 end;		/* 0, EBPROF_F_PY_TRUNC or EBPROF_F_PY_ERROR */
	__u8 fbuf[256 + 8];	/* fields are read at offset & 255 */
	__u8 cbuf[256 + 8];
};

/* bpf_loop() wants its context on the stack: pointers into the maps */
struct py_ctx {
	struct py_walk *w;
	const struct py_proc *cfg;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct py_walk);
} py_scratch SEC(".maps");

/*
 * One load, not memcpy(): clang splits a memcpy of unknown alignment into
 * byte loads, whose spills overflowed the 512-byte stack of a call chain
 * (allocator probe > pystack_record > py_frame_step).  CPython's fields are
 * naturally aligned, and x86's verifier allows unaligned map-value loads.
 */
static __always_inline __u64 py_u64(const __u8 *buf, __u16 off)
{
	return *(const __u64 *)(buf + (off & 255));
}

static __always_inline __u32 py_u32(const __u8 *buf, __u16 off)
{
	return *(const __u32 *)(buf + (off & 255));
}

static __always_inline __u64 py_read_ptr(__u64 addr)
{
	__u64 v = 0;

	if (!addr || bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		return 0;
	return v;
}

/* one step of the search for the thread state: a thread or an interpreter */
static long py_find_step(__u32 i, struct py_ctx *c)
{
	const struct py_offsets *o = &c->cfg->o;
	struct py_walk *w = c->w;
	__u64 id;

	if (!w->ts) {
		/* the next interpreter's thread list */
		if (!w->interp || w->ninterp >= 8)
			return 1;
		w->ts = py_read_ptr(w->interp + o->is_threads);
		w->interp = py_read_ptr(w->interp + o->is_next);
		w->ninterp++;
		return 0;
	}
	if (bpf_probe_read_user(&id, sizeof(id), (void *)(w->ts + o->ts_thread_id)))
		return 1;
	if (id == w->fs) {
		w->found = w->ts;
		return 1;
	}
	w->ts = py_read_ptr(w->ts + o->ts_next);
	return 0;
}

/* the current thread's PyThreadState, cached per thread; 0 if none */
static __always_inline __u64 py_thread_state(struct py_ctx *ctx, __u32 tid)
{
	const struct py_offsets *o = &ctx->cfg->o;
	struct py_walk *w = ctx->w;
	struct py_thread *c, nc = {};
	__u64 id;

	c = bpf_map_lookup_elem(&py_threads, &tid);
	if (c && c->tgid == w->tgid && c->fs == w->fs) {
		if (!c->tstate) {
			if (bpf_ktime_get_ns() - c->when < PY_NEG_RETRY_NS)
				return 0;
		} else if (!bpf_probe_read_user(&id, sizeof(id), (void *)(c->tstate + o->ts_thread_id)) &&
			   id == w->fs) {
			return c->tstate;
		}
	}
	w->interp = py_read_ptr(ctx->cfg->runtime + o->rt_interp);
	w->ts = 0;
	w->found = 0;
	w->ninterp = 0;
	bpf_loop(256, py_find_step, ctx, 0);
	nc.tstate = w->found;
	nc.fs = w->fs;
	nc.when = bpf_ktime_get_ns();
	nc.tgid = w->tgid;
	bpf_map_update_elem(&py_threads, &tid, &nc, BPF_ANY);
	return w->found;
}

/*
 * the compact ASCII str whose address is at *at* into *out* (*size* bytes,
 * NUL included), its start cut off when *tail* and it does not fit; ""
 * for any other str
 */
static __always_inline void py_read_ascii(const struct py_offsets *o, __u64 at, char *out,
					  __u32 size, bool tail)
{
	struct {
		__s64 len;
		__u64 hash;
		__u32 state;
	} h;
	__u64 s = py_read_ptr(at), skip = 0;

	out[0] = 0;
	if (!s || bpf_probe_read_user(&h, sizeof(h), (void *)(s + 16)) || h.len < 0)
		return;
	/* kind 1, compact, ascii */
	if (((h.state >> 2) & 7) != 1 || !((h.state >> 5) & 1) || !((h.state >> 6) & 1))
		return;
	if (tail && h.len > size - 1)
		skip = h.len - (size - 1);
	bpf_probe_read_user_str(out, size, (void *)(s + o->str_ascii + skip));
}

static __always_inline void py_report_code(struct py_walk *w, const struct py_offsets *o,
					   __u64 code, __u32 sum, __u32 first)
{
	struct py_code_key k = { .tgid = w->tgid, .code = code };
	struct py_code_event *e;
	__u32 *seen;

	seen = bpf_map_lookup_elem(&py_codes, &k);
	if (seen && *seen == sum)
		return;
	bpf_map_update_elem(&py_codes, &k, &sum, BPF_ANY);
	e = bpf_ringbuf_reserve(&py_events, sizeof(*e), 0);
	if (!e) {
		stat_inc(EBPROF_STAT_EVENTS_LOST);
		/* tell user space next time */
		bpf_map_delete_elem(&py_codes, &k);
		return;
	}
	e->type = EBPROF_EV_PY_CODE;
	e->tgid = w->tgid;
	e->code = code;
	e->sum = sum;
	e->first = first;
	py_read_ascii(o, code + ebprof_py_name_off(o), e->name, sizeof(e->name), false);
	py_read_ascii(o, code + o->co_filename, e->file, sizeof(e->file), true);
	bpf_ringbuf_submit(e, 0);
}

/* the previous frame was the first of its eval call */
static __always_inline void py_boundary(struct py_walk *w)
{
	__u32 n = w->st.nr;

	if (w->since_boundary && n > 0) {
		w->st.frames[(n - 1) & (EBPROF_PY_MAX_FRAMES - 1)].flags |= EBPROF_PYF_ENTRY;
	} else if (n < EBPROF_PY_MAX_FRAMES) {
		/* an eval call that has not pushed a frame yet */
		struct py_frame *f = &w->st.frames[n & (EBPROF_PY_MAX_FRAMES - 1)];

		f->code = 0;
		f->instr = 0;
		f->sum = 0;
		f->flags = EBPROF_PYF_ENTRY | EBPROF_PYF_EMPTY;
		w->st.nr = n + 1;
	}
	w->hash = ebprof_hash_step(w->hash, 0x5e9);
	w->since_boundary = 0;
}

static long py_frame_step(__u32 i, struct py_ctx *c)
{
	const struct py_proc *cfg = c->cfg;
	struct py_walk *w = c->w;
	const struct py_offsets *o = &cfg->o;
	__u64 frame = w->frame, code, instr;
	__u32 sum, first, argc, n;
	__u8 owner = 0, is_entry = 0;
	struct py_frame *f;

	if (!frame)
		return 1;
	if (bpf_probe_read_user(w->fbuf, PY_FRAME_READ, (void *)frame)) {
		w->end = EBPROF_F_PY_ERROR;
		return 1;
	}
	w->frame = py_u64(w->fbuf, o->f_back);
	if (cfg->kind >= EBPROF_PY_311) {
		owner = w->fbuf[o->f_owner & 255];
		if (o->f_is_entry != PY_NONE)
			is_entry = w->fbuf[o->f_is_entry & 255];
		if (owner >= PY_OWNED_BY_CSTACK) {
			py_boundary(w);
			return 0;
		}
	}
	code = py_u64(w->fbuf, o->f_code);
	if (!code || bpf_probe_read_user(w->cbuf, PY_CODE_READ, (void *)(code + o->co_argcount))) {
		w->end = EBPROF_F_PY_ERROR;
		return 1;
	}
	argc = py_u32(w->cbuf, 0);
	first = py_u32(w->cbuf, o->co_firstlineno - o->co_argcount);
	sum = ebprof_py_code_sum(first, argc, py_u64(w->cbuf, ebprof_py_name_off(o) - o->co_argcount),
				 py_u64(w->cbuf, o->co_filename - o->co_argcount));
	if (cfg->kind == EBPROF_PY_FRAMEOBJ) {
		instr = py_u32(w->fbuf, o->f_instr);
		is_entry = 1;
	} else {
		__u64 base = code + o->co_code_adaptive;
		__u32 traceable = py_u32(w->cbuf, o->co_firsttraceable - o->co_argcount);

		instr = py_u64(w->fbuf, o->f_instr);
		/* incomplete: set up but not running its code yet */
		if (owner != PY_OWNED_BY_GENERATOR && instr < base + 2ULL * traceable) {
			if (is_entry)
				py_boundary(w);
			return 0;
		}
		instr -= base;
	}
	n = w->st.nr;
	if (n >= EBPROF_PY_MAX_FRAMES) {
		w->end = EBPROF_F_PY_TRUNC;
		return 1;
	}
	f = &w->st.frames[n & (EBPROF_PY_MAX_FRAMES - 1)];
	f->code = code;
	f->instr = instr;
	f->sum = sum;
	f->flags = is_entry ? EBPROF_PYF_ENTRY : 0;
	w->st.nr = n + 1;
	w->since_boundary = is_entry ? 0 : 1;
	w->hash = ebprof_hash_step(ebprof_hash_step(w->hash, code), ((__u64)sum << 32) | (__u32)instr);
	if (is_entry)
		w->hash = ebprof_hash_step(w->hash, 0x5e9);
	py_report_code(w, o, code, sum, first);
	return 0;
}

/*
 * Walk the Python stack of the current thread *tid* of *tgid* into the
 * scratch walk: the walk (w->st its frames, innermost first), or NULL when
 * the thread runs no Python code (or its process none ebprof reads)
 */
static __always_inline struct py_walk *py_walk_current(__u32 tgid, __u32 tid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const struct py_proc *cfg;
	struct py_ctx ctx;
	struct py_walk *w;
	__u32 zero = 0;
	__u64 ts, cf;

	if (!targ_python)
		return NULL;
	cfg = bpf_map_lookup_elem(&py_procs, &tgid);
	if (!cfg)
		return NULL;
	w = bpf_map_lookup_elem(&py_scratch, &zero);
	if (!w)
		return NULL;
	ctx.w = w;
	ctx.cfg = cfg;
	w->tgid = tgid;
	w->fs = BPF_CORE_READ(task, thread.fsbase);
	ts = py_thread_state(&ctx, tid);
	if (!ts) {
		stat_inc(EBPROF_STAT_PY_NO_TSTATE);
		return NULL;
	}
	if (cfg->kind == EBPROF_PY_311 || cfg->kind == EBPROF_PY_312) {
		cf = py_read_ptr(ts + cfg->o.ts_frame);
		w->frame = cf ? py_read_ptr(cf + cfg->o.cf_current) : 0;
	} else {
		w->frame = py_read_ptr(ts + cfg->o.ts_frame);
	}
	if (!w->frame)
		return NULL;	/* no Python code running in this thread */
	w->st.nr = 0;
	w->st.pad = 0;
	w->hash = EBPROF_HASH_SEED ^ 0x9e37;
	w->since_boundary = 0;
	w->end = 0;
	bpf_loop(2 * EBPROF_PY_MAX_FRAMES, py_frame_step, &ctx, 0);
	return w->st.nr ? w : NULL;
}

/*
 * Record the Python stack of the current thread of *tgid*: 0 when it has
 * none, else the stack's hash in "pystacks" with EBPROF_F_PY_* in *flags*.
 * The stack is stored in the epoch as it is now: if it changed since the
 * sample read it, the drain of the sample's epoch still finds the stack
 * (a drain waits for running samplers before it reads, and deletes only
 * its own epoch's stacks).
 */
static __noinline __u64 pystack_record(__u32 tgid, __u32 tid, __u32 *flags)
{
	struct py_walk *w = py_walk_current(tgid, tid);
	__u64 hash;
	long err;

	if (!w)
		return 0;
	*flags |= w->end;
	if (w->end == EBPROF_F_PY_TRUNC)
		stat_inc(EBPROF_STAT_PY_TRUNC);
	else if (w->end == EBPROF_F_PY_ERROR)
		stat_inc(EBPROF_STAT_PY_ERROR);
	hash = ebprof_epoch_hash(w->hash, (__u64)(epoch & 1) << 63);
	err = bpf_map_update_elem(&pystacks, &hash, &w->st, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST */) {
		stat_inc(EBPROF_STAT_PY_LOST);
		return 0;
	}
	if (!err)
		*flags |= EBPROF_F_NEW_STACK;
	stat_inc(EBPROF_STAT_PY_SAMPLES);
	return hash;
}

#endif /* __PYTHON_BPF_H */
