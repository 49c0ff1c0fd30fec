/**
 * The simulator's notion of "now": an injectable base clock plus an offset that tests and demos
 * move forward through the control API, so a 20-minute lifetime or the 2-minute cancel lock can
 * be crossed without sleeping.
 */
export interface SimClock {
  now(): number;
  /** Moves simulated time forward (never backwards: activations would un-expire). */
  advance(ms: number): void;
  readonly offsetMs: number;
}

export function createClock(base: () => number = Date.now): SimClock {
  let offsetMs = 0;
  return {
    now: () => base() + offsetMs,
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`clock can only move forward, got ${ms}`);
      offsetMs += ms;
    },
    get offsetMs() {
      return offsetMs;
    },
  };
}

/** `YYYY-MM-DD HH:MM:SS` in UTC: the handler_api timestamp format (activationTime, receivedAt). */
export function formatProviderTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
