// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * unwindbench - time and size of building unwind tables for some ELF
 * files (libc and libpython by default).  Prints "metric value unit" lines.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "unwind.h"

int log_level;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *defaults[] = { "/lib/x86_64-linux-gnu/libc.so.6",
				   "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0" };
	const char **files = argc > 1 ? (const char **)argv + 1 : defaults;
	int i, nfiles = argc > 1 ? argc - 1 : 2;
	size_t total = 0;
	struct rusage ru;
	double t0 = now();

	elf_version(EV_CURRENT);
	for (i = 0; i < nfiles; i++) {
		struct unwind_build_stats st;
		struct unwind_row *rows;
		int fd = open(files[i], O_RDONLY);
		Elf *elf = fd < 0 ? NULL : elf_begin(fd, ELF_C_READ_MMAP, NULL);
		size_t n;

		if (!elf || unwind_build_elf(elf, &rows, &n, &st)) {
			fprintf(stderr, "unwindbench: no table for '%s'\n", files[i]);
			return 1;
		}
		printf("unwind_rows_%s %zu rows (%zu FDEs, %zu raw rows, %zu not followed)\n",
		       strrchr(files[i], '/') + 1, n, st.fdes, st.rows, st.invalid);
		total += n;
		free(rows);
		elf_end(elf);
		close(fd);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("unwind_build_time %.1f ms\n", 1000 * (now() - t0));
	printf("unwind_table_bytes %.0f KiB\n", total * sizeof(struct unwind_row) / 1024.0);
	printf("unwind_build_peak_rss %.1f MB\n", ru.ru_maxrss / 1024.0);
	return 0;
}
