import pino, { Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout. Secrets and request payloads are never passed to it. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'trailql' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'headers.authorization', '*.apiKey', '*.token'], censor: '[redacted]' },
  });
}
