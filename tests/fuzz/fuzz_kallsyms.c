// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* /proc/kallsyms, then lookups at addresses the input names */
#include "fuzz.h"
#include "sym/kallsyms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;
	FILE *f = fuzz_file(data, size, &buf);
	struct ksyms *k = f ? ksyms__parse(f) : NULL;
	size_t i;

	if (k) {
		for (i = 0; i + 8 <= size && i < 256; i += 8) {
			uint64_t a;
			const struct ksym *s;

			memcpy(&a, data + i, 8);
			s = ksyms__find(k, a);
			if (s && !s->name)
				abort();
		}
		ksyms__find(k, 0);
		ksyms__find(k, UINT64_MAX);
		ksyms__free(k);
	}
	if (f)
		fclose(f);
	free(buf);
	return 0;
}
