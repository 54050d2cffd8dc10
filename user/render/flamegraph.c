// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flamegraph.c - a self-contained interactive SVG flame graph: hover shows
 * a frame's details, a click zooms into it, "Search" highlights frames by
 * regular expression and reports the share they cover.  No external files.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "render.h"
#include "../util/strmap.h"

#define WIDTH	1200
#define PAD	10
#define FRAME_H	16
#define TOP	40
#define BOTTOM	30

struct node {
	const char *name;
	bool kernel;
	uint64_t value;
	uint32_t *kids;
	uint32_t nkids, kcap;
};

struct tree {
	struct node *v;
	uint32_t n, cap;
	struct strmap *index;	/* (parent, kernel, name) -> node + 1 */
	int max_depth;
};

static int child(struct tree *t, uint32_t parent, const char *name, bool kernel, uint32_t *out)
{
	size_t len = strlen(name), klen = sizeof(uint32_t) + 1 + len;
	char *key = malloc(klen);
	struct node *pn;
	void *v;

	if (!key)
		return -ENOMEM;
	memcpy(key, &parent, sizeof(parent));
	key[sizeof(parent)] = kernel;
	memcpy(key + sizeof(parent) + 1, name, len);
	v = strmap__get(t->index, key, klen);
	if (v) {
		*out = (uint32_t)(uintptr_t)v - 1;
		free(key);
		return 0;
	}
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 1024;
		struct node *nv = realloc(t->v, cap * sizeof(*nv));

		if (!nv)
			goto err;
		t->v = nv;
		t->cap = cap;
	}
	memset(&t->v[t->n], 0, sizeof(t->v[0]));
	t->v[t->n].name = name;
	t->v[t->n].kernel = kernel;
	pn = &t->v[parent];
	if (pn->nkids == pn->kcap) {
		uint32_t cap = pn->kcap ? pn->kcap * 2 : 4;
		uint32_t *k = realloc(pn->kids, cap * sizeof(*k));

		if (!k)
			goto err;
		pn->kids = k;
		pn->kcap = cap;
	}
	pn->kids[pn->nkids++] = t->n;
	if (strmap__set(t->index, key, klen, (void *)(uintptr_t)(t->n + 1)))
		goto err;
	*out = t->n++;
	free(key);
	return 0;
err:
	free(key);
	return -ENOMEM;
}

static struct tree *tree_sort_ctx;

static int cmp_kid(const void *a, const void *b)
{
	const struct node *x = &tree_sort_ctx->v[*(const uint32_t *)a];
	const struct node *y = &tree_sort_ctx->v[*(const uint32_t *)b];
	int c = strcmp(x->name, y->name);

	return c ? c : (int)x->kernel - (int)y->kernel;
}

static void xml_str(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		default:
			if ((unsigned char)*s >= 0x20)
				fputc(*s, out);
		}
	}
}

static void color(const struct node *n, char *buf, size_t len)
{
	uint64_t h = hash_bytes(n->name, strlen(n->name));

	if (n->kernel)
		snprintf(buf, len, "rgb(%d,%d,%d)", 200 + (int)(h % 40), 110 + (int)((h >> 8) % 70), 40 + (int)((h >> 16) % 30));
	else
		snprintf(buf, len, "rgb(%d,%d,%d)", 205 + (int)(h % 50), (int)((h >> 8) % 230), (int)((h >> 16) % 55));
}

struct emit_ctx {
	FILE *out;
	struct tree *t;
	uint64_t total;
	int height;
	const struct profile_value *vt;	/* what the widths are */
};

static void emit(struct emit_ctx *c, uint32_t id, uint64_t start, int depth)
{
	const struct node *n = &c->t->v[id];
	double fx = (double)start / c->total, fw = (double)n->value / c->total;
	double px = PAD + fx * (WIDTH - 2 * PAD), pw = fw * (WIDTH - 2 * PAD);
	int y = c->height - BOTTOM - (depth + 1) * FRAME_H;
	uint64_t off = start;
	char col[32], vbuf[32];
	uint32_t i;
	int maxc;

	if (pw < 0.1)
		return;
	color(n, col, sizeof(col));
	fprintf(c->out, "<g class=\"f\" data-x=\"%.8f\" data-w=\"%.8f\" data-d=\"%d\" data-c=\"%s\" data-n=\"",
		fx, fw, depth, col);
	xml_str(c->out, n->name);
	fprintf(c->out, "\"><title>");
	xml_str(c->out, n->name);
	if (n->kernel)
		fputs(" [kernel]", c->out);
	fprintf(c->out, " (%s %s, %.2f%%)</title><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" rx=\"2\"/><text x=\"%.1f\" y=\"%d\">",
		render_value(c->vt, n->value, vbuf, sizeof(vbuf)), c->vt->type, 100.0 * fw, px, y, pw,
		FRAME_H - 1, col, px + 3, y + FRAME_H - 4);
	maxc = (int)((pw - 6) / 7);
	if (maxc >= 3) {
		char buf[512];

		snprintf(buf, sizeof(buf), "%s", n->name);
		if ((int)strlen(buf) > maxc && maxc < (int)sizeof(buf)) {
			buf[maxc - 2] = '.';
			buf[maxc - 1] = '.';
			buf[maxc] = '\0';
		}
		xml_str(c->out, buf);
	}
	fputs("</text></g>\n", c->out);
	for (i = 0; i < n->nkids; i++) {
		emit(c, n->kids[i], off, depth + 1);
		off += c->t->v[n->kids[i]].value;
	}
}

/*
 * zoom() tells a frame's descendants and ancestors by their data-x/data-w,
 * printed to 8 decimals: a child's end can differ from its parent's by 2e-8,
 * so it compares within 1e-7 (the narrowest frame drawn is 0.1 px, 8e-5).
 */
static const char script[] =
"<script type=\"text/ecmascript\"><![CDATA[\n"
"var W=" "1200" ",PAD=10,frames=[],details,matched,unzoomb;\n"
"function init(){details=document.getElementById('details');matched=document.getElementById('matched');\n"
" unzoomb=document.getElementById('unzoom');frames=Array.prototype.slice.call(document.querySelectorAll('g.f'));\n"
" frames.forEach(function(g){g.onclick=function(){zoom(g)};\n"
"  g.onmouseover=function(){details.textContent=g.querySelector('title').textContent};\n"
"  g.onmouseout=function(){details.textContent=' '}});}\n"
"function place(g,x,w){var r=g.querySelector('rect'),t=g.querySelector('text'),n=g.getAttribute('data-n');\n"
" r.setAttribute('x',x.toFixed(1));r.setAttribute('width',w.toFixed(1));t.setAttribute('x',(x+3).toFixed(1));\n"
" var m=Math.floor((w-6)/7);t.textContent=m<3?'':(n.length<=m?n:n.substr(0,m-2)+'..');}\n"
"function zoom(z){var zx=+z.getAttribute('data-x'),zw=+z.getAttribute('data-w'),zd=+z.getAttribute('data-d'),S=W-2*PAD;\n"
" frames.forEach(function(g){var x=+g.getAttribute('data-x'),w=+g.getAttribute('data-w'),d=+g.getAttribute('data-d');\n"
"  if(d>=zd&&x>=zx-1e-7&&x+w<=zx+zw+1e-7){g.style.display='';g.style.opacity=1;place(g,PAD+(x-zx)/zw*S,w/zw*S);}\n"
"  else if(d<zd&&x<=zx+1e-7&&x+w>=zx+zw-1e-7){g.style.display='';g.style.opacity=0.5;place(g,PAD,S);}\n"
"  else g.style.display='none';});unzoomb.style.opacity=1;}\n"
"function unzoom(){var S=W-2*PAD;frames.forEach(function(g){g.style.display='';g.style.opacity=1;\n"
" place(g,PAD+(+g.getAttribute('data-x'))*S,(+g.getAttribute('data-w'))*S);});unzoomb.style.opacity=0;}\n"
"function search(){var term=prompt('Search for (regular expression):','');if(term===null)return;\n"
" var re=null;if(term!==''){try{re=new RegExp(term)}catch(e){alert(e);return}}var iv=[];\n"
" frames.forEach(function(g){var r=g.querySelector('rect'),x=+g.getAttribute('data-x');\n"
"  if(re&&re.test(g.getAttribute('data-n'))){r.setAttribute('fill','rgb(230,0,230)');iv.push([x,x+(+g.getAttribute('data-w'))]);}\n"
"  else r.setAttribute('fill',g.getAttribute('data-c'));});\n"
" iv.sort(function(a,b){return a[0]-b[0]});var sum=0,end=-1;\n"
" iv.forEach(function(v){if(v[0]>=end){sum+=v[1]-v[0];end=v[1]}else if(v[1]>end){sum+=v[1]-end;end=v[1]}});\n"
" matched.textContent=re?'Matched: '+(100*sum).toFixed(2)+'%':'';}\n"
"]]></script>\n";

int render_svg(const struct profile *p, const struct render_opts *o, FILE *out)
{
	struct strmap *labels = strmap__new();
	struct tree t = {};
	struct emit_ctx c;
	size_t it = 0;
	void *v;
	uint32_t root, i, j;
	size_t si;
	int err = -ENOMEM;

	t.index = strmap__new();
	t.cap = 1024;
	t.v = calloc(t.cap, sizeof(*t.v));
	if (!t.index || !t.v || !labels)
		goto out;
	t.v[0].name = "all";
	t.n = 1;
	root = 0;
	for (si = 0; si < p->nstacks; si++) {
		const struct stack *s = &p->stacks[si];
		char label[64];
		const char *lp;
		uint32_t cur;

		profile__root_label(p, s, label, sizeof(label));
		lp = strmap__get(labels, label, strlen(label));
		if (!lp) {
			char *dup = strdup(label);

			if (!dup || strmap__set(labels, label, strlen(label), dup)) {
				free(dup);
				goto out;
			}
			lp = dup;
		}
		if (child(&t, root, lp, false, &cur))
			goto out;
		t.v[0].value += s->v[0];
		t.v[cur].value += s->v[0];
		for (j = 0; j < s->nframes; j++) {
			const struct frame *f = profile__frame_at(p, s->frames[j]);

			if (child(&t, cur, f->func, f->kernel, &cur))
				goto out;
			t.v[cur].value += s->v[0];
			if ((int)j + 2 > t.max_depth)
				t.max_depth = j + 2;
		}
		if (t.max_depth < 1)
			t.max_depth = 1;
	}
	tree_sort_ctx = &t;
	for (i = 0; i < t.n; i++)
		if (t.v[i].nkids > 1)
			qsort(t.v[i].kids, t.v[i].nkids, sizeof(uint32_t), cmp_kid);

	c.out = out;
	c.t = &t;
	c.total = t.v[0].value ? t.v[0].value : 1;
	c.vt = &p->meta.values[0];
	c.height = TOP + BOTTOM + (t.max_depth + 1) * FRAME_H;
	fprintf(out, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%d\" height=\"%d\" onload=\"init()\" xmlns=\"http://www.w3.org/2000/svg\">\n",
		WIDTH, c.height);
	fputs("<style>text{font-family:Verdana,sans-serif;font-size:12px;fill:#000}"
	      "g.f:hover rect{stroke:#000;stroke-width:0.5;cursor:pointer}"
	      "#title{font-size:17px;text-anchor:middle}.b{cursor:pointer}</style>\n", out);
	fputs(script, out);
	fprintf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"#f8f8f0\"/>\n<text id=\"title\" x=\"%d\" y=\"24\">",
		WIDTH / 2);
	xml_str(out, o->title ? o->title : "ebprof CPU flame graph");
	fprintf(out, "</text>\n<text id=\"unzoom\" class=\"b\" x=\"%d\" y=\"24\" style=\"opacity:0\" onclick=\"unzoom()\">Reset Zoom</text>\n",
		PAD);
	fprintf(out, "<text id=\"search\" class=\"b\" x=\"%d\" y=\"24\" onclick=\"search()\">Search</text>\n",
		WIDTH - PAD - 60);
	fprintf(out, "<text id=\"matched\" x=\"%d\" y=\"%d\"> </text>\n", WIDTH - PAD - 160,
		c.height - 10);
	fprintf(out, "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n", PAD, c.height - 10);
	emit(&c, 0, 0, 0);
	fputs("</svg>\n", out);
	err = ferror(out) ? -EIO : 0;
out:
	for (i = 0; i < t.n; i++)
		free(t.v[i].kids);
	free(t.v);
	while (labels && (v = strmap__next(labels, &it, NULL, NULL)))
		free(v);
	strmap__free(labels);
	strmap__free(t.index);
	return err;
}
