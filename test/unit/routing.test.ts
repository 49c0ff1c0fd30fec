import { DEFAULT_SUCCESS_PPM, rankCandidates, routeCandidates, type RoutingHealth } from '../../src/providers/routing';

/** Routing order: expected cost of a successful activation = sell ÷ success rate, integer math. */
const candidate = (providerId: string, sellMicros: string) => ({ providerId, sellMicros, offerId: `offer-${providerId}` });
const health = (successPpm: number, extra: Partial<RoutingHealth> = {}): RoutingHealth => ({ available: true, successPpm, errorRate: 0, ...extra });
const ids = (list: { providerId: string }[]) => list.map((c) => c.providerId);

describe('rankCandidates', () => {
  test('with equal success rates the cheaper provider goes first', () => {
    const ranked = rankCandidates([candidate('b', '150000'), candidate('a', '100000')], new Map([['a', health(900_000)], ['b', health(900_000)]]));
    expect(ids(ranked)).toEqual(['a', 'b']);
  });

  test('a dearer provider that delivers wins over a cheap one that does not', () => {
    // 0.10 / 0.5 = 0.20 per success; 0.15 / 0.95 ≈ 0.158 per success.
    const ranked = rankCandidates([candidate('cheap', '100000'), candidate('reliable', '150000')], {
      cheap: health(500_000),
      reliable: health(950_000),
    });
    expect(ids(ranked)).toEqual(['reliable', 'cheap']);
  });

  test('but not at any price: the cheap one wins again when the gap is wide enough', () => {
    // 0.10 / 0.5 = 0.20; 0.25 / 0.95 ≈ 0.263.
    const ranked = rankCandidates([candidate('reliable', '250000'), candidate('cheap', '100000')], {
      cheap: health(500_000),
      reliable: health(950_000),
    });
    expect(ids(ranked)).toEqual(['cheap', 'reliable']);
  });

  test('equal expected cost: cheaper first, then the lower error rate, then the provider id', () => {
    // 0.10 / 0.5 = 0.20 = 0.16 / 0.8.
    const costTie = rankCandidates([candidate('x', '160000'), candidate('y', '100000')], { x: health(800_000), y: health(500_000) });
    expect(ids(costTie)).toEqual(['y', 'x']);

    const priceTie = rankCandidates([candidate('p', '100000'), candidate('q', '100000')], {
      p: health(800_000, { errorRate: 0.2 }),
      q: health(800_000, { errorRate: 0.05 }),
    });
    expect(ids(priceTie)).toEqual(['q', 'p']);

    const fullTie = rankCandidates([candidate('n', '100000'), candidate('m', '100000')], {});
    expect(ids(fullTie)).toEqual(['m', 'n']);
  });

  test('providers whose breaker is open are skipped, and say why', () => {
    const routing = routeCandidates([candidate('down', '50000'), candidate('up', '90000')], { down: health(990_000, { available: false }), up: health(700_000) });
    expect(ids(routing.ranked)).toEqual(['up']);
    expect(routing.skipped).toEqual([{ candidate: expect.objectContaining({ providerId: 'down' }), reason: 'CIRCUIT_OPEN' }]);
  });

  test('the ceiling is honoured, inclusive, as bigint or string', () => {
    const list = [candidate('a', '100000'), candidate('b', '200000'), candidate('c', '200001')];
    expect(ids(rankCandidates(list, {}, { maxPriceMicros: 200_000n }))).toEqual(['a', 'b']);
    expect(ids(rankCandidates(list, {}, { maxPriceMicros: '100000' }))).toEqual(['a']);
    expect(ids(rankCandidates(list, {}, { maxPriceMicros: null }))).toEqual(['a', 'b', 'c']);
    expect(routeCandidates(list, {}, { maxPriceMicros: 150_000n }).skipped.map((s) => [s.candidate.providerId, s.reason])).toEqual([
      ['b', 'ABOVE_MAX_PRICE'],
      ['c', 'ABOVE_MAX_PRICE'],
    ]);
  });

  test('a provider without health data gets the prior (80 %) and is available', () => {
    // unknown: 0.10 / 0.8 = 0.125; known: 0.11 / 0.9 ≈ 0.122.
    const ranked = rankCandidates([candidate('unknown', '100000'), candidate('known', '110000')], { known: health(900_000) });
    expect(ids(ranked)).toEqual(['known', 'unknown']);
    expect(DEFAULT_SUCCESS_PPM).toBe(800_000);
    expect(ids(rankCandidates([candidate('unknown', '100000'), candidate('known', '110000')], { known: health(900_000) }, { defaultSuccessPpm: 950_000 }))).toEqual([
      'unknown',
      'known',
    ]);
  });

  test('a route that never delivered sorts last instead of dividing by zero', () => {
    const ranked = rankCandidates([candidate('never', '10000'), candidate('ok', '900000')], { never: health(0), ok: health(600_000) });
    expect(ids(ranked)).toEqual(['ok', 'never']);
  });

  test('exact at large amounts: no float rounding', () => {
    // 9,007,199,254.740993 USD vs one micro more, identical success rates: the cheaper one first.
    const big = 9_007_199_254_740_993n;
    const ranked = rankCandidates([candidate('more', (big + 1n).toString()), candidate('less', big.toString())], { more: health(999_999), less: health(999_999) });
    expect(ids(ranked)).toEqual(['less', 'more']);
  });

  test('returns a new array and leaves the input alone; an empty list stays empty', () => {
    const list = [candidate('b', '2'), candidate('a', '1')];
    const ranked = rankCandidates(list, {});
    expect(ranked).not.toBe(list);
    expect(ids(list)).toEqual(['b', 'a']);
    expect(rankCandidates([], {})).toEqual([]);
  });

  test('keeps the caller’s extra fields (PurchaseCandidate shape)', () => {
    const [first] = rankCandidates([candidate('a', '1')], {});
    expect(first).toEqual({ providerId: 'a', sellMicros: '1', offerId: 'offer-a' });
  });
});
