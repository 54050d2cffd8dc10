// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * speedscope.c - a profile in speedscope's file format (its
 * file-format-schema.json): the frames shared, then one sampled profile
 * per process (per thread with --per-thread), each stack a sample
 * (frame indices, the root first) weighted by the profile's first value
 * in its unit.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "render.h"
#include "../util/json.h"

/* speedscope's units for ours */
static const char *unit_of(const struct profile_value *v)
{
	if (!strcmp(v->unit, "nanoseconds"))
		return "nanoseconds";
	if (!strcmp(v->unit, "bytes"))
		return "bytes";
	return "none";
}

static int cmp_group(const void *a, const void *b, void *ctx)
{
	const struct profile *p = ctx;
	const struct stack *x = &p->stacks[*(const size_t *)a], *y = &p->stacks[*(const size_t *)b];

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* does stack *i* start another profile than stack *j* */
static bool other_group(const struct profile *p, size_t i, size_t j)
{
	const struct stack *x = &p->stacks[i], *y = &p->stacks[j];

	return x->tgid != y->tgid || x->tid != y->tid || (!x->tgid && strcmp(x->comm, y->comm));
}

int render_speedscope(const struct profile *p, const struct render_opts *o, FILE *out)
{
	const struct profile_meta *m = &p->meta;
	size_t *order = malloc((p->nstacks + 1) * sizeof(*order)), i, k, first, nprof = 0;
	char name[320];

	(void)o;
	if (!order)
		return -ENOMEM;
	for (i = 0; i < p->nstacks; i++)
		order[i] = i;
	qsort_r(order, p->nstacks, sizeof(*order), cmp_group, (void *)p);

	fputs("{\"$schema\": \"https://www.speedscope.app/file-format-schema.json\",\n \"exporter\": \"ebprof\",\n \"name\": ",
	      out);
	snprintf(name, sizeof(name), "ebprof %s: %s", m->mode, m->target);
	json_str(out, name);
	fputs(",\n \"activeProfileIndex\": 0,\n \"shared\": {\"frames\": [", out);
	/* every frame, as the profile numbers them: its name, and its file and line when known */
	for (i = 0; i < p->nframes; i++) {
		const struct frame *f = &p->frames[i];
		const struct frame *fn = &p->frames[f->fn];

		fputs(i ? ",\n  {\"name\": " : "\n  {\"name\": ", out);
		json_str(out, f->func);
		fputs(", \"file\": ", out);
		json_str(out, fn->src ? fn->src : f->module);
		if (f->line > 0)
			fprintf(out, ", \"line\": %d", f->line);
		fputc('}', out);
	}
	fputs("]},\n \"profiles\": [", out);
	for (first = 0; first < p->nstacks; first = k) {
		const struct stack *s0 = &p->stacks[order[first]];
		uint64_t total = 0;

		for (k = first; k < p->nstacks && !other_group(p, order[k], order[first]); k++)
			total += p->stacks[order[k]].v[0];
		if (s0->tid)
			snprintf(name, sizeof(name), "%s pid %d tid %d", s0->comm, s0->tgid, s0->tid);
		else if (s0->tgid)
			snprintf(name, sizeof(name), "%s pid %d", s0->comm, s0->tgid);
		else
			snprintf(name, sizeof(name), "%s (exited)", s0->comm);
		fputs(nprof++ ? ",\n  {\"type\": \"sampled\", \"name\": " : "\n  {\"type\": \"sampled\", \"name\": ", out);
		json_str(out, name);
		fprintf(out, ", \"unit\": \"%s\", \"startValue\": 0, \"endValue\": %" PRIu64 ",\n   \"samples\": [",
			unit_of(&m->values[0]), total);
		for (i = first; i < k; i++) {
			const struct stack *s = &p->stacks[order[i]];
			uint32_t j;

			fputs(i > first ? ", [" : "[", out);
			for (j = 0; j < s->nframes; j++)
				fprintf(out, j ? ",%u" : "%u", s->frames[j]);
			fputc(']', out);
		}
		fputs("],\n   \"weights\": [", out);
		for (i = first; i < k; i++)
			fprintf(out, i > first ? ", %" PRIu64 : "%" PRIu64, p->stacks[order[i]].v[0]);
		fputs("]}", out);
	}
	fputs(nprof ? "\n ]\n}\n" : "]\n}\n", out);
	free(order);
	return ferror(out) ? -EIO : 0;
}
