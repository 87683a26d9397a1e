// SM3 (GB/T 32905) on Node's native OpenSSL, HMAC-SM3 (RFC 2104 construction) and the SM2 KDF.
import { createHash, hash as oneShotHash, type Hash } from 'node:crypto';
import { CryptoLengthError, CryptoError } from './crypto-errors.ts';
import { asBuffer, requireBytes } from './byte-encoding.ts';

export const SM3_DIGEST_LENGTH = 32;
export const SM3_BLOCK_LENGTH = 64;

/** SM3 digest of `data`. Uses the one-shot `crypto.hash`, about 2x faster than createHash for small inputs. */
export function sm3(data: Uint8Array): Uint8Array {
  requireBytes(data, 'SM3 input');
  return oneShotHash('sm3', asBuffer(data), 'buffer');
}

/** Incremental SM3. `digest()` finalises the context; any further use throws. */
export class Sm3 {
  #hash: Hash | undefined = createHash('sm3');

  update(data: Uint8Array): this {
    if (!this.#hash) throw new CryptoError('CRYPTO_BAD_ARGUMENT', 'Sm3 context already finalised');
    requireBytes(data, 'SM3 input');
    this.#hash.update(data);
    return this;
  }

  digest(): Uint8Array {
    if (!this.#hash) throw new CryptoError('CRYPTO_BAD_ARGUMENT', 'Sm3 context already finalised');
    const out = this.#hash.digest();
    this.#hash = undefined;
    return out;
  }
}

/**
 * HMAC-SM3 (RFC 2104 with SM3, block 64 bytes). Written on top of sm3() rather than createHmac so that
 * tests can cross-check it against OpenSSL's own HMAC.
 */
export function hmacSm3(key: Uint8Array, data: Uint8Array): Uint8Array {
  requireBytes(key, 'HMAC key');
  requireBytes(data, 'HMAC input');
  const k0 = new Uint8Array(SM3_BLOCK_LENGTH);
  k0.set(key.length > SM3_BLOCK_LENGTH ? sm3(key) : key);
  const inner = Buffer.allocUnsafe(SM3_BLOCK_LENGTH + data.length);
  const outer = Buffer.allocUnsafe(SM3_BLOCK_LENGTH + SM3_DIGEST_LENGTH);
  for (let i = 0; i < SM3_BLOCK_LENGTH; i++) {
    inner[i] = k0[i] ^ 0x36;
    outer[i] = k0[i] ^ 0x5c;
  }
  inner.set(data, SM3_BLOCK_LENGTH);
  outer.set(sm3(inner), SM3_BLOCK_LENGTH);
  return sm3(outer);
}

/**
 * The key derivation function of GB/T 32918 (parts 3 and 4): K = Hash(Z‖ct1)‖Hash(Z‖ct2)‖…, with a 32-bit
 * big-endian counter starting at 1, truncated to `length` bytes.
 */
export function sm3Kdf(z: Uint8Array, length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0 || length > 0xffffffff * SM3_DIGEST_LENGTH) {
    throw new CryptoLengthError('KDF output length must be a non-negative integer', { length: String(length) });
  }
  requireBytes(z, 'KDF input');
  const out = Buffer.allocUnsafe(length);
  const input = Buffer.allocUnsafe(z.length + 4);
  input.set(z, 0);
  let counter = 1;
  for (let off = 0; off < length; off += SM3_DIGEST_LENGTH, counter++) {
    input.writeUInt32BE(counter >>> 0, z.length);
    const block = sm3(input);
    out.set(block.subarray(0, Math.min(SM3_DIGEST_LENGTH, length - off)), off);
  }
  return out;
}
