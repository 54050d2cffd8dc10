// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mem_report.c - ebprof mem's table and JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "mem.h"
#include "memshm.h"
#include "render/render.h"
#include "util/grow.h"
#include "util/json.h"

void mem_report__free(void *report)
{
	struct mem_report *m = report;
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nsites; i++)
		free(m->sites[i].frames);
	free(m->sites);
	free(m);
}

int mem_render(const struct profile *p, int format, const struct render_opts *o, FILE *out)
{
	const struct mem_report *m = p->ext;

	if (format == FORMAT_TABLE)
		return mem_render_table(m, o->rows, out);
	if (format == FORMAT_JSON)
		return mem_render_json(m, out);
	return render_for(format)(p, o, out);
}

/* 1536 -> "1.5 KiB" */
static const char *human(uint64_t b, char *buf, size_t len)
{
	static const struct profile_value bytes = { "bytes", "bytes" };

	return render_value(&bytes, b, buf, len);
}

static const struct mem_report *sort_report;
static int sort_key;	/* 0 bytes, 1 faults, 2 leaks, 3 held at the peak */

static uint64_t site_key(const struct mem_site *s, int key)
{
	return key == 0 ? s->bytes : key == 1 ? s->faults : key == 2 ? s->leak_bytes : s->peak_bytes;
}

static int cmp_site(const void *a, const void *b)
{
	const struct mem_site *x = &sort_report->sites[*(const size_t *)a];
	const struct mem_site *y = &sort_report->sites[*(const size_t *)b];
	uint64_t vx = site_key(x, sort_key), vy = site_key(y, sort_key);

	if (vx != vy)
		return vx > vy ? -1 : 1;
	if (x->allocs != y->allocs)
		return x->allocs > y->allocs ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* site indexes sorted by *key*, those with a non-zero value */
static size_t *sorted_sites(const struct mem_report *m, int key, size_t *n)
{
	size_t *idx = malloc((m->nsites + 1) * sizeof(*idx)), i, k = 0;

	if (!idx)
		return NULL;
	for (i = 0; i < m->nsites; i++) {
		if (site_key(&m->sites[i], key))
			idx[k++] = i;
	}
	sort_report = m;
	sort_key = key;
	qsort(idx, k, sizeof(*idx), cmp_site);
	*n = k;
	return idx;
}

static void print_stack(const struct mem_report *m, const struct mem_site *s, FILE *out)
{
	int i;

	for (i = (int)s->nframes - 1; i >= 0; i--) {
		const struct frame *f = profile__frame_at(m->prof, s->frames[i]);

		fprintf(out, "        %s%s%s\n", f->func, f->python || !f->module[0] ? "" : "  ",
			f->python ? "" : f->module);
	}
}

/*
 * What the counts seen stand for.  The target's calls are taken to be in
 * proportion to its own work (its CPU time less the probes' cost), so the
 * counts are scaled by all its work over its work while the probes were
 * on.  The probes' cost is calibrated here, not in the target: a free's
 * trap came to 11-18 us from run to run, and the traps of windows opening
 * and closing (uncounted) weigh on the books apart from the counted ones,
 * so the estimate is taken to be good to 5 % + 35 % of cost / work.  Above
 * 2 (the probes cost more than twice the work
 * between calls: an allocation storm) the work is lost in that
 * uncertainty and only a floor is known: the counts scaled as if the
 * probes had cost nothing.
 */
#define MEM_COST_UNCERTAINTY 0.35
#define MEM_MAX_X 2.0

void mem_report__estimate(struct mem_report *m, bool exact, int windows, double work_on, double work_off, double cost)
{
	double all = work_on + work_off;

	m->exact = exact;
	m->floor_only = m->few_windows = false;
	m->uncertainty = 0;
	m->share = 1;
	m->scale = 1;
	m->cost_s = cost;
	m->work_s = all;
	m->windows = windows;
	m->probe_x = work_on > 0 ? cost / work_on : -1;
	if (m->exact)
		return;
	if (windows < MEM_MIN_WINDOWS) {
		/*
		 * A window or two of a short run may fall in its start-up or in
		 * its busiest part: scaled, they could say anything.  What they
		 * saw is all that is known.
		 */
		m->floor_only = true;
		m->few_windows = true;
		m->share = all > 0 ? work_on / all : 0;
		return;
	}
	if (work_on > 0 && cost <= MEM_MAX_X * work_on) {
		m->share = work_on / all;
		m->scale = all / work_on;
		m->uncertainty = 0.05 + MEM_COST_UNCERTAINTY * cost / work_on;
	} else if (work_on + cost > 0) {
		/* as if the probes had cost nothing: all the CPU time while on was work */
		m->floor_only = true;
		m->share = (work_on + cost) / (all + cost);
		m->scale = 1 / m->share;
	}
}

/*
 * the exact total less the stacks' estimates of it (*left*) is news when
 * beyond their noise and over 5 % of *total*
 */
static bool unattributed_shown(double left, double var, uint64_t total)
{
	return fabs(left) > MEM_BOUND_SIGMAS * sqrt(var) && fabs(left) > 0.05 * (double)total;
}

/* an estimate's bound from its variance: MEM_BOUND_SIGMAS standard deviations */
static uint64_t bound(double var)
{
	return var > 0 ? (uint64_t)llround(MEM_BOUND_SIGMAS * sqrt(var)) : 0;
}

int mem_render_table(const struct mem_report *m, int rows, FILE *out)
{
	char a[32], b[32], c[32], since[48] = "";
	size_t n, i, *idx;
	double est = m->exact ? 1.0 : m->share;
	/* the program it ran last was never counted: no counts, no cost */
	bool uncounted = m->not_loaded && m->not_loaded_at < 0;
	int k, shown;

	if (rows <= 0)
		rows = 1 << 30;
	/* probed only once the interposer was found missing (below) */
	if (m->not_loaded && m->not_loaded_at >= 0)
		snprintf(since, sizeof(since), " from %.1f s into the run", m->not_loaded_at);
	fprintf(out, "# ebprof mem: %s, %.2f s, ", m->target, m->duration);
	if (m->interposed && m->sample_adaptive)
		fprintf(out, "every call counted by ebprof's interposer; stacks from %" PRIu64 " samples (every allocation while\n"
			"# they came slower than %d a second, else one per up to %s allocated on average):\n"
			"# the totals are exact, the figures by stack estimates +- %d standard deviations\n",
			m->samples - m->lost_samples, EBMEM_MAX_RATE, human(m->sample_max, a, sizeof(a)), MEM_BOUND_SIGMAS);
	else if (m->interposed)
		fprintf(out, "every call counted by ebprof's interposer; stacks from %" PRIu64 " samples (one per %s allocated on average):\n"
			"# the totals are exact, the figures by stack estimates +- %d standard deviations\n",
			m->samples - m->lost_samples, human(m->sample_bytes, a, sizeof(a)), MEM_BOUND_SIGMAS);
	else if (uncounted)
		fprintf(out, "NOT COUNTED: the program it ran last ran without ebprof's interposer (below)\n");
	else if (m->exact && m->overhead_pct > 0)
		fprintf(out, "exact%s: the probes stayed on within --overhead %g %%: every allocator call traced (%d functions)\n",
			since, m->overhead_pct, m->nprobes);
	else if (m->exact)
		fprintf(out, "exact%s (--exact): every allocator call traced (%d functions)\n", since, m->nprobes);
	else if (m->few_windows)
		fprintf(out, "sampled: the probes saw %.1f %% of the target's CPU time in %d windows, too few to scale by:\n"
			"# counts are FLOORS (what they saw); --exact counts\n", 100 * est, m->windows);
	else if (m->floor_only)
		fprintf(out, "sampled: the probes saw %.1f %% of the target's CPU time; counts are FLOORS (x%.1f)\n"
			"# the probes cost the target more than %.0fx its own work between calls (an allocation storm):\n"
			"# its call rate without them cannot be told within the budget; shares by stack hold; --exact counts\n",
			100 * est, m->scale, MEM_MAX_X);
	else
		fprintf(out, "sampled: the probes saw %.1f %% of the target's work, in %d windows; counts scaled up %.1fx, estimates +- %.0f %%\n",
			100 * est, m->windows, m->scale, 100 * m->uncertainty);
	if (!m->exact && !uncounted)
		fprintf(out, "# the probes cost the target %.3f s of CPU for %.3f s of its own work (--overhead)\n", m->cost_s,
			m->work_s);
	fprintf(out, "# %s%" PRIu64 " allocations (%.0f/s), %" PRIu64 " frees, %s allocated, %s freed\n",
		m->exact ? "" : m->floor_only ? ">= " : "~", m->allocs, m->duration > 0 ? m->allocs / m->duration : 0.0,
		m->frees, human(m->bytes, a, sizeof(a)), human(m->bytes_freed, b, sizeof(b)));
	if (!m->allocs && !m->frees && !uncounted)
		fprintf(out, "# no allocations seen in %.1f s: the target called none of the %d allocator functions probed\n",
			m->not_loaded && m->not_loaded_at >= 0 ? m->duration - m->not_loaded_at : m->duration, m->nprobes);
	if (mem_report__incomplete(m))
		fprintf(out, "# warning: counts INCOMPLETE: %" PRIu64 " of the %" PRIu64 " frees were of blocks never seen allocated:\n"
			"# the program allocates where the probes do not see it (an allocator inlined into its callers, as\n"
			"# link-time optimisation does to CPython's PyObject_Malloc); allocations and bytes are floors\n",
			m->unseen_frees, m->frees);
	else if (mem_report__late_unseen(m))
		fprintf(out, "# warning: counts may be INCOMPLETE: %" PRIu64 " of the %" PRIu64 " frees after the first %.0f s were of blocks\n"
			"# never seen allocated: the program allocates where the probes do not see it (an allocator inlined\n"
			"# into its callers), or it is freeing what it made before the attach; launched, ebprof sees it all\n",
			m->late_unseen, m->late_frees, MEM_LATE_S);
	if (m->py_inlined_sites)
		fprintf(out, "# %s inlines CPython's object allocator into %" PRIu64 " call sites (an optimised build): with -p its\n"
			"# small objects are not counted, only what reaches libc (larger objects, buffers) and the page faults\n"
			"# and RSS below; launched (ebprof mem -- python3 ...) every allocation is (ebprof wraps its allocator)\n",
			m->py_inlined, m->py_inlined_sites);
	fprintf(out, "# outstanding %s: %" PRIu64 " blocks, %s%s\n",
		m->finalized ? "when the interpreter began to finalize" : "at the end", m->blocks_outstanding,
		human(m->bytes_outstanding, a, sizeof(a)),
		m->exact ? "" : " (blocks allocated while the probes were on and not seen freed: frees while they were off are not seen)");
	if (m->interposed) {
		fprintf(out, "# peak heap %s%s\n", human(m->peak_heap, a, sizeof(a)),
			m->peak_exact ? "" : " or more (several threads allocated: each looks at the total as it grows)");
		if (m->foreign_frees)
			fprintf(out, "# %" PRIu64 " frees of blocks from before the interposer was loaded (not counted as frees)\n",
				m->foreign_frees);
		if (m->failed)
			fprintf(out, "# %" PRIu64 " allocations failed (returned NULL)\n", m->failed);
		if (m->py == EBMEM_PY_LEFT)
			fprintf(out, "# warning: counts are INCOMPLETE: CPython ran the object allocator it was told to (PYTHONMALLOC,\n"
				"# -X dev, PYTHONDEVMODE), which ebprof's counter does not wrap: its objects are not counted, only\n"
				"# what reaches malloc; unset those (or PYTHONMALLOC=malloc) to count them\n");
		else if (m->py == EBMEM_PY_OLD)
			fprintf(out, "# warning: counts are INCOMPLETE: a CPython before 3.8, whose object allocator ebprof's counter\n"
				"# does not wrap: its objects are not counted, only what reaches malloc (PYTHONMALLOC=malloc counts them,\n"
				"# in 3.6 and 3.7)\n");
	}
	if (m->interposed && unattributed_shown(m->unattributed, m->var_sum, m->bytes))
		fprintf(out, "# the stacks' estimates leave out %s of the %s allocated: stacks that allocated while the interval\n"
			"# was long (up to %s) were seldom sampled; --sample-bytes N samples more\n",
			human((uint64_t)fabs(m->unattributed), a, sizeof(a)), human(m->bytes, b, sizeof(b)),
			human(m->sample_adaptive ? m->sample_max : m->sample_bytes, c, sizeof(c)));
	if (m->interposed && m->peak_sites && unattributed_shown(m->unattributed_peak, m->var_peak_sum, m->peak_heap))
		fprintf(out, "# the stacks' estimates leave out %s of the %s held at the peak (the blocks of stacks seldom\n"
			"# sampled); --sample-bytes N samples more\n",
			human((uint64_t)fabs(m->unattributed_peak), a, sizeof(a)), human(m->peak_heap, b, sizeof(b)));
	if (m->interposed && unattributed_shown(m->unattributed_out, m->var_out_sum, m->bytes_outstanding))
		fprintf(out, "# the stacks' estimates leave out %s of the %s held at the end (the blocks of stacks seldom\n"
			"# sampled); --sample-bytes N samples more\n",
			human((uint64_t)fabs(m->unattributed_out), a, sizeof(a)), human(m->bytes_outstanding, b, sizeof(b)));
	if (m->not_loaded && m->not_loaded_at >= 0)
		fprintf(out, "# the command ran without ebprof's interposer (%s):\n"
			"# its allocator functions were probed instead, from %.1f s into the run\n",
			m->not_loaded_why, m->not_loaded_at);
	else if (m->not_loaded)
		fprintf(out, "# the command ran without ebprof's interposer (%s):\n"
			"# its allocations after that were not counted\n", m->not_loaded_why);
	if (m->children)
		fprintf(out, "# %u child process%s it forked not counted: ebprof mem counts one process (a child's command\n"
			"# launched by ebprof mem itself, or -p PID, for one of them)\n",
			m->children, m->children == 1 ? "" : "es");
	if (m->finalized)
		fprintf(out, "# (its teardown after that not counted: %" PRIu64 " frees, %" PRIu64 " allocations of %s)\n",
			m->final_frees, m->final_allocs, human(m->final_bytes, b, sizeof(b)));
	fprintf(out, "# RSS now %s, peak %s; %" PRIu64 " pages faulted in, %s mapped (mmap, brk)\n",
		m->rss_now_kib >= 0 ? human(m->rss_now_kib * 1024, a, sizeof(a)) : "?",
		m->rss_peak_kib >= 0 ? human(m->rss_peak_kib * 1024, b, sizeof(b)) : "?", m->faults,
		human(m->mapped, c, sizeof(c)));
	if (m->lost_blocks)
		fprintf(out, "# warning: %" PRIu64 " blocks not tracked: the block map is full; rerun with a larger --max-blocks\n",
			m->lost_blocks);
	if (m->lost_stacks)
		fprintf(out, "# warning: %" PRIu64 " allocations not counted: too many stacks; rerun with a larger --map-size\n",
			m->lost_stacks);
	if (m->lost_samples)
		fprintf(out, "# warning: %" PRIu64 " of the interposer's samples not seen (a seccomp filter on getppid?): the stacks' estimates leave them out; --no-preload traces the calls instead\n",
			m->lost_samples);
	if (m->lost_ustacks || m->lost_pystacks)
		fprintf(out, "# warning: %" PRIu64 " native and %" PRIu64 " Python stacks not stored (their allocations are counted without them): the stack maps are full; rerun with a larger --map-size\n",
			m->lost_ustacks, m->lost_pystacks);
	fputs("# sizes:", out);
	for (k = 0; k < 64; k++)
		if (m->hist[k])
			fprintf(out, " %s+ %" PRIu64 ";", human(k ? 1ULL << k : 0, a, sizeof(a)), m->hist[k]);
	fputc('\n', out);

	idx = sorted_sites(m, 0, &n);
	if (!idx)
		return -ENOMEM;
	fprintf(out, "\nTop allocation sites, by bytes allocated (innermost frame first):\n");
	for (i = 0, shown = 0; i < n && shown < rows && shown < 10; i++, shown++) {
		const struct mem_site *s = &m->sites[idx[i]];

		if (m->interposed) {
			char d[32], e[32];

			fprintf(out, "\n  ~%s (+- %s) in ~%" PRIu64 " (+- %" PRIu64 ") allocations, %" PRIu64 " samples; ~%s freed",
				human(s->bytes, a, sizeof(a)), human(bound(s->var_bytes), d, sizeof(d)), s->allocs,
				bound(s->var_allocs), s->samples, human(s->bytes_freed, b, sizeof(b)));
			if (s->out_bytes)
				fprintf(out, "; ~%s (+- %s) in ~%" PRIu64 " (+- %" PRIu64 ") blocks outstanding",
					human(s->out_bytes, c, sizeof(c)), human(bound(s->var_out_bytes), e, sizeof(e)),
					s->out_blocks, bound(s->var_out_blocks));
			fputc('\n', out);
		} else {
			fprintf(out, "\n  %s in %" PRIu64 " allocations, %s freed, %s in %" PRIu64 " blocks outstanding\n",
				human(s->bytes, a, sizeof(a)), s->allocs, human(s->bytes_freed, b, sizeof(b)),
				human(s->out_bytes, c, sizeof(c)), s->out_blocks);
		}
		print_stack(m, s, out);
	}
	free(idx);

	{
		struct func_row *fr = render_func_rows(m->prof, &n);
		double tot = m->prof->totals[0] ? (double)m->prof->totals[0] : 1;
		const char *by = m->prof->meta.values[0].type, *what = "bytes they allocated", *col = "SELF_BYTES";

		if (!fr)
			return -ENOMEM;
		if (!strcmp(by, "alloc_objects"))
			what = "allocations they made", col = "SELF_ALLOCS";
		else if (!strcmp(by, "peak_space"))
			what = "bytes they held at the peak heap";
		else if (!strcmp(by, "peak_objects"))
			what = "blocks they held at the peak heap", col = "SELF_BLOCKS";
		fprintf(out, "\nFunctions, by %s themselves (SELF) and below them (TOTAL):\n", what);
		fprintf(out, "%7s %7s %12s  %-40s %s\n", "SELF%", "TOTAL%", col, "FUNCTION", "MODULE");
		for (i = 0; i < n && (int)i < rows && i < 15; i++) {
			const struct frame *f = profile__frame_at(m->prof, fr[i].frame);

			fprintf(out, "%7.2f %7.2f %12" PRIu64 "  %-40s %s\n", 100.0 * fr[i].self[0] / tot,
				100.0 * fr[i].total[0] / tot, fr[i].self[0], f->func, f->module);
		}
		free(fr);
	}

	if (m->interposed && m->peak_sites) {
		idx = sorted_sites(m, 3, &n);
		if (!idx)
			return -ENOMEM;
		fprintf(out, "\nAt the peak heap (%s%s), what held it, by stack:\n", human(m->peak_heap, a, sizeof(a)),
			m->peak_exact ? "" : " or more; several threads: each looks at the total as it grows");
		for (i = 0; i < n && (int)i < rows && i < 5; i++) {
			const struct mem_site *s = &m->sites[idx[i]];

			fprintf(out, "\n  ~%s (+- %s) in ~%" PRIu64 " blocks, %.1f %% of the peak\n",
				human(s->peak_bytes, b, sizeof(b)), human(bound(s->var_peak_bytes), c, sizeof(c)),
				s->peak_blocks, m->peak_heap ? 100.0 * s->peak_bytes / m->peak_heap : 0.0);
			print_stack(m, s, out);
		}
		free(idx);
	}

	idx = sorted_sites(m, 1, &n);
	if (!idx)
		return -ENOMEM;
	if (n)
		fprintf(out, "\nStacks that faulted in new pages (RSS growth):\n");
	for (i = 0; i < n && (int)i < rows && i < 5; i++) {
		const struct mem_site *s = &m->sites[idx[i]];

		fprintf(out, "\n  %" PRIu64 " pages (%.1f %%), %s\n", s->faults,
			m->faults ? 100.0 * s->faults / m->faults : 0.0, human(s->faults * 4096, a, sizeof(a)));
		print_stack(m, s, out);
	}
	free(idx);

	if (m->leaks) {
		idx = sorted_sites(m, 2, &n);
		if (!idx)
			return -ENOMEM;
		fprintf(out, "\nLeaks: blocks still held after %.1f s, by stack%s:\n", m->min_age,
			n ? "" : " (none)");
		for (i = 0; i < n && (int)i < rows; i++) {
			const struct mem_site *s = &m->sites[idx[i]];

			if (m->interposed)
				fprintf(out, "\n  ~%" PRIu64 " (+- %" PRIu64 ") bytes in ~%" PRIu64 " blocks, the oldest sampled %.1f s old\n",
					s->leak_bytes, bound(s->var_out_bytes), s->leak_blocks, s->oldest_s);
			else
				fprintf(out, "\n  %" PRIu64 " bytes in %" PRIu64 " blocks, the oldest %.1f s old\n", s->leak_bytes,
					s->leak_blocks, s->oldest_s);
			print_stack(m, s, out);
		}
		free(idx);
	}
	return ferror(out) ? -EIO : 0;
}

bool mem_report__incomplete(const struct mem_report *m)
{
	/* a free of a block from an allocator not probed now and then (ld.so's) is not a pattern */
	return m->check_frees && m->unseen_frees > 100 && m->unseen_frees * 100 > m->frees;
}

bool mem_report__late_unseen(const struct mem_report *m)
{
	/*
	 * A process whose every allocation is seen frees blocks from before
	 * the attach at a rate that falls as they go; most of its frees, a
	 * thousand and more, still of unseen blocks, is a pattern
	 */
	return m->check_late && m->late_unseen > 1000 && m->late_unseen * 2 > m->late_frees;
}

int mem_render_json(const struct mem_report *m, FILE *out)
{
	size_t i;
	uint32_t j;
	int k, first = 1;

	fputs("{\n  \"version\": 1,\n  \"mode\": \"mem\",\n  \"target\": ", out);
	json_str(out, m->target);
	fprintf(out, ",\n  \"duration_s\": %.3f,\n  \"requested\": \"%s\",\n  \"exact\": %s,\n  \"sampled_share\": %.4f,\n  \"scale\": %.4f,\n",
		m->duration, m->interposed ? "interposer" : m->overhead_pct > 0 ? "overhead" : "exact",
		m->exact ? "true" : "false", m->exact ? 1.0 : m->share, m->exact ? 1.0 : m->scale);
	if (m->interposed)
		fprintf(out, "  \"interposer\": {\"samples\": %" PRIu64 ", \"sample_bytes\": %" PRIu64 ", \"adaptive\": %s, \"sample_bytes_max\": %" PRIu64
			", \"max_rate\": %d, \"bound_sigmas\": %d, \"peak_heap\": %" PRIu64 ", \"peak_exact\": %s, \"threads\": %u, \"foreign_frees\": %" PRIu64
			", \"failed\": %" PRIu64 ", \"unattributed_bytes\": %.0f, \"unattributed_bytes_outstanding\": %.0f"
			", \"unattributed_said\": %s, \"unattributed_outstanding_said\": %s, \"python_allocator\": %s"
			", \"markers\": \"%s\", \"peak_by_stack\": %s, \"unattributed_bytes_at_peak\": %.0f},\n",
			m->samples, m->sample_bytes, m->sample_adaptive ? "true" : "false", m->sample_max,
			EBMEM_MAX_RATE, MEM_BOUND_SIGMAS, m->peak_heap, m->peak_exact ? "true" : "false", m->threads, m->foreign_frees,
			m->failed, m->unattributed, m->unattributed_out,
			unattributed_shown(m->unattributed, m->var_sum, m->bytes) ? "true" : "false",
			unattributed_shown(m->unattributed_out, m->var_out_sum, m->bytes_outstanding) ? "true" : "false",
			m->py == EBMEM_PY_WRAPPED ? "\"wrapped\"" : m->py == EBMEM_PY_LEFT ? "\"not wrapped\"" : m->py == EBMEM_PY_OLD ? "\"not wrapped (before 3.8)\"" : "null",
			m->by_syscall ? "getppid" : "uprobes", m->peak_sites ? "true" : "false", m->unattributed_peak);
	fprintf(out, "  \"children_not_counted\": %u,\n", m->children);
	if (m->not_loaded) {
		char at[32] = "null";

		if (m->not_loaded_at >= 0)
			snprintf(at, sizeof(at), "%.3f", m->not_loaded_at);
		fprintf(out, "  \"interposer_not_loaded\": true, \"interposer_not_loaded_why\": \"%s\", \"probed_from_s\": %s,\n",
			m->not_loaded_why ? m->not_loaded_why : "", at);
	}
	if (!m->exact)
		fprintf(out, "  \"estimate\": {\"floor_only\": %s, \"uncertainty\": %.4f, \"windows\": %d, \"probe_cost_s\": %.4f, \"work_s\": %.4f, \"cost_per_work\": %.4f},\n",
			m->floor_only ? "true" : "false", m->floor_only ? 0.0 : m->uncertainty, m->windows, m->cost_s,
			m->work_s, m->probe_x);
	fprintf(out, "  \"totals\": {\"allocs\": %" PRIu64 ", \"frees\": %" PRIu64 ", \"bytes_allocated\": %" PRIu64
		", \"bytes_freed\": %" PRIu64 ", \"bytes_outstanding\": %" PRIu64 ", \"blocks_outstanding\": %" PRIu64
		", \"pages_faulted\": %" PRIu64 ", \"bytes_mapped\": %" PRIu64 "},\n", m->allocs, m->frees, m->bytes,
		m->bytes_freed, m->bytes_outstanding, m->blocks_outstanding, m->faults, m->mapped);
	fputs("  \"rss\": {\"now\": ", out);
	if (m->rss_now_kib >= 0)
		fprintf(out, "%ld", m->rss_now_kib * 1024);
	else
		fputs("null", out);
	fputs(", \"peak\": ", out);
	if (m->rss_peak_kib >= 0)
		fprintf(out, "%ld", m->rss_peak_kib * 1024);
	else
		fputs("null", out);
	fprintf(out, "},\n  \"lost\": {\"blocks\": %" PRIu64 ", \"stacks\": %" PRIu64 ", \"user_stacks\": %" PRIu64
		", \"python_stacks\": %" PRIu64 ", \"samples\": %" PRIu64 "},\n", m->lost_blocks, m->lost_stacks, m->lost_ustacks,
		m->lost_pystacks, m->lost_samples);
	fprintf(out, "  \"unseen_frees\": %" PRIu64 ",\n  \"incomplete\": %s,\n", m->unseen_frees,
		mem_report__incomplete(m) || mem_report__late_unseen(m) ? "true" : "false");
	fprintf(out, "  \"python_allocator_inlined\": %" PRIu64 ",\n", m->py_inlined_sites);
	fprintf(out, "  \"finalized\": %s,\n  \"at_finalize\": {\"frees\": %" PRIu64 ", \"allocs\": %" PRIu64
		", \"bytes\": %" PRIu64 "},\n", m->finalized ? "true" : "false", m->final_frees, m->final_allocs, m->final_bytes);
	fputs("  \"size_histogram\": [", out);
	for (k = 0; k < 64; k++) {
		if (!m->hist[k])
			continue;
		fprintf(out, "%s{\"from\": %llu, \"allocs\": %" PRIu64 "}", first ? "" : ", ", k ? 1ULL << k : 0ULL,
			m->hist[k]);
		first = 0;
	}
	fputs("],\n  \"stacks\": [", out);
	for (i = 0; i < m->nsites; i++) {
		const struct mem_site *s = &m->sites[i];

		fputs(i ? ",\n    " : "\n    ", out);
		fprintf(out, "{\"pid\": %d, \"allocs\": %" PRIu64 ", \"bytes_allocated\": %" PRIu64 ", \"frees\": %" PRIu64
			", \"bytes_freed\": %" PRIu64 ", \"bytes_outstanding\": %" PRIu64 ", \"blocks_outstanding\": %" PRIu64
			", \"pages_faulted\": %" PRIu64 ", \"bytes_mapped\": %" PRIu64, s->tgid, s->allocs, s->bytes,
			s->frees, s->bytes_freed, s->out_bytes, s->out_blocks, s->faults, s->mapped);
		if (m->leaks)
			fprintf(out, ", \"leaked_bytes\": %" PRIu64 ", \"leaked_blocks\": %" PRIu64 ", \"oldest_s\": %.3f",
				s->leak_bytes, s->leak_blocks, s->oldest_s);
		/* estimates: the samples and each figure's bound (bound_sigmas standard deviations) */
		if (m->interposed)
			fprintf(out, ", \"bytes_at_peak\": %" PRIu64 ", \"blocks_at_peak\": %" PRIu64 ", \"samples\": %" PRIu64
				", \"bounds\": {\"allocs\": %" PRIu64 ", \"bytes_allocated\": %" PRIu64
				", \"bytes_outstanding\": %" PRIu64 ", \"blocks_outstanding\": %" PRIu64 ", \"bytes_at_peak\": %" PRIu64 "}",
				s->peak_bytes, s->peak_blocks, s->samples, bound(s->var_allocs), bound(s->var_bytes),
				bound(s->var_out_bytes), bound(s->var_out_blocks), bound(s->var_peak_bytes));
		fputs(", \"frames\": [", out);
		for (j = 0; j < s->nframes; j++) {
			const struct frame *f = profile__frame_at(m->prof, s->frames[j]);

			fputs(j ? ", " : "", out);
			fputs("{\"function\": ", out);
			json_str(out, f->func);
			fputs(", \"module\": ", out);
			json_str(out, f->module);
			fprintf(out, ", \"kernel\": %s", f->kernel ? "true" : "false");
			if (f->python)
				fputs(", \"python\": true", out);
			fputc('}', out);
		}
		fputs("]}", out);
	}
	fputs(m->nsites ? "\n  ]\n}\n" : "]\n}\n", out);
	return ferror(out) ? -EIO : 0;
}

/* a function's line, and what the allocations made while it ran did */
struct mem_line {
	uint32_t fn;
	int line;
	uint64_t bytes, allocs, held, pages;
};

struct mem_fn {
	uint32_t fn;
	uint64_t bytes, allocs, held, pages;
	int first, last;
};

static int cmp_mem_fn(const void *a, const void *b)
{
	const struct mem_fn *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->pages != y->pages)
		return x->pages > y->pages ? -1 : 1;
	return x->fn < y->fn ? -1 : x->fn > y->fn;
}

static void mem_line_report(const struct mem_report *m, const struct mem_fn *fs, const struct mem_line *ls, size_t nls,
			    FILE *out)
{
	const struct frame *f = profile__frame_at(m->prof, fs->fn);
	struct render_src s = {};
	int first, last, l;
	bool have_src = render_src_span(f, fs->first, fs->last, &s, &first, &last);
	char a[32], b[32], c[32];
	size_t i;

	fprintf(out, "\nFile: %s\n", f->src ? f->src : f->module);
	fprintf(out, "Function: %s at line %d\n", f->func, first);
	fprintf(out, "Total: %s allocated in %" PRIu64 " allocations, %s still held at the end, %" PRIu64
		" pages first touched; peak RSS %s%s\n", human(fs->bytes, a, sizeof(a)), fs->allocs,
		human(fs->held, b, sizeof(b)), fs->pages,
		m->rss_peak_kib >= 0 ? human(m->rss_peak_kib * 1024, c, sizeof(c)) : "?",
		m->interposed ? " (estimates from the samples: each line's share of what they stand for)"
		: m->exact ? "" : " (sampled: each line's share of what was seen; the totals above are estimates)");
	if (!have_src)
		fprintf(out, "(source not found: %s)\n", f->src ? f->src : "no file name");
	fprintf(out, "\n%6s %11s %11s %9s %7s  %s\n", "Line #", "Allocated", "Held", "Allocs", "Pages", "Line Contents");
	fprintf(out, "=======================================================================\n");
	for (l = first; l <= last; l++) {
		const char *text = have_src ? render_src_line(&s, l) : NULL;
		const struct mem_line *h = NULL;

		for (i = 0; i < nls && !h; i++)
			if (ls[i].fn == fs->fn && ls[i].line == l)
				h = &ls[i];
		if (!h && !text)
			continue;
		if (h)
			fprintf(out, "%6d %11s %11s %9" PRIu64 " %7" PRIu64 "  %s\n", l, human(h->bytes, a, sizeof(a)),
				human(h->held, b, sizeof(b)), h->allocs, h->pages, text ? text : "");
		else
			fprintf(out, "%6d %11s %11s %9s %7s  %s\n", l, "", "", "", "", text);
	}
	render_src_free(&s);
}

int mem_render_lines(const struct profile *p, const char *func, int top, FILE *out)
{
	const struct mem_report *m = p->ext;
	struct mem_line *ls = NULL;
	struct mem_fn *fs = NULL;
	size_t nls = 0, lcap = 0, nfs = 0, fcap = 0, i, k;
	bool python = false;
	int shown = 0, err = 0;

	for (i = 0; i < m->nsites && !err; i++) {
		const struct mem_site *st = &m->sites[i];
		uint32_t seen[64];
		int nseen = 0, j;

		/* innermost first: a function counts once a stack, on the line it was at */
		for (j = (int)st->nframes - 1; j >= 0; j--) {
			const struct frame *f = profile__frame_at(p, st->frames[j]);
			int q;

			if (!f->line || f->kernel)
				continue;
			for (q = 0; q < nseen && seen[q] != f->fn; q++)
				;
			if (q < nseen)
				continue;
			if (nseen < 64)
				seen[nseen++] = f->fn;
			for (k = 0; k < nls && !(ls[k].fn == f->fn && ls[k].line == f->line); k++)
				;
			if (k == nls) {
				if (GROW(ls, nls, lcap, 64)) {
					err = -ENOMEM;
					break;
				}
				memset(&ls[nls], 0, sizeof(ls[nls]));
				ls[nls].fn = f->fn;
				ls[nls++].line = f->line;
			}
			ls[k].bytes += st->bytes;
			ls[k].allocs += st->allocs;
			ls[k].held += st->out_bytes;
			ls[k].pages += st->faults;
		}
	}
	for (k = 0; k < nls && !err; k++) {
		for (i = 0; i < nfs && fs[i].fn != ls[k].fn; i++)
			;
		if (i == nfs) {
			if (GROW(fs, nfs, fcap, 32)) {
				err = -ENOMEM;
				break;
			}
			memset(&fs[nfs], 0, sizeof(fs[nfs]));
			fs[nfs++].fn = ls[k].fn;
		}
		fs[i].bytes += ls[k].bytes;
		fs[i].allocs += ls[k].allocs;
		fs[i].held += ls[k].held;
		fs[i].pages += ls[k].pages;
		if (!fs[i].first || ls[k].line < fs[i].first)
			fs[i].first = ls[k].line;
		if (ls[k].line > fs[i].last)
			fs[i].last = ls[k].line;
	}
	if (!err) {
		qsort(fs, nfs, sizeof(*fs), cmp_mem_fn);
		/* Python code, when there is some: the interpreter's C is not what its users look for */
		for (k = 0; k < nfs; k++)
			if (profile__frame_at(p, fs[k].fn)->python)
				python = true;
		for (k = 0; k < nfs; k++) {
			const struct frame *f = profile__frame_at(p, fs[k].fn);

			if (func ? !render_frame_matches(f, func) : (shown >= top || (python && !f->python)))
				continue;
			mem_line_report(m, &fs[k], ls, nls, out);
			shown++;
		}
	}
	free(ls);
	free(fs);
	return err ? err : shown ? 0 : -ENOENT;
}
