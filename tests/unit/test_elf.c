// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ELF symbol lookup on fixtures that make builds, checked against nm. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "t.h"
#include "sym/elf.h"

#define FIX ".output/tests/sym_fixture"

static struct dso *open_dso(const char *path, const char *as, const char *root)
{
	int fd = open(path, O_RDONLY);

	return fd < 0 ? NULL : dso__new_fd(fd, as ? as : path, root);
}

/* every sized function nm lists resolves to itself at its first and last byte */
static int matches_nm(void)
{
	struct dso *d = open_dso(FIX, NULL, "");
	char line[512], name[256], type;
	uint64_t addr, size;
	int checked = 0;
	FILE *nm;

	T_ASSERT(d);
	nm = popen("nm -S --defined-only " FIX, "r");
	T_ASSERT(nm);
	while (fgets(line, sizeof(line), nm)) {
		const struct sym *s1, *s2;

		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %c %255s", &addr, &size, &type, name) != 4)
			continue;
		if (type != 't' && type != 'T' && type != 'W' && type != 'w')
			continue;
		s1 = dso__find(d, addr);
		s2 = dso__find(d, addr + size - 1);
		T_ASSERT(s1 && s2 && s1 == s2);
		T_ASSERT(s1->addr == addr);
		checked++;
	}
	pclose(nm);
	T_ASSERT(checked >= 3);
	dso__free(d);
	return T_OK;
}

static int named_functions(void)
{
	struct dso *d = open_dso(FIX, NULL, "");
	const char *names[] = { "fixture_alpha", "fixture_beta", "fixture_static_gamma", "main" };
	char line[512], name[256], type;
	uint64_t addr, size;
	int found = 0;
	size_t i;
	FILE *nm;

	T_ASSERT(d);
	T_ASSERT_STR(dso__name(d), "sym_fixture");
	nm = popen("nm -S --defined-only " FIX, "r");
	while (fgets(line, sizeof(line), nm)) {
		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %c %255s", &addr, &size, &type, name) != 4)
			continue;
		for (i = 0; i < 4; i++) {
			if (strcmp(name, names[i]))
				continue;
			T_ASSERT_STR(dso__find(d, addr + size / 2)->name, names[i]);
			found++;
		}
	}
	pclose(nm);
	T_ASSERT(found == 4);
	dso__free(d);
	return T_OK;
}

/* a PIE: file offsets of the text segment map to the vaddrs symbols use */
static int file_offset_to_vaddr(void)
{
	struct dso *d = open_dso(FIX, NULL, "");
	uint64_t v;
	FILE *re;
	char line[512];
	uint64_t off, vaddr, filesz;
	int seen = 0;

	T_ASSERT(d);
	re = popen("readelf -lW " FIX " | awk '$1 == \"LOAD\" {print $2, $3, $5}'", "r");
	while (fgets(line, sizeof(line), re)) {
		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %" SCNx64, &off, &vaddr, &filesz) != 3 || !filesz)
			continue;
		T_ASSERT(dso__file_to_vaddr(d, off + filesz / 2, &v));
		T_ASSERT(v == vaddr + filesz / 2);
		seen++;
	}
	pclose(re);
	T_ASSERT(seen >= 2);
	dso__free(d);
	return T_OK;
}

/* stripped: no function symbols but the PLT stubs, one per JUMP_SLOT relocation */
static int stripped_has_no_static_symbols(void)
{
	struct dso *d = open_dso(FIX ".stripped", FIX ".stripped", "/nonexistent");
	FILE *re = popen("readelf -rW " FIX ".stripped | grep -c JUMP_SLO", "r");
	size_t i, slots = 0;

	T_ASSERT(d && re);
	T_ASSERT(fscanf(re, "%zu", &slots) == 1);
	pclose(re);
	T_ASSERT(slots > 0 && dso__nr_syms(d) == slots);
	for (i = 0; i < slots; i++) {
		const struct sym *sym = dso__sym_at(d, i);
		size_t len = strlen(sym->name);

		T_ASSERT(len > 4 && !strcmp(sym->name + len - 4, "@plt") && sym->size == 16);
	}
	/* where objdump puts each stub of .plt (.plt.got has no relocation of its own) */
	re = popen("objdump -d -j .plt -j .plt.sec " FIX ".stripped 2>/dev/null | sed -n 's/^\\([0-9a-f]*\\) <\\(.*@plt\\)>:$/\\1 \\2/p'", "r");
	T_ASSERT(re);
	for (i = 0; ; i++) {
		char name[128];
		uint64_t addr;
		const struct sym *sym;

		if (fscanf(re, "%" SCNx64 " %127s", &addr, name) != 2)
			break;
		sym = dso__find(d, addr + 4);
		T_ASSERT(sym);
		T_ASSERT_STR(sym->name, name);
	}
	pclose(re);
	T_ASSERT(i == slots);
	T_ASSERT(!dso__has_debug_file(d));
	dso__free(d);
	return T_OK;
}

static int debug_file_by_build_id(void)
{
	char root[] = "/tmp/ebprof-dbg-XXXXXX", cmd[2048], bid[128] = "", dir[600], path[700];
	const struct sym *s;
	struct dso *d;
	uint64_t addr = 0;
	FILE *p;

	T_ASSERT(mkdtemp(root));
	p = popen("readelf -n " FIX " | awk '/Build ID/ {print $3}'", "r");
	T_ASSERT(p && fgets(bid, sizeof(bid), p));
	pclose(p);
	bid[strcspn(bid, "\n")] = '\0';
	T_ASSERT(strlen(bid) > 8);
	snprintf(dir, sizeof(dir), "%s/usr/lib/debug/.build-id/%.2s", root, bid);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp " FIX " %s/%s.debug", dir, dir, bid + 2);
	T_ASSERT(!system(cmd));
	/* the stripped file, as the target sees it under its root */
	d = open_dso(FIX ".stripped", "/usr/bin/sym_fixture", root);
	T_ASSERT(d);
	T_ASSERT(dso__nr_syms(d) > 3);
	T_ASSERT(dso__has_debug_file(d));
	p = popen("nm " FIX " | awk '$3 == \"fixture_static_gamma\" {print $1}'", "r");
	T_ASSERT(p && fscanf(p, "%" SCNx64, &addr) == 1);
	pclose(p);
	s = dso__find(d, addr);
	T_ASSERT(s);
	T_ASSERT_STR(s->name, "fixture_static_gamma");
	dso__free(d);
	snprintf(path, sizeof(path), "rm -rf %s", root);
	T_ASSERT(!system(path));
	return T_OK;
}

static int debug_file_by_debuglink(void)
{
	struct dso *d = open_dso(FIX ".linked", FIX ".linked", "");

	T_ASSERT(d);
	T_ASSERT(dso__has_debug_file(d));
	T_ASSERT(dso__nr_syms(d) > 3);
	dso__free(d);
	return T_OK;
}

static int not_elf(void)
{
	struct dso *d = open_dso("tests/unit/fixtures/maps.txt", NULL, "");

	T_ASSERT(d);
	T_ASSERT(dso__load(d) < 0);
	T_ASSERT(dso__find(d, 0x1000) == NULL);
	dso__free(d);
	return T_OK;
}

/* a program with *src*, built in *dir*: an open libelf handle on it (*fd* to close), or NULL */
static Elf *build_elf(const char *dir, const char *src, int *fd)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "printf '%%s' '%s' > %s/p.c && cc -fno-builtin -w -o %s/p %s/p.c", src, dir, dir, dir);
	if (system(cmd))
		return NULL;
	snprintf(cmd, sizeof(cmd), "%s/p", dir);
	*fd = open(cmd, O_RDONLY);
	elf_version(EV_CURRENT);
	return *fd < 0 ? NULL : elf_begin(*fd, ELF_C_READ, NULL);
}

/*
 * elf__function finds functions only: ebprof mem refuses to preload into
 * an executable that defines malloc, a function, not one that has data of
 * that name (elf__symbol finds both)
 */
static int functions_only(void)
{
	char dir[] = "/tmp/ebprof-test-elf.XXXXXX", cmd[64];
	uint64_t v;
	Elf *e;
	int fd;

	T_ASSERT(mkdtemp(dir));
	e = build_elf(dir, "char malloc[8] = \"x\"; int main(void) { return malloc[1]; }", &fd);
	T_ASSERT(e);
	T_ASSERT(elf__symbol(e, "malloc", &v, NULL) && v);
	T_ASSERT(!elf__function(e, "malloc", &v, NULL));
	T_ASSERT(elf__function(e, "main", &v, NULL) && v);
	elf_end(e);
	close(fd);
	e = build_elf(dir, "void *malloc(unsigned long n) { return (void *)n; } int main(void) { return 0; }", &fd);
	T_ASSERT(e);
	T_ASSERT(elf__function(e, "malloc", &v, NULL) && v);
	elf_end(e);
	close(fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	T_ASSERT(!system(cmd));
	return T_OK;
}

T_MAIN("elf", T(matches_nm), T(named_functions), T(file_offset_to_vaddr),
       T(stripped_has_no_static_symbols), T(debug_file_by_build_id), T(debug_file_by_debuglink),
       T(not_elf), T(functions_only))
