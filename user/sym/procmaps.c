// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "procmaps.h"
#include "util/grow.h"

/*
 * PROCMAP_QUERY (Linux 6.11, include/uapi/linux/fs.h): the executable
 * mappings one ioctl each, without the kernel printing every mapping of
 * the process and us parsing them back.  Our own names: older headers
 * lack them.
 */
struct eb_procmap_query {
	uint64_t size;
	uint64_t query_flags;
	uint64_t query_addr;
	uint64_t vma_start, vma_end;
	uint64_t vma_flags;
	uint64_t vma_page_size;
	uint64_t vma_offset;
	uint64_t inode;
	uint32_t dev_major, dev_minor;
	uint32_t vma_name_size;
	uint32_t build_id_size;
	uint64_t vma_name_addr;
	uint64_t build_id_addr;
};

#define EB_PROCMAP_QUERY _IOWR('f', 17, struct eb_procmap_query)
#define EB_QUERY_VMA_EXECUTABLE 0x04
#define EB_QUERY_COVERING_OR_NEXT_VMA 0x10

/* does this kernel have PROCMAP_QUERY: -1 not known yet, 0 no, 1 yes */
static int query_works = -1;

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
		if (GROW(v, cnt, cap, 32)) {
			free(v);
			return -ENOMEM;
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

/* the executable mappings of the maps file *fd* by PROCMAP_QUERY: 0, -ENOTTY (no such ioctl) or -errno */
static int query_maps(int fd, struct map_entry **out, size_t *n)
{
	struct map_entry *v = NULL, *e;
	size_t cnt = 0, cap = 0, len;
	uint64_t addr = 0;
	char name[4096];

	for (;;) {
		struct eb_procmap_query q = {
			.size = sizeof(q),
			.query_flags = EB_QUERY_COVERING_OR_NEXT_VMA | EB_QUERY_VMA_EXECUTABLE,
			.query_addr = addr,
			.vma_name_size = sizeof(name),
			.vma_name_addr = (uintptr_t)name,
		};

		if (ioctl(fd, EB_PROCMAP_QUERY, &q)) {
			if (errno == ENOENT)
				break;	/* no more */
			free(v);
			return -errno;
		}
		if (q.vma_end <= q.vma_start || q.vma_end <= addr) {
			free(v);
			return -EINVAL;
		}
		addr = q.vma_end;
		if (GROW(v, cnt, cap, 32)) {
			free(v);
			return -ENOMEM;
		}
		e = &v[cnt++];
		memset(e, 0, sizeof(*e));
		e->start = q.vma_start;
		e->end = q.vma_end;
		e->pgoff = q.vma_offset;
		e->dev = makedev(q.dev_major, q.dev_minor);
		e->ino = q.inode;
		e->exec = true;
		len = q.vma_name_size ? strnlen(name, sizeof(name)) : 0;
		if (len > 10 && !strcmp(name + len - 10, " (deleted)")) {
			e->deleted = true;
			len -= 10;
		}
		if (len >= sizeof(e->path))
			len = sizeof(e->path) - 1;
		memcpy(e->path, name, len);
		e->path[len] = '\0';
	}
	*out = v;
	*n = cnt;
	return 0;
}

int procmaps_read_how(int pid, struct map_entry **out, size_t *n, bool text)
{
	char path[64];
	FILE *f;
	int fd, err = -ENOTTY;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!text && query_works) {
		err = query_maps(fd, out, n);
		if (query_works < 0 && err != -ENOTTY && err != -EINVAL)
			query_works = 1;
		else if (query_works < 0)
			query_works = 0;
	}
	if (err == -ENOTTY || err == -EINVAL) {
		f = fdopen(fd, "re");
		if (!f) {
			err = -errno;
			close(fd);
			return err;
		}
		err = procmaps_parse(f, out, n);
		fclose(f);
	} else {
		close(fd);
	}
	if (!err && *n == 0) {
		/* a zombie or kernel thread: no mappings */
		free(*out);
		*out = NULL;
		return -ESRCH;
	}
	return err;
}

int procmaps_read(int pid, struct map_entry **out, size_t *n)
{
	return procmaps_read_how(pid, out, n, false);
}
