import type { CatalogService } from '../src/catalog/catalog.service';
import type { Db } from '../src/db/client';
import type { ActivationEventPublisher } from '../src/notify/activation-events';
import type { ProviderRegistry } from '../src/providers/registry';
import type { WalletService } from '../src/wallet';
import { withTypedFailures } from './failures';
import { createFundsActivities } from './funds';
import { createRecordActivities } from './records';
import { createUpstreamActivities } from './upstream';

export interface ActivityDeps {
  db: Db;
  wallet: WalletService;
  catalog: CatalogService;
  providers: ProviderRegistry;
  events: ActivationEventPublisher;
  now?: () => number;
}

/** Everything a workflow may do to the world. Workflows import only this type. */
export function createActivities(deps: ActivityDeps) {
  return withTypedFailures({
    ...createFundsActivities(deps),
    ...createUpstreamActivities(deps),
    ...createRecordActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;
export type { Reservation, ReserveInput } from './funds';
export type { UpstreamPurchase, UpstreamRef } from './upstream';
