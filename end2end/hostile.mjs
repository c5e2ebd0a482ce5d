// Stored HTML injection, proven per page (issue #15): every console page rendered from a Redis
// full of hostile text (tests/interop/hostile_corpus.py) must behave exactly like the same page
// rendered from its clean twin. Run through scripts/hostile.sh, which starts redis-server, two
// `taskmill serve` (hostile and clean databases), plants both corpora and passes:
//   HOSTILE_BASE, CLEAN_BASE      the two consoles
//   HOSTILE_SEED, CLEAN_SEED      the corpus scripts' JSON (pages, texts, titles)
//   HOSTILE_AUTH, CLEAN_AUTH      NAME:PASSWORD of each console's Basic user
//   OTHER_AUTH                    a second user of the hostile console
//   HOSTILE_SCREENSHOTS           where failing pages are photographed
// Per page: the documented status, no navigation away, no console error or CSP violation, no
// failed sub-request, window.__xss untouched, the same count of every element an injection could
// create as the clean page, the hostile text shown as text and the exact expected title.
// Prints `ok - ` / `not ok - ` per test and `(browser) N passed, N failed`.
import { mkdirSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run scripts/hostile.sh)`);
  return v;
};
const SIDES = {
  hostile: { base: need('HOSTILE_BASE'), seed: JSON.parse(readFileSync(need('HOSTILE_SEED'), 'utf8')), auth: need('HOSTILE_AUTH') },
  clean: { base: need('CLEAN_BASE'), seed: JSON.parse(readFileSync(need('CLEAN_SEED'), 'utf8')), auth: need('CLEAN_AUTH') },
};
const SHOTS = process.env.HOSTILE_SCREENSHOTS || 'target/hostile-screenshots';
mkdirSync(SHOTS, { recursive: true });
const ONLY = process.argv.slice(2);
const SETTLE_MS = 300;

// Elements an injection would add; the clean twin of a page must have exactly as many.
// Elements inside SVG charts are left out of the total: a chart's point data depends on when the
// history sampler ran, not on the page's text (the svg elements themselves are still counted).
const COUNTED = ['*:not(svg *)', 'img', 'meta', 'svg', 'script', 'a[href^="javascript"]', 'form', 'iframe', 'object',
  'embed', 'base', 'link', 'style', '[onerror]', '[onload]', '[onmouseover]', '[style]'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const assert = (cond, msg) => { if (!cond) throw new Error(msg); };
const collapse = (s) => s.replace(/[\t\n\f\r ]+/g, ' ').trim();
const short = (s) => JSON.stringify(s.length > 160 ? s.slice(0, 160) + '…' : s);

async function newContext(browser, user) {
  const auth = 'Basic ' + Buffer.from(user, 'utf8').toString('base64');
  const ctx = await browser.newContext({ extraHTTPHeaders: { Authorization: auth } });
  // Before any page script: record CSP violations (an injected inline script or handler the
  // CSP stopped is still an injection).
  await ctx.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
    });
  });
  return ctx;
}

// Loads `path` on one console and returns everything the assertions look at.
async function load(ctx, side, path) {
  const { base } = SIDES[side];
  const page = await ctx.newPage();
  const problems = [];
  const navigations = [];
  const want = new URL(base + path).href;
  page.on('console', (m) => {
    // A documented 4xx page logs its own status once; anything else is a problem.
    const own = m.location()?.url === want && /^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text());
    if (m.type() === 'error' && !own) problems.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && r.url() !== want) problems.push(`HTTP ${r.status()} ${r.url()}`);
  });
  page.on('request', (r) => { if (!r.url().startsWith(base + '/')) problems.push(`foreign request: ${r.url()}`); });
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations.push(f.url()); });
  const resp = await page.goto(want, { waitUntil: 'load' });
  if (await page.locator('[data-hydrated]').count()) {
    await page.waitForSelector('[data-hydrated="true"]', { timeout: 15000 });
  }
  await sleep(SETTLE_MS);
  const seen = await page.evaluate((counted) => ({
    counts: Object.fromEntries(counted.map((sel) => [sel, document.querySelectorAll(sel).length])),
    text: document.body.innerText,
    title: document.title,
    xss: typeof window.__xss === 'undefined' ? null : String(window.__xss),
    csp: window.__csp || ['(init script did not run)'],
  }), COUNTED);
  return { page, resp, problems, navigations, want, url: page.url(), ...seen };
}

function check(got, spec, twin) {
  const errs = [];
  if (got.resp.status() !== spec.status) errs.push(`status ${got.resp.status()}, expected ${spec.status}`);
  if (got.url !== got.want) errs.push(`navigated away: now at ${got.url}`);
  if (got.navigations.length !== 1) errs.push(`main frame navigated ${got.navigations.length} times: ${got.navigations.join(' → ')}`);
  errs.push(...got.problems);
  if (got.xss !== null) errs.push(`window.__xss = ${got.xss}`);
  for (const v of got.csp) errs.push(`CSP violation: ${v}`);
  if (twin) {
    for (const sel of COUNTED) {
      if (got.counts[sel] !== twin.counts[sel]) {
        errs.push(`${sel}: ${got.counts[sel]} elements, the clean page has ${twin.counts[sel]}`);
      }
    }
  }
  const text = collapse(got.text);
  for (const t of spec.texts) {
    if (!text.includes(collapse(t))) errs.push(`text not shown as text: ${short(t)}`);
  }
  if (collapse(got.title) !== collapse(spec.title)) errs.push(`title ${short(got.title)}, expected ${short(spec.title)}`);
  return errs;
}

// ---- tests --------------------------------------------------------------------------------

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

const cleanPages = new Map(SIDES.clean.seed.pages.map((p) => [p.key, p]));
for (const spec of SIDES.hostile.seed.pages) {
  test(`${spec.key} ${spec.path.slice(0, 70)}`, async ({ ctx }) => {
    const cleanSpec = cleanPages.get(spec.key);
    assert(cleanSpec, `the clean corpus has no page ${spec.key}`);
    const twin = await load(ctx.clean, 'clean', cleanSpec.path);
    const twinErrs = check(twin, cleanSpec, null);
    await twin.page.close();
    assert(twinErrs.length === 0, `the CLEAN page is already broken:\n  ${twinErrs.join('\n  ')}`);
    const got = await load(ctx.hostile, 'hostile', spec.path);
    const errs = check(got, spec, twin);
    if (errs.length) await got.page.screenshot({ path: `${SHOTS}/${spec.key}.png`, fullPage: false }).catch(() => {});
    await got.page.close();
    assert(errs.length === 0, errs.join('\n'));
  });
}

// Texts no corpus contains, so the page can only show them through the flash.
const FORGED = ['forged-flash-1: session expired, log in at https://forged.example/',
  'forged-flash-2 <b>all jobs deleted</b>', 'forged-flash-3 form error'];
const crafted = [
  `/?err=${encodeURIComponent(FORGED[0])}`,
  `/failed?ok=${encodeURIComponent(FORGED[1])}&flash=${Math.floor(Date.now() / 1000)}.${'0'.repeat(64)}`,
  `/audit?__err=${Buffer.from('ServerError|' + FORGED[2]).toString('base64url')}`,
];
test('a crafted ?err= / ?ok= / ?__err= link shows no flash', async ({ ctx }) => {
  const errs = [];
  for (const path of crafted) {
    const got = await load(ctx.hostile, 'hostile', path);
    const flashes = await got.page.locator('[data-testid^="flash"]').count();
    if (flashes) errs.push(`${path}: ${flashes} flash message(s) shown`);
    for (const bad of ['forged-flash', 'forged.example']) {
      if (got.text.includes(bad)) errs.push(`${path}: the page shows ${short(bad)}`);
    }
    errs.push(...check(got, { status: 200, texts: [], title: got.title }, null).map((e) => `${path}: ${e}`));
    await got.page.close();
  }
  assert(errs.length === 0, errs.join('\n'));
});

test('a real action still leaves its (signed) flash, for its user only', async ({ ctx }) => {
  const { path, job } = SIDES.hostile.seed.flash;
  const page = await ctx.hostile.newPage();
  await page.goto(SIDES.hostile.base + path, { waitUntil: 'load' });
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(`[data-testid="requeue-${job}"]`)]);
  const flash = page.locator('[data-testid="flash-ok"]');
  assert(await flash.count() === 1, `no flash after the requeue (at ${page.url()})`);
  const text = (await flash.textContent()).trim();
  assert(/Requeued 1 job/.test(text), `flash text ${short(text)}`);
  const signed = page.url();
  assert(new URL(signed).searchParams.get('flash'), `no signature in ${signed}`);
  await page.reload({ waitUntil: 'load' });
  assert(await flash.count() === 1, 'the flash is gone after a reload');
  const forged = signed.replace(/ok=[^&]*/, `ok=${encodeURIComponent('Deleted everything')}`);
  await page.goto(forged, { waitUntil: 'load' });
  assert(await page.locator('[data-testid^="flash"]').count() === 0, `forged text shown: ${forged}`);
  await page.close();
  // The same signed link opened by another user of the same console shows nothing.
  const other = await ctx.other.newPage();
  await other.goto(signed, { waitUntil: 'load' });
  assert(await other.locator('[data-testid^="flash"]').count() === 0, `another user sees the flash of ${signed}`);
  await other.close();
});

// Failure groups (/failed/groups and one page per group): group rows differ in number between
// the corpora, so the twin comparison is over the elements an injection adds (never rows).
const INJECTED = COUNTED.filter((sel) => !['*:not(svg *)', 'form', 'style', '[style]', 'link'].includes(sel));
// The leading run of printable ASCII of a text (what the page must show verbatim), up to 40.
const plainHead = (t) => (t.match(/^[\x20-\x7e]*/)[0]).slice(0, 40).trim();
// What the browser shows for a page title: app::format::title_text (control and bidi characters
// as U+FFFD, cut at 120 characters) plus the suffix.
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/u;
function titleOf(text) {
  const out = [];
  for (const c of [...text]) {
    if (out.length === 120) { out.push('…'); break; }
    out.push(/\p{Cc}/u.test(c) || BIDI.test(c) ? '\ufffd' : c);
  }
  return out.join('') + ' · Taskmill';
}
async function groupsOf(side) {
  const auth = 'Basic ' + Buffer.from(SIDES[side].auth, 'utf8').toString('base64');
  for (let i = 0; i < 50; i += 1) { // the index catches up in the background within seconds
    const res = await fetch(SIDES[side].base + '/api/v1/failed/groups', { headers: { Authorization: auth } });
    assert(res.status === 200, `${side}: /api/v1/failed/groups answered ${res.status}`);
    const body = await res.json();
    if (body.as_of !== null && body.items.length) return body.items;
    await sleep(200);
  }
  throw new Error(`${side}: no failure groups indexed`);
}
test('failure groups: the list and every group page stay inert', async ({ ctx }) => {
  const [hostile, clean] = [await groupsOf('hostile'), await groupsOf('clean')];
  const twinOf = async (path) => {
    const twin = await load(ctx.clean, 'clean', path);
    const errs = check(twin, { status: 200, texts: [], title: twin.title }, null);
    await twin.page.close();
    assert(errs.length === 0, `the CLEAN page ${path} is already broken:\n  ${errs.join('\n  ')}`);
    return twin;
  };
  const listTwin = await twinOf('/failed/groups');
  const groupTwin = await twinOf('/failed/groups/' + clean[0].fingerprint);
  const errs = [];
  const visit = async (path, twin, texts, title) => {
    const got = await load(ctx.hostile, 'hostile', path);
    const e = check(got, { status: 200, texts, title }, null);
    for (const sel of INJECTED) {
      if (got.counts[sel] !== twin.counts[sel]) e.push(`${sel}: ${got.counts[sel]} elements, the clean page has ${twin.counts[sel]}`);
    }
    if (e.length) await got.page.screenshot({ path: `${SHOTS}/groups-${errs.length}.png` }).catch(() => {});
    await got.page.close();
    errs.push(...e.map((x) => `${path}: ${x}`));
  };
  await visit('/failed/groups', listTwin, hostile.map((g) => plainHead(g.example)).filter(Boolean),
    'Failure groups · Taskmill');
  for (const g of hostile) {
    const head = plainHead(g.example);
    await visit('/failed/groups/' + g.fingerprint, groupTwin, head ? [head] : [],
      titleOf(`Failure group: ${g.exc_type || g.example}`));
  }
  assert(errs.length === 0, errs.join('\n'));
});

// ---- runner -------------------------------------------------------------------------------

// Playwright gives every launch a fresh temporary profile (its own --user-data-dir).
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--no-first-run', '--disable-sync', '--disable-quic'],
});
const ctx = {
  hostile: await newContext(browser, SIDES.hostile.auth),
  clean: await newContext(browser, SIDES.clean.auth),
  other: await newContext(browser, need('OTHER_AUTH')),
};
let passed = 0;
let failed = 0;
const started = Date.now();
for (const t of tests) {
  if (ONLY.length && !ONLY.some((o) => t.name.includes(o))) continue;
  const start = Date.now();
  try {
    await t.fn({ browser, ctx });
    passed += 1;
    console.log(`ok - ${t.name} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${t.name} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
    for (const line of String(e.message || e).split('\n')) console.log(`    ${line}`);
  }
}
await browser.close();
console.log(`browser: ${((Date.now() - started) / 1000).toFixed(1)} s, ${COUNTED.length} element kinds compared per page`);
console.log(`(browser) ${passed} passed, ${failed} failed`);
process.exit(failed || !passed ? 1 : 0);
