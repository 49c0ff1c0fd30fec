-- CreateTable
CREATE TABLE "purchase_keys" (
    "user_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "activation_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "purchase_keys_pkey" PRIMARY KEY ("user_id","key")
);

-- AddForeignKey
ALTER TABLE "purchase_keys" ADD CONSTRAINT "purchase_keys_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

