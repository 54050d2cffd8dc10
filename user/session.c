// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "session.h"
#include "util/grow.h"
#include "util/log.h"

volatile sig_atomic_t exiting;
double session_t0;

static void on_stop(int sig)
{
	(void)sig;
	exiting = 1;
}

static void on_child(int sig)
{
	(void)sig;	/* only to interrupt poll() */
}

void session_install_signals(void)
{
	struct sigaction sa = {};

	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_child;
	sigaction(SIGCHLD, &sa, NULL);
}

double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool has_cap(int cap)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

int session_check_system(void)
{
	const char *btf = getenv("EBPROF_SYSFS_BTF");

	if (geteuid() != 0 && !has_cap(CAP_SYS_ADMIN) &&
	    !(has_cap(39 /* CAP_BPF */) && has_cap(38 /* CAP_PERFMON */))) {
		pr_err("permission denied: run ebprof as root (sudo), or give it CAP_BPF and CAP_PERFMON\n");
		return 1;
	}
	/* EBPROF_SYSFS_BTF: for tests of this check only */
	if (!btf)
		btf = "/sys/kernel/btf/vmlinux";
	if (access(btf, R_OK)) {
		pr_err("the kernel has no BTF (/sys/kernel/btf/vmlinux is missing): use a kernel built with CONFIG_DEBUG_INFO_BTF=y (5.8 or later)\n");
		return EXIT_NOFEATURE;
	}
	return 0;
}

/* the tgid of *pid* (which may name a thread), or -errno */
static int pid_to_tgid(int pid)
{
	char path[64], line[256];
	int tgid = -ESRCH;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno == -ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Tgid:", 5))
			tgid = atoi(line + 5);
	fclose(f);
	return tgid;
}

#define PF_KTHREAD 0x00200000	/* include/linux/sched.h */

/* /proc/PID/stat: state letter, parent, flags; false if gone */
static bool proc_state(int pid, char *state, int *ppid, unsigned long *flags)
{
	char path[64], buf[1024], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!read_line(path, buf, sizeof(buf)))
		return false;
	p = strrchr(buf, ')');
	/* state ppid pgrp session tty tpgid flags */
	return p && sscanf(p + 2, "%c %d %*d %*d %*d %*d %lu", state, ppid, flags) == 3;
}

/* Threads: of /proc/PID/status, 0 if gone */
static int proc_threads(int pid)
{
	char path[64], line[256];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Threads:", 8))
			n = atoi(line + 8);
	fclose(f);
	return n;
}

int session_resolve_pids(struct ebprof_opts *o)
{
	int i;

	for (i = 0; i < o->npids; i++) {
		int tgid = pid_to_tgid(o->pids[i]), ppid = 0;
		unsigned long flags = 0;
		char comm[64], state = 0;

		if (tgid < 0 || !proc_state(tgid, &state, &ppid, &flags)) {
			pr_err("no process with pid %d: check the pid (ps -p %d)\n", o->pids[i], o->pids[i]);
			return 1;
		}
		proc_comm(tgid, comm, sizeof(comm));
		/* a leader that exited while its other threads run shows Z too */
		if ((state == 'Z' || state == 'X') && proc_threads(tgid) <= 1) {
			pr_err("pid %d (%s) is a zombie: it has exited and its parent (pid %d) has not reaped it yet;"
			       " there is nothing left to profile\n", tgid, comm, ppid);
			return 1;
		}
		/* counters count kernel threads; stacks and allocators need a user space */
		if ((flags & PF_KTHREAD) && o->mode != MODE_STAT) {
			pr_err("pid %d (%s) is a kernel thread: it has no user space; ebprof -a profiles the kernel with"
			       " everything else\n", tgid, comm);
			return 1;
		}
		if (tgid != o->pids[i])
			fprintf(stderr, "ebprof: pid %d is a thread of process %d (%s): %s the whole process%s\n",
				o->pids[i], tgid, comm, o->mode == MODE_STAT ? "counting" : "profiling",
				o->mode == MODE_MEM ? "" : " (--per-thread splits it by thread)");
		o->pids[i] = tgid;
	}
	return 0;
}

size_t join_words(char *buf, size_t len, char **words)
{
	size_t n = 0;

	for (int i = 0; words[i] && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", i ? " " : "", words[i]);
	return n < len ? n : len;
}

bool read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

void proc_comm(int pid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (!read_line(path, buf, len))
		snprintf(buf, len, "?");
}

/* the NUL-separated strings of /proc/PID/WHAT into *buf*: their length, 0 if unreadable */
static size_t proc_strings(int pid, const char *what, char *buf, size_t len)
{
	char path[64];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n;
}

bool proc_environ_has(int pid, const char *var)
{
	char buf[65536];
	size_t n = proc_strings(pid, "environ", buf, sizeof(buf)), i, len = strlen(var);

	for (i = 0; i < n; i += strlen(buf + i) + 1)
		if (!strncmp(buf + i, var, len) && buf[i + len] == '\0')
			return true;
	return false;
}

bool proc_cmdline_has(int pid, const char *arg)
{
	char buf[65536];
	size_t n = proc_strings(pid, "cmdline", buf, sizeof(buf)), i;

	for (i = n ? strlen(buf) + 1 : 0; i < n; i += strlen(buf + i) + 1)
		if (!strcmp(buf + i, arg))
			return true;
	return false;
}

/* /proc/PID/stat: utime and stime in seconds; false if gone */
bool proc_times(int pid, double *ut, double *st)
{
	char path[64], buf[1024], *p;
	unsigned long long u, s;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!read_line(path, buf, sizeof(buf)))
		return false;
	p = strrchr(buf, ')');
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &u, &s) != 2)
		return false;
	*ut = (double)u / sysconf(_SC_CLK_TCK);
	*st = (double)s / sysconf(_SC_CLK_TCK);
	return true;
}

int session_check_command(char **cmd, char *buf, size_t blen)
{
	const char *path = getenv("PATH");

	if (strchr(cmd[0], '/')) {
		if (access(cmd[0], X_OK)) {
			pr_err("cannot run '%s': %s\n", cmd[0], strerror(errno));
			return 127;
		}
		snprintf(buf, blen, "%s", cmd[0]);
		return 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");

		snprintf(buf, blen, "%.*s/%s", (int)len, len ? path : ".", cmd[0]);
		if (!access(buf, X_OK))
			return 0;
		path += len + (path[len] == ':');
	}
	pr_err("cannot run '%s': command not found\n", cmd[0]);
	return 127;
}

int launch_start(struct launch *l, char **cmd, unsigned int flags)
{
	int go[2], er[2];
	struct rusage ru;
	char c;

	memset(l, 0, sizeof(*l));
	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(er, O_CLOEXEC)) {
		close(go[0]);
		close(go[1]);
		return -errno;
	}
	l->pid = fork();
	if (l->pid < 0) {
		int err = -errno;

		close(go[0]), close(go[1]), close(er[0]), close(er[1]);
		return err;
	}
	if (l->pid == 0) {
		int err;

		/* held here until the profiler is attached; EOF: ebprof died */
		close(go[1]);
		close(er[0]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		if ((flags & LAUNCH_STDOUT_TO_STDERR) && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			_exit(127);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		/* what the wait before exec cost, for ebprof stat to take off */
		getrusage(RUSAGE_SELF, &ru);
		if (write(er[1], &ru, sizeof(ru)) != sizeof(ru))
			_exit(127);
		execvp(cmd[0], cmd);
		err = errno;
		if (write(er[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(er[1]);
	l->go_fd = go[1];
	l->err_fd = er[0];
	return 0;
}

int launch_release(struct launch *l)
{
	int err = 0;
	ssize_t n;

	if (write(l->go_fd, "g", 1) != 1)
		return -errno;
	close(l->go_fd);
	l->go_fd = -1;
	do {
		n = read(l->err_fd, &l->pre_exec, sizeof(l->pre_exec));
	} while (n < 0 && errno == EINTR);
	if (n != sizeof(l->pre_exec))
		memset(&l->pre_exec, 0, sizeof(l->pre_exec));
	do {
		n = read(l->err_fd, &err, sizeof(err));
	} while (n < 0 && errno == EINTR);
	close(l->err_fd);
	l->err_fd = -1;
	if (n == sizeof(err))
		return -err;
	return 0;
}

bool launch_poll(struct launch *l)
{
	if (!l->pid || l->done)
		return l->done;
	if (wait4(l->pid, &l->status, WNOHANG, &l->ru) == l->pid)
		l->done = true;
	return l->done;
}

int launch_finish(struct launch *l)
{
	int i;

	if (!l->pid)
		return 0;
	if (l->go_fd >= 0 && !l->done) {
		close(l->go_fd);	/* never released: it exits */
		l->go_fd = -1;
	}
	for (i = 0; i < 20 && !launch_poll(l); i++) {
		if (i == 0) {
			kill(l->pid, SIGTERM);
			l->stopped = true;
		}
		usleep(50000);
	}
	if (!l->done) {
		kill(l->pid, SIGKILL);
		if (wait4(l->pid, &l->status, 0, &l->ru) == l->pid)
			l->done = true;
	}
	if (WIFEXITED(l->status))
		return WEXITSTATUS(l->status);
	if (WIFSIGNALED(l->status)) {
		/* what a shell would say of it, which sees only ebprof's status */
		if (!l->stopped)
			pr_warn("the command was killed by signal %d (%s)%s\n", WTERMSIG(l->status),
				strsignal(WTERMSIG(l->status)), WCOREDUMP(l->status) ? ", core dumped" : "");
		return 128 + WTERMSIG(l->status);
	}
	return 1;
}

FILE *open_output(const char *path)
{
	FILE *f;
	int fd;

	/* root writes it: never through a symbolic link an attacker planted */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno == ELOOP)
			pr_err("refusing to write '%s': it is a symbolic link; remove it or pick another name\n", path);
		else
			pr_err("cannot write '%s': %s\n", path, strerror(errno));
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		pr_err("cannot write '%s': %s\n", path, strerror(errno));
		close(fd);
	}
	return f;
}

FILE *open_output_tmp(const char *path, char **tmp)
{
	struct stat st;
	FILE *f;
	int fd;

	*tmp = NULL;
	/* root writes it: never through a symbolic link an attacker planted */
	if (!lstat(path, &st) && S_ISLNK(st.st_mode)) {
		pr_err("refusing to write '%s': it is a symbolic link; remove it or pick another name\n", path);
		return NULL;
	}
	/* a device or a FIFO (-o /dev/null): written as it is, never replaced by a file */
	if (!lstat(path, &st) && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode)) {
			pr_err("cannot write '%s': it is a directory\n", path);
			return NULL;
		}
		fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || !(f = fdopen(fd, "w"))) {
			pr_err("cannot write '%s': %s\n", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return NULL;
		}
		return f;
	}
	if (asprintf(tmp, "%s.XXXXXX", path) < 0) {
		*tmp = NULL;
		pr_err("out of memory\n");
		return NULL;
	}
	/* O_EXCL: a new file of ours, whatever an attacker put in the way */
	fd = mkostemp(*tmp, O_CLOEXEC);
	if (fd < 0 || fchmod(fd, 0644) || !(f = fdopen(fd, "w"))) {
		pr_err("cannot write '%s': %s\n", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(*tmp);
		}
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	return f;
}

int close_output(FILE *f, const char *path, char *tmp, bool ok)
{
	int err = 0;

	/* not a file of ours (a device, a FIFO): nothing to sync or rename */
	if (!tmp) {
		if (fflush(f) || ferror(f))
			err = -(errno ? errno : EIO);
		if (fclose(f) && !err)
			err = -errno;
		if (ok && err)
			pr_err("cannot write '%s': %s\n", path, strerror(-err));
		return err;
	}
	if (fflush(f) || ferror(f) || fsync(fileno(f)))
		err = -(errno ? errno : EIO);
	if (fclose(f) && !err)
		err = -errno;
	if (ok && err)
		pr_err("cannot write '%s': %s\n", path, strerror(-err));
	/* rename() replaces a name, a link planted since too, and follows none */
	if (ok && !err && rename(tmp, path)) {
		err = -errno;
		pr_err("cannot write '%s': %s\n", path, strerror(errno));
	}
	if (!ok || err)
		unlink(tmp);
	free(tmp);
	return err;
}

bool ensure_tracefs(void)
{
	if (!access("/sys/kernel/tracing/events", F_OK) ||
	    !access("/sys/kernel/debug/tracing/events", F_OK))
		return true;
	/*
	 * Not mounted: mount it where only ebprof sees it, in a mount
	 * namespace of its own that goes away with it.  Mounts from the host
	 * still propagate in (slave), none leak out.
	 */
	if (unshare(CLONE_NEWNS))
		return false;
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL))
		return false;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		return false;
	return !access("/sys/kernel/tracing/events", F_OK);
}

static int task_counter_add(struct task_counter *c, int tid, struct perf_event_attr *attr)
{
	int fd;

	if (GROW(c->fds, c->n, c->cap, 16))
		return -ENOMEM;
	fd = syscall(__NR_perf_event_open, attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0 && errno == EINVAL && attr->inherit_thread) {
		/* before 5.13: children processes are counted too */
		attr->inherit_thread = 0;
		fd = syscall(__NR_perf_event_open, attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	c->fds[c->n++] = fd;
	return 0;
}

int task_counter__open(struct task_counter *c, int pid, __u32 type, __u64 config, bool all_tasks,
		       bool threads_only)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr), .type = type, .config = config, .inherit = 1,
		.inherit_thread = threads_only,
	};
	char path[64];
	struct dirent *de;
	size_t had = c->n;
	DIR *d;
	int err = 0;

	if (!all_tasks)
		return task_counter_add(c, pid, &attr);
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while (!err && (de = readdir(d)))
		if (atoi(de->d_name) > 0) {
			err = task_counter_add(c, atoi(de->d_name), &attr);
			/* a thread that ended since the listing */
			if (err == -ESRCH)
				err = 0;
		}
	closedir(d);
	return err ? err : c->n > had ? 0 : -ESRCH;
}

int task_counter__read(const struct task_counter *c, uint64_t *sum)
{
	size_t i;

	*sum = 0;
	for (i = 0; i < c->n; i++) {
		uint64_t v;

		if (read(c->fds[i], &v, sizeof(v)) != sizeof(v))
			return -EIO;
		*sum += v;
	}
	return c->n ? 0 : -ENOENT;
}

void task_counter__close(struct task_counter *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		close(c->fds[i]);
	free(c->fds);
	memset(c, 0, sizeof(*c));
}
