import type { LedgerEntryView, WalletSnapshot } from '../wallet';

/** bigint micros → decimal strings: exact in JSON. */
export const serializeWallet = (wallet: WalletSnapshot) => ({
  availableMicros: wallet.availableMicros.toString(),
  heldMicros: wallet.heldMicros.toString(),
});

export const serializeLedgerEntry = (entry: LedgerEntryView) => ({
  id: entry.id.toString(),
  kind: entry.kind,
  availableDelta: entry.availableDeltaMicros.toString(),
  heldDelta: entry.heldDeltaMicros.toString(),
  memo: entry.memo,
  createdAt: entry.createdAt.toISOString(),
});

/** A report or Temporal description for res.json: bigints (micros) become decimal strings, dates ISO strings. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  return value;
}
