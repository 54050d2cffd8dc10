// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "elf.h"
#include "../util/log.h"
#include "../util/bisect.h"

#define MAX_LOADS 16

struct load {
	uint64_t off, vaddr, filesz;
	bool exec;
};

struct dso {
	char *path;
	const char *name;
	char *root;
	int fd;
	void *mem;		/* in-memory image (vdso) */
	size_t memlen;
	bool tried;
	bool debug_file;
	bool debug_fetchable;	/* no symbols, no debug file here: the fetcher may have it */
	int debug_fd_next;	/* ... the fetched file, for the next load */
	char build_id[128];
	int debug_wanted;	/* dso__debug_wanted(): 0 not asked, 1 yes, 2 no */
	bool build_id_read;
	int err;
	struct load loads[MAX_LOADS];
	int nloads;
	struct sym *syms;
	size_t nsyms;
	char *strs;
	/* DWARF, for source lines (--lines): opened on first use */
	bool dw_tried;
	int dw_fd;
	Elf *dw_elf;
	Dwarf *dw;
};

/* where debug files not on this machine come from (debuginfod), or NULL */
static int (*debug_fetcher)(const char *build_id);

/* symbols as collected, before sorting and de-duplication */
struct raw_syms {
	struct sym *v;
	unsigned char *rank;
	size_t n, cap;
	char *pool;
	size_t plen, pcap;
};

static struct dso *dso_alloc(const char *path, const char *root)
{
	struct dso *d = calloc(1, sizeof(*d));
	const char *slash;

	if (!d)
		return NULL;
	d->fd = -1;
	d->debug_fd_next = -1;
	d->path = strdup(path);
	d->root = strdup(root ? root : "");
	if (!d->path || !d->root) {
		dso__free(d);
		return NULL;
	}
	slash = strrchr(d->path, '/');
	d->name = slash ? slash + 1 : d->path;
	return d;
}

struct dso *dso__new_fd(int fd, const char *path, const char *root)
{
	struct dso *d = dso_alloc(path, root);

	if (!d) {
		close(fd);
		return NULL;
	}
	d->fd = fd;
	return d;
}

struct dso *dso__new_mem(const void *buf, size_t len, const char *name)
{
	struct dso *d = dso_alloc(name, "");

	if (!d)
		return NULL;
	d->mem = malloc(len);
	if (!d->mem) {
		dso__free(d);
		return NULL;
	}
	memcpy(d->mem, buf, len);
	d->memlen = len;
	return d;
}

void dso__free(struct dso *d)
{
	if (d && d->dw)
		dwarf_end(d->dw);
	if (d && d->dw_elf)
		elf_end(d->dw_elf);
	if (d && d->dw_tried && d->dw_fd >= 0)
		close(d->dw_fd);
	if (!d)
		return;
	if (d->debug_fd_next >= 0)
		close(d->debug_fd_next);
	if (d->fd >= 0)
		close(d->fd);
	free(d->path);
	free(d->root);
	free(d->mem);
	free(d->syms);
	free(d->strs);
	free(d);
}

const char *dso__name(const struct dso *d)
{
	return d->name;
}

/*
 * the symbols, for naming: loaded on first use, and again with the debug
 * file fetched for it once that is in (-EAGAIN: not yet, asked again at
 * the next lookup; a fetch that failed leaves them as they are)
 */
static int load_syms(struct dso *d)
{
	int err = dso__load(d), fd;

	if (err || !d->debug_fetchable || !debug_fetcher)
		return err;
	fd = debug_fetcher(d->build_id);
	if (fd == -EAGAIN)
		return 0;
	d->debug_fetchable = false;
	if (fd < 0)
		return 0;
	pr_debug("debug file for %s: fetched by build-id %s\n", d->path, d->build_id);
	free(d->syms);
	free(d->strs);
	d->syms = NULL;
	d->strs = NULL;
	d->nsyms = 0;
	d->nloads = 0;
	d->tried = false;
	d->err = 0;
	d->debug_fd_next = fd;
	return dso__load(d);
}

bool dso__has_debug_file(struct dso *d)
{
	load_syms(d);
	return d->debug_file;
}

static int raw_add(struct raw_syms *r, uint64_t addr, uint64_t size, const char *name,
		   unsigned char rank)
{
	size_t len = strlen(name) + 1;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		struct sym *v = realloc(r->v, cap * sizeof(*v));
		unsigned char *rk;

		if (!v)
			return -ENOMEM;
		r->v = v;
		rk = realloc(r->rank, cap);
		if (!rk)
			return -ENOMEM;
		r->rank = rk;
		r->cap = cap;
	}
	if (r->plen + len > r->pcap) {
		size_t cap = r->pcap ? r->pcap * 2 : 64 * 1024;
		char *p;

		while (cap < r->plen + len)
			cap *= 2;
		p = realloc(r->pool, cap);
		if (!p)
			return -ENOMEM;
		r->pool = p;
		r->pcap = cap;
	}
	memcpy(r->pool + r->plen, name, len);
	r->v[r->n].addr = addr;
	r->v[r->n].size = size;
	r->v[r->n].name = (const char *)(uintptr_t)r->plen;	/* fixed up later */
	r->rank[r->n] = rank;
	r->n++;
	r->plen += len;
	return 0;
}

static int collect_symtab(Elf *elf, Elf_Scn *scn, GElf_Shdr *sh, struct raw_syms *r)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t i, n;

	if (!data || !sh->sh_entsize)
		return 0;
	n = sh->sh_size / sh->sh_entsize;
	for (i = 0; i < n; i++) {
		GElf_Sym s;
		const char *name;
		int type, bind;
		unsigned char rank;

		if (!gelf_getsym(data, i, &s))
			continue;
		type = GELF_ST_TYPE(s.st_info);
		bind = GELF_ST_BIND(s.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		if (s.st_shndx == SHN_UNDEF || !s.st_value)
			continue;
		name = elf_strptr(elf, sh->sh_link, s.st_name);
		if (!name || !*name)
			continue;
		/*
		 * at an address several names share, prefer the public one
		 * (getpid over __getpid), then global, then one with a size
		 */
		rank = (name[0] != '_' ? 8 : 0) + (bind == STB_GLOBAL ? 4 : bind == STB_WEAK ? 2 : 0) +
		       (s.st_size ? 1 : 0);
		if (raw_add(r, s.st_value, s.st_size, name, rank))
			return -ENOMEM;
	}
	return 0;
}

/*
 * PLT stubs as "name@plt", as perf names them: entry i of .plt.sec (or of
 * .plt, after its first entry) jumps through .rela.plt's relocation i
 */
static int collect_plt(Elf *elf, struct raw_syms *r)
{
	GElf_Shdr sh, plt = {}, plt_sec = {}, rela = {}, dynsym = {};
	Elf_Scn *scn = NULL, *rela_scn = NULL, *dyn_scn = NULL;
	size_t shstrndx, i, n;
	Elf_Data *data, *syms;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (!strcmp(name, ".plt"))
			plt = sh;
		else if (!strcmp(name, ".plt.sec"))
			plt_sec = sh;
		else if (!strcmp(name, ".rela.plt") && sh.sh_type == SHT_RELA) {
			rela = sh;
			rela_scn = scn;
		}
	}
	if (!rela_scn || (!plt.sh_addr && !plt_sec.sh_addr) || !rela.sh_entsize)
		return 0;
	dyn_scn = elf_getscn(elf, rela.sh_link);
	if (!dyn_scn || !gelf_getshdr(dyn_scn, &dynsym))
		return 0;
	data = elf_getdata(rela_scn, NULL);
	syms = elf_getdata(dyn_scn, NULL);
	if (!data || !syms)
		return 0;
	n = rela.sh_size / rela.sh_entsize;
	for (i = 0; i < n; i++) {
		uint64_t addr = plt_sec.sh_addr ? plt_sec.sh_addr + 16 * i : plt.sh_addr + 16 * (i + 1);
		const char *name;
		char buf[256];
		GElf_Rela rl;
		GElf_Sym sym;

		if (!gelf_getrela(data, i, &rl) || !GELF_R_SYM(rl.r_info) ||
		    !gelf_getsym(syms, GELF_R_SYM(rl.r_info), &sym))
			continue;
		name = elf_strptr(elf, dynsym.sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		snprintf(buf, sizeof(buf), "%s@plt", name);
		if (raw_add(r, addr, 16, buf, 0))
			return -ENOMEM;
	}
	return 0;
}

/* collect function symbols; sets *has_symtab* when a full .symtab was found */
static int collect(Elf *elf, struct raw_syms *r, bool *has_symtab)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int err;

	*has_symtab = false;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM)
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			*has_symtab = true;
		err = collect_symtab(elf, scn, &sh, r);
		if (err)
			return err;
	}
	return 0;
}

static void read_loads(struct dso *d, Elf *elf)
{
	size_t i, n;

	if (elf_getphdrnum(elf, &n))
		return;
	for (i = 0; i < n && d->nloads < MAX_LOADS; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		d->loads[d->nloads].off = ph.p_offset;
		d->loads[d->nloads].vaddr = ph.p_vaddr;
		d->loads[d->nloads].filesz = ph.p_filesz;
		d->loads[d->nloads].exec = ph.p_flags & PF_X;
		d->nloads++;
	}
}

/* hex build-id into *out* ("" if none) */
static void read_build_id(Elf *elf, char *out, size_t outlen)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	out[0] = '\0';
	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		size_t off = 0, noff, doff;
		GElf_Nhdr nh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		while ((off = gelf_getnote(data, off, &nh, &noff, &doff)) > 0) {
			const unsigned char *id = (const unsigned char *)data->d_buf + doff;
			size_t i;

			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((char *)data->d_buf + noff, "GNU", 4))
				continue;
			for (i = 0; i < nh.n_descsz && 2 * i + 3 <= outlen; i++)
				sprintf(out + 2 * i, "%02x", id[i]);
			return;
		}
	}
}

static const char *debuglink(Elf *elf)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".gnu_debuglink"))
			continue;
		data = elf_getdata(scn, NULL);
		if (data && data->d_size > 1 && memchr(data->d_buf, '\0', data->d_size))
			return data->d_buf;
	}
	return NULL;
}

void elf_set_debug_fetcher(int (*fetch)(const char *build_id))
{
	debug_fetcher = fetch;
}

static int open_local_debug_file(struct dso *d, Elf *elf, const char *bid);

/*
 * open the separate debug file of *d* on this machine: by build-id, then by
 * debuglink.  When there is none, *d* may have one fetched (debug_fetchable)
 */
static int open_debug_file(struct dso *d, Elf *elf)
{
	char bid[128];
	int fd;

	read_build_id(elf, bid, sizeof(bid));
	fd = open_local_debug_file(d, elf, bid);
	if (fd < 0 && strlen(bid) > 2) {
		snprintf(d->build_id, sizeof(d->build_id), "%s", bid);
		d->debug_fetchable = true;
	}
	return fd;
}

const char *dso__build_id(struct dso *d)
{
	Elf *elf;

	if (!d->build_id_read && !d->build_id[0]) {
		elf = dso__elf(d);
		if (elf && elf_kind(elf) == ELF_K_ELF)
			read_build_id(elf, d->build_id, sizeof(d->build_id));
		if (elf)
			elf_end(elf);
	}
	d->build_id_read = true;
	return d->build_id[0] ? d->build_id : NULL;
}

bool dso__debug_wanted(struct dso *d, char *build_id, size_t len)
{
	Elf *elf;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	bool symtab = false, want = false;
	int fd;

	if (d->debug_wanted) {
		snprintf(build_id, len, "%s", d->build_id);
		return d->debug_wanted == 1;
	}
	d->debug_wanted = 2;
	if (d->mem || len < 4)
		return false;
	elf = dso__elf(d);
	if (!elf)
		return false;
	if (elf_kind(elf) == ELF_K_ELF) {
		while ((scn = elf_nextscn(elf, scn)))
			if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
				symtab = true;
		if (!symtab && dso__build_id(d)) {
			fd = open_local_debug_file(d, elf, d->build_id);
			if (fd >= 0)
				close(fd);
			want = fd < 0;
		}
	}
	elf_end(elf);
	snprintf(build_id, len, "%s", d->build_id);
	d->debug_wanted = want ? 1 : 2;
	return want;
}

static int open_local_debug_file(struct dso *d, Elf *elf, const char *bid)
{
	const char *roots[2] = { d->root, "" };
	char cand[1024], dir[512];
	const char *link = debuglink(elf), *slash;
	int i, j, fd;

	slash = strrchr(d->path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - d->path) : 0, d->path);
	for (i = 0; i < 2; i++) {
		if (i == 1 && !*d->root)
			break;
		for (j = 0; j < 4; j++) {
			cand[0] = '\0';
			if (j == 0 && strlen(bid) > 2)
				snprintf(cand, sizeof(cand), "%s/usr/lib/debug/.build-id/%.2s/%s.debug",
					 roots[i], bid, bid + 2);
			else if (j == 1 && link)
				snprintf(cand, sizeof(cand), "%s/usr/lib/debug%s/%s", roots[i], dir, link);
			else if (j == 2 && link)
				snprintf(cand, sizeof(cand), "%s%s/.debug/%s", roots[i], dir, link);
			else if (j == 3 && link)
				snprintf(cand, sizeof(cand), "%s%s/%s", roots[i], dir, link);
			if (!cand[0])
				continue;
			fd = open(cand, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				pr_debug("debug file for %s: %s\n", d->path, cand);
				return fd;
			}
		}
	}
	return -1;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
}

/* sort, keep the best-ranked symbol per address, and close gaps of size 0 */
static void finish(struct dso *d, struct raw_syms *r)
{
	size_t i, n = 0;
	struct {
		struct sym s;
		unsigned char rank;
	} *tmp;

	for (i = 0; i < r->n; i++)
		r->v[i].name = r->pool + (uintptr_t)r->v[i].name;
	tmp = malloc((r->n ? r->n : 1) * sizeof(*tmp));
	if (!tmp) {
		d->err = -ENOMEM;
		return;
	}
	for (i = 0; i < r->n; i++) {
		tmp[i].s = r->v[i];
		tmp[i].rank = r->rank[i];
	}
	/* cmp_sym compares the leading struct sym; break ties on rank below */
	qsort(tmp, r->n, sizeof(*tmp), cmp_sym);
	for (i = 0; i < r->n; i++) {
		if (n && r->v[n - 1].addr == tmp[i].s.addr) {
			if (tmp[i].rank > r->rank[n - 1] ||
			    (tmp[i].rank == r->rank[n - 1] &&
			     strcmp(tmp[i].s.name, r->v[n - 1].name) < 0)) {
				r->v[n - 1] = tmp[i].s;
				r->rank[n - 1] = tmp[i].rank;
			}
			continue;
		}
		r->v[n] = tmp[i].s;
		r->rank[n] = tmp[i].rank;
		n++;
	}
	free(tmp);
	for (i = 0; i < n; i++) {
		if (!r->v[i].size && i + 1 < n)
			r->v[i].size = r->v[i + 1].addr - r->v[i].addr;
		if (!r->v[i].size)
			r->v[i].size = 1;
	}
	d->syms = r->v;
	d->nsyms = n;
	d->strs = r->pool;
	r->v = NULL;
	r->pool = NULL;
}

int dso__load(struct dso *d)
{
	struct raw_syms r = {};
	bool has_symtab;
	Elf *elf;
	int err;

	if (d->tried)
		return d->err;
	d->tried = true;
	elf_version(EV_CURRENT);
	if (d->mem)
		elf = elf_memory(d->mem, d->memlen);
	else
		elf = elf_begin(d->fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		pr_debug("cannot parse ELF '%s': %s\n", d->path, elf_errmsg(-1));
		d->err = -ENOEXEC;
		goto out;
	}
	read_loads(d, elf);
	err = collect(elf, &r, &has_symtab);
	if (!err && !d->mem)
		err = collect_plt(elf, &r);
	if (!err && !has_symtab && !d->mem) {
		int dfd = d->debug_fd_next >= 0 ? d->debug_fd_next : open_debug_file(d, elf);
		Elf *delf;

		d->debug_fd_next = -1;

		if (dfd >= 0) {
			delf = elf_begin(dfd, ELF_C_READ_MMAP, NULL);
			if (delf && elf_kind(delf) == ELF_K_ELF) {
				err = collect(delf, &r, &has_symtab);
				d->debug_file = true;
			}
			if (delf)
				elf_end(delf);
			close(dfd);
		}
	}
	if (err)
		d->err = err;
	else
		finish(d, &r);
out:
	if (elf)
		elf_end(elf);
	free(r.v);
	free(r.rank);
	free(r.pool);
	/* the descriptor stays open: the file may be gone by the time unwind tables are built */
	return d->err;
}

bool dso__file_to_vaddr(struct dso *d, uint64_t off, uint64_t *vaddr)
{
	int i;

	dso__load(d);
	for (i = 0; i < d->nloads; i++) {
		const struct load *l = &d->loads[i];

		if (off >= l->off && off < l->off + l->filesz) {
			*vaddr = off - l->off + l->vaddr;
			return true;
		}
	}
	return false;
}

bool dso__map_bias(struct dso *d, uint64_t start, uint64_t pgoff, bool exec, uint64_t *bias)
{
	int pass, i;

	dso__load(d);
	/*
	 * Linkers may pack segments so that two share a file page (lld, rustc):
	 * the page at *pgoff* then belongs to the segment with the mapping's
	 * permissions.  Try those first.
	 */
	for (pass = exec ? 0 : 1; pass < 2; pass++) {
		for (i = 0; i < d->nloads; i++) {
			const struct load *l = &d->loads[i];

			if (pass == 0 && !l->exec)
				continue;
			if (pgoff >= (l->off & ~0xfffULL) && pgoff < l->off + l->filesz) {
				*bias = start - (pgoff - l->off + l->vaddr);
				return true;
			}
		}
	}
	return false;
}

const struct sym *dso__find(struct dso *d, uint64_t vaddr)
{
	size_t lo;

	if (load_syms(d) || !d->nsyms)
		return NULL;
	lo = bisect_u64(d->syms, d->nsyms, sizeof(*d->syms), offsetof(struct sym, addr), vaddr);
	if (!lo)
		return NULL;
	if (vaddr - d->syms[lo - 1].addr < d->syms[lo - 1].size)
		return &d->syms[lo - 1];
	return NULL;
}

Elf *dso__elf(struct dso *d)
{
	elf_version(EV_CURRENT);
	if (d->mem)
		return elf_memory(d->mem, d->memlen);
	if (d->fd < 0)
		return NULL;
	return elf_begin(d->fd, ELF_C_READ_MMAP, NULL);
}

size_t dso__nr_syms(struct dso *d)
{
	load_syms(d);
	return d->nsyms;
}

bool dso__mentions(struct dso *d, const char *name)
{
	Elf *elf = dso__elf(d);
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	bool found = false;

	while (elf && !found && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !sh.sh_entsize)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n && !found; i++) {
			GElf_Sym sym;
			const char *s;

			if (gelf_getsym(data, i, &sym) && (s = elf_strptr(elf, sh.sh_link, sym.st_name)))
				found = !strcmp(s, name);
		}
	}
	if (elf)
		elf_end(elf);
	return found;
}

/* look *name* up in the symbol tables of *elf*: a function (FUNC, IFUNC) when *funcs* */
static bool elf_lookup(Elf *elf, const char *name, bool funcs, uint64_t *value, uint64_t *size)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !sh.sh_entsize)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			const char *s;
			GElf_Sym sym;

			if (!gelf_getsym(data, i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_value)
				continue;
			if (funcs && GELF_ST_TYPE(sym.st_info) != STT_FUNC && GELF_ST_TYPE(sym.st_info) != STT_GNU_IFUNC)
				continue;
			s = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (s && !strcmp(s, name)) {
				*value = sym.st_value;
				if (size)
					*size = sym.st_size;
				return true;
			}
		}
	}
	return false;
}

bool elf__symbol(Elf *elf, const char *name, uint64_t *value, uint64_t *size)
{
	return elf_lookup(elf, name, false, value, size);
}

bool elf__function(Elf *elf, const char *name, uint64_t *value, uint64_t *size)
{
	return elf_lookup(elf, name, true, value, size);
}

bool dso__symbol(struct dso *d, const char *name, uint64_t *vaddr, uint64_t *size)
{
	Elf *elf = dso__elf(d);
	bool found;

	if (!elf)
		return false;
	found = elf_kind(elf) == ELF_K_ELF && elf__symbol(elf, name, vaddr, size);
	elf_end(elf);
	return found;
}

const char *dso__path(const struct dso *d)
{
	return d->path;
}

ssize_t dso__read(struct dso *d, uint64_t vaddr, void *buf, size_t len)
{
	int i;

	dso__load(d);
	if (d->fd < 0)
		return -EBADF;
	for (i = 0; i < d->nloads; i++) {
		const struct load *l = &d->loads[i];

		if (vaddr >= l->vaddr && vaddr < l->vaddr + l->filesz) {
			uint64_t room = l->vaddr + l->filesz - vaddr;

			return pread(d->fd, buf, len < room ? len : room, l->off + (vaddr - l->vaddr));
		}
	}
	return -ENOENT;
}

int dso__fd(const struct dso *d)
{
	return d->fd;
}

static bool has_section(Elf *elf, const char *want)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, want))
			return true;
	}
	return false;
}

/* the file's DWARF, or its separate debug file's */
static Dwarf *dso_dwarf(struct dso *d)
{
	Elf *elf;

	if (d->dw_tried)
		return d->dw;
	d->dw_tried = true;
	d->dw_fd = -1;
	elf = dso__elf(d);
	if (!elf)
		return NULL;
	if (elf_kind(elf) == ELF_K_ELF && has_section(elf, ".debug_info")) {
		d->dw_elf = elf;
	} else {
		if (elf_kind(elf) == ELF_K_ELF && !d->mem)
			d->dw_fd = open_debug_file(d, elf);
		elf_end(elf);
		if (d->dw_fd < 0)
			return NULL;
		d->dw_elf = elf_begin(d->dw_fd, ELF_C_READ_MMAP, NULL);
		if (!d->dw_elf)
			return NULL;
	}
	d->dw = dwarf_begin_elf(d->dw_elf, DWARF_C_READ, NULL);
	return d->dw;
}

static int attr_int(Dwarf_Die *die, unsigned int name)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	if (!dwarf_attr_integrate(die, name, &a) || dwarf_formudata(&a, &w))
		return 0;
	return (int)w;
}

bool dso__srcline(struct dso *d, uint64_t vaddr, struct srcline *out)
{
	Dwarf *dw = dso_dwarf(d);
	Dwarf_Die cu, *scopes = NULL;
	int n, i, fn = -1, inl = -1;
	const char *file;

	if (!dw || !dwarf_addrdie(dw, vaddr, &cu))
		return false;
	n = dwarf_getscopes(&cu, vaddr, &scopes);
	/* innermost first: the function is the outermost subprogram */
	for (i = 0; i < n; i++) {
		int tag = dwarf_tag(&scopes[i]);

		if (tag == DW_TAG_subprogram)
			fn = i;
		else if (tag == DW_TAG_inlined_subroutine && fn < 0)
			inl = i;
	}
	if (fn < 0) {
		free(scopes);
		return false;
	}
	file = dwarf_decl_file(&scopes[fn]);
	out->fn_file = file;
	{
		Dwarf_Attribute a;

		out->comp_dir = dwarf_attr(&cu, DW_AT_comp_dir, &a) ? dwarf_formstring(&a) : NULL;
	}
	out->fn_line = attr_int(&scopes[fn], DW_AT_decl_line);
	if (inl >= 0) {
		/* code inlined into the function: the line of the call in it */
		out->line = attr_int(&scopes[inl], DW_AT_call_line);
	} else {
		Dwarf_Line *l = dwarf_getsrc_die(&cu, vaddr);
		const char *lfile = l ? dwarf_linesrc(l, NULL, NULL) : NULL;
		int line = 0;

		if (l && !dwarf_lineno(l, &line) && lfile && file && !strcmp(lfile, file))
			out->line = line;
		else
			out->line = 0;	/* code from another file: a macro, an include */
	}
	free(scopes);
	return file && out->line > 0;
}

const struct sym *dso__sym_at(struct dso *d, size_t i)
{
	return !load_syms(d) && i < d->nsyms ? &d->syms[i] : NULL;
}

bool dso__vaddr_to_offset(struct dso *d, uint64_t vaddr, uint64_t *off)
{
	int i;

	dso__load(d);
	for (i = 0; i < d->nloads; i++) {
		const struct load *l = &d->loads[i];

		if (vaddr >= l->vaddr && vaddr < l->vaddr + l->filesz) {
			*off = vaddr - l->vaddr + l->off;
			return true;
		}
	}
	return false;
}
