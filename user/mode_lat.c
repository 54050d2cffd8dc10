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
};

#define L(r) ((struct lat_mode *)(r)->mode)

static double mono_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
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
	if (!m->resolving && m->nfns >= m->max_fns) {
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
	for (k = 0; k < m->npats; k++) {
		if (m->pats[k].lib && !lat_lib_matches(m->pats[k].lib, dso__path(d)) &&
		    !lat_lib_matches(m->pats[k].lib, path))
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
			if (m->pats[k].lib && !lat_lib_matches(m->pats[k].lib, dso__path(d)) &&
			    !lat_lib_matches(m->pats[k].lib, path))
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

		if (m->pats[k].glob || m->pats[k].cxx || m->pat_fns[k].n ||
		    (m->pats[k].lib && !lat_lib_matches(m->pats[k].lib, dso__path(d)) &&
		     !lat_lib_matches(m->pats[k].lib, path)))
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
	int fd, err = 0;
	size_t i;

	if (!offs || !cookies) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < f->n; i++) {
		offs[i] = m->fns[f->first + i].offset;
		cookies[i] = f->first + i;
	}
	fd = uprobe_multi_link(bpf_program__fd(m->skel->progs.eb_lat_m_entry), m->fns[f->first].path, offs, cookies,
			       f->n, false, m->pid);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	f->entry_fd = fd;
	fd = uprobe_multi_link(bpf_program__fd(m->skel->progs.eb_lat_m_ret), m->fns[f->first].path, offs, cookies,
			       f->n, true, m->pid);
	if (fd < 0) {
		close(f->entry_fd);
		f->entry_fd = -1;
		err = fd;
	}
	f->ret_fd = fd < 0 ? -1 : fd;
out:
	free(offs);
	free(cookies);
	return err;
}

static int func_attach(struct run *r, size_t i)
{
	struct lat_mode *m = L(r);
	struct lat_func *f = &m->fns[i];
	LIBBPF_OPTS(bpf_uprobe_opts, eopts, .bpf_cookie = i);
	LIBBPF_OPTS(bpf_uprobe_opts, ropts, .bpf_cookie = i, .retprobe = true);

	f->entry = bpf_program__attach_uprobe_opts(m->skel->progs.eb_lat_entry, m->pid, f->path, f->offset, &eopts);
	if (!f->entry)
		return -errno;
	f->ret = bpf_program__attach_uprobe_opts(m->skel->progs.eb_lat_ret, m->pid, f->path, f->offset, &ropts);
	if (!f->ret) {
		int err = -errno;

		bpf_link__destroy(f->entry);
		f->entry = NULL;
		return err;
	}
	return 0;
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

/* the entries first, then the returns: a call entered is either timed whole or not at all */
static void detach_all(struct run *r)
{
	struct lat_mode *m = L(r);
	size_t i;

	for (i = 0; i < m->nfiles; i++)
		if (m->files[i].entry_fd >= 0) {
			close(m->files[i].entry_fd);
			m->files[i].entry_fd = -1;
		}
	for (i = 0; i < m->nfns; i++) {
		bpf_link__destroy(m->fns[i].entry);
		m->fns[i].entry = NULL;
	}
	for (i = 0; i < m->nfiles; i++)
		if (m->files[i].ret_fd >= 0) {
			close(m->files[i].ret_fd);
			m->files[i].ret_fd = -1;
		}
	for (i = 0; i < m->nfns; i++) {
		bpf_link__destroy(m->fns[i].ret);
		m->fns[i].ret = NULL;
	}
	m->attached = false;
}

/* the names that match nothing or, not being patterns, several functions: said; 0 or an exit status */
static int check_patterns(struct run *r)
{
	struct lat_mode *m = L(r);
	const char *who = r->l && r->l->pid ? "the command or the libraries it links" : "the process's code";
	size_t k, i;

	for (k = 0; k < m->npats; k++) {
		const struct lat_pattern *p = &m->pats[k];

		if (m->pat_fns[k].n)
			continue;
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
	err = check_patterns(r);
	if (err)
		return err;
	/* room for what libraries loaded later bring */
	headroom = m->nfns < 32 ? 32 : m->nfns;
	m->max_fns = m->nfns + headroom;
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
	return attach_all(r);
}

static void lat_announce(struct run *r, double attach_ms)
{
	struct lat_mode *m = L(r);

	pr_info("timing every call of %zu function%s of pid %d (%s), attached in %.1f ms; Ctrl-C to stop\n", m->nfns,
		m->nfns == 1 ? "" : "s", m->pid, m->multi ? "uprobe.multi links" : "a uprobe and a uretprobe each",
		attach_ms);
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

/* the report of *sums*: the functions with their calls */
static struct lat_report *make_report(struct run *r, const struct lat_sum *sums, const uint64_t *hist)
{
	struct lat_mode *m = L(r);
	struct lat_report *rep = calloc(1, sizeof(*rep));
	size_t i;

	if (!rep)
		return NULL;
	rep->fns = calloc(m->nfns ? m->nfns : 1, sizeof(*rep->fns));
	if (!rep->fns) {
		free(rep);
		return NULL;
	}
	snprintf(rep->target, sizeof(rep->target), "%s", r->p ? r->p->meta.target : "");
	for (i = 0; i < m->nfns; i++) {
		struct lat_fn_report *f = &rep->fns[rep->n];

		f->name = strdup(m->fns[i].name);
		f->module = strdup(m->fns[i].module);
		f->hist = malloc(EBPROF_LAT_BUCKETS * sizeof(*f->hist));
		rep->n++;
		if (!f->name || !f->module || !f->hist) {
			lat_report_free(rep);
			return NULL;
		}
		memcpy(f->hist, hist + i * EBPROF_LAT_BUCKETS, EBPROF_LAT_BUCKETS * sizeof(*f->hist));
		f->method = m->multi ? "uprobes (uprobe.multi), every call" : "uprobes, every call";
		f->count = sums[i].count;
		f->total_ns = sums[i].total_ns;
		f->min_ns = sums[i].min_ns;
		f->max_ns = sums[i].max_ns;
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
	rep = make_report(r, sums, hist);
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
	rep = make_report(r, m->acc, m->hist_acc);
	if (!rep)
		goto out;
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
	free(m);
	r->mode = NULL;
}

const struct mode_ops lat_mode = {
	.name = "lat",
	.no_stacks = true,
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
