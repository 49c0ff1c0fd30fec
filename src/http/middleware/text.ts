import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../lib/errors';
import { escapeInvalidText, findInvalidText } from '../../lib/text';

type Part = 'path' | 'query' | 'headers' | 'body';

/**
 * The URL path as route params will see it: Express decodes each segment with
 * decodeURIComponent. A segment that does not decode is left to the router, which refuses it
 * with a 400 of its own.
 */
function decodedSegments(path: string): string[] {
  return path.split('/').map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return '';
    }
  });
}

/**
 * Refuses, before any route runs, a request whose path, query, headers or JSON body holds
 * invalid text (src/lib/text.ts): 400 INVALID_TEXT naming where. One check for every route —
 * those with a zod schema and those without, fields a schema passes through, the headers we
 * store (Idempotency-Key) — so no string PostgreSQL would refuse reaches a query and answers
 * 500. Node's HTTP parser already refuses controls in header values; they are checked anyway,
 * as the rule is ours, not the parser's.
 */
export function refuseInvalidText(req: Request, _res: Response, next: NextFunction) {
  const parts: [Part, unknown][] = [
    ['path', decodedSegments(req.path)],
    ['query', req.query],
    ['headers', req.headers],
    ['body', req.body],
  ];
  for (const [part, value] of parts) {
    const found = findInvalidText(value);
    if (found === null) continue;
    // A bad key is part of its own path: named, not repeated.
    const at = escapeInvalidText(found);
    // The path part is reported whole: its segment index means nothing to a caller.
    const where = part === 'path' ? 'path' : at ? `${part}.${at}` : part;
    throw new AppError('INVALID_TEXT', `${where}: text may not contain U+0000, control characters other than tab and newline, or unpaired surrogates`, {
      in: part,
      ...(part === 'path' ? {} : { path: at }),
    });
  }
  next();
}
