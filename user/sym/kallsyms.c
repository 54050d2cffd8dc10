// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "kallsyms.h"
#include "../util/strmap.h"
#include "../util/bisect.h"

struct ksyms {
	struct ksym *syms;
	size_t n, cap;
	struct strmap *modules;	/* interned module names */
	char *pool;
	size_t plen, pcap;
};

void ksyms__free(struct ksyms *k)
{
	size_t it = 0;
	void *v;

	if (!k)
		return;
	if (k->modules)
		while ((v = strmap__next(k->modules, &it, NULL, NULL)))
			free(v);
	strmap__free(k->modules);
	free(k->syms);
	free(k->pool);
	free(k);
}

static const char *intern_module(struct ksyms *k, const char *mod)
{
	char *v = strmap__get(k->modules, mod, strlen(mod));

	if (v)
		return v;
	v = strdup(mod);
	if (!v || strmap__set(k->modules, mod, strlen(mod), v)) {
		free(v);
		return NULL;
	}
	return v;
}

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->name, y->name);
}

struct ksyms *ksyms__parse(FILE *f)
{
	struct ksyms *k = calloc(1, sizeof(*k));
	char line[512], name[256], mod[128];
	size_t i, zero = 0;
	uint64_t addr;
	char type;

	if (!k || !(k->modules = strmap__new()))
		goto err_nomem;
	while (fgets(line, sizeof(line), f)) {
		int nf;
		size_t len;

		mod[0] = '\0';
		nf = sscanf(line, "%" SCNx64 " %c %255s [%127[^]]]", &addr, &type, name, mod);
		if (nf < 3)
			continue;
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		if (!addr)
			zero++;
		if (k->n == k->cap) {
			size_t cap = k->cap ? k->cap * 2 : 4096;
			struct ksym *v = realloc(k->syms, cap * sizeof(*v));

			if (!v)
				goto err_nomem;
			k->syms = v;
			k->cap = cap;
		}
		len = strlen(name) + 1;
		if (k->plen + len > k->pcap) {
			size_t cap = k->pcap ? k->pcap * 2 : 1 << 20;
			char *p = realloc(k->pool, cap);

			if (!p)
				goto err_nomem;
			k->pool = p;
			k->pcap = cap;
		}
		memcpy(k->pool + k->plen, name, len);
		k->syms[k->n].addr = addr;
		k->syms[k->n].name = (const char *)(uintptr_t)k->plen;
		k->syms[k->n].module = intern_module(k, mod[0] ? mod : "kernel");
		if (!k->syms[k->n].module)
			goto err_nomem;
		k->plen += len;
		k->n++;
	}
	if (k->n && zero == k->n) {
		/* kptr_restrict hides the addresses */
		ksyms__free(k);
		errno = EPERM;
		return NULL;
	}
	for (i = 0; i < k->n; i++)
		k->syms[i].name = k->pool + (uintptr_t)k->syms[i].name;
	if (k->n)	/* qsort(NULL, 0) is undefined */
		qsort(k->syms, k->n, sizeof(*k->syms), cmp_ksym);
	return k;

err_nomem:
	ksyms__free(k);
	errno = ENOMEM;
	return NULL;
}

struct ksyms *ksyms__load(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	struct ksyms *k;

	if (!f)
		return NULL;
	k = ksyms__parse(f);
	fclose(f);
	return k;
}

const struct ksym *ksyms__find(const struct ksyms *k, uint64_t addr)
{
	size_t lo = bisect_u64(k->syms, k->n, sizeof(*k->syms), offsetof(struct ksym, addr), addr);

	if (!lo)
		return NULL;
	/* aliases share an address: answer with the first name, always */
	while (lo > 1 && k->syms[lo - 2].addr == k->syms[lo - 1].addr)
		lo--;
	return &k->syms[lo - 1];
}

size_t ksyms__count(const struct ksyms *k)
{
	return k->n;
}
