import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';

/**
 * The Temporal header carrying the id of the HTTP request behind a start, signal or update
 * (src/temporal/request-id.ts sets it on the client side). Also in src/temporal: keep both equal.
 */
export const REQUEST_ID_HEADER = 'simgate-request-id';

/**
 * Request ids through workflows: the id on the start, and later on each signal or update, becomes
 * the workflow's current one; it goes on every activity, child and continue-as-new the workflow
 * schedules next, and on every workflow log line. Headers and log attributes are no commands, so
 * histories from before this interceptor replay unchanged. State lives in the factory's closure:
 * one per workflow execution, whatever the V8 context reuse.
 */
export const interceptors: WorkflowInterceptorsFactory = () => {
  let requestId: string | undefined;
  const take = (headers: Headers): void => {
    const payload = headers[REQUEST_ID_HEADER];
    if (!payload) return;
    const value: unknown = defaultPayloadConverter.fromPayload(payload);
    if (typeof value === 'string') requestId = value;
  };
  const give = <T extends { headers: Headers }>(input: T): T =>
    requestId === undefined || input.headers[REQUEST_ID_HEADER] ? input : { ...input, headers: { ...input.headers, [REQUEST_ID_HEADER]: defaultPayloadConverter.toPayload(requestId) } };
  return {
    inbound: [
      {
        execute(input, next) {
          take(input.headers);
          return next(input);
        },
        handleSignal(input, next) {
          take(input.headers);
          return next(input);
        },
        // Not validateUpdate: validators do not run on replay, so what they saw would differ.
        handleUpdate(input, next) {
          take(input.headers);
          return next(input);
        },
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => next(give(input)),
        scheduleLocalActivity: (input, next) => next(give(input)),
        startChildWorkflowExecution: (input, next) => next(give(input)),
        signalWorkflow: (input, next) => next(give(input)),
        continueAsNew: (input, next) => next(give(input)),
        getLogAttributes: (input, next) => next(requestId === undefined ? input : { ...input, requestId }),
      },
    ],
  };
};
