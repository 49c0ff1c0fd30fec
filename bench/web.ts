/**
 * Web app figures, `npx tsx bench/web.ts` (or `runWebBench()` from another bench):
 *
 *   1. production bundle size: web/dist/assets/*.js (and .css), raw and gzip (zlib level 9)
 *   2. time to interactive of the search page in Chromium, cold cache, signed in: navigation
 *      start → the search box enabled and the first results rendered (10 runs)
 *   3. SMS to visible: the simulator delivers an SMS (provider webhook, as in production) → the
 *      code is in the page, pushed over SSE (20 runs; the page's own clock, same machine)
 *
 * It starts its own back end (bench/system.ts: fresh database, Temporal dev server, simulator,
 * API + worker) and serves the built app from a second API on the same container. Progress goes
 * to stderr, figures to stdout and .tmp/bench-web.json. Not a test: nothing here asserts.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Browser } from 'playwright-core';
import { startApi, type RunningApi } from '../src/runtime';
import { launchChromium } from '../test/e2e/browser';
import { summarize, table, type Summary } from './stats';
import { COUNTRY_ISO, PROVIDER_TENANT, SERVICE, createCustomers, startInfra, startSimulator, startStack, type Infra, type BenchSimulator, type Stack } from './system';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'web', 'dist');
const RESULTS_FILE = path.join(ROOT, '.tmp', 'bench-web.json');

export interface BundleFile {
  file: string;
  bytes: number;
  gzipBytes: number;
}

export interface WebBenchResult {
  bundle: { js: BundleFile[]; css: BundleFile[]; jsBytes: number; jsGzipBytes: number; cssGzipBytes: number };
  /** ms from navigation start; cold cache, signed in. */
  searchInteractiveMs: Summary;
  /** ms from the simulator's SMS delivery to the code in the page. */
  smsToVisibleMs: Summary;
}

const started = performance.now();
const progress = (message: string) => process.stderr.write(`[bench:web +${((performance.now() - started) / 1000).toFixed(1)}s] ${message}\n`);

/** Builds web/ when there is no build yet (`npm run build:ui` builds both apps). */
function ensureBuilt(): void {
  if (existsSync(path.join(DIST, 'index.html'))) return;
  progress('web/dist missing: building it');
  execFileSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

export function measureBundle(): WebBenchResult['bundle'] {
  const assets = path.join(DIST, 'assets');
  const files = readdirSync(assets).map((file) => {
    const content = readFileSync(path.join(assets, file));
    return { file, bytes: content.length, gzipBytes: gzipSync(content, { level: 9 }).length };
  });
  const js = files.filter((f) => f.file.endsWith('.js'));
  const css = files.filter((f) => f.file.endsWith('.css'));
  const sum = (list: BundleFile[], key: 'bytes' | 'gzipBytes') => list.reduce((total, f) => total + f[key], 0);
  return { js, css, jsBytes: sum(js, 'bytes'), jsGzipBytes: sum(js, 'gzipBytes'), cssGzipBytes: sum(css, 'gzipBytes') };
}

/** Cold loads of the search page: a fresh browser context (empty cache) each run. */
async function searchInteractive(browser: Browser, ui: RunningApi, token: string, runs: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript(`localStorage.setItem('simgate.token', ${JSON.stringify(token)})`);
    const page = await context.newPage();
    await page.goto(`${ui.url}/#/buy`, { waitUntil: 'commit' });
    // A function, not a string: the app's CSP forbids eval. `globalThis` keeps DOM types out of the root project.
    const handle = await page.waitForFunction(
      () => {
        const page = globalThis as any; // eslint-disable-line @typescript-eslint/no-explicit-any
        const input = page.document.querySelector('[data-testid="service-search"]');
        const ready = input && !input.disabled && page.document.querySelector('[data-testid="service-result"]');
        return ready ? (page.performance.now() as number) : false;
      },
      undefined,
      { polling: 'raf', timeout: 30_000 },
    );
    samples.push((await handle.jsonValue()) as number);
    await context.close();
  }
  return samples;
}

/** Buys, opens the number's page with the stream open, delivers an SMS, times until the code shows. */
async function smsToVisible(browser: Browser, stack: Stack, sim: BenchSimulator, ui: RunningApi, token: string, runs: number): Promise<number[]> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(`localStorage.setItem('simgate.token', ${JSON.stringify(token)})`);
  const page = await context.newPage();
  await page.goto(`${ui.url}/#/buy`);
  await page.getByTestId('service-search').waitFor();
  const samples: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const bought = await stack.request('POST', '/api/numbers', {
      token,
      headers: { 'Idempotency-Key': `bench-web-${randomUUID()}` },
      body: { service: SERVICE, country: COUNTRY_ISO },
    });
    if (bought.status !== 201) throw new Error(`purchase failed: ${bought.status} ${JSON.stringify(bought.body)}`);
    const activation = bought.body.activation as { id: string; providerId: string; phone: string };
    await page.goto(`${ui.url}/#/numbers/${encodeURIComponent(activation.id)}`);
    await page.getByTestId('phone-number').waitFor();
    await page.locator('[data-testid="live-indicator"][data-live="open"]').waitFor();

    const tenant = PROVIDER_TENANT[activation.providerId];
    const { activations } = await sim.control<{ activations: { id: number; phone: string }[] }>('GET', `/${tenant}/activations`);
    const upstream = activations.find((a) => `+${a.phone}` === activation.phone);
    if (!upstream) throw new Error(`no simulator activation with phone ${activation.phone}`);
    const code = String(100000 + i);
    const sentAt = Date.now();
    await sim.control('POST', `/${tenant}/activations/${upstream.id}/sms`, { code });
    const handle = await page.waitForFunction(
      (expected) => {
        const shown = (globalThis as any).document.querySelector('[data-testid="sms-code"]'); // eslint-disable-line @typescript-eslint/no-explicit-any
        return shown && shown.textContent === expected ? Date.now() : false;
      },
      code,
      { polling: 'raf', timeout: 30_000 },
    );
    samples.push(((await handle.jsonValue()) as number) - sentAt);
    await stack.request('POST', `/api/numbers/${activation.id}/finish`, { token });
  }
  await context.close();
  return samples;
}

export async function runWebBench(options: { ttiRuns?: number; smsRuns?: number } = {}): Promise<WebBenchResult> {
  ensureBuilt();
  const bundle = measureBundle();
  progress(`bundle: ${bundle.js.length} JS file(s), ${bundle.jsGzipBytes} bytes gzip`);

  const stops: (() => Promise<unknown>)[] = [];
  try {
    progress('starting database, Temporal dev server, simulator, API, worker and Chromium');
    const [infra, sim, browser] = await Promise.all([startInfra(), startSimulator(), launchChromium()]);
    stops.push(() => (infra as Infra).stop(), () => sim.close(), () => browser.close());
    const webhookSecret = `bench-web-${randomUUID()}`;
    const stack = await startStack({ label: 'web', infra, simulatorUrl: sim.url, webhookSecret, adminEmail: `bench-admin-${randomUUID()}@simgate.test` });
    stops.push(() => stack.stop());
    // The same container behind a second API that also serves web/dist (startStack's API does not).
    const ui = await startApi(stack.container, { port: 0, host: '127.0.0.1', serveUi: true });
    stops.push(() => ui.close());
    await sim.setWebhook((providerId) => `${ui.url}/webhooks/providers/${providerId}?secret=${encodeURIComponent(webhookSecret)}`);
    const [customer] = await createCustomers(stack, 1, 1_000_000_000n);

    progress(`search page time to interactive: ${options.ttiRuns ?? 10} cold loads`);
    const tti = await searchInteractive(browser, ui, customer.token, options.ttiRuns ?? 10);
    progress(`SMS to visible: ${options.smsRuns ?? 20} purchases`);
    const sms = await smsToVisible(browser, stack, sim, ui, customer.token, options.smsRuns ?? 20);
    return { bundle, searchInteractiveMs: summarize(tti), smsToVisibleMs: summarize(sms) };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

export function printWebBench(result: WebBenchResult): void {
  const kb = (bytes: number) => Math.round(bytes / 102.4) / 10;
  console.log('\nWeb app bundle (web/dist/assets)');
  console.log(table(['file', 'raw kB', 'gzip kB'], [...result.bundle.js, ...result.bundle.css].map((f) => [f.file, kb(f.bytes), kb(f.gzipBytes)])));
  console.log(`JS total: ${kb(result.bundle.jsBytes)} kB raw, ${kb(result.bundle.jsGzipBytes)} kB gzip; CSS gzip ${kb(result.bundle.cssGzipBytes)} kB`);
  console.log('\nChromium timings (ms)');
  const row = (label: string, s: Summary) => [label, s.n, s.p50, s.p95, s.min, s.max];
  console.log(
    table(
      ['measure', 'n', 'p50', 'p95', 'min', 'max'],
      [row('search page: navigation → interactive with results', result.searchInteractiveMs), row('SMS delivered → code visible (webhook + SSE)', result.smsToVisibleMs)],
    ),
  );
}

if (require.main === module) {
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  runWebBench()
    .then((result) => {
      printWebBench(result);
      mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
      writeFileSync(RESULTS_FILE, JSON.stringify(result, null, 2));
      process.stderr.write(`[bench:web] results written to ${path.relative(ROOT, RESULTS_FILE)}\n`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    })
    .finally(() => process.exit(process.exitCode ?? 0));
}
