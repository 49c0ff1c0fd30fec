import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';

export interface RequestSchema {
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
}

type Parsed<S extends RequestSchema> = {
  params: S['params'] extends z.ZodType ? z.infer<S['params']> : Record<string, never>;
  query: S['query'] extends z.ZodType ? z.infer<S['query']> : Record<string, never>;
  body: S['body'] extends z.ZodType ? z.infer<S['body']> : undefined;
};

/**
 * Validates params, query and body with one zod schema each and stores the parsed values, so a
 * handler reads `valid(res)` and never parses twice. Failures become 400 VALIDATION_ERROR with
 * every issue listed (see errors.ts).
 */
export function validate<S extends RequestSchema>(schema: S) {
  return (req: Request, res: Response, next: NextFunction) => {
    const parsed = z
      .object({ params: schema.params ?? z.any(), query: schema.query ?? z.any(), body: schema.body ?? z.any() })
      .parse({ params: req.params, query: req.query, body: req.body });
    res.locals.valid = parsed;
    next();
  };
}

export function valid<S extends RequestSchema>(res: Response, _schema: S): Parsed<S> {
  return res.locals.valid as Parsed<S>;
}
