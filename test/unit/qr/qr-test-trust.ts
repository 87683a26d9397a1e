// Shared test setup for the qr tests: an anchor, several issuer keys in every status, a bundle and a
// verifier at a fixed clock. Keys are generated per run (tests never depend on one key's bytes).
import { Sm2PrivateKey } from '../../../crypto/index.ts';
import { buildTrustBundle, keyIdOf, type TrustBundleSpec } from '../../../qr/trust-bundle.ts';
import { TrustStore, type TrustStoreOptions } from '../../../qr/trust-store.ts';
import { Verifier, type VerifierOptions } from '../../../qr/verifier.ts';
import { issueCode, type IssueOptions } from '../../../qr/issuer.ts';
import { revocationHash } from '../../../qr/revocation-list.ts';
import { sm3 } from '../../../crypto/index.ts';

export const NOW = 1_790_000_000; // 2026-09-21, the fixed test clock (s)
export const DAY = 86_400;

export const anchor = Sm2PrivateKey.generate();
export const keys = {
  active: Sm2PrivateKey.generate(),
  staticOnly: Sm2PrivateKey.generate(),
  revoked: Sm2PrivateKey.generate(),
  retired: Sm2PrivateKey.generate(), // still verifies until verifyUntil
  expired: Sm2PrivateKey.generate(), // verifyUntil in the past
  windowed: Sm2PrivateKey.generate(), // may sign only in [NOW - 10 d, NOW - 5 d]
  dupA: Sm2PrivateKey.generate(), // dupA and dupB share one kid
  dupB: Sm2PrivateKey.generate(),
  unknown: Sm2PrivateKey.generate(), // not in the bundle
};
export const DUP_KID = Uint8Array.from([0xd0, 0x0d, 0xd0, 0x0d, 1, 2, 3, 4]);

export const cardId = (n: number): Uint8Array => sm3(new TextEncoder().encode(`test card ${n}`));
export const REVOKED_CARD = cardId(666);
export const REISSUED_CARD = cardId(777); // revoked before NOW - 1 d

const wide = { signFrom: NOW - 400 * DAY, signUntil: NOW + 400 * DAY, verifyUntil: NOW + 800 * DAY };

export function bundleSpec(overrides: Partial<TrustBundleSpec> = {}): TrustBundleSpec {
  return {
    seq: 7,
    issuedAt: NOW - 3600,
    nextUpdate: NOW + DAY - 3600,
    keys: [
      { pub: keys.active.publicKey.toBytes(), issuer: 'Test platform', ...wide },
      { pub: keys.staticOnly.publicKey.toBytes(), issuer: 'Static issuer', types: ['static'], ...wide },
      { pub: keys.revoked.publicKey.toBytes(), issuer: 'Revoked issuer', status: 'revoked', ...wide },
      { pub: keys.retired.publicKey.toBytes(), issuer: 'Retired issuer', status: 'retired', ...wide },
      { pub: keys.expired.publicKey.toBytes(), issuer: 'Expired issuer', ...wide, verifyUntil: NOW - DAY },
      { pub: keys.windowed.publicKey.toBytes(), issuer: 'Windowed issuer', ...wide, signFrom: NOW - 10 * DAY, signUntil: NOW - 5 * DAY },
      { pub: keys.dupA.publicKey.toBytes(), kid: DUP_KID, issuer: 'Dup A', ...wide },
      { pub: keys.dupB.publicKey.toBytes(), kid: DUP_KID, issuer: 'Dup B', ...wide },
    ],
    revokedCards: [revocationHash(REVOKED_CARD), revocationHash(cardId(1000)), revocationHash(cardId(1001))],
    revokedBefore: [{ hash: revocationHash(REISSUED_CARD), before: NOW - DAY }],
    ...overrides,
  };
}

export function bundleBytes(overrides: Partial<TrustBundleSpec> = {}): Uint8Array {
  return buildTrustBundle(bundleSpec(overrides), anchor);
}

export async function makeStore(options: Partial<TrustStoreOptions> = {}, bundle: Uint8Array | null = bundleBytes()): Promise<TrustStore> {
  const store = new TrustStore({ anchors: [anchor.publicKey], now: () => NOW, ...options });
  if (bundle) await store.install(bundle);
  return store;
}

export async function makeVerifier(options: Partial<VerifierOptions> = {}, store?: TrustStore): Promise<Verifier> {
  const trust = store ?? (await makeStore());
  return new Verifier({ trust, nowMs: () => NOW * 1000, ...options });
}

/** A code from `keys.active` at NOW - 10 s (override anything). */
export function code(o: Partial<IssueOptions> = {}): string {
  return issueCode({ key: keys.active, type: 'dynamic', cardId: cardId(1), iat: NOW - 10, ...o }).text;
}

export { keyIdOf };
