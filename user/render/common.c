// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "render.h"
#include "../util/strmap.h"
#include <linux/types.h>
#include "ebprof.h"

render_fn render_for(enum render_format f)
{
	switch (f) {
	case FORMAT_FOLDED:
		return render_folded;
	case FORMAT_SVG:
		return render_svg;
	case FORMAT_JSON:
		return render_json;
	default:
		return render_table;
	}
}

int render_parse_format(const char *name, enum render_format *f)
{
	static const char *const names[] = { "table", "folded", "svg", "json" };
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

	if (!dot || strchr(dot, '/'))
		return FORMAT_TABLE;
	if (!strcmp(dot, ".svg"))
		return FORMAT_SVG;
	if (!strcmp(dot, ".folded"))
		return FORMAT_FOLDED;
	if (!strcmp(dot, ".json"))
		return FORMAT_JSON;
	return FORMAT_TABLE;
}

static const struct profile *sort_profile;

static int cmp_row(const void *a, const void *b)
{
	const struct func_row *x = a, *y = b;
	const struct frame *fx = &sort_profile->frames[x->frame];
	const struct frame *fy = &sort_profile->frames[y->frame];
	int c;

	if (x->self != y->self)
		return x->self > y->self ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	if (x->self2 != y->self2)
		return x->self2 > y->self2 ? -1 : 1;
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

	if (!idx)
		return NULL;
	for (si = 0; si < p->nstacks; si++) {
		const struct stack *s = &p->stacks[si];
		int group = p->meta.per_thread ? s->tid : p->meta.per_process ? s->tgid : 0;
		uint32_t i;

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
				r->total += s->count;
				r->total2 += s->count2;
				r->last_stack = si;
			}
			if (i == s->nframes - 1) {
				r->self += s->count;
				r->self2 += s->count2;
			}
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

	if (m->lost_counts)
		fprintf(out, "%s%" PRIu64 " samples lost: the counts map is full; rerun with a larger --map-size\n",
			prefix, m->lost_counts);
	if (m->lost_ustacks)
		fprintf(out, "%s%" PRIu64 " samples without a user stack (stack map full or stack unreadable); a larger --map-size helps the first\n",
			prefix, m->lost_ustacks);
	if (m->lost_kstacks)
		fprintf(out, "%s%" PRIu64 " samples without a kernel stack: the stack map is full; rerun with a larger --map-size\n",
			prefix, m->lost_kstacks);
	if (m->kstack_collisions)
		fprintf(out, "%s%" PRIu64 " kernel stacks lost to hash collisions; rerun with a larger --map-size\n",
			prefix, m->kstack_collisions);
	if (m->ustack_truncated)
		fprintf(out, "%s%" PRIu64 " user stacks truncated at 127 frames\n", prefix, m->ustack_truncated);
	if (m->py_lost)
		fprintf(out, "%s%" PRIu64 " Python stacks lost: the Python stack map is full; rerun with a larger --map-size\n",
			prefix, m->py_lost);
	if (m->py_truncated)
		fprintf(out, "%s%" PRIu64 " Python stacks truncated at %d frames\n", prefix, m->py_truncated,
			EBPROF_PY_MAX_FRAMES);
	if (m->py_errors)
		fprintf(out, "%s%" PRIu64 " Python stacks stopped early at a frame that could not be read\n",
			prefix, m->py_errors);
	if (m->prog_misses)
		fprintf(out, "%s%" PRIu64 " samples skipped by the kernel: another BPF program was running on the CPU\n",
			prefix, m->prog_misses);
	if (m->lost_events)
		fprintf(out, "%s%" PRIu64 " process events lost (ring buffer full): some mappings may be stale\n",
			prefix, m->lost_events);
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
}
