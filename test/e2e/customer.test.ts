import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { formatPhone } from '../../ui/format';
import { startSystem, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';
import { assertUiBuilt, axeViolations, DESKTOP, PageSet, PHONE, screenshot, seriousOnly } from './browser';

/**
 * The customer fixes of issue 14 in real Chromium against the whole back end: a landing page
 * that says what SimGate is, forgot-password and e-mail confirmation by the mailed links, the
 * Cancel button that unlocks on the same page when the provider's delay ends, names from the
 * API on a fresh browser, grouped phone numbers, Popular services, relevant search results,
 * success rates with their sample, and a low balance told at the Buy button with a top-up link.
 */
jest.setTimeout(90_000);

const PASSWORD = 'customer-password';
const CANCEL_DELAY_S = 5;

let system: TestSystem;
let pages: PageSet;

beforeAll(async () => {
  assertUiBuilt();
  [system, pages] = await Promise.all([
    startSystem({
      serveUi: true,
      // Nothing but a webhook or an action wakes a workflow here: the cancel unlock must not depend on a poll.
      polling: { initialMs: 60_000, maxMs: 60_000 },
      providers: { 'hero-sim': { minCancelSeconds: CANCEL_DELAY_S }, 'activate-sim': { minCancelSeconds: CANCEL_DELAY_S } },
      tenants: (webhookUrlFor) => [
        { id: 'hero', apiKey: 'sim-hero-key', errorStyle: 'hero', minCancelMs: CANCEL_DELAY_S * 1000, webhookUrl: webhookUrlFor('hero-sim') },
        { id: 'activate', apiKey: 'sim-activate-key', errorStyle: 'classic', minCancelMs: CANCEL_DELAY_S * 1000, webhookUrl: webhookUrlFor('activate-sim') },
      ],
    }),
    PageSet.launch(),
  ]);
});

afterAll(async () => {
  await pages?.close();
  await system?.stop();
});

afterEach(() => {
  const errors = pages.takeErrors();
  expect(errors).toEqual([]);
});

const newPage = (viewport = DESKTOP): Promise<Page> => pages.open(system.api.url, viewport);

async function signUp(page: Page, email = `web-${randomUUID()}@simgate.test`): Promise<{ email: string; id: string }> {
  await page.goto('/');
  await page.getByTestId('auth-toggle').click();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('sign-out').waitFor();
  const user = await system.container.db.user.findUniqueOrThrow({ where: { email } });
  return { email, id: user.id };
}

async function signIn(page: Page, email: string, password: string) {
  await page.goto('/');
  await page.getByTestId('auth-form').waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('sign-out').waitFor();
}

async function credit(userId: string, micros: bigint) {
  const reply = await system.request('POST', `/api/admin/wallets/${userId}/credit`, {
    token: system.adminToken,
    headers: { 'Idempotency-Key': `e2e-credit-${randomUUID()}` },
    body: { amountMicros: micros.toString(), memo: 'e2e top-up' },
  });
  expect(reply.status).toBe(200);
}

/** The token of the newest mail to `email` whose link opens `path` (the mailed URL's host is PUBLIC_URL, not this server). */
async function mailedToken(email: string, path: '/verify-email' | '/reset-password'): Promise<string> {
  const mail = await waitFor(() => system.container.db.mailMessage.findFirst({ where: { to: email, text: { contains: path } }, orderBy: { id: 'desc' } }));
  const token = new RegExp(`${path}\\?token=([A-Za-z0-9_-]+)`).exec(mail.text)?.[1];
  expect(token).toBeDefined();
  return token!;
}

async function expectText(page: Page, testId: string, text: string | RegExp, timeoutMs = 10_000) {
  const locator = page.getByTestId(testId).first();
  const matches = (shown: string) => (typeof text === 'string' ? shown.includes(text) : text.test(shown));
  try {
    await waitFor(async () => matches((await locator.textContent({ timeout: timeoutMs })) ?? ''), { timeoutMs });
  } catch {
    throw new Error(`[data-testid=${testId}] never showed ${String(text)}; it shows "${await locator.textContent().catch(() => '?')}"`);
  }
}

describe('customer web app: issue 14 fixes', () => {
  it('landing says what SimGate is; forgot password and e-mail confirmation work by their mailed links', async () => {
    const page = await newPage(PHONE);
    await page.goto('/');
    await page.getByTestId('landing').waitFor();
    await expect(page.getByRole('heading', { level: 1, name: 'A phone number for one verification SMS' }).count()).resolves.toBe(1);
    await page.locator('[data-testid="landing-popular"] [data-service="tg"]').waitFor();
    await screenshot(page, 'landing-phone');
    expect(seriousOnly(await axeViolations(page))).toEqual([]);

    // A new account is asked to confirm its address, and can have the link sent again.
    const user = await signUp(page);
    await page.getByTestId('verify-notice').waitFor();
    await page.getByTestId('resend-verification').click();
    await expectText(page, 'verify-notice', 'We sent a new link');
    await page.goto(`/verify-email?token=${await mailedToken(user.email, '/verify-email')}`);
    await page.getByTestId('verify-done').waitFor();
    await screenshot(page, 'verify-email-phone');
    await page.getByTestId('continue').click();
    await page.getByTestId('sign-out').waitFor();
    await page.getByTestId('header-balance').waitFor();
    expect((await system.request('GET', '/api/auth/me', { token: (await page.evaluate(`localStorage.getItem('simgate.token')`)) as string })).body.user.emailVerified).toBe(true);
    await expect(page.getByTestId('verify-notice').count()).resolves.toBe(0);
    // The link works once.
    await page.goto(`/verify-email?token=${await mailedToken(user.email, '/verify-email')}`);
    await expectText(page, 'verify-email', 'no longer valid');

    // Forgot the password: the link from the mail sets a new one, and only the new one signs in.
    await page.goto('/');
    await page.getByTestId('sign-out').click();
    await page.getByTestId('forgot-password').click();
    await page.getByLabel('Email').fill(user.email);
    await page.getByTestId('forgot-submit').click();
    await page.getByTestId('forgot-sent').waitFor();
    await screenshot(page, 'forgot-password-phone');
    await page.goto(`/reset-password?token=${await mailedToken(user.email, '/reset-password')}`);
    await page.getByTestId('new-password').fill('a-new-password');
    await page.getByTestId('repeat-password').fill('a-new-password-typo');
    await page.getByTestId('reset-submit').click();
    await expectText(page, 'reset-password', 'The two passwords differ');
    await page.getByTestId('repeat-password').fill('a-new-password');
    await page.getByTestId('reset-submit').click();
    await page.getByTestId('reset-done').waitFor();
    await page.getByTestId('continue').click();
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByTestId('auth-submit').click();
    await page.getByTestId('error').waitFor();
    await signIn(page, user.email, 'a-new-password');
  });

  it('Popular services, relevant search, success rates, a low balance told at its Buy button', async () => {
    const page = await newPage();
    const user = await signUp(page);
    await credit(user.id, 10_000n); // one cent: too little for any number

    await page.goto('/#/buy');
    const results = page.locator('[data-testid="service-results"] [data-testid="service-result"]');
    await results.first().waitFor();
    const popular: (string | null)[] = [];
    for (let i = 0; i < (await results.count()); i += 1) popular.push(await results.nth(i).getAttribute('data-service'));
    expect(popular.slice(0, 10)).toEqual(expect.arrayContaining(['tg', 'wa']));
    await expect(page.getByRole('heading', { name: 'Popular services' }).count()).resolves.toBe(1);

    // "telgram" is Telegram, and only Telegram (no sold-out look-alikes after it), and no country.
    await page.getByTestId('service-search').fill('telgram');
    await page.getByRole('heading', { name: 'Services matching “telgram”' }).waitFor();
    await page.locator('section[aria-labelledby="services-title"][aria-busy="false"]').waitFor();
    await waitFor(async () => (await results.first().getAttribute('data-service')) === 'tg');
    const found = (await system.request('GET', '/api/catalog/search?q=telgram')).body.services as { code: string; match: string }[];
    expect(found.filter((s) => s.match === 'similar')).toEqual([]);
    const shown: (string | null)[] = [];
    for (let i = 0; i < (await results.count()); i += 1) shown.push(await results.nth(i).getAttribute('data-service'));
    expect(shown).toEqual(found.map((s) => s.code));
    expect(shown.length).toBeLessThanOrEqual(2);
    await expect(page.getByTestId('country-results').count()).resolves.toBe(0);

    // Each offer shows its success rate and the sample it rests on.
    const telegram = page.locator('[data-testid="service-result"][data-service="tg"]');
    const rates = await telegram.getByTestId('offer-delivery').allTextContents();
    expect(rates.length).toBeGreaterThan(0);
    for (const rate of rates) expect(rate).toMatch(/(\d+% got the SMS \(\d+ of \d+ numbers?, last 24 h\))|(No sales yet \(no numbers sold in the last 24 h\))/);
    await screenshot(page, 'search-telgram');

    // Too little money: the error sits under the Buy button pressed, with a link to top up what is missing.
    const row = telegram.getByTestId('offer-row').first();
    const country = await row.getAttribute('data-country');
    const priceText = (await row.getByTestId('offer-price').textContent())!;
    const priceMicros = BigInt(Math.round(Number(priceText.replace(/[$,]/g, '')) * 100)) * 10_000n;
    await row.getByTestId('buy-button').click();
    const error = page.locator(`[data-testid="service-result"][data-service="tg"] [data-testid="offer-row"][data-country="${country}"] [data-testid="purchase-error"]`);
    await error.waitFor();
    expect(await error.getAttribute('data-code')).toBe('INSUFFICIENT_FUNDS');
    const missing = priceMicros - 10_000n;
    const link = error.getByTestId('top-up-link');
    expect(await link.getAttribute('href')).toBe(`#/wallet/topup?missing=${missing}`);
    expect(await link.textContent()).toBe(`Top up $${(Number(missing) / 1e6).toFixed(2)}`);
    // Not at the top of the page, far from the button.
    await expect(page.locator('main > .stack > [data-testid="error"]').count()).resolves.toBe(0);
    await screenshot(page, 'buy-insufficient-funds');
    expect(seriousOnly(await axeViolations(page))).toEqual([]);
  });

  it('names come from the API on a fresh browser; phone numbers are grouped; Cancel unlocks on the same page', async () => {
    const page = await newPage(PHONE);
    const user = await signUp(page);
    await credit(user.id, 5_000_000n);
    await page.goto('/#/wallet');
    await expectText(page, 'header-balance', '$5.00');

    await page.goto('/#/buy');
    await page.getByTestId('service-search').fill('whatsapp');
    const whatsapp = page.locator('[data-testid="service-result"][data-service="wa"]');
    await whatsapp.waitFor();
    const iso = await whatsapp.getByTestId('offer-row').first().getAttribute('data-country');
    const offers = await system.request('GET', `/api/catalog/offers?service=wa&country=${iso}`);
    const countryName = offers.body.offers[0].countryName as string;
    await whatsapp.getByTestId('buy-button').first().click();
    await page.getByTestId('phone-number').waitFor();
    await expect(page.locator('#activation-title').textContent()).resolves.toBe(`WhatsApp · ${countryName}`);

    // Grouped for reading; the digits (and what Copy copies) are the number as sold.
    const id = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
    const activation = (await system.request('GET', `/api/numbers/${id}`, { token: (await page.evaluate(`localStorage.getItem('simgate.token')`)) as string })).body.activation;
    await expect(page.getByTestId('phone-number').textContent()).resolves.toBe(formatPhone(activation.phone, activation.countryDial));
    expect(formatPhone(activation.phone, activation.countryDial)).toMatch(/^\+\d+ \d{3} \d{3} \d{4}$/);
    await expect(page.getByTestId('activation-id').textContent()).resolves.toBe(id);

    // The provider's delay counts down, then Cancel unlocks on this very page: no reload, no poll.
    await page.evaluate('window.__noReload = true');
    expect(await page.getByTestId('cancel-button').isDisabled()).toBe(true);
    await expectText(page, 'cancel-button', /Cancel \(in \d s\)/);
    await screenshot(page, 'cancel-countdown-phone');
    await waitFor(async () => !(await page.getByTestId('cancel-button').isDisabled()), { timeoutMs: (CANCEL_DELAY_S + 5) * 1000 });
    expect(await page.evaluate('window.__noReload === true')).toBe(true);
    await expect(page.getByTestId('cancel-button').textContent()).resolves.toBe('Cancel');
    await page.getByTestId('cancel-button').click();
    await page.locator('[data-testid="activation"][data-status="CANCELLED"]').waitFor();

    // A fresh browser (nothing in localStorage but the session) still shows names, never codes.
    const fresh = await newPage(PHONE);
    await signIn(fresh, user.email, PASSWORD);
    await fresh.goto('/#/numbers');
    const historyRow = fresh.locator(`[data-testid="history-row"][data-id="${id}"]`);
    await historyRow.waitFor();
    await expect(historyRow.locator('strong').first().textContent()).resolves.toBe('WhatsApp');
    expect(await historyRow.textContent()).toContain(formatPhone(activation.phone, activation.countryDial));
    await fresh.goto(`/#/numbers/${encodeURIComponent(id)}`);
    await expect(fresh.locator('#activation-title').textContent()).resolves.toBe(`WhatsApp · ${countryName}`);
    await fresh.goto('/#/wallet');
    await fresh.getByTestId('ledger').waitFor();
    const purchases = await fresh.getByTestId('ledger-purchase').allTextContents();
    expect(purchases.length).toBeGreaterThanOrEqual(2); // the hold and its refund
    for (const text of purchases) expect(text).toBe(`WhatsApp · ${countryName}`);
    await expect(fresh.locator('[data-testid="ledger"]').textContent()).resolves.not.toContain('wa /');
    await screenshot(fresh, 'wallet-names-phone');
  });
});
