// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * latcxx - C++ methods for ebprof lat to find by their demangled names:
 * geo::Square::area() const N times, geo::Circle::area() const 2N times,
 * and the overloads geo::scale(int) and geo::scale(double) N times each.
 */
#include <cstdio>
#include <cstdlib>

namespace geo {
struct Shape {
	virtual ~Shape() {}
	virtual double area() const = 0;
};
struct Square : Shape {
	double s;
	explicit Square(double v) : s(v) {}
	__attribute__((noinline)) double area() const override { return s * s; }
};
struct Circle : Shape {
	double r;
	explicit Circle(double v) : r(v) {}
	__attribute__((noinline)) double area() const override { return 3.14159 * r * r; }
};
__attribute__((noinline)) double scale(int x) { return x * 2.0; }
__attribute__((noinline)) double scale(double x) { return x * 3.0; }
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100;
	geo::Shape *s[3] = { new geo::Square(2), new geo::Circle(1), new geo::Circle(3) };
	volatile double sum = 0;

	for (int i = 0; i < n; i++) {
		for (int k = 0; k < 3; k++)
			sum = sum + s[k]->area();
		sum = sum + geo::scale(i) + geo::scale(i * 0.5);
	}
	printf("calls %d\nsum %.1f\n", n, (double)sum);
	for (int k = 0; k < 3; k++)
		delete s[k];
	return 0;
}
