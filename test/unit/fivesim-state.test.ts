import { decideAction, decideAllocation, decideExpiry, isFivesimTerminal, type FivesimAction, type FivesimStatus } from '../../src/simulator/fivesim/state';
import { rfc3339 } from '../../src/simulator/fivesim/wire';

/** The spec 5.1 table, cell by cell, for the simulator's pure 5sim order state machine. */
const LIVE: FivesimStatus[] = ['PENDING', 'RECEIVED'];
const ENDED: FivesimStatus[] = ['CANCELED', 'TIMEOUT', 'FINISHED', 'BANNED'];
const ACTIONS: FivesimAction[] = ['finish', 'cancel', 'ban'];

function outcome(status: FivesimStatus, action: FivesimAction, context: { hasSms?: boolean; ageMs?: number; cancelLockMs?: number } = {}): string {
  const decision = decideAction(status, action, { hasSms: false, ageMs: 0, cancelLockMs: 0, ...context });
  return decision.ok ? `${decision.next}${decision.refund ? ' refund' : ''}${decision.restock ? ' restock' : ''}` : decision.error;
}

describe('decideAction', () => {
  it.each(LIVE)('%s: finish needs an SMS', (status) => {
    expect(outcome(status, 'finish')).toBe('order no sms');
    expect(outcome(status, 'finish', { hasSms: true })).toBe('FINISHED');
  });

  it.each(LIVE)('%s: cancel and ban refund without an SMS; a ban does not restock', (status) => {
    expect(outcome(status, 'cancel')).toBe('CANCELED refund restock');
    expect(outcome(status, 'ban')).toBe('BANNED refund');
  });

  it.each(LIVE)('%s: cancel and ban refuse after an SMS, even inside the cancel lock', (status) => {
    for (const action of ['cancel', 'ban'] as const) {
      expect(outcome(status, action, { hasSms: true })).toBe('order has sms');
      expect(outcome(status, action, { hasSms: true, ageMs: 0, cancelLockMs: 60_000 })).toBe('order has sms');
    }
  });

  it('the cancel lock: `you need to wait time` until ageMs reaches it; finish ignores it', () => {
    expect(outcome('RECEIVED', 'cancel', { ageMs: 59_999, cancelLockMs: 60_000 })).toBe('you need to wait time');
    expect(outcome('RECEIVED', 'ban', { ageMs: 59_999, cancelLockMs: 60_000 })).toBe('you need to wait time');
    expect(outcome('RECEIVED', 'cancel', { ageMs: 60_000, cancelLockMs: 60_000 })).toBe('CANCELED refund restock');
    expect(outcome('RECEIVED', 'finish', { hasSms: true, ageMs: 0, cancelLockMs: 60_000 })).toBe('FINISHED');
  });

  it.each(ENDED)('%s: every action is `order expired`', (status) => {
    for (const action of ACTIONS) {
      expect(outcome(status, action)).toBe('order expired');
      expect(outcome(status, action, { hasSms: true })).toBe('order expired');
    }
  });
});

describe('decideAllocation and decideExpiry', () => {
  it('PENDING → RECEIVED once the delay has passed, nothing else moves', () => {
    expect(decideAllocation('PENDING', 0, 0)).toBe('RECEIVED');
    expect(decideAllocation('PENDING', 999, 1000)).toBeNull();
    expect(decideAllocation('PENDING', 1000, 1000)).toBe('RECEIVED');
    for (const status of ['RECEIVED', ...ENDED] as FivesimStatus[]) expect(decideAllocation(status, 10_000, 0)).toBeNull();
  });

  it('live orders end FINISHED with an SMS (charged) and TIMEOUT without (refunded); ended ones stay', () => {
    for (const status of LIVE) {
      expect(decideExpiry(status, true)).toEqual({ next: 'FINISHED', refund: false });
      expect(decideExpiry(status, false)).toEqual({ next: 'TIMEOUT', refund: true });
    }
    for (const status of ENDED) expect(decideExpiry(status, false)).toBeNull();
    expect(ENDED.every(isFivesimTerminal)).toBe(true);
    expect(LIVE.some(isFivesimTerminal)).toBe(false);
  });
});

describe('rfc3339', () => {
  it('prints UTC with the fraction trimmed as Go does', () => {
    const t = Date.UTC(2026, 0, 5, 10, 0, 0);
    expect(rfc3339(t, 417)).toBe('2026-01-05T10:00:00.000417Z');
    expect(rfc3339(t + 123, 456)).toBe('2026-01-05T10:00:00.123456Z');
    expect(rfc3339(t + 120, 0)).toBe('2026-01-05T10:00:00.12Z');
    expect(rfc3339(t)).toBe('2026-01-05T10:00:00Z');
  });
});
