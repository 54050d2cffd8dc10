// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ebprof - an eBPF profiler.  main() parses the command line, checks the
 * system, starts the target and hands over to the mode's collector.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"
#include "run.h"
#include "render/render.h"
#include "session.h"
#include "stat.h"
#include "record.h"
#include "top.h"
#include "util/log.h"

int log_level;

static void raise_fd_limit(void)
{
	struct rlimit rl;

	/* one descriptor per mapped file keeps exited processes symbolizable */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* why writing *f* failed: the stream's errno, which a flush sets again, else *err* */
static int write_errno(FILE *f, int err)
{
	errno = 0;
	if (fflush(f) && errno)
		return errno;
	return -err;
}

/*
 * Standard output goes to a file or a pipe: the report is being kept,
 * and a launched command's own output must not mix into it (a terminal
 * or /dev/null: nothing to keep apart)
 */
static bool stdout_captured(void)
{
	struct stat st;

	return !fstat(STDOUT_FILENO, &st) && (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/* ebprof help [MODE]: the mode's man page where it is installed, else its --help */
static int help(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[2] : "cpu", *text = cli_mode_usage(mode);
	char page[32];
	pid_t pid;
	int st;

	if (argc > 3 || !text) {
		if (argc > 3)
			fprintf(stderr, "ebprof: ebprof help takes one MODE: cpu, off, wall, lat, mem, stat, top or record\n");
		else
			fprintf(stderr, "ebprof: '%s' is not a mode: ebprof help [MODE], MODE one of cpu, off, wall, lat, mem, stat, top, record\n",
				mode);
		return EXIT_USAGE;
	}
	snprintf(page, sizeof(page), strcmp(mode, "cpu") ? "ebprof-%s" : "ebprof", mode);
	pid = fork();
	if (pid == 0) {	/* man -w: is the page installed? */
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execlp("man", "man", "-w", page, (char *)NULL);
		_exit(127);
	}
	if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		fflush(stdout);
		execlp("man", "man", page, (char *)NULL);
	}
	fputs(text, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct render_opts ropts = {};
	struct ebprof_opts opts;
	struct launch launch = { .go_fd = -1, .err_fd = -1 };
	struct profile *prof = NULL;
	FILE *out = stdout;
	char *out_tmp = NULL;
	bool written = false;	/* the whole profile went out */
	char title[320], cmd_path[4096];
	int err, ret;

	session_t0 = now_sec();
	if (argc > 1 && !strcmp(argv[1], "help"))
		return help(argc, argv);
	err = cli_parse(argc, argv, &opts);
	if (err)
		return err > 0 ? 0 : EXIT_USAGE;
	log_level = opts.debug ? 2 : opts.verbose ? 1 : 0;

	if (opts.mode == MODE_STAT) {
		/* counting needs no BPF: no BTF, no capabilities beyond perf's */
		if (opts.npids && (ret = session_resolve_pids(&opts)))
			return ret;
		if (opts.cmd && (ret = session_check_command(opts.cmd, cmd_path, sizeof(cmd_path))))
			return ret;
		raise_fd_limit();
		session_install_signals();
		return stat_main(&opts);
	}

	if (opts.format == FORMAT_PPROF && !opts.output && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "ebprof: pprof is binary: give -o FILE.pb.gz, or redirect standard output\n");
		return EXIT_USAGE;
	}
	ret = session_check_system();
	if (ret)
		return ret;
	if (opts.npids && (ret = session_resolve_pids(&opts)))
		return ret;
	if (opts.cmd && (ret = session_check_command(opts.cmd, cmd_path, sizeof(cmd_path))))
		return ret;
	if (opts.mode == MODE_TOP || opts.mode == MODE_RECORD) {
		raise_fd_limit();
		session_install_signals();
		return opts.mode == MODE_TOP ? top_main(&opts) : record_main(&opts);
	}
	if (opts.output) {
		out = open_output_tmp(opts.output, &out_tmp);
		if (!out)
			return 1;
	}
	raise_fd_limit();
	session_install_signals();

	if (opts.cmd) {
		run_before_launch(&opts, cmd_path);
		err = launch_start(&launch, opts.cmd, out == stdout && stdout_captured() ? LAUNCH_STDOUT_TO_STDERR : 0);
		if (err) {
			pr_err("cannot start '%s': %s\n", opts.cmd[0], strerror(-err));
			ret = 1;
			goto cleanup;
		}
	}

	ret = run_mode(&opts, &launch, NULL, &prof);
	if (ret)
		goto cleanup;

	/*
	 * which frames: the table of a Python target by its Python functions,
	 * unless asked (the modes that take --view; mem renders its own sites)
	 */
	if (opts.view >= 0 || (opts.mode != MODE_MEM && opts.format == FORMAT_TABLE && profile__has_python(prof))) {
		prof->meta.view_default = opts.view < 0;
		err = profile__view(prof, opts.view >= 0 ? opts.view : PROFILE_VIEW_PYTHON);
		if (err) {
			pr_err("cannot make the %s view: %s\n", profile_view_name(opts.view), strerror(-err));
			ret = 1;
			goto cleanup;
		}
	}
	ropts.rows = opts.rows;
	if (!strcmp(prof->meta.mode, "cpu"))
		snprintf(title, sizeof(title), "ebprof %s: %s", prof->meta.event, prof->meta.target);
	else
		snprintf(title, sizeof(title), "ebprof %s (%s): %s", prof->meta.mode, prof->meta.values[0].type,
			 prof->meta.target);
	ropts.title = title;
	err = run_render(&opts, prof, opts.format, &ropts, out);
	if (!err)
		err = fflush(out) ? -errno : 0;
	if (err) {
		pr_err("cannot write the profile: %s\n", strerror(write_errno(out, err)));
		ret = 1;
		goto cleanup;
	}
	written = true;
	if (opts.lines) {
		/* after a table, in it; else on the terminal */
		FILE *lout = opts.format == FORMAT_TABLE ? out : out == stdout ? stderr : stdout;

		err = prof->ext_lines ? prof->ext_lines(prof, opts.lines_func, 5, lout)
				      : render_lines(prof, opts.lines_func, 5, lout);
		fflush(lout);
		if (err == -ENOENT) {
			if (opts.lines_func)
				pr_err("no samples with line information in a function named '%s'\n",
				       opts.lines_func);
			else
				pr_err("no samples with line information: Python code, or native code with DWARF line info, is needed for --lines\n");
			ret = 1;
		} else if (err) {
			pr_err("cannot write the line report: %s\n", strerror(-err));
			ret = 1;
		}
	}

cleanup:
	if (launch.pid) {
		int status = launch_finish(&launch);

		/*
		 * A profile that ended at -d, as asked, is a success; the command's
		 * own status otherwise (when ebprof is stopped by a signal too: it
		 * passes the signal on)
		 */
		if (launch.stopped && !ret && opts.duration > 0 && !exiting) {
			fprintf(stderr, "ebprof: stopped '%s' (pid %d) at the end of -d %g s\n", opts.cmd[0],
				(int)launch.pid, opts.duration);
			status = 0;
		}
		if (!ret)
			ret = status;
	}
	/* the file takes its name only when all of it was written */
	if (out && out != stdout && close_output(out, opts.output, out_tmp, written))
		ret = ret ? ret : 1;
	else if (out && out != stdout && written && prof) {
		char v[32];

		/* "123 samples", "1.5 MiB alloc_space" */
		fprintf(stderr, "ebprof: %s %s of %s written to '%s'\n",
			render_value(&prof->meta.values[0], prof->totals[0], v, sizeof(v)), prof->meta.values[0].type,
			prof->meta.target, opts.output);
		render_losses(prof, stderr, "ebprof: warning: ");
	}
	profile__free(prof);
	return ret;
}
