// Pure-JS SM2 signature (GB/T 32918.2) on the BigInt arithmetic: the fallback when native SM2 fails its
// known-answer test, the only path for non-recommended curves, and the way to reproduce annex vectors (given k).
import { randomBytes } from 'node:crypto';
import { bytesToBigInt } from './byte-encoding.ts';
import { baseMultiply, doubleMultiply, mod, modInverse, type AffinePoint, type Sm2Curve } from './sm2-curve.ts';
import type { Sm2SignatureValues } from './sm2-signature-encoding.ts';

/** r,s from the digest e = SM3(ZA‖M) and a given nonce k; undefined when k is unusable (r = 0, r + k = n, s = 0). */
export function signDigestWithK(curve: Sm2Curve, d: bigint, e: bigint, k: bigint): Sm2SignatureValues | undefined {
  const { n } = curve;
  if (k <= 0n || k >= n) return undefined;
  const kG = baseMultiply(curve, k);
  if (kG === null) return undefined;
  const r = mod(e + kG.x, n);
  if (r === 0n || r + k === n) return undefined;
  const s = mod(modInverse(1n + d, n) * (k - r * d), n);
  if (s === 0n) return undefined;
  return { r, s };
}

export function randomScalar(curve: Sm2Curve, max = curve.n - 1n): bigint {
  // rejection sampling in [1, max]
  for (;;) {
    const k = bytesToBigInt(randomBytes(curve.size));
    if (k >= 1n && k <= max) return k;
  }
}

export function signDigestJs(curve: Sm2Curve, d: bigint, e: bigint): Sm2SignatureValues {
  for (;;) {
    const sig = signDigestWithK(curve, d, e, randomScalar(curve));
    if (sig) return sig;
  }
}

/** Range checks (1 ≤ r,s ≤ n−1, (r+s) mod n ≠ 0) — shared by both backends. */
export function signatureInRange(curve: Sm2Curve, { r, s }: Sm2SignatureValues): boolean {
  const { n } = curve;
  return r >= 1n && r < n && s >= 1n && s < n && (r + s) % n !== 0n;
}

export function verifyDigestJs(curve: Sm2Curve, point: AffinePoint, e: bigint, sig: Sm2SignatureValues): boolean {
  if (!signatureInRange(curve, sig)) return false;
  const t = (sig.r + sig.s) % curve.n;
  const sum = doubleMultiply(curve, sig.s, point, t);
  if (sum === null) return false;
  return mod(e + sum.x, curve.n) === sig.r;
}
