import { createElement, type ComponentType } from 'react';
import { renderToString } from 'react-dom/server';
import {
  actionButtons,
  cancelWaitSeconds,
  codesOf,
  highlightCode,
  outcomeText,
  refundMicros,
  timeLeft,
  type Action,
} from '../../web/src/lib/activation-view';
import type { Activation } from '../../ui/types';

/**
 * The activation card's timing rules and button states, without a browser: pure functions, and
 * the presentational ActivationActions component rendered with react-dom/server. The .tsx module
 * is loaded with require() because the root TypeScript project does not compile JSX (web/ has
 * its own tsconfig).
 */
interface ActionsProps {
  activation: Pick<Activation, 'status' | 'actions' | 'cancelAllowedAt' | 'messages'>;
  now: number;
  busy: Action | null;
  onAct: (action: Action) => void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ActivationActions } = require('../../web/src/components/ActivationActions') as { ActivationActions: ComponentType<ActionsProps> };

const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const at = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();
const sms = (seq: number, code: string | null) => ({ seq, code, text: `Your code is ${code ?? 'none'}`, receivedAt: at(seq) });

function activation(overrides: Partial<Activation> = {}): Activation {
  return {
    id: 'act-1',
    status: 'ACTIVE',
    serviceCode: 'tg',
    countryIso: 'ID',
    serviceName: 'Telegram',
    countryName: 'Indonesia',
    countryDial: '62',
    providerId: 'hero-sim',
    phone: '+6281234567890',
    heldMicros: '440000',
    priceMicros: null,
    expiresAt: at(20 * 60_000),
    cancelAllowedAt: at(5_000),
    failureReason: null,
    messages: [],
    actions: { cancel: false, retry: false, finish: false },
    createdAt: at(-1000),
    ...overrides,
  };
}

function renderButtons(props: Omit<ActionsProps, 'onAct'>) {
  const html = renderToString(createElement(ActivationActions, { ...props, onAct: () => undefined }));
  const button = (testId: string) => {
    const match = new RegExp(`<button([^>]*)data-testid="${testId}"[^>]*>(.*?)</button>`).exec(html);
    if (!match) throw new Error(`no ${testId} in ${html}`);
    return { disabled: /\sdisabled=""/.test(match[1]), label: match[2], describedBy: /aria-describedby="/.test(match[1]) };
  };
  return { html, cancel: button('cancel-button'), retry: button('retry-button'), finish: button('finish-button') };
}

describe('cancel countdown', () => {
  it('counts whole seconds up, never below zero', () => {
    expect(cancelWaitSeconds(at(5_000), NOW)).toBe(5);
    expect(cancelWaitSeconds(at(4_001), NOW)).toBe(5);
    expect(cancelWaitSeconds(at(4_000), NOW)).toBe(4);
    expect(cancelWaitSeconds(at(1), NOW)).toBe(1);
    expect(cancelWaitSeconds(at(0), NOW)).toBe(0);
    expect(cancelWaitSeconds(at(-10_000), NOW)).toBe(0);
    expect(cancelWaitSeconds(null, NOW)).toBe(0);
    expect(cancelWaitSeconds('garbage', NOW)).toBe(0);
  });

  it('shows "Cancel (in N s)" disabled while the provider delay runs, ticking with the clock', () => {
    const a = activation();
    expect(renderButtons({ activation: a, now: NOW, busy: null }).cancel).toEqual({ disabled: true, label: 'Cancel (in 5 s)', describedBy: true });
    expect(renderButtons({ activation: a, now: NOW + 3_500, busy: null }).cancel.label).toBe('Cancel (in 2 s)');
    // The delay is over but the server has not said yes yet: still disabled, no stale number.
    expect(renderButtons({ activation: a, now: NOW + 6_000, busy: null }).cancel).toEqual({ disabled: true, label: 'Cancel', describedBy: true });
  });

  it('enables cancel only when the server allows it, whatever the clock says', () => {
    const allowed = activation({ actions: { cancel: true, retry: false, finish: false } });
    expect(renderButtons({ activation: allowed, now: NOW, busy: null }).cancel).toEqual({ disabled: false, label: 'Cancel', describedBy: false });
    const buttons = actionButtons(activation({ cancelAllowedAt: at(-1000) }), NOW, null);
    expect(buttons.cancel.enabled).toBe(false);
  });

  it('after an SMS: cancel is off (with the reason), another SMS and finish follow the server', () => {
    const a = activation({ messages: [sms(1, '123456')], actions: { cancel: false, retry: true, finish: true } });
    const { cancel, retry, finish } = renderButtons({ activation: a, now: NOW, busy: null });
    expect(cancel).toEqual({ disabled: true, label: 'Cancel', describedBy: true });
    expect(retry).toEqual({ disabled: false, label: 'Another SMS', describedBy: false });
    expect(finish).toEqual({ disabled: false, label: 'Finish', describedBy: false });
    expect(actionButtons(a, NOW, null).cancel.hint).toMatch(/SMS has arrived/);
  });

  it('disables everything while one action runs and names it', () => {
    const a = activation({ messages: [sms(1, '1')], actions: { cancel: false, retry: true, finish: true } });
    const { retry, finish } = renderButtons({ activation: a, now: NOW, busy: 'finish' });
    expect(finish).toMatchObject({ disabled: true, label: 'Finishing…' });
    expect(retry).toMatchObject({ disabled: true, label: 'Another SMS' });
  });
});

describe('expiry countdown', () => {
  it('formats the time left and flags the last minute', () => {
    expect(timeLeft(at(20 * 60_000), NOW)).toEqual({ text: '20:00', urgent: false });
    expect(timeLeft(at(125_000), NOW)).toEqual({ text: '2:05', urgent: false });
    expect(timeLeft(at(59_001), NOW)).toEqual({ text: '1:00', urgent: true });
    expect(timeLeft(at(3_725_000), NOW)).toEqual({ text: '1:02:05', urgent: false });
    expect(timeLeft(at(0), NOW)).toEqual({ text: 'expiring…', urgent: true });
    expect(timeLeft(null, NOW)).toBeNull();
  });
});

describe('codes, refunds and outcomes', () => {
  it('highlights every occurrence of the code', () => {
    expect(highlightCode('Code 4242. Again: 4242', '4242')).toEqual([
      { text: 'Code ', code: false },
      { text: '4242', code: true },
      { text: '. Again: ', code: false },
      { text: '4242', code: true },
    ]);
    expect(highlightCode('no code here', null)).toEqual([{ text: 'no code here', code: false }]);
    expect(highlightCode('text', 'zzz')).toEqual([{ text: 'text', code: false }]);
  });

  it('lists codes in arrival order', () => {
    expect(codesOf({ messages: [sms(2, '222'), sms(1, '111'), sms(3, null)] })).toEqual(['111', '222']);
  });

  it('refunds the hold only when the activation ended without an SMS', () => {
    expect(refundMicros(activation({ status: 'CANCELLED' }))).toBe(440_000n);
    expect(refundMicros(activation({ status: 'EXPIRED' }))).toBe(440_000n);
    expect(refundMicros(activation({ status: 'FAILED', heldMicros: null }))).toBeNull();
    expect(refundMicros(activation({ status: 'COMPLETED', messages: [sms(1, '1')] }))).toBeNull();
    expect(refundMicros(activation({ status: 'ACTIVE' }))).toBeNull();
  });

  it('says how it ended', () => {
    expect(outcomeText(activation({ status: 'CANCELLED' }))).toBe('You cancelled this number. $0.44 went back to your balance.');
    expect(outcomeText(activation({ status: 'COMPLETED', priceMicros: '400000', messages: [sms(1, '1')] }))).toBe('Done. You paid $0.40.');
    expect(outcomeText(activation({ status: 'FAILED', failureReason: 'No provider had a number.' }))).toBe(
      'We could not get a number: No provider had a number. $0.44 went back to your balance.',
    );
    expect(outcomeText(activation({ status: 'FAILED', heldMicros: null }))).toBe('We could not get a number.');
    expect(outcomeText(activation({ status: 'ACTIVE' }))).toBeNull();
  });
});
