// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * uprobes.c - the files whose functions a mode probes, and uprobe.multi
 * links (see uprobes.h).
 */
#include <errno.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "uprobes.h"
#include "sym/elf.h"
#include "sym/symbolizer.h"
#include "util/grow.h"
#include "util/log.h"

bool uprobe_files__seen(struct uprobe_files *f, const char *path, bool add)
{
	struct stat st;
	size_t i;

	if (stat(path, &st))
		return false;
	for (i = 0; i < f->nseen; i++)
		if (f->seen[i].dev == st.st_dev && f->seen[i].ino == st.st_ino)
			return true;
	if (add && !GROW(f->seen, f->nseen, f->seen_cap, 16)) {
		f->seen[f->nseen].dev = st.st_dev;
		f->seen[f->nseen].ino = st.st_ino;
		f->nseen++;
	}
	return false;
}

void uprobe_files__mapped(struct uprobe_files *f, struct symbolizer *sym, int tgid)
{
	const struct sym_mapping *maps;
	char path[PATH_MAX];
	size_t n, i, k;

	n = symbolizer__mappings(sym, tgid, &maps);
	for (i = 0; i < n; i++) {
		struct dso *d = maps[i].dso;

		if (!d || !strncmp(dso__name(d), "ld-linux", 8))
			continue;
		for (k = 0; k < f->nscanned && f->scanned[k] != d; k++)
			;
		if (k < f->nscanned)
			continue;
		if (GROW(f->scanned, f->nscanned, f->scanned_cap, 32))
			return;
		f->scanned[f->nscanned++] = d;
		snprintf(path, sizeof(path), "/proc/%d/root%s", tgid, dso__path(d));
		if (!uprobe_files__seen(f, path, true))
			f->scan(f->ctx, d, path);
	}
}

/* the dynamic section's DT_NEEDED names of *elf* into *needed* ('\0'-separated), its RPATH and RUNPATH */
static void dynamic_names(Elf *elf, char *needed, size_t nlen, char *rpath, char *runpath, size_t plen)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t used = 0;

	*needed = *rpath = *runpath = '\0';
	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		n = data ? sh.sh_size / sh.sh_entsize : 0;
		for (i = 0; i < n; i++) {
			GElf_Dyn dyn;
			const char *s;

			if (!gelf_getdyn(data, i, &dyn) || dyn.d_tag == DT_NULL)
				break;
			if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RPATH && dyn.d_tag != DT_RUNPATH)
				continue;
			s = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
			if (!s)
				continue;
			if (dyn.d_tag == DT_RPATH)
				snprintf(rpath, plen, "%s", s);
			else if (dyn.d_tag == DT_RUNPATH)
				snprintf(runpath, plen, "%s", s);
			else if (used + strlen(s) + 2 <= nlen) {
				memcpy(needed + used, s, strlen(s) + 1);
				used += strlen(s) + 1;
				needed[used] = '\0';
			}
		}
		break;
	}
}

/* *name* in the ':'-separated directories *dirs* ($ORIGIN: *origin*): the path found into *out* */
static bool search_dirs(const char *dirs, const char *origin, const char *name, char *out, size_t len)
{
	char list[4096], *save = NULL, *tok;

	snprintf(list, sizeof(list), "%s", dirs);
	for (tok = strtok_r(list, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		const char *rest = NULL;

		if (!strncmp(tok, "$ORIGIN", 7))
			rest = tok + 7;
		else if (!strncmp(tok, "${ORIGIN}", 9))
			rest = tok + 9;
		if (rest)
			snprintf(out, len, "%s%s/%s", origin, rest, name);
		else
			snprintf(out, len, "%s/%s", *tok ? tok : ".", name);
		if (!access(out, R_OK))
			return true;
	}
	return false;
}

/* the directories ld.so looks in last; the multiarch ones cover Debian */
static const char default_dirs[] =
	"/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/usr/local/lib:/lib64:/usr/lib64:/lib:/usr/lib";

static void command_file(struct uprobe_files *f, const char *path, const char *exe_rpath, bool needed, int depth);

/* the libraries *d* (at *real*) links, as ld.so finds them */
static void needed_files(struct uprobe_files *f, struct dso *d, const char *real, const char *exe_rpath, int depth)
{
	char needed[4096], rpath[1024], runpath[1024], origin[PATH_MAX], path[PATH_MAX], *slash;
	const char *llp = getenv("LD_LIBRARY_PATH");
	Elf *elf = dso__elf(d);
	const char *name;

	if (!elf)
		return;
	dynamic_names(elf, needed, sizeof(needed), rpath, runpath, sizeof(rpath));
	elf_end(elf);
	snprintf(origin, sizeof(origin), "%s", real);
	slash = strrchr(origin, '/');
	if (slash)
		*slash = '\0';
	if (!exe_rpath)
		exe_rpath = *runpath ? "" : rpath;
	for (name = needed; *name; name += strlen(name) + 1) {
		bool found;

		if (strchr(name, '/')) {
			snprintf(path, sizeof(path), "%s", name);
			found = !access(path, R_OK);
		} else {
			found = (!*runpath && *rpath && search_dirs(rpath, origin, name, path, sizeof(path))) ||
				(!*runpath && *exe_rpath && search_dirs(exe_rpath, origin, name, path, sizeof(path))) ||
				(llp && search_dirs(llp, origin, name, path, sizeof(path))) ||
				(*runpath && search_dirs(runpath, origin, name, path, sizeof(path))) ||
				search_dirs(default_dirs, origin, name, path, sizeof(path));
		}
		if (found)
			command_file(f, path, exe_rpath, true, depth + 1);
		else
			pr_debug("uprobes: %s needs %s, not found before it runs\n", real, name);
	}
}

static void command_file(struct uprobe_files *f, const char *path, const char *exe_rpath, bool needed, int depth)
{
	char real[PATH_MAX];
	struct dso *d;
	int fd;

	if (depth > 16 || !realpath(path, real) || uprobe_files__seen(f, real, false))
		return;
	fd = open(real, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	d = dso__new_fd(fd, real, "");
	if (!d) {
		close(fd);
		return;
	}
	if (!dso__load(d)) {
		uprobe_files__seen(f, real, true);
		f->scan(f->ctx, d, real);
		if (needed)
			needed_files(f, d, real, exe_rpath, depth);
	}
	dso__free(d);
}

void uprobe_files__command(struct uprobe_files *f, char **cmd, bool needed)
{
	char path[PATH_MAX], list[4096], *save = NULL, *tok;
	const char *pre = getenv("LD_PRELOAD");

	if (!cmd || !cmd[0])
		return;
	if (strchr(cmd[0], '/')) {
		command_file(f, cmd[0], NULL, needed, 0);
	} else {
		const char *dirs = getenv("PATH") ? getenv("PATH") : "/usr/local/bin:/usr/bin:/bin";

		snprintf(list, sizeof(list), "%s", dirs);
		for (tok = strtok_r(list, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
			snprintf(path, sizeof(path), "%s/%s", tok, cmd[0]);
			if (!access(path, X_OK)) {
				command_file(f, path, NULL, needed, 0);
				break;
			}
		}
	}
	if (!pre)
		return;
	snprintf(list, sizeof(list), "%s", pre);
	save = NULL;
	for (tok = strtok_r(list, ": ", &save); tok; tok = strtok_r(NULL, ": ", &save)) {
		if (strchr(tok, '/')) {
			command_file(f, tok, NULL, needed, 0);
			continue;
		}
		/* a bare name: ld.so's search */
		if (search_dirs(default_dirs, "", tok, path, sizeof(path)))
			command_file(f, path, NULL, needed, 0);
	}
}

void uprobe_files__free(struct uprobe_files *f)
{
	free(f->seen);
	free(f->scanned);
	f->seen = NULL;
	f->scanned = NULL;
	f->nseen = f->seen_cap = f->nscanned = f->scanned_cap = 0;
}

bool uprobe_multi_supported(void)
{
	struct btf *btf;
	bool ok;

	if (getenv("EBPROF_NO_UPROBE_MULTI"))
		return false;
	btf = btf__load_vmlinux_btf();
	if (!btf)
		return false;
	ok = btf__find_by_name_kind(btf, "bpf_uprobe_multi_link", BTF_KIND_STRUCT) >= 0;
	btf__free(btf);
	return ok;
}

#define EBPROF_F_UPROBE_MULTI_RETURN 1

int uprobe_multi_link(int prog_fd, const char *path, const uint64_t *offsets, const uint64_t *cookies, uint32_t n,
		      bool ret, int pid)
{
	union {
		struct {
			uint32_t prog_fd, target_fd, attach_type, flags;
			uint64_t path, offsets, ref_ctr_offsets, cookies;
			uint32_t cnt, flags2, pid;
		} __attribute__((packed, aligned(8))) a;
		char pad[sizeof(union bpf_attr) > 128 ? sizeof(union bpf_attr) : 128];
	} attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.a.prog_fd = prog_fd;
	attr.a.attach_type = EBPROF_TRACE_UPROBE_MULTI;
	attr.a.path = (uintptr_t)path;
	attr.a.offsets = (uintptr_t)offsets;
	attr.a.cookies = (uintptr_t)cookies;
	attr.a.cnt = n;
	attr.a.flags2 = ret ? EBPROF_F_UPROBE_MULTI_RETURN : 0;
	attr.a.pid = pid;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

int uprobe_attach_pair(struct bpf_program *entry, struct bpf_program *ret, int pid, const char *path,
		       uint64_t offset, const char *func, uint64_t cookie, struct bpf_link **entry_link,
		       struct bpf_link **ret_link)
{
	LIBBPF_OPTS(bpf_uprobe_opts, eopts, .func_name = offset ? NULL : func, .bpf_cookie = cookie);
	LIBBPF_OPTS(bpf_uprobe_opts, ropts, .func_name = offset ? NULL : func, .bpf_cookie = cookie,
		    .retprobe = true);
	int err;

	*entry_link = bpf_program__attach_uprobe_opts(entry, pid, path, offset, &eopts);
	if (!*entry_link)
		return -errno;
	if (!ret)
		return 0;
	*ret_link = bpf_program__attach_uprobe_opts(ret, pid, path, offset, &ropts);
	if (*ret_link)
		return 0;
	err = -errno;
	bpf_link__destroy(*entry_link);
	*entry_link = NULL;
	return err;
}

int uprobe_multi_pair(int entry_fd, int ret_fd, const char *path, const uint64_t *offsets, const uint64_t *cookies,
		      uint32_t n, int pid, int *entry_link, int *ret_link)
{
	int e, r;

	e = uprobe_multi_link(entry_fd, path, offsets, cookies, n, false, pid);
	if (e < 0)
		return e;
	r = uprobe_multi_link(ret_fd, path, offsets, cookies, n, true, pid);
	if (r < 0) {
		close(e);
		return r;
	}
	*entry_link = e;
	*ret_link = r;
	return 0;
}
