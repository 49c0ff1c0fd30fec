import pino, { type DestinationStream, type Logger } from 'pino';
import { logContext } from './log-context';

export type { Logger };

/**
 * Fields that carry credentials wherever they appear in a log object: request headers (bearer
 * tokens, cookies, API keys, webhook secrets) and bodies or details naming a secret. URLs are
 * logged without their query string (src/http), so `?secret=` and `?access_token=` never get here.
 */
const REDACTED = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-webhook-secret"]',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.apiKey',
  '*.api_key',
  '*.token',
  '*.secret',
  '*.signingSecret',
  '*.webhookSecret',
  '*.access_token',
];

export function createLogger(level: string, name = 'simgate', destination?: DestinationStream): Logger {
  // Every line written inside a request or an activity names them (src/lib/log-context.ts); a
  // field the call itself gives wins. A copy: pino merges the line's own fields into what mixin returns.
  const options = { name, level, redact: { paths: REDACTED, censor: '[redacted]' }, mixin: () => ({ ...logContext() }) };
  return destination ? pino(options, destination) : pino(options);
}
