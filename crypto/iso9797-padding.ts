// ISO/IEC 9797-1 padding method 2 (0x80 then zeros), the padding of the health card's secure messaging.
import { CryptoPaddingError, CryptoLengthError } from './crypto-errors.ts';
import { requireBytes } from './byte-encoding.ts';

/** Appends 0x80 and then zeros up to the next multiple of `block` (always adds at least one byte). */
export function padIso9797M2(data: Uint8Array, block = 16): Uint8Array {
  requireBytes(data, 'padding input');
  if (!Number.isInteger(block) || block < 1 || block > 255) throw new CryptoLengthError('padding block size must be 1..255', { block });
  const padded = new Uint8Array((Math.floor(data.length / block) + 1) * block);
  padded.set(data);
  padded[data.length] = 0x80;
  return padded;
}

/**
 * Removes method-2 padding. Throws CryptoPaddingError if no 0x80 marker follows the trailing zeros or if
 * the padding is longer than one block (`block`, default 16).
 */
export function unpadIso9797M2(data: Uint8Array, block = 16): Uint8Array {
  requireBytes(data, 'padded input');
  let i = data.length - 1;
  const limit = Math.max(0, data.length - block);
  while (i >= limit && data[i] === 0x00) i--;
  if (i < limit || data[i] !== 0x80) throw new CryptoPaddingError('invalid ISO/IEC 9797-1 method 2 padding');
  return data.subarray(0, i);
}
