/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lat.h - ebprof lat's pure parts: the function names it is given
 * (FUNC, LIB:FUNC, globs, C++ names), the histogram's buckets and
 * percentiles, and the report as a table or JSON.  mode_lat.c fills it.
 */
#ifndef __EBPROF_LAT_H
#define __EBPROF_LAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* one FUNC of the list */
struct lat_pattern {
	char *text;		/* as given */
	char *lib;		/* LIB of LIB:FUNC, or NULL */
	char *func;
	bool glob;		/* has *, ? or [ */
	bool cxx;		/* names a C++ (or Rust) scope or signature: matched demangled */
};

/*
 * "a,LIB:b,ns::C::f(int, char),g*": split at the commas outside brackets;
 * 0, or -EINVAL with *why* set
 */
int lat_parse_patterns(const char *arg, struct lat_pattern **out, size_t *n, const char **why);
void lat_patterns_free(struct lat_pattern *p, size_t n);
/* is the file at *path* the library *lib* names: its path, its name, or that name without the version (libc, libc.so) */
bool lat_lib_matches(const char *lib, const char *path);
/*
 * does a function named *raw* (demangled: *demangled*, or NULL) match *p*?
 * A C++ pattern matches the demangled name whole or without its parameters
 * ("Shape::area" matches "Shape::area() const")
 */
bool lat_name_matches(const struct lat_pattern *p, const char *raw, const char *demangled);

/* the durations bucket *b* holds: lo <= ns < hi */
uint64_t lat_bucket_lo(uint32_t b);
uint64_t lat_bucket_hi(uint32_t b);

struct lat_fn_report {
	char *name;		/* shown: demangled */
	char *module;		/* the file's name */
	const char *method;	/* how its calls were timed */
	double resolution_ns;	/* 0: each call timed, else the sampling period */
	uint64_t count, total_ns, min_ns, max_ns;
	uint64_t *hist;		/* EBPROF_LAT_BUCKETS calls */
};

struct lat_report {
	char target[256];
	double duration;
	double interval_t;	/* -i: seconds since the start at the end of this interval, else 0 */
	struct lat_fn_report *fns;
	size_t n;
	/* calls not timed, by why (enum ebprof_lat_stat) */
	uint64_t threads_full, too_deep, unfinished, no_entry, suppressed, calls_lost;
	uint64_t py_lost;	/* Python: observations lost */
};

/* nearest-rank percentile *q* (0..1) of f's calls: the middle of its bucket, within [min, max]; 0: no calls */
uint64_t lat_percentile(const struct lat_fn_report *f, double q);
/* a duration in the unit that suits it: "1.23 ms" */
const char *lat_fmt_ns(double ns, char *buf, size_t len);
/* the table: a row per function, then (with *hist*) each one's histogram by powers of two */
int lat_render_table(const struct lat_report *r, bool hist, FILE *out);
/* {"mode": "lat", "functions": [...]} */
int lat_render_json(const struct lat_report *r, FILE *out);
void lat_report_free(struct lat_report *r);

#endif
