// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* /tmp/perf-PID.map (JIT symbols), then lookups */
#include "fuzz.h"
#include "sym/perfmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;
	FILE *f = fuzz_file(data, size, &buf);
	struct perfmap *m = f ? perfmap__parse(f) : NULL;
	uint64_t a[34];
	size_t n = fuzz_addrs(data, size, a), i;

	for (i = 0; m && i < n; i++)
		perfmap__find(m, a[i]);
	perfmap__free(m);
	if (f)
		fclose(f);
	free(buf);
	return 0;
}
