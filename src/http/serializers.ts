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
