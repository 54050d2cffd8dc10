// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cxx_hot - C++ hot spots whose names need demangling: a method of a class
 * in a namespace, and a template instance, 1:1.
 *
 * usage: cxx_hot [SECONDS]
 */
#include <cstdlib>
#include <ctime>

static volatile unsigned long sink;

static double now()
{
	timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

namespace shapes {
class Widget {
public:
	__attribute__((noinline)) void spin(int n)
	{
		unsigned long x = sink;

		for (int i = 0; i < n; i++)
			x = x * 6364136223846793005UL + 1;
		sink = x;
	}
};

template <typename T> __attribute__((noinline)) T accumulate(int n)
{
	T x = sink;

	for (int i = 0; i < n; i++)
		x = x * 6364136223846793005UL + 3;
	sink = x;
	return x;
}
} // namespace shapes

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3, t0 = now();
	shapes::Widget w;

	while (now() - t0 < secs) {
		w.spin(100000);
		shapes::accumulate<unsigned long>(100000);
	}
	return 0;
}
