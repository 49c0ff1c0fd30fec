/**
 * Cancelling the workflow itself (`handle.cancel()`: what the Temporal Web UI and admins do), on
 * the time-skipping server. The compensation runs even though the workflow is being cancelled:
 * before an SMS the number goes back and the funds are released, and the execution ends Canceled;
 * after one, the customer keeps the code and pays, and it ends Completed.
 */
import { Client as PgClient } from 'pg';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { getActivationQuery, smsReceivedSignal, type ActivationView } from '../../workflows/contracts';
import { useWorkflowTests } from './harness';
import { SELL_MICROS, activityAttempts, expectCaptured, expectReleased, moneyOf, recordOf, sms, untilActive, waitFor, waitForView } from './support';

const wf = useWorkflowTests('time-skipping');

/**
 * Resolves once the cancel request is in the history. The SMS step is a local activity: it runs
 * inside the workflow task that holds the cancel back, so the workflow sees the cancel only when
 * the step it interrupts ends (or the task is extended) — the request being recorded while the
 * step is blocked is the race this test sets up.
 */
async function waitUntilCancelRequested(handle: WorkflowHandle): Promise<void> {
  await waitFor(async () => ((await handle.fetchHistory()).events ?? []).some((e) => e.workflowExecutionCancelRequestedEventAttributes));
}

/** The execution ended Canceled (what the Temporal UI shows); returns the workflow's final view (its query). */
async function canceledView(handle: WorkflowHandle): Promise<ActivationView> {
  const failure = await handle.result().then(
    () => null,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  expect((await handle.describe()).status.name).toBe('CANCELLED');
  return handle.query(getActivationQuery);
}

describe('workflow cancellation (handle.cancel(), as from the Web UI)', () => {
  it('before any SMS: waits for the provider minimum, cancels upstream, releases the funds, ends CANCELLED', async () => {
    // The provider's 2-minute minimum is skipped by the test server while the result is awaited.
    const s = await wf.scenario({ providers: { hero: { minCancelSeconds: 120 } } });
    const { userId, input, run } = await wf.activation(s, 'wf-cancel');

    const { final, upstreamId, attempts } = await run(async (handle) => {
      const { upstreamId } = await untilActive(wf.infra, handle);
      await handle.cancel();
      return { final: await canceledView(handle), upstreamId, attempts: await activityAttempts(handle) };
    });

    expect(final).toMatchObject({ status: 'CANCELLED', messages: [] });
    expect(attempts.filter((a) => a.activity === 'cancelUpstream')).toEqual([{ activity: 'cancelUpstream', attempt: 1, outcome: 'completed' }]);
    expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'CANCELLED' });
    expectReleased(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero);
    expect(await recordOf(wf.infra, input.activationId)).toMatchObject({ status: 'CANCELLED' });
  });

  it('after an SMS: finishes upstream, ends COMPLETED, the capture stands and nothing is refunded', async () => {
    const s = await wf.scenario();
    const { userId, input, run } = await wf.activation(s, 'wf-cancel-sms');

    const { final, upstreamId } = await run(async (handle) => {
      const { upstreamId } = await untilActive(wf.infra, handle);
      await s.deliverSms('hero', upstreamId, '90210');
      await handle.signal(smsReceivedSignal, sms('90210'));
      await waitFor(async () => (await moneyOf(wf.infra, userId, input.activationId)).hold?.status === 'CAPTURED');
      await handle.cancel();
      return { final: await handle.result(), upstreamId };
    });

    expect(final).toMatchObject({ status: 'COMPLETED', messages: [{ seq: 1, code: '90210' }] });
    expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'DONE', codes: ['90210'] });
    expectCaptured(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero, SELL_MICROS.hero);
    expect(await recordOf(wf.infra, input.activationId)).toMatchObject({ status: 'COMPLETED', codes: ['90210'] });
  });

  it('while the first SMS is being stored and charged: the SMS is still stored and captured, never left open', async () => {
    const s = await wf.scenario();
    const { userId, input, run } = await wf.activation(s, 'wf-cancel-mid-capture');
    // A row lock on the activation holds recordSms (its INSERT checks the foreign key) until we let go.
    const lock = new PgClient({ connectionString: process.env.DATABASE_URL });
    await lock.connect();

    try {
      const { final, upstreamId } = await run(async (handle) => {
        const { upstreamId } = await untilActive(wf.infra, handle);
        await s.deliverSms('hero', upstreamId, '31337');
        await lock.query('BEGIN');
        await lock.query('SELECT id FROM activations WHERE id = $1 FOR UPDATE', [input.activationId]);
        try {
          await handle.signal(smsReceivedSignal, sms('31337'));
          await waitForView(handle, (v) => v.messages.length > 0);
          await handle.cancel();
          await waitUntilCancelRequested(handle);
        } finally {
          await lock.query('COMMIT');
        }
        return { final: await handle.result(), upstreamId };
      });

      expect(final).toMatchObject({ status: 'COMPLETED', messages: [{ seq: 1, code: '31337' }] });
      expect(await s.upstream('hero', upstreamId)).toMatchObject({ state: 'DONE' });
      expectCaptured(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero, SELL_MICROS.hero);
      expect(await recordOf(wf.infra, input.activationId)).toMatchObject({ status: 'COMPLETED', codes: ['31337'] });
    } finally {
      await lock.end();
    }
  });

  it('while the number is being bought: the purchase completes, then the number goes back and the funds are released', async () => {
    const s = await wf.scenario();
    const { userId, input, run } = await wf.activation(s, 'wf-cancel-buying');
    await s.fault('hero', { action: 'getNumberV2', times: 1, reply: { latencyMs: 1500 } });

    const final = await run(async (handle) => {
      // The fault is taken when the purchase reaches the provider, which then sits on it.
      await waitFor(async () => (await s.faults('hero')).length === 0);
      await handle.cancel();
      return canceledView(handle);
    });

    expect(final).toMatchObject({ status: 'CANCELLED', providerId: s.providerId.hero, messages: [] });
    const [upstream] = await s.upstreamList('hero');
    expect(upstream).toMatchObject({ state: 'CANCELLED' });
    expectReleased(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero);
    // The read model still names the number that was bought and given back.
    const row = await wf.infra.db.activation.findUniqueOrThrow({ where: { id: input.activationId } });
    expect(row).toMatchObject({ status: 'CANCELLED', providerId: s.providerId.hero, upstreamId: String(upstream.id), phone: final.phone, priceMicros: SELL_MICROS.hero });
  });
});
