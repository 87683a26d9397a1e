// ZA = SM3(ENTL ‖ ID ‖ a ‖ b ‖ Gx ‖ Gy ‖ Px ‖ Py): binds the signer's identity and key into every SM2 hash.
import { CryptoArgumentError } from './crypto-errors.ts';
import { bigIntToBytes, concatBytes, utf8 } from './byte-encoding.ts';
import type { AffinePoint, Sm2Curve } from './sm2-curve.ts';
import { sm3 } from './sm3.ts';

/** The default distinguishing identifier of GM/T 0009: "1234567812345678" (ENTL = 0x0080). */
export const DEFAULT_SM2_ID = '1234567812345678';
const DEFAULT_ID_BYTES = utf8(DEFAULT_SM2_ID);

export type Sm2Id = Uint8Array | string;

/** An ID as bytes (strings are UTF-8). ENTL is a 16-bit bit count, so at most 8191 bytes. */
export function sm2IdBytes(id: Sm2Id | undefined): Uint8Array {
  if (id === undefined) return DEFAULT_ID_BYTES;
  if (typeof id !== 'string' && !(id instanceof Uint8Array)) throw new CryptoArgumentError('SM2 ID must be a string or a Uint8Array');
  const bytes = typeof id === 'string' ? utf8(id) : id;
  if (bytes.length > 8191) throw new CryptoArgumentError('SM2 ID longer than 8191 bytes', { length: bytes.length });
  return bytes;
}

export function computeZa(curve: Sm2Curve, point: AffinePoint, id: Uint8Array): Uint8Array {
  const bits = id.length * 8;
  const size = curve.size;
  return sm3(
    concatBytes(
      Uint8Array.of((bits >> 8) & 0xff, bits & 0xff),
      id,
      bigIntToBytes(curve.a, size),
      bigIntToBytes(curve.b, size),
      bigIntToBytes(curve.gx, size),
      bigIntToBytes(curve.gy, size),
      bigIntToBytes(point.x, size),
      bigIntToBytes(point.y, size),
    ),
  );
}
