/**
 * The handler_api activation state machine, spec section 5.2, as pure decisions over a state.
 * The tenant applies them (and does the money and stock bookkeeping); keeping the rules here
 * means the table in the spec and this file can be read side by side.
 *
 *   WAIT ──1──► READY            WAIT/READY ──SMS──► GOT_CODE ──3──► WAIT_RETRY ──SMS──► GOT_CODE
 *   WAIT/READY ──8 (age ≥ minCancel)──► CANCELLED (refund)        GOT_CODE/WAIT_RETRY ──6──► DONE
 *   lifetime: WAIT/READY → CANCELLED (refund); GOT_CODE/WAIT_RETRY → DONE
 */
export type ActivationState = 'WAIT' | 'READY' | 'GOT_CODE' | 'WAIT_RETRY' | 'DONE' | 'CANCELLED';

export const TERMINAL_STATES: ReadonlySet<ActivationState> = new Set(['DONE', 'CANCELLED']);

export const isTerminal = (state: ActivationState) => TERMINAL_STATES.has(state);

/** States in which no code has arrived yet: cancelling or expiring from them refunds. */
const WITHOUT_CODE: ReadonlySet<ActivationState> = new Set(['WAIT', 'READY']);

export type SetStatusDecision =
  | { ok: true; next: ActivationState; reply: 'ACCESS_READY' | 'ACCESS_RETRY_GET' | 'ACCESS_ACTIVATION' | 'ACCESS_CANCEL' | 'ACCESS_CANCEL_ALREADY'; refund: boolean }
  | { ok: false; error: 'BAD_STATUS' | 'EARLY_CANCEL_DENIED' };

export interface SetStatusContext {
  ageMs: number;
  minCancelMs: number;
  /** Clone behaviour (Grizzly and others): a repeated 8 answers ACCESS_CANCEL_ALREADY instead of BAD_STATUS. */
  cancelAlreadyReply: boolean;
}

const BAD_STATUS = { ok: false, error: 'BAD_STATUS' } as const;

export function decideSetStatus(state: ActivationState, status: string, context: SetStatusContext): SetStatusDecision {
  switch (status) {
    case '1':
      return state === 'WAIT' ? { ok: true, next: 'READY', reply: 'ACCESS_READY', refund: false } : BAD_STATUS;
    case '3':
      return state === 'GOT_CODE' ? { ok: true, next: 'WAIT_RETRY', reply: 'ACCESS_RETRY_GET', refund: false } : BAD_STATUS;
    case '6':
      return state === 'GOT_CODE' || state === 'WAIT_RETRY' ? { ok: true, next: 'DONE', reply: 'ACCESS_ACTIVATION', refund: false } : BAD_STATUS;
    case '8':
      if (state === 'CANCELLED' && context.cancelAlreadyReply) return { ok: true, next: 'CANCELLED', reply: 'ACCESS_CANCEL_ALREADY', refund: false };
      // After a code the number has done its job: refusing the cancel is what keeps it paid for.
      if (!WITHOUT_CODE.has(state)) return BAD_STATUS;
      if (context.ageMs < context.minCancelMs) return { ok: false, error: 'EARLY_CANCEL_DENIED' };
      return { ok: true, next: 'CANCELLED', reply: 'ACCESS_CANCEL', refund: true };
    default:
      return BAD_STATUS;
  }
}

/** Where an arriving SMS takes the activation, or null when it is not waiting for one. */
export function decideSms(state: ActivationState): ActivationState | null {
  return state === 'WAIT' || state === 'READY' || state === 'WAIT_RETRY' ? 'GOT_CODE' : null;
}

/** Where the end of the lifetime takes the activation, or null if it has already ended. */
export function decideExpiry(state: ActivationState): { next: ActivationState; refund: boolean } | null {
  if (isTerminal(state)) return null;
  return WITHOUT_CODE.has(state) ? { next: 'CANCELLED', refund: true } : { next: 'DONE', refund: false };
}

/** The getStatus token for a state (spec 5.2 "getStatus map"). */
export function statusToken(state: ActivationState, lastCode: string | null): string {
  switch (state) {
    case 'WAIT':
    case 'READY':
      return 'STATUS_WAIT_CODE';
    case 'WAIT_RETRY':
      return `STATUS_WAIT_RETRY:${lastCode ?? ''}`;
    case 'GOT_CODE':
    case 'DONE':
      return `STATUS_OK:${lastCode ?? ''}`;
    case 'CANCELLED':
      return 'STATUS_CANCEL';
  }
}
