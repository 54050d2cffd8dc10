/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * elf.h - a "dso": one ELF file (executable, shared library, vdso) and its
 * function symbols, loaded lazily on the first lookup.
 */
#ifndef __EBPROF_ELF_H
#define __EBPROF_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libelf.h>
#include <sys/types.h>

struct sym {
	uint64_t addr;
	uint64_t size;
	const char *name;
};

struct dso;

/*
 * a dso for the file open at *fd* (owned by the dso from now on); *path* is
 * the path the process mapped it under, *root* the directory that path is
 * relative to ("/proc/PID/root", or "" for ours): separate debug files are
 * looked for there
 */
struct dso *dso__new_fd(int fd, const char *path, const char *root);
/* a dso for an ELF image in memory (copied), such as the vdso */
struct dso *dso__new_mem(const void *buf, size_t len, const char *name);
void dso__free(struct dso *d);

/* basename of the mapped path: the module column */
const char *dso__name(const struct dso *d);
/* parse the ELF file now (done on first use otherwise): 0 or -errno */
int dso__load(struct dso *d);
/* an ELF virtual address to its offset in the file (what uprobes take) */
bool dso__vaddr_to_offset(struct dso *d, uint64_t vaddr, uint64_t *off);
/* a file offset in a mapping to the ELF virtual address symbols use */
bool dso__file_to_vaddr(struct dso *d, uint64_t off, uint64_t *vaddr);
/*
 * for a mapping of the file at *start* from offset *pgoff* (*exec*: an
 * executable one), the bias: address - bias = ELF virtual address
 */
bool dso__map_bias(struct dso *d, uint64_t start, uint64_t pgoff, bool exec, uint64_t *bias);
/* the function containing *vaddr*, or NULL */
const struct sym *dso__find(struct dso *d, uint64_t vaddr);
size_t dso__nr_syms(struct dso *d);
/* symbol *i*, by address, or NULL */
const struct sym *dso__sym_at(struct dso *d, size_t i);
/* a new libelf handle on the file (elf_end() it), or NULL */
Elf *dso__elf(struct dso *d);
/* any symbol named *name* (.dynsym and .symtab, data too): its ELF vaddr */
bool dso__symbol(struct dso *d, const char *name, uint64_t *vaddr, uint64_t *size);
/* ... the same in an ELF file libelf has open (*size* may be NULL) */
bool elf__symbol(Elf *elf, const char *name, uint64_t *vaddr, uint64_t *size);
/* ... a function of that name (FUNC, IFUNC) */
bool elf__function(Elf *elf, const char *name, uint64_t *vaddr, uint64_t *size);
/* the path the process mapped the file under */
const char *dso__path(const struct dso *d);
/* read the file's bytes at ELF virtual address *vaddr*: bytes read or -errno */
ssize_t dso__read(struct dso *d, uint64_t vaddr, void *buf, size_t len);
/* the open descriptor of the file, or -1 */
int dso__fd(const struct dso *d);
struct srcline {
	int line;		/* the line in the function (for inlined code, its call) */
	const char *fn_file;	/* the function's source file, owned by the dso */
	int fn_line;		/* the line it is declared on */
	const char *comp_dir;	/* what a relative fn_file is relative to, or NULL */
};

/* from DWARF (the file's or its debug file's): the source line at *vaddr* */
bool dso__srcline(struct dso *d, uint64_t vaddr, struct srcline *out);
/* does the file's dynamic symbol table name *name*, defined or imported? */
bool dso__mentions(struct dso *d, const char *name);
/* the file's GNU build-id in hex, or NULL */
const char *dso__build_id(struct dso *d);
/* did the symbols come from a separate debug file? */
bool dso__has_debug_file(struct dso *d);
/*
 * would *d* need a debug file from elsewhere to name its functions (no
 * .symtab, no debug file on this machine)?  Then its build-id, in hex,
 * is in *build_id*
 */
bool dso__debug_wanted(struct dso *d, char *build_id, size_t len);
/*
 * the last resort for a debug file: *fetch*(build-id in hex) returns an
 * open descriptor of it, -1 (none to be had), or -EAGAIN while it is being
 * fetched, and the symbols are then loaded again at a later lookup
 * (debuginfod); NULL: none
 */
void elf_set_debug_fetcher(int (*fetch)(const char *build_id));

#endif
