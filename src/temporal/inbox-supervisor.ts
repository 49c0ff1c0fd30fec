import type { Client } from '@temporalio/client';
import type { Logger } from '../lib/logger';
import { ensureProviderInbox } from './schedules';

export interface InboxSupervisor {
  /** One pass now: every enabled provider's inbox poller started unless it runs. Resolves to their workflow ids. */
  check(): Promise<string[]>;
  stop(): void;
}

/**
 * Keeps one inbox poller (workflows/provider-inbox.ts) running per enabled provider, including
 * providers an admin adds or re-enables while the worker runs: every `everyMs` it lists the
 * enabled providers and starts the poller of any that has none (USE_EXISTING: a running one is
 * left as it is, so a pass is one cheap start call per provider). Every worker process runs one;
 * they agree, because the poller's workflow id is per provider.
 */
export function superviseInboxes(options: {
  client: Client;
  taskQueue: string;
  /** Ids of the providers that should have an inbox now (enabled, with credentials). */
  enabledProviders: () => Promise<string[]>;
  intervalMs: number;
  reconcileEveryMs?: number;
  orphanGraceMs?: number;
  everyMs: number;
  logger: Logger;
}): InboxSupervisor {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const check = async () => {
    const workflowIds: string[] = [];
    for (const providerId of await options.enabledProviders()) {
      const { workflowId } = await ensureProviderInbox(options.client, {
        providerId,
        taskQueue: options.taskQueue,
        intervalMs: options.intervalMs,
        reconcileEveryMs: options.reconcileEveryMs,
        orphanGraceMs: options.orphanGraceMs,
      });
      workflowIds.push(workflowId);
    }
    return workflowIds;
  };
  const loop = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      check()
        .catch((error: unknown) => options.logger.warn({ err: error }, 'inbox supervision pass failed; the next pass retries'))
        .finally(loop);
    }, options.everyMs);
    // Supervision never keeps a process alive that is otherwise done.
    timer.unref();
  };
  loop();
  return {
    check,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
