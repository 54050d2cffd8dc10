// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * toucher - maps MIB MiB (default 256) and writes one byte in each 4 KiB
 * page: one minor fault per page, by construction (huge pages are turned
 * off for the mapping), then unmaps it.  With "exec PROG [ARG...]" it
 * execs PROG instead, so that execve itself frees the pages (~0.1 s of
 * kernel work per GiB, with the old program's registers and no stack).
 * usage: toucher [MIB [exec PROG [ARG...]]]
 */
#include <string.h>
#include <sys/mman.h>
#include "workload.h"

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256, len = mib << 20, off;
	char *p;

	maybe_wait_for_go();
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	madvise(p, len, MADV_NOHUGEPAGE);
	for (off = 0; off < len; off += 4096)
		p[off] = 1;
	printf("pages %zu\n", len / 4096);
	if (argc > 3 && !strcmp(argv[2], "exec")) {
		fflush(stdout);
		execv(argv[3], argv + 3);
		return 127;
	}
	/* freed here, not by exit: counters stop before exit frees memory */
	munmap(p, len);
	return 0;
}
