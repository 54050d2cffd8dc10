// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * record.c - ebprof record: a live front end of the cpu mode's sampling
 * (struct run_sink) that turns each interval's profile into pprof and
 * writes it into a directory kept within a disk budget, and/or queues it
 * for a thread that sends it to a Pyroscope's /ingest with libcurl,
 * retrying with backoff.  The run loop never waits on the network: past
 * --max-unsent queued profiles the oldest is dropped, counted and said.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "profile.h"
#include "record.h"
#include "render/render.h"
#include "run.h"
#include "session.h"
#include "util/grow.h"
#include "util/log.h"

/* one interval's profile, encoded */
struct blob {
	char *data;
	size_t len;
	time_t from, until;	/* unix seconds */
	unsigned int attempts;
};

struct record {
	const struct ebprof_opts *o;
	int dirfd;		/* --out, or -1 */
	char host[256];
	char name[1024];	/* the series: APP.cpu{host=...,service=APP,...} */
	unsigned long written, rotated;
	/* the queue for the sender: oldest first */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct blob *queue;
	size_t nqueue, queue_cap;
	bool stop;		/* the run is over: send what is left until *deadline* */
	double deadline;
	bool sending;		/* queue[0] is being sent: not to be dropped */
	bool sender_on;
	pthread_t sender;
	unsigned long pushed, dropped, failures;
	bool down;		/* the last try failed (said once until it works again) */
	unsigned int freq;
};

static volatile sig_atomic_t hup;

static void on_hup(int sig)
{
	(void)sig;
	hup = 1;
}

/* the run loop's messages and ours, with the time, as a service's log wants them */
static void say(const char *fmt, ...)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "ebprof: %s ", when);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

/* --log FILE on standard error: appended, never through a symbolic link */
static int open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);

	if (fd < 0) {
		pr_err("cannot open the log '%s': %s\n", path, strerror(errno));
		return -1;
	}
	fflush(stderr);
	if (dup2(fd, STDERR_FILENO) < 0) {
		pr_err("cannot log to '%s': %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* --out DIR: made if missing, opened without following a link */
static int open_dir(struct record *rec, const char *path)
{
	if (mkdir(path, 0750) && errno != EEXIST) {
		pr_err("cannot make the directory '%s': %s\n", path, strerror(errno));
		return 1;
	}
	rec->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rec->dirfd < 0) {
		pr_err("cannot open the directory '%s': %s%s\n", path, strerror(errno),
		       errno == ELOOP || errno == ENOTDIR ? " (a symbolic link or not a directory: give a directory)" : "");
		return 1;
	}
	return 0;
}

/* is *name* one of our profiles: ebprof-cpu-YYYYMMDDTHHMMSSZ[-N].pb.gz */
static bool ours(const char *name)
{
	size_t len = strlen(name);

	return !strncmp(name, "ebprof-cpu-", 11) && len > 17 && !strcmp(name + len - 6, ".pb.gz");
}

struct named_file {
	char *name;
	off_t size;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(((const struct named_file *)a)->name, ((const struct named_file *)b)->name);
}

/* the oldest of our files go while they take more than --max-disk (the newest stays) */
static void rotate(struct record *rec)
{
	double total = 0, budget = rec->o->record.max_disk_mb * 1024 * 1024;
	struct named_file *files = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	int fd = dup(rec->dirfd);
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		struct stat st;

		if (!ours(de->d_name) || fstatat(rec->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		if (GROW(files, n, cap, 64) || !(files[n].name = strdup(de->d_name)))
			break;
		files[n++].size = st.st_size;
		total += st.st_size;
	}
	closedir(d);
	/* their names sort by time */
	qsort(files, n, sizeof(*files), cmp_names);
	for (i = 0; i + 1 < n && total > budget; i++) {
		if (!unlinkat(rec->dirfd, files[i].name, 0)) {
			total -= files[i].size;
			rec->rotated++;
		}
	}
	for (i = 0; i < n; i++)
		free(files[i].name);
	free(files);
}

/* the file of a profile: written under a temporary name, then renamed */
static void write_file(struct record *rec, const struct blob *b)
{
	char name[64], tmp[80];
	struct tm tm;
	ssize_t w;
	size_t off = 0;
	int fd, k;

	gmtime_r(&b->from, &tm);
	strftime(name, sizeof(name), "ebprof-cpu-%Y%m%dT%H%M%SZ.pb.gz", &tm);
	/* two profiles in one second (SIGTERM just after an interval): -1, -2 */
	for (k = 1; k < 100 && !faccessat(rec->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW); k++) {
		strftime(name, sizeof(name), "ebprof-cpu-%Y%m%dT%H%M%SZ", &tm);
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "-%d.pb.gz", k);
	}
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	fd = openat(rec->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0) {
		say("cannot write '%s': %s\n", tmp, strerror(errno));
		return;
	}
	while (off < b->len && (w = write(fd, b->data + off, b->len - off)) > 0)
		off += w;
	if (off < b->len || close(fd)) {
		say("cannot write '%s': %s\n", tmp, strerror(errno ? errno : EIO));
		if (off < b->len)
			close(fd);
		unlinkat(rec->dirfd, tmp, 0);
		return;
	}
	if (renameat(rec->dirfd, tmp, rec->dirfd, name)) {
		say("cannot name '%s': %s\n", name, strerror(errno));
		unlinkat(rec->dirfd, tmp, 0);
		return;
	}
	rec->written++;
	if (log_level)
		say("wrote %s (%zu bytes)\n", name, b->len);
	rotate(rec);
}

/* a profile for the sender; the oldest goes when too many wait */
static void enqueue(struct record *rec, struct blob *b)
{
	pthread_mutex_lock(&rec->lock);
	/* the oldest not being sent: the sender holds queue[0] while it sends it */
	if (rec->nqueue >= rec->o->record.max_unsent && rec->nqueue > (size_t)rec->sending) {
		size_t k = rec->sending;
		struct blob *old = &rec->queue[k];
		char from[32], until[32];
		struct tm tm;

		gmtime_r(&old->from, &tm);
		strftime(from, sizeof(from), "%H:%M:%S", &tm);
		gmtime_r(&old->until, &tm);
		strftime(until, sizeof(until), "%H:%M:%S", &tm);
		rec->dropped++;
		say("warning: the backend has not taken %zu profiles: dropped the oldest (%s-%s UTC), %lu dropped so far"
		    " (--max-unsent sets how many wait)\n", rec->nqueue, from, until, rec->dropped);
		free(old->data);
		memmove(&rec->queue[k], &rec->queue[k + 1], (rec->nqueue - k - 1) * sizeof(*rec->queue));
		rec->nqueue--;
	}
	if (GROW(rec->queue, rec->nqueue, rec->queue_cap, 16)) {
		rec->dropped++;
		free(b->data);
	} else {
		rec->queue[rec->nqueue++] = *b;
	}
	pthread_cond_signal(&rec->cond);
	pthread_mutex_unlock(&rec->lock);
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
	(void)ptr, (void)ud;
	return size * nmemb;
}

/* one POST of *b*, given *timeout_ms*: 0, or why not in *why* */
static int post(struct record *rec, CURL *c, const struct blob *b, long timeout_ms, char *why, size_t len)
{
	char url[4096], *name;
	const char *base = rec->o->record.push;
	size_t blen = strlen(base), n;
	curl_mime *mime;
	curl_mimepart *part;
	long code = 0;
	CURLcode rc;

	while (blen && base[blen - 1] == '/')
		blen--;
	curl_easy_reset(c);
	name = curl_easy_escape(c, rec->name, 0);
	if (!name) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	n = snprintf(url, sizeof(url), "%.*s/ingest?name=%s&from=%lld&until=%lld&spyName=ebprof&format=pprof",
		     (int)blen, base, name, (long long)b->from, (long long)b->until);
	if (rec->freq && n < sizeof(url))
		snprintf(url + n, sizeof(url) - n, "&sampleRate=%u", rec->freq);
	curl_free(name);
	mime = curl_mime_init(c);
	part = curl_mime_addpart(mime);
	curl_mime_name(part, "profile");
	curl_mime_filename(part, "profile.pb.gz");
	curl_mime_type(part, "application/octet-stream");
	curl_mime_data(part, b->data, b->len);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ebprof/" EBPROF_VERSION);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_mime_free(mime);
	if (rc != CURLE_OK) {
		snprintf(why, len, "%s", curl_easy_strerror(rc));
		return -1;
	}
	if (code < 200 || code >= 300) {
		snprintf(why, len, "HTTP status %ld", code);
		return -1;
	}
	return 0;
}

/* the sender: the oldest queued profile, until it is taken; backoff 1 s doubling to 60 s */
static void *sender(void *arg)
{
	struct record *rec = arg;
	CURL *c = curl_easy_init();
	double backoff = 0;
	char why[256];

	pthread_mutex_lock(&rec->lock);
	while (c) {
		long timeout_ms = 30000;
		struct timespec ts;
		struct blob b;
		int err;

		while (!rec->nqueue && !rec->stop)
			pthread_cond_wait(&rec->cond, &rec->lock);
		if (!rec->nqueue || (rec->stop && now_sec() >= rec->deadline))
			break;
		b = rec->queue[0];
		rec->sending = true;
		/* at the end, what is left of the time to send it */
		if (rec->stop && (rec->deadline - now_sec()) * 1000 < timeout_ms)
			timeout_ms = (rec->deadline - now_sec()) * 1000 > 100 ? (long)((rec->deadline - now_sec()) * 1000) : 100;
		pthread_mutex_unlock(&rec->lock);
		err = post(rec, c, &b, timeout_ms, why, sizeof(why));
		pthread_mutex_lock(&rec->lock);
		rec->sending = false;
		if (!err) {
			free(b.data);
			memmove(&rec->queue[0], &rec->queue[1], (rec->nqueue - 1) * sizeof(*rec->queue));
			rec->nqueue--;
			rec->pushed++;
			if (rec->down)
				say("the backend takes profiles again: %lu sent, %zu waiting\n", rec->pushed, rec->nqueue);
			else if (log_level)
				say("sent the profile of %lld-%lld\n", (long long)b.from, (long long)b.until);
			rec->down = false;
			backoff = 0;
			continue;
		}
		rec->failures++;
		if (!rec->down)
			say("warning: cannot send a profile to %s: %s; trying again with backoff, %zu waiting\n",
			    rec->o->record.push, why, rec->nqueue);
		rec->down = true;
		if (rec->stop)
			break;	/* the run is over: no more tries */
		backoff = backoff ? (backoff * 2 > 60 ? 60 : backoff * 2) : 1;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)backoff;
		while (!rec->stop && pthread_cond_timedwait(&rec->cond, &rec->lock, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&rec->lock);
	if (c)
		curl_easy_cleanup(c);
	return NULL;
}

static int on_profile(void *ctx, struct profile *p, double t0, double t1, enum run_end end)
{
	struct record *rec = ctx;
	struct render_opts ro = {};
	struct blob b = {};
	FILE *f;
	int err;

	b.until = time(NULL);
	b.from = b.until - (time_t)(t1 - t0 + 0.5);
	if (p->meta.time_ns > 0)
		b.from = p->meta.time_ns / 1000000000;
	f = open_memstream(&b.data, &b.len);
	if (!f) {
		say("cannot encode the profile: %s\n", strerror(errno));
		profile__free(p);
		return 0;
	}
	err = run_render(rec->o, p, FORMAT_PPROF, &ro, f);
	if (fclose(f) && !err)
		err = -errno;
	if (log_level)
		say("profile of %.1f s: %llu samples%s\n", p->meta.duration, (unsigned long long)p->totals[0],
		    end != RUN_END_NONE ? " (the last)" : "");
	profile__free(p);
	if (err) {
		say("cannot encode the profile: %s\n", strerror(-err));
		free(b.data);
		return 0;
	}
	if (rec->dirfd >= 0)
		write_file(rec, &b);
	if (rec->o->record.push)
		enqueue(rec, &b);
	else
		free(b.data);
	return 0;
}

static int on_tick(void *ctx)
{
	struct record *rec = ctx;

	if (hup) {
		hup = 0;
		if (rec->o->record.log && !open_log(rec->o->record.log))
			say("log opened again (SIGHUP)\n");
	}
	return 0;
}

/* the series' name: APP.cpu{host=H,service=APP,k=v...}, host's odd characters as _ */
static void series_name(struct record *rec)
{
	const struct record_opts *ro = &rec->o->record;
	size_t n, i;
	char *h;

	if (gethostname(rec->host, sizeof(rec->host) - 1))
		snprintf(rec->host, sizeof(rec->host), "unknown");
	for (h = rec->host; *h; h++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *h))
			*h = '_';
	n = snprintf(rec->name, sizeof(rec->name), "%s.cpu{host=%s,service=%s", ro->app, rec->host, ro->app);
	for (i = 0; i < (size_t)ro->nlabels && n < sizeof(rec->name); i++)
		n += snprintf(rec->name + n, sizeof(rec->name) - n, ",%s", ro->labels[i]);
	if (n < sizeof(rec->name))
		snprintf(rec->name + n, sizeof(rec->name) - n, "}");
}

/* the longest the end waits for the sender to send what is left */
#define FLUSH_S 10

int record_main(const struct ebprof_opts *o)
{
	struct record rec = { .o = o, .dirfd = -1, .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	struct run_sink sink = { o->record.interval, on_profile, on_tick, &rec };
	struct launch l = { .go_fd = -1, .err_fd = -1 };
	struct sigaction sa = {};
	size_t i;
	int ret;

	if (o->record.log && open_log(o->record.log))
		return 1;
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	rec.freq = o->event.period ? 0 : o->freq;
	series_name(&rec);
	if (o->record.out && open_dir(&rec, o->record.out))
		return 1;
	if (o->record.push) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
			pr_err("cannot start libcurl\n");
			ret = 1;
			goto out;
		}
		if (pthread_create(&rec.sender, NULL, sender, &rec)) {
			pr_err("cannot start the sender: %s\n", strerror(errno));
			ret = 1;
			goto out;
		}
		rec.sender_on = true;
	}
	say("recording %s every %g s%s%s%s%s\n", o->all ? "all processes" : "the processes given", o->record.interval,
	    o->record.out ? " into " : "", o->record.out ? o->record.out : "", o->record.push ? ", sent to " : "",
	    o->record.push ? o->record.push : "");
	ret = run_mode(o, &l, &sink, NULL);
out:
	if (rec.sender_on) {
		/* what is left goes out within FLUSH_S, or is said not sent */
		pthread_mutex_lock(&rec.lock);
		rec.stop = true;
		rec.deadline = now_sec() + FLUSH_S;
		pthread_cond_broadcast(&rec.cond);
		pthread_mutex_unlock(&rec.lock);
		pthread_join(rec.sender, NULL);
		if (rec.nqueue)
			say("warning: %zu profiles not sent (the backend did not take them)%s\n", rec.nqueue,
			    o->record.out ? "; they are in the directory" : "");
	}
	if (o->record.push || o->record.out)
		say("stopped: %lu profiles written, %lu removed for --max-disk; %lu sent, %lu dropped, %zu not sent"
		    " (%lu tries failed)\n", rec.written, rec.rotated, rec.pushed, rec.dropped, rec.nqueue, rec.failures);
	for (i = 0; i < rec.nqueue; i++)
		free(rec.queue[i].data);
	free(rec.queue);
	if (rec.dirfd >= 0)
		close(rec.dirfd);
	if (o->record.push)
		curl_global_cleanup();
	return ret;
}
