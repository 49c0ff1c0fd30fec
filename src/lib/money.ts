/**
 * Money is integer micro-dollars (1 USD = 1_000_000). Provider prices arrive as decimal numbers
 * or strings; they are converted here, once, without ever doing arithmetic in floating point.
 */
export const MICROS_PER_USD = 1_000_000n;
export const MICROS_PER_CENT = 10_000n;

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/** "0.35" (or the JSON number 0.35, whose shortest decimal form is "0.35") → 350000n, rounding up past 6 places. */
export function decimalToMicros(value: string | number): bigint {
  const text = typeof value === 'number' ? numberToDecimalString(value) : value.trim();
  const match = DECIMAL.exec(text);
  if (!match) throw new RangeError(`not a non-negative decimal amount: ${String(value)}`);
  const fraction = match[2] ?? '';
  const kept = BigInt((fraction.slice(0, 6) || '0').padEnd(6, '0'));
  const roundUp = /[1-9]/.test(fraction.slice(6)) ? 1n : 0n;
  return BigInt(match[1]) * MICROS_PER_USD + kept + roundUp;
}

function numberToDecimalString(value: number): string {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`not a non-negative finite amount: ${value}`);
  // toString gives the shortest round-tripping form; exponent notation only for tiny/huge values.
  const text = value.toString();
  if (!text.includes('e')) return text;
  return value.toFixed(12).replace(/0+$/, '').replace(/\.$/, '');
}

/** Converts provider-currency micros to USD micros with a decimal rate string, rounding up (we never undercharge). */
export function convertMicros(amount: bigint, usdRate: string): bigint {
  const match = DECIMAL.exec(usdRate);
  if (!match) throw new RangeError(`bad rate: ${usdRate}`);
  const fraction = match[2] ?? '';
  const scale = 10n ** BigInt(fraction.length);
  const rate = BigInt(match[1] + fraction);
  return ceilDiv(amount * rate, scale);
}

/** cost × (1 + bps/10000), rounded up to a whole cent: DESIGN.md "Money". */
export function sellPrice(costMicros: bigint, markupBps: number): bigint {
  const marked = ceilDiv(costMicros * BigInt(10_000 + markupBps), 10_000n);
  return ceilDiv(marked, MICROS_PER_CENT) * MICROS_PER_CENT;
}

export function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

/** Micros → "1.23" for display (customers see cents; the value must already be whole cents or it is shown exactly). */
export function formatUsd(micros: bigint): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const whole = abs / MICROS_PER_USD;
  let fraction = (abs % MICROS_PER_USD).toString().padStart(6, '0').replace(/0+$/, '');
  if (fraction.length < 2) fraction = fraction.padEnd(2, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** The API speaks micros as decimal strings: exact in JSON, and safe past 2^53. */
export const microsToJson = (micros: bigint | null | undefined) => (micros == null ? null : micros.toString());
