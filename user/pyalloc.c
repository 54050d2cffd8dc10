// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pyalloc.c - CPython's object allocator in a build's machine code
 * (pyalloc.h).  The encodings are x86-64's: REX.W 8B /r (mov r64, r/m64),
 * FF /2 and FF /4 (call, jmp r/m64), 8D /r (lea), 3D and 81 /7 (cmp
 * r/m64, imm32), 39 and 3B (cmp between registers).
 */
#include <string.h>
#include "pyalloc.h"

static int32_t le32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

static int rex_w(uint8_t b)
{
	return (b & 0xf8) == 0x48;
}

/* a load from disp(%reg) at *p* (*left* bytes): 1 with the displacement in *disp* */
static int load_via(const uint8_t *p, size_t left, int reg, int64_t *disp)
{
	size_t i = 0;
	int rex = 0, mod, rm;

	if (left && (p[0] & 0xf0) == 0x40)
		rex = p[i++];
	if (i + 2 > left)
		return 0;
	if (p[i] == 0x8b) {
		if (!rex_w(rex))
			return 0;
	} else if (p[i] == 0xff) {
		int op = (p[i + 1] >> 3) & 7;

		if (op != 2 && op != 4)
			return 0;
	} else {
		return 0;
	}
	mod = p[i + 1] >> 6;
	rm = (p[i + 1] & 7) | (rex & 1 ? 8 : 0);
	if ((p[i + 1] & 7) == 4 || rm != reg)
		return 0;
	if (mod == 1 && i + 3 <= left) {
		*disp = (int8_t)p[i + 2];
		return 1;
	}
	if (mod == 2 && i + 6 <= left) {
		*disp = le32(&p[i + 2]);
		return 1;
	}
	return 0;
}

int pyalloc_loads(const uint8_t *code, size_t len, uint64_t vaddr, struct pyalloc_load *out, int max)
{
	int n = 0;
	size_t i, k;

	for (i = 0; i < len && n < max; i++) {
		/* jmp/call *disp32(%rip) */
		if (code[i] == 0xff && i + 6 <= len && (code[i + 1] == 0x25 || code[i + 1] == 0x15)) {
			out[n++] = (struct pyalloc_load){ .at = vaddr + i + 6 + le32(&code[i + 2]) };
			continue;
		}
		/* mov disp32(%rip), %r64 */
		if (rex_w(code[i]) && i + 7 <= len && code[i + 1] == 0x8b && (code[i + 2] & 0xc7) == 0x05) {
			uint64_t at = vaddr + i + 7 + le32(&code[i + 3]);
			int reg = ((code[i + 2] >> 3) & 7) | (code[i] & 4 ? 8 : 0);

			out[n++] = (struct pyalloc_load){ .at = at };
			/* ... and loads through it within the next instructions (a GOT entry's) */
			for (k = i + 7; k < len && k < i + 7 + 32 && n < max; k++) {
				int64_t disp;

				if (load_via(&code[k], len - k, reg, &disp))
					out[n++] = (struct pyalloc_load){ .at = at, .disp = disp, .indirect = 1 };
			}
		}
	}
	return n;
}

static int has(const uint64_t *v, int n, uint64_t x)
{
	int i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

static int addresses(const struct pyalloc_load *l, int n, int (*resolve)(void *, uint64_t, uint64_t *), void *ctx,
		     uint64_t *out)
{
	int i, k = 0;

	for (i = 0; i < n && i < 64; i++) {
		uint64_t v;

		if (!l[i].indirect)
			out[k++] = l[i].at;
		else if (resolve && resolve(ctx, l[i].at, &v))
			out[k++] = v + (uint64_t)l[i].disp;
	}
	return k;
}

int pyalloc_table(const struct pyalloc_load *m, int nm, const struct pyalloc_load *f, int nf,
		  int (*resolve)(void *ctx, uint64_t at, uint64_t *val), void *ctx, uint64_t *table)
{
	uint64_t ma[64], fa[64];
	int nma = addresses(m, nm, resolve, ctx, ma), nfa = addresses(f, nf, resolve, ctx, fa), i;

	for (i = 0; i < nma; i++) {
		uint64_t a = ma[i];

		if (has(ma, nma, a + 8 * PYALLOC_MALLOC) && has(fa, nfa, a) && has(fa, nfa, a + 8 * PYALLOC_FREE)) {
			*table = a;
			return 1;
		}
	}
	return 0;
}

/* a cmp between two registers at *p*, one of them *reg* */
static int cmp_with(const uint8_t *p, size_t left, int reg)
{
	int r, m;

	if (left < 3 || (p[0] & 0xf0) != 0x40 || (p[1] != 0x39 && p[1] != 0x3b) || (p[2] >> 6) != 3)
		return 0;
	r = ((p[2] >> 3) & 7) | (p[0] & 4 ? 8 : 0);
	m = (p[2] & 7) | (p[0] & 1 ? 8 : 0);
	return r == reg || m == reg;
}

size_t pyalloc_guards(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t func)
{
	size_t i, n = 0;

	for (i = 0; i + 6 <= len; i++) {
		if (func <= 0x7fffffff) {
			/* cmp $func, %rax; cmp $func, %r64 */
			if (code[i] == 0x48 && code[i + 1] == 0x3d && (uint32_t)le32(&code[i + 2]) == func) {
				n++;
				continue;
			}
			if (i + 7 <= len && (code[i] == 0x48 || code[i] == 0x49) && code[i + 1] == 0x81 &&
			    (code[i + 2] & 0xf8) == 0xf8 && (uint32_t)le32(&code[i + 3]) == func) {
				n++;
				continue;
			}
		}
		/* lea func(%rip), %r64; cmp %r64, ... */
		if (i + 7 <= len && (code[i] == 0x48 || code[i] == 0x4c) && code[i + 1] == 0x8d &&
		    (code[i + 2] & 0xc7) == 0x05 && vaddr + i + 7 + le32(&code[i + 3]) == func &&
		    cmp_with(&code[i + 7], len - i - 7, ((code[i + 2] >> 3) & 7) | (code[i] & 4 ? 8 : 0)))
			n++;
	}
	return n;
}
