/**
 * The race the workflow is built to win: an SMS reaching the provider at the same moment the
 * customer cancels. Whatever the interleaving, exactly one of two things happens — the cancel
 * wins (number cancelled upstream, funds released, nothing captured) or the SMS wins (the cancel
 * is refused, the price is captured, nothing released). Never both, never neither.
 *
 * Dev server (updates), 20 rounds; the second half buys from the classic-style provider so both
 * error styles of the "cancel refused, a code is there" answer are raced.
 */
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import {
  ACTIVATION_WORKFLOW_TYPE,
  FailureType,
  cancelActivationUpdate,
  finishActivationUpdate,
  type ActivationView,
} from '../../workflows/contracts';
import { isWorkflowTaskFailure } from '../../src/activations/activation.service';
import { useWorkflowTests } from './harness';
import { SELL_MICROS, activationInput, activityAttempts, expectCaptured, expectReleased, moneyOf, newCustomer, recordOf, untilActive, type TenantId } from './support';


/**
 * An update sent as the API sends it (ActivationService.act): again when its workflow task failed
 * under it (a timer or request arriving while the workflow completes), since none of it happened.
 */
async function asTheApiSends<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (attempt >= 3 || !isWorkflowTaskFailure(error)) throw error;
    }
  }
}

const ROUNDS = 20;
const CEILING = 1_000_000n;
const SKEW_STEP_MS = 5;

const wf = useWorkflowTests('dev-server');

type Outcome = 'cancel won' | 'sms won';

it(`SMS at the provider vs. customer cancel, ${ROUNDS} rounds: always exactly one of refund or capture`, async () => {
  const s = await wf.scenario({
    providers: { hero: { lifetimeSeconds: 30, minCancelSeconds: 0 }, activate: { lifetimeSeconds: 30, minCancelSeconds: 0 } },
  });
  const { worker, taskQueue } = await wf.worker(s, 'race');
  const outcomes: Outcome[] = [];
  const log: string[] = [];

  await worker.runUntil(async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const tenant: TenantId = round < ROUNDS / 2 ? 'hero' : 'activate';
      if (round === ROUNDS / 2) await s.setOffer('hero', { stock: 0 });
      const userId = await newCustomer(wf.infra);
      const input = activationInput(userId, { maxPriceMicros: CEILING.toString(), polling: { initialMs: 100, maxMs: 400 } });
      const handle = await wf.client.workflow.start(ACTIVATION_WORKFLOW_TYPE, { args: [input], workflowId: input.activationId, taskQueue });
      try {
        const { upstreamId } = await untilActive(wf.infra, handle);
        const code = String(100000 + round);

        // The SMS goes straight to the provider while the cancel travels through Temporal, the
        // workflow and an activity: sweep the SMS a few ms later each round so the interleavings
        // in between (cancel accepted then refused upstream, SMS polled first …) are all met.
        const skewMs = (round % (ROUNDS / 2)) * SKEW_STEP_MS;
        const [sms, cancel] = await Promise.all([
          new Promise((resolve) => setTimeout(resolve, skewMs)).then(() => s.deliverSms(tenant, upstreamId, code)),
          asTheApiSends(() => handle.executeUpdate(cancelActivationUpdate)).then(
            (view: ActivationView) => ({ ok: true as const, view }),
            (error: unknown) => ({ ok: false as const, error }),
          ),
        ]);
        const price = SELL_MICROS[tenant];
        const context = `round ${round} (${tenant}, SMS +${skewMs} ms): sms delivered=${sms.delivered}, cancel ok=${cancel.ok}`;
        const upstreamCancel = (await activityAttempts(handle)).find((a) => a.activity === 'cancelUpstream');
        log.push(`${context}, provider cancel ${upstreamCancel ? upstreamCancel.outcome : 'not tried'}`);

        if (cancel.ok) {
          // The provider took the cancel first, so the SMS found the number gone.
          expect({ context, delivered: sms.delivered, status: cancel.view.status }).toEqual({ context, delivered: false, status: 'CANCELLED' });
          expect(await handle.result()).toMatchObject({ status: 'CANCELLED', messages: [] });
          expect(await s.upstream(tenant, upstreamId)).toMatchObject({ state: 'CANCELLED', codes: [] });
          expectReleased(await moneyOf(wf.infra, userId, input.activationId), CEILING);
          outcomes.push('cancel won');
        } else {
          expect({ context, delivered: sms.delivered }).toEqual({ context, delivered: true });
          expect(cancel.error).toBeInstanceOf(WorkflowUpdateFailedError);
          const cause = (cancel.error as WorkflowUpdateFailedError).cause;
          expect(cause).toBeInstanceOf(ApplicationFailure);
          expect({ context, type: (cause as ApplicationFailure).type }).toEqual({ context, type: FailureType.SmsAlreadyReceived });
          // The refusal is only given once the SMS is the workflow's: stored and paid for.
          const money = await moneyOf(wf.infra, userId, input.activationId);
          expectCaptured(money, CEILING, price);
          expect(await asTheApiSends(() => handle.executeUpdate(finishActivationUpdate))).toMatchObject({ status: 'COMPLETED', messages: [{ seq: 1, code }] });
          expect(await s.upstream(tenant, upstreamId)).toMatchObject({ state: 'DONE', codes: [code] });
          outcomes.push('sms won');
        }
        // Settled once, either way, and the read model agrees.
        const money = await moneyOf(wf.infra, userId, input.activationId);
        expect(money.entries.map((e) => e.kind)).toEqual(cancel.ok ? ['HOLD', 'RELEASE'] : ['HOLD', 'CAPTURE']);
        expect(money.invariants).toEqual([]);
        expect((await recordOf(wf.infra, input.activationId)).status).toBe(cancel.ok ? 'CANCELLED' : 'COMPLETED');
      } finally {
        // Nothing outlives the worker; a failure here must not hide the one that got us here.
        await handle
          .describe()
          .then(async ({ status }) => (status.name === 'RUNNING' ? handle.terminate('test over') : undefined))
          .catch(() => undefined);
      }
    }
  });

  // Not an assertion on the interleaving (the scheduler decides), just what the rounds saw.
  process.stdout.write(`race outcomes: ${outcomes.filter((o) => o === 'cancel won').length} cancel won, ${outcomes.filter((o) => o === 'sms won').length} sms won\n${log.join('\n')}\n`);
  expect(outcomes).toHaveLength(ROUNDS);
}, 120_000);
