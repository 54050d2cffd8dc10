// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * stat_report.c - ebprof stat's events, math and output, with no process
 * or perf event in sight.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "stat.h"
#include "util/json.h"

#define HW PERF_TYPE_HARDWARE
#define SW PERF_TYPE_SOFTWARE
#define HC PERF_TYPE_HW_CACHE
#define CACHE(id, op, res) ((id) | ((op) << 8) | ((res) << 16))

static const struct stat_event events[] = {
	{ "wall-time", "time", STAT_PSEUDO, STAT_WALL, "seconds", false },
	{ "user-time", NULL, STAT_PSEUDO, STAT_USER, "seconds", false },
	{ "system-time", "sys-time", STAT_PSEUDO, STAT_SYS, "seconds", false },
	{ "task-clock", NULL, SW, PERF_COUNT_SW_TASK_CLOCK, "msec", false },
	{ "context-switches", "cs", SW, PERF_COUNT_SW_CONTEXT_SWITCHES, "", false },
	{ "voluntary-context-switches", NULL, STAT_PSEUDO, STAT_VCSW, "", false },
	{ "involuntary-context-switches", NULL, STAT_PSEUDO, STAT_IVCSW, "", false },
	{ "cpu-migrations", "migrations", SW, PERF_COUNT_SW_CPU_MIGRATIONS, "", false },
	{ "page-faults", "faults", SW, PERF_COUNT_SW_PAGE_FAULTS, "", false },
	{ "minor-faults", NULL, SW, PERF_COUNT_SW_PAGE_FAULTS_MIN, "", false },
	{ "major-faults", NULL, SW, PERF_COUNT_SW_PAGE_FAULTS_MAJ, "", false },
	{ "max-rss", NULL, STAT_PSEUDO, STAT_MAXRSS, "KiB", false },
	{ "cpu-clock", NULL, SW, PERF_COUNT_SW_CPU_CLOCK, "msec", false },
	{ "cycles", "cpu-cycles", HW, PERF_COUNT_HW_CPU_CYCLES, "", true },
	{ "instructions", NULL, HW, PERF_COUNT_HW_INSTRUCTIONS, "", true },
	{ "stalled-cycles-frontend", "idle-cycles-frontend", HW, PERF_COUNT_HW_STALLED_CYCLES_FRONTEND, "", true },
	{ "stalled-cycles-backend", "idle-cycles-backend", HW, PERF_COUNT_HW_STALLED_CYCLES_BACKEND, "", true },
	{ "branches", "branch-instructions", HW, PERF_COUNT_HW_BRANCH_INSTRUCTIONS, "", true },
	{ "branch-misses", NULL, HW, PERF_COUNT_HW_BRANCH_MISSES, "", true },
	{ "cache-references", NULL, HW, PERF_COUNT_HW_CACHE_REFERENCES, "", true },
	{ "cache-misses", NULL, HW, PERF_COUNT_HW_CACHE_MISSES, "", true },
	{ "bus-cycles", NULL, HW, PERF_COUNT_HW_BUS_CYCLES, "", true },
	{ "ref-cycles", NULL, HW, PERF_COUNT_HW_REF_CPU_CYCLES, "", true },
	{ "L1-dcache-loads", NULL, HC, CACHE(PERF_COUNT_HW_CACHE_L1D, PERF_COUNT_HW_CACHE_OP_READ, PERF_COUNT_HW_CACHE_RESULT_ACCESS), "", true },
	{ "L1-dcache-load-misses", NULL, HC, CACHE(PERF_COUNT_HW_CACHE_L1D, PERF_COUNT_HW_CACHE_OP_READ, PERF_COUNT_HW_CACHE_RESULT_MISS), "", true },
	{ "L1-icache-load-misses", NULL, HC, CACHE(PERF_COUNT_HW_CACHE_L1I, PERF_COUNT_HW_CACHE_OP_READ, PERF_COUNT_HW_CACHE_RESULT_MISS), "", true },
	{ "LLC-loads", NULL, HC, CACHE(PERF_COUNT_HW_CACHE_LL, PERF_COUNT_HW_CACHE_OP_READ, PERF_COUNT_HW_CACHE_RESULT_ACCESS), "", true },
	{ "LLC-load-misses", NULL, HC, CACHE(PERF_COUNT_HW_CACHE_LL, PERF_COUNT_HW_CACHE_OP_READ, PERF_COUNT_HW_CACHE_RESULT_MISS), "", true },
	{ "dTLB-load-misses", NULL, HC, CACHE(PERF_COUNT_HW_CACHE_DTLB, PERF_COUNT_HW_CACHE_OP_READ, PERF_COUNT_HW_CACHE_RESULT_MISS), "", true },
	{ "iTLB-load-misses", NULL, HC, CACHE(PERF_COUNT_HW_CACHE_ITLB, PERF_COUNT_HW_CACHE_OP_READ, PERF_COUNT_HW_CACHE_RESULT_MISS), "", true },
};

#define NEVENTS (sizeof(events) / sizeof(events[0]))

const struct stat_event *stat_event_find(const char *name)
{
	size_t i;

	for (i = 0; i < NEVENTS; i++)
		if (!strcmp(events[i].name, name) || (events[i].alias && !strcmp(events[i].alias, name)))
			return &events[i];
	return NULL;
}

size_t stat_default_events(const struct stat_event **out, size_t max)
{
	static const char *const names[] = {
		"task-clock", "context-switches", "cpu-migrations", "page-faults", "minor-faults",
		"major-faults", "cycles", "instructions", "stalled-cycles-frontend",
		"stalled-cycles-backend", "branches", "branch-misses", "cache-references",
		"cache-misses", "L1-dcache-load-misses", "LLC-load-misses",
	};
	size_t i, n = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]) && n < max; i++)
		out[n++] = stat_event_find(names[i]);
	return n;
}

size_t stat_pseudo_events(const struct stat_event **out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < NEVENTS && n < max; i++)
		if (events[i].type == STAT_PSEUDO)
			out[n++] = &events[i];
	return n;
}

bool stat_scale(const struct stat_read *r, double *value, double *pct)
{
	/* a task's counter runs while the task does: one that never ran counted 0 */
	if (!r->enabled) {
		*value = (double)r->value;
		*pct = 100.0;
		return true;
	}
	if (!r->running) {
		*value = 0;
		*pct = 0;
		return false;
	}
	if (r->running >= r->enabled) {
		*value = (double)r->value;
		*pct = 100.0;
		return true;
	}
	*value = (double)r->value * (double)r->enabled / (double)r->running;
	*pct = 100.0 * (double)r->running / (double)r->enabled;
	return true;
}

void stat_mean_rel_stddev(const double *v, int n, double *mean, double *rel_stddev)
{
	double sum = 0, m2 = 0;
	int i;

	*mean = 0;
	*rel_stddev = 0;
	if (n <= 0)
		return;
	for (i = 0; i < n; i++)
		sum += v[i];
	*mean = sum / n;
	if (n < 2 || *mean == 0)
		return;
	for (i = 0; i < n; i++)
		m2 += (v[i] - *mean) * (v[i] - *mean);
	/* perf's stddev_stats(): the sample variance over n, square-rooted */
	*rel_stddev = 100.0 * sqrt(m2 / (n - 1) / n) / fabs(*mean);
}

const struct stat_row *stat_row(const struct stat_result *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nrows; i++)
		if (!strcmp(r->rows[i].ev->name, name))
			return &r->rows[i];
	return NULL;
}

/* the value of a counted row, or NAN */
static double val(const struct stat_result *r, const char *name)
{
	const struct stat_row *row = stat_row(r, name);

	return row && row->counted ? row->value : NAN;
}

static bool ratio(double a, double b, double *out)
{
	if (isnan(a) || isnan(b) || b <= 0)
		return false;
	*out = a / b;
	return true;
}

void stat_note(const struct stat_result *r, const struct stat_row *row, char *buf, size_t len)
{
	const char *n = row->ev->name;
	double x, tc_s = val(r, "task-clock") / 1000.0;

	buf[0] = 0;
	if (!row->counted)
		return;
	if (!strcmp(n, "task-clock")) {
		if (ratio(row->value / 1000.0, val(r, "wall-time"), &x))
			snprintf(buf, len, "%8.3f CPUs utilized", x);
	} else if (!strcmp(n, "cycles")) {
		if (ratio(row->value, tc_s * 1e9, &x))
			snprintf(buf, len, "%8.3f GHz", x);
	} else if (!strcmp(n, "instructions")) {
		if (ratio(row->value, val(r, "cycles"), &x))
			snprintf(buf, len, "%8.2f insn per cycle", x);
	} else if (!strcmp(n, "stalled-cycles-frontend") || !strcmp(n, "stalled-cycles-backend")) {
		if (ratio(row->value, val(r, "cycles"), &x))
			snprintf(buf, len, "%7.2f%% %s cycles idle", 100 * x, n[15] == 'f' ? "frontend" : "backend");
	} else if (!strcmp(n, "branch-misses")) {
		if (ratio(row->value, val(r, "branches"), &x))
			snprintf(buf, len, "%7.2f%% of all branches", 100 * x);
	} else if (!strcmp(n, "cache-misses")) {
		if (ratio(row->value, val(r, "cache-references"), &x))
			snprintf(buf, len, "%7.2f%% of all cache refs", 100 * x);
	} else if (!strcmp(n, "L1-dcache-load-misses")) {
		if (ratio(row->value, val(r, "L1-dcache-loads"), &x))
			snprintf(buf, len, "%7.2f%% of all L1-dcache accesses", 100 * x);
	} else if (!strcmp(n, "LLC-load-misses")) {
		if (ratio(row->value, val(r, "LLC-loads"), &x))
			snprintf(buf, len, "%7.2f%% of all LL-cache accesses", 100 * x);
	} else if (row->ev->type == PERF_TYPE_SOFTWARE && strcmp(n, "cpu-clock")) {
		if (ratio(row->value, tc_s, &x))
			snprintf(buf, len, "%8.3f %s/sec", x >= 1e6 ? x / 1e6 : x >= 1e3 ? x / 1e3 : x,
				 x >= 1e6 ? "M" : x >= 1e3 ? "K" : "");
	}
}

/* 1234567.8 -> "1,234,568"; msec values keep 2 decimals */
static void grouped(double v, int decimals, char *buf, size_t len)
{
	char digits[64], *dot;
	size_t n, i, o = 0, lead;

	snprintf(digits, sizeof(digits), "%.*f", decimals, v);
	dot = strchr(digits, '.');
	n = dot ? (size_t)(dot - digits) : strlen(digits);
	lead = digits[0] == '-' ? 1 : 0;
	for (i = 0; i < n && o + 2 < len; i++) {
		if (i > lead && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = 0;
	if (dot)
		snprintf(buf + o, len - o, "%s", dot);
}

static void row_line(const struct stat_result *r, const struct stat_row *row, FILE *out)
{
	char v[64], note[96], buf[256];
	size_t line;
	const struct stat_event *ev = row->ev;

	if (!row->supported) {
		fprintf(out, "  %18s %-5s %s\n", "<not supported>", "", ev->name);
		return;
	}
	if (!row->counted) {
		fprintf(out, "  %18s %-5s %s\n", "<not counted>", "", ev->name);
		return;
	}
	grouped(row->value, !strcmp(ev->unit, "msec") ? 2 : 0, v, sizeof(v));
	stat_note(r, row, note, sizeof(note));
	line = snprintf(buf, sizeof(buf), "  %18s %-5s %-28s", v,
			!strcmp(ev->unit, "msec") || !strcmp(ev->unit, "KiB") ? ev->unit : "", ev->name);
	if (note[0])
		line += snprintf(buf + line, sizeof(buf) - line, " # %-32s", note);
	if (r->runs > 1)
		line += snprintf(buf + line, sizeof(buf) - line, " ( +- %5.2f%% )", row->rel_stddev);
	if (row->pct < 99.995)
		snprintf(buf + line, sizeof(buf) - line, " (%.2f%%)", row->pct);
	/* no trailing blanks */
	for (line = strlen(buf); line > 0 && buf[line - 1] == ' '; line--)
		buf[line - 1] = 0;
	fprintf(out, "%s\n", buf);
}

void stat_render_table(const struct stat_result *r, FILE *out)
{
	const struct stat_row *wall = stat_row(r, "wall-time"), *user = stat_row(r, "user-time");
	const struct stat_row *sys = stat_row(r, "system-time");
	size_t i;

	fprintf(out, "\n Performance counter stats for %s", r->target);
	if (r->runs > 1)
		fprintf(out, " (%d runs)", r->runs);
	fputs(":\n\n", out);
	for (i = 0; i < r->nrows; i++) {
		const struct stat_row *row = &r->rows[i];

		if (row->ev->type == STAT_PSEUDO && row->ev->config <= STAT_SYS)
			continue;	/* the time lines come last, as perf prints them */
		row_line(r, row, out);
	}
	fputc('\n', out);
	if (wall && wall->counted) {
		fprintf(out, "  %18.9f seconds time elapsed", wall->value);
		if (r->runs > 1)
			fprintf(out, "  ( +- %5.2f%% )", wall->rel_stddev);
		fputc('\n', out);
	}
	if (user && user->counted)
		fprintf(out, "\n  %18.9f seconds user\n", user->value);
	if (sys && sys->counted)
		fprintf(out, "  %18.9f seconds sys\n", sys->value);
	if (r->command && r->runs > 1 && !r->failed)
		fprintf(out, "\n  all %d runs exited with status 0\n", r->runs);
	else if (r->command && r->runs > 1)
		fprintf(out, "\n  %d of %d runs failed; the last failing one exited with status %d\n", r->failed,
			r->runs, r->status);
	else if (r->command)
		fprintf(out, "\n  the command exited with status %d\n", r->status);
	if (r->attach)
		fputs("\n  (max-rss is the process's peak since it started)\n", out);
}

void stat_render_json(const struct stat_result *r, FILE *out, void (*extra)(void *ctx, FILE *out),
		      void *ctx)
{
	size_t i;
	int k;

	fputs("{\n  \"version\": 1,\n  \"mode\": \"stat\",\n  \"target\": ", out);
	json_str(out, r->target);
	fprintf(out, ",\n  \"runs\": %d", r->runs);
	if (r->command)
		fprintf(out, ",\n  \"exit_status\": %d,\n  \"failed_runs\": %d", r->status, r->failed);
	fputs(",\n  \"events\": {", out);
	for (i = 0; i < r->nrows; i++) {
		const struct stat_row *row = &r->rows[i];
		char note[96];

		fputs(i ? ",\n    " : "\n    ", out);
		json_str(out, row->ev->name);
		fputs(": {\"value\": ", out);
		if (row->counted)
			fprintf(out, "%.17g", row->value);
		else
			fputs("null", out);
		fputs(", \"unit\": ", out);
		json_str(out, row->ev->unit);
		fprintf(out, ", \"supported\": %s", row->supported ? "true" : "false");
		if (row->counted) {
			fprintf(out, ", \"counted_pct\": %.2f", row->pct);
			stat_note(r, row, note, sizeof(note));
			if (note[0]) {
				char *p = note;

				while (*p == ' ')
					p++;
				fputs(", \"note\": ", out);
				json_str(out, p);
			}
		}
		if (r->runs > 1) {
			fprintf(out, ", \"stddev_pct\": %.4f, \"runs\": [", row->rel_stddev);
			for (k = 0; k < row->nruns; k++)
				fprintf(out, "%s%.17g", k ? ", " : "", row->runs[k]);
			fputc(']', out);
		}
		fputc('}', out);
	}
	fputs("\n  }", out);
	if (extra) {
		fputs(",\n", out);
		extra(ctx, out);
	}
	fputs("\n}\n", out);
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	char *nl;

	if (!f)
		return -errno;
	if (!fgets(buf, len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = 0;
	return 0;
}

int stat_env_warnings(const char *root, char lines[][256], int max)
{
	char path[512], buf[128], gov[64] = "";
	int n = 0, cpus = 0, other = 0;
	struct dirent *de;
	DIR *d;

	/* the frequency governor of each CPU */
	snprintf(path, sizeof(path), "%s/sys/devices/system/cpu", root);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "cpu", 3) || de->d_name[3] < '0' || de->d_name[3] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/sys/devices/system/cpu/%s/cpufreq/scaling_governor", root,
			 de->d_name);
		if (read_line(path, buf, sizeof(buf)))
			continue;
		cpus++;
		if (strcmp(buf, "performance")) {
			other++;
			snprintf(gov, sizeof(gov), "%.60s", buf);
		}
	}
	if (d)
		closedir(d);
	if (other && n < max)
		snprintf(lines[n++], 256, "the CPU frequency governor is '%s' on %d of %d CPUs, not 'performance': the clock changes under the workload (cpupower frequency-set -g performance)",
			 gov, other, cpus);

	/* turbo */
	snprintf(path, sizeof(path), "%s/sys/devices/system/cpu/intel_pstate/no_turbo", root);
	if (!read_line(path, buf, sizeof(buf)) && !strcmp(buf, "0") && n < max)
		snprintf(lines[n++], 256, "turbo boost is on: the clock depends on temperature and load (echo 1 > /sys/devices/system/cpu/intel_pstate/no_turbo)");
	snprintf(path, sizeof(path), "%s/sys/devices/system/cpu/cpufreq/boost", root);
	if (!read_line(path, buf, sizeof(buf)) && !strcmp(buf, "1") && n < max)
		snprintf(lines[n++], 256, "CPU boost is on: the clock depends on temperature and load (echo 0 > /sys/devices/system/cpu/cpufreq/boost)");

	/* on battery: a mains supply offline, or a battery discharging */
	snprintf(path, sizeof(path), "%s/sys/class/power_supply", root);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		char type[32];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/sys/class/power_supply/%s/type", root, de->d_name);
		if (read_line(path, type, sizeof(type)))
			continue;
		if (!strcmp(type, "Mains")) {
			snprintf(path, sizeof(path), "%s/sys/class/power_supply/%s/online", root, de->d_name);
			if (!read_line(path, buf, sizeof(buf)) && !strcmp(buf, "0") && n < max) {
				snprintf(lines[n++], 256, "running on battery (%.64s is offline): power saving slows the CPU", de->d_name);
				break;
			}
		} else if (!strcmp(type, "Battery")) {
			snprintf(path, sizeof(path), "%s/sys/class/power_supply/%s/status", root, de->d_name);
			if (!read_line(path, buf, sizeof(buf)) && !strcmp(buf, "Discharging") && n < max) {
				snprintf(lines[n++], 256, "running on battery (%.64s is discharging): power saving slows the CPU", de->d_name);
				break;
			}
		}
	}
	if (d)
		closedir(d);
	return n;
}

/* "cpu  user nice system idle iowait irq softirq steal ...": busy and total jiffies */
static bool cpu_line(const char *l, double *busy, double *total)
{
	unsigned long long v[10] = {};
	int n, i;

	n = sscanf(l, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
	if (n < 4)
		return false;
	*total = 0;
	/* guest time is already in user and nice */
	for (i = 0; i < n && i < 8; i++)
		*total += v[i];
	*busy = *total - v[3] - (n > 4 ? v[4] : 0);
	return true;
}

double stat_busy_cpus(const char *before, const char *after)
{
	double b0, t0, b1, t1, ncpu_share;

	if (!cpu_line(before, &b0, &t0) || !cpu_line(after, &b1, &t1) || t1 <= t0)
		return 0;
	/* all CPUs' jiffies: busy share times the CPUs there are */
	ncpu_share = (b1 - b0) / (t1 - t0);
	return ncpu_share;
}
