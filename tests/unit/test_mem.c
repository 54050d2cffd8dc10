// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ebprof mem's report on a report built by hand. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <unistd.h>
#include "t.h"
#include "mem.h"
#include "render/render.h"

static struct mem_report *sample(void)
{
	struct mem_report *m = calloc(1, sizeof(*m));
	int main_ = -1, f = -1, g = -1;
	uint32_t s1[2], s2[2];

	/* the profile owns the report, as mem's report() makes it */
	m->prof = profile__new();
	m->prof->ext = m;
	m->prof->ext_free = mem_report__free;
	profile__set_values(m->prof, 1, &(struct profile_value){ "alloc_space", "bytes" });
	main_ = profile__frame(m->prof, "main", "app", false);
	f = profile__frame(m->prof, "leak_f", "app", false);
	g = profile__frame(m->prof, "g", "app", false);
	s1[0] = main_, s1[1] = f;
	s2[0] = main_, s2[1] = g;
	snprintf(m->target, sizeof(m->target), "command './app'");
	m->exact = true;
	m->share = m->scale = 1;
	m->duration = 2;
	m->allocs = 4100, m->frees = 4000, m->bytes = 292000, m->bytes_freed = 192000;
	m->blocks_outstanding = 100, m->bytes_outstanding = 100000;
	m->rss_now_kib = 1000, m->rss_peak_kib = 1500;
	m->hist[6] = 4000, m->hist[9] = 100;
	m->leaks = true;
	m->min_age = 5;
	m->sites = calloc(2, sizeof(*m->sites));
	m->nsites = 2;
	m->sites[0].frames = malloc(2 * sizeof(uint32_t));
	memcpy(m->sites[0].frames, s1, sizeof(s1));
	m->sites[0].nframes = 2;
	m->sites[0].allocs = 100, m->sites[0].bytes = 100000;
	m->sites[0].out_blocks = 100, m->sites[0].out_bytes = 100000;
	m->sites[0].leak_blocks = 100, m->sites[0].leak_bytes = 100000, m->sites[0].oldest_s = 7.5;
	m->sites[1].frames = malloc(2 * sizeof(uint32_t));
	memcpy(m->sites[1].frames, s2, sizeof(s2));
	m->sites[1].nframes = 2;
	m->sites[1].allocs = 3000, m->sites[1].bytes = 192000, m->sites[1].frees = 3000;
	m->sites[1].bytes_freed = 192000, m->sites[1].faults = 12;
	m->faults = 12;
	profile__add(m->prof, 1, 0, "app", s1, 2, 100000);
	profile__add(m->prof, 1, 0, "app", s2, 2, 192000);
	profile__finish(m->prof);
	return m;
}

static char *capture(const struct mem_report *m, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	struct render_opts o = {};

	/* through the mode's renderer, as main() calls it */
	mem_render(m->prof, json ? FORMAT_JSON : FORMAT_TABLE, &o, f);
	fclose(f);
	return buf;
}

/* folded and SVG: the profile's stacks, weighted by bytes, in bytes */
static int generic_formats(void)
{
	struct mem_report *m = sample();
	struct render_opts o = {};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	T_ASSERT(!mem_render(m->prof, FORMAT_FOLDED, &o, f));
	fclose(f);
	T_ASSERT_STR(buf, "app;main;g 192000\napp;main;leak_f 100000\n");
	free(buf);
	f = open_memstream(&buf, &len);
	T_ASSERT(!mem_render(m->prof, FORMAT_SVG, &o, f));
	fclose(f);
	T_ASSERT(strstr(buf, "<title>all (285.2 KiB alloc_space, 100.00%)</title>"));
	free(buf);
	profile__free(m->prof);
	return T_OK;
}

static size_t position(const char *text, const char *what)
{
	size_t n = strlen(what), i;

	for (i = 0; text[i]; i++)
		if (!strncmp(text + i, what, n))
			return i;
	return SIZE_MAX;
}

static int json(void)
{
	struct mem_report *m = sample();
	char *t = capture(m, true);

	T_ASSERT(strstr(t, "\"exact\": true"));
	T_ASSERT(strstr(t, "\"totals\": {\"allocs\": 4100, \"frees\": 4000, \"bytes_allocated\": 292000, \"bytes_freed\": 192000, \"bytes_outstanding\": 100000, \"blocks_outstanding\": 100"));
	T_ASSERT(strstr(t, "\"rss\": {\"now\": 1024000, \"peak\": 1536000}"));
	T_ASSERT(strstr(t, "{\"from\": 64, \"allocs\": 4000}, {\"from\": 512, \"allocs\": 100}"));
	T_ASSERT(strstr(t, "\"leaked_bytes\": 100000, \"leaked_blocks\": 100, \"oldest_s\": 7.500"));
	T_ASSERT(strstr(t, "\"frames\": [{\"function\": \"main\", \"module\": \"app\", \"kernel\": false}, {\"function\": \"leak_f\""));
	free(t);
	profile__free(m->prof);
	return T_OK;
}

static int table(void)
{
	struct mem_report *m = sample();
	char *t = capture(m, false);
	size_t g, f;

	T_ASSERT(strstr(t, "exact (--exact): every allocator call traced"));
	T_ASSERT(!strstr(t, "no allocations seen"));
	T_ASSERT(strstr(t, "# 4100 allocations (2050/s), 4000 frees, 285.2 KiB allocated, 187.5 KiB freed"));
	T_ASSERT(strstr(t, "# RSS now 1000.0 KiB, peak 1.5 MiB"));
	/* sites by bytes: g's first; leaks: leak_f's */
	g = position(t, "187.5 KiB in 3000 allocations");
	f = position(t, "97.7 KiB in 100 allocations");
	T_ASSERT(g != SIZE_MAX && f != SIZE_MAX && g < f);
	T_ASSERT(strstr(t, "100000 bytes in 100 blocks, the oldest 7.5 s old\n        leak_f  app\n        main  app\n"));
	T_ASSERT(strstr(t, "12 pages (100.0 %)"));
	free(t);
	profile__free(m->prof);
	return T_OK;
}

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9 * (1 + fabs(b)))

/* the budget's books to estimates: scale, share, uncertainty, floors */
/* the default mode whose probes stayed on says so; a target that allocated nothing says that */
static int default_mode_words(void)
{
	struct mem_report *m = sample();
	char *t;

	m->overhead_pct = 5;
	m->allocs = m->frees = 0;
	t = capture(m, false);
	T_ASSERT(strstr(t, "exact: the probes stayed on within --overhead 5 %: every allocator call traced (0 functions)"));
	T_ASSERT(strstr(t, "# no allocations seen in 2.0 s: the target called none of the 0 allocator functions probed"));
	free(t);
	t = capture(m, true);
	T_ASSERT(strstr(t, "\"requested\": \"overhead\",\n  \"exact\": true,"));
	free(t);
	profile__free(m->prof);
	return T_OK;
}

static int estimate(void)
{
	struct mem_report m = {};

	/* probes never went off: exact */
	mem_report__estimate(&m, true, 1, 2.9, 0, 0.1);
	T_ASSERT(m.exact && m.scale == 1 && m.share == 1 && !m.floor_only);
	/* work: 1 s while on (the probes cost 0.5 s more), 9 s off: 1 of 10 seen */
	memset(&m, 0, sizeof(m));
	mem_report__estimate(&m, false, 40, 1.0, 9.0, 0.5);
	T_ASSERT(!m.exact && !m.floor_only);
	T_ASSERT(NEAR(m.scale, 10.0) && NEAR(m.share, 0.1));
	T_ASSERT(NEAR(m.probe_x, 0.5) && NEAR(m.uncertainty, 0.05 + 0.35 * 0.5));
	T_ASSERT(NEAR(m.work_s, 10.0) && NEAR(m.cost_s, 0.5) && m.windows == 40);
	/* the probes cost 1.8x the work: still an estimate, +- 23 % */
	memset(&m, 0, sizeof(m));
	mem_report__estimate(&m, false, 10, 0.11, 9.9, 0.2);
	T_ASSERT(!m.floor_only && NEAR(m.scale, (0.11 + 9.9) / 0.11) && NEAR(m.uncertainty, 0.05 + 0.35 * 0.2 / 0.11));
	/* 2.2x: a floor */
	mem_report__estimate(&m, false, 10, 0.1, 9.9, 0.22);
	T_ASSERT(m.floor_only && m.uncertainty == 0);
	/* a storm: cost 20x the work; only a floor, scaled by the CPU time */
	memset(&m, 0, sizeof(m));
	mem_report__estimate(&m, false, 10, 0.01, 4.0, 0.2);
	T_ASSERT(m.floor_only && NEAR(m.share, 0.21 / 4.21) && NEAR(m.scale, 4.21 / 0.21));
	/* the probes' cost over the CPU time seen (a calibration off): a floor, never negative */
	memset(&m, 0, sizeof(m));
	mem_report__estimate(&m, false, 12, -0.05, 5.0, 0.15);
	T_ASSERT(m.floor_only && m.scale > 1 && m.probe_x == -1);
	/*
	 * 2 windows of a short run (Debian's python3.11 launched, seen: 46
	 * calls in the first, scaled to 2145 of 248 323): what they saw, unscaled
	 */
	memset(&m, 0, sizeof(m));
	mem_report__estimate(&m, false, 2, 0.004, 0.058, 0.001);
	T_ASSERT(m.floor_only && m.few_windows && m.scale == 1 && NEAR(m.share, 0.004 / 0.062));
	/* going back to an estimate clears the floor */
	mem_report__estimate(&m, false, 40, 1.0, 9.0, 0.5);
	T_ASSERT(!m.floor_only && NEAR(m.scale, 10.0));
	return T_OK;
}

static int table_estimates(void)
{
	struct mem_report *m = sample();
	char *t;

	mem_report__estimate(m, false, 40, 1.0, 9.0, 0.5);
	t = capture(m, false);
	T_ASSERT(strstr(t, "sampled: the probes saw 10.0 % of the target's work, in 40 windows; counts scaled up 10.0x, estimates +- 22 %"));
	T_ASSERT(strstr(t, "# ~4100 allocations"));
	free(t);
	t = capture(m, true);
	T_ASSERT(strstr(t, "\"exact\": false,\n  \"sampled_share\": 0.1000,\n  \"scale\": 10.0000,\n"));
	T_ASSERT(strstr(t, "\"estimate\": {\"floor_only\": false, \"uncertainty\": 0.2250, \"windows\": 40"));
	free(t);
	mem_report__estimate(m, false, 10, 0.01, 4.0, 0.2);
	t = capture(m, false);
	T_ASSERT(strstr(t, "counts are FLOORS"));
	T_ASSERT(strstr(t, "# >= 4100 allocations"));
	free(t);
	mem_report__estimate(m, false, 2, 0.004, 0.058, 0.001);
	t = capture(m, false);
	T_ASSERT(strstr(t, "in 2 windows, too few to scale by:\n# counts are FLOORS (what they saw)"));
	free(t);
	/* -p: most frees after the first seconds of blocks never seen allocated */
	m->check_late = true, m->late_frees = 5001, m->late_unseen = 5001;
	T_ASSERT(mem_report__late_unseen(m));
	t = capture(m, false);
	T_ASSERT(strstr(t, "counts may be INCOMPLETE: 5001 of the 5001 frees after the first 2 s"));
	free(t);
	t = capture(m, true);
	T_ASSERT(strstr(t, "\"incomplete\": true"));
	free(t);
	/* a few hundred, or under half: freeing what it made before is not news */
	m->late_unseen = 900;
	T_ASSERT(!mem_report__late_unseen(m));
	m->late_unseen = 2400;
	T_ASSERT(!mem_report__late_unseen(m));
	m->check_late = false, m->late_unseen = 5001;
	T_ASSERT(!mem_report__late_unseen(m));
	/* what -p cannot see in an optimised CPython, said in the table and the JSON */
	snprintf(m->py_inlined, sizeof(m->py_inlined), "python3.11");
	m->py_inlined_sites = 242;
	t = capture(m, false);
	T_ASSERT(strstr(t, "# python3.11 inlines CPython's object allocator into 242 call sites"));
	free(t);
	t = capture(m, true);
	T_ASSERT(strstr(t, "\"python_allocator_inlined\": 242,"));
	free(t);
	profile__free(m->prof);
	return T_OK;
}

/* how long a window stays on: ~1 ms of cost in a storm, ~3 ms elsewhere, within 1-20 ms */
static int window_length(void)
{
	T_ASSERT(fabs(mem_window_min_on(0.010, 0.010) - 0.001) < 1e-9);	/* a storm: cost = work */
	T_ASSERT(fabs(mem_window_min_on(0.005, 0.010) - 0.006) < 1e-9);	/* half: 3 ms of cost */
	T_ASSERT(fabs(mem_window_min_on(0.001, 0.010) - 0.020) < 1e-9);	/* calm: at most 20 ms */
	T_ASSERT(fabs(mem_window_min_on(0.200, 0.010) - 0.001) < 1e-9);	/* at least 1 ms */
	T_ASSERT(fabs(mem_window_min_on(0, 0.010) - 0.020) < 1e-9);	/* no calls at all */
	T_ASSERT(fabs(mem_window_min_on(0, 0) - 0.001) < 1e-9);		/* no window yet: as a storm */
	return T_OK;
}

/* on when the work has earned it, off past half of --overhead once on long enough */
static int budget_on_off(void)
{
	double forgone = 0;

	/* 10 s of work at 5 %: 0.25 s allowed, but only a second's worth (0.05 s) at once */
	T_ASSERT(mem_budget_decide(5, 10, 0, &forgone, false, 0, 0.001, false) == MEM_BUDGET_ON);
	T_ASSERT(fabs(forgone - 0.20) < 1e-9);
	T_ASSERT(mem_budget_decide(5, 10, 0, &forgone, false, 0, 0.001, true) == MEM_BUDGET_KEEP);
	T_ASSERT(mem_budget_decide(5, 10, 0.049, &forgone, true, 0.01, 0.001, false) == MEM_BUDGET_KEEP);
	/* past the second's worth: off, but not before the window's least length */
	T_ASSERT(mem_budget_decide(5, 10, 0.051, &forgone, true, 0.0005, 0.001, false) == MEM_BUDGET_KEEP);
	T_ASSERT(mem_budget_decide(5, 10, 0.051, &forgone, true, 0.002, 0.001, false) == MEM_BUDGET_OFF);
	/* off until the work earns it back: 0.05 s more work buys 0.00125 s */
	T_ASSERT(mem_budget_decide(5, 10, 0.051, &forgone, false, 0, 0.001, false) == MEM_BUDGET_KEEP);
	T_ASSERT(mem_budget_decide(5, 10.05, 0.051, &forgone, false, 0, 0.001, false) == MEM_BUDGET_ON);
	/* a target that fits the budget keeps the probes on */
	forgone = 0;
	T_ASSERT(mem_budget_decide(5, 1, 0.02, &forgone, true, 1, 0.001, false) == MEM_BUDGET_KEEP);
	return T_OK;
}

/*
 * --exact's floor of the slowdown, on the numbers of runs seen here (with
 * --debug, two seconds traced, HZ 250): the storm, whose rounds ran ~1000x
 * slower, says 14.0x; a workload with ~2 us of work a call, ~10x slower by
 * its own clock, 5.9x (its user share, 8.5 % of 500 ticks, may be 12.5 %)
 */
static int exact_floor(void)
{
	struct mem_rate storm = { .cpu = 2.006, .spent = 1.917, .user = 0.030, .base_user = 1.2, .base_sys = 0,
				  .tick = 0.01, .ktick = 0.004 };
	struct mem_rate paced = { .cpu = 2.006, .spent = 1.740, .user = 0.170, .base_user = 1.4, .base_sys = 0,
				  .tick = 0.01, .ktick = 0.004 };
	/* half its time in its own system calls: 0.2 s of user work and 0.2 of system, 2.5x */
	struct mem_rate sys = { .cpu = 1.0, .spent = 0.5, .user = 0.2, .base_user = 0.5, .base_sys = 0.5, .tick = 0.01,
				.ktick = 0.004 };
	/* one second traced, the share read at 1 % of 250 ticks: a floor of 9.5x, not 33x */
	struct mem_rate short_ = { .cpu = 1.003, .spent = 1.133, .user = 0.010, .base_user = 1.2, .base_sys = 0,
				   .tick = 0.01, .ktick = 0.004 };
	struct mem_rate cmd = storm;

	T_ASSERT(fabs(storm.cpu / mem_work_most(&storm) - 13.95) < 0.01);
	T_ASSERT(fabs(paced.cpu / mem_work_most(&paced) - 5.89) < 0.01);
	T_ASSERT(fabs(short_.cpu / mem_work_most(&short_) - 9.45) < 0.01);
	/* the share's error is the calibration's here: 1 / (1 - 0.7 x 0.5) */
	T_ASSERT(fabs(sys.cpu / mem_work_most(&sys) - 1 / 0.65) < 1e-9);
	/* an unknown tick is taken as HZ 100's: fewer ticks, a lower floor */
	paced.ktick = 0;
	T_ASSERT(paced.cpu / mem_work_most(&paced) < 5.89);
	/* a launched command: no untraced time, the calibration's low end only */
	cmd.base_user = cmd.user = -1;
	T_ASSERT(fabs(mem_work_most(&cmd) - (2.006 - 0.7 * 1.917)) < 1e-9);
	/* traps that cost nothing: no slowdown; traps over all its time: no work at all */
	cmd.spent = 0;
	T_ASSERT(mem_work_most(&cmd) == cmd.cpu);
	cmd.spent = 3;
	T_ASSERT(mem_work_most(&cmd) == 0);
	/* too little untraced time, or too little of it in user mode, to go by */
	storm.base_user = 0.1;
	T_ASSERT(fabs(mem_work_most(&storm) - (2.006 - 0.7 * 1.917)) < 1e-9);
	storm.base_user = 0.03, storm.base_sys = 1;
	T_ASSERT(fabs(mem_work_most(&storm) - (2.006 - 0.7 * 1.917)) < 1e-9);
	return T_OK;
}

/*
 * A site's bound from the interposer's samples holds however few they are:
 * n blocks of 100 bytes sampled at a mean of 10 000 (p = 1 - e^-0.01), as
 * the interposer weighs them, 2000 runs a size.  Its bound, 4 standard
 * deviations of the larger of the samples' variance and mem_least_var(),
 * misses the truth at most 3 times in 2000 (at 4 sigma a normal misses
 * 0.006 %; the Poisson counts of a few samples, more; 0 seen).  The
 * samples' variance alone misses a site of 2 intervals' bytes whenever it
 * has no sample, e^-2 = 13.5 % of the time.
 */
static int sampled_bounds(void)
{
	const double s = 100, mean = 10000, q = 1 - exp(-s / mean), w = s / q;
	const double sizes[] = { 0.5, 2, 8, 32, 128 };
	int k, run, i, n, miss, miss_own;

	srand48(1);
	for (k = 0; k < 5; k++) {
		double truth = sizes[k] * mean;

		n = (int)(truth / s);
		miss = miss_own = 0;
		for (run = 0; run < 2000; run++) {
			double est = 0, var = 0, b;

			for (i = 0; i < n; i++)
				if (drand48() < q) {
					est += w;
					var += w * w * (1 - q);
				}
			b = MEM_BOUND_SIGMAS * sqrt(fmax(var, mem_least_var(est, mean, 1e18)));
			miss += fabs(est - truth) > b;
			miss_own += fabs(est - truth) > MEM_BOUND_SIGMAS * sqrt(var);
		}
		T_ASSERT(miss <= 3);
		if (sizes[k] == 2)
			T_ASSERT(miss_own > 200);
	}
	/* none seen: 4 intervals either way; many: ~sqrt(E P) */
	T_ASSERT(fabs(sqrt(mem_least_var(0, mean, 1e18)) - 4 * mean) < 1e-6);
	T_ASSERT(fabs(sqrt(mem_least_var(1e10, mean, 1e18)) / sqrt(1e10 * mean) - 1) < 0.03);
	/* no site holds more than the run's total: a site that is all of it is exact */
	T_ASSERT(mem_least_var(5e5, mean, 5e5) == 0);
	T_ASSERT(fabs(sqrt(mem_least_var(1e5, mean, 1.5e5)) - 5e4 / 4) < 1e-6);
	return T_OK;
}

/* mem_render_lines()'s text, or NULL when it fails */
static char *lines_of(const struct mem_report *m, const char *func)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f)
		return NULL;
	err = mem_render_lines(m->prof, func, 5, f);
	fclose(f);
	if (err) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * --lines: a function's lines with what the allocations made while each
 * ran did; a stack counts once a function (recursion), on its innermost
 * line; the callers' lines carry their callees' allocations
 */
static int lines_report(void)
{
	static const char src[] = "def work():\n    a = [0] * 10\n    b = helper()\n    return a, b\n\n"
				  "def helper():\n    return bytes(100)\n";
	char path[] = "/tmp/ebprof-test-lines-XXXXXX", *t;
	struct mem_report *m = calloc(1, sizeof(*m));
	int fd = mkstemp(path), work, helper, w2, w3, h7;
	uint32_t s1[1], s2[3];

	T_ASSERT(fd >= 0 && write(fd, src, sizeof(src) - 1) == (ssize_t)sizeof(src) - 1);
	close(fd);
	m->prof = profile__new();
	m->prof->ext = m;
	m->prof->ext_free = mem_report__free;
	m->exact = true;
	m->rss_peak_kib = 2048;
	work = profile__py_func(m->prof, "work", path, 1, 0);
	helper = profile__py_func(m->prof, "helper", path, 6, 0);
	w2 = profile__line_frame(m->prof, work, "work (x.py:2)", 2);
	w3 = profile__line_frame(m->prof, work, "work (x.py:3)", 3);
	h7 = profile__line_frame(m->prof, helper, "helper (x.py:7)", 7);
	T_ASSERT(work >= 0 && helper >= 0 && w2 >= 0 && w3 >= 0 && h7 >= 0);
	s1[0] = w2;
	s2[0] = w3, s2[1] = h7, s2[2] = h7;	/* helper twice: counted once */
	m->sites = calloc(2, sizeof(*m->sites));
	m->nsites = 2;
	m->sites[0].frames = malloc(sizeof(s1));
	memcpy(m->sites[0].frames, s1, sizeof(s1));
	m->sites[0].nframes = 1;
	m->sites[0].allocs = 1, m->sites[0].bytes = 136, m->sites[0].out_bytes = 136;
	m->sites[1].frames = malloc(sizeof(s2));
	memcpy(m->sites[1].frames, s2, sizeof(s2));
	m->sites[1].nframes = 3;
	m->sites[1].allocs = 2, m->sites[1].bytes = 266, m->sites[1].faults = 3;
	profile__finish(m->prof);
	t = lines_of(m, NULL);
	T_ASSERT(t);
	/* work first (402 bytes, its own and helper's), then helper (266) */
	T_ASSERT(strstr(t, "Function: work") && strstr(t, "Function: helper"));
	T_ASSERT(strstr(t, "Function: work") < strstr(t, "Function: helper"));
	T_ASSERT(strstr(t, "Total: 402 B allocated in 3 allocations, 136 B still held at the end, 3 pages first touched; peak RSS 2.0 MiB\n"));
	T_ASSERT(strstr(t, "     2       136 B       136 B         1       0      a = [0] * 10\n"));
	T_ASSERT(strstr(t, "     3       266 B         0 B         2       3      b = helper()\n"));
	T_ASSERT(strstr(t, "     4                                                return a, b\n"));
	T_ASSERT(strstr(t, "     7       266 B         0 B         2       3      return bytes(100)\n"));
	free(t);
	/* one function by name; none: -ENOENT */
	t = lines_of(m, "helper");
	T_ASSERT(t && !strstr(t, "Function: work") && strstr(t, "Function: helper"));
	free(t);
	T_ASSERT(!lines_of(m, "nothere"));
	unlink(path);
	profile__free(m->prof);
	return T_OK;
}

T_MAIN("mem", T(json), T(table), T(generic_formats), T(default_mode_words), T(estimate), T(table_estimates), T(window_length), T(budget_on_off),
       T(exact_floor), T(sampled_bounds), T(lines_report))
