// The EHC1 binary layer: hdr(10) ‖ claims ‖ sig(64).
//   hdr    = version u8 (1) ‖ type u8 (0 dynamic, 1 static) ‖ kid (8 bytes: SM3(04‖x‖y)[0..8])
//   claims = msgpack array [cardId bin(32|16), iat uint32 s, ttl uint s, jti bin(8), ext map?, …]
//   sig    = SM2 r‖s over "EHC1" ‖ hdr ‖ claims (default ID); the received bytes are verified as is.
import { MsgpackFormatError, StrictReader, StrictWriter, type MsgValue } from './strict-msgpack.ts';

export const EHC1_VERSION = 1;
const HEADER_LENGTH = 10;
const SIGNATURE_LENGTH = 64;
/** Domain separation for the signed message, so an EHC1 signature means nothing elsewhere. */
export const SIGNED_MESSAGE_PREFIX = Uint8Array.from([0x45, 0x48, 0x43, 0x31]); // "EHC1"
/** Smallest possible claims: array(4), bin(16) id, fixint iat, fixint ttl, bin(8) jti. */
const MIN_CLAIMS_LENGTH = 1 + 18 + 1 + 1 + 10;
export const MIN_BODY_LENGTH = HEADER_LENGTH + MIN_CLAIMS_LENGTH + SIGNATURE_LENGTH;

export type CodeType = 'dynamic' | 'static';
const TYPE_BYTE: Record<CodeType, number> = { dynamic: 0, static: 1 };
/** Bits of a key's typMask in the trust bundle. */
export const TYPE_MASK_BIT: Record<CodeType, number> = { dynamic: 1, static: 2 };

/** ttl bounds (seconds) per type: a dynamic code lives minutes, a static one up to a year. */
export const TTL_BOUNDS: Record<CodeType, { min: number; max: number }> = {
  dynamic: { min: 60, max: 180 },
  static: { min: 60, max: 366 * 86400 },
};
/** Issue times before 2020-01-01 are malformed (a zeroed clock, not a real code). */
export const MIN_IAT = 1577836800;

export interface Ehc1Header {
  version: number;
  type: CodeType;
  kid: Uint8Array;
}

export interface Ehc1Claims {
  /** 32-byte card id, or a 16-byte pseudonym. */
  cardId: Uint8Array;
  iat: number;
  ttl: number;
  jti: Uint8Array;
  ext?: { [key: string]: MsgValue };
}

/** A split body: views into the decoded bytes (nothing copied). */
export interface Ehc1Parts {
  header: Uint8Array;
  claims: Uint8Array;
  signature: Uint8Array;
  /** "EHC1" ‖ hdr ‖ claims: the exact bytes the signature covers. */
  signedMessage: Uint8Array;
}

export function splitBody(body: Uint8Array): Ehc1Parts {
  const header = body.subarray(0, HEADER_LENGTH);
  const claims = body.subarray(HEADER_LENGTH, body.length - SIGNATURE_LENGTH);
  const signature = body.subarray(body.length - SIGNATURE_LENGTH);
  const signedMessage = new Uint8Array(4 + HEADER_LENGTH + claims.length);
  signedMessage.set(SIGNED_MESSAGE_PREFIX, 0);
  signedMessage.set(body.subarray(0, body.length - SIGNATURE_LENGTH), 4);
  return { header, claims, signature, signedMessage };
}

/** Parses the header; null for an unknown type byte (the version is checked by the caller first). */
export function parseHeader(header: Uint8Array): Ehc1Header | null {
  const t = header[1];
  if (t !== 0 && t !== 1) return null;
  return { version: header[0], type: t === 0 ? 'dynamic' : 'static', kid: header.subarray(2, 10) };
}

export function encodeHeader(type: CodeType, kid: Uint8Array): Uint8Array {
  if (kid.length !== 8) throw new RangeError('kid must be 8 bytes');
  const h = new Uint8Array(HEADER_LENGTH);
  h[0] = EHC1_VERSION;
  h[1] = TYPE_BYTE[type];
  h.set(kid, 2);
  return h;
}

/**
 * Strict claims parse: exact types, bounds per code type, the whole claims section consumed.
 * Returns a reason (for tests and docs; never shown with the payload) on failure.
 */
export function parseClaims(bytes: Uint8Array, type: CodeType): { ok: true; claims: Ehc1Claims } | { ok: false; reason: string } {
  const r = new StrictReader(bytes);
  try {
    const n = r.arrayHeader();
    if (n < 4) return { ok: false, reason: 'claims array has fewer than 4 elements' };
    const cardId = r.bin();
    if (cardId.length !== 32 && cardId.length !== 16) return { ok: false, reason: 'card id is not 32 or 16 bytes' };
    const iat = r.uint32();
    if (iat < MIN_IAT) return { ok: false, reason: 'issue time before 2020' };
    const ttl = r.uint32();
    const bounds = TTL_BOUNDS[type];
    if (ttl < bounds.min || ttl > bounds.max) return { ok: false, reason: `ttl outside ${bounds.min}..${bounds.max} s for a ${type} code` };
    const jti = r.bin();
    if (jti.length !== 8) return { ok: false, reason: 'jti is not 8 bytes' };
    let ext: Ehc1Claims['ext'];
    if (n >= 5) {
      const e = r.value(1);
      if (e !== null) {
        if (typeof e !== 'object' || Array.isArray(e) || e instanceof Uint8Array) return { ok: false, reason: 'extensions are not a map' };
        ext = e;
      }
    }
    // Later elements are ignored (but signed): a newer issuer may add claims this verifier skips.
    for (let i = 5; i < n; i++) r.value(1);
    if (r.remaining !== 0) return { ok: false, reason: 'bytes after the claims array' };
    return { ok: true, claims: { cardId, iat, ttl, jti, ...(ext ? { ext } : {}) } };
  } catch (e) {
    if (e instanceof MsgpackFormatError) return { ok: false, reason: e.message };
    throw e;
  }
}

/** Encodes claims in the shortest form, iat as a fixed uint32. */
export function encodeClaims(claims: Ehc1Claims, extra: MsgValue[] = []): Uint8Array {
  const w = new StrictWriter();
  const n = 4 + (claims.ext || extra.length ? 1 : 0) + extra.length;
  w.arrayHeader(n).bin(claims.cardId).uint32Fixed(claims.iat).uint(claims.ttl).bin(claims.jti);
  if (claims.ext || extra.length) w.value(claims.ext ?? null);
  for (const x of extra) w.value(x);
  return w.bytes();
}
