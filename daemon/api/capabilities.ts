// What a caller may do. Reading is open to this machine's processes (loopback) as it always was;
// everything that can harm a card or a SAM, reveal unmasked data or change what the daemon trusts
// needs a bearer token that carries the capability, even from loopback. A route names the
// capability it needs in its options (`config: { capability: 'apdu' }`); a route that names none
// needs 'read' for GET and 'write' for anything else (a new mutating route is closed until someone
// decides otherwise).
import { createHash, timingSafeEqual } from 'node:crypto';

export const CAPABILITIES = ['read', 'write', 'apdu', 'apdu.restricted', 'trace.unmasked', 'trust.install'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export const CAPABILITY_DESCRIPTIONS: Readonly<Record<Capability, string>> = {
  read: 'read readers, cards and items, verify QR codes, events, health, metrics, the masked trace, switch the trace on/off',
  write: 'write data items, records, visits and the photo (PUT /v1/readers/:id/healthcard/items)',
  apdu: 'raw APDUs and batches to user-card slots, and slot power (POST …/slots/:slot/apdu|batch|power)',
  'apdu.restricted':
    'raw APDUs to SAM slots, and raw commands that spend retry counters or use keys (VERIFY, CHANGE/RESET PIN, EXTERNAL/INTERNAL/GENERAL AUTHENTICATE, the SAM key-derivation and cryptogram commands …) to any slot',
  'trace.unmasked': 'switch the APDU trace to unmasked data, and read a trace that holds unmasked data',
  'trust.install': 'install a QR trust bundle (POST /v1/qr/trust)',
};

/** What the one `api.token` (and the generated demo token) may do: everything but apdu.restricted. */
export const DEFAULT_TOKEN_CAPABILITIES: readonly Capability[] = ['read', 'write', 'apdu', 'trace.unmasked', 'trust.install'];

export interface TokenGrant {
  /** A label for logs and metrics (never the token). */
  name: string;
  token: string;
  capabilities: ReadonlySet<Capability>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The capability this route needs (default: read for GET, write otherwise). */
    capability?: Capability;
  }
}

/** The capability a route needs by default when it names none. */
export function defaultCapability(method: string): Capability {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? 'read' : 'write';
}

/** The configured tokens; finds the one a bearer header carries, in constant time per token. */
export class TokenTable {
  private readonly grants: Array<TokenGrant & { hash: Buffer }>;
  constructor(grants: TokenGrant[]) {
    this.grants = grants.map((g) => ({ ...g, hash: sha256(g.token) }));
  }
  get size(): number {
    return this.grants.length;
  }
  /** 'missing' (no Authorization), 'invalid' (malformed or unknown), or the matching grant. */
  match(authorization: string | undefined): 'missing' | 'invalid' | TokenGrant {
    if (!authorization) return 'missing';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) return 'invalid';
    // Hashing gives equal lengths, so timingSafeEqual never leaks a token's length; every grant is
    // compared so the time does not say which one matched.
    const h = sha256(m[1]);
    let found: TokenGrant | undefined;
    for (const g of this.grants) if (timingSafeEqual(h, g.hash) && !found) found = g;
    return found ?? 'invalid';
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
