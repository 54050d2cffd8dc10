// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "profile.h"
#include "util/strmap.h"

struct profile *profile__new(void)
{
	struct profile *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->meta.mode = "cpu";
	p->meta.event = "cpu-clock";
	p->meta.values[0] = (struct profile_value){ "samples", "count" };
	p->meta.nvalues = 1;
	p->strings = strmap__new();
	p->frame_ids = strmap__new();
	p->stack_ids = strmap__new();
	p->hit_ids = strmap__new();
	p->build_ids = strmap__new();
	if (!p->strings || !p->frame_ids || !p->stack_ids || !p->hit_ids || !p->build_ids) {
		profile__free(p);
		return NULL;
	}
	return p;
}

struct profile *profile__new_like(const struct profile *old)
{
	struct profile *p = profile__new();
	unsigned int i;

	if (!p)
		return NULL;
	p->meta.mode = old->meta.mode;
	p->meta.event = old->meta.event;
	memcpy(p->meta.target, old->meta.target, sizeof(p->meta.target));
	p->meta.by_command = old->meta.by_command;
	p->meta.per_process = old->meta.per_process;
	p->meta.nvalues = old->meta.nvalues;
	memcpy(p->meta.values, old->meta.values, sizeof(p->meta.values));
	p->meta.nlosses = old->meta.nlosses;
	for (i = 0; i < old->meta.nlosses; i++) {
		p->meta.losses[i] = old->meta.losses[i];
		p->meta.losses[i].n = 0;
	}
	return p;
}

void profile__free(struct profile *p)
{
	size_t i, it = 0;
	void *v;

	if (!p)
		return;
	if (p->ext_free)
		p->ext_free(p->ext);
	while (p->strings && (v = strmap__next(p->strings, &it, NULL, NULL)))
		free(v);
	for (i = 0; i < p->nstacks; i++) {
		free(p->stacks[i].v);
		free(p->stacks[i].text);
	}
	strmap__free(p->strings);
	strmap__free(p->frame_ids);
	strmap__free(p->stack_ids);
	strmap__free(p->hit_ids);
	strmap__free(p->build_ids);
	free(p->hits);
	free(p->frames);
	free(p->stacks);
	free(p->key);
	free(p);
}

static const char *intern(struct profile *p, const char *s)
{
	int added;
	const char *v = strmap__intern(p->strings, s, &added);

	if (added)
		p->text_bytes += malloc_bytes(v);
	return v;
}

static int frame_id(struct profile *p, const char *func, const char *module, bool kernel,
		    bool python, int line, int64_t fn)
{
	struct {
		const char *f, *m;
		bool k, py;
		int line;
	} key;
	struct frame *f;
	void *v;

	memset(&key, 0, sizeof(key));
	key.f = intern(p, func);
	key.m = intern(p, module ? module : "");
	key.k = kernel;
	key.py = python;
	key.line = line;
	if (!key.f || !key.m)
		return -ENOMEM;
	v = strmap__get(p->frame_ids, &key, sizeof(key));
	if (v)
		return (int)((uintptr_t)v - 1);
	if (p->nframes == p->frames_cap) {
		size_t cap = p->frames_cap ? p->frames_cap * 2 : 256;
		struct frame *f = realloc(p->frames, cap * sizeof(*f));

		if (!f)
			return -ENOMEM;
		p->frames = f;
		p->frames_cap = cap;
	}
	f = &p->frames[p->nframes];
	memset(f, 0, sizeof(*f));
	f->func = key.f;
	f->module = key.m;
	f->kernel = kernel;
	f->python = python;
	f->line = line;
	f->fn = fn >= 0 ? (uint32_t)fn : p->nframes;
	if (strmap__set(p->frame_ids, &key, sizeof(key), (void *)(uintptr_t)(p->nframes + 1)))
		return -ENOMEM;
	return (int)p->nframes++;
}

int profile__set_build_id(struct profile *p, const char *module, const char *build_id)
{
	const char *v;

	if (!module || !build_id || strmap__get(p->build_ids, module, strlen(module)))
		return 0;
	v = intern(p, build_id);
	module = intern(p, module);
	if (!v || !module || strmap__set(p->build_ids, module, strlen(module), (void *)v))
		return -ENOMEM;
	return 0;
}

const char *profile__build_id(const struct profile *p, const char *module)
{
	return module ? strmap__get(p->build_ids, module, strlen(module)) : NULL;
}

int profile__frame(struct profile *p, const char *func, const char *module, bool kernel)
{
	return frame_id(p, func, module, kernel, false, 0, -1);
}

int profile__py_func(struct profile *p, const char *name, const char *file, int first, int tgid)
{
	const char *base = strrchr(file, '/');
	size_t len = strlen(name) + strlen(file) + 8;
	char *text = malloc(len);
	int id;

	if (!text)
		return -ENOMEM;
	base = base ? base + 1 : file;
	if (*base)
		snprintf(text, len, "%s (%s)", name, base);
	else
		snprintf(text, len, "%s", name);
	id = frame_id(p, text, file, false, true, 0, -1);
	free(text);
	if (id >= 0 && !p->frames[id].src && *file && profile__set_source(p, id, file, first, tgid))
		return -ENOMEM;
	return id;
}

int profile__line_frame(struct profile *p, uint32_t fn, const char *text, int line)
{
	const struct frame *f = &p->frames[fn];

	return frame_id(p, text, f->module, f->kernel, f->python, line, fn);
}

int profile__set_source(struct profile *p, uint32_t fn, const char *src, int first, int tgid)
{
	struct frame *f = &p->frames[fn];

	f->src = intern(p, src);
	if (!f->src)
		return -ENOMEM;
	f->src_line = first;
	f->src_tgid = tgid;
	return 0;
}

int profile__hit(struct profile *p, uint32_t fn, int line, uint64_t count)
{
	int64_t key[2] = { fn, line };
	void *v = strmap__get(p->hit_ids, key, sizeof(key));

	if (v) {
		p->hits[(uintptr_t)v - 1].count += count;
		return 0;
	}
	if (p->nhits == p->hits_cap) {
		size_t cap = p->hits_cap ? p->hits_cap * 2 : 256;
		struct line_hit *h = realloc(p->hits, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		p->hits = h;
		p->hits_cap = cap;
	}
	p->hits[p->nhits].fn = fn;
	p->hits[p->nhits].line = line;
	p->hits[p->nhits].count = count;
	if (strmap__set(p->hit_ids, key, sizeof(key), (void *)(uintptr_t)(p->nhits + 1)))
		return -ENOMEM;
	p->nhits++;
	return 0;
}

const struct frame *profile__frame_at(const struct profile *p, uint32_t id)
{
	return &p->frames[id];
}

int profile__set_values(struct profile *p, unsigned int n, const struct profile_value *v)
{
	if (!n || n > PROFILE_MAX_VALUES || p->nstacks)
		return -EINVAL;
	memcpy(p->meta.values, v, n * sizeof(*v));
	p->meta.nvalues = n;
	return 0;
}

int profile__value_index(const struct profile *p, const char *type)
{
	unsigned int i;

	for (i = 0; i < p->meta.nvalues; i++)
		if (!strcmp(p->meta.values[i].type, type))
			return (int)i;
	return -1;
}

int profile__add(struct profile *p, int tgid, int tid, const char *comm,
		 const uint32_t *frames, uint32_t n, uint64_t count)
{
	uint64_t v[PROFILE_MAX_VALUES] = { count };

	return profile__addv(p, tgid, tid, comm, frames, n, v);
}

int profile__loss(struct profile *p, const char *key, enum profile_loss_kind kind, uint64_t n,
		  const char *what, const char *fix)
{
	struct profile_meta *m = &p->meta;
	unsigned int i;

	for (i = 0; i < m->nlosses; i++) {
		if (!strcmp(m->losses[i].key, key)) {
			m->losses[i].n = n;
			return 0;
		}
	}
	if (m->nlosses == PROFILE_MAX_LOSSES)
		return -ENOSPC;
	m->losses[m->nlosses++] = (struct profile_loss){ key, kind, n, what, fix };
	return 0;
}

uint64_t profile__lost(const struct profile *p, const char *key)
{
	unsigned int i;

	for (i = 0; i < p->meta.nlosses; i++)
		if (!strcmp(p->meta.losses[i].key, key))
			return p->meta.losses[i].n;
	return 0;
}

uint64_t profile__lost_kind(const struct profile *p, enum profile_loss_kind kind)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < p->meta.nlosses; i++)
		if (p->meta.losses[i].kind == kind)
			n += p->meta.losses[i].n;
	return n;
}

/*
 * the index key of a stack, (tgid, tid, comm, frames), in the profile's
 * buffer (grown to fit): its length, or 0 without memory
 */
static size_t stack_key(struct profile *p, int tgid, int tid, const char *comm, const uint32_t *frames,
			uint32_t n)
{
	size_t klen = 3 * sizeof(uint64_t) + n * sizeof(uint32_t);

	if (klen > p->key_cap) {
		uint64_t *nb = realloc(p->key, klen);

		if (!nb)
			return 0;
		p->key = nb;
		p->key_cap = klen;
	}
	p->key[0] = tgid;
	p->key[1] = tid;
	p->key[2] = (uintptr_t)comm;
	memcpy(p->key + 3, frames, n * sizeof(uint32_t));
	return klen;
}

int profile__addv(struct profile *p, int tgid, int tid, const char *comm,
		  const uint32_t *frames, uint32_t n, const uint64_t *val)
{
	unsigned int nv = p->meta.nvalues, i;
	uint64_t *key;
	struct stack *s;
	size_t klen;
	void *v;

	comm = intern(p, comm);
	if (p->meta.by_command)
		tgid = 0;	/* grouped by comm, as the exited processes profile__fold merges */
	klen = comm ? stack_key(p, tgid, tid, comm, frames, n) : 0;
	if (!klen)
		return -ENOMEM;
	key = p->key;
	for (i = 0; i < nv; i++)
		p->totals[i] += val[i];
	v = strmap__get(p->stack_ids, key, klen);
	if (v) {
		s = &p->stacks[(uintptr_t)v - 1];
		for (i = 0; i < nv; i++)
			s->v[i] += val[i];
		return 0;
	}
	if (p->nstacks == p->stacks_cap) {
		size_t cap = p->stacks_cap ? p->stacks_cap * 2 : 256;
		struct stack *st = realloc(p->stacks, cap * sizeof(*st));

		if (!st)
			goto err;
		p->stacks = st;
		p->stacks_cap = cap;
	}
	s = &p->stacks[p->nstacks];
	memset(s, 0, sizeof(*s));
	/* values, then frames, in one block */
	s->v = malloc(nv * sizeof(uint64_t) + (n ? n : 1) * sizeof(uint32_t));
	if (!s->v)
		goto err;
	memcpy(s->v, val, nv * sizeof(uint64_t));
	s->frames = (uint32_t *)(s->v + nv);
	memcpy(s->frames, frames, n * sizeof(uint32_t));
	s->nframes = n;
	s->tgid = tgid;
	s->tid = tid;
	s->comm = comm;
	if (strmap__set(p->stack_ids, key, klen, (void *)(uintptr_t)(p->nstacks + 1))) {
		free(s->v);
		goto err;
	}
	p->nstacks++;
	return 0;
err:
	for (i = 0; i < nv; i++)
		p->totals[i] -= val[i];
	return -ENOMEM;
}

/*
 * In place, so that a long run does not churn the heap: each stack of a
 * process gone is re-keyed to pid 0 or added to the pid-0 stack it now
 * equals; the array is then closed up and the moved stacks re-indexed.
 */
int profile__fold(struct profile *p, bool (*gone)(int tgid, void *ctx), void *ctx)
{
	size_t klen, i, k;
	int err = 0;

	for (i = 0; i < p->nstacks && !err; i++) {
		struct stack *s = &p->stacks[i];
		void *v;

		if (!s->tgid || !gone(s->tgid, ctx))
			continue;
		klen = stack_key(p, s->tgid, s->tid, s->comm, s->frames, s->nframes);
		if (!klen) {
			err = -ENOMEM;
			break;
		}
		strmap__del(p->stack_ids, p->key, klen);
		stack_key(p, 0, s->tid, s->comm, s->frames, s->nframes);
		v = strmap__get(p->stack_ids, p->key, klen);
		if (v) {
			struct stack *to = &p->stacks[(uintptr_t)v - 1];
			unsigned int j;

			for (j = 0; j < p->meta.nvalues; j++)
				to->v[j] += s->v[j];
			free(s->v);
			free(s->text);
			s->v = NULL;
			s->frames = NULL;
			s->text = NULL;
			s->tgid = -1;	/* merged: closed up below */
		} else {
			s->tgid = 0;
			if (strmap__set(p->stack_ids, p->key, klen, (void *)(uintptr_t)(i + 1)))
				err = -ENOMEM;
		}
	}
	for (i = 0, k = 0; i < p->nstacks; i++) {
		if (p->stacks[i].tgid == -1)
			continue;
		if (k != i) {
			p->stacks[k] = p->stacks[i];
			klen = stack_key(p, p->stacks[k].tgid, p->stacks[k].tid, p->stacks[k].comm,
					 p->stacks[k].frames, p->stacks[k].nframes);
			if (!klen || strmap__set(p->stack_ids, p->key, klen, (void *)(uintptr_t)(k + 1)))
				err = -ENOMEM;
		}
		k++;
	}
	p->nstacks = k;
	return err;
}

size_t profile__bytes(const struct profile *p)
{
	size_t b = malloc_bytes(p) + p->text_bytes + malloc_bytes(p->frames) + malloc_bytes(p->stacks) +
		   malloc_bytes(p->hits) + malloc_bytes(p->key), i;

	b += strmap__bytes(p->strings) + strmap__bytes(p->frame_ids) + strmap__bytes(p->stack_ids) +
	     strmap__bytes(p->hit_ids);
	for (i = 0; i < p->nstacks; i++)
		b += malloc_bytes(p->stacks[i].v) + malloc_bytes(p->stacks[i].text);
	return b;
}

void profile__root_label(const struct profile *p, const struct stack *s, char *buf, size_t len)
{
	if (p->meta.per_thread)
		snprintf(buf, len, "%s-%d", s->comm, s->tid);
	else if (p->meta.per_process && s->tgid)
		snprintf(buf, len, "%s-%d", s->comm, s->tgid);
	else
		snprintf(buf, len, "%s", s->comm);
}

static unsigned int sort_nvalues;

static int cmp_stack(const void *a, const void *b)
{
	const struct stack *x = a, *y = b;
	unsigned int i;

	for (i = 0; i < sort_nvalues; i++)
		if (x->v[i] != y->v[i])
			return x->v[i] > y->v[i] ? -1 : 1;
	return strcmp(x->text, y->text);
}

static char *stack_text(const struct profile *p, const struct stack *s)
{
	char root[64], *buf;
	size_t len, cap, i;

	profile__root_label(p, s, root, sizeof(root));
	cap = strlen(root) + 1;
	for (i = 0; i < s->nframes; i++)
		cap += strlen(p->frames[s->frames[i]].func) + 5;
	buf = malloc(cap);
	if (!buf)
		return NULL;
	len = snprintf(buf, cap, "%s", root);
	for (i = 0; i < s->nframes; i++) {
		const struct frame *f = &p->frames[s->frames[i]];

		/* FlameGraph's and speedscope's convention for kernel frames */
		len += snprintf(buf + len, cap - len, ";%s%s", f->func, f->kernel ? "_[k]" : "");
	}
	return buf;
}

/* *v* of a running sum *cum* (of *from* in all) when the sum is made *to*: the parts add up exactly */
static uint64_t rescale(unsigned __int128 *cum, uint64_t v, uint64_t from, uint64_t to)
{
	uint64_t before = *cum * to / from;

	*cum += v;
	return (uint64_t)(*cum * to / from) - before;
}

void profile__scale(struct profile *p, const uint64_t *to)
{
	unsigned __int128 cum[PROFILE_MAX_VALUES] = {}, hcum;
	unsigned int nv = p->meta.nvalues, k;
	size_t i;

	for (i = 0; i < p->nstacks; i++)
		for (k = 0; k < nv; k++)
			if (p->totals[k])
				p->stacks[i].v[k] = rescale(&cum[k], p->stacks[i].v[k], p->totals[k], to[k]);
	for (i = 0; i < p->nhits && p->totals[0]; i++) {
		hcum = (unsigned __int128)p->hits[i].count * to[0];
		p->hits[i].count = (uint64_t)(hcum / p->totals[0]);
	}
	for (k = 0; k < nv; k++)
		if (p->totals[k])
			p->totals[k] = to[k];
}

int profile__finish(struct profile *p)
{
	size_t i;

	for (i = 0; i < p->nstacks; i++) {
		free(p->stacks[i].text);
		p->stacks[i].text = stack_text(p, &p->stacks[i]);
		if (!p->stacks[i].text)
			return -ENOMEM;
	}
	sort_nvalues = p->meta.nvalues;
	if (p->nstacks)
		qsort(p->stacks, p->nstacks, sizeof(*p->stacks), cmp_stack);
	/* stack_ids index positions before the sort: drop them */
	strmap__free(p->stack_ids);
	p->stack_ids = strmap__new();
	p->finished = true;
	return p->stack_ids ? 0 : -ENOMEM;
}

const char *profile_view_name(int view)
{
	return view == PROFILE_VIEW_PYTHON ? "python" : view == PROFILE_VIEW_NATIVE ? "native" : "mixed";
}

bool profile__has_python(const struct profile *p)
{
	size_t i;
	uint32_t k;

	for (i = 0; i < p->nstacks; i++)
		for (k = 0; k < p->stacks[i].nframes; k++)
			if (p->frames[p->stacks[i].frames[k]].python)
				return true;
	return false;
}

int profile__view(struct profile *p, enum profile_view view)
{
	struct stack *old = p->stacks;
	size_t n = p->nstacks, i;
	uint32_t *buf = NULL, cap = 0, k, m;
	bool finished = p->finished;
	int err = 0;

	p->meta.view = view;
	if (view == PROFILE_VIEW_MIXED)
		return 0;
	p->stacks = NULL;
	p->nstacks = p->stacks_cap = 0;
	memset(p->totals, 0, sizeof(p->totals));
	strmap__free(p->stack_ids);
	p->stack_ids = strmap__new();
	if (!p->stack_ids)
		err = -ENOMEM;
	for (i = 0; i < n; i++) {
		struct stack *s = &old[i];
		bool py = false;

		for (k = 0; k < s->nframes && !py; k++)
			py = p->frames[s->frames[k]].python;
		if (!err && s->nframes > cap) {
			uint32_t *nb = realloc(buf, s->nframes * sizeof(*buf));

			if (nb) {
				buf = nb;
				cap = s->nframes;
			} else {
				err = -ENOMEM;
			}
		}
		for (k = 0, m = 0; !err && k < s->nframes; k++) {
			bool is_py = p->frames[s->frames[k]].python;

			/* python: the Python frames where there are any; native: never */
			if (!py || (view == PROFILE_VIEW_PYTHON) == is_py)
				buf[m++] = s->frames[k];
		}
		if (!err)
			err = profile__addv(p, s->tgid, s->tid, s->comm, buf, m, s->v);
		free(s->v);
		free(s->text);
	}
	free(old);
	free(buf);
	if (err) {
		for (i = 0; i < p->nstacks; i++)
			free(p->stacks[i].v);
		p->nstacks = 0;
		memset(p->totals, 0, sizeof(p->totals));
		return err;
	}
	return finished ? profile__finish(p) : 0;
}

const char *profile_end_name(unsigned int end)
{
	static const char *const names[] = {
		"frame_pointers", "complete", "no_table", "table_miss", "read_fault",
		"depth_limit", "no_mapping", "bad_frame", "in_exec",
	};

	return end < sizeof(names) / sizeof(names[0]) ? names[end] : "other";
}
