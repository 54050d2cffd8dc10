// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include "render.h"

/* "comm;outer;...;leaf COUNT" per stack, as FlameGraph and speedscope read */
int render_folded(const struct profile *p, const struct render_opts *o, FILE *out)
{
	size_t i;

	(void)o;
	for (i = 0; i < p->nstacks; i++)
		fprintf(out, "%s %" PRIu64 "\n", p->stacks[i].text, p->stacks[i].v[0]);
	return ferror(out) ? -EIO : 0;
}
