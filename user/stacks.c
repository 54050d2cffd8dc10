// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * stacks.c - a sample's user frames put together: native and Python
 * frames merged, --lines, and the stack quality line.
 */
#include <errno.h>
#include <stdio.h>
#include <inttypes.h>
#include <string.h>
#include "stacks.h"
#include "util/log.h"

bool stacks_is_eval(const char *func)
{
	return !strncmp(func, "_PyEval_EvalFrameDefault", 24) && (func[24] == 0 || func[24] == '.');
}

static int push(struct frame_list *fl, int id, int line)
{
	if (id < 0)
		return id;
	if (fl->n < MAX_FRAMES) {
		fl->ids[fl->n] = id;
		fl->lines[fl->n++] = line;
	}
	return 0;
}

/* the frame of *line* of function frame *fn*, shown "name (file.py:12)" */
static int push_line(struct profile *p, int fn, const char *name, const char *file, int line, struct frame_list *fl)
{
	const char *base = strrchr(file, '/');
	char text[512];

	snprintf(text, sizeof(text), "%s (%s:%d)", name, base ? base + 1 : file, line);
	return push(fl, profile__line_frame(p, fn, text, line), line);
}

static int py_frame(const struct stack_names *sn, struct profile *p, int tgid, const struct py_frame *f,
		    struct frame_list *fl)
{
	struct py_named c = {};
	int fn;

	sn->python(sn->ctx, tgid, f, &c);
	fn = profile__py_func(p, c.name, c.file, c.first, tgid);
	if (fn < 0 || !c.line || sn->no_lineno)
		return push(fl, fn, c.line);
	return push_line(p, fn, c.name, c.file, c.line, fl);
}

/*
 * the frames of one eval call (all that are left when *all*), from frame
 * *j on
 */
static int py_segment(const struct stack_names *sn, struct profile *p, int tgid, const struct py_frame *pf,
		      uint32_t np, uint32_t *j, bool all, struct frame_list *fl)
{
	int err;

	while (*j < np && *j < EBPROF_PY_MAX_FRAMES) {
		const struct py_frame *f = &pf[(*j)++];

		if (!(f->flags & EBPROF_PYF_EMPTY)) {
			err = py_frame(sn, p, tgid, f, fl);
			if (err)
				return err;
		}
		if ((f->flags & EBPROF_PYF_ENTRY) && !all)
			break;
	}
	return 0;
}

/* a native frame, with its source line for --lines */
static int native_frame(const struct stack_names *sn, struct profile *p, int tgid, const struct sym_frame *sf,
			struct frame_list *fl)
{
	int id = profile__frame(p, sf->func, sf->module, false);
	struct srcline sl;

	if (id >= 0 && sf->dso && profile__set_build_id(p, sf->module, dso__build_id(sf->dso)))
		return -ENOMEM;
	if (id < 0 || !sn->lines || !sn->native_line || !sn->native_line(sn->ctx, sf, &sl))
		return push(fl, id, 0);
	if (!profile__frame_at(p, id)->src) {
		char path[4096];

		if (sl.fn_file[0] != '/' && sl.comp_dir)
			snprintf(path, sizeof(path), "%s/%s", sl.comp_dir, sl.fn_file);
		else
			snprintf(path, sizeof(path), "%s", sl.fn_file);
		if (profile__set_source(p, id, path, sl.fn_line, tgid))
			return -ENOMEM;
	}
	if (sn->line_frames && sl.line > 0)
		return push_line(p, id, sf->func, sl.fn_file, sl.line, fl);
	return push(fl, id, sl.line);
}

/*
 * A walk that did not reach the start (frame pointers through a libpython
 * that has none) loses its way: its frames past the first one without a
 * name are dropped, and the Python frames no eval frame took go outside,
 * each segment behind a gap frame.
 */
int stacks_user(const struct stack_names *sn, struct profile *p, int tgid, unsigned int gen,
		unsigned int end, const __u64 *ips, uint32_t nr, const struct py_frame *pf, uint32_t np,
		struct frame_list *fl)
{
	uint32_t i, j = 0, cut = 0;
	bool trusted = true;
	int err;

	for (i = 0; i < nr; i++) {
		struct sym_frame sf;

		sn->native(sn->ctx, tgid, gen, ips[i], i > 0, &sf);
		if (j < np && stacks_is_eval(sf.func)) {
			err = py_segment(sn, p, tgid, pf, np, &j, false, fl);
			if (err)
				return err;
			cut = fl->n;
			trusted = true;
			continue;
		}
		/* past code with no name, a walk without tables may be lost */
		if (!sf.known)
			trusted = false;
		err = native_frame(sn, p, tgid, &sf, fl);
		if (err)
			return err;
		if (trusted)
			cut = fl->n;
	}
	if (np && end != EBPROF_END_COMPLETE)
		fl->n = cut;
	if (j < np && end == EBPROF_END_COMPLETE)
		return py_segment(sn, p, tgid, pf, np, &j, true, fl);
	/*
	 * The walk stopped short: native frames ran each of the Python
	 * segments left (their eval call, what called it), and they are not
	 * known.  A gap frame says so, lest a segment look called by the next.
	 */
	while (j < np) {
		err = push(fl, profile__frame(p, GAP_FRAME, "", false), 0);
		if (!err)
			err = py_segment(sn, p, tgid, pf, np, &j, false, fl);
		if (err)
			return err;
	}
	return 0;
}

int stacks_count_lines(struct profile *p, const uint32_t *ids, const int *lines, int n, uint64_t count)
{
	bool innermost = true;
	int i, k, err;

	for (i = n - 1; i >= 0; i--) {
		uint32_t fn = profile__frame_at(p, ids[i])->fn;
		bool inner = false;

		/* line 0: where the sample was, for ranking functions */
		if (lines[i] && innermost) {
			innermost = false;
			err = profile__hit(p, fn, 0, count);
			if (err)
				return err;
		}

		if (!lines[i])
			continue;
		for (k = i + 1; k < n && !inner; k++)
			inner = profile__frame_at(p, ids[k])->fn == fn && lines[k];
		if (inner)
			continue;
		err = profile__hit(p, fn, lines[i], count);
		if (err)
			return err;
	}
	return 0;
}

/* a frame that means the walk reached the start of the process or thread */
static bool is_entry(const char *func)
{
	static const char *const entries[] = { "_start", "main", "clone", "clone3", "start_thread" };
	size_t i;

	for (i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		if (!strcmp(func, entries[i]))
			return true;
	return false;
}

bool stacks_tracing_frame(const char *func)
{
	static const char *const prefixes[] = {
		"bpf_prog_", "bpf_trace_run", "__bpf_trace_", "__traceiter_", "bpf_trampoline_", "__bpf_prog_enter",
	};
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(func, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

void stacks_quality(struct profile *p, unsigned int end, const uint32_t *ids, int n, uint64_t count)
{
	bool complete = end == EBPROF_END_COMPLETE;
	int i;

	for (i = 0; i < n && !complete; i++) {
		const struct frame *f = profile__frame_at(p, ids[i]);

		complete = !f->kernel && is_entry(f->func);
	}
	p->meta.user_stacks += count;
	/* with --debug, the first few incomplete walks, to find their cause */
	if (!complete && end != EBPROF_END_EXEC && log_level >= 2 &&
	    p->meta.user_stacks - p->meta.complete - p->meta.in_exec - count < 20) {
		fprintf(stderr, "ebprof: debug: incomplete walk (%s, %" PRIu64 " sample%s): ", profile_end_name(end),
			count, count == 1 ? "" : "s");
		for (i = 0; i < n; i++) {
			const struct frame *f = profile__frame_at(p, ids[i]);

			fprintf(stderr, "%s%s", i ? ";" : "", f->func);
			if (f->module && !f->kernel)
				fprintf(stderr, " (%s)", f->module);
		}
		fputc('\n', stderr);
	}
	if (complete)
		p->meta.complete += count;
	else if (end == EBPROF_END_EXEC)
		p->meta.in_exec += count;
	else if (end < sizeof(p->meta.ends) / sizeof(p->meta.ends[0]))
		p->meta.ends[end] += count;
}
