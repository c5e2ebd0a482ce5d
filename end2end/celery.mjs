// Browser tests of the console's Celery pages against a real Celery worker (celery from .venv,
// the demo's tasks module). Run through scripts/e2e.sh, which starts redis-server, `taskmill
// serve --celery-broker`, the Celery worker, seeds tasks and passes everything in the environment:
//   BASE_URL, E2E_SEED (JSON: celeryWorker, celeryOk, celeryFailed, celeryParked, celeryBroker,
//   celeryModuleDir), TASKMILL_PYTHON, E2E_SCREENSHOTS
// Prints `ok - <test>` / `not ok - <test>` per test and `N passed, N failed`; exits 1 on failure.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const BASE = need('BASE_URL');
const PYTHON = need('TASKMILL_PYTHON');
const SEED = JSON.parse(readFileSync(need('E2E_SEED'), 'utf8'));
const SHOTS = process.env.E2E_SCREENSHOTS || 'target/e2e-screenshots';
const ONLY = process.argv.slice(2);
mkdirSync(SHOTS, { recursive: true });

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run scripts/e2e.sh)`);
  return v;
}

// ---- helpers ------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const enc = encodeURIComponent;

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function waitFor(fn, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(250);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

// Publishes one task through real Celery (the demo module's `send`); returns its id.
function send(name, args) {
  return execFileSync(PYTHON, ['taskmill_demo_celery.py', 'send', name, JSON.stringify(args)], {
    cwd: SEED.celeryModuleDir,
    env: { ...process.env, TASKMILL_DEMO_CELERY_BROKER: SEED.celeryBroker },
    encoding: 'utf8',
  }).trim();
}

async function api(path) {
  const r = await fetch(BASE + '/api/v1/celery' + path);
  return r.ok ? r.json() : null;
}

const taskState = async (id) => (await api(`/tasks/${enc(id)}`))?.state;

// The pool's process count as `celery inspect stats` reports it.
async function poolProcesses() {
  const r = await api(`/workers/${enc(SEED.celeryWorker)}/inspect?method=stats`);
  return r?.replies?.[SEED.celeryWorker]?.pool?.processes?.length;
}

// Same rules as end2end/e2e.mjs: console errors, exceptions, responses >= 400, failed requests.
function watch(page) {
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console.error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`); });
  page.on('requestfailed', (r) => {
    if (r.url().endsWith('/api/v1/events') && r.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  return problems;
}

async function settle(page) {
  if ((await page.locator('[data-hydrated]').count()) > 0) {
    await page.waitForSelector('[data-hydrated="true"]', { timeout: 15000 });
  }
  await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
}

async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

const text = async (page, testid) =>
  (await page.locator(`[data-testid="${testid}"]`).first().textContent({ timeout: 5000 }))?.trim();

// Clicks a submit button and waits for the POST → 302 → page round trip.
async function submit(page, selector) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(selector)]);
}

// A long task, started by the worker (so revoke must terminate it, not just flag it).
async function runningTask() {
  const id = send('demo.sleep', [300]);
  await waitFor(async () => (await taskState(id)) === 'STARTED', 30000, `task ${id} to start`);
  return id;
}

// ---- tests --------------------------------------------------------------------------------

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

const PAGES = [
  ['celery-queues', '/celery'],
  ['celery-queue', `/celery/queues/${enc(SEED.celeryParkedQueue)}`],
  ['celery-workers', '/celery/workers'],
  ['celery-worker', `/celery/workers/${enc(SEED.celeryWorker)}`],
  ['celery-tasks', '/celery/tasks'],
  ['celery-task-ok', `/celery/tasks/${SEED.celeryOk}`],
  ['celery-task-failed', `/celery/tasks/${SEED.celeryFailed}`],
];
for (const [name, path] of PAGES) {
  test(`page ${path} loads with no console errors and no failed requests`, async ({ browser }) => {
    const page = await browser.newPage();
    const problems = watch(page);
    const resp = await page.goto(BASE + path, { waitUntil: 'load' });
    assert(resp.status() === 200, `status ${resp.status()}`);
    await settle(page);
    await shot(page, `page-${name}`);
    assert(problems.length === 0, problems.join('\n'));
    await page.close();
  });
}

test('the Celery pages show the seeded worker, tasks and the queue nobody consumes', async ({ browser }) => {
  const page = await browser.newPage();
  await page.goto(`${BASE}/celery/workers`, { waitUntil: 'load' });
  const row = await page.locator('[data-testid="celery-workers"]').textContent();
  assert(row.includes(SEED.celeryWorker) && row.includes('online'), `workers table: ${row}`);
  await page.goto(`${BASE}/celery/tasks/${SEED.celeryOk}`, { waitUntil: 'load' });
  assert((await text(page, 'celery-task-state')) === 'SUCCESS', 'succeeded task state');
  assert((await text(page, 'celery-task-name')) === 'demo.add', 'succeeded task name');
  await page.goto(`${BASE}/celery/tasks/${SEED.celeryFailed}`, { waitUntil: 'load' });
  assert((await text(page, 'celery-task-state')) === 'FAILURE', 'failed task state');
  assert((await page.locator('[data-testid="celery-retry"]').count()) === 1, 'a failed task offers Retry');
  await page.goto(`${BASE}/celery`, { waitUntil: 'load' });
  const body = await page.evaluate(() => document.body.innerText);
  assert(body.includes(SEED.celeryParkedQueue), `/celery lists the queue nobody consumes: ${body.slice(0, 400)}`);
  await page.close();
});

test('revoke with terminate works from the button with JavaScript', async ({ browser }) => {
  const id = await runningTask();
  const page = await browser.newPage();
  const problems = watch(page);
  await page.goto(`${BASE}/celery/tasks/${id}`, { waitUntil: 'load' });
  await settle(page);
  assert((await text(page, 'celery-task-state')) === 'STARTED', 'task page shows STARTED before revoke');
  await page.check('[data-testid="celery-terminate"]');
  await submit(page, '[data-testid="celery-revoke"]');
  const flash = await text(page, 'flash-ok');
  assert(flash.includes(`Revoke of ${id}`) && flash.includes(SEED.celeryWorker), `flash: ${flash}`);
  await settle(page);
  await waitFor(async () => {
    await page.goto(`${BASE}/celery/tasks/${id}`, { waitUntil: 'load' });
    await settle(page);
    return (await text(page, 'celery-task-state')) === 'REVOKED';
  }, 30000, `task ${id} to show REVOKED`);
  await shot(page, 'celery-revoke-js');
  assert(problems.length === 0, problems.join('\n'));
  await page.close();
});

test('revoke with terminate works with JavaScript disabled', async ({ browser }) => {
  const id = await runningTask();
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const problems = watch(page);
  await page.goto(`${BASE}/celery/tasks/${id}`, { waitUntil: 'load' });
  assert((await text(page, 'celery-task-state')) === 'STARTED', 'task page shows STARTED before revoke');
  await page.check('[data-testid="celery-terminate"]');
  await page.selectOption('select[name="signal"]', 'SIGKILL');
  await submit(page, '[data-testid="celery-revoke"]');
  const flash = await text(page, 'flash-ok');
  assert(flash.includes(`Revoke of ${id}`) && flash.includes(SEED.celeryWorker), `flash: ${flash}`);
  await waitFor(async () => {
    await page.goto(`${BASE}/celery/tasks/${id}`, { waitUntil: 'load' });
    return (await text(page, 'celery-task-state')) === 'REVOKED';
  }, 30000, `task ${id} to show REVOKED`);
  await shot(page, 'celery-revoke-nojs');
  assert(problems.length === 0, problems.join('\n'));
  await context.close();
});

test('pool grow from the worker page shows the worker reply and adds a process', async ({ browser }) => {
  // After the revokes above the pool replaces the terminated processes: wait until it is back
  // to the worker's --concurrency (scripts/e2e.sh: 2).
  const before = 2;
  await waitFor(async () => (await poolProcesses()) === before, 15000, `${before} pool processes`);
  const page = await browser.newPage();
  const problems = watch(page);
  await page.goto(`${BASE}/celery/workers/${enc(SEED.celeryWorker)}`, { waitUntil: 'load' });
  await settle(page);
  await submit(page, '[data-testid="celery-pool-grow"]');
  const flash = await text(page, 'flash-ok');
  assert(flash.includes(`Pool grow of ${SEED.celeryWorker}`) && flash.includes('pool will grow'), `flash: ${flash}`);
  await waitFor(async () => (await poolProcesses()) === before + 1, 15000, `${before + 1} pool processes`);
  await settle(page);
  await shot(page, 'celery-pool-grow');
  // A refusal comes back as an error flash with the worker's own words.
  await page.fill('[data-testid="celery-rate-limit-task"]', 'no.such.task');
  await page.fill('[data-testid="celery-rate-limit-rate"]', '10/m');
  await submit(page, '[data-testid="celery-rate-limit"]');
  const err = await text(page, 'flash-err');
  assert(err.includes('error: unknown task'), `rate limit of an unknown task: ${err}`);
  // Refusals are redirects too (302 with a signed error flash): no response >= 400 either.
  assert(problems.length === 0, problems.join('\n'));
  await page.close();
});

// ---- runner -------------------------------------------------------------------------------

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--no-first-run', '--disable-sync', '--disable-quic'],
});
let passed = 0;
let failed = 0;
for (const t of tests) {
  if (ONLY.length && !ONLY.some((o) => t.name.includes(o))) continue;
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
console.log(`celery e2e: ${passed} passed, ${failed} failed`);
process.exit(failed || (!passed && !process.env.E2E_ALLOW_EMPTY) ? 1 : 0);
