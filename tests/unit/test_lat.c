// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ebprof lat's names, buckets, percentiles and report */
#include <errno.h>
#include <linux/types.h>
#include <stdlib.h>
#include "t.h"
#include "lat.h"
#include "ebprof.h"

/* every duration falls in a bucket that holds it, no wider than 1/16 of its value (1 ns below 16) */
static int buckets(void)
{
	uint64_t v;
	uint32_t b, prev = 0;

	for (v = 0; v < 5000000; v += v < 4096 ? 1 : 997) {
		b = ebprof_lat_bucket(v);
		T_ASSERT(lat_bucket_lo(b) <= v && v < lat_bucket_hi(b));
		T_ASSERT(b >= prev);
		T_ASSERT((lat_bucket_hi(b) - lat_bucket_lo(b)) * 16 <= (lat_bucket_lo(b) > 16 ? lat_bucket_lo(b) : 16));
		prev = b;
	}
	/* the buckets tile the line: each starts where the last ended */
	for (b = 1; b + 1 < EBPROF_LAT_BUCKETS; b++)
		T_ASSERT(lat_bucket_lo(b) == lat_bucket_hi(b - 1));
	T_ASSERT(ebprof_lat_bucket(15) == 15 && ebprof_lat_bucket(16) == 16 && ebprof_lat_bucket(31) == 31);
	T_ASSERT(ebprof_lat_bucket(32) == 32 && ebprof_lat_bucket(33) == 32 && ebprof_lat_bucket(34) == 33);
	/* one second, one hour, forever */
	b = ebprof_lat_bucket(1000000000ULL);
	T_ASSERT(lat_bucket_lo(b) <= 1000000000ULL && lat_bucket_hi(b) > 1000000000ULL);
	b = ebprof_lat_bucket(3600ULL * 1000000000ULL);
	T_ASSERT(b < EBPROF_LAT_BUCKETS - 1 && lat_bucket_lo(b) <= 3600ULL * 1000000000ULL);
	T_ASSERT(ebprof_lat_bucket(UINT64_MAX) == EBPROF_LAT_BUCKETS - 1);
	T_ASSERT(lat_bucket_hi(EBPROF_LAT_BUCKETS - 1) == UINT64_MAX);
	return T_OK;
}

/* 60 calls of 1 ms, 30 of 10 ms, 10 of 100 ms: nearest rank, the middle of the bucket */
static int percentiles(void)
{
	uint64_t hist[EBPROF_LAT_BUCKETS] = {};
	struct lat_fn_report f = { .hist = hist, .count = 100, .min_ns = 1000000, .max_ns = 100000000 };
	uint64_t p;

	hist[ebprof_lat_bucket(1000000)] = 60;
	hist[ebprof_lat_bucket(10000000)] = 30;
	hist[ebprof_lat_bucket(100000000)] = 10;
	p = lat_percentile(&f, 0.5);
	T_ASSERT(p >= 1000000 && p < 1000000 * 1.07);
	p = lat_percentile(&f, 0.6);	/* the 60th call: still 1 ms */
	T_ASSERT(p < 1100000);
	p = lat_percentile(&f, 0.61);
	T_ASSERT(p > 9500000 && p < 10500000);
	p = lat_percentile(&f, 0.9);
	T_ASSERT(p > 9500000 && p < 10500000);
	p = lat_percentile(&f, 0.99);
	T_ASSERT(p > 95000000 && p <= 100000000);	/* within [min, max] */
	T_ASSERT(lat_percentile(&f, 0) >= 1000000);
	f.count = 0;
	T_ASSERT(lat_percentile(&f, 0.5) == 0);
	return T_OK;
}

static int patterns(void)
{
	struct lat_pattern *p;
	const char *why = NULL;
	size_t n;

	T_ASSERT(!lat_parse_patterns("malloc,libc:free,ns::C::f(int, char const*),sql_*,/opt/x/libx.so:h", &p, &n, &why));
	T_ASSERT(n == 5);
	T_ASSERT_STR(p[0].func, "malloc");
	T_ASSERT(!p[0].lib && !p[0].glob && !p[0].cxx);
	T_ASSERT_STR(p[1].lib, "libc");
	T_ASSERT_STR(p[1].func, "free");
	T_ASSERT_STR(p[2].func, "ns::C::f(int, char const*)");
	T_ASSERT(!p[2].lib && p[2].cxx);
	T_ASSERT(p[3].glob && !p[3].cxx);
	T_ASSERT_STR(p[4].lib, "/opt/x/libx.so");
	T_ASSERT_STR(p[4].func, "h");
	lat_patterns_free(p, n);
	T_ASSERT(!lat_parse_patterns("libstdc++:std::vector<int, std::allocator<int> >::size", &p, &n, &why));
	T_ASSERT(n == 1);
	T_ASSERT_STR(p[0].lib, "libstdc++");
	T_ASSERT(p[0].cxx);
	lat_patterns_free(p, n);
	T_ASSERT(lat_parse_patterns("a,,b", &p, &n, &why) == -EINVAL && why);
	T_ASSERT(lat_parse_patterns(":f", &p, &n, &why) == -EINVAL);
	T_ASSERT(lat_parse_patterns("libc:", &p, &n, &why) == -EINVAL);
	T_ASSERT(lat_parse_patterns("", &p, &n, &why) == -EINVAL);
	return T_OK;
}

static int libs(void)
{
	T_ASSERT(lat_lib_matches("libc", "/usr/lib/x86_64-linux-gnu/libc.so.6"));
	T_ASSERT(lat_lib_matches("libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6"));
	T_ASSERT(lat_lib_matches("c", "/usr/lib/x86_64-linux-gnu/libc.so.6"));
	T_ASSERT(lat_lib_matches("libpython3.11", "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"));
	T_ASSERT(lat_lib_matches("/usr/lib/x86_64-linux-gnu/libc.so.6", "/proc/7/root/usr/lib/x86_64-linux-gnu/libc.so.6"));
	T_ASSERT(lat_lib_matches("server", "/opt/app/bin/server"));
	T_ASSERT(!lat_lib_matches("libc", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"));
	T_ASSERT(!lat_lib_matches("libm", "/usr/lib/x86_64-linux-gnu/libmvec.so.1"));
	T_ASSERT(!lat_lib_matches("c", "/usr/lib/x86_64-linux-gnu/libcurl.so.4"));
	T_ASSERT(!lat_lib_matches("/lib/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6"));
	return T_OK;
}

static int names(void)
{
	struct lat_pattern *p;
	const char *why;
	size_t n;

	T_ASSERT(!lat_parse_patterns("geo::Square::area,geo::scale(double),sql_*,main,Foo::operator()", &p, &n, &why));
	T_ASSERT(lat_name_matches(&p[0], "_ZNK3geo6Square4areaEv", "geo::Square::area() const"));
	T_ASSERT(!lat_name_matches(&p[0], "_ZNK3geo6Circle4areaEv", "geo::Circle::area() const"));
	T_ASSERT(lat_name_matches(&p[1], "_ZN3geo5scaleEd", "geo::scale(double)"));
	T_ASSERT(!lat_name_matches(&p[1], "_ZN3geo5scaleEi", "geo::scale(int)"));
	T_ASSERT(lat_name_matches(&p[2], "sql_exec", NULL));
	T_ASSERT(!lat_name_matches(&p[2], "mysql_exec", NULL));
	T_ASSERT(lat_name_matches(&p[3], "main", NULL));
	T_ASSERT(!lat_name_matches(&p[3], "main.cold", NULL));
	T_ASSERT(lat_name_matches(&p[4], "_ZN3FooclEi", "Foo::operator()(int)"));
	/* a plain name is not matched against demangled ones: "area" is no C++ name */
	lat_patterns_free(p, n);
	T_ASSERT(!lat_parse_patterns("area", &p, &n, &why));
	T_ASSERT(!lat_name_matches(&p[0], "_ZNK3geo6Square4areaEv", "geo::Square::area() const"));
	lat_patterns_free(p, n);
	return T_OK;
}

static int report(void)
{
	uint64_t hist[EBPROF_LAT_BUCKETS] = {};
	struct lat_fn_report f = { .name = "work_ms", .module = "latwork", .method = "uprobes, every call",
				   .count = 3, .total_ns = 3300000, .min_ns = 1000000, .max_ns = 1200000,
				   .hist = hist };
	struct lat_report r = { .target = "pid 42 (\"x\")", .duration = 1.5, .fns = &f, .n = 1, .unfinished = 2,
				.py_lost = 7 };
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	hist[ebprof_lat_bucket(1000000)] = 1;
	hist[ebprof_lat_bucket(1100000)] = 1;
	hist[ebprof_lat_bucket(1200000)] = 1;
	out = open_memstream(&buf, &len);
	T_ASSERT(out && !lat_render_json(&r, out));
	fclose(out);
	T_ASSERT(strstr(buf, "\"mode\": \"lat\""));
	T_ASSERT(strstr(buf, "\"target\": \"pid 42 (\\\"x\\\")\""));
	T_ASSERT(strstr(buf, "\"name\": \"work_ms\", \"module\": \"latwork\", \"method\": \"uprobes, every call\""));
	T_ASSERT(strstr(buf, "\"count\": 3, \"total_ns\": 3300000, \"min_ns\": 1000000, \"mean_ns\": 1100000"));
	T_ASSERT(strstr(buf, "\"unfinished\": 2"));
	T_ASSERT(strstr(buf, "\"python_observations_lost\": 7"));
	T_ASSERT(strstr(buf, "{\"lo_ns\": 983040, \"hi_ns\": 1015808, \"count\": 1}"));
	free(buf);
	buf = NULL;
	out = open_memstream(&buf, &len);
	T_ASSERT(out && !lat_render_table(&r, true, out));
	fclose(out);
	T_ASSERT(strstr(buf, "FUNCTION"));
	T_ASSERT(strstr(buf, "work_ms "));
	T_ASSERT(strstr(buf, "3.30 ms"));
	T_ASSERT(strstr(buf, "work_ms (latwork): 3 calls"));
	free(buf);
	return T_OK;
}

static int units(void)
{
	char b[24];

	T_ASSERT_STR(lat_fmt_ns(999, b, sizeof(b)), "999 ns");
	T_ASSERT_STR(lat_fmt_ns(1500, b, sizeof(b)), "1.50 us");
	T_ASSERT_STR(lat_fmt_ns(15000, b, sizeof(b)), "15.0 us");
	T_ASSERT_STR(lat_fmt_ns(1.5e6, b, sizeof(b)), "1.50 ms");
	T_ASSERT_STR(lat_fmt_ns(250e6, b, sizeof(b)), "250 ms");
	T_ASSERT_STR(lat_fmt_ns(2.5e9, b, sizeof(b)), "2.500 s");
	return T_OK;
}

T_MAIN("lat", T(buckets), T(percentiles), T(patterns), T(libs), T(names), T(report), T(units))
