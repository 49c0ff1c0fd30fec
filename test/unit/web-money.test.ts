import { formatDelta, formatUsd, parseDollars, toMicros } from '../../ui/money';

/** Money as customers see it: integer micro-dollar strings in, exact text out, never a float. */
describe('web money formatting', () => {
  it.each([
    ['440000', '$0.44'],
    ['0', '$0.00'],
    ['1000000', '$1.00'],
    ['1234500000', '$1,234.50'],
    ['14000', '$0.014'],
    ['1', '$0.000001'],
    ['-440000', '-$0.44'],
    ['9007199254740993000', '$9,007,199,254,740.993'],
  ])('formatUsd(%s) = %s', (micros, text) => {
    expect(formatUsd(micros)).toBe(text);
  });

  it('shows a dash for anything that is not an integer amount', () => {
    for (const bad of [null, undefined, '', '1.5', 'abc', '1e6']) expect(formatUsd(bad)).toBe('—');
  });

  it('signs ledger deltas and hides zero', () => {
    expect(formatDelta('1000000')).toBe('+$1.00');
    expect(formatDelta('-440000')).toBe('-$0.44');
    expect(formatDelta('0')).toBe('—');
  });

  it('parses typed dollars exactly', () => {
    expect(parseDollars('12')).toBe(12_000_000n);
    expect(parseDollars('$1,000.25')).toBe(1_000_250_000n);
    expect(parseDollars('0.014')).toBe(14_000n);
    expect(parseDollars('.5')).toBe(500_000n);
    expect(() => parseDollars('1.0000001')).toThrow(RangeError);
    expect(() => parseDollars('ten')).toThrow(RangeError);
    expect(() => parseDollars('')).toThrow(RangeError);
  });

  it('reads wire amounts as bigint', () => {
    expect(toMicros('440000')).toBe(440_000n);
    expect(toMicros(' -3 ')).toBe(-3n);
    expect(toMicros(5n)).toBe(5n);
    expect(toMicros('4.4')).toBeNull();
  });
});
