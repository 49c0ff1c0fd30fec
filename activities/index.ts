import type { SmsIntake } from '../src/activations/sms-intake';
import type { CatalogService } from '../src/catalog/catalog.service';
import type { CatalogSearchEngine } from '../src/catalog/search/search-engine';
import type { Db } from '../src/db/client';
import type { Logger } from '../src/lib/logger';
import type { ActivationEventPublisher } from '../src/activations/live-events';
import type { PartnerEvents } from '../src/activations/partner-events';
import type { PartnerWebhookService } from '../src/auth/partner-webhooks.service';
import { AuditLog } from '../src/lib/audit';
import type { ProviderHealth } from '../src/providers/health';
import { IncidentService } from '../src/providers/incidents.service';
import type { ProviderRegistry } from '../src/providers/registry';
import type { PaymentsService } from '../src/payments';
import type { WalletService } from '../src/wallet';
import { createCatalogActivities } from './catalog';
import { withTypedFailures } from './failures';
import { createFundsActivities } from './funds';
import { createInboxActivities } from './inbox';
import { createPaymentActivities } from './payments';
import { createReconcileActivities } from './reconcile';
import { createRecordActivities } from './records';
import { createStepActivities } from './steps';
import { createUpstreamActivities } from './upstream';
import { createWebhookActivities } from './webhooks';

export interface ActivityDeps {
  db: Db;
  wallet: WalletService;
  catalog: CatalogService;
  providers: ProviderRegistry;
  events: ActivationEventPublisher;
  /** Delivery statistics for routing (numbers bought vs SMS received); optional in tests. */
  health?: Pick<ProviderHealth, 'recordPurchase' | 'recordSmsReceived'>;
  now?: () => number;
  /** The catalog search engine to refresh after a sync; default `catalog.search`. */
  search?: CatalogSearchEngine;
  /** Where the provider inbox hands the SMS it finds (signals over the worker's Temporal client). */
  intake?: SmsIntake;
  /** Where incidents are opened; the worker's (container.incidents), else one over `db`. */
  incidents?: IncidentService;
  logger?: Logger;
  /** Top-ups (workflows/topup.ts); a worker without it fails those activities, and nothing else. */
  payments?: PaymentsService;
  /** Partner endpoints: the address check at delivery, the auto-disable notice. */
  partnerWebhooks: Pick<PartnerWebhookService, 'deliveryCheck' | 'disableForFailures'>;
  /** Where record and capture activities enqueue partner webhook events; none: no events (tests of other parts). */
  partnerEvents?: Pick<PartnerEvents, 'activationChanged' | 'balanceAfterCapture'>;
  /** One delivery attempt's budget (WEBHOOK_TIMEOUT_MS); default 10 s. */
  webhookTimeoutMs?: number;
}

/** Everything a workflow may do to the world. Workflows import only this type. */
export function createActivities(options: ActivityDeps) {
  const deps = { ...options, incidents: options.incidents ?? new IncidentService({ db: options.db, audit: new AuditLog({ db: options.db }) }) };
  const funds = createFundsActivities(deps);
  const upstream = createUpstreamActivities(deps);
  const records = createRecordActivities(deps);
  return withTypedFailures({
    ...funds,
    ...upstream,
    ...records,
    ...createStepActivities({ funds, upstream, records, now: deps.now }),
    ...createCatalogActivities(deps),
    ...createInboxActivities(deps),
    ...createReconcileActivities(deps),
    ...createPaymentActivities(deps),
    ...createWebhookActivities({ db: deps.db, partnerWebhooks: deps.partnerWebhooks, timeoutMs: deps.webhookTimeoutMs ?? 10_000, now: deps.now }),
  });
}

export type Activities = ReturnType<typeof createActivities>;
export type { Reservation, ReserveInput } from './funds';
export type { UpstreamPurchase, UpstreamRef } from './upstream';
export type { InboxPollResult } from './inbox';
export type { BoughtAndRecorded, HeldAndBought } from './steps';
