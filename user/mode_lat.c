// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mode_lat.c - ebprof lat: the duration of every call of the functions
 * named, by an entry and a return probe on each (uprobe.multi links, one
 * pair per file, where the kernel has them).  It finds the functions in
 * the files the target maps (a launched command's before it runs), says
 * which names match nothing or several, attaches before a held command
 * starts and as libraries arrive, and sums the calls, per function, out
 * of bpf/lat.bpf.c's per-CPU maps; -i flips the half new calls go to and
 * prints the other.  Its report and names: lat_report.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/perf_event.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "run.h"
#include "lat.h"
#include "lat.skel.h"
#include "uprobes.h"
#include "python.h"
#include "pyframes.h"
#include "sym/demangle.h"
#include "sym/elf.h"
#include "util/grow.h"
#include "util/log.h"

/* a function timed */
struct lat_func {
	char *name;		/* shown: demangled */
	char *module;		/* its file's name */
	char *path;		/* the path it is probed through */
	dev_t dev;
	ino_t ino;
	uint64_t vaddr, offset;
	struct bpf_link *entry, *ret;	/* a uprobe each, without uprobe.multi */
};

/* a file's functions, attached with one uprobe.multi link for entries and one for returns */
struct lat_file {
	size_t first, n;	/* its functions: contiguous */
	int entry_fd, ret_fd;
};

struct lat_mode {
	struct lat_bpf *skel;
	struct lat_pattern *pats;
	size_t npats;
	struct pat_fns { size_t *v, n, cap; } *pat_fns;	/* the functions each pattern matched */
	bool *pat_lib_seen;		/* a file its LIB names was looked at */
	char **pat_stripped;		/* ... and had no symbol table: its name */
	struct lat_func *fns;
	size_t nfns, fns_cap, max_fns;	/* the maps have room for max_fns */
	size_t over;			/* functions found once the maps were full */
	struct lat_file *files;
	size_t nfiles, files_cap;
	struct uprobe_files uf;
	size_t nfiles_seen;
	bool multi, attached, resolving;
	int pid;
	int ncpus;
	struct lat_sum *acc;		/* -i: the intervals already printed, summed */
	uint64_t *hist_acc;
	__u64 mono0;			/* CLOCK_MONOTONIC ns at the start */
	double last_reset;
	uint64_t calls_printed;
	/* Python functions, by sampling (a CPython target: names without a library are its functions) */
	bool py_target;			/* the target is CPython */
	bool script;			/* a launched script: what it runs is found as it runs */
	bool *pat_py;			/* the pattern names Python functions */
	bool python;			/* some do */
	uint64_t period_ns;		/* the sampling period */
	struct lat_pyfn *pyfns;		/* the Python functions seen called */
	size_t npyfns, pyfns_cap;
	struct lat_pycode { uint64_t code; uint32_t sum, tgid; int fn; } *codes;	/* code object -> pyfns index, -1 */
	size_t ncodes, codes_cap;	/* open addressing, cap a power of 2 */
	struct lat_pythread *threads;
	size_t nthreads, threads_cap;
	int *pefds;			/* the clock on each CPU */
	struct bpf_link **plinks;
	uint64_t py_obs, py_dropped;	/* observations; calls in flight at the end */
	/* --exact: Python functions by probes on _PyEval_EvalFrameDefault */
	bool exact;
	size_t npyx;			/* patterns timed so, in the top npyx slots of the sums */
	size_t *pyx_pat;		/* ... which pattern each is */
	char pyx_path[PATH_MAX];	/* the file the eval loop is in, "" until found */
	uint64_t pyx_offset;
	unsigned int pyx_minor;
	bool pyx_on;
	bool pyx_hook;			/* 3.12+: the eval-frame hook is on (-X perf) */
	int pyx_entry_fd, pyx_ret_fd;
	struct bpf_link *pyx_entry, *pyx_ret;
};

/* a Python function (by qualified name and file) and its calls */
struct lat_pyfn {
	char *name, *file;
	struct lat_sum sum, isum;	/* the whole run, this interval (-i) */
	uint64_t *hist, *ihist;
};

/* a call of one, followed from its first observation to its last */
struct lat_pycall {
	size_t fn;
	uint64_t key;		/* its frame and the frames (and lines) that called it */
	uint64_t first, last;
	bool seen;
};

struct lat_pythread {
	uint32_t tid;
	uint64_t last_end;	/* the end of its last observation */
	struct lat_pycall *calls;
	size_t n, cap;
};

#define L(r) ((struct lat_mode *)(r)->mode)

static double mono_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * the launched command is CPython, or no ELF file (a script); it runs with
 * CPython's eval-frame hook on (set before the launch, read in open)
 */
static bool launching_cpython, launching_script, launching_hook, launching_set_hook;

static bool file_is_elf(const char *path)
{
	char magic[4] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool yes = fd >= 0 && read(fd, magic, 4) == 4 && !memcmp(magic, "\177ELF", 4);

	if (fd >= 0)
		close(fd);
	return yes;
}

static bool file_is_cpython(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct dso *d;
	bool yes;

	if (fd < 0)
		return false;
	d = dso__new_fd(fd, path, "");
	if (!d) {
		close(fd);
		return false;
	}
	yes = dso__mentions(d, "Py_BytesMain");
	dso__free(d);
	return yes;
}

static void lat_before_launch(const struct ebprof_opts *o, const char *path)
{
	const char *perf = getenv("PYTHONPERFSUPPORT");

	launching_cpython = file_is_cpython(path);
	launching_script = !file_is_elf(path);
	/*
	 * --exact on 3.12 and later: their eval-frame hook on (as -X perf),
	 * with which they enter the eval loop once a Python call (3.11 and
	 * older ignore the variable)
	 */
	if (o->lat.exact && (launching_cpython || launching_script) && !perf) {
		setenv("PYTHONPERFSUPPORT", "1", 1);
		launching_set_hook = true;
		perf = "1";
	}
	launching_hook = perf && !strcmp(perf, "1");
}

static int lat_open(struct run *r)
{
	struct lat_mode *m = calloc(1, sizeof(*m));
	const char *why = NULL;

	r->mode = m;
	if (!m) {
		pr_err("out of memory\n");
		return 1;
	}
	m->ncpus = libbpf_num_possible_cpus();
	m->pyx_entry_fd = m->pyx_ret_fd = -1;
	m->exact = r->o->lat.exact;	/* the eval loop is looked for as files are */
	if (lat_parse_patterns(r->o->lat.funcs, &m->pats, &m->npats, &why)) {
		pr_err("%s in '%s'\n", why, r->o->lat.funcs);
		return EXIT_USAGE;
	}
	m->pat_fns = calloc(m->npats, sizeof(*m->pat_fns));
	m->pat_lib_seen = calloc(m->npats, sizeof(*m->pat_lib_seen));
	m->pat_stripped = calloc(m->npats, sizeof(*m->pat_stripped));
	if (!m->pat_fns || !m->pat_lib_seen || !m->pat_stripped) {
		pr_err("out of memory\n");
		return 1;
	}
	m->pat_py = calloc(m->npats, sizeof(*m->pat_py));
	if (!m->pat_py) {
		pr_err("out of memory\n");
		return 1;
	}
	if (r->l && r->l->pid) {
		m->py_target = launching_cpython;
		m->script = launching_script;
		m->pyx_hook = launching_hook;
	} else {
		char exe[64];

		snprintf(exe, sizeof(exe), "/proc/%d/exe", r->o->pids[0]);
		m->py_target = file_is_cpython(exe);
		m->pyx_hook = proc_environ_has(r->o->pids[0], "PYTHONPERFSUPPORT=1") ||
			      proc_cmdline_has(r->o->pids[0], "-Xperf") ||
			      (proc_cmdline_has(r->o->pids[0], "-X") && proc_cmdline_has(r->o->pids[0], "perf"));
	}
	/* --no-python: its functions are native ones, as anywhere else */
	m->py_target = m->py_target && !r->o->no_python;
	/* the Python walker for a CPython target, no native stacks ever */
	r->stacks = (m->py_target || m->script) && !r->o->no_python ? RUN_STACKS_PYTHON : RUN_STACKS_NONE;
	m->skel = lat_bpf__open();
	if (!m->skel) {
		pr_err("cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	r->b = SESSION_BPF(m->skel);
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static int file_attach(struct run *r, struct lat_file *f);
static int func_attach(struct run *r, size_t i);
static void pyx_scan(struct run *r, struct dso *d, const char *path);
static int pyx_check(struct run *r);

/* pattern *k* matched function *i* */
static void pat_hit(struct lat_mode *m, size_t k, size_t i)
{
	struct pat_fns *pf = &m->pat_fns[k];
	size_t j;

	for (j = 0; j < pf->n; j++)
		if (pf->v[j] == i)
			return;
	if (!GROW(pf->v, pf->n, pf->cap, 4))
		pf->v[pf->n++] = i;
}

/* function *s* of *d* (probed through *path*), which pattern *k* matched: timed from now on */
static void add_func(struct run *r, struct dso *d, const char *path, const struct stat *st, const struct sym *s,
		     const char *shown, size_t k)
{
	struct lat_mode *m = L(r);
	struct lat_func *f;
	size_t i;

	for (i = 0; i < m->nfns; i++)
		if (m->fns[i].dev == st->st_dev && m->fns[i].ino == st->st_ino && m->fns[i].vaddr == s->addr) {
			pat_hit(m, k, i);	/* another name of one already timed */
			return;
		}
	if (!m->resolving && m->nfns + m->npyx >= m->max_fns) {
		m->over++;
		return;
	}
	if (GROW(m->fns, m->nfns, m->fns_cap, 16))
		return;
	f = &m->fns[m->nfns];
	memset(f, 0, sizeof(*f));
	if (!dso__vaddr_to_offset(d, s->addr, &f->offset)) {
		pr_debug("lat: %s in %s: no file offset for %#llx\n", shown, path, (unsigned long long)s->addr);
		return;
	}
	f->name = strdup(shown);
	f->module = strdup(base_name(dso__path(d)));
	f->path = strdup(path);
	if (!f->name || !f->module || !f->path) {
		free(f->name);
		free(f->module);
		free(f->path);
		return;
	}
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->vaddr = s->addr;
	pat_hit(m, k, m->nfns);
	m->nfns++;
	pr_debug("lat: %s in %s at %#llx (file offset %#llx)\n", f->name, path, (unsigned long long)s->addr,
		 (unsigned long long)f->offset);
}

/* is pattern *k* looked for among the native functions of *d* (probed through *path*)? */
static bool pat_applies(const struct lat_mode *m, size_t k, struct dso *d, const char *path)
{
	const struct lat_pattern *p = &m->pats[k];

	if (m->py_target && !p->lib)
		return false;	/* a Python function */
	return !p->lib || lat_lib_matches(p->lib, dso__path(d)) || lat_lib_matches(p->lib, path);
}

/* the functions of *d* the patterns name, probed through *path* */
static void scan_file(void *ctx, struct dso *d, const char *path)
{
	struct run *r = ctx;
	struct lat_mode *m = L(r);
	size_t i, k, n, first = m->nfns;
	bool any = false, cxx = false;
	struct stat st;

	if (stat(path, &st))
		return;
	m->nfiles_seen++;
	if (m->exact)
		pyx_scan(r, d, path);
	for (k = 0; k < m->npats; k++) {
		if (!pat_applies(m, k, d, path))
			continue;
		any = true;
		cxx = cxx || m->pats[k].cxx;
		if (m->pats[k].lib) {
			char bid[128];

			m->pat_lib_seen[k] = true;
			if (!m->pat_stripped[k] && dso__debug_wanted(d, bid, sizeof(bid)))
				m->pat_stripped[k] = strdup(base_name(dso__path(d)));
		}
	}
	if (!any)
		return;
	n = dso__nr_syms(d);
	for (i = 0; i < n; i++) {
		const struct sym *s = dso__sym_at(d, i);
		char *dm = NULL;

		if (!s)
			break;
		if (cxx && (!strncmp(s->name, "_Z", 2) || !strncmp(s->name, "_R", 2)))
			dm = demangle(s->name);
		for (k = 0; k < m->npats; k++) {
			if (!pat_applies(m, k, d, path))
				continue;
			if (lat_name_matches(&m->pats[k], s->name, dm))
				add_func(r, d, path, &st, s, dm ? dm : s->name, k);
		}
		free(dm);
	}
	/* another name at an address one of the files' symbols already has (an alias): by its own name */
	for (k = 0; k < m->npats; k++) {
		uint64_t v, size;
		struct sym alias;

		if (!pat_applies(m, k, d, path) || m->pats[k].glob || m->pats[k].cxx || m->pat_fns[k].n)
			continue;
		if (!dso__symbol(d, m->pats[k].func, &v, &size) || !dso__find(d, v) || dso__find(d, v)->addr != v)
			continue;
		alias = (struct sym){ .addr = v, .size = size, .name = m->pats[k].func };
		add_func(r, d, path, &st, &alias, m->pats[k].func, k);
	}
	if (m->nfns == first)
		return;
	if (!GROW(m->files, m->nfiles, m->files_cap, 8)) {
		struct lat_file *f = &m->files[m->nfiles++];

		f->first = first;
		f->n = m->nfns - first;
		f->entry_fd = f->ret_fd = -1;
		if (m->attached) {
			int err = m->multi ? file_attach(r, f) : 0;

			for (i = first; !m->multi && !err && i < m->nfns; i++)
				err = func_attach(r, i);
			if (err)
				pr_warn("cannot probe the functions of %s: %s\n", path, strerror(-err));
		}
	}
}

static int file_attach(struct run *r, struct lat_file *f)
{
	struct lat_mode *m = L(r);
	uint64_t *offs = calloc(f->n, sizeof(*offs)), *cookies = calloc(f->n, sizeof(*cookies));
	int err = -ENOMEM;
	size_t i;

	for (i = 0; offs && cookies && i < f->n; i++) {
		offs[i] = m->fns[f->first + i].offset;
		cookies[i] = f->first + i;
	}
	if (offs && cookies)
		err = uprobe_multi_pair(bpf_program__fd(m->skel->progs.eb_lat_m_entry),
					bpf_program__fd(m->skel->progs.eb_lat_m_ret), m->fns[f->first].path, offs,
					cookies, f->n, m->pid, &f->entry_fd, &f->ret_fd);
	free(offs);
	free(cookies);
	return err;
}

static int func_attach(struct run *r, size_t i)
{
	struct lat_mode *m = L(r);
	struct lat_func *f = &m->fns[i];

	return uprobe_attach_pair(m->skel->progs.eb_lat_entry, m->skel->progs.eb_lat_ret, m->pid, f->path, f->offset,
				  NULL, i, &f->entry, &f->ret);
}

/* every function found so far, attached */
static int attach_all(struct run *r)
{
	struct lat_mode *m = L(r);
	size_t i;
	int err;

	m->attached = true;
	if (m->multi) {
		for (i = 0; i < m->nfiles; i++) {
			err = file_attach(r, &m->files[i]);
			if (err) {
				pr_err("cannot probe the functions of %s: %s\n", m->fns[m->files[i].first].path,
				       strerror(-err));
				return 1;
			}
		}
		return 0;
	}
	for (i = 0; i < m->nfns; i++) {
		err = func_attach(r, i);
		if (err) {
			pr_err("cannot probe %s in %s: %s\n", m->fns[i].name, m->fns[i].path, strerror(-err));
			return 1;
		}
	}
	return 0;
}

/* the entries' links, or the returns' */
static void detach_half(struct lat_mode *m, bool ret)
{
	int *pfd = ret ? &m->pyx_ret_fd : &m->pyx_entry_fd;
	struct bpf_link **pl = ret ? &m->pyx_ret : &m->pyx_entry;
	size_t i;

	for (i = 0; i < m->nfiles; i++) {
		int *fd = ret ? &m->files[i].ret_fd : &m->files[i].entry_fd;

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	for (i = 0; i < m->nfns; i++) {
		struct bpf_link **l = ret ? &m->fns[i].ret : &m->fns[i].entry;

		bpf_link__destroy(*l);
		*l = NULL;
	}
	if (*pfd >= 0)
		close(*pfd);
	*pfd = -1;
	bpf_link__destroy(*pl);
	*pl = NULL;
}

/* the entries first, then the returns: a call entered is either timed whole or not at all */
static void detach_all(struct run *r)
{
	detach_half(L(r), false);
	detach_half(L(r), true);
	L(r)->attached = false;
}

/* the names that match nothing or, not being patterns, several functions: said; 0 or an exit status */
static int check_patterns(struct run *r)
{
	struct lat_mode *m = L(r);
	const char *who = r->l && r->l->pid ? "the command or the libraries it links" : "the process's code";
	size_t k, i;

	for (k = 0; k < m->npats; k++) {
		const struct lat_pattern *p = &m->pats[k];

		if (m->pat_fns[k].n || m->pat_py[k])
			continue;
		if (m->script) {
			pr_info("%s: looked for as the command runs (it is a script)\n", p->text);
			continue;
		}
		if (p->lib && !m->pat_lib_seen[k]) {
			pr_info("no library '%s' mapped yet: %s is probed once one is loaded\n", p->lib, p->text);
			continue;
		}
		if (m->pat_stripped[k]) {
			pr_err("no function '%s' in %s, which is stripped (no symbol table, and no debug file here or from debuginfod): install its debug symbols (the -dbgsym package) and rerun\n",
			       p->func, m->pat_stripped[k]);
			return 1;
		}
		if (p->lib)
			pr_err("no function '%s' in '%s'%s\n", p->func, p->lib,
			       p->cxx ? "" : " (a C++ function: give its name with its scope, as ns::Class::method)");
		else
			pr_err("no function '%s' in %s (%zu files); a library loaded later: name it as LIB:%s\n", p->func,
			       who, m->nfiles_seen, p->func);
		return 1;
	}
	/* a plain name for several functions: which one was meant? */
	for (k = 0; k < m->npats; k++) {
		const struct pat_fns *pf = &m->pat_fns[k];
		char list[1024];
		size_t len = 0;

		if (m->pats[k].glob || pf->n < 2)
			continue;
		list[0] = '\0';
		for (i = 0; i < pf->n && len < sizeof(list); i++)
			len += snprintf(list + len, sizeof(list) - len, "%s%s:%s", i ? ", " : "", m->fns[pf->v[i]].module,
					m->fns[pf->v[i]].name);
		pr_err("'%s' names %zu functions: %s; name one (LIB:FUNC, or a C++ name with its parameters), or all of them with a pattern such as '%s*'\n",
		       m->pats[k].text, pf->n, list, m->pats[k].text);
		return 1;
	}
	return 0;
}

static int lat_configure(struct run *r)
{
	struct lat_mode *m = L(r);
	struct lat_bpf *k = m->skel;
	char **cmd = r->l && r->l->pid ? r->o->cmd : NULL;
	size_t headroom;
	int err;

	m->pid = run_target_pid(r);
	m->uf.scan = scan_file;
	m->uf.ctx = r;
	m->resolving = true;
	if (cmd) {
		uprobe_files__command(&m->uf, cmd, true);
	} else {
		err = symbolizer__snapshot(r->sym, m->pid, 0);
		if (err) {
			pr_err("cannot read the mappings of pid %d: %s\n", m->pid, strerror(-err));
			return 1;
		}
		uprobe_files__mapped(&m->uf, r->sym, m->pid);
	}
	m->resolving = false;
	/* a CPython target: names without a library, and MODULE:FUNC where no file is MODULE, are its functions */
	for (size_t k = 0; m->py_target && k < m->npats; k++) {
		m->pat_py[k] = !m->pats[k].lib || (!m->pat_lib_seen[k] && !m->pats[k].cxx);
		m->python = m->python || m->pat_py[k];
	}
	/* a script: a name found nowhere yet may be a Python function of the interpreter it runs */
	for (size_t k = 0; m->script && !r->o->no_python && k < m->npats; k++) {
		m->pat_py[k] = !m->pat_fns[k].n && !m->pats[k].cxx;
		m->python = m->python || m->pat_py[k];
	}
	/* --exact: the Python names are timed by the eval loop's probes, not followed by sampling */
	if (m->exact) {
		for (size_t k = 0; k < m->npats; k++) {
			if (!m->pat_py[k])
				continue;
			if (m->pats[k].glob || strlen(m->pats[k].func) >= EBPROF_LAT_PYX_NAME) {
				pr_err("--exact takes Python functions by their names, no patterns: '%s'\n", m->pats[k].text);
				return EXIT_USAGE;
			}
			m->npyx++;
		}
		if (!m->npyx) {
			pr_err("--exact is for Python functions: %s\n",
			       m->py_target || m->script ? "name some" : "the target is no CPython (its functions are all timed exactly)");
			return EXIT_USAGE;
		}
		if (m->npyx > EBPROF_LAT_PYX_MAX) {
			pr_err("--exact: at most %d Python functions\n", EBPROF_LAT_PYX_MAX);
			return EXIT_USAGE;
		}
		m->python = false;
		if (!m->script && !m->pyx_path[0]) {
			pr_err("--exact: no CPython eval loop (_PyEval_EvalFrameDefault) in the target's files\n");
			return 1;
		}
		if (m->pyx_path[0] && pyx_check(r))
			return 1;
		m->pyx_pat = calloc(m->npyx, sizeof(*m->pyx_pat));
		if (!m->pyx_pat) {
			pr_err("out of memory\n");
			return 1;
		}
	}
	if (m->python && !*r->b.targ_python) {
		pr_err("Python functions need the Python walker: %s\n",
		       r->o->no_python ? "drop --no-python" : "the kernel lacks bpf_loop (5.17)");
		return EXIT_NOFEATURE;
	}
	err = check_patterns(r);
	if (err)
		return err;
	/* room for what libraries loaded later bring, and --exact's Python functions */
	headroom = m->nfns < 32 ? 32 : m->nfns;
	m->max_fns = m->nfns + headroom + m->npyx;
	if (m->max_fns > EBPROF_LAT_MAX_FUNCS)
		m->max_fns = m->nfns > EBPROF_LAT_MAX_FUNCS ? m->nfns : EBPROF_LAT_MAX_FUNCS;
	if (m->nfns > EBPROF_LAT_MAX_FUNCS) {
		pr_err("%zu functions match '%s': at most %d can be timed; name fewer\n", m->nfns, r->o->lat.funcs,
		       EBPROF_LAT_MAX_FUNCS);
		return 1;
	}
	m->multi = uprobe_multi_supported();
	bpf_program__set_autoload(k->progs.eb_lat_entry, !m->multi);
	bpf_program__set_autoload(k->progs.eb_lat_ret, !m->multi);
	bpf_program__set_autoload(k->progs.eb_lat_m_entry, m->multi);
	bpf_program__set_autoload(k->progs.eb_lat_m_ret, m->multi);
	if (m->multi) {
		bpf_program__set_expected_attach_type(k->progs.eb_lat_m_entry, EBPROF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(k->progs.eb_lat_m_ret, EBPROF_TRACE_UPROBE_MULTI);
	}
	k->rodata->targ_nfuncs = m->max_fns;
	k->rodata->targ_per_call = r->o->lat.per_call;
	k->rodata->targ_call_limit = r->o->lat.call_limit;
	bpf_map__set_max_entries(k->maps.lat_sums, 2 * m->max_fns);
	bpf_map__set_max_entries(k->maps.lat_hist, 2 * m->max_fns * EBPROF_LAT_BUCKETS);
	bpf_map__set_max_entries(k->maps.lat_stacks, r->o->map_size / 4 > 1024 ? r->o->map_size / 4 : 1024);
	bpf_map__set_max_entries(k->maps.lat_calls, r->o->lat.per_call ? 1 << 20 : 4096);
	/* Python: the clock at -F (999 Hz unless given), switch-outs longer than a quarter period */
	m->period_ns = 1000000000ULL / (r->o->freq_set ? r->o->freq : 999);
	k->rodata->targ_py_min_off_ns = m->period_ns / 4;
	bpf_program__set_autoload(k->progs.eb_lat_pyx_entry, m->exact && !m->multi);
	bpf_program__set_autoload(k->progs.eb_lat_pyx_m_entry, m->exact && m->multi);
	if (m->multi)
		bpf_program__set_expected_attach_type(k->progs.eb_lat_pyx_m_entry, EBPROF_TRACE_UPROBE_MULTI);
	bpf_map__set_max_entries(k->maps.lat_pyx_codes, m->exact ? 65536 : 1);
	bpf_program__set_autoload(k->progs.eb_lat_py_sample, m->python);
	bpf_program__set_autoload(k->progs.eb_lat_py_switch, m->python);
	bpf_map__set_max_entries(k->maps.lat_py_outs, m->python ? 4096 : 1);
	bpf_map__set_max_entries(k->maps.lat_py_events, m->python ? 8 << 20 : 4096);
	if (m->python) {
		bpf_map__set_max_entries(k->maps.pystacks, 1);
		m->pefds = calloc(r->ncpus, sizeof(*m->pefds));
		m->plinks = calloc(r->ncpus, sizeof(*m->plinks));
		if (!m->pefds || !m->plinks) {
			pr_err("out of memory\n");
			return 1;
		}
		for (int c = 0; c < r->ncpus; c++)
			m->pefds[c] = -1;
	}
	m->acc = calloc(m->max_fns, sizeof(*m->acc));
	m->hist_acc = calloc(m->max_fns * EBPROF_LAT_BUCKETS, sizeof(*m->hist_acc));
	if (!m->acc || !m->hist_acc) {
		pr_err("out of memory\n");
		return 1;
	}
	r->snapshot_s = r->o->lat.interval;
	r->p->meta.mode = "lat";
	r->p->meta.event = "uprobes";
	return profile__set_values(r->p, 1, &(struct profile_value){ "calls", "count" }) ? 1 : 0;
}

/* is the code in *file* the module *mod* ("pkg.mod": .../pkg/mod.py or .../pkg/mod/__init__.py)? */
static bool py_module_matches(const char *mod, const char *file)
{
	char want[512], *c;
	size_t fl = strlen(file), wl;
	const char *base = strrchr(file, '/');

	base = base ? base + 1 : file;
	if (!strncmp(base, mod, strlen(mod)) && !strcmp(base + strlen(mod), ".py"))
		return true;
	snprintf(want, sizeof(want), "/%s.py", mod);
	for (c = want + 1; *c; c++)
		if (*c == '.' && strcmp(c, ".py"))
			*c = '/';
	wl = strlen(want);
	if (fl >= wl && !strcmp(file + fl - wl, want))
		return true;
	snprintf(want + wl - 3, sizeof(want) - (wl - 3), "/__init__.py");
	wl = strlen(want);
	return fl >= wl && !strcmp(file + fl - wl, want);
}

/*
 * does pattern *p* name the Python function *qualname* of *file*?  FUNC
 * matches the qualified name or its last part; CLASS.METHOD the qualified
 * name, or the name alone where the interpreter (3.10 and older) keeps
 * no qualified names; MODULE:FUNC also the file
 */
static bool py_matches(const struct lat_pattern *p, const char *qualname, const char *file)
{
	const char *last = strrchr(qualname, '.'), *plast = strrchr(p->func, '.');

	last = last ? last + 1 : qualname;
	if (p->lib && !py_module_matches(p->lib, file))
		return false;
	if (!fnmatch(p->func, qualname, 0))
		return true;
	if (!plast && !fnmatch(p->func, last, 0))
		return true;
	return plast && !strchr(qualname, '.') && !fnmatch(plast + 1, qualname, 0);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

/* the Python function code object *code* is, as an index into pyfns, or -1: named once */
static int py_code_fn(struct run *r, uint32_t tgid, uint64_t code, uint32_t sum)
{
	struct lat_mode *m = L(r);
	const struct py_code *c;
	size_t i, k, mask;
	int fn = -1;

	if (m->codes_cap) {
		mask = m->codes_cap - 1;
		for (i = mix(code, sum) & mask;; i = (i + 1) & mask) {
			if (!m->codes[i].code)
				break;
			if (m->codes[i].code == code && m->codes[i].sum == sum && m->codes[i].tgid == tgid)
				return m->codes[i].fn;
		}
	}
	run_py_catch_up(r);
	c = py__code(r->py, tgid, code, sum);
	for (k = 0; c && c->name && c->file && k < m->npats; k++) {
		if (!m->pat_py[k] || !py_matches(&m->pats[k], c->name, c->file))
			continue;
		for (i = 0; i < m->npyfns; i++)
			if (!strcmp(m->pyfns[i].name, c->name) && !strcmp(m->pyfns[i].file, c->file))
				break;
		if (i == m->npyfns && !GROW(m->pyfns, m->npyfns, m->pyfns_cap, 8)) {
			struct lat_pyfn *f = &m->pyfns[m->npyfns];

			memset(f, 0, sizeof(*f));
			f->name = strdup(c->name);
			f->file = strdup(c->file);
			f->hist = calloc(EBPROF_LAT_BUCKETS, sizeof(*f->hist));
			f->ihist = calloc(EBPROF_LAT_BUCKETS, sizeof(*f->ihist));
			if (f->name && f->file && f->hist && f->ihist) {
				m->npyfns++;
				pat_hit(m, k, i);
				pr_debug("lat: Python %s (%s) matches '%s'\n", f->name, f->file, m->pats[k].text);
			} else {
				free(f->name);
				free(f->file);
				free(f->hist);
				free(f->ihist);
			}
		}
		fn = i < m->npyfns ? (int)i : -1;
		break;
	}
	/* remembered, at most half full */
	if (2 * (m->ncodes + 1) > m->codes_cap) {
		size_t cap = m->codes_cap ? 2 * m->codes_cap : 1024;
		struct lat_pycode *t = calloc(cap, sizeof(*t));

		if (!t)
			return fn;
		for (k = 0; k < m->codes_cap; k++) {
			if (!m->codes[k].code)
				continue;
			for (i = mix(m->codes[k].code, m->codes[k].sum) & (cap - 1); t[i].code; i = (i + 1) & (cap - 1))
				;
			t[i] = m->codes[k];
		}
		free(m->codes);
		m->codes = t;
		m->codes_cap = cap;
	}
	mask = m->codes_cap - 1;
	for (i = mix(code, sum) & mask; m->codes[i].code; i = (i + 1) & mask)
		;
	m->codes[i] = (struct lat_pycode){ code, sum, tgid, fn };
	m->ncodes++;
	return fn;
}

static void sum_add(struct lat_sum *s, uint64_t ns)
{
	s->count++;
	s->total_ns += ns;
	if (!s->min_ns || ns < s->min_ns)
		s->min_ns = ns ? ns : 1;
	if (ns > s->max_ns)
		s->max_ns = ns;
}

/* a Python call seen for the last time at c->last */
static void py_call_done(struct run *r, const struct lat_pycall *c, uint32_t tid)
{
	struct lat_mode *m = L(r);
	struct lat_pyfn *f = &m->pyfns[c->fn];
	uint64_t ns = c->last - c->first;
	uint32_t b = ebprof_lat_bucket(ns);
	char d[24];

	sum_add(&f->sum, ns);
	sum_add(&f->isum, ns);
	f->hist[b]++;
	f->ihist[b]++;
	if (r->o->lat.per_call && m->calls_printed < (uint64_t)r->o->lat.call_limit * ((mono_sec() - m->mono0 / 1e9) + 1)) {
		printf("%12.6f  %-30s %12s  tid %u\n", (c->last - m->mono0) / 1e9, f->name, lat_fmt_ns(ns, d, sizeof(d)),
		       tid);
		m->calls_printed++;
	}
}

static struct lat_pythread *py_thread(struct lat_mode *m, uint32_t tid)
{
	size_t i;

	for (i = 0; i < m->nthreads; i++)
		if (m->threads[i].tid == tid)
			return &m->threads[i];
	if (GROW(m->threads, m->nthreads, m->threads_cap, 8))
		return NULL;
	memset(&m->threads[m->nthreads], 0, sizeof(m->threads[0]));
	m->threads[m->nthreads].tid = tid;
	return &m->threads[m->nthreads++];
}

/*
 * One observation of a thread's Python stack: the calls of the functions
 * named in it go on (the same frame under the same callers and lines) or
 * start; those it no longer has ended at the thread's last observation.
 * A clock sample stands for the period before it, a time off the CPU for
 * itself.
 */
static int on_py_obs(void *ctx, void *data, size_t len)
{
	struct run *r = ctx;
	struct lat_mode *m = L(r);
	const struct lat_py_obs *o = data;
	struct lat_pythread *th;
	struct { size_t fn; uint64_t key; } cur[EBPROF_LAT_PY_FRAMES];
	size_t ncur = 0, i, k;
	uint64_t key = 0x5e9, t0, t1;
	int d;

	if (len < sizeof(*o) || o->nr > EBPROF_LAT_PY_FRAMES || !(th = py_thread(m, o->tid)))
		return 0;
	m->py_obs++;
	t1 = o->t1;
	t0 = o->kind == EBPROF_LAT_PY_ON ? t1 - m->period_ns : o->t0;
	if (t0 < th->last_end)
		t0 = th->last_end;
	if (t1 < th->last_end)
		return 0;	/* out of order: not this thread's timeline */
	for (d = o->nr - 1; d >= 0; d--) {
		const struct py_frame *f = &o->f[d];
		int fn;

		if (!f->code || (f->flags & EBPROF_PYF_EMPTY)) {
			key = mix(key, 0x5e9);
			continue;
		}
		fn = py_code_fn(r, o->tgid, f->code, f->sum);
		if (fn >= 0) {
			cur[ncur].fn = fn;
			cur[ncur++].key = mix(key, f->code);
		}
		key = mix(mix(key, f->code), f->instr);
	}
	for (i = 0; i < th->n; i++)
		th->calls[i].seen = false;
	for (k = 0; k < ncur; k++) {
		for (i = 0; i < th->n; i++)
			if (th->calls[i].key == cur[k].key && th->calls[i].fn == cur[k].fn)
				break;
		if (i < th->n) {
			th->calls[i].last = t1;
			th->calls[i].seen = true;
		} else if (!GROW(th->calls, th->n, th->cap, 4)) {
			th->calls[th->n++] = (struct lat_pycall){ cur[k].fn, cur[k].key, t0, t1, true };
		}
	}
	for (i = 0; i < th->n;) {
		if (th->calls[i].seen) {
			i++;
			continue;
		}
		py_call_done(r, &th->calls[i], th->tid);
		th->calls[i] = th->calls[--th->n];
	}
	th->last_end = t1;
	return 0;
}

/* Python: the clock on every CPU, its observations read */
static int py_start(struct run *r)
{
	struct lat_mode *m = L(r);
	struct perf_event_attr attr = {};
	int err;

	err = ring_buffer__add(r->rb, bpf_map__fd(m->skel->maps.lat_py_events), on_py_obs, r);
	if (err) {
		pr_err("cannot read the Python observations: %s\n", strerror(-err));
		return 1;
	}
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_CPU_CLOCK;
	attr.sample_period = m->period_ns;
	return run_attach_per_cpu(r, &attr, "cpu-clock", m->skel->progs.eb_lat_py_sample, 0, m->pefds, m->plinks) > 0 ?
		       0 : 1;
}

static void py_stop(struct run *r)
{
	struct lat_mode *m = L(r);
	int c;

	for (c = 0; m->pefds && m->plinks && c < r->ncpus; c++) {
		bpf_link__destroy(m->plinks[c]);
		m->plinks[c] = NULL;
		if (m->pefds[c] >= 0)
			close(m->pefds[c]);
		m->pefds[c] = -1;
	}
	if (m->skel->links.eb_lat_py_switch) {
		bpf_link__destroy(m->skel->links.eb_lat_py_switch);
		m->skel->links.eb_lat_py_switch = NULL;
	}
}

/* the CPython 3.minor whose file is *path* (python3.10, libpython3.10.so.1.0): minor, or 0 */
static unsigned int py_minor_of(const char *path)
{
	const char *b = strrchr(path, '/'), *v;

	b = b ? b + 1 : path;
	v = strstr(b, "python3.");
	return v ? (unsigned int)atoi(v + 8) : 0;
}

static int pyx_attach(struct run *r);

/* --exact: the eval loop, if *d* is the file it is in (the interpreter or libpython) */
static void pyx_scan(struct run *r, struct dso *d, const char *path)
{
	struct lat_mode *m = L(r);
	uint64_t v, size, off;

	if (m->pyx_path[0] || !dso__symbol(d, "_PyEval_EvalFrameDefault", &v, &size) ||
	    !dso__vaddr_to_offset(d, v, &off))
		return;
	snprintf(m->pyx_path, sizeof(m->pyx_path), "%s", path);
	m->pyx_offset = off;
	m->pyx_minor = py_minor_of(dso__path(d));
	/* it changes how the interpreter runs: said, not only with -v */
	if (m->pyx_minor >= 12 && launching_set_hook && r->l && r->l->pid)
		fprintf(stderr, "ebprof: --exact: CPython 3.%u runs with PYTHONPERFSUPPORT=1, its eval-frame hook on, so that it enters its eval loop once a Python call (it writes /tmp/perf-%d.map, as with -X perf)\n",
			m->pyx_minor, r->l->pid);
	pr_debug("lat: the eval loop of CPython 3.%u in %s at %#llx\n", m->pyx_minor, path, (unsigned long long)off);
	if (m->attached && pyx_attach(r))
		pr_warn("cannot probe the eval loop in %s: Python functions not timed\n", path);
}

/* what a CPython has for --exact: 0, or why not (said) */
static int pyx_check(struct run *r)
{
	struct lat_mode *m = L(r);

	if ((m->pyx_minor >= 8 && m->pyx_minor <= 10) || (m->pyx_minor >= 12 && m->pyx_hook))
		return 0;
	if (m->pyx_minor == 11)
		pr_err("--exact: CPython 3.11 runs Python calls inside one call of its eval loop: no entry point a call; drop --exact, and the calls are followed by sampling\n");
	else if (m->pyx_minor >= 12)
		pr_err("--exact: CPython 3.%u enters its eval loop once a Python call only with its eval-frame hook on: start it with -X perf or PYTHONPERFSUPPORT=1 (ebprof sets it for a command it runs), or drop --exact, and the calls are followed by sampling\n",
		       m->pyx_minor);
	else
		pr_err("--exact: cannot tell the CPython version of %s\n", m->pyx_path);
	return 1;
}

/* --exact: its configuration for the BPF side, and the probes on the eval loop */
static int pyx_attach(struct run *r)
{
	struct lat_mode *m = L(r);
	struct lat_bpf *k = m->skel;
	const struct py_layout *l = py_layout_for(m->pyx_minor);
	struct lat_pyx_cfg cfg = {};
	__u32 zero = 0;
	uint64_t cookie = 0;

	if (m->pyx_on || !m->pyx_path[0])
		return 0;
	m->pyx_on = true;	/* once, whether it works or not */
	if (pyx_check(r) || !l)
		return 1;
	cfg.ntargets = m->npyx;
	cfg.frame_arg = m->pyx_minor == 8 ? 1 : 2;
	cfg.o = l->o;
	if (bpf_map_update_elem(bpf_map__fd(k->maps.lat_pyx_cfgs), &zero, &cfg, BPF_ANY))
		return -errno;
	if (m->multi)
		return uprobe_multi_pair(bpf_program__fd(k->progs.eb_lat_pyx_m_entry), bpf_program__fd(k->progs.eb_lat_m_ret),
					 m->pyx_path, &m->pyx_offset, &cookie, 1, m->pid, &m->pyx_entry_fd,
					 &m->pyx_ret_fd);
	return uprobe_attach_pair(k->progs.eb_lat_pyx_entry, k->progs.eb_lat_ret, m->pid, m->pyx_path, m->pyx_offset,
				  NULL, 0, &m->pyx_entry, &m->pyx_ret);
}

/* --exact: the Python functions' names for the BPF side, in the top slots of the sums */
static int pyx_targets(struct run *r)
{
	struct lat_mode *m = L(r);
	size_t k, i;

	for (k = 0, i = 0; k < m->npats; k++) {
		const struct lat_pattern *p = &m->pats[k];
		struct lat_pyx_target t = {};
		const char *name = strrchr(p->func, '.');
		__u32 key = i;

		if (!m->pat_py[k])
			continue;
		name = name ? name + 1 : p->func;
		snprintf(t.name, sizeof(t.name), "%s", name);
		if (p->lib)
			snprintf(t.file, sizeof(t.file), "%s.py", p->lib);
		t.fn = m->max_fns - 1 - i;
		if (bpf_map_update_elem(bpf_map__fd(m->skel->maps.lat_pyx_targets), &key, &t, BPF_ANY))
			return -errno;
		m->pyx_pat[i++] = k;
	}
	return 0;
}

/* --per-call: one call */
static int on_call(void *ctx, void *data, size_t len)
{
	struct run *r = ctx;
	struct lat_mode *m = L(r);
	const struct lat_call *c = data;
	char d[24];

	if (len < sizeof(*c) || c->fn >= m->nfns)
		return 0;
	printf("%12.6f  %-30s %12s  tid %u\n", (c->ts - m->mono0) / 1e9, m->fns[c->fn].name,
	       lat_fmt_ns(c->ns, d, sizeof(d)), c->tid);
	m->calls_printed++;
	return 0;
}

static int lat_start(struct run *r)
{
	struct lat_mode *m = L(r);
	int err;

	m->mono0 = (__u64)(mono_sec() * 1e9);
	m->last_reset = mono_sec();
	if (r->o->lat.per_call) {
		err = ring_buffer__add(r->rb, bpf_map__fd(m->skel->maps.lat_calls), on_call, r);
		if (err) {
			pr_err("cannot read the calls: %s\n", strerror(-err));
			return 1;
		}
	}
	if (m->python && py_start(r))
		return 1;
	if (m->exact && pyx_targets(r)) {
		pr_err("cannot store the Python functions' names: %s\n", strerror(errno));
		return 1;
	}
	err = attach_all(r);
	if (!err && m->exact && (err = pyx_attach(r)) < 0) {
		pr_err("cannot probe the eval loop in %s: %s\n", m->pyx_path, strerror(-err));
		err = 1;
	}
	return err;
}

static void lat_announce(struct run *r, double attach_ms)
{
	struct lat_mode *m = L(r);

	pr_info("timing every call of %zu native function%s of pid %d (%s)%s, attached in %.1f ms; Ctrl-C to stop\n",
		m->nfns, m->nfns == 1 ? "" : "s", m->pid, m->multi ? "uprobe.multi links" : "a uprobe and a uretprobe each",
		m->python ? " and following its Python calls by sampling" : "", attach_ms);
}

static void lat_new_code(struct run *r, int tgid)
{
	if (tgid == L(r)->pid)
		uprobe_files__mapped(&L(r)->uf, r->sym, tgid);
}

static int lat_poll_ms(struct run *r)
{
	return r->o->lat.per_call ? 100 : 500;
}

static int lat_tick(struct run *r)
{
	struct lat_mode *m = L(r);
	double now = mono_sec();

	if (r->o->lat.per_call && now - m->last_reset >= 1.0) {
		__u64 zero = 0;
		__u32 key = 0;

		bpf_map_update_elem(bpf_map__fd(m->skel->maps.lat_sent), &key, &zero, BPF_ANY);
		m->last_reset = now;
	}
	return 0;
}

/*
 * The calls of slot *slot*, summed over the CPUs, into sums[max_fns] and
 * hist[max_fns * EBPROF_LAT_BUCKETS]; *zero*: and the slot emptied
 */
static int read_slot(struct run *r, unsigned int slot, struct lat_sum *sums, uint64_t *hist, bool zero)
{
	struct lat_mode *m = L(r);
	int sfd = bpf_map__fd(m->skel->maps.lat_sums), hfd = bpf_map__fd(m->skel->maps.lat_hist);
	size_t nb = m->max_fns * EBPROF_LAT_BUCKETS, i, c;
	struct lat_sum *sv = calloc(m->ncpus, sizeof(*sv));
	__u64 *hv = calloc((size_t)m->ncpus * nb, sizeof(*hv));
	__u32 *keys = calloc(nb, sizeof(*keys));
	int err = 0;

	if (!sv || !hv || !keys) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < m->max_fns; i++) {
		__u32 key = slot * m->max_fns + i;

		memset(&sums[i], 0, sizeof(sums[i]));
		if (bpf_map_lookup_elem(sfd, &key, sv))
			continue;
		for (c = 0; c < (size_t)m->ncpus; c++) {
			sums[i].count += sv[c].count;
			sums[i].total_ns += sv[c].total_ns;
			if (sv[c].min_ns && (!sums[i].min_ns || sv[c].min_ns < sums[i].min_ns))
				sums[i].min_ns = sv[c].min_ns;
			if (sv[c].max_ns > sums[i].max_ns)
				sums[i].max_ns = sv[c].max_ns;
		}
		if (zero) {
			memset(sv, 0, m->ncpus * sizeof(*sv));
			bpf_map_update_elem(sfd, &key, sv, BPF_ANY);
		}
	}
	/* the histograms of the slot: one batch, as many lookups else */
	{
		__u32 first = slot * nb, count = nb, out_batch;
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		__u32 before = first - 1;

		err = bpf_map_lookup_batch(hfd, first ? &before : NULL, &out_batch, keys, hv, &count, &opts);
		if ((err && errno != ENOENT) || count != nb) {
			/* no batches (before 5.6): one by one */
			for (i = 0; i < nb; i++) {
				__u32 key = first + i;

				keys[i] = key;
				if (bpf_map_lookup_elem(hfd, &key, hv + i * m->ncpus))
					memset(hv + i * m->ncpus, 0, m->ncpus * sizeof(*hv));
			}
		}
		err = 0;
		for (i = 0; i < nb; i++) {
			hist[i] = 0;
			for (c = 0; c < (size_t)m->ncpus; c++)
				hist[i] += hv[i * m->ncpus + c];
		}
		if (zero) {
			memset(hv, 0, (size_t)m->ncpus * nb * sizeof(*hv));
			for (i = 0; i < nb; i++)
				keys[i] = first + i;
			count = nb;
			if (bpf_map_update_batch(hfd, keys, hv, &count, NULL))
				for (i = 0; i < nb; i++)
					bpf_map_update_elem(hfd, &keys[i], hv, BPF_ANY);
		}
	}
out:
	free(sv);
	free(hv);
	free(keys);
	return err;
}

static void add_sums(struct lat_sum *to, uint64_t *hto, const struct lat_sum *from, const uint64_t *hfrom, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		to[i].count += from[i].count;
		to[i].total_ns += from[i].total_ns;
		if (from[i].min_ns && (!to[i].min_ns || from[i].min_ns < to[i].min_ns))
			to[i].min_ns = from[i].min_ns;
		if (from[i].max_ns > to[i].max_ns)
			to[i].max_ns = from[i].max_ns;
	}
	for (i = 0; i < n * EBPROF_LAT_BUCKETS; i++)
		hto[i] += hfrom[i];
}

static __u64 lat_stat_sum(struct run *r, __u32 idx)
{
	__u64 *v = calloc(L(r)->ncpus, sizeof(*v)), sum = 0;
	int c;

	if (v && !bpf_map_lookup_elem(bpf_map__fd(L(r)->skel->maps.lat_stats), &idx, v))
		for (c = 0; c < L(r)->ncpus; c++)
			sum += v[c];
	free(v);
	return sum;
}

/* a row of *rep*: a function named *name* of *module* with calls *sum* and histogram *hist*; 0 or -ENOMEM */
static int report_row(struct lat_report *rep, const char *name, const char *module, const char *method,
		      double resolution_ns, const struct lat_sum *sum, const uint64_t *hist)
{
	struct lat_fn_report *f = &rep->fns[rep->n++];

	f->name = strdup(name);
	f->module = strdup(module);
	f->hist = malloc(EBPROF_LAT_BUCKETS * sizeof(*f->hist));
	if (!f->name || !f->module || !f->hist)
		return -ENOMEM;
	memcpy(f->hist, hist, EBPROF_LAT_BUCKETS * sizeof(*f->hist));
	f->method = method;
	f->resolution_ns = resolution_ns;
	f->count = sum->count;
	f->total_ns = sum->total_ns;
	f->min_ns = sum->min_ns;
	f->max_ns = sum->max_ns;
	return 0;
}

/*
 * The report of *sums* (the native functions' and --exact's), and of the
 * Python functions followed by sampling (*interval*: their calls since
 * the last interval, which start again)
 */
static struct lat_report *make_report(struct run *r, const struct lat_sum *sums, const uint64_t *hist, bool interval)
{
	struct lat_mode *m = L(r);
	struct lat_report *rep = calloc(1, sizeof(*rep));
	static char py_method[96], pyx_method[128];
	int err = 0;
	size_t i;

	if (!rep)
		return NULL;
	rep->fns = calloc(m->nfns + m->npyfns + m->npyx + 1, sizeof(*rep->fns));
	if (!rep->fns) {
		free(rep);
		return NULL;
	}
	snprintf(rep->target, sizeof(rep->target), "%s", r->p ? r->p->meta.target : "");
	for (i = 0; !err && i < m->nfns; i++)
		err = report_row(rep, m->fns[i].name, m->fns[i].module,
				 m->multi ? "uprobes (uprobe.multi), every call" : "uprobes, every call", 0, &sums[i],
				 hist + i * EBPROF_LAT_BUCKETS);
	snprintf(pyx_method, sizeof(pyx_method),
		 "probes on CPython 3.%u's eval loop%s, every call (every Python call of the process traps)",
		 m->pyx_minor, m->pyx_minor >= 12 ? " (its eval-frame hook on)" : "");
	for (i = 0; !err && i < m->npyx; i++) {
		const struct lat_pattern *p = &m->pats[m->pyx_pat[i]];
		size_t slot = m->max_fns - 1 - i;
		char mod[128];

		if (p->lib)
			snprintf(mod, sizeof(mod), "%s.py", p->lib);
		else
			snprintf(mod, sizeof(mod), "python3.%u", m->pyx_minor);
		err = report_row(rep, p->func, mod, pyx_method, 0, &sums[slot], hist + slot * EBPROF_LAT_BUCKETS);
	}
	snprintf(py_method, sizeof(py_method), "sampling the Python stack at %.0f Hz, on and off the CPU",
		 1e9 / m->period_ns);
	for (i = 0; !err && i < m->npyfns; i++) {
		struct lat_pyfn *p = &m->pyfns[i];
		const char *base = strrchr(p->file, '/');

		err = report_row(rep, p->name, base ? base + 1 : p->file, py_method, m->period_ns,
				 interval ? &p->isum : &p->sum, interval ? p->ihist : p->hist);
		if (interval) {
			memset(&p->isum, 0, sizeof(p->isum));
			memset(p->ihist, 0, EBPROF_LAT_BUCKETS * sizeof(*p->ihist));
		}
	}
	if (err) {
		lat_report_free(rep);
		return NULL;
	}
	return rep;
}

/* -i: the calls since the last one, printed; the next interval's go to the other half */
static void lat_snapshot(struct run *r, double t)
{
	struct lat_mode *m = L(r);
	unsigned int old = __atomic_load_n(&m->skel->bss->lat_slot, __ATOMIC_RELAXED) & 1;
	struct lat_sum *sums = calloc(m->max_fns, sizeof(*sums));
	uint64_t *hist = calloc(m->max_fns * EBPROF_LAT_BUCKETS, sizeof(*hist));
	struct lat_report *rep;

	if (!sums || !hist)
		goto out;
	__atomic_store_n(&m->skel->bss->lat_slot, old ^ 1, __ATOMIC_RELAXED);
	/* a program that read the slot before the flip finishes its update */
	usleep(1000);
	if (read_slot(r, old, sums, hist, true))
		goto out;
	add_sums(m->acc, m->hist_acc, sums, hist, m->max_fns);
	rep = make_report(r, sums, hist, true);
	if (rep) {
		rep->interval_t = t;
		lat_render_table(rep, false, stdout);
		fflush(stdout);
		lat_report_free(rep);
	}
out:
	free(sums);
	free(hist);
}

static void lat_stop(struct run *r)
{
	detach_all(r);
	if (L(r)->python)
		py_stop(r);
}

static int lat_render(const struct profile *p, int format, const struct render_opts *o, FILE *out)
{
	(void)o;
	if (format == FORMAT_JSON)
		return lat_render_json(p->ext, out);
	return lat_render_table(p->ext, true, out);
}

static void report_free(void *ext)
{
	lat_report_free(ext);
}

static int lat_report(struct run *r, double duration, struct profile **out)
{
	struct lat_mode *m = L(r);
	struct lat_sum *sums = calloc(m->max_fns, sizeof(*sums));
	uint64_t *hist = calloc(m->max_fns * EBPROF_LAT_BUCKETS, sizeof(*hist));
	struct lat_report *rep = NULL;
	unsigned int slot;
	int ret = 1;

	if (!sums || !hist)
		goto out;
	for (slot = 0; slot < 2; slot++) {
		if (read_slot(r, slot, sums, hist, false))
			goto out;
		add_sums(m->acc, m->hist_acc, sums, hist, m->max_fns);
	}
	rep = make_report(r, m->acc, m->hist_acc, false);
	if (!rep)
		goto out;
	for (size_t t = 0; t < m->nthreads; t++)
		m->py_dropped += m->threads[t].n;
	if (m->exact) {
		uint64_t all = lat_stat_sum(r, EBPROF_LAT_PYX_CALLS);

		fprintf(stderr, "ebprof: --exact: the eval loop's probes trapped at %llu Python calls of the process (%.0f a second), two traps each\n",
			(unsigned long long)all, duration > 0 ? all / duration : 0.0);
		if (!m->pyx_on)
			fprintf(stderr, "ebprof: --exact: the command never mapped a CPython eval loop: no Python function timed\n");
	}
	if (m->python) {
		rep->py_lost = lat_stat_sum(r, EBPROF_LAT_PY_LOST);
		if (rep->py_lost)
			pr_warn("%llu observations of the Python stacks lost (the ring buffer was full): calls may be cut in two\n",
				(unsigned long long)rep->py_lost);
		if (lat_stat_sum(r, EBPROF_LAT_PY_OUTS_FULL))
			pr_warn("%llu times off the CPU not seen: more threads than the map holds\n",
				(unsigned long long)lat_stat_sum(r, EBPROF_LAT_PY_OUTS_FULL));
		if (lat_stat_sum(r, EBPROF_LAT_PY_DEEP))
			pr_info("%llu Python stacks deeper than %d frames: their outermost frames left out\n",
				(unsigned long long)lat_stat_sum(r, EBPROF_LAT_PY_DEEP), EBPROF_LAT_PY_FRAMES);
		pr_debug("lat: %llu observations of Python stacks, %llu calls in flight at the end (left out)\n",
			 (unsigned long long)m->py_obs, (unsigned long long)m->py_dropped);
		for (size_t k = 0; k < m->npats; k++)
			if (m->pat_py[k] && !m->pat_fns[k].n)
				fprintf(stderr, "ebprof: no call of a Python function '%s' was seen (%llu samples of the target's Python stacks)\n",
					m->pats[k].text, (unsigned long long)m->py_obs);
	}
	rep->duration = duration;
	rep->threads_full = lat_stat_sum(r, EBPROF_LAT_THREADS_FULL);
	rep->too_deep = lat_stat_sum(r, EBPROF_LAT_TOO_DEEP);
	rep->unfinished = lat_stat_sum(r, EBPROF_LAT_UNFINISHED);
	rep->no_entry = lat_stat_sum(r, EBPROF_LAT_NO_ENTRY);
	rep->suppressed = lat_stat_sum(r, EBPROF_LAT_SUPPRESSED);
	rep->calls_lost = lat_stat_sum(r, EBPROF_LAT_CALLS_LOST);
	if (rep->threads_full)
		pr_warn("%llu calls not timed: more threads were in the functions at once than the map holds; rerun with a larger --map-size\n",
			(unsigned long long)rep->threads_full);
	if (rep->too_deep)
		pr_warn("%llu calls not timed: %d timed calls of a thread were in flight already (deep recursion)\n",
			(unsigned long long)rep->too_deep, EBPROF_LAT_DEPTH);
	if (rep->unfinished)
		fprintf(stderr, "ebprof: %llu calls left without returning (longjmp, an exception): not timed\n",
			(unsigned long long)rep->unfinished);
	if (m->over)
		pr_warn("%zu more functions matched in libraries loaded later: not timed (at most %zu in all)\n",
			m->over, m->max_fns);
	if (rep->suppressed || rep->calls_lost) {
		fprintf(stderr, "ebprof: --per-call: %llu calls printed, %llu over the limit of %u a second not printed",
			(unsigned long long)m->calls_printed, (unsigned long long)rep->suppressed, r->o->lat.call_limit);
		if (rep->calls_lost)
			fprintf(stderr, ", %llu lost (the ring buffer was full)", (unsigned long long)rep->calls_lost);
		fprintf(stderr, " (all are in the summary)\n");
	}
	pr_debug("lat: %llu returns of calls not timed (entered before the probes)\n",
		 (unsigned long long)rep->no_entry);
	for (size_t i = 0; i < rep->n; i++)
		r->p->totals[0] += rep->fns[i].count;
	r->p->ext = rep;
	r->p->ext_free = report_free;
	rep = NULL;
	*out = r->p;
	r->p = NULL;
	ret = 0;
out:
	if (ret)
		pr_err("out of memory\n");
	free(sums);
	free(hist);
	return ret;
}

static void lat_destroy(struct run *r)
{
	struct lat_mode *m = L(r);
	size_t i;

	if (!m)
		return;
	detach_all(r);
	lat_bpf__destroy(m->skel);
	for (i = 0; i < m->nfns; i++) {
		free(m->fns[i].name);
		free(m->fns[i].module);
		free(m->fns[i].path);
	}
	for (i = 0; i < m->npats && m->pat_stripped; i++)
		free(m->pat_stripped[i]);
	free(m->pat_stripped);
	free(m->pat_lib_seen);
	for (i = 0; i < m->npats && m->pat_fns; i++)
		free(m->pat_fns[i].v);
	free(m->pat_fns);
	lat_patterns_free(m->pats, m->npats);
	free(m->fns);
	free(m->files);
	free(m->acc);
	free(m->hist_acc);
	uprobe_files__free(&m->uf);
	if (m->python)
		py_stop(r);
	for (i = 0; i < m->npyfns; i++) {
		free(m->pyfns[i].name);
		free(m->pyfns[i].file);
		free(m->pyfns[i].hist);
		free(m->pyfns[i].ihist);
	}
	free(m->pyfns);
	for (i = 0; i < m->nthreads; i++)
		free(m->threads[i].calls);
	free(m->threads);
	free(m->codes);
	free(m->pefds);
	free(m->plinks);
	free(m->pat_py);
	free(m->pyx_pat);
	free(m);
	r->mode = NULL;
}

const struct mode_ops lat_mode = {
	.name = "lat",
	.before_launch = lat_before_launch,
	.open = lat_open,
	.configure = lat_configure,
	.start = lat_start,
	.announce = lat_announce,
	.new_code = lat_new_code,
	.poll_ms = lat_poll_ms,
	.tick = lat_tick,
	.snapshot = lat_snapshot,
	.stop = lat_stop,
	.report = lat_report,
	.render = lat_render,
	.destroy = lat_destroy,
};
