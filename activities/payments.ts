import type { PaymentsService } from '../src/payments';
import type { TopupCheck } from '../workflows/contracts';

/** A top-up's steps; each is keyed by the top-up id in PaymentsService, so a retry repeats nothing. */
export function createPaymentActivities(deps: { payments?: PaymentsService }) {
  const payments = () => {
    if (!deps.payments) throw new Error('this worker has no payments service');
    return deps.payments;
  };
  return {
    async openPayment(input: { topupId: string }): Promise<TopupCheck> {
      return payments().openPayment(input.topupId);
    },
    async checkPayment(input: { topupId: string; acceptPartial: boolean }): Promise<TopupCheck> {
      return payments().checkPayment(input.topupId, { acceptPartial: input.acceptPartial });
    },
    async expirePayment(input: { topupId: string }): Promise<void> {
      await payments().expirePayment(input.topupId);
    },
    async creditTopup(input: { topupId: string }): Promise<{ creditedMicros: string }> {
      return payments().creditTopup(input.topupId);
    },
    async endTopup(input: { topupId: string; status: 'EXPIRED' | 'FAILED'; reason: string }): Promise<void> {
      await payments().endTopup(input.topupId, input.status, input.reason);
    },
  };
}
