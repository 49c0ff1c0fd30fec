/**
 * PostgreSQL's verdict that a value itself is unacceptable — SQLSTATE class 22, "data exception":
 * a NUL byte in text (22021), a number out of range (22003)… Retrying the same write can never
 * succeed, unlike a lost connection or a lock timeout. Returns the SQLSTATE, or null for any
 * other error.
 */
export function sqlDataException(error: unknown): string | null {
  const meta = (error as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } } | null)?.meta;
  const code = meta?.driverAdapterError?.cause?.originalCode;
  return typeof code === 'string' && code.startsWith('22') ? code : null;
}
