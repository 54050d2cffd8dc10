// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mem_preload.c - ebprof mem's interposer (user/preload/ebmem.c) on a
 * command ebprof launches: written from ebprof's binary into a private
 * directory, preloaded, and its counts read from a file both map.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "mem_preload.h"
#include "sym/elf.h"

/* user/preload/blob.S */
extern const char ebmem_so_start[], ebmem_so_end[];

const char *mem_preload_refusal(const char *path)
{
	static char why[160];
	struct stat st;
	char magic[4];
	Elf *e = NULL;
	size_t n, i;
	bool interp = false;
	uint64_t addr;
	int fd;

	why[0] = 0;
	if (stat(path, &st))
		return NULL;
	if (st.st_mode & (S_ISUID | S_ISGID))
		return "it is setuid or setgid: the dynamic loader ignores LD_PRELOAD";
	if (getxattr(path, "security.capability", NULL, 0) > 0)
		return "it has file capabilities: the dynamic loader ignores LD_PRELOAD";
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	/* a script: its interpreter is what runs, and takes LD_PRELOAD as any program */
	if (pread(fd, magic, sizeof(magic), 0) != sizeof(magic) || memcmp(magic, "\177ELF", 4)) {
		close(fd);
		return NULL;
	}
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (e && !elf_getphdrnum(e, &n)) {
		for (i = 0; i < n; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_INTERP)
				interp = true;
		}
		if (!interp)
			snprintf(why, sizeof(why), "it is statically linked: there is no dynamic loader to preload with");
		else if (elf__function(e, "malloc", &addr, NULL))
			snprintf(why, sizeof(why),
				 "it defines malloc itself: its calls, libc's too, would bypass the counter");
		else
			why[0] = 0;
	}
	if (e)
		elf_end(e);
	close(fd);
	return e && why[0] ? why : NULL;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int mem_preload_setup(struct mem_preload *mp, uint64_t sample_bytes, bool adaptive)
{
	const char *old = getenv("LD_PRELOAD");
	char *env = NULL;
	void *m = MAP_FAILED;
	int fd = -1, err;

	memset(mp, 0, sizeof(*mp));
	snprintf(mp->dir, sizeof(mp->dir), "/tmp/ebprof-mem.XXXXXX");
	if (!mkdtemp(mp->dir)) {
		err = -errno;
		mp->dir[0] = 0;
		return err;
	}
	/* the library must be readable by the command whoever it runs as; the counts are root's */
	if (chmod(mp->dir, 0755))
		goto fail;
	snprintf(mp->lib, sizeof(mp->lib), "%s/libebprof-mem.so", mp->dir);
	snprintf(mp->counts, sizeof(mp->counts), "%s/counts", mp->dir);
	fd = open(mp->lib, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	err = write_all(fd, ebmem_so_start, (size_t)(ebmem_so_end - ebmem_so_start));
	if (err || close(fd)) {
		fd = -1;
		if (err)
			errno = -err;
		goto fail;
	}
	fd = open(mp->counts, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, sizeof(*mp->shm)))
		goto fail;
	m = mmap(NULL, sizeof(*mp->shm), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		goto fail;
	close(fd);
	fd = -1;
	mp->shm = m;
	mp->shm->sample_bytes = sample_bytes;
	mp->shm->adaptive = adaptive;
	mp->shm->mean_max = sample_bytes;
	mp->shm->pid = -1;
	mp->shm->magic = EBMEM_MAGIC;
	if (asprintf(&env, "%s%s%s", mp->lib, old && *old ? ":" : "", old ? old : "") < 0)
		goto fail;
	if (setenv("LD_PRELOAD", env, 1) || setenv(EBMEM_ENV_SHM, mp->counts, 1))
		goto fail;
	free(env);
	return 0;
fail:
	err = errno ? -errno : -EIO;
	free(env);
	if (fd >= 0)
		close(fd);
	mem_preload_cleanup(mp);
	return err;
}

void mem_preload_target(struct mem_preload *mp, int pid)
{
	if (mp->shm)
		__atomic_store_n(&mp->shm->pid, pid, __ATOMIC_RELEASE);
}

bool mem_preload_loaded(const struct mem_preload *mp)
{
	return mp->shm && mp->shm->pid > 0 && __atomic_load_n(&mp->shm->loaded_pid, __ATOMIC_ACQUIRE) == mp->shm->pid;
}

static void add(struct ebmem_counts *s, const struct ebmem_counts *c)
{
	int i;

	s->frees += __atomic_load_n(&c->frees, __ATOMIC_RELAXED);
	s->bytes += __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
	s->bytes_freed += __atomic_load_n(&c->bytes_freed, __ATOMIC_RELAXED);
	s->samples += __atomic_load_n(&c->samples, __ATOMIC_RELAXED);
	s->sampled_frees += __atomic_load_n(&c->sampled_frees, __ATOMIC_RELAXED);
	s->failed += __atomic_load_n(&c->failed, __ATOMIC_RELAXED);
	s->foreign += __atomic_load_n(&c->foreign, __ATOMIC_RELAXED);
	for (i = 0; i < 64; i++)
		s->hist[i] += __atomic_load_n(&c->hist[i], __ATOMIC_RELAXED);
}

void mem_preload_totals(const struct mem_preload *mp, struct ebmem_counts *sum)
{
	uint32_t i, n;

	memset(sum, 0, sizeof(*sum));
	if (!mp->shm)
		return;
	add(sum, &mp->shm->gone);
	n = __atomic_load_n(&mp->shm->nslots, __ATOMIC_RELAXED);
	for (i = 0; i < n && i < EBMEM_SLOTS; i++)
		add(sum, &mp->shm->slots[i]);
}

void mem_preload_pending(const struct mem_preload *mp, void (*fn)(void *ctx, uint64_t block, uint64_t id, uint64_t seq),
			 void *ctx)
{
	uint32_t i, n, k;

	if (!mp->shm)
		return;
	n = __atomic_load_n(&mp->shm->nslots, __ATOMIC_RELAXED);
	for (i = 0; i < n && i < EBMEM_SLOTS; i++) {
		const struct ebmem_counts *c = &mp->shm->slots[i];
		uint64_t np = __atomic_load_n(&c->npend, __ATOMIC_RELAXED);

		for (k = 0; k < np && k < EBMEM_PEND; k++) {
			uint64_t e = __atomic_load_n(&c->pend[k], __ATOMIC_RELAXED);

			fn(ctx, e & ((1ULL << EBMEM_ID_SHIFT) - 1), e >> EBMEM_ID_SHIFT,
			   __atomic_load_n(&c->pend_seq[k], __ATOMIC_RELAXED));
		}
	}
}

void mem_preload_cleanup(struct mem_preload *mp)
{
	const char *cur = getenv("LD_PRELOAD");
	size_t n = strlen(mp->lib);

	if (mp->lib[0] && cur && !strncmp(cur, mp->lib, n)) {
		if (cur[n] == ':')
			setenv("LD_PRELOAD", cur + n + 1, 1);
		else
			unsetenv("LD_PRELOAD");
	}
	unsetenv(EBMEM_ENV_SHM);
	if (mp->shm)
		munmap(mp->shm, sizeof(*mp->shm));
	mp->shm = NULL;
	if (mp->dir[0]) {
		unlink(mp->lib);
		unlink(mp->counts);
		rmdir(mp->dir);
	}
	mp->dir[0] = mp->lib[0] = mp->counts[0] = 0;
}
