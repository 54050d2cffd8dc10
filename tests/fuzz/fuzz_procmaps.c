// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* /proc/PID/maps: the whole file, and its first line alone */
#include "fuzz.h"
#include "sym/procmaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct map_entry *maps = NULL, e;
	size_t n = 0, i;
	char *buf, *line;
	FILE *f = fuzz_file(data, size, &buf);

	if (f && !procmaps_parse(f, &maps, &n)) {
		for (i = 0; i + 1 < n; i++)
			if (maps[i].start > maps[i + 1].start)	/* promised: sorted */
				abort();
		for (i = 0; i < n; i++)
			if (strnlen(maps[i].path, sizeof(maps[i].path)) == sizeof(maps[i].path))
				abort();
	}
	if (f)
		fclose(f);
	free(maps);
	line = fuzz_str(data, size);
	if (!procmaps_parse_line(line, &e) && strnlen(e.path, sizeof(e.path)) == sizeof(e.path))
		abort();
	free(line);
	free(buf);
	return 0;
}
