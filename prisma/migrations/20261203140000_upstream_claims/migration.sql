-- CreateTable
CREATE TABLE "upstream_claims" (
    "provider_id" TEXT NOT NULL,
    "upstream_id" TEXT NOT NULL,
    "activation_id" TEXT,
    "claimed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "upstream_claims_pkey" PRIMARY KEY ("provider_id","upstream_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "upstream_claims_activation_id_key" ON "upstream_claims"("activation_id");


-- Every number already recorded keeps its owner: the activation that bought it, or reconciliation.
INSERT INTO "upstream_claims" ("provider_id", "upstream_id", "activation_id", "claimed_at")
SELECT "provider_id", "upstream_id", "id", COALESCE("activated_at", "created_at") FROM "activations"
WHERE "provider_id" IS NOT NULL AND "upstream_id" IS NOT NULL
ON CONFLICT DO NOTHING;
INSERT INTO "upstream_claims" ("provider_id", "upstream_id", "activation_id", "claimed_at")
SELECT "provider_id", "upstream_id", NULL, "created_at" FROM "upstream_incidents"
WHERE "kind" = 'ORPHAN_NUMBER' AND "upstream_id" IS NOT NULL
ON CONFLICT DO NOTHING;
