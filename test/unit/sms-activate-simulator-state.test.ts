import { decideExpiry, decideSetStatus, decideSms, statusToken, type ActivationState } from '../../src/simulator/state';

/** The spec 5.2 table, cell by cell, for the simulator's pure state machine. */
const STATES: ActivationState[] = ['WAIT', 'READY', 'GOT_CODE', 'WAIT_RETRY', 'DONE', 'CANCELLED'];
const old = { ageMs: 120_000, minCancelMs: 120_000, cancelAlreadyReply: false };

function outcome(state: ActivationState, status: string, context = old): string {
  const decision = decideSetStatus(state, status, context);
  return decision.ok ? `${decision.next} ${decision.reply}${decision.refund ? ' refund' : ''}` : decision.error;
}

describe('decideSetStatus', () => {
  it.each<[ActivationState, string, string]>([
    ['WAIT', '1', 'READY ACCESS_READY'],
    ['READY', '1', 'BAD_STATUS'],
    ['GOT_CODE', '1', 'BAD_STATUS'],
    ['WAIT', '3', 'BAD_STATUS'],
    ['READY', '3', 'BAD_STATUS'],
    ['GOT_CODE', '3', 'WAIT_RETRY ACCESS_RETRY_GET'],
    ['WAIT_RETRY', '3', 'BAD_STATUS'],
    ['WAIT', '6', 'BAD_STATUS'],
    ['READY', '6', 'BAD_STATUS'],
    ['GOT_CODE', '6', 'DONE ACCESS_ACTIVATION'],
    ['WAIT_RETRY', '6', 'DONE ACCESS_ACTIVATION'],
    ['WAIT', '8', 'CANCELLED ACCESS_CANCEL refund'],
    ['READY', '8', 'CANCELLED ACCESS_CANCEL refund'],
    ['GOT_CODE', '8', 'BAD_STATUS'],
    ['WAIT_RETRY', '8', 'BAD_STATUS'],
  ])('%s + setStatus %s → %s', (state, status, expected) => {
    expect(outcome(state, status)).toBe(expected);
  });

  it('refuses every status on DONE and CANCELLED, and unknown statuses everywhere', () => {
    for (const status of ['1', '3', '6', '8']) {
      expect(outcome('DONE', status)).toBe('BAD_STATUS');
      expect(outcome('CANCELLED', status)).toBe('BAD_STATUS');
    }
    for (const state of STATES) for (const status of ['', '0', '2', '-1', '9', 'cancel']) expect(outcome(state, status)).toBe('BAD_STATUS');
  });

  it('denies a cancel younger than minCancel', () => {
    expect(outcome('WAIT', '8', { ...old, ageMs: 119_999 })).toBe('EARLY_CANCEL_DENIED');
    expect(outcome('READY', '8', { ...old, ageMs: 0 })).toBe('EARLY_CANCEL_DENIED');
    expect(outcome('WAIT', '8', { ...old, ageMs: 0, minCancelMs: 0 })).toBe('CANCELLED ACCESS_CANCEL refund');
    // After a code the answer is BAD_STATUS whatever the age.
    expect(outcome('GOT_CODE', '8', { ...old, ageMs: 0 })).toBe('BAD_STATUS');
  });

  it('answers a repeated cancel with ACCESS_CANCEL_ALREADY in clone mode, without a second refund', () => {
    expect(outcome('CANCELLED', '8', { ...old, cancelAlreadyReply: true })).toBe('CANCELLED ACCESS_CANCEL_ALREADY');
    expect(outcome('DONE', '8', { ...old, cancelAlreadyReply: true })).toBe('BAD_STATUS');
  });
});

describe('SMS, expiry and getStatus', () => {
  it('moves waiting states to GOT_CODE and refuses the others', () => {
    expect(STATES.map(decideSms)).toEqual(['GOT_CODE', 'GOT_CODE', null, 'GOT_CODE', null, null]);
  });

  it('expires WAIT/READY to CANCELLED with a refund and GOT_CODE/WAIT_RETRY to DONE', () => {
    expect(STATES.map(decideExpiry)).toEqual([
      { next: 'CANCELLED', refund: true },
      { next: 'CANCELLED', refund: true },
      { next: 'DONE', refund: false },
      { next: 'DONE', refund: false },
      null,
      null,
    ]);
  });

  it('maps states to getStatus tokens', () => {
    expect(STATES.map((state) => statusToken(state, '51234'))).toEqual([
      'STATUS_WAIT_CODE',
      'STATUS_WAIT_CODE',
      'STATUS_OK:51234',
      'STATUS_WAIT_RETRY:51234',
      'STATUS_OK:51234',
      'STATUS_CANCEL',
    ]);
  });
});
