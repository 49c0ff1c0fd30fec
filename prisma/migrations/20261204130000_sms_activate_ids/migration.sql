-- AlterTable
ALTER TABLE "activations" ADD COLUMN     "sms_activate_id" BIGSERIAL NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "activations_sms_activate_id_key" ON "activations"("sms_activate_id");

