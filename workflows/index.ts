// What the worker bundles: every workflow type SimGate runs.
export { purchase, activation, activationWorkflow } from './activation';
export { catalogSyncWorkflow } from './catalog-sync';
export { providerInboxWorkflow } from './provider-inbox';
export { topupWorkflow } from './topup';
export { webhookDeliveryWorkflow } from './webhook-delivery';
