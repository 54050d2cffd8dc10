// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * alloc_work - allocations known by construction, for ebprof mem.
 *
 *   alloc_work basic N S     leak_f() keeps N blocks of S bytes; churn():
 *                            g() mallocs and frees 3000 blocks of 64 bytes,
 *                            h() 1000; misc() one each of calloc, realloc,
 *                            reallocarray, posix_memalign, aligned_alloc,
 *                            memalign, valloc, all freed
 *   alloc_work denied N S    basic, under a seccomp filter that fails
 *                            getppid with EPERM when its first argument's
 *                            register holds a marker of ebprof's
 *                            interposer (EBM*), as a sandbox might
 *   alloc_work crash N S SIG basic, then killed by signal SIG (11: SIGSEGV)
 *   alloc_work align         aligned_a(): blocks aligned to 2 MiB, 4 MiB (one
 *                            realloc'd to 100 bytes) and 48 (64), all freed;
 *                            aligned_b() keeps 3000 bytes aligned to 2 MiB;
 *                            exits 1 if one is refused or misaligned
 *   alloc_work reuse T N     blocks of 0-1199 bytes (every size class of the
 *                            interposer's per-thread cache and past it), by
 *                            malloc, calloc and realloc, 64 held at a time,
 *                            each filled to its size and checked before its
 *                            free; then T threads free N blocks the main
 *                            thread made and exit; exits 1 if a block was
 *                            short, misaligned, not zeroed (calloc) or
 *                            overwritten, or glibc's bytes in use (mallinfo2)
 *                            did not come back to within 16 KiB of before
 *                            the threads (blocks a thread kept, not given
 *                            back at its exit)
 *   alloc_work loop SECONDS  churn() again and again: g() 3x h()
 *   alloc_work touch G H     g() touches G MiB, h() H MiB, page by page
 *   alloc_work hold N S      keeps N blocks of S bytes, says "ready PID",
 *                            frees them on SIGUSR1, then sleeps 2 s
 *   alloc_work bench -r R    R rounds of 1000 malloc(32)/free pairs
 *   alloc_work storm -r R    (make bench) the same, 1000 R pairs
 *   alloc_work storm PAIRS   PAIRS malloc/free pairs of 16-520 bytes (a fixed
 *                            pseudo-random sequence), back to back: storm_a()
 *                            makes 3 of every 4, storm_b() 1; prints the bytes
 *                            each asked for, and the time the pairs took
 *   alloc_work threads T N   T threads each malloc N blocks of 100-149 bytes
 *                            (thread_alloc()); the main thread frees them all
 *                            but every 1000th (held at the exit)
 *   alloc_work peak N S      peak_a() keeps N blocks of S bytes, peak_b()
 *                            N/2; all of peak_a()'s freed, then g() and
 *                            h() (churn()), and peak_c() keeps 3N/4: the
 *                            peak heap, N/2 S more than at the end, is
 *                            peak_a()'s and peak_b()'s blocks (and the
 *                            few made before main), none of peak_c()'s
 *   alloc_work reexec MODE ... this program again, MODE ..., without LD_PRELOAD
 *                            (the same file: a program that restarts itself)
 *   alloc_work paced R K     R rounds of gp() (3000 blocks of 64 bytes) and
 *   alloc_work paced -r R [K]  hp() (1000), each block filled and worked on
 *                            for K steps (160000) before its free: 4000 R
 *                            allocations, 256000 R bytes, in a time set by K
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <malloc.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include "workload.h"

static void *volatile keep;

noinline void g(void)
{
	int i;

	for (i = 0; i < 3000; i++) {
		keep = malloc(64);
		free(keep);
	}
}

noinline void h(void)
{
	int i;

	for (i = 0; i < 1000; i++) {
		keep = malloc(64);
		free(keep);
	}
}

noinline void churn(void)
{
	g();
	h();
}

noinline void **leak_f(int n, size_t s)
{
	void **v = malloc(n * sizeof(*v));
	int i;

	for (i = 0; i < n; i++)
		v[i] = malloc(s);
	return v;
}

noinline void misc(void)
{
	void *p = calloc(10, 10), *q;

	p = realloc(p, 1000);
	free(p);
	p = reallocarray(NULL, 8, 16);
	free(p);
	if (!posix_memalign(&p, 64, 256))
		free(p);
	free(aligned_alloc(64, 128));
	free(memalign(64, 192));
	q = valloc(100);
	free(q);
}

/*
 * alignments glibc allows that a header before the block must not refuse:
 * 2 MiB and 4 MiB (huge pages), 48 (memalign rounds it up to 64); each
 * block aligned, written, kept by aligned_b() until the end
 */
static int aligned_ok(void *p, size_t align, size_t n)
{
	if (!p || (uintptr_t)p % align || malloc_usable_size(p) < n)
		return 0;
	memset(p, 1, n);
	return 1;
}

noinline int aligned_a(void)
{
	void *p = NULL, *q;
	int ok = !posix_memalign(&p, 2 << 20, 1000) && aligned_ok(p, 2 << 20, 1000);

	free(p);
	q = aligned_alloc(4 << 20, 4 << 20);
	ok &= aligned_ok(q, 4 << 20, 4 << 20);
	q = realloc(q, 100);
	ok &= aligned_ok(q, 16, 100);
	free(q);
	q = memalign(48, 100);
	ok &= aligned_ok(q, 64, 100);
	free(q);
	return ok;
}

noinline int aligned_b(void)
{
	void *p = NULL;

	if (posix_memalign(&p, 2 << 20, 3000) || !aligned_ok(p, 2 << 20, 3000))
		return 0;
	keep = p;
	return 1;
}

noinline void touch_pages(size_t mib)
{
	size_t len = mib << 20, off;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	madvise(p, len, MADV_NOHUGEPAGE);
	for (off = 0; off < len; off += 4096)
		p[off] = 1;
	keep = p;
}

noinline void touch_g(size_t mib) { touch_pages(mib); }
noinline void touch_h(size_t mib) { touch_pages(mib); }

noinline void bench_round(void)
{
	int i;

	for (i = 0; i < 1000; i++) {
		keep = malloc(32);
		free(keep);
	}
}

static unsigned long storm_seed = 12345;

/* the next size of the storm: 16-520 bytes */
static inline size_t storm_size(void)
{
	storm_seed = storm_seed * 6364136223846793005UL + 1442695040888963407UL;
	return 16 + (storm_seed >> 33) % 505;
}

/* n pairs, the bytes they asked for; inlined: its callers are the stacks */
static inline __attribute__((always_inline)) size_t storm_pairs(int n)
{
	size_t total = 0, s;
	int i;

	for (i = 0; i < n; i++) {
		s = storm_size();
		keep = malloc(s);
		free(keep);
		total += s;
	}
	return total;
}

noinline size_t storm_a(int n) { return storm_pairs(n); }
noinline size_t storm_b(int n) { return storm_pairs(n); }

/* reuse: a block of n bytes for id, filled with bytes of id */
static int reuse_fill(unsigned char *p, size_t n, unsigned id, int zeroed)
{
	size_t i;

	if (n && (!p || (uintptr_t)p % 16 || malloc_usable_size(p) < n))
		return 0;
	for (i = 0; i < n; i++) {
		if (zeroed && p[i])
			return 0;
		p[i] = (unsigned char)(id * 131 + i);
	}
	return 1;
}

static int reuse_check(const unsigned char *p, size_t n, unsigned id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != (unsigned char)(id * 131 + i))
			return 0;
	return 1;
}

#define REUSE_HELD 64

static void **rblocks;
static long rn;

static void *reuse_free(void *arg)
{
	long i, k = (long)arg;

	for (i = 0; i < rn; i++)
		free(rblocks[k * rn + i]);
	return NULL;
}

noinline int reuse(int nt, long n)
{
	unsigned char *held[REUSE_HELD] = { 0 };
	size_t size[REUSE_HELD] = { 0 }, before;
	unsigned id[REUSE_HELD] = { 0 }, next = 1;
	pthread_t th[16];
	long i, k;

	for (i = 0; i < 200000; i++) {
		int j = (int)(storm_size() % REUSE_HELD), op = (int)(storm_seed >> 20) % 4;
		size_t m = (storm_seed >> 40) % 1200;

		if (held[j] && !reuse_check(held[j], size[j], id[j]))
			return 0;
		if (held[j] && op == 3) {
			/* realloc: what it had kept, the rest filled anew */
			unsigned char *q = realloc(held[j], m);
			size_t keep = m < size[j] ? m : size[j], b;

			if (m && (!q || !reuse_check(q, keep, id[j]) || malloc_usable_size(q) < m || (uintptr_t)q % 16))
				return 0;
			for (b = keep; b < m; b++)
				q[b] = (unsigned char)(id[j] * 131 + b);
			held[j] = m ? q : NULL;
			size[j] = m;
			continue;
		}
		free(held[j]);
		id[j] = next++;
		size[j] = m;
		held[j] = op == 2 ? calloc(1, m) : malloc(m);
		if (!reuse_fill(held[j], m, id[j], op == 2))
			return 0;
	}
	for (i = 0; i < REUSE_HELD; i++) {
		if (held[i] && !reuse_check(held[i], size[i], id[i]))
			return 0;
		free(held[i]);
	}
	if (nt < 1 || nt > 16 || n < 1)
		return 1;
	/* blocks of the main thread's arena, freed by threads that then end */
	rn = n;
	rblocks = malloc(nt * n * sizeof(*rblocks));
	before = mallinfo2().uordblks;
	for (i = 0; i < nt * n; i++)
		rblocks[i] = malloc(16 + i % 1000);
	for (k = 0; k < nt; k++)
		pthread_create(&th[k], NULL, reuse_free, (void *)k);
	for (k = 0; k < nt; k++)
		pthread_join(th[k], NULL);
	i = (long)(mallinfo2().uordblks - before);
	free(rblocks);
	if (i > 16384) {
		fprintf(stderr, "alloc_work reuse: %ld bytes more in use after the threads ended\n", i);
		return 0;
	}
	return 1;
}

static void **tblocks;
static int tn;

noinline void *thread_alloc(void *arg)
{
	long i = (long)arg, j;

	for (j = 0; j < tn; j++)
		tblocks[i * tn + j] = malloc(100 + j % 50);
	return NULL;
}

static long steps = 1000;
static volatile unsigned long sink;

/* some work on a block: K steps of arithmetic over its bytes */
static noinline void work_on(unsigned char *b, size_t n)
{
	unsigned long x = 0;
	long i;

	memset(b, (int)n, n);
	for (i = 0; i < steps; i++)
		x = x * 31 + b[i % n];
	sink = x;
}

/* n blocks of 64 bytes, each worked on before its free; inlined: its callers are the stacks */
static inline __attribute__((always_inline)) void worked_blocks(int n)
{
	int i;

	for (i = 0; i < n; i++) {
		keep = malloc(64);
		work_on(keep, 64);
		free(keep);
	}
}

noinline void gp(void) { worked_blocks(3000); }
noinline void hp(void) { worked_blocks(1000); }

/* getppid() with 0x45424dXX in its first argument's register fails with EPERM from now on */
static void deny_ebm_mark(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xffffff00),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x45424d00, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		perror("seccomp");
		exit(1);
	}
}

#define PEAK_MAX 100000
/* mapped, not allocated: not in the heap whose peak is known */
static void **peak_blocks[3];

static noinline void peak_keep(void **v, int n, size_t s)
{
	int i;

	for (i = 0; i < n; i++)
		v[i] = malloc(s);
}

noinline void peak_a(int n, size_t s)
{
	peak_keep(peak_blocks[0], n, s);
}

noinline void peak_b(int n, size_t s)
{
	peak_keep(peak_blocks[1], n, s);
}

noinline void peak_c(int n, size_t s)
{
	peak_keep(peak_blocks[2], n, s);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "basic";
	int crash = 0;

	if (!strcmp(mode, "reexec") && argc > 2) {
		unsetenv("LD_PRELOAD");
		execv("/proc/self/exe", argv + 1);
		perror("alloc_work: exec");
		return 127;
	}
	if (!strcmp(mode, "denied")) {
		deny_ebm_mark();
		mode = "basic";
	}
	if (!strcmp(mode, "crash")) {
		crash = argc > 4 ? atoi(argv[4]) : SIGSEGV;
		argc = argc > 4 ? 4 : argc;
		mode = "basic";
	}
	if (!strcmp(mode, "basic")) {
		int n = argc > 2 ? atoi(argv[2]) : 100;
		size_t s = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000;

		maybe_wait_for_go();
		keep = leak_f(n, s);
		churn();
		misc();
		sleep(argc > 4 ? atoi(argv[4]) : 0);
		if (crash) {
			signal(crash, SIG_DFL);
			raise(crash);
		}
	} else if (!strcmp(mode, "align")) {
		maybe_wait_for_go();
		if (!aligned_a() || !aligned_b())
			return 1;
	} else if (!strcmp(mode, "reuse")) {
		maybe_wait_for_go();
		if (!reuse(argc > 2 ? atoi(argv[2]) : 4, argc > 3 ? atol(argv[3]) : 2000))
			return 1;
	} else if (!strcmp(mode, "loop")) {
		double secs = argc > 2 ? atof(argv[2]) : 10, t0;
		long rounds = 0;

		maybe_wait_for_go();
		t0 = now();
		while (now() - t0 < secs) {
			churn();
			rounds++;
		}
		printf("rounds %ld\n", rounds);
	} else if (!strcmp(mode, "touch")) {
		maybe_wait_for_go();
		touch_g(argc > 2 ? strtoul(argv[2], NULL, 10) : 300);
		touch_h(argc > 3 ? strtoul(argv[3], NULL, 10) : 100);
	} else if (!strcmp(mode, "hold")) {
		int n = argc > 2 ? atoi(argv[2]) : 1000, i;
		size_t s = argc > 3 ? strtoul(argv[3], NULL, 10) : 100;
		void **v = leak_f(n, s);

		setenv("WAIT_FOR_SIGUSR1", "1", 1);
		maybe_wait_for_go();
		for (i = 0; i < n; i++)
			free(v[i]);
		free(v);
		sleep(2);
	} else if (!strcmp(mode, "paced")) {
		int a = argc > 2 && !strcmp(argv[2], "-r") ? 3 : 2;
		long r = argc > a ? atol(argv[a]) : 10, i;
		double t0;

		steps = argc > a + 1 ? atol(argv[a + 1]) : 160000;
		maybe_wait_for_go();
		t0 = now();
		for (i = 0; i < r; i++) {
			gp();
			hp();
			if (getenv("PACED_PROGRESS"))
				fprintf(stderr, "round %.4f %ld\n", now(), i);
		}
		printf("work_s %.6f rounds %ld\n", now() - t0, r);
	} else if (!strcmp(mode, "storm")) {
		long pairs = argc > 3 && !strcmp(argv[2], "-r") ? 1000 * atol(argv[3]) : argc > 2 ? atol(argv[2]) : 2000000, i;
		size_t a = 0, b = 0;
		double t0;

		maybe_wait_for_go();
		t0 = now();
		/* in runs of 300 and 100: the sizes of both drawn from one sequence */
		for (i = 0; i + 400 <= pairs; i += 400) {
			a += storm_a(300);
			b += storm_b(100);
		}
		printf("work_s %.6f pairs %ld storm_a_bytes %zu storm_b_bytes %zu\n", now() - t0, i, a, b);
	} else if (!strcmp(mode, "threads")) {
		int nt = argc > 2 ? atoi(argv[2]) : 4;
		long i, j;
		pthread_t th[64];

		tn = argc > 3 ? atoi(argv[3]) : 100000;
		if (nt < 1 || nt > 64 || tn < 1)
			return 2;
		tblocks = calloc((size_t)nt * tn, sizeof(*tblocks));
		maybe_wait_for_go();
		for (i = 0; i < nt; i++)
			pthread_create(&th[i], NULL, thread_alloc, (void *)i);
		for (i = 0; i < nt; i++)
			pthread_join(th[i], NULL);
		for (i = 0; i < nt; i++)
			for (j = 0; j < tn; j++)
				if (j % 1000)
					free(tblocks[i * tn + j]);
		free(tblocks);
	} else if (!strcmp(mode, "peak")) {
		int n = argc > 2 ? atoi(argv[2]) : 2000, i;
		size_t s = argc > 3 ? strtoul(argv[3], NULL, 10) : 2048;

		if (n < 4 || n > PEAK_MAX)
			return 2;
		for (i = 0; i < 3; i++) {
			peak_blocks[i] = mmap(NULL, n * sizeof(void *), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
					      -1, 0);
			if (peak_blocks[i] == MAP_FAILED)
				return 1;
		}
		maybe_wait_for_go();
		peak_a(n, s);
		peak_b(n / 2, s);
		for (i = 0; i < n; i++)
			free(peak_blocks[0][i]);
		churn();
		peak_c(3 * n / 4, s);
	} else if (!strcmp(mode, "bench")) {
		long r = argc > 3 ? atol(argv[3]) : 1000, i;
		double t0;

		maybe_wait_for_go();
		t0 = now();
		for (i = 0; i < r; i++)
			bench_round();
		printf("work_s %.6f rounds %ld\n", now() - t0, r);
	}
	return 0;
}
