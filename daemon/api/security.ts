// The API's security policy as fastify hooks, in the order a request meets them:
//   1. Host check (DNS rebinding): the Host header must be a loopback name, an IP literal or a
//      configured name. A rebinding attack always arrives with the attacker's DNS name as Host.
//   2. Per-client rate limit (token bucket per IP), before anything costly, so token guessing is slow.
//   3. Browser origin: a request carrying Origin must come from the allow-list or from the daemon's
//      own page (same origin). CORS and Private Network Access preflights are answered here, only
//      for allowed origins. WebSocket upgrades pass through the same hook (cross-site WS hijacking).
//   4. Bearer token for clients that are not on this machine (constant-time comparison).
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ApiConfig, isLoopbackAddress, normaliseOrigin } from './api-config.ts';
import { apiError } from './api-errors.ts';

const ALLOWED_METHODS = 'GET, POST, PUT, DELETE';
const ALLOWED_HEADERS = ['content-type', 'authorization', 'x-request-id'];
const EXPOSED_HEADERS = 'Retry-After, X-Request-Id';
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/** The host name of a Host header ("[::1]:7611" → "::1", "Localhost:80" → "localhost"); undefined if malformed. */
export function hostName(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  const h = hostHeader.trim().toLowerCase();
  const m = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::(\d{1,5}))?$/.exec(h);
  if (m) return m[1] ?? m[2];
  return isIP(h) === 6 ? h : undefined; // a bare IPv6 literal
}

export class HostPolicy {
  private readonly names: Set<string>;
  constructor(config: ApiConfig) {
    this.names = new Set([...LOOPBACK_NAMES, ...config.allowedHosts]);
    const listenHost = config.listen.host.toLowerCase();
    if (listenHost !== '0.0.0.0' && listenHost !== '::') this.names.add(listenHost.replace(/^\[|\]$/g, ''));
  }
  allows(hostHeader: string | undefined): boolean {
    const name = hostName(hostHeader);
    if (!name) return false;
    // An IP literal cannot be rebound: the browser's origin would then be that IP, i.e. the daemon itself.
    return this.names.has(name) || name.endsWith('.localhost') || isIP(name) !== 0;
  }
}

export class OriginPolicy {
  private readonly allowed: Set<string>;
  constructor(config: ApiConfig) {
    this.allowed = new Set(config.allowedOrigins);
  }
  /** 'same' for the daemon's own page, 'cross' for an allow-listed origin, undefined when refused. */
  classify(origin: string, hostHeader: string | undefined): 'same' | 'cross' | undefined {
    const n = normaliseOrigin(origin);
    if (!n) return undefined;
    if (hostHeader && (n === sameOrigin('http:', hostHeader) || n === sameOrigin('https:', hostHeader))) return 'same';
    return this.allowed.has(n) ? 'cross' : undefined;
  }
}

function sameOrigin(scheme: string, hostHeader: string): string | undefined {
  try {
    return new URL(`${scheme}//${hostHeader}`).origin;
  } catch {
    return undefined;
  }
}

/** A token bucket per client IP, with a bounded table. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxClients = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one token; returns 0 when allowed, else the seconds to wait. */
  take(client: string): number {
    if (this.perSecond <= 0) return 0;
    const t = this.now();
    let b = this.buckets.get(client);
    if (!b) {
      if (this.buckets.size >= this.maxClients) this.evict(t);
      b = { tokens: this.burst, at: t };
      this.buckets.set(client, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSecond);
      b.at = t;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
  }

  private evict(t: number): void {
    // Full buckets carry no state worth keeping; if none is full, drop the oldest entry.
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((t - b.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(k);
    }
    if (this.buckets.size >= this.maxClients) this.buckets.delete(this.buckets.keys().next().value as string);
  }
}

/** Constant-time check of "Bearer <token>" against the configured token. */
export function bearerMatches(authorization: string | undefined, token: string): 'ok' | 'missing' | 'invalid' {
  if (!authorization) return 'missing';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!m) return 'invalid';
  // Hashing both sides gives equal lengths, so timingSafeEqual never leaks the token's length.
  const a = createHash('sha256').update(m[1]).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b) ? 'ok' : 'invalid';
}

export function installSecurity(app: FastifyInstance, config: ApiConfig): void {
  const hosts = new HostPolicy(config);
  const origins = new OriginPolicy(config);
  const limiter = new RateLimiter(config.rateLimit.perSecond, config.rateLimit.burst);

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('Vary', 'Origin');
    if (!hosts.allows(request.headers.host)) {
      throw apiError('HOST_NOT_ALLOWED', 'The Host header is not an allowed name for this daemon.');
    }

    const wait = limiter.take(request.ip);
    if (wait > 0) {
      reply.header('Retry-After', String(wait));
      throw apiError('RATE_LIMITED', `Too many requests; retry in ${wait} s.`, { retryAfterSeconds: wait });
    }

    const origin = request.headers.origin;
    if (origin !== undefined) {
      const kind = origins.classify(origin, request.headers.host);
      if (!kind) throw apiError('ORIGIN_NOT_ALLOWED', 'This page\'s origin is not allowed to use the Yika API (api.allowedOrigins).');
      if (kind === 'cross') {
        reply.header('Access-Control-Allow-Origin', normaliseOrigin(origin) as string);
        reply.header('Access-Control-Expose-Headers', EXPOSED_HEADERS);
      }
      if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
        answerPreflight(request, reply, config);
        return reply;
      }
    }

    if (!isLoopbackAddress(request.ip)) {
      if (!config.token) throw apiError('TOKEN_REQUIRED', 'Remote access is disabled: no api.token is configured.');
      const r = bearerMatches(request.headers.authorization, config.token);
      if (r === 'missing') throw apiError('TOKEN_REQUIRED', 'A request from another machine needs Authorization: Bearer <token>.');
      if (r === 'invalid') throw apiError('TOKEN_INVALID', 'The bearer token is not valid.');
    }
  });

  // Preflights for paths without an OPTIONS route end here when the hook has not answered them.
  app.options('/*', { schema: { hide: true } }, async (_request, reply) => reply.code(204).send());
}

function answerPreflight(request: FastifyRequest, reply: FastifyReply, config: ApiConfig): void {
  const requested = String(request.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const headers = [...new Set([...ALLOWED_HEADERS, ...requested.filter((h) => ALLOWED_HEADERS.includes(h))])];
  reply
    .code(204)
    .header('Access-Control-Allow-Methods', ALLOWED_METHODS)
    .header('Access-Control-Allow-Headers', headers.join(', '))
    .header('Access-Control-Max-Age', String(config.corsMaxAgeSeconds));
  // Private Network Access: a public page asking to reach this loopback service must be told yes
  // explicitly, and only for allowed origins (we got here only for those).
  if (String(request.headers['access-control-request-private-network']).toLowerCase() === 'true') {
    reply.header('Access-Control-Allow-Private-Network', 'true');
  }
  reply.send();
}
