// The `api` section of the daemon config: where the HTTP API listens and who may call it.
// Safe by default: loopback only, no browser origin allowed but the daemon's own page, no remote
// access without a bearer token. The daemon engineer embeds API_CONFIG_SCHEMA in the config file's
// schema and passes the parsed section to resolveApiConfig().
import { BlockList, isIP } from 'node:net';
import { ApiConfigError } from './api-errors.ts';
import { CAPABILITIES, DEFAULT_TOKEN_CAPABILITIES, type Capability, type TokenGrant } from './capabilities.ts';

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
  /**
   * Bearer token: required from non-loopback clients (and when listen.host is not loopback), and from
   * every client for the operations that can harm a card or a SAM (capabilities.ts). It carries every
   * capability but apdu.restricted.
   */
  token?: string;
  /** More tokens, each with its own capabilities (e.g. a vendor tool with apdu.restricted). */
  tokens: Array<{ name?: string; token: string; capabilities: Capability[] }>;
  rateLimit: RateLimitConfig;
  /** Maximum request body in bytes. */
  bodyLimit: number;
  /**
   * Reverse proxies (IP addresses or CIDR ranges) whose X-Forwarded-For is believed. The client is the
   * first address from the right of the chain that is not a trusted proxy. A request relayed by a
   * proxy is never a loopback request, whatever the header says. Empty: the socket address is the client.
   */
  trustProxy: string[];
  /** How long browsers may cache a CORS preflight answer. */
  corsMaxAgeSeconds: number;
  websocket: {
    /** Interval of WebSocket pings and stream.heartbeat messages. */
    heartbeatMs: number;
    /** Concurrent event subscribers allowed per pool (the daemon's page, each allowed origin, each token, other local clients). */
    maxSubscribers: number;
  };
  /** Serve the front-desk page at / (on by default). */
  webPage: boolean;
}

const DEFAULT_API_CONFIG: Readonly<ApiConfig> = Object.freeze({
  listen: { host: '127.0.0.1', port: 7611 },
  allowedOrigins: [],
  allowedHosts: [],
  token: undefined,
  tokens: [],
  rateLimit: { perSecond: 50, burst: 100 },
  bodyLimit: 64 * 1024,
  trustProxy: [],
  corsMaxAgeSeconds: 600,
  websocket: { heartbeatMs: 15_000, maxSubscribers: 64 },
  webPage: true,
});

export type ApiConfigInput = Partial<Omit<ApiConfig, 'listen' | 'rateLimit' | 'websocket' | 'trustProxy' | 'tokens'>> & {
  listen?: Partial<ApiListen> | string;
  /** false/[] = no proxy; `true` is refused (it trusted every hop, so a client could claim to be loopback). */
  trustProxy?: string[] | boolean;
  tokens?: Array<{ name?: string; token: string; capabilities: string[] }>;
  /** Where yikad writes the token it generates when none is configured (main.ts; not used by the server). */
  tokenFile?: string;
  rateLimit?: Partial<RateLimitConfig> | false;
  websocket?: Partial<ApiConfig['websocket']>;
};

/** A port 0–65535 as a regular expression (JSON Schema `pattern` has no numeric range). */
const PORT_PATTERN = '(?:6553[0-5]|655[0-2]\\d|65[0-4]\\d{2}|6[0-4]\\d{3}|[1-5]\\d{4}|\\d{1,4})';
/**
 * The one grammar of a listen address, for the config schema, the flag and the variable:
 * "HOST:PORT", "[v6]:PORT", ":PORT" or "PORT", surrounding blanks ignored (host defaults to 127.0.0.1).
 */
export const LISTEN_PATTERN = `^\\s*(?:(?:\\[[^\\]]+\\]|[^:\\s\\[\\]]*):)?${PORT_PATTERN}\\s*$`;

/** JSON schema of the api section, for the daemon's config-file schema. */
export const API_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    listen: {
      description: 'HOST:PORT or {host, port}. Default 127.0.0.1:7611. A non-loopback host needs token.',
      // if/then/else rather than oneOf: a validator then reports the one branch that applies.
      if: { type: 'string' },
      then: { type: 'string', pattern: LISTEN_PATTERN },
      else: { type: 'object', additionalProperties: false, properties: { host: { type: 'string', minLength: 1 }, port: { type: 'integer', minimum: 0, maximum: 65535 } } },
    },
    allowedOrigins: { type: 'array', items: { type: 'string' }, description: 'Browser origins allowed to call the API.' },
    allowedHosts: { type: 'array', items: { type: 'string' }, description: 'Extra Host names accepted (DNS-rebinding guard).' },
    token: {
      type: 'string',
      minLength: 16,
      writeOnly: true,
      description: 'Bearer token (at least 16 characters): needed from other machines, and from any client for writes, raw APDUs, unmasked traces and trust-bundle installs. Every capability but apdu.restricted.',
    },
    tokens: {
      type: 'array',
      description: 'More bearer tokens, each with the capabilities it grants (read is always included).',
      items: {
        type: 'object',
        required: ['token', 'capabilities'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', description: 'A label for logs (never the token)' },
          token: { type: 'string', minLength: 16, writeOnly: true },
          capabilities: { type: 'array', items: { enum: [...CAPABILITIES] } },
        },
      },
    },
    tokenFile: {
      type: 'string',
      description: 'When no token is configured, yikad generates one at each start and writes it here (mode 0600); the yika CLI reads it. Default $XDG_RUNTIME_DIR/yika/api-token, else ~/.local/state/yika/api-token.',
    },
    rateLimit: {
      description: 'false: no rate limit.',
      if: { const: false },
      else: { type: 'object', additionalProperties: false, properties: { perSecond: { type: 'number', minimum: 0 }, burst: { type: 'integer', minimum: 1 } } },
    },
    bodyLimit: { type: 'integer', minimum: 1024, maximum: 16 * 1024 * 1024 },
    trustProxy: {
      description: 'Reverse proxies (IP addresses or CIDR ranges) whose X-Forwarded-For is believed; false or [] for none.',
      if: { const: false },
      else: { type: 'array', items: { type: 'string' } },
    },
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

const LISTEN_REGEXP = new RegExp(LISTEN_PATTERN, 'u');

/** Parses a listen address (LISTEN_PATTERN); throws ApiConfigError with `details.problem` saying what is wrong. */
export function parseListen(text: string): ApiListen {
  const m = /^\s*(?:(?:\[([^\]]+)\]|([^:\s[\]]*)):)?(\d+)\s*$/.exec(text);
  const fail = (problem: string): never => {
    throw new ApiConfigError(`api.listen: ${problem}`, { path: 'api.listen', problem });
  };
  if (!m) fail(`expected HOST:PORT, :PORT or PORT (e.g. 127.0.0.1:7611), got "${text}"`);
  const port = Number(m![3]);
  if (port > 65535) fail(`port ${m![3]} is out of range (0–65535)`);
  if (!LISTEN_REGEXP.test(text)) fail(`expected HOST:PORT, :PORT or PORT (e.g. 127.0.0.1:7611), got "${text}"`);
  return { host: m![1] ?? (m![2] || '127.0.0.1'), port };
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
  if (!isLoopbackAddress(listen.host) && !token && !(input.tokens ?? []).length) {
    fail('listen', `listening on ${listen.host} exposes the API to the network; set api.token (Authorization: Bearer) or listen on 127.0.0.1`);
  }

  const tokens: ApiConfig['tokens'] = [];
  for (const [i, t] of (input.tokens ?? []).entries()) {
    if (typeof t !== 'object' || t === null) fail(`tokens[${i}]`, 'expected {token, capabilities}');
    if (typeof t.token !== 'string' || t.token.length < 16) fail(`tokens[${i}].token`, 'must be a string of at least 16 characters');
    if (!Array.isArray(t.capabilities)) fail(`tokens[${i}].capabilities`, `expected a list of ${CAPABILITIES.join(', ')}`);
    for (const c of t.capabilities) if (!CAPABILITIES.includes(c as Capability)) fail(`tokens[${i}].capabilities`, `"${String(c)}" is not one of ${CAPABILITIES.join(', ')}`);
    if (t.token === token || tokens.some((o) => o.token === t.token)) fail(`tokens[${i}].token`, 'the same token is configured twice');
    tokens.push({ name: t.name ?? `tokens[${i}]`, token: t.token, capabilities: t.capabilities as Capability[] });
  }
  if (input.trustProxy === true) {
    fail('trustProxy', 'true is no longer accepted (it believed every hop, so a client could claim to be 127.0.0.1); list the proxy addresses, e.g. ["127.0.0.1"] or ["10.0.0.0/8"]');
  }
  const trustProxy: string[] = [];
  for (const [i, p] of (Array.isArray(input.trustProxy) ? input.trustProxy : []).entries()) {
    if (typeof p !== 'string' || !parseProxyEntry(p)) fail(`trustProxy[${i}]`, `"${String(p)}" is not an IP address or CIDR range (e.g. 127.0.0.1, 10.0.0.0/8, ::1)`);
    trustProxy.push(p);
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
    tokens,
    trustProxy,
    corsMaxAgeSeconds,
    websocket,
    webPage: input.webPage ?? true,
  };
}

/** Strips IPv4-mapped IPv6 ("::ffff:1.2.3.4" → "1.2.3.4") and brackets. */
export function plainAddress(address: string): string {
  const a = address.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

function parseProxyEntry(entry: string): { address: string; prefix?: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [addr, bits, extra] = entry.trim().split('/');
  if (extra !== undefined) return undefined;
  const a = plainAddress(addr);
  const v = isIP(a);
  if (!v) return undefined;
  const family = v === 4 ? 'ipv4' : 'ipv6';
  if (bits === undefined) return { address: a, family };
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > (v === 4 ? 32 : 128)) return undefined;
  return { address: a, prefix: Number(bits), family };
}

/** The trusted reverse proxies as a BlockList (addresses and ranges). */
export function proxyList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const e of entries) {
    const p = parseProxyEntry(e);
    if (!p) continue;
    if (p.prefix === undefined) list.addAddress(p.address, p.family);
    else list.addSubnet(p.address, p.prefix, p.family);
  }
  return list;
}

/** Every configured token with its capabilities (the one api.token first). */
export function tokenGrants(config: ApiConfig): TokenGrant[] {
  const grants: TokenGrant[] = [];
  if (config.token) grants.push({ name: 'api.token', token: config.token, capabilities: new Set(DEFAULT_TOKEN_CAPABILITIES) });
  for (const t of config.tokens) grants.push({ name: t.name ?? 'token', token: t.token, capabilities: new Set<Capability>(['read', ...t.capabilities]) });
  return grants;
}
