// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * python.c - CPython discovery, validation and code objects.
 *
 * Discovery: the ELF object that defines _PyRuntime among a process's
 * mappings (the executable or libpython, whatever its name); the version
 * from Py_Version (3.11+) or the file name, else a version string in it;
 * the layout from _Py_DebugOffsets (3.13) or the built-in table.
 * Validation, once the interpreter runs: PyCode_Type's member table and
 * basic size, PyFrame_Type's members (<= 3.10), and a walk of every
 * thread's frames in which each code object must be a PyCode_Type.
 * Only then does the BPF walker get the process (py_procs).
 */
#include <errno.h>
#include <pthread.h>
#include <gelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>
#include <bpf/bpf.h>
#include "python.h"
#include "pyframes.h"
#include "sym/elf.h"
#include "sym/symbolizer.h"
#include "util/grow.h"
#include "util/log.h"
#include "util/strmap.h"

#define TP_BASICSIZE	32	/* offsetof(PyTypeObject, tp_basicsize), x86-64 */
#define TP_MEMBERS	240	/* offsetof(PyTypeObject, tp_members), 3.8-3.13 */
#define MEMBERDEF_SIZE	40	/* sizeof(PyMemberDef) */
#define RETRY_S		0.5	/* how long a check that fails is tried again */

enum py_state { PY_PENDING = 1, PY_ON, PY_OFF };

struct py_target {
	int tgid;
	enum py_state state;
	bool walked;		/* its Python stacks were on at some time (it may have exited since) */
	int failures;
	double first_fail;	/* when its first check failed (CLOCK_MONOTONIC s) */
	char why[160];		/* why its last check failed */
	struct py_layout l;
	uint64_t runtime, code_type, frame_type;
	char module[64];
};

struct pyreg {
	pthread_mutex_t lock;	/* code objects are read in a thread of their own */
	struct symbolizer *sym;
	int procs_fd;
	bool quiet;
	struct strmap *targets;		/* tgid -> struct py_target */
	struct strmap *codes;		/* (tgid, code, sum) -> struct py_code */
	struct strmap *dsos;		/* struct dso * -> struct dso_kind */
	struct py_code unknown;
};

/* what a file is, for Python: looked up once per file, not per process */
struct dso_kind {
	bool runtime;		/* defines _PyRuntime (at rt) */
	bool old_python;	/* Python 2 or 3.0-3.6 */
	uint64_t rt;
};

struct code_key {
	int32_t tgid;
	uint32_t sum;
	uint64_t code;
};

struct pyreg *py__new(struct symbolizer *sym, int procs_fd, bool quiet)
{
	struct pyreg *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	r->sym = sym;
	r->procs_fd = procs_fd;
	r->quiet = quiet;
	r->targets = strmap__new();
	r->codes = strmap__new();
	r->dsos = strmap__new();
	r->unknown.name = "[unknown python code]";
	r->unknown.file = "";
	if (!r->targets || !r->codes || !r->dsos) {
		py__free(r);
		return NULL;
	}
	return r;
}

static void free_code(struct py_code *c)
{
	free((char *)c->name);
	free((char *)c->file);
	free((uint8_t *)c->tab);
	free(c);
}

void py__free(struct pyreg *r)
{
	size_t it = 0;
	void *v;

	if (!r)
		return;
	while (r->targets && (v = strmap__next(r->targets, &it, NULL, NULL)))
		free(v);
	it = 0;
	while (r->codes && (v = strmap__next(r->codes, &it, NULL, NULL)))
		free_code(v);
	it = 0;
	while (r->dsos && (v = strmap__next(r->dsos, &it, NULL, NULL)))
		free(v);
	strmap__free(r->targets);
	strmap__free(r->codes);
	strmap__free(r->dsos);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* read the target's memory: 0 when all *len* bytes came */
static int rd(int tgid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };

	if (!addr)
		return -EFAULT;
	return process_vm_readv(tgid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

int py__read_mem(int tgid, uint64_t addr, void *buf, size_t len)
{
	return rd(tgid, addr, buf, len);
}

static uint64_t rd_u64(int tgid, uint64_t addr, bool *ok)
{
	uint64_t v = 0;

	if (rd(tgid, addr, &v, sizeof(v)))
		*ok = false;
	return v;
}

static struct py_target *target(struct pyreg *r, int tgid)
{
	return strmap__get(r->targets, &tgid, sizeof(tgid));
}

static struct py_target *new_target(struct pyreg *r, int tgid)
{
	struct py_target *t = target(r, tgid);

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->tgid = tgid;
	if (strmap__set(r->targets, &tgid, sizeof(tgid), t)) {
		free(t);
		return NULL;
	}
	return t;
}

/* "python3.10", "libpython3.8.so.1.0", "libpython2.7.so": 3.10 -> 310; 0 if none */
static int version_from_name(const char *name)
{
	const char *p = strstr(name, "python");
	int major, minor;

	if (!p || sscanf(p + 6, "%d.%d", &major, &minor) != 2)
		return 0;
	return major * 100 + minor;
}

/* "libpython3.13t.so", "python3.13t": a free-threaded build */
static bool free_threaded_name(const char *name)
{
	const char *p = strstr(name, "python3.");

	if (!p)
		return false;
	p += 8;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == 't';
}

/* a "3.N.M" string alone in the file's read-only data (PY_VERSION): 3.N -> 3NN */
static int version_from_rodata(struct dso *d)
{
	Elf *elf = dso__elf(d);
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	int found = 0;

	if (!elf)
		return 0;
	if (elf_getshdrstrndx(elf, &shstrndx))
		goto out;
	while (!found && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		const char *name;
		size_t i;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".rodata"))
			continue;
		data = elf_getdata(scn, NULL);
		for (i = 1; data && i + 8 < data->d_size && !found; i++) {
			const char *s = (const char *)data->d_buf + i;
			int minor, patch, n = 0;

			if (s[-1] || s[0] != '3' || s[1] != '.')
				continue;
			if (sscanf(s, "3.%d.%d%n", &minor, &patch, &n) == 2 && n > 0 &&
			    (s[n] == 0 || s[n] == '+') && minor >= 0 && minor < 100)
				found = 300 + minor;
		}
	}
out:
	elf_end(elf);
	return found;
}

static const struct dso_kind *dso_kind(struct pyreg *r, struct dso *d)
{
	struct dso_kind *k = strmap__get(r->dsos, &d, sizeof(d));
	uint64_t v;

	if (k)
		return k;
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->runtime = dso__symbol(d, "_PyRuntime", &k->rt, NULL);
	k->old_python = !k->runtime && dso__symbol(d, "Py_Initialize", &v, NULL) &&
			dso__symbol(d, "PyEval_EvalFrameEx", &v, NULL);
	if (strmap__set(r->dsos, &d, sizeof(d), k)) {
		free(k);
		return NULL;
	}
	return k;
}

static double mono_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void refuse(struct pyreg *r, struct py_target *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void refuse(struct pyreg *r, struct py_target *t, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	t->state = PY_OFF;
	bpf_map_delete_elem(r->procs_fd, &t->tgid);
	if (r->quiet)
		pr_info("pid %d: %s: native stacks only\n", t->tgid, why);
	else
		pr_warn("pid %d: %s: profiling native stacks only\n", t->tgid, why);
}

/* check a type's member table against the offsets we will use */
static const char *check_members(int tgid, uint64_t type, const char *const *names,
				 const uint16_t *want, size_t n, int *found)
{
	static char msg[128];
	uint64_t m;
	bool ok = true;
	int i;

	*found = 0;
	m = rd_u64(tgid, type + TP_MEMBERS, &ok);
	if (!ok || !m)
		return "cannot read its type objects";
	for (i = 0; i < 64; i++, m += MEMBERDEF_SIZE) {
		uint64_t def[3];
		char name[32] = "";
		size_t k;

		if (rd(tgid, m, def, sizeof(def)))
			return "cannot read its type objects";
		if (!def[0])
			break;
		if (rd(tgid, def[0], name, sizeof(name) - 1))
			continue;
		for (k = 0; k < n; k++) {
			if (strcmp(name, names[k]) || want[k] == PY_NONE)
				continue;
			if (def[2] != want[k]) {
				snprintf(msg, sizeof(msg), "%s is at offset %lu, not %u as ebprof expects",
					 name, (unsigned long)def[2], want[k]);
				return msg;
			}
			(*found)++;
		}
	}
	return NULL;
}

/* is a code object's 8-byte field at *off* in what the walker reads? */
static bool in_code_read(const struct py_offsets *o, uint16_t off)
{
	return off >= o->co_argcount && off + 8 <= o->co_argcount + EBPROF_PY_CODE_READ;
}

/*
 * Walk every thread's frames in the process as the BPF walker will: NULL
 * when it all checks out, "" when the interpreter is not running yet, or
 * why not.
 */
static const char *check_live(struct py_target *t)
{
	const struct py_layout *l = &t->l;
	const struct py_offsets *o = &l->o;
	int tgid = t->tgid, nthreads = 0, i, j, found;
	uint64_t interp, ts;
	bool ok = true;

	interp = rd_u64(tgid, t->runtime + o->rt_interp, &ok);
	if (!ok)
		return "cannot read _PyRuntime";
	if (!interp)
		return "";
	ts = rd_u64(tgid, interp + o->is_threads, &ok);
	if (!ok)
		return "cannot read the interpreter state";
	if (!ts)
		return "";

	if (l->kind >= EBPROF_PY_311) {
		int64_t basic = 0;

		if (rd(tgid, t->code_type + TP_BASICSIZE, &basic, sizeof(basic)))
			return "cannot read PyCode_Type";
		if (basic != o->co_code_adaptive)
			return "PyCode_Type's size differs from what ebprof expects";
	}
	{
		static const char *const names[] = { "co_argcount", "co_firstlineno", "co_filename",
						     "co_name", "co_qualname", "co_lnotab", "co_linetable" };
		uint16_t want[] = { o->co_argcount, o->co_firstlineno, o->co_filename, o->co_name,
				    o->co_qualname, t->l.minor <= 9 ? l->co_lines : PY_NONE,
				    t->l.minor >= 10 ? l->co_lines : PY_NONE };
		const char *why = check_members(tgid, t->code_type, names, want, 7, &found);

		if (why)
			return why;
		if (found < 3)
			return "PyCode_Type does not describe its members";
	}
	/* the walker's checksum reads them */
	if (!in_code_read(o, o->co_filename) || !in_code_read(o, ebprof_py_name_off(o)))
		return "the code object's name and file lie beyond what the walker reads";
	if (l->kind == EBPROF_PY_FRAMEOBJ && t->frame_type) {
		static const char *const names[] = { "f_back", "f_code", "f_lasti" };
		uint16_t want[] = { o->f_back, o->f_code, o->f_instr };
		const char *why = check_members(tgid, t->frame_type, names, want, 3, &found);

		if (why)
			return why;
	}

	for (i = 0; ts && i < 4096; i++) {
		uint64_t frame;

		nthreads++;
		if (rd_u64(tgid, ts + l->ts_interp, &ok) != interp || !ok)
			return "a thread state does not point back at its interpreter";
		frame = rd_u64(tgid, ts + o->ts_frame, &ok);
		if (o->cf_current != PY_NONE && frame)
			frame = rd_u64(tgid, frame + o->cf_current, &ok);
		for (j = 0; frame && j < 1024 && ok; j++) {
			uint8_t owner = 0;
			uint64_t code, type;

			if (l->kind >= EBPROF_PY_311 &&
			    (rd(tgid, frame + o->f_owner, &owner, 1) || owner >= 3)) {
				frame = rd_u64(tgid, frame + o->f_back, &ok);
				continue;
			}
			code = rd_u64(tgid, frame + o->f_code, &ok);
			type = rd_u64(tgid, code + 8, &ok);
			if (ok && type != t->code_type)
				return "a frame's code object is not a PyCode_Type";
			frame = rd_u64(tgid, frame + o->f_back, &ok);
		}
		if (!ok)
			return "a frame chain could not be read";
		ts = rd_u64(tgid, ts + o->ts_next, &ok);
		if (!ok)
			return "the thread list could not be read";
	}
	if (ts)
		return "the thread list does not end";
	return NULL;
}

/* what the BPF walker gets of *t* */
static void proc_cfg(const struct py_target *t, struct py_proc *cfg)
{
	const struct py_layout *l = &t->l;

	cfg->runtime = t->runtime;
	cfg->kind = l->kind;
	cfg->version = 0x03000000 | (l->minor << 16);
	cfg->o = l->o;
}

static void try_enable(struct pyreg *r, struct py_target *t)
{
	const char *why = check_live(t);
	struct py_proc cfg = {};

	if (why && !*why) {
		t->failures = 0;
		return;		/* not running Python yet */
	}
	if (why) {
		/*
		 * a process starting (libpython half mapped while the loader
		 * works: we read what is there) or frames that come and go while
		 * we look: look again for a while before giving up
		 */
		double now = mono_sec();

		if (!t->failures++)
			t->first_fail = now;
		snprintf(t->why, sizeof(t->why), "%s", why);
		pr_debug("pid %d: check %d failed: %s\n", t->tgid, t->failures, why);
		if (now - t->first_fail < RETRY_S)
			return;
		refuse(r, t, "CPython 3.%u (%s) does not check out: %s", t->l.minor, t->module, why);
		return;
	}
	proc_cfg(t, &cfg);
	if (bpf_map_update_elem(r->procs_fd, &t->tgid, &cfg, BPF_ANY)) {
		refuse(r, t, "cannot store its Python layout (%s)", strerror(errno));
		return;
	}
	t->state = PY_ON;
	t->walked = true;
	pr_info("pid %d: CPython 3.%u (%s): Python stacks on\n", t->tgid, t->l.minor, t->module);
}

static void scan(struct pyreg *r, int tgid)
{
	const struct sym_mapping *maps;
	struct py_target *t = target(r, tgid);
	size_t n, i;

	if (t && (t->state == PY_ON || t->state == PY_OFF))
		return;
	n = symbolizer__mappings(r->sym, tgid, &maps);
	for (i = 0; i < n; i++) {
		struct dso *d = maps[i].dso;
		uint64_t rt, bias, v, ver = 0;
		int minor = 0, named;

		const struct dso_kind *kind;

		if (!d || (i && maps[i - 1].dso == d))
			continue;
		kind = dso_kind(r, d);
		if (!kind)
			continue;
		rt = kind->rt;
		if (!kind->runtime) {
			/* Python 2 and 3.0-3.6 have no _PyRuntime */
			if (kind->old_python) {
				t = new_target(r, tgid);
				if (!t)
					return;
				named = version_from_name(dso__name(d));
				snprintf(t->module, sizeof(t->module), "%s", dso__name(d));
				if (named)
					refuse(r, t, "Python %d.%d (%s) is not supported (CPython 3.8-3.13 are)",
					       named / 100, named % 100, t->module);
				else
					refuse(r, t, "a Python older than 3.7 (%s) is not supported (CPython 3.8-3.13 are)",
					       t->module);
				return;
			}
			continue;
		}
		if (!dso__map_bias(d, maps[i].start, maps[i].pgoff, true, &bias))
			continue;
		t = new_target(r, tgid);
		if (!t)
			return;
		snprintf(t->module, sizeof(t->module), "%s", dso__name(d));
		t->runtime = bias + rt;
		if (dso__symbol(d, "Py_Version", &v, NULL)) {
			uint32_t pv = 0;

			/* the file first, as for the debug offsets below */
			if (dso__read(d, v, &pv, sizeof(pv)) == 4 || !rd(tgid, bias + v, &pv, sizeof(pv)))
				ver = pv;
			if ((ver >> 24) == 3)
				minor = (ver >> 16) & 0xff;
		}
		if (!minor) {
			named = version_from_name(dso__name(d));
			if (!named)
				named = version_from_rodata(d);
			if (named / 100 == 3)
				minor = named % 100;
		}
		if (!minor) {
			refuse(r, t, "cannot tell the version of the Python in %s", t->module);
			return;
		}
		if (free_threaded_name(t->module)) {
			refuse(r, t, "free-threaded CPython 3.%d (%s) is not supported", minor, t->module);
			return;
		}
		if (!py_layout_for(minor)) {
			refuse(r, t, "CPython 3.%d (%s) is not supported (CPython 3.8-3.13 are)", minor,
			       t->module);
			return;
		}
		t->l = *py_layout_for(minor);
		if (minor == 13) {
			uint8_t raw[584];
			uint64_t dv;
			int err = 0;

			/*
			 * static data: the file has it, while the process may not
			 * have it all mapped yet (we may look while the loader works)
			 */
			if (dso__read(d, rt, raw, sizeof(raw)) != sizeof(raw))
				err = rd(tgid, t->runtime, raw, sizeof(raw));

			if (!err)
				err = py_debug_offsets_313(raw, sizeof(raw), &t->l, &dv);
			if (err == -ENOTSUP) {
				refuse(r, t, "free-threaded CPython 3.13 (%s) is not supported", t->module);
				return;
			}
			if (err) {
				refuse(r, t, "CPython 3.13 (%s) has no readable _Py_DebugOffsets", t->module);
				return;
			}
		}
		if (!dso__symbol(d, "PyCode_Type", &v, NULL)) {
			refuse(r, t, "CPython 3.%d (%s) does not export PyCode_Type", minor, t->module);
			return;
		}
		t->code_type = bias + v;
		t->frame_type = dso__symbol(d, "PyFrame_Type", &v, NULL) ? bias + v : 0;
		t->state = PY_PENDING;
		pr_debug("pid %d: CPython 3.%d in %s, _PyRuntime at %#lx\n", tgid, minor, t->module,
			 (unsigned long)t->runtime);
		try_enable(r, t);
		return;
	}
}

static void forget(struct pyreg *r, int tgid)
{
	struct py_target *t = target(r, tgid);

	if (t) {
		t->state = 0;
		t->failures = 0;
	}
}

/* targets whose checks failed until the end: say why */
static void finish(struct pyreg *r)
{
	size_t it = 0;
	struct py_target *t;

	while ((t = strmap__next(r->targets, &it, NULL, NULL)))
		if (t->state == PY_PENDING && t->failures)
			refuse(r, t, "CPython 3.%u (%s) does not check out: %s", t->l.minor, t->module, t->why);
}

static void fork_target(struct pyreg *r, int child, int parent)
{
	struct py_target *p = target(r, parent), *c;
	struct py_proc cfg = {};

	if (!p || p->state != PY_ON)
		return;
	c = new_target(r, child);
	if (!c)
		return;
	*c = *p;
	c->tgid = child;
	proc_cfg(c, &cfg);
	if (bpf_map_update_elem(r->procs_fd, &child, &cfg, BPF_ANY))
		c->state = PY_OFF;
	c->walked = c->state == PY_ON;
}

static int retry(struct pyreg *r)
{
	size_t it = 0;
	struct py_target *t;
	int waiting = 0;

	while ((t = strmap__next(r->targets, &it, NULL, NULL))) {
		if (t->state != PY_PENDING)
			continue;
		try_enable(r, t);
		waiting += t->state == PY_PENDING;
	}
	return waiting;
}

int py__walked(const struct pyreg *r)
{
	size_t it = 0;
	struct py_target *t;
	int n = 0;

	while ((t = strmap__next(r->targets, &it, NULL, NULL)))
		n += t->walked;
	return n;
}

/* a str object as UTF-8 (malloc'd), or NULL */
static char *read_str(int tgid, const struct py_layout *l, uint64_t addr)
{
	uint8_t hdr[40];
	int64_t len;
	uint32_t state;
	unsigned int kind;
	size_t off;
	void *data;
	char *out;

	if (rd(tgid, addr, hdr, sizeof(hdr)))
		return NULL;
	memcpy(&len, hdr + 16, sizeof(len));
	memcpy(&state, hdr + 32, sizeof(state));
	kind = py_str_kind(state);
	off = py_str_data_offset(l, state);
	if (!kind || !off || len < 0 || len > 4096)
		return NULL;
	data = malloc(len * kind + 1);
	out = malloc(len * 4 + 1);
	if (!data || !out || rd(tgid, addr + off, data, len * kind) ||
	    py_str_utf8(state, data, len, out, len * 4 + 1) < 0) {
		free(data);
		free(out);
		return NULL;
	}
	free(data);
	return out;
}

/* a bytes object's contents (malloc'd) */
static uint8_t *read_bytes(int tgid, uint64_t addr, size_t *len)
{
	int64_t n;
	uint8_t *buf;

	if (rd(tgid, addr + 16, &n, sizeof(n)) || n < 0 || n > (1 << 20))
		return NULL;
	buf = malloc(n ? n : 1);
	if (buf && n && rd(tgid, addr + 32, buf, n)) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

/*
 * what the walker read of a code object when it saw it (NULL: nothing):
 * for one that is gone by the time user space reads it
 */
static bool use_hint(struct py_code *c, const struct py_code_event *e)
{
	if (!e || !e->name[0])
		return false;
	free((char *)c->name);
	free((char *)c->file);
	c->name = strndup(e->name, sizeof(e->name));
	c->file = strndup(e->file, sizeof(e->file));
	c->first = e->first;
	c->known = false;	/* no line table */
	return true;
}

static struct py_code *read_code(struct py_target *t, uint64_t addr, uint32_t sum,
				 const struct py_code_event *hint)
{
	const struct py_layout *l = &t->l;
	struct py_code *c = calloc(1, sizeof(*c));
	uint8_t obj[256];
	int32_t argc, first;
	uint64_t refs, type, name, file, p;
	uint16_t mine;

	if (!c)
		return NULL;
	c->minor = l->minor;
	if (rd(t->tgid, addr, obj, sizeof(obj))) {
		if (!use_hint(c, hint))
			c->name = strdup("[python code, unreadable]");
		goto out;
	}
	memcpy(&refs, obj, 8);
	memcpy(&type, obj + 8, 8);
	memcpy(&argc, obj + l->o.co_argcount, 4);
	memcpy(&first, obj + l->o.co_firstlineno, 4);
	memcpy(&name, obj + ebprof_py_name_off(&l->o), 8);
	memcpy(&file, obj + l->o.co_filename, 8);
	mine = py_code_sum(first, argc, name, file);
	/*
	 * freed before we could read it: its memory reused, or its first word
	 * is the allocator's free-list link (a pointer, or 0) instead of a
	 * reference count (1 to 2^32 - 1, immortal objects included); its
	 * name and line table may be freed and reused too
	 */
	if (type != t->code_type || mine != sum || refs == 0 || refs >= (1ULL << 32)) {
		pr_debug("pid %d: code object %#lx is gone: refs %#lx, type %#lx, checksum %#x, walker saw %#x\n",
			 t->tgid, (unsigned long)addr, (unsigned long)refs, (unsigned long)type,
			 mine, sum);
		if (!use_hint(c, hint))
			c->name = strdup("[python code, freed]");
		goto out;
	}
	c->first = first;
	c->name = read_str(t->tgid, l, name);
	c->file = read_str(t->tgid, l, file);
	memcpy(&p, obj + l->co_lines, 8);
	c->tab = read_bytes(t->tgid, p, &c->tablen);
	c->known = c->name && c->file;
	if (!c->known && use_hint(c, hint))
		goto out;
	if (!c->name)
		c->name = strdup("[python code, unreadable name]");
out:
	if (!c->file)
		c->file = strdup("");
	if (!c->name || !c->file) {
		free_code(c);
		return NULL;
	}
	return c;
}

static void code_seen(struct pyreg *r, int tgid, uint64_t code, uint32_t sum,
		      const struct py_code_event *hint)
{
	struct code_key k = { tgid, sum, code };
	struct py_target *t = target(r, tgid);
	struct py_code *c;

	if (!t || strmap__get(r->codes, &k, sizeof(k)))
		return;
	c = read_code(t, code, sum, hint);
	if (c && strmap__set(r->codes, &k, sizeof(k), c))
		free_code(c);
}

static const struct py_code *get_code(struct pyreg *r, int tgid, uint64_t code, uint32_t sum)
{
	struct code_key k = { tgid, sum, code };
	struct py_code *c = strmap__get(r->codes, &k, sizeof(k));

	if (c)
		return c;
	code_seen(r, tgid, code, sum, NULL);
	c = strmap__get(r->codes, &k, sizeof(k));
	return c ? c : &r->unknown;
}

int py__line(const struct py_code *c, uint32_t instr)
{
	int line;

	if (!c->known)
		return 0;
	line = py_line(c->minor, c->tab, c->tablen, c->first, instr);
	return line > 0 ? line : 0;
}

void py__scan(struct pyreg *r, int tgid)
{
	pthread_mutex_lock(&r->lock);
	scan(r, tgid);
	pthread_mutex_unlock(&r->lock);
}

void py__forget(struct pyreg *r, int tgid)
{
	pthread_mutex_lock(&r->lock);
	forget(r, tgid);
	pthread_mutex_unlock(&r->lock);
}

void py__drop(struct pyreg *r, bool (*gone)(int tgid, void *ctx), void *ctx)
{
	struct code_key *keys = NULL;
	size_t it = 0, n = 0, cap = 0, i;
	const void *key;
	int tgid;

	pthread_mutex_lock(&r->lock);
	/* collected first: a delete moves the entries behind it */
	while (strmap__next(r->codes, &it, &key, NULL)) {
		const struct code_key *k = key;

		if (!gone(k->tgid, ctx))
			continue;
		if (GROW(keys, n, cap, 64))
			break;
		keys[n++] = *k;
	}
	for (i = 0; i < n; i++)
		free_code(strmap__del(r->codes, &keys[i], sizeof(keys[i])));
	n = 0;
	it = 0;
	while (strmap__next(r->targets, &it, &key, NULL)) {
		memcpy(&tgid, key, sizeof(tgid));
		if (!gone(tgid, ctx))
			continue;
		if (GROW(keys, n, cap, 64))
			break;
		keys[n++].tgid = tgid;
	}
	for (i = 0; i < n; i++)
		free(strmap__del(r->targets, &keys[i].tgid, sizeof(tgid)));
	pthread_mutex_unlock(&r->lock);
	free(keys);
}

void py__fork(struct pyreg *r, int child, int parent)
{
	pthread_mutex_lock(&r->lock);
	fork_target(r, child, parent);
	pthread_mutex_unlock(&r->lock);
}

void py__finish(struct pyreg *r)
{
	pthread_mutex_lock(&r->lock);
	finish(r);
	pthread_mutex_unlock(&r->lock);
}

int py__retry(struct pyreg *r)
{
	int ret;

	pthread_mutex_lock(&r->lock);
	ret = retry(r);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

/* the previous frame was the first of its eval call (python.bpf.h's py_boundary) */
static void walk_boundary(struct py_stack *st, uint64_t *hash, bool *since)
{
	if (*since && st->nr > 0) {
		st->frames[st->nr - 1].flags |= EBPROF_PYF_ENTRY;
	} else if (st->nr < EBPROF_PY_MAX_FRAMES) {
		st->frames[st->nr++] = (struct py_frame){ .flags = EBPROF_PYF_ENTRY | EBPROF_PYF_EMPTY };
	}
	*hash = ebprof_hash_step(*hash, 0x5e9);
	*since = false;
}

/*
 * The Python stack of thread *fs* (its fs base: pthread_self()) of *tgid*,
 * which is not running, walked from its memory as pystack_record() walks
 * a running one in BPF, with the offsets BPF has; its code objects read
 * now, while they exist.  The frames into *st*, their hash into *hash*,
 * EBPROF_F_PY_* into *end*: false when the thread runs no Python code.
 */
bool py__walk_thread(struct pyreg *r, int tgid, uint64_t fs, struct py_stack *st, uint64_t *hash, uint32_t *end)
{
	const struct py_offsets *o;
	struct py_proc cfg;
	uint64_t interp, ts = 0, frame = 0, id, h = EBPROF_HASH_SEED ^ 0x9e37;
	bool ok = true, since = false;
	int i, ninterp = 0;
	__u32 key = tgid;

	st->nr = 0;
	*end = 0;
	if (bpf_map_lookup_elem(r->procs_fd, &key, &cfg))
		return false;
	o = &cfg.o;
	/* its thread state: the one whose thread_id is its pthread_self() */
	interp = rd_u64(tgid, cfg.runtime + o->rt_interp, &ok);
	for (i = 0; ok && i < 256; i++) {
		if (!ts) {
			if (!interp || ninterp++ >= 8)
				break;
			ts = rd_u64(tgid, interp + o->is_threads, &ok);
			interp = rd_u64(tgid, interp + o->is_next, &ok);
			continue;
		}
		id = rd_u64(tgid, ts + o->ts_thread_id, &ok);
		if (ok && id == fs)
			break;
		ts = rd_u64(tgid, ts + o->ts_next, &ok);
	}
	if (!ok || !ts || i == 256)
		return false;
	if (cfg.kind == EBPROF_PY_311 || cfg.kind == EBPROF_PY_312) {
		uint64_t cf = rd_u64(tgid, ts + o->ts_frame, &ok);

		frame = ok && cf ? rd_u64(tgid, cf + o->cf_current, &ok) : 0;
	} else {
		frame = rd_u64(tgid, ts + o->ts_frame, &ok);
	}
	if (!ok || !frame)
		return false;
	pthread_mutex_lock(&r->lock);
	for (i = 0; frame && i < 2 * EBPROF_PY_MAX_FRAMES; i++) {
		uint8_t fb[256 + 8] = {}, cb[256 + 8] = {};
		uint64_t code, instr, name, file;
		uint32_t argc, first, traceable;
		uint8_t owner = 0, is_entry = 0;
		uint16_t sum;

		if (rd(tgid, frame, fb, 120 /* PY_FRAME_READ */)) {
			*end = EBPROF_F_PY_ERROR;
			break;
		}
		memcpy(&frame, fb + (o->f_back & 255), 8);
		if (cfg.kind >= EBPROF_PY_311) {
			owner = fb[o->f_owner & 255];
			if (o->f_is_entry != 0xffff)
				is_entry = fb[o->f_is_entry & 255];
			if (owner >= 3 /* PY_OWNED_BY_CSTACK */) {
				walk_boundary(st, &h, &since);
				continue;
			}
		}
		memcpy(&code, fb + (o->f_code & 255), 8);
		if (!code || rd(tgid, code + o->co_argcount, cb, EBPROF_PY_CODE_READ)) {
			*end = EBPROF_F_PY_ERROR;
			break;
		}
		memcpy(&argc, cb, 4);
		memcpy(&first, cb + ((o->co_firstlineno - o->co_argcount) & 255), 4);
		memcpy(&name, cb + ((ebprof_py_name_off(o) - o->co_argcount) & 255), 8);
		memcpy(&file, cb + ((o->co_filename - o->co_argcount) & 255), 8);
		sum = ebprof_py_code_sum(first, argc, name, file);
		if (cfg.kind == EBPROF_PY_FRAMEOBJ) {
			uint32_t lasti;

			memcpy(&lasti, fb + (o->f_instr & 255), 4);
			instr = lasti;
			is_entry = 1;
		} else {
			uint64_t base = code + o->co_code_adaptive;

			memcpy(&traceable, cb + ((o->co_firsttraceable - o->co_argcount) & 255), 4);
			memcpy(&instr, fb + (o->f_instr & 255), 8);
			/* incomplete: set up but not running its code yet */
			if (owner != 1 /* PY_OWNED_BY_GENERATOR */ && instr < base + 2ULL * traceable) {
				if (is_entry)
					walk_boundary(st, &h, &since);
				continue;
			}
			instr -= base;
		}
		if (st->nr >= EBPROF_PY_MAX_FRAMES) {
			*end = EBPROF_F_PY_TRUNC;
			break;
		}
		st->frames[st->nr++] = (struct py_frame){ code, (uint32_t)instr, sum, is_entry ? EBPROF_PYF_ENTRY : 0 };
		since = !is_entry;
		h = ebprof_hash_step(ebprof_hash_step(h, code), ((uint64_t)sum << 32) | (uint32_t)instr);
		if (is_entry)
			h = ebprof_hash_step(h, 0x5e9);
		code_seen(r, tgid, code, sum, NULL);
	}
	pthread_mutex_unlock(&r->lock);
	*hash = h;
	return st->nr > 0;
}

void py__code_seen(struct pyreg *r, const struct py_code_event *e)
{
	pthread_mutex_lock(&r->lock);
	code_seen(r, e->tgid, e->code, e->sum, e);
	pthread_mutex_unlock(&r->lock);
}

const struct py_code *py__code(struct pyreg *r, int tgid, uint64_t code, uint32_t sum)
{
	const struct py_code * ret;

	pthread_mutex_lock(&r->lock);
	ret = get_code(r, tgid, code, sum);
	pthread_mutex_unlock(&r->lock);
	return ret;
}
