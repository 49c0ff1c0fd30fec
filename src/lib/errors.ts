import type { FailureCode } from '../../workflows/contracts';

/**
 * The one error type that crosses layers. `code` is one of the failure codes in
 * workflows/contracts.ts (stable and documented: README "Error codes"), which also says whether
 * it is worth retrying; `message` is safe to show a customer. Services throw it; the HTTP status
 * is decided at the edge, by src/http/middleware/errors.ts, never here.
 */
export class AppError extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
  }
}
