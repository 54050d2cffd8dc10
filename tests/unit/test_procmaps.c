// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <sys/mman.h>
#include "t.h"
#include "sym/procmaps.h"

static int parse_plain(void)
{
	struct map_entry e;

	T_ASSERT(!procmaps_parse_line("7f1e4a228000-7f1e4a3bd000 r-xp 00028000 fd:01 2371    /usr/lib/libc.so.6\n", &e));
	T_ASSERT(e.start == 0x7f1e4a228000ULL && e.end == 0x7f1e4a3bd000ULL);
	T_ASSERT(e.pgoff == 0x28000 && e.ino == 2371 && e.exec && !e.deleted);
	T_ASSERT(major(e.dev) == 0xfd && minor(e.dev) == 1);
	T_ASSERT_STR(e.path, "/usr/lib/libc.so.6");
	return T_OK;
}

static int parse_deleted_and_spaces(void)
{
	struct map_entry e;

	T_ASSERT(!procmaps_parse_line("7f1e4a600000-7f1e4a601000 r-xp 00000000 00:2a 77   /tmp/my lib (v2).so (deleted)\n", &e));
	T_ASSERT(e.deleted);
	T_ASSERT_STR(e.path, "/tmp/my lib (v2).so");
	return T_OK;
}

static int parse_anon_and_bad(void)
{
	struct map_entry e;

	T_ASSERT(!procmaps_parse_line("7f1e4a700000-7f1e4a710000 rwxp 00000000 00:00 0 \n", &e));
	T_ASSERT(e.exec && e.path[0] == '\0' && e.ino == 0);
	T_ASSERT(procmaps_parse_line("garbage\n", &e) < 0);
	T_ASSERT(procmaps_parse_line("2000-1000 r-xp 0 00:00 0\n", &e) < 0);
	return T_OK;
}

static int parse_file_keeps_exec_only(void)
{
	FILE *f = fopen("tests/unit/fixtures/maps.txt", "r");
	struct map_entry *v;
	size_t n;

	T_ASSERT(f);
	T_ASSERT(!procmaps_parse(f, &v, &n));
	fclose(f);
	/* cat text, libc, deleted lib, anon rwx, vdso, vsyscall */
	T_ASSERT(n == 6);
	T_ASSERT_STR(v[0].path, "/usr/bin/cat");
	T_ASSERT(v[0].pgoff == 0x2000);
	T_ASSERT_STR(v[4].path, "[vdso]");
	T_ASSERT_STR(v[5].path, "[vsyscall]");
	free(v);
	return T_OK;
}

static int read_self(void)
{
	struct map_entry *v;
	size_t n, i;
	int found = 0;

	T_ASSERT(!procmaps_read(getpid(), &v, &n));
	for (i = 0; i < n; i++) {
		uint64_t a = (uint64_t)(uintptr_t)&read_self;

		if (a >= v[i].start && a < v[i].end)
			found = 1;
		if (i)
			T_ASSERT(v[i].start >= v[i - 1].end);
	}
	free(v);
	T_ASSERT(found);
	return T_OK;
}

/*
 * PROCMAP_QUERY (6.11) and the text give the same executable mappings:
 * a library mapped from a file deleted since, the vdso, anonymous code
 * (where the kernel lacks the ioctl, both are the text)
 */
static int query_as_text(void)
{
	char path[] = "/tmp/ebprof-test-pmq.XXXXXX";
	struct map_entry *q, *t;
	size_t nq, nt, i;
	void *anon, *file;
	int fd = mkstemp(path);

	T_ASSERT(fd >= 0 && ftruncate(fd, 8192) == 0);
	file = mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 4096 * 0);
	anon = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(file != MAP_FAILED && anon != MAP_FAILED);
	unlink(path);
	T_ASSERT(!procmaps_read_how(getpid(), &t, &nt, true));
	T_ASSERT(!procmaps_read_how(getpid(), &q, &nq, false));
	/* the one difference: the query does not see the gate page, which no code runs from since 2014 */
	if (nt && !strcmp(t[nt - 1].path, "[vsyscall]"))
		nt--;
	if (nq != nt)
		for (i = 0; i < (nq > nt ? nq : nt); i++)
			fprintf(stderr, "%zu: query %s %lx  text %s %lx\n", i, i < nq ? q[i].path : "-",
				i < nq ? (unsigned long)q[i].start : 0, i < nt ? t[i].path : "-",
				i < nt ? (unsigned long)t[i].start : 0);
	T_ASSERT(nq == nt && nt >= 4);
	for (i = 0; i < nt; i++) {
		T_ASSERT(q[i].start == t[i].start && q[i].end == t[i].end && q[i].exec);
		T_ASSERT(q[i].dev == t[i].dev && q[i].ino == t[i].ino && q[i].deleted == t[i].deleted);
		T_ASSERT_STR(q[i].path, t[i].path);
		if (t[i].ino)
			T_ASSERT(q[i].pgoff == t[i].pgoff);
		if (q[i].start == (uintptr_t)file)
			T_ASSERT(q[i].deleted && !strcmp(q[i].path, path));
	}
	free(q);
	free(t);
	munmap(file, 8192);
	munmap(anon, 4096);
	close(fd);
	return T_OK;
}

T_MAIN("procmaps", T(parse_plain), T(parse_deleted_and_spaces), T(parse_anon_and_bad),
       T(parse_file_keeps_exec_only), T(read_self), T(query_as_text))
