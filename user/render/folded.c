// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include "render.h"

/*
 * "comm;outer;...;leaf COUNT" per stack, as FlameGraph and speedscope
 * read; times in microseconds (as offcputime's folded output), rounded
 * on the running sum so that the lines add up to the total, and a stack
 * that rounds to nothing left out.
 */
int render_folded(const struct profile *p, const struct render_opts *o, FILE *out)
{
	bool us = !strcmp(p->meta.values[0].unit, "nanoseconds");
	uint64_t cum = 0, before, v;
	size_t i;

	(void)o;
	for (i = 0; i < p->nstacks; i++) {
		v = p->stacks[i].v[0];
		if (us) {
			before = (cum + 500) / 1000;
			cum += v;
			v = (cum + 500) / 1000 - before;
			if (!v)
				continue;
		}
		fprintf(out, "%s %" PRIu64 "\n", p->stacks[i].text, v);
	}
	return ferror(out) ? -EIO : 0;
}
