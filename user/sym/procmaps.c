// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include "procmaps.h"

int procmaps_parse_line(const char *line, struct map_entry *e)
{
	char perms[5];
	unsigned int maj, min;
	int pos = 0;
	size_t len;

	memset(e, 0, sizeof(*e));
	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 "%n",
		   &e->start, &e->end, perms, &e->pgoff, &maj, &min, &e->ino, &pos) != 7)
		return -EINVAL;
	if (e->end <= e->start || strlen(perms) != 4)
		return -EINVAL;
	e->exec = perms[2] == 'x';
	e->dev = makedev(maj, min);
	line += pos;
	while (*line == ' ' || *line == '\t')
		line++;
	len = strcspn(line, "\n");
	if (len >= sizeof(e->path))
		len = sizeof(e->path) - 1;
	memcpy(e->path, line, len);
	e->path[len] = '\0';
	if (len > 10 && !strcmp(e->path + len - 10, " (deleted)")) {
		e->deleted = true;
		e->path[len - 10] = '\0';
	}
	return 0;
}

static int by_start(const void *a, const void *b)
{
	const struct map_entry *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int procmaps_parse(FILE *f, struct map_entry **out, size_t *n)
{
	struct map_entry *v = NULL, e;
	size_t cnt = 0, cap = 0;
	char line[4096];

	while (fgets(line, sizeof(line), f)) {
		if (procmaps_parse_line(line, &e) || !e.exec)
			continue;
		if (cnt == cap) {
			struct map_entry *nv;

			cap = cap ? cap * 2 : 32;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[cnt++] = e;
	}
	/* the kernel lists mappings in address order; the callers bisect, so make sure */
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), by_start);
	*out = v;
	*n = cnt;
	return 0;
}

int procmaps_read(int pid, struct map_entry **out, size_t *n)
{
	char path[64];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	err = procmaps_parse(f, out, n);
	fclose(f);
	if (!err && *n == 0) {
		/* a zombie or kernel thread: no mappings */
		free(*out);
		*out = NULL;
		return -ESRCH;
	}
	return err;
}
