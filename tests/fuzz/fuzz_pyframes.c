// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What ebprof reads from a CPython process's memory: line tables of every
 * format (3.8-3.13), str objects, and 3.13's _Py_DebugOffsets.  The first
 * bytes choose the version, the instruction and the str's state.
 */
#include "fuzz.h"
#include "pyframes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct py_layout l;
	uint32_t instr, state;
	uint64_t version;
	unsigned int minor;
	char out[256];
	int first;

	if (size < 9)
		return 0;
	minor = 8 + data[0] % 6;
	memcpy(&instr, data + 1, 4);
	memcpy(&first, data + 5, 4);
	py_line(minor, data + 9, size - 9, first, instr);
	state = instr;
	if (py_str_kind(state))
		py_str_utf8(state, data + 9, (size - 9) / py_str_kind(state), out, sizeof(out));
	if (py_layout_for(minor))
		py_str_data_offset(py_layout_for(minor), state);
	if (py_layout_for(13)) {
		l = *py_layout_for(13);
		py_debug_offsets_313(data + 1, size - 1, &l, &version);
	}
	return 0;
}
