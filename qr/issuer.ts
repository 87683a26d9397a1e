// The issuing side of EHC1: builds the header and claims, signs "EHC1" ‖ hdr ‖ claims with SM2
// (default ID, raw r‖s) and renders the text. Used by `yika qr issue`, the demo trust setup, the
// simulator's scanner and the tests. A real issuer keeps its key in an HSM; this is the reference.
import { randomBytes } from 'node:crypto';
import { DEFAULT_SM2_ID, concatBytes, type Sm2PrivateKey } from '../crypto/index.ts';
import {
  MIN_IAT,
  SIGNED_MESSAGE_PREFIX,
  TTL_BOUNDS,
  encodeClaims,
  encodeHeader,
  type CodeType,
  type Ehc1Claims,
} from './ehc1-body.ts';
import { encodeEhc1Text } from './ehc1-text.ts';
import { QrError } from './result-codes.ts';
import type { MsgValue } from './strict-msgpack.ts';
import { keyIdOf } from './trust-bundle.ts';

export interface IssueOptions {
  key: Sm2PrivateKey;
  type: CodeType;
  /** 32-byte card id or 16-byte pseudonym. */
  cardId: Uint8Array;
  /** Issue time, Unix seconds (default now). */
  iat?: number;
  /** Lifetime in seconds (default 60 for dynamic, 365 days for static). */
  ttl?: number;
  /** 8 random bytes by default. */
  jti?: Uint8Array;
  ext?: { [key: string]: MsgValue };
  /** Defaults to keyIdOf(public key). */
  kid?: Uint8Array;
  /**
   * Signature function override: tests use it to sign with another ID, without ZA, or with a
   * fixed nonce (deterministic worked examples). Receives the exact signed message.
   */
  sign?: (message: Uint8Array) => Uint8Array;
}

export interface IssuedCode {
  text: string;
  body: Uint8Array;
  /** "EHC1" ‖ hdr ‖ claims: what was signed. */
  signedMessage: Uint8Array;
  claims: Ehc1Claims;
}

const DEFAULT_TTL: Record<CodeType, number> = { dynamic: 60, static: 365 * 86400 };

/** Builds the unsigned parts (header, claims) and the message to sign; validates the input. */
export function prepareCode(o: Omit<IssueOptions, 'key' | 'sign'> & { kid: Uint8Array }): { header: Uint8Array; claimsBytes: Uint8Array; claims: Ehc1Claims; signedMessage: Uint8Array } {
  if (o.cardId.length !== 32 && o.cardId.length !== 16) throw new QrError('QR_ISSUE_INVALID', 'card id must be 32 bytes (or a 16-byte pseudonym)');
  const iat = o.iat ?? Math.floor(Date.now() / 1000);
  const ttl = o.ttl ?? DEFAULT_TTL[o.type];
  const b = TTL_BOUNDS[o.type];
  if (!Number.isInteger(ttl) || ttl < b.min || ttl > b.max) throw new QrError('QR_ISSUE_INVALID', `ttl for a ${o.type} code must be ${b.min}..${b.max} s`);
  if (!Number.isInteger(iat) || iat < MIN_IAT || iat > 0xffffffff) throw new QrError('QR_ISSUE_INVALID', 'iat must be Unix seconds after 2020');
  const jti = o.jti ?? randomBytes(8);
  if (jti.length !== 8) throw new QrError('QR_ISSUE_INVALID', 'jti must be 8 bytes');
  const claims: Ehc1Claims = { cardId: o.cardId, iat, ttl, jti, ...(o.ext ? { ext: o.ext } : {}) };
  const header = encodeHeader(o.type, o.kid);
  let claimsBytes: Uint8Array;
  try {
    claimsBytes = encodeClaims(claims);
  } catch (e) {
    throw new QrError('QR_ISSUE_INVALID', `extensions cannot be encoded: ${(e as Error).message}`);
  }
  return { header, claimsBytes, claims, signedMessage: concatBytes(SIGNED_MESSAGE_PREFIX, header, claimsBytes) };
}

/** Issues a signed EHC1 code. */
export function issueCode(o: IssueOptions): IssuedCode {
  const kid = o.kid ?? keyIdOf(o.key.publicKey.toBytes());
  const p = prepareCode({ ...o, kid });
  const sig = o.sign ? o.sign(p.signedMessage) : o.key.sign(p.signedMessage, { id: DEFAULT_SM2_ID, format: 'raw' });
  if (sig.length !== 64) throw new QrError('QR_ISSUE_INVALID', 'signature must be raw r||s (64 bytes)');
  const body = concatBytes(p.header, p.claimsBytes, sig);
  return { text: encodeEhc1Text(body), body, signedMessage: p.signedMessage, claims: p.claims };
}

/** Assembles a code from parts signed elsewhere (openssl, sm-crypto, an HSM). */
export function assembleCode(header: Uint8Array, claimsBytes: Uint8Array, rawSignature: Uint8Array): string {
  return encodeEhc1Text(concatBytes(header, claimsBytes, rawSignature));
}
