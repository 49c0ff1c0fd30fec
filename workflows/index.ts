// What the worker bundles: every workflow type SimGate runs.
export { activationWorkflow } from './activation';
