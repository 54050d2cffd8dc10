// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* /proc/kallsyms, then lookups at addresses the input names */
#include "fuzz.h"
#include "sym/kallsyms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;
	FILE *f = fuzz_file(data, size, &buf);
	struct ksyms *k = f ? ksyms__parse(f) : NULL;
	uint64_t a[34];
	size_t n = fuzz_addrs(data, size, a), i;

	for (i = 0; k && i < n; i++) {
		const struct ksym *s = ksyms__find(k, a[i]);

		if (s && !s->name)
			abort();
	}
	ksyms__free(k);
	if (f)
		fclose(f);
	free(buf);
	return 0;
}
