// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rust_v0.c - Rust's v0 symbol mangling (RFC 2603: "_R..."), printed the
 * way rustc-demangle's alternate form does: paths, impls, generic
 * arguments and types, without disambiguators or the instantiating crate.
 * Backreferences are followed with a depth limit; anything not understood
 * makes the whole demangling fail (the caller shows the raw name).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "demangle.h"

struct v0 {
	const char *s;		/* after "_R" */
	size_t len, pos;
	char *out;
	size_t olen, ocap;
	int depth;
	bool bad;
};

static void put(struct v0 *v, const char *s, size_t n)
{
	if (v->bad)
		return;
	if (v->olen + n + 1 > v->ocap) {
		size_t cap = (v->olen + n + 1) * 2;
		char *o = realloc(v->out, cap);

		if (!o) {
			v->bad = true;
			return;
		}
		v->out = o;
		v->ocap = cap;
	}
	memcpy(v->out + v->olen, s, n);
	v->olen += n;
	v->out[v->olen] = '\0';
}

static void puts_(struct v0 *v, const char *s)
{
	put(v, s, strlen(s));
}

static char peek(struct v0 *v)
{
	return v->pos < v->len ? v->s[v->pos] : '\0';
}

static bool eat(struct v0 *v, char c)
{
	if (peek(v) != c)
		return false;
	v->pos++;
	return true;
}

static char next(struct v0 *v)
{
	if (v->pos >= v->len) {
		v->bad = true;
		return '\0';
	}
	return v->s[v->pos++];
}

/* {0-9a-zA-Z} "_": "_" is 0, otherwise the number + 1 */
static uint64_t base62(struct v0 *v)
{
	uint64_t x = 0;
	char c;

	if (eat(v, '_'))
		return 0;
	while ((c = next(v)) != '_' && !v->bad) {
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'z')
			d = 10 + c - 'a';
		else if (c >= 'A' && c <= 'Z')
			d = 36 + c - 'A';
		else {
			v->bad = true;
			return 0;
		}
		x = x * 62 + d;
	}
	return x + 1;
}

static uint64_t decimal(struct v0 *v)
{
	uint64_t x = 0;

	if (peek(v) < '0' || peek(v) > '9') {
		v->bad = true;
		return 0;
	}
	if (eat(v, '0'))	/* "0" or a number without leading zeros */
		return 0;
	while (peek(v) >= '0' && peek(v) <= '9') {
		if (x > (UINT64_MAX - 9) / 10) {	/* longer than any symbol */
			v->bad = true;
			return 0;
		}
		x = x * 10 + (next(v) - '0');
	}
	return x;
}

static void disambiguator(struct v0 *v)
{
	if (eat(v, 's'))
		base62(v);
}

/* [u] decimal [_] bytes; punycode (u) is printed as it is */
static void ident(struct v0 *v, bool print)
{
	uint64_t n;

	eat(v, 'u');
	n = decimal(v);
	eat(v, '_');
	if (v->bad || n > v->len - v->pos) {
		v->bad = true;
		return;
	}
	if (print)
		put(v, v->s + v->pos, n);
	v->pos += n;
}

static void path(struct v0 *v);
static void type(struct v0 *v);

/* run *fn* at a backreference, then come back */
static void backref(struct v0 *v, void (*fn)(struct v0 *))
{
	uint64_t at = base62(v);
	size_t saved = v->pos;

	if (v->bad || at >= v->pos || ++v->depth > 64) {
		v->bad = true;
		return;
	}
	v->pos = at;
	fn(v);
	v->pos = saved;
	v->depth--;
}

static void lifetime(struct v0 *v)
{
	base62(v);
	puts_(v, "'_");
}

static void generic_args(struct v0 *v)
{
	bool first = true;

	puts_(v, "<");
	while (!eat(v, 'E') && !v->bad) {
		if (!first)
			puts_(v, ", ");
		first = false;
		if (eat(v, 'L')) {
			lifetime(v);
		} else if (eat(v, 'K')) {
			/* a const: its type, then hex data; printed as _ */
			if (eat(v, 'p')) {
				puts_(v, "_");
			} else {
				type(v);
				eat(v, 'n');
				while (peek(v) != '_' && !v->bad)
					next(v);
				eat(v, '_');
			}
		} else {
			type(v);
		}
	}
	puts_(v, ">");
}

/* drop what was printed since *o* */
static void truncate_to(struct v0 *v, size_t o)
{
	v->olen = o;
	if (v->out)
		v->out[o] = '\0';
}

/* an impl's own path (where the impl block is) is parsed but not printed */
static void impl_path(struct v0 *v)
{
	size_t o = v->olen;

	path(v);
	truncate_to(v, o);
}

static void path(struct v0 *v)
{
	char c = next(v), ns;

	if (v->bad || ++v->depth > 64) {
		v->bad = true;
		return;
	}
	switch (c) {
	case 'C':
		disambiguator(v);
		ident(v, true);
		break;
	case 'M':	/* <T> */
		disambiguator(v);
		impl_path(v);
		puts_(v, "<");
		type(v);
		puts_(v, ">");
		break;
	case 'X':	/* a trait impl: where it is, then <T as Trait> as for Y */
		disambiguator(v);
		impl_path(v);
		/* fall through */
	case 'Y':	/* <T as Trait> */
		puts_(v, "<");
		type(v);
		puts_(v, " as ");
		path(v);
		puts_(v, ">");
		break;
	case 'N':
		ns = next(v);
		path(v);
		if (ns >= 'A' && ns <= 'Z') {
			/* closures ('C') and shims ('S'): {closure#N} */
			uint64_t n = 0;
			char buf[48];

			/* "s" N: the (N + 1)th; none: the 0th */
			if (eat(v, 's'))
				n = base62(v) + 1;
			puts_(v, "::{");
			puts_(v, ns == 'C' ? "closure" : ns == 'S' ? "shim" : "?");
			{
				/* a closure may have a name: {closure:name#N} */
				size_t o = v->olen;

				puts_(v, ":");
				ident(v, true);
				if (v->olen == o + 1)
					truncate_to(v, o);
			}
			snprintf(buf, sizeof(buf), "#%llu}", (unsigned long long)n);
			puts_(v, buf);
		} else {
			size_t o = v->olen;

			puts_(v, "::");
			disambiguator(v);
			{
				size_t before = v->olen;

				ident(v, true);
				if (v->olen == before)	/* an unnamed item */
					truncate_to(v, o);
			}
		}
		break;
	case 'I':
		path(v);
		generic_args(v);
		break;
	case 'B':
		backref(v, path);
		break;
	default:
		v->bad = true;
	}
	v->depth--;
}

static const char *basic(char c)
{
	switch (c) {
	case 'a': return "i8";
	case 'b': return "bool";
	case 'c': return "char";
	case 'd': return "f64";
	case 'e': return "str";
	case 'f': return "f32";
	case 'h': return "u8";
	case 'i': return "isize";
	case 'j': return "usize";
	case 'l': return "i32";
	case 'm': return "u32";
	case 'n': return "i128";
	case 'o': return "u128";
	case 's': return "i16";
	case 't': return "u16";
	case 'u': return "()";
	case 'v': return "...";
	case 'x': return "i64";
	case 'y': return "u64";
	case 'z': return "!";
	case 'p': return "_";
	default: return NULL;
	}
}

static void fn_sig(struct v0 *v)
{
	bool first = true;

	if (eat(v, 'G'))
		base62(v);
	if (eat(v, 'U'))
		puts_(v, "unsafe ");
	if (eat(v, 'K')) {
		puts_(v, "extern \"");
		if (eat(v, 'C'))
			puts_(v, "C");
		else
			ident(v, true);
		puts_(v, "\" ");
	}
	puts_(v, "fn(");
	while (!eat(v, 'E') && !v->bad) {
		if (!first)
			puts_(v, ", ");
		first = false;
		type(v);
	}
	puts_(v, ")");
	if (peek(v) == 'u') {
		next(v);
	} else {
		puts_(v, " -> ");
		type(v);
	}
}

static void type(struct v0 *v)
{
	char c = peek(v);
	const char *b = basic(c);

	if (v->bad || ++v->depth > 64) {
		v->bad = true;
		return;
	}
	if (b) {
		next(v);
		puts_(v, b);
		v->depth--;
		return;
	}
	next(v);
	switch (c) {
	case 'R':
	case 'Q':
		puts_(v, c == 'R' ? "&" : "&mut ");
		if (eat(v, 'L'))
			base62(v);
		type(v);
		break;
	case 'P':
		puts_(v, "*const ");
		type(v);
		break;
	case 'O':
		puts_(v, "*mut ");
		type(v);
		break;
	case 'A':
		puts_(v, "[");
		type(v);
		puts_(v, "; _]");
		if (eat(v, 'p'))
			break;
		if (peek(v) == 'B') {
			next(v);
			base62(v);
			break;
		}
		{
			size_t o = v->olen;

			type(v);	/* the const's type (not printed), then its data */
			truncate_to(v, o);
		}
		eat(v, 'n');
		while (peek(v) != '_' && !v->bad)
			next(v);
		eat(v, '_');
		break;
	case 'S':
		puts_(v, "[");
		type(v);
		puts_(v, "]");
		break;
	case 'T': {
		int n = 0;

		puts_(v, "(");
		while (!eat(v, 'E') && !v->bad) {
			if (n++)
				puts_(v, ", ");
			type(v);
		}
		puts_(v, n == 1 ? ",)" : ")");	/* (T,) is a tuple, (T) is not */
		break;
	}
	case 'F':
		fn_sig(v);
		break;
	case 'D': {
		bool first = true;

		puts_(v, "dyn ");
		if (eat(v, 'G'))
			base62(v);
		while (!eat(v, 'E') && !v->bad) {
			if (!first)
				puts_(v, " + ");
			first = false;
			path(v);
			/* associated types join the trait's generic args: Fn<(A,), Output = R> */
			while (eat(v, 'p')) {
				bool open = v->olen && v->out[v->olen - 1] == '>';

				if (open)
					v->out[--v->olen] = '\0';
				puts_(v, open ? ", " : "<");
				ident(v, true);
				puts_(v, " = ");
				type(v);
				puts_(v, ">");
			}
		}
		if (eat(v, 'L'))
			base62(v);
		break;
	}
	case 'B':
		backref(v, type);
		break;
	default:
		/* an ADT: a path */
		v->pos--;
		path(v);
	}
	v->depth--;
}

char *rust_v0_demangle(const char *sym)
{
	struct v0 v = {};
	const char *dot;

	if (strncmp(sym, "_R", 2))
		return NULL;
	v.s = sym + 2;
	/* ".llvm.123" and other suffixes are no part of the name */
	dot = strchr(v.s, '.');
	v.len = dot ? (size_t)(dot - v.s) : strlen(v.s);
	if (peek(&v) >= '0' && peek(&v) <= '9')	/* an encoding version */
		decimal(&v);
	path(&v);
	/* an instantiating crate may follow: not printed */
	/* nothing to show (empty identifiers) is no name */
	if (v.bad || !v.out || !*v.out) {
		free(v.out);
		return NULL;
	}
	return v.out;
}
