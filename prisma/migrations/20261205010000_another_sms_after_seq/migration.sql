-- AlterTable
ALTER TABLE "activations" ADD COLUMN     "another_sms_after_seq" INTEGER;

