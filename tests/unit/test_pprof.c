// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The pprof renderer: a profile encoded, gunzipped and decoded again with
 * protobuf-c says the same as the profile (values and their types, stacks
 * leaf first, functions, lines, mappings, labels).
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "t.h"
#include "profile.h"
#include "render/render.h"
#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile Profile;

/* *p* as pprof, decoded; NULL on any error.  T_KEEP_PPROF=FILE keeps the bytes (for go tool pprof). */
static Profile *roundtrip(const struct profile *p)
{
	char *gz = NULL;
	size_t gzlen = 0, cap = 1 << 20;
	FILE *f = open_memstream(&gz, &gzlen);
	struct render_opts o = {};
	uint8_t *raw = malloc(cap);
	z_stream z = {};
	Profile *m = NULL;
	const char *keep = getenv("T_KEEP_PPROF");

	if (!f || !raw)
		goto out;
	if (render_pprof(p, &o, f)) {
		fclose(f);
		goto out;
	}
	fclose(f);
	if (keep) {
		FILE *k = fopen(keep, "w");

		if (k) {
			fwrite(gz, 1, gzlen, k);
			fclose(k);
		}
	}
	/* a gzip stream (windowBits 15 + 16) */
	if (gzlen < 2 || (uint8_t)gz[0] != 0x1f || (uint8_t)gz[1] != 0x8b)
		goto out;
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		goto out;
	z.next_in = (uint8_t *)gz;
	z.avail_in = gzlen;
	z.next_out = raw;
	z.avail_out = cap;
	if (inflate(&z, Z_FINISH) == Z_STREAM_END)
		m = perftools__profiles__profile__unpack(NULL, z.total_out, raw);
	inflateEnd(&z);
out:
	free(gz);
	free(raw);
	return m;
}

static const char *str(const Profile *m, int64_t i)
{
	return i >= 0 && (size_t)i < m->n_string_table ? m->string_table[i] : "?";
}

static const Perftools__Profiles__Location *loc(const Profile *m, uint64_t id)
{
	for (size_t i = 0; i < m->n_location; i++)
		if (m->location[i]->id == id)
			return m->location[i];
	return NULL;
}

static const Perftools__Profiles__Function *fn(const Profile *m, uint64_t id)
{
	for (size_t i = 0; i < m->n_function; i++)
		if (m->function[i]->id == id)
			return m->function[i];
	return NULL;
}

/* the name of the function at position *k* of sample *s* (0: the leaf) */
static const char *frame_name(const Profile *m, const Perftools__Profiles__Sample *s, size_t k)
{
	const Perftools__Profiles__Location *l = k < s->n_location_id ? loc(m, s->location_id[k]) : NULL;
	const Perftools__Profiles__Function *f = l && l->n_line ? fn(m, l->line[0]->function_id) : NULL;

	return f ? str(m, f->name) : "?";
}

/* a CPU profile: samples and CPU time, a kernel frame, a Python line frame */
static int cpu_profile(void)
{
	struct profile *p = profile__new();
	int m_ = profile__frame(p, "main", "/usr/bin/app", false);
	int w = profile__frame(p, "work", "/usr/bin/app", false);
	int k = profile__frame(p, "sys_write", "[kernel]", true);
	int py = profile__py_func(p, "handler", "/srv/app.py", 10, 42);
	int pyl = profile__line_frame(p, (uint32_t)py, "handler (app.py:12)", 12);
	uint32_t s1[] = { m_, w }, s2[] = { m_, w, k }, s3[] = { m_, pyl };
	const Perftools__Profiles__Sample *a = NULL, *c = NULL;
	Profile *m;
	size_t i;

	T_ASSERT(!profile__set_values(p, 2, (struct profile_value[]){ { "samples", "count" }, { "cpu", "nanoseconds" } }));
	p->meta.period_type = (struct profile_value){ "cpu", "nanoseconds" };
	p->meta.period = 10101010;
	p->meta.duration = 2.5;
	p->meta.time_ns = 1700000000000000000LL;
	T_ASSERT(!profile__addv(p, 42, 0, "app", s1, 2, (uint64_t[]){ 30, 303030300 }));
	T_ASSERT(!profile__addv(p, 42, 7, "app", s2, 3, (uint64_t[]){ 5, 50505050 }));
	T_ASSERT(!profile__addv(p, 42, 0, "app", s3, 2, (uint64_t[]){ 2, 20202020 }));
	T_ASSERT(!profile__finish(p));
	m = roundtrip(p);
	T_ASSERT(m);
	T_ASSERT_STR(m->string_table[0], "");
	T_ASSERT(m->n_sample_type == 2);
	T_ASSERT_STR(str(m, m->sample_type[0]->type), "samples");
	T_ASSERT_STR(str(m, m->sample_type[0]->unit), "count");
	T_ASSERT_STR(str(m, m->sample_type[1]->type), "cpu");
	T_ASSERT_STR(str(m, m->sample_type[1]->unit), "nanoseconds");
	T_ASSERT_STR(str(m, m->default_sample_type), "samples");
	T_ASSERT(m->period_type && !strcmp(str(m, m->period_type->type), "cpu") && m->period == 10101010);
	T_ASSERT(m->duration_nanos == 2500000000LL && m->time_nanos == 1700000000000000000LL);
	T_ASSERT(m->n_sample == 3);
	for (i = 0; i < m->n_sample; i++) {
		if (m->sample[i]->value[0] == 30)
			a = m->sample[i];
		if (m->sample[i]->value[0] == 2)
			c = m->sample[i];
	}
	T_ASSERT(a && c);
	/* leaf first */
	T_ASSERT(a->n_location_id == 2 && a->n_value == 2 && a->value[1] == 303030300);
	T_ASSERT_STR(frame_name(m, a, 0), "work");
	T_ASSERT_STR(frame_name(m, a, 1), "main");
	/* labels: the command and the pid */
	T_ASSERT(a->n_label == 2);
	T_ASSERT_STR(str(m, a->label[0]->key), "comm");
	T_ASSERT_STR(str(m, a->label[0]->str), "app");
	T_ASSERT_STR(str(m, a->label[1]->key), "pid");
	T_ASSERT(a->label[1]->num == 42);
	/* a Python line: the function's, with its line, file and first line */
	{
		const Perftools__Profiles__Location *l = loc(m, c->location_id[0]);
		const Perftools__Profiles__Function *f = fn(m, l->line[0]->function_id);

		T_ASSERT(l->n_line == 1 && l->line[0]->line == 12);
		T_ASSERT_STR(str(m, f->name), "handler (app.py)");
		T_ASSERT_STR(str(m, f->filename), "/srv/app.py");
		T_ASSERT(f->start_line == 10);
	}
	/* one function per function, one mapping per module, ids from 1 */
	T_ASSERT(m->n_function == 4 && m->n_location == 4 && m->n_mapping == 3);
	for (i = 0; i < m->n_mapping; i++)
		T_ASSERT(m->mapping[i]->id == i + 1 && m->mapping[i]->has_functions);
	for (i = 0; i < m->n_location; i++)
		T_ASSERT(m->location[i]->id == i + 1 && m->location[i]->mapping_id >= 1 && m->location[i]->mapping_id <= 3);
	perftools__profiles__profile__free_unpacked(m, NULL);
	profile__free(p);
	return T_OK;
}

/* an empty profile is a valid one */
static int empty_profile(void)
{
	struct profile *p = profile__new();
	Profile *m;

	T_ASSERT(!profile__finish(p));
	unsetenv("T_KEEP_PPROF");	/* the CPU profile's is the one to keep */
	m = roundtrip(p);
	T_ASSERT(m && m->n_sample == 0 && m->n_sample_type == 1 && m->n_string_table >= 3);
	perftools__profiles__profile__free_unpacked(m, NULL);
	profile__free(p);
	return T_OK;
}

/* -o x.pb.gz and -f pprof */
static int format_names(void)
{
	enum render_format f;

	T_ASSERT(render_format_for_path("/tmp/cpu.pb.gz") == FORMAT_PPROF);
	T_ASSERT(render_format_for_path("cpu.pprof") == FORMAT_PPROF);
	T_ASSERT(render_format_for_path("x.gz") == FORMAT_TABLE);
	T_ASSERT(!render_parse_format("pprof", &f) && f == FORMAT_PPROF);
	T_ASSERT(render_for(FORMAT_PPROF) == render_pprof);
	T_ASSERT(render_format_for_path("run.speedscope.json") == FORMAT_SPEEDSCOPE);
	T_ASSERT(render_format_for_path("run.json") == FORMAT_JSON);
	T_ASSERT(!render_parse_format("speedscope", &f) && f == FORMAT_SPEEDSCOPE);
	return T_OK;
}

/* speedscope: frames shared, a sampled profile per process, root first, weights in the unit */
static int speedscope(void)
{
	struct profile *p = profile__new();
	int m_ = profile__frame(p, "main", "app", false), w = profile__frame(p, "work", "app", false),
	    k = profile__frame(p, "sys_write", "[kernel]", true);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct render_opts o = {};

	T_ASSERT(!profile__set_values(p, 1, (struct profile_value[]){ { "off-cpu", "nanoseconds" } }));
	snprintf(p->meta.target, sizeof(p->meta.target), "all processes");
	p->meta.mode = "off";
	T_ASSERT(!profile__add(p, 9, 0, "b", (uint32_t[]){ m_, w }, 2, 500));
	T_ASSERT(!profile__add(p, 7, 0, "a \"q\"", (uint32_t[]){ m_, w, k }, 3, 300));
	T_ASSERT(!profile__add(p, 7, 0, "a \"q\"", (uint32_t[]){ m_ }, 1, 200));
	T_ASSERT(!profile__finish(p));
	T_ASSERT(f && !render_speedscope(p, &o, f));
	fclose(f);
	T_ASSERT(strstr(out, "{\"$schema\": \"https://www.speedscope.app/file-format-schema.json\""));
	T_ASSERT(strstr(out, "\"name\": \"ebprof off: all processes\""));
	T_ASSERT(strstr(out, "{\"name\": \"main\", \"file\": \"app\"},\n  {\"name\": \"work\", \"file\": \"app\"},\n"
			     "  {\"name\": \"sys_write\", \"file\": \"[kernel]\"}"));
	/* by pid: 7 first; its stacks by weight; the root first */
	T_ASSERT(strstr(out, "{\"type\": \"sampled\", \"name\": \"a \\\"q\\\" pid 7\", \"unit\": \"nanoseconds\", "
			     "\"startValue\": 0, \"endValue\": 500,\n   \"samples\": [[0,1,2], [0]],\n   \"weights\": [300, 200]}"));
	T_ASSERT(strstr(out, "\"name\": \"b pid 9\", \"unit\": \"nanoseconds\", \"startValue\": 0, \"endValue\": 500,\n"
			     "   \"samples\": [[0,1]],\n   \"weights\": [500]}"));
	T_ASSERT(strstr(out, "a \\\"q\\\" pid 7") < strstr(out, "b pid 9"));
	free(out);
	profile__free(p);
	return T_OK;
}

T_MAIN("pprof", T(cpu_profile), T(empty_profile), T(format_names), T(speedscope))
