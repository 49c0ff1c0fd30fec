import { useId } from 'react';
import type { Activation } from '../../../ui/types';
import { actionButtons, type Action } from '../lib/activation-view';

interface Props {
  activation: Pick<Activation, 'status' | 'actions' | 'cancelAllowedAt' | 'messages'>;
  now: number;
  busy: Action | null;
  onAct: (action: Action) => void;
}

const ORDER: { action: Action; testId: string; className?: string }[] = [
  { action: 'cancel', testId: 'cancel-button' },
  { action: 'retry', testId: 'retry-button' },
  { action: 'finish', testId: 'finish-button', className: 'primary' },
];

/**
 * Cancel / another SMS / finish, enabled only when `activation.actions` allows them (the workflow's
 * update validators decide; the page never guesses). A disabled button says why, and cancel
 * counts down the provider's minimum delay. Presentational: rendered to a string in unit tests.
 */
export function ActivationActions({ activation, now, busy, onAct }: Props) {
  const buttons = actionButtons(activation, now, busy);
  const id = useId();
  return (
    <div className="actions" role="group" aria-label="Actions for this number">
      {ORDER.map(({ action, testId, className }) => {
        const button = buttons[action];
        const hintId = `${id}-${action}-hint`;
        return (
          <div className="action" key={action}>
            <button
              type="button"
              className={className}
              disabled={!button.enabled}
              aria-describedby={!button.enabled && button.hint ? hintId : undefined}
              onClick={() => onAct(action)}
              data-testid={testId}
            >
              {button.label}
            </button>
            {!button.enabled && button.hint && (
              <span id={hintId} className="muted small-text action-hint">
                {button.hint}
              </span>
            )}
          </div>
        );
      })}
    </div>
  );
}
