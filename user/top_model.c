// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * top_model.c - the stacks of ebprof top's window and the rows they make.
 * Each period's profile is copied into stacks of frames interned here
 * (the profile is freed); the rows are counted anew from the stacks each
 * time, so that a setting changed (kernel frames, by line, a filter, a
 * process) applies to the whole window.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "profile.h"
#include "top_model.h"
#include "util/grow.h"
#include "util/strmap.h"

int top_model_init(struct top_model *m, double window, bool per_process)
{
	memset(m, 0, sizeof(*m));
	m->window = window;
	m->per_process = per_process;
	m->drilled = -1;
	m->kernel_only = -1;
	m->strings = strmap__new();
	m->frame_ids = strmap__new();
	m->group_ids = strmap__new();
	m->row_ids = strmap__new();
	if (!m->strings || !m->frame_ids || !m->group_ids || !m->row_ids) {
		top_model_free(m);
		return -ENOMEM;
	}
	return 0;
}

static void period_free(struct tperiod *pd)
{
	size_t i;

	for (i = 0; i < pd->nstacks; i++)
		free(pd->stacks[i].frames);
	free(pd->stacks);
}

void top_model_free(struct top_model *m)
{
	size_t i, it = 0;
	void *v;

	top_model_reset(m);
	free(m->periods);
	for (i = 0; i < m->ngroups; i++)
		free(m->groups[i]);
	free(m->groups);
	free(m->frames);
	free(m->rows);
	while (m->strings && (v = strmap__next(m->strings, &it, NULL, NULL)))
		free(v);
	strmap__free(m->strings);
	strmap__free(m->row_ids);
	strmap__free(m->frame_ids);
	strmap__free(m->group_ids);
	memset(m, 0, sizeof(*m));
}

static const char *intern(struct top_model *m, const char *s)
{
	return strmap__intern(m->strings, s, NULL);
}

/* the id of the frame of these names, made when new: >= 0 or -ENOMEM */
static int frame_named(struct top_model *m, const char *func, const char *fn, const char *module, bool kernel)
{
	char key[1024];
	size_t len;
	void *v;

	len = snprintf(key, sizeof(key), "%s%c%s%c%s%c%d", func, 0, fn, 0, module, 0, kernel);
	if (len >= sizeof(key))
		len = sizeof(key) - 1;
	v = strmap__get(m->frame_ids, key, len);
	if (v)
		return (int)((uintptr_t)v - 1);
	if (GROW(m->frames, m->nframes, m->frames_cap, 1024))
		return -ENOMEM;
	m->frames[m->nframes] = (struct tframe){ intern(m, func), intern(m, fn), intern(m, module), kernel };
	if (!m->frames[m->nframes].func || !m->frames[m->nframes].fn || !m->frames[m->nframes].module ||
	    strmap__set(m->frame_ids, key, len, (void *)(uintptr_t)(m->nframes + 1)))
		return -ENOMEM;
	return (int)m->nframes++;
}

/* a profile's frame: its module by base name */
static int frame_of(struct top_model *m, const struct profile *p, uint32_t id)
{
	const struct frame *f = profile__frame_at(p, id);
	const char *mod = f->module ? strrchr(f->module, '/') : NULL;

	mod = mod ? mod + 1 : f->module ? f->module : "";
	return frame_named(m, f->func, profile__frame_at(p, f->fn)->func, mod, f->kernel);
}

/* a stack's group: its command ("comm"), or its process ("comm[pid]") when the profile is by process */
static int group_of(struct top_model *m, const struct profile *p, const struct stack *s)
{
	char name[64];
	size_t len;
	void *v;

	if (!m->per_process)
		return 0;
	if (p->meta.by_command || !s->tgid)
		snprintf(name, sizeof(name), "%s", s->comm ? s->comm : "?");
	else
		snprintf(name, sizeof(name), "%s[%d]", s->comm ? s->comm : "?", s->tgid);
	len = strlen(name);
	v = strmap__get(m->group_ids, name, len);
	if (v)
		return (int)((uintptr_t)v - 1);
	if (GROW(m->groups, m->ngroups, m->groups_cap, 64))
		return -ENOMEM;
	m->groups[m->ngroups] = strdup(name);
	if (!m->groups[m->ngroups] ||
	    strmap__set(m->group_ids, m->groups[m->ngroups], len, (void *)(uintptr_t)(m->ngroups + 1))) {
		free(m->groups[m->ngroups]);
		return -ENOMEM;
	}
	return (int)m->ngroups++;
}

/* the end of what the view shows: the newest period, or where it was paused */
static double view_end(const struct top_model *m)
{
	if (m->paused)
		return m->paused_at;
	return m->nperiods ? m->periods[m->nperiods - 1].t1 : 0;
}

/* periods wholly before the window of the view's end go; those after a pause's end stay */
static void expire(struct top_model *m)
{
	double from = view_end(m) - m->window + 1e-6;
	size_t i = 0, k;

	while (i < m->nperiods && m->periods[i].t1 <= from)
		period_free(&m->periods[i++]);
	if (!i)
		return;
	for (k = 0; i < m->nperiods; i++)
		m->periods[k++] = m->periods[i];
	m->nperiods = k;
}

int top_model_add(struct top_model *m, struct profile *p, double t0, double t1, double self_cpu)
{
	struct tperiod pd = { .t0 = t0, .t1 = t1, .self_cpu = self_cpu };
	size_t i;
	int err = 0;

	if (profile__has_python(p) && (err = profile__view(p, PROFILE_VIEW_PYTHON)))
		return err;
	pd.samples = p->totals[0];
	pd.lost = profile__lost_kind(p, LOSS_SAMPLES) + profile__lost_kind(p, LOSS_STACKS);
	pd.user_stacks = p->meta.user_stacks;
	pd.complete = p->meta.complete + p->meta.in_exec;
	pd.stacks = calloc(p->nstacks ? p->nstacks : 1, sizeof(*pd.stacks));
	if (!pd.stacks)
		return -ENOMEM;
	for (i = 0; i < p->nstacks && !err; i++) {
		const struct stack *s = &p->stacks[i];
		struct tstack *ts = &pd.stacks[pd.nstacks];
		int g = group_of(m, p, s);
		uint32_t k;

		if (g < 0) {
			err = g;
			break;
		}
		if (!s->v[0])
			continue;
		ts->group = g;
		ts->count = s->v[0];
		ts->frames = malloc((s->nframes ? s->nframes : 1) * sizeof(uint32_t));
		if (!ts->frames) {
			err = -ENOMEM;
			break;
		}
		pd.nstacks++;
		for (k = 0; k < s->nframes && !err; k++) {
			int id = frame_of(m, p, s->frames[k]);

			if (id < 0)
				err = id;
			else
				ts->frames[ts->nframes++] = id;
		}
	}
	if (!err && GROW(m->periods, m->nperiods, m->periods_cap, 16))
		err = -ENOMEM;
	if (err) {
		period_free(&pd);
		return err;
	}
	m->periods[m->nperiods++] = pd;
	expire(m);
	return 0;
}

void top_model_reset(struct top_model *m)
{
	size_t i;

	for (i = 0; i < m->nperiods; i++)
		period_free(&m->periods[i]);
	m->nperiods = 0;
	m->nrows = 0;
}

void top_model_pause(struct top_model *m, bool on)
{
	if (on && !m->paused)
		m->paused_at = view_end(m);
	m->paused = on;
	if (!on)
		expire(m);
}

static int row_of(struct top_model *m, uint32_t group, uint32_t frame)
{
	uint32_t key[2] = { group, frame };
	void *v = strmap__get(m->row_ids, key, sizeof(key));

	if (v)
		return (int)((uintptr_t)v - 1);
	if (GROW(m->rows, m->nrows, m->rows_cap, 256))
		return -ENOMEM;
	m->rows[m->nrows] = (struct trow){ group, frame, 0, 0, 0 };
	if (strmap__set(m->row_ids, key, sizeof(key), (void *)(uintptr_t)(m->nrows + 1)))
		return -ENOMEM;
	return (int)m->nrows++;
}

/* the frame a row of stack frame *f* shows: by function, its function's */
static int shown_frame(struct top_model *m, uint32_t f)
{
	const struct tframe *tf = &m->frames[f];

	if (m->by_line || tf->func == tf->fn)
		return f;
	return frame_named(m, tf->fn, tf->fn, tf->module, tf->kernel);
}

static int cmp_rows(const void *a, const void *b, void *arg)
{
	const struct trow *x = a, *y = b;
	const struct top_model *m = arg;
	uint64_t kx = m->sort_total ? x->total : x->self, ky = m->sort_total ? y->total : y->self;
	uint64_t lx = m->sort_total ? x->self : x->total, ly = m->sort_total ? y->self : y->total;

	if (kx != ky)
		return kx < ky ? 1 : -1;
	if (lx != ly)
		return lx < ly ? 1 : -1;
	return strcmp(m->frames[x->frame].func, m->frames[y->frame].func);
}

/* one stack into the rows: self for its innermost frame shown, total once for each */
static int count_stack(struct top_model *m, const struct tstack *s, uint64_t seq)
{
	uint32_t group = m->per_process && m->drilled < 0 ? s->group : TOP_NO_GROUP;
	int leaf = -1, id, f;
	uint32_t k;

	for (k = 0; k < s->nframes; k++) {
		if (m->no_kernel && m->frames[s->frames[k]].kernel)
			continue;
		f = shown_frame(m, s->frames[k]);
		id = f < 0 ? f : row_of(m, group, f);
		if (id < 0)
			return id;
		if (m->rows[id].seen != seq) {
			m->rows[id].seen = seq;
			m->rows[id].total += s->count;
		}
		leaf = id;
	}
	if (leaf < 0) {
		/* only kernel frames, and they are off: the kernel's own time (a kernel thread's) */
		if (m->kernel_only < 0 && (m->kernel_only = frame_named(m, "[kernel]", "[kernel]", "", true)) < 0)
			return m->kernel_only;
		leaf = row_of(m, group, m->kernel_only);
		if (leaf < 0)
			return leaf;
		m->rows[leaf].total += s->count;
	}
	m->rows[leaf].self += s->count;
	return 0;
}

int top_model_count(struct top_model *m)
{
	double from = view_end(m) - m->window + 1e-6, end = view_end(m) + 1e-6;
	uint64_t seq = 0;
	size_t i, j, k;
	int err;

	m->nrows = 0;
	strmap__free(m->row_ids);
	m->row_ids = strmap__new();
	if (!m->row_ids)
		return -ENOMEM;
	memset(&m->sum, 0, sizeof(m->sum));
	m->scope_samples = 0;
	m->covered = 0;
	for (i = 0; i < m->nperiods; i++) {
		const struct tperiod *pd = &m->periods[i];

		if (pd->t1 <= from || pd->t1 > end)
			continue;
		m->covered += pd->t1 - pd->t0;
		m->sum.samples += pd->samples;
		m->sum.lost += pd->lost;
		m->sum.user_stacks += pd->user_stacks;
		m->sum.complete += pd->complete;
		m->sum.self_cpu += pd->self_cpu;
		for (j = 0; j < pd->nstacks; j++) {
			if (m->drilled >= 0 && (int)pd->stacks[j].group != m->drilled)
				continue;
			m->scope_samples += pd->stacks[j].count;
			err = count_stack(m, &pd->stacks[j], ++seq);
			if (err)
				return err;
		}
	}
	if (m->filter[0]) {
		for (i = k = 0; i < m->nrows; i++)
			if (strcasestr(m->frames[m->rows[i].frame].func, m->filter))
				m->rows[k++] = m->rows[i];
		m->nrows = k;
	}
	qsort_r(m->rows, m->nrows, sizeof(*m->rows), cmp_rows, m);
	return 0;
}
