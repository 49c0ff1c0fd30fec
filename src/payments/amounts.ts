/**
 * Decimal amounts as processors state them ("10.523451", 10.5) and their conversion to USD
 * micros, in bigint only: a float never touches money.
 */
const SCALE = 18;
const DECIMAL = /^(\d{1,20})(?:\.(\d{1,18}))?$/;

/** A non-negative decimal (string or JSON number) as an integer scaled by 10^18; null when it is not one. */
export function scaled(value: unknown): bigint | null {
  const text = typeof value === 'number' ? (Number.isFinite(value) && value >= 0 ? value.toFixed(SCALE).replace(/0+$/, '').replace(/\.$/, '') : '') : String(value ?? '');
  const match = DECIMAL.exec(text);
  if (!match) return null;
  return BigInt(match[1]) * 10n ** BigInt(SCALE) + BigInt((match[2] ?? '').padEnd(SCALE, '0') || '0');
}

/** Integer scaled by 10^digits → decimal string without trailing zeros. */
export function formatScaled(value: bigint, digits: number): string {
  const base = 10n ** BigInt(digits);
  const whole = value / base;
  const fraction = (value % base).toString().padStart(digits, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole.toString();
}

/** a × b / c, rounded down. */
export const mulDiv = (a: bigint, b: bigint, c: bigint) => (c === 0n ? 0n : (a * b) / c);

/** Minor units per unit of a currency (Stripe's zero-decimal currencies have none). */
const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);
export const minorDigits = (currency: string) => (ZERO_DECIMAL.has(currency.toLowerCase()) ? 0 : 2);

/** USD micros → the currency's minor units at `usdRate` (USD per unit), rounded up so the customer never pays less than the credit. */
export function microsToMinor(micros: bigint, usdRate: string, currency: string): bigint {
  const rate = scaled(usdRate);
  if (rate === null || rate === 0n) throw new Error(`bad rate ${usdRate}`);
  const minorPerUnit = 10n ** BigInt(minorDigits(currency));
  // units = micros / 1e6 / rate  →  minor = micros × minorPerUnit × 1e18 / (1e6 × rate)
  const numerator = micros * minorPerUnit * 10n ** BigInt(SCALE);
  const denominator = 1_000_000n * rate;
  return (numerator + denominator - 1n) / denominator;
}

/** The currency's minor units → USD micros at `usdRate`, rounded down. */
export function minorToMicros(minor: bigint, usdRate: string, currency: string): bigint {
  const rate = scaled(usdRate);
  if (rate === null) throw new Error(`bad rate ${usdRate}`);
  const minorPerUnit = 10n ** BigInt(minorDigits(currency));
  return (minor * 1_000_000n * rate) / (minorPerUnit * 10n ** BigInt(SCALE));
}
