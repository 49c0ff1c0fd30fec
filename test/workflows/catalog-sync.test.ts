/**
 * Catalog sync as a Temporal Schedule, on the run's dev server with real components: the
 * simulator over HTTP, the real SMS-Activate adapters from the registry, the run's database.
 * The sync upserts offers (a price changed at the simulator shows up), a failing provider is
 * reported without blocking the others, offers a provider no longer lists go out of stock, a
 * re-run changes nothing, and the Schedule exists, is updated in place and runs when triggered.
 */
import { randomUUID } from 'node:crypto';
import { sellPrice } from '../../src/lib/money';
import { ensureCatalogSyncSchedule, triggerCatalogSync } from '../../src/temporal/schedules';
import { catalogSyncWorkflow } from '../../workflows/catalog-sync';
import type { CatalogSyncResult } from '../../workflows/contracts';
import { useWorkflowTests } from './harness';
import { COUNTRY, SERVICE, activityAttempts, waitFor, type Scenario, type TenantId } from './support';

const wf = useWorkflowTests('dev-server');

/** The scenario's (tg, ID) offer of one tenant. */
async function offerOf(s: Scenario, tenant: TenantId) {
  const offer = await wf.infra.db.offer.findUniqueOrThrow({
    where: { providerId_serviceCode_countryIso: { providerId: s.providerId[tenant], serviceCode: SERVICE, countryIso: COUNTRY } },
  });
  return { costMicros: offer.costMicros, sellMicros: offer.sellMicros, stock: offer.stock };
}

/** Every offer of the scenario's providers, comparable across runs. */
async function allOffers(s: Scenario) {
  const rows = await wf.infra.db.offer.findMany({
    where: { providerId: { in: Object.values(s.providerId) } },
    orderBy: [{ providerId: 'asc' }, { serviceCode: 'asc' }, { countryIso: 'asc' }],
  });
  return rows.map((r) => `${r.providerId} ${r.serviceCode} ${r.countryIso} ${r.costMicros} ${r.sellMicros} ${r.stock}`);
}

describe('catalog sync workflow (dev server)', () => {
  it('upserts every provider\'s offers, picks up a price change at the provider, and a re-run changes nothing', async () => {
    const s = await wf.scenario();
    const { worker, taskQueue } = await wf.worker(s, 'catalog-sync');
    await s.setOffer('hero', { price: '0.150', stock: 7 });
    await s.setOffer('activate', { stock: 3 });

    const { first, second, before, after } = await worker.runUntil(async () => {
      const first = await wf.client.workflow.execute(catalogSyncWorkflow, { taskQueue, workflowId: `catalog-sync-test-${randomUUID()}` });
      const before = await allOffers(s);
      const second = await wf.client.workflow.execute(catalogSyncWorkflow, { taskQueue, workflowId: `catalog-sync-test-${randomUUID()}` });
      return { first, second, before, after: await allOffers(s) };
    });

    expect(first.failed).toEqual([]);
    expect(first.indexed).toBe(true);
    expect(first.synced.map((x) => x.providerId).sort()).toEqual(Object.values(s.providerId).sort());
    for (const synced of first.synced) expect(synced.upserted).toBeGreaterThan(100); // the simulator's whole catalog
    expect(await offerOf(s, 'hero')).toEqual({ costMicros: 150_000n, sellMicros: sellPrice(150_000n, 2500), stock: 7 });
    expect(sellPrice(150_000n, 2500)).toBe(190_000n);
    expect(await offerOf(s, 'activate')).toEqual({ costMicros: 200_000n, sellMicros: 250_000n, stock: 3 });

    // Idempotent: the same answer from the providers, the same catalog.
    expect(second).toEqual(first);
    expect(after).toEqual(before);
  });

  it('a failing provider is retried, reported and does not block the others; offers a provider no longer lists go out of stock', async () => {
    const s = await wf.scenario();
    const { worker, taskQueue } = await wf.worker(s, 'catalog-sync-fail');
    // hero's price list fails for longer than the activity's three attempts.
    await s.fault('hero', { action: 'getPrices', times: 10, reply: { status: 503 } });
    await s.setOffer('hero', { price: '0.900' });
    await s.setOffer('activate', { price: '0.300', stock: 11 });
    // An offer activate sold once but lists no more (a pair the simulator does not sell).
    const [gone] = await wf.infra.db.$queryRaw<{ code: string; iso2: string }[]>`
      SELECT s.code, c.iso2 FROM services s CROSS JOIN countries c
      WHERE NOT EXISTS (SELECT 1 FROM offers o WHERE o.provider_id = ${s.providerId.activate} AND o.service_code = s.code AND o.country_iso = c.iso2)
      LIMIT 1`;
    await wf.infra.db.offer.create({
      data: { providerId: s.providerId.activate, serviceCode: gone.code, countryIso: gone.iso2, upstreamService: 'zz', upstreamCountry: '999', costMicros: 1n, sellMicros: 10_000n, stock: 9 },
    });

    const workflowId = `catalog-sync-test-${randomUUID()}`;
    const { result, attempts } = await worker.runUntil(async () => {
      const handle = await wf.client.workflow.start(catalogSyncWorkflow, { taskQueue, workflowId });
      const result: CatalogSyncResult = await handle.result();
      return { result, attempts: await activityAttempts(handle) };
    });

    expect(result.synced.map((x) => x.providerId)).toEqual([s.providerId.activate]);
    expect(result.failed).toEqual([{ providerId: s.providerId.hero, type: 'PROVIDER_TRANSIENT', message: expect.any(String) }]);
    expect(result.indexed).toBe(true);
    expect(attempts.filter((a) => a.activity === 'syncProviderCatalog' && a.outcome === 'failed')).toEqual([
      { activity: 'syncProviderCatalog', attempt: 3, outcome: 'failed' },
    ]);
    // hero keeps what it had (its old price, in stock); activate is up to date.
    expect(await offerOf(s, 'hero')).toEqual({ costMicros: 100_000n, sellMicros: 130_000n, stock: 50 });
    expect(await offerOf(s, 'activate')).toEqual({ costMicros: 300_000n, sellMicros: sellPrice(300_000n, 2500), stock: 11 });
    const vanished = await wf.infra.db.offer.findUniqueOrThrow({
      where: { providerId_serviceCode_countryIso: { providerId: s.providerId.activate, serviceCode: gone.code, countryIso: gone.iso2 } },
    });
    expect(vanished.stock).toBe(0);
  });

  it('the Schedule is created (interval, SKIP), updated in place when ensured again, and a trigger runs a sync', async () => {
    const s = await wf.scenario();
    const { worker, taskQueue } = await wf.worker(s, 'catalog-schedule');
    const scheduleId = `catalog-sync-test-${randomUUID()}`;

    const handle = wf.client.schedule.getHandle(scheduleId);
    try {
      expect(await ensureCatalogSyncSchedule(wf.client, { taskQueue, every: '15 minutes', scheduleId })).toEqual({ scheduleId, created: true });
      const described = await handle.describe();
      expect(described.spec.intervals).toEqual([expect.objectContaining({ every: 15 * 60_000 })]);
      expect(described.policies.overlap).toBe('SKIP');
      expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'catalogSyncWorkflow', taskQueue });
      expect(described.state.paused).toBe(false);

      // Ensured again (another worker starting, a changed interval): updated, not duplicated or failed.
      expect(await ensureCatalogSyncSchedule(wf.client, { taskQueue, every: '10 minutes', scheduleId })).toEqual({ scheduleId, created: false });
      const updated = await handle.describe();
      expect(updated.spec.intervals).toEqual([expect.objectContaining({ every: 10 * 60_000 })]);
      expect(updated.policies.overlap).toBe('SKIP');
      expect(updated.info.recentActions).toEqual([]);

      await s.setOffer('hero', { price: '0.400', stock: 4 });
      const result = await worker.runUntil(async () => {
        await triggerCatalogSync(wf.client, { scheduleId });
        const action = await waitFor(async () => (await handle.describe()).info.recentActions[0], { timeoutMs: 20_000, intervalMs: 200 });
        const run = wf.client.workflow.getHandle(action.action.workflow.workflowId);
        expect(run.workflowId.startsWith(scheduleId)).toBe(true);
        return (await run.result()) as CatalogSyncResult;
      });
      expect(result.failed).toEqual([]);
      expect(result.synced).toHaveLength(2);
      expect(await offerOf(s, 'hero')).toEqual({ costMicros: 400_000n, sellMicros: sellPrice(400_000n, 2500), stock: 4 });
    } finally {
      await handle.delete().catch(() => undefined);
    }
  });
});
