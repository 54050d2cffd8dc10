// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mem_budget.c - ebprof mem's arithmetic, apart from its probes (mem.h):
 * when the default mode's probes go on and off, how long a window stays
 * on, and how much slower --exact makes its target at the least.  Pure:
 * the unit tests call it with the numbers of runs seen here.
 */
#include <math.h>
#include "mem.h"

/*
 * A window stays on at least long enough that its probes cost the target
 * ~1 ms in a storm, ~3 ms elsewhere (given the last window's cost per
 * second on), 1-20 ms: in an allocation storm each window sees one moment
 * of the target, so many short ones are better; elsewhere longer ones
 * disturb it less (each attach and close of the probes flushes its TLB and
 * rewrites code pages, a cost the books do not see).
 */
#define MEM_WINDOW_COST 0.001
#define MEM_MAX_MIN_ON 0.020
/*
 * Half the budget: the books miss part of the cost (colder caches after
 * each trap, TLB flushes and code pages copied at each switch; always on,
 * --exact, they match): a workload with work between calls slowed by
 * 1.3-1.7x what they counted, in interleaved runs
 */
#define MEM_AIM 0.5
#define MEM_HORIZON 1.0		/* seconds of the target's work: budget not used by then is gone */

double mem_window_min_on(double last_cost, double last_on_cpu)
{
	double rate = last_on_cpu > 0 ? last_cost / last_on_cpu : 1;	/* cost a second on */
	/* a storm (cost > 2x work): many short windows; else fewer, longer ones */
	double len = rate > 0 ? (rate > 2.0 / 3 ? MEM_WINDOW_COST : 3 * MEM_WINDOW_COST) / rate : MEM_MAX_MIN_ON;

	return len < MEM_MIN_ON ? MEM_MIN_ON : len > MEM_MAX_MIN_ON ? MEM_MAX_MIN_ON : len;
}

enum mem_budget_act mem_budget_decide(double overhead_pct, double work, double cost, double *forgone, bool on,
				      double on_for, double min_on, bool detaching)
{
	double cap = overhead_pct / 100 * MEM_HORIZON, allowed = MEM_AIM * overhead_pct / 100 * work, spent;

	/* budget not used within MEM_HORIZON of work is gone: no long bursts at a later storm */
	if (allowed - (cost + *forgone) > cap)
		*forgone = allowed - cap - cost;
	spent = cost + *forgone;
	if (on && on_for >= min_on && spent > allowed)
		return MEM_BUDGET_OFF;
	if (!on && spent <= allowed && !detaching)
		return MEM_BUDGET_ON;
	return MEM_BUDGET_KEEP;
}

/*
 * The calibrated cost of a trap is good to ~30 %: what it costs moves run
 * to run, and differs between our thread and the target's, which is all
 * the target's CPU time could be: the work left over is no measure of a
 * slowdown when the traps take nearly all of it.  The least of three
 * readings read 0.78-1.24x what the traps took of a target whose own
 * work is known (t_mem_budget's paced rounds, 40 runs; a run in CI read
 * ~1.3x with one reading): some processes' traps cost ~25 % more than
 * another's on this guest for seconds at a time.
 */
#define MEM_CAL_NOISE 0.30

/*
 * User and system time are not measured: the kernel's tick finds the task
 * in one or the other (CONFIG_TICK_CPU_ACCOUNTING) and its run time is
 * split in that ratio, so a share of user mode over n ticks is a binomial
 * estimate.  Over a second at HZ 250 a true share of 10 % reads 7-13 %
 * (1.6 sigma, seen); the bounds are Wilson's at MEM_SHARE_Z sigmas.
 */
#define MEM_SHARE_Z 4.0

static double share_bound(double p, double n, double sign)
{
	double z = MEM_SHARE_Z, b;

	if (n < 1)
		return sign > 0 ? 1 : 0;
	p = p < 0 ? 0 : p > 1 ? 1 : p;
	b = (p + z * z / (2 * n) + sign * z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n);
	return b < 0 ? 0 : b > 1 ? 1 : b;
}

/*
 * An estimate's variance from its samples (Horvitz-Thompson's) is itself
 * a sample: where the interval grew long, blocks stand for many and are
 * seldom sampled, so a site's estimate and its variance are mostly low
 * together, and a site with no sample at the long intervals has a small
 * estimate and no variance at all.  The variance of a site of B bytes
 * sampled at means up to P is at most B * P (a block of s bytes adds
 * s^2 (1 - p) / p <= s P), and P is the longest mean of the run: any site
 * may have allocated while it was in force (its own samples' means say
 * only where it was seen).  The bound is that of the B whose estimate
 * lies within z sigmas of it, |E - B| <= z sqrt(B P), as Wilson's for a
 * proportion: B up to (z/2 sqrt(P) + sqrt(z^2/4 P + E))^2, a variance of
 * (z/2 P + sqrt(P (z^2/4 P + E)))^2 for the bound to reach; ~E P for an
 * estimate of many samples, (z P)^2 for one of none (a site of z^2 P
 * bytes is sampled none of the time with odds of e^-16).  No site has
 * more than the exact total, though: a site of a short run sampled at
 * every call is no more uncertain than what else the run did.
 */
double mem_least_var(double est, double p, double total)
{
	const double h = MEM_BOUND_SIGMAS / 2.0;
	double sd = h * p + sqrt(p * (h * h * p + fmax(est, 0))), most = fmax(total - est, 0) / MEM_BOUND_SIGMAS;

	return sd < most ? sd * sd : most * most;
}

double mem_work_most(const struct mem_rate *m)
{
	double most = m->cpu - (1 - MEM_CAL_NOISE) * m->spent;

	if (m->base_user >= 0 && m->user >= 0) {
		double all = m->base_user + m->base_sys, ktick = m->ktick > 0 ? m->ktick : 0.01;
		/* the least share of user mode in its untraced time: enough of it to go by */
		double share = all >= 0.2 ? share_bound((m->base_user - 2 * m->tick) / all, all / ktick, -1) : 0;
		/* the most of its traced time that was in user mode */
		double user = m->cpu * share_bound(m->user / m->cpu, m->cpu / ktick, +1) + 2 * m->tick;

		if (share > 0.05 && user / share < most)
			most = user / share;
	}
	if (most > m->cpu)
		most = m->cpu;
	return most > 0 ? most : 0;
}
