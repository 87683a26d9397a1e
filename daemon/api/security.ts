// The API's security policy as fastify hooks, in the order a request meets them; each refusal happens
// before anything that costs (the rate limit, the reader lock, a card or SAM command):
//   1. Host check (DNS rebinding): the Host header must be a loopback name, an IP literal or a
//      configured name. A rebinding attack always arrives with the attacker's DNS name as Host.
//   2. Browser check: a request carrying Origin must come from the allow-list or from the daemon's
//      own page; a browser request that says Sec-Fetch-Site: cross-site or same-site without such an
//      Origin (an <img>, a link, a no-cors fetch from another page) is refused too. CORS and Private
//      Network Access preflights are answered here, only for allowed origins. WebSocket upgrades
//      pass through the same hook (cross-site WebSocket hijacking).
//   3. Who is calling: the peer address (through trusted proxies only: the first untrusted hop from
//      the right; a relayed request is never loopback), the bearer token if any.
//   4. Rate limit per caller identity (token, else browser origin, else peer address), so one
//      caller cannot spend another's budget; a wrong token is charged to its peer (guessing is slow).
//   5. Capabilities: other machines need a token; from loopback, reading needs none, but writes, raw
//      APDUs, unmasked traces and trust installs need a token that carries the capability.
import { createHash, timingSafeEqual } from 'node:crypto';
import { type BlockList, isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ApiConfig, isLoopbackAddress, normaliseOrigin, plainAddress, proxyList, tokenGrants } from './api-config.ts';
import { apiError } from './api-errors.ts';
import { CAPABILITY_DESCRIPTIONS, type Capability, defaultCapability, TokenTable } from './capabilities.ts';

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

class OriginPolicy {
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

/** A token bucket per client identity, with a bounded table. */
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

/** Who is calling, as the security hook established it; routes read it for finer checks. */
export interface Caller {
  /** The client address (through trusted proxies). */
  address: string;
  /** A direct connection from this machine (never true for a relayed request). */
  loopback: boolean;
  /** The token's label when a valid token was presented. */
  token?: string;
  capabilities: ReadonlySet<Capability>;
  /** The normalised browser Origin, when the request carried an allowed one. */
  origin?: string;
  /** The rate-limit identity: token:NAME, origin:ORIGIN or peer:ADDRESS. */
  identity: string;
  /**
   * The WebSocket slot pool: 'page' (the daemon's own page), origin:ORIGIN (an allowed HIS page),
   * token:NAME, or 'local' (every other client: processes without an Origin). Each pool has its own
   * websocket.maxSubscribers slots, so no pool can take another's.
   */
  pool: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    yikaCaller: Caller;
  }
}

const LOOPBACK_CAPABILITIES: ReadonlySet<Capability> = new Set(['read']);

/** The client address: the socket peer, or through trusted proxies the first untrusted hop from the right. */
export function clientAddress(peer: string, forwardedFor: string | string[] | undefined, proxies: BlockList | undefined): { address: string; relayed: boolean } {
  const socket = plainAddress(peer || '');
  if (!proxies || !isTrusted(proxies, socket)) return { address: socket, relayed: false };
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '');
  const hops = header.split(',').map((h) => plainAddress(h)).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i];
    if (!isIP(hop)) return { address: 'unknown', relayed: true }; // a garbled hop: stop believing the chain
    if (!isTrusted(proxies, hop)) return { address: hop, relayed: true };
  }
  // Every hop is a trusted proxy (or there is no header): the client is the proxy's own client,
  // unknown to us; it is still a relayed request, never a loopback one.
  return { address: hops[0] ?? socket, relayed: true };
}

function isTrusted(list: BlockList, address: string): boolean {
  const v = isIP(address);
  return v !== 0 && list.check(address, v === 4 ? 'ipv4' : 'ipv6');
}

/** Paths of the API proper; the front-desk page's static files cost nothing and are served to any navigation. */
function isApiPath(url: string): boolean {
  return url.startsWith('/v1/') || url === '/v1' || url.startsWith('/metrics');
}

export function installSecurity(app: FastifyInstance, config: ApiConfig): void {
  const hosts = new HostPolicy(config);
  const origins = new OriginPolicy(config);
  const limiter = new RateLimiter(config.rateLimit.perSecond, config.rateLimit.burst);
  const tokens = new TokenTable(tokenGrants(config));
  const proxies = config.trustProxy.length ? proxyList(config.trustProxy) : undefined;

  app.decorateRequest('yikaCaller', null as unknown as Caller);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('Vary', 'Origin');
    if (!hosts.allows(request.headers.host)) {
      throw apiError('HOST_NOT_ALLOWED', 'The Host header is not an allowed name for this daemon.');
    }

    // 2. Browser check, before the rate limit: a foreign page must not spend anybody's budget.
    const origin = request.headers.origin;
    let allowedOrigin: string | undefined;
    let originKind: 'same' | 'cross' | undefined;
    if (origin !== undefined) {
      const kind = (originKind = origins.classify(origin, request.headers.host));
      if (!kind) throw apiError('ORIGIN_NOT_ALLOWED', 'This page\'s origin is not allowed to use the Yika API (api.allowedOrigins).');
      allowedOrigin = normaliseOrigin(origin) as string;
      if (kind === 'cross') {
        reply.header('Access-Control-Allow-Origin', allowedOrigin);
        reply.header('Access-Control-Expose-Headers', EXPOSED_HEADERS);
      }
      if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
        answerPreflight(request, reply, config);
        return reply;
      }
    } else {
      const site = String(request.headers['sec-fetch-site'] ?? '').toLowerCase();
      // A browser says where a request comes from even when it sends no Origin (<img>, <script>,
      // links, no-cors GETs). From another site, only an allowed Origin may call the API.
      if ((site === 'cross-site' || site === 'same-site') && isApiPath(request.url)) {
        throw apiError('ORIGIN_NOT_ALLOWED', `A browser request from another site (Sec-Fetch-Site: ${site}) without an allowed Origin is refused; call the API with fetch() from a page in api.allowedOrigins.`);
      }
    }

    // 3. Who is calling.
    const { address, relayed } = clientAddress(request.socket.remoteAddress ?? request.ip, request.headers['x-forwarded-for'], proxies);
    const loopback = !relayed && isLoopbackAddress(address);
    const presented = tokens.match(request.headers.authorization);
    const grant = typeof presented === 'object' ? presented : undefined;

    // 4. Rate limit per identity. A wrong or missing token from another machine is charged to its peer.
    const identity = grant ? `token:${grant.name}` : allowedOrigin ? `origin:${allowedOrigin}` : `peer:${address}`;
    const wait = limiter.take(identity);
    if (wait > 0) {
      reply.header('Retry-After', String(wait));
      throw apiError('RATE_LIMITED', `Too many requests; retry in ${wait} s.`, { retryAfterSeconds: wait });
    }
    if (presented === 'invalid') throw apiError('TOKEN_INVALID', 'The bearer token is not valid.');
    if (!loopback && !grant) {
      if (!tokens.size) throw apiError('TOKEN_REQUIRED', 'Remote access is disabled: no api.token is configured.');
      throw apiError('TOKEN_REQUIRED', 'A request from another machine needs Authorization: Bearer <token>.');
    }
    const capabilities = grant ? grant.capabilities : LOOPBACK_CAPABILITIES;
    const pool = originKind === 'same' ? 'page' : allowedOrigin ? `origin:${allowedOrigin}` : grant ? `token:${grant.name}` : 'local';
    request.yikaCaller = { address, loopback, token: grant?.name, capabilities, origin: allowedOrigin, identity, pool };

    // 5. The route's capability (routes without a handler of their own end in 404, not here).
    if (request.routeOptions.url === undefined) return;
    const needed = request.routeOptions.config?.capability ?? defaultCapability(request.method);
    requireCapability(request, needed);
  });

  // Preflights for paths without an OPTIONS route end here when the hook has not answered them.
  app.options('/*', { schema: { hide: true } }, async (_request, reply) => reply.code(204).send());
}

/** Throws TOKEN_REQUIRED (no token) or CAPABILITY_MISSING (a token without it) unless the caller has `needed`. */
export function requireCapability(request: FastifyRequest, needed: Capability, what?: string): void {
  const caller = request.yikaCaller;
  if (caller?.capabilities.has(needed)) return;
  const doing = what ?? CAPABILITY_DESCRIPTIONS[needed].split(' (')[0];
  if (!caller?.token) {
    throw apiError('TOKEN_REQUIRED', `This operation needs Authorization: Bearer <token> with the "${needed}" capability, also from this machine (${doing}).`, { capability: needed });
  }
  throw apiError('CAPABILITY_MISSING', `The token "${caller.token}" does not carry the "${needed}" capability (${doing}); configure api.tokens.`, { capability: needed });
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
