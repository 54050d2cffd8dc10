// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* a CPython build's machine code: the wrappers' loads, the table, the guards */
#include "fuzz.h"
#include "pyalloc.h"

/* a GOT entry reads as whatever the input says after it */
static int resolve(void *ctx, uint64_t at, uint64_t *val)
{
	const uint8_t *d = ctx;

	*val = at * 0x9e3779b97f4a7c15ULL ^ d[0];
	return (at & 1) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pyalloc_load m[64], f[64];
	size_t half = size / 2;
	uint64_t t, func = size >= 8 ? (uint64_t)data[0] << 16 | data[1] << 8 | data[2] : 0x2000;
	int nm, nf, i;

	if (!size)
		return 0;
	nm = pyalloc_loads(data, half, 0x1000, m, 64);
	nf = pyalloc_loads(data + half, size - half, 0x1000 + half, f, 64);
	if (nm < 0 || nm > 64 || nf < 0 || nf > 64)
		abort();
	for (i = 0; i < nm; i++)
		if (!m[i].indirect && m[i].disp)
			abort();
	pyalloc_table(m, nm, f, nf, resolve, (void *)data, &t);
	if (pyalloc_guards(data, size, 0x1000, func) > size)
		abort();
	return 0;
}
