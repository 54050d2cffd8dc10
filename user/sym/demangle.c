// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "demangle.h"

/* the Itanium C++ ABI demangler in libstdc++ */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* Rust's legacy mangling ends each path with a "::h" + 16 hex digits hash */
static void strip_rust_hash(char *s)
{
	size_t len = strlen(s), i;

	if (len < 19 || memcmp(s + len - 19, "::h", 3))
		return;
	for (i = len - 16; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return;
	s[len - 19] = '\0';
}

/* Rust's legacy escapes in identifiers: $LT$ -> '<', $u7b$ -> '{', .. -> :: */
static void rust_unescape(char *s)
{
	static const struct {
		const char *esc;
		char c;
	} table[] = {
		{ "$SP$", '@' }, { "$BP$", '*' }, { "$RF$", '&' }, { "$LT$", '<' },
		{ "$GT$", '>' }, { "$LP$", '(' }, { "$RP$", ')' }, { "$C$", ',' },
	};
	char *r = s, *w = s;
	size_t i;

	while (*r) {
		/* a component that starts with an escape is written "_$..." */
		if (r[0] == '_' && r[1] == '$' && (r == s || (r - s >= 2 && r[-1] == ':' && r[-2] == ':'))) {
			r++;
			continue;
		}
		if (*r == '$') {
			for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
				size_t len = strlen(table[i].esc);

				if (!strncmp(r, table[i].esc, len)) {
					*w++ = table[i].c;
					r += len;
					break;
				}
			}
			if (i < sizeof(table) / sizeof(table[0]))
				continue;
			if (r[1] == 'u' && isxdigit((unsigned char)r[2]) && isxdigit((unsigned char)r[3]) &&
			    r[4] == '$') {
				*w++ = (char)strtol((char[]){ r[2], r[3], 0 }, NULL, 16);
				r += 5;
				continue;
			}
		} else if (r[0] == '.' && r[1] == '.') {
			*w++ = ':';
			*w++ = ':';
			r += 2;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
}

char *demangle(const char *name)
{
	char *copy, *dot, *out;
	int status = 0;
	bool rust;

	if (!strncmp(name, "_R", 2))
		return rust_v0_demangle(name);
	if (strncmp(name, "_Z", 2))
		return NULL;
	copy = strdup(name);
	if (!copy)
		return NULL;
	/* LLVM's local-symbol suffix (".llvm.123") is no part of the name */
	dot = strstr(copy, ".llvm.");
	if (dot)
		*dot = '\0';
	out = __cxa_demangle(copy, NULL, NULL, &status);
	rust = strstr(copy, "17h") && copy[strlen(copy) - 1] == 'E';
	free(copy);
	if (!out || status) {
		free(out);
		return NULL;
	}
	strip_rust_hash(out);
	if (rust && strchr(out, '$'))
		rust_unescape(out);
	return out;
}
