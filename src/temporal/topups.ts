import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { paymentNoticeSignal, TOPUP_WORKFLOW_TYPE, type TopupInput } from '../../workflows/contracts';
import type { TopupOrchestrator } from '../payments';

/** Starts one top-up workflow per top-up (workflow id = top-up id) and passes verified callbacks to it. */
export class TemporalTopups implements TopupOrchestrator {
  constructor(private readonly deps: { client: Client; taskQueue: string; polling: TopupInput['polling']; settleGraceMs: number }) {}

  async start(topupId: string): Promise<void> {
    const input: TopupInput = { topupId, polling: this.deps.polling, settleGraceMs: this.deps.settleGraceMs };
    try {
      await this.deps.client.workflow.start(TOPUP_WORKFLOW_TYPE, {
        workflowId: topupId,
        taskQueue: this.deps.taskQueue,
        args: [input],
        // A top-up is started once: a retried create finds it running (or finished), never a second one.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }

  async notify(topupId: string, notice: { source: 'callback' | 'sandbox'; eventType: string }): Promise<void> {
    try {
      await this.deps.client.workflow.getHandle(topupId).signal(paymentNoticeSignal, notice);
    } catch (error) {
      // Finished already: the notice has nothing left to change.
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
}
