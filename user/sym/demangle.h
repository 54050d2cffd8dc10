/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef __EBPROF_DEMANGLE_H
#define __EBPROF_DEMANGLE_H

/*
 * the demangled form of a C++ or (legacy-mangled) Rust symbol, malloc'd, or
 * NULL when *name* is not mangled or cannot be demangled
 */
char *demangle(const char *name);
/* Rust's v0 mangling ("_R..."), malloc'd, or NULL */
char *rust_v0_demangle(const char *sym);

#endif
