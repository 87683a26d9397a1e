// The daemon's structured logger: pino with redaction by key at any depth (cardholder data,
// secrets, QR text, the Authorization header), scrubbing of free text (ID and phone numbers), and
// serializers for requests that never include bodies.
import pino, { type Bindings, type ChildLoggerOptions, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { REDACTED, SENSITIVE_KEYS } from './redaction.ts';
import { scrubText, scrubValue } from './scrub.ts';

export interface LoggerConfig {
  /** pino level: fatal, error, warn, info, debug, trace, silent. Default info. */
  level?: string;
  /** Where lines go: a pino destination stream, a file path, or stdout (default). */
  destination?: DestinationStream | string;
  /** Extra keys to redact besides SENSITIVE_KEYS. */
  redactKeys?: string[];
  /** Static fields on every line (e.g. { service: 'yikad' }). */
  base?: Record<string, unknown>;
}

interface RawRequestLike {
  method?: string;
  url?: string;
  id?: string;
  ip?: string;
  routeOptions?: { url?: string };
  socket?: { remoteAddress?: string };
}

/** Request serializer: method, path (scrubbed), route and client; never headers or bodies. */
export function serializeRequest(req: RawRequestLike): Record<string, unknown> {
  return {
    id: req.id,
    method: req.method,
    url: req.url ? scrubText(req.url) : undefined,
    route: req.routeOptions?.url,
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
  };
}

function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: scrubText(String(err)) };
  const e = err as Error & { code?: string; statusCode?: number };
  return {
    type: e.name,
    code: e.code,
    message: scrubText(e.message),
    stack: e.stack ? scrubText(e.stack) : undefined,
    statusCode: e.statusCode,
  };
}

const SERIALIZED_KEYS = new Set(['req', 'err', 'error']);

function loggerOptions(config: LoggerConfig = {}): LoggerOptions {
  const sensitive = new Set([...SENSITIVE_KEYS, ...(config.redactKeys ?? [])]);
  return {
    level: config.level ?? 'info',
    base: config.base ?? { service: 'yikad' },
    serializers: { req: serializeRequest, err: serializeError, error: serializeError },
    formatters: {
      // Objects are scrubbed before redaction; redaction then removes whole sensitive fields.
      // req/err/error have their own serializers (which scrub); copying them here would lose getters.
      log: (obj) => {
        const out: Record<string, unknown> = {};
        for (const k in obj) out[k] = sensitive.has(k) ? REDACTED : SERIALIZED_KEYS.has(k) ? obj[k] : scrubValue(obj[k], sensitive);
        return out;
      },
      bindings: (bindings) => scrubValue(bindings, sensitive) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((a) => (typeof a === 'string' ? scrubText(a) : a)) as Parameters<typeof method>;
        return method.apply(this, scrubbed);
      },
    },
  };
}

export function createLogger(config: LoggerConfig = {}): Logger {
  const options = loggerOptions(config);
  const dest = config.destination;
  const logger = dest === undefined ? pino(options) : typeof dest === 'string' ? pino(options, pino.destination({ dest, mkdir: true, sync: false })) : pino(options, dest);
  // pino formats only the root's bindings; a child's bindings ({reqId}, {readerId} …) are scrubbed
  // here. Children inherit this `child` through their prototype, so grandchildren are covered too.
  const sensitive = new Set([...SENSITIVE_KEYS, ...(config.redactKeys ?? [])]);
  const originalChild = logger.child as unknown as (this: Logger, bindings: Bindings, options?: ChildLoggerOptions) => Logger;
  logger.child = function scrubbedChild(this: Logger, bindings: Bindings, childOptions?: ChildLoggerOptions) {
    return originalChild.call(this, scrubValue(bindings, sensitive) as Bindings, childOptions);
  } as unknown as Logger['child'];
  return logger;
}
