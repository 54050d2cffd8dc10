// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <elfutils/debuginfod.h>
#include "debuginfod.h"
#include "sym/elf.h"
#include "util/log.h"

enum { QUEUED, FETCHING, DONE };

struct item {
	char build_id[128];
	int state;
	bool needed;		/* the symbolizer asked for it: its names wait on it */
	char *path;		/* the file in the client's cache, once fetched */
	int err;		/* -errno of a failed fetch */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* an item queued, or one done */
	pthread_t thread;
	bool on;
	bool final;		/* the report: a lookup waits for its file */
	volatile bool stopping;
	bool unresponsive;	/* a fetch ran out of time: the others are not tried */
	double timeout;
	double deadline;	/* of the fetch in progress: *timeout* after its last byte */
	long got;		/* ... bytes so far */
	struct item *items;
	size_t n, cap;
} g = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* libdebuginfod calls it as the transfer goes: non-zero aborts it (stalled, or ebprof is done) */
static int progress(debuginfod_client *c, long a, long b)
{
	double now = mono();

	(void)c;
	(void)b;
	if (a != g.got) {
		g.got = a;
		g.deadline = now + g.timeout;
	}
	return g.stopping || now > g.deadline;
}

static struct item *find(const char *build_id)
{
	size_t i;

	for (i = 0; i < g.n; i++)
		if (!strcmp(g.items[i].build_id, build_id))
			return &g.items[i];
	return NULL;
}

static void *fetcher(void *arg)
{
	debuginfod_client *c = arg;
	size_t i;

	pthread_mutex_lock(&g.lock);
	for (;;) {
		struct item *it = NULL;
		char id[128], *path = NULL;
		int fd;

		/* the ones the report waits for first */
		for (i = 0; i < g.n; i++)
			if (g.items[i].state == QUEUED && (!it || (g.items[i].needed && !it->needed)))
				it = &g.items[i];
		if (g.stopping)
			break;
		if (!it) {
			pthread_cond_wait(&g.cond, &g.lock);
			continue;
		}
		if (g.unresponsive) {
			it->err = -ETIMEDOUT;
			it->state = DONE;
			pthread_cond_broadcast(&g.cond);
			continue;
		}
		it->state = FETCHING;
		snprintf(id, sizeof(id), "%s", it->build_id);
		g.deadline = mono() + g.timeout;
		g.got = 0;
		pthread_mutex_unlock(&g.lock);
		fd = debuginfod_find_debuginfo(c, (const unsigned char *)id, 0, &path);
		pthread_mutex_lock(&g.lock);
		it = find(id);	/* the array may have moved */
		if (fd >= 0) {
			close(fd);
			it->path = path;
			pr_debug("debuginfod: %s fetched: %s\n", id, path);
		} else {
			free(path);
			it->err = fd == -EINTR || fd == -ECANCELED || fd == -ETIME ? -ETIMEDOUT : fd;
			if (it->err == -ETIMEDOUT && !g.stopping)
				g.unresponsive = true;
			pr_debug("debuginfod: %s: %s\n", id, strerror(-it->err));
		}
		it->state = DONE;
		pthread_cond_broadcast(&g.cond);
	}
	pthread_mutex_unlock(&g.lock);
	debuginfod_end(c);
	return NULL;
}

/* the item of *build_id*, queued for the fetcher if it is new (g.lock held); NULL if none can be */
static struct item *queue(const char *build_id)
{
	struct item *it = find(build_id);

	if (it || !g.on || g.stopping)
		return it;
	if (g.n == g.cap) {
		size_t cap = g.cap ? 2 * g.cap : 16;
		struct item *ni = realloc(g.items, cap * sizeof(*ni));

		if (!ni)
			return NULL;
		g.items = ni;
		g.cap = cap;
	}
	it = &g.items[g.n++];
	memset(it, 0, sizeof(*it));
	snprintf(it->build_id, sizeof(it->build_id), "%s", build_id);
	pthread_cond_broadcast(&g.cond);
	return it;
}

/*
 * the symbolizer's last resort: the fetched file; while ebprof samples,
 * -EAGAIN if it is not in yet (the lookup is made again later), for the
 * report, once its fetch has ended
 */
static int open_fetched(const char *build_id)
{
	struct item *it;
	int fd = -1;

	pthread_mutex_lock(&g.lock);
	it = queue(build_id);
	if (it && !it->needed) {
		it->needed = true;
		pthread_cond_broadcast(&g.cond);
	}
	while (it && it->state != DONE && !g.stopping && g.final) {
		pthread_cond_wait(&g.cond, &g.lock);
		it = find(build_id);
	}
	if (it && it->state != DONE && !g.stopping)
		fd = -EAGAIN;
	else if (it && it->path)
		fd = open(it->path, O_RDONLY | O_CLOEXEC);
	pthread_mutex_unlock(&g.lock);
	return fd;
}

void debuginfod_final(void)
{
	pthread_mutex_lock(&g.lock);
	g.final = true;
	pthread_mutex_unlock(&g.lock);
}

bool debuginfod_start(double timeout_s)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	debuginfod_client *c;

	char secs[32];

	if (!urls || !*urls)
		return false;
	/* a transfer that stalls: the user's limit (the library's variable), else ours, for both */
	if (getenv("DEBUGINFOD_TIMEOUT") && atof(getenv("DEBUGINFOD_TIMEOUT")) > 0) {
		timeout_s = atof(getenv("DEBUGINFOD_TIMEOUT"));
	} else {
		snprintf(secs, sizeof(secs), "%d", (int)(timeout_s + 0.5));
		setenv("DEBUGINFOD_TIMEOUT", secs, 1);
	}
	/* one try a file (the library tries 3 times, each up to the timeout), unless the user said */
	setenv("DEBUGINFOD_RETRY_LIMIT", "0", 0);
	c = debuginfod_begin();
	if (!c) {
		pr_warn("debuginfod: cannot start its client: %s\n", strerror(errno));
		return false;
	}
	debuginfod_set_progressfn(c, progress);
	g.timeout = timeout_s;
	g.on = true;
	if (pthread_create(&g.thread, NULL, fetcher, c)) {
		g.on = false;
		debuginfod_end(c);
		return false;
	}
	elf_set_debug_fetcher(open_fetched);
	pr_info("debuginfod: debug files of stripped binaries from %s, in the background\n", urls);
	return true;
}

void debuginfod_want(const char *build_id)
{
	pthread_mutex_lock(&g.lock);
	queue(build_id);
	pthread_mutex_unlock(&g.lock);
}

void debuginfod_stop(void)
{
	size_t i, failed = 0;
	int err = 0;

	if (!g.on)
		return;
	elf_set_debug_fetcher(NULL);
	pthread_mutex_lock(&g.lock);
	g.stopping = true;
	pthread_cond_broadcast(&g.cond);
	pthread_mutex_unlock(&g.lock);
	pthread_join(g.thread, NULL);
	/* the files whose names the report needed: those not fetched, in one line */
	for (i = 0; i < g.n; i++) {
		if (g.items[i].needed && !g.items[i].path) {
			failed++;
			if (!err || g.items[i].err != -ENOENT)
				err = g.items[i].err;
		}
		free(g.items[i].path);
	}
	if (failed)
		pr_warn("debuginfod: %zu debug file%s could not be fetched from %s (%s): %s functions are named module+offset\n",
			failed, failed == 1 ? "" : "s", getenv("DEBUGINFOD_URLS"),
			err == -ENOENT ? "not on the server" : err ? strerror(-err) : "stopped",
			failed == 1 ? "its" : "their");
	free(g.items);
	g.items = NULL;
	g.n = g.cap = 0;
	g.on = false;
}
