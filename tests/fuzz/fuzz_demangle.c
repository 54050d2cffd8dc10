// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* symbol names from any ELF: C++ (Itanium), Rust legacy and v0 */
#include "fuzz.h"
#include "sym/demangle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = fuzz_str(data, size), *d;

	d = demangle(name);
	if (d && !*d && *name)
		abort();	/* a name never demangles to nothing */
	free(d);
	d = rust_v0_demangle(name);
	free(d);
	free(name);
	return 0;
}
