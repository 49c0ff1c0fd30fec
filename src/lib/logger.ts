import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'simgate'): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.apiKey'], censor: '[redacted]' },
  });
}
