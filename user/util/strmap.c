// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <malloc.h>
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

size_t malloc_bytes(const void *p)
{
	return p ? malloc_usable_size((void *)p) + sizeof(size_t) : 0;
}

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

/*
 * Linear probing keeps no tombstones: the slots after the emptied one move
 * back while their home slot does not lie (cyclically) between the hole
 * and where they are.
 */
void *strmap__del(struct strmap *m, const void *key, size_t len)
{
	struct slot *s = find(m, key, len, hash_bytes(key, len));
	size_t mask = m->cap - 1, hole = s - m->slots, j = hole;
	void *val;

	if (!s->key)
		return NULL;
	val = s->val;
	free(s->key);
	s->key = NULL;
	m->size--;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!m->slots[j].key)
			break;
		home = m->slots[j].hash & mask;
		/* stays if home is in (hole, j] */
		if (hole <= j ? (home > hole && home <= j) : (home > hole || home <= j))
			continue;
		m->slots[hole] = m->slots[j];
		m->slots[j].key = NULL;
		hole = j;
	}
	return val;
}

size_t strmap__bytes(const struct strmap *m)
{
	size_t i, b = malloc_bytes(m) + malloc_bytes(m->slots);

	for (i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			b += malloc_bytes(m->slots[i].key);
	return b;
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

const char *strmap__intern(struct strmap *m, const char *s, int *added)
{
	size_t len = strlen(s);
	char *v = strmap__get(m, s, len);

	if (added)
		*added = 0;
	if (v)
		return v;
	v = strdup(s);
	if (!v || strmap__set(m, s, len, v)) {
		free(v);
		return NULL;
	}
	if (added)
		*added = 1;
	return v;
}
