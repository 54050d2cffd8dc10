// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include "t.h"
#include "pyframes.h"

/*
 * tests/unit/fixtures/pylines.txt comes from tools/gen_pylines.py run by
 * CPython 3.8 ... 3.13: line tables of real code objects and the line
 * CPython gives each instruction (dis.findlinestarts, co_lines()).
 */
static int line_tables_match_cpython(void)
{
	FILE *f = fopen("tests/unit/fixtures/pylines.txt", "r");
	static uint8_t tab[65536];
	char kind[8], hex[131072];
	unsigned int minor = 0, first = 0, checked = 0, codes = 0, seen[16] = {};
	size_t len = 0;

	T_ASSERT(f);
	while (fscanf(f, "%7s", kind) == 1) {
		if (!strcmp(kind, "code")) {
			size_t i;

			T_ASSERT(fscanf(f, "%u %u %131071s", &minor, &first, hex) == 3);
			len = 0;
			for (i = 0; hex[0] != '-' && hex[i] && hex[i + 1]; i += 2) {
				unsigned int b;

				T_ASSERT(sscanf(hex + i, "%2x", &b) == 1);
				tab[len++] = b;
			}
			codes++;
			seen[minor & 15] = 1;
		} else {
			unsigned int instr;
			int want, got;

			T_ASSERT(fscanf(f, "%u %d", &instr, &want) == 2);
			got = py_line(minor, tab, len, first, instr);
			if (got != want) {
				fprintf(stderr, "  3.%u first %u instr %u: line %d, CPython says %d\n", minor,
					first, instr, got, want);
				fclose(f);
				return T_FAIL;
			}
			checked++;
		}
	}
	fclose(f);
	T_ASSERT(codes >= 40 && checked >= 900);
	for (minor = 8; minor <= 13; minor++)
		T_ASSERT(seen[minor]);
	return T_OK;
}

static int line_tables_edge_cases(void)
{
	/* 3.8: f_lasti -1 (not started) is the first line */
	static const uint8_t lnotab[] = { 4, 1, 6, 2 };
	/* 3.11: an entry that claims more bytes than there are */
	static const uint8_t bad311[] = { 0xf0, 0x83 };
	static const uint8_t not_entry[] = { 0x10, 0x00 };

	T_ASSERT(py_line(8, lnotab, sizeof(lnotab), 10, 0xffffffff) == 10);
	T_ASSERT(py_line(8, lnotab, sizeof(lnotab), 10, 0) == 10);
	T_ASSERT(py_line(8, lnotab, sizeof(lnotab), 10, 4) == 11);
	T_ASSERT(py_line(8, lnotab, sizeof(lnotab), 10, 100) == 13);
	T_ASSERT(py_line(10, NULL, 0, 5, 0xffffffff) == 5);
	T_ASSERT(py_line(11, bad311, sizeof(bad311), 5, 0) == -1);
	T_ASSERT(py_line(12, not_entry, sizeof(not_entry), 5, 0) == -1);
	/* past the end of the table: no line */
	T_ASSERT(py_line(13, NULL, 0, 5, 8) == 0);
	return T_OK;
}

static int str_decoding(void)
{
	/* state: kind 1 << 2, compact 1 << 5, ascii 1 << 6 */
	const uint32_t ascii = (1 << 2) | (1 << 5) | (1 << 6), latin1 = (1 << 2) | (1 << 5);
	const uint32_t ucs2 = (2 << 2) | (1 << 5), ucs4 = (4 << 2) | (1 << 5);
	const uint8_t l1[] = { 'g', 'r', 0xf6, 0xdf, 'e' };
	const uint16_t u2[] = { 0x3a9, 'm', 0x8a08, 0x7b97 };
	const uint32_t u4[] = { 'x', 0x1f600 };
	const struct py_layout *l311 = py_layout_for(11), *l312 = py_layout_for(12);
	char out[64];

	T_ASSERT(py_str_utf8(ascii, "leaf", 4, out, sizeof(out)) == 4);
	T_ASSERT_STR(out, "leaf");
	T_ASSERT(py_str_utf8(latin1, l1, 5, out, sizeof(out)) > 0);
	T_ASSERT_STR(out, "gr\xc3\xb6\xc3\x9f" "e");
	T_ASSERT(py_str_utf8(ucs2, u2, 4, out, sizeof(out)) > 0);
	T_ASSERT_STR(out, "\xce\xa9m\xe8\xa8\x88\xe7\xae\x97");
	T_ASSERT(py_str_utf8(ucs4, u4, 2, out, sizeof(out)) > 0);
	T_ASSERT_STR(out, "x\xf0\x9f\x98\x80");
	/* truncated, never overflowing */
	T_ASSERT(py_str_utf8(ascii, "abcdef", 6, out, 4) == 3);
	T_ASSERT_STR(out, "abc");
	/* not compact: refused */
	T_ASSERT(py_str_utf8(1 << 2, "abc", 3, out, sizeof(out)) < 0);
	T_ASSERT(py_str_data_offset(l311, ascii) == 48 && py_str_data_offset(l311, ucs2) == 72);
	T_ASSERT(py_str_data_offset(l312, ascii) == 40 && py_str_data_offset(l312, ucs2) == 56);
	return T_OK;
}

static int layouts(void)
{
	unsigned int m;

	T_ASSERT(!py_layout_for(7) && !py_layout_for(14));
	for (m = 8; m <= 13; m++) {
		const struct py_layout *l = py_layout_for(m);

		T_ASSERT(l && l->minor == m);
		/* what the BPF walker masks with 255 must fit its buffers */
		T_ASSERT(l->o.f_back < 120 && l->o.f_code < 120 && l->o.f_instr < 120);
		if (m >= 11) {
			T_ASSERT(l->o.f_owner < 120);
			T_ASSERT(l->o.co_firsttraceable - l->o.co_argcount + 4 <= 144);
			T_ASSERT(l->o.co_qualname != PY_NONE);
		} else {
			T_ASSERT(l->kind == EBPROF_PY_FRAMEOBJ && l->o.co_qualname == PY_NONE);
		}
		T_ASSERT(l->o.co_firstlineno - l->o.co_argcount + 4 <= EBPROF_PY_CODE_READ);
		/* the checksum's pointers */
		T_ASSERT(l->o.co_filename > l->o.co_argcount && l->o.co_filename - l->o.co_argcount + 8 <= EBPROF_PY_CODE_READ);
		T_ASSERT(l->o.co_name > l->o.co_argcount && l->o.co_name - l->o.co_argcount + 8 <= EBPROF_PY_CODE_READ);
		T_ASSERT(ebprof_py_name_off(&l->o) - l->o.co_argcount + 8 <= EBPROF_PY_CODE_READ);
	}
	/* a module's code and the next one at its address: told apart by their names' addresses */
	T_ASSERT(py_code_sum(1, 0, 0x7f0010, 0x7f0040) == py_code_sum(1, 0, 0x7f0010, 0x7f0040));
	T_ASSERT(py_code_sum(1, 0, 0x7f0010, 0x7f0040) != py_code_sum(1, 0, 0x7f0010, 0x7f0080));
	T_ASSERT(py_code_sum(1, 0, 0x7f0010, 0x7f0040) != py_code_sum(1, 0, 0x7f0050, 0x7f0040));
	T_ASSERT(py_code_sum(72, 0, 0, 0) != py_code_sum(73, 0, 0, 0) && py_code_sum(1, 1, 0, 0) != py_code_sum(1, 0, 0, 0));
	return T_OK;
}

static int debug_offsets_313(void)
{
	FILE *f = fopen("tests/unit/fixtures/py313_debug_offsets.hex", "r");
	char line[4096];
	uint8_t raw[584];
	struct py_layout l;
	uint64_t version = 0;
	size_t i;

	T_ASSERT(f);
	T_ASSERT(fgets(line, sizeof(line), f) && line[0] == '#');
	T_ASSERT(fgets(line, sizeof(line), f));
	fclose(f);
	for (i = 0; i < sizeof(raw); i++) {
		unsigned int b;

		T_ASSERT(sscanf(line + 2 * i, "%2x", &b) == 1);
		raw[i] = b;
	}
	T_ASSERT(py_debug_offsets_313(raw, sizeof(raw), &l, &version) == 0);
	T_ASSERT(version == 0x030d00f0);
	/* what CPython says is what the built-in table has */
	T_ASSERT(!memcmp(&l.o, &py_layout_for(13)->o, sizeof(l.o)));
	T_ASSERT(l.o.co_qualname == 128 && l.co_lines == 136 && l.o.str_ascii == 40 && l.str_compact == 56);
	/* free-threaded, and no cookie */
	raw[16] = 1;
	T_ASSERT(py_debug_offsets_313(raw, sizeof(raw), &l, &version) == -ENOTSUP);
	raw[16] = 0;
	raw[0] = 'y';
	T_ASSERT(py_debug_offsets_313(raw, sizeof(raw), &l, &version) == -EINVAL);
	return T_OK;
}

T_MAIN("pyframes", T(line_tables_match_cpython), T(line_tables_edge_cases), T(str_decoding),
       T(layouts), T(debug_offsets_313))
