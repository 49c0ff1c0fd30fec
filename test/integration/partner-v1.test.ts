import { randomUUID } from 'node:crypto';
import { startSystem, TENANT_PROVIDER, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';
import { createKey, partnerCall, type PartnerKey } from './security/helpers';

/** /api/v1 beyond buying: paging and filtering activations, an activation's SMS, the ledger, prices with delivery rates. */
describe('partner API v1: lists, SMS, ledger, prices', () => {
  let system: TestSystem;
  let buyer: PartnerKey;
  let countries: string[];
  const ids: string[] = [];

  beforeAll(async () => {
    // Its own health counters: other systems of the run sell the same provider ids' numbers.
    system = await startSystem({ env: { HEALTH_KEY_PREFIX: `sg-test-health:${randomUUID()}:` } });
    const owner = await system.customer(100_000_000n);
    buyer = await createKey(system, owner.token, ['purchase']);
    const offers = await system.container.db.offer.findMany({ where: { serviceCode: 'tg', stock: { gt: 0 }, providerId: { in: Object.values(TENANT_PROVIDER) } }, orderBy: { countryIso: 'asc' } });
    countries = [...new Set(offers.map((o) => o.countryIso))].slice(0, 2);
    // Five purchases: three in the first country, two in the second.
    for (const country of [countries[0], countries[1], countries[0], countries[1], countries[0]]) {
      const bought = await partnerCall(system, buyer, 'POST', '/api/v1/numbers', { sign: true, body: { service: 'tg', country } });
      expect(bought.status).toBe(201);
      ids.push(bought.body.activation.id);
    }
  });
  afterAll(async () => {
    await system?.stop();
  });

  it('pages through activations newest first with a cursor, never repeating or skipping one', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: any } = await partnerCall(system, buyer, 'GET', `/api/v1/numbers?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.activations.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.activations.map((a: { id: string }) => a.id));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(seen).toEqual([...ids].reverse());
    expect(pages).toBe(3);
  });

  it('filters by country, service and status', async () => {
    const inFirst = await partnerCall(system, buyer, 'GET', `/api/v1/numbers?country=${countries[0].toLowerCase()}`);
    expect(inFirst.body.activations.map((a: { id: string }) => a.id)).toEqual([ids[4], ids[2], ids[0]]);
    const wrongService = await partnerCall(system, buyer, 'GET', '/api/v1/numbers?service=wa');
    expect(wrongService.body).toEqual({ activations: [], nextCursor: null });
    const active = await partnerCall(system, buyer, 'GET', '/api/v1/numbers?status=ACTIVE&limit=100');
    expect(active.body.activations).toHaveLength(5);
    const cancelled = await partnerCall(system, buyer, 'GET', '/api/v1/numbers?status=CANCELLED');
    expect(cancelled.body.activations).toEqual([]);
    const bad = await partnerCall(system, buyer, 'GET', '/api/v1/numbers?cursor=99999999999999999999');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('lists an activation\'s SMS, oldest first', async () => {
    const id = ids[0];
    expect((await partnerCall(system, buyer, 'GET', `/api/v1/numbers/${id}/sms`)).body).toEqual({ messages: [] });
    const row = await system.container.db.activation.findUniqueOrThrow({ where: { id } });
    const tenant = Object.entries(TENANT_PROVIDER).find(([, provider]) => provider === row.providerId)![0];
    await system.sim('POST', `/control/${tenant}/activations/${row.upstreamId}/sms`, { code: '11111' });
    await waitFor(async () => (await partnerCall(system, buyer, 'GET', `/api/v1/numbers/${id}/sms`)).body.messages.length === 1, { timeoutMs: 20_000, intervalMs: 200 });
    const messages = (await partnerCall(system, buyer, 'GET', `/api/v1/numbers/${id}/sms`)).body.messages;
    expect(messages).toEqual([expect.objectContaining({ seq: 1, code: '11111' })]);
    const stranger = await createKey(system, (await system.customer(0n)).token, ['read']);
    expect((await partnerCall(system, stranger, 'GET', `/api/v1/numbers/${id}/sms`)).status).toBe(404);
  });

  it('shows the ledger newest first with a cursor, adding up to the balance', async () => {
    const entries: { id: string; kind: string; availableDelta: string }[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: any } = await partnerCall(system, buyer, 'GET', `/api/v1/ledger?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      entries.push(...page.body.entries);
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(entries.map((e) => BigInt(e.id))).toEqual([...entries.map((e) => BigInt(e.id))].sort((a, b) => (a > b ? -1 : 1)));
    expect(entries.filter((e) => e.kind === 'CREDIT')).toHaveLength(1);
    expect(entries.filter((e) => e.kind === 'HOLD').length).toBeGreaterThanOrEqual(5);
    const balance = (await partnerCall(system, buyer, 'GET', '/api/v1/balance')).body.wallet.availableMicros;
    expect(entries.reduce((sum, e) => sum + BigInt(e.availableDelta), 0n).toString()).toBe(balance);
  });

  it('lists prices per service × country with the stock at each price and the delivery rate', async () => {
    const all = await partnerCall(system, buyer, 'GET', '/api/v1/prices?service=tg&limit=500');
    expect(all.status).toBe(200);
    const offers = await system.container.catalog.offersForService('tg');
    expect(all.body.prices.map((p: { countryIso: string }) => p.countryIso).sort()).toEqual(offers.map((o) => o.countryIso).sort());
    const cell = all.body.prices.find((p: { countryIso: string }) => p.countryIso === countries[0]);
    const offer = offers.find((o) => o.countryIso === countries[0])!;
    expect(cell).toMatchObject({ serviceCode: 'tg', priceMicros: offer.priceMicros, stock: offer.stock });
    expect(cell.levels.reduce((sum: number, level: { stock: number }) => sum + level.stock, 0)).toBe(offer.stock);
    expect(cell.levels[0].priceMicros).toBe(offer.priceMicros);
    // Three numbers sold there, one of which got an SMS (the test above).
    expect(cell.sold).toBe(3);
    expect(cell.successRate).toBeCloseTo(1 / 3, 5);
    const unsold = all.body.prices.find((p: { countryIso: string }) => !countries.includes(p.countryIso));
    if (unsold) expect(unsold).toMatchObject({ sold: 0, successRate: null });

    const one = await partnerCall(system, buyer, 'GET', `/api/v1/prices?service=tg&country=${countries[0]}`);
    expect(one.body.prices).toEqual([cell]);
    expect((await partnerCall(system, buyer, 'GET', '/api/v1/prices?service=nope')).status).toBe(404);
    expect((await partnerCall(system, buyer, 'GET', '/api/v1/prices?country=QQ')).status).toBe(404);
  });

  it('returns only the fields its document names for services', async () => {
    const services = await partnerCall(system, buyer, 'GET', '/api/v1/catalog/services?q=telegram&limit=1');
    expect(Object.keys(services.body.services[0]).sort()).toEqual(['bestPriceMicros', 'code', 'match', 'name', 'score', 'stock', 'topCountries']);
  });
});
