/**
 * Provider amounts as integer micro units of the provider's currency, converted from and to the
 * decimals of the wire without floating-point arithmetic. Written apart from SimGate's money
 * module on purpose: the simulator is what SimGate's parsing is tested against, and a bug shared
 * by both sides would cancel itself out.
 */
const MICROS_PER_UNIT = 1_000_000n;
const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/** "0.35" → 350000n; a JSON number counts as its shortest decimal form (0.35, not 0.34999…). Past six places it rounds up. */
export function amountToMicros(value: string | number): bigint {
  const text = typeof value === 'number' ? decimalForm(value) : value.trim();
  const match = DECIMAL.exec(text);
  if (!match) throw new RangeError(`not a non-negative decimal amount: ${String(value)}`);
  const fraction = match[2] ?? '';
  const kept = BigInt(fraction.slice(0, 6).padEnd(6, '0'));
  const beyond = /[1-9]/.test(fraction.slice(6)) ? 1n : 0n;
  return BigInt(match[1]) * MICROS_PER_UNIT + kept + beyond;
}

/** String() is the shortest round-tripping form, but writes tiny and huge values with an exponent. */
function decimalForm(value: number): string {
  const text = String(value);
  return text.includes('e') ? value.toFixed(12) : text;
}

/** Micros → the exact decimal, with at least two places: "0.35", "0.014", "1000.00". */
export function formatAmount(micros: bigint): string {
  const sign = micros < 0n ? '-' : '';
  const magnitude = micros < 0n ? -micros : micros;
  const fraction = (magnitude % MICROS_PER_UNIT).toString().padStart(6, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${sign}${magnitude / MICROS_PER_UNIT}.${fraction}`;
}

/** JSON wants prices as numbers; the exact decimal string's number is the shortest faithful one (0.35, not 0.35000000000000003). */
export const amountNumber = (micros: bigint) => Number(formatAmount(micros));
