// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ebmem.c - ebprof mem's interposer, preloaded into a command ebprof
 * launches (LD_PRELOAD; ebprof carries it in its binary and writes it to a
 * private file at run time).
 *
 * Every allocation and free is counted by the thread that makes it, in a
 * file ebprof maps too (user/memshm.h), with no trap: counts that are
 * exact at a few nanoseconds a call and that stay readable if the command
 * crashes.  A block carries a 16-byte header before it (the size asked
 * for, and a tag), so that a free knows what it frees; the tag says
 * whether the block was sampled.  A thread keeps the blocks it frees, up
 * to BIN_CAP of each 16-byte class up to BIN_MAX bytes, for its next
 * allocations of that class, as glibc's tcache does behind it: a pair of
 * calls that would cost one more call and return through the interposer
 * (for the header) costs none of glibc's.
 *
 * Stacks come from sampling the bytes allocated as a Poisson process with
 * a mean interval of sample_bytes (as tcmalloc, jemalloc and Go do): a
 * block of s bytes is sampled with p = 1 - exp(-s / P).  A sampled
 * allocation calls ebprof_mem_sampled() with its weights (s / p bytes,
 * 1 / p blocks, the bytes' variance term, and P), where ebprof's uprobe
 * takes the stacks.  The frees of sampled blocks go along with the
 * thread's next sample (held in its slot, where ebprof finds what is left
 * at the end), or, when a thread holds EBMEM_PEND, by a marker of their
 * own, ebprof_mem_sampled_free(): a sample costs one trap, not two.
 *
 * A CPython 3.8 or later has its object allocator (pymalloc, the MEM and
 * OBJ domains) wrapped the same way, through its own PyMem_SetAllocator()
 * before the interpreter starts: its objects are counted and sampled
 * where the interpreter asks for them, pymalloc kept (each block 16 bytes
 * larger; those past pymalloc's 512 bytes asked of malloc by the wrapper,
 * as pymalloc would, so that a block is counted once).
 *
 * The process counted is the one ebprof started (its pid in the file); in
 * any other (a child that inherited the environment, one that forked off)
 * the interposer only keeps the headers straight.  It leaves the
 * environment as it is: a process that runs another program in its place
 * (exec, a pyenv shim) is counted in that one too, unless that program
 * has an allocator of its own (shadowed()): there it passes every call
 * through and says so in the file, and ebprof probes the allocator.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "../memshm.h"

#define API __attribute__((visibility("default")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define TLS __thread __attribute__((tls_model("initial-exec")))

/* the header: the size asked for, then the tag (what free() checks: glibc's chunk size sits there otherwise) */
#define HDR 16
#define TAG_MASK 0xffffffff00000000ULL
#define TAG 0xeb3e3e3e00000000ULL
#define TAG_PY 0x100000000ULL	/* with TAG: a block of CPython's object allocator (pymalloc's) */
#define TAG_ID_SHIFT 21		/* a sampled block's sample id (EBMEM_ID_BITS) */
#define TAG_SAMPLED 0x100000ULL
#define TAG_OFF 0xfffffULL	/* bytes from the block real malloc gave to the pointer returned (off_of()) */

struct hdr {
	uint64_t size;
	uint64_t tag;
};

/*
 * The classes of blocks a thread keeps: a block of n bytes, class bin_of(n)
 * = k, is asked of the real allocator for 16 k + 8 bytes, room for any n of
 * the class after the header (up to 16 k - 8), whatever the allocator.
 * glibc gives it the chunk it gives n + HDR: (n + HDR + 8 + 15) & ~15 bytes
 * (32 at least), 16 k + 16; jemalloc's classes, say, are not glibc's
 */
#define BINS 64
#define BIN_MAX ((size_t)16 * BINS - 24)	/* the largest n kept: class BINS - 1 */
#define BIN_CAP 7

static inline size_t bin_of(size_t n)
{
	return (n + 23) >> 4;
}

/* what a block of n bytes (n <= SIZE_MAX - HDR) asks of the real allocator */
static inline size_t ask_of(size_t n)
{
	return n <= BIN_MAX ? 16 * bin_of(n) + 8 : n + HDR;
}

/* a bin's link, mangled by where it is kept (glibc's safe-linking, PROTECT_PTR; the same both ways) */
static inline struct hdr *bin_link(struct hdr *h, uint64_t next)
{
	return (struct hdr *)(uintptr_t)(((uint64_t)(uintptr_t)&h->size >> 12) ^ next);
}

enum { ST_UNINIT, ST_INIT, ST_COUNT, ST_PASS, ST_FORKED };

/*
 * The offset of a block in a tag: itself (16, or an alignment up to
 * TAG_OFF), or, for an alignment past it (2 MiB, for huge pages), its
 * log2 in an odd number (the others are even)
 */
static inline uint64_t off_tag(size_t off)
{
	return off <= TAG_OFF ? off : (uint64_t)__builtin_ctzll(off) << 1 | 1;
}

static inline size_t off_of(uint64_t tag)
{
	uint64_t v = tag & TAG_OFF;

	return v & 1 ? (size_t)1 << (v >> 1) : v;
}

static void *(*real_malloc)(size_t);
static void (*real_free)(void *);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void *(*real_memalign)(size_t, size_t);
static size_t (*real_usable)(void *);

static int state;
/* CPython's PyMem_GetAllocator, PyMem_SetAllocator (looked up with the rest: a failed dlsym allocates) */
static void *py_get, *py_set;
static bool py_new;		/* 3.8 or later */
static bool py_any;		/* a CPython, 2.7 on */
static struct ebmem_shm *shm;
static pthread_key_t slot_key;
static uint64_t sample_bytes;
static long page_size = 4096;

struct tls {
	struct ebmem_counts *fast;	/* its slot while counted plainly (the fast paths); else NULL */
	struct ebmem_counts *c;		/* its slot; NULL: none yet */
	bool atomic;			/* the shared slot, by atomics */
	bool gone;			/* its slot given back (thread exit) */
	int64_t left;			/* bytes to the next sample */
	double mean;			/* ... drawn with this mean (what the block that takes it is weighed by) */
	uint64_t bytes_mark, time_mark;	/* its slot's bytes and the time at its last sample */
	uint64_t rng;
	int64_t net_hi;			/* net bytes past which it looks at the peak again */
	/*
	 * in CPython's allocator: what it asks calloc and realloc for, for
	 * itself (its address map, its table of arenas), passes uncounted
	 */
	bool inpy;
	/*
	 * freed blocks kept for the next allocations of their class (bin_of()),
	 * as glibc's tcache keeps them, in front of it: a list through their
	 * headers' size words (pointers mangled as glibc's are), each at most
	 * BIN_CAP long
	 */
	struct hdr *bin[BINS];
	uint8_t nbin[BINS];
};
static TLS struct tls t;

/* the start-up's allocations, made while the real functions are being looked up */
static char boot[65536] __attribute__((aligned(16)));
static size_t boot_used = 16;	/* what is before a block is read by free(): in the array */

static bool in_boot(const void *p)
{
	return (const char *)p >= boot && (const char *)p < boot + sizeof(boot);
}

static void *boot_alloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n > sizeof(boot) - boot_used)
		return NULL;
	p = boot + boot_used;
	boot_used += n;
	return p;
}

/* getppid() with *what*, *a*, *b* and EBMEM_MARK_CHECK where its arguments would be (user/memshm.h) */
static void mark(uint64_t what, const void *a, uint64_t b)
{
#if defined(__x86_64__)
	long ret;
	register uint64_t r10 __asm__("r10") = EBMEM_MARK_CHECK;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"((long)SYS_getppid), "D"(what), "S"(a), "d"(b), "r"(r10)
			 : "rcx", "r11", "memory");
#else
	syscall(SYS_getppid, what, a, b, EBMEM_MARK_CHECK);
#endif
}

/* the markers: a uprobe each, or a getppid ebprof's tracepoint sees */
API __attribute__((noinline)) void ebprof_mem_sampled(const struct ebmem_sample *s)
{
	__asm__ volatile("" : : "r"(s) : "memory");
	if (shm && shm->by_syscall)
		mark(EBMEM_MARK_SAMPLE, s, 0);
}

API __attribute__((noinline)) void ebprof_mem_sampled_free(const uint64_t *blocks, uint64_t n)
{
	__asm__ volatile("" : : "r"(blocks), "r"(n) : "memory");
	if (shm && shm->by_syscall)
		mark(EBMEM_MARK_FREE, blocks, n);
}

/* ln(x), x > 0, and exp(-x) - 1, x >= 0, without libm (to ~1e-12) */
static double eb_ln(double x)
{
	union { double d; uint64_t u; } v = { .d = x };
	int e = (int)((v.u >> 52) & 0x7ff) - 1023;
	double m, z, z2, s, term;
	int k;

	v.u = (v.u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
	m = v.d;
	if (m > 1.41421356237) {
		m /= 2;
		e++;
	}
	z = (m - 1) / (m + 1);
	z2 = z * z;
	s = 0;
	term = z;
	for (k = 1; k < 30; k += 2) {
		s += term / k;
		term *= z2;
	}
	return 2 * s + e * 0.69314718055994530942;
}

static double eb_expm1_neg(double x)
{
	double s = 0, term = 1;
	int k;

	if (x > 0.5) {
		/* exp(-x) by halving down and squaring back */
		int h = 0;
		double e;

		while (x > 0.5) {
			x /= 2;
			h++;
		}
		e = 1 + eb_expm1_neg(x);
		while (h--)
			e *= e;
		return e - 1;
	}
	for (k = 1; k < 25; k++) {
		term *= -x / k;
		s += term;
	}
	return s;
}

static uint64_t rng_next(void)
{
	uint64_t x = t.rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t.rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* an exponential draw of mean t.mean */
static int64_t next_interval(void)
{
	double u = ((rng_next() >> 11) + 1) * (1.0 / 9007199254740993.0);
	double v = -eb_ln(u) * t.mean;

	return v < 1 ? 1 : v > 4e18 ? (int64_t)4e18 : (int64_t)v;
}

static void give_back(void *arg);

/* a thread's kept blocks, back to glibc */
static void flush_bins(void)
{
	struct hdr *h;
	size_t k;

	for (k = 0; k < BINS; k++) {
		while ((h = t.bin[k])) {
			t.bin[k] = bin_link(h, h->size);
			real_free(h);
		}
		t.nbin[k] = 0;
	}
}

/* this thread's slot: its own, or the shared one past EBMEM_SLOTS */
static struct ebmem_counts *claim(void)
{
	uint32_t i, n;

	if (!t.rng) {
		t.rng = (uint64_t)(uintptr_t)&t * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid() << 32 ^ 0x5851f42d4c957f2dULL;
		if (!t.rng)
			t.rng = 1;
		t.mean = (double)sample_bytes;
		t.left = sample_bytes ? next_interval() : INT64_MAX;
	}
	if (t.gone)
		goto shared;
	n = __atomic_load_n(&shm->nslots, __ATOMIC_RELAXED);
	for (i = 0; i < EBMEM_SLOTS; i++) {
		uint64_t zero = 0;

		if (i >= n && __atomic_compare_exchange_n(&shm->nslots, &n, i + 1, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			n = i + 1;
		if (__atomic_compare_exchange_n(&shm->slots[i].in_use, &zero, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			uint32_t live = __atomic_add_fetch(&shm->live, 1, __ATOMIC_RELAXED), m;

			m = __atomic_load_n(&shm->max_live, __ATOMIC_RELAXED);
			while (live > m &&
			       !__atomic_compare_exchange_n(&shm->max_live, &m, live, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
				;
			t.c = &shm->slots[i];
			t.fast = state == ST_COUNT ? t.c : NULL;
			/* so that it is given back at the thread's exit (may allocate: t.c is set) */
			pthread_setspecific(slot_key, t.c);
			return t.c;
		}
	}
shared:
	t.atomic = true;
	t.c = &shm->gone;
	return t.c;
}

/* slot *c*'s thread is gone: the frees it held told, its counts to the shared slot, the slot free */
static void retire(struct ebmem_counts *c)
{
	struct ebmem_counts *g = &shm->gone;
	int i;

	if (c->npend)
		ebprof_mem_sampled_free(c->pend, c->npend);
	c->npend = 0;
	__atomic_add_fetch(&g->frees, c->frees, __ATOMIC_RELAXED);
	__atomic_add_fetch(&g->bytes, c->bytes, __ATOMIC_RELAXED);
	__atomic_add_fetch(&g->bytes_freed, c->bytes_freed, __ATOMIC_RELAXED);
	__atomic_add_fetch(&g->samples, c->samples, __ATOMIC_RELAXED);
	__atomic_add_fetch(&g->sampled_frees, c->sampled_frees, __ATOMIC_RELAXED);
	__atomic_add_fetch(&g->failed, c->failed, __ATOMIC_RELAXED);
	__atomic_add_fetch(&g->foreign, c->foreign, __ATOMIC_RELAXED);
	for (i = 0; i < 64; i++)
		__atomic_add_fetch(&g->hist[i], c->hist[i], __ATOMIC_RELAXED);
	memset(c, 0, offsetof(struct ebmem_counts, in_use));
	__atomic_sub_fetch(&shm->live, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&c->in_use, 0, __ATOMIC_RELEASE);
}

/* a thread ends: its slot to the next thread */
static void give_back(void *arg)
{
	struct ebmem_counts *c = arg;

	if (!c || c == &shm->gone || state != ST_COUNT)
		return;
	retire(c);
	t.c = t.fast = NULL;
	t.gone = true;
	flush_bins();
}

static void after_fork(void)
{
	/* the child counts nothing; its blocks keep their headers */
	if (state == ST_COUNT)
		state = ST_FORKED;
	t.fast = NULL;
}

/*
 * malloc is not this library's where the program looks it up: the
 * executable defines one (an allocator linked in), and its calls, libc's
 * too, go there.  Counting the rest would count a part as the whole.
 */
static bool shadowed(void)
{
	void *m = dlsym(RTLD_DEFAULT, "malloc");
	const ElfW(Sym) *sym = NULL;
	Dl_info theirs, ours;

	if (!m || !dladdr((void *)shadowed, &ours) || !dladdr1(m, &theirs, (void **)&sym, RTLD_DL_SYMENT))
		return false;
	/* an executable that takes malloc's address has an entry of its own for it (undefined there), which leads here */
	return theirs.dli_fbase != ours.dli_fbase && sym && sym->st_shndx != SHN_UNDEF;
}

/* the real functions, and whether this process is the one counted */
static void init(void)
{
	const char *path;
	struct stat st;
	uint32_t i;
	void *m;
	int fd;

	state = ST_INIT;
	real_malloc = dlsym(RTLD_NEXT, "malloc");
	real_free = dlsym(RTLD_NEXT, "free");
	real_calloc = dlsym(RTLD_NEXT, "calloc");
	real_realloc = dlsym(RTLD_NEXT, "realloc");
	real_memalign = dlsym(RTLD_NEXT, "memalign");
	real_usable = dlsym(RTLD_NEXT, "malloc_usable_size");
	if (!real_malloc || !real_free || !real_calloc || !real_realloc || !real_memalign || !real_usable)
		_exit(127);
	page_size = sysconf(_SC_PAGESIZE);
	py_get = dlsym(RTLD_DEFAULT, "PyMem_GetAllocator");
	py_set = dlsym(RTLD_DEFAULT, "PyMem_SetAllocator");
	py_new = py_get && dlsym(RTLD_DEFAULT, "Py_BytesMain");
	py_any = py_get || dlsym(RTLD_DEFAULT, "PyObject_Malloc");
	path = getenv(EBMEM_ENV_SHM);
	fd = path ? open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC) : -1;
	if (fd < 0 || fstat(fd, &st) || st.st_size < (off_t)sizeof(*shm)) {
		if (fd >= 0)
			close(fd);
		state = ST_PASS;
		return;
	}
	m = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED || ((struct ebmem_shm *)m)->magic != EBMEM_MAGIC ||
	    ((struct ebmem_shm *)m)->pid != getpid()) {
		if (m != MAP_FAILED)
			munmap(m, sizeof(*shm));
		state = ST_PASS;
		return;
	}
	shm = m;
	__atomic_add_fetch(&shm->loads, 1, __ATOMIC_RELEASE);
	if (shadowed()) {
		shm->shadowed = 1;
		shm->loaded_pid = getpid();
		state = ST_PASS;
		return;
	}
	/*
	 * Slots in use are of the threads of the program this process ran
	 * before an exec, gone with it: so that the threads counted at once
	 * are this program's (the peak exact while it has one)
	 */
	for (i = 0; i < shm->nslots && i < EBMEM_SLOTS; i++)
		if (shm->slots[i].in_use)
			retire(&shm->slots[i]);
	sample_bytes = shm->sample_bytes;
	if (pthread_key_create(&slot_key, give_back))
		_exit(127);
	pthread_atfork(NULL, NULL, after_fork);
	shm->loaded_pid = getpid();
	state = ST_COUNT;
}

static void py_wrap(void);

__attribute__((constructor(101))) static void ebmem_init(void)
{
	if (state == ST_UNINIT)
		init();
	if (state == ST_COUNT)
		py_wrap();
}

static inline bool ready(void)
{
	if (unlikely(state == ST_UNINIT))
		init();
	return state != ST_INIT;
}

/*
 * A thread's net bytes (allocated less freed by it) went past the most it
 * has held: the process's bytes held now, for the peak.  With one thread
 * that is the peak exactly; with several a thread looks again only past
 * its last look and EBMEM_PEAK_SLACK, and what the others grow meanwhile
 * is seen at their own looks: a floor.  A peak raised records where it
 * fell in the sequence of samples and sampled frees (peak_seq), after the
 * sample of the allocation that raised it, if one fell in it: what the
 * sampled blocks held at the peak is told from that.
 */
static __attribute__((noinline)) void look_at_peak(struct ebmem_counts *c, int64_t net)
{
	uint64_t sum, p;
	uint32_t i, n;

	if (shm->live == 1 && shm->max_live == 1) {
		t.net_hi = net;
		sum = shm->gone.bytes - shm->gone.bytes_freed + net;
	} else {
		t.net_hi = net + EBMEM_PEAK_SLACK;
		n = __atomic_load_n(&shm->nslots, __ATOMIC_RELAXED);
		sum = shm->gone.bytes - shm->gone.bytes_freed;
		for (i = 0; i < n && i < EBMEM_SLOTS; i++)
			sum += shm->slots[i].bytes - shm->slots[i].bytes_freed;
	}
	(void)c;
	p = __atomic_load_n(&shm->peak, __ATOMIC_RELAXED);
	while ((int64_t)sum > (int64_t)p) {
		if (__atomic_compare_exchange_n(&shm->peak, &p, sum, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
			__atomic_store_n(&shm->peak_seq, __atomic_load_n(&shm->next_id, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
			break;
		}
	}
}

/*
 * Adaptive (the default): the process samples at most EBMEM_MAX_RATE a
 * second (each sample traps, ~10 us), after a first burst of EBMEM_BURST
 * (a generic cell rate algorithm's books in the shared file).  A thread
 * whose sample goes over that takes the interval its own rate of bytes
 * since its last sample asks for (that rate over its share of
 * EBMEM_MAX_RATE), if longer, up to twice the last; one whose sample finds more than half the
 * burst allowed takes it if shorter, down to sample_bytes (1 byte: every
 * allocation, while they are few).  A block's weights use the mean of the
 * draw that was running when it was made, which was known before it was:
 * the estimates stay unbiased.
 */
#define EBMEM_MAX_MEAN 4e12

static void adapt(struct ebmem_counts *c)
{
	const uint64_t gap = 1000000000ULL / EBMEM_MAX_RATE, burst = EBMEM_BURST * gap;
	struct timespec ts;
	uint64_t now, tat, base, m, bytes = c->bytes;
	uint32_t live = shm->live;
	double want;

	if (!shm->adaptive)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	/* bytes a sample at this thread's rate since its last, for its share of the rate */
	want = t.time_mark && now > t.time_mark
		       ? (double)(bytes - t.bytes_mark) * gap * (live ? live : 1) / (double)(now - t.time_mark)
		       : t.mean;
	want = want < (double)sample_bytes ? (double)sample_bytes : want > EBMEM_MAX_MEAN ? EBMEM_MAX_MEAN : want;
	t.bytes_mark = bytes;
	t.time_mark = now;
	tat = __atomic_load_n(&shm->tat, __ATOMIC_RELAXED);
	do {
		base = tat > now ? tat : now;
		if (base - now > burst) {
			/* over the rate: at most twice as long, so that a burst is not weighed by one sample */
			if (want > t.mean)
				t.mean = want < 2 * t.mean ? want : 2 * t.mean;
			m = __atomic_load_n(&shm->mean_max, __ATOMIC_RELAXED);
			while ((uint64_t)t.mean > m &&
			       !__atomic_compare_exchange_n(&shm->mean_max, &m, (uint64_t)t.mean, false, __ATOMIC_RELAXED,
							    __ATOMIC_RELAXED))
				;
			return;
		}
	} while (!__atomic_compare_exchange_n(&shm->tat, &tat, base + gap, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	if (base < now + burst / 2 && want < t.mean)
		t.mean = want;
}

static __attribute__((noinline)) void sample(struct ebmem_counts *c, void *p, uint64_t n)
{
	double mean = t.mean, x = (double)n / mean, q = -eb_expm1_neg(x), wb, wc;
	struct ebmem_sample smp;

	/* the next point after the block: memoryless, a fresh draw (at the mean from now on) */
	adapt(c);
	t.left = next_interval();
	if (q <= 0)
		return;
	wb = n / q;
	wc = 1 / q;
	smp.seq = __atomic_fetch_add(&shm->next_id, 1, __ATOMIC_RELAXED);
	smp.id = smp.seq & EBMEM_ID_MASK;
	smp.peak_seq_at = (uint64_t)(uintptr_t)&shm->peak_seq;
	((struct hdr *)p - 1)->tag |= TAG_SAMPLED | smp.id << TAG_ID_SHIFT;
	smp.block = (uint64_t)(uintptr_t)p;
	smp.size = n;
	smp.w_bytes = (uint64_t)(wb + 0.5);
	smp.w_count = (uint64_t)(wc * EBMEM_COUNT_ONE + 0.5);
	smp.var_bytes = (uint64_t)(wb * wb * (1 - q) + 0.5);
	/* the frees it holds go along, told before the block (which may be at one's address) */
	smp.pend = t.atomic ? 0 : (uint64_t)(uintptr_t)&c->npend;
	ebprof_mem_sampled(&smp);
	if (!t.atomic)
		c->npend = 0;
}

/* a count of slot *c*: by atomics in the slot threads share (*atomic*), plainly in a thread's own */
#define COUNT(atomic, c, f, v) \
	((atomic) ? (void)__atomic_add_fetch(&(c)->f, (v), __ATOMIC_RELAXED) : (void)((c)->f += (v)))

/*
 * an allocation of *n* bytes at *p*: its counts, the peak, and a sample
 * when one falls in it (malloc's fast path: *atomic* a constant false)
 */
static inline __attribute__((always_inline)) void count_alloc(struct ebmem_counts *c, void *p, uint64_t n, bool atomic)
{
	int64_t net;

	COUNT(atomic, c, bytes, n);
	COUNT(atomic, c, hist[63 - __builtin_clzll(n | 1)], 1);
	net = c->bytes - c->bytes_freed;
	if (unlikely((t.left -= (int64_t)n) < 0)) {
		COUNT(atomic, c, samples, 1);
		sample(c, p, n);
	}
	if (unlikely(net > t.net_hi) && !atomic)
		look_at_peak(c, net);
}

/*
 * a block *b* of the real allocator, *off* bytes below the pointer given
 * out, holding *n* asked for; *tag* TAG (malloc's) or TAG | TAG_PY
 */
static inline void *counted_as(void *b, size_t off, uint64_t n, uint64_t tag)
{
	struct ebmem_counts *c;
	char *p;

	if (unlikely(!b)) {
		if (state == ST_COUNT && (c = t.c ? t.c : claim()))
			__atomic_add_fetch(&c->failed, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	p = (char *)b + off;
	((struct hdr *)p - 1)->size = n;
	((struct hdr *)p - 1)->tag = tag | off_tag(off);
	if (unlikely(state != ST_COUNT))
		return p;
	c = t.c;
	if (unlikely(!c))
		c = claim();
	count_alloc(c, p, n, t.atomic);
	return p;
}

static inline void *counted(void *b, size_t off, uint64_t n)
{
	return counted_as(b, off, n, TAG);
}

/* a block given back: the real allocator's pointer, NULL when not one of *want*'s (TAG, TAG | TAG_PY) */
static inline void *uncounted_as(void *p, uint64_t want)
{
	struct hdr *h = (struct hdr *)p - 1;
	struct ebmem_counts *c;
	uint64_t tag = h->tag, n = h->size;

	if (unlikely((tag & TAG_MASK) != want))
		return NULL;
	h->tag = 0;
	if (unlikely(state != ST_COUNT))
		return (char *)p - off_of(tag);
	c = t.c;
	if (unlikely(!c))
		c = claim();
	COUNT(t.atomic, c, frees, 1);
	COUNT(t.atomic, c, bytes_freed, n);
	if (unlikely(tag & TAG_SAMPLED)) {
		uint64_t b = (uint64_t)(uintptr_t)p | ((tag >> TAG_ID_SHIFT) & EBMEM_ID_MASK) << EBMEM_ID_SHIFT;

		uint64_t seq = __atomic_fetch_add(&shm->next_id, 1, __ATOMIC_RELAXED);

		/* held for the thread's next sample; told now when there is no room (or no slot of its own) */
		COUNT(t.atomic, c, sampled_frees, 1);
		if (t.atomic) {
			uint64_t one[2 * EBMEM_PEND];

			one[0] = b;
			one[EBMEM_PEND] = seq;
			ebprof_mem_sampled_free(one, 1);
		} else {
			if (c->npend == EBMEM_PEND) {
				ebprof_mem_sampled_free(c->pend, c->npend);
				c->npend = 0;
			}
			c->pend_seq[c->npend] = seq;
			c->pend[c->npend++] = b;
		}
	}
	return (char *)p - off_of(tag);
}

static inline void *uncounted(void *p)
{
	return uncounted_as(p, TAG);
}

static void count_foreign(void)
{
	struct ebmem_counts *c;

	if (state == ST_COUNT && (c = t.c ? t.c : claim()))
		__atomic_add_fetch(&c->foreign, 1, __ATOMIC_RELAXED);
}

static void foreign_free(void *p)
{
	if (in_boot(p))
		return;
	count_foreign();
	real_free(p);
}

static __attribute__((noinline)) void *malloc_slow(size_t n)
{
	if (unlikely(!ready()))
		return boot_alloc(n);
	if (unlikely(state == ST_PASS))
		return real_malloc(n);
	if (unlikely(n > SIZE_MAX - HDR)) {
		errno = ENOMEM;
		return NULL;
	}
	return counted(real_malloc(ask_of(n)), HDR, n);
}

/* an allocation's rare ends: a sample, the peak looked at (in that order: look_at_peak()) */
static __attribute__((noinline)) void *alloc_rare(struct ebmem_counts *c, void *p, uint64_t n, int64_t net)
{
	if (t.left < 0) {
		c->samples++;
		sample(c, p, n);
	}
	if (net > t.net_hi)
		look_at_peak(c, net);
	return p;
}

/*
 * a block *h* of *n* bytes of a thread counted plainly (slot *c*): its
 * header (*tag*), and what count_alloc() does, its rare ends out of line
 * (the fewest instructions)
 */
static inline __attribute__((always_inline)) void *count_fast(struct ebmem_counts *c, struct hdr *h, uint64_t n,
							      uint64_t tag)
{
	int64_t net, left;

	h->size = n;
	h->tag = tag;
	c->hist[63 - __builtin_clzll(n | 1)]++;
	net = (c->bytes += n) - c->bytes_freed;
	left = t.left - (int64_t)n;
	t.left = left;
	/* past the peak, or a sample due: one test */
	if (unlikely((left | (t.net_hi - net)) < 0))
		return alloc_rare(c, h + 1, n, net);
	return h + 1;
}

/* a bin's link not to a block: the program wrote before the front of one it had freed (glibc aborts alike) */
static __attribute__((noinline, noreturn)) void corrupt(void)
{
	static const char msg[] = "ebprof mem's interposer: a freed block's header was overwritten (heap corruption)\n";

	if (write(2, msg, sizeof(msg) - 1) < 0)
		abort();
	abort();
}

/* a thread counted plainly, a block of its: the common case, inline */
API void *malloc(size_t n)
{
	struct ebmem_counts *c = t.fast;
	struct hdr *h;
	size_t m, k;

	if (unlikely(!c))
		return malloc_slow(n);
	if (likely(n <= BIN_MAX)) {
		k = bin_of(n);
		if ((h = t.bin[k])) {
			struct hdr *next = bin_link(h, h->size);

			if (unlikely((uintptr_t)next & 15))
				corrupt();
			t.bin[k] = next;
			t.nbin[k]--;
			return count_fast(c, h, n, TAG | HDR);
		}
		m = 16 * k + 8;
	} else if (unlikely(__builtin_add_overflow(n, HDR, &m))) {
		return malloc_slow(n);
	}
	h = real_malloc(m);
	if (unlikely(!h))
		return counted(h, HDR, n);
	/* the same: read again, not kept across the call */
	return count_fast(t.fast, h, n, TAG | HDR);
}

static __attribute__((noinline)) void free_slow(void *p)
{
	void *b;

	if (!p)
		return;
	if (unlikely(!ready()) || in_boot(p))
		return;
	if (unlikely(state == ST_PASS)) {
		real_free(p);
		return;
	}
	b = uncounted(p);
	if (likely(b))
		real_free(b);
	else
		foreign_free(p);
}

API void free(void *p)
{
	struct ebmem_counts *c = t.fast;
	struct hdr *h = (struct hdr *)p - 1;

	if (likely(c && p && h->tag == (TAG | HDR))) {
		uint64_t n = h->size;
		size_t k = bin_of(n);

		h->tag = 0;
		c->frees++;
		c->bytes_freed += n;
		if (likely(n <= BIN_MAX) && t.nbin[k] < BIN_CAP) {
			h->size = (uint64_t)(uintptr_t)bin_link(h, (uint64_t)(uintptr_t)t.bin[k]);
			t.bin[k] = h;
			t.nbin[k]++;
			return;
		}
		real_free(h);
		return;
	}
	free_slow(p);
}

API void *calloc(size_t n, size_t s)
{
	size_t total;

	if (__builtin_mul_overflow(n, s, &total) || total > SIZE_MAX - HDR) {
		errno = ENOMEM;
		return NULL;
	}
	if (unlikely(!ready())) {
		void *p = boot_alloc(total);

		if (p)
			memset(p, 0, total);
		return p;
	}
	if (unlikely(state == ST_PASS || t.inpy))
		return real_calloc(n, s);
	return counted(real_calloc(1, ask_of(total)), HDR, total);
}

/* an aligned block: *align* (a power of two, >= 16) bytes before it hold the header */
static void *aligned(size_t align, size_t n)
{
	if (align <= HDR)
		return malloc(n);
	if (unlikely(!ready()))
		return NULL;
	if (unlikely(state == ST_PASS))
		return real_memalign(align, n);
	if (n > SIZE_MAX - align) {
		errno = ENOMEM;
		return NULL;
	}
	return counted(real_memalign(align, n + align), align, n);
}

API void *realloc(void *p, size_t n)
{
	struct hdr *h;
	void *b, *q;
	uint64_t old;

	if (unlikely(t.inpy))
		return real_realloc(p, n);
	if (!p)
		return malloc(n);
	if (unlikely(!ready()) || in_boot(p)) {
		q = malloc(n);
		if (q && in_boot(p))
			memcpy(q, p, n < (size_t)(boot + sizeof(boot) - (char *)p) ? n : (size_t)(boot + sizeof(boot) - (char *)p));
		return q;
	}
	if (unlikely(state == ST_PASS))
		return real_realloc(p, n);
	h = (struct hdr *)p - 1;
	if ((h->tag & TAG_MASK) != TAG) {
		/* a block from before it was loaded: moved into one of its own */
		size_t have = real_usable(p);

		if (!n) {
			foreign_free(p);
			return NULL;
		}
		q = malloc(n);
		if (q) {
			memcpy(q, p, have < n ? have : n);
			foreign_free(p);
		}
		return q;
	}
	if (!n) {
		free(p);
		return NULL;
	}
	if (n > SIZE_MAX - HDR) {
		errno = ENOMEM;
		return NULL;
	}
	old = h->size;
	if (off_of(h->tag) != HDR) {
		/* aligned: a new plain block, the old one freed */
		q = malloc(n);
		if (q) {
			memcpy(q, p, old < n ? old : n);
			free(p);
		}
		return q;
	}
	/* a free of the old block and an allocation of the new, as valgrind counts them */
	b = uncounted(p);
	q = real_realloc(b, ask_of(n));
	if (!q) {
		/* the old block stays: counted again as it was */
		counted(b, HDR, old);
		return NULL;
	}
	return counted(q, HDR, n);
}

API void *reallocarray(void *p, size_t n, size_t s)
{
	size_t total;

	if (__builtin_mul_overflow(n, s, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, total);
}

API void *memalign(size_t align, size_t n)
{
	/* as glibc's: an alignment not a power of two rounded up to one */
	if (align & (align - 1)) {
		if (align > SIZE_MAX / 2) {
			errno = EINVAL;
			return NULL;
		}
		align = (size_t)1 << (64 - __builtin_clzll(align));
	}
	return aligned(align, n);
}

API void *aligned_alloc(size_t align, size_t n)
{
	return memalign(align, n);
}

API int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;
	int saved = errno;

	if (align % sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	p = aligned(align, n);
	if (!p) {
		int err = errno ? errno : ENOMEM;

		errno = saved;
		return err;
	}
	*out = p;
	errno = saved;
	return 0;
}

API void *valloc(size_t n)
{
	return aligned(page_size, n);
}

API void *pvalloc(size_t n)
{
	size_t r = (n + page_size - 1) & ~(size_t)(page_size - 1);

	return aligned(page_size, r ? r : (size_t)page_size);
}

API size_t malloc_usable_size(void *p)
{
	struct hdr *h;

	if (!p || !ready() || in_boot(p))
		return 0;
	if (state == ST_PASS)
		return real_usable(p);
	h = (struct hdr *)p - 1;
	if ((h->tag & TAG_MASK) != TAG)
		return real_usable(p);
	return real_usable((char *)p - off_of(h->tag)) - off_of(h->tag);
}

/*
 * CPython's allocator domains (PyMemAllocatorEx, 3.5 and later): the MEM
 * and OBJ domains wrapped, the real ones called with their own context
 */
struct py_allocator {
	void *ctx;
	void *(*malloc)(void *ctx, size_t n);
	void *(*calloc)(void *ctx, size_t nelem, size_t elsize);
	void *(*realloc)(void *ctx, void *p, size_t n);
	void (*free)(void *ctx, void *p);
};

#define PY_DOMAIN_MEM 1
#define PY_DOMAIN_OBJ 2

static struct py_allocator py_real[3];

/*
 * pymalloc's blocks (SMALL_REQUEST_THRESHOLD, 3.8-3.13): larger ones it
 * asks of PyMem_RawMalloc, i.e. malloc; the wrappers ask malloc for those
 * themselves, so that pymalloc never calls it for a block of theirs (one
 * count, one header, a free that goes straight to pymalloc)
 */
#define PY_SMALL 512

static void *py_malloc(void *ctx, size_t n)
{
	struct py_allocator *a = ctx;
	struct ebmem_counts *c;
	struct hdr *h;

	if (unlikely(n > PY_SMALL - HDR))
		return malloc(n);
	t.inpy = true;
	h = a->malloc(a->ctx, n + HDR);
	t.inpy = false;
	c = t.fast;
	if (unlikely(!c || !h))
		return counted_as(h, HDR, n, TAG | TAG_PY);
	return count_fast(c, h, n, TAG | TAG_PY | HDR);
}

static void *py_calloc(void *ctx, size_t nelem, size_t elsize)
{
	struct py_allocator *a = ctx;
	size_t total;
	void *b;

	if (__builtin_mul_overflow(nelem, elsize, &total))
		return NULL;
	if (total > PY_SMALL - HDR)
		return calloc(1, total);
	t.inpy = true;
	b = a->calloc(a->ctx, 1, total + HDR);
	t.inpy = false;
	return counted_as(b, HDR, total, TAG | TAG_PY);
}

static __attribute__((noinline)) void py_free_slow(struct py_allocator *a, void *p)
{
	struct hdr *h = (struct hdr *)p - 1;
	void *b;

	if (!p)
		return;
	if ((h->tag & TAG_MASK) == TAG) {
		/* one the wrappers asked malloc for */
		free(p);
		return;
	}
	b = uncounted_as(p, TAG | TAG_PY);
	if (!b) {
		/* from before the wrapper */
		count_foreign();
		b = p;
	}
	a->free(a->ctx, b);
}

static void py_free(void *ctx, void *p)
{
	struct py_allocator *a = ctx;
	struct ebmem_counts *c = t.fast;
	struct hdr *h = (struct hdr *)p - 1;

	if (likely(c && p && h->tag == (TAG | TAG_PY | HDR))) {
		h->tag = 0;
		c->frees++;
		c->bytes_freed += h->size;
		a->free(a->ctx, h);
		return;
	}
	py_free_slow(a, p);
}

static void *py_realloc(void *ctx, void *p, size_t n)
{
	struct py_allocator *a = ctx;
	struct hdr *h = (struct hdr *)p - 1;
	uint64_t fam, old;
	void *b, *q;

	if (!p)
		return py_malloc(ctx, n);
	fam = h->tag & TAG_MASK;
	old = h->size;
	if (fam == (TAG | TAG_PY) && n <= PY_SMALL - HDR) {
		/* pymalloc's to pymalloc's: a free of the old block and an allocation of the new, as realloc() */
		b = uncounted_as(p, TAG | TAG_PY);
		t.inpy = true;
		q = a->realloc(a->ctx, b, n + HDR);
		t.inpy = false;
		if (!q) {
			counted_as(b, HDR, old, TAG | TAG_PY);
			return NULL;
		}
		return counted_as(q, HDR, n, TAG | TAG_PY);
	}
	if (fam == TAG && n > PY_SMALL - HDR)
		return realloc(p, n);
	if (fam != TAG && fam != (TAG | TAG_PY)) {
		/* from before the wrapper: left as it was */
		t.inpy = true;
		q = a->realloc(a->ctx, p, n);
		t.inpy = false;
		return q;
	}
	/* across the threshold: a new block with the old one's bytes */
	q = py_malloc(ctx, n);
	if (q) {
		memcpy(q, p, old < n ? old : n);
		py_free(ctx, p);
	}
	return q;
}

/*
 * Did the user choose CPython's allocator (PYTHONMALLOC, or the debug
 * hooks of -X dev, PYTHONDEVMODE)?  Its start-up then sets the domains
 * again, over the wrapper.  -E and -I make it ignore the environment.
 */
static bool py_chosen(bool *via_malloc)
{
	char args[4096], *a, *end;
	bool env = true, dev = false;
	const char *v;
	ssize_t n;
	int fd;

	*via_malloc = false;
	fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, args, sizeof(args) - 1);
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		args[n] = 0;
		end = args + n;
		/* the options before the script, -c or -m */
		for (a = args + strlen(args) + 1; a < end && a[0] == '-' && a[1]; a += strlen(a) + 1) {
			if (!strcmp(a, "-X") && a + 3 < end && !strcmp(a + 3, "dev"))
				dev = true;
			else if (!strcmp(a, "-Xdev"))
				dev = true;
			else if (a[1] != 'X' && a[1] != 'W' && a[1] != '-' && (strchr(a, 'E') || strchr(a, 'I')))
				env = false;
			if (!strcmp(a, "-c") || !strcmp(a, "-m") || !strcmp(a, "--"))
				break;
			if (!strcmp(a, "-X") || !strcmp(a, "-W"))
				a += strlen(a) + 1;
		}
	}
	if (env) {
		v = getenv("PYTHONMALLOC");
		if (v && *v) {
			/* malloc, malloc_debug: its objects come to malloc() */
			*via_malloc = !strncmp(v, "malloc", 6);
			return true;
		}
		v = getenv("PYTHONDEVMODE");
		if (v && *v)
			dev = true;
	}
	return dev;
}

/* a CPython 3.8 or later (earlier ones set their allocators again at their start): its object allocator wrapped */
static void py_wrap(void)
{
	void (*get)(int, struct py_allocator *), (*set)(int, struct py_allocator *);
	struct py_allocator w = { NULL, py_malloc, py_calloc, py_realloc, py_free };
	bool via_malloc;
	int d;

	get = (void (*)(int, struct py_allocator *))py_get;
	set = (void (*)(int, struct py_allocator *))py_set;
	if (!py_any)
		return;
	if (!get || !set) {
		/* 2.7: no PYTHONMALLOC either */
		shm->py = EBMEM_PY_OLD;
		return;
	}
	if (py_chosen(&via_malloc)) {
		if (!via_malloc)
			shm->py = EBMEM_PY_LEFT;
		return;
	}
	if (!py_new) {
		shm->py = EBMEM_PY_OLD;
		return;
	}
	for (d = PY_DOMAIN_MEM; d <= PY_DOMAIN_OBJ; d++) {
		get(d, &py_real[d]);
		w.ctx = &py_real[d];
		set(d, &w);
	}
	shm->py = EBMEM_PY_WRAPPED;
}
