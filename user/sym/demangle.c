// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
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

char *demangle(const char *name)
{
	int status = 0;
	char *out;

	if (strncmp(name, "_Z", 2))
		return NULL;
	out = __cxa_demangle(name, NULL, NULL, &status);
	if (!out || status) {
		free(out);
		return NULL;
	}
	strip_rust_hash(out);
	return out;
}
