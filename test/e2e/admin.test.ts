import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { startSystem, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';
import { assertUiBuilt, axeViolations, DESKTOP, PageSet, PHONE, screenshot, seriousOnly } from './browser';

/**
 * The admin panel (production build) in Chromium against the whole back end, one test per area:
 * dashboard, activations (filters, detail, stuck step retried, terminate), users, providers,
 * money, incidents and audit; every page at 390 px without a page-wide scrollbar; a customer sees
 * no admin page. Screenshots go to test-results/screenshots/admin-*.png.
 */

jest.setTimeout(90_000);

const WANTED = { service: 'wa', country: 'ID' };

let system: TestSystem;
let pages: PageSet;

beforeAll(async () => {
  assertUiBuilt();
  [system, pages] = await Promise.all([
    startSystem({
      serveUi: true,
      polling: { initialMs: 500, maxMs: 2000 },
      env: { TEMPORAL_UI_URL: 'http://127.0.0.1:8233' },
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
  const errors = pages.takeErrors();
  expect(errors).toEqual([]);
});

async function newPage(viewport = DESKTOP): Promise<Page> {
  const page = await pages.open(system.api.url, viewport);
  // Confirmations (cancel, disable) are accepted: the test is the admin who meant it.
  page.on('dialog', (dialog) => void dialog.accept());
  return page;
}

/** An admin's page, signed in through the form, at `hash`. */
async function adminPage(hash = '#/dashboard', viewport = DESKTOP): Promise<Page> {
  const page = await newPage(viewport);
  await page.goto(`/admin/${hash}`);
  await page.getByLabel('Email').fill(system.config.env.ADMIN_EMAIL);
  await page.getByLabel('Password').fill('admin-password');
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('sign-out').waitFor();
  return page;
}

async function go(page: Page, hash: string, testId: string) {
  await page.goto(`/admin/${hash}`);
  await page.getByTestId(testId).first().waitFor();
}

async function buy(customer?: { id: string; email: string; token: string }) {
  const owner = customer ?? (await system.customer(5_000_000n));
  const bought = await system.request('POST', '/api/numbers', { token: owner.token, headers: { 'Idempotency-Key': randomUUID() }, body: WANTED });
  expect(bought.status).toBe(201);
  return { customer: owner, activation: bought.body.activation as { id: string; phone: string; providerId: string } };
}

const tenantOf = (providerId: string) => (providerId === 'hero-sim' ? 'hero' : 'activate');

async function deliverSms(activation: { providerId: string; phone: string }, code: string) {
  const tenant = tenantOf(activation.providerId);
  const { activations } = await system.sim('GET', `/control/${tenant}/activations`);
  const upstream = activations.find((a: { phone: string }) => `+${a.phone}` === activation.phone);
  await system.sim('POST', `/control/${tenant}/activations/${upstream.id}/sms`, { code, text: `Your WhatsApp code is ${code}.` });
}

async function expectText(page: Page, testId: string, text: string | RegExp, timeoutMs = 15_000) {
  const locator = page.getByTestId(testId).first();
  const matches = (value: string) => (typeof text === 'string' ? value.includes(text) : text.test(value));
  try {
    await waitFor(async () => matches((await locator.textContent({ timeout: timeoutMs })) ?? ''), { timeoutMs });
  } catch {
    throw new Error(`[data-testid=${testId}] never showed ${String(text)}; it shows "${await locator.textContent().catch(() => '?')}"`);
  }
}

/** The page itself never scrolls sideways at phone width (tables scroll or become cards inside it). */
async function expectNoPageOverflow(page: Page) {
  const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
  expect(width).toBeLessThanOrEqual(PHONE.width);
}

describe('admin panel in Chromium', () => {
  it('dashboard: live figures and charts, the landing page after sign-in', async () => {
    const { activation } = await buy();
    await deliverSms(activation, '111222');
    const page = await adminPage('');
    await page.getByTestId('tile-active').waitFor();
    await page.locator('[data-testid="chart-traffic"] svg').first().waitFor();
    await page.locator('[data-testid="chart-problems"] svg').first().waitFor();
    const api = await system.request('GET', '/api/admin/dashboard?minutes=60', { token: system.adminToken });
    await expectText(page, 'tile-active', String(api.body.activeActivations));
    expect(await page.getByTestId('dashboard-provider').count()).toBeGreaterThanOrEqual(2);
    await screenshot(page, 'admin-dashboard');
    expect(seriousOnly(await axeViolations(page))).toEqual([]);
  });

  it('activations: filters by e-mail and status, shows "Code received" like the customer, opens the detail page', async () => {
    const { customer, activation } = await buy();
    const page = await adminPage('#/activations');
    await page.getByTestId('email-filter').fill(customer.email);
    const row = page.locator(`[data-testid="activation-row"][data-id="${activation.id}"]`);
    await waitFor(async () => (await page.getByTestId('activation-row').count()) === 1 && (await row.count()) === 1);
    await expectText(page, 'status', 'Waiting for SMS');
    await page.getByTestId('service-filter').fill('tg');
    await page.getByTestId('empty').waitFor();
    await page.getByTestId('service-filter').fill('');
    await row.waitFor();

    await deliverSms(activation, '654321');
    await waitFor(async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      return ((await row.getByTestId('status').textContent()) ?? '').includes('Code received');
    });
    await screenshot(page, 'admin-activations');
    expect(seriousOnly(await axeViolations(page))).toEqual([]);

    await row.getByTestId('activation-link').click();
    await page.getByTestId('activation-detail').waitFor();
    await expectText(page, 'detail-phone', activation.phone);
    await expectText(page, 'detail-sms', '654321');
    await expectText(page, 'workflow-status', 'RUNNING');
    await page.locator('[data-testid="timeline-event"][data-kind="signal"]').first().waitFor();
    expect(await page.locator('[data-testid="money-entry"][data-kind="HOLD"]').count()).toBe(1);
    expect(await page.getByTestId('temporal-link').getAttribute('href')).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:8233/namespaces/default/workflows/${activation.id}/`));
    expect(await page.getByTestId('admin-cancel').isDisabled()).toBe(true);
    await screenshot(page, 'admin-activation-detail');
    expect(seriousOnly(await axeViolations(page))).toEqual([]);
  });

  it('a stuck cancel: found by the stuck filter, its last error shown, retried from the page, then refunded; terminate asks for a reason', async () => {
    const { customer, activation } = await buy();
    const tenant = tenantOf(activation.providerId);
    await system.sim('POST', `/control/${tenant}/faults`, { action: 'setStatus', times: 10_000, reply: { status: 500, body: 'upstream down' } });
    const page = await adminPage(`#/activation/${activation.id}`);
    try {
      await page.getByTestId('admin-cancel').click();
      await page.getByTestId('detail-notice').waitFor();
      await waitFor(async () => {
        await page.reload();
        await page.getByTestId('activation-detail').waitFor();
        return (await page.getByTestId('retrying-badge').count()) > 0;
      }, { timeoutMs: 30_000 });
      await expectText(page, 'pending-error', /500|upstream/i);
      await screenshot(page, 'admin-activation-stuck');

      await go(page, '#/activations', 'stuck-filter');
      await page.getByTestId('email-filter').fill(customer.email);
      await page.getByTestId('stuck-minutes').fill('0');
      await page.getByTestId('stuck-filter').check();
      await page.locator(`[data-testid="activation-row"][data-id="${activation.id}"]`).waitFor();
      await page.getByTestId('stuck-minutes').fill('60');
      await page.getByTestId('empty').waitFor();

      await go(page, `#/activation/${activation.id}`, 'retry-step');
      await system.sim('DELETE', `/control/${tenant}/faults`);
      await page.getByTestId('retry-step').click();
      await expectText(page, 'detail-notice', 'Retrying now');
    } finally {
      await system.sim('DELETE', `/control/${tenant}/faults`);
    }
    await waitFor(async () => {
      await page.reload();
      await page.getByTestId('activation-detail').waitFor();
      return (await page.getByTestId('activation-detail').getAttribute('data-status')) === 'CANCELLED';
    }, { timeoutMs: 30_000 });
    expect(await page.locator('[data-testid="money-entry"][data-kind="RELEASE"]').count()).toBe(1);

    const other = await buy(customer);
    await go(page, `#/activation/${other.activation.id}`, 'terminate-open');
    await page.getByTestId('terminate-open').click();
    expect(await page.getByTestId('terminate-submit').isDisabled()).toBe(true);
    await page.getByTestId('terminate-reason').fill('number lost at the provider');
    await page.getByTestId('terminate-submit').click();
    await expectText(page, 'detail-notice', 'Terminated');
    await waitFor(async () => (await page.getByTestId('activation-detail').getAttribute('data-status')) === 'FAILED');
    await page.locator('[data-testid="timeline-event"][data-kind="problem"]').waitFor();
    const wallet = await system.request('GET', '/api/wallet', { token: customer.token });
    expect(wallet.body.wallet).toMatchObject({ availableMicros: '5000000', heldMicros: '0' });
  });

  it('users: search by e-mail, wallet and ledger, credit and debit with a reason, disable, roles', async () => {
    const customer = await system.customer(0n);
    const page = await adminPage('#/users');
    await page.getByTestId('user-search').fill(customer.email);
    const row = page.locator(`[data-testid="user-row"][data-email="${customer.email}"]`);
    await row.getByTestId('user-link').click();
    await page.getByTestId('user-detail').waitFor();

    await page.getByTestId('credit-open').click();
    await page.getByTestId('credit-amount').fill('2.50');
    await page.getByTestId('credit-memo').fill('bank transfer 77');
    await page.getByTestId('credit-submit').click();
    await expectText(page, 'user-notice', 'Credited $2.50');
    await page.getByTestId('debit-open').click();
    await page.getByTestId('debit-amount').fill('1');
    await page.getByTestId('debit-memo').fill('duplicate transfer');
    await page.getByTestId('debit-submit').click();
    await expectText(page, 'user-notice', 'Debited $1.00');
    await expectText(page, 'detail-balance', '$1.50');
    await page.locator('[data-testid="ledger-row"][data-kind="DEBIT"]').waitFor();
    expect(await page.getByTestId('ledger-row').count()).toBe(2);
    // More than the balance is refused, and nothing moves.
    await page.getByTestId('debit-open').click();
    await page.getByTestId('debit-amount').fill('5');
    await page.getByTestId('debit-memo').fill('too much');
    await page.getByTestId('debit-submit').click();
    await page.locator('[data-testid="debit-form"] [data-testid="error"]').waitFor();
    expect((await system.request('GET', '/api/wallet', { token: customer.token })).body.wallet.availableMicros).toBe('1500000');

    await page.getByTestId('disable-toggle').click();
    await expectText(page, 'user-state', 'Disabled');
    expect((await system.request('GET', '/api/wallet', { token: customer.token })).status).toBe(401);
    await page.getByTestId('disable-toggle').click();
    await expectText(page, 'user-state', 'Active');
    await page.getByTestId('role-toggle').click();
    await expectText(page, 'user-role', 'ADMIN');
    await page.getByTestId('role-toggle').click();
    await expectText(page, 'user-role', 'CUSTOMER');
    await screenshot(page, 'admin-user');
    expect(seriousOnly(await axeViolations(page))).toEqual([]);
    expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
  });

  it('providers: health, balance at the provider, sync now, markup override, disable and enable', async () => {
    const page = await adminPage('#/providers');
    const hero = page.locator('[data-testid="provider-row"][data-id="hero-sim"]');
    await hero.waitFor();
    await expectText(page, 'breaker', 'Breaker closed');
    await hero.getByTestId('provider-balance-check').click();
    await waitFor(async () => ((await hero.getByTestId('provider-balance').textContent()) ?? '').includes('$'));
    await hero.getByTestId('provider-sync').click();
    await waitFor(async () => ((await hero.getByTestId('provider-notice').textContent().catch(() => '')) ?? '').includes('Synced'), { timeoutMs: 30_000 });

    await hero.getByText('Test purchase').click();
    await hero.getByTestId('test-service').fill('wa');
    await hero.getByTestId('test-country').fill('ID');
    await hero.getByTestId('test-purchase').click();
    await waitFor(async () => /Bought \+\d+.*cancelled/.test((await hero.getByTestId('test-purchase-result').textContent().catch(() => '')) ?? ''));

    await hero.getByTestId('provider-edit-open').click();
    await hero.getByTestId('markup-service').fill('wa');
    await hero.getByTestId('markup-country').fill('ID');
    await hero.getByTestId('markup-percent').fill('40');
    await hero.getByTestId('markup-save').click();
    await waitFor(async () => ((await hero.textContent()) ?? '').includes('wa/ID 40%'));
    const api = await system.request('GET', '/api/admin/providers', { token: system.adminToken });
    expect(api.body.providers.find((p: { id: string }) => p.id === 'hero-sim').markupOverrides).toEqual([{ serviceCode: 'wa', countryIso: 'ID', markupBps: 4000 }]);
    // Every test file shares one database: the override goes, so other files' prices stay as seeded.
    expect((await system.request('PUT', '/api/admin/providers/hero-sim/markups', { token: system.adminToken, body: { serviceCode: 'wa', countryIso: 'ID', markupBps: null } })).status).toBe(200);
    expect((await system.request('POST', '/api/admin/providers/hero-sim/sync', { token: system.adminToken })).status).toBe(200);

    await hero.getByTestId('provider-toggle').click();
    await waitFor(async () => (await hero.getAttribute('data-enabled')) === 'false');
    await hero.getByTestId('provider-toggle').click();
    await waitFor(async () => (await hero.getAttribute('data-enabled')) === 'true');
    await screenshot(page, 'admin-providers');
    expect(seriousOnly(await axeViolations(page))).toEqual([]);
  });

  it('money: revenue, cost and margin per provider, the reconciliation report, the invariants', async () => {
    const { customer, activation } = await buy();
    await deliverSms(activation, '333444');
    await waitFor(async () => (await system.request('GET', `/api/numbers/${activation.id}`, { token: customer.token })).body.activation.messages.length > 0);
    await system.request('POST', `/api/numbers/${activation.id}/finish`, { token: customer.token });
    const page = await adminPage('#/money');
    await page.locator(`[data-testid="money-row"][data-key="${activation.providerId}"]`).waitFor();
    await page.locator('[data-testid="chart-money"] svg').first().waitFor();
    const from = new Date(Date.now() - 30 * 86_400_000);
    from.setMinutes(0, 0, 0);
    const api = await system.request('GET', `/api/admin/money?by=provider&from=${from.toISOString()}`, { token: system.adminToken });
    const revenue = BigInt(api.body.totals.revenueMicros);
    await expectText(page, 'money-revenue', `$${(revenue / 1_000_000n).toString()}.`);
    await page.getByTestId('recon-recovered').waitFor();
    await page.getByTestId('invariants-run').click();
    await page.getByTestId('invariants-result').waitFor();
    await page.getByTestId('money-by').selectOption('service');
    await page.locator('[data-testid="money-row"][data-key="wa"]').waitFor();
    await screenshot(page, 'admin-money');
    expect(seriousOnly(await axeViolations(page))).toEqual([]);
  });

  it('incidents and the audit log', async () => {
    const upstreamId = `e2e-${randomUUID()}`;
    await system.container.incidents.open('UPSTREAM_MISSING', { providerId: 'hero-sim', upstreamId, activationId: null, details: { note: 'e2e' } });
    const incident = await system.container.db.upstreamIncident.findFirstOrThrow({ where: { upstreamId } });
    const page = await adminPage('#/incidents');
    const row = page.locator(`[data-testid="incident-row"][data-id="${incident.id}"]`);
    await row.waitFor();
    await screenshot(page, 'admin-incidents');
    await row.getByTestId('incident-resolve').click();
    await waitFor(async () => (await row.count()) === 0);
    await page.getByTestId('incidents-all').check();
    await row.waitFor();

    await go(page, '#/audit', 'audit-row');
    await page.getByTestId('audit-action').selectOption('admin.incident.resolve');
    await page.getByTestId('audit-target').fill(incident.id.toString());
    await waitFor(async () => (await page.getByTestId('audit-row').count()) === 1 && (await page.getByTestId('audit-row').getAttribute('data-action')) === 'admin.incident.resolve');
    await screenshot(page, 'admin-audit');
    expect(seriousOnly(await axeViolations(page))).toEqual([]);
  });

  it('every page works at 390 px: no page-wide scrollbar, tables as cards', async () => {
    const { activation } = await buy();
    const page = await adminPage('#/dashboard', PHONE);
    const pages: [string, string][] = [
      ['#/dashboard', 'tile-active'],
      ['#/activations', 'activation-row'],
      [`#/activation/${activation.id}`, 'activation-detail'],
      ['#/users', 'user-row'],
      ['#/providers', 'provider-row'],
      ['#/money', 'money-revenue'],
      ['#/incidents', 'incidents-all'],
      ['#/audit', 'audit-row'],
    ];
    for (const [hash, testId] of pages) {
      await go(page, hash, testId);
      await expectNoPageOverflow(page);
      await screenshot(page, `admin-phone-${hash.split('/')[1]}`);
    }
  });

  it('a customer sees no admin page, whatever the address', async () => {
    const customer = await system.customer(0n);
    const page = await newPage();
    for (const hash of ['#/dashboard', '#/activations', '#/users', '#/providers', '#/money', '#/incidents', '#/audit', `#/user/${customer.id}`]) {
      await page.goto(`/admin/${hash}`);
      await page.getByLabel('Email').fill(customer.email);
      await page.getByLabel('Password').fill('customer-password');
      await page.getByTestId('auth-submit').click();
      await page.getByText('Admin access required').waitFor();
      expect(await page.getByRole('navigation', { name: 'Admin' }).count()).toBe(0);
      expect(await page.getByTestId('sign-out').count()).toBe(0);
    }
    await screenshot(page, 'admin-refused');
  });
});
