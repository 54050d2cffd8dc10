// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "render.h"
#include "../util/strmap.h"

render_fn render_for(enum render_format f)
{
	switch (f) {
	case FORMAT_FOLDED:
		return render_folded;
	case FORMAT_SVG:
		return render_svg;
	case FORMAT_JSON:
		return render_json;
	case FORMAT_PPROF:
		return render_pprof;
	case FORMAT_SPEEDSCOPE:
		return render_speedscope;
	default:
		return render_table;
	}
}

int render_parse_format(const char *name, enum render_format *f)
{
	static const char *const names[] = { "table", "folded", "svg", "json", "pprof", "speedscope" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i])) {
			*f = (enum render_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

enum render_format render_format_for_path(const char *path)
{
	const char *dot = strrchr(path, '.');
	size_t len = strlen(path);

	if (len > 6 && !strcmp(path + len - 6, ".pb.gz"))
		return FORMAT_PPROF;
	if (len > 16 && !strcmp(path + len - 16, ".speedscope.json"))
		return FORMAT_SPEEDSCOPE;
	if (!dot || strchr(dot, '/'))
		return FORMAT_TABLE;
	if (!strcmp(dot, ".svg"))
		return FORMAT_SVG;
	if (!strcmp(dot, ".folded"))
		return FORMAT_FOLDED;
	if (!strcmp(dot, ".json"))
		return FORMAT_JSON;
	if (!strcmp(dot, ".pprof"))
		return FORMAT_PPROF;
	return FORMAT_TABLE;
}

static const struct profile *sort_profile;

static int cmp_row(const void *a, const void *b)
{
	const struct func_row *x = a, *y = b;
	const struct frame *fx = &sort_profile->frames[x->frame];
	const struct frame *fy = &sort_profile->frames[y->frame];
	int c;

	unsigned int i;

	if (x->self[0] != y->self[0])
		return x->self[0] > y->self[0] ? -1 : 1;
	if (x->total[0] != y->total[0])
		return x->total[0] > y->total[0] ? -1 : 1;
	for (i = 1; i < sort_profile->meta.nvalues; i++)
		if (x->self[i] != y->self[i])
			return x->self[i] > y->self[i] ? -1 : 1;
	c = strcmp(fx->func, fy->func);
	if (c)
		return c;
	c = strcmp(fx->module, fy->module);
	if (c)
		return c;
	if (x->group != y->group)
		return x->group - y->group;
	return strcmp(x->comm, y->comm);
}

struct func_row *render_func_rows(const struct profile *p, size_t *n)
{
	struct strmap *idx = strmap__new();
	struct func_row *rows = NULL;
	size_t nrows = 0, cap = 0, si;
	unsigned int nv = p->meta.nvalues, k;

	if (!idx)
		return NULL;
	for (si = 0; si < p->nstacks; si++) {
		const struct stack *s = &p->stacks[si];
		int group = p->meta.per_thread ? s->tid : p->meta.per_process ? s->tgid : 0;
		uint32_t i, self = s->nframes - 1;

		/* waits: the kernel's part is charged to the user call that waited */
		if (p->meta.self_in_user)
			for (i = s->nframes; i-- > 0;)
				if (!p->frames[s->frames[i]].kernel) {
					self = i;
					break;
				}

		for (i = 0; i < s->nframes; i++) {
			uint32_t fn = p->frames[s->frames[i]].fn;
			/* group 0: exited processes, folded by command (profile__fold) */
			uint64_t key[3] = { fn, (uint64_t)(int64_t)group, group ? 0 : (uintptr_t)s->comm };
			void *v = strmap__get(idx, key, sizeof(key));
			struct func_row *r;

			if (!v) {
				if (nrows == cap) {
					struct func_row *nr;

					cap = cap ? cap * 2 : 256;
					nr = realloc(rows, cap * sizeof(*rows));
					if (!nr)
						goto err;
					rows = nr;
				}
				r = &rows[nrows];
				memset(r, 0, sizeof(*r));
				r->frame = fn;
				r->group = group;
				r->comm = s->comm;
				r->last_stack = SIZE_MAX;
				if (strmap__set(idx, key, sizeof(key), (void *)(uintptr_t)++nrows))
					goto err;
			} else {
				r = &rows[(uintptr_t)v - 1];
			}
			/* recursion: a function counts once per stack in total */
			if (r->last_stack != si) {
				for (k = 0; k < nv; k++)
					r->total[k] += s->v[k];
				r->last_stack = si;
			}
			if (i == self)
				for (k = 0; k < nv; k++)
					r->self[k] += s->v[k];
		}
	}
	strmap__free(idx);
	sort_profile = p;
	if (nrows)
		qsort(rows, nrows, sizeof(*rows), cmp_row);
	*n = nrows;
	if (!rows)
		rows = calloc(1, sizeof(*rows));
	return rows;
err:
	strmap__free(idx);
	free(rows);
	return NULL;
}

void render_losses(const struct profile *p, FILE *out, const char *prefix)
{
	const struct profile_meta *m = &p->meta;
	unsigned int i;

	for (i = 0; i < m->nlosses; i++) {
		const struct profile_loss *l = &m->losses[i];

		if (!l->n)
			continue;
		fprintf(out, "%s%" PRIu64 " %s", prefix, l->n, l->what);
		if (l->fix)
			fprintf(out, "; %s", l->fix);
		fputc('\n', out);
	}
}

void render_lost_summary(const struct profile *p, FILE *out)
{
	uint64_t parts = profile__lost_kind(p, LOSS_STACKS);

	fprintf(out, ", %" PRIu64 " lost", profile__lost_kind(p, LOSS_SAMPLES));
	if (parts)
		fprintf(out, ", %" PRIu64 " stack loss%s (below)", parts, parts == 1 ? "" : "es");
}

static void human_bytes(uint64_t b, char *buf, size_t len)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%" PRIu64 " B", b);
	else
		snprintf(buf, len, "%.1f %s", v, u[i]);
}

const char *render_value(const struct profile_value *t, uint64_t v, char *buf, size_t len)
{
	if (!strcmp(t->unit, "nanoseconds")) {
		if (v >= 1000000000ULL)
			snprintf(buf, len, "%.3f s", v / 1e9);
		else if (v >= 1000000)
			snprintf(buf, len, "%.2f ms", v / 1e6);
		else
			snprintf(buf, len, "%.2f us", v / 1e3);
	} else if (!strcmp(t->unit, "bytes")) {
		human_bytes(v, buf, len);
	} else {
		snprintf(buf, len, "%" PRIu64, v);
	}
	return buf;
}

const char *render_value_title(const struct profile_value *t)
{
	if (!strcmp(t->unit, "nanoseconds"))
		return "TIME";
	if (!strcmp(t->unit, "bytes"))
		return "BYTES";
	return strcmp(t->type, "samples") ? "EVENTS" : "SAMPLES";
}

void render_quality(const struct profile *p, char *buf, size_t len)
{
	const struct profile_meta *m = &p->meta;
	double tot = m->user_stacks ? (double)m->user_stacks : 1.0;
	const char *sep = ";";
	size_t used, i;

	used = snprintf(buf, len, "%.1f %% complete (reached _start, main or the thread start), by %s",
			100.0 * m->complete / tot,
			m->unwinder && !strcmp(m->unwinder, "dwarf") ? ".eh_frame tables" : "frame pointers");
	for (i = 0; i < sizeof(m->ends) / sizeof(m->ends[0]) && used < len; i++) {
		if (!m->ends[i])
			continue;
		used += snprintf(buf + used, len - used, "%s %.1f %% %s", sep, 100.0 * m->ends[i] / tot,
				 profile_end_name(i));
		sep = ",";
	}
	if (m->in_exec && used < len)
		snprintf(buf + used, len - used, "; %.1f %% in execve, the old program's stack gone",
			 100.0 * m->in_exec / tot);
}
