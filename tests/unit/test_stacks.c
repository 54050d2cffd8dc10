// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A sample's user frames put together (stacks.c): Python frames in place
 * of the eval frames that ran them, walks that stopped short, the stack
 * quality line, --lines.
 */
#include <stdlib.h>
#include "t.h"
#include "stacks.h"

/* native code: an address names a function; 0x60 is code with no symbol */
static void fake_native(void *ctx, int tgid, unsigned int gen, uint64_t addr, bool ret, struct sym_frame *out)
{
	static const char *const names[] = { "", "leaf", "_PyEval_EvalFrameDefault", "builtin_sorted", "main",
					     "_start", "prog+0x60" };

	(void)ctx, (void)tgid, (void)gen, (void)ret;
	memset(out, 0, sizeof(*out));
	out->func = names[addr >> 4];
	out->module = "prog";
	out->known = addr != 0x60;
}

/* Python code objects 1, 2, 3; the line is the instruction offset */
static void fake_python(void *ctx, int tgid, const struct py_frame *f, struct py_named *out)
{
	static const char *const names[] = { "", "<lambda>", "sort_with_key", "<module>" };

	(void)ctx, (void)tgid;
	out->name = names[f->code];
	out->file = "/src/py_sort.py";
	out->first = 1;
	out->line = f->instr;
}

static const struct stack_names names = { .native = fake_native, .python = fake_python };

/* DWARF lines: "leaf" is on line 7 of /src/prog.c (its first line 3); nothing else has one */
static bool fake_line(void *ctx, const struct sym_frame *sf, struct srcline *out)
{
	(void)ctx;
	if (strcmp(sf->func, "leaf"))
		return false;
	*out = (struct srcline){ .line = 7, .fn_file = "/src/prog.c", .fn_line = 3 };
	return true;
}

/* the frames of *fl*, innermost first, as "a;b;c" */
static const char *joined(struct profile *p, const struct frame_list *fl)
{
	static char buf[1024];
	size_t len = 0;
	uint32_t i;

	buf[0] = 0;
	for (i = 0; i < fl->n; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? ";" : "",
				profile__frame_at(p, fl->ids[i])->func);
	return buf;
}

/* Python > native > Python, walked to _start: each segment where its eval frame was */
static int merged_in_place(void)
{
	struct profile *p = profile__new();
	struct frame_list *fl = calloc(1, sizeof(*fl));
	const __u64 ips[] = { 0x10, 0x20, 0x30, 0x20, 0x40, 0x50 };
	const struct py_frame pf[] = {
		{ .code = 1, .instr = 5, .flags = EBPROF_PYF_ENTRY },
		{ .code = 2, .instr = 12 },
		{ .code = 3, .instr = 20, .flags = EBPROF_PYF_ENTRY },
	};

	T_ASSERT(p && fl);
	T_ASSERT(!stacks_user(&names, p, 1, 0, EBPROF_END_COMPLETE, ips, 6, pf, 3, fl));
	T_ASSERT_STR(joined(p, fl), "leaf;<lambda> (py_sort.py:5);builtin_sorted;sort_with_key (py_sort.py:12);"
		     "<module> (py_sort.py:20);main;_start");
	T_ASSERT(fl->lines[1] == 5 && fl->lines[0] == 0);
	free(fl);
	profile__free(p);
	return T_OK;
}

/*
 * A walk lost past code with no name: what follows it is dropped, and the
 * Python frames no eval frame took go outside behind a gap frame, never
 * under a native frame that did not call them.
 */
static int stopped_short(void)
{
	struct profile *p = profile__new();
	struct frame_list *fl = calloc(1, sizeof(*fl));
	const __u64 ips[] = { 0x10, 0x20, 0x60, 0x40 };
	const struct py_frame pf[] = {
		{ .code = 1, .instr = 5, .flags = EBPROF_PYF_ENTRY },
		{ .code = 2, .instr = 12 },
		{ .code = 3, .instr = 20, .flags = EBPROF_PYF_ENTRY },
	};
	struct stack_names sn = names;

	T_ASSERT(p && fl);
	sn.no_lineno = true;
	T_ASSERT(!stacks_user(&sn, p, 1, 0, EBPROF_END_TABLE_MISS, ips, 4, pf, 3, fl));
	T_ASSERT_STR(joined(p, fl), "leaf;<lambda> (py_sort.py);" GAP_FRAME ";sort_with_key (py_sort.py);"
		     "<module> (py_sort.py)");
	/* no Python frames: a native walk keeps all it found */
	fl->n = 0;
	T_ASSERT(!stacks_user(&sn, p, 1, 0, EBPROF_END_TABLE_MISS, ips, 4, NULL, 0, fl));
	T_ASSERT_STR(joined(p, fl), "leaf;_PyEval_EvalFrameDefault;prog+0x60;main");
	free(fl);
	profile__free(p);
	return T_OK;
}

/* complete: the walk says so or reaches an entry in user code; else by how it ended */
static int quality(void)
{
	struct profile *p = profile__new();
	uint32_t s = profile__frame(p, "_start", "prog", false), m = profile__frame(p, "work", "prog", false);
	uint32_t km = profile__frame(p, "main", "[kernel]", true);
	uint32_t a[] = { s, m }, b[] = { m }, c[] = { km, m };

	stacks_quality(p, EBPROF_END_TABLE_MISS, a, 2, 3);
	stacks_quality(p, EBPROF_END_TABLE_MISS, b, 1, 5);
	stacks_quality(p, EBPROF_END_COMPLETE, b, 1, 7);
	stacks_quality(p, EBPROF_END_READ_FAULT, c, 2, 11);
	T_ASSERT(p->meta.user_stacks == 26);
	T_ASSERT(p->meta.complete == 10);
	T_ASSERT(p->meta.ends[EBPROF_END_TABLE_MISS] == 5);
	T_ASSERT(p->meta.ends[EBPROF_END_READ_FAULT] == 11);
	profile__free(p);
	return T_OK;
}

/* --lines: a function once per sample, at its innermost line; line 0 ranks the leaf */
static int lines(void)
{
	struct profile *p = profile__new();
	int f = profile__frame(p, "f", "prog", false), g = profile__frame(p, "g", "prog", false);
	uint32_t ids[] = { f, g, f };	/* outermost first: f (line 10) > g (3) > f (12) */
	int ln[] = { 10, 3, 12 };
	uint64_t f12 = 0, f10 = 0, f0 = 0, g3 = 0;
	size_t i;

	T_ASSERT(!stacks_count_lines(p, ids, ln, 3, 4));
	for (i = 0; i < p->nhits; i++) {
		const struct line_hit *h = &p->hits[i];

		if (h->fn == (uint32_t)f && h->line == 12)
			f12 += h->count;
		if (h->fn == (uint32_t)f && h->line == 10)
			f10 += h->count;
		if (h->fn == (uint32_t)f && h->line == 0)
			f0 += h->count;
		if (h->fn == (uint32_t)g && h->line == 3)
			g3 += h->count;
	}
	T_ASSERT(f12 == 4 && f10 == 0 && f0 == 4 && g3 == 4);
	profile__free(p);
	return T_OK;
}

/* top's view by line: a native frame of a known line is a frame of that line, of its function */
static int native_line_frames(void)
{
	struct profile *p = profile__new();
	struct frame_list *fl = calloc(1, sizeof(*fl));
	const __u64 ips[] = { 0x10, 0x40 };
	struct stack_names sn = names;
	const struct frame *f, *fn;

	T_ASSERT(p && fl);
	sn.native_line = fake_line;
	sn.lines = sn.line_frames = true;
	T_ASSERT(!stacks_user(&sn, p, 1, 0, EBPROF_END_COMPLETE, ips, 2, NULL, 0, fl));
	T_ASSERT_STR(joined(p, fl), "leaf (prog.c:7);main");
	f = profile__frame_at(p, fl->ids[0]);
	fn = profile__frame_at(p, f->fn);
	T_ASSERT(f->line == 7 && fl->lines[0] == 7);
	T_ASSERT_STR(fn->func, "leaf");
	T_ASSERT_STR(fn->src, "/src/prog.c");
	T_ASSERT(fn->src_line == 3);
	/* --lines alone: the function's frame, its line beside it */
	sn.line_frames = false;
	fl->n = 0;
	T_ASSERT(!stacks_user(&sn, p, 1, 0, EBPROF_END_COMPLETE, ips, 2, NULL, 0, fl));
	T_ASSERT_STR(joined(p, fl), "leaf;main");
	T_ASSERT(fl->lines[0] == 7);
	free(fl);
	profile__free(p);
	return T_OK;
}

/* what a tracepoint's kernel stack starts with is BPF's, not the target's */
static int tracing_frames(void)
{
	T_ASSERT(stacks_tracing_frame("bpf_prog_8c85c405660c71d4_eb_off_dwarf"));
	T_ASSERT(stacks_tracing_frame("bpf_trace_run4"));
	T_ASSERT(stacks_tracing_frame("__bpf_trace_sched_switch"));
	T_ASSERT(stacks_tracing_frame("__traceiter_sched_switch"));
	T_ASSERT(!stacks_tracing_frame("__schedule"));
	T_ASSERT(!stacks_tracing_frame("bpf_map_update_elem"));
	T_ASSERT(!stacks_tracing_frame("futex_wait"));
	return T_OK;
}

T_MAIN("stacks", T(merged_in_place), T(stopped_short), T(quality), T(lines), T(native_line_frames), T(tracing_frames))
