// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pprof.c - a profile as pprof's profile.proto (proto/profile.proto),
 * gzipped: what go tool pprof, Grafana Pyroscope and Parca read.  Each
 * stack is a sample with the profile's values (sample_type: type and
 * unit); each frame a location whose line names its function (Python and
 * --lines frames: the source line too); each module a mapping; pid, tid
 * and command are labels.  Encoded with protobuf-c, compressed with zlib.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "render.h"
#include "../util/strmap.h"
#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__ValueType ValueType;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Label Label;
typedef Perftools__Profiles__Mapping Mapping;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Function Function;

/* the string table: "" first, each string once */
struct strtab {
	struct strmap *idx;
	char **v;
	size_t n, cap;
	bool failed;		/* out of memory: the table is not whole */
};

/* the index of *s*, added on first use (0 and t->failed without memory) */
static int64_t str_id(struct strtab *t, const char *s)
{
	size_t len = strlen(s);
	void *v = strmap__get(t->idx, s, len);

	if (v)
		return (int64_t)((uintptr_t)v - 1);
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		char **nv = realloc(t->v, cap * sizeof(*nv));

		if (!nv) {
			t->failed = true;
			return 0;
		}
		t->v = nv;
		t->cap = cap;
	}
	/* the profile's strings outlive the encoding: no copies */
	t->v[t->n] = (char *)s;
	if (strmap__set(t->idx, s, len, (void *)(uintptr_t)(t->n + 1))) {
		t->failed = true;
		return 0;
	}
	return (int64_t)t->n++;
}

/* everything the message points at, freed together */
struct pprof_build {
	struct strtab st;
	ValueType *vt, **vtp, period_type;
	Function *fn, **fnp;
	Line *ln, **lnp;
	Location *loc, **locp;
	Mapping *map, **mapp;
	Sample *smp, **smpp;
	Label *lab, **labp;
	uint64_t *locids;
	int64_t *vals;
	uint64_t *loc_of_frame;		/* frame id -> location id, 0: none yet */
	uint64_t *fn_of_frame;		/* function frame id -> function id */
	struct strmap *map_of_module;	/* module -> mapping id */
};

static void build_free(struct pprof_build *b)
{
	strmap__free(b->st.idx);
	strmap__free(b->map_of_module);
	free(b->st.v);
	free(b->vt), free(b->vtp);
	free(b->fn), free(b->fnp);
	free(b->ln), free(b->lnp);
	free(b->loc), free(b->locp);
	free(b->map), free(b->mapp);
	free(b->smp), free(b->smpp);
	free(b->lab), free(b->labp);
	free(b->locids), free(b->vals);
	free(b->loc_of_frame), free(b->fn_of_frame);
}

/* the function of frame *fid* (its function frame's), made on first use */
static uint64_t function_of(const struct profile *p, struct pprof_build *b, Profile *m, uint32_t fid)
{
	const struct frame *f = &p->frames[p->frames[fid].fn];
	uint32_t fn = p->frames[fid].fn;
	Function *x;

	if (b->fn_of_frame[fn])
		return b->fn_of_frame[fn];
	x = &b->fn[m->n_function];
	perftools__profiles__function__init(x);
	x->id = m->n_function + 1;
	x->name = str_id(&b->st, f->func);
	x->system_name = x->name;
	x->filename = str_id(&b->st, f->src ? f->src : f->module);
	x->start_line = f->src_line;
	b->fnp[m->n_function++] = x;
	return b->fn_of_frame[fn] = x->id;
}

/* the mapping of a module, made on first use */
static uint64_t mapping_of(const struct profile *p, struct pprof_build *b, Profile *m, const struct frame *f)
{
	void *v = strmap__get(b->map_of_module, f->module, strlen(f->module));
	Mapping *x;

	if (v)
		return (uint64_t)(uintptr_t)v;
	x = &b->map[m->n_mapping];
	perftools__profiles__mapping__init(x);
	x->id = m->n_mapping + 1;
	x->filename = str_id(&b->st, f->module);
	if (profile__build_id(p, f->module))
		x->build_id = str_id(&b->st, profile__build_id(p, f->module));
	/* symbolized here: pprof is not to look for the binaries */
	x->has_functions = x->has_filenames = true;
	x->has_line_numbers = f->line > 0 || f->python;
	if (strmap__set(b->map_of_module, f->module, strlen(f->module), (void *)(uintptr_t)x->id))
		return 0;
	b->mapp[m->n_mapping++] = x;
	return x->id;
}

/* the location of frame *fid*, made on first use */
static uint64_t location_of(const struct profile *p, struct pprof_build *b, Profile *m, uint32_t fid)
{
	const struct frame *f = &p->frames[fid];
	Location *x;
	Line *l;

	if (b->loc_of_frame[fid])
		return b->loc_of_frame[fid];
	x = &b->loc[m->n_location];
	l = &b->ln[m->n_location];
	perftools__profiles__location__init(x);
	perftools__profiles__line__init(l);
	x->id = m->n_location + 1;
	x->mapping_id = mapping_of(p, b, m, f);
	l->function_id = function_of(p, b, m, fid);
	l->line = f->line;
	if (!x->mapping_id || !l->function_id)
		return 0;
	b->lnp[m->n_location] = l;
	x->n_line = 1;
	x->line = &b->lnp[m->n_location];
	b->locp[m->n_location++] = x;
	return b->loc_of_frame[fid] = x->id;
}

/* gzip *len* bytes of *buf* onto *out* */
static int write_gzip(const uint8_t *buf, size_t len, FILE *out)
{
	uint8_t chunk[65536];
	z_stream z = {};
	int zr;

	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	z.next_in = (uint8_t *)buf;
	z.avail_in = len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = deflate(&z, Z_FINISH);
		if (zr == Z_STREAM_ERROR)
			break;
		if (fwrite(chunk, 1, sizeof(chunk) - z.avail_out, out) != sizeof(chunk) - z.avail_out) {
			zr = Z_ERRNO;
			break;
		}
	} while (zr != Z_STREAM_END);
	deflateEnd(&z);
	return zr == Z_STREAM_END && !ferror(out) ? 0 : -EIO;
}

#define ALLOC(ptr, n) ((ptr) = calloc((size_t)(n) + 1, sizeof(*(ptr))))

int render_pprof(const struct profile *p, const struct render_opts *o, FILE *out)
{
	const struct profile_meta *m = &p->meta;
	Profile msg = PERFTOOLS__PROFILES__PROFILE__INIT;
	struct pprof_build b = {};
	size_t i, nlocids = 0, nlabels = 0, len;
	unsigned int nv = m->nvalues, k;
	uint8_t *buf = NULL;
	int err = -ENOMEM;

	(void)o;
	for (i = 0; i < p->nstacks; i++)
		nlocids += p->stacks[i].nframes;
	b.st.idx = strmap__new();
	b.map_of_module = strmap__new();
	if (!b.st.idx || !b.map_of_module || !ALLOC(b.vt, nv) || !ALLOC(b.vtp, nv) ||
	    !ALLOC(b.fn, p->nframes) || !ALLOC(b.fnp, p->nframes) || !ALLOC(b.ln, p->nframes) ||
	    !ALLOC(b.lnp, p->nframes) || !ALLOC(b.loc, p->nframes) || !ALLOC(b.locp, p->nframes) ||
	    !ALLOC(b.map, p->nframes) || !ALLOC(b.mapp, p->nframes) || !ALLOC(b.smp, p->nstacks) ||
	    !ALLOC(b.smpp, p->nstacks) || !ALLOC(b.lab, 3 * p->nstacks) || !ALLOC(b.labp, 3 * p->nstacks) ||
	    !ALLOC(b.locids, nlocids) || !ALLOC(b.vals, nv * p->nstacks) ||
	    !ALLOC(b.loc_of_frame, p->nframes) || !ALLOC(b.fn_of_frame, p->nframes))
		goto out;
	str_id(&b.st, "");

	/* what the values are; the one tables show first is the default */
	for (k = 0; k < nv; k++) {
		perftools__profiles__value_type__init(&b.vt[k]);
		b.vt[k].type = str_id(&b.st, m->values[k].type);
		b.vt[k].unit = str_id(&b.st, m->values[k].unit);
		b.vtp[k] = &b.vt[k];
	}
	msg.n_sample_type = nv;
	msg.sample_type = b.vtp;
	msg.default_sample_type = b.vt[0].type;
	if (m->period_type.type) {
		perftools__profiles__value_type__init(&b.period_type);
		b.period_type.type = str_id(&b.st, m->period_type.type);
		b.period_type.unit = str_id(&b.st, m->period_type.unit);
		msg.period_type = &b.period_type;
		msg.period = (int64_t)m->period;
	}
	msg.time_nanos = m->time_ns;
	msg.duration_nanos = (int64_t)(m->duration * 1e9);
	msg.mapping = b.mapp;
	msg.location = b.locp;
	msg.function = b.fnp;

	nlocids = 0;
	for (i = 0; i < p->nstacks; i++) {
		const struct stack *s = &p->stacks[i];
		Sample *x = &b.smp[i];
		Label *l = &b.lab[nlabels];
		uint32_t j;

		perftools__profiles__sample__init(x);
		x->location_id = &b.locids[nlocids];
		/* pprof's order: the leaf first */
		for (j = s->nframes; j-- > 0;) {
			uint64_t id = location_of(p, &b, &msg, s->frames[j]);

			if (!id)
				goto out;
			b.locids[nlocids++] = id;
		}
		x->n_location_id = s->nframes;
		x->value = &b.vals[i * nv];
		for (k = 0; k < nv; k++)
			x->value[k] = (int64_t)s->v[k];
		x->n_value = nv;
		x->label = &b.labp[nlabels];
		perftools__profiles__label__init(&l[0]);
		l[0].key = str_id(&b.st, "comm");
		l[0].str = str_id(&b.st, s->comm);
		b.labp[nlabels++] = &l[0];
		if (s->tgid) {
			perftools__profiles__label__init(&l[1]);
			l[1].key = str_id(&b.st, "pid");
			l[1].num = s->tgid;
			b.labp[nlabels++] = &l[1];
		}
		if (s->tid) {
			perftools__profiles__label__init(&l[2]);
			l[2].key = str_id(&b.st, "thread_id");
			l[2].num = s->tid;
			b.labp[nlabels++] = &l[2];
		}
		x->n_label = &b.labp[nlabels] - x->label;
		b.smpp[i] = x;
	}
	msg.n_sample = p->nstacks;
	msg.sample = b.smpp;
	msg.n_string_table = b.st.n;
	msg.string_table = b.st.v;
	if (b.st.failed)
		goto out;

	len = perftools__profiles__profile__get_packed_size(&msg);
	buf = malloc(len ? len : 1);
	if (!buf)
		goto out;
	perftools__profiles__profile__pack(&msg, buf);
	err = write_gzip(buf, len, out);
out:
	free(buf);
	build_free(&b);
	return err;
}
