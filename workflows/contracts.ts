/**
 * The contract between the API, the worker and the workflows: names, payloads, signals, queries,
 * updates, search attributes and failure types. The API imports this file, never a workflow.
 * Only @temporalio/workflow's definition helpers are used, so it is safe in the workflow sandbox.
 *
 * Money crosses this boundary as decimal strings of micro-dollars: payloads are JSON, and JSON
 * has no bigint.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';

export const ACTIVATION_WORKFLOW_TYPE = 'activationWorkflow';

export type ActivationStatus = 'RESERVED' | 'ACTIVE' | 'COMPLETED' | 'CANCELLED' | 'EXPIRED' | 'FAILED';
export const TERMINAL_STATUSES: readonly ActivationStatus[] = ['COMPLETED', 'CANCELLED', 'EXPIRED', 'FAILED'];

export interface ActivationInput {
  activationId: string;
  userId: string;
  serviceCode: string;
  countryIso: string;
  /** Ceiling the customer accepts; null means "the best price quoted when the workflow starts". */
  maxPriceMicros: string | null;
  polling: { initialMs: number; maxMs: number };
}

export interface SmsView {
  seq: number;
  code: string | null;
  text: string;
  receivedAt: string;
}

export interface ActivationView {
  id: string;
  status: ActivationStatus;
  serviceCode: string;
  countryIso: string;
  providerId: string | null;
  phone: string | null;
  heldMicros: string | null;
  priceMicros: string | null;
  expiresAt: string | null;
  cancelAllowedAt: string | null;
  failureReason: string | null;
  messages: SmsView[];
  /** Which customer actions the workflow would accept right now (the UI enables buttons from these). */
  actions: { cancel: boolean; retry: boolean; finish: boolean };
}

/** An SMS as seen by a webhook, an inbox poller or the workflow's own fallback poll. */
export interface IncomingSms {
  code: string | null;
  text: string;
  receivedAt: string;
  source: 'webhook' | 'poll' | 'inbox';
}

export const smsReceivedSignal = defineSignal<[IncomingSms]>('smsReceived');
export const getActivationQuery = defineQuery<ActivationView>('getActivation');

/** Returns once the number is bought (ACTIVE) or the purchase ended; used with update-with-start. */
export const awaitNumberUpdate = defineUpdate<ActivationView>('awaitNumber');
export const cancelActivationUpdate = defineUpdate<ActivationView>('cancelActivation');
export const requestAnotherSmsUpdate = defineUpdate<ActivationView>('requestAnotherSms');
export const finishActivationUpdate = defineUpdate<ActivationView>('finishActivation');

/** Custom search attributes: registered on the dev server by src/temporal/dev-server.ts. */
export const searchAttributes = {
  status: defineSearchAttributeKey('SimGateStatus', 'KEYWORD'),
  userId: defineSearchAttributeKey('SimGateUserId', 'KEYWORD'),
  providerId: defineSearchAttributeKey('SimGateProvider', 'KEYWORD'),
  serviceCode: defineSearchAttributeKey('SimGateService', 'KEYWORD'),
  countryIso: defineSearchAttributeKey('SimGateCountry', 'KEYWORD'),
} as const;

/**
 * ApplicationFailure types. Update validators and activities throw these; the API maps each to a
 * stable HTTP error code, and retry policies list the non-retryable ones.
 */
export const FailureType = {
  // refused customer actions (update validators)
  CancelTooEarly: 'CANCEL_TOO_EARLY',
  SmsAlreadyReceived: 'SMS_ALREADY_RECEIVED',
  NoSmsYet: 'NO_SMS_YET',
  AlreadyAwaitingSms: 'ALREADY_AWAITING_SMS',
  ActivationClosed: 'ACTIVATION_CLOSED',
  NotReady: 'ACTIVATION_NOT_READY',
  // activities
  InsufficientFunds: 'INSUFFICIENT_FUNDS',
  NoOffers: 'NO_OFFERS',
  HoldSettled: 'HOLD_ALREADY_SETTLED',
  ProviderNoNumbers: 'PROVIDER_NO_NUMBERS',
  ProviderRejected: 'PROVIDER_REJECTED',
  ProviderEarlyCancel: 'PROVIDER_EARLY_CANCEL',
  ProviderHasSms: 'PROVIDER_HAS_SMS',
  ProviderTransient: 'PROVIDER_TRANSIENT',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

// ─── Periodic work: catalog sync (a Schedule) and provider inboxes (long-running) ──────────────

export const CATALOG_SYNC_WORKFLOW_TYPE = 'catalogSyncWorkflow';
/** The one Schedule that starts catalogSyncWorkflow (src/temporal/schedules.ts). */
export const CATALOG_SYNC_SCHEDULE_ID = 'catalog-sync';

export interface CatalogSyncResult {
  /** Providers whose offers were pulled and upserted, in the order they were listed. */
  synced: { providerId: string; upserted: number; skipped: number }[];
  /** Providers whose sync failed after its retries; the others were synced regardless. */
  failed: { providerId: string; type: string | null; message: string }[];
  /** Whether the search index was refreshed afterwards (searches see the previous index if not). */
  indexed: boolean;
}

export const PROVIDER_INBOX_WORKFLOW_TYPE = 'providerInboxWorkflow';
/** One inbox poller per provider, so starting it twice finds the running one. */
export const providerInboxWorkflowId = (providerId: string) => `provider-inbox-${providerId}`;

/** Activation id → `<number of codes>:<newest code>` last signalled to it; only activations the provider still lists. */
export type InboxSignalled = Record<string, string>;

export interface ProviderInboxInput {
  providerId: string;
  /** Pause between two polls of the provider's active activations; default 5000. */
  intervalMs?: number;
  /** Polls per run before continue-as-new (also when the server suggests it); default 500. */
  maxIterations?: number;
  /** Carried over continue-as-new. */
  lastSignalled?: InboxSignalled;
}

export interface ProviderInboxState {
  providerId: string;
  /** Polls done in this run. */
  iterations: number;
  /** SMS signalled to activation workflows in this run. */
  signalled: number;
  consecutiveFailures: number;
  lastSignalled: InboxSignalled;
}

export const getProviderInboxQuery = defineQuery<ProviderInboxState>('getProviderInbox');
