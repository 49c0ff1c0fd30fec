-- CreateEnum
CREATE TYPE "TopupStatus" AS ENUM ('CREATED', 'AWAITING_PAYMENT', 'CONFIRMED', 'CREDITED', 'EXPIRED', 'FAILED');

-- CreateEnum
CREATE TYPE "CouponKind" AS ENUM ('FIXED', 'PERCENT');

-- CreateEnum
CREATE TYPE "CouponRedemptionStatus" AS ENUM ('RESERVED', 'APPLIED', 'RELEASED');

-- AlterEnum
ALTER TYPE "IncidentKind" ADD VALUE 'PAYMENT_SHORTFALL';

-- CreateTable
CREATE TABLE "topups" (
    "id" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "processor" TEXT NOT NULL,
    "status" "TopupStatus" NOT NULL DEFAULT 'CREATED',
    "amount_micros" BIGINT NOT NULL,
    "currency" TEXT NOT NULL DEFAULT 'usd',
    "processor_amount" TEXT,
    "usd_rate" TEXT,
    "processor_ref" TEXT,
    "charge_ref" TEXT,
    "checkout_url" TEXT,
    "pay_address" TEXT,
    "paid_amount" TEXT,
    "credited_micros" BIGINT,
    "bonus_micros" BIGINT NOT NULL DEFAULT 0,
    "fee_micros" BIGINT,
    "reversed_micros" BIGINT NOT NULL DEFAULT 0,
    "coupon_code" TEXT,
    "failure_reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "confirmed_at" TIMESTAMPTZ(3),
    "credited_at" TIMESTAMPTZ(3),
    "ended_at" TIMESTAMPTZ(3),

    CONSTRAINT "topups_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "payment_events" (
    "id" BIGSERIAL NOT NULL,
    "processor" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "topup_id" TEXT,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payment_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "coupons" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "code" TEXT NOT NULL,
    "kind" "CouponKind" NOT NULL,
    "value" BIGINT NOT NULL,
    "max_uses" INTEGER,
    "uses" INTEGER NOT NULL DEFAULT 0,
    "per_customer_limit" INTEGER NOT NULL DEFAULT 1,
    "min_topup_micros" BIGINT NOT NULL DEFAULT 0,
    "expires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "coupons_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "coupon_redemptions" (
    "id" BIGSERIAL NOT NULL,
    "coupon_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "topup_id" TEXT NOT NULL,
    "bonus_micros" BIGINT NOT NULL,
    "status" "CouponRedemptionStatus" NOT NULL DEFAULT 'RESERVED',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "coupon_redemptions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sandbox_payments" (
    "id" TEXT NOT NULL,
    "topup_id" TEXT NOT NULL,
    "amount_micros" BIGINT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'open',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "paid_at" TIMESTAMPTZ(3),

    CONSTRAINT "sandbox_payments_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "topups_processor_charge_ref_idx" ON "topups"("processor", "charge_ref");

-- CreateIndex
CREATE INDEX "topups_user_id_created_at_idx" ON "topups"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "topups_status_created_at_idx" ON "topups"("status", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "topups_processor_processor_ref_key" ON "topups"("processor", "processor_ref");

-- CreateIndex
CREATE INDEX "payment_events_topup_id_idx" ON "payment_events"("topup_id");

-- CreateIndex
CREATE UNIQUE INDEX "payment_events_processor_event_id_key" ON "payment_events"("processor", "event_id");

-- CreateIndex
CREATE UNIQUE INDEX "coupons_code_key" ON "coupons"("code");

-- CreateIndex
CREATE UNIQUE INDEX "coupon_redemptions_topup_id_key" ON "coupon_redemptions"("topup_id");

-- CreateIndex
CREATE INDEX "coupon_redemptions_coupon_id_user_id_idx" ON "coupon_redemptions"("coupon_id", "user_id");

-- CreateIndex
CREATE UNIQUE INDEX "sandbox_payments_topup_id_key" ON "sandbox_payments"("topup_id");

-- AddForeignKey
ALTER TABLE "coupon_redemptions" ADD CONSTRAINT "coupon_redemptions_coupon_id_fkey" FOREIGN KEY ("coupon_id") REFERENCES "coupons"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

