import type { WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';

/**
 * Temporal's raw shapes (history events, pending activities) as the admin panel reads them:
 * plain JSON, one line of text per event a person cares about. Workflow-task bookkeeping is left
 * out; a failed workflow task is kept (it is what a stuck, non-deterministic workflow shows).
 */

// Temporal's protobuf shapes, named through the client's own signatures (no direct proto dependency).
type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type HistoryEvent = NonNullable<History['events']>[number];
type PendingActivity = NonNullable<WorkflowExecutionDescription['raw']['pendingActivities']>[number];
type Failure = NonNullable<PendingActivity['lastFailure']>;
type Timestamp = { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined;
type Payload = NonNullable<NonNullable<NonNullable<HistoryEvent['workflowExecutionStartedEventAttributes']>['input']>['payloads']>[number];

export interface TimelineEvent {
  id: number;
  at: string | null;
  kind: 'workflow' | 'step' | 'step-failed' | 'timer' | 'signal' | 'update' | 'state' | 'cancel' | 'problem';
  title: string;
  detail?: string;
}

export interface PendingActivityView {
  activityId: string;
  type: string;
  /** SCHEDULED, STARTED, CANCEL_REQUESTED, PAUSED … */
  state: string;
  attempt: number;
  maximumAttempts: number | null;
  lastStartedAt: string | null;
  /** When the next attempt runs (while it waits out its backoff). */
  nextAttemptAt: string | null;
  lastFailure: { message: string; type: string | null } | null;
}

export function timestampToIso(ts: Timestamp): string | null {
  if (!ts || ts.seconds == null) return null;
  const ms = Number(ts.seconds.toString()) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

function decode(payload: Payload | null | undefined): unknown {
  if (!payload) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(payload as never);
  } catch {
    return undefined;
  }
}

const firstOf = (payloads: { payloads?: Payload[] | null } | null | undefined) => decode(payloads?.payloads?.[0]);

function failureText(failure: Failure | null | undefined): string | undefined {
  if (!failure) return undefined;
  const type = failure.applicationFailureInfo?.type;
  const cause = failure.cause?.message && failure.cause.message !== failure.message ? ` (${failure.cause.message})` : '';
  return `${type ? `${type}: ` : ''}${failure.message ?? ''}${cause}`.trim();
}

function durationText(d: { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined): string {
  if (!d) return '';
  const ms = Number(d.seconds?.toString() ?? 0) * 1000 + Math.floor((d.nanos ?? 0) / 1e6);
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 100) / 10} s`;
}

function smsText(value: unknown): string {
  if (!value || typeof value !== 'object') return '';
  const sms = value as { code?: unknown; source?: unknown };
  return [typeof sms.code === 'string' ? `code ${sms.code}` : 'no code', typeof sms.source === 'string' ? `by ${sms.source}` : ''].filter(Boolean).join(' ');
}

/** What the SDK names the marker a local activity's outcome is recorded in. */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/** The marker's metadata (JSON written by the SDK's core, with or without payload encoding metadata). */
function localActivityMeta(payload: Payload | null | undefined): { activity_type?: string; attempt?: number } {
  if (!payload?.data) return {};
  try {
    return JSON.parse(Buffer.from(payload.data).toString('utf8')) as { activity_type?: string; attempt?: number };
  } catch {
    return {};
  }
}

/** The history as a timeline, oldest first. */
export function describeHistory(history: History): TimelineEvent[] {
  const scheduled = new Map<string, string>();
  const attempts = new Map<string, number>();
  const updates = new Map<string, string>();
  const out: TimelineEvent[] = [];
  for (const event of history.events ?? []) {
    const line = describeEvent(event, scheduled, attempts, updates);
    if (line) out.push({ id: Number(event.eventId?.toString() ?? 0), at: timestampToIso(event.eventTime as Timestamp), ...line });
  }
  return out;
}

function describeEvent(
  e: HistoryEvent,
  scheduled: Map<string, string>,
  attempts: Map<string, number>,
  updates: Map<string, string>,
): Omit<TimelineEvent, 'id' | 'at'> | null {
  const id = e.eventId?.toString() ?? '';
  if (e.workflowExecutionStartedEventAttributes) {
    const input = firstOf(e.workflowExecutionStartedEventAttributes.input) as { serviceCode?: string; countryIso?: string; maxPriceMicros?: string | null } | undefined;
    return { kind: 'workflow', title: 'Purchase started', detail: input ? `${input.serviceCode ?? '?'} in ${input.countryIso ?? '?'}${input.maxPriceMicros ? `, max ${input.maxPriceMicros} micros` : ''}` : undefined };
  }
  if (e.activityTaskScheduledEventAttributes) {
    scheduled.set(id, e.activityTaskScheduledEventAttributes.activityType?.name ?? 'activity');
    return null;
  }
  if (e.activityTaskStartedEventAttributes) {
    attempts.set(e.activityTaskStartedEventAttributes.scheduledEventId?.toString() ?? '', e.activityTaskStartedEventAttributes.attempt ?? 1);
    return null;
  }
  const step = (scheduledId: { toString(): string } | null | undefined) => {
    const key = scheduledId?.toString() ?? '';
    const attempt = attempts.get(key) ?? 1;
    return `${scheduled.get(key) ?? 'activity'}${attempt > 1 ? ` (attempt ${attempt})` : ''}`;
  };
  if (e.activityTaskCompletedEventAttributes) return { kind: 'step', title: `${step(e.activityTaskCompletedEventAttributes.scheduledEventId)} done` };
  if (e.activityTaskFailedEventAttributes) {
    return { kind: 'step-failed', title: `${step(e.activityTaskFailedEventAttributes.scheduledEventId)} failed`, detail: failureText(e.activityTaskFailedEventAttributes.failure) };
  }
  if (e.activityTaskTimedOutEventAttributes) return { kind: 'step-failed', title: `${step(e.activityTaskTimedOutEventAttributes.scheduledEventId)} timed out`, detail: failureText(e.activityTaskTimedOutEventAttributes.failure) };
  if (e.activityTaskCanceledEventAttributes) return { kind: 'step', title: `${step(e.activityTaskCanceledEventAttributes.scheduledEventId)} cancelled` };
  if (e.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER) {
    // A local activity (the activation's steps are: workflows/activation.ts): one marker per
    // finished run, its retries inside it, named in the marker's details.
    const marker = e.markerRecordedEventAttributes;
    const meta = localActivityMeta(marker.details?.data?.payloads?.[0]);
    const title = `${meta.activity_type ?? 'activity'}${(meta.attempt ?? 1) > 1 ? ` (attempt ${meta.attempt})` : ''}`;
    if (!marker.failure) return { kind: 'step', title: `${title} done` };
    if (marker.failure.canceledFailureInfo) return { kind: 'step', title: `${title} cancelled` };
    return { kind: 'step-failed', title: `${title} failed`, detail: failureText(marker.failure) };
  }
  if (e.timerStartedEventAttributes) {
    const a = e.timerStartedEventAttributes;
    return { kind: 'timer', title: `Waiting ${durationText(a.startToFireTimeout)}` };
  }
  if (e.timerFiredEventAttributes) return null;
  if (e.workflowExecutionSignaledEventAttributes) {
    const a = e.workflowExecutionSignaledEventAttributes;
    const value = firstOf(a.input);
    return { kind: 'signal', title: a.signalName === 'smsReceived' ? 'SMS received' : `Signal ${a.signalName}`, detail: a.signalName === 'smsReceived' ? smsText(value) : undefined };
  }
  if (e.workflowExecutionUpdateAcceptedEventAttributes) {
    const a = e.workflowExecutionUpdateAcceptedEventAttributes;
    const name = a.acceptedRequest?.input?.name ?? 'update';
    updates.set(a.protocolInstanceId ?? '', name);
    return name === 'awaitNumber' ? null : { kind: 'update', title: `Action ${name} accepted` };
  }
  if (e.workflowExecutionUpdateCompletedEventAttributes) {
    const a = e.workflowExecutionUpdateCompletedEventAttributes;
    const name = updates.get(a.meta?.updateId ?? '') ?? updates.values().next().value ?? 'update';
    const failure = a.outcome?.failure;
    if (!failure && name === 'awaitNumber') return null;
    return { kind: failure ? 'step-failed' : 'update', title: `Action ${name} ${failure ? 'refused' : 'done'}`, detail: failureText(failure) };
  }
  if (e.upsertWorkflowSearchAttributesEventAttributes) {
    const fields = e.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields ?? {};
    const parts = Object.entries(fields).map(([k, v]) => {
      const value = decode(v);
      return `${k.replace(/^SimGate/, '')}=${Array.isArray(value) ? value.join(',') : String(value)}`;
    });
    return { kind: 'state', title: 'State', detail: parts.join(' · ') };
  }
  if (e.workflowExecutionCancelRequestedEventAttributes) {
    return { kind: 'cancel', title: 'Cancellation requested', detail: e.workflowExecutionCancelRequestedEventAttributes.cause || e.workflowExecutionCancelRequestedEventAttributes.identity || undefined };
  }
  if (e.workflowTaskFailedEventAttributes) return { kind: 'problem', title: 'Workflow task failed', detail: failureText(e.workflowTaskFailedEventAttributes.failure) };
  if (e.workflowExecutionCompletedEventAttributes) {
    const view = firstOf(e.workflowExecutionCompletedEventAttributes.result) as { status?: string } | undefined;
    return { kind: 'workflow', title: `Workflow completed${view?.status ? `: ${view.status}` : ''}` };
  }
  if (e.workflowExecutionFailedEventAttributes) return { kind: 'problem', title: 'Workflow failed', detail: failureText(e.workflowExecutionFailedEventAttributes.failure) };
  if (e.workflowExecutionCanceledEventAttributes) return { kind: 'workflow', title: 'Workflow cancelled' };
  if (e.workflowExecutionTerminatedEventAttributes) return { kind: 'problem', title: 'Workflow terminated', detail: e.workflowExecutionTerminatedEventAttributes.reason ?? undefined };
  if (e.workflowExecutionTimedOutEventAttributes) return { kind: 'problem', title: 'Workflow timed out' };
  if (e.workflowExecutionContinuedAsNewEventAttributes) return { kind: 'workflow', title: 'Continued as new' };
  return null;
}

const ACTIVITY_STATES: Record<number, string> = { 1: 'SCHEDULED', 2: 'STARTED', 3: 'CANCEL_REQUESTED', 4: 'PAUSED', 5: 'PAUSE_REQUESTED' };

export function pendingActivityView(a: PendingActivity): PendingActivityView {
  return {
    activityId: a.activityId ?? '',
    type: a.activityType?.name ?? 'activity',
    state: ACTIVITY_STATES[Number(a.state ?? 0)] ?? 'UNKNOWN',
    attempt: a.attempt ?? 1,
    maximumAttempts: a.maximumAttempts ? a.maximumAttempts : null,
    lastStartedAt: timestampToIso(a.lastStartedTime as Timestamp),
    nextAttemptAt: timestampToIso(a.scheduledTime as Timestamp),
    lastFailure: a.lastFailure ? { message: failureText(a.lastFailure) ?? '', type: a.lastFailure.applicationFailureInfo?.type ?? null } : null,
  };
}
