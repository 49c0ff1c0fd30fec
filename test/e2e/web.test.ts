import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { startSystem, TENANT_PROVIDER, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';
import { assertUiBuilt, axeViolations, DESKTOP, PageSet, PHONE, screenshot, seriousOnly } from './browser';

/**
 * The customer web app (production build) in real Chromium against the whole back end: API,
 * worker, Temporal dev server, PostgreSQL, Redis and the provider simulator, which delivers SMS
 * through its webhook like a real provider. Screenshots go to test-results/screenshots/.
 */

jest.setTimeout(60_000);

const PASSWORD = 'customer-password';
const tenantOf = (providerId: string) => Object.entries(TENANT_PROVIDER).find(([, id]) => id === providerId)![0];

let system: TestSystem;
let pages: PageSet;
const requestedUrls: string[] = [];
const streamTickets: string[] = [];

beforeAll(async () => {
  assertUiBuilt();
  [system, pages] = await Promise.all([
    startSystem({
      serveUi: true,
      polling: { initialMs: 500, maxMs: 2000 },
      tenants: (webhookUrlFor) => [
        { id: 'hero', apiKey: 'sim-hero-key', errorStyle: 'hero', minCancelMs: 0, webhookUrl: webhookUrlFor('hero-sim') },
        { id: 'activate', apiKey: 'sim-activate-key', errorStyle: 'classic', minCancelMs: 0, webhookUrl: webhookUrlFor('activate-sim') },
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
  // Uncaught exceptions in the page fail the test that caused them.
  const errors = pages.takeErrors();
  expect(errors).toEqual([]);
  // No access token in any URL the app asked for: the SSE stream goes by one-use ticket.
  const withToken = requestedUrls.splice(0).filter((url) => /access_token=|eyJ[\w-]+\.eyJ[\w-]+\./.test(url));
  expect(withToken).toEqual([]);
});

async function newPage(viewport = DESKTOP): Promise<Page> {
  const page = await pages.open(system.api.url, viewport, (context) => context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: system.api.url }));
  page.on('request', (request) => {
    requestedUrls.push(request.url());
    if (/\/api\/events\?ticket=/.test(request.url())) streamTickets.push(new URL(request.url()).searchParams.get('ticket')!);
  });
  return page;
}

async function signUp(page: Page): Promise<{ email: string; id: string }> {
  const email = `web-${randomUUID()}@simgate.test`;
  await page.goto('/');
  await page.getByTestId('auth-toggle').click();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('sign-out').waitFor();
  const me = await system.request('GET', '/api/auth/me', { token: await tokenOf(page) });
  return { email, id: me.body.user.id as string };
}

const tokenOf = async (page: Page) => (await page.evaluate(`localStorage.getItem('simgate.token')`)) as string;

async function credit(userId: string, micros: bigint) {
  const reply = await system.request('POST', `/api/admin/wallets/${userId}/credit`, {
    token: system.adminToken,
    headers: { 'Idempotency-Key': `e2e-credit-${randomUUID()}` },
    body: { amountMicros: micros.toString(), memo: 'e2e top-up' },
  });
  expect(reply.status).toBe(200);
}

/** The activation the page shows, read through the API as the page's user. */
async function shownActivation(page: Page) {
  const id = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
  const reply = await system.request('GET', `/api/numbers/${id}`, { token: await tokenOf(page) });
  expect(reply.status).toBe(200);
  return reply.body.activation as { id: string; providerId: string; phone: string; heldMicros: string; status: string };
}

async function deliverSms(activation: { providerId: string; phone: string }, code: string) {
  const tenant = tenantOf(activation.providerId);
  const { activations } = await system.sim('GET', `/control/${tenant}/activations`);
  const upstream = activations.find((a: { phone: string }) => `+${a.phone}` === activation.phone);
  expect(upstream).toBeDefined();
  const delivered = await system.sim('POST', `/control/${tenant}/activations/${upstream.id}/sms`, { code, text: `Your Telegram code is ${code}. Do not share it.` });
  expect(delivered.codes).toContain(code);
}

describe('customer web app in Chromium', () => {
  it('signs up, finds "telegarm", buys, sees the SMS code arrive live and finishes', async () => {
    const page = await newPage();
    const user = await signUp(page);
    await credit(user.id, 5_000_000n);

    // The wallet page loads the balance (and the top bar follows).
    await page.goto('/#/wallet');
    await expectText(page, 'balance', '$5.00');
    await expectText(page, 'header-balance', '$5.00');

    // A typo still finds Telegram, with its countries cheapest first.
    await page.goto('/#/buy');
    await page.getByTestId('service-search').fill('telegarm');
    const telegram = page.locator('[data-testid="service-result"][data-service="tg"]');
    await telegram.waitFor();
    const prices = await telegram.getByTestId('offer-price').allTextContents();
    expect(prices.length).toBeGreaterThan(0);
    const micros = prices.map((p) => Math.round(Number(p.replace(/[$,]/g, '')) * 1e6));
    expect(micros).toEqual([...micros].sort((a, b) => a - b));
    await screenshot(page, 'search-telegarm');

    // Pin it: favourites come first with an empty box too.
    await telegram.getByTestId('favourite').click();
    await page.getByTestId('service-search').fill('');
    await waitFor(async () => (await page.getByTestId('service-result').first().getAttribute('data-service')) === 'tg');

    // Countries are in the same box: "england" finds the United Kingdom; picking it prices every service there.
    await page.getByTestId('service-search').fill('england');
    const uk = page.locator('[data-testid="country-result"][data-country="GB"]');
    await uk.waitFor();
    await uk.getByRole('button').click();
    await page.getByTestId('country-filter').waitFor();
    expect(await page.getByTestId('service-search').inputValue()).toBe('');
    await page.getByTestId('service-search').fill('telegram');
    await page.locator('[data-testid="service-result"][data-service="tg"] [data-testid="offer-row"][data-country="GB"]').waitFor();
    await page.getByTestId('clear-country').click();

    // One click buys; the number, its countdown and the held balance show.
    await page.getByTestId('service-search').fill('telegarm');
    await telegram.getByTestId('buy-button').first().click();
    await page.getByTestId('phone-number').waitFor();
    await page.getByTestId('countdown').waitFor();
    const activation = await shownActivation(page);
    expect(activation.status).toBe('ACTIVE');
    await expectText(page, 'header-balance', formatCents(5_000_000n - BigInt(activation.heldMicros)));
    expect(await page.getByTestId('finish-button').isDisabled()).toBe(true);
    expect(await page.getByTestId('retry-button').isDisabled()).toBe(true);

    // The code arrives over SSE: no reload (the marker survives), no polling needed.
    await page.locator('[data-testid="live-indicator"][data-live="open"]').waitFor();
    expect(streamTickets.length).toBeGreaterThanOrEqual(1);
    expect(streamTickets.every((ticket) => /^[\w-]{43}$/.test(ticket))).toBe(true);
    await page.evaluate('window.__noReload = true');
    await deliverSms(activation, '731904');
    await expectText(page, 'sms-code', '731904', 10_000);
    expect(await page.evaluate('window.__noReload === true')).toBe(true);
    expect(await page.locator('.sms-text mark').textContent()).toBe('731904');
    await page.getByTestId('finish-button').waitFor({ state: 'visible' });
    await waitFor(async () => !(await page.getByTestId('finish-button').isDisabled()));
    expect(await page.getByTestId('cancel-button').isDisabled()).toBe(true);
    await screenshot(page, 'activation-code');
    await page.getByTestId('copy-code').click();
    await expectText(page, 'copy-code', 'Copied');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe('731904');

    await page.getByTestId('finish-button').click();
    await page.locator('[data-testid="activation"][data-status="COMPLETED"]').waitFor();
    await expect(page.getByTestId('outcome').textContent()).resolves.toContain('You paid');

    // History lists it with its code.
    await page.goto('/#/numbers');
    const row = page.locator(`[data-testid="history-row"][data-id="${activation.id}"]`);
    await row.waitFor();
    await expect(row.getByTestId('history-codes').textContent()).resolves.toContain('731904');
    await screenshot(page, 'history');
  });

  it('buys and cancels at once (no provider delay): the hold goes back to the balance', async () => {
    const page = await newPage(PHONE);
    const user = await signUp(page);
    await credit(user.id, 3_000_000n);
    await page.goto('/#/wallet');
    await expectText(page, 'header-balance', '$3.00');

    // Keyboard only: type in the box, Tab to the first Buy button, Enter.
    await page.goto('/#/buy');
    await page.getByTestId('service-search').focus();
    await page.keyboard.type('whatsapp');
    // (WhatsApp is among the Popular services too: wait for the results of the search itself.)
    await page.getByRole('heading', { name: 'Services matching “whatsapp”' }).waitFor();
    await page.locator('section[aria-labelledby="services-title"][aria-busy="false"]').waitFor();
    await page.locator('[data-testid="service-result"][data-service="wa"]').waitFor();
    for (let i = 0; i < 6 && (await page.evaluate('document.activeElement?.dataset.testid')) !== 'buy-button'; i += 1) await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.closest("[data-service]")?.dataset.service')).toBe('wa');
    await page.keyboard.press('Enter');
    await page.getByTestId('phone-number').waitFor();
    const activation = await shownActivation(page);
    await expectText(page, 'header-balance', formatCents(3_000_000n - BigInt(activation.heldMicros)));

    // Offline, then back: the page says so, and the live stream reconnects by itself.
    await page.locator('[data-testid="live-indicator"][data-live="open"]').waitFor();
    await page.context().setOffline(true);
    await page.getByTestId('offline').waitFor();
    await page.locator('[data-testid="live-indicator"][data-live="offline"]').waitFor();
    await screenshot(page, 'activation-offline-phone');
    const ticketsBefore = streamTickets.length;
    await page.context().setOffline(false);
    await page.locator('[data-testid="live-indicator"][data-live="open"]').waitFor();
    await page.getByTestId('offline').waitFor({ state: 'detached' });
    // The reconnect asks for a new ticket: a spent one is never offered again.
    await waitFor(async () => streamTickets.length > ticketsBefore);
    await page.locator('[data-testid="live-indicator"][data-live="open"]').waitFor();
    expect(new Set(streamTickets).size).toBe(streamTickets.length);

    await waitFor(async () => !(await page.getByTestId('cancel-button').isDisabled()));
    await page.getByTestId('cancel-button').click();
    await page.locator('[data-testid="activation"][data-status="CANCELLED"]').waitFor();
    await expect(page.getByTestId('outcome').textContent()).resolves.toContain('went back to your balance');
    await expectText(page, 'header-balance', '$3.00');
    await screenshot(page, 'activation-cancelled-phone');

    await page.goto('/#/wallet');
    await expectText(page, 'balance', '$3.00');
    await expectText(page, 'held', '$0.00');
    await expect(page.locator('[data-testid="ledger-row"][data-kind="RELEASE"]').count()).resolves.toBe(1);
    await screenshot(page, 'wallet-phone');

    await page.goto('/#/numbers');
    await expectText(page, 'history-refund', 'refunded');
  });

  it('has no serious or critical axe violations on the main screens (phone size)', async () => {
    const page = await newPage(PHONE);
    await page.goto('/');
    await page.getByTestId('auth-form').waitFor();
    const found: Record<string, unknown> = {};
    const check = async (name: string) => {
      await screenshot(page, `${name}-phone`);
      // Phone-sized: nothing wider than the screen (wide tables scroll inside their card).
      const overflow = await page.evaluate(`[document.documentElement.scrollWidth - window.innerWidth,
        [...document.querySelectorAll('body *')].filter((e) => !e.closest('.table-wrap') && e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map((e) => e.tagName + '.' + e.className + '#' + (e.dataset.testid || ''))]`);
      expect({ name, overflow }).toEqual({ name, overflow: [0, []] });
      const serious = seriousOnly(await axeViolations(page));
      if (serious.length > 0) found[name] = serious;
    };
    await check('sign-in');

    const user = await signUp(page);
    await credit(user.id, 2_000_000n);
    await page.getByTestId('service-search').fill('telegram');
    await page.locator('[data-testid="service-result"][data-service="tg"]').waitFor();
    await check('search');

    await page.locator('[data-testid="service-result"][data-service="tg"]').getByTestId('buy-button').first().click();
    await page.getByTestId('phone-number').waitFor();
    await check('activation');

    await page.goto('/#/numbers');
    await page.getByTestId('history-row').first().waitFor();
    await check('history');

    await page.goto('/#/wallet');
    await page.getByTestId('ledger').waitFor();
    await check('wallet');

    // API keys: create (shown once), list by prefix, revoke.
    await page.goto('/#/keys');
    await page.getByLabel('Key name').fill('e2e-bot');
    await page.getByTestId('scope-purchase').check();
    await page.getByTestId('create-key').click();
    const key = (await page.getByTestId('new-key-value').textContent()) ?? '';
    expect(key).toMatch(/^sg_[0-9a-f]{12}_/);
    await expect(page.getByTestId('new-key-secret').textContent()).resolves.toMatch(/^sgs_/);
    await check('api-keys');
    const prefix = key.split('_')[1];
    const row = page.locator(`[data-testid="api-key-row"][data-prefix="${prefix}"]`);
    await page.getByTestId('key-saved').click();
    await expect(page.getByTestId('new-key').count()).resolves.toBe(0);
    await row.getByTestId('revoke').click();
    await row.getByTestId('confirm-revoke').click();
    await page.locator(`[data-testid="api-key-row"][data-prefix="${prefix}"][data-revoked="true"]`).waitFor();
    const v1 = await system.request('GET', '/api/v1/balance', { headers: { 'X-Api-Key': key } });
    expect(v1.status).toBe(401);

    expect(found).toEqual({});
  });

  it('refreshes an expired or removed access token without showing the sign-in form', async () => {
    const page = await newPage();
    const user = await signUp(page);
    await credit(user.id, 1_000_000n);
    const refreshes: number[] = [];
    page.on('response', (response) => {
      if (response.url().endsWith('/api/auth/refresh')) refreshes.push(response.status());
    });

    // A token the server refuses (tampered, revoked, expired early): 401 → refresh → retried once.
    await page.goto('/#/wallet');
    await expectText(page, 'balance', '$1.00');
    await page.evaluate(`localStorage.setItem('simgate.token', 'not-a-valid-token')`);
    await page.reload();
    await expectText(page, 'balance', '$1.00');
    expect(await page.getByTestId('auth-form').count()).toBe(0);
    expect(refreshes).toEqual([200]);
    // (Issued within the same second as the first one it may equal it: JWT times are in seconds.)
    const refreshed = await tokenOf(page);
    expect(refreshed).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect((await system.request('GET', '/api/auth/me', { token: refreshed })).status).toBe(200);

    // A token past its `exp`: renewed before the call, without a 401 first.
    const expired = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: user.id, exp: Math.floor(Date.now() / 1000) - 60 })}.sig`;
    const unauthorized: string[] = [];
    page.on('response', (response) => {
      if (response.status() === 401) unauthorized.push(response.url());
    });
    await page.goto('/#/numbers');
    await page.getByRole('heading', { name: 'My numbers' }).waitFor();
    await page.evaluate(`localStorage.setItem('simgate.token', ${JSON.stringify(expired)})`);
    await page.reload();
    await page.getByRole('heading', { name: 'My numbers' }).waitFor();
    expect(unauthorized).toEqual([]);
    expect(refreshes).toEqual([200, 200]);

    // No access token at all: the refresh cookie (and CSRF token) bring the session back.
    await page.evaluate(`localStorage.removeItem('simgate.token')`);
    await page.reload();
    await expectText(page, 'user-email', user.email);
    expect(await page.getByTestId('auth-form').count()).toBe(0);
    expect(refreshes).toEqual([200, 200, 200]);

    // Two tabs with a refused token at once: one refreshes, the other reuses its token (a second
    // refresh with the same cookie would look stolen and sign the session out everywhere).
    const second = await page.context().newPage();
    pages.watch(second);
    second.on('response', (response) => {
      if (response.url().endsWith('/api/auth/refresh')) refreshes.push(response.status());
    });
    await second.goto('/#/wallet');
    await expectText(second, 'balance', '$1.00');
    await page.evaluate(`localStorage.setItem('simgate.token', 'refused-in-both-tabs')`);
    await Promise.all([page.reload(), second.reload()]);
    await Promise.all([expectText(page, 'user-email', user.email), expectText(second, 'balance', '$1.00')]);
    // Under load the second tab may refresh again after the first finished — with the rotated
    // cookie, which is legitimate. What must never happen is a refused (reused) refresh.
    expect(refreshes.length).toBeGreaterThanOrEqual(4);
    expect(refreshes.every((status) => status === 200)).toBe(true);
    await second.close();

    // Signing out revokes the refresh cookie: a reload stays signed out.
    await page.getByTestId('sign-out').click();
    await page.getByTestId('auth-form').waitFor();
    await page.reload();
    await page.getByTestId('auth-form').waitFor();
    expect(await page.evaluate(`localStorage.getItem('simgate.token')`)).toBeNull();
  });

  it('admin panel: signs in, credits a customer, runs the invariants, refreshes its own session', async () => {
    const customer = await system.customer(0n);
    const page = await newPage();
    await page.goto('/admin/#/users');
    await page.getByLabel('Email').fill(system.config.env.ADMIN_EMAIL);
    await page.getByLabel('Password').fill('admin-password');
    await page.getByTestId('auth-submit').click();
    await page.getByTestId('users').waitFor();

    await page.getByTestId('user-search').fill(customer.email);
    const row = page.locator(`[data-testid="user-row"][data-email="${customer.email}"]`);
    await row.waitFor();
    await row.getByTestId('credit-open').click();
    await page.getByTestId('credit-amount').fill('2.50');
    await page.getByTestId('credit-memo').fill('bank transfer');
    await page.getByTestId('credit-submit').click();
    await page.getByTestId('credit-notice').waitFor();
    await expectText(page, 'user-balance', '$2.50');
    const wallet = await system.request('GET', '/api/wallet', { token: customer.token });
    expect(wallet.body.wallet.availableMicros).toBe('2500000');
    await screenshot(page, 'admin-users');
    expect(seriousOnly(await axeViolations(page))).toEqual([]);

    await page.goto('/admin/#/invariants');
    await page.getByTestId('invariants-run').click();
    // The check is database-wide (other test files share the database): the page shows what the API finds.
    await page.getByTestId('invariants-result').waitFor();
    const found = await system.request('GET', '/api/admin/invariants', { token: system.adminToken });
    expect(await page.getByTestId('invariants-result').getAttribute('data-count')).toBe(String(found.body.violations.length));
    expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
    expect(seriousOnly(await axeViolations(page))).toEqual([]);

    // A refused admin token is refreshed too (and the refreshed session must still be an admin's).
    await page.evaluate(`localStorage.setItem('simgate.admin.token', 'not-a-valid-token')`);
    await page.reload();
    await page.getByTestId('invariants-run').waitFor();
    expect(await page.getByTestId('auth-form').count()).toBe(0);
  });
});

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Micro-dollars → the app's display ("$4.56"), for whole-cent amounts. */
function formatCents(micros: bigint): string {
  const cents = micros / 10_000n;
  return `$${(cents / 100n).toString()}.${(cents % 100n).toString().padStart(2, '0')}`;
}

async function expectText(page: Page, testId: string, text: string, timeoutMs = 10_000) {
  const locator = page.getByTestId(testId).first();
  try {
    await waitFor(async () => ((await locator.textContent({ timeout: timeoutMs })) ?? '').includes(text), { timeoutMs });
  } catch {
    throw new Error(`[data-testid=${testId}] never showed "${text}"; it shows "${await locator.textContent().catch(() => '?')}"`);
  }
}
