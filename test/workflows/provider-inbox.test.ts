/**
 * The provider inbox poller on the run's dev server (real time), with real components: the
 * simulator over HTTP, the real SMS-Activate adapter from the registry, the run's database and
 * the activation workflow. The activation's own fallback poll is set to 10 minutes, so an SMS
 * that reaches it within the test came through the inbox. The dev server fires timers at about
 * one-second granularity, so a poll takes about a second whatever `intervalMs` says: the tests
 * count polls rather than wait for times.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { ensureProviderInbox } from '../../src/temporal/schedules';
import { purchase } from '../../workflows/activation';
import {
  finishActivationUpdate,
  getActivationQuery,
  getProviderInboxQuery,
  providerInboxWorkflowId,
  requestAnotherSmsUpdate,
  type IncomingSms,
  type ProviderInboxInput,
  type ProviderInboxState,
} from '../../workflows/contracts';
import { useWorkflowTests } from './harness';
import { activationInput, activityAttempts, newCustomer, recordOf, untilActive, waitFor, waitForView, type Scenario } from './support';

const wf = useWorkflowTests('dev-server');

/** The pollers are long-running by design: end this test's ones. */
const endAfterTest = (workflowId: string) => wf.afterTest(() => wf.client.workflow.getHandle(workflowId).terminate('test over').catch(() => undefined));

/** The SMS signals in a workflow's history, decoded. */
async function smsSignals(handle: WorkflowHandle): Promise<IncomingSms[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const signal = e.workflowExecutionSignaledEventAttributes;
    if (!signal || signal.signalName !== 'smsReceived') return [];
    return [defaultPayloadConverter.fromPayload<IncomingSms>(signal.input!.payloads![0])];
  });
}

const inboxState = (s: Scenario) => wf.client.workflow.getHandle(providerInboxWorkflowId(s.providerId.hero)).query(getProviderInboxQuery);

/** Waits until the poller has polled `count` more times (in its current run). */
async function morePolls(s: Scenario, count: number): Promise<ProviderInboxState> {
  const start = (await inboxState(s)).iterations;
  return waitFor(async () => {
    const state = await inboxState(s);
    return state.iterations >= start + count ? state : null;
  }, { timeoutMs: 20_000, intervalMs: 50 });
}

/** An activation bought at hero, waiting for its SMS, with the fallback poll out of the way. */
async function activeAtHero(s: Scenario, taskQueue: string) {
  const userId = await newCustomer(wf.infra);
  const input = activationInput(userId, { polling: { initialMs: 600_000, maxMs: 600_000 } });
  const handle = await wf.client.workflow.start(purchase, { args: [input], workflowId: input.activationId, taskQueue });
  const { active, upstreamId } = await untilActive(wf.infra, handle);
  expect(active.providerId).toBe(s.providerId.hero);
  return { input, handle, upstreamId };
}

describe('provider inbox workflow (dev server)', () => {
  it('an SMS at the provider reaches the activation through the inbox; an unchanged code is signalled once; a new code after "another SMS" is delivered', async () => {
    const s = await wf.scenario();
    const { worker, taskQueue } = await wf.worker(s, 'inbox');

    const outcome = await worker.runUntil(async () => {
      const { input, handle, upstreamId } = await activeAtHero(s, taskQueue);
      const started = await ensureProviderInbox(wf.client, { providerId: s.providerId.hero, taskQueue, intervalMs: 200 });
      endAfterTest(started.workflowId);
      expect(started.workflowId).toBe(`provider-inbox-${s.providerId.hero}`);
      // Ensured again (another worker starting): the running poller is kept.
      expect(await ensureProviderInbox(wf.client, { providerId: s.providerId.hero, taskQueue, intervalMs: 200 })).toEqual(started);

      await morePolls(s, 1);
      expect(await smsSignals(handle)).toEqual([]);

      expect((await s.deliverSms('hero', upstreamId, '424242')).delivered).toBe(true);
      const withCode = await waitForView(handle, (v) => v.messages.length > 0);
      expect(withCode.messages).toEqual([{ seq: 1, code: '424242', text: '424242', receivedAt: expect.any(String) }]);

      // More polls see the same code: no second signal.
      const state = await morePolls(s, 3);
      expect(state.lastSignalled).toEqual({ [input.activationId]: '1:424242' });
      expect(state.signalled).toBe(1);
      expect(await smsSignals(handle)).toEqual([{ code: '424242', text: '424242', receivedAt: expect.any(String), source: 'inbox' }]);

      // "Another SMS": the old code, still listed, is not delivered again as if it were new …
      await handle.executeUpdate(requestAnotherSmsUpdate);
      await morePolls(s, 2);
      expect((await handle.query(getActivationQuery)).messages).toHaveLength(1);
      // … the new one is.
      expect((await s.deliverSms('hero', upstreamId, '515151')).delivered).toBe(true);
      const second = await waitForView(handle, (v) => v.messages.length === 2);
      expect(second.messages.map((m) => m.code)).toEqual(['424242', '515151']);
      await morePolls(s, 1);

      const signals = await smsSignals(handle);
      const attempts = await activityAttempts(handle);
      await handle.executeUpdate(finishActivationUpdate);
      const final = await handle.result();
      return { input, signals, attempts, final, inbox: await inboxState(s) };
    });

    expect(outcome.signals.map((x) => [x.code, x.source])).toEqual([
      ['424242', 'inbox'],
      ['515151', 'inbox'],
    ]);
    // Only the inbox delivered: the activation never polled the provider itself.
    expect(outcome.attempts.filter((a) => a.activity === 'pollUpstream')).toEqual([]);
    expect(outcome.final).toMatchObject({ status: 'COMPLETED' });
    expect(await recordOf(wf.infra, outcome.input.activationId)).toMatchObject({ status: 'COMPLETED', codes: ['424242', '515151'] });
    // The poll records nothing and keeps no state for activations the provider no longer lists.
    expect(outcome.inbox.signalled).toBe(2);
  });

  it('continue-as-new carries the last-signalled state, so the next run does not signal the same code again', async () => {
    const s = await wf.scenario();
    const { worker, taskQueue } = await wf.worker(s, 'inbox-can');

    await worker.runUntil(async () => {
      const { input, handle, upstreamId } = await activeAtHero(s, taskQueue);
      const started = await ensureProviderInbox(wf.client, { providerId: s.providerId.hero, taskQueue, intervalMs: 100, maxIterations: 2 });
      endAfterTest(started.workflowId);
      expect((await s.deliverSms('hero', upstreamId, '777123')).delivered).toBe(true);
      await waitForView(handle, (v) => v.messages.length > 0);

      // Two continue-as-new later (each run polls twice), the code is still known and not re-sent.
      const inbox = wf.client.workflow.getHandle(started.workflowId);
      const runs = new Set<string>([started.runId]);
      await waitFor(async () => {
        const { runId } = await inbox.describe();
        runs.add(runId);
        return runs.size >= 3;
      }, { timeoutMs: 20_000, intervalMs: 50 });
      const current = await inbox.describe();
      expect(current.runId).not.toBe(started.runId);
      expect(current.status.name).toBe('RUNNING');

      const first = (await inbox.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
      expect(first?.continuedExecutionRunId).toBeTruthy();
      const carried = defaultPayloadConverter.fromPayload<ProviderInboxInput>(first!.input!.payloads![0]);
      expect(carried).toMatchObject({ providerId: s.providerId.hero, intervalMs: 100, maxIterations: 2, lastSignalled: { [input.activationId]: '1:777123' } });

      const state = await inboxState(s);
      expect(state.lastSignalled).toEqual({ [input.activationId]: '1:777123' });
      expect(state.signalled).toBe(0);
      expect((await smsSignals(handle)).map((x) => x.code)).toEqual(['777123']);

      await handle.executeUpdate(finishActivationUpdate);
      expect(await handle.result()).toMatchObject({ status: 'COMPLETED', messages: [{ seq: 1, code: '777123' }] });
    });
  });
});
