import type { PaymentsConfig } from '../config/app.config';
import type { Db } from '../db/client';
import { NowPaymentsProcessor } from './nowpayments.processor';
import type { PaymentProcessor } from './processor';
import { SandboxProcessor } from './sandbox.processor';
import { StripeProcessor } from './stripe.processor';

export { PaymentsService, type TopupOrchestrator, type TopupView, type PaymentsServiceDeps, type CouponInput } from './payments.service';
export type { PaymentProcessor, ProcessorId } from './processor';
export { PROCESSOR_IDS } from './processor';

/** The processors the configuration turns on (a real one when its keys are set; the sandbox outside production). */
export function createProcessors(config: PaymentsConfig, deps: { db: Db; publicUrl: string }): PaymentProcessor[] {
  const processors: PaymentProcessor[] = [];
  if (config.stripe) processors.push(new StripeProcessor(config.stripe));
  if (config.nowpayments) processors.push(new NowPaymentsProcessor(config.nowpayments));
  if (config.sandbox) processors.push(new SandboxProcessor(deps));
  return processors;
}
