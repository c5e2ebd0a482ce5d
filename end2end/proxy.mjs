// The console behind a real nginx, under a URL prefix, with nginx's default Host rewrite
// (`proxy_set_header Host $proxy_host`): run by scripts/deploy-tests.sh (test_behind_proxy),
// which starts redis-server, `taskmill serve --url-prefix /taskmill` and nginx, seeds the jobs
// and passes:
//   PROXY_URL   http://127.0.0.1:<nginx port>/taskmill (no trailing slash)
//   CONSOLE_URL http://127.0.0.1:<console port> (the console itself, for the outside-the-prefix 404s)
//   TASKMILL_BIN, REDIS_URL, PX_HOLD (a queue no worker serves), PX_FAILED (a failed job id),
//   PX_QUEUE (its queue), E2E_SCREENSHOTS
// Prints `ok - <test>` / `not ok - <test>` and `proxy: N passed, N failed`; exits 1 on failure.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run scripts/deploy-tests.sh proxy)`);
  return v;
};
const BASE = need('PROXY_URL');
const ORIGIN = new URL(BASE).origin;
const CONSOLE = need('CONSOLE_URL');
const PREFIX = new URL(BASE).pathname;
const TM = need('TASKMILL_BIN');
const REDIS = need('REDIS_URL');
const HOLD = need('PX_HOLD');
const FAILED = need('PX_FAILED');
const FAILED_QUEUE = need('PX_QUEUE');
const SHOTS = process.env.E2E_SCREENSHOTS || 'target/e2e-screenshots';
mkdirSync(SHOTS, { recursive: true });

const tm = (...args) => execFileSync(TM, [...args, '--redis', REDIS], { encoding: 'utf8' }).trim();
const jobStatus = (id) => {
  const d = JSON.parse(tm('job', id, '--json'));
  return (d.summary || d).status;
};
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// Broken-page signals, plus any request that leaves the prefix (a link, asset, fetch or
// server-function call that forgot the base would go to nginx's `/`, which is not the console).
function watch(page) {
  const problems = [];
  const urls = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console.error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    const u = r.url();
    urls.push(u);
    if (!u.startsWith('data:') && !u.startsWith(BASE + '/')) problems.push(`request outside the prefix: ${u}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`); });
  page.on('requestfailed', (r) => {
    // Leaving a page aborts what it still loads (its live feed, a large wasm): not a failure;
    // a wrong URL shows up as a response >= 400 above.
    if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  return { problems, urls };
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('overview through nginx: styles, islands and the live feed load under the prefix', async ({ browser }) => {
  const page = await browser.newPage();
  const { problems, urls } = watch(page);
  const events = page.waitForResponse((r) => r.url() === `${BASE}/api/v1/events`, { timeout: 15000 });
  await page.goto(`${BASE}/`, { waitUntil: 'load' });
  await page.waitForSelector('[data-testid="live-overview"][data-hydrated="true"]', { timeout: 15000 });
  const ev = await events;
  assert(ev.status() === 200, `events: ${ev.status()}`);
  const styled = await page.evaluate((base) => [...document.styleSheets]
    .some((s) => s.href && s.href.startsWith(base + '/pkg/') && s.cssRules.length > 10), BASE);
  assert(styled, 'the stylesheet under the prefix is applied');
  assert(urls.some((u) => u.startsWith(`${BASE}/pkg/`) && u.endsWith('.wasm')), `no wasm under the prefix: ${urls}`);
  // The live counter follows a job enqueued with the CLI (feed → island, all through nginx).
  const counter = page.locator('[data-testid="total-queued"] .total-n');
  const before = Number((await counter.textContent()).replace(/,/g, ''));
  tm('enqueue', '--queue', HOLD, 'taskmill.echo', '--args', '["through-nginx"]');
  await page.waitForFunction((want) => {
    const el = document.querySelector('[data-testid="total-queued"] .total-n');
    return el && Number(el.textContent.replace(/,/g, '')) === want;
  }, before + 1, { timeout: 15000 });
  await page.screenshot({ path: `${SHOTS}/proxy-overview.png`, fullPage: true });
  assert(problems.length === 0, problems.join('\n'));
  await page.close();
});

test('links navigate under the prefix; Requeue and Cancel change Redis', async ({ browser }) => {
  const page = await browser.newPage();
  const { problems } = watch(page);
  await page.goto(`${BASE}/`, { waitUntil: 'load' });
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('header nav a:text-is("Failed")')]);
  assert(page.url().startsWith(`${BASE}/failed`), `Failed link went to ${page.url()}`);
  assert(jobStatus(FAILED) === 'failed', 'seeded job is failed');
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(`[data-testid="requeue-${FAILED}"]`)]);
  assert(page.url().startsWith(`${BASE}/failed?`), `redirected to ${page.url()}`);
  await page.waitForSelector('[data-testid="flash-ok"]', { timeout: 5000 });
  assert(jobStatus(FAILED) === 'queued', `requeued job is ${jobStatus(FAILED)}`);

  // The queue page's live rows: a new job appears (feed + the /ui/rows server function).
  await page.goto(`${BASE}/queues/${HOLD}?size=100`, { waitUntil: 'load' });
  await page.waitForSelector('[data-testid="live-rows"][data-hydrated="true"]', { timeout: 15000 });
  const id = tm('enqueue', '--queue', HOLD, 'taskmill.echo', '--args', '["cancel-through-nginx"]');
  await page.locator(`[data-testid="job-row-${id}"]`).waitFor({ timeout: 15000 });
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(`[data-testid="cancel-${id}"]`)]);
  assert(page.url().startsWith(`${BASE}/queues/`), `redirected to ${page.url()}`);
  assert(jobStatus(id) === 'canceled', `canceled job is ${jobStatus(id)}`);
  // A job link from the queue page.
  await page.goto(`${BASE}/queues/${FAILED_QUEUE}`, { waitUntil: 'load' });
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(`a[href="${PREFIX}/jobs/${FAILED}"]`)]);
  assert(page.url() === `${BASE}/jobs/${FAILED}`, `job link went to ${page.url()}`);
  await page.screenshot({ path: `${SHOTS}/proxy-job.png`, fullPage: true });
  assert(problems.length === 0, problems.join('\n'));
  await page.close();
});

test('the API and /metrics answer under the prefix, assets only there', async ({ browser }) => {
  const ctx = await browser.newContext();
  const api = await ctx.request.get(`${BASE}/api/v1/queues`);
  assert(api.status() === 200, `api ${api.status()}`);
  assert((await api.json()).some((q) => q.name === HOLD), 'the API lists the queue');
  const metrics = await ctx.request.get(`${BASE}/metrics`);
  assert(metrics.status() === 200 && (await metrics.text()).includes(`queue="${HOLD}"`), 'metrics');
  const page = await ctx.newPage();
  await page.goto(`${BASE}/`, { waitUntil: 'load' });
  const css = await page.getAttribute('link[rel="stylesheet"]', 'href');
  assert(css.startsWith(`${PREFIX}/pkg/`), `stylesheet ${css}`);
  assert((await ctx.request.get(ORIGIN + css)).status() === 200, 'asset under the prefix');
  // The console itself answers only under its prefix.
  const bare = await ctx.request.get(CONSOLE + css.slice(PREFIX.length));
  assert(bare.status() === 404, `asset without the prefix: ${bare.status()}`);
  assert((await bare.json()).code === 'not_found', 'the JSON 404');
  assert((await ctx.request.get(CONSOLE + PREFIX + css.slice(PREFIX.length))).status() === 200, 'direct, prefixed');
  await ctx.close();
});

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--no-first-run', '--disable-sync', '--disable-quic'],
});
let passed = 0;
let failed = 0;
for (const t of tests) {
  const start = Date.now();
  try {
    await t.fn({ browser });
    passed += 1;
    console.log(`ok - ${t.name} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${t.name} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
    for (const line of String(e.stack || e).split('\n')) console.log(`    ${line}`);
  }
}
await browser.close();
console.log(`proxy: ${passed} passed, ${failed} failed`);
process.exit(failed || !passed ? 1 : 0);
