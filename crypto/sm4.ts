// SM4 (GB/T 32907) on Node's native OpenSSL: ECB, CBC, CTR without implicit padding, and the CBC-MAC used by
// the health card's secure messaging (ISO/IEC 9797-1 algorithm 1 with SM4, padding method 2 by default).
import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from 'node:crypto';
import { CryptoKeyError, CryptoLengthError } from './crypto-errors.ts';
import { asBuffer, requireBytes } from './byte-encoding.ts';
import { padIso9797M2 } from './iso9797-padding.ts';

export const SM4_BLOCK_LENGTH = 16;
export const SM4_KEY_LENGTH = 16;

function checkKey(key: Uint8Array): void {
  requireBytes(key, 'SM4 key');
  if (key.length !== SM4_KEY_LENGTH) throw new CryptoKeyError('SM4 key must be 16 bytes', { length: key.length });
}

function checkIv(iv: Uint8Array): void {
  requireBytes(iv, 'SM4 IV');
  if (iv.length !== SM4_BLOCK_LENGTH) throw new CryptoLengthError('SM4 IV must be 16 bytes', { length: iv.length });
}

function checkBlocks(data: Uint8Array): void {
  requireBytes(data, 'SM4 input');
  if (data.length % SM4_BLOCK_LENGTH !== 0) {
    throw new CryptoLengthError('SM4 ECB/CBC data must be a multiple of 16 bytes (no implicit padding)', { length: data.length });
  }
}

// ECB contexts are stateless between blocks once auto-padding is off, so one context per key and
// direction can serve every call through update() alone: this saves the cipher set-up that dominates
// the cost of the 16-byte operations of secure messaging. Bounded so keys do not accumulate.
const ECB_CACHE_LIMIT = 64;
const ecbCache = new Map<string, { enc: Cipher; dec: Decipher }>();

// Secure messaging calls with the same key object over and over: remember the last one (by reference and
// by content, since a caller may mutate its buffer) to skip building the cache key.
let lastKeyRef: Uint8Array | undefined;
const lastKeyCopy = new Uint8Array(SM4_KEY_LENGTH);
let lastCtx: { enc: Cipher; dec: Decipher } | undefined;

function sameAsLastKey(key: Uint8Array): boolean {
  if (key !== lastKeyRef) return false;
  for (let i = 0; i < SM4_KEY_LENGTH; i++) if (key[i] !== lastKeyCopy[i]) return false;
  return true;
}

function ecbContexts(key: Uint8Array): { enc: Cipher; dec: Decipher } {
  if (lastCtx && sameAsLastKey(key)) return lastCtx;
  const ctx = lookupEcbContexts(key);
  lastKeyRef = key;
  lastKeyCopy.set(key);
  lastCtx = ctx;
  return ctx;
}

function lookupEcbContexts(key: Uint8Array): { enc: Cipher; dec: Decipher } {
  const id = asBuffer(key).toString('latin1');
  let ctx = ecbCache.get(id);
  if (ctx) {
    // refresh LRU position
    ecbCache.delete(id);
    ecbCache.set(id, ctx);
    return ctx;
  }
  const enc = createCipheriv('sm4-ecb', key, null).setAutoPadding(false);
  const dec = createDecipheriv('sm4-ecb', key, null).setAutoPadding(false);
  ctx = { enc, dec };
  ecbCache.set(id, ctx);
  if (ecbCache.size > ECB_CACHE_LIMIT) ecbCache.delete(ecbCache.keys().next().value as string);
  return ctx;
}

/** Drops every cached ECB context (e.g. when secure-messaging sessions end), so no session key lingers. */
export function sm4ForgetKeys(): void {
  ecbCache.clear();
  lastKeyRef = undefined;
  lastKeyCopy.fill(0);
  lastCtx = undefined;
}

export function sm4EncryptEcb(key: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key);
  checkBlocks(data);
  return ecbContexts(key).enc.update(data);
}

export function sm4DecryptEcb(key: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key);
  checkBlocks(data);
  return ecbContexts(key).dec.update(data);
}

function runOnce(c: Cipher | Decipher, data: Uint8Array): Uint8Array {
  const a = c.update(data);
  const b = c.final();
  return b.length === 0 ? a : Buffer.concat([a, b]);
}

export function sm4EncryptCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key);
  checkIv(iv);
  checkBlocks(data);
  return runOnce(createCipheriv('sm4-cbc', key, iv).setAutoPadding(false), data);
}

export function sm4DecryptCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key);
  checkIv(iv);
  checkBlocks(data);
  return runOnce(createDecipheriv('sm4-cbc', key, iv).setAutoPadding(false), data);
}

/** SM4-CTR, 128-bit big-endian counter starting at `iv`; the same call encrypts and decrypts; any length. */
export function sm4Ctr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key);
  checkIv(iv);
  requireBytes(data, 'SM4 input');
  return runOnce(createCipheriv('sm4-ctr', key, iv), data);
}

export interface Sm4CbcMacOptions {
  /** Initial chaining value (16 bytes), default zeros. The health card uses an 8-byte challenge ‖ 8 zero bytes. */
  iv?: Uint8Array;
  /** MAC length in bytes, 1..16, default 16 (the card uses 4). */
  length?: number;
  /** Apply ISO/IEC 9797-1 padding method 2 first (default true); when false the data must be a block multiple. */
  pad?: boolean;
}

/** CBC-MAC with SM4: the last CBC block, truncated to `length` bytes (leftmost). */
export function sm4CbcMac(key: Uint8Array, data: Uint8Array, options: Sm4CbcMacOptions = {}): Uint8Array {
  const length = options.length ?? SM4_BLOCK_LENGTH;
  if (!Number.isInteger(length) || length < 1 || length > SM4_BLOCK_LENGTH) throw new CryptoLengthError('MAC length must be 1..16', { length });
  requireBytes(data, 'MAC input');
  const iv = options.iv ?? new Uint8Array(SM4_BLOCK_LENGTH);
  const input = options.pad === false ? data : padIso9797M2(data, SM4_BLOCK_LENGTH);
  if (input.length === 0) throw new CryptoLengthError('CBC-MAC over empty unpadded data');
  const chain = sm4EncryptCbc(key, iv, input);
  return chain.slice(chain.length - SM4_BLOCK_LENGTH, chain.length - SM4_BLOCK_LENGTH + length);
}
