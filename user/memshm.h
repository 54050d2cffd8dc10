/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * memshm.h - what ebprof mem's interposer (user/preload/ebmem.c, preloaded
 * into a command ebprof launches) counts, in a file both map: every
 * allocation and free of the process, by thread, with no trap.  Sampled
 * allocations (a Poisson process over the bytes allocated) and frees of
 * sampled blocks call a marker function a uprobe watches, where BPF takes
 * the stacks.
 */
#ifndef __EBPROF_MEMSHM_H
#define __EBPROF_MEMSHM_H

#include <stddef.h>
#include <stdint.h>

#define EBMEM_MAGIC 0x45424d454d534831ULL	/* "EBMEMSH1" */
#define EBMEM_SLOTS 512		/* threads counted at once; more share one slot by atomics */
#define EBMEM_PEND 32		/* frees of sampled blocks a thread holds for its next sample */

/* the environment ebprof gives the command */
#define EBMEM_ENV_SHM "EBPROF_MEM_SHM"		/* the counts' file */

/*
 * the interposer's markers, probed by ebprof: ebprof_mem_sampled(const
 * struct ebmem_sample *), ebprof_mem_sampled_free(const uint64_t *blocks,
 * uint64_t n) (n <= EBMEM_PEND; the blocks' seqs EBMEM_PEND words after
 * them, as pend_seq[] after pend[])
 */
#define EBMEM_SAMPLE_FN "ebprof_mem_sampled"
#define EBMEM_FREE_FN "ebprof_mem_sampled_free"

/*
 * A marker's call, when ebprof traces the getppid system call instead of
 * probing the markers (by_syscall): getppid() with, in the registers of
 * its first four arguments (which it has none of), EBMEM_MARK_SAMPLE and
 * the sample, or EBMEM_MARK_FREE, the blocks and their number; then
 * EBMEM_MARK_CHECK.  A system call costs ~1 us here, a uprobe's trap
 * 6-19 us; getppid cannot fail, and sandboxes allow it (systemd's
 * @default set has it).
 */
#define EBMEM_MARK_SAMPLE 0x45424d53	/* "EBMS" */
#define EBMEM_MARK_FREE 0x45424d46	/* "EBMF" */
#define EBMEM_MARK_CHECK 0x6562707266ULL	/* "ebprf" (bpf/mem.bpf.c has a copy of the three) */

/* fixed point of the estimated counts passed to the marker */
#define EBMEM_COUNT_ONE 65536.0

struct ebmem_counts {
	/*
	 * calls that freed a block (free(NULL) is not one); those that
	 * allocated are the sum of hist[] (one count less a call)
	 */
	uint64_t frees;
	uint64_t bytes, bytes_freed;	/* as asked for */
	uint64_t samples, sampled_frees;	/* marker calls */
	uint64_t failed;		/* allocations that returned NULL */
	uint64_t foreign;		/* frees of blocks it did not allocate (made before it was loaded) */
	uint64_t hist[64];		/* allocations of 2^i .. 2^(i+1)-1 bytes */
	uint64_t in_use;		/* a thread owns the slot */
	/*
	 * frees of sampled blocks not told yet: the thread's next sample takes
	 * them along (no trap of their own), ebprof the rest at the end
	 */
	uint64_t npend;
	uint64_t pend[EBMEM_PEND];
	uint64_t pend_seq[EBMEM_PEND];	/* ... and where each fell in the process's sequence of samples and sampled frees */
	uint64_t pad[7];
};
_Static_assert(offsetof(struct ebmem_counts, pend_seq) == offsetof(struct ebmem_counts, pend) + EBMEM_PEND * 8,
	       "a free's seq is EBMEM_PEND words after it (bpf/mem.bpf.c's struct smp_frees)");

/* what a sampled allocation tells the marker, by a pointer to it (on the caller's stack; bpf/mem.bpf.c has a copy) */
struct ebmem_sample {
	uint64_t block, size;
	uint64_t w_bytes, w_count;	/* what it stands for: bytes, blocks in EBMEM_COUNT_ONE */
	uint64_t var_bytes;		/* the bytes' variance term */
	uint64_t pend;			/* where its thread's frees not told yet are (npend, pend[], pend_seq[]); 0: none */
	uint64_t id;			/* its sample id: a free told names the block by address and id */
	uint64_t seq;			/* where it fell in the sequence (the id is its low bits) */
	uint64_t peak_seq_at;		/* the address of the file's peak_seq, in the process */
};
_Static_assert(sizeof(struct ebmem_sample) == 9 * 8, "bpf/mem.bpf.c's copy of struct ebmem_sample has 9 fields");

/*
 * A free told: the block's address, and its sample id above it (the id
 * tells a block from the next one sampled at its address, which another
 * thread may make before the free is told)
 */
#define EBMEM_ID_SHIFT 48
#define EBMEM_ID_MASK 0x7ffULL

struct ebmem_shm {
	uint64_t magic;
	int32_t pid;			/* the process counted: ebprof writes it before the exec */
	int32_t loaded_pid;		/* the interposer, once loaded in it */
	uint64_t sample_bytes;		/* mean interval between samples, in bytes (the least, when adaptive); 0: none */
	uint32_t adaptive;		/* the interval grows while samples come faster than EBMEM_MAX_RATE a second */
	uint32_t pad0;
	uint64_t mean_max;		/* the longest it grew to */
	uint64_t tat;			/* the rate's books: when the samples taken would all have been allowed (ns) */
	/*
	 * the sequence of samples and frees of sampled blocks (a sample's id
	 * is its low bits): each takes the next number
	 */
	uint64_t next_id;
	uint32_t nslots;		/* slots ever handed out */
	uint32_t live;			/* threads counting now */
	uint32_t max_live;		/* ... at the most */
	uint32_t forked;		/* the process forked: the child counts nothing */
	uint64_t peak;			/* the most bytes held at once (within max_live * EBMEM_PEAK_SLACK) */
	uint32_t py;			/* CPython's object allocator: EBMEM_PY_* */
	uint32_t by_syscall;		/* the markers tell by getppid (ebprof's tracepoint), not by their uprobes */
	/*
	 * next_id when the peak was last raised: a sampled block s was held at
	 * the peak when s's seq < peak_seq <= its free's seq
	 */
	uint64_t peak_seq;
	/*
	 * the program it was loaded into binds malloc to an allocator of its
	 * own (the executable's, first in the lookup order): the interposer's
	 * functions are not what it calls, and it passes through
	 */
	uint32_t shadowed;
	uint32_t loads;			/* programs it was loaded into in the process counted (one an exec) */
	uint64_t pad[3];		/* the counts start a cache line */
	struct ebmem_counts gone;	/* threads that ended, and any past EBMEM_SLOTS: atomics */
	struct ebmem_counts slots[EBMEM_SLOTS];
};

/*
 * A CPython 3.8 or later: the interposer wraps its object allocator
 * (pymalloc, the MEM and OBJ domains) where the interpreter calls it,
 * pymalloc kept; or it found one it left alone, whose objects it does not
 * see: the user chose the allocator (PYTHONMALLOC, -X dev), or a CPython
 * before 3.8 (which sets its allocators again as it starts)
 */
#define EBMEM_PY_NONE 0
#define EBMEM_PY_WRAPPED 1
#define EBMEM_PY_LEFT 2
#define EBMEM_PY_OLD 3

/* samples a second the process takes, when adaptive: at most, after a first burst of EBMEM_BURST */
#define EBMEM_MAX_RATE 500	/* (the figure in cli.c's and mode_mem.c's texts) */
#define EBMEM_BURST 1000

/* bytes a thread's net change goes before it looks at the process's peak, when there are several */
#define EBMEM_PEAK_SLACK 65536

#endif
