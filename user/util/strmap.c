// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "strmap.h"

struct slot {
	uint64_t hash;
	void *key;	/* NULL: empty */
	size_t len;
	void *val;
};

struct strmap {
	struct slot *slots;
	size_t cap;	/* a power of two */
	size_t size;
};

uint64_t hash_bytes(const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (len--)
		h = (h ^ *s++) * 0x100000001b3ULL;
	return h ^ (h >> 32);
}

struct strmap *strmap__new(void)
{
	struct strmap *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->cap = 64;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		return NULL;
	}
	return m;
}

void strmap__free(struct strmap *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	free(m);
}

static struct slot *find(const struct strmap *m, const void *key, size_t len, uint64_t h)
{
	size_t i = h & (m->cap - 1);

	for (;;) {
		struct slot *s = &m->slots[i];

		if (!s->key || (s->hash == h && s->len == len && !memcmp(s->key, key, len)))
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

void *strmap__get(const struct strmap *m, const void *key, size_t len)
{
	struct slot *s = find(m, key, len, hash_bytes(key, len));

	return s->key ? s->val : NULL;
}

static int grow(struct strmap *m)
{
	struct slot *old = m->slots;
	size_t i, ocap = m->cap;

	m->slots = calloc(ocap * 2, sizeof(*m->slots));
	if (!m->slots) {
		m->slots = old;
		return -ENOMEM;
	}
	m->cap = ocap * 2;
	for (i = 0; i < ocap; i++)
		if (old[i].key)
			*find(m, old[i].key, old[i].len, old[i].hash) = old[i];
	free(old);
	return 0;
}

int strmap__set(struct strmap *m, const void *key, size_t len, void *val)
{
	uint64_t h = hash_bytes(key, len);
	struct slot *s;

	if ((m->size + 1) * 4 > m->cap * 3 && grow(m))
		return -ENOMEM;
	s = find(m, key, len, h);
	if (!s->key) {
		s->key = malloc(len ? len : 1);
		if (!s->key)
			return -ENOMEM;
		memcpy(s->key, key, len);
		s->len = len;
		s->hash = h;
		m->size++;
	}
	s->val = val;
	return 0;
}

size_t strmap__size(const struct strmap *m)
{
	return m->size;
}

void *strmap__next(const struct strmap *m, size_t *it, const void **key, size_t *len)
{
	while (*it < m->cap) {
		struct slot *s = &m->slots[(*it)++];

		if (s->key) {
			if (key)
				*key = s->key;
			if (len)
				*len = s->len;
			return s->val;
		}
	}
	return NULL;
}
