// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * unwind.c - unwind tables from call-frame information, with libdw.
 *
 * libdw has no row iterator: FDEs are listed with dwarf_next_cfi() (their
 * initial location decoded here), and each row is found by asking
 * dwarf_cfi_addrframe() at the end of the previous row.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "unwind.h"
#include "sym/elf.h"
#include "util/grow.h"
#include "util/strmap.h"

#define REG_RBX 3
#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16

struct fde_range {
	uint64_t lo, hi;
};

struct row_vec {
	struct unwind_row *v;
	size_t n, cap;
};

static int push_row(struct row_vec *r, uint64_t pc, const struct unwind_row *rule)
{
	struct unwind_row row = *rule;

	row.pc = (uint32_t)pc;
	if (r->n) {
		struct unwind_row *last = &r->v[r->n - 1];

		if (pc < last->pc)	/* overlapping FDEs: keep the first */
			return 0;
		if (last->kind == row.kind && last->cfa == row.cfa && last->rbp == row.rbp &&
		    last->rbx == row.rbx)
			return 0;	/* same rule: one row covers both */
		if (last->pc == row.pc) {
			*last = row;
			return 0;
		}
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		struct unwind_row *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = row;
	return 0;
}

/* DW_EH_PE-encoded pointer at *p*; *here* is its address, for pcrel */
static int read_ptr(const uint8_t *p, const uint8_t *end, uint8_t enc, uint64_t here,
		    uint64_t *out, size_t *len)
{
	int64_t v;

	switch (enc & 0x0f) {
	case DW_EH_PE_sdata4: {
		int32_t x;

		if (end - p < 4)
			return -EINVAL;
		memcpy(&x, p, 4);
		v = x;
		*len = 4;
		break;
	}
	case DW_EH_PE_udata4: {
		uint32_t x;

		if (end - p < 4)
			return -EINVAL;
		memcpy(&x, p, 4);
		v = x;
		*len = 4;
		break;
	}
	case DW_EH_PE_absptr:
	case DW_EH_PE_sdata8:
	case DW_EH_PE_udata8:
		if (end - p < 8)
			return -EINVAL;
		memcpy(&v, p, 8);
		*len = 8;
		break;
	default:
		return -EINVAL;
	}
	if ((enc & 0x70) == DW_EH_PE_pcrel)
		v += (int64_t)here;
	else if ((enc & 0x70) != DW_EH_PE_absptr)
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

/* the FDE pointer encoding ('R') of a CIE's augmentation */
static int fde_encoding(const Dwarf_CIE *cie, uint8_t *enc)
{
	const uint8_t *d = cie->augmentation_data;
	const char *a = cie->augmentation;

	*enc = DW_EH_PE_absptr;
	if (a[0] != 'z')
		return a[0] == '\0' ? 0 : -EINVAL;
	for (a++; *a; a++) {
		switch (*a) {
		case 'R':
			*enc = *d++;
			break;
		case 'L':
			d++;
			break;
		case 'S':
			break;
		case 'P': {
			uint8_t pe = *d++;

			d += (pe & 0x0f) == DW_EH_PE_udata4 || (pe & 0x0f) == DW_EH_PE_sdata4 ? 4 : 8;
			break;
		}
		default:
			return -EINVAL;
		}
	}
	return 0;
}

static int cmp_fde(const void *a, const void *b)
{
	const struct fde_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* every FDE's [lo, hi) in *data* (a .eh_frame or .debug_frame at *addr*) */
static int list_fdes(Elf *elf, Elf_Data *data, uint64_t addr, bool eh, struct fde_range **out, size_t *n)
{
	const unsigned char *ident = (const unsigned char *)elf_getident(elf, NULL);
	const uint8_t *end;
	struct fde_range *v = NULL;
	size_t cnt = 0, cap = 0;
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry e;
	int r;

	*out = NULL;
	*n = 0;
	if (!ident || !data || !data->d_buf)	/* a section with no bytes (SHT_NOBITS) */
		return 0;
	end = (const uint8_t *)data->d_buf + data->d_size;
	while ((r = dwarf_next_cfi(ident, data, eh, off, &next, &e)) != 1) {
		Dwarf_CFI_Entry ce;
		Dwarf_Off cnext;
		uint64_t lo, len;
		size_t l1, l2;
		uint8_t enc;

		/* a hostile table may not move on: no entry is read twice */
		if (next == (Dwarf_Off)-1 || next <= off)
			break;
		if (r < 0) {
			off = next;
			continue;
		}
		off = next;
		if (dwarf_cfi_cie_p(&e))
			continue;
		if (dwarf_next_cfi(ident, data, eh, e.fde.CIE_pointer, &cnext, &ce) != 0 ||
		    !dwarf_cfi_cie_p(&ce) || fde_encoding(&ce.cie, &enc))
			continue;
		if (!eh)
			enc = DW_EH_PE_absptr;
		if (read_ptr(e.fde.start, end, enc, addr + (uint64_t)(e.fde.start - (const uint8_t *)data->d_buf), &lo, &l1) ||
		    read_ptr(e.fde.start + l1, end, enc & 0x0f, 0, &len, &l2) || !len)
			continue;
		if (cnt == cap) {
			struct fde_range *nv;

			cap = cap ? cap * 2 : 512;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[cnt].lo = lo;
		v[cnt].hi = lo + len;
		cnt++;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_fde);
	*out = v;
	*n = cnt;
	return 0;
}

/* "saved at CFA + off": libdw gives call_frame_cfa [plus_uconst N | consts N, plus] */
static bool cfa_offset_rule(const Dwarf_Op *ops, size_t n, int64_t *off)
{
	if (n < 1 || ops[0].atom != DW_OP_call_frame_cfa)
		return false;
	if (n == 1) {
		*off = 0;
		return true;
	}
	if (n == 2 && ops[1].atom == DW_OP_plus_uconst) {
		*off = (int64_t)ops[1].number;
		return true;
	}
	if (n == 3 && ops[1].atom == DW_OP_consts && ops[2].atom == DW_OP_plus) {
		*off = (int64_t)ops[1].number;
		return true;
	}
	return false;
}

/* the PLT's "rsp + 8 + ((rip & 15) >= N) << 3": N, or -1 */
static int plt_literal(const Dwarf_Op *o, size_t n)
{
	if (n != 9 || o[0].atom != DW_OP_breg7 || o[0].number != 8 || o[1].atom != DW_OP_breg16 ||
	    o[1].number != 0 || o[2].atom != DW_OP_lit15 || o[3].atom != DW_OP_and ||
	    o[4].atom < DW_OP_lit0 || o[4].atom > DW_OP_lit31 || o[5].atom != DW_OP_ge ||
	    o[6].atom != DW_OP_lit3 || o[7].atom != DW_OP_shl || o[8].atom != DW_OP_plus)
		return -1;
	return o[4].atom - DW_OP_lit0;
}

/*
 * Where a callee-saved register is for the caller: 0 unchanged, n saved at
 * CFA - 8 n (n <= max), or -1: somewhere the walker does not follow.
 * libdw's default x86-64 rules (elfutils 0.188) give rbx (DWARF register 3)
 * no "same value" rule where an FDE says nothing of it, as they do rbp and
 * r12-r15, so it reads as undefined; rbx is callee-saved in the psABI, and
 * with *undefined_same* such a rule is taken as unchanged.
 */
static int saved_slot(Dwarf_Frame *fr, int reg, int max, bool undefined_same)
{
	Dwarf_Op mem[3], *ops;
	int64_t off;
	size_t n;

	if (dwarf_frame_register(fr, reg, mem, &ops, &n))
		return -1;
	if (n == 0 && (ops == NULL || undefined_same))
		return 0;	/* same value: unchanged */
	if (!cfa_offset_rule(ops, n, &off) || off >= 0 || -off % 8 || -off / 8 > max)
		return -1;	/* undefined, in a register, or an expression */
	return -off / 8;
}

/* one row's rule, as an unwind_row without its pc */
static void classify(Dwarf_Frame *fr, struct unwind_row *row)
{
	Dwarf_Op mem[3], *ops;
	Dwarf_Addr s, e;
	bool signal;
	int64_t off;
	size_t n;
	int lit, slot;

	*row = (struct unwind_row){ .kind = EBPROF_ROW_INVALID };
	dwarf_frame_info(fr, &s, &e, &signal);
	if (signal) {
		row->kind = EBPROF_ROW_SIGNAL;
		return;
	}
	if (dwarf_frame_register(fr, REG_RA, mem, &ops, &n))
		return;
	if (n == 0 && ops != NULL) {	/* undefined: the outermost frame */
		row->kind = EBPROF_ROW_STOP;
		return;
	}
	if (!cfa_offset_rule(ops, n, &off) || off != -8)
		return;
	if (dwarf_frame_cfa(fr, &ops, &n) || n == 0)
		return;
	if (n == 1 && ops[0].atom == DW_OP_bregx &&
	    (ops[0].number == REG_RSP || ops[0].number == REG_RBP || ops[0].number == REG_RBX)) {
		int64_t c = (int64_t)ops[0].number2;

		if (c < 0 || c % 8 || c / 8 > 0xffff)
			return;
		row->cfa = c / 8;
		row->kind = ops[0].number == REG_RSP ? EBPROF_ROW_CFA_RSP :
			    ops[0].number == REG_RBP ? EBPROF_ROW_CFA_RBP : EBPROF_ROW_CFA_RBX;
	} else if ((lit = plt_literal(ops, n)) >= 0) {
		row->cfa = lit;
		row->kind = EBPROF_ROW_PLT;
	} else {
		return;
	}
	slot = saved_slot(fr, REG_RBP, 0xff, false);
	if (slot < 0) {
		*row = (struct unwind_row){ .kind = EBPROF_ROW_INVALID };
		return;
	}
	row->rbp = slot;
	/* rbx lost only matters to a CFA in rbx further up: the walk goes on */
	slot = saved_slot(fr, REG_RBX, EBPROF_RBX_LOST - 1, true);
	row->rbx = slot < 0 ? EBPROF_RBX_LOST : slot;
}

static Elf_Scn *find_section(Elf *elf, const char *want, GElf_Shdr *out)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, out))
			continue;
		name = elf_strptr(elf, shstrndx, out->sh_name);
		if (name && !strcmp(name, want) && out->sh_type != SHT_NOBITS)
			return scn;
	}
	return NULL;
}

static int rows_from_cfi(Dwarf_CFI *cfi, const struct fde_range *f, size_t nf, struct row_vec *rv,
			 struct unwind_build_stats *st)
{
	size_t i;
	int err;

	for (i = 0; i < nf; i++) {
		uint64_t a = f[i].lo;

		if (f[i].hi > UINT32_MAX)
			return -E2BIG;	/* rows hold 32-bit addresses */
		while (a < f[i].hi) {
			struct unwind_row row;
			Dwarf_Frame *fr;
			Dwarf_Addr s, e;
			bool sig;

			if (dwarf_cfi_addrframe(cfi, a, &fr)) {
				row = (struct unwind_row){ .kind = EBPROF_ROW_GAP };
				e = a + 1;
			} else {
				classify(fr, &row);
				dwarf_frame_info(fr, &s, &e, &sig);
				free(fr);
			}
			st->rows++;
			st->invalid += row.kind == EBPROF_ROW_INVALID;
			err = push_row(rv, a, &row);
			if (err)
				return err;
			a = e > a ? e : a + 1;
		}
		/* code after this FDE that the next one does not cover */
		if (i + 1 == nf || f[i + 1].lo > f[i].hi) {
			err = push_row(rv, f[i].hi, &(struct unwind_row){ .kind = EBPROF_ROW_GAP });
			if (err)
				return err;
		}
	}
	st->fdes += nf;
	return 0;
}

/*
 * The ELF entry point, where no FDE covers it: the outermost frame.  The
 * dynamic loader's entry (glibc's RTLD_START, assembly without CFI) is the
 * caller of _dl_start and _dl_init: a walk that reaches it is complete.
 * It runs to the next row, or a short way when no row follows.
 */
#define ENTRY_CODE_MAX 256

static int entry_stop(Elf *elf, struct row_vec *rv)
{
	GElf_Ehdr eh;
	size_t i, k;

	if (!gelf_getehdr(elf, &eh) || !eh.e_entry || eh.e_entry + ENTRY_CODE_MAX > UINT32_MAX)
		return 0;
	for (i = 0; i < rv->n && rv->v[i].pc <= eh.e_entry; i++)
		;
	if (i && rv->v[i - 1].kind != EBPROF_ROW_GAP)
		return 0;	/* an FDE covers it */
	if (i && rv->v[i - 1].pc == eh.e_entry) {
		rv->v[i - 1].kind = EBPROF_ROW_STOP;
		return 0;
	}
	/* a STOP row at i, and a GAP after it unless the next row comes first */
	k = i < rv->n && rv->v[i].pc <= eh.e_entry + ENTRY_CODE_MAX ? 1 : 2;
	if (rv->n + k > rv->cap) {
		size_t cap = rv->n + k + 1024;
		struct unwind_row *v = realloc(rv->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rv->v = v;
		rv->cap = cap;
	}
	memmove(&rv->v[i + k], &rv->v[i], (rv->n - i) * sizeof(rv->v[0]));
	rv->n += k;
	rv->v[i] = (struct unwind_row){ .pc = (uint32_t)eh.e_entry, .kind = EBPROF_ROW_STOP };
	if (k == 2)
		rv->v[i + 1] = (struct unwind_row){ .pc = (uint32_t)(eh.e_entry + ENTRY_CODE_MAX), .kind = EBPROF_ROW_GAP };
	return 0;
}

int unwind_build_elf(Elf *elf, struct unwind_row **rows, size_t *n, struct unwind_build_stats *st)
{
	struct unwind_build_stats dummy;
	struct fde_range *f = NULL;
	struct row_vec rv = {};
	Dwarf_CFI *cfi = NULL;
	Dwarf *dw = NULL;
	Elf_Scn *scn;
	GElf_Shdr sh;
	size_t nf = 0;
	int err = -ENOENT;

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	scn = find_section(elf, ".eh_frame", &sh);
	if (scn) {
		err = list_fdes(elf, elf_getdata(scn, NULL), sh.sh_addr, true, &f, &nf);
		if (!err && nf)
			cfi = dwarf_getcfi_elf(elf);
	}
	if (!cfi) {
		/* built with -fno-asynchronous-unwind-tables: only .debug_frame */
		free(f);
		f = NULL;
		nf = 0;
		scn = find_section(elf, ".debug_frame", &sh);
		if (scn) {
			dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
			err = list_fdes(elf, elf_getdata(scn, NULL), sh.sh_addr, false, &f, &nf);
			if (dw && !err && nf)
				cfi = dwarf_getcfi(dw);
		}
	}
	if (!cfi) {
		err = err ? err : -ENOENT;
		goto out;
	}
	err = rows_from_cfi(cfi, f, nf, &rv, st);
	if (!err)
		err = entry_stop(elf, &rv);
	if (!err && !rv.n)
		err = -ENOENT;
out:
	if (cfi && !dw)
		dwarf_cfi_end(cfi);
	if (dw)
		dwarf_end(dw);
	free(f);
	if (err) {
		free(rv.v);
		return err;
	}
	*rows = rv.v;
	*n = rv.n;
	return 0;
}

const struct unwind_row *unwind_find_row(const struct unwind_row *rows, size_t n, uint32_t pc)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rows[mid].pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &rows[lo - 1] : NULL;
}

#define USER_TOP 0x800000000000ULL

/* code with no table: frame pointers, or CPython's perf trampoline stub; 0 to go on */
static int walk_fp(const struct unwind_source *src, struct unwind_regs *w, bool *ret_addr, bool *bx_lost,
		   unsigned int *end)
{
	uint64_t code, fr[2];

	/* sub $8,%rsp; call *REG; add $8,%rsp; ret: returning into it, its CFA is 16 bytes up */
	if (*ret_addr && !src->read(src->ctx, w->ip, &code) && (code & 0xffffffffffULL) == 0xc308c48348ULL) {
		if (src->read(src->ctx, w->sp + 8, &fr[1])) {
			*end = EBPROF_END_READ_FAULT;
			return 1;
		}
		w->sp += 16;
		w->ip = fr[1];
		return 0;
	}
	if (!w->bp || (w->bp & 7) || w->bp < w->sp) {
		*end = EBPROF_END_BAD_FRAME;
		return 1;
	}
	if (src->read(src->ctx, w->bp, &fr[0]) || src->read(src->ctx, w->bp + 8, &fr[1])) {
		*end = EBPROF_END_READ_FAULT;
		return 1;
	}
	w->sp = w->bp + 16;
	w->bp = fr[0];
	w->ip = fr[1];
	*ret_addr = true;
	*bx_lost = true;	/* frame-pointer code says nothing of where it saved rbx */
	return 0;
}

int unwind_walk(const struct unwind_source *src, const struct unwind_regs *r, __u64 *ips, int max,
		unsigned int *end)
{
	struct unwind_regs w = *r;
	bool ret_addr = false, bx_lost = false;
	struct unwind_row row;
	struct unwind_map m;
	uint64_t key, cfa, ra, sc[4];
	int n = 0;

	for (;;) {
		if (n >= max) {
			*end = EBPROF_END_DEPTH;
			return n;
		}
		if (w.ip < 0x1000 || w.ip >= USER_TOP) {
			*end = w.ip ? EBPROF_END_BAD_FRAME : EBPROF_END_COMPLETE;
			return n;
		}
		ips[n++] = w.ip;
		key = ret_addr ? w.ip - 1 : w.ip;
		if (src->map(src->ctx, key, &m) || key >= m.end) {
			*end = EBPROF_END_NO_MAPPING;
			return n;
		}
		if (!(m.flags & EBPROF_MAP_TABLE)) {
			if (!(m.flags & EBPROF_MAP_FP)) {
				*end = EBPROF_END_NO_TABLE;
				return n;
			}
			goto fp;
		}
		if (key - m.bias > 0xffffffffULL) {
			*end = EBPROF_END_TABLE_MISS;
			return n;
		}
		{
			uint32_t lo = m.first, hi = m.first + m.nrows, pc = (uint32_t)(key - m.bias);

			while (lo < hi) {
				uint32_t mid = lo + (hi - lo) / 2;

				if (src->row(src->ctx, mid, &row)) {
					*end = EBPROF_END_TABLE_MISS;
					return n;
				}
				if (row.pc <= pc)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo == m.first)
				goto fp;	/* below the first row: crtstuff, _init */
			if (src->row(src->ctx, lo - 1, &row)) {
				*end = EBPROF_END_TABLE_MISS;
				return n;
			}
		}
		switch (row.kind) {
		case EBPROF_ROW_GAP:
			goto fp;
		case EBPROF_ROW_CFA_RSP:
			cfa = w.sp + (uint64_t)row.cfa * 8;
			break;
		case EBPROF_ROW_CFA_RBP:
			cfa = w.bp + (uint64_t)row.cfa * 8;
			break;
		case EBPROF_ROW_CFA_RBX:
			if (bx_lost) {
				*end = EBPROF_END_TABLE_MISS;
				return n;
			}
			cfa = w.bx + (uint64_t)row.cfa * 8;
			break;
		case EBPROF_ROW_PLT:
			cfa = w.sp + 8 + ((w.ip & 15) >= row.cfa ? 8 : 0);
			break;
		case EBPROF_ROW_SIGNAL:
			/* the rt_sigframe's sigcontext: rbp +80, rbx +88, rsp +120, rip +128 from its start, 40 bytes in */
			if (src->read(src->ctx, w.sp + 120, &sc[0]) || src->read(src->ctx, w.sp + 128, &sc[1]) ||
			    src->read(src->ctx, w.sp + 160, &sc[2]) || src->read(src->ctx, w.sp + 168, &sc[3])) {
				*end = EBPROF_END_READ_FAULT;
				return n;
			}
			w.bp = sc[0];
			w.bx = sc[1];
			w.sp = sc[2];
			w.ip = sc[3];
			bx_lost = false;
			ret_addr = false;
			continue;
		case EBPROF_ROW_STOP:
			*end = EBPROF_END_COMPLETE;
			return n;
		default:
			*end = EBPROF_END_TABLE_MISS;
			return n;
		}
		if (cfa <= w.sp) {
			*end = EBPROF_END_BAD_FRAME;
			return n;
		}
		if (src->read(src->ctx, cfa - 8, &ra) ||
		    (row.rbp && src->read(src->ctx, cfa - 8 * (uint64_t)row.rbp, &w.bp))) {
			*end = EBPROF_END_READ_FAULT;
			return n;
		}
		if (row.rbx == EBPROF_RBX_LOST)
			bx_lost = true;
		else if (row.rbx && src->read(src->ctx, cfa - 8 * (uint64_t)row.rbx, &w.bx))
			bx_lost = true;
		w.sp = cfa;
		w.ip = ra;
		ret_addr = true;
		continue;
fp:
		if (walk_fp(src, &w, &ret_addr, &bx_lost, end))
			return n;
	}
}

struct pool_entry {
	uint32_t first, nrows;
	int err;
	unsigned int collects;	/* -ENOSPC: the pool's collects then (a collect since: try again) */
};

/* a free range of rows */
struct hole {
	uint32_t first, n;
};

struct unwind_pool {
	unwind_write_fn write;
	void *ctx;
	size_t cap, used, files;
	size_t top;		/* rows above it were never handed out */
	struct hole *holes;	/* below top, by first */
	size_t nholes, holes_cap;
	unsigned int collects;
	size_t evicted;
	double seconds;
	struct strmap *by_dso;	/* struct dso * -> pool_entry */
};

struct unwind_pool *unwind_pool__new(size_t cap, unwind_write_fn write, void *ctx)
{
	struct unwind_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->write = write;
	p->ctx = ctx;
	p->cap = cap;
	p->by_dso = strmap__new();
	if (!p->by_dso) {
		free(p);
		return NULL;
	}
	return p;
}

void unwind_pool__free(struct unwind_pool *p)
{
	size_t it = 0;
	void *v;

	if (!p)
		return;
	while ((v = strmap__next(p->by_dso, &it, NULL, NULL)))
		free(v);
	strmap__free(p->by_dso);
	free(p->holes);
	free(p);
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* *n* rows: the first hole they fit in, else above top; -ENOSPC */
static int pool_alloc(struct unwind_pool *p, size_t n, uint32_t *first)
{
	size_t i;

	for (i = 0; i < p->nholes; i++) {
		if (p->holes[i].n < n)
			continue;
		*first = p->holes[i].first;
		p->holes[i].first += n;
		p->holes[i].n -= n;
		if (!p->holes[i].n)
			memmove(&p->holes[i], &p->holes[i + 1], (--p->nholes - i) * sizeof(*p->holes));
		return 0;
	}
	if (p->top + n > p->cap)
		return -ENOSPC;
	*first = p->top;
	p->top += n;
	return 0;
}

/* rows [first, first + n) free again: a hole, merged with its neighbours */
static int pool_release(struct unwind_pool *p, uint32_t first, uint32_t n)
{
	size_t i = 0;

	while (i < p->nholes && p->holes[i].first < first)
		i++;
	if (i > 0 && p->holes[i - 1].first + p->holes[i - 1].n == first) {
		p->holes[i - 1].n += n;
		if (i < p->nholes && first + n == p->holes[i].first) {
			p->holes[i - 1].n += p->holes[i].n;
			memmove(&p->holes[i], &p->holes[i + 1], (--p->nholes - i) * sizeof(*p->holes));
		}
	} else if (i < p->nholes && first + n == p->holes[i].first) {
		p->holes[i].first = first;
		p->holes[i].n += n;
	} else {
		if (GROW(p->holes, p->nholes, p->holes_cap, 16))
			return -ENOMEM;
		memmove(&p->holes[i + 1], &p->holes[i], (p->nholes - i) * sizeof(*p->holes));
		p->holes[i] = (struct hole){ first, n };
		p->nholes++;
	}
	/* the hole at the top is the top */
	if (p->nholes && p->holes[p->nholes - 1].first + p->holes[p->nholes - 1].n == p->top) {
		p->top = p->holes[p->nholes - 1].first;
		p->nholes--;
	}
	return 0;
}

int unwind_pool__get(struct unwind_pool *p, struct dso *d, uint32_t *first, uint32_t *nrows)
{
	struct pool_entry *e = strmap__get(p->by_dso, &d, sizeof(d));
	struct unwind_row *rows = NULL;
	uint32_t at = 0;
	double t0;
	size_t n = 0;
	Elf *elf;

	/* too big before: again if rows were freed since */
	if (e && e->err == -ENOSPC && e->collects != p->collects) {
		strmap__del(p->by_dso, &d, sizeof(d));
		free(e);
		e = NULL;
	}
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e || strmap__set(p->by_dso, &d, sizeof(d), e)) {
			free(e);
			return -ENOMEM;
		}
		t0 = mono();
		elf = dso__elf(d);
		e->err = elf ? unwind_build_elf(elf, &rows, &n, NULL) : -ENOENT;
		if (elf)
			elf_end(elf);
		if (!e->err)
			e->err = pool_alloc(p, n, &at);
		if (!e->err) {
			e->err = p->write(p->ctx, at, rows, n);
			if (e->err)
				pool_release(p, at, n);
		}
		if (!e->err) {
			e->first = at;
			e->nrows = n;
			p->used += n;
			p->files++;
		}
		e->collects = p->collects;
		free(rows);
		p->seconds += mono() - t0;
	}
	*first = e->first;
	*nrows = e->nrows;
	return e->err;
}

size_t unwind_pool__collect(struct unwind_pool *p, bool (*in_use)(uint32_t first, void *ctx), void *ctx)
{
	size_t it = 0, n = 0;
	const void *key;
	size_t klen;
	struct pool_entry *e;
	struct dso *gone[64];
	size_t ngone = 0, i;

	/* a batch at a time: the map cannot change under its walk */
	do {
		ngone = 0;
		it = 0;
		while (ngone < 64 && (e = strmap__next(p->by_dso, &it, &key, &klen))) {
			if (e->err || !e->nrows || in_use(e->first, ctx))
				continue;
			memcpy(&gone[ngone++], key, sizeof(gone[0]));
		}
		for (i = 0; i < ngone; i++) {
			e = strmap__del(p->by_dso, &gone[i], sizeof(gone[i]));
			if (e && !pool_release(p, e->first, e->nrows)) {
				p->used -= e->nrows;
				p->files--;
				n++;
			}
			free(e);
		}
	} while (ngone == 64);
	p->collects++;
	p->evicted += n;
	return n;
}

size_t unwind_pool__evicted(const struct unwind_pool *p)
{
	return p->evicted;
}

size_t unwind_pool__used(const struct unwind_pool *p)
{
	return p->used;
}

size_t unwind_pool__files(const struct unwind_pool *p)
{
	return p->files;
}

double unwind_pool__build_seconds(const struct unwind_pool *p)
{
	return p->seconds;
}
