-- AlterEnum
ALTER TYPE "IncidentKind" ADD VALUE 'DATA_REJECTED';

