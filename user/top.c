// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * top.c - ebprof top: a live front end of the cpu mode's sampling.  The
 * session hands it a profile per --delay (struct run_sink); the model
 * (top_model.c) keeps the last --window seconds of stacks and counts the
 * rows; this draws them with ncurses and takes the keys.
 */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include "cli.h"
#include "profile.h"
#include "run.h"
#include "session.h"
#include "top.h"
#include "top_model.h"
#include "util/log.h"

struct top {
	const struct ebprof_opts *o;
	struct top_model m;
	char target[256];
	const char *event;
	double last_cpu;	/* ebprof's own CPU seconds at the last period */
	bool curses, help;
	enum run_end end;	/* why the run ended */
	bool editing;		/* typing the filter */
	char edit[64];
	int sel, first;		/* the highlighted row, the first row shown */
	int ret;
	int err_fd, saved_stderr;	/* standard error while the view is up */
};

/* *s* in *w* columns: cut at the end with '+' when longer */
static void put(int y, int x, int w, const char *s)
{
	int len = (int)strlen(s);

	if (w <= 0)
		return;
	if (len <= w) {
		mvprintw(y, x, "%-*s", w, s);
	} else {
		mvprintw(y, x, "%.*s+", w - 1, s);
	}
}

static const char *const help_lines[] = {
	"ebprof top keys",
	"",
	"  s          sort by self or by total",
	"  /          filter by function name (Enter: apply, empty: clear, Esc: cancel)",
	"  Enter      only the process (command) of the highlighted row",
	"  Esc        back to every process",
	"  Up Down PgUp PgDn Home: move",
	"  k          kernel frames on or off",
	"  l          by function or by line",
	"  p          pause the view (sampling goes on)",
	"  z          reset the counts",
	"  ?          this help (any key closes it)",
	"  q          quit",
};

static void draw(struct top *t)
{
	const struct top_model *m = &t->m;
	int h = LINES, w = COLS, y, i, nshow, fw, mw = 18, cw = m->per_process && m->drilled < 0 ? 16 : 0;
	double secs = m->covered > 0 ? m->covered : 1;
	char line[512];

	erase();
	if (t->help) {
		for (i = 0; i < (int)(sizeof(help_lines) / sizeof(help_lines[0])) && i < h; i++)
			put(i, 0, w, help_lines[i]);
		refresh();
		return;
	}
	snprintf(line, sizeof(line), "ebprof top: %s%s%s  %s at %u Hz", t->target, m->drilled >= 0 ? " > " : "",
		 m->drilled >= 0 ? m->groups[m->drilled] : "", t->event ? t->event : "", t->o->freq);
	put(0, 0, w, line);
	snprintf(line, sizeof(line),
		 "last %.0f s%s: %llu samples (%.0f/s), lost %llu, stacks complete %.1f%%, ebprof CPU %.1f%%",
		 m->covered, m->paused ? " (PAUSED)" : "", (unsigned long long)m->scope_samples,
		 m->scope_samples / secs, (unsigned long long)m->sum.lost,
		 m->sum.user_stacks ? 100.0 * m->sum.complete / m->sum.user_stacks : 100.0,
		 100 * m->sum.self_cpu / secs);
	put(1, 0, w, line);
	if (t->editing)
		snprintf(line, sizeof(line), "filter: %s_", t->edit);
	else
		snprintf(line, sizeof(line), "sort %s, kernel %s, by %s%s%s   ? help, q quit",
			 m->sort_total ? "total" : "self", m->no_kernel ? "off" : "on", m->by_line ? "line" : "function",
			 m->filter[0] ? ", filter: " : "", m->filter);
	put(2, 0, w, line);
	fw = w - 16 - mw - 1 - (cw ? cw + 1 : 0);
	if (fw < 10) {
		mw = 0;
		fw = w - 16 - (cw ? cw + 1 : 0);
	}
	attron(A_BOLD);
	mvprintw(3, 0, "%7s %7s ", "SELF%", "TOTAL%");
	put(3, 16, fw, "FUNCTION");
	if (mw)
		put(3, 16 + fw + 1, mw, "MODULE");
	if (cw)
		put(3, w - cw, cw, t->o->per_pid ? "PROCESS" : "COMMAND");
	attroff(A_BOLD);
	nshow = h - 4;
	if (t->sel >= (int)m->nrows)
		t->sel = m->nrows ? (int)m->nrows - 1 : 0;
	if (t->sel < t->first)
		t->first = t->sel;
	if (nshow > 0 && t->sel >= t->first + nshow)
		t->first = t->sel - nshow + 1;
	for (y = 4, i = t->first; y < h && i < (int)m->nrows; y++, i++) {
		const struct trow *rw = &m->rows[i];
		const struct tframe *f = &m->frames[rw->frame];
		double den = m->scope_samples ? (double)m->scope_samples : 1;

		if (i == t->sel)
			attron(A_REVERSE);
		mvprintw(y, 0, "%6.2f%% %6.2f%% ", 100.0 * rw->self / den, 100.0 * rw->total / den);
		put(y, 16, fw, f->func);
		if (mw) {
			mvaddch(y, 16 + fw, ' ');
			put(y, 16 + fw + 1, mw, f->module);
		}
		if (cw) {
			mvaddch(y, w - cw - 1, ' ');
			put(y, w - cw, cw, rw->group == TOP_NO_GROUP ? "" : m->groups[rw->group]);
		}
		if (i == t->sel)
			attroff(A_REVERSE);
	}
	if (!m->nrows && h > 4)
		put(4, 0, w, m->covered > 0 ? "  (no samples: the targets did not run on a CPU)" : "  (waiting for samples)");
	refresh();
}

static void update(struct top *t)
{
	int err = top_model_count(&t->m);

	if (err) {
		pr_err("cannot count the rows: %s\n", strerror(-err));
		t->ret = 1;
		return;
	}
	if (t->curses)
		draw(t);
}

/* a key while the filter is typed */
static void edit_key(struct top *t, int c)
{
	size_t len = strlen(t->edit);

	if (c == 27) {
		t->editing = false;
	} else if (c == '\n' || c == '\r' || c == KEY_ENTER) {
		snprintf(t->m.filter, sizeof(t->m.filter), "%s", t->edit);
		t->editing = false;
		t->sel = t->first = 0;
	} else if (c == KEY_BACKSPACE || c == 127 || c == 8) {
		if (len)
			t->edit[len - 1] = 0;
	} else if (c >= 32 && c < 127 && len + 1 < sizeof(t->edit)) {
		t->edit[len] = (char)c;
		t->edit[len + 1] = 0;
	}
}

/* one key: false to quit */
static bool key(struct top *t, int c)
{
	struct top_model *m = &t->m;
	int page = LINES > 5 ? LINES - 4 : 1;

	if (t->editing) {
		edit_key(t, c);
		return true;
	}
	if (t->help && c != KEY_RESIZE) {
		t->help = false;
		return true;
	}
	switch (c) {
	case 'q':
	case 'Q':
		return false;
	case 's':
		m->sort_total = !m->sort_total;
		break;
	case 'k':
		m->no_kernel = !m->no_kernel;
		break;
	case 'l':
		m->by_line = !m->by_line;
		break;
	case 'p':
		top_model_pause(m, !m->paused);
		break;
	case 'z':
		top_model_reset(m);
		t->sel = t->first = 0;
		break;
	case '?':
	case 'h':
		t->help = true;
		break;
	case '/':
		t->editing = true;
		snprintf(t->edit, sizeof(t->edit), "%s", m->filter);
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (m->per_process && m->drilled < 0 && t->sel < (int)m->nrows) {
			m->drilled = (int)m->rows[t->sel].group;
			t->sel = t->first = 0;
		}
		break;
	case 27:
	case KEY_BACKSPACE:
	case KEY_LEFT:
		m->drilled = -1;
		t->sel = t->first = 0;
		break;
	case KEY_UP:
		if (t->sel > 0)
			t->sel--;
		break;
	case KEY_DOWN:
		t->sel++;
		break;
	case KEY_PPAGE:
		t->sel = t->sel > page ? t->sel - page : 0;
		break;
	case KEY_NPAGE:
		t->sel += page;
		break;
	case KEY_HOME:
		t->sel = t->first = 0;
		break;
	default:	/* KEY_RESIZE among them: drawn again */
		break;
	}
	return true;
}

/* ebprof's own CPU seconds so far */
static double own_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int on_profile(void *ctx, struct profile *p, double t0, double t1, enum run_end end)
{
	struct top *t = ctx;
	double cpu = own_cpu();
	int err;

	if (end != RUN_END_NONE) {
		t->end = end;
		profile__free(p);
		return 0;
	}
	if (!t->event) {
		snprintf(t->target, sizeof(t->target), "%s", p->meta.target);
		t->event = p->meta.event;
	}
	err = top_model_add(&t->m, p, t0, t1, cpu - t->last_cpu);
	t->last_cpu = cpu;
	profile__free(p);
	if (err) {
		pr_err("cannot keep the samples: %s\n", strerror(-err));
		return 1;
	}
	update(t);
	return t->ret;
}

static int on_tick(void *ctx)
{
	struct top *t = ctx;
	bool changed = false;
	int c;

	while ((c = getch()) != ERR) {
		if (!key(t, c))
			return RUN_SINK_END;
		changed = true;
	}
	if (changed)
		update(t);
	return t->ret;
}

/* standard error into a file while the view is up, so that messages do not tear it */
static void hold_stderr(struct top *t)
{
	t->err_fd = memfd_create("ebprof-top-stderr", MFD_CLOEXEC);
	t->saved_stderr = t->err_fd >= 0 ? fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3) : -1;
	if (t->saved_stderr < 0 || dup2(t->err_fd, STDERR_FILENO) < 0) {
		if (t->saved_stderr >= 0)
			close(t->saved_stderr);
		if (t->err_fd >= 0)
			close(t->err_fd);
		t->err_fd = t->saved_stderr = -1;
	}
}

/* ... and back, with what was said meanwhile */
static void release_stderr(struct top *t)
{
	char buf[4096];
	ssize_t n;

	if (t->saved_stderr < 0)
		return;
	fflush(stderr);
	dup2(t->saved_stderr, STDERR_FILENO);
	close(t->saved_stderr);
	t->saved_stderr = -1;
	lseek(t->err_fd, 0, SEEK_SET);
	while ((n = read(t->err_fd, buf, sizeof(buf))) > 0)
		if (write(STDERR_FILENO, buf, n) != n)
			break;
	close(t->err_fd);
	t->err_fd = -1;
}

int top_main(const struct ebprof_opts *o)
{
	struct top t = { .o = o, .err_fd = -1, .saved_stderr = -1 };
	struct run_sink sink = { o->top.delay, on_profile, on_tick, &t };
	struct launch l = { .go_fd = -1, .err_fd = -1 };
	int ret;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "ebprof: ebprof top needs a terminal; for a report use 'ebprof -a -d 10' or 'ebprof -p PID -d 10'\n");
		return EXIT_USAGE;
	}
	if (top_model_init(&t.m, o->top.window, o->all || o->npids > 1)) {
		pr_err("out of memory\n");
		return 1;
	}
	t.m.no_kernel = o->no_kernel;
	t.last_cpu = own_cpu();
	setlocale(LC_ALL, "");
	hold_stderr(&t);
	/* Esc alone, not the start of a sequence, after 25 ms */
	set_escdelay(25);
	if (!newterm(NULL, stdout, stdin)) {
		release_stderr(&t);
		fprintf(stderr, "ebprof: cannot start the terminal view (TERM=%s)\n", getenv("TERM") ?: "");
		top_model_free(&t.m);
		return 1;
	}
	t.curses = true;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	snprintf(t.target, sizeof(t.target), "%s", o->all ? "all processes" : "the processes given");
	update(&t);
	ret = run_mode(o, &l, &sink, NULL);
	endwin();
	t.curses = false;
	release_stderr(&t);
	if (!ret && t.end == RUN_END_TARGETS)
		fprintf(stderr, "ebprof: %s exited: ebprof top ends with %s\n", t.target,
			o->npids > 1 ? "them" : "it");
	top_model_free(&t.m);
	return ret;
}
