// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* /tmp/perf-PID.map (JIT symbols), then lookups */
#include "fuzz.h"
#include "sym/perfmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;
	FILE *f = fuzz_file(data, size, &buf);
	struct perfmap *m = f ? perfmap__parse(f) : NULL;
	size_t i;

	if (m) {
		for (i = 0; i + 8 <= size && i < 256; i += 8) {
			uint64_t a;

			memcpy(&a, data + i, 8);
			perfmap__find(m, a);
		}
		perfmap__find(m, 0);
		perfmap__find(m, UINT64_MAX);
		perfmap__free(m);
	}
	if (f)
		fclose(f);
	free(buf);
	return 0;
}
