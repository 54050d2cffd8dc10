// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * An ELF file as the target maps it: symbols (.symtab, .dynsym,
 * .gnu_debugdata), build-id and debuglink, lookups, reads by address,
 * line numbers, and unwind rows from .eh_frame / .debug_frame.
 */
#include <libelf.h>
#include "fuzz.h"
#include "sym/elf.h"
#include "unwind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dso *d = dso__new_mem(data, size, "fuzz.so");
	struct unwind_row *rows = NULL;
	struct unwind_build_stats st = {};
	size_t n = 0, i, nsyms;
	uint64_t off, bias;
	struct srcline sl;
	char buf[64];
	Elf *elf;

	if (!d)
		return 0;
	if (!dso__load(d)) {
		nsyms = dso__nr_syms(d);
		for (i = 0; i < nsyms && i < 64; i++) {
			const struct sym *s = dso__sym_at(d, i), *f;

			if (!s || !s->name)
				abort();
			f = dso__find(d, s->addr);
			if (!f)
				abort();	/* every symbol is found at its address */
			dso__read(d, s->addr, buf, sizeof(buf));
			dso__vaddr_to_offset(d, s->addr, &off);
			dso__srcline(d, s->addr, &sl);
		}
		dso__find(d, 0);
		dso__find(d, UINT64_MAX);
		dso__map_bias(d, 0x400000, 0, true, &bias);
		dso__file_to_vaddr(d, 0x1000, &off);
		dso__symbol(d, "main", &off, &off);
	}
	elf = dso__elf(d);
	if (elf) {
		if (!unwind_build_elf(elf, &rows, &n, &st)) {
			for (i = 0; i + 1 < n; i++)
				if (rows[i].pc > rows[i + 1].pc)	/* promised: sorted */
					abort();
			if (n)
				unwind_find_row(rows, n, rows[n / 2].pc);
		}
		free(rows);
		elf_end(elf);
	}
	dso__free(d);
	return 0;
}
