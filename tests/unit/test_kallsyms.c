// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "t.h"
#include "sym/kallsyms.h"

static int parse_fixture(void)
{
	FILE *f = fopen("tests/unit/fixtures/kallsyms.txt", "r");
	const struct ksym *k;
	struct ksyms *ks;

	T_ASSERT(f);
	ks = ksyms__parse(f);
	fclose(f);
	T_ASSERT(ks);
	/* data symbols are left out */
	T_ASSERT(ksyms__count(ks) == 7);
	k = ksyms__find(ks, 0xffffffff81003010ULL);
	T_ASSERT(k);
	T_ASSERT_STR(k->name, "do_syscall_64");
	T_ASSERT_STR(k->module, "kernel");
	/* same address: the first name in sort order */
	k = ksyms__find(ks, 0xffffffff81000010ULL);
	T_ASSERT_STR(k->name, "_stext");
	k = ksyms__find(ks, 0xffffffff81003600ULL);
	T_ASSERT_STR(k->name, "weak_fn");
	k = ksyms__find(ks, 0xffffffffc0a01004ULL);
	T_ASSERT_STR(k->name, "ext4_sync_fs");
	T_ASSERT_STR(k->module, "ext4");
	T_ASSERT(ksyms__find(ks, 0x1000) == NULL);
	ksyms__free(ks);
	return T_OK;
}

static int hidden_addresses(void)
{
	const char *text = "0000000000000000 T _stext\n0000000000000000 t foo\n";
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct ksyms *ks = ksyms__parse(f);

	fclose(f);
	T_ASSERT(!ks && errno == EPERM);
	return T_OK;
}

static int real_kallsyms(void)
{
	struct ksyms *ks;
	const struct ksym *k;

	if (geteuid())
		return T_SKIP;
	ks = ksyms__load();
	T_ASSERT(ks);
	T_ASSERT(ksyms__count(ks) > 10000);
	k = ksyms__find(ks, ksyms__find(ks, ~0ULL)->addr);
	T_ASSERT(k);
	ksyms__free(ks);
	return T_OK;
}

T_MAIN("kallsyms", T(parse_fixture), T(hidden_addresses), T(real_kallsyms))
