import { convertMicros, decimalToMicros, formatUsd, sellPrice } from '../../src/lib/money';

describe('money', () => {
  it('parses provider decimals to micros without floating point error', () => {
    expect(decimalToMicros('0.35')).toBe(350_000n);
    expect(decimalToMicros(0.1 + 0.2 > 0.3 ? 0.3 : 0.3)).toBe(300_000n);
    expect(decimalToMicros(0.014)).toBe(14_000n);
    expect(decimalToMicros('12')).toBe(12_000_000n);
    expect(decimalToMicros('0.0000001')).toBe(1n); // rounds up past six places
    expect(() => decimalToMicros('-1')).toThrow(RangeError);
    expect(() => decimalToMicros('abc')).toThrow(RangeError);
  });

  it('converts currency with a decimal rate, rounding up', () => {
    expect(convertMicros(100_000_000n, '0.0108')).toBe(1_080_000n);
    expect(convertMicros(1n, '0.5')).toBe(1n);
    expect(convertMicros(350_000n, '1')).toBe(350_000n);
  });

  it('marks up and rounds the sell price up to a whole cent', () => {
    expect(sellPrice(350_000n, 2500)).toBe(440_000n); // 0.4375 → 0.44
    expect(sellPrice(14_000n, 2500)).toBe(20_000n); // 0.0175 → 0.02
    expect(sellPrice(400_000n, 0)).toBe(400_000n);
    expect(sellPrice(400_000n, 2500) % 10_000n).toBe(0n);
  });

  it('formats micros for people', () => {
    expect(formatUsd(440_000n)).toBe('0.44');
    expect(formatUsd(12_000_000n)).toBe('12.00');
    expect(formatUsd(-10_000n)).toBe('-0.01');
    expect(formatUsd(14_000n)).toBe('0.014');
  });
});
