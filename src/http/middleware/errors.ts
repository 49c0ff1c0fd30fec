import type { NextFunction, Request, Response } from 'express';
import { ZodError } from 'zod';
import { AppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** The one mapping from any thrown value to an HTTP answer; internals are logged, never sent. */
export function toHttpError(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof AppError) {
    return { status: error.status, body: { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } } };
  }
  if (error instanceof ZodError) {
    const issues = error.issues.map((issue) => ({ path: issue.path.slice(1).join('.'), message: issue.message }));
    return { status: 400, body: { error: { code: 'VALIDATION_ERROR', message: issues.map((i) => `${i.path || 'request'}: ${i.message}`).join('; '), details: { issues } } } };
  }
  const typed = error as { type?: string; status?: number };
  if (typed?.type === 'entity.parse.failed') return { status: 400, body: { error: { code: 'MALFORMED_JSON', message: 'The request body is not valid JSON.' } } };
  if (typed?.type === 'entity.too.large') return { status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', message: 'The request body is too large.' } } };
  if (typed?.status && typed.status >= 400 && typed.status < 500) {
    return { status: typed.status, body: { error: { code: 'BAD_REQUEST', message: 'The request could not be processed.' } } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'Something went wrong on our side; nothing was charged twice. Please retry.' } } };
}

export function errorHandler(logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, body } = toHttpError(error);
    if (status >= 500) logger.error({ err: error, method: req.method, url: req.originalUrl }, 'request failed');
    if (res.headersSent) return;
    res.status(status).json(body);
  };
}

export function notFoundHandler(_req: Request, res: Response) {
  res.status(404).json({ error: { code: 'ROUTE_NOT_FOUND', message: 'No such endpoint.' } });
}
