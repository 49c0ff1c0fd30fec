import { createSimulator, type SimTenant } from '../../src/simulator';

/**
 * The demo's randomness: phones, codes and which numbers get an automatic SMS come from the
 * tenant's event seed. The same seed replays (tests rely on it), another seed draws anew —
 * `npm start` passes a fresh one per start, so a restart does not repeat the same misses.
 */
async function purchases(eventSeed: number | undefined, count: number, probability = 0.9) {
  const simulator = createSimulator({ tenants: [{ id: 'hero', apiKey: 'k', errorStyle: 'hero', eventSeed, autoSms: { probability, minDelayMs: 1, maxDelayMs: 5 } }], sweepIntervalMs: 0 });
  const tenant = simulator.tenants.get('hero') as SimTenant;
  tenant.setBalance(1_000_000_000_000n);
  // One offer, stocked up: the catalog seed is the same in every run.
  const offer = tenant.setOffer({ ...tenant.catalog.listOffers()[0], stock: 1000 });
  const bought = Array.from({ length: count }, () => tenant.buy({ service: offer.service, country: offer.country }));
  await new Promise((resolve) => setTimeout(resolve, 50));
  const withSms = bought.filter((b) => (tenant.find(b.id)?.sms.length ?? 0) > 0).length;
  await simulator.close();
  return { phones: bought.map((b) => b.phone), withSms };
}

describe('simulator event seed', () => {
  it('replays with the same seed and draws anew with another', async () => {
    expect((await purchases(7, 5)).phones).toEqual((await purchases(7, 5)).phones);
    expect((await purchases(undefined, 5)).phones).toEqual((await purchases(undefined, 5)).phones);
    expect((await purchases(7, 5)).phones).not.toEqual((await purchases(8, 5)).phones);
  });

  it('gives most numbers an SMS at the demo rate, whatever the seed', async () => {
    for (const seed of [1, 2, 3, 2 ** 31, 4_000_000_000]) {
      const { withSms } = await purchases(seed, 40);
      expect(withSms).toBeGreaterThanOrEqual(28);
    }
  });
});
