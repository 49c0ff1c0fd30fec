/**
 * What an activation card shows, as pure functions of the activation and the clock, so the
 * timing rules (countdown, "cancel in N s") are unit-tested without a browser
 * (test/unit/web-activation.test.ts). The server decides what is allowed (`activation.actions`);
 * the clock only words the wait.
 */
import { formatDuration } from '../../../ui/format';
import { formatUsd, toMicros } from '../../../ui/money';
import type { Activation, ActivationStatus, SmsMessage } from '../../../ui/types';

export type Action = 'cancel' | 'retry' | 'finish';

export interface ActionButton {
  enabled: boolean;
  label: string;
  /** Why it is disabled, for people who cannot see that it is (aria-describedby). */
  hint: string | null;
}

type ActionInput = Pick<Activation, 'status' | 'actions' | 'cancelAllowedAt' | 'messages'>;

// The badge words are the admin panel's too (ui/status.ts): one vocabulary for both.
export { STATUS_LABELS, statusLabel } from '../../../ui/status';

export const isLiveStatus = (status: ActivationStatus) => status === 'RESERVED' || status === 'ACTIVE';

/** Whole seconds until a cancel is allowed (0 when it is, or when no delay is known). */
export function cancelWaitSeconds(cancelAllowedAt: string | null, now: number): number {
  const at = cancelAllowedAt ? Date.parse(cancelAllowedAt) : NaN;
  if (!Number.isFinite(at)) return 0;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** The three buttons: enabled only when the server says so and nothing else is running. */
export function actionButtons(activation: ActionInput, now: number, busy: Action | null): Record<Action, ActionButton> {
  const { actions } = activation;
  const wait = cancelWaitSeconds(activation.cancelAllowedAt, now);
  const hasSms = activation.messages.length > 0;

  let cancelHint: string | null = null;
  if (!actions.cancel) {
    if (hasSms) cancelHint = 'An SMS has arrived, so this number can no longer be cancelled.';
    else if (wait > 0) cancelHint = `The provider allows cancelling in ${wait} s.`;
    else if (activation.status === 'RESERVED') cancelHint = 'The number is still being bought.';
    else cancelHint = 'Cancelling is not possible right now.';
  }
  return {
    cancel: {
      enabled: actions.cancel && busy == null,
      label: busy === 'cancel' ? 'Cancelling…' : !actions.cancel && !hasSms && wait > 0 ? `Cancel (in ${wait} s)` : 'Cancel',
      hint: cancelHint,
    },
    retry: {
      enabled: actions.retry && busy == null,
      label: busy === 'retry' ? 'Asking…' : 'Another SMS',
      hint: actions.retry ? null : hasSms ? 'Already waiting for the next SMS.' : 'Available after the first SMS.',
    },
    finish: {
      enabled: actions.finish && busy == null,
      label: busy === 'finish' ? 'Finishing…' : 'Finish',
      hint: actions.finish ? null : 'Available after the first SMS.',
    },
  };
}

/** "19:58" until expiry, "expiring…" once the moment has passed (the server ends it shortly). */
export function timeLeft(expiresAt: string | null, now: number): { text: string; urgent: boolean } | null {
  const at = expiresAt ? Date.parse(expiresAt) : NaN;
  if (!Number.isFinite(at)) return null;
  const ms = at - now;
  return ms > 0 ? { text: formatDuration(ms), urgent: ms < 60_000 } : { text: 'expiring…', urgent: true };
}

/** Newest first. */
export function messagesNewestFirst(messages: readonly SmsMessage[]): SmsMessage[] {
  return [...messages].sort((a, b) => b.seq - a.seq);
}

/** The codes received, in arrival order. */
export function codesOf(activation: Pick<Activation, 'messages'>): string[] {
  return [...activation.messages].sort((a, b) => a.seq - b.seq).flatMap((m) => (m.code ? [m.code] : []));
}

/** `text` cut around every occurrence of `code`, so the code can be highlighted. */
export function highlightCode(text: string, code: string | null): { text: string; code: boolean }[] {
  if (!code) return [{ text, code: false }];
  const parts: { text: string; code: boolean }[] = [];
  let from = 0;
  for (let at = text.indexOf(code); at >= 0; at = text.indexOf(code, from)) {
    if (at > from) parts.push({ text: text.slice(from, at), code: false });
    parts.push({ text: code, code: true });
    from = at + code.length;
  }
  if (from < text.length || parts.length === 0) parts.push({ text: text.slice(from), code: false });
  return parts;
}

/** Money returned to the wallet: the hold, when the activation ended without an SMS. */
export function refundMicros(activation: Pick<Activation, 'status' | 'messages' | 'heldMicros'>): bigint | null {
  const ended = activation.status === 'CANCELLED' || activation.status === 'EXPIRED' || activation.status === 'FAILED';
  if (!ended || activation.messages.length > 0) return null;
  const held = toMicros(activation.heldMicros);
  return held != null && held > 0n ? held : null;
}

/** What was (or will be) paid: the captured price, else what is held. */
export function priceShown(activation: Pick<Activation, 'priceMicros' | 'heldMicros'>): string {
  return formatUsd(activation.priceMicros ?? activation.heldMicros);
}

/** One sentence about how it ended, or null while it runs. */
export function outcomeText(activation: Pick<Activation, 'status' | 'messages' | 'heldMicros' | 'priceMicros' | 'failureReason'>): string | null {
  const refund = refundMicros(activation);
  const back = refund != null ? ` ${formatUsd(refund)} went back to your balance.` : '';
  switch (activation.status) {
    case 'COMPLETED':
      return `Done. You paid ${priceShown(activation)}.`;
    case 'FAILED':
      return `We could not get a number${activation.failureReason ? `: ${activation.failureReason.replace(/\.$/, '')}.` : '.'}${back}`;
    case 'EXPIRED':
      return activation.messages.length === 0 ? `No SMS arrived in time.${back}` : `Expired. You paid ${priceShown(activation)}.`;
    case 'CANCELLED':
      return activation.messages.length === 0 ? `You cancelled this number.${back}` : 'Cancelled.';
    default:
      return null;
  }
}
