// SM2 key exchange (GB/T 32918.3 / GM/T 0003.3) for either role, with the optional key confirmation.
//
// Naming follows the standard: A is the initiator, B the responder; RA/RB are the ephemeral public keys,
// ZA/ZB the identity hashes (always initiator first, whatever our role), K = KDF(x‖y‖ZA‖ZB, klen).
// Confirmation: B sends SB = SM3(0x02‖y‖H), A checks it (as S1) and sends SA = SM3(0x03‖y‖H), B checks it
// (as S2), where H = SM3(x‖ZA‖ZB‖x1‖y1‖x2‖y2) and (x, y) is the shared point U (= V).
import { CryptoArgumentError, CryptoKeyExchangeError, CryptoLengthError } from './crypto-errors.ts';
import { bigIntToBytes, bytesEqual, concatBytes } from './byte-encoding.ts';
import { mod, pointAdd, pointMultiply, type AffinePoint, type Sm2Curve } from './sm2-curve.ts';
import { Sm2PrivateKey, Sm2PublicKey } from './sm2-keys.ts';
import type { Sm2Id } from './sm2-za.ts';
import { sm3, sm3Kdf } from './sm3.ts';

export type Sm2KeyExchangeRole = 'initiator' | 'responder';

export interface Sm2KeyExchangeParams {
  /** 'initiator' = user A of the standard (sends RA first), 'responder' = user B. */
  role: Sm2KeyExchangeRole;
  /** Optional: asserted to be the curve of every key given. Default: the curve of self.priv. */
  curve?: Sm2Curve;
  /** Our static key pair and ID (default ID "1234567812345678"). */
  self: { priv: Sm2PrivateKey; id?: Sm2Id };
  /** The peer's static public key and ID. */
  peer: { pub: Sm2PublicKey; id?: Sm2Id };
  /** Our ephemeral key r (RA for the initiator, RB for the responder); fresh per exchange. */
  selfEphemeral: { priv: Sm2PrivateKey };
  /** The peer's ephemeral public key as received (a key, or 04‖x‖y / 02|03‖x bytes; validated on the curve). */
  peerEphemeralPub: Sm2PublicKey | Uint8Array;
  /** Shared key length in BYTES (klen / 8), 1 … 2^32·32. */
  keyLength: number;
}

export interface Sm2KeyExchangeResult {
  /** The shared key K (KA = KB). */
  key: Uint8Array;
  /** The confirmation value we send: SA (0x03) as initiator, SB (0x02) as responder. */
  confirmSelf: Uint8Array;
  /** The confirmation value the peer must send: SB as seen by the initiator (S1), SA as seen by the responder (S2). */
  confirmPeerExpected: Uint8Array;
  /** Our ephemeral public key to send (RA or RB). */
  selfEphemeralPub: Sm2PublicKey;
}

function xBar(curve: Sm2Curve, x: bigint): bigint {
  // w = ⌈⌈log2 n⌉ / 2⌉ − 1; x̄ = 2^w + (x & (2^w − 1))
  const w = BigInt(Math.ceil(curve.n.toString(2).length / 2) - 1);
  const two_w = 1n << w;
  return two_w + (x & (two_w - 1n));
}

export function sm2KeyExchange(params: Sm2KeyExchangeParams): Sm2KeyExchangeResult {
  const { role, self, peer, selfEphemeral, keyLength } = params;
  if (role !== 'initiator' && role !== 'responder') throw new CryptoArgumentError('key exchange role must be initiator or responder');
  if (!Number.isSafeInteger(keyLength) || keyLength < 1) throw new CryptoLengthError('key exchange keyLength must be a positive number of bytes', { keyLength: String(keyLength) });
  const curve = params.curve ?? self.priv.curve;
  const peerEphemeral = params.peerEphemeralPub instanceof Sm2PublicKey
    ? params.peerEphemeralPub
    : wrapPeerPoint(params.peerEphemeralPub, curve);
  for (const c of [self.priv.curve, peer.pub.curve, selfEphemeral.priv.curve, peerEphemeral.curve]) {
    if (c !== curve) throw new CryptoArgumentError('all key exchange keys must be on the same curve');
  }
  const { n, h, size } = curve;
  const ownR = selfEphemeral.priv.publicKey.point;
  const peerR = peerEphemeral.point;

  // A5/B4: t = (d + x̄·r) mod n.  A7/B6: U = [h·t](P_peer + [x̄_peer]R_peer).
  const t = mod(self.priv.scalar + xBar(curve, ownR.x) * selfEphemeral.priv.scalar, n);
  const sum = pointAdd(curve, peer.pub.point, pointMultiply(curve, peerR, xBar(curve, peerR.x)));
  const shared = sum === null ? null : pointMultiply(curve, sum, mod(h * t, n));
  if (shared === null) throw new CryptoKeyExchangeError('shared point is at infinity');

  const selfZ = self.priv.publicKey.za(self.id);
  const peerZ = peer.pub.za(peer.id);
  const [za, zb] = role === 'initiator' ? [selfZ, peerZ] : [peerZ, selfZ];
  const [ra, rb]: AffinePoint[] = role === 'initiator' ? [ownR, peerR] : [peerR, ownR];
  const xU = bigIntToBytes(shared.x, size);
  const yU = bigIntToBytes(shared.y, size);

  const key = sm3Kdf(concatBytes(xU, yU, za, zb), keyLength);
  const inner = sm3(concatBytes(xU, za, zb, ...[ra.x, ra.y, rb.x, rb.y].map((v) => bigIntToBytes(v, size))));
  const s02 = sm3(concatBytes(Uint8Array.of(0x02), yU, inner)); // SB (= S1)
  const s03 = sm3(concatBytes(Uint8Array.of(0x03), yU, inner)); // SA (= S2)
  return {
    key,
    confirmSelf: role === 'initiator' ? s03 : s02,
    confirmPeerExpected: role === 'initiator' ? s02 : s03,
    selfEphemeralPub: selfEphemeral.priv.publicKey,
  };
}

function wrapPeerPoint(bytes: Uint8Array, curve: Sm2Curve): Sm2PublicKey {
  try {
    return Sm2PublicKey.fromBytes(bytes, curve);
  } catch {
    throw new CryptoKeyExchangeError('peer ephemeral public key is not a valid point on the curve');
  }
}

/** Constant-time check of the peer's confirmation value (SB for the initiator, SA for the responder). */
export function sm2KeyExchangeConfirmationMatches(result: Sm2KeyExchangeResult, received: Uint8Array): boolean {
  return bytesEqual(result.confirmPeerExpected, received);
}

/** Throws CRYPTO_KEY_EXCHANGE_FAILED unless the peer's confirmation value matches. */
export function assertSm2KeyExchangeConfirmation(result: Sm2KeyExchangeResult, received: Uint8Array): void {
  if (!sm2KeyExchangeConfirmationMatches(result, received)) throw new CryptoKeyExchangeError('key confirmation value does not match');
}
