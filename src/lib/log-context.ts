import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What every log line written while handling one request or running one activity says about its
 * origin: the request id (taken from X-Request-Id or made up by the API, carried through
 * Temporal headers into workflows and activities) and, in the worker, the workflow and activity.
 */
export interface LogContext {
  requestId?: string;
  workflowId?: string;
  workflowType?: string;
  activityType?: string;
  attempt?: number;
}

const storage = new AsyncLocalStorage<LogContext>();

/** The context of the code running now, if any. */
export function logContext(): LogContext | undefined {
  return storage.getStore();
}

/** Runs `fn` (and everything it awaits or schedules) with `fields` added to the current context. */
export function withLogContext<T>(fields: LogContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...fields }, fn);
}
