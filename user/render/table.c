// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "render.h"

static void header(const struct profile *p, FILE *out)
{
	const struct profile_meta *m = &p->meta;
	uint64_t lost = m->lost_counts;

	fprintf(out, "# ebprof cpu: %s\n", m->target);
	fprintf(out, "# event %s", m->event);
	if (m->freq)
		fprintf(out, " at %u Hz", m->freq);
	fprintf(out, ", %.2f s, %" PRIu64 " samples, %" PRIu64 " lost\n", m->duration,
		p->total, lost);
	if (m->user_stacks) {
		char q[512];

		render_quality(p, q, sizeof(q));
		fprintf(out, "# user stacks: %s\n", q);
	}
	if (m->py_procs)
		fprintf(out, "# python: %" PRIu64 " process%s, %.1f %% of samples with Python frames\n",
			m->py_procs, m->py_procs == 1 ? "" : "es", 100.0 * m->py_samples / (p->total ? p->total : 1));
	render_losses(p, out, "# warning: ");
}

int render_table(const struct profile *p, const struct render_opts *o, FILE *out)
{
	bool grouped = p->meta.per_thread || p->meta.per_process;
	struct func_row *rows;
	size_t n, i, shown;
	double total = p->total ? (double)p->total : 1.0;

	rows = render_func_rows(p, &n);
	if (!rows)
		return -ENOMEM;
	header(p, out);
	fprintf(out, "%7s %7s %9s  ", "SELF%", "TOTAL%", "SAMPLES");
	if (grouped)
		fprintf(out, "%-24s ", p->meta.per_thread ? "THREAD" : "PROCESS");
	fprintf(out, "%-40s %s\n", "FUNCTION", "MODULE");
	shown = o->rows > 0 && (size_t)o->rows < n ? (size_t)o->rows : n;
	for (i = 0; i < shown; i++) {
		const struct frame *f = profile__frame_at(p, rows[i].frame);

		fprintf(out, "%7.2f %7.2f %9" PRIu64 "  ", 100.0 * rows[i].self / total,
			100.0 * rows[i].total / total, rows[i].self);
		if (grouped) {
			char g[64];

			snprintf(g, sizeof(g), "%s[%d]", rows[i].comm, rows[i].group);
			fprintf(out, "%-24s ", g);
		}
		fprintf(out, "%-40s %s\n", f->func, f->module);
	}
	if (shown < n)
		fprintf(out, "# %zu more rows (-n 0 shows all)\n", n - shown);
	free(rows);
	return ferror(out) ? -EIO : 0;
}
