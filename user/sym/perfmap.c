// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "perfmap.h"
#include "../util/bisect.h"

struct pm_entry {
	uint64_t start, size;
	size_t seq;	/* line number: a later line for the same start wins */
	char *name;
};

struct perfmap {
	struct pm_entry *v;
	size_t n;
};

void perfmap__free(struct perfmap *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		free(m->v[i].name);
	free(m->v);
	free(m);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct pm_entry *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct perfmap *perfmap__parse(FILE *f)
{
	struct perfmap *m = calloc(1, sizeof(*m));
	size_t cap = 0, seq = 0, i, n = 0;
	char line[4096];

	if (!m)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		uint64_t start, size;
		int pos = 0;
		char *name;
		size_t len;

		seq++;
		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %n", &start, &size, &pos) != 2 || !pos)
			continue;
		name = line + pos;
		len = strcspn(name, "\r\n");
		if (!len || !size)
			continue;
		if (m->n == cap) {
			struct pm_entry *v;

			cap = cap ? cap * 2 : 256;
			v = realloc(m->v, cap * sizeof(*v));
			if (!v)
				goto err;
			m->v = v;
		}
		m->v[m->n].name = strndup(name, len);
		if (!m->v[m->n].name)
			goto err;
		m->v[m->n].start = start;
		m->v[m->n].size = size;
		m->v[m->n].seq = seq;
		m->n++;
	}
	if (m->n)	/* qsort(NULL, 0) is undefined */
		qsort(m->v, m->n, sizeof(*m->v), cmp_entry);
	/* code regions get reused: the newest entry for a start address wins */
	for (i = 0; i < m->n; i++) {
		if (n && m->v[n - 1].start == m->v[i].start) {
			free(m->v[n - 1].name);
			m->v[n - 1] = m->v[i];
			continue;
		}
		m->v[n++] = m->v[i];
	}
	m->n = n;
	return m;
err:
	perfmap__free(m);
	errno = ENOMEM;
	return NULL;
}

struct perfmap *perfmap__load(const char *root, int nspid, uid_t uid)
{
	char path[512];
	struct perfmap *m;
	struct stat st;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/tmp/perf-%d.map", root, nspid);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (st.st_uid != uid && st.st_uid != 0)) {
		close(fd);
		errno = EPERM;
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return NULL;
	}
	m = perfmap__parse(f);
	fclose(f);
	return m;
}

const char *perfmap__find(const struct perfmap *m, uint64_t addr)
{
	size_t lo = bisect_u64(m->v, m->n, sizeof(*m->v), offsetof(struct pm_entry, start), addr);

	if (lo && addr - m->v[lo - 1].start < m->v[lo - 1].size)
		return m->v[lo - 1].name;
	return NULL;
}

size_t perfmap__count(const struct perfmap *m)
{
	return m->n;
}
