// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "t.h"
#include "sym/perfmap.h"

static int parse_fixture(void)
{
	FILE *f = fopen("tests/unit/fixtures/perf-4242.map", "r");
	struct perfmap *m;

	T_ASSERT(f);
	m = perfmap__parse(f);
	fclose(f);
	T_ASSERT(m);
	/* the bad line and the zero-sized entry are skipped; a restated start wins */
	T_ASSERT(perfmap__count(m) == 2);
	T_ASSERT_STR(perfmap__find(m, 0x7f0000001000ULL), "py::replaced:/app/x.py");
	T_ASSERT_STR(perfmap__find(m, 0x7f000000101fULL), "py::replaced:/app/x.py");
	T_ASSERT(perfmap__find(m, 0x7f0000001020ULL) == NULL);
	T_ASSERT_STR(perfmap__find(m, 0x7f00000020ffULL), "LazyCompile:*foo /app/a.js");
	T_ASSERT(perfmap__find(m, 0x7f0000002100ULL) == NULL);
	T_ASSERT(perfmap__find(m, 0x10) == NULL);
	perfmap__free(m);
	return T_OK;
}

static int load_checks_owner_and_links(void)
{
	char dir[] = "/tmp/ebprof-pm-XXXXXX", path[256], target[256];
	struct perfmap *m;
	FILE *f;

	T_ASSERT(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tmp", dir);
	T_ASSERT(!mkdir(path, 0755));
	snprintf(path, sizeof(path), "%s/tmp/perf-77.map", dir);
	f = fopen(path, "w");
	T_ASSERT(f);
	fprintf(f, "1000 10 jitted\n");
	fclose(f);
	m = perfmap__load(dir, 77, getuid());
	T_ASSERT(m && perfmap__count(m) == 1);
	perfmap__free(m);
	if (getuid() == 0) {
		/* owned by neither the target's user nor root: refused */
		T_ASSERT(!chown(path, 4321, 4321));
		T_ASSERT(perfmap__load(dir, 77, 1234) == NULL);
		T_ASSERT(!chown(path, 0, 0));
	}
	/* a symbolic link is never followed */
	snprintf(target, sizeof(target), "%s/tmp/perf-78.map", dir);
	T_ASSERT(!symlink(path, target));
	errno = 0;
	T_ASSERT(perfmap__load(dir, 78, getuid()) == NULL);
	T_ASSERT(errno == ELOOP);
	unlink(target);
	unlink(path);
	snprintf(path, sizeof(path), "%s/tmp", dir);
	rmdir(path);
	rmdir(dir);
	return T_OK;
}

T_MAIN("perfmap", T(parse_fixture), T(load_checks_owner_and_links))
