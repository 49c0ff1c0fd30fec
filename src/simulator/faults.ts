/**
 * Scripted misbehaviour: "the next n calls (of this action) fail like this". Tests use it to
 * make the simulator answer every documented error token, 500s, slow replies and dropped
 * connections without any special code path in the actions themselves.
 *
 * `action` is the handler_api `action` parameter (`getNumberV2`), or for a 5sim tenant the
 * endpoint's name: `profile`, `buy`, `check`, `finish`, `cancel`, `ban`, `inbox`, `orders`,
 * `products`, `prices`, `countries`, `flash`.
 */
export type FaultReply =
  /** Answer with this HTTP status and body (default body: a short plain-text reason). */
  | { status: number; body?: string }
  /** Answer with this handler_api token, rendered in the tenant's error style (`ERROR_SQL`, `BANNED:2026-1-1 0-0-0`…). */
  | { token: string }
  /** Wait this long, then serve the call normally. */
  | { latencyMs: number }
  /** Destroy the socket without answering. */
  | { hangUp: true }
  /** Hold the connection this long without answering, then destroy it; the call is never served (a client timeout, not a slow reply). */
  | { hangUpAfterMs: number }
  /**
   * Serve the call (a buy sells, a cancel cancels), then hold the reply this long and destroy the
   * connection: the provider acted but the caller never hears — a reply lost to the caller's
   * timeout. A refusal (NO_NUMBERS…) is answered at once, since nothing happened.
   */
  | { serveThenHangUpAfterMs: number };

export interface Fault {
  /** Only calls with this `action` match; any action when absent. */
  action?: string;
  times: number;
  reply: FaultReply;
}

export class FaultQueue {
  private faults: Fault[] = [];

  add(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  clear(): void {
    this.faults = [];
  }

  list(): readonly Fault[] {
    return this.faults;
  }

  /** Consumes one use of the first fault matching this action, in the order they were added. */
  take(action: string | undefined): FaultReply | undefined {
    const fault = this.faults.find((candidate) => candidate.action === undefined || candidate.action === action);
    if (!fault) return undefined;
    fault.times -= 1;
    if (fault.times <= 0) this.faults = this.faults.filter((candidate) => candidate !== fault);
    return fault.reply;
  }
}
