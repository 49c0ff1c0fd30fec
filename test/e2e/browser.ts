import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Chromium for the e2e tests and bench/web.ts: the system's browser (playwright-core never
 * downloads one), headless, with background traffic off so timings are about the page.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const ROOT = path.resolve(__dirname, '../..');
export const SCREENSHOT_DIR = path.join(ROOT, 'test-results', 'screenshots');
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 900 };

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH.`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/**
 * The browser of one e2e file and the pages it opens, each in a context of its own (so sessions
 * never mix), all closed after the file. Every uncaught exception in a page is kept until
 * `takeErrors()` — called in afterEach, so the test that caused it fails.
 */
export class PageSet {
  private readonly contexts: BrowserContext[] = [];
  private readonly errors: string[] = [];

  private constructor(readonly browser: Browser) {}

  static async launch(): Promise<PageSet> {
    return new PageSet(await launchChromium());
  }

  /** A page in a new context at `baseURL`; `prepare` runs on the context first (permissions). */
  async open(baseURL: string, viewport = DESKTOP, prepare?: (context: BrowserContext) => Promise<void>): Promise<Page> {
    const context = await this.browser.newContext({ viewport, baseURL });
    this.contexts.push(context);
    await prepare?.(context);
    const page = await context.newPage();
    this.watch(page);
    return page;
  }

  /** Keeps the uncaught exceptions of a page opened some other way (a second tab). */
  watch(page: Page): void {
    page.on('pageerror', (error) => this.errors.push(error.message));
  }

  takeErrors(): string[] {
    return this.errors.splice(0);
  }

  async close(): Promise<void> {
    for (const context of this.contexts) await context.close().catch(() => undefined);
    await this.browser.close();
  }
}

/** The e2e tests drive the production build: fail early, with the fix, when it is missing. */
export function assertUiBuilt(): void {
  for (const dir of ['web/dist', 'admin/dist']) {
    if (!existsSync(path.join(ROOT, dir, 'index.html'))) {
      throw new Error(`${dir} is missing: run \`npm run build:ui\` before the e2e tests (npm test does).`);
    }
  }
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

let axeSource: string | null = null;

/**
 * axe-core's violations on the page as it is now. The script goes in through the DevTools
 * protocol (page.evaluate), which the app's Content-Security-Policy does not block.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(axeSource);
  return (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) =>
    r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) })))`)) as AxeViolation[];
}

/** Only what the brief forbids: serious and critical violations. */
export const seriousOnly = (violations: AxeViolation[]) => violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
