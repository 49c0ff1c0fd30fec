import { FivesimTenant } from './fivesim/tenant';
import type { TenantConfig, TenantDeps } from './tenant-base';
import { SimTenant } from './tenant';

/** A simulated provider of either protocol; `protocol` (or instanceof) tells them apart. */
export type AnyTenant = SimTenant | FivesimTenant;

export function createTenant(config: TenantConfig, deps: TenantDeps): AnyTenant {
  return config.protocol === 'fivesim' ? new FivesimTenant(config, deps) : new SimTenant(config, deps);
}
