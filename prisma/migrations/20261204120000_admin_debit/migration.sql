-- AlterEnum
ALTER TYPE "LedgerKind" ADD VALUE 'DEBIT';

