import { formatScaled, microsToMinor, minorToMicros, mulDiv, scaled } from '../../src/payments/amounts';

/** Processor amounts (decimal strings and JSON numbers) in bigint only. */
describe('payment amounts', () => {
  it('reads decimals as processors write them, exactly', () => {
    expect(scaled('10.523451')).toBe(10_523_451_000_000_000_000n);
    expect(scaled(0.00006)).toBe(60_000_000_000_000n);
    expect(scaled(25)).toBe(25n * 10n ** 18n);
    expect(scaled('1e5')).toBeNull();
    expect(scaled('-1')).toBeNull();
    expect(scaled(Number.NaN)).toBeNull();
    expect(scaled('12.')).toBeNull();
  });

  it('formats scaled integers without trailing zeros', () => {
    expect(formatScaled(60_000_000_000_000n, 18)).toBe('0.00006');
    expect(formatScaled(25_000_000n, 6)).toBe('25');
    expect(formatScaled(10_500_000n, 6)).toBe('10.5');
  });

  it('converts micros to minor units rounding up, and back rounding down', () => {
    expect(microsToMinor(10_000_000n, '1', 'usd')).toBe(1000n);
    expect(microsToMinor(10_000_001n, '1', 'usd')).toBe(1001n);
    // EUR at 1.08 USD: $10 is 9.26 EUR (9.259… rounded up).
    expect(microsToMinor(10_000_000n, '1.08', 'eur')).toBe(926n);
    expect(microsToMinor(10_000_000n, '0.0067', 'jpy')).toBe(1493n);
    expect(minorToMicros(590n, '1', 'usd')).toBe(5_900_000n);
    expect(minorToMicros(926n, '1.08', 'eur')).toBe(10_000_800n);
  });

  it('values a partial or over-payment in proportion, never with a float', () => {
    const asked = scaled('25')!;
    expect(mulDiv(25_000_000n, scaled('12.5')!, asked)).toBe(12_500_000n);
    expect(mulDiv(25_000_000n, scaled('30')!, asked)).toBe(30_000_000n);
    expect(mulDiv(1n, 1n, 0n)).toBe(0n);
  });
});
