import type { Activation } from './types';

/**
 * What an activation's status is called, the same words in the customer's app and the admin
 * panel: an ACTIVE number that has its code is "Code received", never just "Active".
 */
export const STATUS_LABELS: Record<string, string> = {
  RESERVED: 'Getting a number',
  ACTIVE: 'Waiting for SMS',
  COMPLETED: 'Completed',
  CANCELLED: 'Cancelled',
  EXPIRED: 'Expired',
  FAILED: 'Failed',
};

export function statusLabel(activation: Pick<Activation, 'status' | 'messages'>): string {
  if (activation.status === 'ACTIVE' && activation.messages.length > 0) return 'Code received';
  return STATUS_LABELS[activation.status] ?? activation.status;
}
