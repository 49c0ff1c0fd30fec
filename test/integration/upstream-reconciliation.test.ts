import { randomUUID } from 'node:crypto';
import { ensureProviderInbox } from '../../src/temporal/schedules';
import { providerInboxWorkflowId } from '../../workflows/contracts';
import { startSystem, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';

/**
 * The money SimGate pays providers (DESIGN.md "Reconciliation"): a buy whose reply is lost is
 * not repeated blindly, and every number the provider sold that no purchase owns is cancelled
 * at the provider (or, with an SMS, counted as a loss) and kept as an ORPHAN_NUMBER incident.
 * One simulator tenant, so every purchase and every orphan is at the provider under test.
 */

const PROVIDER = 'hero-sim';
const WANTED = { service: 'wa', country: 'ID' };

interface SimActivation {
  id: number;
  phone: string;
  state: string;
  codes: string[];
  cost: string;
}

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({
    tenants: () => [{ id: 'hero', apiKey: 'sim-hero-key', errorStyle: 'hero', minCancelMs: 0 }],
    // A short call budget, so a slow provider answers after we stopped listening.
    providers: { [PROVIDER]: { requestTimeoutMs: 1000 } },
    // Only the provider's inbox (with its reconciliation) looks at the provider in these tests.
    polling: { initialMs: 600_000, maxMs: 600_000 },
  });
});
afterAll(async () => {
  await system?.container.temporal.client.workflow.getHandle(providerInboxWorkflowId(PROVIDER)).terminate('test over').catch(() => undefined);
  await system?.stop();
});

const simActivations = async (): Promise<SimActivation[]> => (await system.sim('GET', '/control/hero/activations')).activations;

/** The provider's own ids for what we buy, as the catalog stored them. */
async function upstreamIds() {
  const offer = await system.container.db.offer.findFirstOrThrow({ where: { providerId: PROVIDER, serviceCode: WANTED.service, countryIso: WANTED.country } });
  return { service: offer.upstreamService, country: offer.upstreamCountry };
}

/** A number bought at the provider behind SimGate's back: what a lost reply leaves. */
async function buyBehindOurBack(): Promise<string> {
  const { service, country } = await upstreamIds();
  const reply = await fetch(`${system.simulatorUrl}/hero/stubs/handler_api.php?api_key=sim-hero-key&action=getNumber&service=${service}&country=${country}`);
  const text = await reply.text();
  const match = /^ACCESS_NUMBER:(\d+):/.exec(text);
  if (!match) throw new Error(`the simulator did not sell: ${text}`);
  return match[1];
}

describe('a buy whose outcome is unknown', () => {
  it('is not repeated: the next attempt finds the number the provider sold and records it', async () => {
    const customer = await system.customer();
    const before = (await simActivations()).length;
    // The provider sells, but only after our 1 s budget: the first attempt times out.
    await system.sim('POST', '/control/hero/faults', { action: 'getNumberV2', times: 1, reply: { latencyMs: 1500 } });

    const bought = await system.request('POST', '/api/numbers', { token: customer.token, headers: { 'Idempotency-Key': randomUUID() }, body: WANTED });
    expect(bought.status).toBe(201);
    expect(bought.body.activation).toMatchObject({ status: 'ACTIVE', providerId: PROVIDER });

    const sold = (await simActivations()).slice(before);
    expect(sold).toHaveLength(1);
    expect(`+${sold[0].phone}`).toBe(bought.body.activation.phone);
    const row = await system.container.db.activation.findUniqueOrThrow({ where: { id: bought.body.activation.id } });
    expect(row.upstreamId).toBe(String(sold[0].id));
  });

  it('is not repeated when the lost number already got its SMS: the next attempt takes it, SMS and all', async () => {
    const customer = await system.customer();
    const before = (await simActivations()).length;
    // Every number sold gets a code at once, so it is there before the retry looks.
    await system.sim('PATCH', '/control/hero/settings', { autoSms: { probability: 1, minDelayMs: 0, maxDelayMs: 0 } });
    try {
      await system.sim('POST', '/control/hero/faults', { action: 'getNumberV2', times: 1, reply: { latencyMs: 1500 } });
      const bought = await system.request('POST', '/api/numbers', { token: customer.token, headers: { 'Idempotency-Key': randomUUID() }, body: WANTED });
      expect(bought.status).toBe(201);

      const sold = (await simActivations()).slice(before);
      expect(sold).toHaveLength(1);
      expect(sold[0].codes).toHaveLength(1);
      expect(`+${sold[0].phone}`).toBe(bought.body.activation.phone);
      // The SMS came before the number was ours, so the webhook found no activation: the inbox sees it.
      await startReconciling();
      const withCode = await waitFor(
        async () => {
          const reply = await system.request('GET', `/api/numbers/${bought.body.activation.id}`, { token: customer.token });
          return reply.body.activation.messages.length > 0 ? reply.body.activation : null;
        },
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      expect(withCode.messages[0].code).toBe(sold[0].codes[0]);
    } finally {
      await system.sim('PATCH', '/control/hero/settings', { autoSms: null });
    }
  });
});

/** This test's own provider inbox with a fast reconciliation, replacing any other run's. */
async function startReconciling() {
  const inboxId = providerInboxWorkflowId(PROVIDER);
  await system.container.temporal.client.workflow.getHandle(inboxId).terminate('a fresh poller for this test').catch(() => undefined);
  await ensureProviderInbox(system.container.temporal.client, {
    providerId: PROVIDER,
    taskQueue: system.config.env.TEMPORAL_TASK_QUEUE,
    intervalMs: 200,
    reconcileEveryMs: 200,
    orphanGraceMs: 1000,
  });
}

type Incident = { kind: string; upstreamId: string; activationId: string | null; details: { outcome: string; costMicros: string | null; recoveredMicros: string | null; lossMicros: string | null } };

async function incidentsOf(kind: string, upstreamIds: string[]): Promise<Incident[]> {
  const { body } = await system.request('GET', '/api/admin/incidents', { token: system.adminToken });
  return (body.incidents as Incident[]).filter((i) => i.kind === kind && upstreamIds.includes(i.upstreamId));
}

describe('reconciliation with the provider', () => {
  it('cancels numbers nobody owns (cost recovered), finishes one that got an SMS (a loss), and leaves purchases alone', async () => {
    const customer = await system.customer();
    const owned = await system.request('POST', '/api/numbers', { token: customer.token, headers: { 'Idempotency-Key': randomUUID() }, body: WANTED });
    expect(owned.status).toBe(201);

    const orphan = await buyBehindOurBack();
    const orphanWithSms = await buyBehindOurBack();
    await system.sim('POST', `/control/hero/activations/${orphanWithSms}/sms`, { code: '424242' });

    await startReconciling();

    const settled = await waitFor(
      async () => {
        const ours = await incidentsOf('ORPHAN_NUMBER', [orphan, orphanWithSms]);
        return ours.length === 2 && ours.every((i) => i.details.outcome !== 'CANCEL_PENDING') ? ours : null;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );

    const at = new Map((await simActivations()).map((a) => [String(a.id), a]));
    const costOf = (id: string) => {
      const [whole, fraction = ''] = at.get(id)!.cost.split('.');
      return String(BigInt(whole) * 1_000_000n + BigInt(fraction.padEnd(6, '0').slice(0, 6)));
    };
    const cancelled = settled.find((i) => i.upstreamId === orphan)!;
    expect(cancelled.details).toMatchObject({ outcome: 'CANCELLED', costMicros: costOf(orphan), recoveredMicros: costOf(orphan), lossMicros: null });
    expect(at.get(orphan)!.state).toBe('CANCELLED');
    const lost = settled.find((i) => i.upstreamId === orphanWithSms)!;
    expect(lost.details).toMatchObject({ outcome: 'SMS_RECEIVED', costMicros: costOf(orphanWithSms), recoveredMicros: null, lossMicros: costOf(orphanWithSms) });
    expect(at.get(orphanWithSms)!.state).toBe('DONE');

    // The purchase SimGate made is nobody's orphan: still waiting for its SMS.
    const ownedRow = await system.container.db.activation.findUniqueOrThrow({ where: { id: owned.body.activation.id } });
    expect(at.get(ownedRow.upstreamId!)!.state).not.toBe('CANCELLED');
    expect(await system.container.db.upstreamIncident.count({ where: { kind: 'ORPHAN_NUMBER', providerId: PROVIDER, upstreamId: ownedRow.upstreamId } })).toBe(0);
  });

  it('finds what our records say and the provider does not: a refund that never came, a number the provider closed behind our back', async () => {
    const customer = await system.customer();
    const buy = async () => {
      const bought = await system.request('POST', '/api/numbers', { token: customer.token, headers: { 'Idempotency-Key': randomUUID() }, body: WANTED });
      expect(bought.status).toBe(201);
      return (await system.container.db.activation.findUniqueOrThrow({ where: { id: bought.body.activation.id } }));
    };

    // The provider answers our cancel "ACCESS_CANCEL" but keeps the number open: no refund.
    const unrefunded = await buy();
    await system.sim('POST', '/control/hero/faults', { action: 'setStatus', times: 1, reply: { token: 'ACCESS_CANCEL' } });
    const cancelled = await system.request('POST', `/api/numbers/${unrefunded.id}/cancel`, { token: customer.token });
    expect(cancelled.body.activation.status).toBe('CANCELLED');

    // The provider cancels a number we hold ACTIVE, and tells us nothing.
    const vanished = await buy();
    const reply = await fetch(`${system.simulatorUrl}/hero/stubs/handler_api.php?api_key=sim-hero-key&action=setStatus&status=8&id=${vanished.upstreamId}`);
    expect(await reply.text()).toBe('ACCESS_CANCEL');

    await startReconciling();
    const [refund] = await waitFor(async () => {
      const found = await incidentsOf('REFUND_MISSING', [unrefunded.upstreamId!]);
      return found.length === 1 ? found : null;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    expect(refund).toMatchObject({ activationId: unrefunded.id, details: { costMicros: unrefunded.costMicros!.toString() } });
    const [missing] = await waitFor(async () => {
      const found = await incidentsOf('UPSTREAM_MISSING', [vanished.upstreamId!]);
      return found.length === 1 ? found : null;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    expect(missing).toMatchObject({ activationId: vanished.id });
  });
});
