// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "render.h"

static void header(const struct profile *p, FILE *out)
{
	const struct profile_meta *m = &p->meta;
	const struct profile_value *v0 = &m->values[0];
	const char *how;
	char buf[64];

	fprintf(out, "# ebprof %s: %s\n", m->mode, m->target);
	fprintf(out, "# event %s", m->event);
	if (m->freq)
		fprintf(out, " at %u Hz", m->freq);
	if (m->event2)
		fprintf(out, " and %s", m->event2);
	/* counted: the totals are exact, and the samples share them out */
	how = m->counted ? "; counted exactly:" : " standing for";
	if (m->weighted && m->event2)
		fprintf(out, ", %.2f s, %" PRIu64 " samples%s %" PRIu64 " %s and %" PRIu64 " %s", m->duration,
			m->samples, how, p->totals[0], m->event, p->totals[1], m->event2);
	else if (m->weighted)
		fprintf(out, ", %.2f s, %" PRIu64 " samples%s %" PRIu64 " %s", m->duration, m->samples, how,
			p->totals[0], m->event);
	else if (!strcmp(v0->type, "samples"))
		fprintf(out, ", %.2f s, %" PRIu64 " samples", m->duration, p->totals[0]);
	else	/* a value with a unit: "12.345 s off-cpu" */
		fprintf(out, ", %.2f s, %s %s", m->duration, render_value(v0, p->totals[0], buf, sizeof(buf)),
			v0->type);
	render_lost_summary(p, out);
	fputc('\n', out);
	if (m->user_stacks) {
		char q[512];

		render_quality(p, q, sizeof(q));
		fprintf(out, "# user stacks: %s\n", q);
	}
	if (m->py_procs)
		fprintf(out, "# python: %" PRIu64 " process%s, %.1f %% of samples with Python frames\n",
			m->py_procs, m->py_procs == 1 ? "" : "es",
			100.0 * m->py_samples / (m->samples ? m->samples : 1));
	if (m->view == PROFILE_VIEW_PYTHON)
		fprintf(out, "# view: python: rows by Python function, each with the C code it called%s\n",
			m->view_default ? " (--view mixed shows the interpreter's frames)" : "");
	else if (m->view == PROFILE_VIEW_NATIVE)
		fputs("# view: native: the interpreter's C frames, no Python ones\n", out);
	render_losses(p, out, "# warning: ");
}

/* the ratio of the second event to the first, per function: its name and scale */
const char *render_ratio(const struct profile_meta *m, double *scale)
{
	static const char *const pairs[][2] = {
		{ "cache-references", "cache-misses" }, { "branches", "branch-misses" },
		{ "L1-dcache-loads", "L1-dcache-load-misses" }, { "LLC-loads", "LLC-load-misses" },
	};
	size_t i;

	*scale = 1;
	if (!strcmp(m->event, "cycles") && !strcmp(m->event2, "instructions"))
		return "IPC";
	if (!strcmp(m->event, "instructions") && !strcmp(m->event2, "cycles"))
		return "CPI";
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		if (!strcmp(m->event, pairs[i][0]) && !strcmp(m->event2, pairs[i][1])) {
			*scale = 100;
			return "MISS%";
		}
	}
	return "RATIO";
}

/* -e A,B: both events' counts per function and their ratio */
static int table_two(const struct profile *p, const struct render_opts *o, FILE *out,
		     const struct func_row *rows, size_t n)
{
	double total = p->totals[0] ? (double)p->totals[0] : 1.0, scale;
	const char *ratio = render_ratio(&p->meta, &scale);
	char a[32], b[32];
	size_t i, k, shown;

	snprintf(a, sizeof(a), "%.14s", p->meta.event);
	snprintf(b, sizeof(b), "%.14s", p->meta.event2);
	for (k = 0; a[k]; k++)
		a[k] = a[k] >= 'a' && a[k] <= 'z' ? a[k] - 32 : a[k];
	for (k = 0; b[k]; k++)
		b[k] = b[k] >= 'a' && b[k] <= 'z' ? b[k] - 32 : b[k];
	fprintf(out, "%7s %7s %15s %15s %7s  %-40s %s\n", "SELF%", "TOTAL%", a, b, ratio, "FUNCTION", "MODULE");
	shown = o->rows > 0 && (size_t)o->rows < n ? (size_t)o->rows : n;
	for (i = 0; i < shown; i++) {
		const struct frame *f = profile__frame_at(p, rows[i].frame);
		char r[16] = "-";

		if (rows[i].self[0])
			snprintf(r, sizeof(r), "%.2f", scale * rows[i].self[1] / rows[i].self[0]);
		fprintf(out, "%7.2f %7.2f %15" PRIu64 " %15" PRIu64 " %7s  %-40s %s\n",
			100.0 * rows[i].self[0] / total, 100.0 * rows[i].total[0] / total, rows[i].self[0],
			rows[i].self[1], r, f->func, f->module);
	}
	if (shown < n)
		fprintf(out, "# %zu more rows (-n 0 shows all)\n", n - shown);
	return ferror(out) ? -EIO : 0;
}

int render_table(const struct profile *p, const struct render_opts *o, FILE *out)
{
	bool grouped = p->meta.per_thread || p->meta.per_process;
	struct func_row *rows;
	size_t n, i, shown;
	double total = p->totals[0] ? (double)p->totals[0] : 1.0;
	const struct profile_value *v0 = &p->meta.values[0];

	rows = render_func_rows(p, &n);
	if (!rows)
		return -ENOMEM;
	header(p, out);
	if (p->meta.event2) {
		int err = table_two(p, o, out, rows, n);

		free(rows);
		return err;
	}
	fprintf(out, "%7s %7s %9s  ", "SELF%", "TOTAL%", render_value_title(v0));
	if (grouped)
		fprintf(out, "%-24s ", p->meta.per_thread ? "THREAD" : "PROCESS");
	fprintf(out, "%-40s %s\n", "FUNCTION", "MODULE");
	shown = o->rows > 0 && (size_t)o->rows < n ? (size_t)o->rows : n;
	for (i = 0; i < shown; i++) {
		const struct frame *f = profile__frame_at(p, rows[i].frame);
		char v[32];

		fprintf(out, "%7.2f %7.2f %9s  ", 100.0 * rows[i].self[0] / total, 100.0 * rows[i].total[0] / total,
			render_value(v0, rows[i].self[0], v, sizeof(v)));
		if (grouped) {
			char g[64];

			if (rows[i].group)
				snprintf(g, sizeof(g), "%s[%d]", rows[i].comm, rows[i].group);
			else	/* exited processes, folded by command */
				snprintf(g, sizeof(g), "%s", rows[i].comm);
			fprintf(out, "%-24s ", g);
		}
		fprintf(out, "%-40s %s\n", f->func, f->module);
	}
	if (shown < n)
		fprintf(out, "# %zu more rows (-n 0 shows all)\n", n - shown);
	free(rows);
	return ferror(out) ? -EIO : 0;
}
