/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pyframes.h - what ebprof knows of CPython's memory layout, with no
 * process or BPF in sight: the per-version offsets, the three line-table
 * formats, str objects.  Unit-tested on fixtures.
 */
#ifndef __EBPROF_PYFRAMES_H
#define __EBPROF_PYFRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "ebprof.h"

#define PY_NONE 0xffff

/* everything about one CPython version: the BPF part and the rest */
struct py_layout {
	unsigned int minor;		/* 3.minor */
	uint32_t kind;			/* enum ebprof_py_kind */
	struct py_offsets o;		/* what the BPF walker reads */
	/* read by user space only */
	uint16_t ts_interp;		/* PyThreadState.interp */
	uint16_t ts_native_id;		/* PyThreadState.native_thread_id (3.11+) */
	uint16_t co_lines;
	uint16_t str_compact;		/* where a compact non-ASCII str's data starts */
};

/* the built-in layout of CPython 3.minor (8-13), or NULL */
const struct py_layout *py_layout_for(unsigned int minor);

/*
 * the checksum the walker stores for a code object (struct py_frame.sum):
 * of its first line, argument count and the addresses of its name
 * (qualname) and file name
 */
static inline uint16_t py_code_sum(int32_t firstlineno, int32_t argcount, uint64_t name, uint64_t file)
{
	return ebprof_py_code_sum(firstlineno, argcount, name, file);
}

/*
 * the line of the instruction *instr* (as struct py_frame.instr has it) in
 * a code object of CPython 3.minor starting at *first* with line table
 * *tab*: the line, 0 when the instruction has none, -1 when the table is
 * malformed
 */
int py_line(unsigned int minor, const uint8_t *tab, size_t len, int first, uint32_t instr);

/*
 * decode a str object's data: *state* is PyASCIIObject.state, *data* the
 * characters (*len* of them, 1, 2 or 4 bytes each as *state* says) into
 * UTF-8 in *out*: bytes written, -1 if the state is not a compact str
 */
int py_str_utf8(uint32_t state, const void *data, size_t len, char *out, size_t outlen);
/* where the characters of a str with *state* start, for *l*; 0: unsupported */
size_t py_str_data_offset(const struct py_layout *l, uint32_t state);
/* bytes per character of a compact str with *state* (1, 2, 4) or 0 */
unsigned int py_str_kind(uint32_t state);

/*
 * offsets from the _Py_DebugOffsets at the start of _PyRuntime (3.13):
 * *raw* holds *len* bytes of it; on success *l* is the built-in 3.13
 * layout overwritten with what CPython says, and *version* is its
 * Py_Version: 0, -EINVAL when there is no cookie, -ENOTSUP when the
 * build is free-threaded
 */
int py_debug_offsets_313(const uint8_t *raw, size_t len, struct py_layout *l, uint64_t *version);

#endif
