/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef __EBPROF_RENDER_H
#define __EBPROF_RENDER_H

#include <stdio.h>
#include "../profile.h"

enum render_format {
	FORMAT_TABLE,
	FORMAT_FOLDED,
	FORMAT_SVG,
	FORMAT_JSON,
	FORMAT_PPROF,
	FORMAT_SPEEDSCOPE,
};

struct render_opts {
	int rows;		/* table rows, 0: all */
	const char *title;	/* SVG title */
};

typedef int (*render_fn)(const struct profile *p, const struct render_opts *o, FILE *out);

int render_table(const struct profile *p, const struct render_opts *o, FILE *out);
int render_folded(const struct profile *p, const struct render_opts *o, FILE *out);
int render_svg(const struct profile *p, const struct render_opts *o, FILE *out);
int render_json(const struct profile *p, const struct render_opts *o, FILE *out);
/* pprof's profile.proto, gzipped (binary) */
int render_pprof(const struct profile *p, const struct render_opts *o, FILE *out);
/* speedscope's JSON: a sampled profile per process (or thread) */
int render_speedscope(const struct profile *p, const struct render_opts *o, FILE *out);

render_fn render_for(enum render_format f);
/* "table", "folded", "svg", "json", "pprof", "speedscope": 0 or -EINVAL */
int render_parse_format(const char *name, enum render_format *f);
/* the format an output file name implies (.svg, .folded, .json, .pb.gz/.pprof, .speedscope.json; else table) */
enum render_format render_format_for_path(const char *path);

/*
 * the --lines report of the *top* functions with line information, or of
 * those named *func*: 0, or -ENOENT when there was none to show
 */
int render_lines(const struct profile *p, const char *func, int top, FILE *out);
/* a source file for line reports, as process *tgid* sees it (through its root and cwd, then ours) */
struct render_src {
	char **lines;		/* lines[0] is line 1 */
	int n;
};
int render_src_load(struct render_src *s, const char *path, int tgid);
const char *render_src_line(const struct render_src *s, int line);
void render_src_free(struct render_src *s);
/*
 * The lines to show of function frame *f* with lines *first_hit*..*last_hit*
 * in a report: from its def (or first hit) to its body's end, its source
 * loaded into *s* when found (true)
 */
bool render_src_span(const struct frame *f, int first_hit, int last_hit, struct render_src *s, int *first, int *last);
/* is *f* one of FUNC[,FUNC...] ("name", its last dotted part, or the whole) */
bool render_frame_matches(const struct frame *f, const char *list);

/* -e A,B: the name of B/A per function ("IPC", "MISS%", ...) and its scale */
const char *render_ratio(const struct profile_meta *m, double *scale);

/* per-function rows, as the table and JSON show them */
struct func_row {
	uint32_t frame;
	int group;		/* tgid or tid when split, else 0 */
	const char *comm;
	uint64_t self[PROFILE_MAX_VALUES];	/* of each value, in its innermost frame */
	uint64_t total[PROFILE_MAX_VALUES];	/* ... anywhere in the stack (once per stack) */
	size_t last_stack;	/* internal */
};

/* rows sorted by self, then total, then name: an array of *n*; NULL on error */
struct func_row *render_func_rows(const struct profile *p, size_t *n);
/* "99.5 % complete (...); truncated: 0.3 % no_table, ..." into *buf* */
void render_quality(const struct profile *p, char *buf, size_t len);
/* lines describing losses and their fix, for table headers and stderr */
void render_losses(const struct profile *p, FILE *out, const char *prefix);
/* ", 3 lost" and, when stacks lost parts, ", 5 stack losses (below)": what a header says */
void render_lost_summary(const struct profile *p, FILE *out);
/* *v* of value *t* for people: "1234", "1.234 s", "12.5 ms", "1.5 MiB" */
const char *render_value(const struct profile_value *t, uint64_t v, char *buf, size_t len);
/* a table column's title for value *t*: "SAMPLES", "EVENTS", "TIME", "BYTES" */
const char *render_value_title(const struct profile_value *t);

#endif
