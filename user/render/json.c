// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "render.h"
#include "../util/json.h"

static void json_frame(FILE *out, const struct frame *f)
{
	fputs("{\"function\": ", out);
	json_str(out, f->func);
	fputs(", \"module\": ", out);
	json_str(out, f->module);
	fprintf(out, ", \"kernel\": %s", f->kernel ? "true" : "false");
	if (f->python) {
		fputs(", \"python\": true", out);
		if (f->line)
			fprintf(out, ", \"line\": %d", f->line);
	}
	fputc('}', out);
}

/* , "name": [1, 2] */
static void json_values(FILE *out, const char *name, const uint64_t *v, unsigned int n)
{
	unsigned int i;

	fprintf(out, ", \"%s\": [", name);
	for (i = 0; i < n; i++)
		fprintf(out, "%s%" PRIu64, i ? ", " : "", v[i]);
	fputc(']', out);
}

int render_json(const struct profile *p, const struct render_opts *o, FILE *out)
{
	const struct profile_meta *m = &p->meta;
	struct func_row *rows;
	size_t n, i, k;
	unsigned int v;
	uint32_t j;

	(void)o;
	rows = render_func_rows(p, &n);
	if (!rows)
		return -ENOMEM;
	fputs("{\n  \"version\": 1,\n  \"mode\": ", out);
	json_str(out, m->mode);
	fputs(",\n  \"target\": ", out);
	json_str(out, m->target);
	fputs(",\n  \"event\": ", out);
	json_str(out, m->event);
	fputs(",\n  \"view\": ", out);
	json_str(out, profile_view_name(m->view));
	if (m->event2) {
		fputs(",\n  \"event2\": ", out);
		json_str(out, m->event2);
	}
	/* what each stack's "values" are (pprof's sample_type) */
	fputs(",\n  \"values\": [", out);
	for (v = 0; v < m->nvalues; v++) {
		fputs(v ? ", {\"type\": " : "{\"type\": ", out);
		json_str(out, m->values[v].type);
		fputs(", \"unit\": ", out);
		json_str(out, m->values[v].unit);
		fputc('}', out);
	}
	fputs("],\n  \"totals\": [", out);
	for (v = 0; v < m->nvalues; v++)
		fprintf(out, "%s%" PRIu64, v ? ", " : "", p->totals[v]);
	fprintf(out, "],\n  \"frequency\": %u,\n  \"duration_s\": %.3f,\n  \"samples\": %" PRIu64 ",\n",
		m->freq, m->duration, strcmp(m->values[0].type, "samples") ? m->samples : p->totals[0]);
	fprintf(out, "  \"weighted\": %s,\n  \"events\": %" PRIu64 ",\n", m->weighted ? "true" : "false",
		p->totals[0]);
	if (m->event2)
		fprintf(out, "  \"events2\": %" PRIu64 ",\n", p->totals[1]);
	if (m->counted) {
		fprintf(out, "  \"counted\": %" PRIu64 ",\n", m->counted_events[0]);
		if (m->event2)
			fprintf(out, "  \"counted2\": %" PRIu64 ",\n", m->counted_events[1]);
	}
	/* every kind of loss the mode can have, 0 or not */
	fputs("  \"lost\": {", out);
	for (v = 0; v < m->nlosses; v++) {
		fputs(v ? ", " : "", out);
		json_str(out, m->losses[v].key);
		fprintf(out, ": %" PRIu64, m->losses[v].n);
	}
	fputs("},\n", out);
	fprintf(out, "  \"sampler\": {\"runs\": %" PRIu64 ", \"idle\": %" PRIu64 ", \"before_exec\": %" PRIu64
		", \"kernel_runs\": %" PRIu64 ", \"kernel_skipped\": %" PRIu64 "},\n", m->fired, m->idle, m->before_exec,
		m->prog_runs, m->prog_misses);
	fprintf(out, "  \"stack_quality\": {\"unwinder\": \"%s\", \"user_stacks\": %" PRIu64
		", \"complete\": %" PRIu64 ", \"in_exec\": %" PRIu64 ", \"incomplete\": {",
		m->unwinder ? m->unwinder : "fp", m->user_stacks, m->complete, m->in_exec);
	for (i = 0, k = 0; i < sizeof(m->ends) / sizeof(m->ends[0]); i++) {
		if (!m->ends[i])
			continue;
		fprintf(out, "%s\"%s\": %" PRIu64, k++ ? ", " : "", profile_end_name(i), m->ends[i]);
	}
	fprintf(out, "}, \"table_rows\": %" PRIu64 ", \"table_files\": %" PRIu64
		", \"table_bytes\": %" PRIu64 ", \"table_build_ms\": %.1f},\n", m->table_rows,
		m->table_files, m->table_rows * 8, 1000 * m->table_build_s);
	fprintf(out, "  \"python\": {\"processes\": %" PRIu64 ", \"samples\": %" PRIu64
		", \"no_thread_state\": %" PRIu64 ", \"lost\": %" PRIu64 ", \"truncated\": %" PRIu64
		", \"read_errors\": %" PRIu64 "},\n", m->py_procs, m->py_samples, m->py_no_tstate,
		profile__lost(p, "python_stacks"), profile__lost(p, "python_truncated"),
		profile__lost(p, "python_read_errors"));
	fputs("  \"functions\": [", out);
	for (i = 0; i < n; i++) {
		const struct frame *f = profile__frame_at(p, rows[i].frame);

		fputs(i ? ",\n    " : "\n    ", out);
		fputs("{\"function\": ", out);
		json_str(out, f->func);
		fputs(", \"module\": ", out);
		json_str(out, f->module);
		fprintf(out, ", \"kernel\": %s, \"self\": %" PRIu64 ", \"total\": %" PRIu64,
			f->kernel ? "true" : "false", rows[i].self[0], rows[i].total[0]);
		if (m->event2)
			fprintf(out, ", \"self2\": %" PRIu64 ", \"total2\": %" PRIu64, rows[i].self[1],
				rows[i].total[1]);
		json_values(out, "self_values", rows[i].self, m->nvalues);
		json_values(out, "total_values", rows[i].total, m->nvalues);
		if (m->per_thread)
			fprintf(out, ", \"tid\": %d", rows[i].group);
		else if (m->per_process && rows[i].group)	/* 0: by command */
			fprintf(out, ", \"pid\": %d", rows[i].group);
		if (m->per_thread || m->per_process) {
			fputs(", \"command\": ", out);
			json_str(out, rows[i].comm);
		}
		fputc('}', out);
	}
	fputs(n ? "\n  ],\n" : "],\n", out);
	fputs("  \"stacks\": [", out);
	for (i = 0; i < p->nstacks; i++) {
		const struct stack *s = &p->stacks[i];

		fputs(i ? ",\n    " : "\n    ", out);
		fprintf(out, "{\"pid\": %d, \"tid\": %d, \"comm\": ", s->tgid, s->tid);
		json_str(out, s->comm);
		fprintf(out, ", \"count\": %" PRIu64, s->v[0]);
		if (m->event2)
			fprintf(out, ", \"count2\": %" PRIu64, s->v[1]);
		json_values(out, "values", s->v, m->nvalues);
		fputs(", \"frames\": [", out);
		for (j = 0; j < s->nframes; j++) {
			if (j)
				fputs(", ", out);
			json_frame(out, profile__frame_at(p, s->frames[j]));
		}
		fputs("]}", out);
	}
	fputs(p->nstacks ? "\n  ]\n}\n" : "]\n}\n", out);
	free(rows);
	return ferror(out) ? -EIO : 0;
}
