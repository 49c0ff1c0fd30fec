import type { ActivationView } from '../../workflows/contracts';

/**
 * The view's actions with the cancel delay judged at `now`. A query answers from the workflow's
 * last task, whose clock stopped when that task ran: a number bought at 12:00 with a two-minute
 * cancel delay still reads "not yet" at 12:05 if nothing woke the workflow since. The update's
 * validator runs in a fresh task (the clock of that moment), so it accepts the cancel that the
 * stale view refused. With no SMS, the only action that can be pending is a cancel itself,
 * which a second cancel joins: offering it once the delay is over is always safe.
 */
export function actionsAt(view: Pick<ActivationView, 'status' | 'messages' | 'cancelAllowedAt' | 'actions'>, now: number): ActivationView['actions'] {
  if (view.actions.cancel || view.status !== 'ACTIVE' || view.messages.length > 0) return view.actions;
  const allowedAt = view.cancelAllowedAt ? Date.parse(view.cancelAllowedAt) : Number.NaN;
  return Number.isFinite(allowedAt) && allowedAt <= now ? { ...view.actions, cancel: true } : view.actions;
}
