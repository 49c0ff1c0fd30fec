/**
 * Money on the wire is integer micro-dollars as a decimal string (1 USD = 1_000_000).
 * Everything here is BigInt and string arithmetic: never parseFloat on the money path.
 * Display mirrors src/lib/money.ts formatUsd: at least cents, more digits only when they exist
 * (sell prices are whole cents, so customers see "$0.44").
 */
export const MICROS_PER_USD = 1_000_000n;

/** "440000" → 440000n; null for anything that is not an integer string. */
export function toMicros(value: string | number | bigint | null | undefined): bigint | null {
  if (value == null) return null;
  if (typeof value === 'bigint') return value;
  const text = String(value).trim();
  return /^-?\d+$/.test(text) ? BigInt(text) : null;
}

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** 440000 → "$0.44", 1234500000 → "$1,234.50", 14000 → "$0.014", -440000 → "-$0.44". */
export function formatUsd(value: string | number | bigint | null | undefined): string {
  const micros = toMicros(value);
  if (micros == null) return '—';
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  let fraction = (abs % MICROS_PER_USD).toString().padStart(6, '0').replace(/0+$/, '');
  if (fraction.length < 2) fraction = fraction.padEnd(2, '0');
  return `${negative ? '-' : ''}$${groupThousands((abs / MICROS_PER_USD).toString())}.${fraction}`;
}

/** Ledger deltas: "+$1.00", "-$0.44", and "—" for zero. */
export function formatDelta(value: string | number | bigint | null | undefined): string {
  const micros = toMicros(value);
  if (micros == null || micros === 0n) return '—';
  return micros > 0n ? `+${formatUsd(micros)}` : formatUsd(micros);
}

/**
 * A dollar amount typed by a person → exact micros, by string arithmetic.
 * Accepts "12", "12.5", "$1,000.25", "0.014" (up to 6 decimals); refuses anything else,
 * including amounts that would need rounding.
 */
export function parseDollars(input: string): bigint {
  const text = input.trim().replace(/^\$/, '').replace(/,(?=\d{3}(\D|$))/g, '');
  const match = /^(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match || (match[1] === '' && !match[2])) {
    throw new RangeError('Enter an amount in dollars, for example 10 or 2.50.');
  }
  const fraction = match[2] ?? '';
  if (fraction.length > 6) throw new RangeError('Use at most 6 decimal places (1 micro-dollar).');
  return BigInt(match[1] || '0') * MICROS_PER_USD + BigInt(fraction.padEnd(6, '0'));
}
