// The trust bundle: which issuer keys a desk accepts (with status, allowed code types and signing
// windows) and which cards are revoked, signed by a pinned trust-anchor key.
//
// File = msgpack ["EHC1-TRUST", body: bin, sig: bin(64)], sig = SM2 r‖s (default ID) by the anchor
// over "EHC1-TRUST" ‖ body. Body = msgpack map {ver, seq, issuedAt, nextUpdate, keys, revocation}
// (times in Unix seconds). The body is parsed only after the anchor signature verifies.
import { pack, unpack } from 'msgpackr';
import { DEFAULT_SM2_ID, Sm2PublicKey, sm3, type Sm2PrivateKey } from '../crypto/index.ts';
import { TYPE_MASK_BIT, type CodeType } from './ehc1-body.ts';
import { QrError } from './result-codes.ts';
import { RevocationList, sortHashes, type RevocationEntryBefore } from './revocation-list.ts';

export const TRUST_BUNDLE_MAGIC = 'EHC1-TRUST';
export const TRUST_BUNDLE_VERSION = 1;
const MAGIC_BYTES = new TextEncoder().encode(TRUST_BUNDLE_MAGIC);
/** Bounds so that a hostile file cannot make the loader allocate without limit. */
const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
const MAX_KEYS = 4096;

export type KeyStatus = 'active' | 'retired' | 'revoked';
const KEY_STATUSES: readonly KeyStatus[] = ['active', 'retired', 'revoked'];

export interface TrustKeySpec {
  /** 65-byte uncompressed public key 04‖x‖y. */
  pub: Uint8Array;
  /** Defaults to keyIdOf(pub). */
  kid?: Uint8Array;
  issuer: string;
  /** Code types this key may sign (default both). */
  types?: CodeType[];
  /** Window (Unix s) in which the key may have signed: a code's iat must lie inside. */
  signFrom: number;
  signUntil: number;
  /** After this time codes of this key are refused (KEY_EXPIRED). */
  verifyUntil: number;
  status?: KeyStatus;
}

export interface TrustBundleSpec {
  seq: number;
  issuedAt: number;
  nextUpdate: number;
  keys: TrustKeySpec[];
  /** Card revocation hashes (16 bytes each, see revocationHash), revoked outright. */
  revokedCards?: Uint8Array[];
  /** Cards revoked for codes issued before a time. */
  revokedBefore?: RevocationEntryBefore[];
}

export interface TrustKey {
  kid: Uint8Array;
  kidHex: string;
  pub: Uint8Array;
  publicKey: Sm2PublicKey;
  issuer: string;
  typMask: number;
  signFrom: number;
  signUntil: number;
  verifyUntil: number;
  status: KeyStatus;
}

export interface TrustBundle {
  ver: number;
  seq: number;
  issuedAt: number;
  nextUpdate: number;
  keys: TrustKey[];
  /** Every key per kid (hex): several keys may share a kid, and all are tried. */
  keysByKid: Map<string, TrustKey[]>;
  revocation: RevocationList;
  /** The signed file as received (what is persisted and served). */
  fileBytes: Uint8Array;
  /** kid of the anchor that signed it. */
  anchorKid: string;
}

/** kid = first 8 bytes of SM3(04‖x‖y). */
export function keyIdOf(pub: Uint8Array): Uint8Array {
  return sm3(pub).subarray(0, 8);
}

export function typesToMask(types: CodeType[]): number {
  return types.reduce((m, t) => m | TYPE_MASK_BIT[t], 0);
}

export function maskToTypes(mask: number): CodeType[] {
  return (['dynamic', 'static'] as const).filter((t) => mask & TYPE_MASK_BIT[t]);
}

function signedMessage(body: Uint8Array): Uint8Array {
  const m = new Uint8Array(MAGIC_BYTES.length + body.length);
  m.set(MAGIC_BYTES, 0);
  m.set(body, MAGIC_BYTES.length);
  return m;
}

/** Builds and signs a bundle file (the issuing side: `yika qr bundle`, tests, the demo). `anchor` may be a raw r‖s signer (an HSM). */
export function buildTrustBundle(spec: TrustBundleSpec, anchor: Sm2PrivateKey | ((message: Uint8Array) => Uint8Array)): Uint8Array {
  for (const n of [spec.seq, spec.issuedAt, spec.nextUpdate]) {
    if (!Number.isSafeInteger(n) || n < 0) throw new QrError('QR_ISSUE_INVALID', 'seq, issuedAt and nextUpdate must be non-negative integers');
  }
  const body = pack({
    ver: TRUST_BUNDLE_VERSION,
    seq: spec.seq,
    issuedAt: spec.issuedAt,
    nextUpdate: spec.nextUpdate,
    keys: spec.keys.map((k) => ({
      kid: Buffer.from(k.kid ?? keyIdOf(k.pub)),
      pub: Buffer.from(k.pub),
      issuer: k.issuer,
      typMask: typesToMask(k.types ?? ['dynamic', 'static']),
      signFrom: k.signFrom,
      signUntil: k.signUntil,
      verifyUntil: k.verifyUntil,
      status: k.status ?? 'active',
    })),
    revocation: {
      cards: Buffer.from(sortHashes(spec.revokedCards ?? [])),
      before: (spec.revokedBefore ?? []).map((e) => [Buffer.from(e.hash), e.before]),
    },
  });
  const message = signedMessage(body);
  const sig = typeof anchor === 'function' ? anchor(message) : anchor.sign(message, { id: DEFAULT_SM2_ID, format: 'raw' });
  return pack([TRUST_BUNDLE_MAGIC, body, Buffer.from(sig)]);
}

function invalid(message: string, cause?: unknown): QrError {
  return new QrError('QR_TRUST_BUNDLE_INVALID', message, undefined, cause ? { cause } : undefined);
}

function isBytes(v: unknown, len?: number): v is Uint8Array {
  return v instanceof Uint8Array && (len === undefined || v.length === len);
}

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** One entry of the bundle's key list, checked field by field. */
function parseTrustKey(k: Record<string, unknown>, i: number): TrustKey {
  if (!k || typeof k !== 'object') throw invalid(`key ${i} is not a map`);
  if (!isBytes(k.kid, 8) || !isBytes(k.pub, 65)) throw invalid(`key ${i}: kid must be 8 bytes and pub 65 bytes`);
  if (typeof k.issuer !== 'string' || typeof k.typMask !== 'number' || !isTime(k.signFrom) || !isTime(k.signUntil) || !isTime(k.verifyUntil)) {
    throw invalid(`key ${i}: issuer, typMask or windows missing`);
  }
  if (!KEY_STATUSES.includes(k.status as KeyStatus)) throw invalid(`key ${i}: unknown status`);
  let publicKey: Sm2PublicKey;
  try {
    publicKey = Sm2PublicKey.fromBytes(k.pub);
  } catch (e) {
    // A key that is not on the curve makes the whole bundle suspect: keep the previous bundle.
    throw invalid(`key ${i} (kid ${Buffer.from(k.kid).toString('hex')}) is not a valid SM2 public key`, e);
  }
  return {
    kid: Uint8Array.from(k.kid),
    kidHex: Buffer.from(k.kid).toString('hex'),
    pub: Uint8Array.from(k.pub),
    publicKey,
    issuer: k.issuer,
    typMask: k.typMask,
    signFrom: k.signFrom,
    signUntil: k.signUntil,
    verifyUntil: k.verifyUntil,
    status: k.status as KeyStatus,
  };
}

function parseRevocation(rev: { cards?: unknown; before?: unknown } | undefined): RevocationList {
  try {
    const cards = rev?.cards === undefined ? new Uint8Array(0) : rev.cards;
    if (!isBytes(cards)) throw new RangeError('revocation.cards is not bytes');
    const beforeRaw = rev?.before === undefined ? [] : rev.before;
    if (!Array.isArray(beforeRaw)) throw new RangeError('revocation.before is not an array');
    const before = beforeRaw.map((e: unknown) => {
      if (!Array.isArray(e) || !isBytes(e[0], 16) || !isTime(e[1])) throw new RangeError('revocation.before entry malformed');
      return { hash: Uint8Array.from(e[0]), before: e[1] };
    });
    return new RevocationList(Uint8Array.from(cards), before);
  } catch (e) {
    throw invalid(`revocation list: ${(e as Error).message}`, e);
  }
}

/** Verifies the anchor signature, then parses and validates the body. Throws QR_TRUST_BUNDLE_INVALID. */
export function parseTrustBundle(fileBytes: Uint8Array, anchors: readonly Sm2PublicKey[]): TrustBundle {
  if (fileBytes.length > MAX_BUNDLE_BYTES) throw invalid('trust bundle larger than 64 MiB');
  let outer: unknown;
  try {
    outer = unpack(fileBytes);
  } catch (e) {
    throw invalid('trust bundle is not msgpack', e);
  }
  if (!Array.isArray(outer) || outer.length !== 3 || outer[0] !== TRUST_BUNDLE_MAGIC || !isBytes(outer[1]) || !isBytes(outer[2], 64)) {
    throw invalid('not an EHC1 trust bundle (expected ["EHC1-TRUST", body, sig])');
  }
  const body = outer[1];
  const message = signedMessage(body);
  const anchor = anchors.find((a) => a.verify(message, outer[2] as Uint8Array, { id: DEFAULT_SM2_ID, format: 'raw' }));
  if (!anchor) throw invalid('trust bundle signature does not verify with any pinned anchor key');

  let b: Record<string, unknown>;
  try {
    b = unpack(body) as Record<string, unknown>;
  } catch (e) {
    throw invalid('trust bundle body is not msgpack', e);
  }
  if (!b || typeof b !== 'object' || b.ver !== TRUST_BUNDLE_VERSION) throw invalid(`unsupported trust bundle version ${String(b?.ver)}`);
  if (!isTime(b.seq) || !isTime(b.issuedAt) || !isTime(b.nextUpdate)) throw invalid('seq, issuedAt or nextUpdate missing');
  if (!Array.isArray(b.keys) || b.keys.length > MAX_KEYS) throw invalid('keys missing or too many');

  const keys: TrustKey[] = b.keys.map((k: Record<string, unknown>, i: number) => parseTrustKey(k, i));
  const keysByKid = new Map<string, TrustKey[]>();
  for (const k of keys) {
    const list = keysByKid.get(k.kidHex);
    if (list) list.push(k);
    else keysByKid.set(k.kidHex, [k]);
  }

  const revocation = parseRevocation(b.revocation as { cards?: unknown; before?: unknown } | undefined);

  return {
    ver: b.ver,
    seq: b.seq,
    issuedAt: b.issuedAt,
    nextUpdate: b.nextUpdate,
    keys,
    keysByKid,
    revocation,
    fileBytes,
    anchorKid: Buffer.from(keyIdOf(anchor.toBytes())).toString('hex'),
  };
}
