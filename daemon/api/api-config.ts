// The `api` section of the daemon config: where the HTTP API listens and who may call it.
// Safe by default: loopback only, no browser origin allowed but the daemon's own page, no remote
// access without a bearer token. The daemon engineer embeds API_CONFIG_SCHEMA in the config file's
// schema and passes the parsed section to resolveApiConfig().
import { isIP } from 'node:net';
import { ApiConfigError } from './api-errors.ts';

export interface ApiListen {
  host: string;
  port: number;
}

export interface RateLimitConfig {
  /** Sustained requests per second per client IP; 0 disables rate limiting. */
  perSecond: number;
  /** Bucket size: how many requests a client may send in a burst. */
  burst: number;
}

export interface ApiConfig {
  listen: ApiListen;
  /** Browser origins (scheme://host[:port]) allowed to call the API, e.g. "http://his.example.local:8080". */
  allowedOrigins: string[];
  /** Extra Host header names accepted besides localhost, 127.0.0.1 and [::1] (DNS-rebinding guard). */
  allowedHosts: string[];
  /** Bearer token required from non-loopback clients; required when listen.host is not loopback. */
  token?: string;
  rateLimit: RateLimitConfig;
  /** Maximum request body in bytes. */
  bodyLimit: number;
  /** Trust X-Forwarded-For from a reverse proxy (off: the socket address is the client). */
  trustProxy: boolean;
  /** How long browsers may cache a CORS preflight answer. */
  corsMaxAgeSeconds: number;
  websocket: {
    /** Interval of WebSocket pings and stream.heartbeat messages. */
    heartbeatMs: number;
    /** Concurrent event subscribers allowed. */
    maxSubscribers: number;
  };
  /** Serve the front-desk page at / (on by default). */
  webPage: boolean;
}

export const DEFAULT_API_CONFIG: Readonly<ApiConfig> = Object.freeze({
  listen: { host: '127.0.0.1', port: 7611 },
  allowedOrigins: [],
  allowedHosts: [],
  token: undefined,
  rateLimit: { perSecond: 50, burst: 100 },
  bodyLimit: 64 * 1024,
  trustProxy: false,
  corsMaxAgeSeconds: 600,
  websocket: { heartbeatMs: 15_000, maxSubscribers: 64 },
  webPage: true,
});

export type ApiConfigInput = Partial<Omit<ApiConfig, 'listen' | 'rateLimit' | 'websocket'>> & {
  listen?: Partial<ApiListen> | string;
  rateLimit?: Partial<RateLimitConfig> | false;
  websocket?: Partial<ApiConfig['websocket']>;
};

/** JSON schema of the api section, for the daemon's config-file schema. */
export const API_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    listen: {
      description: 'HOST:PORT or {host, port}. Default 127.0.0.1:7611. A non-loopback host needs token.',
      oneOf: [
        { type: 'string' },
        { type: 'object', additionalProperties: false, properties: { host: { type: 'string' }, port: { type: 'integer', minimum: 0, maximum: 65535 } } },
      ],
    },
    allowedOrigins: { type: 'array', items: { type: 'string' }, description: 'Browser origins allowed to call the API.' },
    allowedHosts: { type: 'array', items: { type: 'string' }, description: 'Extra Host names accepted (DNS-rebinding guard).' },
    token: { type: 'string', minLength: 16, description: 'Bearer token for non-loopback clients (at least 16 characters).' },
    rateLimit: {
      oneOf: [
        { const: false },
        { type: 'object', additionalProperties: false, properties: { perSecond: { type: 'number', minimum: 0 }, burst: { type: 'integer', minimum: 1 } } },
      ],
    },
    bodyLimit: { type: 'integer', minimum: 1024, maximum: 16 * 1024 * 1024 },
    trustProxy: { type: 'boolean' },
    corsMaxAgeSeconds: { type: 'integer', minimum: 0, maximum: 86400 },
    websocket: {
      type: 'object',
      additionalProperties: false,
      properties: { heartbeatMs: { type: 'integer', minimum: 100 }, maxSubscribers: { type: 'integer', minimum: 1 } },
    },
    webPage: { type: 'boolean' },
  },
} as const;

/** Is this a loopback IP address (127.0.0.0/8, ::1, IPv4-mapped loopback) or "localhost"? */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^\[|\]$/g, '');
  if (a === 'localhost' || a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** Parses "host:port", "[v6]:port" or ":port". */
export function parseListen(text: string): ApiListen {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  if (!m) throw new ApiConfigError(`api.listen: "${text}" is not HOST:PORT (e.g. 127.0.0.1:7611)`, { path: 'api.listen' });
  const port = Number(m[3]);
  if (port > 65535) throw new ApiConfigError(`api.listen: port ${port} is out of range`, { path: 'api.listen' });
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** Normalises an origin for comparison: lower-case scheme and host, no trailing slash, default ports dropped. */
export function normaliseOrigin(origin: string): string | undefined {
  if (origin === 'null') return undefined;
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return u.origin; // URL.origin lower-cases and drops default ports
  } catch {
    return undefined;
  }
}

/** Fills defaults and validates; throws ApiConfigError naming the field. */
export function resolveApiConfig(input: ApiConfigInput = {}): ApiConfig {
  const fail = (path: string, problem: string): never => {
    throw new ApiConfigError(`api.${path}: ${problem}`, { path: `api.${path}` });
  };
  const listen: ApiListen =
    typeof input.listen === 'string'
      ? parseListen(input.listen)
      : { host: input.listen?.host ?? DEFAULT_API_CONFIG.listen.host, port: input.listen?.port ?? DEFAULT_API_CONFIG.listen.port };
  if (!Number.isInteger(listen.port) || listen.port < 0 || listen.port > 65535) fail('listen.port', `${listen.port} is not a port number`);

  const token = input.token;
  if (token !== undefined && (typeof token !== 'string' || token.length < 16)) fail('token', 'must be a string of at least 16 characters');
  if (!isLoopbackAddress(listen.host) && !token) {
    fail('listen', `listening on ${listen.host} exposes the API to the network; set api.token (Authorization: Bearer) or listen on 127.0.0.1`);
  }

  const allowedOrigins: string[] = [];
  for (const [i, o] of (input.allowedOrigins ?? []).entries()) {
    const n = typeof o === 'string' ? normaliseOrigin(o) : undefined;
    if (!n || o === '*') fail(`allowedOrigins[${i}]`, `"${String(o)}" is not an origin like http://his.example.local:8080 (no wildcards)`);
    allowedOrigins.push(n as string);
  }
  const allowedHosts = (input.allowedHosts ?? []).map((h, i) => {
    if (typeof h !== 'string' || !/^[a-z0-9.\-[\]:]+$/i.test(h)) fail(`allowedHosts[${i}]`, `"${String(h)}" is not a host name`);
    return h.toLowerCase().replace(/^\[|\]$/g, '');
  });

  let rateLimit: RateLimitConfig;
  if (input.rateLimit === false) rateLimit = { perSecond: 0, burst: 1 };
  else {
    rateLimit = { ...DEFAULT_API_CONFIG.rateLimit, ...input.rateLimit };
    if (!(rateLimit.perSecond >= 0)) fail('rateLimit.perSecond', 'must be ≥ 0');
    if (!(Number.isInteger(rateLimit.burst) && rateLimit.burst >= 1)) fail('rateLimit.burst', 'must be an integer ≥ 1');
  }
  const bodyLimit = input.bodyLimit ?? DEFAULT_API_CONFIG.bodyLimit;
  if (!Number.isInteger(bodyLimit) || bodyLimit < 1024) fail('bodyLimit', 'must be an integer ≥ 1024 bytes');
  const websocket = { ...DEFAULT_API_CONFIG.websocket, ...input.websocket };
  if (!(websocket.heartbeatMs >= 100)) fail('websocket.heartbeatMs', 'must be ≥ 100');
  if (!(websocket.maxSubscribers >= 1)) fail('websocket.maxSubscribers', 'must be ≥ 1');
  const corsMaxAgeSeconds = input.corsMaxAgeSeconds ?? DEFAULT_API_CONFIG.corsMaxAgeSeconds;
  if (!Number.isInteger(corsMaxAgeSeconds) || corsMaxAgeSeconds < 0) fail('corsMaxAgeSeconds', 'must be an integer ≥ 0');

  return {
    listen,
    allowedOrigins,
    allowedHosts,
    token,
    rateLimit,
    bodyLimit,
    trustProxy: input.trustProxy ?? false,
    corsMaxAgeSeconds,
    websocket,
    webPage: input.webPage ?? true,
  };
}
