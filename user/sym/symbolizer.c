// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>
#include <elf.h>
#include "symbolizer.h"
#include "procmaps.h"
#include "elf.h"
#include "kallsyms.h"
#include "perfmap.h"
#include "demangle.h"
#include "../util/strmap.h"
#include "../util/log.h"
#include "../util/bisect.h"

#define mapping sym_mapping

struct proc {
	int tgid;
	unsigned int gen;
	struct mapping *maps;
	size_t nmaps;
	char root[64];		/* /proc/PID/root while it lives */
	int nspid;
	uid_t uid;
	bool ids_read;		/* nspid and uid from /proc/PID/status */
	struct perfmap *perfmap;
	bool perfmap_tried;
};

struct proc_key {
	int tgid;
	unsigned int gen;
};

struct dso_key {
	uint64_t dev, ino;
};

#define UNKNOWN_RING 4

struct symbolizer {
	struct strmap *procs;	/* proc_key -> proc */
	struct strmap *latest;	/* tgid -> newest proc */
	struct strmap *dsos;	/* dso_key -> dso */
	struct strmap *strings;	/* interned strings */
	struct strmap *names;	/* struct sym * -> display name */
	struct dso *vdso;
	struct ksyms *ksyms;
	bool ksyms_tried;
	char unknown[UNKNOWN_RING][512];	/* unknown_name()'s */
	unsigned int next_unknown;
	void (*on_file)(struct dso *d, int tgid, unsigned int gen, void *ctx);
	void *on_file_ctx;
};

void symbolizer__on_file(struct symbolizer *s, void (*fn)(struct dso *d, int tgid, unsigned int gen, void *ctx),
			 void *ctx)
{
	s->on_file = fn;
	s->on_file_ctx = ctx;
}

struct symbolizer *symbolizer__new(void)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->procs = strmap__new();
	s->latest = strmap__new();
	s->dsos = strmap__new();
	s->strings = strmap__new();
	s->names = strmap__new();
	if (!s->procs || !s->latest || !s->dsos || !s->strings || !s->names) {
		symbolizer__free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

static void proc_free(struct proc *p)
{
	free(p->maps);
	perfmap__free(p->perfmap);
	free(p);
}

void symbolizer__free(struct symbolizer *s)
{
	size_t it;
	void *v;

	if (!s)
		return;
	it = 0;
	while (s->procs && (v = strmap__next(s->procs, &it, NULL, NULL)))
		proc_free(v);
	it = 0;
	while (s->dsos && (v = strmap__next(s->dsos, &it, NULL, NULL)))
		dso__free(v);
	it = 0;
	while (s->strings && (v = strmap__next(s->strings, &it, NULL, NULL)))
		free(v);
	strmap__free(s->procs);
	strmap__free(s->latest);
	strmap__free(s->dsos);
	strmap__free(s->strings);
	strmap__free(s->names);
	dso__free(s->vdso);
	ksyms__free(s->ksyms);
	free(s);
}

const char *symbolizer__intern(struct symbolizer *s, const char *str)
{
	const char *v = strmap__intern(s->strings, str, NULL);

	return v ? v : "[out of memory]";
}

/* our own vdso: the kernel maps the same image into every process */
static struct dso *vdso_dso(struct symbolizer *s)
{
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *ph;
	uint64_t end = 0;
	int i;

	if (s->vdso)
		return s->vdso;
	eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
	if (!eh)
		return NULL;
	ph = (const Elf64_Phdr *)((const char *)eh + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_offset + ph[i].p_filesz > end)
			end = ph[i].p_offset + ph[i].p_filesz;
	if (eh->e_shoff + (uint64_t)eh->e_shnum * eh->e_shentsize > end)
		end = eh->e_shoff + (uint64_t)eh->e_shnum * eh->e_shentsize;
	s->vdso = dso__new_mem(eh, end, "[vdso]");
	return s->vdso;
}

static struct dso *find_dso(struct symbolizer *s, int tgid, const struct map_entry *e)
{
	struct dso_key key = { e->dev, e->ino };
	char path[512], root[64];
	struct dso *d;
	int fd;

	d = strmap__get(s->dsos, &key, sizeof(key));
	if (d)
		return d;
	/* map_files reaches deleted files and other mount namespaces alike */
	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, tgid, e->start, e->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(root, sizeof(root), "/proc/%d/root", tgid);
	if (fd < 0) {
		snprintf(path, sizeof(path), "%s%s", root, e->path);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		pr_debug("cannot open '%s' of pid %d: %s\n", e->path, tgid, strerror(errno));
		return NULL;
	}
	d = dso__new_fd(fd, e->path, root);
	if (d && strmap__set(s->dsos, &key, sizeof(key), d)) {
		dso__free(d);
		d = NULL;
	}
	return d;
}

static void proc_read_ids(struct proc *p)
{
	char path[64], line[256];
	FILE *f;

	p->nspid = p->tgid;
	p->ids_read = true;
	snprintf(path, sizeof(path), "/proc/%d/status", p->tgid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Uid:", 4)) {
			p->uid = strtoul(line + 4, NULL, 10);
		} else if (!strncmp(line, "NSpid:", 6)) {
			/* the last number is the pid in the process's own namespace */
			char *last = strrchr(line, '\t');

			if (!last)
				last = strrchr(line, ' ');
			if (last)
				p->nspid = atoi(last + 1);
		}
	}
	fclose(f);
}

static int add_proc(struct symbolizer *s, struct proc *p)
{
	struct proc_key key = { p->tgid, p->gen };
	struct proc *old = strmap__get(s->procs, &key, sizeof(key));
	struct proc *cur = strmap__get(s->latest, &p->tgid, sizeof(p->tgid));

	if (strmap__set(s->procs, &key, sizeof(key), p))
		return -ENOMEM;
	if (!cur || cur == old || cur->gen <= p->gen)
		strmap__set(s->latest, &p->tgid, sizeof(p->tgid), p);
	if (old)
		proc_free(old);
	return 0;
}

int symbolizer__snapshot(struct symbolizer *s, int tgid, unsigned int gen)
{
	struct map_entry *ents = NULL;
	struct proc *p;
	size_t i, n = 0;
	int err;

	err = procmaps_read(tgid, &ents, &n);
	if (err)
		return err;
	p = calloc(1, sizeof(*p));
	if (!p || !(p->maps = calloc(n, sizeof(*p->maps)))) {
		free(p);
		free(ents);
		return -ENOMEM;
	}
	p->tgid = tgid;
	p->gen = gen;
	p->nspid = tgid;
	snprintf(p->root, sizeof(p->root), "/proc/%d/root", tgid);
	for (i = 0; i < n; i++) {
		struct map_entry *e = &ents[i];
		struct mapping *m = &p->maps[p->nmaps++];

		m->start = e->start;
		m->end = e->end;
		m->pgoff = e->pgoff;
		if (!strcmp(e->path, "[vdso]")) {
			m->dso = vdso_dso(s);
			m->name = "[vdso]";
		} else if (e->path[0] == '/' && e->ino) {
			m->dso = find_dso(s, tgid, e);
			m->name = m->dso ? dso__name(m->dso) : symbolizer__intern(s, e->path);
			if (m->dso && s->on_file)
				s->on_file(m->dso, tgid, gen, s->on_file_ctx);
		} else {
			m->name = e->path[0] ? symbolizer__intern(s, e->path) : "[anon]";
			/*
			 * code in no file (a JIT's): named by the perf map of the
			 * process's uid and own pid, read now, while it lives
			 */
			if (strcmp(e->path, "[vsyscall]") && !p->ids_read)
				proc_read_ids(p);
		}
	}
	free(ents);
	err = add_proc(s, p);
	if (err)
		proc_free(p);
	return err;
}

int symbolizer__inherit(struct symbolizer *s, int tgid, unsigned int gen, int ptgid)
{
	struct proc *parent = strmap__get(s->latest, &ptgid, sizeof(ptgid));
	struct proc *p;
	int err;

	if (!parent)
		return -ESRCH;
	p = calloc(1, sizeof(*p));
	if (!p || !(p->maps = calloc(parent->nmaps ? parent->nmaps : 1, sizeof(*p->maps)))) {
		free(p);
		return -ENOMEM;
	}
	memcpy(p->maps, parent->maps, parent->nmaps * sizeof(*p->maps));
	p->nmaps = parent->nmaps;
	p->tgid = tgid;
	p->gen = gen;
	p->uid = parent->uid;
	p->nspid = tgid;
	snprintf(p->root, sizeof(p->root), "/proc/%d/root", tgid);
	err = add_proc(s, p);
	if (err)
		proc_free(p);
	return err;
}

bool symbolizer__has(struct symbolizer *s, int tgid)
{
	return strmap__get(s->latest, &tgid, sizeof(tgid)) != NULL;
}

size_t symbolizer__mappings(struct symbolizer *s, int tgid, const struct sym_mapping **out)
{
	struct proc *p = strmap__get(s->latest, &tgid, sizeof(tgid));

	if (!p)
		return 0;
	*out = p->maps;
	return p->nmaps;
}

void symbolizer__forget(struct symbolizer *s, int tgid)
{
	struct proc *cur = strmap__del(s->latest, &tgid, sizeof(tgid));
	struct proc_key key = { tgid, 0 };
	struct proc *p;

	/* every generation up to the newest, the newest (cur) among them */
	for (key.gen = 0; cur && key.gen <= cur->gen; key.gen++) {
		p = strmap__del(s->procs, &key, sizeof(key));
		if (p && p != cur)
			proc_free(p);
	}
	if (cur)
		proc_free(cur);
}

size_t symbolizer__name_bytes(const struct symbolizer *s)
{
	size_t it = 0, b = strmap__bytes(s->names) + strmap__bytes(s->strings);
	const char *v;

	while ((v = strmap__next(s->strings, &it, NULL, NULL)))
		b += malloc_bytes(v);
	return b;
}

unsigned int symbolizer__latest_gen(struct symbolizer *s, int tgid)
{
	struct proc *p = strmap__get(s->latest, &tgid, sizeof(tgid));

	return p ? p->gen : 0;
}

/* the snapshot for (tgid, gen), or the nearest older one, or the newest */
static struct proc *find_proc(struct symbolizer *s, int tgid, unsigned int gen)
{
	struct proc_key key = { tgid, gen };
	struct proc *p;

	for (;;) {
		p = strmap__get(s->procs, &key, sizeof(key));
		if (p || !key.gen)
			break;
		key.gen--;
	}
	return p ? p : strmap__get(s->latest, &tgid, sizeof(tgid));
}

/* a plain name is the symbol's own (it lives as long as its file); a mangled one is demangled once */
static const char *sym_name(struct symbolizer *s, const struct sym *sym)
{
	const char *name;
	char *dm;

	if (strncmp(sym->name, "_Z", 2) && strncmp(sym->name, "_R", 2))
		return sym->name;
	name = strmap__get(s->names, &sym, sizeof(sym));
	if (name)
		return name;
	dm = demangle(sym->name);
	name = symbolizer__intern(s, dm ? dm : sym->name);
	free(dm);
	strmap__set(s->names, &sym, sizeof(sym), (void *)name);
	return name;
}

/*
 * "module+0xOFF", in a ring of buffers rather than interned: one string per
 * address sampled in stripped code would grow without end in a long run
 * (the profile keeps the ones it needs)
 */
static const char *unknown_name(struct symbolizer *s, const char *module, uint64_t off)
{
	char *buf = s->unknown[s->next_unknown++ % UNKNOWN_RING];

	snprintf(buf, sizeof(s->unknown[0]), "%s+0x%" PRIx64, module, off);
	return buf;
}

static struct perfmap *proc_perfmap(struct proc *p)
{
	char root[64];
	struct stat st;

	if (p->perfmap_tried)
		return p->perfmap;
	p->perfmap_tried = true;
	if (!p->ids_read)
		proc_read_ids(p);
	/* the target's own /tmp while it lives, ours once it is gone */
	snprintf(root, sizeof(root), "%s", p->root);
	if (stat(root, &st))
		root[0] = '\0';
	p->perfmap = perfmap__load(root, p->nspid, p->uid);
	if (!p->perfmap && root[0])
		p->perfmap = perfmap__load("", p->tgid, p->uid);
	return p->perfmap;
}

void symbolizer__user(struct symbolizer *s, int tgid, unsigned int gen, uint64_t addr,
		      bool ret_addr, struct sym_frame *out)
{
	uint64_t look = ret_addr && addr ? addr - 1 : addr;
	struct proc *p = find_proc(s, tgid, gen);
	const struct mapping *m = NULL;
	size_t lo;

	out->known = false;
	out->dso = NULL;
	if (p) {
		lo = bisect_u64(p->maps, p->nmaps, sizeof(*p->maps), offsetof(struct mapping, start), look);
		if (lo && look < p->maps[lo - 1].end)
			m = &p->maps[lo - 1];
	}
	if (m && m->dso) {
		uint64_t off = look - m->start + m->pgoff, vaddr, bias;
		const struct sym *sym;

		out->module = m->name;
		/* the mappings symbolized are executable ones */
		if (dso__map_bias(m->dso, m->start, m->pgoff, true, &bias))
			vaddr = look - bias;
		else if (!dso__file_to_vaddr(m->dso, off, &vaddr))
			vaddr = off;
		out->dso = m->dso;
		out->vaddr = vaddr;
		sym = dso__find(m->dso, vaddr);
		/* a signal handler "returns" to the first byte of __restore_rt */
		if (!sym && look != addr)
			sym = dso__find(m->dso, vaddr + 1);
		if (sym) {
			out->func = sym_name(s, sym);
			out->known = true;
		} else {
			out->func = unknown_name(s, m->name, vaddr);
		}
		return;
	}
	if (p && (!m || !strcmp(m->name, "[anon]"))) {
		struct perfmap *pm = proc_perfmap(p);
		const char *name = pm ? perfmap__find(pm, look) : NULL;

		if (name) {
			char mod[32];

			snprintf(mod, sizeof(mod), "perf-%d.map", p->tgid);
			out->module = symbolizer__intern(s, mod);
			out->func = symbolizer__intern(s, name);
			out->known = true;
			return;
		}
	}
	/*
	 * In no mapping known: one name for all such addresses, as perf does
	 * (a name per address would grow without end on a machine where
	 * processes come and go)
	 */
	out->module = m ? m->name : "[unknown]";
	out->func = m ? unknown_name(s, m->name, look - m->start) : "[unknown]";
}

void symbolizer__kernel(struct symbolizer *s, uint64_t addr, bool ret_addr, struct sym_frame *out)
{
	uint64_t look = ret_addr && addr ? addr - 1 : addr;
	const struct ksym *k;

	if (!s->ksyms_tried) {
		s->ksyms_tried = true;
		s->ksyms = ksyms__load();
		if (!s->ksyms)
			pr_warn("cannot read kernel symbols from /proc/kallsyms: %s\n", strerror(errno));
	}
	k = s->ksyms ? ksyms__find(s->ksyms, look) : NULL;
	if (!k) {
		out->module = "[kernel]";
		out->func = unknown_name(s, "[kernel]", addr);
		out->known = false;
		return;
	}
	out->func = k->name;
	if (!strcmp(k->module, "kernel")) {
		out->module = "[kernel]";
	} else {
		char buf[160];

		snprintf(buf, sizeof(buf), "[%s]", k->module);
		out->module = symbolizer__intern(s, buf);
	}
	out->known = true;
}
