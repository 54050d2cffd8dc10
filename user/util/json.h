/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* json.h - a JSON string, escaped, for every renderer that writes JSON */
#ifndef __EBPROF_JSON_H
#define __EBPROF_JSON_H

#include <stdio.h>

static inline void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

#endif
