// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lines.c - the --lines report: for the top functions (or one), samples
 * per source line next to the line itself, as line_profiler prints it.
 * A function counts once per sample, on the line of its innermost frame;
 * the percentages are of the function's own total.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "render.h"

#define MAX_SHOWN_LINES 400

void render_src_free(struct render_src *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		free(s->lines[i]);
	free(s->lines);
	s->lines = NULL;
	s->n = 0;
}

static int src_load_path(struct render_src *s, const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while ((len = getline(&line, &cap, f)) >= 0 && s->n < 1000000) {
		char **nl;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		nl = realloc(s->lines, (s->n + 1) * sizeof(*nl));
		if (!nl)
			break;
		s->lines = nl;
		s->lines[s->n] = strdup(line);
		if (!s->lines[s->n])
			break;
		s->n++;
	}
	free(line);
	fclose(f);
	return 0;
}

/* the source as the process saw it: through its root and cwd, then ours */
int render_src_load(struct render_src *s, const char *path, int tgid)
{
	char buf[4096];

	if (tgid > 0) {
		snprintf(buf, sizeof(buf), "/proc/%d/%s/%s", tgid, path[0] == '/' ? "root" : "cwd", path);
		if (!src_load_path(s, buf))
			return 0;
	}
	return src_load_path(s, path);
}

const char *render_src_line(const struct render_src *s, int line)
{
	return line >= 1 && line <= s->n ? s->lines[line - 1] : NULL;
}

static int indent_of(const char *l)
{
	int n = 0;

	for (; *l == ' ' || *l == '\t'; l++)
		n += *l == '\t' ? 8 : 1;
	return *l ? n : -1;	/* -1: a blank line */
}

/* the last line of the function that starts at *first* */
static int body_end(const struct render_src *s, int first, int last_hit, bool python)
{
	int l, def_indent;

	if (!render_src_line(s, first))
		return last_hit;
	if (python) {
		/* the body: what is indented deeper than the def (or decorator) */
		def_indent = indent_of(render_src_line(s, first));
		for (l = (first > last_hit ? first : last_hit) + 1; render_src_line(s, l); l++) {
			int in = indent_of(render_src_line(s, l));

			if (in >= 0 && in <= def_indent)
				break;
		}
		l--;
		while (l > last_hit && indent_of(render_src_line(s, l)) < 0)
			l--;
		return l;
	}
	for (l = last_hit; render_src_line(s, l) && l < last_hit + MAX_SHOWN_LINES; l++)
		if (render_src_line(s, l)[0] == '}')
			return l;
	return last_hit;
}

bool render_src_span(const struct frame *f, int first_hit, int last_hit, struct render_src *s, int *first, int *last)
{
	bool have = f->src && !render_src_load(s, f->src, f->src_tgid);

	*first = f->src_line > 0 && f->src_line <= first_hit ? f->src_line : first_hit;
	*last = have ? body_end(s, *first, last_hit, f->python) : last_hit;
	if (*last - *first > MAX_SHOWN_LINES)
		*first = first_hit;
	return have;
}

/* "name (file.py)" matches "name", its last dotted part, or the whole */
static bool matches_one(const struct frame *f, const char *want)
{
	size_t len = strlen(f->func);
	const char *paren = f->python ? strstr(f->func, " (") : NULL;
	const char *dot;

	if (paren)
		len = paren - f->func;
	if (strlen(want) == len && !strncmp(f->func, want, len))
		return true;
	if (!strcmp(f->func, want))
		return true;
	dot = memrchr(f->func, '.', len);
	return dot && strlen(want) == len - (dot + 1 - f->func) && !strncmp(dot + 1, want, strlen(want));
}

/* FUNC[,FUNC...] */
bool render_frame_matches(const struct frame *f, const char *list)
{
	char buf[512], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (matches_one(f, tok))
			return true;
	return false;
}

struct fn_stat {
	uint32_t fn;
	uint64_t inner;		/* samples where it was the innermost frame with a line */
	uint64_t total;		/* samples it was in */
	int first, last;	/* lines with hits */
};

static int cmp_fn(const void *a, const void *b)
{
	const struct fn_stat *x = a, *y = b;

	if (x->inner != y->inner)
		return x->inner > y->inner ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return x->fn < y->fn ? -1 : x->fn > y->fn;
}

static void report(const struct profile *p, const struct fn_stat *fs, FILE *out)
{
	const struct frame *f = profile__frame_at(p, fs->fn);
	double all = p->totals[0] ? (double)p->totals[0] : 1.0, tot = fs->total ? (double)fs->total : 1.0;
	struct render_src s = {};
	int first, last, l;
	bool have_src = render_src_span(f, fs->first, fs->last, &s, &first, &last);
	size_t i;

	fprintf(out, "\nFile: %s\n", f->src ? f->src : f->module);
	fprintf(out, "Function: %s at line %d\n", f->func, first);
	fprintf(out, "Total: %" PRIu64 " samples (%.1f %% of all)", fs->total, 100.0 * fs->total / all);
	if (p->meta.freq)
		fprintf(out, ", about %.2f s", (double)fs->total / p->meta.freq);
	fputc('\n', out);
	if (!have_src)
		fprintf(out, "(source not found: %s)\n", f->src ? f->src : "no file name");
	fprintf(out, "\n%6s %9s %7s  %s\n", "Line #", "Samples", "% Time", "Line Contents");
	fprintf(out, "==============================================================\n");
	for (l = first; l <= last; l++) {
		uint64_t n = 0;
		const char *text = have_src ? render_src_line(&s, l) : NULL;

		for (i = 0; i < p->nhits; i++)
			if (p->hits[i].fn == fs->fn && p->hits[i].line == l)
				n += p->hits[i].count;
		if (!n && !text)
			continue;
		if (n)
			fprintf(out, "%6d %9" PRIu64 " %7.1f  %s\n", l, n, 100.0 * n / tot, text ? text : "");
		else
			fprintf(out, "%6d %9s %7s  %s\n", l, "", "", text);
	}
	render_src_free(&s);
}

int render_lines(const struct profile *p, const char *func, int top, FILE *out)
{
	struct fn_stat *fs = NULL;
	struct func_row *rows;
	size_t nrows, nfs = 0, i, k;
	bool python = false;
	int shown = 0;

	rows = render_func_rows(p, &nrows);
	if (!rows)
		return -ENOMEM;
	fs = calloc(p->nhits + 1, sizeof(*fs));
	if (!fs) {
		free(rows);
		return -ENOMEM;
	}
	for (i = 0; i < p->nhits; i++) {
		const struct line_hit *h = &p->hits[i];

		for (k = 0; k < nfs && fs[k].fn != h->fn; k++)
			;
		if (k == nfs) {
			fs[nfs].fn = h->fn;
			fs[nfs].first = fs[nfs].last = 0;
			nfs++;
		}
		if (h->line == 0) {
			fs[k].inner += h->count;
			continue;
		}
		if (!fs[k].first || h->line < fs[k].first)
			fs[k].first = h->line;
		if (h->line > fs[k].last)
			fs[k].last = h->line;
	}
	for (k = 0; k < nfs; k++)
		for (i = 0; i < nrows; i++)
			if (rows[i].frame == fs[k].fn)
				fs[k].total += rows[i].total[0];
	qsort(fs, nfs, sizeof(*fs), cmp_fn);
	/* Python code, when there is some: the interpreter's C is not what its users look for */
	for (k = 0; k < nfs; k++)
		if (fs[k].last && fs[k].inner && profile__frame_at(p, fs[k].fn)->python)
			python = true;
	for (k = 0; k < nfs; k++) {
		const struct frame *f = profile__frame_at(p, fs[k].fn);

		if (!fs[k].last)
			continue;
		if (func ? !render_frame_matches(f, func) : (!fs[k].inner || shown >= top || (python && !f->python)))
			continue;
		report(p, &fs[k], out);
		shown++;
	}
	free(fs);
	free(rows);
	return shown ? 0 : -ENOENT;
}
