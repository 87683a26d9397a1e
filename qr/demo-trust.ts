// TEST-ONLY demo trust setup for `npm start --sim`, the simulator's QR scanner, the docs and tests.
// Every key here is derived from a public label, so ANYONE can forge codes that this trust accepts:
// never pin DEMO anchors on a real desk. The daemon warns loudly whenever it uses them.
import { DEFAULT_SM2_ID, SM2_P256, Sm2PrivateKey, bytesToBigInt, sm2SignWithK, sm3, type Sm2PublicKey } from '../crypto/index.ts';
import type { CodeType } from './ehc1-body.ts';
import { issueCode, type IssuedCode } from './issuer.ts';
import { revocationHash } from './revocation-list.ts';
import { buildTrustBundle, type TrustBundleSpec } from './trust-bundle.ts';

export const DEMO_TRUST_WARNING = 'TEST-ONLY demo trust anchor in use: its private keys are public, codes it accepts prove nothing';
const DEMO_ISSUER_NAME = 'Yika demo issuer (TEST ONLY)';

const enc = new TextEncoder();

/** A scalar from a public label: deterministic, and therefore worthless as a secret. */
function labelKey(label: string): Sm2PrivateKey {
  for (let i = 0; ; i++) {
    const d = bytesToBigInt(sm3(enc.encode(`${label}#${i}`)));
    if (d >= 1n && d <= SM2_P256.n - 2n) return Sm2PrivateKey.fromScalar(d);
  }
}

/** Deterministic signing (nonce from the key label and the message): reproducible demo bytes. */
function deterministicSigner(key: Sm2PrivateKey, label: string): (m: Uint8Array) => Uint8Array {
  return (m) => {
    for (let i = 0; ; i++) {
      const seed = new Uint8Array([...enc.encode(`${label}/k/${i}/`), ...m]);
      const k = (bytesToBigInt(sm3(seed)) % (SM2_P256.n - 1n)) + 1n;
      try {
        return sm2SignWithK(key, m, k, { id: DEFAULT_SM2_ID, format: 'raw' });
      } catch {
        // unusable k (probability ~2^-256): next one
      }
    }
  };
}

let cache: { anchor: Sm2PrivateKey; issuer: Sm2PrivateKey } | undefined;
function keys(): { anchor: Sm2PrivateKey; issuer: Sm2PrivateKey } {
  cache ??= { anchor: labelKey('yika demo trust anchor TEST ONLY'), issuer: labelKey('yika demo issuer TEST ONLY') };
  return cache;
}

/** The TEST-ONLY trust anchor's private key (signs demo bundles). */
function demoAnchorKey(): Sm2PrivateKey {
  return keys().anchor;
}

/** The TEST-ONLY anchor public key to pin (04‖x‖y). */
export function demoAnchorPublicKey(): Sm2PublicKey {
  return keys().anchor.publicKey;
}

/** The TEST-ONLY issuer key (signs demo codes). */
export function demoIssuerKey(): Sm2PrivateKey {
  return keys().issuer;
}

/** Synthetic card id n (32 bytes): SM3("yika demo card n"). Card 13 is revoked in the demo bundle. */
export function demoCardId(n: number): Uint8Array {
  return sm3(enc.encode(`yika demo card ${n}`));
}

export const DEMO_REVOKED_CARD = 13;
const DAY = 86_400;

/**
 * The demo trust bundle for the UTC day containing `nowS`: seq = issuedAt = midnight UTC, next update
 * one day later, so the bundle of a later day is newer. Deterministic for a given day.
 */
export function buildDemoTrustBundle(nowS = Math.floor(Date.now() / 1000), extra: Partial<TrustBundleSpec> = {}): Uint8Array {
  const issuedAt = nowS - (nowS % DAY);
  const spec: TrustBundleSpec = {
    seq: issuedAt,
    issuedAt,
    nextUpdate: issuedAt + DAY,
    keys: [
      {
        pub: demoIssuerKey().publicKey.toBytes(),
        issuer: DEMO_ISSUER_NAME,
        types: ['dynamic', 'static'],
        signFrom: 1577836800, // 2020-01-01
        signUntil: 4102444800, // 2100-01-01
        verifyUntil: 4102444800,
        status: 'active',
      },
    ],
    revokedCards: [revocationHash(demoCardId(DEMO_REVOKED_CARD))],
    ...extra,
  };
  return buildTrustBundle(spec, deterministicSigner(demoAnchorKey(), 'anchor'));
}

export interface DemoCodeOptions {
  type?: CodeType;
  /** Demo card number (default 1) or an explicit 32-byte id. */
  card?: number | Uint8Array;
  iat?: number;
  ttl?: number;
  jti?: Uint8Array;
  /** Deterministic signature (for docs and fixtures); default true. */
  deterministic?: boolean;
}

/** Issues a TEST-ONLY demo code (dynamic by default, fresh jti each call unless given). */
export function issueDemoCode(options: DemoCodeOptions = {}): IssuedCode {
  const key = demoIssuerKey();
  const card = options.card ?? 1;
  return issueCode({
    key,
    type: options.type ?? 'dynamic',
    cardId: typeof card === 'number' ? demoCardId(card) : card,
    iat: options.iat,
    ttl: options.ttl,
    jti: options.jti,
    sign: options.deterministic === false ? undefined : deterministicSigner(key, 'issuer'),
  });
}
