// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lat_report.c - ebprof lat's names, buckets, percentiles and report
 * (see lat.h).
 */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "lat.h"
#include "ebprof.h"
#include "util/json.h"

static char *strndup_or_null(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

void lat_patterns_free(struct lat_pattern *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++) {
		free(p[i].text);
		free(p[i].lib);
		free(p[i].func);
	}
	free(p);
}

/* one FUNC or LIB:FUNC of *len* bytes at *s* into *p* */
static int parse_one(const char *s, size_t len, struct lat_pattern *p, const char **why)
{
	int depth = 0;
	size_t i, colon = len;

	memset(p, 0, sizeof(*p));
	if (!len) {
		*why = "an empty function name";
		return -EINVAL;
	}
	/* LIB:FUNC: a single colon outside brackets ("::" is C++'s) */
	for (i = 0; i < len; i++) {
		if (s[i] == '(' || s[i] == '<')
			depth++;
		else if ((s[i] == ')' || s[i] == '>') && depth > 0)
			depth--;
		else if (s[i] == ':' && !depth) {
			if (i + 1 < len && s[i + 1] == ':') {
				i++;
				continue;
			}
			colon = i;
			break;
		}
	}
	if (colon == 0 || colon + 1 == len) {
		*why = colon ? "a library with no function after its ':'" : "a ':' with no library before it";
		return -EINVAL;
	}
	p->text = strndup_or_null(s, len);
	if (colon < len) {
		p->lib = strndup_or_null(s, colon);
		p->func = strndup_or_null(s + colon + 1, len - colon - 1);
	} else {
		p->func = strndup_or_null(s, len);
	}
	if (!p->text || !p->func || (colon < len && !p->lib)) {
		*why = "out of memory";
		return -ENOMEM;
	}
	p->glob = strpbrk(p->func, "*?[") != NULL;
	p->cxx = strstr(p->func, "::") || strchr(p->func, '(');
	return 0;
}

int lat_parse_patterns(const char *arg, struct lat_pattern **out, size_t *n, const char **why)
{
	struct lat_pattern *v = NULL;
	size_t cnt = 0, start = 0, i;
	int depth = 0, err = 0;

	*out = NULL;
	*n = 0;
	for (i = 0;; i++) {
		char c = arg[i];

		if (c == '(' || c == '<')
			depth++;
		else if ((c == ')' || c == '>') && depth > 0)
			depth--;
		if (c && (c != ',' || depth))
			continue;
		{
			struct lat_pattern *nv = realloc(v, (cnt + 1) * sizeof(*v));

			if (!nv) {
				*why = "out of memory";
				err = -ENOMEM;
				break;
			}
			v = nv;
		}
		err = parse_one(arg + start, i - start, &v[cnt], why);
		if (err) {
			lat_patterns_free(v, cnt + (v[cnt].text != NULL));
			return err;
		}
		cnt++;
		if (cnt > EBPROF_LAT_MAX_FUNCS) {
			*why = "too many functions";
			err = -EINVAL;
			break;
		}
		if (!c)
			break;
		start = i + 1;
	}
	if (err) {
		lat_patterns_free(v, cnt);
		return err;
	}
	*out = v;
	*n = cnt;
	return 0;
}

bool lat_lib_matches(const char *lib, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len = strlen(lib), plen = strlen(path);

	base = base ? base + 1 : path;
	if (strchr(lib, '/'))	/* a path: the file's, maybe seen through /proc/PID/root */
		return plen >= len && !strcmp(path + plen - len, lib) && (plen == len || path[plen - len - 1] == '/' ||
									  lib[0] == '/');
	if (!strcmp(base, lib))
		return true;
	/* libc: libc.so.6; libc.so: libc.so.6; c: libc.so.6 */
	if (!strncmp(base, lib, len) && (base[len] == '.' || base[len] == '-'))
		return true;
	return !strncmp(base, "lib", 3) && !strncmp(base + 3, lib, len) && (base[3 + len] == '.' || base[3 + len] == '-');
}

/* "ns::C::f(int) const" without its parameters: "ns::C::f" into *buf* */
static const char *without_params(const char *d, char *buf, size_t len)
{
	int angle = 0;
	size_t i;

	for (i = 0; d[i] && i + 1 < len; i++) {
		if (d[i] == '<')
			angle++;
		else if (d[i] == '>' && angle > 0)
			angle--;
		else if (d[i] == '(' && !angle) {
			/* operator(): the name, not the parameters */
			if (i >= 8 && !strncmp(d + i - 8, "operator", 8) && d[i + 1] == ')') {
				buf[i] = d[i];
				i++;
				buf[i] = d[i];
				continue;
			}
			break;
		}
		buf[i] = d[i];
	}
	buf[i] = '\0';
	return buf;
}

bool lat_name_matches(const struct lat_pattern *p, const char *raw, const char *demangled)
{
	char buf[1024];

	if (!fnmatch(p->func, raw, 0))
		return true;
	if (!p->cxx || !demangled)
		return false;
	return !fnmatch(p->func, demangled, 0) || !fnmatch(p->func, without_params(demangled, buf, sizeof(buf)), 0);
}

uint64_t lat_bucket_lo(uint32_t b)
{
	uint32_t o;

	if (b < EBPROF_LAT_SUB)
		return b;
	o = b / EBPROF_LAT_SUB + 3;
	return (uint64_t)(EBPROF_LAT_SUB + b % EBPROF_LAT_SUB) << (o - 4);
}

uint64_t lat_bucket_hi(uint32_t b)
{
	if (b + 1 >= EBPROF_LAT_BUCKETS)
		return UINT64_MAX;
	return lat_bucket_lo(b + 1);
}

uint64_t lat_percentile(const struct lat_fn_report *f, double q)
{
	uint64_t rank, seen = 0, v;
	uint32_t b;

	if (!f->count || !f->hist)
		return 0;
	rank = (uint64_t)ceil(q * f->count);
	if (rank < 1)
		rank = 1;
	for (b = 0; b < EBPROF_LAT_BUCKETS; b++) {
		seen += f->hist[b];
		if (seen >= rank)
			break;
	}
	if (b == EBPROF_LAT_BUCKETS)
		return f->max_ns;
	v = b < EBPROF_LAT_SUB || b + 1 == EBPROF_LAT_BUCKETS ? lat_bucket_lo(b) :
								    lat_bucket_lo(b) + (lat_bucket_hi(b) - lat_bucket_lo(b)) / 2;
	if (v < f->min_ns)
		v = f->min_ns;
	if (v > f->max_ns)
		v = f->max_ns;
	return v;
}

const char *lat_fmt_ns(double ns, char *buf, size_t len)
{
	if (ns < 1e3)
		snprintf(buf, len, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.*f us", ns < 1e4 ? 2 : ns < 1e5 ? 1 : 0, ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.*f ms", ns < 1e7 ? 2 : ns < 1e8 ? 1 : 0, ns / 1e6);
	else
		snprintf(buf, len, "%.3f s", ns / 1e9);
	return buf;
}

/* a function's calls by powers of two, as funclatency shows them */
static void render_hist(const struct lat_fn_report *f, FILE *out)
{
	uint64_t by2[64] = {}, most = 0;
	int first = -1, last = -1, i;
	char lo[24], hi[24];
	uint32_t b;

	for (b = 0; b < EBPROF_LAT_BUCKETS; b++) {
		uint64_t v = lat_bucket_lo(b);
		int o = 0;

		if (!f->hist[b])
			continue;
		while (o < 63 && (v >> (o + 1)))
			o++;
		by2[o] += f->hist[b];
	}
	for (i = 0; i < 64; i++) {
		if (!by2[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (by2[i] > most)
			most = by2[i];
	}
	fprintf(out, "\n%s (%s): %llu calls\n", f->name, f->module, (unsigned long long)f->count);
	for (i = first; i >= 0 && i <= last; i++) {
		int w = most ? (int)((by2[i] * 40 + most - 1) / most) : 0;

		fprintf(out, "  %10s .. %-10s %10llu |%-40.*s|\n", lat_fmt_ns((double)(1ULL << i), lo, sizeof(lo)),
			lat_fmt_ns((double)(2ULL << i), hi, sizeof(hi)), (unsigned long long)by2[i], w,
			"########################################");
	}
}

int lat_render_table(const struct lat_report *r, bool hist, FILE *out)
{
	static const double qs[] = { 0.5, 0.75, 0.9, 0.99 };
	size_t i, wname = 8, wmod = 6;
	char b[8][24];
	int k;

	if (r->interval_t > 0)
		fprintf(out, "\n%.3f s: the last interval's calls\n", r->interval_t);
	else
		fprintf(out, "ebprof lat: %s, %.2f s\n", r->target, r->duration);
	for (i = 0; i < r->n; i++) {
		if (strlen(r->fns[i].name) > wname)
			wname = strlen(r->fns[i].name);
		if (strlen(r->fns[i].module) > wmod)
			wmod = strlen(r->fns[i].module);
	}
	if (wname > 60)
		wname = 60;
	fprintf(out, "%-*s  %-*s %9s %11s %10s %10s %10s %10s %10s %10s %10s\n", (int)wname, "FUNCTION", (int)wmod,
		"MODULE", "CALLS", "TOTAL", "MIN", "MEAN", "P50", "P75", "P90", "P99", "MAX");
	for (i = 0; i < r->n; i++) {
		const struct lat_fn_report *f = &r->fns[i];

		fprintf(out, "%-*.*s  %-*s %9llu", (int)wname, (int)wname, f->name, (int)wmod, f->module,
			(unsigned long long)f->count);
		if (!f->count) {
			fprintf(out, " %11s %10s %10s %10s %10s %10s %10s %10s\n", "-", "-", "-", "-", "-", "-", "-", "-");
			continue;
		}
		fprintf(out, " %11s %10s %10s", lat_fmt_ns(f->total_ns, b[0], sizeof(b[0])),
			lat_fmt_ns(f->min_ns, b[1], sizeof(b[1])),
			lat_fmt_ns((double)f->total_ns / f->count, b[2], sizeof(b[2])));
		for (k = 0; k < 4; k++)
			fprintf(out, " %10s", lat_fmt_ns(lat_percentile(f, qs[k]), b[3 + k], sizeof(b[3 + k])));
		fprintf(out, " %10s\n", lat_fmt_ns(f->max_ns, b[7], sizeof(b[7])));
	}
	if (r->interval_t > 0)
		return ferror(out) ? -EIO : 0;
	fputc('\n', out);
	for (i = 0; i < r->n; i++) {
		const struct lat_fn_report *f = &r->fns[i];
		size_t j;

		for (j = 0; j < i && strcmp(r->fns[j].method, f->method); j++)
			;
		if (j < i)
			continue;
		if (f->resolution_ns > 0)
			fprintf(out, "method: %s; a call's time within +-%s (a period): calls shorter than a few periods are missed or counted at about one, and calls one after another from the same line with no sample between them as one\n",
				f->method, lat_fmt_ns(f->resolution_ns, b[0], sizeof(b[0])));
		else
			fprintf(out, "method: %s; percentiles within 3.1 %% (the middle of a bucket 1/16 of a power of two wide)\n",
				f->method);
	}
	for (i = 0; hist && i < r->n; i++)
		if (r->fns[i].count && r->fns[i].hist)
			render_hist(&r->fns[i], out);
	return ferror(out) ? -EIO : 0;
}

int lat_render_json(const struct lat_report *r, FILE *out)
{
	size_t i;
	uint32_t b;

	fprintf(out, "{\"mode\": \"lat\", \"unit\": \"nanoseconds\", \"target\": ");
	json_str(out, r->target);
	fprintf(out, ", \"duration_s\": %.6f, \"not_timed\": {\"threads_full\": %llu, \"too_deep\": %llu, "
		"\"unfinished\": %llu, \"no_entry\": %llu, \"python_observations_lost\": %llu}, \"functions\": [",
		r->duration, (unsigned long long)r->threads_full, (unsigned long long)r->too_deep,
		(unsigned long long)r->unfinished, (unsigned long long)r->no_entry, (unsigned long long)r->py_lost);
	for (i = 0; i < r->n; i++) {
		const struct lat_fn_report *f = &r->fns[i];
		bool first = true;

		fprintf(out, "%s\n  {\"name\": ", i ? "," : "");
		json_str(out, f->name);
		fprintf(out, ", \"module\": ");
		json_str(out, f->module);
		fprintf(out, ", \"method\": ");
		json_str(out, f->method);
		fprintf(out, ", \"resolution_ns\": %.0f, \"count\": %llu, \"total_ns\": %llu, \"min_ns\": %llu, "
			"\"mean_ns\": %.0f, \"p50_ns\": %llu, \"p75_ns\": %llu, \"p90_ns\": %llu, \"p99_ns\": %llu, "
			"\"max_ns\": %llu, \"histogram\": [",
			f->resolution_ns, (unsigned long long)f->count, (unsigned long long)f->total_ns,
			(unsigned long long)f->min_ns, f->count ? (double)f->total_ns / f->count : 0.0,
			(unsigned long long)lat_percentile(f, 0.5), (unsigned long long)lat_percentile(f, 0.75),
			(unsigned long long)lat_percentile(f, 0.9), (unsigned long long)lat_percentile(f, 0.99),
			(unsigned long long)f->max_ns);
		for (b = 0; f->hist && b < EBPROF_LAT_BUCKETS; b++) {
			if (!f->hist[b])
				continue;
			fprintf(out, "%s{\"lo_ns\": %llu, \"hi_ns\": %llu, \"count\": %llu}", first ? "" : ", ",
				(unsigned long long)lat_bucket_lo(b),
				(unsigned long long)(b + 1 == EBPROF_LAT_BUCKETS ? f->max_ns + 1 : lat_bucket_hi(b)),
				(unsigned long long)f->hist[b]);
			first = false;
		}
		fprintf(out, "]}");
	}
	fprintf(out, "\n]}\n");
	return ferror(out) ? -EIO : 0;
}

void lat_report_free(struct lat_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->fns[i].name);
		free(r->fns[i].module);
		free(r->fns[i].hist);
	}
	free(r->fns);
	free(r);
}
