// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ebprof stat's math and output on fixed counter values. */
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "t.h"
#include "stat.h"

#define NEAR(a, b, eps) (fabs((a) - (b)) <= (eps))

static int scaling(void)
{
	/* counted half the time it was enabled: perf doubles it */
	struct stat_read half = { 1000, 200, 100 }, full = { 777, 50, 50 }, never = { 0, 80, 0 };
	struct stat_read idle = { 0, 0, 0 };	/* a task that never ran while counted */
	double v, pct;

	T_ASSERT(stat_scale(&half, &v, &pct) && NEAR(v, 2000, 1e-9) && NEAR(pct, 50, 1e-9));
	T_ASSERT(stat_scale(&full, &v, &pct) && v == 777 && pct == 100);
	T_ASSERT(!stat_scale(&never, &v, &pct) && v == 0 && pct == 0);
	T_ASSERT(stat_scale(&idle, &v, &pct) && v == 0 && pct == 100);
	return T_OK;
}

static int mean_and_spread(void)
{
	const double v[] = { 10, 12, 14 }, one[] = { 5 }, same[] = { 3, 3, 3, 3 };
	double m, rel;

	/* sample sd 2, sd of the mean 2 / sqrt(3): 9.6225 % of 12 */
	stat_mean_rel_stddev(v, 3, &m, &rel);
	T_ASSERT(NEAR(m, 12, 1e-12) && NEAR(rel, 100.0 * 2 / sqrt(3) / 12, 1e-9));
	stat_mean_rel_stddev(one, 1, &m, &rel);
	T_ASSERT(m == 5 && rel == 0);
	stat_mean_rel_stddev(same, 4, &m, &rel);
	T_ASSERT(m == 3 && rel == 0);
	return T_OK;
}

static struct stat_row *add(struct stat_result *r, const char *name, double v, double pct)
{
	struct stat_row *row = &r->rows[r->nrows++];

	row->ev = stat_event_find(name);
	row->supported = true;
	row->counted = true;
	row->value = v;
	row->pct = pct;
	return row;
}

/* counter values with multiplexing, in the shape a PMU gives them */
static void recorded(struct stat_result *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->target, sizeof(r->target), "'./prog'");
	r->runs = 1;
	r->command = true;
	add(r, "task-clock", 1503.25, 100);
	add(r, "cycles", 5162347722.0, 66.52);
	add(r, "instructions", 12648121907.0, 83.25);
	add(r, "branches", 2011540201.0, 83.25);
	add(r, "branch-misses", 10250380.0, 83.25);
	add(r, "cache-references", 72511309.0, 83.24);
	add(r, "cache-misses", 11602133.0, 66.75);
	add(r, "context-switches", 150, 100);
	add(r, "wall-time", 1.5046, 100);
	add(r, "user-time", 1.45, 100);
	add(r, "system-time", 0.05, 100);
	r->rows[r->nrows].ev = stat_event_find("stalled-cycles-frontend");
	r->nrows++;	/* not supported */
}

static int notes(void)
{
	struct stat_result r;
	char buf[128];

	recorded(&r);
	stat_note(&r, stat_row(&r, "instructions"), buf, sizeof(buf));
	T_ASSERT_STR(buf, "    2.45 insn per cycle");	/* 12648121907 / 5162347722 */
	stat_note(&r, stat_row(&r, "branch-misses"), buf, sizeof(buf));
	T_ASSERT_STR(buf, "   0.51% of all branches");
	stat_note(&r, stat_row(&r, "cache-misses"), buf, sizeof(buf));
	T_ASSERT_STR(buf, "  16.00% of all cache refs");
	stat_note(&r, stat_row(&r, "task-clock"), buf, sizeof(buf));
	T_ASSERT_STR(buf, "   0.999 CPUs utilized");
	stat_note(&r, stat_row(&r, "cycles"), buf, sizeof(buf));
	T_ASSERT_STR(buf, "   3.434 GHz");
	stat_note(&r, stat_row(&r, "context-switches"), buf, sizeof(buf));
	T_ASSERT_STR(buf, "  99.784 /sec");
	stat_note(&r, stat_row(&r, "stalled-cycles-frontend"), buf, sizeof(buf));
	T_ASSERT_STR(buf, "");
	return T_OK;
}

static char *capture(const struct stat_result *r, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (json)
		stat_render_json(r, f, NULL, NULL);
	else
		stat_render_table(r, f);
	fclose(f);
	return buf;
}

static int table(void)
{
	struct stat_result r;
	char *t;

	recorded(&r);
	t = capture(&r, false);
	T_ASSERT(strstr(t, " Performance counter stats for './prog':"));
	T_ASSERT(strstr(t, "          1,503.25 msec  task-clock                   #    0.999 CPUs utilized"));
	/* multiplexed: the share of time counted, as perf shows it */
	T_ASSERT(strstr(t, "      12,648,121,907       instructions                 #     2.45 insn per cycle          (83.25%)\n"));
	T_ASSERT(strstr(t, "     <not supported>       stalled-cycles-frontend\n"));
	T_ASSERT(strstr(t, "        1.504600000 seconds time elapsed\n"));
	T_ASSERT(strstr(t, "        1.450000000 seconds user\n"));
	T_ASSERT(strstr(t, "the command exited with status 0"));
	free(t);
	return T_OK;
}

static int json(void)
{
	struct stat_result r;
	struct stat_row *row;
	char *t;

	recorded(&r);
	r.runs = 3;
	row = (struct stat_row *)stat_row(&r, "context-switches");
	row->nruns = 3;
	row->runs[0] = 140, row->runs[1] = 150, row->runs[2] = 160;
	stat_mean_rel_stddev(row->runs, 3, &row->value, &row->rel_stddev);
	t = capture(&r, true);
	T_ASSERT(strstr(t, "\"mode\": \"stat\""));
	T_ASSERT(strstr(t, "\"runs\": 3"));
	T_ASSERT(strstr(t, "\"stalled-cycles-frontend\": {\"value\": null, \"unit\": \"\", \"supported\": false"));
	T_ASSERT(strstr(t, "\"context-switches\": {\"value\": 150, \"unit\": \"\", \"supported\": true, \"counted_pct\": 100.00, \"note\": \"99.784 /sec\", \"stddev_pct\": 3.8490, \"runs\": [140, 150, 160]}"));
	T_ASSERT(strstr(t, "\"instructions\": {\"value\": 12648121907, \"unit\": \"\", \"supported\": true, \"counted_pct\": 83.25, \"note\": \"2.45 insn per cycle\""));
	free(t);
	return T_OK;
}

static void put(const char *root, const char *path, const char *text)
{
	char full[512], *slash;
	FILE *f;

	snprintf(full, sizeof(full), "%s/%s", root, path);
	for (slash = strchr(full + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = 0;
		mkdir(full, 0755);
		*slash = '/';
	}
	f = fopen(full, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int environment(void)
{
	char bad[] = "/tmp/ebprof-env-XXXXXX", good[] = "/tmp/ebprof-env-XXXXXX", lines[8][256], cmd[128];
	int n;

	T_ASSERT(mkdtemp(bad) && mkdtemp(good));
	put(bad, "sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "performance\n");
	put(bad, "sys/devices/system/cpu/cpu1/cpufreq/scaling_governor", "powersave\n");
	put(bad, "sys/devices/system/cpu/intel_pstate/no_turbo", "0\n");
	put(bad, "sys/class/power_supply/AC/type", "Mains\n");
	put(bad, "sys/class/power_supply/AC/online", "0\n");
	n = stat_env_warnings(bad, lines, 8);
	T_ASSERT(n == 3);
	T_ASSERT(strstr(lines[0], "governor is 'powersave' on 1 of 2 CPUs"));
	T_ASSERT(strstr(lines[1], "turbo boost is on"));
	T_ASSERT(strstr(lines[2], "running on battery (AC is offline)"));

	put(good, "sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "performance\n");
	put(good, "sys/devices/system/cpu/intel_pstate/no_turbo", "1\n");
	put(good, "sys/class/power_supply/AC/type", "Mains\n");
	put(good, "sys/class/power_supply/AC/online", "1\n");
	put(good, "sys/class/power_supply/BAT0/type", "Battery\n");
	put(good, "sys/class/power_supply/BAT0/status", "Charging\n");
	T_ASSERT(stat_env_warnings(good, lines, 8) == 0);
	/* a VM: no cpufreq, no power supply */
	T_ASSERT(stat_env_warnings("/nonexistent", lines, 8) == 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", bad, good);
	T_ASSERT(system(cmd) == 0);
	return T_OK;
}

static int busy_cpus(void)
{
	/* 100 jiffies passed on all CPUs, 60 of them busy (user+nice+system+irq+softirq+steal) */
	const char *a = "cpu  1000 0 500 8000 100 0 0 0 0 0\n";
	const char *b = "cpu  1040 0 515 8035 105 0 5 0 0 0\n";

	T_ASSERT(NEAR(stat_busy_cpus(a, b), 0.60, 1e-9));
	T_ASSERT(stat_busy_cpus(b, a) == 0);
	T_ASSERT(stat_busy_cpus("garbage", b) == 0);
	return T_OK;
}

static int event_names(void)
{
	const struct stat_event *d[32];
	size_t n = stat_default_events(d, 32), i;

	T_ASSERT(n == 16);
	for (i = 0; i < n; i++)
		T_ASSERT(d[i]);
	T_ASSERT(stat_event_find("cs") == stat_event_find("context-switches"));
	T_ASSERT(stat_event_find("faults") == stat_event_find("page-faults"));
	T_ASSERT(stat_event_find("branch-instructions") == stat_event_find("branches"));
	T_ASSERT(stat_event_find("LLC-load-misses")->hardware);
	T_ASSERT(!stat_event_find("minor-faults")->hardware);
	T_ASSERT(!stat_event_find("nope"));
	T_ASSERT(stat_pseudo_events(d, 32) == 6);
	return T_OK;
}

T_MAIN("stat", T(scaling), T(mean_and_spread), T(notes), T(table), T(json), T(environment),
       T(busy_cpus), T(event_names))
