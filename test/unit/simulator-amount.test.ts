import { amountNumber, amountToMicros, formatAmount } from '../../src/simulator/amount';

describe('simulator amounts', () => {
  it('reads wire decimals and JSON numbers as exact micros', () => {
    expect(amountToMicros('0.35')).toBe(350_000n);
    expect(amountToMicros(' 0.014 ')).toBe(14_000n);
    expect(amountToMicros(0.014)).toBe(14_000n);
    expect(amountToMicros('12')).toBe(12_000_000n);
    expect(amountToMicros('0.0000001')).toBe(1n);
    expect(amountToMicros(1e-7)).toBe(1n);
    expect(() => amountToMicros('-1')).toThrow(RangeError);
    expect(() => amountToMicros('0,35')).toThrow(RangeError);
    expect(() => amountToMicros(Number.NaN)).toThrow(RangeError);
  });

  it('writes micros as the exact decimal, with at least two places', () => {
    expect(formatAmount(350_000n)).toBe('0.35');
    expect(formatAmount(14_000n)).toBe('0.014');
    expect(formatAmount(1_000_000_000n)).toBe('1000.00');
    expect(formatAmount(-10_000n)).toBe('-0.01');
    expect(amountNumber(350_000n)).toBe(0.35);
  });
});
