// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "cli.h"

#define ARGV(...) ((char *[]){ "ebprof", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "ebprof", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, ...) cli_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), o)

static int defaults(void)
{
	struct ebprof_opts o;

	T_ASSERT(PARSE(&o, "-p", "42") == 0);
	T_ASSERT(o.npids == 1 && o.pids[0] == 42);
	T_ASSERT(o.freq == 99 && o.duration == 0 && o.rows == 25);
	T_ASSERT(o.format == FORMAT_TABLE && !o.output);
	T_ASSERT_STR(o.event.name, "cpu-clock");
	T_ASSERT(o.event.timer);
	return T_OK;
}

static int full_line(void)
{
	struct ebprof_opts o;

	T_ASSERT(PARSE(&o, "cpu", "-p", "1,2,3", "-F", "999", "-d", "2.5", "-o", "x.svg",
		       "--no-kernel", "--per-thread", "-n", "0", "--map-size", "4096") == 0);
	T_ASSERT(o.npids == 3 && o.pids[2] == 3);
	T_ASSERT(o.freq == 999 && o.duration == 2.5);
	T_ASSERT(o.format == FORMAT_SVG);
	T_ASSERT(o.no_kernel && o.per_thread && o.rows == 0 && o.map_size == 4096);
	/* --format wins over the extension */
	T_ASSERT(PARSE(&o, "-a", "-o", "x.svg", "--format", "json") == 0);
	T_ASSERT(o.all && o.format == FORMAT_JSON);
	return T_OK;
}

static int command(void)
{
	struct ebprof_opts o;

	char *argv1[] = { "ebprof", "-F", "50", "--", "ls", "-l", "-a", NULL };
	char *argv2[] = { "ebprof", "python3", "-p", "x", NULL };

	T_ASSERT(cli_parse(7, argv1, &o) == 0);
	T_ASSERT(o.cmd && !strcmp(o.cmd[0], "ls") && !strcmp(o.cmd[1], "-l") && !strcmp(o.cmd[2], "-a"));
	T_ASSERT(!o.cmd[3]);
	/* options after the command belong to it */
	T_ASSERT(cli_parse(4, argv2, &o) == 0);
	T_ASSERT(!strcmp(o.cmd[0], "python3") && o.npids == 0);
	return T_OK;
}

static int events(void)
{
	struct ebprof_event_spec ev;

	T_ASSERT(!cli_parse_event("page-faults", &ev));
	T_ASSERT(ev.type == PERF_TYPE_SOFTWARE && ev.config == PERF_COUNT_SW_PAGE_FAULTS && !ev.period);
	T_ASSERT(!cli_parse_event("context-switches/10", &ev));
	T_ASSERT(ev.period == 10);
	T_ASSERT(!cli_parse_event("cycles", &ev) && ev.type == PERF_TYPE_HARDWARE);
	T_ASSERT(cli_parse_event("bogus", &ev) < 0);
	T_ASSERT(cli_parse_event("cycles/0", &ev) < 0);
	T_ASSERT(cli_parse_event("cpu-clock/x", &ev) < 0);
	return T_OK;
}

static int bad_input(void)
{
	struct ebprof_opts o;

	T_ASSERT(cli_parse(1, ARGV(NULL), &o) < 0);		/* no target */
	T_ASSERT(PARSE(&o, "-p", "12", "-a") < 0);		/* two targets */
	T_ASSERT(PARSE(&o, "-p", "0") < 0);
	T_ASSERT(PARSE(&o, "-p", "abc") < 0);
	T_ASSERT(PARSE(&o, "-p", "1,") < 0);
	T_ASSERT(PARSE(&o, "-p", "1,,2") < 0);
	T_ASSERT(PARSE(&o, "-p", "99999999999") < 0);
	T_ASSERT(PARSE(&o, "-a", "-F", "0") < 0);
	T_ASSERT(PARSE(&o, "-a", "-F", "10x") < 0);
	T_ASSERT(PARSE(&o, "-a", "-d", "-1") < 0);
	T_ASSERT(PARSE(&o, "-a", "-d", "nan") < 0);
	T_ASSERT(PARSE(&o, "-a", "--format", "xml") < 0);
	T_ASSERT(PARSE(&o, "-a", "--bogus") < 0);
	T_ASSERT(PARSE(&o, "-a", "-Z") < 0);
	T_ASSERT(PARSE(&o, "-a", "-F") < 0);			/* missing value */
	T_ASSERT(PARSE(&o, "-a", "-n", "-3") < 0);
	T_ASSERT(PARSE(&o, "-a", "-e", "nope") < 0);
	return T_OK;
}

static int help_and_version(void)
{
	struct ebprof_opts o;
	FILE *saved = stdout;
	int r1, r2;

	stdout = fopen("/dev/null", "w");
	r1 = PARSE(&o, "--help");
	r2 = PARSE(&o, "-V");
	fclose(stdout);
	stdout = saved;
	T_ASSERT(r1 == 1 && r2 == 1);
	return T_OK;
}

/* the help of mode *m* */
static char *help_of(const char *m)
{
	FILE *saved = stdout;
	char *buf = NULL;
	size_t len = 0;
	struct ebprof_opts o;

	stdout = open_memstream(&buf, &len);
	if (!stdout) {
		stdout = saved;
		return NULL;
	}
	cli_parse(3, (char *[]){ "ebprof", (char *)m, "--help", NULL }, &o);
	fclose(stdout);
	stdout = saved;
	return buf;
}

/*
 * Each mode takes the options its --help names, and refuses the others
 * with one line: the option table and the help agree
 */
static int modes_take_their_options(void)
{
	static const char *modes[] = { "cpu", "stat", "mem", "off", "wall", "lat", "top", "record" };
	static const char *opts[][2] = {
		{ "--freq", "99" }, { "--duration", "1" }, { "--event", "task-clock" }, { "--output", "x" },
		{ "--format", "json" }, { "--rows", "3" }, { "--per-thread", NULL }, { "--map-size", "4096" },
		{ "--unwind-rows", "4096" }, { "--no-lineno", NULL }, { "--no-python", NULL }, { "--no-kernel", NULL },
		{ "--fp", NULL }, { "--lines", NULL }, { "--repeat", "2" }, { "--interval", "100" }, { "--json", NULL },
		{ "--exact", NULL }, { "--overhead", "5" }, { "--leaks", NULL }, { "--min-age", "1" }, { "--count", NULL },
		{ "--max-blocks", "4096" }, { "--verbose", NULL }, { "--debug", NULL }, { "--min-block", "10" },
		{ "--state", NULL }, { "--view", "python" }, { "--no-debuginfod", NULL }, { "--sample-bytes", "4K" },
		{ "--no-preload", NULL },
	};
	FILE *saved = stderr;
	int refused = 0;

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		char *help = help_of(modes[m]);

		T_ASSERT(help != NULL);
		for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
			char *argv[12] = { "ebprof", (char *)modes[m] };
			int argc = 2, r;
			struct ebprof_opts o;

			if (!strcmp(modes[m], "lat"))
				argv[argc++] = "f";	/* the functions first */
			argv[argc++] = (char *)opts[i][0];

			if (opts[i][1])
				argv[argc++] = (char *)opts[i][1];
			if (!strcmp(opts[i][0], "--min-age"))
				argv[argc++] = "--leaks";	/* its age */
			if (!strcmp(modes[m], "top") || !strcmp(modes[m], "record")) {
				argv[argc++] = "-a";	/* running processes only */
				if (!strcmp(modes[m], "record")) {
					argv[argc++] = "--out";	/* somewhere to go */
					argv[argc++] = "d";
				}
			} else {
				argv[argc++] = "--";
				argv[argc++] = "true";
			}
			stderr = fopen("/dev/null", "w");
			r = cli_parse(argc, argv, &o);
			fclose(stderr);
			stderr = saved;
			if (strstr(help, opts[i][0])) {
				T_ASSERT(r == 0);
			} else {
				T_ASSERT(r < 0);
				refused++;
			}
		}
		free(help);
	}
	T_ASSERT(refused >= 30);
	return T_OK;
}

/* cli_parse() of argv, its stderr into *err* (freed by the caller) */
static int parse_err(char **argv, struct ebprof_opts *o, char **err)
{
	FILE *saved = stderr;
	size_t len = 0;
	int argc = 0, r;

	while (argv[argc])
		argc++;
	*err = NULL;
	stderr = open_memstream(err, &len);
	if (!stderr) {
		stderr = saved;
		return -99;
	}
	r = cli_parse(argc, argv, o);
	fclose(stderr);
	stderr = saved;
	return r;
}

#define ERR(o, e, ...) parse_err(ARGV(__VA_ARGS__), o, e)

/* what each mistake gets: one line that says what is wrong and points at the mode's help */
static int errors_say_what(void)
{
	struct ebprof_opts o;
	char *e;

	/* a mode mistyped is not run as a command */
	T_ASSERT(ERR(&o, &e, "stats", "--", "true") < 0);
	T_ASSERT_STR(e, "ebprof: 'stats' is not a mode of ebprof nor a command; did you mean 'ebprof stat'? (see 'ebprof --help')\n");
	free(e);
	T_ASSERT(ERR(&o, &e, "mme", "-p", "1") < 0 && strstr(e, "did you mean 'ebprof mem'?"));
	free(e);
	/* a command of that name, or one given after --, is run */
	T_ASSERT(ERR(&o, &e, "ls") == 0 && !strcmp(o.cmd[0], "ls"));
	free(e);
	T_ASSERT(ERR(&o, &e, "--", "stats") == 0 && !strcmp(o.cmd[0], "stats"));
	free(e);
	/* the event is known, its period is not a count */
	T_ASSERT(ERR(&o, &e, "-e", "page-faults/abc", "-a") < 0);
	T_ASSERT_STR(e, "ebprof: invalid period 'abc' of page-faults: give a count of events per sample, as in page-faults/10000 (see 'ebprof --help')\n");
	free(e);
	T_ASSERT(ERR(&o, &e, "-e", "pagefaults", "-a") < 0 && strstr(e, "unknown event 'pagefaults'"));
	free(e);
	T_ASSERT(ERR(&o, &e, "stat", "-e", "page-faults/10", "-a") < 0);
	T_ASSERT_STR(e, "ebprof: ebprof stat counts every event: no /PERIOD, as in 'page-faults/10' (see 'ebprof stat --help')\n");
	free(e);
	/* errors of a mode point at its help */
	T_ASSERT(ERR(&o, &e, "mem", "--bogus", "--", "true") < 0);
	T_ASSERT_STR(e, "ebprof: unknown option '--bogus' (see 'ebprof mem --help')\n");
	free(e);
	T_ASSERT(ERR(&o, &e, "mem", "--min-age", "5", "--", "true") < 0);
	T_ASSERT_STR(e, "ebprof: --min-age is the age of --leaks: give --leaks too (see 'ebprof mem --help')\n");
	free(e);
	/* a command gets the interposer unless a uprobe mode is asked for; --sample-bytes is its */
	T_ASSERT(PARSE(&o, "mem", "--", "true") == 0 && o.mem.preload);
	T_ASSERT(PARSE(&o, "mem", "--sample-bytes", "64K", "--", "true") == 0 && o.mem.preload &&
		 o.mem.sample_bytes == 65536);
	T_ASSERT(PARSE(&o, "mem", "--sample-bytes", "2M", "--", "true") == 0 && o.mem.sample_bytes == 2 << 20);
	T_ASSERT(PARSE(&o, "mem", "--exact", "--", "true") == 0 && !o.mem.preload);
	T_ASSERT(PARSE(&o, "mem", "--overhead", "5", "--", "true") == 0 && !o.mem.preload);
	T_ASSERT(PARSE(&o, "mem", "--no-preload", "--", "true") == 0 && !o.mem.preload);
	T_ASSERT(PARSE(&o, "mem", "-p", "1") == 0 && !o.mem.preload);
	T_ASSERT(ERR(&o, &e, "mem", "--sample-bytes", "64K", "--exact", "--", "true") < 0 &&
		 strstr(e, "--sample-bytes is for a command launched with the interposer"));
	free(e);
	T_ASSERT(ERR(&o, &e, "mem", "--sample-bytes", "64K", "-p", "1") < 0 &&
		 strstr(e, "--sample-bytes is for a command launched with the interposer"));
	free(e);
	T_ASSERT(ERR(&o, &e, "mem", "--sample-bytes", "0", "--", "true") < 0 && strstr(e, "invalid --sample-bytes"));
	free(e);
	T_ASSERT(ERR(&o, &e, "mem", "--sample-bytes", "4X", "--", "true") < 0 && strstr(e, "invalid --sample-bytes"));
	free(e);
	T_ASSERT(ERR(&o, &e, "stat", "-f", "svg", "--", "true") < 0 && strstr(e, "ebprof stat writes a table or json"));
	free(e);
	T_ASSERT(ERR(&o, &e, "--bogus") < 0);
	T_ASSERT_STR(e, "ebprof: unknown option '--bogus' (see 'ebprof --help')\n");
	free(e);
	/* ebprof lat: the functions, one process, its formats, its interval */
	T_ASSERT(ERR(&o, &e, "lat", "-p", "1") < 0);
	T_ASSERT_STR(e, "ebprof: name the functions to time: ebprof lat FUNC[,FUNC...] (-p PID | COMMAND) (see 'ebprof lat --help')\n");
	free(e);
	T_ASSERT(ERR(&o, &e, "lat", "f", "-a") < 0 && strstr(e, "one process: give -p PID or a command"));
	free(e);
	T_ASSERT(ERR(&o, &e, "lat", "f", "-p", "1,2") < 0 && strstr(e, "one process"));
	free(e);
	T_ASSERT(ERR(&o, &e, "lat", "f", "-f", "svg", "-p", "1") < 0 && strstr(e, "ebprof lat writes a table or json"));
	free(e);
	T_ASSERT(ERR(&o, &e, "lat", "f", "-o", "x.svg", "-p", "1") < 0 && strstr(e, "'x.svg' is neither"));
	free(e);
	T_ASSERT(ERR(&o, &e, "lat", "f", "-I", "100", "-p", "1") < 0);
	T_ASSERT_STR(e, "ebprof: -I is not an option of ebprof lat; ebprof lat takes -i SECONDS (see 'ebprof lat --help')\n");
	free(e);
	T_ASSERT(ERR(&o, &e, "lat", "f", "-i", "0", "-p", "1") < 0 && strstr(e, "invalid interval '0'"));
	free(e);
	return T_OK;
}

/* one way to ask for a format in every mode: -f, --json, or -o's extension */
static int formats_alike(void)
{
	struct ebprof_opts o;

	T_ASSERT(PARSE(&o, "stat", "-f", "json", "--", "true") == 0 && o.stat.json && o.format == FORMAT_JSON);
	T_ASSERT(PARSE(&o, "stat", "-o", "st.json", "--", "true") == 0 && o.stat.json);
	T_ASSERT(PARSE(&o, "stat", "--json", "--", "true") == 0 && o.stat.json);
	T_ASSERT(PARSE(&o, "stat", "-o", "st.txt", "--", "true") == 0 && !o.stat.json && o.format == FORMAT_TABLE);
	T_ASSERT(PARSE(&o, "stat", "-o", "st.json", "-f", "table", "--", "true") == 0 && !o.stat.json);
	T_ASSERT(PARSE(&o, "mem", "--json", "--", "true") == 0 && o.format == FORMAT_JSON);
	T_ASSERT(PARSE(&o, "mem", "-o", "m.svg", "--", "true") == 0 && o.format == FORMAT_SVG);
	T_ASSERT(PARSE(&o, "--json", "-a") == 0 && o.format == FORMAT_JSON);
	return T_OK;
}

/* ebprof help MODE shows what MODE --help prints; no page for a word that is no mode */
/* ebprof lat FUNC: the first word that is no option, before or after the options */
static int lat_functions(void)
{
	struct ebprof_opts o;
	char *a1[] = { "ebprof", "lat", "f", "--", "./prog", "-x", NULL };
	char *a2[] = { "ebprof", "lat", "-d", "5", "--per-call", "f", "./prog", "arg", NULL };

	T_ASSERT(PARSE(&o, "lat", "f,g", "-p", "42") == 0);
	T_ASSERT(o.mode == MODE_LAT && o.npids == 1 && !o.cmd);
	T_ASSERT_STR(o.lat.funcs, "f,g");
	T_ASSERT(PARSE(&o, "lat", "-p", "42", "-i", "0.5", "libc:malloc") == 0);
	T_ASSERT_STR(o.lat.funcs, "libc:malloc");
	T_ASSERT(o.lat.interval == 0.5 && !o.cmd);
	T_ASSERT(cli_parse(6, a1, &o) == 0);
	T_ASSERT_STR(o.lat.funcs, "f");
	T_ASSERT(o.cmd && !strcmp(o.cmd[0], "./prog") && !strcmp(o.cmd[1], "-x"));
	T_ASSERT(cli_parse(8, a2, &o) == 0);
	T_ASSERT_STR(o.lat.funcs, "f");
	T_ASSERT(o.lat.per_call && o.duration == 5 && !strcmp(o.cmd[0], "./prog"));
	T_ASSERT(PARSE(&o, "lat", "f", "-o", "x.json", "-p", "1") == 0);
	T_ASSERT(o.format == FORMAT_JSON);
	return T_OK;
}

/* top and record: running processes only, their own options, what a report's are not */
static int live_modes(void)
{
	struct ebprof_opts o;
	char *e;

	T_ASSERT(PARSE(&o, "top", "-a", "--delay", "0.5", "--window", "30", "-F", "499") == 0);
	T_ASSERT(o.mode == MODE_TOP && o.all && o.top.delay == 0.5 && o.top.window == 30 && o.freq == 499);
	T_ASSERT(o.line_frames);
	T_ASSERT(PARSE(&o, "top", "-p", "1") == 0 && o.top.delay == 1 && o.top.window == 10);
	T_ASSERT(ERR(&o, &e, "top", "--", "true") < 0 && strstr(e, "give -p PID or -a, not a command"));
	free(e);
	T_ASSERT(ERR(&o, &e, "top", "-a", "-o", "x.svg") < 0 && strstr(e, "-o is not an option of ebprof top"));
	free(e);
	T_ASSERT(ERR(&o, &e, "top", "-a", "--delay", "5", "--window", "2") < 0 && strstr(e, "shorter than the --delay"));
	free(e);
	T_ASSERT(PARSE(&o, "record", "-a", "--out", "/tmp/x", "--push", "http://h:4040", "--interval", "10",
		       "--label", "env=prod", "--label", "dc=x1", "--app", "web.1", "--max-unsent", "5", "--max-disk", "0.5") == 0);
	T_ASSERT(o.mode == MODE_RECORD && o.record.interval == 10 && o.record.nlabels == 2 && o.record.max_unsent == 5);
	T_ASSERT_STR(o.record.labels[1], "dc=x1");
	T_ASSERT_STR(o.record.app, "web.1");
	T_ASSERT(o.record.max_disk_mb == 0.5);
	T_ASSERT(PARSE(&o, "record", "-p", "1", "--out", "d") == 0 && o.record.interval == 60 && !o.record.push);
	T_ASSERT_STR(o.record.app, "ebprof");
	T_ASSERT(ERR(&o, &e, "record", "-a") < 0 && strstr(e, "--out DIR, --push URL or both"));
	free(e);
	T_ASSERT(ERR(&o, &e, "record", "-a", "--push", "ftp://h") < 0 && strstr(e, "invalid --push URL"));
	free(e);
	T_ASSERT(ERR(&o, &e, "record", "-a", "--out", "d", "--label", "env") < 0 && strstr(e, "invalid --label 'env'"));
	free(e);
	T_ASSERT(ERR(&o, &e, "record", "-a", "--out", "d", "--label", "a=b}") < 0 && strstr(e, "invalid --label"));
	free(e);
	T_ASSERT(ERR(&o, &e, "record", "-a", "--out", "d", "--app", "a b") < 0 && strstr(e, "invalid --app"));
	free(e);
	T_ASSERT(ERR(&o, &e, "record", "-a", "--out", "d", "--interval", "0.5") < 0 && strstr(e, "invalid interval"));
	free(e);
	T_ASSERT(ERR(&o, &e, "--out", "d", "-a") < 0 && strstr(e, "--out is not an option of ebprof cpu"));
	free(e);
	return T_OK;
}

static int mode_usage(void)
{
	static const char *modes[] = { "cpu", "stat", "mem", "off", "wall", "lat", "top", "record" };

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		char *h = help_of(modes[m]);

		T_ASSERT(h && cli_mode_usage(modes[m]) && !strcmp(h, cli_mode_usage(modes[m])));
		free(h);
	}
	T_ASSERT(!cli_mode_usage("stats") && !cli_mode_usage("") && !cli_mode_usage("help"));
	return T_OK;
}

T_MAIN("cli", T(defaults), T(full_line), T(command), T(events), T(bad_input), T(help_and_version),
       T(modes_take_their_options), T(errors_say_what), T(formats_alike), T(lat_functions), T(live_modes), T(mode_usage))
