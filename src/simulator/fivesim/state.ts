/**
 * The 5sim order state machine, spec section 5.1, as pure decisions over a status; the tenant
 * applies them and does the money and stock bookkeeping.
 *
 *   buy ──► PENDING ──allocation delay──► RECEIVED      (both live: the number is usable, SMS append to sms[])
 *   live ──finish (has SMS)──► FINISHED                 live ──cancel / ban (no SMS, past cancelLock)──► CANCELED / BANNED (refund)
 *   live ──clock ≥ expires──► FINISHED with SMS, TIMEOUT (refund) without
 *   terminal ──finish / cancel / ban──► `order expired`
 *
 * RECEIVED means the number is live, not that an SMS arrived: look at sms[].
 */
export type FivesimStatus = 'PENDING' | 'RECEIVED' | 'CANCELED' | 'TIMEOUT' | 'FINISHED' | 'BANNED';

export const FIVESIM_STATUSES: readonly FivesimStatus[] = ['PENDING', 'RECEIVED', 'CANCELED', 'TIMEOUT', 'FINISHED', 'BANNED'];

const LIVE: ReadonlySet<FivesimStatus> = new Set(['PENDING', 'RECEIVED']);

export const isLive = (status: FivesimStatus) => LIVE.has(status);
export const isFivesimTerminal = (status: FivesimStatus) => !LIVE.has(status);

export type FivesimAction = 'finish' | 'cancel' | 'ban';

/** The exact plain-text phrases of spec 1.6 an order action can be refused with. */
export type FivesimRefusal = 'order expired' | 'order no sms' | 'order has sms' | 'you need to wait time';

export type FivesimDecision = { ok: true; next: FivesimStatus; refund: boolean; restock: boolean } | { ok: false; error: FivesimRefusal };

export interface FivesimActionContext {
  hasSms: boolean;
  ageMs: number;
  cancelLockMs: number;
}

export function decideAction(status: FivesimStatus, action: FivesimAction, context: FivesimActionContext): FivesimDecision {
  // [I] in the spec: the same phrase for every terminal status.
  if (!isLive(status)) return { ok: false, error: 'order expired' };
  if (action === 'finish') return context.hasSms ? { ok: true, next: 'FINISHED', refund: false, restock: false } : { ok: false, error: 'order no sms' };
  // A code has arrived: the number did its job, so it is paid for whatever the lock says.
  if (context.hasSms) return { ok: false, error: 'order has sms' };
  if (context.ageMs < context.cancelLockMs) return { ok: false, error: 'you need to wait time' };
  // A banned number does not go back on sale.
  return action === 'cancel' ? { ok: true, next: 'CANCELED', refund: true, restock: true } : { ok: true, next: 'BANNED', refund: true, restock: false };
}

/** PENDING becomes RECEIVED once the allocation delay has passed; null when nothing changes. */
export function decideAllocation(status: FivesimStatus, ageMs: number, allocationDelayMs: number): FivesimStatus | null {
  return status === 'PENDING' && ageMs >= allocationDelayMs ? 'RECEIVED' : null;
}

/** At `expires`: FINISHED (charged) with an SMS, TIMEOUT (refunded) without; null once ended. */
export function decideExpiry(status: FivesimStatus, hasSms: boolean): { next: FivesimStatus; refund: boolean } | null {
  if (!isLive(status)) return null;
  return hasSms ? { next: 'FINISHED', refund: false } : { next: 'TIMEOUT', refund: true };
}
