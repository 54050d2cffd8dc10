// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static const char usage[] =
"Usage: ebprof [cpu] (-p PID[,PID...] | -a | [--] COMMAND [ARG...]) [OPTIONS]\n"
"\n"
"Sample the stacks of running processes on CPU and show where their time goes:\n"
"kernel and user frames, symbolized, as a table, folded stacks, an interactive\n"
"SVG flame graph or JSON.\n"
"\n"
"Targets:\n"
"  -p, --pid PID[,PID...]  profile these processes and all their threads (a\n"
"                          thread id stands for its process)\n"
"  -a, --all               profile every process on the machine\n"
"  -- COMMAND [ARG...]     run COMMAND and profile it from its first instruction,\n"
"                          with its threads and child processes; exit with its\n"
"                          status (0 when -d ended it); its standard output goes\n"
"                          to standard error when the report goes to a file or\n"
"                          a pipe on standard output, so that the two never mix\n"
"\n"
"Options:\n"
"  -F, --freq HZ           samples per second per CPU (default 99)\n"
"  -d, --duration SECONDS  stop after SECONDS (default: Ctrl-C or the targets exit)\n"
"  -e, --event EVENT[/PERIOD][,EVENT2[/PERIOD]]  sample on EVENT instead of\n"
"                          cpu-clock: task-clock, page-faults, minor-faults,\n"
"                          major-faults, context-switches, cpu-migrations, and with a\n"
"                          PMU cycles, instructions, cache-misses, LLC-load-misses,\n"
"                          branch-misses, ... (every PERIOD events when given); with\n"
"                          two (cycles,instructions or cache-references,cache-misses)\n"
"                          the table shows IPC or the miss rate per function\n"
"  -o, --output FILE       write to FILE; .svg .folded .json .pb.gz .speedscope.json\n"
"                          pick the format\n"
"  -f, --format FORMAT     table, folded, svg, json, pprof (gzipped profile.proto,\n"
"                          for go tool pprof, Pyroscope, Parca) or speedscope\n"
"                          (default: from -o, else table)\n"
"      --json              the same as -f json\n"
"  -n, --rows N            table rows to show (default 25, 0: all)\n"
"      --no-kernel         leave out kernel frames\n"
"      --per-thread        split the profile by thread\n"
"      --per-pid           with -a or several pids: a row per process (default:\n"
"                          per command, so that a build's 300 cc1 are one row)\n"
"      --include-self      with -a: ebprof's own process too (left out by default)\n"
"      --map-size N        entries in the stack and count maps (default 16384)\n"
"      --fp                walk user stacks by frame pointers only (no unwind tables)\n"
"      --unwind-rows N     rows in the unwind table pool (default 2097152, 8 bytes\n"
"                          each); when full, files no process runs any more give\n"
"                          theirs back\n"
"      --no-debuginfod     do not fetch the debug files of stripped binaries from\n"
"                          the debuginfod servers DEBUGINFOD_URLS names (by\n"
"                          default in the background; a transfer that stalls for\n"
"                          10 s, or DEBUGINFOD_TIMEOUT, is given up)\n"
"\n"
"Python (CPython 3.8-3.13, found in the target without any change to it):\n"
"      --lines[=FUNC,...]  after the profile, a line-by-line report of the top\n"
"                          Python functions (or those named), like line_profiler's;\n"
"                          native functions too, from DWARF line info\n"
"      --no-lineno         Python frames without line numbers: one per function\n"
"      --no-python         native frames only, even for Python processes\n"
"      --view VIEW         python: a Python process's stacks by its Python frames\n"
"                          only, a sample counting for the innermost (the C code\n"
"                          it called is its time); mixed: Python frames between\n"
"                          the native ones that ran them; native: no Python\n"
"                          frames (default: python for the table, else mixed)\n"
"  -v, --verbose           say when sampling starts and how long attaching took\n"
"      --debug             show libbpf's messages and ebprof's decisions\n"
"  -h, --help              show this help\n"
"  -V, --version           show the version\n"
"\n"
"Other modes (each with its own --help):\n"
"  ebprof stat   counts: time, context switches, faults, RSS, CPU counters\n"
"  ebprof mem    allocations, leaks and RSS growth by stack\n"
"  ebprof off    where threads wait: time off the CPU by stack\n"
"  ebprof wall   where wall-clock time goes: on and off the CPU, by stack\n"
"  ebprof lat    how long each call of a function takes: counts, percentiles\n"
"  ebprof top    a live view of the hottest functions, refreshed every second\n"
"  ebprof record a pprof per interval, to files or to Pyroscope, continuously\n"
"  ebprof help [MODE]  the mode's manual page (its --help when none is installed)\n"
"\n"
"Examples:\n"
"  sudo ebprof -p 1234                 # top functions of pid 1234, Ctrl-C to stop\n"
"  sudo ebprof -p 1234 -d 10 -o out.svg  # 10 s flame graph\n"
"  sudo ebprof -a -d 5                 # the whole machine, grouped by command\n"
"  sudo ebprof -F 999 -- ./myprog arg  # launch and profile a command\n";

static const char stat_usage[] =
"Usage: ebprof stat (-p PID[,PID...] | -a | [--] COMMAND [ARG...]) [OPTIONS]\n"
"\n"
"Count what a command or running processes do, as time(1) and perf stat do:\n"
"wall, user and system time, task-clock, context switches (voluntary and\n"
"involuntary), CPU migrations, page faults, max RSS, and the CPU's counters\n"
"(cycles, instructions, IPC, stalls, branches, caches) where it has them.\n"
"The counters (task-clock, context-switches, faults, ...) of a process stop\n"
"when it starts to exit, as perf stat's do (on Linux 6.15 and later before\n"
"its memory is freed); wall, user, system time and the voluntary and\n"
"involuntary switches of a command, from wait4(), count to its end.\n"
"\n"
"Targets:\n"
"  -p, --pid PID[,PID...]  count these processes from now on, with the threads\n"
"                          and children they create\n"
"  -a, --all               count every CPU\n"
"  -- COMMAND [ARG...]     run COMMAND and count it, its threads and children\n"
"\n"
"Options:\n"
"  -e, --event EVENT,...   count these events (default: the usual set); perf's\n"
"                          names: task-clock, context-switches, cpu-migrations,\n"
"                          page-faults, minor-faults, major-faults, cycles,\n"
"                          instructions, branches, branch-misses, cache-references,\n"
"                          cache-misses, stalled-cycles-frontend/backend,\n"
"                          L1-dcache-loads, L1-dcache-load-misses, LLC-loads,\n"
"                          LLC-load-misses, dTLB-load-misses, ...\n"
"  -r, --repeat N          run the command N times: mean and +- (perf stat -r)\n"
"  -I, --interval MS       also print what was counted every MS milliseconds\n"
"  -d, --duration SECONDS  stop after SECONDS (a command is stopped too: exit 0)\n"
"      --per-thread        also a row per thread\n"
"  -f, --format FORMAT     table or json (default: from -o, else table)\n"
"      --json              the same as -f json\n"
"  -o, --output FILE       write to FILE (default: standard error, as perf stat);\n"
"                          .json picks JSON\n"
"  -v, --verbose, --debug, -h, --help\n"
"\n"
"Examples:\n"
"  sudo ebprof stat -- python3 script.py\n"
"  sudo ebprof stat -r 5 -e cycles,instructions -- ./prog\n"
"  sudo ebprof stat -p 1234 -d 10 -I 1000\n";

/* what off and wall share: their targets, and where their profile goes */
#define TIME_TARGETS \
"Targets:\n"\
"  -p, --pid PID[,PID...]  these processes and all their threads, from now on\n"\
"  -a, --all               every process on the machine\n"\
"  -- COMMAND [ARG...]     run COMMAND and follow it from its first instruction,\n"\
"                          with its threads and child processes\n"\
"\n"\
"Options:\n"
#define TIME_OUTPUT \
"  -d, --duration SECONDS  stop after SECONDS (a command is stopped too: exit 0)\n"\
"  -o, --output FILE       write to FILE; .svg .folded .json .pb.gz .speedscope.json\n"\
"                          pick the format\n"\
"  -f, --format FORMAT     table, folded, svg, json, pprof (gzipped profile.proto,\n"\
"                          for go tool pprof, Pyroscope, Parca) or speedscope\n"\
"                          (default: from -o, else table)\n"\
"      --json              the same as -f json\n"\
"  -n, --rows N            table rows to show (default 25, 0: all)\n"\
"      --per-thread, --threads  split the profile by thread (as py-spy --threads)\n"\
"      --per-pid           with -a or several pids: a row per process, not per command\n"\
"      --include-self      with -a: ebprof's own process too (left out by default)\n"\
"      --no-kernel         leave out kernel frames\n"\
"      --map-size N, --fp, --unwind-rows N, --no-lineno, --no-python  as for ebprof cpu\n"\
"      --no-debuginfod     as for ebprof cpu\n"\
"      --view VIEW         python, mixed or native, as for ebprof cpu\n"\
"  -v, --verbose, --debug, -h, --help\n"

static const char off_usage[] =
"Usage: ebprof off (-p PID[,PID...] | -a | [--] COMMAND [ARG...]) [OPTIONS]\n"
"\n"
"Where threads wait: the time each one spends off the CPU (sleeping, blocked\n"
"on a lock, I/O or a pipe, or runnable and waiting for a CPU), by user,\n"
"kernel and Python stack, summed in the kernel from the scheduler's switches.\n"
"Values are times: the table and SVG show seconds and %, folded lines\n"
"microseconds, JSON says its unit.\n"
"\n"
TIME_TARGETS
"      --min-block US      leave out switches shorter than US microseconds\n"
"                          (default 1); they are counted apart\n"
"      --state             split the profile by why threads went out: [sleeping]\n"
"                          (S), [blocked] (D: uninterruptible, mostly I/O),\n"
"                          [runnable] (R: preempted, waiting for a CPU)\n"
"      --wakers            also who woke each wait, as offwaketime: above the\n"
"                          waiter's stack, after a '--' frame, the waker's stack\n"
"                          leaf first (user frames of profiled processes only)\n"
"                          and its command, or [interrupt] for a timer or a\n"
"                          device; waits that ended with no wakeup (preemption)\n"
"                          show [no waker]\n"
TIME_OUTPUT
"\n"
"Examples:\n"
"  sudo ebprof off -p 1234 -d 10\n"
"  sudo ebprof off --wakers -o wakeups.svg -p 1234\n"
"  sudo ebprof off --state -o waits.svg -- ./server\n";

static const char wall_usage[] =
"Usage: ebprof wall (-p PID[,PID...] | -a | [--] COMMAND [ARG...]) [OPTIONS]\n"
"\n"
"Where the wall-clock time of threads goes: on the CPU (clock samples at -F)\n"
"and off it (sleeping, blocked, waiting for a CPU: from the scheduler's\n"
"switches) in one profile, by user, kernel and Python stack, so that a\n"
"thread's rows add up to its time.  Idle threads count too, as py-spy\n"
"--idle shows them.  Values are times, as for ebprof off.\n"
"\n"
TIME_TARGETS
"  -F, --freq HZ           on-CPU samples per second per CPU (default 99)\n"
"      --min-block US      leave out switches shorter than US microseconds (1)\n"
"      --state             split the profile by [on-cpu], [sleeping], [blocked],\n"
"                          [runnable]\n"
TIME_OUTPUT
"\n"
"Examples:\n"
"  sudo ebprof wall --per-thread -p 1234 -d 10\n"
"  sudo ebprof wall -o wall.svg -- python3 app.py\n";

static const char mem_usage[] =
"Usage: ebprof mem (-p PID | [--] COMMAND [ARG...]) [--exact | --overhead PCT |\n"
"                  --sample-bytes N] [OPTIONS]\n"
"\n"
"Which code allocates memory, what it keeps, and what grows RSS, with full\n"
"native and Python stacks; page faults and mmap/brk by stack too.\n"
"\n"
"A COMMAND runs with ebprof's interposer preloaded: it counts every\n"
"allocation and free (exact totals, at a few ns a call) and samples the bytes\n"
"allocated for stacks, whose figures are estimates with bounds, what they\n"
"held at the peak heap among them; a CPython (3.8 on) has its object\n"
"allocator wrapped too (pymalloc kept, each block 16 bytes larger).  With -p\n"
"(and --exact, --overhead or --no-preload) uprobes on the allocator functions\n"
"the process maps: libc's malloc family, jemalloc, tcmalloc, mimalloc, one\n"
"linked in, CPython's PyObject_/PyMem_ allocators (a CPython COMMAND then runs\n"
"with PYTHONMALLOC=malloc).\n"
"\n"
"Options:\n"
"  -p, --pid PID           trace this process from now on\n"
"  -- COMMAND [ARG...]     run COMMAND and count it from its first allocation\n"
"      --sample-bytes N    a COMMAND's stacks: one sample every N bytes allocated\n"
"                          on average (K, M suffixes); by default every allocation\n"
"                          while they are few, at most 500 samples a second\n"
"                          after the first 1000 (each a system call ebprof\n"
"                          traces, ~3 us here)\n"
"      --no-preload        a COMMAND too by uprobes, as -p\n"
"      --exact             trace every allocator call by uprobes (each costs\n"
"                          7-20 us here)\n"
"      --overhead PCT      otherwise keep the uprobes' cost under PCT % of the\n"
"                          target's own CPU time (default 5): they go on and off,\n"
"                          counts are scaled by the target's work and labelled as\n"
"                          estimates (floors when calls come faster than that);\n"
"                          a target whose calls fit is counted exactly\n"
"      --leaks             report blocks still held after --min-age SECONDS (5)\n"
"      --lines[=FUNC,...]  after the report, per source line of the top functions\n"
"                          (Python, or native with DWARF; or of FUNC,...): bytes\n"
"                          allocated, still held, allocations and pages touched\n"
"                          while the line ran (memory_profiler's view)\n"
"      --count             weigh stacks by allocations instead of bytes\n"
"      --peak              weigh stacks by what they held at the peak heap (the\n"
"                          flame graph of the peak; a COMMAND's): bytes, or blocks\n"
"                          with --count\n"
"      --max-blocks N      live blocks tracked (default 1048576)\n"
"  -d, --duration SECONDS  stop after SECONDS (a command is stopped too: exit 0)\n"
"  -o, --output FILE       write to FILE; .svg .folded .json .pb.gz .speedscope.json\n"
"                          pick the format\n"
"  -f, --format FORMAT     table, folded, svg, json, pprof (gzipped profile.proto,\n"
"                          for go tool pprof, Pyroscope, Parca) or speedscope\n"
"                          (default: from -o, else table)\n"
"      --json              the same as -f json\n"
"  -n, --rows N            stacks to show per table section\n"
"      --map-size N, --unwind-rows N, --no-lineno, --no-python  as for ebprof cpu\n"
"      --no-debuginfod     as for ebprof cpu\n"
"  -v, --verbose, --debug, -h, --help\n"
"\n"
"Examples:\n"
"  sudo ebprof mem -p 1234 -d 10\n"
"  sudo ebprof mem --exact --leaks -- ./prog\n";

static const char top_usage[] =
"Usage: ebprof top (-p PID[,PID...] | -a) [OPTIONS]\n"
"\n"
"A live view of where running processes spend their CPU time, refreshed every\n"
"second: the functions with the most samples of the last seconds (self: the\n"
"function itself ran; total: it or what it called), their module and, with -a\n"
"or several pids, the command; Python functions as the profile shows them.\n"
"The same sampling as ebprof cpu.  The header: the target, the event, samples\n"
"a second, samples lost, the share of user stacks walked to their start, and\n"
"ebprof's own CPU.\n"
"\n"
"Keys:\n"
"  s         sort by self or by total\n"
"  /         show only functions whose name has a text (Enter; an empty one\n"
"            clears it; Esc gives up)\n"
"  Enter     only the process (command) of the highlighted row; Esc: back\n"
"  Up, Down, PgUp, PgDn, Home: move the highlight\n"
"  k         kernel frames on or off (off: a kernel function's time is its\n"
"            user caller's)\n"
"  l         by function or by source line (Python lines, and native lines\n"
"            where the binary has DWARF line info)\n"
"  p         pause the view (sampling goes on); p again: back to now\n"
"  z         reset the counts\n"
"  ?         help\n"
"  q         quit (also Ctrl-C)\n"
"\n"
"Targets:\n"
"  -p, --pid PID[,PID...]  these processes and all their threads\n"
"  -a, --all               every process on the machine (ebprof's own left out)\n"
"\n"
"Options:\n"
"  -F, --freq HZ           samples per second per CPU (default 99)\n"
"  -e, --event EVENT[/PERIOD]  sample on EVENT instead of cpu-clock (see\n"
"                          'ebprof --help')\n"
"      --delay SECONDS     seconds between refreshes (default 1)\n"
"      --window SECONDS    the rows count the samples of the last SECONDS\n"
"                          (default 10); the header says how many\n"
"  -d, --duration SECONDS  quit after SECONDS\n"
"      --no-kernel         start with kernel frames off\n"
"      --per-pid           with -a or several pids: a process column by pid,\n"
"                          not by command\n"
"      --include-self      with -a: ebprof's own process too\n"
"      --map-size N, --unwind-rows N, --fp, --no-python, --no-debuginfod: as\n"
"                          ebprof cpu's\n"
"  -v, --verbose, --debug  messages go to standard error after the view closes\n"
"  -h, --help\n"
"\n"
"Examples:\n"
"  sudo ebprof top -a\n"
"  sudo ebprof top -p $(pgrep -d, postgres) -F 499\n";

static const char record_usage[] =
"Usage: ebprof record (-p PID[,PID...] | -a) (--out DIR | --push URL) [OPTIONS]\n"
"\n"
"Profile continuously: a pprof profile (gzipped profile.proto) of each interval,\n"
"written into a directory that keeps within a disk budget, and/or sent to a\n"
"Grafana Pyroscope (its /ingest API), as a service does on every host of a\n"
"fleet.  The same sampling as ebprof cpu; each profile's samples carry the\n"
"process's command and pid as labels.  SIGTERM (or Ctrl-C, or -d) ends the\n"
"current interval early and writes and sends it; SIGHUP opens --log again.\n"
"\n"
"Targets:\n"
"  -p, --pid PID[,PID...]  these processes and all their threads\n"
"  -a, --all               every process on the machine (ebprof's own left out)\n"
"\n"
"Where the profiles go:\n"
"      --out DIR           write each into DIR (made if missing) as\n"
"                          ebprof-cpu-YYYYMMDDTHHMMSSZ.pb.gz, never through a\n"
"                          symbolic link\n"
"      --max-disk MB       the oldest files in DIR go when they take more than MB\n"
"                          (default 100)\n"
"      --push URL          send each to the Pyroscope at URL (http://host:4040):\n"
"                          POST URL/ingest?name=APP.cpu{host=...,service=APP,...}\n"
"                          &from&until&sampleRate&spyName=ebprof&format=pprof,\n"
"                          the profile a multipart form's 'profile' part;\n"
"                          retried with backoff (1 s doubling to 60 s) by a\n"
"                          thread of its own, so that sampling never waits\n"
"      --app NAME          the application (service) name (default ebprof)\n"
"      --label KEY=VALUE   another label of the series (up to 16)\n"
"      --max-unsent N      profiles kept while the backend does not answer; past\n"
"                          N the oldest is dropped, counted and said (default 60)\n"
"\n"
"Options:\n"
"      --interval SECONDS  what each profile covers (default 60)\n"
"  -F, --freq HZ           samples per second per CPU (default 99)\n"
"  -e, --event EVENT[/PERIOD]  sample on EVENT instead of cpu-clock\n"
"  -d, --duration SECONDS  stop after SECONDS (default: until SIGTERM or Ctrl-C)\n"
"      --log FILE          messages to FILE (appended; opened again on SIGHUP, for\n"
"                          logrotate) instead of standard error\n"
"      --no-kernel, --include-self, --map-size N, --unwind-rows N, --fp,\n"
"      --no-python, --no-debuginfod: as ebprof cpu's\n"
"  -v, --verbose           a line for each profile written and sent\n"
"      --debug, -h, --help\n"
"\n"
"Examples:\n"
"  sudo ebprof record -a --out /var/lib/ebprof --interval 60\n"
"  sudo ebprof record -a --push http://pyroscope:4040 --app web --label env=prod\n";

static const char lat_usage[] =
"Usage: ebprof lat FUNC[,FUNC...] (-p PID | [--] COMMAND [ARG...]) [OPTIONS]\n"
"\n"
"Time every call of the functions named, as a timer decorator would, without\n"
"touching the program: per function the calls, their total, min, mean, p50,\n"
"p75, p90, p99 and max, and a histogram.  A call is timed from its entry to\n"
"its return, on the CPU or not; recursion and nesting time each call; calls\n"
"that never return (longjmp, exceptions) and calls in flight at the end are\n"
"left out, not mistimed.  Each call costs the target two traps (an entry and\n"
"a return probe: 1-15 us here).\n"
"\n"
"Functions:\n"
"  FUNC                    a function by its symbol name, in the executable or\n"
"                          any library the process maps: malloc, parse_request\n"
"  LIB:FUNC                ... in that library only: libc:malloc, libssl:SSL_read,\n"
"                          /opt/app/lib/libx.so:handle (one loaded later too)\n"
"  'GLOB'                  every function that matches: 'sql_*', 'libc:str*'\n"
"  NS::CLASS::METHOD       a C++ function by its demangled name, any or given\n"
"                          parameters: 'Shape::area', 'f(int, char const*)'\n"
"                          A name that several functions have is refused with\n"
"                          the list; a glob times each of them.\n"
"\n"
"Python (CPython 3.8-3.13; the target, or what a script it runs execs):\n"
"  FUNC, CLASS.METHOD      a Python function by its name or qualified name\n"
"  MODULE:FUNC             ... in that module (a file MODULE.py); native\n"
"                          functions of a Python process need their LIB:\n"
"                          libc:malloc, libpython3.11:PyObject_Malloc\n"
"                          Python calls are followed by sampling the threads'\n"
"                          Python stacks on and off the CPU: each call's time\n"
"                          within one period; calls shorter than a few periods\n"
"                          are missed, and calls one after another from the same\n"
"                          line with no sample between them count as one.\n"
"  -F, --freq HZ           Python: samples per second (default 999)\n"
"      --exact             Python 3.8-3.10, and 3.12+ with their eval-frame hook\n"
"                          on (-X perf; set for a command ebprof runs): time\n"
"                          every call of the functions named (FUNC or\n"
"                          MODULE:FUNC, no globs) by probes on the eval loop's\n"
"                          entry instead: every Python call of the process then\n"
"                          traps twice (about 1.7 us a call here)\n"
"\n"
"Targets:\n"
"  -p, --pid PID           time the calls of this process from now on\n"
"  -- COMMAND [ARG...]     run COMMAND and time its calls from its first one\n"
"\n"
"Options:\n"
"      --per-call          also print each call as it returns (time, function,\n"
"                          duration, thread), at most 1000 a second\n"
"  -i SECONDS              also print each interval's calls every SECONDS\n"
"  -d, --duration SECONDS  stop after SECONDS (a command is stopped too: exit 0)\n"
"  -o, --output FILE       write to FILE; .json picks JSON\n"
"  -f, --format FORMAT     table or json (default: from -o, else table)\n"
"      --json              the same as -f json\n"
"      --map-size N        threads in the functions at once: N / 4 (default 4096)\n"
"      --no-python         native functions only\n"
"  -v, --verbose, --debug, -h, --help\n"
"\n"
"Examples:\n"
"  sudo ebprof lat parse_request -p 1234 -d 10\n"
"  sudo ebprof lat 'libc:malloc,libc:free' -- ./prog\n"
"  sudo ebprof lat 'Cache::get' -i 1 -p $(pidof server)\n"
"  sudo ebprof lat handle_request,db:query -- python3 app.py\n";

enum {
	OPT_NO_KERNEL = 256,
	OPT_PER_THREAD,
	OPT_PER_PID,
	OPT_INCLUDE_SELF,
	OPT_MAP_SIZE,
	OPT_DEBUG,
	OPT_FP,
	OPT_UNWIND_ROWS,
	OPT_LINES,
	OPT_NO_LINENO,
	OPT_NO_PYTHON,
	OPT_VIEW,
	OPT_NO_DEBUGINFOD,
	OPT_JSON,
	OPT_EXACT,
	OPT_OVERHEAD,
	OPT_LEAKS,
	OPT_MIN_AGE,
	OPT_COUNT,
	OPT_PEAK,
	OPT_MAX_BLOCKS,
	OPT_SAMPLE_BYTES,
	OPT_NO_PRELOAD,
	OPT_MIN_BLOCK,
	OPT_STATE,
	OPT_PER_CALL,
	OPT_WAKERS,
	OPT_DELAY,
	OPT_WINDOW,
	OPT_OUT,
	OPT_MAX_DISK,
	OPT_PUSH,
	OPT_APP,
	OPT_LABEL,
	OPT_MAX_UNSENT,
	OPT_LOG,
};

static const struct option long_opts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "all", no_argument, NULL, 'a' },
	{ "freq", required_argument, NULL, 'F' },
	{ "duration", required_argument, NULL, 'd' },
	{ "event", required_argument, NULL, 'e' },
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, 'f' },
	{ "rows", required_argument, NULL, 'n' },
	{ "no-kernel", no_argument, NULL, OPT_NO_KERNEL },
	{ "per-thread", no_argument, NULL, OPT_PER_THREAD },
	{ "threads", no_argument, NULL, OPT_PER_THREAD },	/* py-spy's name; in off's and wall's help */
	{ "per-pid", no_argument, NULL, OPT_PER_PID },
	{ "include-self", no_argument, NULL, OPT_INCLUDE_SELF },
	{ "map-size", required_argument, NULL, OPT_MAP_SIZE },
	{ "debug", no_argument, NULL, OPT_DEBUG },
	{ "fp", no_argument, NULL, OPT_FP },
	{ "unwind-rows", required_argument, NULL, OPT_UNWIND_ROWS },
	{ "lines", optional_argument, NULL, OPT_LINES },
	{ "no-lineno", no_argument, NULL, OPT_NO_LINENO },
	{ "no-python", no_argument, NULL, OPT_NO_PYTHON },
	{ "view", required_argument, NULL, OPT_VIEW },
	{ "no-debuginfod", no_argument, NULL, OPT_NO_DEBUGINFOD },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "exact", no_argument, NULL, OPT_EXACT },
	{ "overhead", required_argument, NULL, OPT_OVERHEAD },
	{ "leaks", no_argument, NULL, OPT_LEAKS },
	{ "min-age", required_argument, NULL, OPT_MIN_AGE },
	{ "count", no_argument, NULL, OPT_COUNT },
	{ "peak", no_argument, NULL, OPT_PEAK },
	{ "max-blocks", required_argument, NULL, OPT_MAX_BLOCKS },
	{ "sample-bytes", required_argument, NULL, OPT_SAMPLE_BYTES },
	{ "no-preload", no_argument, NULL, OPT_NO_PRELOAD },
	{ "min-block", required_argument, NULL, OPT_MIN_BLOCK },
	{ "state", no_argument, NULL, OPT_STATE },
	{ "per-call", no_argument, NULL, OPT_PER_CALL },
	{ "wakers", no_argument, NULL, OPT_WAKERS },
	{ "delay", required_argument, NULL, OPT_DELAY },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "max-disk", required_argument, NULL, OPT_MAX_DISK },
	{ "push", required_argument, NULL, OPT_PUSH },
	{ "app", required_argument, NULL, OPT_APP },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "max-unsent", required_argument, NULL, OPT_MAX_UNSENT },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "repeat", required_argument, NULL, 'r' },
	{ "interval", required_argument, NULL, 'I' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/*
 * The modes, and the options each takes: an option a mode does not take
 * is refused with one line that says so, whatever it is.
 */
#define M_CPU (1u << MODE_CPU)
#define M_STAT (1u << MODE_STAT)
#define M_MEM (1u << MODE_MEM)
#define M_OFF (1u << MODE_OFF)
#define M_WALL (1u << MODE_WALL)
#define M_LAT (1u << MODE_LAT)
#define M_TOP (1u << MODE_TOP)
#define M_REC (1u << MODE_RECORD)
/* the modes that write a report (not top) */
#define M_ALL (M_CPU | M_STAT | M_MEM | M_OFF | M_WALL | M_LAT)

static const struct {
	const char *name;
	enum ebprof_mode mode;
	const char *usage;
} cli_modes[] = {
	{ "cpu", MODE_CPU, usage },
	{ "stat", MODE_STAT, stat_usage },
	{ "mem", MODE_MEM, mem_usage },
	{ "off", MODE_OFF, off_usage },
	{ "wall", MODE_WALL, wall_usage },
	{ "lat", MODE_LAT, lat_usage },
	{ "top", MODE_TOP, top_usage },
	{ "record", MODE_RECORD, record_usage },
};

static const struct {
	int opt;		/* getopt's value */
	const char *name;
	unsigned int modes;	/* the modes that take it (ebprof mem's -a: a message of its own) */
	const char *hint;	/* for the others */
} opt_modes[] = {
	{ 'p', "-p", M_ALL | M_TOP | M_REC, NULL },
	{ 'a', "-a", M_ALL | M_TOP | M_REC, NULL },
	{ 'd', "-d", M_ALL | M_TOP | M_REC, NULL },
	{ 'o', "-o", M_ALL, NULL },
	{ 'v', "-v", M_ALL | M_TOP | M_REC, NULL },
	{ 'h', "-h", M_ALL | M_TOP | M_REC, NULL },
	{ 'V', "-V", M_ALL | M_TOP | M_REC, NULL },
	{ OPT_DEBUG, "--debug", M_ALL | M_TOP | M_REC, NULL },
	{ 'F', "-F", M_CPU | M_WALL | M_LAT | M_TOP | M_REC, NULL },
	{ 'e', "-e", M_CPU | M_STAT | M_TOP | M_REC, NULL },
	{ OPT_PER_THREAD, "--per-thread", M_CPU | M_STAT | M_OFF | M_WALL, NULL },
	{ OPT_PER_PID, "--per-pid", M_CPU | M_OFF | M_WALL | M_TOP, NULL },
	{ OPT_INCLUDE_SELF, "--include-self", M_CPU | M_OFF | M_WALL | M_TOP | M_REC, NULL },
	{ 'f', "-f", M_ALL, NULL },
	{ 'n', "-n", M_CPU | M_MEM | M_OFF | M_WALL, NULL },
	{ OPT_MAP_SIZE, "--map-size", M_CPU | M_MEM | M_OFF | M_WALL | M_LAT | M_TOP | M_REC, NULL },
	{ OPT_UNWIND_ROWS, "--unwind-rows", M_CPU | M_MEM | M_OFF | M_WALL | M_TOP | M_REC, NULL },
	{ OPT_NO_LINENO, "--no-lineno", M_CPU | M_MEM | M_OFF | M_WALL, NULL },
	{ OPT_NO_PYTHON, "--no-python", M_CPU | M_MEM | M_OFF | M_WALL | M_LAT | M_TOP | M_REC, NULL },
	{ OPT_VIEW, "--view", M_CPU | M_OFF | M_WALL, NULL },
	{ OPT_NO_DEBUGINFOD, "--no-debuginfod", M_CPU | M_MEM | M_OFF | M_WALL | M_TOP | M_REC, NULL },
	{ OPT_NO_KERNEL, "--no-kernel", M_CPU | M_OFF | M_WALL | M_TOP | M_REC, NULL },
	{ OPT_FP, "--fp", M_CPU | M_OFF | M_WALL | M_TOP | M_REC, NULL },
	{ OPT_LINES, "--lines", M_CPU | M_MEM, NULL },
	{ 'r', "-r", M_STAT, NULL },
	{ 'I', "-I", M_STAT | M_REC, "ebprof lat takes -i SECONDS" },
	{ 'i', "-i", M_LAT, NULL },
	{ OPT_PER_CALL, "--per-call", M_LAT, NULL },
	{ OPT_JSON, "--json", M_ALL, NULL },
	{ OPT_EXACT, "--exact", M_MEM | M_LAT, NULL },
	{ OPT_OVERHEAD, "--overhead", M_MEM, NULL },
	{ OPT_LEAKS, "--leaks", M_MEM, NULL },
	{ OPT_MIN_AGE, "--min-age", M_MEM, NULL },
	{ OPT_COUNT, "--count", M_MEM, NULL },
	{ OPT_PEAK, "--peak", M_MEM, NULL },
	{ OPT_MAX_BLOCKS, "--max-blocks", M_MEM, NULL },
	{ OPT_SAMPLE_BYTES, "--sample-bytes", M_MEM, NULL },
	{ OPT_NO_PRELOAD, "--no-preload", M_MEM, NULL },
	{ OPT_MIN_BLOCK, "--min-block", M_OFF | M_WALL, NULL },
	{ OPT_STATE, "--state", M_OFF | M_WALL, NULL },
	{ OPT_WAKERS, "--wakers", M_OFF, "who woke a thread is ebprof off's" },
	{ OPT_DELAY, "--delay", M_TOP, NULL },
	{ OPT_WINDOW, "--window", M_TOP, NULL },
	{ OPT_OUT, "--out", M_REC, NULL },
	{ OPT_MAX_DISK, "--max-disk", M_REC, NULL },
	{ OPT_PUSH, "--push", M_REC, NULL },
	{ OPT_APP, "--app", M_REC, NULL },
	{ OPT_LABEL, "--label", M_REC, NULL },
	{ OPT_MAX_UNSENT, "--max-unsent", M_REC, NULL },
	{ OPT_LOG, "--log", M_REC, NULL },
};

/* the mode being parsed: errors point at its help */
static const char *parsing_mode = "cpu";

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "ebprof: ");
	fprintf(stderr, fmt, arg);
	if (strcmp(parsing_mode, "cpu"))
		fprintf(stderr, " (see 'ebprof %s --help')\n", parsing_mode);
	else
		fprintf(stderr, " (see 'ebprof --help')\n");
	return -EINVAL;
}

static int bad_option(const char *opt, enum ebprof_mode mode, const char *hint)
{
	const char *name = "cpu";

	for (size_t i = 0; i < sizeof(cli_modes) / sizeof(cli_modes[0]); i++)
		if (cli_modes[i].mode == mode)
			name = cli_modes[i].name;
	fprintf(stderr, "ebprof: %s is not an option of ebprof %s%s%s (see 'ebprof %s --help')\n", opt, name,
		hint ? "; " : "", hint ? hint : "", name);
	return -EINVAL;
}

static int parse_long(const char *arg, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* a number of *min* to *max* (finite): 0 or -EINVAL */
static int parse_double(const char *arg, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= min) || !(v <= max))
		return -EINVAL;
	*out = v;
	return 0;
}

int cli_parse_pids(const char *arg, struct ebprof_opts *o)
{
	const char *p = arg;

	while (*p) {
		char buf[16];
		size_t len = strcspn(p, ",");
		long v;

		if (!len || len >= sizeof(buf) || o->npids >= MAX_PIDS)
			return -EINVAL;
		memcpy(buf, p, len);
		buf[len] = '\0';
		if (parse_long(buf, 1, INT_MAX, &v))
			return -EINVAL;
		o->pids[o->npids++] = (int)v;
		p += len;
		if (*p == ',') {
			p++;
			if (!*p)
				return -EINVAL;
		}
	}
	return o->npids ? 0 : -EINVAL;
}

int cli_parse_event(const char *spec, struct ebprof_event_spec *ev)
{
	size_t len = strcspn(spec, "/");
	const struct stat_event *se;
	char name[64];

	if (len >= sizeof(name))
		return -EINVAL;
	memcpy(name, spec, len);
	name[len] = 0;
	se = stat_event_find(name);
	if (!se || se->type == STAT_PSEUDO)
		return -ENOENT;
	memset(ev, 0, sizeof(*ev));
	ev->name = se->name;
	ev->type = se->type;
	ev->config = se->config;
	ev->timer = se->type == PERF_TYPE_SOFTWARE &&
		    (se->config == PERF_COUNT_SW_CPU_CLOCK || se->config == PERF_COUNT_SW_TASK_CLOCK);
	if (spec[len] == '/') {
		long v;

		if (parse_long(spec + len + 1, 1, LONG_MAX, &v))
			return -ERANGE;
		ev->period = v;
	}
	return 0;
}

/* one event of -e, into *ev*: prints why not */
static int parse_one_event(const char *spec, struct ebprof_event_spec *ev)
{
	int err = cli_parse_event(spec, ev);
	char name[64];

	if (err == -ERANGE) {
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(spec, "/"), spec);
		fprintf(stderr, "ebprof: invalid period '%s' of %s: give a count of events per sample, as in %s/10000"
			" (see 'ebprof --help')\n", spec + strlen(name) + 1, name, name);
	} else if (err) {
		bad("unknown event '%s'", spec);
	}
	return err ? -EINVAL : 0;
}

/* "cycles" or "cycles,instructions" (with /PERIOD each): prints why not */
static int parse_cpu_events(const char *arg, struct ebprof_opts *o)
{
	char buf[256], *comma;

	snprintf(buf, sizeof(buf), "%s", arg);
	comma = strchr(buf, ',');
	if (comma) {
		*comma = 0;
		if (strchr(comma + 1, ',')) {
			bad("at most two events to sample, as in -e cycles,instructions: '%s'", arg);
			return -EINVAL;
		}
		if (parse_one_event(comma + 1, &o->event2))
			return -EINVAL;
	}
	if (parse_one_event(buf, &o->event))
		return -EINVAL;
	o->nevents = comma ? 2 : 1;
	if (o->nevents == 2 && (o->event.timer || o->event2.timer)) {
		bad("a clock cannot be one of two events: '%s'", arg);
		return -EINVAL;
	}
	return 0;
}

/* "cycles,instructions": into o->stat.events; prints why not */
static int parse_stat_events(const char *arg, struct ebprof_opts *o)
{
	char buf[1024], *save = NULL, *tok;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", arg);
	while (o->stat.events[n])
		n++;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct stat_event *ev = stat_event_find(tok);

		if (!ev && strchr(tok, '/')) {
			bad("ebprof stat counts every event: no /PERIOD, as in '%s'", tok);
			return -EINVAL;
		}
		if (!ev) {
			bad("unknown event '%s'", tok);
			return -EINVAL;
		}
		if (n >= STAT_MAX_EVENTS) {
			bad("too many events: at most %s", "48");
			return -EINVAL;
		}
		o->stat.events[n++] = ev;
	}
	o->stat.events[n] = NULL;
	return 0;
}

/*
 * "--lines FUNC -p 42": is argv[i] the function for --lines?  Yes when a
 * target option or "--" follows it, so that "--lines python3 x.py" still
 * launches python3.
 */
static bool names_function(int argc, char **argv, int i)
{
	int k;

	for (k = i + 1; k < argc; k++) {
		const char *a = argv[k];

		if (!strcmp(a, "--") || !strncmp(a, "-p", 2) || !strcmp(a, "-a") ||
		    !strncmp(a, "--pid", 5) || !strcmp(a, "--all"))
			return true;
	}
	return false;
}

static void defaults(struct ebprof_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = MODE_CPU;
	o->freq = 99;
	o->rows = 25;
	o->map_size = 16384;
	o->unwind_rows = 2 << 20;
	o->mem.min_age = -1;
	o->off.min_block_us = 1;
	o->lat.call_limit = 1000;
	o->mem.max_blocks = 1 << 20;
	o->view = -1;
	o->top.delay = 1;
	o->top.window = 10;
	o->record.interval = 60;
	o->record.max_disk_mb = 100;
	o->record.app = "ebprof";
	o->record.max_unsent = 60;
	cli_parse_event("cpu-clock", &o->event);
	o->nevents = 1;
}

/* edits that make *a* into *b* (Levenshtein), for names of a few letters */
static size_t edits(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[32], i, j;

	if (la >= 31 || lb >= 31)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = d[0];

		d[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = d[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (d[j - 1] + 1 < best)
				best = d[j - 1] + 1;
			diag = up;
			d[j] = best;
		}
	}
	return d[lb];
}

/* is *name* a command: a path, or found on $PATH */
static bool is_command(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (strchr(name, '/'))
		return true;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, len ? path : ".", name);
		if (!access(buf, X_OK))
			return true;
		path += len + (path[len] == ':');
	}
	return false;
}

/* the first word names no command but is close to a mode: say which; 0 otherwise */
static int not_a_command(const char *word)
{
	const char *best = NULL;
	size_t i, d, least = 3;	/* at most two edits away */

	for (i = 0; i < sizeof(cli_modes) / sizeof(cli_modes[0]); i++) {
		d = edits(word, cli_modes[i].name);
		if (d < least) {
			least = d;
			best = cli_modes[i].name;
		}
	}
	if (!best || is_command(word))
		return 0;
	fprintf(stderr, "ebprof: '%s' is not a mode of ebprof nor a command; did you mean 'ebprof %s'? (see 'ebprof --help')\n",
		word, best);
	return -EINVAL;
}

const char *cli_mode_usage(const char *name)
{
	for (size_t i = 0; i < sizeof(cli_modes) / sizeof(cli_modes[0]); i++)
		if (!strcmp(name, cli_modes[i].name))
			return cli_modes[i].usage;
	return NULL;
}

int cli_parse(int argc, char **argv, struct ebprof_opts *o)
{
	int c, targets, err;
	long v;

	defaults(o);
	parsing_mode = "cpu";
	for (size_t i = 0; argc > 1 && i < sizeof(cli_modes) / sizeof(cli_modes[0]); i++) {
		if (!strcmp(argv[1], cli_modes[i].name)) {
			o->mode = cli_modes[i].mode;
			parsing_mode = cli_modes[i].name;
			argc--;
			argv++;
			break;
		}
	}
	optind = 0;	/* glibc: start afresh, also on a second call */
	opterr = 0;
again:
	while ((c = getopt_long(argc, argv, "+:p:aF:d:e:o:f:n:r:I:i:vhV", long_opts, NULL)) != -1) {
		for (size_t i = 0; i < sizeof(opt_modes) / sizeof(opt_modes[0]); i++)
			if (opt_modes[i].opt == c && !(opt_modes[i].modes & (1u << o->mode)))
				return bad_option(opt_modes[i].name, o->mode, opt_modes[i].hint);
		switch (c) {
		case 'p':
			if (cli_parse_pids(optarg, o))
				return bad("invalid PID list '%s': give process ids like 1234 or 12,34", optarg);
			break;
		case 'a':
			o->all = true;
			break;
		case 'F':
			if (parse_long(optarg, 1, 100000, &v))
				return bad("invalid frequency '%s': give 1 to 100000 Hz", optarg);
			o->freq = (unsigned int)v;
			o->freq_set = true;
			break;
		case 'd': {
			char *end;

			errno = 0;
			o->duration = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->duration > 0) || !isfinite(o->duration))
				return bad("invalid duration '%s': give seconds > 0", optarg);
			break;
		}
		case 'e':
			if (o->mode == MODE_STAT) {
				if (parse_stat_events(optarg, o))
					return -EINVAL;
			} else if (parse_cpu_events(optarg, o)) {
				return -EINVAL;
			}
			break;
		case 'r':
			if (parse_long(optarg, 1, STAT_MAX_RUNS, &v))
				return bad("invalid run count '%s': give 1 to 100", optarg);
			o->stat.repeat = (int)v;
			break;
		case 'I':
			if (o->mode == MODE_RECORD) {
				if (parse_double(optarg, 1, 86400, &o->record.interval))
					return bad("invalid interval '%s': give 1 to 86400 seconds", optarg);
				break;
			}
			if (parse_long(optarg, 10, 3600 * 1000, &v))
				return bad("invalid interval '%s': give 10 ms or more", optarg);
			o->stat.interval_ms = (unsigned int)v;
			break;
		case 'i': {
			char *end;

			errno = 0;
			o->lat.interval = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->lat.interval >= 0.01) || o->lat.interval > 86400)
				return bad("invalid interval '%s': give seconds, 0.01 or more", optarg);
			break;
		}
		case OPT_PER_CALL:
			o->lat.per_call = true;
			break;
		case OPT_JSON:
			o->format = FORMAT_JSON;
			o->format_set = true;
			break;
		case OPT_EXACT:
			if (o->mode == MODE_LAT)
				o->lat.exact = true;
			else
				o->mem.exact = true;
			break;
		case OPT_OVERHEAD: {
			char *end;

			o->mem.overhead = strtod(optarg, &end);
			if (end == optarg || *end || !(o->mem.overhead > 0) || o->mem.overhead > 1000)
				return bad("invalid overhead '%s': give a percentage such as 5", optarg);
			break;
		}
		case OPT_LEAKS:
			o->mem.leaks = true;
			break;
		case OPT_MIN_AGE: {
			char *end;

			o->mem.min_age = strtod(optarg, &end);
			if (end == optarg || *end || !(o->mem.min_age >= 0) || !isfinite(o->mem.min_age))
				return bad("invalid age '%s': give seconds", optarg);
			break;
		}
		case OPT_COUNT:
			o->mem.count = true;
			break;
		case OPT_PEAK:
			o->mem.peak = true;
			break;
		case OPT_MIN_BLOCK: {
			char *end;

			o->off.min_block_us = strtod(optarg, &end);
			if (end == optarg || *end || !(o->off.min_block_us >= 0) || o->off.min_block_us > 1e9)
				return bad("invalid --min-block '%s': give microseconds, 0 or more", optarg);
			break;
		}
		case OPT_STATE:
			o->off.state = true;
			break;
		case OPT_WAKERS:
			o->off.wakers = true;
			break;
		case OPT_OUT:
		case OPT_LOG:
			if (!*optarg)
				return bad("empty file name%s", "");
			if (c == OPT_OUT)
				o->record.out = optarg;
			else
				o->record.log = optarg;
			break;
		case OPT_MAX_DISK:
			if (parse_double(optarg, 1e-6, 1e7, &o->record.max_disk_mb))
				return bad("invalid --max-disk '%s': give megabytes (0.5: 512 KiB)", optarg);
			break;
		case OPT_PUSH:
			if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8))
				return bad("invalid --push URL '%s': give http://HOST:PORT or https://...", optarg);
			o->record.push = optarg;
			break;
		case OPT_APP:
			if (!*optarg || optarg[strspn(optarg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")])
				return bad("invalid --app '%s': letters, digits, '_', '.' and '-' only", optarg);
			o->record.app = optarg;
			break;
		case OPT_LABEL: {
			const char *eq = strchr(optarg, '=');
			size_t klen = eq ? (size_t)(eq - optarg) : 0;
			static const char key_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";

			if (!eq || !klen || strspn(optarg, key_chars) != klen || (optarg[0] >= '0' && optarg[0] <= '9') ||
			    !eq[1] || strpbrk(eq + 1, ",{}=\"\\ "))
				return bad("invalid --label '%s': give KEY=VALUE, the key letters, digits and '_', the value without , { } = \" or spaces", optarg);
			if (o->record.nlabels == RECORD_MAX_LABELS)
				return bad("too many labels: at most %s", "16");
			o->record.labels[o->record.nlabels++] = optarg;
			break;
		}
		case OPT_MAX_UNSENT:
			if (parse_long(optarg, 1, 100000, &v))
				return bad("invalid --max-unsent '%s': give 1 to 100000", optarg);
			o->record.max_unsent = (unsigned int)v;
			break;
		case OPT_DELAY:
		case OPT_WINDOW:
			if (parse_double(optarg, 0.1, 3600, c == OPT_DELAY ? &o->top.delay : &o->top.window))
				return bad("invalid number of seconds '%s': give 0.1 to 3600", optarg);
			break;
		case OPT_SAMPLE_BYTES: {
			char *end;
			double b = strtod(optarg, &end);

			if (end != optarg && (*end == 'k' || *end == 'K'))
				b *= 1024, end++;
			else if (end != optarg && (*end == 'm' || *end == 'M'))
				b *= 1 << 20, end++;
			if (end == optarg || *end || !(b >= 1 && b <= (double)(1ULL << 40)))
				return bad("invalid --sample-bytes '%s': give 1 to 1T bytes (K and M suffixes)", optarg);
			o->mem.sample_bytes = (uint64_t)b;
			break;
		}
		case OPT_NO_PRELOAD:
			o->mem.no_preload = true;
			break;
		case OPT_MAX_BLOCKS:
			if (parse_long(optarg, 1024, 1 << 26, &v))
				return bad("invalid block count '%s': give 1024 to 67108864", optarg);
			o->mem.max_blocks = (unsigned int)v;
			break;
		case 'o':
			if (!*optarg)
				return bad("empty output file name%s", "");
			o->output = optarg;
			break;
		case 'f':
			if (o->mode == MODE_STAT && strcmp(optarg, "table") && strcmp(optarg, "json"))
				return bad("unknown format '%s': ebprof stat writes a table or json", optarg);
			if (o->mode == MODE_LAT && strcmp(optarg, "table") && strcmp(optarg, "json"))
				return bad("unknown format '%s': ebprof lat writes a table or json", optarg);
			if (render_parse_format(optarg, &o->format))
				return bad("unknown format '%s': use table, folded, svg, json, pprof or speedscope", optarg);
			o->format_set = true;
			break;
		case 'n':
			if (parse_long(optarg, 0, INT_MAX, &v))
				return bad("invalid row count '%s'", optarg);
			o->rows = (int)v;
			break;
		case OPT_NO_KERNEL:
			o->no_kernel = true;
			break;
		case OPT_PER_THREAD:
			o->per_thread = true;
			break;
		case OPT_PER_PID:
			o->per_pid = true;
			break;
		case OPT_INCLUDE_SELF:
			o->include_self = true;
			break;
		case OPT_MAP_SIZE:
			if (parse_long(optarg, 64, 1 << 24, &v))
				return bad("invalid map size '%s': give 64 to 16777216 entries", optarg);
			o->map_size = (unsigned int)v;
			break;
		case OPT_DEBUG:
			o->debug = true;
			break;
		case OPT_FP:
			o->fp = true;
			break;
		case OPT_UNWIND_ROWS:
			if (parse_long(optarg, 1024, 1 << 28, &v))
				return bad("invalid row count '%s': give 1024 to 268435456", optarg);
			o->unwind_rows = (unsigned int)v;
			break;
		case OPT_LINES:
			o->lines = true;
			if (optarg) {
				if (!*optarg)
					return bad("empty function name for --lines%s", "");
				o->lines_func = optarg;
			} else if (optind < argc && argv[optind][0] != '-' && names_function(argc, argv, optind)) {
				o->lines_func = argv[optind++];
			}
			break;
		case OPT_NO_LINENO:
			o->no_lineno = true;
			break;
		case OPT_VIEW:
			if (!strcmp(optarg, "mixed"))
				o->view = PROFILE_VIEW_MIXED;
			else if (!strcmp(optarg, "python"))
				o->view = PROFILE_VIEW_PYTHON;
			else if (!strcmp(optarg, "native"))
				o->view = PROFILE_VIEW_NATIVE;
			else
				return bad("unknown view '%s': use python, mixed or native", optarg);
			break;
		case OPT_NO_DEBUGINFOD:
			o->no_debuginfod = true;
			break;
		case OPT_NO_PYTHON:
			o->no_python = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			for (size_t i = 0; i < sizeof(cli_modes) / sizeof(cli_modes[0]); i++)
				if (cli_modes[i].mode == o->mode)
					fputs(cli_modes[i].usage, stdout);
			return 1;
		case 'V':
			printf("ebprof %s\n", EBPROF_VERSION);
			return 1;
		case ':':
			return bad("option '%s' needs a value", argv[optind - 1]);
		default:
			if (optopt && optopt < 256) {
				char opt[3] = { '-', (char)optopt, 0 };

				return bad("unknown option '%s'", opt);
			}
			return bad("unknown option '%s'", argv[optind - 1]);
		}
	}
	/* ebprof lat FUNC ...: the first word that is no option; the options go on after it */
	if (o->mode == MODE_LAT && !o->lat.funcs && optind < argc && optind > 0 && strcmp(argv[optind - 1], "--")) {
		o->lat.funcs = argv[optind++];
		goto again;
	}
	if (optind < argc)
		o->cmd = &argv[optind];
	/* "ebprof stats -- x": a mode mistyped, not a command to run */
	if (optind == 1 && o->cmd && (err = not_a_command(o->cmd[0])))
		return err;
	if (!o->format_set)
		o->format = o->output ? render_format_for_path(o->output) : FORMAT_TABLE;
	if (o->mode == MODE_STAT && o->format != FORMAT_TABLE && o->format != FORMAT_JSON)
		o->format = FORMAT_TABLE;	/* -o x.svg: a table, as perf stat -o writes */
	o->stat.json = o->mode == MODE_STAT && o->format == FORMAT_JSON;
	if (o->mode == MODE_LAT) {
		if (!o->lat.funcs)
			return bad("name the functions to time: ebprof lat FUNC[,FUNC...] (-p PID | COMMAND)%s", "");
		if (o->format != FORMAT_TABLE && o->format != FORMAT_JSON)
			return bad("ebprof lat writes a table or json: '%s' is neither", o->output ? o->output : "-f");
		if (o->all || o->npids > 1)
			return bad("ebprof lat times the calls of one process: give -p PID or a command%s", "");
	}
	if (o->mode == MODE_TOP) {
		if (o->cmd)
			return bad("ebprof top shows running processes: give -p PID or -a, not a command%s", "");
		if (o->nevents > 1)
			return bad("ebprof top samples one event%s", "");
		if (o->top.window < o->top.delay)
			return bad("the --window is shorter than the --delay between refreshes%s", "");
		/* the view by line needs native frames of their line */
		o->line_frames = true;
	}
	/* mem --lines: native frames of a known line too, as Python's are */
	if (o->mode == MODE_MEM && o->lines)
		o->line_frames = true;
	if (o->mode == MODE_RECORD) {
		if (o->cmd)
			return bad("ebprof record profiles running processes: give -p PID or -a, not a command%s", "");
		if (o->nevents > 1)
			return bad("ebprof record samples one event%s", "");
		if (!o->record.out && !o->record.push)
			return bad("say where the profiles go: --out DIR, --push URL or both%s", "");
	}
	targets = (o->npids > 0) + o->all + (o->cmd != NULL);
	if (targets == 0)
		return bad("nothing to profile: give -p PID, -a or a command%s", "");
	if (targets > 1)
		return bad("give only one of -p PID, -a and a command%s", "");
	if (o->mode == MODE_STAT) {
		if (o->stat.repeat > 1 && !o->cmd)
			return bad("-r needs a command to run again%s", "");
		return 0;
	}
	if (o->mode == MODE_MEM) {
		if (o->all || o->npids > 1)
			return bad("ebprof mem traces one process: give -p PID or a command%s", "");
		if (o->mem.exact && o->mem.overhead > 0)
			return bad("give --exact or --overhead, not both%s", "");
		if (o->mem.min_age >= 0 && !o->mem.leaks)
			return bad("--min-age is the age of --leaks: give --leaks too%s", "");
		/* --exact and --overhead choose the probes on the allocators */
		if (o->mem.sample_bytes && (!o->cmd || o->mem.exact || o->mem.overhead > 0 || o->mem.no_preload))
			return bad("--sample-bytes is for a command launched with the interposer: not with -p, --exact, --overhead or --no-preload%s", "");
		if (o->mem.peak && (!o->cmd || o->mem.exact || o->mem.overhead > 0 || o->mem.no_preload))
			return bad("--peak is for a command launched with the interposer: not with -p, --exact, --overhead or --no-preload%s", "");
		o->mem.preload = o->cmd && !o->mem.exact && !(o->mem.overhead > 0) && !o->mem.no_preload;
	}
	if (o->mem.overhead <= 0)
		o->mem.overhead = 5;
	if (o->mem.min_age < 0)
		o->mem.min_age = 5;
	return 0;
}
