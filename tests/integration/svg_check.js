// Runs the flame graph's own script against a minimal DOM built from the
// SVG, then clicks and searches as a user would.  usage: node svg_check.js FILE
'use strict';
const fs = require('fs');
const svg = fs.readFileSync(process.argv[2], 'utf8');
const script = svg.split('<![CDATA[')[1].split(']]>')[0];
const unxml = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');

function el(attrs) {
	return { attrs, style: {}, textContent: '', children: {},
		getAttribute(k) { return this.attrs[k]; },
		setAttribute(k, v) { this.attrs[k] = String(v); },
		querySelector(sel) { return this.children[sel]; } };
}
const frames = [];
const re = /<g class="f" ([^>]*)><title>([^<]*)<\/title><rect ([^>]*)\/><text ([^>]*)>([^<]*)<\/text><\/g>/g;
const attrs = (s) => Object.fromEntries([...s.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1], unxml(m[2])]));
let m;
while ((m = re.exec(svg))) {
	const g = el(attrs(m[1]));
	g.children.title = el({}); g.children.title.textContent = unxml(m[2]);
	g.children.rect = el(attrs(m[3]));
	g.children.text = el(attrs(m[4])); g.children.text.textContent = unxml(m[5]);
	frames.push(g);
}
const byId = { details: el({}), matched: el({}), unzoom: el({}) };
global.document = { getElementById: (id) => byId[id], querySelectorAll: () => frames };
let answer = '';
global.prompt = () => answer;
global.alert = (e) => { throw new Error('alert: ' + e); };
eval(script + '\nglobal.api = { init, zoom, unzoom, search };');
const api = global.api;
api.init();

const find = (name) => frames.filter((g) => g.getAttribute('data-n') === name);
const width = (g) => +g.children.rect.getAttribute('width');
const check = (cond, what) => { if (!cond) { console.log('FAIL: ' + what); process.exit(1); } };

// hover shows the frame's details
const root = find('all')[0];
root.onmouseover();
check(/^all \(\d+ samples, 100.00%\)$/.test(byId.details.textContent), 'hover details: ' + byId.details.textContent);
// click burn_b: it and its children fill the width, siblings hide, ancestors dim
// the widest of each (a stray short stack can hold another copy)
const widest = (name) => find(name).sort((x, y) => +y.getAttribute('data-w') - +x.getAttribute('data-w'))[0];
const b = widest('burn_b'), a = widest('burn_a');
const bx = +b.getAttribute('data-x'), bd = +b.getAttribute('data-d');
const work = find('work').find((g) => +g.getAttribute('data-d') === bd - 1 &&
	+g.getAttribute('data-x') <= bx && bx < +g.getAttribute('data-x') + +g.getAttribute('data-w'));
check(work, 'burn_b has a work parent');
b.onclick();
check(Math.abs(width(b) - 1180) < 1, 'zoomed frame width ' + width(b));
check(a.style.display === 'none', 'sibling hidden');
check(work.style.opacity === 0.5 && Math.abs(width(work) - 1180) < 1, 'ancestor dimmed and full width');
check(b.children.text.textContent === 'burn_b', 'label after zoom: ' + b.children.text.textContent);
check(byId.unzoom.style.opacity === 1, 'Reset Zoom shown');
api.unzoom();
check(a.style.display === '' && width(a) > width(b), 'unzoom restores');
// every frame, zoomed: one dimmed full-width ancestor per level above it, and
// every frame drawn inside it fits the width (data-x/-w are rounded to 1e-8)
frames.forEach((g) => {
	const d = +g.getAttribute('data-d');
	g.onclick();
	const dimmed = frames.filter((f) => f.style.display === '' && f.style.opacity === 0.5);
	check(dimmed.length === d && dimmed.every((f) => Math.abs(width(f) - 1180) < 1),
		'zoom on ' + g.getAttribute('data-n') + ' at depth ' + d + ': ' + dimmed.length + ' ancestors dimmed');
	check(Math.abs(width(g) - 1180) < 1, 'zoomed ' + g.getAttribute('data-n') + ' width ' + width(g));
	check(frames.every((f) => f.style.display === 'none' || width(f) <= 1180.5), 'a frame wider than the zoomed one');
	api.unzoom();
});
// search: the share of samples under matching frames, without double counting
answer = 'burn_a';
api.search();
const share = parseFloat(byId.matched.textContent.replace('Matched: ', ''));
check(a.children.rect.getAttribute('fill') === 'rgb(230,0,230)', 'match highlighted');
answer = '^all$|spin_leaf|work';
api.search();
check(byId.matched.textContent === 'Matched: 100.00%', 'nested matches count once: ' + byId.matched.textContent);
answer = '';
api.search();
check(byId.matched.textContent === '' && a.children.rect.getAttribute('fill') === a.getAttribute('data-c'), 'search cleared');
console.log('  svg script ok: zoom, unzoom, hover, search (burn_a ' + share + ' %)');
console.log(share.toFixed(2));
