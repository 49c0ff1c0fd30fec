import type { Context as ActivityContext } from '@temporalio/activity';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import type { ActivityInterceptors } from '@temporalio/worker';
import { logContext, withLogContext } from '../lib/log-context';
import { REQUEST_ID_HEADER } from '../../workflows/interceptors';

function withRequestId(headers: Headers): Headers {
  const requestId = logContext()?.requestId;
  if (requestId === undefined || headers[REQUEST_ID_HEADER]) return headers;
  return { ...headers, [REQUEST_ID_HEADER]: defaultPayloadConverter.toPayload(requestId) };
}

function readRequestId(headers: Headers): string | undefined {
  const payload = headers[REQUEST_ID_HEADER];
  if (!payload) return undefined;
  const value: unknown = defaultPayloadConverter.fromPayload(payload);
  return typeof value === 'string' ? value : undefined;
}

/**
 * Client side: whatever starts, signals or updates a workflow inside a request (or an activity)
 * sends that request's id along in a Temporal header (workflows/interceptors.ts takes it from there).
 */
export const requestIdClientInterceptor: WorkflowClientInterceptor = {
  start: (input, next) => next({ ...input, headers: withRequestId(input.headers) }),
  startWithDetails: (input, next) => next({ ...input, headers: withRequestId(input.headers) }),
  signal: (input, next) => next({ ...input, headers: withRequestId(input.headers) }),
  signalWithStart: (input, next) => next({ ...input, headers: withRequestId(input.headers) }),
  startUpdate: (input, next) => next({ ...input, headers: withRequestId(input.headers) }),
  startUpdateWithStart: (input, next) => next({ ...input, workflowStartHeaders: withRequestId(input.workflowStartHeaders), updateHeaders: withRequestId(input.updateHeaders) }),
};

/**
 * Worker side: an activity runs inside a log context naming its workflow, its type and attempt,
 * and the request id its workflow passed on, so every line our code logs meanwhile (the pino
 * mixin in src/lib/logger.ts) and every line of the SDK's activity logger says which purchase it
 * is about. Signals and updates the activity sends carry the id on (requestIdClientInterceptor).
 */
export function activityLogInterceptors(ctx: ActivityContext): ActivityInterceptors {
  const { info } = ctx;
  let requestId: string | undefined;
  return {
    inbound: {
      execute(input, next) {
        requestId = readRequestId(input.headers);
        const fields = { workflowId: info.workflowExecution?.workflowId, workflowType: info.workflowType, activityType: info.activityType, attempt: info.attempt };
        return withLogContext(requestId === undefined ? fields : { ...fields, requestId }, () => next(input));
      },
    },
    outbound: {
      getLogAttributes: (input, next) => next(requestId === undefined ? input : { ...input, requestId }),
    },
  };
}
