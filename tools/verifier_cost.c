// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * verifier_cost - load every program of ebprof's BPF objects and print
 * what the kernel's verifier spent on each (BPF_LOG_STATS): the
 * instructions it processed, against its limit of a million.
 *
 *   verifier_cost MAX OBJ.bpf.o...
 *
 * Exits 1 when a program fails to load or took more than MAX: a kernel
 * whose verifier explores more states fails here, by program, with the
 * margin that was left, rather than as every mode's "cannot load".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#define MAX_PROGS 64
#define LOG_SIZE 65536

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	static char logs[MAX_PROGS][LOG_SIZE];
	unsigned long max, worst = 0;
	int a, rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: verifier_cost MAX OBJ.bpf.o...\n");
		return 2;
	}
	max = strtoul(argv[1], NULL, 0);
	libbpf_set_print(quiet);
	for (a = 2; a < argc; a++) {
		struct bpf_object *obj = bpf_object__open_file(argv[a], NULL);
		const char *base = strrchr(argv[a], '/') ? strrchr(argv[a], '/') + 1 : argv[a];
		struct bpf_program *p;
		int i = 0, err;

		if (!obj) {
			printf("%s: cannot open\n", argv[a]);
			rc = 1;
			continue;
		}
		bpf_object__for_each_program(p, obj) {
			if (i == MAX_PROGS)
				break;
			logs[i][0] = 0;
			bpf_program__set_log_level(p, 4);
			bpf_program__set_log_buf(p, logs[i++], LOG_SIZE);
		}
		err = bpf_object__load(obj);
		i = 0;
		bpf_object__for_each_program(p, obj) {
			const char *s;
			unsigned long n;

			if (i == MAX_PROGS)
				break;
			s = strstr(logs[i++], "processed ");
			if (!s || sscanf(s, "processed %lu", &n) != 1) {
				printf("%-12s %-24s not verified%s\n", base, bpf_program__name(p),
				       err ? " (the object failed to load)" : "");
				rc = 1;
				continue;
			}
			printf("%-12s %-24s %8lu%s\n", base, bpf_program__name(p), n, n > max ? "  over" : "");
			if (n > max)
				rc = 1;
			if (n > worst)
				worst = n;
		}
		if (err) {
			printf("%s: cannot load: %s\n", base, strerror(-err));
			rc = 1;
		}
		bpf_object__close(obj);
	}
	printf("most: %lu instructions processed (at most %lu allowed here, 1000000 by the kernel)\n", worst, max);
	return rc;
}
