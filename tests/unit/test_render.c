// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The profile model and every renderer, on a profile built by hand. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "t.h"
#include "profile.h"
#include "render/render.h"
#include <linux/types.h>
#include "ebprof.h"

/*
 * main -> a -> leaf   x6
 * main -> b           x3
 * main -> rec -> rec -> rec  x2   (recursion: rec's total counts once)
 * main -> a -> sys_write [k]  x1
 */
static struct profile *sample_profile(void)
{
	struct profile *p = profile__new();
	int m = profile__frame(p, "main", "app", false);
	int a = profile__frame(p, "a", "app", false);
	int b = profile__frame(p, "b", "app", false);
	int leaf = profile__frame(p, "leaf", "libc.so.6", false);
	int rec = profile__frame(p, "rec", "app", false);
	int k = profile__frame(p, "sys_write", "[kernel]", true);
	uint32_t s1[] = { m, a, leaf }, s2[] = { m, b }, s3[] = { m, rec, rec, rec }, s4[] = { m, a, k };

	snprintf(p->meta.target, sizeof(p->meta.target), "pid 42 (app)");
	p->meta.freq = 99;
	p->meta.duration = 1.5;
	profile__add(p, 42, 0, "app", s1, 3, 4);
	profile__add(p, 42, 0, "app", s2, 2, 3);
	profile__add(p, 42, 0, "app", s1, 3, 2);	/* merges with the first */
	profile__add(p, 42, 0, "app", s3, 4, 2);
	profile__add(p, 42, 0, "app", s4, 3, 1);
	profile__finish(p);
	return p;
}

static char *render(int (*fn)(const struct profile *, const struct render_opts *, FILE *),
		    const struct profile *p, int rows)
{
	struct render_opts o = { .rows = rows };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (fn(p, &o, f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

static int frames_intern(void)
{
	struct profile *p = profile__new();

	T_ASSERT(profile__frame(p, "f", "m", false) == profile__frame(p, "f", "m", false));
	T_ASSERT(profile__frame(p, "f", "m", false) != profile__frame(p, "f", "m", true));
	T_ASSERT(profile__frame(p, "f", "m", false) != profile__frame(p, "f", "n", false));
	profile__free(p);
	return T_OK;
}

static int folded_exact(void)
{
	struct profile *p = sample_profile();
	char *out = render(render_folded, p, 0);

	T_ASSERT(p->totals[0] == 12 && p->nstacks == 4);
	T_ASSERT_STR(out,
		     "app;main;a;leaf 6\n"
		     "app;main;b 3\n"
		     "app;main;rec;rec;rec 2\n"
		     "app;main;a;sys_write_[k] 1\n");
	free(out);
	profile__free(p);
	return T_OK;
}

static int func_rows(void)
{
	struct profile *p = sample_profile();
	struct func_row *rows;
	size_t n, i;
	int seen = 0;

	rows = render_func_rows(p, &n);
	T_ASSERT(rows && n == 6);
	/* sorted by self: leaf 6, b 3, rec 2, sys_write 1, then a and main by total */
	T_ASSERT_STR(p->frames[rows[0].frame].func, "leaf");
	T_ASSERT(rows[0].self[0] == 6 && rows[0].total[0] == 6);
	T_ASSERT_STR(p->frames[rows[1].frame].func, "b");
	for (i = 0; i < n; i++) {
		const char *f = p->frames[rows[i].frame].func;

		if (!strcmp(f, "rec")) {
			T_ASSERT(rows[i].self[0] == 2 && rows[i].total[0] == 2);
			seen++;
		} else if (!strcmp(f, "main")) {
			T_ASSERT(rows[i].self[0] == 0 && rows[i].total[0] == 12);
			seen++;
		} else if (!strcmp(f, "a")) {
			T_ASSERT(rows[i].self[0] == 0 && rows[i].total[0] == 7);
			seen++;
		}
	}
	T_ASSERT(seen == 3);
	free(rows);
	profile__free(p);
	return T_OK;
}

static int table_text(void)
{
	struct profile *p = sample_profile();
	char *out = render(render_table, p, 2);

	T_ASSERT(out);
	T_ASSERT(strstr(out, "# ebprof cpu: pid 42 (app)\n"));
	T_ASSERT(strstr(out, "# event cpu-clock at 99 Hz, 1.50 s, 12 samples, 0 lost\n"));
	T_ASSERT(strstr(out, "  50.00   50.00         6  leaf"));
	T_ASSERT(strstr(out, "  25.00   25.00         3  b"));
	T_ASSERT(!strstr(out, "  rec "));
	T_ASSERT(strstr(out, "# 4 more rows"));
	free(out);
	profile__free(p);
	return T_OK;
}

static int table_losses_and_groups(void)
{
	struct profile *p = sample_profile();
	char *out;

	T_ASSERT(!profile__loss(p, "counts", LOSS_SAMPLES, 2, "samples lost: the counts map is full",
				"rerun with a larger --map-size"));
	T_ASSERT(!profile__loss(p, "events", LOSS_OTHER, 0, "process events lost", NULL));
	/* again: the count is replaced, the place and texts kept */
	T_ASSERT(!profile__loss(p, "counts", LOSS_SAMPLES, 5, NULL, NULL));
	p->meta.per_process = true;
	out = render(render_table, p, 0);
	T_ASSERT(strstr(out, "12 samples, 5 lost\n"));
	T_ASSERT(strstr(out, "# warning: 5 samples lost: the counts map is full; rerun with a larger --map-size\n"));
	T_ASSERT(!strstr(out, "process events"));	/* 0: not a warning */
	T_ASSERT(strstr(out, "PROCESS"));
	T_ASSERT(strstr(out, "app[42]"));
	free(out);
	profile__free(p);
	return T_OK;
}

static int json_text(void)
{
	struct profile *p = sample_profile();
	char *out = render(render_json, p, 0);

	T_ASSERT(out);
	T_ASSERT(strstr(out, "\"samples\": 12,"));
	T_ASSERT(strstr(out, "\"values\": [{\"type\": \"samples\", \"unit\": \"count\"}],\n  \"totals\": [12],"));
	T_ASSERT(strstr(out, "{\"function\": \"leaf\", \"module\": \"libc.so.6\", \"kernel\": false, \"self\": 6, \"total\": 6, "
			     "\"self_values\": [6], \"total_values\": [6]}"));
	T_ASSERT(strstr(out, "{\"pid\": 42, \"tid\": 0, \"comm\": \"app\", \"count\": 6, \"values\": [6], \"frames\": [{\"function\": \"main\""));
	T_ASSERT(strstr(out, "\"lost\": {},"));
	T_ASSERT(strstr(out, "{\"function\": \"sys_write\", \"module\": \"[kernel]\", \"kernel\": true}"));
	free(out);
	profile__free(p);
	return T_OK;
}

static int json_escapes(void)
{
	struct profile *p = profile__new();
	uint32_t f = profile__frame(p, "op\"er\\ator<>\n", "m", false);
	char *out;

	profile__add(p, 1, 0, "c", &f, 1, 1);
	profile__finish(p);
	out = render(render_json, p, 0);
	T_ASSERT(strstr(out, "\"op\\\"er\\\\ator<>\\n\""));
	free(out);
	profile__free(p);
	return T_OK;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay++;
	}
	return n;
}

static int svg_structure(void)
{
	struct profile *p = sample_profile();
	char *out = render(render_svg, p, 0);

	T_ASSERT(out);
	T_ASSERT(!strncmp(out, "<?xml", 5));
	T_ASSERT(strstr(out, "</svg>\n"));
	/* all, app, main, a, leaf, sys_write, b, rec x3 */
	T_ASSERT(count(out, "<g class=\"f\"") == 10);
	T_ASSERT(strstr(out, "<title>all (12 samples, 100.00%)</title>"));
	T_ASSERT(strstr(out, "<title>a (7 samples, 58.33%)</title>"));
	T_ASSERT(strstr(out, "<title>sys_write [kernel] (1 samples, 8.33%)</title>"));
	T_ASSERT(strstr(out, "function zoom("));
	T_ASSERT(strstr(out, "function search("));
	/* self-contained: nothing loaded from elsewhere */
	T_ASSERT(!strstr(out, "href="));
	free(out);
	profile__free(p);
	return T_OK;
}

static int svg_escapes(void)
{
	struct profile *p = profile__new();
	uint32_t f = profile__frame(p, "std::map<int, int>::at&", "m", false);
	char *out;

	profile__add(p, 1, 0, "c", &f, 1, 1);
	profile__finish(p);
	out = render(render_svg, p, 0);
	T_ASSERT(strstr(out, "std::map&lt;int, int&gt;::at&amp;"));
	T_ASSERT(!strstr(out, "map<int"));
	free(out);
	profile__free(p);
	return T_OK;
}

static int deterministic_order(void)
{
	struct profile *p = profile__new();
	uint32_t x = profile__frame(p, "x", "m", false), y = profile__frame(p, "y", "m", false);
	char *out;

	/* equal counts: ordered by text, whatever the insertion order */
	profile__add(p, 1, 0, "c", &y, 1, 5);
	profile__add(p, 1, 0, "c", &x, 1, 5);
	profile__finish(p);
	out = render(render_folded, p, 0);
	T_ASSERT_STR(out, "c;x 5\nc;y 5\n");
	free(out);
	profile__free(p);
	return T_OK;
}

/* counted totals shared out by the sampled weights: the parts add up exactly */
static int scale_to_counted(void)
{
	struct profile *p = profile__new();
	uint32_t x = profile__frame(p, "x", "m", false), y = profile__frame(p, "y", "m", false),
		 z = profile__frame(p, "z", "m", false);
	uint64_t sum = 0, sum2 = 0;
	size_t i;

	T_ASSERT(!profile__set_values(p, 2, (struct profile_value[]){ { "a", "count" }, { "b", "count" } }));
	T_ASSERT(!profile__addv(p, 1, 0, "c", &x, 1, (uint64_t[]){ 1, 0 }));
	T_ASSERT(!profile__addv(p, 1, 0, "c", &y, 1, (uint64_t[]){ 2, 7 }));
	T_ASSERT(!profile__addv(p, 1, 0, "c", &z, 1, (uint64_t[]){ 3, 0 }));
	profile__scale(p, (uint64_t[]){ 10, 1000000000000ULL });
	for (i = 0; i < p->nstacks; i++) {
		sum += p->stacks[i].v[0];
		sum2 += p->stacks[i].v[1];
	}
	T_ASSERT(sum == 10 && p->totals[0] == 10 && sum2 == 1000000000000ULL && p->totals[1] == sum2);
	/* shares kept to within the rounding: 1/6, 2/6, 3/6 of 10 */
	T_ASSERT(p->stacks[0].v[0] == 1 && p->stacks[1].v[0] == 4 && p->stacks[2].v[0] == 5);
	T_ASSERT(p->stacks[1].v[1] == 1000000000000ULL);
	/* large counts do not overflow: 2^40 weights shared out to 2^40 events */
	profile__scale(p, (uint64_t[]){ 1ULL << 40, 1ULL << 40 });
	T_ASSERT(p->totals[0] == 1ULL << 40 && p->stacks[2].v[0] == 1ULL << 39);
	profile__free(p);
	/* nothing sampled: nothing to share out, and no division by zero */
	p = profile__new();
	profile__scale(p, (uint64_t[]){ 5, 5 });
	T_ASSERT(p->totals[0] == 0 && p->totals[1] == 0);
	profile__free(p);
	return T_OK;
}

static int formats(void)
{
	enum render_format f;

	T_ASSERT(render_format_for_path("out.svg") == FORMAT_SVG);
	T_ASSERT(render_format_for_path("/a.b/out.folded") == FORMAT_FOLDED);
	T_ASSERT(render_format_for_path("x.json") == FORMAT_JSON);
	T_ASSERT(render_format_for_path("x.txt") == FORMAT_TABLE);
	T_ASSERT(render_format_for_path("dir.svg/x") == FORMAT_TABLE);
	T_ASSERT(!render_parse_format("json", &f) && f == FORMAT_JSON);
	T_ASSERT(render_parse_format("xml", &f) < 0);
	return T_OK;
}

static int quality_line(void)
{
	struct profile *p = sample_profile();
	char q[512];

	p->meta.unwinder = "dwarf";
	p->meta.user_stacks = 200;
	p->meta.complete = 190;
	p->meta.ends[EBPROF_END_TABLE_MISS] = 6;
	p->meta.ends[EBPROF_END_READ_FAULT] = 4;
	render_quality(p, q, sizeof(q));
	T_ASSERT_STR(q, "95.0 % complete (reached _start, main or the thread start), by .eh_frame tables;"
			" 3.0 % table_miss, 2.0 % read_fault");
	profile__free(p);
	return T_OK;
}

/*
 * Python frames: rows per function although frames are per line, and the
 * --lines report on a source file written here.
 */
static int python_lines(void)
{
	char path[] = "/tmp/ebprof-lines-XXXXXX", *buf = NULL, *text;
	struct profile *p = profile__new();
	struct func_row *rows;
	size_t len = 0, n;
	FILE *f, *out;
	int fd, m, fn, l4, l5, nat;
	uint32_t s1[2], s2[2], s3[2];

	fd = mkstemp(path);
	T_ASSERT(fd >= 0);
	f = fdopen(fd, "w");
	fputs("import x\n\ndef slow(a):\n    for i in a:\n        a.sort()\n    return a\n\nslow([])\n", f);
	fclose(f);
	m = profile__py_func(p, "<module>", path, 1, 0);
	fn = profile__py_func(p, "slow", path, 3, 0);
	l4 = profile__line_frame(p, fn, "slow (x.py:4)", 4);
	l5 = profile__line_frame(p, fn, "slow (x.py:5)", 5);
	nat = profile__frame(p, "list_sort", "libpython3.so", false);
	T_ASSERT(m >= 0 && fn >= 0 && l4 > fn && l5 > l4 && nat >= 0);
	T_ASSERT(profile__frame_at(p, l4)->fn == (uint32_t)fn && profile__frame_at(p, fn)->fn == (uint32_t)fn);
	T_ASSERT(!strncmp(profile__frame_at(p, fn)->func, "slow (ebprof-lines-", 19));
	s1[0] = m, s1[1] = l4;
	s2[0] = m, s2[1] = l5;
	s3[0] = l5, s3[1] = nat;
	profile__add(p, 1, 0, "python3", s1, 2, 1);
	profile__add(p, 1, 0, "python3", s2, 2, 3);
	profile__add(p, 1, 0, "python3", s3, 2, 6);
	/* what the collector records for --lines: innermost line per function, and line 0 */
	profile__hit(p, fn, 4, 1);
	profile__hit(p, fn, 5, 9);
	profile__hit(p, fn, 0, 10);
	profile__hit(p, m, 8, 4);
	profile__finish(p);

	rows = render_func_rows(p, &n);
	T_ASSERT(rows && n == 3);
	T_ASSERT(rows[0].frame == (uint32_t)nat && rows[0].self[0] == 6);
	T_ASSERT(rows[1].frame == (uint32_t)fn && rows[1].self[0] == 4 && rows[1].total[0] == 10);
	free(rows);

	out = open_memstream(&buf, &len);
	T_ASSERT(render_lines(p, "slow", 5, out) == 0);
	fclose(out);
	text = buf;
	T_ASSERT(strstr(text, "Function: slow ("));
	T_ASSERT(strstr(text, "Total: 10 samples (100.0 % of all)"));
	T_ASSERT(strstr(text, "     3                    def slow(a):\n"));
	T_ASSERT(strstr(text, "     4         1    10.0      for i in a:\n"));
	T_ASSERT(strstr(text, "     5         9    90.0          a.sort()\n"));
	/* the body ends where the indentation does */
	T_ASSERT(strstr(text, "     6                        return a\n"));
	T_ASSERT(!strstr(text, "slow([])"));
	free(buf);
	/* the default: functions where samples were, not <module> (line 0 hits) */
	buf = NULL;
	out = open_memstream(&buf, &len);
	T_ASSERT(render_lines(p, NULL, 5, out) == 0);
	fclose(out);
	T_ASSERT(strstr(buf, "Function: slow") && !strstr(buf, "Function: <module>"));
	free(buf);
	buf = NULL;
	out = open_memstream(&buf, &len);
	T_ASSERT(render_lines(p, "nothing", 5, out) == -ENOENT);
	fclose(out);
	free(buf);
	unlink(path);
	profile__free(p);
	return T_OK;
}

static bool gone_1_2(int tgid, void *ctx)
{
	(void)ctx;
	return tgid == 1 || tgid == 2;
}

static const struct stack *find_stack(const struct profile *p, int tgid, const char *comm, uint32_t n)
{
	size_t i;

	for (i = 0; i < p->nstacks; i++)
		if (p->stacks[i].tgid == tgid && !strcmp(p->stacks[i].comm, comm) && p->stacks[i].nframes == n)
			return &p->stacks[i];
	return NULL;
}

/* exited processes merge into their command's stacks; the index stays right */
static int fold_exited(void)
{
	struct profile *p = profile__new();
	int x = profile__frame(p, "x", "m", false), y = profile__frame(p, "y", "m", false);
	uint32_t xy[] = { x, y }, xo[] = { x };

	profile__add(p, 1, 0, "a", xy, 2, 2);
	profile__add(p, 2, 0, "a", xy, 2, 3);
	profile__add(p, 3, 0, "b", xo, 1, 1);
	profile__add(p, 2, 0, "a", xo, 1, 4);
	profile__add(p, 1, 0, "c", xo, 1, 7);
	T_ASSERT(!profile__fold(p, gone_1_2, NULL));
	T_ASSERT(p->nstacks == 4);
	T_ASSERT(find_stack(p, 0, "a", 2) && find_stack(p, 0, "a", 2)->v[0] == 5);
	T_ASSERT(find_stack(p, 0, "a", 1) && find_stack(p, 0, "a", 1)->v[0] == 4);
	T_ASSERT(find_stack(p, 0, "c", 1) && find_stack(p, 0, "c", 1)->v[0] == 7);
	T_ASSERT(find_stack(p, 3, "b", 1) && find_stack(p, 3, "b", 1)->v[0] == 1);
	T_ASSERT(p->totals[0] == 17);
	/* the index points at the moved stacks: adding merges, nothing new */
	profile__add(p, 0, 0, "a", xy, 2, 1);
	profile__add(p, 3, 0, "b", xo, 1, 1);
	profile__add(p, 0, 0, "c", xo, 1, 1);
	T_ASSERT(p->nstacks == 4);
	T_ASSERT(find_stack(p, 0, "a", 2)->v[0] == 6 && find_stack(p, 3, "b", 1)->v[0] == 2 &&
		 find_stack(p, 0, "c", 1)->v[0] == 8);
	T_ASSERT(p->totals[0] == 20);
	T_ASSERT(profile__bytes(p) > 0);
	/* by process: the folded ones by command alone */
	{
		char l[64];

		p->meta.per_process = true;
		profile__root_label(p, find_stack(p, 0, "a", 2), l, sizeof(l));
		T_ASSERT_STR(l, "a");
		profile__root_label(p, find_stack(p, 3, "b", 1), l, sizeof(l));
		T_ASSERT_STR(l, "b-3");
	}
	profile__free(p);
	return T_OK;
}

/*
 * Values with units: off-CPU time in nanoseconds and a count beside it;
 * the table, folded, SVG and JSON say what they are, in their units.
 */
static int values_with_units(void)
{
	struct profile *p = profile__new();
	int m = profile__frame(p, "main", "app", false), r = profile__frame(p, "read", "libc", false),
	    w = profile__frame(p, "nanosleep", "libc", false);
	uint32_t s1[] = { m, r }, s2[] = { m, w };
	char *out;

	T_ASSERT(!profile__set_values(p, 2, (struct profile_value[]){ { "off-cpu", "nanoseconds" },
								     { "switches", "count" } }));
	T_ASSERT(profile__value_index(p, "switches") == 1 && profile__value_index(p, "cpu") == -1);
	T_ASSERT(!profile__addv(p, 7, 0, "app", s1, 2, (uint64_t[]){ 250000000, 10 }));
	T_ASSERT(!profile__addv(p, 7, 0, "app", s2, 2, (uint64_t[]){ 1500000000, 3 }));
	T_ASSERT(!profile__addv(p, 7, 0, "app", s1, 2, (uint64_t[]){ 250000000, 2 }));
	/* values are fixed once a stack is in */
	T_ASSERT(profile__set_values(p, 1, (struct profile_value[]){ { "samples", "count" } }) == -EINVAL);
	T_ASSERT(p->nstacks == 2 && p->totals[0] == 2000000000 && p->totals[1] == 15);
	T_ASSERT(!profile__loss(p, "user_stacks", LOSS_STACKS, 4, "user stacks lost", "a larger --map-size"));
	T_ASSERT(!profile__loss(p, "counts", LOSS_SAMPLES, 0, "samples lost", NULL));
	T_ASSERT(profile__lost(p, "user_stacks") == 4 && profile__lost(p, "nope") == 0);
	T_ASSERT(profile__lost_kind(p, LOSS_STACKS) == 4 && profile__lost_kind(p, LOSS_SAMPLES) == 0);
	p->meta.mode = "off";
	p->meta.duration = 2;
	snprintf(p->meta.target, sizeof(p->meta.target), "pid 7 (app)");
	T_ASSERT(!profile__finish(p));
	/* sorted by value 0: the sleep first */
	T_ASSERT(p->stacks[0].v[0] == 1500000000 && p->stacks[0].v[1] == 3);

	out = render(render_table, p, 0);
	T_ASSERT(out);
	T_ASSERT(strstr(out, "# ebprof off: pid 7 (app)\n"));
	T_ASSERT(strstr(out, ", 2.00 s, 2.000 s off-cpu, 0 lost, 4 stack losses (below)\n"));
	T_ASSERT(strstr(out, "# warning: 4 user stacks lost; a larger --map-size\n"));
	T_ASSERT(strstr(out, "   TIME  FUNCTION") || strstr(out, "     TIME  FUNCTION"));
	T_ASSERT(strstr(out, "  75.00   75.00   1.500 s  nanosleep"));
	T_ASSERT(strstr(out, "  25.00   25.00 500.00 ms  read"));
	free(out);

	/* folded: microseconds */
	out = render(render_folded, p, 0);
	T_ASSERT_STR(out, "app;main;nanosleep 1500000\napp;main;read 500000\n");
	free(out);

	out = render(render_svg, p, 0);
	T_ASSERT(out && strstr(out, "<title>all (2.000 s off-cpu, 100.00%)</title>"));
	free(out);

	out = render(render_json, p, 0);
	T_ASSERT(out);
	T_ASSERT(strstr(out, "\"mode\": \"off\""));
	T_ASSERT(strstr(out, "\"values\": [{\"type\": \"off-cpu\", \"unit\": \"nanoseconds\"}, "
			     "{\"type\": \"switches\", \"unit\": \"count\"}],\n  \"totals\": [2000000000, 15],"));
	T_ASSERT(strstr(out, "\"lost\": {\"user_stacks\": 4, \"counts\": 0},"));
	T_ASSERT(strstr(out, "\"count\": 500000000, \"values\": [500000000, 12], \"frames\""));
	T_ASSERT(strstr(out, "\"self\": 1500000000, \"total\": 1500000000, \"self_values\": [1500000000, 3], "
			     "\"total_values\": [1500000000, 3]}"));
	T_ASSERT(strstr(out, "\"total_values\": [2000000000, 15]}"));	/* main */
	free(out);
	profile__free(p);

	/* a wait's kernel part is charged to the user call that waited (self_in_user) */
	p = profile__new();
	{
		int m_ = profile__frame(p, "main", "app", false), w = profile__frame(p, "__lll_lock_wait", "libc", false),
		    k = profile__frame(p, "__schedule", "[kernel]", true);
		struct func_row *rows;
		size_t n;

		T_ASSERT(!profile__add(p, 1, 0, "x", (uint32_t[]){ m_, w, k }, 3, 10));
		T_ASSERT(!profile__add(p, 1, 0, "x", (uint32_t[]){ k }, 1, 4));	/* a kernel thread's: its own */
		T_ASSERT(!profile__finish(p));
		p->meta.self_in_user = true;
		rows = render_func_rows(p, &n);
		T_ASSERT(rows && n == 3);
		T_ASSERT_STR(p->frames[rows[0].frame].func, "__lll_lock_wait");
		T_ASSERT(rows[0].self[0] == 10 && rows[1].self[0] == 4 && rows[1].total[0] == 14);
		free(rows);
	}
	profile__free(p);

	/* folded microseconds round on the running sum: lines add up, zeros go */
	p = profile__new();
	{
		int a = profile__frame(p, "a", "m", false), b = profile__frame(p, "b", "m", false),
		    c = profile__frame(p, "c", "m", false);

		T_ASSERT(!profile__set_values(p, 1, (struct profile_value[]){ { "off-cpu", "nanoseconds" } }));
		T_ASSERT(!profile__add(p, 1, 0, "x", (uint32_t[]){ a }, 1, 1700));
		T_ASSERT(!profile__add(p, 1, 0, "x", (uint32_t[]){ b }, 1, 400));
		T_ASSERT(!profile__add(p, 1, 0, "x", (uint32_t[]){ c }, 1, 400));
		T_ASSERT(!profile__finish(p));
		out = render(render_folded, p, 0);
		T_ASSERT_STR(out, "x;a 2\nx;c 1\n");
		free(out);
	}
	profile__free(p);

	/* bytes and the other magnitudes of time */
	{
		struct profile_value b = { "alloc_space", "bytes" }, t = { "cpu", "nanoseconds" };
		struct profile_value c = { "page-faults", "count" };
		char buf[32];

		T_ASSERT_STR(render_value(&b, 512, buf, sizeof(buf)), "512 B");
		T_ASSERT_STR(render_value(&b, 3 << 20, buf, sizeof(buf)), "3.0 MiB");
		T_ASSERT_STR(render_value(&t, 1500, buf, sizeof(buf)), "1.50 us");
		T_ASSERT_STR(render_value(&c, 42, buf, sizeof(buf)), "42");
		T_ASSERT_STR(render_value_title(&b), "BYTES");
		T_ASSERT_STR(render_value_title(&c), "EVENTS");
	}
	return T_OK;
}

/*
 * --view on a Python profile: f calls g through the interpreter, which
 * calls into C (json_encode); f allocates; the GC runs on its own
 *   _start main eval f eval  g json_encode   x10
 *   _start main eval f eval2 g json_encode   x2  (other C between: same Python stack)
 *   _start main eval f PyObject_Malloc       x5
 *   _start gc_collect                        x3  (no Python frame: kept whole)
 */
static struct profile *py_profile(void)
{
	struct profile *p = profile__new();
	int st = profile__frame(p, "_start", "python3", false), m = profile__frame(p, "main", "python3", false);
	int ev = profile__frame(p, "_PyEval_EvalFrameDefault", "libpython3.so", false);
	int ev2 = profile__frame(p, "cfunction_call", "libpython3.so", false);
	int f = profile__py_func(p, "f", "", 1, 0), g = profile__py_func(p, "g", "", 1, 0);
	int js = profile__frame(p, "json_encode", "_json.so", false);
	int ma = profile__frame(p, "PyObject_Malloc", "libpython3.so", false);
	int gc = profile__frame(p, "gc_collect", "libpython3.so", false);
	uint32_t s1[] = { st, m, ev, f, ev, g, js }, s2[] = { st, m, ev, f, ev2, g, js };
	uint32_t s3[] = { st, m, ev, f, ma }, s4[] = { st, gc };

	snprintf(p->meta.target, sizeof(p->meta.target), "pid 7 (python3)");
	profile__add(p, 7, 0, "python3", s1, 7, 10);
	profile__add(p, 7, 0, "python3", s2, 7, 2);
	profile__add(p, 7, 0, "python3", s3, 5, 5);
	profile__add(p, 7, 0, "python3", s4, 2, 3);
	profile__finish(p);
	return p;
}

static int views(void)
{
	struct profile *p = py_profile();
	char *t;

	T_ASSERT(p && profile__has_python(p));
	T_ASSERT(profile__view(p, PROFILE_VIEW_PYTHON) == 0);
	T_ASSERT(p->nstacks == 3 && p->totals[0] == 20);
	t = render(render_folded, p, 0);
	T_ASSERT_STR(t, "python3;f;g 12\npython3;f 5\npython3;_start;gc_collect 3\n");
	free(t);
	/* the table: g first, with the C code it called; the header says the view */
	p->meta.view_default = true;
	t = render(render_table, p, 0);
	T_ASSERT(strstr(t, "# view: python: rows by Python function") && strstr(t, "--view mixed"));
	T_ASSERT(strstr(t, "\n  60.00   60.00        12  g ") && strstr(t, "\n  25.00   85.00         5  f "));
	T_ASSERT(strstr(t, "\n  15.00   15.00         3  gc_collect "));
	free(t);
	t = render(render_json, p, 0);
	T_ASSERT(strstr(t, "\"view\": \"python\""));
	free(t);
	profile__free(p);

	p = py_profile();
	T_ASSERT(profile__view(p, PROFILE_VIEW_NATIVE) == 0);
	T_ASSERT(p->nstacks == 4 && p->totals[0] == 20 && !profile__has_python(p));
	t = render(render_folded, p, 0);
	T_ASSERT_STR(t, "python3;_start;main;_PyEval_EvalFrameDefault;_PyEval_EvalFrameDefault;json_encode 10\n"
			"python3;_start;main;_PyEval_EvalFrameDefault;PyObject_Malloc 5\n"
			"python3;_start;gc_collect 3\n"
			"python3;_start;main;_PyEval_EvalFrameDefault;cfunction_call;json_encode 2\n");
	free(t);
	profile__free(p);

	p = py_profile();
	T_ASSERT(profile__view(p, PROFILE_VIEW_MIXED) == 0 && p->nstacks == 4);
	t = render(render_json, p, 0);
	T_ASSERT(strstr(t, "\"view\": \"mixed\""));
	free(t);
	profile__free(p);
	return T_OK;
}

T_MAIN("render", T(python_lines), T(views), T(frames_intern), T(folded_exact), T(func_rows), T(table_text),
       T(table_losses_and_groups), T(json_text), T(json_escapes), T(svg_structure),
       T(svg_escapes), T(deterministic_order), T(scale_to_counted), T(formats), T(quality_line), T(fold_exited),
       T(values_with_units))
