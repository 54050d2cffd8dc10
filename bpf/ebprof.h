/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ebprof.h - the ABI shared by the BPF programs and user space: limits and
 * the key/value/event structs.  Fixed-width types only, so it compiles next
 * to vmlinux.h and next to libc.
 */
#ifndef __EBPROF_H
#define __EBPROF_H

#define EBPROF_COMM_LEN		16
#define EBPROF_MAX_STACK	127	/* frames per user or kernel stack */

/* indexes into the per-CPU "stats" array */
enum ebprof_stat {
	EBPROF_STAT_SAMPLES,		/* samples that matched the target set */
	EBPROF_STAT_LOST_COUNTS,	/* counts map full */
	EBPROF_STAT_LOST_USTACK,	/* user stack map full */
	EBPROF_STAT_KSTACK_ERR,		/* kernel stack could not be stored */
	EBPROF_STAT_KSTACK_COLLISION,	/* kernel stack-map hash collision */
	EBPROF_STAT_USTACK_TRUNC,	/* user walk hit the depth limit */
	EBPROF_STAT_EVENTS_LOST,	/* ring buffer full */
	EBPROF_STAT_PY_SAMPLES,		/* samples of a Python thread with a Python stack */
	EBPROF_STAT_PY_NO_TSTATE,	/* samples of a Python process in a thread without one */
	EBPROF_STAT_PY_LOST,		/* Python stack map full */
	EBPROF_STAT_PY_TRUNC,		/* Python walk hit EBPROF_PY_MAX_FRAMES */
	EBPROF_STAT_PY_ERROR,		/* Python walk stopped at an unreadable frame */
	EBPROF_STAT_FIRED,		/* every run of the sampler, before any filter */
	EBPROF_STAT_IDLE,		/* of those, the idle task's */
	EBPROF_STAT_NEW_E0,		/* entries added to the count and stack maps in epoch 0 */
	EBPROF_STAT_NEW_E1,		/* ... and in epoch 1 */
	EBPROF_STAT_BEFORE_EXEC,	/* of a launched command's process before its exec: ebprof's */
	EBPROF_STAT_UWALKS,		/* user stacks walked with the tables where a walk may be reused */
	EBPROF_STAT_UWALK_REUSED,	/* of those, found unchanged since the thread's last walk */
	EBPROF_STAT_MAX,
};

/* flags in struct sample_key.flags */
/*
 * The exec generation of a launched command's process before its exec:
 * until then it runs ebprof's code (a fork of ebprof that execs the
 * command), which is not sampled, as perf enables its events on exec.
 */
#define EBPROF_GEN_LAUNCHING 0xffffffffu

#define EBPROF_F_USER_MISSING	(1u << 0)	/* no user stack (kernel thread, fault) */
#define EBPROF_F_USER_TRUNC	(1u << 1)	/* user walk stopped at the depth limit */
#define EBPROF_F_KERNEL_MISSING	(1u << 2)	/* in kernel, but the stack was not stored */
#define EBPROF_F_NEED_TABLES	(1u << 3)	/* walked by frame pointers: no tables yet */
#define EBPROF_F_PY_TRUNC	(1u << 4)	/* Python walk stopped at the depth limit */
#define EBPROF_F_PY_ERROR	(1u << 5)	/* Python walk stopped at an unreadable frame */
#define EBPROF_F_NEW_STACK	(1u << 6)	/* in BPF only: a stack map took a new entry */
/* bits 8-11: how the user walk ended (enum ebprof_walk_end) */
#define EBPROF_F_END_SHIFT	8
#define EBPROF_F_END_MASK	(0xfu << EBPROF_F_END_SHIFT)

/* how a user stack walk ended */
enum ebprof_walk_end {
	EBPROF_END_FP = 0,		/* frame-pointer walk: no verdict */
	EBPROF_END_COMPLETE,		/* reached the entry (RA undefined) or ra == 0 */
	EBPROF_END_NO_TABLE,		/* code with no unwind table and no frame pointers */
	EBPROF_END_TABLE_MISS,		/* a gap, an unsupported rule, or below the first row */
	EBPROF_END_READ_FAULT,		/* the stack could not be read */
	EBPROF_END_DEPTH,		/* EBPROF_MAX_STACK frames */
	EBPROF_END_NO_MAPPING,		/* the address is in no known mapping */
	EBPROF_END_BAD_FRAME,		/* a CFA that does not move up the stack */
	EBPROF_END_EXEC,		/* in execve, past the point of no return: the old program's memory is gone */
	EBPROF_END_MAX,
};

/*
 * Unwind tables.  A row says how to find the caller's frame for the code
 * from its pc to the next row's: CFA = rsp, rbp or rbx + 8 * cfa; the
 * return address is at CFA - 8; rbp, when rbp != 0, was saved at
 * CFA - 8 * rbp, and rbx likewise.  rbx is followed for the few functions
 * whose CFA it holds: the dynamic loader's lazy-binding trampolines
 * (_dl_runtime_resolve_*) realign the stack and keep the CFA in rbx.
 */
enum ebprof_row_kind {
	EBPROF_ROW_CFA_RSP = 1,
	EBPROF_ROW_CFA_RBP,
	EBPROF_ROW_PLT,		/* CFA = rsp + 8 + ((ip & 15) >= cfa ? 8 : 0) */
	EBPROF_ROW_SIGNAL,	/* a signal frame: registers in the sigcontext */
	EBPROF_ROW_STOP,	/* return address undefined: the outermost frame */
	EBPROF_ROW_GAP,		/* no FDE covers this code */
	EBPROF_ROW_INVALID,	/* a rule the walker does not follow */
	EBPROF_ROW_CFA_RBX,
};

#define EBPROF_RBX_LOST	15	/* rbx saved where the walker cannot follow */

struct unwind_row {
	__u32 pc;		/* ELF virtual address the row starts at */
	__u16 cfa;		/* CFA offset / 8, or the PLT literal */
	__u8 rbp;		/* 0: rbp unchanged, else saved at CFA - 8 * rbp */
	__u8 kind : 4;		/* enum ebprof_row_kind */
	__u8 rbx : 4;		/* 0: unchanged, EBPROF_RBX_LOST, else at CFA - 8 * rbx */
};

#define EBPROF_UNWIND_MAPS	256	/* executable mappings per process */

#define EBPROF_MAP_TABLE	(1u << 0)	/* rows [first, first + nrows) apply */
#define EBPROF_MAP_FP		(1u << 1)	/* no table: follow frame pointers (JIT code) */

struct unwind_map {
	__u64 start, end;	/* addresses in the process */
	__u64 bias;		/* address - bias = ELF virtual address */
	__u32 first, nrows;	/* rows in the row pool */
	__u32 flags;
	__u32 pad;
};

struct unwind_proc {
	__u32 nmaps;
	__u32 version;		/* unique to each write of a process's tables */
	struct unwind_map maps[EBPROF_UNWIND_MAPS];	/* sorted by start */
};

/*
 * A user stack, innermost frame first.  It lives in the "ustacks" hash map
 * under a 64-bit hash of its frames, so that the way the frames were found
 * (frame pointers now, unwind tables later) stays private to the BPF side.
 */
struct ustack {
	__u32 nr;
	__u32 pad;
	__u64 ips[EBPROF_MAX_STACK];
};

struct sample_key {
	__u32 tgid;
	__u32 tid;		/* 0 unless per-thread */
	__u32 gen;		/* exec generation of tgid: which maps apply */
	__u32 event;		/* which of the sampled events (-e A,B): 0 or 1 */
	__u64 kstack_hash;	/* 0: none */
	__u64 ustack_hash;	/* 0: none */
	__u64 pystack_hash;	/* 0: no Python stack */
	__u32 flags;
	__u32 epoch;		/* which half of the maps user space drains next: 0 or 1 */
	char comm[EBPROF_COMM_LEN];
};

/* ebprof off: why a thread went off the CPU (struct sample_key.event) */
enum ebprof_off_reason {
	EBPROF_OFF_SLEEPING,	/* S: it waits for an event (sleep, poll, a lock, a pipe) */
	EBPROF_OFF_BLOCKED,	/* D: uninterruptible, mostly disk I/O */
	EBPROF_OFF_RUNNABLE,	/* R: preempted or yielded, waiting for a CPU */
	EBPROF_OFF_ONCPU,	/* ebprof wall: on a CPU (clock samples) */
	EBPROF_OFF_REASONS,
};

/* ebprof off: a key's time switched out and how many times */
struct off_value {
	__u64 ns;
	__u64 n;
};

/* ebprof off: a thread that went out: when (0 while being written), and what it was doing */
struct off_start {
	__u64 ts;
	__u64 runtime;		/* the thread's CPU time then (se.sum_exec_runtime) */
	struct sample_key key;
};

/* ebprof off --wakers: the time of a wait by its stacks and its waker's */
struct off_wkey {
	struct sample_key key;
	struct sample_key waker;	/* tgid 0 and no stacks: no wakeup seen */
};

/* --wakers: who woke a thread, for its wait that began at ts */
struct off_waker {
	__u64 ts;		/* struct off_start.ts of that wait */
	struct off_wkey w;
};

#define EBPROF_F_WAKER		(1u << 7)	/* struct off_wkey.waker: a waker was seen */
/* ebprof off: a thread off the CPU when ebprof attached: its user stack is walked by user space */
#define EBPROF_F_WALK_LATER	(1u << 12)

/* ebprof off: what the attach-time iterator tells user space of such a thread */
struct off_blocked {
	__u32 tgid, tid;
	__u64 ip, sp, bp, bx;	/* its user registers (where it entered the kernel) */
	__u64 fs;		/* its fs base (pthread_self()): its PyThreadState's thread_id */
	__u64 ts;		/* its record's struct off_start.ts: still that, it has not run since */
};

/* ebprof off: its own counters */
enum ebprof_off_stat {
	EBPROF_OFF_STAT_SHORT,		/* switches shorter than --min-block, not counted */
	EBPROF_OFF_STAT_SHORT_NS,	/* ... their time */
	EBPROF_OFF_STAT_STARTS_FULL,	/* switch-outs not recorded: the per-thread map is full */
	EBPROF_OFF_STAT_COUNTS_FULL,	/* switches not counted: the counts map is full */
	EBPROF_OFF_STAT_COUNTS_FULL_NS,	/* ... their time */
	EBPROF_OFF_STAT_UNSEEN,		/* switch-ins the tracepoint never showed: timed at the next switch-out */
	EBPROF_OFF_STAT_NO_WAKER,	/* --wakers: waits that ended with no wakeup seen (preemption, signals) */
	EBPROF_OFF_STAT_MAX,
};

/*
 * A stack's hash carries the epoch of the sample that stored it in its top
 * bit: user space drains one epoch's counts and stacks while the samplers
 * fill the other's.
 */
#define EBPROF_EPOCH_BIT	(1ULL << 63)

/* *hash* in epoch *tag* (0 or EBPROF_EPOCH_BIT), never 0 */
static inline __u64 ebprof_epoch_hash(__u64 hash, __u64 tag)
{
	hash = (hash & ~EBPROF_EPOCH_BIT) | tag;
	return hash ? hash : 1;
}

/* the hash of a stack's frames: EBPROF_HASH_SEED, then a step a frame */
#define EBPROF_HASH_SEED 0xcbf29ce484222325ULL

static inline __u64 ebprof_hash_step(__u64 h, __u64 v)
{
	h = (h ^ v) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

enum ebprof_event_type {
	EBPROF_EV_FORK = 1,	/* a new process joined the target set */
	EBPROF_EV_EXEC,		/* a target exec'd: new generation */
	EBPROF_EV_MMAP_EXEC,	/* a target mapped executable memory */
	EBPROF_EV_EXIT,		/* a target process exited */
	EBPROF_EV_UNWIND_REQ,	/* sampled a process that has no unwind tables yet */
	EBPROF_EV_PY_CODE,	/* a Python code object seen for the first time */
};

struct ebprof_event {
	__u32 type;
	__u32 tgid;
	__u32 ppid;
	__u32 gen;
	__u32 held;		/* the target is stopped until user space sends SIGCONT */
	__u32 pad;
	__u64 ts;		/* when, by CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	char comm[EBPROF_COMM_LEN];
};

#define EBPROF_PY_CODE_READ	144	/* bytes of a code object the walker reads, from co_argcount */

/*
 * a code object's checksum (struct py_frame.sum): with its address, what
 * tells it from a code object that took its memory after it was freed
 * (module code at the end of an import, code compiled at run time)
 */
static inline __u16 ebprof_py_code_sum(__u32 first, __u32 argc, __u64 name, __u64 file)
{
	__u64 x = ((__u64)first | (__u64)argc << 32) ^ name * 0x9e3779b97f4a7c15ULL ^
		  file * 0xc2b2ae3d27d4eb4fULL;

	x ^= x >> 32;
	x ^= x >> 16;
	return x & 0xffff;
}

#define EBPROF_PY_NAME_LEN	64
#define EBPROF_PY_FILE_LEN	128

/*
 * a struct py_code_event: read this code object while it exists.  Its
 * name, file and first line come along (ASCII names only, "" otherwise):
 * module code is freed right after its import, maybe before user space
 * reads it.
 */
struct py_code_event {
	__u32 type;		/* EBPROF_EV_PY_CODE */
	__u32 tgid;
	__u64 code;		/* address of the PyCodeObject */
	__u32 sum;		/* its checksum, as in struct py_frame */
	__s32 first;		/* co_firstlineno */
	char name[EBPROF_PY_NAME_LEN];	/* co_qualname (co_name), cut at the end */
	char file[EBPROF_PY_FILE_LEN];	/* co_filename, cut at the start */
};

/*
 * Python stacks.  User space finds CPython in a process and stores where
 * its runtime is and the offsets of the fields the walker reads; the BPF
 * side records, per frame, the code object and the instruction offset,
 * and user space names them (python.c).
 */
#define EBPROF_PY_MAX_FRAMES	128

enum ebprof_py_kind {
	EBPROF_PY_FRAMEOBJ = 1,	/* 3.8-3.10: PyFrameObject chain, one per eval call */
	EBPROF_PY_311,		/* _PyInterpreterFrame, is_entry; tstate->cframe */
	EBPROF_PY_312,		/* _PyInterpreterFrame, shim frames; tstate->cframe */
	EBPROF_PY_313,		/* _PyInterpreterFrame, shim frames; tstate->current_frame */
};

/* byte offsets; 0xffff: the field does not exist in this version */
struct py_offsets {
	__u16 rt_interp;	/* _PyRuntime.interpreters.head */
	__u16 is_next;		/* PyInterpreterState.next */
	__u16 is_threads;	/* PyInterpreterState.threads.head */
	__u16 ts_next;		/* PyThreadState.next */
	__u16 ts_thread_id;	/* PyThreadState.thread_id: pthread_self() */
	__u16 ts_frame;		/* .frame, .cframe or .current_frame */
	__u16 cf_current;	/* _PyCFrame.current_frame */
	__u16 f_back;		/* f_back or previous */
	__u16 f_code;		/* f_code or f_executable */
	__u16 f_instr;		/* f_lasti (int) or prev_instr / instr_ptr */
	__u16 f_owner;		/* _PyInterpreterFrame.owner */
	__u16 f_is_entry;	/* 3.11 */
	__u16 co_argcount;
	__u16 co_firstlineno;
	__u16 co_firsttraceable;	/* 3.11+ */
	__u16 co_code_adaptive;	/* 3.11+: the bytecode, = PyCode_Type.tp_basicsize */
	__u16 co_filename;
	__u16 co_name;
	__u16 co_qualname;	/* 3.11+ */
	__u16 str_ascii;	/* where a compact ASCII str's characters start */
};

/* where a code object's name is: co_qualname where there is one */
static inline __u16 ebprof_py_name_off(const struct py_offsets *o)
{
	return o->co_qualname != 0xffff /* none */ ? o->co_qualname : o->co_name;
}

struct py_proc {
	__u64 runtime;		/* &_PyRuntime in the process */
	__u32 kind;		/* enum ebprof_py_kind */
	__u32 version;		/* 0x030b0000 for 3.11 */
	struct py_offsets o;
};

#define EBPROF_PYF_ENTRY	(1u << 0)	/* the first frame its eval call ran */
#define EBPROF_PYF_EMPTY	(1u << 1)	/* an eval call with no frame yet (code 0) */

struct py_frame {
	__u64 code;		/* PyCodeObject address; 0 for EBPROF_PYF_EMPTY */
	__u32 instr;		/* f_lasti (<= 3.10) or byte offset into the bytecode */
	__u16 sum;		/* ebprof_py_code_sum() of the code object */
	__u16 flags;		/* EBPROF_PYF_* */
};

/* innermost frame first */
struct py_stack {
	__u32 nr;
	__u32 pad;
	struct py_frame frames[EBPROF_PY_MAX_FRAMES];
};

/* ebprof mem */
struct mem_key {
	__u32 tgid;
	__u32 flags;		/* EBPROF_F_* of the walks */
	__u64 ustack_hash;
	__u64 pystack_hash;
};

/*
 * A sampled block (a launched command's interposer, user/memshm.h) also
 * carries its weights: what it stands for in bytes and in blocks
 * (EBMEM_COUNT_ONE a block) and the bytes' variance term
 */
struct mem_weights {
	__u64 bytes, count;
	__u64 var_bytes;
	__u64 id;		/* its sample id (EBMEM_ID_MASK) */
	__u64 seq;		/* ... whole: where it fell in the interposer's sequence (user/memshm.h) */
};

struct mem_block {
	__u64 size;
	__u64 ts;		/* allocated at (ns, CLOCK_MONOTONIC) */
	struct mem_key key;
	struct mem_weights w;
};

/* per stack; sampled: weighted sums (allocs and frees in EBMEM_COUNT_ONE units), and the samples and variances */
struct mem_stats {
	__u64 allocs, bytes;
	__u64 frees, bytes_freed;	/* of the blocks these allocations made */
	__u64 samples;
	__u64 var_bytes;
	/*
	 * the interposer's sampled blocks freed since they were held at its
	 * peak of peak_seq (user/memshm.h): their weights and variance
	 */
	__u64 peak_seq;
	__u64 peak_count, peak_bytes, peak_var;
};

struct mem_rss {
	__u64 faults;		/* pages faulted in (not-present faults) */
	__u64 mapped;		/* bytes asked of mmap and brk */
};

/* indexes into mem_counters */
enum ebprof_mem_counter {
	EBPROF_MEM_ALLOCS,
	EBPROF_MEM_FREES,	/* free calls seen */
	EBPROF_MEM_BYTES,
	EBPROF_MEM_FAULTS,
	EBPROF_MEM_LOST_BLOCKS,	/* the block map was full */
	EBPROF_MEM_LOST_STACKS,	/* the stats map was full */
	EBPROF_MEM_ENTRIES,	/* allocator entries recorded */
	EBPROF_MEM_NESTED,	/* entries inside another allocator call */
	EBPROF_MEM_RET_OTHER,	/* returns not of the call recorded */
	EBPROF_MEM_UNSEEN_FREES,	/* frees (and reallocs) of blocks not seen allocated */
	EBPROF_MEM_FINAL_FREES,	/* frees once its CPython began to finalize: not counted */
	EBPROF_MEM_FINAL_ALLOCS,	/* ... allocations (a realloc: one of each) */
	EBPROF_MEM_FINAL_BYTES,
	/* traps, for what the probes cost: all of them, and those while not counting (in this order) */
	EBPROF_MEM_HITS_ENTRY,
	EBPROF_MEM_HITS_RET,
	EBPROF_MEM_HITS_FREE,
	EBPROF_MEM_OFF_ENTRY,
	EBPROF_MEM_OFF_RET,
	EBPROF_MEM_OFF_FREE,
	EBPROF_MEM_HIST,	/* 64 buckets: allocations of 2^i .. 2^(i+1)-1 bytes */
	EBPROF_MEM_COUNTERS = EBPROF_MEM_HIST + 64,
};

/* ebprof lat */
#define EBPROF_LAT_DEPTH	64	/* a thread's calls in flight that are timed (a power of 2) */
#define EBPROF_LAT_SUB		16	/* histogram buckets per power of two: each < 6.3 % wide */
#define EBPROF_LAT_BUCKETS	640	/* the last from 31 * 2^38 ns (2.4 hours) up */
#define EBPROF_LAT_MAX_FUNCS	512

/* a function's calls, per CPU */
struct lat_sum {
	__u64 count;
	__u64 total_ns;
	__u64 min_ns;		/* 0: no call yet */
	__u64 max_ns;
};

/* one call, for --per-call */
struct lat_call {
	__u64 ts;		/* when it returned, CLOCK_MONOTONIC ns */
	__u64 ns;
	__u32 fn;
	__u32 tid;
};

/* the mode's own counters, per CPU */
enum ebprof_lat_stat {
	EBPROF_LAT_THREADS_FULL,	/* calls not timed: no room for the thread's record */
	EBPROF_LAT_TOO_DEEP,		/* calls not timed: EBPROF_LAT_DEPTH timed calls in flight already */
	EBPROF_LAT_UNFINISHED,		/* entries whose return never came (longjmp, exceptions) */
	EBPROF_LAT_NO_ENTRY,		/* returns of calls not timed (entered before the probes, too deep) */
	EBPROF_LAT_SUPPRESSED,		/* --per-call: calls over the rate limit, not printed */
	EBPROF_LAT_CALLS_LOST,		/* --per-call: the ring buffer was full */
	EBPROF_LAT_PY_LOST,		/* Python: observations lost, the ring buffer was full */
	EBPROF_LAT_PY_DEEP,		/* Python: stacks cut to their innermost EBPROF_LAT_PY_FRAMES */
	EBPROF_LAT_PY_OUTS_FULL,	/* Python: switch-outs not recorded, the per-thread map was full */
	EBPROF_LAT_PYX_CALLS,		/* --exact: Python calls the eval probe saw, all of them */
	EBPROF_LAT_STAT_MAX,
};

/*
 * ebprof lat on Python functions, by sampling: what a thread's Python
 * stack was, on the CPU at a clock sample (t0 == t1) or off it from a
 * switch-out to the switch-in (its stack as it went out)
 */
#define EBPROF_LAT_PY_FRAMES	64
#define EBPROF_LAT_PY_ON	1
#define EBPROF_LAT_PY_OFF	2

struct lat_py_obs {
	__u64 t0, t1;		/* CLOCK_MONOTONIC ns */
	__u32 tgid;
	__u32 pad;
	__u32 tid;
	__u16 nr;		/* frames, innermost first */
	__u16 kind;		/* EBPROF_LAT_PY_ON, _OFF */
	struct py_frame f[EBPROF_LAT_PY_FRAMES];
};

/*
 * --exact: Python functions timed by probes on the eval loop's entry
 * (_PyEval_EvalFrameDefault, called once a Python call in 3.8-3.10): the
 * functions, by name, and how to read a frame's code object
 */
#define EBPROF_LAT_PYX_MAX	16
#define EBPROF_LAT_PYX_NAME	64

struct lat_pyx_target {
	char name[EBPROF_LAT_PYX_NAME];		/* co_name */
	char file[EBPROF_LAT_PYX_NAME];		/* "mod.py": the file's name, or "" */
	__u32 fn;				/* its index in the sums */
	__u32 pad;
};

struct lat_pyx_cfg {
	__u32 ntargets;
	__u32 frame_arg;	/* _PyEval_EvalFrameDefault's frame: argument 1 (3.8) or 2 */
	struct py_offsets o;
};

/*
 * The histogram bucket of a duration: below 16 ns one a nanosecond, then
 * EBPROF_LAT_SUB a power of two (log-linear, as HdrHistogram)
 */
static inline __u32 ebprof_lat_bucket(__u64 ns)
{
	__u64 v = ns;
	__u32 o = 0, b;

	if (ns < EBPROF_LAT_SUB)
		return (__u32)ns;
	if (v >> 32) { o += 32; v >>= 32; }
	if (v >> 16) { o += 16; v >>= 16; }
	if (v >> 8) { o += 8; v >>= 8; }
	if (v >> 4) { o += 4; v >>= 4; }
	if (v >> 2) { o += 2; v >>= 2; }
	if (v >> 1) { o += 1; }
	/* o >= 4: the top bit, then the 4 below it */
	b = (o - 3) * EBPROF_LAT_SUB + (__u32)((ns >> (o - 4)) & (EBPROF_LAT_SUB - 1));
	return b < EBPROF_LAT_BUCKETS ? b : EBPROF_LAT_BUCKETS - 1;
}

#endif /* __EBPROF_H */
