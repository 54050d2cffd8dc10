/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef __EBPROF_KALLSYMS_H
#define __EBPROF_KALLSYMS_H

#include <stdint.h>
#include <stdio.h>

struct ksym {
	uint64_t addr;
	const char *name;
	const char *module;	/* "kernel" for the core kernel */
};

struct ksyms;

/* parse a kallsyms file (text symbols only); NULL with errno set */
struct ksyms *ksyms__parse(FILE *f);
/* /proc/kallsyms; NULL with errno set (EPERM: addresses hidden) */
struct ksyms *ksyms__load(void);
void ksyms__free(struct ksyms *k);
/* the symbol at or below *addr*, or NULL */
const struct ksym *ksyms__find(const struct ksyms *k, uint64_t addr);
size_t ksyms__count(const struct ksyms *k);

#endif
