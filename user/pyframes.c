// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pyframes.c - CPython layouts, line tables and str objects.
 *
 * The offsets were measured on the x86-64 builds 3.8.18 ... 3.13.0 (DWARF,
 * tp_members, _Py_DebugOffsets); see ../shared/design/python-frames.md.
 * Line tables: python/cpython Objects/lnotab_notes.txt (3.8-3.10) and
 * Objects/locations.md (3.11+).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include "pyframes.h"

#define N PY_NONE

static const struct py_layout layouts[] = {
	{ 8, EBPROF_PY_FRAMEOBJ,
	  { 32, 0, 8, 8, 176, 24, N, 24, 32, 104, N, N, 16, 40, N, N, 104, 112, N, 48 },
	  16, N, 120, 72 },
	{ 9, EBPROF_PY_FRAMEOBJ,
	  { 32, 0, 8, 8, 176, 24, N, 24, 32, 104, N, N, 16, 40, N, N, 104, 112, N, 48 },
	  16, N, 120, 72 },
	{ 10, EBPROF_PY_FRAMEOBJ,
	  { 32, 0, 8, 8, 176, 24, N, 24, 32, 96, N, N, 16, 40, N, N, 104, 112, N, 48 },
	  16, N, 120, 72 },
	{ 11, EBPROF_PY_311,
	  { 40, 0, 16, 8, 152, 56, 8, 48, 32, 56, 69, 68, 56, 72, 168, 184, 112, 120, 128, 48 },
	  16, 160, 136, 72 },
	{ 12, EBPROF_PY_312,
	  { 40, 0, 72, 8, 136, 56, 0, 8, 0, 56, 70, N, 52, 68, 176, 192, 112, 120, 128, 40 },
	  16, 144, 136, 56 },
	{ 13, EBPROF_PY_313,
	  { 632, 7264, 7344, 8, 152, 72, N, 8, 0, 56, 70, N, 52, 68, 184, 200, 112, 120, 128, 40 },
	  16, 160, 136, 56 },
};

const struct py_layout *py_layout_for(unsigned int minor)
{
	size_t i;

	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].minor == minor)
			return &layouts[i];
	return NULL;
}

/* a line the deltas of a table from a target's memory made: -1 (malformed) past int */
static int as_line(int64_t line)
{
	return line < INT_MIN || line > INT_MAX ? -1 : (int)line;
}

/* 3.8, 3.9: (byte delta, line delta) pairs; *addr* in bytes */
static int line_lnotab(const uint8_t *tab, size_t len, int first, uint32_t addr)
{
	uint64_t a = 0;
	int64_t line = first;
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		a += tab[i];
		if (a > addr)
			break;
		line += (int8_t)tab[i + 1];
	}
	return as_line(line);
}

/* 3.10: (range length in bytes, line delta or -128: none) pairs */
static int line_310(const uint8_t *tab, size_t len, int first, uint64_t addr)
{
	uint64_t start = 0;
	int64_t line = first;
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		int8_t d = (int8_t)tab[i + 1];
		uint64_t end = start + tab[i];
		bool none = d == -128;

		if (!none)
			line += d;
		if (addr >= start && addr < end)
			return none ? 0 : as_line(line);
		start = end;
	}
	return 0;
}

static bool varint(const uint8_t *tab, size_t len, size_t *i, uint32_t *out)
{
	uint32_t v = 0;
	unsigned int shift = 0;
	uint8_t b;

	do {
		if (*i >= len || shift > 28)
			return false;
		b = tab[(*i)++];
		v |= (uint32_t)(b & 63) << shift;
		shift += 6;
	} while (b & 64);
	*out = v;
	return true;
}

static bool svarint(const uint8_t *tab, size_t len, size_t *i, int *out)
{
	uint32_t v;

	if (!varint(tab, len, i, &v))
		return false;
	*out = (v & 1) ? -(int)(v >> 1) : (int)(v >> 1);
	return true;
}

/* 3.11+: the location table; *unit* counts 2-byte code units */
static int line_311(const uint8_t *tab, size_t len, int first, uint64_t unit)
{
	uint64_t addr = 0;
	int64_t line = first, cur;
	int d;
	size_t i = 0;
	uint32_t skip;

	while (i < len) {
		uint8_t b = tab[i++];
		unsigned int code = (b >> 3) & 15, n = (b & 7) + 1;

		if (!(b & 0x80))
			return -1;	/* not the first byte of an entry */
		cur = line;
		if (code == 15) {
			cur = 0;
		} else if (code == 14) {
			if (!svarint(tab, len, &i, &d))
				return -1;
			line += d;
			cur = line;
			if (!varint(tab, len, &i, &skip) || !varint(tab, len, &i, &skip) ||
			    !varint(tab, len, &i, &skip))
				return -1;
		} else if (code == 13) {
			if (!svarint(tab, len, &i, &d))
				return -1;
			line += d;
			cur = line;
		} else if (code >= 10) {
			line += code - 10;
			cur = line;
			i += 2;
		} else {
			i += 1;
		}
		if (i > len)
			return -1;
		if (unit >= addr && unit < addr + n)
			return as_line(cur);
		addr += n;
	}
	return 0;
}

int py_line(unsigned int minor, const uint8_t *tab, size_t len, int first, uint32_t instr)
{
	if (minor <= 9)
		return (int32_t)instr < 0 ? first : line_lnotab(tab, len, first, instr);
	if (minor == 10)
		return (int32_t)instr < 0 ? first : line_310(tab, len, first, 2ULL * instr);
	return line_311(tab, len, first, instr / 2);
}

unsigned int py_str_kind(uint32_t state)
{
	unsigned int kind = (state >> 2) & 7;

	if (!((state >> 5) & 1))	/* not compact */
		return 0;
	return kind == 1 || kind == 2 || kind == 4 ? kind : 0;
}

size_t py_str_data_offset(const struct py_layout *l, uint32_t state)
{
	if (!py_str_kind(state))
		return 0;
	return ((state >> 6) & 1) ? l->o.str_ascii : l->str_compact;
}

static size_t put_utf8(uint32_t c, char *out, size_t room)
{
	if (c < 0x80 && room >= 1) {
		out[0] = c;
		return 1;
	}
	if (c < 0x800 && room >= 2) {
		out[0] = 0xc0 | (c >> 6);
		out[1] = 0x80 | (c & 63);
		return 2;
	}
	if (c < 0x10000 && room >= 3) {
		if (c >= 0xd800 && c < 0xe000)
			c = 0xfffd;	/* a lone surrogate */
		out[0] = 0xe0 | (c >> 12);
		out[1] = 0x80 | ((c >> 6) & 63);
		out[2] = 0x80 | (c & 63);
		return 3;
	}
	if (c < 0x110000 && room >= 4) {
		out[0] = 0xf0 | (c >> 18);
		out[1] = 0x80 | ((c >> 12) & 63);
		out[2] = 0x80 | ((c >> 6) & 63);
		out[3] = 0x80 | (c & 63);
		return 4;
	}
	return 0;
}

int py_str_utf8(uint32_t state, const void *data, size_t len, char *out, size_t outlen)
{
	unsigned int kind = py_str_kind(state);
	size_t i, n = 0;

	if (!kind || !outlen)
		return -1;
	for (i = 0; i < len; i++) {
		uint32_t c;
		size_t w;

		/* a copy of a target's memory may sit anywhere: no aligned loads */
		if (kind == 1) {
			c = ((const uint8_t *)data)[i];
		} else if (kind == 2) {
			uint16_t u;

			memcpy(&u, (const uint8_t *)data + 2 * i, 2);
			c = u;
		} else {
			memcpy(&c, (const uint8_t *)data + 4 * i, 4);
		}
		if (!c)
			c = '?';
		w = put_utf8(c, out + n, outlen - 1 - n);
		if (!w)
			break;
		n += w;
	}
	out[n] = 0;
	return n;
}

static uint64_t q(const uint8_t *raw, size_t off)
{
	uint64_t v;

	memcpy(&v, raw + off, sizeof(v));
	return v;
}

int py_debug_offsets_313(const uint8_t *raw, size_t len, struct py_layout *l, uint64_t *version)
{
	/* positions in the 3.13 _Py_DebugOffsets (Include/internal/pycore_runtime.h) */
	static const struct { size_t pos; size_t field; } map[] = {
		{ 40, offsetof(struct py_layout, o.rt_interp) },
		{ 64, offsetof(struct py_layout, o.is_next) },
		{ 72, offsetof(struct py_layout, o.is_threads) },
		{ 168, offsetof(struct py_layout, o.ts_next) },
		{ 176, offsetof(struct py_layout, ts_interp) },
		{ 184, offsetof(struct py_layout, o.ts_frame) },
		{ 192, offsetof(struct py_layout, o.ts_thread_id) },
		{ 200, offsetof(struct py_layout, ts_native_id) },
		{ 232, offsetof(struct py_layout, o.f_back) },
		{ 240, offsetof(struct py_layout, o.f_code) },
		{ 248, offsetof(struct py_layout, o.f_instr) },
		{ 264, offsetof(struct py_layout, o.f_owner) },
		{ 280, offsetof(struct py_layout, o.co_filename) },
		{ 288, offsetof(struct py_layout, o.co_name) },
		{ 296, offsetof(struct py_layout, o.co_qualname) },
		{ 304, offsetof(struct py_layout, co_lines) },
		{ 312, offsetof(struct py_layout, o.co_firstlineno) },
		{ 344, offsetof(struct py_layout, o.co_code_adaptive) },
		{ 560, offsetof(struct py_layout, o.str_ascii) },
	};
	size_t i;

	if (len < 584 || memcmp(raw, "xdebugpy", 8))
		return -EINVAL;
	if ((q(raw, 8) >> 16) != 0x030d)
		return -EINVAL;		/* another layout of the struct */
	if (q(raw, 16))
		return -ENOTSUP;
	*l = *py_layout_for(13);
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		uint64_t v = q(raw, map[i].pos);

		if (v > 0xfffe)
			return -EINVAL;
		*(uint16_t *)((char *)l + map[i].field) = v;
	}
	/* a compact non-ASCII str: PyCompactUnicodeObject adds utf8_length and utf8 */
	l->str_compact = l->o.str_ascii + 16;
	*version = q(raw, 8);
	return 0;
}
