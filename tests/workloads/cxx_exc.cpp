// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cxx_exc - C++ built -O2 -fomit-frame-pointer: exceptions thrown and
 * caught in a loop, std::sort with an inlined lambda, a virtual call.
 *
 * usage: cxx_exc [SECONDS]
 */
#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <stdexcept>
#include <vector>

static volatile unsigned long sink;

static double now()
{
	timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct Shape {
	virtual ~Shape() {}
	virtual unsigned long area(int n) const = 0;
};

struct Square : Shape {
	__attribute__((noinline)) unsigned long area(int n) const override
	{
		unsigned long x = sink;

		for (int i = 0; i < n; i++)
			x = x * 6364136223846793005UL + 1;
		return x;
	}
};

__attribute__((noinline)) static void may_throw(int i)
{
	if (i % 3 == 0)
		throw std::runtime_error("three");
	sink += i;
}

__attribute__((noinline)) static void sort_work(std::vector<int> &v)
{
	std::sort(v.begin(), v.end(), [](int a, int b) { return (a ^ 0x5555) < (b ^ 0x5555); });
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3, t0 = now();
	Square sq;
	const Shape *s = &sq;
	std::vector<int> v(20000);

	while (now() - t0 < secs) {
		for (int i = 0; i < 20; i++) {
			try {
				may_throw(i);
			} catch (const std::exception &e) {
				sink += e.what()[0];
			}
		}
		for (size_t i = 0; i < v.size(); i++)
			v[i] = (int)(i * 2654435761u);
		sort_work(v);
		sink += s->area(200000);
	}
	return 0;
}
