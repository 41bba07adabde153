/**
 * Logger configuration. Patient data must never reach a log: requests are logged as
 * method/route/status only (see server/http-server.ts), secrets are redacted wherever
 * they might appear, and errors are serialised without driver details (a PostgreSQL
 * error's `detail` quotes row values).
 */
import type { LoggerOptions } from 'pino';

interface LoggableError {
  name?: string;
  code?: unknown;
  message?: string;
  stack?: string;
  cause?: unknown;
}

/** Error fields that are safe to log: type, code, our message, the stack, and the cause's type and code only. */
export function serializeError(e: unknown): Record<string, unknown> {
  if (typeof e !== 'object' || e === null) return { message: String(e) };
  const err = e as LoggableError;
  const out: Record<string, unknown> = { type: err.name, code: err.code, message: err.message, stack: err.stack };
  let cause = err.cause as LoggableError | undefined;
  const causes: Record<string, unknown>[] = [];
  while (cause !== undefined && cause !== null && typeof cause === 'object' && causes.length < 5) {
    causes.push({ type: cause.name, code: cause.code });
    cause = cause.cause as LoggableError | undefined;
  }
  if (causes.length > 0) out['causes'] = causes;
  return out;
}

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'token',
  'password',
  'body',
  'resource',
  'query',
  'url',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError, error: serializeError, req: (r: { method?: string; id?: unknown }) => ({ method: r.method, id: r.id }) },
  };
}
