/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * t.h - a minimal unit-test harness in the spirit of redis' testhelp.h and
 * perf's TEST_ASSERT_VAL.  Each test returns T_OK, T_FAIL or T_SKIP; the
 * last line printed is "N passed, N failed, N skipped".
 */
#ifndef __T_H
#define __T_H

#include <stdio.h>
#include <string.h>

#define T_OK	0
#define T_FAIL	-1
#define T_SKIP	-2

#define T_ASSERT(cond)								\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "  FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			return T_FAIL;						\
		}								\
	} while (0)

#define T_ASSERT_STR(a, b)							\
	do {									\
		const char *_a = (a), *_b = (b);				\
		if (!_a || !_b || strcmp(_a, _b)) {				\
			fprintf(stderr, "  FAILED %s:%d: '%s' != '%s'\n", __FILE__, __LINE__, \
				_a ? _a : "(null)", _b ? _b : "(null)");	\
			return T_FAIL;						\
		}								\
	} while (0)

struct t_case {
	const char *name;
	int (*fn)(void);
};

#define T(fn) { #fn, fn }

static inline int t_run(const char *suite, const struct t_case *cases, size_t n)
{
	size_t i, pass = 0, fail = 0, skip = 0;

	for (i = 0; i < n; i++) {
		int r = cases[i].fn();

		printf("%s %s.%s\n", r == T_OK ? "ok  " : r == T_SKIP ? "skip" : "FAIL", suite,
		       cases[i].name);
		if (r == T_OK)
			pass++;
		else if (r == T_SKIP)
			skip++;
		else
			fail++;
	}
	printf("%zu passed, %zu failed, %zu skipped\n", pass, fail, skip);
	return fail ? 1 : 0;
}

#define T_MAIN(suite, ...)							\
	int log_level;								\
	int main(void)								\
	{									\
		static const struct t_case cases[] = { __VA_ARGS__ };		\
		return t_run(suite, cases, sizeof(cases) / sizeof(cases[0]));	\
	}

#endif
