import { randomUUID } from 'node:crypto';
import { startSystem, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';

/**
 * The admin panel's API against the real back end: activation filters (e-mail, provider, service,
 * country, time, stuck), the detail page's data (workflow description, pending activities with
 * their last failure, timeline, money, Temporal UI link), retrying a stuck step, terminating with
 * a reason, debits, and the money / reconciliation / dashboard reports.
 */

jest.setTimeout(90_000);

const WANTED = { service: 'wa', country: 'ID' };
let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({
    tenants: () => [{ id: 'hero', apiKey: 'sim-hero-key', errorStyle: 'hero', minCancelMs: 0 }],
    env: { TEMPORAL_UI_URL: 'http://temporal-ui.test:8233' },
  });
});
afterAll(async () => {
  await system?.stop();
});

const admin = <T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  system.request<T>(method, `/api/admin${path}`, { token: system.adminToken, body, headers });

async function buy() {
  const customer = await system.customer(5_000_000n);
  const bought = await system.request('POST', '/api/numbers', { token: customer.token, headers: { 'Idempotency-Key': randomUUID() }, body: WANTED });
  expect(bought.status).toBe(201);
  return { customer, activation: bought.body.activation as { id: string; phone: string; heldMicros: string; providerId: string } };
}

describe('admin activations', () => {
  it('filters by e-mail, provider, service, country and time; an unknown e-mail finds nothing', async () => {
    const { customer, activation } = await buy();
    const ids = async (query: string) => ((await admin('GET', `/activations?${query}`)).body.activations as { id: string }[]).map((a) => a.id);
    expect(await ids(`email=${encodeURIComponent(customer.email.toUpperCase())}`)).toEqual([activation.id]);
    expect(await ids(`email=${encodeURIComponent(customer.email)}&provider=hero-sim&service=wa&country=id`)).toEqual([activation.id]);
    expect(await ids(`email=${encodeURIComponent(customer.email)}&service=tg`)).toEqual([]);
    expect(await ids(`email=${encodeURIComponent(customer.email)}&from=${new Date(Date.now() + 60_000).toISOString()}`)).toEqual([]);
    expect(await ids(`email=nobody-${randomUUID()}@nowhere.test`)).toEqual([]);
    const bad = await admin('GET', '/activations?from=yesterday-ish');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('detail: workflow state, timeline, money movements and the Temporal UI link', async () => {
    const { customer, activation } = await buy();
    // The purchase answers once its number is recorded, a moment before the workflow task that
    // bought it completes: until then the history has only the start and that task's first events.
    const { status, body } = await waitFor(async () => {
      const reply = await admin('GET', `/activations/${activation.id}`);
      return reply.status !== 200 || reply.body.workflow?.historyLength > 3 ? reply : null;
    });
    expect(status).toBe(200);
    expect(body.activation).toMatchObject({ id: activation.id, status: 'ACTIVE', userEmail: customer.email });
    expect(body.workflow).toMatchObject({ status: 'RUNNING', pendingActivities: expect.any(Array) });
    expect(body.workflow.historyLength).toBeGreaterThan(3);
    expect(body.timeline[0]).toMatchObject({ kind: 'workflow', title: 'Purchase started', detail: expect.stringContaining('wa in ID') });
    expect(body.timeline.some((e: { kind: string }) => e.kind === 'step')).toBe(true);
    expect(body.money.hold).toMatchObject({ key: activation.id, status: 'OPEN', amountMicros: activation.heldMicros });
    expect(body.money.entries).toEqual([expect.objectContaining({ kind: 'HOLD', availableDeltaMicros: `-${activation.heldMicros}` })]);
    expect(body.temporalUiUrl).toBe(`http://temporal-ui.test:8233/namespaces/default/workflows/${activation.id}/${body.workflow.runId}/history`);
  });

  it('a cancel the provider keeps refusing is stuck: found by the filter, its last error shown, retried on demand, then done', async () => {
    const { customer, activation } = await buy();
    await system.sim('POST', '/control/hero/faults', { action: 'setStatus', times: 10_000, reply: { status: 500, body: 'upstream down' } });
    try {
      const cancel = await admin('POST', `/activations/${activation.id}/cancel`);
      expect(cancel.status).toBe(202);
      // The activation's steps are local activities: a failed cancel shows as a failed step in the
      // timeline (its last error) and the workflow waits in phase CANCELLING before asking again.
      let detail: any;
      await waitFor(async () => {
        detail = (await admin('GET', `/activations/${activation.id}`)).body;
        return detail.workflow.searchAttributes.SimGatePhase === 'CANCELLING' && detail.timeline.some((e: { kind: string; title: string }) => e.kind === 'step-failed' && e.title.startsWith('cancelUpstream'));
      }, { timeoutMs: 45_000 });
      const failed = detail.timeline.find((e: { kind: string; title: string }) => e.kind === 'step-failed' && e.title.startsWith('cancelUpstream'));
      expect(failed.detail).toMatch(/500|upstream|transient/i);
      expect(detail.timeline.some((e: { kind: string }) => e.kind === 'cancel')).toBe(true);

      const stuck = await admin('GET', `/activations?stuckMinutes=0&email=${encodeURIComponent(customer.email)}`);
      expect(stuck.body.activations.map((a: { id: string }) => a.id)).toEqual([activation.id]);
      expect(stuck.body.stuckFrom.length).toBeGreaterThan(0);
      // Not stuck for an hour yet.
      const notYet = await admin('GET', `/activations?stuckMinutes=60&email=${encodeURIComponent(customer.email)}`);
      expect(notYet.body.activations).toEqual([]);

      const retried = await admin('POST', `/activations/${activation.id}/retry-step`);
      expect(retried.status).toBe(200);
      expect(retried.body.reset).toEqual([expect.stringContaining('CANCELLING')]);
      const audit = await admin('GET', `/audit?action=admin.activation.retry-step&targetId=${activation.id}`);
      expect(audit.body.entries).toHaveLength(1);
    } finally {
      await system.sim('DELETE', '/control/hero/faults');
    }
    await admin('POST', `/activations/${activation.id}/retry-step`);
    await waitFor(async () => (await admin('GET', `/activations/${activation.id}`)).body.activation.status === 'CANCELLED', { timeoutMs: 30_000 });
    const wallet = await system.request('GET', '/api/wallet', { token: customer.token });
    expect(wallet.body.wallet).toMatchObject({ availableMicros: '5000000', heldMicros: '0' });
    const none = await admin('POST', `/activations/${activation.id}/retry-step`);
    expect(none.status).toBe(409);
    expect(none.body.error.code).toBe('ACTIVATION_CLOSED');
  });

  it('terminate needs a reason, refunds the hold, closes the row, and is audited', async () => {
    const { customer, activation } = await buy();
    const noReason = await admin('POST', `/activations/${activation.id}/terminate`, {});
    expect(noReason.status).toBe(400);
    const done = await admin('POST', `/activations/${activation.id}/terminate`, { reason: 'provider lost the number' });
    expect(done.status).toBe(200);
    expect(done.body.activation).toMatchObject({ status: 'FAILED', failureReason: 'TERMINATED' });
    const wallet = await system.request('GET', '/api/wallet', { token: customer.token });
    expect(wallet.body.wallet).toMatchObject({ availableMicros: '5000000', heldMicros: '0' });
    const detail = (await admin('GET', `/activations/${activation.id}`)).body;
    expect(detail.workflow.status).toBe('TERMINATED');
    expect(detail.timeline.at(-1)).toMatchObject({ kind: 'problem', title: 'Workflow terminated', detail: expect.stringContaining('provider lost the number') });
    const audit = await admin('GET', `/audit?action=admin.activation.terminate&targetId=${activation.id}`);
    expect(audit.body.entries[0].details).toMatchObject({ reason: 'provider lost the number' });
    const again = await admin('POST', `/activations/${activation.id}/terminate`, { reason: 'twice' });
    expect(again.status).toBe(409);
    expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
  });

  it('settles one terminated from the Temporal UI (workflow gone, row and hold left open)', async () => {
    const { customer, activation } = await buy();
    await system.container.temporal.client.workflow.getHandle(activation.id).terminate('by hand in the Temporal UI');
    expect((await system.container.wallet.getWallet(customer.id)).heldMicros).toBeGreaterThan(0n);
    const settled = await admin('POST', `/activations/${activation.id}/terminate`, { reason: 'terminated in the UI, refund' });
    expect(settled.status).toBe(200);
    expect(settled.body.activation).toMatchObject({ status: 'FAILED', failureReason: 'TERMINATED' });
    expect((await system.request('GET', '/api/wallet', { token: customer.token })).body.wallet).toMatchObject({ availableMicros: '5000000', heldMicros: '0' });
    const audit = await admin('GET', `/audit?action=admin.activation.terminate&targetId=${activation.id}`);
    expect(audit.body.entries[0].details).toMatchObject({ workflowStatus: 'TERMINATED' });
    expect((await admin('POST', `/activations/${activation.id}/terminate`, { reason: 'again' })).status).toBe(409);
  });
});

describe('admin users and money', () => {
  it('debits with a reason, never below zero, idempotently; the user page shows wallet and ledger', async () => {
    const customer = await system.customer(3_000_000n);
    const key = `debit-${randomUUID()}`;
    const debit = (amountMicros: string, memo = 'duplicate credit', k = key) => admin('POST', `/wallets/${customer.id}/debit`, { amountMicros, memo }, { 'Idempotency-Key': k });
    expect((await debit('1000000', '')).status).toBe(400);
    const first = await debit('1000000');
    expect(first.status).toBe(200);
    expect(first.body.wallet.availableMicros).toBe('2000000');
    expect((await debit('1000000')).body.entry.id).toBe(first.body.entry.id);
    const tooMuch = await debit('2000001', 'too much', `debit-${randomUUID()}`);
    expect(tooMuch.status).toBe(402);
    expect(tooMuch.body.error.code).toBe('INSUFFICIENT_FUNDS');

    const page = await admin('GET', `/users/${customer.id}`);
    expect(page.body.user).toMatchObject({ email: customer.email, disabled: false });
    expect(page.body.wallet.availableMicros).toBe('2000000');
    expect(page.body.ledger.map((e: { kind: string; availableDelta: string }) => [e.kind, e.availableDelta])).toEqual([
      ['DEBIT', '-1000000'],
      ['CREDIT', '3000000'],
    ]);
    expect((await admin('GET', `/audit?action=admin.wallet.debit&targetId=${customer.id}`)).body.entries[0].details).toMatchObject({ reason: 'duplicate credit' });
    expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
    expect((await admin('GET', `/users/${randomUUID()}`)).status).toBe(404);
  });

  it('money, reconciliation and dashboard add up to what the books say', async () => {
    const { customer, activation } = await buy();
    const { activations } = await system.sim('GET', '/control/hero/activations');
    const upstream = activations.find((a: { phone: string }) => `+${a.phone}` === activation.phone);
    await system.sim('POST', `/control/hero/activations/${upstream.id}/sms`, { code: '424242' });
    await waitFor(async () => (await system.request('GET', `/api/numbers/${activation.id}`, { token: customer.token })).body.activation.messages.length > 0);
    await system.request('POST', `/api/numbers/${activation.id}/finish`, { token: customer.token });
    const row = await system.container.db.activation.findUniqueOrThrow({ where: { id: activation.id } });

    const from = new Date(row.createdAt.getTime() - 1).toISOString();
    const to = new Date(row.createdAt.getTime() + 1).toISOString();
    const money = await admin('GET', `/money?by=service&bucket=hour&from=${from}&to=${to}`);
    expect(money.status).toBe(200);
    expect(money.body.rows).toEqual([
      expect.objectContaining({ key: 'wa', bought: 1, sold: 1, revenueMicros: row.priceMicros!.toString(), costMicros: row.costMicros!.toString(), marginMicros: (row.priceMicros! - row.costMicros!).toString() }),
    ]);
    expect(money.body.totals.revenueMicros).toBe(row.priceMicros!.toString());

    const reconciliation = await admin('GET', '/reconciliation');
    expect(reconciliation.status).toBe(200);
    expect(reconciliation.body).toMatchObject({ lateSms: { count: expect.any(Number) }, orphans: { count: expect.any(Number) }, costRecoveredMicros: expect.stringMatching(/^\d+$/) });

    const dashboard = await admin('GET', '/dashboard?minutes=30');
    expect(dashboard.status).toBe(200);
    expect(dashboard.body.series.length).toBeGreaterThanOrEqual(30);
    expect(dashboard.body.series.reduce((n: number, p: { purchases: number }) => n + p.purchases, 0)).toBeGreaterThan(0);
    expect(dashboard.body.smsLatencyMs.samples).toBeGreaterThan(0);
    expect(dashboard.body.deliveryRate).toBeGreaterThan(0);
    expect(dashboard.body.providers.map((p: { providerId: string }) => p.providerId)).toContain('hero-sim');

    const providers = await admin('GET', '/providers');
    const hero = providers.body.providers.find((p: { id: string }) => p.id === 'hero-sim');
    expect(hero).toMatchObject({ breaker: 'closed', calls: { count: expect.any(Number) }, delivery: { bought: expect.any(Number) } });
    expect(hero.delivery.delivered).toBeGreaterThan(0);
    const probe = await admin('POST', '/providers/hero-sim/test-purchase', { service: 'wa', country: 'ID' });
    expect(probe.status).toBe(200);
    expect(probe.body.result).toMatchObject({ bought: { phone: expect.stringMatching(/^\+\d+$/) }, cancel: { ok: true } });
    const probed = (await system.sim('GET', '/control/hero/activations')).activations.find((a: { id: string | number }) => String(a.id) === probe.body.result.bought.upstreamId);
    expect(probed.state).toBe('CANCELLED');
    const claim = await system.container.db.upstreamClaim.findUnique({ where: { providerId_upstreamId: { providerId: 'hero-sim', upstreamId: probe.body.result.bought.upstreamId } } });
    expect(claim).toMatchObject({ activationId: null });
    expect((await admin('POST', '/providers/hero-sim/test-purchase', { service: 'wa', country: 'ZZ' })).status).toBe(409);
    const balance = await admin('GET', '/providers/hero-sim/balance');
    expect(balance.body.balance).toMatchObject({ micros: expect.stringMatching(/^\d+$/), usdMicros: expect.stringMatching(/^\d+$/) });
  });
});
