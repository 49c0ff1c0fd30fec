import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptionsAction, type ScheduleUpdateOptions } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import {
  CATALOG_SYNC_SCHEDULE_ID,
  CATALOG_SYNC_WORKFLOW_TYPE,
  PROVIDER_INBOX_WORKFLOW_TYPE,
  providerInboxWorkflowId,
  type ProviderInboxInput,
} from '../../workflows/contracts';

/**
 * Periodic work (DESIGN.md): a Temporal Schedule for the catalog sync and one long-running
 * inbox workflow per provider. Everything here is idempotent, so every worker may call it at
 * start-up. Workflow types are named by string from the contract: this file never imports a
 * workflow module.
 */

export interface CatalogSyncScheduleOptions {
  taskQueue: string;
  /** How often; default 15 minutes. */
  every?: Duration;
  /** Default `catalog-sync`; tests use their own. */
  scheduleId?: string;
}

/**
 * Creates the catalog sync Schedule, or brings an existing one to these settings (interval,
 * task queue, overlap SKIP). Returns whether it was created.
 */
export async function ensureCatalogSyncSchedule(client: Client, options: CatalogSyncScheduleOptions): Promise<{ scheduleId: string; created: boolean }> {
  const scheduleId = options.scheduleId ?? CATALOG_SYNC_SCHEDULE_ID;
  const spec = { intervals: [{ every: options.every ?? '15 minutes' }] };
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: CATALOG_SYNC_WORKFLOW_TYPE,
    // The server appends the scheduled time: `catalog-sync-2025-01-01T00:15:00Z`.
    workflowId: scheduleId,
    taskQueue: options.taskQueue,
    args: [],
    workflowExecutionTimeout: '1 hour',
  };
  // A run still going when the next is due is enough: skip; a missed run (worker down) is caught up once.
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' as Duration };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies });
    return { scheduleId, created: true };
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await client.schedule.getHandle(scheduleId).update(
    (previous): ScheduleUpdateOptions => ({
      spec,
      action,
      policies: { ...policies, pauseOnFailure: previous.policies.pauseOnFailure },
      // Keep an operator's pause (and its note) as it is.
      state: { paused: previous.state.paused, note: previous.state.note },
    }),
  );
  return { scheduleId, created: false };
}

/** Runs a catalog sync now; one already running is let finish first (BUFFER_ONE), never run twice at once. */
export async function triggerCatalogSync(client: Client, options: { scheduleId?: string } = {}): Promise<void> {
  await client.schedule.getHandle(options.scheduleId ?? CATALOG_SYNC_SCHEDULE_ID).trigger(ScheduleOverlapPolicy.BUFFER_ONE);
}

/**
 * Starts the provider's inbox poller unless it is already running (conflict policy
 * USE_EXISTING: the running one keeps its state). Returns its workflow and run ids.
 */
export async function ensureProviderInbox(
  client: Client,
  options: { providerId: string; taskQueue: string } & Pick<ProviderInboxInput, 'intervalMs' | 'maxIterations' | 'reconcileEveryMs' | 'orphanGraceMs'>,
): Promise<{ workflowId: string; runId: string }> {
  const { providerId, intervalMs, maxIterations, reconcileEveryMs, orphanGraceMs } = options;
  const input: ProviderInboxInput = { providerId, intervalMs, maxIterations, reconcileEveryMs, orphanGraceMs };
  const handle = await client.workflow.start(PROVIDER_INBOX_WORKFLOW_TYPE, {
    workflowId: providerInboxWorkflowId(options.providerId),
    taskQueue: options.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
}
