// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * symbench - time ebprof's symbolizer on 100k distinct addresses spread
 * over the code of libc and a libpython this process maps.
 *
 * usage: symbench [LIBPYTHON]   prints "metric value unit" lines
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "sym/procmaps.h"
#include "sym/symbolizer.h"

int log_level;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *py = argc > 1 ? argv[1] : NULL;
	struct map_entry *maps;
	struct symbolizer *s;
	size_t n, i, nspan = 0, known = 0;
	uint64_t lo[8], len[8], total = 0;
	double t0, t1;
	struct rusage ru;

	if (py && !dlopen(py, RTLD_NOW | RTLD_GLOBAL)) {
		fprintf(stderr, "symbench: cannot load '%s': %s\n", py, dlerror());
		return 1;
	}
	if (procmaps_read(getpid(), &maps, &n))
		return 1;
	for (i = 0; i < n && nspan < 8; i++) {
		if (!strstr(maps[i].path, "libc.so") && !strstr(maps[i].path, "libpython"))
			continue;
		lo[nspan] = maps[i].start;
		len[nspan] = maps[i].end - maps[i].start;
		total += len[nspan++];
	}
	free(maps);
	if (!nspan)
		return 1;
	s = symbolizer__new();
	t0 = now();
	symbolizer__snapshot(s, getpid(), 0);
	for (i = 0; i < 100000; i++) {
		/* evenly spread, so every address is distinct */
		uint64_t off = i * (total / 100000), a = 0;
		size_t k;
		struct sym_frame f;

		for (k = 0; k < nspan; k++) {
			if (off < len[k]) {
				a = lo[k] + off;
				break;
			}
			off -= len[k];
		}
		symbolizer__user(s, getpid(), 0, a, false, &f);
		known += f.known;
	}
	t1 = now();
	getrusage(RUSAGE_SELF, &ru);
	printf("symbolize_100k_addresses %.3f s\n", t1 - t0);
	printf("symbolize_known_share %.3f ratio\n", known / 100000.0);
	printf("symbolize_peak_rss %.1f MB\n", ru.ru_maxrss / 1024.0);
	symbolizer__free(s);
	return 0;
}
