// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ebprof top's rows (top_model.c) from profiles of known stacks: self and
 * total, recursion counted once, kernel frames off, by line, by command
 * and drilled into one, the filter, the window, pause and reset.
 */
#include <stdlib.h>
#include "t.h"
#include "profile.h"
#include "top_model.h"

/* the row of function *func* in group *g* */
static const struct trow *row(const struct top_model *m, const char *func, uint32_t g)
{
	size_t i;

	for (i = 0; i < m->nrows; i++)
		if (!strcmp(m->frames[m->rows[i].frame].func, func) && m->rows[i].group == g)
			return &m->rows[i];
	return NULL;
}

/*
 * one period: main > work > leaf 30 times, main > f > f > f 10 times
 * (recursion), and main > read > [k] vfs_read > [k] copy 20 times, in
 * process 10 "app"; 40 samples of "kworker" (pid 20) all kernel
 */
static struct profile *period(void)
{
	struct profile *p = profile__new();
	uint32_t mn = profile__frame(p, "main", "/bin/app", false), w = profile__frame(p, "work", "/bin/app", false);
	uint32_t l = profile__frame(p, "leaf", "/lib/libc.so.6", false), f = profile__frame(p, "f", "/bin/app", false);
	uint32_t rd = profile__frame(p, "read", "/lib/libc.so.6", false);
	uint32_t kv = profile__frame(p, "vfs_read", "[kernel]", true), kc = profile__frame(p, "copy", "[kernel]", true);
	uint32_t kt = profile__frame(p, "worker_thread", "[kernel]", true);
	uint32_t a[] = { mn, w, l }, b[] = { mn, f, f, f }, c[] = { mn, rd, kv, kc }, d[] = { kt };

	profile__add(p, 10, 0, "app", a, 3, 30);
	profile__add(p, 10, 0, "app", b, 4, 10);
	profile__add(p, 10, 0, "app", c, 4, 20);
	profile__add(p, 20, 0, "kworker", d, 1, 40);
	p->meta.by_command = true;
	p->meta.user_stacks = 60;
	p->meta.complete = 57;
	profile__finish(p);
	return p;
}

/* a period() from *t0* to *t1* into *m*, freed after */
static int add(struct top_model *m, double t0, double t1, double cpu)
{
	struct profile *p = period();
	int err = p ? top_model_add(m, p, t0, t1, cpu) : -1;

	profile__free(p);
	return err;
}

static int self_total(void)
{
	struct top_model m;
	const struct trow *r;

	T_ASSERT(!top_model_init(&m, 10, true));
	T_ASSERT(!add(&m, 0, 1, 0.01));
	T_ASSERT(!top_model_count(&m));
	T_ASSERT(m.scope_samples == 100 && m.sum.user_stacks == 60 && m.sum.complete == 57);
	/* sorted by self: worker_thread 40, leaf 30, copy 20, f 10 */
	T_ASSERT_STR(m.frames[m.rows[0].frame].func, "worker_thread");
	T_ASSERT_STR(m.frames[m.rows[1].frame].func, "leaf");
	T_ASSERT_STR(m.groups[m.rows[1].group], "app");
	r = row(&m, "f", m.rows[1].group);
	T_ASSERT(r && r->self == 10 && r->total == 10);	/* three deep, counted once */
	r = row(&m, "main", m.rows[1].group);
	T_ASSERT(r && r->self == 0 && r->total == 60);
	T_ASSERT_STR(m.frames[r->frame].module, "app");
	/* by total: main first */
	m.sort_total = true;
	T_ASSERT(!top_model_count(&m));
	T_ASSERT_STR(m.frames[m.rows[0].frame].func, "main");
	/* kernel off: read has copy's 20; the kernel thread is [kernel] */
	m.no_kernel = true;
	m.sort_total = false;
	T_ASSERT(!top_model_count(&m));
	r = row(&m, "read", m.rows[1].group);
	T_ASSERT(r && r->self == 20 && r->total == 20);
	T_ASSERT(!row(&m, "copy", m.rows[1].group) && !row(&m, "vfs_read", m.rows[1].group));
	T_ASSERT_STR(m.frames[m.rows[0].frame].func, "[kernel]");
	T_ASSERT(m.rows[0].self == 40 && m.rows[0].total == 40);
	top_model_free(&m);
	return T_OK;
}

static int drill_and_filter(void)
{
	struct top_model m;
	const struct trow *r;
	int app;

	T_ASSERT(!top_model_init(&m, 10, true));
	T_ASSERT(!add(&m, 0, 1, 0));
	T_ASSERT(!top_model_count(&m));
	app = row(&m, "main", 0) ? 0 : 1;
	T_ASSERT_STR(m.groups[app], "app");
	m.drilled = app;
	T_ASSERT(!top_model_count(&m));
	T_ASSERT(m.scope_samples == 60);
	T_ASSERT(!row(&m, "worker_thread", TOP_NO_GROUP));
	r = row(&m, "main", TOP_NO_GROUP);
	T_ASSERT(r && r->total == 60);
	/* a filter, case aside */
	snprintf(m.filter, sizeof(m.filter), "LEA");
	T_ASSERT(!top_model_count(&m));
	T_ASSERT(m.nrows == 1);
	T_ASSERT_STR(m.frames[m.rows[0].frame].func, "leaf");
	top_model_free(&m);
	return T_OK;
}

/* Python frames by line: two lines of one function are one row by function */
static int by_line(void)
{
	struct profile *p = profile__new();
	struct top_model m;
	const struct trow *r;
	int fn, l1, l2;
	uint32_t a[1], b[1];

	fn = profile__py_func(p, "work", "/src/x.py", 10, 1);
	l1 = profile__line_frame(p, fn, "work (x.py:12)", 12);
	l2 = profile__line_frame(p, fn, "work (x.py:13)", 13);
	a[0] = l1;
	b[0] = l2;
	profile__add(p, 1, 0, "python3", a, 1, 3);
	profile__add(p, 1, 0, "python3", b, 1, 1);
	profile__finish(p);
	T_ASSERT(!top_model_init(&m, 10, false));
	T_ASSERT(!top_model_add(&m, p, 0, 1, 0));
	profile__free(p);
	T_ASSERT(!top_model_count(&m));
	T_ASSERT(m.nrows == 1);
	r = row(&m, "work (x.py)", TOP_NO_GROUP);
	T_ASSERT(r && r->self == 4);
	T_ASSERT_STR(m.frames[r->frame].module, "x.py");
	m.by_line = true;
	T_ASSERT(!top_model_count(&m));
	T_ASSERT(m.nrows == 2);
	r = row(&m, "work (x.py:12)", TOP_NO_GROUP);
	T_ASSERT(r && r->self == 3);
	top_model_free(&m);
	return T_OK;
}

/* the last 10 s: older periods go; a pause holds the view; z empties it */
static int window(void)
{
	struct top_model m;
	int i;

	T_ASSERT(!top_model_init(&m, 10, true));
	for (i = 0; i < 15; i++)
		T_ASSERT(!add(&m, i, i + 1, 0.01));
	T_ASSERT(!top_model_count(&m));
	T_ASSERT(m.nperiods == 10 && m.scope_samples == 1000);
	T_ASSERT(m.covered > 9.99 && m.covered < 10.01);
	T_ASSERT(m.sum.self_cpu > 0.099 && m.sum.self_cpu < 0.101);
	top_model_pause(&m, true);
	for (i = 15; i < 18; i++)
		T_ASSERT(!add(&m, i, i + 1, 0.01));
	T_ASSERT(!top_model_count(&m));
	T_ASSERT(m.scope_samples == 1000 && m.paused);
	top_model_pause(&m, false);
	T_ASSERT(!top_model_count(&m));
	T_ASSERT(m.nperiods == 10 && m.scope_samples == 1000 && m.periods[0].t0 == 8);
	top_model_reset(&m);
	T_ASSERT(!top_model_count(&m));
	T_ASSERT(m.nrows == 0 && m.scope_samples == 0 && m.covered == 0);
	T_ASSERT(!add(&m, 18, 19, 0));
	T_ASSERT(!top_model_count(&m));
	T_ASSERT(m.scope_samples == 100);
	top_model_free(&m);
	return T_OK;
}

T_MAIN("top_model", T(self_total), T(drill_and_filter), T(by_line), T(window))
