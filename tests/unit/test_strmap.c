// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The hash map under the profile and the symbolizer: deletes among collisions. */
#include <stdlib.h>
#include "t.h"
#include "util/strmap.h"

/* against a plain array as the truth, with keys that collide in a small table */
static int test_set_get_del(void)
{
	enum { N = 5000 };
	static char present[N];
	struct strmap *m = strmap__new();
	unsigned int seed = 7;
	int i, k, round;

	T_ASSERT(m);
	for (round = 0; round < 200000; round++) {
		k = rand_r(&seed) % N;
		if (rand_r(&seed) % 3) {
			T_ASSERT(!strmap__set(m, &k, sizeof(k), (void *)(long)(k + 1)));
			present[k] = 1;
		} else {
			void *v = strmap__del(m, &k, sizeof(k));

			T_ASSERT(v == (present[k] ? (void *)(long)(k + 1) : NULL));
			present[k] = 0;
		}
		if (round % 10007 == 0) {
			size_t n = 0;

			for (i = 0; i < N; i++) {
				void *v = strmap__get(m, &i, sizeof(i));

				T_ASSERT(v == (present[i] ? (void *)(long)(i + 1) : NULL));
				n += present[i];
			}
			T_ASSERT(strmap__size(m) == n);
		}
	}
	for (i = 0; i < N; i++)
		if (present[i])
			T_ASSERT(strmap__del(m, &i, sizeof(i)) == (void *)(long)(i + 1));
	T_ASSERT(strmap__size(m) == 0);
	strmap__free(m);
	return T_OK;
}

/* a cluster that wraps around the end of the table */
static int test_wrap(void)
{
	struct strmap *m = strmap__new();
	int i, n = 40;

	T_ASSERT(m);
	for (i = 0; i < n; i++)
		T_ASSERT(!strmap__set(m, &i, sizeof(i), (void *)(long)(i + 1)));
	for (i = 0; i < n; i += 2)
		T_ASSERT(strmap__del(m, &i, sizeof(i)));
	for (i = 0; i < n; i++)
		T_ASSERT(strmap__get(m, &i, sizeof(i)) == (i % 2 ? (void *)(long)(i + 1) : NULL));
	strmap__free(m);
	return T_OK;
}

/* a set of strings: one copy each, said when new */
static int intern(void)
{
	struct strmap *m = strmap__new();
	char buf[8] = "abc";
	const char *a, *b;
	size_t it = 0;
	void *v;
	int added;

	T_ASSERT(m);
	a = strmap__intern(m, buf, &added);
	T_ASSERT(a && a != buf && added && !strcmp(a, "abc"));
	buf[0] = 'x';	/* the copy is the map's, not the caller's */
	T_ASSERT(!strcmp(a, "abc"));
	b = strmap__intern(m, "abc", &added);
	T_ASSERT(b == a && !added);
	T_ASSERT(strmap__intern(m, "xbc", NULL) != a);
	T_ASSERT(strmap__size(m) == 2);
	while ((v = strmap__next(m, &it, NULL, NULL)))
		free(v);
	strmap__free(m);
	return T_OK;
}

T_MAIN("strmap", T(intern), T(test_set_get_del), T(test_wrap))
